/* test_recommend.c: properties of the content similarity, taste profiles, ranking and reasons. */
#include "autoconf.h"

#include <check.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recommend.h"
#include "util.h"

/* A JSON literal, parsed (caller puts it). */
static struct json_object *
js(const char *text)
{
	struct json_object	*o = json_tokener_parse(text);

	ck_assert_msg(o != NULL, "bad JSON in test: %s", text);
	return (o);
}

/* Media features from a JSON literal. */
static struct recommend_media *
media(const char *text)
{
	struct json_object	*o = js(text);
	struct recommend_media	*m = recommend_media_create(o);

	json_object_put(o);
	ck_assert_ptr_nonnull(m);
	return (m);
}

#define FULL_A								\
	"{\"id\":1,\"title\":{\"romaji\":\"Mahou Tabi\"},"		\
	"\"genres\":[\"Adventure\",\"Fantasy\"],"			\
	"\"tags\":[{\"name\":\"Magic\",\"rank\":90},"			\
	"{\"name\":\"Found Family\",\"rank\":70},"			\
	"{\"name\":\"Elf\",\"rank\":40}],"				\
	"\"studios\":{\"nodes\":[{\"name\":\"MADHOUSE\","		\
	"\"isAnimationStudio\":true},{\"name\":\"Aniplex\","		\
	"\"isAnimationStudio\":false}]},"				\
	"\"format\":\"TV\",\"source\":\"MANGA\",\"seasonYear\":2023,"	\
	"\"popularity\":5000,\"averageScore\":88}"

#define FULL_B								\
	"{\"id\":2,\"title\":{\"romaji\":\"Koukou Boxing\"},"		\
	"\"genres\":[\"Sports\",\"Drama\"],"				\
	"\"tags\":[{\"name\":\"Boxing\",\"rank\":95},"			\
	"{\"name\":\"School\",\"rank\":60}],"				\
	"\"studios\":{\"nodes\":[{\"name\":\"Sunrise\","		\
	"\"isAnimationStudio\":true}]},"				\
	"\"format\":\"MOVIE\",\"source\":\"ORIGINAL\",\"seasonYear\":1985,"\
	"\"popularity\":300,\"averageScore\":60}"

START_TEST(test_similarity_of_identical_media_is_one)
{
	struct recommend_media	*a = media(FULL_A), *b = media(FULL_A);

	ck_assert_double_eq_tol(recommend_similarity(a, b), 1.0, 1e-12);
	ck_assert_double_eq_tol(recommend_similarity(a, a), 1.0, 1e-12);
	recommend_media_free(a);
	recommend_media_free(b);
}
END_TEST

START_TEST(test_similarity_of_disjoint_media_is_zero)
{
	struct recommend_media	*a = media(FULL_A), *b = media(FULL_B);

	ck_assert_double_eq(recommend_similarity(a, b), 0.0);
	ck_assert_double_eq(recommend_similarity(b, a), 0.0);
	recommend_media_free(a);
	recommend_media_free(b);
}
END_TEST

START_TEST(test_similarity_of_media_with_nothing_known_is_zero)
{
	struct recommend_media	*a = media("{\"id\":5}"), *b = media(FULL_A);

	ck_assert_double_eq(recommend_similarity(a, a), 0.0);
	ck_assert_double_eq(recommend_similarity(a, b), 0.0);
	recommend_media_free(a);
	recommend_media_free(b);
}
END_TEST

/* Each step shares one more tag between the two media. */
START_TEST(test_similarity_grows_with_each_shared_tag)
{
	static const char *const tags[] = {
		"Magic", "Found Family", "Elf", "Dragons", "Travel", "Time Skip"
	};
	struct recommend_media	*a, *b;
	struct buf		 ta, tb;
	char			*ja, *jb;
	double			 prev = -1, sim;
	size_t			 k, i;

	for (k = 0; k <= nitems(tags); k++) {
		buf_init(&ta);
		buf_init(&tb);
		buf_puts(&ta, "{\"name\":\"OnlyA\"}");
		buf_puts(&tb, "{\"name\":\"OnlyB\"}");
		for (i = 0; i < k; i++) {
			buf_printf(&ta, ",{\"name\":\"%s\"}", tags[i]);
			buf_printf(&tb, ",{\"name\":\"%s\"}", tags[i]);
		}
		xasprintf(&ja, "{\"id\":1,\"genres\":[\"Action\"],"
		    "\"tags\":[%s],\"format\":\"TV\"}", ta.data);
		xasprintf(&jb, "{\"id\":2,\"genres\":[\"Drama\"],"
		    "\"tags\":[%s],\"format\":\"MOVIE\"}", tb.data);
		a = media(ja);
		b = media(jb);
		sim = recommend_similarity(a, b);
		ck_assert_msg(sim > prev, "%zu shared tags: %f not above %f",
		    k, sim, prev);
		prev = sim;
		recommend_media_free(a);
		recommend_media_free(b);
		free(ja);
		free(jb);
		buf_free(&ta);
		buf_free(&tb);
	}
}
END_TEST

