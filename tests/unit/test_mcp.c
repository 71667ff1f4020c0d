/* test_mcp.c: the MCP protocol layer: JSON-RPC errors, version rules per revision, batches, 2026-07-28 _meta and headers, tools and widget resources. */
#include "autoconf.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "mcp.h"
#include "tool.h"
#include "util.h"
#include "widget.h"

#define V03	"2025-03-26"
#define V06	"2025-06-18"
#define V11	"2025-11-25"
#define V26	"2026-07-28"
#define META26	"\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"" \
	V26 "\",\"io.modelcontextprotocol/clientCapabilities\":{}}"

static char	widgets_dir[1024];

/* One POST through mcp_handle; *body is the parsed answer (or NULL). */
struct answer {
	int			 status;
	struct json_object	*body;
	char			*www_authenticate;
};

static struct answer
post(const char *version, const char *method, const char *name,
    const char *text)
{
	struct mcp_input	in;
	struct mcp_output	out;
	struct answer		a;

	memset(&in, 0, sizeof in);
	in.protocol_version = version;
	in.method = method;
	in.name = name;
	in.public_url = "https://example.test";
	in.widgets_dir = widgets_dir;
	mcp_handle(&in, text, strlen(text), &out);
	a.status = out.status;
	a.body = out.body != NULL ? json_tokener_parse(out.body) : NULL;
	if (out.body != NULL)
		ck_assert_msg(a.body != NULL, "not JSON: %s", out.body);
	a.www_authenticate = out.www_authenticate != NULL ?
	    xstrdup(out.www_authenticate) : NULL;
	mcp_output_free(&out);
	return (a);
}

static void
answer_free(struct answer *a)
{
	json_object_put(a->body);
	free(a->www_authenticate);
}

/*
 * The value at a dotted path ("result.tools.0.name"), or NULL. Keys that
 * contain dots themselves ("io.modelcontextprotocol/serverInfo") match
 * greedily: the longest run of segments that names a key wins.
 */
static struct json_object *
at(struct json_object *o, const char *path)
{
	char			*copy = xstrdup(path), *seg[32], *key;
	struct json_object	*next;
	size_t			 n = 0, i, j;
	struct buf		 b;

	for (key = copy; n < nitems(seg) && (seg[n] = strsep(&key, ".")) !=
	    NULL; n++)
		;
	for (i = 0; o != NULL && i < n; i = j) {
		if (json_object_is_type(o, json_type_array)) {
			o = json_object_array_get_idx(o, (size_t)atoi(seg[i]));
			j = i + 1;
			continue;
		}
		next = NULL;
		for (j = n; j > i; j--) {
			buf_init(&b);
			buf_append(&b, "", 0);
			for (size_t k = i; k < j; k++)
				buf_printf(&b, "%s%s", k > i ? "." : "", seg[k]);
			if (json_object_object_get_ex(o, b.data, &next)) {
				buf_free(&b);
				break;
			}
			buf_free(&b);
		}
		if (j == i)
			o = NULL;
		else
			o = next;
	}
	free(copy);
	return (o);
}

static const char *
str_at(struct json_object *o, const char *path)
{
	struct json_object	*v = at(o, path);

	return (v != NULL ? json_object_get_string(v) : NULL);
}

static int
error_code(struct json_object *o)
{
	struct json_object	*v = at(o, "error.code");

	ck_assert_msg(v != NULL, "no error in %s", o != NULL ?
	    json_object_to_json_string(o) : "(no body)");
	return (json_object_get_int(v));
}

/* Whole-body errors and envelope checks: one table. */
static const struct {
	const char	*version;	/* MCP-Protocol-Version header */
	const char	*body;
	int		 status;
	int		 code;
	bool		 null_id;
} envelope_cases[] = {
	{ NULL, "", 400, MCP_PARSE_ERROR, true },
	{ NULL, "{", 400, MCP_PARSE_ERROR, true },
	{ NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} x", 400,
	    MCP_PARSE_ERROR, true },
	{ NULL, "{\"jsonrpc\":\"2.0\",\"id\":\"\xff\",\"method\":\"ping\"}",
	    400, MCP_PARSE_ERROR, true },
	{ NULL, "\"ping\"", 400, MCP_INVALID_REQUEST, true },
	{ NULL, "42", 400, MCP_INVALID_REQUEST, true },
	{ NULL, "{\"id\":1,\"method\":\"ping\"}", 400, MCP_INVALID_REQUEST,
	    false },
	{ NULL, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", 400,
	    MCP_INVALID_REQUEST, false },
	{ NULL, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", 400,
	    MCP_INVALID_REQUEST, true },
	{ NULL, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", 400,
	    MCP_INVALID_REQUEST, true },
	{ NULL, "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", 400,
	    MCP_INVALID_REQUEST, true },
	{ NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", 400,
	    MCP_INVALID_REQUEST, false },
	{ NULL, "{\"jsonrpc\":\"2.0\",\"id\":1}", 400, MCP_INVALID_REQUEST,
	    false },
	{ NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
	    "\"params\":[1]}", 200, MCP_INVALID_PARAMS, false },
	{ NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope/nope\"}", 200,
	    MCP_METHOD_NOT_FOUND, false },
	{ "1900-01-01", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
	    400, MCP_UNSUPPORTED_VERSION, true },
	{ "not-a-version", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/list\"}", 400, MCP_UNSUPPORTED_VERSION, true },
};

