/* test_ratelimit.c: windows, client identities, exemptions, the per-worker table and the serve hook. */
#include "autoconf.h"

#include <check.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cache.h"
#include "config.h"
#include "crypto.h"
#include "http.h"
#include "log.h"
#include "ratelimit.h"
#include "serve.h"
#include "util.h"

#define SECRET	"unit-test-secret-0123456789abcdef"

/* ---- window arithmetic ---- */

static const struct {
	uint64_t	now_ms;
	int		window;
	uint64_t	start;
	int		reset;
} windows[] = {
	{ 0, 60, 0, 60 },			/* at a start: a whole window */
	{ 1, 60, 0, 60 },			/* rounded up */
	{ 59999, 60, 0, 1 },			/* 1 ms left: 1 s */
	{ 60000, 60, 60, 60 },			/* the next one */
	{ 1700000000123ULL, 60, 1699999980, 40 },
	{ 1500, 1, 1, 1 },
	{ 2999, 3, 0, 1 },
	{ 3000, 3, 3, 3 },
	{ 4200, 3, 3, 2 },
	{ 86399999, 86400, 0, 1 },
	{ 1700000000000ULL, 86400, 1699920000, 6400 },
};

START_TEST(test_window_start_and_seconds_to_reset)
{
	uint64_t	start;
	int		reset;

	ratelimit_window(windows[_i].now_ms, windows[_i].window, &start,
	    &reset);
	ck_assert_msg(start == windows[_i].start, "case %d: start %llu", _i,
	    (unsigned long long)start);
	ck_assert_msg(reset == windows[_i].reset, "case %d: reset %d", _i,
	    reset);
}
END_TEST

/* ---- exemptions ---- */

static const struct {
	const char	*method;
	const char	*path;
	bool		 exempt;
} exemptions[] = {
	{ "GET", "/health", true },
	{ "HEAD", "/health", true },
	{ "GET", "/health/ready", true },
	{ "GET", "/health/cache", true },
	{ "GET", "/metrics", true },
	{ "GET", "/.well-known/oauth-protected-resource", true },
	{ "GET", "/.well-known/ai-plugin.json", true },
	{ "OPTIONS", "/v1/anime/search", true },
	{ "OPTIONS", "/mcp", true },
	{ "GET", "/", false },
	{ "POST", "/mcp", false },
	{ "GET", "/v1/anime/search", false },
	{ "GET", "/healthy", false },
	{ "GET", "/metricsx", false },
	{ "GET", "/.well-known", false },
	{ "GET", "/v1/health", false },
	{ "POST", "/oauth/token", false },
};

START_TEST(test_exempt_paths_and_methods)
{
	ck_assert_msg(ratelimit_exempt(exemptions[_i].method,
	    exemptions[_i].path) == exemptions[_i].exempt, "%s %s",
	    exemptions[_i].method, exemptions[_i].path);
}
END_TEST

/* ---- client identities ---- */

static void
client(const char *addr, const char *secret, char out[RATELIMIT_CLIENT_LEN])
{
	unsigned char	key[CRYPTO_KEY_LEN];

	ck_assert(ratelimit_derive_key(secret, key));
	ck_assert_msg(ratelimit_client(addr, key, out), "%s refused", addr);
}

