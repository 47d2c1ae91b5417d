/*
 * delivery.h -- sending the outbox: libcurl's multi-socket API driven by
 * libevent (the hiperfifo pattern) on a delivery thread of its own, or the
 * maildir transport. The only module that touches libcurl, which it loads
 * (curlsym.h) when the first message is due over SMTP, not before. Every
 * function here is called from the main thread only.
 */
#ifndef DELIVERY_H
#define DELIVERY_H

#include <stddef.h>
#include <jansson.h>

struct event_base;
struct config;

/*
 * Make libevent thread-aware (evthread_use_pthreads). Call first thing,
 * before any event_base is created. Returns 0 or -1.
 */
int delivery_init_threads(void);
/*
 * Start delivering what the outbox holds. Returns 0, or -1 with err.
 * Loads nothing: libcurl and the delivery thread wait for the first SMTP
 * message that is due, and a failure then pauses delivery (status says
 * why) instead of stopping the daemon.
 */
int delivery_start(struct event_base *base, const struct config *cfg,
    char *err, size_t errlen);
/*
 * Stop: take no new transfers, give those in flight a few seconds to
 * finish (what does not finish stays queued and is sent again later),
 * release everything. Waits for the delivery thread, not running the
 * loop meanwhile; returns within about 4 seconds.
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