START_TEST(test_envelope_errors_have_their_codes)
{
	struct answer	a;

	a = post(envelope_cases[_i].version, NULL, NULL,
	    envelope_cases[_i].body);
	ck_assert_int_eq(a.status, envelope_cases[_i].status);
	ck_assert_int_eq(error_code(a.body), envelope_cases[_i].code);
	ck_assert_ptr_nonnull(at(a.body, "error.message"));
	ck_assert_str_eq(str_at(a.body, "jsonrpc"), "2.0");
	if (envelope_cases[_i].null_id)
		ck_assert(json_object_is_type(at(a.body, "id"),
		    json_type_null));
	else
		ck_assert_int_eq(json_object_get_int(at(a.body, "id")), 1);
	answer_free(&a);
}
END_TEST

START_TEST(test_unsupported_version_lists_the_supported_ones)
{
	struct answer	a;
	struct json_object *s;

	a = post("2099-01-01", NULL, NULL,
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
	ck_assert_int_eq(a.status, 400);
	ck_assert_str_eq(str_at(a.body, "error.data.requested"), "2099-01-01");
	s = at(a.body, "error.data.supported");
	ck_assert_int_eq((int)json_object_array_length(s), MCP_NVERSIONS);
	ck_assert_str_eq(str_at(s, "0"), V26);
	ck_assert_str_eq(str_at(s, "3"), V03);
	answer_free(&a);
}
END_TEST

/* initialize: a supported legacy version is echoed, anything else gets the latest legacy one. */
static const struct {
	const char	*requested;
	const char	*answered;
} init_cases[] = {
	{ V03, V03 }, { V06, V06 }, { V11, V11 },
	{ "2024-11-05", V11 }, { V26, V11 }, { "garbage", V11 },
};

START_TEST(test_initialize_negotiates_the_version)
{
	struct answer	a;
	char		*body;

	xasprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":\"init\",\"method\":"
	    "\"initialize\",\"params\":{\"protocolVersion\":\"%s\","
	    "\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":"
	    "\"1\"}}}", init_cases[_i].requested);
	a = post(NULL, NULL, NULL, body);
	ck_assert_int_eq(a.status, 200);
	ck_assert_str_eq(str_at(a.body, "id"), "init");
	ck_assert_str_eq(str_at(a.body, "result.protocolVersion"),
	    init_cases[_i].answered);
	ck_assert_str_eq(str_at(a.body, "result.serverInfo.name"), PACKAGE);
	ck_assert_ptr_nonnull(at(a.body, "result.capabilities.tools"));
	ck_assert_ptr_nonnull(at(a.body, "result.capabilities.resources"));
	ck_assert_ptr_null(at(a.body, "result.resultType"));
	if (strcmp(init_cases[_i].answered, V03) != 0)
		ck_assert_ptr_nonnull(strstr(str_at(a.body,
		    "result.serverInfo.title"), "unofficial"));
	answer_free(&a);
	free(body);
}
END_TEST

START_TEST(test_initialize_without_version_is_invalid_params)
{
	struct answer	a;

	a = post(NULL, NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"initialize\",\"params\":{}}");
	ck_assert_int_eq(error_code(a.body), MCP_INVALID_PARAMS);
	answer_free(&a);
}
END_TEST

/* Notifications and client responses: 202 without a body, per version. */
static const struct {
	const char	*version;
	const char	*body;
} accepted_cases[] = {
	{ NULL, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}" },
	{ V06, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}" },
	{ V11, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	    "\"params\":{\"requestId\":3}}" },
	{ V11, "{\"jsonrpc\":\"2.0\",\"method\":\"no/such/notification\"}" },
	{ V26, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
	    "\"params\":{" META26 ",\"requestId\":3}}" },
	{ V11, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}" },
	{ NULL, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}]" },
};

START_TEST(test_notifications_get_202_without_body)
{
	struct answer	a;

	a = post(accepted_cases[_i].version, NULL, NULL,
	    accepted_cases[_i].body);
	ck_assert_int_eq(a.status, 202);
	ck_assert_ptr_null(a.body);
	answer_free(&a);
}
END_TEST

START_TEST(test_modern_clients_may_not_send_responses)
{
	struct answer	a;

	a = post(V26, NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}");
	ck_assert_int_eq(a.status, 400);
	ck_assert_int_eq(error_code(a.body), MCP_INVALID_REQUEST);
	answer_free(&a);
}
END_TEST

START_TEST(test_batch_allowed_in_2025_03_26)
{
	struct answer	a;

	a = post(NULL, NULL, NULL, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"ping\"},{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"},{\"jsonrpc\":"
	    "\"2.0\",\"id\":3,\"method\":\"tools/list\"}]");
	ck_assert_int_eq(a.status, 200);
	ck_assert(json_object_is_type(a.body, json_type_array));
	ck_assert_int_eq((int)json_object_array_length(a.body), 3);
	ck_assert_int_eq(json_object_get_int(at(a.body, "0.id")), 1);
	ck_assert_ptr_nonnull(at(a.body, "0.result"));
	ck_assert_int_eq(error_code(at(a.body, "1")), MCP_METHOD_NOT_FOUND);
	ck_assert_ptr_nonnull(at(a.body, "2.result.tools"));
	answer_free(&a);

	a = post(V03, NULL, NULL, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"initialize\",\"params\":{\"protocolVersion\":\"" V03 "\"}}]");
	ck_assert_int_eq(a.status, 200);
	ck_assert_int_eq(error_code(at(a.body, "0")), MCP_INVALID_REQUEST);
	answer_free(&a);
}
END_TEST

static const char *const batch_refused_versions[] = { V06, V11, V26 };

