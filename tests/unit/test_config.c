/* test_config.c -- config.c: keys, defaults, problems with line numbers. */
#include <sys/stat.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lectern.h"
#include "config.h"
#include "log.h"

#define TEST_MAXMSG 64

static char test_dir[PATH_MAX];
static char test_top[PATH_MAX];
static char *test_msgs[TEST_MAXMSG];
static int test_nmsgs;

static void
test_collect_cb(const char *msg, void *arg)
{
	(void)arg;
	if (test_nmsgs < TEST_MAXMSG)
		test_msgs[test_nmsgs++] = strdup(msg);
}

static void
test_clear(void)
{
	while (test_nmsgs > 0)
		free(test_msgs[--test_nmsgs]);
}

/* 1 if some collected message contains needle. */
static int
test_has(const char *needle)
{
	int i;

	for (i = 0; i < test_nmsgs; i++) {
		if (strstr(test_msgs[i], needle) != NULL)
			return 1;
	}
	return 0;
}

static void
test_dump(void)
{
	int i;

	for (i = 0; i < test_nmsgs; i++)
		fprintf(stderr, "  problem: %s\n", test_msgs[i]);
}

/* Write text into name inside the test directory; returns a static path. */
static const char *
test_write(const char *name, const char *text, mode_t mode)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", test_dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static int
test_load_text(const char *text, struct config *cfg)
{
	const char *path = test_write("t.conf", text, 0644);

	test_clear();
	return config_load(path, cfg, test_collect_cb, NULL);
}

static int
test_setup(void **state)
{
	(void)state;
	unsetenv("STATE_DIRECTORY");
	unsetenv("RUNTIME_DIRECTORY");
	unsetenv("CREDENTIALS_DIRECTORY");
	assert_int_equal(chdir(test_dir), 0);
	return 0;
}

static int
test_teardown(void **state)
{
	(void)state;
	test_clear();
	assert_int_equal(chdir(test_top), 0);
	return 0;
}

static void
test_defaults(void **state)
{
	struct config cfg;
	char host[256], addr[300];
	int i;

	(void)state;
	test_clear();
	assert_int_equal(config_load(NULL, &cfg, test_collect_cb, NULL), 0);
	assert_null(cfg.path);
	assert_string_equal(cfg.state_dir, "/var/lib/lectern");
	assert_string_equal(cfg.database, "/var/lib/lectern/lectern.db");
	assert_string_equal(cfg.socket, LECTERN_SOCKET_DEFAULT);
	assert_string_equal(cfg.coordinator_group, "lectern-coord");
	assert_non_null(cfg.timezone);
	assert_string_equal(cfg.lang, "en");
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	assert_int_equal(cfg.max_line, LECTERN_LINE_DEFAULT);
	assert_int_equal(cfg.max_clients, 256);
	assert_int_equal(cfg.request_timeout, 10);
	assert_int_equal(cfg.idle_timeout, 300);
	assert_int_equal(cfg.max_output, 16 * 1024 * 1024);
	assert_string_equal(cfg.mail_url, "maildir:/var/lib/lectern/maildir");
	assert_string_equal(cfg.maildir, "/var/lib/lectern/maildir");
	assert_string_equal(cfg.mail_from_name, "lectern");
	assert_int_equal(strncmp(cfg.mail_from_addr, "lectern@", 8), 0);
	assert_string_equal(cfg.domain, cfg.mail_from_addr + 8);
	assert_int_equal(gethostname(host, sizeof host), 0);
	snprintf(addr, sizeof addr, "lectern@%s", host);
	if (strchr(host, '_') == NULL)	/* else it falls back to localhost */
		assert_string_equal(cfg.mail_from_addr, addr);
	assert_null(cfg.username);
	assert_null(cfg.password);
	assert_int_equal(cfg.tls, CONFIG_TLS_REQUIRED);
	assert_int_equal(cfg.mail_max_connections, 4);
	assert_int_equal(cfg.retry_initial, 60);
	assert_int_equal(cfg.retry_max, 3600);
	assert_int_equal(cfg.nreminders, 2);
	assert_int_equal(cfg.reminders[0], 86400);
	assert_int_equal(cfg.reminders[1], 3600);
	assert_int_equal(cfg.alarm_in_invite, 0);
	config_cleanup(&cfg);
	assert_null(cfg.state_dir);
	assert_null(cfg.mail_url);
	for (i = 0; i < test_nmsgs; i++)
		fprintf(stderr, "unexpected: %s\n", test_msgs[i]);
	assert_int_equal(test_nmsgs, 0);
}

