/*
 * tz.c -- time zones and instants; shared by daemon and client.
 *
 * Offsets come from the system's TZif files (RFC 8536), which this file
 * reads itself. libical's zones were used before, but libical expands a
 * zone with its recurrence iterator, which in Debian's libical 3.0.16
 * opens an ICU calendar: the first conversion pulled about 3 MiB of ICU
 * and libstdc++ into the daemon's resident memory, and libical's offsets
 * after 2038 were wrong for some zones. glibc's reader is no alternative
 * in a daemon that serves many zones at once: it knows one zone, the
 * process-wide TZ, and switching TZ re-reads a file and is not
 * thread-safe. A TZif file is simple: a table of transitions (the 64-bit
 * one of version 2 and later is used) and, for instants after the last
 * transition, a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3".
 *
 * Zone names come from users and the files may be damaged (or, in tests,
 * crafted: TZDIR is honoured as glibc does): names are checked before
 * they become paths, only regular files of bounded size are read, and
 * every count, index and offset in a file is checked before use. A file
 * that fails any check makes its zone unknown.
 *
 * A zone is read once and kept for the life of the process (a few KB;
 * aliases with identical contents share one copy, so the total is bounded
 * by the distinct files in the zoneinfo directory). Names are found
 * through a hash table; recent unknown names are remembered too, so the
 * request path never re-reads a file. The caches are behind one mutex
 * (the daemon's reader thread runs reports while the loop serves); a zone,
 * once read, never changes or goes away, so what tz_zone returns is used
 * without the lock. tz_format_utc, tz_parse_utc and tz_days_from_civil
 * keep no state.
 *
 * Calendar arithmetic (civil date <-> day number) is done here with
 * integers instead of mktime()/timegm() for the same reason as above:
 * those depend on the process's TZ.
 */
#include <sys/stat.h>

#include <pthread.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tz.h"
#include "proto.h"

#define TZ_YEAR_MIN	1970
#define TZ_YEAR_MAX	2200
#define TZ_NAME_MAX	64
/* Instants outside years 1..9999 are refused by tz_offset_at. */
#define TZ_UTC_MIN	(-62135596800LL)
#define TZ_UTC_MAX	(253402300799LL)
#define TZ_QUOTE_MAX	60

#define TZ_DIR_DEFAULT	"/usr/share/zoneinfo"
/* The largest tzdata file is under 4 KiB; anything this big is not one. */
#define TZ_FILE_MAX	(256 * 1024)
#define TZ_HDR_LEN	44
/* RFC 8536: UT offsets lie within -25:59:59..+25:59:59. */
#define TZ_OFF_MAX	(26 * 3600 - 1)
/*
 * Transition times are only compared, but zic writes -2^59 for "the
 * beginning of time" and nothing real lies beyond this: a file is damaged.
 */
#define TZ_TIME_LIMIT	(1LL << 62)
/* Longest POSIX TZ string and abbreviation accepted (tzdata: 40 and 6). */
#define TZ_FOOTER_MAX	255
#define TZ_ABBR_MAX	15
/* Unknown names remembered, and known names kept (tzdata has ~1,800). */
#define TZ_MISS_SIZE	16
#define TZ_NAMES_MAX	4096

/* A local time type of a TZif file. */
struct tz_type {
	int32_t		off;		/* seconds east of UTC */
	uint8_t		abbr;		/* index into chars */
};

/* The day of a POSIX TZ rule: Jn, n or Mm.w.d, and the time of day. */
struct tz_date {
	char		kind;		/* 'J', 'n' or 'M' */
	int		n, m, w, d;
	int32_t		secs;		/* local time, -167h..167h */
};

/* The POSIX TZ string of a TZif footer. */
struct tz_rule {
	int32_t		std_off, dst_off; /* seconds east of UTC */
	char		std_abbr[TZ_ABBR_MAX + 1];
	char		dst_abbr[TZ_ABBR_MAX + 1];
	int		has_dst;
	struct tz_date	start, end;
};

/*
 * A parsed zone: one allocation holding the struct and its arrays, kept
 * until the process exits.
 */
struct tz_zone {
	struct tz_zone	*next;		/* tz_zones */
	const int64_t	*trans;		/* ascending, since the epoch */
	const uint8_t	*idx;		/* type of each transition */
	const struct tz_type *types;
	const char	*chars;		/* NUL-terminated abbreviations */
	uint32_t	 ntrans, ntypes, nchars;
	int		 has_rule;	/* rule applies after trans */
	struct tz_rule	 rule;
};

