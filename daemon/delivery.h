/*
 * delivery.h -- sending the outbox: libcurl's multi-socket API driven by
 * the daemon's libevent loop (the hiperfifo pattern), or the maildir
 * transport. The only module that touches libcurl.
 */
#ifndef DELIVERY_H
#define DELIVERY_H

#include <stddef.h>
#include <jansson.h>

struct event_base;
struct config;

/* Start delivering what the outbox holds. Returns 0, or -1 with err. */
int delivery_start(struct event_base *base, const struct config *cfg,
    char *err, size_t errlen);
/*
 * Stop: take no new transfers, give those in flight a few seconds to
 * finish (what does not finish stays queued and is sent again later),
 * release everything. Runs the event loop itself while it waits.
 */
void delivery_stop(void);
/* Borrow a reloaded configuration (mail settings; a paused server is retried). */
void delivery_set_config(const struct config *cfg);
/* The outbox changed (a command committed new rows): look for due work soon. */
void delivery_kick(void);
/*
 * The state of delivery for status, as a new object:
 * {"transport":"smtp"|"maildir","in_flight":N,"paused":bool,
 *  "paused_reason":"..."|null,"next_attempt":"...Z"|null}
 */
json_t *delivery_status(void);

#endif
