/* oauth.h: AniList's code grant (we are its client) and our OAuth 2.1 server (clients, codes, tokens). */
#ifndef OAUTH_H
#define OAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"

struct http_req;
struct http_resp;
struct http_param;
struct json_object;

#define OAUTH_CODE_TTL		600	/* seconds an authorization code lives */
#define OAUTH_STATE_MAX		512	/* bytes of a client's state we echo */
#define OAUTH_SCOPE		"anilist"	/* the one scope we grant */

/* ---- AniList: we are its OAuth client (DESIGN §7) ---- */

/* Is AniList login configured (client id, secret, redirect URI)? */
bool	 oauth_anilist_configured(void);
/* AniList's authorize URL carrying state, every parameter encoded; caller frees. */
char	*oauth_anilist_authorize_url(const char *state);
/*
 * Exchange AniList's authorization code for its access token (caller frees
 * with crypto_free_secret). Returns 0, or an HTTP status for our caller with
 * *cause: 400 AniList refused the code, 502 a bad answer, 504 timeout, 503
 * unreachable.
 */
int	 oauth_anilist_exchange(const char *code, char **token, char **cause)
	    __attribute__((warn_unused_result));
/* Viewer { id name } of an AniList token; same statuses as the exchange. */
int	 oauth_anilist_viewer(const char *token, long long *id, char **name,
	    char **cause) __attribute__((warn_unused_result));
/* The exp claim (unix seconds) of a JWT, 0 when there is none. */
long long oauth_jwt_exp(const char *jwt);

/* ---- our authorization server ---- */

/* A registered client. */
struct oauth_client {
	char		 *client_id;
	char		 *name;
	char		**redirect_uris;
	size_t		  nredirect;
	char		 *auth_method;	/* none, client_secret_post/_basic */
	bool		  has_secret;
	unsigned char	  secret_hash[CRYPTO_HASH_LEN];
};
void	 oauth_client_clear(struct oauth_client *c);
/* Does uri exactly equal one of the client's registered redirect URIs? */
bool	 oauth_client_has_redirect(const struct oauth_client *c,
	    const char *uri);
/* Load a client: 0, 404 unknown, 503 database (with *cause). */
int	 oauth_client_load(const char *client_id, struct oauth_client *c,
	    char **cause);

/*
 * Redirect URIs we accept at registration: absolute https, or http on a
 * loopback host (127.0.0.1, [::1], localhost); no fragment, no userinfo.
 */
bool	 oauth_redirect_uri_valid(const char *uri, char **why);
/* Is resource (RFC 8707) this service: PUBLIC_URL, or PUBLIC_URL/mcp? */
bool	 oauth_resource_valid(const char *r);
/* Is every space-separated scope one we support (empty is fine)? */
bool	 oauth_scope_valid(const char *scope);
/* PUBLIC_URL without a trailing slash; caller frees. */
char	*oauth_issuer(void);

/*
 * RFC 7591 registration from a parsed JSON body. Returns 201 with *out set
 * to the response object, 400 with *error and *desc (caller frees), or 503.
 */
int	 oauth_register(struct json_object *meta, struct json_object **out,
	    char **error, char **desc);

/*
 * Where to send the browser back to a client: uri with code (or error and
 * desc), state when not NULL, and iss (RFC 9207). Caller frees.
 */
char	*oauth_client_redirect(const char *uri, const char *code,
	    const char *error, const char *desc, const char *state);

/*
 * The OAuth error body {"error","error_description"} with no-store caching;
 * invalid_client at 401 also gets WWW-Authenticate: Basic.
 */
void	 oauth_error(struct http_resp *resp, int status, const char *error,
	    const char *desc);
/* 503 temporarily_unavailable; the cause (may be NULL) is only logged. */
void	 oauth_unavailable(struct http_resp *resp, const char *cause);

/*
 * The token and revocation endpoints: form-encoded body, client
 * authentication (client_secret_basic, client_secret_post or none).
 * Each writes the whole response.
 */
void	 oauth_token_endpoint(struct http_req *req, struct http_resp *resp);
void	 oauth_revoke_endpoint(struct http_req *req, struct http_resp *resp);

/*
 * Issue an authorization code for a user's consented authorization: the
 * code in *code (caller frees). 0, or 503 with *cause.
 */
int	 oauth_code_create(long long user_id, const char *client_id,
	    const char *redirect_uri, const char *challenge, const char *scope,
	    const char *resource, char **code, char **cause);

/*
 * Parse an application/x-www-form-urlencoded body. Returns 0, or 400/415
 * with *cause; a repeated parameter is an error (RFC 6749 §3.1).
 */
int	 oauth_form_parse(const struct http_req *req,
	    struct http_param **params, size_t *n, char **cause);
const char *oauth_form_get(const struct http_param *p, size_t n,
	    const char *key);

#endif
