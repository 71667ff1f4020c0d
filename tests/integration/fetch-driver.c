/* fetch-driver.c: calls anilist_fetch from threads and prints each reply as a JSON line (tests only). */
#include "autoconf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "anilist.h"
#include "cache.h"
#include "config.h"
#include "governor.h"
#include "log.h"
#include "util.h"

/*
 * Configuration comes from the environment (MEMCACHED_SERVERS,
 * ANILIST_API_URL, UPSTREAM_* …) like the service's own, or from -c FILE.
 */
static const char	*driver_op;
static const char	*driver_kind;
static const char	*driver_scope;
static const char	*driver_token;
static const char	*driver_distinct;
/*
 * The -v text. Each call parses its own copy: json-c reference counts
 * are not atomic, so no json object is shared between threads.
 */
static const char	*driver_vars;
/* -X: one vars object, parsed once, that every call only borrows. */
static struct json_object *driver_shared;
static int		 driver_ttl = 60;
static int		 driver_calls = 1;
static int		 driver_pause_ms;
static bool		 driver_data;
static pthread_barrier_t driver_start;
static pthread_mutex_t	 driver_out = PTHREAD_MUTEX_INITIALIZER;

static void
driver_usage(void)
{
	fprintf(stderr, "usage: fetch-driver [-c file] -o op [-v json] "
	    "[-k kind] [-t ttl] [-n calls] [-j threads] [-s scope] "
	    "[-T token] [-D key] [-p ms] [-d] [-S] [-i] [-X]\n"
	    "       fetch-driver [-c file] -I scope\n"
	    "       fetch-driver [-c file] -H\n");
	exit(2);
}

static void
driver_print(struct json_object *o)
{
	pthread_mutex_lock(&driver_out);
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	pthread_mutex_unlock(&driver_out);
}

/* One call with vars (taken over), one line out. */
static void
driver_call(int thread, int i, struct json_object *vars)
{
	struct anilist_reply	 r;
	struct json_object	*o;
	uint64_t		 t0, start;
	double			 ms;

	start = util_wall_ms();
	t0 = util_mono_us();
	anilist_fetch(&(struct anilist_request){ .op = driver_op,
	    .vars = vars, .kind = driver_kind, .ttl = driver_ttl,
	    .token = driver_token, .scope = driver_scope }, &r);
	ms = (double)(util_mono_us() - t0) / 1000.0;

	o = json_object_new_object();
	json_object_object_add(o, "thread", json_object_new_int(thread));
	json_object_object_add(o, "i", json_object_new_int(i));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "start_ms",
	    json_object_new_int64((int64_t)start));
	json_object_object_add(o, "ms", json_object_new_double(ms));
	json_object_object_add(o, "status", json_object_new_int(r.status));
	json_object_object_add(o, "cache", json_object_new_string(r.cache));
	json_object_object_add(o, "fetched_at",
	    json_object_new_int64((int64_t)r.fetched_at));
	json_object_object_add(o, "upstream_ms",
	    json_object_new_int64(r.upstream_ms));
	json_object_object_add(o, "upstream_calls",
	    json_object_new_int(r.upstream_calls));
	json_object_object_add(o, "retry_after",
	    json_object_new_int(r.retry_after));
	if (r.message != NULL)
		json_object_object_add(o, "message",
		    json_object_new_string(r.message));
	if (r.validation != NULL)
		json_object_object_add(o, "validation",
		    json_object_get(r.validation));
	json_object_object_add(o, "has_data",
	    json_object_new_boolean(r.data != NULL));
	if (driver_data && r.data != NULL)
		json_object_object_add(o, "data", json_object_get(r.data));
	driver_print(o);
	json_object_put(o);
	if (vars != driver_shared)
		json_object_put(vars);
	anilist_reply_free(&r);
}

static void
driver_one(int thread, int i, int seq)
{
	struct json_object	*vars = NULL;

	if (driver_shared != NULL) {
		driver_call(thread, i, driver_shared);
		return;
	}
	if (driver_vars != NULL && (vars = json_tokener_parse(driver_vars)) ==
	    NULL)
		abort();
	if (driver_distinct != NULL) {
		if (vars == NULL)
			vars = json_object_new_object();
		json_object_object_add(vars, driver_distinct,
		    json_object_new_int(seq + 1));
	}
	driver_call(thread, i, vars);
}

/* -i: each line of stdin is the variables of one call, answered in turn. */
static void
driver_interactive(void)
{
	struct json_object	*vars;
	char			*line = NULL;
	size_t			 cap = 0;
	int			 i = 0;

	while (getline(&line, &cap, stdin) != -1) {
		if ((vars = json_tokener_parse(line)) == NULL) {
			fprintf(stderr, "fetch-driver: bad JSON line\n");
			continue;
		}
		driver_call(0, i++, vars);
	}
	free(line);
}

static void *
driver_thread(void *arg)
{
	int	thread = (int)(intptr_t)arg, i;

	pthread_barrier_wait(&driver_start);
	for (i = 0; i < driver_calls; i++) {
		driver_one(thread, i, thread * driver_calls + i);
		if (driver_pause_ms > 0 && i + 1 < driver_calls)
			usleep((useconds_t)driver_pause_ms * 1000);
	}
	anilist_thread_cleanup();
	cache_thread_cleanup();
	return (NULL);
}

