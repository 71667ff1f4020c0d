/* anilist/governor.c: sliding-slot AniList budget in memcached, paced over its window, a local bucket when it is down, 429 pauses. */
#include "autoconf.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cache.h"
#include "config.h"
#include "governor.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

/* How long AniList's numbers are trusted: its window is one minute. */
#define GOVERNOR_REPORT_MS	60000
/* AniList's limit is remembered this long (it drops while degraded). */
#define GOVERNOR_LIMIT_TTL	600
/* Retry-After assumed when a 429 comes without one. */
#define GOVERNOR_DEFAULT_PAUSE	60

/* This process's view; the shared truth is in memcached. */
static struct {
	pthread_mutex_t		lock;
	struct governor_bucket	bucket;
	uint64_t		blocked_until;	/* wall ms */
	long			limit;		/* AniList's, -1 unknown */
	long			remaining;	/* AniList's, -1 unknown */
	long			remaining_left;	/* for the local fallback */
	uint64_t		reported_at;	/* wall ms */
} governor = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.limit = -1,
	.remaining = -1,
	.remaining_left = -1,
};

static struct governor_stats	governor_counters;

static void	governor_bucket_refill(struct governor_bucket *, double,
		    uint64_t, uint64_t);
static pthread_once_t		governor_host_once = PTHREAD_ONCE_INIT;
static char			governor_host[17];

#define governor_count(field) \
	__atomic_fetch_add(&governor_counters.field, 1, __ATOMIC_RELAXED)

long
governor_budget(int limit, long reported, int window_s)
{
	long	per_minute = limit, b;

	if (reported > 0 && reported < per_minute)
		per_minute = reported;
	b = per_minute * window_s / 60;
	return (b < 1 ? 1 : b);
}

bool
governor_fits(const uint64_t *counts, long budget, uint64_t now,
    uint64_t slot_ms, uint64_t *wait_ms)
{
	uint64_t	sum = 0, excess, acc = 0, slot = now / slot_ms;
	size_t		i;

	for (i = 0; i <= GOVERNOR_SLOTS; i++)
		sum += counts[i];
	if (sum <= (uint64_t)budget) {
		*wait_ms = 0;
		return (true);
	}
	excess = sum - (uint64_t)budget;
	for (i = 0; i < GOVERNOR_SLOTS; i++) {
		acc += counts[i];
		if (acc >= excess)
			break;
	}
	/* Slot i of the list leaves the window when slot + 1 + i begins. */
	*wait_ms = (slot + 1 + i) * slot_ms - now;
	return (false);
}

void
governor_pace_of(long budget, uint64_t window_ms, uint64_t window_slot_ms,
    struct governor_pace *out)
{
	uint64_t	span = window_ms + window_slot_ms;
	long		per;

	out->burst = (int)(budget / 10);
	if (out->burst > GOVERNOR_BURST_MAX)
		out->burst = GOVERNOR_BURST_MAX;
	/* Pace slots a span overlaps: at most span / slot + 1. */
	per = budget - 1 - out->burst;
	if (per < 1) {
		out->burst = 0;
		per = budget - 1;
	}
	out->slot_ms = per < 1 ? span : (span + (uint64_t)per - 1) /
	    (uint64_t)per;
	if (out->slot_ms == 0)
		out->slot_ms = 1;
}

bool
governor_pace_fits(uint64_t current, const uint64_t *previous,
    const struct governor_pace *pace, uint64_t now, uint64_t *wait_ms)
{
	int	i;

	uint64_t	used = 0;

	*wait_ms = 0;
	/* One more for each request the burst slots before it did not make. */
	for (i = 0; i < pace->burst; i++)
		used += previous[i];
	if (current <= 1 || (used < (uint64_t)pace->burst &&
	    current <= 1 + (uint64_t)pace->burst - used))
		return (true);
	*wait_ms = (now / pace->slot_ms + 1) * pace->slot_ms - now;
	return (false);
}

bool
governor_room_fits(const uint64_t *counts, long budget, uint64_t now,
    uint64_t slot_ms, const struct governor_pace *pace)
{
	uint64_t	held = 0, slot = now / slot_ms, leaves, paced;
	size_t		i;

	for (i = 0; i <= GOVERNOR_SLOTS; i++)
		held += counts[i];
	for (i = 0; i <= GOVERNOR_SLOTS; i++) {
		/* Until slot i leaves, it and those after it stay. */
		leaves = (slot + 1 + i) * slot_ms;
		paced = (leaves - 1) / pace->slot_ms - now / pace->slot_ms;
		if (held + paced > (uint64_t)budget)
			return (false);
		held -= counts[i];
	}
	return (true);
}

