/*
 * test_ical.c -- VTIMEZONE against the system's tzdata (glibc), and whole
 * invitations parsed back with libical: structure, escaping, folding,
 * injection, CANCEL, recurrence across DST. ical.c is #included to reach
 * its statics.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../daemon/ical.c"

static const char *const test_zones[] = {
	"Europe/Moscow", "Asia/Yekaterinburg", "Europe/Berlin",
	"America/New_York", "Australia/Sydney", "Europe/London",
	"America/Sao_Paulo", "Asia/Kolkata", "America/St_Johns",
	"Pacific/Auckland", "UTC",
};
#define TEST_NZONES (sizeof test_zones / sizeof test_zones[0])

static const int test_years[][2] = {
	{ 2024, 2024 }, { 2025, 2026 }, { 2026, 2027 }, { 2028, 2031 },
	{ 2030, 2036 }, { 2036, 2036 },
};
#define TEST_NYEARS (sizeof test_years / sizeof test_years[0])

/* glibc's offset of zone at t (TZ must already be set to zone). */
static int
test_glibc_offset(int64_t t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	assert_non_null(localtime_r(&tt, &tm));
	return (int)tm.tm_gmtoff;
}

static void
test_set_tz(const char *zone)
{
	assert_int_equal(setenv("TZ", zone, 1), 0);
	tzset();
}

/* The offset that libical derives from our VTIMEZONE. */
static int
test_lib_offset(icaltimezone *z, int64_t t)
{
	struct icaltimetype	tt;
	int			dst = 0;

	tt = icaltime_from_timet_with_zone((time_t)t, 0,
	    icaltimezone_get_utc_timezone());
	return icaltimezone_get_utc_offset_of_utc_time(z, &tt, &dst);
}

static icaltimezone *
test_load_vtz(const char *text)
{
	icalcomponent	*c;
	icaltimezone	*z;

	c = icalparser_parse_string(text);
	assert_non_null(c);
	assert_int_equal(icalcomponent_isa(c), ICAL_VTIMEZONE_COMPONENT);
	z = icaltimezone_new();
	assert_non_null(z);
	assert_int_equal(icaltimezone_set_component(z, c), 1);
	return z;
}

