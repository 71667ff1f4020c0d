/* fuzz_serve.c: fuzz target: one whole HTTP request through the pipeline (serve_handle: routes, handlers, tools), no servers. */
#include "autoconf.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "http.h"
#include "serve.h"
#include "util.h"

#define FUZZ_MAX_ENV	40

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return (0);
}

/* "Name: value" → "HTTP_NAME=value" (CONTENT_TYPE, CONTENT_LENGTH bare). */
static char *
fuzz_header(const char *line, size_t len)
{
	const char	*colon = memchr(line, ':', len);
	struct buf	 b;
	size_t		 i, nlen;

	if (colon == NULL)
		return (NULL);
	nlen = (size_t)(colon - line);
	buf_init(&b);
	if (!((nlen == 12 && strncasecmp(line, "Content-Type", 12) == 0) ||
	    (nlen == 14 && strncasecmp(line, "Content-Length", 14) == 0)))
		buf_puts(&b, "HTTP_");
	for (i = 0; i < nlen; i++)
		buf_putc(&b, line[i] == '-' ? '_' :
		    (char)toupper((unsigned char)line[i]));
	buf_putc(&b, '=');
	colon++;
	while (colon < line + len && *colon == ' ')
		colon++;
	buf_append(&b, colon, (size_t)(line + len - colon));
	return (buf_detach(&b));
}

/*
 * The input reads like a request: "METHOD TARGET\n", header lines, an
 * empty line, the body (bytes, NULs allowed).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*p = (const char *)data, *end = p + size, *nl;
	const char		*sp, *q;
	char			*env[FUZZ_MAX_ENV + 1], *line, rid[64];
	struct http_resp	 resp;
	struct json_object	*o;
	enum json_tokener_error	 jerr;
	size_t			 n = 0, len, i;

	if ((nl = memchr(p, '\n', size)) == NULL)
		return (0);
	line = xstrndup(p, (size_t)(nl - p));
	if (strlen(line) != (size_t)(nl - p) ||
	    (sp = strchr(line, ' ')) == NULL) {
		free(line);
		return (0);
	}
	xasprintf(&env[n++], "REQUEST_METHOD=%.*s", (int)(sp - line), line);
	xasprintf(&env[n++], "REQUEST_URI=%s", sp + 1);
	if ((q = strchr(sp + 1, '?')) != NULL)
		xasprintf(&env[n++], "QUERY_STRING=%s", q + 1);
	free(line);
	p = nl + 1;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL &&
	    nl != p) {
		len = (size_t)(nl - p);
		if (n < FUZZ_MAX_ENV && memchr(p, '\0', len) == NULL &&
		    (line = fuzz_header(p, len)) != NULL)
			env[n++] = line;
		p = nl + 1;
	}
	if (p < end && *p == '\n')
		p++;
	env[n] = NULL;

	http_resp_init(&resp);
	serve_handle(env, p < end ? p : NULL, (size_t)(end - p), &resp, rid,
	    sizeof rid);
	/* Bad input is a 4xx; a missing dependency a 503; never a 500. */
	fuzz_assert(resp.status >= 200 && resp.status <= 599);
	fuzz_assert(resp.status != 500);
	if (resp.content_type != NULL &&
	    strncmp(resp.content_type, "application/json", 16) == 0 &&
	    resp.body.len > 0) {
		fuzz_assert(util_utf8_valid(resp.body.data, resp.body.len));
		o = json_tokener_parse_verbose(resp.body.data, &jerr);
		fuzz_assert(jerr == json_tokener_success);
		json_object_put(o);
	}
	http_resp_free(&resp);
	for (i = 0; i < n; i++)
		free(env[i]);
	return (0);
}
