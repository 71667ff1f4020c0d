/* accounts/auth.c: accounts: users, login states, web sessions, and who is calling (auth_authenticate). */
#include "autoconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "tool.h"
#include "util.h"

/* Tokens we issue are 43 characters; anything far off is not ours. */
#define AUTH_TOKEN_MIN	32
#define AUTH_TOKEN_MAX	128

bool
auth_enabled(void)
{
	return (db_enabled() && crypto_ready());
}

char *
auth_hash_param(const char *token)
{
	unsigned char	h[CRYPTO_HASH_LEN];

	if (!crypto_token_hash(token, h))
		return (NULL);
	return (db_bytea_param(h, sizeof h));
}

void
auth_principal_free(struct auth_principal *p)
{
	if (p == NULL)
		return;
	free(p->name);
	crypto_free_secret(p->anilist_token);
	free(p->client_id);
	memset(p, 0, sizeof *p);
}

void
auth_pending_clear(struct auth_pending *p)
{
	if (p == NULL)
		return;
	free(p->client_id);
	free(p->redirect_uri);
	free(p->client_state);
	free(p->code_challenge);
	free(p->scope);
	free(p->resource);
	memset(p, 0, sizeof *p);
}

char *
auth_cookie_value(const char *header, const char *name)
{
	const char	*p = header, *end, *eq;
	size_t		 nlen = strlen(name), vlen;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    strncmp(p, name, nlen) == 0) {
			eq++;
			vlen = (size_t)(end - eq);
			while (vlen > 0 && (eq[vlen - 1] == ' ' ||
			    eq[vlen - 1] == '\t'))
				vlen--;
			if (vlen >= 2 && eq[0] == '"' && eq[vlen - 1] == '"') {
				eq++;
				vlen -= 2;
			}
			return (xstrndup(eq, vlen));
		}
		p = *end == ';' ? end + 1 : end;
	}
	return (NULL);
}

/* scheme://host[:port] of a URL, lower case, default port dropped. */
static char *
auth_origin_of(const char *url)
{
	const char	*sep, *end;
	char		*o, *colon;
	size_t		 i;

	if ((sep = strstr(url, "://")) == NULL)
		return (NULL);
	end = sep + 3 + strcspn(sep + 3, "/?#");
	o = xstrndup(url, (size_t)(end - url));
	for (i = 0; o[i] != '\0'; i++)
		o[i] = (char)tolower((unsigned char)o[i]);
	colon = strrchr(o + (sep - url) + 3, ':');
	if (colon != NULL && strchr(colon, ']') == NULL &&
	    ((strncmp(o, "https:", 6) == 0 && strcmp(colon, ":443") == 0) ||
	    (strncmp(o, "http:", 5) == 0 && strcmp(colon, ":80") == 0)))
		*colon = '\0';
	return (o);
}

bool
auth_origin_is_self(const char *public_url, const char *origin)
{
	char	*a, *b;
	bool	 same;

	a = auth_origin_of(public_url);
	b = auth_origin_of(origin);
	same = a != NULL && b != NULL && strcmp(a, b) == 0;
	free(a);
	free(b);
	return (same);
}

bool
auth_origin_allowed(const struct http_req *req)
{
	const char	*origin;

	if (strcmp(req->method, "GET") == 0 ||
	    strcmp(req->method, "HEAD") == 0 ||
	    strcmp(req->method, "OPTIONS") == 0)
		return (true);
	if ((origin = http_req_header(req, "Origin")) == NULL)
		return (true);
	return (auth_origin_is_self(cfg->public_url, origin));
}

void
auth_set_cookie(struct http_resp *resp, const char *name, const char *value,
    int max_age)
{
	http_resp_header(resp, "Set-Cookie",
	    "%s=%s; Path=/; Max-Age=%d; Secure; HttpOnly; SameSite=Lax",
	    name, value, max_age);
}

