/* mcp.c: MCP JSON-RPC for the Streamable HTTP transport, legacy (initialize) and modern (per-request _meta) eras, over the tool registry. */
#include "autoconf.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http.h"
#include "jsonbody.h"
#include "log.h"
#include "mcp.h"
#include "metrics.h"
#include "oauth_server.h"
#include "prompts.h"
#include "rawjson.h"
#include "tool.h"
#include "util.h"
#include "widget.h"

#define MCP_META_VERSION	"io.modelcontextprotocol/protocolVersion"
#define MCP_META_CAPS		"io.modelcontextprotocol/clientCapabilities"
#define MCP_META_SERVER		"io.modelcontextprotocol/serverInfo"
#define MCP_META_UI_EXT		"io.modelcontextprotocol/ui"
#define MCP_META_ERROR		"anilist-gpt/error"
#define MCP_META_SUBJECT	"openai/subject"
/* Longest per-user host identifier used (longer: ignored). */
#define MCP_SUBJECT_MAX		256
#define MCP_MAX_DEPTH		64
/* Freshness hints (ms) of cacheable results: they change with a deploy. */
#define MCP_TTL_LIST		3600000
#define MCP_TTL_RESOURCE	3600000

#define MCP_INSTRUCTIONS						\
	"Unofficial AniList app (not made or endorsed by AniList). Tools "	\
	"search AniList's anime catalogue, show one title in detail, list "	\
	"trending and seasonal anime, characters and airing schedules; "	\
	"tools marked as needing sign-in act on the user's own AniList "	\
	"account. Prefer the tools' structured results; cite AniList as "	\
	"the source."

static const char *const mcp_version_names[MCP_NVERSIONS] = {
	"2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"
};

/* How one message is being served. */
struct mcp_ctx {
	const struct mcp_input	*in;
	struct mcp_output	*out;
	enum mcp_version	 version;
	bool			 modern;	/* 2026-07-28 per-request _meta */
	bool			 batch;
	int			 status;	/* HTTP status this message asks for */
	/* Seconds the caller must wait (mcp_limit), once asked. */
	bool			 limit_asked;
	int			 limited;
	/* Who calls, once asked (mcp_who). */
	bool			 auth_asked;
	int			 auth_status;	/* 0, 401, 503 */
	const struct tool_auth	*auth;
};

const char *
mcp_version_name(enum mcp_version v)
{
	return (v < MCP_NVERSIONS ? mcp_version_names[v] : "unknown");
}

int
mcp_version_parse(const char *s)
{
	int	i;

	if (s == NULL)
		return (-1);
	for (i = 0; i < MCP_NVERSIONS; i++) {
		if (strcmp(s, mcp_version_names[i]) == 0)
			return (i);
	}
	return (-1);
}

void
mcp_output_free(struct mcp_output *out)
{
	free(out->body);
	free(out->www_authenticate);
	memset(out, 0, sizeof *out);
}

char *
mcp_challenge(const char *public_url, bool invalid)
{
	char	*s;

	xasprintf(&s, "Bearer resource_metadata=\"%s/.well-known/"
	    "oauth-protected-resource\", scope=\"%s\", %s", public_url,
	    OAUTH_SCOPE, invalid ? "error=\"invalid_token\", "
	    "error_description=\"the access token is invalid or expired; "
	    "sign in again\"" : "error=\"insufficient_scope\", "
	    "error_description=\"connect your AniList account to use this "
	    "tool\"");
	return (s);
}

/* A JSON-RPC error response; id is copied (NULL: null). */
static struct json_object *
mcp_error_object(struct json_object *id, int code, const char *message,
    struct json_object *data)
{
	struct json_object	*r, *e;

	e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	if (data != NULL)
		json_object_object_add(e, "data", data);
	r = json_object_new_object();
	json_object_object_add(r, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(r, "id", json_object_get(id));
	json_object_object_add(r, "error", e);
	return (r);
}

static const char *
mcp_error_log(int code)
{
	switch (code) {
	case MCP_PARSE_ERROR:		return ("parse_error");
	case MCP_INVALID_REQUEST:	return ("invalid_request");
	case MCP_METHOD_NOT_FOUND:	return ("method_not_found");
	case MCP_INVALID_PARAMS:	return ("invalid_params");
	case MCP_RESOURCE_NOT_FOUND:	return ("resource_not_found");
	case MCP_HEADER_MISMATCH:	return ("header_mismatch");
	case MCP_UNSUPPORTED_VERSION:	return ("unsupported_protocol_version");
	default:			return ("internal_error");
	}
}

/*
 * An error for the message being served; status is the HTTP status it
 * asks for when it is the only message of the POST. Takes data.
 */
static struct json_object * __attribute__((format(printf, 5, 6)))
mcp_error(struct mcp_ctx *ctx, struct json_object *id, int code, int status,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	ctx->status = status;
	ctx->out->log_error = mcp_error_log(code);
	id = mcp_error_object(id, code, msg, NULL);
	free(msg);
	return (id);
}

static struct json_object *
mcp_supported_versions(void)
{
	struct json_object	*a = json_object_new_array();
	int			 i;

	for (i = MCP_NVERSIONS - 1; i >= 0; i--)
		json_object_array_add(a,
		    json_object_new_string(mcp_version_names[i]));
	return (a);
}

/* UnsupportedProtocolVersionError (400), for the header or _meta. */
static struct json_object *
mcp_unsupported(struct mcp_ctx *ctx, struct json_object *id,
    const char *requested)
{
	struct json_object	*r, *data;

	data = json_object_new_object();
	json_object_object_add(data, "supported", mcp_supported_versions());
	json_object_object_add(data, "requested",
	    json_object_new_string(requested));
	r = mcp_error_object(id, MCP_UNSUPPORTED_VERSION,
	    "Unsupported protocol version", data);
	ctx->status = 400;
	ctx->out->log_error = mcp_error_log(MCP_UNSUPPORTED_VERSION);
	return (r);
}

static struct json_object *
mcp_result(struct json_object *id, struct json_object *result)
{
	struct json_object	*r = json_object_new_object();

	json_object_object_add(r, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(r, "id", json_object_get(id));
	json_object_object_add(r, "result", result);
	return (r);
}

static struct json_object *
mcp_server_info(const struct mcp_ctx *ctx)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(PACKAGE));
	if (ctx->version >= MCP_V2025_06_18)
		json_object_object_add(o, "title",
		    json_object_new_string(PACKAGE_DISPLAY_NAME));
	json_object_object_add(o, "version",
	    json_object_new_string(PACKAGE_VERSION));
	return (o);
}

