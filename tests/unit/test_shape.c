/* test_shape.c: compact results shaped from real AniList media (tests/anilist-sample/data), and get_anime's answer through a stand-in AniList. */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "schema.h"
#include "tool.h"
#include "tools/shape.h"
#include "unit.h"
#include "util.h"

static struct json_object *sample;

static void
load_sample(void)
{
	sample = unit_json_file("tests/anilist-sample/data/sample-media.json");
}

static void
free_sample(void)
{
	json_object_put(sample);
	sample = NULL;
}

static struct json_object *
media_list(void)
{
	struct json_object	*media;

	ck_assert(json_object_object_get_ex(sample, "media", &media));
	return (media);
}

static struct json_object *
media_by_id(int id)
{
	struct json_object	*media = media_list(), *m, *v;
	size_t			 i;

	for (i = 0; i < json_object_array_length(media); i++) {
		m = json_object_array_get_idx(media, i);
		if (json_object_object_get_ex(m, "id", &v) &&
		    json_object_get_int(v) == id)
			return (m);
	}
	ck_abort_msg("no media %d in the sample", id);
	return (NULL);
}

static const char *
str(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return (NULL);
	return (json_object_get_string(v));
}

static struct json_object *
get(struct json_object *o, const char *key)
{
	struct json_object	*v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	return (v);
}

/* Sousou no Frieren 2nd Season: HTML description, seven studios. */
START_TEST(test_media_compact_fields_from_sample)
{
	struct json_object	*m = shape_media(media_by_id(182255), false);
	struct json_object	*studios, *title;
	const char		*d;

	ck_assert_int_eq(json_object_get_int(get(m, "id")), 182255);
	title = get(m, "title");
	ck_assert_str_eq(str(title, "romaji"), "Sousou no Frieren 2nd Season");
	ck_assert_str_eq(str(title, "english"),
	    "Frieren: Beyond Journey\xe2\x80\x99s End Season 2");
	ck_assert_ptr_nonnull(str(title, "native"));
	ck_assert_str_eq(str(m, "format"), "TV");
	ck_assert_str_eq(str(m, "status"), "FINISHED");
	ck_assert_int_eq(json_object_get_int(get(m, "episodes")), 10);
	ck_assert_str_eq(str(m, "season"), "WINTER");
	ck_assert_int_eq(json_object_get_int(get(m, "season_year")), 2026);
	ck_assert_str_eq(str(m, "start_date"), "2026-01-16");
	ck_assert_int_eq(json_object_array_length(get(m, "genres")), 3);
	ck_assert_int_eq(json_object_get_int(get(m, "average_score")), 88);
	ck_assert_int_eq(json_object_get_int(get(m, "popularity")), 219598);
	/* Animation studios only: not Toho, Aniplex, Dentsu … */
	studios = get(m, "studios");
	ck_assert_int_eq(json_object_array_length(studios), 1);
	ck_assert_str_eq(json_object_get_string(
	    json_object_array_get_idx(studios, 0)), "MADHOUSE");
	ck_assert_ptr_null(get(m, "next_airing"));
	ck_assert_str_eq(str(m, "cover_image"), "https://s4.anilist.co/file/"
	    "anilistcdn/media/anime/cover/medium/bx182255-butzrqd4I0aC.jpg");
	ck_assert_str_eq(str(m, "site_url"), "https://anilist.co/anime/182255");
	ck_assert(!json_object_get_boolean(get(m, "is_adult")));
	d = str(m, "description");
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(strstr(d, "<br>"));
	ck_assert_uint_le(strlen(d), SHAPE_DESCRIPTION_MAX + 3);
	ck_assert_msg(strcmp(d + strlen(d) - 3, "\xe2\x80\xa6") == 0, "%s", d);
	ck_assert(strncmp(d, "Following the First-Class Mage Exam", 35) == 0);
	json_object_put(m);
}
END_TEST

START_TEST(test_media_full_description_keeps_paragraphs)
{
	struct json_object	*m = shape_media(media_by_id(182255), true);
	const char		*d = str(m, "description");

	ck_assert_ptr_nonnull(strstr(d, "he holds dear.\n\nFrieren"));
	ck_assert_ptr_nonnull(strstr(d, "(Source: MAL Rewrite)"));
	ck_assert_ptr_null(strchr(d, '<'));
	json_object_put(m);
}
END_TEST

