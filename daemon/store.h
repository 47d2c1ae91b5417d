/*
 * store.h -- the only module that touches SQLite.
 *
 * A narrow interface: no sqlite3 type or result code leaves store.c, so that
 * another backend (PostgreSQL) can stand behind the same functions. Errors
 * are enum lectern_error values plus a sentence.
 *
 * Writes take plain values (strings borrowed, already validated by the
 * caller); reads produce jansson objects in the protocol's shapes
 * (docs/PROTOCOL.md), owned by the caller. Times are unix seconds (UTC).
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "lectern.h"

/*
 * Open (creating if needed) the database at path: WAL, synchronous=FULL,
 * foreign keys on, a short busy timeout, schema migrated forward to the
 * current PRAGMA user_version. ":memory:" is allowed (tests, fuzzing).
 */
int store_open(const char *path, char *err, size_t errlen);
void store_close(void);
/*
 * The calling thread's own read-only connection (offload.c's reader);
 * every store function then uses it on that thread.
 */
int store_reader_open(const char *path, char *err, size_t errlen);
void store_reader_close(void);

/* Transactions: one per command. A busy database gives LECTERN_E_BUSY. */
enum lectern_error store_begin(void);
/* A read-only transaction (one snapshot, one read lock); store_commit. */
enum lectern_error store_begin_read(void);
enum lectern_error store_commit(void);
/*
 * A transaction whose commit survives a crash of the daemon but is not
 * synced to disk (delivery outcomes: losing one means a duplicate, never
 * a lost message). Ends with store_commit or store_rollback.
 */
enum lectern_error store_begin_light(void);
void store_rollback(void);

/* The schema version this build migrates to (PRAGMA user_version). */
int store_schema_version(void);

/* Row counts for status, kept by triggers so that reading them is cheap. */
struct store_counts {
	int64_t people, groups, sessions, courses;
	int64_t queued, sent, failed, expired;
};
/* Fill c with the current counts. */
enum lectern_error store_counts(struct store_counts *c, char *err,
    size_t errlen);

/* Append one audit row; args_json is the (already abridged) arguments. */
enum lectern_error store_audit(int64_t at, int64_t uid, int64_t pid,
    const char *cmd, const char *args_json, const char *result, char *err,
    size_t errlen);

/* People. Bits of store_person.set: which fields store_person_update changes. */
#define STORE_P_NAME		0x01
#define STORE_P_EMAIL		0x02
#define STORE_P_ORGANIZATION	0x04
#define STORE_P_POSITION	0x08
#define STORE_P_LANG		0x10
#define STORE_P_TAGS		0x20

struct store_person {
	const char	*name, *email, *organization, *position, *lang;
	const char	*tags;		/* a JSON array as text; NULL is [] */
	unsigned	 set;		/* STORE_P_* (update only) */
};

/* Add a person; a duplicate email (any case) is LECTERN_E_CONFLICT. */
enum lectern_error store_person_add(const struct store_person *p,
    int64_t now, int64_t *id, char *err, size_t errlen);
/* Change the fields of person id named in p->set (NULL clears one). */
enum lectern_error store_person_update(int64_t id,
    const struct store_person *p, int64_t now, char *err, size_t errlen);
/* Delete a person with memberships and enrollments (see store_targets). */
enum lectern_error store_person_remove(int64_t id, char *err, size_t errlen);
/*
 * Find a person by email (when email is not NULL) or by id. On success
 * *id_out is the id and email_out (if not NULL) the stored address.
 */
enum lectern_error store_person_find(int64_t id, const char *email,
    int64_t *id_out, char *email_out, size_t email_len, char *err,
    size_t errlen);
/* The person as a new object; with detail, also groups and enrollments. */
enum lectern_error store_person_get(int64_t id, int detail, json_t **out,
    char *err, size_t errlen);

struct store_person_filter {
	const char	*organization;	/* NULL: any */
	int64_t		 group_id;	/* 0: any */
	const char	*tag;		/* NULL: any */
	int64_t		 limit;
};
/* People matching f, ordered by name then id, as a new array. */
enum lectern_error store_person_list(const struct store_person_filter *f,
    json_t **out, char *err, size_t errlen);

/* Groups. */
enum lectern_error store_group_add(const char *name, int64_t now,
    char *err, size_t errlen);
