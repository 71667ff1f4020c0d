/* http.h: HTTP requests and responses over FastCGI parameters and streams. */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct json_object;
typedef struct FCGX_Stream FCGX_Stream;

#define HTTP_MAX_QUERY		8192	/* bytes of raw query string */
#define HTTP_MAX_PARAMS		64	/* query parameters */
#define HTTP_MAX_PATH		2048
#define HTTP_MAX_HEADERS	32768	/* bytes of all request headers */
#define HTTP_MAX_PATH_ARGS	4
/* Retry-After (seconds) of a 503 while a dependency is down. */
#define HTTP_RETRY_AFTER_DOWN	5

struct http_param {
	char	*key;
	char	*value;
};

struct http_req {
	const char		*method;
	char			*path;		/* percent-decoded */
	struct http_param	*query;
	size_t			 nquery;
	char *const		*env;		/* FastCGI params, borrowed */
	char			*body;
	size_t			 body_len;
	char			 request_id[64];
	const char		*route;		/* pattern that matched */
	char			*path_args[HTTP_MAX_PATH_ARGS];
	const char		*path_names[HTTP_MAX_PATH_ARGS];
	size_t			 npath_args;
	uint64_t		 start_us;
	/* Set by handlers for the access log. */
	const char		*log_cache;
	long			 log_upstream_ms;
	const char		*log_error;
	const char		*log_tool;
	char			 log_user[17];	/* hashed user id */
	void			*auth;		/* authenticated principal */
};

struct http_resp {
	int		 status;
	char		*content_type;
	struct buf	 headers;	/* "Name: value\r\n" lines */
	struct buf	 body;
	bool		 head_only;
};

/*
 * Parse method, path and query from FastCGI params. Returns 0, or an HTTP
 * status (400, 414, 431) with *cause set (caller frees) for a malformed
 * request.
 */
int	 http_req_init(struct http_req *req, char *const *env, char **cause);
void	 http_req_free(struct http_req *req);
/* A FastCGI param by exact name ("REQUEST_METHOD"), or NULL. */
const char *http_req_env(const struct http_req *req, const char *name);
/* A request header by its HTTP name ("X-Request-ID"), or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);
/* The first value of a query parameter, or NULL. */
const char *http_req_query(const struct http_req *req, const char *key);
/* Named capture of the matched route pattern ("id" for {id}), or NULL. */
const char *http_req_path_arg(const struct http_req *req, const char *name);
/* Is the Content-Type application/json (with any parameters)? */
bool	 http_req_is_json(const struct http_req *req);
/* How a request declares its body (Content-Type). */
enum http_body_kind {
	HTTP_BODY_JSON,		/* application/json, application/…+json */
	HTTP_BODY_GENERIC,	/* none, application/octet-stream, text/plain */
	HTTP_BODY_OTHER		/* forms, multipart, anything else */
};
enum http_body_kind http_req_body_kind(const struct http_req *req);
/*
 * Does the Accept header value accept (NULL: anything) allow the media
 * type type ("text/event-stream"), directly or by a wildcard, with q > 0?
 */
bool	 http_accepts(const char *accept, const char *type);
/* POST, PUT and PATCH: methods whose arguments come in the body. */
bool	 http_method_has_body(const char *method);
/* Decode a query string into params; 0 or HTTP status with *cause. */
int	 http_parse_query(const char *qs, struct http_param **out, size_t *nout,
	    char **cause);
void	 http_params_free(struct http_param *p, size_t n);
/* Percent-decode (and '+' to space if form); NULL on a bad escape or NUL. */
char	*http_decode(const char *s, size_t len, bool form);
/* Percent-encode for a URL component; caller frees. */
char	*http_encode(const char *s);
const char *http_status_text(int status);

void	 http_resp_init(struct http_resp *resp);
void	 http_resp_free(struct http_resp *resp);
/* Add a header; values with CR or LF are refused (false). */
bool	 http_resp_header(struct http_resp *resp, const char *name,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Replace the body with obj serialised; takes ownership of obj. */
void	 http_resp_json(struct http_resp *resp, int status,
	    struct json_object *obj);
/* Replace the body with text of the given type. */
void	 http_resp_text(struct http_resp *resp, int status, const char *type,
	    const char *text);
/*
 * Replace the body with JSON text of len bytes that is already valid UTF-8
 * (a rawjson's text): copied as it is.
 */
void	 http_resp_json_text(struct http_resp *resp, int status,
	    const char *text, size_t len);
/*
 * Replace the body with one server-sent event (text/event-stream): event,
 * then data (len bytes, one line: no CR or LF), then the stream ends.
 */
void	 http_resp_event(struct http_resp *resp, int status,
	    const char *event, const char *data, size_t len);
/* The error body {"error":{"code","message","field"}}; field may be NULL. */
void	 http_resp_error(struct http_resp *resp, int status, const char *code,
	    const char *field, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* Serialise status line, headers and body as a FastCGI response. */
void	 http_resp_serialise(const struct http_resp *resp,
	    const char *request_id, struct buf *out);

#endif
