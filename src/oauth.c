/* oauth.c: AniList's code grant (we are its client) and our OAuth 2.1 server (clients, codes, tokens). */
#include "autoconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "anilist.h"
#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "oauth.h"
#include "util.h"

#define OAUTH_MAX_ANSWER	(1024 * 1024)	/* bytes we read from AniList */
#define OAUTH_MAX_REDIRECTS	10
#define OAUTH_MAX_URI		2000
#define OAUTH_MAX_NAME		200

/* ---- AniList ---- */

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

struct oauth_answer {
	struct buf	body;
	bool		too_big;
};

static size_t
oauth_write(char *p, size_t size, size_t n, void *arg)
{
	struct oauth_answer	*a = arg;

	if (a->body.len + size * n > OAUTH_MAX_ANSWER) {
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
oauth_post_json(const char *url, const char *body, const char *bearer,
    long *code, struct json_object **answer, char **cause)
{
	struct oauth_answer	 a;
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
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, oauth_write);
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
oauth_json_str(struct json_object *o, const char *key)
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
	status = oauth_post_json(url, body, NULL, &http, &answer, cause);
	crypto_free_secret(body);
	free(url);
	if (status != 0)
		goto out;
	t = oauth_json_str(answer, "access_token");
	if (http == 200 && t != NULL && *t != '\0') {
		*token = xstrdup(t);
		goto out;
	}
	if (http >= 400 && http < 500) {
		err = oauth_json_str(answer, "error");
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
	    (n = oauth_json_str(viewer, "name")) != NULL &&
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
oauth_jwt_exp(const char *jwt)
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

/* ---- our authorization server ---- */

char *
oauth_issuer(void)
{
	char	*s = xstrdup(cfg->public_url);
	size_t	 n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return (s);
}

void
oauth_client_clear(struct oauth_client *c)
{
	size_t	i;

	if (c == NULL)
		return;
	free(c->client_id);
	free(c->name);
	for (i = 0; i < c->nredirect; i++)
		free(c->redirect_uris[i]);
	free(c->redirect_uris);
	free(c->auth_method);
	memset(c, 0, sizeof *c);
}

bool
oauth_client_has_redirect(const struct oauth_client *c, const char *uri)
{
	size_t	i;

	for (i = 0; i < c->nredirect; i++) {
		if (strcmp(c->redirect_uris[i], uri) == 0)
			return (true);
	}
	return (false);
}

static bool
oauth_fail(char **why, const char *msg)
{
	if (why != NULL)
		*why = xstrdup(msg);
	return (false);
}

bool
oauth_redirect_uri_valid(const char *uri, char **why)
{
	const char	*auth, *end, *host_end, *p;
	char		 host[256];
	size_t		 n, i;
	bool		 https;

	n = strlen(uri);
	if (n == 0 || n > OAUTH_MAX_URI)
		return (oauth_fail(why, "redirect URI is empty or too long"));
	for (i = 0; i < n; i++) {
		if ((unsigned char)uri[i] <= 0x20 || uri[i] == 0x7f ||
		    uri[i] == '\\' || uri[i] == '"' || uri[i] == '<' ||
		    uri[i] == '>')
			return (oauth_fail(why, "redirect URI contains a "
			    "space, control or unsafe character"));
	}
	if (strchr(uri, '#') != NULL)
		return (oauth_fail(why, "redirect URI must not have a "
		    "fragment"));
	if (strncasecmp(uri, "https://", 8) == 0) {
		https = true;
		auth = uri + 8;
	} else if (strncasecmp(uri, "http://", 7) == 0) {
		https = false;
		auth = uri + 7;
	} else
		return (oauth_fail(why, "redirect URI must use https (or "
		    "http on a loopback address)"));
	end = auth + strcspn(auth, "/?");
	if (memchr(auth, '@', (size_t)(end - auth)) != NULL)
		return (oauth_fail(why, "redirect URI must not carry "
		    "credentials"));
	if (*auth == '[') {
		if ((host_end = memchr(auth, ']', (size_t)(end - auth))) ==
		    NULL)
			return (oauth_fail(why, "redirect URI has a bad host"));
		host_end++;
	} else {
		host_end = memchr(auth, ':', (size_t)(end - auth));
		if (host_end == NULL)
			host_end = end;
	}
	if (host_end == auth || (size_t)(host_end - auth) >= sizeof host)
		return (oauth_fail(why, "redirect URI has no host"));
	memcpy(host, auth, (size_t)(host_end - auth));
	host[host_end - auth] = '\0';
	if (host_end < end) {
		if (*host_end != ':' || host_end + 1 == end)
			return (oauth_fail(why, "redirect URI has a bad port"));
		for (p = host_end + 1; p < end; p++) {
			if (!isdigit((unsigned char)*p))
				return (oauth_fail(why, "redirect URI has a bad "
				    "port"));
		}
		if (end - host_end - 1 > 5)
			return (oauth_fail(why, "redirect URI has a bad port"));
	}
	if (host[0] != '[') {
		for (p = host; *p != '\0'; p++) {
			if (!isalnum((unsigned char)*p) && *p != '-' &&
			    *p != '.')
				return (oauth_fail(why, "redirect URI has a "
				    "bad host"));
		}
	}
	if (!https && strcasecmp(host, "127.0.0.1") != 0 &&
	    strcasecmp(host, "localhost") != 0 &&
	    strcmp(host, "[::1]") != 0)
		return (oauth_fail(why, "http redirect URIs must be on a "
		    "loopback address (127.0.0.1, [::1] or localhost)"));
	return (true);
}

bool
oauth_resource_valid(const char *r)
{
	char	*issuer = oauth_issuer();
	size_t	 n = strlen(issuer);
	bool	 ok;

	ok = strncmp(r, issuer, n) == 0 && (strcmp(r + n, "") == 0 ||
	    strcmp(r + n, "/") == 0 || strcmp(r + n, "/mcp") == 0);
	free(issuer);
	return (ok);
}

bool
oauth_scope_valid(const char *scope)
{
	const char	*p = scope, *end;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		end = p + strcspn(p, " ");
		if (end > p && ((size_t)(end - p) != strlen(OAUTH_SCOPE) ||
		    strncmp(p, OAUTH_SCOPE, (size_t)(end - p)) != 0))
			return (false);
		p = end;
	}
	return (true);
}

char *
oauth_client_redirect(const char *uri, const char *code, const char *error,
    const char *desc, const char *state)
{
	struct buf	 b;
	char		*e, *issuer;

	buf_init(&b);
	buf_puts(&b, uri);
	buf_putc(&b, strchr(uri, '?') != NULL ? '&' : '?');
	if (code != NULL) {
		e = http_encode(code);
		buf_printf(&b, "code=%s", e);
		free(e);
	} else {
		e = http_encode(error);
		buf_printf(&b, "error=%s", e);
		free(e);
		if (desc != NULL) {
			e = http_encode(desc);
			buf_printf(&b, "&error_description=%s", e);
			free(e);
		}
	}
	if (state != NULL) {
		e = http_encode(state);
		buf_printf(&b, "&state=%s", e);
		free(e);
	}
	issuer = oauth_issuer();
	e = http_encode(issuer);
	buf_printf(&b, "&iss=%s", e);
	free(e);
	free(issuer);
	return (buf_detach(&b));
}

void
oauth_error(struct http_resp *resp, int status, const char *error,
    const char *desc)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(error));
	if (desc != NULL)
		json_object_object_add(o, "error_description",
		    json_object_new_string(desc));
	http_resp_header(resp, "Cache-Control", "no-store");
	if (status == 401 && strcmp(error, "invalid_client") == 0)
		http_resp_header(resp, "WWW-Authenticate",
		    "Basic realm=\"%s\"", PACKAGE);
	if (status == 503)
		http_resp_header(resp, "Retry-After", "%d",
		    HTTP_RETRY_AFTER_DOWN);
	http_resp_json(resp, status, o);
}