enum lectern_error store_group_remove(int64_t id, char *err, size_t errlen);
/* Find a group by name (case-insensitive). */
enum lectern_error store_group_find(const char *name, int64_t *id,
    char *err, size_t errlen);
/* {"name","members"} and, with people, "people":[person...] as a new object. */
enum lectern_error store_group_get(int64_t id, int people, json_t **out,
    char *err, size_t errlen);
/* Add (add != 0) or remove a member; either is idempotent. */
enum lectern_error store_group_member(int64_t group_id, int64_t person_id,
    int add, int64_t now, char *err, size_t errlen);
/* Every group as {"name","members"}, ordered by name, as a new array. */
enum lectern_error store_group_list(json_t **out, char *err, size_t errlen);
/* The ids of a group's members ordered by name, id; *ids is malloc'd. */
enum lectern_error store_group_people(int64_t group_id, int64_t **ids,
    size_t *n, char *err, size_t errlen);

/* Courses (no commands yet; sessions and enrollments refer to them). */
enum lectern_error store_course_exists(int64_t id, char *err, size_t errlen);

struct store_course {
	const char	*title, *description, *provider;
	int64_t		 hours;		/* -1: not given */
	const char	*first_day, *last_day;	/* "YYYY-MM-DD" */
	int64_t		 capacity;	/* 0: unlimited */
	int		 counts;	/* counts_for_recertification */
};
/* Add a course; its UID becomes "<uid_random>-course-<id>@<domain>". */
enum lectern_error store_course_add(const struct store_course *c,
    const char *uid_random, const char *domain, int64_t now, int64_t *id,
    char *err, size_t errlen);
/* Replace a live course's fields; bump: raise its SEQUENCE. */
enum lectern_error store_course_update(int64_t id,
    const struct store_course *c, int bump, int64_t now, char *err,
    size_t errlen);
enum lectern_error store_course_cancel(int64_t id, const char *reason,
    int64_t now, char *err, size_t errlen);
/* Raise the course's SEQUENCE (a CANCEL to one person). */
enum lectern_error store_course_bump(int64_t id, int64_t now, char *err,
    size_t errlen);
/* The course as a new object, with enrollments and sessions if asked. */
enum lectern_error store_course_get(int64_t id, int detail, json_t **out,
    char *err, size_t errlen);
/* Courses overlapping [from, to] (dates, NULL: open), by first day. */
enum lectern_error store_course_list(const char *from, const char *to,
    const char *status, int64_t limit, json_t **out, char *err,
    size_t errlen);
/* The ids of a course's sessions that are not cancelled; *ids is malloc'd. */
enum lectern_error store_course_sessions(int64_t course_id, int64_t **ids,
    size_t *n, char *err, size_t errlen);

/* Sessions. Strings borrowed; optional ones NULL when unset. */
struct store_session {
	const char	*kind, *title, *description, *location, *url;
	int64_t		 start_utc;
	const char	*start_local;	/* "YYYY-MM-DDTHH:MM:SS" in tz */
	const char	*tz;
	int64_t		 duration;	/* minutes */
	int64_t		 capacity;	/* 0: unlimited */
	const char	*reminders;	/* JSON array of minutes, as text */
	int64_t		 course_id;	/* 0: none */
	const char	*rrule;
};

/*
 * Add a session. Its UID becomes "<uid_random>-<id>@<domain>".
 */
enum lectern_error store_session_add(const struct store_session *s,
    const char *uid_random, const char *domain, int64_t now, int64_t *id,
    char *err, size_t errlen);
/* Rewrite every field of session id from s; bump adds one to sequence. */
enum lectern_error store_session_update(int64_t id,
    const struct store_session *s, int bump, int64_t now, char *err,
    size_t errlen);
/* Mark session id cancelled with reason (may be NULL); bumps sequence. */
enum lectern_error store_session_cancel(int64_t id, const char *reason,
    int64_t now, char *err, size_t errlen);
/* Add one to the SEQUENCE of session id (a CANCEL to one attendee). */
enum lectern_error store_session_bump(int64_t id, int64_t now, char *err,
    size_t errlen);
/* The session as a new object; with enrollments, its enrollment list too. */
enum lectern_error store_session_get(int64_t id, int enrollments,
    json_t **out, char *err, size_t errlen);

