/*
 * test_outbox.c -- the store's outbox functions on a :memory: database:
 * add, due (with skip), next, sent, defer, fail, expire, requeue, and the
 * trigger-kept status counters through every state change. store.c is
 * #included to reach the database handle.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/store.c"
#include "testlib.h"

static int64_t
test_outbox_int(const char *sql)
{
	int64_t	 v = -1;

	assert_int_equal(store_query_int(sql, &v), 0);
	return v;
}

static int64_t
test_outbox_add(const char *rcpt, const char *kind, const char *msg,
    size_t len, int64_t next, int64_t expires)
{
	struct store_outbox_new	 m;
	char			 err[256], mid[64];
	int64_t			 id = 0;

	snprintf(mid, sizeof mid, "m-%s", rcpt);
	testlib_outbox_new(&m, rcpt, kind, mid, msg, len);
	m.next_attempt = next;
	m.expires = expires;
	if (store_outbox_add(&m, 100, &id, err, sizeof err) != LECTERN_OK)
		fail_msg("store_outbox_add: %s", err);
	return id;
}

/* The counters must equal a real count for every state. */
static void
test_outbox_counts(int64_t queued, int64_t sent, int64_t failed,
    int64_t expired)
{
	struct store_counts	 c;
	char			 err[256];

	assert_int_equal(store_counts(&c, err, sizeof err), LECTERN_OK);
	assert_int_equal(c.queued, queued);
	assert_int_equal(c.sent, sent);
	assert_int_equal(c.failed, failed);
	assert_int_equal(c.expired, expired);
	assert_int_equal(test_outbox_int("SELECT count(*) FROM outbox WHERE "
	    "state = 'queued'"), queued);
	assert_int_equal(test_outbox_int("SELECT count(*) FROM outbox WHERE "
	    "state = 'sent'"), sent);
	assert_int_equal(test_outbox_int("SELECT count(*) FROM outbox WHERE "
	    "state = 'failed'"), failed);
	assert_int_equal(test_outbox_int("SELECT count(*) FROM outbox WHERE "
	    "state = 'expired'"), expired);
}

static void
test_outbox_add_due(void **state)
{
	static const char	 bin[] = "A\r\n.\r\n\0B\r\n";
	struct store_outbox_msg	*msgs;
	char			 err[256];
	int64_t			 a, b, c, d, skip[1], when;
	size_t			 n;

	(void)state;
	assert_int_equal(store_outbox_next(&when, err, sizeof err), LECTERN_OK);
	assert_int_equal(when, 0);
	a = test_outbox_add("a@x.test", "invite", bin, sizeof bin - 1, 50, 0);
	b = test_outbox_add("b@x.test", "waitlist", "B\r\n", 3, 40, 0);
	c = test_outbox_add("c@x.test", "reminder", "C\r\n", 3, 500, 0);
	d = test_outbox_add("d@x.test", "cancel", "D\r\n", 3, 45, 0);
	test_outbox_counts(4, 0, 0, 0);
	assert_int_equal(store_outbox_next(&when, err, sizeof err), LECTERN_OK);
	assert_int_equal(when, 40);

	/* Oldest due first; not yet due ones left out. */
	assert_int_equal(store_outbox_due(100, 10, NULL, 0, &msgs, &n, err,
	    sizeof err), LECTERN_OK);
	assert_int_equal(n, 3);
	assert_int_equal(msgs[0].id, b);
	assert_int_equal(msgs[1].id, d);
	assert_int_equal(msgs[2].id, a);
	assert_string_equal(msgs[2].recipient, "a@x.test");
	assert_string_equal(msgs[2].message_id, "m-a@x.test");
	assert_int_equal(msgs[2].len, sizeof bin - 1);
	assert_memory_equal(msgs[2].message, bin, sizeof bin - 1);
	assert_int_equal(msgs[2].attempts, 0);
	store_outbox_msgs_free(msgs, n);

	/* max and skip: the skipped one does not use up max. */
	skip[0] = b;
	assert_int_equal(store_outbox_due(100, 2, skip, 1, &msgs, &n, err,
	    sizeof err), LECTERN_OK);
	assert_int_equal(n, 2);
	assert_int_equal(msgs[0].id, d);
	assert_int_equal(msgs[1].id, a);
	store_outbox_msgs_free(msgs, n);
	assert_int_equal(store_outbox_due(44, 5, skip, 1, &msgs, &n, err,
	    sizeof err), LECTERN_OK);
	assert_int_equal(n, 0);
	assert_null(msgs);
	assert_int_equal(store_outbox_due(1000, 0, NULL, 0, &msgs, &n, err,
	    sizeof err), LECTERN_OK);
	assert_int_equal(n, 0);
	(void)c;

	/* An unknown kind is refused by the schema. */
	{
		struct store_outbox_new	 m;
		int64_t			 id;

		testlib_outbox_new(&m, "e@x.test", "spam", "e", "E", 1);
		assert_int_equal(store_outbox_add(&m, 1, &id, err, sizeof err),
		    LECTERN_E_CONFLICT);
	}
	test_outbox_counts(4, 0, 0, 0);
}