static int
test_count(const char *hay, const char *needle)
{
	int		 n = 0;
	const char	*p = hay;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* Every line ends in CRLF, none is longer than 75 octets, no bare CR/LF. */
static void
test_lines(const char *s)
{
	const char	*p = s, *e;

	assert_true(strlen(s) > 2);
	assert_string_equal(s + strlen(s) - 2, "\r\n");
	while (*p != '\0') {
		e = strchr(p, '\n');
		assert_non_null(e);
		assert_true(e > p);
		assert_int_equal(e[-1], '\r');
		assert_true(e - 1 - p <= 75);
		assert_null(memchr(p, '\r', (size_t)(e - 1 - p)));
		/* A continuation never starts in the middle of a character. */
		assert_true(((unsigned char)p[0] & 0xc0) != 0x80);
		if (p[0] == ' ')
			assert_true(((unsigned char)p[1] & 0xc0) != 0x80);
		p = e + 1;
	}
}

/* The structural rules that Outlook needs. */
static void
test_vtz_structure(const char *text, const char *zone)
{
	char		 want[128];
	const char	*p;
	int		 y;

	test_lines(text);
	assert_true(strncmp(text, "BEGIN:VTIMEZONE\r\n", 17) == 0);
	assert_non_null(strstr(text, "END:VTIMEZONE\r\n"));
	snprintf(want, sizeof want, "\r\nTZID:%s\r\n", zone);
	assert_non_null(strstr(text, want));
	assert_null(strstr(text, "freeassociation"));
	assert_true(test_count(text, "BEGIN:STANDARD") <= 1);
	assert_true(test_count(text, "BEGIN:DAYLIGHT") <= 1);
	assert_true(test_count(text, "BEGIN:STANDARD") +
	    test_count(text, "BEGIN:DAYLIGHT") >= 1);
	assert_null(strstr(text, "UNTIL"));
	assert_null(strstr(text, "RDATE"));
	assert_null(strstr(text, "BYMONTHDAY"));
	assert_null(strstr(text, "COUNT"));
	for (p = text; (p = strstr(p, "TZOFFSET")) != NULL; p++) {
		const char *v = strchr(p, ':') + 1;

		assert_true(v[0] == '+' || v[0] == '-');
		assert_true(strspn(v + 1, "0123456789") == 4);
		assert_true(v[5] == '\r');
	}
	for (p = text; (p = strstr(p, "\r\nDTSTART:")) != NULL; p++) {
		assert_int_equal(sscanf(p + 10, "%4d", &y), 1);
		assert_true(y >= 1601);
		assert_true(strspn(p + 10, "0123456789T") == 15);
	}
	for (p = text; (p = strstr(p, "\r\nRRULE:")) != NULL; p++) {
		assert_true(strncmp(p + 8, "FREQ=YEARLY;BYMONTH=", 20) == 0);
		assert_non_null(strstr(p, ";BYDAY="));
	}
}

/*
 * Compare libical's reading of our VTIMEZONE with glibc over [from, to]:
 * every 6 hours, and one second either side of each of glibc's
 * transitions. Returns the number of transitions seen.
 */
static int
test_vtz_compare(const char *zone, const char *text, int64_t from, int64_t to)
{
	icaltimezone	*z;
	int64_t		 t, lo, hi, mid;
	int		 prev, cur, ntrans = 0;

	test_set_tz(zone);
	z = test_load_vtz(text);
	prev = test_glibc_offset(from);
	for (t = from; t <= to; t += 6 * 3600) {
		cur = test_glibc_offset(t);
		if (test_lib_offset(z, t) != cur)
			fail_msg("%s at %lld: libical %d, glibc %d", zone,
			    (long long)t, test_lib_offset(z, t), cur);
		if (cur != prev && t > from) {
			lo = t - 6 * 3600;
			hi = t;
			while (hi - lo > 1) {
				mid = lo + (hi - lo) / 2;
				if (test_glibc_offset(mid) == prev)
					lo = mid;
				else
					hi = mid;
			}
			/* hi is the first second of the new offset. */
			assert_int_equal(test_lib_offset(z, hi - 1), prev);
			assert_int_equal(test_lib_offset(z, hi), cur);
			assert_int_equal(test_lib_offset(z, hi + 1),
			    test_glibc_offset(hi + 1));
			ntrans++;
		}
		prev = cur;
	}
	icaltimezone_free(z, 1);
	return ntrans;
}

static int64_t
test_jan1(int y)
{
	return ical_secs(y, 1, 1, 0);
}

/* (a) every zone, several windows: structure and offsets. */
static void
test_vtimezone_zones(void **state)
{
	size_t	 i, j;
	char	*text;
	int	 n;

	(void)state;
	for (i = 0; i < TEST_NZONES; i++) {
		for (j = 0; j < TEST_NYEARS; j++) {
			int64_t from = test_jan1(test_years[j][0]);
			int64_t to = test_jan1(test_years[j][1] + 1) - 1;

			text = ical_vtimezone(test_zones[i], from, to);
			assert_non_null(text);
			test_vtz_structure(text, test_zones[i]);
			n = test_vtz_compare(test_zones[i], text, from, to);
			if (strstr(text, "BEGIN:DAYLIGHT") != NULL)
				assert_true(n > 0);
			else {
				assert_int_equal(n, 0);
				assert_non_null(strstr(text,
				    "DTSTART:19700101T000000\r\n"));
			}
			free(text);
		}
	}
}

/* Exact texts for two well-known zones. */
static void
test_vtimezone_exact(void **state)
{
	char	*text;

	(void)state;
	text = ical_vtimezone("Europe/Berlin", test_jan1(2026) + 86400 * 40,
	    test_jan1(2026) + 86400 * 41);
	assert_non_null(text);
	assert_string_equal(text,
	    "BEGIN:VTIMEZONE\r\n"
	    "TZID:Europe/Berlin\r\n"
	    "BEGIN:STANDARD\r\n"
	    "DTSTART:20251026T030000\r\n"
	    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
	    "TZOFFSETFROM:+0200\r\n"
	    "TZOFFSETTO:+0100\r\n"
	    "TZNAME:CET\r\n"
	    "END:STANDARD\r\n"
	    "BEGIN:DAYLIGHT\r\n"
	    "DTSTART:20250330T020000\r\n"
	    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
	    "TZOFFSETFROM:+0100\r\n"
	    "TZOFFSETTO:+0200\r\n"
	    "TZNAME:CEST\r\n"
	    "END:DAYLIGHT\r\n"
	    "END:VTIMEZONE\r\n");
	free(text);
	text = ical_vtimezone("Europe/Moscow", test_jan1(2026),
	    test_jan1(2027));
	assert_non_null(text);
	assert_string_equal(text,
	    "BEGIN:VTIMEZONE\r\n"
	    "TZID:Europe/Moscow\r\n"
	    "BEGIN:STANDARD\r\n"
	    "DTSTART:19700101T000000\r\n"
	    "TZOFFSETFROM:+0300\r\n"
	    "TZOFFSETTO:+0300\r\n"
	    "TZNAME:MSK\r\n"
	    "END:STANDARD\r\n"
	    "END:VTIMEZONE\r\n");
	free(text);
}

/*
 * Zones whose transitions fit no yearly rule in the window fall back to
 * one observance per transition: still correct, still no RDATE/UNTIL.
 */
static void
test_vtimezone_irregular(void **state)
{
	static const struct {
		const char	*zone;
		int		 y0, y1;
	} cases[] = {
		{ "America/Sao_Paulo", 2018, 2019 },	/* DST abolished 2019 */
		{ "Africa/Casablanca", 2026, 2028 },	/* Ramadan */
		{ "Europe/Moscow", 2011, 2014 },	/* +3/+4 and back */
	};
	size_t	 i;
	char	*text;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t from = test_jan1(cases[i].y0);
		int64_t to = test_jan1(cases[i].y1 + 1) - 1;

		text = ical_vtimezone(cases[i].zone, from, to);
		assert_non_null(text);
		test_lines(text);
		assert_null(strstr(text, "RRULE"));
		assert_null(strstr(text, "RDATE"));
		assert_null(strstr(text, "UNTIL"));
		assert_true(test_vtz_compare(cases[i].zone, text, from, to) >
		    0);
		free(text);
	}
}

/*
 * More zones, offsets only (some may take the per-transition form):
 * half-hour DST, negative DST, southern hemisphere, no DST any more.
 */
static void
test_vtimezone_more(void **state)
{
	static const char *const zones[] = {
		"Australia/Lord_Howe", "Pacific/Chatham", "Europe/Dublin",
		"Asia/Tehran", "America/Havana", "America/Santiago",
		"Asia/Jerusalem", "America/Mexico_City", "Pacific/Apia",
		"Asia/Kathmandu", "America/Caracas", "Europe/Chisinau",
		"Atlantic/Azores", "America/Godthab", "Antarctica/Troll",
		"Asia/Amman", "Asia/Damascus", "Africa/Cairo", "Europe/Kyiv",
		"Europe/Samara", "Asia/Kamchatka", "Pacific/Kiritimati",
	};
	size_t	 i, j;
	char	*text;

	(void)state;
	for (i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		for (j = 0; j < 3; j++) {
			int64_t from = test_jan1(2024 + 4 * (int)j);
			int64_t to = test_jan1(2024 + 4 * (int)j + 2) - 1;

			text = ical_vtimezone(zones[i], from, to);
			assert_non_null(text);
			test_lines(text);
			assert_null(strstr(text, "RDATE"));
			assert_null(strstr(text, "UNTIL"));
			(void)test_vtz_compare(zones[i], text, from, to);
			free(text);
		}
	}
}

static void
test_vtimezone_refuse(void **state)
{
	(void)state;
	assert_null(ical_vtimezone("Mars/Olympus", 0, 1));
	assert_null(ical_vtimezone("Europe/Berlin\r\nX", 0, 1));
	assert_null(ical_vtimezone("../etc/passwd", 0, 1));
	assert_null(ical_vtimezone(NULL, 0, 1));
	assert_null(ical_vtimezone("Europe/Berlin", 10, 1));
	assert_null(ical_vtimezone("Europe/Berlin", 0,
	    (int64_t)400 * 366 * 86400));
}

