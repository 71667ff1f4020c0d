/* observe/alerts.c: reads alert webhooks (Alertmanager, Grafana, plain) and words them for Slack and PagerDuty. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "alerts.h"
#include "config.h"
#include "jsonbody.h"
#include "outbox.h"
#include "util.h"

#define ALERTS_MAX_DEPTH	16
#define ALERTS_MAX_LINE		400

/* A string member of o, or NULL. */
static const char *
alerts_str(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return (NULL);
	return (jsonbody_string(v));
}

static struct json_object *
alerts_obj(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return (NULL);
	return (v);
}

static bool
alerts_is_critical(struct json_object *labels)
{
	const char	*sev = alerts_str(labels, "severity");

	return (sev != NULL && strcasecmp(sev, "critical") == 0);
}

/* SHA-256 of s in hex (65 bytes). */
static void
alerts_digest(const char *s, char *out)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n = 0;

	if (EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) != 1)
		n = 0;
	util_hex(md, n, out);
}

/* m's dedup_key: stable for the same basis (a group key, a rule …). */
static void
alerts_dedup_key(struct alerts_msg *m, const char *basis)
{
	char	digest[65];

	alerts_digest(basis, digest);
	xasprintf(&m->dedup_key, "anilist-gpt-%.32s", digest);
}

/* Append s, cut to max bytes on a UTF-8 boundary, controls as spaces. */
static void
alerts_put(struct buf *b, const char *s, size_t max)
{
	size_t	n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (; n > 0; n--, s++)
		buf_putc(b, (unsigned char)*s < 0x20 ? ' ' : *s);
}

/* One line per alert of an Alertmanager or Grafana group. */
static void
alerts_list(struct buf *b, struct json_object *alerts, int *firing)
{
	struct json_object	*a, *labels, *ann;
	const char		*name, *sev, *desc, *st;
	size_t			 i, n = json_object_array_length(alerts);

	*firing = 0;
	for (i = 0; i < n; i++) {
		a = json_object_array_get_idx(alerts, i);
		st = alerts_str(a, "status");
		if (st == NULL || strcmp(st, "resolved") != 0)
			(*firing)++;
		if (i >= ALERTS_MAX_LISTED)
			continue;
		labels = alerts_obj(a, "labels");
		ann = alerts_obj(a, "annotations");
		name = alerts_str(labels, "alertname");
		sev = alerts_str(labels, "severity");
		desc = alerts_str(ann, "summary");
		if (desc == NULL)
			desc = alerts_str(ann, "description");
		if (desc == NULL)
			desc = alerts_str(ann, "message");
		buf_puts(b, "\n- ");
		if (st != NULL && strcmp(st, "resolved") == 0)
			buf_puts(b, "[resolved] ");
		else if (sev != NULL) {
			buf_putc(b, '[');
			alerts_put(b, sev, 20);
			buf_puts(b, "] ");
		}
		alerts_put(b, name != NULL ? name : "alert", 120);
		if (desc != NULL) {
			buf_puts(b, ": ");
			alerts_put(b, desc, ALERTS_MAX_LINE);
		}
	}
	if (n > ALERTS_MAX_LISTED)
		buf_printf(b, "\n- ... and %zu more", n - ALERTS_MAX_LISTED);
}

static bool
alerts_parse_group(struct json_object *root, struct json_object *alerts,
    struct alerts_msg *m, char **cause)
{
	struct json_object	*a, *common;
	struct buf		 text, title;
	const char		*name, *given, *url, *key;
	size_t			 i, n = json_object_array_length(alerts);
	int			 firing;

	if (n == 0) {
		xasprintf(cause, "\"alerts\" is empty");
		return (false);
	}
	for (i = 0; i < n; i++) {
		a = json_object_array_get_idx(alerts, i);
		if (!json_object_is_type(a, json_type_object)) {
			xasprintf(cause, "\"alerts\" must hold objects");
			return (false);
		}
		if (alerts_is_critical(alerts_obj(a, "labels")))
			m->critical = true;
	}
	common = alerts_obj(root, "commonLabels");
	if (alerts_is_critical(common))
		m->critical = true;
	m->source = json_object_object_get_ex(root, "orgId", NULL) ||
	    json_object_object_get_ex(root, "state", NULL) ? "grafana" :
	    "alertmanager";
	m->count = (int)n;

