/*
 * commands.c -- the command table and its handlers.
 *
 * commands_execute decodes the envelope (request.c), finds the command in
 * the table, checks the argument names and JSON types against the entry's
 * argument list, and runs the handler. A state-changing command runs inside
 * one store transaction together with its audit row; when it fails, the
 * transaction is rolled back and the refusal is audited in a small
 * transaction of its own. Handlers validate values (valid.h, tz.h) and talk
 * to the store only through store.h.
 */
#include <sys/random.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libical/ical.h>

#include "clock.h"
#include "commands.h"
#include "config.h"
#include "csvimport.h"
#include "delivery.h"
#include "lectern.h"
#include "log.h"
#include "notices.h"
#include "notify.h"
#include "offload.h"
#include "proto.h"
#include "recert.h"
#include "remind.h"
#include "request.h"
#include "series.h"
#include "server.h"
#include "store.h"
#include "tz.h"
#include "valid.h"

/* Argument types (any combination) and flags. */
#define COMMANDS_A_STRING	0x01
#define COMMANDS_A_INT		0x02
#define COMMANDS_A_BOOL		0x04
#define COMMANDS_A_ARRAY	0x08
#define COMMANDS_A_NULL		0x10	/* null is accepted (clears) */
#define COMMANDS_A_REQUIRED	0x20
#define COMMANDS_A_PERSON	(COMMANDS_A_STRING | COMMANDS_A_INT)
#define COMMANDS_A_NUMBER	0x40	/* an integer or a real */

/* Strings longer than this are abridged in the audit table. */
#define COMMANDS_AUDIT_STRING_MAX	4096
#define COMMANDS_CAPACITY_MAX		1000000
#define COMMANDS_REMINDER_MAX		525600	/* minutes: one year */
#define COMMANDS_RRULE_MAX		500
#define COMMANDS_HOURS_MAX		10000
#define COMMANDS_ICAL_MAX		(256 * 1024)	/* a REPLY's text */
#define COMMANDS_UID_MAX		255
#define COMMANDS_EXPAND_DAYS		90	/* session.list expand window */
/*
 * People listed by report.recertification unless limit says otherwise:
 * a list of 100,000 (28 MB of JSON) takes seconds to build and no one
 * reads it in a terminal; the summary always counts everyone.
 */
#define COMMANDS_RECERT_LIMIT		1000
#define COMMANDS_EXPAND_MAX_DAYS	366

struct commands_arg {
	const char	*name;
	unsigned	 flags;
};

struct commands_ctx {
	int64_t		 now;
	int64_t		 uid;		/* the peer's: entered_by of CPD records */
	char		 err[1024];
	const char	*field;
	json_t		*extra;		/* merged into the error object */
};

typedef enum lectern_error (*commands_fn)(struct commands_ctx *, json_t *,
    json_t **);

struct commands_entry {
	const char			*name;
	commands_fn			 fn;
	int				 write;
	const struct commands_arg	*args;
};

static const struct config	*commands_cfg;
static struct timespec		 commands_started;

static enum lectern_error commands_error(struct commands_ctx *,
    enum lectern_error, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static enum lectern_error
commands_error(struct commands_ctx *ctx, enum lectern_error code,
    const char *field, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
	va_end(ap);
	ctx->field = field;
	return code;
}

/* A store error: keep its sentence, name the field it concerns. */
static enum lectern_error
commands_store(struct commands_ctx *ctx, enum lectern_error code,
    const char *field)
{
	if (code != LECTERN_OK && code != LECTERN_E_INTERNAL &&
	    code != LECTERN_E_BUSY)
		ctx->field = field;
	return code;
}

/* A validator already wrote its sentence into ctx->err: name the field. */
static enum lectern_error
commands_field(struct commands_ctx *ctx, enum lectern_error code,
    const char *field)
{
	ctx->field = field;
	return code;
}

static void
commands_set(json_t *o, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		log_fatal("commands: out of memory");
}

static void
commands_append(json_t *a, json_t *v)
{
	if (v == NULL || json_array_append_new(a, v) != 0)
		log_fatal("commands: out of memory");
}

static json_t *
commands_object(void)
{
	json_t	*o;

	if ((o = json_object()) == NULL)
		log_fatal("commands: out of memory");
	return o;
}

static json_t *
commands_array(void)
{
	json_t	*a;

	if ((a = json_array()) == NULL)
		log_fatal("commands: out of memory");
	return a;
}

/* The string value of args[key], or NULL when absent or null. */
static const char *
commands_str(json_t *args, const char *key)
{
	return json_string_value(json_object_get(args, key));
}

static int
commands_has(json_t *args, const char *key)
{
	return json_object_get(args, key) != NULL;
}

static const char *
commands_type_name(unsigned flags)
{
	switch (flags & (COMMANDS_A_STRING | COMMANDS_A_INT |
	    COMMANDS_A_BOOL | COMMANDS_A_ARRAY)) {
	case COMMANDS_A_STRING:
		return "a string";
	case COMMANDS_A_INT:
		return "an integer";
	case COMMANDS_A_BOOL:
		return "true or false";
	case COMMANDS_A_ARRAY:
		return "an array";
	case COMMANDS_A_PERSON:
		return "a person's id (integer) or email (string)";
	case COMMANDS_A_STRING | COMMANDS_A_ARRAY:
		return "a string or an array of strings";
	default:
		if (flags & COMMANDS_A_NUMBER)
			return "a number";
		return "of another type";
	}
}

/*
 * Check names, JSON types and presence of the arguments against the
 * entry's list: a typo must not be ignored, so unknown names are refused.
 */
static enum lectern_error
commands_check_args(const struct commands_entry *e, json_t *args,
    struct commands_ctx *ctx)
{
	const struct commands_arg	*a;
	const char			*key;
	json_t				*v;
	int				 ok;

	json_object_foreach(args, key, v) {
		for (a = e->args; a != NULL && a->name != NULL; a++) {
			if (strcmp(a->name, key) == 0)
				break;
		}
		if (a == NULL || a->name == NULL)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    key, "%.100s: %s takes no such argument", key,
			    e->name);
		ok = 0;
		if (json_is_null(v))
			ok = (a->flags & COMMANDS_A_NULL) != 0;
		else if (json_is_string(v))
			ok = (a->flags & COMMANDS_A_STRING) != 0;
		else if (json_is_integer(v))
			ok = (a->flags & (COMMANDS_A_INT | COMMANDS_A_NUMBER)) != 0;
		else if (json_is_real(v))
			ok = (a->flags & COMMANDS_A_NUMBER) != 0;
		else if (json_is_boolean(v))
			ok = (a->flags & COMMANDS_A_BOOL) != 0;
		else if (json_is_array(v))
			ok = (a->flags & COMMANDS_A_ARRAY) != 0;
		if (!ok)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    a->name, "%s: must be %s%s", a->name,
			    commands_type_name(a->flags),
			    json_is_null(v) ? ", not null" : "");
	}
	for (a = e->args; a != NULL && a->name != NULL; a++) {
		if ((a->flags & COMMANDS_A_REQUIRED) &&
		    json_object_get(args, a->name) == NULL)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    a->name, "%s: is required", a->name);
	}
	return LECTERN_OK;
}

/* A positive integer id in args[key] (type already checked). */
static enum lectern_error
commands_id(struct commands_ctx *ctx, json_t *args, const char *key,
    int64_t *id)
{
	json_int_t	 v;

	v = json_integer_value(json_object_get(args, key));
	if (v <= 0)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, key,
		    "%s: must be a positive integer id", key);
	*id = (int64_t)v;
	return LECTERN_OK;
}

static enum lectern_error
commands_limit(struct commands_ctx *ctx, json_t *args, int64_t def,
    int64_t max, int64_t *limit)
{
	json_t	*v;

	*limit = def;
	if ((v = json_object_get(args, "limit")) == NULL)
		return LECTERN_OK;
	if (json_integer_value(v) < 1 || json_integer_value(v) > max)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "limit",
		    "limit: must be an integer from 1 to %" PRId64, max);
	*limit = json_integer_value(v);
	return LECTERN_OK;
}

/* Validate an optional text argument (absent or null passes). */
static enum lectern_error
commands_text(struct commands_ctx *ctx, json_t *args, const char *key,
    size_t max, int multiline)
{
	const char	*s;

	if ((s = commands_str(args, key)) == NULL)
		return LECTERN_OK;
	if (valid_text(s, max, 0, multiline, key, ctx->err,
	    sizeof ctx->err) == -1) {
		ctx->field = key;
		return LECTERN_E_INVALID_ARGUMENT;
	}
	return LECTERN_OK;
}

/*
 * Replace CRLF by LF in a multi-line text argument (in args itself, so
 * that the pointers handed to the store stay valid while args lives).
 */
static void
commands_normalise_newlines(json_t *args, const char *key)
{
	const char	*s;
	char		*copy, *w;
	size_t		 i, len;

	if ((s = commands_str(args, key)) == NULL || strchr(s, '\r') == NULL)
		return;
	len = json_string_length(json_object_get(args, key));
	if ((copy = malloc(len + 1)) == NULL)
		log_fatal("commands: out of memory");
	w = copy;
	for (i = 0; i < len; i++) {
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue;
		*w++ = s[i];
	}
	*w = '\0';
	commands_set(args, key, json_string(copy));
	free(copy);
}

/* Resolve a person reference (id or email) for field. */
static enum lectern_error
commands_person_ref(struct commands_ctx *ctx, json_t *ref, const char *field,
    int64_t *id, char *email, size_t emaillen)
{
	enum lectern_error	 code;

	if (json_is_integer(ref)) {
		if (json_integer_value(ref) <= 0)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    field, "%s: %" JSON_INTEGER_FORMAT " is not a "
			    "person id", field, json_integer_value(ref));
		code = store_person_find(json_integer_value(ref), NULL, id,
		    email, emaillen, ctx->err, sizeof ctx->err);
	} else if (json_is_string(ref)) {
		code = store_person_find(0, json_string_value(ref), id, email,
		    emaillen, ctx->err, sizeof ctx->err);
	} else
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, field,
		    "%s: a person is an id (integer) or an email (string)",
		    field);
	if (code == LECTERN_E_NOT_FOUND) {
		char	 msg[sizeof ctx->err];

		snprintf(msg, sizeof msg, "%s", ctx->err);
		return commands_error(ctx, code, field, "%s: %s", field, msg);
	}
	return commands_store(ctx, code, field);
}

/* A person's reference in results: {"id","email"}. */
static json_t *
commands_person_json(int64_t id, const char *email)
{
	json_t	*o;

	o = commands_object();
	commands_set(o, "id", json_integer(id));
	commands_set(o, "email", json_string(email));
	return o;
}

/* Tags (array of words) as JSON text, malloc'd; NULL on error. */
static char *
commands_tags(struct commands_ctx *ctx, json_t *tags, const char *field)
{
	json_t	*v;
	size_t	 i;
	char	*s;

	if (json_array_size(tags) > LECTERN_TAGS_MAX) {
		commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, field,
		    "%s: at most %d tags", field, LECTERN_TAGS_MAX);
		return NULL;
	}
	json_array_foreach(tags, i, v) {
		if (!json_is_string(v)) {
			commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, field,
			    "%s: every tag must be a string", field);
			return NULL;
		}
		if (valid_tag(json_string_value(v), field, ctx->err,
		    sizeof ctx->err) == -1) {
			ctx->field = field;
			return NULL;
		}
	}
	if ((s = json_dumps(tags, JSON_COMPACT)) == NULL)
		log_fatal("commands: out of memory");
	return s;
}

/* The minutes of a reminders array as JSON text, malloc'd; NULL on error. */
static char *
commands_reminders(struct commands_ctx *ctx, json_t *list)
{
	json_t		*v, *w;
	size_t		 i, j;
	json_int_t	 m;
	char		*s;

	if (json_array_size(list) > LECTERN_REMINDERS_MAX) {
		commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "reminders",
		    "reminders: at most %d reminders", LECTERN_REMINDERS_MAX);
		return NULL;
	}
	json_array_foreach(list, i, v) {
		m = json_integer_value(v);
		if (!json_is_integer(v) || m < 1 || m > COMMANDS_REMINDER_MAX) {
			commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "reminders", "reminders: each must be an integer "
			    "number of minutes from 1 to %d",
			    COMMANDS_REMINDER_MAX);
			return NULL;
		}
		for (j = 0; j < i; j++) {
			w = json_array_get(list, j);
			if (json_integer_value(w) == m) {
				commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
				    "reminders", "reminders: %"
				    JSON_INTEGER_FORMAT " is given twice", m);
				return NULL;
			}
		}
	}
	if ((s = json_dumps(list, JSON_COMPACT)) == NULL)
		log_fatal("commands: out of memory");
	return s;
}

/* The configured default reminders (seconds) as minutes, JSON text. */
static char *
commands_default_reminders(void)
{
	json_t	*a;
	size_t	 i;
	int64_t	 m;
	char	*s;

	a = commands_array();
	for (i = 0; commands_cfg != NULL && i < commands_cfg->nreminders &&
	    i < LECTERN_REMINDERS_MAX; i++) {
		m = (commands_cfg->reminders[i] + 59) / 60;
		if (m < 1)
			m = 1;
		if (m > COMMANDS_REMINDER_MAX)
			m = COMMANDS_REMINDER_MAX;
		commands_append(a, json_integer(m));
	}
	if ((s = json_dumps(a, JSON_COMPACT)) == NULL)
		log_fatal("commands: out of memory");
	json_decref(a);
	return s;
}

static const char *
commands_zone(void)
{
	if (commands_cfg != NULL && commands_cfg->timezone != NULL)
		return commands_cfg->timezone;
	return "UTC";
}

static enum lectern_error
commands_check_tz(struct commands_ctx *ctx, const char *tz)
{
	if (!tz_valid(tz))
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "tz",
		    "tz: %.100s is not a known IANA time zone (such as "
		    "Europe/Moscow)", tz);
	return LECTERN_OK;
}

/*
 * RRULE: libical parses it; the length and character checks come first so
 * that nothing but short printable ASCII ever reaches an iCalendar line.
 */
/* 0 if s is a sequence of known NAME=VALUE parts (see below), else -1. */
static int
commands_rrule_shape(const char *s)
{
	static const char *const names[] = { "FREQ", "INTERVAL", "COUNT",
	    "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST",
	    "BYYEARDAY", "BYWEEKNO", "BYHOUR", "BYMINUTE", "BYSECOND" };
	unsigned	 seen = 0;
	const char	*p = s, *eq, *end;
	size_t		 i, n;

	for (;;) {
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL)
			return -1;
		n = (size_t)(eq - p);
		for (i = 0; i < sizeof names / sizeof names[0]; i++) {
			if (strlen(names[i]) == n &&
			    strncasecmp(p, names[i], n) == 0)
				break;
		}
		if (i == sizeof names / sizeof names[0] || (seen & (1u << i)))
			return -1;
		seen |= 1u << i;
		if (eq + 1 == end)
			return -1;
		for (p = eq + 1; p < end; p++) {
			if (!isalnum((unsigned char)*p) && *p != ',' &&
			    *p != '+' && *p != '-')
				return -1;
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return (seen & 1u) ? 0 : -1;	/* FREQ is required */
}

static enum lectern_error
commands_check_rrule(struct commands_ctx *ctx, const char *s)
{
	struct icalrecurrencetype	 r;

	if (s == NULL)
		return LECTERN_OK;
	if (*s == '\0' || strlen(s) > COMMANDS_RRULE_MAX)
		goto bad;
	/*
	 * libical's parser skips what it does not understand, so the text
	 * is checked first: NAME=VALUE parts separated by ';', each name a
	 * known one and at most once, values of letters, digits, ',', '+',
	 * '-' (and 'T', 'Z' in UNTIL). The stored rule is then exactly what
	 * every calendar will read.
	 */
	if (commands_rrule_shape(s) == -1)
		goto bad;
	icalerror_clear_errno();
	r = icalrecurrencetype_from_string(s);
	if (r.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
		icalerror_clear_errno();
		goto bad;
	}
	return LECTERN_OK;

bad:
	return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "rrule",
	    "rrule: must be an iCalendar recurrence rule such as "
	    "FREQ=MONTHLY;INTERVAL=3;COUNT=4 (at most %d characters)",
	    COMMANDS_RRULE_MAX);
}

static enum lectern_error
commands_check_duration(struct commands_ctx *ctx, json_t *v)
{
	json_int_t	 d = json_integer_value(v);

	if (d < 1 || d > LECTERN_DURATION_MAX)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "duration", "duration: must be an integer number of "
		    "minutes from 1 to %d", LECTERN_DURATION_MAX);
	return LECTERN_OK;
}

static enum lectern_error
commands_check_capacity(struct commands_ctx *ctx, json_t *v)
{
	json_int_t	 c = json_integer_value(v);

	if (c < 0 || c > COMMANDS_CAPACITY_MAX)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "capacity", "capacity: must be an integer from 0 "
		    "(unlimited) to %d", COMMANDS_CAPACITY_MAX);
	return LECTERN_OK;
}

/* Validate the session fields present in args (add and update share it). */
static enum lectern_error
commands_check_session(struct commands_ctx *ctx, json_t *args)
{
	enum lectern_error	 code;
	const char		*s;

	if ((s = commands_str(args, "kind")) != NULL &&
	    valid_kind(s, "kind", ctx->err, sizeof ctx->err) == -1)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "kind",
		    "kind: must be one of %s", valid_kinds());
	if ((code = commands_text(ctx, args, "title", LECTERN_TEXT_MAX, 0)) !=
	    LECTERN_OK)
		return code;
	commands_normalise_newlines(args, "description");
	if ((code = commands_text(ctx, args, "description", LECTERN_DESC_MAX,
	    1)) != LECTERN_OK)
		return code;
	if ((code = commands_text(ctx, args, "location", LECTERN_TEXT_MAX,
	    0)) != LECTERN_OK)
		return code;
	if ((s = commands_str(args, "url")) != NULL &&
	    valid_url(s, "url", ctx->err, sizeof ctx->err) == -1) {
		ctx->field = "url";
		return LECTERN_E_INVALID_ARGUMENT;
	}
	if (commands_has(args, "duration") &&
	    (code = commands_check_duration(ctx,
	    json_object_get(args, "duration"))) != LECTERN_OK)
		return code;
	if (json_is_integer(json_object_get(args, "capacity")) &&
	    (code = commands_check_capacity(ctx,
	    json_object_get(args, "capacity"))) != LECTERN_OK)
		return code;
	if ((s = commands_str(args, "tz")) != NULL &&
	    (code = commands_check_tz(ctx, s)) != LECTERN_OK)
		return code;
	if ((code = commands_check_rrule(ctx, commands_str(args, "rrule"))) !=
	    LECTERN_OK)
		return code;
	return LECTERN_OK;
}

/* Waitlists in order of due date; see "CPD records" below. */
static enum lectern_error commands_waitlist_order(struct commands_ctx *, int,
    int64_t);
static enum lectern_error commands_waitlist_joined(struct commands_ctx *, int,
    int64_t, const int64_t *, size_t, const int *, int64_t *);
static enum lectern_error commands_enroll_select(struct commands_ctx *,
    json_t *, json_t *, json_t *, int64_t *);

/* "You are on the waiting list (position N)" to those just waitlisted. */
static enum lectern_error
commands_waitlist_notify(struct commands_ctx *ctx, int course, int64_t target,
    const int64_t *people, size_t n, const int *outcomes,
    const int64_t *positions)
{
	enum lectern_error	 code;
	int64_t			*who, *pos;
	size_t			 i, k = 0;

	if ((who = calloc(n, sizeof *who)) == NULL ||
	    (pos = calloc(n, sizeof *pos)) == NULL)
		log_fatal("commands: out of memory");
	for (i = 0; i < n; i++) {
		if (outcomes[i] == STORE_WAITLISTED) {
			who[k] = people[i];
			pos[k++] = positions[i];
		}
	}
	if (course)
		code = notify_course(target, MAIL_COURSE_WAITLIST, who, pos, k,
		    NULL, ctx->now, ctx->err, sizeof ctx->err);
	else
		code = notify_waitlist(target, who, pos, k, ctx->now,
		    ctx->err, sizeof ctx->err);
	free(who);
	free(pos);
	return code;
}

/*
 * Enroll people in a session and queue an invitation for each one newly
 * enrolled, a waitlist notice for each one waitlisted (nothing for those
 * already there).
 */
static enum lectern_error
commands_session_enroll(struct commands_ctx *ctx, int64_t session,
    const int64_t *people, size_t n, int *outcomes, int64_t *positions)
{
	enum lectern_error	 code;
	int64_t			*fresh;
	size_t			 i, k = 0;

	code = store_enroll(0, session, people, n, ctx->now, outcomes,
	    positions, ctx->err, sizeof ctx->err);
	if (code != LECTERN_OK || n == 0)
		return code;
	if ((code = commands_waitlist_joined(ctx, 0, session, people, n,
	    outcomes, positions)) != LECTERN_OK)
		return code;
	if ((fresh = calloc(n, sizeof *fresh)) == NULL)
		log_fatal("commands: out of memory");
	for (i = 0; i < n; i++) {
		if (outcomes[i] == STORE_ENROLLED)
			fresh[k++] = people[i];
	}
	code = notify_session(session, MAIL_INVITE, fresh, k, NULL, ctx->now,
	    ctx->err, sizeof ctx->err);
	free(fresh);
	if (code == LECTERN_OK)
		code = commands_waitlist_notify(ctx, 0, session, people, n,
		    outcomes, positions);
	return code;
}

