/* observe/searchstats.c: top searched titles, counted in the worker and flushed to PostgreSQL off the request path. */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "config.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "searchstats.h"
#include "util.h"

#define SEARCHSTATS_BUCKETS	1024
#define SEARCHSTATS_PRUNE_MS	(3600 * 1000)

/*
 * One normalised query, how often it was searched since the last flush and
 * by whom: up to TOP_SEARCH_MIN_USERS distinct clients (64 bits of their
 * keyed identity; more are not needed to publish it).
 */
struct searchstats_entry {
	struct searchstats_entry	*next;
	uint64_t			 hash;
	uint64_t			 count;
	uint64_t			*askers;
	size_t				 naskers;
	char				 query[];
};

/* The counts of one flush period; a flush takes the whole map. */
struct searchstats_map {
	struct searchstats_entry	*buckets[SEARCHSTATS_BUCKETS];
	size_t				 n;
};

static struct {
	pthread_mutex_t		 lock;		/* map */
	struct searchstats_map	*map;
	bool			 enabled;	/* set before the accept threads */

	pthread_mutex_t		 wait_lock;	/* stop, the flush thread */
	pthread_cond_t		 wake;
	bool			 stop;
	bool			 running;
	pthread_t		 tid;

	uint64_t		 pruned_at;	/* monotonic ms, 0 never */
	bool			 failing;	/* logged once per outage */

	/* Client identities are keyed as the rate limit keys them. */
	unsigned char		 client_key[CRYPTO_KEY_LEN];
	bool			 client_key_ok;
} searchstats = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wait_lock = PTHREAD_MUTEX_INITIALIZER
};

/* The client address of this thread's request (borrowed), or NULL. */
static __thread const char *searchstats_client;

/* The windows of GET /v1/stats/top-searches, as PostgreSQL intervals. */
static const struct {
	const char	*name;
	const char	*interval;
} searchstats_windows[] = {
	{ "24h", "24 hours" },
	{ "7d", "7 days" },
	{ "30d", "30 days" }
};

/*
 * Bytes of the character at p when it counts as white space: ASCII
 * controls and space, DEL, C1 controls, U+00A0, U+2000..U+200B, U+2028,
 * U+2029, U+202F, U+205F, U+3000, U+FEFF. 0 otherwise.
 */
static size_t
searchstats_space(const unsigned char *p)
{
	if (p[0] <= 0x20 || p[0] == 0x7f)
		return (1);
	if (p[0] == 0xc2 && (p[1] <= 0x9f || p[1] == 0xa0))
		return (2);
	if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] <= 0x8b || p[2] == 0xa8 ||
	    p[2] == 0xa9 || p[2] == 0xaf))
		return (3);
	if ((p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) ||
	    (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) ||
	    (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf))
		return (3);
	return (0);
}

/* Length of the UTF-8 sequence a valid lead byte starts. */
static size_t
searchstats_char_len(unsigned char c)
{
	if (c < 0x80)
		return (1);
	if (c < 0xe0)
		return (2);
	if (c < 0xf0)
		return (3);
	return (4);
}

bool
searchstats_normalise(const char *in, char *out)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 n = 0, len, i, gap;
	bool			 space = false;

	out[0] = '\0';
	if (in == NULL || !util_utf8_valid(in, strlen(in)))
		return (false);
	while (*p != '\0') {
		/* A valid string never ends inside a sequence: p[1], p[2] exist. */
		if ((len = searchstats_space(p)) != 0) {
			space = true;
			p += len;
			continue;
		}
		len = searchstats_char_len(*p);
		gap = space && n > 0 ? 1 : 0;
		if (n + gap + len > SEARCHSTATS_QUERY_MAX)
			break;
		if (gap)
			out[n++] = ' ';
		space = false;
		for (i = 0; i < len; i++) {
			out[n++] = (char)(p[i] >= 'A' && p[i] <= 'Z' ?
			    p[i] + ('a' - 'A') : p[i]);
		}
		p += len;
	}
	out[n] = '\0';
	return (n > 0);
}

static uint64_t
searchstats_hash(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (h);
}

static void
searchstats_map_free(struct searchstats_map *m)
{
	struct searchstats_entry	*e, *next;
	size_t				 i;

	if (m == NULL)
		return;
	for (i = 0; i < SEARCHSTATS_BUCKETS; i++) {
		for (e = m->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e->askers);
			free(e);
		}
	}
	free(m);
}

void
searchstats_set_client(const char *remote_addr)
{
	searchstats_client = remote_addr;
}

/*
 * This thread's client as 64 bits of its keyed identity (ratelimit_client);
 * false without a client address.
 */
