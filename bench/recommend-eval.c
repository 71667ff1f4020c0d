/* recommend-eval.c: offline evaluation of the content recommender on the sample catalogue against popularity and random baselines. */
#include "autoconf.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "recommend.h"
#include "util.h"

/*
 * Ground truth: two titles are of one franchise when they share at least
 * two main characters (mainCharacterNames), not counting names found in
 * more than GENERIC titles ("Narrator"): the rule the sample upstream uses
 * for its relations, so the reference's relations here are the ones the
 * service would see. Community recommendations are off: only the content
 * model is judged.
 */
#define EVAL_GENERIC	10
#define EVAL_TOP	10
#define EVAL_PAGE	50	/* one SearchMedia page */

struct eval {
	struct json_object	 *all;		/* the media array */
	size_t			  n;
	struct recommend_media	**m;
	size_t			**sib;		/* sibling indexes */
	size_t			 *nsib;
	size_t			 *by_pop;	/* non-adult, most popular first */
	size_t			  npop;
	uint64_t		  rng;
};

struct eval_name {
	const char	*name;
	size_t		 title;
};

static int
eval_name_cmp(const void *pa, const void *pb)
{
	const struct eval_name	*a = pa, *b = pb;
	int			 c = strcmp(a->name, b->name);

	if (c != 0)
		return (c);
	return (a->title < b->title ? -1 : a->title > b->title);
}

static struct json_object *
eval_get(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return (NULL);
	return (v);
}

static int64_t
eval_int(struct json_object *o, const char *key)
{
	struct json_object	*v = eval_get(o, key);

	return (v != NULL && json_object_is_type(v, json_type_int) ?
	    json_object_get_int64(v) : 0);
}

static bool
eval_adult(struct eval *ev, size_t i)
{
	struct json_object	*v = eval_get(json_object_array_get_idx(ev->all,
				    i), "isAdult");

	return (v != NULL && json_object_get_boolean(v));
}

/* Siblings from shared main characters; relations added to each media. */
static void
eval_siblings(struct eval *ev)
{
	struct eval_name	*names = NULL;
	struct json_object	*o, *arr, *edges, *edge, *node, *rel;
	unsigned char		*shared;
	size_t			 nn = 0, i, j, k, a, b, start;

	for (i = 0; i < ev->n; i++) {
		o = json_object_array_get_idx(ev->all, i);
		arr = eval_get(o, "mainCharacterNames");
		for (j = 0; arr != NULL && j < json_object_array_length(arr);
		    j++) {
			names = xrealloc(names, (nn + 1) * sizeof *names);
			names[nn].name = json_object_get_string(
			    json_object_array_get_idx(arr, j));
			names[nn].title = i;
			nn++;
		}
	}
	qsort(names, nn, sizeof *names, eval_name_cmp);
	shared = xcalloc(ev->n * ev->n, 1);
	for (start = 0; start < nn; start = k) {
		for (k = start + 1; k < nn &&
		    strcmp(names[k].name, names[start].name) == 0; k++)
			;
		/* distinct titles of this name */
		for (a = start, j = 0; a < k; a++) {
			if (a > start && names[a].title == names[a - 1].title)
				continue;
			names[start + j++].title = names[a].title;
		}
		if (j < 2 || j > EVAL_GENERIC)
			continue;
		for (a = 0; a < j; a++) {
			for (b = 0; b < j; b++) {
				if (a != b && shared[names[start + a].title *
				    ev->n + names[start + b].title] < 255)
					shared[names[start + a].title * ev->n +
					    names[start + b].title]++;
			}
		}
	}
	ev->sib = xcalloc(ev->n, sizeof *ev->sib);
	ev->nsib = xcalloc(ev->n, sizeof *ev->nsib);
	for (i = 0; i < ev->n; i++) {
		edges = json_object_new_array();
		for (j = 0; j < ev->n; j++) {
			if (shared[i * ev->n + j] < 2)
				continue;
			ev->sib[i] = xrealloc(ev->sib[i],
			    (ev->nsib[i] + 1) * sizeof **ev->sib);
			ev->sib[i][ev->nsib[i]++] = j;
			edge = json_object_new_object();
			node = json_object_new_object();
			json_object_object_add(node, "id", json_object_new_int64(
			    eval_int(json_object_array_get_idx(ev->all, j),
			    "id")));
			json_object_object_add(edge, "relationType",
			    json_object_new_string("OTHER"));
			json_object_object_add(edge, "node", node);
			json_object_array_add(edges, edge);
		}
		rel = json_object_new_object();
		json_object_object_add(rel, "edges", edges);
		json_object_object_add(json_object_array_get_idx(ev->all, i),
		    "relations", rel);
	}
	free(shared);
	free(names);
}

