/*
 * test_recert.c -- the recertification cycle (daemon/recert.c): days,
 * a cycle added to a date, the status boundaries, the report window, the
 * digest's periods.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "recert.h"

static const struct recert_cycle three_years = { 36, 0 };

/* The day number of "YYYY-MM-DD", which must parse. */
static int64_t
day(const char *s)
{
	int64_t	 d;

	if (recert_parse_day(s, &d) != 0)
		fail_msg("%s does not parse", s);
	return d;
}

static void
assert_day(int64_t d, const char *want)
{
	char	 buf[16];

	recert_format_day(d, buf, sizeof buf);
	assert_string_equal(buf, want);
}

static void
test_days(void **state)
{
	int64_t	 d;
	int	 y, m, dd, py = 1899, pm = 12, pd = 31;

	(void)state;
	assert_int_equal(recert_day(1970, 1, 1), 0);
	assert_int_equal(recert_day(2000, 3, 1) - recert_day(2000, 2, 28), 2);
	assert_int_equal(recert_day(2100, 3, 1) - recert_day(2100, 2, 28), 1);
	assert_int_equal(recert_days_in_month(2024, 2), 29);
	assert_int_equal(recert_days_in_month(2026, 2), 28);
	assert_int_equal(recert_days_in_month(1900, 2), 28);
	assert_int_equal(recert_days_in_month(2000, 2), 29);
	assert_int_equal(recert_days_in_month(2026, 4), 30);
	assert_int_equal(recert_days_in_month(2026, 12), 31);
	/* Every day from 1900 to 2101 follows the one before it. */
	for (d = recert_day(1900, 1, 1); d < recert_day(2101, 1, 1); d++) {
		recert_civil(d, &y, &m, &dd);
		if (dd == 1) {
			assert_int_equal(pd, recert_days_in_month(py, pm));
			assert_true((m == pm + 1 && y == py) ||
			    (m == 1 && pm == 12 && y == py + 1));
		} else {
			assert_int_equal(dd, pd + 1);
			assert_int_equal(m, pm);
		}
		assert_int_equal(recert_day(y, m, dd), d);
		py = y;
		pm = m;
		pd = dd;
	}
}

static void
test_parse_day(void **state)
{
	static const char *const bad[] = { "", "2026-02-29", "2024-02-30",
	    "2026-13-01", "2026-00-10", "2026-04-31", "2026-1-01",
	    "2026-01-1", "20260101", "2026/01/01", "1899-12-31",
	    "2026-01-01T00:00", " 2026-01-01", "2026-01-0a", "+026-01-01",
	    "23.11.2026" };
	int64_t	 d;
	size_t	 i;

	(void)state;
	assert_day(day("2024-02-29"), "2024-02-29");
	assert_day(day("1900-01-01"), "1900-01-01");
	assert_day(day("9999-12-31"), "9999-12-31");
	assert_int_equal(day("2026-11-23") - day("2023-11-23"), 1096);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (recert_parse_day(bad[i], &d) != -1)
			fail_msg("\"%s\" was taken for a date", bad[i]);
	}
	assert_int_equal(recert_parse_day(NULL, &d), -1);
}

static void
test_add_months(void **state)
{
	(void)state;
	/* Month-end: the day the month lacks becomes its last day. */
	assert_day(recert_add_months(day("2026-01-31"), 1), "2026-02-28");
	assert_day(recert_add_months(day("2024-01-31"), 1), "2024-02-29");
	assert_day(recert_add_months(day("2026-03-31"), 1), "2026-04-30");
	assert_day(recert_add_months(day("2026-03-31"), -1), "2026-02-28");
	assert_day(recert_add_months(day("2026-12-15"), 1), "2027-01-15");
	assert_day(recert_add_months(day("2026-01-15"), -1), "2025-12-15");
	assert_day(recert_add_months(day("2026-01-15"), -13), "2024-12-15");
	/* 29 February: 28 February in a common year, itself in a leap one. */
	assert_day(recert_add_months(day("2024-02-29"), 12), "2025-02-28");
	assert_day(recert_add_months(day("2024-02-29"), 36), "2027-02-28");
	assert_day(recert_add_months(day("2024-02-29"), 48), "2028-02-29");
	assert_day(recert_add_months(day("2024-02-29"), -48), "2020-02-29");
	assert_day(recert_add_months(day("2024-02-29"), -12), "2023-02-28");
	assert_day(recert_add_months(day("2096-02-29"), 48), "2100-02-28");
	assert_day(recert_add_months(day("2026-05-05"), 0), "2026-05-05");
}