static void
test_systemd_dirs(void **state)
{
	struct config cfg;

	(void)state;
	setenv("STATE_DIRECTORY", "/var/lib/lectern2:/var/lib/other", 1);
	setenv("RUNTIME_DIRECTORY", "/run/lectern2", 1);
	assert_int_equal(config_load(NULL, &cfg, test_collect_cb, NULL), 0);
	assert_string_equal(cfg.state_dir, "/var/lib/lectern2");
	assert_string_equal(cfg.database, "/var/lib/lectern2/lectern.db");
	assert_string_equal(cfg.socket, "/run/lectern2/lectern.sock");
	assert_string_equal(cfg.maildir, "/var/lib/lectern2/maildir");
	config_cleanup(&cfg);
}

static void
test_every_key(void **state)
{
	struct config cfg;
	char expect[PATH_MAX + 64];
	const char *pw;
	int n;

	(void)state;
	pw = test_write("pw", "s3cret\n", 0600);
	(void)pw;
	n = test_load_text(
	    "# comment\n"
	    "; another\n"
	    "[daemon]\n"
	    "state_dir = st\n"
	    "database = /tmp/x/db.sqlite\n"
	    "socket = ./sock\n"
	    "coordinator_group = teachers-coord\n"
	    "timezone = Europe/Moscow\n"
	    "lang = ru\n"
	    "log_level = debug\n"
	    "max_line = 2M\n"
	    "max_clients = 10\n"
	    "request_timeout = 1m\n"
	    "idle_timeout = 90\n"
	    "max_output = 64k\n"
	    "[mail]\n"
	    "url = smtps://mail.district.example:465\n"
	    "from = \"Methodology \\\"Main\\\" Service\" <methodology@district.example>\n"
	    "domain = lectern.district.example\n"
	    "username = methodology\n"
	    "password_file = pw\n"
	    "tls = opportunistic\n"
	    "max_connections = 100\n"
	    "retry_initial = 30s\n"
	    "retry_max = 2h\n"
	    "[reminders]\n"
	    "default = 7d, 1d, 90\n"
	    "alarm_in_invite = yes\n", &cfg);
	if (n != 0)
		test_dump();
	assert_int_equal(n, 0);
	snprintf(expect, sizeof expect, "%s/st", test_dir);
	assert_string_equal(cfg.state_dir, expect);
	assert_string_equal(cfg.database, "/tmp/x/db.sqlite");
	snprintf(expect, sizeof expect, "%s/sock", test_dir);
	assert_string_equal(cfg.socket, expect);
	assert_string_equal(cfg.coordinator_group, "teachers-coord");
	assert_string_equal(cfg.timezone, "Europe/Moscow");
	assert_string_equal(cfg.lang, "ru");
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(cfg.max_line, 2 * 1024 * 1024);
	assert_int_equal(cfg.max_clients, 10);
	assert_int_equal(cfg.request_timeout, 60);
	assert_int_equal(cfg.idle_timeout, 90);
	assert_int_equal(cfg.max_output, 64 * 1024);
	assert_string_equal(cfg.mail_url, "smtps://mail.district.example:465");
	assert_null(cfg.maildir);
	assert_string_equal(cfg.mail_from_name, "Methodology \"Main\" Service");
	assert_string_equal(cfg.mail_from_addr, "methodology@district.example");
	assert_string_equal(cfg.domain, "lectern.district.example");
	assert_string_equal(cfg.username, "methodology");
	snprintf(expect, sizeof expect, "%s/pw", test_dir);
	assert_string_equal(cfg.password_file, expect);
	assert_string_equal(cfg.password, "s3cret");
	assert_int_equal(cfg.tls, CONFIG_TLS_OPPORTUNISTIC);
	assert_int_equal(cfg.mail_max_connections, 100);
	assert_int_equal(cfg.retry_initial, 30);
	assert_int_equal(cfg.retry_max, 7200);
	assert_int_equal(cfg.nreminders, 3);
	assert_int_equal(cfg.reminders[0], 7 * 86400);
	assert_int_equal(cfg.reminders[1], 86400);
	assert_int_equal(cfg.reminders[2], 90 * 60);
	assert_int_equal(cfg.alarm_in_invite, 1);
	snprintf(expect, sizeof expect, "%s/t.conf", test_dir);
	assert_string_equal(cfg.path, expect);
	config_cleanup(&cfg);
	assert_null(cfg.password);
}

