/*
 * test_client.c -- the lectern CLI: words into requests, values into
 * protocol types, tables and scrubbing, reply checking, and the whole
 * program against a scripted peer on a temporary socket (framing only:
 * the real daemon is driven by the integration tests).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define LECTERN_CLIENT_NO_MAIN 1
#include "../../client/args.c"
#include "../../client/cmd.c"
#include "../../client/conn.c"
#include "../../client/csvout.c"
#include "../../client/output.c"
#include "../../client/print.c"
#include "../../client/lectern.c"

/* Words of one command line, split at '|' so that values may hold blanks. */
struct words {
	char	 buf[8192];
	char	*v[128];
	int	 n;
};

static void
words_split(struct words *w, const char *line)
{
	char	*p;

	assert_true(strlen(line) < sizeof w->buf);
	memcpy(w->buf, line, strlen(line) + 1);
	w->n = 0;
	w->v[w->n++] = w->buf;
	for (p = w->buf; *p != '\0'; p++) {
		if (*p == '|') {
			*p = '\0';
			assert_true(w->n < 127);
			w->v[w->n++] = p + 1;
		}
	}
	w->v[w->n] = NULL;
}

/* Build the call for a command line ("session|add|--title|T"). */
static int
build(struct words *w, const char *line, struct cmd_call *call, char *err,
    size_t errlen)
{
	const struct cmd_entry	*e;
	int			 used;

	words_split(w, line);
	e = cmd_find(w->n, w->v, &used);
	assert_non_null(e);
	err[0] = '\0';
	return cmd_build(e, w->n - used + 1, w->v + used - 1, call, err,
	    errlen);
}

/* The line must build into cmd with exactly the arguments in expect. */
static void
expect_request(const char *line, const char *cmd, const char *expect)
{
	struct words	 w;
	struct cmd_call	 call;
	json_error_t	 jerr;
	json_t		*want;
	char		 err[512], *got;
	int		 rc;

	rc = build(&w, line, &call, err, sizeof err);
	if (rc != CMD_OK)
		fail_msg("%s: %s", line, err);
	assert_string_equal(call.entry->cmd, cmd);
	want = json_loads(expect, 0, &jerr);
	assert_non_null(want);
	got = json_dumps(call.args, JSON_COMPACT | JSON_SORT_KEYS);
	if (!json_equal(want, call.args))
		fail_msg("%s: got %s, want %s", line, got, expect);
	free(got);
	json_decref(want);
	cmd_call_cleanup(&call);
}

/* The line must be a usage error whose sentence contains needle. */
static void
expect_usage(const char *line, const char *needle)
{
	struct words	w;
	struct cmd_call	call;
	char		err[512];
	int		rc;

	rc = build(&w, line, &call, err, sizeof err);
	if (rc != CMD_USAGE)
		fail_msg("%s: rc %d, want a usage error", line, rc);
	if (strstr(err, needle) == NULL)
		fail_msg("%s: error \"%s\" lacks \"%s\"", line, err, needle);
	cmd_call_cleanup(&call);
}

static void
test_person_reference(void **state)
{
	char	 err[256];
	json_t	*v;

	(void)state;
	v = args_person("7", err, sizeof err);
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), 7);
	json_decref(v);
	v = args_person("0042", err, sizeof err);
	assert_int_equal(json_integer_value(v), 42);
	json_decref(v);
	v = args_person("ivan@school5.example", err, sizeof err);
	assert_true(json_is_string(v));
	assert_string_equal(json_string_value(v), "ivan@school5.example");
	json_decref(v);
	/* Digits with anything else are an email, not an id. */
	v = args_person("7a", err, sizeof err);
	assert_true(json_is_string(v));
	json_decref(v);
	v = args_person("+7", err, sizeof err);
	assert_true(json_is_string(v));
	json_decref(v);
	assert_null(args_person("", err, sizeof err));
	assert_null(args_person("0", err, sizeof err));
	assert_null(args_person("99999999999999999999", err, sizeof err));
	assert_non_null(strstr(err, "too large"));
	assert_null(args_person("a\xff@x", err, sizeof err));
	assert_non_null(strstr(err, "UTF-8"));
}

static void
test_integer(void **state)
{
	char		err[256];
	long long	v;

	(void)state;
	assert_int_equal(args_integer("12", 1, 100, "n", &v, err, sizeof err),
	    0);
	assert_int_equal(v, 12);
	assert_int_equal(args_integer("0", 0, 100, "n", &v, err, sizeof err),
	    0);
	assert_int_equal(args_integer("0", 1, 100, "n", &v, err, sizeof err),
	    -1);
	assert_int_equal(args_integer("101", 1, 100, "n", &v, err, sizeof err),
	    -1);
	assert_int_equal(args_integer(" 5", 1, 100, "n", &v, err, sizeof err),
	    -1);
	assert_int_equal(args_integer("-5", 0, 100, "n", &v, err, sizeof err),
	    -1);
	assert_int_equal(args_integer("5x", 0, 100, "n", &v, err, sizeof err),
	    -1);
	assert_int_equal(args_integer("", 0, 100, "n", &v, err, sizeof err),
	    -1);
}

static void
test_durations(void **state)
{
	char	err[256];
	int64_t	m;

	(void)state;
	assert_int_equal(args_minutes("90m", "d", &m, err, sizeof err), 0);
	assert_int_equal(m, 90);
	assert_int_equal(args_minutes("1h30m", "d", &m, err, sizeof err), 0);
	assert_int_equal(m, 90);
	assert_int_equal(args_minutes("2d", "d", &m, err, sizeof err), 0);
	assert_int_equal(m, 2880);
	assert_int_equal(args_minutes("45", "d", &m, err, sizeof err), 0);
	assert_int_equal(m, 45);
	assert_int_equal(args_minutes("90s", "d", &m, err, sizeof err), -1);
	assert_non_null(strstr(err, "whole number of minutes"));
	assert_int_equal(args_minutes("1m30s", "d", &m, err, sizeof err), -1);
	assert_int_equal(args_minutes("0", "d", &m, err, sizeof err), -1);
	assert_int_equal(args_minutes("soon", "d", &m, err, sizeof err), -1);
	assert_int_equal(args_minutes("", "d", &m, err, sizeof err), -1);
}

static void
test_reminders(void **state)
{
	char	 err[256], many[256];
	json_t	*a, *want;
	int	 i;

	(void)state;
	a = args_reminders("7d,1d,1h", err, sizeof err);
	want = json_pack("[iii]", 10080, 1440, 60);
	assert_true(json_equal(a, want));
	json_decref(a);
	json_decref(want);
	a = args_reminders("none", err, sizeof err);
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	a = args_reminders("30, 2h", err, sizeof err);
	want = json_pack("[ii]", 30, 120);
	assert_true(json_equal(a, want));
	json_decref(a);
	json_decref(want);
	assert_null(args_reminders("1d,,1h", err, sizeof err));
	assert_null(args_reminders("1d,soon", err, sizeof err));
	assert_null(args_reminders("30s", err, sizeof err));
	many[0] = '\0';
	for (i = 0; i < LECTERN_REMINDERS_MAX + 1; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many),
		    "%s%dm", i ? "," : "", i + 1);
	assert_null(args_reminders(many, err, sizeof err));
}

static void
test_build_people(void **state)
{
	char	path[] = "/tmp/test_client_csvXXXXXX", line[256];
	int	fd;

	(void)state;
	expect_request("status", "status", "{}");
	expect_request("person|add|--name|Иван Петров|--email|ivan@s5.example|"
	    "--org|School No. 5|--position|teacher|--lang|ru|--tag|math|"
	    "--tag|young-teacher", "person.add",
	    "{\"name\":\"Иван Петров\",\"email\":\"ivan@s5.example\","
	    "\"organization\":\"School No. 5\",\"position\":\"teacher\","
	    "\"lang\":\"ru\",\"tags\":[\"math\",\"young-teacher\"]}");
	expect_request("person|add|--email=a@x|--name=A|--organization|O",
	    "person.add",
	    "{\"name\":\"A\",\"email\":\"a@x\",\"organization\":\"O\"}");
	expect_request("person|update|7|--email|new@x|--clear|org|--clear|tag",
	    "person.update", "{\"id\":7,\"email\":\"new@x\","
	    "\"organization\":null,\"tags\":null}");
	expect_request("person|update|a@x|--name|B", "person.update",
	    "{\"email\":\"a@x\",\"name\":\"B\"}");
	expect_request("person|rm|7", "person.remove", "{\"id\":7}");
	expect_request("person|rm|a@x", "person.remove", "{\"email\":\"a@x\"}");
	expect_request("person|show|12", "person.get", "{\"id\":12}");
	expect_request("person|ls", "person.list", "{}");
	expect_request("person|ls|--org|School|--group|g|--tag|t|--limit|5",
	    "person.list", "{\"organization\":\"School\",\"group\":\"g\","
	    "\"tag\":\"t\",\"limit\":5}");

	fd = mkstemp(path);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "name,email\nA,a@x\n", 17), 17);
	close(fd);
	snprintf(line, sizeof line, "person|import|%s|--partial", path);
	expect_request(line, "person.import",
	    "{\"csv\":\"name,email\\nA,a@x\\n\",\"partial\":true}");
	snprintf(line, sizeof line, "person|import|%s", path);
	expect_request(line, "person.import",
	    "{\"csv\":\"name,email\\nA,a@x\\n\"}");
	unlink(path);
}