struct store_session_filter {
	int		 has_from, has_to;
	int64_t		 from, to;	/* [from, to) on start */
	const char	*kind, *status;	/* NULL: any */
	int64_t		 course_id;	/* 0: any */
	int64_t		 limit;
	int		 series;	/* also series that started before from */
};
/* Sessions matching f ordered by start, as a new array. */
enum lectern_error store_session_list(const struct store_session_filter *f,
    json_t **out, char *err, size_t errlen);

/*
 * Enrollments in a session (course == 0) or a course (course != 0).
 * store_enroll enrolls people[0..n) in order; outcomes[i] becomes one of
 * STORE_ENROLLED, STORE_WAITLISTED (then positions[i] is the place on the
 * waitlist) or STORE_ALREADY. A cancelled target is LECTERN_E_CONFLICT.
 */
#define STORE_ENROLLED		1
#define STORE_WAITLISTED	2
#define STORE_ALREADY		3
enum lectern_error store_enroll(int course, int64_t target,
    const int64_t *people, size_t n, int64_t now, int *outcomes,
    int64_t *positions, char *err, size_t errlen);
/*
 * Remove person from target; *removed is what they were: STORE_ENROLLED,
 * STORE_WAITLISTED, or 0 if they were not in it.
 */
enum lectern_error store_unenroll(int course, int64_t target,
    int64_t person, int *removed, char *err, size_t errlen);
/*
 * Fill free seats of target from the head of its waitlist; append
 * {"id","email"} of each promoted person to promoted (may be NULL).
 */
enum lectern_error store_promote(int course, int64_t target, int64_t now,
    json_t *promoted, char *err, size_t errlen);
/* The sessions (or courses) person is enrolled or waitlisted in. */
enum lectern_error store_targets(int course, int64_t person, int64_t **ids,
    size_t *n, char *err, size_t errlen);
/* The people enrolled (not waitlisted) in a course, in order. */
enum lectern_error store_course_people(int64_t course_id, int64_t **ids,
    size_t *n, char *err, size_t errlen);

/* Outbox rows, newest first, as a new array; state NULL / session 0: any. */
enum lectern_error store_outbox_list(const char *state, int64_t session_id,
    int64_t limit, json_t **out, char *err, size_t errlen);

/* The people enrolled (not waitlisted) in a session, in enrolment order. */
enum lectern_error store_session_people(int64_t session_id, int64_t **ids,
    size_t *n, char *err, size_t errlen);

/* A new outbox row: a whole rendered message and when to send it. */
struct store_outbox_new {
	int64_t		 session_id;	/* 0: none */
	int64_t		 person_id;	/* 0: none */
	const char	*recipient;	/* bare address (the envelope RCPT) */
	const char	*kind;		/* invite, update, cancel, reminder, waitlist */
	const char	*message_id;	/* without <> */
	const char	*message;	/* the RFC 5322 message, CRLF */
	size_t		 len;
	int64_t		 next_attempt;	/* first try (usually now) */
	int64_t		 expires;	/* useless after this instant: 0 = never */
};
/* Queue m (inside the caller's transaction). */
enum lectern_error store_outbox_add(const struct store_outbox_new *m,
    int64_t now, int64_t *id, char *err, size_t errlen);

/* A queued message handed to delivery; fields malloc'd. */
struct store_outbox_msg {
	int64_t		 id;
	char		*recipient;
	char		*message_id;	/* without <> (for logs) */
	char		*message;
	size_t		 len;
	int64_t		 attempts;
	int64_t		 expires;
};
/*
 * Up to max queued messages due at or before now (next_attempt <= now),
 * oldest due first, skipping the ids in skip[0..nskip) (those in flight).
 * *msgs is malloc'd; free with store_outbox_msgs_free.
 */
enum lectern_error store_outbox_due(int64_t now, size_t max,
    const int64_t *skip, size_t nskip, struct store_outbox_msg **msgs,
    size_t *n, char *err, size_t errlen);
void store_outbox_msgs_free(struct store_outbox_msg *msgs, size_t n);
/* The earliest next_attempt of a queued message, or 0 when none is queued. */
enum lectern_error store_outbox_next(int64_t *when, char *err, size_t errlen);
/* Outcomes (each in the caller's transaction; attempts grows by one). */
enum lectern_error store_outbox_sent(int64_t id, int64_t now,
    const char *reply, char *err, size_t errlen);
