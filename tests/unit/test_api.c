/* test_api.c: REST arguments from query strings, path captures and bodies, their 400s, and the 401/503 of user routes, without AniList. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "serve.h"
#include "tool.h"
#include "tools/tools.h"
#include "unit.h"
#include "util.h"

static void
setup(void)
{
	char	*cause = NULL;

	unit_config();
	unit_logs_quiet();
	ck_assert_msg(tool_init(&cause), "%s", cause ? cause : "");
}

static void
teardown(void)
{
	unit_logs_restore();
	unit_config_free();
}

/* GET uri through the pipeline; the parsed error object (caller puts). */
static struct json_object *
get(const char *uri, int *status)
{
	struct http_resp	 resp;
	struct json_object	*body;
	char			*env[4], rid[64];
	const char		*q = strchr(uri, '?');
	int			 n = 0, i;

	env[n++] = xstrdup("REQUEST_METHOD=GET");
	xasprintf(&env[n++], "REQUEST_URI=%s", uri);
	if (q != NULL)
		xasprintf(&env[n++], "QUERY_STRING=%s", q + 1);
	env[n] = NULL;
	http_resp_init(&resp);
	serve_handle(env, NULL, 0, &resp, rid, sizeof rid);
	*status = resp.status;
	body = json_tokener_parse(resp.body.data);
	http_resp_free(&resp);
	for (i = 0; i < n; i++)
		free(env[i]);
	return (body);
}

#define ELEVEN	"a,b,c,d,e,f,g,h,i,j,k"

