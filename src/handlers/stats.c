/* handlers/stats.c: GET /v1/stats/top-searches, the most searched anime queries from PostgreSQL. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "searchstats.h"
#include "util.h"

#define STATS_LIMIT_DEFAULT	10
#define STATS_LIMIT_MAX		100
#define STATS_WINDOW_DEFAULT	"24h"

/* ?limit=1..100 (10) &window=24h|7d|30d (24h); anything else is a 400. */
static bool
stats_arguments(struct http_req *req, struct http_resp *resp, int *limit,
    const char **window)
{
	const char	*key, *value;
	long long	 n;
	bool		 seen_limit = false, seen_window = false;
	size_t		 i;

	*limit = STATS_LIMIT_DEFAULT;
	*window = STATS_WINDOW_DEFAULT;
	for (i = 0; i < req->nquery; i++) {
		key = req->query[i].key;
		value = req->query[i].value != NULL ? req->query[i].value : "";
		if (strcmp(key, "limit") == 0 && !seen_limit) {
			seen_limit = true;
			if (!util_parse_ll(value, &n) || n < 1 ||
			    n > STATS_LIMIT_MAX) {
				http_resp_error(resp, 400, "invalid_argument",
				    "limit", "limit must be an integer from 1 "
				    "to %d", STATS_LIMIT_MAX);
				return (false);
			}
			*limit = (int)n;
		} else if (strcmp(key, "window") == 0 && !seen_window) {
			seen_window = true;
			if (!searchstats_window_valid(value)) {
				http_resp_error(resp, 400, "invalid_argument",
				    "window", "window must be 24h, 7d or 30d");
				return (false);
			}
			*window = value;
		} else {
			http_resp_error(resp, 400, "invalid_argument", key,
			    "%s parameter \"%.64s\"; this route takes limit "
			    "and window, once each", strcmp(key, "limit") == 0 ||
			    strcmp(key, "window") == 0 ? "repeated" :
			    "unknown", key);
			return (false);
		}
	}
	return (true);
}

/* {"top_searches":[{"query","count"}],"window"}; 503 without PostgreSQL. */
void
handle_top_searches(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct json_object	*top, *o;
	const char		*window;
	char			*cause = NULL;
	int			 limit;

	if (!stats_arguments(req, resp, &limit, &window)) {
		req->log_error = "invalid_argument";
		return;
	}
	if (!db_enabled()) {
		http_resp_error(resp, 503, "stats_disabled", NULL,
		    "search statistics need PostgreSQL, which is not "
		    "configured on this server");
		return;
	}
	if (!searchstats_top(window, limit, &top, &cause)) {
		log_warn("top searches unavailable", LF_STR("error", cause),
		    LF_END);
		free(cause);
		req->log_error = "database unavailable";
		http_resp_header(resp, "Retry-After", "%d",
		    HTTP_RETRY_AFTER_DOWN);
		http_resp_error(resp, 503, "stats_unavailable", NULL,
		    "search statistics are unavailable; try again shortly");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "top_searches", top);
	json_object_object_add(o, "window", json_object_new_string(window));
	http_resp_header(resp, "Cache-Control", "no-cache");
	http_resp_json(resp, 200, o);
}