/* Addresses that are one client (same) or two (!same). */
static const struct {
	const char	*a;
	const char	*b;
	bool		 same;
} pairs[] = {
	{ "192.0.2.1", "192.0.2.1", true },
	{ "192.0.2.1", "192.0.2.2", false },
	{ "192.0.2.1", "198.51.100.1", false },
	/* IPv6: one client per /64. */
	{ "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true },
	{ "2001:db8:1:2::1", "2001:0db8:0001:0002:0:0:0:1", true },
	{ "2001:db8:1:2::1", "2001:db8:1:3::1", false },
	{ "2001:db8:1:2::1", "2001:db9:1:2::1", false },
	{ "[2001:db8::1]", "2001:db8::2", true },
	{ "fe80::1%eth0", "fe80::2", true },
	/* An IPv4-mapped address is the IPv4 client. */
	{ "::ffff:192.0.2.1", "192.0.2.1", true },
	{ "::ffff:192.0.2.1", "::ffff:192.0.2.2", false },
	/* Families never collide: 1.2.3.4 vs 0102:0304::/64. */
	{ "1.2.3.4", "102:304::", false },
	{ "::1", "127.0.0.1", false },
};

START_TEST(test_client_groups_ipv4_by_address_and_ipv6_by_64)
{
	char	a[RATELIMIT_CLIENT_LEN], b[RATELIMIT_CLIENT_LEN];

	client(pairs[_i].a, SECRET, a);
	client(pairs[_i].b, SECRET, b);
	ck_assert_msg((strcmp(a, b) == 0) == pairs[_i].same, "%s vs %s",
	    pairs[_i].a, pairs[_i].b);
}
END_TEST

static const char *not_addresses[] = {
	"", "localhost", "192.0.2", "192.0.2.1:443", "[::1]:443", "[::1",
	"unix:/run/x.sock", "2001:db8::1::2", "999.0.0.1", " 192.0.2.1",
	"192.0.2.1 ",
	"0123456789012345678901234567890123456789012345678901234567890123",
};

START_TEST(test_client_refuses_what_is_not_an_address)
{
	unsigned char	key[CRYPTO_KEY_LEN];
	char		out[RATELIMIT_CLIENT_LEN];

	ck_assert(ratelimit_derive_key(SECRET, key));
	ck_assert_msg(!ratelimit_client(not_addresses[_i], key, out), "%s",
	    not_addresses[_i]);
	ck_assert_str_eq(out, "");
	if (_i == 0)
		ck_assert(!ratelimit_client(NULL, key, out));
}
END_TEST

/* Does haystack contain needle, ignoring case? */
static bool
contains(const char *haystack, const char *needle)
{
	return (strcasestr(haystack, needle) != NULL);
}

START_TEST(test_key_holds_no_raw_address)
{
	static const struct {
		const char	*addr;
		const char	*forms[4];	/* what must not appear */
	} cases[] = {
		{ "192.0.2.123", { "192.0.2.123", "c000027b", "192.0.2",
		    NULL } },
		{ "2001:db8:aaaa:bbbb::1", { "2001:db8", "20010db8",
		    "aaaabbbb", "aaaa:bbbb" } },
	};
	char	id[RATELIMIT_CLIENT_LEN], key[CACHE_KEY_LEN];
	size_t	i, j;

	for (i = 0; i < nitems(cases); i++) {
		client(cases[i].addr, SECRET, id);
		ck_assert_int_eq(strlen(id), RATELIMIT_CLIENT_LEN - 1);
		for (j = 0; id[j] != '\0'; j++)
			ck_assert(isxdigit((unsigned char)id[j]));
		ratelimit_cache_key(key, 60, 1699999980, id);
		ck_assert_int_lt(strlen(key), CACHE_KEY_LEN - 1);
		ck_assert_msg(strncmp(key, "ag:" CACHE_KEY_VERSION
		    ":rl:60:1699999980:", 23) == 0, "%s", key);
		ck_assert_str_eq(key + 23, id);
		for (j = 0; j < nitems(cases[i].forms) &&
		    cases[i].forms[j] != NULL; j++)
			ck_assert_msg(!contains(key, cases[i].forms[j]),
			    "%s in %s", cases[i].forms[j], key);
	}
}
END_TEST

START_TEST(test_client_hash_is_keyed_by_the_secret)
{
	char	a[RATELIMIT_CLIENT_LEN], b[RATELIMIT_CLIENT_LEN];
	char	c[RATELIMIT_CLIENT_LEN], d[RATELIMIT_CLIENT_LEN];
	unsigned char	digest[CRYPTO_HASH_LEN], group[5] = { 4, 192, 0, 2, 1 };
	char	plain[2 * CRYPTO_HASH_LEN + 1];

	client("192.0.2.1", SECRET, a);
	client("192.0.2.1", "another secret", b);
	client("192.0.2.1", "", c);
	client("192.0.2.1", NULL, d);
	ck_assert_str_ne(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_str_eq(c, d);		/* development: one fixed key */
	/* Not a plain hash of the address either. */
	crypto_sha256(group, sizeof group, digest);
	util_hex(digest, sizeof digest, plain);
	ck_assert(strncmp(plain, a, RATELIMIT_CLIENT_LEN - 1) != 0);
	crypto_sha256("192.0.2.1", 9, digest);
	util_hex(digest, sizeof digest, plain);
	ck_assert(strncmp(plain, a, RATELIMIT_CLIENT_LEN - 1) != 0);
}
END_TEST

/* ---- the per-worker table ---- */

static const struct {
	int	limit;
	int	workers;
	int	local;
} shares[] = {
	{ 120, 4, 30 }, { 5, 2, 3 }, { 7, 1, 7 }, { 1, 4, 1 }, { 3, 4, 1 },
	{ 5, 0, 5 }, { 1000000, 3, 333334 },
};

START_TEST(test_local_limit_is_the_workers_share_rounded_up)
{
	ck_assert_int_eq(ratelimit_local_limit(shares[_i].limit,
	    shares[_i].workers), shares[_i].local);
}
END_TEST

START_TEST(test_table_counts_per_client_and_window)
{
	struct ratelimit_table	*t = ratelimit_table_create();
	const char		*a = "00000000000000aa00000000000000aa";
	const char		*b = "00000000000000bb00000000000000bb";

	ck_assert_uint_eq(ratelimit_table_hit(t, a, 60), 1);
	ck_assert_uint_eq(ratelimit_table_hit(t, a, 60), 2);
	ck_assert_uint_eq(ratelimit_table_hit(t, b, 60), 1);
	ck_assert_uint_eq(ratelimit_table_hit(t, a, 60), 3);
	/* A new window starts from one. */
	ck_assert_uint_eq(ratelimit_table_hit(t, a, 120), 1);
	ck_assert_uint_eq(ratelimit_table_hit(t, b, 120), 1);
	ck_assert_uint_eq(ratelimit_table_hit(t, b, 120), 2);
	ratelimit_table_free(t);
	ratelimit_table_free(NULL);
}
END_TEST

START_TEST(test_table_full_set_forgets_the_lightest_client)
{
	struct ratelimit_table	*t = ratelimit_table_create();
	char			 ids[RATELIMIT_TABLE_WAYS + 1][RATELIMIT_CLIENT_LEN];
	int			 i, j;

	/* Clients of one set: ids equal modulo the number of sets. */
	for (i = 0; i <= RATELIMIT_TABLE_WAYS; i++)
		snprintf(ids[i], sizeof ids[i], "%016llx%016x",
		    (unsigned long long)(7 + (uint64_t)i *
		    RATELIMIT_TABLE_SETS), 0);
	/* Client i makes 10 + i requests: client 0 is the lightest. */
	for (i = 0; i < RATELIMIT_TABLE_WAYS; i++) {
		for (j = 0; j < 10 + i; j++)
			(void)ratelimit_table_hit(t, ids[i], 60);
	}
	ck_assert_uint_eq(ratelimit_table_hit(t, ids[RATELIMIT_TABLE_WAYS],
	    60), 1);
	for (i = 1; i < RATELIMIT_TABLE_WAYS; i++)
		ck_assert_uint_eq(ratelimit_table_hit(t, ids[i], 60),
		    (uint64_t)(10 + i + 1));
	/* Client 0 was forgotten: it starts again. */
	ck_assert_uint_eq(ratelimit_table_hit(t, ids[0], 60), 1);
	/* Entries of an older window are reused before live ones. */
	ck_assert_uint_eq(ratelimit_table_hit(t, ids[1], 120), 1);
	ck_assert_uint_eq(ratelimit_table_hit(t, ids[2], 120), 1);
	ratelimit_table_free(t);
}
END_TEST

/* ---- through the request pipeline (no memcached: the per-worker table) ---- */

static int	log_file = -1;

static void
setup(void)
{
	char	path[] = "/tmp/test_ratelimit.XXXXXX";
	char	*cause = NULL;

	cfg = config_create();
	ck_assert(config_set(cfg, "ENVIRONMENT", "development", &cause));
	ck_assert(config_set(cfg, "SECRET_KEY", SECRET, &cause));
	ck_assert(config_set(cfg, "MEMCACHED_SERVERS", "", &cause));
	ck_assert(config_set(cfg, "WORKERS", "1", &cause));
	ck_assert(config_set(cfg, "RATE_LIMIT_REQUESTS", "3", &cause));
	/* A day: the test never crosses a window's end. */
	ck_assert(config_set(cfg, "RATE_LIMIT_WINDOW", "86400", &cause));
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

/* One request from addr (NULL: none); caller frees with http_resp_free. */
static void
serve(struct http_resp *resp, const char *method, const char *path,
    const char *addr)
{
	char	*env[4];
	int	 n = 0, i;

	xasprintf(&env[n++], "REQUEST_METHOD=%s", method);
	xasprintf(&env[n++], "REQUEST_URI=%s", path);
	if (addr != NULL)
		xasprintf(&env[n++], "REMOTE_ADDR=%s", addr);
	env[n] = NULL;
	http_resp_init(resp);
	serve_handle(env, NULL, 0, resp, NULL, 0);
	for (i = 0; i < n; i++)
		free(env[i]);
}

/* A response header's value, or NULL; caller frees. */
static char *
header(const struct http_resp *r, const char *name)
{
	const char	*p = r->headers.data, *eol;
	size_t		 n = strlen(name);

	if (p == NULL)
		return (NULL);
	for (; (eol = strstr(p, "\r\n")) != NULL; p = eol + 2) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return (xstrndup(p + n + 2, (size_t)(eol - p - n - 2)));
	}
	return (NULL);
}

static void
assert_header(const struct http_resp *r, const char *name, const char *want)
{
	char	*v = header(r, name);

	ck_assert_msg(v != NULL, "no %s header", name);
	ck_assert_str_eq(v, want);
	free(v);
}

static void
assert_no_rate_headers(const struct http_resp *r)
{
	static const char *const names[] = {
		"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
		"Retry-After"
	};
	char	*v;
	size_t	 i;

	for (i = 0; i < nitems(names); i++) {
		v = header(r, names[i]);
		ck_assert_msg(v == NULL, "%s: %s", names[i], v);
	}
}

/* 1..window seconds, as text. */
static int
assert_reset(const struct http_resp *r, const char *name)
{
	char		*v = header(r, name);
	long long	 n;

	ck_assert_msg(v != NULL, "no %s header", name);
	ck_assert(util_parse_ll(v, &n));
	ck_assert_int_ge(n, 1);
	ck_assert_int_le(n, 86400);
	free(v);
	return ((int)n);
}

START_TEST(test_fourth_request_of_three_is_429_with_retry_after)
{
	struct http_resp	 r;
	struct json_object	*o, *err, *v;
	char			 want[8];
	int			 i;

	for (i = 0; i < 3; i++) {
		serve(&r, "GET", "/", "192.0.2.10");
		ck_assert_int_eq(r.status, 200);
		assert_header(&r, "RateLimit-Limit", "3");
		snprintf(want, sizeof want, "%d", 2 - i);
		assert_header(&r, "RateLimit-Remaining", want);
		(void)assert_reset(&r, "RateLimit-Reset");
		ck_assert_ptr_null(header(&r, "Retry-After"));
		http_resp_free(&r);
	}
	serve(&r, "GET", "/", "192.0.2.10");
	ck_assert_int_eq(r.status, 429);
	ck_assert_str_eq(r.content_type, "application/json");
	ck_assert_int_eq(assert_reset(&r, "Retry-After"),
	    assert_reset(&r, "RateLimit-Reset"));
	assert_header(&r, "RateLimit-Remaining", "0");
	o = json_tokener_parse(r.body.data);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "error", &err));
	ck_assert(json_object_object_get_ex(err, "code", &v));
	ck_assert_str_eq(json_object_get_string(v), "rate_limited");
	ck_assert(json_object_object_get_ex(err, "message", &v));
	ck_assert_int_gt(json_object_get_string_len(v), 0);
	json_object_put(o);
	http_resp_free(&r);

	/* POST /mcp is counted by its handler, on budgets of its own. */
	serve(&r, "POST", "/mcp", "192.0.2.10");
	ck_assert_int_ne(r.status, 429);
	http_resp_free(&r);
}
END_TEST

