/* test_searchstats.c: query normalisation, the per-worker counts, the text[] literal, the config key. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "searchstats.h"
#include "util.h"

static const struct {
	const char	*in;
	const char	*out;	/* NULL: not counted */
} cases[] = {
	{ "Frieren", "frieren" },
	{ "  FRIEREN  ", "frieren" },
	{ "Sousou  no\t\tFrieren\n", "sousou no frieren" },
	{ "Attack\xc2\xa0on\xe3\x80\x80Titan", "attack on titan" },
	{ "a\x01\x7f" "b", "a b" },
	{ "\xef\xbb\xbfkimi\xe2\x80\x8bno na wa", "kimi no na wa" },
	{ "葬送のフリーレン", "葬送のフリーレン" },
	{ "\xc3\x89" "COLE", "\xc3\x89" "cole" },	/* ASCII only, here */
	{ "", NULL },
	{ " \t\n ", NULL },
	{ "\xc2\xa0\xe3\x80\x80", NULL },
	{ "bad \xff utf-8", NULL },
	{ "\xc3", NULL },
};

START_TEST(test_searchstats_normalises_queries)
{
	char	out[SEARCHSTATS_QUERY_MAX + 1];
	bool	ok;

	ok = searchstats_normalise(cases[_i].in, out);
	if (cases[_i].out == NULL) {
		ck_assert_msg(!ok, "case %d counted as \"%s\"", _i, out);
		return;
	}
	ck_assert_msg(ok, "case %d not counted", _i);
	ck_assert_str_eq(out, cases[_i].out);
}
END_TEST

START_TEST(test_searchstats_caps_length_on_a_character_boundary)
{
	char	in[400], out[SEARCHSTATS_QUERY_MAX + 1];
	size_t	i;

	/* 99 ASCII bytes, then a 3-byte character that would cross 100. */
	memset(in, 'a', 99);
	strcpy(in + 99, "\xe3\x81\x82zzz");
	ck_assert(searchstats_normalise(in, out));
	ck_assert_uint_eq(strlen(out), 99);
	/* Three-byte characters only: 33 of them (99 bytes). */
	for (i = 0; i < 120; i++)
		memcpy(in + 3 * i, "\xe3\x81\x82", 3);
	in[360] = '\0';
	ck_assert(searchstats_normalise(in, out));
	ck_assert_uint_eq(strlen(out), 99);
	ck_assert(util_utf8_valid(out, strlen(out)));
	/* A space at the cut is not kept at the end. */
	memset(in, 'b', 100);
	strcpy(in + 100, " more");
	ck_assert(searchstats_normalise(in, out));
	ck_assert_uint_eq(strlen(out), 100);
	ck_assert_int_eq(out[99], 'b');
}
END_TEST

START_TEST(test_searchstats_text_array_escapes_quotes_and_backslashes)
{
	const char	*v[] = { "frieren", "say \"hi\"", "back\\slash", "{,}" };
	struct buf	 b;

	buf_init(&b);
	searchstats_text_array(&b, v, 4);
	ck_assert_str_eq(b.data, "{\"frieren\",\"say \\\"hi\\\"\","
	    "\"back\\\\slash\",\"{,}\"}");
	buf_free(&b);
	buf_init(&b);
	searchstats_text_array(&b, v, 0);
	ck_assert_str_eq(b.data, "{}");
	buf_free(&b);
}
END_TEST

START_TEST(test_searchstats_windows)
{
	ck_assert(searchstats_window_valid("24h"));
	ck_assert(searchstats_window_valid("7d"));
	ck_assert(searchstats_window_valid("30d"));
	ck_assert(!searchstats_window_valid("1h"));
	ck_assert(!searchstats_window_valid("24H"));
	ck_assert(!searchstats_window_valid(""));
	ck_assert(!searchstats_window_valid(NULL));
}
END_TEST

