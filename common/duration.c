/*
 * duration.c -- "90m", "1h30m", "2d" and lists of them; pure, shared.
 *
 * The grammar is small and strict (units in descending order, each at most
 * once), which no library we link parses, so it is written out here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "duration.h"
#include "proto.h"

/* Longest piece of input quoted in an error sentence (octets). */
#define DURATION_QUOTE_MAX 40
/* Longest element of a list. */
#define DURATION_ITEM_MAX 64

static const struct duration_unit {
	char	 name;
	int64_t	 seconds;
} duration_units[] = {
	{ 'w', 7 * 86400 },
	{ 'd', 86400 },
	{ 'h', 3600 },
	{ 'm', 60 },
	{ 's', 1 },
};
#define DURATION_NUNITS (sizeof duration_units / sizeof duration_units[0])

static int
duration_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Copy at most len octets of s for quoting: printable ASCII as is,
 * anything else as '?', cut with "...".
 */
static const char *
duration_quote(const char *s, size_t len, char *out, size_t outlen)
{
	return proto_quote(s, len, DURATION_QUOTE_MAX, out, outlen);
}

/* Parse s[0..len) (no surrounding blanks) into seconds. */
static int
duration_parse_span(const char *s, size_t len, int64_t bare_unit,
    int allow_zero, int64_t *seconds, char *err, size_t errlen)
{
	char		 q[DURATION_QUOTE_MAX + 8], num[24];
	const char	*why = "use a number with units such as 90m, 1h30m, 2d";
	size_t		 i = 0, n, u, next_unit = 0;
	int64_t		 total = 0, v, mult;
	char		*end;

	if (len == 0) {
		snprintf(err, errlen, "empty duration");
		return -1;
	}
	if (bare_unit <= 0)
		bare_unit = 1;
	while (i < len) {
		for (n = 0; i + n < len && s[i + n] >= '0' && s[i + n] <= '9';
		    n++)
			;
		if (n == 0) {
			if (s[i] == '-')
				why = "it must not be negative";
			goto fail;
		}
		if (n >= sizeof num) {
			why = "the number is too large";
			goto fail;
		}
		memcpy(num, s + i, n);
		num[n] = '\0';
		errno = 0;
		v = strtoll(num, &end, 10);
		if (errno == ERANGE || *end != '\0') {
			why = "the number is too large";
			goto fail;
		}
		i += n;
		if (i == len && total == 0 && next_unit == 0) {
			mult = bare_unit;	/* a bare integer */
		} else {
			if (i == len)
				goto fail;	/* "1h30": a number without unit */
			for (u = next_unit; u < DURATION_NUNITS; u++) {
				if ((s[i] | 0x20) == duration_units[u].name)
					break;
			}
			if (u == DURATION_NUNITS) {
				for (u = 0; u < next_unit; u++) {
					if ((s[i] | 0x20) ==
					    duration_units[u].name)
						why = "units must be in "
						    "descending order, each "
						    "once (1h30m)";
				}
				goto fail;
			}
			mult = duration_units[u].seconds;
			next_unit = u + 1;
			i++;
		}
		if (v > (INT64_MAX - total) / mult) {
			why = "it is too large";
			goto fail;
		}
		total += v * mult;
	}
	if (total == 0 && !allow_zero) {
		why = "it must be greater than zero";
		goto fail;
	}
	*seconds = total;
	return 0;
fail:
	snprintf(err, errlen, "\"%s\" is not a valid duration: %s",
	    duration_quote(s, len, q, sizeof q), why);
	return -1;
}

/* Parse a duration into seconds; see duration.h. */
int
duration_parse(const char *s, int64_t bare_unit, int allow_zero,
    int64_t *seconds, char *err, size_t errlen)
{
	size_t	len;

	if (s == NULL)
		s = "";
	while (duration_blank(*s))
		s++;
	len = strlen(s);
	while (len > 0 && duration_blank(s[len - 1]))
		len--;
	return duration_parse_span(s, len, bare_unit, allow_zero, seconds,
	    err, errlen);
}

/* Parse a comma-separated list of durations; see duration.h. */
int
duration_parse_list(const char *s, int64_t bare_unit, int64_t *out,
    size_t max, char *err, size_t errlen)
{
	char		 q[DURATION_QUOTE_MAX + 8];
	const char	*p, *comma;
	size_t		 len, count = 0;
	int64_t		 v;

	if (s == NULL)
		return 0;
	while (duration_blank(*s))
		s++;
	len = strlen(s);
	while (len > 0 && duration_blank(s[len - 1]))
		len--;
	if (len == 0 || (len == 4 && strncasecmp(s, "none", 4) == 0))
		return 0;
	p = s;
	for (;;) {
		const char	*b, *e;

		comma = memchr(p, ',', (s + len) - p);
		e = comma != NULL ? comma : s + len;
		b = p;
		while (b < e && duration_blank(*b))
			b++;
		while (e > b && duration_blank(e[-1]))
			e--;
		if (b == e) {
			snprintf(err, errlen, "\"%s\": an empty item in the "
			    "list", duration_quote(s, len, q, sizeof q));
			return -1;
		}
		if ((size_t)(e - b) > DURATION_ITEM_MAX) {
			snprintf(err, errlen, "\"%s\" is not a valid duration: "
			    "too long", duration_quote(b, e - b, q, sizeof q));
			return -1;
		}
		if (count >= max) {
			snprintf(err, errlen, "more than %zu durations in "
			    "the list", max);
			return -1;
		}
		if (duration_parse_span(b, e - b, bare_unit, 0, &v, err,
		    errlen) == -1)
			return -1;
		out[count++] = v;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return (int)count;
}

/* Format seconds as the shortest combination of w/d/h/m/s. */
void
duration_format(int64_t seconds, char *buf, size_t len)
{
	size_t		 o = 0, u;
	uint64_t	 rest, v;
	int		 n;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (seconds == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	if (seconds < 0) {
		snprintf(buf, len, "-");
		o = 1;
		rest = (uint64_t)0 - (uint64_t)seconds;
	} else
		rest = (uint64_t)seconds;
	for (u = 0; u < DURATION_NUNITS && rest > 0; u++) {
		v = rest / (uint64_t)duration_units[u].seconds;
		if (v == 0)
			continue;
		rest -= v * (uint64_t)duration_units[u].seconds;
		if (o >= len)
			return;
		n = snprintf(buf + o, len - o, "%llu%c",
		    (unsigned long long)v, duration_units[u].name);
		if (n < 0 || (size_t)n >= len - o)
			return;		/* truncated, still terminated */
		o += n;
	}
}
