/* observe/outbox.h: a background thread that delivers HTTP POSTs (alerts, error reports) with bounded retries. */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#define OUTBOX_CAPACITY		64	/* queued deliveries per process */
#define OUTBOX_TIMEOUT_MS	5000	/* one attempt, connect included */

/*
 * Queue a POST of body (len bytes) to url from this process's delivery
 * thread, started on first use. headers is a NULL-terminated list of
 * "Name: value" lines or NULL; everything is copied. target names the
 * receiver in logs and in notifications_total ("slack", "pagerduty",
 * "sentry"); URLs are never logged (they may hold secrets). A failed
 * attempt (network error, 408, 429, 5xx) is retried up to attempts in all,
 * with growing pauses. Never waits on the network: returns false, logs and
 * counts a drop when the queue is full.
 */
bool	outbox_post(const char *target, const char *url,
	    const char *const *headers, const char *body, size_t len,
	    int attempts);
/* Give queued deliveries up to ms milliseconds, then stop the thread. */
void	outbox_shutdown(int ms);

/*
 * One POST now, in the calling thread, with the same limits: the HTTP
 * status, or -1 with *cause set (caller frees) when no answer came.
 */
long	outbox_send(const char *url, const char *const *headers,
	    const char *body, size_t len, char **cause);

#endif