	buf_init(&text);
	alerts_list(&text, alerts, &firing);
	m->resolved = firing == 0;

	buf_init(&title);
	given = alerts_str(root, "title");
	if (given != NULL)
		alerts_put(&title, given, 200);
	else {
		name = alerts_str(alerts_obj(root, "groupLabels"), "alertname");
		if (name == NULL)
			name = alerts_str(common, "alertname");
		if (name == NULL)
			name = alerts_str(alerts_obj(json_object_array_get_idx(
			    alerts, 0), "labels"), "alertname");
		buf_printf(&title, "[%s:%d] ", m->resolved ? "RESOLVED" :
		    "FIRING", m->resolved ? (int)n : firing);
		alerts_put(&title, name != NULL ? name : "alert", 120);
	}
	m->title = buf_detach(&title);

	if ((url = alerts_str(root, "externalURL")) != NULL &&
	    (strncmp(url, "http://", 7) == 0 ||
	    strncmp(url, "https://", 8) == 0)) {
		buf_puts(&text, "\nSource: ");
		alerts_put(&text, url, 200);
	}
	m->text = buf_detach(&text);

	key = alerts_str(root, "groupKey");
	alerts_dedup_key(m, key != NULL ? key : m->title);
	return (true);
}

/* Grafana's legacy (pre-unified) alert notification. */
static bool
alerts_parse_legacy(struct json_object *root, struct alerts_msg *m)
{
	struct buf	 b;
	const char	*title = alerts_str(root, "title");
	const char	*rule = alerts_str(root, "ruleName");
	const char	*state = alerts_str(root, "state");
	const char	*msg = alerts_str(root, "message");

	m->source = "grafana";
	m->count = 1;
	m->resolved = state != NULL && strcmp(state, "ok") == 0;
	m->critical = alerts_is_critical(alerts_obj(root, "tags"));
	buf_init(&b);
	alerts_put(&b, title != NULL ? title : rule != NULL ? rule : "alert",
	    200);
	m->title = buf_detach(&b);
	buf_init(&b);
	buf_puts(&b, "\n- ");
	alerts_put(&b, msg != NULL ? msg : state != NULL ? state : "", 2000);
	m->text = buf_detach(&b);
	alerts_dedup_key(m, rule != NULL ? rule : m->title);
	return (true);
}

static bool
alerts_parse_plain(struct json_object *root, const char *msg,
    struct alerts_msg *m)
{
	struct buf	 b;
	const char	*sev = alerts_str(root, "severity");
	const char	*st = alerts_str(root, "status");

	m->source = "plain";
	m->count = 1;
	m->resolved = st != NULL && strcmp(st, "resolved") == 0;
	m->critical = sev != NULL && strcasecmp(sev, "critical") == 0;
	buf_init(&b);
	if (sev != NULL) {
		buf_putc(&b, '[');
		alerts_put(&b, sev, 20);
		buf_puts(&b, "] ");
	}
	alerts_put(&b, msg, 200);
	m->title = buf_detach(&b);
	buf_init(&b);
	if (strlen(msg) > 200) {
		buf_puts(&b, "\n");
		alerts_put(&b, msg, 3000);
	}
	m->text = buf_detach(&b);
	alerts_dedup_key(m, msg);
	return (true);
}

bool
alerts_parse(const char *body, size_t len, struct alerts_msg *m,
    char **cause)
{
	struct json_object	*root, *alerts;
	const char		*msg, *why;
	bool			 ok = false;

	memset(m, 0, sizeof *m);
	if (len > ALERTS_MAX_BODY) {
		xasprintf(cause, "body must be UTF-8 JSON of at most %d bytes",
		    ALERTS_MAX_BODY);
		return (false);
	}
	if ((root = jsonbody_parse(body, len, ALERTS_MAX_DEPTH, &why)) ==
	    NULL) {
		xasprintf(cause, "body is not one JSON object: %s", why);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		xasprintf(cause, "body must be a JSON object");
		goto out;
	}
	if (json_object_object_get_ex(root, "alerts", &alerts)) {
		if (!json_object_is_type(alerts, json_type_array)) {
			xasprintf(cause, "\"alerts\" must be an array");
			goto out;
		}
		ok = alerts_parse_group(root, alerts, m, cause);
	} else if (alerts_str(root, "ruleName") != NULL ||
	    (alerts_str(root, "state") != NULL &&
	    alerts_str(root, "title") != NULL))
		ok = alerts_parse_legacy(root, m);
	else if ((msg = alerts_str(root, "message")) != NULL && *msg != '\0')
		ok = alerts_parse_plain(root, msg, m);
	else
		xasprintf(cause, "not an Alertmanager, Grafana or "
		    "{\"message\"} payload");
out:
	if (!ok)
		alerts_msg_clear(m);
	json_object_put(root);
	return (ok);
}

