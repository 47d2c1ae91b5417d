/*
 * mail.h -- whole RFC 5322 messages for teachers: the text from templates
 * (config/templates/<lang>/), the MIME structure, the headers; pure apart
 * from loading the templates once at start.
 *
 * The message is rendered once, stored whole in the outbox and sent byte
 * for byte as stored (a retry or a restart re-sends identical bytes with
 * the same Message-ID). That is why the MIME structure is written here and
 * not with curl_mime, which composes the body (with a fresh random
 * boundary) at transfer time.
 */
#ifndef MAIL_H
#define MAIL_H

#include <stddef.h>
#include <stdint.h>

enum mail_kind {
	MAIL_INVITE,		/* REQUEST: a new invitation */
	MAIL_UPDATE,		/* REQUEST: the session changed ("Updated: ...") */
	MAIL_CANCEL,		/* CANCEL: cancelled, or the person was unenrolled */
	MAIL_REMINDER,		/* no calendar part */
	MAIL_WAITLIST,		/* no calendar part: "you are on the waiting list" */
	MAIL_COURSE_INVITE,	/* REQUEST: a course's all-day entry */
	MAIL_COURSE_UPDATE,	/* REQUEST: the course changed */
	MAIL_COURSE_CANCEL,	/* CANCEL: the course, or the person left it */
	MAIL_COURSE_WAITLIST,	/* no calendar part: on a course's waiting list */
	MAIL_RECERT_NOTICE,	/* no calendar part: recertification falls due */
	MAIL_RECERT_DIGEST,	/* no calendar part: the coordinators' digest */
};

/* The coordinators' digest (MAIL_RECERT_DIGEST); strings borrowed. */
struct mail_digest_group {
	const char	*name;		/* NULL: no organization */
	int64_t		 total, trained;
	int64_t		 permille;	/* trained per thousand, rounded down */
};
struct mail_digest_person {
	const char	*name, *email, *organization;	/* organization may be NULL */
	const char	*due;		/* "YYYY-MM-DD" */
	int64_t		 days;		/* days overdue */
};
struct mail_digest {
	const char	*period;	/* "2026-11" or "2026-W48" */
	const char	*from, *to;	/* the cycle window, "YYYY-MM-DD" */
	int64_t		 total, trained, permille;
	int64_t		 hours;		/* tenths */
	int64_t		 ok, due_soon, overdue, never;
	const struct mail_digest_group *groups;	/* by organization */
	size_t		 ngroups;
	const struct mail_digest_person *late;	/* the overdue list */
	size_t		 nlate;
	int64_t		 more;		/* overdue people not listed */
};

/* What a message says; strings borrowed, optional ones NULL. */
struct mail_message {
	enum mail_kind	 kind;
	const char	*lang;		/* template language; unknown -> the default */
	const char	*from_name;	/* organizer display name, may be "" */
	const char	*from_addr;
	const char	*to_name;	/* may be "" */
	const char	*to_addr;
	const char	*domain;	/* Message-ID right-hand side */
	int64_t		 date;		/* Date header (UTC seconds) */
	/* The session, for the templates. */
	const char	*session_kind;	/* "webinar", ... */
	const char	*title;
	const char	*description;
	const char	*location;
	const char	*url;
	const char	*course;	/* course title */
	const char	*reason;	/* cancellation reason */
	const char	*tz;
	int64_t		 start_utc;
	int		 duration;	/* minutes */
	const char	*rrule;		/* shown in words if set */
	int		 waitlist_position;
	/* A course's messages. */
	const char	*first_day, *last_day;	/* "YYYY-MM-DD" */
	const char	*provider;
	int64_t		 hours;		/* 0: not shown */
	int64_t		 remind_before;	/* reminders: seconds before start */
	/* A recertification notice: the due day and the last completion. */
	const char	*due;		/* "YYYY-MM-DD" */
	int64_t		 days_left;
	const char	*last_title, *last_completed_on;
	const struct mail_digest *digest;	/* MAIL_RECERT_DIGEST */
	/* The calendar part (CRLF text from ical_render), NULL for none. */
	const char	*ical;
	const char	*ical_method;	/* "REQUEST" or "CANCEL"; must equal METHOD: in ical */
};

/*
 * Load the templates under dir (dir/<lang>/...); default_lang must exist.
 * Returns 0, or -1 with err naming the file and problem.
 */
int mail_start(const char *dir, const char *default_lang, char *err,
    size_t errlen);
void mail_stop(void);

/*
 * Render m as a whole message: CRLF only, no bare LF, no line over 998
 * octets, every header ASCII (RFC 2047 encoded-words for non-ASCII text,
 * never splitting a UTF-8 character), no CR/LF/NUL from any value in any
 * header. Structure: multipart/mixed { multipart/alternative { text/plain,
 * text/html, text/calendar; method=M; charset=UTF-8 }, application/ics
 * invite.ics (identical to the inline part) }; without a calendar part a
 * multipart/alternative of text and html. ical is required for
 * MAIL_INVITE, MAIL_UPDATE (REQUEST) and MAIL_CANCEL (CANCEL) and ignored
 * for the others (title too is optional for MAIL_RECERT_NOTICE and
 * MAIL_RECERT_DIGEST, which are about no session); it must have one METHOD equal to ical_method, exactly
 * one ATTENDEE (to_addr) and the ORGANIZER from_addr, or the message is
 * refused. Returns the malloc'd message
 * (length in *len) and, in *message_id (malloc'd, without <>), its
 * Message-ID; NULL with err set when a value cannot be emitted safely.
 */
char *mail_render(const struct mail_message *m, size_t *len,
    char **message_id, char *err, size_t errlen);

/*
 * A message prepared once for many recipients of the same session, kind
 * and language: m as mail_render takes it, but to_name is ignored, and
 * ical is the calendar for a placeholder attendee to_addr (both read only
 * here). The other strings of m are borrowed and must outlive the result.
 * Returns NULL with err set when m cannot be rendered; free with
 * mail_prep_free.
 */
struct mail_prep;
struct mail_prep *mail_prep_new(const struct mail_message *m, char *err,
    size_t errlen);
/*
 * Exactly what mail_render returns (fresh Message-ID and boundaries aside)
 * for p's message with to_name, to_addr and ical (the calendar for this
 * recipient) in place of m's; p keeps scratch space between calls.
 */
char *mail_prep_render(struct mail_prep *p, const char *to_name,
    const char *to_addr, const char *ical, size_t *len, char **message_id,
    char *err, size_t errlen);
void mail_prep_free(struct mail_prep *p);

#endif
