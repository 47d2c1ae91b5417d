/*
 * cmd.c -- the client's command table and the request builders.
 *
 * Options are converted generically by args.c from each command's option
 * table; the build functions here handle operands and the rules that tie
 * options together (required ones, --session versus --course). All of it
 * is pure except person import and reply, which read their files; reply
 * hands an e-mail to cmd_mail_reader (mime.c) to find the calendar part.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lectern.h"
#include "args.h"
#include "output.h"
#include "print.h"
#include "cmd.h"

/* The largest CSV file person import reads (the daemon's limit is lower). */
#define CMD_FILE_MAX	(64u * 1024 * 1024)
/*
 * The largest reply e-mail read. A REPLY is a few KiB; the rest is room
 * for the quoted invitation and an attachment or two, base64-encoded.
 */
#define CMD_REPLY_MAX	(4u * 1024 * 1024)

/* The e-mail reader of reply; see cmd.h. */
cmd_mail_fn cmd_mail_reader;

#define CMD_PERSON_OPTIONS(email_help)					\
	{ "name", ARGS_STRING, "name", "NAME", "full name", 0 },	\
	{ "email", ARGS_STRING, "email", "EMAIL", email_help, 0 },	\
	{ "org", ARGS_STRING, "organization", "ORG",			\
	  "organization (school)", 1 },					\
	{ "organization", ARGS_STRING, "organization", "ORG", NULL, 1 },\
	{ "position", ARGS_STRING, "position", "POS",			\
	  "position (\"teacher of mathematics\")", 1 },			\
	{ "lang", ARGS_STRING, "lang", "LANG",				\
	  "language of the messages: en, ru, ...", 1 },			\
	{ "tag", ARGS_STRINGS, "tags", "TAG",				\
	  "a tag; repeat the option for several", 1 }

#define CMD_SESSION_OPTIONS						\
	{ "kind", ARGS_STRING, "kind", "KIND", "webinar, seminar, "	\
	  "workshop, round_table, master_class, consultation, "	\
	  "lecture, "							\
	  "course_meeting, training, business_game, open_lesson, "	\
	  "conference, pedagogical_council, mentoring or other", 0 },	\
	{ "title", ARGS_STRING, "title", "TITLE",			\
	  "the title teachers see", 0 },				\
	{ "start", ARGS_STRING, "start", "TIME",			\
	  "\"2026-12-01 15:00\" in --tz, or ISO 8601 with Z or an "	\
	  "offset", 0 },						\
	{ "duration", ARGS_DURATION, "duration", "DURATION",		\
	  "90m, 1h30m, 2d; a bare number is minutes", 0 },		\
	{ "tz", ARGS_STRING, "tz", "ZONE", "IANA time zone "		\
	  "(Europe/Moscow); default: the daemon's zone", 0 },		\
	{ "description", ARGS_STRING, "description", "TEXT",		\
	  "a longer description (may span lines)", 1 },			\
	{ "location", ARGS_STRING, "location", "PLACE",			\
	  "where it takes place", 1 },					\
	{ "url", ARGS_STRING, "url", "URL",				\
	  "the link to join (http:// or https://)", 1 },		\
	{ "capacity", ARGS_COUNT, "capacity", "N", "seats; people "	\
	  "beyond them join the waitlist; 0: unlimited", 0 },		\
	{ "remind", ARGS_REMINDERS, "reminders", "LIST", "reminders "	\
	  "before the start, \"7d,1d,1h\", or none", 0 },		\
	{ "reminders", ARGS_REMINDERS, "reminders", "LIST", NULL, 0 },	\
	{ "course", ARGS_ID, "course", "ID",				\
	  "the course the session belongs to", 1 },			\
	{ "repeat", ARGS_STRING, "rrule", "RRULE", "an RFC 5545 "	\
	  "recurrence rule (\"FREQ=MONTHLY;COUNT=4\")", 1 },		\
	{ "rrule", ARGS_STRING, "rrule", "RRULE", NULL, 1 }

#define CMD_COURSE_OPTIONS						\
	{ "title", ARGS_STRING, "title", "TITLE",			\
	  "the title teachers see", 0 },				\
	{ "first-day", ARGS_STRING, "first_day", "DATE",		\
	  "the first day, 2027-02-01", 0 },				\
	{ "last-day", ARGS_STRING, "last_day", "DATE",			\
	  "the last day, 2027-02-28", 0 },				\
	{ "description", ARGS_STRING, "description", "TEXT",		\
	  "a longer description (may span lines)", 1 },			\
	{ "provider", ARGS_STRING, "provider", "NAME",			\
	  "who runs the course (\"District office\")", 1 },		\
	{ "hours", ARGS_COUNT, "hours", "N",				\
	  "the hours it counts for", 1 },				\
	{ "capacity", ARGS_COUNT, "capacity", "N", "seats; people "	\
	  "beyond them join the waitlist; 0: unlimited", 0 },		\
	{ "no-recertification", ARGS_FALSE,				\
	  "counts_for_recertification", NULL, "it does not count "	\
	  "towards recertification", 0 }

#define CMD_OCCURRENCE_OPTION(help)					\
	{ "occurrence", ARGS_STRING, "occurrence", "TIME", help, 0 }

#define CMD_CSV_OPTION							\
	{ "csv", ARGS_CSV, NULL, NULL, "write the table as CSV (RFC 4180, "\
	  "UTF-8, safe to open in a spreadsheet)", 0 }

#define CMD_ORGANIZATION_OPTION(help)					\
	{ "organization", ARGS_STRING, "organization", "ORG", help, 0 },\
	{ "org", ARGS_STRING, "organization", "ORG", NULL, 0 }

#define CMD_PERIOD_OPTIONS(what)					\
	{ "from", ARGS_DATE, "from", "DATE", what " from DATE "		\
	  "(default: the recertification cycle that ends today)", 0 },	\
	{ "to", ARGS_DATE, "to", "DATE", what " up to DATE, included "	\
	  "(default: today)", 0 }

#define CMD_STATUS_HELP							\
	"recertification status: ok, due_soon, overdue or never; "	\
	"several separated by commas"

#define CMD_END { NULL, ARGS_FLAG, NULL, NULL, NULL, 0 }

static const struct args_option cmd_none_options[] = {
	CMD_END
};

static const struct args_option cmd_person_add_options[] = {
	CMD_PERSON_OPTIONS("email address (unique)"),
	CMD_END
};

static const struct args_option cmd_person_update_options[] = {
	CMD_PERSON_OPTIONS("a new email address"),
	{ "clear", ARGS_CLEAR, NULL, "FIELD", "clear an optional field: "
	  "org, position, lang or tag; repeatable", 0 },
	CMD_END
};

static const struct args_option cmd_person_ls_options[] = {
	{ "org", ARGS_STRING, "organization", "ORG",
	  "only people of this organization", 0 },
	{ "organization", ARGS_STRING, "organization", "ORG", NULL, 0 },
	{ "group", ARGS_STRING, "group", "GROUP",
	  "only members of this group", 0 },
	{ "tag", ARGS_STRING, "tag", "TAG", "only people with this tag", 0 },
	{ "limit", ARGS_LIMIT, "limit", "N", "at most N people", 0 },
	CMD_END
};

