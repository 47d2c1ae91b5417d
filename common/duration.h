/* duration.h -- "90m", "1h30m", "2d" and lists of them; pure, shared. */
#ifndef DURATION_H
#define DURATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a duration into seconds. Units: s, m, h, d, w (case-insensitive),
 * combinable in descending order ("1h30m", "2d12h", "1w"). A bare integer
 * is taken in bare_unit seconds (60 for minutes on the CLI, 1 for seconds).
 * Surrounding blanks are ignored. Rejects empty input, overflow, negative
 * and zero values unless allow_zero. On error returns -1 and writes a
 * sentence into err (which names the input).
 */
int duration_parse(const char *s, int64_t bare_unit, int allow_zero,
    int64_t *seconds, char *err, size_t errlen);

/*
 * Parse a comma-separated list ("7d, 1d, 1h") into at most max values
 * (seconds each). An empty string or "none" gives zero values. Returns
 * the number of values, or -1 with err set.
 */
int duration_parse_list(const char *s, int64_t bare_unit, int64_t *out,
    size_t max, char *err, size_t errlen);

/* Format seconds as the shortest combination of w/d/h/m/s ("1h30m", "0s"). */
void duration_format(int64_t seconds, char *buf, size_t len);

#endif
