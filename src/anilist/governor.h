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
 *
 * Within that bound the budget is paced: time is also cut into pace slots
 * of window / budget or a little more (governor_pace_of), each letting one
 * request go, and more after a quiet spell: the burst pace slots before it
 * made fewer than burst requests, it may make up the difference. Under
 * pressure the requests are spread over the window, so the wait
 * for the next one stays under a pace slot instead of the rest of a window
 * after the whole budget went in its first seconds; the pace slot is long
 * enough that the window's own bound never has to stop them. A pace slot
 * may send one extra while the window keeps room for the pace to come
 * (governor_room_fits), so steady pressure still uses the whole budget.
 */
#define GOVERNOR_SLOTS	60
/* At most this many extra requests go at once after a quiet spell. */
#define GOVERNOR_BURST_MAX	16

enum governor_verdict {
	GOVERNOR_GO,		/* send it now */
	GOVERNOR_WAIT,		/* over budget: *wait_ms until room */
	GOVERNOR_BLOCKED,	/* AniList said 429: paused for *wait_ms */
	/*
	 * An optional request over its share: what is left is for
	 * interactive ones (*wait_ms until the window has room again).
	 */
	GOVERNOR_RESERVED
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

/* How the budget is paced: one request per slot_ms, burst more after quiet. */
struct governor_pace {
	uint64_t	slot_ms;
	int		burst;		/* 0..GOVERNOR_BURST_MAX */
};
/*
 * The pace of budget requests per window_ms whose bound is checked over
 * window slots of window_slot_ms: a burst of budget / 10 and pace slots
 * so long that no span of window_ms + window_slot_ms holds more than the
 * budget ((span / slot + 1) pace slots, burst more once: any burst + 1
 * pace slots in a row that end in a slot of more than one hold at most
 * burst + 1).
 */
void	governor_pace_of(long budget, uint64_t window_ms,
	    uint64_t window_slot_ms, struct governor_pace *out);
/*
 * current is the count of the current pace slot, this request in it;
 * previous[0..pace->burst) the counts of the pace slots before it, the
 * latest first. True when it may go: it is the slot's first, or the slot
 * holds no more than 1 + burst less what the previous slots made. Else
 * *wait_ms is how long until the next pace slot begins.
 */
bool	governor_pace_fits(uint64_t current, const uint64_t *previous,
	    const struct governor_pace *pace, uint64_t now, uint64_t *wait_ms);

/*
 * Room beyond the pace. Under steady pressure the burst never refills, so
 * the pace alone would send only budget - 1 - burst a window. A request the
 * pace refused may still go as the pace slot's one extra when the window
 * keeps room for it and for every pace slot to come: counts (as for
 * governor_fits, this request in the last) less each old slot as it
 * leaves, plus one request for each pace slot that begins before it
 * leaves, never passes the budget. So the window's bound still never has
 * to stop a paced request, and the whole budget is used.
 */
bool	governor_room_fits(const uint64_t *counts, long budget, uint64_t now,
	    uint64_t slot_ms, const struct governor_pace *pace);

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
/*
 * The pace slot of the current budget (ms between two requests under
 * pressure), as this process last knew AniList's limit.
 */
uint64_t governor_pace_ms(void);
/* Wall ms until which AniList asked us to pause, or 0. */
uint64_t governor_blocked_until(uint64_t now);
void	governor_stats_get(struct governor_stats *out);

#endif
