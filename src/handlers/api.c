/* handlers/api.c: REST routes that call a tool: who calls, and arguments from the path, the query string or a JSON body. */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "auth.h"
#include "handlers.h"
#include "http.h"
#include "jsonbody.h"
#include "rawjson.h"
#include "router.h"
#include "text.h"
#include "tool.h"
#include "util.h"

/* Nesting a JSON body may have (arguments are flat, arrays of scalars). */
#define API_BODY_DEPTH	8

/* The first "type" of a property schema ("integer", "array" …). */
static const char *
api_type(const struct json_object *schema)
{
	struct json_object	*type;

	if (!json_object_object_get_ex(schema, "type", &type))
		return ("string");
	if (json_object_is_type(type, json_type_array))
		type = json_object_array_get_idx(type, 0);
	return (json_object_get_string(type));
}

/* One text value as the JSON type the schema asks for, or NULL with err. */
static bool
api_convert(const char *type, const char *name, const char *text,
    struct json_object **out, struct tool_error *err)
{
	long long	 n;
	double		 d;
	char		*end;
	int		 echo = (int)text_utf8_prefix(text, TOOL_ECHO_MAX);
	const char	*more = (size_t)echo < strlen(text) ? "\xe2\x80\xa6" : "";

	*out = NULL;
	if (strcmp(type, "integer") == 0) {
		if (!util_parse_ll(text, &n)) {
			tool_invalid(err, name, "%s must be a whole number; "
			    "got \"%.*s%s\"", name, echo, text, more);
			return (false);
		}
		*out = json_object_new_int64(n);
	} else if (strcmp(type, "number") == 0) {
		errno = 0;
		d = strtod(text, &end);
		if (*text == '\0' || *end != '\0' || errno != 0 ||
		    !isfinite(d)) {
			tool_invalid(err, name, "%s must be a number; got "
			    "\"%.*s%s\"", name, echo, text, more);
			return (false);
		}
		*out = json_object_new_double(d);
	} else if (strcmp(type, "boolean") == 0) {
		if (*text == '\0' || strcasecmp(text, "true") == 0 ||
		    strcmp(text, "1") == 0)
			*out = json_object_new_boolean(true);
		else if (strcasecmp(text, "false") == 0 ||
		    strcmp(text, "0") == 0)
			*out = json_object_new_boolean(false);
		else {
			tool_invalid(err, name, "%s must be true or false; got "
			    "\"%.*s%s\"", name, echo, text, more);
			return (false);
		}
	} else
		*out = json_object_new_string(text);
	return (true);
}

/*
 * Where a route of tool t puts name in its path, or NULL. Such an argument
 * is taken from paths only: /v1/me/list never reads user_name from its
 * query string, which /v1/users/{user_name}/list carries in its path.
 */
static const char *
api_path_only(const struct tool *t, const char *name)
{
	return (router_capturing(routes, routes_count, handle_tool, t->name,
	    name));
}

/* err: name is not an argument of this endpoint; say which ones are. */
static void
api_unknown(const struct tool *t, const struct json_object *props,
    const char *name, const char *where, struct tool_error *err)
{
	struct buf	 names;
	const char	*pattern;

	if ((pattern = api_path_only(t, name)) != NULL) {
		tool_invalid(err, name, "%s is not taken from the %s here; it "
		    "is part of the path %s", name, where, pattern);
		return;
	}
	buf_init(&names);
	json_object_object_foreach((struct json_object *)props, k, s) {
		(void)s;
		if (api_path_only(t, k) != NULL)
			continue;
		buf_printf(&names, "%s%s", names.len > 0 ? ", " : "", k);
	}
	if (names.len == 0)
		tool_invalid(err, name, "unknown parameter \"%s\": this "
		    "endpoint takes none", name);
	else
		tool_invalid(err, name, "unknown parameter \"%s\"; this "
		    "endpoint takes: %s", name, names.data);
	buf_free(&names);
}

