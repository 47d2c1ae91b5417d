/* test_request.c -- the request envelope and reply lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lectern.h"
#include "request.h"

#define LINE(s) (s), (sizeof(s) - 1)

static enum lectern_error
decode(const char *s, size_t len, struct request *req, char *err,
    size_t errlen)
{
	enum lectern_error rc;

	err[0] = '\0';
	rc = request_decode(s, len, req, err, errlen);
	if (rc != LECTERN_OK) {
		assert_true(strlen(err) > 0);
		assert_null(strchr(err, '\n'));
	}
	return rc;
}

static void
test_good(void **state)
{
	struct request	req;
	char		err[256];

	(void)state;
	assert_int_equal(decode(LINE("{\"id\":1,\"cmd\":\"status\"}"), &req,
	    err, sizeof err), LECTERN_OK);
	assert_int_equal(json_integer_value(req.id), 1);
	assert_string_equal(req.cmd, "status");
	assert_true(json_is_object(req.args));
	assert_int_equal(json_object_size(req.args), 0);
	request_cleanup(&req);

	assert_int_equal(decode(LINE(" {\"cmd\":\"person.add\",\"args\":"
	    "{\"name\":\"Иван\",\"email\":\"i@x.ru\"},\"id\":\"abc\"} "), &req,
	    err, sizeof err), LECTERN_OK);
	assert_string_equal(json_string_value(req.id), "abc");
	assert_string_equal(req.cmd, "person.add");
	assert_string_equal(json_string_value(json_object_get(req.args,
	    "name")), "Иван");
	request_cleanup(&req);
	/* Cleaning twice is harmless. */
	request_cleanup(&req);
	request_cleanup(NULL);

	/* Negative and the largest integers are ids too. */
	assert_int_equal(decode(LINE("{\"id\":-9223372036854775808,\"cmd\":"
	    "\"x\"}"), &req, err, sizeof err), LECTERN_OK);
	assert_true(json_integer_value(req.id) == INT64_MIN);
	request_cleanup(&req);
}

struct bad_case {
	const char	*line;
	size_t		 len;
	int		 has_id;	/* the error still carries the id */
	const char	*words;		/* expected in the sentence */
};

#define BAD(s, has_id, words) { (s), sizeof(s) - 1, (has_id), (words) }

static void
test_bad(void **state)
{
	static const struct bad_case cases[] = {
		BAD("", 0, "empty"),
		BAD("not json", 0, "invalid JSON"),
		BAD("[1,2]", 0, "object"),
		BAD("\"str\"", 0, "invalid JSON"),
		BAD("{\"id\":1,\"cmd\":\"x\"", 0, "invalid JSON"),
		BAD("{\"id\":1,\"cmd\":\"x\"} {}", 0, "invalid JSON"),
		BAD("{\"id\":1,\"cmd\":\"x\",\"cmd\":\"y\"}", 0, "duplicate"),
		BAD("{\"id\":1,\"cmd\":\"x\",\"args\":{\"a\":1,\"a\":2}}", 0,
		    "duplicate"),
		BAD("{\"id\":1,\"cmd\":\"a\0b\"}", 0, "NUL"),
		BAD("{\"id\":1,\"cmd\":\"a\\u0000b\"}", 0, "invalid JSON"),
		BAD("{\"id\":1,\"cmd\":\"\xc0\xaf\"}", 0, "invalid JSON"),
		BAD("{\"id\":1,\"cmd\":\"\xed\xa0\x80\"}", 0, "invalid JSON"),
		BAD("{\"id\":1,\"cmd\":\"\xf8\x88\x80\x80\x80\"}", 0,
		    "invalid JSON"),
		BAD("{\"id\":1,\"cmd\":\"\xe2\x82\"}", 0, "invalid JSON"),
		BAD("{\"id\":1,\"cmd\":\"\xff\"}", 0, "invalid JSON"),
		BAD("{\"id\":1e400,\"cmd\":\"x\"}", 0, "invalid JSON"),
		BAD("{\"id\":99999999999999999999999,\"cmd\":\"x\"}", 0,
		    "invalid JSON"),
		BAD("{\"id\":1.5,\"cmd\":\"x\"}", 0, "id"),
		BAD("{\"id\":null,\"cmd\":\"x\"}", 0, "id"),
		BAD("{\"id\":true,\"cmd\":\"x\"}", 0, "id"),
		BAD("{\"id\":[1],\"cmd\":\"x\"}", 0, "id"),
		BAD("{\"id\":{},\"cmd\":\"x\"}", 0, "id"),
		BAD("{\"cmd\":\"x\"}", 0, "id: missing"),
		BAD("{\"id\":1}", 1, "cmd: missing"),
		BAD("{\"id\":1,\"cmd\":7}", 1, "cmd: must be a string"),
		BAD("{\"id\":1,\"cmd\":null}", 1, "cmd"),
		BAD("{\"id\":1,\"cmd\":\"x\",\"args\":[]}", 1, "args"),
		BAD("{\"id\":1,\"cmd\":\"x\",\"args\":null}", 1, "args"),
		BAD("{\"id\":1,\"cmd\":\"x\",\"args\":\"a\"}", 1, "args"),
		BAD("{\"id\":1,\"cmd\":\"x\",\"extra\":1}", 1,
		    "unknown top-level key \"extra\""),
		BAD("{\"id\":1,\"cmd\":\"x\",\"Cmd\":1}", 1, "unknown"),
		BAD("{\"id\":1,\"cmd\":\"x\",\"a\\nb\":1}", 1,
		    "unknown top-level key \"a?b\""),
	};
	struct request	req;
	char		err[256];
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (decode(cases[i].line, cases[i].len, &req, err,
		    sizeof err) != LECTERN_E_BAD_REQUEST)
			fail_msg("case %zu accepted", i);
		if (strstr(err, cases[i].words) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			    cases[i].words);
		if (cases[i].has_id)
			assert_int_equal(json_integer_value(req.id), 1);
		else
			assert_true(json_is_null(req.id));
		request_cleanup(&req);
	}
}

