/* proto.h -- shared bits of the protocol: error names, quoting in error sentences. */
#ifndef PROTO_H
#define PROTO_H

#include "lectern.h"

/* The wire name of an error code ("invalid_argument"); never NULL. */
const char *proto_error_name(enum lectern_error code);
/* The code for a wire name, or -1 if the name is unknown. */
int proto_error_parse(const char *name);

/*
 * A printable-ASCII copy of s[0..len) for an error sentence (which must
 * not carry control characters or invalid UTF-8 into a reply, a log line
 * or a terminal): other octets become '?', at most max of them are
 * copied, and "..." marks a cut. Returns out (outlen > 0).
 */
const char *proto_quote(const char *s, size_t len, size_t max, char *out,
    size_t outlen);

#endif
