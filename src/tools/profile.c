/* tools/profile.c: get_user_profile (a user's anime statistics and favourites) and toggle_favourite. */
#include "autoconf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

#define PROFILE_FAVOURITES	10	/* favourites shown per kind */

static const struct tool_annotations profile_read_only = {
	.read_only = true, .destructive = false, .idempotent = true,
	.open_world = true
};

static struct json_object *
profile_int(struct json_object *o, const char *key)
{
	struct json_object	*v = shape_get(o, key);

	if (v == NULL || !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return (NULL);
	return (json_object_new_int64(json_object_get_int64(v)));
}

static double
profile_num(struct json_object *o, const char *key)
{
	struct json_object	*v = shape_get(o, key);

	return (v != NULL ? json_object_get_double(v) : 0);
}

static int
profile_by_minutes(const void *a, const void *b)
{
	struct json_object *const	*x = a, *const *y = b;
	double				 mx, my, cx, cy;

	mx = profile_num(*x, "minutes_watched");
	my = profile_num(*y, "minutes_watched");
	if (mx != my)
		return (mx > my ? -1 : 1);
	cx = profile_num(*x, "count");
	cy = profile_num(*y, "count");
	if (cx != cy)
		return (cx > cy ? -1 : 1);
	return (strcmp(shape_get_str(*x, "name"), shape_get_str(*y, "name")));
}

/* Genre or tag statistics, by time spent then count, top n. */
static struct json_object *
profile_features(struct json_object *rows, const char *kind, size_t n)
{
	struct json_object	*out = json_object_new_array(), *r, *o;
	const char		*name;
	size_t			 i;
	double			 mean;

	for (i = 0; rows != NULL && json_object_is_type(rows, json_type_array)
	    && i < json_object_array_length(rows); i++) {
		r = json_object_array_get_idx(rows, i);
		name = strcmp(kind, "tag") == 0 ? shape_get_str(shape_get(r,
		    "tag"), "name") : shape_get_str(r, "genre");
		if (name == NULL)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "count", profile_int(r, "count"));
		json_object_object_add(o, "minutes_watched",
		    profile_int(r, "minutesWatched"));
		mean = profile_num(r, "meanScore");
		json_object_object_add(o, "mean_score", mean > 0 ?
		    json_object_new_double(mean) : NULL);
		json_object_array_add(out, o);
	}
	json_object_array_sort(out, profile_by_minutes);
	while (json_object_array_length(out) > n)
		json_object_array_del_idx(out, json_object_array_length(out) - 1,
		    1);
	return (out);
}

/* One kind of favourites: [{id, name or title…}], at most 10. */
static struct json_object *
profile_favourites(struct json_object *conn, bool media)
{
	struct json_object	*nodes = shape_get(conn, "nodes"), *n, *o;
	struct json_object	*out = json_object_new_array();
	struct json_object	*name;
	size_t			 i;

	for (i = 0; nodes != NULL && json_object_is_type(nodes,
	    json_type_array) && i < json_object_array_length(nodes) &&
	    i < PROFILE_FAVOURITES; i++) {
		n = json_object_array_get_idx(nodes, i);
		if (n == NULL)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "id", profile_int(n, "id"));
		if (media) {
			json_object_object_add(o, "title", works_title(n));
			json_object_object_add(o, "format",
			    shape_get_str(n, "format") != NULL ?
			    json_object_new_string(shape_get_str(n, "format")) :
			    NULL);
			json_object_object_add(o, "year",
			    profile_int(n, "seasonYear"));
		} else {
			name = shape_get(n, "name");
			json_object_object_add(o, "name", json_object_is_type(
			    name, json_type_string) ? json_object_get(name) :
			    shape_get_str(name, "full") != NULL ?
			    json_object_new_string(shape_get_str(name, "full")) :
			    NULL);
		}
		json_object_array_add(out, o);
	}
	return (out);
}

static struct json_object *
profile_favourites_all(struct json_object *favs)
{
	static const char *const kinds[] = { "anime", "characters", "staff",
	    "studios" };
	struct json_object	*o = json_object_new_object();
	struct json_object	*totals = json_object_new_object();
	size_t			 i;

	for (i = 0; i < nitems(kinds); i++) {
		json_object_object_add(o, kinds[i], profile_favourites(
		    shape_get(favs, kinds[i]), i == 0));
		json_object_object_add(totals, kinds[i], profile_int(
		    shape_get(shape_get(favs, kinds[i]), "pageInfo"), "total"));
	}
	json_object_object_add(o, "totals", totals);
	return (o);
}

