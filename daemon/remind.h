/*
 * remind.h -- reminders: keeps each session's reminders in step with the
 * session, and when one falls due renders the reminder e-mail for
 * everyone enrolled at that moment and queues it in the outbox.
 */
#ifndef REMIND_H
#define REMIND_H

#include <stddef.h>
#include <stdint.h>

#include "lectern.h"

struct config;

void remind_set_config(const struct config *cfg);

/* Register with sched, extend open-ended series, arm for the first due. */
int remind_start(char *err, size_t errlen);
void remind_stop(void);

/*
 * Bring session_id's reminders in line with the session as stored now
 * (created, moved, its offsets or rule changed, cancelled). Runs inside
 * the caller's transaction.
 */
enum lectern_error remind_sync(int64_t session_id, int64_t now, char *err,
    size_t errlen);

/* After a commit that may have changed reminders: re-arm the timer. */
void remind_arm(void);

/* The next due reminder (0: none) and how many are pending, for status. */
void remind_status(int64_t *next, int64_t *pending);

#endif
