/* observe/metrics.c: the shared-memory registry of counters and histograms, and the calls the rest of the service makes. */
#include "autoconf.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "metrics_internal.h"
#include "router.h"
#include "util.h"

#define METRICS_PROBE_MAX	128
#define METRICS_SPIN_MAX	100000

/* Fixed histogram buckets (seconds), shared by every duration histogram. */
const double metrics_buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
_Static_assert(nitems(metrics_buckets) == METRICS_NBUCKETS,
    "METRICS_NBUCKETS counts metrics_buckets");

const struct metrics_family metrics_families[MF_COUNT] = {
	[MF_HTTP_REQUESTS] = { "http_requests_total", METRICS_COUNTER, false,
	    "HTTP requests by route pattern, method and status." },
	[MF_HTTP_DURATION] = { "http_request_duration_seconds",
	    METRICS_HISTOGRAM, false,
	    "Time from request start to response, by route pattern." },
	[MF_CACHE] = { "cache_requests_total", METRICS_COUNTER, false,
	    "Cache lookups by kind and result (hit, miss, stale, error)." },
	[MF_UPSTREAM] = { "anilist_requests_total", METRICS_COUNTER, false,
	    "AniList calls by result (ok, ratelimited, server_error, ...)." },
	[MF_UPSTREAM_DURATION] = { "anilist_request_duration_seconds",
	    METRICS_HISTOGRAM, true, "Duration of AniList calls." },
	[MF_DB_WAIT] = { "db_pool_wait_seconds", METRICS_HISTOGRAM, true,
	    "Time spent waiting for a PostgreSQL pool connection." },
	[MF_DB_ERRORS] = { "db_errors_total", METRICS_COUNTER, true,
	    "PostgreSQL errors (connection and query)." },
	[MF_SEARCH] = { "search_queries_total", METRICS_COUNTER, true,
	    "Anime searches." },
	[MF_SEARCH_ZERO] = { "search_zero_results_total", METRICS_COUNTER,
	    true, "Anime searches that found nothing." },
	[MF_OAUTH] = { "oauth_logins_total", METRICS_COUNTER, false,
	    "AniList OAuth logins by result and failure reason." },
	[MF_FEEDBACK] = { "recommendation_feedback_total", METRICS_COUNTER,
	    false, "Recommendation feedback by action." },
	[MF_TOOL] = { "tool_calls_total", METRICS_COUNTER, false,
	    "Tool calls by tool and result." },
	[MF_TOOL_DURATION] = { "tool_duration_seconds", METRICS_HISTOGRAM,
	    false, "Tool call duration by tool." },
	[MF_WORKER_RESTARTS] = { "worker_restarts_total", METRICS_COUNTER,
	    true, "Workers restarted by the master after dying." },
	[MF_NOTIFICATIONS] = { "notifications_total", METRICS_COUNTER, false,
	    "Outgoing notifications (sentry, slack, pagerduty) by result." },
	[MF_ALERTS] = { "alerts_received_total", METRICS_COUNTER, false,
	    "Alert webhooks accepted, by source." },
	[MF_SEARCH_DROPPED] = { "search_stats_dropped_total", METRICS_COUNTER,
	    false, "Searches left out of the top-searches statistics, by "
	    "reason (disabled, full, database)." },
	[MF_RATE_LIMITED] = { "http_rate_limited_total", METRICS_COUNTER,
	    true, "Requests refused by the per-client rate limit (429)." },
	[MF_RATE_LIMIT_FAIL_OPEN] = { "rate_limit_fail_open_total",
	    METRICS_COUNTER, false, "Requests let through without a rate "
	    "limit check, by reason (cache, no_client)." },
	[MF_MCP_VERSION_MISMATCH] = { "mcp_version_mismatch_total",
	    METRICS_COUNTER, false, "MCP requests whose MCP-Protocol-Version "
	    "header and _meta named two different supported revisions, by "
	    "header and body (served per the body)." },
	[MF_MEMCACHED_DURATION] = { "memcached_request_duration_seconds",
	    METRICS_HISTOGRAM, false, "Round trip of each memcached command, "
	    "by op (get, mget, set, add, delete, incr, decr)." },
	[MF_DB_DURATION] = { "db_query_duration_seconds", METRICS_HISTOGRAM,
	    true, "Round trip of each PostgreSQL statement." },
};