static void
test_build_person_update_lookup(void **state)
{
	struct words	 w;
	struct cmd_call	 call;
	char		 err[256];

	(void)state;
	/* A new address for a person named by email needs their id first. */
	assert_int_equal(build(&w, "person|update|a@x|--email|b@x", &call,
	    err, sizeof err), CMD_OK);
	assert_string_equal(call.lookup, "a@x");
	assert_string_equal(json_string_value(json_object_get(call.args,
	    "email")), "b@x");
	assert_null(json_object_get(call.args, "id"));
	cmd_call_cleanup(&call);
	/* The same address is no change of address. */
	assert_int_equal(build(&w, "person|update|a@x|--email|a@x|--lang|en",
	    &call, err, sizeof err), CMD_OK);
	assert_null(call.lookup);
	assert_string_equal(json_string_value(json_object_get(call.args,
	    "email")), "a@x");
	cmd_call_cleanup(&call);
	/* A change of case only is a change: the id is looked up. */
	assert_int_equal(build(&w, "person|update|A@X|--email|a@x", &call,
	    err, sizeof err), CMD_OK);
	assert_string_equal(call.lookup, "A@X");
	cmd_call_cleanup(&call);
}

static void
test_build_groups(void **state)
{
	(void)state;
	expect_request("group|add|primary teachers", "group.add",
	    "{\"name\":\"primary teachers\"}");
	expect_request("group|rm|g", "group.remove", "{\"name\":\"g\"}");
	expect_request("group|show|g", "group.get", "{\"name\":\"g\"}");
	expect_request("group|ls", "group.list", "{}");
	expect_request("group|add-members|g|7|a@x|12", "group.members.add",
	    "{\"group\":\"g\",\"people\":[7,\"a@x\",12]}");
	expect_request("group|rm-members|g|a@x", "group.members.remove",
	    "{\"group\":\"g\",\"people\":[\"a@x\"]}");
}

static void
test_build_sessions(void **state)
{
	(void)state;
	expect_request("session|add|--kind|webinar|--title|Formative "
	    "assessment|--start|2026-12-01 15:00|--duration|1h30m|"
	    "--tz|Europe/Moscow|--description|two\nlines|--location|Room 12|"
	    "--url|https://m.example/a|--capacity|30|--remind|7d,1d,1h|"
	    "--course|4|--repeat|FREQ=MONTHLY;COUNT=4",
	    "session.add",
	    "{\"kind\":\"webinar\",\"title\":\"Formative assessment\","
	    "\"start\":\"2026-12-01 15:00\",\"duration\":90,"
	    "\"tz\":\"Europe/Moscow\",\"description\":\"two\\nlines\","
	    "\"location\":\"Room 12\",\"url\":\"https://m.example/a\","
	    "\"capacity\":30,\"reminders\":[10080,1440,60],\"course\":4,"
	    "\"rrule\":\"FREQ=MONTHLY;COUNT=4\"}");
	expect_request("session|add|--kind|seminar|--title|T|--start|"
	    "2026-12-01T12:00Z|--duration|2d|--remind|none|--capacity|0",
	    "session.add", "{\"kind\":\"seminar\",\"title\":\"T\","
	    "\"start\":\"2026-12-01T12:00Z\",\"duration\":2880,"
	    "\"reminders\":[],\"capacity\":0}");
	expect_request("session|update|3|--start|2026-12-02 10:00|--clear|url|"
	    "--clear|repeat", "session.update", "{\"id\":3,"
	    "\"start\":\"2026-12-02 10:00\",\"url\":null,\"rrule\":null}");
	expect_request("session|update|--duration|45|3", "session.update",
	    "{\"id\":3,\"duration\":45}");
	expect_request("session|cancel|3|--reason|ill", "session.cancel",
	    "{\"id\":3,\"reason\":\"ill\"}");
	expect_request("session|cancel|3", "session.cancel", "{\"id\":3}");
	expect_request("session|show|3", "session.get", "{\"id\":3}");
	expect_request("session|ls|--from|2026-12-01|--to|2027-01-01|--kind|"
	    "webinar|--status|scheduled|--course|2|--limit|50", "session.list",
	    "{\"from\":\"2026-12-01\",\"to\":\"2027-01-01\","
	    "\"kind\":\"webinar\","
	    "\"status\":\"scheduled\",\"course\":2,\"limit\":50}");
	expect_request("outbox|ls|--state|failed|--session|3|--limit|10",
	    "outbox.list", "{\"state\":\"failed\",\"session\":3,\"limit\":10}");
	expect_request("outbox|ls", "outbox.list", "{}");
}

static void
test_build_enroll(void **state)
{
	(void)state;
	expect_request("enroll|3|7|a@x|--group|primary", "enroll",
	    "{\"session\":3,\"people\":[7,\"a@x\"],\"groups\":[\"primary\"]}");
	expect_request("enroll|--session|3|7", "enroll",
	    "{\"session\":3,\"people\":[7]}");
	expect_request("enroll|--course|2|--group|a|--group|b", "enroll",
	    "{\"course\":2,\"groups\":[\"a\",\"b\"]}");
	expect_request("unenroll|--session|3|7|b@x", "unenroll",
	    "{\"session\":3,\"people\":[7,\"b@x\"]}");
	expect_request("unenroll|3|7", "unenroll",
	    "{\"session\":3,\"people\":[7]}");
	/* After "--" a word that looks like an option is an operand. */
	expect_request("enroll|3|--|-odd@x", "enroll",
	    "{\"session\":3,\"people\":[\"-odd@x\"]}");
}

static void
test_build_errors(void **state)
{
	(void)state;
	expect_usage("session|add|--kind|webinar|--start|2026-12-01 15:00|"
	    "--duration|90m", "missing --title");
	expect_usage("session|add|--kind|webinar|--title|T|--start|x|"
	    "--duration|90x", "--duration");
	expect_usage("session|add|--kind|webinar|--title|T|--start|x|"
	    "--duration|31d", "longer");
	expect_usage("session|add|--kind|webinar|--title|T|--start|x|"
	    "--duration|90m|--bogus", "unknown option --bogus");
	expect_usage("session|add|--kind|webinar|--title|T|--start|x|"
	    "--duration|90m|-x", "unknown option -x");
	expect_usage("session|add|--title", "needs a value");
	expect_usage("session|add|--c|1", "ambiguous option --c");
	expect_usage("session|add|--kind|k|--title|T|--start|x|--dur|1h|"
	    "--cap|1|"
	    "extra", "unexpected operand");
	expect_usage("session|add|--title|A|--title|B", "more than once");
	expect_usage("session|add|--kind|k|--title|T|--start|x|--duration|1h|"
	    "--capacity|-1", "capacity");
	expect_usage("session|add|--kind|k|--title|T|--start|x|--duration|1h|"
	    "--course|0", "course");
	expect_usage("session|add|--kind|k|--title|T|--start|x|--duration|1h|"
	    "--remind|1d,x", "--remind");
	expect_usage("session|add|--kind|k|--title|T|--start|x|--duration|1h|"
	    "extra", "unexpected operand");
	expect_usage("session|add|--kind|k|--title|\xc3(|--start|x|"
	    "--duration|1h", "UTF-8");
	expect_usage("session|update|3", "nothing to change");
	expect_usage("session|update|x|--title|T", "session id");
	expect_usage("session|update|3|--clear|kind", "cannot be cleared");
	expect_usage("session|update|3|--url|u|--clear|url", "contradict");
	expect_usage("session|show", "missing operand");
	expect_usage("session|show|3|4", "unexpected operand");
	expect_usage("session|ls|--limit|0", "limit");
	expect_usage("session|ls|--limit|10001", "too large");
	expect_usage("person|add|--name|A", "missing --email");
	expect_usage("person|add|--email|a@x|--json=yes", "takes no value");
	expect_usage("person|update|7", "nothing to change");
	expect_usage("person|update|7|--clear|org|--org|O", "contradict");
	expect_usage("person|update|7|--clear|email", "cannot be cleared");
	expect_usage("person|rm", "missing operand");
	expect_usage("person|rm|", "empty");
	expect_usage("group|add-members|g", "missing operand");
	expect_usage("enroll|--session|1|--course|2|7", "not both");
	expect_usage("enroll", "missing the session");
	expect_usage("enroll|3", "at least one person");
	expect_usage("enroll|abc|7", "session id");
	expect_usage("unenroll|--session|3", "at least one person");
	expect_usage("unenroll|3|--group|g", "unknown option --group");
	expect_usage("outbox|ls|--state", "needs a value");
}

static void
test_build_help_json_file(void **state)
{
	struct words	w;
	struct cmd_call	call;
	char		err[256];

	(void)state;
	assert_int_equal(build(&w, "session|add|--help", &call, err,
	    sizeof err), CMD_HELP);
	cmd_call_cleanup(&call);
	assert_int_equal(build(&w, "person|rm|-h", &call, err, sizeof err),
	    CMD_HELP);
	cmd_call_cleanup(&call);
	assert_int_equal(build(&w, "person|ls|--json", &call, err, sizeof err),
	    CMD_OK);
	assert_true(call.json);
	cmd_call_cleanup(&call);
	assert_int_equal(build(&w, "person|import|/nonexistent/x.csv", &call,
	    err, sizeof err), CMD_FAIL);
	assert_non_null(strstr(err, "/nonexistent/x.csv"));
	cmd_call_cleanup(&call);
}

