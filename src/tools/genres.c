/* tools/genres.c: the genres and tags search_anime filters by. */
#include "autoconf.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/*
 * AniList's genre and tag collections (borrowed from reply), through the
 * shared cache: true with *gc and *tc set, else false with call's error
 * set. Release reply with anilist_reply_free either way.
 */
static bool
genres_fetch(struct tool_call *call, struct anilist_reply *reply,
    struct json_object **gc, struct json_object **tc)
{
	struct json_object	*vars = json_object_new_object();
	bool			 ok;

	ok = tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_GENRES_AND_TAGS, .vars = vars, .kind = "genres",
	    .ttl = cfg->cache_ttl_genres }, NULL, reply) &&
	    (*gc = tools_data(call, reply, "GenreCollection", NULL)) != NULL &&
	    (*tc = tools_data(call, reply, "MediaTagCollection", NULL)) != NULL;
	json_object_put(vars);
	return (ok);
}

static struct json_object *
genres_and_tags(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*gc, *tc, *genres, *tags;
	struct json_object	*result = NULL;
	struct anilist_reply	 reply;
	bool			 adult = tools_arg_bool(args, "include_adult");

	if (!genres_fetch(call, &reply, &gc, &tc))
		goto out;
	genres = genres_list(gc, adult);
	tags = genres_tags(tc, adult, tools_arg_bool(args, "full"));
	result = json_object_new_object();
	json_object_object_add(result, "genres", genres);
	json_object_object_add(result, "tags", tags);
	tools_add_summary(result, genres_summary(genres, tags), &reply);
out:
	anilist_reply_free(&reply);
	return (result);
}

/* Names longer than this are never close to a real one. */
#define GENRES_NAME_MAX		64
/* At most this many suggestions per unknown name. */
#define GENRES_SUGGEST		3

/* Case-insensitive edit distance (Levenshtein) of two short names. */
static size_t
genres_distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, prev[GENRES_NAME_MAX + 1];
	size_t	cur[GENRES_NAME_MAX + 1], cost, best;

	if (la > GENRES_NAME_MAX || lb > GENRES_NAME_MAX)
		return (SIZE_MAX);
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			cost = tolower((unsigned char)a[i - 1]) ==
			    tolower((unsigned char)b[j - 1]) ? 0 : 1;
			best = prev[j - 1] + cost;
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			cur[j] = best;
		}
		memcpy(prev, cur, (lb + 1) * sizeof *prev);
	}
	return (prev[lb]);
}

/* How many leading bytes two names share, ignoring case. */
static size_t
genres_prefix(const char *a, const char *b)
{
	size_t	n = 0;

	while (a[n] != '\0' && tolower((unsigned char)a[n]) ==
	    tolower((unsigned char)b[n]))
		n++;
	return (n);
}

/*
 * How close a real name is to what was asked: lower is closer, SIZE_MAX
 * is not close at all (an edit or two per three letters, or a shared
 * start of four letters: "Romantic" is close to "Romance").
 */
static size_t
genres_closeness(const char *asked, const char *name)
{
	size_t	d = genres_distance(asked, name), p = genres_prefix(asked, name);
	size_t	len = strlen(asked), allowed = len / 3 > 2 ? len / 3 : 2;

	if (d == SIZE_MAX || (d > allowed && p < 4))
		return (SIZE_MAX);
	return (d * 2 > p ? d * 2 - p : 0);
}

/* The names of a collection: the strings, or each object's "name". */
static const char *
genres_name_at(struct json_object *collection, size_t i)
{
	struct json_object	*v = json_object_array_get_idx(collection, i);

	if (json_object_is_type(v, json_type_object) &&
	    !json_object_object_get_ex(v, "name", &v))
		return (NULL);
	return (json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL);
}

/* The real name asked names but for case, or NULL. */
static const char *
genres_exact(struct json_object *collection, const char *asked)
{
	const char	*name;
	size_t		 i;

	for (i = 0; i < json_object_array_length(collection); i++) {
		if ((name = genres_name_at(collection, i)) != NULL &&
		    strcasecmp(name, asked) == 0)
			return (name);
	}
	return (NULL);
}

/* "Romance" or "Romance, Comedy": the closest real names into b. */
static size_t
genres_suggest(struct json_object *collection, const char *asked,
    struct buf *b)
{
	const char	*best[GENRES_SUGGEST], *name;
	size_t		 score[GENRES_SUGGEST], n = 0, i, j, c;

