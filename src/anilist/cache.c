/* anilist/cache.c: memcached access per thread (libmemcached, ketama), canonical keys, scope generations. */
#include "autoconf.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libmemcached/memcached.h>
#include <openssl/evp.h>

#include "cache.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

/*
 * A dead server is tried again after this many seconds; until then its
 * keys go to the others (or fail at once when it is the only one).
 */
#define CACHE_RETRY_TIMEOUT	2
/* Failures in a row before a server counts as dead. */
#define CACHE_FAILURE_LIMIT	2
/* Largest value we accept back from a server. */
#define CACHE_MAX_VALUE		(8 * 1024 * 1024)

/*
 * libmemcached marks a server dead when it refuses connections, but not
 * when it accepts them and never answers (a hung or stopped process):
 * each operation would wait the full timeout. So each handle also counts
 * failures per server and skips a server for CACHE_RETRY_TIMEOUT seconds
 * after CACHE_FAILURE_LIMIT of them in a row.
 */
struct cache_server {
	char		 name[128];	/* "host:port" */
	int		 failures;
	uint64_t	 skip_until;	/* monotonic ms */
};

struct cache {
	memcached_st		*mc;
	struct cache_server	*servers;
	size_t			 nservers;
};

static struct cache_stats	cache_counters;
static pthread_key_t		cache_tls;
static pthread_once_t		cache_tls_once = PTHREAD_ONCE_INIT;

#define cache_count(field) \
	__atomic_fetch_add(&cache_counters.field, 1, __ATOMIC_RELAXED)

static void
cache_tls_free(void *p)
{
	cache_free(p);
}

static void
cache_tls_init(void)
{
	if (pthread_key_create(&cache_tls, cache_tls_free) != 0)
		abort();
}

/* Timeouts, hashing and failure handling shared by every handle we make. */
static bool
cache_behaviours(memcached_st *mc, int timeout_ms)
{
	static const struct {
		memcached_behavior_t	b;
		uint64_t		v;
	} fixed[] = {
		{ MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1 },
		{ MEMCACHED_BEHAVIOR_DISTRIBUTION,
		    MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA },
		{ MEMCACHED_BEHAVIOR_KETAMA_HASH, MEMCACHED_HASH_MD5 },
		{ MEMCACHED_BEHAVIOR_TCP_NODELAY, 1 },
		{ MEMCACHED_BEHAVIOR_TCP_KEEPALIVE, 1 },
		{ MEMCACHED_BEHAVIOR_NO_BLOCK, 1 },
		{ MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, CACHE_FAILURE_LIMIT },
		{ MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, CACHE_RETRY_TIMEOUT },
		{ MEMCACHED_BEHAVIOR_DEAD_TIMEOUT, CACHE_RETRY_TIMEOUT },
		{ MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS, 1 },
	};
	size_t	i;

	for (i = 0; i < nitems(fixed); i++) {
		if (memcached_behavior_set(mc, fixed[i].b, fixed[i].v) !=
		    MEMCACHED_SUCCESS)
			return (false);
	}
	if (memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT,
	    (uint64_t)timeout_ms) != MEMCACHED_SUCCESS ||
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT,
	    (uint64_t)timeout_ms) != MEMCACHED_SUCCESS ||
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT,
	    (uint64_t)timeout_ms * 1000) != MEMCACHED_SUCCESS ||
	    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT,
	    (uint64_t)timeout_ms * 1000) != MEMCACHED_SUCCESS)
		return (false);
	return (true);
}

/*
 * Split one "host:port" (IPv6 as "[::1]:11211") in place. False when it
 * is not one.
 */
static bool
cache_split_server(char *item, char **host, in_port_t *port)
{
	char		*colon;
	long long	 n;

	colon = strrchr(item, ':');
	if (colon == NULL || colon == item)
		return (false);
	*colon = '\0';
	if (!util_parse_ll(colon + 1, &n) || n < 1 || n > 65535)
		return (false);
	*port = (in_port_t)n;
	*host = item;
	if (**host == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		(*host)++;
	}
	return (**host != '\0');
}