char *
auth_challenge_value(const char *error)
{
	char	*issuer, *v;
	size_t	 n;

	issuer = xstrdup(cfg->public_url);
	n = strlen(issuer);
	while (n > 0 && issuer[n - 1] == '/')
		issuer[--n] = '\0';
	if (error != NULL)
		xasprintf(&v, "Bearer error=\"%s\", resource_metadata=\"%s/"
		    ".well-known/oauth-protected-resource\"", error, issuer);
	else
		xasprintf(&v, "Bearer resource_metadata=\"%s/.well-known/"
		    "oauth-protected-resource\"", issuer);
	free(issuer);
	return (v);
}

/* Write 401 with the WWW-Authenticate challenge; error may be NULL. */
static void
auth_challenge(struct http_resp *resp, const char *error, const char *why)
{
	char	*v;

	http_resp_error(resp, 401, "unauthorized", NULL, "%s",
	    why != NULL ? why : "authentication required");
	v = auth_challenge_value(error);
	http_resp_header(resp, "WWW-Authenticate", "%s", v);
	free(v);
}

void
auth_unavailable(struct http_resp *resp, const char *cause)
{
	if (!auth_enabled()) {
		http_resp_error(resp, 503, "accounts_disabled", NULL,
		    "accounts are not configured on this server");
		return;
	}
	log_warn("account database unavailable", LF_STR("error", cause),
	    LF_END);
	http_resp_header(resp, "Retry-After", "%d",
	    HTTP_RETRY_AFTER_DOWN);
	http_resp_error(resp, 503, "accounts_unavailable", NULL,
	    "the account database is unavailable; try again shortly");
}

/* An Origin header that is not ours: a page of another site sent it. */
static bool
auth_origin_foreign(const struct http_req *req)
{
	const char	*origin = http_req_header(req, "Origin");

	return (origin != NULL && !auth_origin_is_self(cfg->public_url,
	    origin));
}

/*
 * Could the request have been caused by a page of another site? Bearer
 * tokens cannot be sent by one; the session cookie can (SameSite=Lax sends
 * it with a top-level GET from any link). A cookie request is our own when
 * its Origin is ours or the browser says Sec-Fetch-Site: same-origin; other
 * methods than GET and HEAD got this far only with our Origin or none
 * (auth_origin_allowed), which browsers send on every cross-site write.
 */
static bool
auth_same_site(const struct http_req *req, enum auth_via via)
{
	const char	*site;

	if (via == AUTH_VIA_BEARER)
		return (true);
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		return (true);
	if (http_req_header(req, "Origin") != NULL)
		return (!auth_origin_foreign(req));
	site = http_req_header(req, "Sec-Fetch-Site");
	return (site != NULL && strcmp(site, "same-origin") == 0);
}

bool
auth_credentials_present(const struct http_req *req)
{
	const char	*cookie;
	char		*v;
	bool		 present;

	if (http_req_header(req, "Authorization") != NULL)
		return (true);
	if ((cookie = http_req_header(req, "Cookie")) == NULL ||
	    auth_origin_foreign(req))
		return (false);
	v = auth_cookie_value(cookie, AUTH_SESSION_COOKIE);
	present = v != NULL && *v != '\0';
	free(v);
	return (present);
}

void
auth_principal_tool(const struct auth_principal *p, struct tool_auth *ta)
{
	memset(ta, 0, sizeof *ta);
	ta->user_id = p->user_id;
	ta->anilist_id = p->anilist_id;
	ta->name = p->name;
	ta->anilist_token = p->anilist_token;
	ta->scope = p->scope;
	ta->may_record = p->same_site;
}

/* Only base64url of a sane length can be one of our tokens. */
static bool
auth_token_plausible(const char *t)
{
	size_t	n = strlen(t);

	return (n >= AUTH_TOKEN_MIN && n <= AUTH_TOKEN_MAX &&
	    strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == n);
}

/* A live token of one kind, its user and that user's sealed AniList token. */
static const char auth_token_sql[] =
    "SELECT t.user_id, u.anilist_id, u.anilist_name, t.client_id, "
    "a.token_sealed, "
    "coalesce(extract(epoch FROM a.expires_at)::bigint, 0) "
    "FROM tokens t JOIN users u ON u.id = t.user_id "
    "LEFT JOIN anilist_tokens a ON a.user_id = t.user_id "
    "LEFT JOIN token_families f ON f.id = t.family_id "
    "WHERE t.token_hash = $1 AND t.kind = $2 "
    "AND t.revoked_at IS NULL AND f.revoked_at IS NULL "
    "AND t.expires_at > now()";
