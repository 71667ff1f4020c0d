/* observe/sentry.h: error events (5xx responses, worker crashes) sent to Sentry as the DSN says. */
#ifndef SENTRY_H
#define SENTRY_H

#include <stdbool.h>
#include <sys/types.h>

struct http_req;
struct http_resp;
struct json_object;

/* What a DSN {scheme}://{key}[:{secret}]@{host}[/{path}]/{project} implies. */
struct sentry_dsn {
	char	*envelope_url;	/* {scheme}://{host}{path}/api/{project}/envelope/ */
	char	*public_key;
	char	*secret_key;	/* NULL unless the (legacy) DSN has one */
	char	*project;
};

/* Parse a DSN; false with *cause (caller frees). Clear with sentry_dsn_clear. */
bool	sentry_dsn_parse(const char *dsn, struct sentry_dsn *out, char **cause)
	    __attribute__((warn_unused_result));
void	sentry_dsn_clear(struct sentry_dsn *d);
/* SENTRY_DSN's config validator: empty or a DSN that parses. */
bool	sentry_dsn_check(const char *dsn, char **cause);
/* "X-Sentry-Auth: Sentry sentry_version=7, …" for a time; caller frees. */
char	*sentry_auth_header(const struct sentry_dsn *d, long long now);

/*
 * Events. Nothing from the request but its method, route pattern, status,
 * request id and the service's own error code and message: no path, query,
 * header, cookie, body or user. Caller frees the JSON (json_object_put).
 */
struct json_object *sentry_event_request(const struct http_req *req,
	    const struct http_resp *resp);
struct json_object *sentry_event_crash(pid_t pid, int sig, int status);
/* The envelope (header, item header, event) for an event; caller frees. */
char	*sentry_envelope(struct json_object *event, size_t *len);

/* Which responses are errors worth an event: 5xx but readiness's 503. */
bool	sentry_wanted(const char *route, int status);

/* Worker: parse SENTRY_DSN once (error tracking is off if it is empty). */
void	sentry_init(void);
/* Worker, after each response: queue an event if sentry_wanted. */
void	sentry_report_request(const struct http_req *req,
	    const struct http_resp *resp);
/*
 * Master: a worker died (signal, or exit status when signal is 0). The
 * event is sent by a short-lived child so the master never waits on the
 * network; at most two such children at once, more are dropped and counted.
 */
void	sentry_report_crash(pid_t pid, int sig, int status);
/* Master: true if pid was one of those children (now reaped). */
bool	sentry_reaped(pid_t pid);

#endif