static void
test_from_forms(void **state)
{
	static const struct {
		const char *value, *name, *addr;
	} ok[] = {
		{ "a@b.example", "", "a@b.example" },
		{ "<a@b.example>", "", "a@b.example" },
		{ "Иван Петров <ivan@school5.example>", "Иван Петров",
		    "ivan@school5.example" },
		{ "\"Doe, Jane\" <jane@x.example>", "Doe, Jane",
		    "jane@x.example" },
	};
	static const char *const bad[] = {
		"Name <a@b.example", "Name a@b.example>", "Name <no-at>",
		"Na\"me <a@b.example>", "\"Name <a@b.example>",
		"Name <a@b.example> trailing", "",
	};
	char *name, *addr, err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(config_parse_from(ok[i].value, &name, &addr,
		    err, sizeof err), 0);
		assert_string_equal(name, ok[i].name);
		assert_string_equal(addr, ok[i].addr);
		free(name);
		free(addr);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(config_parse_from(bad[i], &name, &addr, err,
		    sizeof err), -1);
		assert_true(err[0] != '\0');
		assert_null(name);
		assert_null(addr);
	}
}

static void
test_bools(void **state)
{
	static const char *const yes[] = { "yes", "YES", "true", "On", "1" };
	static const char *const no[] = { "no", "False", "off", "0" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
		assert_int_equal(config_parse_bool(yes[i]), 1);
	for (i = 0; i < sizeof no / sizeof no[0]; i++)
		assert_int_equal(config_parse_bool(no[i]), 0);
	assert_int_equal(config_parse_bool("2"), -1);
	assert_int_equal(config_parse_bool("yess"), -1);
	assert_int_equal(config_parse_bool(""), -1);
}

/* [recertification]: defaults, every key, and errors naming the key. */
static void
test_recertification(void **state)
{
	struct config cfg;
	int n;

	(void)state;
	assert_int_equal(test_load_text("[daemon]\n", &cfg), 0);
	assert_int_equal(cfg.recert_cycle.months, 36);
	assert_int_equal(cfg.recert_cycle.days, 0);
	assert_int_equal(cfg.recert_due_soon, 180);
	assert_int_equal(cfg.recert_min_hours, 0);
	assert_int_equal(cfg.recert_attendance, 750);
	assert_int_equal(cfg.recert_waitlist_due, 0);
	assert_int_equal(cfg.recert_notices, 1);
	assert_int_equal(cfg.recert_digest, CONFIG_DIGEST_MONTHLY);
	/* No digest_to: no digest (it names people). */
	assert_int_equal(cfg.recert_ndigest_to, 0);
	config_cleanup(&cfg);

	n = test_load_text("[recertification]\n"
	    "cycle = 1y6m\n"
	    "due_soon = 26w\n"
	    "min_hours = 7.5\n"
	    "completion_attendance = 66.7%\n"
	    "waitlist_order = due_date\n"
	    "notices = no\n"
	    "digest = weekly\n"
	    "digest_to = a@district.example , b@district.example\n", &cfg);
	if (n != 0)
		test_dump();
	assert_int_equal(n, 0);
	assert_int_equal(cfg.recert_cycle.months, 18);
	assert_int_equal(cfg.recert_due_soon, 182);
	assert_int_equal(cfg.recert_min_hours, 75);
	assert_int_equal(cfg.recert_attendance, 667);
	assert_int_equal(cfg.recert_waitlist_due, 1);
	assert_int_equal(cfg.recert_notices, 0);
	assert_int_equal(cfg.recert_digest, CONFIG_DIGEST_WEEKLY);
	assert_int_equal(cfg.recert_ndigest_to, 2);
	assert_string_equal(cfg.recert_digest_to[0], "a@district.example");
	assert_string_equal(cfg.recert_digest_to[1], "b@district.example");
	config_cleanup(&cfg);

	assert_int_equal(test_load_text("[recertification]\ndue_soon = 0\n"
	    "completion_attendance = 100\ndigest = off\n", &cfg), 0);
	assert_int_equal(cfg.recert_due_soon, 0);
	assert_int_equal(cfg.recert_attendance, 1000);
	assert_int_equal(cfg.recert_digest, CONFIG_DIGEST_OFF);
	config_cleanup(&cfg);

	n = test_load_text("[recertification]\n"		/* 1 */
	    "cycle = 3 years\n"				/* 2 */
	    "due_soon = 6m\n"				/* 3 */
	    "min_hours = 7.55\n"			/* 4 */
	    "completion_attendance = 101%\n"		/* 5 */
	    "waitlist_order = random\n"			/* 6 */
	    "notices = sometimes\n"			/* 7 */
	    "digest = daily\n"				/* 8 */
	    "digest_to = a@x.example, not an address\n"	/* 9 */
	    "[recertification]\n"			/* 10 */
	    "cycle = 0y\n"				/* 11 */
	    "colour = red\n", &cfg);			/* 12 */
	if (n != 10)
		test_dump();
	assert_int_equal(n, 10);
	assert_true(test_has("t.conf:2: cycle: \"3 years\" is not a cycle"));
	assert_true(test_has("t.conf:3: due_soon: \"6m\" is not a whole number "
	    "of days"));
	assert_true(test_has("t.conf:4: min_hours: \"7.55\""));
	assert_true(test_has("t.conf:5: completion_attendance: 101% is out of "
	    "range"));
	assert_true(test_has("t.conf:6: waitlist_order: \"random\""));
	assert_true(test_has("t.conf:7: notices: \"sometimes\""));
	assert_true(test_has("t.conf:8: digest: \"daily\""));
	assert_true(test_has("t.conf:9: digest_to:"));
	assert_true(test_has("t.conf:11: duplicate key \"cycle\""));
	assert_true(test_has("t.conf:12: unknown key \"colour\" in "
	    "[recertification]"));
	/* The bad list leaves no address behind. */
	assert_int_equal(cfg.recert_ndigest_to, 0);
	config_cleanup(&cfg);
}

static void
test_errors_with_lines(void **state)
{
	struct config cfg;
	int n;

	(void)state;
	n = test_load_text(
	    "stray = 1\n"				/* 1 */
	    "[daemon]\n"				/* 2 */
	    "max_line = 1048575\n"			/* 3 */
	    "max_clients = 0\n"				/* 4 */
	    "request_timeout = soon\n"			/* 5 */
	    "timezone = Mars/Olympus\n"			/* 6 */
	    "lang = english!\n"				/* 7 */
	    "log_level = loud\n"			/* 8 */
	    "max_output = 12q\n"			/* 9 */
	    "idle_timeout =\n"				/* 10 */
	    "[mail]\n"					/* 11 */
	    "url = http://mail.example\n"		/* 12 */
	    "from = nobody\n"				/* 13 */
	    "tls = sometimes\n"				/* 14 */
	    "max_connections = 101\n"			/* 15 */
	    "domain = -bad-.example\n"			/* 16 */
	    "[reminders]\n"				/* 17 */
	    "alarm_in_invite = perhaps\n"		/* 18 */
	    "default = 1d, banana\n",			/* 19 */
	    &cfg);
	if (n != 16)
		test_dump();
	assert_int_equal(n, 16);
	assert_true(test_has("t.conf:1: \"stray\" is outside of any section"));
	assert_true(test_has("t.conf:3: max_line:"));
	assert_true(test_has("t.conf:4: max_clients: 0 is out of range"));
	assert_true(test_has("t.conf:5: request_timeout:"));
	assert_true(test_has("t.conf:6: timezone: \"Mars/Olympus\""));
	assert_true(test_has("t.conf:7: "));
	assert_true(test_has("t.conf:8: log_level: \"loud\""));
	assert_true(test_has("t.conf:9: max_output: \"12q\" is not a size"));
	assert_true(test_has("t.conf:10: idle_timeout: the value is empty"));
	assert_true(test_has("t.conf:12: url:"));
	assert_true(test_has("t.conf:13: "));
	assert_true(test_has("t.conf:14: tls: \"sometimes\""));
	assert_true(test_has("t.conf:15: max_connections: 101 is out of range"));
	assert_true(test_has("t.conf:16: domain:"));
	assert_true(test_has("t.conf:18: alarm_in_invite: \"perhaps\""));
	assert_true(test_has("t.conf:19: default:"));
	config_cleanup(&cfg);
}

static void
test_unknown_and_duplicate(void **state)
{
	struct config cfg;
	int n;

	(void)state;
	n = test_load_text(
	    "[daemon]\n"			/* 1 */
	    "socket = /tmp/a.sock\n"		/* 2 */
	    "sockt = /tmp/b.sock\n"		/* 3 */
	    "\n"				/* 4 */
	    "[deamon]\n"			/* 5 */
	    "socket = /tmp/c.sock\n"		/* 6 */
	    "[daemon]\n"			/* 7 */
	    "socket = /tmp/d.sock\n"		/* 8 */
	    "this line has no equals sign\n"	/* 9 */
	    "[mail\n",				/* 10 */
	    &cfg);
	if (n != 5)
		test_dump();
	assert_int_equal(n, 5);
	assert_true(test_has("t.conf:3: unknown key \"sockt\" in [daemon]"));
	assert_true(test_has("t.conf:5: unknown section [deamon]"));
	assert_true(test_has("t.conf:8: duplicate key \"socket\" in [daemon] "
	    "(first set on line 2)"));
	assert_true(test_has("t.conf:9: expected \"key = value\""));
	assert_true(test_has("t.conf:10: a section header needs"));
	/* The first value stays; the one in the unknown section is ignored. */
	assert_string_equal(cfg.socket, "/tmp/a.sock");
	config_cleanup(&cfg);
}

static void
test_line_forms(void **state)
{
	struct config cfg;
	char longline[400];
	int n;

	(void)state;
	/* BOM, CRLF, indentation, inline comments, ':' as separator. */
	n = test_load_text(
	    "\xef\xbb\xbf[daemon]\r\n"
	    "   lang = ru ; inline comment\r\n"
	    "\tmax_clients: 7\r\n"
	    "# max_clients = 8\r\n", &cfg);
	if (n != 0)
		test_dump();
	assert_int_equal(n, 0);
	assert_string_equal(cfg.lang, "ru");
	assert_int_equal(cfg.max_clients, 7);
	config_cleanup(&cfg);

	memset(longline, 'a', sizeof longline);
	memcpy(longline, "lang = ", 7);
	longline[sizeof longline - 2] = '\n';
	longline[sizeof longline - 1] = '\0';
	{
		char text[600];

		snprintf(text, sizeof text, "[daemon]\n%slang = en\n", longline);
		n = test_load_text(text, &cfg);
	}
	assert_int_equal(n, 1);
	assert_true(test_has("t.conf:2: the line is longer than"));
	/* The over-long line was not taken as the first "lang". */
	assert_string_equal(cfg.lang, "en");
	config_cleanup(&cfg);

	{
		static const char nul[] = "[daemon]\nlang = e\0n\nmax_clients = 3\n";
		const char *path;
		FILE *f;

		path = test_write("nul.conf", "", 0644);
		f = fopen(path, "w");
		assert_non_null(f);
		fwrite(nul, 1, sizeof nul - 1, f);
		fclose(f);
		test_clear();
		n = config_load(path, &cfg, test_collect_cb, NULL);
		assert_int_equal(n, 1);
		assert_true(test_has("nul.conf:2: the line contains a NUL byte"));
		assert_int_equal(cfg.max_clients, 3);
		config_cleanup(&cfg);
	}
}

static void
test_sizes(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(test_load_text("[daemon]\nmax_line = 1024k\n"
	    "max_output = 1G\n", &cfg), 0);
	assert_int_equal(cfg.max_line, 1024 * 1024);
	assert_int_equal(cfg.max_output, 1024 * 1024 * 1024);
	config_cleanup(&cfg);
	assert_int_equal(test_load_text("[daemon]\nmax_line = 2G\n", &cfg), 1);
	assert_true(test_has("t.conf:2: max_line: 2G is more than"));
	config_cleanup(&cfg);
	assert_int_equal(test_load_text("[daemon]\nmax_line = -5M\n", &cfg), 1);
	config_cleanup(&cfg);
	assert_int_equal(test_load_text("[daemon]\nmax_line = 99999999999999999999\n",
	    &cfg), 1);
	config_cleanup(&cfg);
}

static void
test_password_file(void **state)
{
	struct config cfg;
	char text[PATH_MAX + 128];
	const char *pw;

	(void)state;
	pw = test_write("pw644", "hunter2\n", 0644);
	snprintf(text, sizeof text, "[mail]\nurl = smtp://mail.example:587\n"
	    "username = u\npassword_file = %s\n", pw);
	assert_int_equal(test_load_text(text, &cfg), 1);
	assert_true(test_has("t.conf:4: password_file:"));
	assert_true(test_has("has mode 0644"));
	assert_true(test_has("chmod 600"));
	assert_false(test_has("hunter2"));	/* never echo the secret */
	assert_null(cfg.password);
	config_cleanup(&cfg);

	pw = test_write("pw600", "hunter2\r\n", 0600);
	snprintf(text, sizeof text, "[mail]\nurl = smtp://mail.example:587\n"
	    "username = u\npassword_file = %s\n", pw);
	assert_int_equal(test_load_text(text, &cfg), 0);
	assert_string_equal(cfg.password, "hunter2");
	config_cleanup(&cfg);

	pw = test_write("pw2", "two\nlines\n", 0600);
	snprintf(text, sizeof text, "[mail]\nusername = u\n"
	    "password_file = %s\n", pw);
	assert_int_equal(test_load_text(text, &cfg), 1);
	assert_true(test_has("more than one line"));
	config_cleanup(&cfg);

	assert_int_equal(test_load_text("[mail]\nusername = u\n"
	    "password_file = /nonexistent/pw\n", &cfg), 1);
	assert_true(test_has("t.conf:3: password_file: cannot open"));
	config_cleanup(&cfg);

	/* A user name needs a password. */
	assert_int_equal(test_load_text("[mail]\nusername = u\n", &cfg), 1);
	assert_true(test_has("t.conf:2: username: there is no password"));
	config_cleanup(&cfg);
}

/* [mail] ca_file: a readable file, made absolute; a missing one is a problem. */
static void
test_ca_file(void **state)
{
	struct config cfg;
	char text[2 * PATH_MAX + 256], ca[PATH_MAX + 64];

	(void)state;
	/* test_write's buffer is reused by test_load_text: keep a copy. */
	snprintf(ca, sizeof ca, "%s", test_write("ca.pem",
	    "-----BEGIN CERTIFICATE-----\n", 0644));
	snprintf(text, sizeof text, "[mail]\nca_file = %s\n", ca);
	assert_int_equal(test_load_text(text, &cfg), 0);
	assert_string_equal(cfg.ca_file, ca);
	config_cleanup(&cfg);

	assert_int_equal(test_load_text("[mail]\n\nca_file = /nonexistent/ca.pem\n",
	    &cfg), 1);
	assert_true(test_has("t.conf:3: ca_file: cannot read /nonexistent/ca.pem"));
	config_cleanup(&cfg);
}

static void
test_credentials(void **state)
{
	struct config cfg;
	char dir[PATH_MAX + 16], path[PATH_MAX + 64];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof dir, "%s/creds", test_dir);
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/smtp-password", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("from-systemd\n", f);
	fclose(f);
	chmod(path, 0400);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	assert_int_equal(test_load_text("[mail]\nusername = u\n", &cfg), 0);
	assert_string_equal(cfg.password, "from-systemd");
	assert_string_equal(cfg.password_file, path);
	config_cleanup(&cfg);

	/* An explicit password_file wins over the credential. */
	test_write("pwx", "explicit\n", 0600);
	assert_int_equal(test_load_text("[mail]\nusername = u\n"
	    "password_file = pwx\n", &cfg), 0);
	assert_string_equal(cfg.password, "explicit");
	config_cleanup(&cfg);

	/* No credential file: no password, and no username is fine. */
	unlink(path);
	assert_int_equal(test_load_text("[mail]\n", &cfg), 0);
	assert_null(cfg.password);
	config_cleanup(&cfg);
	unsetenv("CREDENTIALS_DIRECTORY");
}

