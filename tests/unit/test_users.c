/* test_users.c: the list tools (tools/users.c): their argument errors, and a real AniList list (tests/anilist-sample/data) shaped through a stand-in AniList. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "schema.h"
#include "tool.h"
#include "unit.h"
#include "util.h"

/* The real MediaListCollection of the sample user (52 PLANNING entries). */
#define SAMPLE_LIST	"tests/anilist-sample/data/" \
	"seanime_MediaListCollection_BoilerplateAnimeCollection.json"

static struct unit_upstream	*upstream;

static void
setup(void)
{
	upstream = unit_tools_start();
}

static void
teardown(void)
{
	unit_tools_stop(upstream);
	upstream = NULL;
}

/* ---- argument errors: answered before any call to AniList ---- */

static const struct {
	const char	*tool;
	const char	*args;
	bool		 signed_in;
	int		 status;
	const char	*field;		/* NULL: no field */
	const char	*message;	/* a part of the message */
} bad_args[] = {
	{ "get_user_list", "{}", false, 401, NULL, "sign in" },
	{ "get_user_list", "{\"list_type\":\"NOVEL\"}", true, 400,
	    "list_type", "ANIME, MANGA" },
	{ "get_user_list", "{\"user_name\":\"\"}", false, 400, "user_name",
	    "must not be empty" },
	{ "get_user_list", "{\"user_name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", false, 400, "user_name",
	    "at most 64" },
	{ "get_user_list", "{\"user_name\":\"sample user\"}", false, 400,
	    "user_name", "AniList user name" },
	{ "get_user_list", "{\"user_name\":\"../admin\"}", false, 400,
	    "user_name", "AniList user name" },
	{ "get_user_list", "{\"user_name\":\"x\",\"status\":\"WATCHING\"}",
	    false, 400, "status", "CURRENT" },
	{ "get_user_list", "{\"user_name\":\"x\",\"sort\":\"TITLE\"}", false,
	    400, "sort", "UPDATED_TIME_DESC" },
	{ "get_user_list", "{\"user_name\":\"x\",\"per_page\":501}", false,
	    400, "per_page", "at most 500" },
	{ "get_user_list", "{\"user_name\":\"x\",\"page\":0}", false, 400,
	    "page", "at least 1" },
	{ "get_user_list", "{\"user_name\":\"x\",\"type\":\"ANIME\"}", false,
	    400, "type", "unknown argument" },
	{ "update_list_entry", "{\"media_id\":1,\"status\":\"CURRENT\"}",
	    false, 401, NULL, "signed-in" },
	{ "update_list_entry", "{}", true, 400, "media_id", "required" },
	{ "update_list_entry", "{\"media_id\":0,\"status\":\"CURRENT\"}",
	    true, 400, "media_id", "at least 1" },
	{ "update_list_entry", "{\"media_id\":2147483648,"
	    "\"status\":\"CURRENT\"}", true, 400, "media_id", "at most" },
	{ "update_list_entry", "{\"media_id\":1}", true, 400, "status",
	    "nothing to change" },
	{ "update_list_entry", "{\"media_id\":1,\"status\":\"WATCHING\"}",
	    true, 400, "status", "REPEATING" },
	{ "update_list_entry", "{\"media_id\":1,\"score\":101}", true, 400,
	    "score", "at most 100" },
	{ "update_list_entry", "{\"media_id\":1,\"progress\":-1}", true, 400,
	    "progress", "at least 0" },
	{ "update_list_entry", "{\"media_id\":1,\"rewatched\":2}", true,
	    400, "rewatched", "unknown argument" },
	{ "delete_list_entry", "{\"media_id\":1}", false, 401, NULL,
	    "signed-in" },
	{ "delete_list_entry", "{}", true, 400, "media_id", "required" },
	{ "delete_list_entry", "{\"media_id\":\"frieren\"}", true, 400,
	    "media_id", "integer" },
	{ "delete_list_entry", "{\"media_id\":1,\"status\":\"CURRENT\"}",
	    true, 400, "status", "unknown argument" },
};

