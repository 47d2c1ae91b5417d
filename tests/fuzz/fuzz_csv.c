/*
 * fuzz_csv.c -- the CSV parsers: the people file (person.import) and
 * tables with any columns (attendance.import, training.import).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csvimport.h"
#include "valid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csvimport c;
	struct csvimport_table t;
	char err[256];
	size_t i;

	memset(&c, 0, sizeof c);
	if (csvimport_parse((const char *)data, size, &c, err, sizeof err) == 0) {
		/* Every cell handed out is a NUL-terminated valid UTF-8 string. */
		for (i = 0; i < c.nrows; i++) {
			const char *cells[] = { c.rows[i].name, c.rows[i].email,
			    c.rows[i].organization, c.rows[i].position,
			    c.rows[i].lang, c.rows[i].tags };
			for (size_t k = 0; k < sizeof cells / sizeof cells[0]; k++) {
				if (cells[k] != NULL &&
				    valid_utf8(cells[k], strlen(cells[k])) != 0)
					abort();
			}
			if (c.rows[i].line < 2)
				abort();
		}
	}
	csvimport_cleanup(&c);
	if (csvimport_table_parse((const char *)data, size, &t, err,
	    sizeof err) == 0) {
		if (t.ncols == 0 || t.ncols > CSVIMPORT_TABLE_COLS)
			abort();
		for (i = 0; i < t.nrecords; i++) {
			if (t.records[i].line < 2)
				abort();
			for (size_t k = 0; k < t.ncols; k++) {
				const char *s = t.records[i].cells[k];

				if (s != NULL && (*s == '\0' ||
				    valid_utf8(s, strlen(s)) != 0))
					abort();
			}
		}
	}
	csvimport_table_cleanup(&t);
	return 0;
}
