/*
 * cmd.h -- the client's command table: for each command its words, wire
 * name, usage, options, how to build the request and how to print the
 * result (tmux's cmd_entry).
 */
#ifndef CMD_H
#define CMD_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "args.h"

struct cmd_entry;

/* One command as the user asked for it. */
struct cmd_call {
	const struct cmd_entry	*entry;
	json_t			*args;		/* request arguments (owned) */
	char			*lookup;	/* email to find the id of */
	const char		*file;		/* person import: its name */
	int			 json;		/* the command had --json */
	int			 csv;		/* --csv: its table as CSV */
};

/* What an export asks the daemon to list at most (report due --csv). */
#define CMD_EXPORT_ALL	10000000
int cmd_exporting(struct cmd_call *);

typedef int (*cmd_build_fn)(struct cmd_call *, char **ops, int nops,
    char *err, size_t errlen);
typedef int (*cmd_print_fn)(const struct cmd_call *, const json_t *result,
    FILE *out, char *err, size_t errlen);

struct cmd_entry {
	const char			*name;		/* "session add" */
	const char			*cmd;		/* "session.add" */
	const char			*usage;		/* operands, options */
	const char			*about;		/* one line */
	const struct args_option	*options;
	int				 min_ops;
	int				 max_ops;	/* -1: no limit */
	cmd_build_fn			 build;		/* NULL: options only */
	cmd_print_fn			 print;
};

/* Outcomes of cmd_build. */
#define CMD_OK		0
#define CMD_HELP	1	/* --help: print cmd_help, exit 0 */
#define CMD_USAGE	(-1)	/* bad words: print err and the usage, exit 2 */
#define CMD_FAIL	(-2)	/* cannot build (unreadable file): exit 2 */
#define CMD_REFUSED	(-3)	/* the input is unusable (no REPLY): exit 1 */

/*
 * Finds the iCalendar REPLY in the e-mail msg (len octets): 1 with its
 * UTF-8 text in *ical (*icallen octets; the caller frees it), 0 when the
 * message has none, -1 with err set when it cannot be read.
 */
typedef int (*cmd_mail_fn)(const char *msg, size_t len, char **ical,
    size_t *icallen, char *err, size_t errlen);

/*
 * The reader that reply uses for e-mail: main() sets mime_find_reply
 * (GMime). The table stays free of GLib, so the client's unit tests,
 * built without it, leave this NULL and reply takes bare .ics text only.
 */
extern cmd_mail_fn cmd_mail_reader;

/* What cmd_ical_kind finds. */
#define CMD_ICAL_NONE	0	/* not an iCalendar object */
#define CMD_ICAL_OTHER	1	/* a VCALENDAR, but not METHOD:REPLY */
#define CMD_ICAL_REPLY	2	/* a VCALENDAR with METHOD:REPLY */

/*
 * A look at the len octets at s (an optional UTF-8 BOM and blank lines
 * first): CMD_ICAL_REPLY, CMD_ICAL_OTHER or CMD_ICAL_NONE. Pure.
 */
int cmd_ical_kind(const char *s, size_t len);

/* 1 if the command can write its result as CSV (it has --csv). */
int cmd_has_csv(const struct cmd_entry *e);

/* The table, ending with a NULL name. */
extern const struct cmd_entry cmd_table[];

/*
 * The entry that argv[0] (and argv[1], for two-word commands) names, with
 * the number of words used in *used; NULL if none.
 */
const struct cmd_entry *cmd_find(int argc, char **argv, int *used);
/* 1 if word is the first word of some command ("person"). */
int cmd_is_noun(const char *word);

/*
 * Turn the words after the command's name (argv[0] is the name) into a
 * call. Returns CMD_OK, CMD_HELP, CMD_USAGE or CMD_FAIL with err set.
 * call is always initialised; release it with cmd_call_cleanup.
 */
int cmd_build(const struct cmd_entry *e, int argc, char **argv,
    struct cmd_call *call, char *err, size_t errlen);
/* Release what cmd_build kept. */
void cmd_call_cleanup(struct cmd_call *call);

/* "usage: lectern session add ..." */
void cmd_usage(const struct cmd_entry *e, FILE *out);
/* The usage, the description and one line per option. */
void cmd_help(const struct cmd_entry *e, FILE *out);
/* The commands whose first word is noun (NULL: all); how many were listed. */
int cmd_list(const char *noun, FILE *out);

#endif