static const struct args_option cmd_person_import_options[] = {
	{ "partial", ARGS_FLAG, "partial", NULL,
	  "import the valid rows and list the invalid ones", 0 },
	CMD_END
};

static const struct args_option cmd_session_add_options[] = {
	CMD_SESSION_OPTIONS,
	CMD_END
};

static const struct args_option cmd_session_update_options[] = {
	CMD_SESSION_OPTIONS,
	{ "clear", ARGS_CLEAR, NULL, "FIELD", "clear an optional field: "
	  "description, location, url, course or repeat; repeatable", 0 },
	CMD_OCCURRENCE_OPTION("change only the occurrence of a repeating "
	    "session that was to start at TIME (--start, --duration, "
	    "--title, --description, --location, --url)"),
	CMD_END
};

static const struct args_option cmd_session_cancel_options[] = {
	{ "reason", ARGS_STRING, "reason", "TEXT",
	  "the reason, shown in the cancellation", 0 },
	CMD_OCCURRENCE_OPTION("cancel only the occurrence of a repeating "
	    "session that was to start at TIME"),
	CMD_END
};

static const struct args_option cmd_session_ls_options[] = {
	{ "from", ARGS_STRING, "from", "TIME",
	  "sessions starting at or after TIME (a repeating session: its "
	  "first start, unless --expand)", 0 },
	{ "to", ARGS_STRING, "to", "TIME", "sessions starting before TIME",
	  0 },
	{ "expand", ARGS_FLAG, "expand", NULL, "one row per occurrence of "
	  "a repeating session in [--from, --to) (default: the next 90 "
	  "days)", 0 },
	{ "kind", ARGS_STRING, "kind", "KIND", "only this kind", 0 },
	{ "status", ARGS_STRING, "status", "STATUS",
	  "scheduled or cancelled", 0 },
	{ "course", ARGS_ID, "course", "ID", "only sessions of this course",
	  0 },
	{ "limit", ARGS_LIMIT, "limit", "N", "at most N sessions", 0 },
	CMD_END
};

static const struct args_option cmd_course_add_options[] = {
	CMD_COURSE_OPTIONS,
	CMD_END
};

static const struct args_option cmd_course_update_options[] = {
	CMD_COURSE_OPTIONS,
	{ "recertification", ARGS_FLAG, "counts_for_recertification", NULL,
	  "it counts towards recertification again", 0 },
	{ "clear", ARGS_CLEAR, NULL, "FIELD", "clear an optional field: "
	  "description, provider or hours; repeatable", 0 },
	CMD_END
};

static const struct args_option cmd_course_cancel_options[] = {
	{ "reason", ARGS_STRING, "reason", "TEXT",
	  "the reason, shown in the cancellations", 0 },
	CMD_END
};

static const struct args_option cmd_course_ls_options[] = {
	{ "from", ARGS_STRING, "from", "DATE",
	  "courses that have not ended before DATE", 0 },
	{ "to", ARGS_STRING, "to", "DATE",
	  "courses that have begun by DATE", 0 },
	{ "status", ARGS_STRING, "status", "STATUS",
	  "scheduled or cancelled", 0 },
	{ "limit", ARGS_LIMIT, "limit", "N", "at most N courses", 0 },
	CMD_END
};

static const struct args_option cmd_enroll_options[] = {
	{ "session", ARGS_ID, "session", "ID", "the session", 0 },
	{ "course", ARGS_ID, "course", "ID", "the course (instead of a "
	  "session)", 0 },
	{ "group", ARGS_STRINGS, "groups", "GROUP", "every member of GROUP; "
	  "repeatable", 0 },
	{ "status", ARGS_STRING, "status", "S[,S]", "everyone of this "
	  CMD_STATUS_HELP, 0 },
	{ "due-within", ARGS_COUNT, "due_within", "DAYS", "everyone whose "
	  "recertification is due within DAYS days, overdue included", 0 },
	CMD_ORGANIZATION_OPTION("with --status or --due-within: only people "
	    "of this organization"),
	CMD_END
};

static const struct args_option cmd_unenroll_options[] = {
	{ "session", ARGS_ID, "session", "ID", "the session", 0 },
	{ "course", ARGS_ID, "course", "ID", "the course (instead of a "
	  "session)", 0 },
	CMD_END
};

static const struct args_option cmd_rsvp_options[] = {
	{ "session", ARGS_ID, "session", "ID", "the session", 0 },
	{ "person", ARGS_STRING, "person", "PERSON", "the person who "
	  "answers", 0 },
	{ "answer", ARGS_STRING, "rsvp", "ANSWER", "accepted, declined, "
	  "tentative or needs-action", 0 },
	CMD_END
};

static const struct args_option cmd_outbox_ls_options[] = {
	{ "state", ARGS_STRING, "state", "STATE",
	  "queued, sent, failed or expired", 0 },
	{ "session", ARGS_ID, "session", "ID",
	  "only messages about this session", 0 },
	{ "limit", ARGS_LIMIT, "limit", "N",
	  "at most N messages (default 100)", 0 },
	CMD_END
};

static const struct args_option cmd_attendance_mark_options[] = {
	CMD_OCCURRENCE_OPTION("the occurrence of a repeating session that "
	    "was to start at TIME (required for one)"),
	{ "attended", ARGS_FLAG, "state", NULL, "they attended", 0 },
	{ "absent", ARGS_FALSE, "state", NULL, "they were absent", 0 },
	CMD_END
};

static const struct args_option cmd_attendance_ls_options[] = {
	CMD_OCCURRENCE_OPTION("only the occurrence of a repeating session "
	    "that was to start at TIME"),
	CMD_CSV_OPTION,
	CMD_END
};

static const struct args_option cmd_attendance_import_options[] = {
	CMD_OCCURRENCE_OPTION("the occurrence of a repeating session that "
	    "was to start at TIME (required for one)"),
	{ "email-column", ARGS_STRING, "email_column", "NAME",
	  "the column of the participants' email (default: email)", 0 },
	{ "minutes-column", ARGS_STRING, "minutes_column", "NAME",
	  "the column of the minutes each one stayed (default: duration)",
	  0 },
	{ "min-minutes", ARGS_COUNT, "min_minutes", "N", "the minutes in "
	  "all that count as attended; fewer is absent (default 0)", 0 },
	CMD_END
};

static const struct args_option cmd_course_complete_options[] = {
	{ "date", ARGS_DATE, "completed_on", "DATE",
	  "the day they completed it (default: today)", 0 },
	{ "hours", ARGS_HOURS, "hours", "N",
	  "the hours it counts for (default: the course's hours)", 0 },
	CMD_END
};

static const struct args_option cmd_training_record_options[] = {
	{ "title", ARGS_STRING, "title", "TITLE", "what the training was",
	  0 },
	{ "hours", ARGS_HOURS, "hours", "N", "its hours, such as 36 or 1.5",
	  0 },
	{ "date", ARGS_DATE, "completed_on", "DATE",
	  "the day it was completed", 0 },
	{ "provider", ARGS_STRING, "provider", "NAME",
	  "who gave it (\"Regional institute\")", 0 },
	{ "no-count", ARGS_FALSE, "counts_for_recertification", NULL,
	  "it does not count towards recertification", 0 },
	CMD_END
};