enum auth_token_col {
	AUTH_TOKEN_USER_ID,
	AUTH_TOKEN_ANILIST_ID,
	AUTH_TOKEN_ANILIST_NAME,
	AUTH_TOKEN_CLIENT_ID,
	AUTH_TOKEN_SEALED,
	AUTH_TOKEN_EXPIRES,
};

/* Look the token up and open the user's AniList token. */
static int
auth_lookup(const char *token, const char *kind, struct auth_principal *p,
    char **cause)
{
	struct db_conn	*c = NULL;
	PGresult	*res = NULL;
	const char	*params[2];
	char		*hash = NULL, aad[48];
	unsigned char	*sealed = NULL;
	size_t		 slen = 0;
	long long	 v;
	int		 status = 503;

	if (!crypto_token_hash(token, p->token_hash)) {
		*cause = xstrdup("accounts are not configured");
		return (503);
	}
	hash = db_bytea_param(p->token_hash, sizeof p->token_hash);
	params[0] = hash;
	params[1] = kind;
	if ((c = db_acquire(cause)) == NULL)
		goto out;
	res = db_exec(c, auth_token_sql, 2, params, cause);
	if (res == NULL)
		goto out;
	status = 401;
	if (PQntuples(res) != 1) {
		*cause = xstrdup(strcmp(kind, "session") == 0 ?
		    "the session has expired or was revoked; sign in again" :
		    "the access token is invalid, expired or revoked");
		goto out;
	}
	util_parse_ll(PQgetvalue(res, 0, AUTH_TOKEN_USER_ID), &p->user_id);
	util_parse_ll(PQgetvalue(res, 0, AUTH_TOKEN_ANILIST_ID),
	    &p->anilist_id);
	p->name = xstrdup(PQgetvalue(res, 0, AUTH_TOKEN_ANILIST_NAME));
	if (!PQgetisnull(res, 0, AUTH_TOKEN_CLIENT_ID))
		p->client_id = xstrdup(PQgetvalue(res, 0,
		    AUTH_TOKEN_CLIENT_ID));
	if (util_parse_ll(PQgetvalue(res, 0, AUTH_TOKEN_EXPIRES), &v))
		p->anilist_expires = v;
	snprintf(aad, sizeof aad, "anilist-token:%lld", p->user_id);
	sealed = db_bytea_value(res, 0, AUTH_TOKEN_SEALED, &slen);
	if (sealed == NULL || (p->anilist_token = crypto_open(sealed, slen,
	    aad, NULL)) == NULL) {
		*cause = xstrdup("no usable AniList authorization; sign in "
		    "again");
		goto out;
	}
	if (p->anilist_expires != 0 && p->anilist_expires <= time(NULL)) {
		*cause = xstrdup("the AniList authorization has expired; sign "
		    "in again");
		goto out;
	}
	snprintf(p->scope, sizeof p->scope, "user:%lld", p->user_id);
	status = 0;
out:
	free(sealed);
	PQclear(res);
	db_release(c);
	free(hash);
	return (status);
}

