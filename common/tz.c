/*
 * tz.c -- time zones and instants; pure, shared by daemon and client.
 *
 * Offsets come from libical's built-in zones, which Debian's libical builds
 * from the system's tzdata. Calendar arithmetic (civil date <-> day number)
 * is done here with integers instead of mktime()/timegm(): those depend on
 * the process's TZ, and setting TZ in a daemon that serves many zones at
 * once is neither fast nor safe.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libical/ical.h>

#include "tz.h"
#include "proto.h"

#define TZ_YEAR_MIN	1970
#define TZ_YEAR_MAX	2200
#define TZ_NAME_MAX	64
#define TZ_CACHE_SIZE	16
/* Instants outside years 1..9999 are refused by tz_offset_at. */
#define TZ_UTC_MIN	(-62135596800LL)
#define TZ_UTC_MAX	(253402300799LL)
#define TZ_QUOTE_MAX	60

/*
 * libical keeps loaded zones for the life of the process, but finding one
 * by name scans its list (and, for a name not in zone.tab, tries to open a
 * file); this small cache of recent names, hits and misses, keeps repeated
 * lookups on the request path cheap.
 */
struct tz_info {
	icaltimezone	*zone;
	int		 tail_broken;	/* see tz_check_tail() */
};

static struct tz_cache_entry {
	char		 name[TZ_NAME_MAX + 1];
	struct tz_info	*info;
} tz_cache[TZ_CACHE_SIZE];
static size_t tz_cache_next;

/* One tz_info per libical zone, kept as long as libical keeps the zone. */
#define TZ_INFO_MAX	1024
static struct tz_info	 tz_infos[TZ_INFO_MAX];
static size_t		 tz_ninfos;

/* First year that libical 3.0.16 derives from the TZif footer. */
#define TZ_TAIL_YEAR	2038

static const char *const tz_wdays[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const tz_months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

struct tz_civil {
	int64_t	year;
	int	month, day, hour, min, sec, wday;
};

static void tz_error(char *, size_t, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
tz_error(char *err, size_t errlen, const char *field, const char *fmt, ...)
{
	va_list	ap;
	int	n = 0;

	if (err == NULL || errlen == 0)
		return;
	err[0] = '\0';
	if (field != NULL) {
		n = snprintf(err, errlen, "%s: ", field);
		if (n < 0 || (size_t)n >= errlen)
			return;
	}
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

/* Printable ASCII of at most TZ_QUOTE_MAX octets, the rest as '?'. */
static const char *
tz_quote(const char *s, char *out, size_t outlen)
{
	return proto_quote(s, strlen(s), TZ_QUOTE_MAX, out, outlen);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
int64_t
tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t		era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The civil date and time of a number of seconds since the epoch. */
static void
tz_civil_from_secs(int64_t t, struct tz_civil *c)
{
	int64_t		days, secs, z, era, doe, yoe, doy, mp;

	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	c->hour = (int)(secs / 3600);
	c->min = (int)(secs / 60 % 60);
	c->sec = (int)(secs % 60);
	c->wday = (int)((days % 7 + 11) % 7);	/* 1970-01-01 was a Thursday */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->year = yoe + era * 400 + (c->month <= 2);
}

static int
tz_days_in_month(int64_t y, int m)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;	/* tz_is_leap(), which is defined later */
	return days[m - 1];
}

/* Characters of IANA names; keeps paths such as "../x" away from libical. */
static int
tz_name_ok(const char *name)
{
	size_t	i;

	if (name == NULL || name[0] == '\0' || name[0] == '/' ||
	    name[0] == '.' || strstr(name, "..") != NULL ||
	    strstr(name, "//") != NULL || strstr(name, "/.") != NULL ||
	    name[strlen(name) - 1] == '/')
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= TZ_NAME_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '/' || c == '_' ||
		    c == '-' || c == '+'))
			return 0;
	}
	return 1;
}

/*
 * libical 3.0.16 reads explicit transitions only up to 2038-01-19 (32-bit
 * time) and derives later years from the TZif footer's POSIX rule, which
 * it gets wrong for some zones: America/St_Johns gets -01:30 for its
 * daylight time from 2038 on, Australia/Lord_Howe and Pacific/Chatham get
 * a daylight observance that changes nothing. Such a tail is recognisable
 * in the VTIMEZONE: its open-ended (RRULE without UNTIL) STANDARD and
 * DAYLIGHT observances do not hand over to each other. For those zones,
 * instants from 2038 on are computed in the latest earlier year with the
 * same calendar (leap year and weekday of 1 January), where libical's
 * transitions are still the explicit ones of the same, final, rule.
 */
