/* test_serve.c: the request pipeline without sockets: ids, CORS, limits, access log. */
#include "autoconf.h"

#include <check.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "serve.h"
#include "util.h"

#define ALLOWED	"https://allowed.example"

static int	log_file = -1;

static void
setup(void)
{
	char	path[] = "/tmp/test_serve.XXXXXX";
	char	*cause = NULL;

	cfg = config_create();
	ck_assert(config_set(cfg, "ENVIRONMENT", "development", &cause));
	ck_assert(config_set(cfg, "CORS_ORIGINS", ALLOWED
	    ",https://chatgpt.com", &cause));
	ck_assert(config_set(cfg, "MAX_BODY_SIZE", "1024", &cause));
	log_file = mkstemp(path);
	ck_assert_int_ge(log_file, 0);
	unlink(path);
	log_set_fd(log_file);
	log_threshold = LOG_INFO;
}

static void
teardown(void)
{
	log_set_fd(2);
	close(log_file);
	config_free(cfg);
	cfg = NULL;
}

/* A response and the request id the pipeline used. */
struct result {
	struct http_resp	 resp;
	char			 rid[64];
};

/*
 * Serve method + uri with extra "KEY=value" params (NULL-terminated) and an
 * optional body; the caller frees with result_free.
 */
static void
serve(struct result *r, const char *method, const char *uri,
    const char *body, size_t body_len, ...)
{
	char		*env[32];
	const char	*q, *extra;
	va_list		 ap;
	int		 n = 0, i;

	xasprintf(&env[n++], "REQUEST_METHOD=%s", method);
	xasprintf(&env[n++], "REQUEST_URI=%s", uri);
	if ((q = strchr(uri, '?')) != NULL)
		xasprintf(&env[n++], "QUERY_STRING=%s", q + 1);
	va_start(ap, body_len);
	while ((extra = va_arg(ap, const char *)) != NULL && n < 31)
		env[n++] = xstrdup(extra);
	va_end(ap);
	env[n] = NULL;
	http_resp_init(&r->resp);
	serve_handle(env, body, body_len, &r->resp, r->rid, sizeof r->rid);
	for (i = 0; i < n; i++)
		free(env[i]);
}

static void
result_free(struct result *r)
{
	http_resp_free(&r->resp);
}

/* A response header's value, or NULL; caller frees. */
static char *
header(const struct result *r, const char *name)
{
	const char	*p = r->resp.headers.data, *eol;
	size_t		 n = strlen(name);

	if (p == NULL)
		return (NULL);
	for (; (eol = strstr(p, "\r\n")) != NULL; p = eol + 2) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return (xstrndup(p + n + 2, (size_t)(eol - p - n - 2)));
	}
	return (NULL);
}

static bool
has_header(const struct result *r, const char *name)
{
	char	*v = header(r, name);

	free(v);
	return (v != NULL);
}

static void
assert_header(const struct result *r, const char *name, const char *want)
{
	char	*v = header(r, name);

	ck_assert_msg(v != NULL, "no %s header", name);
	ck_assert_str_eq(v, want);
	free(v);
}

/* The error code of a JSON error body. */
static void
assert_error(const struct result *r, int status, const char *code)
{
	struct json_object	*o, *err, *c;

	ck_assert_int_eq(r->resp.status, status);
	ck_assert_str_eq(r->resp.content_type, "application/json");
	o = json_tokener_parse(r->resp.body.data);
	ck_assert_msg(o != NULL, "not JSON: %s", r->resp.body.data);
	ck_assert(json_object_object_get_ex(o, "error", &err));
	ck_assert(json_object_object_get_ex(err, "code", &c));
	ck_assert_str_eq(json_object_get_string(c), code);
	ck_assert(json_object_object_get_ex(err, "message", &c));
	ck_assert_int_gt(json_object_get_string_len(c), 0);
	json_object_put(o);
}

static bool
is_hex32(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return (false);
	}
	return (i == 32);
}