static struct json_object *
profile_anime(struct json_object *a)
{
	struct json_object	*o = json_object_new_object(), *sts, *s, *so;
	struct json_object	*rows = shape_get(a, "statuses");
	double			 minutes = profile_num(a, "minutesWatched");
	double			 mean = profile_num(a, "meanScore");
	size_t			 i;

	json_object_object_add(o, "count", profile_int(a, "count"));
	json_object_object_add(o, "episodes_watched",
	    profile_int(a, "episodesWatched"));
	json_object_object_add(o, "minutes_watched",
	    profile_int(a, "minutesWatched"));
	json_object_object_add(o, "days_watched", json_object_new_double(
	    round(minutes / 144.0) / 10));
	json_object_object_add(o, "mean_score", mean > 0 ?
	    json_object_new_double(mean) : NULL);
	sts = json_object_new_array();
	for (i = 0; rows != NULL && json_object_is_type(rows,
	    json_type_array) && i < json_object_array_length(rows); i++) {
		s = json_object_array_get_idx(rows, i);
		if (shape_get_str(s, "status") == NULL)
			continue;
		so = json_object_new_object();
		json_object_object_add(so, "status", json_object_new_string(
		    shape_get_str(s, "status")));
		json_object_object_add(so, "count", profile_int(s, "count"));
		json_object_array_add(sts, so);
	}
	json_object_object_add(o, "statuses", sts);
	return (o);
}

/* "sampleuser: 52 anime, 3 episodes (0.1 days), mean score —; most time in Action, …; favourites: …" */
static char *
profile_summary(struct json_object *r)
{
	struct json_object	*a = shape_get(r, "anime"), *g, *fa;
	struct buf		 b;
	size_t			 i;

	buf_init(&b);
	buf_printf(&b, "%s: %lld anime on the list, %lld episodes watched "
	    "(%.1f days)", shape_get_str(shape_get(r, "user"), "name") ?
	    shape_get_str(shape_get(r, "user"), "name") : "the user",
	    (long long)profile_num(a, "count"),
	    (long long)profile_num(a, "episodes_watched"),
	    profile_num(a, "days_watched"));
	if (shape_get(a, "mean_score") != NULL)
		buf_printf(&b, ", mean score %.1f",
		    profile_num(a, "mean_score"));
	g = shape_get(r, "genres");
	for (i = 0; i < json_object_array_length(g); i++)
		buf_printf(&b, "%s%s", i == 0 ? "; most watched genres: " :
		    ", ", shape_get_str(json_object_array_get_idx(g, i),
		    "name"));
	fa = shape_get(shape_get(r, "favourites"), "anime");
	for (i = 0; i < json_object_array_length(fa) && i < 5; i++)
		buf_printf(&b, "%s%s", i == 0 ? "; favourite anime: " : ", ",
		    shape_title(json_object_array_get_idx(fa, i)));
	buf_puts(&b, ".");
	return (buf_detach(&b));
}

static struct json_object *
profile_run(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	const char		*name = tools_arg_str(args, "user_name");
	size_t			 top = (size_t)tools_arg_int(args, "top", 5);
	struct json_object	*vars, *user, *stats, *result = NULL, *u;
	struct anilist_reply	 reply;
	char			 scope[TOOLS_NAME_SCOPE_LEN], *what;
	const char		*p;

	(void)t;
	memset(&reply, 0, sizeof reply);
	if (name == NULL && auth == NULL) {
		tool_fail(call, 401, "unauthorized", NULL, "without user_name "
		    "this is the signed-in user's own profile: sign in with "
		    "AniList, or give user_name for someone's public profile");
		return (NULL);
	}
	for (p = name; p != NULL && *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) {
			tool_fail(call, 400, "invalid_argument", "user_name",
			    "user_name must be an AniList user name (letters, "
			    "digits, '_' or '-')");
			return (NULL);
		}
	}
	vars = json_object_new_object();
	if (name != NULL) {
		json_object_object_add(vars, "name",
		    json_object_new_string(name));
		users_name_scope(name, scope, sizeof scope);
		xasprintf(&what, "user named \"%s\"", name);
	} else {
		json_object_object_add(vars, "id",
		    json_object_new_int64(auth->anilist_id));
		what = xstrdup("profile for your account");
	}
	if (!tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_USER_PROFILE, .vars = vars, .kind = "user_list",
	    .ttl = cfg->cache_ttl_user_list,
	    .token = name != NULL ? NULL : auth->anilist_token,
	    .scope = name != NULL ? scope : auth->scope }, what, &reply) ||
	    (user = tools_data(call, &reply, "User", what)) == NULL)
		goto out;
	stats = shape_get(shape_get(user, "statistics"), "anime");
	result = json_object_new_object();
	u = json_object_new_object();
	json_object_object_add(u, "id", profile_int(user, "id"));
	json_object_object_add(u, "name", shape_get_str(user, "name") != NULL ?
	    json_object_new_string(shape_get_str(user, "name")) : NULL);
	json_object_object_add(u, "site_url", shape_get_str(user, "siteUrl") !=
	    NULL ? json_object_new_string(shape_get_str(user, "siteUrl")) :
	    NULL);
	json_object_object_add(result, "user", u);
	json_object_object_add(result, "own_profile",
	    json_object_new_boolean(name == NULL));
	json_object_object_add(result, "anime", profile_anime(stats));
	json_object_object_add(result, "genres", profile_features(
	    shape_get(stats, "genres"), "genre", top));
	json_object_object_add(result, "tags", profile_features(
	    shape_get(stats, "tags"), "tag", top));
	json_object_object_add(result, "favourites",
	    profile_favourites_all(shape_get(user, "favourites")));
	tools_add_summary(result, profile_summary(result), &reply);
