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

/*
 * Any CSV table with a header row (attendance reports of webinar
 * platforms, training records): the same reading rules as above, but the
 * columns are whatever the header names. Column names are trimmed; cells
 * of a record are NULL when empty.
 */
struct csvimport_record {
	size_t	  line;		/* physical line where the record starts */
	char	**cells;	/* ncols cells */
};

struct csvimport_table {
	char			**header;	/* ncols trimmed names */
	size_t			  ncols;
	struct csvimport_record	 *records;
	size_t			  nrecords;
	struct csvimport_error	 *errors;	/* structural problems per line */
	size_t			  nerrors;
};

/* Most columns a table's header may have. */
#define CSVIMPORT_TABLE_COLS	256

/*
 * Parse text (len octets) into out. Returns 0 when the header is usable
 * (at least one column, at most CSVIMPORT_TABLE_COLS, no empty name),
 * or -1 with err set; records with the wrong number of cells, bad quoting
 * or invalid UTF-8 are listed in out->errors with their line.
 */
int csvimport_table_parse(const char *text, size_t len,
    struct csvimport_table *out, char *err, size_t errlen);
/* The index of the column named name (trimmed, any case), or -1. */
int csvimport_table_column(const struct csvimport_table *t,
    const char *name);
void csvimport_table_cleanup(struct csvimport_table *t);

#endif
