/*
 * test_store.c -- the SQLite store: migrations, pragmas, busy behaviour,
 * counters and the outbox listing. store.c (and commands.c, to check that a
 * command reports busy) are #included to reach the database handle.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../../daemon/store.c"
#include "../../daemon/commands.c"

size_t
server_clients(void)
{
	return 0;
}

static char	test_dir[64];
static char	test_path[128];

static int
test_setup(void **state)
{
	(void)state;
	snprintf(test_dir, sizeof test_dir, "/tmp/lectern-store-XXXXXX");
	if (mkdtemp(test_dir) == NULL)
		return -1;
	snprintf(test_path, sizeof test_path, "%s/lectern.db", test_dir);
	return 0;
}

static int
test_teardown(void **state)
{
	char	 p[160];

	(void)state;
	store_close();
	unlink(test_path);
	snprintf(p, sizeof p, "%s-wal", test_path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", test_path);
	unlink(p);
	rmdir(test_dir);
	return 0;
}

static int64_t
test_int(const char *sql)
{
	int64_t	 v = -1;

	assert_int_equal(store_query_int(sql, &v), 0);
	return v;
}

static void
test_open(void)
{
	char	 err[256];

	if (store_open(test_path, err, sizeof err) != 0)
		fail_msg("store_open: %s", err);
}

static void
test_migrations(void **state)
{
	struct store_person	 p = { "Ann", "ann@x.example", NULL, NULL, NULL,
	    NULL, 0 };
	sqlite3			*db;
	char			 err[256];
	int64_t			 id;

	(void)state;
	test_open();
	assert_true(store_schema_version() >= 1);
	assert_int_equal(test_int("PRAGMA user_version"),
	    store_schema_version());
	assert_int_equal(store_begin(), LECTERN_OK);
	assert_int_equal(store_person_add(&p, 100, &id, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(store_commit(), LECTERN_OK);
	store_close();

	/* Opening again migrates nothing and keeps the data. */
	test_open();
	assert_int_equal(test_int("PRAGMA user_version"),
	    store_schema_version());
	assert_int_equal(test_int("SELECT count(*) FROM people"), 1);
	assert_int_equal(test_int("SELECT n FROM counters WHERE name = "
	    "'people'"), 1);
	store_close();
	test_open();
	store_close();

	/* A database from a newer lecternd is refused, not damaged. */
	assert_int_equal(sqlite3_open(test_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(test_path, err, sizeof err), -1);
	assert_non_null(strstr(err, "newer"));
	assert_null(store_db);
}

/*
 * A database made by a version-1 lecternd, with queued and sent messages,
 * is carried forward: every row, state, count and body survives the
 * outbox's rebuild (step 2), and what is read for delivery is the same
 * bytes.
 */