static const struct args_option cmd_training_import_options[] = {
	{ "partial", ARGS_FLAG, "partial", NULL,
	  "record the valid rows and list the invalid ones", 0 },
	CMD_END
};

static const struct args_option cmd_completions_options[] = {
	{ "from", ARGS_DATE, "from", "DATE", "completed on DATE or later",
	  0 },
	{ "to", ARGS_DATE, "to", "DATE", "completed on DATE or earlier", 0 },
	{ "person", ARGS_STRING, "person", "PERSON",
	  "only this person's", 0 },
	CMD_ORGANIZATION_OPTION("only people of this organization"),
	{ "course", ARGS_ID, "course", "ID", "only completions of this "
	  "course", 0 },
	{ "source", ARGS_STRING, "source", "SOURCE", "only those entered "
	  "by attendance, manual or import", 0 },
	{ "limit", ARGS_ID, "limit", "N", "at most N (default 1000)", 0 },
	CMD_CSV_OPTION,
	CMD_END
};

static const struct args_option cmd_report_due_options[] = {
	{ "as-of", ARGS_DATE, "as_of", "DATE", "the day the status is "
	  "reckoned on (default: today)", 0 },
	CMD_ORGANIZATION_OPTION("only people of this organization"),
	{ "status", ARGS_STRING, "status", "S[,S]", "only people of this "
	  CMD_STATUS_HELP, 0 },
	{ "limit", ARGS_ID, "limit", "N", "at most N people (default: "
	  "all)", 0 },
	CMD_CSV_OPTION,
	CMD_END
};

static const struct args_option cmd_report_coverage_options[] = {
	CMD_PERIOD_OPTIONS("training completed"),
	{ "by", ARGS_STRING, "by", "GROUPING", "one row per organization "
	  "or position (default: one row in all)", 0 },
	CMD_ORGANIZATION_OPTION("only people of this organization"),
	CMD_CSV_OPTION,
	CMD_END
};

static const struct args_option cmd_report_hours_options[] = {
	CMD_PERIOD_OPTIONS("hours"),
	{ "by", ARGS_STRING, "by", "GROUPING", "one row per person "
	  "(default) or organization", 0 },
	{ "person", ARGS_STRING, "person", "PERSON", "only this person",
	  0 },
	CMD_ORGANIZATION_OPTION("only people of this organization"),
	CMD_CSV_OPTION,
	CMD_END
};

static const struct args_option cmd_outbox_retry_options[] = {
	{ "failed", ARGS_FLAG, "failed", NULL,
	  "every failed message instead of one", 0 },
	CMD_END
};

/* outbox retry: one message id, or --failed. */
static int
cmd_build_outbox_retry(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	long long	id;
	int		failed;

	failed = json_object_get(call->args, "failed") != NULL;
	if (failed == (nops == 1)) {
		snprintf(err, errlen, "give a message ID or --failed");
		return CMD_USAGE;
	}
	if (failed)
		return CMD_OK;
	if (args_integer(ops[0], 1, LLONG_MAX, "message id", &id, err,
	    errlen) == -1)
		return CMD_USAGE;
	return json_object_set_new(call->args, "id",
	    json_integer((json_int_t)id)) == 0 ? CMD_OK : CMD_FAIL;
}

