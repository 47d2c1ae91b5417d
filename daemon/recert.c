/*
 * recert.c -- the recertification cycle; see recert.h.
 *
 * Adding a cycle is calendar arithmetic, not a number of days: three
 * years after 2023-05-01 is 2026-05-01 whatever the leap years between.
 * Months that lack the day (29 February in a common year, the 31st in a
 * short month) give their last day. That addition is monotone but not
 * one-to-one (28 and 29 February 2024 plus a year are both 28 February
 * 2025).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "recert.h"

static const char *const recert_names[RECERT_NSTATUS] = {
	"never", "overdue", "due_soon", "ok",
};

/* Days since 1970-01-01 (H. Hinnant's days_from_civil). */
int64_t
recert_day(int y, int m, int d)
{
	int64_t	 yy = y - (m <= 2);
	int64_t	 era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t	 yoe = yy - era * 400;
	int64_t	 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t	 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* The inverse (civil_from_days). */
void
recert_civil(int64_t day, int *y, int *m, int *d)
{
	int64_t	 z = day + 719468;
	int64_t	 era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t	 doe = z - era * 146097;
	int64_t	 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t	 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t	 mp = (5 * doy + 2) / 153;
	int64_t	 dd = doy - (153 * mp + 2) / 5 + 1;
	int64_t	 mm = mp < 10 ? mp + 3 : mp - 9;

	*y = (int)(yoe + era * 400 + (mm <= 2));
	*m = (int)mm;
	*d = (int)dd;
}

int
recert_days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[(m - 1) % 12];
}

int
recert_parse_day(const char *s, int64_t *day)
{
	int	 v[3], i, k, n;
	const int widths[3] = { 4, 2, 2 };

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0, k = 0; i < 3; i++) {
		for (v[i] = 0, n = 0; n < widths[i]; n++, k++) {
			if (!isdigit((unsigned char)s[k]))
				return -1;
			v[i] = v[i] * 10 + (s[k] - '0');
		}
		k++;	/* the '-' */
	}
	if (v[0] < 1900 || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
	    v[2] > recert_days_in_month(v[0], v[1]))
		return -1;
	*day = recert_day(v[0], v[1], v[2]);
	return 0;
}

void
recert_format_day(int64_t day, char *buf, size_t len)
{
	int	 y, m, d;

	recert_civil(day, &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
}

int64_t
recert_add_months(int64_t day, int months)
{
	int	 y, m, d, dim;
	int64_t	 t;

	recert_civil(day, &y, &m, &d);
	t = (int64_t)y * 12 + (m - 1) + months;
	y = (int)(t >= 0 ? t / 12 : (t - 11) / 12);
	m = (int)(t - (int64_t)y * 12) + 1;
	if (d > (dim = recert_days_in_month(y, m)))
		d = dim;
	return recert_day(y, m, d);
}

int64_t
recert_due(int64_t last, const struct recert_cycle *c)
{
	return recert_add_months(last, c->months) + c->days;
}

int64_t
recert_window_start(int64_t today, const struct recert_cycle *c)
{
	int64_t	 x;

	/*
	 * The first day whose completion is not overdue today (due on or
	 * after today): then "trained in the window" and "not overdue" name
	 * the same people. The inverse steps of recert_due, in the inverse
	 * order, land within a few days of it (the end of a month clamps).
	 */
	x = recert_add_months(today - c->days, -c->months);
	while (recert_due(x - 1, c) >= today)
		x--;
	while (recert_due(x, c) < today)
		x++;
	return x;
}

enum recert_status
recert_status(int has_last, int64_t last, int64_t as_of,
    const struct recert_cycle *c, int64_t due_soon_days, int64_t *due)
{
	int64_t	 d;

	if (!has_last)
		return RECERT_NEVER;
	d = recert_due(last, c);
	if (due != NULL)
		*due = d;
	if (as_of > d)
		return RECERT_OVERDUE;
	if (d - as_of <= due_soon_days)
		return RECERT_DUE_SOON;
	return RECERT_OK;
}

const char *
recert_status_name(enum recert_status s)
{
	if ((unsigned)s >= RECERT_NSTATUS)
		return "never";
	return recert_names[s];
}

int
recert_status_parse(const char *s)
{
	int	 i;

	for (i = 0; s != NULL && i < RECERT_NSTATUS; i++) {
		if (strcmp(s, recert_names[i]) == 0)
			return i;
	}
	return -1;
}

int
recert_parse_cycle(const char *s, const char *field, struct recert_cycle *c,
    char *err, size_t errlen)
{
	static const char units[] = "ymd";
	const char	*p = s;
	long long	 v, years = 0, months = 0, days = 0;
	int		 last = -1, u, digits;

	while (p != NULL && (*p == ' ' || *p == '\t'))
		p++;
	if (p == NULL || *p == '\0')
		goto bad;
	while (*p != '\0' && *p != ' ' && *p != '\t') {
		for (v = 0, digits = 0; isdigit((unsigned char)*p); p++) {
			if (++digits > 6)
				goto bad;
			v = v * 10 + (*p - '0');
		}
		if (digits == 0 || *p == '\0')
			goto bad;
		for (u = 0; units[u] != '\0' &&
		    units[u] != tolower((unsigned char)*p); u++)
			;
		if (units[u] == '\0' || u <= last)
			goto bad;
		last = u;
		p++;
		if (u == 0)
			years = v;
		else if (u == 1)
			months = v;
		else
			days = v;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0')
		goto bad;
	months += years * 12;
	if (months == 0 && days == 0) {
		snprintf(err, errlen, "%s: the cycle must be longer than "
		    "nothing", field);
		return -1;
	}
	if (months > RECERT_CYCLE_MONTHS_MAX || days > RECERT_CYCLE_DAYS_MAX) {
		snprintf(err, errlen, "%s: at most 50 years", field);
		return -1;
	}
	c->months = (int)months;
	c->days = (int)days;
	return 0;
bad:
	snprintf(err, errlen, "%s: \"%.40s\" is not a cycle such as 3y, 36m, "
	    "1y6m or 1095d (y years, m months, d days)", field,
	    s != NULL ? s : "");
	return -1;
}

void
recert_format_cycle(const struct recert_cycle *c, char *buf, size_t len)
{
	size_t	 o = 0;
	int	 n;

	buf[0] = '\0';
	if (c->months / 12 > 0 && o < len) {
		n = snprintf(buf + o, len - o, "%dy", c->months / 12);
		o += n > 0 ? (size_t)n : 0;
	}
	if (c->months % 12 > 0 && o < len) {
		n = snprintf(buf + o, len - o, "%dm", c->months % 12);
		o += n > 0 ? (size_t)n : 0;
	}
	if ((c->days > 0 || o == 0) && o < len)
		snprintf(buf + o, len - o, "%dd", c->days);
}

void
recert_period(int64_t day, int weekly, char *buf, size_t len)
{
	int64_t	 wd, thursday;
	int	 y, m, d;

	if (!weekly) {
		recert_civil(day, &y, &m, &d);
		snprintf(buf, len, "%04d-%02d", y, m);
		return;
	}
	/* 1970-01-01 was a Thursday: Monday is 0. */
	wd = ((day + 3) % 7 + 7) % 7;
	thursday = day - wd + 3;
	recert_civil(thursday, &y, &m, &d);
	snprintf(buf, len, "%04d-W%02d", y,
	    (int)((thursday - recert_day(y, 1, 1)) / 7 + 1));
}