/* Known names (open addressing) and the zones they resolve to. */
struct tz_name {
	char		*name;
	uint32_t	 hash;
	const struct tz_zone *zone;
};

static pthread_mutex_t	 tz_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct tz_name	*tz_names;
static size_t		 tz_names_size, tz_names_used;
static struct tz_zone	*tz_zones;
static char		 tz_misses[TZ_MISS_SIZE][TZ_NAME_MAX + 1];
static size_t		 tz_misses_next;

/*
 * UTC needs no file: it works in a chroot or without tzdata, and a test's
 * TZDIR cannot break the zone tz_system_zone() falls back to.
 */
static const struct tz_type tz_utc_type = { 0, 0 };
static const struct tz_zone tz_utc = {
	.types = &tz_utc_type, .chars = "UTC", .ntypes = 1, .nchars = 4
};
static const struct tz_zone tz_gmt = {
	.types = &tz_utc_type, .chars = "GMT", .ntypes = 1, .nchars = 4
};

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
tz_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
tz_days_in_month(int64_t y, int m)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && tz_is_leap(y))
		return 29;
	return days[m - 1];
}

/*
 * Characters of IANA names. A name becomes a path under TZDIR: this keeps
 * "../x", "/etc/x" and the like out of it.
 */
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

/* Big-endian integers of a TZif file. */
static uint32_t
tz_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t
tz_be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)tz_be32(p) << 32 | tz_be32(p + 4));
}

/* A time of tsize (4 or 8) octets. */
static int64_t
tz_betime(const uint8_t *p, size_t tsize)
{
	return tsize == 8 ? tz_be64(p) : (int32_t)tz_be32(p);
}

/* The counts of a TZif header and the length of the data that follows. */
struct tz_hdr {
	int		version;	/* 0, '2', '3', ... */
	uint32_t	isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
	uint64_t	datalen;
};

/*
 * Read the header at p (left octets from p to the end of the file) of a
 * block with times of tsize octets. -1 if it is not a header or if its
 * data does not fit in the file: counts are 32-bit, so the length is
 * summed in 64 bits and only then compared.
 */
static int
tz_header(const uint8_t *p, size_t left, size_t tsize, struct tz_hdr *h)
{
	if (left < TZ_HDR_LEN || memcmp(p, "TZif", 4) != 0)
		return -1;
	h->version = p[4];
	h->isutcnt = tz_be32(p + 20);
	h->isstdcnt = tz_be32(p + 24);
	h->leapcnt = tz_be32(p + 28);
	h->timecnt = tz_be32(p + 32);
	h->typecnt = tz_be32(p + 36);
	h->charcnt = tz_be32(p + 40);
	h->datalen = (uint64_t)h->timecnt * (tsize + 1) +
	    (uint64_t)h->typecnt * 6 + h->charcnt +
	    (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
	if (h->datalen > left - TZ_HDR_LEN)
		return -1;
	return 0;
}

/* Parse a number of at most maxdig digits. */
static const char *
tz_posix_num(const char *p, int maxdig, int *v)
{
	int	n = 0;

	*v = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (++n > maxdig)
			return NULL;
		*v = *v * 10 + (*p - '0');
	}
	return n == 0 ? NULL : p;
}

/* Parse [+-]hh[:mm[:ss]], hh at most maxh, into seconds. */
static const char *
tz_posix_time(const char *p, int maxh, int32_t *secs)
{
	int	sign = 1, h, m = 0, s = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if ((p = tz_posix_num(p, 3, &h)) == NULL || h > maxh)
		return NULL;
	if (*p == ':') {
		if ((p = tz_posix_num(p + 1, 2, &m)) == NULL || m > 59)
			return NULL;
		if (*p == ':' && ((p = tz_posix_num(p + 1, 2, &s)) == NULL ||
		    s > 59))
			return NULL;
	}
	*secs = sign * (h * 3600 + m * 60 + s);
	return p;
}

/* Parse an abbreviation: letters, or <...> of letters, digits, + and -. */
static const char *
tz_posix_abbr(const char *p, char *out)
{
	size_t	n = 0;
	int	quoted = *p == '<';

	if (quoted)
		p++;
	for (;; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (quoted && ((c >= '0' && c <= '9') || c == '+' ||
		    c == '-'))))
			break;
		if (n == TZ_ABBR_MAX)
			return NULL;
		out[n++] = c;
	}
	out[n] = '\0';
	if (n < 3 || (quoted && *p++ != '>'))
		return NULL;
	return p;
}

