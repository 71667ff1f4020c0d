/* serve.c: request id, CORS, body limits, routing and the access log. */
#include "autoconf.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "router.h"
#include "searchstats.h"
#include "sentry.h"
#include "serve.h"
#include "util.h"

#define SERVE_CORS_HEADERS \
	"Authorization, Content-Type, Accept, MCP-Protocol-Version, " \
	"Mcp-Session-Id, Mcp-Method, Mcp-Name, Last-Event-ID, X-Request-ID"

/*
 * A client's request id is kept only when it is plain and of a sane
 * length: SERVE_REQUEST_ID_MIN to sizeof request_id - 1 bytes of letters,
 * digits and "-_.:", starting with a letter or digit (a UUID, a trace id).
 * Anything else could smuggle text into logs or pass for another request's
 * id, so a fresh one (32 hex digits) is made instead.
 */
#define SERVE_REQUEST_ID_MIN	8

static bool
serve_request_id_plain(const char *id, size_t len, size_t max)
{
	size_t	i;

	if (len < SERVE_REQUEST_ID_MIN || len > max ||
	    !isalnum((unsigned char)id[0]))
		return (false);
	for (i = 1; i < len; i++) {
		if (!isalnum((unsigned char)id[i]) &&
		    strchr("-_.:", id[i]) == NULL)
			return (false);
	}
	return (true);
}

/*
 * New ids come from a per-thread pool of random bytes, refilled
 * SERVE_ID_POOL bytes at a time: one RAND_bytes call (its locks and fork
 * check) per 64 ids instead of one per request, where it was 4-7 % of a
 * worker's CPU (docs/BENCHMARKS.md). A forked child starts with an empty
 * pool, so no two processes hand out the same ids.
 */
#define SERVE_ID_LEN	16
#define SERVE_ID_POOL	(64 * SERVE_ID_LEN)

static __thread unsigned char	serve_id_pool[SERVE_ID_POOL];
static __thread size_t		serve_id_left;	/* unused bytes at the end */
static pthread_once_t		serve_id_once = PTHREAD_ONCE_INIT;

static void
serve_id_forked(void)
{
	serve_id_left = 0;
}

static void
serve_id_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, serve_id_forked);
}

/* SERVE_ID_LEN fresh random bytes into raw (zeros if none can be had). */
static void
serve_id_bytes(unsigned char *raw)
{
	(void)pthread_once(&serve_id_once, serve_id_atfork);
	if (serve_id_left < SERVE_ID_LEN) {
		if (!util_random_bytes(serve_id_pool, sizeof serve_id_pool)) {
			memset(raw, 0, SERVE_ID_LEN);
			return;
		}
		serve_id_left = sizeof serve_id_pool;
	}
	serve_id_left -= SERVE_ID_LEN;
	memcpy(raw, serve_id_pool + serve_id_left, SERVE_ID_LEN);
	/* Handed out once: not kept for the next caller to see. */
	memset(serve_id_pool + serve_id_left, 0, SERVE_ID_LEN);
}

static void
serve_request_id(struct http_req *req)
{
	const char	*given = http_req_header(req, "X-Request-ID");
	unsigned char	 raw[SERVE_ID_LEN];
	size_t		 len;

	if (given != NULL && serve_request_id_plain(given, (len =
	    strlen(given)), sizeof req->request_id - 1)) {
		memcpy(req->request_id, given, len + 1);
		return;
	}
	serve_id_bytes(raw);
	util_hex(raw, sizeof raw, req->request_id);
}

/*
 * CORS: an allowed Origin is echoed, or "*" when the list is "*"; never
 * with credentials: cross-origin callers authenticate with a bearer token,
 * and the session cookie counts only for our own origin (auth.c). Returns
 * true when the request was a preflight and has been answered.
 */
