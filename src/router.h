/* router.h: method + path pattern routing to handlers. */
#ifndef ROUTER_H
#define ROUTER_H

#include <stdbool.h>
#include <stddef.h>

struct http_req;
struct http_resp;

typedef void (*router_fn)(struct http_req *req, struct http_resp *resp,
    const void *arg);

struct route {
	const char	*method;	/* GET also answers HEAD */
	const char	*pattern;	/* "/v1/anime/{id}" */
	router_fn	 fn;
	const void	*arg;		/* passed to fn (a tool name …) */
};

/* The service's routes: one table, in routes.c. */
extern const struct route	routes[];
extern const size_t		routes_count;

/*
 * Find the route for req in table and call it; fills req->route and path
 * captures. Unknown path: 404 JSON; known path, wrong method: 405 + Allow.
 */
void	router_dispatch(const struct route *table, size_t n,
	    struct http_req *req, struct http_resp *resp);
/* Comma-separated methods the path allows (empty if none); caller frees. */
char	*router_allow(const struct route *table, size_t n, const char *path);
/* Does pattern capture name ("{name}" as one of its segments)? */
bool	 router_pattern_captures(const char *pattern, const char *name);
/*
 * The pattern of the first route of table with handler fn and arg (a
 * string, compared by value) that captures name, or NULL: a tool's
 * arguments that some route puts in its path come only from paths.
 */
const char *router_capturing(const struct route *table, size_t n, router_fn fn,
	    const char *arg, const char *name);

#endif
