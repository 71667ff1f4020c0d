/* tools/characters.c: characters by id or by name, with the titles they appear in. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

/* Appearances named in a character's text_summary. */
#define CHARACTERS_SUMMARY_APPEARANCES	3

/* "Frieren (in Sousou no Frieren)" for a shaped character. */
static void
characters_line(struct buf *b, struct json_object *c)
{
	struct json_object	*apps, *first;

	buf_puts(b, shape_title(c));
	if (json_object_object_get_ex(c, "appearances", &apps) &&
	    json_object_array_length(apps) > 0) {
		first = json_object_array_get_idx(apps, 0);
		buf_printf(b, " (in %s)", shape_title(first));
	}
}

/* "Frieren (フリーレン): Female, age 1000+. In: Sousou no Frieren (MAIN)." */
static char *
characters_summary(struct json_object *c)
{
	struct json_object	*name, *apps, *a;
	struct buf		 b;
	const char		*s;
	size_t			 i, n;
	bool			 any = false;

	buf_init(&b);
	buf_puts(&b, shape_title(c));
	json_object_object_get_ex(c, "name", &name);
	if ((s = shape_get_str(name, "native")) != NULL)
		buf_printf(&b, " (%s)", s);
	buf_puts(&b, ":");
	if ((s = shape_get_str(c, "gender")) != NULL) {
		buf_printf(&b, " %s", s);
		any = true;
	}
	if ((s = shape_get_str(c, "age")) != NULL) {
		buf_printf(&b, "%s age %s", any ? "," : "", s);
		any = true;
	}
	if ((s = shape_get_str(c, "birthday")) != NULL) {
		buf_printf(&b, "%s born %s", any ? "," : "", s);
		any = true;
	}
	if (!any)
		buf_puts(&b, " no personal details on AniList");
	buf_puts(&b, ".");
	if (json_object_object_get_ex(c, "appearances", &apps) &&
	    (n = json_object_array_length(apps)) > 0) {
		buf_puts(&b, " Appears in:");
		for (i = 0; i < n && i < CHARACTERS_SUMMARY_APPEARANCES; i++) {
			a = json_object_array_get_idx(apps, i);
			buf_printf(&b, "%s %s", i > 0 ? ";" : "",
			    shape_title(a));
			if ((s = shape_get_str(a, "role")) != NULL)
				buf_printf(&b, " (%s)", s);
		}
		if (n > CHARACTERS_SUMMARY_APPEARANCES)
			buf_printf(&b, "; and %zu more",
			    n - CHARACTERS_SUMMARY_APPEARANCES);
		buf_puts(&b, ".");
	}
	return (buf_detach(&b));
}

static struct json_object *
characters_by_id(struct json_object *args, struct tool_call *call)
{
	struct json_object	*vars, *ch, *c, *result = NULL;
	struct anilist_reply	 reply;
	char			*what;

	xasprintf(&what, "character with id %lld",
	    tools_arg_int(args, "id", 0));
	vars = json_object_new_object();
	tools_var_copy(vars, "id", args, "id");
	if (!tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_CHARACTER_BY_ID, .vars = vars, .kind = "character",
	    .ttl = cfg->cache_ttl_character }, what, &reply) ||
	    (ch = tools_data(call, &reply, "Character", what)) == NULL)
		goto out;
	c = shape_character(ch, tools_arg_bool(args, "full"));
	result = json_object_new_object();
	json_object_object_add(result, "character", c);
	tools_add_summary(result, characters_summary(c), &reply);
out:
	anilist_reply_free(&reply);
	json_object_put(vars);
	free(what);
	return (result);
}

