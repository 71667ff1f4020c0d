/* test_anilist.c: how AniList answers are classified (status and body → outcome). */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "util.h"

static const struct {
	long			 http;
	const char		*body;		/* NULL: not JSON */
	enum anilist_class	 cls;
	int			 status;
	const char		*message;	/* substring, or NULL */
	bool			 validation;
} cases[] = {
	{ 200, "{\"data\":{\"Page\":{\"media\":[]}}}", ANILIST_OK, 200, NULL,
	  false },
	{ 200, "{\"data\":{\"Page\":{\"media\":[]}},\"errors\":[]}", ANILIST_OK,
	  200, NULL, false },
	{ 200, "{\"data\":{\"A\":null,\"B\":{\"id\":1}}}", ANILIST_OK, 200, NULL,
	  false },
	{ 200, "{\"data\":{\"Media\":null}}", ANILIST_NOT_FOUND, 404, NULL,
	  false },
	{ 200, "{\"data\":{\"Media\":null},\"errors\":[{\"message\":"
	  "\"Not Found.\",\"status\":404}]}", ANILIST_NOT_FOUND, 404,
	  "Not Found.", false },
	{ 404, "{\"data\":{\"Media\":null},\"errors\":[{\"message\":"
	  "\"Not Found.\",\"status\":404}]}", ANILIST_NOT_FOUND, 404,
	  "Not Found.", false },
	{ 200, "{\"data\":null,\"errors\":[{\"message\":\"Internal Server "
	  "Error\",\"status\":500}]}", ANILIST_RETRY, 503, "Internal", false },
	{ 200, "{\"data\":null,\"errors\":[{\"message\":\"weird\"}]}",
	  ANILIST_BAD_ANSWER, 502, "weird", false },
	{ 200, NULL, ANILIST_BAD_ANSWER, 502, "without data", false },
	{ 200, "{\"nodata\":1}", ANILIST_BAD_ANSWER, 502, NULL, false },
	{ 200, "{\"data\":null}", ANILIST_BAD_ANSWER, 502, NULL, false },
	{ 400, "{\"data\":{\"SaveMediaListEntry\":null},\"errors\":[{\"message\":"
	  "\"validation\",\"status\":400,\"validation\":{\"scoreRaw\":[\"The "
	  "score raw must be between 0 and 100.\"]}}]}", ANILIST_INVALID, 400,
	  "validation", true },
	{ 400, "{\"data\":null,\"errors\":[{\"message\":\"Variable \\\"$season"
	  "\\\" got invalid value\",\"status\":400}]}", ANILIST_INVALID, 400,
	  "$season", false },
	{ 200, "{\"data\":null,\"errors\":[{\"message\":\"validation\","
	  "\"status\":400,\"validation\":{\"x\":[\"bad\"]}}]}", ANILIST_INVALID,
	  400, NULL, true },
	{ 401, "{\"data\":{\"Viewer\":null},\"errors\":[{\"message\":\"Invalid "
	  "token\",\"status\":401}]}", ANILIST_UNAUTHORIZED, 401, "Invalid token",
	  false },
	{ 403, "{\"data\":null,\"errors\":[{\"message\":\"API disabled\","
	  "\"status\":403}]}", ANILIST_FORBIDDEN, 403, "API disabled", false },
	{ 429, "{\"data\":null,\"errors\":[{\"message\":\"Too Many Requests.\","
	  "\"status\":429}]}", ANILIST_RATE_LIMITED, 503, "Too Many", false },
	{ 200, "{\"data\":null,\"errors\":[{\"message\":\"Too Many Requests.\","
	  "\"status\":429}]}", ANILIST_RATE_LIMITED, 503, NULL, false },
	{ 500, "{\"data\":null,\"errors\":[{\"message\":\"Internal Server "
	  "Error\",\"status\":500}]}", ANILIST_RETRY, 503, NULL, false },
	{ 502, NULL, ANILIST_RETRY, 503, "HTTP 502", false },
	{ 503, "<html>busy</html>", ANILIST_RETRY, 503, NULL, false },
	{ 504, NULL, ANILIST_RETRY, 503, NULL, false },
	{ 408, NULL, ANILIST_RETRY, 503, NULL, false },
	{ 418, NULL, ANILIST_BAD_ANSWER, 502, "HTTP 418", false },
	{ 301, "{}", ANILIST_BAD_ANSWER, 502, NULL, false },
};

START_TEST(test_classify_answers)
{
	struct json_object	*body = NULL, *validation = (void *)1;
	enum anilist_class	 cls;
	char			 msg[256];
	int			 status = 0;

	if (cases[_i].body != NULL)
		body = json_tokener_parse(cases[_i].body);
	cls = anilist_classify(cases[_i].http, body, &status, msg, sizeof msg,
	    &validation);
	ck_assert_msg(cls == cases[_i].cls, "case %d: class %s, want %s", _i,
	    anilist_class_name(cls), anilist_class_name(cases[_i].cls));
	ck_assert_int_eq(status, cases[_i].status);
	if (cases[_i].message != NULL)
		ck_assert_msg(strstr(msg, cases[_i].message) != NULL,
		    "case %d: message \"%s\"", _i, msg);
	if (cases[_i].status != 200)
		ck_assert_msg(*msg != '\0', "case %d: no message", _i);
	if (cases[_i].validation) {
		ck_assert_ptr_nonnull(validation);
		ck_assert(json_object_is_type(validation, json_type_object));
	} else
		ck_assert_ptr_null(validation);
	json_object_put(body);
}
END_TEST

START_TEST(test_class_names)
{
	ck_assert_str_eq(anilist_class_name(ANILIST_OK), "ok");
	ck_assert_str_eq(anilist_class_name(ANILIST_RETRY), "retry");
	ck_assert_str_eq(anilist_class_name(ANILIST_BAD_ANSWER), "bad_answer");
}
END_TEST

static Suite *
anilist_suite(void)
{
	Suite	*s = suite_create("anilist");
	TCase	*tc = tcase_create("classify");

	tcase_add_loop_test(tc, test_classify_answers, 0, (int)nitems(cases));
	tcase_add_test(tc, test_class_names);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(anilist_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
