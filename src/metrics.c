/* metrics.c: statsd lines batched across requests over UDP, and the shared-memory registry. */
#include "autoconf.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define METRICS_LABELS_LEN	200
#define METRICS_PROBE_MAX	128
#define METRICS_SPIN_MAX	100000
#define METRICS_HLL_BITS	10
#define METRICS_HLL_M		(1u << METRICS_HLL_BITS)
#define METRICS_USER_WINDOW_S	300
#define METRICS_LINE_MAX	512

/* Fixed histogram buckets (seconds), shared by every duration histogram. */
static const double metrics_buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
#define METRICS_NBUCKETS	nitems(metrics_buckets)

enum metrics_type {
	METRICS_COUNTER,
	METRICS_HISTOGRAM
};

/* Families whose label sets live in the series table. */
enum metrics_fam {
	MF_HTTP_REQUESTS,
	MF_HTTP_DURATION,
	MF_CACHE,
	MF_UPSTREAM,
	MF_UPSTREAM_DURATION,
	MF_DB_WAIT,
	MF_DB_ERRORS,
	MF_SEARCH,
	MF_SEARCH_ZERO,
	MF_OAUTH,
	MF_FEEDBACK,
	MF_TOOL,
	MF_TOOL_DURATION,
	MF_WORKER_RESTARTS,
	MF_NOTIFICATIONS,
	MF_ALERTS,
	MF_SEARCH_DROPPED,
	MF_RATE_LIMITED,
	MF_RATE_LIMIT_FAIL_OPEN,
	MF_MCP_VERSION_MISMATCH,
	MF_COUNT
};

struct metrics_family {
	const char		*name;
	enum metrics_type	 type;
	bool			 seed;	/* unlabelled: present from the start */
	const char		*help;
};

static const struct metrics_family metrics_families[MF_COUNT] = {
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
};

/* One label set of one family. state: 0 free, 1 being claimed, 2 ready. */
struct metrics_series {
	_Atomic uint32_t	state;
	uint32_t		family;
	uint64_t		hash;
	char			labels[METRICS_LABELS_LEN];
	_Atomic uint64_t	value;		/* counters */
	_Atomic uint64_t	sum_ns;		/* histograms */
	_Atomic uint64_t	buckets[METRICS_NBUCKETS + 1];	/* last: +Inf */
};

/* Gauges one process owns; the master clears them when it is reaped. */
struct metrics_proc {
	/* One cache line each: every request moves its process's in_flight. */
	_Alignas(64) _Atomic int32_t pid;
	int32_t			master;
	_Atomic int64_t		in_flight;
	_Atomic int64_t		db_in_use;
	_Atomic int64_t		db_idle;
};

struct metrics_shm {
	_Atomic int64_t		workers_alive;
	_Atomic int64_t		ratelimit_remaining;
	_Atomic int32_t		ratelimit_known;
	_Atomic int64_t		breaker_state;
	_Atomic uint64_t	dropped;
	struct metrics_proc	procs[METRICS_MAX_PROCS];
	_Atomic uint64_t	hll_window[3];
	_Atomic uint8_t		hll[3][METRICS_HLL_M];
	struct metrics_series	series[METRICS_MAX_SERIES];
};

/* Per-thread statsd batch: lines wait here until the request ends. */
struct metrics_batch {
	char	data[METRICS_PACKET_MAX];
	size_t	len;
	bool	holding;
};

/*
 * The datagram the threads of one process fill together when
 * STATSD_FLUSH_MS > 0: a request hands over its batch once, at its end,
 * under the lock (a memcpy, never a system call); the thread whose batch
 * does not fit any more sends the full datagram after unlocking, and the
 * flusher thread sends the rest once its first line is STATSD_FLUSH_MS
 * old. One per process rather than per thread: an idle thread would hold
 * its lines until the flusher looked, and one shared datagram fills up
 * THREADS times sooner. All fields are under lock.
 */
struct metrics_pending {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* lines arrived, or stop */
	char		 data[METRICS_PACKET_MAX];
	size_t		 len;
	uint64_t	 since_ms;	/* monotonic, when data got its first line */
	bool		 active;	/* batches wait here (else sent at once) */
	bool		 stop;		/* the flusher is to return */
	bool		 running;	/* this process's flusher thread exists */
	bool		 idle;		/* the flusher sleeps until lines come */
	pthread_t	 tid;
};

