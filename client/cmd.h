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
};

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
