/* test_valid.c -- validation of outside values, hostile ones included. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lectern.h"
#include "valid.h"

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

#define U8(s) (s), (sizeof(s) - 1)

static void
test_utf8(void **state)
{
	(void)state;
	assert_int_equal(valid_utf8(U8("")), 0);
	assert_int_equal(valid_utf8(U8("plain ascii")), 0);
	assert_int_equal(valid_utf8(U8("Иван Петров")), 0);
	assert_int_equal(valid_utf8(U8("\xe2\x82\xac \xf0\x9f\x8e\x93")), 0);
	assert_int_equal(valid_utf8(U8("\xf4\x8f\xbf\xbf")), 0); /* U+10FFFF */
	assert_int_equal(valid_utf8(U8("\xed\x9f\xbf")), 0);	/* U+D7FF */
	assert_int_equal(valid_utf8(U8("\xee\x80\x80")), 0);	/* U+E000 */
	/* NUL is well-formed UTF-8; the length is explicit. */
	assert_int_equal(valid_utf8(U8("a\0b")), 0);

	assert_int_equal(valid_utf8(U8("\xc0\xaf")), -1);	/* overlong '/' */
	assert_int_equal(valid_utf8(U8("\xc1\xbf")), -1);
	assert_int_equal(valid_utf8(U8("\xe0\x80\xaf")), -1);
	assert_int_equal(valid_utf8(U8("\xe0\x9f\xbf")), -1);
	assert_int_equal(valid_utf8(U8("\xf0\x80\x80\xaf")), -1);
	assert_int_equal(valid_utf8(U8("\xf0\x8f\xbf\xbf")), -1);
	assert_int_equal(valid_utf8(U8("\xed\xa0\x80")), -1);	/* surrogate */
	assert_int_equal(valid_utf8(U8("\xed\xbf\xbf")), -1);
	assert_int_equal(valid_utf8(U8("\xf4\x90\x80\x80")), -1); /* > 10FFFF */
	assert_int_equal(valid_utf8(U8("\xf8\x88\x80\x80\x80")), -1); /* 5 */
	assert_int_equal(valid_utf8(U8("\xfc\x84\x80\x80\x80\x80")), -1);
	assert_int_equal(valid_utf8(U8("\xfe")), -1);
	assert_int_equal(valid_utf8(U8("\xff")), -1);
	assert_int_equal(valid_utf8(U8("\x80")), -1);		/* stray */
	assert_int_equal(valid_utf8(U8("a\xd0")), -1);		/* truncated */
	assert_int_equal(valid_utf8(U8("\xe2\x82")), -1);
	assert_int_equal(valid_utf8(U8("\xf0\x9f\x8e")), -1);
	assert_int_equal(valid_utf8(U8("\xe2\x28\xa1")), -1);
	/* A truncated sequence is caught even if the buffer goes on. */
	assert_int_equal(valid_utf8("\xd0\x98", 1), -1);
	assert_int_equal(valid_utf8("\xd0\x98", 2), 0);

	assert_int_equal(valid_utf8_len("Иван"), 4);
	assert_int_equal(valid_utf8_len("a\xf0\x9f\x8e\x93z"), 3);
	assert_int_equal(valid_utf8_len(""), 0);
}

/* Every code point of every length: the decoder agrees with the definition. */
static void
test_utf8_exhaustive(void **state)
{
	unsigned char	b[4];
	uint32_t	cp;
	size_t		n;

	(void)state;
	for (cp = 0; cp <= 0x10ffff; cp += (cp < 0x3000 ? 1 : 61)) {
		if (cp < 0x80) {
			b[0] = cp;
			n = 1;
		} else if (cp < 0x800) {
			b[0] = 0xc0 | cp >> 6;
			b[1] = 0x80 | (cp & 0x3f);
			n = 2;
		} else if (cp < 0x10000) {
			b[0] = 0xe0 | cp >> 12;
			b[1] = 0x80 | (cp >> 6 & 0x3f);
			b[2] = 0x80 | (cp & 0x3f);
			n = 3;
		} else {
			b[0] = 0xf0 | cp >> 18;
			b[1] = 0x80 | (cp >> 12 & 0x3f);
			b[2] = 0x80 | (cp >> 6 & 0x3f);
			b[3] = 0x80 | (cp & 0x3f);
			n = 4;
		}
		assert_int_equal(valid_utf8((char *)b, n),
		    (cp >= 0xd800 && cp <= 0xdfff) ? -1 : 0);
		if (n > 1)
			assert_int_equal(valid_utf8((char *)b, n - 1), -1);
	}
}

