/* config.c: one table drives defaults, parsing, bounds, validation and printing. */
#include "autoconf.h"

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "metrics.h"
#include "sentry.h"
#include "util.h"

struct config	*cfg;

static bool	config_check_listen(const char *, char **);
static bool	config_check_url(const char *, char **);
static bool	config_check_url_or_empty(const char *, char **);
static bool	config_check_log_level(const char *, char **);
static bool	config_check_environment(const char *, char **);
static bool	config_check_servers(const char *, char **);
static bool	config_check_tags(const char *, char **);

#define O(f) offsetof(struct config, f)
#define S(k, d, f, sec, v, h) { k, CONFIG_STRING, d, 0, 0, sec, v, O(f), h }
#define I(k, d, lo, hi, f, h) { k, CONFIG_INT, d, lo, hi, false, NULL, O(f), h }
#define B(k, d, f, h) { k, CONFIG_BOOL, d, 0, 1, false, NULL, O(f), h }

/* A webhook secret short enough to guess is refused; empty turns it off. */
static bool
config_check_webhook_secret(const char *value, char **cause)
{
	if (*value == '\0' || strlen(value) >= 32)
		return (true);
	xasprintf(cause, "must be empty or at least 32 bytes");
	return (false);
}

const struct config_def config_defs[] = {
	S("LISTEN", "unix:/run/anilist-gpt/anilist-gpt.sock", listen, false,
	    config_check_listen, "unix:/path, host:port, or fd:0 (spawn-fcgi)"),
	I("WORKERS", "1", 1, 64, workers, "worker processes"),
	I("THREADS", "16", 1, 256, threads, "accept threads per worker"),
	I("SHUTDOWN_TIMEOUT", "10", 1, 300, shutdown_timeout,
	    "seconds in-flight requests get to finish on SIGTERM"),
	S("LOG_LEVEL", "info", log_level, false, config_check_log_level,
	    "debug, info, warn or error"),
	S("ENVIRONMENT", "production", environment, false,
	    config_check_environment, "production or development"),
	S("SECRET_KEY", "", secret_key, true, NULL,
	    "at least 32 bytes; derives cookie and token-encryption keys"),
	S("DATABASE_URL", "", database_url, true, NULL,
	    "libpq connection string; empty disables accounts"),
	I("DB_POOL_SIZE", "4", 1, 64, db_pool_size,
	    "PostgreSQL connections per worker"),
	I("DB_POOL_TIMEOUT_MS", "2000", 10, 60000, db_pool_timeout_ms,
	    "wait for a free PostgreSQL connection before 503"),
	I("DB_CONNECT_TIMEOUT", "5", 1, 60, db_connect_timeout,
	    "seconds to connect to PostgreSQL"),
	I("DB_STATEMENT_TIMEOUT_MS", "5000", 100, 600000,
	    db_statement_timeout_ms, "statement_timeout of each connection"),
	S("SQL_DIR", "", sql_dir, false, NULL,
	    "migrations directory; empty: the installed sql/"),
	I("ACCESS_TOKEN_TTL", "3600", 60, 86400, access_token_ttl,
	    "seconds an OAuth access token lives"),
	I("REFRESH_TOKEN_TTL", "2592000", 3600, 31536000, refresh_token_ttl,
	    "seconds an OAuth refresh token lives"),
	I("SESSION_TTL", "1209600", 300, 31536000, session_ttl,
	    "seconds a web login session lives"),
	S("MEMCACHED_SERVERS", "127.0.0.1:11211", memcached_servers, false,
	    config_check_servers, "host:port list, comma separated; empty disables"),
	I("MEMCACHED_TIMEOUT_MS", "100", 5, 10000, memcached_timeout_ms,
	    "memcached connect/poll timeout"),
	S("ANILIST_API_URL", "https://graphql.anilist.co", anilist_api_url,
	    false, config_check_url, "AniList GraphQL endpoint"),
	S("ANILIST_OAUTH_URL", "https://anilist.co/api/v2/oauth",
	    anilist_oauth_url, false, config_check_url,
	    "AniList OAuth base URL"),
	S("ANILIST_CLIENT_ID", "", anilist_client_id, false, NULL,
	    "AniList API client id"),
	S("ANILIST_CLIENT_SECRET", "", anilist_client_secret, true, NULL,
	    "AniList API client secret"),
	S("ANILIST_REDIRECT_URI", "", anilist_redirect_uri, false,
	    config_check_url_or_empty, "must equal the one registered at AniList"),
	I("UPSTREAM_TIMEOUT_MS", "4000", 100, 60000, upstream_timeout_ms,
	    "deadline for one tool call's AniList calls, retries included"),
	I("UPSTREAM_RATE_LIMIT", "80", 1, 90, upstream_rate_limit,
	    "AniList requests per minute for this machine"),
	I("UPSTREAM_RATE_WINDOW", "60", 1, 60, upstream_rate_window,
	    "seconds; each window gets UPSTREAM_RATE_LIMIT * window / 60"),
	I("UPSTREAM_RETRIES", "3", 0, 10, upstream_retries,
	    "retries of a 5xx, timeout or dropped connection within the deadline"),
	I("UPSTREAM_BREAKER_THRESHOLD", "5", 1, 1000, upstream_breaker_threshold,
	    "AniList failures in a row that open the circuit breaker"),
	I("UPSTREAM_BREAKER_COOLDOWN", "30", 1, 3600, upstream_breaker_cooldown,
	    "seconds the breaker stays open before a trial request"),
	S("PUBLIC_URL", "https://localhost:8443", public_url, false,
	    config_check_url, "public base URL (OpenAPI, OAuth metadata)"),
	I("CACHE_TTL_DEFAULT", "3600", 1, 2592000, cache_ttl_default,
	    "seconds; search results and anything without its own TTL"),
	I("CACHE_TTL_TRENDING", "1800", 1, 2592000, cache_ttl_trending,
	    "seconds; trending lists"),
	I("CACHE_TTL_SEASONAL", "86400", 1, 2592000, cache_ttl_seasonal,
	    "seconds; seasonal lists and airing schedules"),
	I("CACHE_TTL_MEDIA", "86400", 1, 2592000, cache_ttl_media,
	    "seconds; one title's details"),
	I("CACHE_TTL_CHARACTER", "604800", 1, 2592000, cache_ttl_character,
	    "seconds; characters"),
	I("CACHE_TTL_GENRES", "604800", 1, 2592000, cache_ttl_genres,
	    "seconds; genre and tag collections"),
	I("CACHE_TTL_USER_LIST", "300", 1, 86400, cache_ttl_user_list,
	    "seconds; a user's list"),
	I("RESULT_CACHE_KB", "4096", 0, 1048576, result_cache_kb,
	    "KiB per worker of finished public tool results kept in memory "
	    "in front of memcached; 0 turns it off"),
	I("RESULT_CACHE_SECONDS", "300", 1, 86400, result_cache_seconds,
	    "seconds a result stays in memory at most (never past the "
	    "freshness of its AniList data)"),
	I("CACHE_STALE_TTL", "259200", 0, 2592000, cache_stale_ttl,
	    "seconds a stale copy may serve while AniList fails"),
	I("RATE_LIMIT_REQUESTS", "120", 0, 1000000, rate_limit_requests,
	    "requests per client (IPv4 address, IPv6 /64) per window, "
	    "counted in memcached; 0 disables"),
	I("RATE_LIMIT_WINDOW", "60", 1, 86400, rate_limit_window,
	    "seconds of a rate-limit window (fixed, aligned on the clock)"),
	I("RATE_LIMIT_MCP_ADDRESS_REQUESTS", "3000", 0, 1000000,
	    rate_limit_mcp_address, "requests to /mcp per client address per "
	    "window (a shared egress: every ChatGPT user comes from a few "
	    "addresses); each user within it keeps RATE_LIMIT_REQUESTS"),
	S("CORS_ORIGINS", "https://chatgpt.com,https://chat.openai.com",
	    cors_origins, false, NULL, "allowed origins, comma separated, or *"),
	I("MAX_BODY_SIZE", "65536", 1024, 16777216, max_body_size,
	    "largest request body in bytes (413 above)"),
	B("METRICS_ENABLED", "true", metrics_enabled,
	    "statsd and /metrics"),
	S("STATSD_HOST", "127.0.0.1", statsd_host, false, NULL,
	    "statsd host; empty disables statsd"),
	I("STATSD_PORT", "8125", 1, 65535, statsd_port, "statsd UDP port"),
	S("STATSD_PREFIX", "anilist_gpt.", statsd_prefix, false, NULL,
	    "prefix of every statsd name"),
	S("STATSD_TAGS", "", statsd_tags, false, config_check_tags,
	    "empty, or dogstatsd for tagged lines"),
	I("STATSD_FLUSH_MS", "100", 0, 10000, statsd_flush_ms,
	    "milliseconds a statsd line may wait to share a datagram with "
	    "later ones; 0 sends each request's lines when it ends"),
	I("SEARCH_STATS_FLUSH_SECONDS", "10", 1, 3600,
	    search_stats_flush_seconds,
	    "seconds between a worker's writes of search counts to PostgreSQL"),
	S("SENTRY_DSN", "", sentry_dsn, true, sentry_dsn_check,
	    "Sentry DSN for 5xx and crash reports"),
	S("ALERT_WEBHOOK_SECRET", "", alert_webhook_secret, true,
	    config_check_webhook_secret,
	    "bearer secret of POST /webhooks/alerts; empty, or at least 32 "
	    "bytes"),
	S("SLACK_WEBHOOK_URL", "", slack_webhook_url, true,
	    config_check_url_or_empty, "Slack incoming webhook for alerts"),
	S("PAGERDUTY_ROUTING_KEY", "", pagerduty_routing_key, true, NULL,
	    "PagerDuty Events v2 routing key for critical alerts"),
	S("PAGERDUTY_URL", "https://events.pagerduty.com/v2/enqueue",
	    pagerduty_url, false, config_check_url, "PagerDuty Events API URL"),
	S("WIDGETS_DIR", "", widgets_dir, false, NULL,
	    "widget HTML templates (MCP resources); empty: the installed ones"),
	I("TOP_SEARCH_MIN_USERS", "5", 1, 1000, top_search_min_users,
	    "distinct clients that must ask a query before top-searches "
	    "shows it"),
	I("OAUTH_REGISTER_LIMIT", "10", 0, 100000, oauth_register_limit,
	    "OAuth client registrations per client address per hour; "
	    "0 disables the quota"),
	I("OAUTH_CLIENT_UNUSED_DAYS", "7", 1, 3650, oauth_client_unused_days,
	    "days after which a registered OAuth client that never received "
	    "a code is deleted"),
	I("OAUTH_REFRESH_MAX_DAYS", "90", 1, 3650, oauth_refresh_max_days,
	    "days a refresh token family lives at most, however often it is "
	    "refreshed"),
	I("CLEANUP_INTERVAL_SECONDS", "3600", 1, 86400,
	    cleanup_interval_seconds,
	    "seconds between deletions of expired tokens, codes, login states, "
	    "sessions and unused OAuth clients"),
	S("METRICS_DISK_PATHS", "/var/lib/anilist-gpt,/var/log",
	    metrics_disk_paths, false, metrics_disk_paths_check,
	    "absolute paths, comma separated, whose filesystems' free space "
	    "/metrics reports; empty: none"),
	S("METRICS_PROCESSES", "caddy,memcached", metrics_processes, false,
	    metrics_neighbours_check,
	    "neighbour processes whose memory /metrics reports beside the "
	    "service's: name (found in /proc) or name=/pidfile, comma "
	    "separated; empty: none"),
	I("UPSTREAM_CONNECT_TIMEOUT_MS", "1500", 50, 60000,
	    upstream_connect_timeout_ms,
	    "connecting to AniList may take at most this long"),
	I("UPSTREAM_RESERVE_THREADS", "-1", -1, 256, upstream_reserve_threads,
	    "threads per worker that never wait on AniList; -1: the larger "
	    "of 2 and THREADS / 4"),
	I("UPSTREAM_QUEUE_MS", "2000", 0, 60000, upstream_queue_ms,
	    "longest wait for AniList's budget before a stale copy or a 503"),
	I("UPSTREAM_BATCH_MS", "15", 0, 1000, upstream_batch_ms,
	    "cold operations arriving within this window share one AniList "
	    "request; 0 sends each alone"),
	S("UPSTREAM_GOVERNOR_ID", "", upstream_governor_id, false, NULL,
	    "whose AniList budget this is, when machines share memcached; "
	    "empty: the host name"),
	I("CACHE_TTL_RELEASING", "3600", 1, 2592000, cache_ttl_releasing,
	    "seconds; details of a title still airing, never past its next "
	    "episode"),
};
const size_t config_ndefs = nitems(config_defs);

