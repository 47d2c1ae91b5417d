/*
 * print.c -- human output for each command's result.
 *
 * The result comes from the daemon and is treated as outside input: every
 * member is looked up with its type checked (a missing or odd value shows
 * as "-"), and every string goes out through output.c, which scrubs
 * control characters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lectern.h"
#include "duration.h"
#include "tz.h"
#include "output.h"
#include "print.h"

/* Room for one rendered scalar (ids, counts, times). */
#define PRINT_CELL	128
/* Width of the key column in "key: value" output. */
#define PRINT_KEYW	12

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
	const json_t	*ob, *up, *tz;
	char		 a[PRINT_CELL], b[PRINT_CELL], c[PRINT_CELL],
			 d[PRINT_CELL], line[4 * PRINT_CELL];

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
	snprintf(line, sizeof line, "%s (protocol %s)",
	    print_s(r, "version", a, sizeof a),
	    print_s(r, "protocol", b, sizeof b));
	output_kv(out, PRINT_KEYW, "version", line);
	up = json_object_get(r, "uptime_s");
	if (json_is_integer(up) && json_integer_value(up) >= 0)
		duration_format(json_integer_value(up), a, sizeof a);
	else
		output_text(up, a, sizeof a);
	output_kv(out, PRINT_KEYW, "uptime", a);
	output_kv(out, PRINT_KEYW, "time zone", print_s(r, "timezone", a,
	    sizeof a));
	output_kv(out, PRINT_KEYW, "people", print_s(r, "people", a, sizeof a));
	output_kv(out, PRINT_KEYW, "groups", print_s(r, "groups", a, sizeof a));
	output_kv(out, PRINT_KEYW, "sessions", print_s(r, "sessions", a,
	    sizeof a));
	output_kv(out, PRINT_KEYW, "courses", print_s(r, "courses", a,
	    sizeof a));
	ob = json_object_get(r, "outbox");
	snprintf(line, sizeof line, "%s queued, %s sent, %s failed, %s expired",
	    print_s(ob, "queued", a, sizeof a),
	    print_s(ob, "sent", b, sizeof b),
	    print_s(ob, "failed", c, sizeof c),
	    print_s(ob, "expired", d, sizeof d));
	output_kv(out, PRINT_KEYW, "outbox", line);
	tz = json_object_get(r, "timezone");
	output_kv(out, PRINT_KEYW, "next due", print_time(r, "next_due",
	    json_is_string(tz) ? json_string_value(tz) : "UTC", a, sizeof a));
	output_kv(out, PRINT_KEYW, "clients", print_s(r, "clients", a,
	    sizeof a));
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

/* Each {line, message} of errors as "FILE:LINE: message". */
static void
print_import_errors(const struct cmd_call *call, const json_t *errors,
    FILE *out)
{
	const json_t	*e;
	char		 a[PRINT_CELL], b[1024];
	size_t		 i;

	json_array_foreach(errors, i, e)
		output_line(out, "%s:%s: %s",
		    call->file != NULL ? call->file : "csv",
		    print_s(e, "line", a, sizeof a),
		    print_s(e, "message", b, sizeof b));
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

/* session update: one confirming line. */
int
print_session_updated(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	(void)call;
	return print_session_line(r, "updated", out, err, errlen);
}

/* session cancel: one confirming line. */
int
print_session_cancelled(const struct cmd_call *call, const json_t *r,
    FILE *out, char *err, size_t errlen)
{
	(void)call;
	return print_session_line(r, "cancelled", out, err, errlen);
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

/* session show: key: value lines and the enrollments. */
int
print_session(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	static const struct output_column cols[] = {
		{ "ID", 0, 1 }, { "NAME", 30, 0 }, { "EMAIL", 40, 0 },
		{ "STATE", 0, 0 }, { "WAIT", 0, 1 }, { "RSVP", 0, 0 },
		{ "ATTENDANCE", 0, 0 },
	};
	static const char *const ekeys[] = { "person", "name", "email",
	    "state", "position", "rsvp", "attendance" };
	struct output_table	*t;
	const json_t		*en, *e, *cap;
	const char		*zone, *cells[7];
	char			 a[PRINT_CELL], buf[7][PRINT_CELL],
			 text[4096];
	size_t			 i, k;
	int			 failed = 0;

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
	cap = json_object_get(r, "capacity");
	output_kv(out, PRINT_KEYW, "capacity", json_is_integer(cap) &&
	    json_integer_value(cap) == 0 ? "unlimited" :
	    output_text(cap, a, sizeof a));
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
	en = json_object_get(r, "enrollments");
	if (!json_is_array(en) || json_array_size(en) == 0)
		return 0;
	fputs("\n", out);
	t = output_table_new(cols, 7);
	json_array_foreach(en, i, e) {
		if (t == NULL)
			break;
		for (k = 0; k < 7; k++)
			cells[k] = print_s(e, ekeys[k], buf[k], sizeof buf[k]);
		failed |= output_table_add(t, cells) == -1;
	}
	return print_table(t, failed, out, err, errlen);
}

/* session ls: a table with local start times. */
int
print_sessions(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	static const struct output_column cols[] = {
		{ "ID", 0, 1 }, { "START", 0, 0 }, { "TZ", 0, 0 },
		{ "DURATION", 0, 1 }, { "KIND", 0, 0 }, { "TITLE", 50, 0 },
		{ "ENROLLED", 0, 1 }, { "STATUS", 0, 0 },
	};
	struct output_table	*t;
	const json_t		*s;
	const char		*cells[8];
	char			 buf[8][PRINT_CELL];
	size_t			 i;
	int			 failed = 0;

	(void)call;
	if (print_want_array(r, err, errlen) == -1)
		return -1;
	t = output_table_new(cols, 8);
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

/* enroll: the counts and who is waitlisted. */
int
print_enroll(const struct cmd_call *call, const json_t *r, FILE *out,
    char *err, size_t errlen)
{
	const json_t	*p;
	size_t		 i;

	(void)call;
	if (print_want_object(r, err, errlen) == -1)
		return -1;
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
		    "imported (--partial imports the valid rows)",
		    call->entry->name, n, n == 1 ? "" : "s");
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
