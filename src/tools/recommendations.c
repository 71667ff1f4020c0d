/* tools/recommendations.c: get_anime_recommendations: similar titles, taste profiles and trending genres, with reasons. */
#include "autoconf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "cache.h"
#include "config.h"
#include "feedback.h"
#include "log.h"
#include "recommend.h"
#include "tools/shape.h"
#include "tools/tools.h"
#include "util.h"

/*
 * The AniList calls a cold request may cost; a warm one costs none, since
 * every call goes through anilist_fetch's cache. The plan of calls is
 * fixed by the request (never by what happens to be cached), so a warm
 * answer is the same as the cold one:
 *   similar by id:     MediaDetails + 2 candidate searches
 *   similar by title:  SearchMedia (title) + MediaDetails + 1 search
 *   (similar also completes the community's picks that MediaDetails
 *   lists, with MediaByIds asked beside the searches)
 *   taste_profile:     UserList + 2 searches
 *   trending_genre:    the reference (MediaDetails, or SearchMedia by
 *                      title) or UserList, + 2 trending searches
 * The candidate searches are asked at once (rec_searches), so that cold
 * ones share one AniList request: 2 requests cold, 3 for similar by title.
 * REC_BUDGET bounds the reference and the searches; the picks' page comes
 * with them.
 */
#define REC_BUDGET		3
#define REC_PAGE		50	/* candidates per search (AniList max) */
#define REC_TITLE_RESULTS	10	/* search results a title is picked from */
#define REC_LIST_CHUNK		500	/* list entries read (AniList max) */
#define REC_PROFILE_TOP		5	/* profile features shown per family */
#define REC_NAME_MAX		50

#define REC_TYPES	"[\"similar\",\"taste_profile\",\"trending_genre\"]"

/* One request in progress. */
struct rec {
	struct tool_call	*call;
	struct json_object	*args;
	const struct tool_auth	*auth;
	const char		*type;
	bool			 include_adult;
	int			 planned;	/* AniList fetches planned */
	uint64_t		 deadline;	/* of every fetch (monotonic ms) */
	/* the answer's source: the least fresh of every fetch */
	const char		*cache;
	uint64_t		 fetched_at;
	long			 queued_ms;	/* the longest of the fetches' */
	struct json_object	*notes;		/* strings for the answer */
	/* what was gathered */
	enum recommend_kind	 kind;
	struct recommend_pool	*pool;		/* the candidates */
	struct json_object	*refj;		/* the reference, or NULL */
	struct recommend_media	*refm;		/* the same, for ranking */
	struct recommend_profile *profile;	/* from the list, or NULL */
	struct anilist_reply	 list_reply;	/* the list behind profile */
	const char		*genres[3];	/* trending: genres searched */
	size_t			 ng;
};

static const struct tool_annotations rec_read_only = {
	.read_only = true, .destructive = false, .idempotent = true,
	.open_world = true
};

static void __attribute__((format(printf, 2, 3)))
rec_note(struct rec *r, const char *fmt, ...)
{
	struct buf	b;
	va_list		ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	json_object_array_add(r->notes, json_object_new_string(b.data));
	buf_free(&b);
}

/* Account for one finished fetch in the answer's source. */
static void
rec_account(struct rec *r, const struct anilist_reply *reply)
{
	static const char *const order[] = { "hit", "bypass", "miss",
	    "stale" };
	size_t	i, have = 0, got = 0;

	for (i = 0; i < nitems(order); i++) {
		if (r->cache != NULL && strcmp(r->cache, order[i]) == 0)
			have = i;
		if (reply->cache != NULL && strcmp(reply->cache, order[i]) == 0)
			got = i;
	}
	if (reply->cache != NULL && (r->cache == NULL || got > have))
		r->cache = order[got];
	if (reply->fetched_at != 0 &&
	    (r->fetched_at == 0 || reply->fetched_at < r->fetched_at))
		r->fetched_at = reply->fetched_at;
	if (reply->queued_ms > r->queued_ms)
		r->queued_ms = reply->queued_ms;
}

static void	rec_side_account(struct rec *r, struct tool_call *side, bool ok,
		    const struct anilist_reply *reply);

/*
 * One planned AniList call. Required calls fail the request; optional
 * ones (candidate searches) are skipped once the budget is spent (retries
 * after failures) and their failure only adds a note.
 */
static bool
rec_fetch(struct rec *r, const struct anilist_request *req, const char *what,
    bool optional, struct anilist_reply *reply)
{
	struct anilist_request	 one = *req;
	struct tool_call	 side;
	bool			 ok;

	/* One deadline for every AniList call of the request. */
	one.deadline = r->deadline;
	one.optional = optional;
	req = &one;
	memset(reply, 0, sizeof *reply);
	r->planned++;
	if (optional && r->call->upstream_calls >= REC_BUDGET) {
		rec_note(r, "%s", "some candidates were not fetched: the "
		    "AniList call budget of this request was spent on retries");
		r->call->not_reusable = true;
		return (false);
	}
	if (!optional) {
		ok = tools_fetch(r->call, req, what, reply);
		if (ok)
			rec_account(r, reply);
		return (ok);
	}
	tool_call_init(&side);
	ok = tools_fetch(&side, req, what, reply);
	rec_side_account(r, &side, ok, reply);
	tool_call_free(&side);
	return (ok);
}

