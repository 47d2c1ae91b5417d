/* request.h -- decoding one request line into its envelope; pure. */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>
#include <jansson.h>

#include "lectern.h"

struct request {
	json_t *root;		/* the whole parsed object (owned) */
	json_t *id;		/* borrowed from root: integer or string; json_null() if absent/invalid */
	const char *cmd;	/* borrowed from root */
	json_t *args;		/* borrowed from root, or an owned empty object */
};

/*
 * Decode one line (without its '\n'). Rejects: invalid UTF-8, invalid JSON,
 * NUL bytes (also as \u0000), duplicate keys, nesting deeper than 32, a
 * non-object, an "id" that is neither an integer nor a string (strings at
 * most 200 octets), a missing or non-string "cmd", "args" that is present
 * but not an object, unknown top-level keys. On error returns the code
 * (LECTERN_E_BAD_REQUEST) with a sentence in err; req->id is then still set
 * to the request's id when it could be read, so the reply can carry it.
 */
enum lectern_error request_decode(const char *line, size_t len,
    struct request *req, char *err, size_t errlen);
/* Release what request_decode kept. */
void request_cleanup(struct request *req);

/*
 * Build a reply line: {"id":..,"ok":true,"result":..} (result is stolen)
 * or {"id":..,"ok":false,"error":{"code":..,"message":..[,"field":..]}}
 * with extra members of `extra` (stolen, may be NULL) merged into error.
 * Returns a malloc'd, '\n'-terminated line; *len gets its length.
 */
char *request_reply_ok(json_t *id, json_t *result, size_t *len);
char *request_reply_error(json_t *id, enum lectern_error code,
    const char *message, const char *field, json_t *extra, size_t *len);

#endif
