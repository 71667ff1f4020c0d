/* rawjson.c: JSON text serialised once, shared by threads, and spliced into later json-c documents without reparsing. */
#include "autoconf.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "rawjson.h"
#include "util.h"

struct rawjson {
	unsigned int	 refs;		/* __atomic */
	size_t		 len;
	char		 text[];
};

struct rawjson *
rawjson_create(struct json_object *o)
{
	struct rawjson	*r;
	const char	*s;
	size_t		 len;

	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	r = xmalloc(sizeof *r + len + 1);
	r->refs = 1;
	r->len = len;
	memcpy(r->text, s, len + 1);
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
	if (r != NULL && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(r);
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