/* An optional fetch made on its own call (side), into the request's. */
static void
rec_side_account(struct rec *r, struct tool_call *side, bool ok,
    const struct anilist_reply *reply)
{
	r->call->upstream_calls += side->upstream_calls;
	if (side->upstream_ms >= 0)
		r->call->upstream_ms = (r->call->upstream_ms > 0 ?
		    r->call->upstream_ms : 0) + side->upstream_ms;
	/* The answer is only as fresh (and as keepable) as every part. */
	if (!ok || side->not_reusable)
		r->call->not_reusable = true;
	else if (side->fresh_until != 0 && (r->call->fresh_until == 0 ||
	    side->fresh_until < r->call->fresh_until))
		r->call->fresh_until = side->fresh_until;
	if (ok)
		rec_account(r, reply);
	else {
		log_warn("recommendation candidates unavailable",
		    LF_STR("error", side->error.message), LF_END);
		rec_note(r, "some candidates could not be fetched from AniList "
		    "(%s); the list may be shorter or less varied",
		    side->error.code);
	}
}

static struct json_object *
rec_strings(const char *const *v, size_t n)
{
	struct json_object	*a = json_object_new_array();
	size_t			 i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return (a);
}

/* SearchMedia variables for a page of anime; sort is one or two values. */
static struct json_object *
rec_search_vars(struct rec *r, int per_page, const char *sort1,
    const char *sort2)
{
	struct json_object	*vars = json_object_new_object(), *sort;

	json_object_object_add(vars, "page", json_object_new_int(1));
	json_object_object_add(vars, "perPage", json_object_new_int(per_page));
	json_object_object_add(vars, "type", json_object_new_string("ANIME"));
	sort = json_object_new_array();
	json_object_array_add(sort, json_object_new_string(sort1));
	if (sort2 != NULL)
		json_object_array_add(sort, json_object_new_string(sort2));
	json_object_object_add(vars, "sort", sort);
	if (!r->include_adult)
		json_object_object_add(vars, "isAdult",
		    json_object_new_boolean(false));
	return (vars);
}

/* Page.media of a SearchMedia reply, or NULL. */
static struct json_object *
rec_page_media(struct anilist_reply *reply)
{
	struct json_object	*page, *media;

	if (reply->data == NULL ||
	    !json_object_object_get_ex(reply->data, "Page", &page) ||
	    !json_object_object_get_ex(page, "media", &media) ||
	    !json_object_is_type(media, json_type_array))
		return (NULL);
	return (media);
}

/* One candidate search: what to ask and, once asked, what came back. */
struct rec_job {
	struct rec		*r;
	struct json_object	*vars;
	bool			 trending;
	struct json_object	*picks;		/* borrowed: MediaByIds for */
	struct anilist_request	 req;
	struct anilist_reply	 reply;
	struct tool_call	 side;
	bool			 ok;
	bool			 threaded;
	pthread_t		 tid;
};

/* What a candidate search requires: genres and tags (either may be empty). */
struct rec_job_query {
	const char *const	*genres;	/* borrowed */
	size_t			 ngenres;
	const char *const	*tags;		/* borrowed */
	size_t			 ntags;
	bool			 trending;	/* TRENDING_DESC first */
};

/* What job asks (its vars set): an optional fetch by r's deadline. */
static void
rec_job_ask(struct rec_job *job, const char *op, const char *kind, int ttl)
{
	job->req.op = op;
	job->req.vars = job->vars;
	job->req.kind = kind;
	job->req.ttl = ttl;
	job->req.deadline = job->r->deadline;
	job->req.optional = true;
}

/* A candidate search for q (borrowed; its strings are copied). */
static void
rec_job_init(struct rec *r, struct rec_job *job,
    const struct rec_job_query *q)
{
	memset(job, 0, sizeof *job);
	job->r = r;
	job->trending = q->trending;
	job->vars = q->trending ? rec_search_vars(r, REC_PAGE,
	    "TRENDING_DESC", "POPULARITY_DESC") : rec_search_vars(r, REC_PAGE,
	    "POPULARITY_DESC", NULL);
	if (q->ngenres > 0)
		json_object_object_add(job->vars, "genre_in",
		    rec_strings(q->genres, q->ngenres));
	if (q->ntags > 0)
		json_object_object_add(job->vars, "tag_in",
		    rec_strings(q->tags, q->ntags));
	rec_job_ask(job, TOOLS_OP_SEARCH_MEDIA, "search", q->trending ?
	    cfg->cache_ttl_trending : cfg->cache_ttl_default);
}

/*
 * The community's picks (recommendation nodes of the reference's details,
 * borrowed) in full: MediaByIds for the titles they name. False when they
 * name none.
 */
static bool
rec_picks_job_init(struct rec *r, struct rec_job *job,
    struct json_object *nodes)
{
	struct json_object	*ids = json_object_new_array(), *m;
	long long		 id;
	size_t			 i;

	memset(job, 0, sizeof *job);
	job->r = r;
	job->picks = nodes;
	for (i = 0; i < json_object_array_length(nodes); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(nodes,
		    i), "mediaRecommendation", &m) &&
		    (id = tools_arg_int(m, "id", -1)) > 0)
			json_object_array_add(ids, json_object_new_int64(id));
	if (json_object_array_length(ids) == 0) {
		json_object_put(ids);
		return (false);
	}
	job->vars = json_object_new_object();
	json_object_object_add(job->vars, "perPage",
	    json_object_new_int((int)json_object_array_length(ids)));
	json_object_object_add(job->vars, "ids", ids);
	rec_job_ask(job, TOOLS_OP_MEDIA_BY_IDS, "media", cfg->cache_ttl_default);
	return (true);
}

