/* observe/metrics_statsd.c: statsd lines batched across requests and sent over UDP, with the flusher thread. */
#include "autoconf.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "metrics_internal.h"
#include "util.h"

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

static _Atomic int		 metrics_fd = -1;
static _Atomic unsigned		 metrics_generation;	/* of metrics_fd */
bool				 metrics_dogstatsd;
static bool			 metrics_warned;
static __thread struct metrics_batch metrics_tl;
static struct metrics_pending	 metrics_pending = {
	.lock = PTHREAD_MUTEX_INITIALIZER
};
static pthread_once_t		 metrics_pending_once = PTHREAD_ONCE_INIT;
static atomic_bool		 metrics_batching;	/* pending.active, unlocked */
static _Atomic int		 metrics_flush_ms;

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

void
metrics_statsd_stop(void)
{
	int	fd;

	pthread_once(&metrics_pending_once, metrics_pending_setup);
	metrics_flusher_stop();
	atomic_fetch_add(&metrics_generation, 1);
	if ((fd = atomic_exchange(&metrics_fd, -1)) != -1)
		close(fd);	/* inherited from the master, or a reload */
	metrics_warned = false;
}

void
metrics_statsd_start(bool master)
{
	struct addrinfo		 hints, *res;
	struct metrics_target	*t;
	pthread_t		 tid;

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

/* ---- lines ---- */

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
void
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

size_t
metrics_statsd_format(char *out, size_t cap, const struct metrics_stat *stat)
{
	int	n;

	if (stat->dogstatsd && stat->tags != NULL && *stat->tags != '\0')
		n = snprintf(out, cap, "%s%s:%s|%s|#%s", cfg->statsd_prefix,
		    stat->name, stat->value, stat->type, stat->tags);
	else
		n = snprintf(out, cap, "%s%s:%s|%s", cfg->statsd_prefix,
		    stat->name, stat->value, stat->type);
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

	if ((n = metrics_statsd_format(line, sizeof line,
	    &(struct metrics_stat){ .name = name, .value = value,
	    .type = type, .tags = tags, .dogstatsd = dogstatsd })) != 0)
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
void
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
void
metrics_statsd(const char *name, const char *value, const char *type,
    const char *tags)
{
	char			 line[METRICS_LINE_MAX];
	size_t			 n;

	if (atomic_load_explicit(&metrics_fd, memory_order_relaxed) == -1)
		return;
	n = metrics_statsd_format(line, sizeof line,
	    &(struct metrics_stat){ .name = name, .value = value,
	    .type = type, .tags = tags, .dogstatsd = metrics_dogstatsd });
	if (n != 0)
		metrics_statsd_append(line, n, NULL, 0, NULL, 0);
}

bool
metrics_statsd_on(void)
{
	return (atomic_load_explicit(&metrics_fd, memory_order_relaxed) != -1);
}

void
metrics_statsd_hold(void)
{
	metrics_tl.holding = true;
}

void
metrics_statsd_release(void)
{
	metrics_tl.holding = false;
	metrics_statsd_flush();
}

/*
 * The line req (borrowed) would send, with an empty value: its name ends
 * at *head, where a value goes. Its length, or 0 when it would not fit.
 */
size_t
metrics_statsd2_template(const struct metrics_statsd_req *req, char *out,
    size_t cap, size_t *head)
{
	char	name[200], c1[64], c2[64], tags[200];

	if (metrics_dogstatsd) {
		metrics_statsd_tag_value(c1, sizeof c1, req->v1);
		if (req->k2 != NULL) {
			metrics_statsd_tag_value(c2, sizeof c2, req->v2);
			snprintf(tags, sizeof tags, "%s:%s,%s:%s", req->k1, c1,
			    req->k2, c2);
		} else
			snprintf(tags, sizeof tags, "%s:%s", req->k1, c1);
		snprintf(name, sizeof name, "%s", req->base);
	} else {
		metrics_statsd_component(c1, sizeof c1, req->v1);
		if (req->k2 != NULL) {
			metrics_statsd_component(c2, sizeof c2, req->v2);
			snprintf(name, sizeof name, "%s.%s.%s", req->base, c1,
			    c2);
		} else
			snprintf(name, sizeof name, "%s.%s", req->base, c1);
		tags[0] = '\0';
	}
	*head = strlen(cfg->statsd_prefix) + strlen(name) + 1;
	return (metrics_statsd_format(out, cap, &(struct metrics_stat){
	    .name = name, .value = "", .type = req->type, .tags = tags,
	    .dogstatsd = metrics_dogstatsd }));
}

/* statsd name "a.<x>.<y>" from components, or tags "k:x,k:y". */
void
metrics_statsd2(const struct metrics_statsd_req *req)
{
	char	line[METRICS_LINE_MAX], full[METRICS_LINE_MAX];
	size_t	head, n, nv;

	if (!metrics_statsd_on())
		return;
	if ((n = metrics_statsd2_template(req, line, sizeof line,
	    &head)) == 0 || head > n)
		return;
	nv = strlen(req->value);
	if (n + nv >= sizeof full)
		return;
	memcpy(full, line, head);
	memcpy(full + head, req->value, nv);
	memcpy(full + head + nv, line + head, n - head);
	metrics_statsd_append(full, n + nv, NULL, 0, NULL, 0);
}