static void
test_find(void **state)
{
	char			 w1[] = "person", w2[] = "add",
				 w3[] = "enroll", w4[] = "3", w5[] = "group",
				 w6[] = "add-members", w7[] = "frob";
	char			*v1[] = { w1, w2, NULL };
	char			*v2[] = { w3, w4, NULL };
	char			*v3[] = { w5, w6, NULL };
	char			*v4[] = { w1, w7, NULL };
	const struct cmd_entry	*e;
	int			 used;

	(void)state;
	e = cmd_find(2, v1, &used);
	assert_string_equal(e->cmd, "person.add");
	assert_int_equal(used, 2);
	e = cmd_find(2, v2, &used);
	assert_string_equal(e->cmd, "enroll");
	assert_int_equal(used, 1);
	e = cmd_find(2, v3, &used);
	assert_string_equal(e->cmd, "group.members.add");
	assert_null(cmd_find(2, v4, &used));
	assert_true(cmd_is_noun("person"));
	assert_false(cmd_is_noun("pers"));
}

static void
test_scrub(void **state)
{
	char	*s;

	(void)state;
	s = output_scrub("\x1b[31mred\x1b[0m", 0);
	assert_string_equal(s, "?[31mred?[0m");
	free(s);
	s = output_scrub("a\x07" "b\x7f" "c\xc2\x9b" "d\r\n", 0);
	assert_string_equal(s, "a?b?c?d??");
	free(s);
	s = output_scrub("one\ntwo\t", 1);
	assert_string_equal(s, "one\ntwo?");
	free(s);
	/* Right-to-left override and an invalid byte. */
	s = output_scrub("x\xe2\x80\xaey\xff", 0);
	assert_string_equal(s, "x?y?");
	free(s);
	s = output_scrub("Иван Петров — школа №5", 0);
	assert_string_equal(s, "Иван Петров — школа №5");
	free(s);
	/* A truncated sequence at the end. */
	s = output_scrub("ab\xd0", 0);
	assert_string_equal(s, "ab?");
	free(s);
}

static void
test_output_line_scrubs(void **state)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	(void)state;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	output_line(f, "session %d added: %s", 3, "Evil\x1b]0;pwned\x07\nx");
	output_kv(f, 5, "title", "T\x1b[2J");
	fclose(f);
	assert_null(memchr(buf, 0x1b, len));
	assert_null(memchr(buf, 0x07, len));
	assert_string_equal(buf, "session 3 added: Evil?]0;pwned??x\n"
	    "title: T?[2J\n");
	free(buf);
}

static void
test_width_truncate(void **state)
{
	char	*s;
	size_t	 bad;

	(void)state;
	assert_int_equal(output_width("Иван"), 4);
	assert_int_equal(output_width("abc"), 3);
	assert_int_equal(output_width("№5 — ok"), 7);
	assert_int_equal(output_width(""), 0);
	s = output_truncate("Формирующее оценивание", 10);
	assert_int_equal(output_width(s), 10);
	assert_string_equal(s, "Формирующ…");
	assert_int_equal(output_utf8_check(s, strlen(s), &bad), 0);
	free(s);
	s = output_truncate("short", 10);
	assert_string_equal(s, "short");
	free(s);
	s = output_truncate("no limit at all", 0);
	assert_string_equal(s, "no limit at all");
	free(s);
	assert_int_equal(output_utf8_check("ok\xd0\x96", 4, &bad), 0);
	assert_int_equal(output_utf8_check("ok\xd0", 3, &bad), -1);
	assert_int_equal(bad, 2);
	assert_int_equal(output_utf8_check("a\0b", 3, &bad), -1);
	assert_int_equal(bad, 1);
	assert_int_equal(output_utf8_check("\xed\xa0\x80", 3, &bad), -1);
}

/* End the line at p and return the next one. */
static char *
next_line(char *p)
{
	char	*nl = strchr(p, '\n');

	assert_non_null(nl);
	*nl = '\0';
	return nl[1] != '\0' ? nl + 1 : NULL;
}

/*
 * The column (in code points) where needle starts on line, counted here
 * independently of output_width: every octet that does not continue a
 * UTF-8 sequence starts a code point.
 */
static size_t
column_of(const char *line, const char *needle)
{
	const char	*p = strstr(line, needle), *q;
	size_t		 col = 0;

	assert_non_null(p);
	for (q = line; q < p; q++)
		if (((unsigned char)*q & 0xc0) != 0x80)
			col++;
	return col;
}

static void
test_table_cyrillic(void **state)
{
	static const struct output_column cols[] = {
		{ "ID", 0, 1 }, { "NAME", 12, 0 }, { "EMAIL", 0, 0 },
	};
	const char		*r1[] = { "7", "Иван Петров", "ivan@x" };
	const char		*r2[] = { "12", "Mary Johnson-Smith", "m@x" };
	const char		*r3[] = { "3", "Ян\x1b[1m", "y@x" };
	struct output_table	*t;
	char			*buf = NULL, *l1, *l2, *l3, *l4;
	size_t			 len = 0;
	FILE			*f;

	(void)state;
	t = output_table_new(cols, 3);
	assert_int_equal(output_table_add(t, r1), 0);
	assert_int_equal(output_table_add(t, r2), 0);
	assert_int_equal(output_table_add(t, r3), 0);
	assert_int_equal(output_table_rows(t), 3);
	f = open_memstream(&buf, &len);
	output_table_print(t, f);
	fclose(f);
	output_table_free(t);
	assert_null(memchr(buf, 0x1b, len));
	l1 = buf;
	l2 = next_line(l1);
	l3 = next_line(l2);
	l4 = next_line(l3);
	assert_null(next_line(l4));
	/* Every EMAIL cell starts in the header's column. */
	assert_int_equal(column_of(l2, "ivan@x"), column_of(l1, "EMAIL"));
	assert_int_equal(column_of(l3, "m@x"), column_of(l1, "EMAIL"));
	assert_int_equal(column_of(l4, "y@x"), column_of(l1, "EMAIL"));
	/* The long name was cut to 12 code points ending with "…". */
	assert_non_null(strstr(l3, "Mary Johnso…"));
	/* IDs are right-aligned. */
	assert_true(strncmp(l2, " 7  ", 4) == 0);
	assert_true(strncmp(l3, "12  ", 4) == 0);
	/* No trailing blanks after the last column. */
	assert_true(l2[strlen(l2) - 1] != ' ');
	free(buf);
}

static void
test_output_text(void **state)
{
	json_t	*v;
	char	 buf[16];

	(void)state;
	assert_string_equal(output_text(NULL, buf, sizeof buf), "-");
	v = json_null();
	assert_string_equal(output_text(v, buf, sizeof buf), "-");
	v = json_integer(42);
	assert_string_equal(output_text(v, buf, sizeof buf), "42");
	json_decref(v);
	v = json_pack("[sss]", "alpha", "beta", "gamma");
	assert_string_equal(output_text(v, buf, sizeof buf), "alpha, beta,…");
	json_decref(v);
	v = json_pack("[s{}]", "a");
	assert_string_equal(output_text(v, buf, sizeof buf), "a, {…}");
	json_decref(v);
}

static void
test_check_reply(void **state)
{
	static const struct {
		const char	*reply;
		int		 ok;
	} cases[] = {
		{ "{\"id\":1,\"ok\":true,\"result\":{}}", 0 },
		{ "{\"id\":1,\"ok\":true,\"result\":[]}", 0 },
		{ "{\"id\":1,\"ok\":false,\"error\":{\"code\":\"not_found\","
		  "\"message\":\"no such person\",\"field\":\"id\"}}", 0 },
		{ "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"too_large\","
		  "\"message\":\"line too long\"}}", 0 },
		{ "{\"id\":2,\"ok\":true,\"result\":{}}", -1 },
		{ "{\"id\":\"1\",\"ok\":true,\"result\":{}}", -1 },
		{ "{\"id\":1,\"result\":{}}", -1 },
		{ "{\"id\":1,\"ok\":1,\"result\":{}}", -1 },
		{ "{\"id\":1,\"ok\":true}", -1 },
		{ "{\"id\":1,\"ok\":true,\"result\":3}", -1 },
		{ "{\"id\":1,\"ok\":false}", -1 },
		{ "{\"id\":1,\"ok\":false,\"error\":{\"code\":\"x\"}}", -1 },
		{ "{\"id\":1,\"ok\":false,\"error\":{\"code\":\"x\","
		  "\"message\":\"m\",\"field\":7}}", -1 },
		{ "[1]", -1 },
	};
	json_t	*r;
	char	 err[256];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = json_loads(cases[i].reply, 0, NULL);
		assert_non_null(r);
		if (conn_check_reply(r, 1, err, sizeof err) != cases[i].ok)
			fail_msg("%s: want %d", cases[i].reply, cases[i].ok);
		json_decref(r);
	}
}

static void
test_check_greeting(void **state)
{
	json_t	*g;
	char	 err[256];

	(void)state;
	g = json_loads("{\"lectern\":\"0.1.0\",\"protocol\":1}", 0, NULL);
	assert_int_equal(conn_check_greeting(g, err, sizeof err), 0);
	json_decref(g);
	g = json_loads("{\"lectern\":\"9.0\",\"protocol\":2}", 0, NULL);
	assert_int_equal(conn_check_greeting(g, err, sizeof err), -1);
	assert_non_null(strstr(err, "protocol 2"));
	json_decref(g);
	g = json_loads("{\"lectern\":\"0.1.0\"}", 0, NULL);
	assert_int_equal(conn_check_greeting(g, err, sizeof err), -1);
	json_decref(g);
	g = json_loads("{\"id\":null,\"ok\":false,\"error\":{\"code\":\"busy\","
	    "\"message\":\"too many clients\"}}", 0, NULL);
	assert_int_equal(conn_check_greeting(g, err, sizeof err), -1);
	assert_non_null(strstr(err, "too many clients"));
	json_decref(g);
}