struct metrics_shm		*metrics_shm;
static struct metrics_proc	*metrics_self;

static const char *const metrics_methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"
};


/* FNV-1a, then a splitmix64 finaliser so every bit depends on every byte. */
uint64_t
metrics_hash(const char *s, uint64_t seed)
{
	uint64_t	h = 0xcbf29ce484222325ULL ^ seed;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (h);
}


/*
 * Append one label as key="value": the value is cut at METRICS_VALUE_MAX
 * bytes, bytes outside printable ASCII become '_', and \ and " are escaped
 * as the exposition format wants. Returns false when out is full.
 */
bool
metrics_label(char *out, size_t cap, size_t *len, const char *key,
    const char *value)
{
	size_t		n = *len, i, klen = strlen(key);
	unsigned char	c;

	if (value == NULL)
		value = "";
	if (n != 0) {
		if (n + 1 >= cap)
			return (false);
		out[n++] = ',';
	}
	/* Every request comes here a few times: no printf. */
	if (n + klen + 2 >= cap)
		return (false);
	memcpy(out + n, key, klen);
	n += klen;
	out[n++] = '=';
	out[n++] = '"';
	for (i = 0; value[i] != '\0' && i < METRICS_VALUE_MAX; i++) {
		c = (unsigned char)value[i];
		if (n + 3 >= cap)
			return (false);
		if (c == '\\' || c == '"') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else
			out[n++] = (c < 0x20 || c >= 0x7f) ? '_' : (char)c;
	}
	if (n + 2 >= cap)
		return (false);
	out[n++] = '"';
	out[n] = '\0';
	*len = n;
	return (true);
}

/* Labels from NULL-terminated key, value pairs. */
static bool
metrics_labels(char *out, size_t cap, ...)
{
	va_list		 ap;
	const char	*k, *v;
	size_t		 len = 0;
	bool		 ok = true;

	out[0] = '\0';
	va_start(ap, cap);
	while (ok && (k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		ok = metrics_label(out, cap, &len, k, v);
	}
	va_end(ap);
	return (ok);
}

/*
 * Find or claim the series (family, labels). Claiming is a CAS on the
 * slot's state, so processes and threads race safely; a slot left half
 * claimed by a process killed at that instant is skipped, not waited on.
 */
static struct metrics_series *
metrics_series_get(enum metrics_fam fam, const char *labels)
{
	struct metrics_series	*s;
	uint64_t		 h = metrics_hash(labels, (uint64_t)fam);
	uint32_t		 st, expect;
	size_t			 i, spins;

	if (metrics_shm == NULL)
		return (NULL);
	for (i = 0; i < METRICS_PROBE_MAX; i++) {
		s = &metrics_shm->series[(h + i) % METRICS_MAX_SERIES];
		st = atomic_load_explicit(&s->state, memory_order_acquire);
		if (st == 0) {
			expect = 0;
			if (atomic_compare_exchange_strong(&s->state, &expect,
			    1)) {
				s->family = (uint32_t)fam;
				s->hash = h;
				snprintf(s->labels, sizeof s->labels, "%s",
				    labels);
				atomic_store_explicit(&s->state, 2,
				    memory_order_release);
				return (s);
			}
			st = expect;
		}
		for (spins = 0; st == 1 && spins < METRICS_SPIN_MAX; spins++) {
			sched_yield();
			st = atomic_load_explicit(&s->state,
			    memory_order_acquire);
		}
		if (st == 2 && s->family == (uint32_t)fam && s->hash == h &&
		    strcmp(s->labels, labels) == 0)
			return (s);
	}
	atomic_fetch_add(&metrics_shm->dropped, 1);
	return (NULL);
}

static void
metrics_count(enum metrics_fam fam, const char *labels)
{
	struct metrics_series	*s;

	if ((s = metrics_series_get(fam, labels)) != NULL)
		atomic_fetch_add_explicit(&s->value, 1, memory_order_relaxed);
}

static void
metrics_observe_series(struct metrics_series *s, double seconds)
{
	size_t	i;

	if (s == NULL || seconds < 0 || isnan(seconds))
		return;
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		if (seconds <= metrics_buckets[i])
			break;
	}
	atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_ns, (uint64_t)(seconds * 1e9),
	    memory_order_relaxed);
}

