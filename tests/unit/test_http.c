/* test_http.c: request parsing (path, query, headers) and response building. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http.h"
#include "util.h"

/* FastCGI params are char *; string literals are const under -Wwrite-strings. */
#define S(s)	((char *)(s))

/* Percent-decoding: the result, or NULL for a refused input. */
static const struct {
	const char	*in;
	bool		 form;
	const char	*out;
} decode_cases[] = {
	{ "plain", false, "plain" },
	{ "", false, "" },
	{ "a%20b", false, "a b" },
	{ "%41%42%43", false, "ABC" },
	{ "%c3%a9t%C3%A9", false, "\xc3\xa9t\xc3\xa9" },
	{ "a+b", true, "a b" },
	{ "a+b", false, "a+b" },
	{ "a%2Bb", true, "a+b" },
	{ "100%25", false, "100%" },
	{ "%", false, NULL },
	{ "%4", false, NULL },
	{ "ab%4", false, NULL },
	{ "100%", false, NULL },
	{ "%zz", false, NULL },
	{ "%g1", false, NULL },
	{ "%1g", false, NULL },
	{ "%00", false, NULL },
	{ "a%00b", true, NULL },
};

START_TEST(test_decode)
{
	const char	*in = decode_cases[_i].in;
	char		*out;

	out = http_decode(in, strlen(in), decode_cases[_i].form);
	if (decode_cases[_i].out == NULL)
		ck_assert_msg(out == NULL, "\"%s\" decoded to \"%s\"", in,
		    out);
	else {
		ck_assert_msg(out != NULL, "\"%s\" refused", in);
		ck_assert_str_eq(out, decode_cases[_i].out);
	}
	free(out);
}
END_TEST

START_TEST(test_decode_stops_at_length)
{
	char	*out = http_decode("abc%20def", 3, false);

	ck_assert_str_eq(out, "abc");
	free(out);
	/* An escape cut by the length is incomplete. */
	ck_assert_ptr_null(http_decode("ab%20", 4, false));
}
END_TEST

START_TEST(test_encode_round_trips)
{
	const char	*in = "a b&c=d/e?\xc3\xa9~_.-";
	char		*enc, *dec;

	enc = http_encode(in);
	ck_assert_str_eq(enc, "a%20b%26c%3Dd%2Fe%3F%C3%A9~_.-");
	dec = http_decode(enc, strlen(enc), false);
	ck_assert_str_eq(dec, in);
	free(enc);
	free(dec);
}
END_TEST

