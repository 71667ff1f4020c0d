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

/* Longest host-given per-user identifier counted (longer: ignored). */
#define RATELIMIT_SUBJECT_MAX	256

/* Who a request is counted as (each kind has keys of its own). */
enum ratelimit_kind {
	RATELIMIT_ADDRESS,	/* REMOTE_ADDR (REST and all but POST /mcp) */
	RATELIMIT_MCP_ADDRESS,	/* REMOTE_ADDR on POST /mcp: a shared egress */
	RATELIMIT_USER,		/* a verified token's user id (decimal) */
	RATELIMIT_SUBJECT	/* a host's per-user id: advisory, never identity */
};

/* One count against one limit. */
struct ratelimit_verdict {
	bool		counted;	/* false: not limited or failed open */
	int		limit;		/* of this window (a worker's share without memcached) */
	uint64_t	count;		/* requests in this window, this one included */
	int		reset;		/* seconds until the window ends */
};

/* Who calls POST /mcp, as the MCP handler found out. */
struct ratelimit_caller {
	long long	 user_id;	/* the verified token's user; 0: none */
	const char	*subject;	/* _meta["openai/subject"] or NULL; borrowed */
};

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

/*
 * POST /mcp: counted by the MCP handler (ratelimit_mcp), which knows the
 * caller; ratelimit_check leaves it alone.
 */
bool	 ratelimit_deferred(const char *method, const char *path);

/*
 * Count one POST /mcp: against RATE_LIMIT_MCP_ADDRESS_REQUESTS for its
 * address, and against RATE_LIMIT_REQUESTS for the caller's user when a
 * token verified, else for the host's per-user id when one came. The
 * RateLimit headers of the caller's budget (else the address's) go on
 * resp, and *shown is that verdict. Returns 0 within every limit, else
 * the seconds until the exceeded window ends (the handler answers).
 */
int	 ratelimit_mcp(struct http_req *req, struct http_resp *resp,
	    const struct ratelimit_caller *caller,
	    struct ratelimit_verdict *shown);

/*
 * Count one request of the caller (kind, name: an address for the
 * address kinds) against limit per RATE_LIMIT_WINDOW: false when over.
 * A limit of 0, no usable name or memcached failing: true, v->counted
 * false (the last two counted as fail-open).
 */
bool	 ratelimit_count_caller(enum ratelimit_kind kind, const char *name,
	    int limit, struct ratelimit_verdict *v);
bool	 ratelimit_over(const struct ratelimit_verdict *v);
/* RateLimit-Limit, -Remaining, -Reset (and Retry-After when over). */
void	 ratelimit_headers(struct http_resp *resp,
	    const struct ratelimit_verdict *v);
/*
 * The name a caller is counted under: like ratelimit_client for
 * RATELIMIT_ADDRESS, else a keyed hash of a kind tag and name.
 */
bool	 ratelimit_caller_name(enum ratelimit_kind kind, const char *name,
	    const unsigned char key[CRYPTO_KEY_LEN],
	    char out[RATELIMIT_CLIENT_LEN]) __attribute__((warn_unused_result));

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