START_TEST(test_batch_refused_after_2025_03_26)
{
	struct answer	a;

	a = post(batch_refused_versions[_i], NULL, NULL,
	    "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
	ck_assert_int_eq(a.status, 400);
	ck_assert_int_eq(error_code(a.body), MCP_INVALID_REQUEST);
	answer_free(&a);
}
END_TEST

START_TEST(test_empty_batch_is_invalid)
{
	struct answer	a;

	a = post(NULL, NULL, NULL, "[]");
	ck_assert_int_eq(a.status, 400);
	ck_assert_int_eq(error_code(a.body), MCP_INVALID_REQUEST);
	answer_free(&a);
}
END_TEST

START_TEST(test_ping_legacy_only)
{
	struct answer	a;

	a = post(V11, NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"ping\"}");
	ck_assert_int_eq(a.status, 200);
	ck_assert(json_object_is_type(at(a.body, "result"), json_type_object));
	answer_free(&a);
	a = post(V26, "ping", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"ping\",\"params\":{" META26 "}}");
	ck_assert_int_eq(a.status, 404);
	ck_assert_int_eq(error_code(a.body), MCP_METHOD_NOT_FOUND);
	answer_free(&a);
}
END_TEST

/* 2026-07-28: what each request must carry, and the error when it does not. */
static const struct {
	const char	*version;	/* header */
	const char	*method;	/* Mcp-Method */
	const char	*name;		/* Mcp-Name */
	const char	*body;
	int		 status;
	int		 code;
} modern_cases[] = {
	/* no _meta at all, header says 2026-07-28 */
	{ V26, "tools/list", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/list\"}", 400, MCP_INVALID_PARAMS },
	/* clientCapabilities missing */
	{ V26, "tools/list", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/"
	    "protocolVersion\":\"" V26 "\"}}}", 400, MCP_INVALID_PARAMS },
	/* _meta version without the header */
	{ NULL, "tools/list", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/list\",\"params\":{" META26 "}}", 400,
	    MCP_HEADER_MISMATCH },
	/* header and _meta name two supported revisions: the body wins */
	{ V11, "tools/list", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/list\",\"params\":{" META26 "}}", 200, 0 },
	/* _meta names a revision nobody supports */
	{ V26, "tools/list", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/"
	    "protocolVersion\":\"2099-01-01\",\"io.modelcontextprotocol/"
	    "clientCapabilities\":{}}}}", 400, MCP_UNSUPPORTED_VERSION },
	/* Mcp-Method missing, then different */
	{ V26, NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/list\",\"params\":{" META26 "}}", 400,
	    MCP_HEADER_MISMATCH },
	{ V26, "resources/list", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/list\",\"params\":{" META26 "}}", 400,
	    MCP_HEADER_MISMATCH },
	/* Mcp-Name missing, different, badly encoded */
	{ V26, "tools/call", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":{" META26 ",\"name\":\"get_anime\","
	    "\"arguments\":{\"id\":0}}}", 400, MCP_HEADER_MISMATCH },
	{ V26, "tools/call", "search_anime", "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/call\",\"params\":{" META26 ",\"name\":"
	    "\"get_anime\",\"arguments\":{\"id\":0}}}", 400,
	    MCP_HEADER_MISMATCH },
	{ V26, "tools/call", "=?base64?!!!!?=", "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/call\",\"params\":{" META26 ",\"name\":"
	    "\"get_anime\",\"arguments\":{\"id\":0}}}", 400,
	    MCP_HEADER_MISMATCH },
	{ V26, "resources/read", "ui://widget/nope.html", "{\"jsonrpc\":\"2.0\","
	    "\"id\":1,\"method\":\"resources/read\",\"params\":{" META26 ","
	    "\"uri\":\"ui://widget/anime-list.html\"}}", 400,
	    MCP_HEADER_MISMATCH },
	/* legacy-only methods are unknown in 2026-07-28: 404 */
	{ V26, "initialize", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"initialize\",\"params\":{" META26 ",\"protocolVersion\":\"" V26
	    "\"}}", 404, MCP_METHOD_NOT_FOUND },
	{ V26, "logging/setLevel", NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"logging/setLevel\",\"params\":{" META26 "}}", 404,
	    MCP_METHOD_NOT_FOUND },
	/* base64 Mcp-Name ("get_anime") is decoded and matches */
	{ V26, "tools/call", "=?base64?Z2V0X2FuaW1l?=", "{\"jsonrpc\":\"2.0\","
	    "\"id\":1,\"method\":\"tools/call\",\"params\":{" META26 ","
	    "\"name\":\"get_anime\",\"arguments\":{\"id\":0}}}", 200, 0 },
};

START_TEST(test_modern_requests_need_meta_and_headers)
{
	struct answer	a;

	a = post(modern_cases[_i].version, modern_cases[_i].method,
	    modern_cases[_i].name, modern_cases[_i].body);
	ck_assert_int_eq(a.status, modern_cases[_i].status);
	if (modern_cases[_i].code != 0) {
		ck_assert_int_eq(error_code(a.body), modern_cases[_i].code);
		ck_assert_int_eq(json_object_get_int(at(a.body, "id")), 1);
	} else
		ck_assert_ptr_nonnull(at(a.body, "result"));
	answer_free(&a);
}
END_TEST

START_TEST(test_server_discover)
{
	struct answer	a;

	a = post(V26, "server/discover", NULL, "{\"jsonrpc\":\"2.0\",\"id\":"
	    "\"d\",\"method\":\"server/discover\",\"params\":{" META26 "}}");
	ck_assert_int_eq(a.status, 200);
	ck_assert_str_eq(str_at(a.body, "result.resultType"), "complete");
	ck_assert_str_eq(str_at(a.body, "result.supportedVersions.0"), V26);
	ck_assert_int_eq((int)json_object_array_length(at(a.body,
	    "result.supportedVersions")), MCP_NVERSIONS);
	ck_assert_ptr_nonnull(at(a.body, "result.capabilities.tools"));
	ck_assert_ptr_nonnull(at(a.body, "result.capabilities.extensions."
	    "io.modelcontextprotocol/ui"));
	ck_assert_str_eq(str_at(a.body, "result._meta.io.modelcontextprotocol/"
	    "serverInfo.name"), PACKAGE);
	ck_assert_int_gt(json_object_get_int(at(a.body, "result.ttlMs")), 0);
	ck_assert_str_eq(str_at(a.body, "result.cacheScope"), "public");
	answer_free(&a);

	/* legacy era: no such method */
	a = post(V11, NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"server/discover\"}");
	ck_assert_int_eq(error_code(a.body), MCP_METHOD_NOT_FOUND);
	answer_free(&a);
}
END_TEST

static struct json_object *
tool_named(struct json_object *tools, const char *name)
{
	size_t	i;

	for (i = 0; i < json_object_array_length(tools); i++) {
		if (strcmp(str_at(json_object_array_get_idx(tools, i), "name"),
		    name) == 0)
			return (json_object_array_get_idx(tools, i));
	}
	return (NULL);
}

START_TEST(test_tools_list_follows_the_version)
{
	static const char *const versions[] = { V03, V06, V11, V26 };
	struct answer		 a;
	struct json_object	*tools, *t;
	const struct tool	*rt;
	const struct widget	*w;
	const char		*v = versions[_i];
	char			*body;
	size_t			 i;
	bool			 app;

	if (strcmp(v, V26) == 0)
		body = xstrdup("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		    "\"tools/list\",\"params\":{" META26 "}}");
	else
		body = xstrdup("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		    "\"tools/list\"}");
	a = post(v, "tools/list", NULL, body);
	ck_assert_int_eq(a.status, 200);
	tools = at(a.body, "result.tools");
	ck_assert_int_eq((int)json_object_array_length(tools),
	    (int)tool_registry_count);
	for (i = 0; i < tool_registry_count; i++) {
		rt = tool_registry[i];
		t = tool_named(tools, rt->name);
		ck_assert_ptr_nonnull(t);
		ck_assert_str_eq(str_at(t, "description"), rt->description);
		ck_assert_str_eq(str_at(t, "inputSchema.type"), "object");
		ck_assert_str_eq(str_at(t, "annotations.title"), rt->title);
		ck_assert(json_object_get_boolean(at(t,
		    "annotations.readOnlyHint")) == rt->annotations.read_only);
		ck_assert_ptr_nonnull(at(t, "annotations.destructiveHint"));
		if (strcmp(v, V03) == 0) {
			ck_assert_ptr_null(at(t, "title"));
			ck_assert_ptr_null(at(t, "outputSchema"));
			ck_assert_ptr_null(at(t, "_meta"));
			continue;
		}
		ck_assert_str_eq(str_at(t, "title"), rt->title);
		ck_assert_ptr_nonnull(at(t, "outputSchema"));
		ck_assert_str_eq(str_at(t, "securitySchemes.0.type"),
		    rt->auth == TOOL_AUTH_REQUIRED ? "oauth2" : "noauth");
		if (rt->auth != TOOL_AUTH_NONE)
			ck_assert_str_eq(str_at(t, rt->auth ==
			    TOOL_AUTH_REQUIRED ? "securitySchemes.0.scopes.0" :
			    "securitySchemes.1.scopes.0"), "anilist");
		ck_assert_ptr_nonnull(at(t, "_meta.securitySchemes"));
		ck_assert_int_le((int)strlen(str_at(t,
		    "_meta.openai/toolInvocation/invoking")), 64);
		if (rt->widget == NULL) {
			ck_assert_ptr_null(at(t, "_meta.openai/outputTemplate"));
			continue;
		}
		/* the widget exists and both conventions point at it */
		w = widget_find(rt->widget, &app);
		ck_assert_msg(w != NULL && !app, "%s: unknown widget %s",
		    rt->name, rt->widget);
		ck_assert_str_eq(str_at(t, "_meta.openai/outputTemplate"),
		    w->uri);
		ck_assert_str_eq(str_at(t, "_meta.ui.resourceUri"),
		    w->app_uri);
	}
	if (strcmp(v, V26) == 0) {
		ck_assert_str_eq(str_at(a.body, "result.resultType"),
		    "complete");
		ck_assert_ptr_nonnull(at(a.body, "result.ttlMs"));
		ck_assert_str_eq(str_at(a.body, "result.cacheScope"), "public");
	} else
		ck_assert_ptr_null(at(a.body, "result.resultType"));
	answer_free(&a);
	free(body);
}
END_TEST

/* got and want are the same text; else say where they part (they are long). */
#define assert_same_text(got, want)	same_text(got, want, __LINE__)

static void
same_text(const char *got, const char *want, int line)
{
	size_t	i;

	for (i = 0; got[i] != '\0' && got[i] == want[i]; i++)
		;
	ck_assert_msg(got[i] == want[i], "line %d: texts differ at byte %zu "
	    "of %zu/%zu: got \"%.80s\", want \"%.80s\"", line, i,
	    strlen(got), strlen(want), got + (i > 20 ? i - 20 : 0),
	    want + (i > 20 ? i - 20 : 0));
}

/* The body of one tools/list POST (raw text), with id as JSON text. */
static char *
list_body(enum mcp_version v, const char *id)
{
	struct mcp_input	 in;
	struct mcp_output	 out;
	char			*text, *body;

	if (v == MCP_V2026_07_28)
		xasprintf(&text, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":"
		    "\"tools/list\",\"params\":{" META26 "}}", id);
	else
		xasprintf(&text, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":"
		    "\"tools/list\"}", id);
	memset(&in, 0, sizeof in);
	in.protocol_version = mcp_version_name(v);
	in.method = "tools/list";
	in.public_url = "https://example.test";
	in.widgets_dir = widgets_dir;
	mcp_handle(&in, text, strlen(text), &out);
	body = out.body;
	out.body = NULL;
	ck_assert_int_eq(out.status, 200);
	mcp_output_free(&out);
	free(text);
	return (body);
}

/* What a fresh build gives, in the JSON-RPC envelope with id (JSON text). */
static char *
list_expected(enum mcp_version v, long long year, const char *id)
{
	char	*fresh, *s;

	fresh = mcp_tools_list_text(v, year, false);
	xasprintf(&s, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":%s}", id,
	    fresh);
	free(fresh);
	return (s);
}

/* An id as sent and as json-c writes it back. */
static const struct {
	const char	*sent;
	const char	*echoed;
} list_ids[] = {
	{ "1", "1" },
	{ "-7", "-7" },
	{ "\"abc\"", "\"abc\"" },
	{ "\"a\\\"b\\/c\\u00e9\"", "\"a\\\"b/c\xc3\xa9\"" },
	{ "9007199254740993", "9007199254740993" },
};

/*
 * tools/list is served from a per-process cache; every answer is byte for
 * byte what a fresh build gives, for every id and every call.
 */
START_TEST(test_tools_list_cached_answer_is_the_fresh_build)
{
	enum mcp_version	 v;
	char			*got, *want;
	long long		 year;
	size_t			 i;
	int			 round, tries;

	/* the revisions interleaved: one process, one cache, all its slots */
	for (round = 0; round < 3; round++) {
		for (i = 0; i < nitems(list_ids) * MCP_NVERSIONS; i++) {
			v = (enum mcp_version)(i % MCP_NVERSIONS);
			/* retried if the year turns during the call */
			for (tries = 0; tries < 2; tries++) {
				year = tool_this_year();
				got = list_body(v, list_ids[i /
				    MCP_NVERSIONS].sent);
				want = list_expected(v, year, list_ids[i /
				    MCP_NVERSIONS].echoed);
				if (year == tool_this_year())
					break;
				free(got);
				free(want);
			}
			assert_same_text(got, want);
			free(got);
			free(want);
		}
	}
}
END_TEST

/* A batch (2025-03-26) splices the same text into each response. */
START_TEST(test_tools_list_cached_in_a_batch)
{
	struct mcp_input	 in;
	struct mcp_output	 out;
	const char		*text = "[{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"tools/list\"},{\"jsonrpc\":\"2.0\",\"id\":\"x\","
	    "\"method\":\"tools/list\"}]";
	char			*one, *two, *want;
	long long		 year = tool_this_year();

	memset(&in, 0, sizeof in);
	in.public_url = "https://example.test";
	in.widgets_dir = widgets_dir;
	mcp_handle(&in, text, strlen(text), &out);
	/* No header: the 2025-11-25 shape (its fields are additions). */
	one = list_expected(MCP_V2025_11_25, year, "1");
	two = list_expected(MCP_V2025_11_25, year, "\"x\"");
	xasprintf(&want, "[%s,%s]", one, two);
	ck_assert_int_eq(out.status, 200);
	assert_same_text(out.body, want);
	mcp_output_free(&out);
	free(one);
	free(two);
	free(want);
}
END_TEST

/*
 * The cache is keyed by the year: going from one year to the next and
 * back, each answer is that year's fresh build (and the years differ, so
 * an answer kept across the turn of the year would be caught).
 */
START_TEST(test_tools_list_cache_follows_the_year)
{
	enum mcp_version	 v = (enum mcp_version)_i;
	static const int	 offsets[] = { 0, 1, 1, 0, -30, 0 };
	long long		 now = tool_this_year();
	char			*cached, *fresh, *other;
	size_t			 i;

	fresh = mcp_tools_list_text(v, now, false);
	other = mcp_tools_list_text(v, now + 1, false);
	ck_assert(strcmp(fresh, other) != 0);
	free(fresh);
	free(other);
	for (i = 0; i < nitems(offsets); i++) {
		cached = mcp_tools_list_text(v, now + offsets[i], true);
		fresh = mcp_tools_list_text(v, now + offsets[i], false);
		assert_same_text(cached, fresh);
		free(cached);
		free(fresh);
	}
}
END_TEST

/*
 * Accept threads share the cache: some turn the year of a slot back and
 * forth (replacing its text) while others answer tools/list from it; every
 * answer stays exact (and, under ASan, no text is used after it is freed).
 */
#define LIST_THREADS	8
#define LIST_ROUNDS	40

struct list_worker {
	int		 n;
	enum mcp_version v;
	const char	*want_now;	/* envelope with id 1, this year */
	const char	*want_year[2];	/* fresh result, this year and next */
	long long	 now;
	int		 wrong;
};

static void *
list_thread(void *arg)
{
	struct list_worker	*w = arg;
	char			*s;
	int			 i;

	for (i = 0; i < LIST_ROUNDS; i++) {
		if (w->n % 2 == 0) {
			s = mcp_tools_list_text(w->v, w->now + (i % 2), true);
			w->wrong += strcmp(s, w->want_year[i % 2]) != 0;
		} else {
			s = list_body(w->v, "1");
			w->wrong += strcmp(s, w->want_now) != 0;
		}
		free(s);
	}
	return (NULL);
}

START_TEST(test_tools_list_cache_is_shared_by_threads)
{
	struct list_worker	 w[LIST_THREADS];
	pthread_t		 t[LIST_THREADS];
	char			*now_env, *fresh[2];
	long long		 now = tool_this_year();
	int			 i;

	now_env = list_expected(MCP_V2025_11_25, now, "1");
	fresh[0] = mcp_tools_list_text(MCP_V2025_11_25, now, false);
	fresh[1] = mcp_tools_list_text(MCP_V2025_11_25, now + 1, false);
	for (i = 0; i < LIST_THREADS; i++) {
		w[i].n = i;
		w[i].v = MCP_V2025_11_25;
		w[i].want_now = now_env;
		w[i].want_year[0] = fresh[0];
		w[i].want_year[1] = fresh[1];
		w[i].now = now;
		w[i].wrong = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, list_thread,
		    &w[i]), 0);
	}
	for (i = 0; i < LIST_THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < LIST_THREADS; i++)
		ck_assert_msg(w[i].wrong == 0, "thread %d: %d answers differ "
		    "from the fresh build", i, w[i].wrong);
	free(now_env);
	free(fresh[0]);
	free(fresh[1]);
}
END_TEST

