/*
 * test_delivery.c -- the delivery module in-process, with a real libevent
 * loop, against a real SMTP server on loopback (tests/unit/smtp_server.py,
 * aiosmtpd) and against the maildir transport. delivery.c is #included to
 * reach its state (in flight, paused, the work timer). The tests read only
 * the main thread's state, or libevent's (which locks), never the
 * delivery thread's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/store.c"
#include "../../daemon/delivery.c"
#include "testlib.h"

#define TEST_PYTHON	"/usr/bin/python3"

struct test_srv {
	pid_t	 pid;
	char	 dir[64];
	char	 out[128];
	int	 port;
};

static struct test_srv		 test_s;
static struct event_base	*test_base;
static struct config		 test_cfg;
static char			 test_url[128], test_domain[] = "lectern.test",
				 test_from[] = "sched@lectern.test",
				 test_user[] = "u", test_pass[] = "p";
static char			 test_mddir[64];
static struct timespec		 test_last_tick;
static double			 test_max_gap;
static int			 (*test_done)(void);

static double
test_mono(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int
test_have_aiosmtpd(void)
{
	return system(TEST_PYTHON " -c 'import aiosmtpd' >/dev/null 2>&1") ==
	    0;
}

static const char *
test_script(void)
{
	static char	 path[512];
	const char	*top = getenv("LECTERN_TOP");

	snprintf(path, sizeof path, "%s/tests/unit/smtp_server.py",
	    top != NULL ? top : ".");
	return path;
}

/* Start the SMTP server with extra options (NULL-terminated). */
static void
test_srv_start(struct test_srv *s, const char *const *extra)
{
	const char	*argv[16];
	char		 portfile[128], buf[32];
	size_t		 n = 0, i;
	double		 t0;
	FILE		*f;
	int		 fd;

	if (!test_have_aiosmtpd())
		skip();
	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "/tmp/lectern-dlv-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(portfile, sizeof portfile, "%s/port", s->dir);
	snprintf(s->out, sizeof s->out, "%s/out", s->dir);
	argv[n++] = TEST_PYTHON;
	argv[n++] = test_script();
	argv[n++] = portfile;
	argv[n++] = s->out;
	for (i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	s->pid = fork();
	assert_true(s->pid != -1);
	if (s->pid == 0) {
		char	 logp[128];

		snprintf(logp, sizeof logp, "%s/log", s->dir);
		if ((fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) !=
		    -1) {
			dup2(fd, 2);
			close(fd);
		}
		execv(argv[0], (char *const *)(void *)argv);
		_exit(127);
	}
	t0 = test_mono();
	while ((f = fopen(portfile, "r")) == NULL) {
		if (test_mono() - t0 > 10)
			fail_msg("the SMTP server did not start");
		usleep(20000);
	}
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	s->port = (int)strtol(buf, NULL, 10);
	assert_true(s->port > 0);
	snprintf(test_url, sizeof test_url, "smtp://127.0.0.1:%d", s->port);
	test_cfg.mail_url = test_url;
	test_cfg.maildir = NULL;
}

static void
test_srv_stop(struct test_srv *s)
{
	char	 cmd[128];

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->dir[0] != '\0') {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", s->dir);
	}
}

