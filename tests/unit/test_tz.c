/*
 * test_tz.c -- tz.c against an independent oracle: glibc's own reading of
 * the system tzdata (setenv TZ + localtime_r/mktime), for every zone of
 * tzdata and instants 1970..2200, gaps and overlaps included; and tz.c's
 * TZif reader against damaged and crafted files in a TZDIR of its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tz.h"

static const char *const zones[] = {
	"Europe/Moscow", "Asia/Yekaterinburg", "Europe/Berlin",
	"America/New_York", "Australia/Sydney", "Asia/Kolkata",
	"America/St_Johns", "Pacific/Chatham", "Asia/Kathmandu", "UTC",
	"Europe/London", "America/Santiago", "Australia/Lord_Howe",
};
#define NZONES (sizeof zones / sizeof zones[0])

static void
use_tz(const char *zone)
{
	setenv("TZ", zone, 1);
	tzset();
}

static struct tm
glibc_local(int64_t t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	assert_non_null(localtime_r(&tt, &tm));
	return tm;
}

static long
glibc_off(int64_t t)
{
	return glibc_local(t).tm_gmtoff;
}

static void
wall_string(const struct tm *tm, char *buf, size_t len)
{
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d", tm->tm_year + 1900,
	    tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec);
}

/* 2020-01-01T00:00:00Z and 2036-01-01T00:00:00Z */
#define T2020	1577836800LL
#define T2036	2082758400LL

/* Offsets at many instants agree with glibc. */
static void
test_offsets_match_glibc(void **state)
{
	size_t	z;
	int64_t	t;
	int	off;
	long	n = 0;

	(void)state;
	for (z = 0; z < NZONES; z++) {
		use_tz(zones[z]);
		for (t = T2020; t < T2036; t += 37 * 3600 + 13 * 60 + 7) {
			assert_int_equal(tz_offset_at(zones[z], t, &off), 0);
			if (off != glibc_off(t))
				fail_msg("%s at %lld: %d != glibc %ld",
				    zones[z], (long long)t, off, glibc_off(t));
			n++;
		}
	}
	assert_true(n > 10000);
	/*
	 * Far future (the TZif footer's rule, not listed transitions) up to
	 * 2200: St John's, Lord Howe, Chatham and Santiago's "Saturday 24:00"
	 * once broke libical here.
	 */
	for (z = 0; z < NZONES; z++) {
		use_tz(zones[z]);
		for (t = T2036; t < 7289654399LL; t += 11 * 86400 + 3 * 3600) {
			assert_int_equal(tz_offset_at(zones[z], t, &off), 0);
			if (off != glibc_off(t))
				fail_msg("%s at %lld: %d != glibc %ld",
				    zones[z], (long long)t, off, glibc_off(t));
		}
	}
}

/*
 * Every wall time that glibc shows for an instant parses back to an
 * instant glibc shows as the same wall time, and to the earliest one.
 */
static void
test_parse_roundtrip_glibc(void **state)
{
	char		 wall[64], local[64], err[256];
	struct tm	 tm, tm2;
	size_t		 z;
	int64_t		 t, u;

	(void)state;
	for (z = 0; z < NZONES; z++) {
		use_tz(zones[z]);
		for (t = T2020; t < T2036; t += 37 * 3600 + 60 * 17) {
			tm = glibc_local(t);
			wall_string(&tm, wall, sizeof wall);
			if (tz_parse(wall, zones[z], 0, "start", &u, local,
			    sizeof local, err, sizeof err) != 0)
				fail_msg("%s %s: %s", zones[z], wall, err);
			assert_string_equal(local, wall);
			tm2 = glibc_local(u);
			wall_string(&tm2, local, sizeof local);
			assert_string_equal(local, wall);
			assert_true(u <= t);
			/* Not ambiguous: mktime agrees exactly. */
			if (u == t && glibc_off(t - 86400) == glibc_off(t) &&
			    glibc_off(t + 86400) == glibc_off(t)) {
				tm2 = tm;
				tm2.tm_isdst = -1;
				assert_int_equal((int64_t)mktime(&tm2), u);
			}
		}
	}
}