/* Run print_fn of the command named by line over result text. */
static int
print_result(const char *line, const char *result, char **out)
{
	struct words	 w;
	struct cmd_call	 call;
	json_t		*r;
	char		 err[256];
	size_t		 len = 0;
	FILE		*f;
	int		 rc;

	assert_int_equal(build(&w, line, &call, err, sizeof err), CMD_OK);
	r = json_loads(result, 0, NULL);
	assert_non_null(r);
	*out = NULL;
	f = open_memstream(out, &len);
	rc = call.entry->print(&call, r, f, err, sizeof err);
	fclose(f);
	json_decref(r);
	cmd_call_cleanup(&call);
	return rc;
}

static void
test_print(void **state)
{
	char	*out;

	(void)state;
	assert_int_equal(print_result("session|add|--kind|w|--title|T|--start|"
	    "x|--duration|90", "{\"id\":3,\"title\":\"Formative assessment\","
	    "\"start\":\"2026-12-01T12:00:00Z\",\"tz\":\"Europe/Moscow\"}",
	    &out), 0);
	assert_string_equal(out, "session 3 added: Formative assessment, "
	    "2026-12-01 15:00 MSK (Europe/Moscow)\n");
	free(out);
	assert_int_equal(print_result("session|ls", "[{\"id\":3,"
	    "\"start\":\"2026-12-01T12:00:00Z\",\"tz\":\"Europe/Moscow\","
	    "\"duration\":90,\"kind\":\"webinar\",\"title\":\"Вебинар\","
	    "\"enrolled\":12,\"capacity\":30,\"waitlisted\":2,"
	    "\"status\":\"scheduled\"}]", &out), 0);
	assert_non_null(strstr(out, "2026-12-01 15:00 MSK  Europe/Moscow"));
	assert_non_null(strstr(out, "1h30m"));
	assert_non_null(strstr(out, "12/30 +2"));
	free(out);
	assert_int_equal(print_result("session|show|3", "{\"id\":3,"
	    "\"reminders\":[10080,1440,60],\"duration\":90,\"enrollments\":"
	    "[{\"person\":7,\"name\":\"Иван\",\"state\":\"waitlisted\","
	    "\"position\":2}]}", &out), 0);
	assert_non_null(strstr(out, "reminders:    1w, 1d, 1h\n"));
	assert_non_null(strstr(out, "waiting, position 2"));
	free(out);
	/* Hostile or odd results: wrong types show as "-", never crash. */
	assert_int_equal(print_result("session|ls", "[{\"id\":\"x\","
	    "\"start\":\"garbage\",\"tz\":\"No/Such_Zone\",\"duration\":-5,"
	    "\"title\":\"\\u001b[31mred\"},7,null]", &out), 0);
	assert_null(strchr(out, 0x1b));
	assert_non_null(strstr(out, "garbage"));
	free(out);
	assert_int_equal(print_result("person|ls", "{\"not\":\"a list\"}",
	    &out), -1);
	free(out);
	assert_int_equal(print_result("status", "[]", &out), -1);
	free(out);
	assert_int_equal(print_result("status", "{}", &out), 0);
	free(out);
	assert_int_equal(print_result("person|import|/dev/null|--partial",
	    "{\"added\":3,\"updated\":1,\"errors\":[{\"line\":4,"
	    "\"message\":\"email: missing\"}]}", &out), 0);
	assert_string_equal(out, "added 3, updated 1, skipped 1\n"
	    "/dev/null:4: email: missing\n");
	free(out);
	assert_int_equal(print_result("enroll|3|7", "{\"enrolled\":[],"
	    "\"waitlisted\":[{\"id\":7,\"email\":\"a@x\",\"position\":1}],"
	    "\"already\":[]}", &out), 0);
	assert_string_equal(out, "enrolled 0, waitlisted 1, "
	    "already enrolled 0\n"
	    "waitlisted: a@x (id 7), position 1\n");
	free(out);
}

static void
test_refusal(void **state)
{
	struct words	 w;
	struct cmd_call	 call;
	json_t		*e;
	char		 err[256], *buf = NULL;
	size_t		 len = 0;
	FILE		*f;

	(void)state;
	assert_int_equal(build(&w, "session|add|--kind|w|--title|T|--start|x|"
	    "--duration|90", &call, err, sizeof err), CMD_OK);
	e = json_pack("{s:s,s:s,s:s}", "code", "invalid_argument", "message",
	    "start x is not a time\x1b[0m", "field", "start");
	f = open_memstream(&buf, &len);
	print_refusal(&call, e, f);
	fclose(f);
	assert_string_equal(buf, "lectern: session add: start x is not a "
	    "time?[0m (field: start)\n");
	free(buf);
	json_decref(e);
	cmd_call_cleanup(&call);

	assert_int_equal(build(&w, "person|import|/dev/null", &call, err,
	    sizeof err), CMD_OK);
	e = json_loads("{\"code\":\"invalid_argument\",\"message\":\"m\","
	    "\"field\":\"csv\",\"errors\":[{\"line\":4,\"message\":\"email: "
	    "bad\"},{\"line\":9,\"message\":\"name: empty\"}]}", 0, NULL);
	buf = NULL;
	f = open_memstream(&buf, &len);
	print_refusal(&call, e, f);
	fclose(f);
	assert_non_null(strstr(buf, "/dev/null:4: email: bad\n"
	    "/dev/null:9: name: empty\n"));
	assert_non_null(strstr(buf, "2 invalid rows"));
	free(buf);
	json_decref(e);
	cmd_call_cleanup(&call);
}

/*
 * A scripted peer on a temporary socket: it sends greeting, reads one
 * line, then sends reply (NULL: closes without replying). Returns its
 * pid; the socket path is written into path.
 */
static pid_t
peer_start(char *path, size_t len, const char *greeting, const char *reply,
    size_t replylen)
{
	struct sockaddr_un	sun;
	pid_t			pid;
	char			c;
	int			fd, cfd;

	snprintf(path, len, "/tmp/test_client_%d.sock", (int)getpid());
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd != -1);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	assert_int_equal(listen(fd, 1), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		cfd = accept(fd, NULL, NULL);
		if (cfd == -1)
			_exit(1);
		if (write(cfd, greeting, strlen(greeting)) < 0)
			_exit(1);
		while (read(cfd, &c, 1) == 1 && c != '\n')
			;
		if (reply != NULL) {
			size_t	off = 0;
			ssize_t	n;

			while (off < replylen &&
			    (n = write(cfd, reply + off, replylen - off)) > 0)
				off += (size_t)n;
		}
		close(cfd);
		_exit(0);
	}
	close(fd);
	return pid;
}

/* Run the program with argv words against a peer; out/err captured. */
static int
run(const char *line, char **out, char **err)
{
	struct words	w;
	FILE		*fo, *fe;
	size_t		 lo = 0, le = 0;
	int		 rc;

	words_split(&w, line);
	fo = open_memstream(out, &lo);
	fe = open_memstream(err, &le);
	rc = lectern_run(w.n, w.v, fo, fe);
	fclose(fo);
	fclose(fe);
	return rc;
}

static void
peer_wait(pid_t pid, const char *path)
{
	int	status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(path);
}

static const char greeting1[] = "{\"lectern\":\"0.1.0\",\"protocol\":1}\n";

static void
test_run_exchange(void **state)
{
	char	 path[108], line[256], *out, *err;
	pid_t	 pid;

	(void)state;
	{
		static const char r[] = "{\"id\":1,\"ok\":true,\"result\":"
		    "{\"name\":\"g\",\"members\":0}}\n";

		pid = peer_start(path, sizeof path, greeting1, r, strlen(r));
	}
	snprintf(line, sizeof line, "lectern|-s|%s|group|add|g", path);
	assert_int_equal(run(line, &out, &err), LECTERN_EXIT_OK);
	assert_string_equal(out, "group g added\n");
	free(out);
	free(err);
	peer_wait(pid, path);

	/* --json prints the result unchanged. */
	{
		static const char r[] =
		    "{\"id\":1,\"ok\":true,\"result\":{\"b\":1,\"a\":[2]}}\n";

		pid = peer_start(path, sizeof path, greeting1, r, strlen(r));
	}
	snprintf(line, sizeof line, "lectern|--json|-s|%s|group|ls", path);
	assert_int_equal(run(line, &out, &err), LECTERN_EXIT_OK);
	assert_string_equal(out, "{\"b\":1,\"a\":[2]}\n");
	free(out);
	free(err);
	peer_wait(pid, path);

	/* A refusal: exit 1, the message and field on stderr. */
	{
		static const char r[] = "{\"id\":1,\"ok\":false,\"error\":"
		    "{\"code\":\"conflict\",\"message\":\"email exists\","
		    "\"field\":\"email\"}}\n";

		pid = peer_start(path, sizeof path, greeting1, r, strlen(r));
	}
	snprintf(line, sizeof line, "lectern|-s|%s|person|add|--name|A|"
	    "--email|a@x", path);
	assert_int_equal(run(line, &out, &err), LECTERN_EXIT_REFUSED);
	assert_string_equal(err, "lectern: person add: email exists "
	    "(field: email)\n");
	assert_string_equal(out, "");
	free(out);
	free(err);
	peer_wait(pid, path);
}