static const struct {
	const char	*uri;
	const char	*field;
	const char	*message;
} cases[] = {
	{ "/v1/anime/search?year=abc", "year",
	    "year must be a whole number; got \"abc\"" },
	{ "/v1/anime/search?year=2020.5", "year", "whole number" },
	{ "/v1/anime/search?year=", "year", "whole number" },
	{ "/v1/anime/search?minimum_score=1e2", "minimum_score",
	    "whole number" },
	{ "/v1/anime/search?include_adult=maybe", "include_adult",
	    "include_adult must be true or false; got \"maybe\"" },
	{ "/v1/anime/search?foo=1", "foo", "unknown parameter \"foo\"; this "
	    "endpoint takes: query, genres, tags, season, year" },
	{ "/v1/anime/search?genre=Action", "genre", "genres" },
	{ "/v1/anime/search?page=1&page=2", "page",
	    "page takes one value; it was given more than once" },
	{ "/v1/anime/search?page[]=1", "page", "takes one value" },
	{ "/v1/anime/search?year=" "1234567890123456789012", "year",
	    "whole number" },
	/* arrays: comma-separated, repeated keys, key[] and a mix */
	{ "/v1/anime/search?genres=" ELEVEN, "genres",
	    "genres may have at most 10 items; got 11" },
	{ "/v1/anime/search?genres=a&genres=b&genres=c&genres=d&genres=e&"
	    "genres=f&genres=g&genres=h&genres=i&genres=j&genres=k", "genres",
	    "got 11" },
	{ "/v1/anime/search?genres[]=a&genres[]=b&genres[]=c&genres[]=d&"
	    "genres[]=e&genres[]=f&genres[]=g&genres[]=h&genres[]=i&"
	    "genres[]=j&genres[]=k", "genres", "got 11" },
	{ "/v1/anime/search?genres=a,b,c&genres[]=d,e&tags=x&genres=f,g,h,i,"
	    "j,k", "genres", "got 11" },
	/* empty pieces and blanks around commas are dropped: 10 genres pass */
	{ "/v1/anime/search?genres=a,,b,%20,c%20,%20d,e,f,g,h,i,j&per_page=51",
	    "per_page", "per_page must be at most 50; got 51" },
	{ "/v1/anime/search?genres=Action,%20" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxx", "genres[1]", "at most 50 bytes" },
	/* path captures */
	{ "/v1/anime/abc", "id", "id must be a whole number; got \"abc\"" },
	{ "/v1/anime/-3", "id", "id must be at least 1" },
	{ "/v1/anime/5?id=6", "id", "part of the path /v1/anime/{id}" },
	{ "/v1/anime/5?full=yes", "full", "true or false" },
	{ "/v1/characters/abc", "id", "whole number" },
	{ "/v1/characters/1?search=x", "search", "not both" },
	{ "/v1/characters", "search", "search with a name" },
	{ "/v1/airing?from=soon", "from", "a date (2026-12-07)" },
	{ "/v1/airing?from=100&to=50", "to", "after from" },
	{ "/v1/genres?full=1&full=0", "full", "more than once" },
	{ "/v1/anime/trending?media_type=anime", "media_type",
	    "one of ANIME, MANGA" },
	/* user lists: a name comes from the path only */
	{ "/v1/me/list?user_name=bob", "user_name",
	    "part of the path /v1/users/{user_name}/list" },
	{ "/v1/users/bob/list?user_name=al", "user_name", "part of the path" },
	{ "/v1/users/bob/list?foo=1", "foo", "this endpoint takes: "
	    "media_type, list_type, status, sort, page, per_page" },
	{ "/v1/users/bob/list?list_type=BOOK", "list_type", "ANIME, MANGA" },
	{ "/v1/users/bob/list?media_type=BOOK", "media_type",
	    "ANIME, MANGA" },
	{ "/v1/anime/search?media_type=NOVEL", "media_type",
	    "one of ANIME, MANGA" },
	{ "/v1/anime/5?media_type=manga", "media_type",
	    "one of ANIME, MANGA" },
	{ "/v1/users/bob/list?status=WATCHING", "status", "CURRENT" },
	{ "/v1/users/bob/list?per_page=501", "per_page", "at most 500" },
	{ "/v1/users/bob/list?sort=SCORE_ASC", "sort", "SCORE_DESC" },
	{ "/v1/users/b%20b/list", "user_name", "letters, digits" },
	{ "/v1/users/" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxx/list", "user_name", "at most 64" },
};

/*
 * method uri with an optional Authorization header and body through the
 * pipeline: the parsed body (caller puts), the status, and the
 * WWW-Authenticate header (caller frees) when www is not NULL.
 */
static struct json_object *
call(const char *method, const char *uri, const char *authz,
    const char *body, int *status, char **www)
{
	struct http_resp	 resp;
	struct json_object	*out;
	char			*env[8], rid[64];
	const char		*q = strchr(uri, '?'), *h;
	int			 n = 0, i;

	xasprintf(&env[n++], "REQUEST_METHOD=%s", method);
	xasprintf(&env[n++], "REQUEST_URI=%s", uri);
	if (q != NULL)
		xasprintf(&env[n++], "QUERY_STRING=%s", q + 1);
	if (authz != NULL)
		xasprintf(&env[n++], "HTTP_AUTHORIZATION=%s", authz);
	if (body != NULL) {
		xasprintf(&env[n++], "CONTENT_LENGTH=%zu", strlen(body));
		env[n++] = xstrdup("CONTENT_TYPE=application/json");
	}
	env[n] = NULL;
	http_resp_init(&resp);
	serve_handle(env, body, body != NULL ? strlen(body) : 0, &resp, rid,
	    sizeof rid);
	*status = resp.status;
	out = json_tokener_parse(resp.body.data);
	if (www != NULL) {
		*www = NULL;
		if ((h = strstr(resp.headers.data != NULL ?
		    resp.headers.data : "", "WWW-Authenticate: ")) != NULL)
			*www = xstrndup(h + 18, strcspn(h + 18, "\r\n"));
	}
	http_resp_free(&resp);
	for (i = 0; i < n; i++)
		free(env[i]);
	return (out);
}

static const char *
error_code(struct json_object *body)
{
	struct json_object	*err, *v;

	if (!json_object_object_get_ex(body, "error", &err) ||
	    !json_object_object_get_ex(err, "code", &v))
		return ("");
	return (json_object_get_string(v));
}

/*
 * Own-list routes without credentials: 401 and the RFC 9728 challenge,
 * before any argument is looked at; a public list needs none.
 */
static const struct {
	const char	*method;
	const char	*uri;
	const char	*body;
} own_routes[] = {
	{ "GET", "/v1/me/list", NULL },
	{ "GET", "/v1/me/list?status=CURRENT", NULL },
	{ "PUT", "/v1/me/list/1", "{\"status\":\"CURRENT\"}" },
	{ "PUT", "/v1/me/list/abc", "{\"status\":\"NOPE\"}" },
	{ "DELETE", "/v1/me/list/1", NULL },
};

START_TEST(test_own_list_routes_challenge_without_credentials)
{
	struct json_object	*body;
	char			*www;
	int			 status;

	body = call(own_routes[_i].method, own_routes[_i].uri, NULL,
	    own_routes[_i].body, &status, &www);
	ck_assert_msg(status == 401, "%s %s: %d", own_routes[_i].method,
	    own_routes[_i].uri, status);
	ck_assert_str_eq(error_code(body), "unauthorized");
	ck_assert_ptr_nonnull(www);
	ck_assert_msg(strncmp(www, "Bearer resource_metadata=\"", 26) == 0 &&
	    strstr(www, "/.well-known/oauth-protected-resource\"") != NULL,
	    "%s", www);
	free(www);
	json_object_put(body);
}
END_TEST

/* A bearer token with no accounts configured: 503, never anonymous. */
START_TEST(test_token_without_accounts_is_503)
{
	struct json_object	*body;
	int			 status;

	body = call("GET", "/v1/me/list", "Bearer "
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", NULL, &status, NULL);
	ck_assert_int_eq(status, 503);
	ck_assert_str_eq(error_code(body), "accounts_disabled");
	json_object_put(body);
	body = call("PUT", "/v1/me/list/1", "Bearer "
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", "{}", &status,
	    NULL);
	ck_assert_int_eq(status, 503);
	json_object_put(body);
}
END_TEST

/* AniList's validation keys name our arguments. */
START_TEST(test_anilist_validation_keys_name_arguments)
{
	ck_assert_str_eq(users_field_of("scoreRaw"), "score");
	ck_assert_str_eq(users_field_of("mediaId"), "media_id");
	ck_assert_str_eq(users_field_of("progress"), "progress");
	ck_assert_str_eq(users_field_of("status"), "status");
	ck_assert_str_eq(users_field_of("notes"), "notes");
}
END_TEST

START_TEST(test_rest_argument_errors_name_the_field)
{
	struct json_object	*body, *err, *v;
	int			 status;

	body = get(cases[_i].uri, &status);
	ck_assert_msg(status == 400, "%s: status %d", cases[_i].uri, status);
	ck_assert(json_object_object_get_ex(body, "error", &err));
	ck_assert(json_object_object_get_ex(err, "code", &v));
	ck_assert_str_eq(json_object_get_string(v), "invalid_argument");
	ck_assert_msg(json_object_object_get_ex(err, "field", &v) &&
	    strcmp(json_object_get_string(v), cases[_i].field) == 0,
	    "%s: %s", cases[_i].uri, json_object_to_json_string(err));
	ck_assert(json_object_object_get_ex(err, "message", &v));
	ck_assert_msg(strstr(json_object_get_string(v), cases[_i].message) !=
	    NULL, "%s: %s", cases[_i].uri, json_object_get_string(v));
	json_object_put(body);
}
END_TEST

/* Invalid UTF-8 never reaches a tool: the HTTP layer names the key. */
START_TEST(test_invalid_utf8_query_is_400)
{
	struct json_object	*body, *err, *v;
	int			 status;

	body = get("/v1/anime/search?query=%FF", &status);
	ck_assert_int_eq(status, 400);
	ck_assert(json_object_object_get_ex(body, "error", &err));
	ck_assert(json_object_object_get_ex(err, "message", &v));
	ck_assert_ptr_nonnull(strstr(json_object_get_string(v), "query"));
	json_object_put(body);
}
END_TEST

static Suite *
api_suite(void)
{
	Suite	*s = suite_create("api");
	TCase	*tc = tcase_create("arguments");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_rest_argument_errors_name_the_field, 0,
	    (int)nitems(cases));
	tcase_add_test(tc, test_invalid_utf8_query_is_400);
	tcase_add_loop_test(tc, test_own_list_routes_challenge_without_credentials,
	    0, (int)nitems(own_routes));
	tcase_add_test(tc, test_token_without_accounts_is_503);
	tcase_add_test(tc, test_anilist_validation_keys_name_arguments);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	int	status = unit_run(api_suite());

	tool_shutdown();
	return (status);
}