struct cache *
cache_create(const char *servers, int timeout_ms, char **cause)
{
	struct cache	*c;
	char		*copy, *item, *save, *host;
	in_port_t	 port;
	int		 n = 0;

	c = xcalloc(1, sizeof *c);
	if ((c->mc = memcached_create(NULL)) == NULL)
		abort();
	if (!cache_behaviours(c->mc, timeout_ms)) {
		xasprintf(cause, "memcached: cannot set behaviours");
		goto fail;
	}
	copy = xstrdup(servers);
	for (item = strtok_r(copy, ", ", &save); item != NULL;
	    item = strtok_r(NULL, ", ", &save)) {
		if (!cache_split_server(item, &host, &port) ||
		    memcached_server_add(c->mc, host, port) !=
		    MEMCACHED_SUCCESS) {
			xasprintf(cause, "memcached: bad server \"%s\"", item);
			free(copy);
			goto fail;
		}
		c->servers = xrealloc(c->servers,
		    (c->nservers + 1) * sizeof *c->servers);
		memset(&c->servers[c->nservers], 0, sizeof *c->servers);
		snprintf(c->servers[c->nservers].name,
		    sizeof c->servers[0].name, "%s:%u", host, (unsigned)port);
		c->nservers++;
		n++;
	}
	free(copy);
	if (n == 0) {
		xasprintf(cause, "memcached: no servers");
		goto fail;
	}
	return (c);
fail:
	cache_free(c);
	return (NULL);
}

void
cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	if (c->mc != NULL)
		memcached_free(c->mc);
	free(c->servers);
	free(c);
}

bool
cache_configured(void)
{
	return (cfg != NULL && cfg->memcached_servers != NULL &&
	    strspn(cfg->memcached_servers, ", ") !=
	    strlen(cfg->memcached_servers));
}

struct cache *
cache_thread(void)
{
	struct cache	*c;
	char		*cause = NULL;

	if (!cache_configured())
		return (NULL);
	pthread_once(&cache_tls_once, cache_tls_init);
	if ((c = pthread_getspecific(cache_tls)) != NULL)
		return (c);
	c = cache_create(cfg->memcached_servers, cfg->memcached_timeout_ms,
	    &cause);
	if (c == NULL) {
		log_error("cache disabled", LF_STR("error", cause), LF_END);
		free(cause);
		return (NULL);
	}
	if (pthread_setspecific(cache_tls, c) != 0)
		abort();
	return (c);
}

void
cache_thread_cleanup(void)
{
	struct cache	*c;

	pthread_once(&cache_tls_once, cache_tls_init);
	if ((c = pthread_getspecific(cache_tls)) != NULL) {
		pthread_setspecific(cache_tls, NULL);
		cache_free(c);
	}
}

/* The server a key lives on, by the handle's hashing. */
static struct cache_server *
cache_server_of(struct cache *c, const char *key)
{
	const memcached_instance_st	*in;
	memcached_return_t		 rc;
	char				 name[sizeof c->servers[0].name];
	size_t				 i;

	if (c->nservers == 1)
		return (&c->servers[0]);
	in = memcached_server_by_key(c->mc, key, strlen(key), &rc);
	if (in == NULL)
		return (NULL);
	snprintf(name, sizeof name, "%s:%u", memcached_server_name(in),
	    (unsigned)memcached_server_port(in));
	for (i = 0; i < c->nservers; i++) {
		if (strcmp(c->servers[i].name, name) == 0)
			return (&c->servers[i]);
	}
	return (NULL);
}

/* Is the server of key being skipped after failing? */
static bool
cache_skipped(struct cache *c, const char *key)
{
	struct cache_server	*s = cache_server_of(c, key);

	if (s == NULL || s->skip_until == 0)
		return (false);
	if (util_mono_ms() < s->skip_until)
		return (true);
	s->skip_until = 0;
	return (false);
}

static void
cache_server_ok(struct cache *c, const char *key)
{
	struct cache_server	*s = cache_server_of(c, key);

	if (s != NULL)
		s->failures = 0;
}

static void
cache_server_failed(struct cache *c, const char *key)
{
	struct cache_server	*s = cache_server_of(c, key);

	if (s == NULL || ++s->failures < CACHE_FAILURE_LIMIT)
		return;
	/* Skip it a while; after that one more failure skips it again. */
	s->skip_until = util_mono_ms() + CACHE_RETRY_TIMEOUT * 1000;
	s->failures = CACHE_FAILURE_LIMIT - 1;
	log_warn("memcached server skipped", LF_STR("server", s->name),
	    LF_INT("seconds", CACHE_RETRY_TIMEOUT), LF_END);
}

static enum cache_status
cache_skip(void)
{
	cache_count(errors);
	return (CACHE_ERROR);
}

