/* server.h -- the control socket: accept, frame, authorise, reply. */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>

struct event_base;
struct config;

/*
 * Listen on cfg->socket (or on listen_fd, a socket passed by systemd, when
 * >= 0). A stale socket file is replaced; a live one (another daemon
 * answers) is an error. Returns 0, or -1 with err set.
 */
int server_start(struct event_base *base, const struct config *cfg,
    int listen_fd, char *err, size_t errlen);
/* Stop accepting, close every connection, remove the socket file we made. */
void server_stop(void);
/* Borrow a reloaded configuration (limits, coordinator group). */
void server_set_config(const struct config *cfg);
/* Connections open now. */
size_t server_clients(void);

#endif
