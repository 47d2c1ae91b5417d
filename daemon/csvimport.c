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

/* The cells of the record being read. */
struct csvimport_ctx {
	struct csvimport	*out;
	size_t			 line;		/* where the record starts */
	char			*cells[CSVIMPORT_NCOLS];
	size_t			 ncells;	/* counted, stored up to NCOLS */
	char			 problem[160];	/* first cell-level problem */
	int			 header_done;
	int			 cols[CSVIMPORT_NCOLS];	/* column -> field */
	size_t			 ncols;
	char			 fatal[256];	/* set: the header is unusable */
	size_t			 rows_alloc, errors_alloc;
	int			 nomem;
};

static void csvimport_problem(struct csvimport_ctx *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
csvimport_problem(struct csvimport_ctx *ctx, const char *fmt, ...)
{
	va_list	ap;

	if (ctx->problem[0] != '\0')
		return;		/* the first problem is the one to report */
	va_start(ap, fmt);
	vsnprintf(ctx->problem, sizeof ctx->problem, fmt, ap);
	va_end(ap);
}

static void
csvimport_clear_cells(struct csvimport_ctx *ctx)
{
	size_t	i;

	for (i = 0; i < CSVIMPORT_NCOLS; i++) {
		free(ctx->cells[i]);
		ctx->cells[i] = NULL;
	}
	ctx->ncells = 0;
	ctx->problem[0] = '\0';
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
	struct csvimport_ctx	*ctx = arg;
	size_t			 i = ctx->ncells++;
	char			*copy;

	if (i >= CSVIMPORT_NCOLS)
		return;		/* too many cells: counted, reported later */
	if (len > 0 && memchr(data, '\0', len) != NULL) {
		csvimport_problem(ctx, "cell %zu contains a NUL byte", i + 1);
		return;
	}
	if (valid_utf8(data, len) == -1) {
		csvimport_problem(ctx, "cell %zu is not valid UTF-8", i + 1);
		return;
	}
	if (len == 0)
		return;		/* an empty cell stays NULL */
	if ((copy = malloc(len + 1)) == NULL) {
		ctx->nomem = 1;
		return;
	}
	memcpy(copy, data, len);
	copy[len] = '\0';
	ctx->cells[i] = copy;
}

static int
csvimport_add_error(struct csvimport_ctx *ctx, size_t line, const char *msg)
{
	struct csvimport	*out = ctx->out;
	void			*p;
	size_t			 n;

	if (out->nerrors == ctx->errors_alloc) {
		n = ctx->errors_alloc == 0 ? 16 : ctx->errors_alloc * 2;
		if ((p = reallocarray(out->errors, n,
		    sizeof *out->errors)) == NULL)
			goto fail;
		out->errors = p;
		ctx->errors_alloc = n;
	}
	if ((out->errors[out->nerrors].message = strdup(msg)) == NULL)
		goto fail;
	out->errors[out->nerrors++].line = line;
	return 0;
fail:
	ctx->nomem = 1;
	return -1;
}

/* The header record: map each column to a field. */
static void
csvimport_header(struct csvimport_ctx *ctx)
{
	char	 q[64];
	size_t	 i, c, l;
	int	 seen[CSVIMPORT_NCOLS] = { 0 };
	char	*name;

	ctx->header_done = 1;
	if (ctx->problem[0] != '\0') {
		snprintf(ctx->fatal, sizeof ctx->fatal, "csv: the header: %s",
		    ctx->problem);
		return;
	}
	if (ctx->ncells > CSVIMPORT_NCOLS) {
		snprintf(ctx->fatal, sizeof ctx->fatal, "csv: the header has "
		    "%zu columns; the known ones are name, email, "
		    "organization, position, lang, tags", ctx->ncells);
		return;
	}
	for (i = 0; i < ctx->ncells; i++) {
		name = ctx->cells[i];
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
			snprintf(ctx->fatal, sizeof ctx->fatal, "csv: unknown "
			    "column \"%s\" in the header (known: name, email, "
			    "organization, position, lang, tags)",
			    csvimport_quote(name, q, sizeof q));
			return;
		}
		if (seen[c]++) {
			snprintf(ctx->fatal, sizeof ctx->fatal, "csv: column "
			    "\"%s\" appears twice in the header",
			    csvimport_col_names[c]);
			return;
		}
		ctx->cols[i] = (int)c;
	}
	ctx->ncols = ctx->ncells;
	if (!seen[CSVIMPORT_NAME] || !seen[CSVIMPORT_EMAIL])
		snprintf(ctx->fatal, sizeof ctx->fatal, "csv: the header must "
		    "name the columns \"name\" and \"email\"");
}