/* A failure of the server or the network, not of this one request? */
static bool
cache_rc_down(memcached_return_t rc)
{
	switch (rc) {
	case MEMCACHED_E2BIG:
	case MEMCACHED_BAD_KEY_PROVIDED:
	case MEMCACHED_KEY_TOO_BIG:
	case MEMCACHED_MEMORY_ALLOCATION_FAILURE:
	case MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE:
	case MEMCACHED_INVALID_ARGUMENTS:
	case MEMCACHED_NOTSTORED:
	case MEMCACHED_DATA_EXISTS:
	case MEMCACHED_NOTFOUND:
		return (false);
	default:
		return (true);
	}
}

static enum cache_status
cache_error(struct cache *c, const char *what, const char *key,
    memcached_return_t rc)
{
	cache_count(errors);
	if (cache_rc_down(rc))
		cache_server_failed(c, key);
	log_debug("cache error", LF_STR("op", what), LF_STR("key", key),
	    LF_STR("error", memcached_strerror(c->mc, rc)), LF_END);
	return (CACHE_ERROR);
}

/* A failed multi-get counts once against each server it asked. */
static void
cache_mget_failed(struct cache *c, const char *const *keys, size_t n,
    memcached_return_t rc)
{
	struct cache_server	*s, *first = cache_server_of(c, keys[0]);
	size_t			 i, j;

	if (!cache_rc_down(rc))
		return;
	for (i = 1; i < n; i++) {
		if ((s = cache_server_of(c, keys[i])) == NULL || s == first)
			continue;
		for (j = 1; j < i; j++) {
			if (cache_server_of(c, keys[j]) == s)
				break;
		}
		if (j == i)
			cache_server_failed(c, keys[i]);
	}
}

static time_t
cache_expiry(int ttl)
{
	if (ttl <= 0)
		return (0);
	return (ttl > CACHE_MAX_TTL ? CACHE_MAX_TTL : ttl);
}

/* memcached_request_duration_seconds{op}: the round trip since t0. */
static void
cache_timed(const char *op, uint64_t t0)
{
	metrics_memcached(op, (double)(util_mono_us() - t0) / 1e6);
}

enum cache_status
cache_get(struct cache *c, const char *key, char **val, size_t *len)
{
	memcached_return_t	 rc;
	uint32_t		 flags;
	size_t			 n = 0;
	uint64_t		 t0;
	char			*v;

	*val = NULL;
	*len = 0;
	if (c == NULL)
		return (CACHE_ERROR);
	if (cache_skipped(c, key))
		return (cache_skip());
	cache_count(gets);
	t0 = util_mono_us();
	v = memcached_get(c->mc, key, strlen(key), &n, &flags, &rc);
	cache_timed("get", t0);
	if (rc == MEMCACHED_NOTFOUND) {
		free(v);
		cache_count(misses);
		cache_server_ok(c, key);
		return (CACHE_MISS);
	}
	if (rc != MEMCACHED_SUCCESS || n > CACHE_MAX_VALUE) {
		free(v);
		return (cache_error(c, "get", key, rc));
	}
	cache_server_ok(c, key);
	cache_count(hits);
	*val = xmalloc(n + 1);
	if (n > 0)
		memcpy(*val, v, n);
	(*val)[n] = '\0';
	*len = n;
	free(v);
	return (CACHE_OK);
}

/*
 * Read and drop whatever a failed multi-get left to read. When one server
 * fails, libmemcached has still sent the request to the others: their
 * replies would otherwise be read as the answer to the next command on
 * those connections (MEMCACHED_END for a set), making a healthy server
 * look broken.
 */
static void
cache_mget_drain(struct cache *c)
{
	memcached_result_st	*res;
	memcached_return_t	 rc;

	while ((res = memcached_fetch_result(c->mc, NULL, &rc)) != NULL)
		memcached_result_free(res);
}

