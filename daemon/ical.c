/*
 * ical.c -- iCalendar objects for invitations (RFC 5545/5546), with libical;
 * pure. See ../shared/INVITES.md: every line of it is a requirement here.
 *
 * The calendar is built with libical and serialised by it; the text then
 * goes through one pass of our own (ical_finish) that unfolds libical's
 * lines, double-quotes every CN parameter and folds again. Zone facts
 * (offsets, abbreviations, wall times) come from common/tz.c only, which
 * repairs libical's post-2038 errors for some zones; the VTIMEZONE is
 * derived from those facts instead of libical's built-in components,
 * whose TZIDs carry a "/freeassociation.sourceforge.net/" prefix and whose
 * many UNTIL-bounded observances Outlook and Thunderbird mishandle.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libical/ical.h>

#include "lectern.h"
#include "tz.h"
#include "valid.h"
#include "buf.h"
#include "ical.h"

#define ICAL_PRODID	"-//lectern//lectern 0.1//EN"
/* Octets per physical line, CRLF not counted (RFC 5545 3.1). */
#define ICAL_FOLD	75
#define ICAL_UID_MAX	255
/* Longest span of years one VTIMEZONE may describe. */
#define ICAL_TZ_YEARS_MAX 200
/*
 * Years a VTIMEZONE may cover: the window starts a year before, and
 * libical 3.0.16's icaltime_as_timet() (ical_secs) gives -1 before 1902.
 */
#define ICAL_TZ_YEAR_MIN 1903
#define ICAL_TZ_YEAR_MAX 9997
/* More transitions than any real zone has in ICAL_TZ_YEARS_MAX years. */
#define ICAL_TZ_TRANS_MAX 1024
/* Bounds of the VTIMEZONE cache; see ical_tzcache_get(). */
#define ICAL_TZCACHE_SIZE 16
#define ICAL_TZCACHE_TEXT_MAX 16384
#define ICAL_ZONE_MAX	64
#define ICAL_ALARMS_MAX	LECTERN_REMINDERS_MAX
/* Occurrences expanded to find where a series ends (range_end_utc 0). */
#define ICAL_SERIES_MAX	1000
#define ICAL_SERIES_YEARS 5

/* One change of the zone's offset: the first instant of the new offset. */
struct ical_trans {
	int64_t	t;
	int	before, after;
};

/* A yearly rule: the nth (-1 = last) weekday wday (1 = Sunday) of month. */
struct ical_rule {
	int	month, nth, wday, secs;	/* secs: time of day, old offset */
	int	before, after;
};

static struct ical_tzcache_entry {
	char	 zone[ICAL_ZONE_MAX + 1];
	int	 y0, y1;
	char	*text;
} ical_tzcache[ICAL_TZCACHE_SIZE];
static size_t ical_tzcache_next;

static const char *const ical_wdays[] = {
	"", "SU", "MO", "TU", "WE", "TH", "FR", "SA"
};

static void ical_error(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
ical_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The civil time (UTC fields, floating) of seconds since the epoch. */
static struct icaltimetype
ical_civil(int64_t t)
{
	struct icaltimetype tt;

	tt = icaltime_from_timet_with_zone((time_t)t, 0,
	    icaltimezone_get_utc_timezone());
	tt.zone = NULL;
	return tt;
}

/* Seconds since the epoch of civil fields read as UTC. */
static int64_t
ical_secs(int year, int month, int day, int secs)
{
	struct icaltimetype tt = icaltime_null_time();

	tt.year = year;
	tt.month = month;
	tt.day = day;
	return (int64_t)icaltime_as_timet(tt) + secs;
}

static int
ical_offset(const char *zone, int64_t t, int *off)
{
	return tz_offset_at(zone, t, off);
}

/* An offset as +hhmm: seconds rounded away (RFC 5545 has them, Outlook not). */
static void
ical_fmt_offset(int off, char *buf, size_t len)
{
	int	a = off < 0 ? -off : off;

	a = (a + 30) / 60;
	snprintf(buf, len, "%c%02d%02d", off < 0 ? '-' : '+', a / 60, a % 60);
}

/* The wall time of t at offset off as 19700101T000000. */
static void
ical_fmt_wall(int64_t t, int off, char *buf, size_t len)
{
	struct icaltimetype w = ical_civil(t + off);

	snprintf(buf, len, "%04d%02d%02dT%02d%02d%02d", w.year, w.month,
	    w.day, w.hour, w.minute, w.second);
}

/*
 * The zone's transitions in [ws, we]: one step a day, then bisection to
 * the second. Two changes within one day that cancel out are not seen;
 * tzdata has none in the years sessions are planned for.
 */
static int
ical_tz_scan(const char *zone, int64_t ws, int64_t we,
    struct ical_trans **out, size_t *nout)
{
	struct ical_trans	*tr = NULL, *ntr;
	size_t			 n = 0, cap = 0;
	int64_t			 t = ws, next, lo, hi, mid;
	int			 cur, o;

	if (ical_offset(zone, t, &cur) == -1)
		goto fail;
	while (t < we) {
		next = t + 86400 < we ? t + 86400 : we;
		if (ical_offset(zone, next, &o) == -1)
			goto fail;
		if (o == cur) {
			t = next;
			continue;
		}
		lo = t;
		hi = next;
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if (ical_offset(zone, mid, &o) == -1)
				goto fail;
			if (o == cur)
				lo = mid;
			else
				hi = mid;
		}
		if (ical_offset(zone, hi, &o) == -1)
			goto fail;
		if (n == cap) {
			if (cap >= ICAL_TZ_TRANS_MAX)
				goto fail;
			cap = cap == 0 ? 16 : cap * 2;
			if ((ntr = realloc(tr, cap * sizeof *tr)) == NULL)
				goto fail;
			tr = ntr;
		}
		tr[n].t = hi;
		tr[n].before = cur;
		tr[n].after = o;
		n++;
		cur = o;
		t = hi;
	}
	*out = tr;
	*nout = n;
	return 0;
fail:
	free(tr);
	return -1;
}

/* The UTC instant at which rule r fires in year y. */
static int64_t
ical_rule_at(const struct ical_rule *r, int year)
{
	struct icaltimetype	tt = icaltime_null_date();
	int			day, dim, dow;

	dim = icaltime_days_in_month(r->month, year);
	tt.year = year;
	tt.month = r->month;
	if (r->nth > 0) {
		tt.day = 1;
		dow = icaltime_day_of_week(tt);
		day = 1 + (r->wday - dow + 7) % 7 + 7 * (r->nth - 1);
	} else {
		tt.day = dim;
		dow = icaltime_day_of_week(tt);
		day = dim - (dow - r->wday + 7) % 7;
	}
	return ical_secs(year, r->month, day, r->secs) - r->before;
}