/* Remove a person from a session; a CANCEL takes it out of their calendar. */
static enum lectern_error
commands_session_unenroll(struct commands_ctx *ctx, int64_t session,
    int64_t person, int *removed)
{
	enum lectern_error	 code;

	code = store_unenroll(0, session, person, removed, ctx->err,
	    sizeof ctx->err);
	/* Someone only waiting has no event in their calendar to cancel. */
	if (code != LECTERN_OK || *removed != STORE_ENROLLED)
		return code;
	/*
	 * SEQUENCE is one counter per UID and grows with every CANCEL, also
	 * one sent to a single attendee (RFC 5546 3.2.5).
	 */
	if ((code = store_session_bump(session, ctx->now, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		return code;
	return notify_session(session, MAIL_CANCEL, &person, 1, NULL,
	    ctx->now, ctx->err, sizeof ctx->err);
}

/* Fill the session's free seats; a course also passes them to its sessions. */
static enum lectern_error commands_course_fanout(struct commands_ctx *,
    int64_t, const int64_t *, size_t);

static enum lectern_error
commands_promote(struct commands_ctx *ctx, int course, int64_t target,
    json_t *promoted)
{
	enum lectern_error	 code;
	json_t			*mine, *v;
	int64_t			*ids = NULL;
	size_t			 i, n;

	mine = commands_array();
	/* With waitlist_order = due_date, the first by due gets the seat. */
	if ((code = commands_waitlist_order(ctx, course, target)) !=
	    LECTERN_OK)
		goto fail;
	code = store_promote(course, target, ctx->now, mine, ctx->err,
	    sizeof ctx->err);
	if (code != LECTERN_OK)
		goto fail;
	n = json_array_size(mine);
	if (n > 0) {
		if ((ids = calloc(n, sizeof *ids)) == NULL)
			log_fatal("commands: out of memory");
		json_array_foreach(mine, i, v)
			ids[i] = json_integer_value(json_object_get(v, "id"));
		if (course && (code = notify_course(target,
		    MAIL_COURSE_INVITE, ids, NULL, n, NULL, ctx->now, ctx->err,
		    sizeof ctx->err)) != LECTERN_OK)
			goto fail;
		if (course)
			code = commands_course_fanout(ctx, target, ids, n);
		else
			code = notify_session(target, MAIL_INVITE, ids, n,
			    NULL, ctx->now, ctx->err, sizeof ctx->err);
		if (code != LECTERN_OK)
			goto fail;
	}
	if (promoted != NULL && json_array_extend(promoted, mine) != 0)
		log_fatal("commands: out of memory");
fail:
	free(ids);
	json_decref(mine);
	return code;
}

/* Enroll people (already in course_id) into every live session of it. */
static enum lectern_error
commands_course_fanout(struct commands_ctx *ctx, int64_t course_id,
    const int64_t *people, size_t n)
{
	enum lectern_error	 code = LECTERN_OK;
	int64_t			*sessions = NULL, *positions = NULL;
	int			*outcomes = NULL;
	size_t			 i, ns = 0;

	if (n == 0)
		return LECTERN_OK;
	if ((code = store_course_sessions(course_id, &sessions, &ns, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		return code;
	if ((outcomes = calloc(n, sizeof *outcomes)) == NULL ||
	    (positions = calloc(n, sizeof *positions)) == NULL)
		log_fatal("commands: out of memory");
	for (i = 0; i < ns; i++) {
		code = commands_session_enroll(ctx, sessions[i], people, n,
		    outcomes, positions);
		if (code != LECTERN_OK)
			break;
	}
	free(sessions);
	free(outcomes);
	free(positions);
	return code;
}

/* Remove a person from a session or course and fill the seat they left. */
static enum lectern_error
commands_leave(struct commands_ctx *ctx, int course, int64_t target,
    int64_t person, int *removed, json_t *promoted)
{
	enum lectern_error	 code;
	int64_t			*sessions = NULL;
	size_t			 i, ns = 0;
	int			 r;

	if (course)
		code = store_unenroll(1, target, person, removed, ctx->err,
		    sizeof ctx->err);
	else
		code = commands_session_unenroll(ctx, target, person, removed);
	if (code != LECTERN_OK || !*removed)
		return code;
	/* The course's own entry leaves their calendar (a higher SEQUENCE). */
	if (course && *removed == STORE_ENROLLED && ((code = store_course_bump(target, ctx->now, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK || (code = notify_course(target,
	    MAIL_COURSE_CANCEL, &person, NULL, 1, NULL, ctx->now, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK))
		return code;
	if (course) {
		/* Leaving a course means leaving its live sessions too. */
		if ((code = store_course_sessions(target, &sessions, &ns,
		    ctx->err, sizeof ctx->err)) != LECTERN_OK)
			return code;
		for (i = 0; i < ns && code == LECTERN_OK; i++) {
			code = commands_session_unenroll(ctx, sessions[i],
			    person, &r);
			if (code == LECTERN_OK && r)
				code = commands_promote(ctx, 0, sessions[i],
				    NULL);
		}
		free(sessions);
		if (code != LECTERN_OK)
			return code;
	}
	return commands_promote(ctx, course, target, promoted);
}

/* status */

static enum lectern_error
commands_status_cb(struct commands_ctx *ctx, json_t *args, json_t **result)
{
	struct store_counts	 c;
	struct timespec		 now;
	enum lectern_error	 code;
	json_t			*o, *ob, *ds, *nd;
	int64_t			 next, rnext;
	char			 when[32];

	(void)args;
	if ((code = store_counts(&c, ctx->err, sizeof ctx->err)) != LECTERN_OK)
		return code;
	clock_gettime(CLOCK_MONOTONIC, &now);
	o = commands_object();
	commands_set(o, "version", json_string(LECTERN_VERSION));
	commands_set(o, "protocol", json_integer(LECTERN_PROTOCOL));
	commands_set(o, "uptime_s",
	    json_integer(now.tv_sec - commands_started.tv_sec));
	commands_set(o, "people", json_integer(c.people));
	commands_set(o, "groups", json_integer(c.groups));
	commands_set(o, "sessions", json_integer(c.sessions));
	commands_set(o, "courses", json_integer(c.courses));
	ob = commands_object();
	commands_set(ob, "queued", json_integer(c.queued));
	commands_set(ob, "sent", json_integer(c.sent));
	commands_set(ob, "failed", json_integer(c.failed));
	commands_set(ob, "expired", json_integer(c.expired));
	commands_set(o, "outbox", ob);
	/* The earliest job: a delivery attempt or a reminder. */
	ds = delivery_status();
	nd = json_object_get(ds, "next_attempt");
	if (nd == NULL || tz_parse_utc(json_string_value(nd), &next) == -1)
		next = 0;
	if (store_remind_next(&rnext, ctx->err, sizeof ctx->err) !=
	    LECTERN_OK)
		rnext = 0;
	if (rnext != 0 && (next == 0 || rnext < next))
		next = rnext;
	if (next != 0) {
		tz_format_utc(next, when, sizeof when);
		commands_set(o, "next_due", json_string(when));
	} else
		commands_set(o, "next_due", json_null());
	if (rnext != 0) {
		tz_format_utc(rnext, when, sizeof when);
		commands_set(o, "next_reminder", json_string(when));
	} else
		commands_set(o, "next_reminder", json_null());
	commands_set(o, "delivery", ds);
	commands_set(o, "reminders", remind_stats());
	commands_set(o, "recertification", notices_status());
	commands_set(o, "timezone", json_string(commands_zone()));
	commands_set(o, "clients", json_integer((json_int_t)server_clients()));
	*result = o;
	return LECTERN_OK;
}

/* people */

/* Validate the person fields present in args into p (strings borrowed). */
static enum lectern_error
commands_person_fields(struct commands_ctx *ctx, json_t *args,
    struct store_person *p, char **tags)
{
	enum lectern_error	 code;
	const char		*s;
	json_t			*v;

	*tags = NULL;
	if ((s = commands_str(args, "name")) != NULL) {
		if (valid_text(s, LECTERN_NAME_MAX, 0, 0, "name", ctx->err,
		    sizeof ctx->err) == -1)
			return commands_field(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "name");
		p->name = s;
		p->set |= STORE_P_NAME;
	}
	if ((code = commands_text(ctx, args, "organization", LECTERN_TEXT_MAX,
	    0)) != LECTERN_OK ||
	    (code = commands_text(ctx, args, "position", LECTERN_TEXT_MAX,
	    0)) != LECTERN_OK)
		return code;
	if (commands_has(args, "organization")) {
		p->organization = commands_str(args, "organization");
		p->set |= STORE_P_ORGANIZATION;
	}
	if (commands_has(args, "position")) {
		p->position = commands_str(args, "position");
		p->set |= STORE_P_POSITION;
	}
	if (commands_has(args, "lang")) {
		if ((s = commands_str(args, "lang")) != NULL &&
		    valid_lang(s, "lang", ctx->err, sizeof ctx->err) == -1)
			return commands_field(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "lang");
		p->lang = s;
		p->set |= STORE_P_LANG;
	}
	if ((v = json_object_get(args, "tags")) != NULL) {
		if (json_is_array(v) &&
		    (*tags = commands_tags(ctx, v, "tags")) == NULL)
			return LECTERN_E_INVALID_ARGUMENT;
		p->tags = *tags;
		p->set |= STORE_P_TAGS;
	}
	return LECTERN_OK;
}

static enum lectern_error
commands_person_add_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct store_person	 p;
	enum lectern_error	 code;
	const char		*email;
	char			*tags = NULL;
	int64_t			 id = 0;

	memset(&p, 0, sizeof p);
	email = commands_str(args, "email");
	if (valid_email(email, "email", ctx->err, sizeof ctx->err) == -1) {
		ctx->field = "email";
		return LECTERN_E_INVALID_ARGUMENT;
	}
	p.email = email;
	if ((code = commands_person_fields(ctx, args, &p, &tags)) !=
	    LECTERN_OK)
		goto fail;
	code = store_person_add(&p, ctx->now, &id, ctx->err, sizeof ctx->err);
	if ((code = commands_store(ctx, code, "email")) != LECTERN_OK)
		goto fail;
	code = store_person_get(id, 0, result, ctx->err, sizeof ctx->err);
fail:
	free(tags);
	return code;
}

/* The person named by args "id" or else "email". */
static enum lectern_error
commands_person_which(struct commands_ctx *ctx, json_t *args, int64_t *id)
{
	json_t	*v;

	if ((v = json_object_get(args, "id")) != NULL)
		return commands_person_ref(ctx, v, "id", id, NULL, 0);
	if ((v = json_object_get(args, "email")) != NULL)
		return commands_person_ref(ctx, v, "email", id, NULL, 0);
	return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "id",
	    "id: the person's id or email is required");
}

/* The person named by exactly one of args "id" and "email". */
static enum lectern_error
commands_person_only(struct commands_ctx *ctx, json_t *args, int64_t *id)
{
	if (commands_has(args, "id") && commands_has(args, "email"))
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "email",
		    "email: give the person's id or email, not both");
	return commands_person_which(ctx, args, id);
}

static enum lectern_error
commands_person_update_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct store_person	 p;
	enum lectern_error	 code;
	const char		*email;
	char			*tags = NULL;
	int64_t			 id = 0;

	memset(&p, 0, sizeof p);
	if ((code = commands_person_which(ctx, args, &id)) != LECTERN_OK)
		return code;
	if (commands_has(args, "id") &&
	    (email = commands_str(args, "email")) != NULL) {
		if (valid_email(email, "email", ctx->err,
		    sizeof ctx->err) == -1) {
			ctx->field = "email";
			return LECTERN_E_INVALID_ARGUMENT;
		}
		p.email = email;
		p.set |= STORE_P_EMAIL;
	}
	if ((code = commands_person_fields(ctx, args, &p, &tags)) !=
	    LECTERN_OK)
		goto fail;
	if (p.set != 0) {
		code = store_person_update(id, &p, ctx->now, ctx->err,
		    sizeof ctx->err);
		if ((code = commands_store(ctx, code, "email")) != LECTERN_OK)
			goto fail;
	}
	code = store_person_get(id, 0, result, ctx->err, sizeof ctx->err);
fail:
	free(tags);
	return code;
}

/* Take person out of every session and course, promoting who waits. */
static enum lectern_error
commands_person_leave_all(struct commands_ctx *ctx, int64_t person)
{
	enum lectern_error	 code;
	int64_t			*ids = NULL;
	size_t			 i, n = 0;
	int			 course, removed;

	for (course = 1; course >= 0; course--) {
		if ((code = store_targets(course, person, &ids, &n, ctx->err,
		    sizeof ctx->err)) != LECTERN_OK)
			return code;
		for (i = 0; i < n; i++) {
			code = commands_leave(ctx, course, ids[i], person,
			    &removed, NULL);
			if (code != LECTERN_OK)
				break;
		}
		free(ids);
		ids = NULL;
		if (code != LECTERN_OK)
			return code;
	}
	return LECTERN_OK;
}

static enum lectern_error
commands_person_remove_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	int64_t			 id = 0;

	if ((code = commands_person_only(ctx, args, &id)) != LECTERN_OK)
		return code;
	if ((code = commands_person_leave_all(ctx, id)) != LECTERN_OK)
		return code;
	if ((code = store_person_remove(id, ctx->err, sizeof ctx->err)) !=
	    LECTERN_OK)
		return commands_store(ctx, code, "id");
	*result = commands_object();
	return LECTERN_OK;
}

static enum lectern_error
commands_person_get_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	int64_t			 id = 0;

	if ((code = commands_person_only(ctx, args, &id)) != LECTERN_OK)
		return code;
	return store_person_get(id, 1, result, ctx->err, sizeof ctx->err);
}

static enum lectern_error
commands_person_list_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct store_person_filter	 f;
	enum lectern_error		 code;
	const char			*s;

	memset(&f, 0, sizeof f);
	f.organization = commands_str(args, "organization");
	f.tag = commands_str(args, "tag");
	if ((s = commands_str(args, "group")) != NULL) {
		code = store_group_find(s, &f.group_id, ctx->err,
		    sizeof ctx->err);
		if (code != LECTERN_OK)
			return commands_store(ctx, code, "group");
	}
	if ((code = commands_limit(ctx, args, LECTERN_LIST_MAX,
	    LECTERN_LIST_MAX, &f.limit)) != LECTERN_OK)
		return code;
	return store_person_list(&f, result, ctx->err, sizeof ctx->err);
}

/* person.import */

struct commands_import_error {
	size_t	 line;
	size_t	 seq;
	char	*message;
};

struct commands_import {
	struct commands_import_error	*errors;
	size_t				 nerrors, cap;
};

static void commands_import_error(struct commands_import *, size_t,
    const char *, ...) __attribute__((format(printf, 3, 4)));

static void
commands_import_error(struct commands_import *im, size_t line,
    const char *fmt, ...)
{
	struct commands_import_error	*ne;
	va_list				 ap;
	char				 buf[1024];

	if (im->nerrors == im->cap) {
		im->cap = im->cap ? im->cap * 2 : 16;
		ne = reallocarray(im->errors, im->cap, sizeof *ne);
		if (ne == NULL)
			log_fatal("commands: out of memory");
		im->errors = ne;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	im->errors[im->nerrors].line = line;
	im->errors[im->nerrors].seq = im->nerrors;
	if ((im->errors[im->nerrors].message = strdup(buf)) == NULL)
		log_fatal("commands: out of memory");
	im->nerrors++;
}

static int
commands_import_cmp(const void *a, const void *b)
{
	const struct commands_import_error	*x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A list of {"line","message"} (and "field") sorted by line as JSON. */
static json_t *
commands_import_errors(struct commands_import *im, json_t *fields)
{
	json_t	*errors, *e;
	size_t	 i;

	if (im->nerrors > 0)
		qsort(im->errors, im->nerrors, sizeof *im->errors,
		    commands_import_cmp);
	errors = commands_array();
	for (i = 0; i < im->nerrors; i++) {
		e = commands_object();
		commands_set(e, "line", json_integer((json_int_t)
		    im->errors[i].line));
		if (fields != NULL)
			commands_set(e, "field", json_incref(json_array_get(
			    fields, im->errors[i].seq)));
		commands_set(e, "message", json_string(im->errors[i].message));
		commands_append(errors, e);
	}
	return errors;
}

static void
commands_import_free(struct commands_import *im)
{
	size_t	 i;

	for (i = 0; i < im->nerrors; i++)
		free(im->errors[i].message);
	free(im->errors);
	memset(im, 0, sizeof *im);
}

/*
 * An import refused for its problems (im, at least one): errors, their
 * list (taken), go in the reply's "errors"; the message names the first.
 */
static enum lectern_error
commands_import_refused(struct commands_ctx *ctx,
    const struct commands_import *im, json_t *errors)
{
	ctx->extra = commands_object();
	commands_set(ctx->extra, "errors", errors);
	return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "csv",
	    "csv: line %zu: %s (%zu problem%s in all; nothing was "
	    "imported)", im->errors[0].line, im->errors[0].message,
	    im->nerrors, im->nerrors == 1 ? "" : "s");
}

/*
 * Tags in a CSV cell are separated by blanks or '|'. Split by hand: the
 * cell is ours, short, and strtok is not allowed.
 */
static char *
commands_import_tags(struct commands_ctx *ctx, const char *cell)
{
	json_t		*a;
	const char	*p;
	size_t		 n;
	char		*out, word[LECTERN_TAG_MAX * 4 + 1];

	a = commands_array();
	for (p = cell; *p != '\0';) {
		p += strspn(p, " \t|");
		if (*p == '\0')
			break;
		n = strcspn(p, " \t|");
		if (n >= sizeof word) {
			json_decref(a);
			commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "tags",
			    "tags: a tag is longer than %d characters",
			    LECTERN_TAG_MAX);
			return NULL;
		}
		memcpy(word, p, n);
		word[n] = '\0';
		commands_append(a, json_string(word));
		p += n;
	}
	out = commands_tags(ctx, a, "tags");
	json_decref(a);
	return out;
}

struct commands_import_row {
	int	 ok;
	int64_t	 id;		/* existing person, or 0 */
	char	*tags;
};

/* Validate one row; returns 0, or -1 with the problem in ctx->err. */
static int
commands_import_check(struct commands_ctx *ctx,
    const struct csvimport_row *r, json_t *seen,
    struct commands_import_row *out)
{
	enum lectern_error	 code;
	char			 key[LECTERN_EMAIL_MAX + 1];
	size_t			 i;
	json_t			*first;

	if (r->email == NULL) {
		snprintf(ctx->err, sizeof ctx->err, "email: is required");
		return -1;
	}
	if (valid_email(r->email, "email", ctx->err, sizeof ctx->err) == -1)
		return -1;
	if (r->name != NULL && valid_text(r->name, LECTERN_NAME_MAX, 0, 0,
	    "name", ctx->err, sizeof ctx->err) == -1)
		return -1;
	if (r->organization != NULL && valid_text(r->organization,
	    LECTERN_TEXT_MAX, 0, 0, "organization", ctx->err,
	    sizeof ctx->err) == -1)
		return -1;
	if (r->position != NULL && valid_text(r->position, LECTERN_TEXT_MAX,
	    0, 0, "position", ctx->err, sizeof ctx->err) == -1)
		return -1;
	if (r->lang != NULL && valid_lang(r->lang, "lang", ctx->err,
	    sizeof ctx->err) == -1)
		return -1;
	if (r->tags != NULL &&
	    (out->tags = commands_import_tags(ctx, r->tags)) == NULL)
		return -1;

	/* Email is ASCII (valid_email), so byte-wise lowering is exact. */
	for (i = 0; r->email[i] != '\0' && i < sizeof key - 1; i++)
		key[i] = (char)tolower((unsigned char)r->email[i]);
	key[i] = '\0';
	if ((first = json_object_get(seen, key)) != NULL) {
		snprintf(ctx->err, sizeof ctx->err, "email: %s appears again "
		    "(first on line %" JSON_INTEGER_FORMAT ")", r->email,
		    json_integer_value(first));
		return -1;
	}
	commands_set(seen, key, json_integer((json_int_t)r->line));

	code = store_person_find(0, r->email, &out->id, NULL, 0, ctx->err,
	    sizeof ctx->err);
	if (code == LECTERN_E_NOT_FOUND) {
		out->id = 0;
		if (r->name == NULL) {
			snprintf(ctx->err, sizeof ctx->err, "name: is "
			    "required for a new person (%s)", r->email);
			return -1;
		}
	} else if (code != LECTERN_OK)
		return -2;
	out->ok = 1;
	return 0;
}

static enum lectern_error
commands_person_import_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct csvimport		 csv;
	struct commands_import		 im;
	struct commands_import_row	*rows = NULL;
	struct store_person		 p;
	enum lectern_error		 code = LECTERN_OK;
	json_t				*seen = NULL, *errors, *o;
	json_t				*text;
	const struct csvimport_row	*r;
	size_t				 i;
	int64_t				 added = 0, updated = 0, id;
	int				 partial, rc;

	memset(&csv, 0, sizeof csv);
	memset(&im, 0, sizeof im);
	text = json_object_get(args, "csv");
	partial = json_is_true(json_object_get(args, "partial"));
	if (csvimport_parse(json_string_value(text), json_string_length(text),
	    &csv, ctx->err, sizeof ctx->err) == -1) {
		char	 msg[sizeof ctx->err];

		snprintf(msg, sizeof msg, "%s", ctx->err);
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "csv",
		    "csv: %s", msg);
	}
	for (i = 0; i < csv.nerrors; i++)
		commands_import_error(&im, csv.errors[i].line, "%s",
		    csv.errors[i].message);
	if (csv.nrows > 0 &&
	    (rows = calloc(csv.nrows, sizeof *rows)) == NULL)
		log_fatal("commands: out of memory");
	seen = commands_object();
	for (i = 0; i < csv.nrows; i++) {
		rc = commands_import_check(ctx, &csv.rows[i], seen, &rows[i]);
		if (rc == -2) {
			code = LECTERN_E_INTERNAL;
			goto fail;
		}
		if (rc == -1)
			commands_import_error(&im, csv.rows[i].line, "%s",
			    ctx->err);
	}
	errors = commands_import_errors(&im, NULL);
	if (im.nerrors > 0 && !partial) {
		code = commands_import_refused(ctx, &im, errors);
		goto fail;
	}
	for (i = 0; i < csv.nrows; i++) {
		if (!rows[i].ok)
			continue;
		r = &csv.rows[i];
		memset(&p, 0, sizeof p);
		p.name = r->name;
		p.email = r->email;
		p.organization = r->organization;
		p.position = r->position;
		p.lang = r->lang;
		p.tags = rows[i].tags;
		/* Empty cells keep what the person already has. */
		p.set = (r->name ? STORE_P_NAME : 0) |
		    (r->organization ? STORE_P_ORGANIZATION : 0) |
		    (r->position ? STORE_P_POSITION : 0) |
		    (r->lang ? STORE_P_LANG : 0) |
		    (rows[i].tags ? STORE_P_TAGS : 0);
		if (rows[i].id != 0) {
			if (p.set != 0 && (code = store_person_update(
			    rows[i].id, &p, ctx->now, ctx->err,
			    sizeof ctx->err)) != LECTERN_OK)
				break;
			updated++;
		} else {
			if ((code = store_person_add(&p, ctx->now, &id,
			    ctx->err, sizeof ctx->err)) != LECTERN_OK)
				break;
			added++;
		}
	}
	if (code != LECTERN_OK) {
		json_decref(errors);
		code = commands_store(ctx, code, "csv");
		goto fail;
	}
	o = commands_object();
	commands_set(o, "added", json_integer(added));
	commands_set(o, "updated", json_integer(updated));
	commands_set(o, "errors", errors);
	*result = o;

fail:
	for (i = 0; rows != NULL && i < csv.nrows; i++)
		free(rows[i].tags);
	free(rows);
	commands_import_free(&im);
	json_decref(seen);
	csvimport_cleanup(&csv);
	return code;
}

/* groups */

static enum lectern_error
commands_group_name(struct commands_ctx *ctx, json_t *args, const char *key,
    int64_t *id)
{
	enum lectern_error	 code;

	code = store_group_find(commands_str(args, key), id, ctx->err,
	    sizeof ctx->err);
	return commands_store(ctx, code, key);
}

static enum lectern_error
commands_group_add_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	int64_t			 id = 0;

	if ((code = commands_text(ctx, args, "name", LECTERN_TEXT_MAX, 0)) !=
	    LECTERN_OK)
		return code;
	code = store_group_add(commands_str(args, "name"), ctx->now, ctx->err,
	    sizeof ctx->err);
	if (code != LECTERN_OK)
		return commands_store(ctx, code, "name");
	if ((code = commands_group_name(ctx, args, "name", &id)) != LECTERN_OK)
		return code;
	return store_group_get(id, 0, result, ctx->err, sizeof ctx->err);
}

static enum lectern_error
commands_group_remove_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	int64_t			 id = 0;

	if ((code = commands_group_name(ctx, args, "name", &id)) != LECTERN_OK)
		return code;
	if ((code = store_group_remove(id, ctx->err, sizeof ctx->err)) !=
	    LECTERN_OK)
		return commands_store(ctx, code, "name");
	*result = commands_object();
	return LECTERN_OK;
}

/* Resolve an array of person references; *ids is malloc'd. */
static enum lectern_error
commands_people(struct commands_ctx *ctx, json_t *list, const char *field,
    int64_t **ids, json_t **refs)
{
	enum lectern_error	 code;
	char			 email[LECTERN_EMAIL_MAX + 1];
	json_t			*v;
	size_t			 i, n;

	*ids = NULL;
	*refs = NULL;
	n = json_array_size(list);
	if (n > LECTERN_ENROLL_MAX)
		return commands_error(ctx, LECTERN_E_TOO_LARGE, field,
		    "%s: at most %d people at once", field,
		    LECTERN_ENROLL_MAX);
	if ((*ids = calloc(n ? n : 1, sizeof **ids)) == NULL)
		log_fatal("commands: out of memory");
	*refs = commands_array();
	json_array_foreach(list, i, v) {
		code = commands_person_ref(ctx, v, field, &(*ids)[i], email,
		    sizeof email);
		if (code != LECTERN_OK) {
			free(*ids);
			*ids = NULL;
			json_decref(*refs);
			*refs = NULL;
			return code;
		}
		commands_append(*refs, commands_person_json((*ids)[i], email));
	}
	return LECTERN_OK;
}

