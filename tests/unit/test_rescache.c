/* test_rescache.c: results kept as text in the worker: hits, freshness, the byte budget, values outliving eviction. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "rawjson.h"
#include "rescache.h"
#include "util.h"

#define FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static void
setup(const char *kb, const char *seconds)
{
	char	*cause = NULL;

	cfg = config_create();
	ck_assert(config_set(cfg, "RESULT_CACHE_KB", kb, &cause));
	ck_assert(config_set(cfg, "RESULT_CACHE_SECONDS", seconds, &cause));
	rescache_clear();
}

static void
teardown(void)
{
	rescache_clear();
	config_free(cfg);
	cfg = NULL;
}

/* A result like the tools' own: results, summary, source. */
static struct json_object *
result(const char *title, size_t pad)
{
	struct json_object	*o, *a, *src;
	char			*text;

	text = xmalloc(pad + 1);
	memset(text, 'x', pad);
	text[pad] = '\0';
	a = json_object_new_array();
	if (title != NULL)
		json_object_array_add(a, json_object_new_string(title));
	o = json_object_new_object();
	json_object_object_add(o, "results", a);
	json_object_object_add(o, "text_summary", json_object_new_string(text));
	src = json_object_new_object();
	json_object_object_add(src, "cache", json_object_new_string("miss"));
	json_object_object_add(src, "fetched_at",
	    json_object_new_string("2026-11-27T10:00:00Z"));
	json_object_object_add(o, "source", src);
	free(text);
	return (o);
}

static uint64_t
in_ms(int64_t ms)
{
	return ((uint64_t)((int64_t)util_wall_ms() + ms));
}

START_TEST(test_rescache_hit_answers_the_text_with_cache_hit)
{
	struct json_object	*r, *v, *parsed, *q;
	struct rescache_hit	 hit = { NULL, true };
	char			*miss_text;

	setup("64", "300");
	r = result("Frieren \"quoted\" \xc3\xa9 </script>", 10);
	miss_text = xstrdup(json_object_to_json_string_ext(r, FLAGS));
	ck_assert_ptr_null(rescache_get("search_anime\n{}", &hit));
	rescache_put("search_anime\n{}", r, "search", in_ms(60000), false);
	/* The caller's result is untouched: still a miss, same order. */
	ck_assert_str_eq(json_object_to_json_string_ext(r, FLAGS), miss_text);

	v = rescache_get("search_anime\n{}", &hit);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(hit.kind, "search");
	ck_assert(!hit.empty);
	parsed = json_tokener_parse(json_object_to_json_string_ext(v, FLAGS));
	ck_assert_ptr_nonnull(parsed);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
	    json_object_object_get(parsed, "source"), "cache")), "hit");
	/* Everything else is the stored result. */
	json_object_object_add(json_object_object_get(r, "source"), "cache",
	    json_object_new_string("hit"));
	ck_assert(json_object_equal(parsed, r));

	/* The quoted form is one JSON string whose value is the text. */
	ck_assert_ptr_nonnull(rawjson_of(v));
	q = rawjson_node(rawjson_quoted(rawjson_of(v)));
	json_object_put(parsed);
	parsed = json_tokener_parse(json_object_to_json_string_ext(q, FLAGS));
	ck_assert_ptr_nonnull(parsed);
	ck_assert(json_object_is_type(parsed, json_type_string));
	ck_assert_str_eq(json_object_get_string(parsed),
	    json_object_to_json_string_ext(v, FLAGS));
	/* Nested in a document, both serialise in place. */
	json_object_put(parsed);
	parsed = json_object_new_object();
	json_object_object_add(parsed, "text", q);
	json_object_object_add(parsed, "structured", json_object_get(v));
	json_object_put(r);
	r = json_tokener_parse(json_object_to_json_string_ext(parsed, FLAGS));
	ck_assert_ptr_nonnull(r);
	ck_assert(json_object_is_type(json_object_object_get(r, "structured"),
	    json_type_object));
	ck_assert_ptr_null(rawjson_of(r));

	json_object_put(parsed);
	json_object_put(v);
	json_object_put(r);
	free(miss_text);
	teardown();
}
END_TEST

START_TEST(test_rescache_empty_flag_and_keys_are_exact)
{
	struct json_object	*r, *v;
	struct rescache_hit	 hit = { NULL, false };

	setup("64", "300");
	r = result(NULL, 1);
	rescache_put("a\n{\"q\":1}", r, "media", in_ms(60000), true);
	ck_assert_ptr_null(rescache_get("a\n{\"q\":2}", &hit));
	ck_assert_ptr_null(rescache_get("b\n{\"q\":1}", &hit));
	v = rescache_get("a\n{\"q\":1}", &hit);
	ck_assert_ptr_nonnull(v);
	ck_assert(hit.empty);
	ck_assert_str_eq(hit.kind, "media");
	json_object_put(v);
	json_object_put(r);
	teardown();
}
END_TEST