static int
tz_check_tail(icaltimezone *z)
{
	icalcomponent		*vtz, *sub;
	icalproperty		*prop;
	struct icalrecurrencetype rr;
	int			 sfrom = 0, sto = 0, dfrom = 0, dto = 0;
	int			 have_s = 0, have_d = 0, from, to;

	if (z == icaltimezone_get_utc_timezone() ||
	    (vtz = icaltimezone_get_component(z)) == NULL)
		return 0;
	for (sub = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT);
	    sub != NULL;
	    sub = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
		if (icalcomponent_isa(sub) != ICAL_XSTANDARD_COMPONENT &&
		    icalcomponent_isa(sub) != ICAL_XDAYLIGHT_COMPONENT)
			continue;
		prop = icalcomponent_get_first_property(sub,
		    ICAL_RRULE_PROPERTY);
		if (prop == NULL)
			continue;
		rr = icalproperty_get_rrule(prop);
		if (!icaltime_is_null_time(rr.until) || rr.count != 0)
			continue;
		prop = icalcomponent_get_first_property(sub,
		    ICAL_TZOFFSETFROM_PROPERTY);
		from = prop != NULL ? icalproperty_get_tzoffsetfrom(prop) : 0;
		prop = icalcomponent_get_first_property(sub,
		    ICAL_TZOFFSETTO_PROPERTY);
		to = prop != NULL ? icalproperty_get_tzoffsetto(prop) : 0;
		if (icalcomponent_isa(sub) == ICAL_XSTANDARD_COMPONENT) {
			sfrom = from;
			sto = to;
			have_s = 1;
		} else {
			dfrom = from;
			dto = to;
			have_d = 1;
		}
	}
	if (!have_s && !have_d)
		return 0;
	if (have_s != have_d)
		return 1;
	return sfrom != dto || dfrom != sto || sfrom == sto || dfrom == dto;
}

static struct tz_info *
tz_info_for(icaltimezone *z)
{
	static struct tz_info	 overflow;
	size_t			 i;

	for (i = 0; i < tz_ninfos; i++) {
		if (tz_infos[i].zone == z)
			return &tz_infos[i];
	}
	if (tz_ninfos == TZ_INFO_MAX) {
		/* More zones than tzdata has: cannot happen; stay correct. */
		overflow.zone = z;
		overflow.tail_broken = tz_check_tail(z);
		return &overflow;
	}
	tz_infos[tz_ninfos].zone = z;
	tz_infos[tz_ninfos].tail_broken = tz_check_tail(z);
	return &tz_infos[tz_ninfos++];
}

/* The zone for name, or NULL. */
static const struct tz_info *
tz_zone(const char *name)
{
	struct tz_cache_entry	*e;
	icaltimezone		*z;
	size_t			 i;

	if (!tz_name_ok(name))
		return NULL;
	for (i = 0; i < TZ_CACHE_SIZE; i++) {
		if (strcmp(tz_cache[i].name, name) == 0)
			return tz_cache[i].info;
	}
	z = icaltimezone_get_builtin_timezone(name);
	icalerror_clear_errno();
	if (z == NULL && (strcmp(name, "Etc/UTC") == 0 ||
	    strcmp(name, "Etc/GMT") == 0))
		z = icaltimezone_get_utc_timezone();
	e = &tz_cache[tz_cache_next];
	tz_cache_next = (tz_cache_next + 1) % TZ_CACHE_SIZE;
	/* tz_name_ok() bounded the length, so this cannot truncate. */
	snprintf(e->name, sizeof e->name, "%s", name);
	e->info = z != NULL ? tz_info_for(z) : NULL;
	return e->info;
}