/* Unknown stays null: never invented. */
START_TEST(test_media_unknowns_are_null)
{
	struct json_object	*media = media_list(), *m, *v, *s;
	size_t			 i, checked = 0;

	for (i = 0; i < json_object_array_length(media) && checked < 5; i++) {
		m = json_object_array_get_idx(media, i);
		if (!json_object_object_get_ex(m, "averageScore", &v) ||
		    v != NULL)
			continue;
		s = shape_media(m, false);
		ck_assert(json_object_object_get_ex(s, "average_score", &v));
		ck_assert_ptr_null(v);
		json_object_put(s);
		checked++;
	}
	ck_assert_uint_eq(checked, 5);
}
END_TEST

START_TEST(test_media_next_airing_as_rfc3339)
{
	struct json_object	*media = media_list(), *m = NULL, *next = NULL;
	struct json_object	*s, *na;
	struct json_object	*ep, *at;
	long long		 when;
	char			 want[32];
	size_t			 i;

	for (i = 0; i < json_object_array_length(media); i++) {
		m = json_object_array_get_idx(media, i);
		if (json_object_object_get_ex(m, "nextAiringEpisode", &next) &&
		    next != NULL)
			break;
	}
	ck_assert(i < json_object_array_length(media));
	json_object_object_get_ex(next, "episode", &ep);
	json_object_object_get_ex(next, "airingAt", &at);
	when = json_object_get_int64(at);
	s = shape_media(m, false);
	na = get(s, "next_airing");
	ck_assert_ptr_nonnull(na);
	ck_assert_int_eq(json_object_get_int(get(na, "episode")),
	    json_object_get_int(ep));
	shape_time(when, want);
	ck_assert_str_eq(str(na, "at"), want);
	ck_assert_int_eq((int)strlen(want), 20);
	ck_assert(want[10] == 'T' && want[19] == 'Z');
	json_object_put(s);
}
END_TEST

START_TEST(test_media_line_and_list_summary)
{
	struct json_object	*results = json_object_new_array();
	struct buf		 b;
	char			*sum;

	json_object_array_add(results, shape_media(media_by_id(182255),
	    false));
	json_object_array_add(results, shape_media(media_by_id(18), false));
	buf_init(&b);
	shape_media_line(&b, json_object_array_get_idx(results, 0));
	ck_assert_str_eq(b.data, "Sousou no Frieren 2nd Season (2026, TV, "
	    "8.8/10)");
	buf_free(&b);
	sum = shape_list_summary(results, &(struct shape_summary){
	    .one = "result", .many = "results", .what = "for 'frieren'",
	    .page = 1, .has_next = true, .line = shape_media_line });
	ck_assert_str_eq(sum, "2 results for 'frieren' (page 1): Sousou no "
	    "Frieren 2nd Season (2026, TV, 8.8/10); Initial D FOURTH STAGE "
	    "(2004, TV, 8.0/10). More on page 2.");
	free(sum);
	json_object_put(results);

	results = json_object_new_array();
	sum = shape_list_summary(results, &(struct shape_summary){
	    .one = "result", .many = "results", .page = 3,
	    .line = shape_media_line });
	ck_assert_str_eq(sum, "No results (page 3).");
	free(sum);
	json_object_put(results);
}
END_TEST

START_TEST(test_details_trailer_dates_and_tags)
{
	struct json_object	*d = shape_media_details(media_by_id(182255),
				    false, false);

	ck_assert_str_eq(str(d, "trailer"),
	    "https://www.youtube.com/watch?v=RH-FcW94z00");
	ck_assert_str_eq(str(d, "end_date"), "2026-03-27");
	ck_assert_int_eq(json_object_get_int(get(d, "duration")), 24);
	ck_assert_int_eq(json_object_array_length(get(d, "tags")), 10);
	ck_assert_str_eq(str(json_object_array_get_idx(get(d, "tags"), 0),
	    "name"), "Travel");
	ck_assert_int_eq(json_object_array_length(get(d, "synonyms")), 2);
	ck_assert_str_eq(str(d, "source_material"), "MANGA");
	/* The sample has no relations, recommendations or characters. */
	ck_assert_int_eq(json_object_array_length(get(d, "relations")), 0);
	ck_assert_int_eq(json_object_array_length(get(d, "recommendations")),
	    0);
	json_object_put(d);
}
END_TEST

