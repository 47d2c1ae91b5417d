/*
 * recert.h -- the recertification cycle: calendar days, a cycle added to
 * a day, a person's status; pure (no I/O, no clock, no time zones).
 *
 * A day is a day number: days since 1970-01-01 in the proleptic Gregorian
 * calendar (tz_days_from_civil's numbering), so that days compare and
 * subtract as integers. Which day "today" is, is the caller's business
 * (the daemon's zone).
 */
#ifndef RECERT_H
#define RECERT_H

#include <stddef.h>
#include <stdint.h>

/* A cycle: whole months (a year is 12) added to the date, then days. */
struct recert_cycle {
	int	 months;
	int	 days;
};

enum recert_status {
	RECERT_NEVER,		/* no qualifying completion */
	RECERT_OVERDUE,		/* the day is after the due day */
	RECERT_DUE_SOON,	/* due today or within due_soon days */
	RECERT_OK,
	RECERT_NSTATUS
};

/* The longest cycle accepted (in months), and of due_soon (in days). */
#define RECERT_CYCLE_MONTHS_MAX	(50 * 12)
#define RECERT_CYCLE_DAYS_MAX	(50 * 366)

/* The day number of y-m-d (no check). */
int64_t recert_day(int y, int m, int d);
/* The calendar date of day. */
void recert_civil(int64_t day, int *y, int *m, int *d);
/* Days in month m (1..12) of year y. */
int recert_days_in_month(int y, int m);
/*
 * A date "YYYY-MM-DD" (exactly ten characters, a day that exists, years
 * 1900..9999) into *day; 0, or -1 if it is not one.
 */
int recert_parse_day(const char *s, int64_t *day);
/* day as "YYYY-MM-DD" (len >= 11). */
void recert_format_day(int64_t day, char *buf, size_t len);

/*
 * months added to the calendar date of day: the same day of the month,
 * or the month's last day when it has fewer (31 January + 1 month is 28
 * or 29 February; 29 February + 12 months is 28 February).
 */
int64_t recert_add_months(int64_t day, int months);
/* The day a completion on last falls due: months, then days, added. */
int64_t recert_due(int64_t last, const struct recert_cycle *c);
/*
 * The first day of the cycle window that ends on today (the reports'
 * default period): the first day whose completion is due on or after
 * today, so that the people trained in the window are exactly those not
 * overdue (about today minus the cycle).
 */
int64_t recert_window_start(int64_t today, const struct recert_cycle *c);
/*
 * The status on day as_of of a person whose last qualifying completion
 * (on or before as_of) is last (has_last 0: none); *due (may be NULL)
 * gets the due day when there is one.
 */
enum recert_status recert_status(int has_last, int64_t last, int64_t as_of,
    const struct recert_cycle *c, int64_t due_soon_days, int64_t *due);
/* "never", "overdue", "due_soon", "ok". */
const char *recert_status_name(enum recert_status s);
/* The status named s, or -1. */
int recert_status_parse(const char *s);

/*
 * A cycle written as numbers with units y (years), m (months), d (days),
 * in that order, each at most once: "3y", "36m", "1y6m", "1095d". Returns
 * 0, or -1 with a sentence naming field in err.
 */
int recert_parse_cycle(const char *s, const char *field,
    struct recert_cycle *c, char *err, size_t errlen);
/* The cycle in the same notation, years where months make them ("3y"). */
void recert_format_cycle(const struct recert_cycle *c, char *buf,
    size_t len);

/*
 * The digest's period of day: "YYYY-MM" (monthly) or the ISO 8601 week
 * "YYYY-Www" (weekly; the year the week's Thursday falls in).
 */
void recert_period(int64_t day, int weekly, char *buf, size_t len);

#endif