enum cache_status
cache_mget(struct cache *c, const char *const *keys, size_t n, char **vals)
{
	memcached_result_st	*res;
	memcached_return_t	 rc;
	size_t			*lens, i, klen, vlen;
	uint64_t		 t0;
	const char		*k;

	for (i = 0; i < n; i++)
		vals[i] = NULL;
	if (c == NULL)
		return (CACHE_ERROR);
	for (i = 0; i < n; i++) {
		if (cache_skipped(c, keys[i]))
			return (cache_skip());
	}
	lens = xcalloc(n, sizeof *lens);
	for (i = 0; i < n; i++)
		lens[i] = strlen(keys[i]);
	t0 = util_mono_us();
	rc = memcached_mget(c->mc, keys, lens, n);
	free(lens);
	if (rc != MEMCACHED_SUCCESS) {
		cache_timed("mget", t0);
		cache_mget_drain(c);
		cache_mget_failed(c, keys, n, rc);
		return (cache_error(c, "mget", keys[0], rc));
	}
	while ((res = memcached_fetch_result(c->mc, NULL, &rc)) != NULL) {
		k = memcached_result_key_value(res);
		klen = memcached_result_key_length(res);
		vlen = memcached_result_length(res);
		for (i = 0; i < n; i++) {
			if (vals[i] == NULL && strlen(keys[i]) == klen &&
			    memcmp(keys[i], k, klen) == 0 &&
			    vlen <= CACHE_MAX_VALUE) {
				vals[i] = xstrndup(memcached_result_value(res),
				    vlen);
				break;
			}
		}
		memcached_result_free(res);
	}
	cache_timed("mget", t0);
	if (rc != MEMCACHED_END && rc != MEMCACHED_SUCCESS &&
	    rc != MEMCACHED_NOTFOUND) {
		cache_mget_drain(c);
		for (i = 0; i < n; i++) {
			free(vals[i]);
			vals[i] = NULL;
		}
		cache_mget_failed(c, keys, n, rc);
		return (cache_error(c, "mget", keys[0], rc));
	}
	for (i = 0; i < n; i++)
		cache_server_ok(c, keys[i]);
	return (CACHE_OK);
}

enum cache_status
cache_set(struct cache *c, const char *key, const void *val, size_t len,
    int ttl)
{
	memcached_return_t	rc;
	uint64_t		t0;

	if (c == NULL)
		return (CACHE_ERROR);
	if (cache_skipped(c, key))
		return (cache_skip());
	cache_count(sets);
	t0 = util_mono_us();
	rc = memcached_set(c->mc, key, strlen(key), val, len,
	    cache_expiry(ttl), 0);
	cache_timed("set", t0);
	if (rc != MEMCACHED_SUCCESS)
		return (cache_error(c, "set", key, rc));
	cache_server_ok(c, key);
	return (CACHE_OK);
}

enum cache_status
cache_add(struct cache *c, const char *key, const void *val, size_t len,
    int ttl)
{
	memcached_return_t	rc;
	uint64_t		t0;

	if (c == NULL)
		return (CACHE_ERROR);
	if (cache_skipped(c, key))
		return (cache_skip());
	t0 = util_mono_us();
	rc = memcached_add(c->mc, key, strlen(key), val, len,
	    cache_expiry(ttl), 0);
	cache_timed("add", t0);
	if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_NOTSTORED ||
	    rc == MEMCACHED_DATA_EXISTS)
		cache_server_ok(c, key);
	if (rc == MEMCACHED_SUCCESS)
		return (CACHE_OK);
	if (rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS)
		return (CACHE_EXISTS);
	return (cache_error(c, "add", key, rc));
}

enum cache_status
cache_delete(struct cache *c, const char *key)
{
	memcached_return_t	rc;
	uint64_t		t0;

	if (c == NULL)
		return (CACHE_ERROR);
	if (cache_skipped(c, key))
		return (cache_skip());
	t0 = util_mono_us();
	rc = memcached_delete(c->mc, key, strlen(key), 0);
	cache_timed("delete", t0);
	if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_NOTFOUND)
		cache_server_ok(c, key);
	if (rc == MEMCACHED_SUCCESS)
		return (CACHE_OK);
	if (rc == MEMCACHED_NOTFOUND)
		return (CACHE_MISS);
	return (cache_error(c, "delete", key, rc));
}

/* One change to a memcached counter (cache_incr, cache_decr). */
struct cache_counter_req {
	const char	*key;
	bool		 up;		/* add delta; false: take it off */
	uint64_t	 delta;
	uint64_t	 initial;	/* the value of a new counter */
	int		 ttl;		/* seconds, of a new counter */
};