START_TEST(test_details_drop_adult_recommendations)
{
	struct json_object	*m = NULL, *recs, *nodes, *n, *d;
	const int		 ids[] = { 18, 182255 };
	size_t			 i;

	if (json_object_deep_copy(media_by_id(182255), &m, NULL) != 0)
		ck_abort();
	nodes = json_object_new_array();
	for (i = 0; i < nitems(ids); i++) {
		struct json_object *rec = NULL;

		if (json_object_deep_copy(media_by_id(ids[i]), &rec,
		    NULL) != 0)
			ck_abort();
		json_object_object_add(rec, "isAdult",
		    json_object_new_boolean(i == 0));
		n = json_object_new_object();
		json_object_object_add(n, "rating", json_object_new_int(5));
		json_object_object_add(n, "mediaRecommendation", rec);
		json_object_array_add(nodes, n);
	}
	recs = json_object_new_object();
	json_object_object_add(recs, "nodes", nodes);
	json_object_object_add(m, "recommendations", recs);

	d = shape_media_details(m, false, false);
	ck_assert_int_eq(json_object_array_length(get(d, "recommendations")),
	    1);
	json_object_put(d);
	d = shape_media_details(m, false, true);
	ck_assert_int_eq(json_object_array_length(get(d, "recommendations")),
	    2);
	json_object_put(d);
	json_object_put(m);
}
END_TEST

/*
 * What AniList answers for a streamed, reviewed title (field names from
 * its schema: MediaExternalLink, MediaStats, Review), on a sample record.
 */
static const char details_extras[] = "{"
    "\"externalLinks\":["
    "{\"site\":\"Official Site\",\"url\":\"https://frieren-anime.jp/\","
    "\"type\":\"INFO\",\"language\":\"Japanese\",\"notes\":null,"
    "\"isDisabled\":false},"
    "{\"site\":\"Crunchyroll\",\"url\":\"https://www.crunchyroll.com/"
    "series/GG5H5XQX4\",\"type\":\"STREAMING\",\"language\":null,"
    "\"notes\":null,\"isDisabled\":false},"
    "{\"site\":\"Netflix\",\"url\":\"https://www.netflix.com/title/"
    "81726714\",\"type\":\"STREAMING\",\"language\":\"Japanese\","
    "\"notes\":\"Subtitled\",\"isDisabled\":false},"
    "{\"site\":\"Gone\",\"url\":\"https://gone.example/\",\"type\":"
    "\"STREAMING\",\"language\":null,\"notes\":null,\"isDisabled\":true},"
    "{\"site\":\"Odd\",\"url\":\"javascript:alert(1)\",\"type\":"
    "\"STREAMING\",\"language\":null,\"notes\":null,\"isDisabled\":false},"
    "{\"site\":\"Twitter\",\"url\":\"https://twitter.com/Anime_Frieren\","
    "\"type\":\"SOCIAL\",\"language\":null,\"notes\":null,"
    "\"isDisabled\":false}],"
    "\"stats\":{\"statusDistribution\":["
    "{\"status\":\"CURRENT\",\"amount\":52000},"
    "{\"status\":\"PLANNING\",\"amount\":120000},"
    "{\"status\":\"COMPLETED\",\"amount\":400000},"
    "{\"status\":\"DROPPED\",\"amount\":4000},"
    "{\"status\":\"PAUSED\",\"amount\":9000}],"
    "\"scoreDistribution\":["
    "{\"score\":100,\"amount\":90000},{\"score\":10,\"amount\":900},"
    "{\"score\":50,\"amount\":3000},{\"score\":null,\"amount\":7}]},"
    "\"reviews\":{\"nodes\":["
    "{\"score\":95,\"summary\":\"A quiet masterpiece\\nabout time.\","
    "\"rating\":410,\"ratingAmount\":430,\"siteUrl\":"
    "\"https://anilist.co/review/1\"},"
    "{\"score\":60,\"summary\":null,\"rating\":5,\"ratingAmount\":9,"
    "\"siteUrl\":\"https://anilist.co/review/2\"},"
    "{\"score\":70,\"summary\":\"x\",\"rating\":1,\"ratingAmount\":1,"
    "\"siteUrl\":null},"
    "{\"score\":80,\"summary\":\"a fourth, past the three kept\","
    "\"rating\":0,\"ratingAmount\":0,\"siteUrl\":null}]}}";

