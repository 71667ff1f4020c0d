/* fuzz_classify.c: fuzz target: how an AniList answer is classified (anilist_classify). */
#include "autoconf.h"

#include <string.h>

#include <json-c/json.h>

#include "anilist.h"
#include "fuzz.h"
#include "util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return (0);
}

static const long fuzz_statuses[] = {
	200, 0, -1, 100, 201, 204, 301, 400, 401, 403, 404, 408, 418, 429,
	500, 502, 503, 504, 599, 600, 999, 2147483647L
};

/*
 * First byte: the HTTP status (from the list) and the message buffer
 * size; the rest is the body, parsed as the client parses it.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*body = NULL, *validation = NULL;
	struct json_tokener	*tok;
	enum anilist_class	 cls;
	char			 msg[256];
	size_t			 msglen;
	long			 http;
	int			 status = -1;

	if (size < 1 || size - 1 > INT32_MAX)
		return (0);
	http = fuzz_statuses[(data[0] & 0x1f) % nitems(fuzz_statuses)];
	msglen = data[0] & 0x20 ? 16 : sizeof msg;
	if (size > 1) {
		if ((tok = json_tokener_new_ex(64)) == NULL)
			abort();
		body = json_tokener_parse_ex(tok, (const char *)data + 1,
		    (int)(size - 1));
		if (body != NULL &&
		    json_tokener_get_error(tok) != json_tokener_success) {
			json_object_put(body);
			body = NULL;
		}
		json_tokener_free(tok);
	}
	memset(msg, 'x', sizeof msg);
	cls = anilist_classify(http, body, &status, msg, msglen, &validation);

	fuzz_assert(memchr(msg, '\0', msglen) != NULL);
	fuzz_assert(strcmp(anilist_class_name(cls), "unknown") != 0);
	fuzz_assert((cls == ANILIST_OK) == (status == 200));
	fuzz_assert(status == 200 || status == 400 || status == 401 ||
	    status == 403 || status == 404 || status == 502 || status == 503);
	if (status != 200)
		fuzz_assert(*msg != '\0');
	if (validation != NULL) {
		fuzz_assert(cls == ANILIST_INVALID);
		fuzz_assert(json_object_is_type(validation, json_type_object));
	}
	/* The message reaches clients in JSON: always UTF-8. */
	fuzz_assert(util_utf8_valid(msg, strlen(msg)));
	json_object_put(body);
	return (0);
}