/* Exact instant where glibc's offset changes in (lo, hi]. */
static int64_t
glibc_transition(int64_t lo, int64_t hi)
{
	long	before = glibc_off(lo);

	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (glibc_off(mid) == before)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static void
fmt_wall(int64_t local, char *buf, size_t len)
{
	struct tm	tm;
	time_t		tt = (time_t)local;

	gmtime_r(&tt, &tm);
	wall_string(&tm, buf, len);
}

/* Every transition glibc knows in 2020..2035: gaps refused, overlaps early. */
static void
test_transitions_glibc(void **state)
{
	char		 wall[64], err[256], want[128];
	size_t		 z;
	int64_t		 t, tr, u;
	long		 ob, oa;
	int		 gaps = 0, overlaps = 0;

	(void)state;
	for (z = 0; z < NZONES; z++) {
		use_tz(zones[z]);
		for (t = T2020; t < T2036; t += 3600) {
			if (glibc_off(t) == glibc_off(t + 3600))
				continue;
			tr = glibc_transition(t, t + 3600);
			ob = glibc_off(tr - 1);
			oa = glibc_off(tr);
			if (oa > ob) {
				/* [tr+ob, tr+oa) does not exist. */
				int64_t probes[3] = { tr + ob, tr + ob +
				    (oa - ob) / 2, tr + oa - 60 };
				int i;

				for (i = 0; i < 3; i++) {
					struct tm ft, tt2;
					time_t x;

					fmt_wall(probes[i], wall, sizeof wall);
					assert_int_equal(tz_parse(wall,
					    zones[z], 0, "start", &u, NULL, 0,
					    err, sizeof err), -1);
					x = (time_t)(tr + ob);
					gmtime_r(&x, &ft);
					x = (time_t)(tr + oa);
					gmtime_r(&x, &tt2);
					snprintf(want, sizeof want, "does not "
					    "exist in %s: clocks skip from "
					    "%02d:%02d to %02d:%02d", zones[z],
					    ft.tm_hour, ft.tm_min,
					    tt2.tm_hour, tt2.tm_min);
					if (strstr(err, want) == NULL ||
					    strncmp(err, "start ", 6) != 0)
						fail_msg("%s: \"%s\" lacks "
						    "\"%s\"", wall, err, want);
				}
				/* The first wall time after the gap. */
				fmt_wall(tr + oa, wall, sizeof wall);
				assert_int_equal(tz_parse(wall, zones[z], 0,
				    "start", &u, NULL, 0, err, sizeof err), 0);
				assert_int_equal(u, tr);
				fmt_wall(tr + ob - 60, wall, sizeof wall);
				assert_int_equal(tz_parse(wall, zones[z], 0,
				    "start", &u, NULL, 0, err, sizeof err), 0);
				assert_int_equal(u, tr - 60);
				gaps++;
			} else {
				/* [tr+oa, tr+ob) happens twice: the earlier. */
				int64_t w;

				for (w = tr + oa; w < tr + ob; w += 600) {
					fmt_wall(w, wall, sizeof wall);
					assert_int_equal(tz_parse(wall,
					    zones[z], 0, "start", &u, NULL, 0,
					    err, sizeof err), 0);
					assert_int_equal(u, w - ob);
					assert_int_equal(glibc_off(u), ob);
				}
				overlaps++;
			}
			t = tr;
		}
	}
	/* Berlin, New York, Sydney, St John's, Chatham, London, ... */
	assert_true(gaps > 60);
	assert_true(overlaps > 60);
}

/* The examples of the protocol reference, by value. */
static void
test_documented_examples(void **state)
{
	char	err[256], local[32], buf[64];
	int64_t	u;

	(void)state;
	assert_int_equal(tz_parse("2026-12-01T15:00", "Europe/Moscow", 0,
	    "start", &u, local, sizeof local, err, sizeof err), 0);
	tz_format_utc(u, buf, sizeof buf);
	assert_string_equal(buf, "2026-12-01T12:00:00Z");
	assert_string_equal(local, "2026-12-01T15:00:00");

	assert_int_equal(tz_parse("2026-03-08 02:30", "America/New_York", 0,
	    "start", &u, NULL, 0, err, sizeof err), -1);
	assert_string_equal(err, "start 2026-03-08 02:30 does not exist in "
	    "America/New_York: clocks skip from 02:00 to 03:00");
	assert_int_equal(tz_parse("2026-03-29T02:30", "Europe/Berlin", 0,
	    "start", &u, NULL, 0, err, sizeof err), -1);
	assert_string_equal(err, "start 2026-03-29 02:30 does not exist in "
	    "Europe/Berlin: clocks skip from 02:00 to 03:00");

	/* Overlap: 2026-11-01 01:30 in New York is EDT first (05:30Z). */
	assert_int_equal(tz_parse("2026-11-01T01:30", "America/New_York", 0,
	    "start", &u, NULL, 0, err, sizeof err), 0);
	tz_format_utc(u, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-01T05:30:00Z");

	/* Absolute forms, zone only for local_out. */
	assert_int_equal(tz_parse("2026-12-01T12:00Z", "Europe/Moscow", 0,
	    "start", &u, local, sizeof local, err, sizeof err), 0);
	assert_string_equal(local, "2026-12-01T15:00:00");
	assert_int_equal(tz_parse("2026-12-01T15:00+03:00", "UTC", 0,
	    "start", &u, local, sizeof local, err, sizeof err), 0);
	assert_string_equal(local, "2026-12-01T12:00:00");
	assert_int_equal(tz_parse("2026-12-01T15:00:30+0300", "UTC", 0,
	    "start", &u, NULL, 0, err, sizeof err), 0);
	tz_format_utc(u, buf, sizeof buf);
	assert_string_equal(buf, "2026-12-01T12:00:30Z");
	assert_int_equal(tz_parse("2026-12-01T07:00-05", "Asia/Kolkata", 0,
	    "start", &u, local, sizeof local, err, sizeof err), 0);
	assert_string_equal(local, "2026-12-01T17:30:00");

	/* Dates only where allowed. */
	assert_int_equal(tz_parse("2026-12-01", "Europe/Moscow", 0, "from",
	    &u, NULL, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "from: "));
	assert_int_equal(tz_parse("2026-12-01", "Europe/Moscow", 1, "from",
	    &u, NULL, 0, err, sizeof err), 0);
	tz_format_utc(u, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-30T21:00:00Z");
	/* Santiago starts DST at midnight: the day begins at 01:00. */
	assert_int_equal(tz_parse("2026-09-06", "America/Santiago", 1, "from",
	    &u, local, sizeof local, err, sizeof err), 0);
	assert_string_equal(local, "2026-09-06T01:00:00");
}

static void
test_bad_input(void **state)
{
	static const char *const bad[] = {
		"", " ", "2026-02-30T10:00", "2026-02-29T10:00",
		"2026-13-01T10:00", "2026-00-01T10:00", "2026-12-00T10:00",
		"2026-12-01T24:00", "2026-12-01T23:60", "2026-12-01T23:59:60",
		"2026-12-01T1:00", "2026-12-01 10:00 x", "2026-12-01T10:00Zx",
		"2026-12-01T10:00+3", "2026-12-01T10:00+25:00",
		"2026-12-01T10:00+03:60", "1969-12-31T23:00", "2201-01-01T00:00",
		"0000-01-01T00:00", "2026/12/01 10:00", "2026-12-01T10-00",
		"2026-12-01T10:00\n", "2026-12-01T10:00\r\nX-Evil: 1",
		"+2026-12-01T10:00", "２０２６-12-01T10:00", "2026-12-01T10:00:00.5",
		"2026-12-01T", "2026-12-01T10", "-2026-12-01", "tomorrow",
	};
	char	err[256], local[32];
	int64_t	u;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (tz_parse(bad[i], "Europe/Moscow", 0, "start", &u, local,
		    sizeof local, err, sizeof err) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(strncmp(err, "start", 5) == 0);
		assert_null(strchr(err, '\n'));
		assert_null(strchr(err, '\r'));
	}
	/* Surrounding blanks are ignored. */
	assert_int_equal(tz_parse(" 2026-12-01 15:00\t", "Europe/Moscow", 0,
	    "start", &u, local, sizeof local, err, sizeof err), 0);
	assert_string_equal(local, "2026-12-01T15:00:00");
	/* Leap day exists in 2028; year bounds are inclusive. */
	assert_int_equal(tz_parse("2028-02-29T10:00", "UTC", 0, "start", &u,
	    NULL, 0, err, sizeof err), 0);
	assert_int_equal(tz_parse("1970-01-01T00:00", "UTC", 0, "start", &u,
	    NULL, 0, err, sizeof err), 0);
	assert_int_equal(u, 0);
	assert_int_equal(tz_parse("2200-12-31T23:59:59", "UTC", 0, "start", &u,
	    NULL, 0, err, sizeof err), 0);
	assert_int_equal(u, 7289654399LL);

	/* A 10,000-character input is refused with a bounded sentence. */
	{
		char *big = malloc(10001);

		assert_non_null(big);
		memset(big, '9', 10000);
		big[10000] = '\0';
		assert_int_equal(tz_parse(big, "UTC", 0, "start", &u, NULL, 0,
		    err, sizeof err), -1);
		assert_true(strlen(err) < 200);
		free(big);
	}
	/* Unknown zone. */
	assert_int_equal(tz_parse("2026-12-01T10:00", "Mars/Olympus", 0,
	    "start", &u, NULL, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown time zone"));
}

static void
test_zone_names(void **state)
{
	static const char *const good[] = {
		"UTC", "Etc/UTC", "Europe/Moscow", "America/Argentina/Buenos_Aires",
		"Etc/GMT+5", "Asia/Kolkata", "America/Port-au-Prince",
	};
	static const char *const badz[] = {
		"", "Mars/Olympus", "../../../etc/passwd", "/etc/localtime",
		"Europe/Moscow\n", "Europe", "Europe/", "Europe//Moscow",
		"europe/moscow ", "Europe/Moscow/..", ".", "Europe/./Moscow",
	};
	size_t	i;
	int	off;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!tz_valid(good[i]))
			fail_msg("refused %s", good[i]);
	for (i = 0; i < sizeof badz / sizeof badz[0]; i++)
		if (tz_valid(badz[i]))
			fail_msg("accepted \"%s\"", badz[i]);
	assert_false(tz_valid(NULL));
	assert_int_equal(tz_offset_at("Etc/UTC", T2020, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(tz_offset_at("Etc/GMT+5", T2020, &off), 0);
	assert_int_equal(off, -5 * 3600);
	assert_int_equal(tz_offset_at("Nowhere/Land", T2020, &off), -1);
	/* Absurd instants are refused rather than overflowing. */
	assert_int_equal(tz_offset_at("UTC", INT64_MAX, &off), -1);
	assert_int_equal(tz_offset_at("UTC", INT64_MIN, &off), -1);
}

static void
test_utc_format_parse(void **state)
{
	char	buf[32];
	int64_t	t, u;

	(void)state;
	tz_format_utc(0, buf, sizeof buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	tz_format_utc(951825600, buf, sizeof buf);	/* leap day 2000 */
	assert_string_equal(buf, "2000-02-29T12:00:00Z");
	for (t = -86400 * 400LL; t < 7289567999LL; t += 86400 * 7 + 3601) {
		struct tm	tm;
		time_t		tt = (time_t)t;
		char		want[32];

		tz_format_utc(t, buf, sizeof buf);
		gmtime_r(&tt, &tm);
		strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
		assert_string_equal(buf, want);
		assert_int_equal(tz_parse_utc(buf, &u), 0);
		assert_int_equal(u, t);
	}
	assert_int_equal(tz_parse_utc("2026-12-01T12:00:00", &u), -1);
	assert_int_equal(tz_parse_utc("2026-12-01T12:00:00Zx", &u), -1);
	assert_int_equal(tz_parse_utc("2026-02-30T12:00:00Z", &u), -1);
	assert_int_equal(tz_parse_utc("2026-12-01 12:00:00Z", &u), -1);
	assert_int_equal(tz_parse_utc("2026-12-01T12:00:60Z", &u), -1);
	assert_int_equal(tz_parse_utc("", &u), -1);
	assert_int_equal(tz_parse_utc(NULL, &u), -1);
	/* Tiny buffers stay terminated. */
	tz_format_utc(0, buf, 5);
	assert_string_equal(buf, "1970");
}

/* tz_format_local against glibc's strftime, %Z included. */
static void
test_format_local_glibc(void **state)
{
#define FMT "%a %d %b %Y %H:%M:%S %Z %%"
	char		 mine[128], want[128];
	size_t		 z;
	int64_t		 t;
	struct tm	 tm;

	(void)state;
	for (z = 0; z < NZONES; z++) {
		use_tz(zones[z]);
		for (t = T2020; t < T2036; t += 97 * 3600 + 11) {
			assert_int_equal(tz_format_local(t, zones[z], FMT,
			    mine, sizeof mine), 0);
			tm = glibc_local(t);
			strftime(want, sizeof want, FMT, &tm);
			if (strcmp(mine, want) != 0)
				fail_msg("%s: \"%s\" != glibc \"%s\"",
				    zones[z], mine, want);
		}
	}
	assert_int_equal(tz_format_local(0, "Nowhere/Land", "%Y", mine,
	    sizeof mine), -1);
	/* Truncation keeps the buffer terminated. */
	assert_int_equal(tz_format_local(T2020, "UTC", "%Y-%m-%d", mine, 6), 0);
	assert_string_equal(mine, "2020-");
	assert_int_equal(tz_format_local(T2020, "Europe/Moscow", "%Z %q",
	    mine, sizeof mine), 0);
	assert_string_equal(mine, "MSK %q");
}

static void
test_system_zone(void **state)
{
	const char	*z;

	(void)state;
	/* The first call decides; later calls return the same answer. */
	setenv("TZ", ":Asia/Kathmandu", 1);
	z = tz_system_zone();
	assert_string_equal(z, "Asia/Kathmandu");
	setenv("TZ", "Europe/Moscow", 1);
	assert_string_equal(tz_system_zone(), "Asia/Kathmandu");
	assert_true(tz_valid(tz_system_zone()));
}

/*
 * Every zone of tzdata: the zones and links of tzdata.zi and the zones of
 * zone1970.tab, read at run time so that a tzdata update is covered.
 */
static char	**all_zones;
static size_t	  n_all_zones;

static void
all_zones_add(const char *name)
{
	char	path[512];
	size_t	i;

	for (i = 0; i < n_all_zones; i++)
		if (strcmp(all_zones[i], name) == 0)
			return;
	/* Debian may ship tzdata.zi links without their files. */
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
	if (access(path, R_OK) != 0)
		return;
	all_zones = realloc(all_zones, (n_all_zones + 1) * sizeof *all_zones);
	assert_non_null(all_zones);
	all_zones[n_all_zones] = strdup(name);
	assert_non_null(all_zones[n_all_zones]);
	n_all_zones++;
}

static void
all_zones_load(void)
{
	char	 line[1024], a[256], b[256], c[256];
	FILE	*f;

	if (n_all_zones > 0)
		return;
	assert_non_null(f = fopen("/usr/share/zoneinfo/tzdata.zi", "r"));
	while (fgets(line, sizeof line, f) != NULL) {
		if (line[0] == 'Z' && sscanf(line, "Z %255s", a) == 1)
			all_zones_add(a);
		else if (line[0] == 'L' &&
		    sscanf(line, "L %255s %255s", a, b) == 2)
			all_zones_add(b);
	}
	fclose(f);
	assert_non_null(f = fopen("/usr/share/zoneinfo/zone1970.tab", "r"));
	while (fgets(line, sizeof line, f) != NULL) {
		if (line[0] != '#' &&
		    sscanf(line, "%255s %255s %255s", a, b, c) == 3)
			all_zones_add(c);
	}
	fclose(f);
	assert_true(n_all_zones > 500);
}

/* 1 if tz.c and glibc agree on the offset at t in zone (TZ already set). */
static void
check_offset(const char *zone, int64_t t)
{
	int	off;

	if (tz_offset_at(zone, t, &off) != 0)
		fail_msg("%s: tz_offset_at failed at %lld", zone,
		    (long long)t);
	if (off != glibc_off(t))
		fail_msg("%s at %lld: %d != glibc %ld", zone, (long long)t,
		    off, glibc_off(t));
}

/* %Z against glibc, where tzdata's name is alphabetic or numeric. */
static void
check_abbrev(const char *zone, int64_t t)
{
	char		mine[32];
	struct tm	tm = glibc_local(t);

	if (strcmp(tm.tm_zone, "-00") == 0)
		return;		/* "Factory": tz.c writes "+00" */
	assert_int_equal(tz_format_local(t, zone, "%Z", mine, sizeof mine), 0);
	if (strcmp(mine, tm.tm_zone) != 0)
		fail_msg("%s at %lld: %%Z \"%s\" != glibc \"%s\"", zone,
		    (long long)t, mine, tm.tm_zone);
}

/* 1970-01-01, 2100-01-01 */
#define T1970	0LL
#define T2100	4102444800LL

/*
 * Every zone, 1970..2100: samples a few days apart, and every transition
 * glibc shows between two samples at t-1, t and t+1 (after 2037 these come
 * from the footer's rule).
 */
static void
test_all_zones_glibc(void **state)
{
	size_t	z;
	int64_t	t, tr;
	long	samples = 0, transitions = 0, late = 0;

	(void)state;
	all_zones_load();
	for (z = 0; z < n_all_zones; z++) {
		const char *name = all_zones[z];

		if (!tz_valid(name))
			fail_msg("refused %s", name);
		use_tz(name);
		for (t = T1970; t < T2100; t += 6 * 86400 + 7 * 3600 + 13) {
			check_offset(name, t);
			samples++;
			if (glibc_off(t) == glibc_off(t + 6 * 86400 + 7 * 3600 +
			    13))
				continue;
			tr = glibc_transition(t, t + 6 * 86400 + 7 * 3600 + 13);
			check_offset(name, tr - 1);
			check_offset(name, tr);
			check_offset(name, tr + 1);
			check_abbrev(name, tr - 1);
			check_abbrev(name, tr);
			transitions++;
			if (tr > 2147483647LL)
				late++;
		}
	}
	print_message("%zu zones, %ld samples, %ld transitions (%ld after "
	    "2038)\n", n_all_zones, samples, transitions, late);
	assert_true(transitions > 20000);
	assert_true(late > 5000);
}

/* splitmix64: a generator whose seed alone reproduces a run. */
static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t	z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int64_t
rng_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng() % (uint64_t)(hi - lo));
}

static int
same_wall(int64_t t, int64_t wall)
{
	struct tm	a = glibc_local(t), b;
	time_t		w = (time_t)wall;

	gmtime_r(&w, &b);
	return a.tm_year == b.tm_year && a.tm_mon == b.tm_mon &&
	    a.tm_mday == b.tm_mday && a.tm_hour == b.tm_hour &&
	    a.tm_min == b.tm_min && a.tm_sec == b.tm_sec;
}

/*
 * 10,000 random (zone, wall time) pairs, half of them within two hours of
 * a transition, parsed by tz_parse and by glibc's mktime. The instants
 * that glibc shows as the wall time are the answers: none is a gap (an
 * error), two an overlap (the earlier). mktime must return one of them.
 * LECTERN_SEED=n repeats a run.
 */
static void
test_random_parse_glibc(void **state)
{
	char		 wall[64], local[64], err[256], want[160];
	const char	*env;
	uint64_t	 seed;
	int64_t		 w, t, u, m, best, cands[5], x;
	struct tm	 tm;
	time_t		 tt;
	int		 i, k, nvalid, rc, gaps = 0, overlaps = 0, near = 0;
	size_t		 z;

	(void)state;
	all_zones_load();
	if ((env = getenv("LECTERN_SEED")) != NULL)
		seed = strtoull(env, NULL, 10);
	else
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rng_state = seed;
	for (i = 0; i < 10000; i++) {
		z = (size_t)rng_range(0, (int64_t)n_all_zones);
		use_tz(all_zones[z]);
		w = rng_range(T1970 + 86400, T2100 - 86400);
		if (i % 2 == 1) {
			/* Near the next transition within two years, if any. */
			t = rng_range(T1970 + 86400, T2100 - 3 * 366 * 86400);
			for (k = 0; k < 731; k++, t += 86400) {
				if (glibc_off(t) != glibc_off(t + 86400))
					break;
			}
			if (k < 731) {
				x = glibc_transition(t, t + 86400);
				w = x + glibc_off(x - 1) +
				    rng_range(-7200, 7201);
				if (rng() % 4 == 0)
					w = x + glibc_off(x - 1 - (rng() % 2));
				w -= w % 60 * (int64_t)(rng() % 2);
				near++;
			}
		}
		tt = (time_t)w;
		gmtime_r(&tt, &tm);
		wall_string(&tm, wall, sizeof wall);

		/* glibc's answers. */
		tm.tm_isdst = -1;
		m = (int64_t)mktime(&tm);
		cands[0] = m;
		cands[1] = w - glibc_off(w - 86400);
		cands[2] = w - glibc_off(w);
		cands[3] = w - glibc_off(w + 86400);
		cands[4] = w - glibc_off(m);
		best = INT64_MAX;
		for (k = 0; k < 5; k++) {
			if (same_wall(cands[k], w) && cands[k] < best)
				best = cands[k];
		}
		for (k = 0, nvalid = 0; k < 5; k++) {
			int j, dup = 0;

			if (!same_wall(cands[k], w))
				continue;
			for (j = 0; j < k; j++)
				if (cands[j] == cands[k] &&
				    same_wall(cands[j], w))
					dup = 1;
			nvalid += !dup;
		}

		rc = tz_parse(wall, all_zones[z], 0, "start", &u, local,
		    sizeof local, err, sizeof err);
		if (nvalid == 0) {
			snprintf(want, sizeof want, "does not exist in %s: "
			    "clocks skip from ", all_zones[z]);
			if (rc != -1 || strstr(err, want) == NULL)
				fail_msg("seed %llu: %s %s: a gap for glibc, "
				    "tz_parse %d \"%s\"",
				    (unsigned long long)seed, all_zones[z],
				    wall, rc, rc == 0 ? local : err);
			if (same_wall(m, w))
				fail_msg("seed %llu: %s %s: mktime",
				    (unsigned long long)seed, all_zones[z],
				    wall);
			gaps++;
			continue;
		}
		if (rc != 0)
			fail_msg("seed %llu: %s %s: %s",
			    (unsigned long long)seed, all_zones[z], wall, err);
		if (u != best)
			fail_msg("seed %llu: %s %s: %lld, glibc's earliest "
			    "%lld", (unsigned long long)seed, all_zones[z],
			    wall, (long long)u, (long long)best);
		if (strcmp(local, wall) != 0)
			fail_msg("seed %llu: %s %s: local \"%s\"",
			    (unsigned long long)seed, all_zones[z], wall,
			    local);
		if (!same_wall(m, w))
			fail_msg("seed %llu: %s %s: mktime gave %lld",
			    (unsigned long long)seed, all_zones[z], wall,
			    (long long)m);
		if (nvalid > 1)
			overlaps++;
	}
	print_message("seed %llu: %d near transitions, %d gaps, %d "
	    "overlaps\n", (unsigned long long)seed, near, gaps, overlaps);
	assert_true(gaps > 100);
	assert_true(overlaps > 100);
}

/*
 * Crafted TZif files in a TZDIR of the test's own. Each test uses names
 * of its own: tz.c keeps what it has read, hits and misses alike.
 */
static char	tzdir[64];

static void
tzdir_setup(void)
{
	if (tzdir[0] != '\0')
		return;
	snprintf(tzdir, sizeof tzdir, "/tmp/test_tz.XXXXXX");
	assert_non_null(mkdtemp(tzdir));
}

static void
tzdir_cleanup(void)
{
	char	cmd[128];

	if (tzdir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tzdir);
	if (system(cmd) != 0)
		print_message("could not remove %s\n", tzdir);
	tzdir[0] = '\0';
}

/* Write len octets as the zone name (creating its directory). */
static void
put_file(const char *name, const void *data, size_t len)
{
	char	 path[512], *slash;
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", tzdir, name);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdir(path, 0700);
	*slash = '/';
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Make the zone name a symbolic link to target. */
static void
put_link(const char *name, const char *target)
{
	char	 path[512];

	snprintf(path, sizeof path, "%s/%s", tzdir, name);
	assert_int_equal(symlink(target, path), 0);
}

static unsigned char *
read_file(const char *path, size_t *len)
{
	unsigned char	*buf;
	FILE		*f;

	assert_non_null(f = fopen(path, "rb"));
	buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* A TZif file under construction. */
struct tzif {
	unsigned char	b[8192];
	size_t		len;
};

static void
tzif_put(struct tzif *f, uint64_t v, int n)
{
	while (n-- > 0)
		f->b[f->len++] = (unsigned char)(v >> (8 * n));
}

/* A zone of types and transitions. */
struct zdef {
	int		 version;	/* 0 (version 1), '2', '3' */
	size_t		 ntrans, ntypes, nchars, nleaps;
	int64_t		 trans[8];
	unsigned char	 idx[8];
	int32_t		 off[4];
	unsigned char	 isdst[4], abbr[4];
	char		 chars[32];
	int64_t		 leap_at[4];
	int32_t		 leap_corr[4];
	const char	*footer;
};

static void
tzif_block(struct tzif *f, const struct zdef *d, int tsize)
{
	size_t	i;

	f->b[f->len++] = 'T';
	f->b[f->len++] = 'Z';
	f->b[f->len++] = 'i';
	f->b[f->len++] = 'f';
	f->b[f->len++] = (unsigned char)d->version;
	memset(f->b + f->len, 0, 15);
	f->len += 15;
	tzif_put(f, 0, 4);		/* isutcnt */
	tzif_put(f, 0, 4);		/* isstdcnt */
	tzif_put(f, d->nleaps, 4);
	tzif_put(f, d->ntrans, 4);
	tzif_put(f, d->ntypes, 4);
	tzif_put(f, d->nchars, 4);
	for (i = 0; i < d->ntrans; i++)
		tzif_put(f, (uint64_t)d->trans[i], tsize);
	for (i = 0; i < d->ntrans; i++)
		tzif_put(f, d->idx[i], 1);
	for (i = 0; i < d->ntypes; i++) {
		tzif_put(f, (uint32_t)d->off[i], 4);
		tzif_put(f, d->isdst[i], 1);
		tzif_put(f, d->abbr[i], 1);
	}
	memcpy(f->b + f->len, d->chars, d->nchars);
	f->len += d->nchars;
	for (i = 0; i < d->nleaps; i++) {
		tzif_put(f, (uint64_t)d->leap_at[i], tsize);
		tzif_put(f, (uint32_t)d->leap_corr[i], 4);
	}
}

static void
tzif_build(struct tzif *f, const struct zdef *d)
{
	f->len = 0;
	tzif_block(f, d, 4);
	if (d->version == 0)
		return;
	tzif_block(f, d, 8);
	f->b[f->len++] = '\n';
	memcpy(f->b + f->len, d->footer, strlen(d->footer));
	f->len += strlen(d->footer);
	f->b[f->len++] = '\n';
}

/* A valid zone: LMT, then CET/CEST until 1990, then the footer's rule. */
static const struct zdef zbase = {
	'2', 3, 3, 13, 0,
	{ -2000000000LL, 323830800LL, 338950800LL },
	{ 1, 2, 1 },
	{ 3208, 3600, 7200 }, { 0, 0, 1 }, { 0, 4, 8 },
	"LMT\0CET\0CEST",
	{ 0 }, { 0 },
	"CET-1CEST,M3.5.0,M10.5.0/3",
};

static void
expect_invalid(const char *name, const void *data, size_t len)
{
	put_file(name, data, len);
	if (tz_valid(name))
		fail_msg("accepted %s (%zu octets)", name, len);
}

static void
expect_zdef_invalid(const char *name, const struct zdef *d)
{
	struct tzif	f;

	tzif_build(&f, d);
	expect_invalid(name, f.b, f.len);
}

/* Damaged, truncated and crafted files: unknown zones, never a crash. */
static void
test_hostile_files(void **state)
{
	static const char *const footers[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3x", "CET-1CEST", "CET-1CEST,",
		"CET-1CEST,M3.5.0", "CET-1CEST,M3.5.0,",
		"CET-1CEST,M13.5.0,M10.5.0",
		"CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0",
		"CET-1CEST,M0.5.0,M10.5.0", "CET-1CEST,M3.0.0,M10.5.0",
		"CET-1CEST,J0,J365", "CET-1CEST,J366,J1", "CET-1CEST,366,1",
		"CET-1CEST,M3.5.0/168,M10.5.0", "CET-1CEST,M3.5.0/-168,M10.5.0",
		"CET-1CEST,M3.5.0/1:60,M10.5.0", "CET-1CEST,M3.5.0/,M10.5.0",
		"<+03-3", "<+0>-3", "<>-3", "<+03>", "C-1", "CE-1", "CET",
		"CET-25", "CET-1:60", "CET-1:00:60", "CET-99999999999999999999",
		"CET-1CEST-99,M3.5.0,M10.5.0", "CET- 1", " CET-1", "CET-1 ",
		"\xff\xfe", "CET-1CEST,M3.5.0,M10.5.0/3,",
		"CET-1CESTABCDEFGHIJKLMNOP,M3.5.0,M10.5.0",
		"<+03>-3<+0>,J60,J300", "CET-1:", "CET-+1", "CET--1",
		"CET-1CEST,M3.5.0,M10.5.0/3\n",
	};
	static const char *const good_footers[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3", "", "<+03>-3",
		"EST5EDT,0/0,J365/25",
		"<+0330>-3:30<+0430>,J79/24,J263/24",
		"AAA3BBB,M3.2.0/-22,M11.1.0/150",
	};
	struct tzif	 f;
	struct zdef	 d;
	struct stat	 st;
	unsigned char	*berlin, *buf;
	size_t		 blen, i, v1len;
	char		 name[64], path[512];
	int		 off;

	(void)state;
	tzdir_setup();
	setenv("TZDIR", tzdir, 1);

	/* The builder's file is valid: the failures below are the damage. */
	tzif_build(&f, &zbase);
	put_file("Good/Base", f.b, f.len);
	assert_true(tz_valid("Good/Base"));
	assert_int_equal(tz_offset_at("Good/Base", 330000000LL, &off), 0);
	assert_int_equal(off, 7200);
	assert_int_equal(tz_offset_at("Good/Base", 2000000000LL, &off), 0);
	assert_int_equal(off, 7200);
	assert_int_equal(tz_offset_at("Good/Base", -3000000000LL, &off), 0);
	assert_int_equal(off, 3208);
	for (i = 0; i < sizeof good_footers / sizeof good_footers[0]; i++) {
		d = zbase;
		d.footer = good_footers[i];
		tzif_build(&f, &d);
		snprintf(name, sizeof name, "Good/Footer%zu", i);
		put_file(name, f.b, f.len);
		if (!tz_valid(name))
			fail_msg("refused footer \"%s\"", good_footers[i]);
	}
	d = zbase;
	d.version = 0;
	tzif_build(&f, &d);
	put_file("Good/V1", f.b, f.len);
	assert_true(tz_valid("Good/V1"));

	/* Empty, tiny, a header alone, bad magic, bad version. */
	expect_invalid("Bad/Empty", "", 0);
	expect_invalid("Bad/Magic4", "TZif", 4);
	expect_invalid("Bad/Header", f.b, 30);
	tzif_build(&f, &zbase);
	f.b[3] = 'F';
	expect_invalid("Bad/Magic", f.b, f.len);
	tzif_build(&f, &zbase);
	f.b[4] = '1';
	expect_invalid("Bad/Version", f.b, f.len);
	tzif_build(&f, &zbase);
	v1len = 44 + 3 * 5 + 3 * 6 + 13;
	f.b[v1len + 1] = 'X';		/* the second header's magic */
	expect_invalid("Bad/Magic2", f.b, f.len);
	tzif_build(&f, &zbase);
	f.b[v1len + 4] = 0;		/* version 1, 64-bit part */
	expect_invalid("Bad/Version2", f.b, f.len);

	/* Counts: one more than the file has, huge, all 0xffffffff. */
	for (i = 0; i < 6; i++) {
		tzif_build(&f, &zbase);
		f.b[v1len + 20 + 4 * i + 3]++;
		snprintf(name, sizeof name, "Bad/Count%zu", i);
		expect_invalid(name, f.b, f.len);
		tzif_build(&f, &zbase);
		f.b[20 + 4 * i + 3] += 7;	/* in the 32-bit header */
		snprintf(name, sizeof name, "Bad/CountV1_%zu", i);
		expect_invalid(name, f.b, f.len);
		tzif_build(&f, &zbase);
		f.b[v1len + 20 + 4 * i] = 0x10;
		snprintf(name, sizeof name, "Bad/Huge%zu", i);
		expect_invalid(name, f.b, f.len);
	}
	tzif_build(&f, &zbase);
	memset(f.b + 20, 0xff, 24);
	expect_invalid("Bad/AllHuge", f.b, f.len);
	tzif_build(&f, &zbase);
	memset(f.b + v1len + 20, 0xff, 24);
	expect_invalid("Bad/AllHuge2", f.b, f.len);

	/* Contents out of range: zbase with one change, refused. */
#define TEST_ZDEF_REFUSED(name, change) do {				\
	d = zbase;							\
	change;								\
	expect_zdef_invalid(name, &d);					\
} while (0)
	TEST_ZDEF_REFUSED("Bad/NoTypes", (d.ntypes = 0, d.ntrans = 0));
	TEST_ZDEF_REFUSED("Bad/NoChars", d.nchars = 0);
	TEST_ZDEF_REFUSED("Bad/Index", d.idx[1] = 3);
	TEST_ZDEF_REFUSED("Bad/Index255", d.idx[1] = 255);
	TEST_ZDEF_REFUSED("Bad/Abbr", d.abbr[2] = 13);
	TEST_ZDEF_REFUSED("Bad/Abbr200", d.abbr[2] = 200);
	/* "CEST" without its NUL. */
	TEST_ZDEF_REFUSED("Bad/AbbrNul", d.nchars = 12);
	TEST_ZDEF_REFUSED("Bad/Isdst", d.isdst[1] = 2);
	TEST_ZDEF_REFUSED("Bad/OffMin", d.off[1] = INT32_MIN);
	TEST_ZDEF_REFUSED("Bad/OffMax", d.off[2] = INT32_MAX);
	TEST_ZDEF_REFUSED("Bad/Order", d.trans[2] = d.trans[1]);
	TEST_ZDEF_REFUSED("Bad/TimeMin", d.trans[0] = INT64_MIN);
	TEST_ZDEF_REFUSED("Bad/TimeMax", d.trans[2] = INT64_MAX);
#undef TEST_ZDEF_REFUSED
	d = zbase;
	d.nleaps = 2;
	d.leap_at[0] = 100000000;
	d.leap_at[1] = 90000000;
	d.leap_corr[0] = 1;
	d.leap_corr[1] = 2;
	expect_zdef_invalid("Bad/LeapOrder", &d);
	d.leap_at[1] = 110000000;
	d.leap_corr[1] = INT32_MIN;
	expect_zdef_invalid("Bad/LeapCorr", &d);

	/* Footers: garbage, unterminated, missing, trailing octets. */
	for (i = 0; i < sizeof footers / sizeof footers[0]; i++) {
		d = zbase;
		d.footer = footers[i];
		snprintf(name, sizeof name, "Bad/Footer%zu", i);
		tzif_build(&f, &d);
		put_file(name, f.b, f.len);
		if (tz_valid(name))
			fail_msg("accepted footer \"%s\"", footers[i]);
	}
	tzif_build(&f, &zbase);
	expect_invalid("Bad/FooterOpen", f.b, f.len - 1);
	expect_invalid("Bad/FooterNone", f.b, f.len -
	    strlen(zbase.footer) - 2);
	f.b[f.len] = 'x';
	expect_invalid("Bad/FooterTrail", f.b, f.len + 1);
	tzif_build(&f, &zbase);
	f.b[f.len - 5] = '\0';
	expect_invalid("Bad/FooterNul", f.b, f.len);
	d = zbase;
	d.footer = "CET-1CEST,M3.5.0,M10.5.0/3CET-1CEST,M3.5.0,M10.5.0/3"
	    "CET-1CEST,M3.5.0,M10.5.0/3CET-1CEST,M3.5.0,M10.5.0/3"
	    "CET-1CEST,M3.5.0,M10.5.0/3CET-1CEST,M3.5.0,M10.5.0/3"
	    "CET-1CEST,M3.5.0,M10.5.0/3CET-1CEST,M3.5.0,M10.5.0/3"
	    "CET-1CEST,M3.5.0,M10.5.0/3CET-1CEST,M3.5.0,M10.5.0/3";
	expect_zdef_invalid("Bad/FooterLong", &d);

	/* Every truncation of a real file. */
	berlin = read_file("/usr/share/zoneinfo/Europe/Berlin", &blen);
	put_file("Good/Berlin", berlin, blen);
	assert_true(tz_valid("Good/Berlin"));
	for (i = 0; i < blen; i++) {
		snprintf(name, sizeof name, "Trunc/%zu", i);
		expect_invalid(name, berlin, i);
	}
	/* Too big to be a zone, though it starts as one. */
	buf = calloc(1, 300 * 1024);
	assert_non_null(buf);
	memcpy(buf, berlin, blen);
	expect_invalid("Bad/Big", buf, 300 * 1024);
	free(buf);

	/* Not regular files. */
	snprintf(path, sizeof path, "%s/Bad/Dir", tzdir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_false(tz_valid("Bad/Dir"));
	put_link("Bad/Loop1", "Loop2");
	put_link("Bad/Loop2", "Loop1");
	assert_false(tz_valid("Bad/Loop1"));
	assert_false(tz_valid("Bad/Loop2"));
	put_link("Bad/Self", "Self");
	assert_false(tz_valid("Bad/Self"));
	put_link("Bad/Dangling", "Nowhere");
	assert_false(tz_valid("Bad/Dangling"));
	snprintf(path, sizeof path, "%s/Bad/Fifo", tzdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_false(tz_valid("Bad/Fifo"));	/* and does not block */
	assert_int_equal(stat("/dev/null", &st), 0);
	put_link("Bad/Null", "/dev/null");
	assert_false(tz_valid("Bad/Null"));
	/* A symbolic link to a good file is good. */
	put_link("Good/Link", "Berlin");
	assert_true(tz_valid("Good/Link"));

	/* UTC needs no file, whatever TZDIR holds. */
	assert_true(tz_valid("UTC"));
	assert_true(tz_valid("Etc/UTC"));
	assert_true(tz_valid("Etc/GMT"));

	free(berlin);
	unsetenv("TZDIR");
}

/*
 * Random damage to a real file: whatever tz.c accepts must then work
 * without a crash (the suite also runs under ASan and UBSan).
 */
static void
test_mutated_files(void **state)
{
	unsigned char	*berlin, *buf;
	size_t		 blen, i, k, n;
	char		 name[64], out[128], err[256];
	const char	*env;
	uint64_t	 seed;
	int64_t		 u;
	int		 off, valid = 0;

	(void)state;
	tzdir_setup();
	setenv("TZDIR", tzdir, 1);
	if ((env = getenv("LECTERN_SEED")) != NULL)
		seed = strtoull(env, NULL, 10);
	else
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rng_state = seed;
	berlin = read_file("/usr/share/zoneinfo/Europe/Berlin", &blen);
	assert_non_null(buf = malloc(blen + 16));
	for (i = 0; i < 2000; i++) {
		memcpy(buf, berlin, blen);
		n = 1 + rng() % 4;
		for (k = 0; k < n; k++) {
			size_t at = rng() % blen;

			buf[at] = rng() % 3 == 0 ? (unsigned char)rng() :
			    (unsigned char)(buf[at] ^ (1u << (rng() % 8)));
		}
		snprintf(name, sizeof name, "Mut/%zu", i);
		put_file(name, buf, blen);
		if (!tz_valid(name))
			continue;
		valid++;
		for (k = 0; k < 8; k++) {
			int64_t t = rng_range(-5000000000LL, 8000000000LL);

			assert_int_equal(tz_offset_at(name, t, &off), 0);
			assert_int_equal(tz_format_local(t, name,
			    "%Y-%m-%d %H:%M:%S %Z", out, sizeof out), 0);
			(void)tz_parse("2030-03-31T02:30", name, 1, "start", &u,
			    out, sizeof out, err, sizeof err);
			(void)tz_parse("2030-10-27", name, 1, "start", &u,
			    out, sizeof out, err, sizeof err);
		}
	}
	print_message("seed %llu: %d of 2000 mutated files accepted\n",
	    (unsigned long long)seed, valid);
	free(buf);
	free(berlin);
	unsetenv("TZDIR");
}

/*
 * Footer rules and version 1 files against glibc reading the same crafted
 * file (TZ=":/path"): Jn, n and Mm.w.d days, signed times past 24h,
 * quoted names, southern and negative daylight time, DST all year.
 */
static void
test_crafted_rules_glibc(void **state)
{
	static const char *const rules[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3",
		"<+03>-3<+04>,J60/-2,300/26",
		"AAA3BBB,M3.2.0/-22,M11.1.0/150",
		"IST-1GMT0,M10.5.0,M3.5.0/1",
		"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",
		"NZST-12NZDT,M9.5.0,M4.1.0/3",
		"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
		"<-04>4<-03>,M9.1.6/24,M4.1.6/24",
		"XXX-5:30:15",
		"AAA+0BBB-1,J1/0,J365/23:59:59",
		"ZZZ-14YYY-13:45,59/-167,M2.5.6/167",
	};
	struct tzif	f;
	struct zdef	d;
	char		name[64], tzenv[600];
	size_t		i;
	int64_t		t, step = 2 * 86400 + 3 * 3600 + 7, tr;
	int		version;

	(void)state;
	tzdir_setup();
	setenv("TZDIR", tzdir, 1);
	for (i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		for (version = 0; version < 2; version++) {
			d = zbase;
			d.footer = rules[i];
			if (version == 0) {
				/* Version 1: no footer, the last type stays. */
				if (i > 0)
					continue;
				d.version = 0;
			}
			tzif_build(&f, &d);
			snprintf(name, sizeof name, "Rule/%zu_%d", i, version);
			put_file(name, f.b, f.len);
			if (!tz_valid(name))
				fail_msg("refused \"%s\"", rules[i]);
			snprintf(tzenv, sizeof tzenv, ":%s/%s", tzdir, name);
			use_tz(tzenv);
			for (t = 300000000LL; t < 4200000000LL; t += step) {
				check_offset(name, t);
				if (glibc_off(t) == glibc_off(t + step))
					continue;
				tr = glibc_transition(t, t + step);
				check_offset(name, tr - 1);
				check_offset(name, tr);
				check_offset(name, tr + 1);
				check_abbrev(name, tr - 1);
				check_abbrev(name, tr);
			}
		}
	}

	/*
	 * RFC 8536 3.3.1: daylight time all year. glibc shows EST from 00:00
	 * to 05:00 UTC each 1 January (it looks at one year's changes only),
	 * so this one is checked by value.
	 */
	d = zbase;
	d.footer = "EST5EDT,0/0,J365/25";
	tzif_build(&f, &d);
	put_file("Rule/AllYear", f.b, f.len);
	for (t = 400000000LL; t < 7289654399LL; t += 86400 * 5 + 3599) {
		int	off;

		assert_int_equal(tz_offset_at("Rule/AllYear", t, &off), 0);
		assert_int_equal(off, -4 * 3600);
	}
	for (i = 1981; i < 2200; i++) {
		int	off;

		t = tz_days_from_civil((int64_t)i, 1, 1) * 86400;
		for (tr = t - 7200; tr < t + 7 * 3600; tr += 1800) {
			assert_int_equal(tz_offset_at("Rule/AllYear", tr,
			    &off), 0);
			assert_int_equal(off, -4 * 3600);
		}
	}
	unsetenv("TZDIR");
}

/*
 * Zones with leap seconds (right/) are refused: their times count leap
 * seconds and their tables stop, without a rule, where the list expires.
 */
static void
test_leap_second_zones(void **state)
{
	struct zdef	d = zbase;

	(void)state;
	if (access("/usr/share/zoneinfo/right/Europe/Berlin", R_OK) == 0)
		assert_false(tz_valid("right/Europe/Berlin"));
	tzdir_setup();
	setenv("TZDIR", tzdir, 1);
	d.nleaps = 1;
	d.leap_at[0] = 78796800;
	d.leap_corr[0] = 1;
	expect_zdef_invalid("Leap/One", &d);
	unsetenv("TZDIR");
}

/* A test that set TZDIR and failed half-way leaves no trace. */
static int
unset_tzdir(void **state)
{
	(void)state;
	unsetenv("TZDIR");
	return 0;
}

static int
group_teardown(void **state)
{
	size_t	i;

	(void)state;
	tzdir_cleanup();
	for (i = 0; i < n_all_zones; i++)
		free(all_zones[i]);
	free(all_zones);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system_zone),
		cmocka_unit_test(test_offsets_match_glibc),
		cmocka_unit_test(test_parse_roundtrip_glibc),
		cmocka_unit_test(test_transitions_glibc),
		cmocka_unit_test(test_documented_examples),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_zone_names),
		cmocka_unit_test(test_utc_format_parse),
		cmocka_unit_test(test_format_local_glibc),
		cmocka_unit_test(test_all_zones_glibc),
		cmocka_unit_test(test_random_parse_glibc),
		cmocka_unit_test_teardown(test_hostile_files, unset_tzdir),
		cmocka_unit_test_teardown(test_mutated_files, unset_tzdir),
		cmocka_unit_test_teardown(test_crafted_rules_glibc,
		    unset_tzdir),
		cmocka_unit_test(test_leap_second_zones),
	};

	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