static void
test_run_failures(void **state)
{
	char	 path[108], line[256], *out, *err, *big;
	size_t	 n, i;
	pid_t	 pid;

	(void)state;
	/* Another protocol version. */
	pid = peer_start(path, sizeof path,
	    "{\"lectern\":\"9\",\"protocol\":2}\n", NULL, 0);
	snprintf(line, sizeof line, "lectern|-s|%s|status", path);
	assert_int_equal(run(line, &out, &err), LECTERN_EXIT_UNAVAILABLE);
	assert_non_null(strstr(err, "protocol 2"));
	free(out);
	free(err);
	peer_wait(pid, path);

	/* Closed before the reply. */
	pid = peer_start(path, sizeof path, greeting1, NULL, 0);
	snprintf(line, sizeof line, "lectern|-s|%s|status", path);
	assert_int_equal(run(line, &out, &err), LECTERN_EXIT_UNAVAILABLE);
	assert_non_null(strstr(err, "lecternd closed the connection"));
	free(out);
	free(err);
	peer_wait(pid, path);

	/* Not JSON. */
	pid = peer_start(path, sizeof path, greeting1, "hello\n", 6);
	assert_int_equal(run(line, &out, &err), LECTERN_EXIT_UNAVAILABLE);
	assert_non_null(strstr(err, "not JSON"));
	free(out);
	free(err);
	peer_wait(pid, path);

	/* A 3 MiB reply arrives whole through the growing buffer. */
	n = 3u * 1024 * 1024;
	big = malloc(n + 64);
	assert_non_null(big);
	i = (size_t)snprintf(big, 64, "{\"id\":1,\"ok\":true,\"result\":[\"");
	memset(big + i, 'x', n);
	i += n;
	memcpy(big + i, "\"]}\n", 4);
	i += 4;
	pid = peer_start(path, sizeof path, greeting1, big, i);
	snprintf(line, sizeof line, "lectern|-s|%s|--json|group|ls", path);
	assert_int_equal(run(line, &out, &err), LECTERN_EXIT_OK);
	assert_int_equal(strlen(out), n + 5);
	free(out);
	free(err);
	peer_wait(pid, path);

	/* Past the line limit: refused, memory bounded. */
	conn_line_max = 1024 * 1024;
	pid = peer_start(path, sizeof path, greeting1, big, i);
	assert_int_equal(run(line, &out, &err), LECTERN_EXIT_UNAVAILABLE);
	assert_non_null(strstr(err, "longer than"));
	free(out);
	free(err);
	peer_wait(pid, path);
	conn_line_max = CONN_LINE_MAX;
	free(big);

	/* Nobody listening: the hint. */
	snprintf(line, sizeof line, "lectern|-s|/tmp/test_client_none_%d.sock|"
	    "status", (int)getpid());
	assert_int_equal(run(line, &out, &err), LECTERN_EXIT_UNAVAILABLE);
	assert_non_null(strstr(err, "is lecternd running? cannot connect to "
	    "/tmp/test_client_none_"));
	assert_non_null(strstr(err, "No such file or directory"));
	free(out);
	free(err);
}

static void
test_run_usage(void **state)
{
	char	*out, *err;

	(void)state;
	assert_int_equal(run("lectern", &out, &err), LECTERN_EXIT_USAGE);
	free(out);
	free(err);
	assert_int_equal(run("lectern|frobnicate", &out, &err),
	    LECTERN_EXIT_USAGE);
	assert_non_null(strstr(err, "unknown command"));
	free(out);
	free(err);
	assert_int_equal(run("lectern|person", &out, &err), LECTERN_EXIT_USAGE);
	assert_non_null(strstr(err, "person add"));
	free(out);
	free(err);
	assert_int_equal(run("lectern|--bogus|status", &out, &err),
	    LECTERN_EXIT_USAGE);
	free(out);
	free(err);
	assert_int_equal(run("lectern|session|add|--title|T", &out, &err),
	    LECTERN_EXIT_USAGE);
	assert_non_null(strstr(err, "lectern: session add: missing --kind"));
	assert_non_null(strstr(err, "usage: lectern session add"));
	free(out);
	free(err);
	assert_int_equal(run("lectern|--help", &out, &err), LECTERN_EXIT_OK);
	assert_non_null(strstr(out, "outbox ls"));
	free(out);
	free(err);
	assert_int_equal(run("lectern|help|session|add", &out, &err),
	    LECTERN_EXIT_OK);
	assert_non_null(strstr(out, "--duration DURATION"));
	free(out);
	free(err);
	assert_int_equal(run("lectern|help|group", &out, &err),
	    LECTERN_EXIT_OK);
	assert_non_null(strstr(out, "group add-members"));
	assert_null(strstr(out, "person add"));
	free(out);
	free(err);
	assert_int_equal(run("lectern|-V", &out, &err), LECTERN_EXIT_OK);
	assert_non_null(strstr(out, LECTERN_VERSION));
	free(out);
	free(err);
}

static void
test_display_width(void **state)
{
	char	*s;

	(void)state;
	/* "й" as "и" and a combining breve takes one column. */
	assert_int_equal(output_width("\xd0\xb8\xcc\x86"), 1);
	assert_int_equal(output_width("Андре\xcc\x81й"), 6);
	/* East Asian wide characters take two. */
	assert_int_equal(output_width("漢字"), 4);
	assert_int_equal(output_width("a漢b"), 4);
	assert_int_equal(output_width("\xe2\x96\x88\xe2\x96\x91"), 2);
	/* Cut by columns, never between a letter and its mark. */
	s = output_truncate("и\xcc\x86и\xcc\x86и\xcc\x86и\xcc\x86", 3);
	assert_string_equal(s, "и\xcc\x86и\xcc\x86…");
	assert_int_equal(output_width(s), 3);
	free(s);
	s = output_truncate("漢字漢字", 4);
	assert_string_equal(s, "漢…");
	free(s);
	s = output_truncate("漢字", 4);
	assert_string_equal(s, "漢字");
	free(s);
}

static void
test_table_combining(void **state)
{
	static const struct output_column cols[] = {
		{ "NAME", 0, 0 }, { "N", 0, 1 },
	};
	const char		*r1[] = { "Андре\xcc\x81й", "1" };
	const char		*r2[] = { "Андрей Ш.", "22" };
	struct output_table	*t;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*f;

	(void)state;
	t = output_table_new(cols, 2);
	assert_int_equal(output_table_add(t, r1), 0);
	assert_int_equal(output_table_add(t, r2), 0);
	f = open_memstream(&buf, &len);
	output_table_print(t, f);
	fclose(f);
	output_table_free(t);
	assert_string_equal(buf, "NAME        N\n"
	    "Андре\xcc\x81й      1\n"
	    "Андрей Ш.  22\n");
	free(buf);
}