/*
 * Parse the day and time of a rule: Jn (1..365, 29 February never
 * counted), n (0..365, counted) or Mm.w.d (day d of week w of month m, w 5
 * the last), then /time, which RFC 8536 lets be negative or past 24h.
 */
static const char *
tz_posix_date(const char *p, struct tz_date *d)
{
	if (*p == 'J') {
		d->kind = 'J';
		if ((p = tz_posix_num(p + 1, 3, &d->n)) == NULL ||
		    d->n < 1 || d->n > 365)
			return NULL;
	} else if (*p == 'M') {
		d->kind = 'M';
		if ((p = tz_posix_num(p + 1, 2, &d->m)) == NULL ||
		    d->m < 1 || d->m > 12 || *p != '.' ||
		    (p = tz_posix_num(p + 1, 1, &d->w)) == NULL ||
		    d->w < 1 || d->w > 5 || *p != '.' ||
		    (p = tz_posix_num(p + 1, 1, &d->d)) == NULL || d->d > 6)
			return NULL;
	} else {
		d->kind = 'n';
		if ((p = tz_posix_num(p, 3, &d->n)) == NULL || d->n > 365)
			return NULL;
	}
	d->secs = 2 * 3600;
	if (*p == '/')
		p = tz_posix_time(p + 1, 167, &d->secs);
	return p;
}

/*
 * Parse a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3", "<+03>-3"). Its
 * offsets count west of UTC; they are kept east, like TZif's. A daylight
 * time without a rule is refused: POSIX leaves its dates to the
 * implementation, and RFC 8536 footers always give them.
 */
static int
tz_posix_parse(const char *s, struct tz_rule *r)
{
	const char	*p;
	int32_t		 off;

	memset(r, 0, sizeof *r);
	if ((p = tz_posix_abbr(s, r->std_abbr)) == NULL ||
	    (p = tz_posix_time(p, 24, &off)) == NULL)
		return -1;
	r->std_off = r->dst_off = -off;
	if (*p == '\0')
		return 0;
	if ((p = tz_posix_abbr(p, r->dst_abbr)) == NULL)
		return -1;
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if ((p = tz_posix_time(p, 24, &off)) == NULL)
			return -1;
		r->dst_off = -off;
	}
	if (*p != ',' || (p = tz_posix_date(p + 1, &r->start)) == NULL ||
	    *p != ',' || (p = tz_posix_date(p + 1, &r->end)) == NULL ||
	    *p != '\0')
		return -1;
	return 0;
}

/* The instant of a rule's change in year y; its time is local, at off. */
static int64_t
tz_rule_when(const struct tz_date *d, int64_t y, int32_t off)
{
	int64_t	day, first;
	int	wday;

	switch (d->kind) {
	case 'J':
		day = tz_days_from_civil(y, 1, 1) + d->n - 1 +
		    (tz_is_leap(y) && d->n >= 60);
		break;
	case 'n':
		day = tz_days_from_civil(y, 1, 1) + d->n;
		break;
	default:
		first = tz_days_from_civil(y, d->m, 1);
		wday = (int)((first % 7 + 11) % 7);	/* 1970-01-01: Thu */
		day = first + (d->d - wday + 7) % 7 + (d->w - 1) * 7;
		if (day >= first + tz_days_in_month(y, d->m))
			day -= 7;	/* w 5: the last one */
		break;
	}
	return day * 86400 + d->secs - off;
}

/*
 * The offset of rule r at the instant t. Changes of the years around t
 * are computed and the latest one not after t decides; times past 24h or
 * below zero can move a change into the next or previous year, hence four
 * years. At the same instant a start wins over an end: that is how RFC
 * 8536 writes daylight time all year ("EST5EDT,0/0,J365/25").
 */
static int32_t
tz_rule_offset(const struct tz_rule *r, int64_t t, const char **abbr)
{
	struct tz_civil	c;
	int64_t		y, when, best = INT64_MIN;
	int		dst = 0;

	if (r->has_dst) {
		tz_civil_from_secs(t, &c);
		for (y = c.year - 2; y <= c.year + 1; y++) {
			when = tz_rule_when(&r->start, y, r->std_off);
			if (when <= t && when >= best) {
				best = when;
				dst = 1;
			}
			when = tz_rule_when(&r->end, y, r->dst_off);
			if (when <= t && when > best) {
				best = when;
				dst = 0;
			}
		}
	}
	if (abbr != NULL)
		*abbr = dst ? r->dst_abbr : r->std_abbr;
	return dst ? r->dst_off : r->std_off;
}

