/* routes.c: the service's REST routes, in one table. */
#include "autoconf.h"

#include "handlers.h"
#include "router.h"
#include "util.h"

const struct route routes[] = {
	{ "GET", "/", handle_root, NULL },
	{ "GET", "/health", handle_health, NULL },
	{ "GET", "/health/ready", handle_health_ready, NULL },
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
};
const size_t routes_count = nitems(routes);