/*
 * What 2026-07-28 adds to every result: resultType, the server's identity
 * and, for cacheable results, the freshness hints.
 */
static void
mcp_modern_result(const struct mcp_ctx *ctx, struct json_object *result,
    int ttl_ms)
{
	struct json_object	*meta;

	if (!ctx->modern)
		return;
	json_object_object_add(result, "resultType",
	    json_object_new_string("complete"));
	if (!json_object_object_get_ex(result, "_meta", &meta)) {
		meta = json_object_new_object();
		json_object_object_add(result, "_meta", meta);
	}
	json_object_object_add(meta, MCP_META_SERVER, mcp_server_info(ctx));
	if (ttl_ms >= 0) {
		json_object_object_add(result, "ttlMs",
		    json_object_new_int(ttl_ms));
		json_object_object_add(result, "cacheScope",
		    json_object_new_string("public"));
	}
}

static struct json_object *
mcp_capabilities(const struct mcp_ctx *ctx)
{
	struct json_object	*caps, *tools, *res, *ext;

	tools = json_object_new_object();
	res = json_object_new_object();
	if (!ctx->modern) {
		json_object_object_add(tools, "listChanged",
		    json_object_new_boolean(false));
		json_object_object_add(res, "subscribe",
		    json_object_new_boolean(false));
		json_object_object_add(res, "listChanged",
		    json_object_new_boolean(false));
	}
	caps = json_object_new_object();
	json_object_object_add(caps, "tools", tools);
	json_object_object_add(caps, "resources", res);
	json_object_object_add(caps, "prompts", json_object_new_object());
	if (ctx->modern) {
		ext = json_object_new_object();
		json_object_object_add(ext, MCP_META_UI_EXT,
		    json_object_new_object());
		json_object_object_add(caps, "extensions", ext);
	}
	return (caps);
}

/* initialize (legacy): echo a supported legacy version, else offer the latest. */
static struct json_object *
mcp_initialize(struct mcp_ctx *ctx, struct json_object *id,
    struct json_object *params)
{
	struct json_object	*pv, *result;
	int			 v;

	if (params == NULL || !json_object_object_get_ex(params,
	    "protocolVersion", &pv) || !json_object_is_type(pv,
	    json_type_string))
		return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 200,
		    "initialize needs params.protocolVersion (a string)"));
	v = mcp_version_parse(json_object_get_string(pv));
	if (v < 0 || v == MCP_V2026_07_28)
		v = MCP_V2025_11_25;
	ctx->version = (enum mcp_version)v;

	result = json_object_new_object();
	json_object_object_add(result, "protocolVersion",
	    json_object_new_string(mcp_version_name(ctx->version)));
	json_object_object_add(result, "capabilities", mcp_capabilities(ctx));
	json_object_object_add(result, "serverInfo", mcp_server_info(ctx));
	json_object_object_add(result, "instructions",
	    json_object_new_string(MCP_INSTRUCTIONS));
	return (mcp_result(id, result));
}

/* server/discover (2026-07-28). */
static struct json_object *
mcp_discover(struct mcp_ctx *ctx, struct json_object *id)
{
	struct json_object	*result = json_object_new_object();

	json_object_object_add(result, "supportedVersions",
	    mcp_supported_versions());
	json_object_object_add(result, "capabilities", mcp_capabilities(ctx));
	json_object_object_add(result, "instructions",
	    json_object_new_string(MCP_INSTRUCTIONS));
	mcp_modern_result(ctx, result, MCP_TTL_LIST);
	return (mcp_result(id, result));
}

/* ChatGPT Apps securitySchemes of a tool. */
static struct json_object *
mcp_security_schemes(const struct tool *t)
{
	struct json_object	*a = json_object_new_array(), *s, *scopes;

	if (t->auth != TOOL_AUTH_REQUIRED) {
		s = json_object_new_object();
		json_object_object_add(s, "type",
		    json_object_new_string("noauth"));
		json_object_array_add(a, s);
	}
	if (t->auth != TOOL_AUTH_NONE) {
		s = json_object_new_object();
		json_object_object_add(s, "type",
		    json_object_new_string("oauth2"));
		scopes = json_object_new_array();
		json_object_array_add(scopes,
		    json_object_new_string(OAUTH_SCOPE));
		json_object_object_add(s, "scopes", scopes);
		json_object_array_add(a, s);
	}
	return (a);
}

/* A short status line (at most 64 bytes) for openai/toolInvocation. */
static struct json_object *
mcp_status_line(const struct tool *t, bool done)
{
	char	line[65];

	snprintf(line, sizeof line, "%.48s%s", t->title, done ? ": done" :
	    "\xe2\x80\xa6");
	if (!util_utf8_valid(line, strlen(line)))
		snprintf(line, sizeof line, "%.48s%s", t->name, done ?
		    ": done" : "...");
	return (json_object_new_string(line));
}

