/* anilist/cache.h: memcached for every worker thread: keys, get/set/add/delete/incr, health. */
#ifndef CACHE_H
#define CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct json_object;

/* A thread's handle on the configured memcached servers. */
struct cache;

/*
 * What an operation did. CACHE_OK is a hit for a get and "done" for the
 * others; CACHE_ERROR covers disabled, unreachable, timed out and refused,
 * and the caller then carries on without the cache.
 */
enum cache_status {
	CACHE_OK,
	CACHE_MISS,	/* get, delete: no such key */
	CACHE_EXISTS,	/* add: the key is already there */
	CACHE_ERROR
};

/* memcached refuses relative expiry beyond 30 days. */
#define CACHE_MAX_TTL		2592000
/* Lengths with the NUL: a SHA-256 hex digest and a full key. */
#define CACHE_DIGEST_LEN	65
#define CACHE_KEY_LEN		96
/* Bumped when the layout of keys or values changes. */
#define CACHE_KEY_VERSION	"v1"

/* Counters of this process, for metrics. */
struct cache_stats {
	uint64_t	gets;
	uint64_t	hits;
	uint64_t	misses;
	uint64_t	sets;
	uint64_t	errors;
};

/*
 * A handle on servers ("host:port,host:port"), consistent hashing (ketama),
 * binary protocol, TCP_NODELAY, timeouts of timeout_ms and a dead server
 * skipped for a few seconds after it fails. No connection is made yet.
 * NULL with *cause (caller frees) on a bad list. Caller frees with
 * cache_free.
 */
struct cache	*cache_create(const char *servers, int timeout_ms, char **cause)
		    __attribute__((warn_unused_result));
void		 cache_free(struct cache *c);

/* Is MEMCACHED_SERVERS set? */
bool		 cache_configured(void);
/*
 * This thread's handle on cfg's servers, made on first use and freed when
 * the thread exits (or by cache_thread_cleanup); NULL when caching is off.
 */
struct cache	*cache_thread(void);
void		 cache_thread_cleanup(void);

/*
 * Fetch key: CACHE_OK with *val (NUL-terminated, caller frees) and *len,
 * CACHE_MISS, or CACHE_ERROR. A NULL cache is CACHE_ERROR.
 */
enum cache_status cache_get(struct cache *c, const char *key, char **val,
		    size_t *len);
/*
 * Fetch n keys in one round trip: vals[i] is the value (caller frees) or
 * NULL when missing. CACHE_OK when the servers answered.
 */
enum cache_status cache_mget(struct cache *c, const char *const *keys, size_t n,
		    char **vals);
/* Store with a lifetime in seconds (clamped to CACHE_MAX_TTL). */
enum cache_status cache_set(struct cache *c, const char *key, const void *val,
		    size_t len, int ttl);
/* Store only if absent: CACHE_OK, CACHE_EXISTS or CACHE_ERROR. */
enum cache_status cache_add(struct cache *c, const char *key, const void *val,
		    size_t len, int ttl);
enum cache_status cache_delete(struct cache *c, const char *key);
/*
 * Add delta to a counter, creating it as initial (with ttl) when absent;
 * *value is the result. cache_decr stops at 0.
 */
enum cache_status cache_incr(struct cache *c, const char *key, uint64_t delta,
		    uint64_t initial, int ttl, uint64_t *value);
enum cache_status cache_decr(struct cache *c, const char *key, uint64_t delta,
		    uint64_t initial, int ttl, uint64_t *value);
/*
 * A counter's value as a get returns it (NUL-terminated). A decrement that
 * drops a digit leaves the old length, padded with spaces ("10" becomes
 * "9 "), so trailing spaces are part of the number. False when val is not
 * a counter.
 */
bool		 cache_counter_value(const char *val, uint64_t *value);

/*
 * Append the canonical JSON text of obj: object keys sorted bytewise at
 * every level, no whitespace, arrays in order. Equal values give equal text.
 * It only reads obj, so obj may be shared between threads (json-c's own
 * json_object_to_json_string writes into the object it prints).
 */
void		 cache_canonical_json(struct json_object *obj, struct buf *out);
/*
 * The identity of one cached answer: SHA-256 hex over the operation, the
 * canonical arguments, the scope and its generation, and a secret
 * (a token: different tokens never share entries). Any of the strings may be
 * NULL.
 */
void		 cache_digest(const char *op, struct json_object *args,
		    const char *scope, uint64_t gen, const char *secret,
		    char hex[CACHE_DIGEST_LEN]);
/* "ag:v1:<ns>:<id>" into key. */
void		 cache_key(char key[CACHE_KEY_LEN], const char *ns,
		    const char *id);
/* SHA-256 hex of s. */
void		 cache_sha256_hex(const void *p, size_t n,
		    char hex[CACHE_DIGEST_LEN]);

/*
 * The current generation of a scope ("user:42"), created from the wall
 * clock when absent so an evicted counter never brings old entries back.
 */
enum cache_status cache_scope_generation(struct cache *c, const char *scope,
		    uint64_t *gen);
/* Start a new generation: every entry of the scope is unreachable. */
enum cache_status cache_scope_invalidate(struct cache *c, const char *scope);

/*
 * Ask every configured server on its own connection: fills servers (a
 * JSON array of {server, status, latency_ms, error}) and returns how many
 * are up; *total is how many are configured.
 */
int		 cache_probe(struct json_object *servers, int *total);

void		 cache_stats_get(struct cache_stats *out);

#endif
