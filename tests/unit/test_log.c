/* test_log.c: JSON-lines format, escaping, levels, request ids. */
#include "autoconf.h"

#include <check.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"
#include "util.h"

static int	log_file = -1;

/* Every test logs into a fresh temporary file. */
static void
setup(void)
{
	char	path[] = "/tmp/test_log.XXXXXX";

	log_file = mkstemp(path);
	ck_assert_int_ge(log_file, 0);
	unlink(path);
	log_set_fd(log_file);
	log_threshold = LOG_DEBUG;
	log_set_request_id(NULL);
}

static void
teardown(void)
{
	log_set_fd(2);
	close(log_file);
}

/* Everything logged so far; caller frees. */
static char *
logged(void)
{
	struct buf	b;
	char		chunk[4096];
	ssize_t		n;
	off_t		off = 0;

	buf_init(&b);
	buf_append(&b, "", 0);
	while ((n = pread(log_file, chunk, sizeof chunk, off)) > 0) {
		buf_append(&b, chunk, (size_t)n);
		off += n;
	}
	return (buf_detach(&b));
}

/* The only line logged, parsed; fails unless exactly one line. */
static struct json_object *
only_line(void)
{
	struct json_object	*o;
	char			*text = logged(), *nl;

	nl = strchr(text, '\n');
	ck_assert_msg(nl != NULL, "no line logged");
	ck_assert_msg(nl[1] == '\0', "more than one line: %s", text);
	o = json_tokener_parse(text);
	ck_assert_msg(o != NULL, "not JSON: %s", text);
	ck_assert(json_object_is_type(o, json_type_object));
	free(text);
	return (o);
}

static struct json_object *
field(struct json_object *o, const char *key)
{
	struct json_object	*v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no \"%s\"",
	    key);
	return (v);
}

static bool
has(struct json_object *o, const char *key)
{
	return (json_object_object_get_ex(o, key, NULL));
}

START_TEST(test_line_has_ts_level_msg_and_fields)
{
	struct json_object	*o, *r;
	regex_t			 re;
	const char		*ts;

	log_emit(LOG_INFO, "hello", LF_STR("k", "v"), LF_INT("n", -42),
	    LF_DBL("d", 1.5), LF_BOOL("b", 1), LF_RAW("r", "{\"x\":[1,2]}"),
	    LF_END);
	o = only_line();
	ts = json_object_get_string(field(o, "ts"));
	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$", REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, ts, 0, NULL, 0) == 0, "ts \"%s\"", ts);
	regfree(&re);
	ck_assert_str_eq(json_object_get_string(field(o, "level")), "info");
	ck_assert_str_eq(json_object_get_string(field(o, "msg")), "hello");
	ck_assert_str_eq(json_object_get_string(field(o, "k")), "v");
	ck_assert_int_eq(json_object_get_int64(field(o, "n")), -42);
	ck_assert(json_object_is_type(field(o, "d"), json_type_double));
	ck_assert(fabs(json_object_get_double(field(o, "d")) - 1.5) < 1e-9);
	ck_assert(json_object_get_boolean(field(o, "b")));
	r = field(o, "r");
	ck_assert(json_object_is_type(r, json_type_object));
	ck_assert_int_eq(json_object_array_length(field(r, "x")), 2);
	ck_assert_int_eq(json_object_get_int(field(o, "pid")), getpid());
	ck_assert(!has(o, "request_id"));
	json_object_put(o);
}
END_TEST

START_TEST(test_ts_is_rfc3339_utc_with_ms)
{
	char	ts[32];

	log_format_ts(0, ts);
	ck_assert_str_eq(ts, "1970-01-01T00:00:00.000Z");
	log_format_ts(1700000000123ULL, ts);
	ck_assert_str_eq(ts, "2023-11-14T22:13:20.123Z");
	log_format_ts(951782400007ULL, ts);	/* a leap day */
	ck_assert_str_eq(ts, "2000-02-29T00:00:00.007Z");
}
END_TEST