static int
tz_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The offset of zone zi at the instant t (seconds since the epoch, UTC). */
static int
tz_zone_offset(const struct tz_info *zi, int64_t t, int *is_daylight)
{
	struct icaltimetype	tt = icaltime_null_time();
	struct tz_civil		c;
	int			dst = 0, off;

	if (zi->zone == icaltimezone_get_utc_timezone()) {
		if (is_daylight != NULL)
			*is_daylight = 0;
		return 0;
	}
	tz_civil_from_secs(t, &c);
	if (zi->tail_broken && c.year >= TZ_TAIL_YEAR) {
		int64_t	y, d0 = tz_days_from_civil(c.year, 1, 1), d1;

		for (y = TZ_TAIL_YEAR - 1; y > TZ_TAIL_YEAR - 29; y--) {
			d1 = tz_days_from_civil(y, 1, 1);
			if (tz_is_leap(y) == tz_is_leap(c.year) &&
			    (d0 - d1) % 7 == 0) {
				tz_civil_from_secs(t - (d0 - d1) * 86400, &c);
				break;
			}
		}
	}
	tt.year = (int)c.year;
	tt.month = c.month;
	tt.day = c.day;
	tt.hour = c.hour;
	tt.minute = c.min;
	tt.second = c.sec;
	tt.zone = icaltimezone_get_utc_timezone();
	off = icaltimezone_get_utc_offset_of_utc_time(zi->zone, &tt, &dst);
	if (is_daylight != NULL)
		*is_daylight = dst;
	return off;
}

/* 1 if name is a known IANA zone. */
int
tz_valid(const char *name)
{
	return tz_zone(name) != NULL;
}

/* The offset from UTC of zone at the instant utc. */
int
tz_offset_at(const char *zone, int64_t utc, int *offset)
{
	const struct tz_info	*z;

	if (utc < TZ_UTC_MIN || utc > TZ_UTC_MAX)
		return -1;
	if ((z = tz_zone(zone)) == NULL)
		return -1;
	*offset = tz_zone_offset(z, utc, NULL);
	return 0;
}

/* Fixed-width decimal digits. */
static int
tz_digits(const char *s, int n, int *v)
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

/*
 * Find where the offset of z changes between lo and hi (the offset at lo
 * differs from the one at hi): the first instant with the new offset.
 */
