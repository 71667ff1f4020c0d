/* handlers/mcp_endpoint.c: POST /mcp, the MCP Streamable HTTP endpoint (stateless, JSON or one-event SSE responses, no GET stream). */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "config.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "mcp.h"
#include "ratelimit.h"
#include "tool.h"
#include "util.h"

/* A JSON-RPC error without id, for failures before the body is read. */
static void
mcpep_reply_error(struct http_req *req, struct http_resp *resp, int status,
    int code, const char *log_error, const char *message)
{
	struct buf	b;

	buf_init(&b);
	buf_puts(&b, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":");
	buf_printf(&b, "%d,\"message\":", code);
	buf_json_string(&b, message);
	buf_puts(&b, "}}");
	http_resp_text(resp, status, "application/json", b.data);
	buf_free(&b);
	req->log_error = log_error;
}

/*
 * How to answer, from Accept: JSON when it is acceptable (absent: it is),
 * else one server-sent event when text/event-stream is; false when
 * neither is (406).
 */
static bool
mcpep_answer_kind(const char *accept, bool *sse)
{
	*sse = false;
	if (http_accepts(accept, "application/json"))
		return (true);
	*sse = http_accepts(accept, "text/event-stream");
	return (*sse);
}

/* What mcpep_authenticate and mcpep_limit need and keep for one POST. */
struct mcp_auth_state {
	struct http_req		*req;
	struct http_resp	*resp;
	bool			 limited;	/* mcpep_limit counted this POST */
	bool			 asked;		/* mcpep_authenticate's answer: */
	int			 status;
	struct auth_principal	 principal;	/* freed by the handler */
	struct tool_auth	 tool;		/* borrows principal's strings */
};

/*
 * Who calls, asked by mcp.c only when a tool that can act for a user is
 * called: our OAuth access token (Authorization: Bearer) checked by the
 * accounts layer. No Authorization header: anonymous. MCP clients
 * authenticate with bearer tokens only; a session cookie is not looked at.
 */
static int
mcpep_authenticate(void *arg, const struct tool_auth **auth)
{
	struct mcp_auth_state	*st = arg;
	const char		*authz;
	char			*cause = NULL;

	if (st->asked)
		goto out;
	st->asked = true;
	if ((authz = http_req_header(st->req, "Authorization")) == NULL)
		goto out;
	if (strncasecmp(authz, "Bearer ", 7) != 0) {
		st->status = 401;
		goto out;
	}
	st->status = auth_authenticate(st->req, &st->principal, &cause);
	if (st->status == 0)
		auth_principal_tool(&st->principal, &st->tool);
	else if (st->status != 401) {
		log_warn("MCP caller not checked", LF_STR("error", cause),
		    LF_END);
		st->status = 503;
	}
	free(cause);
out:
	*auth = st->asked && st->status == 0 && st->principal.user_id > 0 ?
	    &st->tool : NULL;
	return (st->status);
}

/*
 * The rate limit of one POST (ratelimit_mcp): the caller is the verified
 * token's user when a token came and verified, else the host's per-user
 * id, else only the address counts. A token is checked here only when one
 * was sent (its answer is kept for the tools).
 */
static int
mcpep_limit(void *arg, const char *subject)
{
	struct mcp_auth_state		*st = arg;
	struct ratelimit_caller		 caller;
	struct ratelimit_verdict	 shown;
	const struct tool_auth		*auth = NULL;

	st->limited = true;
	memset(&caller, 0, sizeof caller);
	if (http_req_header(st->req, "Authorization") != NULL &&
	    mcpep_authenticate(st, &auth) == 0 && auth != NULL)
		caller.user_id = auth->user_id;
	else
		caller.subject = subject;
	return (ratelimit_mcp(st->req, st->resp, &caller, &shown));
}

/*
 * A POST that served no request (refused before its body was read, only
 * notifications, not JSON) still counts against its address; over the
 * limit its answer becomes a 429.
 */
