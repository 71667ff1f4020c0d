/* test_oauth.c: the authorization server's decisions: registration validation, redirect matching, client names, PKCE, code and refresh rules. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "crypto.h"
#include "oauth_server.h"
#include "util.h"

/* SHA-256 of the verifier in base64url, computed independently. */
#define VERIFIER	"dBjftJeZ4CVP-mJ92K9qJ7y0X1Umw4h0T7Fj3Fqa2Nw"
#define CHALLENGE	"D2BVJABZLS90UVZyNOhbSTG2Ug7LSfHmMf0Hrkm_3UI"

/* Registration of a JSON text: its status, *error (static copy) set. */
static int
register_json(const char *text, char *error, size_t len)
{
	struct json_object	*meta = json_tokener_parse(text), *out = NULL;
	char			*err = NULL, *desc = NULL;
	int			 status;

	status = oauth_register(meta, NULL, &out, &err, &desc);
	snprintf(error, len, "%s", err != NULL ? err : "");
	if (status == 400)
		ck_assert_ptr_nonnull(desc);
	json_object_put(out);
	json_object_put(meta);
	free(err);
	free(desc);
	return (status);
}

static const struct {
	const char	*meta;
	const char	*error;		/* NULL: valid (503 without a database) */
} register_cases[] = {
	{ "{\"redirect_uris\":[\"https://ok.example/cb\"]}", NULL },
	{ "{\"redirect_uris\":[\"http://127.0.0.1:65535/cb\"],"
	  "\"token_endpoint_auth_method\":\"none\"}", NULL },
	{ "{\"redirect_uris\":[\"http://127.0.0.1:65536/cb\"]}",
	  "invalid_redirect_uri" },
	{ "{\"redirect_uris\":[\"https://ok.example:99999/cb\"]}",
	  "invalid_redirect_uri" },
	{ "{\"redirect_uris\":[]}", "invalid_redirect_uri" },
	{ "{\"redirect_uris\":\"https://ok.example/cb\"}",
	  "invalid_redirect_uri" },
	{ "{}", "invalid_redirect_uri" },
	{ "[]", "invalid_client_metadata" },
	{ "{\"redirect_uris\":[\"https://ok.example/cb\"],"
	  "\"token_endpoint_auth_method\":\"private_key_jwt\"}",
	  "invalid_client_metadata" },
	{ "{\"redirect_uris\":[\"https://ok.example/cb\"],"
	  "\"grant_types\":[\"implicit\"]}", "invalid_client_metadata" },
	{ "{\"redirect_uris\":[\"https://ok.example/cb\"],"
	  "\"response_types\":[\"token\"]}", "invalid_client_metadata" },
	{ "{\"redirect_uris\":[\"https://ok.example/cb\"],"
	  "\"client_name\":\"Chat\\u202eGPT\"}", "invalid_client_metadata" },
	{ "{\"redirect_uris\":[\"https://ok.example/cb\"],"
	  "\"client_name\":\"x\\u0000y\"}", "invalid_client_metadata" },
	{ "{\"redirect_uris\":[\"https://ok.example/cb\\u0000x\"]}",
	  "invalid_redirect_uri" },
	{ "{\"redirect_uris\":[\"https://ok.example/cb\"],"
	  "\"client_name\":42}", "invalid_client_metadata" },
};

START_TEST(test_registration_validates_metadata)
{
	char	error[64];
	int	status = register_json(register_cases[_i].meta, error,
		    sizeof error);

	if (register_cases[_i].error == NULL)
		ck_assert_msg(status == 503, "%s: %d %s",
		    register_cases[_i].meta, status, error);
	else {
		ck_assert_msg(status == 400, "%s: %d", register_cases[_i].meta,
		    status);
		ck_assert_str_eq(error, register_cases[_i].error);
	}
}
END_TEST