/* An array of person references from words. */
static json_t *
cmd_people(char **ops, int nops, char *err, size_t errlen)
{
	json_t	*a, *ref;
	int	 i;

	if ((a = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < nops; i++) {
		if ((ref = args_person(ops[i], err, errlen)) == NULL) {
			json_decref(a);
			return NULL;
		}
		if (json_array_append_new(a, ref) == -1)
			goto nomem;
	}
	return a;
nomem:
	json_decref(a);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

static int
cmd_build_person_add(struct cmd_call *call, char **ops, int nops, char *err,
    size_t errlen)
{
	struct args_parsed	p = { .args = call->args };

	(void)ops;
	(void)nops;
	if (args_require(cmd_person_add_options, &p, err, errlen, "name",
	    "email", NULL) == -1)
		return CMD_USAGE;
	return CMD_OK;
}

static int
cmd_build_person_update(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	json_t	*ref, *email;

	(void)nops;
	if (json_object_size(call->args) == 0) {
		snprintf(err, errlen, "nothing to change: give at least one "
		    "option");
		return CMD_USAGE;
	}
	if ((ref = args_person(ops[0], err, errlen)) == NULL)
		return CMD_USAGE;
	if (json_is_integer(ref))
		return json_object_set_new(call->args, "id", ref) == 0 ?
		    CMD_OK : CMD_FAIL;
	email = json_object_get(call->args, "email");
	if (json_is_string(email) &&
	    strcmp(json_string_value(email), ops[0]) != 0) {
		/*
		 * The protocol names a person by email only when no new
		 * address is given, so ask for the id first.
		 */
		json_decref(ref);
		if ((call->lookup = strdup(ops[0])) == NULL) {
			snprintf(err, errlen, "out of memory");
			return CMD_FAIL;
		}
		return CMD_OK;
	}
	return json_object_set_new(call->args, "email", ref) == 0 ? CMD_OK :
	    CMD_FAIL;
}

static int
cmd_build_person_ref(struct cmd_call *call, char **ops, int nops, char *err,
    size_t errlen)
{
	(void)nops;
	if (args_person_set(call->args, ops[0], err, errlen) == -1)
		return CMD_USAGE;
	return CMD_OK;
}

/*
 * Read a whole file, or standard input for "-", of at most max octets;
 * name is what messages call it. The text (NUL-terminated) is the
 * caller's. CMD_OK, CMD_FAIL when it cannot be read, or CMD_REFUSED when
 * it is larger than max.
 */
static int
cmd_read_file(const char *path, const char *name, size_t max, char **out,
    size_t *outlen, char *err, size_t errlen)
{
	FILE	*f;
	char	*buf = NULL, *grown;
	size_t	 len = 0, cap = 0, n;
	int	 e, rc = CMD_FAIL;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", name,
		    strerror(errno));
		return CMD_FAIL;
	}
	/* Room for max + 1 octets tells a file of exactly max from more. */
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				snprintf(err, errlen, "%s is larger than "
				    "%zu MiB", name, max >> 20);
				rc = CMD_REFUSED;
				goto fail;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if (cap > max + 1)
				cap = max + 1;
			if ((grown = realloc(buf, cap + 1)) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			buf = grown;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				e = errno;
				snprintf(err, errlen, "cannot read %s: %s",
				    name, strerror(e));
				goto fail;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return CMD_FAIL;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return CMD_OK;
fail:
	if (f != stdin)
		fclose(f);
	free(buf);
	return rc;
}

/*
 * The CSV file at path ("-": standard input), which must be UTF-8, into
 * "csv"; its name is kept in call->file for the messages about its lines.
 */
static int
cmd_csv_file(struct cmd_call *call, const char *path, char *err,
    size_t errlen)
{
	const char	*name;
	json_t		*csv;
	char		*text;
	size_t		 len, bad, line, i;

	name = strcmp(path, "-") == 0 ? "stdin" : path;
	call->file = name;
	if (cmd_read_file(path, name, CMD_FILE_MAX, &text, &len, err,
	    errlen) != CMD_OK)
		return CMD_FAIL;
	if (output_utf8_check(text, len, &bad) == -1) {
		for (line = 1, i = 0; i < bad; i++)
			if (text[i] == '\n')
				line++;
		snprintf(err, errlen, "%s:%zu: %s; save the file as UTF-8",
		    name, line, text[bad] == '\0' ? "a NUL byte" :
		    "not valid UTF-8");
		free(text);
		return CMD_FAIL;
	}
	csv = json_stringn(text, len);
	free(text);
	if (csv == NULL ||
	    json_object_set_new(call->args, "csv", csv) == -1) {
		snprintf(err, errlen, "out of memory");
		return CMD_FAIL;
	}
	return CMD_OK;
}

/* person import FILE, training import FILE. */
static int
cmd_build_import(struct cmd_call *call, char **ops, int nops, char *err,
    size_t errlen)
{
	(void)nops;
	return cmd_csv_file(call, ops[0], err, errlen);
}

static int
cmd_build_group_name(struct cmd_call *call, char **ops, int nops, char *err,
    size_t errlen)
{
	json_t	*v;

	(void)nops;
	if ((v = args_string(ops[0], "the group name", err, errlen)) == NULL)
		return CMD_USAGE;
	return json_object_set_new(call->args, "name", v) == 0 ? CMD_OK :
	    CMD_FAIL;
}

static int
cmd_build_group_members(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	json_t	*g, *people;

	if ((g = args_string(ops[0], "the group name", err, errlen)) == NULL)
		return CMD_USAGE;
	if (json_object_set_new(call->args, "group", g) == -1)
		return CMD_FAIL;
	if ((people = cmd_people(ops + 1, nops - 1, err, errlen)) == NULL)
		return CMD_USAGE;
	return json_object_set_new(call->args, "people", people) == 0 ?
	    CMD_OK : CMD_FAIL;
}

static int
cmd_build_session_add(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	struct args_parsed	p = { .args = call->args };

	(void)ops;
	(void)nops;
	/* A meeting of a course is a course_meeting unless told (daemon). */
	if ((json_object_get(call->args, "course") == NULL &&
	    args_require(cmd_session_add_options, &p, err, errlen, "kind",
	    NULL) == -1) || args_require(cmd_session_add_options, &p, err,
	    errlen, "title", "start", "duration", NULL) == -1)
		return CMD_USAGE;
	return CMD_OK;
}

/* The id operand into "id"; what names it ("session id"). */
static int
cmd_build_id(struct cmd_call *call, const char *op, const char *what,
    char *err, size_t errlen)
{
	long long	id;

	if (args_integer(op, 1, LLONG_MAX, what, &id, err, errlen) == -1)
		return CMD_USAGE;
	return json_object_set_new(call->args, "id",
	    json_integer((json_int_t)id)) == 0 ? CMD_OK : CMD_FAIL;
}

/* The session id operand into "id". */
static int
cmd_build_session_id(struct cmd_call *call, char **ops, int nops, char *err,
    size_t errlen)
{
	(void)nops;
	return cmd_build_id(call, ops[0], "session id", err, errlen);
}

/* The course id operand into "id". */
static int
cmd_build_course_id(struct cmd_call *call, char **ops, int nops, char *err,
    size_t errlen)
{
	(void)nops;
	return cmd_build_id(call, ops[0], "course id", err, errlen);
}

static int
cmd_build_session_update(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	size_t	n;

	/* --occurrence says which one, not what changes. */
	n = json_object_size(call->args);
	if (json_object_get(call->args, "occurrence") != NULL)
		n--;
	if (n == 0) {
		snprintf(err, errlen, "nothing to change: give at least one "
		    "option");
		return CMD_USAGE;
	}
	return cmd_build_session_id(call, ops, nops, err, errlen);
}

static int
cmd_build_course_add(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	struct args_parsed	p = { .args = call->args };

	(void)ops;
	(void)nops;
	if (args_require(cmd_course_add_options, &p, err, errlen, "title",
	    "first_day", "last_day", NULL) == -1)
		return CMD_USAGE;
	return CMD_OK;
}

static int
cmd_build_course_update(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	(void)nops;
	if (json_object_size(call->args) == 0) {
		snprintf(err, errlen, "nothing to change: give at least one "
		    "option");
		return CMD_USAGE;
	}
	return cmd_build_course_id(call, ops, nops, err, errlen);
}

/* The id operand op into key ("session"); what names it ("session id"). */
static int
cmd_set_id(struct cmd_call *call, const char *key, const char *op,
    const char *what, char *err, size_t errlen)
{
	long long	id;

	if (args_integer(op, 1, LLONG_MAX, what, &id, err, errlen) == -1)
		return CMD_USAGE;
	return json_object_set_new(call->args, key,
	    json_integer((json_int_t)id)) == 0 ? CMD_OK : CMD_FAIL;
}

/* The people operands into "people". */
static int
cmd_set_people(struct cmd_call *call, char **ops, int nops, char *err,
    size_t errlen)
{
	json_t	*people;

	if ((people = cmd_people(ops, nops, err, errlen)) == NULL)
		return CMD_USAGE;
	return json_object_set_new(call->args, "people", people) == 0 ?
	    CMD_OK : CMD_FAIL;
}

/* The option that fills key, for messages: "--as-of". */
static const char *
cmd_option_of(const struct cmd_call *call, const char *key)
{
	const struct args_option	*o;

	for (o = call->entry->options; o->name != NULL; o++) {
		if (o->key != NULL && o->help != NULL &&
		    strcmp(o->key, key) == 0)
			return o->name;
	}
	return key;
}

/*
 * The string option of key, if given, must be one of choices (NULL
 * ended); '-' stands for '_' ("due-soon").
 */
static int
cmd_choice(struct cmd_call *call, const char *key,
    const char *const *choices, char *err, size_t errlen)
{
	const char *const	*c;
	const char		*v;
	char			 norm[64], list[256];
	size_t			 i, used = 0;

	v = json_string_value(json_object_get(call->args, key));
	if (v == NULL)
		return CMD_OK;
	for (i = 0; v[i] != '\0' && i + 1 < sizeof norm; i++)
		norm[i] = v[i] == '-' ? '_' : v[i];
	norm[i] = '\0';
	for (c = choices; *c != NULL; c++) {
		if (v[i] == '\0' && strcmp(*c, norm) == 0)
			return json_object_set_new(call->args, key,
			    json_string(*c)) == 0 ? CMD_OK : CMD_FAIL;
	}
	list[0] = '\0';
	for (c = choices; *c != NULL && used < sizeof list; c++)
		used += (size_t)snprintf(list + used, sizeof list - used,
		    "%s%s", c == choices ? "" : c[1] == NULL ? " or " : ", ",
		    *c);
	snprintf(err, errlen, "--%s must be %s, not \"%.40s\"",
	    cmd_option_of(call, key), list, v);
	return CMD_USAGE;
}

/*
 * --status S[,S]: each a recertification status; one is sent as a
 * string, several as an array.
 */
static int
cmd_statuses(struct cmd_call *call, char *err, size_t errlen)
{
	static const char *const statuses[] = { "ok", "due_soon", "overdue",
		"never", NULL };
	const char *const	*st;
	const char		*v, *p, *end;
	json_t			*a;
	char			 word[64];
	size_t			 n, i;

	v = json_string_value(json_object_get(call->args, "status"));
	if (v == NULL)
		return CMD_OK;
	if ((a = json_array()) == NULL)
		return CMD_FAIL;
	for (p = v;; p = end + 1) {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		while (n > 0 && *p == ' ') {
			p++;
			n--;
		}
		while (n > 0 && p[n - 1] == ' ')
			n--;
		for (i = 0; i < n && i + 1 < sizeof word; i++)
			word[i] = p[i] == '-' ? '_' : p[i];
		word[i] = '\0';
		for (st = statuses; *st != NULL; st++)
			if (i == n && strcmp(*st, word) == 0)
				break;
		if (*st == NULL) {
			snprintf(err, errlen, "--status: \"%.*s\" is not a "
			    "status (ok, due_soon, overdue or never)",
			    (int)(n > 40 ? 40 : n), p);
			json_decref(a);
			return CMD_USAGE;
		}
		if (json_array_append_new(a, json_string(*st)) == -1) {
			json_decref(a);
			return CMD_FAIL;
		}
		if (end == NULL)
			break;
	}
	if (json_array_size(a) == 1) {
		json_incref(json_array_get(a, 0));
		if (json_object_set_new(call->args, "status",
		    json_array_get(a, 0)) == -1) {
			json_decref(a);
			return CMD_FAIL;
		}
		json_decref(a);
		return CMD_OK;
	}
	return json_object_set_new(call->args, "status", a) == 0 ? CMD_OK :
	    CMD_FAIL;
}

/* The person option of key, if given, as a reference (id or email). */
static int
cmd_person_option(struct cmd_call *call, const char *key, char *err,
    size_t errlen)
{
	const char	*v;
	json_t		*ref;
	char		 e[256];

	if ((v = json_string_value(json_object_get(call->args, key))) ==
	    NULL)
		return CMD_OK;
	if ((ref = args_person(v, e, sizeof e)) == NULL) {
		snprintf(err, errlen, "--%s: %s", cmd_option_of(call, key), e);
		return CMD_USAGE;
	}
	return json_object_set_new(call->args, key, ref) == 0 ? CMD_OK :
	    CMD_FAIL;
}

/*
 * enroll and unenroll: --session or --course, or else the first operand is
 * the session; the other operands are people. enroll also selects people
 * by recertification status (--status, --due-within, --organization).
 */
static int
cmd_build_enroll(struct cmd_call *call, char **ops, int nops, char *err,
    size_t errlen)
{
	json_t		*people;
	long long	 id;
	int		 chosen, rc;

	if (json_object_get(call->args, "session") != NULL &&
	    json_object_get(call->args, "course") != NULL) {
		snprintf(err, errlen, "give --session or --course, not both");
		return CMD_USAGE;
	}
	if (json_object_get(call->args, "session") == NULL &&
	    json_object_get(call->args, "course") == NULL) {
		if (nops == 0) {
			snprintf(err, errlen, "missing the session: give "
			    "--session ID, --course ID or the session's id "
			    "first");
			return CMD_USAGE;
		}
		if (args_integer(ops[0], 1, LLONG_MAX, "session id", &id, err,
		    errlen) == -1)
			return CMD_USAGE;
		if (json_object_set_new(call->args, "session",
		    json_integer((json_int_t)id)) == -1)
			return CMD_FAIL;
		ops++;
		nops--;
	}
	chosen = json_object_get(call->args, "status") != NULL ||
	    json_object_get(call->args, "due_within") != NULL;
	if (json_object_get(call->args, "organization") != NULL && !chosen) {
		snprintf(err, errlen, "--organization limits --status or "
		    "--due-within: give one of them");
		return CMD_USAGE;
	}
	if ((rc = cmd_statuses(call, err, errlen)) != CMD_OK)
		return rc;
	if (nops == 0 && json_object_get(call->args, "groups") == NULL &&
	    !chosen) {
		snprintf(err, errlen, "name at least one person%s",
		    strcmp(call->entry->cmd, "enroll") == 0 ?
		    ", --group, --status or --due-within" : "");
		return CMD_USAGE;
	}
	if (nops == 0)
		return CMD_OK;
	if ((people = cmd_people(ops, nops, err, errlen)) == NULL)
		return CMD_USAGE;
	return json_object_set_new(call->args, "people", people) == 0 ?
	    CMD_OK : CMD_FAIL;
}

/* attendance mark SESSION --attended|--absent PERSON... */
static int
cmd_build_attendance_mark(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	const json_t	*state;
	int		 rc;

	state = json_object_get(call->args, "state");
	if (state == NULL) {
		snprintf(err, errlen, "give --attended or --absent");
		return CMD_USAGE;
	}
	if (json_object_set_new(call->args, "state", json_string(
	    json_is_true(state) ? "attended" : "absent")) == -1)
		return CMD_FAIL;
	if ((rc = cmd_set_id(call, "session", ops[0], "session id", err,
	    errlen)) != CMD_OK)
		return rc;
	return cmd_set_people(call, ops + 1, nops - 1, err, errlen);
}

/* attendance ls SESSION */
static int
cmd_build_attendance_ls(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	(void)nops;
	return cmd_set_id(call, "session", ops[0], "session id", err, errlen);
}

/* attendance import SESSION FILE */
static int
cmd_build_attendance_import(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	int	rc;

	(void)nops;
	if ((rc = cmd_set_id(call, "session", ops[0], "session id", err,
	    errlen)) != CMD_OK)
		return rc;
	return cmd_csv_file(call, ops[1], err, errlen);
}

/* course complete COURSE PERSON... */
static int
cmd_build_course_complete(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	int	rc;

	if ((rc = cmd_set_id(call, "course", ops[0], "course id", err,
	    errlen)) != CMD_OK)
		return rc;
	return cmd_set_people(call, ops + 1, nops - 1, err, errlen);
}

/* training record PERSON --title --hours --date */
static int
cmd_build_training_record(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	struct args_parsed	 p = { .args = call->args };
	json_t			*ref;

	(void)nops;
	if (args_require(cmd_training_record_options, &p, err, errlen,
	    "title", "hours", "completed_on", NULL) == -1)
		return CMD_USAGE;
	if ((ref = args_person(ops[0], err, errlen)) == NULL)
		return CMD_USAGE;
	return json_object_set_new(call->args, "person", ref) == 0 ? CMD_OK :
	    CMD_FAIL;
}

/* completions: --person as a reference, --source one of three. */
static int
cmd_build_completions(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	static const char *const sources[] = { "attendance", "manual",
		"import", NULL };
	int	rc;

	(void)ops;
	(void)nops;
	if ((rc = cmd_person_option(call, "person", err, errlen)) != CMD_OK)
		return rc;
	return cmd_choice(call, "source", sources, err, errlen);
}

/* completion rm ID */
static int
cmd_build_completion_id(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	(void)nops;
	return cmd_build_id(call, ops[0], "completion id", err, errlen);
}

/* report due: --status S[,S]. */
static int
cmd_build_report_due(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	(void)ops;
	(void)nops;
	return cmd_statuses(call, err, errlen);
}

/*
 * The call's output is an export (--csv or --json, the command's or the
 * global one): report due then asks for everyone, since the daemon lists
 * 1,000 people unless told otherwise. -1 when out of memory.
 */
int
cmd_exporting(struct cmd_call *call)
{
	if (strcmp(call->entry->cmd, "report.recertification") != 0 ||
	    json_object_get(call->args, "limit") != NULL)
		return 0;
	return json_object_set_new(call->args, "limit",
	    json_integer(CMD_EXPORT_ALL));
}

/* report coverage: --by organization or position. */
static int
cmd_build_report_coverage(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	static const char *const by[] = { "organization", "position",
		NULL };

	(void)ops;
	(void)nops;
	return cmd_choice(call, "by", by, err, errlen);
}

/* report hours: --by person or organization, --person a reference. */
static int
cmd_build_report_hours(struct cmd_call *call, char **ops, int nops,
    char *err, size_t errlen)
{
	static const char *const by[] = { "person", "organization", NULL };
	int			 rc;

	(void)ops;
	(void)nops;
	if ((rc = cmd_choice(call, "by", by, err, errlen)) != CMD_OK)
		return rc;
	return cmd_person_option(call, "person", err, errlen);
}

/* rsvp: --session, --person and --answer, all required. */
static int
cmd_build_rsvp(struct cmd_call *call, char **ops, int nops, char *err,
    size_t errlen)
{
	static const char *const answers[] = { "accepted", "declined",
		"tentative", "needs_action", NULL };
	struct args_parsed	 p = { .args = call->args };
	const char *const	*a;
	const char		*answer;
	json_t			*ref;

	(void)ops;
	(void)nops;
	if (args_require(cmd_rsvp_options, &p, err, errlen, "session",
	    "person", "rsvp", NULL) == -1)
		return CMD_USAGE;
	answer = json_string_value(json_object_get(call->args, "rsvp"));
	/* iCalendar spells it NEEDS-ACTION, the protocol needs_action. */
	if (strcmp(answer, "needs-action") == 0)
		answer = "needs_action";
	for (a = answers; *a != NULL && strcmp(*a, answer) != 0; a++)
		;
	if (*a == NULL) {
		snprintf(err, errlen, "--answer must be accepted, declined, "
		    "tentative or needs-action, not \"%.60s\"", answer);
		return CMD_USAGE;
	}
	if (json_object_set_new(call->args, "rsvp", json_string(*a)) == -1)
		return CMD_FAIL;
	ref = args_person(json_string_value(json_object_get(call->args,
	    "person")), err, errlen);
	if (ref == NULL)
		return CMD_USAGE;
	return json_object_set_new(call->args, "person", ref) == 0 ? CMD_OK :
	    CMD_FAIL;
}

/* The logical line at s[*i..len) without its end and trailing blanks. */
static size_t
cmd_ical_line(const char *s, size_t len, size_t *i, const char **line)
{
	const char	*nl;
	size_t		 n;

	*line = s + *i;
	nl = memchr(*line, '\n', len - *i);
	n = nl != NULL ? (size_t)(nl - *line) : len - *i;
	*i += nl != NULL ? n + 1 : n;
	while (n > 0 && ((*line)[n - 1] == '\r' || (*line)[n - 1] == ' ' ||
	    (*line)[n - 1] == '\t'))
		n--;
	return n;
}

/* 1 if the n octets at line are word, ignoring case. */
static int
cmd_ical_is(const char *line, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp(line, word, n) == 0;
}

/* What the len octets at s are: see CMD_ICAL_* in cmd.h. */
int
cmd_ical_kind(const char *s, size_t len)
{
	const char	*line;
	size_t		 i = 0, n;

	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
	    s[i] == '\n'))
		i++;
	n = cmd_ical_line(s, len, &i, &line);
	if (!cmd_ical_is(line, n, "BEGIN:VCALENDAR"))
		return CMD_ICAL_NONE;
	/*
	 * Only a look: the daemon parses the object for real. METHOD is a
	 * property of the VCALENDAR, so the first object decides.
	 */
	while (i < len) {
		n = cmd_ical_line(s, len, &i, &line);
		if (cmd_ical_is(line, n, "METHOD:REPLY"))
			return CMD_ICAL_REPLY;
		if (cmd_ical_is(line, n, "END:VCALENDAR"))
			break;
	}
	return CMD_ICAL_OTHER;
}