static void
test_tls_default(void **state)
{
	static const struct {
		const char *url;
		enum config_tls tls;
	} cases[] = {
		{ "smtp://localhost:25", CONFIG_TLS_OPPORTUNISTIC },
		{ "smtp://LOCALHOST", CONFIG_TLS_OPPORTUNISTIC },
		{ "smtp://127.0.0.1:2525", CONFIG_TLS_OPPORTUNISTIC },
		{ "smtp://127.8.9.10", CONFIG_TLS_OPPORTUNISTIC },
		{ "smtp://[::1]:25", CONFIG_TLS_OPPORTUNISTIC },
		{ "smtp://128.0.0.1", CONFIG_TLS_REQUIRED },
		{ "smtp://mail.example.org:587", CONFIG_TLS_REQUIRED },
		{ "smtps://[2001:db8::1]:465/", CONFIG_TLS_REQUIRED },
		{ "smtp://localhost.example", CONFIG_TLS_REQUIRED },
	};
	struct config cfg;
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "[mail]\nurl = %s\n", cases[i].url);
		assert_int_equal(test_load_text(text, &cfg), 0);
		assert_int_equal(cfg.tls, cases[i].tls);
		config_cleanup(&cfg);
	}
	/* An explicit setting wins. */
	assert_int_equal(test_load_text("[mail]\nurl = smtp://localhost\n"
	    "tls = required\n", &cfg), 0);
	assert_int_equal(cfg.tls, CONFIG_TLS_REQUIRED);
	config_cleanup(&cfg);
}

