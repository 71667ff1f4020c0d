/* test_tool.c: the tool registry, the JSON-Schema validator and tool_invoke's argument errors. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "config.h"
#include "handlers.h"
#include "router.h"
#include "schema.h"
#include "tool.h"
#include "tools/tools.h"
#include "util.h"

/* A schema with every keyword the validator knows. */
static const char schema_text[] =
	"{\"type\":\"object\",\"additionalProperties\":false,"
	"\"required\":[\"id\"],\"properties\":{"
	"\"id\":{\"type\":\"integer\",\"minimum\":1},"
	"\"query\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":5},"
	"\"ratio\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
	"\"flag\":{\"type\":\"boolean\",\"default\":false},"
	"\"season\":{\"type\":\"string\",\"enum\":[\"WINTER\",\"SPRING\"]},"
	"\"level\":{\"type\":\"integer\",\"enum\":[1,2,3]},"
	"\"page\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,"
	"\"default\":1},"
	"\"genres\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":3,"
	"\"items\":{\"type\":\"string\",\"maxLength\":6}},"
	"\"range\":{\"type\":\"object\",\"additionalProperties\":false,"
	"\"required\":[\"from\"],\"properties\":{"
	"\"from\":{\"type\":\"integer\"},\"to\":{\"type\":\"integer\"}}},"
	"\"note\":{\"type\":[\"string\",\"null\"]}"
	"}}";

