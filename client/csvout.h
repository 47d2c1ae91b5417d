/*
 * csvout.h -- CSV for spreadsheets (RFC 4180): quoting, CRLF line ends,
 * UTF-8, and formula-safe cells. Pure apart from writing to the FILE it
 * is given.
 */
#ifndef CSVOUT_H
#define CSVOUT_H

#include <stddef.h>
#include <stdio.h>

/* Kinds of cell. */
#define CSVOUT_TEXT	0	/* text from anyone: made formula-safe */
#define CSVOUT_NUMBER	1	/* a number the client wrote from JSON */

/*
 * The field for one cell as it goes into the file, the caller frees it
 * (NULL only when memory runs out). A NULL cell is an empty field.
 * Control characters other than tab, CR and LF, and bytes that are not
 * UTF-8, become '?'. A text cell (or a number cell that is not a plain
 * decimal number) that starts with '=', '+', '-', '@', a tab or CR gets
 * a leading "'", so that a spreadsheet does not read it as a formula. A
 * field with a comma, a double quote, CR or LF is quoted, its quotes
 * doubled.
 */
char *csvout_field(const char *cell, int kind);

/*
 * Write one record of n cells, each of the kind kinds[i] (kinds NULL:
 * all text), separated by commas and ended by CRLF. 0, or -1 when memory
 * runs out or the stream is in error.
 */
int csvout_row(FILE *out, const char *const *cells, const int *kinds,
    size_t n);

#endif
