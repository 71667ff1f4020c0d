/* observe/metrics_process.c: what /proc and the cgroup say of our processes (memory, CPU), and the master's periodic gauges. */
#include "autoconf.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "metrics_internal.h"

bool
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

double
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
	metrics_statsd_hold();
	snprintf(num, sizeof num, "%.0f", total_rss);
	metrics_statsd("process.resident_memory_bytes", num, "g", NULL);
	snprintf(num, sizeof num, "%.2f", total_cpu);
	metrics_statsd("process.cpu_seconds", num, "g", NULL);
	snprintf(num, sizeof num, "%lld", (long long)metrics_in_flight_total());
	metrics_statsd("http.in_flight", num, "g", NULL);
	snprintf(num, sizeof num, "%lld",
	    (long long)atomic_load(&metrics_shm->workers_alive));
	metrics_statsd("workers.alive", num, "g", NULL);
	metrics_statsd_release();
}
