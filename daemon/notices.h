/*
 * notices.h -- the daily recertification run: one notice to each teacher
 * whose recertification becomes due soon, and the coordinators' periodic
 * digest, both through the outbox and never twice (docs/PROTOCOL.md,
 * "Notices and the digest").
 */
#ifndef NOTICES_H
#define NOTICES_H

#include <stddef.h>

#include <jansson.h>

struct config;

/* Borrow cfg ([recertification], zone, mail); again after a reload. */
void notices_set_config(const struct config *cfg);

/* Register with wake and run once now (start-up); -1 with err set. */
int notices_start(char *err, size_t errlen);
void notices_stop(void);

/*
 * For status: {"next_run","notices_sent","last_digest"} as a new object
 * (notices_sent: notices ever queued; last_digest: its period or null).
 */
json_t *notices_status(void);

#endif