static const struct {
	const char	*args;
	const char	*field;		/* NULL: valid */
	const char	*message;	/* substring of the message */
	const char	*after;		/* args after defaults, when valid */
} cases[] = {
	/* valid; defaults filled, given values kept */
	{ "{\"id\":1}", NULL, NULL, "{\"id\":1,\"flag\":false,\"page\":1}" },
	{ "{\"id\":7,\"page\":3,\"flag\":true}", NULL, NULL,
	    "{\"id\":7,\"page\":3,\"flag\":true}" },
	{ "{\"id\":2.0}", NULL, NULL, NULL },
	{ "{\"id\":1,\"ratio\":0.5,\"ratio2\":1}", "ratio2",
	    "unknown argument \"ratio2\"", NULL },
	{ "{\"id\":1,\"query\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}", "query",
	    "at most 5 bytes long; got 6 bytes", NULL },
	{ "{\"id\":1,\"query\":\"abcde\"}", NULL, NULL, NULL },
	{ "{\"id\":1,\"season\":\"SPRING\",\"level\":2}", NULL, NULL, NULL },
	{ "{\"id\":1,\"genres\":[\"Action\",\"Drama\"]}", NULL, NULL, NULL },
	{ "{\"id\":1,\"range\":{\"from\":1,\"to\":2}}", NULL, NULL, NULL },
	{ "{\"id\":1,\"note\":null}", NULL, NULL,
	    "{\"id\":1,\"note\":null,\"flag\":false,\"page\":1}" },
	/* optional null: treated as absent, default filled */
	{ "{\"id\":1,\"page\":null}", NULL, NULL,
	    "{\"id\":1,\"page\":1,\"flag\":false}" },
	/* type */
	{ "{\"id\":\"5\"}", "id", "id must be an integer; got \"5\"", NULL },
	{ "{\"id\":1.5}", "id", "id must be an integer; got 1.5", NULL },
	{ "{\"id\":1,\"ratio\":\"x\"}", "ratio", "must be a number", NULL },
	{ "{\"id\":1,\"flag\":\"true\"}", "flag",
	    "flag must be a boolean (true or false); got \"true\"", NULL },
	{ "{\"id\":1,\"query\":5}", "query", "query must be a string; got 5",
	    NULL },
	{ "{\"id\":1,\"genres\":\"Action\"}", "genres",
	    "genres must be an array", NULL },
	{ "{\"id\":1,\"range\":[1]}", "range", "range must be an object",
	    NULL },
	{ "{\"id\":1,\"note\":3}", "note", "a string or null", NULL },
	{ "[1,2]", NULL, "arguments must be an object", NULL },
	/* enum */
	{ "{\"id\":1,\"season\":\"AUTUMN\"}", "season",
	    "season must be one of WINTER, SPRING; got \"AUTUMN\"", NULL },
	{ "{\"id\":1,\"season\":\"winter\"}", "season", "one of", NULL },
	{ "{\"id\":1,\"level\":4}", "level", "level must be one of 1, 2, 3",
	    NULL },
	/* minimum / maximum */
	{ "{\"id\":0}", "id", "id must be at least 1; got 0", NULL },
	{ "{\"id\":1,\"page\":101}", "page", "page must be at most 100; got 101",
	    NULL },
	{ "{\"id\":1,\"ratio\":1.5}", "ratio", "at most 1; got 1.5", NULL },
	{ "{\"id\":1,\"ratio\":-0.1}", "ratio", "at least 0", NULL },
	/* minLength / maxLength in bytes, UTF-8 */
	{ "{\"id\":1,\"query\":\"\"}", "query", "query must not be empty",
	    NULL },
	{ "{\"id\":1,\"query\":\"abcdef\"}", "query",
	    "query must be at most 5 bytes long; got 6 bytes", NULL },
	{ "{\"id\":1,\"query\":\"a\xff\"}", "query",
	    "query is not valid UTF-8", NULL },
	{ "{\"id\":1,\"query\":\"\xc3\"}", "query", "not valid UTF-8", NULL },
	/* minItems / maxItems / items */
	{ "{\"id\":1,\"genres\":[]}", "genres", "at least 1 item", NULL },
	{ "{\"id\":1,\"genres\":[\"a\",\"b\",\"c\",\"d\"]}", "genres",
	    "genres may have at most 3 items; got 4", NULL },
	{ "{\"id\":1,\"genres\":[\"Action\",7]}", "genres[1]",
	    "genres[1] must be a string", NULL },
	{ "{\"id\":1,\"genres\":[\"Action\",\"Romance!\"]}", "genres[1]",
	    "at most 6 bytes", NULL },
	/* required, nested paths */
	{ "{}", "id", "id is required", NULL },
	{ "{\"page\":2}", "id", "id is required", NULL },
	{ "{\"id\":1,\"range\":{}}", "range.from", "range.from is required",
	    NULL },
	{ "{\"id\":1,\"range\":{\"from\":\"x\"}}", "range.from",
	    "range.from must be an integer", NULL },
	{ "{\"id\":1,\"range\":{\"from\":1,\"x\":1}}", "range.x",
	    "unknown property \"range.x\"", NULL },
	/* additionalProperties: the message lists what is allowed */
	{ "{\"id\":1,\"foo\":1}", "foo", "unknown argument \"foo\"; expected "
	    "one of: id, query, ratio", NULL },
	/* the first error wins: unknown, then required, then schema order */
	{ "{\"foo\":1}", "foo", "unknown argument", NULL },
	{ "{\"query\":\"toolong\"}", "id", "id is required", NULL },
	{ "{\"id\":0,\"query\":\"toolong\"}", "id", "at least 1", NULL },
	{ "{\"id\":1,\"page\":0,\"query\":\"toolong\"}", "query",
	    "at most 5 bytes", NULL },
};

