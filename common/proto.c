/* proto.c -- shared bits of the protocol: error names, quoting in error sentences. */
#include <string.h>

#include "proto.h"

static const char *const proto_error_names[] = {
	[LECTERN_OK] = "ok",
	[LECTERN_E_BAD_REQUEST] = "bad_request",
	[LECTERN_E_UNKNOWN_COMMAND] = "unknown_command",
	[LECTERN_E_INVALID_ARGUMENT] = "invalid_argument",
	[LECTERN_E_NOT_FOUND] = "not_found",
	[LECTERN_E_CONFLICT] = "conflict",
	[LECTERN_E_PERMISSION_DENIED] = "permission_denied",
	[LECTERN_E_TOO_LARGE] = "too_large",
	[LECTERN_E_BUSY] = "busy",
	[LECTERN_E_INTERNAL] = "internal",
};

#define PROTO_NERRORS (sizeof proto_error_names / sizeof proto_error_names[0])

const char *
proto_error_name(enum lectern_error code)
{
	if ((unsigned)code >= PROTO_NERRORS)
		return "internal";
	return proto_error_names[code];
}

int
proto_error_parse(const char *name)
{
	size_t i;

	for (i = 0; i < PROTO_NERRORS; i++) {
		if (strcmp(proto_error_names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

/* A printable-ASCII copy of s[0..len), at most max octets. */
const char *
proto_quote(const char *s, size_t len, size_t max, char *out, size_t outlen)
{
	size_t	i, o = 0;

	if (outlen == 0)
		return "";
	if (s == NULL)
		len = 0;
	for (i = 0; i < len && i < max && o + 4 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < len && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}
