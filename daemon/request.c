/*
 * request.c -- decoding one request line into its envelope; pure.
 *
 * jansson does the hard parts: it refuses invalid UTF-8 (overlongs,
 * surrogates, truncated sequences), \u0000 (without JSON_ALLOW_NUL),
 * integers and reals that overflow, and with JSON_REJECT_DUPLICATES
 * duplicate keys. What is left here is the envelope's shape and the depth
 * limit, which jansson enforces only at its own, much larger, bound.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lectern.h"
#include "proto.h"
#include "request.h"

#define REQUEST_DEPTH_MAX	32
#define REQUEST_ID_MAX		200
#define REQUEST_QUOTE_MAX	60

static void request_error(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
request_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Printable ASCII copy of s, at most max octets, other bytes as '?': for
 * quoting keys and jansson's messages (which may quote raw input bytes,
 * invalid UTF-8 included) in a sentence that must become a JSON string.
 */
static const char *
request_ascii(const char *s, size_t max, char *out, size_t outlen)
{
	return proto_quote(s, s != NULL ? strlen(s) : 0, max, out, outlen);
}

/* 1 if v nests deeper than the limit (v itself is at depth). */
static int
request_too_deep(json_t *v, int depth)
{
	const char	*key;
	json_t		*child;
	size_t		 i;

	if (depth > REQUEST_DEPTH_MAX)
		return 1;
	if (json_is_object(v)) {
		json_object_foreach(v, key, child) {
			if ((json_is_object(child) || json_is_array(child)) &&
			    request_too_deep(child, depth + 1))
				return 1;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			if ((json_is_object(child) || json_is_array(child)) &&
			    request_too_deep(child, depth + 1))
				return 1;
		}
	}
	return 0;
}

/* Decode one line (without its '\n') into req; see request.h. */
enum lectern_error
request_decode(const char *line, size_t len, struct request *req, char *err,
    size_t errlen)
{
	char		 q[REQUEST_QUOTE_MAX + 8];
	json_error_t	 jerr;
	json_t		*root, *id, *cmd, *args, *v;
	const char	*key;

	req->root = NULL;
	req->id = json_null();
	req->cmd = NULL;
	req->args = NULL;

	if (line == NULL || len == 0) {
		request_error(err, errlen, "empty request");
		return LECTERN_E_BAD_REQUEST;
	}
	if (memchr(line, '\0', len) != NULL) {
		request_error(err, errlen, "request contains a NUL byte");
		return LECTERN_E_BAD_REQUEST;
	}
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		request_error(err, errlen, "invalid JSON at column %d: %s",
		    jerr.column, request_ascii(jerr.text, 120, q, sizeof q));
		return LECTERN_E_BAD_REQUEST;
	}
	req->root = root;
	if (!json_is_object(root)) {
		request_error(err, errlen, "request must be a JSON object");
		return LECTERN_E_BAD_REQUEST;
	}

	/* The id first, so that every later error can carry it. */
	id = json_object_get(root, "id");
	if (id == NULL) {
		request_error(err, errlen, "id: missing");
		return LECTERN_E_BAD_REQUEST;
	}
	if (json_is_string(id)) {
		if (json_string_length(id) > REQUEST_ID_MAX) {
			request_error(err, errlen, "id: a string id must not "
			    "be longer than %d octets", REQUEST_ID_MAX);
			return LECTERN_E_BAD_REQUEST;
		}
	} else if (!json_is_integer(id)) {
		request_error(err, errlen, "id: must be an integer or a "
		    "string");
		return LECTERN_E_BAD_REQUEST;
	}
	req->id = id;

	if (request_too_deep(root, 1)) {
		request_error(err, errlen, "request nests deeper than %d "
		    "levels", REQUEST_DEPTH_MAX);
		return LECTERN_E_BAD_REQUEST;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "id") != 0 && strcmp(key, "cmd") != 0 &&
		    strcmp(key, "args") != 0) {
			request_error(err, errlen, "unknown top-level key \"%s\" "
			    "(allowed: id, cmd, args)",
			    request_ascii(key, REQUEST_QUOTE_MAX, q, sizeof q));
			return LECTERN_E_BAD_REQUEST;
		}
	}
	cmd = json_object_get(root, "cmd");
	if (cmd == NULL) {
		request_error(err, errlen, "cmd: missing");
		return LECTERN_E_BAD_REQUEST;
	}
	if (!json_is_string(cmd)) {
		request_error(err, errlen, "cmd: must be a string");
		return LECTERN_E_BAD_REQUEST;
	}
	args = json_object_get(root, "args");
	if (args == NULL) {
		/* Owned by root, so request_cleanup has one thing to free. */
		args = json_object();
		if (args == NULL || json_object_set_new(root, "args",
		    args) == -1) {
			request_error(err, errlen, "out of memory");
			return LECTERN_E_INTERNAL;
		}
	} else if (!json_is_object(args)) {
		request_error(err, errlen, "args: must be an object");
		return LECTERN_E_BAD_REQUEST;
	}
	req->cmd = json_string_value(cmd);
	req->args = args;
	return LECTERN_OK;
}