static char *
nested(int depth)
{
	char	*s = malloc(depth * 2 + 64);
	size_t	 o;
	int	 i;

	assert_non_null(s);
	o = (size_t)snprintf(s, 64, "{\"id\":5,\"cmd\":\"x\",\"args\":");
	/* args is at depth 2; add depth - 2 arrays inside it. */
	s[o++] = '{';
	s[o++] = '"';
	s[o++] = 'a';
	s[o++] = '"';
	s[o++] = ':';
	for (i = 0; i < depth - 2; i++)
		s[o++] = '[';
	for (i = 0; i < depth - 2; i++)
		s[o++] = ']';
	s[o++] = '}';
	s[o++] = '}';
	s[o] = '\0';
	return s;
}

static void
test_depth_and_size(void **state)
{
	struct request	 req;
	char		 err[256], *s;
	size_t		 i;

	(void)state;
	s = nested(32);
	assert_int_equal(decode(s, strlen(s), &req, err, sizeof err),
	    LECTERN_OK);
	request_cleanup(&req);
	free(s);
	s = nested(33);
	assert_int_equal(decode(s, strlen(s), &req, err, sizeof err),
	    LECTERN_E_BAD_REQUEST);
	assert_non_null(strstr(err, "deeper than 32"));
	assert_int_equal(json_integer_value(req.id), 5);
	request_cleanup(&req);
	free(s);
	/* Far beyond jansson's own limit: an error, not a crash. */
	s = nested(100000);
	assert_int_equal(decode(s, strlen(s), &req, err, sizeof err),
	    LECTERN_E_BAD_REQUEST);
	request_cleanup(&req);
	free(s);

	/* String ids: 200 octets accepted, 201 refused. */
	s = malloc(400);
	assert_non_null(s);
	for (i = 200; i <= 201; i++) {
		int n = snprintf(s, 400, "{\"id\":\"%0*d\",\"cmd\":\"x\"}",
		    (int)i, 7);

		assert_int_equal(decode(s, (size_t)n, &req, err, sizeof err),
		    i == 200 ? LECTERN_OK : LECTERN_E_BAD_REQUEST);
		request_cleanup(&req);
	}
	free(s);

	/* A 10,000-character value passes; the envelope does not judge it. */
	s = malloc(10100);
	assert_non_null(s);
	i = (size_t)snprintf(s, 100, "{\"id\":1,\"cmd\":\"x\",\"args\":"
	    "{\"t\":\"");
	memset(s + i, 'y', 10000);
	memcpy(s + i + 10000, "\"}}", 4);
	assert_int_equal(decode(s, strlen(s), &req, err, sizeof err),
	    LECTERN_OK);
	assert_int_equal(json_string_length(json_object_get(req.args, "t")),
	    10000);
	request_cleanup(&req);
	free(s);
}

