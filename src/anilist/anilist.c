/* anilist/anilist.c: AniList GraphQL calls behind the cache, single flight, governor, retries and breaker. */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>

#include "anilist.h"
#include "batch.h"
#include "breaker.h"
#include "cache.h"
#include "config.h"
#include "governor.h"
#include "log.h"
#include "metrics.h"
#include "queries.h"
#include "util.h"

/* Largest AniList answer we read. */
#define ANILIST_MAX_BODY	(8 * 1024 * 1024)
/* A call with less time than this left is not worth starting. */
#define ANILIST_MIN_CALL_MS	20
/*
 * A wait in the queue for AniList's budget leaves the call itself half of
 * UPSTREAM_TIMEOUT_MS, at most 2 s: a request that waited until its
 * deadline was nearly spent would time out on an ordinary answer (a 504)
 * where an honest "budget used up" (a 503 with Retry-After) was due.
 */
#define ANILIST_QUEUE_ROOM_MAX_MS	2000
/* Retry backoff: base doubled per attempt, capped, then jittered. */
#define ANILIST_BACKOFF_MS	100
#define ANILIST_BACKOFF_MAX_MS	2000
/* AniList counts as degraded this long after it last timed out. */
#define ANILIST_SLOW_TTL	60
/* A failed fetch tells concurrent identical requests for this long. */
#define ANILIST_ERROR_TTL	2
/* Retry-After we give when nothing better is known. */
#define ANILIST_RETRY_AFTER	5
/* Single-flight followers poll the leader's result this often (at most). */
#define ANILIST_POLL_MAX_MS	20
#define ANILIST_MSG_LEN		256

/* One HTTP exchange with AniList. */
struct anilist_http {
	long		status;		/* 0: no HTTP answer */
	CURLcode	cc;
	struct buf	body;
	bool		too_big;
	long		rl_limit;	/* X-RateLimit-Limit, -1 */
	long		rl_remaining;	/* X-RateLimit-Remaining, -1 */
	long		rl_reset;	/* X-RateLimit-Reset (unix s), -1 */
	int		retry_after;	/* seconds, 0 */
	long		ms;
};

/* One anilist_fetch call in progress. */
struct anilist_call {
	const char	*op;
	const char	*kind;
	uint64_t	 deadline;	/* monotonic ms */
	bool		 have_stale;	/* a stale copy can answer failures */
	bool		 mutation;	/* retried only if it never left */
	uint64_t	 queued_ms;	/* waited for the budget so far */
	bool		 optional;	/* goes after interactive calls */
	bool		 background;	/* nobody waits on it: it may queue */
	bool		 budget_taken;	/* the governor said go already */
	enum anilist_class cls;		/* of the last upstream answer */
};

static pthread_key_t		 anilist_tls;
static pthread_once_t		 anilist_once = PTHREAD_ONCE_INIT;
static struct breaker		*anilist_breaker;
static struct anilist_stats	 anilist_counters;
static struct {
	pthread_mutex_t	lock;
	char		message[ANILIST_MSG_LEN];
	int		status;
	uint64_t	at;		/* wall ms, 0 never */
} anilist_last = { .lock = PTHREAD_MUTEX_INITIALIZER };

#define anilist_count(field) \
	__atomic_fetch_add(&anilist_counters.field, 1, __ATOMIC_RELAXED)
#define anilist_count_n(field, n) \
	__atomic_fetch_add(&anilist_counters.field, (n), __ATOMIC_RELAXED)

/* What a wait in the queue must leave of the deadline (see above). */
static int
anilist_queue_room_ms(void)
{
	int	room = cfg->upstream_timeout_ms / 2;

	if (room > ANILIST_QUEUE_ROOM_MAX_MS)
		room = ANILIST_QUEUE_ROOM_MAX_MS;
	return (room > ANILIST_MIN_CALL_MS ? room : ANILIST_MIN_CALL_MS);
}

/*
 * The bulkhead: threads of this process that wait on AniList (calling it,
 * queued for its budget, or following another thread's identical call).
 * At most anilist_engage_limit() at once, so that the reserve
 * (UPSTREAM_RESERVE_THREADS) always stays free for answers that need no
 * AniList: cached answers, /health, everything else.
 */
static int	anilist_engaged;

/* The threads of a worker that may wait on AniList: THREADS less the reserve. */
int
anilist_engage_limit(void)
{
	int	reserve = cfg->upstream_reserve_threads;

	if (reserve < 0)
		reserve = cfg->threads / 4 > 2 ? cfg->threads / 4 : 2;
	return (cfg->threads - reserve > 1 ? cfg->threads - reserve : 1);
}

/* Take a place among the threads waiting on AniList, if one is left. */
static bool
anilist_engage(void)
{
	if (__atomic_add_fetch(&anilist_engaged, 1, __ATOMIC_ACQ_REL) <=
	    anilist_engage_limit())
		return (true);
	__atomic_sub_fetch(&anilist_engaged, 1, __ATOMIC_ACQ_REL);
	anilist_count(bulkhead_rejects);
	metrics_upstream("bulkhead", -1);
	return (false);
}

static void
anilist_disengage(void)
{
	__atomic_sub_fetch(&anilist_engaged, 1, __ATOMIC_ACQ_REL);
}

static void
anilist_tls_free(void *p)
{
	curl_easy_cleanup(p);
}

/* The breaker's state as the gauge numbers it (METRICS_BREAKER_*). */
static void
anilist_breaker_changed(enum breaker_state s)
{
	metrics_upstream_breaker(s == BREAKER_OPEN ? METRICS_BREAKER_OPEN :
	    s == BREAKER_HALF_OPEN ? METRICS_BREAKER_HALF_OPEN :
	    METRICS_BREAKER_CLOSED);
}

static void
anilist_init(void)
{
	if (pthread_key_create(&anilist_tls, anilist_tls_free) != 0)
		abort();
	anilist_breaker = breaker_create(cfg->upstream_breaker_threshold,
	    cfg->upstream_breaker_cooldown * 1000);
	breaker_on_change(anilist_breaker, anilist_breaker_changed);
}

void
anilist_thread_cleanup(void)
{
	CURL	*h;

	pthread_once(&anilist_once, anilist_init);
	if ((h = pthread_getspecific(anilist_tls)) != NULL) {
		pthread_setspecific(anilist_tls, NULL);
		curl_easy_cleanup(h);
	}
}

static size_t
anilist_write(char *p, size_t size, size_t n, void *arg)
{
	struct anilist_http	*h = arg;

	if (h->body.len + size * n > ANILIST_MAX_BODY) {
		h->too_big = true;
		return (0);
	}
	buf_append(&h->body, p, size * n);
	return (size * n);
}

static long
anilist_header_long(const char *v, size_t len)
{
	char		 num[24];
	long long	 n;

	while (len > 0 && isspace((unsigned char)*v)) {
		v++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)v[len - 1]))
		len--;
	if (len == 0 || len >= sizeof num)
		return (-1);
	memcpy(num, v, len);
	num[len] = '\0';
	if (!util_parse_ll(num, &n) || n < 0 || n > 1000000000000LL)
		return (-1);
	return ((long)n);
}

/* Rate-limit headers; a new status line (a redirect, 100) starts over. */
static size_t
anilist_header(char *p, size_t size, size_t n, void *arg)
{
	struct anilist_http	*h = arg;
	size_t			 len = size * n, nlen;
	const char		*colon;
	long			 v;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		h->rl_limit = h->rl_remaining = h->rl_reset = -1;
		h->retry_after = 0;
		return (len);
	}
	if ((colon = memchr(p, ':', len)) == NULL)
		return (len);
	nlen = (size_t)(colon - p);
	v = anilist_header_long(colon + 1, len - nlen - 1);
#define IS(name) (nlen == sizeof name - 1 && strncasecmp(p, name, nlen) == 0)
	if (IS("X-RateLimit-Limit"))
		h->rl_limit = v;
	else if (IS("X-RateLimit-Remaining"))
		h->rl_remaining = v;
	else if (IS("X-RateLimit-Reset"))
		h->rl_reset = v;
	else if (IS("Retry-After") && v >= 0)
		h->retry_after = v > 86400 ? 86400 : (int)v;
#undef IS
	return (len);
}

/* This thread's easy handle: one keep-alive connection to AniList. */
static CURL *
anilist_handle(void)
{
	CURL	*h;

	pthread_once(&anilist_once, anilist_init);
	if ((h = pthread_getspecific(anilist_tls)) != NULL)
		return (h);
	if ((h = curl_easy_init()) == NULL)
		abort();
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, PACKAGE "/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, anilist_write);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, anilist_header);
	if (pthread_setspecific(anilist_tls, h) != 0)
		abort();
	return (h);
}

