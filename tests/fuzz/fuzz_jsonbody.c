/* fuzz_jsonbody.c: fuzz target: the JSON body readers (jsonbody.c and the alert webhook's reader on top of it). */
#include "autoconf.h"

#include <string.h>

#include <json-c/json.h>

#include "alerts.h"
#include "fuzz.h"
#include "jsonbody.h"
#include "util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return (0);
}

/* Every string and key of a value that jsonbody_parse let through. */
static void
fuzz_check_strings(struct json_object *o, int depth)
{
	size_t	i, n;

	fuzz_assert(depth <= 8);
	switch (json_object_get_type(o)) {
	case json_type_string:
		fuzz_assert(jsonbody_string(o) != NULL);
		fuzz_assert(util_utf8_valid(jsonbody_string(o),
		    strlen(jsonbody_string(o))));
		break;
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			fuzz_check_strings(json_object_array_get_idx(o, i),
			    depth + 1);
		break;
	case json_type_object: {
		json_object_object_foreach(o, key, v) {
			fuzz_assert(util_utf8_valid(key, strlen(key)));
			fuzz_check_strings(v, depth + 1);
		}
		break;
	}
	default:
		break;
	}
}

/*
 * The input is the body itself. A value comes back only for UTF-8 text
 * without a NUL; its strings are whole C strings; it serialises to text
 * that parses again. The alert reader either fills a message or says why.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*o, *again;
	struct alerts_msg	 m;
	const char		*text = (const char *)data, *why, *out;
	char			*cause = NULL;
	size_t			 len;

	o = jsonbody_parse(text, size, 8, &why);
	if (o == NULL)
		fuzz_assert(why != NULL && *why != '\0');
	else {
		fuzz_assert(util_utf8_valid(text, size));
		fuzz_assert(!jsonbody_has_nul(text, size));
		fuzz_check_strings(o, 0);
		out = json_object_to_json_string_length(o,
		    JSON_C_TO_STRING_PLAIN, &len);
		fuzz_assert(!jsonbody_has_nul(out, len));
		again = jsonbody_parse(out, len, 8, &why);
		fuzz_assert(again != NULL);
		json_object_put(again);
		json_object_put(o);
	}
	if (alerts_parse(text, size, &m, &cause))
		alerts_msg_clear(&m);
	else
		fuzz_assert(cause != NULL);
	free(cause);
	return (0);
}
