/*
 * args.c -- command-line words into protocol values; pure.
 *
 * getopt_long does the scanning; this module only describes the options
 * to it and converts what it returns. The optstring starts with '-' so
 * that operands come back in order as option 1 (whatever POSIXLY_CORRECT
 * says), and with ':' so that a missing value is told apart from an
 * unknown option; opterr is off so that every message is ours.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lectern.h"
#include "duration.h"
#include "args.h"

/* getopt_long values: operands are 1, -h is 'h', options from 256 up. */
#define ARGS_VAL_JSON	128
#define ARGS_VAL_BASE	256

/* Print "--name" for the option whose getopt value is val. */
static const char *
args_name(const struct args_option *options, size_t n, int val)
{
	if (val == ARGS_VAL_JSON)
		return "json";
	if (val == 'h')
		return "help";
	if (val >= ARGS_VAL_BASE && (size_t)(val - ARGS_VAL_BASE) < n)
		return options[val - ARGS_VAL_BASE].name;
	return "?";
}

/* 1 if word ("--c") is a prefix of more than one option's name. */
static int
args_ambiguous(const struct args_option *options, const char *word,
    size_t len)
{
	const struct args_option	*o;
	int				 n = 0;

	if (len < 3 || strncmp(word, "--", 2) != 0)
		return 0;
	for (o = options; o->name != NULL; o++) {
		if (strncmp(o->name, word + 2, len - 2) == 0)
			n++;
	}
	return n > 1;
}

/* A JSON string of s, or NULL with err set; see args.h. */
json_t *
args_string(const char *s, const char *what, char *err, size_t errlen)
{
	json_t	*v;

	if ((v = json_string(s)) == NULL)
		snprintf(err, errlen, "%s is not valid UTF-8 text", what);
	return v;
}

/* A decimal integer within bounds; see args.h. */
int
args_integer(const char *s, long long min, long long max, const char *what,
    long long *out, char *err, size_t errlen)
{
	long long	 v;
	char		*end;

	/* strtoll would accept blanks and a sign before the digits. */
	if (s[0] < '0' || s[0] > '9')
		goto fail;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		goto fail;
	if (errno == ERANGE || v > max) {
		snprintf(err, errlen, "%s %s is too large (at most %lld)",
		    what, s, max);
		return -1;
	}
	if (v < min) {
		snprintf(err, errlen, "%s must be at least %lld", what, min);
		return -1;
	}
	*out = v;
	return 0;
fail:
	snprintf(err, errlen, "%s must be a whole number%s, not \"%.40s\"",
	    what, min > 0 ? " greater than 0" : ", 0 or more", s);
	return -1;
}

/* A person reference: an id (integer) or an email (string). */
json_t *
args_person(const char *s, char *err, size_t errlen)
{
	long long	 id;
	size_t		 i;

	if (s[0] == '\0') {
		snprintf(err, errlen, "a person must be given by id or email, "
		    "not an empty word");
		return NULL;
	}
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (s[i] != '\0')
		return args_string(s, "the person", err, errlen);
	if (args_integer(s, 1, LLONG_MAX, "person id", &id, err, errlen) == -1)
		return NULL;
	return json_integer((json_int_t)id);
}

/* Set "id" or "email" in obj from a person reference. */
int
args_person_set(json_t *obj, const char *s, char *err, size_t errlen)
{
	json_t	*ref;

	if ((ref = args_person(s, err, errlen)) == NULL)
		return -1;
	return json_object_set_new(obj, json_is_integer(ref) ? "id" : "email",
	    ref);
}

/* A calendar day "YYYY-MM-DD" that exists. */
int
args_date(const char *s, const char *what, char *err, size_t errlen)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int	i, y, m, d;

	for (i = 0; i < 10; i++) {
		if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
			goto fail;
	}
	if (s[10] != '\0')
		goto fail;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > days[m - 1] ||
	    (m == 2 && d == 29 && (y % 4 != 0 ||
	    (y % 100 == 0 && y % 400 != 0)))) {
		snprintf(err, errlen, "%s: %.40s is not a day of the calendar",
		    what, s);
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s must be a date such as 2026-11-20 "
	    "(YYYY-MM-DD), not \"%.40s\"", what, s);
	return -1;
}

