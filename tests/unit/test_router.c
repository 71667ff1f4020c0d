/* test_router.c: route matching, captures, 404, 405 + Allow, HEAD on GET routes. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "http.h"
#include "router.h"
#include "util.h"

/* The handler that ran last and what it saw. */
static const char	*called;
static char		 seen_id[64];
static char		 seen_list[64];

static void
record(struct http_req *req, struct http_resp *resp, const void *arg)
{
	const char	*v;

	called = arg;
	seen_id[0] = seen_list[0] = '\0';
	if ((v = http_req_path_arg(req, "id")) != NULL)
		snprintf(seen_id, sizeof seen_id, "%s", v);
	if ((v = http_req_path_arg(req, "list")) != NULL)
		snprintf(seen_list, sizeof seen_list, "%s", v);
	http_resp_json(resp, 200, json_object_new_object());
}

static const struct route table[] = {
	{ "GET", "/", record, "root" },
	{ "GET", "/items", record, "items.list" },
	{ "POST", "/items", record, "items.create" },
	{ "GET", "/items/search", record, "items.search" },
	{ "GET", "/items/{id}", record, "items.get" },
	{ "DELETE", "/items/{id}", record, "items.delete" },
	{ "GET", "/items/{id}/characters", record, "items.characters" },
	{ "GET", "/users/{id}/lists/{list}", record, "lists.get" },
	{ "POST", "/mcp", record, "mcp" },
};

/* Dispatch method + raw URI through the table into resp; returns status. */
static int
dispatch(const char *method, const char *uri, struct http_resp *resp,
    struct http_req *req)
{
	char	*env[3], *m, *u, *cause = NULL;

	xasprintf(&m, "REQUEST_METHOD=%s", method);
	xasprintf(&u, "REQUEST_URI=%s", uri);
	env[0] = m;
	env[1] = u;
	env[2] = NULL;
	ck_assert_int_eq(http_req_init(req, env, &cause), 0);
	called = NULL;
	http_resp_init(resp);
	router_dispatch(table, nitems(table), req, resp);
	req->env = NULL;
	free(m);
	free(u);
	return (resp->status);
}

/* The value of a response header, or NULL; caller frees. */
static char *
header(const struct http_resp *resp, const char *name)
{
	const char	*p = resp->headers.data, *eol;
	size_t		 n = strlen(name);

	if (p == NULL)
		return (NULL);
	for (; *p != '\0'; p = eol + 2) {
		eol = strstr(p, "\r\n");
		if (eol == NULL)
			break;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return (xstrndup(p + n + 2, (size_t)(eol - p - n - 2)));
	}
	return (NULL);
}

static const char *
error_code(const struct http_resp *resp)
{
	static char		 code[64];
	struct json_object	*o, *err, *c;

	o = json_tokener_parse(resp->body.data);
	ck_assert_msg(o != NULL, "not JSON: %s", resp->body.data);
	ck_assert(json_object_object_get_ex(o, "error", &err));
	ck_assert(json_object_object_get_ex(err, "code", &c));
	snprintf(code, sizeof code, "%s", json_object_get_string(c));
	ck_assert(json_object_object_get_ex(err, "message", &c));
	json_object_put(o);
	return (code);
}

