/* tool.c: the tool registry, argument validation against each tool's JSON Schema, and invocation. */
#include "autoconf.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "anilist.h"
#include "cache.h"
#include "config.h"
#include "metrics.h"
#include "rescache.h"
#include "text.h"
#include "tool.h"
#include "util.h"

/* Parsed schemas, one pair per registry entry, read-only after init. */
struct tool_schemas {
	struct json_object	*input;
	struct json_object	*output;
};

static pthread_once_t		 tool_once = PTHREAD_ONCE_INIT;
static struct tool_schemas	*tool_parsed;
static bool			 tool_ready;
static char			*tool_init_cause;

void
tool_error_clear(struct tool_error *err)
{
	free(err->message);
	free(err->field);
	memset(err, 0, sizeof *err);
}

static void
tool_error_vset(struct tool_error *err, int status, const char *code,
    const char *field, const char *fmt, va_list ap)
{
	tool_error_clear(err);
	err->status = status;
	err->code = code;
	err->field = field != NULL && *field != '\0' ? xstrdup(field) : NULL;
	xvasprintf(&err->message, fmt, ap);
}

void
tool_invalid(struct tool_error *err, const char *field, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	tool_error_vset(err, 400, "invalid_argument", field, fmt, ap);
	va_end(ap);
}

void
tool_fail(struct tool_call *call, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	tool_error_vset(&call->error, status, code, field, fmt, ap);
	va_end(ap);
}

void
tool_call_init(struct tool_call *call)
{
	memset(call, 0, sizeof *call);
	call->upstream_ms = -1;
}

void
tool_call_free(struct tool_call *call)
{
	tool_error_clear(&call->error);
}

/* Integers without an exponent, other numbers as %g. */
static void
tool_put_number(struct buf *b, double d)
{
	if (d == floor(d) && fabs(d) < 1e15)
		buf_printf(b, "%.0f", d);
	else
		buf_printf(b, "%g", d);
}

/* A short description of a value for messages: `a string ("abc")`. */
static void
tool_describe(struct buf *b, const struct json_object *v)
{
	const char	*s;
	size_t		 len, n;

	switch (json_object_get_type(v)) {
	case json_type_null:
		buf_puts(b, "null");
		break;
	case json_type_boolean:
		buf_puts(b, json_object_get_boolean(v) ? "true" : "false");
		break;
	case json_type_int:
		buf_printf(b, "%lld", (long long)json_object_get_int64(v));
		break;
	case json_type_double:
		tool_put_number(b, json_object_get_double(v));
		break;
	case json_type_string:
		s = json_object_get_string((struct json_object *)v);
		len = (size_t)json_object_get_string_len(v);
		if (!util_utf8_valid(s, len)) {
			buf_puts(b, "a string that is not valid UTF-8");
			break;
		}
		n = text_utf8_prefix(s, TOOL_ECHO_MAX);
		buf_printf(b, "\"%.*s%s\"", (int)n, s,
		    n < len ? "\xe2\x80\xa6" : "");
		break;
	case json_type_array:
		buf_puts(b, "an array");
		break;
	case json_type_object:
		buf_puts(b, "an object");
		break;
	}
}

static bool
tool_type_is(const char *type, const struct json_object *v)
{
	enum json_type	t = json_object_get_type(v);
	double		d;

	if (strcmp(type, "null") == 0)
		return (t == json_type_null);
	if (strcmp(type, "boolean") == 0)
		return (t == json_type_boolean);
	if (strcmp(type, "string") == 0)
		return (t == json_type_string);
	if (strcmp(type, "array") == 0)
		return (t == json_type_array);
	if (strcmp(type, "object") == 0)
		return (t == json_type_object);
	if (t == json_type_int)
		return (strcmp(type, "integer") == 0 ||
		    strcmp(type, "number") == 0);
	if (t != json_type_double)
		return (false);
	d = json_object_get_double(v);
	if (!isfinite(d))
		return (false);
	if (strcmp(type, "number") == 0)
		return (true);
	return (strcmp(type, "integer") == 0 && d == floor(d) &&
	    fabs(d) < 9007199254740992.0);
}

