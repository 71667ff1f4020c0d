/* tools/anime.c: anime discovery tools: search, trending, seasonal, details. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "metrics.h"
#include "searchstats.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

#define ANIME_FORMATS							\
	"[\"TV\",\"TV_SHORT\",\"MOVIE\",\"SPECIAL\",\"OVA\",\"ONA\","	\
	"\"MUSIC\",\"MANGA\",\"NOVEL\",\"ONE_SHOT\"]"
#define ANIME_STATUSES							\
	"[\"FINISHED\",\"RELEASING\",\"NOT_YET_RELEASED\",\"CANCELLED\","	\
	"\"HIATUS\"]"

/* An initializer, not a const object: C (and clang) want constants. */
#define ANIME_READ_ONLY { .read_only = true, .destructive = false, \
	.idempotent = true, .open_world = true }

/* AniList's formats of manga (MediaFormat); the others are anime's. */
static const char *const anime_manga_formats[] = {
	"MANGA", "NOVEL", "ONE_SHOT"
};

/* Whether the validated media_type argument is MANGA. */
static bool
anime_wants_manga(struct json_object *args)
{
	const char	*type = tools_arg_str(args, "media_type");

	return (type != NULL && strcmp(type, "MANGA") == 0);
}

/* "anime" or "manga": what the media_type argument asks for. */
static const char *
anime_type_word(struct json_object *args)
{
	return (anime_wants_manga(args) ? "manga" : "anime");
}

static bool
anime_is_manga_format(const char *format)
{
	size_t	i;

	for (i = 0; i < nitems(anime_manga_formats); i++) {
		if (strcmp(anime_manga_formats[i], format) == 0)
			return (true);
	}
	return (false);
}

/*
 * The filters of a search fit its media_type: a manga has no season or
 * season year at AniList, and a format belongs to one type. False with
 * call's error (nothing asked of AniList).
 */
static bool
anime_check_type(struct json_object *args, struct tool_call *call)
{
	const char	*format = tools_arg_str(args, "format");
	const char	*anime_only[] = { "season", "year" };
	bool		 manga = anime_wants_manga(args);
	size_t		 i;

	for (i = 0; manga && i < nitems(anime_only); i++) {
		if (!json_object_object_get_ex(args, anime_only[i], NULL))
			continue;
		tool_fail(call, 400, "invalid_argument", anime_only[i], "%s "
		    "filters anime only (AniList gives manga no season); leave "
		    "it out with media_type MANGA", anime_only[i]);
		return (false);
	}
	if (format != NULL && anime_is_manga_format(format) != manga) {
		tool_fail(call, 400, "invalid_argument", "format", "format %s "
		    "is a%s format; with media_type %s give one of %s",
		    format, manga ? "n anime" : " manga", manga ? "MANGA" :
		    "ANIME", manga ? "MANGA, NOVEL, ONE_SHOT" : "TV, TV_SHORT, "
		    "MOVIE, SPECIAL, OVA, ONA, MUSIC");
		return (false);
	}
	return (true);
}

/* Shaped media of Page.media; adult titles dropped unless asked for. */
static struct json_object *
anime_results(struct json_object *page, bool include_adult, bool full)
{
	struct json_object	*media, *m, *adult, *out;
	size_t			 i;

	out = json_object_new_array();
	if (!json_object_object_get_ex(page, "media", &media) ||
	    !json_object_is_type(media, json_type_array))
		return (out);
	for (i = 0; i < json_object_array_length(media); i++) {
		m = json_object_array_get_idx(media, i);
		if (!json_object_is_type(m, json_type_object) ||
		    (!include_adult && json_object_object_get_ex(m, "isAdult",
		    &adult) && json_object_get_boolean(adult)))
			continue;
		json_object_array_add(out, shape_media(m, full));
	}
	return (out);
}

