/* tools/users.c: a user's AniList list, and the signed-in user's changes to their own list. */
#include "autoconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "feedback.h"
#include "log.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

/* AniList user names are short; anything longer is not one. */
#define USERS_NAME_MAX		64
/* Cache scope of the public lists of one user name (see users_name_scope). */
#define USERS_NAME_SCOPE	"list:"

#define USERS_STATUSES							\
	"[\"CURRENT\",\"PLANNING\",\"COMPLETED\",\"DROPPED\",\"PAUSED\","	\
	"\"REPEATING\"]"
#define USERS_PROP_STATUS(what)						\
	"\"status\":{\"type\":\"string\",\"enum\":" USERS_STATUSES ","	\
	"\"description\":\"" what " CURRENT is watching (reading), "	\
	"REPEATING rewatching.\"}"
#define USERS_PROP_MEDIA_ID						\
	"\"media_id\":{\"type\":\"integer\",\"minimum\":1,"		\
	"\"maximum\":2147483647,\"description\":\"AniList id of the anime "	\
	"(or manga), as search_anime and get_user_list give it.\"}"

/* The local order of one page for each sort we offer (AniList's names). */
static const struct {
	const char	*name;		/* MediaListSort value */
	const char	*key;		/* entry field compared */
	bool		 desc;
} users_sorts[] = {
	{ "UPDATED_TIME_DESC", "updated_at", true },
	{ "UPDATED_TIME", "updated_at", false },
	{ "SCORE_DESC", "score", true },
	{ "SCORE", "score", false },
	{ "PROGRESS_DESC", "progress", true },
	{ "PROGRESS", "progress", false },
	{ "MEDIA_TITLE_ROMAJI", "title", false },
	{ "MEDIA_TITLE_ROMAJI_DESC", "title", true },
	{ "MEDIA_ID", "media_id", false },
	{ "MEDIA_ID_DESC", "media_id", true },
};

/* AniList's validation keys and the arguments they stand for. */
static const struct {
	const char	*anilist;
	const char	*field;
} users_fields[] = {
	{ "mediaId", "media_id" },
	{ "scoreRaw", "score" },
	{ "score", "score" },
	{ "progress", "progress" },
	{ "progressVolumes", "progress_volumes" },
	{ "status", "status" },
	{ "repeat", "repeat" },
	{ "notes", "notes" },
	{ "private", "private" },
	{ "startedAt", "started_at" },
	{ "completedAt", "completed_at" },
};

/* The dates of an entry: argument, AniList variable. */
static const struct {
	const char	*arg;
	const char	*var;
} users_dates[] = {
	{ "started_at", "startedAt" },
	{ "completed_at", "completedAt" },
};

/* The arguments of update_list_entry that change something. */
static const char *const users_changes[] = {
	"status", "progress", "progress_volumes", "score", "started_at",
	"completed_at", "repeat", "notes", "private"
};

#define USERS_ENTRY_SCHEMA						\
	"{\"type\":\"object\",\"required\":[\"id\",\"media_id\","	\
	"\"title\",\"status\"],\"properties\":{"			\
	"\"id\":{\"type\":\"integer\",\"description\":\"list entry id\"},"	\
	"\"media_id\":{\"type\":\"integer\"},"				\
	"\"title\":{\"type\":\"object\",\"properties\":{"		\
	"\"romaji\":" SHAPE_NSTR ",\"english\":" SHAPE_NSTR "}},"	\
	"\"status\":{\"type\":\"string\",\"description\":\"CURRENT, "	\
	"PLANNING, COMPLETED, DROPPED, PAUSED or REPEATING\"},"		\
	"\"score\":{\"type\":[\"integer\",\"null\"],\"description\":"	\
	"\"the user's score, 1-100; null when not scored\"},"		\
	"\"progress\":{\"type\":\"integer\",\"description\":"		\
	"\"episodes watched (chapters read)\"},"			\
	"\"episodes\":{\"type\":[\"integer\",\"null\"],"		\
	"\"description\":\"anime only\"},"				\
	"\"progress_volumes\":{\"type\":[\"integer\",\"null\"],"	\
	"\"description\":\"manga only: volumes read\"},"		\
	"\"chapters\":{\"type\":[\"integer\",\"null\"],"		\
	"\"description\":\"manga only\"},"				\
	"\"volumes\":{\"type\":[\"integer\",\"null\"],"		\
	"\"description\":\"manga only\"},"				\
	"\"format\":" SHAPE_NSTR ","					\
	"\"cover_image\":" SHAPE_NSTR ",\"site_url\":" SHAPE_NSTR ","	\
	"\"updated_at\":{\"type\":[\"string\",\"null\"],"		\
	"\"description\":\"RFC 3339 UTC\"},"				\
	"\"started_at\":" SHAPE_NSTR ",\"completed_at\":" SHAPE_NSTR ","	\
	"\"repeat\":{\"type\":\"integer\",\"description\":\"times "	\
	"rewatched\"},\"notes\":" SHAPE_NSTR ","				\
	"\"private\":{\"type\":\"boolean\"}}}"