/*
 * The community's picks join the pool in their order (by rating), each
 * with its rating: in full from the MediaByIds page (media; NULL when it
 * failed), else as the details listed it.
 */
static void
rec_picks_add(struct rec *r, struct json_object *nodes,
    struct json_object *media)
{
	struct json_object	*node, *m, *full, *rating;
	size_t			 i, k;

	for (i = 0; i < json_object_array_length(nodes); i++) {
		node = json_object_array_get_idx(nodes, i);
		if (!json_object_object_get_ex(node, "mediaRecommendation",
		    &m) || m == NULL)
			continue;
		for (k = 0, full = NULL; media != NULL && full == NULL &&
		    k < json_object_array_length(media); k++)
			if (tools_arg_int(json_object_array_get_idx(media, k),
			    "id", -1) == tools_arg_int(m, "id", -2))
				full = json_object_array_get_idx(media, k);
		if (!json_object_object_get_ex(node, "rating", &rating))
			rating = NULL;
		recommend_pool_add(r->pool, full != NULL ? full : m,
		    rating != NULL ? json_object_get_int(rating) : 0, 0);
	}
}

/* Ask: touches nothing but the job (it may run on its own thread). */
static void *
rec_job_run(void *arg)
{
	struct rec_job	*job = arg;

	tool_call_init(&job->side);
	job->ok = tools_fetch(&job->side, &job->req, NULL, &job->reply);
	if (job->threaded) {
		anilist_thread_cleanup();
		cache_thread_cleanup();
	}
	return (NULL);
}

/*
 * The candidate searches of a request, asked at once (each on its own
 * thread but the first), so that their cold ones share one AniList request
 * (UPSTREAM_BATCH_MS); then their results join the pool in order. Trending
 * searches record each title's position. The community's picks join as
 * the details listed them when their page is not asked or fails.
 */
static void
rec_searches(struct rec *r, struct rec_job *jobs, size_t n)
{
	struct json_object	*media;
	size_t			 i, k, run = n;

	r->planned += (int)n;
	if (n > 0 && r->call->upstream_calls >= REC_BUDGET) {
		rec_note(r, "%s", "some candidates were not fetched: the "
		    "AniList call budget of this request was spent on retries");
		r->call->not_reusable = true;
		run = 0;
	}
	for (i = 1; i < run; i++)
		jobs[i].threaded = pthread_create(&jobs[i].tid, NULL,
		    rec_job_run, &jobs[i]) == 0;
	for (i = 0; i < run; i++)
		if (!jobs[i].threaded)
			rec_job_run(&jobs[i]);
	for (i = 1; i < run; i++)
		if (jobs[i].threaded)
			pthread_join(jobs[i].tid, NULL);
	for (i = 0; i < n; i++) {
		media = i < run && jobs[i].ok ?
		    rec_page_media(&jobs[i].reply) : NULL;
		if (jobs[i].picks != NULL)
			rec_picks_add(r, jobs[i].picks, media);
		else
			for (k = 0; media != NULL &&
			    k < json_object_array_length(media); k++)
				recommend_pool_add(r->pool,
				    json_object_array_get_idx(media, k), 0,
				    jobs[i].trending ? (int)k + 1 : 0);
		if (i >= run)
			continue;
		rec_side_account(r, &jobs[i].side, jobs[i].ok, &jobs[i].reply);
		tool_call_free(&jobs[i].side);
		anilist_reply_free(&jobs[i].reply);
	}
}

static void
rec_jobs_free(struct rec_job *jobs, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		json_object_put(jobs[i].vars);
}

/*
 * The reference by title: AniList's search results, best match first by
 * recommend_best_title_match. Returns the media object (caller puts).
 */
static struct json_object *
rec_resolve_title(struct rec *r, const char *title)
{
	struct json_object	*vars, *media, *out = NULL, *sort;
	struct anilist_reply	 reply;
	int			 best;

	/* The same variables as search_anime's, so they share a cache entry. */
	vars = json_object_new_object();
	json_object_object_add(vars, "page", json_object_new_int(1));
	json_object_object_add(vars, "perPage",
	    json_object_new_int(REC_TITLE_RESULTS));
	if (!r->include_adult)
		json_object_object_add(vars, "isAdult",
		    json_object_new_boolean(false));
	json_object_object_add(vars, "type", json_object_new_string("ANIME"));
	json_object_object_add(vars, "search", json_object_new_string(title));
	sort = json_object_new_array();
	json_object_array_add(sort, json_object_new_string("SEARCH_MATCH"));
	json_object_object_add(vars, "sort", sort);
	if (!rec_fetch(r, &(struct anilist_request){
	    .op = TOOLS_OP_SEARCH_MEDIA, .vars = vars, .kind = "search",
	    .ttl = cfg->cache_ttl_default }, NULL, false, &reply))
		goto out;
	media = rec_page_media(&reply);
	if ((best = recommend_best_title_match(title, media)) < 0) {
		tool_fail(r->call, 404, "not_found", "reference_title",
		    "AniList has no anime titled \"%s\"%s; check the spelling "
		    "or give reference_anime_id", title, r->include_adult ? "" :
		    " (adult titles left out)");
		goto out;
	}
	out = json_object_get(json_object_array_get_idx(media, (size_t)best));
out:
	anilist_reply_free(&reply);
	json_object_put(vars);
	return (out);
}