static struct metrics_shm	*metrics_shm;
static struct metrics_proc	*metrics_self;
static _Atomic int		 metrics_fd = -1;
static _Atomic unsigned		 metrics_generation;	/* of metrics_fd */
static bool			 metrics_dogstatsd;
static bool			 metrics_warned;
static __thread struct metrics_batch metrics_tl;
static struct metrics_pending	 metrics_pending = {
	.lock = PTHREAD_MUTEX_INITIALIZER
};
static pthread_once_t		 metrics_pending_once = PTHREAD_ONCE_INIT;
static atomic_bool		 metrics_batching;	/* pending.active, unlocked */
static _Atomic int		 metrics_flush_ms;

static const char *const metrics_methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"
};

/* FNV-1a, then a splitmix64 finaliser so every bit depends on every byte. */
static uint64_t
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
static bool
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
	return (true);
}

bool
metrics_enabled(void)
{
	return (metrics_shm != NULL);
}

/* What a resolver thread needs: its own copy, cfg may change meanwhile. */
struct metrics_target {
	char		*host;
	char		 port[16];
	unsigned	 generation;
};

/* Resolve the host and connect a non-blocking UDP socket; -1 if not. */
static int
metrics_statsd_open(const struct metrics_target *t, char **cause)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	const char	*port = t->port;
	int		 fd = -1, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(t->host, port, &hints, &res)) != 0) {
		xasprintf(cause, "cannot resolve %s: %s", t->host,
		    gai_strerror(rc));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		xasprintf(cause, "cannot open a socket to %s:%s: %s",
		    t->host, port, strerror(errno));
	freeaddrinfo(res);
	return (fd);
}

/* Connect, and publish the socket unless a shutdown or re-init came first. */
static void
metrics_statsd_connect(struct metrics_target *t)
{
	char	*cause = NULL;
	int	 fd, none = -1;

	if ((fd = metrics_statsd_open(t, &cause)) == -1) {
		if (!metrics_warned)
			log_warn("statsd disabled in this process",
			    LF_STR("error", cause), LF_END);
		metrics_warned = true;
		free(cause);
	} else if (atomic_load(&metrics_generation) != t->generation ||
	    !atomic_compare_exchange_strong(&metrics_fd, &none, fd))
		close(fd);
	free(t->host);
	free(t);
}

/* A name lookup may wait on DNS: never at the front of a worker's start. */
static void *
metrics_statsd_resolver(void *arg)
{
	metrics_statsd_connect(arg);
	return (NULL);
}

/* ---- the process's pending datagram and its flusher thread ---- */

/* Fire and forget: a full socket buffer or a refused port is ignored. */
static void
metrics_statsd_send(const char *data, size_t len)
{
	int	fd = atomic_load_explicit(&metrics_fd, memory_order_relaxed);

	if (len != 0 && fd != -1)
		(void)send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
metrics_pending_cond_init(void)
{
	pthread_condattr_t	attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&metrics_pending.cond, &attr);
	pthread_condattr_destroy(&attr);
}

/*
 * fork (the master starting a worker or a crash reporter) happens with the
 * lock held by the forking thread, so the child gets the datagram whole.
 * The child has no flusher thread, and the lines waiting are the parent's
 * to send: it starts empty, sending at once until it starts its own.
 */
static void
metrics_pending_prefork(void)
{
	pthread_mutex_lock(&metrics_pending.lock);
}

static void
metrics_pending_parent(void)
{
	pthread_mutex_unlock(&metrics_pending.lock);
}

static void
metrics_pending_child(void)
{
	struct metrics_pending	*p = &metrics_pending;

	p->len = 0;
	p->active = p->stop = p->running = false;
	atomic_store(&metrics_batching, false);
	/* The parent's flusher may be waiting on it; no such thread here. */
	metrics_pending_cond_init();
	pthread_mutex_unlock(&p->lock);
}

static void
metrics_pending_setup(void)
{
	metrics_pending_cond_init();
	pthread_atfork(metrics_pending_prefork, metrics_pending_parent,
	    metrics_pending_child);
}

/*
 * Add whole lines (no trailing newline) to the pending datagram, or send
 * them now if nothing batches in this process.
 */
