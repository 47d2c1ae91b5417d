/*
 * mail.c -- whole RFC 5322 messages for teachers: text from templates, the
 * MIME structure and the headers. See ../shared/INVITES.md ("Message")
 * and config/templates/README for the template format.
 *
 * Everything a message says comes from outside (titles, names, addresses,
 * descriptions), so every value is checked once more here even though the
 * commands module already refused bad input: an address or a header text
 * with a control character is refused, header text that is not plain
 * ASCII (or that merely looks like an RFC 2047 encoded-word) is written as
 * encoded-words, and body parts that are not short-lined ASCII are base64.
 * The finished message is linted (CRLF only, lines <= 998 octets, ASCII
 * headers) before it is returned: a bug here must refuse a message, never
 * send a broken one.
 *
 * Templates are read once by mail_start(); rendering does no I/O apart
 * from getrandom() for the Message-ID.
 */
#include <sys/types.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lectern.h"
#include "tz.h"
#include "valid.h"
#include "buf.h"
#include "mail.h"

/* Largest template or lang.conf file. */
#define MAIL_B64_LINE	76	/* base64 characters per line (RFC 2045) */
#define MAIL_FILE_MAX	65536
/* Most languages under the template directory. */
#define MAIL_LANGS_MAX	64
#define MAIL_KINDS_MAX	32
/* Longest subject and display name, in code points, after expansion. */
#define MAIL_SUBJECT_MAX 2000
#define MAIL_NAME_MAX	1000
/* Header lines are folded before this many octets (RFC 5322 2.1.1: 78). */
#define MAIL_FOLD	76
/* RFC 2047: an encoded-word is at most 75 characters. */
#define MAIL_EW_MAX	75
#define MAIL_EW_OVERHEAD 12	/* "=?UTF-8?B?" and "?=" */
/* RFC 5322 2.1.1 hard limit, CRLF not counted. */
#define MAIL_LINE_MAX	998
#define MAIL_B64_LINE	76
#define MAIL_ID_BYTES	16

/* The template files, indexed by enum mail_kind. */
static const char *const mail_tmpl_files[] = {
	"invite.txt", "update.txt", "cancel.txt", "reminder.txt",
	"waitlist.txt", "course_invite.txt", "course_update.txt",
	"course_cancel.txt", "course_waitlist.txt", "recert_notice.txt",
	"recert_digest.txt",
};
#define MAIL_NTMPL (sizeof mail_tmpl_files / sizeof mail_tmpl_files[0])

/*
 * Stands for the recipient's name in a prepared text: a control character,
 * which no value and no template line may hold.
 */
#define MAIL_NAME_MARK	'\x01'

/* Placeholders of the message templates. */
enum mail_ph {
	MAIL_PH_TITLE, MAIL_PH_KIND, MAIL_PH_DATE, MAIL_PH_DATE_SHORT,
	MAIL_PH_TIME, MAIL_PH_END_TIME, MAIL_PH_TZ, MAIL_PH_TZNAME,
	MAIL_PH_DURATION, MAIL_PH_URL, MAIL_PH_LOCATION, MAIL_PH_DESCRIPTION,
	MAIL_PH_COURSE, MAIL_PH_REASON, MAIL_PH_NAME, MAIL_PH_ORGANIZER,
	MAIL_PH_POSITION, MAIL_PH_REPEAT, MAIL_PH_STARTS_IN, MAIL_PH_FIRST_DAY,
	MAIL_PH_LAST_DAY, MAIL_PH_PROVIDER, MAIL_PH_HOURS,
	MAIL_PH_DUE, MAIL_PH_DAYS_LEFT, MAIL_PH_LAST_TITLE,
	MAIL_PH_LAST_COMPLETED_ON, MAIL_PH_PERIOD, MAIL_PH_FROM, MAIL_PH_TO,
	MAIL_PH_TOTAL, MAIL_PH_TRAINED, MAIL_PH_PERCENT, MAIL_PH_OK,
	MAIL_PH_DUE_SOON, MAIL_PH_OVERDUE_COUNT, MAIL_PH_NEVER,
	MAIL_PH_ORGANIZATIONS, MAIL_PH_OVERDUE, MAIL_PH_OVERDUE_MORE, MAIL_NPH
};
static const char *const mail_ph_names[MAIL_NPH] = {
	"title", "kind", "date", "date_short", "time", "end_time", "tz",
	"tzname", "duration", "url", "location", "description", "course",
	"reason", "name", "organizer", "position", "repeat", "starts_in",
	"first_day", "last_day", "provider", "hours",
	"due", "days_left", "last_title", "last_completed_on", "period", "from",
	"to", "total", "trained", "percent", "ok", "due_soon", "overdue_count",
	"never", "organizations", "overdue", "overdue_more",
};

/* Placeholders whose value spans lines: never in a subject. */
static const char *const mail_multiline[] = { "{description}",
	"{organizations}", "{overdue}" };

/* Keys of lang.conf; "kind.<name>" keys follow for every session kind. */
enum mail_key {
	MAIL_K_MONTHS, MAIL_K_WEEKDAYS, MAIL_K_DATE, MAIL_K_DATE_SHORT,
	MAIL_K_MINUTE, MAIL_K_HOUR, MAIL_K_DAY, MAIL_K_WEEK, MAIL_K_MONTH,
	MAIL_K_YEAR, MAIL_K_TIMES, MAIL_K_R_DAILY, MAIL_K_R_WEEKLY,
	MAIL_K_R_MONTHLY, MAIL_K_R_YEARLY, MAIL_K_R_EVERY, MAIL_K_R_COUNT,
	MAIL_K_R_UNTIL, MAIL_K_R_BYDAY, MAIL_K_RC_GROUP, MAIL_K_RC_NO_GROUP,
	MAIL_K_RC_OVERDUE, MAIL_K_KIND
};
#define MAIL_NKEYS	(MAIL_K_KIND + MAIL_KINDS_MAX)
static const char *const mail_key_names[MAIL_K_KIND] = {
	"months", "weekdays", "date", "date_short", "minute", "hour", "day",
	"week", "month", "year", "times", "repeat.daily", "repeat.weekly",
	"repeat.monthly", "repeat.yearly", "repeat.every", "repeat.count",
	"repeat.until", "repeat.byday", "recert.group", "recert.no_group",
	"recert.overdue",
};

/* Placeholders of the date patterns and the repeat phrases. */
static const char *const mail_date_names[] = {
	"weekday", "day", "dd", "month", "mm", "year",
};
static const char *const mail_every_names[] = { "n", "unit" };
static const char *const mail_count_names[] = { "n", "times" };
static const char *const mail_until_names[] = { "date" };
static const char *const mail_byday_names[] = { "days" };
/* The digest's lines: one per organization, one per overdue person. */
static const char *const mail_group_names[] = { "group", "trained", "total",
	"percent" };
static const char *const mail_late_names[] = { "name", "email",
	"organization", "due", "days" };
#define MAIL_N(a) (sizeof (a) / sizeof (a)[0])

static const char *const mail_rfc_days[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char *const mail_rfc_months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec",
};
static const char mail_b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char mail_hex_digits[] = "0123456789abcdef";

/* A growing string; on allocation failure it stays failed. */
struct mail_tmpl {
	char	*subject;	/* the template after "Subject: " */
	char	*body;		/* the rest, LF line ends */
};

struct mail_lang {
	char		 tag[16];
	char		*keys[MAIL_NKEYS];
	struct mail_tmpl tmpl[MAIL_NTMPL];
};

struct mail_set {
	struct mail_lang *langs;
	size_t		  nlangs;
	size_t		  def;
};

/* Session kinds, from valid_kinds(): kind.<name> keys of lang.conf. */
static char	mail_kinds[MAIL_KINDS_MAX][32];
static size_t	mail_nkinds;
static struct mail_set *mail_templates;

/* The values of one message's placeholders. */
struct mail_vals {
	const char	*v[MAIL_NPH];
	char		 date[256], date_short[256], time[16], end_time[400];
	char		 tzname[64], duration[256], position[24], repeat[1024];
	char		 starts_in[256], first_day[256], last_day[256];
	char		 hours[24];
	struct buf	 description, reason;
	/* Recertification notices and the digest. */
	char		 due[256], days_left[256], last_completed_on[256];
	char		 from[256], to[256], nums[7][24], percent[24];
	struct buf	 groups, late;
};

/* One body part of a message, encoded. */
struct mail_part {
	const char	*type;		/* Content-Type value */
	const char	*extra;		/* further header lines (CRLF each) or "" */
	struct buf	 enc;		/* encoded body, ends with CRLF */
	const char	*cte;		/* "7bit" or "base64" */
	const char	*text;		/* if set, the encoded body instead of enc */
	size_t		 len;		/* (borrowed) and its length */
	int		 clean;		/* known to hold no MAIL_BOUNDARY_PFX */
};

/* What every boundary starts with; base64 text can never hold it. */
#define MAIL_BOUNDARY_PFX "=_lectern_"

static void mail_error(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));


static void
mail_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
mail_is_blank(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	}
	return 1;
}

/*
 * Expand the {name} placeholders of tpl[0..len) into out (NULL: only
 * check). names[0..n) are the known names and vals (NULL: only check)
 * their values, NULL meaning empty. "{{" and "}}" stand for braces.
 * Counts placeholders in *nph and those that were empty in *nempty.
 * Returns 0, or -1 with a sentence in err.
 */
static int
mail_subst(const char *tpl, size_t len, const char *const *names, size_t n,
    const char *const *vals, struct buf *out, int *nph, int *nempty,
    char *err, size_t errlen)
{
	const char	*v;
	size_t		 i = 0, j, k;

	*nph = *nempty = 0;
	while (i < len) {
		if ((tpl[i] == '{' || tpl[i] == '}') && i + 1 < len &&
		    tpl[i + 1] == tpl[i]) {
			if (out != NULL)
				buf_add(out, tpl + i, 1);
			i += 2;
			continue;
		}
		if (tpl[i] == '}') {
			mail_error(err, errlen, "column %zu: a lone '}' "
			    "(write '}}' for a brace)", i + 1);
			return -1;
		}
		if (tpl[i] != '{') {
			for (j = i; j < len && tpl[j] != '{' && tpl[j] != '}';
			    j++)
				;
			if (out != NULL)
				buf_add(out, tpl + i, j - i);
			i = j;
			continue;
		}
		for (j = i + 1; j < len && ((tpl[j] >= 'a' && tpl[j] <= 'z') ||
		    tpl[j] == '_'); j++)
			;
		if (j >= len || tpl[j] != '}' || j == i + 1 || j - i > 32) {
			mail_error(err, errlen, "column %zu: malformed "
			    "placeholder (write '{{' for a brace)", i + 1);
			return -1;
		}
		for (k = 0; k < n; k++) {
			if (strlen(names[k]) == j - i - 1 &&
			    memcmp(names[k], tpl + i + 1, j - i - 1) == 0)
				break;
		}
		if (k == n) {
			mail_error(err, errlen, "unknown placeholder {%.*s}",
			    (int)(j - i - 1), tpl + i + 1);
			return -1;
		}
		(*nph)++;
		v = vals != NULL ? vals[k] : NULL;
		if (v == NULL || *v == '\0')
			(*nempty)++;
		else if (out != NULL)
			buf_str(out, v);
		i = j + 1;
	}
	return 0;
}

/* Expand a short pattern into buf; 0, or -1 if it does not fit. */
static int
mail_subst_buf(const char *tpl, const char *const *names, size_t n,
    const char *const *vals, char *buf, size_t len)
{
	struct buf	b = { 0 };
	int		nph, nempty, rc = -1;

	if (mail_subst(tpl, strlen(tpl), names, n, vals, &b, &nph, &nempty,
	    NULL, 0) == -1 || buf_get(&b) == NULL ||
	    b.len >= len)
		goto fail;
	memcpy(buf, b.s, b.len + 1);
	rc = 0;
fail:
	buf_free(&b);
	return rc;
}

