/* handlers/webhooks.c: POST /webhooks/alerts, alert notifications in, Slack and PagerDuty out. */
#include "autoconf.h"

#include <stdlib.h>

#include <json-c/json.h>

#include "alerts.h"
#include "config.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

void
handle_alerts_webhook(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct alerts_msg	 m;
	struct json_object	*o;
	char			*cause = NULL;

	/* Not configured is how this server is set up, not a failure: the
	 * route does not exist here (404, not an error nor a Sentry event). */
	if (*cfg->alert_webhook_secret == '\0') {
		http_resp_error(resp, 404, "not_found", NULL,
		    "no alert webhook on this server (ALERT_WEBHOOK_SECRET is "
		    "not set)");
		return;
	}
	if (!alerts_authorised(http_req_header(req, "Authorization"))) {
		http_resp_header(resp, "WWW-Authenticate",
		    "Bearer realm=\"alerts\"");
		http_resp_error(resp, 401, "unauthorized", NULL,
		    "a valid Bearer secret is required");
		return;
	}
	if (req->body_len > ALERTS_MAX_BODY) {
		http_resp_error(resp, 413, "payload_too_large", NULL,
		    "alert payload is larger than %d bytes", ALERTS_MAX_BODY);
		return;
	}
	if (req->body == NULL || !alerts_parse(req->body, req->body_len, &m,
	    &cause)) {
		http_resp_error(resp, 400, "invalid_payload", NULL, "%s",
		    cause != NULL ? cause : "a JSON body is required");
		free(cause);
		return;
	}
	log_info("alert received", LF_STR("source", m.source),
	    LF_INT("alerts", m.count), LF_BOOL("critical", m.critical),
	    LF_BOOL("resolved", m.resolved), LF_STR("title", m.title),
	    LF_END);
	metrics_alert_received(m.source);
	alerts_forward(&m);
	alerts_msg_clear(&m);

	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("received"));
	http_resp_json(resp, 200, o);
}
