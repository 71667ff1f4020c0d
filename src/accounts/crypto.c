/* accounts/crypto.c: keys derived from SECRET_KEY, sealed tokens, token hashes, PKCE (OpenSSL libcrypto). */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "crypto.h"
#include "util.h"

#define CRYPTO_SALT		"anilist-gpt v1"
#define CRYPTO_INFO_SEAL	"anilist-gpt token encryption"
#define CRYPTO_INFO_HASH	"anilist-gpt token hashing"

static unsigned char	crypto_seal_key[CRYPTO_KEY_LEN];
static unsigned char	crypto_hash_key[CRYPTO_KEY_LEN];
static bool		crypto_keys_set;

static const char crypto_b64url_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool
crypto_hkdf_sha256(const struct crypto_hkdf *in, unsigned char *out,
    size_t outlen)
{
	EVP_PKEY_CTX	*ctx;
	size_t		 n = outlen;
	bool		 ok = false;

	if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL)) == NULL)
		return (false);
	if (EVP_PKEY_derive_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_salt(ctx, in->salt, (int)in->saltlen) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_key(ctx, in->ikm, (int)in->ikmlen) <= 0 ||
	    EVP_PKEY_CTX_add1_hkdf_info(ctx, in->info, (int)in->infolen) <= 0 ||
	    EVP_PKEY_derive(ctx, out, &n) <= 0 || n != outlen)
		goto fail;
	ok = true;
fail:
	EVP_PKEY_CTX_free(ctx);
	return (ok);
}

bool
crypto_init(const char *secret)
{
	struct crypto_hkdf	seal, hash;

	crypto_reset();
	if (secret == NULL || *secret == '\0')
		return (false);
	seal = (struct crypto_hkdf){ .ikm = secret, .ikmlen = strlen(secret),
	    .salt = CRYPTO_SALT, .saltlen = strlen(CRYPTO_SALT),
	    .info = CRYPTO_INFO_SEAL, .infolen = strlen(CRYPTO_INFO_SEAL) };
	hash = seal;
	hash.info = CRYPTO_INFO_HASH;
	hash.infolen = strlen(CRYPTO_INFO_HASH);
	if (!crypto_hkdf_sha256(&seal, crypto_seal_key,
	    sizeof crypto_seal_key) ||
	    !crypto_hkdf_sha256(&hash, crypto_hash_key,
	    sizeof crypto_hash_key)) {
		crypto_reset();
		return (false);
	}
	crypto_keys_set = true;
	return (true);
}

bool
crypto_ready(void)
{
	return (crypto_keys_set);
}

void
crypto_reset(void)
{
	OPENSSL_cleanse(crypto_seal_key, sizeof crypto_seal_key);
	OPENSSL_cleanse(crypto_hash_key, sizeof crypto_hash_key);
	crypto_keys_set = false;
}

void
crypto_sha256(const void *p, size_t n, unsigned char *out)
{
	unsigned int	len = CRYPTO_HASH_LEN;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1)
		abort();	/* SHA-256 cannot fail short of a broken library */
}

bool
crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
    size_t msglen, unsigned char *out)
{
	unsigned int	len = CRYPTO_HASH_LEN;

	return (HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out,
	    &len) != NULL && len == CRYPTO_HASH_LEN);
}

bool
crypto_gcm_encrypt(const struct crypto_gcm *g, const void *pt, size_t ptlen,
    unsigned char *ct, unsigned char *tag)
{
	EVP_CIPHER_CTX	*ctx;
	int		 n;
	bool		 ok = false;

	if (ptlen > 1 << 20 || g->aadlen > 1 << 20)
		return (false);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return (false);
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)g->noncelen,
	    NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, g->key, g->nonce) != 1)
		goto fail;
	if (g->aadlen > 0 &&
	    EVP_EncryptUpdate(ctx, NULL, &n, g->aad, (int)g->aadlen) != 1)
		goto fail;
	if (ptlen > 0 && EVP_EncryptUpdate(ctx, ct, &n, pt, (int)ptlen) != 1)
		goto fail;
	if (EVP_EncryptFinal_ex(ctx, ct + ptlen, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_LEN,
	    tag) != 1)
		goto fail;
	ok = true;