static const struct {
	const char	*registered, *given;
	bool		 match;
} match_cases[] = {
	{ "https://a.example/cb", "https://a.example/cb", true },
	{ "https://a.example/cb", "https://a.example/cb/", false },
	{ "https://a.example/cb", "https://A.example/cb", false },
	{ "https://a.example:8443/cb", "https://a.example:9443/cb", false },
	{ "http://127.0.0.1:4000/cb", "http://127.0.0.1:5555/cb", true },
	{ "http://127.0.0.1:4000/cb", "http://127.0.0.1/cb", true },
	{ "http://127.0.0.1/cb?x=1", "http://127.0.0.1:9/cb?x=1", true },
	{ "http://[::1]:4000/cb", "http://[::1]:1/cb", true },
	{ "http://127.0.0.1:4000/cb", "http://[::1]:4000/cb", false },
	{ "http://127.0.0.1:4000/cb", "http://127.0.0.1:5555/other", false },
	{ "http://127.0.0.1:4000/cb", "http://127.0.0.1:5555/cb/", false },
	{ "http://127.0.0.1:4000/cb", "http://127.0.0.10:4000/cb", false },
	{ "http://127.0.0.1:4000/cb", "http://127.0.0.1.evil.example/cb",
	  false },
	{ "http://localhost:4000/cb", "http://localhost:5555/cb", false },
	{ "https://127.0.0.1:4000/cb", "https://127.0.0.1:5555/cb", false },
};

START_TEST(test_redirect_matching_is_exact_but_for_loopback_ports)
{
	ck_assert_msg(oauth_redirect_matches(match_cases[_i].registered,
	    match_cases[_i].given) == match_cases[_i].match, "%s vs %s",
	    match_cases[_i].registered, match_cases[_i].given);
}
END_TEST

static const struct {
	const char	*name;
	bool		 ok;
} name_cases[] = {
	{ "ChatGPT", true },
	{ "Claude Desktop", true },
	{ "\xe3\x82\xa2\xe3\x83\x8b\xe3\x83\xa1 client", true },	/* kana */
	{ "caf\xc3\xa9", true },
	{ "", false },
	{ "tab\there", false },
	{ "del\x7f", false },
	{ "c1\xc2\x85", false },			/* U+0085 */
	{ "Chat\xe2\x80\xaeGPT", false },		/* U+202E */
	{ "Chat\xe2\x80\x8bGPT", false },		/* U+200B */
	{ "x\xe2\x81\xa6y", false },			/* U+2066 */
	{ "soft\xc2\xadhyphen", false },		/* U+00AD */
	{ "bom\xef\xbb\xbf", false },			/* U+FEFF */
	{ "tag\xf3\xa0\x80\x81", false },		/* U+E0001 */
	{ "bad\xff", false },
};

START_TEST(test_client_names_refuse_invisible_characters)
{
	ck_assert_msg(oauth_client_name_valid(name_cases[_i].name) ==
	    name_cases[_i].ok, "case %d", _i);
}
END_TEST

START_TEST(test_client_name_length_is_bounded)
{
	char	name[202];

	memset(name, 'n', sizeof name - 1);
	name[201] = '\0';
	ck_assert(!oauth_client_name_valid(name));
	name[200] = '\0';
	ck_assert(oauth_client_name_valid(name));
}
END_TEST

START_TEST(test_pkce_s256_only_with_well_formed_values)
{
	ck_assert(crypto_pkce_verifier_valid(VERIFIER));
	ck_assert(crypto_pkce_challenge_valid(CHALLENGE));
	ck_assert(crypto_pkce_s256_matches(VERIFIER, CHALLENGE));
	ck_assert(!crypto_pkce_s256_matches(VERIFIER "x", CHALLENGE));
	ck_assert(!crypto_pkce_s256_matches(CHALLENGE, CHALLENGE));
	ck_assert(!crypto_pkce_verifier_valid("short"));
	ck_assert(!crypto_pkce_verifier_valid("a b" VERIFIER));
	ck_assert(!crypto_pkce_challenge_valid("short"));
	ck_assert(!crypto_pkce_challenge_valid(CHALLENGE "A"));
}
END_TEST

/* A code presented as it was issued: tokens may be issued. */
static struct oauth_code_facts
good_code(void)
{
	struct oauth_code_facts	f = {
		.live = true,
		.code_client = "c1", .client = "c1",
		.code_redirect = "https://a.example/cb",
		.redirect = "https://a.example/cb",
		.challenge = CHALLENGE, .verifier = VERIFIER,
		.code_resource = "https://localhost:8443/mcp",
		.resource = NULL,
	};

	return (f);
}

