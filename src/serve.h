/* serve.h: the per-request pipeline from FastCGI params to a written response. */
#ifndef SERVE_H
#define SERVE_H

#include <stdbool.h>

typedef struct FCGX_Stream FCGX_Stream;
struct http_req;
struct http_resp;

/* Serve one request: parse, CORS, body, route, respond, log. */
void	serve_request(char **, FCGX_Stream *, FCGX_Stream *);

/*
 * The same pipeline without FastCGI streams (tests and benchmarks): env is
 * a NULL-terminated "KEY=value" array, body may be NULL. resp is filled.
 */
void	serve_handle(char **, const char *, size_t, struct http_resp *,
	    char *, size_t);

#endif