/* One POST /mcp (2025-11-25) from addr; caller frees with http_resp_free. */
static void
serve_mcp(struct http_resp *resp, const char *addr, const char *body)
{
	char	*env[6];
	int	 i;

	env[0] = xstrdup("REQUEST_METHOD=POST");
	env[1] = xstrdup("REQUEST_URI=/mcp");
	env[2] = xstrdup("CONTENT_TYPE=application/json");
	env[3] = xstrdup("HTTP_MCP_PROTOCOL_VERSION=2025-11-25");
	xasprintf(&env[4], "REMOTE_ADDR=%s", addr);
	env[5] = NULL;
	http_resp_init(resp);
	serve_handle(env, body, strlen(body), resp, NULL, 0);
	for (i = 0; i < 5; i++)
		free(env[i]);
}

/* A tools/call that fails validation at once (no AniList), as subject. */
#define MCP_CALL(meta)							\
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","	\
	"\"params\":{\"name\":\"get_anime\",\"arguments\":{\"id\":0}"	\
	meta "}}"
#define MCP_SUBJECT(s)	",\"_meta\":{\"openai/subject\":\"" s "\"}"

/*
 * The "anilist-gpt/error" code of a tools/call result (NULL: none) and its
 * retry_after (0: none). Caller frees.
 */