START_TEST(test_validator_cases)
{
	struct json_object	*schema, *args, *want;
	struct tool_error	 err = { 0 };
	bool			 ok;

	schema = json_tokener_parse(schema_text);
	ck_assert_ptr_nonnull(schema);
	args = json_tokener_parse(cases[_i].args);
	ck_assert_msg(args != NULL, "case %d: bad JSON", _i);
	ok = schema_validate(schema, args, &err);
	if (cases[_i].field == NULL && cases[_i].message == NULL) {
		ck_assert_msg(ok, "case %d (%s): rejected: %s", _i,
		    cases[_i].args, err.message);
		if (cases[_i].after != NULL) {
			want = json_tokener_parse(cases[_i].after);
			ck_assert_msg(json_object_equal(want, args),
			    "case %d: got %s", _i,
			    json_object_to_json_string(args));
			json_object_put(want);
		}
	} else {
		ck_assert_msg(!ok, "case %d (%s): accepted", _i,
		    cases[_i].args);
		ck_assert_int_eq(err.status, 400);
		ck_assert_str_eq(err.code, "invalid_argument");
		if (cases[_i].field != NULL)
			ck_assert_msg(err.field != NULL &&
			    strcmp(err.field, cases[_i].field) == 0,
			    "case %d: field %s, want %s", _i,
			    err.field ? err.field : "(null)",
			    cases[_i].field);
		else
			ck_assert_ptr_null(err.field);
		ck_assert_msg(strstr(err.message, cases[_i].message) != NULL,
		    "case %d: message \"%s\" lacks \"%s\"", _i, err.message,
		    cases[_i].message);
	}
	tool_error_clear(&err);
	json_object_put(args);
	json_object_put(schema);
}
END_TEST

/* "x-maximumYearOffset": 1 means up to next year, whatever the year. */
START_TEST(test_validator_year_bound_follows_the_clock)
{
	struct json_object	*schema, *args;
	struct tool_error	 err = { 0 };
	time_t			 now = time(NULL);
	struct tm		 tm;
	char			 text[64], want[64];

	gmtime_r(&now, &tm);
	schema = json_tokener_parse("{\"type\":\"object\",\"properties\":{"
	    "\"year\":{\"type\":\"integer\",\"minimum\":1940,"
	    "\"x-maximumYearOffset\":1}}}");
	snprintf(text, sizeof text, "{\"year\":%d}", tm.tm_year + 1900 + 1);
	args = json_tokener_parse(text);
	ck_assert(schema_validate(schema, args, &err));
	json_object_put(args);

	snprintf(text, sizeof text, "{\"year\":%d}", tm.tm_year + 1900 + 2);
	args = json_tokener_parse(text);
	ck_assert(!schema_validate(schema, args, &err));
	ck_assert_str_eq(err.field, "year");
	snprintf(want, sizeof want, "year must be at most %d",
	    tm.tm_year + 1900 + 1);
	ck_assert_msg(strstr(err.message, want) != NULL, "%s", err.message);
	tool_error_clear(&err);
	json_object_put(args);

	args = json_tokener_parse("{\"year\":1939}");
	ck_assert(!schema_validate(schema, args, &err));
	ck_assert_str_eq(err.field, "year");
	tool_error_clear(&err);
	json_object_put(args);
	json_object_put(schema);
}
END_TEST

/* A string built in C, not by the JSON parser, with a stray byte. */
START_TEST(test_validator_rejects_invalid_utf8_and_nul)
{
	struct json_object	*schema, *args;
	struct tool_error	 err = { 0 };

	schema = json_tokener_parse("{\"type\":\"object\",\"properties\":{"
	    "\"q\":{\"type\":\"string\"}}}");
	args = json_object_new_object();
	json_object_object_add(args, "q", json_object_new_string("ok\xc0\xaf"));
	ck_assert(!schema_validate(schema, args, &err));
	ck_assert_str_eq(err.field, "q");
	tool_error_clear(&err);
	json_object_object_add(args, "q",
	    json_object_new_string_len("a\0b", 3));
	ck_assert(!schema_validate(schema, args, &err));
	ck_assert_str_eq(err.field, "q");
	tool_error_clear(&err);
	json_object_put(args);
	json_object_put(schema);
}
END_TEST