static void
test_due(void **state)
{
	struct recert_cycle	 c;

	(void)state;
	assert_day(recert_due(day("2023-11-23"), &three_years), "2026-11-23");
	assert_day(recert_due(day("2024-02-29"), &three_years), "2027-02-28");
	assert_day(recert_due(day("2024-02-28"), &three_years), "2027-02-28");
	assert_day(recert_due(day("2025-02-28"), &three_years), "2028-02-28");
	assert_day(recert_due(day("2023-05-01"), &three_years), "2026-05-01");
	/* Days are days: 1095 is not three years across a leap day. */
	c.months = 0;
	c.days = 1095;
	assert_day(recert_due(day("2023-11-23"), &c), "2026-11-22");
	/* Months first, then days. */
	c.months = 1;
	c.days = 1;
	assert_day(recert_due(day("2026-01-31"), &c), "2026-03-01");
	c.months = 18;
	c.days = 0;
	assert_day(recert_due(day("2025-08-31"), &c), "2027-02-28");
}

/* The status of a person whose last completion is last, on as_of. */
static const char *
status(const char *last, const char *as_of, int64_t *days_left)
{
	enum recert_status	 s;
	int64_t			 due = -1;

	s = recert_status(last != NULL, last != NULL ? day(last) : 0,
	    day(as_of), &three_years, 180, &due);
	if (days_left != NULL)
		*days_left = last != NULL ? due - day(as_of) : 0;
	return recert_status_name(s);
}

static void
test_status_boundaries(void **state)
{
	int64_t	 left;

	(void)state;
	/* Due exactly today is due_soon, not overdue; the next day it is. */
	assert_string_equal(status("2023-11-23", "2026-11-23", &left),
	    "due_soon");
	assert_int_equal(left, 0);
	assert_string_equal(status("2023-11-23", "2026-11-24", &left),
	    "overdue");
	assert_int_equal(left, -1);
	assert_string_equal(status("2023-11-22", "2026-11-23", &left),
	    "overdue");
	/* A completion on the window's first day: due tomorrow. */
	assert_string_equal(status("2023-11-24", "2026-11-23", &left),
	    "due_soon");
	assert_int_equal(left, 1);
	/* due_soon: due at most 180 days ahead; 181 is ok. */
	assert_string_equal(status("2024-05-22", "2026-11-23", &left),
	    "due_soon");
	assert_int_equal(left, 180);
	assert_string_equal(status("2024-05-23", "2026-11-23", &left), "ok");
	assert_int_equal(left, 181);
	assert_string_equal(status("2024-05-23", "2026-11-24", &left),
	    "due_soon");
	/* Leap day: due 28 February, through that day, overdue on 1 March. */
	assert_string_equal(status("2024-02-29", "2027-02-28", &left),
	    "due_soon");
	assert_int_equal(left, 0);
	assert_string_equal(status("2024-02-29", "2027-03-01", &left),
	    "overdue");
	assert_string_equal(status("2024-02-29", "2024-02-29", &left), "ok");
	assert_int_equal(left, 1095);
	assert_string_equal(status("2025-02-28", "2028-02-29", &left),
	    "overdue");
	assert_int_equal(left, -1);
	/* Completed today: a full cycle ahead. */
	assert_string_equal(status("2026-11-23", "2026-11-23", &left), "ok");
	assert_int_equal(left, 1096);
	assert_string_equal(status(NULL, "2026-11-23", NULL), "never");
	/* due_soon of 0 days: only due today. */
	assert_int_equal(recert_status(1, day("2023-11-23"), day("2026-11-23"),
	    &three_years, 0, NULL), RECERT_DUE_SOON);
	assert_int_equal(recert_status(1, day("2023-11-24"), day("2026-11-23"),
	    &three_years, 0, NULL), RECERT_OK);
}

