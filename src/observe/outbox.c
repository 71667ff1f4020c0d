/* observe/outbox.c: the delivery thread behind outbox_post, and one-shot POSTs with libcurl. */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "util.h"

struct outbox_item {
	char			*target;
	char			*url;
	char			*body;
	size_t			 len;
	char			**headers;	/* NULL-terminated */
	int			 left;		/* attempts still allowed */
	int			 tried;
	uint64_t		 due_ms;
	struct outbox_item	*next;
};

static pthread_mutex_t		 outbox_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 outbox_cv;
static pthread_once_t		 outbox_once = PTHREAD_ONCE_INIT;
static struct outbox_item	*outbox_head;
static size_t			 outbox_count;	/* queued + in progress */
static bool			 outbox_started;
static bool			 outbox_stopping;
static uint64_t			 outbox_deadline_ms;
static pthread_t		 outbox_tid;

static void
outbox_item_free(struct outbox_item *it)
{
	size_t	i;

	if (it == NULL)
		return;
	for (i = 0; it->headers != NULL && it->headers[i] != NULL; i++)
		free(it->headers[i]);
	free(it->headers);
	free(it->target);
	free(it->url);
	free(it->body);
	free(it);
}

static size_t
outbox_discard(char *p, size_t size, size_t n, void *arg)
{
	return (size * n);
}

/* One attempt with a caller-owned handle. */
static long
outbox_perform(CURL *c, const char *url, const char *const *headers,
    const char *body, size_t len, char **cause)
{
	struct curl_slist	*hl = NULL, *tmp;
	CURLcode		 rc;
	long			 status = -1;
	size_t			 i;

	curl_easy_reset(c);
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		if ((tmp = curl_slist_append(hl, headers[i])) == NULL)
			break;
		hl = tmp;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)OUTBOX_TIMEOUT_MS);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE "/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, outbox_discard);
	if ((rc = curl_easy_perform(c)) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else if (cause != NULL)
		*cause = xstrdup(curl_easy_strerror(rc));
	curl_slist_free_all(hl);
	return (status);
}

long
outbox_send(const char *url, const char *const *headers, const char *body,
    size_t len, char **cause)
{
	CURL	*c;
	long	 status;

	if ((c = curl_easy_init()) == NULL) {
		*cause = xstrdup("curl_easy_init failed");
		return (-1);
	}
	status = outbox_perform(c, url, headers, body, len, cause);
	curl_easy_cleanup(c);
	return (status);
}

static bool
outbox_retryable(long status)
{
	return (status == -1 || status == 408 || status == 429 ||
	    status >= 500);
}

/* The earliest due item; outbox_mu held. */
static struct outbox_item *
outbox_next(void)
{
	struct outbox_item	*it, *best = NULL;

	for (it = outbox_head; it != NULL; it = it->next) {
		if (best == NULL || it->due_ms < best->due_ms)
			best = it;
	}
	return (best);
}

static void
outbox_unlink(struct outbox_item *target)
{
	struct outbox_item	**pp;

	for (pp = &outbox_head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == target) {
			*pp = target->next;
			target->next = NULL;
			return;
		}
	}
}

static void
outbox_wait_until(uint64_t due_ms)
{
	struct timespec	ts;
	uint64_t	now = util_mono_ms(), wait = due_ms - now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(wait / 1000);
	ts.tv_nsec += (long)(wait % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&outbox_cv, &outbox_mu, &ts);
}

/* After a failed attempt: try again later, or give up. outbox_mu held. */
static void
outbox_failed(struct outbox_item *it, long status, const char *cause)
{
	uint64_t	pause;

	if (it->left > 0 && outbox_retryable(status)) {
		pause = 500ULL << (it->tried < 5 ? it->tried - 1 : 4);
		it->due_ms = util_mono_ms() + pause;
		log_warn("notification failed; will retry",
		    LF_STR("target", it->target), LF_INT("attempt", it->tried),
		    LF_INT("status", status), LF_STR("error", cause),
		    LF_INT("retry_in_ms", pause), LF_END);
		it->next = outbox_head;
		outbox_head = it;
		return;
	}
	log_error("notification dropped", LF_STR("target", it->target),
	    LF_INT("attempts", it->tried), LF_INT("status", status),
	    LF_STR("error", cause), LF_END);
	metrics_notification(it->target, "failed");
	outbox_count--;
	outbox_item_free(it);
}