/* The reference with relations and recommendations (caller puts). */
static struct json_object *
rec_details(struct rec *r, long long id, const char *field)
{
	struct json_object	*vars, *media, *v, *out = NULL;
	struct anilist_reply	 reply;
	char			*what;

	xasprintf(&what, "anime with id %lld", id);
	vars = json_object_new_object();
	json_object_object_add(vars, "id", json_object_new_int64(id));
	/* Asked as get_anime asks by default: one cached answer for both. */
	json_object_object_add(vars, "type", json_object_new_string("ANIME"));
	if (!rec_fetch(r, &(struct anilist_request){
	    .op = TOOLS_OP_MEDIA_DETAILS, .vars = vars, .kind = "media",
	    .ttl = cfg->cache_ttl_media }, what, false, &reply) ||
	    (media = tools_data(r->call, &reply, "Media", what)) == NULL) {
		if (r->call->error.status == 404)
			tool_fail(r->call, 404, "not_found", field, "AniList has "
			    "no anime with id %lld", id);
		goto out;
	}
	if (json_object_object_get_ex(media, "type", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), "ANIME") != 0) {
		tool_fail(r->call, 400, "invalid_argument", field, "%lld is a "
		    "%s, not an anime; give an anime id", id,
		    json_object_get_string(v));
		goto out;
	}
	if (!r->include_adult && json_object_object_get_ex(media, "isAdult",
	    &v) && json_object_get_boolean(v)) {
		tool_fail(r->call, 404, "not_found", field, "anime %lld is an "
		    "adult title; ask again with include_adult=true if the user "
		    "wants it", id);
		goto out;
	}
	out = json_object_get(media);
out:
	anilist_reply_free(&reply);
	json_object_put(vars);
	free(what);
	return (out);
}

/* The reference of the request (id or title), or NULL with an error. */
static struct json_object *
rec_reference(struct rec *r, bool details)
{
	const char		*title = tools_arg_str(r->args,
				    "reference_title");
	long long		 id = tools_arg_int(r->args,
				    "reference_anime_id", 0);
	struct json_object	*found, *v;

	if (id > 0)
		return (rec_details(r, id, "reference_anime_id"));
	if ((found = rec_resolve_title(r, title)) == NULL || !details)
		return (found);
	v = json_object_object_get(found, "id");
	id = json_object_get_int64(v);
	json_object_put(found);
	return (rec_details(r, id, "reference_title"));
}

/* The user's list (public by name, or the caller's own), or NULL. */
static struct json_object *
rec_user_list(struct rec *r, struct anilist_reply *reply)
{
	const char		*name = tools_arg_str(r->args, "user_name");
	struct json_object	*vars, *coll = NULL;
	char			*what, name_scope[TOOLS_NAME_SCOPE_LEN];
	bool			 own = name == NULL;

	vars = json_object_new_object();
	if (own) {
		json_object_object_add(vars, "userId",
		    json_object_new_int64(r->auth->anilist_id));
		what = xstrdup("list for your account");
	} else {
		users_name_scope(name, name_scope, sizeof name_scope);
		json_object_object_add(vars, "userName",
		    json_object_new_string(name));
		xasprintf(&what, "public anime list of a user named \"%s\"",
		    name);
	}
	json_object_object_add(vars, "type", json_object_new_string("ANIME"));
	json_object_object_add(vars, "chunk", json_object_new_int(1));
	json_object_object_add(vars, "perChunk",
	    json_object_new_int(REC_LIST_CHUNK));
	if (rec_fetch(r, &(struct anilist_request){
	    .op = TOOLS_OP_USER_LIST, .vars = vars, .kind = "user_list",
	    .ttl = cfg->cache_ttl_user_list,
	    .token = own ? r->auth->anilist_token : NULL,
	    .scope = own ? r->auth->scope : name_scope }, what, false, reply))
		coll = tools_data(r->call, reply, "MediaListCollection", what);
	if (coll == NULL && r->call->error.status == 404 && !own)
		tool_fail(r->call, 404, "not_found", "user_name", "AniList has "
		    "no %s (the name may be wrong or the list private)", what);
	json_object_put(vars);
	free(what);
	return (coll);
}

