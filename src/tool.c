/* tool.c: the tool registry: each tool's parsed schemas, and invocation with validated arguments. */
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
#include "schema.h"
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
	    "\"left_out\":{\"type\":\"object\",\"description\":\"Items "
	    "left off the end of inner arrays, by path such as "
	    "anime.reviews.\",\"additionalProperties\":{\"type\":"
	    "\"integer\"}},"
	    "\"message\":{\"type\":\"string\"}}}"));
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

/*
 * Leave items off the end of array until result fits, keeping at least
 * keep; how many.
 */
static size_t
tool_drop_items(struct json_object *result, struct json_object *array,
    size_t target, size_t keep)
{
	size_t	n = json_object_array_length(array), dropped = 0, size, item;

	size = tool_text_size(result);
	while (size > target && n - dropped > keep) {
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

/* What tool_fit did to a result, for tool_fit_note. */
struct tool_fit_report {
	size_t			 budget;	/* the byte budget to fit */
	struct json_object	*left_out;	/* {path: items} of inner
						   arrays, or NULL */
	struct buf		 inner;		/* "2 of 3 anime.reviews" … */
	size_t			 cut_to;	/* bytes strings were cut to */
	size_t			 cut;		/* how many strings were cut */
	const char		*array;		/* the array shortened, or
						   NULL */
	size_t			 dropped;	/* items left off its end */
	size_t			 kept;		/* items still in it */
	bool			 pageable;	/* the tool pages (per_page) */
};

/* The array at a dotted path of members ("anime.reviews"), or NULL. */
static struct json_object *
tool_path_array(struct json_object *o, const char *path)
{
	char	*copy = xstrdup(path), *key, *save = NULL;

	for (key = strtok_r(copy, ".", &save); key != NULL && o != NULL;
	    key = strtok_r(NULL, ".", &save)) {
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, key, &o))
			o = NULL;
	}
	free(copy);
	return (json_object_is_type(o, json_type_array) ? o : NULL);
}

/* Shorten the arrays at the paths of first, in turn, until result fits. */
static void
tool_fit_first(struct json_object *result, const char *const *first,
    size_t target, struct tool_fit_report *fit)
{
	struct json_object	*array;
	size_t			 n, dropped;

	for (; first != NULL && *first != NULL &&
	    tool_text_size(result) > target; first++) {
		if ((array = tool_path_array(result, *first)) == NULL ||
		    (n = json_object_array_length(array)) == 0)
			continue;
		if ((dropped = tool_drop_items(result, array, target, 0)) == 0)
			continue;
		if (fit->left_out == NULL)
			fit->left_out = json_object_new_object();
		json_object_object_add(fit->left_out, *first,
		    json_object_new_int64((int64_t)dropped));
		buf_printf(&fit->inner, "%s%zu of %zu %s", fit->inner.len > 0 ?
		    ", " : "", dropped, n, *first);
	}
}

/*
 * Say what tool_fit did (fit, borrowed): "trimmed", and a sentence in
 * text_summary.
 */
static void
tool_fit_note(struct json_object *result, const struct tool_fit_report *fit)
{
	struct json_object	*note, *summary;
	struct buf		 b;
	char			*text;

	note = json_object_new_object();
	json_object_object_add(note, "limit_bytes",
	    json_object_new_int64((int64_t)fit->budget));
	buf_init(&b);
	buf_printf(&b, "Shortened to fit %zu KB:", fit->budget / 1024);
	if (fit->left_out != NULL) {
		json_object_object_add(note, "left_out",
		    json_object_get(fit->left_out));
		buf_printf(&b, " left out %s%s", fit->inner.data,
		    fit->cut > 0 || fit->dropped > 0 ? ";" : ".");
	}
	if (fit->cut > 0) {
		json_object_object_add(note, "strings_cut_to",
		    json_object_new_int64((int64_t)fit->cut_to));
		buf_printf(&b, " %zu long text%s cut to %zu bytes%s", fit->cut,
		    fit->cut == 1 ? "" : "s", fit->cut_to,
		    fit->dropped > 0 ? ";" : ".");
	}
	if (fit->dropped > 0) {
		json_object_object_add(note, "items_left_out",
		    json_object_new_int64((int64_t)fit->dropped));
		json_object_object_add(note, "array",
		    json_object_new_string(fit->array));
		buf_printf(&b, " only the first %zu of %zu %s are here",
		    fit->kept, fit->kept + fit->dropped, fit->array);
		if (fit->pageable)
			buf_printf(&b, "; ask for at most per_page=%zu (and "
			    "page on) to see the rest", fit->kept);
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
tool_fit(struct json_object *result, size_t budget, bool pageable,
    const char *const *first)
{
	struct tool_fit_report	 fit = { .budget = budget,
				     .pageable = pageable };
	struct json_object	*array = NULL;
	const char		*name;
	size_t			 target, i, n = 0;
	bool			 trimmed = false;

	if (!json_object_is_type(result, json_type_object) ||
	    tool_text_size(result) <= budget)
		return (false);
	target = budget > 2 * TOOL_NOTE_ROOM ? budget - TOOL_NOTE_ROOM :
	    budget / 2;
	buf_init(&fit.inner);
	tool_fit_first(result, first, target, &fit);
	for (i = 0; i < nitems(tool_cut_lengths) &&
	    tool_text_size(result) > target; i++) {
		fit.cut_to = tool_cut_lengths[i];
		fit.cut += tool_cut_strings(result, fit.cut_to);
	}
	if (tool_text_size(result) > target &&
	    (name = tool_largest_array(result)) != NULL &&
	    json_object_object_get_ex(result, name, &array)) {
		n = json_object_array_length(array);
		fit.dropped = tool_drop_items(result, array, target, 1);
		fit.array = fit.dropped > 0 ? name : NULL;
		fit.kept = n - fit.dropped;
	}
	if (fit.left_out != NULL || fit.cut > 0 || fit.dropped > 0) {
		tool_fit_note(result, &fit);
		trimmed = true;
	}
	json_object_put(fit.left_out);
	buf_free(&fit.inner);
	return (trimmed);
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
	if (!schema_validate(schema, args, &call->error)) {
		json_object_put(own);
		return (NULL);
	}
	default_call = tool_default_call(schema, args);
	/*
	 * A tool that works better with a user keeps only the answers it gave
	 * without one (a user's answers record what was shown).
	 */
	if (t->keep_results && (t->auth == TOOL_AUTH_NONE || auth == NULL) &&
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
		    "properties", &props) ? props : NULL, "per_page", NULL),
		    t->trim_first);
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
