/* test_text.c: plain text from AniList markup, and UTF-8-safe truncation. */
#include "autoconf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

static const struct {
	const char	*in;
	bool		 keep_spoilers;
	const char	*out;
} plain_cases[] = {
	{ "plain text", false, "plain text" },
	{ "", false, "" },
	/* entities */
	{ "Tom &amp; Jerry", false, "Tom & Jerry" },
	{ "&lt;b&gt; is bold", false, "<b> is bold" },
	{ "&quot;hi&quot; &#39;x&#39; &apos;y&apos;", false,
	    "\"hi\" 'x' 'y'" },
	{ "a&nbsp;b", false, "a b" },
	{ "&#12354; &#x3042; &#X3042;", false,
	    "\xe3\x81\x82 \xe3\x81\x82 \xe3\x81\x82" },
	{ "wait&hellip; &mdash; &rsquo;", false,
	    "wait\xe2\x80\xa6 \xe2\x80\x94 \xe2\x80\x99" },
	{ "AT&T and &unknown; and & alone", false,
	    "AT&T and &unknown; and & alone" },
	{ "&#0; &#xD800; &#1114112; &#; &#x; &# 12;", false,
	    "&#0; &#xD800; &#1114112; &#; &#x; &# 12;" },
	{ "&amp;lt;", false, "&lt;" },
	/* tags, nested and with attributes */
	{ "<i>Frieren</i> is <b>an elf</b>", false, "Frieren is an elf" },
	{ "<b><i><u>deep</u></i></b>", false, "deep" },
	{ "<a href=\"https://x/?a>b\">link</a> end", false, "link end" },
	{ "<span class='x'>s</span>", false, "s" },
	{ "<!-- hidden -->shown", false, "shown" },
	{ "1 < 2 and 3 > 2", false, "1 < 2 and 3 > 2" },
	{ "unterminated <b tag", false, "unterminated <b tag" },
	/* line breaks */
	{ "one<br>two", false, "one\ntwo" },
	{ "one<br/>two<BR />three", false, "one\ntwo\nthree" },
	{ "para<br><br>next", false, "para\n\nnext" },
	{ "para<br><br><br><br>next", false, "para\n\nnext" },
	{ "a<br>\n<br>\n  b", false, "a\n\nb" },
	{ "<p>one</p><p>two</p>", false, "one\ntwo" },
	{ "list:<ul><li>a</li><li>b</li></ul>", false,
	    "list:\n\xe2\x80\xa2 a\n\xe2\x80\xa2 b" },
	/* whitespace */
	{ "  lots   of\t\tspace  ", false, "lots of space" },
	{ "line  \n  next", false, "line\nnext" },
	{ "crlf\r\nline", false, "crlf\nline" },
	/* spoilers */
	{ "She is ~!the demon king!~ in disguise.", false,
	    "She is in disguise." },
	{ "She is ~!the demon king!~ in disguise.", true,
	    "She is [spoiler: the demon king] in disguise." },
	{ "Open ~!never closed", false, "Open" },
	{ "Open ~!never closed", true, "Open [spoiler: never closed]" },
};

START_TEST(test_plain_strips_markup_and_decodes_entities)
{
	char	*out = text_plain(plain_cases[_i].in,
		    plain_cases[_i].keep_spoilers);

	ck_assert_msg(out != NULL, "case %d: NULL", _i);
	ck_assert_msg(strcmp(out, plain_cases[_i].out) == 0,
	    "case %d: \"%s\" gave \"%s\", want \"%s\"", _i,
	    plain_cases[_i].in, out, plain_cases[_i].out);
	ck_assert(util_utf8_valid(out, strlen(out)));
	free(out);
}
END_TEST

START_TEST(test_plain_and_truncate_pass_null_through)
{
	ck_assert_ptr_null(text_plain(NULL, false));
	ck_assert_ptr_null(text_truncate(NULL, 10));
}
END_TEST