bool
governor_bucket_take(struct governor_bucket *b, double capacity,
    uint64_t period_ms, uint64_t now, uint64_t *wait_ms)
{
	double	rate = capacity / (double)(period_ms > 0 ? period_ms : 1);

	governor_bucket_refill(b, capacity, period_ms, now);
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		*wait_ms = 0;
		return (true);
	}
	*wait_ms = (uint64_t)ceil((1.0 - b->tokens) / rate);
	if (*wait_ms == 0)
		*wait_ms = 1;
	return (false);
}

static void
governor_bucket_refill(struct governor_bucket *b, double capacity,
    uint64_t period_ms, uint64_t now)
{
	double	rate = capacity / (double)(period_ms > 0 ? period_ms : 1);

	if (!b->primed) {
		b->tokens = capacity;
		b->last_ms = now;
		b->primed = true;
	}
	if (now > b->last_ms) {
		b->tokens += (double)(now - b->last_ms) * rate;
		if (b->tokens > capacity)
			b->tokens = capacity;
	}
	b->last_ms = now;
}

void
governor_bucket_charge(struct governor_bucket *b, double capacity,
    uint64_t period_ms, uint64_t now)
{
	governor_bucket_refill(b, capacity, period_ms, now);
	b->tokens -= 1.0;
	if (b->tokens < -capacity)
		b->tokens = -capacity;
}

/*
 * Keys are per machine: AniList counts per client IP. Machines sharing one
 * memcached tell their budgets apart by UPSTREAM_GOVERNOR_ID, else by host
 * name.
 */
static void
governor_host_init(void)
{
	char	name[256], hex[CACHE_DIGEST_LEN];

	if (cfg->upstream_governor_id != NULL &&
	    cfg->upstream_governor_id[0] != '\0')
		snprintf(name, sizeof name, "%s", cfg->upstream_governor_id);
	else if (gethostname(name, sizeof name) != 0)
		strcpy(name, "localhost");
	name[sizeof name - 1] = '\0';
	cache_sha256_hex(name, strlen(name), hex);
	memcpy(governor_host, hex, sizeof governor_host - 1);
	governor_host[sizeof governor_host - 1] = '\0';
}

static void
governor_key(char key[CACHE_KEY_LEN], const char *what)
{
	char	id[80];

	pthread_once(&governor_host_once, governor_host_init);
	snprintf(id, sizeof id, "%s:%s", governor_host, what);
	cache_key(key, "rl", id);
}

static void
governor_slot_key(char key[CACHE_KEY_LEN], uint64_t slot)
{
	char	what[32];

	snprintf(what, sizeof what, "%llu", (unsigned long long)slot);
	governor_key(key, what);
}

static uint64_t
governor_window_ms(void)
{
	return ((uint64_t)cfg->upstream_rate_window * 1000);
}

static uint64_t
governor_slot_ms(void)
{
	uint64_t	ms = governor_window_ms() / GOVERNOR_SLOTS;

	return (ms > 0 ? ms : 1);
}

static int
governor_slot_ttl(void)
{
	return (2 * cfg->upstream_rate_window + 2);
}


/* This worker's share of the budget; call with the lock held. */
static double
governor_share(void)
{
	double	share;

	share = (double)governor_budget(cfg->upstream_rate_limit,
	    governor.limit, cfg->upstream_rate_window) /
	    (double)(cfg->workers > 0 ? cfg->workers : 1);
	return (share < 1.0 ? 1.0 : share);
}

