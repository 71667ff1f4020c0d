/* test_crypto.c: crypto against published vectors (RFC 5869, 4231, 4648, 7636, GCM spec). */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "util.h"

/* Hex to bytes into out (caller sizes it); returns the length. */
static size_t
unhex(const char *hex, unsigned char *out)
{
	size_t	i, n = strlen(hex) / 2;
	char	pair[3] = { 0 };

	for (i = 0; i < n; i++) {
		pair[0] = hex[2 * i];
		pair[1] = hex[2 * i + 1];
		out[i] = (unsigned char)strtoul(pair, NULL, 16);
	}
	return (n);
}

static void
ck_hex(const unsigned char *p, size_t n, const char *want)
{
	char	*got = malloc(2 * n + 1);

	util_hex(p, n, got);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_hkdf_matches_rfc5869_case_1)
{
	unsigned char		ikm[22], salt[13], info[10], okm[42];
	struct crypto_hkdf	in = { .ikm = ikm, .ikmlen = sizeof ikm,
	    .salt = salt, .saltlen = sizeof salt, .info = info,
	    .infolen = sizeof info };

	memset(ikm, 0x0b, sizeof ikm);
	unhex("000102030405060708090a0b0c", salt);
	unhex("f0f1f2f3f4f5f6f7f8f9", info);
	ck_assert(crypto_hkdf_sha256(&in, okm, sizeof okm));
	ck_hex(okm, sizeof okm, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c"
	    "5db02d56ecc4c5bf34007208d5b887185865");
}
END_TEST

START_TEST(test_hmac_sha256_matches_rfc4231_case_2)
{
	unsigned char	mac[CRYPTO_HASH_LEN];
	const char	*msg = "what do ya want for nothing?";

	ck_assert(crypto_hmac_sha256("Jefe", 4, msg, strlen(msg), mac));
	ck_hex(mac, sizeof mac, "5bdcc146bf60754e6a042426089575c75a003f089d27398"
	    "39dec58b964ec3843");
}
END_TEST

START_TEST(test_sha256_of_abc)
{
	unsigned char	md[CRYPTO_HASH_LEN];

	crypto_sha256("abc", 3, md);
	ck_hex(md, sizeof md, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
	    "b410ff61f20015ad");
}
END_TEST

/* The GCM specification's test cases 13, 14 and 16 (AES-256). */
static const struct {
	const char	*key, *iv, *pt, *aad, *ct, *tag;
} gcm_vectors[] = {
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "", "",
	  "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "00000000000000000000000000000000", "",
	  "cea7403d4d606b6e074ec5d3baf39d18",
	  "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
};

START_TEST(test_gcm_matches_spec_vectors)
{
	unsigned char		key[32], iv[12], pt[64], aad[32], ct[64];
	unsigned char		tag[16], back[64];
	size_t			ptlen;
	struct crypto_gcm	g = { .key = key, .nonce = iv,
	    .noncelen = sizeof iv, .aad = aad };

	unhex(gcm_vectors[_i].key, key);
	unhex(gcm_vectors[_i].iv, iv);
	ptlen = unhex(gcm_vectors[_i].pt, pt);
	g.aadlen = unhex(gcm_vectors[_i].aad, aad);
	ck_assert(crypto_gcm_encrypt(&g, pt, ptlen, ct, tag));
	ck_hex(ct, ptlen, gcm_vectors[_i].ct);
	ck_hex(tag, sizeof tag, gcm_vectors[_i].tag);
	ck_assert(crypto_gcm_decrypt(&g, ct, ptlen, tag, back));
	ck_assert(memcmp(back, pt, ptlen) == 0);
	tag[0] ^= 1;
	ck_assert(!crypto_gcm_decrypt(&g, ct, ptlen, tag, back));
}
END_TEST

