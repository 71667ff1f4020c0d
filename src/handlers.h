/* handlers.h: the route handlers, one family per file in handlers/. */
#ifndef HANDLERS_H
#define HANDLERS_H

#include <stdbool.h>

struct http_req;
struct http_resp;
struct json_object;

/* handlers/meta.c */
void	handle_root(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_health(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_health_ready(struct http_req *req, struct http_resp *resp,
	    const void *arg);

/* handlers/api.c: arg is the name of the tool the route calls. */
void	handle_tool(struct http_req *req, struct http_resp *resp,
	    const void *arg);
/* handlers/rec_feedback.c */
void	handle_recommendation_feedback(struct http_req *req,
	    struct http_resp *resp, const void *arg);
void	handle_recommendation_stats(struct http_req *req,
	    struct http_resp *resp, const void *arg);
/* handlers/mcp_endpoint.c: POST /mcp (GET and DELETE get 405 from the router). */
void	handle_mcp(struct http_req *req, struct http_resp *resp,
	    const void *arg);
/* handlers/openapi_endpoint.c: GPT Actions and the legacy plugin manifest. */
void	handle_openapi(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_ai_plugin(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_logo(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_privacy(struct http_req *req, struct http_resp *resp,
	    const void *arg);
/* handlers/health.c */
void	handle_health_cache(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_health_upstream(struct http_req *req, struct http_resp *resp,
	    const void *arg);
bool	health_cache_check(struct json_object *detail);
/* handlers/health_db.c */
void	handle_health_db(struct http_req *req, struct http_resp *resp,
	    const void *arg);

/* handlers/account.c */
void	handle_auth_login(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_auth_callback(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_auth_me(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_auth_logout(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_me_delete(struct http_req *req, struct http_resp *resp,
	    const void *arg);

/* handlers/oauth.c */
void	handle_oauth_server_metadata(struct http_req *req,
	    struct http_resp *resp, const void *arg);
void	handle_oauth_resource_metadata(struct http_req *req,
	    struct http_resp *resp, const void *arg);
void	handle_oauth_register(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_oauth_authorize(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_oauth_consent(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_oauth_token(struct http_req *req, struct http_resp *resp,
	    const void *arg);
void	handle_oauth_revoke(struct http_req *req, struct http_resp *resp,
	    const void *arg);
/* handlers/metrics_endpoint.c */
void	handle_metrics(struct http_req *req, struct http_resp *resp,
	    const void *arg);

/* handlers/webhooks.c */
void	handle_alerts_webhook(struct http_req *req, struct http_resp *resp,
	    const void *arg);

/* handlers/stats.c */
void	handle_top_searches(struct http_req *req, struct http_resp *resp,
	    const void *arg);

/*
 * A dependency for /health/ready. check fills detail (status, latency …)
 * and returns true when healthy; configured says whether it is in use.
 */
struct health_check {
	const char	*name;
	bool		 required;
	bool		 (*configured)(void);
	bool		 (*check)(struct json_object *detail);
};

extern const struct health_check	health_checks[];
extern const unsigned			health_nchecks;

#endif
