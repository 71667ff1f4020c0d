/* test_batch.c: the batch planner: AniList's complexity estimate, the aliased document, each part's share of the answer. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "batch.h"
#include "queries.h"
#include "util.h"

/* Every selected field costs 1; aliases, arguments and variables are free. */
static const struct {
	const char	*document;
	int		 want;
} complexity_cases[] = {
	{ "query Q{Viewer{id}}", 2 },
	{ "query Q($id:Int){Media(id:$id){id title{romaji english}}}", 5 },
	{ "query Q{x:Media(id:1){id}}", 2 },
	{ "query Q{Page(page:1,perPage:50){media(sort:[TRENDING_DESC,"
	    "POPULARITY_DESC],search:\"a b{c}\"){id}}}", 3 },
	{ "query Q{GenreCollection MediaTagCollection{name}}", 3 },
	{ "query Q", -1 },
};

START_TEST(test_complexity_counts_selected_fields)
{
	ck_assert_int_eq(batch_complexity(complexity_cases[_i].document),
	    complexity_cases[_i].want);
}
END_TEST

/*
 * The shipped operations, as the sample upstream counts them
 * (tests/anilist-sample/server.py complexity()): every one fits alone, a
 * batch of searches fits BATCH_COMPLEXITY_BUDGET several times over, and
 * so do three titles' details: the community's picks they list are light
 * (MediaByIds completes them for whoever needs more).
 */
START_TEST(test_complexity_of_the_shipped_operations)
{
	size_t	i;
	int	c;

	ck_assert_int_eq(batch_complexity(queries_get("SearchMedia")), 50);
	ck_assert_int_eq(batch_complexity(queries_get("MediaDetails")), 109);
	ck_assert_int_le(3 * batch_complexity(queries_get("MediaDetails")),
	    BATCH_COMPLEXITY_BUDGET);
	ck_assert_int_eq(batch_complexity(queries_get("MediaByIds")), 46);
	for (i = 0; i < queries_nops; i++) {
		c = batch_complexity(queries_ops[i].document);
		ck_assert_msg(c > 0 && c <= BATCH_COMPLEXITY_BUDGET, "%s: %d",
		    queries_ops[i].name, c);
	}
}
END_TEST

START_TEST(test_build_aliases_fields_and_renames_variables)
{
	struct batch_part	 parts[3];
	struct json_object	*v0, *v1, *body, *q, *vars;
	struct buf		 b;

	v0 = json_tokener_parse("{\"id\":19}");
	v1 = json_tokener_parse("{\"search\":\"x\",\"sort\":[\"A\"]}");
	parts[0].document = "query A($id:Int){Media(id:$id){id}}";
	parts[0].vars = v0;
	parts[1].document = "query B($search:String,$sort:[MediaSort]){"
	    "Page(perPage:2){media(search:$search,sort:$sort){id}}}";
	parts[1].vars = v1;
	parts[2].document = "query C{GenreCollection MediaTagCollection{name}}";
	parts[2].vars = NULL;
	buf_init(&b);
	batch_build(parts, 3, &b);
	body = json_tokener_parse(b.data);
	ck_assert_ptr_nonnull(body);
	ck_assert(json_object_object_get_ex(body, "query", &q));
	ck_assert_str_eq(json_object_get_string(q), "query Batch("
	    "$b0_id:Int,$b1_search:String,$b1_sort:[MediaSort]){"
	    " b0_Media:Media(id:$b0_id){id}"
	    " b1_Page:Page(perPage:2){media(search:$b1_search,sort:$b1_sort){id}}"
	    " b2_GenreCollection:GenreCollection "
	    " b2_MediaTagCollection:MediaTagCollection{name}}");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(body,
	    "operationName")), "Batch");
	ck_assert(json_object_object_get_ex(body, "variables", &vars));
	ck_assert_str_eq(json_object_to_json_string_ext(vars,
	    JSON_C_TO_STRING_PLAIN), "{\"b0_id\":19,\"b1_search\":\"x\","
	    "\"b1_sort\":[\"A\"]}");
	/* the aliases cost nothing: the batch costs the parts' sum */
	ck_assert_int_eq(batch_complexity(json_object_get_string(q)),
	    batch_complexity(parts[0].document) +
	    batch_complexity(parts[1].document) +
	    batch_complexity(parts[2].document));
	json_object_put(body);
	json_object_put(v0);
	json_object_put(v1);
	buf_free(&b);
}
END_TEST

START_TEST(test_each_part_gets_its_own_data_and_error)
{
	struct json_object	*body, *d0, *d1, *e;

	body = json_tokener_parse("{\"data\":{\"b0_Media\":{\"id\":19},"
	    "\"b1_Media\":null,\"b10_Media\":{\"id\":3}},\"errors\":["
	    "{\"message\":\"Not Found.\",\"status\":404,\"path\":"
	    "[\"b1_Media\"]}]}");
	d0 = batch_part_data(json_object_object_get(body, "data"), 0);
	ck_assert_str_eq(json_object_to_json_string_ext(d0,
	    JSON_C_TO_STRING_PLAIN), "{\"Media\":{\"id\":19}}");
	d1 = batch_part_data(json_object_object_get(body, "data"), 1);
	ck_assert_str_eq(json_object_to_json_string_ext(d1,
	    JSON_C_TO_STRING_PLAIN), "{\"Media\":null}");
	ck_assert_ptr_null(batch_part_data(json_object_object_get(body,
	    "data"), 2));
	ck_assert_ptr_null(batch_part_error(body, 0));
	e = batch_part_error(body, 1);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(e,
	    "status")), 404);
	ck_assert(!batch_error_unplaced(body, 11));
	ck_assert(batch_error_unplaced(body, 1));
	json_object_put(d0);
	json_object_put(d1);
	json_object_put(body);
	body = json_tokener_parse("{\"data\":null,\"errors\":[{\"message\":"
	    "\"Max query complexity should be 500 but got 646.\","
	    "\"status\":400}]}");
	ck_assert(batch_error_unplaced(body, 3));
	json_object_put(body);
}
END_TEST

static Suite *
batch_suite(void)
{
	Suite	*s = suite_create("batch");
	TCase	*tc = tcase_create("batch");

	tcase_add_loop_test(tc, test_complexity_counts_selected_fields, 0,
	    (int)nitems(complexity_cases));
	tcase_add_test(tc, test_complexity_of_the_shipped_operations);
	tcase_add_test(tc, test_build_aliases_fields_and_renames_variables);
	tcase_add_test(tc, test_each_part_gets_its_own_data_and_error);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(batch_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