START_TEST(test_health_answers_json)
{
	struct result		 r;
	struct json_object	*o, *v;

	serve(&r, "GET", "/health", NULL, 0, NULL);
	ck_assert_int_eq(r.resp.status, 200);
	o = json_tokener_parse(r.resp.body.data);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "status", &v));
	ck_assert_str_eq(json_object_get_string(v), "healthy");
	ck_assert(json_object_object_get_ex(o, "service", &v));
	ck_assert_str_eq(json_object_get_string(v), "anilist-gpt");
	ck_assert(json_object_object_get_ex(o, "version", &v));
	ck_assert_str_eq(json_object_get_string(v), PACKAGE_VERSION);
	json_object_put(o);
	result_free(&r);
}
END_TEST

START_TEST(test_root_names_the_service)
{
	struct result		 r;
	struct json_object	*o, *v;

	serve(&r, "GET", "/", NULL, 0, NULL);
	ck_assert_int_eq(r.resp.status, 200);
	o = json_tokener_parse(r.resp.body.data);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "name", &v));
	ck_assert_str_eq(json_object_get_string(v), "anilist-gpt");
	ck_assert(json_object_object_get_ex(o, "status", &v));
	ck_assert_str_eq(json_object_get_string(v), "running");
	json_object_put(o);
	result_free(&r);
}
END_TEST

START_TEST(test_request_id_taken_when_plain)
{
	struct result	r;

	serve(&r, "GET", "/health", NULL, 0,
	    "HTTP_X_REQUEST_ID=3f2a-from_caddy.1:2", NULL);
	ck_assert_str_eq(r.rid, "3f2a-from_caddy.1:2");
	result_free(&r);
}
END_TEST

/* Request ids that are not taken: a fresh one is made instead. */
static const char *bad_ids[] = {
	"HTTP_X_REQUEST_ID=",
	"HTTP_X_REQUEST_ID=has space",
	"HTTP_X_REQUEST_ID=quote\"",
	"HTTP_X_REQUEST_ID=a/b",
	"HTTP_X_REQUEST_ID=short-1",	/* 7 bytes: too short */
	"HTTP_X_REQUEST_ID=-leading-dash",
	"HTTP_X_REQUEST_ID=.leading.dot",
	"HTTP_X_REQUEST_ID=0123456789\0770123456789",
	"HTTP_X_REQUEST_ID=0123456789012345678901234567890123456789"
	    "012345678901234567890123",	/* 64 bytes: too long */
	"HTTP_OTHER=1",			/* none given */
};

START_TEST(test_request_id_generated_otherwise)
{
	struct result	r1, r2;

	serve(&r1, "GET", "/health", NULL, 0, bad_ids[_i], NULL);
	serve(&r2, "GET", "/health", NULL, 0, bad_ids[_i], NULL);
	ck_assert_msg(is_hex32(r1.rid), "rid \"%s\"", r1.rid);
	ck_assert_msg(is_hex32(r2.rid), "rid \"%s\"", r2.rid);
	ck_assert_str_ne(r1.rid, r2.rid);
	result_free(&r1);
	result_free(&r2);
}
END_TEST

/* New ids come from a pool refilled every 64: they never repeat across refills. */
START_TEST(test_request_ids_distinct_across_refills)
{
	enum { N = 300 };
	static char	ids[N][64];
	struct result	r;
	int		i, j;

	for (i = 0; i < N; i++) {
		serve(&r, "GET", "/health", NULL, 0, NULL);
		ck_assert_msg(is_hex32(r.rid), "rid \"%s\"", r.rid);
		memcpy(ids[i], r.rid, sizeof ids[i]);
		result_free(&r);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(ids[i], ids[j]);
	}
}
END_TEST