START_TEST(test_similarity_weights_tags_by_rank)
{
	struct recommend_media	*ref, *high, *low;

	ref = media("{\"id\":1,\"tags\":[{\"name\":\"Magic\",\"rank\":95},"
	    "{\"name\":\"Elf\",\"rank\":95}]}");
	high = media("{\"id\":2,\"tags\":[{\"name\":\"Magic\",\"rank\":95},"
	    "{\"name\":\"Robots\",\"rank\":95}]}");
	low = media("{\"id\":3,\"tags\":[{\"name\":\"Magic\",\"rank\":20},"
	    "{\"name\":\"Robots\",\"rank\":95}]}");
	ck_assert(recommend_similarity(ref, high) >
	    recommend_similarity(ref, low));
	recommend_media_free(ref);
	recommend_media_free(high);
	recommend_media_free(low);
}
END_TEST

START_TEST(test_similarity_ignores_producers_that_are_not_studios)
{
	struct recommend_media	*a, *b;

	a = media("{\"id\":1,\"studios\":{\"nodes\":[{\"name\":\"Aniplex\","
	    "\"isAnimationStudio\":false},{\"name\":\"A-1\","
	    "\"isAnimationStudio\":true}]}}");
	b = media("{\"id\":2,\"studios\":{\"nodes\":[{\"name\":\"Aniplex\","
	    "\"isAnimationStudio\":false},{\"name\":\"Bones\","
	    "\"isAnimationStudio\":true}]}}");
	ck_assert_double_eq(recommend_similarity(a, b), 0.0);
	recommend_media_free(a);
	recommend_media_free(b);
}
END_TEST

/* The sample catalogue, for properties over real data. */
static struct json_object *
catalogue(void)
{
	const char		*top = getenv("top_srcdir");
	char			*path;
	struct json_object	*doc, *arr;

	xasprintf(&path, "%s/tests/anilist-sample/data/sample-media.json",
	    top != NULL ? top : "..");
	doc = json_object_from_file(path);
	free(path);
	ck_assert_ptr_nonnull(doc);
	ck_assert(json_object_object_get_ex(doc, "media", &arr));
	json_object_get(arr);
	json_object_put(doc);
	return (arr);
}

START_TEST(test_similarity_is_symmetric_and_bounded_on_the_catalogue)
{
	struct json_object	*arr = catalogue();
	struct recommend_media	**m;
	size_t			 n = json_object_array_length(arr), i, j;
	double			 ab, ba;

	m = xcalloc(n, sizeof *m);
	for (i = 0; i < n; i++)
		m[i] = recommend_media_create(json_object_array_get_idx(arr, i));
	/* Every title against a spread of others (7 is prime to n). */
	for (i = 0; i < n; i++) {
		for (j = i % 7; j < n; j += 37) {
			ab = recommend_similarity(m[i], m[j]);
			ba = recommend_similarity(m[j], m[i]);
			ck_assert_double_eq(ab, ba);
			ck_assert(ab >= 0 && ab <= 1);
		}
		ab = recommend_similarity(m[i], m[i]);
		ck_assert(ab <= 1 + 1e-12);
	}
	for (i = 0; i < n; i++)
		recommend_media_free(m[i]);
	free(m);
	json_object_put(arr);
}
END_TEST

START_TEST(test_franchise_from_relations_either_way)
{
	struct recommend_media	*a, *b, *c;

	a = media("{\"id\":1,\"title\":{\"romaji\":\"Alpha\"},"
	    "\"relations\":{\"edges\":[{\"relationType\":\"SEQUEL\","
	    "\"node\":{\"id\":2}}]}}");
	b = media("{\"id\":2,\"title\":{\"romaji\":\"Beta\"}}");
	c = media("{\"id\":3,\"title\":{\"romaji\":\"Gamma\"}}");
	ck_assert(recommend_same_franchise(a, b));
	ck_assert(recommend_same_franchise(b, a));
	ck_assert(!recommend_same_franchise(a, c));
	recommend_media_free(a);
	recommend_media_free(b);
	recommend_media_free(c);
}
END_TEST