static const char users_list_input[] =
	"{\"type\":\"object\",\"additionalProperties\":false,"
	"\"properties\":{"
	"\"user_name\":{\"type\":\"string\",\"minLength\":1,"
	"\"maxLength\":64,\"description\":\"An AniList user name: that "
	"user's public list. Leave it out for the signed-in user's own "
	"list (needs sign-in).\"},"
	"\"media_type\":{\"type\":\"string\",\"enum\":[\"ANIME\","
	"\"MANGA\"],\"description\":\"The anime list (the default) or the "
	"manga list (chapters and volumes read).\"},"
	"\"list_type\":{\"type\":\"string\",\"enum\":[\"ANIME\",\"MANGA\"],"
	"\"description\":\"The older name of media_type.\"},"
	USERS_PROP_STATUS("Only entries with this status; all when left "
	"out.") ","
	"\"sort\":{\"type\":\"string\",\"enum\":[\"UPDATED_TIME_DESC\","
	"\"UPDATED_TIME\",\"SCORE_DESC\",\"SCORE\",\"PROGRESS_DESC\","
	"\"PROGRESS\",\"MEDIA_TITLE_ROMAJI\",\"MEDIA_TITLE_ROMAJI_DESC\","
	"\"MEDIA_ID\",\"MEDIA_ID_DESC\"],\"default\":\"UPDATED_TIME_DESC\","
	"\"description\":\"Order of the entries: recently updated first by "
	"default.\"},"
	"\"page\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100000,"
	"\"default\":1,\"description\":\"Page number, from 1.\"},"
	/* AniList's MediaListCollection chunk holds at most 500 entries. */
	TOOLS_PROP_PER_PAGE(50, 500)
	"}}";

static const char users_list_output[] =
	SHAPE_SCHEMA_LIST(USERS_ENTRY_SCHEMA,
	"\"user\":{\"type\":\"object\",\"properties\":{"
	"\"id\":" SHAPE_NINT ",\"name\":" SHAPE_NSTR "}},"
	"\"own_list\":{\"type\":\"boolean\",\"description\":\"the signed-in "
	"user's own list (private entries included)\"},"
	"\"list_type\":{\"type\":\"string\"},"
	"\"media_type\":{\"type\":\"string\",\"enum\":[\"ANIME\","
	"\"MANGA\"]},");

static const char users_update_input[] =
	"{\"type\":\"object\",\"additionalProperties\":false,"
	"\"required\":[\"media_id\"],\"properties\":{"
	USERS_PROP_MEDIA_ID ","
	USERS_PROP_STATUS("The entry's status; when left out it keeps its "
	"current one (an anime not yet on the list needs one).") ","
	"\"progress\":{\"type\":\"integer\",\"minimum\":0,"
	"\"maximum\":100000,\"description\":\"Episodes watched (chapters "
	"read).\"},"
	"\"progress_volumes\":{\"type\":\"integer\",\"minimum\":0,"
	"\"maximum\":100000,\"description\":\"Volumes read: a manga "
	"only (refused for an anime).\"},"
	"\"score\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":100,"
	"\"description\":\"The user's score from 0 to 100 (0 clears "
	"it).\"},"
	"\"started_at\":{\"type\":\"string\",\"maxLength\":10,"
	"\"description\":\"When the user started: YYYY-MM-DD, YYYY-MM or "
	"YYYY; an empty string clears it.\"},"
	"\"completed_at\":{\"type\":\"string\",\"maxLength\":10,"
	"\"description\":\"When the user finished: YYYY-MM-DD, YYYY-MM or "
	"YYYY; an empty string clears it.\"},"
	"\"repeat\":{\"type\":\"integer\",\"minimum\":0,"
	"\"maximum\":1000,\"description\":\"Times rewatched.\"},"
	"\"notes\":{\"type\":\"string\",\"maxLength\":2000,"
	"\"description\":\"The user's notes (replace the old ones; an "
	"empty string clears them).\"},"
	"\"private\":{\"type\":\"boolean\",\"description\":\"Hide "
	"the entry from everyone else.\"}"
	"}}";

static const char users_update_output[] =
	"{\"type\":\"object\",\"required\":[\"entry\",\"text_summary\"],"
	"\"properties\":{\"entry\":" USERS_ENTRY_SCHEMA ","
	"\"text_summary\":{\"type\":\"string\"}}}";

static const char users_delete_input[] =
	"{\"type\":\"object\",\"additionalProperties\":false,"
	"\"required\":[\"media_id\"],\"properties\":{"
	USERS_PROP_MEDIA_ID "}}";

static const char users_delete_output[] =
	"{\"type\":\"object\",\"required\":[\"deleted\",\"media_id\","
	"\"text_summary\"],\"properties\":{"
	"\"deleted\":{\"type\":\"boolean\"},"
	"\"media_id\":{\"type\":\"integer\"},"
	"\"entry_id\":{\"type\":\"integer\"},"
	"\"title\":" SHAPE_NSTR ","
	"\"text_summary\":{\"type\":\"string\"}}}";

const char *
users_field_of(const char *key)
{
	size_t	i;

	for (i = 0; i < nitems(users_fields); i++) {
		if (strcmp(users_fields[i].anilist, key) == 0)
			return (users_fields[i].field);
	}
	return (key);
}

/* An integer field as a new JSON integer, or NULL (JSON null). */
static struct json_object *
users_int(struct json_object *o, const char *key)
{
	struct json_object	*v = shape_get(o, key);

	return (json_object_is_type(v, json_type_int) ?
	    json_object_new_int64(json_object_get_int64(v)) : NULL);
}

static struct json_object *
users_str(struct json_object *o, const char *key)
{
	const char	*s = shape_get_str(o, key);

	return (s != NULL ? json_object_new_string(s) : NULL);
}

/*
 * The scope of the cached public lists of a user name: lower case, so the
 * user's own changes can drop them (AniList names are case-insensitive).
 * out holds TOOLS_NAME_SCOPE_LEN bytes.
 */
_Static_assert(TOOLS_NAME_SCOPE_LEN >=
    USERS_NAME_MAX + sizeof USERS_NAME_SCOPE,
    "TOOLS_NAME_SCOPE_LEN holds a name's scope");