static struct json_object *
mcp_tool_meta(const struct tool *t)
{
	struct json_object	*meta, *ui;
	const struct widget	*w;

	meta = json_object_new_object();
	json_object_object_add(meta, "securitySchemes",
	    mcp_security_schemes(t));
	json_object_object_add(meta, "openai/toolInvocation/invoking",
	    mcp_status_line(t, false));
	json_object_object_add(meta, "openai/toolInvocation/invoked",
	    mcp_status_line(t, true));
	if ((w = widget_find(t->widget, NULL)) != NULL) {
		json_object_object_add(meta, "openai/outputTemplate",
		    json_object_new_string(w->uri));
		ui = json_object_new_object();
		json_object_object_add(ui, "resourceUri",
		    json_object_new_string(w->app_uri));
		json_object_object_add(meta, "ui", ui);
	}
	return (meta);
}

/* A tool as tools/list shows it, its years resolved as of UTC year. */
static struct json_object *
mcp_tool_descriptor(const struct mcp_ctx *ctx, const struct tool *t,
    long long year)
{
	struct json_object	*o, *ann;

	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(t->name));
	if (ctx->version >= MCP_V2025_06_18)
		json_object_object_add(o, "title",
		    json_object_new_string(t->title));
	json_object_object_add(o, "description",
	    json_object_new_string(t->description));
	json_object_object_add(o, "inputSchema",
	    tool_input_schema_for_year(t, year));
	if (ctx->version >= MCP_V2025_06_18)
		json_object_object_add(o, "outputSchema",
		    tool_schema_copy(tool_output_schema(t)));
	ann = tool_annotations_json(t);
	json_object_object_add(ann, "title", json_object_new_string(t->title));
	json_object_object_add(o, "annotations", ann);
	if (ctx->version >= MCP_V2025_06_18) {
		json_object_object_add(o, "securitySchemes",
		    mcp_security_schemes(t));
		json_object_object_add(o, "_meta", mcp_tool_meta(t));
	}
	return (o);
}

/* We never hand out cursors: a list is one page. */
static bool
mcp_cursor_ok(struct json_object *params)
{
	struct json_object	*c;

	return (params == NULL ||
	    !json_object_object_get_ex(params, "cursor", &c) ||
	    json_object_is_type(c, json_type_null));
}

/*
 * The "result" of tools/list. It depends on the protocol revision (and the
 * era it implies), the registry and the widgets (fixed in a process) and
 * the UTC year of "x-maximumYearOffset", nothing else: it is built from a
 * context that carries only version and modern, so that a builder reading
 * more of the request fails loudly instead of being cached. Caller owns.
 */
static struct json_object *
mcp_tools_list_build(enum mcp_version version, bool modern, long long year)
{
	struct mcp_ctx		 ctx;
	struct json_object	*result, *tools;
	size_t			 i;

	memset(&ctx, 0, sizeof ctx);
	ctx.version = version;
	ctx.modern = modern;
	tools = json_object_new_array();
	for (i = 0; i < tool_registry_count; i++)
		json_object_array_add(tools,
		    mcp_tool_descriptor(&ctx, tool_registry[i], year));
	result = json_object_new_object();
	json_object_object_add(result, "tools", tools);
	mcp_modern_result(&ctx, result, MCP_TTL_LIST);
	return (result);
}

/*
 * tools/list results of this worker process, serialised once per
 * (revision, era, year) and shared by its accept threads: one slot per
 * revision and era holding the last year asked for. A slot is (re)built
 * under the lock; callers take a reference, so a slot replaced at the turn
 * of the year stays valid for whoever is still sending it.
 */
static struct {
	pthread_mutex_t	 lock;
	long long	 year[MCP_NVERSIONS][2];
	struct rawjson	*text[MCP_NVERSIONS][2];
} mcp_lists = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The tools/list result for these inputs; a new reference (rawjson_free). */
static struct rawjson *
mcp_tools_list_cached(enum mcp_version version, bool modern, long long year)
{
	struct rawjson	**slot, *r;

	pthread_mutex_lock(&mcp_lists.lock);
	slot = &mcp_lists.text[version][modern];
	if (*slot == NULL || mcp_lists.year[version][modern] != year) {
		rawjson_free(*slot);
		*slot = rawjson_create(mcp_tools_list_build(version, modern,
		    year));
		mcp_lists.year[version][modern] = year;
	}
	r = rawjson_ref(*slot);
	pthread_mutex_unlock(&mcp_lists.lock);
	return (r);
}

char *
mcp_tools_list_text(enum mcp_version version, long long year, bool cached)
{
	bool		 modern = version == MCP_V2026_07_28;
	struct rawjson	*r;
	char		*s;

	if (!cached)
		r = rawjson_create(mcp_tools_list_build(version, modern, year));
	else
		r = mcp_tools_list_cached(version, modern, year);
	s = xstrdup(rawjson_text(r, NULL));
	rawjson_free(r);
	return (s);
}

static struct json_object *
mcp_tools_list(struct mcp_ctx *ctx, struct json_object *id,
    struct json_object *params)
{
	struct rawjson		*r;
	struct json_object	*result;

	if (!mcp_cursor_ok(params))
		return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 200,
		    "invalid cursor: tools/list has a single page"));
	r = mcp_tools_list_cached(ctx->version, ctx->modern, tool_this_year());
	result = rawjson_node(r);
	rawjson_free(r);
	return (mcp_result(id, result));
}

/* [{"type":"text","text":text}]; text is a string node (owned). */
static struct json_object *
mcp_text_node_content(struct json_object *text)
{
	struct json_object	*a, *c;

	c = json_object_new_object();
	json_object_object_add(c, "type", json_object_new_string("text"));
	json_object_object_add(c, "text", text);
	a = json_object_new_array();
	json_object_array_add(a, c);
	return (a);
}

