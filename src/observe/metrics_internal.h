/* observe/metrics_internal.h: what the metrics files share: the registry's layout in shared memory and the calls between them. */
#ifndef METRICS_INTERNAL_H
#define METRICS_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "metrics.h"

#define METRICS_LABELS_LEN	200
#define METRICS_HLL_BITS	10
#define METRICS_HLL_M		(1u << METRICS_HLL_BITS)
#define METRICS_LINE_MAX	512

/* Fixed histogram buckets (seconds), shared by every duration histogram. */
#define METRICS_NBUCKETS	13
extern const double	metrics_buckets[METRICS_NBUCKETS];

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
	MF_MEMCACHED_DURATION,
	MF_DB_DURATION,
	MF_COUNT
};

struct metrics_family {
	const char		*name;
	enum metrics_type	 type;
	bool			 seed;	/* unlabelled: present from the start */
	const char		*help;
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

extern const struct metrics_family	metrics_families[MF_COUNT];
/* The registry every process shares; NULL when metrics are off. */
extern struct metrics_shm		*metrics_shm;

/* metrics.c */
uint64_t metrics_hash(const char *s, uint64_t seed);
/*
 * Append key="value" to the labels in out (len bytes so far): the value
 * cut at METRICS_VALUE_MAX bytes and escaped. False when out is full.
 */
bool	metrics_label(char *out, size_t cap, size_t *len, const char *key,
	    const char *value);
/* Requests being served now, all processes (metrics_shm set). */
int64_t	metrics_in_flight_total(void);

/* metrics_statsd.c: the statsd client of this process. */
extern bool	metrics_dogstatsd;	/* STATSD_TAGS=dogstatsd */
/* Close the socket and stop the flusher (a reload or the end). */
void	metrics_statsd_stop(void);
/* Read the statsd settings and connect (master: never in a thread). */
void	metrics_statsd_start(bool master);
bool	metrics_statsd_on(void);
/* Hold this thread's lines until metrics_statsd_release sends them. */
void	metrics_statsd_hold(void);
void	metrics_statsd_release(void);
void	metrics_statsd_tag_value(char *out, size_t cap, const char *in);
/* One statsd line: name:value|type, and |#tags when dogstatsd. */
struct metrics_stat {
	const char	*name;		/* after STATSD_PREFIX */
	const char	*value;		/* the sample, as text */
	const char	*type;		/* "c", "ms" or "g" */
	const char	*tags;		/* "k:v,k:v", or NULL */
	bool		 dogstatsd;	/* write the tags */
};
/* Format stat (borrowed) into out (no newline); 0 if it does not fit. */
size_t	metrics_statsd_format(char *out, size_t cap,
	    const struct metrics_stat *stat);
void	metrics_statsd_append(const char *a, size_t na, const char *b_,
	    size_t nb, const char *c, size_t nc);
void	metrics_statsd(const char *name, const char *value,
	    const char *type, const char *tags);
/*
 * A statsd sample of the metric base with one label (k2 NULL) or two:
 * tagged with STATSD_TAGS=dogstatsd, else named "base.<v1>.<v2>".
 */
struct metrics_statsd_req {
	const char	*base;
	const char	*k1;
	const char	*v1;
	const char	*k2;		/* NULL: one label */
	const char	*v2;
	const char	*value;		/* the sample, as text */
	const char	*type;		/* "c", "ms" or "g" */
};
/* Send req (borrowed) when statsd is on. */
void	metrics_statsd2(const struct metrics_statsd_req *req);
/*
 * req's line (borrowed; its value unused) with an empty value into out:
 * the value goes at *head. Its length, 0 when it does not fit.
 */
size_t	metrics_statsd2_template(const struct metrics_statsd_req *req,
	    char *out, size_t cap, size_t *head);

/* metrics_process.c */
/* RSS bytes and CPU seconds of a process; false if it is gone. */
bool	metrics_proc_stat(pid_t pid, double *rss, double *cpu);
/* The memory the service may use: the cgroup limit, else physical memory. */
double	metrics_memory_limit(void);

/* metrics_expo.c */
struct buf;
/* # HELP and # TYPE lines of a family. */
void	metrics_header(struct buf *b, const char *name, const char *type,
	    const char *help);
/* One sample: name + suffix, {labels,extra} when either is set, value. */
void	metrics_sample(struct buf *b, const char *name, const char *suffix,
	    const char *labels, const char *extra, const char *value);

/* metrics_host.c: the machine around the service (METRICS_* keys). */
/*
 * process_resident_memory_bytes and process_cpu_seconds_total samples of
 * each METRICS_PROCESSES entry running, into rss and cpu.
 */
void	metrics_expose_neighbours(struct buf *rss, struct buf *cpu);
/* filesystem_avail_bytes and filesystem_size_bytes of METRICS_DISK_PATHS. */
void	metrics_expose_disks(struct buf *b);

#endif