/* {results, page_info, text_summary, source} of a Page of media. */
static struct json_object *
anime_page_result(struct tool_call *call, struct anilist_reply *reply,
    struct json_object *args, const char *one, const char *many,
    const char *what)
{
	struct json_object	*page, *pi = NULL, *results, *info, *next;
	int			 pg = (int)tools_arg_int(args, "page", 1);
	bool			 has_next;

	if ((page = tools_data(call, reply, "Page", NULL)) == NULL)
		return (NULL);
	json_object_object_get_ex(page, "pageInfo", &pi);
	results = anime_results(page, tools_arg_bool(args, "include_adult"),
	    tools_arg_bool(args, "full"));
	info = shape_page_info(pi, pg, (int)tools_arg_int(args, "per_page",
	    10));
	has_next = json_object_object_get_ex(info, "has_next_page", &next) &&
	    json_object_get_boolean(next);
	return (tools_list_result(results, info, shape_list_summary(results,
	    &(struct shape_summary){ .one = one, .many = many, .what = what,
	    .page = pg, .has_next = has_next, .line = shape_media_line }),
	    reply));
}

static void
anime_vars_paging(struct json_object *vars, struct json_object *args)
{
	tools_var_copy(vars, "page", args, "page");
	tools_var_copy(vars, "perPage", args, "per_page");
	if (!tools_arg_bool(args, "include_adult"))
		json_object_object_add(vars, "isAdult",
		    json_object_new_boolean(false));
}

/* "'frieren', genres Action+Drama, FALL 2023, TV" — what was asked. */
static char *
anime_search_what(struct json_object *args)
{
	struct buf		 b;
	struct json_object	*list;
	const char		*s, *lists[][2] = {
		{ "genres", "genres" }, { "tags", "tags" }
	};
	size_t			 i, j;

	buf_init(&b);
	buf_append(&b, "", 0);
	if ((s = tools_arg_str(args, "query")) != NULL)
		buf_printf(&b, "'%s'", s);
	for (i = 0; i < nitems(lists); i++) {
		if (!json_object_object_get_ex(args, lists[i][0], &list) ||
		    json_object_array_length(list) == 0)
			continue;
		buf_printf(&b, "%s%s ", b.len > 0 ? ", " : "", lists[i][1]);
		for (j = 0; j < json_object_array_length(list); j++)
			buf_printf(&b, "%s%s", j > 0 ? "+" : "",
			    json_object_get_string(
			    json_object_array_get_idx(list, j)));
	}
	if ((s = tools_arg_str(args, "season")) != NULL)
		buf_printf(&b, "%s%s", b.len > 0 ? ", " : "", s);
	if (tools_arg_int(args, "year", 0) != 0)
		buf_printf(&b, "%s%lld", tools_arg_str(args, "season") !=
		    NULL ? " " : b.len > 0 ? ", " : "",
		    tools_arg_int(args, "year", 0));
	if ((s = tools_arg_str(args, "format")) != NULL)
		buf_printf(&b, "%s%s", b.len > 0 ? ", " : "", s);
	if ((s = tools_arg_str(args, "status")) != NULL)
		buf_printf(&b, "%s%s", b.len > 0 ? ", " : "", s);
	if (tools_arg_int(args, "minimum_score", 0) > 0)
		buf_printf(&b, "%sscore at least %lld", b.len > 0 ? ", " : "",
		    tools_arg_int(args, "minimum_score", 0));
	if (b.len == 0) {
		buf_free(&b);
		return (NULL);
	}
	return (buf_detach(&b));
}

/*
 * An answered search, kept answer or not: counted, whether it found
 * nothing, and its query for the top searches (no user, only the text).
 */
static void
anime_search_count(struct json_object *args, bool empty)
{
	const char	*query = tools_arg_str(args, "query");

	metrics_search(empty);
	if (query != NULL)
		searchstats_record(query);
}

