/*
 * test_remind.c -- reminders against a ":memory:" store: the states of a
 * reminder as its session is created, moved, fired, restarted and
 * cancelled, with the clock given explicitly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "../../daemon/store.c"
#include "../../daemon/remind.c"
#include "testlib.h"

#define T0	1800000000LL	/* 2027-01-15T08:00:00Z */

/* s: the one-hour UTC webinar "T" at start, its local time in local. */
static void
test_fill(struct store_session *s, int64_t start, char *local, size_t size)
{
	memset(s, 0, sizeof *s);
	s->kind = "webinar";
	s->title = "T";
	s->tz = "UTC";
	tz_format_local(start, "UTC", "%Y-%m-%dT%H:%M:%S", local, size);
	s->start_local = local;
	s->start_utc = start;
	s->duration = 60;
}

/* A session starting at start with reminders (JSON minutes). */
static int64_t
test_session(int64_t start, const char *reminders, const char *rrule)
{
	struct store_session	 s;
	char			 local[32], err[256];
	int64_t			 id = 0;

	test_fill(&s, start, local, sizeof local);
	s.reminders = reminders;
	s.rrule = rrule;
	assert_int_equal(store_session_add(&s, "r", "x.test", T0, &id, err,
	    sizeof err), LECTERN_OK);
	return id;
}

static void
test_move(int64_t id, int64_t start)
{
	struct store_session	 s;
	char			 local[32], err[256];
	json_t			*cur;

	assert_int_equal(store_session_get(id, 0, &cur, err, sizeof err),
	    LECTERN_OK);
	test_fill(&s, start, local, sizeof local);
	s.reminders = json_dumps(json_object_get(cur, "reminders"), 0);
	assert_int_equal(store_session_update(id, &s, 1, T0, err, sizeof err),
	    LECTERN_OK);
	free((char *)s.reminders);
	json_decref(cur);
}

static void
test_sync(int64_t id, int64_t now)
{
	char	 err[256];

	assert_int_equal(remind_sync(id, now, err, sizeof err), LECTERN_OK);
}

/* The state of the reminder `before` minutes ahead (and its due). */
static const char *
test_state(int64_t id, int before, int64_t *due)
{
	static char	 state[16];
	json_t		*a, *v;
	size_t		 i;
	char		 err[256];

	assert_int_equal(store_remind_list(id, &a, err, sizeof err),
	    LECTERN_OK);
	state[0] = '\0';
	json_array_foreach(a, i, v) {
		if (json_integer_value(json_object_get(v, "before")) != before)
			continue;
		snprintf(state, sizeof state, "%s", json_string_value(
		    json_object_get(v, "state")));
		if (due != NULL)
			tz_parse_utc(json_string_value(json_object_get(v,
			    "due")), due);
	}
	json_decref(a);
	return state;
}

/* Fire what is due at now (the wake callback, without the timerfd). */
static void
test_fire(int64_t now)
{
	remind_fire_cb(now);
}

static void
test_created(void **state)
{
	int64_t	 id, due, next;
	char	 err[256];

	(void)state;
	id = test_session(T0 + 7200, "[1440, 60, 10]", NULL);
	test_sync(id, T0);
	/* 1 day before has passed already: missed, never sent. */
	assert_string_equal(test_state(id, 1440, NULL), "missed");
	assert_string_equal(test_state(id, 60, &due), "pending");
	assert_true(due == T0 + 3600);
	assert_string_equal(test_state(id, 10, &due), "pending");
	assert_true(due == T0 + 7200 - 600);
	assert_int_equal(store_remind_next(&next, err, sizeof err), 0);
	assert_true(next == T0 + 3600);
	/* Not yet due: nothing fires a second early. */
	test_fire(T0 + 3599);
	assert_string_equal(test_state(id, 60, NULL), "pending");
	test_fire(T0 + 3600);
	assert_string_equal(test_state(id, 60, NULL), "sent");
	assert_string_equal(test_state(id, 10, NULL), "pending");
	assert_int_equal(store_remind_next(&next, err, sizeof err), 0);
	assert_true(next == T0 + 7200 - 600);
}

