/*
 * test_commands.c -- every command end to end through commands_execute on a
 * ":memory:" store. The store and the command module are #included so that
 * the test can reach the command table and the database handle.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../daemon/store.c"
#include "../../daemon/commands.c"
#include "mail.h"

/* The target is well under 1 s; sanitizers make everything ~10x slower. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_IMPORT_SECONDS	10.0
#else
#define TEST_IMPORT_SECONDS	1.0
#endif

/* The server module is not linked: status asks it for its client count. */
size_t
server_clients(void)
{
	return 3;
}

static struct config	test_cfg;
static char		test_tz[] = "Europe/Moscow";
static char		test_lang[] = "en";
static char		test_domain[] = "lectern.example";
static char		test_from_name[] = "Methodology Service";
static char		test_from_addr[] = "methodology@lectern.example";

static int
test_setup(void **state)
{
	char	 err[256];

	(void)state;
	memset(&test_cfg, 0, sizeof test_cfg);
	test_cfg.timezone = test_tz;
	test_cfg.lang = test_lang;
	test_cfg.domain = test_domain;
	test_cfg.reminders[0] = 86400;
	test_cfg.reminders[1] = 3600;
	test_cfg.nreminders = 2;
	test_cfg.mail_from_name = test_from_name;
	test_cfg.mail_from_addr = test_from_addr;
	/* Enrolments queue real messages, rendered from the real templates. */
	if (mail_start("config/templates", "en", err, sizeof err) != 0) {
		fprintf(stderr, "mail_start: %s\n", err);
		return -1;
	}
	if (store_open(":memory:", err, sizeof err) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	return commands_start(&test_cfg);
}

static int
test_teardown(void **state)
{
	(void)state;
	commands_stop();
	store_close();
	mail_stop();
	return 0;
}

/* Send one raw line; return the parsed reply. */
static json_t *
test_raw(const char *line, int can_write)
{
	struct commands_peer	 peer = { 1000, 1000, 4242, can_write };
	json_error_t		 jerr;
	json_t			*reply;
	size_t			 len;
	char			*out;

	out = commands_execute(line, strlen(line), &peer, &len);
	assert_non_null(out);
	assert_true(len > 0);
	assert_int_equal(out[len - 1], '\n');
	assert_int_equal(strlen(out), len);
	reply = json_loadb(out, len, 0, &jerr);
	if (reply == NULL)
		fail_msg("reply is not JSON: %s", out);
	free(out);
	return reply;
}

/* Run cmd with args (a JSON text, or NULL); return the parsed reply. */
static json_t *
test_call(int can_write, const char *cmd, const char *args)
{
	char	*line;
	json_t	*reply;
	size_t	 n;

	n = strlen(cmd) + (args ? strlen(args) : 0) + 64;
	line = malloc(n);
	assert_non_null(line);
	if (args != NULL)
		snprintf(line, n, "{\"id\":7,\"cmd\":\"%s\",\"args\":%s}", cmd,
		    args);
	else
		snprintf(line, n, "{\"id\":7,\"cmd\":\"%s\"}", cmd);
	reply = test_raw(line, can_write);
	free(line);
	return reply;
}

/* The result of a call that must succeed (borrowed from *reply). */
static json_t *
test_ok(json_t *reply)
{
	if (!json_is_true(json_object_get(reply, "ok"))) {
		char *s = json_dumps(reply, 0);
		fail_msg("expected ok, got %s", s);
	}
	assert_int_equal(json_integer_value(json_object_get(reply, "id")), 7);
	return json_object_get(reply, "result");
}

/* Assert an error reply with code and (if not NULL) field. */
static void
test_err(json_t *reply, const char *code, const char *field)
{
	json_t	*e;
	char	*s;

	s = json_dumps(reply, 0);
	if (json_is_true(json_object_get(reply, "ok")))
		fail_msg("expected %s, got %s", code, s);
	e = json_object_get(reply, "error");
	if (strcmp(json_string_value(json_object_get(e, "code")), code) != 0)
		fail_msg("expected %s, got %s", code, s);
	assert_true(json_string_length(json_object_get(e, "message")) > 0);
	if (field != NULL) {
		const char *f = json_string_value(json_object_get(e, "field"));
		if (f == NULL || strcmp(f, field) != 0)
			fail_msg("expected field %s, got %s", field, s);
	}
	free(s);
}

/* ok and return an integer member of the result; frees the reply. */
static json_int_t
test_ok_int(json_t *reply, const char *key)
{
	json_int_t	 v;

	v = json_integer_value(json_object_get(test_ok(reply), key));
	json_decref(reply);
	return v;
}

static void
test_expect(int can_write, const char *cmd, const char *args,
    const char *code, const char *field)
{
	json_t	*r = test_call(can_write, cmd, args);

	test_err(r, code, field);
	json_decref(r);
}

static int64_t
test_count(const char *sql)
{
	int64_t	 n = -1;

	assert_int_equal(store_query_int(sql, &n), 0);
	return n;
}

static int64_t
test_person(const char *name, const char *email)
{
	char	 args[512];

	snprintf(args, sizeof args, "{\"name\":\"%s\",\"email\":\"%s\"}", name,
	    email);
	return test_ok_int(test_call(1, "person.add", args), "id");
}

/* Add a session; extra may override kind and start. */
static int64_t
test_session(const char *extra)
{
	char	 args[1024];

	snprintf(args, sizeof args, "{%s\"title\":\"T\",%s"
	    "\"duration\":90%s%s}",
	    extra && strstr(extra, "\"kind\"") ? "" : "\"kind\":\"webinar\",",
	    extra && strstr(extra, "\"start\"") ? "" :
	    "\"start\":\"2026-12-01T15:00\",",
	    extra ? "," : "", extra ? extra : "");
	return test_ok_int(test_call(1, "session.add", args), "id");
}

static void
test_status(void **state)
{
	json_t	*r, *res;

	(void)state;
	test_person("A", "a@x.example");
	r = test_call(0, "status", NULL);
	res = test_ok(r);
	assert_string_equal(json_string_value(json_object_get(res, "version")),
	    LECTERN_VERSION);
	assert_int_equal(json_integer_value(json_object_get(res, "protocol")),
	    LECTERN_PROTOCOL);
	assert_int_equal(json_integer_value(json_object_get(res, "people")), 1);
	assert_int_equal(json_integer_value(json_object_get(res, "sessions")),
	    0);
	assert_int_equal(json_integer_value(json_object_get(res, "clients")),
	    3);
	assert_true(json_is_null(json_object_get(res, "next_due")));
	assert_true(json_integer_value(json_object_get(res, "uptime_s")) >= 0);
	assert_string_equal(json_string_value(json_object_get(res,
	    "timezone")), "Europe/Moscow");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(res,
	    "outbox"), "queued")), 0);
	json_decref(r);
	test_expect(0, "status", "{\"x\":1}", "invalid_argument", "x");
}