START_TEST(test_rescache_never_outlives_freshness_or_the_cap)
{
	struct json_object	*r, *v;
	struct rescache_hit	 hit;
	struct rescache_stats	 st;

	setup("64", "1");
	r = result("t", 1);
	/* Already stale data is not kept. */
	rescache_put("stale", r, "search", in_ms(-1), false);
	ck_assert_ptr_null(rescache_get("stale", &hit));
	/* Fresh for 150 ms: gone after. */
	rescache_put("short", r, "search", in_ms(150), false);
	/* Fresh for an hour, but RESULT_CACHE_SECONDS is 1. */
	rescache_put("capped", r, "search", in_ms(3600 * 1000), false);
	v = rescache_get("short", &hit);
	ck_assert_ptr_nonnull(v);
	json_object_put(v);
	usleep(200 * 1000);
	ck_assert_ptr_null(rescache_get("short", &hit));
	v = rescache_get("capped", &hit);
	ck_assert_ptr_nonnull(v);
	json_object_put(v);
	usleep(900 * 1000);
	ck_assert_ptr_null(rescache_get("capped", &hit));
	rescache_stats_get(&st);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_uint_eq(st.bytes, 0);
	json_object_put(r);
	teardown();
}
END_TEST

START_TEST(test_rescache_budget_evicts_least_recently_used)
{
	struct json_object	*r, *held, *v;
	struct rescache_hit	 hit;
	struct rescache_stats	 st;
	char			 key[32];
	int			 i;

	setup("16", "300");
	r = result("t", 1000);		/* ~2.2 KB kept per entry */
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof key, "k%d", i);
		rescache_put(key, r, "search", in_ms(60000), false);
	}
	/* k0 used recently: k1 is the oldest now. Hold a value of k1. */
	v = rescache_get("k0", &hit);
	json_object_put(v);
	held = rescache_get("k1", &hit);
	ck_assert_ptr_nonnull(held);
	v = rescache_get("k0", &hit);
	json_object_put(v);
	for (i = 4; i < 12; i++) {
		snprintf(key, sizeof key, "k%d", i);
		rescache_put(key, r, "search", in_ms(60000), false);
		rescache_stats_get(&st);
		ck_assert_uint_le(st.bytes, 16 * 1024);
	}
	rescache_stats_get(&st);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_uint_lt(st.entries, 12);
	/* The newest stay; the oldest went first. */
	v = rescache_get("k11", &hit);
	ck_assert_ptr_nonnull(v);
	json_object_put(v);
	ck_assert_ptr_null(rescache_get("k2", &hit));
	/* A value handed out before its eviction is still whole (ASan). */
	ck_assert_ptr_null(rescache_get("k1", &hit));
	v = json_tokener_parse(json_object_to_json_string_ext(held, FLAGS));
	ck_assert_ptr_nonnull(v);
	json_object_put(v);
	json_object_put(held);

	/* One answer never takes more than a quarter of the room. */
	json_object_put(r);
	r = result("big", 5000);
	rescache_put("big", r, "search", in_ms(60000), false);
	ck_assert_ptr_null(rescache_get("big", &hit));
	json_object_put(r);
	teardown();
}
END_TEST

START_TEST(test_rescache_off_and_replaced)
{
	struct json_object	*r, *r2, *v;
	struct rescache_hit	 hit;
	struct rescache_stats	 st;

	setup("0", "300");
	r = result("one", 1);
	rescache_put("k", r, "search", in_ms(60000), false);
	ck_assert_ptr_null(rescache_get("k", &hit));
	teardown();

	setup("64", "300");
	r2 = result("two", 1);
	rescache_put("k", r, "search", in_ms(60000), false);
	rescache_put("k", r2, "search", in_ms(60000), false);
	rescache_stats_get(&st);
	ck_assert_uint_eq(st.entries, 1);
	v = rescache_get("k", &hit);
	ck_assert_ptr_nonnull(strstr(json_object_to_json_string_ext(v, FLAGS),
	    "\"two\""));
	json_object_put(v);
	json_object_put(r);
	json_object_put(r2);
	teardown();
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("rescache");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_rescache_hit_answers_the_text_with_cache_hit);
	tcase_add_test(tc, test_rescache_empty_flag_and_keys_are_exact);
	tcase_add_test(tc, test_rescache_never_outlives_freshness_or_the_cap);
	tcase_add_test(tc, test_rescache_budget_evicts_least_recently_used);
	tcase_add_test(tc, test_rescache_off_and_replaced);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
