/* openapi.h: the OpenAPI 3.1 document (GPT Actions) and the legacy plugin manifest, generated from the tool registry and the route table. */
#ifndef OPENAPI_H
#define OPENAPI_H

#include <stddef.h>

#include "router.h"

struct json_object;

/* The OAuth2 security scheme's name in components.securitySchemes. */
#define OPENAPI_OAUTH_SCHEME	"anilist_oauth"

/*
 * The OpenAPI 3.1 document of every route in table whose handler is
 * tool_fn (its arg names the tool): one operation per route with a unique
 * operationId, parameters (path and query, or a JSON body for POST/PUT/
 * PATCH) from the tool's input schema, the 200 response from its output
 * schema, the error responses, and the OAuth2 scheme (authorization code
 * with PKCE at public_url/oauth/…) on tools that use a signed-in user.
 * Caller frees.
 */
struct json_object *openapi_document(const struct route *table, size_t n,
	    router_fn tool_fn, const char *public_url);

/* The legacy /.well-known/ai-plugin.json for the same API. Caller frees. */
struct json_object *openapi_plugin_manifest(const char *public_url);

#endif