static void
driver_stats(void)
{
	struct anilist_stats	 s;
	struct governor_stats	 g;
	struct json_object	*o = json_object_new_object();

	anilist_stats_get(&s);
#define S(f) json_object_object_add(o, #f, json_object_new_int64((int64_t)s.f))
	S(fetches);
	S(hits);
	S(misses);
	S(stale);
	S(bypass);
	S(failures);
	S(upstream_requests);
	S(upstream_failures);
	S(upstream_retries);
	S(rate_limited);
	S(singleflight_waits);
	S(singleflight_shared);
	S(breaker_rejects);
	S(governor_rejects);
#undef S
	governor_stats_get(&g);
	json_object_object_add(o, "governor_acquired",
	    json_object_new_int64((int64_t)g.acquired));
	json_object_object_add(o, "governor_local",
	    json_object_new_int64((int64_t)g.local));
	json_object_object_add(o, "stats", json_object_new_boolean(true));
	driver_print(o);
	json_object_put(o);
}

static void
driver_describe(void)
{
	struct json_object	*o = json_object_new_object();
	struct json_object	*servers = json_object_new_array();
	int			 up, total;

	json_object_object_add(o, "upstream_ok",
	    json_object_new_boolean(anilist_describe(o)));
	up = cache_probe(servers, &total);
	json_object_object_add(o, "cache_servers", servers);
	json_object_object_add(o, "cache_up", json_object_new_int(up));
	driver_print(o);
	json_object_put(o);
}

int
main(int argc, char **argv)
{
	const char	*path = NULL, *invalidate = NULL;
	char		*cause = NULL;
	pthread_t	*tids;
	struct json_object *vars;
	int		 ch, threads = 1, i, rc = 0;
	bool		 stats = false, describe = false, interactive = false;
	bool		 share = false;
	enum log_level	 level;

	while ((ch = getopt(argc, argv, "c:o:v:k:t:n:j:s:T:D:p:dSI:HiX")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			driver_op = optarg;
			break;
		case 'v':
			if ((vars = json_tokener_parse(optarg)) == NULL ||
			    !json_object_is_type(vars, json_type_object)) {
				fprintf(stderr, "fetch-driver: -v: not a JSON "
				    "object\n");
				return (2);
			}
			json_object_put(vars);
			driver_vars = optarg;
			break;
		case 'k':
			driver_kind = optarg;
			break;
		case 't':
			driver_ttl = atoi(optarg);
			break;
		case 'n':
			driver_calls = atoi(optarg);
			break;
		case 'j':
			threads = atoi(optarg);
			break;
		case 's':
			driver_scope = optarg;
			break;
		case 'T':
			driver_token = optarg;
			break;
		case 'D':
			driver_distinct = optarg;
			break;
		case 'p':
			driver_pause_ms = atoi(optarg);
			break;
		case 'd':
			driver_data = true;
			break;
		case 'S':
			stats = true;
			break;
		case 'I':
			invalidate = optarg;
			break;
		case 'H':
			describe = true;
			break;
		case 'i':
			interactive = true;
			break;
		case 'X':
			share = true;
			break;
		default:
			driver_usage();
		}
	}
	if ((driver_op == NULL && invalidate == NULL && !describe) ||
	    threads < 1 || driver_calls < 0 ||
	    (share && (driver_vars == NULL || driver_distinct != NULL)))
		driver_usage();
	if (share)
		driver_shared = json_tokener_parse(driver_vars);

	if ((cfg = config_load(path, &cause)) == NULL) {
		fprintf(stderr, "fetch-driver: %s\n", cause);
		free(cause);
		return (2);
	}
	/*
	 * The driver's threads stand for one worker's: every one of them may
	 * wait on AniList unless the environment keeps a reserve.
	 */
	cfg->threads = threads;
	if (getenv("UPSTREAM_RESERVE_THREADS") == NULL)
		cfg->upstream_reserve_threads = 0;
	log_set_role("driver");
	if (log_level_parse(cfg->log_level, &level))
		log_threshold = level;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return (1);

	if (invalidate != NULL)
		anilist_invalidate_scope(invalidate);
	else if (describe)
		driver_describe();
	else if (interactive) {
		driver_interactive();
		if (stats)
			driver_stats();
	}
	else {
		tids = xcalloc((size_t)threads, sizeof *tids);
		pthread_barrier_init(&driver_start, NULL, (unsigned)threads);
		for (i = 0; i < threads; i++) {
			if (pthread_create(&tids[i], NULL, driver_thread,
			    (void *)(intptr_t)i) != 0)
				abort();
		}
		for (i = 0; i < threads; i++)
			pthread_join(tids[i], NULL);
		pthread_barrier_destroy(&driver_start);
		free(tids);
		if (stats)
			driver_stats();
	}
	anilist_thread_cleanup();
	cache_thread_cleanup();
	json_object_put(driver_shared);
	config_free(cfg);
	curl_global_cleanup();
	return (rc);
}
