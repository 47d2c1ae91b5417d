/*
 * csvimport.c -- the rows of a people CSV file (RFC 4180) via libcsv; pure.
 *
 * libcsv splits fields, undoes quoting and trims blanks around unquoted
 * cells, strictly (CSV_STRICT, CSV_STRICT_FINI). It does not tell where a
 * record starts, though, and users need the physical line of a bad row.
 * So the text is cut into records here first by a small quote-aware scan
 * (csvimport_record_end: a '\n' ends a record unless it is inside a quoted
 * cell) that counts the '\n' octets on the way, and libcsv is fed one
 * record at a time. The scan and libcsv agree on every well-formed record;
 * on a malformed one libcsv reports the error for that record only, and
 * the next record begins where the scan says, so one stray quote costs
 * one row, not the rest of the file. Everything is linear in the input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>

#include "csvimport.h"
#include "valid.h"
#include "proto.h"

enum csvimport_col {
	CSVIMPORT_NAME,
	CSVIMPORT_EMAIL,
	CSVIMPORT_ORGANIZATION,
	CSVIMPORT_POSITION,
	CSVIMPORT_LANG,
	CSVIMPORT_TAGS,
	CSVIMPORT_NCOLS
};

static const char *const csvimport_col_names[CSVIMPORT_NCOLS] = {
	"name", "email", "organization", "position", "lang", "tags"
};

/*
 * What the people and the table parsers share: the record being read, its
 * first problem, the errors found, whether the header is usable, and what
 * to do with a header and a data record. It is the first member of each
 * parser's context: header and row convert it back to the context.
 */
struct csvimport_read {
	size_t			  line;		/* where the record starts */
	char			**cells;	/* maxcells of them */
	size_t			  maxcells;
	size_t			  ncells;	/* counted, kept to maxcells */
	char			  problem[160];	/* first cell problem */
	int			  header_done;
	char			  fatal[256];	/* set: no usable header */
	struct csvimport_error	**errors;	/* the output's, and ... */
	size_t			 *nerrors;	/* ... its count */
	size_t			  errors_alloc;
	int			  nomem;
	void			(*header)(struct csvimport_read *);
	void			(*row)(struct csvimport_read *);
};

/* The people file being read. */
struct csvimport_ctx {
	struct csvimport_read	 rd;		/* first: see above */
	struct csvimport	*out;
	char			*cellv[CSVIMPORT_NCOLS];	/* rd.cells */
	int			 cols[CSVIMPORT_NCOLS];	/* column -> field */
	size_t			 ncols;
	size_t			 rows_alloc;
};

