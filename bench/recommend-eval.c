/* recommend-eval.c: offline evaluation of the content recommender and of pick_from_my_list on the sample catalogue against popularity and random baselines. */
#include "autoconf.h"

#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "recommend.h"
#include "tool.h"
#include "tools/tools.h"
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

/*
 * pick_from_my_list: pseudo-users of the catalogue. Each likes
 * EVAL_PICK_FRANCHISES franchises (all but one title of each COMPLETED and
 * scored high; the one held out), disliked EVAL_PICK_DISLIKED random titles
 * (scored low), and has a PLANNING list of the held-out titles among
 * EVAL_PICK_DISTRACTORS random titles of none of those franchises.
 */
#define EVAL_PICK_FRANCHISES		4
#define EVAL_PICK_DISLIKED		4
#define EVAL_PICK_DISTRACTORS	36
/* Scores (of 100) of liked and disliked titles: from these, SPREAD up. */
#define EVAL_PICK_LIKED		75
#define EVAL_PICK_DISLIKED_SCORE	30
#define EVAL_PICK_SPREAD	20
#define EVAL_PICK_USERS		40	/* per seed */
#define EVAL_PICK_SEEDS		5
#define EVAL_PICK_K			5	/* hit@k */
#define EVAL_PICK_NDCG		10
/* The sample user: the share of their planned titles held out. */
#define EVAL_PICK_HOLDOUT_PCT	20
#define EVAL_PICK_MAX_CAND		(EVAL_PICK_DISTRACTORS + 64)
#define EVAL_PICK_LIST_FILE	\
	"seanime_MediaListCollection_BoilerplateAnimeCollection.json"

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

/* ------------------------------------------------- pick_from_my_list */

/* One ordering's measures, summed over users (per seed) and over seeds. */
struct eval_pick_measure {
	double	hit;	/* held-out titles in the top EVAL_PICK_K, share */
	double	ndcg;	/* NDCG@EVAL_PICK_NDCG, binary relevance */
	double	rank;	/* mean rank of a held-out title (1 = first) */
};

struct eval_pick_stat {
	struct eval_pick_measure	seed;	/* this seed's sum */
	struct eval_pick_measure	sum, sq; /* of the seed means */
};

/* One user's candidates (media borrowed), held[i] if held out. */
struct eval_pick_case {
	struct json_object	*cand[EVAL_PICK_MAX_CAND];
	bool	held[EVAL_PICK_MAX_CAND];
	size_t	n;
	size_t	nheld;
};

static size_t
eval_rand_below(struct eval *ev, size_t n)
{
	return ((size_t)(eval_rand(ev) % n));
}

/* Measures of an ordering of pc's candidates (positions into cand). */
static void
eval_pick_measure(const struct eval_pick_case *pc, const size_t *order,
    struct eval_pick_measure *m)
{
	double	dcg = 0, ideal = 0, ranks = 0;
	size_t	i, hits = 0;

	for (i = 0; i < pc->n; i++) {
		if (!pc->held[order[i]])
			continue;
		ranks += (double)(i + 1);
		if (i < EVAL_PICK_K)
			hits++;
		if (i < EVAL_PICK_NDCG)
			dcg += 1.0 / log2((double)i + 2);
	}
	for (i = 0; i < pc->nheld && i < EVAL_PICK_NDCG; i++)
		ideal += 1.0 / log2((double)i + 2);
	m->hit += (double)hits / (double)(pc->nheld < EVAL_PICK_K ? pc->nheld :
	    EVAL_PICK_K);
	m->ndcg += ideal > 0 ? dcg / ideal : 0;
	m->rank += ranks / (double)pc->nheld;
}


/* The orderings of a case: the tool's, by popularity, at random. */
static void
eval_pick_orders(struct eval *ev, const struct eval_pick_case *pc,
    struct json_object *picks, struct eval_pick_stat st[3])
{
	size_t	order[EVAL_PICK_MAX_CAND], n = 0, i, j, t;
	bool	used[EVAL_PICK_MAX_CAND];
	int64_t	id;