/*
 * Derive one yearly rule from the transitions of one kind (daylight: the
 * offset grows) and check that it predicts exactly those transitions,
 * no more and no fewer, from the first of them to the window's end we.
 * BYDAY prefers "last" (-1) when the dates also fit an nth weekday:
 * tzdata's rules are mostly "lastSun".
 */
static int
ical_tz_rule(const struct ical_trans *tr, size_t n, int daylight,
    int64_t we, struct ical_rule *r)
{
	struct icaltimetype	w;
	size_t			i, k = 0, seen = 0;
	int			nth = 0, last = 1, wd, dim, y, y0 = 0, y1;
	int64_t			at;

	for (i = 0; i < n; i++) {
		if ((tr[i].after > tr[i].before) != daylight)
			continue;
		w = ical_civil(tr[i].t + tr[i].before);
		wd = icaltime_day_of_week(w);
		dim = icaltime_days_in_month(w.month, w.year);
		if (seen == 0) {
			r->month = w.month;
			r->wday = wd;
			r->secs = w.hour * 3600 + w.minute * 60 + w.second;
			r->before = tr[i].before;
			r->after = tr[i].after;
			nth = (w.day - 1) / 7 + 1;
			y0 = w.year;
		}
		if (w.month != r->month || wd != r->wday ||
		    w.hour * 3600 + w.minute * 60 + w.second != r->secs ||
		    tr[i].before != r->before || tr[i].after != r->after)
			return -1;
		if ((w.day - 1) / 7 + 1 != nth)
			nth = 0;
		if (w.day + 7 <= dim)
			last = 0;
		seen++;
	}
	if (seen == 0)
		return -1;
	if (last)
		r->nth = -1;
	else if (nth >= 1 && nth <= 4)
		r->nth = nth;
	else
		return -1;
	y1 = ical_civil(we).year + 1;
	for (y = y0, i = 0; y <= y1; y++) {
		at = ical_rule_at(r, y);
		if (at > we)
			break;
		while (i < n && (tr[i].after > tr[i].before) != daylight)
			i++;
		if (i == n || tr[i].t != at)
			return -1;
		i++;
		k++;
	}
	return k == seen ? 0 : -1;
}

/* TZNAME for the offset in force at t, if it is a plain abbreviation. */
static void
ical_tz_name(struct buf *b, const char *zone, int64_t t)
{
	char	name[32];
	size_t	i;

	if (tz_format_local(t, zone, "%Z", name, sizeof name) == -1 ||
	    name[0] == '\0')
		return;
	for (i = 0; name[i] != '\0'; i++) {
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '+' || name[i] == '-'))
			return;
	}
	buf_printf(b, "TZNAME:%s\r\n", name);
}

/* One STANDARD or DAYLIGHT observance; r may be NULL (no RRULE). */
static void
ical_tz_obs(struct buf *b, const char *zone, int daylight, int64_t t,
    const char *dtstart, int before, int after, const struct ical_rule *r)
{
	const char	*kind = daylight ? "DAYLIGHT" : "STANDARD";
	char		 from[16], to[16];

	ical_fmt_offset(before, from, sizeof from);
	ical_fmt_offset(after, to, sizeof to);
	buf_printf(b, "BEGIN:%s\r\nDTSTART:%s\r\n", kind, dtstart);
	if (r != NULL)
		buf_printf(b,
		    "RRULE:FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s\r\n", r->month,
		    r->nth, ical_wdays[r->wday]);
	buf_printf(b, "TZOFFSETFROM:%s\r\nTZOFFSETTO:%s\r\n", from, to);
	ical_tz_name(b, zone, t);
	buf_printf(b, "END:%s\r\n", kind);
}

/*
 * The VTIMEZONE text for zone over the whole UTC years y0..y1 (the window
 * is a year wider on each side). Three shapes:
 *  - no transition in the window: one STANDARD from 1970 with FROM = TO;
 *  - transitions that fit one yearly rule per direction, with the first
 *    of them not after from: one STANDARD and one DAYLIGHT, each with its
 *    first transition in the window as DTSTART and an open RRULE;
 *  - otherwise (an irregular zone, a rule change or the end of DST inside
 *    the window): the exception to "at most one STANDARD and one DAYLIGHT"
 *    -- an observance for the start of the window and one per transition,
 *    each without RRULE (and still no RDATE), exact for the window only.
 */
static char *
ical_tz_build(const char *zone, int64_t from, int y0, int y1)
{
	struct buf		 b = { NULL, 0, 0, 0 };
	struct ical_trans	*tr = NULL;
	struct ical_rule	 rs, rd;
	size_t			 n = 0, i, is = 0, id = 0;
	int64_t			 ws, we;
	int			 off;
	char			 dt[32];

	ws = ical_secs(y0 - 1, 1, 1, 0);
	we = ical_secs(y1 + 2, 1, 1, 0) - 1;
	if (ical_tz_scan(zone, ws, we, &tr, &n) == -1)
		goto fail;
	buf_printf(&b, "BEGIN:VTIMEZONE\r\nTZID:%s\r\n", zone);
	if (n == 0) {
		if (ical_offset(zone, from, &off) == -1)
			goto fail;
		ical_tz_obs(&b, zone, 0, from, "19700101T000000", off, off,
		    NULL);
	} else if (tr[0].t <= from && ical_tz_rule(tr, n, 0, we, &rs) == 0 &&
	    ical_tz_rule(tr, n, 1, we, &rd) == 0 && rs.before == rd.after &&
	    rs.after == rd.before) {
		while (tr[is].after > tr[is].before)
			is++;
		while (tr[id].after < tr[id].before)
			id++;
		ical_fmt_wall(tr[is].t, tr[is].before, dt, sizeof dt);
		ical_tz_obs(&b, zone, 0, tr[is].t, dt, rs.before, rs.after,
		    &rs);
		ical_fmt_wall(tr[id].t, tr[id].before, dt, sizeof dt);
		ical_tz_obs(&b, zone, 1, tr[id].t, dt, rd.before, rd.after,
		    &rd);
	} else {
		ical_fmt_wall(ws, tr[0].before, dt, sizeof dt);
		ical_tz_obs(&b, zone, 0, ws, dt, tr[0].before, tr[0].before,
		    NULL);
		for (i = 0; i < n; i++) {
			ical_fmt_wall(tr[i].t, tr[i].before, dt, sizeof dt);
			ical_tz_obs(&b, zone, tr[i].after > tr[i].before,
			    tr[i].t, dt, tr[i].before, tr[i].after, NULL);
		}
	}
	buf_printf(&b, "END:VTIMEZONE\r\n");
	free(tr);
	return buf_take(&b);
fail:
	free(tr);
	free(b.s);
	return NULL;
}

/*
 * A copy of the cached text for (zone, y0, y1), or NULL. The cache holds
 * ICAL_TZCACHE_SIZE entries replaced round-robin, each at most
 * ICAL_TZCACHE_TEXT_MAX octets (longer texts are not kept), so it never
 * holds more than 256 KiB. Not thread-safe; lecternd renders on one thread.
 */