static enum lectern_error
commands_group_members(struct commands_ctx *ctx, json_t *args,
    json_t **result, int add)
{
	enum lectern_error	 code;
	json_t			*g, *refs = NULL, *o;
	int64_t			 gid, *ids = NULL;
	size_t			 i, n;

	if ((code = commands_group_name(ctx, args, "group", &gid)) !=
	    LECTERN_OK)
		return code;
	if ((code = commands_people(ctx, json_object_get(args, "people"),
	    "people", &ids, &refs)) != LECTERN_OK)
		return code;
	n = json_array_size(refs);
	for (i = 0; i < n; i++) {
		code = store_group_member(gid, ids[i], add, ctx->now, ctx->err,
		    sizeof ctx->err);
		if (code != LECTERN_OK)
			goto fail;
	}
	if ((code = store_group_get(gid, 0, &g, ctx->err, sizeof ctx->err)) !=
	    LECTERN_OK)
		goto fail;
	o = commands_object();
	commands_set(o, "group", json_incref(json_object_get(g, "name")));
	commands_set(o, "members", json_incref(json_object_get(g, "members")));
	json_decref(g);
	*result = o;
fail:
	free(ids);
	json_decref(refs);
	return code;
}

static enum lectern_error
commands_group_members_add_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	return commands_group_members(ctx, args, result, 1);
}

static enum lectern_error
commands_group_members_remove_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	return commands_group_members(ctx, args, result, 0);
}

static enum lectern_error
commands_group_get_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	int64_t			 id = 0;

	if ((code = commands_group_name(ctx, args, "name", &id)) != LECTERN_OK)
		return code;
	return store_group_get(id, 1, result, ctx->err, sizeof ctx->err);
}

static enum lectern_error
commands_group_list_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	(void)args;
	return store_group_list(result, ctx->err, sizeof ctx->err);
}

/* sessions */

/* 16 random hex digits from getrandom(2). */
static int
commands_uid_random(char *buf, size_t len)
{
	unsigned char	 r[8];
	size_t		 i;
	ssize_t		 n;

	do {
		n = getrandom(r, sizeof r, 0);
	} while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof r || len < sizeof r * 2 + 1)
		return -1;
	for (i = 0; i < sizeof r; i++)
		snprintf(buf + i * 2, 3, "%02x", r[i]);
	return 0;
}

static enum lectern_error
commands_course_arg(struct commands_ctx *ctx, json_t *args, int64_t *course)
{
	enum lectern_error	 code;
	json_t			*v;

	*course = 0;
	v = json_object_get(args, "course");
	if (v == NULL || json_is_null(v))
		return LECTERN_OK;
	if ((code = commands_id(ctx, args, "course", course)) != LECTERN_OK)
		return code;
	code = store_course_exists(*course, ctx->err, sizeof ctx->err);
	return commands_store(ctx, code, "course");
}

/* Enroll the people of course_id into one (new or moved) session. */
static enum lectern_error
commands_session_join_course(struct commands_ctx *ctx, int64_t session,
    int64_t course_id)
{
	enum lectern_error	 code;
	int64_t			*people = NULL, *positions = NULL;
	int			*outcomes = NULL;
	size_t			 n = 0;

	if ((code = store_course_people(course_id, &people, &n, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK || n == 0) {
		free(people);
		return code;
	}
	if ((outcomes = calloc(n, sizeof *outcomes)) == NULL ||
	    (positions = calloc(n, sizeof *positions)) == NULL)
		log_fatal("commands: out of memory");
	code = commands_session_enroll(ctx, session, people, n, outcomes,
	    positions);
	free(people);
	free(outcomes);
	free(positions);
	return code;
}

/* The session as a reply: its fields, reminders, enrollments if asked. */
static enum lectern_error
commands_session_result(struct commands_ctx *ctx, int64_t id, int detail,
    json_t **result)
{
	enum lectern_error	 code;
	json_t			*rs = NULL;

	code = store_session_get(id, detail, result, ctx->err,
	    sizeof ctx->err);
	if (code != LECTERN_OK)
		return code;
	if ((code = store_remind_list(id, &rs, ctx->err, sizeof ctx->err)) !=
	    LECTERN_OK) {
		json_decref(*result);
		*result = NULL;
		return code;
	}
	commands_set(*result, "reminder_schedule", rs);
	if (!json_is_null(json_object_get(*result, "rrule"))) {
		if ((code = store_occurrence_list(id, &rs, ctx->err,
		    sizeof ctx->err)) != LECTERN_OK) {
			json_decref(*result);
			*result = NULL;
			return code;
		}
		commands_set(*result, "occurrences", rs);
	}
	return LECTERN_OK;
}

static enum lectern_error
commands_session_add_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct store_session	 s;
	enum lectern_error	 code;
	char			 local[64], uid[32];
	char			*reminders = NULL;
	json_t			*v;
	int64_t			 id = 0;

	memset(&s, 0, sizeof s);
	if ((code = commands_check_session(ctx, args)) != LECTERN_OK)
		return code;
	/* A course's meeting unless it says otherwise. */
	if ((s.kind = commands_str(args, "kind")) == NULL) {
		if (json_object_get(args, "course") == NULL ||
		    json_is_null(json_object_get(args, "course")))
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "kind", "kind: required (one of %s), unless the "
			    "session belongs to a course", valid_kinds());
		s.kind = "course_meeting";
	}
	s.title = commands_str(args, "title");
	s.description = commands_str(args, "description");
	s.location = commands_str(args, "location");
	s.url = commands_str(args, "url");
	s.tz = commands_str(args, "tz");
	if (s.tz == NULL)
		s.tz = commands_zone();
	if (tz_parse(commands_str(args, "start"), s.tz, 0, "start",
	    &s.start_utc, local, sizeof local, ctx->err,
	    sizeof ctx->err) == -1) {
		ctx->field = "start";
		return LECTERN_E_INVALID_ARGUMENT;
	}
	s.start_local = local;
	s.duration = json_integer_value(json_object_get(args, "duration"));
	s.capacity = json_integer_value(json_object_get(args, "capacity"));
	v = json_object_get(args, "reminders");
	if (v == NULL)
		reminders = commands_default_reminders();
	else if (json_is_null(v)) {
		if ((reminders = strdup("[]")) == NULL)
			log_fatal("commands: out of memory");
	} else if ((reminders = commands_reminders(ctx, v)) == NULL)
		return LECTERN_E_INVALID_ARGUMENT;
	s.reminders = reminders;
	s.rrule = commands_str(args, "rrule");
	if ((code = commands_course_arg(ctx, args, &s.course_id)) !=
	    LECTERN_OK)
		goto fail;
	if (commands_uid_random(uid, sizeof uid) == -1) {
		code = commands_error(ctx, LECTERN_E_INTERNAL, NULL,
		    "cannot read random bytes for the session's UID");
		goto fail;
	}
	code = store_session_add(&s, uid, commands_cfg != NULL &&
	    commands_cfg->domain != NULL ? commands_cfg->domain : "localhost",
	    ctx->now, &id, ctx->err, sizeof ctx->err);
	if (code != LECTERN_OK)
		goto fail;
	if (s.course_id != 0 &&
	    (code = commands_session_join_course(ctx, id, s.course_id)) !=
	    LECTERN_OK)
		goto fail;
	if ((code = remind_sync(id, ctx->now, ctx->err, sizeof ctx->err)) !=
	    LECTERN_OK)
		goto fail;
	code = commands_session_result(ctx, id, 0, result);
fail:
	free(reminders);
	return code;
}

/* Equal strings, NULL equal only to NULL. */
static int
commands_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* The new value of an optional field: args when present, else current. */
static const char *
commands_pick(json_t *args, json_t *cur, const char *key)
{
	if (commands_has(args, key))
		return commands_str(args, key);
	return json_string_value(json_object_get(cur, key));
}

/*
 * The live (not cancelled) session or course (course) named by args' id,
 * as the new object *cur.
 */
static enum lectern_error
commands_live(struct commands_ctx *ctx, json_t *args, int course,
    int64_t *id, json_t **cur)
{
	enum lectern_error	 code;

	if ((code = commands_id(ctx, args, "id", id)) != LECTERN_OK)
		return code;
	code = course ? store_course_get(*id, 0, cur, ctx->err,
	    sizeof ctx->err) : store_session_get(*id, 0, cur, ctx->err,
	    sizeof ctx->err);
	if (code != LECTERN_OK)
		return commands_store(ctx, code, "id");
	if (commands_same(json_string_value(json_object_get(*cur, "status")),
	    "cancelled")) {
		json_decref(*cur);
		*cur = NULL;
		return commands_error(ctx, LECTERN_E_CONFLICT, "id",
		    "%s %" PRId64 " is cancelled", course ? "course" : "session",
		    *id);
	}
	return LECTERN_OK;
}


/* Fields of a session that update may change but never clear. */
static const char *const commands_required_fields[] = { "kind", "title",
	"start", "duration", "tz", NULL };

static enum lectern_error
commands_no_clear(struct commands_ctx *ctx, json_t *args)
{
	const char *const	*k;

	for (k = commands_required_fields; *k != NULL; k++) {
		if (json_is_null(json_object_get(args, *k)))
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    *k, "%s: cannot be cleared", *k);
	}
	return LECTERN_OK;
}

/*
 * The text an occurrence keeps of its own for key: the new value if args
 * has one (null: as the series), else what it had if that differs from
 * the series; NULL means "as the series".
 */
static const char *
commands_own(json_t *args, json_t *occ, json_t *series, const char *key)
{
	const char	*v;

	if (commands_has(args, key))
		return commands_str(args, key);
	v = json_string_value(json_object_get(occ, key));
	if (commands_same(v, json_string_value(json_object_get(series, key))))
		return NULL;
	return v;
}

/* Fields of a series that one occurrence cannot have of its own. */
static const char *const commands_series_fields[] = { "kind", "tz",
	"capacity", "reminders", "course", "rrule", NULL };

/*
 * session.update or session.cancel (cancel) of one occurrence of a
 * series: the occurrence gets its own row (start, duration, texts,
 * status) and a higher SEQUENCE, and everyone enrolled a REQUEST or
 * CANCEL for it alone (RECURRENCE-ID).
 */
static enum lectern_error
commands_occurrence_change(struct commands_ctx *ctx, json_t *args,
    int cancel, json_t **result)
{
	struct store_occurrence	 o;
	enum lectern_error	 code;
	json_t			*cur = NULL, *ovs = NULL, *occ = NULL, *it;
	const char *const	*k;
	const char		*zone, *st;
	char			 local[64], olocal[64];
	int64_t			 id = 0, rid, seq;

	if ((code = commands_live(ctx, args, 0, &id, &cur)) !=
	    LECTERN_OK)
		return code;
	if (json_is_null(json_object_get(cur, "rrule"))) {
		code = commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "occurrence", "occurrence: session %" PRId64 " does not "
		    "repeat", id);
		goto fail;
	}
	for (k = commands_series_fields; !cancel && *k != NULL; k++) {
		if (commands_has(args, *k)) {
			code = commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    *k, "%s: belongs to the whole series; change it "
			    "without occurrence", *k);
			goto fail;
		}
	}
	if (!cancel && ((code = commands_check_session(ctx, args)) !=
	    LECTERN_OK || (code = commands_no_clear(ctx, args)) != LECTERN_OK))
		goto fail;
	zone = json_string_value(json_object_get(cur, "tz"));
	if (tz_parse(commands_str(args, "occurrence"), zone, 0, "occurrence",
	    &rid, olocal, sizeof olocal, ctx->err, sizeof ctx->err) == -1) {
		code = commands_field(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "occurrence");
		goto fail;
	}
	/* It must be one of the series' own occurrences. */
	if ((code = store_occurrence_list(id, &ovs, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		goto fail;
	if ((occ = series_occurrences(cur, ovs, rid - 400LL * 86400,
	    rid + 400LL * 86400, ctx->err, sizeof ctx->err)) == NULL) {
		code = LECTERN_E_INTERNAL;
		goto fail;
	}
	it = series_find(occ, rid);
	if (it == NULL) {
		code = commands_error(ctx, LECTERN_E_NOT_FOUND, "occurrence",
		    "occurrence: session %" PRId64 " has no occurrence "
		    "starting %s (%s)", id, olocal, zone);
		goto fail;
	}
	if (commands_same(json_string_value(json_object_get(it, "status")),
	    "cancelled")) {
		code = commands_error(ctx, LECTERN_E_CONFLICT, "occurrence",
		    "occurrence %s of session %" PRId64 " is cancelled",
		    olocal, id);
		goto fail;
	}

	memset(&o, 0, sizeof o);
	o.recurrence_id = rid;
	tz_parse_utc(json_string_value(json_object_get(it, "start")),
	    &o.start_utc);
	o.start_local = json_string_value(json_object_get(it, "local_start"));
	o.duration = json_integer_value(json_object_get(it, "duration"));
	/* Texts of its own only where it differs from the series. */
	o.title = commands_own(args, it, cur, "title");
	o.description = commands_own(args, it, cur, "description");
	o.location = commands_own(args, it, cur, "location");
	o.url = commands_own(args, it, cur, "url");
	if (!cancel && (st = commands_str(args, "start")) != NULL) {
		if (tz_parse(st, zone, 0, "start", &o.start_utc, local,
		    sizeof local, ctx->err, sizeof ctx->err) == -1) {
			code = commands_field(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "start");
			goto fail;
		}
		o.start_local = local;
	}
	if (!cancel && commands_has(args, "duration"))
		o.duration = json_integer_value(json_object_get(args,
		    "duration"));
	/*
	 * One SEQUENCE counter per UID (RFC 5546): the occurrence takes the
	 * series' next value and the series keeps it, so that a later REQUEST
	 * for the whole series is never below a change already sent.
	 */
	seq = json_integer_value(json_object_get(cur, "sequence"));
	o.sequence = seq + 1;
	if ((code = store_session_bump(id, ctx->now, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		goto fail;
	o.cancelled = cancel;
	o.cancel_reason = cancel ? commands_str(args, "reason") : NULL;
	if ((code = store_occurrence_put(id, &o, ctx->now, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		goto fail;
	code = notify_occurrence_all(id, rid, cancel ? MAIL_CANCEL :
	    MAIL_UPDATE, o.cancel_reason, ctx->now, ctx->err,
	    sizeof ctx->err);
	if (code == LECTERN_OK)
		code = remind_sync(id, ctx->now, ctx->err, sizeof ctx->err);
	if (code == LECTERN_OK)
		code = commands_session_result(ctx, id, 0, result);
fail:
	json_decref(occ);
	json_decref(ovs);
	json_decref(cur);
	return code;
}

static enum lectern_error
commands_session_update_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct store_session	 s;
	enum lectern_error	 code;
	json_t			*cur = NULL, *v;
	char			 local[64];
	char			*reminders = NULL;
	const char		*start;
	int64_t			 id = 0, cur_start, cur_course, capacity;
	int			 bump;

	if (commands_has(args, "occurrence"))
		return commands_occurrence_change(ctx, args, 0, result);
	memset(&s, 0, sizeof s);
	if ((code = commands_live(ctx, args, 0, &id, &cur)) !=
	    LECTERN_OK)
		return code;
	if ((code = commands_check_session(ctx, args)) != LECTERN_OK)
		goto fail;
	if ((code = commands_no_clear(ctx, args)) != LECTERN_OK)
		goto fail;
	s.kind = commands_pick(args, cur, "kind");
	s.title = commands_pick(args, cur, "title");
	s.description = commands_pick(args, cur, "description");
	s.location = commands_pick(args, cur, "location");
	s.url = commands_pick(args, cur, "url");
	s.rrule = commands_pick(args, cur, "rrule");
	s.tz = commands_pick(args, cur, "tz");
	if (tz_parse_utc(json_string_value(json_object_get(cur, "start")),
	    &cur_start) == -1) {
		code = commands_error(ctx, LECTERN_E_INTERNAL, NULL,
		    "session %" PRId64 " has an unreadable start", id);
		goto fail;
	}
	if ((start = commands_str(args, "start")) != NULL) {
		if (tz_parse(start, s.tz, 0, "start", &s.start_utc, local,
		    sizeof local, ctx->err, sizeof ctx->err) == -1) {
			code = commands_field(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "start");
			goto fail;
		}
		s.start_local = local;
	} else if (commands_has(args, "tz") && !commands_same(s.tz,
	    json_string_value(json_object_get(cur, "tz")))) {
		/* The wall time stays; the zone it is read in changes. */
		if (tz_parse(json_string_value(json_object_get(cur,
		    "local_start")), s.tz, 0, "start", &s.start_utc, local,
		    sizeof local, ctx->err, sizeof ctx->err) == -1) {
			code = commands_field(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "tz");
			goto fail;
		}
		s.start_local = local;
	} else {
		s.start_utc = cur_start;
		s.start_local = json_string_value(json_object_get(cur,
		    "local_start"));
	}
	v = json_object_get(args, "duration");
	s.duration = json_integer_value(v != NULL ? v :
	    json_object_get(cur, "duration"));
	v = json_object_get(args, "capacity");
	s.capacity = json_integer_value(v != NULL ? v :
	    json_object_get(cur, "capacity"));
	/* Absent: keep the current list; null: no reminders. */
	if ((v = json_object_get(args, "reminders")) == NULL)
		v = json_object_get(cur, "reminders");
	if (json_is_null(v)) {
		if ((reminders = strdup("[]")) == NULL)
			log_fatal("commands: out of memory");
	} else if ((reminders = commands_reminders(ctx, v)) == NULL) {
		code = LECTERN_E_INVALID_ARGUMENT;
		goto fail;
	}
	s.reminders = reminders;
	cur_course = json_integer_value(json_object_get(cur, "course"));
	if (commands_has(args, "course")) {
		if ((code = commands_course_arg(ctx, args, &s.course_id)) !=
		    LECTERN_OK)
			goto fail;
	} else
		s.course_id = cur_course;

	bump = !commands_same(s.kind, commands_pick(NULL, cur, "kind")) ||
	    !commands_same(s.title, commands_pick(NULL, cur, "title")) ||
	    !commands_same(s.description, commands_pick(NULL, cur,
	    "description")) ||
	    !commands_same(s.location, commands_pick(NULL, cur, "location")) ||
	    !commands_same(s.url, commands_pick(NULL, cur, "url")) ||
	    !commands_same(s.rrule, commands_pick(NULL, cur, "rrule")) ||
	    !commands_same(s.tz, commands_pick(NULL, cur, "tz")) ||
	    s.start_utc != cur_start ||
	    s.duration != json_integer_value(json_object_get(cur, "duration"));
	capacity = json_integer_value(json_object_get(cur, "capacity"));

	code = store_session_update(id, &s, bump, ctx->now, ctx->err,
	    sizeof ctx->err);
	if (code != LECTERN_OK)
		goto fail;
	/*
	 * A series moved or given another rule has other occurrences: what
	 * was said of the old ones no longer applies, and the new REQUEST
	 * replaces the whole series in every calendar.
	 */
	if ((s.start_utc != cur_start || !commands_same(s.rrule,
	    commands_pick(NULL, cur, "rrule")) || !commands_same(s.tz,
	    commands_pick(NULL, cur, "tz"))) &&
	    (code = store_occurrence_clear(id, ctx->err, sizeof ctx->err)) !=
	    LECTERN_OK)
		goto fail;
	/* Everyone already enrolled sees the new revision. */
	if (bump && (code = notify_session_all(id, MAIL_UPDATE, NULL,
	    ctx->now, ctx->err, sizeof ctx->err)) != LECTERN_OK)
		goto fail;
	if (s.course_id != 0 && s.course_id != cur_course &&
	    (code = commands_session_join_course(ctx, id, s.course_id)) !=
	    LECTERN_OK)
		goto fail;
	if ((s.capacity == 0 && capacity != 0) || s.capacity > capacity) {
		if ((code = commands_promote(ctx, 0, id, NULL)) != LECTERN_OK)
			goto fail;
	}
	if ((code = remind_sync(id, ctx->now, ctx->err, sizeof ctx->err)) !=
	    LECTERN_OK)
		goto fail;
	code = commands_session_result(ctx, id, 0, result);
fail:
	free(reminders);
	json_decref(cur);
	return code;
}

/* Cancel a live session: CANCEL to everyone enrolled, reminders off. */
static enum lectern_error
commands_cancel_session(struct commands_ctx *ctx, int64_t id,
    const char *reason)
{
	enum lectern_error	 code;

	code = store_session_cancel(id, reason, ctx->now, ctx->err,
	    sizeof ctx->err);
	if (code != LECTERN_OK)
		return commands_store(ctx, code, "id");
	code = notify_session_all(id, MAIL_CANCEL, reason, ctx->now, ctx->err,
	    sizeof ctx->err);
	if (code == LECTERN_OK)
		code = remind_sync(id, ctx->now, ctx->err, sizeof ctx->err);
	return code;
}

static enum lectern_error
commands_session_cancel_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	json_t			*cur = NULL;
	int64_t			 id = 0;

	if ((code = commands_text(ctx, args, "reason", LECTERN_TEXT_MAX, 0)) !=
	    LECTERN_OK)
		return code;
	if (commands_has(args, "occurrence"))
		return commands_occurrence_change(ctx, args, 1, result);
	if ((code = commands_live(ctx, args, 0, &id, &cur)) !=
	    LECTERN_OK)
		return code;
	json_decref(cur);
	code = commands_cancel_session(ctx, id, commands_str(args, "reason"));
	if (code != LECTERN_OK)
		return code;
	return commands_session_result(ctx, id, 0, result);
}

static enum lectern_error
commands_session_get_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	int64_t			 id = 0;

	if ((code = commands_id(ctx, args, "id", &id)) != LECTERN_OK)
		return code;
	code = commands_session_result(ctx, id, 1, result);
	return commands_store(ctx, code, "id");
}

/* Order sessions and occurrences by start, then id. */
static int
commands_start_cmp(const void *a, const void *b)
{
	json_t *const	*x = a, *const *y = b;
	int		 c;

	c = strcmp(json_string_value(json_object_get(*x, "start")),
	    json_string_value(json_object_get(*y, "start")));
	if (c != 0)
		return c;
	return (int)(json_integer_value(json_object_get(*x, "id")) -
	    json_integer_value(json_object_get(*y, "id")));
}

/* session.list with expand: each series as its occurrences in the window. */
static enum lectern_error
commands_expand(struct commands_ctx *ctx,
    const struct store_session_filter *f, int64_t limit, json_t **result)
{
	enum lectern_error	 code;
	json_t			*all = NULL, *out, *v, *occ, *ov, *o;
	json_t			**rows = NULL;
	size_t			 i, j, n = 0, cap = 0;
	int64_t			 start;

	struct store_session_filter g = *f;

	/* A live series may have cancelled occurrences: filter each one. */
	g.status = NULL;
	if ((code = store_session_list(&g, &all, ctx->err, sizeof ctx->err)) !=
	    LECTERN_OK)
		return code;
	json_array_foreach(all, i, v) {
		occ = NULL;
		if (json_is_null(json_object_get(v, "rrule"))) {
			if (tz_parse_utc(json_string_value(json_object_get(v,
			    "start")), &start) == -1 || start < f->from ||
			    start >= f->to)
				continue;
			occ = json_pack("[O]", v);
		} else {
			ov = NULL;
			code = store_occurrence_list(json_integer_value(
			    json_object_get(v, "id")), &ov, ctx->err,
			    sizeof ctx->err);
			if (code == LECTERN_OK && (occ = series_occurrences(v,
			    ov, f->from, f->to, ctx->err,
			    sizeof ctx->err)) == NULL)
				code = LECTERN_E_INTERNAL;
			json_decref(ov);
			if (code != LECTERN_OK)
				goto fail;
		}
		json_array_foreach(occ, j, o) {
			if (f->status != NULL && !commands_same(
			    json_string_value(json_object_get(o, "status")),
			    f->status))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				if ((rows = reallocarray(rows, cap,
				    sizeof *rows)) == NULL)
					log_fatal("commands: out of memory");
			}
			rows[n++] = json_incref(o);
		}
		json_decref(occ);
		/* Only the first limit rows are wanted: keep memory bounded. */
		if ((int64_t)n > 2 * limit) {
			qsort(rows, n, sizeof *rows, commands_start_cmp);
			while ((int64_t)n > limit)
				json_decref(rows[--n]);
		}
	}
	/* qsort's array may not be NULL, even for no rows. */
	if (n > 1)
		qsort(rows, n, sizeof *rows, commands_start_cmp);
	out = commands_array();
	for (i = 0; i < n; i++) {
		if ((int64_t)i < limit)
			commands_append(out, rows[i]);
		else
			json_decref(rows[i]);
	}
	*result = out;
fail:
	if (code != LECTERN_OK)
		for (i = 0; i < n; i++)
			json_decref(rows[i]);
	free(rows);
	json_decref(all);
	return code;
}

static enum lectern_error
commands_session_list_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct store_session_filter	 f;
	enum lectern_error		 code;
	const char			*s;
	int64_t				 limit;

	memset(&f, 0, sizeof f);
	if ((s = commands_str(args, "from")) != NULL) {
		if (tz_parse(s, commands_zone(), 1, "from", &f.from, NULL, 0,
		    ctx->err, sizeof ctx->err) == -1)
			return commands_field(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "from");
		f.has_from = 1;
	}
	if ((s = commands_str(args, "to")) != NULL) {
		if (tz_parse(s, commands_zone(), 1, "to", &f.to, NULL, 0,
		    ctx->err, sizeof ctx->err) == -1)
			return commands_field(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "to");
		f.has_to = 1;
	}
	if ((s = commands_str(args, "kind")) != NULL) {
		if (valid_kind(s, "kind", ctx->err, sizeof ctx->err) == -1)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "kind", "kind: must be one of %s", valid_kinds());
		f.kind = s;
	}
	if ((s = commands_str(args, "status")) != NULL) {
		if (strcmp(s, "scheduled") != 0 && strcmp(s, "cancelled") != 0)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "status", "status: must be scheduled or cancelled");
		f.status = s;
	}
	if (commands_has(args, "course") &&
	    (code = commands_id(ctx, args, "course", &f.course_id)) !=
	    LECTERN_OK)
		return code;
	if ((code = commands_limit(ctx, args, LECTERN_LIST_MAX,
	    LECTERN_LIST_MAX, &f.limit)) != LECTERN_OK)
		return code;
	if (!json_is_true(json_object_get(args, "expand")))
		return store_session_list(&f, result, ctx->err,
		    sizeof ctx->err);
	/* Occurrences in a window: from now for 90 days unless given. */
	if (!f.has_from)
		f.from = ctx->now;
	if (!f.has_to)
		f.to = f.from + COMMANDS_EXPAND_DAYS * 86400;
	if (f.to - f.from > COMMANDS_EXPAND_MAX_DAYS * 86400)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "to",
		    "to: at most %d days after from when expanding series",
		    COMMANDS_EXPAND_MAX_DAYS);
	f.has_from = f.has_to = 1;
	f.series = 1;
	limit = f.limit;
	f.limit = -1;
	return commands_expand(ctx, &f, limit, result);
}