/* Read a whole small file; valid UTF-8 without NUL. */
static char *
mail_read(const char *path, char *err, size_t errlen)
{
	FILE	*f;
	char	*text = NULL;
	size_t	 n;

	if ((f = fopen(path, "re")) == NULL) {
		mail_error(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((text = malloc(MAIL_FILE_MAX + 1)) == NULL) {
		mail_error(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	n = fread(text, 1, MAIL_FILE_MAX + 1, f);
	if (ferror(f)) {
		mail_error(err, errlen, "%s: read error", path);
		goto fail;
	}
	if (n > MAIL_FILE_MAX) {
		mail_error(err, errlen, "%s: larger than %d bytes", path,
		    MAIL_FILE_MAX);
		goto fail;
	}
	text[n] = '\0';
	if (memchr(text, '\0', n) != NULL || valid_utf8(text, n) == -1) {
		mail_error(err, errlen, "%s: not UTF-8 text", path);
		goto fail;
	}
	fclose(f);
	return text;
fail:
	free(text);
	fclose(f);
	return NULL;
}

/*
 * The next line of text at *pos: its start and length without CR LF / LF;
 * 0 at the end.
 */
static int
mail_next_line(const char *text, size_t *pos, const char **line, size_t *len)
{
	const char	*s = text + *pos, *nl;

	if (*s == '\0')
		return 0;
	*line = s;
	if ((nl = strchr(s, '\n')) == NULL) {
		*len = strlen(s);
		*pos += *len;
	} else {
		*len = nl - s;
		*pos += *len + 1;
	}
	if (*len > 0 && s[*len - 1] == '\r')
		(*len)--;
	return 1;
}

/* 0 if line has no control character (TAB allowed; C1 too is refused). */
static int
mail_line_clean(const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
			return -1;
		if (u[i] == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 &&
		    u[i + 1] <= 0x9f)
			return -1;
	}
	return 0;
}

static char *
mail_strndup(const char *s, size_t n)
{
	char	*p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Load one message template: "Subject: ..." then the body. */
static int
mail_load_tmpl(const char *path, struct mail_tmpl *t, char *err,
    size_t errlen)
{
	struct buf	 body = { 0 };
	char		*text, why[256];
	const char	*line;
	size_t		 pos = 0, len, i;
	int		 lineno = 0, nph, nempty, rc = -1;

	if ((text = mail_read(path, err, errlen)) == NULL)
		return -1;
	while (mail_next_line(text, &pos, &line, &len)) {
		lineno++;
		if (mail_line_clean(line, len) == -1) {
			mail_error(err, errlen, "%s:%d: control character",
			    path, lineno);
			goto fail;
		}
		if (mail_subst(line, len, mail_ph_names, MAIL_NPH, NULL, NULL,
		    &nph, &nempty, why, sizeof why) == -1) {
			mail_error(err, errlen, "%s:%d: %s", path, lineno,
			    why);
			goto fail;
		}
		if (lineno > 1) {
			buf_add(&body, line, len);
			buf_add(&body, "\n", 1);
			continue;
		}
		if (len < 9 || memcmp(line, "Subject: ", 9) != 0 ||
		    mail_is_blank(line + 9, len - 9)) {
			mail_error(err, errlen, "%s:%d: the first line must "
			    "be \"Subject: ...\"", path, lineno);
			goto fail;
		}
		/* A multi-line value can never make a subject. */
		for (i = 0; i < MAIL_N(mail_multiline); i++) {
			if (memmem(line, len, mail_multiline[i],
			    strlen(mail_multiline[i])) != NULL) {
				mail_error(err, errlen, "%s:%d: %s cannot be "
				    "used in the subject", path, lineno,
				    mail_multiline[i]);
				goto fail;
			}
		}
		if ((t->subject = mail_strndup(line + 9, len - 9)) == NULL) {
			mail_error(err, errlen, "%s: out of memory", path);
			goto fail;
		}
	}
	if (lineno == 0) {
		mail_error(err, errlen, "%s:1: empty file; the first line "
		    "must be \"Subject: ...\"", path);
		goto fail;
	}
	if (buf_get(&body) == NULL) {
		mail_error(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	t->body = body.s;
	body.s = NULL;
	rc = 0;
fail:
	buf_free(&body);
	free(text);
	return rc;
}

/* The idx'th item of a comma-separated list, trimmed; -1 if none. */
static int
mail_list_item(const char *list, size_t idx, char *buf, size_t len)
{
	const char	*s = list, *e;
	size_t		 i, n;

	for (i = 0; i < idx; i++) {
		if ((s = strchr(s, ',')) == NULL)
			return -1;
		s++;
	}
	if ((e = strchr(s, ',')) == NULL)
		e = s + strlen(s);
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	n = e - s;
	if (n == 0 || n >= len)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

static size_t
mail_list_count(const char *list)
{
	size_t	n = 1;

	for (; *list != '\0'; list++) {
		if (*list == ',')
			n++;
	}
	return n;
}

/* Check a lang.conf value once it is read; why gets the problem. */
static int
mail_check_key(size_t k, const char *v, char *why, size_t whylen)
{
	const char *const	*names = NULL;
	char			 item[256];
	size_t			 n = 0, i, want = 0, cnt;
	int			 nph, nempty;

	switch (k) {
	case MAIL_K_MONTHS:
		want = 12;
		break;
	case MAIL_K_WEEKDAYS:
		want = 7;
		break;
	case MAIL_K_MINUTE: case MAIL_K_HOUR: case MAIL_K_DAY:
	case MAIL_K_WEEK: case MAIL_K_MONTH: case MAIL_K_YEAR:
	case MAIL_K_TIMES:
		cnt = mail_list_count(v);
		if (cnt != 2 && cnt != 3) {
			mail_error(why, whylen, "needs 2 plural forms (one, "
			    "other) or 3 (one, few, many)");
			return -1;
		}
		for (i = 0; i < cnt; i++) {
			if (mail_list_item(v, i, item, sizeof item) == -1) {
				mail_error(why, whylen, "empty plural form");
				return -1;
			}
		}
		return 0;
	case MAIL_K_DATE: case MAIL_K_DATE_SHORT:
		names = mail_date_names;
		n = MAIL_N(mail_date_names);
		break;
	case MAIL_K_R_EVERY:
		names = mail_every_names;
		n = MAIL_N(mail_every_names);
		break;
	case MAIL_K_R_COUNT:
		names = mail_count_names;
		n = MAIL_N(mail_count_names);
		break;
	case MAIL_K_R_UNTIL:
		names = mail_until_names;
		n = MAIL_N(mail_until_names);
		break;
	case MAIL_K_R_BYDAY:
		names = mail_byday_names;
		n = MAIL_N(mail_byday_names);
		break;
	case MAIL_K_RC_GROUP:
		names = mail_group_names;
		n = MAIL_N(mail_group_names);
		break;
	case MAIL_K_RC_OVERDUE:
		names = mail_late_names;
		n = MAIL_N(mail_late_names);
		break;
	default:
		break;
	}
	if (want != 0) {
		if (mail_list_count(v) != want) {
			mail_error(why, whylen, "needs %zu comma-separated "
			    "names", want);
			return -1;
		}
		for (i = 0; i < want; i++) {
			if (mail_list_item(v, i, item, sizeof item) == -1) {
				mail_error(why, whylen, "name %zu is empty or "
				    "too long", i + 1);
				return -1;
			}
		}
		return 0;
	}
	return mail_subst(v, strlen(v), names, n, NULL, NULL, &nph, &nempty,
	    why, whylen);
}

/* Read dir/lang.conf: "key = value" lines, '#' comments. */
static int
mail_load_conf(const char *path, struct mail_lang *l, char *err,
    size_t errlen)
{
	char		*text, key[64], why[256];
	const char	*line, *eq, *v, *e;
	size_t		 pos = 0, len, klen, k;
	int		 lineno = 0, rc = -1;

	if ((text = mail_read(path, err, errlen)) == NULL)
		return -1;
	while (mail_next_line(text, &pos, &line, &len)) {
		lineno++;
		if (mail_line_clean(line, len) == -1) {
			mail_error(err, errlen, "%s:%d: control character",
			    path, lineno);
			goto fail;
		}
		while (len > 0 && (*line == ' ' || *line == '\t')) {
			line++;
			len--;
		}
		if (len == 0 || *line == '#')
			continue;
		if ((eq = memchr(line, '=', len)) == NULL) {
			mail_error(err, errlen, "%s:%d: expected \"key = "
			    "value\"", path, lineno);
			goto fail;
		}
		for (e = eq; e > line && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		klen = e - line;
		for (v = eq + 1; v < line + len && (*v == ' ' || *v == '\t');
		    v++)
			;
		for (e = line + len; e > v && (e[-1] == ' ' || e[-1] == '\t');
		    e--)
			;
		if (klen == 0 || klen >= sizeof key) {
			mail_error(err, errlen, "%s:%d: bad key", path,
			    lineno);
			goto fail;
		}
		memcpy(key, line, klen);
		key[klen] = '\0';
		for (k = 0; k < MAIL_K_KIND; k++) {
			if (strcmp(key, mail_key_names[k]) == 0)
				break;
		}
		if (k == MAIL_K_KIND && strncmp(key, "kind.", 5) == 0) {
			for (k = 0; k < mail_nkinds; k++) {
				if (strcmp(key + 5, mail_kinds[k]) == 0)
					break;
			}
			k = k < mail_nkinds ? MAIL_K_KIND + k : MAIL_NKEYS;
		} else if (k == MAIL_K_KIND)
			k = MAIL_NKEYS;
		if (k >= MAIL_NKEYS) {
			mail_error(err, errlen, "%s:%d: unknown key \"%s\"",
			    path, lineno, key);
			goto fail;
		}
		if (l->keys[k] != NULL) {
			mail_error(err, errlen, "%s:%d: \"%s\" given twice",
			    path, lineno, key);
			goto fail;
		}
		if (e == v) {
			mail_error(err, errlen, "%s:%d: \"%s\" is empty", path,
			    lineno, key);
			goto fail;
		}
		if ((l->keys[k] = mail_strndup(v, e - v)) == NULL) {
			mail_error(err, errlen, "%s: out of memory", path);
			goto fail;
		}
		if (mail_check_key(k, l->keys[k], why, sizeof why) == -1) {
			mail_error(err, errlen, "%s:%d: %s: %s", path, lineno,
			    key, why);
			goto fail;
		}
	}
	for (k = 0; k < MAIL_K_KIND + mail_nkinds; k++) {
		if (l->keys[k] != NULL)
			continue;
		if (k < MAIL_K_KIND)
			mail_error(err, errlen, "%s: missing key \"%s\"", path,
			    mail_key_names[k]);
		else
			mail_error(err, errlen, "%s: missing key \"kind.%s\"",
			    path, mail_kinds[k - MAIL_K_KIND]);
		goto fail;
	}
	rc = 0;
fail:
	free(text);
	return rc;
}

static void
mail_lang_cleanup(struct mail_lang *l)
{
	size_t	i;

	for (i = 0; i < MAIL_NKEYS; i++)
		free(l->keys[i]);
	for (i = 0; i < MAIL_NTMPL; i++) {
		free(l->tmpl[i].subject);
		free(l->tmpl[i].body);
	}
	memset(l, 0, sizeof *l);
}

static void
mail_set_free(struct mail_set *set)
{
	size_t	i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nlangs; i++)
		mail_lang_cleanup(&set->langs[i]);
	free(set->langs);
	free(set);
}

static int
mail_path(char *buf, size_t len, const char *dir, const char *lang,
    const char *file, char *err, size_t errlen)
{
	int	n;

	n = snprintf(buf, len, "%s/%s/%s", dir, lang, file);
	if (n < 0 || (size_t)n >= len) {
		mail_error(err, errlen, "%s: path too long", dir);
		return -1;
	}
	return 0;
}

static int
mail_load_lang(const char *dir, const char *tag, struct mail_lang *l,
    char *err, size_t errlen)
{
	char	path[4096];
	size_t	i;

	memset(l, 0, sizeof *l);
	if (strlen(tag) >= sizeof l->tag) {
		mail_error(err, errlen, "%s/%s: language tag too long", dir,
		    tag);
		return -1;
	}
	memcpy(l->tag, tag, strlen(tag) + 1);
	if (mail_path(path, sizeof path, dir, tag, "lang.conf", err,
	    errlen) == -1 || mail_load_conf(path, l, err, errlen) == -1)
		return -1;
	for (i = 0; i < MAIL_NTMPL; i++) {
		if (mail_path(path, sizeof path, dir, tag, mail_tmpl_files[i],
		    err, errlen) == -1 ||
		    mail_load_tmpl(path, &l->tmpl[i], err, errlen) == -1)
			return -1;
	}
	return 0;
}

/* Split valid_kinds() once: the kind.<name> keys every lang.conf needs. */
static int
mail_load_kinds(char *err, size_t errlen)
{
	const char	*list = valid_kinds();
	size_t		 i, n;

	n = mail_list_count(list);
	if (n > MAIL_KINDS_MAX) {
		mail_error(err, errlen, "too many session kinds");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (mail_list_item(list, i, mail_kinds[i],
		    sizeof mail_kinds[i]) == -1) {
			mail_error(err, errlen, "bad session kind list");
			return -1;
		}
	}
	mail_nkinds = n;
	return 0;
}

/* Load the templates under dir (dir/<lang>/...); default_lang must exist. */
int
mail_start(const char *dir, const char *default_lang, char *err,
    size_t errlen)
{
	struct mail_set	*set = NULL;
	struct mail_lang *l;
	DIR		*d = NULL;
	struct dirent	*de;
	struct stat	 st;
	char		 path[4096], why[256];
	size_t		 i;
	int		 n, found = 0;

	if (dir == NULL || default_lang == NULL) {
		mail_error(err, errlen, "templates: no directory or language");
		return -1;
	}
	if (mail_load_kinds(err, errlen) == -1)
		return -1;
	if ((set = calloc(1, sizeof *set)) == NULL ||
	    (set->langs = calloc(MAIL_LANGS_MAX, sizeof *set->langs)) ==
	    NULL) {
		mail_error(err, errlen, "templates: out of memory");
		goto fail;
	}
	if ((d = opendir(dir)) == NULL) {
		mail_error(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof path) {
			mail_error(err, errlen, "%s: path too long", dir);
			goto fail;
		}
		if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode))
			continue;	/* README and other files */
		if (valid_lang(de->d_name, "language", why, sizeof why) ==
		    -1) {
			mail_error(err, errlen, "%s: %s", path, why);
			goto fail;
		}
		if (set->nlangs == MAIL_LANGS_MAX) {
			mail_error(err, errlen, "%s: more than %d languages",
			    dir, MAIL_LANGS_MAX);
			goto fail;
		}
		l = &set->langs[set->nlangs++];
		if (mail_load_lang(dir, de->d_name, l, err, errlen) == -1)
			goto fail;
	}
	for (i = 0; i < set->nlangs; i++) {
		if (strcmp(set->langs[i].tag, default_lang) == 0) {
			set->def = i;
			found = 1;
		}
	}
	if (!found) {
		mail_error(err, errlen, "%s/%s: no templates for the default "
		    "language \"%s\"", dir, default_lang, default_lang);
		goto fail;
	}
	closedir(d);
	mail_set_free(mail_templates);
	mail_templates = set;
	return 0;
fail:
	if (d != NULL)
		closedir(d);
	mail_set_free(set);
	return -1;
}

/* Free the templates. */
void
mail_stop(void)
{
	mail_set_free(mail_templates);
	mail_templates = NULL;
}

/* The language for tag: exact, then its base ("pt" for "pt-br"), else the default. */
static const struct mail_lang *
mail_lang_find(const char *tag)
{
	const struct mail_set	*set = mail_templates;
	size_t			 i, n;

	if (tag != NULL) {
		for (i = 0; i < set->nlangs; i++) {
			if (strcmp(set->langs[i].tag, tag) == 0)
				return &set->langs[i];
		}
		n = strcspn(tag, "-_");
		for (i = 0; i < set->nlangs; i++) {
			if (strlen(set->langs[i].tag) == n &&
			    strncmp(set->langs[i].tag, tag, n) == 0)
				return &set->langs[i];
		}
	}
	return &set->langs[set->def];
}

/* The plural form of key for n: 2 forms (one, other), 3 (one, few, many). */
static void
mail_plural(const struct mail_lang *l, enum mail_key key, long long n,
    char *buf, size_t len)
{
	const char	*list = l->keys[key];
	size_t		 idx;
	long long	 m10 = n % 10, m100 = n % 100;

	if (mail_list_count(list) == 3) {
		if (m10 == 1 && m100 != 11)
			idx = 0;
		else if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14))
			idx = 1;
		else
			idx = 2;
	} else
		idx = n == 1 ? 0 : 1;
	if (mail_list_item(list, idx, buf, len) == -1)
		buf[0] = '\0';
}

/* "1 hour 30 minutes" in the language of l; "" if it does not fit. */
static void
mail_words(const struct mail_lang *l, int64_t secs, char *buf, size_t len)
{
	static const struct {
		enum mail_key	key;
		int64_t		secs;
	} units[] = {
		{ MAIL_K_DAY, 86400 }, { MAIL_K_HOUR, 3600 },
		{ MAIL_K_MINUTE, 60 },
	};
	char		 word[128];
	size_t		 o = 0, i;
	int64_t		 q;
	int		 n;

	buf[0] = '\0';
	if (secs < 60)
		secs = 0;
	if (secs > 0 && secs % (7 * 86400) == 0) {
		q = secs / (7 * 86400);
		mail_plural(l, MAIL_K_WEEK, q, word, sizeof word);
		n = snprintf(buf, len, "%lld %s", (long long)q, word);
		if (n < 0 || (size_t)n >= len)
			buf[0] = '\0';
		return;
	}
	for (i = 0; i < MAIL_N(units); i++) {
		q = secs / units[i].secs;
		secs %= units[i].secs;
		if (q == 0)
			continue;
		mail_plural(l, units[i].key, q, word, sizeof word);
		n = snprintf(buf + o, len - o, "%s%lld %s", o > 0 ? " " : "",
		    (long long)q, word);
		if (n < 0 || (size_t)n >= len - o) {
			buf[0] = '\0';
			return;
		}
		o += n;
	}
	if (o == 0) {
		mail_plural(l, MAIL_K_MINUTE, 0, word, sizeof word);
		n = snprintf(buf, len, "0 %s", word);
		if (n < 0 || (size_t)n >= len)
			buf[0] = '\0';
	}
}

static int
mail_num(const char *s, size_t n, long *out)
{
	char	tmp[16], *end;

	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	*out = strtol(tmp, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* Format a calendar date with the language's pattern. */
static int
mail_date_fmt(const struct mail_lang *l, enum mail_key key, long y, long m,
    long d, char *buf, size_t len)
{
	char		 wday[128], month[128], day[16], dd[16], mm[16], year[16];
	const char	*vals[6];
	int64_t		 w;

	if (m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	w = (tz_days_from_civil(y, (int)m, (int)d) + 3) % 7;	/* Monday = 0 */
	if (w < 0)
		w += 7;
	if (mail_list_item(l->keys[MAIL_K_WEEKDAYS], (size_t)w, wday,
	    sizeof wday) == -1 ||
	    mail_list_item(l->keys[MAIL_K_MONTHS], (size_t)m - 1, month,
	    sizeof month) == -1)
		return -1;
	snprintf(day, sizeof day, "%ld", d);
	snprintf(dd, sizeof dd, "%02ld", d);
	snprintf(mm, sizeof mm, "%02ld", m);
	snprintf(year, sizeof year, "%ld", y);
	vals[0] = wday;
	vals[1] = day;
	vals[2] = dd;
	vals[3] = month;
	vals[4] = mm;
	vals[5] = year;
	return mail_subst_buf(l->keys[key], mail_date_names,
	    MAIL_N(mail_date_names), vals, buf, len);
}

/* The local date (long and short pattern), "HH:MM" and zone name of utc. */
static int
mail_local(const struct mail_lang *l, int64_t utc, const char *tz,
    char *date, size_t datelen, char *dshort, size_t dshortlen, char *hm,
    size_t hmlen, char *zname, size_t znamelen)
{
	char	buf[128];
	long	y, m, d;
	int	n;

	if (tz_format_local(utc, tz, "%Y-%m-%d %H:%M %Z", buf, sizeof buf) ==
	    -1 || strlen(buf) < 17)
		return -1;
	/* "YYYY-MM-DD HH:MM ZONE", the year possibly longer. */
	if (mail_num(buf, strcspn(buf, "-"), &y) == -1)
		return -1;
	if (mail_num(buf + strcspn(buf, "-") + 1, 2, &m) == -1 ||
	    mail_num(buf + strcspn(buf, "-") + 4, 2, &d) == -1)
		return -1;
	if (date != NULL && mail_date_fmt(l, MAIL_K_DATE, y, m, d, date,
	    datelen) == -1)
		return -1;
	if (mail_date_fmt(l, MAIL_K_DATE_SHORT, y, m, d, dshort,
	    dshortlen) == -1)
		return -1;
	n = hm != NULL ? snprintf(hm, hmlen, "%.5s", strchr(buf, ' ') + 1) : 0;
	if (n < 0 || (hm != NULL && (size_t)n >= hmlen))
		return -1;
	n = zname != NULL ? snprintf(zname, znamelen, "%s", strchr(buf, ' ') +
	    7) : 0;
	if (n < 0 || (zname != NULL && (size_t)n >= znamelen))
		return -1;
	return 0;
}

/* One "NAME=VALUE" part of an RRULE; the value's start and length. */
static int
mail_rrule_part(const char *rrule, const char *name, const char **v,
    size_t *vlen)
{
	const char	*s = rrule, *e;
	size_t		 n = strlen(name);

	for (;;) {
		e = s + strcspn(s, ";");
		if ((size_t)(e - s) > n && strncasecmp(s, name, n) == 0 &&
		    s[n] == '=') {
			*v = s + n + 1;
			*vlen = e - *v;
			return 0;
		}
		if (*e == '\0')
			return -1;
		s = e + 1;
	}
}

/*
 * An RRULE in words: "every 2 weeks, on Monday, Wednesday, 10 times".
 * Parts it does not know (BYMONTHDAY, BYSETPOS, ...) are left out: the
 * calendar part is exact, the words are a summary.
 */
static void
mail_rrule_words(const struct mail_lang *l, const char *rrule, const char *tz,
    char *buf, size_t len)
{
	static const char *const freqs[] = {
		"DAILY", "WEEKLY", "MONTHLY", "YEARLY",
	};
	static const enum mail_key units[] = {
		MAIL_K_DAY, MAIL_K_WEEK, MAIL_K_MONTH, MAIL_K_YEAR,
	};
	static const char *const days[] = {
		"MO", "TU", "WE", "TH", "FR", "SA", "SU",
	};
	struct buf	 b = { 0 };
	const char	*v, *vals[2];
	char		 tmp[512], word[128], n[24], iso[32], dshort[256];
	char		 days_text[1024];
	size_t		 vlen, f, i, k;
	long		 interval = 1, count;
	int64_t		 until;

	buf[0] = '\0';
	if (rrule == NULL || *rrule == '\0' ||
	    mail_rrule_part(rrule, "FREQ", &v, &vlen) == -1)
		return;
	for (f = 0; f < MAIL_N(freqs); f++) {
		if (strlen(freqs[f]) == vlen &&
		    strncasecmp(v, freqs[f], vlen) == 0)
			break;
	}
	if (f == MAIL_N(freqs))
		return;
	if (mail_rrule_part(rrule, "INTERVAL", &v, &vlen) == 0 &&
	    (mail_num(v, vlen, &interval) == -1 || interval < 1))
		interval = 1;
	if (interval == 1)
		buf_str(&b, l->keys[MAIL_K_R_DAILY + f]);
	else {
		snprintf(n, sizeof n, "%ld", interval);
		mail_plural(l, units[f], interval, word, sizeof word);
		vals[0] = n;
		vals[1] = word;
		if (mail_subst_buf(l->keys[MAIL_K_R_EVERY], mail_every_names,
		    2, vals, tmp, sizeof tmp) == 0)
			buf_str(&b, tmp);
	}
	if (mail_rrule_part(rrule, "BYDAY", &v, &vlen) == 0) {
		/* Plain day codes only ("MO,WE"); "1MO" and such are left out. */
		tmp[0] = '\0';
		for (i = 0; i <= vlen; i += 3) {
			for (k = 0; k < 7; k++) {
				if (vlen - i >= 2 &&
				    strncasecmp(v + i, days[k], 2) == 0 &&
				    (i + 2 == vlen || v[i + 2] == ','))
					break;
			}
			if (k == 7 || mail_list_item(l->keys[MAIL_K_WEEKDAYS],
			    k, word, sizeof word) == -1) {
				tmp[0] = '\0';
				break;
			}
			if (strlen(tmp) + strlen(word) + 3 >= sizeof tmp)
				break;
			if (tmp[0] != '\0')
				memcpy(tmp + strlen(tmp), ", ", 3);
			memcpy(tmp + strlen(tmp), word, strlen(word) + 1);
		}
		vals[0] = tmp;
		if (tmp[0] != '\0' && mail_subst_buf(l->keys[MAIL_K_R_BYDAY],
		    mail_byday_names, 1, vals, days_text,
		    sizeof days_text) == 0) {
			buf_str(&b, ", ");
			buf_str(&b, days_text);
		}
	}
	if (mail_rrule_part(rrule, "COUNT", &v, &vlen) == 0 &&
	    mail_num(v, vlen, &count) == 0 && count > 0) {
		snprintf(n, sizeof n, "%ld", count);
		mail_plural(l, MAIL_K_TIMES, count, word, sizeof word);
		vals[0] = n;
		vals[1] = word;
		if (mail_subst_buf(l->keys[MAIL_K_R_COUNT], mail_count_names,
		    2, vals, tmp, sizeof tmp) == 0) {
			buf_str(&b, ", ");
			buf_str(&b, tmp);
		}
	}
	if (mail_rrule_part(rrule, "UNTIL", &v, &vlen) == 0 && vlen >= 8) {
		/* 20270101 or 20270101T120000Z: the date as seen in tz. */
		snprintf(iso, sizeof iso, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", v,
		    v + 4, v + 6, vlen >= 15 ? v + 9 : "00", vlen >= 15 ?
		    v + 11 : "00", vlen >= 15 ? v + 13 : "00");
		if (tz_parse_utc(iso, &until) == 0 && mail_local(l, until, tz,
		    NULL, 0, dshort, sizeof dshort, NULL, 0, NULL, 0) == 0) {
			vals[0] = dshort;
			if (mail_subst_buf(l->keys[MAIL_K_R_UNTIL],
			    mail_until_names, 1, vals, tmp, sizeof tmp) == 0) {
				buf_str(&b, ", ");
				buf_str(&b, tmp);
			}
		}
	}
	if (buf_get(&b) != NULL && b.len < len)
		memcpy(buf, b.s, b.len + 1);
	buf_free(&b);
}

/* An optional value: NULL or blanks only count as empty. */
static const char *
mail_opt(const char *s)
{
	if (s == NULL || mail_is_blank(s, strlen(s)))
		return "";
	return s;
}

/* A multi-line value with CR LF and lone CR turned into LF. */
static int
mail_lf(const char *s, struct buf *out)
{
	size_t	i;

	buf_add(out, "", 0);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\r') {
			if (s[i + 1] != '\n')
				buf_add(out, "\n", 1);
			continue;
		}
		buf_add(out, s + i, 1);
	}
	return buf_get(out) == NULL ? -1 : 0;
}

/* An empty struct mail_vals (its big buffers need no clearing). */
static void
mail_vals_zero(struct mail_vals *mv)
{
	memset(mv->v, 0, sizeof mv->v);
	mv->date[0] = mv->date_short[0] = mv->time[0] = mv->end_time[0] = '\0';
	mv->tzname[0] = mv->duration[0] = mv->position[0] = '\0';
	mv->repeat[0] = mv->starts_in[0] = '\0';
	mv->first_day[0] = mv->last_day[0] = mv->hours[0] = '\0';
	memset(&mv->description, 0, sizeof mv->description);
	memset(&mv->reason, 0, sizeof mv->reason);
	mv->due[0] = mv->days_left[0] = mv->last_completed_on[0] = '\0';
	mv->from[0] = mv->to[0] = mv->percent[0] = '\0';
	memset(mv->nums, 0, sizeof mv->nums);
	memset(&mv->groups, 0, sizeof mv->groups);
	memset(&mv->late, 0, sizeof mv->late);
}

static void
mail_vals_cleanup(struct mail_vals *mv)
{
	buf_free(&mv->description);
	buf_free(&mv->reason);
	buf_free(&mv->groups);
	buf_free(&mv->late);
}

/* A message about no session: the recertification notice and digest. */
static int
mail_recert_kind(enum mail_kind kind)
{
	return kind == MAIL_RECERT_NOTICE || kind == MAIL_RECERT_DIGEST;
}

/* The iTIP method of a message of kind, NULL for one without calendar. */
static const char *
mail_method(enum mail_kind kind)
{
	switch (kind) {
	case MAIL_INVITE:
	case MAIL_UPDATE:
	case MAIL_COURSE_INVITE:
	case MAIL_COURSE_UPDATE:
		return "REQUEST";
	case MAIL_CANCEL:
	case MAIL_COURSE_CANCEL:
		return "CANCEL";
	default:
		return NULL;
	}
}

/* A date "YYYY-MM-DD" (or NULL: "") in the language's short pattern. */
static int
mail_day(const struct mail_lang *l, const char *day, char *out, size_t len,
    const char *field, char *err, size_t errlen)
{
	int	y, m, d, n = 0;

	out[0] = '\0';
	if (day == NULL)
		return 0;
	if (strlen(day) != 10 || sscanf(day, "%4d-%2d-%2d%n", &y, &m, &d,
	    &n) != 3 || n != 10 || m < 1 || m > 12 || d < 1 ||
	    /* The day must exist: the next month's first is further on. */
	    tz_days_from_civil(y, m, d) >= (m == 12 ?
	    tz_days_from_civil(y + 1, 1, 1) : tz_days_from_civil(y, m + 1, 1)) ||
	    mail_local(l, tz_days_from_civil(y, m, d) * 86400 + 43200, "UTC",
	    NULL, 0, out, len, NULL, 0, NULL, 0) == -1) {
		mail_error(err, errlen, "%s: not a date", field);
		return -1;
	}
	return 0;
}

/* "97 days" in the language of l. */
static void
mail_days(const struct mail_lang *l, int64_t n, char *buf, size_t len)
{
	char	 word[128];

	mail_plural(l, MAIL_K_DAY, n < 0 ? -n : n, word, sizeof word);
	snprintf(buf, len, "%lld %s", (long long)n, word);
}

/* A share in tenths of a percent ("32.5", "100"). */
static void
mail_permille(int64_t v, char *buf, size_t len)
{
	if (v % 10 == 0)
		snprintf(buf, len, "%lld", (long long)(v / 10));
	else
		snprintf(buf, len, "%lld.%lld", (long long)(v / 10),
		    (long long)(v % 10));
}

/* A recertification notice: the due day and the last completion. */
static int
mail_notice_vals(struct mail_vals *mv, const struct mail_lang *l,
    const struct mail_message *m, char *err, size_t errlen)
{
	if (valid_text(mail_opt(m->last_title), LECTERN_TEXT_MAX * 4, 1, 0,
	    "last_title", err, errlen) == -1 ||
	    mail_day(l, m->due, mv->due, sizeof mv->due, "due", err,
	    errlen) == -1 ||
	    mail_day(l, m->last_completed_on, mv->last_completed_on,
	    sizeof mv->last_completed_on, "last_completed_on", err,
	    errlen) == -1)
		return -1;
	mail_days(l, m->days_left, mv->days_left, sizeof mv->days_left);
	mv->v[MAIL_PH_DUE] = mv->due;
	mv->v[MAIL_PH_DAYS_LEFT] = mv->days_left;
	mv->v[MAIL_PH_LAST_TITLE] = mail_opt(m->last_title);
	mv->v[MAIL_PH_LAST_COMPLETED_ON] = mv->last_completed_on;
	return 0;
}

/*
 * One line of the digest from the lang.conf pattern key, values checked
 * (one line each, emails valid), appended to out with its LF.
 */
static int
mail_digest_line(const struct mail_lang *l, enum mail_key key,
    const char *const *names, size_t n, const char *const *vals,
    struct buf *out, char *err, size_t errlen)
{
	int	 nph, nempty;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (valid_text(mail_opt(vals[i]), LECTERN_TEXT_MAX * 4, 1, 0,
		    names[i], err, errlen) == -1)
			return -1;
	}
	if (mail_subst(l->keys[key], strlen(l->keys[key]), names, n, vals, out,
	    &nph, &nempty, err, errlen) == -1)
		return -1;
	buf_add(out, "\n", 1);
	return 0;
}

/* The digest: coverage, status counts, the organizations, the overdue. */
static int
mail_digest_vals(struct mail_vals *mv, const struct mail_lang *l,
    const struct mail_digest *d, char *err, size_t errlen)
{
	const struct mail_digest_group	*g;
	const struct mail_digest_person	*p;
	const char			*vals[5];
	char				 a[24], b[24], c[24], due[256];
	char				 days[256];
	size_t				 i, k;
	const int64_t			*nums[7];

	if (d == NULL) {
		mail_error(err, errlen, "digest: no content");
		return -1;
	}
	if (valid_text(mail_opt(d->period), 32, 0, 0, "period", err,
	    errlen) == -1 || mail_day(l, d->from, mv->from, sizeof mv->from,
	    "from", err, errlen) == -1 || mail_day(l, d->to, mv->to,
	    sizeof mv->to, "to", err, errlen) == -1)
		return -1;
	nums[0] = &d->total;
	nums[1] = &d->trained;
	nums[2] = &d->ok;
	nums[3] = &d->due_soon;
	nums[4] = &d->overdue;
	nums[5] = &d->never;
	nums[6] = &d->more;
	for (k = 0; k < 7; k++)
		snprintf(mv->nums[k], sizeof mv->nums[k], "%lld",
		    (long long)*nums[k]);
	mail_permille(d->permille, mv->percent, sizeof mv->percent);
	mail_permille(d->hours, mv->hours, sizeof mv->hours);
	for (i = 0; i < d->ngroups; i++) {
		g = &d->groups[i];
		snprintf(a, sizeof a, "%lld", (long long)g->trained);
		snprintf(b, sizeof b, "%lld", (long long)g->total);
		mail_permille(g->permille, c, sizeof c);
		vals[0] = g->name != NULL ? g->name :
		    l->keys[MAIL_K_RC_NO_GROUP];
		vals[1] = a;
		vals[2] = b;
		vals[3] = c;
		if (mail_digest_line(l, MAIL_K_RC_GROUP, mail_group_names,
		    MAIL_N(mail_group_names), vals, &mv->groups, err,
		    errlen) == -1)
			return -1;
	}
	for (i = 0; i < d->nlate; i++) {
		p = &d->late[i];
		if (valid_email(p->email, "email", err, errlen) == -1 ||
		    mail_day(l, p->due, due, sizeof due, "due", err,
		    errlen) == -1)
			return -1;
		mail_days(l, p->days, days, sizeof days);
		vals[0] = p->name;
		vals[1] = p->email;
		vals[2] = p->organization != NULL ? p->organization :
		    l->keys[MAIL_K_RC_NO_GROUP];
		vals[3] = due;
		vals[4] = days;
		if (mail_digest_line(l, MAIL_K_RC_OVERDUE, mail_late_names,
		    MAIL_N(mail_late_names), vals, &mv->late, err,
		    errlen) == -1)
			return -1;
	}
	if ((d->ngroups > 0 && buf_get(&mv->groups) == NULL) ||
	    (d->nlate > 0 && buf_get(&mv->late) == NULL)) {
		mail_error(err, errlen, "out of memory");
		return -1;
	}
	mv->v[MAIL_PH_PERIOD] = d->period;
	mv->v[MAIL_PH_FROM] = mv->from;
	mv->v[MAIL_PH_TO] = mv->to;
	mv->v[MAIL_PH_TOTAL] = mv->nums[0];
	mv->v[MAIL_PH_TRAINED] = mv->nums[1];
	mv->v[MAIL_PH_OK] = mv->nums[2];
	mv->v[MAIL_PH_DUE_SOON] = mv->nums[3];
	mv->v[MAIL_PH_OVERDUE_COUNT] = mv->nums[4];
	mv->v[MAIL_PH_NEVER] = mv->nums[5];
	/* "... and N more" disappears when the list is whole. */
	mv->v[MAIL_PH_OVERDUE_MORE] = d->more > 0 ? mv->nums[6] : "";
	mv->v[MAIL_PH_PERCENT] = mv->percent;
	mv->v[MAIL_PH_HOURS] = mv->hours;
	mv->v[MAIL_PH_ORGANIZATIONS] = d->ngroups > 0 ? mv->groups.s : "";
	mv->v[MAIL_PH_OVERDUE] = d->nlate > 0 ? mv->late.s : "";
	return 0;
}

/* Check the message's values and compute those of the placeholders. */
static int
mail_vals_init(struct mail_vals *mv, const struct mail_lang *l,
    const struct mail_message *m, char *err, size_t errlen)
{
	char		 dshort[256], hm[16];
	const char	*s;
	size_t		 k;
	int64_t		 end;
	int		 n;

	if (!mail_recert_kind(m->kind) && *mail_opt(m->title) == '\0') {
		mail_error(err, errlen, "title: must not be empty");
		return -1;
	}
	/* Limits well above the protocol's: these are a second line. */
	if (valid_text(mail_opt(m->title), LECTERN_TEXT_MAX * 4, 1, 0, "title",
	    err,
	    errlen) == -1 || valid_text(mail_opt(m->location),
	    LECTERN_TEXT_MAX * 4, 1, 0, "location", err, errlen) == -1 ||
	    valid_text(mail_opt(m->course), LECTERN_TEXT_MAX * 4, 1, 0,
	    "course", err, errlen) == -1 ||
	    valid_text(mail_opt(m->description), LECTERN_DESC_MAX * 4, 1, 1,
	    "description", err, errlen) == -1 ||
	    valid_text(mail_opt(m->reason), LECTERN_DESC_MAX, 1, 1, "reason",
	    err, errlen) == -1)
		return -1;
	if (*mail_opt(m->url) != '\0' && valid_url(m->url, "url", err,
	    errlen) == -1)
		return -1;
	if (m->tz == NULL || !tz_valid(m->tz)) {
		mail_error(err, errlen, "tz: unknown time zone");
		return -1;
	}
	if (m->duration < 0 || m->duration > LECTERN_DURATION_MAX) {
		mail_error(err, errlen, "duration: out of range");
		return -1;
	}
	if (mail_local(l, m->start_utc, m->tz, mv->date, sizeof mv->date,
	    mv->date_short, sizeof mv->date_short, mv->time, sizeof mv->time,
	    mv->tzname, sizeof mv->tzname) == -1) {
		mail_error(err, errlen, "start: cannot be shown in %s",
		    m->tz);
		return -1;
	}
	end = m->start_utc + (int64_t)m->duration * 60;
	if (mail_local(l, end, m->tz, NULL, 0, dshort, sizeof dshort, hm,
	    sizeof hm, NULL, 0) == -1) {
		mail_error(err, errlen, "end: cannot be shown in %s", m->tz);
		return -1;
	}
	/* Ending on another day: say which. */
	if (strcmp(dshort, mv->date_short) != 0)
		n = snprintf(mv->end_time, sizeof mv->end_time, "%s, %s",
		    dshort, hm);
	else
		n = snprintf(mv->end_time, sizeof mv->end_time, "%s", hm);
	if (n < 0 || (size_t)n >= sizeof mv->end_time) {
		mail_error(err, errlen, "end: date pattern too long");
		return -1;
	}
	if (m->duration > 0)
		mail_words(l, (int64_t)m->duration * 60, mv->duration,
		    sizeof mv->duration);
	if (m->waitlist_position > 0)
		snprintf(mv->position, sizeof mv->position, "%d",
		    m->waitlist_position);
	if (m->remind_before > 0)
		mail_words(l, m->remind_before, mv->starts_in,
		    sizeof mv->starts_in);
	mail_rrule_words(l, mail_opt(m->rrule), m->tz, mv->repeat,
	    sizeof mv->repeat);
	if (mail_lf(mail_opt(m->description), &mv->description) == -1 ||
	    mail_lf(mail_opt(m->reason), &mv->reason) == -1) {
		mail_error(err, errlen, "out of memory");
		return -1;
	}
	/* An unknown kind is shown as "other" (the last one if none is). */
	s = l->keys[MAIL_K_KIND + mail_nkinds - 1];
	for (k = 0; k < mail_nkinds; k++) {
		if (strcmp(mail_kinds[k], m->session_kind != NULL ?
		    m->session_kind : "other") == 0) {
			s = l->keys[MAIL_K_KIND + k];
			break;
		}
		if (strcmp(mail_kinds[k], "other") == 0)
			s = l->keys[MAIL_K_KIND + k];
	}
	mv->v[MAIL_PH_TITLE] = m->title;
	mv->v[MAIL_PH_KIND] = s;
	mv->v[MAIL_PH_DATE] = mv->date;
	mv->v[MAIL_PH_DATE_SHORT] = mv->date_short;
	mv->v[MAIL_PH_TIME] = mv->time;
	mv->v[MAIL_PH_END_TIME] = m->duration > 0 ? mv->end_time : "";
	mv->v[MAIL_PH_TZ] = m->tz;
	mv->v[MAIL_PH_TZNAME] = mv->tzname;
	mv->v[MAIL_PH_DURATION] = mv->duration;
	mv->v[MAIL_PH_URL] = mail_opt(m->url);
	mv->v[MAIL_PH_LOCATION] = mail_opt(m->location);
	mv->v[MAIL_PH_DESCRIPTION] = mv->description.s;
	mv->v[MAIL_PH_COURSE] = mail_opt(m->course);
	mv->v[MAIL_PH_REASON] = mv->reason.s;
	mv->v[MAIL_PH_NAME] = mail_opt(m->to_name);
	mv->v[MAIL_PH_ORGANIZER] = *mail_opt(m->from_name) != '\0' ?
	    m->from_name : m->from_addr;
	mv->v[MAIL_PH_POSITION] = mv->position;
	mv->v[MAIL_PH_REPEAT] = mv->repeat;
	mv->v[MAIL_PH_STARTS_IN] = mv->starts_in;
	if (valid_text(mail_opt(m->provider), LECTERN_TEXT_MAX * 4, 1, 0,
	    "provider", err, errlen) == -1 ||
	    mail_day(l, m->first_day, mv->first_day, sizeof mv->first_day,
	    "first_day", err, errlen) == -1 ||
	    mail_day(l, m->last_day, mv->last_day, sizeof mv->last_day,
	    "last_day", err, errlen) == -1)
		return -1;
	if (m->hours > 0)
		snprintf(mv->hours, sizeof mv->hours, "%" PRId64, m->hours);
	mv->v[MAIL_PH_FIRST_DAY] = mv->first_day;
	mv->v[MAIL_PH_LAST_DAY] = mv->last_day;
	mv->v[MAIL_PH_PROVIDER] = mail_opt(m->provider);
	mv->v[MAIL_PH_HOURS] = mv->hours;
	if (m->kind == MAIL_RECERT_NOTICE)
		return mail_notice_vals(mv, l, m, err, errlen);
	if (m->kind == MAIL_RECERT_DIGEST)
		return mail_digest_vals(mv, l, m->digest, err, errlen);
	return 0;
}

/*
 * The subject line from the template, trimmed (an empty placeholder at
 * either end leaves a blank there) and checked: the values were checked
 * before; this is the second line of defence.
 */
static int
mail_subject(const struct mail_tmpl *t, const struct mail_vals *mv,
    struct buf *subject, char *err, size_t errlen)
{
	size_t	 n;
	int	 nph, nempty;

	if (mail_subst(t->subject, strlen(t->subject), mail_ph_names,
	    MAIL_NPH, mv->v, subject, &nph, &nempty, err, errlen) == -1 ||
	    buf_get(subject) == NULL) {
		mail_error(err, errlen, "subject: cannot expand");
		return -1;
	}
	while (subject->len > 0 && (subject->s[subject->len - 1] == ' ' ||
	    subject->s[subject->len - 1] == '\t'))
		subject->s[--subject->len] = '\0';
	n = strspn(subject->s, " \t");
	memmove(subject->s, subject->s + n, subject->len - n + 1);
	subject->len -= n;
	return valid_text(subject->s, MAIL_SUBJECT_MAX, 0, 0, "subject", err,
	    errlen);
}

/*
 * The body from the template: a line whose placeholders were all empty is
 * dropped, runs of blank lines become one, none at the start or end.
 */
static int
mail_body(const struct mail_tmpl *t, const struct mail_vals *mv,
    struct buf *out)
{
	struct buf	 tmp = { 0 };
	const char	*line;
	size_t		 pos = 0, len, start;
	int		 nph, nempty, blank = 0, rc = -1;

	while (mail_next_line(t->body, &pos, &line, &len)) {
		start = tmp.len;
		if (mail_subst(line, len, mail_ph_names, MAIL_NPH, mv->v, &tmp,
		    &nph, &nempty, NULL, 0) == -1)
			goto fail;	/* checked at load */
		if (nph > 0 && nph == nempty) {
			tmp.len = start;
			continue;
		}
		buf_add(&tmp, "\n", 1);
	}
	if (buf_get(&tmp) == NULL)
		goto fail;
	pos = 0;
	while (mail_next_line(tmp.s, &pos, &line, &len)) {
		if (mail_is_blank(line, len)) {
			blank = out->len > 0;
			continue;
		}
		if (blank)
			buf_add(out, "\n", 1);
		blank = 0;
		buf_add(out, line, len);
		buf_add(out, "\n", 1);
	}
	rc = buf_get(out) == NULL ? -1 : 0;
fail:
	buf_free(&tmp);
	return rc;
}

static void
mail_html_esc(struct buf *b, const char *s, size_t n)
{
	size_t	i, j;

	for (i = 0; i < n; i = j + 1) {
		for (j = i; j < n && strchr("&<>\"'", s[j]) == NULL; j++)
			;
		buf_add(b, s + i, j - i);
		if (j == n)
			break;
		switch (s[j]) {
		case '&':
			buf_str(b, "&amp;");
			break;
		case '<':
			buf_str(b, "&lt;");
			break;
		case '>':
			buf_str(b, "&gt;");
			break;
		case '"':
			buf_str(b, "&quot;");
			break;
		default:
			buf_str(b, "&#39;");
			break;
		}
	}
}

/* One line of text as HTML, the join URL (already valid_url) as a link. */
static void
mail_html_line(struct buf *b, const char *s, size_t n, const char *url)
{
	size_t		 ulen = strlen(url), i = 0;
	const char	*hit;

	while (i < n) {
		hit = ulen > 0 ? memmem(s + i, n - i, url, ulen) : NULL;
		if (hit == NULL) {
			mail_html_esc(b, s + i, n - i);
			break;
		}
		mail_html_esc(b, s + i, hit - (s + i));
		buf_str(b, "<a href=\"");
		mail_html_esc(b, url, ulen);
		buf_str(b, "\">");
		mail_html_esc(b, url, ulen);
		buf_str(b, "</a>");
		i = hit - s + ulen;
	}
}

/*
 * Where a prepared HTML text leaves out a line that names the recipient:
 * at offset "at" of the HTML goes mail_html_line() of that text line.
 */
struct mail_cut {
	size_t	at;		/* in the HTML */
	size_t	off, len;	/* the line in the text */
};

struct mail_cuts {
	struct mail_cut	*v;
	size_t		 n, cap;
	int		 failed;
};

static void
mail_cuts_add(struct mail_cuts *c, size_t at, size_t off, size_t len)
{
	struct mail_cut	*nv;
	size_t		 cap;

	if (c->failed)
		return;
	if (c->n == c->cap) {
		cap = c->cap == 0 ? 4 : c->cap * 2;
		if ((nv = reallocarray(c->v, cap, sizeof *nv)) == NULL) {
			c->failed = 1;
			return;
		}
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n].at = at;
	c->v[c->n].off = off;
	c->v[c->n].len = len;
	c->n++;
}

/*
 * The HTML alternative of text: paragraphs at blank lines, <br> inside.
 * With cuts, a line holding MAIL_NAME_MARK is not written but noted in
 * cuts, to be written for each recipient.
 */
static int
mail_html_cut(const char *text, const char *subject, const char *lang,
    const char *url, struct buf *out, struct mail_cuts *cuts)
{
	const char	*line;
	size_t		 pos = 0, len;
	int		 in_p = 0;

	buf_str(out, "<!DOCTYPE html>\n<html lang=\"");
	mail_html_esc(out, lang, strlen(lang));
	buf_str(out, "\">\n<head>\n<meta charset=\"UTF-8\">\n<title>");
	mail_html_esc(out, subject, strlen(subject));
	buf_str(out, "</title>\n</head>\n<body>\n");
	while (mail_next_line(text, &pos, &line, &len)) {
		if (len == 0) {
			if (in_p)
				buf_str(out, "</p>\n");
			in_p = 0;
			continue;
		}
		buf_str(out, in_p ? "<br>\n" : "<p>");
		in_p = 1;
		if (cuts != NULL && memchr(line, MAIL_NAME_MARK, len) != NULL)
			mail_cuts_add(cuts, out->len, (size_t)(line - text),
			    len);
		else
			mail_html_line(out, line, len, url);
	}
	if (in_p)
		buf_str(out, "</p>\n");
	buf_str(out, "</body>\n</html>\n");
	return buf_get(out) == NULL ? -1 : 0;
}

/* The HTML alternative of text. */
static int
mail_html(const char *text, const char *subject, const char *lang,
    const char *url, struct buf *out)
{
	return mail_html_cut(text, subject, lang, url, out, NULL);
}

/* text with LF line ends as CR LF (text has no CR). */
static void
mail_crlf(const char *text, struct buf *out)
{
	const char	*nl;

	while ((nl = strchr(text, '\n')) != NULL) {
		buf_add(out, text, nl - text);
		buf_add(out, "\r\n", 2);
		text = nl + 1;
	}
	buf_str(out, text);
}

/*
 * Base64 of s[0..n); wrap > 0: lines of wrap characters (a multiple of 4)
 * ending in CR LF. None of the project's libraries offers base64 to its
 * users (libcurl keeps its own internal), hence these few lines. The
 * room is reserved once and the text written in place: this runs over
 * most octets of a Russian teacher's message.
 */
static void
mail_b64(struct buf *b, const unsigned char *s, size_t n, size_t wrap)
{
	const char	*c = mail_b64_chars;
	char		*o;
	size_t		 i, k = 0, g, groups;
	uint32_t	 v;

	/* Groups of 4 characters per line: wrap rounded up to whole groups. */
	g = ((wrap > 0 && wrap <= MAIL_B64_LINE ? wrap : MAIL_B64_LINE) +
	    3) / 4;
	groups = (n + 2) / 3;
	if (buf_reserve(b, groups * 4 + (groups / g + 1) * 2) == -1)
		return;
	o = b->s + b->len;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		o[0] = c[v >> 18];
		o[1] = c[(v >> 12) & 63];
		o[2] = c[(v >> 6) & 63];
		o[3] = c[v & 63];
		o += 4;
		if (++k == g) {
			if (wrap > 0) {
				*o++ = '\r';
				*o++ = '\n';
			}
			k = 0;
		}
	}
	if (i < n) {
		v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		o[0] = c[v >> 18];
		o[1] = c[(v >> 12) & 63];
		o[2] = i + 1 < n ? c[(v >> 6) & 63] : '=';
		o[3] = '=';
		o += 4;
		k++;
	}
	if (k > 0 && wrap > 0) {
		*o++ = '\r';
		*o++ = '\n';
	}
	b->len = (size_t)(o - b->s);
	*o = '\0';
}

/* 1 if none of s[0..n) has the high bit set. */
static int
mail_ascii(const char *s, size_t n)
{
	uint64_t	w, acc = 0;
	size_t		i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= (unsigned char)s[i];
	return (acc & UINT64_C(0x8080808080808080)) == 0;
}

/*
 * 1 if s[0..n) can go out as it is: ASCII, CR only before LF, LF only
 * after CR, lines of at most 998 octets.
 */
static int
mail_7bit(const char *s, size_t n)
{
	const char	*p = s, *end = s + n, *nl;
	size_t		 ll;

	if (!mail_ascii(s, n))
		return 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = (size_t)((nl != NULL ? nl : end) - p);
		if (nl != NULL) {
			if (ll == 0 || p[ll - 1] != '\r')
				return 0;
			ll--;
		}
		if (ll > MAIL_LINE_MAX || memchr(p, '\r', ll) != NULL)
			return 0;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 1;
}

/*
 * Encode one body part (canonical CRLF text): as it is ("7bit") when it is
 * ASCII with lines of at most 998 octets, otherwise base64. mail_encode
 * appends the encoded body to out and returns the encoding's name.
 */
static const char *
mail_encode(struct buf *out, const char *body, size_t n)
{
	if (mail_7bit(body, n)) {
		buf_add(out, body, n);
		if (out->len > 0 && out->s[out->len - 1] != '\n')
			buf_add(out, "\r\n", 2);
		return "7bit";
	}
	mail_b64(out, (const unsigned char *)body, n, MAIL_B64_LINE);
	return "base64";
}

static void
mail_part_encode(struct mail_part *p, const char *body)
{
	p->cte = mail_encode(&p->enc, body, strlen(body));
}

/* A header being written: the buffer and the current line's length. */
struct mail_hdr {
	struct buf	*b;
	size_t		 col;
	int		 empty;		/* nothing after the colon yet */
};

static void
mail_hdr_begin(struct mail_hdr *h, struct buf *b, const char *name)
{
	h->b = b;
	buf_str(b, name);
	buf_add(b, ":", 1);
	h->col = strlen(name) + 1;
	h->empty = 1;
}

/* A token after a space, on a new line if it would not fit. */
static void
mail_hdr_token(struct mail_hdr *h, const char *s, size_t n)
{
	if (h->col + 1 + n > MAIL_FOLD && !h->empty && h->col > 1) {
		buf_add(h->b, "\r\n", 2);
		h->col = 0;
	}
	buf_add(h->b, " ", 1);
	buf_add(h->b, s, n);
	h->col += 1 + n;
	h->empty = 0;
}

static void
mail_hdr_end(struct mail_hdr *h)
{
	buf_add(h->b, "\r\n", 2);
}

/* Octets of the UTF-8 character that starts with c. */
static size_t
mail_u8len(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/*
 * s as RFC 2047 "B" encoded-words, each at most 75 characters and as long
 * as the line has room for, never splitting a UTF-8 character (s is valid
 * UTF-8). Decoders drop the white space between adjacent encoded-words.
 */
static void
mail_hdr_encoded(struct mail_hdr *h, const char *s)
{
	struct buf	 w = { 0 };
	size_t		 n = strlen(s), i = 0, take, c, room, max;

	while (i < n) {
		room = h->col + 1 < MAIL_FOLD ? MAIL_FOLD - h->col - 1 : 0;
		if (room > MAIL_EW_MAX)
			room = MAIL_EW_MAX;
		max = room > MAIL_EW_OVERHEAD ?
		    (room - MAIL_EW_OVERHEAD) / 4 * 3 : 0;
		if (max < mail_u8len((unsigned char)s[i])) {
			/* No room for one more character: a new line. */
			buf_add(h->b, "\r\n", 2);
			h->col = 0;
			continue;
		}
		for (take = 0; i + take < n; take += c) {
			c = mail_u8len((unsigned char)s[i + take]);
			if (take + c > max)
				break;
		}
		w.len = 0;
		buf_str(&w, "=?UTF-8?B?");
		mail_b64(&w, (const unsigned char *)s + i, take, 0);
		buf_str(&w, "?=");
		if (w.failed)
			break;
		mail_hdr_token(h, w.s, w.len);
		i += take;
	}
	if (w.failed)
		h->b->failed = 1;
	buf_free(&w);
}

/*
 * Whether text can go into a header as it is: printable ASCII, nothing
 * that a decoder could take for an encoded-word, no leading, trailing or
 * doubled blanks, and short enough for one line.
 */
static int
mail_hdr_plain(const char *s, size_t room)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > room || s[0] == ' ' || s[n - 1] == ' ' ||
	    strstr(s, "=?") != NULL || strstr(s, "?=") != NULL ||
	    strstr(s, "  ") != NULL)
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	}
	return 1;
}

