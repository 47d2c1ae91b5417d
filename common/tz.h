/*
 * tz.h -- time zones and instants; shared by daemon and client.
 *
 * Zones are read from the system's TZif files ($TZDIR, by default
 * /usr/share/zoneinfo) by tz.c itself: libical's zones cost the daemon
 * ~3 MiB of ICU, and glibc's reader serves only the process-wide TZ.
 * A zone is read once and kept. Not thread-safe: call the zone functions
 * from one thread (the daemon's main thread); tz_format_utc,
 * tz_parse_utc and tz_days_from_civil keep no state.
 */
#ifndef TZ_H
#define TZ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * 1 if name is a known IANA zone ("Europe/Moscow", "UTC"), else 0: a
 * file of that name that is missing, unreadable or malformed is unknown.
 */
int tz_valid(const char *name);

/*
 * Convert a time given by a user into a UTC instant. Accepted forms:
 *   "2026-12-01T15:00", "2026-12-01 15:00", "...:SS"  local wall time in zone
 *   "2026-12-01"                                   (only if allow_date) 00:00 local
 *   "...Z", "...+03:00", "...+0300", "...-05"       absolute
 * A wall time that does not exist in zone (a DST gap) is an error with a
 * sentence such as "2026-03-29 02:30 does not exist in Europe/Berlin:
 * clocks skip from 02:00 to 03:00". A wall time that occurs twice (a DST
 * overlap) is resolved to the earlier instant (RFC 5545 3.3.5: the first
 * occurrence). field names the argument in error sentences ("start").
 * On success returns 0 and, if local_out is not NULL, writes the normalized
 * wall time "YYYY-MM-DDTHH:MM:SS" in zone (for absolute input: the instant
 * seen in zone).
 */
int tz_parse(const char *input, const char *zone, int allow_date,
    const char *field, int64_t *utc, char *local_out, size_t local_len,
    char *err, size_t errlen);

/* The offset from UTC, in seconds, of zone at the instant utc. */
int tz_offset_at(const char *zone, int64_t utc, int *offset);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t tz_days_from_civil(int64_t y, int m, int d);

/* Format utc as "2026-12-01T12:00:00Z". */
void tz_format_utc(int64_t utc, char *buf, size_t len);
/* Parse "2026-12-01T12:00:00Z" (exactly as tz_format_utc writes it). */
int tz_parse_utc(const char *s, int64_t *utc);

/*
 * Format utc as wall time in zone with strftime-like fmt (%Y %m %d %H %M
 * %S %a %b and %Z for the abbreviation or offset such as "MSK" / "+03").
 * Returns 0, or -1 if the zone is unknown.
 */
int tz_format_local(int64_t utc, const char *zone, const char *fmt,
    char *buf, size_t len);

/* The zone this machine runs in (TZ, /etc/timezone, /etc/localtime), or "UTC". */
const char *tz_system_zone(void);

#endif