static void
test_bad_urls(void **state)
{
	static const char *const bad[] = {
		"smtp://", "smtp://user@host", "smtp://host:0",
		"smtp://host:65536", "smtp://host:25x", "smtp://ho st",
		"smtp://[::1", "smtp://[nothex]:25", "smtp://host/path",
		"maildir:", "ftp://host", "smtp://host:+25",
	};
	struct config cfg;
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "[mail]\nurl = %s\n", bad[i]);
		if (test_load_text(text, &cfg) != 1) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			fail();
		}
		assert_true(test_has("t.conf:2: url:"));
		config_cleanup(&cfg);
	}
	assert_int_equal(test_load_text("[mail]\nurl = maildir:md\n", &cfg), 0);
	assert_string_equal(cfg.maildir + strlen(cfg.maildir) - 3, "/md");
	assert_int_equal(strncmp(cfg.mail_url, "maildir:/", 9), 0);
	config_cleanup(&cfg);
}

static void
test_retry_order(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(test_load_text("[mail]\nretry_initial = 2h\n"
	    "retry_max = 1h\n", &cfg), 1);
	assert_true(test_has("t.conf:3: retry_initial (7200s) is longer"));
	config_cleanup(&cfg);
	assert_int_equal(test_load_text("[reminders]\ndefault = none\n", &cfg),
	    0);
	assert_int_equal(cfg.nreminders, 0);
	config_cleanup(&cfg);
}

