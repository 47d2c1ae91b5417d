/*
 * test_csvout.c -- the CLI's CSV writer: RFC 4180 quoting and CRLF,
 * formula-safe cells, UTF-8 kept and broken bytes replaced, empty and
 * NULL cells, numbers written by the client left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../client/output.c"
#include "../../client/csvout.c"

/* csvout_field(cell, kind) must be want. */
static void
expect_field(const char *cell, int kind, const char *want)
{
	char	*got;

	got = csvout_field(cell, kind);
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("cell \"%s\": got [%s], want [%s]",
		    cell != NULL ? cell : "(null)", got, want);
	free(got);
}

/* The record csvout_row writes for cells (kinds may be NULL). */
static char *
row(const char *const *cells, const int *kinds, size_t n)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(csvout_row(f, cells, kinds, n), 0);
	fclose(f);
	return buf;
}

static void
test_plain(void **state)
{
	(void)state;
	expect_field("School No. 5", CSVOUT_TEXT, "School No. 5");
	expect_field("2026-11-20", CSVOUT_TEXT, "2026-11-20");
	expect_field("a@x.example", CSVOUT_TEXT, "a@x.example");
	/* Blanks are data: kept, not quoted. */
	expect_field("  padded  ", CSVOUT_TEXT, "  padded  ");
	/* A quote or a formula character inside the cell is harmless. */
	expect_field("1+1=2", CSVOUT_TEXT, "1+1=2");
	expect_field("O'Brien", CSVOUT_TEXT, "O'Brien");
}

static void
test_quoting(void **state)
{
	(void)state;
	expect_field("Smith, John", CSVOUT_TEXT, "\"Smith, John\"");
	expect_field("say \"hi\"", CSVOUT_TEXT, "\"say \"\"hi\"\"\"");
	expect_field("\"", CSVOUT_TEXT, "\"\"\"\"");
	expect_field("two\nlines", CSVOUT_TEXT, "\"two\nlines\"");
	expect_field("two\r\nlines", CSVOUT_TEXT, "\"two\r\nlines\"");
	expect_field("a\rb", CSVOUT_TEXT, "\"a\rb\"");
	/* A tab alone needs no quotes. */
	expect_field("a\tb", CSVOUT_TEXT, "a\tb");
}

static void
test_formula(void **state)
{
	(void)state;
	expect_field("=1+1", CSVOUT_TEXT, "'=1+1");
	expect_field("+7 495 000-00-00", CSVOUT_TEXT, "'+7 495 000-00-00");
	expect_field("-2+3", CSVOUT_TEXT, "'-2+3");
	expect_field("@SUM(A1:A9)", CSVOUT_TEXT, "'@SUM(A1:A9)");
	expect_field("\tx", CSVOUT_TEXT, "'\tx");
	/* CR first: prefixed, and quoted for the CR. */
	expect_field("\r=x", CSVOUT_TEXT, "\"'\r=x\"");
	/* The prefix goes inside the quotes, the quotes are doubled. */
	expect_field("=HYPERLINK(\"http://evil.example/\",\"click\")",
	    CSVOUT_TEXT, "\"'=HYPERLINK(\"\"http://evil.example/\"\","
	    "\"\"click\"\")\"");
	expect_field("=cmd|' /C calc'!A0", CSVOUT_TEXT,
	    "'=cmd|' /C calc'!A0");
	/* A text cell that looks like a negative number is still text. */
	expect_field("-206", CSVOUT_TEXT, "'-206");
	/* Characters that only look alike are not formulas. */
	expect_field("\xef\xbc\x9d" "1", CSVOUT_TEXT, "\xef\xbc\x9d" "1");
	expect_field(" =1", CSVOUT_TEXT, " =1");
}

static void
test_numbers(void **state)
{
	(void)state;
	/* The client's own numbers stay numbers. */
	expect_field("-206", CSVOUT_NUMBER, "-206");
	expect_field("32.5", CSVOUT_NUMBER, "32.5");
	expect_field("0", CSVOUT_NUMBER, "0");
	expect_field("-0.5", CSVOUT_NUMBER, "-0.5");
	/* Anything else in a number cell is treated as text. */
	expect_field("-2+3", CSVOUT_NUMBER, "'-2+3");
	expect_field("+5", CSVOUT_NUMBER, "'+5");
	expect_field("=1", CSVOUT_NUMBER, "'=1");
	expect_field("-", CSVOUT_NUMBER, "'-");
	expect_field("-.5", CSVOUT_NUMBER, "'-.5");
	expect_field("-5.", CSVOUT_NUMBER, "'-5.");
	expect_field("1,5", CSVOUT_NUMBER, "\"1,5\"");
}

static void
test_utf8(void **state)
{
	(void)state;
	expect_field("Иван Петров", CSVOUT_TEXT, "Иван Петров");
	expect_field("Школа № 5, корпус 2", CSVOUT_TEXT,
	    "\"Школа № 5, корпус 2\"");
	expect_field("漢字 😀", CSVOUT_TEXT, "漢字 😀");
	/* Broken UTF-8 and terminal escapes become '?'. */
	expect_field("ab\xff" "c", CSVOUT_TEXT, "ab?c");
	expect_field("\xd0", CSVOUT_TEXT, "?");
	expect_field("red\x1b[31m", CSVOUT_TEXT, "red?[31m");
	expect_field("x\xe2\x80\xaey", CSVOUT_TEXT, "x?y");
	/* A control character first is replaced before the formula test. */
	expect_field("\x1b=1", CSVOUT_TEXT, "?=1");
}

static void
test_empty(void **state)
{
	const char	*cells[] = { NULL, "", "x", NULL };
	char		*r;

	(void)state;
	expect_field(NULL, CSVOUT_TEXT, "");
	expect_field("", CSVOUT_TEXT, "");
	expect_field(NULL, CSVOUT_NUMBER, "");
	r = row(cells, NULL, 4);
	assert_string_equal(r, ",,x,\r\n");
	free(r);
	r = row(cells, NULL, 0);
	assert_string_equal(r, "\r\n");
	free(r);
}

static void
test_row(void **state)
{
	const char	*head[] = { "name", "organization", "days_left" };
	const char	*cells[] = { "=evil()", "Школа, № 5", "-206" };
	const int	 kinds[] = { CSVOUT_TEXT, CSVOUT_TEXT, CSVOUT_NUMBER };
	char		*r;

	(void)state;
	r = row(head, NULL, 3);
	assert_string_equal(r, "name,organization,days_left\r\n");
	free(r);
	r = row(cells, kinds, 3);
	assert_string_equal(r, "'=evil(),\"Школа, № 5\",-206\r\n");
	free(r);
	/* Without kinds every cell is text. */
	r = row(cells, NULL, 3);
	assert_string_equal(r, "'=evil(),\"Школа, № 5\",'-206\r\n");
	free(r);
	/* A multi-line cell stays one record. */
	{
		const char	*two[] = { "a\nb", "c" };

		r = row(two, NULL, 2);
		assert_string_equal(r, "\"a\nb\",c\r\n");
		free(r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_formula),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