/*
 * reply [FILE]: an e-mail (or a bare .ics) from a file or standard input;
 * the iCalendar REPLY in it, as UTF-8, into "ical".
 */
static int
cmd_build_reply(struct cmd_call *call, char **ops, int nops, char *err,
    size_t errlen)
{
	const char	*path = nops > 0 ? ops[0] : "-", *name, *text;
	char		*msg = NULL, *ical = NULL, why[512];
	size_t		 len, icallen = 0, bad;
	json_t		*v;
	int		 rc, kind;

	name = strcmp(path, "-") == 0 ? "stdin" : path;
	if ((rc = cmd_read_file(path, name, CMD_REPLY_MAX, &msg, &len, err,
	    errlen)) != CMD_OK)
		return rc;
	kind = cmd_ical_kind(msg, len);
	if (kind == CMD_ICAL_REPLY) {
		ical = msg;
		icallen = len;
		msg = NULL;
		rc = 1;
	} else if (kind == CMD_ICAL_OTHER)
		rc = 0;
	else if (cmd_mail_reader == NULL) {
		snprintf(err, errlen, "%s: this lectern cannot read e-mail "
		    "messages; give the .ics file instead", name);
		rc = CMD_FAIL;
		goto out;
	} else
		rc = cmd_mail_reader(msg, len, &ical, &icallen, why,
		    sizeof why);
	if (rc == -1) {
		snprintf(err, errlen, "%s: %s", name, why);
		rc = CMD_REFUSED;
		goto out;
	}
	if (rc == 0) {
		snprintf(err, errlen, "no iCalendar REPLY found in %s", name);
		rc = CMD_REFUSED;
		goto out;
	}
	text = ical;
	if (icallen >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		icallen -= 3;
	}
	if (output_utf8_check(text, icallen, &bad) == -1) {
		snprintf(err, errlen, "the iCalendar REPLY in %s %s", name,
		    text[bad] == '\0' ? "contains a NUL byte" :
		    "is not valid UTF-8");
		rc = CMD_REFUSED;
		goto out;
	}
	if ((v = json_stringn(text, icallen)) == NULL ||
	    json_object_set_new(call->args, "ical", v) == -1) {
		snprintf(err, errlen, "out of memory");
		rc = CMD_FAIL;
		goto out;
	}
	rc = CMD_OK;
out:
	free(msg);
	free(ical);
	return rc;
}