/* The cache returns the same text and stays bounded. */
static void
test_vtimezone_cache(void **state)
{
	static const char *const more[] = {
		"Europe/Paris", "Europe/Rome", "Europe/Madrid", "Asia/Tokyo",
		"Asia/Dubai", "America/Chicago", "America/Denver",
		"America/Los_Angeles", "Europe/Kyiv", "Asia/Novosibirsk",
	};
	char	*a, *b;
	size_t	 i, j;
	int64_t	 from = test_jan1(2026), to = test_jan1(2026) + 86400;

	(void)state;
	ical_cache_clear();
	a = ical_vtimezone("Europe/Berlin", from, to);
	b = ical_vtimezone("Europe/Berlin", from + 3600, to + 7200);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_string_equal(a, b);
	free(b);
	for (j = 0; j < 3; j++) {
		for (i = 0; i < sizeof more / sizeof more[0]; i++) {
			b = ical_vtimezone(more[i], from, to);
			assert_non_null(b);
			free(b);
		}
	}
	for (i = 0, j = 0; i < ICAL_TZCACHE_SIZE; i++)
		j += ical_tzcache[i].text != NULL;
	assert_true(j <= ICAL_TZCACHE_SIZE);
	b = ical_vtimezone("Europe/Berlin", from, to);
	assert_string_equal(a, b);
	free(a);
	free(b);
	ical_cache_clear();
}

/* ---- ical_render ---- */

static const int64_t test_alarms[] = { 900, 86400 };

/* Berlin, 2026-03-26 15:00 CET = 14:00Z, 90 minutes. */
static struct ical_event
test_event(void)
{
	struct ical_event ev;

	memset(&ev, 0, sizeof ev);
	ev.method = ICAL_REQUEST;
	ev.uid = "session-42@lectern.example";
	ev.sequence = 3;
	ev.dtstamp = 1774000000;
	ev.tz = "Europe/Berlin";
	ev.start_local = "2026-03-26T15:00:00";
	ev.start_utc = 1774533600;
	ev.duration = 90;
	ev.summary = "Семинар: \"ФГОС\", 5; кл. \\ итоги";
	ev.description = "Line one\r\nLine two, with; punctuation\\";
	ev.location = "Школа №5, каб. 12";
	ev.url = "https://meet.example.org/j/42?pwd=a;b";
	ev.organizer_name = "Методический центр";
	ev.organizer_addr = "methodist@lectern.example";
	ev.attendee_name = "Петров, Иван: учитель";
	ev.attendee_addr = "ivan.petrov@school5.example";
	ev.alarms = test_alarms;
	ev.nalarms = 2;
	return ev;
}

/* Unfold CRLF + space; caller frees. */
static char *
test_unfold(const char *s)
{
	char	*out = malloc(strlen(s) + 1);
	size_t	 o = 0;

	assert_non_null(out);
	while (*s != '\0') {
		if (s[0] == '\r' && s[1] == '\n' && s[2] == ' ') {
			s += 3;
			continue;
		}
		out[o++] = *s++;
	}
	out[o] = '\0';
	return out;
}