#undef O
#undef S
#undef I
#undef B

static bool
config_fail(char **cause, const char *key, const char *why)
{
	xasprintf(cause, "%s: %s", key, why);
	return (false);
}

static bool
config_check_listen(const char *v, char **cause)
{
	const char	*colon;
	long long	 port;

	if (strcmp(v, "fd:0") == 0)
		return (true);
	if (strncmp(v, "unix:", 5) == 0) {
		if (v[5] != '/')
			return (config_fail(cause, "LISTEN",
			    "unix socket path must be absolute"));
		if (strlen(v + 5) >= 100)
			return (config_fail(cause, "LISTEN",
			    "unix socket path too long"));
		return (true);
	}
	colon = strrchr(v, ':');
	if (colon == NULL || colon == v)
		return (config_fail(cause, "LISTEN",
		    "expected unix:/path, host:port or fd:0"));
	if (!util_parse_ll(colon + 1, &port) || port < 1 || port > 65535)
		return (config_fail(cause, "LISTEN", "port must be 1..65535"));
	return (true);
}

static bool
config_check_url(const char *v, char **cause)
{
	if (strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0)
		return (true);
	xasprintf(cause, "must be an http:// or https:// URL");
	return (false);
}

static bool
config_check_url_or_empty(const char *v, char **cause)
{
	if (*v == '\0')
		return (true);
	return (config_check_url(v, cause));
}

