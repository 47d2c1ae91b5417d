/*
 * ical.h -- iCalendar objects for invitations (RFC 5545/5546), with libical;
 * pure. See ../shared/INVITES.md: every line of it is a requirement here.
 */
#ifndef ICAL_H
#define ICAL_H

#include <stddef.h>
#include <stdint.h>

enum ical_method { ICAL_REQUEST, ICAL_CANCEL };

struct ical_event {
	enum ical_method method;
	const char	*uid;		/* ASCII, on lectern's domain */
	int		 sequence;
	int64_t		 dtstamp;	/* UTC: the time this message is rendered */
	const char	*tz;		/* IANA zone of the session */
	const char	*start_local;	/* "2026-12-01T15:00:00", wall time in tz */
	int64_t		 start_utc;	/* the same instant */
	int		 duration;	/* minutes */
	const char	*summary;
	const char	*description;	/* may be NULL; may contain '\n' */
	const char	*location;	/* may be NULL */
	const char	*url;		/* may be NULL; also appended to DESCRIPTION by the caller if wanted */
	const char	*organizer_name;	/* may be "" */
	const char	*organizer_addr;
	const char	*attendee_name;		/* may be "" */
	const char	*attendee_addr;		/* the one recipient */
	const char	*rrule;		/* RFC 5545 RRULE value, or NULL */
	const char	*recurrence_id_local;	/* one occurrence: its original wall time in tz, or NULL */
	const int64_t	*alarms;	/* VALARM offsets, seconds before start (REQUEST only) */
	size_t		 nalarms;
	int64_t		 range_end_utc;	/* last instant the calendar must describe (series end), 0 = start + duration */
	/* A series' REQUEST: occurrences cancelled (original UTC starts)... */
	const int64_t	*exdates;
	size_t		 nexdates;
	/* ...and changed: each a whole event with recurrence_id_local. */
	const struct ical_event *overrides;
	size_t		 noverrides;
};

/*
 * An all-day entry spanning days (a course's period): what a teacher's
 * calendar shows beside the course's timed meetings.
 */
struct ical_allday {
	enum ical_method method;
	const char	*uid;
	int		 sequence;
	int64_t		 dtstamp;
	const char	*first_day, *last_day;	/* "YYYY-MM-DD", inclusive */
	const char	*summary, *description;	/* description may be NULL */
	const char	*organizer_name, *organizer_addr;
	const char	*attendee_name, *attendee_addr;
};
char *ical_render_allday(const struct ical_allday *ev, char *err,
    size_t errlen);

/*
 * Render a whole VCALENDAR (METHOD, PRODID, VERSION, one VTIMEZONE, one
 * VEVENT) as text: CRLF line ends, lines folded at 75 octets without
 * splitting a UTF-8 character. Returns a malloc'd string, or NULL with err
 * set when a value cannot be emitted safely (a CR, LF where not allowed,
 * NUL or control character in an address, URI or TZID; a non-ASCII UID).
 */
char *ical_render(const struct ical_event *ev, char *err, size_t errlen);

/*
 * A calendar prepared once for many attendees: ev as ical_render would
 * render it, but for its attendee fields, which are ignored. The strings
 * of ev are borrowed and must outlive the result. Returns NULL with err
 * set when ev cannot be rendered; free with ical_prep_free.
 */
struct ical_prep;
struct ical_prep *ical_prep_new(const struct ical_event *ev, char *err,
    size_t errlen);
/*
 * Exactly what ical_render returns for p's event with this attendee
 * (name may be "" or NULL): the prepared text with the attendee's ATTENDEE
 * line in place. Malloc'd, or NULL with err set.
 */
char *ical_prep_render(const struct ical_prep *p, const char *name,
    const char *addr, char *err, size_t errlen);
void ical_prep_free(struct ical_prep *p);

/*
 * A compact VTIMEZONE for zone that is correct for [from, to] (UTC): at
 * most one STANDARD and one DAYLIGHT, yearly RRULE with BYMONTH and BYDAY,
 * no RDATE, no UNTIL, no BYMONTHDAY, DTSTART after 1601, offsets without
 * seconds, TZID the plain IANA name. (Exception: a zone whose changes in
 * the window fit no yearly rule gets one observance per change, without
 * RRULE, exact for the window only; see ical.c.) Returns the text of the
 * component
 * (CRLF, "BEGIN:VTIMEZONE" .. "END:VTIMEZONE\r\n"), malloc'd, or NULL.
 */
char *ical_vtimezone(const char *zone, int64_t from, int64_t to);

/*
 * Free the VTIMEZONE texts that ical_vtimezone keeps (at most 16, each at
 * most 16 KiB, keyed by zone and years); for tests and shutdown.
 */
void ical_cache_clear(void);

#endif