fail:
	EVP_CIPHER_CTX_free(ctx);
	return (ok);
}

bool
crypto_gcm_decrypt(const struct crypto_gcm *g, const void *ct, size_t ctlen,
    const unsigned char *tag, unsigned char *pt)
{
	EVP_CIPHER_CTX	*ctx;
	unsigned char	 tagcopy[CRYPTO_GCM_TAG_LEN];
	int		 n;
	bool		 ok = false;

	if (ctlen > 1 << 20 || g->aadlen > 1 << 20)
		return (false);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return (false);
	memcpy(tagcopy, tag, sizeof tagcopy);
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)g->noncelen,
	    NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, g->key, g->nonce) != 1)
		goto fail;
	if (g->aadlen > 0 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, g->aad, (int)g->aadlen) != 1)
		goto fail;
	if (ctlen > 0 && EVP_DecryptUpdate(ctx, pt, &n, ct, (int)ctlen) != 1)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_LEN,
	    tagcopy) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt + ctlen, &n) != 1)
		goto fail;
	ok = true;
fail:
	EVP_CIPHER_CTX_free(ctx);
	return (ok);
}

unsigned char *
crypto_seal(const void *pt, size_t ptlen, const char *aad, size_t *bloblen)
{
	unsigned char	*blob;
	size_t		 len = CRYPTO_SEAL_OVERHEAD + ptlen;
	struct crypto_gcm	 g;

	if (!crypto_keys_set)
		return (NULL);
	blob = xmalloc(len);
	blob[0] = CRYPTO_SEAL_VERSION;
	g = (struct crypto_gcm){ .key = crypto_seal_key, .nonce = blob + 1,
	    .noncelen = CRYPTO_GCM_NONCE_LEN, .aad = aad,
	    .aadlen = strlen(aad) };
	if (!util_random_bytes(blob + 1, CRYPTO_GCM_NONCE_LEN) ||
	    !crypto_gcm_encrypt(&g, pt, ptlen,
	    blob + 1 + CRYPTO_GCM_NONCE_LEN,
	    blob + 1 + CRYPTO_GCM_NONCE_LEN + ptlen)) {
		free(blob);
		return (NULL);
	}
	*bloblen = len;
	return (blob);
}

char *
crypto_open(const unsigned char *blob, size_t bloblen, const char *aad,
    size_t *ptlen)
{
	unsigned char	*pt;
	size_t		 n;
	struct crypto_gcm	 g = { .key = crypto_seal_key, .nonce = blob + 1,
	    .noncelen = CRYPTO_GCM_NONCE_LEN, .aad = aad,
	    .aadlen = strlen(aad) };

	if (!crypto_keys_set || bloblen < CRYPTO_SEAL_OVERHEAD ||
	    blob[0] != CRYPTO_SEAL_VERSION)
		return (NULL);
	n = bloblen - CRYPTO_SEAL_OVERHEAD;
	pt = xmalloc(n + 1);
	if (!crypto_gcm_decrypt(&g,
	    blob + 1 + CRYPTO_GCM_NONCE_LEN, n,
	    blob + 1 + CRYPTO_GCM_NONCE_LEN + n, pt)) {
		OPENSSL_cleanse(pt, n + 1);
		free(pt);
		return (NULL);
	}
	pt[n] = '\0';
	if (ptlen != NULL)
		*ptlen = n;
	return ((char *)pt);
}

void
crypto_free_secret(char *secret)
{
	if (secret == NULL)
		return;
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
}

bool
crypto_token_hash(const char *token, unsigned char *out)
{
	if (!crypto_keys_set)
		return (false);
	return (crypto_hmac_sha256(crypto_hash_key, sizeof crypto_hash_key,
	    token, strlen(token), out));
}

void
crypto_user_tag(long long id, char *out)
{
	unsigned char	mac[CRYPTO_HASH_LEN];
	char		msg[32];

	snprintf(msg, sizeof msg, "user:%lld", id);
	if (!crypto_keys_set || !crypto_hmac_sha256(crypto_hash_key,
	    sizeof crypto_hash_key, msg, strlen(msg), mac)) {
		*out = '\0';
		return;
	}
	util_hex(mac, 8, out);
}

