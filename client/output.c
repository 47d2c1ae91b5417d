/*
 * output.c -- text for a terminal.
 *
 * Everything the daemon sends is data from other people (names, titles,
 * SMTP replies) and may be hostile: a title could carry an escape sequence
 * that rewrites the terminal, or a right-to-left override that makes a
 * line read differently from what it is. Every string on its way to the
 * terminal passes through output_scrub.
 *
 * Widths are counted in UTF-8 code points by hand rather than with
 * mbstowcs/wcswidth: those depend on the user's locale (under LANG=C every
 * Cyrillic byte would be "invalid"), while the daemon's data is always
 * UTF-8 whatever the terminal's locale says.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

struct output_table {
	const struct output_column	*cols;
	size_t				 ncols;
	char				**cells;	/* rows * ncols */
	size_t				 rows;
	size_t				 cap;		/* rows allocated */
};

/*
 * Decode one UTF-8 sequence at s (NUL-terminated). Returns its length in
 * octets (at least 1) and the code point in *cp, or 0xFFFFFFFF in *cp for
 * an invalid sequence (then the length is 1, so the caller skips a byte).
 */
static size_t
output_decode(const unsigned char *s, uint32_t *cp)
{
	uint32_t	c, min;
	size_t		n, i;

	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		goto fail;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto fail;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto fail;
	*cp = c;
	return n;
fail:
	*cp = 0xffffffff;
	return 1;
}

/* 1 if the code point must not reach a terminal. */
static int
output_is_control(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
		return 1;
	/* Line separators and bidirectional controls ("Trojan Source"). */
	if (cp == 0x2028 || cp == 0x2029 || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 1;
	return cp == 0xffffffff;
}

/* A copy of s without control characters; the caller frees it. */
char *
output_scrub(const char *s, int keep_newline)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *q;
	uint32_t		 cp;
	size_t			 n;

	/* A replacement is never longer than what it replaces. */
	if ((out = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	q = out;
	while (*p != '\0') {
		n = output_decode(p, &cp);
		if (cp == '\n' && keep_newline)
			*q++ = '\n';
		else if (output_is_control(cp))
			*q++ = '?';
		else {
			memcpy(q, p, n);
			q += n;
		}
		p += n;
	}
	*q = '\0';
	return out;
}

/* The number of code points in s. */
size_t
output_width(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 w = 0;

	while (*p != '\0') {
		p += output_decode(p, &cp);
		w++;
	}
	return w;
}

/* A copy of s cut to max code points; the caller frees it. */
char *
output_truncate(const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 w = 0, cut;
	char			*out;

	if (max == 0 || output_width(s) <= max)
		return strdup(s);
	/* Keep max - 1 code points and end with the ellipsis. */
	while (*p != '\0' && w < max - 1) {
		p += output_decode(p, &cp);
		w++;
	}
	cut = (size_t)(p - (const unsigned char *)s);
	if ((out = malloc(cut + sizeof(OUTPUT_ELLIPSIS))) == NULL)
		return NULL;
	memcpy(out, s, cut);
	memcpy(out + cut, OUTPUT_ELLIPSIS, sizeof(OUTPUT_ELLIPSIS));
	return out;
}

int
output_utf8_check(const char *s, size_t len, size_t *bad)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned char		 tmp[5];
	uint32_t		 cp;
	size_t			 i = 0, n, k;

	while (i < len) {
		if (p[i] == '\0')
			goto fail;
		/* output_decode wants a terminated sequence: copy the tail. */
		for (k = 0; k < 4 && i + k < len; k++)
			tmp[k] = p[i + k];
		tmp[k] = '\0';
		n = output_decode(tmp, &cp);
		if (cp == 0xffffffff)
			goto fail;
		i += n;
	}
	return 0;
fail:
	*bad = i;
	return -1;
}

/*
 * buf (len octets) holds a string that snprintf cut short: end it with the
 * ellipsis, at a character boundary.
 */
static void
output_text_cut(char *buf, size_t len)
{
	size_t	n;

	if (len < sizeof(OUTPUT_ELLIPSIS))
		return;
	n = len - sizeof(OUTPUT_ELLIPSIS);
	while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
		n--;
	memcpy(buf + n, OUTPUT_ELLIPSIS, sizeof(OUTPUT_ELLIPSIS));
}

/* A JSON value as text for a human (borrowed or in buf). */
const char *
output_text(const json_t *v, char *buf, size_t len)
{
	const json_t	*e;
	const char	*t;
	char		 one[64];
	size_t		 i, used = 0;
	int		 r;

	if (len == 0)
		return "";
	buf[0] = '\0';
	if (v == NULL || json_is_null(v))
		return "-";
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		(void)snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return buf;
	case JSON_REAL:
		(void)snprintf(buf, len, "%g", json_real_value(v));
		return buf;
	case JSON_TRUE:
		return "yes";
	case JSON_FALSE:
		return "no";
	case JSON_ARRAY:
		if (json_array_size(v) == 0)
			return "-";
		json_array_foreach(v, i, e) {
			if (json_is_array(e) || json_is_object(e))
				t = "{…}";
			else
				t = output_text(e, one, sizeof one);
			r = snprintf(buf + used, len - used, "%s%s",
			    i == 0 ? "" : ", ", t);
			if (r < 0 || (size_t)r >= len - used) {
				output_text_cut(buf, len);
				return buf;
			}
			used += (size_t)r;
		}
		return buf;
	case JSON_OBJECT:
		return "{…}";
	case JSON_NULL:
		break;
	}
	return "-";
}

