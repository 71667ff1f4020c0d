/* accounts/crypto.h: keys derived from SECRET_KEY, sealed tokens, token hashes, PKCE. */
#ifndef CRYPTO_H
#define CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN		32
#define CRYPTO_HASH_LEN		32	/* SHA-256 / HMAC-SHA256 */
#define CRYPTO_GCM_NONCE_LEN	12
#define CRYPTO_GCM_TAG_LEN	16
#define CRYPTO_SEAL_VERSION	1
/* version byte, nonce, tag: what a sealed blob adds to the plaintext. */
#define CRYPTO_SEAL_OVERHEAD	(1 + CRYPTO_GCM_NONCE_LEN + CRYPTO_GCM_TAG_LEN)
/* Random bytes in our opaque tokens (43 base64url characters). */
#define CRYPTO_TOKEN_BYTES	32

/*
 * Derive this process's keys from the secret with HKDF-SHA256: one for
 * sealing AniList tokens, one for hashing our tokens. Both are fixed for the
 * life of the process (set before threads start). False for an empty secret:
 * accounts stay disabled.
 */
bool	 crypto_init(const char *secret);
bool	 crypto_ready(void);
/* Forget the keys (tests, shutdown). */
void	 crypto_reset(void);

/* The inputs of an HKDF derivation (all borrowed). */
struct crypto_hkdf {
	const void	*ikm;		/* input keying material */
	size_t		 ikmlen;
	const void	*salt;
	size_t		 saltlen;
	const void	*info;		/* what the key is for */
	size_t		 infolen;
};
/* RFC 5869 HKDF with SHA-256; out gets outlen bytes (at most 8160). */
bool	 crypto_hkdf_sha256(const struct crypto_hkdf *in, unsigned char *out,
	    size_t outlen) __attribute__((warn_unused_result));
void	 crypto_sha256(const void *p, size_t n, unsigned char *out);
bool	 crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
	    size_t msglen, unsigned char *out)
	    __attribute__((warn_unused_result));

/* The key, nonce and additional data of one AES-256-GCM call (borrowed). */
struct crypto_gcm {
	const unsigned char	*key;		/* CRYPTO_KEY_LEN bytes */
	const unsigned char	*nonce;
	size_t			 noncelen;
	const void		*aad;		/* authenticated, not secret */
	size_t			 aadlen;
};
/*
 * AES-256-GCM with an explicit key and nonce (ct has ptlen bytes, tag 16).
 * Decrypt returns false when the tag does not verify; pt is then garbage.
 */
bool	 crypto_gcm_encrypt(const struct crypto_gcm *g, const void *pt,
	    size_t ptlen, unsigned char *ct, unsigned char *tag)
	    __attribute__((warn_unused_result));
bool	 crypto_gcm_decrypt(const struct crypto_gcm *g, const void *ct,
	    size_t ctlen, const unsigned char *tag, unsigned char *pt)
	    __attribute__((warn_unused_result));

/*
 * Seal plaintext under the token-encryption key with a random nonce, bound
 * to aad (e.g. "anilist-token:42"): version byte, nonce, ciphertext, tag.
 * Caller frees; NULL if the keys are not set or the RNG failed.
 */
unsigned char *crypto_seal(const void *pt, size_t ptlen, const char *aad,
	    size_t *bloblen) __attribute__((warn_unused_result));
/*
 * Open a sealed blob with the same aad: the plaintext, NUL-terminated,
 * caller frees with crypto_free_secret. NULL when the blob was altered,
 * sealed under another key or aad, or has an unknown version.
 */
char	*crypto_open(const unsigned char *blob, size_t bloblen, const char *aad,
	    size_t *ptlen) __attribute__((warn_unused_result));
/* Zero a secret string, then free it. NULL is a no-op. */
void	 crypto_free_secret(char *secret);

/* The lookup hash of one of our tokens: HMAC-SHA256 under the hash key. */
bool	 crypto_token_hash(const char *token, unsigned char *out)
	    __attribute__((warn_unused_result));
/* A short keyed tag of a user id for logs (16 hex digits + NUL). */
void	 crypto_user_tag(long long id, char *out);
/* nbytes random bytes as base64url without padding; caller frees. */
char	*crypto_random_token(size_t nbytes) __attribute__((warn_unused_result));

/* base64url without padding; caller frees. */
char	*crypto_b64url_encode(const void *p, size_t n);
/* base64url, padding optional; caller frees; NULL on a bad character. */
unsigned char *crypto_b64url_decode(const char *s, size_t n, size_t *outlen);
/* Standard base64 (RFC 4648 §4, padded); caller frees; NULL if bad. */
unsigned char *crypto_b64_decode(const char *s, size_t n, size_t *outlen);

/* RFC 7636: a verifier is 43..128 unreserved characters. */
bool	 crypto_pkce_verifier_valid(const char *verifier);
/* An S256 challenge is 43 base64url characters (a SHA-256). */
bool	 crypto_pkce_challenge_valid(const char *challenge);
/* BASE64URL(SHA256(verifier)) == challenge, in constant time. */
bool	 crypto_pkce_s256_matches(const char *verifier, const char *challenge);

#endif
