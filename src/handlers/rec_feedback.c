/* handlers/rec_feedback.c: recommendation feedback (POST) and recommendation accuracy (GET). */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "feedback.h"
#include "handlers.h"
#include "http.h"
#include "jsonbody.h"
#include "log.h"
#include "util.h"

#define RECFB_WINDOW_DEFAULT	30
#define RECFB_WINDOW_MAX	365
#define RECFB_ID_MAX		2147483647LL
#define RECFB_MAX_DEPTH		8	/* a flat object is all it takes */

static void
recfb_unavailable(struct http_req *req, struct http_resp *resp,
    const char *cause)
{
	req->log_error = "feedback_unavailable";
	log_warn("recommendation feedback unavailable", LF_STR("error", cause),
	    LF_END);
	http_resp_header(resp, "Retry-After", "%d",
	    HTTP_RETRY_AFTER_DOWN);
	http_resp_error(resp, 503, "feedback_unavailable", NULL,
	    "recommendation feedback cannot be stored or read right now (%s); "
	    "try again shortly", cause);
}

/* Does the request carry credentials (a bearer token or our session)? */
static bool
recfb_has_credentials(const struct http_req *req)
{
	const char	*cookie = http_req_header(req, "Cookie");
	char		*session;
	bool		 has;

	if (http_req_header(req, "Authorization") != NULL)
		return (true);
	if (cookie == NULL ||
	    (session = auth_cookie_value(cookie, AUTH_SESSION_COOKIE)) == NULL)
		return (false);
	has = *session != '\0';
	free(session);
	return (has);
}

/* The request body as a JSON object, or NULL with a 400 written. */
static struct json_object *
recfb_body(struct http_req *req, struct http_resp *resp)
{
	struct json_object	*o;
	const char		*why;

	if (req->body == NULL || req->body_len == 0) {
		http_resp_error(resp, 400, "invalid_argument", NULL, "send a "
		    "JSON object: {\"anime_id\": 1, \"action\": \"accepted\", "
		    "\"reference\": 2}");
		return (NULL);
	}
	if ((o = jsonbody_parse(req->body, req->body_len, RECFB_MAX_DEPTH,
	    &why)) == NULL) {
		http_resp_error(resp, 400, "invalid_argument", NULL, "the body "
		    "must be one JSON object: %s", why);
		return (NULL);
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		http_resp_error(resp, 400, "invalid_argument", NULL, "the body "
		    "must be one JSON object");
		return (NULL);
	}
	return (o);
}

/*
 * Check the fields of a feedback body; on a problem write the 400 and
 * return false. *reference is NULL or a string (caller frees).
 */
static bool
recfb_fields(struct json_object *body, struct http_resp *resp,
    long long *anime_id, enum feedback_action *action, char **reference)
{
	struct json_object	*v;
	const char		*s;
	long long		 n;

	*reference = NULL;
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "anime_id") != 0 && strcmp(key, "action") != 0 &&
		    strcmp(key, "reference") != 0) {
			http_resp_error(resp, 400, "invalid_argument", key,
			    "unknown field \"%.40s\"; send anime_id, action and "
			    "optionally reference", key);
			return (false);
		}
	}
	if (!json_object_object_get_ex(body, "anime_id", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    (n = json_object_get_int64(v)) < 1 || n > RECFB_ID_MAX) {
		http_resp_error(resp, 400, "invalid_argument", "anime_id",
		    "anime_id must be an AniList id, a whole number from 1 to "
		    "%lld", RECFB_ID_MAX);
		return (false);
	}
	*anime_id = n;
	if (!json_object_object_get_ex(body, "action", &v) ||
	    jsonbody_string(v) == NULL ||
	    !feedback_action_parse(jsonbody_string(v), action)) {
		http_resp_error(resp, 400, "invalid_argument", "action",
		    "action must be one of shown, accepted, dismissed, "
		    "added_to_list");
		return (false);
	}
	if (!json_object_object_get_ex(body, "reference", &v) || v == NULL)
		return (true);
	if (json_object_is_type(v, json_type_int) &&
	    (n = json_object_get_int64(v)) >= 1 && n <= RECFB_ID_MAX) {
		xasprintf(reference, "%lld", n);
		return (true);
	}
	if ((s = jsonbody_string(v)) != NULL && *s != '\0' &&
	    strlen(s) <= FEEDBACK_REFERENCE_MAX) {
		*reference = xstrdup(s);
		return (true);
	}
	http_resp_error(resp, 400, "invalid_argument", "reference",
	    "reference must be the AniList id the title was recommended for, "
	    "or a short text (1 to %d bytes) such as \"taste_profile\"",
	    FEEDBACK_REFERENCE_MAX);
	return (false);
}

