/*
 * output.c -- text for a terminal.
 *
 * Everything the daemon sends is data from other people (names, titles,
 * SMTP replies) and may be hostile: a title could carry an escape sequence
 * that rewrites the terminal, or a right-to-left override that makes a
 * line read differently from what it is. Every string on its way to the
 * terminal passes through output_scrub.
 *
 * Widths are counted in terminal columns by hand rather than with
 * mbstowcs/wcswidth: those depend on the user's locale (under LANG=C every
 * Cyrillic byte would be "invalid"), while the daemon's data is always
 * UTF-8 whatever the terminal's locale says. A small table of ranges
 * (after Markus Kuhn's wcwidth) gives combining marks no column and East
 * Asian wide characters two, so that a name typed with a combining accent
 * ("й" as "и" + U+0306) still lines up.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* A range of code points and the columns each takes. */
struct output_range {
	uint32_t	lo;
	uint32_t	hi;
	unsigned	width;
};

/* Ranges that do not take one column, in order. */
static const struct output_range output_widths[] = {
	{ 0x0300, 0x036f, 0 },		/* combining diacritical marks */
	{ 0x0483, 0x0489, 0 },		/* Cyrillic combining marks */
	{ 0x0591, 0x05bd, 0 },		/* Hebrew points */
	{ 0x05bf, 0x05bf, 0 },
	{ 0x05c1, 0x05c2, 0 },
	{ 0x05c4, 0x05c5, 0 },
	{ 0x05c7, 0x05c7, 0 },
	{ 0x0610, 0x061a, 0 },		/* Arabic marks */
	{ 0x064b, 0x065f, 0 },
	{ 0x0670, 0x0670, 0 },
	{ 0x06d6, 0x06dc, 0 },
	{ 0x06df, 0x06e4, 0 },
	{ 0x06e7, 0x06e8, 0 },
	{ 0x06ea, 0x06ed, 0 },
	{ 0x1100, 0x115f, 2 },		/* Hangul jamo */
	{ 0x1ab0, 0x1aff, 0 },		/* combining marks extended */
	{ 0x1dc0, 0x1dff, 0 },		/* combining marks supplement */
	{ 0x200b, 0x200f, 0 },		/* zero-width space, joiners */
	{ 0x2060, 0x2064, 0 },		/* word joiner, invisible operators */
	{ 0x20d0, 0x20ff, 0 },		/* combining marks for symbols */
	{ 0x2e80, 0x303e, 2 },		/* CJK radicals, punctuation */
	{ 0x3041, 0x33ff, 2 },		/* kana, CJK compatibility */
	{ 0x3400, 0x4dbf, 2 },		/* CJK extension A */
	{ 0x4e00, 0x9fff, 2 },		/* CJK unified ideographs */
	{ 0xa000, 0xa4cf, 2 },		/* Yi */
	{ 0xa960, 0xa97f, 2 },		/* Hangul jamo extended-A */
	{ 0xac00, 0xd7a3, 2 },		/* Hangul syllables */
	{ 0xf900, 0xfaff, 2 },		/* CJK compatibility ideographs */
	{ 0xfe00, 0xfe0f, 0 },		/* variation selectors */
	{ 0xfe10, 0xfe19, 2 },		/* vertical forms */
	{ 0xfe20, 0xfe2f, 0 },		/* combining half marks */
	{ 0xfe30, 0xfe6f, 2 },		/* CJK compatibility forms */
	{ 0xfeff, 0xfeff, 0 },		/* zero-width no-break space */
	{ 0xff00, 0xff60, 2 },		/* fullwidth forms */
	{ 0xffe0, 0xffe6, 2 },
	{ 0x1f300, 0x1f64f, 2 },	/* pictographs, emoticons */
	{ 0x1f680, 0x1f6ff, 2 },	/* transport and map symbols */
	{ 0x1f900, 0x1f9ff, 2 },	/* supplemental pictographs */
	{ 0x20000, 0x2fffd, 2 },	/* CJK extensions B-F */
	{ 0x30000, 0x3fffd, 2 },	/* CJK extension G */
	{ 0xe0100, 0xe01ef, 0 },	/* variation selectors supplement */
};

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

/* The columns code point cp takes (controls: 1, as their '?'). */
static size_t
output_cp_width(uint32_t cp)
{
	size_t	lo = 0, hi, mid;

	hi = sizeof output_widths / sizeof output_widths[0];
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cp < output_widths[mid].lo)
			hi = mid;
		else if (cp > output_widths[mid].hi)
			lo = mid + 1;
		else
			return output_widths[mid].width;
	}
	return 1;
}

/* 1 if keep (OUTPUT_KEEP_*) lets the control character cp through. */
static int
output_kept(uint32_t cp, int keep)
{
	return (cp == '\n' && (keep & OUTPUT_KEEP_NEWLINE)) ||
	    (cp == '\t' && (keep & OUTPUT_KEEP_TAB)) ||
	    (cp == '\r' && (keep & OUTPUT_KEEP_CR));
}

/* A copy of s without control characters; the caller frees it. */
char *
output_scrub(const char *s, int keep)
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
		if (output_kept(cp, keep))
			*q++ = (char)cp;
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

/* The columns s takes on a terminal. */
size_t
output_width(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 w = 0;

	while (*p != '\0') {
		p += output_decode(p, &cp);
		w += output_cp_width(cp);
	}
	return w;
}

/* A copy of s cut to max columns; the caller frees it. */
char *
output_truncate(const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 w = 0, n, cw, cut;
	char			*out;

	if (max == 0 || output_width(s) <= max)
		return strdup(s);
	/*
	 * Keep what fits in max - 1 columns and end with the ellipsis; the
	 * marks after the last character kept take no column and stay.
	 */
	while (*p != '\0') {
		n = output_decode(p, &cp);
		cw = output_cp_width(cp);
		if (w + cw > max - 1)
			break;
		w += cw;
		p += n;
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

/* Write the header and rows, padded to display widths. */
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

	if ((clean = output_scrub(value, OUTPUT_KEEP_NEWLINE)) == NULL)
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