static struct json_object *
anime_search(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*vars, *result = NULL, *sort;
	struct anilist_reply	 reply;
	const char		*query = tools_arg_str(args, "query");
	const char		*s = tools_arg_str(args, "sort");
	long long		 min;
	char			*what, *label;

	if (!tools_check_depth(args, call) || !anime_check_type(args, call) ||
	    !genres_check(args, call))
		return (NULL);
	if (s != NULL && strcmp(s, "SEARCH_MATCH") == 0 && query == NULL) {
		tool_fail(call, 400, "invalid_argument", "sort", "sort "
		    "SEARCH_MATCH ranks by a query; give query, or sort by "
		    "POPULARITY_DESC, SCORE_DESC, TRENDING_DESC or "
		    "START_DATE_DESC");
		return (NULL);
	}
	if (s == NULL)
		s = query != NULL ? "SEARCH_MATCH" : "POPULARITY_DESC";
	vars = json_object_new_object();
	anime_vars_paging(vars, args);
	tools_var_copy(vars, "type", args, "media_type");
	tools_var_copy(vars, "search", args, "query");
	tools_var_copy(vars, "genre_in", args, "genres");
	tools_var_copy(vars, "tag_in", args, "tags");
	tools_var_copy(vars, "season", args, "season");
	tools_var_copy(vars, "seasonYear", args, "year");
	tools_var_copy(vars, "status", args, "status");
	tools_var_copy(vars, "format", args, "format");
	/* AniList filters "greater than"; minimum_score is inclusive. */
	if ((min = tools_arg_int(args, "minimum_score", 0)) > 0)
		json_object_object_add(vars, "averageScore_greater",
		    json_object_new_int64(min - 1));
	sort = json_object_new_array();
	json_object_array_add(sort, json_object_new_string(s));
	json_object_object_add(vars, "sort", sort);

	if (tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_SEARCH_MEDIA, .vars = vars, .kind = "search",
	    .ttl = cfg->cache_ttl_default }, NULL, &reply)) {
		what = anime_search_what(args);
		label = NULL;
		if (what != NULL)
			xasprintf(&label, "for %s", what);
		result = anime_page_result(call, &reply, args,
		    anime_wants_manga(args) ? "manga result" : "result",
		    anime_wants_manga(args) ? "manga results" : "results",
		    label);
		free(label);
		free(what);
	}
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (result);
}

static struct json_object *
anime_trending(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*vars, *result = NULL;
	struct anilist_reply	 reply;
	const char		*type = tools_arg_str(args, "media_type");

	if (!tools_check_depth(args, call))
		return (NULL);
	vars = json_object_new_object();
	anime_vars_paging(vars, args);
	tools_var_copy(vars, "type", args, "media_type");
	if (tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_TRENDING_MEDIA, .vars = vars, .kind = "trending",
	    .ttl = cfg->cache_ttl_trending }, NULL, &reply))
		result = anime_page_result(call, &reply, args,
		    "trending title", "trending titles",
		    strcmp(type, "MANGA") == 0 ? "in manga" : "in anime");
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (result);
}

static struct json_object *
anime_seasonal(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*vars, *result = NULL;
	struct anilist_reply	 reply;
	struct season		 now = season_at(time(NULL));
	const char		*season = tools_arg_str(args, "season");
	long long		 year = tools_arg_int(args, "year", now.year);
	char			*what;

	if (!tools_check_depth(args, call))
		return (NULL);
	if (season == NULL)
		season = now.name;
	vars = json_object_new_object();
	anime_vars_paging(vars, args);
	json_object_object_add(vars, "season", json_object_new_string(season));
	json_object_object_add(vars, "seasonYear", json_object_new_int64(year));
	if (tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_SEASONAL_MEDIA, .vars = vars, .kind = "seasonal",
	    .ttl = cfg->cache_ttl_seasonal }, NULL, &reply)) {
		xasprintf(&what, "in %s %lld", season, year);
		result = anime_page_result(call, &reply, args, "title",
		    "titles", what);
		free(what);
		if (result != NULL) {
			json_object_object_add(result, "season",
			    json_object_new_string(season));
			json_object_object_add(result, "year",
			    json_object_new_int64(year));
		}
	}
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (result);
}

/* " A, B, C": the strings of list, each after a space, comma-separated. */
static void
anime_join(struct buf *b, struct json_object *list)
{
	size_t	i;

	for (i = 0; i < json_object_array_length(list); i++)
		buf_printf(b, "%s %s", i > 0 ? "," : "",
		    json_object_get_string(json_object_array_get_idx(list, i)));
}

/* Streaming sites named in a summary before "and more". */
#define ANIME_SUMMARY_SITES	5

