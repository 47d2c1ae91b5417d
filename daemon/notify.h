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

/*
 * One occurrence (original start rid) of a series was changed or
 * cancelled: a REQUEST or CANCEL for it alone (RECURRENCE-ID) to everyone
 * enrolled.
 */
enum lectern_error notify_occurrence_all(int64_t session_id, int64_t rid,
    enum mail_kind kind, const char *reason, int64_t now, char *err,
    size_t errlen);

/*
 * A reminder e-mail about the session (occurrence: 0, or the original
 * start of one occurrence of a series) that starts at starts.
 */
enum lectern_error notify_reminder(int64_t session_id, int64_t occurrence,
    int64_t starts, const int64_t *people, size_t n, int64_t now, char *err,
    size_t errlen);

/* The waitlist notice, with each person's place (positions[i]). */
enum lectern_error notify_waitlist(int64_t session_id, const int64_t *people,
    const int64_t *positions, size_t n, int64_t now, char *err,
    size_t errlen);

/*
 * The course's own calendar entry (an all-day event over its period) to
 * people: kind MAIL_COURSE_INVITE or _UPDATE (REQUEST), _CANCEL, or the
 * course's waitlist notice (_WAITLIST, with positions).
 */
enum lectern_error notify_course(int64_t course_id, enum mail_kind kind,
    const int64_t *people, const int64_t *positions, size_t n,
    const char *reason, int64_t now, char *err, size_t errlen);
enum lectern_error notify_course_all(int64_t course_id, enum mail_kind kind,
    const char *reason, int64_t now, char *err, size_t errlen);

/*
 * A recertification notice to person_id (their language): due on due
 * ("YYYY-MM-DD", days_left from today), after last_title completed on
 * last_completed_on. *outbox_id gets the queued row's id.
 */
enum lectern_error notify_recert_notice(int64_t person_id, const char *due,
    int64_t days_left, const char *last_title, const char *last_completed_on,
    int64_t now, int64_t *outbox_id, char *err, size_t errlen);
/* The coordinators' digest d to to_addr, in the default language. */
enum lectern_error notify_recert_digest(const struct mail_digest *d,
    const char *to_addr, int64_t now, int64_t *outbox_id, char *err,
    size_t errlen);

#endif