static void *
outbox_main(void *arg)
{
	struct outbox_item	*it;
	CURL			*c;
	char			*cause;
	long			 status;

	c = curl_easy_init();
	pthread_mutex_lock(&outbox_mu);
	for (;;) {
		if ((it = outbox_next()) == NULL) {
			if (outbox_stopping)
				break;
			pthread_cond_wait(&outbox_cv, &outbox_mu);
			continue;
		}
		if (outbox_stopping && util_mono_ms() >= outbox_deadline_ms)
			break;
		if (!outbox_stopping && it->due_ms > util_mono_ms()) {
			outbox_wait_until(it->due_ms);
			continue;
		}
		outbox_unlink(it);
		pthread_mutex_unlock(&outbox_mu);

		cause = NULL;
		it->tried++;
		it->left--;
		status = c == NULL ? -1 : outbox_perform(c, it->url,
		    (const char *const *)it->headers, it->body, it->len,
		    &cause);

		pthread_mutex_lock(&outbox_mu);
		if (status >= 200 && status < 300) {
			log_info("notification sent",
			    LF_STR("target", it->target),
			    LF_INT("attempts", it->tried),
			    LF_INT("status", status), LF_END);
			metrics_notification(it->target, "sent");
			outbox_count--;
			outbox_item_free(it);
		} else
			outbox_failed(it, status, cause);
		free(cause);
	}
	while ((it = outbox_head) != NULL) {
		outbox_head = it->next;
		log_warn("notification dropped at shutdown",
		    LF_STR("target", it->target), LF_END);
		metrics_notification(it->target, "dropped");
		outbox_count--;
		outbox_item_free(it);
	}
	pthread_mutex_unlock(&outbox_mu);
	if (c != NULL)
		curl_easy_cleanup(c);
	return (NULL);
}

static void
outbox_init_cv(void)
{
	pthread_condattr_t	attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&outbox_cv, &attr);
	pthread_condattr_destroy(&attr);
}

bool
outbox_post(const char *target, const char *url, const char *const *headers,
    const char *body, size_t len, int attempts)
{
	struct outbox_item	*it;
	size_t			 i, n = 0;

	pthread_once(&outbox_once, outbox_init_cv);
	pthread_mutex_lock(&outbox_mu);
	if (outbox_stopping || outbox_count >= OUTBOX_CAPACITY) {
		pthread_mutex_unlock(&outbox_mu);
		log_warn("notification dropped: queue full",
		    LF_STR("target", target), LF_END);
		metrics_notification(target, "dropped");
		return (false);
	}
	if (!outbox_started) {
		if (pthread_create(&outbox_tid, NULL, outbox_main, NULL) != 0) {
			pthread_mutex_unlock(&outbox_mu);
			log_error("cannot start the notification thread",
			    LF_END);
			metrics_notification(target, "dropped");
			return (false);
		}
		outbox_started = true;
	}
	it = xcalloc(1, sizeof *it);
	it->target = xstrdup(target);
	it->url = xstrdup(url);
	it->body = xmalloc(len + 1);
	memcpy(it->body, body, len);
	it->body[len] = '\0';
	it->len = len;
	while (headers != NULL && headers[n] != NULL)
		n++;
	it->headers = xcalloc(n + 1, sizeof *it->headers);
	for (i = 0; i < n; i++)
		it->headers[i] = xstrdup(headers[i]);
	it->left = attempts < 1 ? 1 : attempts;
	it->due_ms = util_mono_ms();
	it->next = outbox_head;
	outbox_head = it;
	outbox_count++;
	pthread_cond_signal(&outbox_cv);
	pthread_mutex_unlock(&outbox_mu);
	return (true);
}

void
outbox_shutdown(int ms)
{
	struct timespec	ts;

	pthread_once(&outbox_once, outbox_init_cv);
	pthread_mutex_lock(&outbox_mu);
	if (!outbox_started) {
		pthread_mutex_unlock(&outbox_mu);
		return;
	}
	outbox_stopping = true;
	outbox_deadline_ms = util_mono_ms() + (uint64_t)ms;
	pthread_cond_signal(&outbox_cv);
	pthread_mutex_unlock(&outbox_mu);

	/* An attempt in progress may take OUTBOX_TIMEOUT_MS more. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (ms + OUTBOX_TIMEOUT_MS) / 1000 + 1;
	if (pthread_timedjoin_np(outbox_tid, NULL, &ts) != 0) {
		log_warn("notification thread did not stop in time", LF_END);
		return;
	}
	pthread_mutex_lock(&outbox_mu);
	outbox_started = false;
	outbox_stopping = false;
	pthread_mutex_unlock(&outbox_mu);
}