static void
test_envelope(void **state)
{
	json_t	*r;

	(void)state;
	test_expect(0, "nosuch.command", NULL, "unknown_command", NULL);
	r = test_raw("{not json", 1);
	test_err(r, "bad_request", NULL);
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	r = test_raw("{\"cmd\":\"status\"}", 1);
	test_err(r, "bad_request", NULL);
	json_decref(r);
	r = test_raw("[1,2]", 1);
	test_err(r, "bad_request", NULL);
	json_decref(r);
	r = test_raw("{\"id\":\"abc\",\"cmd\":\"status\",\"args\":[]}", 1);
	test_err(r, "bad_request", NULL);
	assert_string_equal(json_string_value(json_object_get(r, "id")), "abc");
	json_decref(r);
	/* A refused line never writes anything. */
	assert_int_equal(test_count("SELECT count(*) FROM audit"), 0);
}

static void
test_person_commands(void **state)
{
	json_t		*r, *res;
	int64_t		 id;

	(void)state;
	r = test_call(1, "person.add", "{\"name\":\"Иван Петров\","
	    "\"email\":\"Ivan.Petrov@school5.example\",\"organization\":"
	    "\"School No. 5\",\"lang\":\"ru\",\"tags\":[\"math\",\"young\"]}");
	res = test_ok(r);
	id = json_integer_value(json_object_get(res, "id"));
	assert_true(id > 0);
	assert_string_equal(json_string_value(json_object_get(res, "name")),
	    "Иван Петров");
	assert_true(json_is_null(json_object_get(res, "position")));
	assert_int_equal(json_array_size(json_object_get(res, "tags")), 2);
	assert_non_null(strstr(json_string_value(json_object_get(res,
	    "created")), "Z"));
	json_decref(r);

	/* Errors: duplicate (any case), invalid, missing, wrong type, unknown. */
	test_expect(1, "person.add", "{\"name\":\"X\",\"email\":"
	    "\"ivan.PETROV@school5.example\"}", "conflict", "email");
	test_expect(1, "person.add", "{\"name\":\"X\",\"email\":\"no-at\"}",
	    "invalid_argument", "email");
	test_expect(1, "person.add", "{\"email\":\"x@y.example\"}",
	    "invalid_argument", "name");
	test_expect(1, "person.add", "{\"name\":5,\"email\":\"x@y.example\"}",
	    "invalid_argument", "name");
	test_expect(1, "person.add", "{\"name\":\"X\",\"email\":\"x@y.example\","
	    "\"colour\":\"red\"}", "invalid_argument", "colour");
	test_expect(1, "person.add", "{\"name\":\"X\",\"email\":\"x@y.example\","
	    "\"tags\":[\"two words\"]}", "invalid_argument", "tags");
	test_expect(1, "person.add", "{\"name\":\"X\\u0007\",\"email\":"
	    "\"x@y.example\"}", "invalid_argument", "name");
	test_expect(1, "person.add", "{\"name\":\"X\",\"email\":\"x@y.example\","
	    "\"lang\":\"Russian\"}", "invalid_argument", "lang");
	assert_int_equal(test_count("SELECT count(*) FROM people"), 1);

	/* get by email, any case; with groups and enrollments */
	r = test_call(0, "person.get", "{\"email\":\"IVAN.petrov@school5.example\"}");
	res = test_ok(r);
	assert_int_equal(json_integer_value(json_object_get(res, "id")), id);
	assert_true(json_is_array(json_object_get(res, "groups")));
	assert_true(json_is_array(json_object_get(res, "enrollments")));
	json_decref(r);
	test_expect(0, "person.get", "{\"id\":999}", "not_found", "id");
	test_expect(0, "person.get", "{\"email\":\"nobody@x.example\"}",
	    "not_found", "email");
	test_expect(0, "person.get", "{}", "invalid_argument", "id");

	/* update: by id, a new email; null clears; by email */
	r = test_call(1, "person.update", "{\"id\":1,\"email\":"
	    "\"ivan@school5.example\",\"organization\":null,\"position\":"
	    "\"teacher\"}");
	res = test_ok(r);
	assert_string_equal(json_string_value(json_object_get(res, "email")),
	    "ivan@school5.example");
	assert_true(json_is_null(json_object_get(res, "organization")));
	assert_string_equal(json_string_value(json_object_get(res, "position")),
	    "teacher");
	json_decref(r);
	r = test_call(1, "person.update", "{\"email\":\"ivan@school5.example\","
	    "\"name\":\"Ivan\"}");
	res = test_ok(r);
	assert_string_equal(json_string_value(json_object_get(res, "name")),
	    "Ivan");
	json_decref(r);
	test_person("Other", "other@x.example");
	test_expect(1, "person.update", "{\"id\":1,\"email\":"
	    "\"OTHER@x.example\"}", "conflict", "email");
	test_expect(1, "person.update", "{\"id\":1,\"name\":null}",
	    "invalid_argument", "name");
	test_expect(1, "person.update", "{\"id\":77,\"name\":\"Z\"}",
	    "not_found", "id");

	/* list: ordered by name, filters */
	test_ok_int(test_call(1, "person.update", "{\"id\":2,\"organization\":"
	    "\"School 7\",\"tags\":[\"math\"]}"), "id");
	r = test_call(0, "person.list", NULL);
	res = test_ok(r);
	assert_int_equal(json_array_size(res), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(res, 0), "name")), "Ivan");
	json_decref(r);
	r = test_call(0, "person.list", "{\"organization\":\"SCHOOL 7\"}");
	assert_int_equal(json_array_size(test_ok(r)), 1);
	json_decref(r);
	r = test_call(0, "person.list", "{\"tag\":\"math\"}");
	assert_int_equal(json_array_size(test_ok(r)), 2);
	json_decref(r);
	r = test_call(0, "person.list", "{\"tag\":\"young\"}");
	assert_int_equal(json_array_size(test_ok(r)), 1);
	json_decref(r);
	r = test_call(0, "person.list", "{\"limit\":1}");
	assert_int_equal(json_array_size(test_ok(r)), 1);
	json_decref(r);
	test_expect(0, "person.list", "{\"limit\":0}", "invalid_argument",
	    "limit");
	test_expect(0, "person.list", "{\"group\":\"none\"}", "not_found",
	    "group");

	/* remove */
	r = test_call(1, "person.remove", "{\"email\":\"other@x.example\"}");
	assert_int_equal(json_object_size(test_ok(r)), 0);
	json_decref(r);
	test_expect(1, "person.remove", "{\"id\":2}", "not_found", "id");
	assert_int_equal(test_count("SELECT count(*) FROM people"), 1);
	r = test_call(0, "status", NULL);
	assert_int_equal(json_integer_value(json_object_get(test_ok(r),
	    "people")), 1);
	json_decref(r);
}