static const struct {
	const char	*a, *b;
	const char	*ga, *gb;	/* genres */
	bool		 same;
} franchise_titles[] = {
	{ "Kimi ni Todoke", "Kimi ni Todoke 2ND SEASON",
	    "\"Romance\"", "\"Romance\"", true },
	{ "Durarara!!", "Durarara!!x2 Shou",
	    "\"Action\",\"Mystery\"", "\"Action\",\"Mystery\"", true },
	{ "Kono Subarashii Sekai ni Shukufuku wo!",
	    "Kono Subarashii Sekai ni Bakuen wo!",
	    "\"Comedy\",\"Fantasy\"", "\"Comedy\",\"Fantasy\"", true },
	/* a title stem, but nothing else alike */
	{ "Monster", "Monster Musume no Iru Nichijou",
	    "\"Drama\",\"Mystery\"", "\"Comedy\",\"Ecchi\"", false },
	/* alike, but only two common words */
	{ "Kimi no Na wa.", "Kimi no Suizou wo Tabetai",
	    "\"Drama\",\"Romance\"", "\"Drama\",\"Romance\"", false },
	{ "Hyouka", "Hyakka Ryouran",
	    "\"Mystery\"", "\"Mystery\"", false },
};

START_TEST(test_franchise_from_title_stems)
{
	struct recommend_media	*a, *b;
	char			*ja, *jb;

	xasprintf(&ja, "{\"id\":10,\"title\":{\"romaji\":\"%s\"},"
	    "\"genres\":[%s]}", franchise_titles[_i].a,
	    franchise_titles[_i].ga);
	xasprintf(&jb, "{\"id\":11,\"title\":{\"romaji\":\"%s\"},"
	    "\"genres\":[%s]}", franchise_titles[_i].b,
	    franchise_titles[_i].gb);
	a = media(ja);
	b = media(jb);
	ck_assert_msg(recommend_same_franchise(a, b) ==
	    franchise_titles[_i].same, "%s / %s", franchise_titles[_i].a,
	    franchise_titles[_i].b);
	ck_assert(recommend_same_franchise(b, a) == franchise_titles[_i].same);
	recommend_media_free(a);
	recommend_media_free(b);
	free(ja);
	free(jb);
}
END_TEST

#define SEARCH_RESULTS							\
	"[{\"id\":1,\"popularity\":900000,"				\
	"\"title\":{\"romaji\":\"Sousou no Frieren Special\","		\
	"\"english\":null,\"native\":null},\"synonyms\":[]},"		\
	"{\"id\":2,\"popularity\":1000,"				\
	"\"title\":{\"romaji\":\"Sousou no Frieren\","			\
	"\"english\":\"Frieren: Beyond Journey's End\","		\
	"\"native\":\"葬送のフリーレン\"},"				\
	"\"synonyms\":[\"Frieren at the Funeral\"]},"			\
	"{\"id\":3,\"popularity\":50000,"				\
	"\"title\":{\"romaji\":\"Funeral Parade\",\"english\":null},"	\
	"\"synonyms\":[]}]"

static const struct {
	const char	*query;
	int		 want;
} title_matches[] = {
	{ "Sousou no Frieren", 1 },		/* exact beats popular prefix */
	{ "sousou NO frieren", 1 },		/* case */
	{ "Frieren: Beyond Journey's End", 1 },	/* English */
	{ "frieren beyond journeys end", -1 },	/* "journeys" is not a word */
	{ "葬送のフリーレン", 1 },			/* native */
	{ "Frieren at the Funeral", 1 },	/* synonym */
	{ "sousou", 0 },			/* prefix: most popular */
	{ "parade funeral", 2 },		/* every word */
	{ "Cowboy Bebop", -1 },
	{ "  !! ", -1 },
};

START_TEST(test_best_title_match_prefers_exact_then_quality_then_popularity)
{
	struct json_object	*res = js(SEARCH_RESULTS);

	ck_assert_msg(recommend_best_title_match(title_matches[_i].query, res)
	    == title_matches[_i].want, "query %s", title_matches[_i].query);
	json_object_put(res);
}
END_TEST

