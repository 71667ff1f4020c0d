/* observe/metrics.h: statsd over UDP and the shared-memory Prometheus registry behind GET /metrics. */
#ifndef METRICS_H
#define METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct buf;

/*
 * Label values must come from small fixed vocabularies (route patterns,
 * tool names, result words), never from user input: the registry holds at
 * most METRICS_MAX_SERIES label sets and counts what does not fit in
 * metrics_series_dropped_total. Values are cut at METRICS_VALUE_MAX bytes.
 */
#define METRICS_MAX_SERIES	4096
#define METRICS_MAX_PROCS	128
#define METRICS_VALUE_MAX	48
#define METRICS_PACKET_MAX	1432	/* statsd datagram: fits a 1500 MTU */

/* Circuit breaker states for metrics_upstream_breaker. */
#define METRICS_BREAKER_CLOSED		0
#define METRICS_BREAKER_HALF_OPEN	1
#define METRICS_BREAKER_OPEN		2

/*
 * Set-up. The master maps the registry before it forks (MAP_SHARED, so the
 * workers, their replacements after a crash or SIGHUP and the master all
 * count into the same memory); idempotent; false if METRICS_ENABLED is off
 * or the mapping failed. Each process (master and every worker) then calls
 * metrics_process_init once: it claims a per-process slot in the registry
 * and resolves STATSD_HOST once (an unknown host is logged once and turns
 * statsd off for that process; nothing else changes). With STATSD_FLUSH_MS
 * > 0 it starts the process's statsd flusher thread: call it after fork
 * (threads do not survive one), again after a reload (the old flusher sends
 * what waits and stops). metrics_process_shutdown stops the flusher, sends
 * what waits and closes the socket (a worker's drain, the master's exit).
 */
bool	metrics_shared_init(void);
void	metrics_process_init(bool master);	/* true in the master */
void	metrics_process_shutdown(void);
/* Master: a child was reaped; its per-process gauges are dropped. */
void	metrics_process_exited(pid_t pid);
/* Is the registry mapped (GET /metrics available)? */
bool	metrics_enabled(void);

/*
 * Requests (serve.c). begin counts the request in flight and starts
 * batching this thread's statsd lines; end records count, duration and
 * status and hands the batch on: to the process's pending datagram (sent
 * when full or STATSD_FLUSH_MS later), or sent now with STATSD_FLUSH_MS 0.
 * Neither waits on the network. route is the route PATTERN ("/v1/anime/{id}")
 * or a fixed word ("unmatched"), never the raw path.
 */
void	metrics_request_begin(void);
void	metrics_request_end(const char *route, const char *method, int status,
	    uint64_t start_us);

/* Master: supervision. */
void	metrics_worker_restart(void);
void	metrics_workers_alive(int n);
/* Master, about every 10 s: process and in-flight gauges to statsd. */
void	metrics_master_tick(void);

/*
 * Calls for the other parts. Each updates the registry and sends statsd
 * lines (batched with the request's when called inside one).
 */
/* cache_requests_total{kind,result}; result: hit, miss, stale, error. */
void	metrics_cache(const char *kind, const char *result);
/*
 * anilist_requests_total{result} + anilist_request_duration_seconds.
 * result: ok, ratelimited (HTTP 429), server_error, client_error, timeout,
 * network, graphql_error, breaker_open, budget; seconds < 0: no timing
 * (the call was not made).
 */
void	metrics_upstream(const char *result, double seconds);
/* anilist_ratelimit_remaining: X-RateLimit-Remaining as last seen. */
void	metrics_upstream_ratelimit(int remaining);
/* anilist_breaker_state: METRICS_BREAKER_*. */
void	metrics_upstream_breaker(int state);
/* db_pool_connections{state}: this worker's pool now (in use, idle). */
void	metrics_db_pool(int in_use, int idle);
/* db_pool_wait_seconds: time spent waiting for a pooled connection. */
void	metrics_db_wait(double seconds);
/* db_errors_total. */
void	metrics_db_error(void);
/* db_query_duration_seconds: the round trip of one statement (db_exec). */
void	metrics_db_query(double seconds);
/*
 * memcached_request_duration_seconds{op}: the round trip of one memcached
 * command; op get, mget, set, add, delete, incr or decr.
 */
