/* rescache.c: shaped tool results kept as JSON text in each worker, in front of memcached. */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "rawjson.h"
#include "rescache.h"
#include "util.h"

#define RESCACHE_BUCKETS	1024	/* a power of two */

/* One result, in the table alone (values handed out hold its text). */
struct rescache_entry {
	struct rescache_entry	*chain;		/* same bucket */
	struct rescache_entry	*newer, *older;	/* use order */
	uint64_t		 hash;
	uint64_t		 fresh_until;	/* unix ms */
	char			*key;
	const char		*kind;
	bool			 empty;
	struct rawjson		*text;		/* the result, "source.cache" hit */
	size_t			 bytes;		/* counted against the budget */
};

static pthread_mutex_t		 rescache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rescache_entry	*rescache_table[RESCACHE_BUCKETS];
static struct rescache_entry	*rescache_newest, *rescache_oldest;
static struct rescache_stats	 rescache_counts;	/* under the lock */

/* FNV-1a: keys are short and the table is ours alone. */
static uint64_t
rescache_hash(const char *s)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h);
}

static void
rescache_entry_free(struct rescache_entry *e)
{
	free(e->key);
	rawjson_free(e->text);
	free(e);
}

/* Lock held: e leaves the use order. */
static void
rescache_order_remove(struct rescache_entry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		rescache_newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		rescache_oldest = e->newer;
	e->newer = e->older = NULL;
}

/* Lock held: e becomes the most recently used. */
static void
rescache_order_push(struct rescache_entry *e)
{
	e->newer = NULL;
	e->older = rescache_newest;
	if (rescache_newest != NULL)
		rescache_newest->newer = e;
	rescache_newest = e;
	if (rescache_oldest == NULL)
		rescache_oldest = e;
}

/* Lock held: take e out of the table and the use order, and free it. */
static void
rescache_unlink(struct rescache_entry *e)
{
	struct rescache_entry	**pp;

	pp = &rescache_table[e->hash & (RESCACHE_BUCKETS - 1)];
	while (*pp != e)
		pp = &(*pp)->chain;
	*pp = e->chain;
	rescache_order_remove(e);
	rescache_counts.entries--;
	rescache_counts.bytes -= e->bytes;
	rescache_entry_free(e);
}

/* Lock held. */
static struct rescache_entry *
rescache_find(const char *key, uint64_t hash)
{
	struct rescache_entry	*e;

	for (e = rescache_table[hash & (RESCACHE_BUCKETS - 1)]; e != NULL;
	    e = e->chain)
		if (e->hash == hash && strcmp(e->key, key) == 0)
			return (e);
	return (NULL);
}

struct json_object *
rescache_get(const char *key, struct rescache_hit *hit)
{
	struct rescache_entry	*e;
	struct rawjson		*text = NULL;
	struct json_object	*o = NULL;
	uint64_t		 hash, now;

	if (cfg->result_cache_kb == 0)
		return (NULL);
	hash = rescache_hash(key);
	now = util_wall_ms();
	pthread_mutex_lock(&rescache_lock);
	if ((e = rescache_find(key, hash)) != NULL && e->fresh_until <= now) {
		rescache_unlink(e);
		e = NULL;
	}
	if (e != NULL) {
		rescache_order_remove(e);
		rescache_order_push(e);
		rescache_counts.hits++;
		hit->kind = e->kind;
		hit->empty = e->empty;
		text = rawjson_ref(e->text);
	} else
		rescache_counts.misses++;
	pthread_mutex_unlock(&rescache_lock);
	if (text != NULL) {
		o = rawjson_node(text);
		rawjson_free(text);
	}
	return (o);
}

/*
 * The text a hit answers with: result, with "source.cache" saying so,
 * "source.upstream_calls" (when the result counts them) 0 and no
 * "source.queued_ms" (a hit waits for nothing).
 */
static struct rawjson *
rescache_hit_text(struct json_object *result)
{
	struct json_object	*source, *was = NULL, *calls = NULL;
	struct json_object	*queued = NULL;
	struct rawjson		*text;
	const char		*s;
	size_t			 len;
	bool			 had = false;

	if (json_object_object_get_ex(result, "source", &source) &&
	    json_object_is_type(source, json_type_object)) {
		had = json_object_object_get_ex(source, "cache", &was);
		json_object_get(was);
		json_object_object_add(source, "cache",
		    json_object_new_string("hit"));
		if (json_object_object_get_ex(source, "upstream_calls",
		    &calls)) {
			json_object_get(calls);
			json_object_object_add(source, "upstream_calls",
			    json_object_new_int(0));
		}
		if (json_object_object_get_ex(source, "queued_ms", &queued)) {
			json_object_get(queued);
			json_object_object_del(source, "queued_ms");
		}
	} else
		source = NULL;
	s = json_object_to_json_string_length(result,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	text = rawjson_from_text(s, len);
	if (source != NULL) {
		if (had)
			json_object_object_add(source, "cache", was);
		else
			json_object_object_del(source, "cache");
		if (calls != NULL)
			json_object_object_add(source, "upstream_calls", calls);
		if (queued != NULL)
			json_object_object_add(source, "queued_ms", queued);
	}
	return (text);
}

void
rescache_put(const char *key, struct json_object *result, const char *kind,
    uint64_t fresh_until, bool empty)
{
	struct rescache_entry	*e, *old;
	size_t			 len, quoted;
	size_t			 budget = (size_t)cfg->result_cache_kb * 1024;
	uint64_t		 now = util_wall_ms();

	if (budget == 0 || fresh_until <= now)
		return;
	if (fresh_until > now + (uint64_t)cfg->result_cache_seconds * 1000)
		fresh_until = now + (uint64_t)cfg->result_cache_seconds * 1000;

	e = xcalloc(1, sizeof *e);
	e->key = xstrdup(key);
	e->hash = rescache_hash(key);
	e->kind = kind;
	e->fresh_until = fresh_until;
	e->empty = empty;
	e->text = rescache_hit_text(result);
	/* Made now, outside the lock: MCP answers carry it too. */
	(void)rawjson_text(rawjson_quoted(e->text), &quoted);
	(void)rawjson_text(e->text, &len);
	e->bytes = sizeof *e + strlen(e->key) + len + quoted;
	if (e->bytes > budget / 4) {
		/* One answer never takes more than a quarter of the room. */
		rescache_entry_free(e);
		return;
	}

	pthread_mutex_lock(&rescache_lock);
	if ((old = rescache_find(key, e->hash)) != NULL)
		rescache_unlink(old);
	while (rescache_oldest != NULL &&
	    rescache_counts.bytes + e->bytes > budget) {
		rescache_unlink(rescache_oldest);
		rescache_counts.evictions++;
	}
	e->chain = rescache_table[e->hash & (RESCACHE_BUCKETS - 1)];
	rescache_table[e->hash & (RESCACHE_BUCKETS - 1)] = e;
	rescache_order_push(e);
	rescache_counts.entries++;
	rescache_counts.bytes += e->bytes;
	rescache_counts.stores++;
	pthread_mutex_unlock(&rescache_lock);
}

void
rescache_clear(void)
{
	pthread_mutex_lock(&rescache_lock);
	while (rescache_oldest != NULL)
		rescache_unlink(rescache_oldest);
	pthread_mutex_unlock(&rescache_lock);
}

void
rescache_stats_get(struct rescache_stats *out)
{
	pthread_mutex_lock(&rescache_lock);
	*out = rescache_counts;
	pthread_mutex_unlock(&rescache_lock);
}
