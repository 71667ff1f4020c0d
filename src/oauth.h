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

/* ---- AniList: we are its OAuth client (authorization code) ---- */

/* Is AniList login configured (client id, secret, redirect URI)? */
bool	 oauth_anilist_configured(void);
/* AniList's authorize URL carrying state, every parameter encoded; caller frees. */
char	*oauth_anilist_authorize_url(const char *);
/*
 * Exchange AniList's authorization code for its access token (caller frees
 * with crypto_free_secret). Returns 0, or an HTTP status for our caller with
 * *cause: 400 AniList refused the code, 502 a bad answer, 504 timeout, 503
 * unreachable.
 */
int	 oauth_anilist_exchange(const char *, char **, char **)
	    __attribute__((warn_unused_result));
/* Viewer { id name } of an AniList token; same statuses as the exchange. */
int	 oauth_anilist_viewer(const char *, long long *, char **, char **)
	    __attribute__((warn_unused_result));
/* The exp claim (unix seconds) of a JWT, 0 when there is none. */
long long oauth_jwt_exp(const char *);

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
void	 oauth_client_clear(struct oauth_client *);
/* Does uri exactly equal one of the client's registered redirect URIs? */
bool	 oauth_client_has_redirect(const struct oauth_client *, const char *);
/* Load a client: 0, 404 unknown, 503 database (with *cause). */
int	 oauth_client_load(const char *, struct oauth_client *, char **);

/*
 * Redirect URIs we accept at registration: absolute https, or http on a
 * loopback host (127.0.0.1, [::1], localhost); no fragment, no userinfo.
 */
bool	 oauth_redirect_uri_valid(const char *, char **);
/* Is resource (RFC 8707) this service: PUBLIC_URL, or PUBLIC_URL/mcp? */
bool	 oauth_resource_valid(const char *);
/* Is every space-separated scope one we support (empty is fine)? */
bool	 oauth_scope_valid(const char *);
/* PUBLIC_URL without a trailing slash; caller frees. */
char	*oauth_issuer(void);

/*
 * RFC 7591 registration from a parsed JSON body. Returns 201 with *out set
 * to the response object, 400 with *error and *desc (caller frees), or 503.
 */
int	 oauth_register(struct json_object *, struct json_object **, char **,
	    char **);

/*
 * Where to send the browser back to a client: uri with code (or error and
 * desc), state when not NULL, and iss (RFC 9207). Caller frees.
 */
char	*oauth_client_redirect(const char *, const char *, const char *,
	    const char *, const char *);

/*
 * The OAuth error body {"error","error_description"} with no-store caching;
 * invalid_client at 401 also gets WWW-Authenticate: Basic.
 */
void	 oauth_error(struct http_resp *, int, const char *, const char *);
/* 503 temporarily_unavailable; the cause (may be NULL) is only logged. */
void	 oauth_unavailable(struct http_resp *, const char *);

/*
 * The token and revocation endpoints: form-encoded body, client
 * authentication (client_secret_basic, client_secret_post or none).
 * Each writes the whole response.
 */
void	 oauth_token_endpoint(struct http_req *, struct http_resp *);
void	 oauth_revoke_endpoint(struct http_req *, struct http_resp *);

/*
 * Issue an authorization code for a user's consented authorization: the
 * code in *code (caller frees). 0, or 503 with *cause.
 */
int	 oauth_code_create(long long, const char *, const char *,
	    const char *, const char *, const char *, char **, char **);

/*
 * Parse an application/x-www-form-urlencoded body. Returns 0, or 400/415
 * with *cause; a repeated parameter is an error (RFC 6749 §3.1).
 */
int	 oauth_form_parse(const struct http_req *, struct http_param **,
	    size_t *, char **);
const char *oauth_form_get(const struct http_param *, size_t, const char *);

#endif
