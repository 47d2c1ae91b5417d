/*
 * series.c -- occurrences of a recurring session; see series.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libical/ical.h>

#include "log.h"

#include "series.h"
#include "tz.h"

int
series_instant(const char *zone, int year, int month, int day, int hour,
    int min, int sec, int64_t *t)
{
	char	 local[32], err[160];
	int64_t	 wall;
	int	 off;

	snprintf(local, sizeof local, "%04d-%02d-%02dT%02d:%02d:%02d", year,
	    month, day, hour, min, sec);
	if (tz_parse(local, zone, 0, NULL, t, NULL, 0, err, sizeof err) == 0)
		return 0;
	/*
	 * In a gap (the only way a valid wall time fails): the offset in
	 * force a day earlier is the one before the gap, as no zone changes
	 * its offset twice in a day.
	 */
	wall = (tz_days_from_civil(year, month, day) * 86400) + hour * 3600 +
	    min * 60 + sec;
	if (tz_offset_at(zone, wall - 86400, &off) == -1)
		return -1;
	*t = wall - off;
	return 0;
}

int
series_expand(const char *rrule, const char *zone, const char *start_local,
    int64_t from, int64_t to, int64_t *out, size_t max, int *more, char *err,
    size_t errlen)
{
	struct icalrecurrencetype	 rr;
	struct icaltimetype		 start, o;
	icalrecur_iterator		*it;
	size_t				 n = 0;
	int64_t				 t;
	int				 k;

	if (more != NULL)
		*more = 0;
	icalerror_clear_errno();
	rr = icalrecurrencetype_from_string(rrule);
	if (rr.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
		icalerror_clear_errno();
		snprintf(err, errlen, "rrule: not a valid recurrence rule");
		return -1;
	}
	/* Floating: the rule runs in wall time, 15:00 stays 15:00. */
	start = icaltime_null_time();
	if (sscanf(start_local, "%4d-%2d-%2dT%2d:%2d:%2d", &start.year,
	    &start.month, &start.day, &start.hour, &start.minute,
	    &start.second) != 6 || start.month < 1 || start.month > 12 ||
	    start.day < 1 || start.day > 31) {
		snprintf(err, errlen, "start: \"%.40s\" is not a wall time",
		    start_local);
		return -1;
	}
	if ((it = icalrecur_iterator_new(rr, start)) == NULL) {
		icalerror_clear_errno();
		snprintf(err, errlen, "rrule: libical cannot expand it");
		return -1;
	}
	for (k = 0; k < SERIES_MAX; k++) {
		o = icalrecur_iterator_next(it);
		if (icaltime_is_null_time(o))
			break;
		if (series_instant(zone, o.year, o.month, o.day, o.hour,
		    o.minute, o.second, &t) == -1)
			continue;
		if (t < from)
			continue;
		if (t > to || n == max) {
			if (more != NULL)
				*more = 1;
			break;
		}
		out[n++] = t;
	}
	icalrecur_iterator_free(it);
	icalerror_clear_errno();
	return (int)n;
}

/* An override moved by more than this is missed by a window query. */
#define SERIES_SLACK	(31LL * 86400)

static void
series_set(json_t *o, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(o, key, v) == -1)
		log_fatal("series: out of memory");
}

static json_t *
series_time(int64_t t)
{
	char	 buf[32];

	tz_format_utc(t, buf, sizeof buf);
	return json_string(buf);
}

/* The element of a whose "occurrence" is the original start t, or NULL. */
json_t *
series_find(json_t *a, int64_t t)
{
	json_t	*v;
	size_t	 i;
	int64_t	 r;

	json_array_foreach(a, i, v) {
		if (tz_parse_utc(json_string_value(json_object_get(v,
		    "occurrence")), &r) == 0 && r == t)
			return v;
	}
	return NULL;
}

json_t *
series_occurrences(json_t *session, json_t *overrides, int64_t from,
    int64_t to, char *err, size_t errlen)
{
	static const char *const texts[] = { "title", "description",
	    "location", "url", NULL };
	const char	*rrule, *zone, *local;
	json_t		*out, *o, *ov, *v;
	int64_t		*occ, start, duration;
	char		 wall[32];
	int		 i, n, k;

	rrule = json_string_value(json_object_get(session, "rrule"));
	zone = json_string_value(json_object_get(session, "tz"));
	local = json_string_value(json_object_get(session, "local_start"));
	if (rrule == NULL || zone == NULL || local == NULL) {
		snprintf(err, errlen, "the session does not repeat");
		return NULL;
	}
	if ((occ = calloc(SERIES_MAX, sizeof *occ)) == NULL ||
	    (out = json_array()) == NULL)
		log_fatal("series: out of memory");
	n = series_expand(rrule, zone, local, from - SERIES_SLACK,
	    to + SERIES_SLACK, occ, SERIES_MAX, NULL, err, errlen);
	if (n == -1) {
		free(occ);
		json_decref(out);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		ov = series_find(overrides, occ[i]);
		start = occ[i];
		duration = json_integer_value(json_object_get(session,
		    "duration"));
		if (ov != NULL) {
			tz_parse_utc(json_string_value(json_object_get(ov,
			    "start")), &start);
			duration = json_integer_value(json_object_get(ov,
			    "duration"));
		}
		if (start < from || start >= to)
			continue;
		if ((o = json_deep_copy(session)) == NULL)
			log_fatal("series: out of memory");
		series_set(o, "occurrence", series_time(occ[i]));
		series_set(o, "start", series_time(start));
		series_set(o, "end", series_time(start + duration * 60));
		series_set(o, "duration", json_integer(duration));
		if (tz_format_local(start, zone, "%Y-%m-%dT%H:%M:%S", wall,
		    sizeof wall) == 0)
			series_set(o, "local_start", json_string(wall));
		if (ov != NULL) {
			for (k = 0; texts[k] != NULL; k++) {
				v = json_object_get(ov, texts[k]);
				if (v != NULL && !json_is_null(v))
					series_set(o, texts[k],
					    json_incref(v));
			}
			series_set(o, "sequence", json_incref(
			    json_object_get(ov, "sequence")));
			if (json_string_value(json_object_get(session,
			    "status")) == NULL || strcmp(json_string_value(
			    json_object_get(session, "status")),
			    "cancelled") != 0) {
				series_set(o, "status", json_incref(
				    json_object_get(ov, "status")));
				series_set(o, "cancel_reason", json_incref(
				    json_object_get(ov, "cancel_reason")));
			}
		}
		if (json_array_append_new(out, o) == -1)
			log_fatal("series: out of memory");
	}
	free(occ);
	return out;
}