/* A list of two scored entries and one more with a status. */
static struct json_object *
user_list(int action_score, int romance_score, const char *third_status)
{
	char			*text;
	struct json_object	*o;

	xasprintf(&text, "{\"lists\":["
	    "{\"status\":\"COMPLETED\",\"entries\":["
	    "{\"mediaId\":10,\"status\":\"COMPLETED\",\"score\":%d,"
	    "\"media\":{\"id\":10,\"genres\":[\"Action\"],"
	    "\"tags\":[{\"name\":\"Swordplay\",\"rank\":80}],"
	    "\"studios\":{\"nodes\":[{\"name\":\"MAPPA\","
	    "\"isAnimationStudio\":true}]},\"format\":\"TV\","
	    "\"seasonYear\":2019}},"
	    "{\"mediaId\":11,\"status\":\"COMPLETED\",\"score\":%d,"
	    "\"media\":{\"id\":11,\"genres\":[\"Romance\"],"
	    "\"tags\":[{\"name\":\"School\",\"rank\":80}],"
	    "\"format\":\"MOVIE\",\"seasonYear\":2005}}]},"
	    "{\"status\":\"%s\",\"entries\":["
	    "{\"mediaId\":12,\"score\":0,"
	    "\"media\":{\"id\":12,\"genres\":[\"Horror\"]}}]}]}",
	    action_score, romance_score, third_status);
	o = js(text);
	free(text);
	return (o);
}

START_TEST(test_profile_changes_when_scores_change)
{
	struct json_object		*l1 = user_list(95, 30, "PLANNING");
	struct json_object		*l2 = user_list(30, 95, "PLANNING");
	struct recommend_profile	*p1, *p2;
	struct recommend_media		*action;

	p1 = recommend_profile_create(l1);
	p2 = recommend_profile_create(l2);
	action = media("{\"id\":50,\"genres\":[\"Action\"],"
	    "\"tags\":[{\"name\":\"Swordplay\",\"rank\":70}],"
	    "\"format\":\"TV\"}");
	ck_assert(recommend_profile_affinity(p1, "genre", "Action") > 0);
	ck_assert(recommend_profile_affinity(p1, "genre", "Romance") < 0);
	ck_assert(recommend_profile_affinity(p2, "genre", "Action") < 0);
	ck_assert(recommend_profile_affinity(p2, "genre", "Romance") > 0);
	ck_assert(recommend_profile_affinity(p1, "studio", "MAPPA") > 0);
	ck_assert(recommend_profile_affinity(p1, "era", "2010s") > 0);
	ck_assert(recommend_profile_affinity(p1, "format", "MOVIE") < 0);
	ck_assert_str_eq(recommend_profile_genre(p1, 0), "Action");
	ck_assert_str_eq(recommend_profile_genre(p2, 0), "Romance");
	ck_assert(recommend_profile_fit(p1, action) > 0.5);
	ck_assert(recommend_profile_fit(p2, action) < 0.5);
	ck_assert_uint_eq(recommend_profile_entries(p1), 3);
	ck_assert_uint_eq(recommend_profile_used(p1), 3);
	ck_assert(recommend_profile_has(p1, 12));
	ck_assert(!recommend_profile_has(p1, 50));
	recommend_media_free(action);
	recommend_profile_free(p1);
	recommend_profile_free(p2);
	json_object_put(l1);
	json_object_put(l2);
}
END_TEST

START_TEST(test_profile_counts_dropped_against_and_planning_a_little)
{
	struct json_object		*dropped = user_list(80, 80, "DROPPED");
	struct json_object		*planned = user_list(80, 80, "PLANNING");
	struct recommend_profile	*pd, *pp;
	double				 d, p;

	pd = recommend_profile_create(dropped);
	pp = recommend_profile_create(planned);
	d = recommend_profile_affinity(pd, "genre", "Horror");
	p = recommend_profile_affinity(pp, "genre", "Horror");
	ck_assert(d < 0);
	ck_assert(p > 0);
	/* planning says less than a high score */
	ck_assert(p < recommend_profile_affinity(pp, "genre", "Action"));
	recommend_profile_free(pd);
	recommend_profile_free(pp);
	json_object_put(dropped);
	json_object_put(planned);
}
END_TEST

START_TEST(test_profile_json_lists_strongest_first)
{
	struct json_object		*l = user_list(95, 30, "PLANNING"), *o,
					*g, *first;
	struct recommend_profile	*p = recommend_profile_create(l);

	o = recommend_profile_json(p, 2);
	ck_assert(json_object_object_get_ex(o, "genres", &g));
	ck_assert_uint_eq(json_object_array_length(g), 2);
	first = json_object_array_get_idx(g, 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(first,
	    "name")), "Action");
	json_object_put(o);
	recommend_profile_free(p);
	json_object_put(l);
}
END_TEST