static bool
config_check_log_level(const char *v, char **cause)
{
	enum log_level	l;

	if (log_level_parse(v, &l))
		return (true);
	xasprintf(cause, "must be debug, info, warn or error");
	return (false);
}

static bool
config_check_environment(const char *v, char **cause)
{
	if (strcmp(v, "production") == 0 || strcmp(v, "development") == 0)
		return (true);
	xasprintf(cause, "must be production or development");
	return (false);
}

static bool
config_check_servers(const char *v, char **cause)
{
	char		*copy, *item, *save, *colon;
	long long	 port;
	bool		 ok = true;

	copy = xstrdup(v);
	for (item = strtok_r(copy, ", ", &save); item != NULL;
	    item = strtok_r(NULL, ", ", &save)) {
		colon = strrchr(item, ':');
		if (colon == NULL || colon == item ||
		    !util_parse_ll(colon + 1, &port) || port < 1 ||
		    port > 65535) {
			xasprintf(cause, "bad server \"%s\" (want host:port)",
			    item);
			ok = false;
			break;
		}
	}
	free(copy);
	return (ok);
}

static bool
config_check_tags(const char *v, char **cause)
{
	if (*v == '\0' || strcmp(v, "dogstatsd") == 0)
		return (true);
	xasprintf(cause, "must be empty or dogstatsd");
	return (false);
}