START_TEST(test_list_tools_refuse_bad_arguments_without_asking_anilist)
{
	struct json_object	*result;
	struct tool_call	 call;

	result = unit_tool_invoke(bad_args[_i].tool, bad_args[_i].args,
	    bad_args[_i].signed_in ? &unit_signed_in : NULL, &call);
	ck_assert_msg(result == NULL, "case %d accepted", _i);
	ck_assert_int_eq(call.error.status, bad_args[_i].status);
	if (bad_args[_i].field == NULL)
		ck_assert_ptr_null(call.error.field);
	else
		ck_assert_msg(call.error.field != NULL &&
		    strcmp(call.error.field, bad_args[_i].field) == 0,
		    "case %d: field %s", _i, call.error.field);
	ck_assert_msg(strstr(call.error.message, bad_args[_i].message) !=
	    NULL, "case %d: %s", _i, call.error.message);
	ck_assert_int_eq(call.upstream_calls, 0);
	ck_assert_int_eq(unit_upstream_requests(upstream), 0);
	tool_call_free(&call);
}
END_TEST

/* ---- a real list, shaped ---- */

/* The sample's entries (AniList's MediaList objects), borrowed from doc. */
static struct json_object *
sample_entries(struct json_object *doc)
{
	struct json_object	*lists, *l, *entries;
	size_t			 i;

	ck_assert(json_object_object_get_ex(doc, "MediaListCollection",
	    &lists));
	ck_assert(json_object_object_get_ex(lists, "lists", &lists));
	for (i = 0; i < json_object_array_length(lists); i++) {
		l = json_object_array_get_idx(lists, i);
		if (json_object_object_get_ex(l, "entries", &entries))
			return (entries);
	}
	ck_abort_msg("the sample list has no entries");
	return (NULL);
}

/* Let the stand-in answer {"data": doc} (doc: a MediaListCollection). */
static void
answer_data(struct json_object *doc)
{
	struct json_object	*reply = json_object_new_object();

	json_object_object_add(reply, "data", json_object_get(doc));
	unit_upstream_answer(upstream, 200, json_object_to_json_string_ext(
	    reply, JSON_C_TO_STRING_PLAIN));
	json_object_put(reply);
}

/* The shaped entry of media_id in results, or NULL. */
static struct json_object *
find_entry(struct json_object *results, long long media_id)
{
	struct json_object	*e;
	size_t			 i;

	for (i = 0; i < json_object_array_length(results); i++) {
		e = json_object_array_get_idx(results, i);
		if (unit_get_int(e, "media_id") == media_id)
			return (e);
	}
	return (NULL);
}