static struct json_object *
mcp_text_content(const char *text)
{
	return (mcp_text_node_content(json_object_new_string(text)));
}

/* A tool execution error the model can act on. */
static struct json_object *
mcp_tool_error(const struct mcp_ctx *ctx, const struct tool *t,
    const struct tool_error *err)
{
	struct json_object	*result, *meta, *e;
	struct buf		 b;

	buf_init(&b);
	buf_printf(&b, "Error from %s (%s): %s", t->name,
	    err->code != NULL ? err->code : "error",
	    err->message != NULL ? err->message : "the call failed");
	if (err->field != NULL)
		buf_printf(&b, " [argument: %s]", err->field);
	if (err->status == 400)
		buf_puts(&b, " Fix the arguments and call the tool again.");
	else if (err->retry_after > 0)
		buf_printf(&b, " Try again in %d seconds.", err->retry_after);
	else if (err->status >= 500)
		buf_puts(&b, " AniList could not be reached right now; try "
		    "again later.");

	e = json_object_new_object();
	json_object_object_add(e, "status", json_object_new_int(err->status));
	json_object_object_add(e, "code", json_object_new_string(
	    err->code != NULL ? err->code : "error"));
	if (err->field != NULL)
		json_object_object_add(e, "field",
		    json_object_new_string(err->field));
	if (err->retry_after > 0)
		json_object_object_add(e, "retry_after",
		    json_object_new_int(err->retry_after));
	result = json_object_new_object();
	json_object_object_add(result, "content", mcp_text_content(b.data));
	json_object_object_add(result, "isError",
	    json_object_new_boolean(true));
	if (ctx->version >= MCP_V2025_06_18) {
		meta = json_object_new_object();
		json_object_object_add(meta, MCP_META_ERROR, e);
		json_object_object_add(result, "_meta", meta);
	} else
		json_object_put(e);
	buf_free(&b);
	return (result);
}

/* Who calls (0, 401 or 503 as mcp_auth_fn says), asked at most once. */
static int
mcp_who(struct mcp_ctx *ctx, const struct tool_auth **auth)
{
	if (!ctx->auth_asked) {
		ctx->auth_asked = true;
		if (ctx->in->authenticate != NULL)
			ctx->auth_status = ctx->in->authenticate(
			    ctx->in->auth_arg, &ctx->auth);
		else {
			ctx->auth = ctx->in->auth;
			ctx->auth_status = ctx->in->token_rejected ? 401 : 0;
		}
		if (ctx->auth_status != 0)
			ctx->auth = NULL;
	}
	*auth = ctx->auth;
	return (ctx->auth_status);
}

/*
 * A protected tool without a usable token: a tool result with the
 * challenge in _meta["mcp/www_authenticate"] (ChatGPT Apps), which a
 * client shows and starts OAuth from. No token at all: HTTP 200, so a
 * client that treats 401 as a transport failure still gets the result.
 * refused (a token came but was not accepted: ours, or the AniList token
 * behind it): HTTP 401 with WWW-Authenticate as well, as MCP's
 * authorization rules ask for an invalid or expired token.
 */
static struct json_object *
mcp_tool_challenge(struct mcp_ctx *ctx, const struct tool *t, bool refused)
{
	struct json_object	*result, *meta, *a;
	char			*challenge, *text;

	challenge = mcp_challenge(ctx->in->public_url, refused);
	xasprintf(&text, "%s needs the user's AniList account: the user must "
	    "connect (sign in with) their AniList account to this app (%s). "
	    "Ask the user to connect it, then call the tool again.", t->name,
	    refused ? "the access token was not accepted; connect again" :
	    "no account is connected yet");
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string(challenge));
	meta = json_object_new_object();
	json_object_object_add(meta, "mcp/www_authenticate", a);
	result = json_object_new_object();
	json_object_object_add(result, "content", mcp_text_content(text));
	json_object_object_add(result, "isError", json_object_new_boolean(true));
	json_object_object_add(result, "_meta", meta);
	if (refused && !ctx->batch) {
		ctx->status = 401;
		free(ctx->out->www_authenticate);
		ctx->out->www_authenticate = challenge;
	} else
		free(challenge);
	ctx->out->log_error = "unauthorized";
	free(text);
	return (result);
}

static struct json_object *
mcp_tools_call(struct mcp_ctx *ctx, struct json_object *id,
    struct json_object *params)
{
	struct json_object	*name, *args = NULL, *value, *result;
	struct rawjson		*raw;
	const struct tool	*t;
	const struct tool_auth	*auth;
	struct tool_call	 call;
	struct tool_error	 unavailable;
	int			 who;