static const char *
tool_type_noun(const char *type)
{
	if (strcmp(type, "integer") == 0)
		return ("an integer");
	if (strcmp(type, "array") == 0)
		return ("an array");
	if (strcmp(type, "object") == 0)
		return ("an object");
	if (strcmp(type, "null") == 0)
		return ("null");
	if (strcmp(type, "boolean") == 0)
		return ("a boolean (true or false)");
	if (strcmp(type, "number") == 0)
		return ("a number");
	return ("a string");
}

/* Does v match the schema's "type" (a name or a list of names)? */
static bool
tool_check_type(const struct json_object *schema, const struct json_object *v,
    const char *field, struct tool_error *err)
{
	const char		*name = *field != '\0' ? field : "arguments";
	struct json_object	*type, *t;
	struct buf		 want, got;
	size_t			 i, n;

	if (!json_object_object_get_ex(schema, "type", &type))
		return (true);
	if (json_object_is_type(type, json_type_string)) {
		if (tool_type_is(json_object_get_string(type), v))
			return (true);
		n = 1;
	} else {
		n = json_object_array_length(type);
		for (i = 0; i < n; i++) {
			t = json_object_array_get_idx(type, i);
			if (tool_type_is(json_object_get_string(t), v))
				return (true);
		}
	}
	buf_init(&want);
	buf_init(&got);
	for (i = 0; i < n; i++) {
		t = json_object_is_type(type, json_type_string) ? type :
		    json_object_array_get_idx(type, i);
		if (i > 0)
			buf_puts(&want, " or ");
		buf_puts(&want, tool_type_noun(json_object_get_string(t)));
	}
	tool_describe(&got, v);
	tool_invalid(err, field, "%s must be %s; got %s", name, want.data,
	    got.data);
	buf_free(&want);
	buf_free(&got);
	return (false);
}

static bool
tool_check_enum(const struct json_object *schema, struct json_object *v,
    const char *field, struct tool_error *err)
{
	const char		*name = *field != '\0' ? field : "arguments";
	struct json_object	*values, *e;
	struct buf		 list, got;
	size_t			 i, n;

	if (!json_object_object_get_ex(schema, "enum", &values))
		return (true);
	n = json_object_array_length(values);
	for (i = 0; i < n; i++) {
		if (json_object_equal(json_object_array_get_idx(values, i), v))
			return (true);
	}
	buf_init(&list);
	buf_init(&got);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(values, i);
		if (i > 0)
			buf_puts(&list, ", ");
		if (json_object_is_type(e, json_type_string))
			buf_puts(&list, json_object_get_string(e));
		else
			tool_describe(&list, e);
	}
	tool_describe(&got, v);
	tool_invalid(err, field, "%s must be one of %s; got %s", name,
	    list.data, got.data);
	buf_free(&list);
	buf_free(&got);
	return (false);
}

long long
tool_this_year(void)
{
	time_t		now = time(NULL);
	struct tm	tm;

	gmtime_r(&now, &tm);
	return ((long long)tm.tm_year + 1900);
}

static bool
tool_check_number(const struct json_object *schema, struct json_object *v,
    const char *field, struct tool_error *err)
{
	const char		*name = *field != '\0' ? field : "arguments";
	struct json_object	*lim;
	double			 d = json_object_get_double(v), bound = 0;
	bool			 has_max = false, ok = true;
	struct buf		 got, want;

	buf_init(&got);
	buf_init(&want);
	if (json_object_object_get_ex(schema, "minimum", &lim) &&
	    d < (bound = json_object_get_double(lim))) {
		tool_describe(&got, v);
		tool_put_number(&want, bound);
		tool_invalid(err, field, "%s must be at least %s; got %s",
		    name, want.data, got.data);
		ok = false;
		goto out;
	}
	if (json_object_object_get_ex(schema, "maximum", &lim)) {
		bound = json_object_get_double(lim);
		has_max = true;
	}
	if (json_object_object_get_ex(schema, "x-maximumYearOffset", &lim)) {
		bound = (double)(tool_this_year() + json_object_get_int64(lim));
		has_max = true;
	}
	if (has_max && d > bound) {
		tool_describe(&got, v);
		tool_put_number(&want, bound);
		tool_invalid(err, field, "%s must be at most %s; got %s",
		    name, want.data, got.data);
		ok = false;
	}
out:
	buf_free(&got);
	buf_free(&want);
	return (ok);
}