START_TEST(test_seal_round_trips_and_detects_tampering)
{
	const char	*token = "eyJhbGciOi.payload.signature";
	unsigned char	*a, *b;
	char		*out;
	size_t		 alen, blen, olen;

	ck_assert(crypto_init("a secret key of at least thirty-two bytes"));
	a = crypto_seal(token, strlen(token), "anilist-token:1", &alen);
	b = crypto_seal(token, strlen(token), "anilist-token:1", &blen);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(alen, strlen(token) + CRYPTO_SEAL_OVERHEAD);
	ck_assert_int_eq(a[0], CRYPTO_SEAL_VERSION);
	/* A random nonce: the same token never seals the same way twice. */
	ck_assert(alen == blen && memcmp(a, b, alen) != 0);
	ck_assert(memmem(a, alen, token, strlen(token)) == NULL);

	out = crypto_open(a, alen, "anilist-token:1", &olen);
	ck_assert_str_eq(out, token);
	ck_assert_uint_eq(olen, strlen(token));
	crypto_free_secret(out);

	/* Bound to its user: another aad does not open it. */
	ck_assert_ptr_null(crypto_open(a, alen, "anilist-token:2", NULL));
	/* Any flipped byte (version, nonce, body, tag) is refused. */
	for (size_t i = 0; i < alen; i++) {
		a[i] ^= 0x40;
		ck_assert_ptr_null(crypto_open(a, alen, "anilist-token:1",
		    NULL));
		a[i] ^= 0x40;
	}
	ck_assert_ptr_null(crypto_open(a, CRYPTO_SEAL_OVERHEAD - 1,
	    "anilist-token:1", NULL));
	/* Another SECRET_KEY cannot open it. */
	ck_assert(crypto_init("another secret key, also thirty-two bytes"));
	ck_assert_ptr_null(crypto_open(a, alen, "anilist-token:1", NULL));
	free(a);
	free(b);
	crypto_reset();
}
END_TEST

START_TEST(test_keys_come_from_the_secret_only)
{
	unsigned char	h1[CRYPTO_HASH_LEN], h2[CRYPTO_HASH_LEN];
	unsigned char	h3[CRYPTO_HASH_LEN];

	ck_assert(!crypto_init(""));
	ck_assert(!crypto_ready());
	ck_assert(!crypto_token_hash("tok", h1));
	ck_assert_ptr_null(crypto_seal("x", 1, "a", &(size_t){ 0 }));

	ck_assert(crypto_init("secret one secret one secret one!"));
	ck_assert(crypto_token_hash("tok", h1));
	ck_assert(crypto_init("secret one secret one secret one!"));
	ck_assert(crypto_token_hash("tok", h2));
	ck_assert(memcmp(h1, h2, sizeof h1) == 0);
	ck_assert(crypto_init("secret two secret two secret two!"));
	ck_assert(crypto_token_hash("tok", h3));
	ck_assert(memcmp(h1, h3, sizeof h1) != 0);
	crypto_reset();
}
END_TEST

START_TEST(test_token_hash_is_hmac_under_derived_key)
{
	const char		*secret = "secret one secret one secret one!";
	unsigned char		 key[32], want[CRYPTO_HASH_LEN];
	unsigned char		 got[CRYPTO_HASH_LEN];
	struct crypto_hkdf	 in = { .ikm = secret, .ikmlen = strlen(secret),
	    .salt = "anilist-gpt v1", .saltlen = 14,
	    .info = "anilist-gpt token hashing", .infolen = 25 };

	ck_assert(crypto_hkdf_sha256(&in, key, sizeof key));
	ck_assert(crypto_hmac_sha256(key, sizeof key, "tok", 3, want));
	ck_assert(crypto_init(secret));
	ck_assert(crypto_token_hash("tok", got));
	ck_assert(memcmp(want, got, sizeof got) == 0);
	crypto_reset();
}
END_TEST

