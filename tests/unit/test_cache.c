/* test_cache.c: cache keys: canonical JSON, digests, key shape and counter values (no server needed). */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cache.h"
#include "util.h"

static char *
canonical(const char *text)
{
	struct json_object	*o = json_tokener_parse(text);
	struct buf		 b;

	ck_assert_ptr_nonnull(o);
	buf_init(&b);
	cache_canonical_json(o, &b);
	json_object_put(o);
	return (buf_detach(&b));
}

static void
digest(const char *op, const char *args, const char *scope, uint64_t gen,
    const char *secret, char out[CACHE_DIGEST_LEN])
{
	struct json_object	*o = json_tokener_parse(args);

	ck_assert_ptr_nonnull(o);
	cache_digest(op, o, scope, gen, secret, out);
	json_object_put(o);
}

static const struct {
	const char	*in;
	const char	*want;
} canonical_cases[] = {
	{ "{\"b\":1,\"a\":2}", "{\"a\":2,\"b\":1}" },
	{ "{ \"z\" : { \"y\":[3, 1, {\"d\":null,\"c\":true}] }, \"a\":\"s\" }",
	  "{\"a\":\"s\",\"z\":{\"y\":[3,1,{\"c\":true,\"d\":null}]}}" },
	{ "{\"q\":\"caf\\u00e9 \\\"x\\\"\"}", "{\"q\":\"caf\xc3\xa9 \\\"x\\\"\"}" },
	{ "{\"x\":1.50}", "{\"x\":1.5}" },
	{ "{\"x\":false,\"X\":0}", "{\"X\":0,\"x\":false}" },
	{ "[]", "[]" },
	{ "{}", "{}" },
	/* json-c reads NaN and Infinity; JSON has neither. */
	{ "{\"x\":NaN,\"y\":[Infinity,-Infinity]}",
	  "{\"x\":null,\"y\":[null,null]}" },
};

START_TEST(test_canonical_json_sorts_keys_at_every_level)
{
	char	*got = canonical(canonical_cases[_i].in);

	ck_assert_str_eq(got, canonical_cases[_i].want);
	free(got);
}
END_TEST

START_TEST(test_digest_ignores_key_order)
{
	char	a[CACHE_DIGEST_LEN], b[CACHE_DIGEST_LEN];

	digest("SearchMedia", "{\"search\":\"naruto\",\"page\":1,"
	    "\"genre_in\":[\"Action\"],\"f\":{\"b\":1,\"a\":2}}", NULL, 0, NULL,
	    a);
	digest("SearchMedia", "{\"f\":{\"a\":2,\"b\":1},\"genre_in\":"
	    "[\"Action\"],\"page\":1,\"search\":\"naruto\"}", NULL, 0, NULL, b);
	ck_assert_str_eq(a, b);
	ck_assert_uint_eq(strlen(a), 64);
}
END_TEST

/* Each pair must differ from the base request. */
static const struct {
	const char	*op;
	const char	*args;
	const char	*scope;
	uint64_t	 gen;
	const char	*secret;
} differ_cases[] = {
	{ "SearchMedia", "{\"page\":2,\"search\":\"naruto\"}", NULL, 0, NULL },
	{ "SearchMedia", "{\"page\":\"1\",\"search\":\"naruto\"}", NULL, 0, NULL },
	{ "SearchMedia", "{\"search\":\"naruto\"}", NULL, 0, NULL },
	{ "SearchMedia", "{\"page\":1,\"search\":\"Naruto\"}", NULL, 0, NULL },
	{ "TrendingMedia", "{\"page\":1,\"search\":\"naruto\"}", NULL, 0, NULL },
	{ "SearchMedia", "{\"page\":1,\"search\":\"naruto\"}", "user:1", 0, NULL },
	{ "SearchMedia", "{\"page\":1,\"search\":\"naruto\"}", NULL, 1, NULL },
	{ "SearchMedia", "{\"page\":1,\"search\":\"naruto\"}", NULL, 0, "t" },
	{ "SearchMedia", "{\"page\":1,\"search\":\"naruto\",\"x\":null}", NULL, 0,
	  NULL },
};

START_TEST(test_digest_differs_for_different_requests)
{
	char	base[CACHE_DIGEST_LEN], other[CACHE_DIGEST_LEN];

	digest("SearchMedia", "{\"page\":1,\"search\":\"naruto\"}", NULL, 0,
	    NULL, base);
	digest(differ_cases[_i].op, differ_cases[_i].args,
	    differ_cases[_i].scope, differ_cases[_i].gen,
	    differ_cases[_i].secret, other);
	ck_assert_str_ne(base, other);
}
END_TEST

START_TEST(test_digest_arrays_keep_their_order)
{
	char	a[CACHE_DIGEST_LEN], b[CACHE_DIGEST_LEN];

	digest("SearchMedia", "{\"sort\":[\"SCORE_DESC\",\"POPULARITY_DESC\"]}",
	    NULL, 0, NULL, a);
	digest("SearchMedia", "{\"sort\":[\"POPULARITY_DESC\",\"SCORE_DESC\"]}",
	    NULL, 0, NULL, b);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_key_has_version_prefix_and_fits_memcached)
{
	char	d[CACHE_DIGEST_LEN], key[CACHE_KEY_LEN];
	size_t	i;

	digest("SearchMedia", "{\"search\":\"a b\"}", "user:42", 7, NULL, d);
	cache_key(key, "d", d);
	ck_assert_int_eq(strncmp(key, "ag:" CACHE_KEY_VERSION ":d:", 8), 0);
	ck_assert_uint_eq(strlen(key), 8 + 64);
	for (i = 0; key[i] != '\0'; i++)
		ck_assert(key[i] > ' ' && key[i] < 127);
}
END_TEST

