/* test_csvimport.c -- people CSV files, well-formed and hostile. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csvimport.h"

#define TXT(s) (s), (sizeof(s) - 1)

static void
parse_ok(const char *text, size_t len, struct csvimport *c)
{
	char	err[256];

	if (csvimport_parse(text, len, c, err, sizeof err) != 0)
		fail_msg("refused: %s", err);
}

static void
assert_str_or_null(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

static void
test_basic(void **state)
{
	struct csvimport	c;

	(void)state;
	parse_ok(TXT("name,email,organization,position,lang,tags\n"
	    "Иван Петров,ivan@school5.example,School No. 5,teacher,ru,"
	    "math young-teacher\n"
	    "  Anna Smith  ,  anna@x.example ,,,en,\n"), &c);
	assert_int_equal(c.nrows, 2);
	assert_int_equal(c.nerrors, 0);
	assert_int_equal(c.rows[0].line, 2);
	assert_string_equal(c.rows[0].name, "Иван Петров");
	assert_string_equal(c.rows[0].email, "ivan@school5.example");
	assert_string_equal(c.rows[0].organization, "School No. 5");
	assert_string_equal(c.rows[0].position, "teacher");
	assert_string_equal(c.rows[0].lang, "ru");
	assert_string_equal(c.rows[0].tags, "math young-teacher");
	/* Blanks around unquoted cells go; empty cells are NULL. */
	assert_int_equal(c.rows[1].line, 3);
	assert_string_equal(c.rows[1].name, "Anna Smith");
	assert_string_equal(c.rows[1].email, "anna@x.example");
	assert_null(c.rows[1].organization);
	assert_null(c.rows[1].position);
	assert_string_equal(c.rows[1].lang, "en");
	assert_null(c.rows[1].tags);
	csvimport_cleanup(&c);
	assert_int_equal(c.nrows, 0);
	csvimport_cleanup(&c);	/* twice is harmless */

	/* Empty first and last cells, even at the very start. */
	parse_ok(TXT("name,email,lang\n,a@b.example,\n\"\",b@b.example,\"\""),
	    &c);
	assert_int_equal(c.nrows, 2);
	assert_null(c.rows[0].name);
	assert_null(c.rows[0].lang);
	assert_null(c.rows[1].name);
	assert_string_equal(c.rows[1].email, "b@b.example");
	assert_null(c.rows[1].lang);
	csvimport_cleanup(&c);
}

/* BOM, CRLF, ';', columns in any order and case, absent columns. */
static void
test_variants(void **state)
{
	struct csvimport	c;

	(void)state;
	parse_ok(TXT("\xef\xbb\xbf" " EMAIL ; Name\r\n"
	    "a@b.example;\"Smith, Anna\"\r\n"
	    "\r\n"
	    "c@d.example;\"Say \"\"hi\"\"\"\r\n"), &c);
	assert_int_equal(c.nerrors, 0);
	assert_int_equal(c.nrows, 2);
	assert_string_equal(c.rows[0].email, "a@b.example");
	assert_string_equal(c.rows[0].name, "Smith, Anna");
	assert_null(c.rows[0].organization);
	assert_int_equal(c.rows[1].line, 4);
	assert_string_equal(c.rows[1].name, "Say \"hi\"");
	csvimport_cleanup(&c);

	/* More commas than semicolons in the header: ',' wins. */
	parse_ok(TXT("name,email,organization\n"
	    "\"A; B\",a@b.example,\"X;Y\"\n"), &c);
	assert_int_equal(c.nrows, 1);
	assert_string_equal(c.rows[0].organization, "X;Y");
	csvimport_cleanup(&c);

	/* No final newline; quoted blanks are kept. */
	parse_ok(TXT("name,email\n\"  Anna \",a@b.example"), &c);
	assert_int_equal(c.nrows, 1);
	assert_string_equal(c.rows[0].name, "  Anna ");
	csvimport_cleanup(&c);
}

