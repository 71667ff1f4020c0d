/* observe/metrics_expo.c: the Prometheus text exposition of the shared registry. */
#include "autoconf.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "metrics_internal.h"
#include "util.h"

void
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

void
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
	metrics_expose_neighbours(&rss, &cpu);
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
	metrics_expose_disks(b);
	metrics_header(b, "metrics_series_dropped_total", "counter",
	    "Label sets not recorded because the registry was full.");
	buf_printf(b, "metrics_series_dropped_total %llu\n",
	    (unsigned long long)atomic_load(&metrics_shm->dropped));
}
