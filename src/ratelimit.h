/* ratelimit.h: the per-client request limit of our own API (fixed windows counted in memcached). */
#ifndef RATELIMIT_H
#define RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "crypto.h"

struct http_req;
struct http_resp;

/* A client's identity: 32 hex digits (128 bits of an HMAC) and a NUL. */
#define RATELIMIT_CLIENT_LEN	33
/* Entries of a per-worker table (used when MEMCACHED_SERVERS is empty). */
#define RATELIMIT_TABLE_SETS	1024
#define RATELIMIT_TABLE_WAYS	4

/*
 * The hook of serve.c, before routing. CONFIG: RATE_LIMIT_REQUESTS per
 * RATE_LIMIT_WINDOW seconds per client address (IPv4 address, IPv6 /64).
 * Exempt requests and a disabled limit change nothing. Otherwise the
 * RateLimit-Limit, -Remaining and -Reset headers go on resp, and a client
 * over the limit gets a 429 rate_limited error with Retry-After: false
 * then, and the request must not be routed. When the count cannot be had
 * (memcached down or slow, no client address) the request is let through,
 * without the headers, and counted.
 */
bool	 ratelimit_check(struct http_req *req, struct http_resp *resp);

/* Health checks, /metrics, /.well-known/ and every OPTIONS are not limited. */
bool	 ratelimit_exempt(const char *method, const char *path);

/*
 * The fixed window holding wall-clock time now_ms for windows of window
 * seconds aligned on the Unix epoch: *start (Unix seconds) and *reset, the
 * whole seconds (rounded up, 1..window) until it ends.
 */
void	 ratelimit_window(uint64_t now_ms, int window, uint64_t *start,
	    int *reset);

/* The key clients are hashed under, derived from SECRET_KEY (may be empty). */
bool	 ratelimit_derive_key(const char *secret,
	    unsigned char key[CRYPTO_KEY_LEN])
	    __attribute__((warn_unused_result));
/*
 * The identity of the client at addr (REMOTE_ADDR: "192.0.2.1", "2001:db8::1",
 * "[2001:db8::1]", "fe80::1%eth0"): a keyed hash of its IPv4 address or of
 * the /64 of its IPv6 address (an IPv4-mapped IPv6 address counts as the
 * IPv4 one). False when addr is NULL or not an IP address.
 */
bool	 ratelimit_client(const char *addr,
	    const unsigned char key[CRYPTO_KEY_LEN],
	    char out[RATELIMIT_CLIENT_LEN])
	    __attribute__((warn_unused_result));
/* The memcached key of a client's window: "ag:v1:rl:<window>:<start>:<client>". */
void	 ratelimit_cache_key(char key[CACHE_KEY_LEN], int window,
	    uint64_t start, const char *client);
/*
 * The limit each worker applies on its own when there is no memcached:
 * limit / workers rounded up, at least 1.
 */
int	 ratelimit_local_limit(int limit, int workers);

/*
 * A bounded in-memory count per client and window for one worker process
 * (threads share it under a mutex): RATELIMIT_TABLE_SETS sets of
 * RATELIMIT_TABLE_WAYS entries. When a set is full of clients of the
 * current window, the one with the fewest requests is forgotten.
 */
struct ratelimit_table;

struct ratelimit_table *ratelimit_table_create(void);
void	 ratelimit_table_free(struct ratelimit_table *t);
/* Count one request of client in the window starting at start: the count. */
uint64_t ratelimit_table_hit(struct ratelimit_table *t, const char *client,
	    uint64_t start);

#endif