/* The offset of zone z at the instant t, and its abbreviation. */
static int32_t
tz_zone_offset(const struct tz_zone *z, int64_t t, const char **abbr)
{
	const struct tz_type	*ty;
	uint32_t		 lo, hi, mid;

	if (z->has_rule && (z->ntrans == 0 || t >= z->trans[z->ntrans - 1]))
		return tz_rule_offset(&z->rule, t, abbr);
	if (z->ntrans == 0 || t < z->trans[0])
		ty = &z->types[0];	/* RFC 8536: type 0 before all */
	else {
		/* The last transition not after t. */
		lo = 0;
		hi = z->ntrans;
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if (z->trans[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		ty = &z->types[z->idx[lo]];
	}
	if (abbr != NULL)
		*abbr = z->chars + ty->abbr;
	return ty->off;
}

/*
 * Parse a TZif file of len octets. Returns a zone (one allocation, freed
 * with free()) or NULL if anything in the file is out of place.
 */
static struct tz_zone *
tz_zone_parse(const uint8_t *buf, size_t len)
{
	struct tz_hdr	 h;
	struct tz_zone	*z = NULL;
	const uint8_t	*p = buf, *end = buf + len, *types, *nl;
	size_t		 tsize = 4, size, i;
	int64_t		*trans;
	uint8_t		*idx;
	struct tz_type	*tt;
	char		*chars, footer[TZ_FOOTER_MAX + 1];

	if (tz_header(p, len, 4, &h) == -1)
		return NULL;
	if (h.version != 0) {
		/* Version 2+: skip the 32-bit block for the 64-bit one. */
		if (h.version < '2')
			return NULL;
		p += TZ_HDR_LEN + h.datalen;
		if (tz_header(p, (size_t)(end - p), 8, &h) == -1 ||
		    h.version < '2')
			return NULL;
		tsize = 8;
	}
	/*
	 * Leap seconds (the right/ zones): their times count them while
	 * lectern's instants are POSIX time, and their tables end, without
	 * a rule, where the leap-second list expires. Not for scheduling.
	 */
	if (h.leapcnt != 0 || h.typecnt == 0 || h.typecnt > 256 ||
	    h.charcnt == 0 ||
	    (h.isstdcnt != 0 && h.isstdcnt != h.typecnt) ||
	    (h.isutcnt != 0 && h.isutcnt != h.typecnt))
		return NULL;
	p += TZ_HDR_LEN;

	/* Everything fits in len (tz_header), so none of this overflows. */
	size = sizeof *z + (size_t)h.timecnt * (sizeof *trans + 1) +
	    (size_t)h.typecnt * sizeof *tt + h.charcnt;
	if ((z = calloc(1, size)) == NULL)
		return NULL;
	trans = (int64_t *)(z + 1);
	tt = (struct tz_type *)(trans + h.timecnt);
	idx = (uint8_t *)(tt + h.typecnt);
	chars = (char *)(idx + h.timecnt);
	z->trans = trans;
	z->types = tt;
	z->idx = idx;
	z->chars = chars;
	z->ntrans = h.timecnt;
	z->ntypes = h.typecnt;
	z->nchars = h.charcnt;

	for (i = 0; i < h.timecnt; i++) {
		trans[i] = tz_betime(p + i * tsize, tsize);
		if (trans[i] < -TZ_TIME_LIMIT || trans[i] > TZ_TIME_LIMIT ||
		    (i > 0 && trans[i] <= trans[i - 1]))
			goto fail;
	}
	p += (size_t)h.timecnt * tsize;
	for (i = 0; i < h.timecnt; i++) {
		if ((idx[i] = p[i]) >= h.typecnt)
			goto fail;
	}
	p += h.timecnt;
	types = p;
	p += (size_t)h.typecnt * 6;
	memcpy(chars, p, h.charcnt);
	p += h.charcnt;
	for (i = 0; i < h.typecnt; i++) {
		const uint8_t	*q = types + i * 6;
		int32_t		 off = (int32_t)tz_be32(q);

		if (off < -TZ_OFF_MAX || off > TZ_OFF_MAX || q[4] > 1 ||
		    q[5] >= h.charcnt ||
		    memchr(chars + q[5], '\0', h.charcnt - q[5]) == NULL)
			goto fail;
		tt[i].off = off;
		tt[i].abbr = q[5];
	}

	/* The standard/wall and UT/local indicators only serve POSIX TZ. */
	p += h.isstdcnt + h.isutcnt;

	if (tsize == 4) {
		if (p != end)
			goto fail;
		return z;
	}
	/* The footer: "\n", a POSIX TZ string, perhaps empty, "\n". */
	if (p == end || *p != '\n' ||
	    (nl = memchr(p + 1, '\n', (size_t)(end - p - 1))) == NULL ||
	    nl + 1 != end || (size_t)(nl - p - 1) > TZ_FOOTER_MAX)
		goto fail;
	memcpy(footer, p + 1, (size_t)(nl - p - 1));
	footer[nl - p - 1] = '\0';
	if (strlen(footer) != (size_t)(nl - p - 1))
		goto fail;
	if (footer[0] != '\0') {
		if (tz_posix_parse(footer, &z->rule) == -1)
			goto fail;
		z->has_rule = 1;
	}
	return z;
fail:
	free(z);
	return NULL;
}

/* 1 if a and b hold the same zone (links, posix/ copies). */
static int
tz_zone_same(const struct tz_zone *a, const struct tz_zone *b)
{
	const struct tz_rule	*ra = &a->rule, *rb = &b->rule;
	size_t			 i;

	if (a->ntrans != b->ntrans || a->ntypes != b->ntypes ||
	    a->nchars != b->nchars || a->has_rule != b->has_rule ||
	    memcmp(a->trans, b->trans, a->ntrans * sizeof *a->trans) != 0 ||
	    memcmp(a->idx, b->idx, a->ntrans) != 0 ||
	    memcmp(a->chars, b->chars, a->nchars) != 0)
		return 0;
	for (i = 0; i < a->ntypes; i++) {
		if (a->types[i].off != b->types[i].off ||
		    a->types[i].abbr != b->types[i].abbr)
			return 0;
	}
	return !a->has_rule || (ra->std_off == rb->std_off &&
	    ra->dst_off == rb->dst_off && ra->has_dst == rb->has_dst &&
	    strcmp(ra->std_abbr, rb->std_abbr) == 0 &&
	    strcmp(ra->dst_abbr, rb->dst_abbr) == 0 &&
	    memcmp(&ra->start, &rb->start, sizeof ra->start) == 0 &&
	    memcmp(&ra->end, &rb->end, sizeof ra->end) == 0);
}

/*
 * Read the zone called name from TZDIR (or the system's zoneinfo). Only a
 * regular file of at most TZ_FILE_MAX octets is read; O_NONBLOCK keeps a
 * FIFO from blocking the open, and symbolic-link loops fail in open().
 */
static struct tz_zone *
tz_zone_read(const char *name)
{
	char		 path[PATH_MAX];
	const char	*dir;
	struct stat	 st;
	struct tz_zone	*z = NULL;
	uint8_t		*buf = NULL;
	size_t		 len = 0, cap;
	ssize_t		 n;
	int		 fd, l;

	if ((dir = secure_getenv("TZDIR")) == NULL || dir[0] == '\0')
		dir = TZ_DIR_DEFAULT;
	l = snprintf(path, sizeof path, "%s/%s", dir, name);
	if (l < 0 || (size_t)l >= sizeof path)
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > TZ_FILE_MAX)
		goto out;
	/* One octet more than the size, to notice a file that grew. */
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	while (len < cap) {
		if ((n = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == (size_t)st.st_size)
		z = tz_zone_parse(buf, len);
out:
	free(buf);
	close(fd);
	return z;
}

/* The zone for name from its file, shared with an identical one. */
static const struct tz_zone *
tz_zone_load(const char *name)
{
	struct tz_zone	*z, *old;

	if ((z = tz_zone_read(name)) == NULL)
		return NULL;
	for (old = tz_zones; old != NULL; old = old->next) {
		if (tz_zone_same(old, z)) {
			free(z);
			return old;
		}
	}
	z->next = tz_zones;
	tz_zones = z;
	return z;
}

/* FNV-1a of a name. */
static uint32_t
tz_hash(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* The slot of name in tz_names: its own, or the empty one it would take. */
static struct tz_name *
tz_names_slot(struct tz_name *tab, size_t size, const char *name,
    uint32_t hash)
{
	size_t	i = hash & (size - 1);

	while (tab[i].name != NULL && (tab[i].hash != hash ||
	    strcmp(tab[i].name, name) != 0))
		i = (i + 1) & (size - 1);
	return &tab[i];
}

/*
 * Remember that name is zone z. Failing to (no memory, or more names than
 * any tzdata has) costs only speed: the name is read again next time.
 */
static void
tz_names_add(const char *name, uint32_t hash, const struct tz_zone *z)
{
	struct tz_name	*tab, *e;
	size_t		 size, i;
	char		*copy;

	if (tz_names_used >= TZ_NAMES_MAX)
		return;
	if ((tz_names_used + 1) * 2 > tz_names_size) {
		size = tz_names_size == 0 ? 64 : tz_names_size * 2;
		if ((tab = calloc(size, sizeof *tab)) == NULL)
			return;
		for (i = 0; i < tz_names_size; i++) {
			if (tz_names[i].name != NULL)
				*tz_names_slot(tab, size, tz_names[i].name,
				    tz_names[i].hash) = tz_names[i];
		}
		free(tz_names);
		tz_names = tab;
		tz_names_size = size;
	}
	if ((copy = strdup(name)) == NULL)
		return;
	e = tz_names_slot(tz_names, tz_names_size, name, hash);
	e->name = copy;
	e->hash = hash;
	e->zone = z;
	tz_names_used++;
}

/* The zone for name, or NULL (tz_zone, with the caches locked). */
static const struct tz_zone *
tz_zone_locked(const char *name)
{
	const struct tz_zone	*z;
	struct tz_name		*e;
	uint32_t		 hash;
	size_t			 i;

	if (name == NULL)
		return NULL;
	hash = tz_hash(name);
	if (tz_names_size != 0) {
		e = tz_names_slot(tz_names, tz_names_size, name, hash);
		if (e->name != NULL)
			return e->zone;
	}
	if (!tz_name_ok(name))
		return NULL;
	for (i = 0; i < TZ_MISS_SIZE; i++) {
		if (strcmp(tz_misses[i], name) == 0)
			return NULL;
	}
	if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
		z = &tz_utc;
	else if (strcmp(name, "Etc/GMT") == 0)
		z = &tz_gmt;
	else if ((z = tz_zone_load(name)) == NULL) {
		/* tz_name_ok() bounded the length, so this cannot truncate. */
		snprintf(tz_misses[tz_misses_next],
		    sizeof tz_misses[tz_misses_next], "%s", name);
		tz_misses_next = (tz_misses_next + 1) % TZ_MISS_SIZE;
		return NULL;
	}
	tz_names_add(name, hash, z);
	return z;
}

static const struct tz_zone *
tz_zone(const char *name)
{
	const struct tz_zone	*z;

	pthread_mutex_lock(&tz_mtx);
	z = tz_zone_locked(name);
	pthread_mutex_unlock(&tz_mtx);
	return z;
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
	const struct tz_zone	*z;

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
tz_transition(const struct tz_zone *z, int64_t lo, int64_t hi)
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
tz_gap_error(const struct tz_zone *z, int64_t wall, const char *zone,
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
	const struct tz_zone *z;
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
 * The abbreviation name of the zone, in force with the offset off ("CET",
 * "MSK"). Names that are not alphabetic ("+05" in tzdata, "-00")
 * give the numeric offset ("+05", "+0530").
 */
static void
tz_abbrev(const char *name, int off, char *out, size_t outlen)
{
	size_t	i, n;
	int	a, ok;

	n = strlen(name);
	ok = n >= 2 && n <= 6;
	for (i = 0; ok && i < n; i++) {
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
	const struct tz_zone *z;
	struct tz_civil	 c;
	char		 piece[32];
	const char	*add, *abbr;
	size_t		 o = 0, n;
	int		 off;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if ((z = tz_zone(zone)) == NULL || utc < TZ_UTC_MIN ||
	    utc > TZ_UTC_MAX)
		return -1;
	off = tz_zone_offset(z, utc, &abbr);
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
				tz_abbrev(abbr, off, piece, sizeof piece);
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
	if (strncmp(p, "posix/", 6) == 0 || strncmp(p, "right/", 6) == 0)
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
