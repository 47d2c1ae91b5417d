/*
 * lectern.c -- the CLI's main: global options, finding the command,
 * talking to lecternd, exit statuses.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lectern.h"
#include "cmd.h"
#include "conn.h"
#include "mime.h"
#include "output.h"
#include "print.h"

#ifndef LECTERN_CLIENT_NO_MAIN
int main(int, char **);
#endif

/* Room for an error sentence (messages quote file names and paths). */
#define LECTERN_ERR	1024

static const char lectern_synopsis[] =
    "usage: lectern [-s SOCKET] [--json | --csv] [-h|--help] "
    "[-V|--version] COMMAND [ARGS] [OPTIONS]\n";

/* The global help: synopsis, commands, options. */
static void
lectern_usage(FILE *out, int full)
{
	fputs(lectern_synopsis, out);
	if (!full) {
		fputs("Try 'lectern --help'.\n", out);
		return;
	}
	fputs("\nCommands:\n", out);
	cmd_list(NULL, out);
	fprintf(out, "\nOptions:\n"
	    "  -s, --socket SOCKET  the daemon's socket (default: $%s, "
	    "else %s)\n"
	    "  --json               print the daemon's result as JSON\n"
	    "  --csv                write a list or report as CSV (the "
	    "commands with --csv)\n"
	    "  -h, --help           show this help\n"
	    "  -V, --version        show the version\n"
	    "\n'lectern help COMMAND' or 'lectern COMMAND --help' shows a "
	    "command's options.\n"
	    "PERSON is a person's id (digits) or email address.\n"
	    "Exit status: 0 done, 1 lecternd refused, 2 usage error, "
	    "69 lecternd unreachable.\n", LECTERN_SOCKET_ENV,
	    LECTERN_SOCKET_DEFAULT);
}

/* "lectern help [NOUN [VERB]]". */
static int
lectern_help(int argc, char **argv, FILE *out, FILE *errout)
{
	const struct cmd_entry	*e;
	int			 used;

	if (argc == 0) {
		lectern_usage(out, 1);
		return LECTERN_EXIT_OK;
	}
	e = cmd_find(argc, argv, &used);
	if (e != NULL && used == argc) {
		cmd_help(e, out);
		return LECTERN_EXIT_OK;
	}
	if (argc == 1 && cmd_is_noun(argv[0])) {
		fprintf(out, "Commands for %s:\n", argv[0]);
		cmd_list(argv[0], out);
		return LECTERN_EXIT_OK;
	}
	output_line(errout, "lectern: help: no command \"%s%s%s\"", argv[0],
	    argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
	lectern_usage(errout, 0);
	return LECTERN_EXIT_USAGE;
}

/* Words that name no command: a usage error, or help for a noun. */
static int
lectern_unknown(int argc, char **argv, FILE *out, FILE *errout)
{
	if (cmd_is_noun(argv[0])) {
		if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			fprintf(out, "Commands for %s:\n", argv[0]);
			cmd_list(argv[0], out);
			return LECTERN_EXIT_OK;
		}
		if (argc > 1)
			output_line(errout, "lectern: %s: unknown command "
			    "\"%s\"", argv[0], argv[1]);
		else
			output_line(errout, "lectern: %s: missing command",
			    argv[0]);
		fprintf(errout, "Commands for %s:\n", argv[0]);
		cmd_list(argv[0], errout);
		return LECTERN_EXIT_USAGE;
	}
	output_line(errout, "lectern: unknown command \"%s\"", argv[0]);
	lectern_usage(errout, 0);
	return LECTERN_EXIT_USAGE;
}

/*
 * person update by email with a new email: find the person's id first,
 * since the protocol reads "email" as the new address once "id" is given.
 */
static int
lectern_lookup(struct conn *c, struct cmd_call *call, FILE *errout)
{
	json_t	*args, *reply, *id;
	char	 err[LECTERN_ERR];
	int	 rc = LECTERN_EXIT_UNAVAILABLE;

	if ((args = json_pack("{s:s}", "email", call->lookup)) == NULL) {
		fputs("lectern: out of memory\n", errout);
		return LECTERN_EXIT_UNAVAILABLE;
	}
	reply = conn_request(c, 1, "person.get", args, err, sizeof err);
	json_decref(args);
	if (reply == NULL) {
		output_line(errout, "lectern: %s", err);
		return LECTERN_EXIT_UNAVAILABLE;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		print_refusal(call, json_object_get(reply, "error"), errout);
		rc = LECTERN_EXIT_REFUSED;
		goto out;
	}
	id = json_object_get(json_object_get(reply, "result"), "id");
	if (!json_is_integer(id) ||
	    json_object_set(call->args, "id", id) == -1) {
		output_line(errout, "lectern: %s: lecternd sent a person "
		    "without an id", call->entry->name);
		goto out;
	}
	rc = LECTERN_EXIT_OK;
out:
	json_decref(reply);
	return rc;
}

