/* test_jsonbody.c: client JSON is one value in UTF-8 with no NUL in any string or key. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonbody.h"

static struct json_object *
parse(const char *text, const char **why)
{
	return (jsonbody_parse(text, strlen(text), 16, why));
}

START_TEST(test_jsonbody_accepts_one_value_with_white_space_after)
{
	static const char *const ok[] = { "{}", "[1,2]", " {\"a\":\"b\"} \n",
	    "42", "\"\\\\u0000 is text here\"", "{\"k\":\"\\u0001\"}" };
	struct json_object	*o;
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		o = parse(ok[i], &why);
		ck_assert_msg(o != NULL, "%s: %s", ok[i], why);
		json_object_put(o);
	}
}
END_TEST

START_TEST(test_jsonbody_refuses_nul_in_values_and_keys)
{
	static const char *const bad[] = {
	    "{\"redirect_uris\":[\"https://evil.example/cb\\u0000junk\"]}",
	    "{\"client_name\":\"x\\u0000\"}", "{\"a\\u0000b\":1}",
	    "\"\\\\\\u0000\"", "[\"\\u0000\"]" };
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(parse(bad[i], &why) == NULL, "%s", bad[i]);
		ck_assert_ptr_nonnull(strstr(why, "NUL"));
		ck_assert(jsonbody_has_nul(bad[i], strlen(bad[i])));
	}
	/* A raw NUL byte, anywhere. */
	ck_assert_ptr_null(jsonbody_parse("{\"a\":\"x\0\"}", 9, 16, &why));
	ck_assert(jsonbody_has_nul("{} \0", 4));
}
END_TEST

START_TEST(test_jsonbody_refuses_what_is_not_one_json_value)
{
	static const char *const bad[] = { "", "{", "{} {}", "{}x", "{\"a\"}",
	    "\xff\"x\"", "{\"a\":\"\xc3\"}", "[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]"
	    "]]]]]]" };
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(parse(bad[i], &why) == NULL, "%s", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
	ck_assert_ptr_null(jsonbody_parse(NULL, 0, 16, &why));
}
END_TEST

START_TEST(test_jsonbody_string_compares_lengths)
{
	struct json_object	*o;

	o = json_object_new_string_len("ab\0cd", 5);
	ck_assert_ptr_null(jsonbody_string(o));
	json_object_put(o);
	o = json_object_new_string("abcd");
	ck_assert_str_eq(jsonbody_string(o), "abcd");
	json_object_put(o);
	o = json_object_new_int(1);
	ck_assert_ptr_null(jsonbody_string(o));
	json_object_put(o);
	ck_assert_ptr_null(jsonbody_string(NULL));
}
END_TEST

static Suite *
jsonbody_suite(void)
{
	Suite	*s = suite_create("jsonbody");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_jsonbody_accepts_one_value_with_white_space_after);
	tcase_add_test(tc, test_jsonbody_refuses_nul_in_values_and_keys);
	tcase_add_test(tc, test_jsonbody_refuses_what_is_not_one_json_value);
	tcase_add_test(tc, test_jsonbody_string_compares_lengths);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(jsonbody_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
