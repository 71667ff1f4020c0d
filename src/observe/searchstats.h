/* observe/searchstats.h: top searched titles, counted in the worker and flushed to PostgreSQL off the request path. */
#ifndef SEARCHSTATS_H
#define SEARCHSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct json_object;

/* Bytes of a normalised query (the column allows 100 characters). */
#define SEARCHSTATS_QUERY_MAX	100
/* Distinct queries a worker holds between two flushes; more are dropped. */
#define SEARCHSTATS_MAP_MAX	4096
/* Rows older than this many days are deleted. */
#define SEARCHSTATS_KEEP_DAYS	31

/*
 * A search query as it is counted: white space and control characters
 * (and U+00A0, U+3000) collapsed to one space, trimmed, ASCII letters
 * lowered (PostgreSQL lowers the rest when it stores them), cut at
 * SEARCHSTATS_QUERY_MAX bytes on a character boundary. out holds
 * SEARCHSTATS_QUERY_MAX + 1 bytes. False when nothing is left or in is not
 * UTF-8.
 */
bool	searchstats_normalise(const char *in, char *out);

/*
 * Once per worker after fork: with DATABASE_URL set, start the thread that
 * flushes every SEARCH_STATS_FLUSH_SECONDS. searchstats_shutdown stops it
 * and flushes what is left (the drain).
 */
void	searchstats_init(void);
void	searchstats_shutdown(void);

/*
 * The client address (REMOTE_ADDR, borrowed until the next call) of this
 * thread's request, whose searches searchstats_record tags; NULL when the
 * request ends. The serve pipeline sets it.
 */
void	searchstats_set_client(const char *remote_addr);

/*
 * Count one answered search by its query (raw; normalised here), and its
 * asker (searchstats_set_client) when the request has one. Never
 * touches PostgreSQL: a mutex and a hash probe. Without DATABASE_URL, or
 * with SEARCHSTATS_MAP_MAX queries already waiting, the search is dropped
 * and counted in search_stats_dropped_total.
 */
void	searchstats_record(const char *query);

/*
 * Write the waiting counts now, in one upsert, into the current hour. On
 * failure they are dropped (counted) and false comes back with *cause
 * (caller frees). Nothing waiting: true without touching PostgreSQL.
 */
bool	searchstats_flush(char **cause);

/* How many searches of this normalised query wait for the next flush. */
uint64_t searchstats_pending(const char *query);

/*
 * The most searched queries of a window ("24h", "7d" or "30d") that at
 * least TOP_SEARCH_MIN_USERS distinct clients asked in it, at most limit of
 * them, most searched first: *out is a JSON array of
 * {"query", "count"} (caller frees). False with *cause when PostgreSQL
 * cannot answer; a window that is not one of the three is a false with
 * *cause too (callers check it first with searchstats_window_valid).
 */
bool	searchstats_top(const char *window, int limit, struct json_object **out,
	    char **cause);
bool	searchstats_window_valid(const char *window);

/* A PostgreSQL text[] literal of n strings ("{\"a\",\"b\\\"c\"}"). */
void	searchstats_text_array(struct buf *b, const char *const *values,
	    size_t n);

#endif