/* tools/call errors: protocol errors vs isError results. */
static const struct {
	const char	*params;
	int		 code;		/* JSON-RPC error, or 0 for isError */
	const char	*text;		/* substring of the isError text */
} call_cases[] = {
	{ "{\"name\":\"no_such_tool\"}", MCP_INVALID_PARAMS, NULL },
	{ "{}", MCP_INVALID_PARAMS, NULL },
	{ "{\"name\":7}", MCP_INVALID_PARAMS, NULL },
	{ "{\"name\":\"get_anime\",\"arguments\":[1]}", MCP_INVALID_PARAMS,
	    NULL },
	{ "{\"name\":\"get_anime\",\"arguments\":{}}", 0, "id" },
	{ "{\"name\":\"get_anime\",\"arguments\":{\"id\":0}}", 0,
	    "[argument: id]" },
	{ "{\"name\":\"get_anime\",\"arguments\":{\"id\":\"x\"}}", 0,
	    "Fix the arguments" },
	{ "{\"name\":\"get_anime\",\"arguments\":{\"id\":1,\"bogus\":1}}", 0,
	    "bogus" },
};

START_TEST(test_tools_call_errors)
{
	struct answer	 a;
	char		*body;

	xasprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/call\",\"params\":%s}", call_cases[_i].params);
	a = post(V11, NULL, NULL, body);
	ck_assert_int_eq(a.status, 200);
	if (call_cases[_i].code != 0)
		ck_assert_int_eq(error_code(a.body), call_cases[_i].code);
	else {
		ck_assert(json_object_get_boolean(at(a.body,
		    "result.isError")));
		ck_assert_str_eq(str_at(a.body, "result.content.0.type"),
		    "text");
		ck_assert_msg(strstr(str_at(a.body, "result.content.0.text"),
		    call_cases[_i].text) != NULL, "%s",
		    str_at(a.body, "result.content.0.text"));
		ck_assert_str_eq(str_at(a.body, "result._meta.anilist-gpt/"
		    "error.code"), "invalid_argument");
		ck_assert_ptr_null(at(a.body, "result.structuredContent"));
	}
	answer_free(&a);
	free(body);
}
END_TEST

