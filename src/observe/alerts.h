/* observe/alerts.h: Alertmanager, Grafana and plain alert webhooks turned into Slack and PagerDuty messages. */
#ifndef ALERTS_H
#define ALERTS_H

#include <stdbool.h>
#include <stddef.h>

#define ALERTS_MAX_BODY		65536	/* bytes of webhook JSON */
#define ALERTS_MAX_LISTED	20	/* alerts spelled out in one message */
#define ALERTS_ATTEMPTS		4	/* per receiver, first try included */

/* One webhook, understood. */
struct alerts_msg {
	const char	*source;	/* "alertmanager", "grafana", "plain" */
	bool		 resolved;	/* every alert in it resolved */
	bool		 critical;	/* some alert has severity critical */
	int		 count;		/* alerts in the payload */
	char		*title;		/* one line: "[FIRING:2] HighErrorRate" */
	char		*text;		/* readable, several lines (plain text) */
	char		*dedup_key;	/* stable per alert group */
};

/*
 * Parse a webhook body. false with *cause (caller frees) when it is not
 * JSON or not a payload of a known shape. Clear msg with alerts_msg_clear.
 */
bool	alerts_parse(const char *body, size_t len, struct alerts_msg *m,
	    char **cause) __attribute__((warn_unused_result));
void	alerts_msg_clear(struct alerts_msg *m);
/* Slack incoming-webhook JSON ({"text": …}, mrkdwn escaped); caller frees. */
char	*alerts_slack_payload(const struct alerts_msg *m);
/* PagerDuty Events API v2 JSON (trigger or resolve); caller frees. */
char	*alerts_pagerduty_payload(const struct alerts_msg *m,
	    const char *routing_key);
/*
 * Queue the message for SLACK_WEBHOOK_URL and, when critical, for
 * PAGERDUTY_URL with PAGERDUTY_ROUTING_KEY (each only when configured).
 */
void	alerts_forward(const struct alerts_msg *m);
/* Is this the Bearer credential ALERT_WEBHOOK_SECRET asks for? */
bool	alerts_authorised(const char *authorization);

#endif