/* Problems between arguments that the schema cannot say. */
static bool
rec_check_args(struct rec *r)
{
	bool		 by_id = tools_arg_int(r->args, "reference_anime_id",
			    0) > 0;
	const char	*title = tools_arg_str(r->args, "reference_title");
	const char	*name = tools_arg_str(r->args, "user_name");
	const char	*p;
	bool		 ref = by_id || title != NULL;
	bool		 user = name != NULL || r->auth != NULL;

	if (by_id && title != NULL) {
		tool_fail(r->call, 400, "invalid_argument", "reference_title",
		    "give reference_anime_id or reference_title, not both");
		return (false);
	}
	if (title != NULL) {
		/* A title is matched on its letters and digits. */
		for (p = title; *p != '\0'; p++) {
			if ((unsigned char)*p >= 0x80 || (*p >= '0' &&
			    *p <= '9') || (*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z'))
				break;
		}
		if (*p == '\0') {
			tool_fail(r->call, 400, "invalid_argument",
			    "reference_title", "reference_title has no letters "
			    "or digits");
			return (false);
		}
	}
	if (name != NULL) {
		for (p = name; *p != '\0'; p++) {
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    *p == '_' || *p == '-'))
				break;
		}
		if (*p != '\0' || p == name) {
			tool_fail(r->call, 400, "invalid_argument", "user_name",
			    "user_name must be an AniList user name: letters, "
			    "digits, '_' or '-', at most %d", REC_NAME_MAX);
			return (false);
		}
	}
	if (strcmp(r->type, "similar") == 0) {
		if (!ref) {
			tool_fail(r->call, 400, "invalid_argument",
			    "reference_anime_id", "similar needs a reference: "
			    "give reference_anime_id or reference_title");
			return (false);
		}
		if (name != NULL) {
			tool_fail(r->call, 400, "invalid_argument", "user_name",
			    "similar recommends from a reference, not a list; "
			    "use recommendation_type=taste_profile for "
			    "user_name");
			return (false);
		}
	} else if (strcmp(r->type, "taste_profile") == 0) {
		if (ref) {
			tool_fail(r->call, 400, "invalid_argument",
			    by_id ? "reference_anime_id" : "reference_title",
			    "taste_profile learns from the user's list and "
			    "takes no reference; use recommendation_type="
			    "similar for titles like one anime");
			return (false);
		}
	} else if (ref && name != NULL) {
		tool_fail(r->call, 400, "invalid_argument", "user_name",
		    "trending_genre takes a reference or a user's list, not "
		    "both");
		return (false);
	} else if (!ref && !user) {
		tool_fail(r->call, 400, "invalid_argument",
		    "reference_anime_id", "trending_genre needs genres to look "
		    "in: give reference_anime_id or reference_title, or "
		    "user_name (or sign in) for the user's favourite genres");
		return (false);
	}
	if (strcmp(r->type, "taste_profile") == 0 && !user) {
		tool_fail(r->call, 401, "unauthenticated", "user_name",
		    "taste_profile needs a list: sign in with AniList for "
		    "your own, or give user_name for a public one");
		return (false);
	}
	if (name == NULL && r->auth != NULL && !ref &&
	    r->auth->anilist_id <= 0) {
		tool_fail(r->call, 401, "unauthenticated", NULL, "the account "
		    "has no AniList user id; sign in with AniList again");
		return (false);
	}
	return (true);
}

/* The exclude_ids argument as an array (caller frees), count in *n. */
static int64_t *
rec_excludes(struct json_object *args, size_t *n)
{
	struct json_object	*a;
	int64_t			*v;
	size_t			 i;

	*n = 0;
	if (!json_object_object_get_ex(args, "exclude_ids", &a) ||
	    !json_object_is_type(a, json_type_array))
		return (NULL);
	*n = json_object_array_length(a);
	v = xcalloc(*n + 1, sizeof *v);
	for (i = 0; i < *n; i++)
		v[i] = json_object_get_int64(json_object_array_get_idx(a, i));
	return (v);
}

/*
 * Remember what a signed-in user was shown, so that adding one of these
 * titles to the list later counts as accepted (feedback_list_added). Not
 * for a call another site's page could have caused (a link to GET
 * /v1/recommendations carries the cookie): MCP, bearer tokens and our own
 * pages only. Best effort: the recommendations stand without the database.
 */
static void
rec_record_shown(const struct tool_auth *auth, struct json_object *list,
    const struct recommend_media *ref, const char *type)
{
	struct json_object	*m;
	int64_t			*ids;
	size_t			 i, n = json_object_array_length(list);
	char			*reference, *cause = NULL;

	if (auth == NULL || auth->user_id <= 0 || !auth->may_record || n == 0)
		return;
	ids = xcalloc(n, sizeof *ids);
	for (i = 0; i < n; i++) {
		m = json_object_object_get(json_object_array_get_idx(list, i),
		    "anime");
		ids[i] = json_object_get_int64(json_object_object_get(m, "id"));
	}
	if (ref != NULL)
		xasprintf(&reference, "%lld", (long long)recommend_media_id(ref));
	else
		reference = xstrdup(type);
	if (feedback_shown(auth->user_id, ids, n, reference, &cause) != 0)
		log_warn("recommendations shown not recorded",
		    LF_STR("error", cause), LF_END);
	free(cause);
	free(reference);
	free(ids);
}

/* Replace each "anime" media object by its compact shape. */
static void
rec_shape(struct json_object *list)
{
	struct json_object	*item, *m;
	size_t			 i;

	for (i = 0; i < json_object_array_length(list); i++) {
		item = json_object_array_get_idx(list, i);
		if (json_object_object_get_ex(item, "anime", &m))
			json_object_object_add(item, "anime",
			    shape_media(m, false));
	}
}

/* "10 recommendations similar to X (2023, TV, 9.1/10): A; B; … and 5 more." */
static char *
rec_summary(struct json_object *list, const char *what,
    struct json_object *reference)
{
	struct json_object	*anime;
	struct buf		 b;
	size_t			 i, n = json_object_array_length(list);