static void csvimport_problem(struct csvimport_read *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
csvimport_problem(struct csvimport_read *rd, const char *fmt, ...)
{
	va_list	ap;

	if (rd->problem[0] != '\0')
		return;		/* the first problem is the one to report */
	va_start(ap, fmt);
	vsnprintf(rd->problem, sizeof rd->problem, fmt, ap);
	va_end(ap);
}

/* Free the cells of the record read so far (cells past ncells are NULL). */
static void
csvimport_clear(struct csvimport_read *rd)
{
	size_t	i;

	for (i = 0; i < rd->ncells && i < rd->maxcells; i++) {
		free(rd->cells[i]);
		rd->cells[i] = NULL;
	}
	rd->ncells = 0;
	rd->problem[0] = '\0';
}

/* Printable ASCII copy of s for a header error, at most 40 octets. */
static const char *
csvimport_quote(const char *s, char *out, size_t outlen)
{
	return proto_quote(s, s != NULL ? strlen(s) : 0, 40, out, outlen);
}

/* libcsv: one cell ended. */
static void
csvimport_field_cb(void *data, size_t len, void *arg)
{
	struct csvimport_read	*rd = arg;
	size_t			 i = rd->ncells++;
	char			*copy;

	if (i >= rd->maxcells)
		return;		/* too many cells: counted, reported later */
	if (len > 0 && memchr(data, '\0', len) != NULL) {
		csvimport_problem(rd, "cell %zu contains a NUL byte", i + 1);
		return;
	}
	if (valid_utf8(data, len) == -1) {
		csvimport_problem(rd, "cell %zu is not valid UTF-8", i + 1);
		return;
	}
	if (len == 0)
		return;		/* an empty cell stays NULL */
	if ((copy = malloc(len + 1)) == NULL) {
		rd->nomem = 1;
		return;
	}
	memcpy(copy, data, len);
	copy[len] = '\0';
	rd->cells[i] = copy;
}

static int
csvimport_add_error(struct csvimport_read *rd, size_t line, const char *msg)
{
	struct csvimport_error	*e;
	size_t			 n;

	if (*rd->nerrors == rd->errors_alloc) {
		n = rd->errors_alloc == 0 ? 16 : rd->errors_alloc * 2;
		if ((e = reallocarray(*rd->errors, n, sizeof *e)) == NULL)
			goto fail;
		*rd->errors = e;
		rd->errors_alloc = n;
	}
	e = &(*rd->errors)[*rd->nerrors];
	if ((e->message = strdup(msg)) == NULL)
		goto fail;
	e->line = line;
	(*rd->nerrors)++;
	return 0;
fail:
	rd->nomem = 1;
	return -1;
}

/*
 * A data record with ncols cells and no problem in them: 0. Else -1, and
 * the record is an error of its line.
 */
static int
csvimport_record_ok(struct csvimport_read *rd, size_t ncols)
{
	char	 msg[200];

	if (rd->ncells != ncols) {
		snprintf(msg, sizeof msg, "expected %zu cells as in the "
		    "header, found %zu", ncols, rd->ncells);
		csvimport_add_error(rd, rd->line, msg);
		return -1;
	}
	if (rd->problem[0] != '\0') {
		csvimport_add_error(rd, rd->line, rd->problem);
		return -1;
	}
	return 0;
}

/* libcsv: one record ended. */
static void
csvimport_record_cb(int c, void *arg)
{
	struct csvimport_read	*rd = arg;

	(void)c;
	/* After a fatal problem the result is decided: records are dropped. */
	if (rd->fatal[0] == '\0' && !rd->nomem) {
		if (!rd->header_done)
			rd->header(rd);
		else
			rd->row(rd);
	}
	csvimport_clear(rd);
}

/* The header record: map each column to a field. */
static void
csvimport_header(struct csvimport_read *rd)
{
	struct csvimport_ctx	*ctx = (struct csvimport_ctx *)rd;
	char			 q[64];
	size_t			 i, c, l;
	int			 seen[CSVIMPORT_NCOLS] = { 0 };
	char			*name;

	rd->header_done = 1;
	if (rd->problem[0] != '\0') {
		snprintf(rd->fatal, sizeof rd->fatal, "csv: the header: %s",
		    rd->problem);
		return;
	}
	if (rd->ncells > CSVIMPORT_NCOLS) {
		snprintf(rd->fatal, sizeof rd->fatal, "csv: the header has "
		    "%zu columns; the known ones are name, email, "
		    "organization, position, lang, tags", rd->ncells);
		return;
	}
	for (i = 0; i < rd->ncells; i++) {
		name = rd->cells[i];
		/* Quoted names keep their blanks in libcsv; trim them. */
		while (name != NULL && (*name == ' ' || *name == '\t'))
			name++;
		l = name != NULL ? strlen(name) : 0;
		while (l > 0 && (name[l - 1] == ' ' || name[l - 1] == '\t'))
			l--;
		for (c = 0; c < CSVIMPORT_NCOLS; c++) {
			if (l == strlen(csvimport_col_names[c]) &&
			    strncasecmp(name, csvimport_col_names[c], l) == 0)
				break;
		}
		if (c == CSVIMPORT_NCOLS) {
			snprintf(rd->fatal, sizeof rd->fatal, "csv: unknown "
			    "column \"%s\" in the header (known: name, email, "
			    "organization, position, lang, tags)",
			    csvimport_quote(name, q, sizeof q));
			return;
		}
		if (seen[c]++) {
			snprintf(rd->fatal, sizeof rd->fatal, "csv: column "
			    "\"%s\" appears twice in the header",
			    csvimport_col_names[c]);
			return;
		}
		ctx->cols[i] = (int)c;
	}
	ctx->ncols = rd->ncells;
	if (!seen[CSVIMPORT_NAME] || !seen[CSVIMPORT_EMAIL])
		snprintf(rd->fatal, sizeof rd->fatal, "csv: the header must "
		    "name the columns \"name\" and \"email\"");
}

/* A data record: a row, or an error with its line. */
static void
csvimport_row(struct csvimport_read *rd)
{
	struct csvimport_ctx	*ctx = (struct csvimport_ctx *)rd;
	struct csvimport	*out = ctx->out;
	struct csvimport_row	*row;
	char			**field[CSVIMPORT_NCOLS];
	void			*p;
	size_t			 i, n;

	if (csvimport_record_ok(rd, ctx->ncols) == -1)
		return;
	if (out->nrows == ctx->rows_alloc) {
		n = ctx->rows_alloc == 0 ? 64 : ctx->rows_alloc * 2;
		if ((p = reallocarray(out->rows, n, sizeof *out->rows)) ==
		    NULL) {
			rd->nomem = 1;
			return;
		}
		out->rows = p;
		ctx->rows_alloc = n;
	}
	row = &out->rows[out->nrows++];
	memset(row, 0, sizeof *row);
	row->line = rd->line;
	field[CSVIMPORT_NAME] = &row->name;
	field[CSVIMPORT_EMAIL] = &row->email;
	field[CSVIMPORT_ORGANIZATION] = &row->organization;
	field[CSVIMPORT_POSITION] = &row->position;
	field[CSVIMPORT_LANG] = &row->lang;
	field[CSVIMPORT_TAGS] = &row->tags;
	for (i = 0; i < ctx->ncols; i++) {
		*field[ctx->cols[i]] = rd->cells[i];	/* moved */
		rd->cells[i] = NULL;
	}
}

/*
 * The end of the record at text[pos] (just past its '\n', or len) and the
 * number of '\n' octets in it. A quote opens a quoted cell only at the
 * start of a cell (after blanks), as RFC 4180 and libcsv's strict mode
 * have it; a doubled quote inside stays inside.
 */
static size_t
csvimport_record_end(const char *text, size_t len, size_t pos, char delim,
    size_t *newlines)
{
	enum { CELL_START, UNQUOTED, QUOTED, QUOTE_SEEN } st = CELL_START;
	size_t	i;
	char	c;

	*newlines = 0;
	for (i = pos; i < len; i++) {
		c = text[i];
		if (c == '\n') {
			(*newlines)++;
			if (st != QUOTED)
				return i + 1;
			continue;
		}
		/*
		 * A bare CR outside quotes ends a record for libcsv too (old
		 * Mac files): count it as a line so that records and line
		 * numbers stay in step.
		 */
		if (c == '\r' && st != QUOTED && (i + 1 == len ||
		    text[i + 1] != '\n')) {
			(*newlines)++;
			return i + 1;
		}
		switch (st) {
		case CELL_START:
			if (c == '"')
				st = QUOTED;
			else if (c != ' ' && c != '\t' && c != delim &&
			    c != '\r')
				st = UNQUOTED;
			break;
		case UNQUOTED:
			if (c == delim)
				st = CELL_START;
			break;
		case QUOTED:
			if (c == '"')
				st = QUOTE_SEEN;
			break;
		case QUOTE_SEEN:
			if (c == '"')
				st = QUOTED;
			else if (c == delim)
				st = CELL_START;
			else if (c != ' ' && c != '\t' && c != '\r')
				st = UNQUOTED;
			break;
		}
	}
	return len;
}

/* ';' when the header has more of them than ',' outside quotes. */
static char
csvimport_delimiter(const char *text, size_t len)
{
	size_t	i, commas = 0, semis = 0;
	int	quoted = 0;

	for (i = 0; i < len; i++) {
		if (text[i] == '"')
			quoted = !quoted;
		else if (!quoted && text[i] == '\n')
			break;
		else if (!quoted && text[i] == ',')
			commas++;
		else if (!quoted && text[i] == ';')
			semis++;
	}
	return semis > commas ? ';' : ',';
}

/* Only blanks and line ends: an empty line, skipped. */
static int
csvimport_blank(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
		    s[i] != '\n')
			return 0;
	}
	return 1;
}