enum lectern_error store_outbox_defer(int64_t id, int64_t next_attempt,
    const char *reply, char *err, size_t errlen);
enum lectern_error store_outbox_fail(int64_t id, const char *reply,
    char *err, size_t errlen);
/* *yes: a queued message has 0 < expires <= now. */
enum lectern_error store_outbox_expiring(int64_t now, int *yes, char *err,
    size_t errlen);
/* Mark queued messages with 0 < expires <= now as expired; *n how many. */
enum lectern_error store_outbox_expire(int64_t now, int64_t *n, char *err,
    size_t errlen);
/*
 * Re-queue message id (0: every failed and expired one) for now with
 * attempts reset; a passed expiry is cleared; a queued id is made due now.
 * *n how many.
 */
enum lectern_error store_outbox_requeue(int64_t id, int64_t now, int64_t *n,
    char *err, size_t errlen);

/* What store_rsvp did. */
struct store_rsvp_result {
	char	 old[16];	/* the previous answer */
	int	 waitlisted;	/* the person is (was) on the waitlist */
	int	 changed;	/* the answer changed */
	int	 freed;		/* a seat was freed (a decline) */
	int	 rewaited;	/* back from a decline, full: waitlisted */
	int64_t	 position;	/* ... at this position */
};
/*
 * Record a person's answer to a session's invitation (needs_action,
 * accepted, declined, tentative). A decline frees the seat (the caller
 * promotes); taking it back when the seats are gone puts the person at
 * the end of the waitlist.
 */
enum lectern_error store_rsvp(int64_t session_id, int64_t person_id,
    const char *rsvp, struct store_rsvp_result *r, char *err, size_t errlen);
/* The session with this UID. */
enum lectern_error store_session_by_uid(const char *uid, int64_t *id,
    int64_t *sequence, int *cancelled, char *err, size_t errlen);

/*
 * One occurrence of a series, changed or cancelled on its own; text
 * fields NULL: as the series.
 */
struct store_occurrence {
	int64_t		 recurrence_id;	/* its original start */
	int64_t		 start_utc;
	const char	*start_local;
	int64_t		 duration;
	const char	*title, *description, *location, *url;
	int64_t		 sequence;
	int		 cancelled;
	const char	*cancel_reason;
};
enum lectern_error store_occurrence_put(int64_t session_id,
    const struct store_occurrence *o, int64_t now, char *err, size_t errlen);
/* The changed occurrences of a series as a new array, by original start. */
enum lectern_error store_occurrence_list(int64_t session_id, json_t **out,
    char *err, size_t errlen);
/* Forget them all (the series itself was moved or its rule changed). */
enum lectern_error store_occurrence_clear(int64_t session_id, char *err,
    size_t errlen);

/* Reminders (see remind.c); each in the caller's transaction. */
struct store_reminder {
	int64_t	 id, session_id, occurrence, starts, before, due;
};
/* The people a reminder goes to: enrolled, not waitlisted, not declined. */
enum lectern_error store_session_attending(int64_t session_id,
    int64_t **ids, size_t *n, char *err, size_t errlen);
/* The live sessions that repeat (have an rrule). */
enum lectern_error store_series_ids(int64_t **ids, size_t *n, char *err,
    size_t errlen);
/* Start a sync of session_id's pending reminders (see store_remind_put). */
enum lectern_error store_remind_begin(int64_t session_id, char *err,
    size_t errlen);
/*
 * The reminder (session, occurrence, before) should exist, for an
 * occurrence starting at starts: created pending (or missed when its time
 * has passed), or moved with its occurrence. One that fired is never
 * re-armed; one missed is re-armed when it moves into the future.
 */
enum lectern_error store_remind_put(int64_t session_id, int64_t occurrence,
    int64_t starts, int64_t before, int64_t now, char *err, size_t errlen);
/* End the sync: pending reminders not put since store_remind_begin go. */
enum lectern_error store_remind_end(int64_t session_id, char *err,
    size_t errlen);
/* Drop the session's reminders that have not fired (cancelled). */
enum lectern_error store_remind_drop(int64_t session_id, char *err,
    size_t errlen);