static void
test_build_cpd(void **state)
{
	char	path[] = "/tmp/test_client_cpdXXXXXX", line[512];
	int	fd;

	(void)state;
	expect_request("attendance|mark|12|--attended|7|a@x",
	    "attendance.mark", "{\"session\":12,\"state\":\"attended\","
	    "\"people\":[7,\"a@x\"]}");
	expect_request("attendance|mark|--absent|12|7|--occurrence|"
	    "2027-03-24 15:00", "attendance.mark", "{\"session\":12,"
	    "\"state\":\"absent\",\"people\":[7],"
	    "\"occurrence\":\"2027-03-24 15:00\"}");
	expect_request("attendance|ls|12", "attendance.list",
	    "{\"session\":12}");
	expect_request("attendance|ls|12|--occurrence|2027-03-24 15:00|--csv",
	    "attendance.list", "{\"session\":12,"
	    "\"occurrence\":\"2027-03-24 15:00\"}");

	fd = mkstemp(path);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "User Email,Duration (Minutes)\na@x,30\n",
	    37), 37);
	close(fd);
	snprintf(line, sizeof line, "attendance|import|12|%s|--email-column|"
	    "User Email|--minutes-column|Duration (Minutes)|--min-minutes|45",
	    path);
	expect_request(line, "attendance.import", "{\"session\":12,"
	    "\"csv\":\"User Email,Duration (Minutes)\\na@x,30\\n\","
	    "\"email_column\":\"User Email\","
	    "\"minutes_column\":\"Duration (Minutes)\",\"min_minutes\":45}");
	snprintf(line, sizeof line, "attendance|import|--occurrence|"
	    "2027-03-24T12:00Z|12|%s|--min-minutes|0", path);
	expect_request(line, "attendance.import", "{\"session\":12,"
	    "\"csv\":\"User Email,Duration (Minutes)\\na@x,30\\n\","
	    "\"occurrence\":\"2027-03-24T12:00Z\",\"min_minutes\":0}");
	snprintf(line, sizeof line, "training|import|%s|--partial", path);
	expect_request(line, "training.import", "{\"csv\":\"User Email,"
	    "Duration (Minutes)\\na@x,30\\n\",\"partial\":true}");
	unlink(path);

	expect_request("course|complete|3|7|a@x", "course.complete",
	    "{\"course\":3,\"people\":[7,\"a@x\"]}");
	expect_request("course|complete|3|7|--date|2026-11-20|--hours|36",
	    "course.complete", "{\"course\":3,\"people\":[7],"
	    "\"completed_on\":\"2026-11-20\",\"hours\":36}");
	expect_request("course|complete|3|7|--hours|1,5|--date|2024-02-29",
	    "course.complete", "{\"course\":3,\"people\":[7],"
	    "\"completed_on\":\"2024-02-29\",\"hours\":1.5}");
	expect_request("training|record|a@x|--title|Наставничество|--hours|"
	    "72|--date|2026-06-30|--provider|Regional institute|--no-count",
	    "training.record", "{\"person\":\"a@x\","
	    "\"title\":\"Наставничество\",\"hours\":72,"
	    "\"completed_on\":\"2026-06-30\","
	    "\"provider\":\"Regional institute\","
	    "\"counts_for_recertification\":false}");
	expect_request("training|record|7|--title|T|--hours|0.5|--date|"
	    "2026-06-30", "training.record", "{\"person\":7,\"title\":\"T\","
	    "\"hours\":0.5,\"completed_on\":\"2026-06-30\"}");
	expect_request("completions", "completion.list", "{}");
	expect_request("completions|--from|2026-01-01|--to|2026-12-31|"
	    "--person|7|--organization|School No. 5|--course|3|--source|"
	    "manual|--limit|1000000|--csv", "completion.list",
	    "{\"from\":\"2026-01-01\",\"to\":\"2026-12-31\",\"person\":7,"
	    "\"organization\":\"School No. 5\",\"course\":3,"
	    "\"source\":\"manual\",\"limit\":1000000}");
	expect_request("completions|--person|a@x|--org|S", "completion.list",
	    "{\"person\":\"a@x\",\"organization\":\"S\"}");
	expect_request("completion|rm|12", "completion.remove", "{\"id\":12}");

	expect_request("report|due", "report.recertification", "{}");
	expect_request("report|due|--as-of|2026-11-23|--organization|S|"
	    "--status|overdue", "report.recertification",
	    "{\"as_of\":\"2026-11-23\",\"organization\":\"S\","
	    "\"status\":\"overdue\"}");
	expect_request("report|due|--status|overdue, due-soon,never|--limit|"
	    "50", "report.recertification", "{\"status\":[\"overdue\","
	    "\"due_soon\",\"never\"],\"limit\":50}");
	expect_request("report|coverage", "report.coverage", "{}");
	expect_request("report|coverage|--from|2023-11-24|--to|2026-11-23|"
	    "--by|organization|--org|S", "report.coverage",
	    "{\"from\":\"2023-11-24\",\"to\":\"2026-11-23\","
	    "\"by\":\"organization\",\"organization\":\"S\"}");
	expect_request("report|coverage|--by|position", "report.coverage",
	    "{\"by\":\"position\"}");
	expect_request("report|hours|--by|organization", "report.hours",
	    "{\"by\":\"organization\"}");
	expect_request("report|hours|--person|a@x|--from|2026-01-01",
	    "report.hours", "{\"person\":\"a@x\",\"from\":\"2026-01-01\"}");
	expect_request("report|hours|--person|12", "report.hours",
	    "{\"person\":12}");

	expect_request("enroll|--course|2|--status|overdue,never",
	    "enroll", "{\"course\":2,\"status\":[\"overdue\",\"never\"]}");
	expect_request("enroll|--session|3|--due-within|90|--organization|S",
	    "enroll", "{\"session\":3,\"due_within\":90,"
	    "\"organization\":\"S\"}");
	expect_request("enroll|3|--status|due_soon|7", "enroll",
	    "{\"session\":3,\"status\":\"due_soon\",\"people\":[7]}");
	expect_request("enroll|--course|2|--due-within|0", "enroll",
	    "{\"course\":2,\"due_within\":0}");
}

static void
test_build_cpd_errors(void **state)
{
	(void)state;
	expect_usage("attendance|mark|12|7", "--attended or --absent");
	expect_usage("attendance|mark|12|--attended|--absent|7", "contradict");
	expect_usage("attendance|mark|12|--attended", "missing operand");
	expect_usage("attendance|mark|x|--attended|7", "session id");
	expect_usage("attendance|mark|12|--absent|0", "person id");
	expect_usage("attendance|ls", "missing operand");
	expect_usage("attendance|ls|12|13", "unexpected operand");
	expect_usage("attendance|import|12", "missing operand");
	expect_usage("attendance|import|12|f|--min-minutes|-1",
	    "--min-minutes");
	expect_usage("attendance|import|12|f|--partial", "unknown option");
	expect_usage("course|complete|3", "missing operand");
	expect_usage("course|complete|3|7|--date|2026-02-29",
	    "--date: 2026-02-29 is not a day");
	expect_usage("course|complete|3|7|--date|1900-02-29", "not a day");
	expect_usage("course|complete|3|7|--date|20.11.2026",
	    "--date must be a date such as 2026-11-20");
	expect_usage("course|complete|3|7|--date|2026-1-5", "YYYY-MM-DD");
	expect_usage("course|complete|3|7|--hours|-1", "--hours must be");
	expect_usage("course|complete|3|7|--hours|1.", "--hours must be");
	expect_usage("course|complete|3|7|--hours|.5", "--hours must be");
	expect_usage("course|complete|3|7|--hours|1.2.3", "--hours must be");
	expect_usage("course|complete|3|7|--hours|36h", "--hours must be");
	expect_usage("course|complete|3|7|--hours|12345678", "too large");
	expect_usage("course|complete|x|7", "course id");
	expect_usage("training|record|7|--title|T|--hours|1", "missing --date");
	expect_usage("training|record|7|--date|2026-01-01|--hours|1",
	    "missing --title");
	expect_usage("training|record|7|--date|2026-01-01|--title|T",
	    "missing --hours");
	expect_usage("training|record|--title|T|--hours|1|--date|2026-01-01",
	    "missing operand");
	expect_usage("training|record||--title|T|--hours|1|--date|"
	    "2026-01-01", "empty");
	expect_usage("training|import", "missing operand");
	expect_usage("completions|--source|web", "--source must be "
	    "attendance, manual or import");
	expect_usage("completions|--limit|0", "--limit");
	expect_usage("completions|--from|yesterday", "--from must be a date");
	expect_usage("completions|extra", "unexpected operand");
	expect_usage("completion|rm", "missing operand");
	expect_usage("completion|rm|abc", "completion id");
	expect_usage("report|due|--status|ok,bogus", "\"bogus\" is not a "
	    "status");
	expect_usage("report|due|--status|ok,", "\"\" is not a status");
	expect_usage("report|due|--as-of|2026-13-01", "--as-of");
	expect_usage("report|due|--org|A|--organization|B", "more than once");
	expect_usage("report|coverage|--by|school", "--by must be "
	    "organization or position");
	expect_usage("report|hours|--by|position", "--by must be person or "
	    "organization");
	expect_usage("report|hours|--person|0", "--person");
	expect_usage("report|due|--csv|--json", "contradict");
	expect_usage("report|coverage|--csv=1", "takes no value");
	expect_usage("enroll|3|--org|S", "--organization limits --status");
	expect_usage("enroll|3", "--status or --due-within");
	expect_usage("enroll|3|--status|late", "not a status");
	expect_usage("enroll|3|--due-within|-1", "--due-within");
	expect_usage("unenroll|3|--status|ok", "unknown option --status");
}

/* print_result for a call with --csv. */
static void
expect_csv(const char *line, const char *result, const char *want)
{
	char	*out;

	assert_int_equal(print_result(line, result, &out), 0);
	if (strcmp(out, want) != 0)
		fail_msg("%s: got\n%s\nwant\n%s", line, out, want);
	free(out);
}

/* A completion as the daemon sends it. */
#define COMPLETION(id, no, pid, email, name, title, hours, counts)	\
	"{\"id\":" id ",\"register_no\":\"" no "\",\"person\":{\"id\":"	\
	pid ",\"email\":\"" email "\"},\"name\":\"" name "\","		\
	"\"organization\":\"School No. 5\",\"course\":3,\"title\":\""	\
	title "\",\"provider\":null,\"hours\":" hours ","		\
	"\"completed_on\":\"2026-11-20\",\"counts_for_recertification\":"\
	counts ",\"source\":\"attendance\",\"entered_by\":1000,"		\
	"\"entered_at\":\"2026-11-20T15:00:00Z\"}"

static const char print_due_result[] = "{\"as_of\":\"2026-11-23\","
    "\"cycle\":\"3y\",\"due_soon_days\":180,\"summary\":{\"total\":267,"
    "\"ok\":150,\"due_soon\":20,\"overdue\":17,\"never\":80},\"people\":["
    "{\"id\":7,\"name\":\"Иван Петров\",\"email\":\"ivan@x\","
    "\"organization\":\"Школа № 5\",\"position\":null,\"status\":\"never\","
    "\"last_completed_on\":null,\"last_title\":null,"
    "\"last_register_no\":null,\"due\":null,\"days_left\":null},"
    "{\"id\":12,\"name\":\"=1+1\",\"email\":\"m@x\","
    "\"organization\":\"School No. 12\",\"position\":\"teacher\","
    "\"status\":\"overdue\",\"last_completed_on\":\"2023-05-01\","
    "\"last_title\":\"Оценивание, часть 1\","
    "\"last_register_no\":\"2023-000017\",\"due\":\"2026-05-01\","
    "\"days_left\":-206}]}";

