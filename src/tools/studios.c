/* tools/studios.c: an animation studio by id or name: its titles, most popular first, and the years it has been active. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

/* Titles named in the text_summary. */
#define STUDIOS_SUMMARY_TITLES	5

/* The start year of the first node of alias (first or latest), or NULL. */
static struct json_object *
studios_year(struct json_object *st, const char *alias)
{
	struct json_object	*nodes = shape_get(shape_get(st, alias),
				    "nodes"), *y;

	if (!json_object_is_type(nodes, json_type_array) ||
	    json_object_array_length(nodes) == 0)
		return (NULL);
	y = shape_get(shape_get(json_object_array_get_idx(nodes, 0),
	    "startDate"), "year");
	return (y != NULL ? json_object_new_int64(json_object_get_int64(y)) :
	    NULL);
}

static struct json_object *
studios_shape(struct json_object *st, bool include_adult)
{
	struct json_object	*o = json_object_new_object(), *years, *titles;
	struct json_object	*nodes, *n, *total;
	const char		*s;
	size_t			 i;

	json_object_object_add(o, "id", json_object_new_int64(
	    json_object_get_int64(shape_get(st, "id"))));
	s = shape_get_str(st, "name");
	json_object_object_add(o, "name", json_object_new_string(s != NULL ?
	    s : ""));
	json_object_object_add(o, "is_animation_studio",
	    json_object_new_boolean(shape_get(st, "isAnimationStudio") !=
	    NULL && json_object_get_boolean(shape_get(st,
	    "isAnimationStudio"))));
	json_object_object_add(o, "favourites", shape_get(st, "favourites") !=
	    NULL ? json_object_new_int64(json_object_get_int64(shape_get(st,
	    "favourites"))) : NULL);
	s = shape_get_str(st, "siteUrl");
	json_object_object_add(o, "site_url", s != NULL ?
	    json_object_new_string(s) : NULL);
	years = json_object_new_object();
	json_object_object_add(years, "from", studios_year(st, "first"));
	json_object_object_add(years, "to", studios_year(st, "latest"));
	json_object_object_add(o, "years_active", years);
	titles = json_object_new_array();
	nodes = shape_get(shape_get(st, "media"), "nodes");
	for (i = 0; json_object_is_type(nodes, json_type_array) &&
	    i < json_object_array_length(nodes); i++) {
		n = json_object_array_get_idx(nodes, i);
		if (n != NULL && (include_adult || !works_is_adult(n)))
			json_object_array_add(titles, works_shape(n, NULL));
	}
	total = shape_get(shape_get(shape_get(st, "media"), "pageInfo"),
	    "total");
	json_object_object_add(o, "titles_total", json_object_new_int64(
	    total != NULL ? json_object_get_int64(total) :
	    (long long)json_object_array_length(titles)));
	json_object_object_add(o, "titles", titles);
	return (o);
}

/* "MAPPA (animation studio, 2012-2026, 18 titles): Chainsaw Man (2022); …" */
static char *
studios_summary(struct json_object *st)
{
	struct json_object	*titles = shape_get(st, "titles");
	struct json_object	*years = shape_get(st, "years_active");
	struct json_object	*from = shape_get(years, "from");
	struct json_object	*to = shape_get(years, "to");
	struct buf		 b;
	size_t			 i, n = json_object_array_length(titles);

	buf_init(&b);
	buf_printf(&b, "%s (%s", shape_get_str(st, "name"),
	    json_object_get_boolean(shape_get(st, "is_animation_studio")) ?
	    "animation studio" : "studio");
	if (from != NULL && to != NULL)
		buf_printf(&b, ", titles from %lld to %lld",
		    (long long)json_object_get_int64(from),
		    (long long)json_object_get_int64(to));
	buf_printf(&b, ", %lld titles on AniList)",
	    (long long)json_object_get_int64(shape_get(st, "titles_total")));
	for (i = 0; i < n && i < STUDIOS_SUMMARY_TITLES; i++) {
		buf_puts(&b, i == 0 ? ": most popular: " : "; ");
		works_line(&b, json_object_array_get_idx(titles, i));
	}
	buf_puts(&b, ".");
	return (buf_detach(&b));
}

static struct json_object *
studios_run(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*st, *result = NULL;
	struct anilist_reply	 reply;

	if ((st = works_lookup(call, args, &(struct works_lookup){
	    .op = TOOLS_OP_STUDIO_INFO, .kind = "media",
	    .ttl = cfg->cache_ttl_media, .root = "Studio",
	    .by_id = "studio with id", .by_name = "studio named",
	    .either = "a studio id" }, &reply)) == NULL)
		goto out;
	result = json_object_new_object();
	json_object_object_add(result, "studio", studios_shape(st,
	    tools_arg_bool(args, "include_adult")));
	tools_add_summary(result, studios_summary(shape_get(result,
	    "studio")), &reply);
out:
	anilist_reply_free(&reply);
	return (result);
}

const struct tool tools_get_studio_info = {
	.name = "get_studio_info",
	.title = "Studio info",
	.description = "An animation studio by AniList studio id or by name: "
	    "its titles as main studio, most popular first, how many there "
	    "are, and the years of its first and latest title. Give either "
	    "id or search.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    "\"id\":{\"type\":\"integer\",\"minimum\":1,"
	    "\"maximum\":2147483647,\"description\":\"AniList studio id.\"},"
	    "\"search\":{\"type\":\"string\",\"minLength\":1,"
	    "\"maxLength\":200,\"description\":\"A studio's name; the best "
	    "match is shown.\"},"
	    TOOLS_PROP_PER_PAGE(10, 25) ","
	    TOOLS_PROP_INCLUDE_ADULT
	    "}}",
	.output_schema = "{\"type\":\"object\",\"required\":[\"studio\","
	    "\"text_summary\",\"source\"],\"properties\":{"
	    "\"studio\":{\"type\":\"object\",\"required\":[\"id\",\"name\","
	    "\"titles\"],\"properties\":{"
	    "\"id\":{\"type\":\"integer\"},\"name\":{\"type\":\"string\"},"
	    "\"is_animation_studio\":{\"type\":\"boolean\"},"
	    "\"favourites\":" SHAPE_NINT ",\"site_url\":" SHAPE_NSTR ","
	    "\"years_active\":{\"type\":\"object\",\"properties\":{"
	    "\"from\":" SHAPE_NINT ",\"to\":" SHAPE_NINT "},\"description\":"
	    "\"start years of its first and latest title\"},"
	    "\"titles_total\":{\"type\":\"integer\"},"
	    "\"titles\":{\"type\":\"array\",\"items\":" WORKS_SCHEMA "}}},"
	    "\"text_summary\":{\"type\":\"string\"},"
	    "\"source\":" SHAPE_SCHEMA_SOURCE "}}",
	.annotations = { .read_only = true, .destructive = false,
	    .idempotent = true, .open_world = true },
	.auth = TOOL_AUTH_NONE,
	.widget = "ui://widget/works.html",
	.handler = studios_run,
	.keep_results = true,
};