const struct cmd_entry cmd_table[] = {
	{ "status", "status", "",
	  "show the daemon's version, uptime and counts",
	  cmd_none_options, 0, 0, NULL, print_status },

	{ "person add", "person.add", "--name NAME --email EMAIL [--org ORG] "
	  "[--position POS] [--lang LANG] [--tag TAG]...",
	  "add a person",
	  cmd_person_add_options, 0, 0, cmd_build_person_add,
	  print_person_added },
	{ "person update", "person.update", "PERSON [--name NAME] "
	  "[--email EMAIL] [--org ORG] [--position POS] [--lang LANG] "
	  "[--tag TAG]... [--clear FIELD]...",
	  "change a person's details (--tag replaces all tags)",
	  cmd_person_update_options, 1, 1, cmd_build_person_update,
	  print_person_updated },
	{ "person rm", "person.remove", "PERSON",
	  "remove a person with their memberships and enrollments",
	  cmd_none_options, 1, 1, cmd_build_person_ref,
	  print_person_removed },
	{ "person show", "person.get", "PERSON",
	  "show a person, their groups and enrollments",
	  cmd_none_options, 1, 1, cmd_build_person_ref, print_person },
	{ "person ls", "person.list", "[--org ORG] [--group GROUP] "
	  "[--tag TAG] [--limit N]",
	  "list people, ordered by name",
	  cmd_person_ls_options, 0, 0, NULL, print_people },
	{ "person import", "person.import", "FILE [--partial]",
	  "add or update people from a CSV file (- reads standard input)",
	  cmd_person_import_options, 1, 1, cmd_build_import,
	  print_import },

	{ "group add", "group.add", "NAME", "add a group",
	  cmd_none_options, 1, 1, cmd_build_group_name, print_group_added },
	{ "group rm", "group.remove", "NAME",
	  "remove a group (its people stay)",
	  cmd_none_options, 1, 1, cmd_build_group_name,
	  print_group_removed },
	{ "group ls", "group.list", "", "list groups and their sizes",
	  cmd_none_options, 0, 0, NULL, print_groups },
	{ "group show", "group.get", "NAME", "show a group and its members",
	  cmd_none_options, 1, 1, cmd_build_group_name, print_group },
	{ "group add-members", "group.members.add", "GROUP PERSON...",
	  "add people to a group",
	  cmd_none_options, 2, -1, cmd_build_group_members, print_members },
	{ "group rm-members", "group.members.remove", "GROUP PERSON...",
	  "remove people from a group",
	  cmd_none_options, 2, -1, cmd_build_group_members, print_members },

	{ "session add", "session.add", "--kind KIND --title TITLE "
	  "--start TIME --duration DURATION [--tz ZONE] [--description TEXT] "
	  "[--location PLACE] [--url URL] [--capacity N] [--remind LIST] "
	  "[--course ID] [--repeat RRULE]",
	  "schedule a session",
	  cmd_session_add_options, 0, 0, cmd_build_session_add,
	  print_session_added },
	{ "session update", "session.update", "ID [options of session add] "
	  "[--clear FIELD]... [--occurrence TIME]",
	  "change a session, or one occurrence of a repeating one; "
	  "enrolled people are sent an update",
	  cmd_session_update_options, 1, 1, cmd_build_session_update,
	  print_session_updated },
	{ "session cancel", "session.cancel", "ID [--reason TEXT] "
	  "[--occurrence TIME]",
	  "cancel a session, or one occurrence of a repeating one; "
	  "enrolled people are sent a cancellation",
	  cmd_session_cancel_options, 1, 1, cmd_build_session_id,
	  print_session_cancelled },
	{ "session show", "session.get", "ID",
	  "show a session with its reminders, changed occurrences and "
	  "enrollments",
	  cmd_none_options, 1, 1, cmd_build_session_id, print_session },
	{ "session ls", "session.list", "[--from TIME] [--to TIME] "
	  "[--expand] [--kind KIND] [--status STATUS] [--course ID] "
	  "[--limit N]",
	  "list sessions (or with --expand their occurrences), ordered by "
	  "start",
	  cmd_session_ls_options, 0, 0, NULL, print_sessions },

	{ "course add", "course.add", "--title TITLE --first-day DATE "
	  "--last-day DATE [--description TEXT] [--provider NAME] "
	  "[--hours N] [--capacity N] [--no-recertification]",
	  "add a course; its meetings are sessions with --course",
	  cmd_course_add_options, 0, 0, cmd_build_course_add,
	  print_course_added },
	{ "course update", "course.update", "ID [options of course add] "
	  "[--recertification] [--clear FIELD]...",
	  "change a course",
	  cmd_course_update_options, 1, 1, cmd_build_course_update,
	  print_course_updated },
	{ "course cancel", "course.cancel", "ID [--reason TEXT]",
	  "cancel a course and its meetings; enrolled people are sent "
	  "cancellations",
	  cmd_course_cancel_options, 1, 1, cmd_build_course_id,
	  print_course_cancelled },
	{ "course show", "course.get", "ID",
	  "show a course, its meetings, the people enrolled and the "
	  "waiting list",
	  cmd_none_options, 1, 1, cmd_build_course_id, print_course },
	{ "course ls", "course.list", "[--from DATE] [--to DATE] "
	  "[--status STATUS] [--limit N]",
	  "list courses, ordered by their first day",
	  cmd_course_ls_options, 0, 0, NULL, print_courses },
	{ "course complete", "course.complete", "COURSE PERSON... "
	  "[--date DATE] [--hours N]",
	  "record that people completed a course",
	  cmd_course_complete_options, 2, -1, cmd_build_course_complete,
	  print_course_complete },

	{ "enroll", "enroll", "[--session ID | --course ID] [--group GROUP]... "
	  "[--status S[,S]] [--due-within DAYS] [--organization ORG] "
	  "[PERSON...]",
	  "enroll people in a session or course, named or chosen by "
	  "recertification status; they are sent an invitation",
	  cmd_enroll_options, 0, -1, cmd_build_enroll, print_enroll },
	{ "unenroll", "unenroll", "[--session ID | --course ID] PERSON...",
	  "remove people from a session or course",
	  cmd_unenroll_options, 0, -1, cmd_build_enroll, print_unenroll },
	{ "rsvp", "rsvp", "--session ID --person PERSON --answer ANSWER",
	  "record a person's answer to an invitation (taken by phone, "
	  "say); a decline frees the seat for the waiting list",
	  cmd_rsvp_options, 0, 0, cmd_build_rsvp, print_rsvp },
	{ "reply", "reply", "[FILE]",
	  "record the answers in a calendar reply e-mail or .ics file "
	  "(standard input when FILE is absent or -)",
	  cmd_none_options, 0, 1, cmd_build_reply, print_reply },

	{ "attendance mark", "attendance.mark", "SESSION "
	  "[--occurrence TIME] --attended|--absent PERSON...",
	  "record who attended a session (or one occurrence) and who was "
	  "absent",
	  cmd_attendance_mark_options, 2, -1, cmd_build_attendance_mark,
	  print_attendance_mark },
	{ "attendance ls", "attendance.list", "SESSION [--occurrence TIME] "
	  "[--csv]",
	  "list the attendance recorded for a session",
	  cmd_attendance_ls_options, 1, 1, cmd_build_attendance_ls,
	  print_attendance },
	{ "attendance import", "attendance.import", "SESSION FILE "
	  "[--occurrence TIME] [--email-column NAME] [--minutes-column NAME] "
	  "[--min-minutes N]",
	  "record attendance from a webinar platform's participant report "
	  "(CSV; - reads standard input)",
	  cmd_attendance_import_options, 2, 2, cmd_build_attendance_import,
	  print_attendance_import },

	{ "training record", "training.record", "PERSON --title TITLE "
	  "--hours N --date DATE [--provider NAME] [--no-count]",
	  "record training a person completed elsewhere",
	  cmd_training_record_options, 1, 1, cmd_build_training_record,
	  print_training_record },
	{ "training import", "training.import", "FILE [--partial]",
	  "record training done elsewhere from a CSV file (- reads "
	  "standard input)",
	  cmd_training_import_options, 1, 1, cmd_build_import,
	  print_training_import },
	{ "completions", "completion.list", "[--from DATE] [--to DATE] "
	  "[--person PERSON] [--organization ORG] [--course ID] "
	  "[--source SOURCE] [--limit N] [--csv]",
	  "the certificate register: completed training, by date",
	  cmd_completions_options, 0, 0, cmd_build_completions,
	  print_completions },
	{ "completion rm", "completion.remove", "ID",
	  "remove a completion entered by mistake (its register number is "
	  "not reused)",
	  cmd_none_options, 1, 1, cmd_build_completion_id,
	  print_completion_removed },

	{ "report due", "report.recertification", "[--as-of DATE] "
	  "[--organization ORG] [--status S[,S]] [--limit N] [--csv]",
	  "who is due or overdue for recertification",
	  cmd_report_due_options, 0, 0, cmd_build_report_due,
	  print_report_due },
	{ "report coverage", "report.coverage", "[--from DATE] [--to DATE] "
	  "[--by organization|position] [--organization ORG] [--csv]",
	  "the share of people trained in a period, per organization or "
	  "position",
	  cmd_report_coverage_options, 0, 0, cmd_build_report_coverage,
	  print_report_coverage },
	{ "report hours", "report.hours", "[--from DATE] [--to DATE] "
	  "[--by person|organization] [--person PERSON] "
	  "[--organization ORG] [--csv]",
	  "hours of training in a period, per person or organization",
	  cmd_report_hours_options, 0, 0, cmd_build_report_hours,
	  print_report_hours },

	{ "outbox ls", "outbox.list", "[--state STATE] [--session ID] "
	  "[--limit N]",
	  "list messages in the outbox, newest first",
	  cmd_outbox_ls_options, 0, 0, NULL, print_outbox },
	{ "outbox retry", "outbox.retry", "ID | --failed",
	  "send a message again now, or every failed one",
	  cmd_outbox_retry_options, 0, 1, cmd_build_outbox_retry,
	  print_outbox_retry },

	{ NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL }
};