/* The earliest due time of a pending reminder, 0 for none. */
enum lectern_error store_remind_next(int64_t *when, char *err, size_t errlen);
/* How many reminders are pending. */
enum lectern_error store_remind_pending(int64_t *n, char *err, size_t errlen);
/* Up to max pending reminders due at or before now, earliest first. */
enum lectern_error store_remind_due(int64_t now, size_t max,
    struct store_reminder *out, size_t *n, char *err, size_t errlen);
/* A pending reminder fired: state "sent" or "expired". */
enum lectern_error store_remind_done(int64_t id, const char *state,
    int64_t now, int64_t recipients, char *err, size_t errlen);
/* The session's reminders as a new array, for session.get. */
enum lectern_error store_remind_list(int64_t session_id, json_t **out,
    char *err, size_t errlen);

/*
 * CPD records (docs/PROTOCOL.md, "CPD records, recertification and
 * reports"). Dates are "YYYY-MM-DD"; hours are tenths of an hour. The
 * report functions (store_recert_scan, store_recert_last,
 * store_completion_list, store_coverage, store_hours) only read.
 */

/* One person's attendance at a session (occurrence 0) or an occurrence. */
struct store_attendance {
	int64_t		 session_id;
	int64_t		 occurrence;	/* 0, or a series' original start */
	int64_t		 person_id;
	const char	*state;		/* "attended" or "absent" */
	int64_t		 minutes;	/* -1: not known */
	const char	*source;	/* "manual" or "import" */
	int64_t		 entered_by, entered_at;
};
/* Mark (or re-mark) a; a single session's enrollment row shows it too. */
enum lectern_error store_attendance_put(const struct store_attendance *a,
    char *err, size_t errlen);
/* A session's attendance (occurrence -1: every one) as a new array. */
enum lectern_error store_attendance_list(int64_t session_id,
    int64_t occurrence, json_t **out, char *err, size_t errlen);
/*
 * The meetings of course_id (live sessions) that person attended: n
 * (session, occurrence) pairs in two malloc'd arrays.
 */
enum lectern_error store_attendance_course(int64_t course_id,
    int64_t person_id, int64_t **sessions, int64_t **occurrences, size_t *n,
    char *err, size_t errlen);

/* A completion to record; strings borrowed. */
struct store_completion {
	int64_t		 person_id;
	int64_t		 course_id;	/* 0: training done elsewhere */
	const char	*title, *provider;	/* provider may be NULL */
	int64_t		 hours;		/* tenths */
	const char	*completed_on;
	int		 counts;	/* counts_for_recertification */
	const char	*source;	/* "attendance", "manual", "import" */
	int64_t		 entered_by, entered_at;
};
/* Record c with the next register number of its year; *id its id. */
enum lectern_error store_completion_add(const struct store_completion *c,
    int64_t *id, char *err, size_t errlen);
/* The completion as a new object. */
enum lectern_error store_completion_get(int64_t id, json_t **out, char *err,
    size_t errlen);
/* Remove completion id; its register number is never given again. */
enum lectern_error store_completion_remove(int64_t id, char *err,
    size_t errlen);
/*
 * person's completion of course_id: *id (0: none), its source and
 * register number (either buffer may be NULL).
 */
enum lectern_error store_completion_of_course(int64_t course_id,
    int64_t person_id, int64_t *id, char *source, size_t sourcelen,
    char *register_no, size_t nolen, char *err, size_t errlen);
/* *yes: person has a completion of this title, provider and date. */
enum lectern_error store_completion_same(int64_t person_id,
    const char *title, const char *provider, const char *completed_on,
    int *yes, char *err, size_t errlen);

struct store_completion_filter {
	const char	*from, *to;	/* inclusive; NULL: open */
	int64_t		 person_id, course_id;	/* 0: any */
	const char	*organization, *source;	/* NULL: any */
	int64_t		 limit;
};
/* The register: completions by completed_on, register_no; a new array. */
enum lectern_error store_completion_list(
    const struct store_completion_filter *f, json_t **out, char *err,
    size_t errlen);

