/* accounts/db.c: PostgreSQL: a connection pool per worker process, parameterised queries, migrations. */
#include "autoconf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <openssl/evp.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

/* After a failed connect, requests fail fast for this long. */
#define DB_RETRY_MS		500
/* pg_advisory_lock key of `anilist-gpt migrate` ("agptmig" in ASCII). */
#define DB_MIGRATE_LOCK		"27413633313408871"
#define DB_MAX_MIGRATION	(4 * 1024 * 1024)

/* The schema's version: the highest applied migration, 0 for none. */
static const char db_version_sql[] =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";
enum db_version_col {
	DB_VERSION_MAX,
};
/* Every applied migration and the checksum it had then. */
static const char db_applied_sql[] =
    "SELECT version, checksum FROM schema_migrations";
enum db_applied_col {
	DB_APPLIED_VERSION,
	DB_APPLIED_CHECKSUM,
};
/* The migration lock, without waiting: "t" when taken. */
static const char db_trylock_sql[] =
    "SELECT pg_try_advisory_lock($1::bigint)";
enum db_trylock_col {
	DB_TRYLOCK_TAKEN,
};

struct db_conn {
	PGconn		*pg;
	bool		 busy;
	bool		 broken;	/* close instead of reusing */
};

static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 freed;
	struct db_conn	*conns;
	int		 size;
	bool		 ready;
	uint64_t	 retry_at_ms;	/* no connect attempt before this */
	char		*last_error;	/* why the last connect failed */
} db_pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

bool
db_enabled(void)
{
	return (cfg != NULL && cfg->database_url != NULL &&
	    *cfg->database_url != '\0');
}

void
db_init(void)
{
	pthread_condattr_t	attr;

	if (db_pool.ready || !db_enabled())
		return;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&db_pool.freed, &attr);
	pthread_condattr_destroy(&attr);
	db_pool.size = cfg->db_pool_size;
	db_pool.conns = xcalloc((size_t)db_pool.size, sizeof *db_pool.conns);
	db_pool.retry_at_ms = 0;
	db_pool.ready = true;
}

void
db_shutdown(void)
{
	int	i;

	if (!db_pool.ready)
		return;
	pthread_mutex_lock(&db_pool.lock);
	for (i = 0; i < db_pool.size; i++) {
		if (db_pool.conns[i].pg != NULL)
			PQfinish(db_pool.conns[i].pg);
	}
	free(db_pool.conns);
	db_pool.conns = NULL;
	free(db_pool.last_error);
	db_pool.last_error = NULL;
	db_pool.ready = false;
	pthread_mutex_unlock(&db_pool.lock);
	pthread_cond_destroy(&db_pool.freed);
}

/* This worker's pool for the gauges; the lock is held. */
static void
db_pool_report(void)
{
	int	i, busy = 0, idle = 0;

	for (i = 0; i < db_pool.size; i++) {
		if (db_pool.conns[i].busy)
			busy++;
		else if (db_pool.conns[i].pg != NULL)
			idle++;
	}
	metrics_db_pool(busy, idle);
}

/* The first line of a libpq message, for causes and logs. */
static char *
db_first_line(const char *msg)
{
	size_t	n;

	if (msg == NULL || *msg == '\0')
		return (xstrdup("unknown error"));
	n = strcspn(msg, "\r\n");
	return (xstrndup(msg, n));
}

/* Notices ("relation exists, skipping") are not errors: drop them. */
static void
db_notice(void *arg, const char *msg)
{
}

/* A new connection with this pool's timeouts; NULL with *cause. */
static PGconn *
db_connect(const char *conninfo, int statement_timeout_ms, char **cause)
{
	const char	*keys[] = { "dbname", "connect_timeout",
			    "application_name", NULL };
	const char	*vals[4];
	const char	*params[1];
	char		 timeout[16], stmt[16], *line;
	PGconn		*pg;
	PGresult	*res;

	snprintf(timeout, sizeof timeout, "%d", cfg->db_connect_timeout);
	vals[0] = conninfo;
	vals[1] = timeout;
	vals[2] = PACKAGE;
	vals[3] = NULL;
	pg = PQconnectdbParams(keys, vals, 1);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		line = db_first_line(pg != NULL ? PQerrorMessage(pg) : NULL);
		xasprintf(cause, "cannot connect to PostgreSQL: %s", line);
		free(line);
		PQfinish(pg);
		return (NULL);
	}
	PQsetNoticeProcessor(pg, db_notice, NULL);
	snprintf(stmt, sizeof stmt, "%d", statement_timeout_ms);
	params[0] = stmt;
	res = PQexecParams(pg,
	    "SELECT pg_catalog.set_config('statement_timeout', $1, false)",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		line = db_first_line(PQerrorMessage(pg));
		xasprintf(cause, "cannot set statement_timeout: %s", line);
		free(line);
		PQclear(res);
		PQfinish(pg);
		return (NULL);
	}
	PQclear(res);
	return (pg);
}