static bool
serve_cors(struct http_req *req, struct http_resp *resp)
{
	const char	*origin = http_req_header(req, "Origin");
	const char	*want;
	char		*allow;
	bool		 star;

	if (origin == NULL)
		return (false);
	star = strcmp(cfg->cors_origins, "*") == 0;
	want = http_req_header(req, "Access-Control-Request-Method");
	if (!config_origin_allowed(cfg, origin)) {
		if (strcmp(req->method, "OPTIONS") == 0 && want != NULL) {
			req->route = "preflight";
			http_resp_error(resp, 403, "origin_not_allowed", NULL,
			    "origin is not allowed");
			return (true);
		}
		return (false);
	}
	if (star)
		http_resp_header(resp, "Access-Control-Allow-Origin", "*");
	else
		http_resp_header(resp, "Access-Control-Allow-Origin", "%s",
		    origin);
	http_resp_header(resp, "Vary", "Origin");
	http_resp_header(resp, "Access-Control-Expose-Headers",
	    "X-Request-ID, Mcp-Session-Id, WWW-Authenticate, Retry-After, "
	    "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset");
	if (strcmp(req->method, "OPTIONS") != 0 || want == NULL)
		return (false);

	req->route = "preflight";
	allow = router_allow(routes, routes_count, req->path);
	if (*allow == '\0') {
		free(allow);
		http_resp_error(resp, 404, "not_found", NULL,
		    "no route for this path");
		return (true);
	}
	http_resp_header(resp, "Access-Control-Allow-Methods", "%s", allow);
	http_resp_header(resp, "Access-Control-Allow-Headers", "%s",
	    SERVE_CORS_HEADERS);
	http_resp_header(resp, "Access-Control-Max-Age", "600");
	resp->status = 204;
	free(allow);
	return (true);
}

/* Plain OPTIONS (not a preflight): 204 with Allow. */
static void
serve_options(struct http_req *req, struct http_resp *resp)
{
	char	*allow;

	allow = router_allow(routes, routes_count, req->path);
	req->route = "options";
	if (*allow == '\0')
		http_resp_error(resp, 404, "not_found", NULL,
		    "no route for this path");
	else {
		http_resp_header(resp, "Allow", "%s", allow);
		resp->status = 204;
	}
	free(allow);
}

/*
 * Check the declared body size against the limit before reading it. *len is
 * -1 when the length is not declared (a chunked upload: Caddy passes
 * CONTENT_LENGTH -1 or nothing), and the body is then read to its end.
 */
static int
serve_body_length(struct http_req *req, long long *len)
{
	const char	*cl = http_req_env(req, "CONTENT_LENGTH");

	*len = -1;
	if (cl == NULL || *cl == '\0' || strcmp(cl, "-1") == 0)
		return (0);
	if (!util_parse_ll(cl, len) || *len < 0) {
		*len = 0;
		return (400);
	}
	if (*len > cfg->max_body_size)
		return (413);
	return (0);
}

/*
 * Read the body from the FastCGI stdin stream: exactly len bytes, or up to
 * its end when len is -1. Returns 0, or 400/413 with *cause (caller frees).
 */