static const struct {
	const char	*in;
	size_t		 max;
	const char	*out;
} truncate_cases[] = {
	{ "short", 10, "short" },
	{ "exactly ten", 11, "exactly ten" },
	{ "the quick brown fox jumps", 12, "the quick\xe2\x80\xa6" },
	{ "the quick brown fox jumps", 9, "the quick\xe2\x80\xa6" },
	{ "one, two, three", 9, "one, two\xe2\x80\xa6" },
	{ "word boundary only when it keeps half", 20,
	    "word boundary only\xe2\x80\xa6" },
	/* no space in reach: cut inside the word, on a character boundary */
	{ "abcdefghijklmnopqrstuvwxyz", 10, "abcdefghij\xe2\x80\xa6" },
	/* 3-byte characters: never split one */
	{ "\xe8\x91\xac\xe9\x80\x81\xe3\x81\xae\xe3\x83\x95", 7,
	    "\xe8\x91\xac\xe9\x80\x81\xe2\x80\xa6" },
	{ "\xe8\x91\xac\xe9\x80\x81\xe3\x81\xae\xe3\x83\x95", 8,
	    "\xe8\x91\xac\xe9\x80\x81\xe2\x80\xa6" },
	{ "\xe8\x91\xac\xe9\x80\x81\xe3\x81\xae\xe3\x83\x95", 9,
	    "\xe8\x91\xac\xe9\x80\x81\xe3\x81\xae\xe2\x80\xa6" },
	/* 4-byte emoji */
	{ "ab\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 5, "ab\xe2\x80\xa6" },
	{ "ab\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 6,
	    "ab\xf0\x9f\x98\x80\xe2\x80\xa6" },
};

START_TEST(test_truncate_cuts_at_words_and_characters)
{
	char	*out = text_truncate(truncate_cases[_i].in,
		    truncate_cases[_i].max);

	ck_assert_msg(strcmp(out, truncate_cases[_i].out) == 0,
	    "case %d: gave \"%s\", want \"%s\"", _i, out,
	    truncate_cases[_i].out);
	ck_assert(util_utf8_valid(out, strlen(out)));
	ck_assert_uint_le(strlen(out), truncate_cases[_i].max + 3);
	free(out);
}
END_TEST

/* Every cut of a mixed string stays valid UTF-8 and within bounds. */
START_TEST(test_truncate_is_utf8_safe_at_every_length)
{
	const char	*s = "Frieren \xe8\x91\xac\xe9\x80\x81 \xf0\x9f\x98\x80"
			    "x \xc3\xa9t\xc3\xa9 journey's end";
	size_t		 max;
	char		*out;

	for (max = 0; max <= strlen(s) + 1; max++) {
		out = text_truncate(s, max);
		ck_assert_msg(util_utf8_valid(out, strlen(out)),
		    "max %zu: invalid UTF-8", max);
		ck_assert_uint_le(strlen(out), max + 3);
		free(out);
	}
}
END_TEST

START_TEST(test_utf8_prefix_never_ends_mid_character)
{
	const char	*s = "a\xc3\xa9\xe3\x81\x82";	/* 1 + 2 + 3 bytes */

	ck_assert_uint_eq(text_utf8_prefix(s, 0), 0);
	ck_assert_uint_eq(text_utf8_prefix(s, 1), 1);
	ck_assert_uint_eq(text_utf8_prefix(s, 2), 1);
	ck_assert_uint_eq(text_utf8_prefix(s, 3), 3);
	ck_assert_uint_eq(text_utf8_prefix(s, 4), 3);
	ck_assert_uint_eq(text_utf8_prefix(s, 5), 3);
	ck_assert_uint_eq(text_utf8_prefix(s, 6), 6);
	ck_assert_uint_eq(text_utf8_prefix(s, 100), 6);
}
END_TEST

/* A real AniList description: <br> paragraphs, italics, a source line. */
START_TEST(test_plain_real_description)
{
	const char	*in = "A second batch of the <i>\xe2\x97\x8f\xe2\x97\x8f "
			    "no Mahou</i> shorts.<br><br>  <b>Includes:</b><br> "
			    "\xe2\x80\xa2 One.<br>";
	char		*out = text_plain(in, false);

	ck_assert_str_eq(out, "A second batch of the \xe2\x97\x8f\xe2\x97\x8f "
	    "no Mahou shorts.\n\nIncludes:\n\xe2\x80\xa2 One.");
	free(out);
}
END_TEST

static Suite *
text_suite(void)
{
	Suite	*s = suite_create("text");
	TCase	*tc = tcase_create("core");

	tcase_add_loop_test(tc, test_plain_strips_markup_and_decodes_entities,
	    0, (int)nitems(plain_cases));
	tcase_add_test(tc, test_plain_and_truncate_pass_null_through);
	tcase_add_loop_test(tc, test_truncate_cuts_at_words_and_characters, 0,
	    (int)nitems(truncate_cases));
	tcase_add_test(tc, test_truncate_is_utf8_safe_at_every_length);
	tcase_add_test(tc, test_utf8_prefix_never_ends_mid_character);
	tcase_add_test(tc, test_plain_real_description);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	SRunner	*sr = srunner_create(text_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