START_TEST(test_ts_is_now)
{
	struct json_object	*o;
	char			 before[32], after[32];
	const char		*ts;

	log_format_ts(util_wall_ms(), before);
	log_info("now", LF_END);
	log_format_ts(util_wall_ms(), after);
	o = only_line();
	ts = json_object_get_string(field(o, "ts"));
	ck_assert(strcmp(before, ts) <= 0 && strcmp(ts, after) <= 0);
	json_object_put(o);
}
END_TEST

/* Strings that need escaping survive the round trip through JSON. */
static const struct {
	const char	*in;
	const char	*out;	/* NULL: same as in */
} escape_cases[] = {
	{ "quote \" backslash \\ slash /", NULL },
	{ "new\nline\rreturn\ttab", NULL },
	{ "control \x01\x1f\x7f end", NULL },
	{ "utf-8 caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x8c", NULL },
	{ "bad \xff byte", "bad \xef\xbf\xbd byte" },
	{ "cut \xe6\x97", "cut \xef\xbf\xbd\xef\xbf\xbd" },
	{ "surrogate \xed\xa0\x80!", "surrogate \xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd!" },
};

START_TEST(test_escaping_keeps_one_valid_json_line)
{
	struct json_object	*o;
	const char		*want;
	char			*text;

	want = escape_cases[_i].out != NULL ? escape_cases[_i].out :
	    escape_cases[_i].in;
	log_warn(escape_cases[_i].in, LF_STR(escape_cases[_i].in,
	    escape_cases[_i].in), LF_END);
	text = logged();
	ck_assert_msg(util_utf8_valid(text, strlen(text)), "not UTF-8");
	free(text);
	o = only_line();
	ck_assert_str_eq(json_object_get_string(field(o, "msg")), want);
	ck_assert_str_eq(json_object_get_string(field(o, want)), want);
	json_object_put(o);
}
END_TEST

static int	evaluated;

static const char *
side_effect(void)
{
	evaluated++;
	return ("x");
}

START_TEST(test_level_filter_skips_argument_evaluation)
{
	char	*text;

	log_threshold = LOG_WARN;
	evaluated = 0;
	log_debug("d", LF_STR("x", side_effect()), LF_END);
	log_info("i", LF_STR("x", side_effect()), LF_INT("n", evaluated++),
	    LF_END);
	ck_assert_int_eq(evaluated, 0);
	text = logged();
	ck_assert_str_eq(text, "");
	free(text);

	log_warn("w", LF_STR("x", side_effect()), LF_END);
	log_error("e", LF_STR("x", side_effect()), LF_END);
	ck_assert_int_eq(evaluated, 2);
	text = logged();
	ck_assert_ptr_nonnull(strstr(text, "\"level\":\"warn\""));
	ck_assert_ptr_nonnull(strstr(text, "\"level\":\"error\""));
	free(text);
}
END_TEST

START_TEST(test_null_strings_are_omitted)
{
	struct json_object	*o;

	log_info("m", LF_STR("gone", NULL), LF_RAW("raw_gone", NULL),
	    LF_STR("kept", "yes"), LF_END);
	o = only_line();
	ck_assert(!has(o, "gone"));
	ck_assert(!has(o, "raw_gone"));
	ck_assert_str_eq(json_object_get_string(field(o, "kept")), "yes");
	json_object_put(o);
}
END_TEST

START_TEST(test_non_finite_double_is_null)
{
	struct json_object	*o;

	log_info("m", LF_DBL("inf", INFINITY), LF_DBL("nan", NAN), LF_END);
	o = only_line();
	ck_assert(has(o, "inf"));
	ck_assert_ptr_null(field(o, "inf"));	/* JSON null */
	ck_assert_ptr_null(field(o, "nan"));
	json_object_put(o);
}
END_TEST