static void
test_groups(void **state)
{
	json_t	*r, *res;

	(void)state;
	test_person("B", "b@x.example");
	test_person("A", "a@x.example");
	r = test_call(1, "group.add", "{\"name\":\"Primary\"}");
	res = test_ok(r);
	assert_string_equal(json_string_value(json_object_get(res, "name")),
	    "Primary");
	assert_int_equal(json_integer_value(json_object_get(res, "members")),
	    0);
	json_decref(r);
	test_expect(1, "group.add", "{\"name\":\"PRIMARY\"}", "conflict",
	    "name");
	test_expect(1, "group.add", "{}", "invalid_argument", "name");
	test_expect(1, "group.add", "{\"name\":\"\"}", "invalid_argument",
	    "name");

	r = test_call(1, "group.members.add", "{\"group\":\"primary\","
	    "\"people\":[1,\"A@x.example\",1]}");
	res = test_ok(r);
	assert_string_equal(json_string_value(json_object_get(res, "group")),
	    "Primary");
	assert_int_equal(json_integer_value(json_object_get(res, "members")),
	    2);
	json_decref(r);
	test_expect(1, "group.members.add", "{\"group\":\"Primary\","
	    "\"people\":[1,\"nobody@x.example\"]}", "not_found", "people");
	test_expect(1, "group.members.add", "{\"group\":\"Nope\","
	    "\"people\":[1]}", "not_found", "group");
	test_expect(1, "group.members.add", "{\"group\":\"Primary\","
	    "\"people\":[true]}", "invalid_argument", "people");

	r = test_call(0, "group.get", "{\"name\":\"Primary\"}");
	res = test_ok(r);
	assert_int_equal(json_array_size(json_object_get(res, "people")), 2);
	/* ordered by name */
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(res, "people"), 0), "name")), "A");
	json_decref(r);
	r = test_call(0, "person.list", "{\"group\":\"Primary\"}");
	assert_int_equal(json_array_size(test_ok(r)), 2);
	json_decref(r);
	r = test_call(0, "person.get", "{\"id\":1}");
	assert_int_equal(json_array_size(json_object_get(test_ok(r), "groups")),
	    1);
	json_decref(r);

	r = test_call(1, "group.members.remove", "{\"group\":\"Primary\","
	    "\"people\":[1,1]}");
	assert_int_equal(json_integer_value(json_object_get(test_ok(r),
	    "members")), 1);
	json_decref(r);

	test_ok_int(test_call(1, "group.add", "{\"name\":\"Alpha\"}"),
	    "members");
	r = test_call(0, "group.list", NULL);
	res = test_ok(r);
	assert_int_equal(json_array_size(res), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(res, 0), "name")), "Alpha");
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(res, 1), "members")), 1);
	json_decref(r);

	r = test_call(1, "group.remove", "{\"name\":\"primary\"}");
	test_ok(r);
	json_decref(r);
	test_expect(1, "group.remove", "{\"name\":\"primary\"}", "not_found",
	    "name");
	test_expect(0, "group.get", "{\"name\":\"primary\"}", "not_found",
	    "name");
	assert_int_equal(test_count("SELECT count(*) FROM people"), 2);
	assert_int_equal(test_count("SELECT count(*) FROM group_members"), 0);
}

static void
test_session_add(void **state)
{
	json_t		*r, *res;
	regex_t		 re;

	(void)state;
	r = test_call(1, "session.add", "{\"kind\":\"webinar\",\"title\":"
	    "\"Formative assessment\",\"start\":\"2026-12-01T15:00\","
	    "\"duration\":90,\"url\":\"https://meet.example/abc\","
	    "\"description\":\"line one\\r\\nline two\"}");
	res = test_ok(r);
	assert_int_equal(json_integer_value(json_object_get(res, "id")), 1);
	assert_int_equal(json_integer_value(json_object_get(res, "sequence")),
	    0);
	assert_string_equal(json_string_value(json_object_get(res, "start")),
	    "2026-12-01T12:00:00Z");
	assert_string_equal(json_string_value(json_object_get(res, "end")),
	    "2026-12-01T13:30:00Z");
	assert_string_equal(json_string_value(json_object_get(res,
	    "local_start")), "2026-12-01T15:00:00");
	assert_string_equal(json_string_value(json_object_get(res, "tz")),
	    "Europe/Moscow");
	assert_string_equal(json_string_value(json_object_get(res,
	    "description")), "line one\nline two");
	assert_string_equal(json_string_value(json_object_get(res, "status")),
	    "scheduled");
	/* default reminders: 1 day, 1 hour in minutes */
	assert_int_equal(json_array_size(json_object_get(res, "reminders")), 2);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(res,
	    "reminders"), 0)), 1440);
	assert_int_equal(regcomp(&re, "^[0-9a-f]{16}-1@lectern\\.example$",
	    REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, json_string_value(json_object_get(res,
	    "uid")), 0, NULL, 0), 0);
	regfree(&re);
	json_decref(r);

	/* A second session gets a different random part. */
	r = test_call(1, "session.add", "{\"kind\":\"seminar\",\"title\":\"S\","
	    "\"start\":\"2026-12-01T12:00Z\",\"duration\":60,\"tz\":"
	    "\"America/New_York\",\"reminders\":[60],\"capacity\":10,"
	    "\"rrule\":\"FREQ=MONTHLY;INTERVAL=3;COUNT=4\"}");
	res = test_ok(r);
	assert_string_equal(json_string_value(json_object_get(res,
	    "local_start")), "2026-12-01T07:00:00");
	assert_int_equal(json_integer_value(json_object_get(res, "capacity")),
	    10);
	assert_string_equal(json_string_value(json_object_get(res, "rrule")),
	    "FREQ=MONTHLY;INTERVAL=3;COUNT=4");
	assert_non_null(strstr(json_string_value(json_object_get(res, "uid")),
	    "-2@lectern.example"));
	json_decref(r);

	/* The DST gap is refused with the sentence naming the zone. */
	r = test_call(1, "session.add", "{\"kind\":\"webinar\",\"title\":\"T\","
	    "\"start\":\"2026-03-29T02:30\",\"tz\":\"Europe/Berlin\","
	    "\"duration\":60}");
	test_err(r, "invalid_argument", "start");
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(r, "error"), "message")), "does not exist"));
	json_decref(r);

