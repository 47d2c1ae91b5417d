/*
 * offload.h -- long read-only work (reports) on a reader thread with its
 * own database connection, so that the loop keeps serving meanwhile.
 */
#ifndef OFFLOAD_H
#define OFFLOAD_H

#include <stddef.h>

struct event_base;

int offload_start(struct event_base *, const char *, char *, size_t);
void offload_stop(void);
/* run(arg) on the reader, then done(arg, cancelled) on the loop. */
int offload_submit(void (*)(void *), void (*)(void *, int), void *);
/* Block until the reader is idle (before a configuration switch). */
void offload_wait(void);

#endif
