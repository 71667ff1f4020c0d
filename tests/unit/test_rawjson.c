/* test_rawjson.c: JSON text serialised once and spliced as raw text into later json-c documents. */
#include "autoconf.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "rawjson.h"
#include "util.h"

#define FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* {"a":[1,2.50,"x/y\u00e9"],"b":null}, parsed (so 2.50 keeps its text). */
static struct json_object *
sample(void)
{
	struct json_object	*o = json_tokener_parse("{\"a\":[1,2.50,"
	    "\"x/y\\u00e9\"],\"b\":null}");

	ck_assert_ptr_nonnull(o);
	return (o);
}

START_TEST(test_rawjson_text_is_the_plain_serialisation)
{
	struct json_object	*o = sample();
	struct rawjson		*r;
	const char		*want;
	size_t			 len;

	want = "{\"a\":[1,2.50,\"x/y\xc3\xa9\"],\"b\":null}";
	ck_assert_str_eq(json_object_to_json_string_ext(o, FLAGS), want);
	r = rawjson_create(o);
	ck_assert_str_eq(rawjson_text(r, &len), want);
	ck_assert_uint_eq(len, strlen(want));
	rawjson_free(r);
	rawjson_free(NULL);
}
END_TEST

/* Spliced as a member and as array elements: the same bytes as the object. */
START_TEST(test_rawjson_node_splices_the_same_bytes)
{
	struct json_object	*doc, *arr;
	struct rawjson		*r = rawjson_create(sample());
	char			*spliced;

	doc = json_object_new_object();
	json_object_object_add(doc, "id", json_object_new_string("a\"b"));
	json_object_object_add(doc, "result", rawjson_node(r));
	arr = json_object_new_array();
	json_object_array_add(arr, rawjson_node(r));
	json_object_array_add(arr, rawjson_node(r));
	json_object_object_add(doc, "more", arr);
	spliced = xstrdup(json_object_to_json_string_ext(doc, FLAGS));
	json_object_put(doc);

	doc = json_object_new_object();
	json_object_object_add(doc, "id", json_object_new_string("a\"b"));
	json_object_object_add(doc, "result", sample());
	arr = json_object_new_array();
	json_object_array_add(arr, sample());
	json_object_array_add(arr, sample());
	json_object_object_add(doc, "more", arr);
	ck_assert_str_eq(spliced, json_object_to_json_string_ext(doc, FLAGS));
	json_object_put(doc);
	free(spliced);
	rawjson_free(r);
}
END_TEST

/* A node keeps its text alive after the creator's reference is gone. */
START_TEST(test_rawjson_node_holds_a_reference)
{
	struct rawjson		*r = rawjson_create(sample());
	struct json_object	*node = rawjson_node(r), *copy;

	rawjson_free(r);
	copy = json_object_get(node);
	json_object_put(node);
	ck_assert_str_eq(json_object_to_json_string_ext(copy, FLAGS),
	    "{\"a\":[1,2.50,\"x/y\xc3\xa9\"],\"b\":null}");
	json_object_put(copy);
}
END_TEST

/* Bytes that are not UTF-8 never reach a response through a rawjson. */
START_TEST(test_rawjson_text_is_always_utf8)
{
	struct rawjson	*r;
	size_t		 len;

	r = rawjson_from_text("\"a\xff\xc3\"", 5);
	ck_assert_str_eq(rawjson_text(r, &len), "\"a\xef\xbf\xbd\xef\xbf\xbd\"");
	ck_assert_uint_eq(len, 9);
	rawjson_free(r);
}
END_TEST

static void *
quote_it(void *arg)
{
	return (rawjson_quoted(arg));
}

/* Made once, by whichever thread comes first; the same for everyone. */
START_TEST(test_rawjson_quoted_is_one_string_made_once)
{
	struct rawjson		*r = rawjson_create(sample()), *q;
	struct json_object	*doc, *back;
	pthread_t		 t[8];
	void			*got[8];
	size_t			 i;

	for (i = 0; i < nitems(t); i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, quote_it, r), 0);
	for (i = 0; i < nitems(t); i++)
		ck_assert_int_eq(pthread_join(t[i], &got[i]), 0);
	q = rawjson_quoted(r);
	for (i = 0; i < nitems(t); i++)
		ck_assert_ptr_eq(got[i], q);
	/* As a member: a string whose value is r's text. */
	doc = json_object_new_object();
	json_object_object_add(doc, "text", rawjson_node(q));
	back = json_tokener_parse(json_object_to_json_string_ext(doc, FLAGS));
	ck_assert_ptr_nonnull(back);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(back,
	    "text")), rawjson_text(r, NULL));
	/* Nodes are recognised; plain objects are not. */
	ck_assert_ptr_eq(rawjson_of(json_object_object_get(doc, "text")), q);
	ck_assert_ptr_null(rawjson_of(back));
	ck_assert_ptr_null(rawjson_of(NULL));
	json_object_put(back);
	json_object_put(doc);
	rawjson_free(r);
}
END_TEST

static Suite *
rawjson_suite(void)
{
	Suite	*s = suite_create("rawjson");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_rawjson_text_is_the_plain_serialisation);
	tcase_add_test(tc, test_rawjson_node_splices_the_same_bytes);
	tcase_add_test(tc, test_rawjson_node_holds_a_reference);
	tcase_add_test(tc, test_rawjson_text_is_always_utf8);
	tcase_add_test(tc, test_rawjson_quoted_is_one_string_made_once);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(rawjson_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