START_TEST(test_query_keeps_repeated_keys_in_order)
{
	struct http_param	*p;
	size_t			 n;
	char			*cause = NULL;

	ck_assert_int_eq(http_parse_query("genre=Action&year=2020&genre="
	    "Drama+Comedy&flag&&empty=&x=a%3Db=c", &p, &n, &cause), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(p[0].key, "genre");
	ck_assert_str_eq(p[0].value, "Action");
	ck_assert_str_eq(p[1].key, "year");
	ck_assert_str_eq(p[1].value, "2020");
	ck_assert_str_eq(p[2].key, "genre");
	ck_assert_str_eq(p[2].value, "Drama Comedy");
	ck_assert_str_eq(p[3].key, "flag");
	ck_assert_str_eq(p[3].value, "");
	ck_assert_str_eq(p[4].key, "empty");
	ck_assert_str_eq(p[4].value, "");
	ck_assert_str_eq(p[5].key, "x");
	ck_assert_str_eq(p[5].value, "a=b=c");
	http_params_free(p, n);
	ck_assert_ptr_null(cause);
}
END_TEST

START_TEST(test_query_empty)
{
	struct http_param	*p;
	size_t			 n = 99;
	char			*cause = NULL;

	ck_assert_int_eq(http_parse_query(NULL, &p, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(http_parse_query("", &p, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(http_parse_query("&&&", &p, &n, &cause), 0);
	ck_assert_uint_eq(n, 0);
	http_params_free(p, n);
}
END_TEST

/* Malformed query strings: status and a word of the reason. */
static const struct {
	const char	*qs;
	int		 status;
	const char	*reason;
} bad_query_cases[] = {
	{ "q=%zz", 400, "invalid percent-encoding" },
	{ "q=%4", 400, "invalid percent-encoding" },
	{ "q=abc%", 400, "invalid percent-encoding" },
	{ "%zz=1", 400, "invalid percent-encoding" },
	{ "q=a%00b", 400, "invalid percent-encoding" },
	{ "q=%ff", 400, "\"q\" is not valid UTF-8" },
	{ "q=%c3%28", 400, "not valid UTF-8" },
	{ "q=%ed%a0%80", 400, "not valid UTF-8" },	/* a surrogate */
	{ "q=%c0%af", 400, "not valid UTF-8" },	/* over-long '/' */
	{ "%ff=1", 400, "\"?\" is not valid UTF-8" },
};

START_TEST(test_query_refuses_malformed_input)
{
	struct http_param	*p = NULL;
	size_t			 n = 0;
	char			*cause = NULL;

	ck_assert_int_eq(http_parse_query(bad_query_cases[_i].qs, &p, &n,
	    &cause), bad_query_cases[_i].status);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, bad_query_cases[_i].reason) != NULL,
	    "\"%s\": cause \"%s\" lacks \"%s\"", bad_query_cases[_i].qs,
	    cause, bad_query_cases[_i].reason);
	free(cause);
}
END_TEST

static char *
repeat(const char *unit, size_t times)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < times; i++)
		buf_puts(&b, unit);
	return (buf_detach(&b));
}

START_TEST(test_query_over_long_is_414)
{
	struct http_param	*p;
	size_t			 n;
	char			*cause = NULL, *qs;

	qs = repeat("a", HTTP_MAX_QUERY - 2);
	qs[0] = 'q';
	qs[1] = '=';
	ck_assert_int_eq(http_parse_query(qs, &p, &n, &cause), 0);
	http_params_free(p, n);
	free(qs);

	qs = repeat("a", HTTP_MAX_QUERY + 1);
	ck_assert_int_eq(http_parse_query(qs, &p, &n, &cause), 414);
	ck_assert_str_eq(cause, "query string longer than 8192 bytes");
	free(cause);
	free(qs);
}
END_TEST

START_TEST(test_query_too_many_params_is_400)
{
	struct http_param	*p;
	size_t			 n;
	char			*cause = NULL, *qs;

	qs = repeat("k=v&", HTTP_MAX_PARAMS);
	ck_assert_int_eq(http_parse_query(qs, &p, &n, &cause), 0);
	ck_assert_uint_eq(n, HTTP_MAX_PARAMS);
	http_params_free(p, n);
	free(qs);

	qs = repeat("k=v&", HTTP_MAX_PARAMS + 1);
	ck_assert_int_eq(http_parse_query(qs, &p, &n, &cause), 400);
	ck_assert_str_eq(cause, "more than 64 query parameters");
	free(cause);
	free(qs);
}
END_TEST

static char *test_env[] = {
	S("REQUEST_METHOD=GET"),
	S("REQUEST_URI=/v1/anime/one%20piece?q=hello+world&q=2"),
	S("QUERY_STRING=q=hello+world&q=2"),
	S("CONTENT_TYPE=application/json"),
	S("CONTENT_LENGTH=0"),
	S("HTTP_X_REQUEST_ID=abc-123"),
	S("HTTP_ORIGIN_EXTRA=not-the-origin"),
	S("HTTP_ORIGIN=https://chatgpt.com"),
	S("HTTP_ACCEPT=application/json"),
	NULL
};

START_TEST(test_req_init_parses_method_path_query)
{
	struct http_req	 req;
	char		*cause = NULL;

	ck_assert_int_eq(http_req_init(&req, test_env, &cause), 0);
	ck_assert_str_eq(req.method, "GET");
	ck_assert_str_eq(req.path, "/v1/anime/one piece");
	ck_assert_uint_eq(req.nquery, 2);
	ck_assert_str_eq(http_req_query(&req, "q"), "hello world");
	ck_assert_ptr_null(http_req_query(&req, "missing"));
	http_req_free(&req);
}
END_TEST

START_TEST(test_header_lookup)
{
	struct http_req	 req;
	char		*cause = NULL;

	ck_assert_int_eq(http_req_init(&req, test_env, &cause), 0);
	ck_assert_str_eq(http_req_header(&req, "X-Request-ID"), "abc-123");
	ck_assert_str_eq(http_req_header(&req, "x-request-id"), "abc-123");
	ck_assert_str_eq(http_req_header(&req, "Origin"),
	    "https://chatgpt.com");
	ck_assert_str_eq(http_req_header(&req, "Content-Type"),
	    "application/json");
	ck_assert_str_eq(http_req_header(&req, "content-length"), "0");
	ck_assert_ptr_null(http_req_header(&req, "Authorization"));
	ck_assert_ptr_null(http_req_header(&req, "Orig"));
	ck_assert_str_eq(http_req_env(&req, "REQUEST_METHOD"), "GET");
	ck_assert_ptr_null(http_req_env(&req, "REQUEST"));
	http_req_free(&req);
}
END_TEST

/* Request lines: status from http_req_init (0 = fine). */
static const struct {
	const char	*uri;
	const char	*qs;
	int		 status;
	const char	*path;
} init_cases[] = {
	{ "/", NULL, 0, "/" },
	{ NULL, NULL, 0, "/" },
	{ "/health?x=1", "x=1", 0, "/health" },
	{ "/caf%C3%A9", NULL, 0, "/caf\xc3\xa9" },
	{ "/a+b", NULL, 0, "/a+b" },		/* '+' is literal in a path */
	{ "/bad%zz", NULL, 400, NULL },
	{ "/nul%00byte", NULL, 400, NULL },
	{ "/latin%E9", NULL, 400, NULL },
	{ "*", NULL, 400, NULL },
	{ "relative", NULL, 400, NULL },
	{ "/ok", "q=%zz", 400, NULL },
	{ "/ok", "q=%ff", 400, NULL },
};

START_TEST(test_req_init_statuses)
{
	struct http_req	 req;
	char		*env[4], *uri = NULL, *qs = NULL, *cause = NULL;
	int		 n = 0, status;

	env[n++] = S("REQUEST_METHOD=GET");
	if (init_cases[_i].uri != NULL) {
		xasprintf(&uri, "REQUEST_URI=%s", init_cases[_i].uri);
		env[n++] = uri;
	}
	if (init_cases[_i].qs != NULL) {
		xasprintf(&qs, "QUERY_STRING=%s", init_cases[_i].qs);
		env[n++] = qs;
	}
	env[n] = NULL;
	status = http_req_init(&req, env, &cause);
	ck_assert_msg(status == init_cases[_i].status, "%s: %d, want %d",
	    init_cases[_i].uri, status, init_cases[_i].status);
	if (status == 0) {
		ck_assert_str_eq(req.path, init_cases[_i].path);
		ck_assert_ptr_null(cause);
	} else {
		ck_assert_ptr_nonnull(cause);
		ck_assert_ptr_nonnull(req.path);	/* logs need one */
	}
	free(cause);
	http_req_free(&req);
	free(uri);
	free(qs);
}
END_TEST

START_TEST(test_req_init_long_path_is_414)
{
	struct http_req	 req;
	char		*env[3], *uri, *path, *cause = NULL;

	path = repeat("/a", HTTP_MAX_PATH);
	xasprintf(&uri, "REQUEST_URI=%s", path);
	env[0] = S("REQUEST_METHOD=GET");
	env[1] = uri;
	env[2] = NULL;
	ck_assert_int_eq(http_req_init(&req, env, &cause), 414);
	ck_assert_ptr_nonnull(strstr(cause, "path longer than"));
	free(cause);
	http_req_free(&req);
	free(uri);
	free(path);
}
END_TEST

START_TEST(test_req_init_huge_headers_are_431)
{
	struct http_req	 req;
	char		*env[4], *big, *value, *cause = NULL;

	value = repeat("x", HTTP_MAX_HEADERS);
	xasprintf(&big, "HTTP_X_BIG=%s", value);
	env[0] = S("REQUEST_METHOD=GET");
	env[1] = S("REQUEST_URI=/health");
	env[2] = big;
	env[3] = NULL;
	ck_assert_int_eq(http_req_init(&req, env, &cause), 431);
	ck_assert_str_eq(cause, "request headers larger than 32768 bytes");
	free(cause);
	http_req_free(&req);

	/* Just under the limit is fine. */
	big[strlen(big) - 20] = '\0';
	cause = NULL;
	ck_assert_int_eq(http_req_init(&req, env, &cause), 0);
	http_req_free(&req);
	free(big);
	free(value);
}
END_TEST

/* Parse the response body as JSON; caller puts. */
static struct json_object *
body_json(const struct http_resp *resp)
{
	struct json_object	*o = json_tokener_parse(resp->body.data);

	ck_assert_msg(o != NULL, "body is not JSON: %s", resp->body.data);
	return (o);
}

static const char *
obj_str(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v))
		return (NULL);
	return (json_object_get_string(v));
}