static void
metrics_observe(enum metrics_fam fam, const char *labels, double seconds)
{
	if (seconds >= 0 && !isnan(seconds))
		metrics_observe_series(metrics_series_get(fam, labels),
		    seconds);
}

/* One label set of metrics_zeros at 0 (a counter: claimed, not counted). */
static void
metrics_seed_one(const char *family, const char *k1, const char *v1,
    const char *k2, const char *v2)
{
	char	labels[METRICS_LABELS_LEN];
	int	f;

	for (f = 0; f < MF_COUNT; f++) {
		if (strcmp(metrics_families[f].name, family) == 0)
			break;
	}
	if (f < MF_COUNT && metrics_labels(labels, sizeof labels, k1, v1, k2,
	    v2, (char *)NULL))
		(void)metrics_series_get((enum metrics_fam)f, labels);
}

/* The series metrics_zero.c names, and every route's requests. */
static void
metrics_seed_zeros(void)
{
	const struct metrics_zero	*z;
	const char *const		*a, *const *b;
	char				 labels[METRICS_LABELS_LEN];
	size_t				 i;

	for (z = metrics_zeros; z < metrics_zeros + metrics_zeros_count; z++) {
		for (a = z->values1; *a != NULL; a++) {
			if (z->key2 == NULL) {
				metrics_seed_one(z->family, z->key1, *a, NULL,
				    NULL);
				continue;
			}
			for (b = z->values2; *b != NULL; b++)
				metrics_seed_one(z->family, z->key1, *a,
				    z->key2, *b);
		}
	}
	for (i = 0; i < routes_count; i++) {
		for (a = metrics_zero_statuses; *a != NULL; a++) {
			if (metrics_labels(labels, sizeof labels, "route",
			    routes[i].pattern, "method", routes[i].method,
			    "status", *a, (char *)NULL))
				(void)metrics_series_get(MF_HTTP_REQUESTS,
				    labels);
		}
	}
}

bool
metrics_shared_init(void)
{
	struct metrics_shm	*m;
	size_t			 i;
	int			 f;

	if (metrics_shm != NULL)
		return (true);
	if (!cfg->metrics_enabled)
		return (false);
	m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		log_error("metrics: cannot map the shared registry",
		    LF_STR("error", strerror(errno)), LF_END);
		return (false);
	}
	atomic_store(&m->ratelimit_remaining, -1);
	for (i = 0; i < nitems(m->hll_window); i++)
		atomic_store(&m->hll_window[i], UINT64_MAX);
	metrics_shm = m;
	for (f = 0; f < MF_COUNT; f++) {
		if (metrics_families[f].seed)
			(void)metrics_series_get((enum metrics_fam)f, "");
	}
	metrics_seed_zeros();
	return (true);
}

bool
metrics_enabled(void)
{
	return (metrics_shm != NULL);
}
static void
metrics_proc_clear(struct metrics_proc *p)
{
	atomic_store(&p->in_flight, 0);
	atomic_store(&p->db_in_use, 0);
	atomic_store(&p->db_idle, 0);
	p->master = 0;
	atomic_store(&p->pid, 0);
}

void
metrics_process_init(bool master)
{
	struct metrics_proc	*p;
	int32_t			 expect;
	size_t			 i;

	metrics_statsd_stop();		/* a reload: the old socket sends */
	if (metrics_self != NULL && atomic_load(&metrics_self->pid) ==
	    (int32_t)getpid())
		metrics_proc_clear(metrics_self);
	metrics_self = NULL;
	if (!cfg->metrics_enabled)
		return;
	if (metrics_shm != NULL) {
		for (i = 0; i < METRICS_MAX_PROCS; i++) {
			p = &metrics_shm->procs[i];
			expect = 0;
			if (atomic_compare_exchange_strong(&p->pid, &expect,
			    (int32_t)getpid())) {
				p->master = master;
				metrics_self = p;
				break;
			}
		}
	}
	metrics_statsd_start(master);
}

void
metrics_process_shutdown(void)
{
	metrics_statsd_stop();
	if (metrics_self != NULL)
		metrics_proc_clear(metrics_self);
	metrics_self = NULL;
}

void
metrics_process_exited(pid_t pid)
{
	size_t	i;

	if (metrics_shm == NULL)
		return;
	for (i = 0; i < METRICS_MAX_PROCS; i++) {
		if (atomic_load(&metrics_shm->procs[i].pid) == (int32_t)pid)
			metrics_proc_clear(&metrics_shm->procs[i]);
	}
}