/* Without memcached: this worker's share of the budget, from a bucket. */
static enum governor_verdict
governor_acquire_local(uint64_t now, uint64_t *wait_ms)
{
	bool	ok;

	governor_count(local);
	pthread_mutex_lock(&governor.lock);
	if (governor.remaining_left == 0 &&
	    now < governor.reported_at + GOVERNOR_REPORT_MS) {
		*wait_ms = governor.reported_at + GOVERNOR_REPORT_MS - now;
		pthread_mutex_unlock(&governor.lock);
		governor_count(waits);
		return (GOVERNOR_WAIT);
	}
	ok = governor_bucket_take(&governor.bucket, governor_share(),
	    governor_window_ms(), now, wait_ms);
	if (ok && governor.remaining_left > 0)
		governor.remaining_left--;
	pthread_mutex_unlock(&governor.lock);
	if (!ok) {
		governor_count(waits);
		return (GOVERNOR_WAIT);
	}
	governor_count(acquired);
	return (GOVERNOR_GO);
}

/*
 * What an optional request leaves for interactive ones: a fifth of the
 * budget (none when the budget is under 5).
 */
static long
governor_margin(long budget)
{
	return (budget / 5);
}

/*
 * Without memcached nothing says how much of the shared budget is left:
 * optional requests wait until it answers again.
 */
static enum governor_verdict
governor_acquire_optional_local(uint64_t now, bool optional,
    uint64_t *wait_ms)
{
	if (!optional)
		return (governor_acquire_local(now, wait_ms));
	governor_count(waits);
	*wait_ms = governor_slot_ms();
	return (GOVERNOR_WAIT);
}

/*
 * A process that has not heard AniList's limit yet reads it once before
 * its first request, so that even that one is paced by the right budget.
 */
static void
governor_learn_limit(struct cache *c)
{
	static bool	 learned;
	char		 key[CACHE_KEY_LEN], *val;
	size_t		 len;
	uint64_t	 v;

	if (__atomic_load_n(&learned, __ATOMIC_ACQUIRE))
		return;
	governor_key(key, "limit");
	if (cache_get(c, key, &val, &len) == CACHE_OK) {
		if (cache_counter_value(val, &v) && v > 0) {
			pthread_mutex_lock(&governor.lock);
			if (governor.limit < 0)
				governor.limit = (long)v;
			pthread_mutex_unlock(&governor.lock);
		}
		free(val);
	}
	__atomic_store_n(&learned, true, __ATOMIC_RELEASE);
}

/* This process's budget as it last knew AniList's limit. */
static long
governor_local_budget(void)
{
	long	budget;

	pthread_mutex_lock(&governor.lock);
	budget = governor_budget(cfg->upstream_rate_limit, governor.limit,
	    cfg->upstream_rate_window);
	pthread_mutex_unlock(&governor.lock);
	return (budget);
}

uint64_t
governor_pace_ms(void)
{
	struct governor_pace	pace;

	governor_pace_of(governor_local_budget(), governor_window_ms(),
	    governor_slot_ms(), &pace);
	return (pace.slot_ms);
}

/* The key of pace slot n; its length is in it, as the budget may change. */
static void
governor_pace_key(char key[CACHE_KEY_LEN], const struct governor_pace *pace,
    uint64_t n)
{
	char	what[48];

	snprintf(what, sizeof what, "p%llu:%llu",
	    (unsigned long long)pace->slot_ms, (unsigned long long)n);
	governor_key(key, what);
}

/* What one look at the shared counters found (governor_acquire). */
struct governor_look {
	uint64_t	counts[GOVERNOR_SLOTS + 1];	/* window slots */
	uint64_t	paced[GOVERNOR_BURST_MAX];	/* pace slots before */
	uint64_t	pace_count;	/* the current pace slot, this one in */
	uint64_t	blocked, limit, rem;
	bool		have_limit, have_rem;
};

/*
 * Read the window's slots (the current one is look->counts' last, already
 * counted), AniList's numbers and the pace slots before the current one.
 */