/* A person and their last qualifying completion (borrowed during fn). */
struct store_recert_row {
	int64_t		 person_id;
	const char	*name, *email, *organization, *position, *lang;
	const char	*last_on;	/* NULL: none on or before as_of */
	int64_t		 last_id;
};
/* Return -1 to stop the scan. */
typedef int (*store_recert_fn)(const struct store_recert_row *, void *);
/*
 * Every person (of organization, NULL: all) with the latest of their
 * completions on or before as_of that count for recertification and
 * have at least min_hours, in no particular order.
 */
enum lectern_error store_recert_scan(const char *as_of, int64_t min_hours,
    const char *organization, store_recert_fn fn, void *arg, char *err,
    size_t errlen);
/* Set "last_title" and "last_register_no" of o from completion id. */
enum lectern_error store_recert_last(int64_t id, json_t *o, char *err,
    size_t errlen);
/* One person's last qualifying completion day into last_on ("": none). */
enum lectern_error store_recert_person(int64_t person_id, const char *as_of,
    int64_t min_hours, char *last_on, size_t len, char *err, size_t errlen);

/* One group of report.coverage. */
struct store_coverage_row {
	char	*group;		/* NULL: no organization / position */
	int64_t	 total, trained;
	int64_t	 hours;		/* tenths */
};
/*
 * Coverage over [from, to] per group (by 0: one row, 1: organization,
 * 2: position) of the people of organization (NULL: all); *rows malloc'd,
 * the weakest group first (share trained ascending, then name, the null
 * group last): the order of the report and of the digest.
 */
enum lectern_error store_coverage(int by, const char *from, const char *to,
    int64_t min_hours, const char *organization,
    struct store_coverage_row **rows, size_t *n, char *err, size_t errlen);
void store_coverage_free(struct store_coverage_row *rows, size_t n);

/* One person's hours in a period (report.hours). */
struct store_hours_row {
	int64_t	 person_id;
	char	*email, *name, *organization;
	int64_t	 session_minutes;	/* attended sessions of no course */
	int64_t	 courses, external;	/* tenths */
	int64_t	 records;		/* completions and sessions counted */
};
/*
 * Every person (person_id 0: all; of organization, NULL: all), by id:
 * completions in [from, to] (dates) and attended sessions that start in
 * [from_utc, to_utc). *rows malloc'd.
 */
enum lectern_error store_hours(const char *from, const char *to,
    int64_t from_utc, int64_t to_utc, int64_t person_id,
    const char *organization, struct store_hours_row **rows, size_t *n,
    char *err, size_t errlen);
void store_hours_free(struct store_hours_row *rows, size_t n);

/* A person on a waitlist, with their last qualifying completion. */
struct store_waiting {
	int64_t	 person_id;
	char	 last_on[11];	/* "" for none */
};
/* The waitlist of a session (course 0) or course, in position order. */
enum lectern_error store_waitlist(int course, int64_t target,
    const char *as_of, int64_t min_hours, struct store_waiting **w,
    size_t *n, char *err, size_t errlen);
/* Put a waiting person at position. */
enum lectern_error store_waitlist_set(int course, int64_t target,
    int64_t person_id, int64_t position, char *err, size_t errlen);
/* The person's place on the waitlist of target; 0 when not waiting. */
enum lectern_error store_waitlist_position(int course, int64_t target,
    int64_t person_id, int64_t *position, char *err, size_t errlen);
/* The sessions (course[i] 0) and courses person waits for; malloc'd. */
enum lectern_error store_waiting_for(int64_t person_id, int **course,
    int64_t **targets, size_t *n, char *err, size_t errlen);

/* Recertification notices and digests already queued. */
enum lectern_error store_notice_sent(int64_t person_id, const char *due_on,
    int *yes, char *err, size_t errlen);
enum lectern_error store_notice_add(int64_t person_id, const char *due_on,
    int64_t outbox_id, int64_t now, char *err, size_t errlen);
enum lectern_error store_notice_count(int64_t *n, char *err, size_t errlen);
enum lectern_error store_digest_sent(const char *period, int *yes,
    char *err, size_t errlen);
enum lectern_error store_digest_add(const char *period, int64_t outbox_id,
    int64_t now, char *err, size_t errlen);
/* The period of the latest digest into period ("" for none). */
enum lectern_error store_digest_last(char *period, size_t len, char *err,
    size_t errlen);

#endif