/* ---- requests ---- */

int64_t
metrics_in_flight_total(void)
{
	int64_t	n = 0;
	size_t	i;

	for (i = 0; i < METRICS_MAX_PROCS; i++)
		n += atomic_load_explicit(&metrics_shm->procs[i].in_flight,
		    memory_order_relaxed);
	return (n);
}

void
metrics_request_begin(void)
{
	metrics_statsd_hold();
	if (metrics_self != NULL)
		atomic_fetch_add(&metrics_self->in_flight, 1);
}

static const char *
metrics_method(const char *m)
{
	size_t	i;

	for (i = 0; m != NULL && i < nitems(metrics_methods); i++) {
		if (strcmp(m, metrics_methods[i]) == 0)
			return (metrics_methods[i]);
	}
	return ("other");
}

/*
 * What one kind of request (route, method, status) counts into, worked out
 * once per thread: its two series and its statsd lines, whole (the count)
 * or cut where the value goes (the time).
 */
struct metrics_kind {
	const char		*route;		/* NULL: a free slot */
	const char		*method;
	int			 status;
	struct metrics_series	*requests;
	struct metrics_series	*duration;
	char			 count[METRICS_LINE_MAX];
	size_t			 count_len;	/* 0: no statsd line */
	char			 time[METRICS_LINE_MAX];
	size_t			 time_head;	/* up to the value */
	size_t			 time_len;
};
#define METRICS_KINDS	8
#define METRICS_MEMOS	16	/* label sets per thread */
#define METRICS_MEMO_VALUE	64
static __thread struct metrics_kind	*metrics_kinds;
/* Frees a thread's kinds when it exits. */
static pthread_key_t			 metrics_kinds_key;
static pthread_once_t			 metrics_kinds_once = PTHREAD_ONCE_INIT;

static void
metrics_kinds_key_make(void)
{
	(void)pthread_key_create(&metrics_kinds_key, free);
}

static void
metrics_kind_make(struct metrics_kind *k, const char *route,
    const char *method, int status)
{
	char	labels[METRICS_LABELS_LEN], st[8], name[160], comp[80];
	char	tags[160], tv[80];

	k->route = route;
	k->method = method;
	k->status = status;
	k->requests = k->duration = NULL;
	snprintf(st, sizeof st, "%d", status);
	if (metrics_labels(labels, sizeof labels, "route", route, "method",
	    method, "status", st, (char *)NULL))
		k->requests = metrics_series_get(MF_HTTP_REQUESTS, labels);
	if (metrics_labels(labels, sizeof labels, "route", route,
	    (char *)NULL))
		k->duration = metrics_series_get(MF_HTTP_DURATION, labels);
	if (metrics_dogstatsd) {
		metrics_statsd_tag_value(tv, sizeof tv, route);
		snprintf(tags, sizeof tags, "route:%s,method:%s,status:%s", tv,
		    method, st);
		k->count_len = metrics_statsd_format(k->count, sizeof k->count,
		    &(struct metrics_stat){ .name = "http.requests",
		    .value = "1", .type = "c", .tags = tags,
		    .dogstatsd = true });
		snprintf(tags, sizeof tags, "route:%s", tv);
		snprintf(name, sizeof name, "http.response_time");
	} else {
		metrics_statsd_component(comp, sizeof comp, route);
		snprintf(name, sizeof name, "http.requests.%s.%s.%dxx", comp,
		    method, status / 100);
		k->count_len = metrics_statsd_format(k->count, sizeof k->count,
		    &(struct metrics_stat){ .name = name, .value = "1",
		    .type = "c" });
		snprintf(name, sizeof name, "http.response_time.%s", comp);
		tags[0] = '\0';
	}
	/* With an empty value the line is its head and its tail. */
	k->time_len = metrics_statsd_format(k->time, sizeof k->time,
	    &(struct metrics_stat){ .name = name, .value = "", .type = "ms",
	    .tags = tags, .dogstatsd = metrics_dogstatsd });
	k->time_head = strlen(cfg->statsd_prefix) + strlen(name) + 1;
	if (k->time_len < k->time_head)
		k->time_len = 0;
}

