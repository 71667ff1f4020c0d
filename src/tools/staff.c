/* tools/staff.c: a person of the anime world by id or name: who they are, their best-known works and the characters they voice. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

/* Works and roles named in the text_summary. */
#define STAFF_SUMMARY_WORKS	4

static void
staff_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s != NULL ? json_object_new_string(s) :
	    NULL);
}

/* A copy of the array member key of src (strings and ints only); [] when none. */
static struct json_object *
staff_list(struct json_object *src, const char *key)
{
	struct json_object	*arr = shape_get(src, key), *out, *v;
	size_t			 i;

	out = json_object_new_array();
	for (i = 0; json_object_is_type(arr, json_type_array) &&
	    i < json_object_array_length(arr); i++) {
		v = json_object_array_get_idx(arr, i);
		if (json_object_is_type(v, json_type_string))
			json_object_array_add(out, json_object_new_string(
			    json_object_get_string(v)));
		else if (json_object_is_type(v, json_type_int))
			json_object_array_add(out, json_object_new_int64(
			    json_object_get_int64(v)));
	}
	return (out);
}

/* staffMedia edges as works with the person's role; adult ones dropped unless asked. */
static struct json_object *
staff_works(struct json_object *s, bool include_adult)
{
	struct json_object	*edges, *e, *node, *out;
	size_t			 i;

	out = json_object_new_array();
	edges = shape_get(shape_get(s, "staffMedia"), "edges");
	for (i = 0; json_object_is_type(edges, json_type_array) &&
	    i < json_object_array_length(edges); i++) {
		e = json_object_array_get_idx(edges, i);
		if ((node = shape_get(e, "node")) == NULL ||
		    (!include_adult && works_is_adult(node)))
			continue;
		json_object_array_add(out, works_shape(node,
		    shape_get_str(e, "staffRole")));
	}
	return (out);
}

/* characterMedia edges as {character, anime, role}: one per character voiced. */
static struct json_object *
staff_voices(struct json_object *s, bool include_adult)
{
	struct json_object	*edges, *e, *node, *chars, *c, *o, *ch, *out;
	size_t			 i, k;

	out = json_object_new_array();
	edges = shape_get(shape_get(s, "characterMedia"), "edges");
	for (i = 0; json_object_is_type(edges, json_type_array) &&
	    i < json_object_array_length(edges); i++) {
		e = json_object_array_get_idx(edges, i);
		if ((node = shape_get(e, "node")) == NULL ||
		    (!include_adult && works_is_adult(node)))
			continue;
		chars = shape_get(e, "characters");
		for (k = 0; json_object_is_type(chars, json_type_array) &&
		    k < json_object_array_length(chars); k++) {
			c = json_object_array_get_idx(chars, k);
			if (shape_get(c, "id") == NULL)
				continue;
			o = json_object_new_object();
			ch = json_object_new_object();
			json_object_object_add(ch, "id", json_object_new_int64(
			    json_object_get_int64(shape_get(c, "id"))));
			staff_str(ch, "name", shape_get_str(shape_get(c,
			    "name"), "full"));
			json_object_object_add(o, "character", ch);
			json_object_object_add(o, "anime",
			    works_shape(node, NULL));
			staff_str(o, "role", shape_get_str(e, "characterRole"));
			json_object_array_add(out, o);
		}
	}
	return (out);
}

/* The compact person; caller owns. */
static struct json_object *
staff_shape(struct json_object *s, bool full, bool include_adult)
{
	struct json_object	*o = json_object_new_object(), *name, *total;
	struct json_object	*works;
	long long		 n;

	name = shape_get(s, "name");
	json_object_object_add(o, "id", json_object_new_int64(
	    json_object_get_int64(shape_get(s, "id"))));
	staff_str(o, "name", shape_get_str(name, "full"));
	staff_str(o, "native_name", shape_get_str(name, "native"));
	json_object_object_add(o, "alternative_names", staff_list(name,
	    "alternative"));
	staff_str(o, "image", shape_get_str(shape_get(s, "image"), "medium"));
	json_object_object_add(o, "description", works_description(s, full));
	json_object_object_add(o, "occupations", staff_list(s,
	    "primaryOccupations"));
	staff_str(o, "gender", shape_get_str(s, "gender"));
	json_object_object_add(o, "age", shape_get(s, "age") != NULL ?
	    json_object_new_int64(json_object_get_int64(shape_get(s, "age"))) :
	    NULL);
	json_object_object_add(o, "years_active", staff_list(s,
	    "yearsActive"));
	staff_str(o, "home_town", shape_get_str(s, "homeTown"));
	staff_str(o, "language", shape_get_str(s, "languageV2"));
	json_object_object_add(o, "favourites", shape_get(s, "favourites") !=
	    NULL ? json_object_new_int64(json_object_get_int64(shape_get(s,
	    "favourites"))) : NULL);
	staff_str(o, "site_url", shape_get_str(s, "siteUrl"));
	works = staff_works(s, include_adult);
	total = shape_get(shape_get(shape_get(s, "staffMedia"), "pageInfo"),
	    "total");
	n = total != NULL ? json_object_get_int64(total) :
	    (long long)json_object_array_length(works);
	json_object_object_add(o, "works_total", json_object_new_int64(n));
	json_object_object_add(o, "works", works);
	json_object_object_add(o, "voice_roles", staff_voices(s,
	    include_adult));
	return (o);
}