static int64_t
tz_transition(const struct tz_info *z, int64_t lo, int64_t hi)
{
	int	before = tz_zone_offset(z, lo, NULL);

	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (tz_zone_offset(z, mid, NULL) == before)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/*
 * The sentence for a wall time in a gap: "start 2026-03-29 02:30 does not
 * exist in Europe/Berlin: clocks skip from 02:00 to 03:00".
 */
static void
tz_gap_error(const struct tz_info *z, int64_t wall, const char *zone,
    const char *field, char *err, size_t errlen)
{
	struct tz_civil	w, from, to;
	int64_t		tr;
	char		sec[8] = "";

	if (err == NULL || errlen == 0)
		return;
	tr = tz_transition(z, wall - 86400, wall + 86400);
	tz_civil_from_secs(wall, &w);
	tz_civil_from_secs(tr + tz_zone_offset(z, tr - 1, NULL), &from);
	tz_civil_from_secs(tr + tz_zone_offset(z, tr, NULL), &to);
	if (w.sec != 0)
		snprintf(sec, sizeof sec, ":%02d", w.sec);
	snprintf(err, errlen, "%s%s%04lld-%02d-%02d %02d:%02d%s does not "
	    "exist in %s: clocks skip from %02d:%02d to %02d:%02d",
	    field != NULL ? field : "", field != NULL ? " " : "",
	    (long long)w.year, w.month, w.day, w.hour, w.min, sec, zone,
	    from.hour, from.min, to.hour, to.min);
}

/* Convert a user's time into a UTC instant; see tz.h. */
int
tz_parse(const char *input, const char *zone, int allow_date,
    const char *field, int64_t *utc, char *local_out, size_t local_len,
    char *err, size_t errlen)
{
	char		 q[TZ_QUOTE_MAX + 8];
	const char	*p, *expect;
	const struct tz_info *z;
	struct tz_civil	 lc;
	int		 y, mo, d, h = 0, mi = 0, s = 0, oh, om = 0;
	int		 absolute = 0, date_only = 0, off = 0, have_sec = 0;
	int		 cand[3], i, found = 0, o;
	size_t		 len;
	int64_t		 wall, t = 0, best = 0;

	expect = allow_date ? "expected YYYY-MM-DDTHH:MM, YYYY-MM-DD or an "
	    "absolute time such as 2026-12-01T12:00Z" : "expected "
	    "YYYY-MM-DDTHH:MM or an absolute time such as 2026-12-01T12:00Z";
	if (zone == NULL)
		zone = "UTC";
	if ((z = tz_zone(zone)) == NULL) {
		tz_error(err, errlen, "tz", "unknown time zone \"%s\"",
		    tz_quote(zone, q, sizeof q));
		return -1;
	}
	if (input == NULL)
		input = "";
	while (*input == ' ' || *input == '\t')
		input++;
	len = strlen(input);
	while (len > 0 && (input[len - 1] == ' ' || input[len - 1] == '\t'))
		len--;
	p = input;
	if (len < 10 || tz_digits(p, 4, &y) == -1 || p[4] != '-' ||
	    tz_digits(p + 5, 2, &mo) == -1 || p[7] != '-' ||
	    tz_digits(p + 8, 2, &d) == -1)
		goto fail;
	p += 10;
	if (p == input + len) {
		if (!allow_date)
			goto fail;
		date_only = 1;
	} else {
		if ((*p != 'T' && *p != 't' && *p != ' ') ||
		    (size_t)(p - input) + 6 > len ||
		    tz_digits(p + 1, 2, &h) == -1 || p[3] != ':' ||
		    tz_digits(p + 4, 2, &mi) == -1)
			goto fail;
		p += 6;
		if (p < input + len && *p == ':') {
			if ((size_t)(p - input) + 3 > len ||
			    tz_digits(p + 1, 2, &s) == -1)
				goto fail;
			p += 3;
			have_sec = 1;
		}
		if (p < input + len) {
			size_t rest = (size_t)(input + len - p);

			if ((*p == 'Z' || *p == 'z') && rest == 1)
				absolute = 1;
			else if (*p == '+' || *p == '-') {
				if (rest != 3 && rest != 5 && rest != 6)
					goto fail;
				if (tz_digits(p + 1, 2, &oh) == -1)
					goto fail;
				if (rest == 5 && tz_digits(p + 3, 2, &om) == -1)
					goto fail;
				if (rest == 6 && (p[3] != ':' ||
				    tz_digits(p + 4, 2, &om) == -1))
					goto fail;
				if (oh > 18 || om > 59) {
					tz_error(err, errlen, field, "\"%s\" "
					    "has an invalid UTC offset",
					    tz_quote(input, q, sizeof q));
					return -1;
				}
				off = (oh * 3600 + om * 60) *
				    (*p == '-' ? -1 : 1);
				absolute = 1;
			} else
				goto fail;
		}
	}
	if (y < TZ_YEAR_MIN || y > TZ_YEAR_MAX) {
		tz_error(err, errlen, field, "year %d is outside %d..%d", y,
		    TZ_YEAR_MIN, TZ_YEAR_MAX);
		return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > tz_days_in_month(y, mo)) {
		tz_error(err, errlen, field, "%04d-%02d-%02d is not a valid "
		    "date", y, mo, d);
		return -1;
	}
	if (h > 23 || mi > 59 || s > 59) {
		tz_error(err, errlen, field, "%02d:%02d%s is not a valid time",
		    h, mi, have_sec ? (s > 59 ? ":60+" : ":ss") : "");
		return -1;
	}
	wall = tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	if (absolute)
		t = wall - off;
	else {
		/*
		 * The offsets in force a day before, at, and a day after the
		 * wall time read as UTC are the only candidates: the instant
		 * wall - o is real if the zone's offset at it is o. None real
		 * means a gap; two mean an overlap, and RFC 5545 wants the
		 * earlier instant.
		 */
		cand[0] = tz_zone_offset(z, wall - 86400, NULL);
		cand[1] = tz_zone_offset(z, wall, NULL);
		cand[2] = tz_zone_offset(z, wall + 86400, NULL);
		for (i = 0; i < 3; i++) {
			int64_t c = wall - cand[i];

			if (tz_zone_offset(z, c, NULL) != cand[i])
				continue;
			if (!found || c < best)
				best = c;
			found = 1;
		}
		if (found)
			t = best;
		else if (date_only) {
			/* The day begins when the clocks jump. */
			t = tz_transition(z, wall - 86400, wall + 86400);
		} else {
			tz_gap_error(z, wall, zone, field, err, errlen);
			return -1;
		}
	}
	*utc = t;
	if (local_out != NULL && local_len > 0) {
		o = tz_zone_offset(z, t, NULL);
		tz_civil_from_secs(t + o, &lc);
		snprintf(local_out, local_len, "%04lld-%02d-%02dT%02d:%02d:%02d",
		    (long long)lc.year, lc.month, lc.day, lc.hour, lc.min,
		    lc.sec);
	}
	return 0;
fail:
	tz_error(err, errlen, field, "\"%s\" is not a valid time (%s)",
	    tz_quote(input, q, sizeof q), expect);
	return -1;
}

/* Format utc as "2026-12-01T12:00:00Z". */
void
tz_format_utc(int64_t utc, char *buf, size_t len)
{
	struct tz_civil	c;

	if (len == 0)
		return;
	if (utc < TZ_UTC_MIN || utc > TZ_UTC_MAX) {
		snprintf(buf, len, "%s", utc < 0 ? "0001-01-01T00:00:00Z" :
		    "9999-12-31T23:59:59Z");
		return;
	}
	tz_civil_from_secs(utc, &c);
	snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
	    (long long)c.year, c.month, c.day, c.hour, c.min, c.sec);
}