/* A data record: a row, or an error with its line. */
static void
csvimport_row(struct csvimport_ctx *ctx)
{
	struct csvimport	*out = ctx->out;
	struct csvimport_row	*row;
	char			 msg[200];
	char			**field[CSVIMPORT_NCOLS];
	void			*p;
	size_t			 i, n;

	if (ctx->ncells != ctx->ncols) {
		snprintf(msg, sizeof msg, "expected %zu cells as in the "
		    "header, found %zu", ctx->ncols, ctx->ncells);
		csvimport_add_error(ctx, ctx->line, msg);
		return;
	}
	if (ctx->problem[0] != '\0') {
		csvimport_add_error(ctx, ctx->line, ctx->problem);
		return;
	}
	if (out->nrows == ctx->rows_alloc) {
		n = ctx->rows_alloc == 0 ? 64 : ctx->rows_alloc * 2;
		if ((p = reallocarray(out->rows, n, sizeof *out->rows)) ==
		    NULL) {
			ctx->nomem = 1;
			return;
		}
		out->rows = p;
		ctx->rows_alloc = n;
	}
	row = &out->rows[out->nrows++];
	memset(row, 0, sizeof *row);
	row->line = ctx->line;
	field[CSVIMPORT_NAME] = &row->name;
	field[CSVIMPORT_EMAIL] = &row->email;
	field[CSVIMPORT_ORGANIZATION] = &row->organization;
	field[CSVIMPORT_POSITION] = &row->position;
	field[CSVIMPORT_LANG] = &row->lang;
	field[CSVIMPORT_TAGS] = &row->tags;
	for (i = 0; i < ctx->ncols; i++) {
		*field[ctx->cols[i]] = ctx->cells[i];	/* moved */
		ctx->cells[i] = NULL;
	}
}