static void
test_migrate_v1_outbox(void **state)
{
	struct store_outbox_msg	*msgs = NULL;
	sqlite3			*db;
	char			 err[256];
	size_t			 n = 0;

	(void)state;
	assert_int_equal(sqlite3_open(test_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL,
	    NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, store_migrations[0], NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "INSERT INTO outbox (recipient, kind, message_id, message,"
	    " next_attempt, created) VALUES"
	    " ('a@x.test', 'invite', 'm1@x', X'48690d0a', 10, 5),"
	    " ('b@x.test', 'reminder', 'm2@x', 'Body two', 10, 5);"
	    "UPDATE outbox SET state = 'sent', sent_at = 11 WHERE id = 2;"
	    "PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	test_open();
	assert_int_equal(test_int("PRAGMA user_version"),
	    store_schema_version());
	assert_int_equal(test_int("SELECT count(*) FROM outbox"), 2);
	assert_int_equal(test_int("SELECT count(*) FROM outbox_bodies"), 2);
	assert_int_equal(test_int("SELECT count(*) FROM pragma_table_info("
	    "'outbox') WHERE name = 'message'"), 0);
	assert_int_equal(test_int("SELECT n FROM counters WHERE name = "
	    "'outbox.queued'"), 1);
	assert_int_equal(test_int("SELECT n FROM counters WHERE name = "
	    "'outbox.sent'"), 1);
	/* The triggers came back with the table. */
	assert_int_equal(store_begin(), LECTERN_OK);
	assert_int_equal(store_outbox_sent(1, 12, "250 ok", err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(store_commit(), LECTERN_OK);
	assert_int_equal(test_int("SELECT n FROM counters WHERE name = "
	    "'outbox.sent'"), 2);
	assert_int_equal(test_int("SELECT n FROM counters WHERE name = "
	    "'outbox.queued'"), 0);
	assert_int_equal(test_int("SELECT length(message) FROM outbox_bodies"
	    " WHERE id = 2"), 8);
	/* The new kinds are allowed, and a queued body reads back whole. */
	assert_int_equal(store_exec("INSERT INTO outbox (recipient, kind,"
	    " message_id, next_attempt, created) VALUES ('c@x.test', 'notice',"
	    " 'm3@x', 10, 5); INSERT INTO outbox_bodies VALUES"
	    " (last_insert_rowid(), X'0d0a2e0d0a')", err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(store_outbox_due(20, 10, NULL, 0, &msgs, &n, err,
	    sizeof err), LECTERN_OK);
	assert_int_equal(n, 1);
	assert_string_equal(msgs[0].recipient, "c@x.test");
	assert_int_equal(msgs[0].len, 5);
	assert_memory_equal(msgs[0].message, "\r\n.\r\n", 5);
	store_outbox_msgs_free(msgs, n);
}

/*
 * Checkpoints run on their own thread, yet the WAL does not grow without
 * end under a steady stream of small commits (a large send): it starts
 * again once the checkpointer has caught up.
 */
static void
test_wal_bounded(void **state)
{
	struct stat	 sb;
	char		 wal[160], err[256];
	off_t		 most = 0;
	int		 i;

	(void)state;
	test_open();
	assert_true(store_ckpt_running);
	snprintf(wal, sizeof wal, "%s-wal", test_path);
	assert_int_equal(store_exec("CREATE TABLE t (v BLOB)", err,
	    sizeof err), LECTERN_OK);
	for (i = 0; i < 30000; i++) {
		assert_int_equal(store_begin_light(), LECTERN_OK);
		assert_int_equal(store_exec("INSERT INTO t VALUES"
		    " (randomblob(3000))", err, sizeof err), LECTERN_OK);
		assert_int_equal(store_commit(), LECTERN_OK);
		if (i % 1000 == 999 && stat(wal, &sb) == 0 &&
		    sb.st_size > most)
			most = sb.st_size;
	}
	/*
	 * 30,000 commits of about one page each (120 MB in all): the WAL
	 * stays within a few restart lengths (STORE_CKPT_RESTART pages).
	 */
	assert_true(most > 0);
	assert_true(most < (off_t)8 * STORE_CKPT_RESTART * 4200);
}

static void
test_pragmas(void **state)
{
	sqlite3_stmt	*st;

	(void)state;
	test_open();
	assert_int_equal(sqlite3_prepare_v2(store_db, "PRAGMA journal_mode",
	    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(test_int("PRAGMA synchronous"), 2);	/* FULL */
	/*
	 * A light transaction commits without a sync; every other write
	 * transaction begins with FULL again. (Between them the setting
	 * stays, so that a run of light ones pays for it once.)
	 */
	assert_int_equal(store_begin_light(), LECTERN_OK);
	assert_int_equal(test_int("PRAGMA synchronous"), 1);	/* NORMAL */
	assert_int_equal(store_commit(), LECTERN_OK);
	assert_int_equal(store_begin_light(), LECTERN_OK);
	assert_int_equal(test_int("PRAGMA synchronous"), 1);
	store_rollback();
	assert_int_equal(store_begin(), LECTERN_OK);
	assert_int_equal(test_int("PRAGMA synchronous"), 2);	/* FULL */
	assert_int_equal(store_commit(), LECTERN_OK);
	assert_int_equal(store_begin_light(), LECTERN_OK);
	store_rollback();
	assert_int_equal(store_begin(), LECTERN_OK);
	assert_int_equal(test_int("PRAGMA synchronous"), 2);
	store_rollback();
	assert_int_equal(test_int("PRAGMA foreign_keys"), 1);
	assert_int_equal(test_int("PRAGMA busy_timeout"), 100);
	assert_int_equal(test_int("PRAGMA cache_size"), -2000);
	store_close();

	/* ":memory:" works too (no WAL there). */
	{
		char err[256];

		assert_int_equal(store_open(":memory:", err, sizeof err), 0);
		assert_int_equal(test_int("PRAGMA user_version"),
		    store_schema_version());
		assert_int_equal(test_int("PRAGMA foreign_keys"), 1);
	}
}

static double
test_elapsed(const struct timespec *t0)
{
	struct timespec	 t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
test_busy(void **state)
{
	struct commands_peer	 peer = { 0, 0, 1, 1 };
	struct config		 cfg;
	struct timespec		 t0;
	sqlite3			*other;
	json_t			*r;
	size_t			 len;
	char			*out, zone[] = "UTC", domain[] = "x.example";
	const char		*add = "{\"id\":1,\"cmd\":\"person.add\","
	    "\"args\":{\"name\":\"A\",\"email\":\"a@x.example\"}}";
	const char		*list = "{\"id\":2,\"cmd\":\"person.list\"}";

	(void)state;
	memset(&cfg, 0, sizeof cfg);
	cfg.timezone = zone;
	cfg.domain = domain;
	test_open();
	commands_start(&cfg);

	/* Another process holds the write lock. */
	assert_int_equal(sqlite3_open(test_path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_begin(), LECTERN_E_BUSY);
	assert_true(test_elapsed(&t0) < 1.0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	out = commands_execute(add, strlen(add), &peer, &len);
	assert_true(test_elapsed(&t0) < 1.0);
	r = json_loads(out, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r,
	    "error"), "code")), "busy");
	json_decref(r);
	free(out);

	/* Readers are not blocked by a writer in WAL mode. */
	out = commands_execute(list, strlen(list), &peer, &len);
	r = json_loads(out, 0, NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	free(out);

	/* Once the lock is gone the same command succeeds. */
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
	out = commands_execute(add, strlen(add), &peer, &len);
	r = json_loads(out, 0, NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	free(out);
	assert_int_equal(test_int("SELECT count(*) FROM people"), 1);
	commands_stop();
}

static void
test_counts_outbox(void **state)
{
	struct store_counts	 c;
	struct store_person	 p = { "Ann", "ann@x.example", NULL, NULL, NULL,
	    NULL, 0 };
	json_t			*a, *o;
	char			 err[256];
	int64_t			 id;

	(void)state;
	test_open();
	assert_int_equal(store_person_add(&p, 100, &id, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(store_group_add("G", 100, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(store_exec("INSERT INTO outbox (recipient, kind, "
	    "message_id, next_attempt, created) VALUES "
	    "('a@x', 'invite', '<1@x>', 10, 5),"
	    "('b@x', 'invite', '<2@x>', 10, 6),"
	    "('c@x', 'update', '<3@x>', 10, 7);"
	    "INSERT INTO outbox_bodies SELECT id, x'00' FROM outbox;"
	    "UPDATE outbox SET state = 'sent', sent_at = 20 WHERE id = 1;"
	    "UPDATE outbox SET state = 'failed', last_reply = '550 no' "
	    "WHERE id = 3;", err, sizeof err), LECTERN_OK);
	assert_int_equal(store_counts(&c, err, sizeof err), LECTERN_OK);
	assert_int_equal(c.people, 1);
	assert_int_equal(c.groups, 1);
	assert_int_equal(c.sessions, 0);
	assert_int_equal(c.queued, 1);
	assert_int_equal(c.sent, 1);
	assert_int_equal(c.failed, 1);
	assert_int_equal(c.expired, 0);
	assert_int_equal(store_person_remove(id, err, sizeof err), LECTERN_OK);
	assert_int_equal(store_counts(&c, err, sizeof err), LECTERN_OK);
	assert_int_equal(c.people, 0);
	assert_int_equal(store_person_remove(id, err, sizeof err),
	    LECTERN_E_NOT_FOUND);

	assert_int_equal(store_outbox_list(NULL, 0, 100, &a, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(json_array_size(a), 3);
	o = json_array_get(a, 0);	/* newest first */
	assert_int_equal(json_integer_value(json_object_get(o, "id")), 3);
	assert_string_equal(json_string_value(json_object_get(o, "to")), "c@x");
	assert_string_equal(json_string_value(json_object_get(o, "state")),
	    "failed");
	assert_string_equal(json_string_value(json_object_get(o,
	    "last_reply")), "550 no");
	assert_true(json_is_null(json_object_get(o, "session")));
	assert_true(json_is_null(json_object_get(o, "sent_at")));
	json_decref(a);
	assert_int_equal(store_outbox_list("sent", 0, 100, &a, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a,
	    0), "sent_at")), "1970-01-01T00:00:20Z");
	json_decref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrations, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1_outbox,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_wal_bounded, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_pragmas, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_busy, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_counts_outbox, test_setup,
		    test_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
