/*
 * notify.h -- what teachers must be told: renders the invitations, updates
 * and cancellations of a session for chosen people (ical + mail) and
 * queues them in the outbox, inside the caller's transaction.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "lectern.h"
#include "mail.h"

struct config;

void notify_set_config(const struct config *cfg);

/*
 * Queue one message of kind about session_id for each of people[0..n)
 * (reason: the cancellation reason, may be NULL). Must run inside a store
 * transaction; nothing is queued if it fails.
 */
enum lectern_error notify_session(int64_t session_id, enum mail_kind kind,
    const int64_t *people, size_t n, const char *reason, int64_t now,
    char *err, size_t errlen);

/* The same for everyone enrolled (not waitlisted) in session_id. */
enum lectern_error notify_session_all(int64_t session_id,
    enum mail_kind kind, const char *reason, int64_t now, char *err,
    size_t errlen);

#endif