/* A reference and a pool around it. */
#define REF								\
	"{\"id\":100,\"title\":{\"romaji\":\"Hoshi no Mahou\"},"	\
	"\"genres\":[\"Fantasy\",\"Adventure\"],"			\
	"\"tags\":[{\"name\":\"Magic\",\"rank\":90},"			\
	"{\"name\":\"Found Family\",\"rank\":80},"			\
	"{\"name\":\"Rape\",\"rank\":75},"				\
	"{\"name\":\"Elf\",\"rank\":50}],"				\
	"\"studios\":{\"nodes\":[{\"name\":\"MADHOUSE\","		\
	"\"isAnimationStudio\":true}]},"				\
	"\"format\":\"TV\",\"source\":\"LIGHT_NOVEL\",\"seasonYear\":2020,"\
	"\"relations\":{\"edges\":[{\"relationType\":\"SEQUEL\","	\
	"\"node\":{\"id\":101}}]}}"

static const char *const pool_media[] = {
	/* the sequel */
	"{\"id\":101,\"title\":{\"romaji\":\"Hoshi no Mahou 2\"},"
	"\"genres\":[\"Fantasy\",\"Adventure\"],"
	"\"tags\":[{\"name\":\"Magic\",\"rank\":90}],"
	"\"studios\":{\"nodes\":[{\"name\":\"MADHOUSE\","
	"\"isAnimationStudio\":true}]},\"format\":\"TV\","
	"\"source\":\"LIGHT_NOVEL\",\"seasonYear\":2022,\"popularity\":900}",
	/* close in content */
	"{\"id\":102,\"title\":{\"romaji\":\"Mori no Majo\"},"
	"\"genres\":[\"Fantasy\",\"Adventure\"],"
	"\"tags\":[{\"name\":\"Magic\",\"rank\":85},"
	"{\"name\":\"Found Family\",\"rank\":60},"
	"{\"name\":\"Rape\",\"rank\":60}],"
	"\"studios\":{\"nodes\":[{\"name\":\"MADHOUSE\","
	"\"isAnimationStudio\":true}]},\"format\":\"TV\","
	"\"source\":\"LIGHT_NOVEL\",\"seasonYear\":2021,\"popularity\":800}",
	/* community favourite, less alike */
	"{\"id\":103,\"title\":{\"romaji\":\"Ken to Tabi\"},"
	"\"genres\":[\"Adventure\",\"Action\"],"
	"\"tags\":[{\"name\":\"Swordplay\",\"rank\":85}],"
	"\"format\":\"TV\",\"source\":\"MANGA\",\"seasonYear\":2018,"
	"\"popularity\":700}",
	/* adult */
	"{\"id\":104,\"title\":{\"romaji\":\"Otona no Mahou\"},"
	"\"isAdult\":true,\"genres\":[\"Fantasy\",\"Adventure\"],"
	"\"tags\":[{\"name\":\"Magic\",\"rank\":90}],\"format\":\"TV\","
	"\"popularity\":600}",
	/* excluded by the request */
	"{\"id\":105,\"title\":{\"romaji\":\"Mahou Gakuen\"},"
	"\"genres\":[\"Fantasy\"],\"tags\":[{\"name\":\"Magic\","
	"\"rank\":70}],\"format\":\"TV\",\"popularity\":500}",
	/* the reference itself, as AniList may return it */
	REF,
	/* unrelated */
	"{\"id\":106,\"title\":{\"romaji\":\"Tetsu no Ring\"},"
	"\"genres\":[\"Sports\"],\"tags\":[{\"name\":\"Boxing\","
	"\"rank\":90}],\"format\":\"MOVIE\",\"source\":\"ORIGINAL\","
	"\"seasonYear\":1980,\"popularity\":100}",
};

static struct recommend_pool *
make_pool(int community_rating)
{
	struct recommend_pool	*pool = recommend_pool_create();
	struct json_object	*o;
	size_t			 i;

	for (i = 0; i < nitems(pool_media); i++) {
		o = js(pool_media[i]);
		recommend_pool_add(pool, o, 0, 0);
		json_object_put(o);
	}
	if (community_rating > 0) {
		/* seen again, as a community recommendation */
		o = js(pool_media[2]);
		recommend_pool_add(pool, o, community_rating, 0);
		json_object_put(o);
	}
	return (pool);
}

static int64_t
item_id(struct json_object *list, size_t i)
{
	struct json_object	*item = json_object_array_get_idx(list, i);

	return (json_object_get_int64(json_object_object_get(
	    json_object_object_get(item, "anime"), "id")));
}

static bool
list_has(struct json_object *list, int64_t id)
{
	size_t	i;

	for (i = 0; i < json_object_array_length(list); i++) {
		if (item_id(list, i) == id)
			return (true);
	}
	return (false);
}

