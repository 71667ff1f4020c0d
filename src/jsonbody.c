/* jsonbody.c: reading JSON that a client sent: one value, UTF-8, no NUL, nothing after it. */
#include "autoconf.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonbody.h"
#include "util.h"

bool
jsonbody_has_nul(const char *text, size_t len)
{
	size_t	i;
	bool	in_string = false;

	for (i = 0; i < len; i++) {
		if (text[i] == '\0')
			return (true);
		if (text[i] == '"')
			in_string = !in_string;
		else if (in_string && text[i] == '\\' && i + 1 < len) {
			if (text[i + 1] == 'u' && i + 5 < len &&
			    memcmp(text + i + 2, "0000", 4) == 0)
				return (true);
			i++;	/* the escaped character is not a quote */
		}
	}
	return (false);
}

const char *
jsonbody_string(const struct json_object *o)
{
	const char	*s;

	if (!json_object_is_type(o, json_type_string))
		return (NULL);
	s = json_object_get_string((struct json_object *)o);
	if (s == NULL || strlen(s) !=
	    (size_t)json_object_get_string_len(o))
		return (NULL);
	return (s);
}

/* The whole text as one value; NULL with *why on a syntax error. */
static struct json_object *
jsonbody_tokenise(const char *text, size_t len, int max_depth,
    const char **why)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	enum json_tokener_error	 err;
	size_t			 end;

	tok = json_tokener_new_ex(max_depth);
	if (tok == NULL)
		abort();
	o = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue) {
		/* A bare number ends only at the end of input: say so. */
		o = json_tokener_parse_ex(tok, "", 1);
		end = len;
	}
	err = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (o == NULL || err != json_tokener_success) {
		json_object_put(o);
		*why = err == json_tokener_continue ? "the JSON text ends too "
		    "early" : err == json_tokener_error_depth ? "the JSON text "
		    "is nested too deep" : "the text is not valid JSON";
		return (NULL);
	}
	for (; end < len; end++) {
		if (!isspace((unsigned char)text[end])) {
			json_object_put(o);
			*why = "there is text after the JSON value";
			return (NULL);
		}
	}
	return (o);
}

struct json_object *
jsonbody_parse(const char *text, size_t len, int max_depth, const char **why)
{
	*why = NULL;
	if (text == NULL || len == 0) {
		*why = "the body is empty";
		return (NULL);
	}
	if (len > (size_t)INT32_MAX) {
		*why = "the body is too large";
		return (NULL);
	}
	if (!util_utf8_valid(text, len)) {
		*why = "the body is not UTF-8";
		return (NULL);
	}
	if (jsonbody_has_nul(text, len)) {
		*why = "the JSON text holds a NUL (\\u0000), which no field "
		    "accepts";
		return (NULL);
	}
	return (jsonbody_tokenise(text, len, max_depth, why));
}