static void
test_replies(void **state)
{
	struct request	 req;
	char		 err[256], *line;
	size_t		 len;
	json_t		*extra, *errs;

	(void)state;
	assert_int_equal(decode(LINE("{\"id\":42,\"cmd\":\"status\"}"), &req,
	    err, sizeof err), LECTERN_OK);
	line = request_reply_ok(req.id, json_pack("{s:s}", "t", "a\nb"),
	    &len);
	assert_non_null(line);
	assert_string_equal(line,
	    "{\"id\":42,\"ok\":true,\"result\":{\"t\":\"a\\nb\"}}\n");
	assert_int_equal(len, strlen(line));
	free(line);

	extra = json_object();
	errs = json_array();
	json_array_append_new(errs, json_pack("{s:i,s:s}", "line", 4,
	    "message", "email: bad"));
	json_object_set_new(extra, "errors", errs);
	json_object_set_new(extra, "code", json_string("override"));
	line = request_reply_error(req.id, LECTERN_E_INVALID_ARGUMENT,
	    "csv: row 4 is invalid", "csv", extra, &len);
	assert_non_null(line);
	assert_string_equal(line, "{\"id\":42,\"ok\":false,\"error\":{"
	    "\"code\":\"invalid_argument\",\"message\":\"csv: row 4 is "
	    "invalid\",\"field\":\"csv\",\"errors\":[{\"line\":4,\"message\":"
	    "\"email: bad\"}]}}\n");
	free(line);
	request_cleanup(&req);

	/* The id of a refused request is echoed; none gives null. */
	assert_int_equal(decode(LINE("{\"id\":\"q1\",\"cmd\":3}"), &req, err,
	    sizeof err), LECTERN_E_BAD_REQUEST);
	line = request_reply_error(req.id, LECTERN_E_BAD_REQUEST, err, NULL,
	    NULL, &len);
	assert_non_null(line);
	assert_string_equal(line, "{\"id\":\"q1\",\"ok\":false,\"error\":{"
	    "\"code\":\"bad_request\",\"message\":\"cmd: must be a string\"}}\n");
	free(line);
	request_cleanup(&req);
	line = request_reply_error(NULL, LECTERN_E_TOO_LARGE, "line too long",
	    NULL, NULL, &len);
	assert_string_equal(line, "{\"id\":null,\"ok\":false,\"error\":{"
	    "\"code\":\"too_large\",\"message\":\"line too long\"}}\n");
	free(line);

	/* Control characters and invalid UTF-8 never break the line. */
	line = request_reply_error(NULL, LECTERN_E_INTERNAL,
	    "bad\r\n\x01 \xc0\xaf", "f\n", NULL, &len);
	assert_non_null(line);
	assert_ptr_equal(strchr(line, '\n'), line + len - 1);
	assert_null(strchr(line, '\r'));
	assert_non_null(strstr(line, "\"message\":\"bad??? ??\""));
	free(line);
	line = request_reply_ok(NULL, NULL, &len);
	assert_string_equal(line, "{\"id\":null,\"ok\":true,\"result\":{}}\n");
	free(line);
}

/* A rough guard for the hot path: decoding must be far from the budget. */
static void
test_speed(void **state)
{
	static const char line[] = "{\"id\":12345,\"cmd\":\"session.add\","
	    "\"args\":{\"kind\":\"webinar\",\"title\":\"Formative assessment\","
	    "\"start\":\"2026-12-01T15:00\",\"duration\":90,\"tz\":"
	    "\"Europe/Moscow\",\"reminders\":[1440,60]}}";
	struct request	 req;
	char		 err[256], *out;
	struct timespec	 a, b;
	size_t		 len;
	int		 i;
	double		 secs;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 30000; i++) {
		assert_int_equal(request_decode(line, sizeof line - 1, &req,
		    err, sizeof err), LECTERN_OK);
		out = request_reply_ok(req.id, json_object(), &len);
		assert_non_null(out);
		free(out);
		request_cleanup(&req);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	/* Generous even under sanitizers; typically ~0.1 s. */
	assert_true(secs < 3.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_depth_and_size),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
