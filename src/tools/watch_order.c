/* tools/watch_order.c: a franchise followed over AniList relations, in release order and in a suggested watch order. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

/* AniList calls at most: the title, then two rounds of its relations. */
#define WATCH_HOPS		3
/* Titles asked for in one call (AniList's page size). */
#define WATCH_PER_HOP		50
/* Titles a franchise may hold before the rest is left out. */
#define WATCH_MAX_NODES		80
/* Titles named in the text_summary. */
#define WATCH_SUMMARY_ENTRIES	8

/* Where a title sits in the suggested order. */
enum watch_role {
	WATCH_MAIN,		/* the main story: prequels and sequels */
	WATCH_RECAP,		/* summary or compilation: skippable */
	WATCH_SIDE,		/* side story */
	WATCH_SPIN_OFF,
	WATCH_OTHER,		/* loosely related */
	WATCH_ALTERNATIVE	/* another telling: instead of, not after */
};

static const char *const watch_role_names[] = {
	"main", "recap", "side_story", "spin_off", "other", "alternative"
};

/*
 * The relations a franchise is followed over. Only the story's own
 * relations are followed further: spin-offs, alternatives and loose
 * relations stay leaves, which bounds shared-universe sprawl.
 */
static const struct watch_relation {
	const char	*type;		/* AniList MediaRelation */
	bool		 follow;	/* fetch this title's relations too */
	enum watch_role	 role;		/* as seen from a main-story title */
} watch_relations[] = {
	{ "PREQUEL", true, WATCH_MAIN },
	{ "SEQUEL", true, WATCH_MAIN },
	{ "PARENT", true, WATCH_SIDE },
	{ "SIDE_STORY", true, WATCH_SIDE },
	{ "SUMMARY", false, WATCH_RECAP },
	{ "COMPILATION", false, WATCH_RECAP },
	{ "SPIN_OFF", false, WATCH_SPIN_OFF },
	{ "ALTERNATIVE", false, WATCH_ALTERNATIVE },
	{ "OTHER", false, WATCH_OTHER },
};

/* Series formats: a title of these with a parent is not itself a side story. */
static const char *const watch_series_formats[] = {
	"TV", "TV_SHORT", "ONA"
};

/* One title of the franchise. */
struct watch_node {
	long long		 id;
	struct json_object	*media;		/* borrowed from a kept reply */
	int			 parent;	/* index it was found from; -1 */
	const struct watch_relation *rel;	/* how parent relates to it */
	int			 depth;
	bool			 fetched;	/* its relations are known */
	bool			 expand;	/* fetch its relations */
	long long		 date;		/* yyyymmdd; unknown sorts last */
	enum watch_role		 role;
	int			 anchor;	/* the main title it belongs to */
	int			 slot;		/* the main title it follows */
	int			 release;	/* 1-based release position */
	bool			 hidden;	/* an adult title not asked for */
	bool			 kept;		/* in the answer */
};

struct watch_graph {
	struct watch_node	 nodes[WATCH_MAX_NODES];
	int			 n;
	bool			 truncated;
	struct anilist_reply	 replies[WATCH_HOPS];
	int			 nreplies;
	int			 anchor;	/* where the main story was found */
	int			 main[WATCH_MAX_NODES];	/* main titles by date */
	int			 nmain;
};

static const struct watch_relation *
watch_relation_find(const char *type)
{
	size_t	i;

	for (i = 0; type != NULL && i < nitems(watch_relations); i++) {
		if (strcmp(watch_relations[i].type, type) == 0)
			return (&watch_relations[i]);
	}
	return (NULL);
}

