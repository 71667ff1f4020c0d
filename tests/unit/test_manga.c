/* test_manga.c: the manga shapes of search_anime, get_anime and the list tools, from AniList-shaped manga written here (the sample AniList holds anime only). */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "schema.h"
#include "tool.h"
#include "tools/shape.h"
#include "unit.h"
#include "util.h"

/*
 * A manga as AniList's Media answers it to the compact selection of
 * queries.c (field names of the schema): no episodes, duration, season or
 * next episode; chapters and volumes.
 */
#define MANGA_MEDIA							\
	"{\"id\":30001,\"type\":\"MANGA\","				\
	"\"title\":{\"romaji\":\"MONSTER\",\"english\":\"Monster\","	\
	"\"native\":\"MONSTER\",\"userPreferred\":\"MONSTER\"},"	\
	"\"synonyms\":[],\"format\":\"MANGA\",\"status\":\"FINISHED\","	\
	"\"episodes\":null,\"duration\":null,\"chapters\":162,"	\
	"\"volumes\":18,\"season\":null,\"seasonYear\":null,"		\
	"\"startDate\":{\"year\":1994,\"month\":12,\"day\":5},"	\
	"\"endDate\":{\"year\":2001,\"month\":12,\"day\":20},"		\
	"\"genres\":[\"Drama\",\"Mystery\",\"Psychological\"],"	\
	"\"averageScore\":89,\"meanScore\":90,\"popularity\":90000,"	\
	"\"favourites\":9000,\"isAdult\":false,"			\
	"\"coverImage\":{\"medium\":null,\"large\":null},"		\
	"\"siteUrl\":\"https://anilist.co/manga/30001\","		\
	"\"nextAiringEpisode\":null,\"studios\":{\"nodes\":[]},"	\
	"\"tags\":[{\"name\":\"Amnesia\",\"rank\":60}],"		\
	"\"description\":\"Dr. Kenzo Tenma saves a boy.\","		\
	"\"source\":\"ORIGINAL\",\"countryOfOrigin\":\"JP\","		\
	"\"trailer\":null,\"bannerImage\":null,\"hashtag\":null,"	\
	"\"relations\":{\"edges\":[]},"					\
	"\"recommendations\":{\"nodes\":[]},"				\
	"\"characters\":{\"edges\":[]},"				\
	"\"stats\":{\"statusDistribution\":[]}}"

/* The same id answered as an anime would be (another cache entry). */
#define ANIME_MEDIA							\
	"{\"id\":30001,\"type\":\"ANIME\",\"title\":{\"romaji\":"	\
	"\"Not The Manga\"},\"format\":\"TV\",\"episodes\":12,"		\
	"\"season\":\"SPRING\",\"seasonYear\":2004,\"isAdult\":false}"

/* A MediaList of a manga (MediaListCollection.lists[].entries[]). */
#define MANGA_ENTRY							\
	"{\"id\":900,\"mediaId\":30001,\"status\":\"CURRENT\","		\
	"\"score\":90,\"progress\":30,\"progressVolumes\":3,"		\
	"\"repeat\":0,\"updatedAt\":1700000000,"			\
	"\"media\":{\"id\":30001,\"type\":\"MANGA\","			\
	"\"title\":{\"romaji\":\"MONSTER\",\"english\":\"Monster\"},"	\
	"\"episodes\":null,\"duration\":null,\"chapters\":162,"	\
	"\"volumes\":18,\"format\":\"MANGA\",\"status\":\"FINISHED\","	\
	"\"genres\":[\"Drama\"],\"averageScore\":89,"			\
	"\"coverImage\":{\"medium\":null},\"tags\":[],"			\
	"\"studios\":{\"nodes\":[]},\"seasonYear\":null}}"

static struct unit_upstream	*upstream;

static void
setup(void)
{
	upstream = unit_tools_start();
}

static void
teardown(void)
{
	unit_tools_stop(upstream);
	upstream = NULL;
}

/* A successful call: the result, checked against the tool's output schema. */
static struct json_object *
invoke_ok(const char *name, const char *args, const struct tool_auth *auth)
{
	struct json_object	*result;
	struct tool_call	 call;
	struct tool_error	 err = { 0 };

	result = unit_tool_invoke(name, args, auth, &call);
	ck_assert_msg(result != NULL, "%s %s: %s", name, args,
	    call.error.message);
	tool_call_free(&call);
	ck_assert_msg(schema_validate(tool_output_schema(tool_find(name)),
	    result, &err), "%s output: %s: %s", name, err.field, err.message);
	return (result);
}

static bool
has(struct json_object *o, const char *key)
{
	return (json_object_object_get_ex(o, key, NULL));
}

