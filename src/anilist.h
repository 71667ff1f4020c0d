/* anilist.h: the AniList GraphQL client: cache, rate-limit governor, breaker. */
#ifndef ANILIST_H
#define ANILIST_H

#include <stdbool.h>
#include <stdint.h>

struct json_object;

/* What one cached AniList operation produced, for a tool to shape. */
struct anilist_reply {
	/*
	 * The outcome as an HTTP status for our caller: 200 ok, 400 AniList
	 * refused the variables (validation), 401 token refused, 403 API
	 * disabled, 404 not found (null lookup), 429 rate limited with no
	 * stale copy, 502 bad answer, 503 unavailable (breaker open, 5xx,
	 * network), 504 deadline passed.
	 */
	int			 status;
	struct json_object	*data;		/* the "data" object, owned */
	struct json_object	*validation;	/* AniList's validation map */
	char			*message;	/* why, for a person; owned */
	int			 retry_after;	/* seconds, for 429/503 */
	const char		*cache;		/* "hit", "miss", "stale", "bypass" */
	uint64_t		 fetched_at;	/* unix ms the data came from AniList */
	long			 upstream_ms;	/* time spent on AniList, -1 if none */
	int			 upstream_calls; /* HTTP requests made to AniList */
};

/*
 * Run the named operation (queries.h) with vars (borrowed). kind names the
 * cache class ("search", "media" …) and ttl its lifetime in seconds; ttl 0
 * bypasses the cache (mutations). token is the user's AniList bearer token
 * or NULL; scope, when not NULL, partitions the cache ("user:42") so one
 * user's entries never serve another and can be invalidated together.
 * Returns true when out->status is 200; out is filled either way and must be
 * released with anilist_reply_free.
 */
bool	anilist_fetch(const char *, struct json_object *, const char *, int,
	    const char *, const char *, struct anilist_reply *);
void	anilist_reply_free(struct anilist_reply *);
/* Drop every cached entry of a scope (a user's own changes). */
void	anilist_invalidate_scope(const char *);

#endif