static long long
watch_int(struct json_object *o, const char *key, long long def)
{
	struct json_object	*v = shape_get(o, key);

	if (v == NULL || !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return (def);
	return (json_object_get_int64(v));
}

/* yyyymmdd of startDate (missing month or day count as 0); 99999999 unknown. */
static long long
watch_date(struct json_object *media)
{
	struct json_object	*d = shape_get(media, "startDate");
	long long		 y = watch_int(d, "year", 0);

	if (y <= 0)
		return (99999999);
	return (y * 10000 + watch_int(d, "month", 0) * 100 +
	    watch_int(d, "day", 0));
}

static bool
watch_is_series(struct json_object *media)
{
	const char	*f = shape_get_str(media, "format");
	size_t		 i;

	for (i = 0; f != NULL && i < nitems(watch_series_formats); i++) {
		if (strcmp(f, watch_series_formats[i]) == 0)
			return (true);
	}
	return (false);
}

static int
watch_index(const struct watch_graph *g, long long id)
{
	int	i;

	for (i = 0; i < g->n; i++) {
		if (g->nodes[i].id == id)
			return (i);
	}
	return (-1);
}

/* Add a title seen on a relation of parent, unless known or left out. */
static void
watch_add(struct watch_graph *g, struct json_object *media, int parent,
    const struct watch_relation *rel, int depth)
{
	struct watch_node	*w;
	const char		*type = shape_get_str(media, "type");
	const char		*format = shape_get_str(media, "format");
	long long		 id = watch_int(media, "id", 0);

	if (id <= 0 || type == NULL || strcmp(type, "ANIME") != 0 ||
	    (format != NULL && strcmp(format, "MUSIC") == 0) ||
	    watch_index(g, id) >= 0)
		return;
	if (g->n == WATCH_MAX_NODES) {
		g->truncated = true;
		return;
	}
	w = &g->nodes[g->n++];
	memset(w, 0, sizeof *w);
	w->id = id;
	w->media = media;
	w->parent = parent;
	w->rel = rel;
	w->depth = depth;
	w->expand = (rel == NULL || rel->follow) && depth < WATCH_HOPS;
	w->date = watch_date(media);
	w->anchor = w->slot = -1;
}

/* Take one fetched media: its own fields, and its relations as new titles. */
static void
watch_take(struct watch_graph *g, struct json_object *media)
{
	struct json_object	*edges, *e;
	int			 i = watch_index(g, watch_int(media, "id", 0));
	size_t			 k;

	if (i < 0)
		return;
	g->nodes[i].media = media;
	g->nodes[i].fetched = true;
	edges = shape_get(shape_get(media, "relations"), "edges");
	if (!json_object_is_type(edges, json_type_array))
		return;
	for (k = 0; k < json_object_array_length(edges); k++) {
		const struct watch_relation *rel;

		e = json_object_array_get_idx(edges, k);
		if ((rel = watch_relation_find(shape_get_str(e,
		    "relationType"))) == NULL || shape_get(e, "node") == NULL)
			continue;
		watch_add(g, shape_get(e, "node"), i, rel,
		    g->nodes[i].depth + 1);
	}
}

/* One round: fetch the titles of depth whose relations are wanted. */
static bool
watch_hop(struct watch_graph *g, int depth, struct tool_call *call,
    const char *what)
{
	struct json_object	*vars, *ids, *page, *list;
	struct anilist_reply	*reply;
	long long		 want[WATCH_PER_HOP];
	size_t			 nwant = 0, k;
	int			 i;
	bool			 ok = false;

	for (i = 0; i < g->n; i++) {
		if (g->nodes[i].depth != depth || !g->nodes[i].expand ||
		    g->nodes[i].fetched)
			continue;
		if (nwant == WATCH_PER_HOP) {
			g->truncated = true;
			break;
		}
		want[nwant++] = g->nodes[i].id;
	}
	if (nwant == 0)
		return (true);
	/* Sorted ids: the same franchise asks the same question. */
	for (k = 1; k < nwant; k++) {
		long long v = want[k];
		size_t j = k;

		for (; j > 0 && want[j - 1] > v; j--)
			want[j] = want[j - 1];
		want[j] = v;
	}
	vars = json_object_new_object();
	ids = json_object_new_array();
	for (k = 0; k < nwant; k++)
		json_object_array_add(ids, json_object_new_int64(want[k]));
	json_object_object_add(vars, "ids", ids);
	json_object_object_add(vars, "perPage",
	    json_object_new_int(WATCH_PER_HOP));
	reply = &g->replies[g->nreplies++];
	if (!tools_fetch(call, &(struct anilist_request){
	    .op = TOOLS_OP_FRANCHISE_HOP, .vars = vars, .kind = "media",
	    .ttl = cfg->cache_ttl_media }, what, reply) ||
	    (page = tools_data(call, reply, "Page", what)) == NULL)
		goto out;
	list = shape_get(page, "media");
	for (k = 0; json_object_is_type(list, json_type_array) &&
	    k < json_object_array_length(list); k++)
		watch_take(g, json_object_array_get_idx(list, k));
	ok = true;
out:
	json_object_put(vars);
	return (ok);
}

/* Whether a and b are joined by a prequel or sequel relation either way. */
static bool
watch_main_link(const struct watch_graph *g, int a, int b)
{
	struct json_object	*edges, *e;
	const char		*t;
	size_t			 k;
	int			 from, to, pass;

	for (pass = 0; pass < 2; pass++) {
		from = pass == 0 ? a : b;
		to = pass == 0 ? b : a;
		if (!g->nodes[from].fetched)
			continue;
		edges = shape_get(shape_get(g->nodes[from].media,
		    "relations"), "edges");
		for (k = 0; json_object_is_type(edges, json_type_array) &&
		    k < json_object_array_length(edges); k++) {
			e = json_object_array_get_idx(edges, k);
			t = shape_get_str(e, "relationType");
			if (t != NULL && (strcmp(t, "PREQUEL") == 0 ||
			    strcmp(t, "SEQUEL") == 0) &&
			    watch_int(shape_get(e, "node"), "id", 0) ==
			    g->nodes[to].id)
				return (true);
		}
	}
	return (false);
}

/*
 * The main story: the titles joined to the anchor by prequels and sequels.
 * The anchor is the asked title, or its parent when it is a side story.
 */
static void
watch_mark_main(struct watch_graph *g)
{
	int	stack[WATCH_MAX_NODES], top = 0, anchor = 0, i, j;

	for (i = 1; i < g->n; i++) {
		if (g->nodes[i].parent == 0 && g->nodes[i].rel != NULL &&
		    strcmp(g->nodes[i].rel->type, "PARENT") == 0 &&
		    !watch_is_series(g->nodes[0].media)) {
			anchor = i;
			break;
		}
	}
	g->anchor = anchor;
	for (i = 0; i < g->n; i++)
		g->nodes[i].role = WATCH_OTHER;
	g->nodes[anchor].role = WATCH_MAIN;
	stack[top++] = anchor;
	while (top > 0) {
		i = stack[--top];
		for (j = 0; j < g->n; j++) {
			if (g->nodes[j].role != WATCH_MAIN &&
			    watch_main_link(g, i, j)) {
				g->nodes[j].role = WATCH_MAIN;
				stack[top++] = j;
			}
		}
	}
}

/*
 * The role and the main title of every other title, from how it was
 * found (parents are found before their children).
 */
static void
watch_mark_others(struct watch_graph *g)
{
	struct watch_node	*w, *p;
	int			 i;

	for (i = 0; i < g->n; i++) {
		w = &g->nodes[i];
		if (w->role == WATCH_MAIN) {
			w->anchor = i;
			continue;
		}
		if (w->parent < 0) {
			/* The asked title: a side story of its parent. */
			w->role = WATCH_SIDE;
			w->anchor = g->anchor;
			continue;
		}
		p = &g->nodes[w->parent];
		w->anchor = p->anchor;
		if (w->rel->role == WATCH_RECAP)
			w->role = WATCH_RECAP;
		else if (p->role == WATCH_MAIN)
			w->role = w->rel->role == WATCH_MAIN ? WATCH_SIDE :
			    w->rel->role;
		else
			w->role = p->role;
	}
}

typedef int (*watch_cmp)(const struct watch_graph *, int, int);

/* Sort the indices in v (a few dozen at most) by cmp. */
static void
watch_sort(const struct watch_graph *g, int *v, int n, watch_cmp cmp)
{
	int	i, j, x;

	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && cmp(g, v[j - 1], x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static int
watch_by_date(const struct watch_graph *g, int a, int b)
{
	const struct watch_node	*x = &g->nodes[a], *y = &g->nodes[b];

	if (x->date != y->date)
		return (x->date < y->date ? -1 : 1);
	return (x->id < y->id ? -1 : x->id > y->id);
}

/* Closest to the main story first: the ones kept when there are too many. */
static int
watch_by_nearness(const struct watch_graph *g, int a, int b)
{
	const struct watch_node	*x = &g->nodes[a], *y = &g->nodes[b];

	if (x->hidden != y->hidden)
		return (x->hidden ? 1 : -1);
	if ((x->role == WATCH_MAIN) != (y->role == WATCH_MAIN))
		return (x->role == WATCH_MAIN ? -1 : 1);
	if (x->depth != y->depth)
		return (x->depth - y->depth);
	return (watch_by_date(g, a, b));
}

/* Within one slot: recaps right after what they retell, then by date. */
static int
watch_by_slot(const struct watch_graph *g, int a, int b)
{
	const struct watch_node	*x = &g->nodes[a], *y = &g->nodes[b];

	if (x->slot != y->slot)
		return (x->slot - y->slot);
	if ((x->role == WATCH_RECAP) != (y->role == WATCH_RECAP))
		return (x->role == WATCH_RECAP ? -1 : 1);
	return (watch_by_date(g, a, b));
}

/*
 * Keep at most limit titles (the main story first, then the nearest),
 * number them in release order, and give each the main title it follows:
 * recaps follow what they retell; side stories follow their main title, or
 * a later one that came out before them (no spoilers); alternatives come
 * after everything.
 */
static void
watch_place(struct watch_graph *g, int limit)
{
	int	all[WATCH_MAX_NODES], i, k, pos;

	for (i = 0; i < g->n; i++)
		all[i] = i;
	watch_sort(g, all, g->n, watch_by_nearness);
	for (i = 0; i < g->n; i++) {
		g->nodes[all[i]].kept = i < limit && !g->nodes[all[i]].hidden;
		if (i >= limit && !g->nodes[all[i]].hidden)
			g->truncated = true;
	}
	watch_sort(g, all, g->n, watch_by_date);
	g->nmain = 0;
	for (i = 0, k = 0; i < g->n; i++) {
		if (!g->nodes[all[i]].kept)
			continue;
		g->nodes[all[i]].release = ++k;
		if (g->nodes[all[i]].role == WATCH_MAIN) {
			g->nodes[all[i]].slot = g->nmain;
			g->main[g->nmain++] = all[i];
		}
	}
	for (i = 0; i < g->n; i++) {
		struct watch_node *w = &g->nodes[i];

		if (!w->kept || w->role == WATCH_MAIN)
			continue;
		for (pos = 0; pos < g->nmain && g->main[pos] != w->anchor;
		    pos++)
			;
		if (pos == g->nmain)
			pos = 0;
		if (w->role == WATCH_ALTERNATIVE)
			pos = g->nmain;
		else if (w->role != WATCH_RECAP) {
			while (pos + 1 < g->nmain &&
			    g->nodes[g->main[pos + 1]].date <= w->date)
				pos++;
		}
		w->slot = pos;
	}
}

static const char *
watch_title(const struct watch_graph *g, int i)
{
	return (shape_title(g->nodes[i].media));
}

/* Why a title sits where it does, for a person. Caller frees. */
static char *
watch_reason(const struct watch_graph *g, int i, int main_pos)
{
	const struct watch_node	*w = &g->nodes[i];
	const char		*anchor = w->anchor >= 0 ?
				    watch_title(g, w->anchor) : "the series";
	struct buf		 b;

	buf_init(&b);
	switch (w->role) {
	case WATCH_MAIN:
		if (main_pos == 0)
			buf_printf(&b, "Start here: part 1 of %d of the main "
			    "story.", g->nmain);
		else
			buf_printf(&b, "Main story, part %d of %d: after %s.",
			    main_pos + 1, g->nmain,
			    watch_title(g, g->main[main_pos - 1]));
		break;
	case WATCH_RECAP:
		buf_printf(&b, "Recap of %s; skippable if you watched it.",
		    anchor);
		break;
	case WATCH_ALTERNATIVE:
		buf_printf(&b, "Alternative version of %s: the story told "
		    "another way; watch instead of it, not after.", anchor);
		break;
	default:
		buf_printf(&b, "%s %s; optional.",
		    w->role == WATCH_SIDE ? "Side story of" :
		    w->role == WATCH_SPIN_OFF ? "Spin-off of" : "Related to",
		    anchor);
		if (w->slot >= 0 && w->slot < g->nmain &&
		    g->main[w->slot] != w->anchor)
			buf_printf(&b, " It came out after %s; watch it after "
			    "that to avoid spoilers.",
			    watch_title(g, g->main[w->slot]));
		break;
	}
	return (buf_detach(&b));
}

static void
watch_add_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s != NULL ? json_object_new_string(s) :
	    NULL);
}

static void
watch_add_int(struct json_object *o, const char *key, struct json_object *src,
    const char *skey)
{
	long long	v = watch_int(src, skey, -1);

	json_object_object_add(o, key, v >= 0 ? json_object_new_int64(v) :
	    NULL);
}

/* One entry of the answer. */
static struct json_object *
watch_entry(const struct watch_graph *g, int i, int order, int main_pos)
{
	const struct watch_node	*w = &g->nodes[i];
	struct json_object	*o = json_object_new_object(), *t, *m = w->media;
	long long		 year;
	char			*reason;

	json_object_object_add(o, "order", json_object_new_int(order));
	json_object_object_add(o, "release_order",
	    json_object_new_int(w->release));
	json_object_object_add(o, "id", json_object_new_int64(w->id));
	t = json_object_new_object();
	watch_add_str(t, "romaji", shape_get_str(shape_get(m, "title"),
	    "romaji"));
	watch_add_str(t, "english", shape_get_str(shape_get(m, "title"),
	    "english"));
	json_object_object_add(o, "title", t);
	watch_add_str(o, "format", shape_get_str(m, "format"));
	watch_add_str(o, "status", shape_get_str(m, "status"));
	watch_add_int(o, "episodes", m, "episodes");
	watch_add_int(o, "duration", m, "duration");
	year = watch_int(shape_get(m, "startDate"), "year",
	    watch_int(m, "seasonYear", -1));
	json_object_object_add(o, "year", year > 0 ?
	    json_object_new_int64(year) : NULL);
	watch_add_str(o, "role", watch_role_names[w->role]);
	watch_add_str(o, "relation", w->rel != NULL && w->parent >= 0 ?
	    w->rel->type : NULL);
	json_object_object_add(o, "related_to", w->parent >= 0 ?
	    json_object_new_int64(g->nodes[w->parent].id) : NULL);
	json_object_object_add(o, "skippable",
	    json_object_new_boolean(w->role == WATCH_RECAP));
	reason = watch_reason(g, i, main_pos);
	watch_add_str(o, "reason", reason);
	free(reason);
	watch_add_str(o, "cover_image", shape_get_str(shape_get(m,
	    "coverImage"), "medium"));
	return (o);
}

/* The suggested order: each main title, then what follows it. */
static int
watch_suggested(const struct watch_graph *g, int *out)
{
	int	others[WATCH_MAX_NODES], n = 0, k = 0, i, pos, j = 0;

	for (i = 0; i < g->n; i++) {
		if (g->nodes[i].kept && g->nodes[i].role != WATCH_MAIN)
			others[n++] = i;
	}
	watch_sort(g, others, n, watch_by_slot);
	for (pos = 0; pos <= g->nmain; pos++) {
		if (pos < g->nmain)
			out[k++] = g->main[pos];
		while (j < n && g->nodes[others[j]].slot == pos)
			out[k++] = others[j++];
	}
	return (k);
}

/* "Watch order for X (5 titles): 1. A (2019, TV); 2. …" Caller frees. */
static char *
watch_summary(const struct watch_graph *g, const int *order, int n)
{
	const struct watch_node	*w;
	struct buf		 b;
	const char		*f;
	int			 i;

	buf_init(&b);
	buf_printf(&b, "Watch order for %s (%d title%s, %d in the main "
	    "story):", watch_title(g, 0), n, n == 1 ? "" : "s", g->nmain);
	for (i = 0; i < n && i < WATCH_SUMMARY_ENTRIES; i++) {
		w = &g->nodes[order[i]];
		f = shape_get_str(w->media, "format");
		buf_printf(&b, "%s %d. %s (", i > 0 ? ";" : "", i + 1,
		    watch_title(g, order[i]));
		if (w->date != 99999999)
			buf_printf(&b, "%lld, ", w->date / 10000);
		buf_printf(&b, "%s%s)", f != NULL ? f : "unknown format",
		    w->role == WATCH_RECAP ? ", recap, skippable" :
		    w->role != WATCH_MAIN ? ", optional" : "");
	}
	if (n > WATCH_SUMMARY_ENTRIES)
		buf_printf(&b, "; and %d more", n - WATCH_SUMMARY_ENTRIES);
	buf_puts(&b, ".");
	if (g->truncated)
		buf_puts(&b, " The franchise is larger; the titles farthest "
		    "from this one are left out.");
	return (buf_detach(&b));
}

/* Episodes and minutes of the main story, where AniList knows them. */
static struct json_object *
watch_main_story(const struct watch_graph *g)
{
	struct json_object	*o = json_object_new_object();
	long long		 eps = 0, minutes = 0, e, d;
	bool			 known = true;
	int			 i;

	for (i = 0; i < g->nmain; i++) {
		e = watch_int(g->nodes[g->main[i]].media, "episodes", -1);
		d = watch_int(g->nodes[g->main[i]].media, "duration", -1);
		if (e < 0 || d < 0)
			known = false;
		else {
			eps += e;
			minutes += e * d;
		}
	}
	json_object_object_add(o, "titles", json_object_new_int(g->nmain));
	json_object_object_add(o, "episodes", known ?
	    json_object_new_int64(eps) : NULL);
	json_object_object_add(o, "minutes", known ?
	    json_object_new_int64(minutes) : NULL);
	return (o);
}

/* The answer, from a graph whose roles and places are set. */
static struct json_object *
watch_result(const struct watch_graph *g, struct anilist_reply *reply)
{
	struct json_object	*result, *entries, *release, *anime, *t;
	int			 order[WATCH_MAX_NODES], rel[WATCH_MAX_NODES];
	int			 n, i, k, main_pos = 0;

	n = watch_suggested(g, order);
	entries = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object_array_add(entries, watch_entry(g, order[i], i + 1,
		    main_pos));
		if (g->nodes[order[i]].role == WATCH_MAIN)
			main_pos++;
	}
	for (i = 0, k = 0; i < g->n; i++) {
		if (g->nodes[i].kept)
			rel[k++] = i;
	}
	watch_sort(g, rel, k, watch_by_date);
	release = json_object_new_array();
	for (i = 0; i < k; i++)
		json_object_array_add(release,
		    json_object_new_int64(g->nodes[rel[i]].id));
	result = json_object_new_object();
	anime = json_object_new_object();
	json_object_object_add(anime, "id", json_object_new_int64(g->nodes[0].id));
	t = json_object_new_object();
	watch_add_str(t, "romaji", shape_get_str(shape_get(g->nodes[0].media,
	    "title"), "romaji"));
	watch_add_str(t, "english", shape_get_str(shape_get(g->nodes[0].media,
	    "title"), "english"));
	json_object_object_add(anime, "title", t);
	json_object_object_add(result, "anime", anime);
	json_object_object_add(result, "entries", entries);
	json_object_object_add(result, "release_order", release);
	json_object_object_add(result, "main_story", watch_main_story(g));
	json_object_object_add(result, "truncated",
	    json_object_new_boolean(g->truncated));
	return (tools_add_summary(result, watch_summary(g, order, n), reply));
}