static bool
searchstats_current_asker(uint64_t *asker)
{
	char	client[RATELIMIT_CLIENT_LEN];
	size_t	i;

	if (!searchstats.client_key_ok || searchstats_client == NULL ||
	    !ratelimit_client(searchstats_client, searchstats.client_key,
	    client))
		return (false);
	*asker = 0;
	for (i = 0; i < 16; i++)
		*asker = *asker << 4 | (uint64_t)(client[i] <= '9' ?
		    client[i] - '0' : client[i] - 'a' + 10);
	return (true);
}

/* Add an asker to an entry, up to the number that publishing needs. */
static void
searchstats_entry_ask(struct searchstats_entry *e, bool has_tag,
    uint64_t tag)
{
	size_t	i, max = (size_t)cfg->top_search_min_users;

	if (!has_tag || e->naskers >= max)
		return;
	for (i = 0; i < e->naskers; i++) {
		if (e->askers[i] == tag)
			return;
	}
	if (e->askers == NULL)
		e->askers = xcalloc(max, sizeof *e->askers);
	e->askers[e->naskers++] = tag;
}

void
searchstats_record(const char *query)
{
	struct searchstats_entry	*e;
	char				 q[SEARCHSTATS_QUERY_MAX + 1];
	uint64_t			 h, tag = 0;
	size_t				 b, len;
	bool				 has_tag;

	if (!searchstats_normalise(query, q))
		return;
	if (!searchstats.enabled) {
		metrics_search_dropped("disabled", 1);
		return;
	}
	has_tag = searchstats_current_asker(&tag);
	h = searchstats_hash(q);
	b = (size_t)(h % SEARCHSTATS_BUCKETS);
	pthread_mutex_lock(&searchstats.lock);
	if (searchstats.map == NULL)
		searchstats.map = xcalloc(1, sizeof *searchstats.map);
	for (e = searchstats.map->buckets[b]; e != NULL; e = e->next) {
		if (e->hash == h && strcmp(e->query, q) == 0) {
			e->count++;
			searchstats_entry_ask(e, has_tag, tag);
			pthread_mutex_unlock(&searchstats.lock);
			return;
		}
	}
	if (searchstats.map->n >= SEARCHSTATS_MAP_MAX) {
		pthread_mutex_unlock(&searchstats.lock);
		metrics_search_dropped("full", 1);
		return;
	}
	len = strlen(q);
	e = xcalloc(1, sizeof *e + len + 1);
	memcpy(e->query, q, len + 1);
	e->hash = h;
	e->count = 1;
	searchstats_entry_ask(e, has_tag, tag);
	e->next = searchstats.map->buckets[b];
	searchstats.map->buckets[b] = e;
	searchstats.map->n++;
	pthread_mutex_unlock(&searchstats.lock);
}

uint64_t
searchstats_pending(const char *query)
{
	struct searchstats_entry	*e;
	uint64_t			 h = searchstats_hash(query), n = 0;

	pthread_mutex_lock(&searchstats.lock);
	if (searchstats.map != NULL) {
		for (e = searchstats.map->buckets[h % SEARCHSTATS_BUCKETS];
		    e != NULL; e = e->next) {
			if (e->hash == h && strcmp(e->query, query) == 0)
				n = e->count;
		}
	}
	pthread_mutex_unlock(&searchstats.lock);
	return (n);
}

