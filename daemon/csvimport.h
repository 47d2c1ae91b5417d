/*
 * csvimport.h -- the rows of a people CSV file (RFC 4180) via libcsv; pure.
 *
 * Accepts UTF-8 with or without a BOM, CRLF or LF line ends, quoted fields
 * with embedded commas, quotes and newlines, and ';' as the separator when
 * the header line has more ';' than ',' outside quotes. The first record is
 * the header: column names are matched case-insensitively and trimmed;
 * name and email are required, organization, position, lang and tags
 * optional (tags separated by spaces or '|'); an unknown column is an error.
 */
#ifndef CSVIMPORT_H
#define CSVIMPORT_H

#include <stddef.h>

struct csvimport_row {
	size_t line;		/* physical line where the record starts (header = 1) */
	char *name, *email, *organization, *position, *lang, *tags;
				/* NULL when the column is absent or the cell empty */
};

struct csvimport {
	struct csvimport_row *rows;
	size_t nrows;
	struct csvimport_error { size_t line; char *message; } *errors;
	size_t nerrors;		/* structural problems: wrong number of cells, bad quoting, invalid UTF-8 */
};

/*
 * Parse text (len octets) into out. Returns 0 when the header is usable
 * (row-level errors are collected in out->errors), or -1 with err set when
 * the file cannot be read at all (no header, missing name/email column,
 * unknown column). Field values are not validated here beyond UTF-8.
 */
int csvimport_parse(const char *text, size_t len, struct csvimport *out,
    char *err, size_t errlen);
void csvimport_cleanup(struct csvimport *c);

#endif