static struct eval *ev_sort_ctx;

static int
eval_pop_cmp(const void *pa, const void *pb)
{
	size_t		 a = *(const size_t *)pa, b = *(const size_t *)pb;
	int64_t		 x, y;

	x = eval_int(json_object_array_get_idx(ev_sort_ctx->all, a),
	    "popularity");
	y = eval_int(json_object_array_get_idx(ev_sort_ctx->all, b),
	    "popularity");
	if (x != y)
		return (x > y ? -1 : 1);
	x = eval_int(json_object_array_get_idx(ev_sort_ctx->all, a), "id");
	y = eval_int(json_object_array_get_idx(ev_sort_ctx->all, b), "id");
	return (x < y ? -1 : x > y);
}

static bool
eval_is_sibling(struct eval *ev, size_t ref, int64_t id)
{
	size_t	i;

	for (i = 0; i < ev->nsib[ref]; i++) {
		if (eval_int(json_object_array_get_idx(ev->all, ev->sib[ref][i]),
		    "id") == id)
			return (true);
	}
	return (false);
}

/* Score a ranked list of ids: hit@10 and reciprocal rank of a sibling. */
struct eval_score {
	double	hits;
	double	rr;
	double	franchise;	/* results from the reference's franchise */
	double	results;
	double	diversity;
	double	lists;
};

static void
eval_judge(struct eval *ev, size_t ref, const int64_t *ids, size_t n,
    struct eval_score *s)
{
	size_t	i;

	for (i = 0; i < n && i < EVAL_TOP; i++) {
		if (eval_is_sibling(ev, ref, ids[i])) {
			s->hits += 1;
			s->rr += 1.0 / (double)(i + 1);
			return;
		}
	}
}

static size_t
eval_ids(struct json_object *list, int64_t *ids)
{
	size_t	i, n = json_object_array_length(list);

	for (i = 0; i < n; i++)
		ids[i] = eval_int(eval_get(json_object_array_get_idx(list, i),
		    "anime"), "id");
	return (n);
}

/* A list in recommend_rank's shape from catalogue indexes (for diversity). */
static struct json_object *
eval_list(struct eval *ev, const size_t *idx, size_t n)
{
	struct json_object	*list = json_object_new_array(), *item;
	size_t			 i;

	for (i = 0; i < n; i++) {
		item = json_object_new_object();
		json_object_object_add(item, "anime", json_object_get(
		    json_object_array_get_idx(ev->all, idx[i])));
		json_object_array_add(list, item);
	}
	return (list);
}

static void
eval_franchise_share(struct eval *ev, size_t ref, struct json_object *list,
    struct eval_score *s)
{
	int64_t	ids[EVAL_TOP];
	size_t	i, n = eval_ids(list, ids);

	for (i = 0; i < n; i++)
		s->franchise += eval_is_sibling(ev, ref, ids[i]);
	s->results += (double)n;
	s->diversity += recommend_genre_diversity(list);
	s->lists += 1;
}

static bool
eval_has(struct json_object *o, const char *key, const char *name)
{
	struct json_object	*arr = eval_get(o, key), *el;
	size_t			 i;

	for (i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
		el = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(el, json_type_string))
			el = eval_get(el, "name");
		if (el != NULL && strcasecmp(json_object_get_string(el), name)
		    == 0)
			return (true);
	}
	return (false);
}

/*
 * The tool's candidate pool for a reference, simulated on the catalogue:
 * its searches (every genre and tag required, non-adult, most popular
 * first, one page of EVAL_PAGE each).
 */
