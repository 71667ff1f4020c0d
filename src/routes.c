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
};
const size_t routes_count = nitems(routes);