	buf_init(&b);
	buf_printf(&b, "%zu recommendation%s %s", n, n == 1 ? "" : "s", what);
	if (reference != NULL) {
		buf_puts(&b, " ");
		shape_media_line(&b, reference);
	}
	if (n == 0) {
		buf_puts(&b, ".");
		return (buf_detach(&b));
	}
	buf_puts(&b, ": ");
	for (i = 0; i < n && i < SHAPE_SUMMARY_LINES; i++) {
		anime = json_object_object_get(json_object_array_get_idx(list,
		    i), "anime");
		if (i > 0)
			buf_puts(&b, "; ");
		shape_media_line(&b, anime);
	}
	if (n > SHAPE_SUMMARY_LINES)
		buf_printf(&b, "; and %zu more", n - SHAPE_SUMMARY_LINES);
	buf_puts(&b, ".");
	return (buf_detach(&b));
}

/* Candidates, query and reference for recommendation_type=similar. */
static bool
rec_similar(struct rec *r)
{
	struct json_object	*recs, *nodes;
	struct recommend_media	*ref;
	struct recommend_search	 s[REC_BUDGET];
	struct rec_job		 jobs[REC_BUDGET + 1];
	size_t			 i, n, k = 0;

	if ((r->refj = rec_reference(r, true)) == NULL)
		return (false);
	if ((ref = recommend_media_create(r->refj)) == NULL) {
		tool_fail(r->call, 502, "upstream_error", NULL,
		    "AniList's answer has no media id");
		return (false);
	}
	/* AniList's community recommendations, by rating: first in the pool. */
	if (json_object_object_get_ex(r->refj, "recommendations", &recs) &&
	    json_object_object_get_ex(recs, "nodes", &nodes) &&
	    json_object_is_type(nodes, json_type_array) &&
	    rec_picks_job_init(r, &jobs[k], nodes))
		k++;
	n = recommend_searches(ref, s, (size_t)(REC_BUDGET - r->planned));
	for (i = 0; i < n; i++, k++)
		rec_job_init(r, &jobs[k], &(struct rec_job_query){
		    .genres = s[i].genres, .ngenres = s[i].ngenres,
		    .tags = s[i].tags, .ntags = s[i].ntags });
	rec_searches(r, jobs, k);
	rec_jobs_free(jobs, k);
	recommend_media_free(ref);
	return (true);
}

/* Candidates from the profile's favourite genres (two searches). */
static void
rec_taste_candidates(struct rec *r, const struct recommend_profile *p,
    bool trending)
{
	const char	*g1 = recommend_profile_genre(p, 0);
	const char	*g2 = recommend_profile_genre(p, 1);
	struct rec_job	 jobs[2];
	size_t		 n = 0;

	if (g1 == NULL) {
		/* nothing liked yet: AniList's most popular (or trending) */
		rec_note(r, "%s", "the list says little about taste yet "
		    "(no scored or completed titles with genres); these are "
		    "AniList's most popular titles the list does not have");
		rec_job_init(r, &jobs[0], &(struct rec_job_query){
		    .trending = trending });
		rec_searches(r, jobs, 1);
		rec_jobs_free(jobs, 1);
		return;
	}
	rec_job_init(r, &jobs[n++], &(struct rec_job_query){ .genres = &g1,
	    .ngenres = 1, .trending = trending });
	if (g2 != NULL && r->planned + 1 < REC_BUDGET)
		rec_job_init(r, &jobs[n++], &(struct rec_job_query){
		    .genres = &g2, .ngenres = 1, .trending = trending });
	rec_searches(r, jobs, n);
	rec_jobs_free(jobs, n);
}

/* Candidates and query for recommendation_type=trending_genre. */
static bool
rec_trending(struct rec *r)
{
	struct json_object	*coll;
	struct rec_job		 jobs[2];
	size_t			 n = 0;

	if (tools_arg_int(r->args, "reference_anime_id", 0) > 0 ||
	    tools_arg_str(r->args, "reference_title") != NULL) {
		if ((r->refj = rec_reference(r, false)) == NULL)
			return (false);
	} else {
		if ((coll = rec_user_list(r, &r->list_reply)) == NULL)
			return (false);
		r->profile = recommend_profile_create(coll);
	}
	if (r->refj != NULL &&
	    (r->refm = recommend_media_create(r->refj)) == NULL) {
		tool_fail(r->call, 502, "upstream_error", NULL,
		    "AniList's answer has no media id");
		return (false);
	}
	if (r->refm == NULL) {
		for (r->ng = 0; r->ng < 2 && (r->genres[r->ng] =
		    recommend_profile_genre(r->profile, r->ng)) != NULL;
		    r->ng++)
			;
		rec_taste_candidates(r, r->profile, true);
		return (true);
	}
	/* all of its genres, then the first two: looser */
	for (r->ng = 0; r->ng < nitems(r->genres) && (r->genres[r->ng] =
	    recommend_media_genre(r->refm, r->ng)) != NULL; r->ng++)
		;
	if (r->ng == 0) {
		tool_fail(r->call, 404, "not_found", NULL, "AniList lists no "
		    "genres for %s, so there is nothing to look in; try "
		    "recommendation_type=similar", recommend_media_title(r->refm));
		return (false);
	}
	rec_job_init(r, &jobs[n++], &(struct rec_job_query){
	    .genres = r->genres, .ngenres = r->ng, .trending = true });
	if (r->ng > 1)
		rec_job_init(r, &jobs[n++], &(struct rec_job_query){
		    .genres = r->genres, .ngenres = r->ng - 1,
		    .trending = true });
	rec_searches(r, jobs, n);
	rec_jobs_free(jobs, n);
	return (true);
}