/* A new empty table; free with output_table_free. */
struct output_table *
output_table_new(const struct output_column *cols, size_t ncols)
{
	struct output_table	*t;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return NULL;
	t->cols = cols;
	t->ncols = ncols;
	return t;
}

/* Free a table and its cells; NULL is a no-op. */
void
output_table_free(struct output_table *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* Append a row (cells copied, scrubbed, truncated). */
int
output_table_add(struct output_table *t, const char *const *cells)
{
	char	**grown, *clean;
	size_t	  i, cap;

	if (t->rows == t->cap) {
		cap = t->cap == 0 ? 16 : t->cap * 2;
		grown = reallocarray(t->cells, cap * t->ncols, sizeof *grown);
		if (grown == NULL)
			return -1;
		t->cells = grown;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		clean = output_scrub(cells[i] != NULL ? cells[i] : "-", 0);
		if (clean == NULL)
			goto fail;
		t->cells[t->rows * t->ncols + i] =
		    output_truncate(clean, t->cols[i].max);
		free(clean);
		if (t->cells[t->rows * t->ncols + i] == NULL)
			goto fail;
	}
	t->rows++;
	return 0;
fail:
	while (i-- > 0)
		free(t->cells[t->rows * t->ncols + i]);
	return -1;
}

/* The number of rows added. */
size_t
output_table_rows(const struct output_table *t)
{
	return t->rows;
}

/* Write one cell padded to width; the last column gets no trailing blanks. */
static void
output_table_cell(FILE *out, const char *s, size_t width, int right, int last)
{
	size_t	w = output_width(s);

	if (right)
		for (; w < width; w++)
			fputc(' ', out);
	fputs(s, out);
	if (!right && !last)
		for (; w < width; w++)
			fputc(' ', out);
	fputs(last ? "\n" : "  ", out);
}

/* Write the header and rows, padded by code points. */
void
output_table_print(const struct output_table *t, FILE *out)
{
	size_t	*width, r, c, w;

	if ((width = calloc(t->ncols, sizeof *width)) == NULL)
		return;
	for (c = 0; c < t->ncols; c++)
		width[c] = output_width(t->cols[c].header);
	for (r = 0; r < t->rows; r++) {
		for (c = 0; c < t->ncols; c++) {
			w = output_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	for (c = 0; c < t->ncols; c++)
		output_table_cell(out, t->cols[c].header, width[c],
		    t->cols[c].right, c == t->ncols - 1);
	for (r = 0; r < t->rows; r++)
		for (c = 0; c < t->ncols; c++)
			output_table_cell(out, t->cells[r * t->ncols + c],
			    width[c], t->cols[c].right, c == t->ncols - 1);
	free(width);
}

/* Format, scrub and write one line. */
void
output_line(FILE *out, const char *fmt, ...)
{
	va_list	 ap;
	char	*line = NULL, *clean = NULL;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (line = malloc((size_t)n + 1)) == NULL)
		goto fail;
	va_start(ap, fmt);
	n = vsnprintf(line, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (clean = output_scrub(line, 0)) == NULL)
		goto fail;
	fputs(clean, out);
	fputc('\n', out);
fail:
	free(clean);
	free(line);
}

/* Write an aligned "key: value" line, scrubbed. */
void
output_kv(FILE *out, int width, const char *key, const char *value)
{
	char	*clean, *p;
	int	 pad;

	if ((clean = output_scrub(value, 1)) == NULL)
		return;
	pad = width - (int)output_width(key);
	fprintf(out, "%s:%*s ", key, pad > 0 ? pad : 0, "");
	for (p = clean; *p != '\0'; p++) {
		fputc(*p, out);
		if (*p == '\n' && p[1] != '\0')
			fprintf(out, "%*s", width + 2, "");
	}
	fputc('\n', out);
	free(clean);
}