/* Quoted newlines: each record keeps the line where it starts. */
static void
test_line_numbers(void **state)
{
	struct csvimport	c;

	(void)state;
	parse_ok(TXT("name,email,position\n"		/* 1 */
	    "\"Anna\nSmith\",a@b.example,\"line1\r\nline2\nline3\"\n"	/* 2-5 */
	    "\n"					/* 6 */
	    "Bob,b@b.example\n"				/* 7: too few */
	    "\"Carl\",c@b.example,\"x\"\n"		/* 8 */
	    "Dan,d@b.example,x,extra\n"			/* 9: too many */
	    "\"multi\n\nline\",e@b.example,\n"		/* 10-12 */
	    "Eve,\"e\"x@b.example,y\n"			/* 13: bad quote */
	    "Fay,f@b.example,z\n"),			/* 14 */
	    &c);
	assert_int_equal(c.nrows, 4);
	assert_int_equal(c.rows[0].line, 2);
	assert_string_equal(c.rows[0].name, "Anna\nSmith");
	assert_string_equal(c.rows[0].position, "line1\r\nline2\nline3");
	assert_int_equal(c.rows[1].line, 8);
	assert_string_equal(c.rows[1].name, "Carl");
	assert_int_equal(c.rows[2].line, 10);
	assert_string_equal(c.rows[2].name, "multi\n\nline");
	assert_null(c.rows[2].position);
	assert_int_equal(c.rows[3].line, 14);
	assert_string_equal(c.rows[3].name, "Fay");
	assert_int_equal(c.nerrors, 3);
	assert_int_equal(c.errors[0].line, 7);
	assert_non_null(strstr(c.errors[0].message, "expected 3 cells"));
	assert_non_null(strstr(c.errors[0].message, "found 2"));
	assert_int_equal(c.errors[1].line, 9);
	assert_non_null(strstr(c.errors[1].message, "found 4"));
	assert_int_equal(c.errors[2].line, 13);
	assert_non_null(strstr(c.errors[2].message, "quote"));
	csvimport_cleanup(&c);

	/* Old Mac files: a bare CR ends a line, and line numbers follow. */
	parse_ok(TXT("name,email\rA,a@b.example\rB\r\"C\",c@b.example\r"),
	    &c);
	assert_int_equal(c.nrows, 2);
	assert_int_equal(c.rows[0].line, 2);
	assert_int_equal(c.rows[1].line, 4);
	assert_string_equal(c.rows[1].name, "C");
	assert_int_equal(c.nerrors, 1);
	assert_int_equal(c.errors[0].line, 3);
	csvimport_cleanup(&c);

	/* A quote never closed: an error on its line, earlier rows kept. */
	parse_ok(TXT("name,email\nA,a@b.example\n\"B,b@b.example\nC,c@x\n"),
	    &c);
	assert_int_equal(c.nrows, 1);
	assert_int_equal(c.nerrors, 1);
	assert_int_equal(c.errors[0].line, 3);
	csvimport_cleanup(&c);
}

