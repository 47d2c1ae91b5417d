/*
 * print.c -- human output for each command's result.
 *
 * The result comes from the daemon and is treated as outside input: every
 * member is looked up with its type checked (a missing or odd value shows
 * as "-"), and every string goes out through output.c, which scrubs
 * control characters.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lectern.h"
#include "duration.h"
#include "tz.h"
#include "output.h"
#include "csvout.h"
#include "print.h"

/* Room for one rendered scalar (ids, counts, times). */
#define PRINT_CELL	128
/* Width of the key column in "key: value" output. */
#define PRINT_KEYW	12
/* The same for status, whose longest key is "next reminder". */
#define PRINT_STATUS_KEYW 13
/* The same for a course, whose longest key is "recertification". */
#define PRINT_COURSE_KEYW 15

/* The text of obj.key (borrowed or in buf); "-" when missing or null. */
static const char *
print_s(const json_t *obj, const char *key, char *buf, size_t len)
{
	return output_text(json_object_get(obj, key), buf, len);
}

static int
print_want_object(const json_t *result, char *err, size_t errlen)
{
	if (json_is_object(result))
		return 0;
	snprintf(err, errlen, "expected an object from lecternd");
	return -1;
}

static int
print_want_array(const json_t *result, char *err, size_t errlen)
{
	if (json_is_array(result))
		return 0;
	snprintf(err, errlen, "expected a list from lecternd");
	return -1;
}

/* A UTC time as wall time in zone (buf), or the text as given. */
const char *
print_local(const char *utc, const char *zone, char *buf, size_t len)
{
	int64_t	t;

	if (utc == NULL)
		return "-";
	if (zone == NULL || tz_parse_utc(utc, &t) == -1 ||
	    tz_format_local(t, zone, "%Y-%m-%d %H:%M %Z", buf, len) == -1)
		return utc;
	return buf;
}

/* obj.key, a UTC time, shown in zone. */
static const char *
print_time(const json_t *obj, const char *key, const char *zone, char *buf,
    size_t len)
{
	const json_t	*v = json_object_get(obj, key);

	if (!json_is_string(v))
		return output_text(v, buf, len);
	return print_local(json_string_value(v), zone, buf, len);
}

/* The zone of a session, or NULL. */
static const char *
print_zone(const json_t *session)
{
	const json_t	*tz = json_object_get(session, "tz");

	return json_is_string(tz) ? json_string_value(tz) : NULL;
}

/* A number of minutes (obj.key) as "1h30m". */
static const char *
print_minutes(const json_t *obj, const char *key, char *buf, size_t len)
{
	const json_t	*v = json_object_get(obj, key);
	json_int_t	 m;

	if (!json_is_integer(v))
		return output_text(v, buf, len);
	m = json_integer_value(v);
	if (m < 0 || m > INT64_MAX / 60)
		return output_text(v, buf, len);
	duration_format((int64_t)m * 60, buf, len);
	return buf;
}

