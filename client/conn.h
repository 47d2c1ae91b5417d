/*
 * conn.h -- the client's side of the socket: connect, greeting, one
 * request line out, one reply line in.
 */
#ifndef CONN_H
#define CONN_H

#include <stddef.h>

#include <jansson.h>

/* The longest reply line the client accepts (a long list is many MiB). */
#define CONN_LINE_MAX	(256u * 1024 * 1024)

struct conn;

/*
 * Connect to the daemon's socket at path. Returns a new connection, or
 * NULL with a sentence in err that includes a hint ("is lecternd
 * running?", the socket's group on EACCES).
 */
struct conn *conn_open(const char *path, char *err, size_t errlen);
/* Close and free; NULL is a no-op. */
void conn_free(struct conn *c);

/* Read the greeting and check its protocol. 0, or -1 with err set. */
int conn_greet(struct conn *c, char *err, size_t errlen);

/*
 * Send {"id":id,"cmd":cmd,"args":args} (args borrowed, may be NULL) and
 * read the reply. Returns the checked reply object (caller decrefs), or
 * NULL with err set when the daemon could not be talked to.
 */
json_t *conn_request(struct conn *c, long long id, const char *cmd,
    json_t *args, char *err, size_t errlen);

/* Check a greeting object (pure). 0, or -1 with err set. */
int conn_check_greeting(const json_t *g, char *err, size_t errlen);
/*
 * Check the shape of a reply to request id (pure): ok:true with a result,
 * or ok:false with error.code and error.message strings. 0 or -1.
 */
int conn_check_reply(const json_t *r, long long id, char *err,
    size_t errlen);

/* The maximum line length a conn accepts; tests lower it. */
extern size_t conn_line_max;

#endif
