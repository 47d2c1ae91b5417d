/*
 * icalcheck -- read one iCalendar object on stdin, parse it with libical
 * (the parser Evolution uses) and print a JSON summary on stdout.
 *
 * Fails (exit 1, the summary still printed with "errors") when libical's
 * parser leaves an X-LIC-ERROR property anywhere, when
 * icalrestriction_check() rejects the object for its METHOD, when a TZID
 * has no VTIMEZONE in the same calendar, or when the input is not exactly
 * one VCALENDAR.  Exit 2: cannot read the input at all.
 *
 * Summary: method, uid, sequence, status, dtstamp, dtstart/dtend in UTC
 * (converted with the calendar's own VTIMEZONE), tzid, summary,
 * description, location, url, organizer {address, cn}, attendees
 * [{address, cn, rsvp, partstat, role, cutype}], the property names of the
 * VEVENT in order, the number of VEVENTs and VALARMs, and each VTIMEZONE
 * with its STANDARD/DAYLIGHT sub-components.
 *
 * Used by tests/integration/mailcheck.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <libical/ical.h>

static json_t	*errors;

static void
error(const char *what, const char *arg)
{
	char	 buf[1024];

	snprintf(buf, sizeof buf, "%s%s", what, arg != NULL ? arg : "");
	json_array_append_new(errors, json_string(buf));
}

static char *
read_all(FILE *f, size_t *lenp)
{
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, cap = 0, n;

	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 131072;
			if ((nbuf = realloc(buf, cap + 1)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* A string as JSON, or null; libical's strings may be invalid UTF-8. */
static json_t *
jstr(const char *s)
{
	json_t	*j;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) == NULL) {
		error("not valid UTF-8: ", s);
		return json_null();
	}
	return j;
}

/* Every X-LIC-ERROR anywhere below c (c included). */
static void
collect_lic_errors(icalcomponent *c)
{
	icalproperty	*p;
	icalcomponent	*sub;

	for (p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY))
		error("X-LIC-ERROR: ", icalproperty_get_xlicerror(p));
	for (sub = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	    sub != NULL;
	    sub = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		collect_lic_errors(sub);
}

static const char *
strip_mailto(const char *v)
{
	if (v != NULL && strncasecmp(v, "mailto:", 7) == 0)
		return v + 7;
	return v;
}

static json_t *
param_json(icalproperty *p, icalparameter_kind kind)
{
	icalparameter	*par;

	par = icalproperty_get_first_parameter(p, kind);
	if (par == NULL)
		return json_null();
	return jstr(icalparameter_as_ical_string(par) != NULL ?
	    strchr(icalparameter_as_ical_string(par), '=') + 1 : NULL);
}

static json_t *
cn_json(icalproperty *p)
{
	icalparameter	*par;

	par = icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);
	return par != NULL ? jstr(icalparameter_get_cn(par)) : json_null();
}

