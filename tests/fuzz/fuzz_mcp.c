/* fuzz_mcp.c: fuzz target: the MCP JSON-RPC request handler (mcp_handle), AniList unreachable. */
#include "autoconf.h"

#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "fuzz.h"
#include "mcp.h"
#include "util.h"

#ifndef ABS_TOP_SRCDIR
#define ABS_TOP_SRCDIR "."
#endif

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return (0);
}

static const char *const fuzz_versions[] = {
	NULL, "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28",
	"1999-01-01", "", NULL
};
static const char *const fuzz_methods[] = {
	NULL, "tools/call", "tools/list", "initialize"
};
static const char *const fuzz_names[] = {
	NULL, "search_anime", "get_anime", "nope"
};

/*
 * First byte: the MCP-Protocol-Version header (3 bits), Mcp-Method (2),
 * Mcp-Name (2) and whether a bearer token was rejected (1). The rest is
 * the POST body.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcp_input	 in;
	struct mcp_output	 out;
	struct json_object	*o;
	enum json_tokener_error	 jerr;

	if (size < 1)
		return (0);
	memset(&in, 0, sizeof in);
	in.protocol_version = fuzz_versions[data[0] & 7];
	in.method = fuzz_methods[(data[0] >> 3) & 3];
	in.name = fuzz_names[(data[0] >> 5) & 3];
	in.token_rejected = (data[0] & 0x80) != 0;
	in.public_url = cfg->public_url;
	in.widgets_dir = ABS_TOP_SRCDIR "/widgets";

	mcp_handle(&in, (const char *)data + 1, size - 1, &out);
	fuzz_assert(out.status == 200 || out.status == 202 ||
	    out.status == 400 || out.status == 401 || out.status == 404);
	if (out.status == 202)
		fuzz_assert(out.body == NULL);
	else {
		/* Every other answer is one JSON value in UTF-8. */
		fuzz_assert(out.body != NULL);
		fuzz_assert(util_utf8_valid(out.body, strlen(out.body)));
		o = json_tokener_parse_verbose(out.body, &jerr);
		fuzz_assert(jerr == json_tokener_success);
		json_object_put(o);
	}
	if (out.status == 401)
		fuzz_assert(out.www_authenticate != NULL);
	mcp_output_free(&out);
	return (0);
}