static void
test_email(void **state)
{
	static const char *const good[] = {
		"ivan.petrov@school5.example", "a@b.c", "x+tag@sub.domain.ru",
"teacher_1@xn--80ak6aa92e.xn--p1ai",
		"user@localhost", "o'brien@example.org",
	};
	static const char *const bad[] = {
		"", "a", "@b.c", "a@", "a@b@c", "a b@c.d", "a@b..c", "a@-b.c",
		"a@b-.c", "a@.b.c", "a@b.c.", "\"a\"@b.c", "a<b>@c.d",
		"a@b.c\r\nBcc: x@y.z", "a@b.c\n", "a\t@b.c", "a,b@c.d",
		"a;b@c.d", "a:b@c.d", "a(b)@c.d", "[a]@c.d", "a\\b@c.d",
		"иван@школа.рф", ".a@b.c", "a.@b.c", "a..b@c.d", "a@b_c.d",
		"a@\x7f.d", "a`b@c.d",
	};
	char	err[256];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		if (valid_email(good[i], "email", err, sizeof err) != 0)
			fail_msg("refused %s: %s", good[i], err);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (valid_email(bad[i], "email", err, sizeof err) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(strncmp(err, "email: ", 7) == 0);
		assert_null(strchr(err, '\n'));
		assert_null(strchr(err, '\r'));
		assert_null(strchr(err, '\t'));
	}
	assert_int_equal(valid_email("a@b@c", "email", err, sizeof err), -1);
	assert_true(starts_with(err,
	    "email: \"a@b@c\" is not a valid address"));
	/* CR/LF are quoted as '?'. */
	assert_int_equal(valid_email("a@b.c\r\nBcc: x@y.z", "email", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "\"a@b.c??Bcc: x@y.z\""));
	/* Length limits: local part 64, whole 254. */
	{
		char	buf[400];

		memset(buf, 'a', 64);
		snprintf(buf + 64, sizeof buf - 64, "@example.org");
		assert_int_equal(valid_email(buf, "email", err, sizeof err), 0);
		memset(buf, 'a', 65);
		snprintf(buf + 65, sizeof buf - 65, "@example.org");
		assert_int_equal(valid_email(buf, "email", err, sizeof err),
		    -1);
		/* 254 octets in labels of 63: accepted; 255 refused. */
		snprintf(buf, sizeof buf, "a@%.63s.%.63s.%.63s.%.60s",
		    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
		assert_int_equal(strlen(buf), 254);
		assert_int_equal(valid_email(buf, "email", err, sizeof err), 0);
		buf[254] = 'b';
		buf[255] = '\0';
		assert_int_equal(valid_email(buf, "email", err, sizeof err),
		    -1);
		assert_non_null(strstr(err, "254"));
	}
	/* A 10,000-octet address: refused, sentence bounded. */
	{
		char *big = malloc(10001);

		assert_non_null(big);
		memset(big, 'a', 10000);
		big[5000] = '@';
		big[10000] = '\0';
		assert_int_equal(valid_email(big, "email", err, sizeof err),
		    -1);
		assert_true(strlen(err) < 150);
		free(big);
	}
	assert_int_equal(valid_email(NULL, "email", err, sizeof err), -1);
	/* A tiny err buffer is still terminated. */
	assert_int_equal(valid_email("x", "email", err, 4), -1);
	assert_int_equal(strlen(err), 3);
}

static void
test_text(void **state)
{
	static const char *const bad_line[] = {
		"a\nb", "a\rb", "a\tb", "a\x01", "a\x1b[31m", "a\x7f",
		"a\xc2\x85", "a\xc2\x9f", "a\xe2\x80\xa8", "a\xe2\x80\xa9",
		"a\xe2\x80\xaa", "a\xe2\x80\xae", "a\xe2\x81\xa6", "a\xe2\x81\xa9",
		("\xef\xbb\xbf" "a"), "a\xc0\xaf", "a\xed\xa0\x80", "a\xd0",
		"a\xf8\x88\x80\x80\x80", "   ", "\xc2\xa0\xe3\x80\x80", "",
	};
	char	err[256];
	size_t	i;

	(void)state;
	assert_int_equal(valid_text("Formative assessment in grade 5", 500,
	    0, 0, "title", err, sizeof err), 0);
	assert_int_equal(valid_text("Оценивание в 5 классе — практикум", 500,
	    0, 0, "title", err, sizeof err), 0);
	/* Right-to-left text and marks are fine, overrides are not. */
	assert_int_equal(valid_text("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d "
	    "\xe2\x80\x8f", 500, 0, 0, "title", err, sizeof err), 0);
	for (i = 0; i < sizeof bad_line / sizeof bad_line[0]; i++) {
		if (valid_text(bad_line[i], 500, 0, 0, "title", err,
		    sizeof err) != -1)
			fail_msg("accepted line %zu", i);
		assert_true(strncmp(err, "title: ", 7) == 0);
	}
	assert_int_equal(valid_text("a\x01", 500, 0, 0, "title", err,
	    sizeof err), -1);
	assert_string_equal(err, "title: must not contain control characters");

	/* Multiline: LF, CRLF and TAB allowed; a lone CR, others not. */
	assert_int_equal(valid_text("line 1\nline 2\r\n\tindented", 10000, 0,
	    1, "description", err, sizeof err), 0);
	assert_int_equal(valid_text("a\rb", 10000, 0, 1, "description", err,
	    sizeof err), -1);
	assert_int_equal(valid_text("a\r", 10000, 0, 1, "description", err,
	    sizeof err), -1);
	assert_int_equal(valid_text("a\x0b", 10000, 0, 1, "description", err,
	    sizeof err), -1);
	assert_int_equal(valid_text("a\xe2\x80\xae", 10000, 0, 1,
	    "description", err, sizeof err), -1);
	assert_int_equal(valid_text("\n\n", 10000, 0, 1, "description", err,
	    sizeof err), -1);

	/* Empty only when allowed; NULL counts as empty. */
	assert_int_equal(valid_text("", 500, 1, 0, "position", err,
	    sizeof err), 0);
	assert_int_equal(valid_text(NULL, 500, 1, 0, "position", err,
	    sizeof err), 0);
	assert_int_equal(valid_text(NULL, 500, 0, 0, "position", err,
	    sizeof err), -1);
	assert_string_equal(err, "position: must not be empty");

	/* Length in characters, not octets. */
	{
		char	*big = malloc(2 * 10000 + 1);
		size_t	 k;

		assert_non_null(big);
		for (k = 0; k < 500; k++)
			memcpy(big + 2 * k, "\xd0\xaf", 2);
		big[1000] = '\0';
		assert_int_equal(valid_text(big, 500, 0, 0, "title", err,
		    sizeof err), 0);
		memcpy(big + 1000, "\xd0\xaf", 3);
		assert_int_equal(valid_text(big, 500, 0, 0, "title", err,
		    sizeof err), -1);
		assert_string_equal(err, "title: longer than 500 characters");
		for (k = 0; k < 10000; k++)
			big[k] = 'x';
		big[10000] = '\0';
		assert_int_equal(valid_text(big, LECTERN_DESC_MAX, 0, 1,
		    "description", err, sizeof err), 0);
		big[9999] = '\0';
		big[5000] = '\x1b';
		assert_int_equal(valid_text(big, LECTERN_DESC_MAX, 0, 1,
		    "description", err, sizeof err), -1);
		free(big);
	}
}

static void
test_url(void **state)
{
	static const char *const good[] = {
		"https://meet.example/abc", "http://example.org",
		"HTTPS://Example.org:8443/a?b=c&d=%20#frag",
		"https://user:pw@host.example/x", "http://[2001:db8::1]:8080/",
		"https://zoom.us/j/123456789?pwd=abc",
	};
	static const char *const bad[] = {
		"", "ftp://example.org", "javascript:alert(1)", "https://",
		"https:///path", "https://exa mple.org", "https://a.org/\"x",
		"https://a.org/<script>", "https://a.org/\\", "https://a.org/\n",
		"https://a.org\r\nX: y", "https://a.org:0/", "https://a.org:99999/",
		"https://a.org:x/", "https://-a.org/", "https://пример.рф/",
		"//a.org", "https:a.org", "data:text/html,x", "http://[zz]/",
		"https://a.org:/",
	};
	char	err[256];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		if (valid_url(good[i], "url", err, sizeof err) != 0)
			fail_msg("refused %s: %s", good[i], err);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (valid_url(bad[i], "url", err, sizeof err) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(strncmp(err, "url: ", 5) == 0);
		assert_null(strchr(err, '\n'));
	}
	{
		char	*big = malloc(LECTERN_URL_MAX + 2);

		assert_non_null(big);
		memcpy(big, "https://a.org/", 14);
		memset(big + 14, 'x', LECTERN_URL_MAX - 14);
		big[LECTERN_URL_MAX] = '\0';
		assert_int_equal(valid_url(big, "url", err, sizeof err), 0);
		big[LECTERN_URL_MAX] = 'x';
		big[LECTERN_URL_MAX + 1] = '\0';
		assert_int_equal(valid_url(big, "url", err, sizeof err), -1);
		free(big);
	}
}

static void
test_kind(void **state)
{
	static const char *const kinds[] = {
		"webinar", "seminar", "workshop", "round_table",
		"master_class", "consultation", "lecture", "course_meeting",
		"training", "business_game", "open_lesson", "conference",
		"pedagogical_council", "mentoring", "other",
	};
	char	err[512];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		assert_int_equal(valid_kind(kinds[i], "kind", err, sizeof err),
		    0);
		assert_non_null(strstr(valid_kinds(), kinds[i]));
	}
	assert_int_equal(valid_kind("Webinar", "kind", err, sizeof err), -1);
	assert_int_equal(valid_kind("webinar ", "kind", err, sizeof err), -1);
	assert_int_equal(valid_kind("", "kind", err, sizeof err), -1);
	assert_int_equal(valid_kind(NULL, "kind", err, sizeof err), -1);
	assert_int_equal(valid_kind("party\n", "kind", err, sizeof err), -1);
	assert_true(starts_with(err, "kind: \"party?\" is not a session kind"));
	assert_non_null(strstr(err, "webinar, seminar"));
	assert_true(strncmp(valid_kinds(), "webinar, seminar, workshop", 26)
	    == 0);
}