/* " Stream on Crunchyroll, Netflix." — each site once. */
static void
anime_summary_watch(struct buf *b, struct json_object *d)
{
	struct json_object	*links = shape_get(d, "where_to_watch");
	const char		*site, *seen[ANIME_SUMMARY_SITES];
	size_t			 i, j, n = 0;
	bool			 more = false;

	for (i = 0; links != NULL && i < json_object_array_length(links);
	    i++) {
		if ((site = shape_get_str(json_object_array_get_idx(links, i),
		    "site")) == NULL)
			continue;
		for (j = 0; j < n && strcmp(seen[j], site) != 0; j++)
			;
		if (j < n)
			continue;
		if (n == ANIME_SUMMARY_SITES) {
			more = true;
			break;
		}
		seen[n++] = site;
		buf_printf(b, "%s %s", n == 1 ? " Stream on" : ",", site);
	}
	if (n > 0)
		buf_printf(b, "%s.", more ? " and more" : "");
}

/* " On AniList lists: 2930 watching, 30267 completed, …" */
static void
anime_summary_lists(struct buf *b, struct json_object *d)
{
	static const char *const words[][2] = {
		{ "current", "watching" }, { "completed", "completed" },
		{ "paused", "paused" }, { "dropped", "dropped" },
		{ "planning", "planning" }
	};
	struct json_object	*dist = shape_get(d, "status_distribution"), *v;
	size_t			 i, n = 0;

	for (i = 0; i < nitems(words); i++) {
		if ((v = shape_get(dist, words[i][0])) == NULL)
			continue;
		buf_printf(b, "%s %lld %s", n++ == 0 ? " On AniList lists:" :
		    ",", (long long)json_object_get_int64(v), words[i][1]);
	}
	if (n > 0)
		buf_putc(b, '.');
}

/* " Top review (85/100): …" */
static void
anime_summary_review(struct buf *b, struct json_object *d)
{
	struct json_object	*reviews = shape_get(d, "reviews"), *r, *score;
	const char		*summary;

	if (reviews == NULL || json_object_array_length(reviews) == 0)
		return;
	r = json_object_array_get_idx(reviews, 0);
	if ((summary = shape_get_str(r, "summary")) == NULL)
		return;
	buf_puts(b, " Top review");
	if ((score = shape_get(r, "score")) != NULL)
		buf_printf(b, " (%lld/100)", (long long)
		    json_object_get_int64(score));
	buf_printf(b, ": \"%s\"", summary);
}

/* " 28 episodes," when d has a number at key. */
static void
anime_count(struct buf *b, struct json_object *d, const char *key,
    const char *noun)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(d, key, &v) || v == NULL)
		return;
	buf_printf(b, " %lld %s%s,", (long long)json_object_get_int64(v),
	    noun, json_object_get_int64(v) == 1 ? "" : "s");
}

/*
 * "Sousou no Frieren (2023, TV, 9.1/10): 28 episodes, FINISHED, …"; a
 * manga counts chapters and volumes.
 */
static char *
anime_details_summary(struct json_object *d)
{
	struct json_object	*v, *list;
	struct buf		 b;

	buf_init(&b);
	shape_media_line(&b, d);
	buf_puts(&b, ":");
	anime_count(&b, d, "episodes", "episode");
	anime_count(&b, d, "chapters", "chapter");
	anime_count(&b, d, "volumes", "volume");
	if (json_object_object_get_ex(d, "status", &v) && v != NULL)
		buf_printf(&b, " %s,", json_object_get_string(v));
	if (json_object_object_get_ex(d, "studios", &list) &&
	    json_object_array_length(list) > 0) {
		buf_puts(&b, " by");
		anime_join(&b, list);
		buf_puts(&b, ",");
	}
	if (b.data[b.len - 1] == ',')
		b.data[--b.len] = '\0';
	buf_puts(&b, ".");
	if (json_object_object_get_ex(d, "genres", &list) &&
	    json_object_array_length(list) > 0) {
		buf_puts(&b, " Genres:");
		anime_join(&b, list);
		buf_puts(&b, ".");
	}
	if (json_object_object_get_ex(d, "next_airing", &v) && v != NULL) {
		struct json_object	*ep, *at;

		json_object_object_get_ex(v, "episode", &ep);
		json_object_object_get_ex(v, "at", &at);
		buf_printf(&b, " Episode %lld airs %s.",
		    (long long)json_object_get_int64(ep),
		    json_object_get_string(at));
	}
	anime_summary_watch(&b, d);
	anime_summary_lists(&b, d);
	anime_summary_review(&b, d);
	return (buf_detach(&b));
}

