/* tool.c: the tool registry: each tool's parsed schemas, and invocation with validated arguments. */
#include "autoconf.h"

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
#include "schema.h"
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

long long
tool_this_year(void)
{
	time_t		now = time(NULL);
	struct tm	tm;

	gmtime_r(&now, &tm);
	return ((long long)tm.tm_year + 1900);
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

static void
tool_init_once(void)
{
	const struct tool	*t;
	size_t			 i, j;
	char			*cause = NULL, *why;

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
		if (tool_parsed[i].input == NULL)
			goto fail;
		if (!schema_sane(tool_parsed[i].input, &why)) {
			xasprintf(&cause, "tool %s: %s", t->name, why);
			free(why);
			goto fail;
		}
		tool_parsed[i].output = tool_parse(t, "output",
		    t->output_schema, &cause);
		if (tool_parsed[i].output == NULL)
			goto fail;
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

static struct json_object *
tool_run(const struct tool *t, struct json_object *args,
    const struct tool_auth *auth, struct tool_call *call)
{
	const struct json_object	*schema;
	struct json_object		*own = NULL, *result;
	struct rescache_hit		 hit;
	char				*key = NULL;
	bool				 empty;

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
	if (!schema_validate(schema, args, &call->error)) {
		json_object_put(own);
		return (NULL);
	}
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
