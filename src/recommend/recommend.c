/* recommend/recommend.c: content similarity, taste profiles, candidate ranking and reasons for recommendations. */
#include "autoconf.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "recommend.h"
#include "util.h"

/*
 * Every weight and constant of the model, in one place. The content
 * similarity components add up to 1; a component only counts when both media
 * have that data, and the result shrinks toward 0 as less of the model is
 * covered (coverage_floor at no coverage, 1 at full).
 */
static const struct {
	double	genres, tags, studios, format, source, era;
	double	coverage_floor;
	double	era_span;	/* years apart at which era similarity is 0 */
	double	family;		/* same format or source family, not equal */
	/* similar: content blended with community ratings */
	double	content, community;
	/* taste: fit to the profile blended with AniList's average score */
	double	fit, quality;
	/* trending: trend position blended with fit or similarity */
	double	trend;
	/* diversity: MMR penalty and how deep below count it looks */
	double	diversity;
	size_t	diversity_window;
	/* profile: the score pivot (a prior mean, shrunk to the user's own) */
	double	prior_pivot, prior_count, pivot_margin, score_scale, clip;
	double	completed, repeating, current, planning, paused, dropped;
	double	repeat_bonus;
	/* franchise by title needs this much genre overlap (or a studio) */
	double	franchise_genres;
	/* reasons: affinities below this are not called liked */
	double	liked;
	/* candidate searches: how many of the reference's genres to require */
	size_t	search_genres;
} recommend_w = {
	.genres = 0.30, .tags = 0.35, .studios = 0.10, .format = 0.10,
	.source = 0.07, .era = 0.08,
	.coverage_floor = 0.5,
	.era_span = 12.0,
	.family = 0.5,
	.content = 0.6, .community = 0.4,
	.fit = 0.85, .quality = 0.15,
	.trend = 0.5,
	.diversity = 0.1, .diversity_window = 3,
	.prior_pivot = 60.0, .prior_count = 3.0, .pivot_margin = 5.0,
	.score_scale = 20.0, .clip = 2.0,
	.completed = 0.5, .repeating = 1.0, .current = 0.4, .planning = 0.2,
	.paused = 0.0, .dropped = -1.0,
	.repeat_bonus = 0.25,
	.franchise_genres = 0.5,
	.liked = 0.05,
	.search_genres = 3,
};

/*
 * Tags that still count for similarity but are never cited to a person as a
 * reason ("shares Rape" is no way to recommend a show).
 */
static const char *const recommend_quiet_tags[] = {
	"Rape", "Sexual Abuse", "Incest", "Nudity", "Ero Guro",
	"Suicide", "Torture", "Self-Harm", "Prostitution", "Bondage",
	"Exhibitionism", "Masturbation", "Sex Toys", "Anal Sex", "Defloration",
};

/* Formats and sources that resemble each other (same family). */
static const char *const recommend_families[][4] = {
	{ "TV", "TV_SHORT", "ONA", NULL },
	{ "OVA", "SPECIAL", NULL, NULL },
	{ "LIGHT_NOVEL", "NOVEL", "WEB_NOVEL", NULL },
	{ "VIDEO_GAME", "VISUAL_NOVEL", "GAME", NULL },
	{ "MANGA", "DOUJINSHI", "COMIC", NULL },
};

/* One named feature with its weight (tag rank / 100, else 1). */
struct recommend_feat {
	char	*name;
	double	 w;
};

struct recommend_fset {
	struct recommend_feat	*v;
	size_t			 n;
};

struct recommend_media {
	struct json_object	*json;
	int64_t			 id;
	struct recommend_fset	 genres;
	struct recommend_fset	 tags;
	struct recommend_fset	 studios;
	char			*format;
	char			*source;
	int			 year;		/* 0: unknown */
	int			 popularity;
	int			 average_score;	/* -1: unknown */
	bool			 adult;
	const char		*title;		/* in json */
	char			**keys;		/* normalised titles */
	size_t			 nkeys;
	int64_t			*related;
	char			**related_type;
	size_t			 nrelated;
};

/* ---------------------------------------------------------------- json */