void
users_name_scope(const char *name, char *out, size_t len)
{
	size_t	i, n;

	n = (size_t)snprintf(out, len, "%s%s", USERS_NAME_SCOPE, name);
	for (i = strlen(USERS_NAME_SCOPE); i < n && i < len; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

void
users_invalidate(const struct tool_auth *auth)
{
	char	scope[TOOLS_NAME_SCOPE_LEN];

	anilist_invalidate_scope(auth->scope);
	if (auth->name != NULL) {
		users_name_scope(auth->name, scope, sizeof scope);
		anilist_invalidate_scope(scope);
	}
}

/* "2024-03-05", "2024-03" or "2024" of a FuzzyDate; NULL when unknown. */
static struct json_object *
users_fuzzy_date(struct json_object *d)
{
	struct json_object	*y = shape_get(d, "year"), *m, *day;
	char			 out[32];

	if (y == NULL || !json_object_is_type(y, json_type_int))
		return (NULL);
	m = shape_get(d, "month");
	day = shape_get(d, "day");
	if (m == NULL || !json_object_is_type(m, json_type_int))
		snprintf(out, sizeof out, "%04d", json_object_get_int(y));
	else if (day == NULL || !json_object_is_type(day, json_type_int))
		snprintf(out, sizeof out, "%04d-%02d", json_object_get_int(y),
		    json_object_get_int(m));
	else
		snprintf(out, sizeof out, "%04d-%02d-%02d",
		    json_object_get_int(y), json_object_get_int(m),
		    json_object_get_int(day));
	return (json_object_new_string(out));
}

/*
 * Add the entry's dates, repeat count, notes and private flag, as a saved
 * entry has them (lists leave them out: they stay small).
 */
static void
users_entry_details(struct json_object *o, struct json_object *e)
{
	struct json_object	*v;

	if (json_object_object_get_ex(e, "startedAt", &v))
		json_object_object_add(o, "started_at", users_fuzzy_date(v));
	if (json_object_object_get_ex(e, "completedAt", &v))
		json_object_object_add(o, "completed_at", users_fuzzy_date(v));
	if (json_object_object_get_ex(e, "repeat", &v))
		json_object_object_add(o, "repeat", json_object_new_int64(
		    json_object_is_type(v, json_type_int) ?
		    json_object_get_int64(v) : 0));
	if (json_object_object_get_ex(e, "notes", &v))
		json_object_object_add(o, "notes",
		    json_object_is_type(v, json_type_string) &&
		    json_object_get_string_len(v) > 0 ?
		    json_object_new_string(json_object_get_string(v)) : NULL);
	if (json_object_object_get_ex(e, "private", &v))
		json_object_object_add(o, "private", json_object_new_boolean(
		    v != NULL && json_object_get_boolean(v)));
}

/*
 * One AniList MediaList as the compact entry of USERS_ENTRY_SCHEMA: a
 * manga's (its media's type, else list_type) with chapters, volumes and
 * volumes read instead of episodes.
 */
static struct json_object *
users_entry(struct json_object *e, const char *list_type)
{
	struct json_object	*o, *media, *title, *t, *v;
	const char		*type;
	long long		 score = 0, mid = 0;
	char			 ts[32], *url;
	bool			 manga;

	media = shape_get(e, "media");
	o = json_object_new_object();
	json_object_object_add(o, "id", users_int(e, "id"));
	if ((v = shape_get(e, "mediaId")) != NULL &&
	    json_object_is_type(v, json_type_int))
		mid = json_object_get_int64(v);
	else if ((v = shape_get(media, "id")) != NULL &&
	    json_object_is_type(v, json_type_int))
		mid = json_object_get_int64(v);
	json_object_object_add(o, "media_id", json_object_new_int64(mid));
	t = shape_get(media, "title");
	title = json_object_new_object();
	json_object_object_add(title, "romaji", users_str(t, "romaji"));
	json_object_object_add(title, "english", users_str(t, "english"));
	json_object_object_add(o, "title", title);
	json_object_object_add(o, "status", json_object_new_string(
	    shape_get_str(e, "status") != NULL ? shape_get_str(e, "status") :
	    "CURRENT"));
	if ((v = shape_get(e, "score")) != NULL &&
	    (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		score = json_object_get_int64(v);
	json_object_object_add(o, "score", score > 0 ?
	    json_object_new_int64(score) : NULL);
	v = shape_get(e, "progress");
	json_object_object_add(o, "progress", json_object_new_int64(
	    json_object_is_type(v, json_type_int) ?
	    json_object_get_int64(v) : 0));
	if ((type = shape_get_str(media, "type")) == NULL)
		type = list_type;
	manga = type != NULL && strcasecmp(type, "MANGA") == 0;
	if (manga) {
		json_object_object_add(o, "progress_volumes",
		    users_int(e, "progressVolumes"));
		json_object_object_add(o, "chapters",
		    users_int(media, "chapters"));
		json_object_object_add(o, "volumes",
		    users_int(media, "volumes"));
	} else
		json_object_object_add(o, "episodes",
		    users_int(media, "episodes"));
	json_object_object_add(o, "format", users_str(media, "format"));
	json_object_object_add(o, "cover_image",
	    users_str(shape_get(media, "coverImage"), "medium"));
	if (mid > 0 && type != NULL) {
		xasprintf(&url, "https://anilist.co/%s/%lld",
		    manga ? "manga" : "anime", mid);
		json_object_object_add(o, "site_url",
		    json_object_new_string(url));
		free(url);
	} else
		json_object_object_add(o, "site_url", NULL);
	v = shape_get(e, "updatedAt");
	if (json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) > 0) {
		shape_time(json_object_get_int64(v), ts);
		json_object_object_add(o, "updated_at",
		    json_object_new_string(ts));
	} else
		json_object_object_add(o, "updated_at", NULL);
	return (o);
}

/* One page of entries sorted locally by sort (AniList groups by status). */
struct users_row {
	struct json_object	*entry;
	const char		*key;
	bool			 desc;
};

static const char *
users_row_title(struct json_object *entry)
{
	struct json_object	*t = shape_get(entry, "title");
	const char		*s;

	if ((s = shape_get_str(t, "romaji")) == NULL)
		s = shape_get_str(t, "english");
	return (s);
}

/* Compare two entries by key; unknown values go last in either order. */
static int
users_row_cmp(const void *pa, const void *pb)
{
	const struct users_row	*a = pa, *b = pb;
	struct json_object	*va, *vb;
	const char		*sa, *sb;
	long long		 na, nb;
	bool			 known_a, known_b;
	int			 c = 0;

	if (strcmp(a->key, "title") == 0) {
		sa = users_row_title(a->entry);
		sb = users_row_title(b->entry);
		known_a = sa != NULL;
		known_b = sb != NULL;
		if (known_a && known_b)
			c = strcasecmp(sa, sb);
	} else {
		va = shape_get(a->entry, a->key);
		vb = shape_get(b->entry, b->key);
		known_a = va != NULL;
		known_b = vb != NULL;
		if (known_a && known_b && json_object_is_type(va,
		    json_type_string))
			c = strcmp(json_object_get_string(va),
			    json_object_get_string(vb));
		else if (known_a && known_b) {
			na = json_object_get_int64(va);
			nb = json_object_get_int64(vb);
			c = na < nb ? -1 : na > nb;
		}
	}
	if (known_a != known_b)
		return (known_a ? -1 : 1);
	if (a->desc)
		c = -c;
	if (c != 0)
		return (c);
	na = json_object_get_int64(shape_get(a->entry, "media_id"));
	nb = json_object_get_int64(shape_get(b->entry, "media_id"));
	return (na < nb ? -1 : na > nb);
}

/*
 * The entries of every list of a MediaListCollection, shaped, once each
 * (an entry of a custom list also appears in its status list), in the
 * order of sort.
 */
static struct json_object *
users_entries(struct json_object *collection, const char *list_type,
    const char *sort)
{
	struct json_object	*lists, *entries, *out, *seen, *e, *id;
	struct users_row	*rows;
	const char		*key = "updated_at";
	char			 idbuf[32];
	size_t			 i, j, n;
	bool			 desc = true;

	out = json_object_new_array();
	seen = json_object_new_object();
	lists = shape_get(collection, "lists");
	for (i = 0; json_object_is_type(lists, json_type_array) &&
	    i < json_object_array_length(lists); i++) {
		entries = shape_get(json_object_array_get_idx(lists, i),
		    "entries");
		for (j = 0; json_object_is_type(entries, json_type_array) &&
		    j < json_object_array_length(entries); j++) {
			e = json_object_array_get_idx(entries, j);
			if (!json_object_is_type(e, json_type_object))
				continue;
			id = shape_get(e, "id");
			if (json_object_is_type(id, json_type_int)) {
				snprintf(idbuf, sizeof idbuf, "%lld",
				    (long long)json_object_get_int64(id));
				if (json_object_object_get_ex(seen, idbuf,
				    NULL))
					continue;
				json_object_object_add(seen, idbuf, NULL);
			}
			json_object_array_add(out, users_entry(e, list_type));
		}
	}
	json_object_put(seen);

	for (i = 0; i < nitems(users_sorts); i++) {
		if (sort != NULL && strcmp(users_sorts[i].name, sort) == 0) {
			key = users_sorts[i].key;
			desc = users_sorts[i].desc;
		}
	}
	n = json_object_array_length(out);
	if (n < 2)
		return (out);
	rows = xcalloc(n, sizeof *rows);
	for (i = 0; i < n; i++) {
		rows[i].entry = json_object_get(json_object_array_get_idx(out,
		    i));
		rows[i].key = key;
		rows[i].desc = desc;
	}
	qsort(rows, n, sizeof *rows, users_row_cmp);
	json_object_put(out);
	out = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++)
		json_object_array_add(out, rows[i].entry);
	free(rows);
	return (out);
}

/* ", chapters 30/364": done of a total (unknown: no "/"). */
static void
users_count_line(struct buf *b, const char *noun, struct json_object *done,
    struct json_object *total)
{
	buf_printf(b, ", %s %lld", noun, (long long)json_object_get_int64(done));
	if (total != NULL)
		buf_printf(b, "/%lld", (long long)json_object_get_int64(total));
}

/*
 * "Sousou no Frieren: CURRENT, progress 3/28, score 90/100"; a manga's
 * "Berserk: CURRENT, chapters 30/364, volumes 3/41".
 */
static void
users_entry_line(struct buf *b, struct json_object *e)
{
	struct json_object	*v;
	const char		*title = users_row_title(e);

	buf_printf(b, "%s: %s", title != NULL ? title : "Untitled",
	    shape_get_str(e, "status"));
	if (json_object_object_get_ex(e, "progress_volumes", NULL)) {
		users_count_line(b, "chapters", shape_get(e, "progress"),
		    shape_get(e, "chapters"));
		if ((v = shape_get(e, "progress_volumes")) != NULL)
			users_count_line(b, "volumes", v,
			    shape_get(e, "volumes"));
	} else
		users_count_line(b, "progress", shape_get(e, "progress"),
		    shape_get(e, "episodes"));
	if ((v = shape_get(e, "score")) != NULL)
		buf_printf(b, ", score %lld/100",
		    (long long)json_object_get_int64(v));
}

/* ", started 2024-03-01, finished …, rewatched 2 times, private, with notes" */
static void
users_details_line(struct buf *b, struct json_object *e)
{
	struct json_object	*v;
	const char		*s;

	if ((s = shape_get_str(e, "started_at")) != NULL)
		buf_printf(b, ", started %s", s);
	if ((s = shape_get_str(e, "completed_at")) != NULL)
		buf_printf(b, ", finished %s", s);
	if ((v = shape_get(e, "repeat")) != NULL &&
	    json_object_get_int64(v) > 0)
		buf_printf(b, ", rewatched %lld time%s",
		    (long long)json_object_get_int64(v),
		    json_object_get_int64(v) == 1 ? "" : "s");
	if ((v = shape_get(e, "private")) != NULL && json_object_get_boolean(v))
		buf_puts(b, ", private");
	if (shape_get_str(e, "notes") != NULL)
		buf_puts(b, ", with notes");
}

/* Are all bytes of name letters, digits, '_' or '-'? */
static bool
users_name_ok(const char *name)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (!isalnum(*p) && *p != '_' && *p != '-')
			return (false);
	}
	return (*name != '\0');
}