void
searchstats_text_array(struct buf *b, const char *const *values, size_t n)
{
	const char	*p;
	size_t		 i;

	buf_putc(b, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		buf_putc(b, '"');
		for (p = values[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_putc(b, '\\');
			buf_putc(b, *p);
		}
		buf_putc(b, '"');
	}
	buf_putc(b, '}');
}

/* Delete what no window reaches any more, at most once an hour. */
static void
searchstats_prune(struct db_conn *c)
{
	const char	*params[1];
	char		 days[16], *cause = NULL;
	uint64_t	 now = util_mono_ms();

	if (searchstats.pruned_at != 0 &&
	    now - searchstats.pruned_at < SEARCHSTATS_PRUNE_MS)
		return;
	searchstats.pruned_at = now;
	snprintf(days, sizeof days, "%d", SEARCHSTATS_KEEP_DAYS);
	params[0] = days;
	if (!db_run(c, "DELETE FROM search_queries "
	    "WHERE hour < now() - $1::int * interval '1 day'", 1, params,
	    &cause) || !db_run(c, "DELETE FROM search_askers "
	    "WHERE hour < now() - $1::int * interval '1 day'", 1, params,
	    &cause)) {
		log_warn("old search statistics not deleted",
		    LF_STR("error", cause), LF_END);
		free(cause);
	}
}

/* The flush; *written is how many searches reached PostgreSQL. */
static bool
searchstats_write(uint64_t *written, char **cause)
{
	struct searchstats_map		*m;
	struct searchstats_entry	*e;
	struct db_conn			*c = NULL;
	struct buf			 names, counts, tags;
	const char			**v = NULL, **tq = NULL, *params[2];
	uint64_t			 total = 0;
	size_t				 i, j, n = 0, nt = 0;
	bool				 ok = false;

	*written = 0;
	pthread_mutex_lock(&searchstats.lock);
	m = searchstats.map;
	searchstats.map = NULL;
	pthread_mutex_unlock(&searchstats.lock);
	if (m == NULL || m->n == 0) {
		searchstats_map_free(m);
		return (true);
	}

	for (i = 0; i < SEARCHSTATS_BUCKETS; i++) {
		for (e = m->buckets[i]; e != NULL; e = e->next)
			nt += e->naskers;
	}
	buf_init(&names);
	buf_init(&counts);
	buf_init(&tags);
	v = xcalloc(m->n, sizeof *v);
	tq = xcalloc(nt + 1, sizeof *tq);
	nt = 0;
	buf_putc(&counts, '{');
	buf_putc(&tags, '{');
	for (i = 0; i < SEARCHSTATS_BUCKETS; i++) {
		for (e = m->buckets[i]; e != NULL; e = e->next) {
			buf_printf(&counts, "%s%llu", n > 0 ? "," : "",
			    (unsigned long long)e->count);
			v[n++] = e->query;
			total += e->count;
			for (j = 0; j < e->naskers; j++) {
				buf_printf(&tags, "%s%016llx", nt > 0 ? "," :
				    "", (unsigned long long)e->askers[j]);
				tq[nt++] = e->query;
			}
		}
	}
	buf_putc(&counts, '}');
	buf_putc(&tags, '}');
	searchstats_text_array(&names, v, n);
	params[0] = names.data;
	params[1] = counts.data;

	if ((c = db_acquire(cause)) == NULL)
		goto out;
	/* One statement; the hour is UTC whatever the session's time zone. */
	if (!db_run(c, "INSERT INTO search_queries AS s (hour, query, hits) "
	    "SELECT to_timestamp(floor(extract(epoch FROM now()) / 3600) * "
	    "3600), lower(t.q), sum(t.h) "
	    "FROM unnest($1::text[], $2::bigint[]) AS t(q, h) "
	    "GROUP BY lower(t.q) "
	    "ON CONFLICT (hour, query) DO UPDATE SET hits = s.hits + "
	    "EXCLUDED.hits", 2, params, cause))
		goto out;
	if (nt > 0) {
		buf_reset(&names);
		searchstats_text_array(&names, tq, nt);
		params[0] = names.data;
		params[1] = tags.data;
		/* The tag is made here, of the query as PostgreSQL lowers it. */
		if (!db_run(c, "INSERT INTO search_askers (hour, query, asker) "
		    "SELECT to_timestamp(floor(extract(epoch FROM now()) / "
		    "3600) * 3600), lower(t.q), substring(sha256(convert_to("
		    "t.a || E'\\n' || lower(t.q), 'UTF8')) FROM 1 FOR 8) "
		    "FROM unnest($1::text[], $2::text[]) AS t(q, a) "
		    "ON CONFLICT DO NOTHING", 2, params, cause))
			goto out;
	}
	searchstats_prune(c);
	*written = total;
	ok = true;
out:
	db_release(c);
	if (!ok)
		metrics_search_dropped("database", total);
	buf_free(&names);
	buf_free(&counts);
	buf_free(&tags);
	free(v);
	free(tq);
	searchstats_map_free(m);
	return (ok);
}

bool
searchstats_flush(char **cause)
{
	uint64_t	written;

	return (searchstats_write(&written, cause));
}

/* A flush from the thread or the drain: an outage is logged once. */
static void
searchstats_flush_logged(void)
{
	char		*cause = NULL;
	uint64_t	 written;

	if (searchstats_write(&written, &cause)) {
		if (searchstats.failing && written > 0) {
			log_info("search statistics are written again", LF_END);
			searchstats.failing = false;
		}
		return;
	}
	if (!searchstats.failing)
		log_warn("search statistics dropped until PostgreSQL answers",
		    LF_STR("error", cause), LF_END);
	searchstats.failing = true;
	free(cause);
}

static void *
searchstats_main(void *arg)
{
	struct timespec	until;

	pthread_mutex_lock(&searchstats.wait_lock);
	while (!searchstats.stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += cfg->search_stats_flush_seconds;
		while (!searchstats.stop && pthread_cond_timedwait(
		    &searchstats.wake, &searchstats.wait_lock, &until) !=
		    ETIMEDOUT)
			;
		if (searchstats.stop)
			break;
		pthread_mutex_unlock(&searchstats.wait_lock);
		searchstats_flush_logged();
		pthread_mutex_lock(&searchstats.wait_lock);
	}
	pthread_mutex_unlock(&searchstats.wait_lock);
	return (NULL);
}

void
searchstats_init(void)
{
	pthread_condattr_t	attr;

	if (searchstats.running || !db_enabled())
		return;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&searchstats.wake, &attr);
	pthread_condattr_destroy(&attr);
	searchstats.stop = false;
	searchstats.pruned_at = 0;
	searchstats.failing = false;
	searchstats.client_key_ok = ratelimit_derive_key(cfg->secret_key,
	    searchstats.client_key);
	if (pthread_create(&searchstats.tid, NULL, searchstats_main,
	    NULL) != 0) {
		log_error("cannot start the search statistics thread", LF_END);
		pthread_cond_destroy(&searchstats.wake);
		return;
	}
	searchstats.running = true;
	searchstats.enabled = true;
}