static char *
mcp_error_code(const struct http_resp *r, int *retry_after)
{
	struct json_object	*o, *e = NULL, *v;
	char			*code = NULL;

	*retry_after = 0;
	o = json_tokener_parse(r->body.data);
	ck_assert_ptr_nonnull(o);
	if (json_object_object_get_ex(o, "result", &v) &&
	    json_object_object_get_ex(v, "_meta", &v))
		json_object_object_get_ex(v, "anilist-gpt/error", &e);
	if (e != NULL && json_object_object_get_ex(e, "code", &v))
		code = xstrdup(json_object_get_string(v));
	if (e != NULL && json_object_object_get_ex(e, "retry_after", &v))
		*retry_after = json_object_get_int(v);
	json_object_put(o);
	return (code);
}

START_TEST(test_mcp_users_share_an_address_but_not_a_budget)
{
	struct http_resp	 r;
	struct json_object	*o, *v;
	char			*code;
	int			 i, retry = 0;

	ck_assert(config_set(cfg, "RATE_LIMIT_MCP_ADDRESS_REQUESTS", "8",
	    NULL));
	/* alice (a host's per-user id) has 3 of her own; the 4th waits. */
	for (i = 0; i < 4; i++) {
		serve_mcp(&r, "192.0.2.20", MCP_CALL(MCP_SUBJECT("v1/alice")));
		ck_assert_int_eq(r.status, 200);
		assert_header(&r, "RateLimit-Limit", "3");
		code = mcp_error_code(&r, &retry);
		ck_assert_str_eq(code, i < 3 ? "invalid_argument" :
		    "rate_limited");
		free(code);
		http_resp_free(&r);
	}
	ck_assert_int_ge(retry, 1);
	/* bob, from the same address, still has his. */
	for (i = 0; i < 3; i++) {
		serve_mcp(&r, "192.0.2.20", MCP_CALL(MCP_SUBJECT("v1/bob")));
		code = mcp_error_code(&r, &retry);
		ck_assert_str_eq(code, "invalid_argument");
		free(code);
		http_resp_free(&r);
	}
	/* Without an id only the address counts: 8 in all, then waits. */
	serve_mcp(&r, "192.0.2.20", MCP_CALL(""));
	assert_header(&r, "RateLimit-Limit", "8");
	assert_header(&r, "RateLimit-Remaining", "0");
	code = mcp_error_code(&r, &retry);
	ck_assert_str_eq(code, "invalid_argument");
	free(code);
	http_resp_free(&r);
	serve_mcp(&r, "192.0.2.20", MCP_CALL(MCP_SUBJECT("v1/carol")));
	ck_assert_int_eq(r.status, 200);
	(void)assert_reset(&r, "Retry-After");
	code = mcp_error_code(&r, &retry);
	ck_assert_str_eq(code, "rate_limited");
	free(code);
	http_resp_free(&r);
	/* Other methods: HTTP 429 with a JSON-RPC error. */
	serve_mcp(&r, "192.0.2.20", "{\"jsonrpc\":\"2.0\",\"id\":7,"
	    "\"method\":\"tools/list\"}");
	ck_assert_int_eq(r.status, 429);
	(void)assert_reset(&r, "Retry-After");
	o = json_tokener_parse(r.body.data);
	ck_assert(json_object_object_get_ex(o, "error", &v));
	ck_assert(json_object_object_get_ex(v, "code", &v));
	ck_assert_int_eq(json_object_get_int(v), -32000);
	json_object_put(o);
	http_resp_free(&r);
	/* A POST that serves no request still counts: notifications too. */
	serve_mcp(&r, "192.0.2.20", "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}");
	ck_assert_int_eq(r.status, 429);
	http_resp_free(&r);
	serve_mcp(&r, "192.0.2.21", "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"notifications/initialized\"}");
	ck_assert_int_eq(r.status, 202);
	assert_header(&r, "RateLimit-Remaining", "7");
	http_resp_free(&r);
	/* REST from that address has its own budget. */
	serve(&r, "GET", "/", "192.0.2.20");
	ck_assert_int_eq(r.status, 200);
	assert_header(&r, "RateLimit-Remaining", "2");
	http_resp_free(&r);
}
END_TEST