/*
 * The list a get_user_list call asks for: media_type, or its older name
 * list_type, else ANIME. NULL with call's error when the two disagree.
 */
static const char *
users_list_type(struct json_object *args, struct tool_call *call)
{
	const char	*type = tools_arg_str(args, "media_type");
	const char	*old = tools_arg_str(args, "list_type");

	if (type != NULL && old != NULL && strcmp(type, old) != 0) {
		tool_fail(call, 400, "invalid_argument", "list_type", "list_type "
		    "is the older name of media_type; give one of them (got "
		    "media_type %s and list_type %s)", type, old);
		return (NULL);
	}
	if (type == NULL)
		type = old != NULL ? old : "ANIME";
	return (type);
}

struct json_object *
users_collection(struct tool_call *call, const struct tool_auth *auth,
    const char *name, struct anilist_reply *reply)
{
	struct json_object	*vars, *coll = NULL;
	char			 name_scope[USERS_NAME_MAX +
				    sizeof USERS_NAME_SCOPE], *who;

	memset(reply, 0, sizeof *reply);
	if (name == NULL && auth == NULL) {
		tool_fail(call, 401, "unauthorized", NULL, "without user_name "
		    "this reads the signed-in user's own list: sign in with "
		    "AniList, or give user_name for someone's public list");
		return (NULL);
	}
	if (name != NULL && !users_name_ok(name)) {
		tool_fail(call, 400, "invalid_argument", "user_name", "user_name "
		    "must be an AniList user name (letters, digits, '_' or "
		    "'-')");
		return (NULL);
	}
	if (name == NULL && auth->anilist_id <= 0) {
		tool_fail(call, 401, "unauthorized", NULL, "the account has no "
		    "AniList user id; sign in with AniList again");
		return (NULL);
	}
	vars = json_object_new_object();
	if (name != NULL) {
		json_object_object_add(vars, "userName",
		    json_object_new_string(name));
		users_name_scope(name, name_scope, sizeof name_scope);
		xasprintf(&who, "user %s", name);
	} else {
		json_object_object_add(vars, "userId",
		    json_object_new_int64(auth->anilist_id));
		who = xstrdup("list for your account");
	}
	json_object_object_add(vars, "type", json_object_new_string("ANIME"));
	json_object_object_add(vars, "chunk", json_object_new_int(1));
	json_object_object_add(vars, "perChunk",
	    json_object_new_int(USERS_COLLECTION_MAX));
	if (tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_USER_LIST, .vars = vars, .kind = "user_list",
	    .ttl = cfg->cache_ttl_user_list,
	    .token = name != NULL ? NULL : auth->anilist_token,
	    .scope = name != NULL ? name_scope : auth->scope }, who, reply))
		coll = tools_data(call, reply, "MediaListCollection", who);
	json_object_put(vars);
	free(who);
	return (coll);
}

