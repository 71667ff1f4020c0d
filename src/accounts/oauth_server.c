/* accounts/oauth_server.c: our OAuth 2.1 authorization server for MCP clients (clients, codes, tokens). */
#include "autoconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "jsonbody.h"
#include "log.h"
#include "oauth_server.h"
#include "util.h"

#define OAUTH_MAX_REDIRECTS	10
#define OAUTH_MAX_URI		2000
#define OAUTH_MAX_NAME		200

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

/*
 * The part of a loopback IP literal redirect URI after its port
 * ("http://127.0.0.1:8123/cb" -> "/cb"), or NULL when uri is not one.
 */
static const char *
oauth_loopback_rest(const char *uri)
{
	static const char *const hosts[] = { "http://127.0.0.1",
	    "http://[::1]" };
	const char	*p;
	size_t		 i, n;

	for (i = 0; i < nitems(hosts); i++) {
		n = strlen(hosts[i]);
		if (strncmp(uri, hosts[i], n) != 0)
			continue;
		p = uri + n;
		if (*p == ':') {
			p++;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p == '\0' || *p == '/' || *p == '?')
			return (p);
	}
	return (NULL);
}

bool
oauth_redirect_matches(const char *registered, const char *given)
{
	const char	*a, *b;

	if (strcmp(registered, given) == 0)
		return (true);
	/* RFC 8252 §7.3: native apps listen on any free loopback port. */
	if ((a = oauth_loopback_rest(registered)) == NULL ||
	    (b = oauth_loopback_rest(given)) == NULL)
		return (false);
	return (strncmp(registered, given, 12) == 0 && strcmp(a, b) == 0);
}