	if (params == NULL || !json_object_object_get_ex(params, "name",
	    &name) || !json_object_is_type(name, json_type_string))
		return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 200,
		    "tools/call needs params.name (a string)"));
	if ((t = tool_find(json_object_get_string(name))) == NULL)
		return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 200,
		    "Unknown tool: %.128s", json_object_get_string(name)));
	ctx->out->log_tool = t->name;
	if (json_object_object_get_ex(params, "arguments", &args) &&
	    !json_object_is_type(args, json_type_object) &&
	    !json_object_is_type(args, json_type_null))
		return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 200,
		    "params.arguments of tools/call must be an object"));
	if (args != NULL && json_object_is_type(args, json_type_null))
		args = NULL;

	auth = NULL;
	who = t->auth != TOOL_AUTH_NONE ? mcp_who(ctx, &auth) : 0;
	if (who == 503) {
		memset(&unavailable, 0, sizeof unavailable);
		unavailable.status = 503;
		unavailable.code = "accounts_unavailable";
		unavailable.message = xstrdup("the account database is "
		    "unavailable, so the signed-in user cannot be checked");
		unavailable.retry_after = HTTP_RETRY_AFTER_DOWN;
		result = mcp_tool_error(ctx, t, &unavailable);
		tool_error_clear(&unavailable);
		ctx->out->log_error = "accounts unavailable";
	} else if (who == 401 || (t->auth == TOOL_AUTH_REQUIRED &&
	    auth == NULL))
		result = mcp_tool_challenge(ctx, t, who == 401);
	else if ((value = tool_invoke(t, args, auth, &call)) == NULL) {
		if (call.error.status == 401)
			result = mcp_tool_challenge(ctx, t, auth != NULL);
		else {
			result = mcp_tool_error(ctx, t, &call.error);
			ctx->out->log_error = call.error.code;
		}
		ctx->out->log_cache = call.cache;
		ctx->out->log_upstream_ms = call.upstream_ms;
		tool_call_free(&call);
	} else {
		result = json_object_new_object();
		/* A kept result carries its text quoted once already. */
		if ((raw = rawjson_of(value)) != NULL) {
			json_object_object_add(result, "content",
			    mcp_text_node_content(rawjson_node(
			    rawjson_quoted(raw))));
			ctx->out->body_utf8 = !ctx->batch;
		} else
			json_object_object_add(result, "content",
			    mcp_text_content(json_object_to_json_string_ext(
			    value, JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE)));
		if (ctx->version >= MCP_V2025_06_18)
			json_object_object_add(result, "structuredContent",
			    value);
		else
			json_object_put(value);
		json_object_object_add(result, "isError",
		    json_object_new_boolean(false));
		ctx->out->log_cache = call.cache;
		ctx->out->log_upstream_ms = call.upstream_ms;
		tool_call_free(&call);
	}
	mcp_modern_result(ctx, result, -1);
	return (mcp_result(id, result));
}

static struct json_object *
mcp_resource(const struct mcp_ctx *ctx, const struct widget *w, bool app)
{
	struct json_object	*o = json_object_new_object();
	char			*name;

	xasprintf(&name, "%s%s", w->name, app ? "-mcp-app" : "");
	json_object_object_add(o, "uri",
	    json_object_new_string(app ? w->app_uri : w->uri));
	json_object_object_add(o, "name", json_object_new_string(name));
	free(name);
	if (ctx->version >= MCP_V2025_06_18)
		json_object_object_add(o, "title",
		    json_object_new_string(w->title));
	json_object_object_add(o, "description",
	    json_object_new_string(w->description));
	json_object_object_add(o, "mimeType",
	    json_object_new_string(widget_mime(app)));
	if (ctx->version >= MCP_V2025_06_18)
		json_object_object_add(o, "_meta", widget_resource_meta(w,
		    ctx->in->public_url));
	return (o);
}

static struct json_object *
mcp_resources_list(struct mcp_ctx *ctx, struct json_object *id,
    struct json_object *params)
{
	struct json_object	*result, *list;
	size_t			 i;

	if (!mcp_cursor_ok(params))
		return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 200,
		    "invalid cursor: resources/list has a single page"));
	list = json_object_new_array();
	for (i = 0; i < widgets_count; i++) {
		json_object_array_add(list, mcp_resource(ctx, &widgets[i],
		    false));
		json_object_array_add(list, mcp_resource(ctx, &widgets[i],
		    true));
	}
	result = json_object_new_object();
	json_object_object_add(result, "resources", list);
	mcp_modern_result(ctx, result, MCP_TTL_LIST);
	return (mcp_result(id, result));
}

static struct json_object *
mcp_resource_templates(struct mcp_ctx *ctx, struct json_object *id,
    struct json_object *params)
{
	struct json_object	*result;

	if (!mcp_cursor_ok(params))
		return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 200,
		    "invalid cursor: resources/templates/list has a single "
		    "page"));
	result = json_object_new_object();
	json_object_object_add(result, "resourceTemplates",
	    json_object_new_array());
	mcp_modern_result(ctx, result, MCP_TTL_LIST);
	return (mcp_result(id, result));
}

static struct json_object *
mcp_resources_read(struct mcp_ctx *ctx, struct json_object *id,
    struct json_object *params)
{
	struct json_object	*uri, *result, *c, *contents, *data;
	const struct widget	*w;
	char			*html, *cause = NULL;
	bool			 app;

	if (params == NULL || !json_object_object_get_ex(params, "uri", &uri) ||
	    !json_object_is_type(uri, json_type_string))
		return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 200,
		    "resources/read needs params.uri (a string)"));
	if ((w = widget_find(json_object_get_string(uri), &app)) == NULL) {
		data = json_object_new_object();
		json_object_object_add(data, "uri", json_object_get(uri));
		ctx->status = 200;
		ctx->out->log_error = "resource_not_found";
		return (mcp_error_object(id, ctx->modern ? MCP_INVALID_PARAMS :
		    MCP_RESOURCE_NOT_FOUND, "Resource not found", data));
	}
	if ((html = widget_html(w, ctx->in->widgets_dir, &cause)) == NULL) {
		log_error("widget template unreadable",
		    LF_STR("uri", w->uri), LF_STR("error", cause), LF_END);
		free(cause);
		return (mcp_error(ctx, id, MCP_INTERNAL_ERROR, 500,
		    "the template of %s cannot be read", w->uri));
	}
	c = json_object_new_object();
	json_object_object_add(c, "uri", json_object_get(uri));
	json_object_object_add(c, "mimeType",
	    json_object_new_string(widget_mime(app)));
	json_object_object_add(c, "text", json_object_new_string(html));
	if (ctx->version >= MCP_V2025_06_18)
		json_object_object_add(c, "_meta", widget_resource_meta(w,
		    ctx->in->public_url));
	free(html);
	contents = json_object_new_array();
	json_object_array_add(contents, c);
	result = json_object_new_object();
	json_object_object_add(result, "contents", contents);
	mcp_modern_result(ctx, result, MCP_TTL_RESOURCE);
	return (mcp_result(id, result));
}