void
searchstats_shutdown(void)
{
	if (!searchstats.running)
		return;
	pthread_mutex_lock(&searchstats.wait_lock);
	searchstats.stop = true;
	pthread_cond_signal(&searchstats.wake);
	pthread_mutex_unlock(&searchstats.wait_lock);
	pthread_join(searchstats.tid, NULL);
	pthread_cond_destroy(&searchstats.wake);
	searchstats.running = false;
	searchstats_flush_logged();
	searchstats.enabled = false;
	pthread_mutex_lock(&searchstats.lock);
	searchstats_map_free(searchstats.map);
	searchstats.map = NULL;
	pthread_mutex_unlock(&searchstats.lock);
}

bool
searchstats_window_valid(const char *window)
{
	size_t	i;

	for (i = 0; window != NULL && i < nitems(searchstats_windows); i++) {
		if (strcmp(window, searchstats_windows[i].name) == 0)
			return (true);
	}
	return (false);
}

/*
 * The most searched queries since the start of the hour the window starts
 * in (whole hours: that one is counted whole).
 */
/*
 * Whole hours: the one the window starts in is counted whole. A query is
 * shown only once enough distinct clients ($3) asked it in the window.
 */
static const char searchstats_top_sql[] =
    "WITH w AS (SELECT to_timestamp(floor(extract("
    "epoch FROM now() - $1::interval) / 3600) * 3600) AS since), "
    "asked AS (SELECT a.query FROM search_askers a, w "
    "WHERE a.hour >= w.since GROUP BY a.query "
    "HAVING count(DISTINCT a.asker) >= $3::int) "
    "SELECT q.query, sum(q.hits)::bigint AS n "
    "FROM search_queries q JOIN asked USING (query), w "
    "WHERE q.hour >= w.since "
    "GROUP BY q.query ORDER BY n DESC, q.query LIMIT $2::int";
enum searchstats_top_col {
	SEARCHSTATS_TOP_QUERY,
	SEARCHSTATS_TOP_COUNT,
};

bool
searchstats_top(const char *window, int limit, struct json_object **out,
    char **cause)
{
	struct json_object	*arr, *row;
	struct db_conn		*c;
	PGresult		*res;
	const char		*params[3] = { NULL, NULL, NULL };
	char			 lim[16], users[16];
	long long		 count;
	size_t			 i;
	int			 r;

	*out = NULL;
	for (i = 0; window != NULL && i < nitems(searchstats_windows); i++) {
		if (strcmp(window, searchstats_windows[i].name) == 0)
			params[0] = searchstats_windows[i].interval;
	}
	if (params[0] == NULL) {
		xasprintf(cause, "unknown window");
		return (false);
	}
	snprintf(lim, sizeof lim, "%d", limit);
	params[1] = lim;
	snprintf(users, sizeof users, "%d", cfg->top_search_min_users);
	params[2] = users;
	if ((c = db_acquire(cause)) == NULL)
		return (false);
	res = db_exec(c, searchstats_top_sql, 3, params, cause);
	db_release(c);
	if (res == NULL)
		return (false);
	arr = json_object_new_array();
	for (r = 0; r < PQntuples(res); r++) {
		if (!util_parse_ll(PQgetvalue(res, r, SEARCHSTATS_TOP_COUNT),
		    &count))
			count = 0;
		row = json_object_new_object();
		json_object_object_add(row, "query", json_object_new_string(
		    PQgetvalue(res, r, SEARCHSTATS_TOP_QUERY)));
		json_object_object_add(row, "count",
		    json_object_new_int64(count));
		json_object_array_add(arr, row);
	}
	PQclear(res);
	*out = arr;
	return (true);
}