void
oauth_unavailable(struct http_resp *resp, const char *cause)
{
	if (!auth_enabled()) {
		oauth_error(resp, 503, "temporarily_unavailable",
		    "accounts are not configured on this server");
		return;
	}
	if (cause != NULL)
		log_warn("account database unavailable", LF_STR("error", cause),
		    LF_END);
	oauth_error(resp, 503, "temporarily_unavailable",
	    "the account database is unavailable; try again shortly");
}

int
oauth_client_load(const char *client_id, struct oauth_client *c,
    char **cause)
{
	struct json_object	*uris = NULL, *u;
	struct db_conn		*conn = NULL;
	PGresult		*res = NULL;
	const char		*params[1];
	unsigned char		*hash;
	size_t			 len, i, n;
	int			 status = 503;

	memset(c, 0, sizeof *c);
	if (strlen(client_id) > 128) {
		*cause = xstrdup("unknown client_id");
		return (404);
	}
	params[0] = client_id;
	if ((conn = db_acquire(cause)) == NULL)
		goto out;
	res = db_exec(conn, "SELECT client_id, client_name, "
	    "array_to_json(redirect_uris)::text, token_endpoint_auth_method, "
	    "secret_hash FROM oauth_clients WHERE client_id = $1", 1, params,
	    cause);
	if (res == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		*cause = xstrdup("unknown client_id");
		status = 404;
		goto out;
	}
	c->client_id = xstrdup(PQgetvalue(res, 0, 0));
	c->name = PQgetisnull(res, 0, 1) ? NULL :
	    xstrdup(PQgetvalue(res, 0, 1));
	uris = json_tokener_parse(PQgetvalue(res, 0, 2));
	n = uris != NULL && json_object_is_type(uris, json_type_array) ?
	    json_object_array_length(uris) : 0;
	c->redirect_uris = xcalloc(n + 1, sizeof *c->redirect_uris);
	for (i = 0; i < n; i++) {
		u = json_object_array_get_idx(uris, i);
		if (json_object_is_type(u, json_type_string))
			c->redirect_uris[c->nredirect++] =
			    xstrdup(json_object_get_string(u));
	}
	c->auth_method = xstrdup(PQgetvalue(res, 0, 3));
	if ((hash = db_bytea_value(res, 0, 4, &len)) != NULL) {
		if (len == sizeof c->secret_hash) {
			memcpy(c->secret_hash, hash, len);
			c->has_secret = true;
		}
		free(hash);
	}
	status = 0;
out:
	json_object_put(uris);
	PQclear(res);
	db_release(conn);
	if (status != 0)
		oauth_client_clear(c);
	return (status);
}