static struct recommend_pool *
eval_tool_pool(struct eval *ev, size_t ref, size_t searches)
{
	struct recommend_search	 s[4];
	struct recommend_pool	*pool = recommend_pool_create();
	struct json_object	*o;
	size_t			 ns, k, i, j, taken;
	bool			 ok;

	ns = recommend_searches(ev->m[ref], s, searches);
	for (k = 0; k < ns; k++) {
		taken = 0;
		for (i = 0; i < ev->npop && taken < EVAL_PAGE; i++) {
			o = json_object_array_get_idx(ev->all, ev->by_pop[i]);
			ok = true;
			for (j = 0; j < s[k].ngenres && ok; j++)
				ok = eval_has(o, "genres", s[k].genres[j]);
			for (j = 0; j < s[k].ntags && ok; j++)
				ok = eval_has(o, "tags", s[k].tags[j]);
			if (!ok)
				continue;
			recommend_pool_add(pool, o, 0, 0);
			taken++;
		}
	}
	return (pool);
}

/* splitmix64: a fixed, portable sequence for the random baseline. */
static uint64_t
eval_rand(struct eval *ev)
{
	uint64_t	z = (ev->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

static void
eval_row(const char *name, const struct eval_score *s, double refs)
{
	printf("| %s | %.3f | %.3f | %.3f |\n", name, s->hits / refs,
	    s->rr / refs, s->lists > 0 ? s->diversity / s->lists : 0);
}

static void
usage(void)
{
	fprintf(stderr, "usage: recommend-eval [--seed N] [FILE]\n"
	    "FILE defaults to $top_srcdir/tests/anilist-sample/data/"
	    "sample-media.json\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct eval		 ev;
	struct json_object	*doc, *out;
	struct recommend_pool	*all, *pool;
	struct recommend_query	 q;
	struct eval_score	 content, tool, tool1, popular, random, dflt,
				 related;
	const char		*top = getenv("top_srcdir");
	char			*path = NULL;
	int64_t			 ids[EVAL_TOP];
	size_t			 i, j, k, n, refs = 0, nonadult = 0, *perm, pick;
	size_t			 idx[EVAL_TOP];
	long long		 seed = 42;
	uint64_t		 t0 = util_mono_ms();

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < (size_t)argc) {
			if (!util_parse_ll(argv[++i], &seed))
				usage();
		} else if (argv[i][0] == '-')
			usage();
		else
			path = xstrdup(argv[i]);
	}
	if (path == NULL)
		xasprintf(&path, "%s/tests/anilist-sample/data/sample-media.json",
		    top != NULL ? top : ".");
	if ((doc = json_object_from_file(path)) == NULL) {
		fprintf(stderr, "recommend-eval: cannot read %s\n", path);
		free(path);
		return (1);
	}
	memset(&ev, 0, sizeof ev);
	ev.all = json_object_get(eval_get(doc, "media"));
	json_object_put(doc);
	if (ev.all == NULL || !json_object_is_type(ev.all, json_type_array)) {
		fprintf(stderr, "recommend-eval: %s has no media array\n", path);
		free(path);
		return (1);
	}
	ev.n = json_object_array_length(ev.all);
	ev.rng = (uint64_t)seed;
	eval_siblings(&ev);

	ev.m = xcalloc(ev.n, sizeof *ev.m);
	ev.by_pop = xcalloc(ev.n, sizeof *ev.by_pop);
	all = recommend_pool_create();
	for (i = 0; i < ev.n; i++) {
		ev.m[i] = recommend_media_create(
		    json_object_array_get_idx(ev.all, i));
		recommend_pool_add(all, json_object_array_get_idx(ev.all, i),
		    0, 0);
		if (!eval_adult(&ev, i))
			ev.by_pop[ev.npop++] = i;
	}
	ev_sort_ctx = &ev;
	qsort(ev.by_pop, ev.npop, sizeof *ev.by_pop, eval_pop_cmp);
	perm = xcalloc(ev.npop, sizeof *perm);

	memset(&content, 0, sizeof content);
	tool = tool1 = popular = random = dflt = related = content;
	memset(&q, 0, sizeof q);
	q.kind = RECOMMEND_SIMILAR;
	q.count = EVAL_TOP;
	for (i = 0; i < ev.n; i++) {
		if (eval_adult(&ev, i) || ev.m[i] == NULL)
			continue;
		nonadult++;
		q.reference = ev.m[i];

		/* default similar: franchise share and diversity */
		q.include_related = false;
		out = recommend_rank(&q, all);
		eval_franchise_share(&ev, i, out, &dflt);
		json_object_put(out);
		if (ev.nsib[i] == 0)
			continue;
		refs++;

		q.include_related = true;
		out = recommend_rank(&q, all);
		n = eval_ids(out, ids);
		eval_judge(&ev, i, ids, n, &content);
		eval_franchise_share(&ev, i, out, &related);
		content.diversity += recommend_genre_diversity(out);
		content.lists++;
		json_object_put(out);

		pool = eval_tool_pool(&ev, i, 2);
		out = recommend_rank(&q, pool);
		n = eval_ids(out, ids);
		eval_judge(&ev, i, ids, n, &tool);
		tool.diversity += recommend_genre_diversity(out);
		tool.lists++;
		json_object_put(out);
		recommend_pool_free(pool);

		pool = eval_tool_pool(&ev, i, 1);
		out = recommend_rank(&q, pool);
		n = eval_ids(out, ids);
		eval_judge(&ev, i, ids, n, &tool1);
		tool1.diversity += recommend_genre_diversity(out);
		tool1.lists++;
		json_object_put(out);
		recommend_pool_free(pool);

		for (j = 0, n = 0; j < ev.npop && n < EVAL_TOP; j++) {
			if (ev.by_pop[j] == i)
				continue;
			idx[n] = ev.by_pop[j];
			ids[n++] = eval_int(json_object_array_get_idx(ev.all,
			    ev.by_pop[j]), "id");
		}
		eval_judge(&ev, i, ids, n, &popular);
		out = eval_list(&ev, idx, n);
		popular.diversity += recommend_genre_diversity(out);
		popular.lists++;
		json_object_put(out);

		/* random: a partial Fisher-Yates shuffle of the others */
		for (j = 0, k = 0; j < ev.npop; j++) {
			if (ev.by_pop[j] != i)
				perm[k++] = ev.by_pop[j];
		}
		for (j = 0; j < EVAL_TOP && j < k; j++) {
			pick = j + (size_t)(eval_rand(&ev) % (k - j));
			idx[j] = perm[pick];
			perm[pick] = perm[j];
			perm[j] = idx[j];
			ids[j] = eval_int(json_object_array_get_idx(ev.all,
			    idx[j]), "id");
		}
		eval_judge(&ev, i, ids, j, &random);
		out = eval_list(&ev, idx, j);
		random.diversity += recommend_genre_diversity(out);
		random.lists++;
		json_object_put(out);
	}

	printf("Catalogue: %s: %zu titles, %zu not adult; %zu of these have "
	    "franchise siblings (>= 2 shared main characters).\n"
	    "Community recommendations off; adult titles left out; top %d; "
	    "random seed %lld.\n\n", path, ev.n, nonadult, refs, EVAL_TOP,
	    seed);
	printf("| ranking (include_related=true) | hit rate@10 | MRR@10 | "
	    "genre diversity |\n|---|---|---|---|\n");
	eval_row("content similarity, whole catalogue", &content, (double)refs);
	eval_row("content similarity, the tool's pool by id (2 searches)",
	    &tool, (double)refs);
	eval_row("content similarity, the tool's pool by title (1 search)",
	    &tool1, (double)refs);
	eval_row("most popular", &popular, (double)refs);
	eval_row("random", &random, (double)refs);
	printf("\n| default `similar` (include_related=false) | value |\n"
	    "|---|---|\n");
	printf("| lists (every non-adult title as reference) | %.0f |\n",
	    dflt.lists);
	printf("| results from the reference's own franchise | %.0f of %.0f "
	    "(%.3f) |\n", dflt.franchise, dflt.results,
	    dflt.results > 0 ? dflt.franchise / dflt.results : 0);
	printf("| same, with include_related=true (titles with siblings) | "
	    "%.0f of %.0f (%.3f) |\n", related.franchise, related.results,
	    related.results > 0 ? related.franchise / related.results : 0);
	printf("| genre diversity (1 - mean pairwise genre Jaccard) | %.3f |\n",
	    dflt.lists > 0 ? dflt.diversity / dflt.lists : 0);
	fprintf(stderr, "recommend-eval: %llu ms\n",
	    (unsigned long long)(util_mono_ms() - t0));

	for (i = 0; i < ev.n; i++) {
		recommend_media_free(ev.m[i]);
		free(ev.sib[i]);
	}
	free(ev.m);
	free(ev.sib);
	free(ev.nsib);
	free(ev.by_pop);
	free(perm);
	recommend_pool_free(all);
	json_object_put(ev.all);
	free(path);
	return (0);
}
