/* anilist/batch.c: several AniList operations as one aliased GraphQL request, within AniList's complexity limit. */
#include "autoconf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "batch.h"
#include "cache.h"
#include "util.h"

/* Aliases and variables of part i start "b<i>_". */
#define BATCH_PREFIX_LEN	24

static void
batch_prefix(size_t i, char prefix[BATCH_PREFIX_LEN])
{
	snprintf(prefix, BATCH_PREFIX_LEN, "b%zu_", i);
}

static bool
batch_ident_char(char c)
{
	return (isalnum((unsigned char)c) || c == '_');
}

/* Index after the string literal that starts at s[i] (a quote). */
static size_t
batch_skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return (i < len ? i + 1 : len);
}

/* Index after the bracket closing the one at s[i]. */
static size_t
batch_matching(const char *s, size_t len, size_t i, char open, char close)
{
	int	depth = 0;

	while (i < len) {
		if (s[i] == '"') {
			i = batch_skip_string(s, len, i);
			continue;
		}
		if (s[i] == open)
			depth++;
		else if (s[i] == close && --depth == 0)
			return (i + 1);
		i++;
	}
	return (len);
}

/*
 * The parts of "query Name(decls){selection}": the variable declarations
 * (*decls, may be empty) and the selection set without its braces. False
 * when the document has no selection set.
 */
static bool
batch_split(const char *doc, const char **decls, size_t *ndecls,
    const char **sel, size_t *nsel)
{
	size_t	len = strlen(doc), i, end;
	const char *brace = strchr(doc, '{'), *paren = strchr(doc, '(');

	if (brace == NULL)
		return (false);
	*decls = "";
	*ndecls = 0;
	if (paren != NULL && paren < brace) {
		i = (size_t)(paren - doc);
		end = batch_matching(doc, len, i, '(', ')');
		*decls = doc + i + 1;
		*ndecls = end - i - 2;
		if ((brace = strchr(doc + end, '{')) == NULL)
			return (false);
	}
	i = (size_t)(brace - doc);
	end = batch_matching(doc, len, i, '{', '}');
	*sel = doc + i + 1;
	*nsel = end - i - 2;
	return (true);
}

int
batch_complexity(const char *document)
{
	const char	*decls, *sel;
	size_t		 ndecls, n, i = 0, j;
	int		 fields = 0;

	if (document == NULL ||
	    !batch_split(document, &decls, &ndecls, &sel, &n))
		return (-1);
	while (i < n) {
		if (sel[i] == '(') {
			i = batch_matching(sel, n, i, '(', ')');
			continue;
		}
		if (sel[i] == '"') {
			i = batch_skip_string(sel, n, i);
			continue;
		}
		if ((isalpha((unsigned char)sel[i]) || sel[i] == '_') &&
		    (i == 0 || (!batch_ident_char(sel[i - 1]) &&
		    sel[i - 1] != '$'))) {
			for (j = i; j < n && batch_ident_char(sel[j]); j++)
				;
			i = j;
			while (j < n && isspace((unsigned char)sel[j]))
				j++;
			/* "alias: field" costs the field only */
			if (j >= n || sel[j] != ':')
				fields++;
			continue;
		}
		i++;
	}
	return (fields);
}

/* text with every "$name" renamed "$<prefix>name". */
static void
batch_put_renamed(struct buf *b, const char *text, size_t len,
    const char *prefix)
{
	size_t	i, start = 0;

	for (i = 0; i < len; i++) {
		if (text[i] == '"') {
			i = batch_skip_string(text, len, i) - 1;
			continue;
		}
		if (text[i] != '$')
			continue;
		buf_append(b, text + start, i + 1 - start);
		buf_puts(b, prefix);
		start = i + 1;
	}
	buf_append(b, text + start, len - start);
}

/* A selection set with its root fields aliased "<prefix><field>". */
static void
batch_put_selection(struct buf *b, const char *sel, size_t len,
    const char *prefix)
{
	struct buf	tmp;
	size_t		i = 0, j;
	int		depth = 0;

	buf_init(&tmp);
	batch_put_renamed(&tmp, sel, len, prefix);
	sel = tmp.data;
	len = tmp.len;
	while (i < len) {
		if (sel[i] == '"') {
			j = batch_skip_string(sel, len, i);
			buf_append(b, sel + i, j - i);
			i = j;
			continue;
		}
		if (sel[i] == '(') {
			j = batch_matching(sel, len, i, '(', ')');
			buf_append(b, sel + i, j - i);
			i = j;
			continue;
		}
		if (sel[i] == '{')
			depth++;
		else if (sel[i] == '}')
			depth--;
		if (depth == 0 && (isalpha((unsigned char)sel[i]) ||
		    sel[i] == '_') && (i == 0 || !batch_ident_char(sel[i - 1]))) {
			for (j = i; j < len && batch_ident_char(sel[j]); j++)
				;
			buf_printf(b, " %s%.*s:", prefix, (int)(j - i), sel + i);
			buf_append(b, sel + i, j - i);
			i = j;
			continue;
		}
		buf_putc(b, sel[i]);
		i++;
	}
	buf_free(&tmp);
}

