/* recommend/feedback.c: recommendation feedback in PostgreSQL: events, the list-add hook and accuracy. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "feedback.h"
#include "metrics.h"
#include "util.h"

static const char *const feedback_names[] = {
	[FEEDBACK_SHOWN] = "shown",
	[FEEDBACK_ACCEPTED] = "accepted",
	[FEEDBACK_DISMISSED] = "dismissed",
	[FEEDBACK_ADDED_TO_LIST] = "added_to_list",
};

bool
feedback_action_parse(const char *s, enum feedback_action *out)
{
	size_t	i;

	for (i = 0; s != NULL && i < nitems(feedback_names); i++) {
		if (strcmp(s, feedback_names[i]) == 0) {
			*out = (enum feedback_action)i;
			return (true);
		}
	}
	return (false);
}

const char *
feedback_action_name(enum feedback_action a)
{
	return (feedback_names[a]);
}

/* Count n stored events in recommendation_feedback_total{action}. */
static void
feedback_count(enum feedback_action action, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		metrics_feedback(feedback_names[action]);
}

/* A connection, or NULL with the 503 cause (not configured, down). */
static struct db_conn *
feedback_conn(char **cause)
{
	if (!db_enabled()) {
		*cause = xstrdup("recommendation feedback is not stored: the "
		    "server has no database configured");
		return (NULL);
	}
	return (db_acquire(cause));
}

/* One event; its id comes back. */
static const char feedback_insert_sql[] =
    "INSERT INTO recommendation_events (user_id, media_id, event, source) "
    "VALUES ($1, $2, $3, $4) RETURNING id";
enum feedback_insert_col {
	FEEDBACK_INSERT_ID,
};

int
feedback_record(long long user_id, long long media_id,
    enum feedback_action action, const char *reference, long long *id,
    char **cause)
{
	struct db_conn	*c;
	PGresult	*res;
	const char	*params[4];
	char		 user[24], media[24];
	int		 status = 503;

	snprintf(user, sizeof user, "%lld", user_id);
	snprintf(media, sizeof media, "%lld", media_id);
	params[0] = user_id > 0 ? user : NULL;
	params[1] = media;
	params[2] = feedback_names[action];
	params[3] = reference;
	if ((c = feedback_conn(cause)) == NULL)
		return (503);
	res = db_exec(c, feedback_insert_sql, 4, params, cause);
	if (res != NULL && PQntuples(res) == 1 &&
	    util_parse_ll(PQgetvalue(res, 0, FEEDBACK_INSERT_ID), id)) {
		status = 0;
		feedback_count(action, 1);
	} else if (res != NULL)
		*cause = xstrdup("the database did not return the event id");
	PQclear(res);
	db_release(c);
	return (status);
}

int
feedback_shown(long long user_id, const int64_t *ids, size_t n,
    const char *reference, char **cause)
{
	struct db_conn	*c;
	struct buf	 arr;
	const char	*params[3];
	char		 user[24];
	size_t		 i;
	int		 status = 503;

	if (n == 0)
		return (0);
	buf_init(&arr);
	buf_putc(&arr, '{');
	for (i = 0; i < n; i++)
		buf_printf(&arr, "%s%lld", i > 0 ? "," : "", (long long)ids[i]);
	buf_putc(&arr, '}');
	snprintf(user, sizeof user, "%lld", user_id);
	params[0] = user;
	params[1] = arr.data;
	params[2] = reference;
	if ((c = feedback_conn(cause)) == NULL)
		goto out;
	if (db_run(c, "INSERT INTO recommendation_events (user_id, media_id, "
	    "event, source) SELECT $1, m, 'shown', $3 "
	    "FROM unnest($2::integer[]) AS m", 3, params, cause)) {
		status = 0;
		feedback_count(FEEDBACK_SHOWN, n);
	}
	db_release(c);
out:
	buf_free(&arr);
	return (status);
}

int
feedback_list_added(long long user_id, long long media_id, bool *recorded,
    char **cause)
{
	struct db_conn	*c;
	PGresult	*res;
	const char	*params[3];
	char		 user[24], media[24], days[16];

	*recorded = false;
	if (user_id <= 0)
		return (0);
	snprintf(user, sizeof user, "%lld", user_id);
	snprintf(media, sizeof media, "%lld", media_id);
	snprintf(days, sizeof days, "%d", FEEDBACK_LIST_WINDOW_DAYS);
	params[0] = user;
	params[1] = media;
	params[2] = days;
	if ((c = feedback_conn(cause)) == NULL)
		return (503);
	/*
	 * Credit the latest showing of the title once: not when an accept
	 * or a list add already followed it.
	 */
	res = db_exec(c, "INSERT INTO recommendation_events (user_id, "
	    "media_id, event, source) "
	    "SELECT $1, $2, 'added_to_list', s.source FROM ("
	    "SELECT source, created_at FROM recommendation_events "
	    "WHERE user_id = $1 AND media_id = $2 AND event = 'shown' "
	    "AND created_at > now() - $3::int * interval '1 day' "
	    "ORDER BY created_at DESC, id DESC LIMIT 1) s "
	    "WHERE NOT EXISTS (SELECT 1 FROM recommendation_events a "
	    "WHERE a.user_id = $1 AND a.media_id = $2 "
	    "AND a.event IN ('accepted', 'added_to_list') "
	    "AND a.created_at >= s.created_at) RETURNING id", 3, params,
	    cause);
	if (res == NULL) {
		db_release(c);
		return (503);
	}
	*recorded = PQntuples(res) == 1;
	if (*recorded)
		feedback_count(FEEDBACK_ADDED_TO_LIST, 1);
	PQclear(res);
	db_release(c);
	return (0);
}

/* How many events of each kind the window holds. */
static const char feedback_counts_sql[] =
    "SELECT event, count(*) FROM recommendation_events "
    "WHERE created_at > now() - $1::int * interval '1 day' "
    "GROUP BY event";
enum feedback_counts_col {
	FEEDBACK_COUNTS_EVENT,
	FEEDBACK_COUNTS_N,
};

int
feedback_stats(int window_days, struct feedback_stats *st, char **cause)
{
	struct db_conn	*c;
	PGresult	*res;
	const char	*params[1];
	char		 days[16];
	long long	*slot, n, good, all;
	int		 i, status = 503;
	enum feedback_action a;

	memset(st, 0, sizeof *st);
	st->window_days = window_days;
	st->accuracy = -1;
	snprintf(days, sizeof days, "%d", window_days);
	params[0] = days;
	if ((c = feedback_conn(cause)) == NULL)
		return (503);
	res = db_exec(c, feedback_counts_sql, 1, params, cause);
	if (res == NULL)
		goto out;
	for (i = 0; i < PQntuples(res); i++) {
		if (!feedback_action_parse(PQgetvalue(res, i,
		    FEEDBACK_COUNTS_EVENT), &a) ||
		    !util_parse_ll(PQgetvalue(res, i, FEEDBACK_COUNTS_N), &n))
			continue;
		switch (a) {
		case FEEDBACK_SHOWN:
			slot = &st->shown;
			break;
		case FEEDBACK_ACCEPTED:
			slot = &st->accepted;
			break;
		case FEEDBACK_DISMISSED:
			slot = &st->dismissed;
			break;
		default:
			slot = &st->added_to_list;
			break;
		}
		*slot = n;
	}
	good = st->accepted + st->added_to_list;
	all = good + st->dismissed;
	if (all > 0)
		st->accuracy = (double)good / (double)all;
	status = 0;
out:
	PQclear(res);
	db_release(c);
	return (status);
}