static void
metrics_pending_add(const char *data, size_t len)
{
	struct metrics_pending	*p = &metrics_pending;
	char			 full[METRICS_PACKET_MAX];
	size_t			 n = 0;
	bool			 wake = false;

	if (!atomic_load_explicit(&metrics_batching, memory_order_relaxed)) {
		metrics_statsd_send(data, len);
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (!p->active) {
		pthread_mutex_unlock(&p->lock);
		metrics_statsd_send(data, len);
		return;
	}
	if (p->len != 0 && p->len + 1 + len > sizeof p->data) {
		memcpy(full, p->data, p->len);
		n = p->len;
		p->len = 0;
	}
	if (p->len == 0) {
		p->since_ms = util_mono_ms();
		/*
		 * Only a flusher asleep on an empty datagram needs waking: one
		 * already waiting for older lines' due time finds these then.
		 */
		wake = p->idle;
		p->idle = false;
	} else
		p->data[p->len++] = '\n';
	memcpy(p->data + p->len, data, len);
	p->len += len;
	pthread_mutex_unlock(&p->lock);
	if (wake)
		pthread_cond_signal(&p->cond);
	metrics_statsd_send(full, n);
}

/* Sleep until lines wait, then until the first is STATSD_FLUSH_MS old. */
static void *
metrics_flusher_main(void *arg)
{
	struct metrics_pending	*p = &metrics_pending;
	char			 out[METRICS_PACKET_MAX];
	struct timespec		 ts;
	uint64_t		 due, now;
	size_t			 n;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		if (p->len == 0) {
			p->idle = true;
			pthread_cond_wait(&p->cond, &p->lock);
			p->idle = false;
			continue;
		}
		due = p->since_ms + (uint64_t)atomic_load(&metrics_flush_ms);
		if ((now = util_mono_ms()) < due) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (time_t)((due - now) / 1000);
			ts.tv_nsec += (long)((due - now) % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&p->cond, &p->lock, &ts);
			continue;
		}
		memcpy(out, p->data, p->len);
		n = p->len;
		p->len = 0;
		pthread_mutex_unlock(&p->lock);
		metrics_statsd_send(out, n);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return (NULL);
}

/* Batch from now on, with a flusher thread; else every batch goes at once. */
static void
metrics_flusher_start(void)
{
	struct metrics_pending	*p = &metrics_pending;
	bool			 ok;

	pthread_mutex_lock(&p->lock);
	p->stop = false;
	p->len = 0;
	ok = pthread_create(&p->tid, NULL, metrics_flusher_main, NULL) == 0;
	if (ok) {
		p->running = p->active = true;
		atomic_store(&metrics_batching, true);
	}
	pthread_mutex_unlock(&p->lock);
	if (!ok)
		log_warn("statsd: no flusher thread; sending per request",
		    LF_END);
}

/* Stop batching, join the flusher and send what was waiting. */
static void
metrics_flusher_stop(void)
{
	struct metrics_pending	*p = &metrics_pending;
	char			 out[METRICS_PACKET_MAX];
	size_t			 n;

	pthread_mutex_lock(&p->lock);
	if (!p->running) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	p->active = false;
	atomic_store(&metrics_batching, false);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->tid, NULL);

	pthread_mutex_lock(&p->lock);
	p->running = false;
	memcpy(out, p->data, p->len);
	n = p->len;
	p->len = 0;
	pthread_mutex_unlock(&p->lock);
	metrics_statsd_send(out, n);
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
	struct addrinfo		 hints, *res;
	struct metrics_target	*t;
	pthread_t		 tid;
	int32_t			 expect;
	size_t			 i;
	int			 fd;

	pthread_once(&metrics_pending_once, metrics_pending_setup);
	metrics_flusher_stop();		/* a reload: the old socket sends */
	atomic_fetch_add(&metrics_generation, 1);
	if ((fd = atomic_exchange(&metrics_fd, -1)) != -1)
		close(fd);	/* inherited from the master, or a reload */
	if (metrics_self != NULL && atomic_load(&metrics_self->pid) ==
	    (int32_t)getpid())
		metrics_proc_clear(metrics_self);
	metrics_self = NULL;
	metrics_warned = false;
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
	metrics_dogstatsd = strcmp(cfg->statsd_tags, "dogstatsd") == 0;
	atomic_store(&metrics_flush_ms, cfg->statsd_flush_ms);
	if (*cfg->statsd_host == '\0')
		return;
	if (cfg->statsd_flush_ms > 0)
		metrics_flusher_start();
	t = xcalloc(1, sizeof *t);
	t->host = xstrdup(cfg->statsd_host);
	snprintf(t->port, sizeof t->port, "%d", cfg->statsd_port);
	t->generation = atomic_load(&metrics_generation);
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_socktype = SOCK_DGRAM;
	if (master || getaddrinfo(t->host, NULL, &hints, &res) == 0) {
		if (!master)
			freeaddrinfo(res);
		metrics_statsd_connect(t);
	} else if (pthread_create(&tid, NULL, metrics_statsd_resolver, t) == 0)
		pthread_detach(tid);
	else
		metrics_statsd_connect(t);
}