/* The sample list as it is, each entry against the record it came from. */
START_TEST(test_list_reply_shapes_every_sample_entry)
{
	struct json_object	*doc, *entries, *result, *results, *e, *m;
	struct json_object	*src, *media, *title;
	struct tool_error	 err;
	struct tool_call	 call;
	char			 url[64];
	size_t			 i, n;

	doc = unit_json_file(SAMPLE_LIST);
	entries = sample_entries(doc);
	n = json_object_array_length(entries);
	ck_assert_uint_eq(n, 52);
	answer_data(doc);
	result = unit_tool_invoke("get_user_list",
	    "{\"user_name\":\"sampleuser\",\"per_page\":500}", NULL, &call);
	ck_assert_msg(result != NULL, "%s", call.error.message);
	ck_assert_int_eq(unit_upstream_requests(upstream), 1);
	memset(&err, 0, sizeof err);
	ck_assert_msg(schema_validate(tool_output_schema(tool_find(
	    "get_user_list")), result, &err), "output schema: %s at %s",
	    err.message, err.field);

	results = unit_get(result, "results");
	ck_assert_uint_eq(json_object_array_length(results), n);
	for (i = 0; i < n; i++) {
		src = json_object_array_get_idx(entries, i);
		media = unit_get(src, "media");
		e = find_entry(results, unit_get_int(media, "id"));
		ck_assert_msg(e != NULL, "media %lld missing",
		    unit_get_int(media, "id"));
		ck_assert_int_eq(unit_get_int(e, "id"),
		    unit_get_int(src, "id"));
		ck_assert_str_eq(unit_get_str(e, "status"), "PLANNING");
		ck_assert_int_eq(unit_get_int(e, "progress"),
		    unit_get_int(src, "progress"));
		/* AniList's 0 means "not scored". */
		ck_assert_ptr_null(unit_get(e, "score"));
		ck_assert_ptr_null(unit_get(e, "updated_at"));
		title = unit_get(media, "title");
		ck_assert_str_eq(unit_get_str(unit_get(e, "title"), "romaji"),
		    unit_get_str(title, "romaji"));
		if (unit_get(title, "english") == NULL)
			ck_assert_ptr_null(unit_get(unit_get(e, "title"),
			    "english"));
		ck_assert_str_eq(unit_get_str(e, "format"),
		    unit_get_str(media, "format"));
		snprintf(url, sizeof url, "https://anilist.co/anime/%lld",
		    unit_get_int(media, "id"));
		ck_assert_str_eq(unit_get_str(e, "site_url"), url);
		ck_assert_str_eq(unit_get_str(e, "cover_image"),
		    unit_get_str(unit_get(media, "coverImage"), "medium"));
	}

	/* One entry in detail: progress 3 of 13 episodes. */
	m = find_entry(results, 142838);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(unit_get_str(unit_get(m, "title"), "romaji"),
	    "SPY\xc3\x97" "FAMILY Part 2");
	ck_assert_int_eq(unit_get_int(m, "progress"), 3);
	ck_assert_int_eq(unit_get_int(m, "episodes"), 13);
	/* ONE PIECE has no episode count yet. */
	ck_assert_ptr_null(unit_get(find_entry(results, 21), "episodes"));

	ck_assert(!json_object_get_boolean(unit_get(result, "own_list")));
	ck_assert_str_eq(unit_get_str(result, "list_type"), "ANIME");
	ck_assert_str_eq(unit_get_str(unit_get(result, "user"), "name"),
	    "sampleuser");
	ck_assert_int_eq(unit_get_int(unit_get(result, "page_info"), "page"),
	    1);
	ck_assert_int_eq(unit_get_int(unit_get(result, "page_info"),
	    "per_page"), 500);
	ck_assert(!json_object_get_boolean(unit_get(unit_get(result,
	    "page_info"), "has_next_page")));
	ck_assert_msg(strncmp(unit_get_str(result, "text_summary"),
	    "52 entries on sampleuser's anime list (page 1): ", 48) == 0,
	    "%s", unit_get_str(result, "text_summary"));
	ck_assert_ptr_nonnull(strstr(unit_get_str(result, "text_summary"),
	    "; and 47 more."));
	ck_assert_str_eq(unit_get_str(unit_get(result, "source"), "cache"),
	    "bypass");

	tool_call_free(&call);
	json_object_put(result);
	json_object_put(doc);
}
END_TEST

/* A public list is asked for by name, without a token, one chunk a page. */
START_TEST(test_public_list_request_names_the_user_and_the_chunk)
{
	struct json_object	*doc, *result;
	struct tool_call	 call;
	char			*req;

	doc = unit_json_file(SAMPLE_LIST);
	answer_data(doc);
	result = unit_tool_invoke("get_user_list",
	    "{\"user_name\":\"sampleuser\",\"status\":\"PLANNING\","
	    "\"sort\":\"SCORE_DESC\",\"page\":2,\"per_page\":10}", NULL,
	    &call);
	ck_assert_msg(result != NULL, "%s", call.error.message);
	req = unit_upstream_last_request(upstream);
	ck_assert_ptr_nonnull(req);
	ck_assert_ptr_null(strcasestr(req, "\r\nAuthorization:"));
	ck_assert_ptr_nonnull(strstr(req, "\"userName\":\"sampleuser\""));
	ck_assert_ptr_nonnull(strstr(req, "\"status\":\"PLANNING\""));
	ck_assert_ptr_nonnull(strstr(req,
	    "\"sort\":[\"SCORE_DESC\",\"MEDIA_ID\"]"));
	ck_assert_ptr_nonnull(strstr(req, "\"chunk\":2"));
	ck_assert_ptr_nonnull(strstr(req, "\"perChunk\":10"));
	ck_assert_ptr_nonnull(strstr(unit_get_str(result, "text_summary"),
	    "with status PLANNING (page 2)"));
	free(req);
	tool_call_free(&call);
	json_object_put(result);
	json_object_put(doc);
}
END_TEST