static void
test_print_cpd(void **state)
{
	char	*out, *l;

	(void)state;
	/* report due: the summary, then a table aligned by columns. */
	assert_int_equal(print_result("report|due|--org|Школа № 5",
	    print_due_result, &out), 0);
	l = out;
	assert_string_equal(l, "Школа № 5, as of 2026-11-23 (cycle 3y): 170 "
	    "of 267 teachers trained, 63.6 %\n"
	    "ok 150, due soon 20 (within 180 days), overdue 17, never "
	    "trained 80\n\n"
	    "ID  NAME         ORGANIZATION   STATUS   LAST COMPLETED  DUE"
	    "         DAYS LEFT\n"
	    " 7  Иван Петров  Школа № 5      never    -               -"
	    "                   -\n"
	    "12  =1+1         School No. 12  overdue  2023-05-01      "
	    "2026-05-01       -206\n");
	free(out);
	/* --csv: every field, formula-safe, days_left a number. */
	expect_csv("report|due|--csv", print_due_result,
	    "id,name,email,organization,position,status,last_completed_on,"
	    "last_title,last_register_no,due,days_left\r\n"
	    "7,Иван Петров,ivan@x,Школа № 5,,never,,,,,\r\n"
	    "12,'=1+1,m@x,School No. 12,teacher,overdue,2023-05-01,"
	    "\"Оценивание, часть 1\",2023-000017,2026-05-01,-206\r\n");

	/* report coverage: the whole, then the groups with bars. */
	assert_int_equal(print_result("report|coverage|--by|organization",
	    "{\"from\":\"2023-11-24\",\"to\":\"2026-11-23\","
	    "\"by\":\"organization\",\"groups\":["
	    "{\"group\":\"Школа № 12\",\"total\":80,\"trained\":12,"
	    "\"percent\":15.0,\"hours\":240},"
	    "{\"group\":\"School No. 5\",\"total\":267,\"trained\":87,"
	    "\"percent\":32.5,\"hours\":3132.5},"
	    "{\"group\":null,\"total\":3,\"trained\":0,\"percent\":0,"
	    "\"hours\":0}],"
	    "\"total\":{\"group\":null,\"total\":350,\"trained\":99,"
	    "\"percent\":28.2,\"hours\":3372.5}}", &out), 0);
	assert_string_equal(out, "2023-11-24 to 2026-11-23: 99 of 350 "
	    "teachers trained, 28.2 %\n\n"
	    "ORGANIZATION       TRAINED  PERCENT   HOURS  0         50     100\n"
	    "Школа № 12           12/80   15.0 %     240  "
	    "███░░░░░░░░░░░░░░░░░\n"
	    "School No. 5        87/267   32.5 %  3132.5  "
	    "██████▌░░░░░░░░░░░░░\n"
	    "(no organization)      0/3    0.0 %       0  "
	    "░░░░░░░░░░░░░░░░░░░░\n"
	    "TOTAL               99/350   28.2 %  3372.5  "
	    "█████▋░░░░░░░░░░░░░░\n");
	free(out);
	expect_csv("report|coverage|--by|position|--csv",
	    "{\"by\":\"position\",\"groups\":[{\"group\":\"-teacher\","
	    "\"total\":4,\"trained\":1,\"percent\":25,\"hours\":1.5}],"
	    "\"total\":{\"group\":null,\"total\":4,\"trained\":1,"
	    "\"percent\":25,\"hours\":1.5}}",
	    "group,trained,total,percent,hours\r\n"
	    "'-teacher,1,4,25.0,1.5\r\n"
	    "TOTAL,1,4,25.0,1.5\r\n");

	/* report hours: per person with a total row; CSV without it. */
	assert_int_equal(print_result("report|hours", "{\"from\":"
	    "\"2023-11-24\",\"to\":\"2026-11-23\",\"by\":\"person\","
	    "\"rows\":[{\"person\":{\"id\":7,\"email\":\"ivan@x\"},"
	    "\"name\":\"Иван\",\"organization\":null,\"sessions\":4.5,"
	    "\"courses\":36,\"external\":72,\"total\":112.5},"
	    "{\"person\":{\"id\":8,\"email\":\"b@x\"},\"name\":\"Борис\","
	    "\"organization\":\"S\",\"sessions\":1.5,\"courses\":0,"
	    "\"external\":0,\"total\":1.5}]}", &out), 0);
	assert_non_null(strstr(out, "hours of training from 2023-11-24 to "
	    "2026-11-23\n\n"));
	assert_non_null(strstr(out, " 7  Иван   ivan@x  -                  "
	    "4.5       36        72  112.5\n"));
	assert_non_null(strstr(out, "\n    TOTAL                            "
	    "   6       36        72    114\n"));
	free(out);
	expect_csv("report|hours|--by|organization|--csv", "{\"by\":"
	    "\"organization\",\"rows\":[{\"organization\":\"S\",\"people\":2,"
	    "\"sessions\":1.5,\"courses\":0,\"external\":0,\"total\":1.5}]}",
	    "organization,people,sessions,courses,external,total\r\n"
	    "S,2,1.5,0,0,1.5\r\n");

	/* The certificate register. */
	expect_csv("completions|--csv", "[" COMPLETION("12", "2026-000012",
	    "7", "ivan@x", "Иван Петров", "Formative assessment", "36",
	    "true") "," COMPLETION("13", "2026-000013", "8", "a@x",
	    "@Анна", "Mentoring", "1.5", "false") "]",
	    "id,register_no,completed_on,person_id,name,email,organization,"
	    "course,title,provider,hours,counts_for_recertification,source,"
	    "entered_by,entered_at\r\n"
	    "12,2026-000012,2026-11-20,7,Иван Петров,ivan@x,School No. 5,3,"
	    "Formative assessment,,36,yes,attendance,1000,"
	    "2026-11-20T15:00:00Z\r\n"
	    "13,2026-000013,2026-11-20,8,'@Анна,a@x,School No. 5,3,"
	    "Mentoring,,1.5,no,attendance,1000,2026-11-20T15:00:00Z\r\n");
	assert_int_equal(print_result("completions", "[" COMPLETION("12",
	    "2026-000012", "7", "ivan@x", "Иван Петров", "Formative "
	    "assessment", "36", "true") "]", &out), 0);
	assert_non_null(strstr(out, "ID  REGISTER NO  COMPLETED   NAME"));
	assert_non_null(strstr(out, "12  2026-000012  2026-11-20  Иван Петров"
	    "  School No. 5  Formative assessment  -            36  yes\n"));
	free(out);
	assert_int_equal(print_result("completion|rm|12", "{\"removed\":"
	    COMPLETION("12", "2026-000012", "7", "ivan@x", "Иван Петров",
	    "Formative assessment", "36", "true") "}", &out), 0);
	assert_string_equal(out, "completion 12 removed: Иван Петров "
	    "<ivan@x>, \"Formative assessment\", 36 h, 2026-11-20, register "
	    "no 2026-000012\n");
	free(out);
	assert_int_equal(print_result("training|record|8|--title|M|--hours|"
	    "1.5|--date|2026-11-20|--no-count", COMPLETION("13",
	    "2026-000013", "8", "a@x", "Анна", "Mentoring", "1.5", "false"),
	    &out), 0);
	assert_string_equal(out, "completion 13 recorded: Анна <a@x>, "
	    "\"Mentoring\", 1.5 h, 2026-11-20, register no 2026-000013 "
	    "(does not count towards recertification)\n");
	free(out);
	assert_int_equal(print_result("course|complete|3|7|8",
	    "{\"completed\":[" COMPLETION("12", "2026-000012", "7", "ivan@x",
	    "Иван Петров", "Formative assessment", "36", "true") "],"
	    "\"already\":[{\"id\":8,\"email\":\"a@x\","
	    "\"register_no\":\"2025-000003\"}]}", &out), 0);
	assert_string_equal(out, "completed 1, already completed 1\n"
	    "completed: Иван Петров <ivan@x>, \"Formative assessment\", "
	    "36 h, 2026-11-20, register no 2026-000012\n"
	    "already completed: a@x (id 8), register no 2025-000003\n");
	free(out);

	/* Attendance. */
	assert_int_equal(print_result("attendance|mark|12|--absent|7|8",
	    "{\"session\":12,\"occurrence\":null,\"marked\":[{\"id\":7,"
	    "\"email\":\"ivan@x\"},{\"id\":8,\"email\":\"a@x\"}],"
	    "\"state\":\"absent\",\"completions\":[]}", &out), 0);
	assert_string_equal(out, "session 12: 2 people marked absent\n");
	free(out);
	assert_int_equal(print_result("attendance|mark|12|--attended|7",
	    "{\"session\":12,\"marked\":[{\"id\":7,\"email\":\"ivan@x\"}],"
	    "\"state\":\"attended\",\"completions\":[" COMPLETION("12",
	    "2026-000012", "7", "ivan@x", "Иван Петров", "Formative "
	    "assessment", "36", "true") "]}", &out), 0);
	assert_string_equal(out, "session 12: 1 person marked attended\n"
	    "course completed: Иван Петров <ivan@x>, \"Formative "
	    "assessment\", 36 h, 2026-11-20, register no 2026-000012\n");
	free(out);
	/* A completion taken back by marking someone absent again. */
	assert_int_equal(print_result("attendance|mark|12|--absent|7",
	    "{\"session\":12,\"marked\":[{\"id\":7,\"email\":\"ivan@x\"}],"
	    "\"state\":\"absent\",\"completions\":[],"
	    "\"completions_removed\":[" COMPLETION("12", "2026-000012", "7",
	    "ivan@x", "Иван Петров", "Formative assessment", "36", "true")
	    "]}", &out), 0);
	assert_string_equal(out, "session 12: 1 person marked absent\n"
	    "course completion removed (attendance below the share): Иван "
	    "Петров <ivan@x>, \"Formative assessment\", 36 h, 2026-11-20, "
	    "register no 2026-000012\n");
	free(out);
	assert_int_equal(print_result("attendance|import|12|/dev/null",
	    "{\"attended\":25,\"absent\":3,\"unknown\":[\"x@y\","
	    "\"z\\u001b[2J@w\"],\"duplicates\":4,\"errors\":[{\"line\":7,"
	    "\"message\":\"email: empty\"},{\"line\":9,\"field\":"
	    "\"minutes_column\",\"message\":\"\\\"abc\\\" is not a number\"}],"
	    "\"completions\":[]}", &out), 0);
	assert_string_equal(out, "attended 25, absent 3, unknown 2, "
	    "skipped 2 rows\n"
	    "4 rows added to an earlier row of the same email (people who "
	    "joined again)\n"
	    "unknown: x@y (no such person; not marked)\n"
	    "unknown: z?[2J@w (no such person; not marked)\n"
	    "/dev/null:7: email: empty\n"
	    "/dev/null:9: minutes_column: \"abc\" is not a number\n");
	free(out);
	assert_int_equal(print_result("attendance|import|12|/dev/null",
	    "{\"attended\":1,\"absent\":0,\"unknown\":[],\"duplicates\":0,"
	    "\"errors\":[],\"completions\":[]}", &out), 0);
	assert_string_equal(out, "attended 1, absent 0\n");
	free(out);
	expect_csv("attendance|ls|12|--csv", "[{\"person\":{\"id\":7,"
	    "\"email\":\"ivan@x\"},\"name\":\"Иван\",\"organization\":null,"
	    "\"occurrence\":null,\"state\":\"attended\",\"minutes\":95,"
	    "\"source\":\"import\",\"entered_by\":1000,"
	    "\"entered_at\":\"2026-11-20T15:00:00Z\"}]",
	    "person_id,name,email,organization,occurrence,state,minutes,"
	    "source,entered_by,entered_at\r\n"
	    "7,Иван,ivan@x,,,attended,95,import,1000,2026-11-20T15:00:00Z\r\n");
	assert_int_equal(print_result("attendance|ls|12", "[{\"person\":"
	    "{\"id\":7,\"email\":\"ivan@x\"},\"name\":\"Иван\","
	    "\"state\":\"attended\",\"minutes\":95,\"source\":\"import\"}]",
	    &out), 0);
	assert_string_equal(out, "ID  NAME  EMAIL   ORGANIZATION  STATE     "
	    "MINUTES  SOURCE\n"
	    " 7  Иван  ivan@x  -             attended       95  import\n");
	free(out);
	assert_int_equal(print_result("training|import|/dev/null|--partial",
	    "{\"recorded\":10,\"duplicates\":2,\"errors\":[{\"line\":4,"
	    "\"field\":\"completed_on\",\"message\":\"completed_on "
	    "2030-01-01 is in the future\"}]}", &out), 0);
	assert_string_equal(out, "recorded 10, duplicates 2, skipped 1\n"
	    "/dev/null:4: completed_on 2030-01-01 is in the future\n");
	free(out);
	assert_int_equal(print_result("enroll|--course|2|--status|overdue",
	    "{\"enrolled\":[{\"id\":7,\"email\":\"a@x\"}],\"waitlisted\":[],"
	    "\"already\":[],\"selected\":1}", &out), 0);
	assert_string_equal(out, "selected 1 by recertification status\n"
	    "enrolled 1, waitlisted 0, already enrolled 0\n");
	free(out);

	/* Odd results: an error, never a crash. */
	assert_int_equal(print_result("report|due", "{\"people\":7}", &out),
	    -1);
	free(out);
	assert_int_equal(print_result("report|coverage", "[]", &out), -1);
	free(out);
	assert_int_equal(print_result("report|hours", "{}", &out), -1);
	free(out);
	assert_int_equal(print_result("completions", "{}", &out), -1);
	free(out);
	assert_int_equal(print_result("report|coverage|--csv", "{\"groups\":"
	    "[1,\"x\",{\"percent\":\"high\",\"hours\":\"=1\"}]}", &out), 0);
	assert_string_equal(out, "group,trained,total,percent,hours\r\n"
	    "(all),,,,\r\n(all),,,,\r\n(all),,,high,'=1\r\n");
	free(out);
	assert_int_equal(print_result("report|coverage", "{\"by\":"
	    "\"organization\",\"groups\":[{\"group\":\"\\u001b]0;x\","
	    "\"percent\":250}]}", &out), 0);
	assert_null(strchr(out, 0x1b));
	assert_non_null(strstr(out, "████████████████████"));
	free(out);
}