static char *
ical_tzcache_get(const char *zone, int y0, int y1)
{
	size_t	i;

	for (i = 0; i < ICAL_TZCACHE_SIZE; i++) {
		if (ical_tzcache[i].text != NULL && ical_tzcache[i].y0 == y0 &&
		    ical_tzcache[i].y1 == y1 &&
		    strcmp(ical_tzcache[i].zone, zone) == 0)
			return strdup(ical_tzcache[i].text);
	}
	return NULL;
}

static void
ical_tzcache_put(const char *zone, int y0, int y1, const char *text)
{
	struct ical_tzcache_entry *e;
	char			*copy;

	if (strlen(zone) > ICAL_ZONE_MAX ||
	    strlen(text) > ICAL_TZCACHE_TEXT_MAX ||
	    (copy = strdup(text)) == NULL)
		return;
	e = &ical_tzcache[ical_tzcache_next];
	ical_tzcache_next = (ical_tzcache_next + 1) % ICAL_TZCACHE_SIZE;
	free(e->text);
	/* Length checked above: cannot truncate. */
	snprintf(e->zone, sizeof e->zone, "%s", zone);
	e->y0 = y0;
	e->y1 = y1;
	e->text = copy;
}

/* Drop every cached VTIMEZONE (tests; shutdown). */
void
ical_cache_clear(void)
{
	size_t	i;

	for (i = 0; i < ICAL_TZCACHE_SIZE; i++) {
		free(ical_tzcache[i].text);
		ical_tzcache[i].text = NULL;
	}
	ical_tzcache_next = 0;
}

/* A compact VTIMEZONE for zone over [from, to]; caller frees. */
char *
ical_vtimezone(const char *zone, int64_t from, int64_t to)
{
	char	*text;
	int	 y0, y1, off;

	if (zone == NULL || !tz_valid(zone) || from > to ||
	    ical_offset(zone, from, &off) == -1 ||
	    ical_offset(zone, to, &off) == -1)
		return NULL;
	y0 = ical_civil(from).year;
	y1 = ical_civil(to).year;
	if (y1 - y0 > ICAL_TZ_YEARS_MAX || y0 < ICAL_TZ_YEAR_MIN ||
	    y1 > ICAL_TZ_YEAR_MAX)
		return NULL;
	/*
	 * The text depends only on (zone, y0, y1) -- not on from within y0:
	 * from only decides whether the rule's first transition precedes it,
	 * so take the year's first instant for that too.
	 */
	if ((text = ical_tzcache_get(zone, y0, y1)) != NULL)
		return text;
	if ((text = ical_tz_build(zone, ical_secs(y0, 1, 1, 0), y0, y1)) ==
	    NULL)
		return NULL;
	ical_tzcache_put(zone, y0, y1, text);
	return text;
}

/* UID: printable ASCII without spaces. */
static int
ical_check_uid(const char *s, char *err, size_t errlen)
{
	size_t	i;

	if (s == NULL || s[0] == '\0' || strlen(s) > ICAL_UID_MAX) {
		ical_error(err, errlen, "uid: must be 1..%d octets",
		    ICAL_UID_MAX);
		return -1;
	}
	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f) {
			ical_error(err, errlen, "uid: only printable ASCII "
			    "without spaces is allowed");
			return -1;
		}
	}
	return 0;
}

/*
 * Check a TEXT value and return a copy with CRLF turned into LF (libical
 * escapes LF as "\n" but silently drops CR). Valid UTF-8, no control
 * characters but LF and TAB. U+2028/U+2029 are ordinary characters in
 * iCalendar TEXT and are kept.
 */