static struct json_object *
users_get_list(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*vars, *coll, *result = NULL, *results, *user;
	struct json_object	*sorts, *info, *next;
	struct anilist_reply	 reply;
	const char		*name = tools_arg_str(args, "user_name");
	const char		*type;
	const char		*status = tools_arg_str(args, "status");
	const char		*sort = tools_arg_str(args, "sort");
	const char		*token = NULL, *scope = NULL, *uname;
	char			 name_scope[USERS_NAME_MAX +
				    sizeof USERS_NAME_SCOPE], *what, *who;
	int			 page = (int)tools_arg_int(args, "page", 1);
	int			 per_page = (int)tools_arg_int(args, "per_page",
				    50);
	bool			 has_next = false;

	if ((type = users_list_type(args, call)) == NULL)
		return (NULL);
	if (name == NULL && auth == NULL) {
		tool_fail(call, 401, "unauthorized", NULL, "without user_name "
		    "get_user_list shows the signed-in user's own list: sign "
		    "in with AniList, or give user_name for someone's public "
		    "list");
		return (NULL);
	}
	if (name != NULL && !users_name_ok(name)) {
		tool_fail(call, 400, "invalid_argument", "user_name", "user_name "
		    "must be an AniList user name (letters, digits, '_' or "
		    "'-')");
		return (NULL);
	}
	vars = json_object_new_object();
	if (name != NULL) {
		/* A public list: no token, shared by everyone who asks. */
		json_object_object_add(vars, "userName",
		    json_object_new_string(name));
		users_name_scope(name, name_scope, sizeof name_scope);
		scope = name_scope;
	} else {
		/* The caller's own list, private entries included. */
		json_object_object_add(vars, "userId",
		    json_object_new_int64(auth->anilist_id));
		token = auth->anilist_token;
		scope = auth->scope;
	}
	json_object_object_add(vars, "type", json_object_new_string(type));
	tools_var_copy(vars, "status", args, "status");
	sorts = json_object_new_array();
	json_object_array_add(sorts, json_object_new_string(sort));
	if (strncmp(sort, "MEDIA_ID", 8) != 0)
		json_object_array_add(sorts,
		    json_object_new_string("MEDIA_ID"));
	json_object_object_add(vars, "sort", sorts);
	json_object_object_add(vars, "chunk", json_object_new_int(page));
	json_object_object_add(vars, "perChunk",
	    json_object_new_int(per_page));

	if (name != NULL)
		xasprintf(&who, "user %s", name);
	else
		who = xstrdup("list for your account");
	if (!tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_USER_LIST, .vars = vars, .kind = "user_list",
	    .ttl = cfg->cache_ttl_user_list, .token = token, .scope = scope },
	    who, &reply) ||
	    (coll = tools_data(call, &reply, "MediaListCollection", who)) ==
	    NULL)
		goto out;

	results = users_entries(coll, type, sort);
	next = shape_get(coll, "hasNextChunk");
	has_next = json_object_is_type(next, json_type_boolean) &&
	    json_object_get_boolean(next);
	info = json_object_new_object();
	json_object_object_add(info, "page", json_object_new_int(page));
	json_object_object_add(info, "per_page",
	    json_object_new_int(per_page));
	json_object_object_add(info, "has_next_page",
	    json_object_new_boolean(has_next));
	user = json_object_new_object();
	json_object_object_add(user, "id",
	    users_int(shape_get(coll, "user"), "id"));
	uname = shape_get_str(shape_get(coll, "user"), "name");
	if (uname == NULL)
		uname = name != NULL ? name : auth->name;
	json_object_object_add(user, "name",
	    uname != NULL ? json_object_new_string(uname) : NULL);

	xasprintf(&what, "on %s%s %s list%s%s", name == NULL ? "your" :
	    uname != NULL ? uname : name, name == NULL ? "" : "'s",
	    strcmp(type, "MANGA") == 0 ? "manga" : "anime",
	    status != NULL ? " with status " : "",
	    status != NULL ? status : "");
	result = tools_list_result(results, info, shape_list_summary(results,
	    &(struct shape_summary){ .one = "entry", .many = "entries",
	    .what = what, .page = page, .has_next = has_next,
	    .line = users_entry_line }), &reply);
	free(what);
	json_object_object_add(result, "user", user);
	json_object_object_add(result, "own_list",
	    json_object_new_boolean(name == NULL));
	json_object_object_add(result, "list_type",
	    json_object_new_string(type));
	json_object_object_add(result, "media_type",
	    json_object_new_string(type));