/*
 * An idle connection has nothing to read unless the server closed it or
 * sent an error (shutdown, terminated backend): either way, replace it.
 */
static bool
db_alive(PGconn *pg)
{
	struct pollfd	pfd;

	if (PQstatus(pg) != CONNECTION_OK ||
	    PQtransactionStatus(pg) != PQTRANS_IDLE)
		return (false);
	pfd.fd = PQsocket(pg);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return (false);
	return (poll(&pfd, 1, 0) == 0);
}

struct db_conn *
db_acquire(char **cause)
{
	struct db_conn	*c = NULL;
	struct timespec	 deadline;
	PGconn		*pg;
	uint64_t	 now, t0;
	int		 i, rc = 0;

	if (!db_pool.ready) {
		*cause = xstrdup("accounts are disabled: DATABASE_URL is not "
		    "set");
		return (NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += cfg->db_pool_timeout_ms / 1000;
	deadline.tv_nsec += (long)(cfg->db_pool_timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}

	t0 = util_mono_us();
	pthread_mutex_lock(&db_pool.lock);
	for (;;) {
		for (i = 0; i < db_pool.size; i++) {
			if (db_pool.conns[i].busy)
				continue;
			if (db_pool.conns[i].pg != NULL) {
				c = &db_pool.conns[i];
				break;
			}
			if (c == NULL)
				c = &db_pool.conns[i];
		}
		if (c != NULL || rc == ETIMEDOUT)
			break;
		rc = pthread_cond_timedwait(&db_pool.freed, &db_pool.lock,
		    &deadline);
	}
	if (c == NULL) {
		pthread_mutex_unlock(&db_pool.lock);
		metrics_db_wait((double)(util_mono_us() - t0) / 1e6);
		metrics_db_error();
		xasprintf(cause, "all %d database connections are busy "
		    "(waited %d ms)", db_pool.size, cfg->db_pool_timeout_ms);
		return (NULL);
	}
	c->busy = true;
	c->broken = false;
	db_pool_report();
	pthread_mutex_unlock(&db_pool.lock);
	metrics_db_wait((double)(util_mono_us() - t0) / 1e6);

	if (c->pg != NULL && !db_alive(c->pg)) {
		log_info("database connection lost; reconnecting", LF_END);
		PQfinish(c->pg);
		c->pg = NULL;
	}
	if (c->pg != NULL)
		return (c);

	now = util_mono_ms();
	pthread_mutex_lock(&db_pool.lock);
	if (now < db_pool.retry_at_ms) {
		xasprintf(cause, "%s", db_pool.last_error != NULL ?
		    db_pool.last_error : "database unavailable");
		pthread_mutex_unlock(&db_pool.lock);
		db_release(c);
		metrics_db_error();
		return (NULL);
	}
	pthread_mutex_unlock(&db_pool.lock);

	pg = db_connect(cfg->database_url, cfg->db_statement_timeout_ms,
	    cause);
	pthread_mutex_lock(&db_pool.lock);
	if (pg == NULL) {
		db_pool.retry_at_ms = util_mono_ms() + DB_RETRY_MS;
		free(db_pool.last_error);
		db_pool.last_error = xstrdup(*cause);
	} else
		db_pool.retry_at_ms = 0;
	pthread_mutex_unlock(&db_pool.lock);
	if (pg == NULL) {
		log_warn("database connect failed", LF_STR("error", *cause),
		    LF_END);
		db_release(c);
		metrics_db_error();
		return (NULL);
	}
	c->pg = pg;
	return (c);
}

void
db_release(struct db_conn *c)
{
	PGresult	*res;

	if (c == NULL)
		return;
	if (c->pg != NULL && !c->broken &&
	    PQstatus(c->pg) == CONNECTION_OK &&
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		res = PQexec(c->pg, "ROLLBACK");
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			c->broken = true;
		PQclear(res);
	}
	if (c->pg != NULL && (c->broken || PQstatus(c->pg) != CONNECTION_OK ||
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE)) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	pthread_mutex_lock(&db_pool.lock);
	c->busy = false;
	c->broken = false;
	db_pool_report();
	pthread_cond_signal(&db_pool.freed);
	pthread_mutex_unlock(&db_pool.lock);
}

PGresult *
db_exec(struct db_conn *c, const char *sql, int nparams,
    const char *const *params, char **cause)
{
	PGresult	*res;
	ExecStatusType	 st;
	char		*line;
	uint64_t	 t0 = util_mono_us();

	res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
	metrics_db_query((double)(util_mono_us() - t0) / 1e6);
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return (res);
	line = db_first_line(res != NULL ? PQresultErrorMessage(res) :
	    PQerrorMessage(c->pg));
	if (*line == '\0' || strcmp(line, "unknown error") == 0) {
		free(line);
		line = db_first_line(PQerrorMessage(c->pg));
	}
	xasprintf(cause, "database: %s", line);
	free(line);
	if (PQstatus(c->pg) != CONNECTION_OK)
		c->broken = true;
	PQclear(res);
	metrics_db_error();
	return (NULL);
}

bool
db_run(struct db_conn *c, const char *sql, int nparams,
    const char *const *params, char **cause)
{
	PGresult	*res;

	if ((res = db_exec(c, sql, nparams, params, cause)) == NULL)
		return (false);
	PQclear(res);
	return (true);
}

bool
db_begin(struct db_conn *c, char **cause)
{
	return (db_run(c, "BEGIN", 0, NULL, cause));
}

bool
db_commit(struct db_conn *c, char **cause)
{
	return (db_run(c, "COMMIT", 0, NULL, cause));
}

void
db_rollback(struct db_conn *c)
{
	PGresult	*res;

	if (c == NULL || c->pg == NULL ||
	    PQtransactionStatus(c->pg) == PQTRANS_IDLE)
		return;
	res = PQexec(c->pg, "ROLLBACK");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		c->broken = true;
	PQclear(res);
}

char *
db_bytea_param(const void *p, size_t n)
{
	char	*out;

	out = xmalloc(2 * n + 3);
	out[0] = '\\';
	out[1] = 'x';
	util_hex(p, n, out + 2);
	return (out);
}

unsigned char *
db_bytea_value(const PGresult *res, int row, int col, size_t *len)
{
	unsigned char	*tmp, *out;
	size_t		 n;

	if (PQgetisnull(res, row, col))
		return (NULL);
	tmp = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col),
	    &n);
	if (tmp == NULL)
		return (NULL);
	out = xmalloc(n + 1);
	memcpy(out, tmp, n);
	out[n] = '\0';
	PQfreemem(tmp);
	*len = n;
	return (out);
}

