/* accounts/oauth_server.h: our OAuth 2.1 authorization server for MCP clients (clients, codes, tokens). */
#ifndef OAUTH_SERVER_H
#define OAUTH_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto.h"

struct json_object;

#define OAUTH_CODE_TTL		60	/* seconds an authorization code lives */
#define OAUTH_STATE_MAX		512	/* bytes of a client's state we echo */
#define OAUTH_SCOPE		"anilist"	/* the one scope we grant */

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
/* Free what c holds (c itself is the caller's); NULL fields are fine. */
void	 oauth_client_clear(struct oauth_client *c);
/* Does uri match one of the client's registered redirect URIs? */
bool	 oauth_client_has_redirect(const struct oauth_client *c,
	    const char *uri);
/*
 * Does a redirect URI given at /oauth/authorize match a registered one?
 * Exactly, except that the port of a loopback IP literal (127.0.0.1,
 * [::1]) over http is ignored: a native app listens on any free port
 * (RFC 8252 §7.3). "localhost" is matched exactly.
 */
bool	 oauth_redirect_matches(const char *registered, const char *given);
/*
 * A client_name we show: 1 to 200 bytes of UTF-8 with no control
 * character and no invisible or reordering one (Unicode format
 * characters such as U+202E, zero-width characters, tags).
 */
bool	 oauth_client_name_valid(const char *name);
/* Load a client: 0, 404 unknown, 503 database (with *cause). */
int	 oauth_client_load(const char *client_id, struct oauth_client *c,
	    char **cause);

/*
 * Redirect URIs we accept at registration: absolute https, or http on a
 * loopback host (127.0.0.1, [::1], localhost); no fragment, no userinfo.
 */
bool	 oauth_redirect_uri_valid(const char *uri, char **why);
/* Is resource (RFC 8707) this service: PUBLIC_URL, or PUBLIC_URL/mcp? */
bool	 oauth_resource_valid(const char *resource);
/* Is every space-separated scope one we support (empty is fine)? */
bool	 oauth_scope_valid(const char *scope);
/* PUBLIC_URL without a trailing slash; caller frees. */
char	*oauth_issuer(void);

/*
 * RFC 7591 registration from a parsed JSON body. registrant (may be NULL)
 * names who registers (a keyed identity of the client address), counted
 * against OAUTH_REGISTER_LIMIT per hour. Returns 201 with *out set to the
 * response object, 400 or 429 with *error and *desc (caller frees), or
 * 503.
 */
int	 oauth_register(struct json_object *meta, const char *registrant,
	    struct json_object **out, char **error, char **desc);

/*
 * Where to send the browser back to a client: uri with code (or error and
 * desc), state when not NULL, and iss (RFC 9207). Caller frees.
 */
char	*oauth_client_redirect(const char *uri, const char *code,
	    const char *error, const char *desc, const char *state);

/* A user's consented authorization, as the authorize request asked it. */
struct oauth_code_request {
	long long	 user_id;	/* our user */
	const char	*client_id;
	const char	*redirect_uri;	/* the one the token request repeats */
	const char	*code_challenge; /* PKCE S256 */
	const char	*scope;		/* may be NULL */
	const char	*resource;	/* RFC 8707; may be NULL */
};

/*
 * Issue an authorization code for cr (borrowed): the code in *code
 * (caller frees). 0, or 503 with *cause (caller frees).
 */
int	 oauth_code_create(const struct oauth_code_request *cr, char **code,
	    char **cause) __attribute__((warn_unused_result));

/*
 * What the token endpoint knows when a client presents an authorization
 * code (the code's row against the request). Strings are borrowed;
 * code_resource and resource may be NULL.
 */
struct oauth_code_facts {
	bool		 live;		/* before the code's expiry */
	const char	*code_client;	/* the client the code was issued to */
	const char	*client;	/* the authenticated client */
	const char	*code_redirect;
	const char	*redirect;	/* redirect_uri of the token request */
	const char	*challenge;	/* S256 code_challenge of the code */
	const char	*verifier;	/* code_verifier of the token request */
	const char	*code_resource;
	const char	*resource;
};
/*
 * Why an unused code is refused: a description, with *error the OAuth
 * error ("invalid_grant", "invalid_target"); NULL when tokens may be
 * issued. (A used code is a replay, refused before this.)
 */
const char *oauth_code_refusal(const struct oauth_code_facts *f,
	    const char **error);

/* What the token endpoint knows of a presented refresh token. */
struct oauth_refresh_facts {
	bool		 found;
	const char	*token_client;	/* may be NULL */
	const char	*client;	/* the authenticated client */
	bool		 revoked;	/* it or its grant */
	bool		 used;		/* already rotated */
	bool		 live;		/* before its expiry and its grant's */
};
enum oauth_refresh_verdict {
	OAUTH_REFRESH_OK,
	OAUTH_REFRESH_UNKNOWN,		/* or another client's */
	OAUTH_REFRESH_REVOKED,
	OAUTH_REFRESH_REPLAYED,		/* revoke the whole grant */
	OAUTH_REFRESH_EXPIRED
};
enum oauth_refresh_verdict oauth_refresh_verdict(
	    const struct oauth_refresh_facts *f);

/*
 * May a client registered with one token_endpoint_auth_method
 * authenticate with another? Never (none, client_secret_post,
 * client_secret_basic).
 */
bool	 oauth_auth_method_allowed(const char *registered, const char *used);

/* The token endpoint's parameters (borrowed; NULL when absent). */
struct oauth_token_request {
	const char	*grant_type;	/* authorization_code, refresh_token */
	const char	*code;		/* authorization_code: */
	const char	*redirect_uri;
	const char	*code_verifier;
	const char	*resource;
	const char	*refresh_token;	/* refresh_token: */
	const char	*scope;
};

/* What a grant gave: tokens (200), an OAuth error (400), or 503. */
struct oauth_grant {
	int			 status;	/* 200, 400 or 503 */
	const char		*error;		/* OAuth error code (static) */
	const char		*desc;		/* static */
	struct json_object	*tokens;	/* the token response; caller puts */
};

/*
 * Run an authorization_code or refresh_token grant (tr->grant_type, one
 * of the two) for an authenticated client, in one transaction: spend the
 * code or rotate the refresh token, revoke the grant's tokens on a
 * replay, and issue new tokens. g->status 503 with *cause (caller frees)
 * when the database fails.
 */
void	 oauth_grant(const struct oauth_client *client,
	    const struct oauth_token_request *tr, struct oauth_grant *g,
	    char **cause);

/*
 * Revoke a client's access or refresh token (a refresh token takes its
 * grant's tokens with it); an unknown token is no error. 0, or 503 with
 * *cause (caller frees; may stay NULL).
 */
int	 oauth_token_revoke(const char *client_id, const char *token,
	    char **cause) __attribute__((warn_unused_result));

#endif
