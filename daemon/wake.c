/*
 * wake.c -- one wall-clock timer; see wake.h.
 *
 * libevent's timers run on CLOCK_MONOTONIC: a reminder armed "in 3 hours"
 * would fire at the wrong wall-clock time after the system's clock is
 * stepped (NTP's first sync on a machine that booted with a bad clock, a
 * virtual machine resumed from suspension). A timerfd armed at an absolute
 * CLOCK_REALTIME instant fires when the wall clock reaches it, whatever
 * happened in between, and TFD_TIMER_CANCEL_ON_SET wakes us when the clock
 * is set so that jobs that became due are run at once.
 */
#include <sys/timerfd.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "wake.h"

static int		 wake_fd = -1;
static struct event	*wake_ev;
static wake_cb		 wake_cbs[WAKE_NCLIENTS];
static int64_t		 wake_due[WAKE_NCLIENTS];
static int64_t		 wake_armed;	/* what the timerfd is set to */
static int		 wake_in_run;	/* inside wake_run: arm once, after */

int64_t
wake_next(void)
{
	int64_t	 next = 0;
	int	 i;

	for (i = 0; i < WAKE_NCLIENTS; i++)
		if (wake_due[i] != 0 && (next == 0 || wake_due[i] < next))
			next = wake_due[i];
	return next;
}

/* Set the timerfd to the earliest due time (or disarm it). */
static void
wake_arm(void)
{
	struct itimerspec	 its;
	int64_t			 next = wake_next(), real;

	if (wake_fd == -1 || wake_in_run || next == wake_armed)
		return;
	memset(&its, 0, sizeof its);
	if (next != 0) {
		/* The kernel's clock, not the (test) clock the jobs use. */
		real = next - clock_offset();
		/* 0 would disarm: anything already due fires at once. */
		its.it_value.tv_sec = real > 0 ? (time_t)real : 1;
	}
	if (timerfd_settime(wake_fd, TFD_TIMER_ABSTIME |
	    TFD_TIMER_CANCEL_ON_SET, &its, NULL) == -1) {
		log_warn("wake: timerfd_settime: %s", strerror(errno));
		return;
	}
	wake_armed = next;
}

/*
 * Run every client that is due; each says when it is due next. A client
 * with more work than one pass should do sets a time already past: the
 * timer then fires again at once, after the loop has served its clients.
 */
static void
wake_run(void)
{
	int64_t	 now = clock_now();
	int	 i;

	wake_in_run = 1;
	for (i = 0; i < WAKE_NCLIENTS; i++) {
		if (wake_due[i] == 0 || wake_due[i] > now ||
		    wake_cbs[i] == NULL)
			continue;
		wake_due[i] = 0;
		wake_cbs[i](now);
	}
	wake_in_run = 0;
	wake_armed = -1;
	wake_arm();
}

static void
wake_fd_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t	 n;

	(void)what;
	(void)arg;
	if (read(fd, &n, sizeof n) == -1) {
		if (errno == ECANCELED) {
			/* The clock was set: anything may be due now. */
			log_info("wake: the system clock was set; "
			    "checking what is due");
		} else if (errno != EAGAIN && errno != EINTR) {
			log_warn("wake: read timerfd: %s", strerror(errno));
		}
	}
	wake_run();
}

int
wake_start(struct event_base *base, char *err, size_t errlen)
{
	wake_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (wake_fd == -1) {
		snprintf(err, errlen, "timerfd_create: %s", strerror(errno));
		return -1;
	}
	wake_ev = event_new(base, wake_fd, EV_READ | EV_PERSIST, wake_fd_cb,
	    NULL);
	if (wake_ev == NULL || event_add(wake_ev, NULL) == -1) {
		snprintf(err, errlen, "cannot watch the timerfd");
		wake_stop();
		return -1;
	}
	if (clock_watch(base, wake_run, err, errlen) == -1) {
		wake_stop();
		return -1;
	}
	wake_armed = -1;
	wake_arm();
	return 0;
}

void
wake_stop(void)
{
	clock_unwatch();
	if (wake_ev != NULL)
		event_free(wake_ev);
	wake_ev = NULL;
	if (wake_fd != -1)
		close(wake_fd);
	wake_fd = -1;
	memset(wake_due, 0, sizeof wake_due);
	wake_armed = 0;
}

int
wake_running(void)
{
	return wake_fd != -1;
}

void
wake_register(enum wake_client c, wake_cb cb)
{
	wake_cbs[c] = cb;
}

void
wake_set(enum wake_client c, int64_t due)
{
	wake_due[c] = due;
	wake_arm();
}