bool
db_health(struct json_object *detail)
{
	struct db_conn	*c;
	PGresult	*res;
	char		*cause = NULL;
	uint64_t	 t0;
	long long	 version = 0;
	int		 i, open = 0, busy = 0;
	bool		 ok = false;

	t0 = util_mono_us();
	if ((c = db_acquire(&cause)) == NULL)
		goto out;
	if ((res = db_exec(c, "SELECT 1", 0, NULL, &cause)) == NULL)
		goto out;
	PQclear(res);
	json_object_object_add(detail, "latency_ms", json_object_new_double(
	    (double)(util_mono_us() - t0) / 1000.0));
	res = db_exec(c, db_version_sql, 0, NULL, &cause);
	if (res != NULL) {
		if (!util_parse_ll(PQgetvalue(res, 0, DB_VERSION_MAX),
		    &version))
			version = 0;
		PQclear(res);
	}
	free(cause);
	cause = NULL;
	json_object_object_add(detail, "schema_version",
	    json_object_new_int64(version));
	json_object_object_add(detail, "schema_required",
	    json_object_new_int(DB_SCHEMA_VERSION));
	if (version < DB_SCHEMA_VERSION)
		xasprintf(&cause, "schema version %lld is older than %d: run "
		    "`anilist-gpt migrate`", version, DB_SCHEMA_VERSION);
	else
		ok = true;
out:
	db_release(c);
	if (db_pool.ready) {
		pthread_mutex_lock(&db_pool.lock);
		for (i = 0; i < db_pool.size; i++) {
			open += db_pool.conns[i].pg != NULL;
			busy += db_pool.conns[i].busy;
		}
		pthread_mutex_unlock(&db_pool.lock);
		json_object_object_add(detail, "pool_size",
		    json_object_new_int(db_pool.size));
		json_object_object_add(detail, "pool_open",
		    json_object_new_int(open));
		json_object_object_add(detail, "pool_in_use",
		    json_object_new_int(busy));
	}
	if (cause != NULL)
		json_object_object_add(detail, "error",
		    json_object_new_string(cause));
	free(cause);
	return (ok);
}