static int
test_xlic_errors(icalcomponent *c)
{
	icalcomponent	*sub;
	int		 n;

	n = icalcomponent_count_properties(c, ICAL_XLICERROR_PROPERTY);
	for (sub = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	    sub != NULL;
	    sub = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		n += test_xlic_errors(sub);
	return n;
}

/* Every TZID parameter anywhere in c has a VTIMEZONE in cal. */
static void
test_tzids(icalcomponent *cal, icalcomponent *c)
{
	icalcomponent	*sub, *vtz;
	icalproperty	*p, *tp;
	icalparameter	*par;
	const char	*tzid;
	int		 found;

	for (p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		par = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
		if (par == NULL)
			continue;
		tzid = icalparameter_get_tzid(par);
		found = 0;
		for (vtz = icalcomponent_get_first_component(cal,
		    ICAL_VTIMEZONE_COMPONENT); vtz != NULL;
		    vtz = icalcomponent_get_next_component(cal,
		    ICAL_VTIMEZONE_COMPONENT)) {
			tp = icalcomponent_get_first_property(vtz,
			    ICAL_TZID_PROPERTY);
			if (tp != NULL &&
			    strcmp(icalproperty_get_tzid(tp), tzid) == 0)
				found = 1;
		}
		assert_true(found);
	}
	for (sub = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	    sub != NULL;
	    sub = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		test_tzids(cal, sub);
}

/*
 * Render ev, check everything that holds for any invitation, return the
 * parsed calendar (caller frees) and the text in *textp if wanted.
 */
static icalcomponent *
test_render_parse(const struct ical_event *ev, char **textp)
{
	icalcomponent	*cal, *vev;
	icalproperty	*p;
	char		 err[256] = "";
	char		*text, *unf;

	text = ical_render(ev, err, sizeof err);
	if (text == NULL)
		fail_msg("ical_render: %s", err);
	test_lines(text);
	unf = test_unfold(text);
	assert_int_equal(valid_utf8(unf, strlen(unf)), 0);
	assert_null(strstr(unf, "freeassociation"));
	cal = icalparser_parse_string(text);
	assert_non_null(cal);
	assert_int_equal(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
	assert_int_equal(test_xlic_errors(cal), 0);
	assert_int_equal(icalcomponent_count_components(cal,
	    ICAL_VEVENT_COMPONENT), 1);
	assert_int_equal(icalcomponent_count_components(cal,
	    ICAL_VTIMEZONE_COMPONENT), 1);
	vev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	assert_int_equal(icalcomponent_count_properties(vev,
	    ICAL_ATTENDEE_PROPERTY), 1);
	assert_int_equal(icalcomponent_count_properties(vev,
	    ICAL_METHOD_PROPERTY), 0);
	assert_int_equal(icalcomponent_count_properties(cal,
	    ICAL_METHOD_PROPERTY), 1);
	assert_string_equal(icalproperty_get_value_as_string(
	    icalcomponent_get_first_property(cal, ICAL_VERSION_PROPERTY)),
	    "2.0");
	assert_string_equal(icalproperty_get_value_as_string(
	    icalcomponent_get_first_property(cal, ICAL_PRODID_PROPERTY)),
	    "-//lectern//lectern 0.1//EN");
	assert_int_equal(icalcomponent_get_method(cal),
	    ev->method == ICAL_CANCEL ? ICAL_METHOD_CANCEL :
	    ICAL_METHOD_REQUEST);
	assert_string_equal(icalcomponent_get_uid(vev), ev->uid);
	assert_int_equal(icalcomponent_get_sequence(vev), ev->sequence);
	assert_int_equal(icalcomponent_get_status(vev),
	    ev->method == ICAL_CANCEL ? ICAL_STATUS_CANCELLED :
	    ICAL_STATUS_CONFIRMED);
	p = icalcomponent_get_first_property(vev, ICAL_DTSTAMP_PROPERTY);
	assert_non_null(p);
	assert_true(icaltime_is_utc(icalproperty_get_dtstamp(p)));
	assert_int_equal(icaltime_as_timet(icalproperty_get_dtstamp(p)),
	    ev->dtstamp);
	p = icalcomponent_get_first_property(vev, ICAL_TRANSP_PROPERTY);
	assert_non_null(p);
	p = icalcomponent_get_first_property(vev, ICAL_ORGANIZER_PROPERTY);
	assert_non_null(p);
	assert_true(strcasecmp(icalproperty_get_organizer(p) + 7,
	    ev->organizer_addr) == 0);
	p = icalcomponent_get_first_property(vev, ICAL_ATTENDEE_PROPERTY);
	assert_true(strncmp(icalproperty_get_attendee(p), "mailto:", 7) == 0);
	assert_string_equal(icalproperty_get_attendee(p) + 7,
	    ev->attendee_addr);
	assert_int_equal(icalparameter_get_rsvp(
	    icalproperty_get_first_parameter(p, ICAL_RSVP_PARAMETER)),
	    ICAL_RSVP_TRUE);
	assert_int_equal(icalparameter_get_partstat(
	    icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER)),
	    ICAL_PARTSTAT_NEEDSACTION);
	assert_int_equal(icalparameter_get_role(
	    icalproperty_get_first_parameter(p, ICAL_ROLE_PARAMETER)),
	    ICAL_ROLE_REQPARTICIPANT);
	assert_int_equal(icalparameter_get_cutype(
	    icalproperty_get_first_parameter(p, ICAL_CUTYPE_PARAMETER)),
	    ICAL_CUTYPE_INDIVIDUAL);
	test_tzids(cal, cal);
	/* The iTIP restrictions for the method (this adds X-LIC-ERRORs). */
	assert_int_equal(icalrestriction_check(cal), 1);
	assert_int_equal(test_xlic_errors(cal), 0);
	free(unf);
	if (textp != NULL)
		*textp = text;
	else
		free(text);
	return cal;
}

static int64_t
test_utc_of(struct icaltimetype tt)
{
	assert_non_null(tt.zone);
	return (int64_t)icaltime_as_timet_with_zone(tt, tt.zone);
}

/* (b) the happy path. */
static void
test_render_request(void **state)
{
	struct ical_event	 ev = test_event();
	icalcomponent		*cal, *vev;
	icalproperty		*p;
	struct icaltimetype	 ds, de;
	char			*text, *unf;

	(void)state;
	cal = test_render_parse(&ev, &text);
	vev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	ds = icalcomponent_get_dtstart(vev);
	de = icalcomponent_get_dtend(vev);
	assert_string_equal(icaltimezone_get_tzid((icaltimezone *)ds.zone),
	    "Europe/Berlin");
	assert_int_equal(test_utc_of(ds), ev.start_utc);
	assert_int_equal(test_utc_of(de), ev.start_utc + 90 * 60);
	assert_string_equal(icalcomponent_get_summary(vev), ev.summary);
	assert_string_equal(icalcomponent_get_description(vev),
	    "Line one\nLine two, with; punctuation\\");
	assert_string_equal(icalcomponent_get_location(vev), ev.location);
	p = icalcomponent_get_first_property(vev, ICAL_URL_PROPERTY);
	assert_string_equal(icalproperty_get_url(p), ev.url);
	p = icalcomponent_get_first_property(vev, ICAL_ATTENDEE_PROPERTY);
	assert_string_equal(icalparameter_get_cn(
	    icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER)),
	    "Петров, Иван: учитель");
	assert_int_equal(icalcomponent_count_components(vev,
	    ICAL_VALARM_COMPONENT), 2);
	assert_int_equal(icalcomponent_count_properties(vev,
	    ICAL_RRULE_PROPERTY), 0);
	assert_int_equal(icalcomponent_count_properties(vev,
	    ICAL_RECURRENCEID_PROPERTY), 0);

	unf = test_unfold(text);
	assert_non_null(strstr(unf, "\r\nMETHOD:REQUEST\r\n"));
	assert_non_null(strstr(unf, "\r\nCALSCALE:GREGORIAN\r\n"));
	assert_non_null(strstr(unf,
	    "\r\nDTSTART;TZID=Europe/Berlin:20260326T150000\r\n"));
	assert_non_null(strstr(unf,
	    "\r\nDTEND;TZID=Europe/Berlin:20260326T163000\r\n"));
	assert_non_null(strstr(unf, "\r\nDTSTAMP:20260320T094640Z\r\n"));
	assert_non_null(strstr(unf, "\r\nSTATUS:CONFIRMED\r\n"));
	assert_non_null(strstr(unf, "\r\nSEQUENCE:3\r\n"));
	assert_non_null(strstr(unf, "\r\nTRANSP:OPAQUE\r\n"));
	/* TEXT escaping by libical: \ ; , and newline. */
	assert_non_null(strstr(unf,
	    "\r\nSUMMARY:Семинар: \"ФГОС\"\\, 5\\; кл. \\\\ итоги\r\n"));
	assert_non_null(strstr(unf,
	    "\r\nDESCRIPTION:Line one\\nLine two\\, with\\; punctuation"
	    "\\\\\r\n"));
	/* CN always quoted, the plain one too. */
	assert_non_null(strstr(unf,
	    "\r\nATTENDEE;CN=\"Петров, Иван: учитель\";CUTYPE=INDIVIDUAL;"
	    "ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:"
	    "mailto:ivan.petrov@school5.example\r\n"));
	assert_non_null(strstr(unf, "\r\nORGANIZER;CN=\"Методический центр\""
	    ":mailto:methodist@lectern.example\r\n"));
	assert_non_null(strstr(unf, "\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n"
	    "TRIGGER:-PT15M\r\n"));
	assert_non_null(strstr(unf, "\r\nTRIGGER:-PT1440M\r\n"));
	free(unf);
	free(text);
	icalcomponent_free(cal);
}

/* CN quoting for plain ASCII names, and a '"' in a name. */
static void
test_render_cn(void **state)
{
	struct ical_event	 ev = test_event();
	icalcomponent		*cal;
	char			*text, *unf, err[256];

	(void)state;
	ev.organizer_name = "Plain";
	ev.attendee_name = "Ivan \"the Great\" Petrov";
	cal = test_render_parse(&ev, &text);
	unf = test_unfold(text);
	assert_non_null(strstr(unf, "\r\nORGANIZER;CN=\"Plain\":mailto:"));
	assert_non_null(strstr(unf,
	    "\r\nATTENDEE;CN=\"Ivan 'the Great' Petrov\";CUTYPE="));
	free(unf);
	free(text);
	icalcomponent_free(cal);

	/* No name: no CN at all. */
	ev.organizer_name = "";
	ev.attendee_name = NULL;
	cal = test_render_parse(&ev, &text);
	unf = test_unfold(text);
	assert_non_null(strstr(unf,
	    "\r\nORGANIZER:mailto:methodist@lectern.example\r\n"));
	assert_non_null(strstr(unf, "\r\nATTENDEE;CUTYPE=INDIVIDUAL;"));
	assert_null(strstr(unf, "CN="));
	free(unf);
	free(text);
	icalcomponent_free(cal);

	ev.attendee_name = "Ivan\nATTENDEE:mailto:evil@x";
	assert_null(ical_render(&ev, err, sizeof err));
	assert_non_null(strstr(err, "attendee_name"));
	ev.attendee_name = "Ivan\xe2\x80\xa8Petrov";
	assert_null(ical_render(&ev, err, sizeof err));
	ev.attendee_name = "Ivan\x01";
	assert_null(ical_render(&ev, err, sizeof err));
	ev.attendee_name = "Ivan";
	ev.organizer_name = "Org\r\nX";
	assert_null(ical_render(&ev, err, sizeof err));
	assert_non_null(strstr(err, "organizer_name"));
}

/* Long values: folding at 75 octets never splits a character. */
static void
test_render_folding(void **state)
{
	struct ical_event	 ev = test_event();
	icalcomponent		*cal, *vev;
	char			*big, *text;
	size_t			 i, o = 0;

	(void)state;
	big = malloc(30001);
	assert_non_null(big);
	/* 10,000 characters of 1-, 2- and 3-octet sequences, no newline. */
	for (i = 0; i < 10000; i++) {
		if (i % 3 == 0)
			big[o++] = 'a';
		else if (i % 3 == 1) {
			memcpy(big + o, "Ж", 2);
			o += 2;
		} else {
			memcpy(big + o, "€", 3);
			o += 3;
		}
	}
	big[o] = '\0';
	ev.summary = big;
	ev.description = big;
	ev.location = big;
	cal = test_render_parse(&ev, &text);
	vev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	assert_string_equal(icalcomponent_get_summary(vev), big);
	assert_string_equal(icalcomponent_get_description(vev), big);
	assert_string_equal(icalcomponent_get_location(vev), big);
	free(text);
	icalcomponent_free(cal);
	free(big);
}

/* CRLF -> LF, as the round trip expects it back. */
static char *
test_lf(const char *s)
{
	char	*out = strdup(s);
	size_t	 i, o = 0;

	assert_non_null(out);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\r' && s[i + 1] == '\n')
			continue;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/* (c) hostile text stays text. */
static void
test_render_injection(void **state)
{
	static const char *const payloads[] = {
		"x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\n"
		    "ATTENDEE:mailto:evil@x",
		"x\nATTENDEE:mailto:evil@x",
		"\nEND:VCALENDAR\n",
		"a\xe2\x80\xa8" "b\xe2\x80\xa9" "c",
		"tab\there, \\n literal, \\; \\, ;;;:::\"\"\"",
		"x\r\n ATTENDEE:mailto:evil@x",
		"BEGIN:VALARM\nACTION:EMAIL\nATTENDEE:mailto:evil@x\n"
		    "END:VALARM",
	};
	struct ical_event	 ev;
	icalcomponent		*cal, *vev;
	size_t			 i, f;
	char			*want, *text, *unf;
	int			 nprops;

	(void)state;
	for (i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
		for (f = 0; f < 3; f++) {
			ev = test_event();
			ev.nalarms = 0;
			if (f == 0)
				ev.summary = payloads[i];
			else if (f == 1)
				ev.description = payloads[i];
			else
				ev.location = payloads[i];
			cal = test_render_parse(&ev, &text);
			vev = icalcomponent_get_first_component(cal,
			    ICAL_VEVENT_COMPONENT);
			want = test_lf(payloads[i]);
			if (f == 0)
				assert_string_equal(
				    icalcomponent_get_summary(vev), want);
			else if (f == 1)
				assert_string_equal(
				    icalcomponent_get_description(vev), want);
			else
				assert_string_equal(
				    icalcomponent_get_location(vev), want);
			/*
			 * UID DTSTAMP DTSTART DTEND SUMMARY DESCRIPTION
			 * LOCATION URL ORGANIZER ATTENDEE SEQUENCE STATUS
			 * TRANSP: 13, and nothing else.
			 */
			nprops = icalcomponent_count_properties(vev,
			    ICAL_ANY_PROPERTY);
			assert_int_equal(nprops, 13);
			assert_int_equal(icalcomponent_count_components(vev,
			    ICAL_ANY_COMPONENT), 0);
			assert_string_equal(icalcomponent_get_uid(vev),
			    ev.uid);
			unf = test_unfold(text);
			assert_int_equal(test_count(unf,
			    "\r\nBEGIN:VEVENT\r\n"), 1);
			assert_int_equal(test_count(unf, "\r\nATTENDEE"), 1);
			assert_int_equal(test_count(unf,
			    "\r\nEND:VEVENT\r\n"), 1);
			assert_int_equal(test_count(unf,
			    "\r\nEND:VCALENDAR\r\n"), 1);
			free(unf);
			free(want);
			free(text);
			icalcomponent_free(cal);
		}
	}
}

/* (c) values that are not text are refused, not escaped. */
static void
test_render_refuse(void **state)
{
	static const char *const bad_addr[] = {
		"a@b.example\r\nATTENDEE:mailto:evil@x", "a@b.example\n",
		"a@b.example\r", "<a@b.example>", "a b@c.example",
		"Ivan <a@b.example>", "a@b.example;x=y", "",
		"mailto:a@b.example",
		"a@b.example\x01",
	};
	static const char *const bad_url[] = {
		"https://x.example/\r\nATTENDEE:mailto:evil@x",
		"https://x.example/\n", "https://x.example/ a",
		"javascript:alert(1)", "https://x.example/\x7f",
	};
	static const char *const bad_uid[] = {
		"", "a\r\nb@lectern.example", "a\nb", "a b", "сессия@lectern",
		"a\x01", "a\tb",
	};
	static const char *const bad_tz[] = {
		"Europe/Berlin\r\n", "Europe/Berlin\n", "Mars/Base",
		"/freeassociation.sourceforge.net/Europe/Berlin", "",
	};
	static const char *const bad_rrule[] = {
		"FREQ=WEEKLY\r\nATTENDEE:mailto:evil@x", "FREQ=WEEKLY\n",
		"FREQ=SOMETIMES", "", "COUNT=3",
		"FREQ=WEEKLY;UNTIL=20261201T150000",
		"FREQ=WEEKLY;COUNT=2\x01",
	};
	static const char *const bad_text[] = {
		"a\rb", "a\x01", "a\x1b[31m", "a\x7f", "a\xc2\x85" "b",
		"\xff\xfe",
		"a\xd0",
	};
	struct ical_event	 ev;
	char			 err[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof bad_addr / sizeof bad_addr[0]; i++) {
		ev = test_event();
		ev.attendee_addr = bad_addr[i];
		err[0] = '\0';
		assert_null(ical_render(&ev, err, sizeof err));
		assert_true(err[0] != '\0');
		assert_null(strchr(err, '\n'));
		ev = test_event();
		ev.organizer_addr = bad_addr[i];
		assert_null(ical_render(&ev, err, sizeof err));
	}
	for (i = 0; i < sizeof bad_url / sizeof bad_url[0]; i++) {
		ev = test_event();
		ev.url = bad_url[i];
		assert_null(ical_render(&ev, err, sizeof err));
	}
	for (i = 0; i < sizeof bad_uid / sizeof bad_uid[0]; i++) {
		ev = test_event();
		ev.uid = bad_uid[i];
		assert_null(ical_render(&ev, err, sizeof err));
		assert_non_null(strstr(err, "uid"));
	}
	for (i = 0; i < sizeof bad_tz / sizeof bad_tz[0]; i++) {
		ev = test_event();
		ev.tz = bad_tz[i];
		assert_null(ical_render(&ev, err, sizeof err));
	}
	for (i = 0; i < sizeof bad_rrule / sizeof bad_rrule[0]; i++) {
		ev = test_event();
		ev.rrule = bad_rrule[i];
		assert_null(ical_render(&ev, err, sizeof err));
		assert_non_null(strstr(err, "rrule"));
	}
	for (i = 0; i < sizeof bad_text / sizeof bad_text[0]; i++) {
		ev = test_event();
		ev.summary = bad_text[i];
		assert_null(ical_render(&ev, err, sizeof err));
		ev = test_event();
		ev.description = bad_text[i];
		assert_null(ical_render(&ev, err, sizeof err));
		ev = test_event();
		ev.location = bad_text[i];
		assert_null(ical_render(&ev, err, sizeof err));
	}
	ev = test_event();
	ev.summary = "";
	assert_null(ical_render(&ev, err, sizeof err));
	ev = test_event();
	ev.duration = 0;
	assert_null(ical_render(&ev, err, sizeof err));
	ev = test_event();
	ev.sequence = -1;
	assert_null(ical_render(&ev, err, sizeof err));
	/* start_local and start_utc disagree. */
	ev = test_event();
	ev.start_utc += 3600;
	assert_null(ical_render(&ev, err, sizeof err));
	assert_non_null(strstr(err, "start"));
	/* In the gap. */
	ev = test_event();
	ev.start_local = "2026-03-29T02:30:00";
	assert_null(ical_render(&ev, err, sizeof err));
	assert_non_null(strstr(err, "does not exist"));
	ev = test_event();
	ev.recurrence_id_local = "2026-03-26T15:00:00\r\nX";
	assert_null(ical_render(&ev, err, sizeof err));
	ev = test_event();
	ev.recurrence_id_local = "2026-02-30T15:00:00";
	assert_null(ical_render(&ev, err, sizeof err));
	ev = test_event();
	ev.method = (enum ical_method)7;
	assert_null(ical_render(&ev, err, sizeof err));
	assert_null(ical_render(NULL, err, sizeof err));
}

/* (d) CANCEL */
static void
test_render_cancel(void **state)
{
	struct ical_event	 ev = test_event();
	icalcomponent		*cal, *vev;
	char			*text, *unf;

	(void)state;
	ev.method = ICAL_CANCEL;
	ev.sequence = 4;
	cal = test_render_parse(&ev, &text);
	vev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	assert_int_equal(icalcomponent_count_components(vev,
	    ICAL_VALARM_COMPONENT), 0);
	assert_int_equal(icalcomponent_get_sequence(vev), 4);
	assert_string_equal(icalcomponent_get_summary(vev), ev.summary);
	assert_int_equal(test_utc_of(icalcomponent_get_dtstart(vev)),
	    ev.start_utc);
	unf = test_unfold(text);
	assert_non_null(strstr(unf, "\r\nMETHOD:CANCEL\r\n"));
	assert_non_null(strstr(unf, "\r\nSTATUS:CANCELLED\r\n"));
	assert_null(strstr(unf, "VALARM"));
	assert_null(strstr(unf, "TRIGGER"));
	free(unf);
	free(text);
	icalcomponent_free(cal);
}

/* One occurrence of a series: RECURRENCE-ID with the master's TZID. */
static void
test_render_recurrence_id(void **state)
{
	struct ical_event	 ev = test_event();
	icalcomponent		*cal, *vev;
	icalproperty		*p;
	struct icaltimetype	 rid;
	char			*text, *unf;

	(void)state;
	ev.method = ICAL_CANCEL;
	ev.rrule = "FREQ=WEEKLY;COUNT=6";
	ev.recurrence_id_local = "2026-04-02T15:00:00";
	ev.start_local = "2026-04-02T15:00:00";
	ev.start_utc = 1775134800;	/* 13:00Z, CEST */
	cal = test_render_parse(&ev, &text);
	vev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	p = icalcomponent_get_first_property(vev, ICAL_RECURRENCEID_PROPERTY);
	assert_non_null(p);
	unf = test_unfold(text);
	assert_non_null(strstr(unf,
	    "\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260402T150000\r\n"));
	rid = icalproperty_get_recurrenceid(p);
	assert_string_equal(icalparameter_get_tzid(
	    icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)),
	    "Europe/Berlin");
	assert_int_equal(icaltime_as_timet_with_zone(rid,
	    icalcomponent_get_timezone(cal, "Europe/Berlin")), ev.start_utc);
	free(unf);
	free(text);
	icalcomponent_free(cal);
}

/*
 * A session that ends in the second pass of a DST overlap: DTEND's wall
 * time would read as the first pass, so the length goes as DURATION.
 */
static void
test_render_overlap(void **state)
{
	struct ical_event	 ev = test_event();
	icalcomponent		*cal, *vev;
	struct icaldurationtype	 d;
	char			*text, err[256];

	(void)state;
	ev.start_local = "2026-10-25T02:30:00";	/* CEST, 00:30Z */
	ev.start_utc = 1792888200;
	ev.duration = 60;			/* ends 02:30 CET */
	cal = test_render_parse(&ev, &text);
	vev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	assert_int_equal(icalcomponent_count_properties(vev,
	    ICAL_DTEND_PROPERTY), 0);
	d = icalcomponent_get_duration(vev);
	assert_int_equal(icaldurationtype_as_int(d), 3600);
	/*
	 * 02:30 is ambiguous that night. RFC 5545 3.3.5 reads it as the
	 * first pass (CEST), as tz_parse does; libical 3.0 picks the second
	 * unless is_daylight is set, so compare the wall time as text.
	 */
	assert_non_null(strstr(text,
	    "\r\nDTSTART;TZID=Europe/Berlin:20261025T023000\r\n"));
	assert_non_null(strstr(text, "\r\nDURATION:PT60M\r\n"));
	free(text);
	icalcomponent_free(cal);

	/* A start in the second pass cannot be written with TZID. */
	ev.start_local = NULL;
	ev.start_utc = 1792891800;		/* 02:30 CET */
	assert_null(ical_render(&ev, err, sizeof err));
	/* Derived from start_utc when start_local is not given. */
	ev.start_utc = 1792888200;
	cal = test_render_parse(&ev, &text);
	free(text);
	icalcomponent_free(cal);
}

/* (e) weekly across DST: 15:00 stays 15:00 local. */
static void
test_render_rrule_dst(void **state)
{
	static const struct {
		const char	*zone, *local, *rrule;
		int		 y, m, d;
	} cases[] = {
		{ "Europe/Berlin", "2026-03-12T15:00", "FREQ=WEEKLY;COUNT=6",
		    2026, 3, 12 },
		{ "America/New_York", "2026-10-15T15:00", "FREQ=WEEKLY;COUNT=6",
		    2026, 10, 15 },
		{ "Australia/Sydney", "2026-03-19T15:00",
		    "FREQ=WEEKLY;COUNT=6", 2026, 3, 19 },
		{ "Europe/London", "2026-10-01T15:00",
		    "FREQ=WEEKLY;UNTIL=20261106T000000Z", 2026, 10, 1 },
	};
	struct ical_event	 ev;
	icalcomponent		*cal, *vev;
	icalrecur_iterator	*it;
	struct icalrecurrencetype rr;
	struct icaltimetype	 ds, o;
	struct tm		 tm;
	char			*text, err[256];
	int64_t			 utc;
	size_t			 i;
	int			 k, offs[2] = { 0, 0 };

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ev = test_event();
		ev.tz = cases[i].zone;
		ev.start_local = cases[i].local;
		ev.rrule = cases[i].rrule;
		assert_int_equal(tz_parse(cases[i].local, cases[i].zone, 0,
		    "start", &ev.start_utc, NULL, 0, err, sizeof err), 0);
		cal = test_render_parse(&ev, &text);
		vev = icalcomponent_get_first_component(cal,
		    ICAL_VEVENT_COMPONENT);
		ds = icalcomponent_get_dtstart(vev);
		rr = icalproperty_get_rrule(icalcomponent_get_first_property(
		    vev, ICAL_RRULE_PROPERTY));
		it = icalrecur_iterator_new(rr, ds);
		assert_non_null(it);
		test_set_tz(cases[i].zone);
		for (k = 0; !icaltime_is_null_time(o =
		    icalrecur_iterator_next(it)); k++) {
			memset(&tm, 0, sizeof tm);
			tm.tm_year = cases[i].y - 1900;
			tm.tm_mon = cases[i].m - 1;
			tm.tm_mday = cases[i].d + 7 * k;
			tm.tm_hour = 15;
			tm.tm_isdst = -1;
			utc = (int64_t)mktime(&tm);
			assert_int_equal(o.hour, 15);
			assert_int_equal(icaltime_as_timet_with_zone(o,
			    ds.zone), utc);
			offs[k == 0 ? 0 : 1] = (int)tm.tm_gmtoff;
		}
		assert_int_equal(k, 6);
		/* The series really crosses a change of offset. */
		assert_int_not_equal(offs[0], offs[1]);
		icalrecur_iterator_free(it);
		free(text);
		icalcomponent_free(cal);
	}
}

