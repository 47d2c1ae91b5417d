/* test_buf.c -- the message builders' text buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void
test_grow_and_take(void **state)
{
	struct buf	 b = { 0 };
	char		*s;
	int		 i;

	(void)state;
	assert_string_equal(buf_get(&b), "");
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "%03d,", i % 1000);
	buf_str(&b, "end");
	buf_add(&b, "\0x", 2);		/* octets, not a string */
	assert_int_equal(b.len, 4000 + 3 + 2);
	assert_memory_equal(b.s + 3996, "999,end\0x", 9);
	s = buf_take(&b);
	assert_non_null(s);
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	assert_memory_equal(s, "000,001,", 8);
	free(s);
}

static void
test_failure_is_sticky(void **state)
{
	struct buf	 b = { 0 };
	char		 big[600];

	(void)state;
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	buf_str(&b, "ok");
	buf_printf(&b, "%s", big);	/* over the piece limit */
	assert_true(b.failed);
	buf_str(&b, "more");
	assert_null(buf_get(&b));
	assert_null(buf_take(&b));
	assert_null(b.s);
	/* Freed and reset: usable again. */
	buf_str(&b, "again");
	assert_string_equal(buf_get(&b), "again");
	buf_free(&b);
	assert_null(b.s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow_and_take),
		cmocka_unit_test(test_failure_is_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
