/* openapi.c: OpenAPI 3.1 for GPT Actions from the tool registry and the routes that call tools, and the legacy plugin manifest. */
#include "autoconf.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http.h"
#include "openapi.h"
#include "router.h"
#include "text.h"
#include "tool.h"
#include "util.h"

/* GPT Actions cut operation descriptions longer than this. */
#define OPENAPI_DESCRIPTION_MAX	300

static const struct {
	const char	*status;
	const char	*name;
	const char	*description;
} openapi_errors[] = {
	{ "400", "BadRequest", "Invalid argument: the message and field say "
	    "what is wrong and what is allowed." },
	{ "401", "Unauthorized", "Sign-in required: the tool acts for an "
	    "AniList user and no valid access token was sent." },
	{ "404", "NotFound", "Nothing on AniList matches." },
	{ "429", "TooManyRequests", "Rate limited; retry after the "
	    "Retry-After seconds." },
	{ "502", "BadGateway", "AniList answered with an error." },
	{ "503", "ServiceUnavailable", "AniList or a dependency is "
	    "unavailable; retry later." },
	{ "504", "GatewayTimeout", "AniList did not answer in time." },
};

static struct json_object *
openapi_str(const char *s)
{
	return (json_object_new_string(s));
}

/* Add key: public_url + path. */
static void
openapi_url(struct json_object *o, const char *key, const char *public_url,
    const char *path)
{
	char	*url;

	xasprintf(&url, "%s%s", public_url, path);
	json_object_object_add(o, key, openapi_str(url));
	free(url);
}

/* {"$ref": "#/components/<kind>/<name>"} */
static struct json_object *
openapi_ref(const char *kind, const char *name)
{
	struct json_object	*o = json_object_new_object();
	char			*ref;

	xasprintf(&ref, "#/components/%s/%s", kind, name);
	json_object_object_add(o, "$ref", openapi_str(ref));
	free(ref);
	return (o);
}

/* The error body of every route: {"error":{"code","message","field"}}. */
static struct json_object *
openapi_error_body(void)
{
	struct json_object	*schema, *err, *props, *req;

	props = json_object_new_object();
	json_object_object_add(props, "code", json_tokener_parse(
	    "{\"type\":\"string\",\"description\":\"machine-readable, "
	    "e.g. invalid_argument\"}"));
	json_object_object_add(props, "message", json_tokener_parse(
	    "{\"type\":\"string\",\"description\":\"for a person or a "
	    "model\"}"));
	json_object_object_add(props, "field", json_tokener_parse(
	    "{\"type\":\"string\",\"description\":\"the argument at "
	    "fault\"}"));
	req = json_object_new_array();
	json_object_array_add(req, openapi_str("code"));
	json_object_array_add(req, openapi_str("message"));
	err = json_object_new_object();
	json_object_object_add(err, "type", openapi_str("object"));
	json_object_object_add(err, "required", req);
	json_object_object_add(err, "properties", props);

	props = json_object_new_object();
	json_object_object_add(props, "error", err);
	req = json_object_new_array();
	json_object_array_add(req, openapi_str("error"));
	schema = json_object_new_object();
	json_object_object_add(schema, "type", openapi_str("object"));
	json_object_object_add(schema, "required", req);
	json_object_object_add(schema, "properties", props);
	return (schema);
}

static struct json_object *
openapi_json_content(struct json_object *schema)
{
	struct json_object	*c, *mt;

	mt = json_object_new_object();
	json_object_object_add(mt, "schema", schema);
	c = json_object_new_object();
	json_object_object_add(c, "application/json", mt);
	return (c);
}

