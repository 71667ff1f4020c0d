/* tools/airing.c: the episodes airing in a time window. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

/* The default window, and the step "now" is rounded down to (cache-friendly). */
#define AIRING_DEFAULT_WINDOW	(7 * 24 * 3600)
#define AIRING_NOW_STEP		600

static void
airing_line(struct buf *b, struct json_object *item)
{
	struct json_object	*anime, *ep, *at;

	json_object_object_get_ex(item, "anime", &anime);
	json_object_object_get_ex(item, "episode", &ep);
	json_object_object_get_ex(item, "airing_at", &at);
	buf_printf(b, "%s episode %lld at %s", shape_title(anime),
	    (long long)json_object_get_int64(ep), json_object_get_string(at));
}

static struct json_object *
airing_item(struct json_object *s, bool include_adult)
{
	struct json_object	*media, *adult, *ep, *at, *o, *m;
	char			 ts[32];

	if (!json_object_object_get_ex(s, "media", &media) ||
	    !json_object_is_type(media, json_type_object) ||
	    (!include_adult && json_object_object_get_ex(media, "isAdult",
	    &adult) && json_object_get_boolean(adult)) ||
	    !json_object_object_get_ex(s, "airingAt", &at) || at == NULL)
		return (NULL);
	o = json_object_new_object();
	json_object_object_add(o, "episode",
	    json_object_object_get_ex(s, "episode", &ep) && ep != NULL ?
	    json_object_new_int64(json_object_get_int64(ep)) : NULL);
	shape_time(json_object_get_int64(at), ts);
	json_object_object_add(o, "airing_at", json_object_new_string(ts));
	json_object_object_add(o, "airing_at_unix",
	    json_object_new_int64(json_object_get_int64(at)));
	m = shape_media(media, false);
	json_object_object_del(m, "description");
	json_object_object_del(m, "next_airing");
	json_object_object_add(o, "anime", m);
	return (o);
}

static struct json_object *
airing_schedule(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*vars, *page, *list, *pi = NULL, *results;
	struct json_object	*info, *next, *item, *result = NULL;
	struct anilist_reply	 reply;
	long long		 now = (long long)time(NULL), from, to;
	int			 pg = (int)tools_arg_int(args, "page", 1);
	bool			 adult = tools_arg_bool(args, "include_adult");
	char			 f[32], u[32], *what;
	size_t			 i;

	if (!tools_check_depth(args, call))
		return (NULL);
	from = tools_arg_int(args, "from", now - now % AIRING_NOW_STEP);
	to = tools_arg_int(args, "to", from + AIRING_DEFAULT_WINDOW);
	if (to <= from) {
		tool_fail(call, 400, "invalid_argument", "to", "to (%lld) must "
		    "be after from (%lld%s); both are unix times in seconds",
		    to, from, json_object_object_get_ex(args, "from", NULL) ?
		    "" : ", which defaults to now");
		return (NULL);
	}
	if (to - from > TOOLS_AIRING_MAX_WINDOW) {
		tool_fail(call, 400, "invalid_argument", "to", "the window "
		    "from..to may span at most 14 days (%d seconds); got %lld "
		    "seconds", TOOLS_AIRING_MAX_WINDOW, to - from);
		return (NULL);
	}
	vars = json_object_new_object();
	tools_var_copy(vars, "page", args, "page");
	tools_var_copy(vars, "perPage", args, "per_page");
	/* AniList compares strictly: the window is [from, to). */
	json_object_object_add(vars, "airingAt_greater",
	    json_object_new_int64(from - 1));
	json_object_object_add(vars, "airingAt_lesser",
	    json_object_new_int64(to));
	if (!tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_AIRING_SCHEDULE, .vars = vars, .kind = "airing",
	    .ttl = cfg->cache_ttl_trending }, NULL, &reply) ||
	    (page = tools_data(call, &reply, "Page", NULL)) == NULL)
		goto out;
	json_object_object_get_ex(page, "pageInfo", &pi);
	results = json_object_new_array();
	if (json_object_object_get_ex(page, "airingSchedules", &list) &&
	    json_object_is_type(list, json_type_array)) {
		for (i = 0; i < json_object_array_length(list); i++) {
			item = airing_item(json_object_array_get_idx(list, i),
			    adult);
			if (item != NULL)
				json_object_array_add(results, item);
		}
	}
	info = shape_page_info(pi, pg, (int)tools_arg_int(args, "per_page",
	    25));
	json_object_object_get_ex(info, "has_next_page", &next);
	shape_time(from, f);
	shape_time(to, u);
	xasprintf(&what, "airing from %s to %s", f, u);
	result = tools_list_result(results, info, shape_list_summary(results,
	    "episode", "episodes", what, pg, json_object_get_boolean(next),
	    airing_line), &reply);
	free(what);
	json_object_object_add(result, "from", json_object_new_int64(from));
	json_object_object_add(result, "to", json_object_new_int64(to));
out:
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (result);
}

#define AIRING_ITEM_SCHEMA						\
	"{\"type\":\"object\",\"required\":[\"airing_at\",\"anime\"],"	\
	"\"properties\":{\"episode\":" SHAPE_NINT ","			\
	"\"airing_at\":{\"type\":\"string\",\"description\":\"RFC 3339 "	\
	"UTC\"},\"airing_at_unix\":{\"type\":\"integer\"},"		\
	"\"anime\":" SHAPE_SCHEMA_MEDIA "}}"

const struct tool tools_get_airing_schedule = {
	.name = "get_airing_schedule",
	.title = "Airing schedule",
	.description = "Anime episodes airing in a time window, soonest "
	    "first. from and to are unix times in seconds; from defaults to "
	    "now and to to a week after from; the window may span at most "
	    "14 days. Adult titles are excluded unless include_adult=true.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    "\"from\":{\"type\":\"integer\",\"minimum\":0,"
	    "\"maximum\":2147483647,\"description\":\"Start, unix seconds "
	    "(default: now).\"},"
	    "\"to\":{\"type\":\"integer\",\"minimum\":0,"
	    "\"maximum\":2147483647,\"description\":\"End, unix seconds, "
	    "after from and at most 14 days later (default: from + 7 "
	    "days).\"},"
	    TOOLS_PROP_PAGE ","
	    TOOLS_PROP_PER_PAGE(25, 50) ","
	    TOOLS_PROP_INCLUDE_ADULT
	    "}}",
	.output_schema = SHAPE_SCHEMA_LIST(AIRING_ITEM_SCHEMA,
	    "\"from\":{\"type\":\"integer\"},\"to\":{\"type\":\"integer\"},"),
	.annotations = { .read_only = true, .destructive = false,
	    .idempotent = true, .open_world = true },
	.auth = TOOL_AUTH_NONE,
	.widget = NULL,
	.handler = airing_schedule,
};