#define BASE "\"kind\":\"webinar\",\"title\":\"T\",\"start\":" \
    "\"2026-12-01T15:00\",\"duration\":60"
	test_expect(1, "session.add", "{" BASE ",\"duration\":0}",
	    "bad_request", NULL);	/* duplicate key */
	test_expect(1, "session.add", "{\"kind\":\"webinar\",\"title\":\"T\","
	    "\"start\":\"2026-12-01T15:00\",\"duration\":0}",
	    "invalid_argument", "duration");
	test_expect(1, "session.add", "{\"kind\":\"webinar\",\"title\":\"T\","
	    "\"start\":\"2026-12-01T15:00\",\"duration\":43201}",
	    "invalid_argument", "duration");
	test_expect(1, "session.add", "{\"kind\":\"webinar\",\"title\":\"T\","
	    "\"start\":\"2026-12-01T15:00\",\"duration\":\"90\"}",
	    "invalid_argument", "duration");
	test_expect(1, "session.add", "{\"kind\":\"party\",\"title\":\"T\","
	    "\"start\":\"2026-12-01T15:00\",\"duration\":60}",
	    "invalid_argument", "kind");
	test_expect(1, "session.add", "{\"title\":\"T\",\"start\":"
	    "\"2026-12-01T15:00\",\"duration\":60}", "invalid_argument",
	    "kind");
	test_expect(1, "session.add", "{" BASE ",\"tz\":\"Mars/Olympus\"}",
	    "invalid_argument", "tz");
	test_expect(1, "session.add", "{" BASE ",\"url\":\"ftp://x.example\"}",
	    "invalid_argument", "url");
	test_expect(1, "session.add", "{" BASE ",\"capacity\":-1}",
	    "invalid_argument", "capacity");
	test_expect(1, "session.add", "{" BASE ",\"reminders\":[0]}",
	    "invalid_argument", "reminders");
	test_expect(1, "session.add", "{" BASE ",\"reminders\":[525601]}",
	    "invalid_argument", "reminders");
	test_expect(1, "session.add", "{" BASE ",\"reminders\":[1,2,3,4,5,6,7,"
	    "8,9,10,11,12,13,14,15,16,17]}", "invalid_argument", "reminders");
	test_expect(1, "session.add", "{" BASE ",\"rrule\":\"EVERY TUESDAY\"}",
	    "invalid_argument", "rrule");
	test_expect(1, "session.add", "{" BASE ",\"rrule\":\"FREQ=SOMETIMES\"}",
	    "invalid_argument", "rrule");
	/* libical would skip the junk; the daemon must not store it. */
	test_expect(1, "session.add", "{" BASE ",\"rrule\":"
	    "\"FREQ=WEEKLY;COUNT=3=?UTF-8?Q?=0D=0ABcc:_evil@x.example?=\"}",
	    "invalid_argument", "rrule");
	test_expect(1, "session.add", "{" BASE ",\"rrule\":"
	    "\"FREQ=WEEKLY;FREQ=DAILY\"}", "invalid_argument", "rrule");
	test_expect(1, "session.add", "{" BASE ",\"rrule\":"
	    "\"FREQ=WEEKLY;X-NAME=1\"}", "invalid_argument", "rrule");
	test_expect(1, "session.add", "{" BASE ",\"rrule\":"
	    "\"FREQ=WEEKLY;COUNT=\"}", "invalid_argument", "rrule");
	{
		json_t	*ok = test_call(1, "session.add", "{" BASE ",\"rrule\":"
		    "\"FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20270601T000000Z\"}");

		test_ok(ok);
		json_decref(ok);
	}
	test_expect(1, "session.add", "{" BASE ",\"start\":\"tomorrow\"}",
	    "bad_request", NULL);
	test_expect(1, "session.add", "{\"kind\":\"webinar\",\"title\":\"T\","
	    "\"start\":\"tomorrow\",\"duration\":60}", "invalid_argument",
	    "start");
	test_expect(1, "session.add", "{" BASE ",\"course\":5}", "not_found",
	    "course");
	test_expect(1, "session.add", "{" BASE ",\"location\":\"a\\nb\"}",
	    "invalid_argument", "location");
#undef BASE
	assert_int_equal(test_count("SELECT count(*) FROM sessions"), 3);

	r = test_call(0, "session.get", "{\"id\":1}");
	res = test_ok(r);
	assert_int_equal(json_array_size(json_object_get(res, "enrollments")),
	    0);
	json_decref(r);
	test_expect(0, "session.get", "{\"id\":99}", "not_found", "id");
	test_expect(0, "session.get", "{}", "invalid_argument", "id");
	test_expect(0, "session.get", "{\"id\":\"1\"}", "invalid_argument",
	    "id");
}

static json_int_t
test_sequence(int64_t id)
{
	char	 args[64];

	snprintf(args, sizeof args, "{\"id\":%lld}", (long long)id);
	return test_ok_int(test_call(0, "session.get", args), "sequence");
}