out:
	anilist_reply_free(&reply);
	json_object_put(vars);
	free(what);
	return (result);
}

#define PROFILE_FEATURE_SCHEMA						\
	"{\"type\":\"array\",\"items\":{\"type\":\"object\","		\
	"\"required\":[\"name\"],\"properties\":{"			\
	"\"name\":{\"type\":\"string\"},\"count\":" SHAPE_NINT ","	\
	"\"minutes_watched\":" SHAPE_NINT ","				\
	"\"mean_score\":{\"type\":[\"number\",\"null\"]}}}}"
#define PROFILE_NAMED_SCHEMA						\
	"{\"type\":\"array\",\"items\":{\"type\":\"object\","		\
	"\"properties\":{\"id\":" SHAPE_NINT ",\"name\":" SHAPE_NSTR "}}}"

const struct tool tools_get_user_profile = {
	.name = "get_user_profile",
	.title = "User profile",
	.description = "A user's anime profile from AniList: how many titles "
	    "on the list, episodes and time watched, mean score, the count "
	    "per list status, favourite genres and tags by time spent, and "
	    "favourite anime, characters, staff and studios. user_name for "
	    "anyone's public profile; without it the signed-in user's own.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    "\"user_name\":{\"type\":\"string\",\"minLength\":1,"
	    "\"maxLength\":64,\"description\":\"An AniList user name. Leave "
	    "it out for the signed-in user's own profile.\"},"
	    "\"top\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10,"
	    "\"default\":5,\"description\":\"Genres and tags shown, 1 to "
	    "10.\"}"
	    "}}",
	.output_schema = "{\"type\":\"object\",\"required\":[\"user\","
	    "\"own_profile\",\"anime\",\"genres\",\"tags\",\"favourites\","
	    "\"text_summary\",\"source\"],\"properties\":{"
	    "\"user\":{\"type\":\"object\",\"properties\":{\"id\":" SHAPE_NINT
	    ",\"name\":" SHAPE_NSTR ",\"site_url\":" SHAPE_NSTR "}},"
	    "\"own_profile\":{\"type\":\"boolean\"},"
	    "\"anime\":{\"type\":\"object\",\"properties\":{"
	    "\"count\":" SHAPE_NINT ",\"episodes_watched\":" SHAPE_NINT ","
	    "\"minutes_watched\":" SHAPE_NINT ","
	    "\"days_watched\":{\"type\":\"number\"},"
	    "\"mean_score\":{\"type\":[\"number\",\"null\"],\"description\":"
	    "\"0-100; null when nothing is scored\"},"
	    "\"statuses\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	    "\"properties\":{\"status\":{\"type\":\"string\"},\"count\":"
	    SHAPE_NINT "}}}}},"
	    "\"genres\":" PROFILE_FEATURE_SCHEMA ","
	    "\"tags\":" PROFILE_FEATURE_SCHEMA ","
	    "\"favourites\":{\"type\":\"object\",\"properties\":{"
	    "\"anime\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	    "\"properties\":{\"id\":" SHAPE_NINT ",\"title\":{\"type\":"
	    "\"object\"},\"format\":" SHAPE_NSTR ",\"year\":" SHAPE_NINT
	    "}}},"
	    "\"characters\":" PROFILE_NAMED_SCHEMA ","
	    "\"staff\":" PROFILE_NAMED_SCHEMA ","
	    "\"studios\":" PROFILE_NAMED_SCHEMA ","
	    "\"totals\":{\"type\":\"object\"}}},"
	    "\"text_summary\":{\"type\":\"string\"},"
	    "\"source\":" SHAPE_SCHEMA_SOURCE "}}",
	.annotations = profile_read_only,
	.auth = TOOL_AUTH_OPTIONAL,
	.handler = profile_run,
	.widget = "ui://widget/user-profile.html",
};