START_TEST(test_limited_client_leaves_others_and_exempt_paths_alone)
{
	struct http_resp	r;
	int			i;

	for (i = 0; i < 4; i++) {
		serve(&r, "GET", "/", "2001:db8:5:6::1");
		http_resp_free(&r);
	}
	/* The same /64 is the same client. */
	serve(&r, "GET", "/", "2001:db8:5:6::99");
	ck_assert_int_eq(r.status, 429);
	http_resp_free(&r);
	/* Another /64 is not. */
	serve(&r, "GET", "/", "2001:db8:5:7::1");
	ck_assert_int_eq(r.status, 200);
	assert_header(&r, "RateLimit-Remaining", "2");
	http_resp_free(&r);
	/* Exempt paths answer, without rate-limit headers. */
	serve(&r, "GET", "/health", "2001:db8:5:6::1");
	ck_assert_int_eq(r.status, 200);
	assert_no_rate_headers(&r);
	http_resp_free(&r);
	serve(&r, "GET", "/.well-known/oauth-protected-resource",
	    "2001:db8:5:6::1");
	ck_assert_int_ne(r.status, 429);
	assert_no_rate_headers(&r);
	http_resp_free(&r);
	serve(&r, "OPTIONS", "/", "2001:db8:5:6::1");
	ck_assert_int_eq(r.status, 204);
	assert_no_rate_headers(&r);
	http_resp_free(&r);
}
END_TEST

