/* tools/picks.c: pick_from_my_list: the titles a user planned (or paused), ranked for now by taste, mood and time. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "recommend.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

#define PICK_PROFILE_TOP	3	/* profile features shown per family */
#define PICK_GENRES_SAID	3	/* liked genres named in a reason */
#define PICK_TAG_RANK		50	/* a tag counts for a mood from this rank */
/* How a pick is scored: taste fit against AniList's average score. */
#define PICK_W_FIT		0.7
/* With a mood, its share of the score. */
#define PICK_W_MOOD		0.5
/* A title of which only some episodes fit the time counts this much. */
#define PICK_PARTIAL		0.85

/* A named mood: the genres and tags that carry it (AniList's names). */
struct pick_mood {
	const char	*name;
	const char	*genres[3];
	const char	*tags[3];
};

/* Documented in docs/RECOMMENDATIONS.md; the enum of the schema follows. */
static const struct pick_mood pick_moods[] = {
	{ "light", { "Comedy", "Slice of Life" }, { "Iyashikei" } },
	{ "funny", { "Comedy" }, { "Gag Humor", "Parody" } },
	{ "cozy", { "Slice of Life" }, { "Iyashikei",
	    "Cute Girls Doing Cute Things" } },
	{ "exciting", { "Action", "Adventure" }, { "Shounen" } },
	{ "intense", { "Thriller", "Psychological", "Action" },
	    { "Survival" } },
	{ "emotional", { "Drama", "Romance" }, { "Tragedy",
	    "Coming of Age" } },
	{ "romantic", { "Romance" }, { "Love Triangle" } },
	{ "dark", { "Horror", "Psychological", "Thriller" }, { "Tragedy",
	    "Gore" } },
	{ "thoughtful", { "Mystery", "Sci-Fi", "Psychological" },
	    { "Philosophy" } },
};
#define PICK_MOODS	"[\"light\",\"funny\",\"cozy\",\"exciting\","	\
	"\"intense\",\"emotional\",\"romantic\",\"dark\",\"thoughtful\"]"

/* Why titles of the list were not candidates. */
struct pick_left {
	int	not_released;	/* not yet aired */
	int	unknown_length;	/* no episode length, with a time budget */
	int	too_long;	/* not one episode fits the time */
};

/* One request in progress. */
struct pick {
	struct tool_call		*call;
	const char			*status;	/* PLANNING or PAUSED */
	const struct pick_mood		*mood;		/* or NULL */
	long long			 minutes;	/* 0: no budget */
	const struct recommend_profile	*profile;
	struct pick_left		 left;
	int				 considered;
};

/* One candidate: its entry, media and score. */
struct pick_item {
	struct json_object	*entry;		/* borrowed */
	struct json_object	*media;		/* borrowed */
	double			 score;
	double			 fit;
	double			 mood;		/* match, 0-1 */
	long long		 left_min;	/* minutes left; -1 unknown */
	long long		 tonight;	/* episodes that fit; -1: no budget */
	int64_t			 id;
};

static const struct tool_annotations pick_read_only = {
	.read_only = true, .destructive = false, .idempotent = true,
	.open_world = true
};

static long long
pick_int(struct json_object *o, const char *key, long long def)
{
	struct json_object	*v = shape_get(o, key);

	if (v == NULL || !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return (def);
	return (json_object_get_int64(v));
}

static bool
pick_has_str(struct json_object *array, const char *s)
{
	size_t	i, n;

	if (array == NULL || !json_object_is_type(array, json_type_array))
		return (false);
	n = json_object_array_length(array);
	for (i = 0; i < n; i++) {
		if (strcmp(json_object_get_string(json_object_array_get_idx(
		    array, i)), s) == 0)
			return (true);
	}
	return (false);
}

/* The rank of a tag of media, or -1 when it has none of that name. */
static long long
pick_tag_rank(struct json_object *media, const char *name)
{
	struct json_object	*tags = shape_get(media, "tags"), *t;
	size_t			 i, n;

	if (tags == NULL || !json_object_is_type(tags, json_type_array))
		return (-1);
	n = json_object_array_length(tags);
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(tags, i);
		if (shape_get_str(t, "name") != NULL &&
		    strcmp(shape_get_str(t, "name"), name) == 0)
			return (pick_int(t, "rank", 0));
	}
	return (-1);
}