/* POST the request body; the token goes only into the header list. */
static void
anilist_perform(const char *body, size_t len, const char *token,
    long timeout_ms, struct anilist_http *out)
{
	CURL			*h = anilist_handle();
	struct curl_slist	*hdrs = NULL;
	char			*auth = NULL;
	uint64_t		 t0;

	buf_init(&out->body);
	out->status = 0;
	out->too_big = false;
	out->rl_limit = out->rl_remaining = out->rl_reset = -1;
	out->retry_after = 0;

	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (token != NULL) {
		xasprintf(&auth, "Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, auth);
		OPENSSL_cleanse(auth, strlen(auth));
		free(auth);
	}
	if (hdrs == NULL)
		abort();
	curl_easy_setopt(h, CURLOPT_URL, cfg->anilist_api_url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    timeout_ms < cfg->upstream_connect_timeout_ms ? timeout_ms :
	    (long)cfg->upstream_connect_timeout_ms);

	t0 = util_mono_ms();
	out->cc = curl_easy_perform(h);
	out->ms = (long)(util_mono_ms() - t0);
	if (out->cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	/* The list holds the token: do not leave it reachable from the handle. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
}

/*
 * s into msg (len bytes, the NUL included) for a person, and so for our
 * clients' JSON: cut on a character boundary, and a byte that is not
 * UTF-8 (AniList's text is not checked) becomes '?'.
 */
static void
anilist_copy_message(char *msg, size_t len, const char *s)
{
	size_t	i = 0, o = 0, n;

	if (len == 0)
		return;
	if (s == NULL)
		s = "";
	while (s[i] != '\0') {
		if ((n = util_utf8_char(s + i, strnlen(s + i, 4))) == 0) {
			if (o + 1 >= len)
				break;
			msg[o++] = '?';
			i++;
			continue;
		}
		if (o + n >= len)
			break;
		memcpy(msg + o, s + i, n);
		o += n;
		i += n;
	}
	msg[o] = '\0';
}

/* The first errors[] entry: its "status" and "message". */
static struct json_object *
anilist_first_error(struct json_object *body, int *status)
{
	struct json_object	*errors, *e, *st;

	*status = 0;
	if (body == NULL || !json_object_is_type(body, json_type_object) ||
	    !json_object_object_get_ex(body, "errors", &errors) ||
	    !json_object_is_type(errors, json_type_array) ||
	    json_object_array_length(errors) == 0)
		return (NULL);
	e = json_object_array_get_idx(errors, 0);
	if (!json_object_is_type(e, json_type_object))
		return (NULL);
	if (json_object_object_get_ex(e, "status", &st) &&
	    json_object_is_type(st, json_type_int))
		*status = json_object_get_int(st);
	return (e);
}

/* AniList puts field errors in errors[].validation. */
static struct json_object *
anilist_find_validation(struct json_object *body)
{
	struct json_object	*errors, *e, *v;
	size_t			 i, n;

	if (body == NULL || !json_object_object_get_ex(body, "errors",
	    &errors) || !json_object_is_type(errors, json_type_array))
		return (NULL);
	n = json_object_array_length(errors);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(errors, i);
		if (json_object_is_type(e, json_type_object) &&
		    json_object_object_get_ex(e, "validation", &v) &&
		    json_object_is_type(v, json_type_object))
			return (v);
	}
	return (NULL);
}

/* Every top-level field of data is null: a lookup that found nothing. */
static bool
anilist_all_null(struct json_object *data)
{
	struct json_object_iterator	it, end;
	int				n = 0;

	it = json_object_iter_begin(data);
	end = json_object_iter_end(data);
	for (; !json_object_iter_equal(&it, &end);
	    json_object_iter_next(&it)) {
		if (json_object_iter_peek_value(&it) != NULL)
			return (false);
		n++;
	}
	return (n > 0);
}

static enum anilist_class
anilist_by_status(long status, int *out)
{
	if (status == 400) {
		*out = 400;
		return (ANILIST_INVALID);
	}
	if (status == 401) {
		*out = 401;
		return (ANILIST_UNAUTHORIZED);
	}
	if (status == 403) {
		*out = 403;
		return (ANILIST_FORBIDDEN);
	}
	if (status == 404) {
		*out = 404;
		return (ANILIST_NOT_FOUND);
	}
	if (status == 429) {
		*out = 503;
		return (ANILIST_RATE_LIMITED);
	}
	if (status == 408 || (status >= 500 && status <= 599)) {
		*out = 503;
		return (ANILIST_RETRY);
	}
	*out = 502;
	return (ANILIST_BAD_ANSWER);
}

enum anilist_class
anilist_classify(long http, struct json_object *body, int *status,
    char *msg, size_t msglen, struct json_object **validation)
{
	struct json_object	*e, *m, *data;
	enum anilist_class	 cls;
	int			 estatus;
	char			 why[128];

	*validation = NULL;
	*status = 502;
	e = anilist_first_error(body, &estatus);
	if (e != NULL && json_object_object_get_ex(e, "message", &m) &&
	    json_object_is_type(m, json_type_string))
		anilist_copy_message(msg, msglen, json_object_get_string(m));
	else
		anilist_copy_message(msg, msglen, NULL);

	if (http == 200 && e == NULL) {
		if (body == NULL || !json_object_is_type(body, json_type_object) ||
		    !json_object_object_get_ex(body, "data", &data) ||
		    !json_object_is_type(data, json_type_object)) {
			anilist_copy_message(msg, msglen,
			    "AniList answered without data");
			return (ANILIST_BAD_ANSWER);
		}
		if (anilist_all_null(data)) {
			*status = 404;
			anilist_copy_message(msg, msglen, "not found on AniList");
			return (ANILIST_NOT_FOUND);
		}
		*status = 200;
		return (ANILIST_OK);
	}
	/* errors[] on a 200 is an error: its own status says which. */
	if (http == 200)
		cls = estatus != 0 && estatus != 200 ?
		    anilist_by_status(estatus, status) : ANILIST_BAD_ANSWER;
	else
		cls = anilist_by_status(http, status);
	if (cls == ANILIST_INVALID)
		*validation = anilist_find_validation(body);
	if (*msg == '\0') {
		snprintf(why, sizeof why, "AniList answered HTTP %ld%s", http,
		    body == NULL ? " without JSON" : "");
		anilist_copy_message(msg, msglen, why);
	}
	if (cls == ANILIST_BAD_ANSWER)
		*status = 502;
	return (cls);
}

const char *
anilist_class_name(enum anilist_class cls)
{
	static const char *const names[] = {
		"ok", "not_found", "invalid", "unauthorized", "forbidden",
		"rate_limited", "retry", "bad_answer"
	};

	if ((size_t)cls < nitems(names))
		return (names[cls]);
	return ("unknown");
}

static struct json_object *
anilist_parse(const char *s, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*o;

	if (len == 0 || len > INT32_MAX)
		return (NULL);
	if ((tok = json_tokener_new_ex(64)) == NULL)
		abort();
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (o != NULL && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return (o);
}

/*
 * AniList timing out, for /health: a record in memcached ("up:slow") read
 * by every worker sharing it, kept ANILIST_SLOW_TTL seconds after the last
 * timeout and dropped by the next answer; this worker's own copy when
 * memcached is off.
 */
static struct {
	pthread_mutex_t	lock;
	int		count;
	uint64_t	since;		/* wall ms of the first timeout */
	uint64_t	last_at;	/* wall ms of the last, 0 none */
	char		message[ANILIST_MSG_LEN];
} anilist_slow = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The shared record as JSON (caller puts), or NULL when AniList answers. */
static struct json_object *
anilist_slow_load(struct cache *c)
{
	struct json_object	*o = NULL;
	char			 key[CACHE_KEY_LEN], *val;
	size_t			 len;
	uint64_t		 now = util_wall_ms();

	if (c != NULL) {
		cache_key(key, "up", "slow");
		if (cache_get(c, key, &val, &len) == CACHE_OK) {
			o = anilist_parse(val, len);
			free(val);
		}
		return (o);
	}
	pthread_mutex_lock(&anilist_slow.lock);
	if (anilist_slow.last_at != 0 &&
	    now - anilist_slow.last_at < ANILIST_SLOW_TTL * 1000) {
		o = json_object_new_object();
		json_object_object_add(o, "count",
		    json_object_new_int(anilist_slow.count));
		json_object_object_add(o, "since",
		    json_object_new_int64((int64_t)anilist_slow.since));
		json_object_object_add(o, "last_at",
		    json_object_new_int64((int64_t)anilist_slow.last_at));
		json_object_object_add(o, "message",
		    json_object_new_string(anilist_slow.message));
	}
	pthread_mutex_unlock(&anilist_slow.lock);
	return (o);
}

/* One more AniList timeout (message says which). */
static void
anilist_note_timeout(const char *message)
{
	struct cache		*c = cache_thread();
	struct json_object	*o, *v;
	const char		*s;
	char			 key[CACHE_KEY_LEN];
	uint64_t		 now = util_wall_ms(), since = now;
	int			 count = 1;

	pthread_mutex_lock(&anilist_slow.lock);
	if (anilist_slow.last_at == 0 ||
	    now - anilist_slow.last_at >= ANILIST_SLOW_TTL * 1000) {
		anilist_slow.count = 0;
		anilist_slow.since = now;
	}
	anilist_slow.count++;
	anilist_slow.last_at = now;
	anilist_copy_message(anilist_slow.message, sizeof anilist_slow.message,
	    message);
	pthread_mutex_unlock(&anilist_slow.lock);
	if (c == NULL)
		return;
	if ((o = anilist_slow_load(c)) != NULL) {
		if (json_object_object_get_ex(o, "count", &v))
			count += json_object_get_int(v);
		if (json_object_object_get_ex(o, "since", &v))
			since = (uint64_t)json_object_get_int64(v);
		json_object_put(o);
	}
	o = json_object_new_object();
	json_object_object_add(o, "count", json_object_new_int(count));
	json_object_object_add(o, "since", json_object_new_int64((int64_t)since));
	json_object_object_add(o, "last_at",
	    json_object_new_int64((int64_t)now));
	json_object_object_add(o, "message", json_object_new_string(message));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	cache_key(key, "up", "slow");
	cache_set(c, key, s, strlen(s), ANILIST_SLOW_TTL);
	json_object_put(o);
}

/* AniList answered: it is not timing out (any more). */
static void
anilist_note_answer(void)
{
	struct cache	*c;
	char		 key[CACHE_KEY_LEN];

	pthread_mutex_lock(&anilist_slow.lock);
	anilist_slow.last_at = 0;
	pthread_mutex_unlock(&anilist_slow.lock);
	if ((c = cache_thread()) == NULL)
		return;
	cache_key(key, "up", "slow");
	(void)cache_delete(c, key);
}

static void
anilist_remember_error(int status, const char *message)
{
	struct cache		*c;
	struct json_object	*o;
	const char		*s;
	char			 key[CACHE_KEY_LEN];
	uint64_t		 now = util_wall_ms();

	pthread_mutex_lock(&anilist_last.lock);
	anilist_copy_message(anilist_last.message, sizeof anilist_last.message,
	    message);
	anilist_last.status = status;
	anilist_last.at = now;
	pthread_mutex_unlock(&anilist_last.lock);

	if ((c = cache_thread()) == NULL)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "message", json_object_new_string(message));
	json_object_object_add(o, "at", json_object_new_int64((int64_t)now));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	cache_key(key, "up", "last-error");
	cache_set(c, key, s, strlen(s), 86400);
	json_object_put(o);
}


static void
anilist_sleep_ms(uint64_t ms)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
anilist_seconds(uint64_t ms)
{
	uint64_t	s = (ms + 999) / 1000;

	return (s < 1 ? 1 : s > 86400 ? 86400 : (int)s);
}

static void
anilist_fail(struct anilist_reply *out, int status, int retry_after,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
anilist_fail(struct anilist_reply *out, int status, int retry_after,
    const char *fmt, ...)
{
	va_list	ap;

	out->status = status;
	out->retry_after = retry_after;
	free(out->message);
	va_start(ap, fmt);
	if (vasprintf(&out->message, fmt, ap) == -1)
		abort();
	va_end(ap);
}

/* Is the failure one a stale copy may answer (not a definite "no")? */
static bool
anilist_stale_serves(const struct anilist_reply *r)
{
	return (r->status == 403 || r->status == 502 || r->status == 503 ||
	    r->status == 504);
}

static bool
anilist_retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return (true);
	default:
		return (false);
	}
}

/* Backoff before retry n (1, 2 …): doubled, capped, jittered ×0.5–1.5. */
static uint64_t
anilist_backoff(int n)
{
	uint64_t	base = ANILIST_BACKOFF_MS;
	uint32_t	r = 0;

	while (--n > 0 && base < ANILIST_BACKOFF_MAX_MS)
		base *= 2;
	if (base > ANILIST_BACKOFF_MAX_MS)
		base = ANILIST_BACKOFF_MAX_MS;
	if (!util_random_bytes(&r, sizeof r))
		r = (uint32_t)util_mono_us();
	return (base / 2 + (uint64_t)r % (base + 1));
}

/*
 * Take one HTTP answer: fill out (status, data, validation, message) and
 * say whether another attempt is worth it.
 */
static bool
anilist_take(struct anilist_call *call, struct anilist_http *h,
    struct anilist_reply *out)
{
	struct json_object	*body, *data, *validation;
	char			 msg[ANILIST_MSG_LEN];
	int			 status;
	bool			 retry = false;

	if (h->cc != CURLE_OK) {
		call->cls = anilist_retryable_curl(h->cc) ? ANILIST_RETRY :
		    ANILIST_BAD_ANSWER;
		if (h->too_big)
			anilist_fail(out, 502, 0, "AniList answer larger than "
			    "%d bytes", ANILIST_MAX_BODY);
		else if (h->cc == CURLE_OPERATION_TIMEDOUT &&
		    util_mono_ms() >= call->deadline)
			anilist_fail(out, 504, ANILIST_RETRY_AFTER,
			    "AniList did not answer within %d ms",
			    cfg->upstream_timeout_ms);
		else
			anilist_fail(out, call->cls == ANILIST_RETRY ? 503 : 502,
			    ANILIST_RETRY_AFTER, "AniList unreachable: %s",
			    curl_easy_strerror(h->cc));
		if (call->mutation)
			return (h->cc == CURLE_COULDNT_CONNECT ||
			    h->cc == CURLE_COULDNT_RESOLVE_HOST);
		return (call->cls == ANILIST_RETRY);
	}
	body = anilist_parse(h->body.data, h->body.len);
	call->cls = anilist_classify(h->status, body, &status, msg, sizeof msg,
	    &validation);
	switch (call->cls) {
	case ANILIST_OK:
		json_object_object_get_ex(body, "data", &data);
		out->status = 200;
		out->data = json_object_get(data);
		break;
	case ANILIST_INVALID:
		anilist_fail(out, 400, 0, "%s", msg);
		out->validation = json_object_get(validation);
		break;
	case ANILIST_RATE_LIMITED:
		anilist_fail(out, 503, h->retry_after > 0 ? h->retry_after : 60,
		    "AniList rate limit reached: %s", msg);
		break;
	case ANILIST_RETRY:
		anilist_fail(out, 503, ANILIST_RETRY_AFTER, "AniList failed: %s",
		    msg);
		retry = !call->mutation;
		break;
	case ANILIST_FORBIDDEN:
		anilist_fail(out, 403, 60, "%s", msg);
		break;
	default:
		anilist_fail(out, status, 0, "%s", msg);
		break;
	}
	json_object_put(body);
	return (retry);
}

/*
 * The result anilist_requests_total counts one exchange under: ok (data,
 * or a lookup that found nothing), ratelimited (429), timeout, network,
 * graphql_error (a 200 with errors[] or without data), server_error (5xx,
 * 408, an answer too large), client_error (other 4xx).
 */
static const char *
anilist_result_word(const struct anilist_http *h, enum anilist_class cls)
{
	if (h->cc == CURLE_OPERATION_TIMEDOUT)
		return ("timeout");
	if (h->cc != CURLE_OK)
		return (h->too_big ? "server_error" : "network");
	if (h->status == 429 || cls == ANILIST_RATE_LIMITED)
		return ("ratelimited");
	if (cls == ANILIST_OK || cls == ANILIST_NOT_FOUND)
		return ("ok");
	if (h->status == 200)
		return ("graphql_error");
	if (h->status >= 500 || h->status == 408)
		return ("server_error");
	return ("client_error");
}

/* AniList's own 429 pause, from Retry-After or X-RateLimit-Reset. */
static int
anilist_pause_seconds(const struct anilist_http *h)
{
	long	now_s;

	if (h->retry_after > 0)
		return (h->retry_after);
	now_s = (long)(util_wall_ms() / 1000);
	if (h->rl_reset > now_s)
		return ((int)(h->rl_reset - now_s));
	return (0);
}

/*
 * How one HTTP answer is taken into out (and, for a batch, into its
 * parts): true when another attempt is worth it.
 */
typedef bool (*anilist_take_fn)(struct anilist_call *call,
    struct anilist_http *h, struct anilist_reply *out, void *arg);

static void anilist_exchange(struct anilist_call *call, struct buf *req,
    const char *token, struct anilist_reply *out, anilist_take_fn take,
    void *arg);

/*
 * Ask AniList one operation, within the call's deadline: governor,
 * breaker, then the request, retried with jittered backoff on 5xx,
 * timeouts and dropped connections. Fills out.
 */
static void
anilist_upstream(struct anilist_call *call, const char *document,
    struct json_object *vars, const char *token, struct anilist_reply *out)
{
	struct buf	req;

	buf_init(&req);
	buf_puts(&req, "{\"query\":");
	buf_json_string(&req, document);
	buf_puts(&req, ",\"operationName\":");
	buf_json_string(&req, call->op);
	buf_puts(&req, ",\"variables\":");
	/*
	 * vars is borrowed and may be shared with other threads: json-c's
	 * own serializer writes into the object (its print buffer), so the
	 * text comes from a reader that only reads.
	 */
	if (vars != NULL)
		cache_canonical_json(vars, &req);
	else
		buf_puts(&req, "{}");
	buf_putc(&req, '}');
	anilist_exchange(call, &req, token, out, NULL, NULL);
	buf_free(&req);
}

/* The request body req, to AniList, as anilist_upstream says. */
static void
anilist_exchange(struct anilist_call *call, struct buf *req,
    const char *token, struct anilist_reply *out, anilist_take_fn take,
    void *arg)
{
	struct anilist_http	 h;
	enum governor_verdict	 v;
	uint64_t		 now, wait, delay;
	int64_t			 left;
	int			 retry_in, retries = 0;
	bool			 again;

	for (;;) {
		now = util_mono_ms();
		left = (int64_t)call->deadline - (int64_t)now;
		if (left < ANILIST_MIN_CALL_MS) {
			if (out->status == 0)
				anilist_fail(out, 504, ANILIST_RETRY_AFTER,
				    "no time left to ask AniList");
			break;
		}
		if (call->budget_taken) {
			/* taken while a batch gathered (anilist_group_ask) */
			call->budget_taken = false;
			v = GOVERNOR_GO;
		} else
			v = governor_acquire(util_wall_ms(), call->optional,
			    &wait);
		if (v == GOVERNOR_BLOCKED) {
			anilist_count(governor_rejects);
			metrics_upstream("budget", -1);
			anilist_fail(out, 503, anilist_seconds(wait),
			    "AniList asked us to pause; retry in %d s",
			    anilist_seconds(wait));
			break;
		}
		if (v == GOVERNOR_WAIT || v == GOVERNOR_RESERVED) {
			/*
			 * The queue: a bounded wait for the budget; a refresh
			 * may wait for its pace, never for the reserve.
			 */
			if (v == GOVERNOR_WAIT && (call->background ||
			    (!call->have_stale && !call->optional)) &&
			    (int64_t)wait + anilist_queue_room_ms() < left &&
			    call->queued_ms + wait <= (uint64_t)cfg->upstream_queue_ms) {
				anilist_sleep_ms(wait);
				call->queued_ms += wait;
				out->queued_ms += (long)wait;
				continue;
			}
			anilist_count(governor_rejects);
			metrics_upstream("budget", -1);
			anilist_fail(out, 503, anilist_seconds(wait),
			    "AniList request budget used up; retry in %d s",
			    anilist_seconds(wait));
			break;
		}
		if (!breaker_allow(anilist_breaker, util_mono_ms(), &retry_in)) {
			anilist_count(breaker_rejects);
			metrics_upstream("breaker_open", -1);
			anilist_fail(out, 503, anilist_seconds((uint64_t)retry_in),
			    "AniList is failing; not asking it for %d s",
			    anilist_seconds((uint64_t)retry_in));
			break;
		}

		anilist_perform(req->data, req->len, token, (long)left, &h);
		out->upstream_calls++;
		out->upstream_ms = (out->upstream_ms < 0 ? 0 : out->upstream_ms) +
		    h.ms;
		anilist_count(upstream_requests);
		anilist_count_n(upstream_ms, (uint64_t)h.ms);
		governor_report(util_wall_ms(), h.rl_limit, h.rl_remaining,
		    (int)h.status, h.status == 429 ? anilist_pause_seconds(&h) :
		    0);
		if (h.status == 429)
			anilist_count(rate_limited);

		free(out->message);
		out->message = NULL;
		json_object_put(out->validation);
		out->validation = NULL;
		again = take != NULL ? take(call, &h, out, arg) :
		    anilist_take(call, &h, out);
		buf_free(&h.body);
		if (h.cc == CURLE_OPERATION_TIMEDOUT)
			anilist_note_timeout(out->message);
		else if (h.cc == CURLE_OK)
			anilist_note_answer();
		metrics_upstream(anilist_result_word(&h, call->cls),
		    (double)h.ms / 1000.0);

		if (call->cls == ANILIST_RETRY)
			breaker_failure(anilist_breaker, util_mono_ms());
		else
			breaker_success(anilist_breaker, util_mono_ms());
		if (call->cls == ANILIST_OK || call->cls == ANILIST_NOT_FOUND)
			break;
		anilist_count(upstream_failures);
		log_warn("anilist call failed", LF_STR("op", call->op),
		    LF_STR("kind", call->kind),
		    LF_STR("class", anilist_class_name(call->cls)),
		    LF_INT("http_status", h.status), LF_INT("status", out->status),
		    LF_INT("attempt", retries + 1), LF_INT("ms", h.ms),
		    LF_STR("error", out->message), LF_END);
		if (call->cls != ANILIST_INVALID &&
		    call->cls != ANILIST_UNAUTHORIZED)
			anilist_remember_error(h.status != 0 ? (int)h.status :
			    out->status, out->message);
		/* With a stale copy to answer, a failure is not worth waiting on. */
		if (!again || call->have_stale ||
		    retries >= cfg->upstream_retries)
			break;
		delay = anilist_backoff(++retries);
		now = util_mono_ms();
		if (now + delay + ANILIST_MIN_CALL_MS >= call->deadline)
			break;
		anilist_count(upstream_retries);
		anilist_sleep_ms(delay);
	}
}

/*
 * A cache entry: "<fetched_at ms> <ttl s>\n<data JSON>" (entries written
 * before TTLs followed the data have no " <ttl>"). Takes the data and its
 * time, and the entry's own TTL into *ttl when it has one; false when the
 * text is not an entry.
 */
static bool
anilist_entry_parse(const char *val, size_t len, struct json_object **data,
    uint64_t *fetched_at, int *ttl)
{
	const char	*nl = memchr(val, '\n', len);
	char		 num[48], *sp;
	long long	 n, t;

	*data = NULL;
	if (nl == NULL || nl == val || (size_t)(nl - val) >= sizeof num)
		return (false);
	memcpy(num, val, (size_t)(nl - val));
	num[nl - val] = '\0';
	if ((sp = strchr(num, ' ')) != NULL) {
		*sp++ = '\0';
		if (!util_parse_ll(sp, &t) || t < 1 || t > CACHE_MAX_TTL)
			return (false);
		*ttl = (int)t;
	}
	if (!util_parse_ll(num, &n) || n < 0)
		return (false);
	*fetched_at = (uint64_t)n;
	nl++;
	*data = anilist_parse(nl, len - (size_t)(nl - val));
	if (*data == NULL || !json_object_is_type(*data, json_type_object)) {
		json_object_put(*data);
		*data = NULL;
		return (false);
	}
	return (true);
}

/*
 * How long data stays fresh, from what it is: a title still airing (or not
 * yet aired) changes more often than a finished one, so its details live
 * at most CACHE_TTL_RELEASING and never past its next episode. Anything
 * else keeps ttl, its kind's TTL.
 */
int
anilist_ttl_of(struct json_object *data, int ttl)
{
	struct json_object	*media, *v, *next;
	const char		*status;
	int64_t			 at, now_s = (int64_t)(util_wall_ms() / 1000);

	if (data == NULL || !json_object_object_get_ex(data, "Media", &media) ||
	    !json_object_is_type(media, json_type_object) ||
	    !json_object_object_get_ex(media, "status", &v) ||
	    !json_object_is_type(v, json_type_string))
		return (ttl);
	status = json_object_get_string(v);
	if (strcmp(status, "RELEASING") != 0 &&
	    strcmp(status, "NOT_YET_RELEASED") != 0 &&
	    strcmp(status, "HIATUS") != 0)
		return (ttl);
	if (ttl > cfg->cache_ttl_releasing)
		ttl = cfg->cache_ttl_releasing;
	if (json_object_object_get_ex(media, "nextAiringEpisode", &next) &&
	    json_object_is_type(next, json_type_object) &&
	    json_object_object_get_ex(next, "airingAt", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    (at = json_object_get_int64(v)) > now_s && at - now_s < ttl)
		ttl = (int)(at - now_s);
	return (ttl < 1 ? 1 : ttl);
}

static void
anilist_entry_store(struct cache *c, const char *key,
    struct json_object *data, uint64_t fetched_at, int ttl)
{
	struct buf	b;
	long		life = (long)ttl + cfg->cache_stale_ttl;

	buf_init(&b);
	buf_printf(&b, "%llu %d\n", (unsigned long long)fetched_at, ttl);
	buf_puts(&b, json_object_to_json_string_ext(data,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	cache_set(c, key, b.data, b.len,
	    life > CACHE_MAX_TTL ? CACHE_MAX_TTL : (int)life);
	buf_free(&b);
}

/*
 * A failed fetch is left under the lock key for ANILIST_ERROR_TTL so the
 * requests that waited on it get the same answer without asking again.
 */
static void
anilist_error_store(struct cache *c, const char *key,
    const struct anilist_reply *r)
{
	struct json_object	*o = json_object_new_object();
	const char		*s;

	json_object_object_add(o, "status", json_object_new_int(r->status));
	json_object_object_add(o, "retry_after",
	    json_object_new_int(r->retry_after));
	json_object_object_add(o, "message",
	    json_object_new_string(r->message != NULL ? r->message : ""));
	if (r->validation != NULL)
		json_object_object_add(o, "validation",
		    json_object_get(r->validation));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	cache_set(c, key, s, strlen(s), ANILIST_ERROR_TTL);
	json_object_put(o);
}

/* The leader's failure, read back by a follower. False if not one. */
static bool
anilist_error_load(const char *val, size_t len, struct anilist_reply *out)
{
	struct json_object	*o, *st, *ra, *m, *v;

	if (len == 0 || val[0] != '{' || (o = anilist_parse(val, len)) == NULL)
		return (false);
	if (!json_object_object_get_ex(o, "status", &st) ||
	    json_object_get_int(st) < 400) {
		json_object_put(o);
		return (false);
	}
	out->status = json_object_get_int(st);
	if (json_object_object_get_ex(o, "retry_after", &ra))
		out->retry_after = json_object_get_int(ra);
	free(out->message);
	out->message = xstrdup(json_object_object_get_ex(o, "message", &m) ?
	    json_object_get_string(m) : "");
	if (json_object_object_get_ex(o, "validation", &v))
		out->validation = json_object_get(v);
	json_object_put(o);
	return (true);
}

static bool
anilist_fresh(uint64_t fetched_at, int ttl)
{
	uint64_t	now = util_wall_ms();

	return (fetched_at > now || now - fetched_at < (uint64_t)ttl * 1000);
}

static void
anilist_serve_stale(struct anilist_reply *out, struct json_object **stale,
    uint64_t stale_at)
{
	json_object_put(out->validation);
	out->validation = NULL;
	json_object_put(out->data);
	out->data = *stale;
	*stale = NULL;
	out->status = 200;
	out->retry_after = 0;
	out->fetched_at = stale_at;
	out->cache = "stale";
}

/*
 * Where one call's answer lives in memcached: its entry, and the
 * single-flight lock whoever asks AniList for it holds.
 */
struct anilist_slot {
	struct cache	*cache;
	const char	*entry_key;
	const char	*lock_key;
	int		 ttl;		/* seconds the entry is fresh */
	int		 lock_ttl;	/* seconds an abandoned lock lives */
};

/* Results of a follower's wait for the single-flight leader. */
enum anilist_wait {
	ANILIST_WAIT_DONE,	/* out is filled (value, stale or error) */
	ANILIST_WAIT_LEAD,	/* the lock is free: try to take it */
	ANILIST_WAIT_ALONE	/* the cache failed: go without it */
};

/*
 * One look at the entry and the lock: DONE with out filled, LEAD when the
 * lock is gone, or -1 to keep waiting.
 */
static int
anilist_look(const char *entry, const char *lock, int ttl,
    struct json_object **stale, uint64_t *stale_at, struct anilist_reply *out)
{
	struct json_object	*data;
	uint64_t		 at;

	if (entry != NULL && anilist_entry_parse(entry, strlen(entry), &data,
	    &at, &ttl)) {
		if (anilist_fresh(at, ttl)) {
			out->status = 200;
			out->data = data;
			out->fetched_at = at;
			out->ttl = ttl;
			out->cache = "hit";
			anilist_count(singleflight_shared);
			return (ANILIST_WAIT_DONE);
		}
		if (*stale == NULL) {
			*stale = data;
			*stale_at = at;
		} else
			json_object_put(data);
	}
	if (lock == NULL)
		return (ANILIST_WAIT_LEAD);
	if (anilist_error_load(lock, strlen(lock), out)) {
		if (*stale != NULL && anilist_stale_serves(out))
			anilist_serve_stale(out, stale, *stale_at);
		return (ANILIST_WAIT_DONE);
	}
	if (*stale != NULL) {
		/* Someone else is fetching: the stale copy answers now. */
		anilist_serve_stale(out, stale, *stale_at);
		return (ANILIST_WAIT_DONE);
	}
	return (-1);
}

/*
 * Wait for the leader's result, polling the entry and the lock of slot
 * (borrowed); a stale copy seen on the way is kept in *stale.
 */
static enum anilist_wait
anilist_follow(struct anilist_call *call, const struct anilist_slot *slot,
    struct json_object **stale, uint64_t *stale_at, struct anilist_reply *out)
{
	const char	*keys[2] = { slot->entry_key, slot->lock_key };
	char		*vals[2];
	uint64_t	 poll = 2;
	int		 r;

	anilist_count(singleflight_waits);
	for (;;) {
		if (cache_mget(slot->cache, keys, 2, vals) != CACHE_OK)
			return (ANILIST_WAIT_ALONE);
		r = anilist_look(vals[0], vals[1], slot->ttl, stale, stale_at,
		    out);
		free(vals[0]);
		free(vals[1]);
		if (r >= 0)
			return ((enum anilist_wait)r);
		if (util_mono_ms() + poll >= call->deadline) {
			anilist_fail(out, 504, 1, "timed out waiting for the "
			    "same request to AniList");
			return (ANILIST_WAIT_DONE);
		}
		anilist_sleep_ms(poll);
		if (poll < ANILIST_POLL_MAX_MS)
			poll *= 2;
	}
}

/*
 * Stale-while-revalidate: a stale public entry is answered at once and
 * refreshed by a background thread of this process, once per key (the
 * single-flight lock in memcached says who refreshes), as an optional call
 * (refused first when the budget is nearly spent). A failed refresh leaves
 * the lock to expire, so a failing AniList is asked again only after it.
 */
#define ANILIST_REFRESH_QUEUE	64
#define ANILIST_REFRESHERS	2

struct anilist_refresh {
	const char	*op;		/* static (queries.c) */
	const char	*kind;		/* static */
	char		*vars;		/* canonical JSON text */
	int		 ttl;
	int		 lock_ttl;
	char		 entry_key[CACHE_KEY_LEN];
	char		 lock_key[CACHE_KEY_LEN];
};

static struct {
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct anilist_refresh	*queue[ANILIST_REFRESH_QUEUE];
	size_t			 n;
	pid_t			 pid;	/* the process its threads run in */
} anilist_refresher = {
	.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER
};

static void
anilist_refresh_free(struct anilist_refresh *job)
{
	free(job->vars);
	free(job);
}

/* Ask AniList for one stale entry and store the answer. */
static void
anilist_refresh_run(struct anilist_refresh *job)
{
	struct anilist_call	 call;
	struct anilist_reply	 out;
	struct json_object	*vars;
	struct cache		*c;

	memset(&call, 0, sizeof call);
	memset(&out, 0, sizeof out);
	out.upstream_ms = -1;
	call.op = job->op;
	call.kind = job->kind;
	call.deadline = util_mono_ms() + (uint64_t)cfg->upstream_timeout_ms;
	call.have_stale = true;
	call.optional = true;
	call.background = true;
	vars = anilist_parse(job->vars, strlen(job->vars));
	anilist_count(refreshes);
	anilist_upstream(&call, queries_get(job->op), vars, NULL, &out);
	if ((c = cache_thread()) != NULL && out.status == 200) {
		anilist_entry_store(c, job->entry_key, out.data, util_wall_ms(),
		    anilist_ttl_of(out.data, job->ttl));
		cache_delete(c, job->lock_key);
	} else if (out.status != 200)
		log_info("stale copy not refreshed", LF_STR("op", job->op),
		    LF_STR("kind", job->kind), LF_STR("error", out.message),
		    LF_END);
	json_object_put(vars);
	anilist_reply_free(&out);
}

static void *
anilist_refresher_main(void *arg)
{
	struct anilist_refresh	*job;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&anilist_refresher.lock);
		while (anilist_refresher.n == 0)
			pthread_cond_wait(&anilist_refresher.cond,
			    &anilist_refresher.lock);
		job = anilist_refresher.queue[0];
		memmove(anilist_refresher.queue, anilist_refresher.queue + 1,
		    --anilist_refresher.n * sizeof job);
		pthread_mutex_unlock(&anilist_refresher.lock);
		anilist_refresh_run(job);
		anilist_refresh_free(job);
	}
	return (NULL);
}

/* Start this process's refreshers (after a fork, the parent's are gone). */
static bool
anilist_refresher_start(void)
{
	pthread_attr_t	attr;
	pthread_t	tid;
	int		i, started = 0;

	if (anilist_refresher.pid == getpid())
		return (true);
	anilist_refresher.n = 0;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < ANILIST_REFRESHERS; i++)
		if (pthread_create(&tid, &attr, anilist_refresher_main,
		    NULL) == 0)
			started++;
	pthread_attr_destroy(&attr);
	if (started == 0)
		return (false);
	anilist_refresher.pid = getpid();
	return (true);
}

/*
 * Refresh the stale public entry of slot in the background unless another
 * request already is (anywhere: the lock is in memcached) or the queue is
 * full. call, slot and vars are borrowed.
 */
static void
anilist_refresh_later(const struct anilist_call *call,
    const struct anilist_slot *slot, struct json_object *vars)
{
	struct anilist_refresh	*job;
	struct buf		 b;
	bool			 queued = false;

	if (cache_add(slot->cache, slot->lock_key, "busy", 4,
	    slot->lock_ttl) != CACHE_OK)
		return;
	job = xcalloc(1, sizeof *job);
	job->op = call->op;
	job->kind = call->kind;
	job->ttl = slot->ttl;
	job->lock_ttl = slot->lock_ttl;
	snprintf(job->entry_key, sizeof job->entry_key, "%s",
	    slot->entry_key);
	snprintf(job->lock_key, sizeof job->lock_key, "%s", slot->lock_key);
	buf_init(&b);
	if (vars != NULL)
		cache_canonical_json(vars, &b);
	else
		buf_puts(&b, "{}");
	job->vars = buf_detach(&b);
	pthread_mutex_lock(&anilist_refresher.lock);
	if (anilist_refresher_start() &&
	    anilist_refresher.n < ANILIST_REFRESH_QUEUE) {
		anilist_refresher.queue[anilist_refresher.n++] = job;
		pthread_cond_signal(&anilist_refresher.cond);
		queued = true;
	}
	pthread_mutex_unlock(&anilist_refresher.lock);
	if (!queued) {
		cache_delete(slot->cache, slot->lock_key);
		anilist_refresh_free(job);
	}
}

/* A fresh entry under key now: out filled as a hit, true. */
static bool
anilist_recheck(struct cache *c, const char *key, int ttl,
    struct anilist_reply *out)
{
	struct json_object	*data;
	char			*val;
	size_t			 len;
	uint64_t		 at;
	bool			 hit = false;

	if (cache_get(c, key, &val, &len) != CACHE_OK)
		return (false);
	if (anilist_entry_parse(val, len, &data, &at, &ttl)) {
		if ((hit = anilist_fresh(at, ttl))) {
			out->status = 200;
			out->data = data;
			out->fetched_at = at;
			out->ttl = ttl;
			out->cache = "hit";
			anilist_count(singleflight_shared);
		} else
			json_object_put(data);
	}
	free(val);
	return (hit);
}

/* Every thread that may wait on AniList is waiting: a 503 to retry soon. */
static void
anilist_busy(struct anilist_reply *out)
{
	anilist_fail(out, 503, anilist_seconds((uint64_t)cfg->upstream_timeout_ms),
	    "AniList is slow to answer and this worker's threads that may wait "
	    "on it are all waiting; retry in a few seconds");
}

/* Without the cache: ask AniList if a thread may wait on it. */
static void
anilist_alone(struct anilist_call *call, const char *document,
    struct json_object *vars, const char *token, struct anilist_reply *out)
{
	if (!anilist_engage()) {
		anilist_busy(out);
		return;
	}
	anilist_upstream(call, document, vars, token, out);
	anilist_disengage();
}

/*
 * Batching: cold public operations that reach this point within
 * UPSTREAM_BATCH_MS of each other go to AniList as one aliased request
 * (batch.h), as long as the parts' complexity fits BATCH_COMPLEXITY_BUDGET.
 * Groups wait for AniList's budget in a queue, first come first served:
 * only the group at its head asks the governor, and while it waits (the
 * budget is paced: governor.h) what arrives joins it. An arriving part
 * joins the first group of the queue, head first, that still has room for
 * it in complexity and parts (first fit: a search fills the gap a details
 * left in an earlier group); a new group opens at the tail only when none
 * has. The head group takes parts until it is sent. The thread that gets
 * the go sends the group and hands every part its own share; an error in
 * one part fails that part only; a request AniList refuses as a whole (a
 * part's variables invalid, complexity) is retried part by part. A caller
 * leaves its group with a 503 (Retry-After) as soon as the group cannot go
 * before its own bound: UPSTREAM_QUEUE_MS after it came, and enough of its
 * deadline left for the call itself.
 */
struct anilist_part {
	struct anilist_call	*call;
	const char		*document;
	struct json_object	*vars;		/* borrowed */
	struct anilist_reply	*out;		/* the waiting caller's */
	uint64_t		 joined;	/* monotonic ms */
};

struct anilist_group {
	struct anilist_part	 parts[BATCH_MAX_PARTS];
	size_t			 n;
	int			 complexity;
	uint64_t		 window_end;	/* monotonic ms: asks from then */
	uint64_t		 retry_at;	/* the governor's "not before" */
	bool			 asking;	/* a part's thread asks now */
	bool			 sending;	/* budget taken: parts stay */
	bool			 done;		/* every part's out is filled */
	bool			 waited;	/* queued for the budget */
	bool			 budget_taken;	/* the sender got the go */
	int			 holders;	/* threads still to leave it */
	struct anilist_group	*next;		/* behind it in the queue */
};

static struct {
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct anilist_group	*head;		/* the queue, oldest first */
} anilist_batcher = {
	.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER
};

/* Part i of a batch answer (body, data borrowed) into its out. */
static void
anilist_take_part(struct anilist_group *g, size_t i, struct json_object *body,
    struct json_object *data)
{
	struct anilist_reply	*out = g->parts[i].out;
	struct json_object	*part, *err, *one, *errors, *validation;
	char			 msg[ANILIST_MSG_LEN];
	int			 status;

	part = batch_part_data(data, i);
	err = batch_part_error(body, i);
	json_object_put(out->validation);
	out->validation = NULL;
	if (part != NULL && err == NULL && !anilist_all_null(part)) {
		free(out->message);
		out->message = NULL;
		out->status = 200;
		json_object_put(out->data);
		out->data = part;
		return;
	}
	/* As if AniList had answered this part alone. */
	one = json_object_new_object();
	json_object_object_add(one, "data", part != NULL ? part :
	    json_object_new_object());
	if (err != NULL) {
		errors = json_object_new_array();
		json_object_array_add(errors, json_object_get(err));
		json_object_object_add(one, "errors", errors);
	}
	anilist_classify(200, one, &status, msg, sizeof msg, &validation);
	if (status == 200 || status == 404)
		anilist_fail(out, 404, 0, "not found on AniList");
	else
		anilist_fail(out, status, status >= 500 ? ANILIST_RETRY_AFTER :
		    0, "%s", msg);
	out->validation = json_object_get(validation);
	json_object_put(one);
}

/* How a batch answer is taken: each part its share, or the whole fails. */
static bool
anilist_take_batch(struct anilist_call *call, struct anilist_http *h,
    struct anilist_reply *out, void *arg)
{
	struct anilist_group	*g = arg;
	struct json_object	*body, *data;
	size_t			 i;

	if (h->cc != CURLE_OK || h->status == 429 || h->status >= 500 ||
	    (body = anilist_parse(h->body.data, h->body.len)) == NULL)
		return (anilist_take(call, h, out));
	if (!json_object_object_get_ex(body, "data", &data) ||
	    !json_object_is_type(data, json_type_object) ||
	    batch_error_unplaced(body, g->n)) {
		json_object_put(body);
		return (anilist_take(call, h, out));
	}
	for (i = 0; i < g->n; i++)
		anilist_take_part(g, i, body, data);
	call->cls = ANILIST_OK;
	out->status = 200;
	json_object_put(body);
	return (false);
}

/* Send a closed group and fill every part's out. */
static void
anilist_send_group(struct anilist_group *g)
{
	struct anilist_call	 call;
	struct anilist_reply	 whole;
	struct batch_part	 bp[BATCH_MAX_PARTS];
	struct anilist_reply	*out;
	struct buf		 req;
	size_t			 i;

	if (g->n == 1) {
		g->parts[0].call->budget_taken = g->budget_taken;
		anilist_upstream(g->parts[0].call, g->parts[0].document,
		    g->parts[0].vars, NULL, g->parts[0].out);
		return;
	}
	memset(&call, 0, sizeof call);
	memset(&whole, 0, sizeof whole);
	whole.upstream_ms = -1;
	call.op = "Batch";
	call.kind = "batch";
	call.deadline = g->parts[0].call->deadline;
	call.have_stale = call.optional = true;
	call.budget_taken = g->budget_taken;
	for (i = 0; i < g->n; i++) {
		bp[i].document = g->parts[i].document;
		bp[i].vars = g->parts[i].vars;
		if (g->parts[i].call->deadline < call.deadline)
			call.deadline = g->parts[i].call->deadline;
		call.have_stale = call.have_stale && g->parts[i].call->have_stale;
		call.optional = call.optional && g->parts[i].call->optional;
		if (g->parts[i].call->queued_ms > call.queued_ms)
			call.queued_ms = g->parts[i].call->queued_ms;
	}
	buf_init(&req);
	batch_build(bp, g->n, &req);
	anilist_count(batches);
	anilist_count_n(batched, g->n);
	anilist_exchange(&call, &req, NULL, &whole, anilist_take_batch, g);
	buf_free(&req);
	if (whole.status == 400) {
		/* Refused as a whole: each part alone finds the culprit. */
		for (i = 0; i < g->n; i++)
			anilist_upstream(g->parts[i].call, g->parts[i].document,
			    g->parts[i].vars, NULL, g->parts[i].out);
		anilist_reply_free(&whole);
		return;
	}
	for (i = 0; i < g->n; i++) {
		out = g->parts[i].out;
		/* the request counts once, for the part that sent it */
		out->upstream_calls = i == 0 ? whole.upstream_calls : 0;
		out->upstream_ms = whole.upstream_ms;
		out->queued_ms += whole.queued_ms;
		if (whole.status == 200)
			continue;
		anilist_fail(out, whole.status, whole.retry_after, "%s",
		    whole.message != NULL ? whole.message : "AniList failed");
	}
	anilist_reply_free(&whole);
}

/* Until when (monotonic ms) the caller of p may wait for the budget. */
static uint64_t
anilist_part_bound(const struct anilist_part *p)
{
	uint64_t	bound = p->joined + (uint64_t)cfg->upstream_queue_ms;
	uint64_t	room = (uint64_t)anilist_queue_room_ms();

	/* With a stale copy to answer, only the window is worth waiting. */
	if (p->call->have_stale)
		return (p->joined + (uint64_t)cfg->upstream_batch_ms);
	if (p->call->deadline < room)
		return (0);
	if (p->call->deadline - room < bound)
		bound = p->call->deadline - room;
	return (bound);
}

/* Wait on the batcher's condition until monotonic ms (lock held). */
static void
anilist_batcher_wait(uint64_t until)
{
	struct timespec	ts;
	uint64_t	now = util_mono_ms(), wall;

	if (until <= now)
		return;
	wall = util_wall_ms() + (until - now);
	ts.tv_sec = (time_t)(wall / 1000);
	ts.tv_nsec = (long)(wall % 1000) * 1000000L;
	(void)pthread_cond_timedwait(&anilist_batcher.cond,
	    &anilist_batcher.lock, &ts);
}

/* Take g out of the queue (lock held): it is sent or empty. */
static void
anilist_queue_remove(struct anilist_group *g)
{
	struct anilist_group	**pp;

	for (pp = &anilist_batcher.head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	pthread_cond_broadcast(&anilist_batcher.cond);
}

/* Groups ahead of g in the queue (lock held). */
static size_t
anilist_queue_ahead(const struct anilist_group *g)
{
	const struct anilist_group	*q;
	size_t				 n = 0;

	for (q = anilist_batcher.head; q != NULL && q != g; q = q->next)
		n++;
	return (n);
}

/*
 * The earliest the group could go (monotonic ms), as far as known: a pace
 * slot for each group ahead once the governor has made the head wait.
 * Until it has, the burst after a quiet spell may let them all go at once.
 */
static uint64_t
anilist_group_eta(const struct anilist_group *g, uint64_t now)
{
	const struct anilist_group	*h = anilist_batcher.head;
	uint64_t			 at = now, pace = 0;
	size_t				 ahead = anilist_queue_ahead(g);

	if (h != NULL && h->retry_at > at) {
		at = h->retry_at;
		pace = governor_pace_ms();
	}
	if (g->window_end > at)
		at = g->window_end;
	return (at + (uint64_t)ahead * pace);
}

/* Part out's index in g, or g->n. */
static size_t
anilist_group_find(const struct anilist_group *g,
    const struct anilist_reply *out)
{
	size_t	i;

	for (i = 0; i < g->n && g->parts[i].out != out; i++)
		;
	return (i);
}

/* The caller of out leaves g unsent with a 503 (lock held). */
static void
anilist_group_leave(struct anilist_group *g, struct anilist_reply *out,
    uint64_t eta, uint64_t now)
{
	size_t	i = anilist_group_find(g, out);
	int	cx;

	if (i < g->n) {
		cx = batch_complexity(g->parts[i].document);
		g->complexity -= cx > 0 ? cx : 0;
		memmove(&g->parts[i], &g->parts[i + 1],
		    (g->n - i - 1) * sizeof g->parts[0]);
		g->n--;
	}
	if (g->n == 0)
		anilist_queue_remove(g);
	anilist_count(governor_rejects);
	metrics_upstream("budget", -1);
	anilist_fail(out, 503, anilist_seconds(eta > now ? eta - now : 1),
	    "AniList request budget used up; retry in %d s",
	    anilist_seconds(eta > now ? eta - now : 1));
}

/*
 * Every part of g fails: the budget is paused (BLOCKED) or what is left
 * is for interactive calls (RESERVED: every part is optional).
 */
static void
anilist_group_fail(struct anilist_group *g, enum governor_verdict v,
    uint64_t wait)
{
	size_t	i;

	for (i = 0; i < g->n; i++) {
		anilist_count(governor_rejects);
		metrics_upstream("budget", -1);
		anilist_fail(g->parts[i].out, 503, anilist_seconds(wait),
		    v == GOVERNOR_BLOCKED ? "AniList asked us to pause; retry "
		    "in %d s" : "AniList request budget used up; retry in %d s",
		    anilist_seconds(wait));
	}
}

static bool
anilist_group_optional(const struct anilist_group *g)
{
	size_t	i;

	for (i = 0; i < g->n; i++)
		if (!g->parts[i].call->optional)
			return (false);
	return (true);
}

/*
 * The group at the head asks the governor (lock held, dropped while
 * asking). True when this thread got the go and must send the group.
 */
static bool
anilist_group_ask(struct anilist_group *g)
{
	enum governor_verdict	 v;
	uint64_t		 wait, now;
	size_t			 i;
	bool			 optional = anilist_group_optional(g);

	g->asking = true;
	pthread_mutex_unlock(&anilist_batcher.lock);
	v = governor_acquire(util_wall_ms(), optional, &wait);
	pthread_mutex_lock(&anilist_batcher.lock);
	g->asking = false;
	now = util_mono_ms();
	if (v == GOVERNOR_WAIT) {
		g->retry_at = now + wait;
		g->waited = true;
		pthread_cond_broadcast(&anilist_batcher.cond);
		return (false);
	}
	g->sending = true;
	anilist_queue_remove(g);
	if (v == GOVERNOR_BLOCKED || v == GOVERNOR_RESERVED) {
		anilist_group_fail(g, v, wait);
		g->done = true;
		return (false);
	}
	g->budget_taken = true;
	/* What each part waited for the budget, from its window's end. */
	for (i = 0; g->waited && i < g->n; i++) {
		wait = g->parts[i].joined > g->window_end ?
		    g->parts[i].joined : g->window_end;
		if (now > wait) {
			g->parts[i].out->queued_ms += (long)(now - wait);
			g->parts[i].call->queued_ms += now - wait;
		}
	}
	return (true);
}

/*
 * Wait in g until it is sent (out filled), sending it when this thread
 * gets the go, or leave it with a 503 (lock held on entry and return).
 */
static void
anilist_group_wait(struct anilist_group *g, struct anilist_part *mine)
{
	struct anilist_part	 me = *mine;	/* parts move as others leave */
	uint64_t		 now, bound = anilist_part_bound(&me), eta;

	/* The window is for gathering, not for the budget: it always waits. */
	if (bound < g->window_end)
		bound = g->window_end;
	for (;;) {
		if (g->done)
			return;
		now = util_mono_ms();
		if (!g->sending && anilist_batcher.head == g && !g->asking &&
		    now >= g->window_end && now >= g->retry_at) {
			if (!anilist_group_ask(g))
				continue;
			pthread_mutex_unlock(&anilist_batcher.lock);
			anilist_send_group(g);
			pthread_mutex_lock(&anilist_batcher.lock);
			g->done = true;
			pthread_cond_broadcast(&anilist_batcher.cond);
			return;
		}
		if (g->sending) {
			pthread_cond_wait(&anilist_batcher.cond,
			    &anilist_batcher.lock);
			continue;
		}
		if (now >= g->window_end && anilist_batcher.head != g)
			g->waited = true;
		eta = anilist_group_eta(g, now);
		if (now >= bound || eta > bound) {
			anilist_group_leave(g, me.out, eta, now);
			return;
		}
		if (anilist_batcher.head == g && !g->asking)
			anilist_batcher_wait(g->retry_at > g->window_end ?
			    g->retry_at : g->window_end);
		else
			anilist_batcher_wait(bound);
	}
}

/* Whether g, still queued, has room for one more part of complexity cx. */
static bool
anilist_group_room(const struct anilist_group *g, int cx)
{
	return (!g->sending && g->n < BATCH_MAX_PARTS &&
	    g->complexity + cx <= BATCH_COMPLEXITY_BUDGET);
}

/*
 * The group an arriving part of complexity cx joins (lock held): the first
 * of the queue with room for it, else a new one at its tail whose window
 * fits the caller's deadline. Borrowed: the queue and its holders own it.
 */
static struct anilist_group *
anilist_group_fit(const struct anilist_call *call, int cx, uint64_t now)
{
	struct anilist_group	*g, **tail;
	uint64_t		 window;

	for (tail = &anilist_batcher.head; *tail != NULL;
	    tail = &(*tail)->next)
		if (anilist_group_room(*tail, cx))
			return (*tail);
	g = xcalloc(1, sizeof *g);
	/* The window, less what the deadline cannot spare. */
	window = (uint64_t)cfg->upstream_batch_ms;
	if (call->deadline <= now + ANILIST_MIN_CALL_MS)
		window = 0;
	else if (window > call->deadline - now - ANILIST_MIN_CALL_MS)
		window = call->deadline - now - ANILIST_MIN_CALL_MS;
	g->window_end = now + window;
	*tail = g;
	return (g);
}

/*
 * Ask AniList for one operation: in a batch with others when it is public
 * and batching is on, else alone.
 */
static void
anilist_ask(struct anilist_call *call, const char *document,
    struct json_object *vars, const char *token, struct anilist_reply *out)
{
	struct anilist_group	*g;
	struct anilist_part	*p;
	uint64_t		 now = util_mono_ms();
	int			 cx = batch_complexity(document);
	bool			 last;

	if (token != NULL || call->mutation || cfg->upstream_batch_ms <= 0 ||
	    cx < 0 || cx > BATCH_COMPLEXITY_BUDGET) {
		anilist_upstream(call, document, vars, token, out);
		return;
	}
	pthread_mutex_lock(&anilist_batcher.lock);
	g = anilist_group_fit(call, cx, now);
	p = &g->parts[g->n++];
	p->call = call;
	p->document = document;
	p->vars = vars;
	p->out = out;
	p->joined = now;
	g->complexity += cx;
	g->holders++;
	anilist_group_wait(g, p);
	last = --g->holders == 0;
	pthread_mutex_unlock(&anilist_batcher.lock);
	if (last)
		free(g);
}

static void
anilist_account(struct anilist_reply *out)
{
	if (out->status != 200)
		anilist_count(failures);
	if (strcmp(out->cache, "hit") == 0)
		anilist_count(hits);
	else if (strcmp(out->cache, "miss") == 0)
		anilist_count(misses);
	else if (strcmp(out->cache, "stale") == 0)
		anilist_count(stale);
	else
		anilist_count(bypass);
}

bool
anilist_fetch(const struct anilist_request *req, struct anilist_reply *out)
{
	const char		*op = req->op, *kind = req->kind;
	const char		*token = req->token, *scope = req->scope;
	struct json_object	*vars = req->vars;
	int			 ttl = req->ttl;
	struct anilist_call	 call;
	struct anilist_slot	 slot;
	struct cache		*c = NULL;
	struct json_object	*stale = NULL;
	const char		*document;
	char			 digest[CACHE_DIGEST_LEN], token_hash[CACHE_DIGEST_LEN];
	char			 entry_key[CACHE_KEY_LEN], lock_key[CACHE_KEY_LEN];
	char			*val;
	size_t			 len;
	uint64_t		 gen = 0, at, stale_at = 0;
	enum cache_status	 st;
	enum anilist_wait	 w;
	bool			 leader = false, looked = false;
	bool			 cache_failed = false, engaged = false;
	int			 lock_ttl, entry_ttl;

	memset(out, 0, sizeof *out);
	out->upstream_ms = -1;
	out->cache = "bypass";
	anilist_count(fetches);
	pthread_once(&anilist_once, anilist_init);

	memset(&call, 0, sizeof call);
	call.op = op;
	call.kind = kind != NULL ? kind : op;
	call.optional = req->optional;
	call.deadline = req->deadline != 0 ? req->deadline :
	    util_mono_ms() + (uint64_t)cfg->upstream_timeout_ms;
	if ((document = queries_get(op)) == NULL) {
		anilist_fail(out, 500, 0, "unknown AniList operation %s",
		    op != NULL ? op : "(null)");
		goto done;
	}
	/* A mutation is never cached, whatever the caller asked. */
	if ((call.mutation = strncmp(document, "mutation", 8) == 0))
		ttl = 0;

	if (ttl > 0 && (c = cache_thread()) != NULL && scope != NULL &&
	    cache_scope_generation(c, scope, &gen) != CACHE_OK) {
		cache_failed = true;
		c = NULL;
	}
	if (c == NULL) {
		anilist_alone(&call, document, vars, token, out);
		goto done;
	}

	if (token != NULL)
		cache_sha256_hex(token, strlen(token), token_hash);
	cache_digest(op, vars, scope, gen, token != NULL ? token_hash : NULL,
	    digest);
	cache_key(entry_key, "d", digest);
	cache_key(lock_key, "l", digest);
	lock_ttl = cfg->upstream_timeout_ms / 1000 + 2;
	slot = (struct anilist_slot){ .cache = c, .entry_key = entry_key,
	    .lock_key = lock_key, .ttl = ttl, .lock_ttl = lock_ttl };

	st = cache_get(c, entry_key, &val, &len);
	if (st == CACHE_ERROR) {
		cache_failed = true;
		anilist_alone(&call, document, vars, token, out);
		goto done;
	}
	looked = true;
	if (st == CACHE_OK) {
		entry_ttl = ttl;
		if (anilist_entry_parse(val, len, &stale, &at, &entry_ttl)) {
			if (anilist_fresh(at, entry_ttl)) {
				out->status = 200;
				out->data = stale;
				out->fetched_at = at;
				out->ttl = entry_ttl;
				out->cache = "hit";
				stale = NULL;
				free(val);
				goto done;
			}
			stale_at = at;
		}
		free(val);
	}

	/* A stale public copy answers now; a background thread refreshes it. */
	if (stale != NULL && token == NULL && scope == NULL) {
		anilist_refresh_later(&call, &slot, vars);
		anilist_serve_stale(out, &stale, stale_at);
		goto done;
	}

	/* From here the answer waits on AniList, unless a stale copy answers. */
	if (!(engaged = anilist_engage())) {
		anilist_busy(out);
		if (stale != NULL)
			anilist_serve_stale(out, &stale, stale_at);
		goto done;
	}

	/* Single flight: one request per key goes to AniList. */
	for (;;) {
		st = cache_add(c, lock_key, "busy", 4, lock_ttl);
		if (st == CACHE_OK) {
			leader = true;
			/*
			 * The previous leader may have stored its answer and
			 * let go of the lock since we looked: look again.
			 */
			if (anilist_recheck(c, entry_key, ttl, out)) {
				cache_delete(c, lock_key);
				goto done;
			}
			break;
		}
		if (st == CACHE_ERROR)
			break;
		w = anilist_follow(&call, &slot, &stale, &stale_at, out);
		if (w == ANILIST_WAIT_DONE)
			goto done;
		if (w == ANILIST_WAIT_ALONE)
			break;
	}

	call.have_stale = stale != NULL;
	anilist_ask(&call, document, vars, token, out);
	if (out->status == 200) {
		out->fetched_at = util_wall_ms();
		out->cache = "miss";
		out->ttl = anilist_ttl_of(out->data, ttl);
		anilist_entry_store(c, entry_key, out->data, out->fetched_at,
		    out->ttl);
		if (leader)
			cache_delete(c, lock_key);
		goto done;
	}
	if (leader)
		anilist_error_store(c, lock_key, out);
	if (stale != NULL && anilist_stale_serves(out)) {
		log_info("serving a stale copy", LF_STR("op", op),
		    LF_STR("kind", call.kind), LF_STR("error", out->message),
		    LF_END);
		anilist_serve_stale(out, &stale, stale_at);
	} else
		out->cache = "miss";

done:
	if (engaged)
		anilist_disengage();
	json_object_put(stale);
	if (out->status == 200 && out->fetched_at == 0)
		out->fetched_at = util_wall_ms();
	if (out->status != 200 && out->message == NULL)
		out->message = xstrdup("AniList request failed");
	if ((out->status == 503 || out->status == 504) && out->retry_after < 1)
		out->retry_after = ANILIST_RETRY_AFTER;
	anilist_account(out);
	/* A lookup that found no fresh copy and no stale one is a miss. */
	if (cache_failed)
		metrics_cache(call.kind, "error");
	else if (looked)
		metrics_cache(call.kind, strcmp(out->cache, "hit") == 0 ||
		    strcmp(out->cache, "stale") == 0 ? out->cache : "miss");
	return (out->status == 200);
}

void
anilist_count_hit(const char *kind)
{
	anilist_count(fetches);
	anilist_count(hits);
	metrics_cache(kind, "hit");
}

void
anilist_reply_free(struct anilist_reply *r)
{
	if (r == NULL)
		return;
	json_object_put(r->data);
	json_object_put(r->validation);
	free(r->message);
	r->data = r->validation = NULL;
	r->message = NULL;
}

void
anilist_invalidate_scope(const char *scope)
{
	struct cache	*c;

	if (scope == NULL || (c = cache_thread()) == NULL)
		return;
	if (cache_scope_invalidate(c, scope) != CACHE_OK)
		log_warn("cache scope not invalidated", LF_END);
}

/*
 * When AniList has been timing out: state "degraded", the reason and the
 * timeouts, true. Calls still go (the breaker has not opened).
 */
static bool
anilist_describe_slow(struct cache *c, struct json_object *out)
{
	struct json_object	*slow, *v;
	struct buf		 b;
	char			 ts[32];
	int			 count;

	if ((slow = anilist_slow_load(c)) == NULL)
		return (false);
	count = json_object_object_get_ex(slow, "count", &v) ?
	    json_object_get_int(v) : 1;
	buf_init(&b);
	buf_printf(&b, "AniList timed out %d time%s", count,
	    count == 1 ? "" : "s");
	if (json_object_object_get_ex(slow, "since", &v)) {
		log_format_ts((unsigned long long)json_object_get_int64(v), ts);
		buf_printf(&b, " since %s", ts);
		json_object_object_add(slow, "since", json_object_new_string(ts));
	}
	if (json_object_object_get_ex(slow, "last_at", &v)) {
		log_format_ts((unsigned long long)json_object_get_int64(v), ts);
		json_object_object_add(slow, "last_at",
		    json_object_new_string(ts));
	}
	if (json_object_object_get_ex(slow, "message", &v))
		buf_printf(&b, " (last: %s)", json_object_get_string(v));
	json_object_object_add(out, "state", json_object_new_string("degraded"));
	json_object_object_add(out, "status",
	    json_object_new_string("degraded"));
	json_object_object_add(out, "reason", json_object_new_string(b.data));
	json_object_object_add(out, "timeouts", slow);
	buf_free(&b);
	return (true);
}

bool
anilist_describe(struct json_object *out)
{
	struct json_object	*g, *b, *e, *v;
	struct breaker_info	 bi;
	struct cache		*c;
	char			*val, ts[32], key[CACHE_KEY_LEN], why[128];
	size_t			 len;
	uint64_t		 now = util_wall_ms(), blocked;
	bool			 ok;

	pthread_once(&anilist_once, anilist_init);
	g = json_object_new_object();
	governor_describe(now, g);
	json_object_object_add(out, "governor", g);

	breaker_info(anilist_breaker, util_mono_ms(), &bi);
	b = json_object_new_object();
	json_object_object_add(b, "state",
	    json_object_new_string(breaker_state_name(bi.state)));
	json_object_object_add(b, "failures", json_object_new_int(bi.failures));
	json_object_object_add(b, "threshold",
	    json_object_new_int(bi.threshold));
	json_object_object_add(b, "cooldown_s",
	    json_object_new_int(bi.cooldown_ms / 1000));
	json_object_object_add(b, "retry_in_ms",
	    json_object_new_int(bi.retry_in_ms));
	json_object_object_add(b, "opens",
	    json_object_new_int64((int64_t)bi.opens));
	json_object_object_add(out, "breaker", b);

	e = NULL;
	if ((c = cache_thread()) != NULL) {
		cache_key(key, "up", "last-error");
		if (cache_get(c, key, &val, &len) == CACHE_OK) {
			e = anilist_parse(val, len);
			free(val);
		}
	}
	if (e == NULL) {
		pthread_mutex_lock(&anilist_last.lock);
		if (anilist_last.at != 0) {
			e = json_object_new_object();
			json_object_object_add(e, "status",
			    json_object_new_int(anilist_last.status));
			json_object_object_add(e, "message",
			    json_object_new_string(anilist_last.message));
			json_object_object_add(e, "at",
			    json_object_new_int64((int64_t)anilist_last.at));
		}
		pthread_mutex_unlock(&anilist_last.lock);
	}
	if (e != NULL && json_object_object_get_ex(e, "at", &v)) {
		log_format_ts((unsigned long long)json_object_get_int64(v), ts);
		json_object_object_add(e, "at", json_object_new_string(ts));
	}
	json_object_object_add(out, "last_error", e);

	blocked = governor_blocked_until(now);
	if (blocked == 0 && json_object_object_get_ex(g, "blocked_for_ms", &v) &&
	    json_object_get_int64(v) > 0)
		blocked = now + (uint64_t)json_object_get_int64(v);
	ok = bi.state != BREAKER_OPEN && blocked == 0;
	json_object_object_add(out, "state",
	    json_object_new_string(ok ? "ok" : bi.state == BREAKER_OPEN ?
	    "breaker_open" : "paused"));
	if (bi.state == BREAKER_OPEN)
		snprintf(why, sizeof why, "AniList failed %d times in a row; "
		    "not asking it for %d s", bi.failures,
		    anilist_seconds((uint64_t)bi.retry_in_ms));
	else if (!ok)
		snprintf(why, sizeof why, "AniList asked us to pause for %d s",
		    anilist_seconds(blocked - now));
	if (!ok)
		json_object_object_add(out, "reason",
		    json_object_new_string(why));
	else
		ok = !anilist_describe_slow(c, out);
	return (ok);
}

void
anilist_stats_get(struct anilist_stats *out)
{
#define L(f) out->f = __atomic_load_n(&anilist_counters.f, __ATOMIC_RELAXED)
	L(fetches);
	L(hits);
	L(misses);
	L(stale);
	L(bypass);
	L(failures);
	L(upstream_requests);
	L(upstream_failures);
	L(upstream_retries);
	L(upstream_ms);
	L(rate_limited);
	L(singleflight_waits);
	L(singleflight_shared);
	L(breaker_rejects);
	L(governor_rejects);
	L(bulkhead_rejects);
	L(refreshes);
	L(batches);
	L(batched);
#undef L
}