static char *
ical_text(const char *s, const char *field, char *err, size_t errlen)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*out;
	size_t			 len, i, o = 0;

	len = strlen(s);
	if (valid_utf8(s, len) == -1) {
		ical_error(err, errlen, "%s: is not valid UTF-8", field);
		return NULL;
	}
	if ((out = malloc(len + 1)) == NULL) {
		ical_error(err, errlen, "%s: out of memory", field);
		return NULL;
	}
	for (i = 0; i < len; i++) {
		if (u[i] == '\r' && u[i + 1] == '\n')
			continue;
		if ((u[i] < 0x20 && u[i] != '\n' && u[i] != '\t') ||
		    u[i] == 0x7f || (u[i] == 0xc2 && u[i + 1] >= 0x80 &&
		    u[i + 1] <= 0x9f)) {
			ical_error(err, errlen, "%s: must not contain control "
			    "characters", field);
			free(out);
			return NULL;
		}
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/*
 * A copy of a display name fit for a CN parameter, or NULL with err. A
 * parameter value cannot hold a DQUOTE in any form (RFC 5545 3.1: no
 * escape exists), so '"' becomes '\''; control characters and line
 * separators are refused.
 */
static char *
ical_cn(const char *s, const char *field, char *err, size_t errlen)
{
	char	*out;
	size_t	 i;

	if ((out = ical_text(s, field, err, errlen)) == NULL)
		return NULL;
	for (i = 0; out[i] != '\0'; i++) {
		if (out[i] == '\n' || out[i] == '\t' ||
		    strncmp(out + i, "\xe2\x80\xa8", 3) == 0 ||
		    strncmp(out + i, "\xe2\x80\xa9", 3) == 0) {
			ical_error(err, errlen, "%s: must be one line", field);
			free(out);
			return NULL;
		}
		if (out[i] == '"')
			out[i] = '\'';
	}
	return out;
}

/* Fixed-width decimal digits. */
static int
ical_digits(const char *s, int n, int *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* "YYYY-MM-DDTHH:MM[:SS]" (or ' ' for 'T') as a floating date-time. */
static int
ical_parse_local(const char *s, struct icaltimetype *tt)
{
	int	y, mo, d, h, mi, sec = 0;
	size_t	len = strlen(s);

	*tt = icaltime_null_time();
	if ((len != 16 && len != 19) || ical_digits(s, 4, &y) == -1 ||
	    s[4] != '-' || ical_digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    ical_digits(s + 8, 2, &d) == -1 || (s[10] != 'T' && s[10] != ' ') ||
	    ical_digits(s + 11, 2, &h) == -1 || s[13] != ':' ||
	    ical_digits(s + 14, 2, &mi) == -1)
		return -1;
	if (len == 19 && (s[16] != ':' || ical_digits(s + 17, 2, &sec) == -1))
		return -1;
	if (y < 1601 || mo < 1 || mo > 12 || d < 1 ||
	    d > icaltime_days_in_month(mo, y) || h > 23 || mi > 59 || sec > 59)
		return -1;
	tt->year = y;
	tt->month = mo;
	tt->day = d;
	tt->hour = h;
	tt->minute = mi;
	tt->second = sec;
	return 0;
}

/*
 * The wall time of the instant t in zone, if that wall time names t
 * (it does not for the second pass through a DST overlap: RFC 5545 reads
 * an ambiguous local time as the first one).
 */
static int
ical_wall(const char *zone, int64_t t, struct icaltimetype *tt)
{
	char	local[32], err[160];
	int64_t	back;

	if (tz_format_local(t, zone, "%Y-%m-%dT%H:%M:%S", local,
	    sizeof local) == -1 ||
	    tz_parse(local, zone, 0, NULL, &back, NULL, 0, err,
	    sizeof err) == -1 || back != t)
		return -1;
	return ical_parse_local(local, tt);
}

/* A date-time property with TZID=zone and a floating value. */
static icalproperty *
ical_zoned(icalproperty *p, const char *zone)
{
	if (p != NULL)
		icalproperty_add_parameter(p, icalparameter_new_tzid(zone));
	return p;
}

/* ORGANIZER or ATTENDEE: mailto: + a bare address, CN when named. */
static icalproperty *
ical_person(int attendee, const char *addr, const char *cn)
{
	icalproperty	*p;
	char		 uri[LECTERN_EMAIL_MAX + 16];

	/* valid_email() bounded addr: cannot truncate. */
	snprintf(uri, sizeof uri, "mailto:%s", addr);
	p = attendee ? icalproperty_new_attendee(uri) :
	    icalproperty_new_organizer(uri);
	if (p == NULL)
		return NULL;
	if (cn != NULL && cn[0] != '\0')
		icalproperty_add_parameter(p, icalparameter_new_cn(cn));
	if (attendee) {
		icalproperty_add_parameter(p,
		    icalparameter_new_cutype(ICAL_CUTYPE_INDIVIDUAL));
		icalproperty_add_parameter(p,
		    icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
		icalproperty_add_parameter(p,
		    icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION));
		icalproperty_add_parameter(p,
		    icalparameter_new_rsvp(ICAL_RSVP_TRUE));
	}
	return p;
}

/*
 * libical 3.0.16 quotes a parameter value only when it contains ',', ';'
 * or ':', so "CN=Plain Name" stays bare; INVITES.md wants CN always
 * quoted (some clients split bare names on other characters). Rewrite
 * the parameters of an unfolded ORGANIZER or ATTENDEE line so that every
 * CN value is in double quotes. ical_cn() has removed '"' from names.
 */
static void
ical_quote_cn(struct buf *out, const char *line, size_t len)
{
	const char	*p = line, *end = line + len, *name, *v;
	size_t		 nlen;

	while (p < end && *p != ';' && *p != ':')
		p++;
	buf_add(out, line, (size_t)(p - line));
	while (p < end && *p == ';') {
		name = ++p;
		while (p < end && *p != '=' && *p != ';' && *p != ':')
			p++;
		nlen = (size_t)(p - name);
		buf_add(out, ";", 1);
		buf_add(out, name, nlen);
		if (p == end || *p != '=')
			continue;
		v = ++p;
		if (p < end && *p == '"') {
			p++;
			while (p < end && *p != '"')
				p++;
			if (p < end)
				p++;
		} else {
			while (p < end && *p != ';' && *p != ':')
				p++;
		}
		buf_add(out, "=", 1);
		if (nlen == 2 && strncasecmp(name, "CN", 2) == 0 && *v != '"') {
			buf_add(out, "\"", 1);
			buf_add(out, v, (size_t)(p - v));
			buf_add(out, "\"", 1);
		} else
			buf_add(out, v, (size_t)(p - v));
	}
	buf_add(out, p, (size_t)(end - p));
}

/*
 * Fold one logical line at ICAL_FOLD octets, never inside a UTF-8
 * sequence (a split sequence is invalid UTF-8 on each physical line,
 * which some parsers reject before unfolding). libical 3.0.16 emits CRLF
 * and folds at 75 octets on character boundaries by itself (checked), but
 * ical_quote_cn() needs whole lines, so the text is unfolded and folded
 * again here; this also keeps both rules independent of libical's version.
 */
static void
ical_fold(struct buf *out, const char *line, size_t len)
{
	size_t	pos = 0, max = ICAL_FOLD, cut;

	do {
		cut = len - pos > max ? pos + max : len;
		while (cut < len && cut > pos &&
		    ((unsigned char)line[cut] & 0xc0) == 0x80)
			cut--;
		if (pos > 0)
			buf_add(out, " ", 1);
		buf_add(out, line + pos, cut - pos);
		buf_add(out, "\r\n", 2);
		pos = cut;
		max = ICAL_FOLD - 1;
	} while (pos < len);
}

/*
 * Unfold libical's text (CRLF or LF line ends, continuation lines begin
 * with a space or tab), quote CN values, fold again with CRLF. A CR
 * anywhere but before LF, or a control character in a logical line,
 * means a value escaped unescaped: refuse rather than send it.
 */
static char *
ical_finish(const char *in, char *err, size_t errlen)
{
	struct buf	 out = { NULL, 0, 0, 0 }, line = { NULL, 0, 0, 0 };
	const char	*p = in, *e;
	size_t		 i;

	while (*p != '\0') {
		e = p + strcspn(p, "\r\n");
		buf_add(&line, p, (size_t)(e - p));
		if (*e == '\r' && e[1] != '\n')
			goto fail;
		p = *e == '\r' ? e + 2 : (*e == '\n' ? e + 1 : e);
		if (*p == ' ' || *p == '\t') {
			p++;
			continue;
		}
		if (line.failed)
			goto fail;
		if (line.len == 0)
			continue;
		for (i = 0; i < line.len; i++) {
			unsigned char c = (unsigned char)line.s[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				goto fail;
		}
		if (strncasecmp(line.s, "ORGANIZER;", 10) == 0 ||
		    strncasecmp(line.s, "ATTENDEE;", 9) == 0) {
			struct buf q = { NULL, 0, 0, 0 };

			ical_quote_cn(&q, line.s, line.len);
			if (q.failed) {
				free(q.s);
				goto fail;
			}
			ical_fold(&out, q.s, q.len);
			free(q.s);
		} else
			ical_fold(&out, line.s, line.len);
		line.len = 0;
	}
	free(line.s);
	if (out.failed || out.s == NULL)
		goto fail;
	return out.s;
fail:
	ical_error(err, errlen, "calendar: cannot serialise safely");
	free(line.s);
	free(out.s);
	return NULL;
}

/* raw with vtz inserted before its "BEGIN:VEVENT" line; malloc'd or NULL. */
static char *
ical_splice(const char *raw, const char *vtz)
{
	const char	*at;
	char		*s;
	size_t		 head, vl, rl;

	if ((at = strstr(raw, "BEGIN:VEVENT\r\n")) == NULL)
		return NULL;
	head = (size_t)(at - raw);
	vl = strlen(vtz);
	rl = strlen(raw);
	if ((s = malloc(rl + vl + 1)) == NULL)
		return NULL;
	memcpy(s, raw, head);
	memcpy(s + head, vtz, vl);
	memcpy(s + head + vl, at, rl - head + 1);
	return s;
}

/* Parse and check an RRULE value; err on anything libical does not take. */
static int
ical_rrule(const char *s, struct icalrecurrencetype *rr, char *err,
    size_t errlen)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f) {
			ical_error(err, errlen, "rrule: only printable ASCII "
			    "without spaces is allowed");
			return -1;
		}
	}
	icalerror_clear_errno();
	*rr = icalrecurrencetype_from_string(s);
	if (rr->freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
		icalerror_clear_errno();
		ical_error(err, errlen, "rrule: \"%.60s\" is not a valid "
		    "RFC 5545 recurrence rule", s);
		return -1;
	}
	/* RFC 5545 3.3.10: with a TZID DTSTART, UNTIL is a date or UTC. */
	if (!icaltime_is_null_time(rr->until) && !rr->until.is_date &&
	    !icaltime_is_utc(rr->until)) {
		ical_error(err, errlen, "rrule: UNTIL must be a date or a UTC "
		    "time (ending in Z)");
		return -1;
	}
	return 0;
}