/* A forked child does not hand out the ids its parent's pool still holds. */
START_TEST(test_request_ids_differ_after_fork)
{
	struct result	r;
	char		child[64] = "", parent[64];
	int		fds[2], status;
	pid_t		pid;

	serve(&r, "GET", "/health", NULL, 0, NULL);	/* fills the pool */
	result_free(&r);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		serve(&r, "GET", "/health", NULL, 0, NULL);
		(void)write(fds[1], r.rid, strlen(r.rid) + 1);
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_gt(read(fds[0], child, sizeof child - 1), 0);
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	serve(&r, "GET", "/health", NULL, 0, NULL);
	snprintf(parent, sizeof parent, "%s", r.rid);
	result_free(&r);
	ck_assert_msg(is_hex32(child), "child rid \"%s\"", child);
	ck_assert_str_ne(child, parent);
}
END_TEST

START_TEST(test_cors_allowed_origin_echoed_without_credentials)
{
	struct result	r;

	serve(&r, "GET", "/health", NULL, 0, "HTTP_ORIGIN=" ALLOWED, NULL);
	ck_assert_int_eq(r.resp.status, 200);
	assert_header(&r, "Access-Control-Allow-Origin", ALLOWED);
	ck_assert(!has_header(&r, "Access-Control-Allow-Credentials"));
	assert_header(&r, "Vary", "Origin");
	ck_assert(has_header(&r, "Access-Control-Expose-Headers"));
	result_free(&r);
}
END_TEST

START_TEST(test_cors_other_origin_gets_nothing)
{
	struct result	r;

	serve(&r, "GET", "/health", NULL, 0,
	    "HTTP_ORIGIN=https://evil.example", NULL);
	ck_assert_int_eq(r.resp.status, 200);
	ck_assert(!has_header(&r, "Access-Control-Allow-Origin"));
	ck_assert(!has_header(&r, "Access-Control-Allow-Credentials"));
	result_free(&r);
}
END_TEST