static struct json_object *
anime_details(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*vars, *media, *adult, *d, *result = NULL;
	struct anilist_reply	 reply;
	long long		 id = tools_arg_int(args, "id", 0);
	bool			 include_adult;
	char			*what;

	include_adult = tools_arg_bool(args, "include_adult");
	xasprintf(&what, "%s with id %lld", anime_type_word(args), id);
	vars = json_object_new_object();
	tools_var_copy(vars, "id", args, "id");
	tools_var_copy(vars, "type", args, "media_type");
	if (!tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_MEDIA_DETAILS, .vars = vars, .kind = "media",
	    .ttl = cfg->cache_ttl_media }, what, &reply) ||
	    (media = tools_data(call, &reply, "Media", what)) == NULL)
		goto out;
	if (!include_adult && json_object_object_get_ex(media, "isAdult",
	    &adult) && json_object_get_boolean(adult)) {
		tool_fail(call, 404, "not_found", "id", "%s %lld is an adult "
		    "title; ask again with include_adult=true if the user "
		    "wants it", anime_type_word(args), id);
		goto out;
	}
	d = shape_media_details(media, tools_arg_bool(args, "full"),
	    include_adult);
	result = json_object_new_object();
	json_object_object_add(result, "anime", d);
	tools_add_summary(result, anime_details_summary(d), &reply);
out:
	anilist_reply_free(&reply);
	json_object_put(vars);
	free(what);
	return (result);
}

/* The arguments every list of media takes: paging and shaping. */
#define ANIME_PROPS_LIST						\
	TOOLS_PROP_PAGE ","						\
	TOOLS_PROP_PER_PAGE(10, 50) ","					\
	TOOLS_PROP_INCLUDE_ADULT ","					\
	TOOLS_PROP_FULL

const struct tool tools_search_anime = {
	.name = "search_anime",
	.title = "Search anime",
	.description = "Find anime (or, with media_type MANGA, manga) on "
	    "AniList by title words and/or filters "
	    "(genres, tags, season, year, status, format, minimum score), "
	    "sorted by relevance, popularity, score, trend or start date. "
	    "Returns compact results with ids for get_anime, a page_info "
	    "and a one-line text_summary. Adult titles are excluded unless "
	    "include_adult=true.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    "\"query\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200,"
	    "\"description\":\"Title words (romaji, English, native or "
	    "synonyms), at most 200 bytes.\"},"
	    "\"genres\":{\"type\":\"array\",\"maxItems\":10,\"items\":"
	    "{\"type\":\"string\",\"minLength\":1,\"maxLength\":50},"
	    "\"description\":\"Genre names (see list_genres_and_tags).\"},"
	    "\"tags\":{\"type\":\"array\",\"maxItems\":10,\"items\":"
	    "{\"type\":\"string\",\"minLength\":1,\"maxLength\":100},"
	    "\"description\":\"Tag names (see list_genres_and_tags).\"},"
	    TOOLS_PROP_SEASON ","
	    TOOLS_PROP_YEAR ","
	    "\"status\":{\"type\":\"string\",\"enum\":" ANIME_STATUSES "},"
	    "\"format\":{\"type\":\"string\",\"enum\":" ANIME_FORMATS ","
	    "\"description\":\"TV to MUSIC are anime formats; MANGA, NOVEL "
	    "and ONE_SHOT manga ones.\"},"
	    TOOLS_PROP_MEDIA_TYPE("ANIME, or MANGA for manga, light novels "
	    "and one-shots (chapters and volumes instead of episodes; season "
	    "and year filter anime only).") ","
	    "\"minimum_score\":{\"type\":\"integer\",\"minimum\":0,"
	    "\"maximum\":100,\"description\":\"Lowest average score, "
	    "0-100.\"},"
	    "\"sort\":{\"type\":\"string\",\"enum\":[\"POPULARITY_DESC\","
	    "\"SCORE_DESC\",\"TRENDING_DESC\",\"START_DATE_DESC\","
	    "\"SEARCH_MATCH\"],\"description\":\"Default: SEARCH_MATCH with "
	    "a query, POPULARITY_DESC without.\"},"
	    ANIME_PROPS_LIST
	    "}}",
	.output_schema = SHAPE_SCHEMA_LIST(SHAPE_SCHEMA_MEDIA, ""),
	.annotations = ANIME_READ_ONLY,
	.auth = TOOL_AUTH_NONE,
	.widget = "ui://widget/anime-list.html",
	.handler = anime_search,
	.keep_results = true,
	.answered = anime_search_count,
};