/* Release what request_decode kept. */
void
request_cleanup(struct request *req)
{
	if (req == NULL)
		return;
	json_decref(req->root);
	req->root = NULL;
	req->id = json_null();
	req->cmd = NULL;
	req->args = NULL;
}

/* Serialize obj (consumed) as one '\n'-terminated line. */
static char *
request_line(json_t *obj, size_t *len)
{
	char	*s, *line;
	size_t	 n;

	*len = 0;
	if (obj == NULL)
		return NULL;
	/*
	 * Compact output escapes control characters: always one line. Reals
	 * (hours, percentages: one decimal) with 15 significant digits, so
	 * that 7.3 is written 7.3 and not 7.2999999999999998.
	 */
	s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(obj);
	if (s == NULL)
		return NULL;
	n = strlen(s);
	if ((line = realloc(s, n + 2)) == NULL) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}

/* The id to echo: integers and strings as they are, anything else null. */
static json_t *
request_reply_id(json_t *id)
{
	if (id == NULL || !(json_is_integer(id) || json_is_string(id)))
		return json_null();
	return json_incref(id);
}

/* A JSON string of s, made valid (printable ASCII copy) if s is not UTF-8. */
static json_t *
request_string(const char *s)
{
	json_t	*v;
	char	*copy;
	size_t	 i, n;

	if (s == NULL)
		s = "";
	if ((v = json_string(s)) != NULL)
		return v;
	n = strlen(s);
	if ((copy = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		copy[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	copy[n] = '\0';
	v = json_string(copy);
	free(copy);
	return v;
}

/* A success reply line; result is stolen. Returns a malloc'd line. */
char *
request_reply_ok(json_t *id, json_t *result, size_t *len)
{
	json_t	*o;

	if (result == NULL)
		result = json_object();
	if ((o = json_object()) == NULL) {
		json_decref(result);
		*len = 0;
		return NULL;
	}
	if (json_object_set_new(o, "id", request_reply_id(id)) == -1 ||
	    json_object_set_new(o, "ok", json_true()) == -1 ||
	    json_object_set_new(o, "result", result) == -1) {
		json_decref(o);
		*len = 0;
		return NULL;
	}
	return request_line(o, len);
}

/* An error reply line; extra is stolen. Returns a malloc'd line. */
char *
request_reply_error(json_t *id, enum lectern_error code, const char *message,
    const char *field, json_t *extra, size_t *len)
{
	json_t	*o, *e;

	o = json_object();
	e = json_object();
	if (o == NULL || e == NULL)
		goto fail;
	if (json_object_set_new(e, "code",
	    json_string(proto_error_name(code))) == -1 ||
	    json_object_set_new(e, "message", request_string(message)) == -1)
		goto fail;
	if (field != NULL &&
	    json_object_set_new(e, "field", request_string(field)) == -1)
		goto fail;
	/* Extra members never replace code, message or field. */
	if (extra != NULL && json_is_object(extra) &&
	    json_object_update_missing(e, extra) == -1)
		goto fail;
	json_decref(extra);
	extra = NULL;
	if (json_object_set_new(o, "id", request_reply_id(id)) == -1 ||
	    json_object_set_new(o, "ok", json_false()) == -1) {
		json_decref(e);
		e = NULL;
		goto fail;
	}
	if (json_object_set_new(o, "error", e) == -1) {
		e = NULL;	/* set_new consumed it */
		goto fail;
	}
	return request_line(o, len);
fail:
	json_decref(extra);
	json_decref(e);
	json_decref(o);
	*len = 0;
	return NULL;
}
