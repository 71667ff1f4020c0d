/* ratelimit.c: the per-client request limit of our own API (fixed windows counted in memcached). */
#include "autoconf.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "crypto.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "util.h"

#define RATELIMIT_SALT		"anilist-gpt v1"
#define RATELIMIT_INFO		"anilist-gpt rate limit client"
/*
 * Without SECRET_KEY (development only: production refuses to start) the
 * key comes from this fixed text; client hashes are then pseudonyms anyone
 * with the source can reverse for IPv4.
 */
#define RATELIMIT_DEV_SECRET	"anilist-gpt development rate limit key"

struct ratelimit_entry {
	uint64_t	client;		/* first 64 bits of the client hash */
	uint64_t	start;		/* window start; 0: free */
	uint64_t	count;
};

struct ratelimit_table {
	pthread_mutex_t		lock;
	struct ratelimit_entry	entries[RATELIMIT_TABLE_SETS]
				    [RATELIMIT_TABLE_WAYS];
};

/* This process's key and table, made on first use; they live until exit. */
static pthread_once_t		 ratelimit_once = PTHREAD_ONCE_INIT;
static unsigned char		 ratelimit_key[CRYPTO_KEY_LEN];
static bool			 ratelimit_key_ok;
static struct ratelimit_table	*ratelimit_local;

bool
ratelimit_exempt(const char *method, const char *path)
{
	static const char *const prefixes[] = {
		"/health", "/metrics"
	};
	size_t	i, n;

	if (strcmp(method, "OPTIONS") == 0)
		return (true);
	for (i = 0; i < nitems(prefixes); i++) {
		n = strlen(prefixes[i]);
		if (strncmp(path, prefixes[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '/'))
			return (true);
	}
	return (strncmp(path, "/.well-known/", 13) == 0);
}

void
ratelimit_window(uint64_t now_ms, int window, uint64_t *start, int *reset)
{
	uint64_t	w = (uint64_t)window, end_ms;

	*start = now_ms / 1000 / w * w;
	end_ms = (*start + w) * 1000;
	*reset = (int)((end_ms - now_ms + 999) / 1000);
}

bool
ratelimit_derive_key(const char *secret, unsigned char key[CRYPTO_KEY_LEN])
{
	struct crypto_hkdf	in;

	if (secret == NULL || *secret == '\0')
		secret = RATELIMIT_DEV_SECRET;
	in = (struct crypto_hkdf){ .ikm = secret, .ikmlen = strlen(secret),
	    .salt = RATELIMIT_SALT, .saltlen = strlen(RATELIMIT_SALT),
	    .info = RATELIMIT_INFO, .infolen = strlen(RATELIMIT_INFO) };
	return (crypto_hkdf_sha256(&in, key, CRYPTO_KEY_LEN));
}

/*
 * The bytes that name addr's group into group (at most 9): a family byte,
 * then the IPv4 address or the first 8 bytes of the IPv6 one. 0 when addr
 * is not an address.
 */
static size_t
ratelimit_group(const char *addr, unsigned char *group)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	unsigned char	a6[16];
	char		text[INET6_ADDRSTRLEN + 2];
	size_t		len;
	char		*zone;

	if (addr == NULL)
		return (0);
	len = strlen(addr);
	if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']') {
		addr++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof text)
		return (0);
	memcpy(text, addr, len);
	text[len] = '\0';
	if (inet_pton(AF_INET, text, group + 1) == 1) {
		group[0] = 4;
		return (5);
	}
	if ((zone = strchr(text, '%')) != NULL)
		*zone = '\0';
	if (inet_pton(AF_INET6, text, a6) != 1)
		return (0);
	if (memcmp(a6, mapped, sizeof mapped) == 0) {
		group[0] = 4;
		memcpy(group + 1, a6 + 12, 4);
		return (5);
	}
	group[0] = 6;
	memcpy(group + 1, a6, 8);
	return (9);
}

/* The name of len bytes of data: 128 bits of their HMAC, in hex. */
static bool
ratelimit_name(const void *data, size_t len,
    const unsigned char key[CRYPTO_KEY_LEN], char out[RATELIMIT_CLIENT_LEN])
{
	unsigned char	mac[CRYPTO_HASH_LEN];

	*out = '\0';
	if (!crypto_hmac_sha256(key, CRYPTO_KEY_LEN, data, len, mac))
		return (false);
	util_hex(mac, (RATELIMIT_CLIENT_LEN - 1) / 2, out);
	return (true);
}