static void
mcpep_count_address(struct mcp_auth_state *st)
{
	struct ratelimit_caller		caller;
	struct ratelimit_verdict	shown;

	if (st->limited)
		return;
	st->limited = true;
	memset(&caller, 0, sizeof caller);
	if (ratelimit_mcp(st->req, st->resp, &caller, &shown) > 0)
		mcpep_reply_error(st->req, st->resp, 429, MCP_RATE_LIMITED,
		    "rate_limited", "Rate limited: too many requests from "
		    "this address; retry later");
}

/* Does a body of unknown type look like JSON: its first non-blank byte? */
static bool
mcpep_looks_json(const char *body, size_t len)
{
	size_t	i;

	for (i = 0; body != NULL && i < len; i++) {
		if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' &&
		    body[i] != '\n')
			return (body[i] == '{' || body[i] == '[');
	}
	return (false);
}

void
handle_mcp(struct http_req *req, struct http_resp *resp, const void *arg)
{
	struct mcp_input	 in;
	struct mcp_output	 out;
	struct mcp_auth_state	 st;
	const char		*origin = http_req_header(req, "Origin");
	enum http_body_kind	 kind;
	bool			 sse;

	memset(&st, 0, sizeof st);
	st.req = req;
	st.resp = resp;
	if (origin != NULL && !config_origin_allowed(cfg, origin) &&
	    !auth_origin_is_self(cfg->public_url, origin)) {
		mcpep_reply_error(req, resp, 403, MCP_INVALID_REQUEST,
		    "origin_not_allowed", "Forbidden: this Origin may not use "
		    "the MCP endpoint");
		goto out;
	}
	/*
	 * A body without a type, or with a generic one, is read when it
	 * parses as JSON; a form or anything else is refused.
	 */
	kind = http_req_body_kind(req);
	if (kind == HTTP_BODY_OTHER || (kind == HTTP_BODY_GENERIC &&
	    !mcpep_looks_json(req->body, req->body_len))) {
		mcpep_reply_error(req, resp, 415, MCP_INVALID_REQUEST,
		    "unsupported_media_type", "Unsupported Media Type: send "
		    "the JSON-RPC message as application/json");
		goto out;
	}
	if (!mcpep_answer_kind(http_req_header(req, "Accept"), &sse)) {
		mcpep_reply_error(req, resp, 406, MCP_INVALID_REQUEST,
		    "not_acceptable", "Not Acceptable: the client must accept "
		    "application/json and text/event-stream");
		goto out;
	}

	memset(&in, 0, sizeof in);
	in.protocol_version = http_req_header(req, "MCP-Protocol-Version");
	in.method = http_req_header(req, "Mcp-Method");
	in.name = http_req_header(req, "Mcp-Name");
	in.public_url = cfg->public_url;
	in.widgets_dir = *cfg->widgets_dir != '\0' ? cfg->widgets_dir :
	    PKGDATADIR "/widgets";
	in.authenticate = mcpep_authenticate;
	in.auth_arg = &st;
	in.limit = mcpep_limit;
	in.limit_arg = &st;

	mcp_handle(&in, req->body != NULL ? req->body : "", req->body_len,
	    &out);
	/* An SSE-only client gets the answer as one event, then the end. */
	if (out.body != NULL && sse && out.status == 200)
		http_resp_event(resp, out.status, "message", out.body,
		    out.body_len);
	else if (out.body != NULL && out.body_utf8)
		http_resp_json_text(resp, out.status, out.body, out.body_len);
	else if (out.body != NULL)
		http_resp_text(resp, out.status, "application/json", out.body);
	else
		resp->status = out.status;
	if (out.www_authenticate != NULL)
		http_resp_header(resp, "WWW-Authenticate", "%s",
		    out.www_authenticate);
	http_resp_header(resp, "Cache-Control", "no-store");
	req->log_tool = out.log_tool;
	req->log_cache = out.log_cache;
	req->log_upstream_ms = out.log_upstream_ms;
	req->log_error = out.log_error;
	mcp_output_free(&out);
out:
	mcpep_count_address(&st);
	auth_principal_free(&st.principal);
}