/* Sample record 182255 with details_extras merged in; caller puts. */
static struct json_object *
media_with_extras(void)
{
	struct json_object	*m = NULL, *extras;

	if (json_object_deep_copy(media_by_id(182255), &m, NULL) != 0)
		ck_abort();
	extras = json_tokener_parse(details_extras);
	ck_assert_ptr_nonnull(extras);
	json_object_object_foreach(extras, key, val)
		json_object_object_add(m, key, json_object_get(val));
	json_object_put(extras);
	return (m);
}

START_TEST(test_details_where_to_watch_keeps_streaming_links_only)
{
	struct json_object	*m = media_with_extras(), *d, *w, *l;

	d = shape_media_details(m, false, false);
	w = get(d, "where_to_watch");
	/* Not INFO or SOCIAL, not disabled; an odd URL becomes null. */
	ck_assert_int_eq(json_object_array_length(w), 3);
	l = json_object_array_get_idx(w, 0);
	ck_assert_str_eq(str(l, "site"), "Crunchyroll");
	ck_assert_str_eq(str(l, "url"),
	    "https://www.crunchyroll.com/series/GG5H5XQX4");
	ck_assert_ptr_null(get(l, "language"));
	l = json_object_array_get_idx(w, 1);
	ck_assert_str_eq(str(l, "language"), "Japanese");
	ck_assert_str_eq(str(l, "notes"), "Subtitled");
	l = json_object_array_get_idx(w, 2);
	ck_assert_str_eq(str(l, "site"), "Odd");
	ck_assert_ptr_null(get(l, "url"));
	json_object_put(d);
	json_object_put(m);
}
END_TEST

START_TEST(test_details_status_and_score_distributions)
{
	struct json_object	*m = media_with_extras(), *d, *st, *sc, *b;

	d = shape_media_details(m, false, false);
	st = get(d, "status_distribution");
	ck_assert_int_eq(json_object_object_length(st), 5);
	ck_assert_int_eq(json_object_get_int(get(st, "current")), 52000);
	ck_assert_int_eq(json_object_get_int(get(st, "planning")), 120000);
	ck_assert_int_eq(json_object_get_int(get(st, "completed")), 400000);
	ck_assert_int_eq(json_object_get_int(get(st, "dropped")), 4000);
	ck_assert_int_eq(json_object_get_int(get(st, "paused")), 9000);
	/* By score; a bucket without a score is left out. */
	sc = get(d, "score_distribution");
	ck_assert_int_eq(json_object_array_length(sc), 3);
	b = json_object_array_get_idx(sc, 0);
	ck_assert_int_eq(json_object_get_int(get(b, "score")), 10);
	ck_assert_int_eq(json_object_get_int(get(b, "amount")), 900);
	b = json_object_array_get_idx(sc, 2);
	ck_assert_int_eq(json_object_get_int(get(b, "score")), 100);
	ck_assert_int_eq(json_object_get_int(get(b, "amount")), 90000);
	json_object_put(d);
	json_object_put(m);
}
END_TEST

START_TEST(test_details_top_reviews_as_one_line_each)
{
	struct json_object	*m = media_with_extras(), *d, *rv, *r, *nodes;
	struct json_object	*n;
	char			 long_summary[600];

	d = shape_media_details(m, false, false);
	rv = get(d, "reviews");
	ck_assert_int_eq(json_object_array_length(rv), 3);
	r = json_object_array_get_idx(rv, 0);
	ck_assert_int_eq(json_object_get_int(get(r, "score")), 95);
	ck_assert_str_eq(str(r, "summary"), "A quiet masterpiece about time.");
	ck_assert_int_eq(json_object_get_int(get(r, "rating")), 410);
	ck_assert_int_eq(json_object_get_int(get(r, "rating_amount")), 430);
	ck_assert_str_eq(str(r, "site_url"), "https://anilist.co/review/1");
	r = json_object_array_get_idx(rv, 1);
	ck_assert_ptr_null(get(r, "summary"));
	ck_assert_ptr_null(get(json_object_array_get_idx(rv, 2), "site_url"));
	json_object_put(d);

	/* A summary longer than AniList allows is still cut to one line. */
	memset(long_summary, 'a', sizeof long_summary - 1);
	long_summary[sizeof long_summary - 1] = '\0';
	nodes = get(get(m, "reviews"), "nodes");
	n = json_object_array_get_idx(nodes, 0);
	json_object_object_add(n, "summary",
	    json_object_new_string(long_summary));
	d = shape_media_details(m, false, false);
	r = json_object_array_get_idx(get(d, "reviews"), 0);
	ck_assert_uint_le(strlen(str(r, "summary")), 200 + 3);
	json_object_put(d);
	json_object_put(m);
}
END_TEST

