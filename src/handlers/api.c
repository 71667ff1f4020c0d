/* handlers/api.c: REST routes that call a tool with arguments from the query string and path. */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "auth.h"
#include "handlers.h"
#include "http.h"
#include "text.h"
#include "tool.h"
#include "util.h"

/* How much of a bad value an error message repeats. */
#define API_ECHO_MAX	40

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

static void __attribute__((format(printf, 3, 4)))
api_invalid(struct tool_error *err, const char *field, const char *fmt, ...)
{
	va_list	ap;

	tool_error_clear(err);
	err->status = 400;
	err->code = "invalid_argument";
	err->field = xstrdup(field);
	va_start(ap, fmt);
	if (vasprintf(&err->message, fmt, ap) < 0)
		err->message = xstrdup("invalid argument");
	va_end(ap);
}

/* One text value as the JSON type the schema asks for, or NULL with err. */
static bool
api_convert(const char *type, const char *name, const char *text,
    struct json_object **out, struct tool_error *err)
{
	long long	 n;
	double		 d;
	char		*end;
	int		 echo = (int)text_utf8_prefix(text, API_ECHO_MAX);
	const char	*more = (size_t)echo < strlen(text) ? "\xe2\x80\xa6" : "";

	*out = NULL;
	if (strcmp(type, "integer") == 0) {
		if (!util_parse_ll(text, &n)) {
			api_invalid(err, name, "%s must be a whole number; got "
			    "\"%.*s%s\"", name, echo, text, more);
			return (false);
		}
		*out = json_object_new_int64(n);
	} else if (strcmp(type, "number") == 0) {
		errno = 0;
		d = strtod(text, &end);
		if (*text == '\0' || *end != '\0' || errno != 0 ||
		    !isfinite(d)) {
			api_invalid(err, name, "%s must be a number; got "
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
			api_invalid(err, name, "%s must be true or false; got "
			    "\"%.*s%s\"", name, echo, text, more);
			return (false);
		}
	} else
		*out = json_object_new_string(text);
	return (true);
}

/*
 * Add one parameter to args. Arrays take repeated keys and
 * comma-separated values; anything else may be given once.
 */
static bool
api_put(struct json_object *args, const struct json_object *props,
    const char *key, const char *value, struct tool_error *err)
{
	struct json_object	*ps, *items, *arr, *v;
	struct buf		 names;
	char			*name, *copy, *p, *piece;
	size_t			 len = strlen(key);
	bool			 brackets, ok = false;

	brackets = len > 2 && strcmp(key + len - 2, "[]") == 0;
	name = xstrndup(key, brackets ? len - 2 : len);
	if (!json_object_object_get_ex(props, name, &ps)) {
		buf_init(&names);
		json_object_object_foreach((struct json_object *)props, k, s) {
			(void)s;
			buf_printf(&names, "%s%s", names.len > 0 ? ", " : "",
			    k);
		}
		if (names.len == 0)
			api_invalid(err, name, "unknown parameter \"%s\": this "
			    "endpoint takes none", name);
		else
			api_invalid(err, name, "unknown parameter \"%s\"; "
			    "this endpoint takes: %s", name, names.data);
		buf_free(&names);
		goto out;
	}
	if (strcmp(api_type(ps), "array") != 0) {
		if (brackets || json_object_object_get_ex(args, name, NULL)) {
			api_invalid(err, name, "%s takes one value; it was given "
			    "more than once", name);
			goto out;
		}
		if (!api_convert(api_type(ps), name, value, &v, err))
			goto out;
		json_object_object_add(args, name, v);
		ok = true;
		goto out;
	}
	if (!json_object_object_get_ex(args, name, &arr)) {
		arr = json_object_new_array();
		json_object_object_add(args, name, arr);
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
		    name, piece, &v, err)) {
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

/* The arguments object of a request: path captures, then the query. */
static struct json_object *
api_arguments(const struct tool *t, const struct http_req *req,
    struct tool_error *err)
{
	const struct json_object	*schema = tool_input_schema(t);
	struct json_object		*props, *args;
	size_t				 i;

	if (schema == NULL || !json_object_object_get_ex(schema, "properties",
	    &props))
		return (NULL);
	args = json_object_new_object();
	for (i = 0; i < req->npath_args; i++) {
		if (!api_put(args, props, req->path_names[i],
		    req->path_args[i], err))
			goto fail;
	}
	for (i = 0; i < req->nquery; i++) {
		if (!api_put(args, props, req->query[i].key,
		    req->query[i].value, err))
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
	http_resp_error(resp, err->status, err->code, err->field, "%s",
	    err->message);
	if (err->retry_after > 0)
		http_resp_header(resp, "Retry-After", "%d", err->retry_after);
	if (err->status == 401)
		http_resp_header(resp, "WWW-Authenticate", "Bearer");
}

/*
 * Who calls a tool that can use a user: req->auth when the pipeline set
 * it, else the request's own credentials (a bearer token or the session
 * cookie) checked by the accounts layer. Without credentials the call is
 * anonymous; bad ones are refused (the 401/403/503 is written, false).
 */
static bool
api_caller(const struct tool *t, struct http_req *req, struct http_resp *resp,
    struct auth_principal *p, struct tool_auth *ta,
    const struct tool_auth **out)
{
	const char	*cookie = http_req_header(req, "Cookie");
	char		*session = NULL;
	bool		 has;

	*out = req->auth;
	if (t->auth == TOOL_AUTH_NONE || req->auth != NULL)
		return (true);
	if (cookie != NULL)
		session = auth_cookie_value(cookie, AUTH_SESSION_COOKIE);
	has = http_req_header(req, "Authorization") != NULL ||
	    (session != NULL && *session != '\0');
	free(session);
	if (!has)
		return (true);
	if (!auth_require(req, resp, p))
		return (false);
	ta->user_id = p->user_id;
	ta->anilist_token = p->anilist_token;
	ta->anilist_id = p->anilist_id;
	ta->anilist_name = p->name;
	ta->scope = p->scope;
	*out = ta;
	return (true);
}

/* arg: the tool's name. */
HANDLER(handle_tool)
{
	const struct tool	*t = tool_find(arg);
	const struct tool_auth	*auth;
	struct tool_auth	 ta;
	struct auth_principal	 principal;
	struct json_object	*args, *result;
	struct tool_error	 err = { 0 };
	struct tool_call	 call;

	if (t == NULL || tool_input_schema(t) == NULL) {
		req->log_error = "tool_missing";
		http_resp_error(resp, 500, "internal_error", NULL,
		    "this route's tool is not available");
		return;
	}
	req->log_tool = t->name;
	if ((args = api_arguments(t, req, &err)) == NULL) {
		req->log_error = "invalid_argument";
		api_error(resp, &err);
		tool_error_clear(&err);
		return;
	}
	memset(&ta, 0, sizeof ta);
	memset(&principal, 0, sizeof principal);
	if (!api_caller(t, req, resp, &principal, &ta, &auth)) {
		json_object_put(args);
		return;
	}
	result = tool_invoke(t, args, auth, &call);
	auth_principal_free(&principal);
	req->log_cache = call.cache;
	req->log_upstream_ms = call.upstream_ms;
	if (result == NULL) {
		req->log_error = call.error.code;
		api_error(resp, &call.error);
	} else
		http_resp_json(resp, 200, result);
	tool_call_free(&call);
	json_object_put(args);
}