/* An explicit range_end_utc widens the VTIMEZONE; 0 expands the rule. */
static void
test_render_range(void **state)
{
	struct ical_event	 ev = test_event();
	icalcomponent		*cal;
	char			*text;

	(void)state;
	ev.tz = "Europe/Moscow";
	ev.start_local = "2026-03-26T15:00";
	ev.start_utc = 1774526400;
	cal = test_render_parse(&ev, &text);
	assert_non_null(strstr(text, "TZID:Europe/Moscow\r\n"));
	free(text);
	icalcomponent_free(cal);
	ev = test_event();
	ev.tz = "UTC";
	ev.start_local = "2026-03-26T14:00:00";
	ev.rrule = "FREQ=MONTHLY;INTERVAL=3";
	ev.range_end_utc = ev.start_utc + 3LL * 366 * 86400;
	cal = test_render_parse(&ev, &text);
	free(text);
	icalcomponent_free(cal);
}

/* The fold/unfold pass on its own: CR without LF is refused. */
static void
test_finish(void **state)
{
	char	 err[128], *s;

	(void)state;
	assert_null(ical_finish("A:b\rX:c\r\n", err, sizeof err));
	assert_null(ical_finish("A:b\x01\r\n", err, sizeof err));
	s = ical_finish("A:b\nB:c\r\n d\n", err, sizeof err);
	assert_non_null(s);
	assert_string_equal(s, "A:b\r\nB:cd\r\n");
	free(s);
	s = ical_finish("ATTENDEE;CN=A B;X=\"q;:\":mailto:a@b\r\n", err,
	    sizeof err);
	assert_non_null(s);
	assert_string_equal(s,
	    "ATTENDEE;CN=\"A B\";X=\"q;:\":mailto:a@b\r\n");
	free(s);
}

