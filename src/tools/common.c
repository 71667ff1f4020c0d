/* tools/common.c: argument access, AniList calls and error mapping shared by the tools. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

/* Seconds a client should wait when AniList gave no Retry-After. */
#define TOOLS_DEFAULT_RETRY	30

long long
tools_arg_int(struct json_object *args, const char *key, long long def)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(args, key, &v) || v == NULL)
		return (def);
	return (json_object_get_int64(v));
}

bool
tools_arg_bool(struct json_object *args, const char *key)
{
	struct json_object	*v;

	return (json_object_object_get_ex(args, key, &v) && v != NULL &&
	    json_object_get_boolean(v));
}

const char *
tools_arg_str(struct json_object *args, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(args, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

void
tools_var_copy(struct json_object *vars, const char *var,
    struct json_object *args, const char *key)
{
	struct json_object	*v, *copy = NULL;

	if (!json_object_object_get_ex(args, key, &v) || v == NULL)
		return;
	if (json_object_is_type(v, json_type_double))
		copy = json_object_new_int64(json_object_get_int64(v));
	else if (json_object_deep_copy(v, &copy, NULL) != 0)
		abort();
	json_object_object_add(vars, var, copy);
}

bool
tools_check_depth(struct json_object *args, struct tool_call *call)
{
	long long	page = tools_arg_int(args, "page", 1);
	long long	per_page = tools_arg_int(args, "per_page", 1);

	if (page * per_page <= TOOLS_MAX_DEPTH)
		return (true);
	tool_fail(call, 400, "invalid_argument", "page", "page × per_page "
	    "must be at most %d (AniList pages no deeper); got %lld × %lld; "
	    "narrow the search instead", TOOLS_MAX_DEPTH, page, per_page);
	return (false);
}

/* Map a failed reply to the caller's error. */
static void
tools_reply_error(struct tool_call *call, const struct anilist_reply *r,
    const char *what)
{
	const char	*why = r->message != NULL ? r->message : "no detail";
	int		 retry = r->retry_after > 0 ? r->retry_after :
			    TOOLS_DEFAULT_RETRY;

	switch (r->status) {
	case 400:
		tool_fail(call, 400, "invalid_argument", NULL,
		    "AniList refused the request: %s", why);
		break;
	case 401:
		tool_fail(call, 401, "token_rejected", NULL, "AniList refused "
		    "the account's token; sign in with AniList again");
		break;
	case 403:
		tool_fail(call, 503, "upstream_unavailable", NULL,
		    "AniList is refusing API requests right now (%s); try "
		    "again later", why);
		call->error.retry_after = retry;
		break;
	case 404:
		tool_fail(call, 404, "not_found", NULL, "AniList has no %s",
		    what != NULL ? what : "such entry");
		break;
	case 429:
		tool_fail(call, 429, "rate_limited", NULL, "AniList's rate "
		    "limit is reached and nothing is cached for this request; "
		    "retry in %d seconds", retry);
		call->error.retry_after = retry;
		break;
	case 503:
		tool_fail(call, 503, "upstream_unavailable", NULL,
		    "AniList is unavailable or rate-limited and nothing is "
		    "cached for this request (%s); retry in %d seconds", why,
		    retry);
		call->error.retry_after = retry;
		break;
	case 504:
		tool_fail(call, 504, "upstream_timeout", NULL,
		    "AniList did not answer in time (%s); try again", why);
		if (r->retry_after > 0)
			call->error.retry_after = r->retry_after;
		break;
	default:
		tool_fail(call, 502, "upstream_error", NULL,
		    "AniList gave an answer we could not use (%s)", why);
		break;
	}
}

/*
 * Whether what this answer goes into may be kept (tool.h): only while
 * fresh, only from a shared entry (a hit or a miss now stored), only with
 * no user behind it.
 */
static void
tools_note_freshness(struct tool_call *call, const char *kind, int ttl,
    bool personal, const struct anilist_reply *reply)
{
	uint64_t	until;

	if (personal || ttl <= 0 || reply->status != 200 ||
	    reply->cache == NULL || (strcmp(reply->cache, "hit") != 0 &&
	    strcmp(reply->cache, "miss") != 0)) {
		call->not_reusable = true;
		return;
	}
	if (reply->ttl > 0)
		ttl = reply->ttl;
	until = reply->fetched_at + (uint64_t)ttl * 1000;
	if (call->fresh_until == 0 || until < call->fresh_until)
		call->fresh_until = until;
	if (call->kind == NULL)
		call->kind = kind;
}

bool
tools_fetch(struct tool_call *call, const struct anilist_request *req,
    const char *what, struct anilist_reply *reply)
{
	bool	ok;

	memset(reply, 0, sizeof *reply);
	ok = anilist_fetch(req, reply);
	call->cache = reply->cache;
	if (reply->upstream_ms >= 0)
		call->upstream_ms = (call->upstream_ms > 0 ?
		    call->upstream_ms : 0) + reply->upstream_ms;
	call->upstream_calls += reply->upstream_calls;
	tools_note_freshness(call, req->kind, req->ttl,
	    req->token != NULL || req->scope != NULL, reply);
	if (ok && reply->status == 200 && reply->data != NULL)
		return (true);
	if (ok)
		reply->status = 502;
	tools_reply_error(call, reply, what);
	return (false);
}

struct json_object *
tools_data(struct tool_call *call, struct anilist_reply *reply,
    const char *key, const char *what)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(reply->data, key, &v)) {
		tool_fail(call, 502, "upstream_error", NULL,
		    "AniList's answer has no %s", key);
		return (NULL);
	}
	if (v == NULL) {
		tool_fail(call, 404, "not_found", NULL, "AniList has no %s",
		    what != NULL ? what : "such entry");
		return (NULL);
	}
	return (v);
}

struct json_object *
tools_add_summary(struct json_object *o, char *summary,
    const struct anilist_reply *reply)
{
	json_object_object_add(o, "text_summary",
	    json_object_new_string(summary));
	json_object_object_add(o, "source", shape_source(reply));
	free(summary);
	return (o);
}

struct json_object *
tools_list_result(struct json_object *results, struct json_object *page_info,
    char *summary, const struct anilist_reply *reply)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "results", results);
	json_object_object_add(o, "page_info", page_info);
	return (tools_add_summary(o, summary, reply));
}