static struct json_object *
watch_run(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct watch_graph	*g = xcalloc(1, sizeof *g);
	struct json_object	*root, *adult, *result = NULL;
	long long		 id = tools_arg_int(args, "id", 0);
	int			 depth, i;
	char			*what;

	xasprintf(&what, "anime %lld", id);
	g->n = 1;
	g->nodes[0].id = id;
	g->nodes[0].parent = -1;
	g->nodes[0].expand = true;
	g->nodes[0].anchor = g->nodes[0].slot = -1;
	for (depth = 0; depth < WATCH_HOPS; depth++) {
		if (!watch_hop(g, depth, call, what))
			goto out;
		if (depth == 0 && !g->nodes[0].fetched) {
			tool_fail(call, 404, "not_found", "id", "AniList has no "
			    "%s", what);
			goto out;
		}
	}
	root = g->nodes[0].media;
	g->nodes[0].date = watch_date(root);
	if (!tools_arg_bool(args, "include_adult")) {
		if ((adult = shape_get(root, "isAdult")) != NULL &&
		    json_object_get_boolean(adult)) {
			tool_fail(call, 404, "not_found", "id", "anime %lld is an "
			    "adult title; ask again with include_adult=true if "
			    "the user asked for adult titles", id);
			goto out;
		}
		for (i = 1; i < g->n; i++) {
			adult = shape_get(g->nodes[i].media, "isAdult");
			if (adult != NULL && json_object_get_boolean(adult))
				g->nodes[i].hidden = true;
		}
	}
	watch_mark_main(g);
	watch_mark_others(g);
	watch_place(g, (int)tools_arg_int(args, "limit", 10));
	result = watch_result(g, &g->replies[0]);
out:
	for (i = 0; i < g->nreplies; i++)
		anilist_reply_free(&g->replies[i]);
	free(g);
	free(what);
	return (result);
}