/* The caller's own list goes by their AniList id, with their token. */
START_TEST(test_own_list_request_carries_the_token_and_user_id)
{
	struct json_object	*doc, *result;
	struct tool_call	 call;
	char			*req;

	doc = unit_json_file(SAMPLE_LIST);
	answer_data(doc);
	result = unit_tool_invoke("get_user_list", "{}", &unit_signed_in,
	    &call);
	ck_assert_msg(result != NULL, "%s", call.error.message);
	req = unit_upstream_last_request(upstream);
	ck_assert_ptr_nonnull(req);
	ck_assert_ptr_nonnull(strcasestr(req,
	    "\r\nAuthorization: Bearer sample-token\r\n"));
	ck_assert_ptr_nonnull(strstr(req, "\"userId\":5001"));
	ck_assert_ptr_null(strstr(req, "\"userName\""));
	ck_assert(json_object_get_boolean(unit_get(result, "own_list")));
	/* The collection names no user: the caller's name stands in. */
	ck_assert_str_eq(unit_get_str(unit_get(result, "user"), "name"),
	    "sampleuser");
	ck_assert_ptr_nonnull(strstr(unit_get_str(result, "text_summary"),
	    "on your anime list"));
	free(req);
	tool_call_free(&call);
	json_object_put(result);
	json_object_put(doc);
}
END_TEST

/* Each sort orders the page locally; unknown values last, then media id. */
static const struct {
	const char	*sort;
	const char	*key;		/* "title": title.romaji */
	bool		 desc;
	long long	 first;		/* media_id of the first entry */
} sorts[] = {
	/* No entry of the sample has an update time: media id decides. */
	{ "UPDATED_TIME_DESC", "media_id", false, 21 },
	{ "MEDIA_ID", "media_id", false, 21 },
	{ "MEDIA_ID_DESC", "media_id", true, 163263 },
	{ "PROGRESS_DESC", "progress", true, 142838 },
	{ "MEDIA_TITLE_ROMAJI", "title", false, 131586 },
	{ "MEDIA_TITLE_ROMAJI_DESC", "title", true, 159831 },
};

START_TEST(test_list_sorts_order_the_sample_entries)
{
	struct json_object	*doc, *result, *results, *a, *b;
	struct tool_call	 call;
	char			*args;
	size_t			 i;
	int			 c;

	doc = unit_json_file(SAMPLE_LIST);
	answer_data(doc);
	xasprintf(&args, "{\"user_name\":\"sampleuser\",\"per_page\":500,"
	    "\"sort\":\"%s\"}", sorts[_i].sort);
	result = unit_tool_invoke("get_user_list", args, NULL, &call);
	ck_assert_msg(result != NULL, "%s", call.error.message);
	results = unit_get(result, "results");
	ck_assert_uint_eq(json_object_array_length(results), 52);
	ck_assert_int_eq(unit_get_int(json_object_array_get_idx(results, 0),
	    "media_id"), sorts[_i].first);
	for (i = 0; i + 1 < json_object_array_length(results); i++) {
		a = json_object_array_get_idx(results, i);
		b = json_object_array_get_idx(results, i + 1);
		if (strcmp(sorts[_i].key, "title") == 0)
			c = strcasecmp(unit_get_str(unit_get(a, "title"),
			    "romaji"), unit_get_str(unit_get(b, "title"),
			    "romaji"));
		else
			c = (unit_get_int(a, sorts[_i].key) > unit_get_int(b,
			    sorts[_i].key)) - (unit_get_int(a, sorts[_i].key) <
			    unit_get_int(b, sorts[_i].key));
		if (sorts[_i].desc)
			c = -c;
		ck_assert_msg(c < 0 || (c == 0 && unit_get_int(a, "media_id") <
		    unit_get_int(b, "media_id")),
		    "%s: entry %zu before %zu out of order", sorts[_i].sort, i,
		    i + 1);
	}
	free(args);
	tool_call_free(&call);
	json_object_put(result);
	json_object_put(doc);
}
END_TEST