const struct config_def *
config_find(const char *key)
{
	size_t	i;

	for (i = 0; i < config_ndefs; i++) {
		if (strcmp(config_defs[i].key, key) == 0)
			return (&config_defs[i]);
	}
	return (NULL);
}

static bool
config_parse_bool(const char *v, bool *out)
{
	if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
	    strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0)
		*out = true;
	else if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 ||
	    strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0)
		*out = false;
	else
		return (false);
	return (true);
}

bool
config_set(struct config *c, const char *key, const char *value, char **cause)
{
	const struct config_def	*d;
	char			*why = NULL, **sp;
	long long		 n;
	bool			 b;

	if ((d = config_find(key)) == NULL) {
		xasprintf(cause, "%s: unknown key", key);
		return (false);
	}
	switch (d->type) {
	case CONFIG_INT:
		if (!util_parse_ll(value, &n)) {
			xasprintf(cause, "%s: \"%s\" is not an integer", key,
			    value);
			return (false);
		}
		if (n < d->min || n > d->max) {
			xasprintf(cause, "%s: %lld is outside %ld..%ld", key, n,
			    d->min, d->max);
			return (false);
		}
		*(int *)((char *)c + d->offset) = (int)n;
		break;
	case CONFIG_BOOL:
		if (!config_parse_bool(value, &b)) {
			xasprintf(cause, "%s: \"%s\" is not true or false",
			    key, value);
			return (false);
		}
		*(bool *)((char *)c + d->offset) = b;
		break;
	case CONFIG_STRING:
		if (strlen(value) > 4096) {
			xasprintf(cause, "%s: value too long", key);
			return (false);
		}
		if (d->validate != NULL && !d->validate(value, &why)) {
			if (strncmp(why, key, strlen(key)) == 0 &&
			    why[strlen(key)] == ':')
				*cause = why;
			else {
				xasprintf(cause, "%s: %s", key, why);
				free(why);
			}
			return (false);
		}
		sp = (char **)((char *)c + d->offset);
		free(*sp);
		*sp = xstrdup(value);
		break;
	}
	return (true);
}