/* A string of valid UTF-8 without control characters, at most max bytes. */
static bool
oauth_text_ok(const char *s, size_t max)
{
	size_t	n = strlen(s), i;

	if (n > max || !util_utf8_valid(s, n))
		return (false);
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (false);
	}
	return (true);
}

/* Is every member of the optional array v one of allowed? */
static bool
oauth_array_subset(struct json_object *v, const char *const *allowed,
    size_t nallowed)
{
	struct json_object	*e;
	size_t			 i, j;

	if (!json_object_is_type(v, json_type_array))
		return (false);
	for (i = 0; i < json_object_array_length(v); i++) {
		e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string))
			return (false);
		for (j = 0; j < nallowed; j++) {
			if (strcmp(json_object_get_string(e), allowed[j]) == 0)
				break;
		}
		if (j == nallowed)
			return (false);
	}
	return (true);
}

int
oauth_register(struct json_object *meta, struct json_object **out,
    char **error, char **desc)
{
	static const char *const grants[] = { "authorization_code",
	    "refresh_token" };
	static const char *const responses[] = { "code" };
	static const char *const methods[] = { "none", "client_secret_post",
	    "client_secret_basic" };
	struct json_object	*uris, *v, *o, *arr;
	struct db_conn		*c = NULL;
	const char		*method = "client_secret_basic", *name = NULL;
	const char		*params[5];
	char			*why = NULL, *id = NULL, *secret = NULL;
	char			*hash = NULL, *uris_json = NULL;
	unsigned char		 h[CRYPTO_HASH_LEN];
	size_t			 i, n;
	int			 status = 400;

	*out = NULL;
	*error = NULL;
	*desc = NULL;
	if (meta == NULL || !json_object_is_type(meta, json_type_object)) {
		*error = xstrdup("invalid_client_metadata");
		*desc = xstrdup("the body must be a JSON object");
		return (400);
	}
	if (!json_object_object_get_ex(meta, "redirect_uris", &uris) ||
	    !json_object_is_type(uris, json_type_array) ||
	    (n = json_object_array_length(uris)) == 0 ||
	    n > OAUTH_MAX_REDIRECTS) {
		*error = xstrdup("invalid_redirect_uri");
		xasprintf(desc, "redirect_uris must be an array of 1 to %d "
		    "URIs", OAUTH_MAX_REDIRECTS);
		return (400);
	}
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(uris, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !oauth_redirect_uri_valid(json_object_get_string(v),
		    &why)) {
			*error = xstrdup("invalid_redirect_uri");
			*desc = why != NULL ? why :
			    xstrdup("redirect_uris must hold strings");
			return (400);
		}
	}
	if (json_object_object_get_ex(meta, "token_endpoint_auth_method",
	    &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			*error = xstrdup("invalid_client_metadata");
			*desc = xstrdup("token_endpoint_auth_method must be a "
			    "string");
			return (400);
		}
		method = json_object_get_string(v);
		for (i = 0; i < nitems(methods); i++) {
			if (strcmp(method, methods[i]) == 0)
				break;
		}
		if (i == nitems(methods)) {
			*error = xstrdup("invalid_client_metadata");
			*desc = xstrdup("token_endpoint_auth_method must be "
			    "none, client_secret_post or client_secret_basic");
			return (400);
		}
	}
	if (json_object_object_get_ex(meta, "grant_types", &v) &&
	    !oauth_array_subset(v, grants, nitems(grants))) {
		*error = xstrdup("invalid_client_metadata");
		*desc = xstrdup("grant_types may hold authorization_code and "
		    "refresh_token only");
		return (400);
	}
	if (json_object_object_get_ex(meta, "response_types", &v) &&
	    !oauth_array_subset(v, responses, nitems(responses))) {
		*error = xstrdup("invalid_client_metadata");
		*desc = xstrdup("response_types may hold code only");
		return (400);
	}
	if (json_object_object_get_ex(meta, "client_name", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    !oauth_text_ok(json_object_get_string(v),
		    OAUTH_MAX_NAME)) {
			*error = xstrdup("invalid_client_metadata");
			xasprintf(desc, "client_name must be text of at most "
			    "%d bytes", OAUTH_MAX_NAME);
			return (400);
		}
		name = json_object_get_string(v);
	}

	status = 503;
	if ((id = crypto_random_token(24)) == NULL) {
		*error = xstrdup("cannot make a client id");
		goto out;
	}
	if (strcmp(method, "none") != 0) {
		if ((secret = crypto_random_token(CRYPTO_TOKEN_BYTES)) ==
		    NULL || !crypto_token_hash(secret, h)) {
			*error = xstrdup("cannot make a client secret");
			goto out;
		}
		hash = db_bytea_param(h, sizeof h);
	}
	uris_json = xstrdup(json_object_to_json_string_ext(uris,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	params[0] = id;
	params[1] = hash;
	params[2] = name;
	params[3] = uris_json;
	params[4] = method;
	if ((c = db_acquire(error)) == NULL)
		goto out;
	if (!db_run(c, "INSERT INTO oauth_clients (client_id, secret_hash, "
	    "client_name, redirect_uris, token_endpoint_auth_method) VALUES "
	    "($1, $2, $3, ARRAY(SELECT json_array_elements_text($4::json)), "
	    "$5)", 5, params, error))
		goto out;

	o = json_object_new_object();
	json_object_object_add(o, "client_id", json_object_new_string(id));
	json_object_object_add(o, "client_id_issued_at",
	    json_object_new_int64((int64_t)(util_wall_ms() / 1000)));
	if (secret != NULL) {
		json_object_object_add(o, "client_secret",
		    json_object_new_string(secret));
		json_object_object_add(o, "client_secret_expires_at",
		    json_object_new_int(0));
	}
	json_object_object_add(o, "redirect_uris", json_object_get(uris));
	json_object_object_add(o, "token_endpoint_auth_method",
	    json_object_new_string(method));
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string(
	    "authorization_code"));
	json_object_array_add(arr, json_object_new_string("refresh_token"));
	json_object_object_add(o, "grant_types", arr);
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string("code"));
	json_object_object_add(o, "response_types", arr);
	if (name != NULL)
		json_object_object_add(o, "client_name",
		    json_object_new_string(name));
	json_object_object_add(o, "scope", json_object_new_string(OAUTH_SCOPE));
	*out = o;
	status = 201;
