/* routes.c: the service's REST routes, in one table. */
#include "autoconf.h"

#include "handlers.h"
#include "router.h"
#include "util.h"

const struct route routes[] = {
	{ "GET", "/", handle_root, NULL },
	{ "GET", "/health", handle_health, NULL },
	{ "GET", "/health/ready", handle_health_ready, NULL },
	{ "POST", "/mcp", handle_mcp, NULL },
	{ "GET", "/openapi.json", handle_openapi, NULL },
	{ "GET", "/.well-known/ai-plugin.json", handle_ai_plugin, NULL },
	{ "GET", "/logo.svg", handle_logo, NULL },
	{ "GET", "/privacy", handle_privacy, NULL },
};
const size_t routes_count = nitems(routes);
