/* tools/shape.h: compact, LLM-friendly results from AniList objects, and their output schemas. */
#ifndef TOOLS_SHAPE_H
#define TOOLS_SHAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct anilist_reply;
struct json_object;

/* Descriptions in lists are cut near this many bytes unless full=true. */
#define SHAPE_DESCRIPTION_MAX	300
/* Lines named in a text_summary before "and N more". */
#define SHAPE_SUMMARY_LINES	5

/*
 * Output JSON Schema fragments, composed by the tools' output schemas.
 * Null means unknown: AniList did not say.
 */
#define SHAPE_NSTR	"{\"type\":[\"string\",\"null\"]}"
#define SHAPE_NINT	"{\"type\":[\"integer\",\"null\"]}"
#define SHAPE_STRS	"{\"type\":\"array\",\"items\":{\"type\":\"string\"}}"
#define SHAPE_SCHEMA_TITLE						\
	"{\"type\":\"object\",\"properties\":{"				\
	"\"romaji\":" SHAPE_NSTR ",\"english\":" SHAPE_NSTR ","		\
	"\"native\":" SHAPE_NSTR "}}"
#define SHAPE_SCHEMA_NEXT_AIRING					\
	"{\"type\":[\"object\",\"null\"],\"properties\":{"		\
	"\"episode\":{\"type\":\"integer\"},"				\
	"\"at\":{\"type\":\"string\",\"description\":\"RFC 3339 UTC\"}}}"
#define SHAPE_MEDIA_PROPERTIES						\
	"\"id\":{\"type\":\"integer\"},"				\
	"\"type\":" SHAPE_NSTR ","					\
	"\"title\":" SHAPE_SCHEMA_TITLE ","				\
	"\"format\":" SHAPE_NSTR ",\"status\":" SHAPE_NSTR ","		\
	"\"episodes\":" SHAPE_NINT ",\"season\":" SHAPE_NSTR ","	\
	"\"season_year\":" SHAPE_NINT ",\"start_date\":" SHAPE_NSTR ","	\
	"\"chapters\":{\"type\":[\"integer\",\"null\"],"		\
	"\"description\":\"manga only (no episodes, season, studios or "	\
	"next_airing)\"},"						\
	"\"volumes\":{\"type\":[\"integer\",\"null\"],"		\
	"\"description\":\"manga only\"},"				\
	"\"genres\":" SHAPE_STRS ","					\
	"\"average_score\":{\"type\":[\"integer\",\"null\"],"		\
	"\"description\":\"0-100\"},"					\
	"\"popularity\":" SHAPE_NINT ","				\
	"\"studios\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"	\
	"\"description\":\"animation studios\"},"			\
	"\"next_airing\":" SHAPE_SCHEMA_NEXT_AIRING ","			\
	"\"cover_image\":" SHAPE_NSTR ",\"site_url\":" SHAPE_NSTR ","	\
	"\"description\":{\"type\":[\"string\",\"null\"],"		\
	"\"description\":\"plain text, cut unless full=true\"},"	\
	"\"is_adult\":{\"type\":\"boolean\"}"
#define SHAPE_SCHEMA_MEDIA						\
	"{\"type\":\"object\",\"required\":[\"id\",\"title\"],"		\
	"\"properties\":{" SHAPE_MEDIA_PROPERTIES "}}"
#define SHAPE_SCHEMA_PAGE_INFO						\
	"{\"type\":\"object\",\"required\":[\"page\",\"per_page\","	\
	"\"has_next_page\"],\"properties\":{"				\
	"\"page\":{\"type\":\"integer\"},"				\
	"\"per_page\":{\"type\":\"integer\"},"				\
	"\"has_next_page\":{\"type\":\"boolean\"}}}"
#define SHAPE_SCHEMA_SOURCE						\
	"{\"type\":\"object\",\"properties\":{"				\
	"\"cache\":{\"type\":[\"string\",\"null\"],"			\
	"\"enum\":[\"hit\",\"miss\",\"stale\",\"bypass\",null]},"	\
	"\"fetched_at\":" SHAPE_NSTR ","				\
	"\"queued_ms\":{\"type\":\"integer\",\"minimum\":1}}}"
/* The output schema of a paged list whose items follow item_schema. */
#define SHAPE_SCHEMA_LIST(item_schema, extra)				\
	"{\"type\":\"object\",\"required\":[\"results\",\"page_info\","	\
	"\"text_summary\",\"source\"],\"properties\":{"			\
	"\"results\":{\"type\":\"array\",\"items\":" item_schema "},"	\
	"\"page_info\":" SHAPE_SCHEMA_PAGE_INFO ","			\
	"\"text_summary\":{\"type\":\"string\"},"			\
	extra								\
	"\"source\":" SHAPE_SCHEMA_SOURCE "}}"

/* The member key of o, or NULL when absent, null or o is not an object. */
struct json_object *shape_get(struct json_object *o, const char *key);
/* The string member key of o, or NULL. */
const char *shape_get_str(struct json_object *o, const char *key);

/* Whether an AniList media (or a shaped one) is a manga (type MANGA). */
bool	 shape_is_manga(struct json_object *media);
/*
 * A compact media for lists (see SHAPE_SCHEMA_MEDIA); caller frees. A
 * manga has chapters and volumes instead of an anime's episodes, season,
 * season_year, studios and next_airing.
 */
struct json_object *shape_media(struct json_object *media, bool full);
/*
 * Everything a person asks about one media: the compact fields plus
 * synonyms, duration (anime only), dates, tags, scores, relations, trailer,
 * recommendations (adult ones left out unless include_adult), main
 * characters, where to watch (streaming links), how many users hold it in
 * each list status, the score distribution and the top reviews. Caller
 * frees.
 */
struct json_object *shape_media_details(struct json_object *media, bool full,
	    bool include_adult);
/* A character with its appearances; caller frees. */
struct json_object *shape_character(struct json_object *ch, bool full);
/* {page, per_page, has_next_page} from AniList's pageInfo, falling back to what was asked. */
struct json_object *shape_page_info(struct json_object *pi, int page,
	    int per_page);
/* {cache, fetched_at} of a reply. */
struct json_object *shape_source(const struct anilist_reply *r);
/* Unix seconds as an RFC 3339 UTC string ("2025-01-02T03:04:05Z"); out holds 32 bytes. */
void	 shape_time(long long secs, char *out);
/* The best title of a shaped media or character: romaji, else English, else native. */
const char *shape_title(struct json_object *shaped);
/* "Sousou no Frieren (2023, TV, 9.1/10)" for a shaped media. */
void	 shape_media_line(struct buf *b, struct json_object *m);
/* How shape_list_summary words a page (strings borrowed). */
struct shape_summary {
	const char	*one;		/* the noun, singular: "result" */
	const char	*many;		/* plural: "results" */
	const char	*what;		/* "for 'frieren'", or NULL */
	int		 page;
	bool		 has_next;
	/* Writes one shaped result. */
	void		(*line)(struct buf *b, struct json_object *shaped);
};
/*
 * The text_summary of a page of results: "12 results for 'frieren' (page
 * 1): A; B; …; and 7 more. More on page 2." Caller frees.
 */
char	*shape_list_summary(struct json_object *results,
	    const struct shape_summary *s);

#endif
