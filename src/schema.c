/* schema.c: checks JSON values against the JSON Schema subset the tools' definitions use. */
#include "autoconf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "schema.h"
#include "text.h"
#include "tool.h"
#include "util.h"

/* Integers without an exponent, other numbers as %g. */
static void
schema_put_number(struct buf *b, double d)
{
	if (d == floor(d) && fabs(d) < 1e15)
		buf_printf(b, "%.0f", d);
	else
		buf_printf(b, "%g", d);
}

/* A short description of a value for messages: `a string ("abc")`. */
static void
schema_describe(struct buf *b, const struct json_object *v)
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
		schema_put_number(b, json_object_get_double(v));
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
schema_type_is(const char *type, const struct json_object *v)
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
schema_type_noun(const char *type)
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
schema_check_type(const struct json_object *schema, const struct json_object *v,
    const char *field, struct tool_error *err)
{
	const char		*name = *field != '\0' ? field : "arguments";
	struct json_object	*type, *t;
	struct buf		 want, got;
	size_t			 i, n;

	if (!json_object_object_get_ex(schema, "type", &type))
		return (true);
	if (json_object_is_type(type, json_type_string)) {
		if (schema_type_is(json_object_get_string(type), v))
			return (true);
		n = 1;
	} else {
		n = json_object_array_length(type);
		for (i = 0; i < n; i++) {
			t = json_object_array_get_idx(type, i);
			if (schema_type_is(json_object_get_string(t), v))
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
		buf_puts(&want, schema_type_noun(json_object_get_string(t)));
	}
	schema_describe(&got, v);
	tool_invalid(err, field, "%s must be %s; got %s", name, want.data,
	    got.data);
	buf_free(&want);
	buf_free(&got);
	return (false);
}

static bool
schema_check_enum(const struct json_object *schema, struct json_object *v,
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
			schema_describe(&list, e);
	}
	schema_describe(&got, v);
	tool_invalid(err, field, "%s must be one of %s; got %s", name,
	    list.data, got.data);
	buf_free(&list);
	buf_free(&got);
	return (false);
}

static bool
schema_check_number(const struct json_object *schema, struct json_object *v,
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
		schema_describe(&got, v);
		schema_put_number(&want, bound);
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
		schema_describe(&got, v);
		schema_put_number(&want, bound);
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
schema_check_string(const struct json_object *schema, struct json_object *v,
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

static bool	schema_check(const struct json_object *schema,
		    struct json_object *v, const char *field,
		    struct tool_error *err);

static bool
schema_check_array(const struct json_object *schema, struct json_object *v,
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
		ok = schema_check(items, json_object_array_get_idx(v, i), sub,
		    err);
		free(sub);
		if (!ok)
			return (false);
	}
	return (true);
}

static char *
schema_subfield(const char *field, const char *key)
{
	char	*sub;

	if (*field == '\0')
		return (xstrdup(key));
	xasprintf(&sub, "%s.%s", field, key);
	return (sub);
}

/* Does the schema accept null (type "null" or a list with it)? */
static bool
schema_allows_null(const struct json_object *schema)
{
	struct json_object	*type;
	size_t			 i;

	if (!json_object_object_get_ex(schema, "type", &type))
		return (true);
	if (json_object_is_type(type, json_type_string))
		return (strcmp(json_object_get_string(type), "null") == 0);
	for (i = 0; i < json_object_array_length(type); i++) {
		if (schema_type_is(json_object_get_string(
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
schema_check_object(const struct json_object *schema, struct json_object *v,
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
			sub = schema_subfield(field, key);
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
			    !schema_allows_null(ps))
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
			sub = schema_subfield(field, name);
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
		/* At the top a property's field is its name: no copy. */
		sub = *field != '\0' ? schema_subfield(field, name) : NULL;
		ok = schema_check(sub_schema, pv, sub != NULL ? sub : name,
		    err);
		free(sub);
		if (!ok)
			return (false);
	}
	return (true);
}

static bool
schema_check(const struct json_object *schema, struct json_object *v,
    const char *field, struct tool_error *err)
{
	if (!schema_check_type(schema, v, field, err))
		return (false);
	if (!schema_check_enum(schema, v, field, err))
		return (false);
	switch (json_object_get_type(v)) {
	case json_type_int:
	case json_type_double:
		return (schema_check_number(schema, v, field, err));
	case json_type_string:
		return (schema_check_string(schema, v, field, err));
	case json_type_array:
		return (schema_check_array(schema, v, field, err));
	case json_type_object:
		return (schema_check_object(schema, v, field, err));
	default:
		return (true);
	}
}

bool
schema_validate(const struct json_object *schema, struct json_object *value,
    struct tool_error *err)
{
	return (schema_check(schema, value, "", err));
}

bool
schema_sane(struct json_object *input, char **cause)
{
	struct json_object	*props, *type, *def, *values, *copy;
	struct tool_error	 err = { 0 };
	size_t			 i;

	if (!json_object_object_get_ex(input, "type", &type) ||
	    strcmp(json_object_get_string(type), "object") != 0 ||
	    !json_object_object_get_ex(input, "properties", &props) ||
	    !json_object_is_type(props, json_type_object)) {
		*cause = xstrdup("the input schema must be an object schema "
		    "with properties");
		return (false);
	}
	json_object_object_foreach(props, name, ps) {
		if (!json_object_is_type(ps, json_type_object) ||
		    !json_object_object_get_ex(ps, "type", NULL)) {
			xasprintf(cause, "property %s has no type", name);
			return (false);
		}
		if (json_object_object_get_ex(ps, "default", &def)) {
			copy = NULL;
			if (def != NULL && json_object_deep_copy(def, &copy,
			    NULL) != 0)
				abort();
			if (!schema_check(ps, copy, name, &err)) {
				xasprintf(cause, "default of %s: %s", name,
				    err.message);
				json_object_put(copy);
				tool_error_clear(&err);
				return (false);
			}
			json_object_put(copy);
		}
		if (json_object_object_get_ex(ps, "enum", &values)) {
			for (i = 0; i < json_object_array_length(values); i++) {
				if (schema_check_type(ps,
				    json_object_array_get_idx(values, i), name,
				    &err))
					continue;
				xasprintf(cause, "enum of %s: %s", name,
				    err.message);
				tool_error_clear(&err);
				return (false);
			}
		}
	}
	return (true);
}
