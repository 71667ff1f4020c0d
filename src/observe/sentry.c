/* observe/sentry.c: Sentry DSNs, auth headers, events and envelopes; delivery via the outbox or a reporter child. */
#include "autoconf.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "sentry.h"
#include "util.h"

#define SENTRY_ATTEMPTS		2
#define SENTRY_MAX_REPORTERS	2
#define SENTRY_MAX_TEXT		500

static struct sentry_dsn	sentry_worker_dsn;
static bool			sentry_on;
static pid_t			sentry_reporters[SENTRY_MAX_REPORTERS];

static bool
sentry_token_ok(const char *s, size_t n)
{
	size_t	i;

	if (n == 0)
		return (false);
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '_'))
			return (false);
	}
	return (true);
}

bool
sentry_dsn_parse(const char *dsn, struct sentry_dsn *out, char **cause)
{
	const char	*scheme_end, *auth, *at, *host_end, *colon, *slash;
	const char	*project, *end;
	size_t		 scheme_len;

	memset(out, 0, sizeof *out);
	if (strncmp(dsn, "https://", 8) == 0)
		scheme_len = 5;
	else if (strncmp(dsn, "http://", 7) == 0)
		scheme_len = 4;
	else {
		xasprintf(cause, "a DSN starts with https:// or http://");
		return (false);
	}
	scheme_end = dsn + scheme_len;
	auth = scheme_end + 3;
	host_end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (end = auth; end < host_end; end++) {
		if (*end == '@')
			at = end;
	}
	if (at == NULL) {
		xasprintf(cause, "a DSN names its key: https://KEY@host/PROJECT");
		return (false);
	}
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (!sentry_token_ok(auth, (size_t)((colon != NULL ? colon : at) -
	    auth)) || (colon != NULL && !sentry_token_ok(colon + 1,
	    (size_t)(at - colon - 1)))) {
		xasprintf(cause, "the DSN's key is not a plain token");
		return (false);
	}
	if (at + 1 == host_end || *host_end != '/') {
		xasprintf(cause, "the DSN has no host or no project");
		return (false);
	}
	end = host_end + strlen(host_end);
	while (end > host_end + 1 && end[-1] == '/')
		end--;
	for (slash = end - 1; *slash != '/'; slash--)
		;
	project = slash + 1;
	if (!sentry_token_ok(project, (size_t)(end - project)) ||
	    strpbrk(host_end, "?#") != NULL) {
		xasprintf(cause, "the DSN ends in its project id");
		return (false);
	}
	out->public_key = xstrndup(auth, (size_t)((colon != NULL ? colon : at) -
	    auth));
	if (colon != NULL)
		out->secret_key = xstrndup(colon + 1, (size_t)(at - colon - 1));
	out->project = xstrndup(project, (size_t)(end - project));
	xasprintf(&out->envelope_url, "%.*s://%.*s%.*s/api/%s/envelope/",
	    (int)scheme_len, dsn, (int)(host_end - at - 1), at + 1,
	    (int)(slash - host_end), host_end, out->project);
	return (true);
}

void
sentry_dsn_clear(struct sentry_dsn *d)
{
	free(d->envelope_url);
	free(d->public_key);
	free(d->secret_key);
	free(d->project);
	memset(d, 0, sizeof *d);
}

bool
sentry_dsn_check(const char *dsn, char **cause)
{
	struct sentry_dsn	d;

	if (*dsn == '\0')
		return (true);
	if (!sentry_dsn_parse(dsn, &d, cause))
		return (false);
	sentry_dsn_clear(&d);
	return (true);
}

char *
sentry_auth_header(const struct sentry_dsn *d, long long now)
{
	char	*h;

	xasprintf(&h, "X-Sentry-Auth: Sentry sentry_version=7, "
	    "sentry_client=%s/%s, sentry_timestamp=%lld, sentry_key=%s%s%s",
	    PACKAGE, PACKAGE_VERSION, now, d->public_key,
	    d->secret_key != NULL ? ", sentry_secret=" : "",
	    d->secret_key != NULL ? d->secret_key : "");
	return (h);
}

bool
sentry_wanted(const char *route, int status)
{
	if (status < 500)
		return (false);
	/* Readiness answering "not ready" is its job, not an error. */
	if (status == 503 && route != NULL &&
	    strcmp(route, "/health/ready") == 0)
		return (false);
	return (true);
}

static void
sentry_add_str(struct json_object *o, const char *k, const char *v)
{
	char	*cut;

	if (v == NULL)
		return;
	cut = xstrndup(v, SENTRY_MAX_TEXT);
	if (!util_utf8_valid(cut, strlen(cut))) {
		free(cut);
		return;
	}
	json_object_object_add(o, k, json_object_new_string(cut));
	free(cut);
}