/* libcsv: one record ended. */
static void
csvimport_record_cb(int c, void *arg)
{
	struct csvimport_ctx	*ctx = arg;

	(void)c;
	/* After a fatal problem the result is decided: records are dropped. */
	if (ctx->fatal[0] == '\0' && !ctx->nomem) {
		if (!ctx->header_done)
			csvimport_header(ctx);
		else
			csvimport_row(ctx);
	}
	csvimport_clear_cells(ctx);
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

/* Parse text into out; see csvimport.h. */
int
csvimport_parse(const char *text, size_t len, struct csvimport *out,
    char *err, size_t errlen)
{
	struct csvimport_ctx	*ctx = NULL;
	struct csv_parser	 p;
	size_t			 pos = 0, end, nl, line = 1;
	char			 delim;
	int			 have_parser = 0, bad;

	memset(out, 0, sizeof *out);
	if (text == NULL)
		len = 0;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	if ((ctx = calloc(1, sizeof *ctx)) == NULL)
		goto fail;
	ctx->out = out;
	delim = csvimport_delimiter(text, len);
	if (csvimport_parser_init(&p, delim) == -1)
		goto fail;
	have_parser = 1;

	while (pos < len && ctx->fatal[0] == '\0' && !ctx->nomem) {
		end = csvimport_record_end(text, len, pos, delim, &nl);
		ctx->line = line;
		if (!csvimport_blank(text + pos, end - pos)) {
			bad = csv_parse(&p, text + pos, end - pos,
			    csvimport_field_cb, csvimport_record_cb, ctx) !=
			    end - pos;
			if (!bad && csv_fini(&p, csvimport_field_cb,
			    csvimport_record_cb, ctx) != 0)
				bad = 1;
			if (bad && csv_error(&p) == CSV_ENOMEM)
				goto fail;
			if (bad) {
				/* A failed parser is not reusable. */
				csv_free(&p);
				have_parser = 0;
				csvimport_clear_cells(ctx);
				if (!ctx->header_done) {
					snprintf(ctx->fatal, sizeof ctx->fatal,
					    "csv: the header has a misplaced "
					    "quote");
					break;
				}
				csvimport_add_error(ctx, line, "misplaced quote "
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
	if (ctx->nomem)
		goto fail;
	if (ctx->fatal[0] == '\0' && !ctx->header_done)
		snprintf(ctx->fatal, sizeof ctx->fatal, "csv: the file is "
		    "empty; the first row must name the columns (name, email, "
		    "...)");
	if (ctx->fatal[0] != '\0')
		goto fail;
	if (have_parser)
		csv_free(&p);
	csvimport_clear_cells(ctx);
	free(ctx);
	return 0;
fail:
	/* Everything but a header problem is running out of memory. */
	if (ctx != NULL && ctx->fatal[0] != '\0')
		snprintf(err, errlen, "%s", ctx->fatal);
	else
		snprintf(err, errlen, "csv: out of memory");
	if (have_parser)
		csv_free(&p);
	if (ctx != NULL)
		csvimport_clear_cells(ctx);
	free(ctx);
	csvimport_cleanup(out);
	return -1;
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
	struct csvimport_table	*out;
	size_t			 line;
	char			**cells;	/* CSVIMPORT_TABLE_COLS + 1 */
	size_t			 ncells;	/* counted, stored up to the cap */
	char			 problem[160];
	int			 header_done;
	char			 fatal[256];
	size_t			 rows_alloc, errors_alloc;
	int			 nomem;
};

static void csvimport_tproblem(struct csvimport_tctx *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
csvimport_tproblem(struct csvimport_tctx *ctx, const char *fmt, ...)
{
	va_list	ap;

	if (ctx->problem[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(ctx->problem, sizeof ctx->problem, fmt, ap);
	va_end(ap);
}

static void
csvimport_tclear(struct csvimport_tctx *ctx)
{
	size_t	i;

	for (i = 0; i < ctx->ncells && i <= CSVIMPORT_TABLE_COLS; i++) {
		free(ctx->cells[i]);
		ctx->cells[i] = NULL;
	}
	ctx->ncells = 0;
	ctx->problem[0] = '\0';
}

/* libcsv: one cell of a table ended. */
static void
csvimport_tfield_cb(void *data, size_t len, void *arg)
{
	struct csvimport_tctx	*ctx = arg;
	size_t			 i = ctx->ncells++;
	char			*copy;

	if (i > CSVIMPORT_TABLE_COLS)
		return;		/* counted: too many cells */
	if (len > 0 && memchr(data, '\0', len) != NULL) {
		csvimport_tproblem(ctx, "cell %zu contains a NUL byte", i + 1);
		return;
	}
	if (valid_utf8(data, len) == -1) {
		csvimport_tproblem(ctx, "cell %zu is not valid UTF-8", i + 1);
		return;
	}
	if (len == 0)
		return;
	if ((copy = malloc(len + 1)) == NULL) {
		ctx->nomem = 1;
		return;
	}
	memcpy(copy, data, len);
	copy[len] = '\0';
	ctx->cells[i] = copy;
}

static void
csvimport_terror(struct csvimport_tctx *ctx, size_t line, const char *msg)
{
	struct csvimport_table	*out = ctx->out;
	void			*p;
	size_t			 n;

	if (out->nerrors == ctx->errors_alloc) {
		n = ctx->errors_alloc == 0 ? 16 : ctx->errors_alloc * 2;
		if ((p = reallocarray(out->errors, n,
		    sizeof *out->errors)) == NULL) {
			ctx->nomem = 1;
			return;
		}
		out->errors = p;
		ctx->errors_alloc = n;
	}
	if ((out->errors[out->nerrors].message = strdup(msg)) == NULL) {
		ctx->nomem = 1;
		return;
	}
	out->errors[out->nerrors++].line = line;
}

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
csvimport_theader(struct csvimport_tctx *ctx)
{
	struct csvimport_table	*out = ctx->out;
	size_t			 i;

	ctx->header_done = 1;
	if (ctx->problem[0] != '\0') {
		snprintf(ctx->fatal, sizeof ctx->fatal, "csv: the header: %s",
		    ctx->problem);
		return;
	}
	if (ctx->ncells > CSVIMPORT_TABLE_COLS) {
		snprintf(ctx->fatal, sizeof ctx->fatal, "csv: the header has "
		    "%zu columns, more than %d", ctx->ncells,
		    CSVIMPORT_TABLE_COLS);
		return;
	}
	if ((out->header = calloc(ctx->ncells, sizeof *out->header)) ==
	    NULL) {
		ctx->nomem = 1;
		return;
	}
	out->ncols = ctx->ncells;
	for (i = 0; i < ctx->ncells; i++) {
		if ((out->header[i] = csvimport_trimmed(ctx->cells[i])) ==
		    NULL) {
			ctx->nomem = 1;
			return;
		}
		if (out->header[i][0] == '\0') {
			snprintf(ctx->fatal, sizeof ctx->fatal, "csv: column "
			    "%zu of the header has no name", i + 1);
			return;
		}
	}
}

static void
csvimport_trow(struct csvimport_tctx *ctx)
{
	struct csvimport_table	*out = ctx->out;
	struct csvimport_record	*r;
	char			 msg[200];
	void			*p;
	size_t			 i, n;

	if (ctx->ncells != out->ncols) {
		snprintf(msg, sizeof msg, "expected %zu cells as in the "
		    "header, found %zu", out->ncols, ctx->ncells);
		csvimport_terror(ctx, ctx->line, msg);
		return;
	}
	if (ctx->problem[0] != '\0') {
		csvimport_terror(ctx, ctx->line, ctx->problem);
		return;
	}
	if (out->nrecords == ctx->rows_alloc) {
		n = ctx->rows_alloc == 0 ? 64 : ctx->rows_alloc * 2;
		if ((p = reallocarray(out->records, n,
		    sizeof *out->records)) == NULL) {
			ctx->nomem = 1;
			return;
		}
		out->records = p;
		ctx->rows_alloc = n;
	}
	if ((p = calloc(out->ncols ? out->ncols : 1, sizeof(char *))) ==
	    NULL) {
		ctx->nomem = 1;
		return;
	}
	r = &out->records[out->nrecords++];
	r->line = ctx->line;
	r->cells = p;
	for (i = 0; i < out->ncols; i++) {
		r->cells[i] = ctx->cells[i];	/* moved */
		ctx->cells[i] = NULL;
	}
}

/* libcsv: one record of a table ended. */
static void
csvimport_trecord_cb(int c, void *arg)
{
	struct csvimport_tctx	*ctx = arg;

	(void)c;
	if (ctx->fatal[0] == '\0' && !ctx->nomem) {
		if (!ctx->header_done)
			csvimport_theader(ctx);
		else
			csvimport_trow(ctx);
	}
	csvimport_tclear(ctx);
}

/* Parse a table; see csvimport.h. */
int
csvimport_table_parse(const char *text, size_t len,
    struct csvimport_table *out, char *err, size_t errlen)
{
	struct csvimport_tctx	*ctx = NULL;
	struct csv_parser	 p;
	size_t			 pos = 0, end, nl, line = 1;
	char			 delim;
	int			 have_parser = 0, bad;

	memset(out, 0, sizeof *out);
	if (text == NULL)
		len = 0;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	if ((ctx = calloc(1, sizeof *ctx)) == NULL ||
	    (ctx->cells = calloc(CSVIMPORT_TABLE_COLS + 1,
	    sizeof *ctx->cells)) == NULL)
		goto fail;
	ctx->out = out;
	delim = csvimport_delimiter(text, len);
	if (csvimport_parser_init(&p, delim) == -1)
		goto fail;
	have_parser = 1;
	while (pos < len && ctx->fatal[0] == '\0' && !ctx->nomem) {
		end = csvimport_record_end(text, len, pos, delim, &nl);
		ctx->line = line;
		if (!csvimport_blank(text + pos, end - pos)) {
			bad = csv_parse(&p, text + pos, end - pos,
			    csvimport_tfield_cb, csvimport_trecord_cb, ctx) !=
			    end - pos;
			if (!bad && csv_fini(&p, csvimport_tfield_cb,
			    csvimport_trecord_cb, ctx) != 0)
				bad = 1;
			if (bad && csv_error(&p) == CSV_ENOMEM)
				goto fail;
			if (bad) {
				csv_free(&p);
				have_parser = 0;
				csvimport_tclear(ctx);
				if (!ctx->header_done) {
					snprintf(ctx->fatal, sizeof ctx->fatal,
					    "csv: the header has a misplaced "
					    "quote");
					break;
				}
				csvimport_terror(ctx, line, "misplaced quote "
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
	if (ctx->nomem)
		goto fail;
	if (ctx->fatal[0] == '\0' && !ctx->header_done)
		snprintf(ctx->fatal, sizeof ctx->fatal, "csv: the file is "
		    "empty; the first row must name the columns");
	if (ctx->fatal[0] != '\0')
		goto fail;
	if (have_parser)
		csv_free(&p);
	csvimport_tclear(ctx);
	free(ctx->cells);
	free(ctx);
	return 0;
fail:
	if (ctx != NULL && ctx->fatal[0] != '\0')
		snprintf(err, errlen, "%s", ctx->fatal);
	else
		snprintf(err, errlen, "csv: out of memory");
	if (have_parser)
		csv_free(&p);
	if (ctx != NULL && ctx->cells != NULL) {
		csvimport_tclear(ctx);
		free(ctx->cells);
	}
	free(ctx);
	csvimport_table_cleanup(out);
	return -1;
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