static void
test_lang_tag(void **state)
{
	static const char *const lgood[] = { "en", "ru", "pt-br", "pt-BR",
	    "tt", "sah", "zh-hant", "es-419" };
	static const char *const lbad[] = { "", "e", "engl", "EN", "en-",
	    "en-b", "en-abcdefghi", "en_US", "ru\n", "en-us-x", "рус" };
	static const char *const tgood[] = { "math", "young-teacher",
	    "grade_5", "v1.2", "математика", "ЕГЭ-2026" };
	static const char *const tbad[] = { "", "two words", "a,b", "a|b",
	    "a\n", "a\xe2\x80\xae", "x\xc0\xaf", ("a\xc2\xa0" "b"), "a/b",
	    "#tag" };
	char	err[256], big[200];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof lgood / sizeof lgood[0]; i++)
		if (valid_lang(lgood[i], "lang", err, sizeof err) != 0)
			fail_msg("lang %s refused: %s", lgood[i], err);
	for (i = 0; i < sizeof lbad / sizeof lbad[0]; i++)
		if (valid_lang(lbad[i], "lang", err, sizeof err) != -1)
			fail_msg("lang \"%s\" accepted", lbad[i]);
	assert_int_equal(valid_lang(NULL, "lang", err, sizeof err), -1);
	for (i = 0; i < sizeof tgood / sizeof tgood[0]; i++)
		if (valid_tag(tgood[i], "tags", err, sizeof err) != 0)
			fail_msg("tag %s refused: %s", tgood[i], err);
	for (i = 0; i < sizeof tbad / sizeof tbad[0]; i++) {
		if (valid_tag(tbad[i], "tags", err, sizeof err) != -1)
			fail_msg("tag \"%s\" accepted", tbad[i]);
		assert_true(strncmp(err, "tags: ", 6) == 0);
	}
	memset(big, 'x', LECTERN_TAG_MAX);
	big[LECTERN_TAG_MAX] = '\0';
	assert_int_equal(valid_tag(big, "tags", err, sizeof err), 0);
	big[LECTERN_TAG_MAX] = 'x';
	big[LECTERN_TAG_MAX + 1] = '\0';
	assert_int_equal(valid_tag(big, "tags", err, sizeof err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_utf8_exhaustive),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_lang_tag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
