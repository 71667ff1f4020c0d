/* rescache.h: shaped tool results kept as JSON text in each worker, in front of memcached. */
#ifndef RESCACHE_H
#define RESCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/*
 * memcached holds AniList's answers; every cached request still parsed one,
 * shaped it and serialised the result. This first level keeps the finished
 * result text of public tools (the same arguments always give the same
 * answer) for as long as the memcached entry it came from is fresh, capped
 * by RESULT_CACHE_SECONDS, within RESULT_CACHE_KB bytes per worker process
 * (least recently used out first). A hit is served as the stored text: no
 * memcached round trip, no parse, no shaping.
 *
 * Values are handed out as rawjson nodes (rawjson.h): json-c objects that
 * serialise as the stored text, with its quoted form ready for MCP's text
 * content; they can be placed in a larger document but have no members to
 * read.
 */

/* What a hit says about itself. */
struct rescache_hit {
	const char	*kind;		/* cache kind of the data ("search") */
	bool		 empty;		/* its "results" array was empty */
};

/*
 * Look key up: a value (caller frees: json_object_put) or NULL when there
 * is none fresh, or the cache is off (RESULT_CACHE_KB = 0).
 */
struct json_object *rescache_get(const char *key, struct rescache_hit *hit);

/*
 * Keep result (borrowed; its "source.cache" is answered as "hit" later)
 * under key until fresh_until (unix ms). kind is a static string; empty
 * says whether its "results" were empty (given back with a hit).
 */
void	rescache_put(const char *key, struct json_object *result,
	    const char *kind, uint64_t fresh_until, bool empty);

/* Drop everything (tests; SIGHUP replaces whole workers instead). */
void	rescache_clear(void);

/* Numbers for tests and /health. */
struct rescache_stats {
	uint64_t	hits;
	uint64_t	misses;
	uint64_t	stores;
	uint64_t	evictions;
	size_t		entries;
	size_t		bytes;
};
void	rescache_stats_get(struct rescache_stats *out);

#endif