/* Decode standard base64 (with padding); NULL on bad input. Caller frees. */
static char *
mcp_base64_decode(const char *s, size_t len)
{
	static const char	 alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned int		 acc = 0;
	size_t			 i, pad = 0;
	int			 bits = 0;
	const char		*p;
	struct buf		 b;

	if (len % 4 != 0)
		return (NULL);
	buf_init(&b);
	buf_append(&b, "", 0);
	for (i = 0; i < len; i++) {
		if (s[i] == '=') {
			if (i < len - 2 || (i == len - 2 && s[len - 1] != '='))
				goto fail;
			pad++;
			continue;
		}
		if (s[i] == '\0' || (p = strchr(alphabet, s[i])) == NULL)
			goto fail;
		acc = (acc << 6) | (unsigned int)(p - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(&b, (char)((acc >> bits) & 0xff));
		}
	}
	if (pad > 2 || memchr(b.data, '\0', b.len) != NULL)
		goto fail;
	return (buf_detach(&b));
fail:
	buf_free(&b);
	return (NULL);
}

/* Does header value h (maybe "=?base64?…?=") carry exactly want? */
static bool
mcp_header_matches(const char *h, const char *want)
{
	size_t	 len;
	char	*dec;
	bool	 ok;

	if (h == NULL || want == NULL)
		return (false);
	len = strlen(h);
	if (len >= 11 && strncmp(h, "=?base64?", 9) == 0 &&
	    strcmp(h + len - 2, "?=") == 0) {
		if ((dec = mcp_base64_decode(h + 9, len - 11)) == NULL)
			return (false);
		ok = strcmp(dec, want) == 0;
		free(dec);
		return (ok);
	}
	return (strcmp(h, want) == 0);
}

/* The checks 2026-07-28 adds to every request; NULL when it passes. */
static struct json_object *
mcp_modern_checks(struct mcp_ctx *ctx, struct json_object *id,
    const char *method, struct json_object *params, struct json_object *meta)
{
	struct json_object	*caps, *name;
	const char		*key = NULL;

	if (!json_object_object_get_ex(meta, MCP_META_CAPS, &caps) ||
	    !json_object_is_type(caps, json_type_object))
		return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 400,
		    "params._meta[\"%s\"] (an object) is required",
		    MCP_META_CAPS));
	if (ctx->in->method == NULL)
		return (mcp_error(ctx, id, MCP_HEADER_MISMATCH, 400,
		    "Header mismatch: the Mcp-Method header is required"));
	if (strcmp(ctx->in->method, method) != 0)
		return (mcp_error(ctx, id, MCP_HEADER_MISMATCH, 400,
		    "Header mismatch: Mcp-Method header value '%.64s' does "
		    "not match body value '%.64s'", ctx->in->method, method));
	if (strcmp(method, "tools/call") == 0 ||
	    strcmp(method, "prompts/get") == 0)
		key = "name";
	else if (strcmp(method, "resources/read") == 0)
		key = "uri";
	if (key == NULL)
		return (NULL);
	if (ctx->in->name == NULL)
		return (mcp_error(ctx, id, MCP_HEADER_MISMATCH, 400,
		    "Header mismatch: the Mcp-Name header is required for %s",
		    method));
	if (!json_object_object_get_ex(params, key, &name) ||
	    !json_object_is_type(name, json_type_string) ||
	    !mcp_header_matches(ctx->in->name, json_object_get_string(name)))
		return (mcp_error(ctx, id, MCP_HEADER_MISMATCH, 400,
		    "Header mismatch: Mcp-Name header does not match "
		    "params.%s", key));
	return (NULL);
}

/* prompts/list and prompts/get (prompts.c). */
static struct json_object *
mcp_prompts(struct mcp_ctx *ctx, struct json_object *id, bool get,
    struct json_object *params)
{
	struct json_object	*name, *args = NULL, *result;
	char			*why;

	if (!get) {
		if (!mcp_cursor_ok(params))
			return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 200,
			    "invalid cursor: prompts/list has a single page"));
		result = prompts_list();
		mcp_modern_result(ctx, result, MCP_TTL_LIST);
		return (mcp_result(id, result));
	}
	if (params == NULL || !json_object_object_get_ex(params, "name",
	    &name) || !json_object_is_type(name, json_type_string))
		return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 200,
		    "prompts/get needs params.name (a string)"));
	(void)json_object_object_get_ex(params, "arguments", &args);
	if ((result = prompts_get(json_object_get_string(name), args,
	    &why)) == NULL) {
		result = mcp_error(ctx, id, MCP_INVALID_PARAMS, 200, "%s", why);
		free(why);
		return (result);
	}
	mcp_modern_result(ctx, result, -1);
	return (mcp_result(id, result));
}