#define WATCH_ENTRY_SCHEMA						\
	"{\"type\":\"object\",\"required\":[\"order\",\"release_order\","	\
	"\"id\",\"title\",\"role\",\"skippable\",\"reason\"],"		\
	"\"properties\":{\"order\":{\"type\":\"integer\"},"		\
	"\"release_order\":{\"type\":\"integer\"},"			\
	"\"id\":{\"type\":\"integer\"},"				\
	"\"title\":{\"type\":\"object\",\"properties\":{"		\
	"\"romaji\":" SHAPE_NSTR ",\"english\":" SHAPE_NSTR "}},"	\
	"\"format\":" SHAPE_NSTR ",\"status\":" SHAPE_NSTR ","		\
	"\"episodes\":" SHAPE_NINT ",\"duration\":{\"type\":[\"integer\","	\
	"\"null\"],\"description\":\"minutes per episode\"},"		\
	"\"year\":" SHAPE_NINT ","					\
	"\"role\":{\"type\":\"string\",\"enum\":[\"main\",\"recap\","	\
	"\"side_story\",\"spin_off\",\"other\",\"alternative\"]},"	\
	"\"relation\":{\"type\":[\"string\",\"null\"],\"description\":"	\
	"\"AniList's relation from related_to to this title\"},"	\
	"\"related_to\":" SHAPE_NINT ","				\
	"\"skippable\":{\"type\":\"boolean\"},"			\
	"\"reason\":{\"type\":\"string\"},"				\
	"\"cover_image\":" SHAPE_NSTR "}}"