START_TEST(test_share_of_each_worker_without_memcached)
{
	struct http_resp	r;
	char			*cause = NULL;
	int			 i;

	/* 5 per window over 2 workers: this worker allows 3. */
	ck_assert(config_set(cfg, "RATE_LIMIT_REQUESTS", "5", &cause));
	ck_assert(config_set(cfg, "WORKERS", "2", &cause));
	for (i = 0; i < 3; i++) {
		serve(&r, "GET", "/", "198.51.100.20");
		ck_assert_int_eq(r.status, 200);
		assert_header(&r, "RateLimit-Limit", "3");
		http_resp_free(&r);
	}
	serve(&r, "GET", "/", "198.51.100.20");
	ck_assert_int_eq(r.status, 429);
	http_resp_free(&r);
}
END_TEST

START_TEST(test_zero_requests_disables_the_limit)
{
	struct http_resp	r;
	char			*cause = NULL;
	int			 i;

	ck_assert(config_set(cfg, "RATE_LIMIT_REQUESTS", "0", &cause));
	for (i = 0; i < 10; i++) {
		serve(&r, "GET", "/", "192.0.2.30");
		ck_assert_int_eq(r.status, 200);
		assert_no_rate_headers(&r);
		http_resp_free(&r);
	}
}
END_TEST

