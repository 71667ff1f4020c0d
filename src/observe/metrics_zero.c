/* observe/metrics_zero.c: the labelled series exported at 0 from the start, so that rate() sees their first event and no query divides by a missing series. */
#include "autoconf.h"

#include <stddef.h>

#include "metrics.h"
#include "util.h"


/* Every value each label of a family can take that is known in advance. */
static const char *const zero_feedback[] = {
	"shown", "accepted", "dismissed", "added_to_list", NULL
};
static const char *const zero_oauth_reasons[] = {
	"invalid_state", "cancelled", "missing_code", "anilist_refused",
	"upstream_error", "unavailable", "not_configured", "denied", NULL
};
static const char *const zero_cache_kinds[] = {
	"search", "trending", "seasonal", "media", "character", "airing",
	"genres", NULL
};
static const char *const zero_cache_results[] = {
	"hit", "miss", "stale", "error", NULL
};
static const char *const zero_upstream_results[] = {
	"ok", "ratelimited", "server_error", "client_error", "timeout",
	"network", "graphql_error", "breaker_open", "budget", NULL
};
static const char *const zero_targets[] = {
	"sentry", "slack", "pagerduty", NULL
};
static const char *const zero_notification_results[] = {
	"sent", "failed", "dropped", NULL
};
static const char *const zero_alert_sources[] = {
	"alertmanager", "grafana", "plain", NULL
};
static const char *const zero_fail_open[] = { "cache", "no_client", NULL };
static const char *const zero_search_dropped[] = {
	"disabled", "full", "database", NULL
};
static const char *const zero_memcached_ops[] = {
	"get", "mget", "set", "add", "delete", "incr", "decr", NULL
};
static const char *const zero_success[] = { "success", NULL };
static const char *const zero_failure[] = { "failure", NULL };
static const char *const zero_empty[] = { "", NULL };

const struct metrics_zero metrics_zeros[] = {
	{ "recommendation_feedback_total", "action", zero_feedback,
	    NULL, NULL },
	{ "oauth_logins_total", "result", zero_success, "reason",
	    zero_empty },
	{ "oauth_logins_total", "result", zero_failure, "reason",
	    zero_oauth_reasons },
	{ "cache_requests_total", "kind", zero_cache_kinds, "result",
	    zero_cache_results },
	{ "anilist_requests_total", "result", zero_upstream_results,
	    NULL, NULL },
	{ "notifications_total", "target", zero_targets, "result",
	    zero_notification_results },
	{ "alerts_received_total", "source", zero_alert_sources, NULL, NULL },
	{ "rate_limit_fail_open_total", "reason", zero_fail_open, NULL, NULL },
	{ "search_stats_dropped_total", "reason", zero_search_dropped,
	    NULL, NULL },
	{ "memcached_request_duration_seconds", "op", zero_memcached_ops,
	    NULL, NULL },
};
const size_t metrics_zeros_count = nitems(metrics_zeros);

/*
 * http_requests_total of every route of the route table, with its method,
 * at these statuses: success, and each 5xx the service answers (500
 * internal, 502 and 504 AniList, 503 a dependency down), so that the first
 * error of a route moves the error-rate alerts.
 */
const char *const metrics_zero_statuses[] = {
	"200", "500", "502", "503", "504", NULL
};