/* The fields every event has. */
static struct json_object *
sentry_event_base(const char *level)
{
	struct json_object	*e = json_object_new_object();
	unsigned char		 raw[16];
	char			 id[33], ts[32], host[256];

	if (!util_random_bytes(raw, sizeof raw))
		memset(raw, 0, sizeof raw);
	raw[6] = (unsigned char)((raw[6] & 0x0f) | 0x40);	/* UUID v4 */
	raw[8] = (unsigned char)((raw[8] & 0x3f) | 0x80);
	util_hex(raw, sizeof raw, id);
	log_format_ts(util_wall_ms(), ts);
	json_object_object_add(e, "event_id", json_object_new_string(id));
	json_object_object_add(e, "timestamp", json_object_new_string(ts));
	json_object_object_add(e, "platform", json_object_new_string("c"));
	json_object_object_add(e, "level", json_object_new_string(level));
	json_object_object_add(e, "logger", json_object_new_string(PACKAGE));
	json_object_object_add(e, "release",
	    json_object_new_string(PACKAGE "@" PACKAGE_VERSION));
	sentry_add_str(e, "environment", cfg->environment);
	if (gethostname(host, sizeof host) == 0) {
		host[sizeof host - 1] = '\0';
		sentry_add_str(e, "server_name", host);
	}
	return (e);
}

static void
sentry_message(struct json_object *e, const char *text)
{
	struct json_object	*m = json_object_new_object();

	sentry_add_str(m, "formatted", text);
	json_object_object_add(e, "message", m);
}

struct json_object *
sentry_event_request(const struct http_req *req, const struct http_resp *resp)
{
	struct json_object	*e, *tags, *extra, *body, *err, *v, *r;
	const char		*route = req->route != NULL ? req->route :
				    "unknown";
	const char		*code = NULL, *msg = NULL;
	char			*text, st[8];

	e = sentry_event_base("error");
	body = NULL;
	if (resp->body.len != 0 && resp->body.len < 65536 &&
	    resp->content_type != NULL &&
	    strcmp(resp->content_type, "application/json") == 0)
		body = json_tokener_parse(resp->body.data);
	if (body != NULL && json_object_object_get_ex(body, "error", &err) &&
	    json_object_is_type(err, json_type_object)) {
		if (json_object_object_get_ex(err, "code", &v) &&
		    json_object_is_type(v, json_type_string))
			code = json_object_get_string(v);
		if (json_object_object_get_ex(err, "message", &v) &&
		    json_object_is_type(v, json_type_string))
			msg = json_object_get_string(v);
	}
	xasprintf(&text, "HTTP %d on %s %s%s%s", resp->status, req->method,
	    route, msg != NULL ? ": " : "", msg != NULL ? msg : "");
	sentry_message(e, text);
	free(text);
	sentry_add_str(e, "transaction", route);

	snprintf(st, sizeof st, "%d", resp->status);
	tags = json_object_new_object();
	sentry_add_str(tags, "route", route);
	sentry_add_str(tags, "method", req->method);
	sentry_add_str(tags, "status", st);
	sentry_add_str(tags, "request_id", req->request_id);
	sentry_add_str(tags, "error_code", code);
	json_object_object_add(e, "tags", tags);

	r = json_object_new_object();
	sentry_add_str(r, "method", req->method);
	sentry_add_str(r, "url", route);
	json_object_object_add(e, "request", r);

	extra = json_object_new_object();
	json_object_object_add(extra, "duration_ms", json_object_new_double(
	    (double)(util_mono_us() - req->start_us) / 1000.0));
	sentry_add_str(extra, "error", req->log_error);
	sentry_add_str(extra, "cache", req->log_cache);
	sentry_add_str(extra, "tool", req->log_tool);
	if (req->log_upstream_ms >= 0)
		json_object_object_add(extra, "upstream_ms",
		    json_object_new_int64(req->log_upstream_ms));
	json_object_object_add(e, "extra", extra);
	json_object_put(body);
	return (e);
}

struct json_object *
sentry_event_crash(pid_t pid, int sig, int status)
{
	struct json_object	*e, *tags;
	char			*text, num[16];

	e = sentry_event_base("fatal");
	if (sig != 0)
		xasprintf(&text, "worker %d killed by signal %d (%s)", (int)pid,
		    sig, strsignal(sig));
	else
		xasprintf(&text, "worker %d exited with status %d", (int)pid,
		    status);
	sentry_message(e, text);
	free(text);
	sentry_add_str(e, "transaction", "worker");
	tags = json_object_new_object();
	sentry_add_str(tags, "kind", "worker_crash");
	snprintf(num, sizeof num, "%d", sig != 0 ? sig : status);
	sentry_add_str(tags, sig != 0 ? "signal" : "exit_status", num);
	json_object_object_add(e, "tags", tags);
	return (e);
}