START_TEST(test_no_client_address_is_let_through)
{
	struct http_resp	r;
	int			i;

	for (i = 0; i < 5; i++) {
		serve(&r, "GET", "/", i % 2 == 0 ? NULL : "not-an-ip");
		ck_assert_int_eq(r.status, 200);
		assert_no_rate_headers(&r);
		http_resp_free(&r);
	}
}
END_TEST

/* memcached refuses: fail open at once, no headers. */
START_TEST(test_unreachable_memcached_fails_open_fast)
{
	struct http_resp	r;
	char			*cause = NULL;
	uint64_t		 t0;
	int			 i;

	ck_assert(config_set(cfg, "MEMCACHED_SERVERS", "127.0.0.1:1",
	    &cause));
	ck_assert(config_set(cfg, "RATE_LIMIT_REQUESTS", "1", &cause));
	t0 = util_mono_ms();
	for (i = 0; i < 5; i++) {
		serve(&r, "GET", "/", "192.0.2.40");
		ck_assert_int_eq(r.status, 200);
		assert_no_rate_headers(&r);
		http_resp_free(&r);
	}
	ck_assert_uint_lt(util_mono_ms() - t0, 5 * 100 + 500);
	cache_thread_cleanup();
}
END_TEST

static Suite *
ratelimit_suite(void)
{
	Suite	*s = suite_create("ratelimit");
	TCase	*tc = tcase_create("pure");
	TCase	*tp = tcase_create("serve");

	tcase_add_loop_test(tc, test_window_start_and_seconds_to_reset, 0,
	    (int)nitems(windows));
	tcase_add_loop_test(tc, test_exempt_paths_and_methods, 0,
	    (int)nitems(exemptions));
	tcase_add_loop_test(tc,
	    test_client_groups_ipv4_by_address_and_ipv6_by_64, 0,
	    (int)nitems(pairs));
	tcase_add_loop_test(tc, test_client_refuses_what_is_not_an_address, 0,
	    (int)nitems(not_addresses));
	tcase_add_test(tc, test_key_holds_no_raw_address);
	tcase_add_test(tc, test_client_hash_is_keyed_by_the_secret);
	tcase_add_loop_test(tc,
	    test_local_limit_is_the_workers_share_rounded_up, 0,
	    (int)nitems(shares));
	tcase_add_test(tc, test_table_counts_per_client_and_window);
	tcase_add_test(tc, test_table_full_set_forgets_the_lightest_client);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tp, setup, teardown);
	tcase_add_test(tp, test_fourth_request_of_three_is_429_with_retry_after);
	tcase_add_test(tp,
	    test_limited_client_leaves_others_and_exempt_paths_alone);
	tcase_add_test(tp, test_mcp_users_share_an_address_but_not_a_budget);
	tcase_add_test(tp, test_share_of_each_worker_without_memcached);
	tcase_add_test(tp, test_zero_requests_disables_the_limit);
	tcase_add_test(tp, test_no_client_address_is_let_through);
	tcase_add_test(tp, test_unreachable_memcached_fails_open_fast);
	suite_add_tcase(s, tp);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(ratelimit_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
