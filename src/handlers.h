/* handlers.h: the route handlers, one family per file in handlers/. */
#ifndef HANDLERS_H
#define HANDLERS_H

#include <stdbool.h>

struct http_req;
struct http_resp;
struct json_object;

#define HANDLER(name) \
	void name(struct http_req *req, struct http_resp *resp, \
	    const void *arg)

/* handlers/meta.c */
HANDLER(handle_root);
HANDLER(handle_health);
HANDLER(handle_health_ready);

/* handlers/api.c: arg is the name of the tool the route calls. */
HANDLER(handle_tool);
/* handlers/recommend.c */
HANDLER(handle_recommendation_feedback);
HANDLER(handle_recommendation_stats);
/* handlers/mcp.c: POST /mcp (GET and DELETE get 405 from the router). */
HANDLER(handle_mcp);
/* handlers/openapi.c: GPT Actions and the legacy plugin manifest. */
HANDLER(handle_openapi);
HANDLER(handle_ai_plugin);
HANDLER(handle_logo);
HANDLER(handle_privacy);
/* handlers/health.c */
HANDLER(handle_health_cache);
HANDLER(handle_health_upstream);
bool	health_cache_check(struct json_object *);
/* handlers/db.c */
HANDLER(handle_health_db);

/* handlers/auth.c */
HANDLER(handle_auth_login);
HANDLER(handle_auth_callback);
HANDLER(handle_auth_me);
HANDLER(handle_auth_logout);
HANDLER(handle_me_delete);

/* handlers/oauth.c */
HANDLER(handle_oauth_server_metadata);
HANDLER(handle_oauth_resource_metadata);
HANDLER(handle_oauth_register);
HANDLER(handle_oauth_authorize);
HANDLER(handle_oauth_consent);
HANDLER(handle_oauth_token);
HANDLER(handle_oauth_revoke);
/* handlers/metrics.c */
HANDLER(handle_metrics);

/* handlers/webhooks.c */
HANDLER(handle_alerts_webhook);

/* handlers/stats.c */
HANDLER(handle_top_searches);

/*
 * A dependency for /health/ready. check fills detail (status, latency …)
 * and returns true when healthy; configured says whether it is in use.
 */
struct health_check {
	const char	*name;
	bool		 required;
	bool		 (*configured)(void);
	bool		 (*check)(struct json_object *);
};

extern const struct health_check	health_checks[];
extern const unsigned			health_nchecks;

#endif