	/* the tool: its picks by id, then any it left out, in list order */
	memset(used, 0, sizeof used);
	for (i = 0; i < json_object_array_length(picks); i++) {
		id = eval_int(eval_get(json_object_array_get_idx(picks, i),
		    "anime"), "id");
		for (j = 0; j < pc->n; j++) {
			if (!used[j] && eval_int(pc->cand[j], "id") == id) {
				used[j] = true;
				order[n++] = j;
				break;
			}
		}
	}
	for (j = 0; j < pc->n; j++) {
		if (!used[j])
			order[n++] = j;
	}
	eval_pick_measure(pc, order, &st[0].seed);

	/* popularity, most popular first (insertion sort: n is small) */
	for (i = 0; i < pc->n; i++) {
		for (j = i; j > 0 && eval_int(pc->cand[order[j - 1]],
		    "popularity") < eval_int(pc->cand[i], "popularity"); j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	eval_pick_measure(pc, order, &st[1].seed);

	for (i = 0; i < pc->n; i++)
		order[i] = i;
	for (i = pc->n - 1; i > 0; i--) {
		j = eval_rand_below(ev, i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	eval_pick_measure(pc, order, &st[2].seed);
}

static struct json_object *
eval_pick_entry(struct json_object *media, const char *status, int score)
{
	struct json_object	*e = json_object_new_object();

	json_object_object_add(e, "status", json_object_new_string(status));
	json_object_object_add(e, "score", json_object_new_int(score));
	json_object_object_add(e, "progress", json_object_new_int(0));
	json_object_object_add(e, "media", json_object_get(media));
	return (e);
}

static struct json_object *
eval_pick_list(struct json_object *lists, const char *status)
{
	struct json_object	*l = json_object_new_object();

	json_object_object_add(l, "status", json_object_new_string(status));
	json_object_object_add(l, "entries", json_object_new_array());
	json_object_array_add(lists, l);
	return (eval_get(l, "entries"));
}

/* Can catalogue title i be on a pseudo-user's list at all? */
static bool
eval_pick_usable(struct eval *ev, size_t i)
{
	struct json_object	*o = json_object_array_get_idx(ev->all, i);
	const char		*st;

	st = json_object_get_string(eval_get(o, "status"));
	return (!eval_adult(ev, i) && ev->m[i] != NULL &&
	    (st == NULL || strcmp(st, "NOT_YET_RELEASED") != 0));
}

/* Mark i and its franchise taken. */
static void
eval_pick_take(struct eval *ev, unsigned char *taken, size_t i)
{
	size_t	j;

	taken[i] = 1;
	for (j = 0; j < ev->nsib[i]; j++)
		taken[ev->sib[i][j]] = 1;
}

/* A random usable title not taken; ev->npop when there is none. */
static size_t
eval_pick_random_free(struct eval *ev, const unsigned char *taken)
{
	size_t	tries, i;

	for (tries = 0; tries < 10000; tries++) {
		i = ev->by_pop[eval_rand_below(ev, ev->npop)];
		if (!taken[i] && eval_pick_usable(ev, i))
			return (i);
	}
	return (ev->n);
}

/* One pseudo-user of the catalogue, ranked three ways into st. */
static void
eval_pick_pseudo_user(struct eval *ev, unsigned char *taken,
    struct eval_pick_stat st[3])
{
	struct eval_pick_case	 pc;
	struct pick_query	 q = { "PLANNING", NULL, 0,
				    EVAL_PICK_MAX_CAND };
	struct json_object	*coll, *lists, *done, *plan, *picks, *media;
	size_t			 f, i, r, h, fr[64], nfr, tries;
	bool			 held;

	memset(&pc, 0, sizeof pc);
	memset(taken, 0, ev->n);
	coll = json_object_new_object();
	lists = json_object_new_array();
	json_object_object_add(coll, "lists", lists);
	done = eval_pick_list(lists, "COMPLETED");
	plan = eval_pick_list(lists, "PLANNING");
	for (f = 0, tries = 0; f < EVAL_PICK_FRANCHISES && tries < 10000;
	    tries++) {
		r = ev->by_pop[eval_rand_below(ev, ev->npop)];
		if (taken[r] || !eval_pick_usable(ev, r) || ev->nsib[r] < 2)
			continue;
		fr[0] = r;
		for (i = 0, nfr = 1; i < ev->nsib[r] && nfr < nitems(fr); i++) {
			if (eval_pick_usable(ev, ev->sib[r][i]) &&
			    !taken[ev->sib[r][i]])
				fr[nfr++] = ev->sib[r][i];
		}
		if (nfr < 3)
			continue;
		for (i = 0; i < nfr; i++)
			eval_pick_take(ev, taken, fr[i]);
		h = eval_rand_below(ev, nfr);
		for (i = 0; i < nfr; i++) {
			if (i == h)
				continue;
			json_object_array_add(done, eval_pick_entry(
			    json_object_array_get_idx(ev->all, fr[i]),
			    "COMPLETED", EVAL_PICK_LIKED + (int)eval_rand_below(ev,
			    EVAL_PICK_SPREAD + 1)));
		}
		pc.cand[pc.n] = json_object_array_get_idx(ev->all, fr[h]);
		pc.held[pc.n++] = true;
		pc.nheld++;
		f++;
	}
	for (i = 0; i < EVAL_PICK_DISLIKED; i++) {
		if ((r = eval_pick_random_free(ev, taken)) == ev->n)
			break;
		eval_pick_take(ev, taken, r);
		json_object_array_add(done, eval_pick_entry(
		    json_object_array_get_idx(ev->all, r), "COMPLETED",
		    EVAL_PICK_DISLIKED_SCORE + (int)eval_rand_below(ev,
		    EVAL_PICK_SPREAD + 1)));
	}
	for (i = 0; i < EVAL_PICK_DISTRACTORS; i++) {
		if ((r = eval_pick_random_free(ev, taken)) == ev->n)
			break;
		eval_pick_take(ev, taken, r);
		pc.cand[pc.n++] = json_object_array_get_idx(ev->all, r);
	}
	/* the planning list in a random order: the list order says nothing */
	for (i = pc.n - 1; i > 0; i--) {
		f = eval_rand_below(ev, i + 1);
		media = pc.cand[i];
		held = pc.held[i];
		pc.cand[i] = pc.cand[f];
		pc.held[i] = pc.held[f];
		pc.cand[f] = media;
		pc.held[f] = held;
	}
	for (i = 0; i < pc.n; i++)
		json_object_array_add(plan, eval_pick_entry(pc.cand[i],
		    "PLANNING", 0));
	picks = pick_rank(coll, &q);
	eval_pick_orders(ev, &pc, picks, st);
	json_object_put(picks);
	json_object_put(coll);
}

static void
eval_pick_seed_done(struct eval_pick_stat st[3], double users)
{
	struct eval_pick_measure	*m;
	size_t			 k;

	for (k = 0; k < 3; k++) {
		m = &st[k].seed;
		m->hit /= users;
		m->ndcg /= users;
		m->rank /= users;
		st[k].sum.hit += m->hit;
		st[k].sum.ndcg += m->ndcg;
		st[k].sum.rank += m->rank;
		st[k].sq.hit += m->hit * m->hit;
		st[k].sq.ndcg += m->ndcg * m->ndcg;
		st[k].sq.rank += m->rank * m->rank;
		memset(m, 0, sizeof *m);
	}
}

static double
eval_pick_sd(double sum, double sq, double n)
{
	double	v = sq / n - (sum / n) * (sum / n);

	return (v > 0 ? sqrt(v) : 0);
}

static void
eval_pick_table(const char *title, struct eval_pick_stat st[3], double seeds)
{
	static const char *const names[3] = {
		"pick_from_my_list (pick_rank)", "most popular first",
		"random order" };
	size_t	k;

	printf("\n%s\n\n| ordering | hit@%d | NDCG@%d | mean rank of a "
	    "held-out title |\n|---|---|---|---|\n", title, EVAL_PICK_K,
	    EVAL_PICK_NDCG);
	for (k = 0; k < 3; k++)
		printf("| %s | %.3f ± %.3f | %.3f ± %.3f | %.1f ± %.1f |\n",
		    names[k], st[k].sum.hit / seeds,
		    eval_pick_sd(st[k].sum.hit, st[k].sq.hit, seeds),
		    st[k].sum.ndcg / seeds,
		    eval_pick_sd(st[k].sum.ndcg, st[k].sq.ndcg, seeds),
		    st[k].sum.rank / seeds,
		    eval_pick_sd(st[k].sum.rank, st[k].sq.rank, seeds));
}

/* The catalogue index of a media id; ev->n when it is not there. */
static size_t
eval_pick_index_of(struct eval *ev, int64_t id)
{
	size_t	i;

	for (i = 0; i < ev->n; i++) {
		if (eval_int(json_object_array_get_idx(ev->all, i), "id") == id)
			return (i);
	}
	return (ev->n);
}

/*
 * The sample user's list: every title PLANNING and unscored, so the
 * titles they chose to plan are the only sign of taste. A share of them
 * is held out and put, PAUSED (no weight in the profile), among random
 * catalogue titles; the rest stay PLANNING and make the profile. Titles
 * of the list missing from the catalogue keep the list file's media
 * (no genres, tags or studios), as the sample upstream serves them.
 */
static size_t
eval_pick_sample_user(struct eval *ev, struct json_object *entries,
    unsigned char *taken, struct eval_pick_stat st[3], size_t *featured)
{
	struct eval_pick_case	 pc;
	struct pick_query	 q = { "PAUSED", NULL, 0, EVAL_PICK_MAX_CAND };
	struct json_object	*coll, *lists, *plan, *paused, *picks, *media;
	size_t			 n = json_object_array_length(entries), i, j, r;
	size_t			 perm[256], idx[256], nhold;
	bool			 held;

	memset(&pc, 0, sizeof pc);
	memset(taken, 0, ev->n);
	coll = json_object_new_object();
	lists = json_object_new_array();
	json_object_object_add(coll, "lists", lists);
	plan = eval_pick_list(lists, "PLANNING");
	paused = eval_pick_list(lists, "PAUSED");
	n = n < nitems(perm) ? n : nitems(perm);
	nhold = (n * EVAL_PICK_HOLDOUT_PCT + 50) / 100;
	*featured = 0;
	for (i = 0; i < n; i++) {
		perm[i] = i;
		media = eval_get(json_object_array_get_idx(entries, i),
		    "media");
		idx[i] = eval_pick_index_of(ev, eval_int(media, "id"));
		if (idx[i] < ev->n) {
			eval_pick_take(ev, taken, idx[i]);
			(*featured)++;
		}
	}
	for (i = n - 1; i > 0; i--) {
		j = eval_rand_below(ev, i + 1);
		r = perm[i];
		perm[i] = perm[j];
		perm[j] = r;
	}
	for (i = 0; i < n; i++) {
		media = idx[perm[i]] < ev->n ? json_object_array_get_idx(
		    ev->all, idx[perm[i]]) : eval_get(json_object_array_get_idx(
		    entries, perm[i]), "media");
		held = i < nhold;
		json_object_array_add(held ? paused : plan,
		    eval_pick_entry(media, held ? "PAUSED" : "PLANNING", 0));
		if (!held)
			continue;
		pc.cand[pc.n] = media;
		pc.held[pc.n++] = true;
		pc.nheld++;
	}
	for (i = 0; i < EVAL_PICK_DISTRACTORS; i++) {
		if ((r = eval_pick_random_free(ev, taken)) == ev->n)
			break;
		eval_pick_take(ev, taken, r);
		pc.cand[pc.n++] = json_object_array_get_idx(ev->all, r);
		json_object_array_add(paused, eval_pick_entry(pc.cand[pc.n - 1],
		    "PAUSED", 0));
	}
	picks = pick_rank(coll, &q);
	eval_pick_orders(ev, &pc, picks, st);
	json_object_put(picks);
	json_object_put(coll);
	return (pc.nheld);
}

/* The sample user's planned titles, from the list file beside path. */
static struct json_object *
eval_pick_sample_entries(const char *path)
{
	struct json_object	*doc, *lists, *l, *out = NULL;
	char			*dir, *slash, *file;
	size_t			 i;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	xasprintf(&file, "%s/%s", slash != NULL ? dir : ".",
	    EVAL_PICK_LIST_FILE);
	if ((doc = json_object_from_file(file)) == NULL) {
		fprintf(stderr, "recommend-eval: cannot read %s\n", file);
		goto out;
	}
	lists = eval_get(eval_get(doc, "MediaListCollection"), "lists");
	for (i = 0; lists != NULL && i < json_object_array_length(lists);
	    i++) {
		l = json_object_array_get_idx(lists, i);
		if (strcmp(json_object_get_string(eval_get(l, "status")),
		    "PLANNING") == 0 && eval_get(l, "entries") != NULL)
			out = json_object_get(eval_get(l, "entries"));
	}
	json_object_put(doc);
out:
	free(file);
	free(dir);
	return (out);
}

/* Both pick_from_my_list evaluations, EVAL_PICK_SEEDS seeds from seed. */
static void
eval_picks(struct eval *ev, const char *path, long long seed)
{
	struct eval_pick_stat	 pseudo[3], sample[3];
	struct json_object	*entries = eval_pick_sample_entries(path);
	unsigned char		*taken = xcalloc(ev->n, 1);
	size_t			 s, u, featured = 0, nheld = 0;
	char			*title;

	memset(pseudo, 0, sizeof pseudo);
	memset(sample, 0, sizeof sample);
	for (s = 0; s < EVAL_PICK_SEEDS; s++) {
		ev->rng = (uint64_t)seed + s;
		for (u = 0; u < EVAL_PICK_USERS; u++)
			eval_pick_pseudo_user(ev, taken, pseudo);
		eval_pick_seed_done(pseudo, EVAL_PICK_USERS);
		if (entries == NULL)
			continue;
		for (u = 0; u < EVAL_PICK_USERS; u++)
			nheld = eval_pick_sample_user(ev, entries, taken,
			    sample, &featured);
		eval_pick_seed_done(sample, EVAL_PICK_USERS);
	}
	printf("\n## pick_from_my_list\n\nSeeds %lld to %lld, %d users "
	    "each; ± is the standard deviation over seeds of the seed "
	    "means.\n", seed, seed + EVAL_PICK_SEEDS - 1, EVAL_PICK_USERS);
	xasprintf(&title, "Pseudo-users of the catalogue: %d liked franchises "
	    "(all but one title COMPLETED, scored %d-%d), %d disliked titles "
	    "(scored %d-%d); PLANNING list: the %d held-out titles among %d "
	    "random titles of other franchises.", EVAL_PICK_FRANCHISES,
	    EVAL_PICK_LIKED, EVAL_PICK_LIKED + EVAL_PICK_SPREAD,
	    EVAL_PICK_DISLIKED, EVAL_PICK_DISLIKED_SCORE,
	    EVAL_PICK_DISLIKED_SCORE + EVAL_PICK_SPREAD, EVAL_PICK_FRANCHISES,
	    EVAL_PICK_DISTRACTORS);
	eval_pick_table(title, pseudo, EVAL_PICK_SEEDS);
	free(title);
	if (entries != NULL) {
		printf("\nThe sample user: %zu planned titles, unscored, %zu of "
		    "them in the catalogue (the others have no genres, tags, "
		    "studios, score or popularity).\n",
		    json_object_array_length(entries), featured);
		xasprintf(&title, "The sample user: a random %d%% of the "
		    "planned titles held out among %d random catalogue titles "
		    "(the candidates PAUSED); the profile from the rest.",
		    EVAL_PICK_HOLDOUT_PCT, EVAL_PICK_DISTRACTORS);
		eval_pick_table(title, sample, EVAL_PICK_SEEDS);
		free(title);
		printf("(%zu held-out titles per draw.)\n", nheld);
	}
	json_object_put(entries);
	free(taken);
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
	eval_picks(&ev, path, seed);
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