static void
test_missing_file(void **state)
{
	struct config cfg;

	(void)state;
	test_clear();
	assert_int_equal(config_load("/nonexistent/lectern.conf", &cfg,
	    test_collect_cb, NULL), 1);
	assert_true(test_has("/nonexistent/lectern.conf: cannot open"));
	config_cleanup(&cfg);
}

static void
test_tree_configs(void **state)
{
	static const char *const files[] = { "config/lectern.conf",
	    "config/lectern.demo.conf" };
	struct config cfg;
	char path[PATH_MAX + 64];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", test_top, files[i]);
		test_clear();
		n = config_load(path, &cfg, test_collect_cb, NULL);
		if (n != 0)
			test_dump();
		assert_int_equal(n, 0);
		if (i == 1) {
			assert_string_equal(cfg.timezone, "Europe/Moscow");
			assert_string_equal(cfg.domain, "district.example");
			assert_string_equal(cfg.mail_from_name,
			    "Methodology Service");
			assert_string_equal(cfg.mail_from_addr,
			    "methodology@district.example");
			assert_non_null(cfg.maildir);
		}
		config_cleanup(&cfg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_systemd_dirs, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_every_key, test_setup,
		    test_teardown),
		cmocka_unit_test(test_from_forms),
		cmocka_unit_test(test_bools),
		cmocka_unit_test_setup_teardown(test_errors_with_lines,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_duplicate,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_line_forms, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_sizes, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_password_file, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_ca_file, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_credentials, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_tls_default, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_bad_urls, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_retry_order, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_recertification,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_tree_configs, test_setup,
		    test_teardown),
	};
	char tmpl[] = "/tmp/test_config.XXXXXX";
	int rc;

	if (getcwd(test_top, sizeof test_top) == NULL ||
	    mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(test_dir, sizeof test_dir, "%s", tmpl);
	/* Problems are logged only at error level; keep the output quiet. */
	log_set_level(LOG_LEVEL_ERR);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}