/* An unstructured header (Subject). */
static void
mail_hdr_text(struct buf *b, const char *name, const char *s)
{
	struct mail_hdr	h;

	mail_hdr_begin(&h, b, name);
	if (mail_hdr_plain(s, MAIL_FOLD - h.col - 1))
		mail_hdr_token(&h, s, strlen(s));
	else
		mail_hdr_encoded(&h, s);
	mail_hdr_end(&h);
}

/* An address header: "name <addr>", the name as atoms, quoted or encoded. */
static void
mail_hdr_addr(struct buf *b, const char *hname, const char *name,
    const char *addr)
{
	struct buf	 q = { 0 };
	struct mail_hdr	 h;
	char		 tmp[LECTERN_EMAIL_MAX + 3];
	size_t		 i;
	int		 atoms = 1, n;

	mail_hdr_begin(&h, b, hname);
	if (*name == '\0') {
		mail_hdr_token(&h, addr, strlen(addr));
		mail_hdr_end(&h);
		return;
	}
	if (mail_hdr_plain(name, MAIL_FOLD - h.col - 3)) {
		for (i = 0; name[i] != '\0'; i++) {
			if (strchr("()<>[]:;@\\,.\"", name[i]) != NULL)
				atoms = 0;
		}
		if (atoms)
			mail_hdr_token(&h, name, strlen(name));
		else {
			buf_add(&q, "\"", 1);
			for (i = 0; name[i] != '\0'; i++) {
				if (name[i] == '"' || name[i] == '\\')
					buf_add(&q, "\\", 1);
				buf_add(&q, name + i, 1);
			}
			buf_add(&q, "\"", 1);
			if (q.failed)
				b->failed = 1;
			else
				mail_hdr_token(&h, q.s, q.len);
		}
	} else
		mail_hdr_encoded(&h, name);
	n = snprintf(tmp, sizeof tmp, "<%s>", addr);
	if (n < 0 || (size_t)n >= sizeof tmp)
		b->failed = 1;		/* valid_email: addr <= 254 */
	else
		mail_hdr_token(&h, tmp, strlen(tmp));
	mail_hdr_end(&h);
	buf_free(&q);
}