int
auth_authenticate(struct http_req *req, struct auth_principal *p,
    char **cause)
{
	const char	*authz, *cookie;
	char		*token = NULL;
	const char	*kind;
	int		 status;

	memset(p, 0, sizeof *p);
	authz = http_req_header(req, "Authorization");
	cookie = http_req_header(req, "Cookie");
	if (authz != NULL && strncasecmp(authz, "Bearer ", 7) == 0) {
		authz += 7;
		while (*authz == ' ')
			authz++;
		token = xstrdup(authz);
		p->via = AUTH_VIA_BEARER;
		kind = "access";
	} else if (cookie != NULL && (token = auth_cookie_value(cookie,
	    AUTH_SESSION_COOKIE)) != NULL && *token != '\0') {
		p->via = AUTH_VIA_SESSION;
		kind = "session";
		if (!auth_origin_allowed(req)) {
			*cause = xstrdup("a cross-origin request may not use "
			    "the session cookie");
			status = 403;
			goto fail;
		}
		if (auth_origin_foreign(req)) {
			/* The cookie does not count for another site's page. */
			*cause = xstrdup("a page of another site may not use "
			    "the session cookie; send an OAuth bearer token");
			status = 401;
			goto fail;
		}
	} else {
		*cause = xstrdup("authentication required: an OAuth bearer "
		    "token or a web session");
		status = 401;
		goto fail;
	}
	if (!auth_enabled()) {
		*cause = xstrdup("accounts are not configured on this server");
		status = 503;
		goto fail;
	}
	if (!auth_token_plausible(token)) {
		*cause = xstrdup(p->via == AUTH_VIA_BEARER ?
		    "the access token is invalid, expired or revoked" :
		    "the session has expired or was revoked; sign in again");
		status = 401;
		goto fail;
	}
	if ((status = auth_lookup(token, kind, p, cause)) != 0)
		goto fail;
	p->same_site = auth_same_site(req, p->via);
	crypto_free_secret(token);
	crypto_user_tag(p->user_id, req->log_user);
	metrics_user(req->log_user);
	return (0);
fail:
	crypto_free_secret(token);
	auth_principal_free(p);
	return (status);
}

bool
auth_require(struct http_req *req, struct http_resp *resp,
    struct auth_principal *p)
{
	const char	*authz;
	char		*cause = NULL;
	int		 status;

	if ((status = auth_authenticate(req, p, &cause)) == 0)
		return (true);
	switch (status) {
	case 401:
		authz = http_req_header(req, "Authorization");
		auth_challenge(resp, authz != NULL &&
		    strncasecmp(authz, "Bearer ", 7) == 0 ? "invalid_token" :
		    NULL, cause);
		req->log_error = "unauthenticated";
		break;
	case 403:
		http_resp_error(resp, 403, "forbidden", NULL, "%s", cause);
		req->log_error = "foreign origin";
		break;
	default:
		auth_unavailable(resp, cause);
		req->log_error = "accounts unavailable";
		break;
	}
	free(cause);
	return (false);
}

/* What the statements on login_states return: a pending authorization. */
#define AUTH_PENDING_COLUMNS						\
	"client_id, redirect_uri, client_state, code_challenge, "	\
	"scope, resource, consented"
enum auth_pending_col {
	AUTH_PENDING_CLIENT_ID,
	AUTH_PENDING_REDIRECT_URI,
	AUTH_PENDING_CLIENT_STATE,
	AUTH_PENDING_CODE_CHALLENGE,
	AUTH_PENDING_SCOPE,
	AUTH_PENDING_RESOURCE,
	AUTH_PENDING_CONSENTED,
};

/* The pending-authorization columns of a login_states row. */
static void
auth_pending_from(const PGresult *res, struct auth_pending *p)
{
	char	**fields[] = {
		[AUTH_PENDING_CLIENT_ID] = &p->client_id,
		[AUTH_PENDING_REDIRECT_URI] = &p->redirect_uri,
		[AUTH_PENDING_CLIENT_STATE] = &p->client_state,
		[AUTH_PENDING_CODE_CHALLENGE] = &p->code_challenge,
		[AUTH_PENDING_SCOPE] = &p->scope,
		[AUTH_PENDING_RESOURCE] = &p->resource,
	};
	int	  col;

	for (col = 0; col < (int)nitems(fields); col++)
		*fields[col] = PQgetisnull(res, 0, col) ? NULL :
		    xstrdup(PQgetvalue(res, 0, col));
	p->consented = strcmp(PQgetvalue(res, 0, AUTH_PENDING_CONSENTED),
	    "t") == 0;
}