out:
	free(who);
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (result);
}

/*
 * Map a refused list change to call's error: AniList's validation map
 * names the argument ("scoreRaw" is score), anything else as tools_fetch
 * says it.
 */
static void
users_refused(struct tool_call *call, const struct anilist_reply *reply)
{
	struct json_object	*msgs, *m;
	const char		*text = NULL;

	if (reply->status != 400 || reply->validation == NULL ||
	    !json_object_is_type(reply->validation, json_type_object))
		return;
	json_object_object_foreach(reply->validation, key, val) {
		msgs = val;
		m = json_object_is_type(msgs, json_type_array) ?
		    json_object_array_get_idx(msgs, 0) : msgs;
		if (json_object_is_type(m, json_type_string))
			text = json_object_get_string(m);
		tool_fail(call, 400, "invalid_argument", users_field_of(key),
		    "AniList refused %s: %s", users_field_of(key),
		    text != NULL ? text : "invalid value");
		return;
	}
}

/*
 * The caller's entry for a media (no cache: it must be current), asked by
 * deadline (monotonic ms, the tool call's: tools that go on to change the
 * entry share it). NULL with call's error set: 404 when the media is not
 * on the list.
 */
static struct json_object *
users_find_entry(struct tool_call *call, const struct tool_auth *auth,
    long long media_id, uint64_t deadline)
{
	struct json_object	*vars, *e, *out = NULL;
	struct anilist_reply	 reply;
	char			*what;

	vars = json_object_new_object();
	json_object_object_add(vars, "mediaId",
	    json_object_new_int64(media_id));
	json_object_object_add(vars, "userId",
	    json_object_new_int64(auth->anilist_id));
	xasprintf(&what, "entry for media %lld on your list", media_id);
	if (tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_MEDIA_LIST_ENTRY, .vars = vars,
	    .kind = "list_entry", .token = auth->anilist_token,
	    .deadline = deadline }, what, &reply) &&
	    (e = tools_data(call, &reply, "MediaList", what)) != NULL)
		out = json_object_get(e);
	if (out == NULL && call->error.status == 404) {
		tool_error_clear(&call->error);
		tool_fail(call, 404, "not_found", "media_id", "media %lld is "
		    "not on your list", media_id);
	}
	free(what);
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (out);
}

/*
 * A title we recommended to this user that they now put on their list
 * counts as accepted (feedback.h); it never fails the list change.
 */
static void
users_credit_recommendation(const struct tool_auth *auth, long long media_id)
{
	char	*cause = NULL;
	bool	 recorded = false;

	if (feedback_list_added(auth->user_id, media_id, &recorded,
	    &cause) != 0) {
		log_warn("recommendation feedback not recorded",
		    LF_STR("error", cause), LF_END);
		free(cause);
	}
}

/* The digits of s from *i (at most max), as a number; -1 when none. */
static int
users_digits(const char *s, size_t *i, size_t len)
{
	int	n = 0;
	size_t	k;

	for (k = 0; k < len; k++) {
		if (!isdigit((unsigned char)s[*i + k]))
			return (-1);
		n = n * 10 + (s[*i + k] - '0');
	}
	*i += len;
	return (n);
}

/*
 * A date argument as AniList's FuzzyDateInput: "YYYY-MM-DD", "YYYY-MM" or
 * "YYYY", or "" for {year: null, …} (clears it). False with call's error.
 */
static bool
users_date_var(struct tool_call *call, const char *arg, const char *s,
    struct json_object **out)
{
	size_t	 i = 0, len = strlen(s);
	int	 y = -1, m = -1, d = -1;