/*
 * The value of the first property named name in an iCalendar text,
 * unfolded (the text after the first ':' outside quotes); count gets how
 * many there are. Returns 0, or -1 if there is none.
 */
static int
mail_ical_prop(const char *ical, const char *name, struct buf *value,
    int *count)
{
	const char	*s = ical, *p;
	size_t		 n = strlen(name);
	int		 quoted;

	*count = 0;
	for (; *s != '\0'; s = strchr(s, '\n') + 1) {
		if (strncasecmp(s, name, n) == 0 &&
		    (s[n] == ':' || s[n] == ';')) {
			if ((*count)++ == 0) {
				/* Unfold the logical line into value. */
				value->len = 0;
				for (p = s; *p != '\0'; p++) {
					if (p[0] == '\r' && p[1] == '\n' &&
					    (p[2] == ' ' || p[2] == '\t'))
						p += 2;
					else if (*p == '\r')
						break;
					else
						buf_add(value, p, 1);
				}
			}
		}
		if (strchr(s, '\n') == NULL)
			break;
	}
	if (*count == 0 || buf_get(value) == NULL)
		return -1;
	quoted = 0;
	for (p = value->s; *p != '\0'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == ':' && !quoted)
			break;
	}
	if (*p == '\0')
		return -1;
	p++;
	memmove(value->s, p, strlen(p) + 1);
	value->len = strlen(value->s);
	return 0;
}