static bool
governor_read(struct cache *c, uint64_t slot, const struct governor_pace *pace,
    uint64_t pace_slot, char rem_key[CACHE_KEY_LEN], struct governor_look *look)
{
	enum { NK = GOVERNOR_SLOTS + 3 + GOVERNOR_BURST_MAX };
	char		 keys[NK][CACHE_KEY_LEN];
	const char	*kp[NK];
	char		*vals[NK];
	uint64_t	 v;
	size_t		 i, n = GOVERNOR_SLOTS + 3 + (size_t)pace->burst;

	for (i = 0; i < GOVERNOR_SLOTS; i++)
		governor_slot_key(keys[i], slot - GOVERNOR_SLOTS + i);
	governor_key(keys[GOVERNOR_SLOTS], "limit");
	governor_key(keys[GOVERNOR_SLOTS + 1], "rem");
	governor_key(keys[GOVERNOR_SLOTS + 2], "blocked");
	for (i = 0; i < (size_t)pace->burst; i++)
		governor_pace_key(keys[GOVERNOR_SLOTS + 3 + i], pace,
		    pace_slot - 1 - i);
	memcpy(rem_key, keys[GOVERNOR_SLOTS + 1], CACHE_KEY_LEN);
	for (i = 0; i < n; i++)
		kp[i] = keys[i];
	if (cache_mget(c, kp, n, vals) != CACHE_OK)
		return (false);
	for (i = 0; i < GOVERNOR_SLOTS; i++)
		look->counts[i] = cache_counter_value(vals[i], &v) ? v : 0;
	for (i = 0; i < (size_t)pace->burst; i++)
		look->paced[i] = cache_counter_value(vals[GOVERNOR_SLOTS + 3 + i],
		    &v) ? v : 0;
	look->have_limit = cache_counter_value(vals[GOVERNOR_SLOTS],
	    &look->limit) && look->limit > 0;
	look->have_rem = cache_counter_value(vals[GOVERNOR_SLOTS + 1],
	    &look->rem);
	if (!cache_counter_value(vals[GOVERNOR_SLOTS + 2], &look->blocked))
		look->blocked = 0;
	for (i = 0; i < n; i++)
		free(vals[i]);
	return (true);
}

/* The verdict on what governor_read found; *wait_ms when not GO. */
static enum governor_verdict
governor_judge(const struct governor_look *look,
    const struct governor_pace *pace, bool optional, uint64_t now,
    uint64_t *wait_ms)
{
	long	budget;

	pthread_mutex_lock(&governor.lock);
	if (look->have_limit)
		governor.limit = (long)look->limit;
	budget = governor_budget(cfg->upstream_rate_limit, governor.limit,
	    cfg->upstream_rate_window);
	if (look->blocked > now && look->blocked > governor.blocked_until)
		governor.blocked_until = look->blocked;
	pthread_mutex_unlock(&governor.lock);
	if (look->blocked > now) {
		*wait_ms = look->blocked - now;
		return (GOVERNOR_BLOCKED);
	}
	if (!governor_fits(look->counts, budget, now, governor_slot_ms(),
	    wait_ms))
		return (GOVERNOR_WAIT);
	if (optional && !governor_fits(look->counts, budget -
	    governor_margin(budget), now, governor_slot_ms(), wait_ms))
		return (GOVERNOR_RESERVED);
	if (!governor_pace_fits(look->pace_count, look->paced, pace, now,
	    wait_ms) && (look->pace_count > 2 || !governor_room_fits(
	    look->counts, budget, now, governor_slot_ms(), pace)))
		return (GOVERNOR_WAIT);
	*wait_ms = 0;
	if (look->have_rem && look->rem <= 1) {
		/* AniList says nothing is left: wait for its next report. */
		*wait_ms = governor_slot_ms();
		return (GOVERNOR_WAIT);
	}
	return (GOVERNOR_GO);
}