START_TEST(test_code_rules)
{
	struct oauth_code_facts	 f;
	const char		*error;

	f = good_code();
	ck_assert_ptr_null(oauth_code_refusal(&f, &error));
	ck_assert_ptr_null(error);
	f.resource = "https://localhost:8443/mcp";
	ck_assert_ptr_null(oauth_code_refusal(&f, &error));

	f = good_code();
	f.live = false;
	ck_assert_ptr_nonnull(strstr(oauth_code_refusal(&f, &error),
	    "expired"));
	ck_assert_str_eq(error, "invalid_grant");
	f = good_code();
	f.client = "c2";
	ck_assert_ptr_nonnull(strstr(oauth_code_refusal(&f, &error),
	    "another client"));
	f = good_code();
	f.redirect = "https://a.example/cb2";
	ck_assert_ptr_nonnull(strstr(oauth_code_refusal(&f, &error),
	    "redirect_uri"));
	f = good_code();
	f.verifier = VERIFIER "x";
	ck_assert_ptr_nonnull(strstr(oauth_code_refusal(&f, &error),
	    "code_verifier"));
	ck_assert_str_eq(error, "invalid_grant");
	f = good_code();
	f.resource = "https://evil.example/mcp";
	ck_assert_ptr_nonnull(oauth_code_refusal(&f, &error));
	ck_assert_str_eq(error, "invalid_target");
	f = good_code();
	f.resource = "https://localhost:8443/";
	ck_assert_ptr_nonnull(oauth_code_refusal(&f, &error));
	ck_assert_str_eq(error, "invalid_target");
}
END_TEST

START_TEST(test_refresh_rules)
{
	struct oauth_refresh_facts f = { .found = true, .token_client = "c1",
	    .client = "c1", .live = true };

	ck_assert_int_eq(oauth_refresh_verdict(&f), OAUTH_REFRESH_OK);
	f.used = true;
	ck_assert_int_eq(oauth_refresh_verdict(&f), OAUTH_REFRESH_REPLAYED);
	f.live = false;		/* a replay revokes even when expired */
	ck_assert_int_eq(oauth_refresh_verdict(&f), OAUTH_REFRESH_REPLAYED);
	f.used = false;
	ck_assert_int_eq(oauth_refresh_verdict(&f), OAUTH_REFRESH_EXPIRED);
	f.revoked = true;
	ck_assert_int_eq(oauth_refresh_verdict(&f), OAUTH_REFRESH_REVOKED);
	f.client = "c2";	/* another client's token is unknown to it */
	ck_assert_int_eq(oauth_refresh_verdict(&f), OAUTH_REFRESH_UNKNOWN);
	f.client = "c1";
	f.token_client = NULL;
	ck_assert_int_eq(oauth_refresh_verdict(&f), OAUTH_REFRESH_UNKNOWN);
	f.found = false;
	ck_assert_int_eq(oauth_refresh_verdict(&f), OAUTH_REFRESH_UNKNOWN);
}
END_TEST

START_TEST(test_client_authenticates_only_as_registered)
{
	static const char *const methods[] = { "none", "client_secret_post",
	    "client_secret_basic" };
	size_t	i, j;

	for (i = 0; i < nitems(methods); i++) {
		for (j = 0; j < nitems(methods); j++)
			ck_assert(oauth_auth_method_allowed(methods[i],
			    methods[j]) == (i == j));
	}
}
END_TEST

static void
setup(void)
{
	char	*cause = NULL;

	cfg = config_create();
	ck_assert(config_set(cfg, "PUBLIC_URL", "https://localhost:8443",
	    &cause));
	ck_assert(config_set(cfg, "DATABASE_URL", "", &cause));
}

static void
teardown(void)
{
	config_free(cfg);
	cfg = NULL;
}

static Suite *
oauth_suite(void)
{
	Suite	*s = suite_create("oauth");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_registration_validates_metadata, 0,
	    nitems(register_cases));
	tcase_add_loop_test(tc,
	    test_redirect_matching_is_exact_but_for_loopback_ports, 0,
	    nitems(match_cases));
	tcase_add_loop_test(tc, test_client_names_refuse_invisible_characters,
	    0, nitems(name_cases));
	tcase_add_test(tc, test_client_name_length_is_bounded);
	tcase_add_test(tc, test_pkce_s256_only_with_well_formed_values);
	tcase_add_test(tc, test_code_rules);
	tcase_add_test(tc, test_refresh_rules);
	tcase_add_test(tc, test_client_authenticates_only_as_registered);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(oauth_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