START_TEST(test_searchstats_counts_in_the_worker_and_drops_on_failed_flush)
{
	char	*cause = NULL;

	cfg = config_create();
	/* Enabled, but the pool was never set up: every flush fails. */
	ck_assert(config_set(cfg, "DATABASE_URL", "host=127.0.0.1 port=1",
	    &cause));
	ck_assert(config_set(cfg, "SEARCH_STATS_FLUSH_SECONDS", "3600",
	    &cause));
	searchstats_record("before init");
	ck_assert_uint_eq(searchstats_pending("before init"), 0);
	searchstats_init();
	searchstats_record("Frieren");
	searchstats_record("  frieren ");
	searchstats_record("FRIEREN");
	searchstats_record("Bocchi the Rock!");
	searchstats_record("   ");
	ck_assert_uint_eq(searchstats_pending("frieren"), 3);
	ck_assert_uint_eq(searchstats_pending("bocchi the rock!"), 1);
	ck_assert(!searchstats_flush(&cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	ck_assert_uint_eq(searchstats_pending("frieren"), 0);
	/* Nothing waiting: nothing to write, nothing fails. */
	ck_assert(searchstats_flush(&cause));
	ck_assert_ptr_null(cause);
	searchstats_record("one more");
	searchstats_shutdown();
	ck_assert_uint_eq(searchstats_pending("one more"), 0);
	searchstats_record("after shutdown");
	ck_assert_uint_eq(searchstats_pending("after shutdown"), 0);
	config_free(cfg);
	cfg = NULL;
}
END_TEST

START_TEST(test_searchstats_map_is_bounded)
{
	char	 q[32], *cause = NULL;
	int	 i;

	cfg = config_create();
	ck_assert(config_set(cfg, "DATABASE_URL", "host=127.0.0.1 port=1",
	    &cause));
	ck_assert(config_set(cfg, "SEARCH_STATS_FLUSH_SECONDS", "3600",
	    &cause));
	searchstats_init();
	for (i = 0; i < SEARCHSTATS_MAP_MAX + 10; i++) {
		snprintf(q, sizeof q, "title %d", i);
		searchstats_record(q);
	}
	ck_assert_uint_eq(searchstats_pending("title 0"), 1);
	snprintf(q, sizeof q, "title %d", SEARCHSTATS_MAP_MAX - 1);
	ck_assert_uint_eq(searchstats_pending(q), 1);
	snprintf(q, sizeof q, "title %d", SEARCHSTATS_MAP_MAX);
	ck_assert_uint_eq(searchstats_pending(q), 0);
	/* A query already held still counts when the map is full. */
	searchstats_record("title 0");
	ck_assert_uint_eq(searchstats_pending("title 0"), 2);
	searchstats_shutdown();
	config_free(cfg);
	cfg = NULL;
}
END_TEST

START_TEST(test_searchstats_flush_seconds_key_has_default_and_bounds)
{
	char	*cause = NULL;

	cfg = config_create();
	ck_assert_int_eq(cfg->search_stats_flush_seconds, 10);
	ck_assert(config_set(cfg, "SEARCH_STATS_FLUSH_SECONDS", "1", &cause));
	ck_assert_int_eq(cfg->search_stats_flush_seconds, 1);
	ck_assert(!config_set(cfg, "SEARCH_STATS_FLUSH_SECONDS", "0", &cause));
	free(cause);
	cause = NULL;
	ck_assert(!config_set(cfg, "SEARCH_STATS_FLUSH_SECONDS", "3601",
	    &cause));
	free(cause);
	config_free(cfg);
	cfg = NULL;
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("searchstats");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	tcase_add_loop_test(tc, test_searchstats_normalises_queries, 0,
	    (int)nitems(cases));
	tcase_add_test(tc, test_searchstats_caps_length_on_a_character_boundary);
	tcase_add_test(tc,
	    test_searchstats_text_array_escapes_quotes_and_backslashes);
	tcase_add_test(tc, test_searchstats_windows);
	tcase_add_test(tc,
	    test_searchstats_counts_in_the_worker_and_drops_on_failed_flush);
	tcase_add_test(tc, test_searchstats_map_is_bounded);
	tcase_add_test(tc,
	    test_searchstats_flush_seconds_key_has_default_and_bounds);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