/* Apply req (borrowed) on c; the counter's new value in *value. */
static enum cache_status
cache_counter(struct cache *c, const struct cache_counter_req *req,
    uint64_t *value)
{
	memcached_return_t	(*fn)(memcached_st *, const char *, size_t,
				    uint64_t, uint64_t, time_t, uint64_t *);
	memcached_return_t	 rc;
	const char		*op = req->up ? "incr" : "decr";
	uint64_t		 t0;

	if (c == NULL)
		return (CACHE_ERROR);
	if (cache_skipped(c, req->key))
		return (cache_skip());
	t0 = util_mono_us();
	fn = req->up ? memcached_increment_with_initial :
	    memcached_decrement_with_initial;
	rc = fn(c->mc, req->key, strlen(req->key), req->delta, req->initial,
	    cache_expiry(req->ttl), value);
	/* Two clients created it at once: the other won, count on it. */
	if (rc == MEMCACHED_NOTSTORED)
		rc = fn(c->mc, req->key, strlen(req->key), req->delta,
		    req->initial, cache_expiry(req->ttl), value);
	cache_timed(op, t0);
	if (rc != MEMCACHED_SUCCESS)
		return (cache_error(c, op, req->key, rc));
	cache_server_ok(c, req->key);
	return (CACHE_OK);
}

enum cache_status
cache_incr(struct cache *c, const char *key, uint64_t delta,
    uint64_t initial, int ttl, uint64_t *value)
{
	return (cache_counter(c, &(struct cache_counter_req){ .key = key,
	    .up = true, .delta = delta, .initial = initial, .ttl = ttl },
	    value));
}

enum cache_status
cache_decr(struct cache *c, const char *key, uint64_t delta,
    uint64_t initial, int ttl, uint64_t *value)
{
	return (cache_counter(c, &(struct cache_counter_req){ .key = key,
	    .up = false, .delta = delta, .initial = initial, .ttl = ttl },
	    value));
}

bool
cache_counter_value(const char *val, uint64_t *value)
{
	uint64_t	n = 0;
	size_t		i;

	if (val == NULL || val[0] < '0' || val[0] > '9')
		return (false);
	for (i = 0; val[i] >= '0' && val[i] <= '9'; i++) {
		if (n > (UINT64_MAX - (uint64_t)(val[i] - '0')) / 10)
			return (false);
		n = n * 10 + (uint64_t)(val[i] - '0');
	}
	while (val[i] == ' ')
		i++;
	if (val[i] != '\0')
		return (false);
	*value = n;
	return (true);
}

static int
cache_keycmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

void
cache_canonical_json(struct json_object *obj, struct buf *out)
{
	struct json_object_iterator	 it, end;
	const char			**keys;
	size_t				 n, i;
	char				 num[40];
	double				 d;

	switch (json_object_get_type(obj)) {
	case json_type_null:
		buf_puts(out, "null");
		break;
	case json_type_boolean:
		buf_puts(out, json_object_get_boolean(obj) ? "true" : "false");
		break;
	case json_type_int:
		snprintf(num, sizeof num, "%lld",
		    (long long)json_object_get_int64(obj));
		buf_puts(out, num);
		break;
	case json_type_double:
		/* JSON has no NaN or infinity (json-c parses them). */
		d = json_object_get_double(obj);
		if (!isfinite(d)) {
			buf_puts(out, "null");
			break;
		}
		snprintf(num, sizeof num, "%.17g", d);
		buf_puts(out, num);
		break;
	case json_type_string:
		buf_json_string(out, json_object_get_string(obj));
		break;
	case json_type_array:
		buf_putc(out, '[');
		n = json_object_array_length(obj);
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_putc(out, ',');
			cache_canonical_json(json_object_array_get_idx(obj, i),
			    out);
		}
		buf_putc(out, ']');
		break;
	case json_type_object:
		n = (size_t)json_object_object_length(obj);
		keys = xcalloc(n > 0 ? n : 1, sizeof *keys);
		i = 0;
		it = json_object_iter_begin(obj);
		end = json_object_iter_end(obj);
		while (!json_object_iter_equal(&it, &end) && i < n) {
			keys[i++] = json_object_iter_peek_name(&it);
			json_object_iter_next(&it);
		}
		n = i;
		qsort(keys, n, sizeof *keys, cache_keycmp);
		buf_putc(out, '{');
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_putc(out, ',');
			buf_json_string(out, keys[i]);
			buf_putc(out, ':');
			cache_canonical_json(json_object_object_get(obj,
			    keys[i]), out);
		}
		buf_putc(out, '}');
		free(keys);
		break;
	}
}

void
cache_sha256_hex(const void *p, size_t n, char hex[CACHE_DIGEST_LEN])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;

	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		abort();
	util_hex(md, mdlen, hex);
}