static void
test_moved(void **state)
{
	int64_t	 id, due;

	(void)state;
	id = test_session(T0 + 7200, "[60, 10]", NULL);
	test_sync(id, T0);
	test_fire(T0 + 3600);
	assert_string_equal(test_state(id, 60, NULL), "sent");
	/* A day later: the one that was sent stays sent, the other moves. */
	test_move(id, T0 + 86400 + 7200);
	test_sync(id, T0 + 3700);
	assert_string_equal(test_state(id, 60, NULL), "sent");
	assert_string_equal(test_state(id, 10, &due), "pending");
	assert_true(due == T0 + 86400 + 7200 - 600);
	/* The old due time passes in silence. */
	test_fire(T0 + 7200 - 600);
	assert_string_equal(test_state(id, 10, NULL), "pending");
	/* Moved so close that the 10-minute one has passed: missed... */
	test_move(id, T0 + 3700 + 300);
	test_sync(id, T0 + 3700);
	assert_string_equal(test_state(id, 10, NULL), "missed");
	/* ...and moved away again: armed again. */
	test_move(id, T0 + 86400);
	test_sync(id, T0 + 3700);
	assert_string_equal(test_state(id, 10, NULL), "pending");
}

static void
test_late(void **state)
{
	int64_t	 id;

	(void)state;
	id = test_session(T0 + 7200, "[60]", NULL);
	test_sync(id, T0);
	/* The daemon was away until after the start: expired, not sent. */
	test_fire(T0 + 7300);
	assert_string_equal(test_state(id, 60, NULL), "expired");
	/* Away until after the due time but before the start: sent. */
	id = test_session(T0 + 7200, "[60]", NULL);
	test_sync(id, T0);
	test_fire(T0 + 5000);
	assert_string_equal(test_state(id, 60, NULL), "sent");
}

static void
test_cancelled(void **state)
{
	int64_t	 id, next;
	char	 err[256];

	(void)state;
	id = test_session(T0 + 7200, "[60]", NULL);
	test_sync(id, T0);
	assert_int_equal(store_session_cancel(id, "x", T0, err, sizeof err),
	    LECTERN_OK);
	test_sync(id, T0);
	assert_string_equal(test_state(id, 60, NULL), "");
	assert_int_equal(store_remind_next(&next, err, sizeof err), 0);
	assert_true(next == 0);
}

static void
test_series(void **state)
{
	int64_t	 id, n;
	char	 err[256];

	(void)state;
	/* Daily for ever: a year of occurrences, one reminder each. */
	id = test_session(T0 + 7200, "[30]", "FREQ=DAILY");
	test_sync(id, T0);
	assert_int_equal(store_remind_pending(&n, err, sizeof err), 0);
	assert_true(n >= 365 && n <= 367);
	assert_int_equal(n, 365);
	/* A day and a half on, the second fires and the window moves on. */
	test_fire(T0 + 7200 - 1800);
	test_fire(T0 + 86400 + 7200 - 1800);
	assert_int_equal(store_query_int("SELECT count(*) FROM reminders "
	    "WHERE state = 'sent'", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_remind_pending(&n, err, sizeof err), 0);
	assert_int_equal(n, 364);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_created,
		    testlib_store_setup, testlib_store_teardown),
		cmocka_unit_test_setup_teardown(test_moved,
		    testlib_store_setup, testlib_store_teardown),
		cmocka_unit_test_setup_teardown(test_late,
		    testlib_store_setup, testlib_store_teardown),
		cmocka_unit_test_setup_teardown(test_cancelled,
		    testlib_store_setup, testlib_store_teardown),
		cmocka_unit_test_setup_teardown(test_series,
		    testlib_store_setup, testlib_store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
