/* tools/genres.c: the genres and tags search_anime filters by. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

/* AniList's one adult genre; its tags say isAdult themselves. */
#define GENRES_ADULT	"Hentai"

static struct json_object *
genres_list(struct json_object *collection, bool include_adult)
{
	struct json_object	*out = json_object_new_array(), *g;
	size_t			 i;

	if (!json_object_is_type(collection, json_type_array))
		return (out);
	for (i = 0; i < json_object_array_length(collection); i++) {
		g = json_object_array_get_idx(collection, i);
		if (!json_object_is_type(g, json_type_string) ||
		    (!include_adult && strcmp(json_object_get_string(g),
		    GENRES_ADULT) == 0))
			continue;
		json_object_array_add(out,
		    json_object_new_string(json_object_get_string(g)));
	}
	return (out);
}

static struct json_object *
genres_tags(struct json_object *collection, bool include_adult, bool full)
{
	struct json_object	*out = json_object_new_array(), *t, *v, *o;
	const char		*keys[] = { "name", "category", "description" };
	size_t			 i, k;

	if (!json_object_is_type(collection, json_type_array))
		return (out);
	for (i = 0; i < json_object_array_length(collection); i++) {
		t = json_object_array_get_idx(collection, i);
		if (!json_object_object_get_ex(t, "name", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    (!include_adult && json_object_object_get_ex(t,
		    "isAdult", &v) && json_object_get_boolean(v)))
			continue;
		o = json_object_new_object();
		for (k = 0; k < (full ? 3U : 2U); k++) {
			json_object_object_add(o, keys[k],
			    json_object_object_get_ex(t, keys[k], &v) &&
			    json_object_is_type(v, json_type_string) ?
			    json_object_new_string(json_object_get_string(v)) :
			    NULL);
		}
		json_object_array_add(out, o);
	}
	return (out);
}

static char *
genres_summary(struct json_object *genres, struct json_object *tags)
{
	struct buf		 b;
	struct json_object	*cat;
	size_t			 i, ncat = 0, j;
	const char		*seen[64], *c;

	buf_init(&b);
	buf_printf(&b, "%zu genres", json_object_array_length(genres));
	for (i = 0; i < json_object_array_length(genres); i++)
		buf_printf(&b, "%s%s", i == 0 ? ": " : ", ",
		    json_object_get_string(json_object_array_get_idx(genres,
		    i)));
	for (i = 0; i < json_object_array_length(tags); i++) {
		if (!json_object_object_get_ex(json_object_array_get_idx(tags,
		    i), "category", &cat) || cat == NULL)
			continue;
		c = json_object_get_string(cat);
		for (j = 0; j < ncat && strcmp(seen[j], c) != 0; j++)
			;
		if (j == ncat && ncat < nitems(seen))
			seen[ncat++] = c;
	}
	buf_printf(&b, ". %zu tags", json_object_array_length(tags));
	if (ncat > 0)
		buf_printf(&b, " in %zu categories", ncat);
	for (i = 0; i < ncat; i++)
		buf_printf(&b, "%s%s", i == 0 ? ": " : ", ", seen[i]);
	buf_puts(&b, ".");
	return (buf_detach(&b));
}

static struct json_object *
genres_and_tags(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*vars, *gc, *tc, *genres, *tags;
	struct json_object	*result = NULL;
	struct anilist_reply	 reply;
	bool			 adult = tools_arg_bool(args, "include_adult");

	vars = json_object_new_object();
	if (!tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_GENRES_AND_TAGS, .vars = vars, .kind = "genres",
	    .ttl = cfg->cache_ttl_genres }, NULL, &reply) ||
	    (gc = tools_data(call, &reply, "GenreCollection", NULL)) == NULL ||
	    (tc = tools_data(call, &reply, "MediaTagCollection",
	    NULL)) == NULL)
		goto out;
	genres = genres_list(gc, adult);
	tags = genres_tags(tc, adult, tools_arg_bool(args, "full"));
	result = json_object_new_object();
	json_object_object_add(result, "genres", genres);
	json_object_object_add(result, "tags", tags);
	tools_add_summary(result, genres_summary(genres, tags), &reply);
out:
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (result);
}

const struct tool tools_list_genres_and_tags = {
	.name = "list_genres_and_tags",
	.title = "Genres and tags",
	.description = "Every AniList genre, and every tag with its category "
	    "(full=true adds tag descriptions): the exact names "
	    "search_anime's genres and tags filters accept. Adult genres "
	    "and tags are left out unless include_adult=true.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    TOOLS_PROP_INCLUDE_ADULT ","
	    "\"full\":{\"type\":\"boolean\",\"default\":false,"
	    "\"description\":\"Include each tag's description.\"}"
	    "}}",
	.output_schema = "{\"type\":\"object\",\"required\":[\"genres\","
	    "\"tags\",\"text_summary\",\"source\"],\"properties\":{"
	    "\"genres\":" SHAPE_STRS ","
	    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	    "\"properties\":{\"name\":{\"type\":\"string\"},"
	    "\"category\":" SHAPE_NSTR ",\"description\":" SHAPE_NSTR "}}},"
	    "\"text_summary\":{\"type\":\"string\"},"
	    "\"source\":" SHAPE_SCHEMA_SOURCE "}}",
	.annotations = { .read_only = true, .destructive = false,
	    .idempotent = true, .open_world = true },
	.auth = TOOL_AUTH_NONE,
	.widget = NULL,
	.handler = genres_and_tags,
	.keep_results = true,
};
