/*
 * series.h -- the occurrences of a recurring session (RFC 5545 RRULE with
 * a DTSTART that is a wall time in an IANA zone), expanded with libical's
 * recurrence iterator.
 */
#ifndef SERIES_H
#define SERIES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* At most this many occurrences are ever expanded for one series. */
#define SERIES_MAX	5000

/*
 * The UTC starts of the occurrences of rrule, starting at the wall time
 * start_local ("YYYY-MM-DDTHH:MM:SS") in zone, that fall in [from, to],
 * in order, into out[0..max). A wall time that falls in a DST gap is read
 * with the offset before the gap (RFC 5545 3.3.5). Returns how many, or
 * -1 with err set. *more (if not NULL) is set when occurrences after the
 * last one written exist (beyond max or beyond to).
 */
int series_expand(const char *rrule, const char *zone,
    const char *start_local, int64_t from, int64_t to, int64_t *out,
    size_t max, int *more, char *err, size_t errlen);

/* The UTC instant of a wall time in zone; gaps as in series_expand. */
int series_instant(const char *zone, int year, int month, int day, int hour,
    int min, int sec, int64_t *t);

/*
 * The occurrences of the series session (an object as store_session_get
 * makes it) whose start falls in [from, to), as a new array of copies of
 * the session with "occurrence" (the original start: its RECURRENCE-ID)
 * and the changes of overrides (as store_occurrence_list makes them)
 * applied: start, end, local_start, duration, texts, status, sequence.
 * NULL with err set on error.
 */
json_t *series_occurrences(json_t *session, json_t *overrides, int64_t from,
    int64_t to, char *err, size_t errlen);

/* The element of a (occurrences or overrides) whose "occurrence" is t. */
json_t *series_find(json_t *a, int64_t t);

#endif