/*
 * The last instant a series starting at the floating start in zone
 * reaches: the last of at most ICAL_SERIES_MAX occurrences, and no further
 * than ICAL_SERIES_YEARS years out for an open-ended rule (the VTIMEZONE's
 * RRULEs carry on past it anyway).
 */
static int64_t
ical_series_end(struct icalrecurrencetype rr, struct icaltimetype start,
    const char *zone, int64_t start_utc)
{
	icalrecur_iterator	*it;
	struct icaltimetype	 o, lastt = start;
	int64_t			 cap = start_utc + (int64_t)ICAL_SERIES_YEARS *
	    366 * 86400, t;
	char			 local[32], err[160];
	int			 k, off;

	if ((it = icalrecur_iterator_new(rr, start)) == NULL)
		return cap;
	for (k = 0; k < ICAL_SERIES_MAX; k++) {
		o = icalrecur_iterator_next(it);
		if (icaltime_is_null_time(o))
			break;
		lastt = o;
		if (k == ICAL_SERIES_MAX - 1)
			lastt = icaltime_null_time();
	}
	icalrecur_iterator_free(it);
	if (icaltime_is_null_time(lastt))
		return cap;
	snprintf(local, sizeof local, "%04d-%02d-%02dT%02d:%02d:%02d",
	    lastt.year, lastt.month, lastt.day, lastt.hour, lastt.minute,
	    lastt.second);
	if (tz_parse(local, zone, 0, NULL, &t, NULL, 0, err,
	    sizeof err) == -1) {
		/* In a gap: a day on either side is close enough. */
		t = ical_secs(lastt.year, lastt.month, lastt.day, 86400);
		if (tz_offset_at(zone, t, &off) == 0)
			t -= off;
	}
	return t > cap ? cap : t;
}

/* The VEVENT block (BEGIN:VEVENT...END:VEVENT\r\n) of a finished text. */
static int
ical_vevent_block(const char *text, const char **b, size_t *len)
{
	const char	*e;

	if ((*b = strstr(text, "\r\nBEGIN:VEVENT\r\n")) == NULL ||
	    (e = strstr(*b, "\r\nEND:VEVENT\r\n")) == NULL)
		return -1;
	*b += 2;
	*len = (size_t)(e + strlen("\r\nEND:VEVENT\r\n") - *b);
	return 0;
}

/*
 * The series' changed occurrences go into the same VCALENDAR as its
 * master (RFC 5546 3.2.2: one UID, the master and its RECURRENCE-ID
 * instances together), after the master's VEVENT. Each is rendered as a
 * whole (with the same zone, so its VTIMEZONE is the master's) and its
 * finished, folded VEVENT lines are moved over. Frees master.
 */
static char *
ical_add_overrides(char *master, const struct ical_event *ev, char *err,
    size_t errlen)
{
	struct buf	 out = { NULL, 0, 0, 0 };
	const char	*end, *b;
	char		*one;
	size_t		 i, len;

	if ((end = strstr(master, "\r\nEND:VCALENDAR\r\n")) == NULL) {
		free(master);
		ical_error(err, errlen, "calendar: cannot serialise");
		return NULL;
	}
	buf_add(&out, master, (size_t)(end - master) + 2);
	for (i = 0; i < ev->noverrides; i++) {
		if (ev->overrides[i].recurrence_id_local == NULL ||
		    ev->overrides[i].rrule != NULL ||
		    ev->overrides[i].noverrides != 0 ||
		    strcmp(ev->overrides[i].tz, ev->tz) != 0 ||
		    strcmp(ev->overrides[i].uid, ev->uid) != 0) {
			ical_error(err, errlen, "occurrence: not an occurrence "
			    "of this series");
			goto fail;
		}
		if ((one = ical_render(&ev->overrides[i], err, errlen)) ==
		    NULL)
			goto fail;
		if (ical_vevent_block(one, &b, &len) == -1) {
			free(one);
			ical_error(err, errlen, "calendar: cannot serialise");
			goto fail;
		}
		buf_add(&out, b, len);
		free(one);
	}
	buf_str(&out, "END:VCALENDAR\r\n");
	free(master);
	if (buf_get(&out) == NULL) {
		ical_error(err, errlen, "calendar: out of memory");
		return NULL;
	}
	return buf_take(&out);
fail:
	free(master);
	buf_free(&out);
	return NULL;
}

/* "YYYY-MM-DD" as a DATE value; -1 if it is not a real date. */
static int
ical_day(const char *s, struct icaltimetype *tt)
{
	int	y, m, d;

	*tt = icaltime_null_date();
	if (s == NULL || strlen(s) != 10 || ical_digits(s, 4, &y) == -1 ||
	    s[4] != '-' || ical_digits(s + 5, 2, &m) == -1 || s[7] != '-' ||
	    ical_digits(s + 8, 2, &d) == -1 || y < 1601 || m < 1 || m > 12 ||
	    d < 1 || d > icaltime_days_in_month(m, y))
		return -1;
	tt->year = y;
	tt->month = m;
	tt->day = d;
	tt->is_date = 1;
	return 0;
}

/* The texts of an event, escaped for libical and checked; see ical_texts. */
struct ical_texts {
	char	*summary, *desc, *loc, *ocn, *acn;
};

static void
ical_texts_free(struct ical_texts *t)
{
	free(t->summary);
	free(t->desc);
	free(t->loc);
	free(t->ocn);
	free(t->acn);
	memset(t, 0, sizeof *t);
}

/*
 * Check the addresses and texts shared by every kind of event and make
 * their property values (description and location may be NULL). -1 with
 * err set, t freed.
 */