static bool
tool_check_string(const struct json_object *schema, struct json_object *v,
    const char *field, struct tool_error *err)
{
	const char		*name = *field != '\0' ? field : "arguments";
	struct json_object	*lim;
	const char		*s = json_object_get_string(v);
	size_t			 len = (size_t)json_object_get_string_len(v);
	long long		 n;

	if (!util_utf8_valid(s, len) || strlen(s) != len) {
		tool_invalid(err, field, "%s is not valid UTF-8 text", name);
		return (false);
	}
	if (json_object_object_get_ex(schema, "minLength", &lim) &&
	    (long long)len < (n = json_object_get_int64(lim))) {
		if (len == 0)
			tool_invalid(err, field, "%s must not be empty",
			    name);
		else
			tool_invalid(err, field, "%s must be at least %lld "
			    "bytes long; got %zu", name, n, len);
		return (false);
	}
	if (json_object_object_get_ex(schema, "maxLength", &lim) &&
	    (long long)len > (n = json_object_get_int64(lim))) {
		tool_invalid(err, field, "%s must be at most %lld bytes "
		    "long; got %zu bytes", name, n, len);
		return (false);
	}
	return (true);
}

static bool	tool_check(const struct json_object *, struct json_object *,
		    const char *, struct tool_error *);

static bool
tool_check_array(const struct json_object *schema, struct json_object *v,
    const char *field, struct tool_error *err)
{
	const char		*name = *field != '\0' ? field : "arguments";
	struct json_object	*lim, *items;
	size_t			 n = json_object_array_length(v), i;
	char			*sub;
	bool			 ok;

	if (json_object_object_get_ex(schema, "minItems", &lim) &&
	    (long long)n < json_object_get_int64(lim)) {
		tool_invalid(err, field, "%s must have at least %lld item%s; "
		    "got %zu", name, (long long)json_object_get_int64(lim),
		    json_object_get_int64(lim) == 1 ? "" : "s", n);
		return (false);
	}
	if (json_object_object_get_ex(schema, "maxItems", &lim) &&
	    (long long)n > json_object_get_int64(lim)) {
		tool_invalid(err, field, "%s may have at most %lld items; "
		    "got %zu", name, (long long)json_object_get_int64(lim), n);
		return (false);
	}
	if (!json_object_object_get_ex(schema, "items", &items))
		return (true);
	for (i = 0; i < n; i++) {
		xasprintf(&sub, "%s[%zu]", field, i);
		ok = tool_check(items, json_object_array_get_idx(v, i), sub,
		    err);
		free(sub);
		if (!ok)
			return (false);
	}
	return (true);
}

static char *
tool_subfield(const char *field, const char *key)
{
	char	*sub;

	if (*field == '\0')
		return (xstrdup(key));
	xasprintf(&sub, "%s.%s", field, key);
	return (sub);
}

/* Does the schema accept null (type "null" or a list with it)? */
static bool
tool_allows_null(const struct json_object *schema)
{
	struct json_object	*type;
	size_t			 i;

	if (!json_object_object_get_ex(schema, "type", &type))
		return (true);
	if (json_object_is_type(type, json_type_string))
		return (strcmp(json_object_get_string(type), "null") == 0);
	for (i = 0; i < json_object_array_length(type); i++) {
		if (tool_type_is(json_object_get_string(
		    json_object_array_get_idx(type, i)), NULL))
			return (true);
	}
	return (false);
}

/*
 * Objects: unknown keys first (with additionalProperties:false), then
 * nulls dropped and defaults filled, then required, then each property in
 * the schema's order. field is "" at the top.
 */
