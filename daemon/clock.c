/*
 * clock.c -- the daemon's wall clock; see clock.h.
 *
 * The test clock is compiled only into test builds (LECTERN_TESTHOOKS):
 * an installed lecternd has no way to be told another time.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"

#ifdef LECTERN_TESTHOOKS
#include <sys/inotify.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

static int64_t		 clock_off;
static int		 clock_loaded;
static int		 clock_ifd = -1;
static struct event	*clock_ev;
static void		(*clock_stepped)(void);

/* Read the offset (decimal seconds, may be negative) from the file. */
static void
clock_load(void)
{
	const char	*path = getenv("LECTERN_TEST_CLOCK");
	char		 buf[64];
	ssize_t		 n;
	long long	 v;
	char		*end;
	int		 fd;

	clock_loaded = 1;
	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || end == buf)
		return;
	clock_off = (int64_t)v;
}

int64_t
clock_offset(void)
{
	if (!clock_loaded)
		clock_load();
	return clock_off;
}

int64_t
clock_now(void)
{
	return (int64_t)time(NULL) + clock_offset();
}

static void
clock_inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	char	 buf[4096] __attribute__((aligned(8)));
	int64_t	 before = clock_off;

	(void)what;
	(void)arg;
	while (read(fd, buf, sizeof buf) > 0)
		;
	clock_load();
	if (clock_off != before) {
		log_info("test clock: offset %lld s", (long long)clock_off);
		if (clock_stepped != NULL)
			clock_stepped();
	}
}

int
clock_watch(struct event_base *base, void (*stepped)(void), char *err,
    size_t errlen)
{
	const char	*path = getenv("LECTERN_TEST_CLOCK");
	char		 dir[PATH_MAX];

	clock_load();
	if (path == NULL)
		return 0;
	/* The directory: a test replaces the file with rename(2). */
	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
		snprintf(err, errlen, "LECTERN_TEST_CLOCK: path too long");
		return -1;
	}
	clock_stepped = stepped;
	if ((clock_ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(clock_ifd, dirname(dir), IN_CLOSE_WRITE |
	    IN_MOVED_TO) == -1) {
		snprintf(err, errlen, "LECTERN_TEST_CLOCK: inotify: %s",
		    strerror(errno));
		return -1;
	}
	clock_ev = event_new(base, clock_ifd, EV_READ | EV_PERSIST,
	    clock_inotify_cb, NULL);
	if (clock_ev == NULL || event_add(clock_ev, NULL) == -1) {
		snprintf(err, errlen, "LECTERN_TEST_CLOCK: cannot watch");
		return -1;
	}
	log_info("test clock: %s, offset %lld s", path, (long long)clock_off);
	return 0;
}

void
clock_unwatch(void)
{
	if (clock_ev != NULL)
		event_free(clock_ev);
	clock_ev = NULL;
	if (clock_ifd != -1)
		close(clock_ifd);
	clock_ifd = -1;
	clock_stepped = NULL;
}

#else /* !LECTERN_TESTHOOKS */

int64_t
clock_offset(void)
{
	return 0;
}

int64_t
clock_now(void)
{
	return (int64_t)time(NULL);
}

int
clock_watch(struct event_base *base, void (*stepped)(void), char *err,
    size_t errlen)
{
	(void)base;
	(void)stepped;
	(void)err;
	(void)errlen;
	return 0;
}

void
clock_unwatch(void)
{
}

#endif
