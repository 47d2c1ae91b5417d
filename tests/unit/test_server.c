/*
 * test_server.c -- server.c over a real socket, driven in-process: the
 * test is the client, and runs the event loop between its steps.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "lectern.h"
#include "commands.h"
#include "config.h"
#include "log.h"
/* The module itself, to reach server_bind. */
#include "../../daemon/server.c"
#include "store.h"

static char test_dir[PATH_MAX];
static char test_sock[PATH_MAX + 32];
static struct config test_cfg;
static struct event_base *test_base;

static int
test_connect(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	assert_true(strlen(test_sock) < sizeof sun.sun_path);
	memcpy(sun.sun_path, test_sock, strlen(test_sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	return fd;
}

/* Run the loop until fd has a whole line (or EOF); returns its length. */
static ssize_t
test_readline(int fd, char *buf, size_t len, double seconds)
{
	struct timespec t0, t;
	size_t have = 0;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		event_base_loop(test_base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		n = recv(fd, buf + have, 1, 0);
		if (n == 1) {
			have++;
			if (buf[have - 1] == '\n' || have == len - 1)
				break;
			continue;
		}
		if (n == 0)
			break;		/* EOF */
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 >
		    seconds)
			return -1;
		usleep(1000);
	}
	buf[have] = '\0';
	return (ssize_t)have;
}

/* Send all of buf, running the loop whenever the socket is full. */
static void
test_send(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		event_base_loop(test_base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
}

static int
test_group_setup(void **state)
{
	char tmpl[] = "/tmp/test_server.XXXXXX";
	char err[256];

	(void)state;
	log_set_level(LOG_LEVEL_ERR);
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(test_dir, sizeof test_dir, "%s", tmpl);
	snprintf(test_sock, sizeof test_sock, "%s/s.sock", test_dir);
	if (config_load(NULL, &test_cfg, NULL, NULL) != 0)
		return -1;
	free(test_cfg.socket);
	test_cfg.socket = strdup(test_sock);
	test_cfg.max_line = LECTERN_LINE_MIN;
	test_cfg.max_clients = 3;
	if (store_open(":memory:", err, sizeof err) == -1 ||
	    commands_start(&test_cfg) == -1)
		return -1;
	return 0;
}

static int
test_group_teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	commands_stop();
	store_close();
	config_cleanup(&test_cfg);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
test_start(void **state)
{
	char err[256];

	(void)state;
	unlink(test_sock);
	test_base = event_base_new();
	assert_non_null(test_base);
	if (server_start(test_base, &test_cfg, -1, err, sizeof err) == -1) {
		fprintf(stderr, "server_start: %s\n", err);
		return -1;
	}
	return 0;
}

static int
test_stop(void **state)
{
	(void)state;
	server_stop();
	event_base_free(test_base);
	test_base = NULL;
	return 0;
}

static void
test_socket_mode_and_greeting(void **state)
{
	struct stat st;
	char line[4096], expect[128];
	int fd;

	(void)state;
	assert_int_equal(lstat(test_sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	fd = test_connect();
	assert_true(test_readline(fd, line, sizeof line, 5) > 0);
	snprintf(expect, sizeof expect, "{\"lectern\":\"%s\",\"protocol\":%d}\n",
	    LECTERN_VERSION, LECTERN_PROTOCOL);
	assert_string_equal(line, expect);
	assert_int_equal(server_clients(), 1);

	/* A request gets exactly one reply line that echoes the id. */
	test_send(fd, "{\"id\":7,\"cmd\":\"status\"}\n", 24);
	assert_true(test_readline(fd, line, sizeof line, 5) > 0);
	assert_non_null(strstr(line, "\"id\":7"));

	/* Not JSON: an error reply, and the connection stays usable. */
	test_send(fd, "nonsense\n", 9);
	assert_true(test_readline(fd, line, sizeof line, 5) > 0);
	assert_non_null(strstr(line, "\"ok\":false"));
	test_send(fd, "{\"id\":8,\"cmd\":\"status\"}\n", 24);
	assert_true(test_readline(fd, line, sizeof line, 5) > 0);
	assert_non_null(strstr(line, "\"id\":8"));
	close(fd);
	/* The server notices the close and frees the client later. */
	for (int i = 0; i < 100 && (server_clients() != 0 ||
	    !TAILQ_EMPTY(&server_dead)); i++) {
		event_base_loop(test_base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_int_equal(server_clients(), 0);
	assert_true(TAILQ_EMPTY(&server_dead));
}

static void
test_pipelined_order(void **state)
{
	char req[64], line[512], want[32];
	char *all;
	size_t off = 0;
	int fd, i, n = 100;

	(void)state;
	fd = test_connect();
	assert_true(test_readline(fd, line, sizeof line, 5) > 0);
	all = malloc((size_t)n * sizeof req);
	assert_non_null(all);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(all + off, sizeof req,
		    "{\"id\":%d,\"cmd\":\"status\"}\n", i);
	test_send(fd, all, off);
	free(all);
	/* More than one batch (32) was sent at once: all are answered, in order. */
	for (i = 0; i < n; i++) {
		assert_true(test_readline(fd, line, sizeof line, 5) > 0);
		snprintf(want, sizeof want, "\"id\":%d,", i);
		assert_non_null(strstr(line, want));
	}
	close(fd);
}

static void
test_too_large(void **state)
{
	char line[512], *big;
	size_t len = LECTERN_LINE_MIN + 100;
	int fd;

	(void)state;
	fd = test_connect();
	assert_true(test_readline(fd, line, sizeof line, 5) > 0);
	big = malloc(len);
	assert_non_null(big);
	memset(big, 'x', len);
	test_send(fd, big, len);	/* no '\n' at all */
	free(big);
	assert_true(test_readline(fd, line, sizeof line, 5) > 0);
	assert_non_null(strstr(line, "\"id\":null"));
	assert_non_null(strstr(line, "too_large"));
	/* Then the server closes. */
	assert_int_equal(test_readline(fd, line, sizeof line, 5), 0);
	close(fd);
}

static void
test_max_clients(void **state)
{
	char line[512];
	int fds[3], fd, i;

	(void)state;
	for (i = 0; i < 3; i++) {
		fds[i] = test_connect();
		assert_true(test_readline(fds[i], line, sizeof line, 5) > 0);
		assert_non_null(strstr(line, "\"protocol\""));
	}
	assert_int_equal(server_clients(), 3);
	fd = test_connect();
	assert_true(test_readline(fd, line, sizeof line, 5) > 0);
	assert_non_null(strstr(line, "\"busy\""));
	assert_non_null(strstr(line, "\"id\":null"));
	assert_int_equal(test_readline(fd, line, sizeof line, 5), 0);
	close(fd);
	for (i = 0; i < 3; i++)
		close(fds[i]);
}

static void
test_eof_mid_line(void **state)
{
	static const char req[] = "{\"id\":1,\"cmd\":\"status\"}\n{\"id\":2,";
	char line[512];
	int fd;

	(void)state;
	fd = test_connect();
	assert_true(test_readline(fd, line, sizeof line, 5) > 0);
	test_send(fd, req, sizeof req - 1);
	shutdown(fd, SHUT_WR);
	/* The complete request is answered, the partial one dropped. */
	assert_true(test_readline(fd, line, sizeof line, 5) > 0);
	assert_non_null(strstr(line, "\"id\":1"));
	assert_int_equal(test_readline(fd, line, sizeof line, 5), 0);
	close(fd);
}

/* A second server on the same path must refuse: one is listening. */
static void
test_live_socket_refused(void **state)
{
	char err[256];

	(void)state;
	/* server.c is a singleton; a second server_start would clobber its
	 * state, so run the check that server_start runs first. */
	assert_int_equal(server_bind(test_sock, err, sizeof err), -1);
	assert_non_null(strstr(err, "another lecternd is listening"));
}

static void
test_bind_cases(void **state)
{
	char path[PATH_MAX + 64], err[256], lng[200];
	struct sockaddr_un sun;
	int fd, s;

	(void)state;
	/* A stale socket (nobody listening) is replaced. */
	snprintf(path, sizeof path, "%s/stale.sock", test_dir);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof sun.sun_path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof sun), 0);
	close(s);
	fd = server_bind(path, err, sizeof err);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);

	/* A regular file is not replaced. */
	snprintf(path, sizeof path, "%s/file", test_dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(server_bind(path, err, sizeof err), -1);
	assert_non_null(strstr(err, "is not a socket"));

	/* Too long for sun_path. */
	memset(lng, 'a', sizeof lng - 1);
	lng[sizeof lng - 1] = '\0';
	lng[0] = '/';
	assert_int_equal(server_bind(lng, err, sizeof err), -1);
	assert_non_null(strstr(err, "longer than"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_mode_and_greeting,
		    test_start, test_stop),
		cmocka_unit_test_setup_teardown(test_pipelined_order,
		    test_start, test_stop),
		cmocka_unit_test_setup_teardown(test_too_large, test_start,
		    test_stop),
		cmocka_unit_test_setup_teardown(test_max_clients, test_start,
		    test_stop),
		cmocka_unit_test_setup_teardown(test_eof_mid_line, test_start,
		    test_stop),
		cmocka_unit_test_setup_teardown(test_live_socket_refused,
		    test_start, test_stop),
		cmocka_unit_test(test_bind_cases),
	};

	return cmocka_run_group_tests(tests, test_group_setup,
	    test_group_teardown);
}
