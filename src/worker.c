/* worker.c: a worker process: set-up of every subsystem, signals, accept threads and graceful drain. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>

#include "anilist.h"
#include "cache.h"
#include "cleanup.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "rescache.h"
#include "router.h"
#include "searchstats.h"
#include "sentry.h"
#include "serve.h"
#include "tool.h"
#include "util.h"
#include "worker.h"

/* Built with AddressSanitizer (gcc says so one way, clang another). */
#if defined(__SANITIZE_ADDRESS__)
#define WORKER_LEAK_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_LEAK_CHECK 1
#endif
#endif
#ifdef WORKER_LEAK_CHECK
#include <sanitizer/lsan_interface.h>
#endif

struct worker_thread {
	pthread_t	 tid;
	int		 index;
	int		 listen_fd;
	int		 wake_fd;
};

static volatile sig_atomic_t	 worker_stop;	/* set by the signal handler */
static atomic_bool		 worker_draining;	/* set by the main thread */
static _Atomic uint64_t		 worker_drain_until;	/* monotonic ms */
static atomic_int		 worker_busy;

/* Per-process set-up in a new worker (false: cannot serve). */
static bool
worker_init(void)
{
	enum log_level	level;
	char		*cause = NULL;

	if (log_level_parse(cfg->log_level, &level))
		log_threshold = level;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return (false);
	if (!tool_init(&cause)) {
		log_error("tools failed to load", LF_STR("error", cause),
		    LF_END);
		free(cause);
		return (false);
	}
	/* Empty only in development: accounts then stay disabled. */
	if (!crypto_init(cfg->secret_key) && db_enabled())
		log_warn("SECRET_KEY is empty: accounts are disabled", LF_END);
	db_init();
	searchstats_init();
	cleanup_init();
	metrics_process_init(false);
	sentry_init();
	return (true);
}

/* Undo worker_init at exit. */
static void
worker_shutdown(void)
{
	cleanup_shutdown();
	searchstats_shutdown();
	rescache_clear();
	tool_shutdown();
	db_shutdown();
	crypto_reset();
	outbox_shutdown(2000);
	metrics_process_shutdown();
	curl_global_cleanup();
}

/* Release this thread's resources (connections, handles) before it exits. */
static void
worker_thread_cleanup(void)
{
	anilist_thread_cleanup();
	cache_thread_cleanup();
}

static void
worker_on_term(int sig)
{
	worker_stop = 1;
}

int
worker_in_flight(void)
{
	return (atomic_load(&worker_busy));
}

static void
worker_serve(FCGX_Request *r)
{
	r->keepConnection = 0;
	atomic_fetch_add(&worker_busy, 1);
	serve_request(r->envp, r->in, r->out);
	FCGX_Finish_r(r);
	atomic_fetch_sub(&worker_busy, 1);
}

static void *
worker_thread_main(void *arg)
{
	struct worker_thread	*t = arg;
	struct epoll_event	 ev, evs[2];
	FCGX_Request		 r;
	int			 ep, n;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_error("epoll_create1 failed", LF_STR("error",
		    strerror(errno)), LF_END);
		return (NULL);
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.fd = t->listen_fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, t->listen_fd, &ev) == -1) {
		/* EPOLLEXCLUSIVE unsupported: plain wakeups still work. */
		ev.events = EPOLLIN;
		epoll_ctl(ep, EPOLL_CTL_ADD, t->listen_fd, &ev);
	}
	ev.events = EPOLLIN;
	ev.data.fd = t->wake_fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, t->wake_fd, &ev);

	/*
	 * FCGX_Accept_r never blocks in accept(2): the socket is non-blocking
	 * and epoll says when to try, so the eventfd can wake us to drain.
	 */
	FCGX_InitRequest(&r, t->listen_fd, 0);
	while (!atomic_load(&worker_draining)) {
		n = epoll_wait(ep, evs, nitems(evs), 1000);
		if (n == -1 && errno != EINTR) {
			log_error("epoll_wait failed", LF_STR("error",
			    strerror(errno)), LF_END);
			break;
		}
		if (n <= 0 || atomic_load(&worker_draining))
			continue;
		/* Another thread or worker may win the race: EAGAIN. */
		if (FCGX_Accept_r(&r) < 0)
			continue;
		worker_serve(&r);
	}

	/*
	 * Draining: connections already queued on the socket were sent
	 * before we stopped; serve them too (until accept says EAGAIN).
	 */
	while (util_mono_ms() < atomic_load(&worker_drain_until) &&
	    FCGX_Accept_r(&r) >= 0)
		worker_serve(&r);

	FCGX_Free(&r, 1);
	close(ep);
	worker_thread_cleanup();
	return (NULL);
}