char *
db_sql_dir(void)
{
	if (cfg != NULL && cfg->sql_dir != NULL && *cfg->sql_dir != '\0')
		return (xstrdup(cfg->sql_dir));
	return (xstrdup(PKGDATADIR "/sql"));
}

/* One migration file: NNN_name.sql. */
struct db_migration {
	long long	 version;
	char		*name;
	char		*path;
};

/* Is name NNN_word.sql? Sets the version. */
static bool
db_migration_name(const char *name, long long *version)
{
	const char	*p = name;
	size_t		 len = strlen(name);
	long long	 v = 0;

	if (len < 7 || strcmp(name + len - 4, ".sql") != 0)
		return (false);
	if (!isdigit((unsigned char)*p))
		return (false);
	while (isdigit((unsigned char)*p)) {
		if (v > 100000000)
			return (false);
		v = v * 10 + (*p++ - '0');
	}
	if (*p++ != '_' || p == name + len - 4)
		return (false);
	for (; p < name + len - 4; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return (false);
	}
	*version = v;
	return (true);
}

static int
db_migration_cmp(const void *a, const void *b)
{
	const struct db_migration	*x = a, *y = b;

	return (x->version < y->version ? -1 : x->version > y->version);
}

static void
db_migrations_free(struct db_migration *m, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].path);
	}
	free(m);
}

/* The migration files of dir, sorted by version; false on duplicates. */
static bool
db_migrations_list(const char *dir, struct db_migration **out, size_t *nout,
    char **cause)
{
	DIR			*d;
	struct dirent		*de;
	struct db_migration	*m = NULL;
	size_t			 n = 0, i;
	long long		 v;

	if ((d = opendir(dir)) == NULL) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		return (false);
	}
	while ((de = readdir(d)) != NULL) {
		if (!db_migration_name(de->d_name, &v))
			continue;
		m = xrealloc(m, (n + 1) * sizeof *m);
		m[n].version = v;
		m[n].name = xstrdup(de->d_name);
		xasprintf(&m[n].path, "%s/%s", dir, de->d_name);
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(m, n, sizeof *m, db_migration_cmp);
	for (i = 1; i < n; i++) {
		if (m[i].version == m[i - 1].version) {
			xasprintf(cause, "%s and %s have the same version",
			    m[i - 1].name, m[i].name);
			db_migrations_free(m, n);
			return (false);
		}
	}
	*out = m;
	*nout = n;
	return (true);
}