enum governor_verdict
governor_acquire(uint64_t now, bool optional, uint64_t *wait_ms)
{
	struct cache		*c;
	struct governor_look	 look;
	struct governor_pace	 pace;
	char			 cur_key[CACHE_KEY_LEN], rem_key[CACHE_KEY_LEN];
	char			 pace_key[CACHE_KEY_LEN];
	uint64_t		 slot, pace_slot, blocked, undo;
	int			 pace_ttl;
	enum governor_verdict	 verdict;

	*wait_ms = 0;
	if ((blocked = governor_blocked_until(now)) > now) {
		*wait_ms = blocked - now;
		governor_count(blocked);
		return (GOVERNOR_BLOCKED);
	}
	if ((c = cache_thread()) == NULL)
		return (governor_acquire_optional_local(now, optional, wait_ms));

	governor_learn_limit(c);
	memset(&look, 0, sizeof look);
	slot = now / governor_slot_ms();
	governor_slot_key(cur_key, slot);
	if (cache_incr(c, cur_key, 1, 1, governor_slot_ttl(),
	    &look.counts[GOVERNOR_SLOTS]) != CACHE_OK)
		return (governor_acquire_optional_local(now, optional, wait_ms));
	governor_pace_of(governor_local_budget(), governor_window_ms(),
	    governor_slot_ms(), &pace);
	pace_slot = now / pace.slot_ms;
	governor_pace_key(pace_key, &pace, pace_slot);
	pace_ttl = (int)((uint64_t)(pace.burst + 2) * pace.slot_ms / 1000) + 2;
	if (cache_incr(c, pace_key, 1, 1, pace_ttl, &look.pace_count) !=
	    CACHE_OK) {
		cache_decr(c, cur_key, 1, 0, governor_slot_ttl(), &undo);
		return (governor_acquire_optional_local(now, optional, wait_ms));
	}
	if (!governor_read(c, slot, &pace, pace_slot, rem_key, &look)) {
		cache_decr(c, cur_key, 1, 0, governor_slot_ttl(), &undo);
		cache_decr(c, pace_key, 1, 0, pace_ttl, &undo);
		return (governor_acquire_optional_local(now, optional, wait_ms));
	}

	verdict = governor_judge(&look, &pace, optional, now, wait_ms);
	if (verdict != GOVERNOR_GO) {
		cache_decr(c, cur_key, 1, 0, governor_slot_ttl(), &undo);
		cache_decr(c, pace_key, 1, 0, pace_ttl, &undo);
		if (verdict == GOVERNOR_BLOCKED)
			governor_count(blocked);
		else
			governor_count(waits);
		return (verdict);
	}
	if (look.have_rem)
		cache_decr(c, rem_key, 1, 0, 0, &undo);
	pthread_mutex_lock(&governor.lock);
	governor_bucket_charge(&governor.bucket, governor_share(),
	    governor_window_ms(), now);
	pthread_mutex_unlock(&governor.lock);
	governor_count(acquired);
	return (GOVERNOR_GO);
}

void
governor_report(uint64_t now, long limit, long remaining, int status,
    int retry_after)
{
	struct cache	*c;
	char		 key[CACHE_KEY_LEN], val[32];
	uint64_t	 blocked = 0;
	int		 pause = 0;

	pthread_mutex_lock(&governor.lock);
	if (limit > 0)
		governor.limit = limit;
	if (remaining >= 0) {
		governor.remaining = remaining;
		governor.remaining_left = remaining;
		governor.reported_at = now;
	}
	if (status == 429) {
		pause = retry_after > 0 ? retry_after : GOVERNOR_DEFAULT_PAUSE;
		blocked = now + (uint64_t)pause * 1000;
		if (blocked > governor.blocked_until)
			governor.blocked_until = blocked;
	}
	pthread_mutex_unlock(&governor.lock);
	if (remaining >= 0)
		metrics_upstream_ratelimit(remaining > INT_MAX ? INT_MAX :
		    (int)remaining);
	if (status == 429) {
		governor_count(reports_429);
		log_warn("anilist rate limited us", LF_INT("retry_after", pause),
		    LF_INT("limit", limit), LF_END);
	}

	if ((c = cache_thread()) == NULL)
		return;
	if (limit > 0) {
		governor_key(key, "limit");
		snprintf(val, sizeof val, "%ld", limit);
		cache_set(c, key, val, strlen(val), GOVERNOR_LIMIT_TTL);
	}
	if (remaining >= 0) {
		governor_key(key, "rem");
		snprintf(val, sizeof val, "%ld", remaining + 1);
		cache_set(c, key, val, strlen(val),
		    (int)(GOVERNOR_REPORT_MS / 1000));
	}
	if (blocked != 0) {
		governor_key(key, "blocked");
		snprintf(val, sizeof val, "%llu", (unsigned long long)blocked);
		cache_set(c, key, val, strlen(val), pause + 1);
	}
}

uint64_t
governor_blocked_until(uint64_t now)
{
	uint64_t	until;

	pthread_mutex_lock(&governor.lock);
	until = governor.blocked_until;
	pthread_mutex_unlock(&governor.lock);
	return (until > now ? until : 0);
}

static void
governor_add_time(struct json_object *o, const char *name, uint64_t ms)
{
	char	ts[32];

	if (ms == 0) {
		json_object_object_add(o, name, NULL);
		return;
	}
	log_format_ts(ms, ts);
	json_object_object_add(o, name, json_object_new_string(ts));
}

