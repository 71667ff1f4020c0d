/* unit.h: what the Check unit tests share: running a suite, quiet logs, a test config, files of the source tree, JSON, a stand-in AniList on loopback, and the tools against it. */
#ifndef UNIT_H
#define UNIT_H

#include <check.h>

struct json_object;
struct tool_auth;
struct tool_call;

/*
 * Run every test of suite (CK_VERBOSITY and CK_RUN_CASE/CK_RUN_SUITE from
 * the environment) and free it: EXIT_SUCCESS when all passed, for main.
 */
int	 unit_run(Suite *suite);

/*
 * The path of rel under the source tree: $top_srcdir (make check exports
 * it), else the configured one, so a test also runs by hand. Caller frees.
 */
char	*unit_srcdir_path(const char *rel);
/* The JSON file rel of the source tree; fails the test if not. Caller puts. */
struct json_object *unit_json_file(const char *rel);
/* text parsed as JSON; fails the test when it is not. Caller puts. */
struct json_object *unit_json(const char *text);

/* key of o (an object; NULL is none), or NULL when absent. */
struct json_object *unit_get(struct json_object *o, const char *key);
/* key of o, which must be an integer. */
long long unit_get_int(struct json_object *o, const char *key);
/* key of o as a string (borrowed), or NULL when absent or null. */
const char *unit_get_str(struct json_object *o, const char *key);
/* Logs go nowhere (below LOG_FATAL) until unit_logs_restore. */
void	 unit_logs_quiet(void);
/* Logs to stderr again, at LOG_INFO. */
void	 unit_logs_restore(void);

/*
 * cfg (config.h) becomes a fresh development config; unit_config_set
 * changes one key of it (a refused value fails the test). Release it with
 * unit_config_free.
 */
void	 unit_config(void);
void	 unit_config_set(const char *key, const char *value);
void	 unit_config_free(void);

/*
 * A stand-in AniList: an HTTP server on 127.0.0.1 (any free port) in a
 * thread, answering every request with one canned status and body. It
 * keeps the last request (head and body) so that a test can see what the
 * service sent.
 */
struct unit_upstream;

struct unit_upstream *unit_upstream_start(void);
/* Its GraphQL URL, "http://127.0.0.1:PORT/" (borrowed). */
const char *unit_upstream_url(const struct unit_upstream *up);
/* What every request gets from now on; body is copied. */
void	 unit_upstream_answer(struct unit_upstream *up, int status,
	    const char *body);
/* How many requests it has answered. */
int	 unit_upstream_requests(struct unit_upstream *up);
/* The last request, head and body as received, or NULL; caller frees. */
char	*unit_upstream_last_request(struct unit_upstream *up);
/* Stop the thread, close the socket and free up; NULL is a no-op. */
void	 unit_upstream_stop(struct unit_upstream *up);

/*
 * The tools against a stand-in AniList, for a test's fixture: a fresh
 * development config pointed at a new unit_upstream (no memcached, no
 * retries), quiet logs, libcurl and the tool registry started. Returns
 * the upstream; unit_tools_stop undoes it all.
 */
struct unit_upstream *unit_tools_start(void);
void	 unit_tools_stop(struct unit_upstream *up);
/*
 * Call tool name (it must exist) with args, JSON text: the result (caller
 * puts), or NULL with call's error.
 */
/* A signed-in caller (the sample user), as the accounts layer passes one. */
extern const struct tool_auth unit_signed_in;
struct json_object *unit_tool_invoke(const char *name, const char *args,
	    const struct tool_auth *auth, struct tool_call *call);

#endif