/* What every api_put of one request shares (borrowed). */
struct api_put_in {
	const struct tool		*tool;
	const struct json_object	*props;	/* of the input schema */
	struct json_object		*args;	/* being built */
	struct tool_error		*err;
};

/*
 * Add one text parameter (a path capture, or a query parameter when
 * from_path is false) to in->args. Arrays take repeated keys and
 * comma-separated values; anything else may be given once.
 */
static bool
api_put(const struct api_put_in *in, const char *key, const char *value,
    bool from_path)
{
	struct json_object	*ps, *items, *arr, *v;
	char			*name, *copy, *p, *piece;
	size_t			 len = strlen(key);
	bool			 brackets, ok = false;

	brackets = len > 2 && strcmp(key + len - 2, "[]") == 0;
	name = xstrndup(key, brackets ? len - 2 : len);
	if (!json_object_object_get_ex(in->props, name, &ps) ||
	    (!from_path && api_path_only(in->tool, name) != NULL)) {
		api_unknown(in->tool, in->props, name, "query string", in->err);
		goto out;
	}
	if (strcmp(api_type(ps), "array") != 0) {
		if (brackets ||
		    json_object_object_get_ex(in->args, name, NULL)) {
			tool_invalid(in->err, name, "%s takes one value; it "
			    "was given more than once", name);
			goto out;
		}
		if (!api_convert(api_type(ps), name, value, &v, in->err))
			goto out;
		json_object_object_add(in->args, name, v);
		ok = true;
		goto out;
	}
	if (!json_object_object_get_ex(in->args, name, &arr)) {
		arr = json_object_new_array();
		json_object_object_add(in->args, name, arr);
	}
	if (!json_object_object_get_ex(ps, "items", &items))
		items = NULL;
	copy = xstrdup(value);
	for (p = copy; (piece = strsep(&p, ",")) != NULL;) {
		while (*piece == ' ')
			piece++;
		len = strlen(piece);
		while (len > 0 && piece[len - 1] == ' ')
			piece[--len] = '\0';
		if (*piece == '\0')
			continue;
		if (!api_convert(items != NULL ? api_type(items) : "string",
		    name, piece, &v, in->err)) {
			free(copy);
			goto out;
		}
		json_object_array_add(arr, v);
	}
	free(copy);
	ok = true;
out:
	free(name);
	return (ok);
}

/*
 * The fields of a JSON object body, as they are: the tool's schema checks
 * their types, exactly as for MCP tools/call arguments. An empty body is
 * no arguments.
 */
static bool
api_body(const struct tool *t, const struct http_req *req,
    const struct json_object *props, struct json_object *args,
    struct tool_error *err)
{
	struct json_object	*body, *v;
	const char		*why;
	bool			 ok = false;

	if (req->body == NULL || req->body_len == 0)
		return (true);
	if (http_req_header(req, "Content-Type") != NULL &&
	    !http_req_is_json(req)) {
		tool_error_clear(err);
		err->status = 415;
		err->code = "unsupported_media_type";
		err->message = xstrdup("send the arguments as a JSON object "
		    "(Content-Type: application/json)");
		return (false);
	}
	if ((body = jsonbody_parse(req->body, req->body_len, API_BODY_DEPTH,
	    &why)) == NULL) {
		tool_invalid(err, NULL, "the body is not one JSON object: %s",
		    why);
		goto out;
	}
	if (!json_object_is_type(body, json_type_object)) {
		tool_invalid(err, NULL, "the body must be a JSON object of "
		    "arguments, like {\"status\":\"CURRENT\"}");
		goto out;
	}
	json_object_object_foreach(body, key, value) {
		if (!json_object_object_get_ex(props, key, NULL) ||
		    api_path_only(t, key) != NULL) {
			api_unknown(t, props, key, "body", err);
			goto out;
		}
		v = NULL;
		if (value != NULL && json_object_deep_copy(value, &v,
		    NULL) != 0)
			abort();
		json_object_object_add(args, key, v);
	}
	ok = true;
out:
	json_object_put(body);
	return (ok);
}