void
metrics_process_shutdown(void)
{
	int	fd;

	pthread_once(&metrics_pending_once, metrics_pending_setup);
	metrics_flusher_stop();
	atomic_fetch_add(&metrics_generation, 1);
	if ((fd = atomic_exchange(&metrics_fd, -1)) != -1)
		close(fd);
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

/* ---- statsd ---- */

void
metrics_statsd_component(char *out, size_t cap, const char *in)
{
	size_t	 n = 0;
	char	 c;
	bool	 path;

	if (cap == 0)
		return;
	if (in == NULL)
		in = "";
	path = *in == '/';
	while (*in == '/')
		in++;
	for (; *in != '\0' && n + 1 < cap; in++) {
		c = *in;
		if (c == '{' || c == '}')
			continue;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_')
			out[n++] = c;
		else
			out[n++] = '_';
	}
	while (n > 0 && out[n - 1] == '_')
		n--;
	out[n] = '\0';
	if (n == 0)
		snprintf(out, cap, "%s", path ? "root" : "none");
}

/* Tag values may not hold the line's separators. */
static void
metrics_statsd_tag_value(char *out, size_t cap, const char *in)
{
	size_t	n = 0;
	char	c;

	for (; in != NULL && *in != '\0' && n + 1 < cap; in++) {
		c = *in;
		out[n++] = (c == ',' || c == '|' || c == '#' ||
		    (unsigned char)c <= ' ' || (unsigned char)c >= 0x7f) ?
		    '_' : c;
	}
	out[n] = '\0';
}

/* Format one line into out (no newline); 0 if it does not fit. */
static size_t
metrics_statsd_format(char *out, size_t cap, const char *name,
    const char *value, const char *type, const char *tags, bool dogstatsd)
{
	int	n;

	if (dogstatsd && tags != NULL && *tags != '\0')
		n = snprintf(out, cap, "%s%s:%s|%s|#%s", cfg->statsd_prefix,
		    name, value, type, tags);
	else
		n = snprintf(out, cap, "%s%s:%s|%s", cfg->statsd_prefix,
		    name, value, type);
	if (n < 0 || (size_t)n >= cap)
		return (0);
	return ((size_t)n);
}

void
metrics_statsd_line(struct buf *out, const char *name, const char *value,
    const char *type, const char *tags, bool dogstatsd)
{
	char	line[METRICS_LINE_MAX];
	size_t	n;

	if ((n = metrics_statsd_format(line, sizeof line, name, value, type,
	    tags, dogstatsd)) != 0)
		buf_append(out, line, n);
}

/* Hand this thread's batch on: to the process's datagram, or sent now. */
static void
metrics_statsd_flush(void)
{
	struct metrics_batch	*b = &metrics_tl;

	if (b->len != 0)
		metrics_pending_add(b->data, b->len);
	b->len = 0;
}

/*
 * Add the line a + b + c (b and c may be empty) to this thread's batch; a
 * full datagram is sent first.
 */
static void
metrics_statsd_append(const char *a, size_t na, const char *b_, size_t nb,
    const char *c, size_t nc)
{
	struct metrics_batch	*b = &metrics_tl;
	size_t			 n = na + nb + nc;

	if (n > sizeof b->data)
		return;
	if (b->len != 0 && b->len + 1 + n > sizeof b->data)
		metrics_statsd_flush();
	if (b->len != 0)
		b->data[b->len++] = '\n';
	memcpy(b->data + b->len, a, na);
	if (nb != 0)
		memcpy(b->data + b->len + na, b_, nb);
	if (nc != 0)
		memcpy(b->data + b->len + na + nb, c, nc);
	b->len += n;
	if (!b->holding)
		metrics_statsd_flush();
}

/* Add a line to this thread's batch; a full datagram is sent first. */
static void
metrics_statsd(const char *name, const char *value, const char *type,
    const char *tags)
{
	char			 line[METRICS_LINE_MAX];
	size_t			 n;

	if (atomic_load_explicit(&metrics_fd, memory_order_relaxed) == -1)
		return;
	n = metrics_statsd_format(line, sizeof line, name, value, type, tags,
	    metrics_dogstatsd);
	if (n != 0)
		metrics_statsd_append(line, n, NULL, 0, NULL, 0);
}

static bool
metrics_statsd_on(void)
{
	return (atomic_load_explicit(&metrics_fd, memory_order_relaxed) != -1);
}

/* ---- requests ---- */

static int64_t
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
	metrics_tl.holding = true;
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
		    "http.requests", "1", "c", tags, true);
		snprintf(tags, sizeof tags, "route:%s", tv);
		snprintf(name, sizeof name, "http.response_time");
	} else {
		metrics_statsd_component(comp, sizeof comp, route);
		snprintf(name, sizeof name, "http.requests.%s.%s.%dxx", comp,
		    method, status / 100);
		k->count_len = metrics_statsd_format(k->count, sizeof k->count,
		    name, "1", "c", NULL, false);
		snprintf(name, sizeof name, "http.response_time.%s", comp);
		tags[0] = '\0';
	}
	/* With an empty value the line is its head and its tail. */
	k->time_len = metrics_statsd_format(k->time, sizeof k->time, name, "",
	    "ms", tags, metrics_dogstatsd);
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
	metrics_tl.holding = false;
	metrics_statsd_flush();
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