static struct json_object *
recommend_get(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return (NULL);
	if (!json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return (NULL);
	return (v);
}

static const char *
recommend_str(struct json_object *o, const char *key)
{
	struct json_object	*v = recommend_get(o, key);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

static bool
recommend_num(struct json_object *o, const char *key, double *out)
{
	struct json_object	*v = recommend_get(o, key);

	if (v == NULL || !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return (false);
	*out = json_object_get_double(v);
	return (true);
}

static bool
recommend_int(struct json_object *o, const char *key, int64_t *out)
{
	struct json_object	*v = recommend_get(o, key);

	if (v == NULL || !json_object_is_type(v, json_type_int))
		return (false);
	*out = json_object_get_int64(v);
	return (true);
}

static struct json_object *
recommend_array(struct json_object *o, const char *key)
{
	struct json_object	*v = recommend_get(o, key);

	if (v == NULL || !json_object_is_type(v, json_type_array))
		return (NULL);
	return (v);
}

/* ---------------------------------------------------------------- features */

static struct recommend_feat *
recommend_fset_find(const struct recommend_fset *s, const char *name)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		if (strcasecmp(s->v[i].name, name) == 0)
			return (&s->v[i]);
	}
	return (NULL);
}

/* Add a feature; a repeated name keeps the larger weight. */
static void
recommend_fset_add(struct recommend_fset *s, const char *name, double w)
{
	struct recommend_feat	*f;

	if (name == NULL || *name == '\0')
		return;
	if ((f = recommend_fset_find(s, name)) != NULL) {
		if (w > f->w)
			f->w = w;
		return;
	}
	s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	s->v[s->n].name = xstrdup(name);
	s->v[s->n].w = w;
	s->n++;
}

static void
recommend_fset_free(struct recommend_fset *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* Weighted Jaccard: sum of min weights over sum of max weights. */
static double
recommend_fset_jaccard(const struct recommend_fset *a,
    const struct recommend_fset *b)
{
	const struct recommend_feat	*f;
	double				 lo = 0, hi = 0;
	size_t				 i;

	for (i = 0; i < a->n; i++) {
		if ((f = recommend_fset_find(b, a->v[i].name)) != NULL) {
			lo += fmin(a->v[i].w, f->w);
			hi += fmax(a->v[i].w, f->w);
		} else
			hi += a->v[i].w;
	}
	for (i = 0; i < b->n; i++) {
		if (recommend_fset_find(a, b->v[i].name) == NULL)
			hi += b->v[i].w;
	}
	return (hi > 0 ? lo / hi : 0);
}

/*
 * A title for comparison: ASCII letters folded to lower case, other ASCII
 * punctuation to single spaces, UTF-8 left as it is. Caller frees.
 */
static char *
recommend_normalize(const char *s)
{
	struct buf	b;
	bool		space = false;
	unsigned char	c;

	buf_init(&b);
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c >= 0x80 || (c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			if (space && b.len > 0)
				buf_putc(&b, ' ');
			space = false;
			buf_putc(&b, (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' :
			    (char)c);
		} else
			space = true;
	}
	return (buf_detach(&b));
}

static void
recommend_add_key(char ***keys, size_t *n, const char *title)
{
	char	*k;
	size_t	 i;

	if (title == NULL)
		return;
	k = recommend_normalize(title);
	for (i = 0; i < *n; i++) {
		if (strcmp((*keys)[i], k) == 0)
			break;
	}
	if (*k == '\0' || i < *n) {
		free(k);
		return;
	}
	*keys = xrealloc(*keys, (*n + 1) * sizeof **keys);
	(*keys)[(*n)++] = k;
}

static void
recommend_read_studios(struct recommend_media *m, struct json_object *o)
{
	struct json_object	*nodes, *node, *flag;
	size_t			 i, n;
	bool			 flagged = false;

	nodes = recommend_array(recommend_get(o, "studios"), "nodes");
	n = nodes != NULL ? json_object_array_length(nodes) : 0;
	for (i = 0; i < n; i++) {
		node = json_object_array_get_idx(nodes, i);
		if ((flag = recommend_get(node, "isAnimationStudio")) != NULL &&
		    json_object_is_type(flag, json_type_boolean))
			flagged = true;
	}
	/*
	 * Animation studios only; when no node says whether it is one (an
	 * older selection), every main studio counts.
	 */
	for (i = 0; i < n; i++) {
		node = json_object_array_get_idx(nodes, i);
		flag = recommend_get(node, "isAnimationStudio");
		if (flagged && (flag == NULL || !json_object_get_boolean(flag)))
			continue;
		recommend_fset_add(&m->studios, recommend_str(node, "name"), 1);
	}
}

static void
recommend_read_relations(struct recommend_media *m, struct json_object *o)
{
	struct json_object	*rel, *edges, *edge, *node;
	const char		*type;
	int64_t			 id;
	size_t			 i, n;

	rel = recommend_get(o, "relations");
	edges = recommend_array(rel, "edges");
	n = edges != NULL ? json_object_array_length(edges) : 0;
	for (i = 0; i < n; i++) {
		edge = json_object_array_get_idx(edges, i);
		node = recommend_get(edge, "node");
		if (!recommend_int(node, "id", &id))
			continue;
		type = recommend_str(edge, "relationType");
		m->related = xrealloc(m->related,
		    (m->nrelated + 1) * sizeof *m->related);
		m->related_type = xrealloc(m->related_type,
		    (m->nrelated + 1) * sizeof *m->related_type);
		m->related[m->nrelated] = id;
		m->related_type[m->nrelated] = xstrdup(type != NULL ? type :
		    "OTHER");
		m->nrelated++;
	}
}

struct recommend_media *
recommend_media_create(struct json_object *o)
{
	struct recommend_media	*m;
	struct json_object	*arr, *el, *title;
	int64_t			 id, v;
	double			 rank;
	size_t			 i, n;
	const char		*s;

	if (!recommend_int(o, "id", &id))
		return (NULL);
	m = xcalloc(1, sizeof *m);
	m->json = json_object_get(o);
	m->id = id;
	m->average_score = -1;

	arr = recommend_array(o, "genres");
	n = arr != NULL ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		el = json_object_array_get_idx(arr, i);
		if (json_object_is_type(el, json_type_string))
			recommend_fset_add(&m->genres,
			    json_object_get_string(el), 1);
	}
	arr = recommend_array(o, "tags");
	n = arr != NULL ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		el = json_object_array_get_idx(arr, i);
		if (!recommend_num(el, "rank", &rank))
			rank = 100;
		recommend_fset_add(&m->tags, recommend_str(el, "name"),
		    fmin(100, fmax(1, rank)) / 100);
	}
	recommend_read_studios(m, o);
	if ((s = recommend_str(o, "format")) != NULL)
		m->format = xstrdup(s);
	if ((s = recommend_str(o, "source")) != NULL)
		m->source = xstrdup(s);
	if (recommend_int(o, "seasonYear", &v) ||
	    recommend_int(recommend_get(o, "startDate"), "year", &v))
		m->year = (int)v;
	if (recommend_int(o, "popularity", &v))
		m->popularity = (int)v;
	if (recommend_int(o, "averageScore", &v))
		m->average_score = (int)v;
	el = recommend_get(o, "isAdult");
	m->adult = el != NULL && json_object_get_boolean(el);

	title = recommend_get(o, "title");
	if ((m->title = recommend_str(title, "userPreferred")) == NULL &&
	    (m->title = recommend_str(title, "romaji")) == NULL &&
	    (m->title = recommend_str(title, "english")) == NULL)
		m->title = "";
	recommend_add_key(&m->keys, &m->nkeys, recommend_str(title, "romaji"));
	recommend_add_key(&m->keys, &m->nkeys, recommend_str(title, "english"));
	recommend_add_key(&m->keys, &m->nkeys,
	    recommend_str(title, "userPreferred"));
	recommend_read_relations(m, o);
	return (m);
}

void
recommend_media_free(struct recommend_media *m)
{
	size_t	i;

	if (m == NULL)
		return;
	recommend_fset_free(&m->genres);
	recommend_fset_free(&m->tags);
	recommend_fset_free(&m->studios);
	free(m->format);
	free(m->source);
	for (i = 0; i < m->nkeys; i++)
		free(m->keys[i]);
	free(m->keys);
	for (i = 0; i < m->nrelated; i++)
		free(m->related_type[i]);
	free(m->related);
	free(m->related_type);
	json_object_put(m->json);
	free(m);
}

int64_t
recommend_media_id(const struct recommend_media *m)
{
	return (m->id);
}

struct json_object *
recommend_media_json(const struct recommend_media *m)
{
	return (m->json);
}

const char *
recommend_media_title(const struct recommend_media *m)
{
	return (m->title);
}

const char *
recommend_media_genre(const struct recommend_media *m, size_t i)
{
	return (i < m->genres.n ? m->genres.v[i].name : NULL);
}

