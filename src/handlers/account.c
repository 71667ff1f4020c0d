/* handlers/account.c: web login with AniList, the session, logout and DELETE /v1/me. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "auth.h"
#include "config.h"
#include "crypto.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "oauth_anilist.h"
#include "oauth_server.h"
#include "tool.h"
#include "tools/tools.h"
#include "util.h"

/* 503 unless accounts and AniList login are configured. */
static bool
account_login_ready(struct http_resp *resp)
{
	if (!auth_enabled()) {
		auth_unavailable(resp, NULL);
		return (false);
	}
	if (!oauth_anilist_configured()) {
		http_resp_error(resp, 503, "login_unavailable", NULL,
		    "AniList login is not configured on this server");
		return (false);
	}
	return (true);
}

static void
account_redirect(struct http_resp *resp, const char *location)
{
	http_resp_header(resp, "Location", "%s", location);
	http_resp_header(resp, "Cache-Control", "no-store");
	http_resp_text(resp, 302, "text/plain", "");
}

/* GET /auth/login: a fresh state, then off to AniList. */
void
handle_auth_login(struct http_req *req, struct http_resp *resp, const void *arg)
{
	char	*state = NULL, *cause = NULL, *url;

	if (!account_login_ready(resp))
		return;
	if (auth_login_begin(NULL, &state, &cause) != 0) {
		auth_unavailable(resp, cause);
		free(cause);
		return;
	}
	url = oauth_anilist_authorize_url(state);
	auth_set_cookie(resp, AUTH_LOGIN_COOKIE, state, AUTH_STATE_TTL);
	account_redirect(resp, url);
	free(url);
	crypto_free_secret(state);
}

/*
 * An AniList failure: for a web login an error, for OAuth a redirect. A
 * client (a third party) gets a generic description only; the detail (msg)
 * is for our own user and our log.
 */
static void
account_callback_fail(struct http_resp *resp, const struct auth_pending *pend,
    int status, const char *code, const char *msg)
{
	char	*url;

	if (pend->client_id != NULL) {
		url = oauth_client_redirect(pend->redirect_uri, NULL,
		    status == 400 ? "access_denied" : status >= 503 ?
		    "temporarily_unavailable" : "server_error", status == 400 ?
		    "the AniList login did not complete" : "AniList could not "
		    "be reached; try again later", pend->client_state);
		account_redirect(resp, url);
		free(url);
		return;
	}
	if (status == 503)
		http_resp_header(resp, "Retry-After", "%d",
		    HTTP_RETRY_AFTER_DOWN);
	http_resp_error(resp, status, code, NULL, "%s", msg);
}

/*
 * GET /auth/callback: AniList sends the browser back with code and state.
 * The state must be ours, unused, and started in this browser (the login
 * cookie); then the code is exchanged, the user stored, and either a web
 * session starts or the waiting OAuth client gets its code. Each callback
 * counts once in oauth_logins_total: success, or failure with a reason.
 */
void
handle_auth_callback(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct auth_pending	 pend;
	struct oauth_code_request cr;
	const char		*state = http_req_query(req, "state");
	const char		*code = http_req_query(req, "code");
	const char		*error = http_req_query(req, "error");
	char			*cookie = NULL, *cause = NULL, *token = NULL;
	char			*name = NULL, *ours = NULL, *url = NULL;
	const char		*reason = "invalid_state";	/* until accepted */
	long long		 anilist_id = 0, user_id = 0;
	int			 rc;

	memset(&pend, 0, sizeof pend);
	http_resp_header(resp, "Cache-Control", "no-store");
	if (!account_login_ready(resp)) {
		metrics_oauth("failure", "not_configured");
		return;
	}
	if (state == NULL || *state == '\0') {
		http_resp_error(resp, 400, "invalid_state", "state",
		    "the state parameter is missing");
		goto out;
	}
	cookie = auth_cookie_value(http_req_header(req, "Cookie") != NULL ?
	    http_req_header(req, "Cookie") : "", AUTH_LOGIN_COOKIE);
	if (cookie == NULL || !util_ct_equal(cookie, strlen(cookie), state,
	    strlen(state))) {
		http_resp_error(resp, 400, "invalid_state", "state",
		    "this login was not started in this browser; start again");
		goto out;
	}
	rc = auth_login_consume(state, &pend, &cause);
	if (rc == 400) {
		http_resp_error(resp, 400, "invalid_state", "state",
		    "unknown, expired or already used login state; start "
		    "again");
		goto out;
	}
	if (rc != 0) {
		reason = "unavailable";
		auth_unavailable(resp, cause);
		goto out;
	}
	auth_set_cookie(resp, AUTH_LOGIN_COOKIE, "", 0);
	if (pend.client_id != NULL && !pend.consented) {
		http_resp_error(resp, 400, "invalid_state", "state",
		    "this authorization was never approved");
		goto out;
	}
	if (error != NULL) {
		reason = "cancelled";
		account_callback_fail(resp, &pend, 400, "login_cancelled",
		    "the AniList login was cancelled");
		goto out;
	}
	if (code == NULL || *code == '\0') {
		reason = "missing_code";
		http_resp_error(resp, 400, "invalid_request", "code",
		    "the code parameter is missing");
		goto out;
	}
	if ((rc = oauth_anilist_exchange(code, &token, &cause)) != 0 ||
	    (rc = oauth_anilist_viewer(token, &anilist_id, &name,
	    &cause)) != 0) {
		log_warn("AniList login failed", LF_STR("error", cause),
		    LF_END);
		req->log_error = "anilist login failed";
		reason = rc == 400 ? "anilist_refused" : "upstream_error";
		account_callback_fail(resp, &pend, rc, rc == 400 ?
		    "anilist_refused" : "upstream_error", cause);
		goto out;
	}
	reason = "unavailable";
	if (auth_user_store(anilist_id, name, token,
	    oauth_anilist_jwt_exp(token), &user_id, &cause) != 0) {
		auth_unavailable(resp, cause);
		goto out;
	}
	crypto_user_tag(user_id, req->log_user);
	metrics_user(req->log_user);
	if (pend.client_id != NULL) {
		cr.user_id = user_id;
		cr.client_id = pend.client_id;
		cr.redirect_uri = pend.redirect_uri;
		cr.code_challenge = pend.code_challenge;
		cr.scope = pend.scope;
		cr.resource = pend.resource;
		if (oauth_code_create(&cr, &ours, &cause) != 0) {
			auth_unavailable(resp, cause);
			goto out;
		}
		url = oauth_client_redirect(pend.redirect_uri, ours, NULL, NULL,
		    pend.client_state);
		log_info("oauth authorization granted", LF_STR("client_id",
		    pend.client_id), LF_END);
	} else {
		if (auth_session_create(user_id, &ours, &cause) != 0) {
			auth_unavailable(resp, cause);
			goto out;
		}
		auth_set_cookie(resp, AUTH_SESSION_COOKIE, ours,
		    cfg->session_ttl);
		url = oauth_issuer();
		url = xrealloc(url, strlen(url) + sizeof "/auth/me");
		strcat(url, "/auth/me");
		log_info("web login", LF_END);
	}
	reason = NULL;
	account_redirect(resp, url);
out:
	metrics_oauth(reason == NULL ? "success" : "failure", reason);
	auth_pending_clear(&pend);
	free(cookie);
	free(cause);
	crypto_free_secret(token);
	crypto_free_secret(ours);
	free(name);
	free(url);
}