/* ---- ical_prep_* ---- */

/*
 * A prepared calendar gives, for every attendee, the octets ical_render
 * gives: names that libical quotes (',' ';' ':'), that it does not ('^',
 * '\\', '\''), that ical_cn() changes ('"'), long Cyrillic ones folded
 * at character boundaries, none at all; REQUEST with alarms, CANCEL, a
 * series.
 */
static void
test_prep_same(void **state)
{
	static const char *const names[] = {
		"", "Anna Smith", "Петров, Иван: учитель",
		"O'Brien, \"Pat\" \\ J.", "a^b^n \\n x", "x;y", "x:y",
		"Очень-очень длинное имя учителя начальных классов школы "
		"номер пять 🎓, корпус 2",
		"=?UTF-8?B?QmNjOg==?=", "ATTENDEE:mailto:evil@x.example",
	};
	static const char *const addrs[] = {
		"ivan.petrov@school5.example", "a@b.example",
		"very.long.local-part_with+tag@sub.domain.of.a.school.example",
	};
	struct ical_event	 ev, one;
	struct ical_prep	*p;
	struct buf		 line = { NULL, 0, 0, 0 };
	char			 err[256] = "", *a, *b;
	size_t			 k, i, j;

	(void)state;
	for (k = 0; k < 3; k++) {
		ev = test_event();
		if (k == 1) {
			ev.method = ICAL_CANCEL;
			ev.nalarms = 0;
		} else if (k == 2)
			ev.rrule = "FREQ=WEEKLY;COUNT=10;BYDAY=TH";
		ev.attendee_name = NULL;
		ev.attendee_addr = NULL;
		p = ical_prep_new(&ev, err, sizeof err);
		if (p == NULL)
			fail_msg("ical_prep_new: %s", err);
		for (i = 0; i < sizeof names / sizeof names[0]; i++) {
			for (j = 0; j < sizeof addrs / sizeof addrs[0]; j++) {
				one = ev;
				one.attendee_name = names[i];
				one.attendee_addr = addrs[j];
				a = ical_render(&one, err, sizeof err);
				if (a == NULL)
					fail_msg("ical_render: %s", err);
				b = ical_prep_render(p, names[i], addrs[j], err,
				    sizeof err);
				if (b == NULL)
					fail_msg("ical_prep_render: %s", err);
				assert_string_equal(a, b);
				free(a);
				free(b);
				/* ... written by hand, not by ical_render. */
				assert_int_equal(ical_prep_attendee(&line,
				    names[i], addrs[j]), 0);
				buf_free(&line);
			}
		}
		ical_prep_free(p);
	}
	ical_prep_free(NULL);
}