const struct tool tools_get_trending_anime = {
	.name = "get_trending_anime",
	.title = "Trending anime",
	.description = "What is trending on AniList right now (anime by "
	    "default, or manga), most trending first. Adult titles are "
	    "excluded unless include_adult=true.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    "\"media_type\":{\"type\":\"string\",\"enum\":[\"ANIME\","
	    "\"MANGA\"],\"default\":\"ANIME\"},"
	    ANIME_PROPS_LIST
	    "}}",
	.output_schema = SHAPE_SCHEMA_LIST(SHAPE_SCHEMA_MEDIA, ""),
	.annotations = ANIME_READ_ONLY,
	.auth = TOOL_AUTH_NONE,
	.widget = "ui://widget/anime-list.html",
	.handler = anime_trending,
	.keep_results = true,
};

const struct tool tools_get_seasonal_anime = {
	.name = "get_seasonal_anime",
	.title = "Seasonal anime",
	.description = "The anime of one season, most popular first. season "
	    "and year default to the current season (December belongs to "
	    "WINTER of the next year); the answer says which season it "
	    "used. Adult titles are excluded unless include_adult=true.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    TOOLS_PROP_SEASON ","
	    TOOLS_PROP_YEAR ","
	    ANIME_PROPS_LIST
	    "}}",
	.output_schema = SHAPE_SCHEMA_LIST(SHAPE_SCHEMA_MEDIA,
	    "\"season\":{\"type\":\"string\"},\"year\":{\"type\":\"integer\"},"),
	.annotations = ANIME_READ_ONLY,
	.auth = TOOL_AUTH_NONE,
	.widget = "ui://widget/anime-list.html",
	.handler = anime_seasonal,
};

#define ANIME_DETAILS_SCHEMA						\
	"{\"type\":\"object\",\"required\":[\"id\",\"title\"],"		\
	"\"properties\":{" SHAPE_MEDIA_PROPERTIES ","			\
	"\"synonyms\":" SHAPE_STRS ",\"duration\":" SHAPE_NINT ","	\
	"\"end_date\":" SHAPE_NSTR ","					\
	"\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"object\","	\
	"\"properties\":{\"name\":{\"type\":\"string\"},"		\
	"\"rank\":" SHAPE_NINT "}}},"					\
	"\"mean_score\":" SHAPE_NINT ",\"favourites\":" SHAPE_NINT ","	\
	"\"source_material\":" SHAPE_NSTR ","				\
	"\"country_of_origin\":" SHAPE_NSTR ","				\
	"\"trailer\":" SHAPE_NSTR ",\"banner_image\":" SHAPE_NSTR ","	\
	"\"relations\":{\"type\":\"array\",\"items\":{\"type\":\"object\","	\
	"\"properties\":{\"id\":{\"type\":\"integer\"},"		\
	"\"relation\":" SHAPE_NSTR ",\"title\":" SHAPE_SCHEMA_TITLE ","	\
	"\"type\":" SHAPE_NSTR ",\"format\":" SHAPE_NSTR ","		\
	"\"status\":" SHAPE_NSTR "}}},"					\
	"\"recommendations\":{\"type\":\"array\",\"items\":{"		\
	"\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"	\
	"\"title\":" SHAPE_SCHEMA_TITLE ",\"format\":" SHAPE_NSTR ","	\
	"\"season_year\":" SHAPE_NINT ",\"average_score\":" SHAPE_NINT ","	\
	"\"genres\":" SHAPE_STRS ",\"rating\":" SHAPE_NINT ","		\
	"\"site_url\":" SHAPE_NSTR "}}},"				\
	"\"characters\":{\"type\":\"array\",\"items\":{\"type\":\"object\","	\
	"\"properties\":{\"id\":{\"type\":\"integer\"},"		\
	"\"name\":" SHAPE_NSTR ",\"native_name\":" SHAPE_NSTR ","	\
	"\"role\":" SHAPE_NSTR ",\"image\":" SHAPE_NSTR "}}},"		\
	ANIME_DETAILS_EXTRA_SCHEMA "}}"

