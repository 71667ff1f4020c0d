/* test_openapi.c: the OpenAPI document from the registry and the route table, and the plugin manifest. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "handlers.h"
#include "openapi.h"
#include "router.h"
#include "tool.h"
#include "util.h"

#define URL	"https://agpt.example"

static struct json_object *
get(struct json_object *o, const char *key)
{
	struct json_object	*v = NULL;

	if (o != NULL)
		json_object_object_get_ex(o, key, &v);
	return (v);
}

static const char *
get_str(struct json_object *o, const char *key)
{
	struct json_object	*v = get(o, key);

	return (v != NULL ? json_object_get_string(v) : NULL);
}

static bool
json_equal(struct json_object *a, const struct json_object *b)
{
	return (json_object_equal(a, (struct json_object *)b) != 0);
}

START_TEST(test_document_covers_every_tool_route)
{
	struct json_object	*doc, *paths, *item, *op, *ids, *p;
	const struct tool	*t;
	char			 method[8];
	size_t			 i, j, ntool_routes = 0;

	doc = openapi_document(routes, routes_count, handle_tool, URL);
	ck_assert_str_eq(get_str(doc, "openapi"), "3.1.0");
	ck_assert_str_eq(get_str(json_object_array_get_idx(get(doc,
	    "servers"), 0), "url"), URL);
	ck_assert_ptr_nonnull(strstr(get_str(get(doc, "info"), "title"),
	    "unofficial"));
	paths = get(doc, "paths");
	ids = json_object_new_object();
	for (i = 0; i < routes_count; i++) {
		if (routes[i].fn != handle_tool)
			continue;
		ntool_routes++;
		t = tool_find(routes[i].arg);
		ck_assert_ptr_nonnull(t);
		item = get(paths, routes[i].pattern);
		ck_assert_msg(item != NULL, "%s missing", routes[i].pattern);
		for (j = 0; routes[i].method[j] != '\0'; j++)
			method[j] = (char)(routes[i].method[j] | 0x20);
		method[j] = '\0';
		op = get(item, method);
		ck_assert_ptr_nonnull(op);
		/* unique operationIds */
		ck_assert_msg(!json_object_object_get_ex(ids,
		    get_str(op, "operationId"), NULL), "duplicate %s",
		    get_str(op, "operationId"));
		json_object_object_add(ids, get_str(op, "operationId"), NULL);
		ck_assert(json_equal(get(get(get(get(get(op, "responses"),
		    "200"), "content"), "application/json"), "schema"),
		    tool_output_schema(t)));
		ck_assert_str_eq(get_str(get(get(op, "responses"), "400"),
		    "$ref"), "#/components/responses/BadRequest");
		ck_assert_int_le((int)strlen(get_str(op, "description")), 300);
		if (t->auth == TOOL_AUTH_NONE) {
			ck_assert_ptr_null(get(op, "security"));
			ck_assert_ptr_null(get(get(op, "responses"), "401"));
		} else
			ck_assert_ptr_nonnull(get(op, "security"));
		/* a path capture is a required path parameter */
		if (strchr(routes[i].pattern, '{') != NULL) {
			p = json_object_array_get_idx(get(op, "parameters"), 0);
			bool found = false;
			for (j = 0; j < json_object_array_length(get(op,
			    "parameters")); j++) {
				p = json_object_array_get_idx(get(op,
				    "parameters"), j);
				if (strcmp(get_str(p, "in"), "path") == 0) {
					found = true;
					ck_assert(json_object_get_boolean(
					    get(p, "required")));
					ck_assert_ptr_nonnull(strstr(
					    routes[i].pattern, get_str(p,
					    "name")));
				}
			}
			ck_assert(found);
		}
	}
	ck_assert_int_gt((int)ntool_routes, 0);
	ck_assert_int_eq(json_object_object_length(ids), (int)ntool_routes);
	json_object_put(ids);
	json_object_put(doc);
}
END_TEST

static void dummy_tool_fn(struct http_req *r, struct http_resp *s,
    const void *a) { (void)r; (void)s; (void)a; }

START_TEST(test_same_tool_on_two_routes_gets_two_ids_and_a_body_for_post)
{
	static const struct route table[] = {
		{ "GET", "/a", dummy_tool_fn, "get_anime" },
		{ "GET", "/a/{id}", dummy_tool_fn, "get_anime" },
		{ "POST", "/a/{id}/x", dummy_tool_fn, "get_anime" },
		{ "GET", "/b", dummy_tool_fn, "no_such_tool" },
		{ "GET", "/c", handle_tool, "get_anime" },
	};
	struct json_object	*doc, *paths, *op, *schema;

	doc = openapi_document(table, nitems(table), dummy_tool_fn, URL);
	paths = get(doc, "paths");
	ck_assert_int_eq(json_object_object_length(paths), 3);
	ck_assert_str_eq(get_str(get(get(paths, "/a"), "get"), "operationId"),
	    "get_anime");
	ck_assert_str_eq(get_str(get(get(paths, "/a/{id}"), "get"),
	    "operationId"), "get_anime_by_id");
	op = get(get(paths, "/a/{id}/x"), "post");
	ck_assert_str_eq(get_str(op, "operationId"), "get_anime_by_id_2");
	schema = get(get(get(get(get(op, "requestBody"), "content"),
	    "application/json"), "schema"), "properties");
	ck_assert_ptr_nonnull(schema);
	ck_assert_ptr_null(get(schema, "id"));	/* id is in the path */
	json_object_put(doc);
}
END_TEST

START_TEST(test_oauth_scheme_and_manifest_agree)
{
	struct json_object	*doc, *code, *m, *auth;

	doc = openapi_document(routes, routes_count, handle_tool, URL);
	code = get(get(get(get(get(doc, "components"), "securitySchemes"),
	    OPENAPI_OAUTH_SCHEME), "flows"), "authorizationCode");
	ck_assert_str_eq(get_str(code, "authorizationUrl"),
	    URL "/oauth/authorize");
	ck_assert_str_eq(get_str(code, "tokenUrl"), URL "/oauth/token");
	m = openapi_plugin_manifest(URL);
	auth = get(m, "auth");
	ck_assert_str_eq(get_str(auth, "client_url"),
	    get_str(code, "authorizationUrl"));
	ck_assert_str_eq(get_str(auth, "authorization_url"),
	    get_str(code, "tokenUrl"));
	ck_assert_str_eq(get_str(get(m, "api"), "url"), URL "/openapi.json");
	ck_assert_str_eq(get_str(m, "legal_info_url"), URL "/privacy");
	ck_assert_ptr_nonnull(strstr(get_str(m, "name_for_human"),
	    "unofficial"));
	ck_assert_int_le((int)strlen(get_str(m, "name_for_human")), 20);
	json_object_put(m);
	json_object_put(doc);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("openapi");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	char	*cause = NULL;
	int	 failed;

	if (!tool_init(&cause)) {
		fprintf(stderr, "tool_init: %s\n", cause);
		return (1);
	}
	tcase_add_test(tc, test_document_covers_every_tool_route);
	tcase_add_test(tc,
	    test_same_tool_on_two_routes_gets_two_ids_and_a_body_for_post);
	tcase_add_test(tc, test_oauth_scheme_and_manifest_agree);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tool_shutdown();
	return (failed == 0 ? 0 : 1);
}