static void
test_hostile_cells(void **state)
{
	struct csvimport	c;

	(void)state;
	parse_ok(TXT("name,email\n"
	    "A\xc0\xaf,a@b.example\n"			/* overlong */
	    "B,b\xed\xa0\x80@b.example\n"		/* surrogate */
	    "C\xf8\x88\x80\x80\x80,c@b.example\n"	/* 5 octets */
	    "D\xe2\x82,d@b.example\n"			/* truncated */
	    "E\0x,e@b.example\n"			/* NUL */
	    "F,f@b.example\n"),
	    &c);
	assert_int_equal(c.nrows, 1);
	assert_string_equal(c.rows[0].name, "F");
	assert_int_equal(c.rows[0].line, 7);
	assert_int_equal(c.nerrors, 5);
	assert_int_equal(c.errors[0].line, 2);
	assert_non_null(strstr(c.errors[0].message, "cell 1"));
	assert_non_null(strstr(c.errors[0].message, "UTF-8"));
	assert_int_equal(c.errors[1].line, 3);
	assert_non_null(strstr(c.errors[1].message, "cell 2"));
	assert_int_equal(c.errors[4].line, 6);
	assert_non_null(strstr(c.errors[4].message, "NUL"));
	csvimport_cleanup(&c);

	/* CR and LF inside a quoted cell come through, for the caller to judge. */
	parse_ok(TXT("name,email\n\"X\r\nBcc: y\",a@b.example\n"), &c);
	assert_int_equal(c.nrows, 1);
	assert_string_equal(c.rows[0].name, "X\r\nBcc: y");
	csvimport_cleanup(&c);

	/* A 10,000-character cell. */
	{
		char	*t = malloc(20100);
		size_t	 n;

		assert_non_null(t);
		n = (size_t)snprintf(t, 100, "name,email\n");
		memset(t + n, 'z', 10000);
		n += 10000;
		memcpy(t + n, ",a@b.example\n", 13);
		n += 13;
		parse_ok(t, n, &c);
		assert_int_equal(c.nrows, 1);
		assert_int_equal(strlen(c.rows[0].name), 10000);
		csvimport_cleanup(&c);
		free(t);
	}
}

static void
test_bad_header(void **state)
{
	static const struct { const char *t; size_t n; const char *w; } bad[] = {
		{ TXT(""), "empty" },
		{ TXT("\xef\xbb\xbf"), "empty" },
		{ TXT("\n\n  \n"), "empty" },
		{ TXT("name\nA\n"), "email" },
		{ TXT("email\na@b\n"), "name" },
		{ TXT("name,email,phone\n"), "unknown column \"phone\"" },
		{ TXT("name,email,\n"), "unknown column \"\"" },
		{ TXT("name,email,name\n"), "twice" },
		{ TXT("name,email,\"x\ny\"\n"), "unknown column \"x?y\"" },
		{ TXT("na\"me,email\n"), "quote" },
		{ TXT("name,email\xff\n"), "UTF-8" },
		{ TXT("name,email,organization,position,lang,tags,x\n"),
		    "columns" },
	};
	struct csvimport	c;
	char			err[256];
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (csvimport_parse(bad[i].t, bad[i].n, &c, err,
		    sizeof err) != -1)
			fail_msg("header %zu accepted", i);
		if (strstr(err, bad[i].w) == NULL)
			fail_msg("header %zu: \"%s\" lacks \"%s\"", i, err,
			    bad[i].w);
		assert_true(strncmp(err, "csv: ", 5) == 0);
		assert_int_equal(c.nrows, 0);
		assert_null(c.rows);
		assert_int_equal(c.nerrors, 0);
	}
	/* A header alone is a usable, empty file. */
	parse_ok(TXT("Name,Email\n"), &c);
	assert_int_equal(c.nrows, 0);
	csvimport_cleanup(&c);
}