out:
	db_release(c);
	free(id);
	crypto_free_secret(secret);
	free(hash);
	free(uris_json);
	return (status);
}

int
oauth_form_parse(const struct http_req *req, struct http_param **params,
    size_t *n, char **cause)
{
	const char	*ct = http_req_header(req, "Content-Type");
	size_t		 i, j;
	int		 rc;

	*params = NULL;
	*n = 0;
	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded",
	    33) != 0 || (ct[33] != '\0' && ct[33] != ';')) {
		*cause = xstrdup("the body must be "
		    "application/x-www-form-urlencoded");
		return (400);
	}
	if (req->body == NULL || req->body_len == 0)
		return (0);
	if (memchr(req->body, '\0', req->body_len) != NULL) {
		*cause = xstrdup("the body contains a NUL byte");
		return (400);
	}
	if ((rc = http_parse_query(req->body, params, n, cause)) != 0)
		return (400);
	for (i = 0; i < *n; i++) {
		for (j = i + 1; j < *n; j++) {
			if (strcmp((*params)[i].key, (*params)[j].key) == 0) {
				xasprintf(cause, "parameter %.40s is repeated",
				    (*params)[i].key);
				http_params_free(*params, *n);
				*params = NULL;
				*n = 0;
				return (400);
			}
		}
	}
	return (0);
}

const char *
oauth_form_get(const struct http_param *p, size_t n, const char *key)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(p[i].key, key) == 0)
			return (p[i].value);
	}
	return (NULL);
}

/*
 * Client authentication at the token and revocation endpoints. 0 with *c
 * loaded, else the error response is written and its status returned.
 */