/* replies */

static const char *const commands_rsvps[] = { "needs_action", "accepted",
	"declined", "tentative", NULL };

/*
 * Record person's answer for session, and what follows from it: a
 * decline frees the seat for the first person waiting; taking a decline
 * back with every seat gone puts the person on the waitlist (and tells
 * them). o gets "rsvp", "promoted" and, if so, "waitlisted".
 */
static enum lectern_error
commands_answer(struct commands_ctx *ctx, int64_t session, int64_t person,
    const char *rsvp, json_t *o)
{
	struct store_rsvp_result r;
	enum lectern_error	 code;
	json_t			*promoted = commands_array();

	code = store_rsvp(session, person, rsvp, &r, ctx->err,
	    sizeof ctx->err);
	if (code == LECTERN_OK && r.waitlisted) {
		json_decref(promoted);
		return commands_error(ctx, LECTERN_E_CONFLICT, "person",
		    "person %" PRId64 " is on the waiting list of session %"
		    PRId64 ", not invited yet; unenroll them instead", person,
		    session);
	}
	if (code == LECTERN_OK && r.freed)
		code = commands_promote(ctx, 0, session, promoted);
	if (code == LECTERN_OK && r.rewaited &&
	    (code = commands_waitlist_order(ctx, 0, session)) == LECTERN_OK)
		code = store_waitlist_position(0, session, person, &r.position,
		    ctx->err, sizeof ctx->err);
	if (code == LECTERN_OK && r.rewaited)
		code = notify_waitlist(session, &person, &r.position, 1,
		    ctx->now, ctx->err, sizeof ctx->err);
	if (code != LECTERN_OK) {
		json_decref(promoted);
		return code;
	}
	commands_set(o, "rsvp", json_string(rsvp));
	commands_set(o, "previous", json_string(r.old));
	commands_set(o, "promoted", promoted);
	if (r.rewaited)
		commands_set(o, "waitlisted", json_integer(r.position));
	return LECTERN_OK;
}

static enum lectern_error
commands_rsvp_cb(struct commands_ctx *ctx, json_t *args, json_t **result)
{
	enum lectern_error	 code;
	const char		*rsvp = commands_str(args, "rsvp");
	const char *const	*k;
	json_t			*o;
	char			 email[LECTERN_EMAIL_MAX + 1];
	int64_t			 session = 0, person = 0;

	for (k = commands_rsvps; *k != NULL && strcmp(*k, rsvp) != 0; k++)
		;
	if (*k == NULL)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "rsvp",
		    "rsvp: must be accepted, declined, tentative or "
		    "needs_action");
	if ((code = commands_id(ctx, args, "session", &session)) !=
	    LECTERN_OK ||
	    (code = commands_person_ref(ctx, json_object_get(args, "person"),
	    "person", &person, email, sizeof email)) != LECTERN_OK)
		return code;
	o = commands_object();
	commands_set(o, "session", json_integer(session));
	commands_set(o, "person", commands_person_json(person, email));
	if ((code = commands_answer(ctx, session, person, rsvp, o)) !=
	    LECTERN_OK) {
		json_decref(o);
		return commands_store(ctx, code, "session");
	}
	*result = o;
	return LECTERN_OK;
}

/* The address of a CAL-ADDRESS ("mailto:x@y", any case), or NULL. */
static const char *
commands_mailto(const char *v)
{
	if (v == NULL || strncasecmp(v, "mailto:", 7) != 0)
		return NULL;
	return v + 7;
}

/*
 * One VEVENT of an iTIP REPLY (RFC 5546 3.2.3): matched by UID, stale if
 * its SEQUENCE is lower than the session's, and only the answer of an
 * attendee who is enrolled under that very address counts.
 */
static enum lectern_error
commands_reply_event(struct commands_ctx *ctx, icalcomponent *ev, json_t *o)
{
	enum lectern_error	 code;
	icalproperty		*p;
	icalparameter		*ps;
	const char		*uid, *addr, *rsvp = NULL;
	char			 email[LECTERN_EMAIL_MAX + 1];
	int64_t			 id, seq, person;
	int			 cancelled, n = 0;

	uid = icalcomponent_get_uid(ev);
	if (uid == NULL || valid_text(uid, COMMANDS_UID_MAX, 0, 0, "uid",
	    ctx->err, sizeof ctx->err) == -1)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "ical",
		    "ical: the reply has no usable UID");
	commands_set(o, "uid", json_string(uid));
	code = store_session_by_uid(uid, &id, &seq, &cancelled, ctx->err,
	    sizeof ctx->err);
	if (code == LECTERN_E_NOT_FOUND) {
		commands_set(o, "outcome", json_string("unknown"));
		return LECTERN_OK;
	}
	if (code != LECTERN_OK)
		return code;
	commands_set(o, "session", json_integer(id));
	if (icalcomponent_get_first_property(ev,
	    ICAL_RECURRENCEID_PROPERTY) != NULL) {
		/* An answer for one occurrence: seats are per series. */
		commands_set(o, "outcome", json_string("ignored"));
		commands_set(o, "why", json_string("answers for one "
		    "occurrence are not tracked"));
		return LECTERN_OK;
	}
	p = icalcomponent_get_first_property(ev, ICAL_SEQUENCE_PROPERTY);
	if (cancelled || (p != NULL && icalproperty_get_sequence(p) < seq)) {
		commands_set(o, "outcome", json_string("stale"));
		return LECTERN_OK;
	}
	/* A REPLY carries exactly the one attendee who answers. */
	for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY))
		n++;
	p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	if (n != 1 || (addr = commands_mailto(icalproperty_get_attendee(p))) ==
	    NULL)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "ical",
		    "ical: a reply names exactly one attendee (mailto:)");
	if ((ps = icalproperty_get_first_parameter(p,
	    ICAL_PARTSTAT_PARAMETER)) != NULL) {
		switch (icalparameter_get_partstat(ps)) {
		case ICAL_PARTSTAT_ACCEPTED:
			rsvp = "accepted";
			break;
		case ICAL_PARTSTAT_DECLINED:
			rsvp = "declined";
			break;
		case ICAL_PARTSTAT_TENTATIVE:
			rsvp = "tentative";
			break;
		case ICAL_PARTSTAT_NEEDSACTION:
			rsvp = "needs_action";
			break;
		default:
			break;
		}
	}
	if (rsvp == NULL)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "ical",
		    "ical: the attendee's PARTSTAT must be ACCEPTED, DECLINED, "
		    "TENTATIVE or NEEDS-ACTION");
	if (valid_email(addr, "ical", ctx->err, sizeof ctx->err) == -1)
		return commands_field(ctx, LECTERN_E_INVALID_ARGUMENT, "ical");
	code = store_person_find(0, addr, &person, email, sizeof email,
	    ctx->err, sizeof ctx->err);
	if (code == LECTERN_E_NOT_FOUND) {
		commands_set(o, "outcome", json_string("not_invited"));
		return LECTERN_OK;
	}
	if (code != LECTERN_OK)
		return code;
	commands_set(o, "person", commands_person_json(person, email));
	code = commands_answer(ctx, id, person, rsvp, o);
	if (code == LECTERN_E_NOT_FOUND || code == LECTERN_E_CONFLICT) {
		/* Not (or no longer) invited: nothing to record. */
		commands_set(o, "outcome", json_string("not_invited"));
		ctx->field = NULL;
		return LECTERN_OK;
	}
	if (code == LECTERN_OK)
		commands_set(o, "outcome", json_string("recorded"));
	return code;
}

static enum lectern_error
commands_reply_cb(struct commands_ctx *ctx, json_t *args, json_t **result)
{
	enum lectern_error	 code = LECTERN_OK;
	icalcomponent		*cal, *ev;
	icalproperty		*m;
	const char		*text = commands_str(args, "ical");
	json_t			*a, *o;

	if (valid_text(text, COMMANDS_ICAL_MAX, 0, 1, "ical", ctx->err,
	    sizeof ctx->err) == -1)
		return commands_field(ctx, LECTERN_E_INVALID_ARGUMENT, "ical");
	icalerror_clear_errno();
	cal = icalparser_parse_string(text);
	icalerror_clear_errno();
	if (cal == NULL ||
	    icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		if (cal != NULL)
			icalcomponent_free(cal);
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "ical",
		    "ical: not an iCalendar object (BEGIN:VCALENDAR)");
	}
	m = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY);
	if (m == NULL || icalproperty_get_method(m) != ICAL_METHOD_REPLY) {
		icalcomponent_free(cal);
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "ical",
		    "ical: only METHOD:REPLY (an answer to an invitation) is "
		    "taken");
	}
	a = commands_array();
	for (ev = icalcomponent_get_first_component(cal,
	    ICAL_VEVENT_COMPONENT); ev != NULL && code == LECTERN_OK;
	    ev = icalcomponent_get_next_component(cal,
	    ICAL_VEVENT_COMPONENT)) {
		o = commands_object();
		code = commands_reply_event(ctx, ev, o);
		commands_append(a, o);
	}
	icalcomponent_free(cal);
	if (code == LECTERN_OK && json_array_size(a) == 0)
		code = commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "ical",
		    "ical: the reply has no VEVENT");
	if (code != LECTERN_OK) {
		json_decref(a);
		return code;
	}
	*result = commands_object();
	commands_set(*result, "events", a);
	return LECTERN_OK;
}

/* courses */

/* A "YYYY-MM-DD" calendar date (years 1970..2200), or NULL. */
static enum lectern_error
commands_check_day(struct commands_ctx *ctx, json_t *args, const char *key)
{
	const char	*s = commands_str(args, key);
	int		 y, m, d, n = 0;

	if (s == NULL)
		return LECTERN_OK;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d,
	    &n) != 3 || n != 10 || s[4] != '-' || s[7] != '-' ||
	    !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[5]) ||
	    !isdigit((unsigned char)s[8]) || y < 1970 || y > 2200 || m < 1 ||
	    m > 12 || d < 1 || d > icaltime_days_in_month(m, y))
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, key,
		    "%s: must be a date such as 2026-12-01", key);
	return LECTERN_OK;
}

/* Validate the course fields present in args (add and update share it). */
static enum lectern_error
commands_check_course(struct commands_ctx *ctx, json_t *args)
{
	enum lectern_error	 code;
	json_t			*v;

	if ((code = commands_text(ctx, args, "title", LECTERN_TEXT_MAX, 0)) !=
	    LECTERN_OK)
		return code;
	commands_normalise_newlines(args, "description");
	if ((code = commands_text(ctx, args, "description", LECTERN_DESC_MAX,
	    1)) != LECTERN_OK ||
	    (code = commands_text(ctx, args, "provider", LECTERN_TEXT_MAX,
	    0)) != LECTERN_OK ||
	    (code = commands_check_day(ctx, args, "first_day")) !=
	    LECTERN_OK ||
	    (code = commands_check_day(ctx, args, "last_day")) != LECTERN_OK)
		return code;
	if ((v = json_object_get(args, "hours")) != NULL &&
	    !json_is_null(v) && (json_integer_value(v) < 0 ||
	    json_integer_value(v) > COMMANDS_HOURS_MAX))
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "hours",
		    "hours: must be an integer from 0 to %d",
		    COMMANDS_HOURS_MAX);
	if (json_is_integer(json_object_get(args, "capacity")))
		return commands_check_capacity(ctx,
		    json_object_get(args, "capacity"));
	return LECTERN_OK;
}

/* The course's period must not end before it starts. */
static enum lectern_error
commands_course_period(struct commands_ctx *ctx, const struct store_course *c)
{
	if (c->first_day != NULL && c->last_day != NULL &&
	    strcmp(c->first_day, c->last_day) > 0)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "last_day", "last_day: %s is before first_day %s",
		    c->last_day, c->first_day);
	return LECTERN_OK;
}

static enum lectern_error
commands_course_add_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct store_course	 c;
	enum lectern_error	 code;
	json_t			*v;
	char			 uid[32];
	int64_t			 id = 0;

	if ((code = commands_check_course(ctx, args)) != LECTERN_OK)
		return code;
	memset(&c, 0, sizeof c);
	c.title = commands_str(args, "title");
	c.description = commands_str(args, "description");
	c.provider = commands_str(args, "provider");
	v = json_object_get(args, "hours");
	c.hours = json_is_integer(v) ? json_integer_value(v) : -1;
	c.first_day = commands_str(args, "first_day");
	c.last_day = commands_str(args, "last_day");
	c.capacity = json_integer_value(json_object_get(args, "capacity"));
	v = json_object_get(args, "counts_for_recertification");
	c.counts = v == NULL || json_is_true(v);
	if ((code = commands_course_period(ctx, &c)) != LECTERN_OK)
		return code;
	if (commands_uid_random(uid, sizeof uid) == -1)
		return commands_error(ctx, LECTERN_E_INTERNAL, NULL,
		    "cannot read random bytes for the course's UID");
	code = store_course_add(&c, uid, commands_cfg != NULL &&
	    commands_cfg->domain != NULL ? commands_cfg->domain : "localhost",
	    ctx->now, &id, ctx->err, sizeof ctx->err);
	if (code != LECTERN_OK)
		return code;
	return store_course_get(id, 0, result, ctx->err, sizeof ctx->err);
}


static enum lectern_error
commands_course_update_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct store_course	 c;
	enum lectern_error	 code;
	json_t			*cur = NULL, *v;
	int64_t			 id = 0, capacity;
	int			 bump;

	if ((code = commands_live(ctx, args, 1, &id, &cur)) !=
	    LECTERN_OK)
		return code;
	if ((code = commands_check_course(ctx, args)) != LECTERN_OK)
		goto fail;
	if (json_is_null(json_object_get(args, "title"))) {
		code = commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "title",
		    "title: cannot be cleared");
		goto fail;
	}
	memset(&c, 0, sizeof c);
	c.title = commands_pick(args, cur, "title");
	c.description = commands_pick(args, cur, "description");
	c.provider = commands_pick(args, cur, "provider");
	c.first_day = commands_pick(args, cur, "first_day");
	c.last_day = commands_pick(args, cur, "last_day");
	v = commands_has(args, "hours") ? json_object_get(args, "hours") :
	    json_object_get(cur, "hours");
	c.hours = json_is_integer(v) ? json_integer_value(v) : -1;
	v = json_object_get(args, "capacity");
	c.capacity = json_integer_value(v != NULL ? v :
	    json_object_get(cur, "capacity"));
	v = json_object_get(args, "counts_for_recertification");
	c.counts = json_is_true(v != NULL ? v :
	    json_object_get(cur, "counts_for_recertification"));
	if ((code = commands_course_period(ctx, &c)) != LECTERN_OK)
		goto fail;
	/* What a teacher's calendar shows of the course. */
	bump = !commands_same(c.title, commands_pick(NULL, cur, "title")) ||
	    !commands_same(c.description, commands_pick(NULL, cur,
	    "description")) ||
	    !commands_same(c.first_day, commands_pick(NULL, cur,
	    "first_day")) ||
	    !commands_same(c.last_day, commands_pick(NULL, cur, "last_day"));
	capacity = json_integer_value(json_object_get(cur, "capacity"));
	code = store_course_update(id, &c, bump, ctx->now, ctx->err,
	    sizeof ctx->err);
	if (code != LECTERN_OK)
		goto fail;
	if (bump && (code = notify_course_all(id, MAIL_COURSE_UPDATE,
	    NULL, ctx->now, ctx->err, sizeof ctx->err)) != LECTERN_OK)
		goto fail;
	if ((c.capacity == 0 && capacity != 0) || c.capacity > capacity) {
		if ((code = commands_promote(ctx, 1, id, NULL)) != LECTERN_OK)
			goto fail;
	}
	code = store_course_get(id, 0, result, ctx->err, sizeof ctx->err);
fail:
	json_decref(cur);
	return code;
}

static enum lectern_error
commands_course_cancel_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	json_t			*cur = NULL;
	const char		*reason = commands_str(args, "reason");
	int64_t			 id = 0, *ids = NULL;
	size_t			 i, n = 0;

	if ((code = commands_text(ctx, args, "reason", LECTERN_TEXT_MAX, 0)) !=
	    LECTERN_OK)
		return code;
	if ((code = commands_live(ctx, args, 1, &id, &cur)) !=
	    LECTERN_OK)
		return code;
	json_decref(cur);
	code = store_course_cancel(id, reason, ctx->now, ctx->err,
	    sizeof ctx->err);
	if (code != LECTERN_OK)
		return commands_store(ctx, code, "id");
	/* Its meetings go with it, each with its own CANCEL. */
	code = store_course_sessions(id, &ids, &n, ctx->err, sizeof ctx->err);
	for (i = 0; i < n && code == LECTERN_OK; i++)
		code = commands_cancel_session(ctx, ids[i], reason);
	free(ids);
	if (code == LECTERN_OK)
		code = notify_course_all(id, MAIL_COURSE_CANCEL, reason,
		    ctx->now, ctx->err, sizeof ctx->err);
	if (code != LECTERN_OK)
		return code;
	return store_course_get(id, 0, result, ctx->err, sizeof ctx->err);
}

static enum lectern_error
commands_course_get_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	int64_t			 id = 0;

	if ((code = commands_id(ctx, args, "id", &id)) != LECTERN_OK)
		return code;
	code = store_course_get(id, 1, result, ctx->err, sizeof ctx->err);
	return commands_store(ctx, code, "id");
}

static enum lectern_error
commands_course_list_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	const char		*status = commands_str(args, "status");
	int64_t			 limit;

	if ((code = commands_check_day(ctx, args, "from")) != LECTERN_OK ||
	    (code = commands_check_day(ctx, args, "to")) != LECTERN_OK)
		return code;
	if (status != NULL && strcmp(status, "scheduled") != 0 &&
	    strcmp(status, "cancelled") != 0)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "status", "status: must be scheduled or cancelled");
	if ((code = commands_limit(ctx, args, LECTERN_LIST_MAX,
	    LECTERN_LIST_MAX, &limit)) != LECTERN_OK)
		return code;
	return store_course_list(commands_str(args, "from"),
	    commands_str(args, "to"), status, limit, result, ctx->err,
	    sizeof ctx->err);
}

/* enroll, unenroll */

/* "session" or "course", exactly one: *course says which. */
static enum lectern_error
commands_target(struct commands_ctx *ctx, json_t *args, int *course,
    int64_t *target)
{
	int	 hs, hc;

	hs = commands_has(args, "session");
	hc = commands_has(args, "course");
	if (hs && hc)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "course", "course: give a session or a course, not both");
	if (!hs && !hc)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "session", "session: a session or a course is required");
	*course = hc;
	return commands_id(ctx, args, hc ? "course" : "session", target);
}

/* Add the people in refs to the list unless already there (seen by id). */
static void
commands_merge(json_t *list, json_t *seen, json_t *refs)
{
	json_t	*v;
	size_t	 i;
	char	 key[32];

	json_array_foreach(refs, i, v) {
		snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(v, "id")));
		if (json_object_get(seen, key) != NULL)
			continue;
		commands_set(seen, key, json_true());
		commands_append(list, json_incref(v));
	}
}