/* ---------------------------------------------------------------- similarity */

static int
recommend_family(const char *s)
{
	size_t	i, j;

	for (i = 0; i < nitems(recommend_families); i++) {
		for (j = 0; j < 4 && recommend_families[i][j] != NULL; j++) {
			if (strcmp(recommend_families[i][j], s) == 0)
				return ((int)i);
		}
	}
	return (-1);
}

/* 1 equal, family weight for the same family, else 0. */
static double
recommend_kind_similarity(const char *a, const char *b)
{
	int	fa;

	if (strcmp(a, b) == 0)
		return (1);
	fa = recommend_family(a);
	return (fa >= 0 && fa == recommend_family(b) ? recommend_w.family : 0);
}

double
recommend_similarity(const struct recommend_media *a,
    const struct recommend_media *b)
{
	double	num = 0, avail = 0, total, raw, cover;

	total = recommend_w.genres + recommend_w.tags + recommend_w.studios +
	    recommend_w.format + recommend_w.source + recommend_w.era;
	if (a->genres.n > 0 && b->genres.n > 0) {
		num += recommend_w.genres *
		    recommend_fset_jaccard(&a->genres, &b->genres);
		avail += recommend_w.genres;
	}
	if (a->tags.n > 0 && b->tags.n > 0) {
		num += recommend_w.tags *
		    recommend_fset_jaccard(&a->tags, &b->tags);
		avail += recommend_w.tags;
	}
	if (a->studios.n > 0 && b->studios.n > 0) {
		num += recommend_w.studios *
		    recommend_fset_jaccard(&a->studios, &b->studios);
		avail += recommend_w.studios;
	}
	if (a->format != NULL && b->format != NULL) {
		num += recommend_w.format *
		    recommend_kind_similarity(a->format, b->format);
		avail += recommend_w.format;
	}
	if (a->source != NULL && b->source != NULL) {
		num += recommend_w.source *
		    recommend_kind_similarity(a->source, b->source);
		avail += recommend_w.source;
	}
	if (a->year > 0 && b->year > 0) {
		num += recommend_w.era * fmax(0, 1 -
		    fabs((double)(a->year - b->year)) / recommend_w.era_span);
		avail += recommend_w.era;
	}
	if (avail <= 0)
		return (0);
	raw = num / avail;
	cover = recommend_w.coverage_floor +
	    (1 - recommend_w.coverage_floor) * (avail / total);
	return (fmin(1, raw * cover));
}

/* ---------------------------------------------------------------- franchise */

static size_t
recommend_words(const char *s, size_t len)
{
	size_t	i, n = len > 0 ? 1 : 0;

	for (i = 0; i < len; i++) {
		if (s[i] == ' ')
			n++;
	}
	return (n);
}

/*
 * Titles share a stem: the shorter title begins the longer one at a word
 * boundary, or they begin with the same three or more words.
 */
static bool
recommend_title_stem(const char *a, const char *b)
{
	const char	*s = strlen(a) <= strlen(b) ? a : b;
	const char	*l = s == a ? b : a;
	size_t		 n = strlen(s), i, common = 0;

	if (n >= 4 && strncmp(s, l, n) == 0 && (l[n] == '\0' || l[n] == ' '))
		return (true);
	for (i = 0; s[i] != '\0' && s[i] == l[i]; i++) {
		if (s[i] == ' ')
			common = i;
	}
	if (s[i] == '\0' && (l[i] == ' ' || l[i] == '\0'))
		common = i;
	return (common >= 12 && recommend_words(s, common) >= 3);
}

static bool
recommend_lists(const struct recommend_media *a, int64_t id)
{
	size_t	i;

	for (i = 0; i < a->nrelated; i++) {
		if (a->related[i] == id)
			return (true);
	}
	return (false);
}

bool
recommend_same_franchise(const struct recommend_media *a,
    const struct recommend_media *b)
{
	size_t	i, j;

	if (a->id == b->id || recommend_lists(a, b->id) ||
	    recommend_lists(b, a->id))
		return (true);
	if (recommend_fset_jaccard(&a->genres, &b->genres) <
	    recommend_w.franchise_genres &&
	    recommend_fset_jaccard(&a->studios, &b->studios) <= 0)
		return (false);
	for (i = 0; i < a->nkeys; i++) {
		for (j = 0; j < b->nkeys; j++) {
			if (recommend_title_stem(a->keys[i], b->keys[j]))
				return (true);
		}
	}
	return (false);
}

/* ---------------------------------------------------------------- titles */

