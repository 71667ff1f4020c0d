/* tools/tools.h: the tool definitions of the tools/ family and the helpers they share. */
#ifndef TOOLS_TOOLS_H
#define TOOLS_TOOLS_H

#include <stdbool.h>
#include <time.h>

#include "tool.h"
#include "util.h"

struct anilist_reply;
struct anilist_request;
struct json_object;

/* The named operations of queries.c the tools run. */
#define TOOLS_OP_SEARCH_MEDIA		"SearchMedia"
#define TOOLS_OP_TRENDING_MEDIA		"TrendingMedia"
#define TOOLS_OP_SEASONAL_MEDIA		"SeasonalMedia"
#define TOOLS_OP_MEDIA_DETAILS		"MediaDetails"
#define TOOLS_OP_MEDIA_BY_IDS		"MediaByIds"
#define TOOLS_OP_CHARACTER_BY_ID	"CharacterById"
#define TOOLS_OP_CHARACTER_SEARCH	"CharacterSearch"
#define TOOLS_OP_AIRING_SCHEDULE	"AiringSchedule"
#define TOOLS_OP_GENRES_AND_TAGS	"GenresAndTags"
#define TOOLS_OP_USER_LIST		"UserList"
#define TOOLS_OP_SAVE_LIST_ENTRY	"SaveListEntry"
#define TOOLS_OP_DELETE_LIST_ENTRY	"DeleteListEntry"
#define TOOLS_OP_MEDIA_LIST_ENTRY	"MediaListEntry"
#define TOOLS_OP_FRANCHISE_HOP		"FranchiseHop"
#define TOOLS_OP_STAFF_INFO		"StaffInfo"
#define TOOLS_OP_STUDIO_INFO		"StudioInfo"
#define TOOLS_OP_USER_AIRING		"UserAiring"
#define TOOLS_OP_USER_PROFILE		"UserProfile"
#define TOOLS_OP_TOGGLE_FAVOURITE	"ToggleFavourite"

/* AniList pages no deeper than this many items (page × per_page). */
#define TOOLS_MAX_DEPTH			5000
/* The widest airing window, in seconds. */
#define TOOLS_AIRING_MAX_WINDOW		(14 * 24 * 3600)

/* Input schema properties shared by several tools. */
#define TOOLS_PROP_PAGE							\
	"\"page\":{\"type\":\"integer\",\"minimum\":1,\"default\":1,"	\
	"\"description\":\"Page number, from 1 (page × per_page at most "	\
	"5000).\"}"
#define TOOLS_PROP_PER_PAGE(def, max)					\
	"\"per_page\":{\"type\":\"integer\",\"minimum\":1,"		\
	"\"maximum\":" #max ",\"default\":" #def ","			\
	"\"description\":\"Results per page, 1 to " #max ".\"}"
#define TOOLS_PROP_INCLUDE_ADULT					\
	"\"include_adult\":{\"type\":\"boolean\",\"default\":false,"	\
	"\"description\":\"Include adult (18+) titles; only when the "	\
	"user asks for them.\"}"
#define TOOLS_PROP_FULL							\
	"\"full\":{\"type\":\"boolean\",\"default\":false,"		\
	"\"description\":\"Full descriptions instead of ~300-character "	\
	"extracts.\"}"
#define TOOLS_PROP_SEASON						\
	"\"season\":{\"type\":\"string\",\"enum\":[\"WINTER\","	\
	"\"SPRING\",\"SUMMER\",\"FALL\"],\"description\":\"WINTER is "	\
	"Dec-Feb (December counts towards the next year), SPRING Mar-May, "	\
	"SUMMER Jun-Aug, FALL Sep-Nov.\"}"
#define TOOLS_PROP_MEDIA_TYPE(what)					\
	"\"media_type\":{\"type\":\"string\",\"enum\":[\"ANIME\","	\
	"\"MANGA\"],\"default\":\"ANIME\",\"description\":\"" what	\
	"\"}"
#define TOOLS_PROP_YEAR							\
	"\"year\":{\"type\":\"integer\",\"minimum\":1940,"		\
	"\"x-maximumYearOffset\":1,\"description\":\"Season year, from "	\
	"1940 to next year + 1.\"}"