/* The sample data has none of them: empty and null, never invented. */
START_TEST(test_details_without_links_reviews_or_stats)
{
	struct json_object	*m = NULL, *d, *st;

	d = shape_media_details(media_by_id(18), false, false);
	ck_assert_int_eq(json_object_array_length(get(d, "where_to_watch")),
	    0);
	ck_assert_int_eq(json_object_array_length(get(d, "reviews")), 0);
	ck_assert_ptr_null(get(d, "score_distribution"));
	st = get(d, "status_distribution");
	ck_assert_int_eq(json_object_get_int(get(st, "completed")), 30267);
	ck_assert_int_eq(json_object_get_int(get(st, "planning")), 8035);
	json_object_put(d);

	if (json_object_deep_copy(media_by_id(18), &m, NULL) != 0)
		ck_abort();
	json_object_object_add(m, "stats", NULL);
	d = shape_media_details(m, false, false);
	ck_assert_ptr_null(get(d, "status_distribution"));
	ck_assert_ptr_null(get(d, "score_distribution"));
	json_object_put(d);
	json_object_object_add(m, "stats", json_tokener_parse(
	    "{\"statusDistribution\":[],\"scoreDistribution\":[]}"));
	d = shape_media_details(m, false, false);
	ck_assert_ptr_null(get(d, "status_distribution"));
	ck_assert_ptr_null(get(d, "score_distribution"));
	json_object_put(d);
	json_object_put(m);
}
END_TEST

START_TEST(test_page_info_and_source)
{
	struct json_object	*pi, *o;
	struct anilist_reply	 r;

	pi = json_tokener_parse("{\"currentPage\":2,\"perPage\":5,"
	    "\"hasNextPage\":true,\"total\":99}");
	o = shape_page_info(pi, 1, 10);
	ck_assert_int_eq(json_object_get_int(get(o, "page")), 2);
	ck_assert_int_eq(json_object_get_int(get(o, "per_page")), 5);
	ck_assert(json_object_get_boolean(get(o, "has_next_page")));
	ck_assert_int_eq(json_object_object_length(o), 3);
	json_object_put(o);
	json_object_put(pi);
	o = shape_page_info(NULL, 3, 10);
	ck_assert_int_eq(json_object_get_int(get(o, "page")), 3);
	ck_assert(!json_object_get_boolean(get(o, "has_next_page")));
	json_object_put(o);

	memset(&r, 0, sizeof r);
	r.cache = "stale";
	r.fetched_at = 1700000000123ULL;
	o = shape_source(&r);
	ck_assert_str_eq(str(o, "cache"), "stale");
	ck_assert_str_eq(str(o, "fetched_at"), "2023-11-14T22:13:20.123Z");
	json_object_put(o);
}
END_TEST

START_TEST(test_character_shape)
{
	struct json_object	*ch, *c, *apps;

	ch = json_tokener_parse("{\"id\":5,\"name\":{\"full\":\"Frieren\","
	    "\"native\":null,\"alternative\":[\"Frieren the Slayer\"]},"
	    "\"image\":{\"large\":null,\"medium\":\"https://img/m.png\"},"
	    "\"description\":\"An elf. ~!She outlives everyone.!~ &amp; more"
	    "\",\"gender\":\"Female\",\"age\":\"1000+\",\"dateOfBirth\":"
	    "{\"year\":null,\"month\":3,\"day\":14},\"favourites\":10,"
	    "\"siteUrl\":\"https://anilist.co/character/5\",\"media\":{"
	    "\"edges\":[{\"characterRole\":\"MAIN\",\"node\":{\"id\":1,"
	    "\"title\":{\"romaji\":\"Sousou no Frieren\",\"english\":null},"
	    "\"format\":\"TV\",\"type\":\"ANIME\"}}]}}");
	c = shape_character(ch, false);
	ck_assert_str_eq(str(get(c, "name"), "full"), "Frieren");
	ck_assert_ptr_null(get(get(c, "name"), "native"));
	ck_assert_str_eq(str(c, "image"), "https://img/m.png");
	ck_assert_str_eq(str(c, "description"), "An elf. & more");
	ck_assert_str_eq(str(c, "birthday"), "03-14");
	ck_assert_str_eq(str(c, "age"), "1000+");
	apps = get(c, "appearances");
	ck_assert_int_eq(json_object_array_length(apps), 1);
	ck_assert_str_eq(str(json_object_array_get_idx(apps, 0), "role"),
	    "MAIN");
	json_object_put(c);
	c = shape_character(ch, true);
	ck_assert_str_eq(str(c, "description"),
	    "An elf. [spoiler: She outlives everyone.] & more");
	json_object_put(c);
	json_object_put(ch);
}
END_TEST

