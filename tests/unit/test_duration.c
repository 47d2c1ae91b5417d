/* test_duration.c -- duration parsing and formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

static int64_t
parse_ok(const char *s, int64_t bare, int allow_zero)
{
	char	err[256];
	int64_t	v = -1;

	if (duration_parse(s, bare, allow_zero, &v, err, sizeof err) != 0)
		fail_msg("\"%s\" refused: %s", s, err);
	return v;
}

static void
test_parse_good(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("90m", 60, 0), 5400);
	assert_int_equal(parse_ok("1h30m", 60, 0), 5400);
	assert_int_equal(parse_ok("2d", 60, 0), 2 * 86400);
	assert_int_equal(parse_ok("1w", 60, 0), 7 * 86400);
	assert_int_equal(parse_ok("45s", 60, 0), 45);
	assert_int_equal(parse_ok("90", 60, 0), 5400);
	assert_int_equal(parse_ok("90", 1, 0), 90);
	assert_int_equal(parse_ok("  1H30M\t", 60, 0), 5400);
	assert_int_equal(parse_ok("1w2d3h4m5s", 1, 0),
	    7 * 86400 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
	assert_int_equal(parse_ok("2d12h", 60, 0), 60 * 3600);
	assert_int_equal(parse_ok("0m", 60, 1), 0);
	assert_int_equal(parse_ok("0", 60, 1), 0);
	assert_int_equal(parse_ok("007m", 60, 0), 420);
}

static void
test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "   ", "-5m", "1x", "m", "1h1h", "30m1h", "1h30", "1.5h",
		"1 h", "h1", "+5m", "5m-", "1d1w", "0x10", "5mm", "1m\n",
		"1m\r\nX: y", "99999999999999999999m", "9223372036854775807w",
		"9223372036854775807", "1e3", "١٢m",
	};
	char	err[256];
	int64_t	v;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (duration_parse(bad[i], 60, 0, &v, err, sizeof err) != -1)
			fail_msg("\"%s\" accepted as %lld", bad[i],
			    (long long)v);
		assert_true(strlen(err) > 0);
		assert_null(strchr(err, '\n'));
		assert_null(strchr(err, '\r'));
	}
	/* Zero only when allowed, and the sentence says why. */
	assert_int_equal(duration_parse("0m", 60, 0, &v, err, sizeof err), -1);
	assert_non_null(strstr(err, "greater than zero"));
	assert_int_equal(duration_parse("30m1h", 60, 0, &v, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "descending"));
	assert_non_null(strstr(err, "\"30m1h\""));
	assert_int_equal(duration_parse("-5m", 60, 0, &v, err, sizeof err), -1);
	assert_non_null(strstr(err, "negative"));
	/* The largest value that fits, and one more. */
	assert_int_equal(parse_ok("9223372036854775807s", 60, 0), INT64_MAX);
	assert_int_equal(duration_parse("9223372036854775807s1s", 60, 0, &v,
	    err, sizeof err), -1);
	assert_int_equal(duration_parse("153722867280912931m", 60, 0, &v,
	    err, sizeof err), -1);
	assert_int_equal(duration_parse(NULL, 60, 0, &v, err, sizeof err), -1);
	/* Long hostile input is quoted only in part. */
	{
		char *big = malloc(10001);

		assert_non_null(big);
		memset(big, 'x', 10000);
		big[10000] = '\0';
		assert_int_equal(duration_parse(big, 60, 0, &v, err,
		    sizeof err), -1);
		assert_true(strlen(err) < 120);
		free(big);
	}
}

static void
test_list(void **state)
{
	char	err[256];
	int64_t	out[16];
	int	n;

	(void)state;
	n = duration_parse_list("7d, 1d, 1h", 60, out, 16, err, sizeof err);
	assert_int_equal(n, 3);
	assert_int_equal(out[0], 7 * 86400);
	assert_int_equal(out[1], 86400);
	assert_int_equal(out[2], 3600);
	assert_int_equal(duration_parse_list("", 60, out, 16, err, sizeof err),
	    0);
	assert_int_equal(duration_parse_list("  none ", 60, out, 16, err,
	    sizeof err), 0);
	assert_int_equal(duration_parse_list("NONE", 60, out, 16, err,
	    sizeof err), 0);
	n = duration_parse_list("10080,1440,60", 60, out, 16, err, sizeof err);
	assert_int_equal(n, 3);
	assert_int_equal(out[2], 3600);
	assert_int_equal(duration_parse_list("1d,,1h", 60, out, 16, err,
	    sizeof err), -1);
	assert_int_equal(duration_parse_list("1d,", 60, out, 16, err,
	    sizeof err), -1);
	assert_int_equal(duration_parse_list("1d,x", 60, out, 16, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "\"x\""));
	assert_int_equal(duration_parse_list("1d,0m", 60, out, 16, err,
	    sizeof err), -1);
	assert_int_equal(duration_parse_list("1m,2m,3m", 60, out, 2, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "more than 2"));
	assert_int_equal(duration_parse_list("1m,2m", 60, out, 2, err,
	    sizeof err), 2);
}

static void
test_format(void **state)
{
	char	buf[64], err[128];
	int64_t	v, s;

	(void)state;
	duration_format(5400, buf, sizeof buf);
	assert_string_equal(buf, "1h30m");
	duration_format(86400 * 8, buf, sizeof buf);
	assert_string_equal(buf, "1w1d");
	duration_format(0, buf, sizeof buf);
	assert_string_equal(buf, "0s");
	duration_format(59, buf, sizeof buf);
	assert_string_equal(buf, "59s");
	duration_format(90061, buf, sizeof buf);
	assert_string_equal(buf, "1d1h1m1s");
	duration_format(-90, buf, sizeof buf);
	assert_string_equal(buf, "-1m30s");
	duration_format(INT64_MIN, buf, sizeof buf);
	assert_int_equal(buf[0], '-');
	duration_format(5400, buf, 3);
	assert_true(strlen(buf) < 3);
	/* Format and parse are inverses. */
	for (s = 1; s < 4000000; s += 7919) {
		duration_format(s, buf, sizeof buf);
		assert_int_equal(duration_parse(buf, 60, 0, &v, err,
		    sizeof err), 0);
		assert_int_equal(v, s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