bool
ratelimit_client(const char *addr, const unsigned char key[CRYPTO_KEY_LEN],
    char out[RATELIMIT_CLIENT_LEN])
{
	unsigned char	group[9];
	size_t		n;

	*out = '\0';
	if ((n = ratelimit_group(addr, group)) == 0)
		return (false);
	return (ratelimit_name(group, n, key, out));
}

bool
ratelimit_caller_name(enum ratelimit_kind kind, const char *name,
    const unsigned char key[CRYPTO_KEY_LEN], char out[RATELIMIT_CLIENT_LEN])
{
	static const char	 tags[] = { 'a', 'm', 'u', 's' };
	unsigned char		 data[1 + RATELIMIT_SUBJECT_MAX];
	size_t			 n;

	*out = '\0';
	if (name == NULL || (unsigned int)kind >= sizeof tags)
		return (false);
	if (kind == RATELIMIT_ADDRESS)
		return (ratelimit_client(name, key, out));
	/* A tag byte first: the kinds never share a name. */
	data[0] = (unsigned char)tags[kind];
	if (kind == RATELIMIT_MCP_ADDRESS)
		n = ratelimit_group(name, data + 1);
	else if ((n = strlen(name)) == 0 || n > RATELIMIT_SUBJECT_MAX)
		n = 0;
	else
		memcpy(data + 1, name, n);
	if (n == 0)
		return (false);
	return (ratelimit_name(data, n + 1, key, out));
}

void
ratelimit_cache_key(char key[CACHE_KEY_LEN], int window, uint64_t start,
    const char *client)
{
	char	id[CACHE_KEY_LEN];

	snprintf(id, sizeof id, "%d:%llu:%s", window,
	    (unsigned long long)start, client);
	cache_key(key, "rl", id);
}

int
ratelimit_local_limit(int limit, int workers)
{
	if (workers < 1)
		workers = 1;
	if (limit <= workers)
		return (1);
	return ((limit + workers - 1) / workers);
}

struct ratelimit_table *
ratelimit_table_create(void)
{
	struct ratelimit_table	*t;

	t = xcalloc(1, sizeof *t);
	if (pthread_mutex_init(&t->lock, NULL) != 0)
		abort();
	return (t);
}

