/* tools/my_airing.c: get_my_airing: the next episodes of the titles a user watches or plans, and the sequels of those they completed. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

#define MYAIR_NOW_STEP		600	/* "now" rounded down (cache-friendly) */
#define MYAIR_DAY		(24 * 3600)
#define MYAIR_EPISODES_MAX	50	/* episodes in one answer (a page) */
#define MYAIR_COMPLETED_MAX	50	/* completed titles looked at (a page) */
#define MYAIR_SEQUELS_MAX	10	/* sequels in one answer */

/* One request in progress. */
struct myair {
	struct tool_call	*call;
	struct json_object	*coll;		/* borrowed from the list reply */
	struct json_object	*notes;
	/* the answer's source: the least fresh of every fetch */
	const char		*cache;
	uint64_t		 fetched_at;
};

static const struct tool_annotations myair_read_only = {
	.read_only = true, .destructive = false, .idempotent = true,
	.open_world = true
};

/* Account for one finished fetch in the answer's source. */
static void
myair_account(struct myair *a, const struct anilist_reply *reply)
{
	static const char *const order[] = { "hit", "bypass", "miss",
	    "stale" };
	size_t	i, have = 0, got = 0;

	for (i = 0; i < nitems(order); i++) {
		if (a->cache != NULL && strcmp(a->cache, order[i]) == 0)
			have = i;
		if (reply->cache != NULL && strcmp(reply->cache, order[i]) == 0)
			got = i;
	}
	if (reply->cache != NULL && (a->cache == NULL || got > have))
		a->cache = order[got];
	if (reply->fetched_at != 0 &&
	    (a->fetched_at == 0 || reply->fetched_at < a->fetched_at))
		a->fetched_at = reply->fetched_at;
}

static long long
myair_int(struct json_object *o, const char *key, long long def)
{
	struct json_object	*v = shape_get(o, key);

	if (v == NULL || !(json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))
		return (def);
	return (json_object_get_int64(v));
}

/* Call fn for every entry of the list (entry, its status). */
static void
myair_each(struct json_object *coll, void (*fn)(void *, struct json_object *,
    const char *), void *arg)
{
	struct json_object	*lists = shape_get(coll, "lists"), *l, *es, *e;
	const char		*st;
	size_t			 i, j;

	if (lists == NULL || !json_object_is_type(lists, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(lists); i++) {
		l = json_object_array_get_idx(lists, i);
		es = shape_get(l, "entries");
		if (es == NULL || !json_object_is_type(es, json_type_array))
			continue;
		for (j = 0; j < json_object_array_length(es); j++) {
			e = json_object_array_get_idx(es, j);
			if ((st = shape_get_str(e, "status")) == NULL)
				st = shape_get_str(l, "status");
			if (st != NULL && shape_get(e, "media") != NULL)
				fn(arg, e, st);
		}
	}
}

/* Collecting media ids of entries with some statuses. */
struct myair_ids {
	const char		*status[2];
	struct json_object	*ids;	/* array of ints */
	size_t			 max;
	size_t			 skipped;
};

static void
myair_collect(void *arg, struct json_object *e, const char *st)
{
	struct myair_ids	*c = arg;
	size_t			 i;

	for (i = 0; i < nitems(c->status); i++) {
		if (c->status[i] != NULL && strcmp(c->status[i], st) == 0)
			break;
	}
	if (i == nitems(c->status))
		return;
	if (json_object_array_length(c->ids) >= c->max) {
		c->skipped++;
		return;
	}
	json_object_array_add(c->ids, json_object_new_int64(myair_int(
	    shape_get(e, "media"), "id", 0)));
}

/* The entry of media id on the list, or NULL (borrowed). */
struct myair_find {
	long long		 id;
	struct json_object	*entry;
	const char		*status;
};

static void
myair_find_fn(void *arg, struct json_object *e, const char *st)
{
	struct myair_find	*f = arg;

	if (f->entry == NULL && myair_int(shape_get(e, "media"), "id", 0) ==
	    f->id) {
		f->entry = e;
		f->status = st;
	}
}

static struct myair_find
myair_find(struct myair *a, long long id)
{
	struct myair_find	f = { id, NULL, NULL };

	myair_each(a->coll, myair_find_fn, &f);
	return (f);
}

/* The episodes airing in [from, to) for the ids (one call), shaped. */
static struct json_object *
myair_episodes(struct myair *a, struct json_object *ids, long long from,
    long long to)
{
	struct json_object	*vars, *page, *rows, *row, *out, *o;
	struct anilist_reply	 reply;
	struct myair_find	 f;
	char			 ts[32];
	size_t			 i;

	out = json_object_new_array();
	if (json_object_array_length(ids) == 0)
		return (out);
	vars = json_object_new_object();
	json_object_object_add(vars, "mediaIds", json_object_get(ids));
	/* AniList compares strictly: the window is [from, to). */
	json_object_object_add(vars, "airingAt_greater",
	    json_object_new_int64(from - 1));
	json_object_object_add(vars, "airingAt_lesser",
	    json_object_new_int64(to));
	json_object_object_add(vars, "perPage",
	    json_object_new_int(MYAIR_EPISODES_MAX));
	if (!tools_fetch(a->call, &(struct anilist_request){
	    .op = TOOLS_OP_USER_AIRING, .vars = vars, .kind = "airing",
	    .ttl = cfg->cache_ttl_trending }, NULL, &reply) ||
	    (page = tools_data(a->call, &reply, "Page", NULL)) == NULL) {
		json_object_put(out);
		out = NULL;
		goto done;
	}
	myair_account(a, &reply);
	rows = shape_get(page, "airingSchedules");
	for (i = 0; rows != NULL && json_object_is_type(rows,
	    json_type_array) && i < json_object_array_length(rows); i++) {
		row = json_object_array_get_idx(rows, i);
		f = myair_find(a, myair_int(row, "mediaId", 0));
		if (f.entry == NULL)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "anime",
		    works_shape(shape_get(f.entry, "media"), NULL));
		json_object_object_add(o, "list_status",
		    json_object_new_string(f.status));
		json_object_object_add(o, "progress", json_object_new_int64(
		    myair_int(f.entry, "progress", 0)));
		json_object_object_add(o, "episode", myair_int(row, "episode",
		    -1) >= 0 ? json_object_new_int64(myair_int(row, "episode",
		    -1)) : NULL);
		shape_time(myair_int(row, "airingAt", 0), ts);
		json_object_object_add(o, "airing_at",
		    json_object_new_string(ts));
		json_object_object_add(o, "airing_at_unix",
		    json_object_new_int64(myair_int(row, "airingAt", 0)));
		json_object_array_add(out, o);
	}
	if (json_object_get_boolean(shape_get(shape_get(page, "pageInfo"),
	    "hasNextPage")))
		json_object_array_add(a->notes, json_object_new_string("only "
		    "the first 50 episodes of the window are listed"));
done:
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (out);
}