static void
format_utc(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A DTSTART/DTEND property converted to UTC with the calendar's own zone. */
static json_t *
time_utc(icalcomponent *cal, icalproperty *p, json_t *out, const char *key)
{
	struct icaltimetype	 t;
	icalparameter		*tzp;
	icaltimezone		*zone = NULL;
	const char		*tzid = NULL;
	char			 buf[64];
	time_t			 tt;

	if (p == NULL) {
		json_object_set_new(out, key, json_null());
		return NULL;
	}
	t = icalproperty_get_datetime_with_component(p, NULL);
	if (icaltime_is_null_time(t)) {
		error("no valid value: ", key);
		json_object_set_new(out, key, json_null());
		return NULL;
	}
	tzp = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	if (tzp != NULL) {
		tzid = icalparameter_get_tzid(tzp);
		zone = icalcomponent_get_timezone(cal, tzid);
		if (zone == NULL) {
			error("no VTIMEZONE in the calendar for TZID=", tzid);
			json_object_set_new(out, key, json_null());
			return NULL;
		}
		tt = icaltime_as_timet_with_zone(t, zone);
	} else if (icaltime_is_utc(t))
		tt = icaltime_as_timet_with_zone(t, icaltimezone_get_utc_timezone());
	else {
		error("floating time: ", key);
		json_object_set_new(out, key, json_null());
		return NULL;
	}
	format_utc(tt, buf, sizeof buf);
	json_object_set_new(out, key, json_string(buf));
	return tzid != NULL ? json_string(tzid) : json_null();
}

static json_t *
vtimezone_json(icalcomponent *vtz)
{
	json_t			*o, *subs, *s;
	icalcomponent		*c;
	icalproperty		*p;
	int			 nstd = 0, ndst = 0, nother = 0;

	o = json_object();
	subs = json_array();
	p = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
	json_object_set_new(o, "tzid", p ? jstr(icalproperty_get_tzid(p)) :
	    json_null());
	for (c = icalcomponent_get_first_component(vtz, ICAL_ANY_COMPONENT);
	    c != NULL;
	    c = icalcomponent_get_next_component(vtz, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind	 k = icalcomponent_isa(c);
		int			 nrdate = 0, nrrule = 0, until = 0;
		json_t			*rrules = json_array();

		if (k == ICAL_XSTANDARD_COMPONENT)
			nstd++;
		else if (k == ICAL_XDAYLIGHT_COMPONENT)
			ndst++;
		else
			nother++;
		s = json_object();
		json_object_set_new(s, "kind",
		    json_string(icalcomponent_kind_to_string(k)));
		p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
		json_object_set_new(s, "dtstart", p ?
		    jstr(icaltime_as_ical_string(icalproperty_get_dtstart(p))) :
		    json_null());
		for (p = icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY);
		    p; p = icalcomponent_get_next_property(c, ICAL_RDATE_PROPERTY))
			nrdate++;
		for (p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY);
		    p; p = icalcomponent_get_next_property(c, ICAL_RRULE_PROPERTY)) {
			struct icalrecurrencetype r = icalproperty_get_rrule(p);

			nrrule++;
			if (!icaltime_is_null_time(r.until))
				until = 1;
			json_array_append_new(rrules,
			    jstr(icalrecurrencetype_as_string(&r)));
		}
		json_object_set_new(s, "rrules", rrules);
		json_object_set_new(s, "rrule_count", json_integer(nrrule));
		json_object_set_new(s, "rdate_count", json_integer(nrdate));
		json_object_set_new(s, "until", json_boolean(until));
		p = icalcomponent_get_first_property(c,
		    ICAL_TZOFFSETFROM_PROPERTY);
		json_object_set_new(s, "offset_from", p ?
		    json_integer(icalproperty_get_tzoffsetfrom(p)) : json_null());
		p = icalcomponent_get_first_property(c,
		    ICAL_TZOFFSETTO_PROPERTY);
		json_object_set_new(s, "offset_to", p ?
		    json_integer(icalproperty_get_tzoffsetto(p)) : json_null());
		json_array_append_new(subs, s);
	}
	json_object_set_new(o, "standard", json_integer(nstd));
	json_object_set_new(o, "daylight", json_integer(ndst));
	json_object_set_new(o, "other", json_integer(nother));
	json_object_set_new(o, "components", subs);
	return o;
}