/* ---- /proc ---- */

/* RSS bytes and CPU seconds of a process; false if it is gone. */
static bool
metrics_proc_stat(pid_t pid, double *rss, double *cpu)
{
	char		 path[64], text[1024], *p;
	FILE		*f;
	unsigned long	 utime, stime, pages;
	size_t		 n;
	int		 i;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (false);
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	/* The command name may hold spaces and parentheses: skip past it. */
	if ((p = strrchr(text, ')')) == NULL)
		return (false);
	p++;
	for (i = 0; i < 12 && p != NULL; i++)	/* to field 14, utime */
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, "%lu %lu", &utime, &stime) != 2)
		return (false);
	*cpu = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (false);
	if (fscanf(f, "%*u %lu", &pages) != 1) {
		fclose(f);
		return (false);
	}
	fclose(f);
	*rss = (double)pages * (double)sysconf(_SC_PAGESIZE);
	return (true);
}

/* The memory the service may use: the cgroup limit, else physical memory. */
static double
metrics_memory_limit(void)
{
	FILE		*f;
	char		 line[128];
	unsigned long long v = 0;

	if ((f = fopen("/sys/fs/cgroup/memory.max", "r")) != NULL) {
		if (fgets(line, sizeof line, f) != NULL &&
		    sscanf(line, "%llu", &v) == 1 && v > 0) {
			fclose(f);
			return ((double)v);
		}
		fclose(f);
	}
	if ((f = fopen("/proc/meminfo", "r")) == NULL)
		return (0);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
			break;
	}
	fclose(f);
	return ((double)v * 1024.0);
}

void
metrics_master_tick(void)
{
	char	num[32];
	double	rss, cpu, total_rss = 0, total_cpu = 0;
	pid_t	pid;
	size_t	i;

	if (metrics_shm == NULL || !metrics_statsd_on())
		return;
	for (i = 0; i < METRICS_MAX_PROCS; i++) {
		pid = atomic_load(&metrics_shm->procs[i].pid);
		if (pid != 0 && metrics_proc_stat(pid, &rss, &cpu)) {
			total_rss += rss;
			total_cpu += cpu;
		}
	}
	metrics_tl.holding = true;
	snprintf(num, sizeof num, "%.0f", total_rss);
	metrics_statsd("process.resident_memory_bytes", num, "g", NULL);
	snprintf(num, sizeof num, "%.2f", total_cpu);
	metrics_statsd("process.cpu_seconds", num, "g", NULL);
	snprintf(num, sizeof num, "%lld", (long long)metrics_in_flight_total());
	metrics_statsd("http.in_flight", num, "g", NULL);
	snprintf(num, sizeof num, "%lld",
	    (long long)atomic_load(&metrics_shm->workers_alive));
	metrics_statsd("workers.alive", num, "g", NULL);
	metrics_tl.holding = false;
	metrics_statsd_flush();
}

/* ---- calls for the other parts ---- */

/* statsd name "a.<x>.<y>" from components, or tags "k:x,k:y". */
static void
metrics_statsd2(const char *base, const char *k1, const char *v1,
    const char *k2, const char *v2, const char *value, const char *type)
{
	char	name[200], c1[64], c2[64], tags[200];

	if (!metrics_statsd_on())
		return;
	if (metrics_dogstatsd) {
		metrics_statsd_tag_value(c1, sizeof c1, v1);
		if (k2 != NULL) {
			metrics_statsd_tag_value(c2, sizeof c2, v2);
			snprintf(tags, sizeof tags, "%s:%s,%s:%s", k1, c1, k2,
			    c2);
		} else
			snprintf(tags, sizeof tags, "%s:%s", k1, c1);
		metrics_statsd(base, value, type, tags);
		return;
	}
	metrics_statsd_component(c1, sizeof c1, v1);
	if (k2 != NULL) {
		metrics_statsd_component(c2, sizeof c2, v2);
		snprintf(name, sizeof name, "%s.%s.%s", base, c1, c2);
	} else
		snprintf(name, sizeof name, "%s.%s", base, c1);
	metrics_statsd(name, value, type, NULL);
}