/* One sequel edge of a completed title, unless the user has it already. */
static void
myair_sequel(struct myair *a, struct json_object *of, struct json_object *node,
    struct json_object *out)
{
	struct myair_find	 f;
	struct json_object	*o, *s;
	const char		*st = shape_get_str(node, "status");
	long long		 id = myair_int(node, "id", 0);
	size_t			 i;

	if (st == NULL || (strcmp(st, "RELEASING") != 0 &&
	    strcmp(st, "NOT_YET_RELEASED") != 0) || works_is_adult(node))
		return;
	for (i = 0; i < json_object_array_length(out); i++) {
		s = json_object_array_get_idx(out, i);
		if (myair_int(shape_get(s, "anime"), "id", 0) == id)
			return;
	}
	f = myair_find(a, id);
	if (f.status != NULL && strcmp(f.status, "COMPLETED") == 0)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "anime", works_shape(node, NULL));
	s = json_object_new_object();
	json_object_object_add(s, "id", json_object_new_int64(myair_int(of,
	    "id", 0)));
	json_object_object_add(s, "title", works_title(of));
	json_object_object_add(o, "sequel_of", s);
	json_object_object_add(o, "list_status", f.status != NULL ?
	    json_object_new_string(f.status) : NULL);
	json_object_array_add(out, o);
}

/* Sequels airing or announced of the completed titles (one call). */
static struct json_object *
myair_sequels(struct myair *a, struct json_object *ids)
{
	struct json_object	*vars, *page, *media, *m, *edges, *e, *out;
	struct anilist_reply	 reply;
	const char		*kind;
	size_t			 i, j;

	out = json_object_new_array();
	if (json_object_array_length(ids) == 0)
		return (out);
	vars = json_object_new_object();
	json_object_object_add(vars, "ids", json_object_get(ids));
	json_object_object_add(vars, "perPage",
	    json_object_new_int(MYAIR_COMPLETED_MAX));
	if (!tools_fetch(a->call, &(struct anilist_request){
	    .op = TOOLS_OP_FRANCHISE_HOP, .vars = vars, .kind = "media",
	    .ttl = cfg->cache_ttl_media }, NULL, &reply) ||
	    (page = tools_data(a->call, &reply, "Page", NULL)) == NULL) {
		json_object_put(out);
		out = NULL;
		goto done;
	}
	myair_account(a, &reply);
	media = shape_get(page, "media");
	for (i = 0; media != NULL && json_object_is_type(media,
	    json_type_array) && i < json_object_array_length(media); i++) {
		m = json_object_array_get_idx(media, i);
		edges = shape_get(shape_get(m, "relations"), "edges");
		for (j = 0; edges != NULL && json_object_is_type(edges,
		    json_type_array) && j < json_object_array_length(edges);
		    j++) {
			e = json_object_array_get_idx(edges, j);
			kind = shape_get_str(e, "relationType");
			if (kind != NULL && strcmp(kind, "SEQUEL") == 0 &&
			    json_object_array_length(out) < MYAIR_SEQUELS_MAX)
				myair_sequel(a, m, shape_get(e, "node"), out);
		}
	}
done:
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (out);
}