void
governor_describe(uint64_t now, struct json_object *out)
{
	struct cache		*c = cache_thread();
	struct json_object	*a;
	struct governor_pace	 pace;
	char			 keys[GOVERNOR_SLOTS + 3][CACHE_KEY_LEN];
	const char		*kp[GOVERNOR_SLOTS + 3];
	char			*vals[GOVERNOR_SLOTS + 3];
	uint64_t		 slot = now / governor_slot_ms(), used = 0, v;
	uint64_t		 blocked, reported_at;
	long			 limit, remaining, budget;
	bool			 shared = false;
	size_t			 i;

	pthread_mutex_lock(&governor.lock);
	limit = governor.limit;
	remaining = governor.remaining;
	reported_at = governor.reported_at;
	blocked = governor.blocked_until;
	pthread_mutex_unlock(&governor.lock);

	/* The last GOVERNOR_SLOTS slots, this one included: one window. */
	for (i = 0; i < GOVERNOR_SLOTS; i++)
		governor_slot_key(keys[i], slot - GOVERNOR_SLOTS + 1 + i);
	governor_key(keys[GOVERNOR_SLOTS], "limit");
	governor_key(keys[GOVERNOR_SLOTS + 1], "rem");
	governor_key(keys[GOVERNOR_SLOTS + 2], "blocked");
	for (i = 0; i < nitems(kp); i++)
		kp[i] = keys[i];
	if (c != NULL && cache_mget(c, kp, nitems(kp), vals) == CACHE_OK) {
		shared = true;
		for (i = 0; i < GOVERNOR_SLOTS; i++) {
			if (cache_counter_value(vals[i], &v))
				used += v;
		}
		if (cache_counter_value(vals[GOVERNOR_SLOTS], &v) && v > 0)
			limit = (long)v;
		if (cache_counter_value(vals[GOVERNOR_SLOTS + 2], &v) &&
		    v > blocked)
			blocked = v;
		for (i = 0; i < nitems(vals); i++)
			free(vals[i]);
	}
	budget = governor_budget(cfg->upstream_rate_limit, limit,
	    cfg->upstream_rate_window);

	json_object_object_add(out, "shared", json_object_new_boolean(shared));
	json_object_object_add(out, "window_s",
	    json_object_new_int(cfg->upstream_rate_window));
	json_object_object_add(out, "limit_per_minute",
	    json_object_new_int(cfg->upstream_rate_limit));
	json_object_object_add(out, "budget", json_object_new_int64(budget));
	governor_pace_of(budget, governor_window_ms(), governor_slot_ms(),
	    &pace);
	json_object_object_add(out, "pace_ms",
	    json_object_new_int64((int64_t)pace.slot_ms));
	json_object_object_add(out, "burst", json_object_new_int(pace.burst));
	if (shared) {
		json_object_object_add(out, "used",
		    json_object_new_int64((int64_t)used));
		json_object_object_add(out, "remaining", json_object_new_int64(
		    used >= (uint64_t)budget ? 0 : budget - (long)used));
	} else {
		json_object_object_add(out, "used", NULL);
		json_object_object_add(out, "remaining", NULL);
	}
	a = json_object_new_object();
	json_object_object_add(a, "limit",
	    limit > 0 ? json_object_new_int64(limit) : NULL);
	json_object_object_add(a, "remaining",
	    remaining >= 0 ? json_object_new_int64(remaining) : NULL);
	governor_add_time(a, "reported_at", reported_at);
	json_object_object_add(out, "anilist", a);
	governor_add_time(out, "blocked_until", blocked > now ? blocked : 0);
	json_object_object_add(out, "blocked_for_ms",
	    json_object_new_int64(blocked > now ? (int64_t)(blocked - now) : 0));
}

void
governor_stats_get(struct governor_stats *out)
{
	out->acquired = __atomic_load_n(&governor_counters.acquired,
	    __ATOMIC_RELAXED);
	out->waits = __atomic_load_n(&governor_counters.waits,
	    __ATOMIC_RELAXED);
	out->blocked = __atomic_load_n(&governor_counters.blocked,
	    __ATOMIC_RELAXED);
	out->local = __atomic_load_n(&governor_counters.local,
	    __ATOMIC_RELAXED);
	out->reports_429 = __atomic_load_n(&governor_counters.reports_429,
	    __ATOMIC_RELAXED);
}