/* A number of hours >= 0 as a JSON integer or real. */
json_t *
args_hours(const char *s, const char *what, char *err, size_t errlen)
{
	char	 num[32], *end;
	double	 v;
	size_t	 i, digits = 0, sep = 0;

	/* Digits, then at most one '.' or ',' followed by digits. */
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			digits++;
			continue;
		}
		if ((s[i] != '.' && s[i] != ',') || sep != 0 || i == 0 ||
		    s[i + 1] == '\0')
			goto fail;
		sep = i;
	}
	if (digits == 0)
		goto fail;
	if (i >= sizeof num || (sep != 0 ? sep : i) > 6) {
		snprintf(err, errlen, "%s %.40s is too large", what, s);
		return NULL;
	}
	memcpy(num, s, i + 1);
	if (sep == 0)
		return json_integer((json_int_t)strtoll(num, NULL, 10));
	num[sep] = '.';
	errno = 0;
	v = strtod(num, &end);
	if (*end != '\0' || errno == ERANGE)
		goto fail;
	if (v == (double)(long long)v)
		return json_integer((json_int_t)v);
	return json_real(v);
fail:
	snprintf(err, errlen, "%s must be a number of hours such as 36 or "
	    "1.5, not \"%.40s\"", what, s);
	return NULL;
}

/* A duration in whole minutes. */
int
args_minutes(const char *s, const char *what, int64_t *minutes, char *err,
    size_t errlen)
{
	char	e[256];
	int64_t	sec;

	if (duration_parse(s, 60, 0, &sec, e, sizeof e) == -1) {
		snprintf(err, errlen, "%s: %s", what, e);
		return -1;
	}
	if (sec % 60 != 0) {
		snprintf(err, errlen, "%s: \"%.40s\" is not a whole number of "
		    "minutes", what, s);
		return -1;
	}
	*minutes = sec / 60;
	return 0;
}

