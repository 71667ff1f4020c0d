/* tool.h: the tool registry: each tool's parsed schemas, and invocation with validated arguments (schema.h). */
#ifndef TOOL_H
#define TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* How many bytes of a bad value an argument error repeats. */
#define TOOL_ECHO_MAX	40
/*
 * Answer budgets (bytes of the serialised result, what a model reads):
 * a call that gives only the required arguments, and any call. A tool
 * may set its own (struct tool). Over it, tool_fit trims and says so.
 */
#define TOOL_BUDGET_DEFAULT	8192
#define TOOL_BUDGET_MAX		49152

/* Whether a tool needs a signed-in user. */
enum tool_auth_need {
	TOOL_AUTH_NONE,		/* public data; auth ignored */
	TOOL_AUTH_OPTIONAL,	/* works anonymously, better with a user */
	TOOL_AUTH_REQUIRED	/* 401 without a user */
};

/* MCP tool annotations (hints to the client, not guarantees). */
struct tool_annotations {
	bool	read_only;	/* readOnlyHint */
	bool	destructive;	/* destructiveHint */
	bool	idempotent;	/* idempotentHint */
	bool	open_world;	/* openWorldHint */
};

/*
 * Who calls, as the accounts layer established it (REST: req->auth points
 * to one). Borrowed for the duration of a call.
 */
struct tool_auth {
	long long	 user_id;	/* our user id */
	long long	 anilist_id;	/* the user's AniList id */
	const char	*name;		/* the user's AniList name */
	const char	*anilist_token;	/* the user's AniList bearer token */
	const char	*scope;		/* cache scope ("user:<id>") */
	bool		 may_record;	/* may store what it showed: a call no
					   other site's page could cause */
};

/* Why a call failed: the fields of the one error body of every route. */
struct tool_error {
	int		 status;	/* HTTP status: 400, 401, 404, 429, 5xx */
	const char	*code;		/* static: "invalid_argument" … */
	char		*message;	/* for a person or a model; owned */
	char		*field;		/* argument path ("genres[1]"), owned */
	int		 retry_after;	/* seconds; 0 when none */
};

/* One call: its error, and what it cost, for logs and metrics. */
struct tool_call {
	struct tool_error	 error;		/* set when the call failed */
	const char		*cache;		/* "hit" … (static) or NULL */
	long			 upstream_ms;	/* -1 when AniList was not asked */
	int			 upstream_calls;
	/*
	 * Whether the result may be kept (rescache.h): every AniList answer
	 * behind it came fresh from the shared cache or from AniList, for
	 * everyone (no token, no scope), and stays fresh until fresh_until
	 * (unix ms; 0 when nothing was fetched). kind names the cache class.
	 */
	bool			 not_reusable;
	uint64_t		 fresh_until;
	const char		*kind;
};

struct tool;

/*
 * A tool's work: args are validated, with defaults filled (borrowed).
 * Returns the result object (caller frees), or NULL with call->error set.
 */
typedef struct json_object *(*tool_handler)(const struct tool *tool,
    struct json_object *args, const struct tool_auth *auth,
    struct tool_call *call);

/*
 * One tool, defined once (in a file of tools/) and listed in the registry
 * (tools/registry.c). Schemas are JSON text, parsed once by tool_init;
 * the REST routes, MCP tools/list and tools/call and /openapi.json all use
 * this one definition.
 */