static struct json_object *
openapi_components(const char *public_url)
{
	struct json_object	*comp, *schemas, *responses, *r, *sec, *oauth;
	struct json_object	*flows, *code, *h, *hs;
	size_t			 i;

	schemas = json_object_new_object();
	json_object_object_add(schemas, "Error", openapi_error_body());

	responses = json_object_new_object();
	for (i = 0; i < nitems(openapi_errors); i++) {
		r = json_object_new_object();
		json_object_object_add(r, "description",
		    openapi_str(openapi_errors[i].description));
		json_object_object_add(r, "content", openapi_json_content(
		    openapi_ref("schemas", "Error")));
		if (strcmp(openapi_errors[i].status, "429") == 0) {
			h = json_object_new_object();
			json_object_object_add(h, "description",
			    openapi_str("seconds to wait"));
			json_object_object_add(h, "schema",
			    json_tokener_parse("{\"type\":\"integer\"}"));
			hs = json_object_new_object();
			json_object_object_add(hs, "Retry-After", h);
			json_object_object_add(r, "headers", hs);
		}
		if (strcmp(openapi_errors[i].status, "401") == 0) {
			h = json_object_new_object();
			json_object_object_add(h, "description", openapi_str(
			    "Bearer challenge with resource_metadata"));
			json_object_object_add(h, "schema",
			    json_tokener_parse("{\"type\":\"string\"}"));
			hs = json_object_new_object();
			json_object_object_add(hs, "WWW-Authenticate", h);
			json_object_object_add(r, "headers", hs);
		}
		json_object_object_add(responses, openapi_errors[i].name, r);
	}

	code = json_object_new_object();
	openapi_url(code, "authorizationUrl", public_url, "/oauth/authorize");
	openapi_url(code, "tokenUrl", public_url, "/oauth/token");
	json_object_object_add(code, "scopes", json_object_new_object());
	flows = json_object_new_object();
	json_object_object_add(flows, "authorizationCode", code);
	oauth = json_object_new_object();
	json_object_object_add(oauth, "type", openapi_str("oauth2"));
	json_object_object_add(oauth, "description", openapi_str(
	    "Sign in with your AniList account (authorization code with "
	    "PKCE, S256)."));
	json_object_object_add(oauth, "flows", flows);
	sec = json_object_new_object();
	json_object_object_add(sec, OPENAPI_OAUTH_SCHEME, oauth);

	comp = json_object_new_object();
	json_object_object_add(comp, "schemas", schemas);
	json_object_object_add(comp, "responses", responses);
	json_object_object_add(comp, "securitySchemes", sec);
	return (comp);
}

static bool
openapi_required(const struct json_object *schema, const char *name)
{
	struct json_object	*req;
	size_t			 i;

	if (!json_object_object_get_ex(schema, "required", &req) ||
	    !json_object_is_type(req, json_type_array))
		return (false);
	for (i = 0; i < json_object_array_length(req); i++) {
		if (strcmp(json_object_get_string(
		    json_object_array_get_idx(req, i)), name) == 0)
			return (true);
	}
	return (false);
}

static bool
openapi_is_array(struct json_object *schema)
{
	struct json_object	*type;

	return (json_object_object_get_ex(schema, "type", &type) &&
	    json_object_is_type(type, json_type_string) &&
	    strcmp(json_object_get_string(type), "array") == 0);
}

/*
 * Parameters (path, and query unless the body carries them) and the
 * request body, from the input schema. An argument that a route of the
 * same tool captures in its path is taken from paths only (handlers/api.c).
 */