static int
ical_texts(struct ical_texts *t, const char *organizer_addr,
    const char *attendee_addr, const char *summary, const char *description,
    const char *location, const char *organizer_name,
    const char *attendee_name, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	if (valid_email(organizer_addr, "organizer", err, errlen) == -1 ||
	    valid_email(attendee_addr, "attendee", err, errlen) == -1)
		return -1;
	if (summary == NULL || summary[0] == '\0') {
		ical_error(err, errlen, "summary: must not be empty");
		return -1;
	}
	if ((t->summary = ical_text(summary, "summary", err, errlen)) == NULL ||
	    (description != NULL && (t->desc = ical_text(description,
	    "description", err, errlen)) == NULL) ||
	    (location != NULL && (t->loc = ical_text(location, "location",
	    err, errlen)) == NULL) ||
	    (t->ocn = ical_cn(organizer_name != NULL ? organizer_name : "",
	    "organizer_name", err, errlen)) == NULL ||
	    (t->acn = ical_cn(attendee_name != NULL ? attendee_name : "",
	    "attendee_name", err, errlen)) == NULL) {
		ical_texts_free(t);
		return -1;
	}
	return 0;
}

/* A VCALENDAR for method with one VEVENT (*vev) carrying uid and dtstamp. */
static icalcomponent *
ical_calendar(enum ical_method method, const char *uid, int64_t dtstamp,
    icalcomponent **vev)
{
	icalcomponent	*cal;

	cal = icalcomponent_new_vcalendar();
	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(cal, icalproperty_new_prodid(ICAL_PRODID));
	icalcomponent_add_property(cal, icalproperty_new_method(
	    method == ICAL_CANCEL ? ICAL_METHOD_CANCEL : ICAL_METHOD_REQUEST));
	icalcomponent_add_property(cal, icalproperty_new_calscale(
	    "GREGORIAN"));
	*vev = icalcomponent_new_vevent();
	icalcomponent_add_component(cal, *vev);
	icalcomponent_add_property(*vev, icalproperty_new_uid(uid));
	icalcomponent_add_property(*vev, icalproperty_new_dtstamp(
	    icaltime_from_timet_with_zone((time_t)dtstamp, 0,
	    icaltimezone_get_utc_timezone())));
	return cal;
}

/* The people, SEQUENCE and STATUS every event has. */
static void
ical_parties(icalcomponent *vev, enum ical_method method,
    const char *organizer_addr, const char *attendee_addr,
    const struct ical_texts *t, int sequence)
{
	icalcomponent_add_property(vev,
	    ical_person(0, organizer_addr, t->ocn));
	icalcomponent_add_property(vev,
	    ical_person(1, attendee_addr, t->acn));
	icalcomponent_add_property(vev,
	    icalproperty_new_sequence(sequence));
	icalcomponent_add_property(vev, icalproperty_new_status(
	    method == ICAL_CANCEL ? ICAL_STATUS_CANCELLED :
	    ICAL_STATUS_CONFIRMED));
}

/* -1 with err set if libical refused a value (an X-LIC-ERROR property). */
static int
ical_refused(icalcomponent *vev, char *err, size_t errlen)
{
	icalproperty	*p;

	for (p = icalcomponent_get_first_property(vev, ICAL_ANY_PROPERTY);
	    p != NULL; p = icalcomponent_get_next_property(vev,
	    ICAL_ANY_PROPERTY)) {
		if (icalproperty_isa(p) == ICAL_XLICERROR_PROPERTY) {
			ical_error(err, errlen, "calendar: libical refused a "
			    "value");
			return -1;
		}
	}
	return 0;
}

/* Render an all-day entry; see ical.h. Caller frees. */
char *
ical_render_allday(const struct ical_allday *ev, char *err, size_t errlen)
{
	struct ical_texts	 t;
	icalcomponent		*cal, *vev;
	struct icaltimetype	 first, last;
	char			*raw = NULL, *out = NULL;

	if (ev == NULL || (ev->method != ICAL_REQUEST &&
	    ev->method != ICAL_CANCEL)) {
		ical_error(err, errlen, "event: invalid method");
		return NULL;
	}
	if (ical_check_uid(ev->uid, err, errlen) == -1)
		return NULL;
	if (ev->sequence < 0) {
		ical_error(err, errlen, "sequence: must not be negative");
		return NULL;
	}
	if (ical_day(ev->first_day, &first) == -1 ||
	    ical_day(ev->last_day, &last) == -1 ||
	    icaltime_compare_date_only(first, last) > 0) {
		ical_error(err, errlen, "days: first_day and last_day must be "
		    "dates, the first not after the last");
		return NULL;
	}
	if (ical_texts(&t, ev->organizer_addr, ev->attendee_addr, ev->summary,
	    ev->description, NULL, ev->organizer_name, ev->attendee_name, err,
	    errlen) == -1)
		return NULL;
	/* DTEND of a DATE event is the day after its last (RFC 5545 3.6.1). */
	icaltime_adjust(&last, 1, 0, 0, 0);

	cal = ical_calendar(ev->method, ev->uid, ev->dtstamp, &vev);
	icalcomponent_add_property(vev, icalproperty_new_dtstart(first));
	icalcomponent_add_property(vev, icalproperty_new_dtend(last));
	icalcomponent_add_property(vev, icalproperty_new_summary(t.summary));
	if (t.desc != NULL)
		icalcomponent_add_property(vev,
		    icalproperty_new_description(t.desc));
	ical_parties(vev, ev->method, ev->organizer_addr, ev->attendee_addr,
	    &t, ev->sequence);
	/* A period, not a meeting: it must not show the teacher as busy. */
	icalcomponent_add_property(vev,
	    icalproperty_new_transp(ICAL_TRANSP_TRANSPARENT));
	if (ical_refused(vev, err, errlen) == 0) {
		if ((raw = icalcomponent_as_ical_string_r(cal)) == NULL)
			ical_error(err, errlen, "calendar: cannot serialise");
		else
			out = ical_finish(raw, err, errlen);
	}
	icalcomponent_free(cal);
	icalerror_clear_errno();
	free(raw);
	ical_texts_free(&t);
	return out;
}

