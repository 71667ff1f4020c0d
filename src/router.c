/* router.c: matches method and path against the route table. */
#include "autoconf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "router.h"
#include "util.h"

/*
 * Match path against pattern segment by segment; "{name}" takes one
 * non-empty segment. Captures go to req when it is not NULL.
 */
static bool
router_match(const char *pattern, const char *path, struct http_req *req)
{
	const char	*p = pattern, *s = path, *pend, *send;
	size_t		 ncap = 0;

	for (;;) {
		if (*p != '/' || *s != '/')
			return (*p == '\0' && *s == '\0');
		p++;
		s++;
		pend = strchr(p, '/');
		if (pend == NULL)
			pend = p + strlen(p);
		send = strchr(s, '/');
		if (send == NULL)
			send = s + strlen(s);
		if (*p == '{') {
			if (send == s || ncap == HTTP_MAX_PATH_ARGS)
				return (false);
			if (req != NULL) {
				req->path_names[ncap] = NULL;
				req->path_args[ncap] = xstrndup(s,
				    (size_t)(send - s));
				req->npath_args = ncap + 1;
			}
			ncap++;
		} else if (pend - p != send - s ||
		    strncmp(p, s, (size_t)(pend - p)) != 0)
			return (false);
		p = pend;
		s = send;
	}
}

static void
router_clear(struct http_req *req)
{
	size_t	i;

	for (i = 0; i < req->npath_args; i++) {
		free(req->path_args[i]);
		req->path_args[i] = NULL;
	}
	req->npath_args = 0;
}

/* Pattern capture names live in the (static) pattern: point into it. */
static void
router_name_captures(const char *pattern, struct http_req *req)
{
	static __thread char	 names[HTTP_MAX_PATH_ARGS][32];
	const char		*p = pattern, *end;
	size_t			 i = 0, n;

	while (i < req->npath_args && (p = strchr(p, '{')) != NULL) {
		end = strchr(p, '}');
		if (end == NULL)
			break;
		n = (size_t)(end - p - 1);
		if (n >= sizeof names[i])
			n = sizeof names[i] - 1;
		memcpy(names[i], p + 1, n);
		names[i][n] = '\0';
		req->path_names[i] = names[i];
		i++;
		p = end;
	}
}

static bool
router_method_matches(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return (true);
	return (strcmp(route_method, "GET") == 0 &&
	    strcmp(method, "HEAD") == 0);
}

char *
router_allow(const struct route *table, size_t n, const char *path)
{
	struct buf	b;
	size_t		i;
	bool		get = false;

	buf_init(&b);
	buf_append(&b, "", 0);
	for (i = 0; i < n; i++) {
		if (!router_match(table[i].pattern, path, NULL))
			continue;
		if (strstr(b.data, table[i].method) != NULL)
			continue;
		if (b.len != 0)
			buf_puts(&b, ", ");
		buf_puts(&b, table[i].method);
		if (strcmp(table[i].method, "GET") == 0)
			get = true;
	}
	if (get)
		buf_puts(&b, ", HEAD");
	if (b.len != 0)
		buf_puts(&b, ", OPTIONS");
	return (buf_detach(&b));
}

void
router_dispatch(const struct route *table, size_t n, struct http_req *req,
    struct http_resp *resp)
{
	size_t	 i;
	bool	 path_known = false;
	char	*allow;

	for (i = 0; i < n; i++) {
		if (!router_match(table[i].pattern, req->path, req)) {
			router_clear(req);	/* captures of a partial match */
			continue;
		}
		path_known = true;
		if (!router_method_matches(table[i].method, req->method)) {
			router_clear(req);
			continue;
		}
		router_name_captures(table[i].pattern, req);
		req->route = table[i].pattern;
		resp->head_only = strcmp(req->method, "HEAD") == 0;
		table[i].fn(req, resp, table[i].arg);
		return;
	}
	if (!path_known) {
		req->route = "unmatched";
		http_resp_error(resp, 404, "not_found", NULL,
		    "no route for %s", req->path);
		return;
	}
	req->route = "method_not_allowed";
	allow = router_allow(table, n, req->path);
	http_resp_error(resp, 405, "method_not_allowed", NULL,
	    "%s is not allowed here; allowed: %s", req->method, allow);
	http_resp_header(resp, "Allow", "%s", allow);
	free(allow);
}

bool
router_pattern_captures(const char *pattern, const char *name)
{
	const char	*p = pattern, *end;
	size_t		 len = strlen(name);

	while ((p = strstr(p, "/{")) != NULL) {
		p += 2;
		if ((end = strchr(p, '}')) == NULL)
			return (false);
		if ((size_t)(end - p) == len && strncmp(p, name, len) == 0)
			return (true);
		p = end;
	}
	return (false);
}

const char *
router_capturing(const struct route *table, size_t n, router_fn fn,
    const char *arg, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (table[i].fn == fn && table[i].arg != NULL &&
		    strcmp(table[i].arg, arg) == 0 &&
		    router_pattern_captures(table[i].pattern, name))
			return (table[i].pattern);
	}
	return (NULL);
}