/*
 * How well media carries the mood, 0-1: two hits (one for a mood of a
 * single genre) are a full match; what matched goes to said (may be NULL).
 */
static double
pick_mood_match(const struct pick_mood *mood, struct json_object *media,
    struct buf *said)
{
	struct json_object	*genres = shape_get(media, "genres");
	size_t			 i, ng = 0, hits = 0;

	for (i = 0; i < nitems(mood->genres) && mood->genres[i] != NULL;
	    i++) {
		ng++;
		if (pick_has_str(genres, mood->genres[i])) {
			if (said != NULL)
				buf_printf(said, "%s%s", hits > 0 ? ", " : "",
				    mood->genres[i]);
			hits++;
		}
	}
	for (i = 0; i < nitems(mood->tags) && mood->tags[i] != NULL; i++) {
		if (pick_tag_rank(media, mood->tags[i]) >= PICK_TAG_RANK) {
			if (said != NULL)
				buf_printf(said, "%s%s", hits > 0 ? ", " : "",
				    mood->tags[i]);
			hits++;
		}
	}
	if (hits >= (ng >= 2 ? 2 : 1))
		return (1);
	return ((double)hits / (ng >= 2 ? 2 : 1));
}

/*
 * The time of an item: minutes left ((episodes - progress) × duration) and
 * how many episodes fit the budget. False when it cannot be a pick.
 */
static bool
pick_time(struct pick *pk, struct pick_item *it)
{
	long long	episodes = pick_int(it->media, "episodes", -1);
	long long	duration = pick_int(it->media, "duration", -1);
	long long	progress = pick_int(it->entry, "progress", 0);
	long long	left_eps = episodes > 0 ? episodes - progress : -1;

	if (left_eps == 0)
		left_eps = episodes;	/* rewatching a finished one */
	it->left_min = duration > 0 && left_eps > 0 ? left_eps * duration : -1;
	it->tonight = -1;
	if (pk->minutes <= 0)
		return (true);
	if (duration <= 0) {
		pk->left.unknown_length++;
		return (false);
	}
	it->tonight = pk->minutes / duration;
	if (left_eps > 0 && it->tonight > left_eps)
		it->tonight = left_eps;
	if (it->tonight < 1) {
		pk->left.too_long++;
		return (false);
	}
	return (true);
}

static void
pick_score(struct pick *pk, struct pick_item *it)
{
	struct recommend_media	*m = recommend_media_create(it->media);
	long long		 avg = pick_int(it->media, "averageScore", -1);
	double			 quality = avg >= 0 ? avg / 100.0 : 0.5;

	it->fit = m != NULL ? recommend_profile_fit(pk->profile, m) : 0.5;
	recommend_media_free(m);
	it->score = PICK_W_FIT * it->fit + (1 - PICK_W_FIT) * quality;
	it->mood = 0;
	if (pk->mood != NULL) {
		it->mood = pick_mood_match(pk->mood, it->media, NULL);
		it->score = (1 - PICK_W_MOOD) * it->score + PICK_W_MOOD *
		    it->mood;
	}
	if (it->tonight >= 0 && (it->left_min < 0 || it->left_min >
	    pk->minutes))
		it->score *= PICK_PARTIAL;
}

static int
pick_cmp(const void *a, const void *b)
{
	const struct pick_item	*x = a, *y = b;

	if (x->score != y->score)
		return (x->score > y->score ? -1 : 1);
	return (x->id < y->id ? -1 : x->id > y->id);
}