/* Which handler (or status) a method + path reaches. */
static const struct {
	const char	*method;
	const char	*uri;
	int		 status;
	const char	*handler;
	const char	*route;
} match_cases[] = {
	{ "GET", "/", 200, "root", "/" },
	{ "GET", "/items", 200, "items.list", "/items" },
	{ "POST", "/items", 200, "items.create", "/items" },
	{ "GET", "/items/search", 200, "items.search", "/items/search" },
	{ "GET", "/items/42", 200, "items.get", "/items/{id}" },
	{ "DELETE", "/items/42", 200, "items.delete", "/items/{id}" },
	{ "GET", "/items/42/characters", 200, "items.characters",
	    "/items/{id}/characters" },
	{ "GET", "/users/7/lists/watching", 200, "lists.get",
	    "/users/{id}/lists/{list}" },
	{ "HEAD", "/items/42", 200, "items.get", "/items/{id}" },
	{ "GET", "/nope", 404, NULL, "unmatched" },
	{ "GET", "/items/", 404, NULL, "unmatched" },
	{ "GET", "/items//characters", 404, NULL, "unmatched" },
	{ "GET", "/items/42/staff", 404, NULL, "unmatched" },
	{ "GET", "/items/42/characters/x", 404, NULL, "unmatched" },
	{ "GET", "/Items", 404, NULL, "unmatched" },
	{ "GET", "//", 404, NULL, "unmatched" },
	{ "GET", "/users/7/lists/watching/", 404, NULL, "unmatched" },
	{ "PUT", "/items", 405, NULL, "method_not_allowed" },
	{ "GET", "/mcp", 405, NULL, "method_not_allowed" },
	{ "HEAD", "/mcp", 405, NULL, "method_not_allowed" },
	{ "POST", "/items/42", 405, NULL, "method_not_allowed" },
};

START_TEST(test_dispatch_reaches_the_right_handler)
{
	struct http_req		req;
	struct http_resp	resp;
	int			status;

	status = dispatch(match_cases[_i].method, match_cases[_i].uri, &resp,
	    &req);
	ck_assert_msg(status == match_cases[_i].status, "%s %s: %d, want %d",
	    match_cases[_i].method, match_cases[_i].uri, status,
	    match_cases[_i].status);
	if (match_cases[_i].handler != NULL)
		ck_assert_str_eq(called, match_cases[_i].handler);
	else
		ck_assert_ptr_null(called);
	ck_assert_str_eq(req.route, match_cases[_i].route);
	http_req_free(&req);
	http_resp_free(&resp);
}
END_TEST

START_TEST(test_404_is_json)
{
	struct http_req		req;
	struct http_resp	resp;

	ck_assert_int_eq(dispatch("GET", "/missing", &resp, &req), 404);
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_str_eq(error_code(&resp), "not_found");
	ck_assert_ptr_null(header(&resp, "Allow"));
	http_req_free(&req);
	http_resp_free(&resp);
}
END_TEST

/* Wrong method: 405 JSON and Allow lists every method of the path. */
static const struct {
	const char	*method;
	const char	*uri;
	const char	*allow;
} allow_cases[] = {
	{ "PUT", "/items", "GET, POST, HEAD, OPTIONS" },
	{ "PATCH", "/items/9", "GET, DELETE, HEAD, OPTIONS" },
	{ "GET", "/mcp", "POST, OPTIONS" },
	{ "DELETE", "/", "GET, HEAD, OPTIONS" },
	/* /items/{id} matches too: DELETE /items/search reaches it. */
	{ "BREW", "/items/search", "GET, DELETE, HEAD, OPTIONS" },
};

START_TEST(test_405_has_allow)
{
	struct http_req		 req;
	struct http_resp	 resp;
	char			*allow;

	ck_assert_int_eq(dispatch(allow_cases[_i].method, allow_cases[_i].uri,
	    &resp, &req), 405);
	ck_assert_str_eq(error_code(&resp), "method_not_allowed");
	allow = header(&resp, "Allow");
	ck_assert_ptr_nonnull(allow);
	ck_assert_str_eq(allow, allow_cases[_i].allow);
	ck_assert_ptr_nonnull(strstr(resp.body.data, allow_cases[_i].method));
	free(allow);
	http_req_free(&req);
	http_resp_free(&resp);
}
END_TEST

START_TEST(test_allow_for_unknown_path_is_empty)
{
	char	*allow = router_allow(table, nitems(table), "/nope");

	ck_assert_str_eq(allow, "");
	free(allow);
}
END_TEST

