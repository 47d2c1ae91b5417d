/*
 * wake.h -- one wall-clock timer for everything that falls due at a time
 * (reminders, outbox retries, notices).
 *
 * Each client says when it next has work (wake_set); wake arms a single
 * timerfd on CLOCK_REALTIME for the earliest of them, absolute and with
 * TFD_TIMER_CANCEL_ON_SET, so that a job fires at its wall-clock time even
 * when the system's clock is stepped, and the daemon does not poll.
 */
#ifndef WAKE_H
#define WAKE_H

#include <stdint.h>

struct event_base;

enum wake_client {
	WAKE_DELIVERY,
	WAKE_REMINDERS,
	WAKE_RECERT,		/* the daily recertification run (notices.c) */
	WAKE_NCLIENTS
};

/* Called when the client's time has come, with the wall clock's now. */
typedef void (*wake_cb)(int64_t now);

int wake_start(struct event_base *base, char *err, size_t errlen);
void wake_stop(void);

void wake_register(enum wake_client c, wake_cb cb);

/* The client's next due time (seconds, UTC), or 0 for none. */
void wake_set(enum wake_client c, int64_t due);

/* 1 once wake_start succeeded (until wake_stop). */
int wake_running(void);

/* The earliest due time over all clients, 0 for none. */
int64_t wake_next(void);

#endif