static void
test_session_update(void **state)
{
	json_t	*r, *res;
	int64_t	 id;

	(void)state;
	id = test_session(NULL);
	assert_int_equal(test_sequence(id), 0);

	/* Changes teachers must see bump the sequence by one. */
	r = test_call(1, "session.update", "{\"id\":1,\"title\":\"New\"}");
	assert_int_equal(json_integer_value(json_object_get(test_ok(r),
	    "sequence")), 1);
	json_decref(r);
	/* Capacity and reminders do not; an update that changes nothing neither. */
	r = test_call(1, "session.update", "{\"id\":1,\"capacity\":5,"
	    "\"reminders\":[30]}");
	res = test_ok(r);
	assert_int_equal(json_integer_value(json_object_get(res, "sequence")),
	    1);
	assert_int_equal(json_integer_value(json_object_get(res, "capacity")),
	    5);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(res,
	    "reminders"), 0)), 30);
	json_decref(r);
	r = test_call(1, "session.update", "{\"id\":1,\"title\":\"New\","
	    "\"start\":\"2026-12-01T15:00\"}");
	assert_int_equal(json_integer_value(json_object_get(test_ok(r),
	    "sequence")), 1);
	json_decref(r);
	r = test_call(1, "session.update", "{\"id\":1}");
	assert_int_equal(json_integer_value(json_object_get(test_ok(r),
	    "sequence")), 1);
	json_decref(r);

	/* start without tz: read in the session's zone */
	r = test_call(1, "session.update", "{\"id\":1,\"start\":"
	    "\"2026-12-02T10:00\"}");
	res = test_ok(r);
	assert_int_equal(json_integer_value(json_object_get(res, "sequence")),
	    2);
	assert_string_equal(json_string_value(json_object_get(res, "start")),
	    "2026-12-02T07:00:00Z");
	json_decref(r);
	/* tz without start: same wall time in the new zone */
	r = test_call(1, "session.update", "{\"id\":1,\"tz\":\"Europe/Berlin\"}");
	res = test_ok(r);
	assert_int_equal(json_integer_value(json_object_get(res, "sequence")),
	    3);
	assert_string_equal(json_string_value(json_object_get(res,
	    "local_start")), "2026-12-02T10:00:00");
	assert_string_equal(json_string_value(json_object_get(res, "start")),
	    "2026-12-02T09:00:00Z");
	json_decref(r);
	/* null clears an optional field (a visible change) */
	r = test_call(1, "session.update", "{\"id\":1,\"location\":\"Room 5\"}");
	assert_int_equal(json_integer_value(json_object_get(test_ok(r),
	    "sequence")), 4);
	json_decref(r);
	r = test_call(1, "session.update", "{\"id\":1,\"location\":null}");
	res = test_ok(r);
	assert_true(json_is_null(json_object_get(res, "location")));
	assert_int_equal(json_integer_value(json_object_get(res, "sequence")),
	    5);
	json_decref(r);

	test_expect(1, "session.update", "{\"id\":1,\"title\":null}",
	    "invalid_argument", "title");
	test_expect(1, "session.update", "{\"id\":1,\"start\":"
	    "\"2026-03-29T02:30\"}", "invalid_argument", "start");
	test_expect(1, "session.update", "{\"id\":1,\"duration\":-5}",
	    "invalid_argument", "duration");
	test_expect(1, "session.update", "{\"id\":1,\"sequence\":9}",
	    "invalid_argument", "sequence");
	test_expect(1, "session.update", "{\"id\":9,\"title\":\"X\"}",
	    "not_found", "id");
	test_expect(1, "session.update", "{\"title\":\"X\"}",
	    "invalid_argument", "id");
	assert_int_equal(test_sequence(id), 5);

	/* cancel */
	r = test_call(1, "session.cancel", "{\"id\":1,\"reason\":\"ill\"}");
	res = test_ok(r);
	assert_string_equal(json_string_value(json_object_get(res, "status")),
	    "cancelled");
	assert_string_equal(json_string_value(json_object_get(res,
	    "cancel_reason")), "ill");
	assert_int_equal(json_integer_value(json_object_get(res, "sequence")),
	    6);
	json_decref(r);
	test_expect(1, "session.cancel", "{\"id\":1}", "conflict", "id");
	test_expect(1, "session.update", "{\"id\":1,\"title\":\"Z\"}",
	    "conflict", "id");
	test_person("A", "a@x.example");
	test_expect(1, "enroll", "{\"session\":1,\"people\":[1]}", "conflict",
	    "session");
	test_expect(1, "session.cancel", "{\"id\":2}", "not_found", "id");
	assert_int_equal(test_sequence(id), 6);
}

static void
test_session_list(void **state)
{
	json_t	*r, *res;

	(void)state;
	test_session("\"start\":\"2026-12-03T10:00\"");	/* 1 */
	test_session("\"start\":\"2026-12-01T10:00\",\"kind\":\"seminar\"");
	test_session("\"start\":\"2026-12-02T10:00\"");	/* 3 */
	test_ok_int(test_call(1, "session.cancel", "{\"id\":3}"), "id");
	r = test_call(0, "session.list", NULL);
	res = test_ok(r);
	assert_int_equal(json_array_size(res), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(res,
	    0), "id")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(res,
	    2), "id")), 1);
	json_decref(r);
	r = test_call(0, "session.list", "{\"from\":\"2026-12-02\","
	    "\"to\":\"2026-12-03T10:00\"}");
	res = test_ok(r);
	assert_int_equal(json_array_size(res), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(res,
	    0), "id")), 3);
	json_decref(r);
	r = test_call(0, "session.list", "{\"status\":\"scheduled\","
	    "\"kind\":\"webinar\"}");
	assert_int_equal(json_array_size(test_ok(r)), 1);
	json_decref(r);
	r = test_call(0, "session.list", "{\"limit\":2}");
	assert_int_equal(json_array_size(test_ok(r)), 2);
	json_decref(r);
	test_expect(0, "session.list", "{\"status\":\"done\"}",
	    "invalid_argument", "status");
	test_expect(0, "session.list", "{\"from\":\"soon\"}",
	    "invalid_argument", "from");
	test_expect(0, "session.list", "{\"kind\":\"party\"}",
	    "invalid_argument", "kind");
}

/* The ids in an array of person references, as "1,2,3". */
static void
test_ids(json_t *a, char *buf, size_t len)
{
	json_t	*v;
	size_t	 i, o = 0;

	buf[0] = '\0';
	json_array_foreach(a, i, v) {
		o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? "," : "",
		    (long long)json_integer_value(json_object_get(v, "id")));
		assert_true(o < len);
	}
}