/*
 * Gather: the reference or the list, then the candidates into r->pool.
 * False with the call's error set.
 */
static bool
rec_gather(struct rec *r)
{
	struct json_object	*coll;

	if (strcmp(r->type, "similar") == 0) {
		r->kind = RECOMMEND_SIMILAR;
		if (!rec_similar(r))
			return (false);
		if ((r->refm = recommend_media_create(r->refj)) == NULL) {
			tool_fail(r->call, 502, "upstream_error", NULL,
			    "AniList's answer has no media id");
			return (false);
		}
		return (true);
	}
	if (strcmp(r->type, "taste_profile") == 0) {
		r->kind = RECOMMEND_TASTE;
		if ((coll = rec_user_list(r, &r->list_reply)) == NULL)
			return (false);
		r->profile = recommend_profile_create(coll);
		rec_taste_candidates(r, r->profile, false);
		return (true);
	}
	r->kind = RECOMMEND_TRENDING;
	return (rec_trending(r));
}

/*
 * Rank: score the pool for the request, remember what a signed-in user is
 * shown, shape each title. Returns the list (caller owns).
 */
static struct json_object *
rec_rank(struct rec *r)
{
	struct recommend_query	 q;
	struct json_object	*ranked;
	size_t			 nexclude;
	int64_t			*exclude = rec_excludes(r->args, &nexclude);

	memset(&q, 0, sizeof q);
	q.kind = r->kind;
	q.count = (size_t)tools_arg_int(r->args, "count", 10);
	q.include_related = tools_arg_bool(r->args, "include_related");
	q.include_adult = r->include_adult;
	q.exclude = exclude;
	q.nexclude = nexclude;
	q.reference = r->refm;
	q.profile = r->profile;
	if (r->kind == RECOMMEND_TRENDING) {
		q.genres = r->genres;
		q.ngenres = r->ng;
	}
	ranked = recommend_rank(&q, r->pool);
	rec_record_shown(r->auth, ranked, r->refm, r->type);
	rec_shape(ranked);
	free(exclude);
	return (ranked);
}

/* What the summary says the list is ("similar to" …); caller frees. */
static char *
rec_what(const struct rec *r)
{
	const char	*name = tools_arg_str(r->args, "user_name");
	struct buf	 b;
	size_t		 i;

	if (strcmp(r->type, "similar") == 0)
		return (xstrdup("similar to"));
	buf_init(&b);
	if (strcmp(r->type, "taste_profile") == 0 && name != NULL)
		buf_printf(&b, "for the taste of %s's list", name);
	else if (strcmp(r->type, "taste_profile") == 0)
		buf_puts(&b, "for your taste");
	else if (r->refm != NULL)
		buf_puts(&b, "trending in the genres of");
	else {
		buf_puts(&b, "trending in the list's favourite genres");
		for (i = 0; i < r->ng; i++)
			buf_printf(&b, "%s%s", i == 0 ? " (" : ", ",
			    r->genres[i]);
		if (r->ng > 0)
			buf_puts(&b, ")");
	}
	return (buf_detach(&b));
}

/* Build: the answer around the ranked list (taken over). */
static struct json_object *
rec_build(struct rec *r, struct json_object *ranked)
{
	struct json_object	*result = json_object_new_object();
	struct anilist_reply	 agg;
	char			*what;

	json_object_object_add(result, "reference", r->refj != NULL ?
	    shape_media(r->refj, false) : NULL);
	json_object_object_add(result, "recommendation_type",
	    json_object_new_string(r->type));
	json_object_object_add(result, "recommendations", ranked);
	if (r->profile != NULL)
		json_object_object_add(result, "profile",
		    recommend_profile_json(r->profile, REC_PROFILE_TOP));
	if (r->kind == RECOMMEND_TRENDING)
		json_object_object_add(result, "genres",
		    rec_strings(r->genres, r->ng));
	if (json_object_array_length(r->notes) > 0)
		json_object_object_add(result, "notes", json_object_get(r->notes));
	memset(&agg, 0, sizeof agg);
	agg.cache = r->cache;
	agg.fetched_at = r->fetched_at;
	agg.queued_ms = r->queued_ms;
	what = rec_what(r);
	tools_add_summary(result, rec_summary(ranked, what,
	    json_object_object_get(result, "reference")), &agg);
	free(what);
	json_object_object_add(json_object_object_get(result, "source"),
	    "upstream_calls", json_object_new_int(r->call->upstream_calls));
	r->call->cache = r->cache;
	return (result);
}

static struct json_object *
rec_run(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct rec		 r;
	struct json_object	*result = NULL;

	memset(&r, 0, sizeof r);
	r.call = call;
	r.args = args;
	r.auth = auth;
	r.type = tools_arg_str(args, "recommendation_type");
	r.include_adult = tools_arg_bool(args, "include_adult");
	r.notes = json_object_new_array();
	r.pool = recommend_pool_create();
	r.deadline = util_mono_ms() + (uint64_t)cfg->upstream_timeout_ms;
	if (rec_check_args(&r) && rec_gather(&r))
		result = rec_build(&r, rec_rank(&r));
	recommend_media_free(r.refm);
	recommend_profile_free(r.profile);
	recommend_pool_free(r.pool);
	anilist_reply_free(&r.list_reply);
	json_object_put(r.refj);
	json_object_put(r.notes);
	return (result);
}