static struct json_object *
mcp_dispatch(struct mcp_ctx *ctx, struct json_object *id, const char *method,
    struct json_object *params)
{
	if (strcmp(method, "prompts/list") == 0 ||
	    strcmp(method, "prompts/get") == 0)
		return (mcp_prompts(ctx, id, method[8] == 'g', params));
	if (strcmp(method, "tools/list") == 0)
		return (mcp_tools_list(ctx, id, params));
	if (strcmp(method, "tools/call") == 0)
		return (mcp_tools_call(ctx, id, params));
	if (strcmp(method, "resources/list") == 0)
		return (mcp_resources_list(ctx, id, params));
	if (strcmp(method, "resources/read") == 0)
		return (mcp_resources_read(ctx, id, params));
	if (strcmp(method, "resources/templates/list") == 0)
		return (mcp_resource_templates(ctx, id, params));
	if (ctx->modern) {
		if (strcmp(method, "server/discover") == 0)
			return (mcp_discover(ctx, id));
	} else {
		if (strcmp(method, "initialize") == 0) {
			if (ctx->batch)
				return (mcp_error(ctx, id,
				    MCP_INVALID_REQUEST, 400, "initialize "
				    "must not be part of a JSON-RPC batch"));
			return (mcp_initialize(ctx, id, params));
		}
		if (strcmp(method, "ping") == 0)
			return (mcp_result(id, json_object_new_object()));
	}
	return (mcp_error(ctx, id, MCP_METHOD_NOT_FOUND, ctx->modern ? 404 :
	    200, "Method not found: %.128s (protocol version %s)", method,
	    mcp_version_name(ctx->version)));
}

/*
 * The host's per-user identifier in a request's _meta (ChatGPT:
 * "openai/subject"), or NULL: a rate-limit key only, never an identity.
 */
static const char *
mcp_subject(struct json_object *meta)
{
	struct json_object	*v;
	size_t			 len;

	if (meta == NULL || !json_object_object_get_ex(meta, MCP_META_SUBJECT,
	    &v) || !json_object_is_type(v, json_type_string))
		return (NULL);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > MCP_SUBJECT_MAX)
		return (NULL);
	return (json_object_get_string(v));
}

/* Seconds the caller must wait, asked once per POST (0: go on). */
static int
mcp_limit(struct mcp_ctx *ctx, struct json_object *meta)
{
	if (!ctx->limit_asked) {
		ctx->limit_asked = true;
		if (ctx->in->limit != NULL)
			ctx->limited = ctx->in->limit(ctx->in->limit_arg,
			    mcp_subject(meta));
	}
	return (ctx->limited);
}

/*
 * A request over the caller's rate limit: tools/call gets a tool result
 * the model can relay (HTTP 200), everything else HTTP 429.
 */
static struct json_object *
mcp_limited(struct mcp_ctx *ctx, struct json_object *id, const char *method)
{
	struct json_object	*result, *meta, *e, *data;
	char			*text;

	ctx->out->log_error = "rate_limited";
	if (strcmp(method, "tools/call") != 0) {
		data = json_object_new_object();
		json_object_object_add(data, "retry_after",
		    json_object_new_int(ctx->limited));
		ctx->status = 429;
		return (mcp_error_object(id, MCP_RATE_LIMITED, "Rate limited: "
		    "too many requests; retry later", data));
	}
	xasprintf(&text, "Rate limit reached: this app has had too many "
	    "requests from this user (or their network) in the last minute. "
	    "Wait %d seconds, then call the tool again; tell the user so if "
	    "they are waiting.", ctx->limited);
	e = json_object_new_object();
	json_object_object_add(e, "status", json_object_new_int(429));
	json_object_object_add(e, "code", json_object_new_string(
	    "rate_limited"));
	json_object_object_add(e, "retry_after",
	    json_object_new_int(ctx->limited));
	meta = json_object_new_object();
	json_object_object_add(meta, MCP_META_ERROR, e);
	result = json_object_new_object();
	json_object_object_add(result, "content", mcp_text_content(text));
	json_object_object_add(result, "isError", json_object_new_boolean(true));
	json_object_object_add(result, "_meta", meta);
	mcp_modern_result(ctx, result, -1);
	free(text);
	return (mcp_result(id, result));
}

/*
 * One JSON-RPC message: the response object, or NULL when none is due
 * (a notification, or a response from the client).
 */