static struct metrics_kind *
metrics_kind_get(const char *route, const char *method, int status)
{
	struct metrics_kind	*k;
	size_t			 i;

	if (metrics_kinds == NULL) {
		metrics_kinds = xcalloc(METRICS_KINDS, sizeof *metrics_kinds);
		pthread_once(&metrics_kinds_once, metrics_kinds_key_make);
		(void)pthread_setspecific(metrics_kinds_key, metrics_kinds);
	}
	/* Routes are patterns from the route table or fixed words. */
	i = ((uintptr_t)route / 8 + (size_t)status) % METRICS_KINDS;
	k = &metrics_kinds[i];
	if (k->route == NULL || k->status != status || k->method != method ||
	    (k->route != route && strcmp(k->route, route) != 0))
		metrics_kind_make(k, route, method, status);
	return (k);
}

void
metrics_request_end(const char *route, const char *method, int status,
    uint64_t start_us)
{
	struct metrics_kind	*k;
	char			 ms[UTIL_NUM_MAX], num[UTIL_NUM_MAX];
	uint64_t		 us = util_mono_us() - start_us;
	int64_t			 flight = 0;
	size_t			 n;

	if (route == NULL)
		route = "unknown";
	method = metrics_method(method);
	k = metrics_kind_get(route, method, status);
	if (metrics_shm != NULL) {
		if (metrics_self != NULL)
			atomic_fetch_sub(&metrics_self->in_flight, 1);
		if (k->requests != NULL)
			atomic_fetch_add_explicit(&k->requests->value, 1,
			    memory_order_relaxed);
		metrics_observe_series(k->duration, (double)us / 1e6);
		flight = metrics_in_flight_total();
	}
	if (metrics_statsd_on()) {
		if (k->count_len != 0)
			metrics_statsd_append(k->count, k->count_len, NULL, 0,
			    NULL, 0);
		n = util_fmt_fixed3(ms, (double)us / 1000.0);
		if (k->time_len != 0)
			metrics_statsd_append(k->time, k->time_head, ms, n,
			    k->time + k->time_head, k->time_len - k->time_head);
		if (metrics_shm != NULL) {
			(void)util_fmt_ll(num, flight);
			metrics_statsd("http.in_flight", num, "g", NULL);
		}
	}
	metrics_statsd_release();
}

/* ---- master ---- */

void
metrics_worker_restart(void)
{
	if (metrics_shm != NULL)
		metrics_count(MF_WORKER_RESTARTS, "");
	metrics_statsd("workers.restarts", "1", "c", NULL);
}

void
metrics_workers_alive(int n)
{
	char	num[16];

	if (metrics_shm != NULL)
		atomic_store(&metrics_shm->workers_alive, n);
	snprintf(num, sizeof num, "%d", n);
	metrics_statsd("workers.alive", num, "g", NULL);
}

/* ---- calls for the other parts ---- */

/*
 * seconds as milliseconds with 3 decimals ("%.3f" without printf's
 * floating-point path, as metrics_request_end writes its times).
 */
static void
metrics_ms(char *out, size_t cap, double seconds)
{
	char	num[UTIL_NUM_MAX];
	size_t	n = util_fmt_fixed3(num, seconds * 1000.0);

	if (cap == 0)
		return;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, num, n);
	out[n] = '\0';
}

/*
 * n events of a counter with one label (k2 NULL) or two: the shared
 * series of fam, and the statsd counter named base.
 */
struct metrics_event_req {
	enum metrics_fam	 fam;
	const char		*base;
	const char		*k1;
	const char		*v1;
	const char		*k2;	/* NULL: one label */
	const char		*v2;
	uint64_t		 n;
};

/*
 * One label set's shared series and statsd line, worked out once per
 * thread instead of at every event: the family, base, keys and type are
 * compared as words, the values by their text.
 */
struct metrics_memo {
	bool			 used;
	enum metrics_fam	 fam;
	const char		*base, *k1, *k2, *type;
	char			 v1[METRICS_MEMO_VALUE];
	char			 v2[METRICS_MEMO_VALUE];
	struct metrics_shm	*shm;		/* the registry it was made in */
	struct metrics_series	*series;	/* NULL: none (no registry) */
	bool			 dogstatsd;	/* the line's settings */
	char			 prefix[METRICS_MEMO_VALUE];
	char			 line[METRICS_LINE_MAX];	/* empty value */
	size_t			 head;		/* where the value goes */
	size_t			 len;		/* 0: no statsd line */
};
static __thread struct metrics_memo	*metrics_memos;
static __thread unsigned		 metrics_memo_next;
static pthread_key_t			 metrics_memos_key;
static pthread_once_t			 metrics_memos_once = PTHREAD_ONCE_INIT;

