/* fuzz_text.c: fuzz target: plain text from AniList markup and UTF-8-safe cutting (text.c). */
#include "autoconf.h"

#include <string.h>

#include "fuzz.h"
#include "text.h"
#include "util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return (0);
}

/* First byte: keep spoilers (bit 0) and the cut length; the rest is text. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*in, *plain, *cut;
	size_t	 max, prefix;
	bool	 utf8;

	if (size < 1)
		return (0);
	max = data[0] >> 1;
	in = fuzz_string(data + 1, size - 1);
	utf8 = util_utf8_valid(in, strlen(in));

	plain = text_plain(in, data[0] & 1);
	fuzz_assert(plain != NULL);
	if (utf8)
		fuzz_assert(util_utf8_valid(plain, strlen(plain)));

	cut = text_truncate(plain, max);
	fuzz_assert(cut != NULL);
	fuzz_assert(strlen(cut) <= max + 3);
	if (utf8)
		fuzz_assert(util_utf8_valid(cut, strlen(cut)));

	prefix = text_utf8_prefix(in, max);
	fuzz_assert(prefix <= max && prefix <= strlen(in));
	if (utf8)
		fuzz_assert(util_utf8_valid(in, prefix));

	fuzz_assert(text_plain(NULL, false) == NULL);
	free(cut);
	free(plain);
	free(in);
	return (0);
}