static int
oauth_client_authenticate(struct http_req *req, struct http_resp *resp,
    const struct http_param *form, size_t n, struct oauth_client *c)
{
	const char	*authz = http_req_header(req, "Authorization");
	const char	*fid = oauth_form_get(form, n, "client_id");
	const char	*fsecret = oauth_form_get(form, n, "client_secret");
	unsigned char	*raw = NULL, h[CRYPTO_HASH_LEN];
	char		*id = NULL, *secret = NULL, *colon, *cause = NULL;
	const char	*method;
	size_t		 len;
	int		 status;

	memset(c, 0, sizeof *c);
	if (fsecret != NULL && *fsecret == '\0')
		fsecret = NULL;		/* some public clients send it empty */
	if (authz != NULL && strncasecmp(authz, "Basic ", 6) == 0) {
		if (fsecret != NULL) {
			oauth_error(resp, 400, "invalid_request", "use one "
			    "client authentication method, not two");
			return (400);
		}
		raw = crypto_b64_decode(authz + 6, strlen(authz + 6), &len);
		if (raw == NULL || memchr(raw, '\0', len) != NULL ||
		    (colon = strchr((char *)raw, ':')) == NULL) {
			crypto_free_secret((char *)raw);
			oauth_error(resp, 401, "invalid_client", "malformed "
			    "Basic credentials");
			return (401);
		}
		*colon = '\0';
		id = http_decode((char *)raw, strlen((char *)raw), true);
		secret = http_decode(colon + 1, strlen(colon + 1), true);
		crypto_free_secret((char *)raw);
		if (id == NULL || secret == NULL || (fid != NULL &&
		    strcmp(fid, id) != 0)) {
			free(id);
			crypto_free_secret(secret);
			oauth_error(resp, 401, "invalid_client", "malformed "
			    "Basic credentials");
			return (401);
		}
		method = "client_secret_basic";
	} else {
		if (fid == NULL || *fid == '\0') {
			oauth_error(resp, 401, "invalid_client",
			    "client_id is required");
			return (401);
		}
		id = xstrdup(fid);
		secret = fsecret != NULL ? xstrdup(fsecret) : NULL;
		method = secret != NULL ? "client_secret_post" : "none";
	}

	status = oauth_client_load(id, c, &cause);
	if (status == 404) {
		oauth_error(resp, 401, "invalid_client", "unknown client");
		status = 401;
		goto out;
	}
	if (status != 0) {
		oauth_unavailable(resp, cause);
		goto out;
	}
	status = 401;
	if (!c->has_secret) {
		if (secret != NULL) {
			oauth_error(resp, 401, "invalid_client", "this client "
			    "is public: it authenticates with PKCE, not a "
			    "secret");
			goto out;
		}
	} else {
		if (secret == NULL || !crypto_token_hash(secret, h) ||
		    !util_ct_equal(h, sizeof h, c->secret_hash,
		    sizeof c->secret_hash)) {
			oauth_error(resp, 401, "invalid_client",
			    "client authentication failed");
			goto out;
		}
		if (strcmp(method, "none") == 0) {
			oauth_error(resp, 401, "invalid_client",
			    "client authentication failed");
			goto out;
		}
	}
	status = 0;
out:
	if (status != 0)
		oauth_client_clear(c);
	free(cause);
	free(id);
	crypto_free_secret(secret);
	return (status);
}

/* Revoke every token of a family (a replayed code or refresh token). */
static bool
oauth_revoke_family(struct db_conn *c, const char *family, char **cause)
{
	const char	*params[1] = { family };

	return (db_run(c, "UPDATE token_families SET revoked_at = now() "
	    "WHERE id = $1 AND revoked_at IS NULL", 1, params, cause) &&
	    db_run(c, "UPDATE tokens SET revoked_at = now() "
	    "WHERE family_id = $1 AND revoked_at IS NULL", 1, params, cause));
}

/*
 * Issue an access and a refresh token in family for user and client, and
 * the token response. Inside the caller's transaction.
 */
static bool
oauth_issue(struct db_conn *c, const char *user, const char *client,
    const char *family, const char *scope, struct json_object **out,
    char **cause)
{
	const char	*params[8];
	char		*access = NULL, *refresh = NULL, *ah = NULL, *rh = NULL;
	char		 attl[16], rttl[16];
	bool		 ok = false;

	if ((access = crypto_random_token(CRYPTO_TOKEN_BYTES)) == NULL ||
	    (refresh = crypto_random_token(CRYPTO_TOKEN_BYTES)) == NULL ||
	    (ah = auth_hash_param(access)) == NULL ||
	    (rh = auth_hash_param(refresh)) == NULL) {
		*cause = xstrdup("cannot make tokens");
		goto out;
	}
	snprintf(attl, sizeof attl, "%d", cfg->access_token_ttl);
	snprintf(rttl, sizeof rttl, "%d", cfg->refresh_token_ttl);
	params[0] = ah;
	params[1] = user;
	params[2] = client;
	params[3] = family;
	params[4] = scope;
	params[5] = attl;
	params[6] = rh;
	params[7] = rttl;
	if (!db_run(c, "INSERT INTO tokens (token_hash, kind, user_id, "
	    "client_id, family_id, scope, expires_at) VALUES "
	    "($1, 'access', $2, $3, $4, $5, now() + $6::int * interval "
	    "'1 second'), "
	    "($7, 'refresh', $2, $3, $4, $5, now() + $8::int * interval "
	    "'1 second')", 8, params, cause))
		goto out;
	*out = json_object_new_object();
	json_object_object_add(*out, "access_token",
	    json_object_new_string(access));
	json_object_object_add(*out, "token_type",
	    json_object_new_string("Bearer"));
	json_object_object_add(*out, "expires_in",
	    json_object_new_int(cfg->access_token_ttl));
	json_object_object_add(*out, "refresh_token",
	    json_object_new_string(refresh));
	json_object_object_add(*out, "scope", json_object_new_string(
	    scope != NULL && *scope != '\0' ? scope : OAUTH_SCOPE));
	ok = true;
out:
	crypto_free_secret(access);
	crypto_free_secret(refresh);
	free(ah);
	free(rh);
	return (ok);
}