	*out = json_object_new_object();
	if (len == 0)
		goto done;
	if (len != 4 && len != 7 && len != 10)
		goto bad;
	if ((y = users_digits(s, &i, 4)) < 1900 || y > 2100)
		goto bad;
	if (len > 4 && (s[i++] != '-' ||
	    (m = users_digits(s, &i, 2)) < 1 || m > 12))
		goto bad;
	if (len > 7 && (s[i++] != '-' ||
	    (d = users_digits(s, &i, 2)) < 1 || d > 31))
		goto bad;
done:
	json_object_object_add(*out, "year", y > 0 ?
	    json_object_new_int(y) : NULL);
	json_object_object_add(*out, "month", m > 0 ?
	    json_object_new_int(m) : NULL);
	json_object_object_add(*out, "day", d > 0 ?
	    json_object_new_int(d) : NULL);
	return (true);
bad:
	json_object_put(*out);
	*out = NULL;
	tool_fail(call, 400, "invalid_argument", arg, "%s must be a date "
	    "YYYY-MM-DD, YYYY-MM or YYYY (year 1900-2100), or an empty "
	    "string to clear it; got '%.*s'", arg, TOOL_ECHO_MAX, s);
	return (false);
}

/*
 * The variables of a save beyond status: progress, score, dates, repeat,
 * notes, private. False with call's error (a bad date).
 */
static bool
users_save_vars(struct tool_call *call, struct json_object *args,
    struct json_object *vars)
{
	struct json_object	*date;
	const char		*s;
	size_t			 i;

	tools_var_copy(vars, "progress", args, "progress");
	tools_var_copy(vars, "progressVolumes", args, "progress_volumes");
	tools_var_copy(vars, "scoreRaw", args, "score");
	tools_var_copy(vars, "repeat", args, "repeat");
	tools_var_copy(vars, "notes", args, "notes");
	tools_var_copy(vars, "private", args, "private");
	for (i = 0; i < nitems(users_dates); i++) {
		if ((s = tools_arg_str(args, users_dates[i].arg)) == NULL)
			continue;
		if (!users_date_var(call, users_dates[i].arg, s, &date))
			return (false);
		json_object_object_add(vars, users_dates[i].var, date);
	}
	return (true);
}

/*
 * progress_volumes counts a manga's volumes: when it is given, the media
 * must be a manga (AniList's Media of type MANGA; a shared, cached
 * answer), asked within deadline (the tool call's). False with call's
 * error, before anything changes.
 */
static bool
users_check_volumes(struct tool_call *call, struct json_object *args,
    long long media_id, uint64_t deadline)
{
	struct json_object	*vars;
	struct anilist_reply	 reply;
	bool			 ok;

	if (!json_object_object_get_ex(args, "progress_volumes", NULL))
		return (true);
	vars = json_object_new_object();
	json_object_object_add(vars, "id", json_object_new_int64(media_id));
	json_object_object_add(vars, "type", json_object_new_string("MANGA"));
	ok = tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_MEDIA_DETAILS, .vars = vars, .kind = "media",
	    .ttl = cfg->cache_ttl_media, .deadline = deadline },
	    "such manga", &reply) &&
	    tools_data(call, &reply, "Media", "such manga") != NULL;
	if (!ok && call->error.status == 404) {
		tool_error_clear(&call->error);
		tool_fail(call, 400, "invalid_argument", "progress_volumes",
		    "progress_volumes counts the volumes of a manga read, and "
		    "media %lld is no manga; leave it out for an anime",
		    media_id);
	}
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (ok);
}

/* Whether args change anything (a status, a score …). */
static bool
users_has_change(struct json_object *args)
{
	size_t	i;

	for (i = 0; i < nitems(users_changes); i++) {
		if (json_object_object_get_ex(args, users_changes[i], NULL))
			return (true);
	}
	return (false);
}

static struct json_object *
users_update(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*vars = NULL, *saved, *entry, *result = NULL;
	struct anilist_reply	 reply;
	struct buf		 b;
	long long		 media_id = tools_arg_int(args, "media_id", 0);
	const char		*status = tools_arg_str(args, "status");
	char			*status_now = NULL;
	bool			 fetched = false;
	/* One deadline: the manga check, the entry's lookup, the change. */
	uint64_t		 deadline = util_mono_ms() +
	    (uint64_t)cfg->upstream_timeout_ms;

	memset(&reply, 0, sizeof reply);
	if (!users_has_change(args)) {
		tool_fail(call, 400, "invalid_argument", "status", "nothing to "
		    "change: give status, progress, progress_volumes, score, "
		    "started_at, completed_at, repeat, notes or private");
		return (NULL);
	}
	vars = json_object_new_object();
	if (!users_save_vars(call, args, vars) ||
	    !users_check_volumes(call, args, media_id, deadline))
		goto out;
	/*
	 * The status always goes to AniList explicitly: left out, it is the
	 * entry's current one, never a default AniList would pick for us.
	 */
	if (status == NULL) {
		if ((entry = users_find_entry(call, auth, media_id,
		    deadline)) == NULL) {
			if (call->error.status == 404) {
				tool_error_clear(&call->error);
				tool_fail(call, 400, "invalid_argument",
				    "status", "media %lld is not on your list "
				    "yet: give a status (CURRENT, PLANNING, "
				    "COMPLETED, DROPPED, PAUSED or REPEATING) "
				    "to add it", media_id);
			}
			goto out;
		}
		if (shape_get_str(entry, "status") != NULL)
			status_now = xstrdup(shape_get_str(entry, "status"));
		json_object_put(entry);
		if (status_now == NULL) {
			tool_fail(call, 502, "upstream_error", NULL, "AniList "
			    "gave the entry without a status");
			goto out;
		}
		status = status_now;
	}
	json_object_object_add(vars, "mediaId",
	    json_object_new_int64(media_id));
	json_object_object_add(vars, "status", json_object_new_string(status));

	fetched = tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_SAVE_LIST_ENTRY, .vars = vars,
	    .kind = "list_save", .token = auth->anilist_token,
	    .deadline = deadline },
	    "such anime or manga", &reply);
	/* Whatever came back, the list may have changed at AniList. */
	if (reply.upstream_calls > 0)
		users_invalidate(auth);
	if (!fetched) {
		users_refused(call, &reply);
		goto out;
	}
	if ((saved = tools_data(call, &reply, "SaveMediaListEntry",
	    "such anime or manga")) == NULL)
		goto out;
	users_credit_recommendation(auth, media_id);
	entry = users_entry(saved, NULL);
	users_entry_details(entry, saved);
	buf_init(&b);
	buf_puts(&b, "Saved on your list: ");
	users_entry_line(&b, entry);
	users_details_line(&b, entry);
	buf_putc(&b, '.');
	result = json_object_new_object();
	json_object_object_add(result, "entry", entry);
	json_object_object_add(result, "text_summary",
	    json_object_new_string(b.data));
	buf_free(&b);
