/* anilist/batch.h: several AniList operations as one aliased GraphQL request, within AniList's complexity limit. */
#ifndef BATCH_H
#define BATCH_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct json_object;

/*
 * AniList refuses a query whose complexity passes 500 (graphql-php's rule:
 * every selected field costs 1 plus what it selects; aliases and arguments
 * are free). A batch keeps a margin below it.
 */
#define BATCH_COMPLEXITY_LIMIT	500
#define BATCH_COMPLEXITY_BUDGET	400
/* At most this many operations share one request. */
#define BATCH_MAX_PARTS		16

/* One operation of a batch: a named query of queries.h and its variables. */
struct batch_part {
	const char		*document;	/* "query Name($v:T){...}" */
	struct json_object	*vars;		/* borrowed; NULL: none */
};

/*
 * The complexity of an operation's document by AniList's rule: the fields
 * of its selection set at every depth. -1 when it has none.
 */
int	batch_complexity(const char *document);

/*
 * The request body (JSON) asking parts[0..n) at once: one query "Batch"
 * whose root fields are the parts' fields aliased "b<i>_<field>" and whose
 * variables are theirs renamed "b<i>_<name>". Appends to body.
 */
void	batch_build(const struct batch_part *parts, size_t n, struct buf *body);

/*
 * Part i's share of a batch answer's data object (borrowed): a new object
 * (caller puts) with its fields under their own names, or NULL when the
 * answer has none of them.
 */
struct json_object *batch_part_data(struct json_object *data, size_t i);

/*
 * The first entry of a batch answer's errors[] (body borrowed) whose path
 * starts with one of part i's aliases: borrowed, or NULL.
 */
struct json_object *batch_part_error(struct json_object *body, size_t i);

/* An errors[] entry that names no part: the whole request failed. */
bool	batch_error_unplaced(struct json_object *body, size_t n);

#endif
