/* test_sentry.c: DSN parsing, the auth header, which responses are reported, and what events never contain. */
#include "autoconf.h"

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "sentry.h"
#include "util.h"

static void
setup(void)
{
	cfg = config_create();
	log_set_fd(open("/dev/null", O_WRONLY));
}

static void
teardown(void)
{
	config_free(cfg);
	cfg = NULL;
}

START_TEST(test_dsn_gives_envelope_url_and_keys)
{
	static const struct {
		const char	*dsn;
		const char	*url;
		const char	*key;
		const char	*secret;
	} cases[] = {
		{ "https://abc123@o1.ingest.sentry.io/42",
		  "https://o1.ingest.sentry.io/api/42/envelope/", "abc123",
		  NULL },
		{ "http://pub:sec@127.0.0.1:9000/sub/path/7",
		  "http://127.0.0.1:9000/sub/path/api/7/envelope/", "pub",
		  "sec" },
		{ "https://k@host/5/", "https://host/api/5/envelope/", "k",
		  NULL },
	};
	struct sentry_dsn	d;
	char			*cause = NULL;
	size_t			 i;

	for (i = 0; i < nitems(cases); i++) {
		ck_assert_msg(sentry_dsn_parse(cases[i].dsn, &d, &cause),
		    "%s: %s", cases[i].dsn, cause);
		ck_assert_str_eq(d.envelope_url, cases[i].url);
		ck_assert_str_eq(d.public_key, cases[i].key);
		if (cases[i].secret == NULL)
			ck_assert_ptr_null(d.secret_key);
		else
			ck_assert_str_eq(d.secret_key, cases[i].secret);
		sentry_dsn_clear(&d);
	}
}
END_TEST

START_TEST(test_dsn_rejects_malformed)
{
	static const char *bad[] = {
		"ftp://k@host/1", "https://host/1", "https://k@host",
		"https://k@host/", "https://k@/1", "https://k@host/1?x=2",
		"https://k y@host/1", "https://@host/1", "https://k@host/a.b",
	};
	struct sentry_dsn	d;
	char			*cause;
	size_t			 i;

	for (i = 0; i < nitems(bad); i++) {
		cause = NULL;
		ck_assert_msg(!sentry_dsn_parse(bad[i], &d, &cause), "%s",
		    bad[i]);
		ck_assert_ptr_nonnull(cause);
		free(cause);
	}
}
END_TEST

START_TEST(test_config_refuses_bad_dsn_naming_the_key)
{
	char	*cause = NULL;

	ck_assert(!config_set(cfg, "SENTRY_DSN", "https://host/1", &cause));
	ck_assert_ptr_nonnull(strstr(cause, "SENTRY_DSN"));
	free(cause);
	ck_assert(config_set(cfg, "SENTRY_DSN", "", &cause));
	ck_assert(config_set(cfg, "SENTRY_DSN", "https://k@h/1", &cause));
}
END_TEST

START_TEST(test_auth_header_from_dsn)
{
	struct sentry_dsn	d;
	char			*cause = NULL, *h;

	ck_assert(sentry_dsn_parse("https://abc@h/1", &d, &cause));
	h = sentry_auth_header(&d, 1700000000);
	ck_assert_str_eq(h, "X-Sentry-Auth: Sentry sentry_version=7, "
	    "sentry_client=" PACKAGE "/" PACKAGE_VERSION ", "
	    "sentry_timestamp=1700000000, sentry_key=abc");
	free(h);
	sentry_dsn_clear(&d);
	ck_assert(sentry_dsn_parse("https://abc:def@h/1", &d, &cause));
	h = sentry_auth_header(&d, 1);
	ck_assert_ptr_nonnull(strstr(h, ", sentry_key=abc, sentry_secret=def"));
	free(h);
	sentry_dsn_clear(&d);
}
END_TEST

START_TEST(test_5xx_are_reported_but_readiness_503)
{
	static const struct {
		const char	*route;
		int		 status;
		bool		 want;
	} cases[] = {
		{ "/health/ready", 503, false },
		{ "/health/ready", 500, true },
		{ "/webhooks/alerts", 503, true },
		{ "/v1/anime/{id}", 502, true },
		{ "/v1/anime/{id}", 504, true },
		{ NULL, 500, true },
		{ "/v1/anime/{id}", 404, false },
		{ "/v1/anime/{id}", 429, false },
		{ "/health", 200, false },
	};
	size_t	i;

	for (i = 0; i < nitems(cases); i++)
		ck_assert_msg(sentry_wanted(cases[i].route, cases[i].status) ==
		    cases[i].want, "%zu", i);
}
END_TEST

