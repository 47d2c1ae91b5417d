/*
 * args.h -- command-line words into protocol values; pure.
 *
 * A command describes its options in a table of struct args_option; the
 * parser runs getopt_long over them and fills a JSON object of arguments,
 * converting each value by its type (integers, durations, reminders,
 * repeated strings). What is left are the operands, which the command's
 * own build function turns into arguments.
 */
#ifndef ARGS_H
#define ARGS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum args_type {
	ARGS_FLAG,		/* no value: true */
	ARGS_FALSE,		/* no value: false (--no-recertification) */
	ARGS_STRING,		/* one UTF-8 string */
	ARGS_STRINGS,		/* repeatable: an array of strings */
	ARGS_ID,		/* an integer >= 1 (session, course) */
	ARGS_COUNT,		/* an integer >= 0 (capacity) */
	ARGS_LIMIT,		/* an integer from 1 to LECTERN_LIST_MAX */
	ARGS_DURATION,		/* "90m", "1h30m", "2d", "90": minutes */
	ARGS_REMINDERS,		/* "7d,1d,1h" or "none": array of minutes */
	ARGS_CLEAR,		/* repeatable: an option to set to null */
	ARGS_DATE,		/* a calendar day "2026-11-20" */
	ARGS_HOURS,		/* a number >= 0: "36", "1.5" (or "1,5") */
	ARGS_CSV,		/* no value: write the result as CSV (key NULL) */
};

struct args_option {
	const char	*name;		/* long option: "title" for --title */
	enum args_type	 type;
	const char	*key;		/* the argument it fills: "title" */
	const char	*metavar;	/* "TITLE" in help; NULL for flags */
	const char	*help;		/* one line; NULL hides an alias */
	int		 clearable;	/* --clear may name it */
};

struct args_parsed {
	json_t		*args;		/* the arguments from options (owned) */
	char		**operands;	/* borrowed from argv */
	int		 noperands;
	int		 help;		/* -h or --help was given */
	int		 json;		/* --json was given */
	int		 csv;		/* --csv (an ARGS_CSV option) was given */
};

/* Outcome of args_parse beyond 0 / -1. */
#define ARGS_HELP	1

/*
 * Parse argv[1..argc) (argv[0] is the command's name) against options (a
 * table ending with a NULL name), plus --json and -h/--help that every
 * command accepts. Options and operands may be mixed; "--" ends options.
 * Returns 0, ARGS_HELP when help was asked for (p is then filled as far as
 * it got), or -1 with a sentence in err (a usage error). p is always
 * initialised; release it with args_parsed_cleanup.
 */
int args_parse(const struct args_option *options, int argc, char **argv,
    struct args_parsed *p, char *err, size_t errlen);
/* Release what args_parse kept. */
void args_parsed_cleanup(struct args_parsed *p);

/*
 * Check that every key listed (NULL-terminated) is present in p->args.
 * On error returns -1 with "missing --title" (the option's name) in err.
 */
int args_require(const struct args_option *options,
    const struct args_parsed *p, char *err, size_t errlen, ...)
    __attribute__((sentinel));

/*
 * A person reference: all digits is an id (a JSON integer), anything else
 * an email (a JSON string). Returns a new reference, or NULL with err set.
 */
json_t *args_person(const char *s, char *err, size_t errlen);
/* Set "id" or "email" in obj from a person reference. 0 or -1 with err. */
int args_person_set(json_t *obj, const char *s, char *err, size_t errlen);

/*
 * A decimal integer from min to max, digits only (no sign or blanks).
 * what names the value in the error sentence ("session id").
 */
int args_integer(const char *s, long long min, long long max,
    const char *what, long long *out, char *err, size_t errlen);

/*
 * A calendar day "YYYY-MM-DD" that exists (2027-02-29 does not); what
 * names it in the error sentence ("--date"). 0 or -1 with err set.
 */
int args_date(const char *s, const char *what, char *err, size_t errlen);

/*
 * A number of hours >= 0: digits with at most one decimal separator, '.'
 * or ',' ("36", "1.5", "1,5"). Returns a new JSON integer for a whole
 * number, else a JSON real; NULL with err set (naming what).
 */
json_t *args_hours(const char *s, const char *what, char *err,
    size_t errlen);

/* A duration ("90m", "1h30m", "2d", bare minutes) in whole minutes. */
int args_minutes(const char *s, const char *what, int64_t *minutes,
    char *err, size_t errlen);

/*
 * A list of reminder offsets ("7d,1d,1h", "none") as a new JSON array of
 * minutes, or NULL with err set.
 */
json_t *args_reminders(const char *s, char *err, size_t errlen);

/* A new JSON string of s, or NULL with "--what is not valid UTF-8" in err. */
json_t *args_string(const char *s, const char *what, char *err,
    size_t errlen);

#endif
