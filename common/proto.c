/* proto.c -- names of the protocol's error codes. */
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