static enum lectern_error
commands_enroll_cb(struct commands_ctx *ctx, json_t *args, json_t **result)
{
	enum lectern_error	 code;
	json_t			*list, *seen, *refs = NULL, *v, *o, *ref;
	json_t			*enrolled, *waitlisted, *already;
	int64_t			 target, gid, *ids = NULL, *gids = NULL;
	int64_t			*positions = NULL, *fan = NULL, selected = 0;
	int			*outcomes = NULL, course, by_status;
	size_t			 i, j, n, ng, nfan = 0;
	char			 email[LECTERN_EMAIL_MAX + 1];

	if ((code = commands_target(ctx, args, &course, &target)) !=
	    LECTERN_OK)
		return code;
	list = commands_array();
	seen = commands_object();
	if ((v = json_object_get(args, "people")) != NULL) {
		if ((code = commands_people(ctx, v, "people", &ids, &refs)) !=
		    LECTERN_OK)
			goto fail;
		commands_merge(list, seen, refs);
		json_decref(refs);
		refs = NULL;
		free(ids);
		ids = NULL;
	}
	json_array_foreach(json_object_get(args, "groups"), i, v) {
		if (!json_is_string(v)) {
			code = commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "groups", "groups: every group is a name (string)");
			goto fail;
		}
		code = store_group_find(json_string_value(v), &gid, ctx->err,
		    sizeof ctx->err);
		if ((code = commands_store(ctx, code, "groups")) != LECTERN_OK)
			goto fail;
		if ((code = store_group_people(gid, &gids, &ng, ctx->err,
		    sizeof ctx->err)) != LECTERN_OK)
			goto fail;
		refs = commands_array();
		for (j = 0; j < ng; j++) {
			if ((code = store_person_find(gids[j], NULL, &gid,
			    email, sizeof email, ctx->err,
			    sizeof ctx->err)) != LECTERN_OK)
				goto fail;
			commands_append(refs, commands_person_json(gids[j],
			    email));
		}
		free(gids);
		gids = NULL;
		commands_merge(list, seen, refs);
		json_decref(refs);
		refs = NULL;
		if (json_array_size(list) > LECTERN_ENROLL_MAX) {
			code = commands_error(ctx, LECTERN_E_TOO_LARGE,
			    "groups", "groups: at most %d people at once",
			    LECTERN_ENROLL_MAX);
			goto fail;
		}
	}
	/* People by recertification status (selecting nobody is no error). */
	by_status = commands_has(args, "status") ||
	    commands_has(args, "due_within");
	if ((code = commands_enroll_select(ctx, args, list, seen,
	    &selected)) != LECTERN_OK)
		goto fail;
	n = json_array_size(list);
	if (n > LECTERN_ENROLL_MAX) {
		code = commands_error(ctx, LECTERN_E_TOO_LARGE, "people",
		    "people: at most %d people at once", LECTERN_ENROLL_MAX);
		goto fail;
	}
	if (n == 0 && !by_status) {
		code = commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "people", "people: name at least one person (people or "
		    "groups)");
		goto fail;
	}
	if ((ids = calloc(n + 1, sizeof *ids)) == NULL ||
	    (fan = calloc(n + 1, sizeof *fan)) == NULL ||
	    (positions = calloc(n + 1, sizeof *positions)) == NULL ||
	    (outcomes = calloc(n + 1, sizeof *outcomes)) == NULL)
		log_fatal("commands: out of memory");
	json_array_foreach(list, i, v)
		ids[i] = json_integer_value(json_object_get(v, "id"));
	if (course) {
		code = store_enroll(1, target, ids, n, ctx->now, outcomes,
		    positions, ctx->err, sizeof ctx->err);
		if (code == LECTERN_OK)
			code = commands_waitlist_joined(ctx, 1, target, ids, n,
			    outcomes, positions);
	} else
		code = commands_session_enroll(ctx, target, ids, n, outcomes,
		    positions);
	if ((code = commands_store(ctx, code, course ? "course" : "session")) !=
	    LECTERN_OK)
		goto fail;
	enrolled = commands_array();
	waitlisted = commands_array();
	already = commands_array();
	json_array_foreach(list, i, ref) {
		switch (outcomes[i]) {
		case STORE_ENROLLED:
			commands_append(enrolled, json_incref(ref));
			fan[nfan++] = ids[i];
			break;
		case STORE_WAITLISTED:
			o = json_deep_copy(ref);
			commands_set(o, "position", json_integer(positions[i]));
			commands_append(waitlisted, o);
			break;
		default:
			commands_append(already, json_incref(ref));
			break;
		}
	}
	o = commands_object();
	commands_set(o, "enrolled", enrolled);
	commands_set(o, "waitlisted", waitlisted);
	commands_set(o, "already", already);
	if (by_status)
		commands_set(o, "selected", json_integer(selected));
	if (course && ((code = notify_course(target, MAIL_COURSE_INVITE, fan,
	    NULL, nfan, NULL, ctx->now, ctx->err, sizeof ctx->err)) !=
	    LECTERN_OK || (code = commands_waitlist_notify(ctx, 1, target,
	    ids, n, outcomes, positions)) != LECTERN_OK ||
	    (code = commands_course_fanout(ctx, target, fan, nfan)) !=
	    LECTERN_OK)) {
		json_decref(o);
		goto fail;
	}
	*result = o;
fail:
	json_decref(refs);
	json_decref(list);
	json_decref(seen);
	free(ids);
	free(gids);
	free(fan);
	free(positions);
	free(outcomes);
	return code;
}

static enum lectern_error
commands_unenroll_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	json_t			*refs = NULL, *removed, *not, *promoted, *o, *v;
	int64_t			 target, *ids = NULL;
	size_t			 i;
	int			 course, r;

	if ((code = commands_target(ctx, args, &course, &target)) !=
	    LECTERN_OK)
		return code;
	if ((code = commands_people(ctx, json_object_get(args, "people"),
	    "people", &ids, &refs)) != LECTERN_OK)
		return code;
	o = commands_object();
	removed = commands_array();
	promoted = commands_array();
	not = commands_array();
	commands_set(o, "removed", removed);
	commands_set(o, "promoted", promoted);
	commands_set(o, "not_enrolled", not);
	json_array_foreach(refs, i, v) {
		code = commands_leave(ctx, course, target, ids[i], &r,
		    promoted);
		if (code != LECTERN_OK) {
			code = commands_store(ctx, code,
			    course ? "course" : "session");
			goto fail;
		}
		commands_append(r ? removed : not, json_incref(v));
	}
	*result = o;
	o = NULL;
fail:
	json_decref(o);
	json_decref(refs);
	free(ids);
	return code;
}

/* outbox */

static enum lectern_error
commands_outbox_list_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	const char		*state;
	int64_t			 session = 0, limit;

	if ((state = commands_str(args, "state")) != NULL &&
	    strcmp(state, "queued") != 0 && strcmp(state, "sent") != 0 &&
	    strcmp(state, "failed") != 0 && strcmp(state, "expired") != 0)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "state",
		    "state: must be queued, sent, failed or expired");
	if (commands_has(args, "session") &&
	    (code = commands_id(ctx, args, "session", &session)) != LECTERN_OK)
		return code;
	if ((code = commands_limit(ctx, args, 100, LECTERN_LIST_MAX, &limit)) !=
	    LECTERN_OK)
		return code;
	return store_outbox_list(state, session, limit, result, ctx->err,
	    sizeof ctx->err);
}

/* Send one message again now, or every failed one. */
static enum lectern_error
commands_outbox_retry_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	int64_t			 id = 0, n = 0;
	int			 failed;

	failed = json_is_true(json_object_get(args, "failed"));
	if (commands_has(args, "id") == failed)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "id",
		    "id: give a message id, or failed:true for every failed "
		    "message");
	if (!failed && (code = commands_id(ctx, args, "id", &id)) !=
	    LECTERN_OK)
		return code;
	if ((code = store_outbox_requeue(id, ctx->now, &n, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		return code;
	if (id != 0 && n == 0)
		return commands_error(ctx, LECTERN_E_NOT_FOUND, "id",
		    "id: message %" PRId64 " does not exist or was sent "
		    "already", id);
	*result = commands_object();
	commands_set(*result, "requeued", json_integer(n));
	return LECTERN_OK;
}

/*
 * CPD records: attendance, completions and the certificate register
 * (docs/PROTOCOL.md, "CPD records, recertification and reports").
 */

#define COMMANDS_MINUTES_MAX	(7 * 24 * 60)	/* one person, one meeting */
#define COMMANDS_REGISTER_LIMIT	1000
#define COMMANDS_REGISTER_MAX	1000000

/* The [recertification] settings (the defaults without a configuration). */
struct commands_recert {
	struct recert_cycle	 cycle;
	int64_t			 due_soon;	/* days */
	int64_t			 min_hours;	/* tenths */
	int64_t			 attendance;	/* tenths of a percent */
	int			 due_order;	/* waitlist_order = due_date */
};

static void
commands_recert(struct commands_recert *r)
{
	memset(r, 0, sizeof *r);
	r->cycle.months = 36;
	r->due_soon = 180;
	r->attendance = 750;
	if (commands_cfg == NULL)
		return;
	r->cycle = commands_cfg->recert_cycle;
	r->due_soon = commands_cfg->recert_due_soon;
	r->min_hours = commands_cfg->recert_min_hours;
	r->attendance = commands_cfg->recert_attendance;
	r->due_order = commands_cfg->recert_waitlist_due;
}

/*
 * Today, the day number of the daemon's zone's date now; the only use of
 * the zone tables by the reports (the caller of a report on another
 * thread computes it first).
 */
static int64_t
commands_today(struct commands_ctx *ctx)
{
	char	 buf[16];
	int64_t	 day;

	if (tz_format_local(ctx->now, commands_zone(), "%Y-%m-%d", buf,
	    sizeof buf) == -1 || recert_parse_day(buf, &day) == -1)
		return ctx->now / 86400;
	return day;
}

/* The date in args[key] (or dflt when absent) as a day number. */
static enum lectern_error
commands_date(struct commands_ctx *ctx, json_t *args, const char *key,
    int64_t dflt, int64_t *day)
{
	const char	*s;

	*day = dflt;
	if (!commands_has(args, key))
		return LECTERN_OK;
	s = commands_str(args, key);
	if (recert_parse_day(s, day) == -1)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, key,
		    "%s: must be a date such as 2026-11-23 (year, month, day)",
		    key);
	return LECTERN_OK;
}

/* A date that must not be after today. */
static enum lectern_error
commands_past_date(struct commands_ctx *ctx, const char *key, int64_t day,
    int64_t today)
{
	char	 a[16], b[16];

	if (day <= today)
		return LECTERN_OK;
	recert_format_day(day, a, sizeof a);
	recert_format_day(today, b, sizeof b);
	return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, key,
	    "%s: %s is in the future (today is %s)", key, a, b);
}

/* Hours: a number from 0 to COMMANDS_HOURS_MAX, kept to one decimal. */
static enum lectern_error
commands_hours_value(struct commands_ctx *ctx, json_t *v, const char *key,
    int64_t *tenths)
{
	double	 h;

	h = json_is_integer(v) ? (double)json_integer_value(v) :
	    json_real_value(v);
	if (!json_is_number(v) || !(h >= 0) || h > COMMANDS_HOURS_MAX)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, key,
		    "%s: must be a number of hours from 0 to %d", key,
		    COMMANDS_HOURS_MAX);
	*tenths = (int64_t)(h * 10 + 0.5);
	return LECTERN_OK;
}

/*
 * Hours written in a CSV cell: digits with at most one decimal after a
 * point or a comma ("16", "7.5", "7,5"); -1 if the cell is not that.
 */
static int
commands_hours_text(const char *s, int64_t *tenths)
{
	int64_t	 v = 0;
	int	 digits = 0;

	if (s == NULL)
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (++digits > 5)
			return -1;
		v = v * 10 + (*s - '0');
	}
	v *= 10;
	if ((*s == '.' || *s == ',') && s[1] >= '0' && s[1] <= '9') {
		v += s[1] - '0';
		s += 2;
	}
	if (digits == 0 || *s != '\0' || v > COMMANDS_HOURS_MAX * 10)
		return -1;
	*tenths = v;
	return 0;
}

/* The JSON of a day number, "YYYY-MM-DD". */
static json_t *
commands_day_json(int64_t day)
{
	char	 buf[16];

	recert_format_day(day, buf, sizeof buf);
	return json_string(buf);
}

/* A number in tenths: an integer when whole, else one decimal. */
static json_t *
commands_tenths_json(int64_t t)
{
	if (t % 10 == 0)
		return json_integer(t / 10);
	return json_real((double)t / 10.0);
}

/* The people of a list, each once, in the order first named. */
static size_t
commands_unique(int64_t *ids, json_t *refs, size_t n)
{
	size_t	 i, j, k = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < k && ids[j] != ids[i]; j++)
			;
		if (j < k) {
			json_array_remove(refs, k);
			continue;
		}
		ids[k++] = ids[i];
	}
	return k;
}

/*
 * The "people" of args, resolved (commands_people) and without repeats:
 * *n of them, at least one. The caller frees *ids and *refs either way.
 */
static enum lectern_error
commands_some_people(struct commands_ctx *ctx, json_t *args, int64_t **ids,
    json_t **refs, size_t *n)
{
	enum lectern_error	 code;

	if ((code = commands_people(ctx, json_object_get(args, "people"),
	    "people", ids, refs)) != LECTERN_OK)
		return code;
	if ((*n = commands_unique(*ids, *refs, json_array_size(*refs))) == 0)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "people", "people: name at least one person");
	return LECTERN_OK;
}

/* One meeting: a single session, or one occurrence of a series. */
struct commands_meeting {
	json_t		*session;	/* owned */
	int64_t		 id;
	int64_t		 occurrence;	/* 0 for a single session */
	int64_t		 start;		/* as held (an occurrence may move) */
	int64_t		 course;	/* 0: none */
};

/*
 * The live meeting named by args "session" and "occurrence" (required
 * for a series, refused for a single session).
 */
static enum lectern_error
commands_meeting(struct commands_ctx *ctx, json_t *args,
    struct commands_meeting *m)
{
	enum lectern_error	 code;
	json_t			*ovs = NULL, *occ = NULL, *it;
	const char		*zone, *o;
	char			 olocal[64];

	memset(m, 0, sizeof *m);
	if ((code = commands_id(ctx, args, "session", &m->id)) != LECTERN_OK)
		return code;
	code = store_session_get(m->id, 0, &m->session, ctx->err,
	    sizeof ctx->err);
	if (code != LECTERN_OK)
		return commands_store(ctx, code, "session");
	if (commands_same(json_string_value(json_object_get(m->session,
	    "status")), "cancelled"))
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "session", "session: session %" PRId64 " is cancelled",
		    m->id);
	m->course = json_integer_value(json_object_get(m->session, "course"));
	o = commands_str(args, "occurrence");
	if (json_is_null(json_object_get(m->session, "rrule"))) {
		if (o != NULL)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "occurrence", "occurrence: session %" PRId64 " does "
			    "not repeat; leave occurrence out", m->id);
		if (tz_parse_utc(json_string_value(json_object_get(m->session,
		    "start")), &m->start) == -1)
			return commands_error(ctx, LECTERN_E_INTERNAL, NULL,
			    "session %" PRId64 " has an unreadable start", m->id);
		return LECTERN_OK;
	}
	if (o == NULL)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "occurrence", "occurrence: session %" PRId64 " repeats: "
		    "name the occurrence by its original start", m->id);
	zone = json_string_value(json_object_get(m->session, "tz"));
	if (tz_parse(o, zone, 0, "occurrence", &m->occurrence, olocal,
	    sizeof olocal, ctx->err, sizeof ctx->err) == -1)
		return commands_field(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "occurrence");
	if ((code = store_occurrence_list(m->id, &ovs, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		return code;
	if ((occ = series_occurrences(m->session, ovs, m->occurrence -
	    400LL * 86400, m->occurrence + 400LL * 86400, ctx->err,
	    sizeof ctx->err)) == NULL) {
		code = LECTERN_E_INTERNAL;
		goto fail;
	}
	if ((it = series_find(occ, m->occurrence)) == NULL) {
		code = commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "occurrence", "occurrence: session %" PRId64 " has no "
		    "occurrence starting %s (%s)", m->id, olocal, zone);
		goto fail;
	}
	if (commands_same(json_string_value(json_object_get(it, "status")),
	    "cancelled")) {
		code = commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "occurrence", "occurrence: %s of session %" PRId64 " is "
		    "cancelled", olocal, m->id);
		goto fail;
	}
	tz_parse_utc(json_string_value(json_object_get(it, "start")),
	    &m->start);
fail:
	json_decref(occ);
	json_decref(ovs);
	return code;
}

/* The live meetings of a course: what the completion rule counts. */
struct commands_meetings {
	int64_t		*session, *occurrence, *start;
	size_t		 n, cap;
};

static void
commands_meetings_free(struct commands_meetings *ms)
{
	free(ms->session);
	free(ms->occurrence);
	free(ms->start);
	memset(ms, 0, sizeof *ms);
}

static void
commands_meetings_add(struct commands_meetings *ms, int64_t session,
    int64_t occurrence, int64_t start)
{
	if (ms->n == ms->cap) {
		ms->cap = ms->cap ? ms->cap * 2 : 16;
		if ((ms->session = reallocarray(ms->session, ms->cap,
		    sizeof *ms->session)) == NULL ||
		    (ms->occurrence = reallocarray(ms->occurrence, ms->cap,
		    sizeof *ms->occurrence)) == NULL ||
		    (ms->start = reallocarray(ms->start, ms->cap,
		    sizeof *ms->start)) == NULL)
			log_fatal("commands: out of memory");
	}
	ms->session[ms->n] = session;
	ms->occurrence[ms->n] = occurrence;
	ms->start[ms->n++] = start;
}

/*
 * Every live occurrence of every live session of the course: a single
 * session is one meeting, a series each of its occurrences that is not
 * cancelled (an open-ended series up to the end of the course's last
 * day).
 */
static enum lectern_error
commands_course_meetings(struct commands_ctx *ctx, json_t *course,
    struct commands_meetings *ms)
{
	enum lectern_error	 code;
	json_t			*s = NULL, *ovs = NULL, *occ = NULL, *o;
	const char		*rrule, *last;
	int64_t			*ids = NULL, start, until, rid;
	size_t			 i, j, n = 0;

	memset(ms, 0, sizeof *ms);
	code = store_course_sessions(json_integer_value(json_object_get(course,
	    "id")), &ids, &n, ctx->err, sizeof ctx->err);
	for (i = 0; i < n && code == LECTERN_OK; i++) {
		if ((code = store_session_get(ids[i], 0, &s, ctx->err,
		    sizeof ctx->err)) != LECTERN_OK)
			break;
		if (tz_parse_utc(json_string_value(json_object_get(s,
		    "start")), &start) == -1) {
			code = commands_error(ctx, LECTERN_E_INTERNAL, NULL,
			    "session %" PRId64 " has an unreadable start",
			    ids[i]);
			break;
		}
		if ((rrule = json_string_value(json_object_get(s,
		    "rrule"))) == NULL) {
			commands_meetings_add(ms, ids[i], 0, start);
			json_decref(s);
			s = NULL;
			continue;
		}
		/* The end of time that series_expand can still add to. */
		until = INT64_C(253402300799);
		last = json_string_value(json_object_get(course, "last_day"));
		if (strcasestr(rrule, "COUNT=") == NULL &&
		    strcasestr(rrule, "UNTIL=") == NULL && last != NULL &&
		    tz_parse(last, commands_zone(), 1, "last_day", &until, NULL,
		    0, ctx->err, sizeof ctx->err) == 0)
			until += 86400;
		if ((code = store_occurrence_list(ids[i], &ovs, ctx->err,
		    sizeof ctx->err)) != LECTERN_OK)
			break;
		if ((occ = series_occurrences(s, ovs, start - 400LL * 86400,
		    until, ctx->err, sizeof ctx->err)) == NULL) {
			code = LECTERN_E_INTERNAL;
			break;
		}
		json_array_foreach(occ, j, o) {
			if (!commands_same(json_string_value(json_object_get(o,
			    "status")), "scheduled") ||
			    tz_parse_utc(json_string_value(json_object_get(o,
			    "occurrence")), &rid) == -1 ||
			    tz_parse_utc(json_string_value(json_object_get(o,
			    "start")), &start) == -1)
				continue;
			commands_meetings_add(ms, ids[i], rid, start);
		}
		json_decref(occ);
		json_decref(ovs);
		json_decref(s);
		occ = ovs = s = NULL;
	}
	json_decref(occ);
	json_decref(ovs);
	json_decref(s);
	free(ids);
	if (code != LECTERN_OK)
		commands_meetings_free(ms);
	return code;
}

static enum lectern_error commands_completion_changed(struct commands_ctx *,
    int64_t);