/* GET /auth/me: who the session or bearer token belongs to. */
void
handle_auth_me(struct http_req *req, struct http_resp *resp, const void *arg)
{
	struct auth_principal	 p;
	struct json_object	*o, *u;

	http_resp_header(resp, "Cache-Control", "no-store");
	if (!auth_require(req, resp, &p))
		return;
	u = json_object_new_object();
	json_object_object_add(u, "id", json_object_new_int64(p.anilist_id));
	json_object_object_add(u, "name", json_object_new_string(p.name));
	o = json_object_new_object();
	json_object_object_add(o, "user", u);
	json_object_object_add(o, "via", json_object_new_string(
	    p.via == AUTH_VIA_SESSION ? "session" : "bearer"));
	if (p.client_id != NULL)
		json_object_object_add(o, "client_id",
		    json_object_new_string(p.client_id));
	if (p.anilist_expires != 0)
		json_object_object_add(o, "anilist_token_expires_at",
		    json_object_new_int64(p.anilist_expires));
	http_resp_json(resp, 200, o);
	auth_principal_free(&p);
}

/* 200 {"status": status} that also clears the session cookie. */
static void
account_signed_out(struct http_resp *resp, const char *status)
{
	struct json_object	*o = json_object_new_object();

	auth_set_cookie(resp, AUTH_SESSION_COOKIE, "", 0);
	json_object_object_add(o, "status", json_object_new_string(status));
	http_resp_json(resp, 200, o);
}

/* POST /auth/logout: revoke the session (or the bearer token shown). */
void
handle_auth_logout(struct http_req *req, struct http_resp *resp,
    const void *arg)
{
	struct auth_principal	 p;
	char			*cause = NULL;
	int			 rc;

	http_resp_header(resp, "Cache-Control", "no-store");
	rc = auth_authenticate(req, &p, &cause);
	if (rc == 0 && auth_token_revoke(p.token_hash, &cause) != 0)
		rc = 503;
	auth_principal_free(&p);
	if (rc == 403)
		http_resp_error(resp, 403, "forbidden", NULL, "%s", cause);
	else if (rc == 503)
		auth_unavailable(resp, cause);
	else
		account_signed_out(resp, "logged_out");
	free(cause);
}

/*
 * DELETE /v1/me: the user, their tokens, preferences and events. Only the
 * user's own web session may: the consent page lets a client act on the
 * AniList list, never delete the account, so a client's token gets 403.
 */
void
handle_me_delete(struct http_req *req, struct http_resp *resp, const void *arg)
{
	struct auth_principal	 p;
	struct tool_auth	 ta;
	char			*cause = NULL;

	http_resp_header(resp, "Cache-Control", "no-store");
	if (!auth_require(req, resp, &p))
		return;
	if (p.via != AUTH_VIA_SESSION) {
		req->log_error = "account deletion by a client token";
		http_resp_error(resp, 403, "insufficient_scope", NULL, "only "
		    "the web session may delete the account: sign in at "
		    "/auth/login and send DELETE /v1/me from there");
		http_resp_header(resp, "WWW-Authenticate", "Bearer error="
		    "\"insufficient_scope\"");
	} else if (auth_user_delete(p.user_id, &cause) != 0)
		auth_unavailable(resp, cause);
	else {
		/* Their AniList data goes from the cache with them. */
		auth_principal_tool(&p, &ta);
		users_invalidate(&ta);
		log_info("account deleted", LF_END);
		account_signed_out(resp, "deleted");
	}
	free(cause);
	auth_principal_free(&p);
}