START_TEST(test_registry_loads_and_finds_every_tool)
{
	char	*cause = NULL;
	size_t	 i;

	ck_assert_msg(tool_init(&cause), "%s", cause ? cause : "");
	ck_assert_uint_ge(tool_registry_count, 7);
	for (i = 0; i < tool_registry_count; i++) {
		ck_assert_ptr_eq(tool_find(tool_registry[i]->name),
		    tool_registry[i]);
		ck_assert_ptr_nonnull(tool_input_schema(tool_registry[i]));
		ck_assert_ptr_nonnull(tool_output_schema(tool_registry[i]));
	}
	ck_assert_ptr_null(tool_find("no_such_tool"));
	ck_assert_ptr_null(tool_find(NULL));
}
END_TEST

/* Every input schema closes its properties, so typos are errors. */
START_TEST(test_every_input_schema_refuses_unknown_arguments)
{
	const struct json_object	*s;
	struct json_object		*extra, *args;
	struct tool_error		 err = { 0 };
	size_t				 i;

	for (i = 0; i < tool_registry_count; i++) {
		s = tool_input_schema(tool_registry[i]);
		ck_assert_msg(json_object_object_get_ex(s,
		    "additionalProperties", &extra) &&
		    !json_object_get_boolean(extra), "%s",
		    tool_registry[i]->name);
		args = json_tokener_parse("{\"bogus\":1}");
		ck_assert(!schema_validate(s, args, &err));
		ck_assert_str_eq(err.field, "bogus");
		tool_error_clear(&err);
		json_object_put(args);
	}
}
END_TEST

/* The REST table names only registered tools. */
START_TEST(test_every_tool_route_names_a_registered_tool)
{
	size_t	i, n = 0;

	for (i = 0; i < routes_count; i++) {
		if (routes[i].fn != handle_tool)
			continue;
		ck_assert_msg(tool_find(routes[i].arg) != NULL, "%s -> %s",
		    routes[i].pattern, (const char *)routes[i].arg);
		n++;
	}
	ck_assert_uint_ge(n, 8);
}
END_TEST

START_TEST(test_schema_copy_is_independent)
{
	const struct json_object	*s = tool_input_schema(
					    tool_find("search_anime"));
	struct json_object		*copy = tool_schema_copy(s);

	ck_assert(json_object_equal((struct json_object *)s, copy));
	json_object_object_add(copy, "x", json_object_new_int(1));
	ck_assert(!json_object_equal((struct json_object *)s, copy));
	json_object_put(copy);
}
END_TEST

/* Clients see a plain maximum for the year, never our extension. */
START_TEST(test_public_schema_resolves_the_year_bound)
{
	struct json_object	*pub, *props, *year, *v;
	time_t			 now = time(NULL);
	struct tm		 tm;

	gmtime_r(&now, &tm);
	pub = tool_input_schema_public(tool_find("search_anime"));
	ck_assert(json_object_object_get_ex(pub, "properties", &props));
	ck_assert(json_object_object_get_ex(props, "year", &year));
	ck_assert(json_object_object_get_ex(year, "maximum", &v));
	ck_assert_int_eq(json_object_get_int(v), tm.tm_year + 1900 + 1);
	ck_assert(!json_object_object_get_ex(year, "x-maximumYearOffset",
	    NULL));
	ck_assert(json_object_object_get_ex(year, "minimum", &v));
	ck_assert_int_eq(json_object_get_int(v), 1940);
	/* The shared schema keeps its extension. */
	ck_assert(json_object_object_get_ex(tool_input_schema(
	    tool_find("search_anime")), "properties", &props));
	ck_assert(json_object_object_get_ex(props, "year", &year));
	ck_assert(json_object_object_get_ex(year, "x-maximumYearOffset",
	    NULL));
	json_object_put(pub);
}
END_TEST

START_TEST(test_annotations_json_names_mcp_hints)
{
	struct json_object	*a = tool_annotations_json(
				    tool_find("get_anime"));
	struct json_object	*v;

	ck_assert(json_object_object_get_ex(a, "readOnlyHint", &v) &&
	    json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(a, "destructiveHint", &v) &&
	    !json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(a, "idempotentHint", &v));
	ck_assert(json_object_object_get_ex(a, "openWorldHint", &v));
	json_object_put(a);
}
END_TEST

