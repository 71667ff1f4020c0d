/* recommend/recommend.h: content similarity, taste profiles, candidate ranking and reasons for recommendations. */
#ifndef RECOMMEND_H
#define RECOMMEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/*
 * Everything here is pure and deterministic: it reads json-c media objects in
 * AniList's shape (id, title, synonyms, genres, tags{name rank},
 * studios{nodes{name isAnimationStudio}}, format, source, seasonYear,
 * startDate, popularity, averageScore, isAdult, trending, relations) and never
 * talks to the network, so the same code ranks live results, cached results
 * and the sample catalogue.
 */

/* The features of one media. */
struct recommend_media;

/*
 * Features of an AniList media object; NULL when it has no integer id.
 * Keeps a reference to the object (returned by recommend_media_json).
 */
struct recommend_media	*recommend_media_create(struct json_object *o);
void			 recommend_media_free(struct recommend_media *m);
int64_t			 recommend_media_id(const struct recommend_media *m);
/* The media object (borrowed). */
struct json_object	*recommend_media_json(const struct recommend_media *m);
/* A title for a person: userPreferred, else romaji, else English. */
const char		*recommend_media_title(const struct recommend_media *m);
/* The genres in AniList's order; NULL past the end. */
const char		*recommend_media_genre(const struct recommend_media *m,
			    size_t i);

/*
 * Content similarity in [0, 1] over genres, tags (rank-weighted when ranks
 * are present), animation studios, format, source and era. Symmetric; 1 for
 * a media with itself when every feature is known; 0 when nothing is shared.
 */
double	recommend_similarity(const struct recommend_media *a,
	    const struct recommend_media *b);

/*
 * True when b belongs to a's franchise: one lists the other among its
 * relations (sequel, prequel, side story, …), or their titles share a stem
 * ("Kimi ni Todoke" / "Kimi ni Todoke 2nd Season") and the shows look alike.
 */
bool	recommend_same_franchise(const struct recommend_media *a,
	    const struct recommend_media *b);

/*
 * The best match for a typed title among search results (a JSON array of
 * media): an exact title or synonym match first (case and punctuation
 * ignored), then the best match quality (prefix, substring, every word),
 * then popularity. Returns the index, or -1 when nothing matches at all.
 */
int	recommend_best_title_match(const char *query,
	    struct json_object *results);

/*
 * A taste profile learned from a user's MediaListCollection: signed
 * affinities for genres, tags, animation studios, formats and eras (decades).
 * Scores above the user's own level count for a feature, low scores and
 * DROPPED against; unscored entries count a little by status.
 */
struct recommend_profile;

/* From a MediaListCollection object (borrowed). Never NULL. */
struct recommend_profile *recommend_profile_create(struct json_object *coll);
void	recommend_profile_free(struct recommend_profile *p);
/* Whether the list holds this media id (any status). */
bool	recommend_profile_has(const struct recommend_profile *p, int64_t id);
/* List entries read, and how many of them had media with features. */
size_t	recommend_profile_entries(const struct recommend_profile *p);
size_t	recommend_profile_used(const struct recommend_profile *p);
/* The i-th strongest liked genre (affinity > 0); NULL past the end. */
const char *recommend_profile_genre(const struct recommend_profile *p,
	    size_t i);
/* Affinity of one feature ("genre", "tag", "studio", "format", "era"). */
double	recommend_profile_affinity(const struct recommend_profile *p,
	    const char *family, const char *name);
/*
 * The profile for a person: {"entries", "used", "genres": [{"name",
 * "weight"}…], "tags", "studios", "formats", "eras"}, strongest first, top n
 * of each. Caller frees the result.
 */
struct json_object *recommend_profile_json(const struct recommend_profile *p,
	    size_t top);
/* How well a media fits the profile, in [0, 1]; 0.5 is indifferent. */
double	recommend_profile_fit(const struct recommend_profile *p,
	    const struct recommend_media *m);

/*
 * One AniList search (SearchMedia by POPULARITY_DESC) that gathers content
 * candidates for a reference: every genre and tag listed is required.
 * Strings are borrowed from the media.
 */
struct recommend_search {
	const char	*genres[3];
	size_t		 ngenres;
	const char	*tags[1];
	size_t		 ntags;
};

/*
 * The candidate searches for a reference, most useful first; fills at most
 * max and returns how many.
 */
size_t	recommend_searches(const struct recommend_media *m,
	    struct recommend_search *out, size_t max);

/* Candidates gathered for one request, deduplicated by id. */
struct recommend_pool;

struct recommend_pool *recommend_pool_create(void);
void	recommend_pool_free(struct recommend_pool *pool);
/*
 * Add a media object (a reference is kept). rating is its AniList community
 * recommendation rating for the reference (0: not recommended), trending its
 * position in a trending list (1 = first; 0: not from one). A media seen
 * twice keeps the best of each.
 */
void	recommend_pool_add(struct recommend_pool *pool, struct json_object *o,
	    int rating, int trending);

enum recommend_kind {
	RECOMMEND_SIMILAR,
	RECOMMEND_TASTE,
	RECOMMEND_TRENDING
};

/* One ranking request. Pointers are borrowed. */
struct recommend_query {
	enum recommend_kind		 kind;
	/* similar: required; trending: the reference, or NULL with a profile */
	const struct recommend_media	*reference;
	/* taste: required; trending: used when there is no reference */
	const struct recommend_profile	*profile;
	size_t				 count;
	bool				 include_related;
	bool				 include_adult;
	const int64_t			*exclude;
	size_t				 nexclude;
	/* trending: the genres searched, named in reasons (may be empty) */
	const char *const		*genres;
	size_t				 ngenres;
};

/*
 * Rank the pool for the query: filter (the reference, excluded ids, adult
 * titles unless asked, titles on the profile's list, the reference's
 * franchise unless include_related), score, diversify, explain. Returns a
 * JSON array (caller frees) of {"anime": media object, "score": 0–1,
 * "reasons": [strings]}, best first, at most count long.
 */
struct json_object *recommend_rank(const struct recommend_query *q,
	    const struct recommend_pool *pool);

/*
 * Genre diversity of a ranked list (the array recommend_rank returns): 1
 * minus the mean pairwise Jaccard similarity of the genre sets; 0 for fewer
 * than two entries.
 */
double	recommend_genre_diversity(struct json_object *list);

#endif