/* Render the whole VCALENDAR; see ical.h. Caller frees. */
char *
ical_render(const struct ical_event *ev, char *err, size_t errlen)
{
	icalcomponent		*cal = NULL, *vev, *alarm;
	struct icalrecurrencetype rr;
	struct icaltimetype	 start, end, rid;
	struct icaltriggertype	 trig;
	struct icaldurationtype	 dur;
	char			 local[32];
	struct ical_texts	 tx;
	char			*tztext = NULL;
	char			*raw = NULL, *whole = NULL, *out = NULL;
	int64_t			 t, end_utc, range_end;
	int			 has_rrule = 0, use_dtend;
	size_t			 i;

	if (ev == NULL || (ev->method != ICAL_REQUEST &&
	    ev->method != ICAL_CANCEL)) {
		ical_error(err, errlen, "event: invalid method");
		return NULL;
	}
	if (ical_check_uid(ev->uid, err, errlen) == -1)
		return NULL;
	if (ev->tz == NULL || !tz_valid(ev->tz)) {
		ical_error(err, errlen, "tz: unknown time zone");
		return NULL;
	}
	if (ev->sequence < 0) {
		ical_error(err, errlen, "sequence: must not be negative");
		return NULL;
	}
	if (ev->duration <= 0 || ev->duration > LECTERN_DURATION_MAX) {
		ical_error(err, errlen, "duration: must be 1..%d minutes",
		    LECTERN_DURATION_MAX);
		return NULL;
	}
	if (ev->nalarms > ICAL_ALARMS_MAX || (ev->nalarms > 0 &&
	    ev->alarms == NULL)) {
		ical_error(err, errlen, "alarms: at most %d", ICAL_ALARMS_MAX);
		return NULL;
	}
	for (i = 0; i < ev->nalarms; i++) {
		if (ev->alarms[i] < 0 || ev->alarms[i] > 366LL * 86400) {
			ical_error(err, errlen, "alarms: %lld seconds before "
			    "the start is out of range",
			    (long long)ev->alarms[i]);
			return NULL;
		}
	}
	if (ev->url != NULL && valid_url(ev->url, "url", err, errlen) == -1)
		return NULL;
	if (ical_texts(&tx, ev->organizer_addr, ev->attendee_addr, ev->summary,
	    ev->description, ev->location, ev->organizer_name,
	    ev->attendee_name, err, errlen) == -1)
		return NULL;

	/* Start: the wall time must name start_utc, the first of a pair. */
	if (ev->start_local != NULL) {
		if (tz_parse(ev->start_local, ev->tz, 0, "start", &t, local,
		    sizeof local, err, errlen) == -1)
			goto fail;
		if (t != ev->start_utc) {
			ical_error(err, errlen, "start: %s in %s is not the "
			    "instant start_utc", local, ev->tz);
			goto fail;
		}
	}
	if (ical_wall(ev->tz, ev->start_utc, &start) == -1) {
		ical_error(err, errlen, "start: the instant cannot be written "
		    "as an unambiguous wall time in %s", ev->tz);
		goto fail;
	}
	end_utc = ev->start_utc + (int64_t)ev->duration * 60;
	/*
	 * DTEND is the end's wall time in the zone. When that wall time is
	 * the second pass through a DST overlap, clients would read it as the
	 * first pass (RFC 5545 3.3.5), possibly before DTSTART: then the
	 * length goes out as DURATION instead, which RFC 5545 offers for
	 * exactly this.
	 */
	use_dtend = ical_wall(ev->tz, end_utc, &end) == 0;

	icalrecurrencetype_clear(&rr);
	if (ev->rrule != NULL) {
		if (ical_rrule(ev->rrule, &rr, err, errlen) == -1)
			goto fail;
		has_rrule = 1;
	}
	memset(&rid, 0, sizeof rid);
	if (ev->recurrence_id_local != NULL &&
	    ical_parse_local(ev->recurrence_id_local, &rid) == -1) {
		ical_error(err, errlen, "recurrence_id: \"%.40s\" is not a "
		    "wall time YYYY-MM-DDTHH:MM:SS", ev->recurrence_id_local);
		goto fail;
	}

	range_end = ev->range_end_utc;
	if (range_end == 0)
		range_end = has_rrule ? ical_series_end(rr, start, ev->tz,
		    ev->start_utc) : end_utc;
	if (range_end < end_utc)
		range_end = end_utc;
	/* A changed occurrence may have moved past the series' end. */
	for (i = 0; i < ev->noverrides; i++) {
		t = ev->overrides[i].start_utc +
		    (int64_t)ev->overrides[i].duration * 60;
		if (t > range_end)
			range_end = t;
	}
	if ((tztext = ical_vtimezone(ev->tz, ev->start_utc, range_end)) ==
	    NULL) {
		ical_error(err, errlen, "tz: cannot describe %s for these "
		    "dates", ev->tz);
		goto fail;
	}

	cal = ical_calendar(ev->method, ev->uid, ev->dtstamp, &vev);
	/*
	 * The VTIMEZONE is our own text (cached per zone and years, and
	 * checked against tzdata by the tests): it is spliced in before the
	 * VEVENT after serialisation instead of being parsed and written out
	 * again by libical for every recipient.
	 */

	icalcomponent_add_property(vev,
	    ical_zoned(icalproperty_new_dtstart(start), ev->tz));
	if (use_dtend)
		icalcomponent_add_property(vev,
		    ical_zoned(icalproperty_new_dtend(end), ev->tz));
	else {
		dur = icaldurationtype_null_duration();
		dur.minutes = (unsigned int)ev->duration;
		icalcomponent_add_property(vev, icalproperty_new_duration(dur));
	}
	icalcomponent_add_property(vev, icalproperty_new_summary(tx.summary));
	if (tx.desc != NULL)
		icalcomponent_add_property(vev,
		    icalproperty_new_description(tx.desc));
	if (tx.loc != NULL)
		icalcomponent_add_property(vev,
		    icalproperty_new_location(tx.loc));
	if (ev->url != NULL)
		icalcomponent_add_property(vev, icalproperty_new_url(ev->url));
	ical_parties(vev, ev->method, ev->organizer_addr, ev->attendee_addr,
	    &tx, ev->sequence);
	if (has_rrule)
		icalcomponent_add_property(vev, icalproperty_new_rrule(rr));
	if (ev->recurrence_id_local != NULL)
		icalcomponent_add_property(vev,
		    ical_zoned(icalproperty_new_recurrenceid(rid), ev->tz));
	/* EXDATE in the master's zone, as RECURRENCE-ID (RFC 5545 3.8.5.1). */
	for (i = 0; has_rrule && i < ev->nexdates; i++) {
		struct icaltimetype	 ex;

		if (ical_wall(ev->tz, ev->exdates[i], &ex) == -1) {
			ical_error(err, errlen, "exdate: the instant cannot be "
			    "written as a wall time in %s", ev->tz);
			goto fail;
		}
		icalcomponent_add_property(vev,
		    ical_zoned(icalproperty_new_exdate(ex), ev->tz));
	}
	icalcomponent_add_property(vev,
	    icalproperty_new_transp(ICAL_TRANSP_OPAQUE));
	for (i = 0; ev->method == ICAL_REQUEST && i < ev->nalarms; i++) {
		memset(&trig, 0, sizeof trig);
		trig.time = icaltime_null_time();
		trig.duration = icaldurationtype_null_duration();
		trig.duration.is_neg = ev->alarms[i] > 0;
		trig.duration.minutes = (unsigned int)((ev->alarms[i] + 59) /
		    60);
		alarm = icalcomponent_new_valarm();
		icalcomponent_add_property(alarm,
		    icalproperty_new_action(ICAL_ACTION_DISPLAY));
		icalcomponent_add_property(alarm,
		    icalproperty_new_trigger(trig));
		icalcomponent_add_property(alarm,
		    icalproperty_new_description(tx.summary));
		icalcomponent_add_component(vev, alarm);
	}
	if (ical_refused(vev, err, errlen) == -1)
		goto fail;

	if ((raw = icalcomponent_as_ical_string_r(cal)) == NULL ||
	    (whole = ical_splice(raw, tztext)) == NULL) {
		ical_error(err, errlen, "calendar: cannot serialise");
		goto fail;
	}
	out = ical_finish(whole, err, errlen);
	if (out != NULL && ev->noverrides > 0 &&
	    (out = ical_add_overrides(out, ev, err, errlen)) == NULL)
		goto fail;
fail:
	if (cal != NULL)
		icalcomponent_free(cal);
	icalerror_clear_errno();
	free(raw);
	free(whole);
	free(tztext);
	ical_texts_free(&tx);
	return out;
}

