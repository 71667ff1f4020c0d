/* accounts/db.h: PostgreSQL: a connection pool per worker process, parameterised queries, migrations. */
#ifndef DB_H
#define DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

struct json_object;

/* The schema version this binary needs (the highest sql/NNN_*.sql). */
#define DB_SCHEMA_VERSION	4

/* One checked-out connection; give it back with db_release. */
struct db_conn;

/* Is DATABASE_URL set (accounts enabled)? */
bool		 db_enabled(void);
/*
 * Set up this process's pool from cfg (no connection is made until the
 * first db_acquire). Call once per worker after fork; db_shutdown closes
 * every connection at exit.
 */
void		 db_init(void);
void		 db_shutdown(void);

/*
 * Check out a healthy connection: waits up to DB_POOL_TIMEOUT_MS for a free
 * one, connects lazily, and replaces a connection the server has closed.
 * NULL with *cause (caller frees) when the database cannot be reached.
 */
struct db_conn	*db_acquire(char **cause) __attribute__((warn_unused_result));
/* Return a connection; one left in a transaction is rolled back. NULL ok. */
void		 db_release(struct db_conn *c);

/*
 * Run one statement with n text parameters ($1 …; a NULL entry is SQL
 * NULL). Returns the result (caller PQclears) when the statement succeeded,
 * else NULL with *cause (caller frees); a connection that broke is closed
 * when released.
 */
PGresult	*db_exec(struct db_conn *c, const char *sql, int nparams,
		    const char *const *params, char **cause)
		    __attribute__((warn_unused_result));
/* db_exec for statements whose result is not needed. */
bool		 db_run(struct db_conn *c, const char *sql, int nparams,
		    const char *const *params, char **cause)
		    __attribute__((warn_unused_result));
bool		 db_begin(struct db_conn *c, char **cause)
		    __attribute__((warn_unused_result));
bool		 db_commit(struct db_conn *c, char **cause)
		    __attribute__((warn_unused_result));
/* Roll back an open transaction (errors only close the connection). */
void		 db_rollback(struct db_conn *c);

/* Bytes as a bytea text parameter ("\x…"); caller frees. */
char		*db_bytea_param(const void *p, size_t n);
/* A bytea column of a text result as bytes; caller frees, NULL if bad. */
unsigned char	*db_bytea_value(const PGresult *res, int row, int col,
		    size_t *len);

/*
 * Health: SELECT 1 with its latency, the schema version and the pool's
 * state into detail. False when the database is down or the schema is
 * older than DB_SCHEMA_VERSION.
 */
bool		 db_health(struct json_object *detail);

/*
 * Apply the pending sql/NNN_*.sql files of dir in order, each in its own
 * transaction and recorded in schema_migrations, under an advisory lock so
 * concurrent runs wait for each other. Running it again changes nothing.
 * Reports each step on out. False with *cause (caller frees).
 */
bool		 db_migrate(const char *conninfo, const char *dir, FILE *out,
		    char **cause) __attribute__((warn_unused_result));
/* The migrations directory: SQL_DIR, or PKGDATADIR/sql. Caller frees. */
char		*db_sql_dir(void);

#endif
