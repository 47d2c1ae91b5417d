/* proto.h -- names of the protocol's error codes, shared by both programs. */
#ifndef PROTO_H
#define PROTO_H

#include "lectern.h"

/* The wire name of an error code ("invalid_argument"); never NULL. */
const char *proto_error_name(enum lectern_error code);
/* The code for a wire name, or -1 if the name is unknown. */
int proto_error_parse(const char *name);

#endif