/* A "mailto:" value names addr (case-insensitively). */
static int
mail_ical_is(const char *value, const char *addr)
{
	return strncasecmp(value, "mailto:", 7) == 0 &&
	    strcasecmp(value + 7, addr) == 0;
}

/*
 * Check the calendar part against the message: CRLF text, one METHOD
 * equal to method, exactly one ATTENDEE who is the recipient (no other
 * teacher's address may leave in someone else's mail), the ORGANIZER the
 * sender.
 */
static int
mail_ical_check(const struct mail_message *m, const char *method, char *err,
    size_t errlen)
{
	struct buf	 v = { 0 };
	const char	*s, *ev, *next;
	int		 count, rc = -1;

	if (m->ical_method == NULL || strcmp(m->ical_method, method) != 0) {
		mail_error(err, errlen, "calendar: method must be %s for this "
		    "message", method);
		return -1;
	}
	if (valid_utf8(m->ical, strlen(m->ical)) == -1 ||
	    strncmp(m->ical, "BEGIN:VCALENDAR\r\n", 17) != 0) {
		mail_error(err, errlen, "calendar: not an iCalendar text");
		return -1;
	}
	for (s = m->ical; *s != '\0'; s++) {
		if ((*s == '\r' && s[1] != '\n') ||
		    (*s == '\n' && (s == m->ical || s[-1] != '\r')) ||
		    ((unsigned char)*s < 0x20 && *s != '\r' && *s != '\n' &&
		    *s != '\t') || *s == 0x7f) {
			mail_error(err, errlen, "calendar: bare CR or LF, or "
			    "a control character");
			return -1;
		}
	}
	if (s[-1] != '\n') {
		mail_error(err, errlen, "calendar: does not end with CRLF");
		return -1;
	}
	if (mail_ical_prop(m->ical, "METHOD", &v, &count) == -1 ||
	    count != 1 || strcmp(v.s, method) != 0) {
		mail_error(err, errlen, "calendar: METHOD must appear once "
		    "and be %s", method);
		goto fail;
	}
	ev = strstr(m->ical, "\r\nBEGIN:VEVENT\r\n");
	if (ev == NULL || strstr(m->ical, "\r\nMETHOD:") > ev) {
		mail_error(err, errlen, "calendar: METHOD must be at "
		    "VCALENDAR level");
		goto fail;
	}
	/*
	 * Every VEVENT (a series may carry its changed occurrences) has
	 * exactly one ATTENDEE, the recipient, and the sender as ORGANIZER.
	 */
	for (; ev != NULL; ev = next) {
		char	*one;

		next = strstr(ev + 2, "\r\nBEGIN:VEVENT\r\n");
		if ((one = next != NULL ? strndup(ev, (size_t)(next - ev)) :
		    strdup(ev)) == NULL) {
			mail_error(err, errlen, "out of memory");
			goto fail;
		}
		if (mail_ical_prop(one, "ATTENDEE", &v, &count) == -1 ||
		    count != 1 || !mail_ical_is(v.s, m->to_addr)) {
			free(one);
			mail_error(err, errlen, "calendar: must have exactly "
			    "one ATTENDEE, the recipient");
			goto fail;
		}
		if (mail_ical_prop(one, "ORGANIZER", &v, &count) == -1 ||
		    count != 1 || !mail_ical_is(v.s, m->from_addr)) {
			free(one);
			mail_error(err, errlen, "calendar: the ORGANIZER must "
			    "be the sender");
			goto fail;
		}
		free(one);
	}
	rc = 0;
fail:
	buf_free(&v);
	return rc;
}

