/* fuzz_schema.c: fuzz target: the JSON-Schema validator with each real tool schema (tool.c). */
#include "autoconf.h"

#include <string.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "schema.h"
#include "tool.h"
#include "util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return (0);
}

static void
fuzz_check_error(const struct tool_error *err)
{
	fuzz_assert(err->status == 400);
	fuzz_assert(err->code != NULL);
	fuzz_assert(err->message != NULL && *err->message != '\0');
}

/*
 * The first byte picks a tool (and its input or output schema); the rest
 * is a JSON value to validate.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tool		*t;
	const struct json_object	*schema;
	struct json_object		*v;
	struct json_tokener		*tok;
	struct tool_error		 err;
	bool				 utf8;

	if (size < 1 || size - 1 > INT32_MAX)
		return (0);
	t = tool_registry[data[0] % tool_registry_count];
	schema = data[0] & 0x80 ? tool_output_schema(t) : tool_input_schema(t);
	fuzz_assert(schema != NULL);
	utf8 = util_utf8_valid((const char *)data + 1, size - 1);

	if ((tok = json_tokener_new()) == NULL)
		abort();
	v = json_tokener_parse_ex(tok, (const char *)data + 1, (int)(size - 1));
	if (v == NULL && json_tokener_get_error(tok) == json_tokener_continue)
		v = json_tokener_parse_ex(tok, "", 1);
	json_tokener_free(tok);
	/* null parses as NULL: the validator sees that too. */

	memset(&err, 0, sizeof err);
	if (!schema_validate(schema, v, &err)) {
		fuzz_check_error(&err);
		/* Messages go to clients in JSON: valid UTF-8 in, valid out. */
		if (utf8)
			fuzz_assert(util_utf8_valid(err.message,
			    strlen(err.message)));
		tool_error_clear(&err);
	} else {
		fuzz_assert(err.message == NULL);
		/* Defaults filled in, nulls dropped: still valid. */
		if (!schema_validate(schema, v, &err)) {
			fprintf(stderr, "fuzz: valid once, then not: %s\n",
			    err.message);
			abort();
		}
	}
	json_object_put(v);
	return (0);
}