/* 0 exact, 1 prefix, 2 substring, 3 every word found, -1 no match. */
static int
recommend_match_rank(const char *q, char **keys, size_t nkeys)
{
	int	 best = -1, r;
	size_t	 i, qn = strlen(q);
	char	*words, *w, *save;
	bool	 all = true, found;

	for (i = 0; i < nkeys; i++) {
		if (strcmp(keys[i], q) == 0)
			return (0);
		if (strncmp(keys[i], q, qn) == 0)
			r = 1;
		else if (strstr(keys[i], q) != NULL)
			r = 2;
		else
			continue;
		if (best < 0 || r < best)
			best = r;
	}
	if (best >= 0)
		return (best);
	words = xstrdup(q);
	for (w = strtok_r(words, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		found = false;
		for (i = 0; i < nkeys && !found; i++)
			found = strstr(keys[i], w) != NULL;
		all = all && found;
	}
	free(words);
	return (all && nkeys > 0 ? 3 : -1);
}

int
recommend_best_title_match(const char *query, struct json_object *results)
{
	struct json_object	*m, *title, *syn;
	char			*q, **keys = NULL;
	size_t			 i, j, n, nkeys;
	int			 best = -1, best_rank = -1, rank;
	int64_t			 pop, best_pop = -1;

	if (results == NULL || !json_object_is_type(results, json_type_array))
		return (-1);
	q = recommend_normalize(query);
	if (*q == '\0') {
		free(q);
		return (-1);
	}
	n = json_object_array_length(results);
	for (i = 0; i < n; i++) {
		m = json_object_array_get_idx(results, i);
		title = recommend_get(m, "title");
		nkeys = 0;
		recommend_add_key(&keys, &nkeys, recommend_str(title, "romaji"));
		recommend_add_key(&keys, &nkeys, recommend_str(title,
		    "english"));
		recommend_add_key(&keys, &nkeys, recommend_str(title, "native"));
		recommend_add_key(&keys, &nkeys, recommend_str(title,
		    "userPreferred"));
		syn = recommend_array(m, "synonyms");
		for (j = 0; syn != NULL && j < json_object_array_length(syn);
		    j++) {
			if (json_object_is_type(json_object_array_get_idx(syn,
			    j), json_type_string))
				recommend_add_key(&keys, &nkeys,
				    json_object_get_string(
				    json_object_array_get_idx(syn, j)));
		}
		rank = recommend_match_rank(q, keys, nkeys);
		for (j = 0; j < nkeys; j++)
			free(keys[j]);
		if (rank < 0)
			continue;
		if (!recommend_int(m, "popularity", &pop))
			pop = 0;
		if (best < 0 || rank < best_rank ||
		    (rank == best_rank && pop > best_pop)) {
			best = (int)i;
			best_rank = rank;
			best_pop = pop;
		}
	}
	free(keys);
	free(q);
	return (best);
}

/* ---------------------------------------------------------------- profile */

enum {
	RECOMMEND_F_GENRE,
	RECOMMEND_F_TAG,
	RECOMMEND_F_STUDIO,
	RECOMMEND_F_FORMAT,
	RECOMMEND_F_ERA,
	RECOMMEND_NFAMILIES
};

static const char *const recommend_family_names[RECOMMEND_NFAMILIES] = {
	"genre", "tag", "studio", "format", "era"
};

static const char *const recommend_family_json[RECOMMEND_NFAMILIES] = {
	"genres", "tags", "studios", "formats", "eras"
};

/* A learned affinity: sum of signed entry weights over its support. */
struct recommend_affinity {
	char	*name;
	double	 sum;
	double	 support;
	double	 value;
};

struct recommend_afamily {
	struct recommend_affinity	*v;
	size_t				 n;
	double				 norm;
};

struct recommend_profile {
	struct recommend_afamily	 fam[RECOMMEND_NFAMILIES];
	int64_t				*ids;
	size_t				 nids;
	size_t				 used;
};

static double
recommend_family_weight(int f)
{
	switch (f) {
	case RECOMMEND_F_GENRE:
		return (recommend_w.genres);
	case RECOMMEND_F_TAG:
		return (recommend_w.tags);
	case RECOMMEND_F_STUDIO:
		return (recommend_w.studios);
	case RECOMMEND_F_FORMAT:
		return (recommend_w.format);
	default:
		return (recommend_w.era);
	}
}

static struct recommend_affinity *
recommend_afamily_find(const struct recommend_afamily *a, const char *name)
{
	size_t	i;

	for (i = 0; i < a->n; i++) {
		if (strcasecmp(a->v[i].name, name) == 0)
			return (&a->v[i]);
	}
	return (NULL);
}

static void
recommend_afamily_add(struct recommend_afamily *a, const char *name,
    double x, double w)
{
	struct recommend_affinity	*f;

	if ((f = recommend_afamily_find(a, name)) == NULL) {
		a->v = xrealloc(a->v, (a->n + 1) * sizeof *a->v);
		f = &a->v[a->n++];
		memset(f, 0, sizeof *f);
		f->name = xstrdup(name);
	}
	f->sum += x * w;
	f->support += x;
}

static int
recommend_affinity_cmp(const void *pa, const void *pb)
{
	const struct recommend_affinity	*a = pa, *b = pb;

	if (a->value != b->value)
		return (a->value > b->value ? -1 : 1);
	return (strcmp(a->name, b->name));
}

/* The decade of a year, "2010s"; empty when unknown. */
static void
recommend_era(int year, char *out, size_t len)
{
	if (year <= 0)
		*out = '\0';
	else
		snprintf(out, len, "%ds", year - year % 10);
}

/* Call fn for every feature of m, family by family, with its weight x. */
static void
recommend_media_features(const struct recommend_media *m,
    void (*fn)(void *, int, const char *, double), void *arg)
{
	char	era[16];
	size_t	i;

	for (i = 0; i < m->genres.n; i++)
		fn(arg, RECOMMEND_F_GENRE, m->genres.v[i].name, m->genres.v[i].w);
	for (i = 0; i < m->tags.n; i++)
		fn(arg, RECOMMEND_F_TAG, m->tags.v[i].name, m->tags.v[i].w);
	for (i = 0; i < m->studios.n; i++)
		fn(arg, RECOMMEND_F_STUDIO, m->studios.v[i].name,
		    m->studios.v[i].w);
	if (m->format != NULL)
		fn(arg, RECOMMEND_F_FORMAT, m->format, 1);
	recommend_era(m->year, era, sizeof era);
	if (*era != '\0')
		fn(arg, RECOMMEND_F_ERA, era, 1);
}

struct recommend_learn {
	struct recommend_profile	*p;
	double				 w;
	bool				 any;
};

static void
recommend_learn_feature(void *arg, int f, const char *name, double x)
{
	struct recommend_learn	*l = arg;

	recommend_afamily_add(&l->p->fam[f], name, x, l->w);
	l->any = true;
}

/* The status weight of an unscored entry. */
static double
recommend_status_weight(const char *status, int64_t repeat)
{
	double	w = recommend_w.completed;

	if (status == NULL)
		w = recommend_w.completed;
	else if (strcmp(status, "REPEATING") == 0)
		w = recommend_w.repeating;
	else if (strcmp(status, "CURRENT") == 0)
		w = recommend_w.current;
	else if (strcmp(status, "PLANNING") == 0)
		w = recommend_w.planning;
	else if (strcmp(status, "PAUSED") == 0)
		w = recommend_w.paused;
	else if (strcmp(status, "DROPPED") == 0)
		w = recommend_w.dropped;
	if (repeat > 0 && w > 0)
		w += recommend_w.repeat_bonus;
	return (w);
}

/* Call fn for each distinct entry of the collection (by media id). */
static void
recommend_entries(struct json_object *coll,
    void (*fn)(void *, struct json_object *, struct json_object *,
    const char *), void *arg)
{
	struct json_object	*lists, *list, *entries, *entry, *media;
	const char		*status;
	int64_t			*seen = NULL, id;
	size_t			 nseen = 0, i, j, k;

	lists = recommend_array(coll, "lists");
	for (i = 0; lists != NULL && i < json_object_array_length(lists);
	    i++) {
		list = json_object_array_get_idx(lists, i);
		entries = recommend_array(list, "entries");
		for (j = 0; entries != NULL &&
		    j < json_object_array_length(entries); j++) {
			entry = json_object_array_get_idx(entries, j);
			media = recommend_get(entry, "media");
			if (!recommend_int(entry, "mediaId", &id) &&
			    !recommend_int(media, "id", &id))
				continue;
			for (k = 0; k < nseen && seen[k] != id; k++)
				;
			if (k < nseen)
				continue;
			seen = xrealloc(seen, (nseen + 1) * sizeof *seen);
			seen[nseen++] = id;
			if ((status = recommend_str(entry, "status")) == NULL)
				status = recommend_str(list, "status");
			fn(arg, entry, media, status);
		}
	}
	free(seen);
}

struct recommend_pivot {
	double	sum;
	double	n;
};

static void
recommend_pivot_entry(void *arg, struct json_object *entry,
    struct json_object *media, const char *status)
{
	struct recommend_pivot	*pv = arg;
	double			 score;

	if (recommend_num(entry, "score", &score) && score > 0) {
		pv->sum += score;
		pv->n += 1;
	}
}

struct recommend_build {
	struct recommend_profile	*p;
	double				 pivot;
};

static void
recommend_build_entry(void *arg, struct json_object *entry,
    struct json_object *media, const char *status)
{
	struct recommend_build	*b = arg;
	struct recommend_profile *p = b->p;
	struct recommend_media	*m;
	struct recommend_learn	 l;
	double			 score;
	int64_t			 id, repeat = 0;

	if (!recommend_int(entry, "mediaId", &id) &&
	    !recommend_int(media, "id", &id))
		return;
	p->ids = xrealloc(p->ids, (p->nids + 1) * sizeof *p->ids);
	p->ids[p->nids++] = id;
	if ((m = recommend_media_create(media)) == NULL)
		return;
	(void)recommend_int(entry, "repeat", &repeat);
	if (recommend_num(entry, "score", &score) && score > 0) {
		l.w = (score - b->pivot) / recommend_w.score_scale;
		l.w = fmax(-recommend_w.clip, fmin(recommend_w.clip, l.w));
		if (status != NULL && strcmp(status, "DROPPED") == 0)
			l.w = fmin(l.w, recommend_w.dropped);
	} else
		l.w = recommend_status_weight(status, repeat);
	l.p = p;
	l.any = false;
	recommend_media_features(m, recommend_learn_feature, &l);
	if (l.any)
		p->used++;
	recommend_media_free(m);
}

struct recommend_profile *
recommend_profile_create(struct json_object *coll)
{
	struct recommend_profile	*p = xcalloc(1, sizeof *p);
	struct recommend_pivot		 pv = { 0, 0 };
	struct recommend_build		 b;
	struct recommend_afamily	*a;
	size_t				 f, i;

	recommend_entries(coll, recommend_pivot_entry, &pv);
	b.p = p;
	b.pivot = (pv.sum + recommend_w.prior_pivot * recommend_w.prior_count) /
	    (pv.n + recommend_w.prior_count) - recommend_w.pivot_margin;
	recommend_entries(coll, recommend_build_entry, &b);
	for (f = 0; f < RECOMMEND_NFAMILIES; f++) {
		a = &p->fam[f];
		a->norm = 0;
		for (i = 0; i < a->n; i++) {
			a->v[i].value = a->v[i].sum / (a->v[i].support + 1);
			a->norm += a->v[i].value * a->v[i].value;
		}
		a->norm = sqrt(a->norm);
		if (a->n > 1)
			qsort(a->v, a->n, sizeof *a->v, recommend_affinity_cmp);
	}
	return (p);
}

void
recommend_profile_free(struct recommend_profile *p)
{
	size_t	f, i;

	if (p == NULL)
		return;
	for (f = 0; f < RECOMMEND_NFAMILIES; f++) {
		for (i = 0; i < p->fam[f].n; i++)
			free(p->fam[f].v[i].name);
		free(p->fam[f].v);
	}
	free(p->ids);
	free(p);
}

bool
recommend_profile_has(const struct recommend_profile *p, int64_t id)
{
	size_t	i;

	for (i = 0; i < p->nids; i++) {
		if (p->ids[i] == id)
			return (true);
	}
	return (false);
}

size_t
recommend_profile_entries(const struct recommend_profile *p)
{
	return (p->nids);
}

size_t
recommend_profile_used(const struct recommend_profile *p)
{
	return (p->used);
}

const char *
recommend_profile_genre(const struct recommend_profile *p, size_t i)
{
	const struct recommend_afamily	*a = &p->fam[RECOMMEND_F_GENRE];

	if (i >= a->n || a->v[i].value <= 0)
		return (NULL);
	return (a->v[i].name);
}

static int
recommend_family_index(const char *family)
{
	int	f;

	for (f = 0; f < RECOMMEND_NFAMILIES; f++) {
		if (strcmp(recommend_family_names[f], family) == 0)
			return (f);
	}
	return (-1);
}

double
recommend_profile_affinity(const struct recommend_profile *p,
    const char *family, const char *name)
{
	const struct recommend_affinity	*a;
	int				 f = recommend_family_index(family);

	if (f < 0 || (a = recommend_afamily_find(&p->fam[f], name)) == NULL)
		return (0);
	return (a->value);
}

static struct json_object *
recommend_json_number(double v)
{
	char	s[32];

	snprintf(s, sizeof s, "%.3f", v);
	if (strcmp(s, "-0.000") == 0)
		strcpy(s, "0.000");
	return (json_object_new_double_s(strtod(s, NULL), s));
}

struct json_object *
recommend_profile_json(const struct recommend_profile *p, size_t top)
{
	struct json_object		*o = json_object_new_object(), *arr, *e;
	const struct recommend_afamily	*a;
	size_t				 f, i;

	json_object_object_add(o, "entries",
	    json_object_new_int64((int64_t)p->nids));
	json_object_object_add(o, "used", json_object_new_int64((int64_t)p->used));
	for (f = 0; f < RECOMMEND_NFAMILIES; f++) {
		a = &p->fam[f];
		arr = json_object_new_array();
		for (i = 0; i < a->n && i < top; i++) {
			e = json_object_new_object();
			json_object_object_add(e, "name",
			    json_object_new_string(a->v[i].name));
			json_object_object_add(e, "weight",
			    recommend_json_number(a->v[i].value));
			json_object_array_add(arr, e);
		}
		json_object_object_add(o, recommend_family_json[f], arr);
	}
	return (o);
}

struct recommend_fitacc {
	const struct recommend_profile	*p;
	double				 dot[RECOMMEND_NFAMILIES];
	double				 len[RECOMMEND_NFAMILIES];
};

static void
recommend_fit_feature(void *arg, int f, const char *name, double x)
{
	struct recommend_fitacc		*acc = arg;
	const struct recommend_affinity	*a;

	if ((a = recommend_afamily_find(&acc->p->fam[f], name)) != NULL)
		acc->dot[f] += x * a->value;
	acc->len[f] += x * x;
}

double
recommend_profile_fit(const struct recommend_profile *p,
    const struct recommend_media *m)
{
	struct recommend_fitacc	acc;
	double			num = 0, avail = 0, w;
	int			f;

	memset(&acc, 0, sizeof acc);
	acc.p = p;
	recommend_media_features(m, recommend_fit_feature, &acc);
	/* Per family, the cosine of the media's features and the profile. */
	for (f = 0; f < RECOMMEND_NFAMILIES; f++) {
		if (acc.len[f] <= 0 || p->fam[f].norm <= 0)
			continue;
		w = recommend_family_weight(f);
		num += w * acc.dot[f] / (sqrt(acc.len[f]) * p->fam[f].norm);
		avail += w;
	}
	if (avail <= 0)
		return (0.5);
	return (fmax(0, fmin(1, (num / avail + 1) / 2)));
}

static bool	recommend_quiet(const char *);

/* ---------------------------------------------------------------- searches */

/*
 * The order was chosen with bench/recommend-eval: a request by title has
 * budget for one search, a request by id for two.
 */
size_t
recommend_searches(const struct recommend_media *m,
    struct recommend_search *out, size_t max)
{
	size_t	n = 0, i;

	memset(out, 0, max * sizeof *out);
	/* Titles with the reference's genres (its first few, all required). */
	if (m->genres.n > 0 && n < max) {
		for (i = 0; i < m->genres.n && i < recommend_w.search_genres &&
		    i < nitems(out[n].genres); i++)
			out[n].genres[out[n].ngenres++] = m->genres.v[i].name;
		n++;
	}
	/* Titles with its most relevant tag (AniList lists tags by rank). */
	for (i = 0; i < m->tags.n && n < max; i++) {
		if (recommend_quiet(m->tags.v[i].name))
			continue;
		out[n].tags[0] = m->tags.v[i].name;
		out[n].ntags = 1;
		n++;
		break;
	}
	return (n);
}

/* ---------------------------------------------------------------- pool */

struct recommend_cand {
	struct recommend_media	*m;
	int			 rating;
	int			 trending;
};

struct recommend_pool {
	struct recommend_cand	*v;
	size_t			 n;
};

struct recommend_pool *
recommend_pool_create(void)
{
	return (xcalloc(1, sizeof (struct recommend_pool)));
}

void
recommend_pool_free(struct recommend_pool *pool)
{
	size_t	i;

	if (pool == NULL)
		return;
	for (i = 0; i < pool->n; i++)
		recommend_media_free(pool->v[i].m);
	free(pool->v);
	free(pool);
}

void
recommend_pool_add(struct recommend_pool *pool, struct json_object *o,
    int rating, int trending)
{
	struct recommend_cand	*c;
	int64_t			 id;
	size_t			 i;

	if (!recommend_int(o, "id", &id))
		return;
	for (i = 0; i < pool->n; i++) {
		c = &pool->v[i];
		if (c->m->id != id)
			continue;
		if (rating > c->rating)
			c->rating = rating;
		if (trending > 0 && (c->trending == 0 || trending < c->trending))
			c->trending = trending;
		return;
	}
	pool->v = xrealloc(pool->v, (pool->n + 1) * sizeof *pool->v);
	c = &pool->v[pool->n];
	if ((c->m = recommend_media_create(o)) == NULL)
		return;
	c->rating = rating > 0 ? rating : 0;
	c->trending = trending > 0 ? trending : 0;
	pool->n++;
}

/* ---------------------------------------------------------------- ranking */

struct recommend_scored {
	const struct recommend_cand	*c;
	double				 score;
	bool				 related;
};

static int
recommend_scored_cmp(const void *pa, const void *pb)
{
	const struct recommend_scored	*a = pa, *b = pb;

	if (a->score != b->score)
		return (a->score > b->score ? -1 : 1);
	if (a->c->m->popularity != b->c->m->popularity)
		return (a->c->m->popularity > b->c->m->popularity ? -1 : 1);
	return (a->c->m->id < b->c->m->id ? -1 : a->c->m->id > b->c->m->id);
}

static bool
recommend_excluded(const struct recommend_query *q, int64_t id)
{
	size_t	i;

	for (i = 0; i < q->nexclude; i++) {
		if (q->exclude[i] == id)
			return (true);
	}
	return (false);
}

static bool
recommend_quiet(const char *tag)
{
	size_t	i;

	for (i = 0; i < nitems(recommend_quiet_tags); i++) {
		if (strcasecmp(recommend_quiet_tags[i], tag) == 0)
			return (true);
	}
	return (false);
}

static void
recommend_reason(struct json_object *reasons, struct buf *b)
{
	if (b->len > 0)
		json_object_array_add(reasons, json_object_new_string(b->data));
	buf_reset(b);
}

/* The separator before item i of a list for a person. */
static void
recommend_list_sep(struct buf *b, size_t i)
{
	if (i > 0)
		buf_puts(b, ", ");
}

static int
recommend_feat_cmp(const void *pa, const void *pb)
{
	const struct recommend_feat	*a = pa, *b = pb;

	if (a->w != b->w)
		return (a->w > b->w ? -1 : 1);
	return (0);
}

/* "shares Magic, Found Family, Fantasy": tags then genres both have. */
static void
recommend_reason_shared(struct json_object *reasons,
    const struct recommend_media *ref, const struct recommend_media *m)
{
	struct recommend_feat		*shared;
	const struct recommend_feat	*f;
	struct buf			 b;
	size_t				 i, n = 0, names = 0;

	buf_init(&b);
	shared = xcalloc(ref->tags.n + 1, sizeof *shared);
	for (i = 0; i < ref->tags.n; i++) {
		if (recommend_quiet(ref->tags.v[i].name) ||
		    (f = recommend_fset_find(&m->tags, ref->tags.v[i].name)) ==
		    NULL)
			continue;
		shared[n].name = ref->tags.v[i].name;
		shared[n].w = fmin(ref->tags.v[i].w, f->w) - (double)n * 1e-9;
		n++;
	}
	/* The reference's order breaks ties (AniList lists tags by rank). */
	qsort(shared, n, sizeof *shared, recommend_feat_cmp);
	for (i = 0; i < n && names < 3; i++) {
		buf_puts(&b, names == 0 ? "shares " : ", ");
		buf_puts(&b, shared[i].name);
		names++;
	}
	for (i = 0; i < ref->genres.n && names < 4; i++) {
		if (recommend_fset_find(&m->genres, ref->genres.v[i].name) ==
		    NULL)
			continue;
		buf_puts(&b, names == 0 ? "shares " : ", ");
		buf_puts(&b, ref->genres.v[i].name);
		names++;
	}
	recommend_reason(reasons, &b);
	free(shared);

	for (i = 0, n = 0; i < ref->studios.n; i++) {
		if (recommend_fset_find(&m->studios, ref->studios.v[i].name) ==
		    NULL)
			continue;
		if (n++ == 0)
			buf_puts(&b, "same studio ");
		else
			buf_puts(&b, ", ");
		buf_puts(&b, ref->studios.v[i].name);
	}
	recommend_reason(reasons, &b);
	buf_free(&b);
}

/* How a source reads in a sentence, or NULL for none worth saying. */
static const char *
recommend_source_phrase(const char *source)
{
	static const char *const phrases[][2] = {
		{ "ORIGINAL", "also an original story" },
		{ "MANGA", "also adapted from a manga" },
		{ "LIGHT_NOVEL", "also adapted from a light novel" },
		{ "NOVEL", "also adapted from a novel" },
		{ "WEB_NOVEL", "also adapted from a web novel" },
		{ "VISUAL_NOVEL", "also adapted from a visual novel" },
		{ "VIDEO_GAME", "also adapted from a video game" },
		{ "GAME", "also adapted from a game" },
	};
	size_t	i;

	for (i = 0; i < nitems(phrases); i++) {
		if (strcmp(phrases[i][0], source) == 0)
			return (phrases[i][1]);
	}
	return (NULL);
}

static const char *
recommend_relation_type(const struct recommend_media *a,
    const struct recommend_media *b)
{
	size_t	i;

	for (i = 0; i < a->nrelated; i++) {
		if (a->related[i] == b->id)
			return (a->related_type[i]);
	}
	return (NULL);
}

static void
recommend_reasons_similar(struct json_object *reasons,
    const struct recommend_media *ref, const struct recommend_scored *s)
{
	const struct recommend_media	*m = s->c->m;
	const char			*rel, *phrase;
	struct buf			 b;
	char				*lower, *p;

	buf_init(&b);
	if (s->related) {
		buf_printf(&b, "same franchise as %s", ref->title);
		if ((rel = recommend_relation_type(ref, m)) != NULL &&
		    strcmp(rel, "OTHER") != 0) {
			lower = xstrdup(rel);
			for (p = lower; *p != '\0'; p++)
				*p = *p == '_' ? ' ' : (char)(*p >= 'A' &&
				    *p <= 'Z' ? *p - 'A' + 'a' : *p);
			buf_printf(&b, " (%s)", lower);
			free(lower);
		}
		recommend_reason(reasons, &b);
	}
	recommend_reason_shared(reasons, ref, m);
	if (s->c->rating > 0) {
		buf_printf(&b, "recommended by %d AniList user%s", s->c->rating,
		    s->c->rating == 1 ? "" : "s");
		recommend_reason(reasons, &b);
	}
	if (ref->source != NULL && m->source != NULL &&
	    strcmp(ref->source, m->source) == 0 &&
	    (phrase = recommend_source_phrase(m->source)) != NULL) {
		buf_puts(&b, phrase);
		recommend_reason(reasons, &b);
	}
	buf_free(&b);
}

/* Up to max liked features of one family of m, strongest first. */
static size_t
recommend_liked(const struct recommend_profile *p, int f,
    const struct recommend_fset *set, const char **out, size_t max)
{
	const struct recommend_afamily	*a = &p->fam[f];
	size_t				 i, n = 0;

	/* The family is sorted by affinity, so walk it in that order. */
	for (i = 0; i < a->n && n < max; i++) {
		if (a->v[i].value < recommend_w.liked)
			break;
		if (f == RECOMMEND_F_TAG && recommend_quiet(a->v[i].name))
			continue;
		if (recommend_fset_find(set, a->v[i].name) != NULL)
			out[n++] = a->v[i].name;
	}
	return (n);
}

static void
recommend_reasons_taste(struct json_object *reasons,
    const struct recommend_profile *p, const struct recommend_media *m)
{
	const char	*names[3];
	struct buf	 b;
	size_t		 i, n;

	buf_init(&b);
	n = recommend_liked(p, RECOMMEND_F_GENRE, &m->genres, names, 2);
	for (i = 0; i < n; i++) {
		if (i == 0)
			buf_puts(&b, "fits genres you rate highly: ");
		recommend_list_sep(&b, i);
		buf_puts(&b, names[i]);
	}
	recommend_reason(reasons, &b);
	n = recommend_liked(p, RECOMMEND_F_TAG, &m->tags, names, 3);
	for (i = 0; i < n; i++) {
		if (i == 0)
			buf_puts(&b, "has themes you like: ");
		recommend_list_sep(&b, i);
		buf_puts(&b, names[i]);
	}
	recommend_reason(reasons, &b);
	n = recommend_liked(p, RECOMMEND_F_STUDIO, &m->studios, names, 1);
	if (n > 0) {
		buf_printf(&b, "by %s, a studio whose shows you rate well",
		    names[0]);
		recommend_reason(reasons, &b);
	}
	buf_free(&b);
}

static void
recommend_reasons_fallback(struct json_object *reasons,
    const struct recommend_media *m)
{
	struct buf	b;

	buf_init(&b);
	if (m->average_score >= 0)
		buf_printf(&b, "rated %d%% on AniList", m->average_score);
	else if (m->popularity > 0)
		buf_printf(&b, "on the lists of %d AniList users", m->popularity);
	recommend_reason(reasons, &b);
	buf_free(&b);
}

static void
recommend_reasons_trending(struct json_object *reasons,
    const struct recommend_query *q, const struct recommend_scored *s)
{
	const struct recommend_media	*m = s->c->m;
	struct buf			 b;
	size_t				 i, n = 0;

	buf_init(&b);
	for (i = 0; i < q->ngenres; i++) {
		if (recommend_fset_find(&m->genres, q->genres[i]) == NULL)
			continue;
		buf_puts(&b, n++ == 0 ? "trending now in " : ", ");
		buf_puts(&b, q->genres[i]);
	}
	if (n == 0)
		buf_puts(&b, "trending on AniList now");
	recommend_reason(reasons, &b);
	buf_free(&b);
	if (q->reference != NULL)
		recommend_reason_shared(reasons, q->reference, m);
	else if (q->profile != NULL)
		recommend_reasons_taste(reasons, q->profile, m);
}

static double
recommend_score(const struct recommend_query *q, const struct recommend_cand *c,
    int rmax, int tmax)
{
	double	fit, trend, quality;

	switch (q->kind) {
	case RECOMMEND_SIMILAR:
		fit = recommend_similarity(q->reference, c->m);
		if (rmax <= 0)
			return (fit);
		return (recommend_w.content * fit + recommend_w.community *
		    (c->rating > 0 ? log1p(c->rating) / log1p(rmax) : 0));
	case RECOMMEND_TASTE:
		fit = recommend_profile_fit(q->profile, c->m);
		quality = c->m->average_score >= 0 ?
		    c->m->average_score / 100.0 : 0.5;
		return (recommend_w.fit * fit + recommend_w.quality * quality);
	case RECOMMEND_TRENDING:
	default:
		if (q->reference != NULL)
			fit = recommend_similarity(q->reference, c->m);
		else if (q->profile != NULL)
			fit = recommend_profile_fit(q->profile, c->m);
		else
			fit = 0.5;
		trend = c->trending > 0 && tmax > 0 ?
		    1 - (double)(c->trending - 1) / tmax : 0;
		return (recommend_w.trend * trend +
		    (1 - recommend_w.trend) * fit);
	}
}

/*
 * Pick count of the sorted candidates, greedily, each time the one with the
 * best score less a penalty for resembling those already picked (MMR).
 */
static size_t
recommend_diversify(struct recommend_scored *v, size_t n, size_t count)
{
	struct recommend_scored	 tmp;
	size_t			 window, picked, i, j, best;
	double			 adj, best_adj, sim, maxsim;

	window = count * recommend_w.diversity_window;
	if (window > n)
		window = n;
	for (picked = 0; picked < count && picked < window; picked++) {
		best = picked;
		best_adj = -INFINITY;
		for (i = picked; i < window; i++) {
			maxsim = 0;
			for (j = 0; j < picked; j++) {
				sim = recommend_similarity(v[i].c->m, v[j].c->m);
				if (sim > maxsim)
					maxsim = sim;
			}
			adj = v[i].score - recommend_w.diversity * maxsim;
			if (adj > best_adj) {
				best_adj = adj;
				best = i;
			}
		}
		tmp = v[best];
		memmove(&v[picked + 1], &v[picked],
		    (best - picked) * sizeof *v);
		v[picked] = tmp;
	}
	return (picked);
}

struct json_object *
recommend_rank(const struct recommend_query *q,
    const struct recommend_pool *pool)
{
	struct recommend_scored	*v;
	struct json_object	*out, *item, *reasons;
	const struct recommend_cand *c;
	size_t			 i, n = 0, picked;
	int			 rmax = 0, tmax = 0;

	out = json_object_new_array();
	if ((q->kind == RECOMMEND_SIMILAR && q->reference == NULL) ||
	    (q->kind == RECOMMEND_TASTE && q->profile == NULL) ||
	    q->count == 0 || pool->n == 0)
		return (out);
	v = xcalloc(pool->n, sizeof *v);
	for (i = 0; i < pool->n; i++) {
		c = &pool->v[i];
		if (q->reference != NULL && c->m->id == q->reference->id)
			continue;
		if (recommend_excluded(q, c->m->id) ||
		    (c->m->adult && !q->include_adult) ||
		    (q->profile != NULL &&
		    recommend_profile_has(q->profile, c->m->id)))
			continue;
		v[n].c = c;
		v[n].related = q->reference != NULL &&
		    recommend_same_franchise(q->reference, c->m);
		if (v[n].related && !q->include_related)
			continue;
		if (c->rating > rmax)
			rmax = c->rating;
		if (c->trending > tmax)
			tmax = c->trending;
		n++;
	}
	for (i = 0; i < n; i++)
		v[i].score = recommend_score(q, v[i].c, rmax, tmax);
	qsort(v, n, sizeof *v, recommend_scored_cmp);
	picked = recommend_diversify(v, n, q->count);
	for (i = 0; i < picked; i++) {
		item = json_object_new_object();
		reasons = json_object_new_array();
		switch (q->kind) {
		case RECOMMEND_SIMILAR:
			recommend_reasons_similar(reasons, q->reference, &v[i]);
			break;
		case RECOMMEND_TASTE:
			recommend_reasons_taste(reasons, q->profile, v[i].c->m);
			break;
		case RECOMMEND_TRENDING:
			recommend_reasons_trending(reasons, q, &v[i]);
			break;
		}
		if (json_object_array_length(reasons) == 0)
			recommend_reasons_fallback(reasons, v[i].c->m);
		json_object_object_add(item, "anime",
		    json_object_get(v[i].c->m->json));
		json_object_object_add(item, "score",
		    recommend_json_number(v[i].score));
		json_object_object_add(item, "reasons", reasons);
		json_object_array_add(out, item);
	}
	free(v);
	return (out);
}

/* Jaccard of two JSON arrays of genre strings. */
static double
recommend_genre_jaccard(struct json_object *a, struct json_object *b)
{
	size_t		 i, j, na, nb, both = 0;
	const char	*s;

	na = a != NULL ? json_object_array_length(a) : 0;
	nb = b != NULL ? json_object_array_length(b) : 0;
	if (na + nb == 0)
		return (0);
	for (i = 0; i < na; i++) {
		s = json_object_get_string(json_object_array_get_idx(a, i));
		for (j = 0; j < nb; j++) {
			if (strcasecmp(s, json_object_get_string(
			    json_object_array_get_idx(b, j))) == 0) {
				both++;
				break;
			}
		}
	}
	return ((double)both / (double)(na + nb - both));
}

double
recommend_genre_diversity(struct json_object *list)
{
	size_t	i, j, n, pairs = 0;
	double	sum = 0;

	n = list != NULL && json_object_is_type(list, json_type_array) ?
	    json_object_array_length(list) : 0;
	if (n < 2)
		return (0);
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			sum += recommend_genre_jaccard(
			    recommend_array(recommend_get(
			    json_object_array_get_idx(list, i), "anime"),
			    "genres"),
			    recommend_array(recommend_get(
			    json_object_array_get_idx(list, j), "anime"),
			    "genres"));
			pairs++;
		}
	}
	return (1 - sum / (double)pairs);
}