/* Record c, appending the completion to list (if not NULL). */
static enum lectern_error
commands_completion_add(struct commands_ctx *ctx,
    const struct store_completion *c, json_t *list)
{
	enum lectern_error	 code;
	json_t			*k = NULL;
	int64_t			 id;

	if ((code = store_completion_add(c, &id, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK ||
	    (code = commands_completion_changed(ctx, c->person_id)) !=
	    LECTERN_OK)
		return code;
	if (list == NULL)
		return LECTERN_OK;
	if ((code = store_completion_get(id, &k, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		return code;
	commands_append(list, k);
	return LECTERN_OK;
}

/*
 * What a completion of course takes from it (title, provider, whether it
 * counts for recertification), entered now by the caller from source.
 */
static void
commands_completion_of(struct commands_ctx *ctx, json_t *course,
    const char *source, struct store_completion *c)
{
	c->title = json_string_value(json_object_get(course, "title"));
	c->provider = json_string_value(json_object_get(course, "provider"));
	c->counts = json_is_true(json_object_get(course,
	    "counts_for_recertification"));
	c->source = source;
	c->entered_by = ctx->uid;
	c->entered_at = ctx->now;
}

/*
 * The completion rule for one person and one course whose meetings are
 * ms: at least completion_attendance of them attended makes a completion
 * (source attendance) dated the latest attended meeting's local day;
 * falling below removes one with source attendance, never another.
 */
static enum lectern_error
commands_completion_rule(struct commands_ctx *ctx, json_t *course,
    const struct commands_meetings *ms, int64_t person, json_t *created,
    json_t *removed)
{
	struct commands_recert	 rc;
	struct store_completion	 c;
	enum lectern_error	 code;
	json_t			*k = NULL;
	int64_t			*as = NULL, *ao = NULL, course_id, kid, latest;
	size_t			 i, j, na = 0, attended = 0;
	char			 source[32], day[16];
	int			 reached;

	commands_recert(&rc);
	course_id = json_integer_value(json_object_get(course, "id"));
	if ((code = store_attendance_course(course_id, person, &as, &ao, &na,
	    ctx->err, sizeof ctx->err)) != LECTERN_OK)
		return code;
	latest = INT64_MIN;
	for (i = 0; i < na; i++) {
		for (j = 0; j < ms->n; j++) {
			if (ms->session[j] == as[i] &&
			    ms->occurrence[j] == ao[i])
				break;
		}
		if (j == ms->n)
			continue;	/* a cancelled meeting: not counted */
		attended++;
		if (ms->start[j] > latest)
			latest = ms->start[j];
	}
	free(as);
	free(ao);
	reached = ms->n > 0 && (int64_t)attended * 1000 >=
	    rc.attendance * (int64_t)ms->n;
	if ((code = store_completion_of_course(course_id, person, &kid,
	    source, sizeof source, NULL, 0, ctx->err, sizeof ctx->err)) !=
	    LECTERN_OK)
		return code;
	if (reached && kid == 0) {
		if (tz_format_local(latest, commands_zone(), "%Y-%m-%d", day,
		    sizeof day) == -1)
			return commands_error(ctx, LECTERN_E_INTERNAL, NULL,
			    "cannot find the day of a meeting in %s",
			    commands_zone());
		memset(&c, 0, sizeof c);
		c.person_id = person;
		c.course_id = course_id;
		c.hours = json_integer_value(json_object_get(course, "hours")) *
		    10;
		c.completed_on = day;
		commands_completion_of(ctx, course, "attendance", &c);
		return commands_completion_add(ctx, &c, created);
	}
	if (!reached && kid != 0 && strcmp(source, "attendance") == 0) {
		if ((code = store_completion_get(kid, &k, ctx->err,
		    sizeof ctx->err)) != LECTERN_OK)
			return code;
		if ((code = store_completion_remove(kid, ctx->err,
		    sizeof ctx->err)) != LECTERN_OK ||
		    (code = commands_completion_changed(ctx, person)) !=
		    LECTERN_OK) {
			json_decref(k);
			return code;
		}
		if (removed != NULL)
			commands_append(removed, k);
		else
			json_decref(k);
	}
	return LECTERN_OK;
}

/*
 * Attendance of people[0..n) at meeting m changed: apply the completion
 * rule of its course (if it is a course's meeting), listing what it did
 * in the reply o ("completions", "completions_removed").
 */
static enum lectern_error
commands_attendance_changed(struct commands_ctx *ctx,
    const struct commands_meeting *m, const int64_t *people, size_t n,
    json_t *o)
{
	struct commands_meetings ms;
	enum lectern_error	 code;
	json_t			*course = NULL, *created, *removed;
	size_t			 i;

	created = commands_array();
	removed = commands_array();
	commands_set(o, "completions", created);
	commands_set(o, "completions_removed", removed);
	if (m->course == 0 || n == 0)
		return LECTERN_OK;
	if ((code = store_course_get(m->course, 0, &course, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		return code;
	if ((code = commands_course_meetings(ctx, course, &ms)) ==
	    LECTERN_OK) {
		for (i = 0; i < n && code == LECTERN_OK; i++)
			code = commands_completion_rule(ctx, course, &ms,
			    people[i], created, removed);
		commands_meetings_free(&ms);
	}
	json_decref(course);
	return code;
}

/* The head of an attendance result: session and occurrence. */
static json_t *
commands_meeting_json(const struct commands_meeting *m)
{
	json_t	*o;
	char	 buf[64];

	o = commands_object();
	commands_set(o, "session", json_integer(m->id));
	if (m->occurrence != 0) {
		tz_format_utc(m->occurrence, buf, sizeof buf);
		commands_set(o, "occurrence", json_string(buf));
	} else
		commands_set(o, "occurrence", json_null());
	return o;
}

static enum lectern_error
commands_attendance_mark_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct commands_meeting	 m;
	struct store_attendance	 a;
	enum lectern_error	 code;
	const char		*state = commands_str(args, "state");
	json_t			*refs = NULL, *o = NULL;
	int64_t			*ids = NULL;
	size_t			 i, n;

	if (strcmp(state, "attended") != 0 && strcmp(state, "absent") != 0)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "state",
		    "state: must be attended or absent");
	if ((code = commands_meeting(ctx, args, &m)) != LECTERN_OK)
		goto fail;
	if ((code = commands_some_people(ctx, args, &ids, &refs, &n)) !=
	    LECTERN_OK)
		goto fail;
	memset(&a, 0, sizeof a);
	a.session_id = m.id;
	a.occurrence = m.occurrence;
	a.state = state;
	a.minutes = -1;
	a.source = "manual";
	a.entered_by = ctx->uid;
	a.entered_at = ctx->now;
	for (i = 0; i < n; i++) {
		a.person_id = ids[i];
		if ((code = store_attendance_put(&a, ctx->err,
		    sizeof ctx->err)) != LECTERN_OK)
			goto fail;
	}
	o = commands_meeting_json(&m);
	commands_set(o, "marked", json_incref(refs));
	commands_set(o, "state", json_string(state));
	if ((code = commands_attendance_changed(ctx, &m, ids, n, o)) !=
	    LECTERN_OK)
		goto fail;
	*result = o;
	o = NULL;
fail:
	json_decref(o);
	json_decref(refs);
	json_decref(m.session);
	free(ids);
	return code;
}

static enum lectern_error
commands_attendance_list_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	json_t			*s = NULL;
	const char		*o;
	int64_t			 id = 0, occurrence = -1;

	if ((code = commands_id(ctx, args, "session", &id)) != LECTERN_OK)
		return code;
	if ((code = store_session_get(id, 0, &s, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		return commands_store(ctx, code, "session");
	if ((o = commands_str(args, "occurrence")) != NULL) {
		if (json_is_null(json_object_get(s, "rrule")))
			code = commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "occurrence", "occurrence: session %" PRId64
			    " does not repeat", id);
		else if (tz_parse(o, json_string_value(json_object_get(s,
		    "tz")), 0, "occurrence", &occurrence, NULL, 0, ctx->err,
		    sizeof ctx->err) == -1)
			code = commands_field(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "occurrence");
	}
	json_decref(s);
	if (code != LECTERN_OK)
		return code;
	return store_attendance_list(id, occurrence, result, ctx->err,
	    sizeof ctx->err);
}

/* attendance.import: one email's rows added up. */
struct commands_seen {
	char	*email;		/* as first written */
	size_t	 line;		/* its first row */
	double	 minutes;
	int64_t	 person;	/* 0: unknown */
};

/* A number of minutes in a report's cell: digits, one point, digits. */
static int
commands_minutes_text(const char *s, double *v)
{
	char	*end;
	size_t	 i;
	int	 point = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 12)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '.' && !point && i > 0 && s[i + 1] != '\0')
			point = 1;
		else if (s[i] < '0' || s[i] > '9')
			return -1;
	}
	errno = 0;
	*v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || *v > COMMANDS_MINUTES_MAX)
		return -1;
	return 0;
}

/* The column named by args[key] (default dflt) in t, or an error. */
static enum lectern_error
commands_column(struct commands_ctx *ctx, json_t *args, const char *key,
    const char *dflt, const struct csvimport_table *t, int *col)
{
	const char	*name = commands_str(args, key);
	char		 q[64];

	if (name == NULL)
		name = dflt;
	if ((*col = csvimport_table_column(t, name)) >= 0)
		return LECTERN_OK;
	return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, key,
	    "%s: the file has no column \"%s\"", key, proto_quote(name,
	    strlen(name), 40, q, sizeof q));
}

static enum lectern_error
commands_attendance_import_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct commands_meeting	 m;
	struct csvimport_table	 t;
	struct commands_import	 im;
	struct commands_seen	*seen = NULL, *sv;
	struct store_attendance	 a;
	enum lectern_error	 code;
	json_t			*text, *index = NULL, *unknown, *o = NULL;
	json_t			*v;
	const char		*email, *cell;
	char			 key[LECTERN_EMAIL_MAX + 1], why[256];
	int64_t			*people = NULL, minmin = 0, attended = 0;
	int64_t			 absent = 0, duplicates = 0;
	size_t			 i, j, nseen = 0, np = 0;
	double			 minutes;
	int			 ecol, mcol;

	memset(&t, 0, sizeof t);
	memset(&im, 0, sizeof im);
	if (commands_has(args, "min_minutes")) {
		minmin = json_integer_value(json_object_get(args,
		    "min_minutes"));
		if (minmin < 0 || minmin > COMMANDS_MINUTES_MAX)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "min_minutes", "min_minutes: must be a whole "
			    "number of minutes from 0 to %d",
			    COMMANDS_MINUTES_MAX);
	}
	if ((code = commands_meeting(ctx, args, &m)) != LECTERN_OK)
		goto fail;
	text = json_object_get(args, "csv");
	if (csvimport_table_parse(json_string_value(text),
	    json_string_length(text), &t, why, sizeof why) == -1) {
		code = commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "csv",
		    "%s", why);
		goto fail;
	}
	if ((code = commands_column(ctx, args, "email_column", "email", &t,
	    &ecol)) != LECTERN_OK || (code = commands_column(ctx, args,
	    "minutes_column", "duration", &t, &mcol)) != LECTERN_OK)
		goto fail;
	for (i = 0; i < t.nerrors; i++)
		commands_import_error(&im, t.errors[i].line, "%s",
		    t.errors[i].message);
	if (t.nrecords > 0 && ((seen = calloc(t.nrecords,
	    sizeof *seen)) == NULL || (people = calloc(t.nrecords,
	    sizeof *people)) == NULL))
		log_fatal("commands: out of memory");
	index = commands_object();
	for (i = 0; i < t.nrecords; i++) {
		email = t.records[i].cells[ecol];
		cell = t.records[i].cells[mcol];
		if (email == NULL) {
			commands_import_error(&im, t.records[i].line,
			    "email: the cell is empty");
			continue;
		}
		if (valid_email(email, "email", why, sizeof why) == -1) {
			commands_import_error(&im, t.records[i].line, "%s",
			    why);
			continue;
		}
		if (commands_minutes_text(cell, &minutes) == -1) {
			commands_import_error(&im, t.records[i].line, "minutes: "
			    "\"%s\" is not a number of minutes", cell != NULL ?
			    proto_quote(cell, strlen(cell), 40, why,
			    sizeof why) : "");
			continue;
		}
		/* valid_email: ASCII, so lowering byte by byte is exact. */
		for (j = 0; email[j] != '\0' && j < sizeof key - 1; j++)
			key[j] = (char)tolower((unsigned char)email[j]);
		key[j] = '\0';
		if ((v = json_object_get(index, key)) != NULL) {
			seen[json_integer_value(v)].minutes += minutes;
			duplicates++;
			continue;
		}
		commands_set(index, key, json_integer((json_int_t)nseen));
		sv = &seen[nseen++];
		sv->email = t.records[i].cells[ecol];
		sv->line = t.records[i].line;
		sv->minutes = minutes;
	}
	o = commands_object();
	unknown = commands_array();
	memset(&a, 0, sizeof a);
	a.session_id = m.id;
	a.occurrence = m.occurrence;
	a.source = "import";
	a.entered_by = ctx->uid;
	a.entered_at = ctx->now;
	for (i = 0; i < nseen; i++) {
		sv = &seen[i];
		code = store_person_find(0, sv->email, &sv->person, NULL, 0,
		    ctx->err, sizeof ctx->err);
		if (code == LECTERN_E_NOT_FOUND) {
			/* Reported, never invented. */
			commands_append(unknown, json_string(sv->email));
			code = LECTERN_OK;
			continue;
		}
		if (code != LECTERN_OK)
			break;
		a.person_id = sv->person;
		a.minutes = (int64_t)(sv->minutes + 0.5);
		a.state = sv->minutes >= (double)minmin ? "attended" : "absent";
		if (sv->minutes >= (double)minmin)
			attended++;
		else
			absent++;
		if ((code = store_attendance_put(&a, ctx->err,
		    sizeof ctx->err)) != LECTERN_OK)
			break;
		people[np++] = sv->person;
	}
	commands_set(o, "attended", json_integer(attended));
	commands_set(o, "absent", json_integer(absent));
	commands_set(o, "unknown", unknown);
	commands_set(o, "duplicates", json_integer(duplicates));
	commands_set(o, "errors", commands_import_errors(&im, NULL));
	if (code == LECTERN_OK)
		code = commands_attendance_changed(ctx, &m, people, np, o);
	if (code != LECTERN_OK)
		goto fail;
	*result = o;
	o = NULL;
fail:
	json_decref(o);
	json_decref(index);
	json_decref(m.session);
	free(seen);
	free(people);
	commands_import_free(&im);
	csvimport_table_cleanup(&t);
	return code;
}

/* Completions. */

static enum lectern_error
commands_course_complete_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct store_completion	 c;
	enum lectern_error	 code;
	json_t			*course = NULL, *refs = NULL, *o = NULL, *done;
	json_t			*already, *r;
	int64_t			*ids = NULL, cid = 0, day, today, kid;
	size_t			 i, n;
	char			 on[16], no[32];

	today = commands_today(ctx);
	if ((code = commands_id(ctx, args, "course", &cid)) != LECTERN_OK)
		return code;
	if ((code = store_course_get(cid, 0, &course, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		return commands_store(ctx, code, "course");
	memset(&c, 0, sizeof c);
	c.hours = json_integer_value(json_object_get(course, "hours")) * 10;
	if ((code = commands_date(ctx, args, "completed_on", today, &day)) !=
	    LECTERN_OK || (code = commands_past_date(ctx, "completed_on", day,
	    today)) != LECTERN_OK)
		goto fail;
	if (commands_has(args, "hours") && (code = commands_hours_value(ctx,
	    json_object_get(args, "hours"), "hours", &c.hours)) != LECTERN_OK)
		goto fail;
	if ((code = commands_some_people(ctx, args, &ids, &refs, &n)) !=
	    LECTERN_OK)
		goto fail;
	recert_format_day(day, on, sizeof on);
	c.course_id = cid;
	c.completed_on = on;
	commands_completion_of(ctx, course, "manual", &c);
	o = commands_object();
	done = commands_array();
	already = commands_array();
	commands_set(o, "completed", done);
	commands_set(o, "already", already);
	for (i = 0; i < n; i++) {
		if ((code = store_completion_of_course(cid, ids[i], &kid, NULL,
		    0, no, sizeof no, ctx->err, sizeof ctx->err)) !=
		    LECTERN_OK)
			goto fail;
		if (kid != 0) {
			r = json_deep_copy(json_array_get(refs, i));
			commands_set(r, "register_no", json_string(no));
			commands_append(already, r);
			continue;
		}
		c.person_id = ids[i];
		if ((code = commands_completion_add(ctx, &c, done)) !=
		    LECTERN_OK)
			goto fail;
	}
	*result = o;
	o = NULL;
fail:
	json_decref(o);
	json_decref(refs);
	json_decref(course);
	free(ids);
	return code;
}

static const char *const commands_sources[] = { "attendance", "manual",
	"import", NULL };

static enum lectern_error
commands_completion_list_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct store_completion_filter	 f;
	enum lectern_error		 code;
	const char *const		*k;
	char				 from[16], to[16];
	int64_t				 d;
	json_t				*v;

	memset(&f, 0, sizeof f);
	if ((code = commands_date(ctx, args, "from", -1, &d)) != LECTERN_OK)
		return code;
	if (commands_has(args, "from")) {
		recert_format_day(d, from, sizeof from);
		f.from = from;
	}
	if ((code = commands_date(ctx, args, "to", -1, &d)) != LECTERN_OK)
		return code;
	if (commands_has(args, "to")) {
		recert_format_day(d, to, sizeof to);
		f.to = to;
	}
	if ((v = json_object_get(args, "person")) != NULL &&
	    (code = commands_person_ref(ctx, v, "person", &f.person_id, NULL,
	    0)) != LECTERN_OK)
		return code;
	f.organization = commands_str(args, "organization");
	if (commands_has(args, "course")) {
		if ((code = commands_id(ctx, args, "course", &f.course_id)) !=
		    LECTERN_OK)
			return code;
		code = store_course_exists(f.course_id, ctx->err,
		    sizeof ctx->err);
		if (code != LECTERN_OK)
			return commands_store(ctx, code, "course");
	}
	if ((f.source = commands_str(args, "source")) != NULL) {
		for (k = commands_sources; *k != NULL &&
		    strcmp(*k, f.source) != 0; k++)
			;
		if (*k == NULL)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "source", "source: must be attendance, manual or "
			    "import");
	}
	if ((code = commands_limit(ctx, args, COMMANDS_REGISTER_LIMIT,
	    COMMANDS_REGISTER_MAX, &f.limit)) != LECTERN_OK)
		return code;
	return store_completion_list(&f, result, ctx->err, sizeof ctx->err);
}

static enum lectern_error
commands_completion_remove_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	json_t			*k = NULL;
	int64_t			 id = 0;

	if ((code = commands_id(ctx, args, "id", &id)) != LECTERN_OK)
		return code;
	if ((code = store_completion_get(id, &k, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		return commands_store(ctx, code, "id");
	if ((code = store_completion_remove(id, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK ||
	    (code = commands_completion_changed(ctx, json_integer_value(
	    json_object_get(json_object_get(k, "person"), "id")))) !=
	    LECTERN_OK) {
		json_decref(k);
		return code;
	}
	*result = commands_object();
	commands_set(*result, "removed", k);
	return LECTERN_OK;
}

static enum lectern_error
commands_training_record_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct store_completion	 c;
	enum lectern_error	 code;
	json_t			*list, *v;
	int64_t			 day, today;
	char			 on[16];

	memset(&c, 0, sizeof c);
	today = commands_today(ctx);
	if ((code = commands_person_ref(ctx, json_object_get(args, "person"),
	    "person", &c.person_id, NULL, 0)) != LECTERN_OK ||
	    (code = commands_text(ctx, args, "title", LECTERN_TEXT_MAX, 0)) !=
	    LECTERN_OK ||
	    (code = commands_text(ctx, args, "provider", LECTERN_TEXT_MAX,
	    0)) != LECTERN_OK ||
	    (code = commands_hours_value(ctx, json_object_get(args, "hours"),
	    "hours", &c.hours)) != LECTERN_OK ||
	    (code = commands_date(ctx, args, "completed_on", today, &day)) !=
	    LECTERN_OK ||
	    (code = commands_past_date(ctx, "completed_on", day, today)) !=
	    LECTERN_OK)
		return code;
	recert_format_day(day, on, sizeof on);
	c.title = commands_str(args, "title");
	c.provider = commands_str(args, "provider");
	c.completed_on = on;
	v = json_object_get(args, "counts_for_recertification");
	c.counts = v == NULL || json_is_true(v);
	c.source = "manual";
	c.entered_by = ctx->uid;
	c.entered_at = ctx->now;
	list = commands_array();
	if ((code = commands_completion_add(ctx, &c, list)) != LECTERN_OK) {
		json_decref(list);
		return code;
	}
	*result = json_incref(json_array_get(list, 0));
	json_decref(list);
	return LECTERN_OK;
}

/* training.import's columns. */
enum commands_tcol {
	COMMANDS_T_EMAIL, COMMANDS_T_TITLE, COMMANDS_T_PROVIDER,
	COMMANDS_T_HOURS, COMMANDS_T_COMPLETED_ON, COMMANDS_T_COUNTS,
	COMMANDS_T_NCOLS
};
static const char *const commands_tcols[COMMANDS_T_NCOLS] = { "email",
	"title", "provider", "hours", "completed_on",
	"counts_for_recertification" };

/* One row of training.import, checked. */
struct commands_trow {
	int			 ok;
	struct store_completion	 c;
	char			 on[16];
};

/* yes/no, 1/0, true/false (any case); empty is yes. -1: none of them. */
static int
commands_yes_no(const char *s)
{
	static const char *const yes[] = { "1", "yes", "true" };
	static const char *const no[] = { "0", "no", "false" };
	size_t	 i;

	if (s == NULL)
		return 1;
	for (i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* Check one row of training.import into r; -1 with the field in *field. */
static int
commands_training_row(struct commands_ctx *ctx, const int *col,
    const struct csvimport_record *rec, int64_t today,
    struct commands_trow *r, const char **field)
{
	enum lectern_error	 code;
	const char		*cell[COMMANDS_T_NCOLS];
	char			 q[64];
	int64_t			 day;
	int			 k, yn;

	for (k = 0; k < COMMANDS_T_NCOLS; k++)
		cell[k] = col[k] >= 0 ? rec->cells[col[k]] : NULL;
	*field = "email";
	if (cell[COMMANDS_T_EMAIL] == NULL) {
		snprintf(ctx->err, sizeof ctx->err, "email: the cell is empty");
		return -1;
	}
	if (valid_email(cell[COMMANDS_T_EMAIL], "email", ctx->err,
	    sizeof ctx->err) == -1)
		return -1;
	code = store_person_find(0, cell[COMMANDS_T_EMAIL], &r->c.person_id,
	    NULL, 0, ctx->err, sizeof ctx->err);
	if (code == LECTERN_E_NOT_FOUND) {
		snprintf(ctx->err, sizeof ctx->err, "email: no person has the "
		    "email %s", cell[COMMANDS_T_EMAIL]);
		return -1;
	}
	if (code != LECTERN_OK)
		return -2;
	*field = "title";
	if (cell[COMMANDS_T_TITLE] == NULL) {
		snprintf(ctx->err, sizeof ctx->err, "title: the cell is empty");
		return -1;
	}
	if (valid_text(cell[COMMANDS_T_TITLE], LECTERN_TEXT_MAX, 0, 0,
	    "title", ctx->err, sizeof ctx->err) == -1)
		return -1;
	*field = "provider";
	if (cell[COMMANDS_T_PROVIDER] != NULL && valid_text(
	    cell[COMMANDS_T_PROVIDER], LECTERN_TEXT_MAX, 0, 0, "provider",
	    ctx->err, sizeof ctx->err) == -1)
		return -1;
	*field = "hours";
	if (commands_hours_text(cell[COMMANDS_T_HOURS], &r->c.hours) == -1) {
		snprintf(ctx->err, sizeof ctx->err, "hours: \"%s\" is not a "
		    "number of hours from 0 to %d (at most one decimal)",
		    cell[COMMANDS_T_HOURS] != NULL ?
		    proto_quote(cell[COMMANDS_T_HOURS],
		    strlen(cell[COMMANDS_T_HOURS]), 40, q, sizeof q) : "",
		    COMMANDS_HOURS_MAX);
		return -1;
	}
	*field = "completed_on";
	if (recert_parse_day(cell[COMMANDS_T_COMPLETED_ON], &day) == -1) {
		snprintf(ctx->err, sizeof ctx->err, "completed_on: \"%s\" is "
		    "not a date such as 2026-11-23",
		    cell[COMMANDS_T_COMPLETED_ON] != NULL ?
		    proto_quote(cell[COMMANDS_T_COMPLETED_ON],
		    strlen(cell[COMMANDS_T_COMPLETED_ON]), 40, q, sizeof q) :
		    "");
		return -1;
	}
	if (commands_past_date(ctx, "completed_on", day, today) !=
	    LECTERN_OK)
		return -1;
	*field = "counts_for_recertification";
	if ((yn = commands_yes_no(cell[COMMANDS_T_COUNTS])) == -1) {
		snprintf(ctx->err, sizeof ctx->err, "counts_for_recertification:"
		    " \"%s\" is not yes or no (1, 0, true, false)",
		    proto_quote(cell[COMMANDS_T_COUNTS],
		    strlen(cell[COMMANDS_T_COUNTS]), 40, q, sizeof q));
		return -1;
	}
	recert_format_day(day, r->on, sizeof r->on);
	r->c.title = cell[COMMANDS_T_TITLE];
	r->c.provider = cell[COMMANDS_T_PROVIDER];
	r->c.completed_on = r->on;
	r->c.counts = yn;
	r->c.source = "import";
	r->c.entered_by = ctx->uid;
	r->c.entered_at = ctx->now;
	r->ok = 1;
	return 0;
}

/* Map the header of t to training.import's columns; an error if it cannot. */
static enum lectern_error
commands_training_header(struct commands_ctx *ctx,
    const struct csvimport_table *t, int *col)
{
	char	 q[64];
	size_t	 i;
	int	 k;

	for (k = 0; k < COMMANDS_T_NCOLS; k++)
		col[k] = -1;
	for (i = 0; i < t->ncols; i++) {
		for (k = 0; k < COMMANDS_T_NCOLS && strcasecmp(t->header[i],
		    commands_tcols[k]) != 0; k++)
			;
		if (k == COMMANDS_T_NCOLS)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "csv", "csv: unknown column \"%s\" in the header "
			    "(known: email, title, provider, hours, "
			    "completed_on, counts_for_recertification)",
			    proto_quote(t->header[i], strlen(t->header[i]), 40,
			    q, sizeof q));
		if (col[k] >= 0)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "csv", "csv: column \"%s\" appears twice in the "
			    "header", commands_tcols[k]);
		col[k] = (int)i;
	}
	for (k = 0; k < COMMANDS_T_NCOLS; k++) {
		if (col[k] < 0 && k != COMMANDS_T_PROVIDER &&
		    k != COMMANDS_T_COUNTS)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "csv", "csv: the header must name the columns "
			    "email, title, hours and completed_on (missing: %s)",
			    commands_tcols[k]);
	}
	return LECTERN_OK;
}

static enum lectern_error
commands_training_import_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct csvimport_table	 t;
	struct commands_import	 im;
	struct commands_trow	*rows = NULL;
	enum lectern_error	 code;
	json_t			*text, *fields, *errors = NULL, *o;
	const char		*field;
	int64_t			 today, recorded = 0, duplicates = 0;
	size_t			 i;
	int			 col[COMMANDS_T_NCOLS], partial, rc, same;
	char			 why[256];

	memset(&t, 0, sizeof t);
	memset(&im, 0, sizeof im);
	today = commands_today(ctx);
	partial = json_is_true(json_object_get(args, "partial"));
	text = json_object_get(args, "csv");
	if (csvimport_table_parse(json_string_value(text),
	    json_string_length(text), &t, why, sizeof why) == -1)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "csv",
		    "%s", why);
	fields = commands_array();
	if ((code = commands_training_header(ctx, &t, col)) != LECTERN_OK)
		goto fail;
	for (i = 0; i < t.nerrors; i++) {
		commands_import_error(&im, t.errors[i].line, "%s",
		    t.errors[i].message);
		commands_append(fields, json_string("csv"));
	}
	if (t.nrecords > 0 && (rows = calloc(t.nrecords,
	    sizeof *rows)) == NULL)
		log_fatal("commands: out of memory");
	for (i = 0; i < t.nrecords; i++) {
		rc = commands_training_row(ctx, col, &t.records[i], today,
		    &rows[i], &field);
		if (rc == -2) {
			code = LECTERN_E_INTERNAL;
			goto fail;
		}
		if (rc == -1) {
			commands_import_error(&im, t.records[i].line, "%s",
			    ctx->err);
			commands_append(fields, json_string(field));
		}
	}
	errors = commands_import_errors(&im, fields);
	if (im.nerrors > 0 && !partial) {
		code = commands_import_refused(ctx, &im, errors);
		errors = NULL;
		goto fail;
	}
	/* In file order: register numbers follow the rows. */
	for (i = 0; i < t.nrecords; i++) {
		if (!rows[i].ok)
			continue;
		if ((code = store_completion_same(rows[i].c.person_id,
		    rows[i].c.title, rows[i].c.provider, rows[i].on, &same,
		    ctx->err, sizeof ctx->err)) != LECTERN_OK)
			goto fail;
		if (same) {
			duplicates++;
			continue;
		}
		if ((code = commands_completion_add(ctx, &rows[i].c, NULL)) !=
		    LECTERN_OK)
			goto fail;
		recorded++;
	}
	o = commands_object();
	commands_set(o, "recorded", json_integer(recorded));
	commands_set(o, "duplicates", json_integer(duplicates));
	commands_set(o, "errors", errors);
	errors = NULL;
	*result = o;
fail:
	json_decref(errors);
	json_decref(fields);
	free(rows);
	commands_import_free(&im);
	csvimport_table_cleanup(&t);
	return code;
}