static void
test_refusal_cpd(void **state)
{
	struct words	 w;
	struct cmd_call	 call;
	json_t		*e;
	char		 err[256], *buf = NULL;
	size_t		 len = 0;
	FILE		*f;

	(void)state;
	assert_int_equal(build(&w, "training|import|/dev/null", &call, err,
	    sizeof err), CMD_OK);
	e = json_loads("{\"code\":\"invalid_argument\",\"message\":\"m\","
	    "\"field\":\"csv\",\"errors\":[{\"line\":4,\"field\":\"email\","
	    "\"message\":\"no person with this email\"},{\"line\":5,"
	    "\"field\":\"hours\",\"message\":\"hours: not a number\"}]}", 0,
	    NULL);
	f = open_memstream(&buf, &len);
	print_refusal(&call, e, f);
	fclose(f);
	assert_string_equal(buf, "/dev/null:4: email: no person with this "
	    "email\n/dev/null:5: hours: not a number\n"
	    "lectern: training import: 2 invalid rows, nothing was imported "
	    "(--partial imports the valid rows)\n");
	free(buf);
	json_decref(e);
	cmd_call_cleanup(&call);

	/* attendance import has no --partial to suggest. */
	assert_int_equal(build(&w, "attendance|import|3|/dev/null", &call,
	    err, sizeof err), CMD_OK);
	e = json_loads("{\"code\":\"invalid_argument\",\"message\":\"m\","
	    "\"errors\":[{\"line\":2,\"message\":\"bad\"}]}", 0, NULL);
	buf = NULL;
	f = open_memstream(&buf, &len);
	print_refusal(&call, e, f);
	fclose(f);
	assert_string_equal(buf, "/dev/null:2: bad\nlectern: attendance "
	    "import: 1 invalid row, nothing was imported\n");
	free(buf);
	json_decref(e);
	cmd_call_cleanup(&call);
}

static void
test_run_csv(void **state)
{
	static const char r[] = "{\"id\":1,\"ok\":true,\"result\":{"
	    "\"as_of\":\"2026-11-23\",\"summary\":{},\"people\":[{\"id\":7,"
	    "\"name\":\"+A\",\"days_left\":-3}]}}\n";
	char	 path[108], line[256], *out, *err;
	pid_t	 pid;

	(void)state;
	/* The global --csv, like the command's. */
	pid = peer_start(path, sizeof path, greeting1, r, strlen(r));
	snprintf(line, sizeof line, "lectern|-s|%s|--csv|report|due", path);
	assert_int_equal(run(line, &out, &err), LECTERN_EXIT_OK);
	assert_string_equal(out, "id,name,email,organization,position,"
	    "status,last_completed_on,last_title,last_register_no,due,"
	    "days_left\r\n7,'+A,,,,,,,,,-3\r\n");
	free(out);
	free(err);
	peer_wait(pid, path);

	/* --json still prints the result unchanged. */
	pid = peer_start(path, sizeof path, greeting1, r, strlen(r));
	snprintf(line, sizeof line, "lectern|-s|%s|report|due|--json", path);
	assert_int_equal(run(line, &out, &err), LECTERN_EXIT_OK);
	assert_non_null(strstr(out, "\"days_left\":-3"));
	free(out);
	free(err);
	peer_wait(pid, path);

	/* Usage errors: nothing is sent. */
	assert_int_equal(run("lectern|--csv|person|ls", &out, &err),
	    LECTERN_EXIT_USAGE);
	assert_non_null(strstr(err, "lectern: person ls: --csv: this command "
	    "has no list"));
	free(out);
	free(err);
	assert_int_equal(run("lectern|--json|report|coverage|--csv", &out,
	    &err), LECTERN_EXIT_USAGE);
	assert_non_null(strstr(err, "contradict"));
	free(out);
	free(err);
	assert_int_equal(run("lectern|--csv|--json|report|hours", &out, &err),
	    LECTERN_EXIT_USAGE);
	free(out);
	free(err);
	assert_int_equal(run("lectern|help|report", &out, &err),
	    LECTERN_EXIT_OK);
	assert_non_null(strstr(out, "report coverage"));
	free(out);
	free(err);
	assert_int_equal(run("lectern|report|due|--help", &out, &err),
	    LECTERN_EXIT_OK);
	assert_non_null(strstr(out, "--csv"));
	assert_non_null(strstr(out, "--as-of DATE"));
	free(out);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_person_reference),
		cmocka_unit_test(test_integer),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_reminders),
		cmocka_unit_test(test_build_people),
		cmocka_unit_test(test_build_person_update_lookup),
		cmocka_unit_test(test_build_groups),
		cmocka_unit_test(test_build_sessions),
		cmocka_unit_test(test_build_enroll),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_build_help_json_file),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_output_line_scrubs),
		cmocka_unit_test(test_width_truncate),
		cmocka_unit_test(test_table_cyrillic),
		cmocka_unit_test(test_output_text),
		cmocka_unit_test(test_check_reply),
		cmocka_unit_test(test_check_greeting),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_run_exchange),
		cmocka_unit_test(test_run_failures),
		cmocka_unit_test(test_run_usage),
		cmocka_unit_test(test_display_width),
		cmocka_unit_test(test_table_combining),
		cmocka_unit_test(test_build_cpd),
		cmocka_unit_test(test_build_cpd_errors),
		cmocka_unit_test(test_print_cpd),
		cmocka_unit_test(test_refusal_cpd),
		cmocka_unit_test(test_run_csv),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