/* The candidates of the collection (caller frees), count in *n. */
static struct pick_item *
pick_candidates(struct pick *pk, struct json_object *coll, size_t *n)
{
	struct json_object	*lists = shape_get(coll, "lists"), *l, *es, *e;
	struct pick_item	*v = NULL, it;
	size_t			 i, j, cap = 0;
	const char		*st;

	*n = 0;
	for (i = 0; lists != NULL && json_object_is_type(lists,
	    json_type_array) && i < json_object_array_length(lists); i++) {
		l = json_object_array_get_idx(lists, i);
		es = shape_get(l, "entries");
		for (j = 0; es != NULL && json_object_is_type(es,
		    json_type_array) && j < json_object_array_length(es);
		    j++) {
			e = json_object_array_get_idx(es, j);
			if ((st = shape_get_str(e, "status")) == NULL)
				st = shape_get_str(l, "status");
			if (st == NULL || strcmp(st, pk->status) != 0 ||
			    shape_get(e, "media") == NULL)
				continue;
			memset(&it, 0, sizeof it);
			it.entry = e;
			it.media = shape_get(e, "media");
			it.id = pick_int(it.media, "id", 0);
			pk->considered++;
			st = shape_get_str(it.media, "status");
			if (st != NULL && strcmp(st, "NOT_YET_RELEASED") == 0) {
				pk->left.not_released++;
				continue;
			}
			if (!pick_time(pk, &it))
				continue;
			pick_score(pk, &it);
			if (*n == cap) {
				cap = cap == 0 ? 32 : cap * 2;
				v = xrealloc(v, cap * sizeof *v);
			}
			v[(*n)++] = it;
		}
	}
	return (v);
}

static void
pick_reason(struct json_object *reasons, struct buf *b)
{
	json_object_array_add(reasons, json_object_new_string(b->data));
	buf_reset(b);
}

/* The liked genres of the media, strongest first, into b. */
static size_t
pick_liked_genres(struct pick *pk, struct json_object *media, struct buf *b)
{
	struct json_object	*genres = shape_get(media, "genres");
	const char		*g;
	size_t			 i, said = 0;

	/* the profile's genres are strongest first */
	for (i = 0; (g = recommend_profile_genre(pk->profile, i)) != NULL &&
	    said < PICK_GENRES_SAID; i++) {
		if (!pick_has_str(genres, g))
			continue;
		buf_printf(b, "%s%s", said > 0 ? ", " : "", g);
		said++;
	}
	return (said);
}

static struct json_object *
pick_reasons(struct pick *pk, const struct pick_item *it)
{
	struct json_object	*r = json_object_new_array();
	struct buf		 b, said;
	long long		 avg = pick_int(it->media, "averageScore", -1);
	long long		 eps = pick_int(it->media, "episodes", -1);
	long long		 dur = pick_int(it->media, "duration", -1);
	long long		 progress = pick_int(it->entry, "progress", 0);

	buf_init(&b);
	buf_init(&said);
	if (pk->mood != NULL && it->mood > 0) {
		(void)pick_mood_match(pk->mood, it->media, &said);
		buf_printf(&b, "Fits a %s mood: %s", pk->mood->name, said.data);
		pick_reason(r, &b);
		buf_reset(&said);
	}
	if (pick_liked_genres(pk, it->media, &said) > 0) {
		buf_printf(&b, "In genres your list leans to: %s", said.data);
		pick_reason(r, &b);
	}
	if (it->tonight >= 0 && it->left_min >= 0 &&
	    it->left_min <= pk->minutes) {
		buf_printf(&b, "All of it fits your %lld minutes: %lld "
		    "episode%s × %lld min = %lld min", pk->minutes,
		    it->tonight, it->tonight == 1 ? "" : "s", dur,
		    it->left_min);
		pick_reason(r, &b);
	} else if (it->tonight >= 0) {
		buf_printf(&b, "%lld episode%s of %lld min fit%s your %lld "
		    "minutes", it->tonight, it->tonight == 1 ? "" : "s", dur,
		    it->tonight == 1 ? "s" : "", pk->minutes);
		if (it->left_min >= 0)
			buf_printf(&b, " (%lld min left in all)", it->left_min);
		pick_reason(r, &b);
	}
	if (strcmp(pk->status, "PAUSED") == 0 && progress > 0) {
		buf_printf(&b, "You paused at episode %lld", progress);
		if (eps > 0)
			buf_printf(&b, " of %lld", eps);
		pick_reason(r, &b);
	}
	if (avg >= 0) {
		buf_printf(&b, "AniList average score %lld%%", avg);
		pick_reason(r, &b);
	}
	if (json_object_array_length(r) == 0) {
		buf_puts(&b, "On your list; AniList gives little to rank it by");
		pick_reason(r, &b);
	}
	buf_free(&said);
	buf_free(&b);
	return (r);
}