START_TEST(test_random_tokens_are_long_distinct_base64url)
{
	char	*a = crypto_random_token(CRYPTO_TOKEN_BYTES);
	char	*b = crypto_random_token(CRYPTO_TOKEN_BYTES);

	ck_assert_uint_eq(strlen(a), 43);
	ck_assert_str_ne(a, b);
	ck_assert_uint_eq(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_"), 43);
	free(a);
	free(b);
}
END_TEST

/* RFC 4648 §10 vectors, in the URL alphabet. */
static const struct {
	const char	*plain, *enc;
} b64_vectors[] = {
	{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
	{ "\xfb\xff", "-_8" },
};

START_TEST(test_b64url_matches_rfc4648)
{
	const char	*p = b64_vectors[_i].plain;
	char		*enc;
	unsigned char	*dec;
	size_t		 n;

	enc = crypto_b64url_encode(p, strlen(p));
	ck_assert_str_eq(enc, b64_vectors[_i].enc);
	dec = crypto_b64url_decode(enc, strlen(enc), &n);
	ck_assert_ptr_nonnull(dec);
	ck_assert_uint_eq(n, strlen(p));
	ck_assert(memcmp(dec, p, n) == 0);
	free(enc);
	free(dec);
}
END_TEST

START_TEST(test_b64_decoders_refuse_garbage)
{
	size_t		 n;
	unsigned char	*d;

	ck_assert_ptr_null(crypto_b64url_decode("Zm9v+", 5, &n));
	ck_assert_ptr_null(crypto_b64url_decode("Z", 1, &n));
	ck_assert_ptr_null(crypto_b64url_decode("Zh", 2, &n));	/* bits */
	ck_assert_ptr_null(crypto_b64url_decode("Zm 9", 4, &n));
	ck_assert_ptr_null(crypto_b64_decode("Zm8", 3, &n));	/* padding */
	ck_assert_ptr_null(crypto_b64_decode("Zm-_", 4, &n));
	d = crypto_b64_decode("Zm8=", 4, &n);
	ck_assert(d != NULL && n == 2 && memcmp(d, "fo", 2) == 0);
	free(d);
	d = crypto_b64_decode("YTpi", 4, &n);
	ck_assert(d != NULL && n == 3 && memcmp(d, "a:b", 3) == 0);
	free(d);
}
END_TEST

START_TEST(test_pkce_s256_matches_rfc7636_appendix_b)
{
	const char	*v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	const char	*c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

	ck_assert(crypto_pkce_s256_matches(v, c));
	ck_assert(!crypto_pkce_s256_matches(
	    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", c));
	/* plain: the verifier itself as the challenge never matches. */
	ck_assert(!crypto_pkce_s256_matches(v, v));
}
END_TEST

static const struct {
	const char	*verifier;
	bool		 valid;
} pkce_verifiers[] = {
	{ "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", true },
	{ "abcdefghijklmnopqrstuvwxyz0123456789-._~ABCDEFGHIJ", true },
	{ "short", false },
	{ "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX", false },	/* 42 */
	{ "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEj k", false },
	{ "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEj'k", false },
	{ "dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk", false },
	{ "", false },
};

START_TEST(test_pkce_verifier_syntax)
{
	ck_assert(crypto_pkce_verifier_valid(pkce_verifiers[_i].verifier) ==
	    pkce_verifiers[_i].valid);
}
END_TEST

START_TEST(test_pkce_verifier_length_bounds)
{
	char	v[130];

	memset(v, 'a', sizeof v);
	v[128] = '\0';
	ck_assert(crypto_pkce_verifier_valid(v));
	v[128] = 'a';
	v[129] = '\0';
	ck_assert(!crypto_pkce_verifier_valid(v));
	ck_assert(!crypto_pkce_challenge_valid("E9Melhoa2OwvFrEMTJguCHaoeK1t8U"
	    "RWbuGJSstw-c"));
	ck_assert(!crypto_pkce_challenge_valid("E9Melhoa2OwvFrEMTJguCHaoeK1t8U"
	    "RWbuGJSstw-c="));
	ck_assert(!crypto_pkce_challenge_valid(NULL));
}
END_TEST

START_TEST(test_user_tag_is_keyed_and_short)
{
	char	a[17], b[17];

	crypto_reset();
	crypto_user_tag(42, a);
	ck_assert_str_eq(a, "");
	ck_assert(crypto_init("secret one secret one secret one!"));
	crypto_user_tag(42, a);
	crypto_user_tag(43, b);
	ck_assert_uint_eq(strlen(a), 16);
	ck_assert_str_ne(a, b);
	ck_assert(crypto_init("secret two secret two secret two!"));
	crypto_user_tag(42, b);
	ck_assert_str_ne(a, b);
	crypto_reset();
}
END_TEST

static Suite *
crypto_suite(void)
{
	Suite	*s = suite_create("crypto");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_hkdf_matches_rfc5869_case_1);
	tcase_add_test(tc, test_hmac_sha256_matches_rfc4231_case_2);
	tcase_add_test(tc, test_sha256_of_abc);
	tcase_add_loop_test(tc, test_gcm_matches_spec_vectors, 0,
	    nitems(gcm_vectors));
	tcase_add_test(tc, test_seal_round_trips_and_detects_tampering);
	tcase_add_test(tc, test_keys_come_from_the_secret_only);
	tcase_add_test(tc, test_token_hash_is_hmac_under_derived_key);
	tcase_add_test(tc, test_random_tokens_are_long_distinct_base64url);
	tcase_add_loop_test(tc, test_b64url_matches_rfc4648, 0,
	    nitems(b64_vectors));
	tcase_add_test(tc, test_b64_decoders_refuse_garbage);
	tcase_add_test(tc, test_pkce_s256_matches_rfc7636_appendix_b);
	tcase_add_loop_test(tc, test_pkce_verifier_syntax, 0,
	    nitems(pkce_verifiers));
	tcase_add_test(tc, test_pkce_verifier_length_bounds);
	tcase_add_test(tc, test_user_tag_is_keyed_and_short);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(crypto_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
