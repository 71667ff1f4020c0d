/* test_prompts.c: the MCP prompts: the list, each prompt filled in, and every bad argument refused with its name. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "prompts.h"
#include "util.h"

/* The text of prompt name with args (a JSON text); fails on an error. */
static char *
text_of(const char *name, const char *args)
{
	struct json_object	*a = args != NULL ? json_tokener_parse(args) :
				    NULL, *r, *m, *c, *t;
	char			*why = NULL, *out;

	r = prompts_get(name, a, &why);
	ck_assert_msg(r != NULL, "%s: %s", name, why != NULL ? why : "");
	ck_assert(json_object_object_get_ex(r, "messages", &m));
	ck_assert_int_eq((int)json_object_array_length(m), 1);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(m, 0),
	    "content", &c));
	ck_assert(json_object_object_get_ex(c, "text", &t));
	out = xstrdup(json_object_get_string(t));
	json_object_put(r);
	json_object_put(a);
	return (out);
}

START_TEST(test_list_names_three_prompts_with_arguments)
{
	struct json_object	*r = prompts_list(), *list, *p, *args;
	size_t			 i;

	ck_assert(json_object_object_get_ex(r, "prompts", &list));
	ck_assert_int_eq((int)json_object_array_length(list), 3);
	for (i = 0; i < 3; i++) {
		p = json_object_array_get_idx(list, i);
		ck_assert(json_object_object_get_ex(p, "arguments", &args));
		ck_assert(json_object_array_length(args) > 0);
	}
	json_object_put(r);
}
END_TEST

START_TEST(test_prompts_filled_in)
{
	char	*t;

	t = text_of("tonights_pick", "{\"minutes\":\"45\",\"mood\":\"dark\"}");
	ck_assert_ptr_nonnull(strstr(t, "count 5, minutes 45, mood \"dark\""));
	free(t);
	t = text_of("tonights_pick", NULL);
	ck_assert_ptr_nonnull(strstr(t, "Call pick_from_my_list with count 5."));
	free(t);
	t = text_of("season_digest", "{\"year\":\"2024\"}");
	ck_assert_ptr_nonnull(strstr(t, "with year 2024"));
	free(t);
	t = text_of("catch_up_on_franchise",
	    "{\"title\":\"Frieren\",\"user_name\":\"sampleuser\"}");
	ck_assert_ptr_nonnull(strstr(t, "\"Frieren\""));
	ck_assert_ptr_nonnull(strstr(t, "user_name sampleuser"));
	free(t);
}
END_TEST

static const struct {
	const char	*name;
	const char	*args;
	const char	*says;
} bad_cases[] = {
	{ "nope", "{}", "unknown prompt" },
	{ "catch_up_on_franchise", "{}", "needs the argument title" },
	{ "catch_up_on_franchise", "{\"title\":\"\"}", "title" },
	{ "catch_up_on_franchise", "{\"title\":\"a\\\"b\"}", "title" },
	{ "catch_up_on_franchise", "{\"title\":\"\\u0001\"}", "title" },
	{ "tonights_pick", "{\"minutes\":\"1441\"}", "minutes" },
	{ "tonights_pick", "{\"minutes\":\"9999999\"}", "minutes" },
	{ "tonights_pick", "{\"minutes\":null}", NULL },
	{ "tonights_pick", "{\"mood\":\"Dark\"}", "mood" },
	{ "tonights_pick", "{\"user_name\":\"\"}", "user_name" },
	{ "season_digest", "{\"year\":\"1939\"}", "year" },
	{ "season_digest", "{\"season\":\"fall\"}", "season" },
	{ "season_digest", "[]", "object" },
};

START_TEST(test_bad_arguments_named)
{
	struct json_object	*a = json_tokener_parse(bad_cases[_i].args), *r;
	char			*why = NULL;

	r = prompts_get(bad_cases[_i].name, a, &why);
	if (bad_cases[_i].says == NULL) {
		/* null is an absent optional argument */
		ck_assert_ptr_nonnull(r);
		json_object_put(r);
	} else {
		ck_assert_ptr_null(r);
		ck_assert_msg(why != NULL && strstr(why, bad_cases[_i].says) !=
		    NULL, "%s: %s", bad_cases[_i].args, why);
	}
	free(why);
	json_object_put(a);
}
END_TEST

static Suite *
prompts_suite(void)
{
	Suite	*s = suite_create("prompts");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_list_names_three_prompts_with_arguments);
	tcase_add_test(tc, test_prompts_filled_in);
	tcase_add_loop_test(tc, test_bad_arguments_named, 0,
	    (int)nitems(bad_cases));
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(prompts_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