/* 128 random bits as hex. */
static int
mail_random_hex(char *hex, size_t len)
{
	unsigned char	 r[MAIL_ID_BYTES];
	size_t		 got = 0, i;
	ssize_t		 n;

	if (len < 2 * MAIL_ID_BYTES + 1)
		return -1;
	while (got < sizeof r) {
		n = getrandom(r + got, sizeof r - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += n;
	}
	for (i = 0; i < sizeof r; i++) {
		hex[2 * i] = mail_hex_digits[r[i] >> 4];
		hex[2 * i + 1] = mail_hex_digits[r[i] & 15];
	}
	hex[2 * sizeof r] = '\0';
	return 0;
}

/*
 * A boundary that occurs in none of the encoded parts: derived from the
 * Message-ID with a counter of fixed width (so that no boundary is a
 * prefix of another).
 */
static int
mail_boundary(const char *hex, unsigned *counter, struct mail_part *parts,
    size_t nparts, char *out, size_t len)
{
	size_t	i;

	for (; *counter < 1000; (*counter)++) {
		snprintf(out, len, MAIL_BOUNDARY_PFX "%.16s_%03u", hex,
		    *counter);
		for (i = 0; i < nparts; i++) {
			if (!parts[i].clean && strstr(parts[i].text != NULL ?
			    parts[i].text : parts[i].enc.s, out) != NULL)
				break;
		}
		if (i == nparts) {
			(*counter)++;
			return 0;
		}
	}
	return -1;
}

static void
mail_part_write(struct buf *b, const char *boundary,
    const struct mail_part *p)
{
	buf_add(b, "--", 2);
	buf_str(b, boundary);
	buf_str(b, "\r\nContent-Type: ");
	buf_str(b, p->type);
	buf_str(b, "\r\n");
	buf_str(b, p->extra);
	buf_str(b, "Content-Transfer-Encoding: ");
	buf_str(b, p->cte);
	buf_add(b, "\r\n\r\n", 4);
	if (p->text != NULL)
		buf_add(b, p->text, p->len);
	else
		buf_add(b, p->enc.s, p->enc.len);
}

/*
 * The last line of defence: CR only before LF, LF only after CR, no line
 * over 998 octets, header lines printable ASCII (continuations start with
 * a blank), a blank line after the headers.
 */
static int
mail_lint(const char *msg, size_t len)
{
	const char	*p = msg, *end = msg + len, *cr;
	size_t		 n, i;
	int		 in_hdr = 1;

	/* Line by line with memchr: this runs over every octet sent. */
	if (memchr(msg, '\0', len) != NULL)
		return -1;
	while (p < end) {
		if ((cr = memchr(p, '\r', (size_t)(end - p))) == NULL ||
		    cr + 1 == end || cr[1] != '\n')
			return -1;
		n = (size_t)(cr - p);
		if (n > MAIL_LINE_MAX || memchr(p, '\n', n) != NULL)
			return -1;
		if (in_hdr && n == 0) {
			if (p == msg)
				return -1;
			in_hdr = 0;
		}
		for (i = 0; in_hdr && i < n; i++) {
			if (((unsigned char)p[i] < 0x20 ||
			    (unsigned char)p[i] > 0x7e) && p[i] != '\t')
				return -1;
		}
		p = cr + 2;
	}
	return in_hdr ? -1 : 0;
}

/* "Date: ..." for date (UTC seconds); -1 if it cannot be written. */
static int
mail_hdr_date(struct buf *b, int64_t date)
{
	struct tm	tm;
	time_t		tt = (time_t)date;
	char		line[64];

	if (gmtime_r(&tt, &tm) == NULL)
		return -1;
	snprintf(line, sizeof line, "Date: %s, %02d %s %04d %02d:%02d:%02d "
	    "+0000\r\n", mail_rfc_days[tm.tm_wday], tm.tm_mday,
	    mail_rfc_months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	buf_str(b, line);
	return 0;
}

/*
 * The rest of a message whose headers down to Subject are in msg: a fresh
 * Message-ID on domain, the MIME structure around parts (text, html and,
 * with 4 parts, the calendar inline and attached), then the lint. Returns
 * 0 with the whole message in msg and its Message-ID (malloc'd, without
 * <>) in *id, or -1 with err.
 */
static int
mail_finish(struct buf *msg, const char *domain, struct mail_part *parts,
    size_t nparts, char **id, char *err, size_t errlen)
{
	char		 hex[2 * MAIL_ID_BYTES + 1], bmix[64], balt[64];
	char		 idbuf[2 * MAIL_ID_BYTES + LECTERN_EMAIL_MAX + 8];
	size_t		 i, nalt = nparts == 4 ? 3 : 2;
	unsigned	 counter = 0;
	int		 n;

	*id = NULL;
	if (mail_random_hex(hex, sizeof hex) == -1) {
		mail_error(err, errlen, "mail: no random bytes for a "
		    "Message-ID");
		return -1;
	}
	n = snprintf(idbuf, sizeof idbuf, "%s@%s", hex, domain);
	if (n < 0 || (size_t)n >= sizeof idbuf || (*id = strdup(idbuf)) ==
	    NULL) {
		mail_error(err, errlen, "out of memory");
		return -1;
	}
	if (mail_boundary(hex, &counter, parts, nparts, bmix,
	    sizeof bmix) == -1 || mail_boundary(hex, &counter, parts, nparts,
	    balt, sizeof balt) == -1) {
		mail_error(err, errlen, "mail: no usable MIME boundary");
		goto fail;
	}
	buf_str(msg, "Message-ID: <");
	buf_str(msg, *id);
	buf_str(msg, ">\r\nMIME-Version: 1.0\r\n"
	    "Auto-Submitted: auto-generated\r\n");

	/* The body. */
	if (nparts == 4) {
		buf_str(msg, "Content-Type: multipart/mixed;\r\n"
		    " boundary=\"");
		buf_str(msg, bmix);
		buf_str(msg, "\"\r\n\r\n--");
		buf_str(msg, bmix);
		buf_str(msg, "\r\nContent-Type: multipart/alternative;\r\n"
		    " boundary=\"");
	} else
		buf_str(msg, "Content-Type: multipart/alternative;\r\n"
		    " boundary=\"");
	buf_str(msg, balt);
	buf_str(msg, "\"\r\n\r\n");
	for (i = 0; i < nalt; i++) {
		mail_part_write(msg, balt, &parts[i]);
		buf_add(msg, "\r\n", 2);
	}
	buf_add(msg, "--", 2);
	buf_str(msg, balt);
	buf_add(msg, "--\r\n", 4);
	if (nparts == 4) {
		mail_part_write(msg, bmix, &parts[nalt]);
		buf_add(msg, "\r\n--", 4);
		buf_str(msg, bmix);
		buf_add(msg, "--\r\n", 4);
	}
	if (buf_get(msg) == NULL) {
		mail_error(err, errlen, "out of memory");
		goto fail;
	}
	if (mail_lint(msg->s, msg->len) == -1) {
		mail_error(err, errlen, "mail: internal error: the message "
		    "is not well-formed");
		goto fail;
	}
	return 0;
fail:
	free(*id);
	*id = NULL;
	return -1;
}

/* Render m as a whole message; see mail.h. */
char *
mail_render(const struct mail_message *m, size_t *len, char **message_id,
    char *err, size_t errlen)
{
	struct mail_part	 parts[4];
	struct mail_vals	 mv;
	struct buf		 subject = { 0 }, text = { 0 }, html = { 0 };
	struct buf		 tmp = { 0 }, msg = { 0 };
	const struct mail_lang	*l;
	const char		*method = NULL, *from_name, *to_name;
	char			 why[256], domain_addr[LECTERN_EMAIL_MAX + 8];
	char			 ctype[128], *id = NULL, *out = NULL;
	size_t			 i, nparts = 0;
	int			 n;

	memset(parts, 0, sizeof parts);
	mail_vals_zero(&mv);
	if (len != NULL)
		*len = 0;
	if (message_id != NULL)
		*message_id = NULL;
	if (m == NULL || len == NULL || message_id == NULL) {
		mail_error(err, errlen, "mail: no message");
		return NULL;
	}
	if (mail_templates == NULL) {
		mail_error(err, errlen, "mail: templates are not loaded");
		return NULL;
	}
	if ((unsigned)m->kind >= MAIL_NTMPL) {
		mail_error(err, errlen, "mail: unknown kind of message");
		return NULL;
	}
	l = mail_lang_find(m->lang);

	/* Addresses, names and the domain: refused, never repaired. */
	if (m->from_addr == NULL || m->to_addr == NULL) {
		mail_error(err, errlen, "mail: no address");
		return NULL;
	}
	if (valid_email(m->from_addr, "from", err, errlen) == -1 ||
	    valid_email(m->to_addr, "to", err, errlen) == -1)
		return NULL;
	n = snprintf(domain_addr, sizeof domain_addr, "x@%s",
	    m->domain != NULL ? m->domain : "");
	if (n < 0 || (size_t)n >= sizeof domain_addr || valid_email(
	    domain_addr, "domain", why, sizeof why) == -1) {
		mail_error(err, errlen, "domain: not a valid domain name");
		return NULL;
	}
	from_name = m->from_name != NULL ? m->from_name : "";
	to_name = m->to_name != NULL ? m->to_name : "";
	if (valid_text(from_name, MAIL_NAME_MAX, 1, 0, "from name", err,
	    errlen) == -1 || valid_text(to_name, MAIL_NAME_MAX, 1, 0,
	    "to name", err, errlen) == -1)
		return NULL;
	if (m->date < 0 || m->date > INT64_C(253402300799)) {
		mail_error(err, errlen, "date: out of range");
		return NULL;
	}
	method = mail_method(m->kind);
	if (method != NULL && m->ical == NULL) {
		mail_error(err, errlen, "calendar: this message needs one");
		return NULL;
	}
	if (method != NULL && mail_ical_check(m, method, err, errlen) == -1)
		return NULL;

	/* The text. */
	if (mail_vals_init(&mv, l, m, err, errlen) == -1)
		goto fail;
	if (mail_subject(&l->tmpl[m->kind], &mv, &subject, err, errlen) == -1)
		goto fail;
	if (mail_body(&l->tmpl[m->kind], &mv, &text) == -1 ||
	    mail_html(text.s, subject.s, l->tag, mv.v[MAIL_PH_URL],
	    &html) == -1) {
		mail_error(err, errlen, "out of memory");
		goto fail;
	}

	/* The parts. */
	mail_crlf(text.s, &tmp);
	if (buf_get(&tmp) == NULL) {
		mail_error(err, errlen, "out of memory");
		goto fail;
	}
	parts[nparts].type = "text/plain; charset=UTF-8";
	parts[nparts].extra = "";
	mail_part_encode(&parts[nparts++], tmp.s);
	tmp.len = 0;
	mail_crlf(html.s, &tmp);
	if (buf_get(&tmp) == NULL) {
		mail_error(err, errlen, "out of memory");
		goto fail;
	}
	parts[nparts].type = "text/html; charset=UTF-8";
	parts[nparts].extra = "";
	mail_part_encode(&parts[nparts++], tmp.s);
	if (method != NULL) {
		snprintf(ctype, sizeof ctype,
		    "text/calendar; method=%s; charset=UTF-8", method);
		parts[nparts].type = ctype;
		parts[nparts].extra = "";
		mail_part_encode(&parts[nparts++], m->ical);
		parts[nparts].type = "application/ics; name=\"invite.ics\"";
		parts[nparts].extra = "Content-Disposition: attachment; "
		    "filename=\"invite.ics\"\r\n";
		mail_part_encode(&parts[nparts++], m->ical);
	}
	for (i = 0; i < nparts; i++) {
		if (buf_get(&parts[i].enc) == NULL) {
			mail_error(err, errlen, "out of memory");
			goto fail;
		}
	}

	/* The headers. */
	if (mail_hdr_date(&msg, m->date) == -1) {
		mail_error(err, errlen, "date: out of range");
		goto fail;
	}
	mail_hdr_addr(&msg, "From", from_name, m->from_addr);
	mail_hdr_addr(&msg, "To", to_name, m->to_addr);
	mail_hdr_text(&msg, "Subject", subject.s);
	if (mail_finish(&msg, m->domain, parts, nparts, &id, err,
	    errlen) == -1)
		goto fail;
	out = msg.s;
	*len = msg.len;
	msg.s = NULL;
	*message_id = id;
	id = NULL;
fail:
	mail_vals_cleanup(&mv);
	for (i = 0; i < MAIL_N(parts); i++)
		buf_free(&parts[i].enc);
	buf_free(&subject);
	buf_free(&text);
	buf_free(&html);
	buf_free(&tmp);
	buf_free(&msg);
	free(id);
	return out;
}

/*
 * Prepared messages: one session, one kind of message, one language,
 * many recipients (an enroll of a whole district). What does not depend
 * on the recipient is rendered once by mail_prep_new -- the words and
 * their local times, the subject header, the text and HTML parts encoded,
 * the calendar around its ATTENDEE line -- and mail_prep_render writes
 * one recipient's message from those pieces: To, the name in the
 * greeting (and its HTML line), the ATTENDEE line, Message-ID and
 * boundaries. The result is the octets mail_render gives for the same
 * values (tests/unit/test_mail.c compares both); whatever does not fit
 * the pieces (a name in the subject, a calendar that is not the prepared
 * one with another ATTENDEE line, a value mail_render would refuse) is
 * handed to mail_render whole.
 */
struct mail_prep {
	struct mail_message	 m;	/* strings borrowed; to_* and ical unused */
	int			 whole;	/* every message through mail_render */
	const char		*method;	/* NULL: no calendar */
	char			 ctype[128];
	const char		*url;	/* links in the HTML */
	struct buf		 top;	/* "Date: ..." and "From: ..." */
	struct buf		 subject;	/* "Subject: ..." */
	/* Text and HTML for a recipient without a name, encoded. */
	struct mail_part	 anon[2];
	/*
	 * For one with a name: the CRLF text with MAIL_NAME_MARK for it and
	 * the CRLF HTML without the lines that hold it (cuts: where they go,
	 * their text in lines). Unused when named_as_anon (no {name}).
	 */
	int			 named_as_anon;
	struct buf		 text, html, lines;
	struct mail_cuts	 cuts;
	/* The calendar: head, the recipient's ATTENDEE line, tail. */
	struct buf		 head, tail;
	int			 head_7bit, tail_7bit, head_clean, tail_clean;
	struct buf		 head_b64;	/* base64 of head[0..nb64) */
	size_t			 nb64;
	/* Per message, kept to spare the allocator. */
	struct buf		 s_text, s_html, s_line, s_enc[3], s_val;
};

/* Mark p as clean if its encoded text holds no boundary prefix. */
static void
mail_part_clean(struct mail_part *p)
{
	const char	*s = p->text != NULL ? p->text : p->enc.s;
	size_t		 n = p->text != NULL ? p->len : p->enc.len;

	p->clean = strcmp(p->cte, "base64") == 0 || memmem(s, n,
	    MAIL_BOUNDARY_PFX, sizeof MAIL_BOUNDARY_PFX - 1) == NULL;
}

/* Append s with every MAIL_NAME_MARK replaced by name. */
static void
mail_unmark(struct buf *out, const char *s, size_t n, const char *name)
{
	const char	*mark, *end = s + n;
	size_t		 nl = strlen(name);

	while ((mark = memchr(s, MAIL_NAME_MARK, (size_t)(end - s))) != NULL) {
		buf_add(out, s, (size_t)(mark - s));
		buf_add(out, name, nl);
		s = mark + 1;
	}
	buf_add(out, s, (size_t)(end - s));
}

/*
 * Split the checked calendar of m around its one ATTENDEE line (found as
 * mail_ical_prop finds it: at a line start, any case, then ';' or ':').
 */
static int
mail_prep_ical(struct mail_prep *p, const char *ical)
{
	const char	*s = ical, *a = NULL, *e;
	size_t		 n = strlen(ical);

	for (;;) {
		if (strncasecmp(s, "ATTENDEE", 8) == 0 &&
		    (s[8] == ';' || s[8] == ':')) {
			a = s;
			break;
		}
		if ((s = strchr(s, '\n')) == NULL)
			return -1;
		s++;
	}
	/* Its logical line ends at a CRLF not followed by a blank. */
	for (e = a; (e = strstr(e, "\r\n")) != NULL; e += 2) {
		if (e[2] != ' ' && e[2] != '\t')
			break;
	}
	if (e == NULL)
		return -1;
	e += 2;
	buf_add(&p->head, ical, (size_t)(a - ical));
	buf_add(&p->tail, e, n - (size_t)(e - ical));
	if (buf_get(&p->head) == NULL || buf_get(&p->tail) == NULL)
		return -1;
	p->head_7bit = mail_7bit(p->head.s, p->head.len);
	p->tail_7bit = mail_7bit(p->tail.s, p->tail.len);
	p->head_clean = memmem(p->head.s, p->head.len, MAIL_BOUNDARY_PFX,
	    sizeof MAIL_BOUNDARY_PFX - 1) == NULL;
	p->tail_clean = memmem(p->tail.s, p->tail.len, MAIL_BOUNDARY_PFX,
	    sizeof MAIL_BOUNDARY_PFX - 1) == NULL;
	/* Whole base64 lines of the head: 57 octets each. */
	p->nb64 = p->head.len / (MAIL_B64_LINE / 4 * 3) *
	    (MAIL_B64_LINE / 4 * 3);
	mail_b64(&p->head_b64, (const unsigned char *)p->head.s, p->nb64,
	    MAIL_B64_LINE);
	return buf_get(&p->head_b64) == NULL ? -1 : 0;
}

/* The text and HTML parts of text (LF) as CRLF, encoded, into parts[0..2). */
static int
mail_prep_parts(struct mail_prep *p, const char *text, const char *subject,
    const char *tag, struct mail_part *parts)
{
	struct buf	 html = { 0 }, tmp = { 0 };
	int		 rc = -1;

	if (mail_html(text, subject, tag, p->url, &html) == -1)
		goto fail;
	mail_crlf(text, &tmp);
	if (buf_get(&tmp) == NULL)
		goto fail;
	parts[0].type = "text/plain; charset=UTF-8";
	parts[0].extra = "";
	mail_part_encode(&parts[0], tmp.s);
	tmp.len = 0;
	mail_crlf(html.s, &tmp);
	if (buf_get(&tmp) == NULL)
		goto fail;
	parts[1].type = "text/html; charset=UTF-8";
	parts[1].extra = "";
	mail_part_encode(&parts[1], tmp.s);
	if (buf_get(&parts[0].enc) == NULL || buf_get(&parts[1].enc) == NULL)
		goto fail;
	mail_part_clean(&parts[0]);
	mail_part_clean(&parts[1]);
	rc = 0;
fail:
	buf_free(&html);
	buf_free(&tmp);
	return rc;
}

/*
 * The named variant: text (LF, with MAIL_NAME_MARK) as CRLF, and its HTML
 * as CRLF pieces around the cut lines.
 */
static int
mail_prep_named(struct mail_prep *p, const char *text, const char *subject,
    const char *tag)
{
	struct buf	 html = { 0 };
	size_t		 i, from = 0;
	int		 rc = -1;

	mail_crlf(text, &p->text);
	if (mail_html_cut(text, subject, tag, p->url, &html, &p->cuts) == -1 ||
	    p->cuts.failed)
		goto fail;
	/* The HTML has LF only: convert piece by piece, moving the cuts. */
	for (i = 0; i < p->cuts.n; i++) {
		struct mail_cut	*c = &p->cuts.v[i];
		char		 save = html.s[c->at];

		html.s[c->at] = '\0';
		mail_crlf(html.s + from, &p->html);
		html.s[c->at] = save;
		from = c->at;
		c->at = p->html.len;
		/* The line itself, kept in lines (text is not). */
		buf_add(&p->lines, "", 0);
		buf_add(&p->lines, text + c->off, c->len);
		c->off = p->lines.len - c->len;
	}
	mail_crlf(html.s + from, &p->html);
	if (buf_get(&p->text) != NULL && buf_get(&p->html) != NULL &&
	    buf_get(&p->lines) != NULL)
		rc = 0;
fail:
	buf_free(&html);
	return rc;
}

/* Prepare m for many recipients; see mail.h. */
struct mail_prep *
mail_prep_new(const struct mail_message *m, char *err, size_t errlen)
{
	static const char	 mark[2] = { MAIL_NAME_MARK, '\0' };
	struct mail_prep	*p;
	struct mail_vals	 mv;
	struct buf		 subject = { 0 }, text = { 0 };
	const struct mail_lang	*l;
	const struct mail_tmpl	*t;
	const char		*method = NULL, *from_name;
	char			 why[256], domain_addr[LECTERN_EMAIL_MAX + 8];
	int			 n, ok = 0;

	if (m == NULL) {
		mail_error(err, errlen, "mail: no message");
		return NULL;
	}
	if (mail_templates == NULL) {
		mail_error(err, errlen, "mail: templates are not loaded");
		return NULL;
	}
	if ((unsigned)m->kind >= MAIL_NTMPL) {
		mail_error(err, errlen, "mail: unknown kind of message");
		return NULL;
	}
	if ((p = calloc(1, sizeof *p)) == NULL) {
		mail_error(err, errlen, "out of memory");
		return NULL;
	}
	mail_vals_zero(&mv);
	p->m = *m;
	l = mail_lang_find(m->lang);
	t = &l->tmpl[m->kind];

	/* mail_render's checks of everything but the recipient. */
	if (m->from_addr == NULL) {
		mail_error(err, errlen, "mail: no address");
		goto fail;
	}
	if (valid_email(m->from_addr, "from", err, errlen) == -1)
		goto fail;
	n = snprintf(domain_addr, sizeof domain_addr, "x@%s",
	    m->domain != NULL ? m->domain : "");
	if (n < 0 || (size_t)n >= sizeof domain_addr || valid_email(
	    domain_addr, "domain", why, sizeof why) == -1) {
		mail_error(err, errlen, "domain: not a valid domain name");
		goto fail;
	}
	from_name = m->from_name != NULL ? m->from_name : "";
	if (valid_text(from_name, MAIL_NAME_MAX, 1, 0, "from name", err,
	    errlen) == -1)
		goto fail;
	if (m->date < 0 || m->date > INT64_C(253402300799)) {
		mail_error(err, errlen, "date: out of range");
		goto fail;
	}
	method = mail_method(m->kind);
	if (method != NULL) {
		/* The calendar as prepared, for the placeholder m->to_addr. */
		if (m->ical == NULL || m->to_addr == NULL) {
			mail_error(err, errlen, "calendar: this message needs "
			    "one");
			goto fail;
		}
		if (valid_email(m->to_addr, "to", err, errlen) == -1 ||
		    mail_ical_check(m, method, err, errlen) == -1)
			goto fail;
		if (mail_prep_ical(p, m->ical) == -1) {
			mail_error(err, errlen, "calendar: cannot prepare");
			goto fail;
		}
		p->method = method;
		snprintf(p->ctype, sizeof p->ctype,
		    "text/calendar; method=%s; charset=UTF-8", method);
	}
	/* A subject that names the recipient: each message whole. */
	if (memmem(t->subject, strlen(t->subject), "{name}", 6) != NULL) {
		p->whole = 1;
		return p;
	}

	/* The words, the subject, the From and Date headers. */
	if (mail_vals_init(&mv, l, m, err, errlen) == -1)
		goto fail;
	mv.v[MAIL_PH_NAME] = "";
	if (mail_subject(t, &mv, &subject, err, errlen) == -1)
		goto fail;
	mail_hdr_text(&p->subject, "Subject", subject.s);
	if (mail_hdr_date(&p->top, m->date) == -1) {
		mail_error(err, errlen, "date: out of range");
		goto fail;
	}
	mail_hdr_addr(&p->top, "From", from_name, m->from_addr);
	p->url = mv.v[MAIL_PH_URL];

	/* The body for "no name", then with the mark for a name. */
	if (mail_body(t, &mv, &text) == -1 ||
	    mail_prep_parts(p, text.s, subject.s, l->tag, p->anon) == -1)
		goto oom;
	buf_free(&text);
	mv.v[MAIL_PH_NAME] = mark;
	if (mail_body(t, &mv, &text) == -1)
		goto oom;
	if (memchr(text.s, MAIL_NAME_MARK, text.len) == NULL)
		p->named_as_anon = 1;
	else if (mail_prep_named(p, text.s, subject.s, l->tag) == -1)
		goto oom;
	if (buf_get(&p->top) == NULL || buf_get(&p->subject) == NULL)
		goto oom;
	ok = 1;
	goto fail;
oom:
	mail_error(err, errlen, "out of memory");
fail:
	mail_vals_cleanup(&mv);
	buf_free(&subject);
	buf_free(&text);
	if (!ok) {
		mail_prep_free(p);
		return NULL;
	}
	return p;
}

/*
 * Check that a (n octets, from a calendar that is the prepared one around
 * it) is one ATTENDEE line for addr, as mail_ical_check() would find it in
 * the whole calendar: CRLF only, no control character, UTF-8, one logical
 * line (so that it brings no other property), the value mailto:addr.
 */
static int
mail_prep_attendee(struct mail_prep *p, const char *a, size_t n,
    const char *addr)
{
	const char	*s, *cr, *end;
	size_t		 i;
	int		 quoted = 0;

	if (n < 11 || strncasecmp(a, "ATTENDEE", 8) != 0 ||
	    (a[8] != ';' && a[8] != ':') || a[n - 2] != '\r' ||
	    a[n - 1] != '\n')
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];

		if (c == '\r') {
			if (i + 1 == n || a[i + 1] != '\n')
				return -1;
		} else if (c == '\n') {
			if (a[i - 1] != '\r' || (i + 1 < n && a[i + 1] != ' ' &&
			    a[i + 1] != '\t'))
				return -1;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}
	if (valid_utf8(a, n) == -1)
		return -1;
	/* Unfolded, as mail_ical_prop() reads it, then the value. */
	p->s_val.len = 0;
	for (s = a, end = a + n - 2; (cr = memchr(s, '\r',
	    (size_t)(end - s))) != NULL; s = cr + 3)
		buf_add(&p->s_val, s, (size_t)(cr - s));
	buf_add(&p->s_val, s, (size_t)(end - s));
	if (buf_get(&p->s_val) == NULL)
		return -1;
	for (s = p->s_val.s; *s != '\0'; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == ':' && !quoted)
			break;
	}
	return *s == ':' && mail_ical_is(s + 1, addr) ? 0 : -1;
}