/* Attendees that ical_render refuses are refused with its words. */
static void
test_prep_refuse(void **state)
{
	static const char *const names[] = {
		"Line\nbreak", "Tab\tname", "Bad \xff UTF-8", "Sep\xe2\x80\xa8x",
	};
	static const char *const addrs[] = {
		"a@b.example\r\nATTENDEE:mailto:x@y.example", "no-at-sign",
		"", "a@b.example>",
	};
	struct ical_event	 ev, one;
	struct ical_prep	*p;
	char			 err1[256], err2[256], *a, *b;
	size_t			 i;

	(void)state;
	ev = test_event();
	p = ical_prep_new(&ev, err1, sizeof err1);
	assert_non_null(p);
	for (i = 0; i < 4; i++) {
		one = ev;
		one.attendee_name = names[i];
		err1[0] = err2[0] = '\0';
		a = ical_render(&one, err1, sizeof err1);
		b = ical_prep_render(p, names[i], ev.attendee_addr, err2,
		    sizeof err2);
		assert_null(a);
		assert_null(b);
		assert_string_equal(err1, err2);
		one = ev;
		one.attendee_addr = addrs[i];
		a = ical_render(&one, err1, sizeof err1);
		b = ical_prep_render(p, ev.attendee_name, addrs[i], err2,
		    sizeof err2);
		assert_null(a);
		assert_null(b);
		assert_string_equal(err1, err2);
	}
	ical_prep_free(p);
	/* An event that cannot be rendered cannot be prepared. */
	ev.summary = "";
	assert_null(ical_prep_new(&ev, err1, sizeof err1));
	assert_non_null(strstr(err1, "summary"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vtimezone_zones),
		cmocka_unit_test(test_vtimezone_exact),
		cmocka_unit_test(test_vtimezone_irregular),
		cmocka_unit_test(test_vtimezone_more),
		cmocka_unit_test(test_vtimezone_refuse),
		cmocka_unit_test(test_vtimezone_cache),
		cmocka_unit_test(test_render_request),
		cmocka_unit_test(test_render_cn),
		cmocka_unit_test(test_render_folding),
		cmocka_unit_test(test_render_injection),
		cmocka_unit_test(test_render_refuse),
		cmocka_unit_test(test_render_cancel),
		cmocka_unit_test(test_render_recurrence_id),
		cmocka_unit_test(test_render_overlap),
		cmocka_unit_test(test_render_rrule_dst),
		cmocka_unit_test(test_render_range),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_prep_same),
		cmocka_unit_test(test_prep_refuse),
	};
	int	rc;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	ical_cache_clear();
	return rc;
}