static struct json_object *
mcp_message(struct mcp_ctx *ctx, struct json_object *msg)
{
	struct json_object	*id = NULL, *v, *method, *params = NULL;
	struct json_object	*meta = NULL, *metaver = NULL, *err;
	const char		*m;
	bool			 has_id;
	int			 hv, mv;

	ctx->status = 200;
	ctx->modern = false;
	if (!json_object_is_type(msg, json_type_object))
		return (mcp_error(ctx, NULL, MCP_INVALID_REQUEST, 400,
		    "a JSON-RPC message must be an object"));
	has_id = json_object_object_get_ex(msg, "id", &id);
	if (has_id && !json_object_is_type(id, json_type_string) &&
	    !json_object_is_type(id, json_type_int))
		return (mcp_error(ctx, NULL, MCP_INVALID_REQUEST, 400,
		    "id must be a string or an integer"));
	if (!json_object_object_get_ex(msg, "jsonrpc", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "2.0") != 0)
		return (mcp_error(ctx, id, MCP_INVALID_REQUEST, 400,
		    "jsonrpc must be \"2.0\""));

	hv = mcp_version_parse(ctx->in->protocol_version);
	if (!json_object_object_get_ex(msg, "method", &method)) {
		if (has_id && (json_object_object_get_ex(msg, "result", &v) ||
		    json_object_object_get_ex(msg, "error", &v))) {
			if (hv == MCP_V2026_07_28)
				return (mcp_error(ctx, id, MCP_INVALID_REQUEST,
				    400, "clients must not send JSON-RPC "
				    "responses in protocol version %s",
				    mcp_version_name(MCP_V2026_07_28)));
			return (NULL);	/* nothing of ours awaits one */
		}
		return (mcp_error(ctx, id, MCP_INVALID_REQUEST, 400,
		    "a request needs a method"));
	}
	if (!json_object_is_type(method, json_type_string))
		return (mcp_error(ctx, id, MCP_INVALID_REQUEST, 400,
		    "method must be a string"));
	m = json_object_get_string(method);
	if (json_object_object_get_ex(msg, "params", &params) &&
	    !json_object_is_type(params, json_type_object)) {
		if (!has_id)
			return (NULL);
		return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 200,
		    "params must be an object"));
	}
	if (params != NULL && json_object_object_get_ex(params, "_meta",
	    &meta) && json_object_is_type(meta, json_type_object))
		json_object_object_get_ex(meta, MCP_META_VERSION, &metaver);
	else
		meta = NULL;

	/* Which era and version this message speaks. */
	if (metaver != NULL) {
		if (!json_object_is_type(metaver, json_type_string))
			return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 400,
			    "params._meta[\"%s\"] must be a string",
			    MCP_META_VERSION));
		if (ctx->in->protocol_version == NULL)
			return (mcp_error(ctx, id, MCP_HEADER_MISMATCH, 400,
			    "Header mismatch: the MCP-Protocol-Version header "
			    "is required"));
		if ((mv = mcp_version_parse(json_object_get_string(
		    metaver))) < 0)
			return (mcp_unsupported(ctx, id,
			    json_object_get_string(metaver)));
		/*
		 * Two supported revisions (an unsupported header was refused
		 * before): the body says more precisely what the client
		 * speaks, so it wins, and the pair is counted.
		 */
		if (mv != hv)
			metrics_mcp_version_mismatch(
			    mcp_version_name((enum mcp_version)hv),
			    mcp_version_name((enum mcp_version)mv));
		ctx->version = (enum mcp_version)mv;
	} else if (hv >= 0)
		ctx->version = (enum mcp_version)hv;
	else
		/* Nothing says: the richest shape; its fields are additions. */
		ctx->version = MCP_V2025_11_25;
	ctx->modern = ctx->version == MCP_V2026_07_28;

	if (!has_id)
		return (NULL);	/* notifications are accepted, never answered */
	if (ctx->modern) {
		if (meta == NULL || metaver == NULL)
			return (mcp_error(ctx, id, MCP_INVALID_PARAMS, 400,
			    "params._meta[\"%s\"] is required in protocol "
			    "version %s", MCP_META_VERSION,
			    mcp_version_name(MCP_V2026_07_28)));
		if ((err = mcp_modern_checks(ctx, id, m, params, meta)) != NULL)
			return (err);
	}
	if (mcp_limit(ctx, meta) > 0)
		return (mcp_limited(ctx, id, m));
	return (mcp_dispatch(ctx, id, m, params));
}

/* Parse the whole body as one JSON value; NULL on any error. */
static struct json_object *
mcp_parse(const char *body, size_t len)
{
	const char	*why;

	return (jsonbody_parse(body, len, MCP_MAX_DEPTH, &why));
}

static void
mcp_set_body(struct mcp_output *out, struct json_object *o)
{
	const char	*s;

	free(out->body);
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &out->body_len);
	out->body = xstrndup(s, out->body_len);
	json_object_put(o);
}

static void
mcp_batch(struct mcp_ctx *ctx, struct json_object *batch)
{
	struct json_object	*responses, *r;
	size_t			 i, n = json_object_array_length(batch);
	int			 hv = mcp_version_parse(ctx->in->protocol_version);

	if (hv >= 0 && hv != MCP_V2025_03_26) {
		r = mcp_error(ctx, NULL, MCP_INVALID_REQUEST, 400, "JSON-RPC "
		    "batches are not allowed in protocol version %s (only "
		    "2025-03-26 has them); send one message per POST",
		    mcp_version_name((enum mcp_version)hv));
		ctx->out->status = 400;
		mcp_set_body(ctx->out, r);
		return;
	}
	if (n == 0) {
		r = mcp_error(ctx, NULL, MCP_INVALID_REQUEST, 400,
		    "an empty JSON-RPC batch");
		ctx->out->status = 400;
		mcp_set_body(ctx->out, r);
		return;
	}
	ctx->batch = true;
	responses = json_object_new_array();
	for (i = 0; i < n; i++) {
		r = mcp_message(ctx, json_object_array_get_idx(batch, i));
		if (r != NULL)
			json_object_array_add(responses, r);
	}
	if (json_object_array_length(responses) == 0) {
		json_object_put(responses);
		ctx->out->status = 202;
		return;
	}
	ctx->out->status = 200;
	mcp_set_body(ctx->out, responses);
}

void
mcp_handle(const struct mcp_input *in, const char *body, size_t len,
    struct mcp_output *out)
{
	struct mcp_ctx		 ctx;
	struct json_object	*msg, *r;

	memset(out, 0, sizeof *out);
	out->log_upstream_ms = -1;
	memset(&ctx, 0, sizeof ctx);
	ctx.in = in;
	ctx.out = out;
	ctx.version = MCP_V2025_03_26;

	if (in->protocol_version != NULL &&
	    mcp_version_parse(in->protocol_version) < 0) {
		r = mcp_unsupported(&ctx, NULL, in->protocol_version);
		out->status = 400;
		mcp_set_body(out, r);
		return;
	}
	if ((msg = mcp_parse(body, len)) == NULL) {
		r = mcp_error(&ctx, NULL, MCP_PARSE_ERROR, 400, "Parse error: "
		    "the body is not one JSON value in UTF-8");
		out->status = 400;
		mcp_set_body(out, r);
		return;
	}
	if (json_object_is_type(msg, json_type_array))
		mcp_batch(&ctx, msg);
	else if ((r = mcp_message(&ctx, msg)) == NULL) {
		out->status = 202;
		out->log_error = NULL;
	} else {
		out->status = ctx.status;
		mcp_set_body(out, r);
	}
	json_object_put(msg);
}