const struct tool tools_get_watch_order = {
	.name = "get_watch_order",
	.title = "Watch order",
	.description = "In what order to watch a franchise: the title's "
	    "prequels, sequels, side stories, spin-offs, recaps and "
	    "alternative versions, followed over AniList relations a few "
	    "hops. entries is the suggested order (the main story in "
	    "release order, side stories where they fit without spoilers, "
	    "recaps marked skippable, alternative versions last), each with "
	    "its format, episodes, year and the reason it sits there; "
	    "release_order lists the same ids by release date; the page of "
	    "a title is https://anilist.co/anime/{id}. Give the AniList id "
	    "(search_anime finds it).",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"required\":[\"id\"],\"properties\":{"
	    "\"id\":{\"type\":\"integer\",\"minimum\":1,"
	    "\"maximum\":2147483647,\"description\":\"AniList anime id of any "
	    "title of the franchise.\"},"
	    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":50,"
	    "\"default\":10,\"description\":\"Titles at most, 1 to 50; the "
	    "main story is kept first.\"},"
	    TOOLS_PROP_INCLUDE_ADULT
	    "}}",
	.output_schema = "{\"type\":\"object\",\"required\":[\"anime\","
	    "\"entries\",\"release_order\",\"main_story\",\"truncated\","
	    "\"text_summary\",\"source\"],\"properties\":{"
	    "\"anime\":{\"type\":\"object\",\"properties\":{"
	    "\"id\":{\"type\":\"integer\"},\"title\":{\"type\":\"object\"}}},"
	    "\"entries\":{\"type\":\"array\",\"items\":" WATCH_ENTRY_SCHEMA
	    "},\"release_order\":{\"type\":\"array\",\"items\":{\"type\":"
	    "\"integer\"}},\"main_story\":{\"type\":\"object\",\"properties\":{"
	    "\"titles\":{\"type\":\"integer\"},\"episodes\":" SHAPE_NINT ","
	    "\"minutes\":" SHAPE_NINT "}},"
	    "\"truncated\":{\"type\":\"boolean\"},"
	    "\"text_summary\":{\"type\":\"string\"},"
	    "\"source\":" SHAPE_SCHEMA_SOURCE "}}",
	.annotations = { .read_only = true, .destructive = false,
	    .idempotent = true, .open_world = true },
	.auth = TOOL_AUTH_NONE,
	.widget = "ui://widget/watch-order.html",
	.handler = watch_run,
	.keep_results = true,
};