/* "Shuuichi Shigeno (Original Creator). Works: A (2004, Director); … Voices: X in A." */
static char *
staff_summary(struct json_object *p)
{
	struct json_object	*works = shape_get(p, "works");
	struct json_object	*voices = shape_get(p, "voice_roles"), *w;
	struct json_object	*occ = shape_get(p, "occupations");
	const char		*s;
	struct buf		 b;
	size_t			 i, n;

	buf_init(&b);
	buf_puts(&b, shape_get_str(p, "name") != NULL ?
	    shape_get_str(p, "name") : "Unnamed");
	if ((s = shape_get_str(p, "native_name")) != NULL)
		buf_printf(&b, " (%s)", s);
	if (json_object_array_length(occ) > 0)
		buf_printf(&b, ", %s", json_object_get_string(
		    json_object_array_get_idx(occ, 0)));
	n = json_object_array_length(works);
	buf_printf(&b, ": %lld anime on AniList",
	    (long long)json_object_get_int64(shape_get(p, "works_total")));
	for (i = 0; i < n && i < STAFF_SUMMARY_WORKS; i++) {
		w = json_object_array_get_idx(works, i);
		buf_puts(&b, i == 0 ? "; best known: " : "; ");
		works_line(&b, w);
		if ((s = shape_get_str(w, "role")) != NULL)
			buf_printf(&b, ", %s", s);
	}
	n = json_object_array_length(voices);
	for (i = 0; i < n && i < STAFF_SUMMARY_WORKS; i++) {
		w = json_object_array_get_idx(voices, i);
		buf_printf(&b, "%s%s in %s", i == 0 ? ". Voices: " : "; ",
		    shape_get_str(shape_get(w, "character"), "name") != NULL ?
		    shape_get_str(shape_get(w, "character"), "name") :
		    "a character", shape_title(shape_get(w, "anime")));
	}
	buf_puts(&b, ".");
	return (buf_detach(&b));
}

static struct json_object *
staff_run(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*s, *result = NULL;
	struct anilist_reply	 reply;

	if ((s = works_lookup(call, args, &(struct works_lookup){
	    .op = TOOLS_OP_STAFF_INFO, .kind = "character",
	    .ttl = cfg->cache_ttl_character, .root = "Staff",
	    .by_id = "staff with id", .by_name = "person named",
	    .either = "a staff id" }, &reply)) == NULL)
		goto out;
	result = json_object_new_object();
	json_object_object_add(result, "staff", staff_shape(s,
	    tools_arg_bool(args, "full"), tools_arg_bool(args,
	    "include_adult")));
	tools_add_summary(result, staff_summary(shape_get(result, "staff")),
	    &reply);
out:
	anilist_reply_free(&reply);
	return (result);
}

const struct tool tools_get_staff_info = {
	.name = "get_staff_info",
	.title = "Staff info",
	.description = "A person of the anime world (director, writer, "
	    "composer, animator, voice actor) by AniList staff id or by "
	    "name: names, occupations, years active, description, their "
	    "anime as staff with their role (most popular first), and for "
	    "voice actors the characters they voice and in what. Give "
	    "either id or search.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    "\"id\":{\"type\":\"integer\",\"minimum\":1,"
	    "\"maximum\":2147483647,\"description\":\"AniList staff id.\"},"
	    "\"search\":{\"type\":\"string\",\"minLength\":1,"
	    "\"maxLength\":200,\"description\":\"A person's name; the best "
	    "match is shown.\"},"
	    TOOLS_PROP_PER_PAGE(8, 25) ","
	    TOOLS_PROP_INCLUDE_ADULT ","
	    TOOLS_PROP_FULL
	    "}}",
	.output_schema = "{\"type\":\"object\",\"required\":[\"staff\","
	    "\"text_summary\",\"source\"],\"properties\":{"
	    "\"staff\":{\"type\":\"object\",\"required\":[\"id\",\"name\","
	    "\"works\",\"voice_roles\"],\"properties\":{"
	    "\"id\":{\"type\":\"integer\"},\"name\":" SHAPE_NSTR ","
	    "\"native_name\":" SHAPE_NSTR ",\"alternative_names\":"
	    SHAPE_STRS ",\"image\":" SHAPE_NSTR ",\"description\":"
	    SHAPE_NSTR ",\"occupations\":" SHAPE_STRS ","
	    "\"gender\":" SHAPE_NSTR ",\"age\":" SHAPE_NINT ","
	    "\"years_active\":{\"type\":\"array\",\"items\":{\"type\":"
	    "\"integer\"},\"description\":\"[start, end]; no end: still "
	    "active\"},\"home_town\":" SHAPE_NSTR ",\"language\":"
	    SHAPE_NSTR ",\"favourites\":" SHAPE_NINT ",\"site_url\":"
	    SHAPE_NSTR ",\"works_total\":{\"type\":\"integer\"},"
	    "\"works\":{\"type\":\"array\",\"items\":" WORKS_SCHEMA "},"
	    "\"voice_roles\":{\"type\":\"array\",\"items\":{\"type\":"
	    "\"object\",\"properties\":{\"character\":{\"type\":\"object\","
	    "\"properties\":{\"id\":{\"type\":\"integer\"},\"name\":"
	    SHAPE_NSTR "}},\"anime\":" WORKS_SCHEMA ",\"role\":" SHAPE_NSTR
	    "}}}}},"
	    "\"text_summary\":{\"type\":\"string\"},"
	    "\"source\":" SHAPE_SCHEMA_SOURCE "}}",
	.annotations = { .read_only = true, .destructive = false,
	    .idempotent = true, .open_world = true },
	.auth = TOOL_AUTH_NONE,
	.widget = "ui://widget/works.html",
	.handler = staff_run,
	.keep_results = true,
};