static struct json_object *
pick_json(struct pick *pk, const struct pick_item *it)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "anime", works_shape(it->media, NULL));
	json_object_object_add(o, "progress", json_object_new_int64(
	    pick_int(it->entry, "progress", 0)));
	json_object_object_add(o, "minutes_per_episode",
	    pick_int(it->media, "duration", -1) > 0 ? json_object_new_int64(
	    pick_int(it->media, "duration", -1)) : NULL);
	json_object_object_add(o, "minutes_left", it->left_min >= 0 ?
	    json_object_new_int64(it->left_min) : NULL);
	json_object_object_add(o, "episodes_in_time", it->tonight >= 0 ?
	    json_object_new_int64(it->tonight) : NULL);
	json_object_object_add(o, "score", json_object_new_double(
	    (double)(long long)(it->score * 1000 + 0.5) / 1000));
	json_object_object_add(o, "reasons", pick_reasons(pk, it));
	return (o);
}

static void
pick_notes(struct pick *pk, struct json_object *coll,
    struct json_object *notes)
{
	struct json_object	*more = shape_get(coll, "hasNextChunk");
	char			*s;

	if (pk->left.not_released > 0) {
		xasprintf(&s, "%d not yet released title%s left out",
		    pk->left.not_released, pk->left.not_released == 1 ? "" :
		    "s");
		json_object_array_add(notes, json_object_new_string(s));
		free(s);
	}
	if (pk->left.unknown_length > 0) {
		xasprintf(&s, "%d title%s left out: AniList gives no episode "
		    "length, so the time cannot be checked",
		    pk->left.unknown_length, pk->left.unknown_length == 1 ?
		    "" : "s");
		json_object_array_add(notes, json_object_new_string(s));
		free(s);
	}
	if (pk->left.too_long > 0) {
		xasprintf(&s, "%d title%s left out: not one episode fits %lld "
		    "minutes", pk->left.too_long, pk->left.too_long == 1 ? "" :
		    "s", pk->minutes);
		json_object_array_add(notes, json_object_new_string(s));
		free(s);
	}
	if (more != NULL && json_object_get_boolean(more)) {
		xasprintf(&s, "only the first %d entries of the list were read",
		    USERS_COLLECTION_MAX);
		json_object_array_add(notes, json_object_new_string(s));
		free(s);
	}
}

/* "3 picks from sampleuser's planning list for a light mood in 90 minutes: A (2023); …" */
static char *
pick_summary(struct pick *pk, const char *who, struct json_object *picks)
{
	struct buf	b;
	size_t		i, n = json_object_array_length(picks);

	buf_init(&b);
	buf_printf(&b, "%zu pick%s from %s %s list", n, n == 1 ? "" : "s",
	    who, strcmp(pk->status, "PAUSED") == 0 ? "paused" : "planning");
	if (pk->mood != NULL)
		buf_printf(&b, " for a %s mood", pk->mood->name);
	if (pk->minutes > 0)
		buf_printf(&b, " in %lld minutes", pk->minutes);
	if (n == 0) {
		buf_printf(&b, " (%d title%s on it).", pk->considered,
		    pk->considered == 1 ? "" : "s");
		return (buf_detach(&b));
	}
	buf_puts(&b, ": ");
	for (i = 0; i < n && i < SHAPE_SUMMARY_LINES; i++) {
		if (i > 0)
			buf_puts(&b, "; ");
		works_line(&b, shape_get(json_object_array_get_idx(picks, i),
		    "anime"));
	}
	buf_puts(&b, ".");
	return (buf_detach(&b));
}

