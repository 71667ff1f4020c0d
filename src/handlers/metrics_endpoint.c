/* handlers/metrics_endpoint.c: GET /metrics, the Prometheus exposition, for Caddy's internal listener only. */
#include "autoconf.h"

#include <string.h>

#include "handlers.h"
#include "http.h"
#include "metrics.h"
#include "util.h"

/*
 * Caddy's internal site sets the FastCGI parameter ANILIST_GPT_INTERNAL=1
 * (a parameter, not a header, so no client can send it); the public site
 * answers /metrics itself. Without the parameter the route does not exist.
 */
void
handle_metrics(struct http_req *req, struct http_resp *resp, const void *arg)
{
	const char	*internal = http_req_env(req, "ANILIST_GPT_INTERNAL");
	struct buf	 b;

	if (internal == NULL || strcmp(internal, "1") != 0) {
		http_resp_error(resp, 404, "not_found", NULL,
		    "no route for %s", req->path);
		return;
	}
	if (!metrics_enabled()) {
		http_resp_error(resp, 404, "not_found", NULL,
		    "metrics are off (METRICS_ENABLED = false)");
		return;
	}
	buf_init(&b);
	metrics_expose(&b);
	http_resp_text(resp, 200, "text/plain; version=0.0.4", b.data);
	buf_free(&b);
}
