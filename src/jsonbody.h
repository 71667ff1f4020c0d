/* jsonbody.h: reading JSON that a client sent: one value, UTF-8, no NUL, nothing after it. */
#ifndef JSONBODY_H
#define JSONBODY_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/*
 * Parse text (len bytes from a client) as exactly one JSON value nested at
 * most max_depth deep: valid UTF-8, no U+0000 anywhere (see
 * jsonbody_has_nul), only white space after the value. Returns the value
 * (caller puts), or NULL with *why set to a static reason for a person
 * ("the JSON text holds a NUL (\u0000)" …).
 */
struct json_object *jsonbody_parse(const char *text, size_t len,
	    int max_depth, const char **why);

/*
 * Does JSON text hold a U+0000: a NUL byte, or a \u0000 escape in a string
 * or a key? C strings stop at a NUL, so a value would be read short (json-c
 * keeps its full length: json_object_get_string_len differs from strlen)
 * and a key is cut short by json-c itself; both are refused.
 */
bool	 jsonbody_has_nul(const char *text, size_t len);

/*
 * The text of a JSON string value that holds no NUL (its length is its
 * strlen), or NULL for anything else. Borrowed from o.
 */
const char *jsonbody_string(const struct json_object *o);

#endif