/* The text and HTML parts for a recipient called name (not ""). */
static int
mail_prep_text(struct mail_prep *p, const char *name,
    struct mail_part *parts)
{
	const struct mail_cut	*c;
	const struct buf	*src;
	size_t			 i, from = 0;

	p->s_text.len = 0;
	mail_unmark(&p->s_text, p->text.s, p->text.len, name);
	p->s_html.len = 0;
	for (i = 0; i < p->cuts.n; i++) {
		c = &p->cuts.v[i];
		buf_add(&p->s_html, p->html.s + from, c->at - from);
		p->s_line.len = 0;
		mail_unmark(&p->s_line, p->lines.s + c->off, c->len, name);
		if (buf_get(&p->s_line) == NULL)
			return -1;
		mail_html_line(&p->s_html, p->s_line.s, p->s_line.len, p->url);
		from = c->at;
	}
	buf_add(&p->s_html, p->html.s + from, p->html.len - from);
	if (buf_get(&p->s_text) == NULL || buf_get(&p->s_html) == NULL)
		return -1;
	for (i = 0; i < 2; i++) {
		src = i == 0 ? &p->s_text : &p->s_html;
		parts[i].type = p->anon[i].type;
		parts[i].extra = "";
		/* Text that goes as it is is not copied once more. */
		if (src->len > 0 && src->s[src->len - 1] == '\n' &&
		    mail_7bit(src->s, src->len)) {
			parts[i].cte = "7bit";
			parts[i].text = src->s;
			parts[i].len = src->len;
		} else {
			p->s_enc[i].len = 0;
			parts[i].cte = mail_encode(&p->s_enc[i], src->s,
			    src->len);
			if (buf_get(&p->s_enc[i]) == NULL)
				return -1;
			parts[i].text = p->s_enc[i].s;
			parts[i].len = p->s_enc[i].len;
		}
		mail_part_clean(&parts[i]);
	}
	return 0;
}

