/* rawjson.c: JSON text serialised once, shared by threads, and spliced into later json-c documents without reparsing. */
#include "autoconf.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "rawjson.h"
#include "util.h"

#define RAWJSON_MAGIC	0x72617721u	/* "raw!" */

struct rawjson {
	unsigned int	 magic;
	unsigned int	 refs;		/* __atomic */
	struct rawjson	*quoted;	/* __atomic; made once, or NULL */
	size_t		 len;
	char		 text[];
};

struct rawjson *
rawjson_from_text(const char *s, size_t len)
{
	struct rawjson	*r;
	struct buf	 b;

	if (util_utf8_valid(s, len)) {
		r = xmalloc(sizeof *r + len + 1);
		memcpy(r->text, s, len);
	} else {
		buf_init(&b);
		buf_append(&b, s, len);
		buf_utf8_repair(&b);
		len = b.len;
		r = xmalloc(sizeof *r + len + 1);
		memcpy(r->text, b.data, len);
		buf_free(&b);
	}
	r->text[len] = '\0';
	r->magic = RAWJSON_MAGIC;
	r->refs = 1;
	r->quoted = NULL;
	r->len = len;
	return (r);
}

struct rawjson *
rawjson_create(struct json_object *o)
{
	struct rawjson	*r;
	const char	*s;
	size_t		 len;

	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	r = rawjson_from_text(s, len);
	json_object_put(o);
	return (r);
}

struct rawjson *
rawjson_ref(struct rawjson *r)
{
	__atomic_fetch_add(&r->refs, 1, __ATOMIC_RELAXED);
	return (r);
}

void
rawjson_free(struct rawjson *r)
{
	if (r != NULL && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) ==
	    0) {
		rawjson_free(r->quoted);
		free(r);
	}
}

const char *
rawjson_text(const struct rawjson *r, size_t *len)
{
	if (len != NULL)
		*len = r->len;
	return (r->text);
}

static int
rawjson_serialise(struct json_object *node, struct printbuf *pb, int level,
    int flags)
{
	const struct rawjson	*r = json_object_get_userdata(node);

	if (r->len > INT_MAX)
		return (-1);
	return (printbuf_memappend(pb, r->text, (int)r->len) < 0 ? -1 : 0);
}

static void
rawjson_node_delete(struct json_object *node, void *userdata)
{
	rawjson_free(userdata);
}

struct json_object *
rawjson_node(struct rawjson *r)
{
	struct json_object	*node = json_object_new_object();

	json_object_set_serializer(node, rawjson_serialise, rawjson_ref(r),
	    rawjson_node_delete);
	return (node);
}

struct rawjson *
rawjson_of(struct json_object *node)
{
	struct rawjson	*r;

	/* json-c gives plain objects no userdata; ours carry the magic. */
	if (node == NULL || !json_object_is_type(node, json_type_object) ||
	    (r = json_object_get_userdata(node)) == NULL ||
	    r->magic != RAWJSON_MAGIC)
		return (NULL);
	return (r);
}

struct rawjson *
rawjson_quoted(struct rawjson *r)
{
	struct rawjson	*q, *none = NULL;
	struct buf	 b;

	if ((q = __atomic_load_n(&r->quoted, __ATOMIC_ACQUIRE)) != NULL)
		return (q);
	buf_init(&b);
	buf_json_string(&b, r->text);
	q = rawjson_from_text(b.data, b.len);
	buf_free(&b);
	/* Two threads may both make it: the first one stays. */
	if (!__atomic_compare_exchange_n(&r->quoted, &none, q, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		rawjson_free(q);
		q = none;
	}
	return (q);
}