/* Outcome of a grant inside its transaction. */
struct oauth_grant {
	int			 status;	/* 200, 400 or 503 */
	const char		*error;		/* OAuth error code */
	const char		*desc;
	struct json_object	*tokens;
};

static void
oauth_grant_fail(struct oauth_grant *g, const char *error, const char *desc)
{
	g->status = 400;
	g->error = error;
	g->desc = desc;
}

/*
 * The hash of the code or token a grant presents (*hash, caller frees),
 * and the grant's transaction; false with *cause.
 */
static bool
oauth_grant_begin(struct db_conn *c, const char *secret, char **hash,
    char **cause)
{
	if ((*hash = auth_hash_param(secret)) == NULL) {
		*cause = xstrdup("accounts are not configured");
		return (false);
	}
	return (db_begin(c, cause));
}

static void
oauth_grant_code(struct db_conn *c, const struct oauth_client *client,
    const struct http_param *form, size_t n, struct oauth_grant *g,
    char **cause)
{
	const char	*code = oauth_form_get(form, n, "code");
	const char	*redirect = oauth_form_get(form, n, "redirect_uri");
	const char	*verifier = oauth_form_get(form, n, "code_verifier");
	const char	*resource = oauth_form_get(form, n, "resource");
	const char	*params[3];
	PGresult	*res = NULL, *fam = NULL;
	char		*hash = NULL, *family = NULL;
	bool		 live, used;

	if (code == NULL || *code == '\0' || redirect == NULL ||
	    verifier == NULL) {
		oauth_grant_fail(g, "invalid_request", "code, redirect_uri "
		    "and code_verifier are required");
		return;
	}
	if (!crypto_pkce_verifier_valid(verifier)) {
		oauth_grant_fail(g, "invalid_grant", "code_verifier must be "
		    "43 to 128 unreserved characters");
		return;
	}
	if (!oauth_grant_begin(c, code, &hash, cause))
		goto db;
	params[0] = hash;
	res = db_exec(c, "SELECT client_id, user_id, redirect_uri, "
	    "code_challenge, scope, resource, expires_at > now(), "
	    "used_at IS NOT NULL, family_id FROM authorization_codes "
	    "WHERE code_hash = $1 FOR UPDATE", 1, params, cause);
	if (res == NULL)
		goto db;
	if (PQntuples(res) != 1) {
		oauth_grant_fail(g, "invalid_grant", "unknown authorization "
		    "code");
		goto out;
	}
	live = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	used = strcmp(PQgetvalue(res, 0, 7), "t") == 0;
	if (used) {
		/* A replayed code: revoke what it was exchanged for. */
		if (!PQgetisnull(res, 0, 8) &&
		    (!oauth_revoke_family(c, PQgetvalue(res, 0, 8), cause) ||
		    !db_commit(c, cause)))
			goto db;
		oauth_grant_fail(g, "invalid_grant", "the authorization code "
		    "was already used; the tokens issued for it are revoked");
		goto out;
	}
	/* Any attempt spends the code, so a guessed verifier gets one try. */
	if (!db_run(c, "UPDATE authorization_codes SET used_at = now() "
	    "WHERE code_hash = $1", 1, params, cause))
		goto db;
	if (!live)
		oauth_grant_fail(g, "invalid_grant", "the authorization code "
		    "has expired");
	else if (strcmp(PQgetvalue(res, 0, 0), client->client_id) != 0)
		oauth_grant_fail(g, "invalid_grant", "the authorization code "
		    "was issued to another client");
	else if (strcmp(PQgetvalue(res, 0, 2), redirect) != 0)
		oauth_grant_fail(g, "invalid_grant", "redirect_uri does not "
		    "match the authorization request");
	else if (!crypto_pkce_s256_matches(verifier, PQgetvalue(res, 0, 3)))
		oauth_grant_fail(g, "invalid_grant", "code_verifier does not "
		    "match the code_challenge");
	else if (resource != NULL && (!oauth_resource_valid(resource) ||
	    (!PQgetisnull(res, 0, 5) &&
	    strcmp(resource, PQgetvalue(res, 0, 5)) != 0)))
		oauth_grant_fail(g, "invalid_target", "resource does not "
		    "match the authorization request");
	if (g->status == 400) {
		if (!db_commit(c, cause))
			goto db;
		goto out;
	}
	params[0] = PQgetvalue(res, 0, 1);
	params[1] = client->client_id;
	if ((fam = db_exec(c, "INSERT INTO token_families (user_id, "
	    "client_id) VALUES ($1, $2) RETURNING id", 2, params, cause)) ==
	    NULL)
		goto db;
	family = xstrdup(PQgetvalue(fam, 0, 0));
	params[0] = family;
	params[1] = hash;
	if (!db_run(c, "UPDATE authorization_codes SET family_id = $1 "
	    "WHERE code_hash = $2", 2, params, cause) ||
	    !oauth_issue(c, PQgetvalue(res, 0, 1), client->client_id, family,
	    PQgetisnull(res, 0, 4) ? NULL : PQgetvalue(res, 0, 4), &g->tokens,
	    cause) || !db_commit(c, cause))
		goto db;
	g->status = 200;
	goto out;
db:
	g->status = 503;
	json_object_put(g->tokens);
	g->tokens = NULL;
out:
	db_rollback(c);
	PQclear(res);
	PQclear(fam);
	free(family);
	free(hash);
}