out:
	free(status_now);
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (result);
}

static struct json_object *
users_delete(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*vars, *entry, *done, *v, *result = NULL;
	struct anilist_reply	 reply;
	long long		 media_id = tools_arg_int(args, "media_id", 0);
	long long		 entry_id;
	const char		*title;
	char			*text;
	bool			 fetched;
	/* One deadline for the entry's lookup and the deletion. */
	uint64_t		 deadline = util_mono_ms() +
	    (uint64_t)cfg->upstream_timeout_ms;

	if ((entry = users_find_entry(call, auth, media_id, deadline)) == NULL)
		return (NULL);
	v = shape_get(entry, "id");
	if (!json_object_is_type(v, json_type_int)) {
		json_object_put(entry);
		tool_fail(call, 502, "upstream_error", NULL, "AniList gave the "
		    "entry without an id");
		return (NULL);
	}
	entry_id = json_object_get_int64(v);
	vars = json_object_new_object();
	json_object_object_add(vars, "id", json_object_new_int64(entry_id));
	fetched = tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_DELETE_LIST_ENTRY, .vars = vars,
	    .kind = "list_delete", .token = auth->anilist_token,
	    .deadline = deadline },
	    "such list entry", &reply);
	if (reply.upstream_calls > 0)
		users_invalidate(auth);
	if (!fetched) {
		if (call->error.status == 404) {
			tool_error_clear(&call->error);
			tool_fail(call, 404, "not_found", "media_id", "media "
			    "%lld is not on your list", media_id);
		} else
			users_refused(call, &reply);
		goto out;
	}
	if ((done = tools_data(call, &reply, "DeleteMediaListEntry",
	    "such list entry")) == NULL)
		goto out;
	v = shape_get(done, "deleted");
	if (!json_object_is_type(v, json_type_boolean) ||
	    !json_object_get_boolean(v)) {
		tool_fail(call, 502, "upstream_error", NULL, "AniList did not "
		    "confirm the deletion");
		goto out;
	}
	title = shape_get_str(shape_get(shape_get(entry, "media"), "title"),
	    "romaji");
	if (title == NULL)
		title = shape_get_str(shape_get(shape_get(entry, "media"),
		    "title"), "english");
	result = json_object_new_object();
	json_object_object_add(result, "deleted",
	    json_object_new_boolean(true));
	json_object_object_add(result, "media_id",
	    json_object_new_int64(media_id));
	json_object_object_add(result, "entry_id",
	    json_object_new_int64(entry_id));
	json_object_object_add(result, "title",
	    title != NULL ? json_object_new_string(title) : NULL);
	xasprintf(&text, "Removed %s from your list.", title != NULL ? title :
	    "the anime");
	json_object_object_add(result, "text_summary",
	    json_object_new_string(text));
	free(text);
out:
	anilist_reply_free(&reply);
	json_object_put(vars);
	json_object_put(entry);
	return (result);
}

const struct tool tools_get_user_list = {
	.name = "get_user_list",
	.title = "Get an anime list",
	.description = "A user's AniList anime list (or, with media_type "
	    "MANGA, manga list): each entry with its status, progress "
	    "(episodes, or chapters and volumes read), the user's score "
	    "(0-100) and the title. Without user_name it is the signed-in user's own list "
	    "(private entries included; needs sign-in with AniList); with "
	    "user_name it is that user's public list. Filter by status, "
	    "sort, and page through long lists (up to 500 entries a page).",
	.input_schema = users_list_input,
	.output_schema = users_list_output,
	.annotations = { .read_only = true, .destructive = false,
	    .idempotent = true, .open_world = true },
	.auth = TOOL_AUTH_OPTIONAL,
	.widget = "ui://widget/user-list.html",
	.handler = users_get_list,
};

const struct tool tools_update_list_entry = {
	.name = "update_list_entry",
	.title = "Update my list entry",
	.description = "Add an anime or a manga to the signed-in user's "
	    "AniList list or change its entry: status (CURRENT = watching or "
	    "reading, PLANNING, COMPLETED, DROPPED, PAUSED, REPEATING), "
	    "progress (episodes watched, or chapters read), progress_volumes "
	    "(a manga's volumes read), score (0-100), started_at and completed_at (dates), "
	    "repeat (times rewatched), notes and private. Fields left out "
	    "keep their value. "
	    "Needs sign-in with AniList. Only when the user asks for the "
	    "change.",
	.input_schema = users_update_input,
	.output_schema = users_update_output,
	.annotations = { .read_only = false, .destructive = false,
	    .idempotent = true, .open_world = true },
	.auth = TOOL_AUTH_REQUIRED,
	.widget = NULL,
	.handler = users_update,
};

const struct tool tools_delete_list_entry = {
	.name = "delete_list_entry",
	.title = "Remove from my list",
	.description = "Remove an anime or a manga from the signed-in "
	    "user's AniList list (its status, progress, score and notes are lost). Needs "
	    "sign-in with AniList. Only when the user asks for it.",
	.input_schema = users_delete_input,
	.output_schema = users_delete_output,
	.annotations = { .read_only = false, .destructive = true,
	    .idempotent = true, .open_world = true },
	.auth = TOOL_AUTH_REQUIRED,
	.widget = NULL,
	.handler = users_delete,
};