static void
test_window(void **state)
{
	struct recert_cycle	 c = { 12, 0 };
	int64_t			 d, from;
	int			 months[] = { 1, 12, 18, 36 };
	size_t			 k;

	(void)state;
	/*
	 * The cycle window ending today starts on the first day whose
	 * completion is due today or later: a completion exactly one cycle
	 * ago is due today (due_soon), so it is in the window.
	 */
	assert_day(recert_window_start(day("2026-11-23"), &three_years),
	    "2023-11-23");
	assert_day(recert_window_start(day("2027-02-28"), &c), "2026-02-28");
	/* 2025-02-28 is due 2028-02-28: overdue on the 29th. */
	assert_day(recert_window_start(day("2028-02-29"), &three_years),
	    "2025-03-01");
	c.months = 1;
	/* Nothing in February is due as late as 31 March. */
	assert_day(recert_window_start(day("2026-03-31"), &c), "2026-03-01");
	c.months = 0;
	c.days = 1095;
	assert_day(recert_window_start(day("2026-11-23"), &c), "2023-11-24");
	/*
	 * Everywhere: a completion on the day before the window is overdue
	 * today, one on its first day is not.
	 */
	for (k = 0; k < sizeof months / sizeof months[0]; k++) {
		c.months = months[k];
		c.days = 0;
		for (d = day("2023-01-01"); d < day("2029-01-01"); d++) {
			from = recert_window_start(d, &c);
			assert_true(recert_due(from - 1, &c) < d);
			assert_true(recert_due(from, &c) >= d);
		}
	}
}

static void
test_cycle_text(void **state)
{
	static const char *const bad[] = { "", "3", "y", "3x", "6m1y",
	    "3y3y", "0y", "0d", "51y", "601m", "18301d", "3 y", "-3y",
	    "1234567y", "3y,", "3.5y" };
	struct recert_cycle	 c;
	char			 err[256], buf[32];
	size_t			 i;

	(void)state;
	assert_int_equal(recert_parse_cycle("3y", "cycle", &c, err,
	    sizeof err), 0);
	assert_int_equal(c.months, 36);
	assert_int_equal(c.days, 0);
	assert_int_equal(recert_parse_cycle(" 1y6m ", "cycle", &c, err,
	    sizeof err), 0);
	assert_int_equal(c.months, 18);
	recert_format_cycle(&c, buf, sizeof buf);
	assert_string_equal(buf, "1y6m");
	assert_int_equal(recert_parse_cycle("36M", "cycle", &c, err,
	    sizeof err), 0);
	recert_format_cycle(&c, buf, sizeof buf);
	assert_string_equal(buf, "3y");
	assert_int_equal(recert_parse_cycle("1095d", "cycle", &c, err,
	    sizeof err), 0);
	assert_int_equal(c.months, 0);
	assert_int_equal(c.days, 1095);
	recert_format_cycle(&c, buf, sizeof buf);
	assert_string_equal(buf, "1095d");
	assert_int_equal(recert_parse_cycle("2y1m10d", "cycle", &c, err,
	    sizeof err), 0);
	recert_format_cycle(&c, buf, sizeof buf);
	assert_string_equal(buf, "2y1m10d");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (recert_parse_cycle(bad[i], "cycle", &c, err,
		    sizeof err) != -1)
			fail_msg("\"%s\" was taken for a cycle", bad[i]);
		/* The sentence names the key. */
		assert_memory_equal(err, "cycle: ", 7);
	}
}

static void
test_status_names(void **state)
{
	int	 s;

	(void)state;
	for (s = 0; s < RECERT_NSTATUS; s++)
		assert_int_equal(recert_status_parse(recert_status_name(s)), s);
	assert_int_equal(recert_status_parse("due_soon"), RECERT_DUE_SOON);
	assert_int_equal(recert_status_parse("late"), -1);
	assert_int_equal(recert_status_parse("OK"), -1);
	assert_int_equal(recert_status_parse(NULL), -1);
}

static void
test_period(void **state)
{
	static const struct {
		const char	*day;
		const char	*month, *week;
	} cases[] = {
		{ "2026-11-23", "2026-11", "2026-W48" },
		{ "2027-01-13", "2027-01", "2027-W02" },	/* Wednesday */
		{ "2027-01-17", "2027-01", "2027-W02" },	/* Sunday */
		{ "2027-01-18", "2027-01", "2027-W03" },	/* Monday */
		{ "2021-01-03", "2021-01", "2020-W53" },
		{ "2024-12-30", "2024-12", "2025-W01" },
		{ "2026-01-01", "2026-01", "2026-W01" },
		{ "1970-01-01", "1970-01", "1970-W01" },
	};
	char	 buf[16];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		recert_period(day(cases[i].day), 0, buf, sizeof buf);
		assert_string_equal(buf, cases[i].month);
		recert_period(day(cases[i].day), 1, buf, sizeof buf);
		assert_string_equal(buf, cases[i].week);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_parse_day),
		cmocka_unit_test(test_add_months),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_status_boundaries),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_cycle_text),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_period),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