/* A whole file (NUL-terminated) and its SHA-256 in hex; caller frees. */
static char *
db_read_file(const char *path, char *sha_hex, char **cause)
{
	FILE		*f;
	struct stat	 st;
	char		*text;
	unsigned char	 md[32];
	unsigned int	 mdlen = 0;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fileno(f), &st) != 0 || st.st_size > DB_MAX_MIGRATION) {
		xasprintf(cause, "%s: unreadable or larger than %d bytes",
		    path, DB_MAX_MIGRATION);
		fclose(f);
		return (NULL);
	}
	text = xmalloc((size_t)st.st_size + 1);
	if (fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		xasprintf(cause, "%s: short read", path);
		free(text);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	text[st.st_size] = '\0';
	if (EVP_Digest(text, (size_t)st.st_size, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != sizeof md) {
		xasprintf(cause, "%s: cannot hash", path);
		free(text);
		return (NULL);
	}
	util_hex(md, sizeof md, sha_hex);
	return (text);
}

/* Run a script (several statements, no parameters) on the connection. */
static bool
db_run_script(PGconn *pg, const char *sql, char **cause)
{
	PGresult	*res;
	char		*line;
	bool		 ok;

	res = PQexec(pg, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK ||
	    PQresultStatus(res) == PGRES_EMPTY_QUERY;
	if (!ok) {
		line = db_first_line(PQerrorMessage(pg));
		xasprintf(cause, "%s", line);
		free(line);
	}
	PQclear(res);
	return (ok);
}

static bool
db_params(PGconn *pg, const char *sql, int n, const char *const *params,
    PGresult **out, char **cause)
{
	PGresult	*res;
	char		*line;

	res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		line = db_first_line(PQerrorMessage(pg));
		xasprintf(cause, "%s", line);
		free(line);
		PQclear(res);
		return (false);
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return (true);
}

/* The version's recorded checksum, NULL if it was never applied. */
static const char *
db_applied_sum(const PGresult *res, long long version)
{
	long long	v;
	int		i;

	for (i = 0; i < PQntuples(res); i++) {
		if (util_parse_ll(PQgetvalue(res, i, DB_APPLIED_VERSION), &v) &&
		    v == version)
			return (PQgetvalue(res, i, DB_APPLIED_CHECKSUM));
	}
	return (NULL);
}

bool
db_migrate(const char *conninfo, const char *dir, FILE *out, char **cause)
{
	struct db_migration	*m = NULL;
	PGconn			*pg = NULL;
	PGresult		*applied = NULL, *res = NULL;
	const char		*params[3], *sum;
	char			 sha[65], version[24], *text = NULL, *why = NULL;
	size_t			 n = 0, i;
	int			 done = 0;
	bool			 ok = false, locked = false;

	if (!db_migrations_list(dir, &m, &n, cause))
		return (false);
	if ((pg = db_connect(conninfo, 0, cause)) == NULL)
		goto fail;

	params[0] = DB_MIGRATE_LOCK;
	if (!db_params(pg, db_trylock_sql, 1, params, &res, &why))
		goto fail_why;
	if (strcmp(PQgetvalue(res, 0, DB_TRYLOCK_TAKEN), "t") != 0) {
		fprintf(out, "another migration is running; waiting for it\n");
		fflush(out);
		if (!db_params(pg, "SELECT pg_advisory_lock($1::bigint)", 1,
		    params, NULL, &why))
			goto fail_why;
	}
	locked = true;
	PQclear(res);
	res = NULL;

	if (!db_run_script(pg, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version bigint PRIMARY KEY, name text NOT NULL, "
	    "checksum text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", &why))
		goto fail_why;
	if (!db_params(pg, db_applied_sql, 0, NULL, &applied, &why))
		goto fail_why;

	for (i = 0; i < n; i++) {
		if ((text = db_read_file(m[i].path, sha, cause)) == NULL)
			goto fail;
		if ((sum = db_applied_sum(applied, m[i].version)) != NULL) {
			if (strcmp(sum, sha) != 0)
				fprintf(out, "warning: %s changed after it was "
				    "applied; not applied again\n", m[i].name);
			free(text);
			text = NULL;
			continue;
		}
		snprintf(version, sizeof version, "%lld", m[i].version);
		params[0] = version;
		params[1] = m[i].name;
		params[2] = sha;
		if (!db_run_script(pg, "BEGIN", &why) ||
		    !db_run_script(pg, text, &why) ||
		    !db_params(pg, "INSERT INTO schema_migrations "
		    "(version, name, checksum) VALUES ($1, $2, $3)", 3, params,
		    NULL, &why) ||
		    !db_run_script(pg, "COMMIT", &why)) {
			xasprintf(cause, "%s: %s", m[i].name, why);
			free(why);
			why = NULL;
			goto fail;
		}
		free(text);
		text = NULL;
		fprintf(out, "applied %s\n", m[i].name);
		done++;
	}
	PQclear(applied);
	applied = NULL;
	if (!db_params(pg, db_version_sql, 0, NULL, &res, &why))
		goto fail_why;
	fprintf(out, "schema at version %s (%d migration%s applied now)\n",
	    PQgetvalue(res, 0, DB_VERSION_MAX), done, done == 1 ? "" : "s");
	ok = true;
	goto out;

fail_why:
	xasprintf(cause, "%s", why);
	free(why);
fail:
out:
	free(text);
	PQclear(res);
	PQclear(applied);
	if (pg != NULL && locked) {
		params[0] = DB_MIGRATE_LOCK;
		if (PQtransactionStatus(pg) != PQTRANS_IDLE)
			PQclear(PQexec(pg, "ROLLBACK"));
		PQclear(PQexecParams(pg, "SELECT pg_advisory_unlock($1::bigint)",
		    1, NULL, params, NULL, NULL, 0));
	}
	PQfinish(pg);
	db_migrations_free(m, n);
	return (ok);
}