static bool
tool_check_object(const struct json_object *schema, struct json_object *v,
    const char *field, struct tool_error *err)
{
	struct json_object	*props, *extra, *req, *ps, *def, *copy, *pv;
	struct buf		 names;
	const char		*top = *field == '\0' ? "argument" : "property";
	char			*sub, *drop[64];
	size_t			 ndrop = 0, i;
	bool			 ok;

	if (!json_object_object_get_ex(schema, "properties", &props))
		props = NULL;
	if (json_object_object_get_ex(schema, "additionalProperties",
	    &extra) && json_object_is_type(extra, json_type_boolean) &&
	    !json_object_get_boolean(extra)) {
		json_object_object_foreach(v, key, val) {
			(void)val;
			if (props != NULL &&
			    json_object_object_get_ex(props, key, NULL))
				continue;
			buf_init(&names);
			buf_append(&names, "", 0);
			if (props != NULL) {
				json_object_object_foreach(props, k, pval) {
					(void)pval;
					if (names.len > 0)
						buf_puts(&names, ", ");
					buf_puts(&names, k);
				}
			}
			sub = tool_subfield(field, key);
			if (names.len == 0)
				tool_invalid(err, sub, "unknown %s \"%s\": "
				    "this takes none", top, sub);
			else
				tool_invalid(err, sub, "unknown %s \"%s\"; "
				    "expected one of: %s", top, sub,
				    names.data);
			free(sub);
			buf_free(&names);
			return (false);
		}
	}
	if (props != NULL) {
		json_object_object_foreach(v, key, val) {
			if (val == NULL && ndrop < nitems(drop) &&
			    json_object_object_get_ex(props, key, &ps) &&
			    !tool_allows_null(ps))
				drop[ndrop++] = key;
		}
		for (i = 0; i < ndrop; i++)
			json_object_object_del(v, drop[i]);
		json_object_object_foreach(props, pkey, pschema) {
			if (json_object_object_get_ex(v, pkey, NULL) ||
			    !json_object_object_get_ex(pschema, "default",
			    &def))
				continue;
			copy = NULL;
			if (def != NULL && json_object_deep_copy(def, &copy,
			    NULL) != 0)
				abort();
			json_object_object_add(v, pkey, copy);
		}
	}
	if (json_object_object_get_ex(schema, "required", &req)) {
		for (i = 0; i < json_object_array_length(req); i++) {
			const char *name = json_object_get_string(
			    json_object_array_get_idx(req, i));

			if (json_object_object_get_ex(v, name, NULL))
				continue;
			sub = tool_subfield(field, name);
			tool_invalid(err, sub, "%s is required", sub);
			free(sub);
			return (false);
		}
	}
	if (props == NULL)
		return (true);
	json_object_object_foreach(props, name, sub_schema) {
		if (!json_object_object_get_ex(v, name, &pv))
			continue;
		sub = tool_subfield(field, name);
		ok = tool_check(sub_schema, pv, sub, err);
		free(sub);
		if (!ok)
			return (false);
	}
	return (true);
}

static bool
tool_check(const struct json_object *schema, struct json_object *v,
    const char *field, struct tool_error *err)
{
	if (!tool_check_type(schema, v, field, err))
		return (false);
	if (!tool_check_enum(schema, v, field, err))
		return (false);
	switch (json_object_get_type(v)) {
	case json_type_int:
	case json_type_double:
		return (tool_check_number(schema, v, field, err));
	case json_type_string:
		return (tool_check_string(schema, v, field, err));
	case json_type_array:
		return (tool_check_array(schema, v, field, err));
	case json_type_object:
		return (tool_check_object(schema, v, field, err));
	default:
		return (true);
	}
}

bool
tool_validate(const struct json_object *schema, struct json_object *value,
    struct tool_error *err)
{
	return (tool_check(schema, value, "", err));
}

/* A schema error in our own definitions: defaults and enums must fit. */
static bool
tool_schema_sane(const struct tool *t, struct json_object *input, char **cause)
{
	struct json_object	*props, *type, *def, *values, *copy;
	struct tool_error	 err = { 0 };
	size_t			 i;

	if (!json_object_object_get_ex(input, "type", &type) ||
	    strcmp(json_object_get_string(type), "object") != 0 ||
	    !json_object_object_get_ex(input, "properties", &props) ||
	    !json_object_is_type(props, json_type_object)) {
		xasprintf(cause, "tool %s: the input schema must be an "
		    "object schema with properties", t->name);
		return (false);
	}
	json_object_object_foreach(props, name, ps) {
		if (!json_object_is_type(ps, json_type_object) ||
		    !json_object_object_get_ex(ps, "type", NULL)) {
			xasprintf(cause, "tool %s: property %s has no type",
			    t->name, name);
			return (false);
		}
		if (json_object_object_get_ex(ps, "default", &def)) {
			copy = NULL;
			if (def != NULL && json_object_deep_copy(def, &copy,
			    NULL) != 0)
				abort();
			if (!tool_check(ps, copy, name, &err)) {
				xasprintf(cause, "tool %s: default of %s: %s",
				    t->name, name, err.message);
				json_object_put(copy);
				tool_error_clear(&err);
				return (false);
			}
			json_object_put(copy);
		}
		if (json_object_object_get_ex(ps, "enum", &values)) {
			for (i = 0; i < json_object_array_length(values); i++) {
				if (tool_check_type(ps, json_object_array_get_idx(
				    values, i), name, &err))
					continue;
				xasprintf(cause, "tool %s: enum of %s: %s",
				    t->name, name, err.message);
				tool_error_clear(&err);
				return (false);
			}
		}
	}
	return (true);
}