/* 1 if name ("person add") is word1 followed by word2 (may be NULL). */
static int
cmd_match(const char *name, const char *word1, const char *word2)
{
	size_t	n = strlen(word1);

	if (strncmp(name, word1, n) != 0)
		return 0;
	if (name[n] == '\0')
		return 1;
	return name[n] == ' ' && word2 != NULL &&
	    strcmp(name + n + 1, word2) == 0 ? 2 : 0;
}

/* The entry that the first one or two words name. */
const struct cmd_entry *
cmd_find(int argc, char **argv, int *used)
{
	const struct cmd_entry	*e;
	int			 m;

	if (argc < 1)
		return NULL;
	for (e = cmd_table; e->name != NULL; e++) {
		m = cmd_match(e->name, argv[0], argc > 1 ? argv[1] : NULL);
		if (m != 0) {
			*used = m;
			return e;
		}
	}
	return NULL;
}

/* 1 if the first word of name ("person add") is word. */
static int
cmd_noun_of(const char *name, const char *word)
{
	size_t	n = strlen(word);

	return strncmp(name, word, n) == 0 &&
	    (name[n] == ' ' || name[n] == '\0');
}

/* 1 if word starts some command's name. */
int
cmd_is_noun(const char *word)
{
	const struct cmd_entry	*e;

	for (e = cmd_table; e->name != NULL; e++) {
		if (cmd_noun_of(e->name, word))
			return 1;
	}
	return 0;
}

