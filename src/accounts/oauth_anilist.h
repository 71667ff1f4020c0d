/* accounts/oauth_anilist.h: sign-in with AniList: we are its OAuth client (authorize URL, code exchange, Viewer). */
#ifndef OAUTH_ANILIST_H
#define OAUTH_ANILIST_H

#include <stdbool.h>

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
	    char **cause)
	    __attribute__((warn_unused_result));
/* The exp claim (unix seconds) of a JWT, 0 when there is none. */
long long oauth_anilist_jwt_exp(const char *jwt);

#endif