static void
test_waitlist(void **state)
{
	json_t	*r, *res, *e;
	char	 buf[128], email[64];
	int	 i;

	(void)state;
	for (i = 1; i <= 6; i++) {
		snprintf(email, sizeof email, "p%d@x.example", i);
		test_person("P", email);
	}
	test_session("\"capacity\":2");
	r = test_call(1, "enroll", "{\"session\":1,\"people\":[1,2,3,"
	    "\"P4@x.example\",5,1]}");
	res = test_ok(r);
	test_ids(json_object_get(res, "enrolled"), buf, sizeof buf);
	assert_string_equal(buf, "1,2");
	test_ids(json_object_get(res, "waitlisted"), buf, sizeof buf);
	assert_string_equal(buf, "3,4,5");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(res, "waitlisted"), 2), "position")), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(res, "waitlisted"), 1), "email")), "p4@x.example");
	assert_int_equal(json_array_size(json_object_get(res, "already")), 0);
	json_decref(r);

	r = test_call(1, "enroll", "{\"session\":1,\"people\":[3,6]}");
	res = test_ok(r);
	test_ids(json_object_get(res, "already"), buf, sizeof buf);
	assert_string_equal(buf, "3");
	test_ids(json_object_get(res, "waitlisted"), buf, sizeof buf);
	assert_string_equal(buf, "6");
	json_decref(r);

	/* Removing a waiting person moves the ones behind up. */
	r = test_call(1, "unenroll", "{\"session\":1,\"people\":[4,6,\"p6@x.example\"]}");
	res = test_ok(r);
	test_ids(json_object_get(res, "removed"), buf, sizeof buf);
	assert_string_equal(buf, "4,6");
	test_ids(json_object_get(res, "not_enrolled"), buf, sizeof buf);
	assert_string_equal(buf, "6");
	assert_int_equal(json_array_size(json_object_get(res, "promoted")), 0);
	json_decref(r);

	/* A freed seat promotes the head of the waitlist, in order. */
	r = test_call(1, "unenroll", "{\"session\":1,\"people\":[1]}");
	res = test_ok(r);
	test_ids(json_object_get(res, "promoted"), buf, sizeof buf);
	assert_string_equal(buf, "3");
	json_decref(r);

	r = test_call(0, "session.get", "{\"id\":1}");
	res = test_ok(r);
	assert_int_equal(json_integer_value(json_object_get(res, "enrolled")),
	    2);
	assert_int_equal(json_integer_value(json_object_get(res, "waitlisted")),
	    1);
	e = json_object_get(res, "enrollments");
	assert_int_equal(json_array_size(e), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(e,
	    0), "person")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(e,
	    1), "person")), 3);
	assert_true(json_is_null(json_object_get(json_array_get(e, 1),
	    "position")));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(e,
	    2), "person")), 5);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(e,
	    2), "position")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(e,
	    2), "state")), "waitlisted");
	assert_string_equal(json_string_value(json_object_get(json_array_get(e,
	    0), "rsvp")), "needs_action");
	json_decref(r);

	/* person.remove of an enrolled person promotes the next one. */
	test_ok(r = test_call(1, "enroll", "{\"session\":1,\"people\":[6]}"));
	json_decref(r);
	test_ok(r = test_call(1, "person.remove", "{\"id\":2}"));
	json_decref(r);
	assert_int_equal(test_count("SELECT person_id FROM enrollments WHERE "
	    "session_id = 1 AND state = 'waitlisted' AND position = 1"), 6);
	assert_int_equal(test_count("SELECT count(*) FROM enrollments WHERE "
	    "state = 'enrolled'"), 2);

	/* More capacity promotes whoever waits. */
	r = test_call(1, "session.update", "{\"id\":1,\"capacity\":0}");
	res = test_ok(r);
	assert_int_equal(json_integer_value(json_object_get(res, "waitlisted")),
	    0);
	assert_int_equal(json_integer_value(json_object_get(res, "enrolled")),
	    3);
	json_decref(r);

	r = test_call(0, "person.get", "{\"id\":6}");
	res = test_ok(r);
	assert_int_equal(json_array_size(json_object_get(res, "enrollments")),
	    1);
	json_decref(r);

	/* Groups enroll their members; names that do not resolve fail all. */
	test_ok(r = test_call(1, "group.add", "{\"name\":\"G\"}"));
	json_decref(r);
	test_ok(r = test_call(1, "group.members.add", "{\"group\":\"G\","
	    "\"people\":[1,4]}"));
	json_decref(r);
	test_session(NULL);
	test_expect(1, "enroll", "{\"session\":2,\"people\":[1],"
	    "\"groups\":[\"G\",\"H\"]}", "not_found", "groups");
	test_expect(1, "enroll", "{\"session\":2,\"people\":[1,99]}",
	    "not_found", "people");
	test_expect(1, "enroll", "{\"session\":9,\"people\":[1]}",
	    "not_found", "session");
	test_expect(1, "enroll", "{\"people\":[1]}", "invalid_argument",
	    "session");
	test_expect(1, "enroll", "{\"session\":2,\"course\":1,\"people\":[1]}",
	    "invalid_argument", "course");
	test_expect(1, "enroll", "{\"session\":2}", "invalid_argument",
	    "people");
	test_expect(1, "enroll", "{\"session\":2,\"people\":[]}",
	    "invalid_argument", "people");
	assert_int_equal(test_count("SELECT count(*) FROM enrollments WHERE "
	    "session_id = 2"), 0);
	r = test_call(1, "enroll", "{\"session\":2,\"people\":[4],"
	    "\"groups\":[\"g\"]}");
	res = test_ok(r);
	test_ids(json_object_get(res, "enrolled"), buf, sizeof buf);
	assert_string_equal(buf, "4,1");
	json_decref(r);
	test_expect(1, "unenroll", "{\"session\":2}", "invalid_argument",
	    "people");
	test_expect(1, "unenroll", "{\"session\":5,\"people\":[1]}",
	    "not_found", "session");
}

static void
test_course(void **state)
{
	json_t	*r, *res;
	char	 buf[64];

	(void)state;
	assert_int_equal(test_ok_int(test_call(1, "course.add", "{\"title\":"
	    "\"Course\",\"first_day\":\"2031-01-01\",\"last_day\":"
	    "\"2031-12-31\",\"capacity\":2}"), "id"), 1);
	test_person("A", "a@x.example");
	test_person("B", "b@x.example");
	test_person("C", "c@x.example");
	test_session("\"course\":1");
	test_session("\"course\":1,\"capacity\":1");

	r = test_call(1, "enroll", "{\"course\":1,\"people\":[1,2,3]}");
	res = test_ok(r);
	test_ids(json_object_get(res, "enrolled"), buf, sizeof buf);
	assert_string_equal(buf, "1,2");
	test_ids(json_object_get(res, "waitlisted"), buf, sizeof buf);
	assert_string_equal(buf, "3");
	json_decref(r);
	/* The course's people are in its sessions (capacity applies). */
	assert_int_equal(test_count("SELECT count(*) FROM enrollments WHERE "
	    "session_id = 1 AND state = 'enrolled'"), 2);
	assert_int_equal(test_count("SELECT count(*) FROM enrollments WHERE "
	    "session_id = 2 AND state = 'waitlisted'"), 1);
	/* A new session of the course gets them too. */
	test_session("\"course\":1");
	assert_int_equal(test_count("SELECT count(*) FROM enrollments WHERE "
	    "session_id = 3"), 2);

	/* Leaving the course leaves its sessions; the waiting one moves in. */
	r = test_call(1, "unenroll", "{\"course\":1,\"people\":[1]}");
	res = test_ok(r);
	test_ids(json_object_get(res, "promoted"), buf, sizeof buf);
	assert_string_equal(buf, "3");
	json_decref(r);
	assert_int_equal(test_count("SELECT count(*) FROM enrollments WHERE "
	    "person_id = 1"), 0);
	assert_int_equal(test_count("SELECT count(*) FROM enrollments WHERE "
	    "session_id = 1 AND person_id = 3"), 1);
	assert_int_equal(test_count("SELECT person_id FROM enrollments WHERE "
	    "session_id = 2 AND state = 'enrolled'"), 2);

	r = test_call(0, "session.list", "{\"course\":1}");
	assert_int_equal(json_array_size(test_ok(r)), 3);
	json_decref(r);
	test_expect(1, "enroll", "{\"course\":4,\"people\":[1]}", "not_found",
	    "course");
	/* Without a kind, a course's session is a course meeting. */
	r = test_call(1, "session.add", "{\"title\":\"M\",\"course\":1,"
	    "\"start\":\"2031-02-01T15:00\",\"duration\":60}");
	assert_string_equal(json_string_value(json_object_get(test_ok(r),
	    "kind")), "course_meeting");
	json_decref(r);
	test_expect(1, "session.add", "{\"title\":\"M\",\"start\":"
	    "\"2031-02-01T15:00\",\"duration\":60}", "invalid_argument",
	    "kind");
}