START_TEST(test_cors_preflight)
{
	struct result	r;

	serve(&r, "OPTIONS", "/health", NULL, 0, "HTTP_ORIGIN=" ALLOWED,
	    "HTTP_ACCESS_CONTROL_REQUEST_METHOD=GET", NULL);
	ck_assert_int_eq(r.resp.status, 204);
	assert_header(&r, "Access-Control-Allow-Origin", ALLOWED);
	assert_header(&r, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
	ck_assert(has_header(&r, "Access-Control-Allow-Headers"));
	ck_assert(has_header(&r, "Access-Control-Max-Age"));
	ck_assert_uint_eq(r.resp.body.len, 0);
	result_free(&r);
}
END_TEST

START_TEST(test_cors_preflight_from_other_origin_is_403)
{
	struct result	r;

	serve(&r, "OPTIONS", "/health", NULL, 0,
	    "HTTP_ORIGIN=https://evil.example",
	    "HTTP_ACCESS_CONTROL_REQUEST_METHOD=GET", NULL);
	assert_error(&r, 403, "origin_not_allowed");
	ck_assert(!has_header(&r, "Access-Control-Allow-Origin"));
	result_free(&r);
}
END_TEST

START_TEST(test_cors_preflight_unknown_path_is_404)
{
	struct result	r;

	serve(&r, "OPTIONS", "/nope", NULL, 0, "HTTP_ORIGIN=" ALLOWED,
	    "HTTP_ACCESS_CONTROL_REQUEST_METHOD=GET", NULL);
	assert_error(&r, 404, "not_found");
	result_free(&r);
}
END_TEST

START_TEST(test_cors_star_never_sends_credentials)
{
	struct result	r;
	char		*cause = NULL;

	ck_assert(config_set(cfg, "CORS_ORIGINS", "*", &cause));
	serve(&r, "GET", "/health", NULL, 0,
	    "HTTP_ORIGIN=https://anyone.example", NULL);
	assert_header(&r, "Access-Control-Allow-Origin", "*");
	ck_assert(!has_header(&r, "Access-Control-Allow-Credentials"));
	result_free(&r);
	serve(&r, "OPTIONS", "/health", NULL, 0,
	    "HTTP_ORIGIN=https://anyone.example",
	    "HTTP_ACCESS_CONTROL_REQUEST_METHOD=GET", NULL);
	ck_assert_int_eq(r.resp.status, 204);
	assert_header(&r, "Access-Control-Allow-Origin", "*");
	ck_assert(!has_header(&r, "Access-Control-Allow-Credentials"));
	result_free(&r);
}
END_TEST

START_TEST(test_plain_options_lists_allow)
{
	struct result	r;

	serve(&r, "OPTIONS", "/health", NULL, 0, NULL);
	ck_assert_int_eq(r.resp.status, 204);
	assert_header(&r, "Allow", "GET, HEAD, OPTIONS");
	result_free(&r);
	serve(&r, "OPTIONS", "/nope", NULL, 0, NULL);
	assert_error(&r, 404, "not_found");
	result_free(&r);
}
END_TEST

START_TEST(test_head_has_no_body)
{
	struct result	r;

	serve(&r, "HEAD", "/health", NULL, 0, NULL);
	ck_assert_int_eq(r.resp.status, 200);
	ck_assert(r.resp.head_only);
	result_free(&r);
}
END_TEST

START_TEST(test_body_over_limit_is_413)
{
	struct result	 r;
	char		*body = xcalloc(1, 2048);

	memset(body, 'x', 2047);
	serve(&r, "POST", "/health", body, 2047, "CONTENT_LENGTH=2047", NULL);
	assert_error(&r, 413, "payload_too_large");
	result_free(&r);
	/* The declared length alone is enough. */
	serve(&r, "POST", "/health", NULL, 0, "CONTENT_LENGTH=1000000", NULL);
	assert_error(&r, 413, "payload_too_large");
	result_free(&r);
	/* At the limit it reaches the router (405: /health is GET only). */
	serve(&r, "POST", "/health", body, 1024, "CONTENT_LENGTH=1024", NULL);
	assert_error(&r, 405, "method_not_allowed");
	result_free(&r);
	free(body);
}
END_TEST

START_TEST(test_bad_content_length_is_400)
{
	struct result	r;

	serve(&r, "POST", "/health", NULL, 0, "CONTENT_LENGTH=12abc", NULL);
	assert_error(&r, 400, "invalid_request");
	result_free(&r);
	serve(&r, "POST", "/health", NULL, 0, "CONTENT_LENGTH=-5", NULL);
	assert_error(&r, 400, "invalid_request");
	result_free(&r);
}
END_TEST

/* Malformed requests: a 4xx JSON error, never a 5xx. */
static const struct {
	const char	*method;
	const char	*uri;
	int		 status;
	const char	*code;
} bad_cases[] = {
	{ "GET", "/health?q=%zz", 400, "invalid_request" },
	{ "GET", "/health?q=%00", 400, "invalid_request" },
	{ "GET", "/health?q=%ff%fe", 400, "invalid_request" },
	{ "GET", "/he%zzalth", 400, "invalid_request" },
	{ "GET", "/he%00alth", 400, "invalid_request" },
	{ "GET", "/nope", 404, "not_found" },
	{ "DELETE", "/health", 405, "method_not_allowed" },
	{ "TRACE", "/", 405, "method_not_allowed" },
	{ "POST", "/health/ready", 405, "method_not_allowed" },
};

START_TEST(test_bad_requests_get_4xx_json)
{
	struct result	r;

	serve(&r, bad_cases[_i].method, bad_cases[_i].uri, NULL, 0, NULL);
	assert_error(&r, bad_cases[_i].status, bad_cases[_i].code);
	result_free(&r);
}
END_TEST

START_TEST(test_huge_query_and_headers)
{
	struct result	 r;
	char		*uri, *hdr, *big;

	big = xcalloc(1, HTTP_MAX_HEADERS + 2);
	memset(big, 'a', HTTP_MAX_HEADERS + 1);
	xasprintf(&uri, "/health?q=%s", big);
	serve(&r, "GET", uri, NULL, 0, NULL);
	assert_error(&r, 414, "uri_too_long");
	result_free(&r);
	xasprintf(&hdr, "HTTP_X_BIG=%s", big);
	serve(&r, "GET", "/health", NULL, 0, hdr, NULL);
	assert_error(&r, 431, "headers_too_large");
	result_free(&r);
	free(uri);
	free(hdr);
	free(big);
}
END_TEST

START_TEST(test_access_log_line)
{
	struct result		 r;
	struct json_object	*o, *v;
	char			 line[4096];
	ssize_t			 n;

	serve(&r, "GET", "/health?x=1", NULL, 0, "HTTP_X_REQUEST_ID=abc-1234",
	    NULL);
	n = pread(log_file, line, sizeof line - 1, 0);
	ck_assert_int_gt(n, 0);
	line[n] = '\0';
	ck_assert_msg(strchr(line, '\n') == line + n - 1, "one line: %s",
	    line);
	o = json_tokener_parse(line);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "msg", &v));
	ck_assert_str_eq(json_object_get_string(v), "request");
	ck_assert(json_object_object_get_ex(o, "request_id", &v));
	ck_assert_str_eq(json_object_get_string(v), "abc-1234");
	ck_assert(json_object_object_get_ex(o, "method", &v));
	ck_assert_str_eq(json_object_get_string(v), "GET");
	ck_assert(json_object_object_get_ex(o, "path", &v));
	ck_assert_str_eq(json_object_get_string(v), "/health");
	ck_assert(json_object_object_get_ex(o, "route", &v));
	ck_assert_str_eq(json_object_get_string(v), "/health");
	ck_assert(json_object_object_get_ex(o, "status", &v));
	ck_assert_int_eq(json_object_get_int(v), 200);
	ck_assert(json_object_object_get_ex(o, "duration_ms", &v));
	ck_assert(json_object_get_double(v) >= 0.0);
	ck_assert(!json_object_object_get_ex(o, "upstream_ms", NULL));
	json_object_put(o);
	/* The thread's request id is cleared after the request. */
	ck_assert_ptr_null(log_request_id());
	result_free(&r);
}
END_TEST