START_TEST(test_protected_tools_answer_with_the_challenge)
{
	struct mcp_input	 in;
	struct mcp_output	 out;
	struct json_object	*o;
	char			*body, *c;
	size_t			 i;
	unsigned		 protected = 0;

	c = mcp_challenge("https://example.test", false);
	ck_assert_ptr_nonnull(strstr(c, "Bearer resource_metadata=\""
	    "https://example.test/.well-known/oauth-protected-resource\", "
	    "scope=\"anilist\""));
	ck_assert_ptr_null(strstr(c, "invalid_token"));
	free(c);
	c = mcp_challenge("https://example.test", true);
	ck_assert_ptr_nonnull(strstr(c, "error=\"invalid_token\""));
	free(c);

	for (i = 0; i < tool_registry_count; i++) {
		if (tool_registry[i]->auth == TOOL_AUTH_NONE)
			continue;
		protected++;
		memset(&in, 0, sizeof in);
		in.public_url = "https://example.test";
		in.widgets_dir = widgets_dir;
		in.token_rejected = true;
		xasprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		    "\"tools/call\",\"params\":{\"name\":\"%s\"}}",
		    tool_registry[i]->name);
		mcp_handle(&in, body, strlen(body), &out);
		ck_assert_int_eq(out.status, 401);
		ck_assert_ptr_nonnull(strstr(out.www_authenticate,
		    "resource_metadata="));
		o = json_tokener_parse(out.body);
		ck_assert(json_object_get_boolean(at(o, "result.isError")));
		ck_assert_ptr_nonnull(strstr(str_at(o, "result._meta."
		    "mcp/www_authenticate.0"), "oauth-protected-resource"));
		json_object_put(o);
		mcp_output_free(&out);
		free(body);
	}
	/* Public tools never challenge, even with a token that did not verify. */
	memset(&in, 0, sizeof in);
	in.public_url = "https://example.test";
	in.token_rejected = true;
	body = xstrdup("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
	    "\"params\":{\"name\":\"get_anime\",\"arguments\":{\"id\":0}}}");
	mcp_handle(&in, body, strlen(body), &out);
	ck_assert_int_eq(out.status, 200);
	ck_assert_ptr_null(out.www_authenticate);
	mcp_output_free(&out);
	free(body);
	ck_assert_uint_ge(protected, 3);	/* the user tools, at least */
}
END_TEST