/* An array of minutes (reminders) as "1d, 1h". */
static const char *
print_offsets(const json_t *obj, const char *key, char *buf, size_t len)
{
	const json_t	*a = json_object_get(obj, key), *v;
	char		 one[32];
	size_t		 i, used = 0;
	int		 n;

	if (!json_is_array(a))
		return output_text(a, buf, len);
	if (json_array_size(a) == 0)
		return "none";
	buf[0] = '\0';
	json_array_foreach(a, i, v) {
		if (json_is_integer(v) && json_integer_value(v) >= 0 &&
		    json_integer_value(v) <= INT64_MAX / 60)
			duration_format(json_integer_value(v) * 60, one,
			    sizeof one);
		else
			snprintf(one, sizeof one, "?");
		n = snprintf(buf + used, len - used, "%s%s",
		    i == 0 ? "" : ", ", one);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* Print a table and free it; -1 if it could not be built. */
static int
print_table(struct output_table *t, int failed, FILE *out, char *err,
    size_t errlen)
{
	if (t == NULL || failed) {
		output_table_free(t);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	output_table_print(t, out);
	output_table_free(t);
	return 0;
}

/* status: a short summary. */
int
print_status(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	const int	 w = PRINT_STATUS_KEYW;
	const json_t	*ob, *up, *tz;
	const char	*zone;
	char		 a[PRINT_CELL], b[PRINT_CELL], c[PRINT_CELL],
			 d[PRINT_CELL], line[4 * PRINT_CELL];

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	snprintf(line, sizeof line, "%s (protocol %s)",
	    print_s(r, "version", a, sizeof a),
	    print_s(r, "protocol", b, sizeof b));
	output_kv(out, w, "version", line);
	up = json_object_get(r, "uptime_s");
	if (json_is_integer(up) && json_integer_value(up) >= 0)
		duration_format(json_integer_value(up), a, sizeof a);
	else
		output_text(up, a, sizeof a);
	output_kv(out, w, "uptime", a);
	output_kv(out, w, "time zone", print_s(r, "timezone", a, sizeof a));
	output_kv(out, w, "people", print_s(r, "people", a, sizeof a));
	output_kv(out, w, "groups", print_s(r, "groups", a, sizeof a));
	output_kv(out, w, "sessions", print_s(r, "sessions", a, sizeof a));
	output_kv(out, w, "courses", print_s(r, "courses", a, sizeof a));
	ob = json_object_get(r, "outbox");
	snprintf(line, sizeof line, "%s queued, %s sent, %s failed, %s expired",
	    print_s(ob, "queued", a, sizeof a),
	    print_s(ob, "sent", b, sizeof b),
	    print_s(ob, "failed", c, sizeof c),
	    print_s(ob, "expired", d, sizeof d));
	output_kv(out, w, "outbox", line);
	tz = json_object_get(r, "timezone");
	zone = json_is_string(tz) ? json_string_value(tz) : "UTC";
	output_kv(out, w, "next due", print_time(r, "next_due", zone, a,
	    sizeof a));
	output_kv(out, w, "next reminder", print_time(r, "next_reminder",
	    zone, a, sizeof a));
	output_kv(out, w, "clients", print_s(r, "clients", a, sizeof a));
	return 0;
}

/* "person 7 added: Name <email>" */
static int
print_person_line(const json_t *r, const char *verb, FILE *out, char *err,
    size_t errlen)
{
	char	a[PRINT_CELL], b[PRINT_CELL], c[PRINT_CELL];

	if (print_want_object(r, err, errlen) == -1)
		return -1;
	output_line(out, "person %s %s: %s <%s>", print_s(r, "id", a, sizeof a),
	    verb, print_s(r, "name", b, sizeof b),
	    print_s(r, "email", c, sizeof c));
	return 0;
}

/* person add: one confirming line. */
int
print_person_added(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	(void)call;
	return print_person_line(r, "added", out, err, errlen);
}

/* person update: one confirming line. */
int
print_person_updated(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	(void)call;
	return print_person_line(r, "updated", out, err, errlen);
}

/* person rm: one confirming line. */
int
print_person_removed(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	const json_t	*ref;
	char		 a[PRINT_CELL];

	(void)r;
	(void)err;
	(void)errlen;
	if ((ref = json_object_get(call->args, "id")) == NULL)
		ref = json_object_get(call->args, "email");
	output_line(out, "person %s removed", output_text(ref, a, sizeof a));
	return 0;
}

/* person show: key: value lines and the enrollments. */
int
print_person(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	static const struct output_column cols[] = {
		{ "SESSION", 0, 1 }, { "START", 0, 0 }, { "TITLE", 50, 0 },
		{ "STATE", 0, 0 },
	};
	static const char *const keys[] = { "id", "name", "email",
	    "organization", "position", "lang", "tags", "groups" };
	struct output_table	*t;
	const json_t		*en, *e;
	const char		*cells[4];
	char			 a[PRINT_CELL], b[PRINT_CELL], c[PRINT_CELL],
				 buf[1024];
	size_t			 i;
	int			 failed = 0;

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		output_kv(out, PRINT_KEYW, keys[i], print_s(r, keys[i], buf,
		    sizeof buf));
	output_kv(out, PRINT_KEYW, "created", print_time(r, "created", "UTC",
	    a, sizeof a));
	output_kv(out, PRINT_KEYW, "updated", print_time(r, "updated", "UTC",
	    a, sizeof a));
	en = json_object_get(r, "enrollments");
	if (!json_is_array(en) || json_array_size(en) == 0)
		return 0;
	fputs("\n", out);
	t = output_table_new(cols, 4);
	json_array_foreach(en, i, e) {
		if (t == NULL)
			break;
		cells[0] = print_s(e, "session", a, sizeof a);
		cells[1] = print_time(e, "start", print_zone(e) != NULL ?
		    print_zone(e) : "UTC", b, sizeof b);
		cells[2] = print_s(e, "title", buf, sizeof buf);
		cells[3] = print_s(e, "state", c, sizeof c);
		failed |= output_table_add(t, cells) == -1;
	}
	return print_table(t, failed, out, err, errlen);
}

/* Rows of people: ID NAME EMAIL ORGANIZATION POSITION LANG. */
static int
print_people_table(const json_t *list, FILE *out, char *err, size_t errlen)
{
	static const struct output_column cols[] = {
		{ "ID", 0, 1 }, { "NAME", 30, 0 }, { "EMAIL", 40, 0 },
		{ "ORGANIZATION", 30, 0 }, { "POSITION", 30, 0 },
		{ "LANG", 8, 0 },
	};
	static const char *const keys[] = { "id", "name", "email",
	    "organization", "position", "lang" };
	struct output_table	*t;
	const json_t		*p;
	const char		*cells[6];
	char			 buf[6][PRINT_CELL];
	size_t			 i, k;
	int			 failed = 0;

	t = output_table_new(cols, 6);
	json_array_foreach(list, i, p) {
		if (t == NULL)
			break;
		for (k = 0; k < 6; k++)
			cells[k] = print_s(p, keys[k], buf[k], sizeof buf[k]);
		failed |= output_table_add(t, cells) == -1;
	}
	return print_table(t, failed, out, err, errlen);
}

/* person ls: a table. */
int
print_people(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	(void)call;
	if (print_want_array(r, err, errlen) == -1)
		return -1;
	return print_people_table(r, out, err, errlen);
}

/*
 * Each {line, field, message} of errors as "FILE:LINE: message", with
 * "field: " before a message that does not name its field already.
 */
static void
print_import_errors(const struct cmd_call *call, const json_t *errors,
    FILE *out)
{
	const json_t	*e;
	const char	*field, *msg;
	char		 a[PRINT_CELL], b[1024];
	size_t		 i, n;

	json_array_foreach(errors, i, e) {
		field = json_string_value(json_object_get(e, "field"));
		msg = print_s(e, "message", b, sizeof b);
		n = field != NULL ? strlen(field) : 0;
		if (field != NULL && (strncmp(msg, field, n) != 0 ||
		    (msg[n] != ':' && msg[n] != ' ')))
			output_line(out, "%s:%s: %s: %s",
			    call->file != NULL ? call->file : "csv",
			    print_s(e, "line", a, sizeof a), field, msg);
		else
			output_line(out, "%s:%s: %s",
			    call->file != NULL ? call->file : "csv",
			    print_s(e, "line", a, sizeof a), msg);
	}
}

/* person import: the counts and the skipped lines. */
int
print_import(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	const json_t	*errors;
	char		 a[PRINT_CELL], b[PRINT_CELL];

	if (print_want_object(r, err, errlen) == -1)
		return -1;
	errors = json_object_get(r, "errors");
	if (json_is_array(errors) && json_array_size(errors) > 0) {
		output_line(out, "added %s, updated %s, skipped %zu",
		    print_s(r, "added", a, sizeof a),
		    print_s(r, "updated", b, sizeof b),
		    json_array_size(errors));
		print_import_errors(call, errors, out);
	} else
		output_line(out, "added %s, updated %s",
		    print_s(r, "added", a, sizeof a),
		    print_s(r, "updated", b, sizeof b));
	return 0;
}

/* group add: one confirming line. */
int
print_group_added(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	char	a[1024];

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	output_line(out, "group %s added", print_s(r, "name", a, sizeof a));
	return 0;
}

/* group rm: one confirming line. */
int
print_group_removed(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	char	a[1024];

	(void)r;
	(void)err;
	(void)errlen;
	output_line(out, "group %s removed", print_s(call->args, "name", a,
	    sizeof a));
	return 0;
}

/* group add-members, rm-members: the new size. */
int
print_members(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	char	a[1024], b[PRINT_CELL];

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	output_line(out, "group %s has %s members", print_s(r, "group", a,
	    sizeof a), print_s(r, "members", b, sizeof b));
	return 0;
}

/* group show: the group and a table of its members. */
int
print_group(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	const json_t	*people;
	char		 a[1024];

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	output_kv(out, PRINT_KEYW, "name", print_s(r, "name", a, sizeof a));
	output_kv(out, PRINT_KEYW, "members", print_s(r, "members", a,
	    sizeof a));
	people = json_object_get(r, "people");
	if (!json_is_array(people) || json_array_size(people) == 0)
		return 0;
	fputs("\n", out);
	return print_people_table(people, out, err, errlen);
}

/* group ls: a table. */
int
print_groups(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	static const struct output_column cols[] = {
		{ "NAME", 60, 0 }, { "MEMBERS", 0, 1 },
	};
	struct output_table	*t;
	const json_t		*g;
	const char		*cells[2];
	char			 a[PRINT_CELL], b[PRINT_CELL];
	size_t			 i;
	int			 failed = 0;

	(void)call;
	if (print_want_array(r, err, errlen) == -1)
		return -1;
	t = output_table_new(cols, 2);
	json_array_foreach(r, i, g) {
		if (t == NULL)
			break;
		cells[0] = print_s(g, "name", a, sizeof a);
		cells[1] = print_s(g, "members", b, sizeof b);
		failed |= output_table_add(t, cells) == -1;
	}
	return print_table(t, failed, out, err, errlen);
}

/* "session 3 VERB: Title, 2026-12-01 15:00 MSK (Europe/Moscow)" */
static int
print_session_line(const json_t *r, const char *verb, FILE *out, char *err,
    size_t errlen)
{
	const char	*zone;
	char		 a[PRINT_CELL], b[1024], c[PRINT_CELL];

	if (print_want_object(r, err, errlen) == -1)
		return -1;
	zone = print_zone(r);
	output_line(out, "session %s %s: %s, %s (%s)",
	    print_s(r, "id", a, sizeof a), verb,
	    print_s(r, "title", b, sizeof b),
	    print_time(r, "start", zone, c, sizeof c),
	    zone != NULL ? zone : "-");
	return 0;
}

/* session add: one confirming line with the local start. */
int
print_session_added(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	(void)call;
	return print_session_line(r, "added", out, err, errlen);
}

/*
 * The entry of r.occurrences that call's --occurrence names (read in the
 * session's zone, as the daemon read it); NULL when there is none.
 */
static const json_t *
print_occurrence_of(const struct cmd_call *call, const json_t *r)
{
	const json_t	*v, *o;
	const char	*zone, *text;
	char		 err[256], utc[32];
	int64_t		 t;
	size_t		 i;

	v = json_object_get(call->args, "occurrence");
	if (!json_is_string(v) || (zone = print_zone(r)) == NULL)
		return NULL;
	if (tz_parse(json_string_value(v), zone, 0, "occurrence", &t, NULL,
	    0, err, sizeof err) == -1)
		return NULL;
	tz_format_utc(t, utc, sizeof utc);
	json_array_foreach(json_object_get(r, "occurrences"), i, o) {
		text = json_string_value(json_object_get(o, "occurrence"));
		if (text != NULL && strcmp(text, utc) == 0)
			return o;
	}
	return NULL;
}

/*
 * "session 3 occurrence 2027-03-24 15:00 CET VERB: Title, now 2027-03-25
 * 16:00 CET (Europe/Berlin)" for --occurrence, else the session's line.
 */
static int
print_occurrence_line(const struct cmd_call *call, const json_t *r,
    const char *verb, FILE *out, char *err, size_t errlen)
{
	const json_t	*o, *titled;
	const char	*zone;
	char		 a[PRINT_CELL], b[1024], c[PRINT_CELL],
			 d[PRINT_CELL];

	if (print_want_object(r, err, errlen) == -1)
		return -1;
	if ((o = print_occurrence_of(call, r)) == NULL)
		return print_session_line(r, verb, out, err, errlen);
	zone = print_zone(r);
	titled = json_is_string(json_object_get(o, "title")) ? o : r;
	print_time(o, "occurrence", zone, c, sizeof c);
	print_time(o, "start", zone, d, sizeof d);
	if (strcmp(c, d) == 0)
		output_line(out, "session %s occurrence %s %s: %s (%s)",
		    print_s(r, "id", a, sizeof a), c, verb,
		    print_s(titled, "title", b, sizeof b), zone);
	else
		output_line(out, "session %s occurrence %s %s: %s, now %s (%s)",
		    print_s(r, "id", a, sizeof a), c, verb,
		    print_s(titled, "title", b, sizeof b), d, zone);
	return 0;
}

/* session update: one confirming line. */
int
print_session_updated(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	return print_occurrence_line(call, r, "updated", out, err, errlen);
}

/* session cancel: one confirming line. */
int
print_session_cancelled(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	return print_occurrence_line(call, r, "cancelled", out, err, errlen);
}

/* "12", "12/30" with a capacity, "30/30 +4" with a waitlist. */
static const char *
print_enrolled(const json_t *s, char *buf, size_t len)
{
	const json_t	*en, *cap, *wait;

	en = json_object_get(s, "enrolled");
	cap = json_object_get(s, "capacity");
	wait = json_object_get(s, "waitlisted");
	if (!json_is_integer(en))
		return output_text(en, buf, len);
	if (json_is_integer(cap) && json_integer_value(cap) > 0)
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT "/%"
		    JSON_INTEGER_FORMAT, json_integer_value(en),
		    json_integer_value(cap));
	else
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(en));
	if (json_is_integer(wait) && json_integer_value(wait) > 0) {
		size_t	used = strlen(buf);

		snprintf(buf + used, len - used, " +%" JSON_INTEGER_FORMAT,
		    json_integer_value(wait));
	}
	return buf;
}

/* A capacity: "unlimited" for 0. */
static const char *
print_capacity(const json_t *obj, char *buf, size_t len)
{
	const json_t	*cap = json_object_get(obj, "capacity");

	if (json_is_integer(cap) && json_integer_value(cap) == 0)
		return "unlimited";
	return output_text(cap, buf, len);
}

/* An enrollment's state: "enrolled" or "waiting, position 2". */
static const char *
print_enrollment_state(const json_t *e, char *buf, size_t len)
{
	const json_t	*state, *pos;

	state = json_object_get(e, "state");
	pos = json_object_get(e, "position");
	if (json_is_string(state) &&
	    strcmp(json_string_value(state), "waitlisted") == 0) {
		if (json_is_integer(pos))
			snprintf(buf, len, "waiting, position %"
			    JSON_INTEGER_FORMAT, json_integer_value(pos));
		else
			snprintf(buf, len, "waiting");
		return buf;
	}
	return output_text(state, buf, len);
}

/* A blank line and a heading before a table. */
static void
print_heading(FILE *out, const char *heading)
{
	fprintf(out, "\n%s:\n", heading);
}

/* What became of one reminder, for a human. */
static const char *
print_reminder_state(const json_t *rm, char *buf, size_t len)
{
	const json_t	*state, *n;

	state = json_object_get(rm, "state");
	if (!json_is_string(state))
		return output_text(state, buf, len);
	if (strcmp(json_string_value(state), "sent") == 0) {
		n = json_object_get(rm, "recipients");
		if (json_is_integer(n))
			snprintf(buf, len, "sent to %" JSON_INTEGER_FORMAT,
			    json_integer_value(n));
		else
			snprintf(buf, len, "sent");
		return buf;
	}
	if (strcmp(json_string_value(state), "missed") == 0)
		return "not sent: its time had passed when the session was "
		    "created or changed";
	if (strcmp(json_string_value(state), "expired") == 0)
		return "not sent: the session had started before it could go "
		    "out";
	return json_string_value(state);
}

/* The reminder schedule of session r; a start column for a series. */
static int
print_reminders(const json_t *r, FILE *out, char *err, size_t errlen)
{
	static const struct output_column cols[] = {
		{ "START", 0, 0 }, { "REMINDER", 0, 0 }, { "DUE", 0, 0 },
		{ "STATE", 0, 0 },
	};
	struct output_table	*t;
	const json_t		*rs, *rm;
	const char		*zone, *cells[4];
	char			 buf[4][PRINT_CELL], before[PRINT_CELL];
	size_t			 i, skip;
	int			 failed = 0;

	rs = json_object_get(r, "reminder_schedule");
	if (!json_is_array(rs) || json_array_size(rs) == 0)
		return 0;
	zone = print_zone(r);
	skip = json_is_string(json_object_get(r, "rrule")) ? 0 : 1;
	print_heading(out, "Reminders");
	t = output_table_new(cols + skip, 4 - skip);
	json_array_foreach(rs, i, rm) {
		if (t == NULL)
			break;
		cells[0] = print_time(rm, "starts", zone, buf[0],
		    sizeof buf[0]);
		snprintf(buf[1], sizeof buf[1], "%s before",
		    print_minutes(rm, "before", before, sizeof before));
		cells[1] = buf[1];
		cells[2] = print_time(rm, "due", zone, buf[2], sizeof buf[2]);
		cells[3] = print_reminder_state(rm, buf[3], sizeof buf[3]);
		failed |= output_table_add(t, cells + skip) == -1;
	}
	return print_table(t, failed, out, err, errlen);
}

/* The changed and cancelled occurrences of a series. */
static int
print_occurrences(const json_t *r, FILE *out, char *err, size_t errlen)
{
	static const struct output_column cols[] = {
		{ "OCCURRENCE", 0, 0 }, { "START", 0, 0 },
		{ "DURATION", 0, 1 }, { "TITLE", 50, 0 }, { "STATUS", 60, 0 },
	};
	struct output_table	*t;
	const json_t		*os, *o, *titled;
	const char		*zone, *cells[5];
	char			 buf[5][PRINT_CELL], text[1024];
	size_t			 i;
	int			 failed = 0;

	os = json_object_get(r, "occurrences");
	if (!json_is_array(os) || json_array_size(os) == 0)
		return 0;
	zone = print_zone(r);
	print_heading(out, "Changed occurrences");
	t = output_table_new(cols, 5);
	json_array_foreach(os, i, o) {
		if (t == NULL)
			break;
		titled = json_is_string(json_object_get(o, "title")) ? o : r;
		cells[0] = print_time(o, "occurrence", zone, buf[0],
		    sizeof buf[0]);
		cells[1] = print_time(o, "start", zone, buf[1], sizeof buf[1]);
		cells[2] = print_minutes(o, "duration", buf[2], sizeof buf[2]);
		cells[3] = print_s(titled, "title", buf[3], sizeof buf[3]);
		cells[4] = print_s(o, "status", buf[4], sizeof buf[4]);
		if (json_is_string(json_object_get(o, "cancel_reason"))) {
			snprintf(text, sizeof text, "%s: %s", cells[4],
			    json_string_value(json_object_get(o,
			    "cancel_reason")));
			cells[4] = text;
		}
		failed |= output_table_add(t, cells) == -1;
	}
	return print_table(t, failed, out, err, errlen);
}

/* The people of a session or course (en): enrolled, then waiting. */
static int
print_enrollments(const json_t *en, int course, FILE *out, char *err,
    size_t errlen)
{
	static const struct output_column scols[] = {
		{ "ID", 0, 1 }, { "NAME", 30, 0 }, { "EMAIL", 40, 0 },
		{ "STATE", 0, 0 }, { "RSVP", 0, 0 }, { "ATTENDANCE", 0, 0 },
	};
	static const struct output_column ccols[] = {
		{ "ID", 0, 1 }, { "NAME", 30, 0 }, { "EMAIL", 40, 0 },
		{ "STATE", 0, 0 }, { "ORGANIZATION", 30, 0 },
		{ "COMPLETED", 0, 0 },
	};
	struct output_table	*t;
	const json_t		*e;
	const char		*cells[6];
	char			 buf[6][PRINT_CELL];
	size_t			 i;
	int			 failed = 0;

	if (!json_is_array(en) || json_array_size(en) == 0)
		return 0;
	print_heading(out, "People");
	t = output_table_new(course ? ccols : scols, 6);
	json_array_foreach(en, i, e) {
		if (t == NULL)
			break;
		cells[0] = print_s(e, "person", buf[0], sizeof buf[0]);
		cells[1] = print_s(e, "name", buf[1], sizeof buf[1]);
		cells[2] = print_s(e, "email", buf[2], sizeof buf[2]);
		cells[3] = print_enrollment_state(e, buf[3], sizeof buf[3]);
		if (course) {
			cells[4] = print_s(e, "organization", buf[4],
			    sizeof buf[4]);
			cells[5] = print_time(e, "completed",
			    tz_system_zone(), buf[5], sizeof buf[5]);
		} else {
			cells[4] = print_s(e, "rsvp", buf[4], sizeof buf[4]);
			cells[5] = print_s(e, "attendance", buf[5],
			    sizeof buf[5]);
		}
		failed |= output_table_add(t, cells) == -1;
	}
	return print_table(t, failed, out, err, errlen);
}

/* session show: key: value lines, reminders, occurrences, people. */
int
print_session(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	const char	*zone;
	char		 a[PRINT_CELL], text[4096];

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	zone = print_zone(r);
	output_kv(out, PRINT_KEYW, "id", print_s(r, "id", a, sizeof a));
	output_kv(out, PRINT_KEYW, "title", print_s(r, "title", text,
	    sizeof text));
	output_kv(out, PRINT_KEYW, "kind", print_s(r, "kind", a, sizeof a));
	output_kv(out, PRINT_KEYW, "status", print_s(r, "status", a,
	    sizeof a));
	if (json_is_string(json_object_get(r, "cancel_reason")))
		output_kv(out, PRINT_KEYW, "reason", print_s(r,
		    "cancel_reason", text, sizeof text));
	output_kv(out, PRINT_KEYW, "start", print_time(r, "start", zone, a,
	    sizeof a));
	output_kv(out, PRINT_KEYW, "end", print_time(r, "end", zone, a,
	    sizeof a));
	output_kv(out, PRINT_KEYW, "duration", print_minutes(r, "duration", a,
	    sizeof a));
	output_kv(out, PRINT_KEYW, "time zone", zone != NULL ? zone : "-");
	output_kv(out, PRINT_KEYW, "location", print_s(r, "location", text,
	    sizeof text));
	output_kv(out, PRINT_KEYW, "url", print_s(r, "url", text,
	    sizeof text));
	output_kv(out, PRINT_KEYW, "description", print_s(r, "description",
	    text, sizeof text));
	output_kv(out, PRINT_KEYW, "capacity", print_capacity(r, a,
	    sizeof a));
	output_kv(out, PRINT_KEYW, "enrolled", print_s(r, "enrolled", a,
	    sizeof a));
	output_kv(out, PRINT_KEYW, "waitlisted", print_s(r, "waitlisted", a,
	    sizeof a));
	output_kv(out, PRINT_KEYW, "reminders", print_offsets(r, "reminders",
	    text, sizeof text));
	output_kv(out, PRINT_KEYW, "course", print_s(r, "course", a,
	    sizeof a));
	output_kv(out, PRINT_KEYW, "repeat", print_s(r, "rrule", text,
	    sizeof text));
	output_kv(out, PRINT_KEYW, "uid", print_s(r, "uid", text,
	    sizeof text));
	output_kv(out, PRINT_KEYW, "sequence", print_s(r, "sequence", a,
	    sizeof a));
	output_kv(out, PRINT_KEYW, "created", print_time(r, "created", zone,
	    a, sizeof a));
	output_kv(out, PRINT_KEYW, "updated", print_time(r, "updated", zone,
	    a, sizeof a));
	if (print_reminders(r, out, err, errlen) == -1 ||
	    print_occurrences(r, out, err, errlen) == -1)
		return -1;
	return print_enrollments(json_object_get(r, "enrollments"), 0, out,
	    err, errlen);
}

/*
 * What sets an occurrence of a series apart (session.list with expand):
 * "moved from 2027-03-24 15:00 CET", "cancelled: reason".
 */
static const char *
print_occurrence_note(const json_t *s, char *buf, size_t len)
{
	const json_t	*occ, *start, *reason;
	const char	*status;
	char		 when[PRINT_CELL];
	size_t		 used = 0;
	int		 n;

	buf[0] = '\0';
	occ = json_object_get(s, "occurrence");
	start = json_object_get(s, "start");
	if (json_is_string(occ) && json_is_string(start) &&
	    strcmp(json_string_value(occ), json_string_value(start)) != 0) {
		n = snprintf(buf, len, "moved from %s", print_local(
		    json_string_value(occ), print_zone(s), when, sizeof when));
		if (n > 0)
			used = (size_t)n < len ? (size_t)n : len - 1;
	}
	status = json_string_value(json_object_get(s, "status"));
	reason = json_object_get(s, "cancel_reason");
	if (status != NULL && strcmp(status, "cancelled") == 0 &&
	    json_is_string(reason) && used < len)
		snprintf(buf + used, len - used, "%sreason: %s",
		    used > 0 ? "; " : "", json_string_value(reason));
	return buf[0] != '\0' ? buf : "-";
}

/* A table of sessions; with note, a column that tells occurrences apart. */
static int
print_sessions_table(const json_t *r, int note, FILE *out, char *err,
    size_t errlen)
{
	static const struct output_column cols[] = {
		{ "ID", 0, 1 }, { "START", 0, 0 }, { "TZ", 0, 0 },
		{ "DURATION", 0, 1 }, { "KIND", 0, 0 }, { "TITLE", 50, 0 },
		{ "ENROLLED", 0, 1 }, { "STATUS", 0, 0 }, { "NOTE", 60, 0 },
	};
	struct output_table	*t;
	const json_t		*s;
	const char		*cells[9];
	char			 buf[8][PRINT_CELL], text[1024];
	size_t			 i;
	int			 failed = 0;

	t = output_table_new(cols, note ? 9 : 8);
	json_array_foreach(r, i, s) {
		if (t == NULL)
			break;
		cells[0] = print_s(s, "id", buf[0], sizeof buf[0]);
		cells[1] = print_time(s, "start", print_zone(s), buf[1],
		    sizeof buf[1]);
		cells[2] = print_s(s, "tz", buf[2], sizeof buf[2]);
		cells[3] = print_minutes(s, "duration", buf[3], sizeof buf[3]);
		cells[4] = print_s(s, "kind", buf[4], sizeof buf[4]);
		cells[5] = print_s(s, "title", buf[5], sizeof buf[5]);
		cells[6] = print_enrolled(s, buf[6], sizeof buf[6]);
		cells[7] = print_s(s, "status", buf[7], sizeof buf[7]);
		cells[8] = note ? print_occurrence_note(s, text, sizeof text) :
		    NULL;
		failed |= output_table_add(t, cells) == -1;
	}
	return print_table(t, failed, out, err, errlen);
}

/* session ls: a table with local start times; --expand adds notes. */
int
print_sessions(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	if (print_want_array(r, err, errlen) == -1)
		return -1;
	return print_sessions_table(r, json_is_true(json_object_get(
	    call->args, "expand")), out, err, errlen);
}

/* "course 1 VERB: Title, 2027-02-01 to 2027-02-28" */
static int
print_course_line(const json_t *r, const char *verb, FILE *out, char *err,
    size_t errlen)
{
	char	a[PRINT_CELL], b[1024], c[PRINT_CELL], d[PRINT_CELL];

	if (print_want_object(r, err, errlen) == -1)
		return -1;
	output_line(out, "course %s %s: %s, %s to %s",
	    print_s(r, "id", a, sizeof a), verb,
	    print_s(r, "title", b, sizeof b),
	    print_s(r, "first_day", c, sizeof c),
	    print_s(r, "last_day", d, sizeof d));
	return 0;
}

/* course add: one confirming line. */
int
print_course_added(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	(void)call;
	return print_course_line(r, "added", out, err, errlen);
}

/* course update: one confirming line. */
int
print_course_updated(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	(void)call;
	return print_course_line(r, "updated", out, err, errlen);
}

/* course cancel: one confirming line; its meetings went with it. */
int
print_course_cancelled(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	const json_t	*m;

	(void)call;
	if (print_course_line(r, "cancelled", out, err, errlen) == -1)
		return -1;
	m = json_object_get(r, "meetings");
	if (json_is_integer(m) && json_integer_value(m) > 0)
		output_line(out, "its scheduled meetings were cancelled too");
	return 0;
}

/* course show: key: value lines, the meetings and the people. */
int
print_course(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	const int	 w = PRINT_COURSE_KEYW;
	const json_t	*rc, *ss;
	const char	*zone;
	char		 a[PRINT_CELL], b[PRINT_CELL], text[4096];

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	zone = tz_system_zone();
	output_kv(out, w, "id", print_s(r, "id", a, sizeof a));
	output_kv(out, w, "title", print_s(r, "title", text,
	    sizeof text));
	output_kv(out, w, "status", print_s(r, "status", a,
	    sizeof a));
	if (json_is_string(json_object_get(r, "cancel_reason")))
		output_kv(out, w, "reason", print_s(r,
		    "cancel_reason", text, sizeof text));
	output_kv(out, w, "first day", print_s(r, "first_day", a,
	    sizeof a));
	output_kv(out, w, "last day", print_s(r, "last_day", a,
	    sizeof a));
	output_kv(out, w, "provider", print_s(r, "provider", text,
	    sizeof text));
	output_kv(out, w, "hours", print_s(r, "hours", a, sizeof a));
	rc = json_object_get(r, "counts_for_recertification");
	output_kv(out, w, "recertification", !json_is_boolean(rc) ?
	    "-" : json_is_true(rc) ? "counts" : "does not count");
	output_kv(out, w, "capacity", print_capacity(r, a,
	    sizeof a));
	output_kv(out, w, "enrolled", print_s(r, "enrolled", a,
	    sizeof a));
	output_kv(out, w, "waitlisted", print_s(r, "waitlisted", a,
	    sizeof a));
	output_kv(out, w, "meetings", print_s(r, "meetings", a,
	    sizeof a));
	output_kv(out, w, "description", print_s(r, "description",
	    text, sizeof text));
	output_kv(out, w, "uid", print_s(r, "uid", text,
	    sizeof text));
	output_kv(out, w, "sequence", print_s(r, "sequence", a,
	    sizeof a));
	output_kv(out, w, "created", print_time(r, "created", zone,
	    a, sizeof a));
	output_kv(out, w, "updated", print_time(r, "updated", zone,
	    b, sizeof b));
	ss = json_object_get(r, "sessions");
	if (json_is_array(ss) && json_array_size(ss) > 0) {
		print_heading(out, "Meetings");
		if (print_sessions_table(ss, 0, out, err, errlen) == -1)
			return -1;
	}
	return print_enrollments(json_object_get(r, "enrollments"), 1, out,
	    err, errlen);
}

/* course ls: a table. */
int
print_courses(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	static const struct output_column cols[] = {
		{ "ID", 0, 1 }, { "FIRST DAY", 0, 0 }, { "LAST DAY", 0, 0 },
		{ "HOURS", 0, 1 }, { "TITLE", 50, 0 }, { "PROVIDER", 30, 0 },
		{ "ENROLLED", 0, 1 }, { "MEETINGS", 0, 1 },
		{ "STATUS", 0, 0 },
	};
	struct output_table	*t;
	const json_t		*c;
	const char		*cells[9];
	char			 buf[9][PRINT_CELL];
	size_t			 i;
	int			 failed = 0;

	(void)call;
	if (print_want_array(r, err, errlen) == -1)
		return -1;
	t = output_table_new(cols, 9);
	json_array_foreach(r, i, c) {
		if (t == NULL)
			break;
		cells[0] = print_s(c, "id", buf[0], sizeof buf[0]);
		cells[1] = print_s(c, "first_day", buf[1], sizeof buf[1]);
		cells[2] = print_s(c, "last_day", buf[2], sizeof buf[2]);
		cells[3] = print_s(c, "hours", buf[3], sizeof buf[3]);
		cells[4] = print_s(c, "title", buf[4], sizeof buf[4]);
		cells[5] = print_s(c, "provider", buf[5], sizeof buf[5]);
		cells[6] = print_enrolled(c, buf[6], sizeof buf[6]);
		cells[7] = print_s(c, "meetings", buf[7], sizeof buf[7]);
		cells[8] = print_s(c, "status", buf[8], sizeof buf[8]);
		failed |= output_table_add(t, cells) == -1;
	}
	return print_table(t, failed, out, err, errlen);
}

/* The size of r.key when it is an array, else 0. */
static size_t
print_count(const json_t *r, const char *key)
{
	return json_array_size(json_object_get(r, key));
}

/* A person reference {id, email} as "email (id 7)". */
static void
print_ref_line(FILE *out, const char *prefix, const json_t *p)
{
	char	a[PRINT_CELL], b[512], c[PRINT_CELL];

	if (json_object_get(p, "position") != NULL)
		output_line(out, "%s%s (id %s), position %s", prefix,
		    print_s(p, "email", b, sizeof b),
		    print_s(p, "id", a, sizeof a),
		    print_s(p, "position", c, sizeof c));
	else
		output_line(out, "%s%s (id %s)", prefix,
		    print_s(p, "email", b, sizeof b),
		    print_s(p, "id", a, sizeof a));
}

/* enroll: how many were selected, the counts and who is waitlisted. */
int
print_enroll(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	const json_t	*p;
	char		 a[PRINT_CELL];
	size_t		 i;

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	if (json_object_get(r, "selected") != NULL)
		output_line(out, "selected %s by recertification status",
		    print_s(r, "selected", a, sizeof a));
	output_line(out, "enrolled %zu, waitlisted %zu, already enrolled %zu",
	    print_count(r, "enrolled"), print_count(r, "waitlisted"),
	    print_count(r, "already"));
	json_array_foreach(json_object_get(r, "waitlisted"), i, p)
		print_ref_line(out, "waitlisted: ", p);
	return 0;
}

/* unenroll: the counts and who was promoted. */
int
print_unenroll(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	const json_t	*p;
	size_t		 i;

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	output_line(out, "removed %zu, not enrolled %zu, promoted from the "
	    "waitlist %zu", print_count(r, "removed"),
	    print_count(r, "not_enrolled"), print_count(r, "promoted"));
	json_array_foreach(json_object_get(r, "promoted"), i, p)
		print_ref_line(out, "promoted: ", p);
	json_array_foreach(json_object_get(r, "not_enrolled"), i, p)
		print_ref_line(out, "not enrolled: ", p);
	return 0;
}

/* Room for one line about an answer (addresses, a promoted list). */
#define PRINT_LINE	2048

/* Append to the string in buf (size len) as much as fits. */
static void __attribute__((format(printf, 3, 4)))
print_append(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	size_t	n = strlen(buf);

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/*
 * What followed an answer (rsvp and reply results): "; promoted: a, b"
 * and "; every seat is taken: on the waiting list at position N".
 */
static void
print_answer_effects(const json_t *r, char *line, size_t len)
{
	const json_t	*p, *w;
	char		 b[512];
	size_t		 i;

	json_array_foreach(json_object_get(r, "promoted"), i, p)
		print_append(line, len, "%s%s", i == 0 ? "; promoted: " :
		    ", ", print_s(p, "email", b, sizeof b));
	w = json_object_get(r, "waitlisted");
	if (json_is_integer(w))
		print_append(line, len, "; every seat is taken: on the "
		    "waiting list at position %lld",
		    (long long)json_integer_value(w));
}

/* rsvp: "anna@... declined session 12 (was needs_action); promoted: b". */
int
print_rsvp(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	const char	*rsvp, *prev, *who, *id;
	char		 line[PRINT_LINE], b[512], c[PRINT_CELL], d[PRINT_CELL],
			 e[PRINT_CELL];

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	who = print_s(json_object_get(r, "person"), "email", b, sizeof b);
	id = print_s(r, "session", c, sizeof c);
	rsvp = print_s(r, "rsvp", d, sizeof d);
	prev = print_s(r, "previous", e, sizeof e);
	if (strcmp(rsvp, "needs_action") == 0)
		snprintf(line, sizeof line, "%s has no answer for session %s",
		    who, id);
	else
		snprintf(line, sizeof line, "%s %s session %s", who,
		    strcmp(rsvp, "tentative") == 0 ? "tentatively accepted" :
		    rsvp, id);
	if (strcmp(prev, rsvp) == 0)
		print_append(line, sizeof line, " (unchanged)");
	else
		print_append(line, sizeof line, " (was %s)", prev);
	print_answer_effects(r, line, sizeof line);
	output_line(out, "%s", line);
	return 0;
}

/*
 * From the iCalendar text ical, the attendee's address and PARTSTAT of
 * its VEVENT number index, if that VEVENT's UID is uid: the daemon names
 * the answering person only when the answer was recorded, and a stale
 * or misdirected REPLY should still say from whom it came. Only a look:
 * a value that does not fit or does not parse leaves the buffers empty.
 */
static void
print_reply_peek(const char *ical, size_t index, const char *uid,
    char *who, size_t wholen, char *answer, size_t anslen)
{
	char		 line[1024], puid[1024], pwho[1024], pans[64];
	const char	*s = ical, *nl, *v, *q;
	size_t		 n, len, event = 0;
	int		 depth = 0, mine = 0, cut, first;

	who[0] = answer[0] = '\0';
	puid[0] = pwho[0] = pans[0] = '\0';
	while (*s != '\0') {
		/* One logical line: unfold continuation lines (RFC 5545 3.1). */
		len = 0;
		cut = 0;
		first = 1;
		do {
			if (!first)
				s++;	/* the blank that marks the fold */
			first = 0;
			nl = strchr(s, '\n');
			n = nl != NULL ? (size_t)(nl - s) : strlen(s);
			if (n > 0 && s[n - 1] == '\r')
				n--;
			if (len + n < sizeof line) {
				memcpy(line + len, s, n);
				len += n;
			} else
				cut = 1;
			s = nl != NULL ? nl + 1 : s + strlen(s);
		} while (*s == ' ' || *s == '\t');
		line[len] = '\0';
		if (strcasecmp(line, "BEGIN:VEVENT") == 0 && depth == 1) {
			mine = event++ == index;
			depth++;
			continue;
		}
		if (strncasecmp(line, "BEGIN:", 6) == 0) {
			depth++;
			continue;
		}
		if (strncasecmp(line, "END:", 4) == 0) {
			if (depth == 2 && mine)
				break;
			depth--;
			continue;
		}
		if (!mine || depth != 2 || cut)
			continue;
		if (strncasecmp(line, "UID:", 4) == 0)
			snprintf(puid, sizeof puid, "%s", line + 4);
		else if (strncasecmp(line, "ATTENDEE", 8) == 0 &&
		    (line[8] == ';' || line[8] == ':') && pwho[0] == '\0') {
			/* Parameters; a quoted value may hold ':' or ';'. */
			for (v = line + 8; *v == ';'; ) {
				if (strncasecmp(v, ";PARTSTAT=", 10) == 0) {
					n = strcspn(v + 10, ";:,\"");
					snprintf(pans, sizeof pans, "%.*s",
					    (int)n, v + 10);
				}
				for (v++; *v != '\0' && *v != ';' &&
				    *v != ':'; v++)
					if (*v == '"' && (q = strchr(v + 1,
					    '"')) != NULL)
						v = q;
			}
			if (*v == ':' && strncasecmp(v + 1, "mailto:", 7) == 0)
				snprintf(pwho, sizeof pwho, "%s", v + 8);
		}
	}
	if (!mine || strcmp(puid, uid) != 0)
		return;
	snprintf(who, wholen, "%s", pwho);
	for (n = 0; pans[n] != '\0' && n + 1 < anslen; n++)
		answer[n] = pans[n] == '-' ? '_' :
		    (char)tolower((unsigned char)pans[n]);
	answer[n] = '\0';
}

/* One REPLY event as "REPLY from WHO for session N: ANSWER (OUTCOME)". */
static void
print_reply_event(const struct cmd_call *call, const json_t *ev,
    size_t index, FILE *out)
{
	const char	*ical, *outcome, *who, *answer, *uid;
	char		 line[PRINT_LINE], a[512], b[512], c[PRINT_CELL],
			 d[PRINT_CELL], e[PRINT_CELL], why[512], pwho[1024],
			 pans[64];

	ical = json_string_value(json_object_get(call->args, "ical"));
	uid = print_s(ev, "uid", a, sizeof a);
	if (ical != NULL)
		print_reply_peek(ical, index, uid, pwho, sizeof pwho, pans,
		    sizeof pans);
	else
		pwho[0] = pans[0] = '\0';
	who = json_is_object(json_object_get(ev, "person")) ?
	    print_s(json_object_get(ev, "person"), "email", b, sizeof b) :
	    pwho[0] != '\0' ? pwho : "an unnamed attendee";
	answer = json_is_string(json_object_get(ev, "rsvp")) ?
	    print_s(ev, "rsvp", d, sizeof d) : pans[0] != '\0' ? pans : "-";
	outcome = print_s(ev, "outcome", e, sizeof e);
	if (json_is_integer(json_object_get(ev, "session")))
		snprintf(line, sizeof line, "REPLY from %s for session %s: %s",
		    who, print_s(ev, "session", c, sizeof c), answer);
	else
		snprintf(line, sizeof line, "REPLY from %s for event %s: %s",
		    who, uid, answer);
	if (strcmp(outcome, "recorded") == 0)
		print_append(line, sizeof line, " (recorded)");
	else if (strcmp(outcome, "stale") == 0)
		print_append(line, sizeof line, " (stale: an answer to an "
		    "older version; nothing changed)");
	else if (strcmp(outcome, "unknown") == 0)
		print_append(line, sizeof line, " (unknown event: not a "
		    "session of lectern; nothing changed)");
	else if (strcmp(outcome, "not_invited") == 0)
		print_append(line, sizeof line, " (not invited: the address "
		    "is not enrolled; nothing changed)");
	else if (strcmp(outcome, "ignored") == 0)
		print_append(line, sizeof line, " (ignored: %s)",
		    json_is_string(json_object_get(ev, "why")) ?
		    print_s(ev, "why", why, sizeof why) : "nothing changed");
	else
		print_append(line, sizeof line, " (%s)", outcome);
	print_answer_effects(ev, line, sizeof line);
	output_line(out, "%s", line);
}

/* reply: one line per event of the REPLY. */
int
print_reply(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	const json_t	*events, *ev;
	size_t		 i;

	if (print_want_object(r, err, errlen) == -1)
		return -1;
	events = json_object_get(r, "events");
	if (print_want_array(events, err, errlen) == -1)
		return -1;
	json_array_foreach(events, i, ev)
		print_reply_event(call, ev, i, out);
	return 0;
}

/*
 * CPD records and reports. A report's row is filled once into all its
 * fields; the table shows some of them (and a few made for the eye, such
 * as "87/267" or a bar), --csv writes those with a CSV name, under the
 * protocol's names so that a spreadsheet's columns say what they hold.
 */

/* The most fields a report row has. */
#define PRINT_FIELDS_MAX	16
/* The cells of a coverage bar, 100 %, and the scale above the bars. */
#define PRINT_BAR_WIDTH		20
#define PRINT_BAR_SCALE		"0         50     100"

/* One field of a report row. */
struct print_field {
	const char	*name;		/* CSV header; NULL: the table's only */
	int		 kind;		/* CSVOUT_TEXT or CSVOUT_NUMBER */
};

/*
 * Fill cells[0..nfields) from one row of the result: borrowed from row,
 * or written into buf[i]; NULL where the value is missing or null (the
 * table shows "-", CSV an empty field).
 */
typedef void (*print_fill_fn)(const json_t *row, const void *ctx,
    const char **cells, char (*buf)[PRINT_CELL]);

struct print_report {
	const struct print_field	*fields;
	size_t				 nfields;
	const struct output_column	*cols;		/* the table's */
	const size_t			*map;		/* field of each column */
	size_t				 ncols;
	print_fill_fn			 fill;
	const void			*ctx;		/* for fill */
};

/* The text of obj.key (borrowed or in buf); NULL when missing or null. */
static const char *
print_v(const json_t *obj, const char *key, char *buf, size_t len)
{
	const json_t	*v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	return output_text(v, buf, len);
}

/* A number with at most one decimal, "36" or "12.5"; NULL if none. */
static const char *
print_decimal(const json_t *v, char *buf, size_t len)
{
	size_t	n;

	if (json_is_integer(v))
		return output_text(v, buf, len);
	if (!json_is_real(v))
		return v == NULL || json_is_null(v) ? NULL :
		    output_text(v, buf, len);
	snprintf(buf, len, "%.1f", json_real_value(v));
	n = strlen(buf);
	if (n > 2 && strcmp(buf + n - 2, ".0") == 0)
		buf[n - 2] = '\0';
	if (strcmp(buf, "-0") == 0)
		snprintf(buf, len, "0");
	return buf;
}

/* obj.key, a number of hours, as print_decimal writes it. */
static const char *
print_hours(const json_t *obj, const char *key, char *buf, size_t len)
{
	return print_decimal(json_object_get(obj, key), buf, len);
}

/* A share in percent with one decimal, "32.5"; NULL if none. */
static const char *
print_percent(const json_t *v, char *buf, size_t len)
{
	if (!json_is_number(v))
		return v == NULL || json_is_null(v) ? NULL :
		    output_text(v, buf, len);
	snprintf(buf, len, "%.1f", json_number_value(v));
	return buf;
}

/*
 * "32.5" for part of whole, rounded down to one decimal as the daemon
 * rounds (87 of 267 is 32.5, never overstated); "0.0" for nothing.
 */
static const char *
print_share(json_int_t part, json_int_t whole, char *buf, size_t len)
{
	long long	p;

	if (whole <= 0 || part <= 0)
		p = 0;
	else if (part >= whole)
		p = 1000;
	else if (part <= LLONG_MAX / 1000)
		p = (long long)part * 1000 / (long long)whole;
	else
		p = (long long)((long double)part * 1000 / whole);
	snprintf(buf, len, "%lld.%lld", p / 10, p % 10);
	return buf;
}

/* A bar of PRINT_BAR_WIDTH cells filled to percent, in eighths. */
static const char *
print_bar(const json_t *percent, char *buf, size_t len)
{
	static const char *const eighths[] = { "", "\u258f", "\u258e",
	    "\u258d", "\u258c", "\u258b", "\u258a", "\u2589" };
	double	 pc;
	long	 units, i;
	size_t	 used = 0;
	int	 n;

	if (!json_is_number(percent))
		return NULL;
	pc = json_number_value(percent);
	if (!(pc > 0))
		pc = 0;
	if (pc > 100)
		pc = 100;
	units = (long)(pc * PRINT_BAR_WIDTH * 8 / 100);
	/* Someone trained is never drawn as no one. */
	if (units == 0 && pc > 0)
		units = 1;
	buf[0] = '\0';
	for (i = 0; i < PRINT_BAR_WIDTH; i++) {
		n = snprintf(buf + used, len - used, "%s", i < units / 8 ?
		    "\u2588" : i == units / 8 && units % 8 != 0 ?
		    eighths[units % 8] : "\u2591");
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* Fill one row and add it to the table t, or write it as CSV. */
static int
print_report_row(const struct cmd_call *call, const struct print_report *rp,
    const json_t *row, struct output_table *t, FILE *out)
{
	const char	*cells[PRINT_FIELDS_MAX], *pick[PRINT_FIELDS_MAX];
	char		 buf[PRINT_FIELDS_MAX][PRINT_CELL];
	int		 kinds[PRINT_FIELDS_MAX];
	size_t		 k, n = 0;

	memset(cells, 0, sizeof cells);
	rp->fill(row, rp->ctx, cells, buf);
	if (!call->csv) {
		for (k = 0; k < rp->ncols; k++)
			pick[k] = cells[rp->map[k]];
		return output_table_add(t, pick);
	}
	for (k = 0; k < rp->nfields; k++) {
		if (rp->fields[k].name == NULL)
			continue;
		pick[n] = cells[k];
		kinds[n++] = rp->fields[k].kind;
	}
	return csvout_row(out, pick, kinds, n);
}

/*
 * The rows of a report (and last, a closing row, if not NULL) as a table,
 * or with --csv as CSV under a header of the fields' names.
 */
static int
print_report(const struct cmd_call *call, const struct print_report *rp,
    const json_t *rows, const json_t *last, FILE *out, char *err,
    size_t errlen)
{
	struct output_table	*t = NULL;
	const json_t		*row;
	const char		*names[PRINT_FIELDS_MAX];
	size_t			 i, n = 0;
	int			 failed = 0;

	if (rp->nfields > PRINT_FIELDS_MAX || rp->ncols > PRINT_FIELDS_MAX) {
		snprintf(err, errlen, "a report of more than %d fields",
		    PRINT_FIELDS_MAX);
		return -1;
	}
	if (call->csv) {
		for (i = 0; i < rp->nfields; i++)
			if (rp->fields[i].name != NULL)
				names[n++] = rp->fields[i].name;
		failed |= csvout_row(out, names, NULL, n) == -1;
	} else if ((t = output_table_new(rp->cols, rp->ncols)) == NULL)
		failed = 1;
	json_array_foreach(rows, i, row) {
		if (failed)
			break;
		failed |= print_report_row(call, rp, row, t, out) == -1;
	}
	if (!failed && last != NULL)
		failed |= print_report_row(call, rp, last, t, out) == -1;
	if (call->csv) {
		if (failed) {
			snprintf(err, errlen, "cannot write the CSV");
			return -1;
		}
		return 0;
	}
	return print_table(t, failed, out, err, errlen);
}

/* "Иван Петров <ivan@school5.example>" for a completion. */
static const char *
print_who(const json_t *c, char *buf, size_t len)
{
	char	a[512], b[512];

	snprintf(buf, len, "%s <%s>", print_s(c, "name", a, sizeof a),
	    print_s(json_object_get(c, "person"), "email", b, sizeof b));
	return buf;
}

/*
 * One completion as "PREFIXИван Петров <ivan@x>, "Formative assessment",
 * 36 h, 2026-11-20, register no 2026-000012".
 */
static void
print_completion_line(FILE *out, const char *prefix, const json_t *c)
{
	const json_t	*counts;
	char		 a[PRINT_CELL], b[1024], d[1024], e[PRINT_CELL],
			 f[PRINT_CELL];

	counts = json_object_get(c, "counts_for_recertification");
	output_line(out, "%s%s, \"%s\", %s h, %s, register no %s%s", prefix,
	    print_who(c, b, sizeof b), print_s(c, "title", d, sizeof d),
	    print_hours(c, "hours", e, sizeof e) != NULL ? e : "-",
	    print_s(c, "completed_on", f, sizeof f),
	    print_s(c, "register_no", a, sizeof a),
	    json_is_false(counts) ? " (does not count towards "
	    "recertification)" : "");
}

/*
 * The course completions that an attendance change created (r.completions)
 * and, when lecternd says, those it took back (r.completions_removed).
 */
static void
print_completions_made(const json_t *r, FILE *out)
{
	const json_t	*c;
	size_t		 i;

	json_array_foreach(json_object_get(r, "completions"), i, c)
		print_completion_line(out, "course completed: ", c);
	json_array_foreach(json_object_get(r, "completions_removed"), i, c)
		print_completion_line(out, "course completion removed "
		    "(attendance below the share): ", c);
}

/* " occurrence 2027-03-24 15:00 MSK" when obj.key is a time. */
static const char *
print_occurrence_words(const json_t *obj, const char *key, char *buf,
    size_t len)
{
	char	when[PRINT_CELL];

	if (!json_is_string(json_object_get(obj, key)))
		return "";
	snprintf(buf, len, " occurrence %s", print_time(obj, key,
	    tz_system_zone(), when, sizeof when));
	return buf;
}

/* attendance mark: "session 12: 3 marked attended", course completions. */
int
print_attendance_mark(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	size_t	n;
	char	a[PRINT_CELL], b[PRINT_CELL], c[2 * PRINT_CELL];

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	n = print_count(r, "marked");
	output_line(out, "session %s%s: %zu %s marked %s",
	    print_s(r, "session", a, sizeof a),
	    print_occurrence_words(r, "occurrence", c, sizeof c), n,
	    n == 1 ? "person" : "people", print_s(r, "state", b, sizeof b));
	print_completions_made(r, out);
	return 0;
}

static const struct print_field print_attendance_fields[] = {
	{ "person_id", CSVOUT_NUMBER }, { "name", CSVOUT_TEXT },
	{ "email", CSVOUT_TEXT }, { "organization", CSVOUT_TEXT },
	{ "occurrence", CSVOUT_TEXT }, { "state", CSVOUT_TEXT },
	{ "minutes", CSVOUT_NUMBER }, { "source", CSVOUT_TEXT },
	{ "entered_by", CSVOUT_NUMBER }, { "entered_at", CSVOUT_TEXT },
	{ NULL, CSVOUT_TEXT },		/* 10: the occurrence, local */
};

static void
print_attendance_fill(const json_t *a, const void *ctx, const char **cells,
    char (*buf)[PRINT_CELL])
{
	const json_t	*p = json_object_get(a, "person");

	(void)ctx;
	cells[0] = print_v(p, "id", buf[0], PRINT_CELL);
	cells[1] = print_v(a, "name", buf[1], PRINT_CELL);
	cells[2] = print_v(p, "email", buf[2], PRINT_CELL);
	cells[3] = print_v(a, "organization", buf[3], PRINT_CELL);
	cells[4] = print_v(a, "occurrence", buf[4], PRINT_CELL);
	cells[5] = print_v(a, "state", buf[5], PRINT_CELL);
	cells[6] = print_v(a, "minutes", buf[6], PRINT_CELL);
	cells[7] = print_v(a, "source", buf[7], PRINT_CELL);
	cells[8] = print_v(a, "entered_by", buf[8], PRINT_CELL);
	cells[9] = print_v(a, "entered_at", buf[9], PRINT_CELL);
	if (cells[4] != NULL)
		cells[10] = print_time(a, "occurrence", tz_system_zone(),
		    buf[10], PRINT_CELL);
}

/* attendance ls: a table (an OCCURRENCE column for a series), or CSV. */
int
print_attendance(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	static const struct output_column cols[] = {
		{ "ID", 0, 1 }, { "NAME", 30, 0 }, { "EMAIL", 40, 0 },
		{ "ORGANIZATION", 30, 0 }, { "OCCURRENCE", 0, 0 },
		{ "STATE", 0, 0 }, { "MINUTES", 0, 1 }, { "SOURCE", 0, 0 },
	};
	static const size_t map[] = { 0, 1, 2, 3, 10, 5, 6, 7 };
	static const struct output_column scols[] = {
		{ "ID", 0, 1 }, { "NAME", 30, 0 }, { "EMAIL", 40, 0 },
		{ "ORGANIZATION", 30, 0 }, { "STATE", 0, 0 },
		{ "MINUTES", 0, 1 }, { "SOURCE", 0, 0 },
	};
	static const size_t smap[] = { 0, 1, 2, 3, 5, 6, 7 };
	struct print_report	 rp = { print_attendance_fields,
	    sizeof print_attendance_fields / sizeof print_attendance_fields[0],
	    scols, smap, 7, print_attendance_fill, NULL };
	const json_t		*a;
	size_t			 i;

	if (print_want_array(r, err, errlen) == -1)
		return -1;
	json_array_foreach(r, i, a) {
		if (json_is_string(json_object_get(a, "occurrence"))) {
			rp.cols = cols;
			rp.map = map;
			rp.ncols = 8;
			break;
		}
	}
	return print_report(call, &rp, r, NULL, out, err, errlen);
}

/* attendance import: the counts, unknown emails, bad rows, completions. */
int
print_attendance_import(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	const json_t	*errors, *unknown, *dup, *u;
	char		 a[PRINT_CELL], b[PRINT_CELL], line[PRINT_LINE],
			 m[512];
	size_t		 i, nu, ne;

	if (print_want_object(r, err, errlen) == -1)
		return -1;
	unknown = json_object_get(r, "unknown");
	errors = json_object_get(r, "errors");
	dup = json_object_get(r, "duplicates");
	nu = json_array_size(unknown);
	ne = json_array_size(errors);
	snprintf(line, sizeof line, "attended %s, absent %s",
	    print_s(r, "attended", a, sizeof a),
	    print_s(r, "absent", b, sizeof b));
	if (nu > 0)
		print_append(line, sizeof line, ", unknown %zu", nu);
	if (ne > 0)
		print_append(line, sizeof line, ", skipped %zu row%s", ne,
		    ne == 1 ? "" : "s");
	output_line(out, "%s", line);
	if (json_is_integer(dup) && json_integer_value(dup) > 0)
		output_line(out, "%lld row%s added to an earlier row of the "
		    "same email (people who joined again)",
		    (long long)json_integer_value(dup),
		    json_integer_value(dup) == 1 ? "" : "s");
	json_array_foreach(unknown, i, u)
		output_line(out, "unknown: %s (no such person; not marked)",
		    output_text(u, m, sizeof m));
	print_import_errors(call, errors, out);
	print_completions_made(r, out);
	return 0;
}

/* course complete: the new completions and who had one already. */
int
print_course_complete(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	const json_t	*c;
	char		 a[PRINT_CELL], b[512], d[PRINT_CELL];
	size_t		 i;

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	output_line(out, "completed %zu, already completed %zu",
	    print_count(r, "completed"), print_count(r, "already"));
	json_array_foreach(json_object_get(r, "completed"), i, c)
		print_completion_line(out, "completed: ", c);
	json_array_foreach(json_object_get(r, "already"), i, c)
		output_line(out, "already completed: %s (id %s), register "
		    "no %s", print_s(c, "email", b, sizeof b),
		    print_s(c, "id", a, sizeof a),
		    print_s(c, "register_no", d, sizeof d));
	return 0;
}

/* training record: "completion 12 recorded: register no ...". */
int
print_training_record(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	char	a[PRINT_CELL], prefix[2 * PRINT_CELL];

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	snprintf(prefix, sizeof prefix, "completion %s recorded: ",
	    print_s(r, "id", a, sizeof a));
	print_completion_line(out, prefix, r);
	return 0;
}

/* training import: the counts and the skipped lines. */
int
print_training_import(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	const json_t	*errors;
	char		 a[PRINT_CELL], b[PRINT_CELL], line[PRINT_LINE];

	if (print_want_object(r, err, errlen) == -1)
		return -1;
	errors = json_object_get(r, "errors");
	snprintf(line, sizeof line, "recorded %s, duplicates %s",
	    print_s(r, "recorded", a, sizeof a),
	    print_s(r, "duplicates", b, sizeof b));
	if (json_array_size(errors) > 0)
		print_append(line, sizeof line, ", skipped %zu",
		    json_array_size(errors));
	output_line(out, "%s", line);
	print_import_errors(call, errors, out);
	return 0;
}

static const struct print_field print_completion_fields[] = {
	{ "id", CSVOUT_NUMBER }, { "register_no", CSVOUT_TEXT },
	{ "completed_on", CSVOUT_TEXT }, { "person_id", CSVOUT_NUMBER },
	{ "name", CSVOUT_TEXT }, { "email", CSVOUT_TEXT },
	{ "organization", CSVOUT_TEXT }, { "course", CSVOUT_NUMBER },
	{ "title", CSVOUT_TEXT }, { "provider", CSVOUT_TEXT },
	{ "hours", CSVOUT_NUMBER },
	{ "counts_for_recertification", CSVOUT_TEXT },
	{ "source", CSVOUT_TEXT }, { "entered_by", CSVOUT_NUMBER },
	{ "entered_at", CSVOUT_TEXT },
};

static void
print_completion_fill(const json_t *c, const void *ctx, const char **cells,
    char (*buf)[PRINT_CELL])
{
	const json_t	*p = json_object_get(c, "person");

	(void)ctx;
	cells[0] = print_v(c, "id", buf[0], PRINT_CELL);
	cells[1] = print_v(c, "register_no", buf[1], PRINT_CELL);
	cells[2] = print_v(c, "completed_on", buf[2], PRINT_CELL);
	cells[3] = print_v(p, "id", buf[3], PRINT_CELL);
	cells[4] = print_v(c, "name", buf[4], PRINT_CELL);
	cells[5] = print_v(p, "email", buf[5], PRINT_CELL);
	cells[6] = print_v(c, "organization", buf[6], PRINT_CELL);
	cells[7] = print_v(c, "course", buf[7], PRINT_CELL);
	cells[8] = print_v(c, "title", buf[8], PRINT_CELL);
	cells[9] = print_v(c, "provider", buf[9], PRINT_CELL);
	cells[10] = print_hours(c, "hours", buf[10], PRINT_CELL);
	cells[11] = print_v(c, "counts_for_recertification", buf[11],
	    PRINT_CELL);
	cells[12] = print_v(c, "source", buf[12], PRINT_CELL);
	cells[13] = print_v(c, "entered_by", buf[13], PRINT_CELL);
	cells[14] = print_v(c, "entered_at", buf[14], PRINT_CELL);
}

/* completions: the certificate register as a table, or CSV. */
int
print_completions(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	static const struct output_column cols[] = {
		{ "ID", 0, 1 }, { "REGISTER NO", 0, 0 },
		{ "COMPLETED", 0, 0 }, { "NAME", 30, 0 },
		{ "ORGANIZATION", 25, 0 }, { "TITLE", 40, 0 },
		{ "PROVIDER", 25, 0 }, { "HOURS", 0, 1 }, { "COUNTS", 0, 0 },
	};
	static const size_t map[] = { 0, 1, 2, 4, 6, 8, 9, 10, 11 };
	static const struct print_report rp = { print_completion_fields,
	    sizeof print_completion_fields / sizeof print_completion_fields[0],
	    cols, map, 9, print_completion_fill, NULL };

	if (print_want_array(r, err, errlen) == -1)
		return -1;
	return print_report(call, &rp, r, NULL, out, err, errlen);
}

/* completion rm: one confirming line. */
int
print_completion_removed(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	const json_t	*c;
	char		 a[PRINT_CELL], prefix[2 * PRINT_CELL];

	if (print_want_object(r, err, errlen) == -1)
		return -1;
	c = json_object_get(r, "removed");
	if (!json_is_object(c)) {
		output_line(out, "completion %s removed", print_s(call->args,
		    "id", a, sizeof a));
		return 0;
	}
	snprintf(prefix, sizeof prefix, "completion %s removed: ",
	    print_s(c, "id", a, sizeof a));
	print_completion_line(out, prefix, c);
	return 0;
}

/* "School No. 5, " when the call has --organization, else "". */
static void
print_org_prefix(const struct cmd_call *call, char *buf, size_t len)
{
	const json_t	*org = json_object_get(call->args, "organization");

	if (json_is_string(org))
		snprintf(buf, len, "%s, ", json_string_value(org));
	else if (len > 0)
		buf[0] = '\0';
}

/* The integer obj.key, or 0 when it is not one. */
static json_int_t
print_int(const json_t *obj, const char *key)
{
	const json_t	*v = json_object_get(obj, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static const struct print_field print_due_fields[] = {
	{ "id", CSVOUT_NUMBER }, { "name", CSVOUT_TEXT },
	{ "email", CSVOUT_TEXT }, { "organization", CSVOUT_TEXT },
	{ "position", CSVOUT_TEXT }, { "status", CSVOUT_TEXT },
	{ "last_completed_on", CSVOUT_TEXT }, { "last_title", CSVOUT_TEXT },
	{ "last_register_no", CSVOUT_TEXT }, { "due", CSVOUT_TEXT },
	{ "days_left", CSVOUT_NUMBER },
};

static void
print_due_fill(const json_t *p, const void *ctx, const char **cells,
    char (*buf)[PRINT_CELL])
{
	static const char *const keys[] = { "id", "name", "email",
	    "organization", "position", "status", "last_completed_on",
	    "last_title", "last_register_no", "due", "days_left" };
	size_t	i;

	(void)ctx;
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		cells[i] = print_v(p, keys[i], buf[i], PRINT_CELL);
}

/*
 * report due: the summary ("170 of 267 teachers trained, 63.6 %" and the
 * count of each status), then who, most urgent first; or CSV.
 */
int
print_report_due(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	static const struct output_column cols[] = {
		{ "ID", 0, 1 }, { "NAME", 30, 0 }, { "ORGANIZATION", 30, 0 },
		{ "STATUS", 0, 0 }, { "LAST COMPLETED", 0, 0 },
		{ "DUE", 0, 0 }, { "DAYS LEFT", 0, 1 },
	};
	static const size_t map[] = { 0, 1, 3, 5, 6, 9, 10 };
	static const struct print_report rp = { print_due_fields,
	    sizeof print_due_fields / sizeof print_due_fields[0],
	    cols, map, 7, print_due_fill, NULL };
	const json_t	*sum, *people;
	json_int_t	 total, trained;
	char		 a[PRINT_CELL], b[PRINT_CELL], c[PRINT_CELL],
			 d[1024], pc[PRINT_CELL];

	if (print_want_object(r, err, errlen) == -1)
		return -1;
	people = json_object_get(r, "people");
	if (print_want_array(people, err, errlen) == -1)
		return -1;
	if (call->csv)
		return print_report(call, &rp, people, NULL, out, err,
		    errlen);
	sum = json_object_get(r, "summary");
	total = print_int(sum, "total");
	trained = print_int(sum, "ok") + print_int(sum, "due_soon");
	print_org_prefix(call, d, sizeof d);
	output_line(out, "%sas of %s (cycle %s): %lld of %lld teachers "
	    "trained, %s %%", d, print_s(r, "as_of", a, sizeof a),
	    print_s(r, "cycle", b, sizeof b), (long long)trained,
	    (long long)total, print_share(trained, total, pc, sizeof pc));
	output_line(out, "ok %lld, due soon %lld (within %s days), overdue "
	    "%lld, never trained %lld", (long long)print_int(sum, "ok"),
	    (long long)print_int(sum, "due_soon"),
	    print_s(r, "due_soon_days", c, sizeof c),
	    (long long)print_int(sum, "overdue"),
	    (long long)print_int(sum, "never"));
	fputs("\n", out);
	if (print_report(call, &rp, people, NULL, out, err, errlen) == -1)
		return -1;
	if (print_int(r, "more") > 0)
		output_line(out, "... and %lld more (--limit N, or --csv for "
		    "everyone)", (long long)print_int(r, "more"));
	return 0;
}

/* What a coverage row is filled with. */
struct print_coverage {
	const json_t	*total;		/* the closing row */
	const char	*none;		/* the label of the group null */
};

static const struct print_field print_coverage_fields[] = {
	{ "group", CSVOUT_TEXT }, { "trained", CSVOUT_NUMBER },
	{ "total", CSVOUT_NUMBER }, { "percent", CSVOUT_NUMBER },
	{ "hours", CSVOUT_NUMBER },
	{ NULL, CSVOUT_TEXT },		/* 5: "87/267" */
	{ NULL, CSVOUT_TEXT },		/* 6: "32.5 %" */
	{ NULL, CSVOUT_TEXT },		/* 7: the bar */
};

static void
print_coverage_fill(const json_t *g, const void *ctx, const char **cells,
    char (*buf)[PRINT_CELL])
{
	const struct print_coverage	*cv = ctx;
	const json_t			*pc;

	if (g == cv->total)
		cells[0] = "TOTAL";
	else if ((cells[0] = print_v(g, "group", buf[0], PRINT_CELL)) ==
	    NULL)
		cells[0] = cv->none;
	cells[1] = print_v(g, "trained", buf[1], PRINT_CELL);
	cells[2] = print_v(g, "total", buf[2], PRINT_CELL);
	pc = json_object_get(g, "percent");
	cells[3] = print_percent(pc, buf[3], PRINT_CELL);
	cells[4] = print_hours(g, "hours", buf[4], PRINT_CELL);
	snprintf(buf[5], PRINT_CELL, "%s/%s", cells[1] != NULL ? cells[1] :
	    "-", cells[2] != NULL ? cells[2] : "-");
	cells[5] = buf[5];
	if (cells[3] != NULL) {
		snprintf(buf[6], PRINT_CELL, "%s %%", cells[3]);
		cells[6] = buf[6];
	}
	cells[7] = print_bar(pc, buf[7], PRINT_CELL);
}

/*
 * report coverage: "87 of 267 teachers trained, 32.5 %" for the whole,
 * then a row per group, the weakest first, each with a bar; or CSV.
 */
int
print_report_coverage(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	struct output_column	 cols[] = {
		{ "GROUP", 40, 0 }, { "TRAINED", 0, 1 }, { "PERCENT", 0, 1 },
		{ "HOURS", 0, 1 }, { PRINT_BAR_SCALE, 0, 0 },
	};
	static const size_t	 map[] = { 0, 5, 6, 4, 7 };
	struct print_coverage	 cv;
	struct print_report	 rp = { print_coverage_fields,
	    sizeof print_coverage_fields / sizeof print_coverage_fields[0],
	    cols, map, 5, print_coverage_fill, &cv };
	const json_t		*groups, *total;
	const char		*by;
	char			 a[PRINT_CELL], b[PRINT_CELL], c[PRINT_CELL],
				 d[PRINT_CELL], e[PRINT_CELL], org[1024];

	if (print_want_object(r, err, errlen) == -1)
		return -1;
	groups = json_object_get(r, "groups");
	total = json_object_get(r, "total");
	if (print_want_array(groups, err, errlen) == -1)
		return -1;
	by = json_string_value(json_object_get(r, "by"));
	cv.total = json_is_object(total) ? total : NULL;
	if (by != NULL && strcmp(by, "organization") == 0) {
		cols[0].header = "ORGANIZATION";
		cv.none = "(no organization)";
	} else if (by != NULL && strcmp(by, "position") == 0) {
		cols[0].header = "POSITION";
		cv.none = "(no position)";
	} else {
		cols[0].header = "GROUP";
		cv.none = "(all)";
	}
	/* Without a grouping the one group is the total. */
	if (by == NULL && cv.total != NULL)
		groups = NULL;
	if (call->csv)
		return print_report(call, &rp, groups, cv.total, out, err,
		    errlen);
	print_org_prefix(call, org, sizeof org);
	if (cv.total != NULL) {
		output_line(out, "%s%s to %s: %s of %s teachers trained, %s %%",
		    org, print_s(r, "from", a, sizeof a),
		    print_s(r, "to", b, sizeof b),
		    print_s(total, "trained", c, sizeof c),
		    print_s(total, "total", d, sizeof d),
		    print_percent(json_object_get(total, "percent"), e,
		    sizeof e) != NULL ? e : "-");
		fputs("\n", out);
	}
	return print_report(call, &rp, groups, cv.total, out, err, errlen);
}

/* What an hours row is filled with. */
struct print_hours_ctx {
	const json_t	*total;		/* the closing row (table only) */
};

static const struct print_field print_hours_person_fields[] = {
	{ "person_id", CSVOUT_NUMBER }, { "name", CSVOUT_TEXT },
	{ "email", CSVOUT_TEXT }, { "organization", CSVOUT_TEXT },
	{ "sessions", CSVOUT_NUMBER }, { "courses", CSVOUT_NUMBER },
	{ "external", CSVOUT_NUMBER }, { "total", CSVOUT_NUMBER },
};

static const struct print_field print_hours_org_fields[] = {
	{ "organization", CSVOUT_TEXT }, { "people", CSVOUT_NUMBER },
	{ "sessions", CSVOUT_NUMBER }, { "courses", CSVOUT_NUMBER },
	{ "external", CSVOUT_NUMBER }, { "total", CSVOUT_NUMBER },
};

/* The kinds of hours of a row, the fields from first on. */
static void
print_hours_fill_hours(const json_t *row, const char **cells,
    char (*buf)[PRINT_CELL], size_t first)
{
	static const char *const keys[] = { "sessions", "courses",
	    "external", "total" };
	size_t	i;

	for (i = 0; i < 4; i++)
		cells[first + i] = print_hours(row, keys[i], buf[first + i],
		    PRINT_CELL);
}

static void
print_hours_person_fill(const json_t *row, const void *ctx,
    const char **cells, char (*buf)[PRINT_CELL])
{
	const struct print_hours_ctx	*hc = ctx;
	const json_t			*p = json_object_get(row, "person");

	if (row == hc->total) {
		cells[0] = cells[2] = cells[3] = "";
		cells[1] = "TOTAL";
	} else {
		cells[0] = print_v(p, "id", buf[0], PRINT_CELL);
		cells[1] = print_v(row, "name", buf[1], PRINT_CELL);
		cells[2] = print_v(p, "email", buf[2], PRINT_CELL);
		cells[3] = print_v(row, "organization", buf[3], PRINT_CELL);
	}
	print_hours_fill_hours(row, cells, buf, 4);
}

static void
print_hours_org_fill(const json_t *row, const void *ctx, const char **cells,
    char (*buf)[PRINT_CELL])
{
	const struct print_hours_ctx	*hc = ctx;

	if (row == hc->total)
		cells[0] = "TOTAL";
	else if ((cells[0] = print_v(row, "organization", buf[0],
	    PRINT_CELL)) == NULL)
		cells[0] = "(no organization)";
	cells[1] = print_v(row, "people", buf[1], PRINT_CELL);
	print_hours_fill_hours(row, cells, buf, 2);
}

/* The sums of the hours (and people) of rows, a new object; NULL if none. */
static json_t *
print_hours_total(const json_t *rows)
{
	static const char *const keys[] = { "sessions", "courses",
	    "external", "total" };
	const json_t	*row;
	json_t		*t;
	double		 sum[4] = { 0, 0, 0, 0 };
	json_int_t	 people = 0;
	size_t		 i, k;

	json_array_foreach(rows, i, row) {
		for (k = 0; k < 4; k++)
			sum[k] += json_number_value(json_object_get(row,
			    keys[k]));
		people += print_int(row, "people");
	}
	if ((t = json_object()) == NULL)
		return NULL;
	for (k = 0; k < 4; k++)
		if (json_object_set_new(t, keys[k], json_real(sum[k])) == -1)
			goto fail;
	if (json_object_set_new(t, "people", json_integer(people)) == -1)
		goto fail;
	return t;
fail:
	json_decref(t);
	return NULL;
}

/*
 * report hours: a row per person (or organization), the most hours
 * first, and their total; or CSV (without the total).
 */
int
print_report_hours(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	static const struct output_column pcols[] = {
		{ "ID", 0, 1 }, { "NAME", 30, 0 }, { "EMAIL", 40, 0 },
		{ "ORGANIZATION", 30, 0 }, { "SESSIONS", 0, 1 },
		{ "COURSES", 0, 1 }, { "EXTERNAL", 0, 1 }, { "TOTAL", 0, 1 },
	};
	static const size_t pmap[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const struct output_column ocols[] = {
		{ "ORGANIZATION", 40, 0 }, { "PEOPLE", 0, 1 },
		{ "SESSIONS", 0, 1 }, { "COURSES", 0, 1 },
		{ "EXTERNAL", 0, 1 }, { "TOTAL", 0, 1 },
	};
	static const size_t omap[] = { 0, 1, 2, 3, 4, 5 };
	struct print_hours_ctx	 hc = { NULL };
	struct print_report	 rp = { print_hours_person_fields,
	    sizeof print_hours_person_fields /
	    sizeof print_hours_person_fields[0],
	    pcols, pmap, 8, print_hours_person_fill, &hc };
	const json_t		*rows;
	const char		*by;
	json_t			*total = NULL;
	char			 a[PRINT_CELL], b[PRINT_CELL], org[1024];
	int			 rc;

	if (print_want_object(r, err, errlen) == -1)
		return -1;
	rows = json_object_get(r, "rows");
	if (print_want_array(rows, err, errlen) == -1)
		return -1;
	by = json_string_value(json_object_get(r, "by"));
	if (by != NULL && strcmp(by, "organization") == 0) {
		rp.fields = print_hours_org_fields;
		rp.nfields = sizeof print_hours_org_fields /
		    sizeof print_hours_org_fields[0];
		rp.cols = ocols;
		rp.map = omap;
		rp.ncols = 6;
		rp.fill = print_hours_org_fill;
	}
	if (call->csv)
		return print_report(call, &rp, rows, NULL, out, err, errlen);
	print_org_prefix(call, org, sizeof org);
	output_line(out, "%shours of training from %s to %s", org,
	    print_s(r, "from", a, sizeof a), print_s(r, "to", b, sizeof b));
	fputs("\n", out);
	if (json_array_size(rows) > 1 &&
	    (total = print_hours_total(rows)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	hc.total = total;
	rc = print_report(call, &rp, rows, total, out, err, errlen);
	json_decref(total);
	return rc;
}

/* outbox ls: a table. */
int
print_outbox(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	static const struct output_column cols[] = {
		{ "ID", 0, 1 }, { "STATE", 0, 0 }, { "KIND", 0, 0 },
		{ "TO", 40, 0 }, { "SESSION", 0, 1 }, { "ATTEMPTS", 0, 1 },
		{ "NEXT", 0, 0 }, { "LAST-REPLY", 50, 0 },
	};
	struct output_table	*t;
	const json_t		*m;
	const char		*cells[8], *zone;
	char			 buf[8][PRINT_CELL], reply[1024];
	size_t			 i;
	int			 failed = 0;

	(void)call;
	if (print_want_array(r, err, errlen) == -1)
		return -1;
	zone = tz_system_zone();
	t = output_table_new(cols, 8);
	json_array_foreach(r, i, m) {
		if (t == NULL)
			break;
		cells[0] = print_s(m, "id", buf[0], sizeof buf[0]);
		cells[1] = print_s(m, "state", buf[1], sizeof buf[1]);
		cells[2] = print_s(m, "kind", buf[2], sizeof buf[2]);
		cells[3] = print_s(m, "to", buf[3], sizeof buf[3]);
		cells[4] = print_s(m, "session", buf[4], sizeof buf[4]);
		cells[5] = print_s(m, "attempts", buf[5], sizeof buf[5]);
		cells[6] = print_time(m, "next_attempt", zone, buf[6],
		    sizeof buf[6]);
		cells[7] = print_s(m, "last_reply", reply, sizeof reply);
		failed |= output_table_add(t, cells) == -1;
	}
	return print_table(t, failed, out, err, errlen);
}

/* outbox retry: how many messages are queued again. */
int
print_outbox_retry(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	json_int_t	n;

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	n = json_integer_value(json_object_get(r, "requeued"));
	output_line(out, "%lld message%s queued again", (long long)n,
	    n == 1 ? "" : "s");
	return 0;
}

/* 1 if call's command has an option named name. */
static int
print_has_option(const struct cmd_call *call, const char *name)
{
	const struct args_option	*o;

	for (o = call->entry->options; o->name != NULL; o++) {
		if (strcmp(o->name, name) == 0)
			return 1;
	}
	return 0;
}

/* The daemon's refusal as "lectern: command: message" lines. */
void
print_refusal(const struct cmd_call *call, const json_t *error, FILE *out)
{
	const json_t	*errors, *field;
	char		 msg[2048], f[PRINT_CELL];
	size_t		 n;

	errors = json_object_get(error, "errors");
	n = json_array_size(errors);
	if (call->file != NULL && n > 0) {
		print_import_errors(call, errors, out);
		output_line(out, "lectern: %s: %zu invalid row%s, nothing was "
		    "imported%s", call->entry->name, n, n == 1 ? "" : "s",
		    print_has_option(call, "partial") ?
		    " (--partial imports the valid rows)" : "");
		return;
	}
	field = json_object_get(error, "field");
	if (json_is_string(field))
		output_line(out, "lectern: %s: %s (field: %s)",
		    call->entry->name, print_s(error, "message", msg,
		    sizeof msg), output_text(field, f, sizeof f));
	else
		output_line(out, "lectern: %s: %s", call->entry->name,
		    print_s(error, "message", msg, sizeof msg));
}