/* Read a whole file into a malloc'd buffer. */
static char *
test_slurp(const char *path, size_t *len)
{
	struct stat	 st;
	char		*buf;
	FILE		*f;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	assert_int_equal(fstat(fileno(f), &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* Count the files in dir whose name ends in suffix. */
static int
test_count(const char *dir, const char *suffix)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 l, sl = strlen(suffix);
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		l = strlen(de->d_name);
		if (l >= sl && strcmp(de->d_name + l - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int
test_setup(void **state)
{
	char	 err[256];

	(void)state;
	if (store_open(":memory:", err, sizeof err) != 0)
		return -1;
	if ((test_base = event_base_new()) == NULL)
		return -1;
	memset(&test_cfg, 0, sizeof test_cfg);
	test_cfg.domain = test_domain;
	test_cfg.mail_from_addr = test_from;
	test_cfg.tls = CONFIG_TLS_NONE;
	test_cfg.mail_max_connections = 2;
	test_cfg.retry_initial = 1;
	test_cfg.retry_max = 3600;
	test_mddir[0] = '\0';
	log_set_level(getenv("TEST_VERBOSE") != NULL ? LOG_LEVEL_DEBUG :
	    LOG_LEVEL_ERR + 0);
	return 0;
}

static int
test_teardown(void **state)
{
	char	 cmd[128];

	(void)state;
	delivery_stop();
	test_srv_stop(&test_s);
	event_base_free(test_base);
	test_base = NULL;
	store_close();
	if (test_mddir[0] != '\0') {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_mddir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", test_mddir);
	}
	return 0;
}

static int64_t
test_add(const char *rcpt, const char *msg, size_t len, int64_t expires)
{
	struct store_outbox_new	 m;
	char			 err[256], mid[64];
	int64_t			 id = 0;

	snprintf(mid, sizeof mid, "%s.id@lectern.test", rcpt);
	testlib_outbox_new(&m, rcpt, "invite", mid, msg, len);
	m.next_attempt = (int64_t)time(NULL);
	m.expires = expires;
	if (store_outbox_add(&m, m.next_attempt, &id, err, sizeof err) !=
	    LECTERN_OK)
		fail_msg("store_outbox_add: %s", err);
	return id;
}

/* A reminder to later@x.test, due an hour after now. */
static void
test_add_later(int64_t now)
{
	struct store_outbox_new	 m;
	char			 err[256];
	int64_t			 id;

	testlib_outbox_new(&m, "later@x.test", "reminder", "later", "L\r\n", 3);
	m.next_attempt = now + 3600;
	assert_int_equal(store_outbox_add(&m, now, &id, err, sizeof err),
	    LECTERN_OK);
}

static int64_t
test_int(const char *sql)
{
	int64_t	 v = -1;

	assert_int_equal(store_query_int(sql, &v), 0);
	return v;
}

static struct store_counts
test_counts(void)
{
	struct store_counts	 c;
	char			 err[256];

	assert_int_equal(store_counts(&c, err, sizeof err), LECTERN_OK);
	return c;
}

static void
test_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timespec	 now;
	double		 gap;

	(void)fd;
	(void)what;
	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &now);
	gap = (double)(now.tv_sec - test_last_tick.tv_sec) +
	    (now.tv_nsec - test_last_tick.tv_nsec) / 1e9;
	if (gap > test_max_gap)
		test_max_gap = gap;
	test_last_tick = now;
	if (test_done != NULL && test_done())
		event_base_loopbreak(test_base);
}

static void
test_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(test_base);
}

static int
test_never(void)
{
	return 0;
}

/* Run the loop until done() or timeout seconds; returns done(). */
static int
test_run(int (*done)(void), double timeout)
{
	struct timeval	 tick = { 0, 20000 }, to;
	struct event	*tev, *tout;

	to.tv_sec = (time_t)timeout;
	to.tv_usec = (suseconds_t)((timeout - (double)to.tv_sec) * 1e6);
	test_done = done;
	test_max_gap = 0;
	clock_gettime(CLOCK_MONOTONIC, &test_last_tick);
	tev = event_new(test_base, -1, EV_PERSIST, test_tick_cb, NULL);
	tout = evtimer_new(test_base, test_timeout_cb, NULL);
	assert_non_null(tev);
	assert_non_null(tout);
	event_add(tev, &tick);
	evtimer_add(tout, &to);
	event_base_dispatch(test_base);
	event_free(tev);
	event_free(tout);
	test_done = NULL;
	return done();
}

static int
test_drained(void)
{
	struct store_counts	 c = test_counts();

	return c.queued == 0 && delivery_nbusy == 0 && delivery_ndone == 0;
}

static int
test_paused_idle(void)
{
	return delivery_paused && delivery_nbusy == 0;
}

/* One message sent, nothing in flight (another waits for later). */
static int
test_one_sent(void)
{
	return test_counts().sent == 1 && delivery_nbusy == 0 &&
	    delivery_ndone == 0;
}

static void
test_start(void)
{
	char	 err[256];

	if (delivery_start(test_base, &test_cfg, err, sizeof err) != 0)
		fail_msg("delivery_start: %s", err);
}

/* The received copy of the message to rcpt, from the server's files. */
static char *
test_received(const struct test_srv *s, const char *rcpt, size_t *len,
    int *copies)
{
	char	 path[256], *env, *body = NULL, *b;
	size_t	 elen, blen;
	int	 i;

	*copies = 0;
	for (i = 1; i < 1000; i++) {
		snprintf(path, sizeof path, "%s/%d.env", s->out, i);
		if ((env = test_slurp(path, &elen)) == NULL)
			break;
		if (strstr(env, rcpt) != NULL) {
			snprintf(path, sizeof path, "%s/%d.eml", s->out, i);
			b = test_slurp(path, &blen);
			assert_non_null(b);
			(*copies)++;
			if (body == NULL) {
				body = b;
				*len = blen;
			} else
				free(b);
		}
		free(env);
	}
	return body;
}

static void
test_check_received(const struct test_srv *s, const char *rcpt,
    const char *msg, size_t len)
{
	char	*got;
	size_t	 glen = 0;
	int	 copies;

	got = test_received(s, rcpt, &glen, &copies);
	if (got == NULL)
		fail_msg("nothing received for %s", rcpt);
	assert_int_equal(copies, 1);
	assert_int_equal(glen, len);
	assert_memory_equal(got, msg, len);
	free(got);
}

static const char test_msg_a[] =
    "From: Sched <sched@lectern.test>\r\nTo: a@x.test\r\n"
    "Subject: Webinar\r\nMessage-ID: <a.id@lectern.test>\r\n\r\n"
    "Hello.\r\n.\r\n..two dots\r\n.leading dot\r\nend\r\n";

/* A large message with dot lines: identical bytes, loop never blocked. */
static char *
test_big(size_t *len)
{
	static const char	 head[] = "Subject: big\r\n\r\n";
	static const char	 line[] = ".a line of text that starts with a dot "
	    "and goes on for a while 0123456789\r\n";
	size_t			 n = 0, cap = 2 * 1024 * 1024;
	char			*b;

	b = malloc(cap + 256);
	assert_non_null(b);
	memcpy(b, head, sizeof head - 1);
	n = sizeof head - 1;
	while (n + sizeof line < cap) {
		memcpy(b + n, line, sizeof line - 1);
		n += sizeof line - 1;
	}
	*len = n;
	return b;
}

static void
test_smtp_basic(void **state)
{
	json_t		*st;
	char		*big;
	size_t		 blen, i;

	(void)state;
	test_srv_start(&test_s, NULL);
	big = test_big(&blen);
	test_add("a@x.test", test_msg_a, sizeof test_msg_a - 1, 0);
	test_add("b@x.test", "Subject: b\r\n\r\nB\r\n", 17, 0);
	test_add("c@x.test", big, blen, 0);
	test_add("d@x.test", "Subject: d\r\n\r\nD\r\n", 17, 0);
	test_start();
	assert_true(test_run(test_drained, 8));
	assert_int_equal(test_counts().sent, 4);
	assert_int_equal(test_count(test_s.out, ".eml"), 4);
	test_check_received(&test_s, "a@x.test", test_msg_a, sizeof test_msg_a - 1);
	test_check_received(&test_s, "b@x.test", "Subject: b\r\n\r\nB\r\n", 17);
	test_check_received(&test_s, "c@x.test", big, blen);
	assert_int_equal(test_int("SELECT count(*) FROM outbox WHERE "
	    "last_reply LIKE '250 2.0.0 Ok: queued as Q%' AND attempts = 1 "
	    "AND sent_at IS NOT NULL"), 4);
	/* The loop kept turning (20 ms ticks) during the 2 MB send. */
	assert_true(test_max_gap < 0.5);
	/* Nothing queued: no work timer at all, nor a curl timer. */
	assert_false(evtimer_pending(delivery_work_ev, NULL));
	assert_true(delivery_nworkers > 0);
	for (i = 0; i < delivery_nworkers; i++)
		assert_false(evtimer_pending(delivery_workers[i].curl_ev,
		    NULL));
	st = delivery_status();
	assert_string_equal(json_string_value(json_object_get(st,
	    "transport")), "smtp");
	assert_int_equal(json_integer_value(json_object_get(st, "in_flight")),
	    0);
	assert_true(json_is_false(json_object_get(st, "paused")));
	assert_true(json_is_null(json_object_get(st, "next_attempt")));
	json_decref(st);

	/* A kick with new rows sends them too, and only them. */
	test_add("e@x.test", "Subject: e\r\n\r\nE\r\n", 17, 0);
	delivery_kick();
	assert_true(test_run(test_drained, 5));
	assert_int_equal(test_count(test_s.out, ".eml"), 5);
	test_check_received(&test_s, "e@x.test", "Subject: e\r\n\r\nE\r\n", 17);
	free(big);
	delivery_stop();
	test_srv_stop(&test_s);
}

/*
 * libcurl is loaded and the delivery thread started only when the first
 * SMTP message is due: not at start, not for an empty outbox, not for a
 * reload; a message due later arms the work timer and nothing else.
 */
static void
test_smtp_lazy(void **state)
{
	int64_t	 now = (int64_t)time(NULL);

	(void)state;
	test_srv_start(&test_s, NULL);
	test_start();
	test_run(test_never, 0.2);
	assert_false(delivery_spawned);
	assert_false(curlsym_started());
	assert_null(delivery_workers);
	assert_int_equal(delivery_nworkers, 0);
	delivery_set_config(&test_cfg);
	test_add_later(now);
	delivery_kick();
	test_run(test_never, 0.2);
	assert_true(evtimer_pending(delivery_work_ev, NULL));
	assert_false(delivery_spawned);
	assert_false(curlsym_started());

	test_add("a@x.test", "Subject: a\r\n\r\nA\r\n", 17, 0);
	delivery_kick();
	assert_true(test_run(test_one_sent, 8));
	assert_true(delivery_spawned);
	assert_true(curlsym_started());
	assert_non_null(curlsym_easy_init);
	test_check_received(&test_s, "a@x.test", "Subject: a\r\n\r\nA\r\n",
	    17);
	/* A reload reaches the running worker. */
	delivery_set_config(&test_cfg);
	delivery_stop();
	assert_false(delivery_spawned);
	assert_false(curlsym_started());
	assert_null(delivery_workers);
	test_srv_stop(&test_s);
}

static void
test_smtp_tempfail(void **state)
{
	static const char *const opts[] = { "--tempfail", "t@x.test:1", NULL };
	double		 t0;

	(void)state;
	test_srv_start(&test_s, opts);
	test_add("t@x.test", "Subject: t\r\n\r\nT\r\n", 17, 0);
	test_start();
	t0 = test_mono();
	assert_true(test_run(test_drained, 8));
	/* Deferred once for retry_initial (1 s), then sent exactly once. */
	assert_true(test_mono() - t0 >= 0.9);
	assert_int_equal(test_int("SELECT attempts FROM outbox WHERE id = 1"),
	    2);
	assert_int_equal(test_counts().sent, 1);
	test_check_received(&test_s, "t@x.test", "Subject: t\r\n\r\nT\r\n", 17);
	delivery_stop();
	test_srv_stop(&test_s);
}

static void
test_smtp_reject_rcpt(void **state)
{
	static const char *const opts[] = { "--reject", "bad@x.test", NULL };
	struct store_counts	 c;
	sqlite3_stmt		*st;
	const char		*reply;

	(void)state;
	test_srv_start(&test_s, opts);
	test_add("good@x.test", "Subject: g\r\n\r\nG\r\n", 17, 0);
	test_add("bad@x.test", "Subject: b\r\n\r\nB\r\n", 17, 0);
	test_add("good2@x.test", "Subject: h\r\n\r\nH\r\n", 17, 0);
	test_start();
	assert_true(test_run(test_drained, 8));
	c = test_counts();
	assert_int_equal(c.sent, 2);
	assert_int_equal(c.failed, 1);
	assert_false(delivery_paused);
	assert_int_equal(sqlite3_prepare_v2(store_db, "SELECT last_reply, "
	    "attempts FROM outbox WHERE recipient = 'bad@x.test' AND state = "
	    "'failed'", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	reply = (const char *)sqlite3_column_text(st, 0);
	assert_non_null(reply);
	assert_non_null(strstr(reply, "550 5.1.1"));
	assert_non_null(strstr(reply, "Recipient address rejected"));
	assert_null(strpbrk(reply, "\r\n"));
	assert_int_equal(sqlite3_column_int64(st, 1), 1);
	sqlite3_finalize(st);
	assert_int_equal(test_count(test_s.out, ".eml"), 2);
	delivery_stop();
	test_srv_stop(&test_s);
}

static void
test_smtp_reject_from(void **state)
{
	static const char *const opts[] = { "--reject-from", NULL };
	struct store_counts	 c;
	json_t			*st;
	const char		*why;

	(void)state;
	test_srv_start(&test_s, opts);
	test_add("a@x.test", "Subject: a\r\n\r\nA\r\n", 17, 0);
	test_add("b@x.test", "Subject: b\r\n\r\nB\r\n", 17, 0);
	test_add("c@x.test", "Subject: c\r\n\r\nC\r\n", 17, 0);
	test_start();
	assert_true(test_run(test_paused_idle, 8));
	/* Give it a moment: a paused delivery takes no new work. */
	test_run(test_drained, 0.3);
	c = test_counts();
	assert_int_equal(c.queued, 3);
	assert_int_equal(c.failed, 0);
	assert_int_equal(test_int("SELECT sum(attempts) FROM outbox"), 0);
	assert_int_equal(test_count(test_s.out, ".eml"), 0);
	st = delivery_status();
	assert_true(json_is_true(json_object_get(st, "paused")));
	why = json_string_value(json_object_get(st, "paused_reason"));
	assert_non_null(why);
	assert_non_null(strstr(why, "550"));
	assert_false(json_is_null(json_object_get(st, "next_attempt")));
	json_decref(st);
	/* The work timer waits for retry_max, not for the due messages. */
	assert_true(evtimer_pending(delivery_work_ev, NULL));

	/* A reload tries the server again (which refuses again). */
	delivery_set_config(&test_cfg);
	assert_false(delivery_paused);
	assert_true(test_run(test_paused_idle, 8));
	assert_int_equal(test_counts().queued, 3);
	delivery_stop();
	test_srv_stop(&test_s);
}

static void
test_smtp_auth(void **state)
{
	static const char *const opts[] = { "--auth", "u:p", NULL };
	char		 path[256], *r;
	size_t		 len;

	(void)state;
	test_srv_start(&test_s, opts);
	test_cfg.username = test_user;
	test_cfg.password = test_pass;
	test_add("a@x.test", "Subject: a\r\n\r\nA\r\n", 17, 0);
	test_add("b@x.test", "Subject: b\r\n\r\nB\r\n", 17, 0);
	test_add("c@x.test", "Subject: c\r\n\r\nC\r\n", 17, 0);
	test_start();
	assert_true(test_run(test_drained, 8));
	assert_int_equal(test_counts().sent, 3);
	snprintf(path, sizeof path, "%s/replies", test_s.out);
	r = test_slurp(path, &len);
	assert_non_null(r);
	assert_non_null(strstr(r, "AUTH ok"));
	assert_null(strstr(r, "refused"));
	free(r);
	delivery_stop();
	test_srv_stop(&test_s);
}

static void
test_smtp_auth_fail(void **state)
{
	static const char *const opts[] = { "--auth", "u:p", "--auth-fail",
	    NULL };

	(void)state;
	test_srv_start(&test_s, opts);
	test_cfg.username = test_user;
	test_cfg.password = test_pass;
	test_add("a@x.test", "Subject: a\r\n\r\nA\r\n", 17, 0);
	test_add("b@x.test", "Subject: b\r\n\r\nB\r\n", 17, 0);
	test_start();
	assert_true(test_run(test_paused_idle, 8));
	assert_int_equal(test_counts().queued, 2);
	assert_int_equal(test_counts().failed, 0);
	assert_int_equal(test_int("SELECT sum(attempts) FROM outbox"), 0);
	assert_non_null(strstr(delivery_paused_reason, "535"));
	assert_int_equal(test_count(test_s.out, ".eml"), 0);
	delivery_stop();
	test_srv_stop(&test_s);
}

/* Credentials configured, no AUTH offered: refuse, never send unauthenticated. */
static void
test_smtp_no_auth_offered(void **state)
{

	(void)state;
	test_srv_start(&test_s, NULL);
	test_cfg.username = test_user;
	test_cfg.password = test_pass;
	test_add("a@x.test", "Subject: a\r\n\r\nA\r\n", 17, 0);
	test_start();
	assert_true(test_run(test_paused_idle, 8));
	assert_int_equal(test_counts().queued, 1);
	assert_int_equal(test_int("SELECT attempts FROM outbox"), 0);
	assert_non_null(strstr(delivery_paused_reason, "no AUTH"));
	assert_int_equal(test_count(test_s.out, ".eml"), 0);
	delivery_stop();
	test_srv_stop(&test_s);
}

static int
test_expired(void)
{
	return test_counts().expired == 1 && delivery_nbusy == 0;
}

/* Always 451: retried until the message expires, then marked expired. */
static void
test_smtp_expire(void **state)
{
	static const char *const opts[] = { "--tempfail", "x@x.test:100",
	    NULL };

	(void)state;
	test_srv_start(&test_s, opts);
	test_add("x@x.test", "Subject: x\r\n\r\nX\r\n", 17,
	    (int64_t)time(NULL) + 2);
	test_start();
	assert_true(test_run(test_expired, 8));
	assert_int_equal(test_counts().queued, 0);
	assert_true(test_int("SELECT attempts FROM outbox") >= 1);
	assert_false(evtimer_pending(delivery_work_ev, NULL));
	delivery_stop();
	test_srv_stop(&test_s);
}

static int
test_in_flight(void)
{
	return delivery_nbusy == 1;
}

/* Stop with a transfer waiting for a reply: ~3 s, then it stays queued. */
static void
test_smtp_stop_in_flight(void **state)
{
	static const char *const opts[] = { "--delay-rcpt", "8", NULL };
	double		 t0;

	(void)state;
	test_srv_start(&test_s, opts);
	test_cfg.mail_max_connections = 1;
	test_add("slow@x.test", "Subject: s\r\n\r\nS\r\n", 17, 0);
	test_start();
	assert_true(test_run(test_in_flight, 5));
	/* Loopback: well into the RCPT wait by then. */
	test_run(test_never, 1);
	assert_int_equal(delivery_nbusy, 1);
	t0 = test_mono();
	delivery_stop();
	assert_true(test_mono() - t0 < DELIVERY_STOP_WAIT + 1.5);
	assert_true(test_mono() - t0 >= DELIVERY_STOP_WAIT - 0.5);
	assert_int_equal(test_counts().queued, 1);
	assert_int_equal(test_int("SELECT attempts FROM outbox"), 0);
	assert_int_equal(test_count(test_s.out, ".eml"), 0);
}

static int
test_dot_waiting(void)
{
	char	 path[256];

	snprintf(path, sizeof path, "%s/dot-wait", test_s.out);
	return access(path, F_OK) == 0;
}

/*
 * libcurl (7.88, curl issue #8555) waits for the reply to the final dot
 * inside its DONE phase, blocking. That stalls only the delivery thread:
 * the daemon's loop keeps its 20 ms ticks, and the message is sent once.
 */
static void
test_smtp_dot_slow(void **state)
{
	static const char *const opts[] = { "--delay-dot", "3", NULL };
	double		 t0;

	(void)state;
	test_srv_start(&test_s, opts);
	test_add("a@x.test", "Subject: a\r\n\r\nA\r\n", 17, 0);
	test_add("b@x.test", "Subject: b\r\n\r\nB\r\n", 17, 0);
	test_start();
	t0 = test_mono();
	assert_true(test_run(test_drained, 15));
	assert_true(test_mono() - t0 >= 2.5);
	assert_true(test_dot_waiting());
	assert_int_equal(test_counts().sent, 2);
	test_check_received(&test_s, "a@x.test", "Subject: a\r\n\r\nA\r\n",
	    17);
	test_check_received(&test_s, "b@x.test", "Subject: b\r\n\r\nB\r\n",
	    17);
	assert_int_equal(test_int("SELECT sum(attempts) FROM outbox"), 2);
	assert_true(test_max_gap < 0.5);
	delivery_stop();
	test_srv_stop(&test_s);
}

/*
 * Stop while libcurl is blocked waiting for the reply to the dot: the
 * socket is shut down from the main thread, so stop returns after its
 * ~3 s grace, and the message stays queued (at-least-once).
 */
static void
test_smtp_stop_dot(void **state)
{
	static const char *const opts[] = { "--delay-dot", "30", NULL };
	double		 t0;

	(void)state;
	test_srv_start(&test_s, opts);
	test_cfg.mail_max_connections = 1;
	test_add("a@x.test", "Subject: a\r\n\r\nA\r\n", 17, 0);
	test_start();
	assert_true(test_run(test_dot_waiting, 5));
	/* The loop keeps turning while the delivery thread is stuck. */
	test_run(test_never, 1);
	assert_true(test_max_gap < 0.5);
	assert_int_equal(delivery_nbusy, 1);
	t0 = test_mono();
	delivery_stop();
	assert_true(test_mono() - t0 < DELIVERY_STOP_WAIT + 1.5);
	assert_true(test_mono() - t0 >= DELIVERY_STOP_WAIT - 0.5);
	assert_int_equal(test_counts().queued, 1);
	assert_int_equal(test_counts().sent, 0);
	assert_int_equal(test_int("SELECT attempts FROM outbox"), 0);
	test_srv_stop(&test_s);
}

/* A reload while a transfer runs: the worker takes the new settings. */
static void
test_smtp_reload_in_flight(void **state)
{
	static const char *const opts[] = { "--delay-dot", "1", NULL };

	(void)state;
	test_srv_start(&test_s, opts);
	test_add("a@x.test", "Subject: a\r\n\r\nA\r\n", 17, 0);
	test_start();
	assert_true(test_run(test_dot_waiting, 5));
	test_cfg.mail_max_connections = 1;
	delivery_set_config(&test_cfg);
	test_add("b@x.test", "Subject: b\r\n\r\nB\r\n", 17, 0);
	delivery_kick();
	assert_true(test_run(test_drained, 10));
	assert_int_equal(test_counts().sent, 2);
	test_check_received(&test_s, "b@x.test", "Subject: b\r\n\r\nB\r\n",
	    17);
	assert_true(test_max_gap < 0.5);
	delivery_stop();
	test_srv_stop(&test_s);
}

static void
test_maildir(void **state)
{
	struct dirent	*de;
	DIR		*d;
	char		 path[512], msg[64], *got;
	int		 i, n = 0, seen[40];
	size_t		 len;
	long		 k;

	(void)state;
	snprintf(test_mddir, sizeof test_mddir, "/tmp/lectern-md-XXXXXX");
	assert_non_null(mkdtemp(test_mddir));
	snprintf(path, sizeof path, "%s/Maildir", test_mddir);
	test_cfg.maildir = strdup(path);
	test_cfg.mail_url = NULL;
	for (i = 0; i < 40; i++) {
		char rcpt[32];

		snprintf(rcpt, sizeof rcpt, "p%d@x.test", i);
		len = (size_t)snprintf(msg, sizeof msg, "Subject: %d\r\n\r\n"
		    ".%d\r\n", i, i);
		test_add(rcpt, msg, len, 0);
	}
	test_start();
	assert_true(test_run(test_drained, 8));
	assert_int_equal(test_counts().sent, 40);
	memset(seen, 0, sizeof seen);
	snprintf(path, sizeof path, "%s/Maildir/new", test_mddir);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/Maildir/new/%s", test_mddir,
		    de->d_name);
		got = test_slurp(path, &len);
		assert_non_null(got);
		assert_int_equal(sscanf(got, "Subject: %ld", &k), 1);
		assert_true(k >= 0 && k < 40);
		snprintf(msg, sizeof msg, "Subject: %ld\r\n\r\n.%ld\r\n", k, k);
		assert_int_equal(len, strlen(msg));
		assert_memory_equal(got, msg, len);
		seen[k]++;
		free(got);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 40);
	for (i = 0; i < 40; i++)
		assert_int_equal(seen[i], 1);
	snprintf(path, sizeof path, "%s/Maildir/tmp", test_mddir);
	assert_int_equal(test_count(path, ""), 0);
	snprintf(path, sizeof path, "%s/Maildir/cur", test_mddir);
	assert_int_equal(access(path, F_OK), 0);
	assert_false(evtimer_pending(delivery_work_ev, NULL));
	/* The maildir transport needs neither libcurl nor the thread. */
	assert_false(delivery_spawned);
	assert_false(curlsym_started());
	{
		json_t *st = delivery_status();

		assert_string_equal(json_string_value(json_object_get(st,
		    "transport")), "maildir");
		json_decref(st);
	}
	delivery_stop();
	free(test_cfg.maildir);
	test_cfg.maildir = NULL;
}

/* Deferred messages arm one timer for the earliest; idle arms none. */
static void
test_timer(void **state)
{
	char	 path[256];
	json_t	*st;
	int64_t	 now = (int64_t)time(NULL);

	(void)state;
	snprintf(test_mddir, sizeof test_mddir, "/tmp/lectern-md-XXXXXX");
	assert_non_null(mkdtemp(test_mddir));
	snprintf(path, sizeof path, "%s/Maildir", test_mddir);
	test_cfg.maildir = strdup(path);
	test_start();
	test_run(test_drained, 0.1);
	assert_false(evtimer_pending(delivery_work_ev, NULL));

	test_add_later(now);
	delivery_kick();
	test_run(test_drained, 0.1);
	assert_true(evtimer_pending(delivery_work_ev, NULL));
	st = delivery_status();
	assert_false(json_is_null(json_object_get(st, "next_attempt")));
	json_decref(st);
	assert_int_equal(delivery_next_at, now + 3600);
	assert_int_equal(test_counts().queued, 1);
	delivery_stop();
	free(test_cfg.maildir);
	test_cfg.maildir = NULL;
}

static void
test_backoff(void **state)
{
	(void)state;
	delivery_cfg = &test_cfg;
	test_cfg.retry_initial = 60;
	test_cfg.retry_max = 3600;
	assert_int_equal(delivery_backoff(0), 60);
	assert_int_equal(delivery_backoff(1), 120);
	assert_int_equal(delivery_backoff(5), 1920);
	assert_int_equal(delivery_backoff(6), 3600);
	assert_int_equal(delivery_backoff(1000), 3600);
	delivery_cfg = NULL;
}

static void
test_sanitise(void **state)
{
	char	 out[32];

	(void)state;
	delivery_sanitise(out, sizeof out, "550-a\r\n550 b\xff\x01", 14);
	assert_string_equal(out, "550-a 550 b??");
	delivery_sanitise(out, 8, "0123456789", 10);
	assert_string_equal(out, "0123456");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_sanitise),
		cmocka_unit_test_setup_teardown(test_smtp_basic, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_lazy, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_tempfail, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_reject_rcpt,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_reject_from,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_auth, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_auth_fail,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_no_auth_offered,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_expire, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_stop_in_flight,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_dot_slow,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_stop_dot,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_smtp_reload_in_flight,
		    test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_maildir, test_setup,
		    test_teardown),
		cmocka_unit_test_setup_teardown(test_timer, test_setup,
		    test_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	if (delivery_init_threads() == -1)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