START_TEST(test_error_shape_with_field)
{
	struct http_resp	 resp;
	struct json_object	*o, *err;

	http_resp_init(&resp);
	http_resp_error(&resp, 400, "invalid_argument", "year",
	    "year %d is out of range", 3000);
	ck_assert_int_eq(resp.status, 400);
	ck_assert_str_eq(resp.content_type, "application/json");
	o = body_json(&resp);
	ck_assert_int_eq(json_object_object_length(o), 1);
	ck_assert(json_object_object_get_ex(o, "error", &err));
	ck_assert_int_eq(json_object_object_length(err), 3);
	ck_assert_str_eq(obj_str(err, "code"), "invalid_argument");
	ck_assert_str_eq(obj_str(err, "message"), "year 3000 is out of range");
	ck_assert_str_eq(obj_str(err, "field"), "year");
	json_object_put(o);
	http_resp_free(&resp);
}
END_TEST

START_TEST(test_error_shape_without_field_escapes_message)
{
	struct http_resp	 resp;
	struct json_object	*o, *err;

	http_resp_init(&resp);
	http_resp_error(&resp, 404, "not_found", NULL, "no route for %s",
	    "/a\"b\\c\n");
	o = body_json(&resp);
	ck_assert(json_object_object_get_ex(o, "error", &err));
	ck_assert_int_eq(json_object_object_length(err), 2);
	ck_assert_str_eq(obj_str(err, "message"), "no route for /a\"b\\c\n");
	ck_assert_ptr_null(obj_str(err, "field"));
	json_object_put(o);
	http_resp_free(&resp);
}
END_TEST

