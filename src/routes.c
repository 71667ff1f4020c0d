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
	/* Fixed paths before /v1/anime/{id}: the first match wins. */
	{ "GET", "/v1/anime/search", handle_tool, "search_anime" },
	{ "GET", "/v1/anime/trending", handle_tool, "get_trending_anime" },
	{ "GET", "/v1/anime/seasonal", handle_tool, "get_seasonal_anime" },
	{ "GET", "/v1/anime/{id}", handle_tool, "get_anime" },
	{ "GET", "/v1/characters", handle_tool, "get_character_info" },
	{ "GET", "/v1/characters/{id}", handle_tool, "get_character_info" },
	{ "GET", "/v1/airing", handle_tool, "get_airing_schedule" },
	{ "GET", "/v1/genres", handle_tool, "list_genres_and_tags" },
	{ "GET", "/health/cache", handle_health_cache, NULL },
	{ "GET", "/health/upstream", handle_health_upstream, NULL },
};
const size_t routes_count = nitems(routes);