static struct json_object *
tool_parse(const struct tool *t, const char *which, const char *text,
    char **cause)
{
	struct json_object	*o;
	enum json_tokener_error	 jerr;

	if (text == NULL) {
		xasprintf(cause, "tool %s has no %s schema", t->name, which);
		return (NULL);
	}
	o = json_tokener_parse_verbose(text, &jerr);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		xasprintf(cause, "tool %s: the %s schema is not a JSON "
		    "object: %s", t->name, which, o == NULL ?
		    json_tokener_error_desc(jerr) : "wrong type");
		json_object_put(o);
		return (NULL);
	}
	return (o);
}

/* Every answer may say how tool_fit trimmed it: "trimmed" in its schema. */
static void
tool_schema_add_trimmed(struct json_object *output)
{
	struct json_object	*props;

	if (!json_object_object_get_ex(output, "properties", &props) ||
	    !json_object_is_type(props, json_type_object))
		return;
	json_object_object_add(props, "trimmed", json_tokener_parse(
	    "{\"type\":\"object\",\"description\":\"Present when the "
	    "answer was shortened to fit its size budget: what was cut or "
	    "left out, and how to get the rest.\",\"properties\":{"
	    "\"limit_bytes\":{\"type\":\"integer\"},"
	    "\"strings_cut_to\":{\"type\":\"integer\"},"
	    "\"items_left_out\":{\"type\":\"integer\"},"
	    "\"array\":{\"type\":\"string\"},"
	    "\"message\":{\"type\":\"string\"}}}"));
}

static void
tool_init_once(void)
{
	const struct tool	*t;
	size_t			 i, j;
	char			*cause = NULL;

	tool_parsed = xcalloc(tool_registry_count + 1, sizeof *tool_parsed);
	for (i = 0; i < tool_registry_count; i++) {
		t = tool_registry[i];
		for (j = 0; j < i; j++) {
			if (strcmp(tool_registry[j]->name, t->name) == 0) {
				xasprintf(&cause, "tool %s is registered "
				    "twice", t->name);
				goto fail;
			}
		}
		if (t->handler == NULL || t->description == NULL ||
		    t->title == NULL) {
			xasprintf(&cause, "tool %s lacks a handler, title or "
			    "description", t->name);
			goto fail;
		}
		tool_parsed[i].input = tool_parse(t, "input", t->input_schema,
		    &cause);
		if (tool_parsed[i].input == NULL ||
		    !tool_schema_sane(t, tool_parsed[i].input, &cause))
			goto fail;
		tool_parsed[i].output = tool_parse(t, "output",
		    t->output_schema, &cause);
		if (tool_parsed[i].output == NULL)
			goto fail;
		tool_schema_add_trimmed(tool_parsed[i].output);
	}
	tool_ready = true;
	return;
fail:
	tool_init_cause = cause;
}

bool
tool_init(char **cause)
{
	pthread_once(&tool_once, tool_init_once);
	if (!tool_ready && cause != NULL)
		*cause = xstrdup(tool_init_cause != NULL ? tool_init_cause :
		    "tools were shut down");
	return (tool_ready);
}

void
tool_shutdown(void)
{
	size_t	i;

	if (tool_parsed == NULL)
		return;
	for (i = 0; i < tool_registry_count; i++) {
		json_object_put(tool_parsed[i].input);
		json_object_put(tool_parsed[i].output);
	}
	free(tool_parsed);
	tool_parsed = NULL;
	free(tool_init_cause);
	tool_init_cause = NULL;
	tool_ready = false;
}

const struct tool *
tool_find(const char *name)
{
	size_t	i;

	if (name == NULL)
		return (NULL);
	for (i = 0; i < tool_registry_count; i++) {
		if (strcmp(tool_registry[i]->name, name) == 0)
			return (tool_registry[i]);
	}
	return (NULL);
}