/* "2 episodes airing in the next 7 days on your list: A episode 3 at …; and 1 sequel: B." */
static char *
myair_summary(const char *who, long long days, struct json_object *eps,
    struct json_object *seqs)
{
	struct json_object	*o;
	struct buf		 b;
	size_t			 i, n = json_object_array_length(eps);
	size_t			 ns = json_object_array_length(seqs);

	buf_init(&b);
	buf_printf(&b, "%zu episode%s airing in %lld day%s for titles on %s "
	    "list", n, n == 1 ? "" : "s", days, days == 1 ? "" : "s", who);
	for (i = 0; i < n && i < SHAPE_SUMMARY_LINES; i++) {
		o = json_object_array_get_idx(eps, i);
		buf_puts(&b, i == 0 ? ": " : "; ");
		buf_printf(&b, "%s episode %lld at %s",
		    shape_title(shape_get(o, "anime")),
		    myair_int(o, "episode", 0), shape_get_str(o, "airing_at"));
	}
	buf_printf(&b, ". %zu sequel%s airing or announced for completed "
	    "titles", ns, ns == 1 ? "" : "s");
	for (i = 0; i < ns && i < SHAPE_SUMMARY_LINES; i++) {
		buf_puts(&b, i == 0 ? ": " : "; ");
		works_line(&b, shape_get(json_object_array_get_idx(seqs, i),
		    "anime"));
	}
	buf_puts(&b, ".");
	return (buf_detach(&b));
}

static struct json_object *
myair_run(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct myair		 a;
	struct myair_ids	 watch = { { "CURRENT", "PLANNING" }, NULL,
				    MYAIR_EPISODES_MAX * 10, 0 };
	struct myair_ids	 done = { { "COMPLETED", NULL }, NULL,
				    MYAIR_COMPLETED_MAX, 0 };
	struct anilist_reply	 reply, agg;
	struct json_object	*eps = NULL, *seqs = NULL, *result = NULL;
	const char		*name = tools_arg_str(args, "user_name");
	const char		*uname;
	long long		 now = (long long)time(NULL), from, days;
	char			*who, *s;

	(void)t;
	memset(&a, 0, sizeof a);
	a.call = call;
	a.notes = json_object_new_array();
	watch.ids = json_object_new_array();
	done.ids = json_object_new_array();
	from = tools_arg_int(args, "from", now - now % MYAIR_NOW_STEP);
	days = tools_arg_int(args, "days", 7);
	if ((a.coll = users_collection(call, auth, name, &reply)) == NULL)
		goto out;
	myair_account(&a, &reply);
	myair_each(a.coll, myair_collect, &watch);
	myair_each(a.coll, myair_collect, &done);
	if ((eps = myair_episodes(&a, watch.ids, from, from + days *
	    MYAIR_DAY)) == NULL)
		goto out;
	if ((seqs = tools_arg_bool(args, "include_sequels") ?
	    myair_sequels(&a, done.ids) : json_object_new_array()) == NULL)
		goto out;
	if (done.skipped > 0 && tools_arg_bool(args, "include_sequels")) {
		xasprintf(&s, "sequels were looked for in %d of the completed "
		    "titles; %zu more were not looked at", MYAIR_COMPLETED_MAX,
		    done.skipped);
		json_object_array_add(a.notes, json_object_new_string(s));
		free(s);
	}

	uname = shape_get_str(shape_get(a.coll, "user"), "name");
	if (name == NULL)
		who = xstrdup("your");
	else
		xasprintf(&who, "%s's", uname != NULL ? uname : name);
	result = json_object_new_object();
	json_object_object_add(result, "user", uname != NULL ?
	    json_object_new_string(uname) : NULL);
	json_object_object_add(result, "own_list",
	    json_object_new_boolean(name == NULL));
	json_object_object_add(result, "from", json_object_new_int64(from));
	json_object_object_add(result, "to",
	    json_object_new_int64(from + days * MYAIR_DAY));
	json_object_object_add(result, "episodes", json_object_get(eps));
	json_object_object_add(result, "sequels", json_object_get(seqs));
	json_object_object_add(result, "notes", json_object_get(a.notes));
	memset(&agg, 0, sizeof agg);
	agg.cache = a.cache;
	agg.fetched_at = a.fetched_at;
	tools_add_summary(result, myair_summary(who, days, eps, seqs), &agg);
	json_object_object_add(json_object_object_get(result, "source"),
	    "upstream_calls", json_object_new_int(call->upstream_calls));
	call->cache = a.cache;
	free(who);
out:
	json_object_put(eps);
	json_object_put(seqs);
	json_object_put(watch.ids);
	json_object_put(done.ids);
	json_object_put(a.notes);
	anilist_reply_free(&reply);
	return (result);
}