START_TEST(test_rank_filters_reference_exclusions_adult_and_franchise)
{
	struct recommend_media	*ref = media(REF);
	struct recommend_pool	*pool = make_pool(0);
	struct recommend_query	 q;
	struct json_object	*out;
	int64_t			 exclude[] = { 105 };

	memset(&q, 0, sizeof q);
	q.kind = RECOMMEND_SIMILAR;
	q.reference = ref;
	q.count = 20;
	q.exclude = exclude;
	q.nexclude = 1;
	out = recommend_rank(&q, pool);
	ck_assert(!list_has(out, 100));
	ck_assert(!list_has(out, 101));
	ck_assert(!list_has(out, 104));
	ck_assert(!list_has(out, 105));
	ck_assert(list_has(out, 102));
	ck_assert_int_eq(item_id(out, 0), 102);
	json_object_put(out);

	q.include_related = true;
	q.include_adult = true;
	out = recommend_rank(&q, pool);
	ck_assert(list_has(out, 101));
	ck_assert(list_has(out, 104));
	ck_assert(!list_has(out, 105));
	json_object_put(out);

	q.count = 2;
	out = recommend_rank(&q, pool);
	ck_assert_uint_eq(json_object_array_length(out), 2);
	json_object_put(out);
	recommend_pool_free(pool);
	recommend_media_free(ref);
}
END_TEST

START_TEST(test_rank_blends_community_ratings)
{
	struct recommend_media	*ref = media(REF);
	struct recommend_pool	*plain = make_pool(0), *rated = make_pool(312);
	struct recommend_query	 q;
	struct json_object	*a, *b;

	memset(&q, 0, sizeof q);
	q.kind = RECOMMEND_SIMILAR;
	q.reference = ref;
	q.count = 10;
	a = recommend_rank(&q, plain);
	b = recommend_rank(&q, rated);
	ck_assert_int_eq(item_id(a, 0), 102);
	ck_assert_int_eq(item_id(b, 0), 103);
	json_object_put(a);
	json_object_put(b);
	recommend_pool_free(plain);
	recommend_pool_free(rated);
	recommend_media_free(ref);
}
END_TEST

/* The names in "shares A, B, C" or "same studio A, B". */
static char **
reason_names(const char *reason, const char *prefix, size_t *n)
{
	char	*copy, *w, *save, **out = NULL;

	*n = 0;
	if (strncmp(reason, prefix, strlen(prefix)) != 0)
		return (NULL);
	copy = xstrdup(reason + strlen(prefix));
	for (w = strtok_r(copy, ",", &save); w != NULL;
	    w = strtok_r(NULL, ",", &save)) {
		while (*w == ' ')
			w++;
		out = xrealloc(out, (*n + 1) * sizeof *out);
		out[(*n)++] = xstrdup(w);
	}
	free(copy);
	return (out);
}

/* Whether media object o lists name among key (genres, tags, studios). */
static bool
media_lists(struct json_object *o, const char *key, const char *name)
{
	struct json_object	*arr, *el, *v;
	size_t			 i;

	if (strcmp(key, "studios") == 0)
		arr = json_object_object_get(json_object_object_get(o,
		    "studios"), "nodes");
	else
		arr = json_object_object_get(o, key);
	for (i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
		el = json_object_array_get_idx(arr, i);
		v = json_object_is_type(el, json_type_string) ? el :
		    json_object_object_get(el, "name");
		if (strcmp(json_object_get_string(v), name) == 0)
			return (true);
	}
	return (false);
}