void
batch_build(const struct batch_part *parts, size_t n, struct buf *body)
{
	struct json_object_iterator	 it, end;
	struct buf			 doc, sels;
	const char			*decls, *sel;
	char				 prefix[BATCH_PREFIX_LEN];
	size_t				 i, ndecls, nsel;
	bool				 first = true, any = false;

	buf_init(&doc);
	buf_init(&sels);
	buf_puts(&doc, "query Batch(");
	for (i = 0; i < n; i++) {
		if (!batch_split(parts[i].document, &decls, &ndecls, &sel,
		    &nsel))
			continue;
		batch_prefix(i, prefix);
		if (ndecls > 0) {
			if (any)
				buf_putc(&doc, ',');
			batch_put_renamed(&doc, decls, ndecls, prefix);
			any = true;
		}
		batch_put_selection(&sels, sel, nsel, prefix);
	}
	if (!any)
		/* "query Batch(){" is not GraphQL */
		doc.len -= 1;
	else
		buf_putc(&doc, ')');
	buf_putc(&doc, '{');
	buf_append(&doc, sels.data, sels.len);
	buf_putc(&doc, '}');

	buf_puts(body, "{\"query\":");
	buf_json_string(body, doc.data);
	buf_puts(body, ",\"operationName\":\"Batch\",\"variables\":{");
	for (i = 0; i < n; i++) {
		if (parts[i].vars == NULL)
			continue;
		batch_prefix(i, prefix);
		it = json_object_iter_begin(parts[i].vars);
		end = json_object_iter_end(parts[i].vars);
		for (; !json_object_iter_equal(&it, &end);
		    json_object_iter_next(&it)) {
			if (!first)
				buf_putc(body, ',');
			first = false;
			buf_putc(body, '"');
			buf_puts(body, prefix);
			buf_puts(body, json_object_iter_peek_name(&it));
			buf_puts(body, "\":");
			/* vars may be shared: a reader that only reads */
			cache_canonical_json(json_object_iter_peek_value(&it),
			    body);
		}
	}
	buf_puts(body, "}}");
	buf_free(&doc);
	buf_free(&sels);
}

struct json_object *
batch_part_data(struct json_object *data, size_t i)
{
	struct json_object_iterator	 it, end;
	struct json_object		*out = NULL;
	const char			*name;
	char				 prefix[BATCH_PREFIX_LEN];
	size_t				 plen;

	if (data == NULL || !json_object_is_type(data, json_type_object))
		return (NULL);
	batch_prefix(i, prefix);
	plen = strlen(prefix);
	it = json_object_iter_begin(data);
	end = json_object_iter_end(data);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		name = json_object_iter_peek_name(&it);
		if (strncmp(name, prefix, plen) != 0)
			continue;
		if (out == NULL)
			out = json_object_new_object();
		json_object_object_add(out, name + plen,
		    json_object_get(json_object_iter_peek_value(&it)));
	}
	return (out);
}

/* The alias an errors[] entry's path starts with, or NULL. */
static const char *
batch_error_alias(struct json_object *e)
{
	struct json_object	*path, *first;

	if (!json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "path", &path) ||
	    !json_object_is_type(path, json_type_array) ||
	    json_object_array_length(path) == 0 ||
	    (first = json_object_array_get_idx(path, 0)) == NULL ||
	    !json_object_is_type(first, json_type_string))
		return (NULL);
	return (json_object_get_string(first));
}

struct json_object *
batch_part_error(struct json_object *body, size_t i)
{
	struct json_object	*errors, *e;
	const char		*alias;
	char			 prefix[BATCH_PREFIX_LEN];
	size_t			 k;

	if (body == NULL || !json_object_object_get_ex(body, "errors",
	    &errors) || !json_object_is_type(errors, json_type_array))
		return (NULL);
	batch_prefix(i, prefix);
	for (k = 0; k < json_object_array_length(errors); k++) {
		e = json_object_array_get_idx(errors, k);
		if ((alias = batch_error_alias(e)) != NULL &&
		    strncmp(alias, prefix, strlen(prefix)) == 0)
			return (e);
	}
	return (NULL);
}

bool
batch_error_unplaced(struct json_object *body, size_t n)
{
	struct json_object	*errors, *e;
	const char		*alias;
	char			*endp;
	unsigned long		 part;
	size_t			 k;

	if (body == NULL || !json_object_object_get_ex(body, "errors",
	    &errors) || !json_object_is_type(errors, json_type_array))
		return (false);
	for (k = 0; k < json_object_array_length(errors); k++) {
		e = json_object_array_get_idx(errors, k);
		if ((alias = batch_error_alias(e)) == NULL || alias[0] != 'b')
			return (true);
		part = strtoul(alias + 1, &endp, 10);
		if (endp == alias + 1 || *endp != '_' || part >= n)
			return (true);
	}
	return (false);
}