/* Reminder offsets as a new JSON array of minutes. */
json_t *
args_reminders(const char *s, char *err, size_t errlen)
{
	int64_t	 v[LECTERN_REMINDERS_MAX];
	char	 e[256];
	json_t	*a;
	int	 n, i;

	n = duration_parse_list(s, 60, v, LECTERN_REMINDERS_MAX, e, sizeof e);
	if (n == -1) {
		snprintf(err, errlen, "--remind: %s", e);
		return NULL;
	}
	if ((a = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		if (v[i] % 60 != 0) {
			snprintf(err, errlen, "--remind: reminder %d is not a "
			    "whole number of minutes", i + 1);
			json_decref(a);
			return NULL;
		}
		if (json_array_append_new(a, json_integer(v[i] / 60)) == -1)
			goto nomem;
	}
	return a;
nomem:
	json_decref(a);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* Find the clearable option that --clear names, by option name or key. */
static const struct args_option *
args_clearable(const struct args_option *options, const char *field)
{
	const struct args_option	*o;

	for (o = options; o->name != NULL; o++) {
		if (!o->clearable)
			continue;
		if (strcmp(o->name, field) == 0 || strcmp(o->key, field) == 0)
			return o;
	}
	return NULL;
}

/* Convert one option's value by its type and store it in p->args. */
static int
args_set(const struct args_option *options, const struct args_option *o,
    const char *value, struct args_parsed *p, char *err, size_t errlen)
{
	const struct args_option	*c;
	json_t				*v = NULL, *old, *a;
	long long			 n;
	int64_t				 minutes;
	char				 what[64], list[256];
	size_t				 used;

	snprintf(what, sizeof what, "--%s", o->name);
	old = json_object_get(p->args, o->key != NULL ? o->key : "");
	switch (o->type) {
	case ARGS_FLAG:
	case ARGS_FALSE:
		/* --x and --no-x fill one key: the second must agree. */
		if (old != NULL && json_is_boolean(old) &&
		    json_is_true(old) != (o->type == ARGS_FLAG)) {
			for (c = options; c->name != NULL; c++) {
				if (c != o && c->key != NULL &&
				    strcmp(c->key, o->key) == 0)
					break;
			}
			snprintf(err, errlen, "%s and --%s contradict each "
			    "other", what, c->name != NULL ? c->name : "?");
			return -1;
		}
		v = o->type == ARGS_FLAG ? json_true() : json_false();
		break;
	case ARGS_STRING:
		v = args_string(value, what, err, errlen);
		break;
	case ARGS_STRINGS:
		if (json_is_null(old))
			goto contradiction;
		if ((v = args_string(value, what, err, errlen)) == NULL)
			return -1;
		if (old == NULL) {
			if ((a = json_array()) == NULL ||
			    json_object_set_new(p->args, o->key, a) == -1)
				goto nomem;
			old = a;
		}
		if (json_array_append_new(old, v) == -1)
			goto nomem;
		return 0;
	case ARGS_ID:
	case ARGS_COUNT:
	case ARGS_LIMIT:
		if (args_integer(value, o->type == ARGS_COUNT ? 0 : 1,
		    o->type == ARGS_LIMIT ? LECTERN_LIST_MAX : LLONG_MAX, what,
		    &n, err, errlen) == -1)
			return -1;
		v = json_integer((json_int_t)n);
		break;
	case ARGS_DURATION:
		if (args_minutes(value, what, &minutes, err, errlen) == -1)
			return -1;
		if (minutes > LECTERN_DURATION_MAX) {
			snprintf(err, errlen, "%s: %.40s is longer than the "
			    "longest session, %d days", what, value,
			    LECTERN_DURATION_MAX / 1440);
			return -1;
		}
		v = json_integer(minutes);
		break;
	case ARGS_REMINDERS:
		v = args_reminders(value, err, errlen);
		break;
	case ARGS_DATE:
		if (args_date(value, what, err, errlen) == -1)
			return -1;
		v = args_string(value, what, err, errlen);
		break;
	case ARGS_HOURS:
		v = args_hours(value, what, err, errlen);
		break;
	case ARGS_CSV:
		p->csv = 1;
		return 0;
	case ARGS_CLEAR:
		if ((c = args_clearable(options, value)) == NULL) {
			used = 0;
			list[0] = '\0';
			for (c = options; c->name != NULL; c++) {
				if (c->clearable && c->help != NULL &&
				    used < sizeof list)
					used += (size_t)snprintf(list + used,
					    sizeof list - used, "%s%s",
					    used == 0 ? "" : ", ", c->name);
			}
			snprintf(err, errlen, "--clear: \"%.40s\" cannot be "
			    "cleared (choose from: %s)", value, list);
			return -1;
		}
		old = json_object_get(p->args, c->key);
		if (old != NULL && !json_is_null(old)) {
			snprintf(err, errlen, "--%s and --clear %s contradict "
			    "each other", c->name, value);
			return -1;
		}
		if (json_object_set_new(p->args, c->key, json_null()) == -1)
			goto nomem;
		return 0;
	}
	if (v == NULL)
		return -1;
	if (old != NULL && o->type != ARGS_FLAG && o->type != ARGS_FALSE) {
		json_decref(v);
		v = NULL;
		if (json_is_null(old))
			goto contradiction;
		snprintf(err, errlen, "%s is given more than once", what);
		return -1;
	}
	if (json_object_set_new(p->args, o->key, v) == -1)
		goto nomem;
	return 0;
contradiction:
	json_decref(v);
	snprintf(err, errlen, "%s and --clear %s contradict each other", what,
	    o->name);
	return -1;
nomem:
	json_decref(v);
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Parse a command's words against its option table; see args.h. */
int
args_parse(const struct args_option *options, int argc, char **argv,
    struct args_parsed *p, char *err, size_t errlen)
{
	struct option	*longopts = NULL;
	const char	*bad;
	size_t		 n, i, len;
	int		 c, rc = -1;

	memset(p, 0, sizeof *p);
	if ((p->args = json_object()) == NULL ||
	    (p->operands = calloc((size_t)argc + 1, sizeof *p->operands)) ==
	    NULL)
		goto nomem;
	for (n = 0; options[n].name != NULL; n++)
		;
	if ((longopts = calloc(n + 3, sizeof *longopts)) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		longopts[i].name = options[i].name;
		longopts[i].has_arg = options[i].type == ARGS_FLAG ||
		    options[i].type == ARGS_FALSE ||
		    options[i].type == ARGS_CSV ? no_argument :
		    required_argument;
		longopts[i].val = ARGS_VAL_BASE + (int)i;
	}
	longopts[n].name = "json";
	longopts[n].val = ARGS_VAL_JSON;
	longopts[n + 1].name = "help";
	longopts[n + 1].val = 'h';

	/* optind 0 makes glibc start afresh (it is used once per command). */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "-:h", longopts, NULL)) != -1) {
		switch (c) {
		case 1:
			p->operands[p->noperands++] = optarg;
			break;
		case 'h':
			p->help = 1;
			rc = ARGS_HELP;
			goto out;
		case ARGS_VAL_JSON:
			p->json = 1;
			break;
		case ':':
			for (i = 0; i < n && longopts[i].val != optopt; i++)
				;
			snprintf(err, errlen, "option --%s needs a value "
			    "(--%s %s)", args_name(options, n, optopt),
			    args_name(options, n, optopt),
			    i < n && options[i].metavar != NULL ?
			    options[i].metavar : "VALUE");
			goto out;
		case '?':
			if (optopt >= ARGS_VAL_JSON) {
				snprintf(err, errlen, "option --%s takes no "
				    "value", args_name(options, n, optopt));
				goto out;
			}
			if (optopt > 0x20 && optopt < 0x7f) {
				snprintf(err, errlen, "unknown option -%c",
				    optopt);
				goto out;
			}
			bad = optind > 0 && optind <= argc ?
			    argv[optind - 1] : "?";
			len = strcspn(bad, "=");
			snprintf(err, errlen, "%s option %.*s",
			    args_ambiguous(options, bad, len) ?
			    "ambiguous" : "unknown",
			    (int)(len > 60 ? 60 : len), bad);
			goto out;
		default:
			if (c < ARGS_VAL_BASE ||
			    (size_t)(c - ARGS_VAL_BASE) >= n) {
				snprintf(err, errlen, "unknown option");
				goto out;
			}
			if (args_set(options, &options[c - ARGS_VAL_BASE],
			    optarg, p, err, errlen) == -1)
				goto out;
			break;
		}
	}
	/* After "--" glibc leaves the rest for us. */
	for (; optind < argc; optind++)
		p->operands[p->noperands++] = argv[optind];
	rc = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	free(longopts);
	return rc;
}

/* Release what args_parse kept. */
void
args_parsed_cleanup(struct args_parsed *p)
{
	json_decref(p->args);
	free(p->operands);
	memset(p, 0, sizeof *p);
}

/* Check that required arguments are present. */
int
args_require(const struct args_option *options, const struct args_parsed *p,
    char *err, size_t errlen, ...)
{
	const struct args_option	*o;
	const char			*key;
	va_list				 ap;
	int				 rc = 0;

	va_start(ap, errlen);
	while ((key = va_arg(ap, const char *)) != NULL) {
		if (json_object_get(p->args, key) != NULL)
			continue;
		for (o = options; o->name != NULL; o++) {
			if (o->key != NULL && strcmp(o->key, key) == 0)
				break;
		}
		if (o->name != NULL)
			snprintf(err, errlen, "missing --%s %s", o->name,
			    o->metavar != NULL ? o->metavar : "");
		else
			snprintf(err, errlen, "missing %s", key);
		rc = -1;
		break;
	}
	va_end(ap);
	return rc;
}
