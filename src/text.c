/* text.c: plain text from AniList markup, and UTF-8-safe cutting, for compact results. */
#include "autoconf.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

/* The named entities AniList descriptions use; others stay as written. */
static const struct {
	const char	*name;
	const char	*utf8;
} text_entities[] = {
	{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" },
	{ "apos", "'" }, { "nbsp", " " }, { "mdash", "\xe2\x80\x94" },
	{ "ndash", "\xe2\x80\x93" }, { "hellip", "\xe2\x80\xa6" },
	{ "lsquo", "\xe2\x80\x98" }, { "rsquo", "\xe2\x80\x99" },
	{ "ldquo", "\xe2\x80\x9c" }, { "rdquo", "\xe2\x80\x9d" },
	{ "laquo", "\xc2\xab" }, { "raquo", "\xc2\xbb" },
	{ "bull", "\xe2\x80\xa2" }, { "middot", "\xc2\xb7" },
	{ "times", "\xc3\x97" }, { "deg", "\xc2\xb0" }, { "copy", "\xc2\xa9" },
	{ "reg", "\xc2\xae" }, { "trade", "\xe2\x84\xa2" },
	{ "eacute", "\xc3\xa9" }, { "hearts", "\xe2\x99\xa5" },
};

static void
text_put_utf8(struct buf *b, uint32_t cp)
{
	if (cp < 0x80)
		buf_putc(b, (char)cp);
	else if (cp < 0x800) {
		buf_putc(b, (char)(0xc0 | cp >> 6));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_putc(b, (char)(0xe0 | cp >> 12));
		buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_putc(b, (char)(0xf0 | cp >> 18));
		buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/*
 * Decode the entity at s ('&'); returns the bytes consumed, or 0 when it is
 * not one we know (the '&' is then kept as text).
 */
static size_t
text_entity(const char *s, struct buf *b)
{
	const char	*semi, *digits;
	char		*end;
	unsigned long	 cp;
	size_t		 len, i;
	bool		 hex;

	semi = strchr(s + 1, ';');
	if (semi == NULL || semi - s > 12)
		return (0);
	len = (size_t)(semi - s - 1);
	if (s[1] == '#') {
		hex = s[2] == 'x' || s[2] == 'X';
		digits = s + (hex ? 3 : 2);
		if (!(hex ? isxdigit((unsigned char)*digits) :
		    isdigit((unsigned char)*digits)))
			return (0);
		cp = strtoul(digits, &end, hex ? 16 : 10);
		if (end != semi || cp == 0 || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		text_put_utf8(b, cp == 0xa0 ? ' ' : (uint32_t)cp);
		return (len + 2);
	}
	for (i = 0; i < nitems(text_entities); i++) {
		if (strlen(text_entities[i].name) == len &&
		    strncmp(text_entities[i].name, s + 1, len) == 0) {
			buf_puts(b, text_entities[i].utf8);
			return (len + 2);
		}
	}
	return (0);
}

/*
 * The tag at s ('<'); returns the bytes consumed, or 0 when s does not
 * start a complete tag (the '<' is then text). Line-breaking tags put a
 * newline in b.
 */
static size_t
text_tag(const char *s, struct buf *b)
{
	const char	*p = s + 1, *end;
	char		 name[8];
	size_t		 n = 0;
	bool		 closing = false;
	char		 quote = '\0';

	if (strncmp(s, "<!--", 4) == 0) {
		end = strstr(s + 4, "-->");
		return (end == NULL ? 0 : (size_t)(end + 3 - s));
	}
	if (*p == '/') {
		closing = true;
		p++;
	}
	if (!isalpha((unsigned char)*p) && *p != '!')
		return (0);
	while (isalnum((unsigned char)*p)) {
		if (n < sizeof name - 1)
			name[n++] = (char)tolower((unsigned char)*p);
		p++;
	}
	name[n] = '\0';
	for (; *p != '\0'; p++) {
		if (quote != '\0') {
			if (*p == quote)
				quote = '\0';
		} else if (*p == '"' || *p == '\'')
			quote = *p;
		else if (*p == '>')
			break;
	}
	if (*p != '>')
		return (0);
	if (strcmp(name, "br") == 0 || strcmp(name, "div") == 0 ||
	    (strcmp(name, "p") == 0 && closing))
		buf_putc(b, '\n');
	else if (strcmp(name, "li") == 0 && !closing)
		buf_puts(b, "\n\xe2\x80\xa2 ");
	return ((size_t)(p + 1 - s));
}

/* Blanks collapsed, lines trimmed, at most one empty line, ends trimmed. */
static char *
text_normalise(const char *s)
{
	struct buf	 b;
	int		 newlines = 0;
	bool		 space = false, started = false;

	buf_init(&b);
	buf_append(&b, "", 0);
	for (; *s != '\0'; s++) {
		if (*s == '\n' || *s == '\r') {
			if (*s == '\r' && s[1] == '\n')
				continue;
			newlines++;
			space = false;
		} else if (*s == ' ' || *s == '\t' || *s == '\f' ||
		    *s == '\v')
			space = true;
		else {
			if (started && newlines > 0)
				buf_append(&b, "\n\n", newlines > 1 ? 2 : 1);
			else if (started && space)
				buf_putc(&b, ' ');
			buf_putc(&b, *s);
			started = true;
			newlines = 0;
			space = false;
		}
	}
	return (buf_detach(&b));
}

char *
text_plain(const char *s, bool keep_spoilers)
{
	struct buf	 raw;
	const char	*end;
	char		*out;
	size_t		 n;
	int		 spoiler = 0;

	if (s == NULL)
		return (NULL);
	buf_init(&raw);
	buf_append(&raw, "", 0);
	while (*s != '\0') {
		if (s[0] == '~' && s[1] == '!') {
			end = strstr(s + 2, "!~");
			if (!keep_spoilers) {
				s = end != NULL ? end + 2 : s + strlen(s);
				buf_putc(&raw, ' ');
				continue;
			}
			buf_puts(&raw, "[spoiler: ");
			spoiler++;
			s += 2;
			continue;
		}
		if (spoiler > 0 && s[0] == '!' && s[1] == '~') {
			buf_putc(&raw, ']');
			spoiler--;
			s += 2;
			continue;
		}
		if (*s == '<' && (n = text_tag(s, &raw)) > 0) {
			s += n;
			continue;
		}
		if (*s == '&' && (n = text_entity(s, &raw)) > 0) {
			s += n;
			continue;
		}
		buf_putc(&raw, *s++);
	}
	while (spoiler-- > 0)
		buf_putc(&raw, ']');
	out = text_normalise(raw.data);
	buf_free(&raw);
	return (out);
}

size_t
text_utf8_prefix(const char *s, size_t max)
{
	size_t	len = strlen(s), i;

	if (len <= max)
		return (len);
	i = max;
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return (i);
}

char *
text_truncate(const char *s, size_t max)
{
	size_t	 cut, i;
	char	*out;

	if (s == NULL)
		return (NULL);
	if (strlen(s) <= max)
		return (xstrdup(s));
	cut = text_utf8_prefix(s, max);
	/* Prefer a word boundary, unless that loses over half the text. */
	for (i = cut; i > max / 2; i--) {
		if (s[i] == ' ' || s[i] == '\n') {
			cut = i;
			break;
		}
	}
	while (cut > 0 && strchr(" \n,;:-(", s[cut - 1]) != NULL)
		cut--;
	out = xmalloc(cut + sizeof "\xe2\x80\xa6");
	memcpy(out, s, cut);
	memcpy(out + cut, "\xe2\x80\xa6", sizeof "\xe2\x80\xa6");
	return (out);
}