static const struct tool_schemas *
tool_schemas_of(const struct tool *t)
{
	size_t	i;

	if (!tool_init(NULL))
		return (NULL);
	for (i = 0; i < tool_registry_count; i++) {
		if (tool_registry[i] == t)
			return (&tool_parsed[i]);
	}
	return (NULL);
}

const struct json_object *
tool_input_schema(const struct tool *t)
{
	const struct tool_schemas	*s = tool_schemas_of(t);

	return (s != NULL ? s->input : NULL);
}

const struct json_object *
tool_output_schema(const struct tool *t)
{
	const struct tool_schemas	*s = tool_schemas_of(t);

	return (s != NULL ? s->output : NULL);
}

struct json_object *
tool_schema_copy(const struct json_object *schema)
{
	struct json_object	*copy = NULL;

	if (schema != NULL && json_object_deep_copy(
	    (struct json_object *)schema, &copy, NULL) != 0)
		abort();
	return (copy);
}

/*
 * Replace every "x-maximumYearOffset" under o by the "maximum" it means in
 * UTC year year.
 */
static void
tool_resolve_years(struct json_object *o, long long year)
{
	struct json_object	*off;
	size_t			 i;

	if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++)
			tool_resolve_years(json_object_array_get_idx(o, i),
			    year);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	if (json_object_object_get_ex(o, "x-maximumYearOffset", &off)) {
		json_object_object_add(o, "maximum", json_object_new_int64(
		    year + json_object_get_int64(off)));
		json_object_object_del(o, "x-maximumYearOffset");
	}
	json_object_object_foreach(o, key, val) {
		(void)key;
		tool_resolve_years(val, year);
	}
}

struct json_object *
tool_input_schema_public(const struct tool *t)
{
	return (tool_input_schema_for_year(t, tool_this_year()));
}

struct json_object *
tool_input_schema_for_year(const struct tool *t, long long year)
{
	struct json_object	*copy = tool_schema_copy(tool_input_schema(t));

	tool_resolve_years(copy, year);
	return (copy);
}

struct json_object *
tool_annotations_json(const struct tool *t)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "readOnlyHint",
	    json_object_new_boolean(t->annotations.read_only));
	json_object_object_add(o, "destructiveHint",
	    json_object_new_boolean(t->annotations.destructive));
	json_object_object_add(o, "idempotentHint",
	    json_object_new_boolean(t->annotations.idempotent));
	json_object_object_add(o, "openWorldHint",
	    json_object_new_boolean(t->annotations.open_world));
	return (o);
}

/* Lengths long strings are cut to, in turn, until an answer fits. */
static const size_t tool_cut_lengths[] = { 600, 300, 160, 100 };
/* Room kept for the "trimmed" note itself. */
#define TOOL_NOTE_ROOM		400

size_t
tool_text_size(struct json_object *o)
{
	size_t	len = 0;

	json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	return (len);
}

/* Cut every string under o longer than max bytes; how many were cut. */
static size_t
tool_cut_strings(struct json_object *o, size_t max)
{
	struct json_object	*v;
	const char		*s;
	size_t			 n = 0, i, len, keep;
	char			*cut;

	if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++) {
			v = json_object_array_get_idx(o, i);
			if (!json_object_is_type(v, json_type_string)) {
				n += tool_cut_strings(v, max);
				continue;
			}
			if ((size_t)json_object_get_string_len(v) <= max)
				continue;
			s = json_object_get_string(v);
			keep = text_utf8_prefix(s, max);
			xasprintf(&cut, "%.*s\xe2\x80\xa6", (int)keep, s);
			json_object_array_put_idx(o, i,
			    json_object_new_string(cut));
			free(cut);
			n++;
		}
		return (n);
	}
	if (!json_object_is_type(o, json_type_object))
		return (0);
	json_object_object_foreach(o, key, val) {
		if (!json_object_is_type(val, json_type_string)) {
			n += tool_cut_strings(val, max);
			continue;
		}
		len = (size_t)json_object_get_string_len(val);
		if (len <= max || strcmp(key, "text_summary") == 0)
			continue;
		s = json_object_get_string(val);
		keep = text_utf8_prefix(s, max);
		xasprintf(&cut, "%.*s\xe2\x80\xa6", (int)keep, s);
		json_object_object_add(o, key, json_object_new_string(cut));
		free(cut);
		n++;
	}
	return (n);
}