/* Where to watch, list counts, scores and reviews: empty or null if none. */
#define ANIME_DETAILS_EXTRA_SCHEMA					\
	"\"where_to_watch\":{\"type\":\"array\",\"description\":"	\
	"\"AniList's streaming links\",\"items\":{\"type\":\"object\","	\
	"\"required\":[\"site\"],\"properties\":{"			\
	"\"site\":{\"type\":\"string\"},\"url\":" SHAPE_NSTR ","	\
	"\"language\":" SHAPE_NSTR ",\"notes\":" SHAPE_NSTR "}}},"	\
	"\"status_distribution\":{\"type\":[\"object\",\"null\"],"	\
	"\"description\":\"AniList users with the title in each list "	\
	"status\",\"properties\":{\"current\":{\"type\":\"integer\"},"	\
	"\"planning\":{\"type\":\"integer\"},"				\
	"\"completed\":{\"type\":\"integer\"},"				\
	"\"dropped\":{\"type\":\"integer\"},"				\
	"\"paused\":{\"type\":\"integer\"}},"				\
	"\"additionalProperties\":{\"type\":\"integer\"}},"		\
	"\"score_distribution\":{\"type\":[\"array\",\"null\"],"	\
	"\"description\":\"how many users gave each score, 10-100\","	\
	"\"items\":{\"type\":\"object\",\"required\":[\"score\","	\
	"\"amount\"],\"properties\":{\"score\":{\"type\":\"integer\"},"	\
	"\"amount\":{\"type\":\"integer\"}}}},"				\
	"\"reviews\":{\"type\":\"array\",\"description\":\"the "	\
	"most helpful reviews\",\"items\":{\"type\":\"object\","		\
	"\"properties\":{\"score\":{\"type\":[\"integer\",\"null\"],"	\
	"\"description\":\"the reviewer's score, 0-100\"},"		\
	"\"summary\":" SHAPE_NSTR ","					\
	"\"rating\":{\"type\":[\"integer\",\"null\"],"		\
	"\"description\":\"users who found it helpful\"},"		\
	"\"rating_amount\":{\"type\":[\"integer\",\"null\"],"	\
	"\"description\":\"users who rated it\"},"				\
	"\"site_url\":" SHAPE_NSTR "}}}"

/*
 * Too long an answer loses reviews, then streaming sites, then the related
 * titles past what fits (AniList does not page them: a large franchise
 * has dozens), first.
 */
static const char *const anime_details_trim_first[] = {
	"anime.reviews", "anime.where_to_watch", "anime.relations", NULL
};

const struct tool tools_get_anime = {
	.name = "get_anime",
	.title = "Anime details",
	.description = "Everything about one anime (or, with media_type "
	    "MANGA, one manga: chapters and volumes instead of episodes, "
	    "season and airing) by AniList id: "
	    "titles, synonyms, format, status, episodes, duration, season, "
	    "dates, genres, tags, animation studios, scores, popularity, "
	    "next airing episode, related titles, trailer, site URL, the "
	    "community's top recommendations, the main characters, where to "
	    "watch (streaming sites), how many users are watching, "
	    "completed, dropped, paused or plan it, the score distribution "
	    "and the most helpful reviews' summaries. Null or an empty list "
	    "means AniList does not know.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"required\":[\"id\"],\"properties\":{"
	    "\"id\":{\"type\":\"integer\",\"minimum\":1,"
	    "\"maximum\":2147483647,\"description\":\"AniList media id "
	    "(from search results).\"},"
	    TOOLS_PROP_MEDIA_TYPE("What the id is: ANIME, or MANGA (an id of "
	    "the other type is not found).") ","
	    TOOLS_PROP_INCLUDE_ADULT ","
	    TOOLS_PROP_FULL
	    "}}",
	.output_schema = "{\"type\":\"object\",\"required\":[\"anime\","
	    "\"text_summary\",\"source\"],\"properties\":{"
	    "\"anime\":" ANIME_DETAILS_SCHEMA ","
	    "\"text_summary\":{\"type\":\"string\"},"
	    "\"source\":" SHAPE_SCHEMA_SOURCE "}}",
	.annotations = ANIME_READ_ONLY,
	.auth = TOOL_AUTH_NONE,
	.widget = "ui://widget/anime-details.html",
	.handler = anime_details,
	.keep_results = true,
	.trim_first = anime_details_trim_first,
};