/*
 * Bad arguments of the discovery tools: each a 400 naming the field, through
 * tool_invoke, with no AniList call.
 */
static const struct {
	const char	*tool;
	const char	*args;
	int		 status;
	const char	*field;
	const char	*message;
} invoke_cases[] = {
	{ "search_anime", "{\"season\":\"AUTUMN\"}", 400, "season",
	    "WINTER, SPRING, SUMMER, FALL" },
	{ "search_anime", "{\"format\":\"CARTOON\"}", 400, "format", "one of" },
	{ "search_anime", "{\"status\":\"DONE\"}", 400, "status", "one of" },
	{ "search_anime", "{\"sort\":\"NEWEST\"}", 400, "sort", "one of" },
	{ "search_anime", "{\"year\":1939}", 400, "year", "at least 1940" },
	{ "search_anime", "{\"year\":99999}", 400, "year", "at most" },
	{ "search_anime", "{\"per_page\":0}", 400, "per_page", "at least 1" },
	{ "search_anime", "{\"per_page\":51}", 400, "per_page",
	    "at most 50" },
	{ "search_anime", "{\"page\":0}", 400, "page", "at least 1" },
	{ "search_anime", "{\"page\":101,\"per_page\":50}", 400, "page",
	    "at most 5000" },
	{ "search_anime", "{\"minimum_score\":101}", 400, "minimum_score",
	    "at most 100" },
	{ "search_anime", "{\"minimum_score\":-1}", 400, "minimum_score",
	    "at least 0" },
	{ "search_anime", "{\"query\":\"\"}", 400, "query", "empty" },
	{ "search_anime", "{\"sort\":\"SEARCH_MATCH\"}", 400, "sort",
	    "give query" },
	{ "search_anime", "{\"genres\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\","
	    "\"g\",\"h\",\"i\",\"j\",\"k\"]}", 400, "genres", "at most 10" },
	{ "search_anime", "{\"include_adult\":\"yes\"}", 400,
	    "include_adult", "boolean" },
	{ "search_anime", "{\"page_size\":5}", 400, "page_size",
	    "unknown argument" },
	{ "get_trending_anime", "{\"media_type\":\"NOVEL\"}", 400,
	    "media_type", "ANIME, MANGA" },
	{ "get_seasonal_anime", "{\"season\":\"fall\"}", 400, "season",
	    "one of" },
	{ "get_seasonal_anime", "{\"year\":1900}", 400, "year", "1940" },
	{ "get_anime", "{}", 400, "id", "id is required" },
	{ "get_anime", "{\"id\":0}", 400, "id", "at least 1" },
	{ "get_anime", "{\"id\":\"frieren\"}", 400, "id", "integer" },
	{ "get_character_info", "{}", 400, "search", "character id" },
	{ "get_character_info", "{\"id\":1,\"search\":\"x\"}", 400, "search",
	    "not both" },
	{ "get_character_info", "{\"search\":\"x\",\"per_page\":26}", 400,
	    "per_page", "at most 25" },
	{ "get_airing_schedule", "{\"from\":1000,\"to\":1000}", 400, "to",
	    "after from" },
	{ "get_airing_schedule", "{\"from\":2000,\"to\":1000}", 400, "to",
	    "after from" },
	{ "get_airing_schedule", "{\"from\":0,\"to\":1209601}", 400, "to",
	    "14 days" },
	{ "get_airing_schedule", "{\"from\":-1}", 400, "from", "at least 0" },
	{ "list_genres_and_tags", "{\"genre\":\"x\"}", 400, "genre",
	    "unknown argument" },
};