/*
 * Prepared calendars. Everything in ical_render's text but the ATTENDEE
 * line is the same for every recipient of one message about one session
 * (DTSTAMP included: one notify call renders all of them at the same
 * time), so it is rendered once, with a placeholder attendee, and each
 * recipient's ATTENDEE line is written by hand in place of the
 * placeholder's. The hand-written line is what libical 3.0.16 and
 * ical_finish() make of ical_person(1, ...): libical writes a parameter
 * value verbatim (in quotes when it holds ';', ':' or ','), ical_quote_cn()
 * quotes every CN, ical_fold() folds. tests/unit/test_ical.c checks that
 * both ways give the same octets for hostile names.
 */
#define ICAL_PREP_ADDR	"attendee@lectern.invalid"
#define ICAL_ATTENDEE_PARAMS \
	";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE"

struct ical_prep {
	struct ical_event	 ev;	/* strings borrowed from the caller */
	char			*text;	/* the calendar for ICAL_PREP_ADDR */
	size_t			 len;
	size_t			 head;	/* where its ATTENDEE line starts */
	size_t			 tail;	/* where the line after it starts */
};

/*
 * The start of the first logical line of text[from..len) that begins with
 * name followed by ';' or ':', or len.
 */
static size_t
ical_prep_find(const char *text, size_t len, size_t from, const char *name)
{
	size_t		 n = strlen(name);
	const char	*p = text + from, *end = text + len;

	while (p < end) {
		if ((size_t)(end - p) > n && strncmp(p, name, n) == 0 &&
		    (p[n] == ';' || p[n] == ':'))
			return (size_t)(p - text);
		/* The next physical line that is not a continuation. */
		do {
			if ((p = memchr(p, '\n', (size_t)(end - p))) == NULL)
				return len;
			p++;
		} while (p < end && (*p == ' ' || *p == '\t'));
	}
	return len;
}

/* Prepare ev's calendar for many attendees; see ical.h. */
struct ical_prep *
ical_prep_new(const struct ical_event *ev, char *err, size_t errlen)
{
	struct ical_prep	*p;
	struct ical_event	 e;
	const char		*nl;

	if (ev == NULL) {
		ical_error(err, errlen, "event: none");
		return NULL;
	}
	e = *ev;
	e.attendee_name = "";
	e.attendee_addr = ICAL_PREP_ADDR;
	if ((p = calloc(1, sizeof *p)) == NULL) {
		ical_error(err, errlen, "calendar: out of memory");
		return NULL;
	}
	p->ev = *ev;
	if ((p->text = ical_render(&e, err, errlen)) == NULL)
		goto fail;
	p->len = strlen(p->text);
	p->head = ical_prep_find(p->text, p->len, 0, "ATTENDEE");
	if (p->head == p->len)
		goto bad;
	/* The end of its logical line: the next that does not continue it. */
	p->tail = p->head;
	do {
		if ((nl = memchr(p->text + p->tail, '\n', p->len - p->tail)) ==
		    NULL)
			goto bad;
		p->tail = (size_t)(nl + 1 - p->text);
	} while (p->tail < p->len && (p->text[p->tail] == ' ' ||
	    p->text[p->tail] == '\t'));
	if (ical_prep_find(p->text, p->len, p->tail, "ATTENDEE") != p->len)
		goto bad;
	return p;
bad:
	ical_error(err, errlen, "calendar: cannot prepare");
fail:
	ical_prep_free(p);
	return NULL;
}

/*
 * Append the folded ATTENDEE line for (name, addr) to out: what
 * ical_render writes for that attendee. -1 if a value is not fit (the
 * caller asks ical_render for the reason).
 */
static int
ical_prep_attendee(struct buf *out, const char *name, const char *addr)
{
	struct buf	 line = { NULL, 0, 0, 0 };
	char		*cn = NULL;
	size_t		 i;
	int		 rc = -1;

	if (valid_email(addr, "attendee", NULL, 0) == -1 ||
	    (cn = ical_cn(name != NULL ? name : "", "attendee_name", NULL,
	    0)) == NULL)
		return -1;
	buf_str(&line, "ATTENDEE");
	if (cn[0] != '\0') {
		buf_str(&line, ";CN=\"");
		buf_str(&line, cn);
		buf_str(&line, "\"");
	}
	buf_str(&line, ICAL_ATTENDEE_PARAMS ":mailto:");
	buf_str(&line, addr);
	if (buf_get(&line) == NULL)
		goto fail;
	/* The second line of defence, as in ical_finish(). */
	for (i = 0; i < line.len; i++) {
		unsigned char c = (unsigned char)line.s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			goto fail;
	}
	ical_fold(out, line.s, line.len);
	rc = out->failed ? -1 : 0;
fail:
	buf_free(&line);
	free(cn);
	return rc;
}

/* The calendar of p for one attendee; see ical.h. Caller frees. */
char *
ical_prep_render(const struct ical_prep *p, const char *name,
    const char *addr, char *err, size_t errlen)
{
	struct ical_event	 e;
	struct buf		 out = { NULL, 0, 0, 0 };

	if (p == NULL) {
		ical_error(err, errlen, "calendar: not prepared");
		return NULL;
	}
	if (buf_reserve(&out, p->len + 256) == 0) {
		buf_add(&out, p->text, p->head);
		if (ical_prep_attendee(&out, name, addr) == 0) {
			buf_add(&out, p->text + p->tail, p->len - p->tail);
			if (buf_get(&out) != NULL)
				return buf_take(&out);
		}
	}
	buf_free(&out);
	/* A value that does not fit: ical_render says why. */
	e = p->ev;
	e.attendee_name = name;
	e.attendee_addr = addr;
	return ical_render(&e, err, errlen);
}

/* Free a prepared calendar. */
void
ical_prep_free(struct ical_prep *p)
{
	if (p == NULL)
		return;
	free(p->text);
	free(p);
}