/* The recertification cycle and the reports. */

/* One person in report.recertification (or selected by enroll). */
struct commands_rc_row {
	int64_t		 id, last_id, last, due;
	int		 status, has_last;
	char		*name, *email, *organization, *position;
};

/* A pass over everyone: status counts and the rows selected. */
struct commands_rc {
	struct commands_recert	 r;
	int64_t			 as_of;
	unsigned		 wanted;	/* 1 << status; 0: every one */
	int64_t			 due_within;	/* enroll: -1 if not given */
	int64_t			 counts[RECERT_NSTATUS], total;
	struct commands_rc_row	*rows;
	size_t			 n, cap;
};

static char *
commands_strdup(const char *s)
{
	char	*d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		log_fatal("commands: out of memory");
	return d;
}

static void
commands_rc_free(struct commands_rc *p)
{
	size_t	 i;

	for (i = 0; i < p->n; i++) {
		free(p->rows[i].name);
		free(p->rows[i].email);
		free(p->rows[i].organization);
		free(p->rows[i].position);
	}
	free(p->rows);
	p->rows = NULL;
	p->n = p->cap = 0;
}

static int
commands_rc_cb(const struct store_recert_row *sr, void *arg)
{
	struct commands_rc	*p = arg;
	struct commands_rc_row	*w;
	int64_t			 last = 0, due = 0;
	int			 has, st, pick;

	has = sr->last_on != NULL && recert_parse_day(sr->last_on, &last) == 0;
	st = recert_status(has, last, p->as_of, &p->r.cycle, p->r.due_soon,
	    &due);
	p->counts[st]++;
	p->total++;
	pick = p->wanted == 0 && p->due_within < 0;
	if (p->wanted & (1u << st))
		pick = 1;
	/* due_within: due at most that many days ahead, overdue included. */
	if (p->due_within >= 0 && has && due - p->as_of <= p->due_within)
		pick = 1;
	if (!pick)
		return 0;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		if ((p->rows = reallocarray(p->rows, p->cap,
		    sizeof *p->rows)) == NULL)
			log_fatal("commands: out of memory");
	}
	w = &p->rows[p->n++];
	memset(w, 0, sizeof *w);
	w->id = sr->person_id;
	w->last_id = sr->last_id;
	w->last = last;
	w->due = due;
	w->status = st;
	w->has_last = has;
	w->name = commands_strdup(sr->name);
	w->email = commands_strdup(sr->email);
	w->organization = commands_strdup(sr->organization);
	w->position = commands_strdup(sr->position);
	return 0;
}

/* never first, then by due (earliest first), then name, then id. */
static int
commands_rc_cmp(const void *a, const void *b)
{
	const struct commands_rc_row	*x = a, *y = b;
	int				 c;

	if (x->has_last != y->has_last)
		return x->has_last ? 1 : -1;
	if (x->has_last && x->due != y->due)
		return x->due < y->due ? -1 : 1;
	if ((c = strcmp(x->name != NULL ? x->name : "",
	    y->name != NULL ? y->name : "")) != 0)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Run the pass of p over the people of organization (NULL: all). */
static enum lectern_error
commands_rc_run(struct commands_ctx *ctx, struct commands_rc *p,
    const char *organization)
{
	enum lectern_error	 code;
	char			 day[16];

	recert_format_day(p->as_of, day, sizeof day);
	code = store_recert_scan(day, p->r.min_hours, organization,
	    commands_rc_cb, p, ctx->err, sizeof ctx->err);
	if (code != LECTERN_OK) {
		commands_rc_free(p);
		return code;
	}
	if (p->n > 1)
		qsort(p->rows, p->n, sizeof *p->rows, commands_rc_cmp);
	return LECTERN_OK;
}

/* "status": one status or an array of them, as bits (1 << status). */
static enum lectern_error
commands_statuses(struct commands_ctx *ctx, json_t *args, unsigned *bits)
{
	json_t	*v, *e;
	size_t	 i;
	int	 st;

	*bits = 0;
	if ((v = json_object_get(args, "status")) == NULL)
		return LECTERN_OK;
	if (json_is_string(v))
		v = json_pack("[O]", v);
	else
		json_incref(v);
	if (json_array_size(v) == 0) {
		json_decref(v);
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
		    "status", "status: name at least one status (ok, "
		    "due_soon, overdue, never)");
	}
	json_array_foreach(v, i, e) {
		if ((st = recert_status_parse(json_string_value(e))) == -1) {
			json_decref(v);
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "status", "status: each must be ok, due_soon, "
			    "overdue or never");
		}
		*bits |= 1u << st;
	}
	json_decref(v);
	return LECTERN_OK;
}

static enum lectern_error
commands_report_recert_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct commands_rc	 p;
	struct commands_rc_row	*w;
	enum lectern_error	 code;
	json_t			*o, *people, *sum, *x;
	char			 cyc[32];
	int64_t			 limit = COMMANDS_RECERT_LIMIT;
	size_t			 i;
	int			 st;

	memset(&p, 0, sizeof p);
	commands_recert(&p.r);
	p.due_within = -1;
	if ((code = commands_date(ctx, args, "as_of", commands_today(ctx),
	    &p.as_of)) != LECTERN_OK ||
	    (code = commands_statuses(ctx, args, &p.wanted)) != LECTERN_OK)
		return code;
	if (commands_has(args, "limit") && ((limit = json_integer_value(
	    json_object_get(args, "limit"))) < 0 || limit > 10000000))
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "limit",
		    "limit: must be an integer from 0 (the summary alone) to "
		    "10000000");
	if ((code = commands_rc_run(ctx, &p, commands_str(args,
	    "organization"))) != LECTERN_OK)
		return code;
	o = commands_object();
	commands_set(o, "as_of", commands_day_json(p.as_of));
	recert_format_cycle(&p.r.cycle, cyc, sizeof cyc);
	commands_set(o, "cycle", json_string(cyc));
	commands_set(o, "due_soon_days", json_integer(p.r.due_soon));
	sum = commands_object();
	commands_set(sum, "total", json_integer(p.total));
	for (st = RECERT_OK; st >= 0; st--)
		commands_set(sum, recert_status_name(st),
		    json_integer(p.counts[st]));
	commands_set(o, "summary", sum);
	people = commands_array();
	commands_set(o, "people", people);
	/* Those left out by the limit (the most urgent are listed). */
	commands_set(o, "more", json_integer((int64_t)p.n > limit ?
	    (int64_t)p.n - limit : 0));
	for (i = 0; i < p.n && (int64_t)i < limit; i++) {
		w = &p.rows[i];
		x = commands_object();
		commands_set(x, "id", json_integer(w->id));
		commands_set(x, "name", json_string(w->name));
		commands_set(x, "email", json_string(w->email));
		commands_set(x, "organization", w->organization != NULL ?
		    json_string(w->organization) : json_null());
		commands_set(x, "position", w->position != NULL ?
		    json_string(w->position) : json_null());
		commands_set(x, "status", json_string(recert_status_name(
		    w->status)));
		commands_set(x, "last_completed_on", w->has_last ?
		    commands_day_json(w->last) : json_null());
		if (w->has_last) {
			if ((code = store_recert_last(w->last_id, x, ctx->err,
			    sizeof ctx->err)) != LECTERN_OK) {
				json_decref(x);
				break;
			}
		} else {
			commands_set(x, "last_title", json_null());
			commands_set(x, "last_register_no", json_null());
		}
		commands_set(x, "due", w->has_last ? commands_day_json(w->due) :
		    json_null());
		commands_set(x, "days_left", w->has_last ?
		    json_integer(w->due - p.as_of) : json_null());
		commands_append(people, x);
	}
	commands_rc_free(&p);
	if (code != LECTERN_OK) {
		json_decref(o);
		return code;
	}
	*result = o;
	return LECTERN_OK;
}

/*
 * The report period [from, to] of args: dates, by default the cycle
 * window ending today (to = today, from = recert_window_start).
 */
static enum lectern_error
commands_period(struct commands_ctx *ctx, json_t *args, int64_t *from,
    int64_t *to)
{
	struct commands_recert	 r;
	enum lectern_error	 code;
	char			 a[16], b[16];

	commands_recert(&r);
	if ((code = commands_date(ctx, args, "to", commands_today(ctx), to)) !=
	    LECTERN_OK)
		return code;
	if ((code = commands_date(ctx, args, "from", recert_window_start(*to,
	    &r.cycle), from)) != LECTERN_OK)
		return code;
	if (*from > *to) {
		recert_format_day(*from, a, sizeof a);
		recert_format_day(*to, b, sizeof b);
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "to",
		    "to: %s is before from (%s)", b, a);
	}
	return LECTERN_OK;
}

/* A group of report.coverage as JSON. */
static json_t *
commands_coverage_json(const char *group, int64_t total, int64_t trained,
    int64_t hours)
{
	json_t	*o;

	o = commands_object();
	commands_set(o, "group", group != NULL ? json_string(group) :
	    json_null());
	commands_set(o, "total", json_integer(total));
	commands_set(o, "trained", json_integer(trained));
	/* Rounded down to one decimal: never overstated. */
	commands_set(o, "percent", commands_tenths_json(total > 0 ?
	    trained * 1000 / total : 0));
	commands_set(o, "hours", commands_tenths_json(hours));
	return o;
}

/*
 * report.coverage over [from, to] (by: 0 none, 1 organization, 2
 * position) as a new object; the digest uses it too.
 */
static enum lectern_error
commands_coverage(struct commands_ctx *ctx, int64_t from, int64_t to, int by,
    const char *organization, json_t **result)
{
	static const char *const bys[] = { NULL, "organization", "position" };
	struct commands_recert	 r;
	struct store_coverage_row *rows = NULL;
	enum lectern_error	 code;
	json_t			*o, *groups;
	char			 a[16], b[16];
	int64_t			 total = 0, trained = 0, hours = 0;
	size_t			 i, n = 0;

	commands_recert(&r);
	recert_format_day(from, a, sizeof a);
	recert_format_day(to, b, sizeof b);
	if ((code = store_coverage(by, a, b, r.min_hours, organization, &rows,
	    &n, ctx->err, sizeof ctx->err)) != LECTERN_OK)
		return code;
	o = commands_object();
	commands_set(o, "from", json_string(a));
	commands_set(o, "to", json_string(b));
	commands_set(o, "by", bys[by] != NULL ? json_string(bys[by]) :
	    json_null());
	groups = commands_array();
	for (i = 0; i < n; i++) {
		total += rows[i].total;
		trained += rows[i].trained;
		hours += rows[i].hours;
		commands_append(groups, commands_coverage_json(rows[i].group,
		    rows[i].total, rows[i].trained, rows[i].hours));
	}
	commands_set(o, "groups", groups);
	commands_set(o, "total", commands_coverage_json(NULL, total, trained,
	    hours));
	store_coverage_free(rows, n);
	*result = o;
	return LECTERN_OK;
}

static enum lectern_error
commands_report_coverage_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	enum lectern_error	 code;
	const char		*by = commands_str(args, "by");
	int64_t			 from, to;
	int			 b = 0;

	if (by != NULL && strcmp(by, "organization") == 0)
		b = 1;
	else if (by != NULL && strcmp(by, "position") == 0)
		b = 2;
	else if (by != NULL)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "by",
		    "by: must be organization or position (or left out for "
		    "one row)");
	if ((code = commands_period(ctx, args, &from, &to)) != LECTERN_OK)
		return code;
	return commands_coverage(ctx, from, to, b, commands_str(args,
	    "organization"), result);
}

/* One row of report.hours (a person or an organization). */
struct commands_hours_row {
	const char	*name;		/* person's name or organization */
	int64_t		 id;
	int64_t		 sessions, courses, external, total;	/* tenths */
	int64_t		 people;
	json_t		*json;
};

/* total descending, then name (no organization first), then id. */
static int
commands_hours_cmp(const void *a, const void *b)
{
	const struct commands_hours_row	*x = a, *y = b;
	int				 c;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	if ((c = strcmp(x->name != NULL ? x->name : "", y->name != NULL ?
	    y->name : "")) != 0)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void
commands_hours_set(json_t *o, const struct commands_hours_row *h)
{
	commands_set(o, "sessions", commands_tenths_json(h->sessions));
	commands_set(o, "courses", commands_tenths_json(h->courses));
	commands_set(o, "external", commands_tenths_json(h->external));
	commands_set(o, "total", commands_tenths_json(h->total));
}

static enum lectern_error
commands_report_hours_cb(struct commands_ctx *ctx, json_t *args,
    json_t **result)
{
	struct store_hours_row	*rows = NULL;
	struct commands_hours_row *h = NULL, *g;
	enum lectern_error	 code;
	const char		*by = commands_str(args, "by");
	json_t			*o, *list, *x, *orgs = NULL, *v;
	char			 a[16], b[16], c[16];
	int64_t			 from, to, from_utc, to_utc, person = 0, sess;
	size_t			 i, n = 0, nh = 0;
	int			 byorg;

	if (by != NULL && strcmp(by, "person") != 0 &&
	    strcmp(by, "organization") != 0)
		return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT, "by",
		    "by: must be person or organization");
	byorg = by != NULL && strcmp(by, "organization") == 0;
	if ((code = commands_period(ctx, args, &from, &to)) != LECTERN_OK)
		return code;
	if ((v = json_object_get(args, "person")) != NULL &&
	    (code = commands_person_ref(ctx, v, "person", &person, NULL, 0)) !=
	    LECTERN_OK)
		return code;
	recert_format_day(from, a, sizeof a);
	recert_format_day(to, b, sizeof b);
	recert_format_day(to + 1, c, sizeof c);
	/* Sessions count on their local day: [from 00:00, to + 1 00:00). */
	if (tz_parse(a, commands_zone(), 1, "from", &from_utc, NULL, 0,
	    ctx->err, sizeof ctx->err) == -1 || tz_parse(c, commands_zone(), 1,
	    "to", &to_utc, NULL, 0, ctx->err, sizeof ctx->err) == -1)
		return commands_field(ctx, LECTERN_E_INVALID_ARGUMENT, "to");
	if ((code = store_hours(a, b, from_utc, to_utc, person,
	    commands_str(args, "organization"), &rows, &n, ctx->err,
	    sizeof ctx->err)) != LECTERN_OK)
		return code;
	if (n > 0 && (h = calloc(n, sizeof *h)) == NULL)
		log_fatal("commands: out of memory");
	if (byorg)
		orgs = commands_object();
	for (i = 0; i < n; i++) {
		sess = (rows[i].session_minutes * 10 + 30) / 60;
		if (byorg) {
			/* One row per organization ("" keys no organization). */
			v = json_object_get(orgs, rows[i].organization != NULL ?
			    rows[i].organization : "");
			if (v == NULL) {
				commands_set(orgs, rows[i].organization !=
				    NULL ? rows[i].organization : "",
				    json_integer((json_int_t)nh));
				g = &h[nh++];
				g->name = rows[i].organization;
				g->id = (int64_t)nh;
			} else
				g = &h[json_integer_value(v)];
			g->people++;
		} else {
			if (rows[i].records == 0)
				continue;
			g = &h[nh++];
			g->name = rows[i].name;
			g->id = rows[i].person_id;
			g->json = commands_object();
			commands_set(g->json, "person", commands_person_json(
			    rows[i].person_id, rows[i].email));
			commands_set(g->json, "name", json_string(rows[i].name));
			commands_set(g->json, "organization",
			    rows[i].organization != NULL ?
			    json_string(rows[i].organization) : json_null());
		}
		g->sessions += sess;
		g->courses += rows[i].courses;
		g->external += rows[i].external;
		g->total += sess + rows[i].courses + rows[i].external;
	}
	if (nh > 1)
		qsort(h, nh, sizeof *h, commands_hours_cmp);
	o = commands_object();
	commands_set(o, "from", json_string(a));
	commands_set(o, "to", json_string(b));
	commands_set(o, "by", json_string(byorg ? "organization" : "person"));
	list = commands_array();
	for (i = 0; i < nh; i++) {
		if ((x = h[i].json) == NULL) {
			x = commands_object();
			commands_set(x, "organization", h[i].name != NULL ?
			    json_string(h[i].name) : json_null());
			commands_set(x, "people", json_integer(h[i].people));
		}
		commands_hours_set(x, &h[i]);
		commands_append(list, x);
	}
	commands_set(o, "rows", list);
	json_decref(orgs);
	free(h);
	store_hours_free(rows, n);
	*result = o;
	return LECTERN_OK;
}

/*
 * Waitlists by due date ([recertification] waitlist_order = due_date):
 * a waitlist is kept in order of each person's due day (never first,
 * then the earliest due; ties in the order they joined). It is put in
 * order whenever it may have changed: someone joined, a seat is about to
 * be given, a completion of someone waiting was recorded or removed.
 */

struct commands_wait {
	int64_t	 person, key, place;
};

static int
commands_wait_cmp(const void *a, const void *b)
{
	const struct commands_wait	*x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->place < y->place ? -1 : x->place > y->place;
}

/* Put the waitlist of a session (course 0) or course in due order. */
static enum lectern_error
commands_waitlist_order(struct commands_ctx *ctx, int course, int64_t target)
{
	struct commands_recert	 r;
	struct store_waiting	*w = NULL;
	struct commands_wait	*v = NULL;
	enum lectern_error	 code;
	char			 today[16];
	int64_t			 last;
	size_t			 i, n = 0;

	commands_recert(&r);
	if (!r.due_order)
		return LECTERN_OK;
	recert_format_day(commands_today(ctx), today, sizeof today);
	if ((code = store_waitlist(course, target, today, r.min_hours, &w, &n,
	    ctx->err, sizeof ctx->err)) != LECTERN_OK || n == 0) {
		free(w);
		return code;
	}
	if ((v = calloc(n, sizeof *v)) == NULL)
		log_fatal("commands: out of memory");
	for (i = 0; i < n; i++) {
		v[i].person = w[i].person_id;
		v[i].place = (int64_t)i;
		v[i].key = INT64_MIN;	/* never: first */
		if (recert_parse_day(w[i].last_on, &last) == 0)
			v[i].key = recert_due(last, &r.cycle);
	}
	if (n > 1)
		qsort(v, n, sizeof *v, commands_wait_cmp);
	for (i = 0; i < n && code == LECTERN_OK; i++)
		code = store_waitlist_set(course, target, v[i].person,
		    (int64_t)i + 1, ctx->err, sizeof ctx->err);
	free(v);
	free(w);
	return code;
}

/*
 * After store_enroll: with due order, the waitlist of target is sorted
 * and the places of those just waitlisted read again (for their notice).
 */
static enum lectern_error
commands_waitlist_joined(struct commands_ctx *ctx, int course,
    int64_t target, const int64_t *people, size_t n, const int *outcomes,
    int64_t *positions)
{
	struct commands_recert	 r;
	enum lectern_error	 code;
	size_t			 i;

	commands_recert(&r);
	if (!r.due_order)
		return LECTERN_OK;
	for (i = 0; i < n && outcomes[i] != STORE_WAITLISTED; i++)
		;
	if (i == n)
		return LECTERN_OK;
	if ((code = commands_waitlist_order(ctx, course, target)) !=
	    LECTERN_OK)
		return code;
	for (i = 0; i < n; i++) {
		if (outcomes[i] == STORE_WAITLISTED && (code =
		    store_waitlist_position(course, target, people[i],
		    &positions[i], ctx->err, sizeof ctx->err)) != LECTERN_OK)
			return code;
	}
	return LECTERN_OK;
}

/* A completion of person was recorded or removed: their waitlists move. */
static enum lectern_error
commands_completion_changed(struct commands_ctx *ctx, int64_t person)
{
	struct commands_recert	 r;
	enum lectern_error	 code;
	int64_t			*targets = NULL;
	int			*course = NULL;
	size_t			 i, n = 0;

	commands_recert(&r);
	if (!r.due_order)
		return LECTERN_OK;
	code = store_waiting_for(person, &course, &targets, &n, ctx->err,
	    sizeof ctx->err);
	for (i = 0; i < n && code == LECTERN_OK; i++)
		code = commands_waitlist_order(ctx, course[i], targets[i]);
	free(course);
	free(targets);
	return code;
}

/*
 * enroll's selection by recertification status: the people whose status
 * is in "status" or whose due day is at most "due_within" days after
 * today (of "organization"), appended to list (refs, without those in
 * seen); *selected how many the selection holds.
 */