START_TEST(test_reasons_match_the_data)
{
	struct recommend_media	*ref = media(REF);
	struct recommend_pool	*pool = make_pool(312);
	struct recommend_query	 q;
	struct json_object	*out, *item, *anime, *reasons, *refj;
	const char		*r;
	char			**names;
	size_t			 i, j, k, n, checked = 0;
	bool			 rated = false;

	refj = recommend_media_json(ref);
	memset(&q, 0, sizeof q);
	q.kind = RECOMMEND_SIMILAR;
	q.reference = ref;
	q.count = 10;
	q.include_related = true;
	out = recommend_rank(&q, pool);
	for (i = 0; i < json_object_array_length(out); i++) {
		item = json_object_array_get_idx(out, i);
		anime = json_object_object_get(item, "anime");
		reasons = json_object_object_get(item, "reasons");
		ck_assert(json_object_array_length(reasons) > 0);
		for (j = 0; j < json_object_array_length(reasons); j++) {
			r = json_object_get_string(
			    json_object_array_get_idx(reasons, j));
			ck_assert_ptr_null(strstr(r, "Rape"));
			names = reason_names(r, "shares ", &n);
			for (k = 0; k < n; k++) {
				ck_assert_msg((media_lists(refj, "genres",
				    names[k]) && media_lists(anime, "genres",
				    names[k])) || (media_lists(refj, "tags",
				    names[k]) && media_lists(anime, "tags",
				    names[k])), "%s: %s", r, names[k]);
				free(names[k]);
				checked++;
			}
			free(names);
			names = reason_names(r, "same studio ", &n);
			for (k = 0; k < n; k++) {
				ck_assert(media_lists(refj, "studios",
				    names[k]));
				ck_assert(media_lists(anime, "studios",
				    names[k]));
				free(names[k]);
				checked++;
			}
			free(names);
			if (strncmp(r, "recommended by ", 15) == 0) {
				ck_assert_str_eq(r,
				    "recommended by 312 AniList users");
				ck_assert_int_eq(item_id(out, i), 103);
				rated = true;
			}
			if (strncmp(r, "same franchise", 14) == 0)
				ck_assert_str_eq(r, "same franchise as "
				    "Hoshi no Mahou (sequel)");
		}
	}
	ck_assert(rated);
	ck_assert(checked >= 4);
	json_object_put(out);
	recommend_pool_free(pool);
	recommend_media_free(ref);
}
END_TEST

START_TEST(test_rank_is_deterministic)
{
	struct recommend_media	*ref = media(REF);
	struct recommend_pool	*pool = make_pool(40);
	struct recommend_query	 q;
	struct json_object	*a, *b;

	memset(&q, 0, sizeof q);
	q.kind = RECOMMEND_SIMILAR;
	q.reference = ref;
	q.count = 5;
	a = recommend_rank(&q, pool);
	b = recommend_rank(&q, pool);
	ck_assert_str_eq(json_object_to_json_string(a),
	    json_object_to_json_string(b));
	json_object_put(a);
	json_object_put(b);
	recommend_pool_free(pool);
	recommend_media_free(ref);
}
END_TEST

START_TEST(test_taste_rank_leaves_out_the_list_and_follows_scores)
{
	struct json_object		*l1 = user_list(95, 30, "PLANNING");
	struct json_object		*l2 = user_list(30, 95, "PLANNING");
	struct recommend_profile	*p1, *p2;
	struct recommend_pool		*pool = recommend_pool_create();
	struct recommend_query		 q;
	struct json_object		*o, *a, *b;
	const char			*r;

	o = js("{\"id\":10,\"genres\":[\"Action\"]}");	/* on the list */
	recommend_pool_add(pool, o, 0, 0);
	json_object_put(o);
	o = js("{\"id\":20,\"genres\":[\"Action\"],\"tags\":[{\"name\":"
	    "\"Swordplay\",\"rank\":90}],\"studios\":{\"nodes\":[{\"name\":"
	    "\"MAPPA\",\"isAnimationStudio\":true}]},\"averageScore\":70}");
	recommend_pool_add(pool, o, 0, 0);
	json_object_put(o);
	o = js("{\"id\":21,\"genres\":[\"Romance\"],\"tags\":[{\"name\":"
	    "\"School\",\"rank\":90}],\"averageScore\":70}");
	recommend_pool_add(pool, o, 0, 0);
	json_object_put(o);
	p1 = recommend_profile_create(l1);
	p2 = recommend_profile_create(l2);
	memset(&q, 0, sizeof q);
	q.kind = RECOMMEND_TASTE;
	q.count = 10;
	q.profile = p1;
	a = recommend_rank(&q, pool);
	q.profile = p2;
	b = recommend_rank(&q, pool);
	ck_assert(!list_has(a, 10));
	ck_assert_uint_eq(json_object_array_length(a), 2);
	ck_assert_int_eq(item_id(a, 0), 20);
	ck_assert_int_eq(item_id(b, 0), 21);
	r = json_object_get_string(json_object_array_get_idx(
	    json_object_object_get(json_object_array_get_idx(a, 0), "reasons"),
	    0));
	ck_assert_str_eq(r, "fits genres you rate highly: Action");
	json_object_put(a);
	json_object_put(b);
	recommend_profile_free(p1);
	recommend_profile_free(p2);
	recommend_pool_free(pool);
	json_object_put(l1);
	json_object_put(l2);
}
END_TEST