static int
csvimport_parser_init(struct csv_parser *p, char delim)
{
	if (csv_init(p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		return -1;
	csv_set_delim(p, (unsigned char)delim);
	/* Grow the cell buffer in large steps: long cells stay linear. */
	csv_set_blk_size(p, 4096);
	return 0;
}

/*
 * Read text with rd: libcsv gets the records one at a time, rd->header
 * and rd->row each one it ended. 0, or -1 with err set when the header is
 * unusable (empty: there is none at all) or memory runs out.
 */
static int
csvimport_scan(struct csvimport_read *rd, const char *text, size_t len,
    const char *empty, char *err, size_t errlen)
{
	struct csv_parser	 p;
	size_t			 pos = 0, end, nl, line = 1;
	char			 delim;
	int			 have_parser = 0, bad;

	if (text == NULL)
		len = 0;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	delim = csvimport_delimiter(text, len);
	if (csvimport_parser_init(&p, delim) == -1)
		goto fail;
	have_parser = 1;

	while (pos < len && rd->fatal[0] == '\0' && !rd->nomem) {
		end = csvimport_record_end(text, len, pos, delim, &nl);
		rd->line = line;
		if (!csvimport_blank(text + pos, end - pos)) {
			bad = csv_parse(&p, text + pos, end - pos,
			    csvimport_field_cb, csvimport_record_cb, rd) !=
			    end - pos;
			if (!bad && csv_fini(&p, csvimport_field_cb,
			    csvimport_record_cb, rd) != 0)
				bad = 1;
			if (bad && csv_error(&p) == CSV_ENOMEM)
				goto fail;
			if (bad) {
				/* A failed parser is not reusable. */
				csv_free(&p);
				have_parser = 0;
				csvimport_clear(rd);
				if (!rd->header_done) {
					snprintf(rd->fatal, sizeof rd->fatal,
					    "csv: the header has a misplaced "
					    "quote");
					break;
				}
				csvimport_add_error(rd, line, "misplaced quote "
				    "(a quote inside an unquoted cell, text "
				    "after a closing quote, or a quote that "
				    "is never closed)");
				if (csvimport_parser_init(&p, delim) == -1)
					goto fail;
				have_parser = 1;
			}
		}
		line += nl;
		pos = end;
	}
	if (rd->nomem)
		goto fail;
	if (rd->fatal[0] == '\0' && !rd->header_done)
		snprintf(rd->fatal, sizeof rd->fatal, "%s", empty);
	if (rd->fatal[0] != '\0')
		goto fail;
	if (have_parser)
		csv_free(&p);
	return 0;
fail:
	/* Everything but a header problem is running out of memory. */
	if (rd->fatal[0] != '\0')
		snprintf(err, errlen, "%s", rd->fatal);
	else
		snprintf(err, errlen, "csv: out of memory");
	if (have_parser)
		csv_free(&p);
	return -1;
}

/* Parse text into out; see csvimport.h. */
int
csvimport_parse(const char *text, size_t len, struct csvimport *out,
    char *err, size_t errlen)
{
	struct csvimport_ctx	*ctx;
	int			 rc;

	memset(out, 0, sizeof *out);
	if ((ctx = calloc(1, sizeof *ctx)) == NULL) {
		snprintf(err, errlen, "csv: out of memory");
		return -1;
	}
	ctx->out = out;
	ctx->rd.cells = ctx->cellv;
	ctx->rd.maxcells = CSVIMPORT_NCOLS;
	ctx->rd.errors = &out->errors;
	ctx->rd.nerrors = &out->nerrors;
	ctx->rd.header = csvimport_header;
	ctx->rd.row = csvimport_row;
	rc = csvimport_scan(&ctx->rd, text, len, "csv: the file is empty; the "
	    "first row must name the columns (name, email, ...)", err, errlen);
	csvimport_clear(&ctx->rd);
	free(ctx);
	if (rc == -1)
		csvimport_cleanup(out);
	return rc;
}

/* Free what csvimport_parse stored; out is left empty. */
void
csvimport_cleanup(struct csvimport *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nrows; i++) {
		free(c->rows[i].name);
		free(c->rows[i].email);
		free(c->rows[i].organization);
		free(c->rows[i].position);
		free(c->rows[i].lang);
		free(c->rows[i].tags);
	}
	free(c->rows);
	for (i = 0; i < c->nerrors; i++)
		free(c->errors[i].message);
	free(c->errors);
	memset(c, 0, sizeof *c);
}

/*
 * Tables with any columns (csvimport_table_parse): the same record scan
 * and libcsv settings as the people file, with the cells of a record kept
 * in a growing array instead of fixed fields.
 */
struct csvimport_tctx {
	struct csvimport_read	 rd;	/* first; COLS + 1 cells */
	struct csvimport_table	*out;
	size_t			 rows_alloc;
};

/* A name as written in the header, blanks around it removed; malloc'd. */
static char *
csvimport_trimmed(const char *s)
{
	size_t	 l;
	char	*d;

	if (s == NULL)
		s = "";
	while (*s == ' ' || *s == '\t')
		s++;
	l = strlen(s);
	while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'))
		l--;
	if ((d = malloc(l + 1)) == NULL)
		return NULL;
	memcpy(d, s, l);
	d[l] = '\0';
	return d;
}

static void
csvimport_theader(struct csvimport_read *rd)
{
	struct csvimport_tctx	*ctx = (struct csvimport_tctx *)rd;
	struct csvimport_table	*out = ctx->out;
	size_t			 i;

	rd->header_done = 1;
	if (rd->problem[0] != '\0') {
		snprintf(rd->fatal, sizeof rd->fatal, "csv: the header: %s",
		    rd->problem);
		return;
	}
	if (rd->ncells > CSVIMPORT_TABLE_COLS) {
		snprintf(rd->fatal, sizeof rd->fatal, "csv: the header has "
		    "%zu columns, more than %d", rd->ncells,
		    CSVIMPORT_TABLE_COLS);
		return;
	}
	if ((out->header = calloc(rd->ncells, sizeof *out->header)) ==
	    NULL) {
		rd->nomem = 1;
		return;
	}
	out->ncols = rd->ncells;
	for (i = 0; i < rd->ncells; i++) {
		if ((out->header[i] = csvimport_trimmed(rd->cells[i])) ==
		    NULL) {
			rd->nomem = 1;
			return;
		}
		if (out->header[i][0] == '\0') {
			snprintf(rd->fatal, sizeof rd->fatal, "csv: column "
			    "%zu of the header has no name", i + 1);
			return;
		}
	}
}

static void
csvimport_trow(struct csvimport_read *rd)
{
	struct csvimport_tctx	*ctx = (struct csvimport_tctx *)rd;
	struct csvimport_table	*out = ctx->out;
	struct csvimport_record	*r;
	void			*p;
	size_t			 i, n;

	if (csvimport_record_ok(rd, out->ncols) == -1)
		return;
	if (out->nrecords == ctx->rows_alloc) {
		n = ctx->rows_alloc == 0 ? 64 : ctx->rows_alloc * 2;
		if ((p = reallocarray(out->records, n,
		    sizeof *out->records)) == NULL) {
			rd->nomem = 1;
			return;
		}
		out->records = p;
		ctx->rows_alloc = n;
	}
	if ((p = calloc(out->ncols ? out->ncols : 1, sizeof(char *))) ==
	    NULL) {
		rd->nomem = 1;
		return;
	}
	r = &out->records[out->nrecords++];
	r->line = rd->line;
	r->cells = p;
	for (i = 0; i < out->ncols; i++) {
		r->cells[i] = rd->cells[i];	/* moved */
		rd->cells[i] = NULL;
	}
}

/* Parse a table; see csvimport.h. */
int
csvimport_table_parse(const char *text, size_t len,
    struct csvimport_table *out, char *err, size_t errlen)
{
	struct csvimport_tctx	*ctx;
	int			 rc;

	memset(out, 0, sizeof *out);
	if ((ctx = calloc(1, sizeof *ctx)) == NULL ||
	    (ctx->rd.cells = calloc(CSVIMPORT_TABLE_COLS + 1,
	    sizeof *ctx->rd.cells)) == NULL) {
		free(ctx);
		snprintf(err, errlen, "csv: out of memory");
		return -1;
	}
	ctx->out = out;
	ctx->rd.maxcells = CSVIMPORT_TABLE_COLS + 1;
	ctx->rd.errors = &out->errors;
	ctx->rd.nerrors = &out->nerrors;
	ctx->rd.header = csvimport_theader;
	ctx->rd.row = csvimport_trow;
	rc = csvimport_scan(&ctx->rd, text, len, "csv: the file is empty; the "
	    "first row must name the columns", err, errlen);
	csvimport_clear(&ctx->rd);
	free(ctx->rd.cells);
	free(ctx);
	if (rc == -1)
		csvimport_table_cleanup(out);
	return rc;
}

/* The column named name (blanks around it ignored, any case), or -1. */
int
csvimport_table_column(const struct csvimport_table *t, const char *name)
{
	size_t	 i, l;

	while (*name == ' ' || *name == '\t')
		name++;
	l = strlen(name);
	while (l > 0 && (name[l - 1] == ' ' || name[l - 1] == '\t'))
		l--;
	for (i = 0; i < t->ncols; i++) {
		if (strlen(t->header[i]) == l &&
		    strncasecmp(t->header[i], name, l) == 0)
			return (int)i;
	}
	return -1;
}

/* Free what csvimport_table_parse stored; t is left empty. */
void
csvimport_table_cleanup(struct csvimport_table *t)
{
	size_t	i, j;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrecords; i++) {
		for (j = 0; j < t->ncols; j++)
			free(t->records[i].cells[j]);
		free(t->records[i].cells);
	}
	free(t->records);
	for (i = 0; t->header != NULL && i < t->ncols; i++)
		free(t->header[i]);
	free(t->header);
	for (i = 0; i < t->nerrors; i++)
		free(t->errors[i].message);
	free(t->errors);
	memset(t, 0, sizeof *t);
}