/* Whether the last request to the stand-in holds needle. */
static bool
sent(const char *needle)
{
	char	*req = unit_upstream_last_request(upstream);
	bool	 found = req != NULL && strstr(req, needle) != NULL;

	free(req);
	return (found);
}

/* ---- the shapes themselves ---- */

/* A manga counts chapters and volumes; nothing of an anime is there. */
START_TEST(test_compact_manga_shape)
{
	struct json_object	*media = unit_json(MANGA_MEDIA), *m;
	const char		*anime_only[] = { "episodes", "season",
				    "season_year", "studios", "next_airing" };
	struct buf		 b;
	size_t			 i;

	ck_assert(shape_is_manga(media));
	m = shape_media(media, false);
	ck_assert_str_eq(unit_get_str(m, "type"), "MANGA");
	ck_assert_str_eq(unit_get_str(m, "format"), "MANGA");
	ck_assert_int_eq(unit_get_int(m, "chapters"), 162);
	ck_assert_int_eq(unit_get_int(m, "volumes"), 18);
	ck_assert_str_eq(unit_get_str(m, "start_date"), "1994-12-05");
	for (i = 0; i < nitems(anime_only); i++)
		ck_assert_msg(!has(m, anime_only[i]), "manga has %s",
		    anime_only[i]);
	buf_init(&b);
	shape_media_line(&b, m);
	ck_assert_str_eq(b.data, "MONSTER (1994, MANGA, 8.9/10)");
	buf_free(&b);
	json_object_put(m);

	m = shape_media_details(media, true, false);
	ck_assert(!has(m, "duration"));
	ck_assert_int_eq(unit_get_int(m, "chapters"), 162);
	ck_assert_str_eq(unit_get_str(m, "end_date"), "2001-12-20");
	json_object_put(m);
	json_object_put(media);
}
END_TEST

/* An anime keeps its shape: episodes and season, no chapters. */
START_TEST(test_anime_shape_unchanged)
{
	struct json_object	*media = unit_json(ANIME_MEDIA), *m;

	ck_assert(!shape_is_manga(media));
	m = shape_media_details(media, false, false);
	ck_assert_int_eq(unit_get_int(m, "episodes"), 12);
	ck_assert_str_eq(unit_get_str(m, "season"), "SPRING");
	ck_assert(has(m, "duration"));
	ck_assert(has(m, "next_airing"));
	ck_assert(!has(m, "chapters"));
	ck_assert(!has(m, "volumes"));
	json_object_put(m);
	json_object_put(media);
}
END_TEST

/* ---- get_anime and search_anime ---- */

/*
 * get_anime with media_type MANGA asks Media(id, type: MANGA) and shapes a
 * manga; the same id asked as an anime (the default) is another question:
 * AniList is asked again, and the manga is never the answer.
 */
START_TEST(test_get_anime_manga_and_type_in_the_key)
{
	struct json_object	*r, *m;
	int			 before;

	unit_upstream_answer(upstream, 200, "{\"data\":{\"Media\":"
	    MANGA_MEDIA "}}");
	r = invoke_ok("get_anime", "{\"id\":30001,\"media_type\":\"MANGA\"}",
	    NULL);
	ck_assert(sent("\"type\":\"MANGA\""));
	m = unit_get(r, "anime");
	ck_assert_int_eq(unit_get_int(m, "chapters"), 162);
	ck_assert(!has(m, "episodes"));
	ck_assert_str_eq(unit_get_str(r, "text_summary"),
	    "MONSTER (1994, MANGA, 8.9/10): 162 chapters, 18 volumes, "
	    "FINISHED. Genres: Drama, Mystery, Psychological.");
	json_object_put(r);

	before = unit_upstream_requests(upstream);
	unit_upstream_answer(upstream, 200, "{\"data\":{\"Media\":"
	    ANIME_MEDIA "}}");
	r = invoke_ok("get_anime", "{\"id\":30001}", NULL);
	ck_assert_int_eq(unit_upstream_requests(upstream), before + 1);
	ck_assert(sent("\"type\":\"ANIME\""));
	m = unit_get(r, "anime");
	ck_assert_str_eq(unit_get_str(m, "type"), "ANIME");
	ck_assert_int_eq(unit_get_int(m, "episodes"), 12);
	json_object_put(r);

	/* Asked again as a manga: the manga, not the anime just fetched. */
	unit_upstream_answer(upstream, 200, "{\"data\":{\"Media\":"
	    MANGA_MEDIA "}}");
	r = invoke_ok("get_anime", "{\"id\":30001,\"media_type\":\"MANGA\"}",
	    NULL);
	ck_assert_str_eq(unit_get_str(unit_get(r, "anime"), "type"), "MANGA");
	json_object_put(r);
}
END_TEST