char *
sentry_envelope(struct json_object *event, size_t *len)
{
	struct json_object	*id;
	const char		*body, *eid = "";
	struct buf		 b;
	char			 ts[32];

	if (json_object_object_get_ex(event, "event_id", &id))
		eid = json_object_get_string(id);
	body = json_object_to_json_string_ext(event, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	log_format_ts(util_wall_ms(), ts);
	buf_init(&b);
	buf_printf(&b, "{\"event_id\":\"%s\",\"sent_at\":\"%s\"}\n", eid, ts);
	buf_printf(&b, "{\"type\":\"event\",\"content_type\":"
	    "\"application/json\",\"length\":%zu}\n", strlen(body));
	buf_puts(&b, body);
	buf_putc(&b, '\n');
	*len = b.len;
	return (buf_detach(&b));
}

void
sentry_init(void)
{
	char	*cause = NULL;

	sentry_dsn_clear(&sentry_worker_dsn);
	sentry_on = false;
	if (*cfg->sentry_dsn == '\0')
		return;
	if (!sentry_dsn_parse(cfg->sentry_dsn, &sentry_worker_dsn, &cause)) {
		log_error("SENTRY_DSN unusable; error tracking off",
		    LF_STR("error", cause), LF_END);
		free(cause);
		return;
	}
	sentry_on = true;
}

/* Build the POST for event and hand it to send (queue or now). */
static void
sentry_deliver(const struct sentry_dsn *d, struct json_object *event,
    bool now)
{
	const char	*headers[3];
	char		*auth, *body, *cause = NULL;
	size_t		 len;
	long		 status;

	auth = sentry_auth_header(d, (long long)(util_wall_ms() / 1000));
	body = sentry_envelope(event, &len);
	headers[0] = "Content-Type: application/x-sentry-envelope";
	headers[1] = auth;
	headers[2] = NULL;
	if (!now)
		(void)outbox_post("sentry", d->envelope_url, headers, body, len,
		    SENTRY_ATTEMPTS);
	else {
		status = outbox_send(d->envelope_url, headers, body, len,
		    &cause);
		if (status >= 200 && status < 300) {
			log_info("crash report sent", LF_INT("status", status),
			    LF_END);
			metrics_notification("sentry", "sent");
		} else {
			log_error("crash report failed", LF_INT("status",
			    status), LF_STR("error", cause), LF_END);
			metrics_notification("sentry", "failed");
		}
		free(cause);
	}
	free(auth);
	free(body);
}

void
sentry_report_request(const struct http_req *req,
    const struct http_resp *resp)
{
	struct json_object	*e;

	if (!sentry_on || !sentry_wanted(req->route, resp->status))
		return;
	e = sentry_event_request(req, resp);
	sentry_deliver(&sentry_worker_dsn, e, false);
	json_object_put(e);
}

void
sentry_report_crash(pid_t pid, int sig, int status)
{
	struct sentry_dsn	 d;
	struct json_object	*e;
	char			*cause = NULL;
	pid_t			 child;
	int			 slot;

	if (*cfg->sentry_dsn == '\0')
		return;
	for (slot = 0; slot < SENTRY_MAX_REPORTERS; slot++) {
		if (sentry_reporters[slot] == 0)
			break;
	}
	if (slot == SENTRY_MAX_REPORTERS) {
		log_warn("crash report dropped: reporters busy",
		    LF_INT("worker_pid", pid), LF_END);
		metrics_notification("sentry", "dropped");
		return;
	}
	if (!sentry_dsn_parse(cfg->sentry_dsn, &d, &cause)) {
		free(cause);
		return;
	}
	e = sentry_event_crash(pid, sig, status);
	child = fork();
	if (child == 0) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		sentry_deliver(&d, e, true);
		_exit(0);
	}
	if (child == -1) {
		log_error("crash report: fork failed", LF_END);
		metrics_notification("sentry", "dropped");
	} else
		sentry_reporters[slot] = child;
	json_object_put(e);
	sentry_dsn_clear(&d);
}

bool
sentry_reaped(pid_t pid)
{
	int	i;

	for (i = 0; i < SENTRY_MAX_REPORTERS; i++) {
		if (sentry_reporters[i] == pid && pid != 0) {
			sentry_reporters[i] = 0;
			return (true);
		}
	}
	return (false);
}