/* Send the call, print the outcome; returns the exit status. */
static int
lectern_execute(const char *path, struct cmd_call *call, int json,
    FILE *out, FILE *errout)
{
	struct conn	*c;
	json_t		*reply = NULL, *result;
	char		 err[LECTERN_ERR], *text;
	int		 rc = LECTERN_EXIT_UNAVAILABLE;

	err[0] = '\0';
	if ((c = conn_open(path, err, sizeof err)) == NULL) {
		output_line(errout, "lectern: %s", err);
		return LECTERN_EXIT_UNAVAILABLE;
	}
	if (conn_greet(c, err, sizeof err) == -1) {
		output_line(errout, "lectern: %s", err);
		goto out;
	}
	if (call->lookup != NULL &&
	    (rc = lectern_lookup(c, call, errout)) != LECTERN_EXIT_OK)
		goto out;
	rc = LECTERN_EXIT_UNAVAILABLE;
	reply = conn_request(c, call->lookup != NULL ? 2 : 1,
	    call->entry->cmd, call->args, err, sizeof err);
	if (reply == NULL) {
		output_line(errout, "lectern: %s: %s", call->entry->name, err);
		goto out;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		print_refusal(call, json_object_get(reply, "error"), errout);
		rc = LECTERN_EXIT_REFUSED;
		goto out;
	}
	result = json_object_get(reply, "result");
	if (json) {
		text = json_dumps(result, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (text == NULL) {
			fputs("lectern: out of memory\n", errout);
			goto out;
		}
		fputs(text, out);
		fputc('\n', out);
		free(text);
	} else if (call->entry->print(call, result, out, err,
	    sizeof err) == -1) {
		output_line(errout, "lectern: %s: %s", call->entry->name, err);
		goto out;
	}
	rc = LECTERN_EXIT_OK;
out:
	json_decref(reply);
	conn_free(c);
	return rc;
}

/* The whole program, writing to out and errout; returns the exit status. */
static int
lectern_run(int argc, char **argv, FILE *out, FILE *errout)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd_entry	*e;
	struct cmd_call		 call;
	const char		*path = NULL;
	char			 err[LECTERN_ERR];
	int			 c, json = 0, csv = 0, used, rc;

	/* '+': stop at the command; its options are its own. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'c':
			csv = 1;
			break;
		case 'h':
			lectern_usage(out, 1);
			return LECTERN_EXIT_OK;
		case 'V':
			fprintf(out, "lectern %s (protocol %d)\n",
			    LECTERN_VERSION, LECTERN_PROTOCOL);
			return LECTERN_EXIT_OK;
		case ':':
			fputs("lectern: option -s needs a value (-s SOCKET)\n",
			    errout);
			lectern_usage(errout, 0);
			return LECTERN_EXIT_USAGE;
		default:
			if (optopt > 0x20 && optopt < 0x7f)
				output_line(errout, "lectern: unknown option "
				    "-%c", optopt);
			else
				output_line(errout, "lectern: unknown option "
				    "%s", argv[optind - 1]);
			lectern_usage(errout, 0);
			return LECTERN_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		fputs("lectern: missing command\n", errout);
		lectern_usage(errout, 1);
		return LECTERN_EXIT_USAGE;
	}
	if (strcmp(argv[0], "help") == 0)
		return lectern_help(argc - 1, argv + 1, out, errout);
	if ((e = cmd_find(argc, argv, &used)) == NULL)
		return lectern_unknown(argc, argv, out, errout);

	/* The command's last word stands in for argv[0]. */
	err[0] = '\0';
	rc = cmd_build(e, argc - used + 1, argv + used - 1, &call, err,
	    sizeof err);
	if (rc == CMD_OK && csv && !cmd_has_csv(e)) {
		snprintf(err, sizeof err, "--csv: this command has no list "
		    "to write as CSV");
		rc = CMD_USAGE;
	} else if (rc == CMD_OK && csv)
		call.csv = 1;
	if (rc == CMD_OK && call.csv && (json || call.json)) {
		snprintf(err, sizeof err, "--json and --csv contradict each "
		    "other");
		rc = CMD_USAGE;
	}
	if (rc == CMD_OK && (call.csv || json || call.json) &&
	    cmd_exporting(&call) == -1) {
		snprintf(err, sizeof err, "out of memory");
		rc = CMD_FAIL;
	}
	switch (rc) {
	case CMD_OK:
		break;
	case CMD_HELP:
		cmd_help(e, out);
		rc = LECTERN_EXIT_OK;
		goto out;
	case CMD_USAGE:
		output_line(errout, "lectern: %s: %s", e->name, err);
		cmd_usage(e, errout);
		fprintf(errout, "Try 'lectern %s --help'.\n", e->name);
		rc = LECTERN_EXIT_USAGE;
		goto out;
	case CMD_REFUSED:
		output_line(errout, "lectern: %s: %s", e->name, err);
		rc = LECTERN_EXIT_REFUSED;
		goto out;
	default:
		output_line(errout, "lectern: %s: %s", e->name, err);
		rc = LECTERN_EXIT_USAGE;
		goto out;
	}
	if (path == NULL || path[0] == '\0')
		path = getenv(LECTERN_SOCKET_ENV);
	if (path == NULL || path[0] == '\0')
		path = LECTERN_SOCKET_DEFAULT;
	rc = lectern_execute(path, &call, json || call.json, out, errout);
out:
	cmd_call_cleanup(&call);
	return rc;
}

#ifndef LECTERN_CLIENT_NO_MAIN
/* Run lectern; the exit status is the program's. */
int
main(int argc, char **argv)
{
	int	rc;

	cmd_mail_reader = mime_find_reply;
	rc = lectern_run(argc, argv, stdout, stderr);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		perror("lectern: cannot write the output");
		if (rc == LECTERN_EXIT_OK)
			rc = LECTERN_EXIT_REFUSED;
	}
	return rc;
}
#endif
