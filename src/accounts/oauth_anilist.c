/* accounts/oauth_anilist.c: sign-in with AniList: we are its OAuth client (authorize URL, code exchange, Viewer). */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "anilist.h"
#include "config.h"
#include "crypto.h"
#include "http.h"
#include "oauth_anilist.h"
#include "util.h"

#define OAUTH_ANILIST_MAX_ANSWER	(1024 * 1024)	/* bytes we read */

bool
oauth_anilist_configured(void)
{
	return (*cfg->anilist_client_id != '\0' &&
	    *cfg->anilist_client_secret != '\0' &&
	    *cfg->anilist_redirect_uri != '\0');
}

char *
oauth_anilist_authorize_url(const char *state)
{
	char	*id, *redirect, *st, *url;

	id = http_encode(cfg->anilist_client_id);
	redirect = http_encode(cfg->anilist_redirect_uri);
	st = http_encode(state);
	xasprintf(&url, "%s/authorize?client_id=%s&redirect_uri=%s&"
	    "response_type=code&state=%s", cfg->anilist_oauth_url, id,
	    redirect, st);
	free(id);
	free(redirect);
	free(st);
	return (url);
}

struct oauth_anilist_answer {
	struct buf	body;
	bool		too_big;
};

static size_t
oauth_anilist_write(char *p, size_t size, size_t n, void *arg)
{
	struct oauth_anilist_answer	*a = arg;

	if (a->body.len + size * n > OAUTH_ANILIST_MAX_ANSWER) {
		a->too_big = true;
		return (0);
	}
	buf_append(&a->body, p, size * n);
	return (size * n);
}

/*
 * POST a JSON body to AniList (bearer may be NULL). 0 with *code and the
 * parsed answer (caller puts; NULL if it was not JSON), or 503/504.
 */
static int
oauth_anilist_post(const char *url, const char *body, const char *bearer,
    long *code, struct json_object **answer, char **cause)
{
	struct oauth_anilist_answer	 a;
	struct curl_slist	*hdrs = NULL;
	char			*auth = NULL, ua[64];
	CURL			*h;
	CURLcode		 rc;
	int			 status = 503;

	*answer = NULL;
	*code = 0;
	buf_init(&a.body);
	a.too_big = false;
	if ((h = curl_easy_init()) == NULL) {
		*cause = xstrdup("cannot create an HTTP client");
		return (503);
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (bearer != NULL) {
		xasprintf(&auth, "Authorization: Bearer %s", bearer);
		hdrs = curl_slist_append(hdrs, auth);
	}
	snprintf(ua, sizeof ua, "%s/%s", PACKAGE, PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)cfg->upstream_timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(cfg->upstream_timeout_ms < 3000 ? cfg->upstream_timeout_ms :
	    3000));
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, oauth_anilist_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		*cause = xstrdup("AniList did not answer in time");
		status = 504;
		goto out;
	}
	if (rc != CURLE_OK) {
		xasprintf(cause, "AniList is unreachable: %s", a.too_big ?
		    "answer too large" : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
	if (a.body.len > 0)
		*answer = json_tokener_parse(a.body.data);
	status = 0;
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (auth != NULL)
		crypto_free_secret(auth);
	if (a.body.data != NULL)
		memset(a.body.data, 0, a.body.len);
	buf_free(&a.body);
	return (status);
}

/* A string member of a JSON object, or NULL. */
static const char *
oauth_anilist_json_str(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return (NULL);
	return (json_object_get_string(v));
}

int
oauth_anilist_exchange(const char *code, char **token, char **cause)
{
	struct json_object	*req, *answer = NULL;
	const char		*t, *err;
	char			*url, *body;
	long			 http;
	int			 status;

	*token = NULL;
	req = json_object_new_object();
	json_object_object_add(req, "grant_type",
	    json_object_new_string("authorization_code"));
	json_object_object_add(req, "client_id",
	    json_object_new_string(cfg->anilist_client_id));
	json_object_object_add(req, "client_secret",
	    json_object_new_string(cfg->anilist_client_secret));
	json_object_object_add(req, "redirect_uri",
	    json_object_new_string(cfg->anilist_redirect_uri));
	json_object_object_add(req, "code", json_object_new_string(code));
	body = xstrdup(json_object_to_json_string_ext(req,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(req);
	xasprintf(&url, "%s/token", cfg->anilist_oauth_url);
	status = oauth_anilist_post(url, body, NULL, &http, &answer, cause);
	crypto_free_secret(body);
	free(url);
	if (status != 0)
		goto out;
	t = oauth_anilist_json_str(answer, "access_token");
	if (http == 200 && t != NULL && *t != '\0') {
		*token = xstrdup(t);
		goto out;
	}
	if (http >= 400 && http < 500) {
		err = oauth_anilist_json_str(answer, "error");
		xasprintf(cause, "AniList refused the authorization code (%s)",
		    err != NULL ? err : "no reason given");
		status = 400;
	} else if (http >= 500) {
		xasprintf(cause, "AniList's token endpoint failed (HTTP %ld)",
		    http);
		status = 503;
	} else {
		xasprintf(cause, "AniList's token endpoint gave no token "
		    "(HTTP %ld)", http);
		status = 502;
	}
out:
	json_object_put(answer);
	return (status);
}

/*
 * Through the AniList client (never cached: ttl 0), so the rate-limit
 * governor, the breaker and the retries cover the login too.
 */
int
oauth_anilist_viewer(const char *token, long long *id, char **name,
    char **cause)
{
	struct json_object	*vars, *viewer, *v;
	struct anilist_reply	 reply;
	const char		*n;
	int			 status;

	*name = NULL;
	vars = json_object_new_object();
	(void)anilist_fetch(&(struct anilist_request){ .op = "Viewer",
	    .vars = vars, .kind = "viewer", .token = token }, &reply);
	json_object_put(vars);
	if (reply.status == 200 &&
	    json_object_object_get_ex(reply.data, "Viewer", &viewer) &&
	    json_object_object_get_ex(viewer, "id", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    (n = oauth_anilist_json_str(viewer, "name")) != NULL &&
	    json_object_get_int64(v) > 0) {
		*id = json_object_get_int64(v);
		*name = xstrdup(n);
		status = 0;
	} else if (reply.status == 503 || reply.status == 504) {
		xasprintf(cause, "AniList could not name the user (%s)",
		    reply.message != NULL ? reply.message : "unavailable");
		status = 503;
	} else {
		xasprintf(cause, "AniList refused the new token for Viewer "
		    "(%d: %s)", reply.status == 200 ? 502 : reply.status,
		    reply.message != NULL ? reply.message : "no Viewer");
		status = 502;
	}
	anilist_reply_free(&reply);
	return (status);
}

long long
oauth_anilist_jwt_exp(const char *jwt)
{
	struct json_object	*claims, *exp;
	const char		*dot1, *dot2;
	unsigned char		*payload;
	size_t			 n;
	long long		 v = 0;

	if ((dot1 = strchr(jwt, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL)
		return (0);
	payload = crypto_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1),
	    &n);
	if (payload == NULL)
		return (0);
	claims = json_tokener_parse((char *)payload);
	if (claims != NULL && json_object_object_get_ex(claims, "exp", &exp) &&
	    (json_object_is_type(exp, json_type_int) ||
	    json_object_is_type(exp, json_type_double)))
		v = json_object_get_int64(exp);
	json_object_put(claims);
	free(payload);
	return (v > 0 ? v : 0);
}