static const struct pick_mood *
pick_mood_named(const char *name)
{
	size_t	i;

	for (i = 0; name != NULL && i < nitems(pick_moods); i++) {
		if (strcmp(pick_moods[i].name, name) == 0)
			return (&pick_moods[i]);
	}
	return (NULL);
}

/* The best count candidates of coll as the "picks" array (caller frees). */
static struct json_object *
pick_ranked(struct pick *pk, struct json_object *coll, size_t count)
{
	struct pick_item	*items;
	struct json_object	*picks = json_object_new_array();
	size_t			 i, n;

	items = pick_candidates(pk, coll, &n);
	if (n > 1)
		qsort(items, n, sizeof *items, pick_cmp);
	for (i = 0; i < n && i < count; i++)
		json_object_array_add(picks, pick_json(pk, &items[i]));
	free(items);
	return (picks);
}

struct json_object *
pick_rank(struct json_object *coll, const struct pick_query *q)
{
	struct pick		 pk;
	struct recommend_profile *profile = recommend_profile_create(coll);
	struct json_object	*picks;

	memset(&pk, 0, sizeof pk);
	pk.status = q->status;
	pk.mood = pick_mood_named(q->mood);
	pk.minutes = q->minutes;
	pk.profile = profile;
	picks = pick_ranked(&pk, coll, q->count);
	recommend_profile_free(profile);
	return (picks);
}

static struct json_object *
pick_run(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct pick		 pk;
	struct anilist_reply	 reply;
	struct recommend_profile *profile = NULL;
	struct json_object	*coll, *picks, *notes, *result = NULL;
	const char		*name = tools_arg_str(args, "user_name");
	const char		*uname;
	size_t			 count;
	char			*who;

	(void)t;
	memset(&pk, 0, sizeof pk);
	pk.call = call;
	pk.status = tools_arg_str(args, "status");
	pk.mood = pick_mood_named(tools_arg_str(args, "mood"));
	pk.minutes = tools_arg_int(args, "minutes", 0);
	count = (size_t)tools_arg_int(args, "count", 5);
	if ((coll = users_collection(call, auth, name, &reply)) == NULL)
		goto out;
	profile = recommend_profile_create(coll);
	pk.profile = profile;
	picks = pick_ranked(&pk, coll, count);
	notes = json_object_new_array();
	pick_notes(&pk, coll, notes);

	uname = shape_get_str(shape_get(coll, "user"), "name");
	if (name == NULL)
		who = xstrdup("your");
	else
		xasprintf(&who, "%s's", uname != NULL ? uname : name);
	result = json_object_new_object();
	json_object_object_add(result, "user", uname != NULL ?
	    json_object_new_string(uname) : NULL);
	json_object_object_add(result, "own_list",
	    json_object_new_boolean(name == NULL));
	json_object_object_add(result, "status",
	    json_object_new_string(pk.status));
	json_object_object_add(result, "mood", pk.mood != NULL ?
	    json_object_new_string(pk.mood->name) : NULL);
	json_object_object_add(result, "minutes", pk.minutes > 0 ?
	    json_object_new_int64(pk.minutes) : NULL);
	json_object_object_add(result, "considered",
	    json_object_new_int(pk.considered));
	json_object_object_add(result, "picks", picks);
	json_object_object_add(result, "profile",
	    recommend_profile_json(profile, PICK_PROFILE_TOP));
	json_object_object_add(result, "notes", notes);
	tools_add_summary(result, pick_summary(&pk, who, picks), &reply);
	free(who);
out:
	recommend_profile_free(profile);
	anilist_reply_free(&reply);
	return (result);
}