/* The member of result holding its largest array, or NULL. */
static const char *
tool_largest_array(struct json_object *result)
{
	const char	*best = NULL;
	size_t		 most = 0, size;

	json_object_object_foreach(result, key, val) {
		if (!json_object_is_type(val, json_type_array) ||
		    json_object_array_length(val) == 0)
			continue;
		if ((size = tool_text_size(val)) > most) {
			most = size;
			best = key;
		}
	}
	return (best);
}

/* Leave items off the end of array until result fits; how many. */
static size_t
tool_drop_items(struct json_object *result, struct json_object *array,
    size_t target)
{
	size_t	n = json_object_array_length(array), dropped = 0, size, item;

	size = tool_text_size(result);
	while (size > target && n - dropped > 1) {
		item = tool_text_size(json_object_array_get_idx(array,
		    n - dropped - 1)) + 1;
		json_object_array_del_idx(array, n - dropped - 1, 1);
		dropped++;
		size = size > item ? size - item : 0;
		if (size <= target)
			size = tool_text_size(result);
	}
	return (dropped);
}

/* Say what tool_fit did: "trimmed", and a sentence in text_summary. */
static void
tool_fit_note(struct json_object *result, size_t budget, size_t cut_to,
    size_t cut, const char *array, size_t dropped, size_t kept,
    bool pageable)
{
	struct json_object	*note, *summary;
	struct buf		 b;
	char			*text;

	note = json_object_new_object();
	json_object_object_add(note, "limit_bytes",
	    json_object_new_int64((int64_t)budget));
	buf_init(&b);
	buf_printf(&b, "Shortened to fit %zu KB:", budget / 1024);
	if (cut > 0) {
		json_object_object_add(note, "strings_cut_to",
		    json_object_new_int64((int64_t)cut_to));
		buf_printf(&b, " %zu long text%s cut to %zu bytes%s", cut,
		    cut == 1 ? "" : "s", cut_to, dropped > 0 ? ";" : ".");
	}
	if (dropped > 0) {
		json_object_object_add(note, "items_left_out",
		    json_object_new_int64((int64_t)dropped));
		json_object_object_add(note, "array",
		    json_object_new_string(array));
		buf_printf(&b, " only the first %zu of %zu %s are here", kept,
		    kept + dropped, array);
		if (pageable)
			buf_printf(&b, "; ask for at most per_page=%zu (and "
			    "page on) to see the rest", kept);
		buf_puts(&b, ".");
	}
	json_object_object_add(note, "message", json_object_new_string(
	    b.data));
	json_object_object_add(result, "trimmed", note);
	if (json_object_object_get_ex(result, "text_summary", &summary) &&
	    json_object_is_type(summary, json_type_string)) {
		xasprintf(&text, "%s %s", json_object_get_string(summary),
		    b.data);
		json_object_object_add(result, "text_summary",
		    json_object_new_string(text));
		free(text);
	}
	buf_free(&b);
}

bool
tool_fit(struct json_object *result, size_t budget, bool pageable)
{
	struct json_object	*array = NULL;
	const char		*name;
	size_t			 target, i, cut = 0, cut_to = 0, dropped = 0;
	size_t			 n = 0;

	if (!json_object_is_type(result, json_type_object) ||
	    tool_text_size(result) <= budget)
		return (false);
	target = budget > 2 * TOOL_NOTE_ROOM ? budget - TOOL_NOTE_ROOM :
	    budget / 2;
	for (i = 0; i < nitems(tool_cut_lengths) &&
	    tool_text_size(result) > target; i++) {
		cut_to = tool_cut_lengths[i];
		cut += tool_cut_strings(result, cut_to);
	}
	if (tool_text_size(result) > target &&
	    (name = tool_largest_array(result)) != NULL &&
	    json_object_object_get_ex(result, name, &array)) {
		n = json_object_array_length(array);
		dropped = tool_drop_items(result, array, target);
	}
	if (cut == 0 && dropped == 0)
		return (false);
	tool_fit_note(result, budget, cut_to, cut, dropped > 0 ? name : NULL,
	    dropped, n - dropped, pageable);
	return (true);
}