/* Parse "2026-12-01T12:00:00Z" exactly as tz_format_utc writes it. */
int
tz_parse_utc(const char *s, int64_t *utc)
{
	int	y, mo, d, h, mi, sec;

	if (s == NULL || strlen(s) != 20 || tz_digits(s, 4, &y) == -1 ||
	    s[4] != '-' || tz_digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    tz_digits(s + 8, 2, &d) == -1 || s[10] != 'T' ||
	    tz_digits(s + 11, 2, &h) == -1 || s[13] != ':' ||
	    tz_digits(s + 14, 2, &mi) == -1 || s[16] != ':' ||
	    tz_digits(s + 17, 2, &sec) == -1 || s[19] != 'Z')
		return -1;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > tz_days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		return -1;
	*utc = tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

/*
 * The abbreviation in force at t: the TZNAME of the latest observance of
 * the zone's VTIMEZONE that began before t and has the offset in force.
 * Names that are not alphabetic ("+05" in tzdata) and zones without one
 * give the numeric offset ("+05", "+0530").
 */
static void
tz_abbrev(const struct tz_info *zi, int64_t t, int off, char *out, size_t outlen)
{
	icalcomponent		*vtz, *sub;
	icalproperty		*prop;
	struct icaltimetype	 ds;
	const char		*name = NULL, *n;
	int64_t			 local = t + off, start, best = INT64_MIN;
	int			 a, ok;
	size_t			 i;

	if (zi->zone == icaltimezone_get_utc_timezone()) {
		snprintf(out, outlen, "UTC");
		return;
	}
	vtz = icaltimezone_get_component(zi->zone);
	for (sub = vtz != NULL ? icalcomponent_get_first_component(vtz,
	    ICAL_ANY_COMPONENT) : NULL; sub != NULL;
	    sub = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
		if (icalcomponent_isa(sub) != ICAL_XSTANDARD_COMPONENT &&
		    icalcomponent_isa(sub) != ICAL_XDAYLIGHT_COMPONENT)
			continue;
		prop = icalcomponent_get_first_property(sub,
		    ICAL_TZOFFSETTO_PROPERTY);
		if (prop == NULL || icalproperty_get_tzoffsetto(prop) != off)
			continue;
		ds = icalcomponent_get_dtstart(sub);
		if (icaltime_is_null_time(ds))
			continue;
		start = tz_days_from_civil(ds.year, ds.month, ds.day) * 86400 +
		    ds.hour * 3600 + ds.minute * 60 + ds.second;
		if (start > local || start < best)
			continue;
		prop = icalcomponent_get_first_property(sub,
		    ICAL_TZNAME_PROPERTY);
		if (prop == NULL || (n = icalproperty_get_tzname(prop)) == NULL)
			continue;
		best = start;
		name = n;
	}
	ok = name != NULL && strlen(name) >= 2 && strlen(name) <= 6;
	for (i = 0; ok && name[i] != '\0'; i++) {
		if (!((name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= 'a' && name[i] <= 'z')))
			ok = 0;
	}
	if (ok) {
		snprintf(out, outlen, "%s", name);
		return;
	}
	a = off < 0 ? -off : off;
	if (a % 3600 == 0)
		snprintf(out, outlen, "%c%02d", off < 0 ? '-' : '+', a / 3600);
	else
		snprintf(out, outlen, "%c%02d%02d", off < 0 ? '-' : '+',
		    a / 3600, a / 60 % 60);
}

/* Format utc as wall time in zone with a strftime-like fmt; see tz.h. */
int
tz_format_local(int64_t utc, const char *zone, const char *fmt, char *buf,
    size_t len)
{
	const struct tz_info *z;
	struct tz_civil	 c;
	char		 piece[32];
	const char	*add;
	size_t		 o = 0, n;
	int		 off;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if ((z = tz_zone(zone)) == NULL || utc < TZ_UTC_MIN ||
	    utc > TZ_UTC_MAX)
		return -1;
	off = tz_zone_offset(z, utc, NULL);
	tz_civil_from_secs(utc + off, &c);
	for (; *fmt != '\0'; fmt++) {
		add = piece;
		if (*fmt != '%' || fmt[1] == '\0') {
			piece[0] = *fmt;
			piece[1] = '\0';
		} else {
			switch (*++fmt) {
			case 'Y':
				snprintf(piece, sizeof piece, "%04lld",
				    (long long)c.year);
				break;
			case 'm':
				snprintf(piece, sizeof piece, "%02d", c.month);
				break;
			case 'd':
				snprintf(piece, sizeof piece, "%02d", c.day);
				break;
			case 'H':
				snprintf(piece, sizeof piece, "%02d", c.hour);
				break;
			case 'M':
				snprintf(piece, sizeof piece, "%02d", c.min);
				break;
			case 'S':
				snprintf(piece, sizeof piece, "%02d", c.sec);
				break;
			case 'a':
				add = tz_wdays[c.wday];
				break;
			case 'b':
				add = tz_months[c.month - 1];
				break;
			case 'Z':
				tz_abbrev(z, utc, off, piece, sizeof piece);
				break;
			case '%':
				add = "%";
				break;
			default:
				snprintf(piece, sizeof piece, "%%%c", *fmt);
				break;
			}
		}
		n = strlen(add);
		if (o + n >= len)
			n = len - o - 1;	/* truncate, stay terminated */
		memcpy(buf + o, add, n);
		o += n;
		buf[o] = '\0';
	}
	return 0;
}

/* Take a zone name from a path such as "/usr/share/zoneinfo/Europe/Moscow". */
static const char *
tz_from_path(const char *path)
{
	const char	*p;

	if ((p = strstr(path, "zoneinfo/")) == NULL)
		return NULL;
	p += strlen("zoneinfo/");
	/* Debian's zoneinfo also has posix/ and right/ copies. */
	if (strncmp(p, "posix/", 6) == 0)
		p += 6;
	return p;
}

static char tz_system[TZ_NAME_MAX + 1];

/* Keep name as the system zone if it is a known zone. */
static int
tz_system_take(const char *name)
{
	size_t	l;

	if (name == NULL || !tz_valid(name))
		return -1;
	l = strlen(name);	/* at most TZ_NAME_MAX after tz_valid() */
	memcpy(tz_system, name, l + 1);
	return 0;
}

/* The zone this machine runs in, or "UTC"; computed once. */
const char *
tz_system_zone(void)
{
	static int	 done;
	char		 buf[256];
	const char	*env, *cand;
	FILE		*f;
	ssize_t		 n;
	size_t		 l;

	if (done)
		return tz_system;
	done = 1;
	memcpy(tz_system, "UTC", 4);
	if ((env = getenv("TZ")) != NULL && env[0] != '\0') {
		if (env[0] == ':')
			env++;
		cand = env[0] == '/' ? tz_from_path(env) : env;
		if (tz_system_take(cand) == 0)
			return tz_system;
	}
	if ((f = fopen("/etc/timezone", "re")) != NULL) {
		if (fgets(buf, sizeof buf, f) != NULL) {
			l = strcspn(buf, " \t\r\n");
			buf[l] = '\0';
			if (tz_system_take(buf) == 0) {
				fclose(f);
				return tz_system;
			}
		}
		fclose(f);
	}
	if ((n = readlink("/etc/localtime", buf, sizeof buf - 1)) > 0) {
		buf[n] = '\0';
		(void)tz_system_take(tz_from_path(buf));
	}
	return tz_system;
}