char *
crypto_random_token(size_t nbytes)
{
	unsigned char	*raw;
	char		*out = NULL;

	raw = xmalloc(nbytes);
	if (util_random_bytes(raw, nbytes))
		out = crypto_b64url_encode(raw, nbytes);
	OPENSSL_cleanse(raw, nbytes);
	free(raw);
	return (out);
}

char *
crypto_b64url_encode(const void *p, size_t n)
{
	const unsigned char	*in = p;
	char			*out, *o;
	uint32_t		 v;
	size_t			 i;

	out = o = xmalloc((n + 2) / 3 * 4 + 1);
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = crypto_b64url_chars[v >> 18 & 63];
		*o++ = crypto_b64url_chars[v >> 12 & 63];
		*o++ = crypto_b64url_chars[v >> 6 & 63];
		*o++ = crypto_b64url_chars[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		*o++ = crypto_b64url_chars[v >> 18 & 63];
		*o++ = crypto_b64url_chars[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*o++ = crypto_b64url_chars[v >> 18 & 63];
		*o++ = crypto_b64url_chars[v >> 12 & 63];
		*o++ = crypto_b64url_chars[v >> 6 & 63];
	}
	*o = '\0';
	return (out);
}

static int
crypto_b64_value(int c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == (url ? '-' : '+'))
		return (62);
	if (c == (url ? '_' : '/'))
		return (63);
	return (-1);
}

/* Decode either alphabet; padding optional for base64url, required else. */
static unsigned char *
crypto_b64_any(const char *s, size_t n, size_t *outlen, bool url)
{
	unsigned char	*out;
	uint32_t	 acc = 0;
	size_t		 i, o = 0, pad = 0;
	int		 bits = 0, v;

	while (pad < 2 && n > 0 && s[n - 1] == '=') {
		n--;
		pad++;
	}
	if (!url && (n + pad) % 4 != 0)
		return (NULL);
	if (n % 4 == 1)
		return (NULL);
	out = xmalloc(n / 4 * 3 + 3);
	for (i = 0; i < n; i++) {
		if ((v = crypto_b64_value((unsigned char)s[i], url)) < 0) {
			free(out);
			return (NULL);
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) {			/* non-canonical trailing bits */
		free(out);
		return (NULL);
	}
	out[o] = '\0';
	*outlen = o;
	return (out);
}

unsigned char *
crypto_b64url_decode(const char *s, size_t n, size_t *outlen)
{
	return (crypto_b64_any(s, n, outlen, true));
}

unsigned char *
crypto_b64_decode(const char *s, size_t n, size_t *outlen)
{
	return (crypto_b64_any(s, n, outlen, false));
}

static bool
crypto_pkce_chars(const char *s, size_t min, size_t max, bool dot_tilde)
{
	size_t	n = strlen(s), i;
	char	c;

	if (n < min || n > max)
		return (false);
	for (i = 0; i < n; i++) {
		c = s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_')
			continue;
		if (dot_tilde && (c == '.' || c == '~'))
			continue;
		return (false);
	}
	return (true);
}

bool
crypto_pkce_verifier_valid(const char *verifier)
{
	return (verifier != NULL && crypto_pkce_chars(verifier, 43, 128, true));
}

bool
crypto_pkce_challenge_valid(const char *challenge)
{
	return (challenge != NULL &&
	    crypto_pkce_chars(challenge, 43, 43, false));
}

bool
crypto_pkce_s256_matches(const char *verifier, const char *challenge)
{
	unsigned char	 md[CRYPTO_HASH_LEN];
	char		*want;
	bool		 ok;

	if (!crypto_pkce_verifier_valid(verifier) ||
	    !crypto_pkce_challenge_valid(challenge))
		return (false);
	crypto_sha256(verifier, strlen(verifier), md);
	want = crypto_b64url_encode(md, sizeof md);
	ok = util_ct_equal(want, strlen(want), challenge, strlen(challenge));
	free(want);
	return (ok);
}