START_TEST(test_invoke_reports_argument_errors)
{
	const struct tool	*t = tool_find(invoke_cases[_i].tool);
	struct json_object	*args, *result;
	struct tool_call	 call;

	ck_assert_ptr_nonnull(t);
	args = json_tokener_parse(invoke_cases[_i].args);
	result = tool_invoke(t, args, NULL, &call);
	ck_assert_msg(result == NULL, "case %d accepted", _i);
	ck_assert_int_eq(call.error.status, invoke_cases[_i].status);
	ck_assert_msg(call.error.field != NULL &&
	    strcmp(call.error.field, invoke_cases[_i].field) == 0,
	    "case %d: field %s", _i, call.error.field);
	ck_assert_msg(strstr(call.error.message,
	    invoke_cases[_i].message) != NULL, "case %d: %s", _i,
	    call.error.message);
	ck_assert_int_eq(call.upstream_calls, 0);
	tool_call_free(&call);
	json_object_put(args);
}
END_TEST

static struct json_object *
test_never_called(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	ck_abort_msg("handler called without auth");
	return (NULL);
}

START_TEST(test_invoke_requires_auth_when_the_tool_does)
{
	const struct tool	 t = {
		.name = "needs_user", .title = "t", .description = "d",
		.input_schema = "{\"type\":\"object\",\"properties\":{}}",
		.output_schema = "{}", .auth = TOOL_AUTH_REQUIRED,
		.handler = test_never_called
	};
	struct tool_call	 call;

	ck_assert_ptr_null(tool_invoke(&t, NULL, NULL, &call));
	ck_assert_int_eq(call.error.status, 401);
	ck_assert_str_eq(call.error.code, "unauthorized");
	tool_call_free(&call);
}
END_TEST

START_TEST(test_invoke_refuses_non_object_arguments)
{
	struct json_object	*args = json_object_new_array();
	struct tool_call	 call;

	ck_assert_ptr_null(tool_invoke(tool_find("get_anime"), args, NULL,
	    &call));
	ck_assert_int_eq(call.error.status, 400);
	ck_assert_ptr_null(call.error.field);
	tool_call_free(&call);
	json_object_put(args);
}
END_TEST

/* A string of n copies of c; caller puts. */
static struct json_object *
fit_string(char c, size_t n)
{
	char			*s = xmalloc(n + 1);
	struct json_object	*o;

	memset(s, c, n);
	s[n] = '\0';
	o = json_object_new_string(s);
	free(s);
	return (o);
}

/* An array of n objects {"text": m bytes}; caller puts. */
static struct json_object *
fit_items(size_t n, size_t m)
{
	struct json_object	*a = json_object_new_array(), *o;
	size_t			 i;

	for (i = 0; i < n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "text", fit_string('x', m));
		json_object_array_add(a, o);
	}
	return (a);
}

/* {"anime": {description, relations, reviews, where_to_watch}, …}. */
static struct json_object *
fit_details(void)
{
	struct json_object	*r = json_object_new_object();
	struct json_object	*a = json_object_new_object();

	json_object_object_add(a, "description", fit_string('d', 500));
	json_object_object_add(a, "relations", fit_items(4, 100));
	json_object_object_add(a, "reviews", fit_items(3, 400));
	json_object_object_add(a, "where_to_watch", fit_items(10, 150));
	json_object_object_add(r, "anime", a);
	json_object_object_add(r, "text_summary",
	    json_object_new_string("One title."));
	return (r);
}

static size_t
fit_length(struct json_object *o, const char *path)
{
	struct json_object	*v = o;
	char			*copy = xstrdup(path), *k, *save = NULL;

	for (k = strtok_r(copy, ".", &save); k != NULL;
	    k = strtok_r(NULL, ".", &save))
		ck_assert(json_object_object_get_ex(v, k, &v));
	free(copy);
	return (json_object_is_type(v, json_type_array) ?
	    json_object_array_length(v) :
	    (size_t)json_object_get_string_len(v));
}

/*
 * A large franchise: get_anime's own order leaves out reviews, then
 * streaming sites, then the related titles past what fits, and keeps the
 * description whole.
 */