/*
 * Every sample media shapes into what search_anime's output schema
 * promises, compact and detailed.
 */
START_TEST(test_every_sample_media_matches_the_output_schema)
{
	const struct json_object	*out;
	struct json_object		*media = media_list(), *list, *r;
	struct json_object		*pi, *props, *results;
	struct tool_error		 err = { 0 };
	struct anilist_reply		 reply;
	size_t				 i;
	char				*cause = NULL;

	ck_assert_msg(tool_init(&cause), "%s", cause ? cause : "");
	out = tool_output_schema(tool_find("search_anime"));
	list = json_object_new_array();
	for (i = 0; i < json_object_array_length(media); i++)
		json_object_array_add(list, shape_media(
		    json_object_array_get_idx(media, i), false));
	memset(&reply, 0, sizeof reply);
	reply.cache = "miss";
	reply.fetched_at = 1;
	pi = shape_page_info(NULL, 1, 50);
	r = json_object_new_object();
	json_object_object_add(r, "results", list);
	json_object_object_add(r, "page_info", pi);
	json_object_object_add(r, "text_summary", json_object_new_string("x"));
	json_object_object_add(r, "source", shape_source(&reply));
	ck_assert_msg(schema_validate(out, r, &err), "%s: %s", err.field,
	    err.message);
	json_object_put(r);

	out = tool_output_schema(tool_find("get_anime"));
	ck_assert(json_object_object_get_ex(out, "properties", &props));
	ck_assert(json_object_object_get_ex(props, "anime", &results));
	for (i = 0; i < json_object_array_length(media); i++) {
		r = shape_media_details(json_object_array_get_idx(media, i),
		    true, true);
		ck_assert_msg(schema_validate(results, r, &err), "%zu %s: %s",
		    i, err.field, err.message);
		json_object_put(r);
	}
	media = media_with_extras();
	r = shape_media_details(media, true, true);
	ck_assert_msg(schema_validate(results, r, &err), "extras %s: %s",
	    err.field, err.message);
	json_object_put(r);
	json_object_put(media);
}
END_TEST

/* ---- get_anime through a stand-in AniList (tests/unit/unit.h) ---- */

static struct unit_upstream	*upstream;

static void
tool_setup(void)
{
	load_sample();
	upstream = unit_tools_start();
}

static void
tool_teardown(void)
{
	unit_tools_stop(upstream);
	upstream = NULL;
	free_sample();
}

/* get_anime {"id": 182255} answered with media; the result or NULL. */
static struct json_object *
details_of(struct json_object *media, struct tool_call *call)
{
	struct json_object	*reply, *data, *args, *result;

	data = json_object_new_object();
	json_object_object_add(data, "Media", json_object_get(media));
	reply = json_object_new_object();
	json_object_object_add(reply, "data", data);
	unit_upstream_answer(upstream, 200, json_object_to_json_string_ext(
	    reply, JSON_C_TO_STRING_PLAIN));
	json_object_put(reply);
	args = unit_json("{\"id\":182255}");
	result = tool_invoke(tool_find("get_anime"), args, NULL, call);
	json_object_put(args);
	return (result);
}

START_TEST(test_get_anime_summary_names_sites_lists_and_top_review)
{
	struct json_object	*m = media_with_extras(), *r;
	struct tool_call	 call;
	struct tool_error	 err = { 0 };
	const char		*sum;

	r = details_of(m, &call);
	ck_assert_msg(r != NULL, "%s", call.error.message);
	ck_assert_msg(schema_validate(tool_output_schema(tool_find(
	    "get_anime")), r, &err), "%s: %s", err.field, err.message);
	sum = str(r, "text_summary");
	ck_assert_msg(strstr(sum, " Stream on Crunchyroll, Netflix, Odd. On "
	    "AniList lists: 52000 watching, 400000 completed, 9000 paused, "
	    "4000 dropped, 120000 planning. Top review (95/100): \"A quiet "
	    "masterpiece about time.\"") != NULL, "%s", sum);
	ck_assert(!json_object_object_get_ex(r, "trimmed", NULL));
	json_object_put(r);
	tool_call_free(&call);
	json_object_put(m);
}
END_TEST

