/* master.c: opens the socket, forks and supervises workers, drains and reloads. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "sentry.h"
#include "util.h"
#include "worker.h"

#define MASTER_MAX_WORKERS	64
#define MASTER_MAX_RETIRED	256
#define MASTER_BACKOFF_MIN_MS	100
#define MASTER_BACKOFF_MAX_MS	10000
#define MASTER_STABLE_MS	10000
#define MASTER_READY_TIMEOUT_MS	10000
#define MASTER_TICK_MS		10000

struct master_slot {
	pid_t		pid;		/* 0 when not running */
	uint64_t	started_ms;
	uint64_t	restart_at_ms;	/* when to start again after a crash */
	unsigned	crashes;	/* consecutive short-lived deaths */
};

static volatile sig_atomic_t	master_term;
static volatile sig_atomic_t	master_hup;
static volatile sig_atomic_t	master_chld;

static struct master_slot	master_slots[MASTER_MAX_WORKERS];
static int			master_nslots;
static pid_t			master_retired[MASTER_MAX_RETIRED];
static int			master_nretired;
static int			master_listen_fd = -1;
static char			master_unix_path[108];
static struct stat		master_unix_st;	/* the socket we bound */
static bool			master_drain_failed;
static const char		*master_config_path;

static void
master_on_signal(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		master_term++;
		break;
	case SIGHUP:
		master_hup = 1;
		break;
	case SIGCHLD:
		master_chld = 1;
		break;
	}
}

static int
master_listen_unix(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		xasprintf(cause, "LISTEN: socket path too long");
		return (-1);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	/* A socket that still answers belongs to a running instance. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
		xasprintf(cause, "LISTEN: %s: another process is listening "
		    "there", path);
		close(fd);
		return (-1);
	}
	close(fd);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	unlink(path);	/* a stale socket file from an earlier run */
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		goto fail;
	chmod(path, 0660);
	snprintf(master_unix_path, sizeof master_unix_path, "%s", path);
	if (stat(path, &master_unix_st) == -1)
		memset(&master_unix_st, 0, sizeof master_unix_st);
	return (fd);
fail:
	xasprintf(cause, "LISTEN: %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	return (-1);
}

/*
 * Remove our socket file so new connections fail fast while we drain; only
 * if it is still ours (a new instance may already have bound the path).
 */
static void
master_unlink_socket(void)
{
	struct stat	st;

	if (master_unix_path[0] == '\0')
		return;
	if (stat(master_unix_path, &st) == 0 &&
	    st.st_ino == master_unix_st.st_ino &&
	    st.st_dev == master_unix_st.st_dev)
		unlink(master_unix_path);
	master_unix_path[0] = '\0';
}

static int
master_listen_tcp(const char *spec, char **cause)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	char		*host, *port;
	int		 fd = -1, one = 1, rc;

	host = xstrdup(spec);
	port = strrchr(host, ':');
	*port++ = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(*host != '\0' ? host : NULL, port, &hints,
	    &res)) != 0) {
		xasprintf(cause, "LISTEN: %s: %s", spec, gai_strerror(rc));
		goto out;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		xasprintf(cause, "LISTEN: cannot bind %s: %s", spec,
		    strerror(errno));
out:
	if (res != NULL)
		freeaddrinfo(res);
	free(host);
	return (fd);
}

/* Open (or inherit) the listening socket; non-blocking for the workers. */
static int
master_listen(const char *spec, char **cause)
{
	int	fd, flags;

	if (strcmp(spec, "fd:0") == 0)
		fd = 0;
	else if (strncmp(spec, "unix:", 5) == 0)
		fd = master_listen_unix(spec + 5, cause);
	else
		fd = master_listen_tcp(spec, cause);
	if (fd == -1)
		return (-1);
	if (fd != 0 && listen(fd, 1024) == -1) {
		xasprintf(cause, "LISTEN: listen: %s", strerror(errno));
		close(fd);
		return (-1);
	}
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	return (fd);
}

/* Fork one worker; with wait_ready, return only once it accepts. */
static pid_t
master_spawn(bool wait_ready)
{
	struct pollfd	pfd;
	pid_t		pid, self = getpid();
	int		pipefd[2];
	char		c;

	pipefd[0] = pipefd[1] = -1;
	if (wait_ready && pipe2(pipefd, O_CLOEXEC) == -1) {
		log_error("pipe failed", LF_STR("error", strerror(errno)),
		    LF_END);
		return (-1);
	}
	pid = fork();
	if (pid == -1) {
		log_error("fork failed", LF_STR("error", strerror(errno)),
		    LF_END);
		if (wait_ready) {
			close(pipefd[0]);
			close(pipefd[1]);
		}
		return (-1);
	}
	if (pid == 0) {
		if (wait_ready)
			close(pipefd[0]);
		/* Signals stay blocked until worker_main has its handlers. */
		signal(SIGCHLD, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		worker_main(master_listen_fd, pipefd[1], self);
	}
	if (wait_ready) {
		close(pipefd[1]);
		pfd.fd = pipefd[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, MASTER_READY_TIMEOUT_MS) != 1 ||
		    read(pipefd[0], &c, 1) != 1)
			log_warn("new worker did not report ready",
			    LF_INT("worker_pid", pid), LF_END);
		close(pipefd[0]);
	}
	return (pid);
}