static void
test_outbox_outcomes(void **state)
{
	char	 err[256];
	int64_t	 a, b, c, d, e, n, when;

	(void)state;
	a = test_outbox_add("a@x.test", "invite", "A", 1, 10, 0);
	b = test_outbox_add("b@x.test", "update", "B", 1, 10, 0);
	c = test_outbox_add("c@x.test", "reminder", "C", 1, 10, 200);
	d = test_outbox_add("d@x.test", "invite", "D", 1, 10, 0);
	e = test_outbox_add("e@x.test", "reminder", "E", 1, 10, 300);
	test_outbox_counts(5, 0, 0, 0);

	assert_int_equal(store_begin(), LECTERN_OK);
	assert_int_equal(store_outbox_sent(a, 20, "250 2.0.0 Ok", err,
	    sizeof err), LECTERN_OK);
	assert_int_equal(store_outbox_fail(b, "550 5.1.1 unknown", err,
	    sizeof err), LECTERN_OK);
	assert_int_equal(store_outbox_defer(d, 70, "451 4.3.0 later", err,
	    sizeof err), LECTERN_OK);
	assert_int_equal(store_commit(), LECTERN_OK);
	test_outbox_counts(3, 1, 1, 0);
	assert_int_equal(test_outbox_int("SELECT attempts FROM outbox WHERE "
	    "id = 1"), 1);
	assert_int_equal(test_outbox_int("SELECT sent_at FROM outbox WHERE "
	    "id = 1"), 20);
	assert_int_equal(test_outbox_int("SELECT next_attempt FROM outbox "
	    "WHERE id = 4"), 70);
	assert_int_equal(test_outbox_int("SELECT attempts FROM outbox "
	    "WHERE id = 4"), 1);
	assert_int_equal(test_outbox_int("SELECT count(*) FROM outbox WHERE "
	    "id = 2 AND last_reply = '550 5.1.1 unknown'"), 1);

	/* Outcomes only apply to queued messages. */
	assert_int_equal(store_outbox_fail(a, "x", err, sizeof err),
	    LECTERN_E_NOT_FOUND);
	assert_int_equal(store_outbox_defer(b, 1, "x", err, sizeof err),
	    LECTERN_E_NOT_FOUND);
	assert_int_equal(store_outbox_sent(b, 1, "x", err, sizeof err),
	    LECTERN_E_NOT_FOUND);
	assert_int_equal(store_outbox_sent(999, 1, "x", err, sizeof err),
	    LECTERN_E_NOT_FOUND);
	test_outbox_counts(3, 1, 1, 0);

	/* Expiry: expires <= now, 0 never. */
	assert_int_equal(store_outbox_expire(199, &n, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_outbox_expire(200, &n, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(n, 1);
	test_outbox_counts(2, 1, 1, 1);
	assert_int_equal(store_outbox_next(&when, err, sizeof err), LECTERN_OK);
	assert_int_equal(when, 10);	/* e */

	/* A message that expired while in flight can still be marked sent. */
	assert_int_equal(store_outbox_expire(300, &n, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(n, 1);
	test_outbox_counts(1, 1, 1, 2);
	assert_int_equal(store_outbox_sent(e, 301, "250 ok", err, sizeof err),
	    LECTERN_OK);
	test_outbox_counts(1, 2, 1, 1);

	/* Requeue every failed one (not the expired: they keep expiring). */
	assert_int_equal(store_outbox_requeue(0, 400, &n, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(n, 1);
	test_outbox_counts(2, 2, 0, 1);
	/* An expired one by id: the coordinator's choice lifts its expiry. */
	assert_int_equal(store_outbox_requeue(c, 400, &n, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(n, 1);
	test_outbox_counts(3, 2, 0, 0);
	assert_int_equal(test_outbox_int("SELECT expires FROM outbox WHERE "
	    "id = 3"), 0);
	assert_int_equal(test_outbox_int("SELECT next_attempt FROM outbox "
	    "WHERE id = 2"), 400);
	assert_int_equal(test_outbox_int("SELECT attempts FROM outbox "
	    "WHERE id = 2"), 0);
	assert_int_equal(store_outbox_next(&when, err, sizeof err), LECTERN_OK);
	assert_int_equal(when, 70);

	/* One by id: a queued one is made due now; sent ones are not touched. */
	assert_int_equal(store_outbox_requeue(d, 50, &n, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_outbox_next(&when, err, sizeof err), LECTERN_OK);
	assert_int_equal(when, 50);
	assert_int_equal(store_outbox_requeue(a, 50, &n, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(n, 0);
	test_outbox_counts(3, 2, 0, 0);

	/* Deleting rows keeps the counters right too. */
	assert_int_equal(store_exec("DELETE FROM outbox WHERE id IN (1, 2)",
	    err, sizeof err), LECTERN_OK);
	test_outbox_counts(2, 1, 0, 0);
}

static void
test_outbox_rollback(void **state)
{
	char	 err[256];
	int64_t	 a;

	(void)state;
	a = test_outbox_add("a@x.test", "invite", "A", 1, 10, 0);
	assert_int_equal(store_begin(), LECTERN_OK);
	assert_int_equal(store_outbox_sent(a, 20, "250", err, sizeof err),
	    LECTERN_OK);
	store_rollback();
	test_outbox_counts(1, 0, 0, 0);
}

static void
test_outbox_session_people(void **state)
{
	struct store_session	 s;
	struct store_person	 p = { "P", NULL, NULL, NULL, NULL, NULL, 0 };
	char			 err[256], email[32];
	int			 outcomes[3];
	int64_t			 sid, ids[3], pos[3], *out;
	size_t			 n, i;

	(void)state;
	memset(&s, 0, sizeof s);
	s.kind = "webinar";
	s.title = "T";
	s.start_utc = 1000;
	s.start_local = "1970-01-01T00:16:40";
	s.tz = "UTC";
	s.duration = 60;
	s.capacity = 2;
	assert_int_equal(store_session_add(&s, "r", "x.test", 1, &sid, err,
	    sizeof err), LECTERN_OK);
	for (i = 0; i < 3; i++) {
		snprintf(email, sizeof email, "p%zu@x.test", i);
		p.email = email;
		assert_int_equal(store_person_add(&p, 1, &ids[i], err,
		    sizeof err), LECTERN_OK);
	}
	assert_int_equal(store_enroll(0, sid, ids, 3, 2, outcomes, pos, err,
	    sizeof err), LECTERN_OK);
	assert_int_equal(store_session_people(sid, &out, &n, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(n, 2);		/* the third is waitlisted */
	assert_int_equal(out[0], ids[0]);
	assert_int_equal(out[1], ids[1]);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_outbox_add_due,
		    testlib_store_setup, testlib_store_teardown),
		cmocka_unit_test_setup_teardown(test_outbox_outcomes,
		    testlib_store_setup, testlib_store_teardown),
		cmocka_unit_test_setup_teardown(test_outbox_rollback,
		    testlib_store_setup, testlib_store_teardown),
		cmocka_unit_test_setup_teardown(test_outbox_session_people,
		    testlib_store_setup, testlib_store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