static void
openapi_inputs(const struct route *table, size_t n, router_fn tool_fn,
    const struct route *r, const struct tool *t, struct json_object *op)
{
	struct json_object		*in = tool_input_schema_public(t);
	struct json_object		*props, *params, *p, *desc, *body;
	struct json_object		*bprops, *breq, *bschema, *rb;
	bool				 path, has_body;

	params = json_object_new_array();
	has_body = http_method_has_body(r->method);
	bprops = json_object_new_object();
	breq = json_object_new_array();
	if (json_object_object_get_ex(in, "properties", &props)) {
		json_object_object_foreach(props, name, schema) {
			path = router_pattern_captures(r->pattern, name);
			if (!path && router_capturing(table, n, tool_fn,
			    t->name, name) != NULL)
				continue;
			if (!path && has_body) {
				json_object_object_add(bprops, name,
				    tool_schema_copy(schema));
				if (openapi_required(in, name))
					json_object_array_add(breq,
					    openapi_str(name));
				continue;
			}
			p = json_object_new_object();
			json_object_object_add(p, "name", openapi_str(name));
			json_object_object_add(p, "in",
			    openapi_str(path ? "path" : "query"));
			if (json_object_object_get_ex(schema, "description",
			    &desc))
				json_object_object_add(p, "description",
				    json_object_get(desc));
			json_object_object_add(p, "required",
			    json_object_new_boolean(path ||
			    openapi_required(in, name)));
			if (openapi_is_array(schema)) {
				json_object_object_add(p, "style",
				    openapi_str("form"));
				json_object_object_add(p, "explode",
				    json_object_new_boolean(true));
			}
			json_object_object_add(p, "schema",
			    tool_schema_copy(schema));
			json_object_array_add(params, p);
		}
	}
	if (json_object_array_length(params) > 0)
		json_object_object_add(op, "parameters", params);
	else
		json_object_put(params);
	json_object_put(in);
	if (!has_body) {
		json_object_put(bprops);
		json_object_put(breq);
		return;
	}
	bschema = json_object_new_object();
	json_object_object_add(bschema, "type", openapi_str("object"));
	json_object_object_add(bschema, "properties", bprops);
	if (json_object_array_length(breq) > 0)
		json_object_object_add(bschema, "required", breq);
	else
		json_object_put(breq);
	body = openapi_json_content(bschema);
	rb = json_object_new_object();
	json_object_object_add(rb, "required", json_object_new_boolean(true));
	json_object_object_add(rb, "content", body);
	json_object_object_add(op, "requestBody", rb);
}

/* A unique operationId: the tool's name, else qualified by the route. */
static char *
openapi_operation_id(const struct route *r, const struct tool *t,
    struct json_object *used)
{
	const char	*p;
	char		*id, *base;
	size_t		 n, len;
	int		 i;

	id = xstrdup(t->name);
	if (json_object_object_get_ex(used, id, NULL)) {
		free(id);
		if ((p = strchr(r->pattern, '{')) != NULL) {
			len = strcspn(p + 1, "}");
			xasprintf(&id, "%s_by_%.*s", t->name, (int)len, p + 1);
		} else {
			xasprintf(&id, "%s_%s", t->name, r->method);
			for (n = strlen(t->name) + 1; id[n] != '\0'; n++)
				id[n] = (char)tolower((unsigned char)id[n]);
		}
		base = xstrdup(id);
		for (i = 2; json_object_object_get_ex(used, id, NULL); i++) {
			free(id);
			xasprintf(&id, "%s_%d", base, i);
		}
		free(base);
	}
	json_object_object_add(used, id, NULL);
	return (id);
}

static struct json_object *
openapi_security(const struct tool *t)
{
	struct json_object	*a, *req;

	a = json_object_new_array();
	if (t->auth == TOOL_AUTH_OPTIONAL)
		json_object_array_add(a, json_object_new_object());
	req = json_object_new_object();
	json_object_object_add(req, OPENAPI_OAUTH_SCHEME,
	    json_object_new_array());
	json_object_array_add(a, req);
	return (a);
}

static struct json_object *
openapi_operation(const struct route *table, size_t n, router_fn tool_fn,
    const struct route *r, const struct tool *t, struct json_object *used)
{
	struct json_object	*op, *responses, *ok;
	char			*id, *desc;
	size_t			 i;

	op = json_object_new_object();
	id = openapi_operation_id(r, t, used);
	json_object_object_add(op, "operationId", openapi_str(id));
	free(id);
	json_object_object_add(op, "summary", openapi_str(t->title));
	desc = text_truncate(t->description, OPENAPI_DESCRIPTION_MAX - 3);
	json_object_object_add(op, "description", openapi_str(desc));
	free(desc);
	openapi_inputs(table, n, tool_fn, r, t, op);

	responses = json_object_new_object();
	ok = json_object_new_object();
	json_object_object_add(ok, "description", openapi_str(t->title));
	json_object_object_add(ok, "content", openapi_json_content(
	    tool_schema_copy(tool_output_schema(t))));
	json_object_object_add(responses, "200", ok);
	for (i = 0; i < nitems(openapi_errors); i++) {
		if (strcmp(openapi_errors[i].status, "401") == 0 &&
		    t->auth == TOOL_AUTH_NONE)
			continue;
		json_object_object_add(responses, openapi_errors[i].status,
		    openapi_ref("responses",
		    openapi_errors[i].name));
	}
	json_object_object_add(op, "responses", responses);
	if (t->auth != TOOL_AUTH_NONE)
		json_object_object_add(op, "security", openapi_security(t));
	json_object_object_add(op, "x-openai-isConsequential",
	    json_object_new_boolean(!t->annotations.read_only));
	return (op);
}

