/*
 * commands.h -- the command table and its handlers.
 *
 * The server hands each complete request line to commands_execute and
 * queues the reply it returns. Every state-changing command runs in one
 * store transaction and is recorded in the audit table.
 */
#ifndef COMMANDS_H
#define COMMANDS_H

#include <stddef.h>
#include <sys/types.h>

#include "lectern.h"

struct config;

struct commands_peer {
	uid_t	uid;
	gid_t	gid;
	pid_t	pid;
	int	can_write;	/* root or a member of coordinator_group */
};

/* Start the module: borrow cfg (defaults: zone, reminders, lang). The store must be open. */
int commands_start(const struct config *cfg);
void commands_stop(void);
/* After a successful SIGHUP reload: borrow the new configuration. */
void commands_set_config(const struct config *cfg);

/*
 * Execute one request line (len octets, without the '\n'). Returns the
 * malloc'd reply line, '\n'-terminated, with its length in *outlen; never
 * NULL (allocation failure is fatal). Nothing a peer sends can make this
 * abort.
 */
char *commands_execute(const char *line, size_t len,
    const struct commands_peer *peer, size_t *outlen);

/*
 * The same for the server: a long read-only command (a report) may run on
 * the reader thread (offload.c). Then it returns NULL, *later names the
 * request, and fn(arg, reply, len) receives the reply (malloc'd, now the
 * callee's) on a later loop pass; until then the server sends this client
 * nothing else, so that replies keep the order of requests. A server
 * whose client goes away first calls commands_later_detach.
 */
typedef void (*commands_reply_fn)(void *, char *, size_t);
struct commands_later;
char *commands_execute_async(const char *line, size_t len,
    const struct commands_peer *peer, size_t *outlen, commands_reply_fn fn,
    void *arg, struct commands_later **later);
void commands_later_detach(struct commands_later *);

/* A reply with "id":null for a line the server could not frame (too long). */
char *commands_refuse(enum lectern_error code, const char *message,
    size_t *outlen);

#endif
