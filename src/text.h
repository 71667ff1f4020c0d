/* text.h: plain text from AniList markup, and UTF-8-safe cutting, for compact results. */
#ifndef TEXT_H
#define TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Plain text from an AniList description: tags removed (<br> and </p>
 * become line breaks), entities decoded, runs of blanks collapsed, at most
 * one empty line in a row, ends trimmed. AniList spoiler blocks
 * ("~!secret!~") are dropped, or kept as "[spoiler: secret]" when
 * keep_spoilers. NULL in, NULL out; caller frees.
 */
char	*text_plain(const char *s, bool keep_spoilers);

/*
 * s cut to at most max bytes at a word boundary (never inside a UTF-8
 * sequence), with "…" appended when anything was cut; the result is at
 * most max + 3 bytes. NULL in, NULL out; caller frees.
 */
char	*text_truncate(const char *s, size_t max);

/* The length of the longest prefix of s, at most max bytes, that ends on a UTF-8 character boundary. */
size_t	 text_utf8_prefix(const char *s, size_t max);

#endif
