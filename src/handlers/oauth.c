/* handlers/oauth.c: the OAuth 2.1 endpoints for ChatGPT and MCP clients: metadata, register, authorize, token, revoke (oauth_server.c does the work). */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "handlers.h"
#include "http.h"
#include "jsonbody.h"
#include "log.h"
#include "metrics.h"
#include "oauth_anilist.h"
#include "oauth_server.h"
#include "ratelimit.h"
#include "util.h"

/* Client metadata is flat: an object of strings and arrays of strings. */
#define OAUTH_META_DEPTH	8

static struct json_object *
oauthep_strings(const char *const *v, size_t n)
{
	struct json_object	*a = json_object_new_array();
	size_t			 i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return (a);
}

static void
oauthep_add_url(struct json_object *o, const char *key, const char *issuer,
    const char *path)
{
	char	*url;

	xasprintf(&url, "%s%s", issuer, path);
	json_object_object_add(o, key, json_object_new_string(url));
	free(url);
}

/*
 * The OAuth error body {"error","error_description"} with no-store caching;
 * invalid_client at 401 also gets WWW-Authenticate: Basic.
 */
static void
oauthep_error(struct http_resp *resp, int status, const char *error,
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

/* 503 temporarily_unavailable; the cause (may be NULL) is only logged. */
static void
oauthep_unavailable(struct http_resp *resp, const char *cause)
{
	if (!auth_enabled()) {
		oauthep_error(resp, 503, "temporarily_unavailable",
		    "accounts are not configured on this server");
		return;
	}
	if (cause != NULL)
		log_warn("account database unavailable", LF_STR("error", cause),
		    LF_END);
	oauthep_error(resp, 503, "temporarily_unavailable",
	    "the account database is unavailable; try again shortly");
}

/*
 * Parse an application/x-www-form-urlencoded body. Returns 0, or 400/415
 * with *cause; a repeated parameter is an error (RFC 6749 §3.1).
 */
static int
oauthep_form_parse(const struct http_req *req, struct http_param **params,
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

static const char *
oauthep_form_get(const struct http_param *p, size_t n, const char *key)
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
oauthep_client_authenticate(struct http_req *req, struct http_resp *resp,
    const struct http_param *form, size_t n, struct oauth_client *c)
{
	const char	*authz = http_req_header(req, "Authorization");
	const char	*fid = oauthep_form_get(form, n, "client_id");
	const char	*fsecret = oauthep_form_get(form, n, "client_secret");
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
			oauthep_error(resp, 400, "invalid_request", "use one "
			    "client authentication method, not two");
			return (400);
		}
		raw = crypto_b64_decode(authz + 6, strlen(authz + 6), &len);
		if (raw == NULL || memchr(raw, '\0', len) != NULL ||
		    (colon = strchr((char *)raw, ':')) == NULL) {
			crypto_free_secret((char *)raw);
			oauthep_error(resp, 401, "invalid_client", "malformed "
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
			oauthep_error(resp, 401, "invalid_client", "malformed "
			    "Basic credentials");
			return (401);
		}
		method = "client_secret_basic";
	} else {
		if (fid == NULL || *fid == '\0') {
			oauthep_error(resp, 401, "invalid_client",
			    "client_id is required");
			return (401);
		}
		id = xstrdup(fid);
		secret = fsecret != NULL ? xstrdup(fsecret) : NULL;
		method = secret != NULL ? "client_secret_post" : "none";
	}

	status = oauth_client_load(id, c, &cause);
	if (status == 404) {
		oauthep_error(resp, 401, "invalid_client", "unknown client");
		status = 401;
		goto out;
	}
	if (status != 0) {
		oauthep_unavailable(resp, cause);
		goto out;
	}
	status = 401;
	if (!c->has_secret) {
		if (secret != NULL) {
			oauthep_error(resp, 401, "invalid_client", "this client "
			    "is public: it authenticates with PKCE, not a "
			    "secret");
			goto out;
		}
	} else {
		if (secret == NULL || !crypto_token_hash(secret, h) ||
		    !util_ct_equal(h, sizeof h, c->secret_hash,
		    sizeof c->secret_hash)) {
			oauthep_error(resp, 401, "invalid_client",
			    "client authentication failed");
			goto out;
		}
		if (!oauth_auth_method_allowed(c->auth_method, method)) {
			oauthep_error(resp, 401, "invalid_client", strcmp(
			    c->auth_method, "client_secret_basic") == 0 ?
			    "this client authenticates with HTTP Basic "
			    "(client_secret_basic), as registered" :
			    "this client authenticates with client_secret in "
			    "the body (client_secret_post), as registered");
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

/* GET /.well-known/oauth-authorization-server (RFC 8414). */
void
handle_oauth_server_metadata(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	static const char *const responses[] = { "code" };
	static const char *const modes[] = { "query" };
	static const char *const grants[] = { "authorization_code",
	    "refresh_token" };
	static const char *const pkce[] = { "S256" };
	static const char *const methods[] = { "none", "client_secret_post",
	    "client_secret_basic" };
	static const char *const scopes[] = { OAUTH_SCOPE };
	struct json_object	*o = json_object_new_object();
	char			*issuer = oauth_issuer();

	json_object_object_add(o, "issuer", json_object_new_string(issuer));
	oauthep_add_url(o, "authorization_endpoint", issuer, "/oauth/authorize");
	oauthep_add_url(o, "token_endpoint", issuer, "/oauth/token");
	oauthep_add_url(o, "registration_endpoint", issuer, "/oauth/register");
	oauthep_add_url(o, "revocation_endpoint", issuer, "/oauth/revoke");
	json_object_object_add(o, "response_types_supported",
	    oauthep_strings(responses, nitems(responses)));
	json_object_object_add(o, "response_modes_supported",
	    oauthep_strings(modes, nitems(modes)));
	json_object_object_add(o, "grant_types_supported",
	    oauthep_strings(grants, nitems(grants)));
	json_object_object_add(o, "code_challenge_methods_supported",
	    oauthep_strings(pkce, nitems(pkce)));
	json_object_object_add(o, "token_endpoint_auth_methods_supported",
	    oauthep_strings(methods, nitems(methods)));
	json_object_object_add(o, "revocation_endpoint_auth_methods_supported",
	    oauthep_strings(methods, nitems(methods)));
	json_object_object_add(o, "scopes_supported",
	    oauthep_strings(scopes, nitems(scopes)));
	json_object_object_add(o,
	    "authorization_response_iss_parameter_supported",
	    json_object_new_boolean(1));
	http_resp_header(resp, "Cache-Control", "public, max-age=300");
	http_resp_json(resp, 200, o);
	free(issuer);
}

/*
 * GET /.well-known/oauth-protected-resource[/mcp] (RFC 9728): the MCP
 * endpoint is the resource; the same tokens serve the REST API.
 */
void
handle_oauth_resource_metadata(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	static const char *const bearer[] = { "header" };
	static const char *const scopes[] = { OAUTH_SCOPE };
	struct json_object	*o = json_object_new_object(), *as;
	char			*issuer = oauth_issuer();

	oauthep_add_url(o, "resource", issuer, "/mcp");
	as = json_object_new_array();
	json_object_array_add(as, json_object_new_string(issuer));
	json_object_object_add(o, "authorization_servers", as);
	json_object_object_add(o, "bearer_methods_supported",
	    oauthep_strings(bearer, nitems(bearer)));
	json_object_object_add(o, "scopes_supported",
	    oauthep_strings(scopes, nitems(scopes)));
	json_object_object_add(o, "resource_name",
	    json_object_new_string(PACKAGE));
	http_resp_header(resp, "Cache-Control", "public, max-age=300");
	http_resp_json(resp, 200, o);
	free(issuer);
}

/*
 * Who registers: the keyed identity of the client address (as the rate
 * limit names clients), for the registration quota. False without one.
 */
static bool
oauthep_registrant(const struct http_req *req,
    char registrant[RATELIMIT_CLIENT_LEN])
{
	unsigned char	key[CRYPTO_KEY_LEN];

	return (ratelimit_derive_key(cfg->secret_key, key) &&
	    ratelimit_client(http_req_env(req, "REMOTE_ADDR"), key,
	    registrant));
}

/* POST /oauth/register (RFC 7591). */
void
handle_oauth_register(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct json_object	*meta = NULL, *out = NULL;
	const char		*why;
	char			*error = NULL, *desc = NULL;
	char			 registrant[RATELIMIT_CLIENT_LEN];
	int			 status;

	if (!auth_enabled()) {
		oauthep_unavailable(resp, NULL);
		return;
	}
	if ((meta = jsonbody_parse(req->body, req->body_len,
	    OAUTH_META_DEPTH, &why)) == NULL) {
		req->log_error = "invalid client metadata";
		oauthep_error(resp, 400, "invalid_client_metadata", why);
		return;
	}
	status = oauth_register(meta, oauthep_registrant(req, registrant) ?
	    registrant : NULL, &out, &error, &desc);
	if (status == 201) {
		http_resp_header(resp, "Cache-Control", "no-store");
		http_resp_json(resp, 201, out);
		log_info("oauth client registered", LF_END);
	} else if (status == 400) {
		req->log_error = "invalid client metadata";
		oauthep_error(resp, 400, error, desc);
	} else if (status == 429) {
		req->log_error = "registration quota";
		http_resp_header(resp, "Retry-After", "3600");
		oauthep_error(resp, 429, error, desc);
	} else
		oauthep_unavailable(resp, error);
	json_object_put(meta);
	free(error);
	free(desc);
}

/* Is any query parameter given twice? (RFC 6749 §3.1) */
static const char *
oauthep_repeated_param(const struct http_req *req)
{
	size_t	i, j;

	for (i = 0; i < req->nquery; i++) {
		for (j = i + 1; j < req->nquery; j++) {
			if (strcmp(req->query[i].key, req->query[j].key) == 0)
				return (req->query[i].key);
		}
	}
	return (NULL);
}

/* HTML-escape s onto b. */
static void
oauthep_html(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\'':
			buf_puts(b, "&#39;");
			break;
		default:
			buf_putc(b, *s);
		}
	}
}

/* The consent page: which client, where it sends you, allow or cancel. */
static void
oauthep_consent_page(struct http_resp *resp, const struct oauth_client *c,
    const char *redirect_uri, const char *login)
{
	struct buf	 b;
	const char	*host = strstr(redirect_uri, "://");
	char		*h;

	host = host != NULL ? host + 3 : redirect_uri;
	h = xstrndup(host, strcspn(host, "/?"));
	buf_init(&b);
	buf_puts(&b, "<!doctype html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width,initial-scale=1\">"
	    "<title>Connect your AniList account</title><style>"
	    "body{font-family:system-ui,sans-serif;max-width:34rem;"
	    "margin:3rem auto;padding:0 1rem;line-height:1.5}"
	    "button{font-size:1rem;padding:.5rem 1rem;margin:.5rem .5rem 0 0}"
	    ".host{font-size:1.3rem}"
	    "</style></head><body><h1>Connect your AniList account</h1>"
	    "<p>An application at <b class=\"host\">");
	oauthep_html(&b, h);
	buf_puts(&b, "</b> wants to use your AniList account through "
	    PACKAGE ": read your anime list and change it when you ask.</p>");
	if (c->name != NULL && *c->name != '\0') {
		buf_puts(&b, "<p>It calls itself &ldquo;");
		oauthep_html(&b, c->name);
		buf_puts(&b, "&rdquo; (unverified: any application can choose "
		    "this name; trust the address above).</p>");
	}
	buf_puts(&b, "<p>If you continue, you sign in at AniList and are then "
	    "sent back to <b>");
	oauthep_html(&b, h);
	buf_puts(&b, "</b>. It cannot delete your account. Only continue if "
	    "you started this.</p>"
	    "<form method=\"post\" action=\"/oauth/authorize\">"
	    "<input type=\"hidden\" name=\"login\" value=\"");
	oauthep_html(&b, login);
	buf_puts(&b, "\"><button name=\"decision\" value=\"allow\">Continue "
	    "with AniList</button><button name=\"decision\" value=\"deny\">"
	    "Cancel</button></form></body></html>\n");
	http_resp_header(resp, "Content-Security-Policy", "default-src 'none'; "
	    "style-src 'unsafe-inline'; frame-ancestors 'none'; "
	    "base-uri 'none'");
	http_resp_header(resp, "Cache-Control", "no-store");
	http_resp_text(resp, 200, "text/html", b.data);
	buf_free(&b);
	free(h);
}

/*
 * GET /oauth/authorize: check the request. Every error is shown here and
 * never redirected: anyone can register a client with any redirect URI, so
 * a redirect before the user has seen the consent page would make this
 * server an open redirector (RFC 9700 §4.11.2). A good request gets a
 * login state holding the pending authorization and the consent page.
 */
void
handle_oauth_authorize(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct oauth_client	 client;
	struct auth_pending	 pend;
	const char		*client_id, *redirect, *state, *method;
	const char		*challenge, *scope, *resource, *rep;
	char			*cause = NULL, *login = NULL, *msg = NULL;
	int			 rc;

	memset(&client, 0, sizeof client);
	if (!auth_enabled()) {
		oauthep_unavailable(resp, NULL);
		return;
	}
	if (!oauth_anilist_configured()) {
		oauthep_error(resp, 503, "temporarily_unavailable",
		    "AniList login is not configured on this server");
		return;
	}
	if ((rep = oauthep_repeated_param(req)) != NULL) {
		xasprintf(&msg, "parameter %.40s is repeated", rep);
		oauthep_error(resp, 400, "invalid_request", msg);
		goto out;
	}
	client_id = http_req_query(req, "client_id");
	redirect = http_req_query(req, "redirect_uri");
	if (client_id == NULL || redirect == NULL) {
		oauthep_error(resp, 400, "invalid_request",
		    "client_id and redirect_uri are required");
		goto out;
	}
	rc = oauth_client_load(client_id, &client, &cause);
	if (rc == 404) {
		oauthep_error(resp, 400, "invalid_request", "unknown client_id");
		goto out;
	}
	if (rc != 0) {
		oauthep_unavailable(resp, cause);
		goto out;
	}
	if (!oauth_client_has_redirect(&client, redirect)) {
		req->log_error = "redirect_uri mismatch";
		oauthep_error(resp, 400, "invalid_request", "redirect_uri does "
		    "not exactly match a registered redirect URI");
		goto out;
	}

	state = http_req_query(req, "state");
	if (state != NULL && strlen(state) > OAUTH_STATE_MAX) {
		oauthep_error(resp, 400, "invalid_request",
		    "state is too long");
		goto out;
	}
	method = http_req_query(req, "code_challenge_method");
	challenge = http_req_query(req, "code_challenge");
	scope = http_req_query(req, "scope");
	resource = http_req_query(req, "resource");
	if (http_req_query(req, "response_type") == NULL ||
	    strcmp(http_req_query(req, "response_type"), "code") != 0) {
		oauthep_error(resp, 400, "unsupported_response_type",
		    "response_type must be code");
		goto out;
	}
	if (challenge == NULL || method == NULL ||
	    strcmp(method, "S256") != 0) {
		req->log_error = "pkce required";
		oauthep_error(resp, 400, "invalid_request",
		    "PKCE is required: code_challenge with "
		    "code_challenge_method=S256 (plain is not supported)");
		goto out;
	}
	if (!crypto_pkce_challenge_valid(challenge)) {
		oauthep_error(resp, 400, "invalid_request",
		    "code_challenge must be 43 base64url characters");
		goto out;
	}
	if (scope != NULL && !oauth_scope_valid(scope)) {
		oauthep_error(resp, 400, "invalid_scope",
		    "the only scope is " OAUTH_SCOPE);
		goto out;
	}
	if (resource != NULL && !oauth_resource_valid(resource)) {
		oauthep_error(resp, 400, "invalid_target",
		    "resource must be this service");
		goto out;
	}

	memset(&pend, 0, sizeof pend);
	pend.client_id = client.client_id;
	pend.redirect_uri = (char *)redirect;
	pend.client_state = (char *)state;
	pend.code_challenge = (char *)challenge;
	pend.scope = (char *)(scope != NULL && *scope != '\0' ? scope :
	    OAUTH_SCOPE);
	pend.resource = (char *)resource;
	if (auth_login_begin(&pend, &login, &cause) != 0) {
		oauthep_unavailable(resp, cause);
		goto out;
	}
	auth_set_cookie(resp, AUTH_LOGIN_COOKIE, login, AUTH_STATE_TTL);
	oauthep_consent_page(resp, &client, redirect, login);
out:
	oauth_client_clear(&client);
	crypto_free_secret(login);
	free(cause);
	free(msg);
}

/*
 * POST /oauth/authorize: the user's answer on the consent page. Only the
 * browser that started the authorization (the login cookie) and only from
 * our own origin may answer; allow goes on to AniList, deny back to the
 * client with access_denied.
 */
void
handle_oauth_consent(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct http_param	*form = NULL;
	struct auth_pending	 pend;
	const char		*login, *decision;
	char			*cause = NULL, *cookie = NULL, *url = NULL;
	size_t			 n = 0;
	bool			 allow;
	int			 rc;

	memset(&pend, 0, sizeof pend);
	http_resp_header(resp, "Cache-Control", "no-store");
	if (!auth_enabled()) {
		oauthep_unavailable(resp, NULL);
		return;
	}
	if (!auth_origin_allowed(req)) {
		req->log_error = "foreign origin";
		http_resp_error(resp, 403, "forbidden", NULL,
		    "a cross-origin request may not answer the consent page");
		return;
	}
	if (oauthep_form_parse(req, &form, &n, &cause) != 0) {
		http_resp_error(resp, 400, "invalid_request", NULL, "%s",
		    cause);
		goto out;
	}
	login = oauthep_form_get(form, n, "login");
	decision = oauthep_form_get(form, n, "decision");
	if (login == NULL || decision == NULL || (strcmp(decision, "allow") !=
	    0 && strcmp(decision, "deny") != 0)) {
		http_resp_error(resp, 400, "invalid_request", NULL,
		    "login and decision (allow or deny) are required");
		goto out;
	}
	allow = strcmp(decision, "allow") == 0;
	cookie = auth_cookie_value(http_req_header(req, "Cookie") != NULL ?
	    http_req_header(req, "Cookie") : "", AUTH_LOGIN_COOKIE);
	if (cookie == NULL || !util_ct_equal(cookie, strlen(cookie), login,
	    strlen(login))) {
		http_resp_error(resp, 400, "invalid_state", "login",
		    "this authorization was not started in this browser");
		goto out;
	}
	rc = auth_login_consent(login, allow, &pend, &cause);
	if (rc == 400) {
		http_resp_error(resp, 400, "invalid_state", "login",
		    "unknown, expired or already answered authorization; "
		    "start again");
		goto out;
	}
	if (rc != 0) {
		auth_unavailable(resp, cause);
		goto out;
	}
	if (allow)
		url = oauth_anilist_authorize_url(login);
	else {
		/* No AniList callback follows: the login ends here. */
		metrics_oauth("failure", "denied");
		auth_set_cookie(resp, AUTH_LOGIN_COOKIE, "", 0);
		url = oauth_client_redirect(pend.redirect_uri, NULL,
		    "access_denied", "the user cancelled", pend.client_state);
	}
	http_resp_header(resp, "Location", "%s", url);
	http_resp_text(resp, 302, "text/plain", "");
out:
	auth_pending_clear(&pend);
	http_params_free(form, n);
	free(cookie);
	free(cause);
	free(url);
}

/* POST /oauth/token. */
void
handle_oauth_token(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct oauth_client	 client;
	struct oauth_grant	 g;
	struct oauth_token_request tr;
	struct http_param	*form = NULL;
	const char		*grant;
	char			*cause = NULL;
	size_t			 n = 0;

	memset(&client, 0, sizeof client);
	memset(&g, 0, sizeof g);
	if (!auth_enabled()) {
		oauthep_unavailable(resp, NULL);
		return;
	}
	if (oauthep_form_parse(req, &form, &n, &cause) != 0) {
		oauthep_error(resp, 400, "invalid_request", cause);
		goto out;
	}
	grant = oauthep_form_get(form, n, "grant_type");
	if (grant == NULL) {
		oauthep_error(resp, 400, "invalid_request",
		    "grant_type is required");
		goto out;
	}
	if (strcmp(grant, "authorization_code") != 0 &&
	    strcmp(grant, "refresh_token") != 0) {
		oauthep_error(resp, 400, "unsupported_grant_type",
		    "grant_type must be authorization_code or refresh_token");
		goto out;
	}
	if (oauthep_client_authenticate(req, resp, form, n, &client) != 0) {
		req->log_error = "client authentication failed";
		goto out;
	}
	tr.grant_type = grant;
	tr.code = oauthep_form_get(form, n, "code");
	tr.redirect_uri = oauthep_form_get(form, n, "redirect_uri");
	tr.code_verifier = oauthep_form_get(form, n, "code_verifier");
	tr.resource = oauthep_form_get(form, n, "resource");
	tr.refresh_token = oauthep_form_get(form, n, "refresh_token");
	tr.scope = oauthep_form_get(form, n, "scope");
	oauth_grant(&client, &tr, &g, &cause);
	if (g.status == 200) {
		http_resp_header(resp, "Cache-Control", "no-store");
		http_resp_header(resp, "Pragma", "no-cache");
		http_resp_json(resp, 200, g.tokens);
	} else if (g.status == 400) {
		req->log_error = g.error;
		oauthep_error(resp, 400, g.error, g.desc);
	} else
		oauthep_unavailable(resp, cause);
out:
	oauth_client_clear(&client);
	http_params_free(form, n);
	free(cause);
}

/* POST /oauth/revoke (RFC 7009). */
void
handle_oauth_revoke(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct oauth_client	 client;
	struct http_param	*form = NULL;
	const char		*token;
	char			*cause = NULL;
	size_t			 n = 0;

	memset(&client, 0, sizeof client);
	if (!auth_enabled()) {
		oauthep_unavailable(resp, NULL);
		return;
	}
	if (oauthep_form_parse(req, &form, &n, &cause) != 0) {
		oauthep_error(resp, 400, "invalid_request", cause);
		goto out;
	}
	if ((token = oauthep_form_get(form, n, "token")) == NULL) {
		oauthep_error(resp, 400, "invalid_request", "token is required");
		goto out;
	}
	if (oauthep_client_authenticate(req, resp, form, n, &client) != 0)
		goto out;
	if (oauth_token_revoke(client.client_id, token, &cause) != 0) {
		oauthep_unavailable(resp, cause);
		goto out;
	}
	/* Unknown tokens are not an error (RFC 7009 §2.2). */
	http_resp_header(resp, "Cache-Control", "no-store");
	http_resp_json(resp, 200, json_object_new_object());
out:
	oauth_client_clear(&client);
	http_params_free(form, n);
	free(cause);
}