/* No manga of that id: AniList's null Media is a 404 naming a manga. */
START_TEST(test_get_anime_no_such_manga)
{
	struct json_object	*r;
	struct tool_call	 call;

	unit_upstream_answer(upstream, 404, "{\"data\":{\"Media\":null},"
	    "\"errors\":[{\"message\":\"Not Found.\",\"status\":404}]}");
	r = unit_tool_invoke("get_anime",
	    "{\"id\":5,\"media_type\":\"MANGA\"}", NULL, &call);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(call.error.status, 404);
	ck_assert_msg(strstr(call.error.message, "manga with id 5") != NULL,
	    "%s", call.error.message);
	tool_call_free(&call);
}
END_TEST

START_TEST(test_search_manga)
{
	struct json_object	*r, *results;

	unit_upstream_answer(upstream, 200, "{\"data\":{\"Page\":{"
	    "\"pageInfo\":{\"currentPage\":1,\"perPage\":10,"
	    "\"hasNextPage\":false},\"media\":[" MANGA_MEDIA "]}}}");
	r = invoke_ok("search_anime", "{\"query\":\"monster\","
	    "\"media_type\":\"MANGA\",\"format\":\"MANGA\"}", NULL);
	ck_assert(sent("\"type\":\"MANGA\""));
	ck_assert(sent("\"format\":\"MANGA\""));
	results = unit_get(r, "results");
	ck_assert_int_eq(json_object_array_length(results), 1);
	ck_assert_int_eq(unit_get_int(json_object_array_get_idx(results, 0),
	    "volumes"), 18);
	ck_assert_str_eq(unit_get_str(r, "text_summary"), "1 manga result for "
	    "'monster', MANGA (page 1): MONSTER (1994, MANGA, 8.9/10).");
	json_object_put(r);
}
END_TEST

/* Filters of the other type: refused before AniList is asked. */
static const struct {
	const char	*args;
	const char	*field;
	const char	*message;
} bad_search[] = {
	{ "{\"media_type\":\"MANGA\",\"season\":\"FALL\"}", "season",
	    "anime only" },
	{ "{\"media_type\":\"MANGA\",\"year\":2020}", "year", "anime only" },
	{ "{\"media_type\":\"MANGA\",\"format\":\"TV\"}", "format",
	    "MANGA, NOVEL, ONE_SHOT" },
	{ "{\"format\":\"NOVEL\"}", "format", "TV, TV_SHORT" },
	{ "{\"media_type\":\"BOOK\"}", "media_type", "ANIME, MANGA" },
	{ "{\"media_type\":\"manga\"}", "media_type", "ANIME, MANGA" },
};

START_TEST(test_search_refuses_filters_of_the_other_type)
{
	struct json_object	*r;
	struct tool_call	 call;

	unit_upstream_answer(upstream, 500, "{}");
	r = unit_tool_invoke("search_anime", bad_search[_i].args, NULL, &call);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(call.error.status, 400);
	ck_assert_str_eq(call.error.field, bad_search[_i].field);
	ck_assert_msg(strstr(call.error.message, bad_search[_i].message) !=
	    NULL, "%s", call.error.message);
	ck_assert_int_eq(unit_upstream_requests(upstream), 0);
	tool_call_free(&call);
}
END_TEST

/* ---- the list tools ---- */

START_TEST(test_manga_list_entries)
{
	struct json_object	*r, *e;

	unit_upstream_answer(upstream, 200, "{\"data\":{"
	    "\"MediaListCollection\":{\"hasNextChunk\":false,\"lists\":[{"
	    "\"name\":\"Reading\",\"status\":\"CURRENT\",\"entries\":["
	    MANGA_ENTRY "]}],\"user\":{\"id\":5001,\"name\":\"sampleuser\""
	    "}}}}");
	r = invoke_ok("get_user_list", "{\"user_name\":\"sampleuser\","
	    "\"media_type\":\"MANGA\"}", NULL);
	ck_assert(sent("\"type\":\"MANGA\""));
	ck_assert_str_eq(unit_get_str(r, "media_type"), "MANGA");
	ck_assert_str_eq(unit_get_str(r, "list_type"), "MANGA");
	e = json_object_array_get_idx(unit_get(r, "results"), 0);
	ck_assert_int_eq(unit_get_int(e, "progress"), 30);
	ck_assert_int_eq(unit_get_int(e, "progress_volumes"), 3);
	ck_assert_int_eq(unit_get_int(e, "chapters"), 162);
	ck_assert_int_eq(unit_get_int(e, "volumes"), 18);
	ck_assert(!has(e, "episodes"));
	ck_assert_str_eq(unit_get_str(e, "site_url"),
	    "https://anilist.co/manga/30001");
	ck_assert_str_eq(unit_get_str(r, "text_summary"), "1 entry on "
	    "sampleuser's manga list (page 1): MONSTER: CURRENT, chapters "
	    "30/162, volumes 3/18, score 90/100.");
	json_object_put(r);
}
END_TEST

