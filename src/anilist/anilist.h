/* anilist/anilist.h: the AniList GraphQL client: cache, rate-limit governor, breaker. */
#ifndef ANILIST_H
#define ANILIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* What one cached AniList operation produced, for a tool to shape. */
struct anilist_reply {
	/*
	 * The outcome as an HTTP status for our caller: 200 ok, 400 AniList
	 * refused the variables (validation), 401 token refused, 403 API
	 * disabled, 404 not found (null lookup), 502 bad answer, 503
	 * unavailable (rate limited with no stale copy — AniList's 429 or our
	 * own budget — breaker open, 5xx, network), 504 deadline passed.
	 * 503 and 504 always carry retry_after.
	 */
	int			 status;
	struct json_object	*data;		/* the "data" object, owned */
	struct json_object	*validation;	/* AniList's validation map */
	char			*message;	/* why, for a person; owned */
	int			 retry_after;	/* seconds, for 429/503 */
	const char		*cache;		/* "hit", "miss", "stale", "bypass" */
	uint64_t		 fetched_at;	/* unix ms the data came from AniList */
	int			 ttl;		/* seconds it is fresh; 0 uncached */
	long			 upstream_ms;	/* time spent on AniList, -1 if none */
	int			 upstream_calls; /* HTTP requests made to AniList */
	/*
	 * ms the answer waited in the queue for AniList's request budget
	 * (its group's turn and the governor's pace); 0 when it went at once.
	 */
	long			 queued_ms;
};

/* One AniList operation to run (anilist_fetch). */
struct anilist_request {
	const char		*op;	/* a named operation of queries.h */
	struct json_object	*vars;	/* its variables, borrowed; NULL: none */
	const char		*kind;	/* cache class ("search" …); NULL: op */
	int			 ttl;	/* seconds fresh; 0 bypasses the cache */
	const char		*token;	/* the user's bearer token, or NULL */
	/*
	 * When not NULL, partitions the cache ("user:42") so one user's
	 * entries never serve another and can be invalidated together.
	 */
	const char		*scope;
	/*
	 * Monotonic ms by which every AniList call of the tool call must be
	 * done, retries included; 0: UPSTREAM_TIMEOUT_MS from now. A tool
	 * that makes several calls gives them all one deadline.
	 */
	uint64_t		 deadline;
	/*
	 * Worth less than an interactive call (a recommendation's second
	 * search): refused first when AniList's budget is nearly spent.
	 */
	bool			 optional;
};

/*
 * Run req (borrowed). A mutation is never cached, whatever req->ttl says.
 * Returns true when out->status is 200; out is filled either way and must
 * be released with anilist_reply_free.
 */
bool	anilist_fetch(const struct anilist_request *req,
	    struct anilist_reply *out);
void	anilist_reply_free(struct anilist_reply *r);
/*
 * Seconds data (an operation's "data" object, borrowed) stays fresh given
 * its kind's ttl: the details of a title still airing live at most
 * CACHE_TTL_RELEASING and never past its next episode; anything else ttl.
 */
int	anilist_ttl_of(struct json_object *data, int ttl);
/*
 * Count a cache hit of kind answered above this module (a result kept by
 * rescache.h), so hit rates include it.
 */
void	anilist_count_hit(const char *kind);
/* Drop every cached entry of a scope (a user's own changes). */
void	anilist_invalidate_scope(const char *scope);

/* Release this thread's HTTP handle (also done when the thread exits). */
void	anilist_thread_cleanup(void);

/*
 * How one AniList HTTP answer is taken: a 200 may still carry errors[] or a
 * null lookup, a 403 ("API disabled") is never retried.
 */
enum anilist_class {
	ANILIST_OK,		/* 200 with data */
	ANILIST_NOT_FOUND,	/* 404, or a lookup that came back null */
	ANILIST_INVALID,	/* 400: AniList refused the variables */
	ANILIST_UNAUTHORIZED,	/* 401: the token was refused */
	ANILIST_FORBIDDEN,	/* 403 ("API disabled"): never retried */
	ANILIST_RATE_LIMITED,	/* 429: pause until Retry-After */
	ANILIST_RETRY,		/* 5xx, 408: worth another try */
	ANILIST_BAD_ANSWER	/* not JSON, errors[] we cannot place, other */
};

/*
 * Classify an answer: HTTP status and the parsed body (NULL when it was
 * not JSON). *status gets the status for our caller, msg a reason for a
 * person, *validation AniList's validation map (borrowed from body) or
 * NULL.
 */
enum anilist_class anilist_classify(long http, struct json_object *body,
	    int *status, char *msg, size_t msglen,
	    struct json_object **validation);
const char *anilist_class_name(enum anilist_class cls);

/* Counters of this process, for metrics. */
struct anilist_stats {
	uint64_t	fetches;
	uint64_t	hits;
	uint64_t	misses;
	uint64_t	stale;
	uint64_t	bypass;
	uint64_t	failures;	/* replies other than 200 */
	uint64_t	upstream_requests;
	uint64_t	upstream_failures;
	uint64_t	upstream_retries;
	uint64_t	upstream_ms;	/* summed */
	uint64_t	rate_limited;	/* 429 from AniList */
	uint64_t	singleflight_waits;
	uint64_t	singleflight_shared;
	uint64_t	breaker_rejects;
	uint64_t	governor_rejects;
	uint64_t	bulkhead_rejects;	/* no thread left to wait */
	uint64_t	refreshes;	/* stale copies refreshed in the background */
	uint64_t	batches;	/* aliased requests of several operations */
	uint64_t	batched;	/* operations sent in them */
};
void	anilist_stats_get(struct anilist_stats *out);
/*
 * How many threads of a worker may wait on AniList at once: THREADS less
 * UPSTREAM_RESERVE_THREADS (default the larger of 2 and THREADS / 4), at
 * least 1. Beyond it an answer that needs AniList is served stale if a
 * stale copy exists, else refused with a 503 at once.
 */
int	anilist_engage_limit(void);

/*
 * The client's state for /health/upstream without calling AniList:
 * governor budget, AniList's last numbers, the pause, this worker's breaker
 * and the last AniList error into out. "state" is ok, breaker_open, paused
 * or degraded (AniList timed out within the last minute: calls still go,
 * and "status" says degraded), with a "reason" for a person when not ok.
 * False unless ok.
 */
bool	anilist_describe(struct json_object *out);

#endif