START_TEST(test_get_anime_fits_a_large_franchise)
{
	struct json_object	*r = fit_details(), *a;
	size_t			 n;

	ck_assert(json_object_object_get_ex(r, "anime", &a));
	json_object_object_add(a, "relations", fit_items(120, 100));
	ck_assert_uint_gt(tool_text_size(r), 2 * TOOL_BUDGET_DEFAULT);
	ck_assert(tool_fit(r, TOOL_BUDGET_DEFAULT, false,
	    tools_get_anime.trim_first));
	ck_assert_uint_le(tool_text_size(r), TOOL_BUDGET_DEFAULT);
	ck_assert_uint_eq(fit_length(r, "anime.reviews"), 0);
	ck_assert_uint_eq(fit_length(r, "anime.where_to_watch"), 0);
	n = fit_length(r, "anime.relations");
	ck_assert_uint_gt(n, 40);
	ck_assert_uint_lt(n, 120);
	ck_assert_uint_eq(fit_length(r, "anime.description"), 500);
	json_object_put(r);
}
END_TEST

START_TEST(test_fit_leaves_out_the_first_paths_before_anything_else)
{
	static const char *const first[] = {
		"anime.reviews", "anime.where_to_watch", "anime.nothing", NULL
	};
	struct json_object	*r = fit_details(), *note, *left, *v;
	size_t			 budget = tool_text_size(r) - 2000;
	const char		*msg;

	ck_assert(tool_fit(r, budget, false, first));
	ck_assert_uint_le(tool_text_size(r), budget);
	/* Every review goes before a streaming site; nothing else is cut. */
	ck_assert_uint_eq(fit_length(r, "anime.reviews"), 0);
	ck_assert_uint_gt(fit_length(r, "anime.where_to_watch"), 0);
	ck_assert_uint_lt(fit_length(r, "anime.where_to_watch"), 10);
	ck_assert_uint_eq(fit_length(r, "anime.relations"), 4);
	ck_assert_uint_eq(fit_length(r, "anime.description"), 500);
	ck_assert(json_object_object_get_ex(r, "trimmed", &note));
	ck_assert(json_object_object_get_ex(note, "left_out", &left));
	ck_assert(json_object_object_get_ex(left, "anime.reviews", &v));
	ck_assert_int_eq(json_object_get_int(v), 3);
	ck_assert(json_object_object_get_ex(left, "anime.where_to_watch",
	    &v));
	ck_assert_uint_eq((size_t)json_object_get_int(v),
	    10 - fit_length(r, "anime.where_to_watch"));
	ck_assert(!json_object_object_get_ex(note, "strings_cut_to", NULL));
	ck_assert(json_object_object_get_ex(note, "message", &v));
	msg = json_object_get_string(v);
	ck_assert_msg(strstr(msg, "left out 3 of 3 anime.reviews, ") != NULL,
	    "%s", msg);
	ck_assert(json_object_object_get_ex(r, "text_summary", &v));
	ck_assert_msg(strncmp(json_object_get_string(v), "One title. "
	    "Shortened to fit", 27) == 0, "%s", json_object_get_string(v));
	json_object_put(r);
}
END_TEST

/* Without first paths only strings are cut; an answer that fits stays. */
START_TEST(test_fit_without_first_paths_cuts_strings)
{
	struct json_object	*r = fit_details(), *note;
	size_t			 budget = tool_text_size(r);

	ck_assert(!tool_fit(r, budget, false, NULL));
	ck_assert(!json_object_object_get_ex(r, "trimmed", NULL));
	ck_assert(tool_fit(r, budget - 500, false, NULL));
	ck_assert_uint_eq(fit_length(r, "anime.reviews"), 3);
	ck_assert_uint_eq(fit_length(r, "anime.where_to_watch"), 10);
	ck_assert(json_object_object_get_ex(r, "trimmed", &note));
	ck_assert(json_object_object_get_ex(note, "strings_cut_to", NULL));
	ck_assert(!json_object_object_get_ex(note, "left_out", NULL));
	json_object_put(r);
}
END_TEST

