/* handlers/mcp.c: POST /mcp, the MCP Streamable HTTP endpoint (stateless, JSON responses, no GET stream). */
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
#include "tool.h"
#include "util.h"

/* A JSON-RPC error without id, for failures before the body is read. */
static void
mcp_reply_error(struct http_req *req, struct http_resp *resp, int status,
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

/* Does the Accept header (absent: anything) allow application/json? */
static bool
mcp_accepts_json(const char *accept)
{
	const char	*p, *end;
	size_t		 len;

	if (accept == NULL)
		return (true);
	for (p = accept; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strcspn(p, ",");
		len = strcspn(p, ";, \t");
		if ((len == 16 && strncasecmp(p, "application/json", 16) == 0) ||
		    (len == 13 && strncasecmp(p, "application/*", 13) == 0) ||
		    (len == 3 && strncmp(p, "*/*", 3) == 0))
			return (true);
	}
	return (false);
}

/* What mcp_authenticate needs and keeps for the length of one POST. */
struct mcp_auth_state {
	struct http_req		*req;
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
mcp_authenticate(void *arg, const struct tool_auth **auth)
{
	struct mcp_auth_state	*st = arg;
	const char		*authz;
	char			*cause = NULL;
	int			 status;

	*auth = NULL;
	if ((authz = http_req_header(st->req, "Authorization")) == NULL)
		return (0);
	if (strncasecmp(authz, "Bearer ", 7) != 0)
		return (401);
	status = auth_authenticate(st->req, &st->principal, &cause);
	if (status == 0) {
		auth_principal_tool(&st->principal, &st->tool);
		*auth = &st->tool;
	} else if (status != 401) {
		log_warn("MCP caller not checked", LF_STR("error", cause),
		    LF_END);
		status = 503;
	}
	free(cause);
	return (status);
}

void
handle_mcp(struct http_req *req, struct http_resp *resp, const void *arg)
{
	struct mcp_input	 in;
	struct mcp_output	 out;
	struct mcp_auth_state	 st;
	const char		*origin = http_req_header(req, "Origin");

	if (origin != NULL && !config_origin_allowed(cfg, origin) &&
	    !auth_origin_is_self(cfg->public_url, origin)) {
		mcp_reply_error(req, resp, 403, MCP_INVALID_REQUEST,
		    "origin_not_allowed", "Forbidden: this Origin may not use "
		    "the MCP endpoint");
		return;
	}
	if (!http_req_is_json(req)) {
		mcp_reply_error(req, resp, 415, MCP_INVALID_REQUEST,
		    "unsupported_media_type", "Unsupported Media Type: send "
		    "the JSON-RPC message as application/json");
		return;
	}
	if (!mcp_accepts_json(http_req_header(req, "Accept"))) {
		mcp_reply_error(req, resp, 406, MCP_INVALID_REQUEST,
		    "not_acceptable", "Not Acceptable: the client must accept "
		    "application/json and text/event-stream");
		return;
	}

	memset(&in, 0, sizeof in);
	in.protocol_version = http_req_header(req, "MCP-Protocol-Version");
	in.method = http_req_header(req, "Mcp-Method");
	in.name = http_req_header(req, "Mcp-Name");
	in.public_url = cfg->public_url;
	in.widgets_dir = *cfg->widgets_dir != '\0' ? cfg->widgets_dir :
	    PKGDATADIR "/widgets";
	memset(&st, 0, sizeof st);
	st.req = req;
	in.authenticate = mcp_authenticate;
	in.auth_arg = &st;

	mcp_handle(&in, req->body != NULL ? req->body : "", req->body_len,
	    &out);
	if (out.body != NULL && out.body_utf8)
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
	auth_principal_free(&st.principal);
}