static void
oauth_grant_refresh(struct db_conn *c, const struct oauth_client *client,
    const struct http_param *form, size_t n, struct oauth_grant *g,
    char **cause)
{
	const char	*token = oauth_form_get(form, n, "refresh_token");
	const char	*scope = oauth_form_get(form, n, "scope");
	const char	*params[1];
	PGresult	*res = NULL;
	char		*hash = NULL;

	if (token == NULL || *token == '\0') {
		oauth_grant_fail(g, "invalid_request", "refresh_token is "
		    "required");
		return;
	}
	if (scope != NULL && !oauth_scope_valid(scope)) {
		oauth_grant_fail(g, "invalid_scope", "scope exceeds the grant");
		return;
	}
	if (!oauth_grant_begin(c, token, &hash, cause))
		goto db;
	params[0] = hash;
	res = db_exec(c, "SELECT t.user_id, t.client_id, t.family_id, "
	    "t.scope, t.used_at IS NOT NULL, "
	    "t.revoked_at IS NOT NULL OR f.revoked_at IS NOT NULL, "
	    "t.expires_at > now() FROM tokens t "
	    "LEFT JOIN token_families f ON f.id = t.family_id "
	    "WHERE t.token_hash = $1 AND t.kind = 'refresh' "
	    "FOR UPDATE OF t", 1, params, cause);
	if (res == NULL)
		goto db;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 1) ||
	    strcmp(PQgetvalue(res, 0, 1), client->client_id) != 0) {
		oauth_grant_fail(g, "invalid_grant", "unknown refresh token");
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 5), "t") == 0) {
		oauth_grant_fail(g, "invalid_grant", "the refresh token was "
		    "revoked");
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 4), "t") == 0) {
		/* Replay of a rotated token: one of the two copies is stolen. */
		if (!oauth_revoke_family(c, PQgetvalue(res, 0, 2), cause) ||
		    !db_commit(c, cause))
			goto db;
		log_warn("refresh token reused; grant revoked",
		    LF_STR("client_id", client->client_id), LF_END);
		oauth_grant_fail(g, "invalid_grant", "the refresh token was "
		    "already used; every token of this grant is revoked");
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 6), "t") != 0) {
		oauth_grant_fail(g, "invalid_grant", "the refresh token has "
		    "expired");
		goto out;
	}
	if (!db_run(c, "UPDATE tokens SET used_at = now() "
	    "WHERE token_hash = $1", 1, params, cause) ||
	    !oauth_issue(c, PQgetvalue(res, 0, 0), client->client_id,
	    PQgetvalue(res, 0, 2), PQgetisnull(res, 0, 3) ? NULL :
	    PQgetvalue(res, 0, 3), &g->tokens, cause) || !db_commit(c, cause))
		goto db;
	g->status = 200;
	goto out;
db:
	g->status = 503;
	json_object_put(g->tokens);
	g->tokens = NULL;
out:
	db_rollback(c);
	PQclear(res);
	free(hash);
}

void
oauth_token_endpoint(struct http_req *req, struct http_resp *resp)
{
	struct oauth_client	 client;
	struct oauth_grant	 g;
	struct http_param	*form = NULL;
	struct db_conn		*c = NULL;
	const char		*grant;
	char			*cause = NULL;
	size_t			 n = 0;

	memset(&client, 0, sizeof client);
	memset(&g, 0, sizeof g);
	if (!auth_enabled()) {
		oauth_unavailable(resp, NULL);
		return;
	}
	if (oauth_form_parse(req, &form, &n, &cause) != 0) {
		oauth_error(resp, 400, "invalid_request", cause);
		goto out;
	}
	grant = oauth_form_get(form, n, "grant_type");
	if (grant == NULL) {
		oauth_error(resp, 400, "invalid_request",
		    "grant_type is required");
		goto out;
	}
	if (strcmp(grant, "authorization_code") != 0 &&
	    strcmp(grant, "refresh_token") != 0) {
		oauth_error(resp, 400, "unsupported_grant_type",
		    "grant_type must be authorization_code or refresh_token");
		goto out;
	}
	if (oauth_client_authenticate(req, resp, form, n, &client) != 0) {
		req->log_error = "client authentication failed";
		goto out;
	}
	if ((c = db_acquire(&cause)) == NULL) {
		oauth_unavailable(resp, cause);
		goto out;
	}
	if (strcmp(grant, "authorization_code") == 0)
		oauth_grant_code(c, &client, form, n, &g, &cause);
	else
		oauth_grant_refresh(c, &client, form, n, &g, &cause);
	if (g.status == 200) {
		http_resp_header(resp, "Cache-Control", "no-store");
		http_resp_header(resp, "Pragma", "no-cache");
		http_resp_json(resp, 200, g.tokens);
	} else if (g.status == 400) {
		req->log_error = g.error;
		oauth_error(resp, 400, g.error, g.desc);
	} else
		oauth_unavailable(resp, cause);
out:
	db_release(c);
	oauth_client_clear(&client);
	http_params_free(form, n);
	free(cause);
}

