/*
 * clock.h -- the daemon's wall clock.
 *
 * Every wall-clock reading of the daemon (what is due, what has expired,
 * the audit's "when") goes through clock_now(). In a normal build it is
 * the system's clock. A test build (make TESTHOOKS=1, or the
 * build/lecternd-test that the test suite runs) adds an offset read from
 * the file named by LECTERN_TEST_CLOCK, so that a test can move the
 * daemon's clock forward and back without touching the machine's.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

struct event_base;

/* Seconds since the epoch, UTC. */
int64_t clock_now(void);

/* Seconds to add to the system's clock to get clock_now() (0 normally). */
int64_t clock_offset(void);

/*
 * Test builds: watch the test clock's file and call stepped() after each
 * change, as the kernel's timerfd does for a step of the system's clock.
 * Returns 0 (also when there is nothing to watch), -1 on error.
 */
int clock_watch(struct event_base *base, void (*stepped)(void), char *err,
    size_t errlen);
void clock_unwatch(void);

#endif