/*
 * Over its budget, get_anime leaves out reviews, then streaming sites,
 * before any text is cut, and says so.
 */
START_TEST(test_get_anime_over_budget_loses_reviews_then_sites_first)
{
	struct json_object	*m = media_with_extras(), *links, *l, *r, *a;
	struct json_object	*note, *left, *v;
	struct tool_call	 call;
	char			 notes[300], site[16];
	size_t			 i, kept;

	memset(notes, 'n', sizeof notes - 1);
	notes[sizeof notes - 1] = '\0';
	links = get(m, "externalLinks");
	for (i = 0; i < 20; i++) {
		snprintf(site, sizeof site, "Site %zu", i);
		l = json_object_new_object();
		json_object_object_add(l, "site", json_object_new_string(site));
		json_object_object_add(l, "url", json_object_new_string(
		    "https://stream.example/frieren"));
		json_object_object_add(l, "type",
		    json_object_new_string("STREAMING"));
		json_object_object_add(l, "notes", json_object_new_string(notes));
		json_object_array_add(links, l);
	}
	r = details_of(m, &call);
	ck_assert_msg(r != NULL, "%s", call.error.message);
	ck_assert_uint_le(tool_text_size(r), TOOL_BUDGET_DEFAULT);
	a = get(r, "anime");
	ck_assert_int_eq(json_object_array_length(get(a, "reviews")), 0);
	kept = json_object_array_length(get(a, "where_to_watch"));
	ck_assert_uint_gt(kept, 0);
	ck_assert_uint_lt(kept, 20);
	/* The description (cut near 300 bytes) and notes stay whole. */
	ck_assert_uint_gt(strlen(str(a, "description")), 250);
	note = get(r, "trimmed");
	ck_assert(!json_object_object_get_ex(note, "strings_cut_to", NULL));
	left = get(note, "left_out");
	ck_assert_int_eq(json_object_get_int(get(left, "anime.reviews")), 3);
	v = get(left, "anime.where_to_watch");
	/* 23 streaming links, of which details keep 20 at most. */
	ck_assert_uint_eq((size_t)json_object_get_int(v) + kept, 20);
	ck_assert_ptr_nonnull(strstr(str(r, "text_summary"),
	    "Shortened to fit 8 KB: left out 3 of 3 anime.reviews, "));
	json_object_put(r);
	tool_call_free(&call);
	json_object_put(m);
}
END_TEST

static Suite *
shape_suite(void)
{
	Suite	*s = suite_create("shape");
	TCase	*tc = tcase_create("sample");

	tcase_add_unchecked_fixture(tc, load_sample, free_sample);
	tcase_add_test(tc, test_media_compact_fields_from_sample);
	tcase_add_test(tc, test_media_full_description_keeps_paragraphs);
	tcase_add_test(tc, test_media_unknowns_are_null);
	tcase_add_test(tc, test_media_next_airing_as_rfc3339);
	tcase_add_test(tc, test_media_line_and_list_summary);
	tcase_add_test(tc, test_details_trailer_dates_and_tags);
	tcase_add_test(tc, test_details_drop_adult_recommendations);
	tcase_add_test(tc, test_details_where_to_watch_keeps_streaming_links_only);
	tcase_add_test(tc, test_details_status_and_score_distributions);
	tcase_add_test(tc, test_details_top_reviews_as_one_line_each);
	tcase_add_test(tc, test_details_without_links_reviews_or_stats);
	tcase_add_test(tc, test_page_info_and_source);
	tcase_add_test(tc, test_character_shape);
	tcase_add_test(tc, test_every_sample_media_matches_the_output_schema);
	suite_add_tcase(s, tc);

	tc = tcase_create("get_anime");
	tcase_add_checked_fixture(tc, tool_setup, tool_teardown);
	tcase_add_test(tc, test_get_anime_summary_names_sites_lists_and_top_review);
	tcase_add_test(tc, test_get_anime_over_budget_loses_reviews_then_sites_first);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run(shape_suite()));
}