/*
 * Regression (found by fuzz_serve): a request method that is not a token
 * ("OP\x8fIONS") reached the 405 message as it came, and the JSON body
 * we declare UTF-8 was not. The method is now a 400; any other stray
 * byte in a JSON or text body becomes U+FFFD.
 */
static const char *const bad_methods[] = {
	"OP\x8fIONS", "", "GET POST", "G\"T", "GE\tT", "{}"
};

START_TEST(test_method_that_is_not_a_token_is_400)
{
	struct http_req	 req;
	char		*env[3], *method, *cause = NULL;

	xasprintf(&method, "REQUEST_METHOD=%s", bad_methods[_i]);
	env[0] = method;
	env[1] = S("REQUEST_URI=/health");
	env[2] = NULL;
	ck_assert_int_eq(http_req_init(&req, env, &cause), 400);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(req.method, "GET");
	ck_assert_ptr_nonnull(req.path);
	free(cause);
	http_req_free(&req);
	free(method);
}
END_TEST

static const struct {
	const char	*in;
	const char	*out;
} repair_cases[] = {
	{ "plain", "plain" },
	{ "caf\xc3\xa9", "caf\xc3\xa9" },
	{ "a\xff" "b", "a\xef\xbf\xbd" "b" },
	{ "cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },	/* overlong */
	{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!" },
};

START_TEST(test_json_and_text_bodies_are_always_utf8)
{
	struct http_resp	 resp;
	struct json_object	*o, *err;
	char			 want[64];

	http_resp_init(&resp);
	http_resp_error(&resp, 400, "bad", NULL, "%s", repair_cases[_i].in);
	ck_assert(util_utf8_valid(resp.body.data, resp.body.len));
	o = body_json(&resp);
	ck_assert(json_object_object_get_ex(o, "error", &err));
	ck_assert_str_eq(obj_str(err, "message"), repair_cases[_i].out);
	json_object_put(o);

	http_resp_text(&resp, 200, "text/plain", repair_cases[_i].in);
	ck_assert_str_eq(resp.body.data, repair_cases[_i].out);
	/* Bodies of other types are bytes: left alone. */
	http_resp_text(&resp, 200, "application/octet-stream",
	    repair_cases[_i].in);
	snprintf(want, sizeof want, "%s", repair_cases[_i].in);
	ck_assert_str_eq(resp.body.data, want);
	http_resp_free(&resp);
}
END_TEST

/* The eight-byte ASCII runs must not hide a bad byte at any offset. */
START_TEST(test_utf8_valid_at_every_offset)
{
	static const char *const bad[] = {
		"\x80", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xe3\x81", "\xff"
	};
	char	s[64];
	size_t	i, j, n;

	for (i = 0; i < nitems(bad); i++) {
		n = strlen(bad[i]);
		for (j = 0; j + n < 40; j++) {
			memset(s, 'a', 40);
			memcpy(s + j, bad[i], n);
			ck_assert_msg(!util_utf8_valid(s, 40), "bad %zu at %zu",
			    i, j);
			/* Cut short: what comes before it is fine. */
			ck_assert(util_utf8_valid(s, j));
		}
	}
	for (j = 0; j + 3 <= 40; j++) {
		memset(s, 'a', 40);
		memcpy(s + j, "\xe8\x91\xac", 3);	/* 葬 */
		ck_assert(util_utf8_valid(s, 40));
		ck_assert(!util_utf8_valid(s, j + 2));
	}
}
END_TEST

START_TEST(test_buf_put_ll_and_printf)
{
	struct buf	b;
	char		big[300];

	buf_init(&b);
	buf_put_ll(&b, 0);
	buf_putc(&b, ' ');
	buf_put_ll(&b, -42);
	buf_putc(&b, ' ');
	buf_put_ll(&b, 9223372036854775807LL);
	buf_putc(&b, ' ');
	buf_put_ll(&b, -9223372036854775807LL - 1);
	ck_assert_str_eq(b.data, "0 -42 9223372036854775807 "
	    "-9223372036854775808");
	/* Longer than the spare room: formatted again after growing. */
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	buf_reset(&b);
	buf_printf(&b, "<%s|%d>", big, 7);
	ck_assert_uint_eq(b.len, sizeof big - 1 + 4);
	ck_assert_int_eq(b.data[0], '<');
	ck_assert_str_eq(b.data + b.len - 3, "|7>");
	buf_printf(&b, "%s", "");
	ck_assert_uint_eq(b.len, sizeof big - 1 + 4);
	buf_free(&b);
}
END_TEST

START_TEST(test_resp_header_refuses_cr_lf)
{
	struct http_resp	resp;

	http_resp_init(&resp);
	ck_assert(http_resp_header(&resp, "X-Good", "value %d", 1));
	ck_assert(!http_resp_header(&resp, "X-Bad", "a\r\nSet-Cookie: x=1"));
	ck_assert(!http_resp_header(&resp, "X-Bad", "a\nb"));
	ck_assert(!http_resp_header(&resp, "X-Bad", "a\rb"));
	ck_assert(!http_resp_header(&resp, "X-Bad\r\nX-Evil", "v"));
	ck_assert(!http_resp_header(&resp, "X-Bad: y", "v"));
	ck_assert(!http_resp_header(&resp, "X Bad", "v"));
	ck_assert_str_eq(resp.headers.data, "X-Good: value 1\r\n");
	http_resp_free(&resp);
}
END_TEST

START_TEST(test_serialise)
{
	struct http_resp	resp;
	struct buf		out;

	http_resp_init(&resp);
	http_resp_text(&resp, 200, "text/plain", "hello");
	http_resp_header(&resp, "Cache-Control", "no-store");
	buf_init(&out);
	http_resp_serialise(&resp, "rid-1", &out);
	ck_assert_str_eq(out.data,
	    "Status: 200 OK\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 5\r\n"
	    "X-Request-ID: rid-1\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n"
	    "hello");
	buf_free(&out);
	http_resp_free(&resp);
}
END_TEST

START_TEST(test_serialise_head_keeps_length_drops_body)
{
	struct http_resp	resp;
	struct buf		out;

	http_resp_init(&resp);
	http_resp_json(&resp, 200, json_object_new_object());
	resp.head_only = true;
	buf_init(&out);
	http_resp_serialise(&resp, NULL, &out);
	ck_assert_str_eq(out.data,
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: 2\r\n"
	    "\r\n");
	buf_free(&out);
	http_resp_free(&resp);
}
END_TEST

START_TEST(test_serialise_204_has_no_length)
{
	struct http_resp	resp;
	struct buf		out;

	http_resp_init(&resp);
	resp.status = 204;
	http_resp_header(&resp, "Allow", "GET, HEAD, OPTIONS");
	buf_init(&out);
	http_resp_serialise(&resp, "r", &out);
	ck_assert_str_eq(out.data,
	    "Status: 204 No Content\r\n"
	    "X-Request-ID: r\r\n"
	    "Allow: GET, HEAD, OPTIONS\r\n"
	    "\r\n");
	buf_free(&out);
	http_resp_free(&resp);
}
END_TEST

START_TEST(test_status_text)
{
	ck_assert_str_eq(http_status_text(200), "OK");
	ck_assert_str_eq(http_status_text(405), "Method Not Allowed");
	ck_assert_str_eq(http_status_text(413), "Content Too Large");
	ck_assert_str_eq(http_status_text(414), "URI Too Long");
	ck_assert_str_eq(http_status_text(431),
	    "Request Header Fields Too Large");
	ck_assert_str_eq(http_status_text(503), "Service Unavailable");
	ck_assert_str_eq(http_status_text(299), "Unknown");
}
END_TEST

/* Accept values and what they allow (NULL: no header). */
static const struct {
	const char	*accept;
	bool		 json, sse;
} accept_cases[] = {
	{ NULL, true, true },
	{ "application/json, text/event-stream", true, true },
	{ "text/event-stream", false, true },
	{ "Text/Event-Stream; charset=utf-8", false, true },
	{ "application/json", true, false },
	{ "*/*", true, true },
	{ "application/*", true, false },
	{ "text/*", false, true },
	{ "text/html", false, false },
	{ "application/json;q=0, text/event-stream", false, true },
	{ "application/json; q=0.5 ,text/event-stream;q=0.0", true, false },
	{ "application/jsonx", false, false },
};

START_TEST(test_accept_allows_types_wildcards_and_not_q0)
{
	ck_assert_int_eq(http_accepts(accept_cases[_i].accept,
	    "application/json"), accept_cases[_i].json);
	ck_assert_int_eq(http_accepts(accept_cases[_i].accept,
	    "text/event-stream"), accept_cases[_i].sse);
}
END_TEST

/* Content-Type values and how a body so declared is read. */
static const struct {
	const char		*type;
	enum http_body_kind	 kind;
} body_kind_cases[] = {
	{ NULL, HTTP_BODY_GENERIC },
	{ "", HTTP_BODY_GENERIC },
	{ "application/json", HTTP_BODY_JSON },
	{ "Application/JSON; charset=utf-8", HTTP_BODY_JSON },
	{ "application/vnd.api+json", HTTP_BODY_JSON },
	{ "application/octet-stream", HTTP_BODY_GENERIC },
	{ "text/plain;charset=UTF-8", HTTP_BODY_GENERIC },
	{ "application/x-www-form-urlencoded", HTTP_BODY_OTHER },
	{ "multipart/form-data; boundary=x", HTTP_BODY_OTHER },
	{ "text/html", HTTP_BODY_OTHER },
	{ "application/jsonp", HTTP_BODY_OTHER },
};

START_TEST(test_body_kind_of_content_types)
{
	struct http_req	 req;
	char		*env[4], *cause = NULL;
	int		 n = 0;

	env[n++] = xstrdup("REQUEST_METHOD=POST");
	env[n++] = xstrdup("REQUEST_URI=/mcp");
	if (body_kind_cases[_i].type != NULL)
		xasprintf(&env[n++], "CONTENT_TYPE=%s",
		    body_kind_cases[_i].type);
	env[n] = NULL;
	ck_assert_int_eq(http_req_init(&req, env, &cause), 0);
	ck_assert_int_eq(http_req_body_kind(&req), body_kind_cases[_i].kind);
	http_req_free(&req);
	while (n > 0)
		free(env[--n]);
}
END_TEST

START_TEST(test_event_is_one_message_then_the_end)
{
	struct http_resp	r;

	http_resp_init(&r);
	http_resp_event(&r, 200, "message", "{\"id\":1}", 8);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.content_type, "text/event-stream");
	ck_assert_str_eq(r.body.data, "event: message\ndata: {\"id\":1}\n\n");
	http_resp_free(&r);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("http");

	tcase_add_loop_test(tc, test_decode, 0, (int)nitems(decode_cases));
	tcase_add_test(tc, test_decode_stops_at_length);
	tcase_add_test(tc, test_encode_round_trips);
	tcase_add_test(tc, test_query_keeps_repeated_keys_in_order);
	tcase_add_test(tc, test_query_empty);
	tcase_add_loop_test(tc, test_query_refuses_malformed_input, 0,
	    (int)nitems(bad_query_cases));
	tcase_add_test(tc, test_query_over_long_is_414);
	tcase_add_test(tc, test_query_too_many_params_is_400);
	tcase_add_test(tc, test_req_init_parses_method_path_query);
	tcase_add_test(tc, test_header_lookup);
	tcase_add_loop_test(tc, test_req_init_statuses, 0,
	    (int)nitems(init_cases));
	tcase_add_test(tc, test_req_init_long_path_is_414);
	tcase_add_test(tc, test_req_init_huge_headers_are_431);
	tcase_add_test(tc, test_error_shape_with_field);
	tcase_add_test(tc, test_error_shape_without_field_escapes_message);
	tcase_add_loop_test(tc, test_method_that_is_not_a_token_is_400, 0,
	    (int)nitems(bad_methods));
	tcase_add_loop_test(tc, test_json_and_text_bodies_are_always_utf8, 0,
	    (int)nitems(repair_cases));
	tcase_add_test(tc, test_resp_header_refuses_cr_lf);
	tcase_add_loop_test(tc, test_accept_allows_types_wildcards_and_not_q0,
	    0, (int)nitems(accept_cases));
	tcase_add_loop_test(tc, test_body_kind_of_content_types, 0,
	    (int)nitems(body_kind_cases));
	tcase_add_test(tc, test_event_is_one_message_then_the_end);
	tcase_add_test(tc, test_utf8_valid_at_every_offset);
	tcase_add_test(tc, test_buf_put_ll_and_printf);
	tcase_add_test(tc, test_serialise);
	tcase_add_test(tc, test_serialise_head_keeps_length_drops_body);
	tcase_add_test(tc, test_serialise_204_has_no_length);
	tcase_add_test(tc, test_status_text);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(http_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