static struct json_object *
characters_search(struct json_object *args, struct tool_call *call)
{
	struct json_object	*vars, *page, *list, *pi = NULL, *results;
	struct json_object	*info, *next, *ch, *result = NULL;
	struct anilist_reply	 reply;
	int			 pg = (int)tools_arg_int(args, "page", 1);
	bool			 full = tools_arg_bool(args, "full");
	char			*what;
	size_t			 i;

	if (!tools_check_depth(args, call))
		return (NULL);
	vars = json_object_new_object();
	tools_var_copy(vars, "search", args, "search");
	tools_var_copy(vars, "page", args, "page");
	tools_var_copy(vars, "perPage", args, "per_page");
	if (!tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_CHARACTER_SEARCH, .vars = vars, .kind = "character",
	    .ttl = cfg->cache_ttl_character }, NULL, &reply) ||
	    (page = tools_data(call, &reply, "Page", NULL)) == NULL)
		goto out;
	json_object_object_get_ex(page, "pageInfo", &pi);
	results = json_object_new_array();
	if (json_object_object_get_ex(page, "characters", &list) &&
	    json_object_is_type(list, json_type_array)) {
		for (i = 0; i < json_object_array_length(list); i++) {
			ch = json_object_array_get_idx(list, i);
			if (json_object_is_type(ch, json_type_object))
				json_object_array_add(results,
				    shape_character(ch, full));
		}
	}
	info = shape_page_info(pi, pg, (int)tools_arg_int(args, "per_page",
	    5));
	json_object_object_get_ex(info, "has_next_page", &next);
	xasprintf(&what, "named '%s'", tools_arg_str(args, "search"));
	result = tools_list_result(results, info, shape_list_summary(results,
	    &(struct shape_summary){ .one = "character", .many = "characters",
	    .what = what, .page = pg, .has_next = json_object_get_boolean(next),
	    .line = characters_line }), &reply);
	free(what);
out:
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (result);
}

static struct json_object *
characters_info(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	bool	has_id = json_object_object_get_ex(args, "id", NULL);
	bool	has_search = tools_arg_str(args, "search") != NULL;

	if (has_id && has_search) {
		tool_fail(call, 400, "invalid_argument", "search", "give "
		    "either id or search, not both");
		return (NULL);
	}
	if (!has_id && !has_search) {
		tool_fail(call, 400, "invalid_argument", "search", "give a "
		    "character id, or search with a name");
		return (NULL);
	}
	return (has_id ? characters_by_id(args, call) :
	    characters_search(args, call));
}

#define CHARACTERS_SCHEMA						\
	"{\"type\":\"object\",\"required\":[\"id\",\"name\"],"		\
	"\"properties\":{\"id\":{\"type\":\"integer\"},"		\
	"\"name\":{\"type\":\"object\",\"properties\":{"		\
	"\"full\":" SHAPE_NSTR ",\"native\":" SHAPE_NSTR ","		\
	"\"alternative\":" SHAPE_STRS "}},"				\
	"\"image\":" SHAPE_NSTR ",\"description\":" SHAPE_NSTR ","	\
	"\"gender\":" SHAPE_NSTR ",\"age\":" SHAPE_NSTR ","		\
	"\"birthday\":" SHAPE_NSTR ",\"favourites\":" SHAPE_NINT ","	\
	"\"site_url\":" SHAPE_NSTR ","					\
	"\"appearances\":{\"type\":\"array\",\"items\":{"		\
	"\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"	\
	"\"title\":" SHAPE_SCHEMA_TITLE ",\"type\":" SHAPE_NSTR ","	\
	"\"format\":" SHAPE_NSTR ",\"role\":" SHAPE_NSTR "}}}}}"

const struct tool tools_get_character_info = {
	.name = "get_character_info",
	.title = "Character info",
	.description = "A character by AniList id, or characters found by "
	    "name: names, image, description (spoilers hidden unless "
	    "full=true), gender, age, birthday, favourites, and the titles "
	    "they appear in with their role (MAIN, SUPPORTING, BACKGROUND). "
	    "Give either id or search.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    "\"id\":{\"type\":\"integer\",\"minimum\":1,"
	    "\"maximum\":2147483647,\"description\":\"AniList character "
	    "id.\"},"
	    "\"search\":{\"type\":\"string\",\"minLength\":1,"
	    "\"maxLength\":200,\"description\":\"A character's name.\"},"
	    TOOLS_PROP_PAGE ","
	    TOOLS_PROP_PER_PAGE(5, 25) ","
	    TOOLS_PROP_FULL
	    "}}",
	.output_schema = "{\"type\":\"object\",\"required\":["
	    "\"text_summary\",\"source\"],\"properties\":{"
	    "\"character\":" CHARACTERS_SCHEMA ","
	    "\"results\":{\"type\":\"array\",\"items\":" CHARACTERS_SCHEMA
	    "},\"page_info\":" SHAPE_SCHEMA_PAGE_INFO ","
	    "\"text_summary\":{\"type\":\"string\"},"
	    "\"source\":" SHAPE_SCHEMA_SOURCE "},"
	    "\"description\":\"character (by id) or results and page_info "
	    "(by search)\"}",
	.annotations = { .read_only = true, .destructive = false,
	    .idempotent = true, .open_world = true },
	.auth = TOOL_AUTH_NONE,
	.widget = NULL,
	.handler = characters_info,
	.keep_results = true,
};