struct tool {
	const char		*name;		/* "search_anime" */
	const char		*title;		/* "Search anime" */
	const char		*description;	/* for the model */
	const char		*input_schema;	/* JSON Schema, object */
	const char		*output_schema;	/* JSON Schema of the result */
	struct tool_annotations	 annotations;
	enum tool_auth_need	 auth;
	const char		*widget;	/* "ui://widget/…" or NULL */
	tool_handler		 handler;
	/*
	 * The same arguments give the same answer for everyone while the
	 * AniList data is fresh: successful results are kept as text in the
	 * worker (rescache.h). Only for tools whose defaults do not move with
	 * the clock; a TOOL_AUTH_OPTIONAL tool keeps only what it answered
	 * without a user.
	 */
	bool			 keep_results;
	/*
	 * Called after every successful call, kept answer or not, with the
	 * validated arguments and whether "results" was empty (counting).
	 */
	void			(*answered)(struct json_object *args,
				    bool empty);
	/*
	 * Bytes an answer may take: with only the required arguments given
	 * (0: TOOL_BUDGET_DEFAULT), and at most (0: TOOL_BUDGET_MAX).
	 */
	size_t			 budget_default;
	size_t			 budget;
	/*
	 * Arrays inside the answer, as dotted paths ("anime.reviews"), that
	 * tool_fit shortens before anything else, in this order, down to
	 * none: what an answer does best without. NULL-terminated, or NULL.
	 */
	const char *const	*trim_first;
};

/* The registry: tools/registry.c. */
extern const struct tool *const	tool_registry[];
extern const size_t		tool_registry_count;

/*
 * Parse and check every schema of the registry once (later calls return
 * the first answer). False with *cause (caller frees) names the tool and
 * the problem: a start-up error.
 */
bool	tool_init(char **cause) __attribute__((warn_unused_result));
/* Release the parsed schemas (at exit). */
void	tool_shutdown(void);
/* The tool called name, or NULL. */
const struct tool *tool_find(const char *name);

/*
 * The parsed input/output schema of a registered tool (tool_init first).
 * Shared by every thread and borrowed: read it, never change it, never
 * json_object_get it and never serialise it (json-c caches the text inside
 * the object). Use tool_schema_copy to put it in a response.
 */
const struct json_object *tool_input_schema(const struct tool *t);
const struct json_object *tool_output_schema(const struct tool *t);
/* A deep copy of a schema from the above; caller frees. */
struct json_object *tool_schema_copy(const struct json_object *schema);
/*
 * The input schema as clients should see it (MCP tools/list, OpenAPI):
 * a copy with "x-maximumYearOffset" resolved to a plain "maximum" for the
 * current year. Caller frees.
 */
struct json_object *tool_input_schema_public(const struct tool *t);
/* The same as of a given UTC year. Caller frees. */
struct json_object *tool_input_schema_for_year(const struct tool *t,
	    long long year);
/* The current UTC year, what "x-maximumYearOffset" counts from. */
long long	 tool_this_year(void);
/* {"readOnlyHint":…, …} for MCP; caller frees. */
struct json_object *tool_annotations_json(const struct tool *t);

/*
 * Run tool with args (an object, borrowed; defaults are filled in; NULL
 * means no arguments): validate, check auth (TOOL_AUTH_REQUIRED and auth
 * NULL: 401), run the handler. Returns the result (caller frees) or NULL
 * with call->error set. call is initialised here; release it with
 * tool_call_free.
 */
struct json_object *tool_invoke(const struct tool *t, struct json_object *args,
	    const struct tool_auth *auth, struct tool_call *call);
void	tool_call_init(struct tool_call *call);
void	tool_call_free(struct tool_call *call);

/*
 * Make result (an object) fit in budget bytes of JSON text: first items
 * are left off the end of the arrays at the paths of first (a tool's
 * trim_first; may be NULL), in turn; then long strings are shortened
 * (text_summary never), then items are left off the end of its largest
 * array; what was done is added as "trimmed" and to text_summary
 * (pageable: the tool takes per_page, and the note says how to page
 * through the rest). Returns whether anything was trimmed.
 */
bool	tool_fit(struct json_object *result, size_t budget, bool pageable,
	    const char *const *first);
/* The bytes of o as JSON text (the form answers are sent in). */
size_t	tool_text_size(struct json_object *o);

/* Set (replace) err to a 400 invalid_argument; field may be NULL or "". */
void	tool_invalid(struct tool_error *err, const char *field, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
/* Set (replace) call's error; field may be NULL. For handlers. */
void	tool_fail(struct tool_call *call, int status, const char *code,
	    const char *field, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
void	tool_error_clear(struct tool_error *err);

#endif