/* tools/anime.c */
extern const struct tool tools_search_anime;
extern const struct tool tools_get_trending_anime;
extern const struct tool tools_get_seasonal_anime;
extern const struct tool tools_get_anime;
/* tools/characters.c */
extern const struct tool tools_get_character_info;
/* tools/airing.c */
extern const struct tool tools_get_airing_schedule;
/* tools/genres.c */
extern const struct tool tools_list_genres_and_tags;
/*
 * Check the genres and tags of args against AniList's lists (the cached
 * list_genres_and_tags data): a name in another case is put right; an
 * unknown one is a 400 naming the closest real names ("did you mean
 * Romance?"). When the lists cannot be had, true (the search goes on).
 */
bool	genres_check(struct json_object *args, struct tool_call *call);
/* tools/recommendations.c */
extern const struct tool tools_get_anime_recommendations;
/* tools/users.c */
extern const struct tool tools_get_user_list;
extern const struct tool tools_update_list_entry;
extern const struct tool tools_delete_list_entry;
/* tools/watch_order.c */
extern const struct tool tools_get_watch_order;
/* tools/staff.c */
extern const struct tool tools_get_staff_info;
/* tools/studios.c */
extern const struct tool tools_get_studio_info;
/* tools/picks.c */
extern const struct tool tools_pick_from_my_list;
/* One ranking of pick_from_my_list (strings borrowed). */
struct pick_query {
	const char	*status;	/* PLANNING or PAUSED */
	const char	*mood;		/* a mood's name, or NULL */
	long long	 minutes;	/* the time budget; 0: none */
	size_t		 count;
};
/*
 * The "picks" pick_from_my_list answers for a MediaListCollection
 * (borrowed): the titles of that status, best first, at most count, the
 * taste profile learned from the whole collection. Caller frees.
 */
struct json_object *pick_rank(struct json_object *coll,
		    const struct pick_query *q);
/* tools/my_airing.c */
extern const struct tool tools_get_my_airing;
/* tools/profile.c */
extern const struct tool tools_get_user_profile;
extern const struct tool tools_toggle_favourite;

/* tools/works.c: titles as a person's or a studio's works. */
/* The output schema of one work (works_shape). */
#define WORKS_SCHEMA							\
	"{\"type\":\"object\",\"required\":[\"id\",\"title\"],"	\
	"\"properties\":{\"id\":{\"type\":\"integer\"},"		\
	"\"title\":{\"type\":\"object\",\"properties\":{"		\
	"\"romaji\":{\"type\":[\"string\",\"null\"]},"		\
	"\"english\":{\"type\":[\"string\",\"null\"]}}},"		\
	"\"format\":{\"type\":[\"string\",\"null\"]},"		\
	"\"status\":{\"type\":[\"string\",\"null\"]},"		\
	"\"episodes\":{\"type\":[\"integer\",\"null\"]},"		\
	"\"year\":{\"type\":[\"integer\",\"null\"]},"		\
	"\"average_score\":{\"type\":[\"integer\",\"null\"]},"	\
	"\"popularity\":{\"type\":[\"integer\",\"null\"]},"	\
	"\"role\":{\"type\":[\"string\",\"null\"]},"		\
	"\"cover_image\":{\"type\":[\"string\",\"null\"]},"	\
	"\"site_url\":{\"type\":[\"string\",\"null\"]}}}"
/* {id, title, format, status, episodes, year, average_score, popularity, role?, cover_image, site_url}; caller owns. */
struct json_object *works_shape(struct json_object *media, const char *role);
/* {romaji, english} of a media; caller owns. */
struct json_object *works_title(struct json_object *media);
bool		 works_is_adult(struct json_object *media);
/* The plain-text description of o, cut unless full; NULL when none. */
struct json_object *works_description(struct json_object *o, bool full);
/* "Chainsaw Man (2022)" for a shaped work. */
void		 works_line(struct buf *b, struct json_object *work);
/* What get_staff_info and get_studio_info look up: one by id or by name. */
struct works_lookup {
	const char	*op;		/* the named operation */
	const char	*kind;		/* its cache class */
	int		 ttl;
	const char	*root;		/* the data field: "Staff", "Studio" */
	const char	*by_id;		/* "staff with id" */
	const char	*by_name;	/* "person named" */
	const char	*either;	/* "a staff id" */
};
/*
 * Fetch the one thing args name (id, or search with a name; exactly one):
 * data.<root> of reply (borrowed from it), or NULL with call's error set.
 * Release reply with anilist_reply_free either way (it is initialised
 * even when the arguments are refused).
 */
