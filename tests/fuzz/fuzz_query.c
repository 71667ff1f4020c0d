/* fuzz_query.c: fuzz target: query-string parsing and percent-decoding (http.c). */
#include "autoconf.h"

#include <string.h>

#include "fuzz.h"
#include "http.h"
#include "util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_param	*params = NULL;
	size_t			 n = 0, i;
	char			*qs, *cause = NULL, *enc, *dec;
	int			 status;

	qs = fuzz_string(data, size);
	status = http_parse_query(qs, &params, &n, &cause);
	if (status == 0) {
		fuzz_assert(cause == NULL);
		fuzz_assert(n <= HTTP_MAX_PARAMS);
		for (i = 0; i < n; i++) {
			fuzz_assert(util_utf8_valid(params[i].key,
			    strlen(params[i].key)));
			fuzz_assert(util_utf8_valid(params[i].value,
			    strlen(params[i].value)));
			/* Encoding then decoding gives the value back. */
			enc = http_encode(params[i].value);
			dec = http_decode(enc, strlen(enc), false);
			fuzz_assert(dec != NULL);
			fuzz_assert(strcmp(dec, params[i].value) == 0);
			free(enc);
			free(dec);
		}
	} else {
		fuzz_assert(status == 400 || status == 414);
		fuzz_assert(cause != NULL && params == NULL && n == 0);
	}
	free(cause);
	http_params_free(params, n);
	free(qs);

	/* The raw bytes, NULs included: never longer than the input. */
	dec = http_decode((const char *)data, size, size % 2 == 0);
	if (dec != NULL)
		fuzz_assert(strlen(dec) <= size);
	free(dec);
	return (0);
}