static void
test_import(void **state)
{
	json_t		*r, *res, *errs;
	char		 args[2048];

	(void)state;
	test_person("Old Name", "old@x.example");
	/* All-or-nothing: line 4 starts after a quoted two-line cell. */
	snprintf(args, sizeof args, "{\"csv\":\"%s\"}",
	    "name,email,organization,tags\\n"
	    "Ann,ann@x.example,\\\"School, 5\\\",math|art\\n"
	    "Bob,bob@x.example,\\\"two\\nlines\\\",\\n"
	    "Bad,not-an-email,,\\n"
	    ",old@x.example,New Org,\\n"
	    "Dup,ANN@x.example,,\\n");
	r = test_call(1, "person.import", args);
	test_err(r, "invalid_argument", "csv");
	errs = json_object_get(json_object_get(r, "error"), "errors");
	/* A line break is not allowed in an organization: line 3. */
	assert_int_equal(json_array_size(errs), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(errs,
	    0), "line")), 3);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_array_get(errs, 0), "message")), "organization"));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(errs,
	    1), "line")), 5);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_array_get(errs, 1), "message")), "email"));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(errs,
	    2), "line")), 7);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(r, "error"), "message")), "line 3"));
	json_decref(r);
	assert_int_equal(test_count("SELECT count(*) FROM people"), 1);

	/* partial: the valid rows are written, the others listed. */
	snprintf(args, sizeof args, "{\"partial\":true,\"csv\":\"%s\"}",
	    "name,email,organization,tags\\n"
	    "Ann,ann@x.example,\\\"School, 5\\\",math|art\\n"
	    "Bob,bob@x.example,\\\"two\\nlines\\\",\\n"
	    "Bad,not-an-email,,\\n"
	    ",old@x.example,New Org,\\n"
	    "Dup,ANN@x.example,,\\n");
	r = test_call(1, "person.import", args);
	res = test_ok(r);
	assert_int_equal(json_integer_value(json_object_get(res, "added")), 1);
	assert_int_equal(json_integer_value(json_object_get(res, "updated")), 1);
	assert_int_equal(json_array_size(json_object_get(res, "errors")), 3);
	json_decref(r);
	assert_int_equal(test_count("SELECT count(*) FROM people"), 2);
	/* An empty cell keeps the old value; a filled one replaces it. */
	r = test_call(0, "person.get", "{\"email\":\"old@x.example\"}");
	res = test_ok(r);
	assert_string_equal(json_string_value(json_object_get(res, "name")),
	    "Old Name");
	assert_string_equal(json_string_value(json_object_get(res,
	    "organization")), "New Org");
	json_decref(r);
	r = test_call(0, "person.get", "{\"email\":\"ann@x.example\"}");
	res = test_ok(r);
	assert_string_equal(json_string_value(json_object_get(res,
	    "organization")), "School, 5");
	assert_int_equal(json_array_size(json_object_get(res, "tags")), 2);
	json_decref(r);

	test_expect(1, "person.import", "{\"csv\":\"colour,email\\nred,a@b.example\\n\"}",
	    "invalid_argument", "csv");
	test_expect(1, "person.import", "{\"csv\":5}", "invalid_argument",
	    "csv");
	test_expect(1, "person.import", "{\"csv\":\"name,email\\n\","
	    "\"partial\":1}", "invalid_argument", "partial");
}

static void
test_import_fast(void **state)
{
	json_t		*args, *r;
	char		*csv, *line;
	size_t		 cap = 10000 * 80, o = 0;
	struct timespec	 t0, t1;
	int		 i;
	double		 secs;
	struct commands_peer peer = { 0, 0, 1, 1 };
	size_t		 len;
	char		*out;

	(void)state;
	csv = malloc(cap);
	assert_non_null(csv);
	o += (size_t)snprintf(csv + o, cap - o, "name,email,organization\n");
	for (i = 0; i < 10000; i++)
		o += (size_t)snprintf(csv + o, cap - o,
		    "Teacher %d,t%d@school.example,School %d\n", i, i, i % 50);
	assert_true(o < cap);
	args = json_pack("{s:i,s:s,s:{s:s}}", "id", 7, "cmd", "person.import",
	    "args", "csv", csv);
	line = json_dumps(args, JSON_COMPACT);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	out = commands_execute(line, strlen(line), &peer, &len);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r = json_loads(out, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(test_ok(r),
	    "added")), 10000);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("import of 10000 rows: %.3f s\n", secs);
	assert_true(secs < TEST_IMPORT_SECONDS);
	assert_int_equal(test_count("SELECT count(*) FROM people"), 10000);
	/* The audit row keeps the size, not the whole file. */
	assert_int_equal(test_count("SELECT count(*) FROM audit WHERE "
	    "cmd = 'person.import' AND args LIKE '%bytes>%' AND "
	    "length(args) < 200"), 1);
	json_decref(r);
	json_decref(args);
	free(line);
	free(out);
	free(csv);
}

static void
test_permission(void **state)
{
	size_t	 i, nwrite = 0;
	int64_t	 before;

	(void)state;
	test_person("A", "a@x.example");
	before = test_count("SELECT count(*) FROM audit");
	for (i = 0; i < sizeof commands_table / sizeof commands_table[0]; i++) {
		json_t	*r;

		r = test_call(0, commands_table[i].name, "{}");
		if (commands_table[i].write) {
			test_err(r, "permission_denied", NULL);
			nwrite++;
		} else if (!json_is_true(json_object_get(r, "ok")))
			test_err(r, "invalid_argument", NULL);
		json_decref(r);
	}
	/*
	 * 19, and the CPD records': attendance.mark, attendance.import,
	 * course.complete, completion.remove, training.record and
	 * training.import.
	 */
	assert_int_equal(nwrite, 25);
	/* Each refusal is audited, with its code. */
	assert_int_equal(test_count("SELECT count(*) FROM audit"),
	    before + (int64_t)nwrite);
	assert_int_equal(test_count("SELECT count(*) FROM audit WHERE "
	    "result = 'permission_denied' AND uid = 1000 AND pid = 4242"),
	    (int64_t)nwrite);
	assert_int_equal(test_count("SELECT count(*) FROM people"), 1);
}