int
main(void)
{
	icalcomponent	*root, *cal, *ev, *c;
	icalproperty	*p;
	json_t		*out, *atts, *props, *tzs, *tzid, *org;
	char		*text, buf[64];
	size_t		 len;
	int		 nevents = 0, nalarms = 0, ncal = 0, rc;

	errors = json_array();
	out = json_object();
	if ((text = read_all(stdin, &len)) == NULL) {
		fprintf(stderr, "icalcheck: cannot read stdin\n");
		return 2;
	}
	if (strlen(text) != len)
		error("the input contains a NUL byte", NULL);
	icalerror_set_errors_are_fatal(0);
	root = icalparser_parse_string(text);
	free(text);
	if (root == NULL) {
		error("libical cannot parse the input", NULL);
		goto done;
	}
	if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
		cal = root;
		ncal = 1;
	} else {
		cal = NULL;
		for (c = icalcomponent_get_first_component(root,
		    ICAL_VCALENDAR_COMPONENT); c != NULL;
		    c = icalcomponent_get_next_component(root,
		    ICAL_VCALENDAR_COMPONENT)) {
			if (cal == NULL)
				cal = c;
			ncal++;
		}
	}
	json_object_set_new(out, "vcalendars", json_integer(ncal));
	if (ncal != 1)
		error("the input is not exactly one VCALENDAR", NULL);
	if (cal == NULL)
		goto done;

	/* The parser's complaints, then the iTIP restrictions (they add
	 * X-LIC-ERROR properties of their own). */
	collect_lic_errors(root);
	if (icalrestriction_check(cal) == 0) {
		error("icalrestriction_check failed", NULL);
		collect_lic_errors(cal);
	}

	p = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY);
	json_object_set_new(out, "method", p ?
	    jstr(icalproperty_method_to_string(icalproperty_get_method(p))) :
	    json_null());
	p = icalcomponent_get_first_property(cal, ICAL_VERSION_PROPERTY);
	json_object_set_new(out, "version", p ?
	    jstr(icalproperty_get_version(p)) : json_null());
	p = icalcomponent_get_first_property(cal, ICAL_PRODID_PROPERTY);
	json_object_set_new(out, "prodid", p ?
	    jstr(icalproperty_get_prodid(p)) : json_null());

	tzs = json_array();
	for (c = icalcomponent_get_first_component(cal,
	    ICAL_VTIMEZONE_COMPONENT); c != NULL;
	    c = icalcomponent_get_next_component(cal, ICAL_VTIMEZONE_COMPONENT))
		json_array_append_new(tzs, vtimezone_json(c));
	json_object_set_new(out, "vtimezones", tzs);

	ev = NULL;
	for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	    c != NULL;
	    c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		if (ev == NULL)
			ev = c;
		nevents++;
	}
	json_object_set_new(out, "vevents", json_integer(nevents));
	if (ev == NULL) {
		error("no VEVENT", NULL);
		goto done;
	}
	for (c = icalcomponent_get_first_component(ev, ICAL_VALARM_COMPONENT);
	    c != NULL;
	    c = icalcomponent_get_next_component(ev, ICAL_VALARM_COMPONENT))
		nalarms++;
	json_object_set_new(out, "valarms", json_integer(nalarms));

	props = json_array();
	for (p = icalcomponent_get_first_property(ev, ICAL_ANY_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(ev, ICAL_ANY_PROPERTY))
		json_array_append_new(props, jstr(icalproperty_get_property_name(p)));
	json_object_set_new(out, "properties", props);
	if (icalcomponent_get_first_property(ev, ICAL_METHOD_PROPERTY) != NULL)
		error("METHOD inside VEVENT", NULL);

	p = icalcomponent_get_first_property(ev, ICAL_UID_PROPERTY);
	json_object_set_new(out, "uid", p ? jstr(icalproperty_get_uid(p)) :
	    json_null());
	p = icalcomponent_get_first_property(ev, ICAL_SEQUENCE_PROPERTY);
	json_object_set_new(out, "sequence", p ?
	    json_integer(icalproperty_get_sequence(p)) : json_null());
	p = icalcomponent_get_first_property(ev, ICAL_STATUS_PROPERTY);
	json_object_set_new(out, "status", p ?
	    jstr(icalproperty_status_to_string(icalproperty_get_status(p))) :
	    json_null());
	p = icalcomponent_get_first_property(ev, ICAL_DTSTAMP_PROPERTY);
	if (p != NULL) {
		struct icaltimetype t = icalproperty_get_dtstamp(p);

		if (!icaltime_is_utc(t))
			error("DTSTAMP is not UTC", NULL);
		format_utc(icaltime_as_timet_with_zone(t,
		    icaltimezone_get_utc_timezone()), buf, sizeof buf);
		json_object_set_new(out, "dtstamp", json_string(buf));
	} else
		json_object_set_new(out, "dtstamp", json_null());

	tzid = time_utc(cal, icalcomponent_get_first_property(ev,
	    ICAL_DTSTART_PROPERTY), out, "dtstart");
	json_object_set_new(out, "tzid", tzid ? tzid : json_null());
	tzid = time_utc(cal, icalcomponent_get_first_property(ev,
	    ICAL_DTEND_PROPERTY), out, "dtend");
	json_object_set_new(out, "dtend_tzid", tzid ? tzid : json_null());
	p = icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY);
	json_object_set_new(out, "duration", p ?
	    jstr(icaldurationtype_as_ical_string(icalproperty_get_duration(p))) :
	    json_null());

	p = icalcomponent_get_first_property(ev, ICAL_SUMMARY_PROPERTY);
	json_object_set_new(out, "summary", p ?
	    jstr(icalproperty_get_summary(p)) : json_null());
	p = icalcomponent_get_first_property(ev, ICAL_DESCRIPTION_PROPERTY);
	json_object_set_new(out, "description", p ?
	    jstr(icalproperty_get_description(p)) : json_null());
	p = icalcomponent_get_first_property(ev, ICAL_LOCATION_PROPERTY);
	json_object_set_new(out, "location", p ?
	    jstr(icalproperty_get_location(p)) : json_null());
	p = icalcomponent_get_first_property(ev, ICAL_URL_PROPERTY);
	json_object_set_new(out, "url", p ? jstr(icalproperty_get_url(p)) :
	    json_null());

	p = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY);
	if (p != NULL) {
		org = json_object();
		json_object_set_new(org, "address",
		    jstr(strip_mailto(icalproperty_get_organizer(p))));
		json_object_set_new(org, "value",
		    jstr(icalproperty_get_organizer(p)));
		json_object_set_new(org, "cn", cn_json(p));
		json_object_set_new(out, "organizer", org);
	} else
		json_object_set_new(out, "organizer", json_null());

	atts = json_array();
	for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
		json_t *a = json_object();

		json_object_set_new(a, "address",
		    jstr(strip_mailto(icalproperty_get_attendee(p))));
		json_object_set_new(a, "value",
		    jstr(icalproperty_get_attendee(p)));
		json_object_set_new(a, "cn", cn_json(p));
		json_object_set_new(a, "rsvp", param_json(p, ICAL_RSVP_PARAMETER));
		json_object_set_new(a, "partstat",
		    param_json(p, ICAL_PARTSTAT_PARAMETER));
		json_object_set_new(a, "role", param_json(p, ICAL_ROLE_PARAMETER));
		json_object_set_new(a, "cutype",
		    param_json(p, ICAL_CUTYPE_PARAMETER));
		json_array_append_new(atts, a);
	}
	json_object_set_new(out, "attendees", atts);

done:
	json_object_set_new(out, "errors", errors);
	json_dumpf(out, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	if (root != NULL)
		icalcomponent_free(root);
	rc = json_array_size(errors) == 0 ? 0 : 1;
	json_decref(out);
	return rc;
}
