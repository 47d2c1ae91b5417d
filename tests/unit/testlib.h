/*
 * testlib.h -- set-up shared by the unit tests. Every test_*.c is built
 * into its own program, so the helpers are static inline here rather
 * than a library of their own.
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <stdio.h>
#include <string.h>

#include "../../daemon/store.h"

/* cmocka set-up: an empty ":memory:" store for the test. */
static inline int
testlib_store_setup(void **state)
{
	char	 err[256];

	(void)state;
	if (store_open(":memory:", err, sizeof err) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	return 0;
}

/* cmocka tear-down: the store of testlib_store_setup closed. */
static inline int
testlib_store_teardown(void **state)
{
	(void)state;
	store_close();
	return 0;
}

/* m: an outbox row to rcpt of kind, Message-ID mid, msg of len octets. */
static inline void
testlib_outbox_new(struct store_outbox_new *m, const char *rcpt,
    const char *kind, const char *mid, const char *msg, size_t len)
{
	memset(m, 0, sizeof *m);
	m->recipient = rcpt;
	m->kind = kind;
	m->message_id = mid;
	m->message = msg;
	m->len = len;
}

#endif