START_TEST(test_trending_rank_names_the_searched_genres)
{
	struct recommend_media	*ref = media(REF);
	struct recommend_pool	*pool = recommend_pool_create();
	struct recommend_query	 q;
	struct json_object	*o, *out;
	const char		*genres[] = { "Fantasy", "Adventure" };

	o = js(pool_media[2]);
	recommend_pool_add(pool, o, 0, 1);
	json_object_put(o);
	o = js(pool_media[1]);
	recommend_pool_add(pool, o, 0, 2);
	json_object_put(o);
	memset(&q, 0, sizeof q);
	q.kind = RECOMMEND_TRENDING;
	q.reference = ref;
	q.count = 5;
	q.genres = genres;
	q.ngenres = 2;
	out = recommend_rank(&q, pool);
	ck_assert_uint_eq(json_object_array_length(out), 2);
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(
	    json_object_object_get(json_object_array_get_idx(out, 0),
	    "reasons"), 0)), item_id(out, 0) == 102 ?
	    "trending now in Fantasy, Adventure" : "trending now in Adventure");
	json_object_put(out);
	recommend_pool_free(pool);
	recommend_media_free(ref);
}
END_TEST

START_TEST(test_searches_ask_for_genres_then_the_top_cited_tag)
{
	struct recommend_media	*m = media(REF), *bare = media("{\"id\":9}");
	struct recommend_search	 s[3];

	ck_assert_uint_eq(recommend_searches(m, s, 3), 2);
	ck_assert_uint_eq(s[0].ngenres, 2);
	ck_assert_str_eq(s[0].genres[0], "Fantasy");
	ck_assert_str_eq(s[0].genres[1], "Adventure");
	ck_assert_uint_eq(s[0].ntags, 0);
	ck_assert_uint_eq(s[1].ngenres, 0);
	ck_assert_uint_eq(s[1].ntags, 1);
	ck_assert_str_eq(s[1].tags[0], "Magic");
	ck_assert_uint_eq(recommend_searches(m, s, 1), 1);
	ck_assert_uint_eq(recommend_searches(bare, s, 3), 0);
	recommend_media_free(m);
	recommend_media_free(bare);
}
END_TEST

START_TEST(test_genre_diversity_of_lists)
{
	struct json_object	*same, *mixed;

	same = js("[{\"anime\":{\"genres\":[\"Action\"]}},"
	    "{\"anime\":{\"genres\":[\"Action\"]}}]");
	mixed = js("[{\"anime\":{\"genres\":[\"Action\",\"Drama\"]}},"
	    "{\"anime\":{\"genres\":[\"Drama\",\"Comedy\"]}},"
	    "{\"anime\":{\"genres\":[\"Sports\"]}}]");
	ck_assert_double_eq(recommend_genre_diversity(same), 0.0);
	/* pairs: 1/3, 0, 0 shared → 1 - 1/9 */
	ck_assert_double_eq_tol(recommend_genre_diversity(mixed), 8.0 / 9.0,
	    1e-12);
	json_object_put(same);
	json_object_put(mixed);
}
END_TEST

static Suite *
recommend_suite(void)
{
	Suite	*s = suite_create("recommend");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_similarity_of_identical_media_is_one);
	tcase_add_test(tc, test_similarity_of_disjoint_media_is_zero);
	tcase_add_test(tc, test_similarity_of_media_with_nothing_known_is_zero);
	tcase_add_test(tc, test_similarity_grows_with_each_shared_tag);
	tcase_add_test(tc, test_similarity_weights_tags_by_rank);
	tcase_add_test(tc, test_similarity_ignores_producers_that_are_not_studios);
	tcase_add_test(tc,
	    test_similarity_is_symmetric_and_bounded_on_the_catalogue);
	tcase_add_test(tc, test_franchise_from_relations_either_way);
	tcase_add_loop_test(tc, test_franchise_from_title_stems, 0,
	    nitems(franchise_titles));
	tcase_add_loop_test(tc,
	    test_best_title_match_prefers_exact_then_quality_then_popularity,
	    0, nitems(title_matches));
	tcase_add_test(tc, test_profile_changes_when_scores_change);
	tcase_add_test(tc,
	    test_profile_counts_dropped_against_and_planning_a_little);
	tcase_add_test(tc, test_profile_json_lists_strongest_first);
	tcase_add_test(tc,
	    test_rank_filters_reference_exclusions_adult_and_franchise);
	tcase_add_test(tc, test_rank_blends_community_ratings);
	tcase_add_test(tc, test_reasons_match_the_data);
	tcase_add_test(tc, test_rank_is_deterministic);
	tcase_add_test(tc, test_taste_rank_leaves_out_the_list_and_follows_scores);
	tcase_add_test(tc, test_trending_rank_names_the_searched_genres);
	tcase_add_test(tc, test_searches_ask_for_genres_then_the_top_cited_tag);
	tcase_add_test(tc, test_genre_diversity_of_lists);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(recommend_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