#define REC_ITEM_SCHEMA							\
	"{\"type\":\"object\",\"required\":[\"anime\",\"score\","	\
	"\"reasons\"],\"properties\":{\"anime\":" SHAPE_SCHEMA_MEDIA ","	\
	"\"score\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,"	\
	"\"description\":\"how well it fits, 0-1\"},"			\
	"\"reasons\":" SHAPE_STRS "}}"
#define REC_WEIGHTS_SCHEMA						\
	"{\"type\":\"array\",\"items\":{\"type\":\"object\","		\
	"\"properties\":{\"name\":{\"type\":\"string\"},"		\
	"\"weight\":{\"type\":\"number\"}}}}"

const struct tool tools_get_anime_recommendations = {
	.name = "get_anime_recommendations",
	.title = "Anime recommendations",
	.description = "Recommend anime, each with a score and reasons a "
	    "person can read. recommendation_type: 'similar' (default) — "
	    "titles like a reference anime (reference_anime_id, or "
	    "reference_title resolved to the best AniList match and "
	    "returned as reference), blending AniList's community "
	    "recommendations with content similarity (genres, tags, "
	    "studios, format, source, era); the reference's own franchise "
	    "(sequels, prequels, side stories) is left out unless "
	    "include_related=true. 'taste_profile' — from a user's list "
	    "(user_name for a public list, or the signed-in user's own): "
	    "genres, tags, studios, formats and eras weighted by the user's "
	    "scores (low scores and dropped titles count against); titles "
	    "already on the list are left out. 'trending_genre' — what is "
	    "trending now in the reference's genres or the user's favourite "
	    "genres. Adult titles are excluded unless include_adult=true.",
	.input_schema = "{\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{"
	    "\"reference_anime_id\":{\"type\":\"integer\",\"minimum\":1,"
	    "\"maximum\":2147483647,\"description\":\"AniList id of the "
	    "anime to start from.\"},"
	    "\"reference_title\":{\"type\":\"string\",\"minLength\":1,"
	    "\"maxLength\":200,\"description\":\"Title of the anime to start "
	    "from (romaji, English, native or a synonym); the best match is "
	    "used and returned as reference.\"},"
	    "\"recommendation_type\":{\"type\":\"string\",\"enum\":" REC_TYPES
	    ",\"default\":\"similar\"},"
	    "\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":20,"
	    "\"default\":10,\"description\":\"How many, 1 to 20.\"},"
	    "\"exclude_ids\":{\"type\":\"array\",\"maxItems\":100,\"items\":"
	    "{\"type\":\"integer\",\"minimum\":1,\"maximum\":2147483647},"
	    "\"description\":\"AniList ids never to recommend (already "
	    "seen, already suggested).\"},"
	    TOOLS_PROP_INCLUDE_ADULT ","
	    "\"include_related\":{\"type\":\"boolean\",\"default\":false,"
	    "\"description\":\"similar: keep the reference's own franchise "
	    "(sequels, prequels, side stories).\"},"
	    "\"user_name\":{\"type\":\"string\",\"minLength\":1,"
	    "\"maxLength\":50,\"description\":\"AniList user whose public "
	    "list drives taste_profile or trending_genre; leave out to use "
	    "the signed-in user's own list.\"}"
	    "}}",
	.output_schema = "{\"type\":\"object\",\"required\":[\"reference\","
	    "\"recommendation_type\",\"recommendations\",\"text_summary\","
	    "\"source\"],\"properties\":{"
	    "\"reference\":{\"type\":[\"object\",\"null\"],\"properties\":{"
	    SHAPE_MEDIA_PROPERTIES "}},"
	    "\"recommendation_type\":{\"type\":\"string\",\"enum\":" REC_TYPES
	    "},"
	    "\"recommendations\":{\"type\":\"array\",\"items\":"
	    REC_ITEM_SCHEMA "},"
	    "\"profile\":{\"type\":\"object\",\"properties\":{"
	    "\"entries\":{\"type\":\"integer\"},\"used\":{\"type\":\"integer\"},"
	    "\"genres\":" REC_WEIGHTS_SCHEMA ",\"tags\":" REC_WEIGHTS_SCHEMA ","
	    "\"studios\":" REC_WEIGHTS_SCHEMA ",\"formats\":"
	    REC_WEIGHTS_SCHEMA ",\"eras\":" REC_WEIGHTS_SCHEMA "}},"
	    "\"genres\":" SHAPE_STRS ","
	    "\"notes\":" SHAPE_STRS ","
	    "\"text_summary\":{\"type\":\"string\"},"
	    "\"source\":" SHAPE_SCHEMA_SOURCE "}}",
	.annotations = rec_read_only,
	.auth = TOOL_AUTH_OPTIONAL,
	/* Asked without a user, and every part fresh and public. */
	.keep_results = true,
	.widget = "ui://widget/recommendations.html",
	.handler = rec_run,
};