static void
metrics_memos_key_make(void)
{
	(void)pthread_key_create(&metrics_memos_key, free);
}

static bool
metrics_memo_word(const char *a, const char *b)
{
	return (a == b || (a != NULL && b != NULL && strcmp(a, b) == 0));
}

/* Copy in (NULL: "") to out[METRICS_MEMO_VALUE]; false when cut. */
static bool
metrics_memo_copy(char *out, const char *in)
{
	int	n = snprintf(out, METRICS_MEMO_VALUE, "%s", in != NULL ? in : "");

	return (n >= 0 && n < METRICS_MEMO_VALUE);
}

/* The statsd prefix a memo's line has ("" before any config). */
static const char *
metrics_memo_prefix(void)
{
	return (cfg != NULL && cfg->statsd_prefix != NULL ?
	    cfg->statsd_prefix : "");
}

/* Is m (borrowed) the memo of fam and req (borrowed), still valid? */
static bool
metrics_memo_is(const struct metrics_memo *m, enum metrics_fam fam,
    const struct metrics_statsd_req *req)
{
	return (m->used && m->fam == fam && m->shm == metrics_shm &&
	    m->dogstatsd == metrics_dogstatsd &&
	    metrics_memo_word(m->base, req->base) &&
	    metrics_memo_word(m->k1, req->k1) &&
	    metrics_memo_word(m->k2, req->k2) &&
	    metrics_memo_word(m->type, req->type) &&
	    strcmp(m->v1, req->v1 != NULL ? req->v1 : "") == 0 &&
	    (req->k2 == NULL || strcmp(m->v2, req->v2 != NULL ? req->v2 :
	    "") == 0) && strcmp(m->prefix, metrics_memo_prefix()) == 0);
}

/*
 * Work out m for fam and req (borrowed): the series (claimed now, as
 * every event did) and the statsd line. False when it may not be kept:
 * a value too long to compare, or a full registry (which counts each
 * event it drops).
 */
static bool
metrics_memo_make(struct metrics_memo *m, enum metrics_fam fam,
    const struct metrics_statsd_req *req)
{
	char	labels[METRICS_LABELS_LEN];
	bool	keep = true;

	m->fam = fam;
	m->base = req->base;
	m->k1 = req->k1;
	m->k2 = req->k2;
	m->type = req->type;
	keep &= metrics_memo_copy(m->v1, req->v1);
	keep &= metrics_memo_copy(m->v2, req->k2 != NULL ? req->v2 : NULL);
	keep &= metrics_memo_copy(m->prefix, metrics_memo_prefix());
	m->shm = metrics_shm;
	m->dogstatsd = metrics_dogstatsd;
	m->series = NULL;
	if (metrics_shm != NULL && metrics_labels(labels, sizeof labels,
	    req->k1, req->v1, req->k2, req->v2, (char *)NULL) &&
	    (m->series = metrics_series_get(fam, labels)) == NULL)
		keep = false;
	/* Before any config (some tests): no line, and nothing kept. */
	m->len = m->head = 0;
	if (cfg != NULL && cfg->statsd_prefix != NULL)
		m->len = metrics_statsd2_template(req, m->line,
		    sizeof m->line, &m->head);
	else
		keep = false;
	if (m->head > m->len)
		m->len = 0;
	return (keep);
}

/*
 * This thread's memo of fam and req (borrowed; its value unused), made
 * now if need be; metrics_memo_done after use.
 */
static struct metrics_memo *
metrics_memo_get(enum metrics_fam fam, const struct metrics_statsd_req *req)
{
	struct metrics_memo	*m;
	size_t			 i;

	if (metrics_memos == NULL) {
		metrics_memos = xcalloc(METRICS_MEMOS, sizeof *metrics_memos);
		pthread_once(&metrics_memos_once, metrics_memos_key_make);
		(void)pthread_setspecific(metrics_memos_key, metrics_memos);
	}
	for (i = 0; i < METRICS_MEMOS; i++) {
		if (metrics_memo_is(&metrics_memos[i], fam, req))
			return (&metrics_memos[i]);
	}
	m = &metrics_memos[metrics_memo_next++ % METRICS_MEMOS];
	m->used = metrics_memo_make(m, fam, req);
	return (m);
}

