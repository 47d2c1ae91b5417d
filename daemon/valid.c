/*
 * valid.c -- validation of values from outside; pure.
 *
 * Every check returns 0 or -1 with a sentence that names the field. What
 * the user sent is quoted in the sentence only through valid_quote(),
 * which bounds its length and replaces control characters, so an error
 * message can never smuggle a line break or megabytes into a reply, a log
 * line or a mail header.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lectern.h"
#include "valid.h"

/* Code points quoted at most in an error sentence. */
#define VALID_QUOTE_MAX 60

static const char *const valid_kind_names[] = {
	"webinar", "seminar", "workshop", "round_table", "master_class",
	"consultation", "lecture", "course_meeting", "training",
	"business_game", "open_lesson", "conference", "pedagogical_council",
	"mentoring", "other",
};
#define VALID_NKINDS (sizeof valid_kind_names / sizeof valid_kind_names[0])

static void valid_error(char *, size_t, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
valid_error(char *err, size_t errlen, const char *field, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s: ", field != NULL ? field : "value");
	if (n < 0 || (size_t)n >= errlen)
		return;		/* truncated: err is still terminated */
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

/*
 * Decode one code point of s[*i..len). Hand-written because no library we
 * link offers a strict decoder over a length-bounded buffer (jansson's is
 * internal): rejects overlongs, surrogates, > U+10FFFF, stray and missing
 * continuation bytes.
 */
static int
valid_utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
	uint32_t	c, min;
	size_t		n, k;

	c = s[*i];
	if (c < 0x80) {
		*cp = c;
		(*i)++;
		return 0;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		c &= 0x07;
		min = 0x10000;
	} else
		return -1;	/* continuation, C0/C1 overlong lead, F5..FF */
	if (len - *i <= n)
		return -1;	/* truncated */
	for (k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[*i + k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	*i += n + 1;
	return 0;
}

/* Well-formed UTF-8 (NUL octets are well-formed; callers refuse them). */
int
valid_utf8(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0;
	uint32_t		 cp;

	if (s == NULL)
		return len == 0 ? 0 : -1;
	while (i < len) {
		/* ASCII runs are the common case: skip them cheaply. */
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if (valid_utf8_next(u, len, &i, &cp) == -1)
			return -1;
	}
	return 0;
}

/* Number of code points in valid UTF-8. */
size_t
valid_utf8_len(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 n = 0;

	if (s == NULL)
		return 0;
	for (; *u != '\0'; u++) {
		if ((*u & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/*
 * Quote s for an error sentence: at most VALID_QUOTE_MAX code points,
 * controls, format characters and invalid bytes replaced by '?', "..."
 * when cut.
 */
static const char *
valid_quote(const char *s, char *out, size_t outlen)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 len, i = 0, o = 0, start, ncp = 0;
	uint32_t		 cp;

	if (outlen == 0)
		return "";
	if (s == NULL) {
		out[0] = '\0';
		return out;
	}
	len = strlen(s);
	while (i < len && ncp < VALID_QUOTE_MAX) {
		start = i;
		if (valid_utf8_next(u, len, &i, &cp) == -1) {
			i = start + 1;
			cp = 0;		/* shown as '?' */
		}
		if (o + 5 >= outlen)
			break;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		    cp == 0x2028 || cp == 0x2029 || cp == 0xfeff ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			out[o++] = '?';
		else {
			memcpy(out + o, s + start, i - start);
			o += i - start;
		}
		ncp++;
	}
	out[o] = '\0';
	if (i < len && o + 4 <= outlen) {
		memcpy(out + o, "...", 4);
	}
	return out;
}

/* One DNS label: letters, digits, hyphens, 1..63, no hyphen at an end. */
static int
valid_label(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return -1;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return -1;
	}
	return 0;
}

/* A domain: dot-separated labels, at most 253 octets. */
static int
valid_domain(const char *s, size_t len)
{
	size_t	start = 0, i;

	if (len == 0 || len > 253)
		return -1;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (valid_label(s + start, i - start) == -1)
				return -1;
			start = i + 1;
		}
	}
	return 0;
}

/* An email address: local@domain (see valid.h). */
int
valid_email(const char *s, const char *field, char *err, size_t errlen)
{
	char		 q[VALID_QUOTE_MAX * 4 + 8];
	const char	*at = NULL, *why = NULL;
	size_t		 len, i, llen;

	if (field == NULL)
		field = "email";
	if (s == NULL || *s == '\0') {
		valid_error(err, errlen, field, "must not be empty");
		return -1;
	}
	len = strlen(s);
	if (len > LECTERN_EMAIL_MAX) {
		valid_error(err, errlen, field,
		    "longer than %d octets", LECTERN_EMAIL_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f) {
			why = "only printable ASCII without spaces is allowed";
			goto fail;
		}
		/* The apostrophe is allowed: o'brien@... is a real address. */
		if (strchr("<>()[]\\,;:\"`", c) != NULL) {
			why = "it contains a forbidden character";
			goto fail;
		}
		if (c == '@') {
			if (at != NULL) {
				why = "it contains more than one '@'";
				goto fail;
			}
			at = s + i;
		}
	}
	if (at == NULL) {
		why = "'@' is missing";
		goto fail;
	}
	llen = at - s;
	if (llen == 0 || llen > 64) {
		why = "the part before '@' must have 1 to 64 characters";
		goto fail;
	}
	if (s[0] == '.' || s[llen - 1] == '.' || memmem(s, llen, "..", 2)) {
		why = "the part before '@' has a misplaced dot";
		goto fail;
	}
	if (valid_domain(at + 1, len - llen - 1) == -1) {
		why = "the domain is not valid";
		goto fail;
	}
	return 0;
fail:
	valid_error(err, errlen, field, "\"%s\" is not a valid address (%s)",
	    valid_quote(s, q, sizeof q), why);
	return -1;
}

/* Blanks for the "only blanks" rule: ASCII and Unicode spaces. */
static int
valid_is_blank(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
	    cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200b) ||
	    cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* A line of text (or several with multiline); see valid.h. */
int
valid_text(const char *s, size_t max, int allow_empty, int multiline,
    const char *field, char *err, size_t errlen)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 len, i = 0, ncp = 0;
	uint32_t		 cp;
	int			 blank = 1;

	if (field == NULL)
		field = "text";
	if (s == NULL || *s == '\0') {
		if (allow_empty)
			return 0;
		valid_error(err, errlen, field, "must not be empty");
		return -1;
	}
	len = strlen(s);
	while (i < len) {
		if (valid_utf8_next(u, len, &i, &cp) == -1) {
			valid_error(err, errlen, field, "is not valid UTF-8");
			return -1;
		}
		ncp++;
		if (!valid_is_blank(cp))
			blank = 0;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			if (multiline && (cp == '\n' || cp == '\t'))
				continue;
			if (multiline && cp == '\r' && i < len && u[i] == '\n')
				continue;
			valid_error(err, errlen, field,
			    "must not contain control characters");
			return -1;
		}
		if (cp == 0x2028 || cp == 0x2029) {
			valid_error(err, errlen, field,
			    "must not contain line or paragraph separators");
			return -1;
		}
		if ((cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069)) {
			valid_error(err, errlen, field,
			    "must not contain bidirectional override characters");
			return -1;
		}
		if (cp == 0xfeff) {
			valid_error(err, errlen, field,
			    "must not contain a byte order mark (U+FEFF)");
			return -1;
		}
	}
	if (ncp > max) {
		valid_error(err, errlen, field, "longer than %zu characters",
		    max);
		return -1;
	}
	if (blank) {
		valid_error(err, errlen, field, "must not consist only of blanks");
		return -1;
	}
	return 0;
}

/* The host[:port] part of a URL's authority. */
static int
valid_host(const char *s, size_t len)
{
	const char	*colon = NULL;
	size_t		 i, hlen;

	if (len == 0)
		return -1;
	if (s[0] == '[') {
		/* An IPv6 literal: hex digits, ':' and '.' up to ']'. */
		for (i = 1; i < len && s[i] != ']'; i++) {
			if (strchr("0123456789abcdefABCDEF:.", s[i]) == NULL)
				return -1;
		}
		if (i >= len || i == 1)
			return -1;
		hlen = i + 1;
		if (hlen < len && s[hlen] != ':')
			return -1;
		colon = hlen < len ? s + hlen : NULL;
	} else {
		colon = memchr(s, ':', len);
		hlen = colon != NULL ? (size_t)(colon - s) : len;
		if (hlen > 0 && s[hlen - 1] == '.')
			hlen--;		/* a fully qualified "host." */
		if (valid_domain(s, hlen) == -1)
			return -1;
	}
	if (colon != NULL) {
		size_t	plen = len - (colon - s) - 1;
		long	port = 0;

		if (plen == 0 || plen > 5)
			return -1;
		for (i = 0; i < plen; i++) {
			if (colon[1 + i] < '0' || colon[1 + i] > '9')
				return -1;
			port = port * 10 + (colon[1 + i] - '0');
		}
		if (port < 1 || port > 65535)
			return -1;
	}
	return 0;
}

/* An http:// or https:// URL with a host; see valid.h. */
int
valid_url(const char *s, const char *field, char *err, size_t errlen)
{
	char		 q[VALID_QUOTE_MAX * 4 + 8];
	const char	*p, *end, *at;
	size_t		 len, i;

	if (field == NULL)
		field = "url";
	if (s == NULL || *s == '\0') {
		valid_error(err, errlen, field, "must not be empty");
		return -1;
	}
	len = strlen(s);
	if (len > LECTERN_URL_MAX) {
		valid_error(err, errlen, field, "longer than %d octets",
		    LECTERN_URL_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || strchr("\"'<>\\`", c) != NULL) {
			valid_error(err, errlen, field, "\"%s\" is not a valid "
			    "URL (only printable ASCII without spaces, quotes, "
			    "'<', '>' or '\\' is allowed)",
			    valid_quote(s, q, sizeof q));
			return -1;
		}
	}
	if (strncasecmp(s, "https://", 8) == 0)
		p = s + 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		p = s + 7;
	else {
		valid_error(err, errlen, field, "\"%s\" is not an http:// or "
		    "https:// URL", valid_quote(s, q, sizeof q));
		return -1;
	}
	end = p + strcspn(p, "/?#");
	/* Skip user information; the host follows the last '@'. */
	at = NULL;
	for (i = 0; p + i < end; i++) {
		if (p[i] == '@')
			at = p + i;
	}
	if (at != NULL)
		p = at + 1;
	if (valid_host(p, end - p) == -1) {
		valid_error(err, errlen, field, "\"%s\" has no valid host",
		    valid_quote(s, q, sizeof q));
		return -1;
	}
	return 0;
}

/* A session kind from the protocol's list. */
int
valid_kind(const char *s, const char *field, char *err, size_t errlen)
{
	char	q[VALID_QUOTE_MAX * 4 + 8];
	size_t	i;

	if (field == NULL)
		field = "kind";
	if (s != NULL) {
		for (i = 0; i < VALID_NKINDS; i++) {
			if (strcmp(s, valid_kind_names[i]) == 0)
				return 0;
		}
	}
	valid_error(err, errlen, field, "\"%s\" is not a session kind (one "
	    "of %s)", valid_quote(s, q, sizeof q), valid_kinds());
	return -1;
}

/* The comma-separated list of session kinds; a static string. */
const char *
valid_kinds(void)
{
	static char	buf[512];
	size_t		i, o = 0, n;

	if (buf[0] != '\0')
		return buf;
	for (i = 0; i < VALID_NKINDS; i++) {
		n = strlen(valid_kind_names[i]);
		if (o + n + 3 > sizeof buf)
			break;		/* cannot happen: the table is fixed */
		if (i > 0) {
			memcpy(buf + o, ", ", 2);
			o += 2;
		}
		memcpy(buf + o, valid_kind_names[i], n);
		o += n;
		buf[o] = '\0';
	}
	return buf;
}

/* A language tag: 2-3 lowercase letters, optionally "-" and 2-8 alnum. */
int
valid_lang(const char *s, const char *field, char *err, size_t errlen)
{
	char	q[VALID_QUOTE_MAX * 4 + 8];
	size_t	i, n;

	if (field == NULL)
		field = "lang";
	if (s == NULL)
		goto fail;
	for (i = 0; s[i] >= 'a' && s[i] <= 'z'; i++)
		;
	if (i < 2 || i > 3)
		goto fail;
	if (s[i] == '\0')
		return 0;
	if (s[i] != '-')
		goto fail;
	i++;
	for (n = 0; (s[i] >= 'a' && s[i] <= 'z') ||
	    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9');
	    i++, n++)
		;
	if (n < 2 || n > 8 || s[i] != '\0')
		goto fail;
	return 0;
fail:
	valid_error(err, errlen, field, "\"%s\" is not a language tag (such "
	    "as en, ru, pt-br)", valid_quote(s, q, sizeof q));
	return -1;
}

/*
 * A letter for tags. Without a Unicode database we take ASCII letters and
 * digits, and every non-ASCII code point outside the ranges that hold
 * spaces, punctuation, symbols and format characters; this admits
 * Cyrillic, Greek, CJK and the like ("математика") while refusing what
 * would make a tag look like two words.
 */
static int
valid_tag_char(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= '0' && cp <= '9') || cp == '-' || cp == '_' ||
		    cp == '.';
	if (cp < 0xc0 || cp == 0xd7 || cp == 0xf7)
		return 0;	/* C1, Latin-1 punctuation, x and / signs */
	if (cp >= 0x2000 && cp <= 0x2bff)
		return 0;	/* punctuation, symbols, arrows, boxes */
	if (cp >= 0x3000 && cp <= 0x303f)
		return 0;	/* CJK punctuation */
	if (cp >= 0xd800 && cp <= 0xf8ff)
		return 0;	/* surrogates, private use */
	if (cp >= 0xfe00 && cp <= 0xfe0f)
		return 0;	/* variation selectors */
	if (cp == 0xfeff || cp >= 0xfff0)
		return 0;	/* BOM, specials, supplementary planes */
	if (cp == 0x1680 || cp == 0x180e)
		return 0;	/* Ogham space, Mongolian vowel separator */
	return 1;
}

/* A tag: 1..LECTERN_TAG_MAX letters, digits, '-', '_', '.'. */
int
valid_tag(const char *s, const char *field, char *err, size_t errlen)
{
	char			 q[VALID_QUOTE_MAX * 4 + 8];
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 len, i = 0, n = 0;
	uint32_t		 cp;

	if (field == NULL)
		field = "tags";
	if (s == NULL || *s == '\0') {
		valid_error(err, errlen, field, "a tag must not be empty");
		return -1;
	}
	len = strlen(s);
	while (i < len) {
		if (valid_utf8_next(u, len, &i, &cp) == -1 ||
		    !valid_tag_char(cp))
			goto fail;
		if (++n > LECTERN_TAG_MAX) {
			valid_error(err, errlen, field, "a tag is longer than "
			    "%d characters", LECTERN_TAG_MAX);
			return -1;
		}
	}
	return 0;
fail:
	valid_error(err, errlen, field, "\"%s\" is not a valid tag (letters, "
	    "digits, '-', '_' and '.' only)", valid_quote(s, q, sizeof q));
	return -1;
}