void
cache_digest(const char *op, struct json_object *args, const char *scope,
    uint64_t gen, const char *secret, char hex[CACHE_DIGEST_LEN])
{
	struct buf	b;

	buf_init(&b);
	buf_puts(&b, op != NULL ? op : "");
	buf_putc(&b, '\n');
	cache_canonical_json(args, &b);
	buf_printf(&b, "\n%s\n%llu\n", scope != NULL ? scope : "",
	    (unsigned long long)gen);
	if (secret != NULL)
		buf_puts(&b, secret);
	cache_sha256_hex(b.data, b.len, hex);
	if (secret != NULL)
		OPENSSL_cleanse(b.data, b.len);
	buf_free(&b);
}

void
cache_key(char key[CACHE_KEY_LEN], const char *ns, const char *id)
{
	snprintf(key, CACHE_KEY_LEN, "ag:" CACHE_KEY_VERSION ":%s:%s", ns, id);
}

static void
cache_scope_key(const char *scope, char key[CACHE_KEY_LEN])
{
	char	hex[CACHE_DIGEST_LEN];

	cache_sha256_hex(scope, strlen(scope), hex);
	cache_key(key, "g", hex);
}

enum cache_status
cache_scope_generation(struct cache *c, const char *scope, uint64_t *gen)
{
	char	key[CACHE_KEY_LEN];

	cache_scope_key(scope, key);
	return (cache_incr(c, key, 0, util_wall_ms(), CACHE_MAX_TTL, gen));
}

enum cache_status
cache_scope_invalidate(struct cache *c, const char *scope)
{
	char		key[CACHE_KEY_LEN];
	uint64_t	gen;

	cache_scope_key(scope, key);
	return (cache_incr(c, key, 1, util_wall_ms(), CACHE_MAX_TTL, &gen));
}

/* One server on a connection of its own: up or down, and how fast. */
static void
cache_probe_one(const char *item, struct json_object *servers, int *up)
{
	struct json_object	*s = json_object_new_object();
	memcached_st		*mc = NULL;
	memcached_return_t	 rc;
	char			*copy, *host, *v;
	in_port_t		 port;
	size_t			 len;
	uint32_t		 flags;
	uint64_t		 t0;
	const char		*error = NULL;
	char			 key[CACHE_KEY_LEN];

	json_object_object_add(s, "server", json_object_new_string(item));
	copy = xstrdup(item);
	if (!cache_split_server(copy, &host, &port)) {
		error = "bad server";
		goto done;
	}
	if ((mc = memcached_create(NULL)) == NULL)
		abort();
	if (!cache_behaviours(mc, cfg->memcached_timeout_ms) ||
	    memcached_server_add(mc, host, port) != MEMCACHED_SUCCESS) {
		error = "bad server";
		goto done;
	}
	cache_key(key, "probe", "health");
	t0 = util_mono_us();
	v = memcached_get(mc, key, strlen(key), &len, &flags, &rc);
	free(v);
	json_object_object_add(s, "latency_ms", json_object_new_double(
	    (double)(util_mono_us() - t0) / 1000.0));
	if (rc != MEMCACHED_SUCCESS && rc != MEMCACHED_NOTFOUND)
		error = memcached_strerror(mc, rc);
done:
	json_object_object_add(s, "status",
	    json_object_new_string(error == NULL ? "up" : "down"));
	if (error != NULL)
		json_object_object_add(s, "error",
		    json_object_new_string(error));
	else
		(*up)++;
	json_object_array_add(servers, s);
	if (mc != NULL)
		memcached_free(mc);
	free(copy);
}

int
cache_probe(struct json_object *servers, int *total)
{
	char	*copy, *item, *save;
	int	 up = 0;

	*total = 0;
	if (!cache_configured())
		return (0);
	copy = xstrdup(cfg->memcached_servers);
	for (item = strtok_r(copy, ", ", &save); item != NULL;
	    item = strtok_r(NULL, ", ", &save)) {
		cache_probe_one(item, servers, &up);
		(*total)++;
	}
	free(copy);
	return (up);
}

void
cache_stats_get(struct cache_stats *out)
{
	out->gets = __atomic_load_n(&cache_counters.gets, __ATOMIC_RELAXED);
	out->hits = __atomic_load_n(&cache_counters.hits, __ATOMIC_RELAXED);
	out->misses = __atomic_load_n(&cache_counters.misses,
	    __ATOMIC_RELAXED);
	out->sets = __atomic_load_n(&cache_counters.sets, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&cache_counters.errors,
	    __ATOMIC_RELAXED);
}