/* 10,000 rows: linear and fast, lines exact. */
static void
test_many_rows(void **state)
{
	struct csvimport	 c;
	struct timespec		 a, b;
	char			*t;
	size_t			 n = 0, cap = 10000 * 120 + 100, i;
	double			 secs;

	(void)state;
	t = malloc(cap);
	assert_non_null(t);
	n += (size_t)snprintf(t + n, cap - n,
	    "name,email,organization,position,lang,tags\r\n");
	for (i = 0; i < 10000; i++) {
		if (i % 1000 == 999)
			n += (size_t)snprintf(t + n, cap - n,
			    "\"Multi\nLine %zu\",m%zu@school.example,,,,\r\n",
			    i, i);
		else
			n += (size_t)snprintf(t + n, cap - n,
			    "Teacher %zu,t%zu@school.example,School %zu,"
			    "teacher,ru,math\r\n", i, i, i % 50);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	parse_ok(t, n, &c);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	assert_true(secs < 0.5);
	assert_int_equal(c.nrows, 10000);
	assert_int_equal(c.nerrors, 0);
	/* Each multi-line row pushes later rows down by one line. */
	assert_int_equal(c.rows[0].line, 2);
	assert_int_equal(c.rows[999].line, 1001);
	assert_string_equal(c.rows[999].name, "Multi\nLine 999");
	assert_int_equal(c.rows[1000].line, 1003);
	assert_int_equal(c.rows[9999].line, 10010);
	assert_string_equal(c.rows[5000].email, "t5000@school.example");
	assert_str_or_null(c.rows[1999].organization, NULL);
	csvimport_cleanup(&c);
	free(t);
}

/* Tables with any columns (attendance and training imports). */
static void
test_table(void **state)
{
	struct csvimport_table	t;
	char			err[256], big[8192];
	size_t			i, o = 0;

	(void)state;
	/* A webinar platform's report: its own columns, BOM, CRLF. */
	if (csvimport_table_parse(TXT("\xef\xbb\xbf" "Name (Original Name),"
	    " User Email ,Join Time,Duration (Minutes)\r\n"
	    "\"Petrov, Ivan\",ivan@x.example,2026-11-20 15:00,45\r\n"
	    "\r\n"
	    "Anna,,2026-11-20 15:02,\r\n"
	    "bad,row\r\n"
	    "\"multi\nline\",b@x.example,x,\"10\"\r\n"
	    "q\"uote,c@x.example,x,1\r\n"), &t, err, sizeof err) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(t.ncols, 4);
	assert_string_equal(t.header[0], "Name (Original Name)");
	assert_string_equal(t.header[1], "User Email");
	assert_int_equal(csvimport_table_column(&t, "user email"), 1);
	assert_int_equal(csvimport_table_column(&t, " DURATION (minutes) "), 3);
	assert_int_equal(csvimport_table_column(&t, "email"), -1);
	assert_int_equal(t.nrecords, 3);
	assert_int_equal(t.records[0].line, 2);
	assert_string_equal(t.records[0].cells[0], "Petrov, Ivan");
	assert_string_equal(t.records[0].cells[3], "45");
	assert_int_equal(t.records[1].line, 4);
	assert_null(t.records[1].cells[1]);
	assert_null(t.records[1].cells[3]);
	assert_int_equal(t.records[2].line, 6);
	assert_string_equal(t.records[2].cells[0], "multi\nline");
	/* Wrong cell count and a stray quote: errors with their lines. */
	assert_int_equal(t.nerrors, 2);
	assert_int_equal(t.errors[0].line, 5);
	assert_non_null(strstr(t.errors[0].message, "expected 4 cells"));
	assert_int_equal(t.errors[1].line, 8);
	csvimport_table_cleanup(&t);
	assert_int_equal(t.nrecords, 0);
	csvimport_table_cleanup(&t);

	/* ';' separated; a name repeated is found at its first place. */
	if (csvimport_table_parse(TXT("email;hours;email\na@b;1;c@d\n"), &t,
	    err, sizeof err) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(t.ncols, 3);
	assert_int_equal(csvimport_table_column(&t, "EMAIL"), 0);
	assert_string_equal(t.records[0].cells[2], "c@d");
	csvimport_table_cleanup(&t);

	/* Unusable headers. */
	assert_int_equal(csvimport_table_parse(TXT(""), &t, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(csvimport_table_parse(TXT("a,,b\n1,2,3\n"), &t, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "column 2"));
	assert_int_equal(csvimport_table_parse(TXT("a,\"b\"x\n"), &t, err,
	    sizeof err), -1);
	assert_int_equal(csvimport_table_parse(TXT("a,\xff\n"), &t, err,
	    sizeof err), -1);
	for (i = 0; i <= CSVIMPORT_TABLE_COLS; i++)
		o += (size_t)snprintf(big + o, sizeof big - o, "c%zu,", i);
	big[o - 1] = '\n';
	assert_int_equal(csvimport_table_parse(big, o, &t, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "columns"));
	assert_int_equal(t.ncols, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_line_numbers),
		cmocka_unit_test(test_hostile_cells),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_many_rows),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