/* The request's path, query, headers, cookies and body stay out. */
START_TEST(test_request_event_holds_no_secrets)
{
	static char e0[] = "REQUEST_METHOD=POST";
	static char e1[] = "REQUEST_URI=/v1/anime/12345?code=oauth-code-xyz";
	static char e2[] = "QUERY_STRING=code=oauth-code-xyz";
	static char e3[] = "HTTP_AUTHORIZATION=Bearer token-secret-abc";
	static char e4[] = "HTTP_COOKIE=session=cookie-secret-def";
	static char e5[] = "HTTP_X_REQUEST_ID=rid-1";
	char	*env[] = { e0, e1, e2, e3, e4, e5, NULL };
	struct http_req		 req;
	struct http_resp	 resp;
	struct json_object	*e, *tags, *v;
	const char		*text;
	char			*cause = NULL;

	ck_assert_int_eq(http_req_init(&req, env, &cause), 0);
	req.route = "/v1/anime/{id}";
	req.body = xstrdup("{\"password\":\"body-secret-ghi\"}");
	req.body_len = strlen(req.body);
	snprintf(req.request_id, sizeof req.request_id, "rid-1");
	req.log_error = "upstream answered garbage";
	http_resp_init(&resp);
	http_resp_error(&resp, 502, "upstream_error", NULL,
	    "AniList answered garbage");
	e = sentry_event_request(&req, &resp);
	text = json_object_to_json_string(e);
	ck_assert_ptr_null(strstr(text, "oauth-code-xyz"));
	ck_assert_ptr_null(strstr(text, "token-secret-abc"));
	ck_assert_ptr_null(strstr(text, "cookie-secret-def"));
	ck_assert_ptr_null(strstr(text, "body-secret-ghi"));
	ck_assert_ptr_null(strstr(text, "12345"));
	ck_assert(json_object_object_get_ex(e, "tags", &tags));
	ck_assert(json_object_object_get_ex(tags, "route", &v));
	ck_assert_str_eq(json_object_get_string(v), "/v1/anime/{id}");
	ck_assert(json_object_object_get_ex(tags, "status", &v));
	ck_assert_str_eq(json_object_get_string(v), "502");
	ck_assert(json_object_object_get_ex(tags, "error_code", &v));
	ck_assert_str_eq(json_object_get_string(v), "upstream_error");
	ck_assert(json_object_object_get_ex(tags, "request_id", &v));
	ck_assert_str_eq(json_object_get_string(v), "rid-1");
	ck_assert(json_object_object_get_ex(e, "level", &v));
	ck_assert_str_eq(json_object_get_string(v), "error");
	ck_assert(json_object_object_get_ex(e, "event_id", &v));
	ck_assert_uint_eq(strlen(json_object_get_string(v)), 32);
	json_object_put(e);
	http_resp_free(&resp);
	http_req_free(&req);
}
END_TEST

START_TEST(test_envelope_has_header_item_and_event)
{
	struct json_object	*e, *h, *item, *ev, *v, *id;
	char			*env, *l1, *l2, *l3, *save;
	size_t			 len;

	e = sentry_event_crash(4242, 11, 0);
	env = sentry_envelope(e, &len);
	ck_assert_uint_eq(len, strlen(env));
	ck_assert_int_eq(env[len - 1], '\n');
	l1 = strtok_r(env, "\n", &save);
	l2 = strtok_r(NULL, "\n", &save);
	l3 = strtok_r(NULL, "\n", &save);
	ck_assert_ptr_null(strtok_r(NULL, "\n", &save));
	h = json_tokener_parse(l1);
	item = json_tokener_parse(l2);
	ev = json_tokener_parse(l3);
	ck_assert(json_object_object_get_ex(item, "type", &v));
	ck_assert_str_eq(json_object_get_string(v), "event");
	ck_assert(json_object_object_get_ex(item, "length", &v));
	ck_assert_int_eq(json_object_get_int(v), (int)strlen(l3));
	ck_assert(json_object_object_get_ex(h, "event_id", &v));
	ck_assert(json_object_object_get_ex(ev, "event_id", &id));
	ck_assert_str_eq(json_object_get_string(v), json_object_get_string(id));
	ck_assert(json_object_object_get_ex(ev, "level", &v));
	ck_assert_str_eq(json_object_get_string(v), "fatal");
	ck_assert(json_object_object_get_ex(ev, "message", &v));
	ck_assert_ptr_nonnull(strstr(json_object_to_json_string(v),
	    "worker 4242 killed by signal 11"));
	json_object_put(h);
	json_object_put(item);
	json_object_put(ev);
	json_object_put(e);
	free(env);
}
END_TEST

static Suite *
sentry_suite(void)
{
	Suite	*s = suite_create("sentry");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dsn_gives_envelope_url_and_keys);
	tcase_add_test(tc, test_dsn_rejects_malformed);
	tcase_add_test(tc, test_config_refuses_bad_dsn_naming_the_key);
	tcase_add_test(tc, test_auth_header_from_dsn);
	tcase_add_test(tc, test_5xx_are_reported_but_readiness_503);
	tcase_add_test(tc, test_request_event_holds_no_secrets);
	tcase_add_test(tc, test_envelope_has_header_item_and_event);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(sentry_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