#define MYAIR_EPISODE_SCHEMA						\
	"{\"type\":\"object\",\"required\":[\"anime\",\"list_status\","	\
	"\"airing_at\"],\"properties\":{\"anime\":" WORKS_SCHEMA ","	\
	"\"list_status\":{\"type\":\"string\"},"			\
	"\"progress\":{\"type\":\"integer\"},"				\
	"\"episode\":" SHAPE_NINT ","					\
	"\"airing_at\":{\"type\":\"string\",\"description\":\"RFC 3339 "	\
	"UTC\"},\"airing_at_unix\":{\"type\":\"integer\"}}}"
#define MYAIR_SEQUEL_SCHEMA						\
	"{\"type\":\"object\",\"required\":[\"anime\",\"sequel_of\"],"	\
	"\"properties\":{\"anime\":" WORKS_SCHEMA ","			\
	"\"sequel_of\":{\"type\":\"object\",\"properties\":{"		\
	"\"id\":{\"type\":\"integer\"},\"title\":{\"type\":\"object\"}}},"	\
	"\"list_status\":" SHAPE_NSTR "}}"

const struct tool tools_get_my_airing = {
	.name = "get_my_airing",
	.title = "Airing on my list",
	.description = "What airs soon for a user: the episodes airing in the "
	    "next days (days, 1 to 14, default 7, from now or from a unix "
	    "time) of the titles on their list they are watching (CURRENT) "
	    "or planning (PLANNING), soonest first, and the sequels airing "
	    "or announced of titles they completed (not yet completed "
	    "themselves). Without user_name it is the signed-in user's own "
	    "list (needs sign-in); with user_name that user's public list. "
	    "At most 3 AniList calls.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    "\"user_name\":{\"type\":\"string\",\"minLength\":1,"
	    "\"maxLength\":64,\"description\":\"An AniList user name: that "
	    "user's public list. Leave it out for the signed-in user's own "
	    "list.\"},"
	    "\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":14,"
	    "\"default\":7,\"description\":\"How many days ahead, 1 to "
	    "14.\"},"
	    "\"from\":{\"type\":\"integer\",\"minimum\":0,"
	    "\"maximum\":2147483647,\"description\":\"Start, unix seconds "
	    "(default: now).\"},"
	    "\"include_sequels\":{\"type\":\"boolean\",\"default\":true,"
	    "\"description\":\"Also the sequels of completed titles.\"}"
	    "}}",
	.output_schema = "{\"type\":\"object\",\"required\":[\"user\","
	    "\"own_list\",\"from\",\"to\",\"episodes\",\"sequels\",\"notes\","
	    "\"text_summary\",\"source\"],\"properties\":{"
	    "\"user\":" SHAPE_NSTR ","
	    "\"own_list\":{\"type\":\"boolean\"},"
	    "\"from\":{\"type\":\"integer\"},\"to\":{\"type\":\"integer\"},"
	    "\"episodes\":{\"type\":\"array\",\"items\":" MYAIR_EPISODE_SCHEMA
	    "},"
	    "\"sequels\":{\"type\":\"array\",\"items\":" MYAIR_SEQUEL_SCHEMA
	    "},"
	    "\"notes\":" SHAPE_STRS ","
	    "\"text_summary\":{\"type\":\"string\"},"
	    "\"source\":" SHAPE_SCHEMA_SOURCE "}}",
	.annotations = myair_read_only,
	.auth = TOOL_AUTH_OPTIONAL,
	.handler = myair_run,
	.widget = "ui://widget/my-airing.html",
};