/* One recipient's message from p; see mail.h. */
char *
mail_prep_render(struct mail_prep *p, const char *to_name,
    const char *to_addr, const char *ical, size_t *len, char **message_id,
    char *err, size_t errlen)
{
	struct mail_message	 mm;
	struct mail_part	 parts[4];
	struct buf		 msg = { 0 };
	const char		*name, *a;
	char			*id = NULL;
	size_t			 i, n, alen, nparts = 2, size;

	if (len != NULL)
		*len = 0;
	if (message_id != NULL)
		*message_id = NULL;
	if (p == NULL || len == NULL || message_id == NULL) {
		mail_error(err, errlen, "mail: no message");
		return NULL;
	}
	if (p->whole)
		goto whole;
	/* A value mail_render would refuse: let it say why. */
	if (to_addr == NULL || valid_email(to_addr, "to", NULL, 0) == -1 ||
	    valid_text(to_name != NULL ? to_name : "", MAIL_NAME_MAX, 1, 0,
	    "to name", NULL, 0) == -1)
		goto whole;
	memset(parts, 0, sizeof parts);

	/* The calendar: the prepared head and tail around an ATTENDEE. */
	if (p->method != NULL) {
		n = ical != NULL ? strlen(ical) : 0;
		if (n < p->head.len + p->tail.len ||
		    memcmp(ical, p->head.s, p->head.len) != 0 ||
		    memcmp(ical + n - p->tail.len, p->tail.s, p->tail.len) != 0)
			goto whole;
		a = ical + p->head.len;
		alen = n - p->head.len - p->tail.len;
		if (mail_prep_attendee(p, a, alen, to_addr) == -1)
			goto whole;
		parts[2].type = p->ctype;
		parts[2].extra = "";
		if (p->head_7bit && p->tail_7bit && mail_7bit(a, alen)) {
			parts[2].cte = "7bit";
			parts[2].text = ical;
			parts[2].len = n;
			parts[2].clean = p->head_clean && p->tail_clean &&
			    memmem(a, alen, MAIL_BOUNDARY_PFX,
			    sizeof MAIL_BOUNDARY_PFX - 1) == NULL;
		} else {
			p->s_enc[2].len = 0;
			buf_add(&p->s_enc[2], p->head_b64.s, p->head_b64.len);
			mail_b64(&p->s_enc[2], (const unsigned char *)ical +
			    p->nb64, n - p->nb64, MAIL_B64_LINE);
			if (buf_get(&p->s_enc[2]) == NULL)
				goto oom;
			parts[2].cte = "base64";
			parts[2].text = p->s_enc[2].s;
			parts[2].len = p->s_enc[2].len;
			parts[2].clean = 1;
		}
		parts[3] = parts[2];
		parts[3].type = "application/ics; name=\"invite.ics\"";
		parts[3].extra = "Content-Disposition: attachment; "
		    "filename=\"invite.ics\"\r\n";
		nparts = 4;
	}

	/* The text and HTML: prepared, or with the name put in. */
	name = mail_opt(to_name);
	if (name[0] == '\0' || p->named_as_anon) {
		for (i = 0; i < 2; i++) {
			parts[i] = p->anon[i];
			memset(&parts[i].enc, 0, sizeof parts[i].enc);
			parts[i].text = p->anon[i].enc.s;
			parts[i].len = p->anon[i].enc.len;
		}
	} else if (mail_prep_text(p, name, parts) == -1)
		goto oom;

	/* The message. */
	size = p->top.len + p->subject.len + 1024 + strlen(to_addr) +
	    (to_name != NULL ? strlen(to_name) * 2 : 0);
	for (i = 0; i < nparts; i++)
		size += parts[i].len + 256;
	if (buf_reserve(&msg, size) == -1)
		goto oom;
	buf_add(&msg, p->top.s, p->top.len);
	mail_hdr_addr(&msg, "To", to_name != NULL ? to_name : "", to_addr);
	buf_add(&msg, p->subject.s, p->subject.len);
	if (mail_finish(&msg, p->m.domain, parts, nparts, &id, err,
	    errlen) == -1) {
		buf_free(&msg);
		return NULL;
	}
	*len = msg.len;
	*message_id = id;
	return buf_take(&msg);
oom:
	mail_error(err, errlen, "out of memory");
	buf_free(&msg);
	return NULL;
whole:
	mm = p->m;
	mm.to_name = to_name;
	mm.to_addr = to_addr;
	mm.ical = ical;
	return mail_render(&mm, len, message_id, err, errlen);
}

/* Free a prepared message. */
void
mail_prep_free(struct mail_prep *p)
{
	size_t	i;

	if (p == NULL)
		return;
	buf_free(&p->top);
	buf_free(&p->subject);
	for (i = 0; i < 2; i++)
		buf_free(&p->anon[i].enc);
	buf_free(&p->text);
	buf_free(&p->html);
	buf_free(&p->lines);
	free(p->cuts.v);
	buf_free(&p->head);
	buf_free(&p->tail);
	buf_free(&p->head_b64);
	buf_free(&p->s_text);
	buf_free(&p->s_html);
	buf_free(&p->s_line);
	for (i = 0; i < 3; i++)
		buf_free(&p->s_enc[i]);
	buf_free(&p->s_val);
	free(p);
}
