/*
 * output.h -- text for a terminal: scrubbing hostile strings, display
 * widths of UTF-8 text, aligned tables, "key: value" lines. Pure apart
 * from writing to the FILE it is given.
 */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* The ellipsis that ends a truncated cell. */
#define OUTPUT_ELLIPSIS "\xe2\x80\xa6"

/* What output_scrub keeps of the control characters (or'ed). */
#define OUTPUT_KEEP_NEWLINE	0x1	/* '\n' */
#define OUTPUT_KEEP_TAB		0x2	/* '\t' */
#define OUTPUT_KEEP_CR		0x4	/* '\r' */

struct output_column {
	const char	*header;
	size_t		 max;		/* widest cell (columns), 0: any */
	int		 right;		/* right-aligned (numbers) */
};

struct output_table;

/*
 * A copy of s in which every control character (C0, DEL, C1, the Unicode
 * line separators and bidirectional overrides) and every byte that is not
 * valid UTF-8 is replaced by '?', except those that keep (OUTPUT_KEEP_*)
 * names. The caller frees the result; NULL only when memory runs out.
 */
char *output_scrub(const char *s, int keep);

/*
 * The columns s takes on a terminal: combining marks take none, East
 * Asian wide and fullwidth characters two, others (an invalid byte too)
 * one.
 */
size_t output_width(const char *s);

/*
 * A copy of s cut to at most max columns, the last being an ellipsis
 * when something was cut (max 0: no limit); a character is never split
 * from its combining marks. The caller frees the result.
 */
char *output_truncate(const char *s, size_t max);

/*
 * Check that the len octets at s are UTF-8 without NUL bytes. Returns 0,
 * or -1 with the offset of the first bad octet in *bad.
 */
int output_utf8_check(const char *s, size_t len, size_t *bad);

/*
 * Render a JSON value as text for a human: a string as itself (borrowed),
 * numbers in decimal, booleans as yes/no, NULL (missing) and null as "-",
 * an array of scalars joined with ", " (into buf, truncated to len).
 * The result is not scrubbed: pass it through a writer below.
 */
const char *output_text(const json_t *v, char *buf, size_t len);

/* A new table with ncols columns described by cols (borrowed). */
struct output_table *output_table_new(const struct output_column *cols,
    size_t ncols);
/* Free a table and its cells; NULL is a no-op. */
void output_table_free(struct output_table *t);
/* Append a row of ncols cells (copied, scrubbed, truncated). 0 or -1. */
int output_table_add(struct output_table *t, const char *const *cells);
/* The number of rows added so far. */
size_t output_table_rows(const struct output_table *t);
/* Write the header and the rows, columns padded to the widest cell. */
void output_table_print(const struct output_table *t, FILE *out);

/*
 * Format one line (fmt is trusted and has no '\n'), replace every control
 * character in the result by '?', and write it with a final '\n'.
 */
void output_line(FILE *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Write "key: value" with the value starting in column width + 2; the
 * value is scrubbed and continuation lines of a multi-line value are
 * indented to the same column.
 */
void output_kv(FILE *out, int width, const char *key, const char *value);

#endif
