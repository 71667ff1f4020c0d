/* test_auth.c: cookie parsing, origin checks, redirect URI rules, JWT expiry, OAuth parameters. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "http.h"
#include "oauth_anilist.h"
#include "oauth_server.h"
#include "util.h"

static const struct {
	const char	*header, *name, *want;
} cookie_cases[] = {
	{ "__Host-agpt_session=abc", "__Host-agpt_session", "abc" },
	{ "a=1; __Host-agpt_session=abc; b=2", "__Host-agpt_session", "abc" },
	{ "a=1;__Host-agpt_session=abc", "__Host-agpt_session", "abc" },
	{ "__Host-agpt_session=\"abc\"", "__Host-agpt_session", "abc" },
	{ "__Host-agpt_session=abc ; b=2", "__Host-agpt_session", "abc" },
	{ "x__Host-agpt_session=abc", "__Host-agpt_session", NULL },
	{ "__Host-agpt_sessionx=abc", "__Host-agpt_session", NULL },
	{ "__Host-agpt_session", "__Host-agpt_session", NULL },
	{ "", "__Host-agpt_session", NULL },
	{ "__Host-agpt_session=", "__Host-agpt_session", "" },
	{ "a=1; __Host-agpt_session=first; __Host-agpt_session=second",
	  "__Host-agpt_session", "first" },
	{ "__Host-agpt_login=s1; __Host-agpt_session=s2", "__Host-agpt_login",
	  "s1" },
};

START_TEST(test_cookie_value_finds_exact_name)
{
	char	*v = auth_cookie_value(cookie_cases[_i].header,
		    cookie_cases[_i].name);

	if (cookie_cases[_i].want == NULL)
		ck_assert_ptr_null(v);
	else {
		ck_assert_ptr_nonnull(v);
		ck_assert_str_eq(v, cookie_cases[_i].want);
	}
	free(v);
}
END_TEST

static const struct {
	const char	*public_url, *origin;
	bool		 same;
} origin_cases[] = {
	{ "https://localhost:8443", "https://localhost:8443", true },
	{ "https://localhost:8443/", "https://localhost:8443", true },
	{ "https://anilist-gpt.fly.dev", "https://anilist-gpt.fly.dev", true },
	{ "https://anilist-gpt.fly.dev", "https://ANILIST-GPT.fly.dev", true },
	{ "https://anilist-gpt.fly.dev", "https://anilist-gpt.fly.dev:443",
	  true },
	{ "https://localhost:8443", "https://localhost:8444", false },
	{ "https://localhost:8443", "http://localhost:8443", false },
	{ "https://anilist-gpt.fly.dev", "https://evil.example", false },
	{ "https://anilist-gpt.fly.dev",
	  "https://anilist-gpt.fly.dev.evil.example", false },
	{ "https://anilist-gpt.fly.dev", "null", false },
	{ "https://anilist-gpt.fly.dev", "", false },
};

START_TEST(test_origin_is_self_compares_scheme_host_port)
{
	ck_assert(auth_origin_is_self(origin_cases[_i].public_url,
	    origin_cases[_i].origin) == origin_cases[_i].same);
}
END_TEST

/* A request with the given method and optional Origin header. */
static bool
origin_allowed(const char *method, const char *origin)
{
	char			 m[64], o[256];
	char			*env[4];
	struct http_req		 req;
	char			*cause = NULL;
	bool			 ok;

	snprintf(m, sizeof m, "REQUEST_METHOD=%s", method);
	env[0] = m;
	env[1] = (char *)"REQUEST_URI=/v1/me";
	env[2] = NULL;
	if (origin != NULL) {
		snprintf(o, sizeof o, "HTTP_ORIGIN=%s", origin);
		env[2] = o;
	}
	env[3] = NULL;
	ck_assert_int_eq(http_req_init(&req, env, &cause), 0);
	ok = auth_origin_allowed(&req);
	http_req_free(&req);
	return (ok);
}

START_TEST(test_cookie_requests_refuse_foreign_origins_when_changing_state)
{
	ck_assert(origin_allowed("GET", "https://evil.example"));
	ck_assert(origin_allowed("HEAD", "https://evil.example"));
	ck_assert(origin_allowed("POST", NULL));
	ck_assert(origin_allowed("POST", "https://localhost:8443"));
	ck_assert(origin_allowed("DELETE", "https://localhost:8443"));
	ck_assert(!origin_allowed("POST", "https://evil.example"));
	ck_assert(!origin_allowed("PUT", "https://evil.example"));
	ck_assert(!origin_allowed("DELETE", "https://evil.example"));
	ck_assert(!origin_allowed("PATCH", "null"));
	/* CORS_ORIGINS do not get to use the cookie either. */
	ck_assert(!origin_allowed("POST", "https://chatgpt.com"));
}
END_TEST