	for (i = 0; i < json_object_array_length(collection); i++) {
		if ((name = genres_name_at(collection, i)) == NULL ||
		    (c = genres_closeness(asked, name)) == SIZE_MAX)
			continue;
		for (j = n; j > 0 && score[j - 1] > c; j--) {
			if (j < GENRES_SUGGEST) {
				best[j] = best[j - 1];
				score[j] = score[j - 1];
			}
		}
		if (j < GENRES_SUGGEST) {
			best[j] = name;
			score[j] = c;
			if (n < GENRES_SUGGEST)
				n++;
		}
	}
	for (i = 0; i < n; i++)
		buf_printf(b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
		    best[i]);
	return (n);
}

/* One list argument to check against AniList's names. */
struct genres_check_req {
	const char		*key;		/* the argument: "genres" */
	const char		*word;		/* one of its names: "genre" */
	struct json_object	*own;		/* the real names, borrowed */
	const char		*other_word;	/* "tag" */
	struct json_object	*other;		/* the other kind's, borrowed */
};

/*
 * Check each name of args[req->key] against the real ones (req->own),
 * putting a name given in another case right; the other list catches a
 * genre given as a tag and the reverse. False with a 400 naming the
 * argument and the closest real names.
 */
static bool
genres_check_list(struct json_object *args,
    const struct genres_check_req *req, struct tool_call *call)
{
	const char		*key = req->key, *word = req->word;
	const char		*other_word = req->other_word;
	struct json_object	*own = req->own, *other = req->other;
	struct json_object	*list;
	const char		*asked, *real;
	struct buf		 b;
	char			 field[32];
	size_t			 i;

	if (!json_object_object_get_ex(args, key, &list) ||
	    !json_object_is_type(list, json_type_array))
		return (true);
	for (i = 0; i < json_object_array_length(list); i++) {
		asked = json_object_get_string(json_object_array_get_idx(list,
		    i));
		if ((real = genres_exact(own, asked)) != NULL) {
			if (strcmp(real, asked) != 0)
				json_object_array_put_idx(list, i,
				    json_object_new_string(real));
			continue;
		}
		snprintf(field, sizeof field, "%s[%zu]", key, i);
		buf_init(&b);
		if ((real = genres_exact(other, asked)) != NULL)
			buf_printf(&b, "\"%s\" is %s %s, not %s %s: pass it in "
			    "%ss", real, other_word[0] == 'a' ? "an" : "a",
			    other_word, word[0] == 'a' ? "an" : "a", word,
			    other_word);
		else {
			buf_printf(&b, "unknown %s \"%.*s\"", word,
			    GENRES_NAME_MAX, asked);
			buf_puts(&b, "; did you mean ");
			if (genres_suggest(own, asked, &b) == 0) {
				b.len -= strlen("; did you mean ");
				b.data[b.len] = '\0';
				buf_printf(&b, "; no %s is close", word);
			} else
				buf_puts(&b, "?");
			buf_printf(&b, " (list_genres_and_tags lists every "
			    "%s)", word);
		}
		tool_fail(call, 400, "invalid_argument", field, "%s", b.data);
		buf_free(&b);
		return (false);
	}
	return (true);
}

bool
genres_check(struct json_object *args, struct tool_call *call)
{
	struct json_object	*gc, *tc;
	struct anilist_reply	 reply;
	bool			 ok = true;

	if (!json_object_object_get_ex(args, "genres", NULL) &&
	    !json_object_object_get_ex(args, "tags", NULL))
		return (true);
	if (!genres_fetch(call, &reply, &gc, &tc)) {
		/* No list to check against: the search goes as asked. */
		tool_error_clear(&call->error);
		goto out;
	}
	ok = genres_check_list(args, &(struct genres_check_req){
	    .key = "genres", .word = "genre", .own = gc, .other_word = "tag",
	    .other = tc }, call) &&
	    genres_check_list(args, &(struct genres_check_req){
	    .key = "tags", .word = "tag", .own = tc, .other_word = "genre",
	    .other = gc }, call);
out:
	anilist_reply_free(&reply);
	return (ok);
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
	/*
	 * The default answer is a lookup table (371 tags with their
	 * categories: about 14 KB); a part of it would mislead, so it may
	 * take 16 KB. search_anime checks names against it by itself.
	 */
	.budget_default = 16384,
};
