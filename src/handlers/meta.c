/* handlers/meta.c: service identity, liveness and readiness. */
#include "autoconf.h"

#include <json-c/json.h>

#include "anilist.h"
#include "cache.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "util.h"

/*
 * Dependencies in /health/ready, one line each. cache and upstream are
 * not required: without memcached every request goes to AniList, and
 * without AniList the cache still answers. upstream reports the governor
 * and breaker state only: never a call to AniList.
 */
const struct health_check health_checks[] = {
	{ "cache", false, cache_configured, health_cache_check },
	{ "upstream", false, NULL, anilist_describe },
	{ "db", true, db_enabled, db_health },
	{ NULL, false, NULL, NULL }
};
const unsigned health_nchecks = nitems(health_checks) - 1;

void
handle_root(struct http_req *req, struct http_resp *resp, const void *arg)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(PACKAGE));
	json_object_object_add(o, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "status", json_object_new_string("running"));
	http_resp_json(resp, 200, o);
}

/* Liveness: cheap, no I/O. */
void
handle_health(struct http_req *req, struct http_resp *resp, const void *arg)
{
	/* Constant: liveness must stay cheap, so no JSON building here. */
	static const char body[] = "{\"status\":\"healthy\",\"service\":\""
	    PACKAGE "\",\"version\":\"" PACKAGE_VERSION "\"}";

	http_resp_text(resp, 200, "application/json", body);
}

/* Readiness: every configured dependency, 503 if a required one is down. */
void
handle_health_ready(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct json_object	*o, *deps, *d;
	const struct health_check *hc;
	unsigned		 i;
	bool			 ready = true, degraded = false, ok;
	uint64_t		 t0;

	deps = json_object_new_object();
	for (i = 0; i < health_nchecks; i++) {
		hc = &health_checks[i];
		d = json_object_new_object();
		if (hc->configured != NULL && !hc->configured()) {
			json_object_object_add(d, "status",
			    json_object_new_string("disabled"));
			json_object_object_add(deps, hc->name, d);
			continue;
		}
		t0 = util_mono_us();
		ok = hc->check(d);
		/* A check may say more than up or down ("degraded"). */
		if (!json_object_object_get_ex(d, "status", NULL))
			json_object_object_add(d, "status",
			    json_object_new_string(ok ? "up" : "down"));
		json_object_object_add(d, "required",
		    json_object_new_boolean(hc->required));
		json_object_object_add(d, "latency_ms", json_object_new_double(
		    (double)(util_mono_us() - t0) / 1000.0));
		json_object_object_add(deps, hc->name, d);
		if (!ok && hc->required)
			ready = false;
		else if (!ok)
			degraded = true;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(!ready ?
	    "unavailable" : degraded ? "degraded" : "ready"));
	json_object_object_add(o, "service", json_object_new_string(PACKAGE));
	json_object_object_add(o, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "dependencies", deps);
	if (!ready)
		http_resp_header(resp, "Retry-After", "%d",
		    HTTP_RETRY_AFTER_DOWN);
	http_resp_json(resp, ready ? 200 : 503, o);
}