START_TEST(test_sha256_hex_matches_known_vector)
{
	char	hex[CACHE_DIGEST_LEN];

	cache_sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}
END_TEST

static const struct {
	const char	*servers;
	bool		 ok;
} create_cases[] = {
	{ "127.0.0.1:11211", true },
	{ "10.0.0.1:11211, 10.0.0.2:11212,[::1]:11213", true },
	{ "127.0.0.1", false },
	{ "127.0.0.1:0", false },
	{ "127.0.0.1:99999", false },
	{ "", false },
	{ ":11211", false },
};

START_TEST(test_create_parses_server_lists)
{
	struct cache	*c;
	char		*cause = NULL;

	c = cache_create(create_cases[_i].servers, 50, &cause);
	if (create_cases[_i].ok) {
		ck_assert_ptr_nonnull(c);
		ck_assert_ptr_null(cause);
	} else {
		ck_assert_ptr_null(c);
		ck_assert_ptr_nonnull(cause);
	}
	cache_free(c);
	free(cause);
}
END_TEST

START_TEST(test_operations_without_a_cache_are_errors)
{
	char		*v = (char *)1;
	size_t		 len = 7;
	uint64_t	 n;
	const char	*keys[1] = { "k" };
	char		*vals[1];

	ck_assert_int_eq(cache_get(NULL, "k", &v, &len), CACHE_ERROR);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(cache_set(NULL, "k", "v", 1, 1), CACHE_ERROR);
	ck_assert_int_eq(cache_add(NULL, "k", "v", 1, 1), CACHE_ERROR);
	ck_assert_int_eq(cache_delete(NULL, "k"), CACHE_ERROR);
	ck_assert_int_eq(cache_incr(NULL, "k", 1, 1, 1, &n), CACHE_ERROR);
	ck_assert_int_eq(cache_mget(NULL, keys, 1, vals), CACHE_ERROR);
	ck_assert_ptr_null(vals[0]);
	cache_free(NULL);
}
END_TEST

/* A server that refuses connections costs an error, not a wait. */
START_TEST(test_refused_server_fails_fast)
{
	struct cache	*c;
	char		*cause = NULL, *v;
	size_t		 len;
	uint64_t	 t0;
	int		 i;

	c = cache_create("127.0.0.1:1", 100, &cause);
	ck_assert_ptr_nonnull(c);
	t0 = util_mono_ms();
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(cache_get(c, "k", &v, &len), CACHE_ERROR);
	ck_assert_uint_lt(util_mono_ms() - t0, 500);
	cache_free(c);
}
END_TEST

static const struct {
	const char	*val;
	bool		 ok;
	uint64_t	 want;
} counter_cases[] = {
	{ "0", true, 0 },
	{ "42", true, 42 },
	{ "9 ", true, 9 },		/* decremented from 10 */
	{ "1  ", true, 1 },		/* from 100 */
	{ "18446744073709551615", true, UINT64_MAX },
	{ "18446744073709551616", false, 0 },
	{ "", false, 0 },
	{ " 9", false, 0 },
	{ "-1", false, 0 },
	{ "9 x", false, 0 },
	{ "abc", false, 0 },
};

START_TEST(test_counter_value_reads_memcached_padding)
{
	uint64_t	v = 77;

	ck_assert(cache_counter_value(counter_cases[_i].val, &v) ==
	    counter_cases[_i].ok);
	if (counter_cases[_i].ok)
		ck_assert_uint_eq(v, counter_cases[_i].want);
	else
		ck_assert_uint_eq(v, 77);
	ck_assert(!cache_counter_value(NULL, &v));
}
END_TEST

static Suite *
cache_suite(void)
{
	Suite	*s = suite_create("cache");
	TCase	*tc = tcase_create("keys");

	tcase_add_loop_test(tc, test_canonical_json_sorts_keys_at_every_level,
	    0, (int)nitems(canonical_cases));
	tcase_add_test(tc, test_digest_ignores_key_order);
	tcase_add_loop_test(tc, test_digest_differs_for_different_requests, 0,
	    (int)nitems(differ_cases));
	tcase_add_test(tc, test_digest_arrays_keep_their_order);
	tcase_add_test(tc, test_key_has_version_prefix_and_fits_memcached);
	tcase_add_test(tc, test_sha256_hex_matches_known_vector);
	tcase_add_loop_test(tc, test_create_parses_server_lists, 0,
	    (int)nitems(create_cases));
	tcase_add_test(tc, test_operations_without_a_cache_are_errors);
	tcase_add_test(tc, test_refused_server_fails_fast);
	tcase_add_loop_test(tc, test_counter_value_reads_memcached_padding, 0,
	    (int)nitems(counter_cases));
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(cache_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
