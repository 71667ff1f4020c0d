/* routes.c: the service's REST routes, in one table. */
#include "autoconf.h"

#include "handlers.h"
#include "router.h"
#include "util.h"

const struct route routes[] = {
	{ "GET", "/", handle_root, NULL },
	{ "GET", "/health", handle_health, NULL },
	{ "GET", "/health/ready", handle_health_ready, NULL },
	{ "GET", "/health/cache", handle_health_cache, NULL },
	{ "GET", "/health/upstream", handle_health_upstream, NULL },
	{ "POST", "/mcp", handle_mcp, NULL },
	{ "GET", "/openapi.json", handle_openapi, NULL },
	{ "GET", "/.well-known/ai-plugin.json", handle_ai_plugin, NULL },
	{ "GET", "/logo.svg", handle_logo, NULL },
	{ "GET", "/privacy", handle_privacy, NULL },
	/* Fixed paths before /v1/anime/{id}: the first match wins. */
	{ "GET", "/v1/anime/search", handle_tool, "search_anime" },
	{ "GET", "/v1/anime/trending", handle_tool, "get_trending_anime" },
	{ "GET", "/v1/anime/seasonal", handle_tool, "get_seasonal_anime" },
	{ "GET", "/v1/anime/{id}", handle_tool, "get_anime" },
	{ "GET", "/v1/characters", handle_tool, "get_character_info" },
	{ "GET", "/v1/characters/{id}", handle_tool, "get_character_info" },
	{ "GET", "/v1/airing", handle_tool, "get_airing_schedule" },
	{ "GET", "/v1/genres", handle_tool, "list_genres_and_tags" },
	{ "GET", "/v1/me/list", handle_tool, "get_user_list" },
	{ "GET", "/v1/users/{user_name}/list", handle_tool, "get_user_list" },
	{ "PUT", "/v1/me/list/{media_id}", handle_tool, "update_list_entry" },
	{ "DELETE", "/v1/me/list/{media_id}", handle_tool,
	    "delete_list_entry" },
	{ "GET", "/health/db", handle_health_db, NULL },
	{ "GET", "/auth/login", handle_auth_login, NULL },
	{ "GET", "/auth/callback", handle_auth_callback, NULL },
	{ "GET", "/auth/me", handle_auth_me, NULL },
	{ "POST", "/auth/logout", handle_auth_logout, NULL },
	{ "DELETE", "/v1/me", handle_me_delete, NULL },
	{ "GET", "/.well-known/oauth-authorization-server",
	    handle_oauth_server_metadata, NULL },
	{ "GET", "/.well-known/oauth-protected-resource",
	    handle_oauth_resource_metadata, NULL },
	{ "GET", "/.well-known/oauth-protected-resource/mcp",
	    handle_oauth_resource_metadata, NULL },
	{ "POST", "/oauth/register", handle_oauth_register, NULL },
	{ "GET", "/oauth/authorize", handle_oauth_authorize, NULL },
	{ "POST", "/oauth/authorize", handle_oauth_consent, NULL },
	{ "POST", "/oauth/token", handle_oauth_token, NULL },
	{ "POST", "/oauth/revoke", handle_oauth_revoke, NULL },
	{ "GET", "/health/cache", handle_health_cache, NULL },
	{ "GET", "/health/upstream", handle_health_upstream, NULL },
};
const size_t routes_count = nitems(routes);
