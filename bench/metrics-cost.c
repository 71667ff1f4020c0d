/* bench/metrics-cost.c: the CPU the metrics hooks of one request cost, on and off, measured without Caddy's noise. */
/*
 * bench/run compares whole requests through Caddy with metrics on and off,
 * where a few µs hide in the machine's noise. This program runs what a
 * request asks of src/observe/metrics.c (the same calls serve.c and the tools
 * make), PROCS processes x THREADS threads as the service does, and prints
 * the CPU per request of all of them (user + system, flusher threads
 * included): with metrics off, with the registry only, and with the
 * registry and statsd (sent to a local UDP socket that nobody reads, so
 * the kernel drops what overflows, as with a statsd that cannot keep up),
 * batched across requests (the default) or sent at the end of each.
 *
 * usage: metrics-cost [requests per thread] [procs] [threads]
 */
#include "autoconf.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "metrics.h"
#include "util.h"

static long	per_thread = 200000;
static int	procs = 2, threads = 8;
static int	kind;		/* 0: /health, 1: a cached search */

static void *
requests(void *arg)
{
	uint64_t	t0;
	long		i;

	(void)arg;
	for (i = 0; i < per_thread; i++) {
		t0 = util_mono_us();
		metrics_request_begin();
		if (kind == 1) {
			metrics_cache("search", "hit");
			metrics_search(false);
			metrics_tool("search_anime", "ok", 0.00002);
			metrics_request_end("/v1/anime/search", "GET", 200,
			    t0);
		} else
			metrics_request_end("/health", "GET", 200, t0);
	}
	return (NULL);
}

/* procs x threads running the loop, with the given config; in a child. */
static void
run(const char *enabled, const char *host, int port, const char *flush)
{
	pthread_t	t[64];
	char		num[16], *cause = NULL;
	pid_t		pid;
	int		i, j, status;

	cfg = config_create();
	snprintf(num, sizeof num, "%d", port);
	if (!config_set(cfg, "METRICS_ENABLED", enabled, &cause) ||
	    !config_set(cfg, "STATSD_HOST", host, &cause) ||
	    (port != 0 && !config_set(cfg, "STATSD_PORT", num, &cause)) ||
	    !config_set(cfg, "STATSD_FLUSH_MS", flush, &cause)) {
		fprintf(stderr, "metrics-cost: %s\n", cause);
		_exit(1);
	}
	/* As the master does: the registry is mapped before the fork. */
	metrics_shared_init();
	for (i = 0; i < procs; i++) {
		if ((pid = fork()) == -1) {
			perror("fork");
			_exit(1);
		}
		if (pid != 0)
			continue;
		metrics_process_init(false);
		for (j = 0; j < threads; j++)
			pthread_create(&t[j], NULL, requests, NULL);
		for (j = 0; j < threads; j++)
			pthread_join(t[j], NULL);
		metrics_process_shutdown();
		_exit(0);
	}
	for (i = 0; i < procs; i++)
		wait(&status);
	_exit(0);
}

/* CPU µs of everything run() did, each time in a fresh process tree. */
static double
measure(const char *enabled, const char *host, int port, const char *flush)
{
	static double	seen;
	struct rusage	ru;
	double		cpu;
	pid_t		pid;
	int		status;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (pid == 0)
		run(enabled, host, port, flush);
	waitpid(pid, &status, 0);
	/* RUSAGE_CHILDREN adds up every child waited for: the difference. */
	getrusage(RUSAGE_CHILDREN, &ru);
	cpu = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
	    (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
	cpu -= seen;
	seen += cpu;
	return (cpu);
}

int
main(int argc, char **argv)
{
	static const char *const kinds[] = { "/health", "cached search" };
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	double			 off, reg, all, each, n;
	int			 sink;

	if (argc > 1)
		per_thread = atol(argv[1]);
	if (argc > 2)
		procs = atoi(argv[2]);
	if (argc > 3)
		threads = atoi(argv[3]);
	if (per_thread < 1 || procs < 1 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: metrics-cost [requests per thread] "
		    "[procs] [threads <= 64]\n");
		return (2);
	}
	/* A statsd that reads nothing: the kernel drops what overflows. */
	sink = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sink == -1 || bind(sink, (struct sockaddr *)&sin, sizeof sin) ==
	    -1 || getsockname(sink, (struct sockaddr *)&sin, &len) == -1) {
		perror("metrics-cost: udp");
		return (1);
	}
	n = (double)per_thread * procs * threads;
	printf("%ld requests per thread, %d processes x %d threads\n",
	    per_thread, procs, threads);
	for (kind = 0; kind < 2; kind++) {
		off = measure("false", "", 0, "100");
		reg = measure("true", "", 0, "100");
		all = measure("true", "127.0.0.1", ntohs(sin.sin_port), "100");
		each = measure("true", "127.0.0.1", ntohs(sin.sin_port), "0");
		printf("%-14s CPU per request: metrics off %.2f us; on, "
		    "registry only %.2f us (+%.2f); registry + statsd batched "
		    "(STATSD_FLUSH_MS=100) %.2f us (+%.2f); registry + statsd "
		    "sent per request (STATSD_FLUSH_MS=0) %.2f us (+%.2f)\n",
		    kinds[kind], off / n, reg / n, (reg - off) / n, all / n,
		    (all - off) / n, each / n, (each - off) / n);
	}
	close(sink);
	return (0);
}
