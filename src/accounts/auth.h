/* accounts/auth.h: accounts: users, login states, web sessions, and who is calling (auth_authenticate). */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"

struct http_req;
struct http_resp;
struct tool_auth;

#define AUTH_SESSION_COOKIE	"__Host-agpt_session"
#define AUTH_LOGIN_COOKIE	"__Host-agpt_login"
#define AUTH_STATE_TTL		600	/* seconds a login state lives */

enum auth_via {
	AUTH_VIA_SESSION,	/* the web session cookie */
	AUTH_VIA_BEARER		/* one of our OAuth access tokens */
};

/*
 * Who is calling, for handlers and tools. anilist_token is the user's
 * decrypted AniList bearer token, for anilist_fetch(); scope ("user:<id>")
 * partitions that user's cached AniList answers. Release with
 * auth_principal_free, which zeroes the token.
 */
struct auth_principal {
	long long	 user_id;		/* users.id */
	long long	 anilist_id;
	char		*name;			/* AniList user name */
	char		*anilist_token;
	long long	 anilist_expires;	/* unix seconds, 0 unknown */
	enum auth_via	 via;
	bool		 same_site;		/* not caused by another site */
	char		*client_id;		/* bearer: the OAuth client */
	char		 scope[32];		/* cache scope */
	unsigned char	 token_hash[CRYPTO_HASH_LEN];	/* what was shown */
};

/* Are accounts usable: DATABASE_URL and SECRET_KEY set? */
bool	 auth_enabled(void);

/*
 * Authenticate a request by our Bearer access token (Authorization) or the
 * session cookie, which counts only without an Origin or with our own (no
 * other site's page may use it). Returns 0 with *p filled (caller frees with
 * auth_principal_free; req->log_user is set), or an HTTP status with *cause
 * (caller frees): 401 no or bad credentials, 403 a cookie-authenticated
 * state-changing request from a foreign Origin, 503 accounts unavailable.
 */
int	 auth_authenticate(struct http_req *req, struct auth_principal *p,
	    char **cause) __attribute__((warn_unused_result));
/*
 * auth_authenticate for handlers: on failure writes the error response
 * (401 with WWW-Authenticate: Bearer resource_metadata="…", 403, 503) and
 * returns false.
 */
bool	 auth_require(struct http_req *req, struct http_resp *resp,
	    struct auth_principal *p) __attribute__((warn_unused_result));
void	 auth_principal_free(struct auth_principal *p);
/*
 * Does the request carry credentials (an Authorization header or a
 * non-empty session cookie)? Without any, a tool that works anonymously
 * runs anonymously and no database is asked.
 */
bool	 auth_credentials_present(const struct http_req *req);
/* The tool's view of a principal; ta's strings are borrowed from p. */
void	 auth_principal_tool(const struct auth_principal *p,
	    struct tool_auth *ta);

/*
 * The WWW-Authenticate value: Bearer [error="…", ]resource_metadata="…"
 * (RFC 9728); error may be NULL. Caller frees.
 */
char	*auth_challenge_value(const char *error);
/* Write the 503 of an accounts route (database down or not configured). */
void	 auth_unavailable(struct http_resp *resp, const char *cause);

/* The value of cookie name in a Cookie header; caller frees, NULL if absent. */
char	*auth_cookie_value(const char *header, const char *name);
/* Is origin (an Origin header) the origin of PUBLIC_URL? */
bool	 auth_origin_is_self(const char *public_url, const char *origin);
/*
 * May a cookie authenticate this request? GET/HEAD/OPTIONS always; other
 * methods only without an Origin or with our own.
 */
bool	 auth_origin_allowed(const struct http_req *req);
/* Set-Cookie for name=value living max_age seconds (0 deletes it). */
void	 auth_set_cookie(struct http_resp *resp, const char *name,
	    const char *value, int max_age);

/*
 * An OAuth authorization waiting for the AniList login (chained through
 * the login state). auth_pending_clear frees every string; client_id NULL
 * for a web login.
 */
struct auth_pending {
	char	*client_id;
	char	*redirect_uri;
	char	*client_state;
	char	*code_challenge;
	char	*scope;
	char	*resource;
	bool	 consented;
};
void	 auth_pending_clear(struct auth_pending *p);

/*
 * Start a login: a random state stored (hashed) for AUTH_STATE_TTL, with the
 * pending authorization if any; caller frees *state. 0 or 503.
 */
int	 auth_login_begin(const struct auth_pending *pend, char **state,
	    char **cause) __attribute__((warn_unused_result));
/*
 * Record the user's decision on a pending OAuth authorization: allow marks
 * it consented, deny deletes it. 0 with *p filled, 400 unknown, expired or
 * already decided, 503.
 */
int	 auth_login_consent(const char *state, bool allow,
	    struct auth_pending *p, char **cause)
	    __attribute__((warn_unused_result));
/*
 * Consume a login state (single use): 0 with *p filled, 400 unknown,
 * expired or used, 503.
 */
int	 auth_login_consume(const char *state, struct auth_pending *p,
	    char **cause) __attribute__((warn_unused_result));
/*
 * Upsert the AniList user and store their AniList token sealed; *user_id
 * is ours. 0 or 503.
 */
int	 auth_user_store(long long anilist_id, const char *name,
	    const char *token, long long expires, long long *user_id,
	    char **cause) __attribute__((warn_unused_result));
/* A new web session for a user: the cookie value in *token. 0 or 503. */
int	 auth_session_create(long long user_id, char **token, char **cause)
	    __attribute__((warn_unused_result));
/* Revoke one of our tokens by its hash (logout). 0 or 503. */
int	 auth_token_revoke(const unsigned char *hash, char **cause)
	    __attribute__((warn_unused_result));
/* Delete a user and everything of theirs. 0 or 503. */
int	 auth_user_delete(long long user_id, char **cause)
	    __attribute__((warn_unused_result));

/* A token as a bytea parameter of its hash; caller frees, NULL if no key. */
char	*auth_hash_param(const char *token);

#endif