#define PICK_WEIGHTS_SCHEMA						\
	"{\"type\":\"array\",\"items\":{\"type\":\"object\","		\
	"\"properties\":{\"name\":{\"type\":\"string\"},"		\
	"\"weight\":{\"type\":\"number\"}}}}"

const struct tool tools_pick_from_my_list = {
	.name = "pick_from_my_list",
	.title = "Pick from my list",
	.description = "What to watch now from a user's own list: the titles "
	    "on their PLANNING list (or PAUSED with status=PAUSED), ranked by "
	    "how well each fits the taste their whole list shows (genres, "
	    "tags, studios, formats and eras weighted by their scores), "
	    "AniList's average score, an optional mood (light, funny, cozy, "
	    "exciting, intense, emotional, romantic, dark, thoughtful: each "
	    "a few genres and tags) and an optional time budget in minutes "
	    "(episodes left × episode length; a title of which only some "
	    "episodes fit ranks a little lower, one of which none fits is "
	    "left out). Each pick has reasons. Without user_name it is the "
	    "signed-in user's own list (needs sign-in); with user_name that "
	    "user's public list.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    "\"user_name\":{\"type\":\"string\",\"minLength\":1,"
	    "\"maxLength\":64,\"description\":\"An AniList user name: that "
	    "user's public list. Leave it out for the signed-in user's own "
	    "list.\"},"
	    "\"status\":{\"type\":\"string\",\"enum\":[\"PLANNING\","
	    "\"PAUSED\"],\"default\":\"PLANNING\",\"description\":\"Pick "
	    "from the planned titles, or from those paused.\"},"
	    "\"mood\":{\"type\":\"string\",\"enum\":" PICK_MOODS ","
	    "\"description\":\"What the user is in the mood for.\"},"
	    "\"minutes\":{\"type\":\"integer\",\"minimum\":1,"
	    "\"maximum\":1440,\"description\":\"Time the user has, in "
	    "minutes (1 to 1440).\"},"
	    "\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":20,"
	    "\"default\":5,\"description\":\"How many picks, 1 to 20.\"}"
	    "}}",
	.output_schema = "{\"type\":\"object\",\"required\":[\"user\","
	    "\"own_list\",\"status\",\"considered\",\"picks\",\"notes\","
	    "\"text_summary\",\"source\"],\"properties\":{"
	    "\"user\":" SHAPE_NSTR ","
	    "\"own_list\":{\"type\":\"boolean\"},"
	    "\"status\":{\"type\":\"string\",\"enum\":[\"PLANNING\","
	    "\"PAUSED\"]},"
	    "\"mood\":{\"type\":[\"string\",\"null\"]},"
	    "\"minutes\":" SHAPE_NINT ","
	    "\"considered\":{\"type\":\"integer\",\"description\":\"titles "
	    "with that status on the list\"},"
	    "\"picks\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	    "\"required\":[\"anime\",\"score\",\"reasons\"],\"properties\":{"
	    "\"anime\":" WORKS_SCHEMA ","
	    "\"progress\":{\"type\":\"integer\"},"
	    "\"minutes_per_episode\":" SHAPE_NINT ","
	    "\"minutes_left\":" SHAPE_NINT ","
	    "\"episodes_in_time\":" SHAPE_NINT ","
	    "\"score\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
	    "\"reasons\":" SHAPE_STRS "}}},"
	    "\"profile\":{\"type\":\"object\",\"properties\":{"
	    "\"entries\":{\"type\":\"integer\"},\"used\":{\"type\":\"integer\"},"
	    "\"genres\":" PICK_WEIGHTS_SCHEMA ",\"tags\":" PICK_WEIGHTS_SCHEMA
	    "}},"
	    "\"notes\":" SHAPE_STRS ","
	    "\"text_summary\":{\"type\":\"string\"},"
	    "\"source\":" SHAPE_SCHEMA_SOURCE "}}",
	.annotations = pick_read_only,
	.auth = TOOL_AUTH_OPTIONAL,
	.handler = pick_run,
	.widget = "ui://widget/picks.html",
};