/* Whether a schema's "type" is or lists "array". */
static bool
fit_is_array_type(struct json_object *type)
{
	size_t	i;

	if (json_object_is_type(type, json_type_string))
		return (strcmp(json_object_get_string(type), "array") == 0);
	for (i = 0; json_object_is_type(type, json_type_array) &&
	    i < json_object_array_length(type); i++)
		if (fit_is_array_type(json_object_array_get_idx(type, i)))
			return (true);
	return (false);
}

/* A tool's trim_first paths name arrays of its output schema. */
START_TEST(test_every_trim_first_path_is_an_array_of_the_output)
{
	const struct json_object	*s;
	struct json_object		*props, *sub, *type;
	const char *const		*p;
	char				*copy, *k, *save, *cause = NULL;
	size_t				 i, n = 0;

	ck_assert_msg(tool_init(&cause), "%s", cause ? cause : "");
	for (i = 0; i < tool_registry_count; i++) {
		for (p = tool_registry[i]->trim_first; p != NULL && *p != NULL;
		    p++, n++) {
			s = tool_output_schema(tool_registry[i]);
			copy = xstrdup(*p);
			save = NULL;
			for (k = strtok_r(copy, ".", &save); k != NULL;
			    k = strtok_r(NULL, ".", &save)) {
				ck_assert_msg(json_object_object_get_ex(s,
				    "properties", &props) &&
				    json_object_object_get_ex(props, k, &sub),
				    "%s: %s", tool_registry[i]->name, *p);
				s = sub;
			}
			free(copy);
			ck_assert(json_object_object_get_ex(s, "type", &type));
			ck_assert_msg(fit_is_array_type(type), "%s: %s",
			    tool_registry[i]->name, *p);
		}
	}
	ck_assert_uint_ge(n, 2);
}
END_TEST

static Suite *
tool_suite(void)
{
	Suite	*s = suite_create("tool");
	TCase	*tc = tcase_create("validator");

	tcase_add_loop_test(tc, test_validator_cases, 0, (int)nitems(cases));
	tcase_add_test(tc, test_validator_year_bound_follows_the_clock);
	tcase_add_test(tc, test_validator_rejects_invalid_utf8_and_nul);
	suite_add_tcase(s, tc);

	tc = tcase_create("registry");
	tcase_add_test(tc, test_registry_loads_and_finds_every_tool);
	tcase_add_test(tc, test_every_input_schema_refuses_unknown_arguments);
	tcase_add_test(tc, test_every_tool_route_names_a_registered_tool);
	tcase_add_test(tc, test_schema_copy_is_independent);
	tcase_add_test(tc, test_public_schema_resolves_the_year_bound);
	tcase_add_test(tc, test_annotations_json_names_mcp_hints);
	tcase_add_loop_test(tc, test_invoke_reports_argument_errors, 0,
	    (int)nitems(invoke_cases));
	tcase_add_test(tc, test_invoke_requires_auth_when_the_tool_does);
	tcase_add_test(tc, test_invoke_refuses_non_object_arguments);
	tcase_add_test(tc, test_every_trim_first_path_is_an_array_of_the_output);
	tcase_add_test(tc, test_get_anime_fits_a_large_franchise);
	suite_add_tcase(s, tc);

	tc = tcase_create("fit");
	tcase_add_test(tc, test_fit_leaves_out_the_first_paths_before_anything_else);
	tcase_add_test(tc, test_fit_without_first_paths_cuts_strings);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	/* The defaults: tool_invoke reads the result cache's settings. */
	cfg = config_create();
	sr = srunner_create(tool_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tool_shutdown();
	config_free(cfg);
	return (failed == 0 ? 0 : 1);
}
