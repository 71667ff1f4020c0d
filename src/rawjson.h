/* rawjson.h: JSON text serialised once, shared by threads, and spliced into later json-c documents without reparsing. */
#ifndef RAWJSON_H
#define RAWJSON_H

#include <stddef.h>

struct json_object;

/* Immutable serialised JSON, reference counted (any thread may hold one). */
struct rawjson;

/*
 * Serialise o as responses are (JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE) into a new rawjson holding one
 * reference. Takes ownership of o. The text is valid UTF-8: bytes json-c
 * copied as they were and that are not UTF-8 become U+FFFD, as in every
 * response (http_resp_json).
 */
struct rawjson	*rawjson_create(struct json_object *o);
/* The same from len bytes of JSON text (one value), repaired the same way. */
struct rawjson	*rawjson_from_text(const char *s, size_t len);
/* One more reference to r; returns r. */
struct rawjson	*rawjson_ref(struct rawjson *r);
/* Drop one reference; the last one frees. NULL: no-op. */
void		 rawjson_free(struct rawjson *r);
/* The text (NUL-terminated); *len, when not NULL, gets its length. */
const char	*rawjson_text(const struct rawjson *r, size_t *len);

/*
 * A json-c node that serialises as r's text wherever it is added (an
 * object member, an array element). The node holds its own reference to
 * r, dropped when the node is freed; caller frees the node. Its content
 * cannot be read through json-c (it is an empty object to json-c's
 * getters), and the text is not re-indented: only for documents
 * serialised with JSON_C_TO_STRING_PLAIN.
 */
struct json_object *rawjson_node(struct rawjson *r);
/* The rawjson behind a node of rawjson_node (borrowed), or NULL. */
struct rawjson	*rawjson_of(struct json_object *node);
/*
 * r's text as one JSON string (MCP's text content of a structured result),
 * made on the first call and kept with r; borrowed from r.
 */
struct rawjson	*rawjson_quoted(struct rawjson *r);

#endif
