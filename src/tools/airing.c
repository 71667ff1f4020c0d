/* tools/airing.c: the episodes airing in a time window. */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
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
/* "UTC" or "+09:00", and room to spare. */
#define AIRING_ZONE_LEN		32

/*
 * A calendar date "2026-12-07", or an RFC 3339 datetime
 * "2026-12-07T18:00[:00][.fff](Z|±hh:mm)" (no offset: UTC), or unix
 * seconds as digits, as unix seconds; a date is its midnight, or the next one when end (the whole
 * day is in the window). zone gets the offset the text gave ("UTC" or
 * "+09:00"). False when text is neither.
 */
static bool
airing_parse_time(const char *text, bool end, long long *secs, char zone[AIRING_ZONE_LEN])
{
	struct tm	tm, back;
	int		y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, n = 0;
	char		sign = 0;
	const char	*p;
	time_t		t;

	snprintf(zone, AIRING_ZONE_LEN, "UTC");
	if (util_parse_ll(text, secs))
		return (true);	/* unix seconds given as text (REST) */
	memset(&tm, 0, sizeof tm);
	if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return (false);
	p = text + n;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
			return (false);
		p += 1 + n;
		if (*p == ':') {
			if (sscanf(p + 1, "%2d%n", &sec, &n) != 1 || n != 2)
				return (false);
			p += 1 + n;
		}
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-') {
			sign = *p;
			if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 ||
			    n != 5 || oh > 23 || om > 59)
				return (false);
			p += 1 + n;
			snprintf(zone, AIRING_ZONE_LEN, "%c%02d:%02d", sign,
			    oh, om);
		}
		end = false;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60 || y < 1970)
		return (false);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec > 59 ? 59 : sec;
	if ((t = timegm(&tm)) == (time_t)-1 || gmtime_r(&t, &back) == NULL ||
	    back.tm_mday != d)
		return (false);
	*secs = (long long)t + (end ? 86400 : 0) -
	    (sign == 0 ? 0 : (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60));
	return (true);
}

/*
 * The from or to argument as unix seconds (def when absent): an integer,
 * or a date or datetime (airing_parse_time). zone keeps the first offset a
 * text named. False with a 400 in call.
 */
static bool
airing_arg_time(struct json_object *args, const char *key, long long def,
    long long *secs, char zone[AIRING_ZONE_LEN], struct tool_call *call)
{
	struct json_object	*v;
	char			 z[AIRING_ZONE_LEN];

	if (!json_object_object_get_ex(args, key, &v) || v == NULL) {
		*secs = def;
		return (true);
	}
	if (!json_object_is_type(v, json_type_string)) {
		*secs = json_object_get_int64(v);
		return (true);
	}
	if (!airing_parse_time(json_object_get_string(v), strcmp(key, "to") ==
	    0, secs, z) || *secs < 0 || *secs > INT32_MAX) {
		tool_fail(call, 400, "invalid_argument", key, "%s must be unix "
		    "seconds, a date (2026-12-07) or a datetime with an offset "
		    "(2026-12-07T18:00:00+09:00); got \"%.40s\"", key,
		    json_object_get_string(v));
		return (false);
	}
	if (strcmp(zone, "UTC") == 0)
		memcpy(zone, z, sizeof z);
	return (true);
}

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
	char			 zone[AIRING_ZONE_LEN] = "UTC";
	size_t			 i;

	if (!tools_check_depth(args, call) || !airing_arg_time(args, "from",
	    now - now % AIRING_NOW_STEP, &from, zone, call) ||
	    !airing_arg_time(args, "to", from + AIRING_DEFAULT_WINDOW, &to, zone,
	    call))
		return (NULL);
	if (to <= from) {
		tool_fail(call, 400, "invalid_argument", "to", "to (%lld) must "
		    "be after from (%lld%s), in unix seconds",
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
	xasprintf(&what, "airing from %s to %s (UTC; dates and times were "
	    "read as %s)", f, u, zone);
	result = tools_list_result(results, info, shape_list_summary(results,
	    &(struct shape_summary){ .one = "episode", .many = "episodes",
	    .what = what, .page = pg, .has_next = json_object_get_boolean(next),
	    .line = airing_line }), &reply);
	free(what);
	json_object_object_add(result, "from", json_object_new_int64(from));
	json_object_object_add(result, "to", json_object_new_int64(to));
	json_object_object_add(result, "time_zone", json_object_new_string(
	    zone));
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
	    "first. from and to are dates (2026-12-07: a whole day, in UTC), "
	    "datetimes with an offset (2026-12-07T18:00:00+09:00) or unix "
	    "seconds; from defaults to now and to to a week after from; the "
	    "window may span at most 14 days. Times in the answer are UTC; "
	    "time_zone says how dates were read. Adult titles are excluded "
	    "unless include_adult=true.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    "\"from\":{\"type\":[\"string\",\"integer\"],\"minimum\":0,"
	    "\"maximum\":2147483647,\"maxLength\":40,\"description\":"
	    "\"Start: a date (2026-12-07, midnight UTC), a datetime with an "
	    "offset (2026-12-07T18:00:00+09:00) or unix seconds (default: "
	    "now).\"},"
	    "\"to\":{\"type\":[\"string\",\"integer\"],\"minimum\":0,"
	    "\"maximum\":2147483647,\"maxLength\":40,\"description\":"
	    "\"End, after from and at most 14 days later: a date (the whole "
	    "day is included), a datetime with an offset or unix seconds "
	    "(default: from + 7 days).\"},"
	    TOOLS_PROP_PAGE ","
	    TOOLS_PROP_PER_PAGE(25, 50) ","
	    TOOLS_PROP_INCLUDE_ADULT
	    "}}",
	.output_schema = SHAPE_SCHEMA_LIST(AIRING_ITEM_SCHEMA,
	    "\"from\":{\"type\":\"integer\"},\"to\":{\"type\":\"integer\"},"
	    "\"time_zone\":{\"type\":\"string\"},"),
	.annotations = { .read_only = true, .destructive = false,
	    .idempotent = true, .open_world = true },
	.auth = TOOL_AUTH_NONE,
	.widget = NULL,
	.handler = airing_schedule,
};