/* A stand-in for the accounts layer: what it answers and how often asked. */
static struct {
	int			 status;
	const struct tool_auth	*auth;
	unsigned		 asked;
} who;

static int
who_answer(void *arg, const struct tool_auth **auth)
{
	(void)arg;
	who.asked++;
	*auth = who.auth;
	return (who.status);
}

static struct mcp_output
post_as(const char *version, const char *text)
{
	struct mcp_input	in;
	struct mcp_output	out;

	memset(&in, 0, sizeof in);
	in.protocol_version = version;
	in.public_url = "https://example.test";
	in.widgets_dir = widgets_dir;
	in.authenticate = who_answer;
	mcp_handle(&in, text, strlen(text), &out);
	return (out);
}

#define CALL(name, args)						\
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","	\
	"\"params\":{\"name\":\"" name "\",\"arguments\":" args "}}"

/*
 * The accounts are asked only for a tool that can act for a user, once
 * per POST; a token is never looked at for public tools or tools/list.
 */
START_TEST(test_caller_is_asked_only_for_user_tools)
{
	struct mcp_output	 out;
	struct json_object	*o;

	memset(&who, 0, sizeof who);
	out = post_as(V11, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"tools/list\"}");
	ck_assert_int_eq(out.status, 200);
	mcp_output_free(&out);
	out = post_as(V11, CALL("get_anime", "{\"id\":0}"));
	ck_assert_int_eq(out.status, 200);
	mcp_output_free(&out);
	ck_assert_uint_eq(who.asked, 0);

	/*
	 * No token (0, NULL): the required tool answers HTTP 200 with the
	 * challenge in the result (no WWW-Authenticate, no invalid_token).
	 */
	out = post_as(V11, CALL("delete_list_entry", "{\"media_id\":1}"));
	ck_assert_int_eq(out.status, 200);
	ck_assert_ptr_null(out.www_authenticate);
	o = json_tokener_parse(out.body);
	ck_assert(json_object_get_boolean(at(o, "result.isError")));
	ck_assert_ptr_nonnull(strstr(str_at(o, "result._meta."
	    "mcp/www_authenticate.0"), "scope=\"anilist\""));
	ck_assert_ptr_null(strstr(str_at(o, "result._meta."
	    "mcp/www_authenticate.0"), "invalid_token"));
	ck_assert_ptr_nonnull(strstr(str_at(o, "result.content.0.text"),
	    "connect"));
	json_object_put(o);
	mcp_output_free(&out);
	ck_assert_uint_eq(who.asked, 1);

	/* A refused token: invalid_token, even for an optional tool. */
	who.status = 401;
	out = post_as(V11, CALL("get_user_list", "{\"user_name\":\"x\"}"));
	ck_assert_int_eq(out.status, 401);
	ck_assert_ptr_nonnull(strstr(out.www_authenticate, "invalid_token"));
	mcp_output_free(&out);

	/* Two user tools in one batch (2025-03-26): asked once. */
	who.asked = 0;
	out = post_as(V03, "[" CALL("delete_list_entry", "{\"media_id\":1}")
	    "," CALL("update_list_entry", "{\"media_id\":1}") "]");
	ck_assert_int_eq(out.status, 200);
	ck_assert_uint_eq(who.asked, 1);
	mcp_output_free(&out);

	/* The accounts down: a tool error the model can act on, not a 401. */
	who.status = 503;
	out = post_as(V11, CALL("get_user_list", "{}"));
	ck_assert_int_eq(out.status, 200);
	ck_assert_ptr_null(out.www_authenticate);
	o = json_tokener_parse(out.body);
	ck_assert(json_object_get_boolean(at(o, "result.isError")));
	ck_assert_int_eq(json_object_get_int(at(o, "result._meta."
	    "anilist-gpt/error.status")), 503);
	ck_assert_str_eq(str_at(o, "result._meta.anilist-gpt/error.code"),
	    "accounts_unavailable");
	ck_assert_int_eq(json_object_get_int(at(o, "result._meta."
	    "anilist-gpt/error.retry_after")), 5);
	json_object_put(o);
	mcp_output_free(&out);
}
END_TEST