bool
oauth_client_has_redirect(const struct oauth_client *c, const char *uri)
{
	size_t	i;

	for (i = 0; i < c->nredirect; i++) {
		if (oauth_redirect_matches(c->redirect_uris[i], uri))
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
		if (end - host_end - 1 > 5 || atoi(host_end + 1) > 65535)
			return (oauth_fail(why, "redirect URI has a bad port "
			    "(1 to 65535)"));
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
oauth_resource_valid(const char *resource)
{
	char	*issuer = oauth_issuer();
	size_t	 n = strlen(issuer);
	bool	 ok;

	ok = strncmp(resource, issuer, n) == 0 &&
	    (strcmp(resource + n, "") == 0 || strcmp(resource + n, "/") == 0 ||
	    strcmp(resource + n, "/mcp") == 0);
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

/* A registered client, by client_id. */
static const char oauth_client_sql[] = "SELECT client_id, client_name, "
    "array_to_json(redirect_uris)::text, token_endpoint_auth_method, "
    "secret_hash FROM oauth_clients WHERE client_id = $1";
enum {
	CLIENT_COL_ID,
	CLIENT_COL_NAME,
	CLIENT_COL_REDIRECT_URIS,	/* a JSON array */
	CLIENT_COL_AUTH_METHOD,
	CLIENT_COL_SECRET_HASH		/* bytea, NULL for public clients */
};

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
	res = db_exec(conn, oauth_client_sql, 1, params, cause);
	if (res == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		*cause = xstrdup("unknown client_id");
		status = 404;
		goto out;
	}
	c->client_id = xstrdup(PQgetvalue(res, 0, CLIENT_COL_ID));
	c->name = PQgetisnull(res, 0, CLIENT_COL_NAME) ? NULL :
	    xstrdup(PQgetvalue(res, 0, CLIENT_COL_NAME));
	uris = json_tokener_parse(PQgetvalue(res, 0, CLIENT_COL_REDIRECT_URIS));
	n = uris != NULL && json_object_is_type(uris, json_type_array) ?
	    json_object_array_length(uris) : 0;
	c->redirect_uris = xcalloc(n + 1, sizeof *c->redirect_uris);
	for (i = 0; i < n; i++) {
		u = json_object_array_get_idx(uris, i);
		if (json_object_is_type(u, json_type_string))
			c->redirect_uris[c->nredirect++] =
			    xstrdup(json_object_get_string(u));
	}
	c->auth_method = xstrdup(PQgetvalue(res, 0, CLIENT_COL_AUTH_METHOD));
	if ((hash = db_bytea_value(res, 0, CLIENT_COL_SECRET_HASH, &len)) !=
	    NULL) {
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

/* The code point of the valid UTF-8 character of len bytes at p. */
static unsigned long
oauth_code_point(const unsigned char *p, size_t len)
{
	unsigned long	cp;
	size_t		i;

	if (len == 1)
		return (p[0]);
	cp = p[0] & (0xff >> (len + 1));
	for (i = 1; i < len; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return (cp);
}

/*
 * Unicode format characters (general category Cf) and the other
 * invisible or reordering ones: bidirectional overrides and isolates
 * (U+202E turns "moc.evil" into "live.com"), zero-width characters,
 * soft hyphens, tags.
 */
static bool
oauth_invisible(unsigned long cp)
{
	static const struct { unsigned long lo, hi; } ranges[] = {
		{ 0x00ad, 0x00ad }, { 0x034f, 0x034f }, { 0x0600, 0x0605 },
		{ 0x061c, 0x061c }, { 0x06dd, 0x06dd }, { 0x070f, 0x070f },
		{ 0x115f, 0x1160 }, { 0x17b4, 0x17b5 }, { 0x180b, 0x180f },
		{ 0x200b, 0x200f }, { 0x202a, 0x202e }, { 0x2060, 0x206f },
		{ 0x3164, 0x3164 }, { 0xfe00, 0xfe0f }, { 0xfeff, 0xfeff },
		{ 0xffa0, 0xffa0 }, { 0xfff9, 0xfffb }, { 0x110bd, 0x110bd },
		{ 0x110cd, 0x110cd }, { 0x1bca0, 0x1bca3 },
		{ 0x1d173, 0x1d17a }, { 0xe0000, 0xe0fff },
	};
	size_t	i;

	for (i = 0; i < nitems(ranges); i++) {
		if (cp >= ranges[i].lo && cp <= ranges[i].hi)
			return (true);
	}
	return (false);
}

bool
oauth_client_name_valid(const char *name)
{
	const unsigned char	*p = (const unsigned char *)name;
	size_t			 n = strlen(name), i, len;

	if (n == 0 || n > OAUTH_MAX_NAME || !util_utf8_valid(name, n))
		return (false);
	for (i = 0; i < n; i += len) {
		len = util_utf8_char(name + i, n - i);
		if (len == 0 || p[i] < 0x20 || p[i] == 0x7f ||
		    (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) ||
		    oauth_invisible(oauth_code_point(p + i, len)))
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

/*
 * Insert a client unless its registrant reached OAUTH_REGISTER_LIMIT
 * registrations in the last hour (one statement, so concurrent
 * registrations cannot all pass). 201, 429 over the quota, or 503.
 */
static int
oauth_register_insert(struct db_conn *c, const char *const params[6],
    char **cause)
{
	const char	*p[7];
	char		 limit[16];
	PGresult	*res;
	int		 status;

	memcpy(p, params, 6 * sizeof *p);
	snprintf(limit, sizeof limit, "%d", cfg->oauth_register_limit);
	p[6] = limit;
	res = db_exec(c, "INSERT INTO oauth_clients (client_id, secret_hash, "
	    "client_name, redirect_uris, token_endpoint_auth_method, "
	    "registered_by) SELECT $1, $2, $3, "
	    "ARRAY(SELECT json_array_elements_text($4::json)), $5, $6 "
	    "WHERE $7::int = 0 OR $6::bytea IS NULL OR (SELECT count(*) "
	    "FROM oauth_clients WHERE registered_by = $6::bytea AND "
	    "created_at > now() - interval '1 hour') < $7::int "
	    "RETURNING client_id", 7, p, cause);
	if (res == NULL)
		return (503);
	status = PQntuples(res) == 1 ? 201 : 429;
	PQclear(res);
	return (status);
}

int
oauth_register(struct json_object *meta, const char *registrant,
    struct json_object **out, char **error, char **desc)
{
	static const char *const grants[] = { "authorization_code",
	    "refresh_token" };
	static const char *const responses[] = { "code" };
	static const char *const methods[] = { "none", "client_secret_post",
	    "client_secret_basic" };
	struct json_object	*uris, *v, *o, *arr;
	struct db_conn		*c = NULL;
	const char		*method = "client_secret_basic", *name = NULL;
	const char		*params[6];
	char			*why = NULL, *id = NULL, *secret = NULL;
	char			*hash = NULL, *uris_json = NULL, *by = NULL;
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
		if (jsonbody_string(v) == NULL ||
		    !oauth_redirect_uri_valid(jsonbody_string(v), &why)) {
			*error = xstrdup("invalid_redirect_uri");
			*desc = why != NULL ? why :
			    xstrdup("redirect_uris must hold strings");
			return (400);
		}
	}
	if (json_object_object_get_ex(meta, "token_endpoint_auth_method",
	    &v)) {
		if ((method = jsonbody_string(v)) == NULL) {
			*error = xstrdup("invalid_client_metadata");
			*desc = xstrdup("token_endpoint_auth_method must be a "
			    "string");
			return (400);
		}
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
		if ((name = jsonbody_string(v)) == NULL ||
		    !oauth_client_name_valid(name)) {
			*error = xstrdup("invalid_client_metadata");
			xasprintf(desc, "client_name must be visible text of 1 "
			    "to %d bytes: no control, format or bidirectional "
			    "characters", OAUTH_MAX_NAME);
			return (400);
		}
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
	if (registrant != NULL)
		by = db_bytea_param((const unsigned char *)registrant,
		    strlen(registrant));
	params[5] = by;
	if ((c = db_acquire(error)) == NULL)
		goto out;
	if ((status = oauth_register_insert(c, params, error)) != 201) {
		if (status == 429) {
			*error = xstrdup("too_many_registrations");
			xasprintf(desc, "this address registered %d clients in "
			    "the last hour; try again later",
			    cfg->oauth_register_limit);
		}
		goto out;
	}
	status = 503;

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
	free(by);
	free(id);
	crypto_free_secret(secret);
	free(hash);
	free(uris_json);
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

/* Whom a pair of tokens is for (strings borrowed; scope may be NULL). */
struct oauth_issue_for {
	const char	*user;
	const char	*client;
	const char	*family;
	const char	*scope;
};

/*
 * Issue an access and a refresh token in the family of f, and the token
 * response in *out (caller puts). Inside the caller's transaction.
 */
static bool
oauth_issue(struct db_conn *c, const struct oauth_issue_for *f,
    struct json_object **out, char **cause)
{
	const char	*scope = f->scope;
	const char	*params[9];
	char		*access = NULL, *refresh = NULL, *ah = NULL, *rh = NULL;
	char		 attl[16], rttl[16], rmax[16];
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
	params[1] = f->user;
	params[2] = f->client;
	params[3] = f->family;
	params[4] = scope;
	params[5] = attl;
	params[6] = rh;
	params[7] = rttl;
	snprintf(rmax, sizeof rmax, "%d", cfg->oauth_refresh_max_days);
	params[8] = rmax;
	/*
	 * A refresh token lives REFRESH_TOKEN_TTL, but never past
	 * OAUTH_REFRESH_MAX_DAYS after its grant began: rotation does not
	 * make a grant immortal.
	 */
	if (!db_run(c, "INSERT INTO tokens (token_hash, kind, user_id, "
	    "client_id, family_id, scope, expires_at) VALUES "
	    "($1, 'access', $2, $3, $4, $5, now() + $6::int * interval "
	    "'1 second'), "
	    "($7, 'refresh', $2, $3, $4, $5, least(now() + $8::int * "
	    "interval '1 second', (SELECT created_at FROM token_families "
	    "WHERE id = $4::bigint) + $9::int * interval '1 day'))", 9,
	    params, cause))
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

/* The authorization code a grant presents, locked for the grant. */
static const char oauth_code_sql[] = "SELECT client_id, user_id, "
    "redirect_uri, code_challenge, scope, resource, expires_at > now(), "
    "used_at IS NOT NULL, family_id FROM authorization_codes "
    "WHERE code_hash = $1 FOR UPDATE";
enum {
	CODE_COL_CLIENT,
	CODE_COL_USER,
	CODE_COL_REDIRECT_URI,
	CODE_COL_CHALLENGE,
	CODE_COL_SCOPE,		/* may be NULL */
	CODE_COL_RESOURCE,	/* may be NULL */
	CODE_COL_LIVE,		/* "t" before it expires */
	CODE_COL_USED,		/* "t" once spent */
	CODE_COL_FAMILY		/* the tokens issued for it; may be NULL */
};

/* A new token family (one grant's tokens) for a user and a client. */
static const char oauth_family_sql[] = "INSERT INTO token_families "
    "(user_id, client_id) VALUES ($1, $2) RETURNING id";
enum {
	FAMILY_COL_ID
};

const char *
oauth_code_refusal(const struct oauth_code_facts *f, const char **error)
{
	*error = "invalid_grant";
	if (!f->live)
		return ("the authorization code has expired");
	if (strcmp(f->code_client, f->client) != 0)
		return ("the authorization code was issued to another client");
	if (strcmp(f->code_redirect, f->redirect) != 0)
		return ("redirect_uri does not match the authorization "
		    "request");
	if (!crypto_pkce_s256_matches(f->verifier, f->challenge))
		return ("code_verifier does not match the code_challenge");
	if (f->resource != NULL && (!oauth_resource_valid(f->resource) ||
	    (f->code_resource != NULL && strcmp(f->resource,
	    f->code_resource) != 0))) {
		*error = "invalid_target";
		return ("resource does not match the authorization request");
	}
	*error = NULL;
	return (NULL);
}

static void
oauth_grant_code(struct db_conn *c, const struct oauth_client *client,
    const struct oauth_token_request *tr, struct oauth_grant *g,
    char **cause)
{
	const char	*code = tr->code;
	const char	*redirect = tr->redirect_uri;
	const char	*verifier = tr->code_verifier;
	const char	*resource = tr->resource;
	const char	*params[3], *refusal, *error;
	struct oauth_code_facts facts;
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
	res = db_exec(c, oauth_code_sql, 1, params, cause);
	if (res == NULL)
		goto db;
	if (PQntuples(res) != 1) {
		oauth_grant_fail(g, "invalid_grant", "unknown authorization "
		    "code");
		goto out;
	}
	live = strcmp(PQgetvalue(res, 0, CODE_COL_LIVE), "t") == 0;
	used = strcmp(PQgetvalue(res, 0, CODE_COL_USED), "t") == 0;
	if (used) {
		/* A replayed code: revoke what it was exchanged for. */
		if (!PQgetisnull(res, 0, CODE_COL_FAMILY) &&
		    (!oauth_revoke_family(c, PQgetvalue(res, 0,
		    CODE_COL_FAMILY), cause) || !db_commit(c, cause)))
			goto db;
		oauth_grant_fail(g, "invalid_grant", "the authorization code "
		    "was already used; the tokens issued for it are revoked");
		goto out;
	}
	/* Any attempt spends the code, so a guessed verifier gets one try. */
	if (!db_run(c, "UPDATE authorization_codes SET used_at = now() "
	    "WHERE code_hash = $1", 1, params, cause))
		goto db;
	facts.live = live;
	facts.code_client = PQgetvalue(res, 0, CODE_COL_CLIENT);
	facts.client = client->client_id;
	facts.code_redirect = PQgetvalue(res, 0, CODE_COL_REDIRECT_URI);
	facts.redirect = redirect;
	facts.challenge = PQgetvalue(res, 0, CODE_COL_CHALLENGE);
	facts.verifier = verifier;
	facts.code_resource = PQgetisnull(res, 0, CODE_COL_RESOURCE) ? NULL :
	    PQgetvalue(res, 0, CODE_COL_RESOURCE);
	facts.resource = resource;
	if ((refusal = oauth_code_refusal(&facts, &error)) != NULL)
		oauth_grant_fail(g, error, refusal);
	if (g->status == 400) {
		if (!db_commit(c, cause))
			goto db;
		goto out;
	}
	params[0] = PQgetvalue(res, 0, CODE_COL_USER);
	params[1] = client->client_id;
	if ((fam = db_exec(c, oauth_family_sql, 2, params, cause)) == NULL)
		goto db;
	family = xstrdup(PQgetvalue(fam, 0, FAMILY_COL_ID));
	params[0] = family;
	params[1] = hash;
	if (!db_run(c, "UPDATE authorization_codes SET family_id = $1 "
	    "WHERE code_hash = $2", 2, params, cause) ||
	    !oauth_issue(c, &(struct oauth_issue_for){
		.user = PQgetvalue(res, 0, CODE_COL_USER),
		.client = client->client_id,
		.family = family,
		.scope = PQgetisnull(res, 0, CODE_COL_SCOPE) ? NULL :
		    PQgetvalue(res, 0, CODE_COL_SCOPE) }, &g->tokens, cause) ||
	    !db_commit(c, cause))
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

/* The refresh token a grant presents, with its family, locked. */
static const char oauth_refresh_sql[] = "SELECT t.user_id, t.client_id, "
    "t.family_id, t.scope, t.used_at IS NOT NULL, "
    "t.revoked_at IS NOT NULL OR f.revoked_at IS NOT NULL, "
    "t.expires_at > now() AND f.created_at > now() - $2::int * "
    "interval '1 day' FROM tokens t "
    "LEFT JOIN token_families f ON f.id = t.family_id "
    "WHERE t.token_hash = $1 AND t.kind = 'refresh' FOR UPDATE OF t";
enum {
	REFRESH_COL_USER,
	REFRESH_COL_CLIENT,	/* may be NULL */
	REFRESH_COL_FAMILY,
	REFRESH_COL_SCOPE,	/* may be NULL */
	REFRESH_COL_USED,	/* "t" once rotated */
	REFRESH_COL_REVOKED,	/* "t" when it or its family is revoked */
	REFRESH_COL_LIVE	/* "t" before it or its grant expires */
};

enum oauth_refresh_verdict
oauth_refresh_verdict(const struct oauth_refresh_facts *f)
{
	if (!f->found || f->token_client == NULL ||
	    strcmp(f->token_client, f->client) != 0)
		return (OAUTH_REFRESH_UNKNOWN);
	if (f->revoked)
		return (OAUTH_REFRESH_REVOKED);
	/* A replay is answered even when expired: it still revokes. */
	if (f->used)
		return (OAUTH_REFRESH_REPLAYED);
	if (!f->live)
		return (OAUTH_REFRESH_EXPIRED);
	return (OAUTH_REFRESH_OK);
}

bool
oauth_auth_method_allowed(const char *registered, const char *used)
{
	return (strcmp(registered, used) == 0);
}

static void
oauth_grant_refresh(struct db_conn *c, const struct oauth_client *client,
    const struct oauth_token_request *tr, struct oauth_grant *g,
    char **cause)
{
	const char	*token = tr->refresh_token;
	const char	*scope = tr->scope;
	const char	*params[2];
	struct oauth_refresh_facts facts;
	PGresult	*res = NULL;
	char		*hash = NULL, days[16];

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
	snprintf(days, sizeof days, "%d", cfg->oauth_refresh_max_days);
	params[1] = days;
	res = db_exec(c, oauth_refresh_sql, 2, params, cause);
	if (res == NULL)
		goto db;
	memset(&facts, 0, sizeof facts);
	facts.found = PQntuples(res) == 1;
	facts.client = client->client_id;
	if (facts.found) {
		facts.token_client = PQgetisnull(res, 0, REFRESH_COL_CLIENT) ?
		    NULL : PQgetvalue(res, 0, REFRESH_COL_CLIENT);
		facts.revoked = strcmp(PQgetvalue(res, 0,
		    REFRESH_COL_REVOKED), "t") == 0;
		facts.used = strcmp(PQgetvalue(res, 0, REFRESH_COL_USED),
		    "t") == 0;
		facts.live = strcmp(PQgetvalue(res, 0, REFRESH_COL_LIVE),
		    "t") == 0;
	}
	switch (oauth_refresh_verdict(&facts)) {
	case OAUTH_REFRESH_UNKNOWN:
		oauth_grant_fail(g, "invalid_grant", "unknown refresh token");
		goto out;
	case OAUTH_REFRESH_REVOKED:
		oauth_grant_fail(g, "invalid_grant", "the refresh token was "
		    "revoked");
		goto out;
	case OAUTH_REFRESH_EXPIRED:
		oauth_grant_fail(g, "invalid_grant", "the refresh token has "
		    "expired");
		goto out;
	case OAUTH_REFRESH_REPLAYED:
	case OAUTH_REFRESH_OK:
		break;
	}
	if (facts.used) {
		/* Replay of a rotated token: one of the two copies is stolen. */
		if (!oauth_revoke_family(c, PQgetvalue(res, 0,
		    REFRESH_COL_FAMILY), cause) ||
		    !db_commit(c, cause))
			goto db;
		log_warn("refresh token reused; grant revoked",
		    LF_STR("client_id", client->client_id), LF_END);
		oauth_grant_fail(g, "invalid_grant", "the refresh token was "
		    "already used; every token of this grant is revoked");
		goto out;
	}
	if (!db_run(c, "UPDATE tokens SET used_at = now() "
	    "WHERE token_hash = $1", 1, params, cause) ||
	    !oauth_issue(c, &(struct oauth_issue_for){
		.user = PQgetvalue(res, 0, REFRESH_COL_USER),
		.client = client->client_id,
		.family = PQgetvalue(res, 0, REFRESH_COL_FAMILY),
		.scope = PQgetisnull(res, 0, REFRESH_COL_SCOPE) ? NULL :
		    PQgetvalue(res, 0, REFRESH_COL_SCOPE) }, &g->tokens,
	    cause) ||
	    !db_commit(c, cause))
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
oauth_grant(const struct oauth_client *client,
    const struct oauth_token_request *tr, struct oauth_grant *g,
    char **cause)
{
	struct db_conn	*c;

	memset(g, 0, sizeof *g);
	if ((c = db_acquire(cause)) == NULL) {
		g->status = 503;
		return;
	}
	if (strcmp(tr->grant_type, "authorization_code") == 0)
		oauth_grant_code(c, client, tr, g, cause);
	else
		oauth_grant_refresh(c, client, tr, g, cause);
	db_release(c);
}

/* A client's token, by hash: what revoking it takes with it. */
static const char oauth_revoke_sql[] = "SELECT kind, family_id FROM tokens "
    "WHERE token_hash = $1 AND client_id = $2";
enum {
	REVOKE_COL_KIND,	/* access or refresh */
	REVOKE_COL_FAMILY	/* may be NULL */
};

int
oauth_token_revoke(const char *client_id, const char *token, char **cause)
{
	struct db_conn		*c = NULL;
	PGresult		*res = NULL;
	const char		*params[2];
	char			*hash = NULL;
	int			 status = 503;
	bool			 ok;

	if ((hash = auth_hash_param(token)) == NULL ||
	    (c = db_acquire(cause)) == NULL)
		goto out;
	params[0] = hash;
	params[1] = client_id;
	/* A refresh token takes its whole grant with it (RFC 7009 §2.1). */
	res = db_exec(c, oauth_revoke_sql, 2, params, cause);
	if (res == NULL)
		goto out;
	if (PQntuples(res) == 1) {
		if (strcmp(PQgetvalue(res, 0, REVOKE_COL_KIND), "refresh") ==
		    0 && !PQgetisnull(res, 0, REVOKE_COL_FAMILY))
			ok = oauth_revoke_family(c, PQgetvalue(res, 0,
			    REVOKE_COL_FAMILY), cause);
		else
			ok = db_run(c, "UPDATE tokens SET revoked_at = now() "
			    "WHERE token_hash = $1 AND revoked_at IS NULL", 1,
			    params, cause);
		if (!ok)
			goto out;
	}
	status = 0;
out:
	PQclear(res);
	db_release(c);
	free(hash);
	return (status);
}

int
oauth_code_create(const struct oauth_code_request *cr, char **code,
    char **cause)
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
	snprintf(id, sizeof id, "%lld", cr->user_id);
	snprintf(ttl, sizeof ttl, "%d", OAUTH_CODE_TTL);
	params[0] = hash;
	params[1] = cr->client_id;
	params[2] = id;
	params[3] = cr->redirect_uri;
	params[4] = cr->code_challenge;
	params[5] = cr->scope;
	params[6] = cr->resource;
	params[7] = ttl;
	if ((c = db_acquire(cause)) == NULL)
		goto out;
	if (!db_run(c, "DELETE FROM authorization_codes WHERE code_hash IN "
	    "(SELECT code_hash FROM authorization_codes WHERE expires_at < "
	    "now() - interval '1 day' LIMIT 100)", 0, NULL, cause) ||
	    !db_run(c, "INSERT INTO authorization_codes (code_hash, client_id, "
	    "user_id, redirect_uri, code_challenge, scope, resource, "
	    "expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
	    "now() + $8::int * interval '1 second')", 8, params, cause) ||
	    !db_run(c, "UPDATE oauth_clients SET last_code_at = now() "
	    "WHERE client_id = $1", 1, params + 1, cause))
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
