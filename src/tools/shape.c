/* tools/shape.c: compact, LLM-friendly results from AniList objects. */
#include "autoconf.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "anilist.h"
#include "http.h"
#include "log.h"
#include "text.h"
#include "tools/shape.h"
#include "util.h"

/* Recommendations and characters kept in details. */
#define SHAPE_RECOMMENDATIONS	5
#define SHAPE_CHARACTERS	10
#define SHAPE_TAGS		15
/* Streaming sites and reviews kept in details; a review summary's bytes. */
#define SHAPE_STREAMING		20
#define SHAPE_REVIEWS		3
#define SHAPE_REVIEW_SUMMARY	200

struct json_object *
shape_get(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return (NULL);
	return (v);
}

const char *
shape_get_str(struct json_object *o, const char *key)
{
	struct json_object	*v = shape_get(o, key);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

static bool
shape_get_int(struct json_object *o, const char *key, long long *out)
{
	struct json_object	*v = shape_get(o, key);

	if (v == NULL || !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return (false);
	*out = json_object_get_int64(v);
	return (true);
}

/* The array member key of o, or NULL. */
static struct json_object *
shape_get_array(struct json_object *o, const char *key)
{
	struct json_object	*v = shape_get(o, key);

	return (json_object_is_type(v, json_type_array) ? v : NULL);
}

/*
 * A new array of one(item, arg) for the items of arr (may be NULL), until
 * it holds max; items for which one returns NULL are left out.
 */
static struct json_object *
shape_each(struct json_object *arr, size_t max,
    struct json_object *(*one)(struct json_object *, const void *),
    const void *arg)
{
	struct json_object	*out = json_object_new_array(), *v;
	size_t			 i;

	for (i = 0; arr != NULL && i < json_object_array_length(arr) &&
	    json_object_array_length(out) < max; i++) {
		if ((v = one(json_object_array_get_idx(arr, i), arg)) != NULL)
			json_object_array_add(out, v);
	}
	return (out);
}

/* Add key to dst: a copy of src's string member, or null. */
static void
shape_copy_str(struct json_object *dst, const char *key,
    struct json_object *src, const char *skey)
{
	const char	*s = shape_get_str(src, skey);

	json_object_object_add(dst, key, s != NULL ?
	    json_object_new_string(s) : NULL);
}

static void
shape_copy_int(struct json_object *dst, const char *key,
    struct json_object *src, const char *skey)
{
	long long	n;

	json_object_object_add(dst, key, shape_get_int(src, skey, &n) ?
	    json_object_new_int64(n) : NULL);
}

static struct json_object *
shape_string_item(struct json_object *v, const void *arg)
{
	return (json_object_is_type(v, json_type_string) ?
	    json_object_new_string(json_object_get_string(v)) : NULL);
}

/* An array of the strings in src's array member (others skipped). */
static struct json_object *
shape_strings(struct json_object *src, const char *key)
{
	return (shape_each(shape_get_array(src, key), SIZE_MAX,
	    shape_string_item, NULL));
}

static struct json_object *
shape_titles(struct json_object *src, bool native)
{
	struct json_object	*t = shape_get(src, "title"), *out;

	out = json_object_new_object();
	shape_copy_str(out, "romaji", t, "romaji");
	shape_copy_str(out, "english", t, "english");
	if (native)
		shape_copy_str(out, "native", t, "native");
	return (out);
}

/* Plain text, cut unless full; NULL stays NULL. */
static struct json_object *
shape_description(struct json_object *src, bool full)
{
	const char		*raw = shape_get_str(src, "description");
	char			*plain, *cut;
	struct json_object	*out;

	if (raw == NULL)
		return (NULL);
	plain = text_plain(raw, full);
	if (*plain == '\0') {
		free(plain);
		return (NULL);
	}
	cut = full ? plain : text_truncate(plain, SHAPE_DESCRIPTION_MAX);
	out = json_object_new_string(cut);
	if (cut != plain)
		free(cut);
	free(plain);
	return (out);
}

void
shape_time(long long secs, char *out)
{
	time_t		t = (time_t)secs;
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A fuzzy date as "2023-09-29", "2023-09" or "2023"; NULL when unknown. */
static char *
shape_date(struct json_object *d)
{
	long long	y, m, day;
	char		*out;

	if (!shape_get_int(d, "year", &y))
		return (NULL);
	if (!shape_get_int(d, "month", &m))
		xasprintf(&out, "%04lld", y);
	else if (!shape_get_int(d, "day", &day))
		xasprintf(&out, "%04lld-%02lld", y, m);
	else
		xasprintf(&out, "%04lld-%02lld-%02lld", y, m, day);
	return (out);
}

/* A birthday: "1998-03-14", or "03-14" when the year is unknown. */
static struct json_object *
shape_birthday(struct json_object *d)
{
	long long		 y, m, day;
	char			*s;
	struct json_object	*out;

	if (!shape_get_int(d, "month", &m) || !shape_get_int(d, "day", &day)) {
		s = shape_date(d);
		out = s != NULL ? json_object_new_string(s) : NULL;
		free(s);
		return (out);
	}
	if (shape_get_int(d, "year", &y))
		xasprintf(&s, "%04lld-%02lld-%02lld", y, m, day);
	else
		xasprintf(&s, "%02lld-%02lld", m, day);
	out = json_object_new_string(s);
	free(s);
	return (out);
}

static void
shape_add_date(struct json_object *dst, const char *key,
    struct json_object *src, const char *skey)
{
	char	*s = shape_date(shape_get(src, skey));

	json_object_object_add(dst, key, s != NULL ?
	    json_object_new_string(s) : NULL);
	free(s);
}

static struct json_object *
shape_studio(struct json_object *n, const void *arg)
{
	struct json_object	*anim = shape_get(n, "isAnimationStudio");
	const char		*name = shape_get_str(n, "name");

	return (name != NULL && anim != NULL && json_object_get_boolean(anim) ?
	    json_object_new_string(name) : NULL);
}

/* Names of the animation studios (not producers or licensors). */
static struct json_object *
shape_studios(struct json_object *media)
{
	return (shape_each(shape_get_array(shape_get(media, "studios"),
	    "nodes"), SIZE_MAX, shape_studio, NULL));
}

static struct json_object *
shape_next_airing(struct json_object *media)
{
	struct json_object	*next = shape_get(media, "nextAiringEpisode");
	struct json_object	*out;
	long long		 ep, at;
	char			 ts[32];

	if (!shape_get_int(next, "episode", &ep) ||
	    !shape_get_int(next, "airingAt", &at))
		return (NULL);
	shape_time(at, ts);
	out = json_object_new_object();
	json_object_object_add(out, "episode", json_object_new_int64(ep));
	json_object_object_add(out, "at", json_object_new_string(ts));
	return (out);
}

/* The large (else medium) URL of an image object such as coverImage. */
static struct json_object *
shape_image(struct json_object *o, const char *key)
{
	struct json_object	*img = shape_get(o, key);
	const char		*url;

	url = shape_get_str(img, "large");
	if (url == NULL)
		url = shape_get_str(img, "medium");
	return (url != NULL ? json_object_new_string(url) : NULL);
}

static bool
shape_is_adult(struct json_object *media)
{
	struct json_object	*a = shape_get(media, "isAdult");

	return (a != NULL && json_object_get_boolean(a));
}

bool
shape_is_manga(struct json_object *media)
{
	const char	*type = shape_get_str(media, "type");

	return (type != NULL && strcmp(type, "MANGA") == 0);
}

/*
 * The counts and dates of one type: an anime's episodes and season, a
 * manga's chapters and volumes (shape_media leaves out an anime's studios
 * and next episode for a manga too).
 */
static void
shape_media_kind(struct json_object *o, struct json_object *media)
{
	if (shape_is_manga(media)) {
		shape_copy_int(o, "chapters", media, "chapters");
		shape_copy_int(o, "volumes", media, "volumes");
		return;
	}
	shape_copy_int(o, "episodes", media, "episodes");
	shape_copy_str(o, "season", media, "season");
	shape_copy_int(o, "season_year", media, "seasonYear");
}

struct json_object *
shape_media(struct json_object *media, bool full)
{
	struct json_object	*o = json_object_new_object();
	bool			 manga = shape_is_manga(media);

	shape_copy_int(o, "id", media, "id");
	shape_copy_str(o, "type", media, "type");
	json_object_object_add(o, "title", shape_titles(media, true));
	shape_copy_str(o, "format", media, "format");
	shape_copy_str(o, "status", media, "status");
	shape_media_kind(o, media);
	shape_add_date(o, "start_date", media, "startDate");
	json_object_object_add(o, "genres", shape_strings(media, "genres"));
	shape_copy_int(o, "average_score", media, "averageScore");
	shape_copy_int(o, "popularity", media, "popularity");
	if (!manga) {
		json_object_object_add(o, "studios", shape_studios(media));
		json_object_object_add(o, "next_airing",
		    shape_next_airing(media));
	}
	json_object_object_add(o, "cover_image",
	    shape_image(media, "coverImage"));
	shape_copy_str(o, "site_url", media, "siteUrl");
	json_object_object_add(o, "description",
	    shape_description(media, full));
	json_object_object_add(o, "is_adult",
	    json_object_new_boolean(shape_is_adult(media)));
	return (o);
}

static struct json_object *
shape_tag(struct json_object *t, const void *arg)
{
	struct json_object	*o;
	const char		*name;

	if ((name = shape_get_str(t, "name")) == NULL)
		return (NULL);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	shape_copy_int(o, "rank", t, "rank");
	return (o);
}

/* The trailer's watch URL for the sites AniList knows. */
static struct json_object *
shape_trailer(struct json_object *media)
{
	struct json_object	*t = shape_get(media, "trailer");
	const char		*id = shape_get_str(t, "id");
	const char		*site = shape_get_str(t, "site");
	char			*url = NULL, *enc;
	struct json_object	*out;

	if (id == NULL || site == NULL)
		return (NULL);
	enc = http_encode(id);
	if (strcmp(site, "youtube") == 0)
		xasprintf(&url, "https://www.youtube.com/watch?v=%s", enc);
	else if (strcmp(site, "dailymotion") == 0)
		xasprintf(&url, "https://www.dailymotion.com/video/%s", enc);
	free(enc);
	if (url == NULL)
		return (NULL);
	out = json_object_new_string(url);
	free(url);
	return (out);
}

/* The items of src's connection (relations, characters …): edges or nodes. */
static struct json_object *
shape_connection(struct json_object *src, const char *key, const char *items)
{
	return (shape_get_array(shape_get(src, key), items));
}

/* A relation edge of a media. */
static struct json_object *
shape_relation(struct json_object *e, const void *arg)
{
	struct json_object	*node, *r;

	if ((node = shape_get(e, "node")) == NULL)
		return (NULL);
	r = json_object_new_object();
	shape_copy_int(r, "id", node, "id");
	shape_copy_str(r, "relation", e, "relationType");
	json_object_object_add(r, "title", shape_titles(node, false));
	shape_copy_str(r, "type", node, "type");
	shape_copy_str(r, "format", node, "format");
	shape_copy_str(r, "status", node, "status");
	return (r);
}

/* A recommendation node; arg points to include_adult. */
static struct json_object *
shape_recommendation(struct json_object *n, const void *arg)
{
	struct json_object	*rec, *r;
	bool			 include_adult = *(const bool *)arg;

	rec = shape_get(n, "mediaRecommendation");
	if (rec == NULL || (!include_adult && shape_is_adult(rec)))
		return (NULL);
	r = json_object_new_object();
	shape_copy_int(r, "id", rec, "id");
	json_object_object_add(r, "title", shape_titles(rec, false));
	shape_copy_str(r, "format", rec, "format");
	shape_copy_int(r, "season_year", rec, "seasonYear");
	shape_copy_int(r, "average_score", rec, "averageScore");
	json_object_object_add(r, "genres", shape_strings(rec, "genres"));
	shape_copy_int(r, "rating", n, "rating");
	shape_copy_str(r, "site_url", rec, "siteUrl");
	return (r);
}

/* A character edge of a media. */
static struct json_object *
shape_media_character(struct json_object *e, const void *arg)
{
	struct json_object	*node, *c;

	if ((node = shape_get(e, "node")) == NULL)
		return (NULL);
	c = json_object_new_object();
	shape_copy_int(c, "id", node, "id");
	shape_copy_str(c, "name", shape_get(node, "name"), "full");
	shape_copy_str(c, "native_name", shape_get(node, "name"), "native");
	shape_copy_str(c, "role", e, "role");
	shape_copy_str(c, "image", shape_get(node, "image"), "medium");
	return (c);
}

/* A web address as given, or null unless it is http(s). */
static struct json_object *
shape_web_url(struct json_object *src, const char *key)
{
	const char	*url = shape_get_str(src, key);

	return (url != NULL && (strncmp(url, "https://", 8) == 0 ||
	    strncmp(url, "http://", 7) == 0) ? json_object_new_string(url) :
	    NULL);
}

/* An external link of type STREAMING, not disabled: where to watch. */
static struct json_object *
shape_streaming_link(struct json_object *l, const void *arg)
{
	const char		*type = shape_get_str(l, "type");
	const char		*site = shape_get_str(l, "site");
	struct json_object	*off = shape_get(l, "isDisabled"), *o;

	if (type == NULL || strcmp(type, "STREAMING") != 0 || site == NULL ||
	    (off != NULL && json_object_get_boolean(off)))
		return (NULL);
	o = json_object_new_object();
	json_object_object_add(o, "site", json_object_new_string(site));
	json_object_object_add(o, "url", shape_web_url(l, "url"));
	shape_copy_str(o, "language", l, "language");
	shape_copy_str(o, "notes", l, "notes");
	return (o);
}

/*
 * How many users have the media in each list status ({"completed": 30267,
 * …}, AniList's MediaListStatus in lower case); NULL when AniList gave none.
 */
static struct json_object *
shape_status_distribution(struct json_object *stats)
{
	struct json_object	*list, *e, *out = NULL;
	const char		*status;
	char			 key[16];
	long long		 amount;
	size_t			 i, j;

	list = shape_get_array(stats, "statusDistribution");
	for (i = 0; list != NULL && i < json_object_array_length(list); i++) {
		e = json_object_array_get_idx(list, i);
		if ((status = shape_get_str(e, "status")) == NULL ||
		    strlen(status) >= sizeof key ||
		    !shape_get_int(e, "amount", &amount))
			continue;
		for (j = 0; status[j] != '\0'; j++)
			key[j] = (char)tolower((unsigned char)status[j]);
		key[j] = '\0';
		if (out == NULL)
			out = json_object_new_object();
		json_object_object_add(out, key, json_object_new_int64(amount));
	}
	return (out);
}

static struct json_object *
shape_score_bucket(struct json_object *e, const void *arg)
{
	struct json_object	*o;
	long long		 score, amount;

	if (!shape_get_int(e, "score", &score) ||
	    !shape_get_int(e, "amount", &amount))
		return (NULL);
	o = json_object_new_object();
	json_object_object_add(o, "score", json_object_new_int64(score));
	json_object_object_add(o, "amount", json_object_new_int64(amount));
	return (o);
}

static int
shape_score_order(const void *a, const void *b)
{
	long long	sa = 0, sb = 0;

	shape_get_int(*(struct json_object *const *)a, "score", &sa);
	shape_get_int(*(struct json_object *const *)b, "score", &sb);
	return (sa < sb ? -1 : sa > sb);
}

/* [{score, amount}] by score (10 … 100); NULL when AniList gave none. */
static struct json_object *
shape_score_distribution(struct json_object *stats)
{
	struct json_object	*out;

	out = shape_each(shape_get_array(stats, "scoreDistribution"),
	    SIZE_MAX, shape_score_bucket, NULL);
	if (json_object_array_length(out) == 0) {
		json_object_put(out);
		return (NULL);
	}
	json_object_array_sort(out, shape_score_order);
	return (out);
}

/* A review as one line: its score, summary, how it was rated, its page. */
static struct json_object *
shape_review(struct json_object *n, const void *arg)
{
	struct json_object	*o;
	char			*plain, *p, *cut;

	if (!json_object_is_type(n, json_type_object))
		return (NULL);
	o = json_object_new_object();
	shape_copy_int(o, "score", n, "score");
	plain = text_plain(shape_get_str(n, "summary"), false);
	if (plain != NULL && *plain != '\0') {
		for (p = plain; *p != '\0'; p++)
			if (*p == '\n')
				*p = ' ';
		cut = text_truncate(plain, SHAPE_REVIEW_SUMMARY);
		json_object_object_add(o, "summary",
		    json_object_new_string(cut));
		free(cut);
	} else
		json_object_object_add(o, "summary", NULL);
	free(plain);
	shape_copy_int(o, "rating", n, "rating");
	shape_copy_int(o, "rating_amount", n, "ratingAmount");
	json_object_object_add(o, "site_url", shape_web_url(n, "siteUrl"));
	return (o);
}

struct json_object *
shape_media_details(struct json_object *media, bool full, bool include_adult)
{
	struct json_object	*o = shape_media(media, full);

	json_object_object_add(o, "synonyms",
	    shape_strings(media, "synonyms"));
	if (!shape_is_manga(media))
		shape_copy_int(o, "duration", media, "duration");
	shape_add_date(o, "end_date", media, "endDate");
	json_object_object_add(o, "tags", shape_each(shape_get_array(media,
	    "tags"), SHAPE_TAGS, shape_tag, NULL));
	shape_copy_int(o, "mean_score", media, "meanScore");
	shape_copy_int(o, "favourites", media, "favourites");
	shape_copy_str(o, "source_material", media, "source");
	shape_copy_str(o, "country_of_origin", media, "countryOfOrigin");
	json_object_object_add(o, "trailer", shape_trailer(media));
	shape_copy_str(o, "banner_image", media, "bannerImage");
	json_object_object_add(o, "relations", shape_each(shape_connection(
	    media, "relations", "edges"), SIZE_MAX, shape_relation, NULL));
	json_object_object_add(o, "recommendations", shape_each(
	    shape_connection(media, "recommendations", "nodes"),
	    SHAPE_RECOMMENDATIONS, shape_recommendation, &include_adult));
	json_object_object_add(o, "characters", shape_each(shape_connection(
	    media, "characters", "edges"), SHAPE_CHARACTERS,
	    shape_media_character, NULL));
	json_object_object_add(o, "where_to_watch", shape_each(
	    shape_get_array(media, "externalLinks"), SHAPE_STREAMING,
	    shape_streaming_link, NULL));
	json_object_object_add(o, "status_distribution",
	    shape_status_distribution(shape_get(media, "stats")));
	json_object_object_add(o, "score_distribution",
	    shape_score_distribution(shape_get(media, "stats")));
	json_object_object_add(o, "reviews", shape_each(shape_connection(
	    media, "reviews", "nodes"), SHAPE_REVIEWS, shape_review, NULL));
	return (o);
}

/* A media edge of a character: where it appears, in which role. */
static struct json_object *
shape_appearance(struct json_object *e, const void *arg)
{
	struct json_object	*node, *a;

	if ((node = shape_get(e, "node")) == NULL)
		return (NULL);
	a = json_object_new_object();
	shape_copy_int(a, "id", node, "id");
	json_object_object_add(a, "title", shape_titles(node, false));
	shape_copy_str(a, "type", node, "type");
	shape_copy_str(a, "format", node, "format");
	shape_copy_str(a, "role", e, "characterRole");
	return (a);
}

struct json_object *
shape_character(struct json_object *ch, bool full)
{
	struct json_object	*o = json_object_new_object(), *name, *n;

	shape_copy_int(o, "id", ch, "id");
	name = shape_get(ch, "name");
	n = json_object_new_object();
	shape_copy_str(n, "full", name, "full");
	shape_copy_str(n, "native", name, "native");
	json_object_object_add(n, "alternative",
	    shape_strings(name, "alternative"));
	json_object_object_add(o, "name", n);
	json_object_object_add(o, "image", shape_image(ch, "image"));
	json_object_object_add(o, "description", shape_description(ch, full));
	shape_copy_str(o, "gender", ch, "gender");
	shape_copy_str(o, "age", ch, "age");
	json_object_object_add(o, "birthday",
	    shape_birthday(shape_get(ch, "dateOfBirth")));
	shape_copy_int(o, "favourites", ch, "favourites");
	shape_copy_str(o, "site_url", ch, "siteUrl");
	json_object_object_add(o, "appearances", shape_each(shape_connection(
	    ch, "media", "edges"), SIZE_MAX, shape_appearance, NULL));
	return (o);
}

struct json_object *
shape_page_info(struct json_object *pi, int page, int per_page)
{
	struct json_object	*o = json_object_new_object(), *next;
	long long		 n;

	json_object_object_add(o, "page", json_object_new_int64(
	    shape_get_int(pi, "currentPage", &n) ? n : page));
	json_object_object_add(o, "per_page", json_object_new_int64(
	    shape_get_int(pi, "perPage", &n) ? n : per_page));
	next = shape_get(pi, "hasNextPage");
	json_object_object_add(o, "has_next_page", json_object_new_boolean(
	    next != NULL && json_object_get_boolean(next)));
	return (o);
}

struct json_object *
shape_source(const struct anilist_reply *r)
{
	struct json_object	*o = json_object_new_object();
	char			 ts[32];

	json_object_object_add(o, "cache", r->cache != NULL ?
	    json_object_new_string(r->cache) : NULL);
	if (r->fetched_at != 0) {
		log_format_ts(r->fetched_at, ts);
		json_object_object_add(o, "fetched_at",
		    json_object_new_string(ts));
	} else
		json_object_object_add(o, "fetched_at", NULL);
	/* Only an answer that waited for AniList's request budget says so. */
	if (r->queued_ms > 0)
		json_object_object_add(o, "queued_ms",
		    json_object_new_int64(r->queued_ms));
	return (o);
}

const char *
shape_title(struct json_object *shaped)
{
	struct json_object	*t = shape_get(shaped, "title");
	const char		*s;

	if ((s = shape_get_str(t, "romaji")) != NULL ||
	    (s = shape_get_str(t, "english")) != NULL ||
	    (s = shape_get_str(t, "native")) != NULL ||
	    (s = shape_get_str(shape_get(shaped, "name"), "full")) != NULL)
		return (s);
	return ("(untitled)");
}

void
shape_media_line(struct buf *b, struct json_object *m)
{
	const char	*format = shape_get_str(m, "format");
	const char	*date = shape_get_str(m, "start_date");
	long long	 year, score;
	bool		 open = false;

	buf_puts(b, shape_title(m));
	if (!shape_get_int(m, "season_year", &year))
		year = date != NULL ? strtoll(date, NULL, 10) : 0;
	if (year > 0) {
		buf_printf(b, " (%lld", year);
		open = true;
	}
	if (format != NULL) {
		buf_printf(b, "%s%s", open ? ", " : " (", format);
		open = true;
	}
	if (shape_get_int(m, "average_score", &score)) {
		buf_printf(b, "%s%lld.%lld/10", open ? ", " : " (", score / 10,
		    score % 10);
		open = true;
	}
	if (open)
		buf_putc(b, ')');
}

char *
shape_list_summary(struct json_object *results, const struct shape_summary *s)
{
	struct buf	b;
	size_t		n = json_object_array_length(results), i;

	buf_init(&b);
	if (n == 0)
		buf_printf(&b, "No %s", s->many);
	else
		buf_printf(&b, "%zu %s", n, n == 1 ? s->one : s->many);
	if (s->what != NULL)
		buf_printf(&b, " %s", s->what);
	buf_printf(&b, " (page %d)", s->page);
	for (i = 0; i < n && i < SHAPE_SUMMARY_LINES; i++) {
		buf_puts(&b, i == 0 ? ": " : "; ");
		s->line(&b, json_object_array_get_idx(results, i));
	}
	if (n > SHAPE_SUMMARY_LINES)
		buf_printf(&b, "; and %zu more", n - SHAPE_SUMMARY_LINES);
	buf_putc(&b, '.');
	if (s->has_next)
		buf_printf(&b, " More on page %d.", s->page + 1);
	return (buf_detach(&b));
}