/* Send m's (borrowed) statsd line with value, when statsd is on. */
static void
metrics_memo_statsd(const struct metrics_memo *m, const char *value)
{
	size_t	nv;

	if (!metrics_statsd_on() || m->len == 0)
		return;
	nv = strlen(value);
	/* The line whole must fit, as metrics_statsd_format requires. */
	if (m->len + nv >= METRICS_LINE_MAX)
		return;
	metrics_statsd_append(m->line, m->head, value, nv, m->line + m->head,
	    m->len - m->head);
}

/* Count ev (borrowed) in the registry and to statsd. */
static void
metrics_event(const struct metrics_event_req *ev)
{
	struct metrics_memo	*m;
	char			 num[24];

	m = metrics_memo_get(ev->fam, &(struct metrics_statsd_req){
	    .base = ev->base, .k1 = ev->k1, .v1 = ev->v1, .k2 = ev->k2,
	    .v2 = ev->v2, .type = "c" });
	if (m->series != NULL)
		atomic_fetch_add_explicit(&m->series->value, ev->n,
		    memory_order_relaxed);
	snprintf(num, sizeof num, "%llu", (unsigned long long)ev->n);
	metrics_memo_statsd(m, num);
}

void
metrics_cache(const char *kind, const char *result)
{
	metrics_event(&(struct metrics_event_req){ .fam = MF_CACHE,
	    .base = "cache", .k1 = "kind", .v1 = kind, .k2 = "result",
	    .v2 = result, .n = 1 });
}

void
metrics_upstream(const char *result, double seconds)
{
	char	labels[METRICS_LABELS_LEN], ms[32];

	if (metrics_shm != NULL) {
		if (metrics_labels(labels, sizeof labels, "result", result,
		    (char *)NULL))
			metrics_count(MF_UPSTREAM, labels);
		if (seconds >= 0)
			metrics_observe(MF_UPSTREAM_DURATION, "", seconds);
	}
	metrics_statsd2(&(struct metrics_statsd_req){
	    .base = "anilist.requests", .k1 = "result", .v1 = result,
	    .value = "1", .type = "c" });
	if (seconds >= 0) {
		metrics_ms(ms, sizeof ms, seconds);
		metrics_statsd("anilist.response_time", ms, "ms", NULL);
	}
}

void
metrics_upstream_ratelimit(int remaining)
{
	char	num[16];

	if (metrics_shm != NULL) {
		atomic_store(&metrics_shm->ratelimit_remaining, remaining);
		atomic_store(&metrics_shm->ratelimit_known, 1);
	}
	snprintf(num, sizeof num, "%d", remaining);
	metrics_statsd("anilist.ratelimit_remaining", num, "g", NULL);
}

void
metrics_upstream_breaker(int state)
{
	char	num[16];

	if (metrics_shm != NULL)
		atomic_store(&metrics_shm->breaker_state, state);
	snprintf(num, sizeof num, "%d", state);
	metrics_statsd("anilist.breaker_state", num, "g", NULL);
}

void
metrics_db_pool(int in_use, int idle)
{
	if (metrics_self == NULL)
		return;
	atomic_store(&metrics_self->db_in_use, in_use);
	atomic_store(&metrics_self->db_idle, idle);
}

void
metrics_db_wait(double seconds)
{
	char	ms[32];

	if (metrics_shm != NULL)
		metrics_observe(MF_DB_WAIT, "", seconds);
	metrics_ms(ms, sizeof ms, seconds);
	metrics_statsd("db.pool.wait", ms, "ms", NULL);
}

void
metrics_db_error(void)
{
	if (metrics_shm != NULL)
		metrics_count(MF_DB_ERRORS, "");
	metrics_statsd("db.errors", "1", "c", NULL);
}

void
metrics_db_query(double seconds)
{
	char	ms[32];

	if (metrics_shm != NULL)
		metrics_observe(MF_DB_DURATION, "", seconds);
	if (!metrics_statsd_on())
		return;
	metrics_ms(ms, sizeof ms, seconds);
	metrics_statsd("db.query_time", ms, "ms", NULL);
}