/* 1 if the command has --csv. */
int
cmd_has_csv(const struct cmd_entry *e)
{
	const struct args_option	*o;

	for (o = e->options; o->name != NULL; o++) {
		if (o->type == ARGS_CSV)
			return 1;
	}
	return 0;
}

/* Turn a command's words into a call (arguments owned by call). */
int
cmd_build(const struct cmd_entry *e, int argc, char **argv,
    struct cmd_call *call, char *err, size_t errlen)
{
	struct args_parsed	p;
	int			rc;

	memset(call, 0, sizeof *call);
	call->entry = e;
	rc = args_parse(e->options, argc, argv, &p, err, errlen);
	call->args = p.args;
	call->json = p.json;
	call->csv = p.csv;
	p.args = NULL;
	if (rc == ARGS_HELP) {
		rc = CMD_HELP;
		goto out;
	}
	if (rc == -1) {
		rc = CMD_USAGE;
		goto out;
	}
	if (p.json && p.csv) {
		snprintf(err, errlen, "--json and --csv contradict each other");
		rc = CMD_USAGE;
		goto out;
	}
	if (p.noperands < e->min_ops) {
		snprintf(err, errlen, "missing operand: %s", e->usage);
		rc = CMD_USAGE;
		goto out;
	}
	if (e->max_ops != -1 && p.noperands > e->max_ops) {
		snprintf(err, errlen, "unexpected operand \"%.60s\"",
		    p.operands[e->max_ops]);
		rc = CMD_USAGE;
		goto out;
	}
	rc = CMD_OK;
	if (e->build != NULL)
		rc = e->build(call, p.operands, p.noperands, err, errlen);
	if (rc == CMD_FAIL && err[0] == '\0')
		snprintf(err, errlen, "out of memory");
out:
	args_parsed_cleanup(&p);
	return rc;
}

/* Release what cmd_build kept. */
void
cmd_call_cleanup(struct cmd_call *call)
{
	json_decref(call->args);
	free(call->lookup);
	memset(call, 0, sizeof *call);
}

/* Write the command's usage line. */
void
cmd_usage(const struct cmd_entry *e, FILE *out)
{
	fprintf(out, "usage: lectern %s%s%s\n", e->name,
	    e->usage[0] != '\0' ? " " : "", e->usage);
}

/* Write the command's usage, description and options. */
void
cmd_help(const struct cmd_entry *e, FILE *out)
{
	const struct args_option	*o;
	char				 left[64];

	cmd_usage(e, out);
	fprintf(out, "%c%s.\n\n", toupper((unsigned char)e->about[0]),
	    e->about + 1);
	for (o = e->options; o->name != NULL; o++) {
		if (o->help == NULL)
			continue;
		snprintf(left, sizeof left, "--%s%s%s", o->name,
		    o->metavar != NULL ? " " : "",
		    o->metavar != NULL ? o->metavar : "");
		fprintf(out, "  %-22s %s\n", left, o->help);
	}
	fprintf(out, "  %-22s %s\n", "--json",
	    "print the daemon's result as JSON");
	fprintf(out, "  %-22s %s\n", "-h, --help", "show this help");
	if (strstr(e->usage, "PERSON") != NULL)
		fprintf(out, "\nPERSON is a person's id (digits) or email "
		    "address.\n");
}

/* Write the commands of one noun (NULL: all) with their descriptions. */
int
cmd_list(const char *noun, FILE *out)
{
	const struct cmd_entry	*e;
	char			 left[64];
	int			 n = 0;

	for (e = cmd_table; e->name != NULL; e++) {
		if (noun != NULL && !cmd_noun_of(e->name, noun))
			continue;
		snprintf(left, sizeof left, "%s", e->name);
		fprintf(out, "  %-20s %s\n", left, e->about);
		n++;
	}
	return n;
}