/* Doubles are written as "%.3f" writes them (durations: every line). */
START_TEST(test_doubles_have_three_decimals)
{
	static const double	 values[] = {
		0.0, 1.5, 12.3456, 0.0004, 0.0006, 999.9996, 55.012, 3.25,
		-2.5, -0.25, 123456789.125, 1e17, -1e17
	};
	char			*text, want[64], key[8];
	struct buf		 line;
	size_t			 i;

	for (i = 0; i < nitems(values); i++) {
		teardown();
		setup();
		snprintf(key, sizeof key, "v%zu", i);
		log_info("m", LF_DBL(key, values[i]), LF_END);
		text = logged();
		buf_init(&line);
		buf_printf(&line, "\"%s\":", key);
		snprintf(want, sizeof want, "%.3f", values[i]);
		buf_puts(&line, want);
		buf_putc(&line, '}');
		ck_assert_msg(strstr(text, line.data) != NULL, "%s in %s",
		    line.data, text);
		buf_free(&line);
		free(text);
	}
}
END_TEST

START_TEST(test_request_id_is_carried_then_cleared)
{
	struct json_object	*o;
	char			*text;

	log_set_request_id("req-\"1\"");
	ck_assert_str_eq(log_request_id(), "req-\"1\"");
	log_info("with", LF_END);
	o = only_line();
	ck_assert_str_eq(json_object_get_string(field(o, "request_id")),
	    "req-\"1\"");
	json_object_put(o);

	log_set_request_id(NULL);
	ck_assert_ptr_null(log_request_id());
	log_info("without", LF_END);
	text = logged();
	ck_assert_ptr_null(strstr(strchr(text, '\n') + 1, "request_id"));
	free(text);
}
END_TEST

START_TEST(test_role_is_shown)
{
	struct json_object	*o;

	log_set_role("worker");
	log_info("m", LF_END);
	o = only_line();
	ck_assert_str_eq(json_object_get_string(field(o, "role")), "worker");
	json_object_put(o);
}
END_TEST

/* Level names: parsed case-insensitively, "warning" as warn. */
static const struct {
	const char	*name;
	bool		 ok;
	enum log_level	 level;
	const char	*canonical;
} level_cases[] = {
	{ "debug", true, LOG_DEBUG, "debug" },
	{ "INFO", true, LOG_INFO, "info" },
	{ "Warn", true, LOG_WARN, "warn" },
	{ "warning", true, LOG_WARN, "warn" },
	{ "error", true, LOG_ERROR, "error" },
	{ "verbose", false, LOG_INFO, NULL },
	{ "", false, LOG_INFO, NULL },
};

START_TEST(test_level_parse)
{
	enum log_level	l = LOG_FATAL;

	ck_assert(log_level_parse(level_cases[_i].name, &l) ==
	    level_cases[_i].ok);
	if (level_cases[_i].ok) {
		ck_assert_int_eq(l, level_cases[_i].level);
		ck_assert_str_eq(log_level_name(l), level_cases[_i].canonical);
	} else
		ck_assert_int_eq(l, LOG_FATAL);	/* untouched */
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_line_has_ts_level_msg_and_fields);
	tcase_add_test(tc, test_ts_is_rfc3339_utc_with_ms);
	tcase_add_test(tc, test_ts_is_now);
	tcase_add_loop_test(tc, test_escaping_keeps_one_valid_json_line, 0,
	    (int)nitems(escape_cases));
	tcase_add_test(tc, test_level_filter_skips_argument_evaluation);
	tcase_add_test(tc, test_null_strings_are_omitted);
	tcase_add_test(tc, test_non_finite_double_is_null);
	tcase_add_test(tc, test_doubles_have_three_decimals);
	tcase_add_test(tc, test_request_id_is_carried_then_cleared);
	tcase_add_test(tc, test_role_is_shown);
	tcase_add_loop_test(tc, test_level_parse, 0,
	    (int)nitems(level_cases));
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(log_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
