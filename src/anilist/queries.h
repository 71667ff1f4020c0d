/* anilist/queries.h: the named GraphQL operations sent to AniList, in one place. */
#ifndef QUERIES_H
#define QUERIES_H

#include <stddef.h>

/*
 * One named operation: the client POSTs
 * {"query": document, "operationName": name, "variables": {...}}.
 * Variables left out (or null) do not filter: AniList ignores null arguments.
 */
struct queries_op {
	const char	*name;
	const char	*document;
};

/* Page of media: search, filters and sort ($sort null: AniList's default). */
extern const char queries_search_media[];
/* Page of media by TRENDING_DESC, POPULARITY_DESC. */
extern const char queries_trending_media[];
/* Page of anime of one season by POPULARITY_DESC. */
extern const char queries_seasonal_media[];
/* One media with relations, recommendations, characters and stats. */
extern const char queries_media_details[];
/* Page of media by id (id_in), each in the compact selection. */
extern const char queries_media_by_ids[];
/* One character by id, with the media it appears in. */
extern const char queries_character_by_id[];
/* Page of characters by name. */
extern const char queries_character_search[];
/* Page of airing episodes in a time window, by TIME. */
extern const char queries_airing_schedule[];
/* Every genre and every media tag. */
extern const char queries_genres_and_tags[];
/* The user who owns the bearer token. */
extern const char queries_viewer[];
/* A user's list, by user id or name, in chunks of perChunk (max 500). */
extern const char queries_user_list[];
/* Mutation: create or update the viewer's list entry for a media. */
extern const char queries_save_list_entry[];
/* Mutation: delete one of the viewer's list entries by entry id. */
extern const char queries_delete_list_entry[];
/* A user's list entry for a media (finds the entry id to delete). */
extern const char queries_media_list_entry[];
/* A page of anime by id ($ids; $perPage at most 50) with their relations. */
extern const char queries_franchise_hop[];
/* One person (by id or name) with their anime and the roles they voice. */
extern const char queries_staff_info[];
/* One studio (by id or name) with its main titles and first/latest years. */
extern const char queries_studio_info[];
/* The episodes of some titles airing in a window, soonest first. */
extern const char queries_user_airing[];
/* A user's statistics (anime) and favourites, by id or name. */
extern const char queries_user_profile[];
/* Add or remove one favourite; answers the viewer's favourites. */
extern const char queries_toggle_favourite[];

/* Every operation above, by name; queries_nops entries. */
extern const struct queries_op queries_ops[];
extern const size_t queries_nops;

/* The document of the operation called name, or NULL if there is none. */
const char	*queries_get(const char *name);

#endif