void	metrics_memcached(const char *op, double seconds);
/* search_queries_total, and search_zero_results_total when true. */
void	metrics_search(bool zero_results);
/*
 * search_stats_dropped_total{reason}: searches the top-searches statistics
 * could not keep (disabled, full, database), n at once.
 */
void	metrics_search_dropped(const char *reason, uint64_t n);
/* oauth_logins_total{result,reason}; result success|failure, reason "" ok. */
void	metrics_oauth(const char *result, const char *reason);
/* recommendation_feedback_total{action}; action accepted|dismissed|… */
void	metrics_feedback(const char *action);
/* tool_calls_total{tool,result} + tool_duration_seconds{tool}. */
void	metrics_tool(const char *tool, const char *result, double seconds);
/* active_users (distinct per 5-minute window) + a statsd set; the hash. */
void	metrics_user(const char *hash);
/* notifications_total{target,result}: sentry/slack/pagerduty deliveries. */
void	metrics_notification(const char *target, const char *result);
/* alerts_received_total{source}: alertmanager, grafana, plain. */
void	metrics_alert_received(const char *source);
/* http_rate_limited_total: requests our own rate limit refused (429). */
void	metrics_rate_limited(void);
/*
 * rate_limit_fail_open_total{reason}: requests let through unchecked;
 * reason cache (memcached down or slow) or no_client (no REMOTE_ADDR).
 */
void	metrics_rate_limit_fail_open(const char *reason);
/*
 * mcp_version_mismatch_total{header,body}: MCP requests served per the
 * body's _meta revision although the header named another supported one.
 */
void	metrics_mcp_version_mismatch(const char *header, const char *body);

/* The Prometheus text exposition (format 0.0.4) of every process. */
void	metrics_expose(struct buf *b);
/* Distinct users seen in the current 5-minute window (an estimate). */
double	metrics_active_users(void);

/*
 * One statsd line into out, without a newline: prefix + name, value and
 * type ("c", "ms", "g", "s"); tags is "key:value,key:value" or NULL and is
 * written as "|#tags" only when dogstatsd is true. Exposed for tests.
 */
void	metrics_statsd_line(struct buf *out, const char *name,
	    const char *value, const char *type, const char *tags,
	    bool dogstatsd);
/* A route pattern as one Graphite path component ("/v1/a/{id}" → v1_a_id). */
void	metrics_statsd_component(char *out, size_t cap, const char *in);

/*
 * The machine around the service (metrics_host.c). The checks validate
 * METRICS_DISK_PATHS (absolute paths, comma separated) and
 * METRICS_PROCESSES (name or name=/pidfile, comma separated; a name as
 * /proc/PID/comm has it, not master or worker-N); false with *cause
 * (caller frees).
 */
bool	metrics_disk_paths_check(const char *value, char **cause);
bool	metrics_neighbours_check(const char *value, char **cause);
/* Bytes available to unprivileged writers and the size of path's filesystem. */
bool	metrics_fs_space(const char *path, double *avail, double *size);
/* The pid a pidfile names (its first number); false if none. */
bool	metrics_pidfile_read(const char *path, pid_t *pid);
/*
 * One pass over /proc: up to cap processes whose /proc/PID/comm is one of
 * names[0 .. nnames) (NULL entries match nothing), each as its pid and the
 * index of its name in which; how many were found.
 */
size_t	metrics_proc_find(const char *const *names, size_t nnames,
	    pid_t *pids, size_t *which, size_t cap);

/*
 * Series exported at 0 from the start (metrics_zero.c): a family, a label
 * and its values, optionally a second label and its values (every pair);
 * value lists end with NULL. http_requests_total is seeded for every route
 * of the route table at each of metrics_zero_statuses.
 */
struct metrics_zero {
	const char		*family;
	const char		*key1;
	const char *const	*values1;
	const char		*key2;		/* NULL: one label */
	const char *const	*values2;
};
extern const struct metrics_zero	metrics_zeros[];
extern const size_t			metrics_zeros_count;
extern const char *const		metrics_zero_statuses[];

#endif