void
ratelimit_table_free(struct ratelimit_table *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* The first 64 bits of a client hash (hex). */
static uint64_t
ratelimit_client_bits(const char *client)
{
	char	head[17];

	snprintf(head, sizeof head, "%s", client);
	return (strtoull(head, NULL, 16));
}

uint64_t
ratelimit_table_hit(struct ratelimit_table *t, const char *client,
    uint64_t start)
{
	struct ratelimit_entry	*set, *e, *victim = NULL;
	uint64_t		 id = ratelimit_client_bits(client), count;
	size_t			 i;

	pthread_mutex_lock(&t->lock);
	set = t->entries[id % RATELIMIT_TABLE_SETS];
	for (i = 0; i < RATELIMIT_TABLE_WAYS; i++) {
		e = &set[i];
		if (e->start == start && e->client == id) {
			victim = e;
			break;
		}
		/* Free or from an older window first, then the smallest. */
		if (victim == NULL || (victim->start == start &&
		    (e->start != start || e->count < victim->count)))
			victim = e;
	}
	if (victim->start != start || victim->client != id) {
		victim->client = id;
		victim->start = start;
		victim->count = 0;
	}
	count = ++victim->count;
	pthread_mutex_unlock(&t->lock);
	return (count);
}

static void
ratelimit_init(void)
{
	ratelimit_key_ok = ratelimit_derive_key(cfg->secret_key, ratelimit_key);
	if (!ratelimit_key_ok)
		log_error("rate limit: cannot derive the client key", LF_END);
	ratelimit_local = ratelimit_table_create();
}

/*
 * This request's count in its window from memcached, or from this
 * worker's table when there is no memcached (*limit is then this worker's
 * share). False when memcached could not answer.
 */
static bool
ratelimit_count(const char *client, uint64_t start, int reset, int *limit,
    uint64_t *count)
{
	char	key[CACHE_KEY_LEN];

	if (!cache_configured()) {
		*limit = ratelimit_local_limit(*limit, cfg->workers);
		*count = ratelimit_table_hit(ratelimit_local, client, start);
		return (true);
	}
	ratelimit_cache_key(key, cfg->rate_limit_window, start, client);
	/* The counter outlives its window by a second, then expires. */
	return (cache_incr(cache_thread(), key, 1, 1, reset + 1, count) ==
	    CACHE_OK);
}

bool
ratelimit_over(const struct ratelimit_verdict *v)
{
	return (v->counted && v->count > (uint64_t)v->limit);
}

bool
ratelimit_count_caller(enum ratelimit_kind kind, const char *name, int limit,
    struct ratelimit_verdict *v)
{
	char		client[RATELIMIT_CLIENT_LEN];
	uint64_t	start;

	memset(v, 0, sizeof *v);
	if (limit <= 0)
		return (true);
	pthread_once(&ratelimit_once, ratelimit_init);
	if (!ratelimit_key_ok || !ratelimit_caller_name(kind, name,
	    ratelimit_key, client)) {
		metrics_rate_limit_fail_open("no_client");
		log_debug("rate limit: no client address", LF_END);
		return (true);
	}
	ratelimit_window(util_wall_ms(), cfg->rate_limit_window, &start,
	    &v->reset);
	v->limit = limit;
	if (!ratelimit_count(client, start, v->reset, &v->limit, &v->count)) {
		metrics_rate_limit_fail_open("cache");
		return (true);
	}
	v->counted = true;
	return (!ratelimit_over(v));
}

void
ratelimit_headers(struct http_resp *resp, const struct ratelimit_verdict *v)
{
	if (!v->counted)
		return;
	http_resp_header(resp, "RateLimit-Limit", "%d", v->limit);
	http_resp_header(resp, "RateLimit-Remaining", "%llu",
	    v->count >= (uint64_t)v->limit ? 0ULL :
	    (unsigned long long)((uint64_t)v->limit - v->count));
	http_resp_header(resp, "RateLimit-Reset", "%d", v->reset);
	if (ratelimit_over(v))
		http_resp_header(resp, "Retry-After", "%d", v->reset);
}

bool
ratelimit_deferred(const char *method, const char *path)
{
	return (strcmp(method, "POST") == 0 && strcmp(path, "/mcp") == 0);
}

bool
ratelimit_check(struct http_req *req, struct http_resp *resp)
{
	struct ratelimit_verdict	v;

	if (cfg->rate_limit_requests <= 0 || ratelimit_exempt(req->method,
	    req->path) || ratelimit_deferred(req->method, req->path))
		return (true);
	if (ratelimit_count_caller(RATELIMIT_ADDRESS, http_req_env(req,
	    "REMOTE_ADDR"), cfg->rate_limit_requests, &v)) {
		ratelimit_headers(resp, &v);
		return (true);
	}
	ratelimit_headers(resp, &v);
	req->route = "rate_limited";
	http_resp_error(resp, 429, "rate_limited", NULL,
	    "too many requests: %d per %d seconds; retry in %d seconds",
	    v.limit, cfg->rate_limit_window, v.reset);
	metrics_rate_limited();
	return (false);
}

int
ratelimit_mcp(struct http_req *req, struct http_resp *resp,
    const struct ratelimit_caller *caller, struct ratelimit_verdict *shown)
{
	struct ratelimit_verdict	 addr, who;
	char				 uid[24];
	int				 wait = 0;

	memset(shown, 0, sizeof *shown);
	if (cfg->rate_limit_requests <= 0)
		return (0);
	if (!ratelimit_count_caller(RATELIMIT_MCP_ADDRESS, http_req_env(req,
	    "REMOTE_ADDR"), cfg->rate_limit_mcp_address, &addr))
		wait = addr.reset;
	memset(&who, 0, sizeof who);
	if (caller->user_id > 0) {
		snprintf(uid, sizeof uid, "%lld", caller->user_id);
		(void)ratelimit_count_caller(RATELIMIT_USER, uid,
		    cfg->rate_limit_requests, &who);
	} else if (caller->subject != NULL)
		(void)ratelimit_count_caller(RATELIMIT_SUBJECT,
		    caller->subject, cfg->rate_limit_requests, &who);
	if (ratelimit_over(&who) && who.reset > wait)
		wait = who.reset;
	/* The caller's own budget, unless the address is what ran out. */
	*shown = who.counted && !ratelimit_over(&addr) ? who : addr;
	ratelimit_headers(resp, shown);
	if (wait > 0)
		metrics_rate_limited();
	return (wait);
}
