/* tools/works.c: a title as one of a person's or a studio's works, compact and shared by their tools. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "text.h"
#include "tool.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

static void
works_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s != NULL ? json_object_new_string(s) :
	    NULL);
}

static void
works_int(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v != NULL &&
	    (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)) ?
	    json_object_new_int64(json_object_get_int64(v)) : NULL);
}

bool
works_is_adult(struct json_object *media)
{
	struct json_object	*a = shape_get(media, "isAdult");

	return (a != NULL && json_object_get_boolean(a));
}

struct json_object *
works_title(struct json_object *media)
{
	struct json_object	*t = shape_get(media, "title");
	struct json_object	*o = json_object_new_object();

	works_str(o, "romaji", shape_get_str(t, "romaji"));
	works_str(o, "english", shape_get_str(t, "english"));
	return (o);
}

struct json_object *
works_shape(struct json_object *media, const char *role)
{
	struct json_object	*o = json_object_new_object();
	struct json_object	*year = shape_get(media, "seasonYear");

	works_int(o, "id", shape_get(media, "id"));
	json_object_object_add(o, "title", works_title(media));
	works_str(o, "format", shape_get_str(media, "format"));
	works_str(o, "status", shape_get_str(media, "status"));
	works_int(o, "episodes", shape_get(media, "episodes"));
	if (year == NULL)
		year = shape_get(shape_get(media, "startDate"), "year");
	works_int(o, "year", year);
	works_int(o, "average_score", shape_get(media, "averageScore"));
	works_int(o, "popularity", shape_get(media, "popularity"));
	if (role != NULL)
		works_str(o, "role", role);
	works_str(o, "cover_image", shape_get_str(shape_get(media,
	    "coverImage"), "medium"));
	works_str(o, "site_url", shape_get_str(media, "siteUrl"));
	return (o);
}

struct json_object *
works_description(struct json_object *o, bool full)
{
	const char		*raw = shape_get_str(o, "description");
	char			*plain, *cut;
	struct json_object	*out = NULL;

	if (raw == NULL)
		return (NULL);
	plain = text_plain(raw, full);
	if (*plain != '\0') {
		cut = full ? plain : text_truncate(plain, SHAPE_DESCRIPTION_MAX);
		out = json_object_new_string(cut);
		if (cut != plain)
			free(cut);
	}
	free(plain);
	return (out);
}

void
works_line(struct buf *b, struct json_object *work)
{
	struct json_object	*year = shape_get(work, "year");

	buf_puts(b, shape_title(work));
	if (year != NULL)
		buf_printf(b, " (%lld)", (long long)json_object_get_int64(year));
}

struct json_object *
works_lookup(struct tool_call *call, struct json_object *args,
    const struct works_lookup *wl, struct anilist_reply *reply)
{
	struct json_object	*vars, *found = NULL;
	bool			 has_id = json_object_object_get_ex(args, "id",
				    NULL);
	const char		*search = tools_arg_str(args, "search");
	char			*what;

	memset(reply, 0, sizeof *reply);
	if (has_id == (search != NULL)) {
		tool_fail(call, 400, "invalid_argument", "search", "give "
		    "either %s or search with a name, not %s", wl->either,
		    has_id ? "both" : "neither");
		return (NULL);
	}
	if (has_id)
		xasprintf(&what, "%s %lld", wl->by_id,
		    tools_arg_int(args, "id", 0));
	else
		xasprintf(&what, "%s '%s'", wl->by_name, search);
	vars = json_object_new_object();
	tools_var_copy(vars, "id", args, "id");
	tools_var_copy(vars, "search", args, "search");
	tools_var_copy(vars, "perPage", args, "per_page");
	if (tools_fetch(call, &(struct anilist_request){ .op = wl->op,
	    .vars = vars, .kind = wl->kind, .ttl = wl->ttl }, what, reply))
		found = tools_data(call, reply, wl->root, what);
	json_object_put(vars);
	free(what);
	return (found);
}