START_TEST(test_access_log_respects_level)
{
	struct result	r;
	char		buf[16];

	log_threshold = LOG_WARN;
	serve(&r, "GET", "/health", NULL, 0, NULL);
	ck_assert_int_eq(pread(log_file, buf, sizeof buf, 0), 0);
	result_free(&r);
}
END_TEST

static Suite *
serve_suite(void)
{
	Suite	*s = suite_create("serve");
	TCase	*tc = tcase_create("serve");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_health_answers_json);
	tcase_add_test(tc, test_root_names_the_service);
	tcase_add_test(tc, test_request_id_taken_when_plain);
	tcase_add_loop_test(tc, test_request_id_generated_otherwise, 0,
	    (int)nitems(bad_ids));
	tcase_add_test(tc, test_request_ids_distinct_across_refills);
	tcase_add_test(tc, test_request_ids_differ_after_fork);
	tcase_add_test(tc, test_cors_allowed_origin_echoed_without_credentials);
	tcase_add_test(tc, test_cors_other_origin_gets_nothing);
	tcase_add_test(tc, test_cors_preflight);
	tcase_add_test(tc, test_cors_preflight_from_other_origin_is_403);
	tcase_add_test(tc, test_cors_preflight_unknown_path_is_404);
	tcase_add_test(tc, test_cors_star_never_sends_credentials);
	tcase_add_test(tc, test_plain_options_lists_allow);
	tcase_add_test(tc, test_head_has_no_body);
	tcase_add_test(tc, test_body_over_limit_is_413);
	tcase_add_test(tc, test_bad_content_length_is_400);
	tcase_add_loop_test(tc, test_bad_requests_get_4xx_json, 0,
	    (int)nitems(bad_cases));
	tcase_add_test(tc, test_huge_query_and_headers);
	tcase_add_test(tc, test_access_log_line);
	tcase_add_test(tc, test_access_log_respects_level);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(serve_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