static void
metrics_ms(char *out, size_t cap, double seconds)
{
	snprintf(out, cap, "%.3f", seconds * 1000.0);
}

/*
 * n events of a counter with one label (k2 NULL) or two: the shared
 * series of fam, and the statsd counter named base.
 */
static void
metrics_event(enum metrics_fam fam, const char *base, const char *k1,
    const char *v1, const char *k2, const char *v2, uint64_t n)
{
	char			 labels[METRICS_LABELS_LEN], num[24];
	struct metrics_series	*s;

	if (metrics_shm != NULL && metrics_labels(labels, sizeof labels, k1,
	    v1, k2, v2, (char *)NULL) &&
	    (s = metrics_series_get(fam, labels)) != NULL)
		atomic_fetch_add_explicit(&s->value, n, memory_order_relaxed);
	snprintf(num, sizeof num, "%llu", (unsigned long long)n);
	metrics_statsd2(base, k1, v1, k2, v2, num, "c");
}

void
metrics_cache(const char *kind, const char *result)
{
	metrics_event(MF_CACHE, "cache", "kind", kind, "result", result, 1);
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
	metrics_statsd2("anilist.requests", "result", result, NULL, NULL,
	    "1", "c");
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
		metrics_event(MF_SEARCH_DROPPED, "search.stats_dropped",
		    "reason", reason, NULL, NULL, n);
}

void
metrics_oauth(const char *result, const char *reason)
{
	metrics_event(MF_OAUTH, "oauth.logins", "result", result, "reason",
	    reason != NULL ? reason : "", 1);
}

void
metrics_feedback(const char *action)
{
	metrics_event(MF_FEEDBACK, "recommendation.feedback", "action",
	    action, NULL, NULL, 1);
}

void
metrics_tool(const char *tool, const char *result, double seconds)
{
	char	labels[METRICS_LABELS_LEN], ms[32];

	metrics_event(MF_TOOL, "tools.calls", "tool", tool, "result", result,
	    1);
	if (seconds < 0)
		return;
	if (metrics_shm != NULL && metrics_labels(labels, sizeof labels,
	    "tool", tool, (char *)NULL))
		metrics_observe(MF_TOOL_DURATION, labels, seconds);
	metrics_ms(ms, sizeof ms, seconds);
	metrics_statsd2("tools.time", "tool", tool, NULL, NULL, ms, "ms");
}

void
metrics_notification(const char *target, const char *result)
{
	metrics_event(MF_NOTIFICATIONS, "notifications", "target", target,
	    "result", result, 1);
}

void
metrics_alert_received(const char *source)
{
	metrics_event(MF_ALERTS, "alerts.received", "source", source, NULL,
	    NULL, 1);
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
	metrics_statsd2("ratelimit.fail_open", "reason", reason, NULL, NULL,
	    "1", "c");
}

void
metrics_mcp_version_mismatch(const char *header, const char *body)
{
	char	labels[METRICS_LABELS_LEN];

	if (metrics_shm != NULL && metrics_labels(labels, sizeof labels,
	    "header", header, "body", body, (char *)NULL))
		metrics_count(MF_MCP_VERSION_MISMATCH, labels);
	metrics_statsd2("mcp.version_mismatch", "header", header, "body",
	    body, "1", "c");
}

/* ---- active users: a HyperLogLog per 5-minute window ---- */

static uint64_t
metrics_user_window(void)
{
	return (util_wall_ms() / 1000 / METRICS_USER_WINDOW_S);
}

/* Make slot hold window w, zeroing it if it held an older one. */
static void
metrics_hll_claim(size_t slot, uint64_t w)
{
	uint64_t	cur = atomic_load(&metrics_shm->hll_window[slot]);
	size_t		i;

	if (cur == w)
		return;
	if (!atomic_compare_exchange_strong(&metrics_shm->hll_window[slot],
	    &cur, w))
		return;
	for (i = 0; i < METRICS_HLL_M; i++)
		atomic_store_explicit(&metrics_shm->hll[slot][i], 0,
		    memory_order_relaxed);
}

void
metrics_user(const char *hash)
{
	uint64_t	h, w;
	size_t		slot, idx;
	uint8_t		rho, cur;

	if (hash == NULL || *hash == '\0')
		return;
	if (metrics_shm != NULL) {
		w = metrics_user_window();
		slot = (size_t)(w % 3);
		/* The next window's slot is cleared ahead, while nobody uses it. */
		metrics_hll_claim(slot, w);
		metrics_hll_claim((size_t)((w + 1) % 3), w + 1);
		h = metrics_hash(hash, 0x75736572);
		idx = (size_t)(h >> (64 - METRICS_HLL_BITS));
		rho = (uint8_t)(__builtin_clzll((h << METRICS_HLL_BITS) |
		    (1ULL << (METRICS_HLL_BITS - 1))) + 1);
		cur = atomic_load(&metrics_shm->hll[slot][idx]);
		while (rho > cur && !atomic_compare_exchange_weak(
		    &metrics_shm->hll[slot][idx], &cur, rho))
			;
	}
	metrics_statsd("users.active", hash, "s", NULL);
}