static const struct {
	const char	*uri;
	bool		 ok;
} redirect_cases[] = {
	{ "https://chatgpt.com/connector_platform_oauth_redirect", true },
	{ "https://example.com:8443/cb?x=1", true },
	{ "http://127.0.0.1:33418/callback", true },
	{ "http://localhost:6274/oauth/callback", true },
	{ "http://[::1]:8080/cb", true },
	{ "http://127.0.0.1/cb", true },
	{ "http://example.com/cb", false },
	{ "http://127.0.0.1.evil.example/cb", false },
	{ "http://localhost.evil.example/cb", false },
	{ "https://chatgpt.com/cb#frag", false },
	{ "https://user:pw@chatgpt.com/cb", false },
	{ "http://evil.example@127.0.0.1/cb", false },
	{ "javascript:alert(1)", false },
	{ "data:text/html,hi", false },
	{ "com.example.app:/cb", false },
	{ "https:///cb", false },
	{ "https://", false },
	{ "https://exa mple.com/cb", false },
	{ "https://example.com/c b", false },
	{ "https://example.com:/cb", false },
	{ "https://example.com:99999999/cb", false },
	{ "https://exa\"mple.com/cb", false },
	{ "", false },
	{ "/relative/cb", false },
};

START_TEST(test_redirect_uri_must_be_https_or_loopback)
{
	char	*why = NULL;
	bool	 ok = oauth_redirect_uri_valid(redirect_cases[_i].uri, &why);

	ck_assert_msg(ok == redirect_cases[_i].ok, "%s", redirect_cases[_i].uri);
	ck_assert(ok || why != NULL);
	free(why);
}
END_TEST

START_TEST(test_jwt_exp_reads_the_claim)
{
	char	*payload, *jwt;
	const char *claims = "{\"aud\":\"7\",\"exp\":1893456000,\"sub\":\"1\"}";

	payload = crypto_b64url_encode(claims, strlen(claims));
	xasprintf(&jwt, "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.%s.c2ln",
	    payload);
	ck_assert_int_eq(oauth_anilist_jwt_exp(jwt), 1893456000LL);
	free(jwt);
	free(payload);
	ck_assert_int_eq(oauth_anilist_jwt_exp("not-a-jwt"), 0);
	ck_assert_int_eq(oauth_anilist_jwt_exp("a.%%%.c"), 0);
	ck_assert_int_eq(oauth_anilist_jwt_exp("a.e30.c"), 0);	/* {} */
}
END_TEST

START_TEST(test_scope_and_resource_are_ours_only)
{
	ck_assert(oauth_scope_valid(""));
	ck_assert(oauth_scope_valid("anilist"));
	ck_assert(oauth_scope_valid("anilist anilist"));
	ck_assert(!oauth_scope_valid("anilist admin"));
	ck_assert(!oauth_scope_valid("anilis"));
	ck_assert(oauth_resource_valid("https://localhost:8443"));
	ck_assert(oauth_resource_valid("https://localhost:8443/mcp"));
	ck_assert(!oauth_resource_valid("https://localhost:8443/mcpx"));
	ck_assert(!oauth_resource_valid("https://evil.example/mcp"));
	ck_assert(!oauth_resource_valid("https://localhost:84430/mcp"));
}
END_TEST

START_TEST(test_client_redirect_encodes_and_appends)
{
	char	*u;

	u = oauth_client_redirect("https://c.example/cb", "co de", NULL, NULL,
	    "s&t=1");
	ck_assert_str_eq(u, "https://c.example/cb?code=co%20de&state=s%26t%3D1"
	    "&iss=https%3A%2F%2Flocalhost%3A8443");
	free(u);
	u = oauth_client_redirect("https://c.example/cb?x=1", NULL,
	    "access_denied", "no", NULL);
	ck_assert_str_eq(u, "https://c.example/cb?x=1&error=access_denied&"
	    "error_description=no&iss=https%3A%2F%2Flocalhost%3A8443");
	free(u);
}
END_TEST

static void
setup(void)
{
	char	*cause = NULL;

	cfg = config_create();
	ck_assert(config_set(cfg, "PUBLIC_URL", "https://localhost:8443",
	    &cause));
}

static void
teardown(void)
{
	config_free(cfg);
	cfg = NULL;
}

static Suite *
auth_suite(void)
{
	Suite	*s = suite_create("auth");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_cookie_value_finds_exact_name, 0,
	    nitems(cookie_cases));
	tcase_add_loop_test(tc, test_origin_is_self_compares_scheme_host_port,
	    0, nitems(origin_cases));
	tcase_add_test(tc,
	    test_cookie_requests_refuse_foreign_origins_when_changing_state);
	tcase_add_loop_test(tc, test_redirect_uri_must_be_https_or_loopback, 0,
	    nitems(redirect_cases));
	tcase_add_test(tc, test_jwt_exp_reads_the_claim);
	tcase_add_test(tc, test_scope_and_resource_are_ours_only);
	tcase_add_test(tc, test_client_redirect_encodes_and_appends);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(auth_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