/*
 * The arguments object of a request: path captures, then the query string
 * (GET, DELETE) or the JSON body (POST, PUT, PATCH, which take no query
 * parameters).
 */
static struct json_object *
api_arguments(const struct tool *t, const struct http_req *req,
    struct tool_error *err)
{
	const struct json_object	*schema = tool_input_schema(t);
	struct json_object		*props, *args;
	struct api_put_in		 in;
	size_t				 i;

	if (schema == NULL || !json_object_object_get_ex(schema, "properties",
	    &props))
		return (NULL);
	args = json_object_new_object();
	in = (struct api_put_in){ .tool = t, .props = props, .args = args,
	    .err = err };
	for (i = 0; i < req->npath_args; i++) {
		if (!api_put(&in, req->path_names[i], req->path_args[i], true))
			goto fail;
	}
	if (http_method_has_body(req->method)) {
		if (req->nquery > 0) {
			tool_invalid(err, req->query[0].key, "%s takes its "
			    "arguments in a JSON body, not in the query "
			    "string", req->method);
			goto fail;
		}
		if (!api_body(t, req, props, args, err))
			goto fail;
		return (args);
	}
	for (i = 0; i < req->nquery; i++) {
		if (!api_put(&in, req->query[i].key, req->query[i].value,
		    false))
			goto fail;
	}
	return (args);
fail:
	json_object_put(args);
	return (NULL);
}

static void
api_error(struct http_resp *resp, const struct tool_error *err)
{
	char	*challenge;

	http_resp_error(resp, err->status, err->code, err->field, "%s",
	    err->message);
	if (err->retry_after > 0)
		http_resp_header(resp, "Retry-After", "%d", err->retry_after);
	if (err->status == 401) {
		challenge = auth_challenge_value(err->code != NULL &&
		    strcmp(err->code, "token_rejected") == 0 ?
		    "invalid_token" : NULL);
		http_resp_header(resp, "WWW-Authenticate", "%s", challenge);
		free(challenge);
	}
}

/* arg: the tool's name. */
void
handle_tool(struct http_req *req, struct http_resp *resp, const void *arg)
{
	const struct tool	*t = tool_find(arg);
	struct json_object	*args, *result;
	struct tool_error	 err = { 0 };
	struct tool_call	 call;
	struct auth_principal	 p;
	struct tool_auth	 ta;
	const struct tool_auth	*auth = NULL;
	struct rawjson		*raw;
	const char		*text;
	size_t			 len;

	if (t == NULL || tool_input_schema(t) == NULL) {
		req->log_error = "tool_missing";
		http_resp_error(resp, 500, "internal_error", NULL,
		    "this route's tool is not available");
		return;
	}
	req->log_tool = t->name;
	memset(&p, 0, sizeof p);
	/*
	 * A tool that acts for a user needs to know who calls; one that also
	 * works anonymously runs anonymously when no credentials came (and
	 * then never asks the database).
	 */
	if (t->auth == TOOL_AUTH_REQUIRED || (t->auth == TOOL_AUTH_OPTIONAL &&
	    auth_credentials_present(req))) {
		http_resp_header(resp, "Cache-Control", "private, no-store");
		if (!auth_require(req, resp, &p))
			return;
		auth_principal_tool(&p, &ta);
		auth = &ta;
	}
	if ((args = api_arguments(t, req, &err)) == NULL) {
		req->log_error = "invalid_argument";
		api_error(resp, &err);
		tool_error_clear(&err);
		auth_principal_free(&p);
		return;
	}
	result = tool_invoke(t, args, auth, &call);
	req->log_cache = call.cache;
	req->log_upstream_ms = call.upstream_ms;
	if (result == NULL) {
		req->log_error = call.error.code;
		api_error(resp, &call.error);
	} else if ((raw = rawjson_of(result)) != NULL) {
		text = rawjson_text(raw, &len);
		http_resp_json_text(resp, 200, text, len);
		json_object_put(result);
	} else
		http_resp_json(resp, 200, result);
	tool_call_free(&call);
	json_object_put(args);
	auth_principal_free(&p);
}
