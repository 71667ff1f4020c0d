/* accounts/cleanup.c: the periodic deletion of what expired in the account database (tokens, codes, login states, unused OAuth clients). */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "auth.h"
#include "cleanup.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "util.h"

/* pg_try_advisory_xact_lock key: the bytes of "agpclean". */
#define CLEANUP_LOCK_KEY	"7018702116602863982"

/* What expires, in the order it is deleted (children before parents). */
static const char *const cleanup_sql[] = {
	"DELETE FROM tokens WHERE expires_at < now()",
	"DELETE FROM authorization_codes "
	    "WHERE expires_at < now() - interval '1 day'",
	"DELETE FROM token_families f WHERE NOT EXISTS (SELECT 1 FROM tokens t "
	    "WHERE t.family_id = f.id) AND NOT EXISTS (SELECT 1 FROM "
	    "authorization_codes a WHERE a.family_id = f.id)",
	"DELETE FROM login_states WHERE expires_at < now()",
	"DELETE FROM oauth_clients WHERE last_code_at IS NULL AND "
	    "created_at < now() - $1::int * interval '1 day'",
};

static struct {
	pthread_mutex_t	lock;
	pthread_cond_t	wake;
	bool		stop;
	bool		running;
	pthread_t	tid;
} cleanup = {
	.lock = PTHREAD_MUTEX_INITIALIZER
};

/* Run every statement inside the caller's transaction; rows deleted. */
static bool
cleanup_statements(struct db_conn *c, long long *deleted, char **cause)
{
	const char	*params[1];
	char		 days[16];
	PGresult	*res;
	long long	 n;
	size_t		 i;

	snprintf(days, sizeof days, "%d", cfg->oauth_client_unused_days);
	params[0] = days;
	*deleted = 0;
	for (i = 0; i < nitems(cleanup_sql); i++) {
		res = db_exec(c, cleanup_sql[i], i == nitems(cleanup_sql) - 1 ?
		    1 : 0, params, cause);
		if (res == NULL)
			return (false);
		if (util_parse_ll(PQcmdTuples(res), &n))
			*deleted += n;
		PQclear(res);
	}
	return (true);
}

bool
cleanup_run(char **cause)
{
	struct db_conn	*c;
	PGresult	*res = NULL;
	long long	 deleted = 0;
	bool		 ok = false;

	if ((c = db_acquire(cause)) == NULL)
		return (false);
	if (!db_begin(c, cause))
		goto out;
	res = db_exec(c, "SELECT pg_try_advisory_xact_lock(" CLEANUP_LOCK_KEY
	    ")", 0, NULL, cause);
	if (res == NULL)
		goto out;
	if (PQgetvalue(res, 0, 0)[0] != 't') {
		ok = true;	/* another worker cleans right now */
		goto out;
	}
	if (!cleanup_statements(c, &deleted, cause) || !db_commit(c, cause))
		goto out;
	if (deleted > 0)
		log_info("expired account data deleted",
		    LF_INT("rows", deleted), LF_END);
	ok = true;
out:
	PQclear(res);
	db_rollback(c);
	db_release(c);
	return (ok);
}

static void *
cleanup_main(void *arg)
{
	struct timespec	 until;
	char		*cause = NULL;

	(void)arg;
	pthread_mutex_lock(&cleanup.lock);
	while (!cleanup.stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += cfg->cleanup_interval_seconds;
		while (!cleanup.stop && pthread_cond_timedwait(&cleanup.wake,
		    &cleanup.lock, &until) != ETIMEDOUT)
			;
		if (cleanup.stop)
			break;
		pthread_mutex_unlock(&cleanup.lock);
		if (!cleanup_run(&cause)) {
			log_warn("expired account data not deleted",
			    LF_STR("error", cause), LF_END);
			free(cause);
			cause = NULL;
		}
		pthread_mutex_lock(&cleanup.lock);
	}
	pthread_mutex_unlock(&cleanup.lock);
	return (NULL);
}

void
cleanup_init(void)
{
	pthread_condattr_t	attr;

	if (cleanup.running || !auth_enabled())
		return;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&cleanup.wake, &attr);
	pthread_condattr_destroy(&attr);
	cleanup.stop = false;
	if (pthread_create(&cleanup.tid, NULL, cleanup_main, NULL) != 0) {
		log_error("cannot start the cleanup thread", LF_END);
		pthread_cond_destroy(&cleanup.wake);
		return;
	}
	cleanup.running = true;
}

void
cleanup_shutdown(void)
{
	if (!cleanup.running)
		return;
	pthread_mutex_lock(&cleanup.lock);
	cleanup.stop = true;
	pthread_cond_signal(&cleanup.wake);
	pthread_mutex_unlock(&cleanup.lock);
	pthread_join(cleanup.tid, NULL);
	pthread_cond_destroy(&cleanup.wake);
	cleanup.running = false;
}