START_TEST(test_head_on_get_route_sets_head_only)
{
	struct http_req		req;
	struct http_resp	resp;

	ck_assert_int_eq(dispatch("HEAD", "/items", &resp, &req), 200);
	ck_assert(resp.head_only);
	http_req_free(&req);
	http_resp_free(&resp);
	ck_assert_int_eq(dispatch("GET", "/items", &resp, &req), 200);
	ck_assert(!resp.head_only);
	http_req_free(&req);
	http_resp_free(&resp);
}
END_TEST

START_TEST(test_captures_are_named_and_decoded)
{
	struct http_req		req;
	struct http_resp	resp;

	ck_assert_int_eq(dispatch("GET", "/users/a%20b/lists/PLANNING", &resp,
	    &req), 200);
	ck_assert_str_eq(called, "lists.get");
	ck_assert_str_eq(seen_id, "a b");
	ck_assert_str_eq(seen_list, "PLANNING");
	ck_assert_uint_eq(req.npath_args, 2);
	ck_assert_ptr_null(http_req_path_arg(&req, "other"));
	http_req_free(&req);
	http_resp_free(&resp);
}
END_TEST

/*
 * A pattern that captures and then fails later (/items/{id}/characters vs
 * /items/42/staff), followed by patterns that capture again: no capture may
 * be left behind or leak (ASan builds check the leak).
 */
START_TEST(test_partial_match_leaves_no_captures)
{
	struct http_req		req;
	struct http_resp	resp;

	ck_assert_int_eq(dispatch("GET", "/items/42/staff", &resp, &req), 404);
	ck_assert_uint_eq(req.npath_args, 0);
	http_req_free(&req);
	http_resp_free(&resp);
	ck_assert_int_eq(dispatch("POST", "/items/42", &resp, &req), 405);
	ck_assert_uint_eq(req.npath_args, 0);
	http_req_free(&req);
	http_resp_free(&resp);
}
END_TEST

START_TEST(test_service_routes_are_well_formed)
{
	size_t	i;
	bool	root = false, health = false, ready = false;

	ck_assert_uint_gt(routes_count, 0);
	for (i = 0; i < routes_count; i++) {
		ck_assert_msg(routes[i].pattern[0] == '/', "%s",
		    routes[i].pattern);
		ck_assert_ptr_nonnull(routes[i].fn);
		ck_assert_msg(strcmp(routes[i].method, "GET") == 0 ||
		    strcmp(routes[i].method, "POST") == 0 ||
		    strcmp(routes[i].method, "PUT") == 0 ||
		    strcmp(routes[i].method, "PATCH") == 0 ||
		    strcmp(routes[i].method, "DELETE") == 0,
		    "%s %s", routes[i].method, routes[i].pattern);
		if (strcmp(routes[i].method, "GET") != 0)
			continue;
		root |= strcmp(routes[i].pattern, "/") == 0;
		health |= strcmp(routes[i].pattern, "/health") == 0;
		ready |= strcmp(routes[i].pattern, "/health/ready") == 0;
	}
	ck_assert(root && health && ready);
}
END_TEST

static Suite *
router_suite(void)
{
	Suite	*s = suite_create("router");
	TCase	*tc = tcase_create("router");

	tcase_add_loop_test(tc, test_dispatch_reaches_the_right_handler, 0,
	    (int)nitems(match_cases));
	tcase_add_test(tc, test_404_is_json);
	tcase_add_loop_test(tc, test_405_has_allow, 0,
	    (int)nitems(allow_cases));
	tcase_add_test(tc, test_allow_for_unknown_path_is_empty);
	tcase_add_test(tc, test_head_on_get_route_sets_head_only);
	tcase_add_test(tc, test_captures_are_named_and_decoded);
	tcase_add_test(tc, test_partial_match_leaves_no_captures);
	tcase_add_test(tc, test_service_routes_are_well_formed);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(router_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