int
auth_login_begin(const struct auth_pending *pend, char **state, char **cause)
{
	struct db_conn	*c = NULL;
	const char	*params[8];
	char		*token, *hash = NULL, ttl[16];
	int		 status = 503;

	*state = NULL;
	if ((token = crypto_random_token(CRYPTO_TOKEN_BYTES)) == NULL ||
	    (hash = auth_hash_param(token)) == NULL) {
		*cause = xstrdup("cannot make a login state");
		goto out;
	}
	snprintf(ttl, sizeof ttl, "%d", AUTH_STATE_TTL);
	params[0] = hash;
	params[1] = ttl;
	params[2] = pend != NULL ? pend->client_id : NULL;
	params[3] = pend != NULL ? pend->redirect_uri : NULL;
	params[4] = pend != NULL ? pend->client_state : NULL;
	params[5] = pend != NULL ? pend->code_challenge : NULL;
	params[6] = pend != NULL ? pend->scope : NULL;
	params[7] = pend != NULL ? pend->resource : NULL;
	if ((c = db_acquire(cause)) == NULL)
		goto out;
	if (!db_run(c, "DELETE FROM login_states WHERE expires_at < now()", 0,
	    NULL, cause) ||
	    !db_run(c, "INSERT INTO login_states (state_hash, expires_at, "
	    "client_id, redirect_uri, client_state, code_challenge, scope, "
	    "resource) VALUES ($1, now() + $2::int * interval '1 second', "
	    "$3, $4, $5, $6, $7, $8)", 8, params, cause))
		goto out;
	*state = token;
	token = NULL;
	status = 0;
out:
	db_release(c);
	free(hash);
	crypto_free_secret(token);
	return (status);
}

/* Run one statement returning a login_states row into *p. */
static int
auth_login_row(const char *sql, const char *state, struct auth_pending *p,
    char **cause)
{
	struct db_conn	*c = NULL;
	PGresult	*res = NULL;
	const char	*params[1];
	char		*hash;
	int		 status = 503;

	memset(p, 0, sizeof *p);
	if ((hash = auth_hash_param(state)) == NULL) {
		*cause = xstrdup("accounts are not configured");
		return (503);
	}
	params[0] = hash;
	if ((c = db_acquire(cause)) == NULL)
		goto out;
	if ((res = db_exec(c, sql, 1, params, cause)) == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		*cause = xstrdup("unknown, expired or already used login "
		    "state");
		status = 400;
		goto out;
	}
	auth_pending_from(res, p);
	status = 0;
out:
	PQclear(res);
	db_release(c);
	free(hash);
	return (status);
}

int
auth_login_consent(const char *state, bool allow, struct auth_pending *p,
    char **cause)
{
	return (auth_login_row(allow ?
	    "UPDATE login_states SET consented = true WHERE state_hash = $1 "
	    "AND expires_at > now() AND client_id IS NOT NULL "
	    "AND NOT consented RETURNING " AUTH_PENDING_COLUMNS :
	    "DELETE FROM login_states WHERE state_hash = $1 "
	    "AND expires_at > now() AND client_id IS NOT NULL "
	    "AND NOT consented RETURNING " AUTH_PENDING_COLUMNS,
	    state, p, cause));
}

int
auth_login_consume(const char *state, struct auth_pending *p, char **cause)
{
	return (auth_login_row(
	    "DELETE FROM login_states WHERE state_hash = $1 "
	    "AND expires_at > now() RETURNING " AUTH_PENDING_COLUMNS,
	    state, p, cause));
}

/* The user's row, created or renamed at each login. */
static const char auth_user_sql[] =
    "INSERT INTO users (anilist_id, anilist_name) "
    "VALUES ($1, $2) ON CONFLICT (anilist_id) DO UPDATE SET "
    "anilist_name = EXCLUDED.anilist_name, last_login_at = now() "
    "RETURNING id";
enum auth_user_col {
	AUTH_USER_ID,
};