/* toggle_favourite: kinds, their ToggleFavourite variable and field. */
static const struct {
	const char	*kind;
	const char	*var;
	const char	*field;
} profile_kinds[] = {
	{ "anime", "animeId", "anime" },
	{ "character", "characterId", "characters" },
	{ "staff", "staffId", "staff" },
	{ "studio", "studioId", "studios" },
};

/* Whether id is among the favourites of conn: 1, 0, or -1 unknown. */
static int
profile_has(struct json_object *conn, long long id)
{
	struct json_object	*nodes = shape_get(conn, "nodes");
	size_t			 i;

	for (i = 0; nodes != NULL && json_object_is_type(nodes,
	    json_type_array) && i < json_object_array_length(nodes); i++) {
		if (json_object_get_int64(shape_get(json_object_array_get_idx(
		    nodes, i), "id")) == id)
			return (1);
	}
	return (json_object_get_boolean(shape_get(shape_get(conn, "pageInfo"),
	    "hasNextPage")) ? -1 : 0);
}

static struct json_object *
profile_toggle(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	const char		*kind = tools_arg_str(args, "kind");
	long long		 id = tools_arg_int(args, "id", 0);
	struct json_object	*vars, *favs, *conn, *result = NULL;
	struct anilist_reply	 reply;
	size_t			 k;
	char			*what, *summary;
	int			 has;

	(void)t;
	for (k = 0; strcmp(profile_kinds[k].kind, kind) != 0; k++)
		;	/* the schema's enum holds only these */
	xasprintf(&what, "%s with id %lld", kind, id);
	vars = json_object_new_object();
	json_object_object_add(vars, profile_kinds[k].var,
	    json_object_new_int64(id));
	favs = NULL;
	if (tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_TOGGLE_FAVOURITE, .vars = vars, .kind = "list_save",
	    .token = auth->anilist_token }, what, &reply))
		favs = tools_data(call, &reply, "ToggleFavourite", what);
	/* Whatever came back, the favourites may have changed at AniList. */
	if (reply.upstream_calls > 0)
		users_invalidate(auth);
	if (favs == NULL)
		goto out;
	conn = shape_get(favs, profile_kinds[k].field);
	has = profile_has(conn, id);
	result = json_object_new_object();
	json_object_object_add(result, "kind", json_object_new_string(kind));
	json_object_object_add(result, "id", json_object_new_int64(id));
	json_object_object_add(result, "favourite", has < 0 ? NULL :
	    json_object_new_boolean(has == 1));
	json_object_object_add(result, "total", profile_int(shape_get(conn,
	    "pageInfo"), "total"));
	if (has < 0)
		xasprintf(&summary, "Toggled %s as a favourite; AniList lists "
		    "more than 25 favourite %s, so whether it is now in or out "
		    "shows on the profile.", what, profile_kinds[k].field);
	else
		xasprintf(&summary, "%s %s your favourites.", what, has == 1 ?
		    "added to" : "removed from");
	summary[0] = (char)(summary[0] >= 'a' && summary[0] <= 'z' ?
	    summary[0] - 'a' + 'A' : summary[0]);
	tools_add_summary(result, summary, &reply);
out:
	anilist_reply_free(&reply);
	json_object_put(vars);
	free(what);
	return (result);
}

const struct tool tools_toggle_favourite = {
	.name = "toggle_favourite",
	.title = "Toggle a favourite",
	.description = "Add an anime, character, staff member or studio to "
	    "the signed-in user's AniList favourites, or remove it when it "
	    "is one already (AniList's ToggleFavourite). Says which it did. "
	    "Needs sign-in.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"required\":[\"kind\",\"id\"],\"properties\":{"
	    "\"kind\":{\"type\":\"string\",\"enum\":[\"anime\","
	    "\"character\",\"staff\",\"studio\"],\"description\":\"What the "
	    "id names.\"},"
	    "\"id\":{\"type\":\"integer\",\"minimum\":1,"
	    "\"maximum\":2147483647,\"description\":\"Its AniList id.\"}"
	    "}}",
	.output_schema = "{\"type\":\"object\",\"required\":[\"kind\",\"id\","
	    "\"favourite\",\"text_summary\",\"source\"],\"properties\":{"
	    "\"kind\":{\"type\":\"string\"},\"id\":{\"type\":\"integer\"},"
	    "\"favourite\":{\"type\":[\"boolean\",\"null\"],\"description\":"
	    "\"a favourite now; null when AniList's answer cannot tell\"},"
	    "\"total\":" SHAPE_NINT ","
	    "\"text_summary\":{\"type\":\"string\"},"
	    "\"source\":" SHAPE_SCHEMA_SOURCE "}}",
	.annotations = { .read_only = false, .destructive = true,
	    .idempotent = false, .open_world = true },
	.auth = TOOL_AUTH_REQUIRED,
	.handler = profile_toggle,
};