/* What a kept result is found by: the tool and its canonical arguments. */
static char *
tool_result_key(const struct tool *t, struct json_object *args)
{
	struct buf	b;

	buf_init(&b);
	buf_puts(&b, t->name);
	buf_putc(&b, '\n');
	cache_canonical_json(args, &b);
	return (buf_detach(&b));
}

static bool
tool_results_empty(struct json_object *result)
{
	struct json_object	*results;

	return (json_object_object_get_ex(result, "results", &results) &&
	    json_object_is_type(results, json_type_array) &&
	    json_object_array_length(results) == 0);
}

/*
 * Is this a default call: every argument that has a default (the knobs
 * of an answer's size: per_page, full, count …) left at it? args are
 * validated (defaults filled in).
 */
static bool
tool_default_call(const struct json_object *schema, struct json_object *args)
{
	struct json_object	*props, *def, *v;

	if (!json_object_object_get_ex(schema, "properties", &props))
		return (true);
	json_object_object_foreach(props, key, ps) {
		if (json_object_object_get_ex(ps, "default", &def) &&
		    json_object_object_get_ex(args, key, &v) &&
		    !json_object_equal(v, def))
			return (false);
	}
	return (true);
}

/* The answer budget of t for a default call or any call. */
static size_t
tool_budget(const struct tool *t, bool default_call)
{
	if (default_call)
		return (t->budget_default > 0 ? t->budget_default :
		    TOOL_BUDGET_DEFAULT);
	return (t->budget > 0 ? t->budget : TOOL_BUDGET_MAX);
}

static struct json_object *
tool_run(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	const struct json_object	*schema;
	struct json_object		*own = NULL, *result, *props;
	struct rescache_hit		 hit;
	char				*key = NULL;
	bool				 empty, default_call;

	tool_call_init(call);
	if (t->auth == TOOL_AUTH_REQUIRED && auth == NULL) {
		tool_fail(call, 401, "unauthorized", NULL, "%s needs a "
		    "signed-in AniList account; sign in and try again",
		    t->name);
		return (NULL);
	}
	schema = tool_input_schema(t);
	if (schema == NULL) {
		tool_fail(call, 500, "internal_error", NULL,
		    "tool %s is not available", t->name);
		return (NULL);
	}
	if (args == NULL)
		args = own = json_object_new_object();
	if (!json_object_is_type(args, json_type_object)) {
		tool_fail(call, 400, "invalid_argument", NULL,
		    "the arguments of %s must be a JSON object", t->name);
		return (NULL);
	}
	if (!tool_validate(schema, args, &call->error)) {
		json_object_put(own);
		return (NULL);
	}
	default_call = tool_default_call(schema, args);
	if (t->keep_results && t->auth == TOOL_AUTH_NONE &&
	    cfg->result_cache_kb > 0) {
		key = tool_result_key(t, args);
		if ((result = rescache_get(key, &hit)) != NULL) {
			call->cache = "hit";
			anilist_count_hit(hit.kind);
			if (t->answered != NULL)
				t->answered(args, hit.empty);
			free(key);
			json_object_put(own);
			return (result);
		}
	}
	result = t->handler(t, args, t->auth == TOOL_AUTH_NONE ? NULL : auth,
	    call);
	if (result == NULL && call->error.status == 0)
		tool_fail(call, 500, "internal_error", NULL,
		    "%s failed without saying why", t->name);
	if (result != NULL)
		tool_fit(result, tool_budget(t, default_call),
		    json_object_object_get_ex(json_object_object_get_ex(schema,
		    "properties", &props) ? props : NULL, "per_page", NULL));
	if (result != NULL && (key != NULL || t->answered != NULL)) {
		empty = tool_results_empty(result);
		if (key != NULL && !call->not_reusable &&
		    call->fresh_until != 0)
			rescache_put(key, result, call->kind,
			    call->fresh_until, empty);
		if (t->answered != NULL)
			t->answered(args, empty);
	}
	free(key);
	json_object_put(own);
	return (result);
}

/*
 * REST and MCP both come here: the one place that counts tool calls, by
 * result ("ok" or the error code, a fixed word), and times them.
 */
struct json_object *
tool_invoke(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	struct json_object	*result;
	uint64_t		 t0 = util_mono_us();

	result = tool_run(t, args, auth, call);
	metrics_tool(t->name, result != NULL ? "ok" : call->error.code != NULL ?
	    call->error.code : "error", (double)(util_mono_us() - t0) / 1e6);
	return (result);
}
