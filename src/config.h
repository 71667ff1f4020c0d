/* config.h: the configuration table, file + environment parsing, validation. */
#ifndef CONFIG_H_
#define CONFIG_H_

#include <stdbool.h>
#include <stdio.h>

enum config_env {
	CONFIG_ENV_PRODUCTION,
	CONFIG_ENV_DEVELOPMENT
};

struct config {
	char	*listen;
	int	 workers;
	int	 threads;
	int	 shutdown_timeout;
	char	*log_level;
	char	*environment;
	char	*secret_key;
	char	*database_url;
	int	 db_pool_size;
	int	 db_pool_timeout_ms;
	int	 db_connect_timeout;
	int	 db_statement_timeout_ms;
	char	*sql_dir;
	int	 access_token_ttl;
	int	 refresh_token_ttl;
	int	 session_ttl;
	char	*memcached_servers;
	int	 memcached_timeout_ms;
	char	*anilist_api_url;
	char	*anilist_oauth_url;
	char	*anilist_client_id;
	char	*anilist_client_secret;
	char	*anilist_redirect_uri;
	int	 upstream_timeout_ms;
	int	 upstream_rate_limit;
	int	 upstream_rate_window;
	int	 upstream_retries;
	int	 upstream_breaker_threshold;
	int	 upstream_breaker_cooldown;
	char	*public_url;
	int	 cache_ttl_default;
	int	 cache_ttl_trending;
	int	 cache_ttl_seasonal;
	int	 cache_ttl_media;
	int	 cache_ttl_character;
	int	 cache_ttl_genres;
	int	 cache_ttl_user_list;
	int	 result_cache_kb;
	int	 result_cache_seconds;
	int	 cache_stale_ttl;
	int	 rate_limit_requests;
	int	 rate_limit_window;
	int	 rate_limit_mcp_address;	/* per address, /mcp only */
	char	*cors_origins;
	int	 max_body_size;
	bool	 metrics_enabled;
	char	*statsd_host;
	int	 statsd_port;
	char	*statsd_prefix;
	char	*statsd_tags;
	int	 statsd_flush_ms;
	int	 search_stats_flush_seconds;
	char	*sentry_dsn;
	char	*alert_webhook_secret;
	char	*slack_webhook_url;
	char	*pagerduty_routing_key;
	char	*pagerduty_url;
	char	*widgets_dir;
	int	 top_search_min_users;
	int	 oauth_register_limit;
	int	 oauth_client_unused_days;
	int	 oauth_refresh_max_days;
	int	 cleanup_interval_seconds;
	char	*metrics_disk_paths;
	char	*metrics_processes;
	int	 upstream_connect_timeout_ms;
	int	 upstream_reserve_threads;
	int	 upstream_queue_ms;
	int	 cache_ttl_releasing;
	int	 upstream_batch_ms;
	char	*upstream_governor_id;
};

enum config_type {
	CONFIG_STRING,
	CONFIG_INT,
	CONFIG_BOOL
};

typedef bool (*config_validator)(const char *value, char **cause);

struct config_def {
	const char		*key;
	enum config_type	 type;
	const char		*def;		/* default, as written in a file */
	long			 min;		/* bounds for CONFIG_INT */
	long			 max;
	bool			 secret;	/* masked by check-config */
	config_validator	 validate;	/* extra check, or NULL */
	size_t			 offset;
	const char		*help;
};

extern const struct config_def	config_defs[];
extern const size_t		config_ndefs;

/* The running configuration (workers get theirs at fork). */
extern struct config	*cfg;

/* Defaults only; caller frees with config_free. */
struct config	*config_create(void);
void		 config_free(struct config *c);
/*
 * Load path (may be NULL: defaults + environment), then environment
 * overrides, then validate. On failure returns NULL and *cause says which
 * key and why (caller frees).
 */
struct config	*config_load(const char *path, char **cause)
		    __attribute__((warn_unused_result));
/* Set one key from text; false with *cause on a bad value. */
bool		 config_set(struct config *c, const char *key,
		    const char *value, char **cause)
		    __attribute__((warn_unused_result));
/* Checks across keys (secrets required in production …). */
bool		 config_validate(const struct config *c, char **cause)
		    __attribute__((warn_unused_result));
/* Print KEY = value lines, secrets masked. */
void		 config_print(const struct config *c, FILE *f);
const struct config_def *config_find(const char *key);
bool		 config_is_development(const struct config *c);
/* Is origin listed in CORS_ORIGINS ("*" matches all)? */
bool		 config_origin_allowed(const struct config *c,
		    const char *origin);

#endif
