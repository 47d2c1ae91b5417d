/*
 * test_series.c -- series.c: occurrences of RRULEs in wall time, checked
 * against instants computed by hand from the zones' known offsets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "series.h"
#include "tz.h"

/* UTC seconds of a civil UTC time. */
static int64_t
utc(int y, int mo, int d, int h, int mi)
{
	return tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

/* Weekly 15:00 in Berlin stays 15:00 across the change to summer time. */
static void
test_weekly_dst(void **state)
{
	int64_t	 t[10];
	char	 err[160];
	int	 n, more;

	(void)state;
	n = series_expand("FREQ=WEEKLY;COUNT=4", "Europe/Berlin",
	    "2027-03-17T15:00:00", 0, INT64_MAX, t, 10, &more, err,
	    sizeof err);
	assert_int_equal(n, 4);
	assert_int_equal(more, 0);
	assert_true(t[0] == utc(2027, 3, 17, 14, 0));	/* CET, +01 */
	assert_true(t[1] == utc(2027, 3, 24, 14, 0));
	assert_true(t[2] == utc(2027, 3, 31, 13, 0));	/* CEST, +02 */
	assert_true(t[3] == utc(2027, 4, 7, 13, 0));
}

/* A zone without DST: Moscow, +03 all year. */
static void
test_monthly_moscow(void **state)
{
	int64_t	 t[10];
	char	 err[160];
	int	 n, i;

	(void)state;
	n = series_expand("FREQ=MONTHLY;INTERVAL=3;COUNT=4", "Europe/Moscow",
	    "2027-01-20T10:00:00", 0, INT64_MAX, t, 10, NULL, err,
	    sizeof err);
	assert_int_equal(n, 4);
	for (i = 0; i < 4; i++)
		assert_true(t[i] == utc(2027, 1 + 3 * i, 20, 7, 0));
}

/* A wall time in the gap is read with the offset before it. */
static void
test_gap(void **state)
{
	int64_t	 t[10];
	char	 err[160];
	int	 n;

	(void)state;
	n = series_expand("FREQ=DAILY;COUNT=3", "Europe/Berlin",
	    "2027-03-27T02:30:00", 0, INT64_MAX, t, 10, NULL, err,
	    sizeof err);
	assert_int_equal(n, 3);
	assert_true(t[0] == utc(2027, 3, 27, 1, 30));
	assert_true(t[1] == utc(2027, 3, 28, 1, 30));	/* 02:30 does not exist */
	assert_true(t[2] == utc(2027, 3, 29, 0, 30));
}

/* A window, BYDAY, UNTIL and the "more" flag. */
static void
test_window(void **state)
{
	int64_t	 t[10];
	char	 err[160];
	int	 n, more;

	(void)state;
	/* Mondays and Thursdays in January 2027, 09:00 UTC. */
	n = series_expand("FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20270131T235959Z",
	    "UTC", "2027-01-04T09:00:00", utc(2027, 1, 10, 0, 0),
	    utc(2027, 1, 20, 0, 0), t, 10, &more, err, sizeof err);
	assert_int_equal(n, 3);		/* 11th, 14th, 18th */
	assert_int_equal(more, 1);
	assert_true(t[0] == utc(2027, 1, 11, 9, 0));
	assert_true(t[1] == utc(2027, 1, 14, 9, 0));
	assert_true(t[2] == utc(2027, 1, 18, 9, 0));
	/* Capped by max. */
	n = series_expand("FREQ=DAILY", "UTC", "2027-01-01T09:00:00", 0,
	    INT64_MAX, t, 2, &more, err, sizeof err);
	assert_int_equal(n, 2);
	assert_int_equal(more, 1);
}

static void
test_bad(void **state)
{
	int64_t	 t[2];
	char	 err[160];

	(void)state;
	assert_int_equal(series_expand("FREQ=NEVER", "UTC",
	    "2027-01-01T09:00:00", 0, INT64_MAX, t, 2, NULL, err,
	    sizeof err), -1);
	assert_int_equal(series_expand("FREQ=DAILY", "UTC", "tomorrow", 0,
	    INT64_MAX, t, 2, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "start"));
}

/* The string member key of the i-th occurrence in occ. */
static const char *
occ_str(json_t *occ, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(occ, i),
	    key));
}

/* Overrides move one occurrence and cancel another. */
static void
test_occurrences(void **state)
{
	json_t	*s, *ov, *occ;
	char	 err[160];

	(void)state;
	s = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:s}",
	    "rrule", "FREQ=WEEKLY;COUNT=3", "tz", "Europe/Berlin",
	    "local_start", "2027-03-17T15:00:00", "start",
	    "2027-03-17T14:00:00Z", "duration", 90, "title", "Series",
	    "sequence", 2, "status", "scheduled");
	ov = json_pack("[{s:s, s:s, s:i, s:s, s:n, s:n, s:n, s:i, s:s, s:n},"
	    " {s:s, s:s, s:i, s:n, s:n, s:n, s:n, s:i, s:s, s:s}]",
	    "occurrence", "2027-03-24T14:00:00Z", "start",
	    "2027-03-25T15:00:00Z", "duration", 60, "title", "Moved",
	    "description", "location", "url", "sequence", 3, "status",
	    "scheduled", "cancel_reason",
	    "occurrence", "2027-03-31T13:00:00Z", "start",
	    "2027-03-31T13:00:00Z", "duration", 90, "title", "description",
	    "location", "url", "sequence", 3, "status", "cancelled",
	    "cancel_reason", "holiday");
	assert_non_null(s);
	assert_non_null(ov);
	occ = series_occurrences(s, ov, utc(2027, 3, 1, 0, 0),
	    utc(2027, 5, 1, 0, 0), err, sizeof err);
	assert_non_null(occ);
	assert_int_equal(json_array_size(occ), 3);
	assert_string_equal(occ_str(occ, 0, "title"), "Series");
	assert_string_equal(occ_str(occ, 1, "title"), "Moved");
	assert_string_equal(occ_str(occ, 1, "start"), "2027-03-25T15:00:00Z");
	assert_string_equal(occ_str(occ, 1, "end"), "2027-03-25T16:00:00Z");
	assert_string_equal(occ_str(occ, 1, "local_start"),
	    "2027-03-25T16:00:00");
	assert_string_equal(occ_str(occ, 1, "occurrence"),
	    "2027-03-24T14:00:00Z");
	assert_string_equal(occ_str(occ, 2, "status"), "cancelled");
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(occ, 2), "sequence")), 3);
	json_decref(occ);
	/* The window is on the moved start, not the original one. */
	occ = series_occurrences(s, ov, utc(2027, 3, 25, 0, 0),
	    utc(2027, 3, 26, 0, 0), err, sizeof err);
	assert_int_equal(json_array_size(occ), 1);
	json_decref(occ);
	json_decref(ov);
	json_decref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weekly_dst),
		cmocka_unit_test(test_monthly_moscow),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_occurrences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
