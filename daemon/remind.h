/*
 * remind.h -- reminders: keeps each session's reminders in step with the
 * session, and when one falls due renders the reminder e-mail for
 * everyone enrolled at that moment and queues it in the outbox.
 */
#ifndef REMIND_H
#define REMIND_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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

/*
 * For status: how many reminders fired since the start, and how late the
 * last ones (up to 1024) were handed to the outbox after their due time
 * ({"fired":N,"handoff_ms":{"n","p50","p99","max"}}); a new object.
 */
json_t *remind_stats(void);

#endif