struct json_object *works_lookup(struct tool_call *call,
		    struct json_object *args, const struct works_lookup *wl,
		    struct anilist_reply *reply);
/*
 * The argument an AniList validation key stands for ("scoreRaw" is
 * "score"); the key itself when it has no other name.
 */
const char	*users_field_of(const char *key);
/*
 * Drop every cached list of a user: their scope (own lists) and the public
 * lists of their name. After their own changes, and when they leave.
 */
void		 users_invalidate(const struct tool_auth *auth);

/* The most entries users_collection reads (AniList's largest chunk). */
#define USERS_COLLECTION_MAX	500
/*
 * The whole anime list of user_name (public), or the caller's own when
 * name is NULL (401 without auth): data.MediaListCollection of reply
 * (borrowed from it), or NULL with call's error set. One UserList call,
 * cached per user; release reply with anilist_reply_free either way.
 */
struct json_object *users_collection(struct tool_call *call,
		    const struct tool_auth *auth, const char *name,
		    struct anilist_reply *reply);
/*
 * The cache scope of the public lists of a user name into out (len bytes,
 * at least TOOLS_NAME_SCOPE_LEN), so that the user's own changes drop them.
 */
#define TOOLS_NAME_SCOPE_LEN	72
void		 users_name_scope(const char *name, char *out, size_t len);

/* tools/season.c: the AniList season of a moment (UTC), a pure function. */
struct season {
	const char	*name;	/* "WINTER", "SPRING", "SUMMER", "FALL" */
	int		 year;	/* December belongs to WINTER of the next year */
};
struct season	season_at(time_t t);
/* The season of a month (1-12) of a calendar year. */
struct season	season_of(int month, int year);

/* tools/common.c: what every AniList-backed tool does. */
/* An argument after validation (present, or filled from its default). */
long long	 tools_arg_int(struct json_object *args, const char *key,
		    long long def);
bool		 tools_arg_bool(struct json_object *args, const char *key);
const char	*tools_arg_str(struct json_object *args, const char *key);
/* Add key to vars when the argument is present: same value, new name. */
void		 tools_var_copy(struct json_object *vars, const char *var,
		    struct json_object *args, const char *key);
/* 400 naming "page" when page × per_page passes TOOLS_MAX_DEPTH. */
bool		 tools_check_depth(struct json_object *args,
		    struct tool_call *call);
/*
 * Run req (borrowed) through anilist_fetch: public data in the shared
 * cache, or a user's when req carries their token or scope. Records cache
 * and upstream time in call; on failure maps the reply to call's error
 * (what says what was missing, e.g. "anime 42"). reply must be released
 * with anilist_reply_free either way.
 */
bool		 tools_fetch(struct tool_call *call,
		    const struct anilist_request *req, const char *what,
		    struct anilist_reply *reply);
/* data.<key> of a reply, or NULL with a 502/404 error in call. */
struct json_object *tools_data(struct tool_call *call,
		    struct anilist_reply *reply, const char *key,
		    const char *what);
/*
 * Add text_summary and source (the reply's cache and fetch time) to a
 * result, last; takes ownership of summary (a malloc'd string). Returns o.
 */
struct json_object *tools_add_summary(struct json_object *o, char *summary,
		    const struct anilist_reply *reply);
/*
 * The result of a paged list: {results, page_info, text_summary, source};
 * takes ownership of results, page_info and summary (a malloc'd string).
 */
struct json_object *tools_list_result(struct json_object *results,
		    struct json_object *page_info, char *summary,
		    const struct anilist_reply *reply);

#endif