static int
master_alive(void)
{
	int	i, n = 0;

	for (i = 0; i < master_nslots; i++) {
		if (master_slots[i].pid > 0)
			n++;
	}
	return (n);
}

static void
master_start_slot(int i, bool wait_ready)
{
	pid_t	pid;

	if ((pid = master_spawn(wait_ready)) == -1) {
		master_slots[i].restart_at_ms = util_mono_ms() +
		    MASTER_BACKOFF_MAX_MS;
		return;
	}
	master_slots[i].pid = pid;
	master_slots[i].started_ms = util_mono_ms();
	master_slots[i].restart_at_ms = 0;
	metrics_workers_alive(master_alive());
	log_info("worker spawned", LF_INT("worker_pid", pid),
	    LF_INT("slot", i), LF_END);
}

static void
master_retire(pid_t pid)
{
	kill(pid, SIGTERM);
	if (master_nretired < MASTER_MAX_RETIRED)
		master_retired[master_nretired++] = pid;
}

static bool
master_forget_retired(pid_t pid)
{
	int	i;

	for (i = 0; i < master_nretired; i++) {
		if (master_retired[i] == pid) {
			master_retired[i] = master_retired[--master_nretired];
			return (true);
		}
	}
	return (false);
}

static void
master_reap(bool stopping)
{
	struct master_slot	*s;
	pid_t			 pid;
	uint64_t		 now, delay;
	int			 status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (sentry_reaped(pid))
			continue;
		metrics_process_exited(pid);
		if (master_forget_retired(pid)) {
			log_info("old worker exited", LF_INT("worker_pid",
			    pid), LF_INT("status", WIFEXITED(status) ?
			    WEXITSTATUS(status) : -1), LF_END);
			continue;
		}
		for (i = 0; i < master_nslots; i++) {
			if (master_slots[i].pid == pid)
				break;
		}
		if (i == master_nslots)
			continue;
		s = &master_slots[i];
		s->pid = 0;
		metrics_workers_alive(master_alive());
		if (stopping) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				master_drain_failed = true;
			log_info("worker exited", LF_INT("worker_pid", pid),
			    LF_INT("status", WIFEXITED(status) ?
			    WEXITSTATUS(status) : -1), LF_END);
			continue;
		}
		now = util_mono_ms();
		if (now - s->started_ms > MASTER_STABLE_MS)
			s->crashes = 0;
		delay = MASTER_BACKOFF_MIN_MS << (s->crashes < 7 ?
		    s->crashes : 7);
		if (delay > MASTER_BACKOFF_MAX_MS)
			delay = MASTER_BACKOFF_MAX_MS;
		s->crashes++;
		s->restart_at_ms = now + delay;
		metrics_worker_restart();
		sentry_report_crash(pid, WIFSIGNALED(status) ?
		    WTERMSIG(status) : 0, WIFEXITED(status) ?
		    WEXITSTATUS(status) : -1);
		if (WIFSIGNALED(status))
			log_error("worker died", LF_INT("worker_pid", pid),
			    LF_INT("signal", WTERMSIG(status)),
			    LF_INT("restart_in_ms", delay), LF_END);
		else
			log_error("worker exited unexpectedly",
			    LF_INT("worker_pid", pid),
			    LF_INT("status", WEXITSTATUS(status)),
			    LF_INT("restart_in_ms", delay), LF_END);
	}
}

/* Parse the file again; on success replace the workers one by one. */
static void
master_reload(void)
{
	struct config	*next, *old;
	char		*cause = NULL;
	enum log_level	 level;
	int		 i, n;
	pid_t		 pid;

	next = config_load(master_config_path, &cause);
	if (next == NULL) {
		log_error("reload refused: keeping the running config",
		    LF_STR("error", cause), LF_END);
		free(cause);
		return;
	}
	if (strcmp(next->listen, cfg->listen) != 0)
		log_warn("LISTEN changed: takes effect on restart, not reload",
		    LF_END);
	free(next->listen);
	next->listen = xstrdup(cfg->listen);
	old = cfg;
	cfg = next;
	config_free(old);

	metrics_shared_init();
	metrics_process_init(true);
	n = cfg->workers;
	log_info("reloading", LF_INT("workers", n), LF_END);
	for (i = 0; i < n; i++) {
		pid = master_slots[i].pid;
		master_slots[i].pid = 0;
		master_start_slot(i, true);
		master_slots[i].crashes = 0;
		if (pid > 0) {
			log_info("retiring worker", LF_INT("worker_pid", pid),
			    LF_INT("slot", i), LF_END);
			master_retire(pid);
		}
	}
	for (; i < master_nslots; i++) {
		if (master_slots[i].pid > 0) {
			log_info("retiring worker", LF_INT("worker_pid",
			    master_slots[i].pid), LF_INT("slot", i), LF_END);
			master_retire(master_slots[i].pid);
		}
		master_slots[i].pid = 0;
	}
	master_nslots = n;
	log_info("reload complete", LF_INT("workers", n), LF_STR("log_level",
	    cfg->log_level), LF_END);
	/* Last, so a reload to LOG_LEVEL = warn still logs its own lines. */
	if (log_level_parse(cfg->log_level, &level))
		log_threshold = level;
}

