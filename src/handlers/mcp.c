/* handlers/mcp.c: POST /mcp, the MCP Streamable HTTP endpoint (stateless, JSON responses, no GET stream). */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "handlers.h"
#include "http.h"
#include "mcp.h"
#include "tool.h"
#include "util.h"

/* Is origin the service's own (PUBLIC_URL's scheme://host[:port])? */
static bool
mcp_origin_is_self(const char *origin)
{
	const char	*p = cfg->public_url, *host, *end;
	size_t		 len;

	if ((host = strstr(p, "://")) == NULL)
		return (false);
	end = strchr(host + 3, '/');
	len = end != NULL ? (size_t)(end - p) : strlen(p);
	return (strlen(origin) == len && strncasecmp(origin, p, len) == 0);
}

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

static bool
mcp_is_json_type(const char *type)
{
	size_t	len;

	if (type == NULL)
		return (false);
	len = strcspn(type, "; \t");
	return (len == 16 && strncasecmp(type, "application/json", 16) == 0);
}

/*
 * Who calls. This is the one place the accounts layer plugs in: once it
 * sets req->auth (or offers auth_authenticate), a verified principal comes
 * back from here. Until then no bearer token can be verified, so a token
 * presented is reported as rejected and protected tools answer with the
 * OAuth challenge; public tools ignore it.
 */
static const struct tool_auth *
mcp_authenticate(struct http_req *req, bool *rejected)
{
	*rejected = false;
	if (req->auth != NULL)
		return (req->auth);
	if (http_req_header(req, "Authorization") != NULL)
		*rejected = true;
	return (NULL);
}

HANDLER(handle_mcp)
{
	struct mcp_input	 in;
	struct mcp_output	 out;
	const char		*origin = http_req_header(req, "Origin");

	if (origin != NULL && !config_origin_allowed(cfg, origin) &&
	    !mcp_origin_is_self(origin)) {
		mcp_reply_error(req, resp, 403, MCP_INVALID_REQUEST,
		    "origin_not_allowed", "Forbidden: this Origin may not use "
		    "the MCP endpoint");
		return;
	}
	if (!mcp_is_json_type(http_req_header(req, "Content-Type"))) {
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
	in.auth = mcp_authenticate(req, &in.token_rejected);

	mcp_handle(&in, req->body != NULL ? req->body : "", req->body_len,
	    &out);
	if (out.body != NULL)
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
}