/* Signed in: arguments are still checked before anything is sent. */
START_TEST(test_signed_in_user_tool_validates_arguments)
{
	struct tool_auth	 ta = { .user_id = 7, .anilist_id = 70,
				    .name = "someone", .anilist_token = "t",
				    .scope = "user:7" };
	struct mcp_output	 out;
	struct json_object	*o;

	memset(&who, 0, sizeof who);
	who.auth = &ta;
	out = post_as(V11, CALL("update_list_entry",
	    "{\"media_id\":1,\"score\":101}"));
	ck_assert_int_eq(out.status, 200);
	o = json_tokener_parse(out.body);
	ck_assert(json_object_get_boolean(at(o, "result.isError")));
	ck_assert_str_eq(str_at(o, "result._meta.anilist-gpt/error.field"),
	    "score");
	json_object_put(o);
	mcp_output_free(&out);
	ck_assert_uint_eq(who.asked, 1);
}
END_TEST

START_TEST(test_widget_resources_list_and_read)
{
	struct answer		 a;
	struct json_object	*list, *r;
	char			*body;
	size_t			 i;
	const char		*mime, *html;

	a = post(V11, NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"resources/list\"}");
	list = at(a.body, "result.resources");
	ck_assert_int_eq((int)json_object_array_length(list),
	    (int)(2 * widgets_count));
	for (i = 0; i < json_object_array_length(list); i++) {
		r = json_object_array_get_idx(list, i);
		mime = str_at(r, "mimeType");
		ck_assert(strncmp(str_at(r, "uri"), "ui://", 5) == 0);
		ck_assert(strcmp(mime, WIDGET_MIME_SKYBRIDGE) == 0 ||
		    strcmp(mime, WIDGET_MIME_MCP_APP) == 0);
		ck_assert_str_eq(str_at(r, "_meta.ui.csp.resourceDomains.0"),
		    "https://s4.anilist.co");
		ck_assert_str_eq(str_at(r,
		    "_meta.openai/widgetCSP.resource_domains.1"),
		    "https://img.anili.st");
		ck_assert_int_eq((int)json_object_array_length(at(r,
		    "_meta.ui.csp.connectDomains")), 0);
	}
	answer_free(&a);

	for (i = 0; i < widgets_count; i++) {
		xasprintf(&body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		    "\"resources/read\",\"params\":{\"uri\":\"%s\"}}",
		    i % 2 == 0 ? widgets[i].uri : widgets[i].app_uri);
		a = post(V11, NULL, NULL, body);
		ck_assert_int_eq(a.status, 200);
		html = str_at(a.body, "result.contents.0.text");
		ck_assert_ptr_nonnull(html);
		ck_assert(strncmp(html, "<!DOCTYPE html>", 15) == 0);
		ck_assert_ptr_null(strstr(html, "#include"));
		ck_assert_ptr_nonnull(strstr(html, "var AGW"));
		ck_assert_ptr_null(strstr(html, "innerHTML"));
		ck_assert_str_eq(str_at(a.body, "result.contents.0.mimeType"),
		    widget_mime(i % 2 != 0));
		ck_assert_ptr_nonnull(at(a.body,
		    "result.contents.0._meta.ui.csp"));
		answer_free(&a);
		free(body);
	}

	a = post(V11, NULL, NULL, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"resources/read\",\"params\":{\"uri\":\"ui://widget/x.html\"}}");
	ck_assert_int_eq(error_code(a.body), MCP_RESOURCE_NOT_FOUND);
	answer_free(&a);
	a = post(V26, "resources/read", "ui://widget/x.html", "{\"jsonrpc\":"
	    "\"2.0\",\"id\":1,\"method\":\"resources/read\",\"params\":{"
	    META26 ",\"uri\":\"ui://widget/x.html\"}}");
	ck_assert_int_eq(error_code(a.body), MCP_INVALID_PARAMS);
	answer_free(&a);
	a = post(V26, "resources/templates/list", NULL, "{\"jsonrpc\":\"2.0\","
	    "\"id\":1,\"method\":\"resources/templates/list\",\"params\":{"
	    META26 "}}");
	ck_assert_int_eq((int)json_object_array_length(at(a.body,
	    "result.resourceTemplates")), 0);
	ck_assert_str_eq(str_at(a.body, "result.resultType"), "complete");
	answer_free(&a);
}
END_TEST

