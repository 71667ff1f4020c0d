/* anilist/governor.h: the AniList request budget shared by every worker process of a machine. */
#ifndef GOVERNOR_H
#define GOVERNOR_H

#include <stdbool.h>
#include <stdint.h>

struct json_object;

/*
 * The window (UPSTREAM_RATE_WINDOW seconds) is cut into GOVERNOR_SLOTS
 * slots, each a memcached counter per machine. A request may go when the
 * last GOVERNOR_SLOTS + 1 slots hold no more than the budget: any span of
 * one window overlaps at most that many slots, so no span of a window ever
 * sees more than the budget. When memcached is unreachable each worker
 * falls back to a token bucket holding its share (budget / WORKERS).
 */
#define GOVERNOR_SLOTS	12

enum governor_verdict {
	GOVERNOR_GO,		/* send it now */
	GOVERNOR_WAIT,		/* over budget: *wait_ms until room */
	GOVERNOR_BLOCKED	/* AniList said 429: paused for *wait_ms */
};

struct governor_stats {
	uint64_t	acquired;	/* requests let through */
	uint64_t	waits;		/* over budget */
	uint64_t	blocked;	/* refused while paused by a 429 */
	uint64_t	local;		/* decided without memcached */
	uint64_t	reports_429;
};

/*
 * Requests per window: the configured per-minute limit, lowered to the
 * limit AniList reports (when > 0), scaled to window seconds; at least 1.
 */
long	governor_budget(int limit, long reported, int window_s);
/*
 * counts holds GOVERNOR_SLOTS + 1 slot counters, oldest first, the last
 * being the current slot with this request in it. True when their sum
 * fits budget; else *wait_ms is how long until enough old slots (slot_ms
 * long) have left the window for it to fit.
 */
bool	governor_fits(const uint64_t *counts, long budget, uint64_t now,
	    uint64_t slot_ms, uint64_t *wait_ms);

/* A token bucket: capacity tokens, refilled evenly over period_ms. */
struct governor_bucket {
	double		tokens;
	uint64_t	last_ms;
	bool		primed;
};
/* Take one token at now_ms, or say in *wait_ms when one will be there. */
bool	governor_bucket_take(struct governor_bucket *b, double capacity,
	    uint64_t period_ms, uint64_t now, uint64_t *wait_ms);
/*
 * Spend one token whatever is left, going into debt down to -capacity: a
 * request the shared budget let through still counts against this worker's
 * share, should memcached fail right after.
 */
void	governor_bucket_charge(struct governor_bucket *b, double capacity,
	    uint64_t period_ms, uint64_t now);

/*
 * Ask to send one request to AniList at now_ms (wall clock). Every GO is
 * counted against the budget of every worker of the machine. An optional
 * request (a refresh of a stale copy, a recommendation's extra search)
 * leaves the last fifth of the budget to interactive ones, and waits while
 * memcached cannot say what is left.
 */
enum governor_verdict governor_acquire(uint64_t now_ms, bool optional,
	    uint64_t *wait_ms);
/*
 * What an AniList response said: X-RateLimit-Limit and -Remaining (-1 when
 * absent) and, for a 429, Retry-After seconds (0 when absent).
 */
void	governor_report(uint64_t now, long limit, long remaining, int status,
	    int retry_after);
/* Budget, use, AniList's numbers and the pause, for /health/upstream. */
void	governor_describe(uint64_t now, struct json_object *out);
/* Wall ms until which AniList asked us to pause, or 0. */
uint64_t governor_blocked_until(uint64_t now);
void	governor_stats_get(struct governor_stats *out);

#endif