double
metrics_active_users(void)
{
	double		sum = 0, m = METRICS_HLL_M, e;
	uint64_t	w;
	size_t		slot, i, zeros = 0;
	uint8_t		r;

	if (metrics_shm == NULL)
		return (0);
	w = metrics_user_window();
	slot = (size_t)(w % 3);
	if (atomic_load(&metrics_shm->hll_window[slot]) != w)
		return (0);
	for (i = 0; i < METRICS_HLL_M; i++) {
		r = atomic_load_explicit(&metrics_shm->hll[slot][i],
		    memory_order_relaxed);
		sum += ldexp(1.0, -(int)r);
		if (r == 0)
			zeros++;
	}
	e = (0.7213 / (1.0 + 1.079 / m)) * m * m / sum;
	if (e <= 2.5 * m && zeros != 0)
		e = m * log(m / (double)zeros);
	return (round(e));
}

/* ---- exposition ---- */

static void
metrics_header(struct buf *b, const char *name, const char *type,
    const char *help)
{
	const char	*p;

	buf_printf(b, "# HELP %s ", name);
	for (p = help; *p != '\0'; p++) {
		if (*p == '\\')
			buf_puts(b, "\\\\");
		else if (*p == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *p);
	}
	buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void
metrics_sample(struct buf *b, const char *name, const char *suffix,
    const char *labels, const char *extra, const char *value)
{
	bool	any = *labels != '\0' || extra != NULL;

	buf_printf(b, "%s%s%s%s%s%s%s %s\n", name, suffix, any ? "{" : "",
	    labels, *labels != '\0' && extra != NULL ? "," : "",
	    extra != NULL ? extra : "", any ? "}" : "", value);
}

static void
metrics_expose_series(struct buf *b, const struct metrics_family *fam,
    struct metrics_series *s)
{
	uint64_t	cum = 0;
	char		num[48], le[48];
	size_t		i;

	if (fam->type == METRICS_COUNTER) {
		snprintf(num, sizeof num, "%llu", (unsigned long long)
		    atomic_load_explicit(&s->value, memory_order_relaxed));
		metrics_sample(b, fam->name, "", s->labels, NULL, num);
		return;
	}
	for (i = 0; i <= METRICS_NBUCKETS; i++) {
		cum += atomic_load_explicit(&s->buckets[i],
		    memory_order_relaxed);
		if (i < METRICS_NBUCKETS)
			snprintf(le, sizeof le, "le=\"%g\"", metrics_buckets[i]);
		else
			snprintf(le, sizeof le, "le=\"+Inf\"");
		snprintf(num, sizeof num, "%llu", (unsigned long long)cum);
		metrics_sample(b, fam->name, "_bucket", s->labels, le, num);
	}
	snprintf(num, sizeof num, "%.9f", (double)atomic_load_explicit(
	    &s->sum_ns, memory_order_relaxed) / 1e9);
	metrics_sample(b, fam->name, "_sum", s->labels, NULL, num);
	/* _count is the +Inf bucket, so the two always agree. */
	snprintf(num, sizeof num, "%llu", (unsigned long long)cum);
	metrics_sample(b, fam->name, "_count", s->labels, NULL, num);
}

static void
metrics_expose_gauge(struct buf *b, const char *name, const char *help,
    double v)
{
	char	num[48];

	metrics_header(b, name, "gauge", help);
	snprintf(num, sizeof num, "%.17g", v);
	metrics_sample(b, name, "", "", NULL, num);
}

static void
metrics_expose_procs(struct buf *b)
{
	struct metrics_proc	*p;
	struct buf		 rss, cpu;
	char			 label[48], num[48];
	double			 r, c;
	pid_t			 pid;
	size_t			 i;

	buf_init(&rss);
	buf_init(&cpu);
	metrics_header(&rss, "process_resident_memory_bytes", "gauge",
	    "Resident memory of each process (master, worker-N).");
	metrics_header(&cpu, "process_cpu_seconds_total", "counter",
	    "User and system CPU time of each process (master, worker-N).");
	for (i = 0; i < METRICS_MAX_PROCS; i++) {
		p = &metrics_shm->procs[i];
		if ((pid = atomic_load(&p->pid)) == 0)
			continue;
		if (!metrics_proc_stat(pid, &r, &c))
			continue;
		if (p->master)
			snprintf(label, sizeof label, "process=\"master\"");
		else
			snprintf(label, sizeof label, "process=\"worker-%zu\"",
			    i);
		snprintf(num, sizeof num, "%.0f", r);
		metrics_sample(&rss, "process_resident_memory_bytes", "",
		    label, NULL, num);
		snprintf(num, sizeof num, "%.2f", c);
		metrics_sample(&cpu, "process_cpu_seconds_total", "", label,
		    NULL, num);
	}
	buf_append(b, rss.data, rss.len);
	buf_append(b, cpu.data, cpu.len);
	buf_free(&rss);
	buf_free(&cpu);
}

void
metrics_expose(struct buf *b)
{
	struct metrics_series	*s;
	uint16_t		*order;
	size_t			 start[MF_COUNT + 1], fill[MF_COUNT];
	size_t			 i, n;
	int64_t			 in_use = 0, idle = 0;
	int			 f;

	if (metrics_shm == NULL)
		return;
	/* Group the ready series by family: each family's samples together. */
	memset(start, 0, sizeof start);
	order = xcalloc(METRICS_MAX_SERIES, sizeof *order);
	for (i = 0; i < METRICS_MAX_SERIES; i++) {
		s = &metrics_shm->series[i];
		if (atomic_load_explicit(&s->state, memory_order_acquire) == 2 &&
		    s->family < MF_COUNT)
			start[s->family + 1]++;
	}
	for (f = 0; f < MF_COUNT; f++) {
		start[f + 1] += start[f];
		fill[f] = start[f];
	}
	for (i = 0; i < METRICS_MAX_SERIES; i++) {
		s = &metrics_shm->series[i];
		if (atomic_load_explicit(&s->state, memory_order_acquire) ==
		    2 && s->family < MF_COUNT && fill[s->family] <
		    start[s->family + 1])
			order[fill[s->family]++] = (uint16_t)i;
	}
	for (f = 0; f < MF_COUNT; f++) {
		metrics_header(b, metrics_families[f].name,
		    metrics_families[f].type == METRICS_COUNTER ? "counter" :
		    "histogram", metrics_families[f].help);
		for (n = start[f]; n < fill[f]; n++)
			metrics_expose_series(b, &metrics_families[f],
			    &metrics_shm->series[order[n]]);
	}
	free(order);

	metrics_expose_gauge(b, "http_in_flight_requests",
	    "Requests being served now, all workers.",
	    (double)metrics_in_flight_total());
	for (i = 0; i < METRICS_MAX_PROCS; i++) {
		in_use += atomic_load(&metrics_shm->procs[i].db_in_use);
		idle += atomic_load(&metrics_shm->procs[i].db_idle);
	}
	metrics_header(b, "db_pool_connections", "gauge",
	    "PostgreSQL pool connections of all workers by state.");
	buf_printf(b, "db_pool_connections{state=\"in_use\"} %lld\n",
	    (long long)in_use);
	buf_printf(b, "db_pool_connections{state=\"idle\"} %lld\n",
	    (long long)idle);
	if (atomic_load(&metrics_shm->ratelimit_known))
		metrics_expose_gauge(b, "anilist_ratelimit_remaining",
		    "AniList X-RateLimit-Remaining as last seen.",
		    (double)atomic_load(&metrics_shm->ratelimit_remaining));
	else
		metrics_header(b, "anilist_ratelimit_remaining", "gauge",
		    "AniList X-RateLimit-Remaining as last seen.");
	metrics_expose_gauge(b, "anilist_breaker_state",
	    "AniList circuit breaker: 0 closed, 1 half-open, 2 open.",
	    (double)atomic_load(&metrics_shm->breaker_state));
	metrics_expose_gauge(b, "workers_alive",
	    "Worker processes running.",
	    (double)atomic_load(&metrics_shm->workers_alive));
	metrics_expose_gauge(b, "active_users",
	    "Distinct users (hashed ids) in the current 5-minute window.",
	    metrics_active_users());
	metrics_expose_procs(b);
	metrics_expose_gauge(b, "process_memory_limit_bytes",
	    "Memory available to the service (cgroup limit or RAM).",
	    metrics_memory_limit());
	metrics_header(b, "metrics_series_dropped_total", "counter",
	    "Label sets not recorded because the registry was full.");
	buf_printf(b, "metrics_series_dropped_total %llu\n",
	    (unsigned long long)atomic_load(&metrics_shm->dropped));
}