void
handle_recommendation_feedback(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct auth_principal	 p;
	struct json_object	*body, *o;
	enum feedback_action	 action;
	long long		 anime_id, id;
	char			*reference = NULL, *cause = NULL;
	bool			 user = false;

	memset(&p, 0, sizeof p);
	if ((body = recfb_body(req, resp)) == NULL) {
		req->log_error = "invalid_argument";
		return;
	}
	if (!recfb_fields(body, resp, &anime_id, &action, &reference)) {
		req->log_error = "invalid_argument";
		goto out;
	}
	/* Anonymous feedback is welcome; credentials given must be good. */
	if (recfb_has_credentials(req)) {
		if (!auth_require(req, resp, &p))
			goto out;
		user = true;
	}
	if (feedback_record(p.user_id, anime_id, action, reference, &id,
	    &cause) != 0) {
		recfb_unavailable(req, resp, cause);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "anime_id", json_object_new_int64(anime_id));
	json_object_object_add(o, "action",
	    json_object_new_string(feedback_action_name(action)));
	json_object_object_add(o, "reference", reference != NULL ?
	    json_object_new_string(reference) : NULL);
	json_object_object_add(o, "recorded_for",
	    json_object_new_string(user ? "user" : "anonymous"));
	http_resp_json(resp, 201, o);
out:
	auth_principal_free(&p);
	json_object_put(body);
	free(reference);
	free(cause);
}

void
handle_recommendation_stats(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct feedback_stats	 st;
	struct json_object	*o, *events;
	long long		 window = RECFB_WINDOW_DEFAULT;
	const char		*v;
	char			*cause = NULL, *summary;
	size_t			 i;

	for (i = 0; i < req->nquery; i++) {
		if (strcmp(req->query[i].key, "window_days") != 0) {
			req->log_error = "invalid_argument";
			http_resp_error(resp, 400, "invalid_argument",
			    req->query[i].key, "unknown parameter \"%.40s\"; "
			    "this endpoint takes: window_days",
			    req->query[i].key);
			return;
		}
	}
	if ((v = http_req_query(req, "window_days")) != NULL &&
	    (!util_parse_ll(v, &window) || window < 1 ||
	    window > RECFB_WINDOW_MAX)) {
		req->log_error = "invalid_argument";
		http_resp_error(resp, 400, "invalid_argument", "window_days",
		    "window_days must be a whole number of days from 1 to %d",
		    RECFB_WINDOW_MAX);
		return;
	}
	if (feedback_stats((int)window, &st, &cause) != 0) {
		recfb_unavailable(req, resp, cause);
		free(cause);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "window_days", json_object_new_int(
	    st.window_days));
	events = json_object_new_object();
	json_object_object_add(events, "shown", json_object_new_int64(
	    st.shown));
	json_object_object_add(events, "accepted", json_object_new_int64(
	    st.accepted));
	json_object_object_add(events, "dismissed", json_object_new_int64(
	    st.dismissed));
	json_object_object_add(events, "added_to_list", json_object_new_int64(
	    st.added_to_list));
	json_object_object_add(o, "events", events);
	json_object_object_add(o, "accepted", json_object_new_int64(
	    st.accepted + st.added_to_list));
	json_object_object_add(o, "dismissed", json_object_new_int64(
	    st.dismissed));
	if (st.accuracy >= 0) {
		char	num[16];

		snprintf(num, sizeof num, "%.4f", st.accuracy);
		json_object_object_add(o, "accuracy",
		    json_object_new_double_s(st.accuracy, num));
	} else
		json_object_object_add(o, "accuracy", NULL);
	if (st.accuracy >= 0)
		xasprintf(&summary, "Over the last %d days, %.1f%% of the "
		    "recommendations people reacted to were accepted (%lld "
		    "accepted or added to a list, %lld dismissed).",
		    st.window_days, 100 * st.accuracy,
		    st.accepted + st.added_to_list, st.dismissed);
	else
		xasprintf(&summary, "No recommendation was accepted or "
		    "dismissed in the last %d days.", st.window_days);
	json_object_object_add(o, "text_summary",
	    json_object_new_string(summary));
	free(summary);
	http_resp_json(resp, 200, o);
}