/*
 * An entry of a custom list is also in its status list: AniList sends it
 * twice, the result has it once.
 */
START_TEST(test_entry_of_a_custom_list_is_listed_once)
{
	struct json_object	*doc, *lists, *custom, *copy, *result;
	struct tool_call	 call;
	size_t			 i;

	doc = unit_json_file(SAMPLE_LIST);
	ck_assert(json_object_object_get_ex(unit_get(doc,
	    "MediaListCollection"), "lists", &lists));
	copy = json_object_new_array();
	for (i = 0; i < 5; i++)
		json_object_array_add(copy, json_object_get(
		    json_object_array_get_idx(sample_entries(doc), i)));
	custom = json_object_new_object();
	json_object_object_add(custom, "name",
	    json_object_new_string("Favourites"));
	json_object_object_add(custom, "isCustomList",
	    json_object_new_boolean(true));
	json_object_object_add(custom, "entries", copy);
	json_object_array_add(lists, custom);
	answer_data(doc);
	result = unit_tool_invoke("get_user_list",
	    "{\"user_name\":\"sampleuser\",\"per_page\":500}", NULL, &call);
	ck_assert_msg(result != NULL, "%s", call.error.message);
	ck_assert_uint_eq(json_object_array_length(unit_get(result, "results")),
	    52);
	tool_call_free(&call);
	json_object_put(result);
	json_object_put(doc);
}
END_TEST

/*
 * hasNextChunk says whether there is a next page; the collection's user
 * names the list.
 */
START_TEST(test_next_page_and_user_come_from_the_collection)
{
	struct json_object	*doc, *coll, *user, *result;
	struct tool_call	 call;

	doc = unit_json_file(SAMPLE_LIST);
	coll = unit_get(doc, "MediaListCollection");
	json_object_object_add(coll, "hasNextChunk",
	    json_object_new_boolean(true));
	user = json_object_new_object();
	json_object_object_add(user, "id", json_object_new_int(7));
	json_object_object_add(user, "name",
	    json_object_new_string("SampleUser"));
	json_object_object_add(coll, "user", user);
	answer_data(doc);
	result = unit_tool_invoke("get_user_list",
	    "{\"user_name\":\"sampleuser\"}", NULL, &call);
	ck_assert_msg(result != NULL, "%s", call.error.message);
	ck_assert(json_object_get_boolean(unit_get(unit_get(result,
	    "page_info"), "has_next_page")));
	ck_assert_int_eq(unit_get_int(unit_get(result, "user"), "id"), 7);
	ck_assert_str_eq(unit_get_str(unit_get(result, "user"), "name"),
	    "SampleUser");
	ck_assert_ptr_nonnull(strstr(unit_get_str(result, "text_summary"),
	    "More on page 2."));
	tool_call_free(&call);
	json_object_put(result);
	json_object_put(doc);
}
END_TEST

/* AniList's "User not found" (HTTP 404) is a 404 naming the user. */
START_TEST(test_unknown_user_is_not_found)
{
	struct json_object	*result;
	struct tool_call	 call;

	unit_upstream_answer(upstream, 404, "{\"data\":{\"MediaListCollection\""
	    ":null},\"errors\":[{\"message\":\"User not found\","
	    "\"status\":404}]}");
	result = unit_tool_invoke("get_user_list",
	    "{\"user_name\":\"nobody\"}", NULL, &call);
	ck_assert_ptr_null(result);
	ck_assert_int_eq(call.error.status, 404);
	ck_assert_str_eq(call.error.code, "not_found");
	ck_assert_ptr_nonnull(strstr(call.error.message, "nobody"));
	tool_call_free(&call);
}
END_TEST