int
auth_user_store(long long anilist_id, const char *name, const char *token,
    long long expires, long long *user_id, char **cause)
{
	struct db_conn	*c = NULL;
	PGresult	*res = NULL;
	const char	*params[3];
	char		 id[24], exp[24], aad[48], *blob_param = NULL;
	unsigned char	*blob = NULL;
	size_t		 blen;
	int		 status = 503;

	snprintf(id, sizeof id, "%lld", anilist_id);
	params[0] = id;
	params[1] = name;
	if ((c = db_acquire(cause)) == NULL)
		goto out;
	if (!db_begin(c, cause))
		goto out;
	res = db_exec(c, auth_user_sql, 2, params, cause);
	if (res == NULL)
		goto out;
	if (!util_parse_ll(PQgetvalue(res, 0, AUTH_USER_ID), user_id)) {
		*cause = xstrdup("database: bad user id");
		goto out;
	}
	snprintf(aad, sizeof aad, "anilist-token:%lld", *user_id);
	if ((blob = crypto_seal(token, strlen(token), aad, &blen)) == NULL) {
		*cause = xstrdup("cannot seal the AniList token");
		goto out;
	}
	blob_param = db_bytea_param(blob, blen);
	snprintf(id, sizeof id, "%lld", *user_id);
	snprintf(exp, sizeof exp, "%lld", expires);
	params[0] = id;
	params[1] = blob_param;
	params[2] = expires > 0 ? exp : NULL;
	if (!db_run(c, "INSERT INTO anilist_tokens (user_id, token_sealed, "
	    "expires_at) VALUES ($1, $2, to_timestamp($3::double precision)) "
	    "ON CONFLICT (user_id) DO UPDATE SET "
	    "token_sealed = EXCLUDED.token_sealed, "
	    "expires_at = EXCLUDED.expires_at, updated_at = now()",
	    3, params, cause) || !db_commit(c, cause))
		goto out;
	status = 0;
out:
	PQclear(res);
	db_rollback(c);
	db_release(c);
	free(blob);
	free(blob_param);
	return (status);
}

int
auth_session_create(long long user_id, char **token, char **cause)
{
	struct db_conn	*c = NULL;
	const char	*params[3];
	char		 id[24], ttl[16], *hash = NULL;
	int		 status = 503;

	*token = NULL;
	if ((*token = crypto_random_token(CRYPTO_TOKEN_BYTES)) == NULL ||
	    (hash = auth_hash_param(*token)) == NULL) {
		*cause = xstrdup("cannot make a session token");
		goto out;
	}
	snprintf(id, sizeof id, "%lld", user_id);
	snprintf(ttl, sizeof ttl, "%d", cfg->session_ttl);
	params[0] = hash;
	params[1] = id;
	params[2] = ttl;
	if ((c = db_acquire(cause)) == NULL)
		goto out;
	/* Sweep a few long-dead tokens while we are here. */
	if (!db_run(c, "DELETE FROM tokens WHERE token_hash IN (SELECT "
	    "token_hash FROM tokens WHERE expires_at < now() - interval "
	    "'1 day' LIMIT 100)", 0, NULL, cause) ||
	    !db_run(c, "INSERT INTO tokens (token_hash, kind, user_id, "
	    "expires_at) VALUES ($1, 'session', $2, "
	    "now() + $3::int * interval '1 second')", 3, params, cause))
		goto out;
	status = 0;
out:
	if (status != 0) {
		crypto_free_secret(*token);
		*token = NULL;
	}
	db_release(c);
	free(hash);
	return (status);
}

int
auth_token_revoke(const unsigned char *hash, char **cause)
{
	struct db_conn	*c;
	const char	*params[1];
	char		*h;
	bool		 ok;

	if ((c = db_acquire(cause)) == NULL)
		return (503);
	h = db_bytea_param(hash, CRYPTO_HASH_LEN);
	params[0] = h;
	ok = db_run(c, "UPDATE tokens SET revoked_at = now() "
	    "WHERE token_hash = $1 AND revoked_at IS NULL", 1, params, cause);
	free(h);
	db_release(c);
	return (ok ? 0 : 503);
}

int
auth_user_delete(long long user_id, char **cause)
{
	struct db_conn	*c;
	const char	*params[1];
	char		 id[24];
	bool		 ok;

	if ((c = db_acquire(cause)) == NULL)
		return (503);
	snprintf(id, sizeof id, "%lld", user_id);
	params[0] = id;
	ok = db_run(c, "DELETE FROM users WHERE id = $1", 1, params, cause);
	db_release(c);
	return (ok ? 0 : 503);
}
