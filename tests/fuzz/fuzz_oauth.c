/* fuzz_oauth.c: fuzz target: the authorization server's parameter checks (redirect URIs and their matching, client names, scopes, PKCE, form bodies, registration metadata). */
#include "autoconf.h"

#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "crypto.h"
#include "fuzz.h"
#include "http.h"
#include "jsonbody.h"
#include "oauth_server.h"
#include "util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return (0);
}

/* Checks on one string: each answers, and what passes is sane. */
static void
fuzz_oauth_string(const char *s)
{
	char	*why = NULL;
	bool	 valid;

	valid = oauth_redirect_uri_valid(s, &why);
	fuzz_assert(valid == (why == NULL));
	free(why);
	if (valid) {
		fuzz_assert(oauth_redirect_matches(s, s));
		fuzz_assert(strchr(s, '#') == NULL);
		fuzz_assert(strncasecmp(s, "http", 4) == 0);
	}
	if (oauth_client_name_valid(s)) {
		fuzz_assert(util_utf8_valid(s, strlen(s)));
		fuzz_assert(strlen(s) >= 1 && strlen(s) <= 200);
		fuzz_assert(strstr(s, "\xe2\x80\xae") == NULL);
	}
	(void)oauth_scope_valid(s);
	if (crypto_pkce_challenge_valid(s))
		fuzz_assert(strlen(s) == 43);
	if (crypto_pkce_verifier_valid(s))
		fuzz_assert(strlen(s) >= 43 && strlen(s) <= 128);
}

/*
 * The input, split at its first newline: a string every check sees (and
 * a redirect URI matched against the rest), and a body parsed both as a
 * form (the token endpoint's) and as registration metadata (400 or, with
 * no database, 503: never a crash, never another status).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*meta, *out = NULL;
	struct http_param	*params = NULL;
	const char		*text = (const char *)data, *why, *nl;
	char			*first, *rest, *cause = NULL, *error = NULL;
	char			*desc = NULL;
	size_t			 n = 0, i;
	int			 status;

	nl = memchr(text, '\n', size);
	first = fuzz_string(data, nl != NULL ? (size_t)(nl - text) : size);
	rest = nl != NULL ? fuzz_string((const uint8_t *)nl + 1,
	    size - (size_t)(nl - text) - 1) : xstrdup("");
	fuzz_oauth_string(first);
	fuzz_oauth_string(rest);
	if (oauth_redirect_matches(first, rest))
		fuzz_assert(oauth_redirect_matches(rest, first));

	if (http_parse_query(rest, &params, &n, &cause) == 0) {
		for (i = 0; i < n; i++) {
			fuzz_assert(params[i].key != NULL);
			fuzz_assert(params[i].value != NULL);
			fuzz_oauth_string(params[i].value);
		}
		http_params_free(params, n);
	} else
		fuzz_assert(cause != NULL);
	free(cause);

	if ((meta = jsonbody_parse(rest, strlen(rest), 8, &why)) != NULL) {
		status = oauth_register(meta, NULL, &out, &error, &desc);
		fuzz_assert(status == 400 || status == 503);
		if (status == 400)
			fuzz_assert(error != NULL && desc != NULL);
		fuzz_assert(out == NULL);
		json_object_put(meta);
	}
	free(error);
	free(desc);
	free(first);
	free(rest);
	return (0);
}