static enum lectern_error
commands_enroll_select(struct commands_ctx *ctx, json_t *args, json_t *list,
    json_t *seen, int64_t *selected)
{
	struct commands_rc	 p;
	enum lectern_error	 code;
	json_t			*refs, *v;
	size_t			 i;

	*selected = 0;
	memset(&p, 0, sizeof p);
	commands_recert(&p.r);
	p.due_within = -1;
	if (!commands_has(args, "status") && !commands_has(args,
	    "due_within")) {
		if (commands_has(args, "organization"))
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "organization", "organization: limits a selection "
			    "by status or due_within; give one of them");
		return LECTERN_OK;
	}
	if ((code = commands_statuses(ctx, args, &p.wanted)) != LECTERN_OK)
		return code;
	if ((v = json_object_get(args, "due_within")) != NULL) {
		p.due_within = json_integer_value(v);
		if (p.due_within < 0 || p.due_within > RECERT_CYCLE_DAYS_MAX)
			return commands_error(ctx, LECTERN_E_INVALID_ARGUMENT,
			    "due_within", "due_within: must be a number of days "
			    "from 0 to %d", RECERT_CYCLE_DAYS_MAX);
	}
	p.as_of = commands_today(ctx);
	if ((code = commands_rc_run(ctx, &p, commands_str(args,
	    "organization"))) != LECTERN_OK)
		return code;
	/* In order of due (never first): the order of any waitlist too. */
	refs = commands_array();
	for (i = 0; i < p.n; i++)
		commands_append(refs, commands_person_json(p.rows[i].id,
		    p.rows[i].email));
	*selected = (int64_t)p.n;
	commands_merge(list, seen, refs);
	json_decref(refs);
	commands_rc_free(&p);
	return LECTERN_OK;
}

/* The table. */

#define A_S	COMMANDS_A_STRING
#define A_I	COMMANDS_A_INT
#define A_B	COMMANDS_A_BOOL
#define A_A	COMMANDS_A_ARRAY
#define A_N	COMMANDS_A_NULL
#define A_R	COMMANDS_A_REQUIRED
#define A_P	COMMANDS_A_PERSON
#define A_M	COMMANDS_A_NUMBER

static const struct commands_arg commands_args_none[] = { { NULL, 0 } };
static const struct commands_arg commands_args_person_add[] = {
	{ "name", A_S | A_R }, { "email", A_S | A_R },
	{ "organization", A_S | A_N }, { "position", A_S | A_N },
	{ "lang", A_S | A_N }, { "tags", A_A | A_N }, { NULL, 0 } };
static const struct commands_arg commands_args_person_update[] = {
	{ "id", A_I }, { "name", A_S }, { "email", A_S },
	{ "organization", A_S | A_N }, { "position", A_S | A_N },
	{ "lang", A_S | A_N }, { "tags", A_A | A_N }, { NULL, 0 } };
static const struct commands_arg commands_args_person_which[] = {
	{ "id", A_I }, { "email", A_S }, { NULL, 0 } };
static const struct commands_arg commands_args_person_list[] = {
	{ "organization", A_S }, { "group", A_S }, { "tag", A_S },
	{ "limit", A_I }, { NULL, 0 } };
static const struct commands_arg commands_args_person_import[] = {
	{ "csv", A_S | A_R }, { "partial", A_B }, { NULL, 0 } };
static const struct commands_arg commands_args_group_name[] = {
	{ "name", A_S | A_R }, { NULL, 0 } };
static const struct commands_arg commands_args_group_members[] = {
	{ "group", A_S | A_R }, { "people", A_A | A_R }, { NULL, 0 } };
static const struct commands_arg commands_args_session_add[] = {
	{ "kind", A_S }, { "title", A_S | A_R },
	{ "start", A_S | A_R }, { "duration", A_I | A_R }, { "tz", A_S },
	{ "description", A_S | A_N }, { "location", A_S | A_N },
	{ "url", A_S | A_N }, { "capacity", A_I }, { "reminders", A_A | A_N },
	{ "course", A_I | A_N }, { "rrule", A_S | A_N }, { NULL, 0 } };
static const struct commands_arg commands_args_session_update[] = {
	{ "id", A_I | A_R }, { "kind", A_S }, { "title", A_S },
	{ "start", A_S }, { "duration", A_I }, { "tz", A_S },
	{ "description", A_S | A_N }, { "location", A_S | A_N },
	{ "url", A_S | A_N }, { "capacity", A_I }, { "reminders", A_A | A_N },
	{ "course", A_I | A_N }, { "rrule", A_S | A_N },
	{ "occurrence", A_S }, { NULL, 0 } };
static const struct commands_arg commands_args_session_cancel[] = {
	{ "id", A_I | A_R }, { "reason", A_S | A_N }, { "occurrence", A_S },
	{ NULL, 0 } };
static const struct commands_arg commands_args_course_cancel[] = {
	{ "id", A_I | A_R }, { "reason", A_S | A_N }, { NULL, 0 } };
static const struct commands_arg commands_args_session_get[] = {
	{ "id", A_I | A_R }, { NULL, 0 } };
static const struct commands_arg commands_args_session_list[] = {
	{ "from", A_S }, { "to", A_S }, { "kind", A_S }, { "status", A_S },
	{ "course", A_I }, { "limit", A_I }, { "expand", A_B }, { NULL, 0 } };
static const struct commands_arg commands_args_enroll[] = {
	{ "session", A_I }, { "course", A_I }, { "people", A_A },
	{ "groups", A_A }, { "status", A_S | A_A }, { "due_within", A_I },
	{ "organization", A_S }, { NULL, 0 } };
static const struct commands_arg commands_args_unenroll[] = {
	{ "session", A_I }, { "course", A_I }, { "people", A_A | A_R },
	{ NULL, 0 } };
static const struct commands_arg commands_args_rsvp[] = {
	{ "session", A_I | A_R }, { "person", A_P | A_R },
	{ "rsvp", A_S | A_R }, { NULL, 0 } };
static const struct commands_arg commands_args_reply[] = {
	{ "ical", A_S | A_R }, { NULL, 0 } };
static const struct commands_arg commands_args_course_add[] = {
	{ "title", A_S | A_R }, { "description", A_S | A_N },
	{ "provider", A_S | A_N }, { "hours", A_I | A_N },
	{ "first_day", A_S | A_R }, { "last_day", A_S | A_R },
	{ "capacity", A_I }, { "counts_for_recertification", A_B },
	{ NULL, 0 } };
static const struct commands_arg commands_args_course_update[] = {
	{ "id", A_I | A_R }, { "title", A_S | A_N },
	{ "description", A_S | A_N }, { "provider", A_S | A_N },
	{ "hours", A_I | A_N }, { "first_day", A_S }, { "last_day", A_S },
	{ "capacity", A_I }, { "counts_for_recertification", A_B },
	{ NULL, 0 } };
static const struct commands_arg commands_args_course_list[] = {
	{ "from", A_S }, { "to", A_S }, { "status", A_S }, { "limit", A_I },
	{ NULL, 0 } };
static const struct commands_arg commands_args_outbox_list[] = {
	{ "state", A_S }, { "session", A_I }, { "limit", A_I }, { NULL, 0 } };
static const struct commands_arg commands_args_outbox_retry[] = {
	{ "id", A_I }, { "failed", A_B }, { NULL, 0 } };
static const struct commands_arg commands_args_attendance_mark[] = {
	{ "session", A_I | A_R }, { "occurrence", A_S },
	{ "people", A_A | A_R }, { "state", A_S | A_R }, { NULL, 0 } };
static const struct commands_arg commands_args_attendance_list[] = {
	{ "session", A_I | A_R }, { "occurrence", A_S }, { NULL, 0 } };
static const struct commands_arg commands_args_attendance_import[] = {
	{ "session", A_I | A_R }, { "occurrence", A_S },
	{ "csv", A_S | A_R }, { "email_column", A_S },
	{ "minutes_column", A_S }, { "min_minutes", A_I }, { NULL, 0 } };
static const struct commands_arg commands_args_course_complete[] = {
	{ "course", A_I | A_R }, { "people", A_A | A_R },
	{ "completed_on", A_S }, { "hours", A_M }, { NULL, 0 } };
static const struct commands_arg commands_args_completion_list[] = {
	{ "from", A_S }, { "to", A_S }, { "person", A_P },
	{ "organization", A_S }, { "course", A_I }, { "source", A_S },
	{ "limit", A_I }, { NULL, 0 } };
static const struct commands_arg commands_args_training_record[] = {
	{ "person", A_P | A_R }, { "title", A_S | A_R },
	{ "provider", A_S | A_N }, { "hours", A_M | A_R },
	{ "completed_on", A_S | A_R }, { "counts_for_recertification", A_B },
	{ NULL, 0 } };
static const struct commands_arg commands_args_report_recert[] = {
	{ "as_of", A_S }, { "organization", A_S }, { "status", A_S | A_A },
	{ "limit", A_I }, { NULL, 0 } };
static const struct commands_arg commands_args_report_coverage[] = {
	{ "from", A_S }, { "to", A_S }, { "by", A_S }, { "organization", A_S },
	{ NULL, 0 } };
static const struct commands_arg commands_args_report_hours[] = {
	{ "from", A_S }, { "to", A_S }, { "by", A_S }, { "person", A_P },
	{ "organization", A_S }, { NULL, 0 } };

static const struct commands_entry commands_table[] = {
	{ "status", commands_status_cb, 0, commands_args_none },
	{ "person.add", commands_person_add_cb, 1, commands_args_person_add },
	{ "person.update", commands_person_update_cb, 1,
	    commands_args_person_update },
	{ "person.remove", commands_person_remove_cb, 1,
	    commands_args_person_which },
	{ "person.get", commands_person_get_cb, 0, commands_args_person_which },
	{ "person.list", commands_person_list_cb, 0, commands_args_person_list },
	{ "person.import", commands_person_import_cb, 1,
	    commands_args_person_import },
	{ "group.add", commands_group_add_cb, 1, commands_args_group_name },
	{ "group.remove", commands_group_remove_cb, 1,
	    commands_args_group_name },
	{ "group.members.add", commands_group_members_add_cb, 1,
	    commands_args_group_members },
	{ "group.members.remove", commands_group_members_remove_cb, 1,
	    commands_args_group_members },
	{ "group.get", commands_group_get_cb, 0, commands_args_group_name },
	{ "group.list", commands_group_list_cb, 0, commands_args_none },
	{ "session.add", commands_session_add_cb, 1, commands_args_session_add },
	{ "session.update", commands_session_update_cb, 1,
	    commands_args_session_update },
	{ "session.cancel", commands_session_cancel_cb, 1,
	    commands_args_session_cancel },
	{ "session.get", commands_session_get_cb, 0, commands_args_session_get },
	{ "session.list", commands_session_list_cb, 0,
	    commands_args_session_list },
	{ "course.add", commands_course_add_cb, 1, commands_args_course_add },
	{ "course.update", commands_course_update_cb, 1,
	    commands_args_course_update },
	{ "course.cancel", commands_course_cancel_cb, 1,
	    commands_args_course_cancel },
	{ "course.get", commands_course_get_cb, 0, commands_args_session_get },
	{ "course.list", commands_course_list_cb, 0, commands_args_course_list },
	{ "enroll", commands_enroll_cb, 1, commands_args_enroll },
	{ "unenroll", commands_unenroll_cb, 1, commands_args_unenroll },
	{ "rsvp", commands_rsvp_cb, 1, commands_args_rsvp },
	{ "reply", commands_reply_cb, 1, commands_args_reply },
	{ "outbox.list", commands_outbox_list_cb, 0, commands_args_outbox_list },
	{ "outbox.retry", commands_outbox_retry_cb, 1,
	    commands_args_outbox_retry },
	{ "attendance.mark", commands_attendance_mark_cb, 1,
	    commands_args_attendance_mark },
	{ "attendance.list", commands_attendance_list_cb, 0,
	    commands_args_attendance_list },
	{ "attendance.import", commands_attendance_import_cb, 1,
	    commands_args_attendance_import },
	{ "course.complete", commands_course_complete_cb, 1,
	    commands_args_course_complete },
	{ "completion.list", commands_completion_list_cb, 0,
	    commands_args_completion_list },
	{ "completion.remove", commands_completion_remove_cb, 1,
	    commands_args_session_get },
	{ "training.record", commands_training_record_cb, 1,
	    commands_args_training_record },
	{ "training.import", commands_training_import_cb, 1,
	    commands_args_person_import },
	/* Reports only read the store (a reader thread may run them). */
	{ "report.recertification", commands_report_recert_cb, 0,
	    commands_args_report_recert },
	{ "report.coverage", commands_report_coverage_cb, 0,
	    commands_args_report_coverage },
	{ "report.hours", commands_report_hours_cb, 0,
	    commands_args_report_hours },
};

#undef A_S
#undef A_I
#undef A_B
#undef A_A
#undef A_N
#undef A_R
#undef A_P
#undef A_M

static const struct commands_entry *
commands_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof commands_table / sizeof commands_table[0]; i++) {
		if (strcmp(commands_table[i].name, name) == 0)
			return &commands_table[i];
	}
	return NULL;
}

/* A copy of v with every string longer than the audit limit abridged. */
static json_t *
commands_abridge(json_t *v)
{
	json_t		*c, *m;
	const char	*k;
	size_t		 i;
	char		 buf[64];

	if (json_is_string(v) &&
	    json_string_length(v) > COMMANDS_AUDIT_STRING_MAX) {
		snprintf(buf, sizeof buf, "<%zu bytes>", json_string_length(v));
		return json_string(buf);
	}
	if (json_is_object(v)) {
		c = commands_object();
		json_object_foreach(v, k, m)
			commands_set(c, k, commands_abridge(m));
		return c;
	}
	if (json_is_array(v)) {
		c = commands_array();
		json_array_foreach(v, i, m)
			commands_append(c, commands_abridge(m));
		return c;
	}
	return json_incref(v);
}

static enum lectern_error
commands_audit(const struct commands_peer *peer, const char *cmd,
    json_t *args, enum lectern_error code, int64_t now)
{
	enum lectern_error	 rc;
	json_t			*a;
	char			*text, err[512];

	a = commands_abridge(args);
	if ((text = json_dumps(a, JSON_COMPACT)) == NULL)
		log_fatal("commands: out of memory");
	json_decref(a);
	rc = store_audit(now, (int64_t)peer->uid, (int64_t)peer->pid, cmd, text,
	    proto_error_name(code), err, sizeof err);
	free(text);
	if (rc != LECTERN_OK)
		log_err("audit of %s (uid %ld): %s", cmd, (long)peer->uid, err);
	return rc;
}

/* Record a refused state-changing command in a transaction of its own. */
static void
commands_audit_refusal(const struct commands_peer *peer, const char *cmd,
    json_t *args, enum lectern_error code, int64_t now)
{
	if (store_begin() != LECTERN_OK) {
		log_warn("audit of refused %s (uid %ld, %s): the database is "
		    "busy", cmd, (long)peer->uid, proto_error_name(code));
		return;
	}
	if (commands_audit(peer, cmd, args, code, now) != LECTERN_OK) {
		store_rollback();
		return;
	}
	if (store_commit() != LECTERN_OK)
		log_warn("audit of refused %s (uid %ld): commit failed", cmd,
		    (long)peer->uid);
}

/* Borrow cfg and note the start time for uptime_s. */
int
commands_start(const struct config *cfg)
{
	commands_cfg = cfg;
	notify_set_config(cfg);
	clock_gettime(CLOCK_MONOTONIC, &commands_started);
	/* An rrule from a peer must never make libical abort. */
	icalerror_set_errors_are_fatal(0);
	return 0;
}

/* Forget the configuration. */
void
commands_stop(void)
{
	commands_cfg = NULL;
}

/* Borrow a reloaded configuration. */
void
commands_set_config(const struct config *cfg)
{
	commands_cfg = cfg;
	notify_set_config(cfg);
}

/*
 * Read-only commands that may take long (reports over a whole district):
 * with a reader thread (offload.c) they run there, on its own connection,
 * and the loop goes on serving; their handlers only read the store.
 */
static const char *const commands_offloaded[] = {
	"report.recertification",
	"report.coverage",
	"report.hours",
	"completion.list",
	NULL
};

/* A request run on the reader thread (see commands_execute_async). */
struct commands_later {
	struct request			 req;
	struct commands_ctx		 ctx;
	const struct commands_entry	*e;
	enum lectern_error		 code;
	char				*line;	/* the reply, made on the reader */
	size_t				 len;
	commands_reply_fn		 reply;	/* NULL: the client left */
	void				*reply_arg;
};

static int
commands_is_offloaded(const char *name)
{
	size_t	 i;

	for (i = 0; commands_offloaded[i] != NULL; i++)
		if (strcmp(commands_offloaded[i], name) == 0)
			return 1;
	return 0;
}

/* The reply line for a finished request (the result is stolen). */
static char *
commands_reply_line(struct request *req, struct commands_ctx *ctx,
    enum lectern_error code, json_t *result, size_t *outlen)
{
	json_t	*id = req->id != NULL ? req->id : json_null();
	char	*reply;

	if (code == LECTERN_OK) {
		if (result == NULL)
			result = commands_object();
		reply = request_reply_ok(id, result, outlen);
	} else {
		json_decref(result);
		reply = request_reply_error(id, code, ctx->err, ctx->field,
		    ctx->extra, outlen);
		ctx->extra = NULL;
	}
	return reply;
}

/* The same, on the loop: an internal error is logged. */
static char *
commands_reply(struct request *req, struct commands_ctx *ctx,
    enum lectern_error code, json_t *result, size_t *outlen)
{
	if (code == LECTERN_E_INTERNAL)
		log_err("%s: %s", req->cmd, ctx->err);
	return commands_reply_line(req, ctx, code, result, outlen);
}

/* Run a read-only handler in one read transaction (any thread). */
static enum lectern_error
commands_read(const struct commands_entry *e, struct commands_ctx *ctx,
    json_t *args, json_t **result)
{
	enum lectern_error	 code;

	if ((code = store_begin_read()) != LECTERN_OK)
		return commands_error(ctx, code, NULL, "cannot read the "
		    "database");
	code = e->fn(ctx, args, result);
	if (store_commit() != LECTERN_OK)
		store_rollback();
	return code;
}

/*
 * On the reader thread: only the store and the job itself. The reply
 * text is made here too: turning a report on 100,000 people into 28 MB of
 * JSON and freeing its tree took the loop 0.5 s.
 */
static void
commands_later_run(void *arg)
{
	struct commands_later	*lt = arg;
	json_t			*result = NULL;

	lt->code = commands_read(lt->e, &lt->ctx, lt->req.args, &result);
	lt->line = commands_reply_line(&lt->req, &lt->ctx, lt->code, result,
	    &lt->len);
}

/* Back on the loop: reply (unless the client left) and clean up. */
static void
commands_later_done(void *arg, int cancelled)
{
	struct commands_later	*lt = arg;

	if (cancelled) {
		lt->code = commands_error(&lt->ctx, LECTERN_E_BUSY, NULL,
		    "the daemon is stopping; retry");
		lt->line = commands_reply_line(&lt->req, &lt->ctx, lt->code,
		    NULL, &lt->len);
	} else if (lt->code == LECTERN_E_INTERNAL)
		log_err("%s: %s", lt->req.cmd, lt->ctx.err);
	if (lt->line == NULL)
		log_fatal("commands: out of memory building a reply");
	if (lt->reply != NULL)
		lt->reply(lt->reply_arg, lt->line, lt->len);
	else
		free(lt->line);
	json_decref(lt->ctx.extra);
	request_cleanup(&lt->req);
	free(lt);
}

/* The client of a request on the reader went away: drop its reply. */
void
commands_later_detach(struct commands_later *lt)
{
	if (lt != NULL)
		lt->reply = NULL;
}

/*
 * Run one request line. With fn (the server), a long read-only command
 * may go to the reader thread: then NULL is returned, *later names it,
 * and fn(arg, reply, len) gets the reply on a later loop pass.
 */
static char *
commands_run(const char *line, size_t len, const struct commands_peer *peer,
    size_t *outlen, commands_reply_fn fn, void *arg,
    struct commands_later **later)
{
	struct request			 req;
	struct commands_ctx		 ctx;
	struct commands_later		*lt;
	const struct commands_entry	*e;
	enum lectern_error		 code;
	json_t				*result = NULL, *id;
	char				*reply;

	memset(&req, 0, sizeof req);
	memset(&ctx, 0, sizeof ctx);
	ctx.now = clock_now();
	ctx.uid = (int64_t)peer->uid;

	code = request_decode(line, len, &req, ctx.err, sizeof ctx.err);
	id = req.id != NULL ? req.id : json_null();
	if (code != LECTERN_OK) {
		reply = request_reply_error(id, code, ctx.err, NULL, NULL,
		    outlen);
		goto done;
	}
	if ((e = commands_find(req.cmd)) == NULL) {
		commands_error(&ctx, LECTERN_E_UNKNOWN_COMMAND, NULL,
		    "unknown command \"%.64s\" (see docs/PROTOCOL.md for the "
		    "list)", req.cmd);
		reply = request_reply_error(id, LECTERN_E_UNKNOWN_COMMAND,
		    ctx.err, NULL, NULL, outlen);
		goto done;
	}
	if (e->write && !peer->can_write) {
		code = commands_error(&ctx, LECTERN_E_PERMISSION_DENIED, NULL,
		    "%s changes the schedule: only root and members of the "
		    "coordinator group may run it", e->name);
		goto refused;
	}
	if ((code = commands_check_args(e, req.args, &ctx)) != LECTERN_OK)
		goto refused;
	if (!e->write && fn != NULL && commands_is_offloaded(e->name)) {
		if ((lt = calloc(1, sizeof *lt)) == NULL)
			log_fatal("commands: out of memory");
		lt->req = req;
		lt->ctx = ctx;
		lt->e = e;
		lt->reply = fn;
		lt->reply_arg = arg;
		if (offload_submit(commands_later_run, commands_later_done,
		    lt) == 0) {
			*later = lt;
			*outlen = 0;
			return NULL;
		}
		free(lt);	/* no reader: run it here */
	}
	if (!e->write) {
		code = commands_read(e, &ctx, req.args, &result);
		goto reply;
	}

	if ((code = store_begin()) != LECTERN_OK) {
		commands_error(&ctx, code, NULL, "the database is locked by "
		    "another process; retry");
		goto reply;
	}
	code = e->fn(&ctx, req.args, &result);
	if (code == LECTERN_OK &&
	    (code = commands_audit(peer, e->name, req.args, code,
	    ctx.now)) != LECTERN_OK)
		commands_error(&ctx, code, NULL, "cannot record the command "
		    "in the audit table");
	if (code == LECTERN_OK && (code = store_commit()) != LECTERN_OK)
		commands_error(&ctx, code, NULL, code == LECTERN_E_BUSY ?
		    "the database is locked by another process; retry" :
		    "the change could not be committed");
	if (code != LECTERN_OK) {
		store_rollback();
		json_decref(result);
		result = NULL;
		goto refused;
	}
	/* The change may have queued messages: delivery looks soon. */
	delivery_kick();
	remind_arm();
	goto reply;

refused:
	if (e->write && code != LECTERN_E_BUSY)
		commands_audit_refusal(peer, e->name, req.args, code, ctx.now);
reply:
	reply = commands_reply(&req, &ctx, code, result, outlen);
done:
	json_decref(ctx.extra);
	request_cleanup(&req);
	if (reply == NULL)
		log_fatal("commands: out of memory building a reply");
	return reply;
}

/* Run one request line; returns the malloc'd reply line. */
char *
commands_execute(const char *line, size_t len,
    const struct commands_peer *peer, size_t *outlen)
{
	return commands_run(line, len, peer, outlen, NULL, NULL, NULL);
}

/* Run one request line, perhaps on the reader (see commands_run). */
char *
commands_execute_async(const char *line, size_t len,
    const struct commands_peer *peer, size_t *outlen, commands_reply_fn fn,
    void *arg, struct commands_later **later)
{
	*later = NULL;
	return commands_run(line, len, peer, outlen, fn, arg, later);
}

/* A malloc'd error reply with "id":null for an unframed line. */
char *
commands_refuse(enum lectern_error code, const char *message, size_t *outlen)
{
	char	*reply;

	reply = request_reply_error(json_null(), code, message, NULL, NULL,
	    outlen);
	if (reply == NULL)
		log_fatal("commands: out of memory building a reply");
	return reply;
}