/* list_type is media_type's older name: the two must agree. */
START_TEST(test_list_type_and_media_type_disagree)
{
	struct json_object	*r;
	struct tool_call	 call;

	r = unit_tool_invoke("get_user_list",
	    "{\"user_name\":\"x\",\"media_type\":\"MANGA\","
	    "\"list_type\":\"ANIME\"}", NULL, &call);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(call.error.status, 400);
	ck_assert_str_eq(call.error.field, "list_type");
	ck_assert_int_eq(unit_upstream_requests(upstream), 0);
	tool_call_free(&call);
	unit_upstream_answer(upstream, 200, "{\"data\":{"
	    "\"MediaListCollection\":{\"hasNextChunk\":false,\"lists\":[],"
	    "\"user\":{\"id\":7,\"name\":\"x\"}}}}");
	r = invoke_ok("get_user_list", "{\"user_name\":\"x\",\"list_type\":"
	    "\"MANGA\"}", NULL);
	ck_assert(sent("\"type\":\"MANGA\""));
	ck_assert_str_eq(unit_get_str(r, "text_summary"),
	    "No entries on x's manga list (page 1).");
	json_object_put(r);
}
END_TEST

/*
 * Volumes read of a manga: the media is checked to be a manga, then saved
 * with progressVolumes; the saved entry has the manga shape.
 */
START_TEST(test_update_sets_volumes_read)
{
	struct json_object	*r, *e;

	/* One canned answer holds what both calls read. */
	unit_upstream_answer(upstream, 200, "{\"data\":{\"Media\":"
	    MANGA_MEDIA ",\"SaveMediaListEntry\":" MANGA_ENTRY "}}");
	r = invoke_ok("update_list_entry", "{\"media_id\":30001,\"status\":"
	    "\"CURRENT\",\"progress\":30,\"progress_volumes\":3}",
	    &unit_signed_in);
	ck_assert_int_eq(unit_upstream_requests(upstream), 2);
	ck_assert(sent("\"progressVolumes\":3"));
	e = unit_get(r, "entry");
	ck_assert_int_eq(unit_get_int(e, "progress_volumes"), 3);
	ck_assert(!has(e, "episodes"));
	ck_assert_str_eq(unit_get_str(r, "text_summary"), "Saved on your list: "
	    "MONSTER: CURRENT, chapters 30/162, volumes 3/18, score 90/100.");
	json_object_put(r);
}
END_TEST

/* Volumes of an anime: refused, and nothing is saved. */
START_TEST(test_update_refuses_volumes_of_an_anime)
{
	struct json_object	*r;
	struct tool_call	 call;

	unit_upstream_answer(upstream, 404, "{\"data\":{\"Media\":null},"
	    "\"errors\":[{\"message\":\"Not Found.\",\"status\":404}]}");
	r = unit_tool_invoke("update_list_entry", "{\"media_id\":18,\"status\":"
	    "\"CURRENT\",\"progress_volumes\":2}", &unit_signed_in, &call);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(call.error.status, 400);
	ck_assert_str_eq(call.error.field, "progress_volumes");
	ck_assert_msg(strstr(call.error.message, "no manga") != NULL, "%s",
	    call.error.message);
	/* Only the check was asked; SaveMediaListEntry never was. */
	ck_assert_int_eq(unit_upstream_requests(upstream), 1);
	ck_assert(sent("MediaDetails"));
	tool_call_free(&call);
}
END_TEST

static Suite *
manga_suite(void)
{
	Suite	*s = suite_create("manga");
	TCase	*tc = tcase_create("shape");

	tcase_add_test(tc, test_compact_manga_shape);
	tcase_add_test(tc, test_anime_shape_unchanged);
	suite_add_tcase(s, tc);

	tc = tcase_create("tools");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_get_anime_manga_and_type_in_the_key);
	tcase_add_test(tc, test_get_anime_no_such_manga);
	tcase_add_test(tc, test_search_manga);
	tcase_add_loop_test(tc, test_search_refuses_filters_of_the_other_type,
	    0, (int)nitems(bad_search));
	tcase_add_test(tc, test_manga_list_entries);
	tcase_add_test(tc, test_list_type_and_media_type_disagree);
	tcase_add_test(tc, test_update_sets_volumes_read);
	tcase_add_test(tc, test_update_refuses_volumes_of_an_anime);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run(manga_suite()));
}