static int
serve_read_body(struct http_req *req, long long len, FCGX_Stream *in,
    char **cause)
{
	char	*body = NULL;
	size_t	 want, have = 0, cap = 0, chunk;
	int	 n;

	want = len >= 0 ? (size_t)len : (size_t)cfg->max_body_size + 1;
	while (have < want) {
		chunk = want - have < 65536 ? want - have : 65536;
		if (have + chunk + 1 > cap) {
			cap = have + chunk + 1;
			body = xrealloc(body, cap);
		}
		n = FCGX_GetStr(body + have, (int)chunk, in);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	if (len >= 0 && have != (size_t)len) {
		free(body);
		free(*cause);
		*cause = xstrdup("request body shorter than Content-Length");
		return (400);
	}
	if (have > (size_t)cfg->max_body_size) {
		free(body);
		return (413);
	}
	if (have == 0) {
		free(body);
		return (0);
	}
	body[have] = '\0';
	req->body = body;
	req->body_len = have;
	return (0);
}

static void
serve_dispatch(struct http_req *req, struct http_resp *resp)
{
	if (serve_cors(req, resp))
		return;
	if (strcmp(req->method, "OPTIONS") == 0) {
		serve_options(req, resp);
		return;
	}
	if (!ratelimit_check(req, resp))
		return;
	router_dispatch(routes, routes_count, req, resp);
}

static void
serve_log(struct http_req *req, struct http_resp *resp)
{
	double	ms = (double)(util_mono_us() - req->start_us) / 1000.0;
	char	upstream[UTIL_NUM_MAX];

	if (!log_enabled(resp->status >= 500 ? LOG_ERROR : LOG_INFO))
		return;
	if (req->log_upstream_ms >= 0)
		(void)util_fmt_ll(upstream, req->log_upstream_ms);
	log_emit(resp->status >= 500 ? LOG_ERROR : LOG_INFO, "request",
	    LF_STR("method", req->method),
	    LF_STR("path", req->path),
	    LF_STR("route", req->route),
	    LF_INT("status", resp->status),
	    LF_DBL("duration_ms", ms),
	    LF_STR("cache", req->log_cache),
	    LF_RAW("upstream_ms", req->log_upstream_ms >= 0 ? upstream : NULL),
	    LF_STR("tool", req->log_tool),
	    LF_STR("user", req->log_user[0] != '\0' ? req->log_user : NULL),
	    LF_STR("error", req->log_error),
	    LF_END);
}

/* Metrics and error tracking for a finished request. */
static void
serve_record(const struct http_req *req, const struct http_resp *resp)
{
	metrics_request_end(req->route, req->method, resp->status,
	    req->start_us);
	sentry_report_request(req, resp);
}

/* Everything after the body has been read. */
static void
serve_finish(struct http_req *req, struct http_resp *resp, int early,
    char *cause)
{
	if (early != 0) {
		req->route = req->route != NULL ? req->route : "invalid";
		if (early == 413)
			http_resp_error(resp, 413, "payload_too_large", NULL,
			    "request body is larger than %d bytes",
			    cfg->max_body_size);
		else if (early == 414)
			http_resp_error(resp, 414, "uri_too_long", NULL, "%s",
			    cause != NULL ? cause : "request URI too long");
		else if (early == 431)
			http_resp_error(resp, 431, "headers_too_large", NULL,
			    "%s", cause != NULL ? cause :
			    "request headers too large");
		else
			http_resp_error(resp, early, "invalid_request", NULL,
			    "%s", cause != NULL ? cause : "malformed request");
	} else
		serve_dispatch(req, resp);
	if (strcmp(req->method, "HEAD") == 0)
		resp->head_only = true;
}

/* Where serve_run reads one request from and writes its answer to. */
struct serve_io {
	char		**env;		/* the FastCGI params, borrowed */
	FCGX_Stream	 *in;		/* the body's stream, or NULL */
	const char	 *body;		/* else the body in memory (tests) */
	size_t		  body_len;
	FCGX_Stream	 *out;		/* the client's stream, or NULL */
	char		 *rid_out;	/* gets the request id, or NULL */
	size_t		  rid_len;
};

/*
 * One request from parse to access log. The body comes from the FastCGI
 * stream io->in, or from memory (tests); with io->out, the response is
 * written there before the log line so logging never delays the client.
 */
static void
serve_run(const struct serve_io *io, struct http_resp *resp)
{
	const char	*body = io->body;
	size_t		 body_len = io->body_len;
	struct http_req	 req;
	struct buf	 wire;
	char		*cause = NULL;
	int		 early;
	long long	 len = 0;

	early = http_req_init(&req, io->env, &cause);
	metrics_request_begin();
	serve_request_id(&req);
	log_set_request_id(req.request_id);
	searchstats_set_client(http_req_env(&req, "REMOTE_ADDR"));

	if (early == 0)
		early = serve_body_length(&req, &len);
	if (early == 0 && io->in != NULL && len != 0)
		early = serve_read_body(&req, len, io->in, &cause);
	else if (early == 0 && body != NULL) {
		if (body_len > (size_t)cfg->max_body_size)
			early = 413;
		else {
			req.body = xmalloc(body_len + 1);
			memcpy(req.body, body, body_len);
			req.body[body_len] = '\0';
			req.body_len = body_len;
		}
	}
	serve_finish(&req, resp, early, cause);

	if (io->out != NULL) {
		buf_init(&wire);
		http_resp_serialise(resp, req.request_id, &wire);
		FCGX_PutStr(wire.data, (int)wire.len, io->out);
		buf_free(&wire);
	}
	serve_log(&req, resp);
	serve_record(&req, resp);
	if (io->rid_out != NULL)
		snprintf(io->rid_out, io->rid_len, "%s", req.request_id);
	log_set_request_id(NULL);
	searchstats_set_client(NULL);
	free(cause);
	http_req_free(&req);
}

void
serve_handle(char **env, const char *body, size_t body_len,
    struct http_resp *resp, char *rid_out, size_t rid_len)
{
	serve_run(&(struct serve_io){ .env = env, .body = body,
	    .body_len = body_len, .rid_out = rid_out, .rid_len = rid_len },
	    resp);
}

void
serve_request(char **env, FCGX_Stream *in, FCGX_Stream *out)
{
	struct http_resp resp;

	http_resp_init(&resp);
	serve_run(&(struct serve_io){ .env = env, .in = in, .out = out },
	    &resp);
	http_resp_free(&resp);
}