void
metrics_memcached(const char *op, double seconds)
{
	char	labels[METRICS_LABELS_LEN], ms[32];

	if (metrics_shm != NULL && metrics_labels(labels, sizeof labels, "op",
	    op, (char *)NULL))
		metrics_observe(MF_MEMCACHED_DURATION, labels, seconds);
	if (!metrics_statsd_on())
		return;
	metrics_ms(ms, sizeof ms, seconds);
	metrics_statsd2(&(struct metrics_statsd_req){
	    .base = "memcached.response_time", .k1 = "op", .v1 = op,
	    .value = ms, .type = "ms" });
}

void
metrics_search(bool zero_results)
{
	if (metrics_shm != NULL) {
		metrics_count(MF_SEARCH, "");
		if (zero_results)
			metrics_count(MF_SEARCH_ZERO, "");
	}
	metrics_statsd("search.queries", "1", "c", NULL);
	if (zero_results)
		metrics_statsd("search.zero_results", "1", "c", NULL);
}

void
metrics_search_dropped(const char *reason, uint64_t n)
{
	if (n > 0)
		metrics_event(&(struct metrics_event_req){
		    .fam = MF_SEARCH_DROPPED, .base = "search.stats_dropped",
		    .k1 = "reason", .v1 = reason, .n = n });
}

void
metrics_oauth(const char *result, const char *reason)
{
	metrics_event(&(struct metrics_event_req){ .fam = MF_OAUTH,
	    .base = "oauth.logins", .k1 = "result", .v1 = result,
	    .k2 = "reason", .v2 = reason != NULL ? reason : "", .n = 1 });
}

void
metrics_feedback(const char *action)
{
	metrics_event(&(struct metrics_event_req){ .fam = MF_FEEDBACK,
	    .base = "recommendation.feedback", .k1 = "action", .v1 = action,
	    .n = 1 });
}

void
metrics_tool(const char *tool, const char *result, double seconds)
{
	struct metrics_memo	*m;
	char			 ms[32];

	metrics_event(&(struct metrics_event_req){ .fam = MF_TOOL,
	    .base = "tools.calls", .k1 = "tool", .v1 = tool, .k2 = "result",
	    .v2 = result, .n = 1 });
	if (seconds < 0)
		return;
	m = metrics_memo_get(MF_TOOL_DURATION, &(struct metrics_statsd_req){
	    .base = "tools.time", .k1 = "tool", .v1 = tool, .type = "ms" });
	metrics_observe_series(m->series, seconds);
	metrics_ms(ms, sizeof ms, seconds);
	metrics_memo_statsd(m, ms);
}

void
metrics_notification(const char *target, const char *result)
{
	metrics_event(&(struct metrics_event_req){ .fam = MF_NOTIFICATIONS,
	    .base = "notifications", .k1 = "target", .v1 = target,
	    .k2 = "result", .v2 = result, .n = 1 });
}

void
metrics_alert_received(const char *source)
{
	metrics_event(&(struct metrics_event_req){ .fam = MF_ALERTS,
	    .base = "alerts.received", .k1 = "source", .v1 = source,
	    .n = 1 });
}

void
metrics_rate_limited(void)
{
	if (metrics_shm != NULL)
		metrics_count(MF_RATE_LIMITED, "");
	metrics_statsd("http.rate_limited", "1", "c", NULL);
}

void
metrics_rate_limit_fail_open(const char *reason)
{
	char	labels[METRICS_LABELS_LEN];

	if (metrics_shm != NULL && metrics_labels(labels, sizeof labels,
	    "reason", reason, (char *)NULL))
		metrics_count(MF_RATE_LIMIT_FAIL_OPEN, labels);
	metrics_statsd2(&(struct metrics_statsd_req){
	    .base = "ratelimit.fail_open", .k1 = "reason", .v1 = reason,
	    .value = "1", .type = "c" });
}

void
metrics_mcp_version_mismatch(const char *header, const char *body)
{
	char	labels[METRICS_LABELS_LEN];

	if (metrics_shm != NULL && metrics_labels(labels, sizeof labels,
	    "header", header, "body", body, (char *)NULL))
		metrics_count(MF_MCP_VERSION_MISMATCH, labels);
	metrics_statsd2(&(struct metrics_statsd_req){
	    .base = "mcp.version_mismatch", .k1 = "header", .v1 = header,
	    .k2 = "body", .v2 = body, .value = "1", .type = "c" });
}