/* A saved entry comes back shaped like a list entry, with a summary. */
START_TEST(test_update_shapes_the_saved_entry)
{
	struct json_object	*doc, *saved, *reply, *data, *result, *entry;
	struct tool_call	 call;
	char			*req;

	doc = unit_json_file(SAMPLE_LIST);
	saved = json_object_get(json_object_array_get_idx(sample_entries(doc),
	    0));
	json_object_object_add(saved, "status",
	    json_object_new_string("CURRENT"));
	json_object_object_add(saved, "progress", json_object_new_int(4));
	json_object_object_add(saved, "score", json_object_new_int(85));
	json_object_object_add(saved, "updatedAt",
	    json_object_new_int(1700000000));
	reply = json_object_new_object();
	data = json_object_new_object();
	json_object_object_add(data, "SaveMediaListEntry", saved);
	json_object_object_add(reply, "data", data);
	unit_upstream_answer(upstream, 200, json_object_to_json_string(reply));
	result = unit_tool_invoke("update_list_entry", "{\"media_id\":131586,"
	    "\"status\":\"CURRENT\",\"progress\":4,\"score\":85}",
	    &unit_signed_in, &call);
	ck_assert_msg(result != NULL, "%s", call.error.message);
	req = unit_upstream_last_request(upstream);
	ck_assert_ptr_nonnull(strstr(req, "\"scoreRaw\":85"));
	ck_assert_ptr_nonnull(strcasestr(req,
	    "\r\nAuthorization: Bearer sample-token\r\n"));
	entry = unit_get(result, "entry");
	ck_assert_int_eq(unit_get_int(entry, "media_id"), 131586);
	ck_assert_int_eq(unit_get_int(entry, "score"), 85);
	ck_assert_int_eq(unit_get_int(entry, "progress"), 4);
	ck_assert_str_eq(unit_get_str(entry, "updated_at"),
	    "2023-11-14T22:13:20Z");
	ck_assert_str_eq(unit_get_str(result, "text_summary"), "Saved on your "
	    "list: 86: Eighty Six Part 2: CURRENT, progress 4/12, score "
	    "85/100.");
	free(req);
	tool_call_free(&call);
	json_object_put(result);
	json_object_put(reply);
	json_object_put(doc);
}
END_TEST

/* AniList's validation map names our argument: scoreRaw is score. */
START_TEST(test_update_refusal_names_the_argument)
{
	struct json_object	*result;
	struct tool_call	 call;

	unit_upstream_answer(upstream, 400, "{\"data\":{\"SaveMediaListEntry\""
	    ":null},\"errors\":[{\"message\":\"validation\",\"status\":400,"
	    "\"validation\":{\"scoreRaw\":[\"The score raw must be between 0 "
	    "and 100.\"]}}]}");
	result = unit_tool_invoke("update_list_entry", "{\"media_id\":131586,"
	    "\"status\":\"CURRENT\",\"score\":85}", &unit_signed_in, &call);
	ck_assert_ptr_null(result);
	ck_assert_int_eq(call.error.status, 400);
	ck_assert_str_eq(call.error.field, "score");
	ck_assert_ptr_nonnull(strstr(call.error.message, "between 0 and 100"));
	tool_call_free(&call);
}
END_TEST

static Suite *
users_suite(void)
{
	Suite	*s = suite_create("users");
	TCase	*tc = tcase_create("arguments");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc,
	    test_list_tools_refuse_bad_arguments_without_asking_anilist, 0,
	    (int)nitems(bad_args));
	suite_add_tcase(s, tc);

	tc = tcase_create("shape");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_list_reply_shapes_every_sample_entry);
	tcase_add_test(tc,
	    test_public_list_request_names_the_user_and_the_chunk);
	tcase_add_test(tc, test_own_list_request_carries_the_token_and_user_id);
	tcase_add_loop_test(tc, test_list_sorts_order_the_sample_entries, 0,
	    (int)nitems(sorts));
	tcase_add_test(tc, test_entry_of_a_custom_list_is_listed_once);
	tcase_add_test(tc, test_next_page_and_user_come_from_the_collection);
	tcase_add_test(tc, test_unknown_user_is_not_found);
	tcase_add_test(tc, test_update_shapes_the_saved_entry);
	tcase_add_test(tc, test_update_refusal_names_the_argument);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run(users_suite()));
}
