/* mcp.h: the Model Context Protocol over one HTTP POST: JSON-RPC parsing, version rules, dispatch to the tool registry and the widgets. */
#ifndef MCP_H
#define MCP_H

#include <stdbool.h>
#include <stddef.h>

struct tool_auth;

/* The protocol revisions served, oldest first. */
enum mcp_version {
	MCP_V2025_03_26,
	MCP_V2025_06_18,
	MCP_V2025_11_25,
	MCP_V2026_07_28,
	MCP_NVERSIONS
};

/* JSON-RPC 2.0 and MCP error codes. */
#define MCP_PARSE_ERROR		-32700
#define MCP_INVALID_REQUEST	-32600
#define MCP_METHOD_NOT_FOUND	-32601
#define MCP_INVALID_PARAMS	-32602
#define MCP_INTERNAL_ERROR	-32603
#define MCP_RESOURCE_NOT_FOUND	-32002	/* 2025-11-25 and earlier */
#define MCP_HEADER_MISMATCH	-32020	/* 2026-07-28 */
#define MCP_UNSUPPORTED_VERSION	-32022	/* 2026-07-28 */
#define MCP_RATE_LIMITED	-32000	/* ours (implementation-defined range) */

/*
 * Who calls: asked only when a tool that can act for a user is called, at
 * most once per POST (public tools never look at a token). Returns 0 with
 * *auth set (NULL: no token was sent), 401 when the token did not verify,
 * 503 when the accounts cannot be asked now.
 */
typedef int (*mcp_auth_fn)(void *arg, const struct tool_auth **auth);

/*
 * Whether the caller may go on: asked once per POST, before its first
 * request is served, with the host's per-user identifier from _meta
 * (ChatGPT's "openai/subject"; NULL when none: advisory, a rate-limit key
 * only). Returns 0, or the seconds the caller must wait.
 */
typedef int (*mcp_limit_fn)(void *arg, const char *subject);

/*
 * What the HTTP layer knows about one POST besides its body. Strings are
 * borrowed header values (NULL when absent).
 */
struct mcp_input {
	const char		*protocol_version;	/* MCP-Protocol-Version */
	const char		*method;		/* Mcp-Method */
	const char		*name;			/* Mcp-Name */
	const char		*public_url;		/* PUBLIC_URL, no slash at the end */
	const char		*widgets_dir;		/* WIDGETS_DIR */
	/* authenticate, when set, answers; else auth and token_rejected. */
	mcp_auth_fn		 authenticate;
	void			*auth_arg;
	const struct tool_auth	*auth;			/* NULL: anonymous */
	bool			 token_rejected;	/* a bearer token that did not verify */
	mcp_limit_fn		 limit;			/* NULL: not limited */
	void			*limit_arg;
};

/* The HTTP answer to one POST. */
struct mcp_output {
	int		 status;		/* 200, 202, 400, 401, 404, 429 */
	char		*body;			/* JSON text, NULL for 202; owned */
	size_t		 body_len;
	/*
	 * The body is valid UTF-8 as it is: a kept result (rawjson.h) in an
	 * envelope of our own and the checked request's strings.
	 */
	bool		 body_utf8;
	char		*www_authenticate;	/* challenge for 401, or NULL; owned */
	/* For the access log (static or pointing into the registry). */
	const char	*log_tool;
	const char	*log_cache;
	long		 log_upstream_ms;
	const char	*log_error;
};

/* "2025-06-18" … of a version, and the version of a string (-1 if unknown). */
const char	*mcp_version_name(enum mcp_version v);
int		 mcp_version_parse(const char *s);

/*
 * Answer one POST body (len bytes, need not be NUL-terminated) as the
 * Streamable HTTP transport says for each version: a request gets a JSON
 * response, notifications and responses 202 without a body, a batch
 * (2025-03-26 only) an array. Stateless: no session is issued or needed.
 * Fills out (release it with mcp_output_free).
 */
void	 mcp_handle(const struct mcp_input *in, const char *body, size_t len,
	    struct mcp_output *out);
void	 mcp_output_free(struct mcp_output *out);

/*
 * The "result" member of a tools/list response for version as of UTC
 * year, as JSON text: the worker's shared copy when cached (built on first
 * use), else built afresh. Caller frees. Tests compare the two.
 */
char	*mcp_tools_list_text(enum mcp_version version, long long year,
	    bool cached);

/*
 * The WWW-Authenticate challenge of a protected tool (RFC 9728
 * resource_metadata under public_url); invalid says the token presented
 * did not verify. Caller frees.
 */
char	*mcp_challenge(const char *public_url, bool invalid);

#endif