static bool
master_any_alive(void)
{
	int	i;

	for (i = 0; i < master_nslots; i++) {
		if (master_slots[i].pid > 0)
			return (true);
	}
	return (master_nretired > 0);
}

static void
master_signal_all(int sig)
{
	int	i;

	for (i = 0; i < master_nslots; i++) {
		if (master_slots[i].pid > 0)
			kill(master_slots[i].pid, sig);
	}
	for (i = 0; i < master_nretired; i++)
		kill(master_retired[i], sig);
}

/* Graceful stop: workers drain; a second SIGTERM kills them now. */
static int
master_drain(sigset_t *origmask)
{
	struct timespec	ts = { 0, 100 * 1000 * 1000 };
	uint64_t	deadline;
	sig_atomic_t	seen = master_term;

	log_info("draining", LF_INT("timeout_s", cfg->shutdown_timeout),
	    LF_END);
	master_unlink_socket();
	master_signal_all(SIGTERM);
	deadline = util_mono_ms() + (uint64_t)cfg->shutdown_timeout * 1000 +
	    2000;
	while (master_any_alive()) {
		ppoll(NULL, 0, &ts, origmask);
		master_chld = 0;
		master_reap(true);
		while (master_nretired > 0 && waitpid(master_retired[0], NULL,
		    WNOHANG) > 0)
			master_forget_retired(master_retired[0]);
		if (master_term != seen) {
			log_warn("second signal: stopping now", LF_END);
			master_signal_all(SIGKILL);
			return (1);
		}
		if (util_mono_ms() > deadline) {
			log_error("workers did not stop in time; killing",
			    LF_END);
			master_signal_all(SIGKILL);
			return (1);
		}
	}
	return (master_drain_failed ? 1 : 0);
}

int
master_run(const char *config_path)
{
	struct sigaction	 sa;
	sigset_t		 mask, origmask;
	struct timespec		 ts;
	char			*cause = NULL;
	uint64_t		 now, next, tick = 0;
	int			 i, status;

	master_config_path = config_path;
	log_set_role("master");

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = master_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &origmask);

	if ((master_listen_fd = master_listen(cfg->listen, &cause)) == -1) {
		log_error("cannot listen", LF_STR("error", cause), LF_END);
		free(cause);
		return (1);
	}
	master_nslots = cfg->workers;
	log_info("starting", LF_STR("version", PACKAGE_VERSION),
	    LF_STR("listen", cfg->listen), LF_INT("workers", cfg->workers),
	    LF_INT("threads", cfg->threads), LF_END);
	/* Mapped before the first fork: every worker shares the registry. */
	metrics_shared_init();
	for (i = 0; i < master_nslots; i++)
		master_start_slot(i, false);
	metrics_process_init(true);

	for (;;) {
		if (master_term)
			break;
		if (master_chld) {
			master_chld = 0;
			master_reap(false);
		}
		if (master_hup) {
			master_hup = 0;
			master_reload();
		}
		now = util_mono_ms();
		if (now >= tick) {
			metrics_master_tick();
			tick = now + MASTER_TICK_MS;
		}
		next = now + 1000;
		for (i = 0; i < master_nslots; i++) {
			if (master_slots[i].pid != 0)
				continue;
			if (master_slots[i].restart_at_ms <= now)
				master_start_slot(i, false);
			else if (master_slots[i].restart_at_ms < next)
				next = master_slots[i].restart_at_ms;
		}
		now = util_mono_ms();
		if (next > now) {
			ts.tv_sec = (time_t)((next - now) / 1000);
			ts.tv_nsec = (long)((next - now) % 1000) * 1000000;
			ppoll(NULL, 0, &ts, &origmask);
		}
	}

	status = master_drain(&origmask);
	master_unlink_socket();
	metrics_process_shutdown();	/* its last statsd lines, then the socket */
	log_info("stopped", LF_INT("status", status), LF_END);
	return (status);
}