static void
test_audit(void **state)
{
	(void)state;
	assert_int_equal(test_count("SELECT count(*) FROM audit"), 0);
	test_person("A", "audited@x.example");
	assert_int_equal(test_count("SELECT count(*) FROM audit WHERE "
	    "cmd = 'person.add' AND result = 'ok' AND "
	    "args LIKE '%audited@x.example%'"), 1);
	test_expect(1, "person.add", "{\"name\":\"A\",\"email\":"
	    "\"AUDITED@x.example\"}", "conflict", "email");
	assert_int_equal(test_count("SELECT count(*) FROM audit WHERE "
	    "cmd = 'person.add' AND result = 'conflict'"), 1);
	/* Reads are not audited. */
	test_ok_int(test_call(0, "status", NULL), "people");
	assert_int_equal(test_count("SELECT count(*) FROM audit"), 2);
}

/* A command that fails half-way leaves nothing behind. */
static void
test_no_trace(void **state)
{
	char		 err[256];
	int64_t		 people, enr, members, sessions, groups;

	(void)state;
	test_person("A", "a@x.example");
	test_person("B", "b@x.example");
	test_session(NULL);
	/* Make the second insert of one enroll fail inside the store. */
	assert_int_equal(store_exec("CREATE TEMP TRIGGER boom BEFORE INSERT "
	    "ON enrollments WHEN NEW.person_id = 2 BEGIN "
	    "SELECT RAISE(ABORT, 'boom'); END", err, sizeof err), LECTERN_OK);
	people = test_count("SELECT count(*) FROM people");
	enr = test_count("SELECT count(*) FROM enrollments");
	members = test_count("SELECT count(*) FROM group_members");
	sessions = test_count("SELECT count(*) FROM sessions");
	groups = test_count("SELECT count(*) FROM groups");

	test_expect(1, "enroll", "{\"session\":1,\"people\":[1,2]}",
	    "conflict", NULL);
	test_expect(1, "session.add", "{\"kind\":\"webinar\",\"title\":\"T\","
	    "\"start\":\"2026-03-29T02:30\",\"tz\":\"Europe/Berlin\","
	    "\"duration\":60}", "invalid_argument", "start");
	test_expect(1, "person.remove", "{\"id\":1,\"email\":\"a@x.example\"}",
	    "invalid_argument", "email");
	test_expect(1, "group.members.add", "{\"group\":\"G\",\"people\":[1]}",
	    "not_found", "group");

	assert_int_equal(test_count("SELECT count(*) FROM people"), people);
	assert_int_equal(test_count("SELECT count(*) FROM enrollments"), enr);
	assert_int_equal(test_count("SELECT count(*) FROM group_members"),
	    members);
	assert_int_equal(test_count("SELECT count(*) FROM sessions"), sessions);
	assert_int_equal(test_count("SELECT count(*) FROM groups"), groups);
	/* but each refusal is in the audit table */
	assert_int_equal(test_count("SELECT count(*) FROM audit WHERE "
	    "result <> 'ok'"), 4);
	assert_int_equal(test_count("SELECT n FROM counters WHERE "
	    "name = 'sessions'"), sessions);
	store_exec("DROP TRIGGER boom", err, sizeof err);
}

static void
test_outbox(void **state)
{
	json_t	*r;

	(void)state;
	r = test_call(0, "outbox.list", NULL);
	assert_true(json_is_array(test_ok(r)));
	assert_int_equal(json_array_size(test_ok(r)), 0);
	json_decref(r);
	r = test_call(0, "outbox.list", "{\"state\":\"queued\",\"limit\":5}");
	assert_int_equal(json_array_size(test_ok(r)), 0);
	json_decref(r);
	test_expect(0, "outbox.list", "{\"state\":\"lost\"}",
	    "invalid_argument", "state");
	test_expect(0, "outbox.list", "{\"limit\":10001}", "invalid_argument",
	    "limit");
}

/* Enrolment queues invitations; outbox.retry re-queues failed ones. */
static void
test_outbox_retry(void **state)
{
	char	 err[256], args[256];
	json_t	*r, *m;
	int64_t	 s, a, b, first;

	(void)state;
	s = test_session("\"start\":\"2031-05-01T10:00\"");
	a = test_person("A", "a@x.example");
	b = test_person("B", "b@x.example");
	snprintf(args, sizeof args, "{\"session\":%lld,\"people\":[%lld,%lld]}",
	    (long long)s, (long long)a, (long long)b);
	r = test_call(1, "enroll", args);
	test_ok(r);
	json_decref(r);
	assert_int_equal(test_count("SELECT count(*) FROM outbox WHERE "
	    "kind = 'invite' AND state = 'queued'"), 2);

	r = test_call(0, "outbox.list", "{\"state\":\"queued\"}");
	m = json_array_get(test_ok(r), 1);
	first = json_integer_value(json_object_get(m, "id"));
	json_decref(r);
	assert_int_equal(store_outbox_fail(first, "550 5.1.1 no such user",
	    err, sizeof err), LECTERN_OK);
	assert_int_equal(test_count("SELECT count(*) FROM outbox WHERE "
	    "state = 'failed'"), 1);

	test_expect(1, "outbox.retry", NULL, "invalid_argument", "id");
	test_expect(1, "outbox.retry", "{\"id\":1,\"failed\":true}",
	    "invalid_argument", "id");
	test_expect(1, "outbox.retry", "{\"id\":999}", "not_found", "id");
	test_expect(0, "outbox.retry", "{\"failed\":true}",
	    "permission_denied", NULL);
	assert_int_equal(test_ok_int(test_call(1, "outbox.retry",
	    "{\"failed\":true}"), "requeued"), 1);
	assert_int_equal(test_count("SELECT count(*) FROM outbox WHERE "
	    "state = 'queued' AND attempts = 0"), 2);
}

static void
test_refuse(void **state)
{
	json_t	*r;
	size_t	 len;
	char	*s;

	(void)state;
	s = commands_refuse(LECTERN_E_TOO_LARGE, "line too long", &len);
	assert_int_equal(s[len - 1], '\n');
	r = json_loadb(s, len, 0, NULL);
	assert_true(json_is_null(json_object_get(r, "id")));
	test_err(r, "too_large", NULL);
	json_decref(r);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_envelope, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_person_commands,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_groups, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_session_add, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_session_update, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_session_list, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_waitlist, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_course, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_import, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_import_fast, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_permission, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_audit, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_no_trace, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_outbox, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_outbox_retry, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_refuse, test_setup,
		    test_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