struct config *
config_create(void)
{
	struct config	*c;
	char		*cause = NULL;
	size_t		 i;

	c = xcalloc(1, sizeof *c);
	for (i = 0; i < config_ndefs; i++) {
		if (!config_set(c, config_defs[i].key, config_defs[i].def,
		    &cause))
			abort();	/* a bad default is a programming error */
	}
	return (c);
}

void
config_free(struct config *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < config_ndefs; i++) {
		if (config_defs[i].type == CONFIG_STRING)
			free(*(char **)((char *)c + config_defs[i].offset));
	}
	free(c);
}

static char *
config_trim(char *s)
{
	char	*end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return (s);
}

static bool
config_load_file(struct config *c, const char *path, char **cause)
{
	FILE	*f;
	char	*line = NULL, *p, *eq, *key, *value, *why = NULL;
	size_t	 cap = 0, len;
	ssize_t	 n;
	int	 lineno = 0;
	bool	 ok = false;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (false);
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		p = config_trim(line);
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			xasprintf(cause, "%s:%d: expected KEY = value", path,
			    lineno);
			goto fail;
		}
		*eq = '\0';
		key = config_trim(p);
		value = config_trim(eq + 1);
		len = strlen(value);
		if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
			value[len - 1] = '\0';
			value++;
		}
		if (!config_set(c, key, value, &why)) {
			xasprintf(cause, "%s:%d: %s", path, lineno, why);
			free(why);
			goto fail;
		}
	}
	ok = true;
fail:
	free(line);
	fclose(f);
	return (ok);
}

struct config *
config_load(const char *path, char **cause)
{
	struct config	*c;
	const char	*v;
	size_t		 i;

	c = config_create();
	if (path != NULL && !config_load_file(c, path, cause))
		goto fail;
	for (i = 0; i < config_ndefs; i++) {
		if ((v = getenv(config_defs[i].key)) == NULL)
			continue;
		if (!config_set(c, config_defs[i].key, v, cause))
			goto fail;
	}
	if (!config_validate(c, cause))
		goto fail;
	return (c);
fail:
	config_free(c);
	return (NULL);
}

bool
config_is_development(const struct config *c)
{
	return (strcmp(c->environment, "development") == 0);
}

bool
config_validate(const struct config *c, char **cause)
{
	if (!config_is_development(c)) {
		if (*c->secret_key == '\0')
			return (config_fail(cause, "SECRET_KEY",
			    "required in production (set ENVIRONMENT = "
			    "development to run without one)"));
		if (strlen(c->secret_key) < 32)
			return (config_fail(cause, "SECRET_KEY",
			    "must be at least 32 bytes"));
	}
	if (*c->anilist_client_id != '\0' &&
	    (*c->anilist_client_secret == '\0' ||
	    *c->anilist_redirect_uri == '\0'))
		return (config_fail(cause, "ANILIST_CLIENT_SECRET",
		    "ANILIST_CLIENT_ID is set, so ANILIST_CLIENT_SECRET and "
		    "ANILIST_REDIRECT_URI are required too"));
	return (true);
}

void
config_print(const struct config *c, FILE *f)
{
	const struct config_def	*d;
	const char		*s;
	size_t			 i;

	for (i = 0; i < config_ndefs; i++) {
		d = &config_defs[i];
		switch (d->type) {
		case CONFIG_INT:
			fprintf(f, "%s = %d\n", d->key,
			    *(const int *)((const char *)c + d->offset));
			break;
		case CONFIG_BOOL:
			fprintf(f, "%s = %s\n", d->key,
			    *(const bool *)((const char *)c + d->offset) ?
			    "true" : "false");
			break;
		case CONFIG_STRING:
			s = *(char *const *)((const char *)c + d->offset);
			if (d->secret && *s != '\0')
				fprintf(f, "%s = ******** (set)\n", d->key);
			else
				fprintf(f, "%s = %s\n", d->key, s);
			break;
		}
	}
}

bool
config_origin_allowed(const struct config *c, const char *origin)
{
	const char	*p = c->cors_origins, *end;
	size_t		 olen = strlen(origin), n;

	while (*p != '\0') {
		while (*p == ',' || *p == ' ')
			p++;
		end = p;
		while (*end != '\0' && *end != ',' && *end != ' ')
			end++;
		n = (size_t)(end - p);
		if (n == 1 && *p == '*')
			return (true);
		if (n != 0 && n == olen && strncmp(p, origin, n) == 0)
			return (true);
		p = end;
	}
	return (false);
}