START_TEST(test_widget_include_refuses_escapes)
{
	const struct widget	 bad = { "ui://x", "ui://y", "bad.html", "b",
	    "B", "d" };
	char			*dir, *path, *cause = NULL;
	FILE			*f;

	dir = xstrdup("/tmp/agpt-widget-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	xasprintf(&path, "%s/bad.html", dir);
	f = fopen(path, "w");
	fputs("<script>/*#include evil.js*/</script>", f);
	fclose(f);
	free(path);
	xasprintf(&path, "%s/evil.js", dir);
	f = fopen(path, "w");
	fputs("x = 1;</script><script>alert(1)", f);
	fclose(f);
	ck_assert_ptr_null(widget_html(&bad, dir, &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	unlink(path);
	free(path);
	/* a missing include names the file */
	ck_assert_ptr_null(widget_html(&bad, dir, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "evil.js"));
	free(cause);
	xasprintf(&path, "%s/bad.html", dir);
	unlink(path);
	free(path);
	rmdir(dir);
	free(dir);
}
END_TEST

static Suite *
mcp_suite(void)
{
	Suite	*s = suite_create("mcp");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_envelope_errors_have_their_codes, 0,
	    (int)nitems(envelope_cases));
	tcase_add_test(tc, test_unsupported_version_lists_the_supported_ones);
	tcase_add_loop_test(tc, test_initialize_negotiates_the_version, 0,
	    (int)nitems(init_cases));
	tcase_add_test(tc, test_initialize_without_version_is_invalid_params);
	tcase_add_loop_test(tc, test_notifications_get_202_without_body, 0,
	    (int)nitems(accepted_cases));
	tcase_add_test(tc, test_modern_clients_may_not_send_responses);
	tcase_add_test(tc, test_batch_allowed_in_2025_03_26);
	tcase_add_loop_test(tc, test_batch_refused_after_2025_03_26, 0,
	    (int)nitems(batch_refused_versions));
	tcase_add_test(tc, test_empty_batch_is_invalid);
	tcase_add_test(tc, test_ping_legacy_only);
	tcase_add_loop_test(tc, test_modern_requests_need_meta_and_headers, 0,
	    (int)nitems(modern_cases));
	tcase_add_test(tc, test_server_discover);
	tcase_add_loop_test(tc, test_tools_list_follows_the_version, 0, 4);
	tcase_add_test(tc, test_tools_list_cached_answer_is_the_fresh_build);
	tcase_add_test(tc, test_tools_list_cached_in_a_batch);
	tcase_add_loop_test(tc, test_tools_list_cache_follows_the_year, 0,
	    MCP_NVERSIONS);
	tcase_add_test(tc, test_tools_list_cache_is_shared_by_threads);
	tcase_add_loop_test(tc, test_tools_call_errors, 0,
	    (int)nitems(call_cases));
	tcase_add_test(tc, test_protected_tools_answer_with_the_challenge);
	tcase_add_test(tc, test_caller_is_asked_only_for_user_tools);
	tcase_add_test(tc, test_signed_in_user_tool_validates_arguments);
	tcase_add_test(tc, test_widget_resources_list_and_read);
	tcase_add_test(tc, test_widget_include_refuses_escapes);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner		*sr;
	const char	*top = getenv("top_srcdir");
	char		*cause = NULL;
	int		 failed;

	snprintf(widgets_dir, sizeof widgets_dir, "%s/widgets",
	    top != NULL ? top : "..");
	if (!tool_init(&cause)) {
		fprintf(stderr, "tool_init: %s\n", cause);
		return (1);
	}
	sr = srunner_create(mcp_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tool_shutdown();
	return (failed == 0 ? 0 : 1);
}