struct json_object *
openapi_document(const struct route *table, size_t n, router_fn tool_fn,
    const char *public_url)
{
	struct json_object	*doc, *info, *servers, *server, *paths;
	struct json_object	*item, *used;
	const struct tool	*t;
	char			 method[16];
	size_t			 i, j;

	used = json_object_new_object();
	paths = json_object_new_object();
	for (i = 0; i < n; i++) {
		if (table[i].fn != tool_fn || table[i].arg == NULL ||
		    (t = tool_find(table[i].arg)) == NULL)
			continue;
		if (!json_object_object_get_ex(paths, table[i].pattern,
		    &item)) {
			item = json_object_new_object();
			json_object_object_add(paths, table[i].pattern, item);
		}
		for (j = 0; table[i].method[j] != '\0' &&
		    j < sizeof method - 1; j++)
			method[j] = (char)tolower(
			    (unsigned char)table[i].method[j]);
		method[j] = '\0';
		json_object_object_add(item, method,
		    openapi_operation(table, n, tool_fn, &table[i], t,
		    used));
	}
	json_object_put(used);

	info = json_object_new_object();
	json_object_object_add(info, "title",
	    openapi_str(PACKAGE_DISPLAY_NAME));
	json_object_object_add(info, "description", openapi_str(
	    "Anime discovery on top of the AniList API: search, details, "
	    "trending and seasonal anime, characters, airing schedules and, "
	    "when signed in, your own AniList list. This is an unofficial "
	    "third-party app, not made or endorsed by AniList."));
	json_object_object_add(info, "version", openapi_str(PACKAGE_VERSION));
	server = json_object_new_object();
	json_object_object_add(server, "url", openapi_str(public_url));
	servers = json_object_new_array();
	json_object_array_add(servers, server);

	doc = json_object_new_object();
	json_object_object_add(doc, "openapi", openapi_str("3.1.0"));
	json_object_object_add(doc, "info", info);
	json_object_object_add(doc, "servers", servers);
	json_object_object_add(doc, "paths", paths);
	json_object_object_add(doc, "components",
	    openapi_components(public_url));
	return (doc);
}

struct json_object *
openapi_plugin_manifest(const char *public_url)
{
	struct json_object	*m, *auth, *api;

	auth = json_object_new_object();
	json_object_object_add(auth, "type", openapi_str("oauth"));
	openapi_url(auth, "client_url", public_url, "/oauth/authorize");
	openapi_url(auth, "authorization_url", public_url, "/oauth/token");
	json_object_object_add(auth, "authorization_content_type",
	    openapi_str("application/x-www-form-urlencoded"));
	json_object_object_add(auth, "scope", openapi_str(""));

	api = json_object_new_object();
	json_object_object_add(api, "type", openapi_str("openapi"));
	openapi_url(api, "url", public_url, "/openapi.json");

	m = json_object_new_object();
	json_object_object_add(m, "schema_version", openapi_str("v1"));
	json_object_object_add(m, "name_for_human",
	    openapi_str("AniList (unofficial)"));
	json_object_object_add(m, "name_for_model",
	    openapi_str("anilist_anime"));
	json_object_object_add(m, "description_for_human", openapi_str(
	    "Find anime on AniList and keep your list. Unofficial, not made "
	    "by AniList."));
	json_object_object_add(m, "description_for_model", openapi_str(
	    "Unofficial AniList app. Search anime, get one title's details, "
	    "trending and seasonal anime, characters and airing schedules; "
	    "with the user's sign-in, read and update their AniList list. "
	    "Data comes from AniList; mention it as the source."));
	json_object_object_add(m, "auth", auth);
	json_object_object_add(m, "api", api);
	openapi_url(m, "logo_url", public_url, "/logo.svg");
	openapi_url(m, "legal_info_url", public_url, "/privacy");
	return (m);
}