void
oauth_revoke_endpoint(struct http_req *req, struct http_resp *resp)
{
	struct oauth_client	 client;
	struct http_param	*form = NULL;
	struct db_conn		*c = NULL;
	PGresult		*res = NULL;
	const char		*token, *params[2];
	char			*cause = NULL, *hash = NULL;
	size_t			 n = 0;
	bool			 ok;

	memset(&client, 0, sizeof client);
	if (!auth_enabled()) {
		oauth_unavailable(resp, NULL);
		return;
	}
	if (oauth_form_parse(req, &form, &n, &cause) != 0) {
		oauth_error(resp, 400, "invalid_request", cause);
		goto out;
	}
	if ((token = oauth_form_get(form, n, "token")) == NULL) {
		oauth_error(resp, 400, "invalid_request", "token is required");
		goto out;
	}
	if (oauth_client_authenticate(req, resp, form, n, &client) != 0)
		goto out;
	if ((hash = auth_hash_param(token)) == NULL ||
	    (c = db_acquire(&cause)) == NULL) {
		oauth_unavailable(resp, cause);
		goto out;
	}
	params[0] = hash;
	params[1] = client.client_id;
	/* A refresh token takes its whole grant with it (RFC 7009 §2.1). */
	res = db_exec(c, "SELECT kind, family_id FROM tokens "
	    "WHERE token_hash = $1 AND client_id = $2", 2, params, &cause);
	if (res == NULL) {
		oauth_unavailable(resp, cause);
		goto out;
	}
	if (PQntuples(res) == 1) {
		if (strcmp(PQgetvalue(res, 0, 0), "refresh") == 0 &&
		    !PQgetisnull(res, 0, 1))
			ok = oauth_revoke_family(c, PQgetvalue(res, 0, 1),
			    &cause);
		else
			ok = db_run(c, "UPDATE tokens SET revoked_at = now() "
			    "WHERE token_hash = $1 AND revoked_at IS NULL", 1,
			    params, &cause);
		if (!ok) {
			oauth_unavailable(resp, cause);
			goto out;
		}
	}
	/* Unknown tokens are not an error (RFC 7009 §2.2). */
	http_resp_header(resp, "Cache-Control", "no-store");
	http_resp_json(resp, 200, json_object_new_object());
out:
	PQclear(res);
	db_release(c);
	oauth_client_clear(&client);
	http_params_free(form, n);
	free(hash);
	free(cause);
}

int
oauth_code_create(long long user_id, const char *client_id,
    const char *redirect_uri, const char *challenge, const char *scope,
    const char *resource, char **code, char **cause)
{
	struct db_conn	*c = NULL;
	const char	*params[8];
	char		 id[24], ttl[16], *hash = NULL;
	int		 status = 503;

	if ((*code = crypto_random_token(CRYPTO_TOKEN_BYTES)) == NULL ||
	    (hash = auth_hash_param(*code)) == NULL) {
		*cause = xstrdup("cannot make an authorization code");
		goto out;
	}
	snprintf(id, sizeof id, "%lld", user_id);
	snprintf(ttl, sizeof ttl, "%d", OAUTH_CODE_TTL);
	params[0] = hash;
	params[1] = client_id;
	params[2] = id;
	params[3] = redirect_uri;
	params[4] = challenge;
	params[5] = scope;
	params[6] = resource;
	params[7] = ttl;
	if ((c = db_acquire(cause)) == NULL)
		goto out;
	if (!db_run(c, "DELETE FROM authorization_codes WHERE code_hash IN "
	    "(SELECT code_hash FROM authorization_codes WHERE expires_at < "
	    "now() - interval '1 day' LIMIT 100)", 0, NULL, cause) ||
	    !db_run(c, "INSERT INTO authorization_codes (code_hash, client_id, "
	    "user_id, redirect_uri, code_challenge, scope, resource, "
	    "expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
	    "now() + $8::int * interval '1 second')", 8, params, cause))
		goto out;
	status = 0;
out:
	if (status != 0) {
		crypto_free_secret(*code);
		*code = NULL;
	}
	db_release(c);
	free(hash);
	return (status);
}
