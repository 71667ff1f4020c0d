/* serve.h: the per-request pipeline from FastCGI params to a written response. */
#ifndef SERVE_H
#define SERVE_H

#include <stdbool.h>

typedef struct FCGX_Stream FCGX_Stream;
struct http_req;
struct http_resp;

/* Serve one request: parse, CORS, body, route, respond, log. */
void	serve_request(char **env, FCGX_Stream *in, FCGX_Stream *out);

/*
 * The same pipeline without FastCGI streams (tests and benchmarks): env is
 * a NULL-terminated "KEY=value" array, body may be NULL. resp is filled.
 */
void	serve_handle(char **env, const char *body, size_t body_len,
	    struct http_resp *resp, char *rid_out, size_t rid_len);

#endif
