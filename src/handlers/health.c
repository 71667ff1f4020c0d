/* handlers/health.c: /health/cache and /health/upstream, and the cache check of /health/ready. */
#include "autoconf.h"

#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "cache.h"
#include "config.h"
#include "handlers.h"
#include "http.h"
#include "rescache.h"

/* Up while at least one memcached server answers. */
bool
health_cache_check(struct json_object *detail)
{
	struct json_object	*servers = json_object_new_array();
	int			 up, total;

	up = cache_probe(servers, &total);
	json_object_object_add(detail, "servers", servers);
	json_object_object_add(detail, "up", json_object_new_int(up));
	json_object_object_add(detail, "total", json_object_new_int(total));
	return (up > 0);
}

/* Every memcached server, each on its own connection; 503 when none answers. */
/* This worker's kept answers (rescache.h), shown whether memcached is on. */
static void
health_kept_answers(struct json_object *o)
{
	struct json_object	*k = json_object_new_object();
	struct rescache_stats	 rs;

	rescache_stats_get(&rs);
	json_object_object_add(k, "entries",
	    json_object_new_int64((int64_t)rs.entries));
	json_object_object_add(k, "bytes",
	    json_object_new_int64((int64_t)rs.bytes));
	json_object_object_add(k, "budget_bytes",
	    json_object_new_int64((int64_t)cfg->result_cache_kb * 1024));
	json_object_object_add(k, "hits", json_object_new_int64((int64_t)rs.hits));
	json_object_object_add(k, "misses",
	    json_object_new_int64((int64_t)rs.misses));
	json_object_object_add(k, "stores",
	    json_object_new_int64((int64_t)rs.stores));
	json_object_object_add(k, "evictions",
	    json_object_new_int64((int64_t)rs.evictions));
	json_object_object_add(o, "worker_kept_answers", k);
}

void
handle_health_cache(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct json_object	*o = json_object_new_object(), *st;
	struct cache_stats	 cs;
	int			 up, total;

	health_kept_answers(o);
	if (!cache_configured()) {
		json_object_object_add(o, "status",
		    json_object_new_string("disabled"));
		http_resp_json(resp, 200, o);
		return;
	}
	health_cache_check(o);
	up = json_object_get_int(json_object_object_get(o, "up"));
	total = json_object_get_int(json_object_object_get(o, "total"));
	json_object_object_add(o, "status", json_object_new_string(
	    up == total ? "up" : up == 0 ? "down" : "degraded"));
	cache_stats_get(&cs);
	st = json_object_new_object();
	json_object_object_add(st, "gets", json_object_new_int64((int64_t)cs.gets));
	json_object_object_add(st, "hits", json_object_new_int64((int64_t)cs.hits));
	json_object_object_add(st, "misses",
	    json_object_new_int64((int64_t)cs.misses));
	json_object_object_add(st, "sets", json_object_new_int64((int64_t)cs.sets));
	json_object_object_add(st, "errors",
	    json_object_new_int64((int64_t)cs.errors));
	json_object_object_add(o, "worker_stats", st);
	if (up == 0)
		http_resp_header(resp, "Retry-After", "%d",
		    HTTP_RETRY_AFTER_DOWN);
	http_resp_json(resp, up == 0 ? 503 : 200, o);
}

/* The AniList client as this worker sees it; 503 while calls cannot go. */
void
handle_health_upstream(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct json_object	*o = json_object_new_object(), *state;
	bool			 ok, degraded;

	ok = anilist_describe(o);
	/* Timing out, but calls still go: degraded, not down. */
	degraded = !ok && json_object_object_get_ex(o, "state", &state) &&
	    strcmp(json_object_get_string(state), "degraded") == 0;
	json_object_object_add(o, "status", json_object_new_string(ok ? "up" :
	    degraded ? "degraded" : "down"));
	if (!ok && !degraded)
		http_resp_header(resp, "Retry-After", "%d",
		    HTTP_RETRY_AFTER_DOWN);
	http_resp_json(resp, ok || degraded ? 200 : 503, o);
}