void
alerts_msg_clear(struct alerts_msg *m)
{
	free(m->title);
	free(m->text);
	free(m->dedup_key);
	memset(m, 0, sizeof *m);
}

/* Slack mrkdwn wants &, < and > escaped. */
static void
alerts_slack_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '&')
			buf_puts(b, "&amp;");
		else if (*s == '<')
			buf_puts(b, "&lt;");
		else if (*s == '>')
			buf_puts(b, "&gt;");
		else
			buf_putc(b, *s);
	}
}

char *
alerts_slack_payload(const struct alerts_msg *m)
{
	struct json_object	*o = json_object_new_object();
	struct buf		 b;
	char			*out;

	buf_init(&b);
	buf_puts(&b, m->critical && !m->resolved ? ":rotating_light: *" :
	    m->resolved ? ":white_check_mark: *" : ":warning: *");
	alerts_slack_escape(&b, m->title);
	buf_printf(&b, "* (%s)", m->source);
	alerts_slack_escape(&b, m->text);
	json_object_object_add(o, "text", json_object_new_string(b.data));
	buf_free(&b);
	out = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return (out);
}

char *
alerts_pagerduty_payload(const struct alerts_msg *m, const char *routing_key)
{
	struct json_object	*o, *p, *d;
	char			*out;

	o = json_object_new_object();
	json_object_object_add(o, "routing_key",
	    json_object_new_string(routing_key));
	json_object_object_add(o, "event_action",
	    json_object_new_string(m->resolved ? "resolve" : "trigger"));
	json_object_object_add(o, "dedup_key",
	    json_object_new_string(m->dedup_key));
	if (!m->resolved) {
		p = json_object_new_object();
		json_object_object_add(p, "summary",
		    json_object_new_string(m->title));
		json_object_object_add(p, "source",
		    json_object_new_string(PACKAGE));
		json_object_object_add(p, "severity",
		    json_object_new_string("critical"));
		d = json_object_new_object();
		json_object_object_add(d, "alerts",
		    json_object_new_int(m->count));
		json_object_object_add(d, "via",
		    json_object_new_string(m->source));
		json_object_object_add(d, "details",
		    json_object_new_string(m->text));
		json_object_object_add(p, "custom_details", d);
		json_object_object_add(o, "payload", p);
	}
	out = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return (out);
}

void
alerts_forward(const struct alerts_msg *m)
{
	static const char *const headers[] = {
		"Content-Type: application/json", NULL
	};
	char	*body;

	if (*cfg->slack_webhook_url != '\0') {
		body = alerts_slack_payload(m);
		(void)outbox_post("slack", cfg->slack_webhook_url, headers,
		    body, strlen(body), ALERTS_ATTEMPTS);
		free(body);
	}
	if (m->critical && *cfg->pagerduty_routing_key != '\0') {
		body = alerts_pagerduty_payload(m, cfg->pagerduty_routing_key);
		(void)outbox_post("pagerduty", cfg->pagerduty_url, headers,
		    body, strlen(body), ALERTS_ATTEMPTS);
		free(body);
	}
}

bool
alerts_authorised(const char *authorization)
{
	char	given[65], want[65];

	if (*cfg->alert_webhook_secret == '\0' || authorization == NULL ||
	    strncasecmp(authorization, "Bearer ", 7) != 0)
		return (false);
	/* Digests of equal length: the comparison leaks neither content nor length. */
	alerts_digest(authorization + 7, given);
	alerts_digest(cfg->alert_webhook_secret, want);
	return (util_ct_equal(given, 64, want, 64));
}