static void
worker_signals(sigset_t *blocked)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = worker_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	/*
	 * The master forks with these blocked, so a SIGTERM sent before the
	 * handler above was in place is pending, not lost; the main thread
	 * takes it in sigsuspend, the accept threads never do.
	 */
	sigemptyset(blocked);
	sigaddset(blocked, SIGTERM);
	sigaddset(blocked, SIGINT);
	sigaddset(blocked, SIGHUP);
	sigaddset(blocked, SIGCHLD);
	pthread_sigmask(SIG_SETMASK, blocked, NULL);
}

void
worker_main(int listen_fd, int ready_fd, pid_t master)
{
	struct worker_thread	*threads;
	sigset_t		 blocked, waitmask;
	struct timespec		 deadline;
	uint64_t		 one = 1;
	int			 i, nthreads = cfg->threads, wake_fd, status = 0;
	char			 c = 'r';

	log_set_role("worker");
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	worker_signals(&blocked);
	/* The master died before PDEATHSIG was set (it may be pid 1). */
	if (getppid() != master)
		_exit(0);

	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed", LF_END);
		_exit(1);
	}
	if (!worker_init()) {
		log_error("worker initialisation failed", LF_END);
		_exit(1);
	}
	if ((wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		log_error("eventfd failed", LF_STR("error", strerror(errno)),
		    LF_END);
		_exit(1);
	}

	threads = xcalloc((size_t)nthreads, sizeof *threads);
	for (i = 0; i < nthreads; i++) {
		threads[i].index = i;
		threads[i].listen_fd = listen_fd;
		threads[i].wake_fd = wake_fd;
		if (pthread_create(&threads[i].tid, NULL, worker_thread_main,
		    &threads[i]) != 0) {
			log_error("pthread_create failed", LF_END);
			_exit(1);
		}
	}
	log_info("worker started", LF_INT("threads", nthreads), LF_END);
	if (ready_fd != -1) {
		if (write(ready_fd, &c, 1) != 1)
			log_warn("could not tell the master we are ready",
			    LF_END);
		close(ready_fd);
	}

	sigfillset(&waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	while (!worker_stop)
		sigsuspend(&waitmask);

	log_info("worker draining", LF_INT("in_flight",
	    worker_in_flight()), LF_END);
	atomic_store(&worker_drain_until, util_mono_ms() +
	    (uint64_t)cfg->shutdown_timeout * 1000 / 2);
	atomic_store(&worker_draining, true);
	if (write(wake_fd, &one, sizeof one) != sizeof one)
		log_warn("eventfd write failed", LF_END);

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += cfg->shutdown_timeout;
	for (i = 0; i < nthreads; i++) {
		if (pthread_timedjoin_np(threads[i].tid, NULL,
		    &deadline) != 0) {
			log_warn("drain timed out; exiting with requests in "
			    "flight", LF_INT("in_flight",
			    worker_in_flight()), LF_END);
			status = 1;
			_exit(status);
		}
	}
	worker_shutdown();
	free(threads);
	close(wake_fd);
	log_info("worker stopped", LF_END);
#ifdef WORKER_LEAK_CHECK
	/* _exit skips LeakSanitizer's check at exit: run it here. */
	__lsan_do_leak_check();
#endif
	_exit(status);
}
