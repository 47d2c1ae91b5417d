/*
 * offload.c -- long read-only work on a reader thread.
 *
 * A report over 100,000 people and a million completions takes a few
 * hundred milliseconds of SQLite. Run on the loop, it would hold every
 * other client (and delivery's bookkeeping) for that long. So such
 * commands run on one reader thread with its own read-only connection
 * (store_reader_open: the store's connection is per thread) and a
 * snapshot of its own (WAL readers never block the writer, nor it them).
 *
 * A job is two functions and an argument: run (on the reader) and done
 * (on the loop, with the result; "cancelled" when the daemon stops before
 * the job ran). Jobs run one at a time, in order. The loop learns of a
 * finished job through an event made active from the reader
 * (evthread_use_pthreads runs before any event base exists: see
 * delivery_init_threads).
 *
 * Locking rule: offload_mtx guards offload_todo, offload_finished,
 * offload_running and offload_quit; the job being run belongs to the
 * reader until it is put on offload_finished. The work itself must only
 * read the store and its own argument: no log.c (the loop's), no other
 * module's state. What it needs from the configuration must not change
 * under it: the loop calls offload_wait before it switches configuration.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "offload.h"
#include "store.h"

struct offload_job {
	struct offload_job	*next;
	void			(*run)(void *);
	void			(*done)(void *, int);
	void			*arg;
};

static struct event		*offload_ev;	/* jobs finished */
static pthread_t		 offload_thread;
static int			 offload_started;
static char			 offload_path[4096];

static pthread_mutex_t		 offload_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 offload_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t		 offload_idle = PTHREAD_COND_INITIALIZER;
static struct offload_job	*offload_todo, **offload_todo_tail = &offload_todo;
static struct offload_job	*offload_finished,
				**offload_finished_tail = &offload_finished;
static int			 offload_running;	/* a job is being run */
static int			 offload_quit;
static int			 offload_opened;	/* the reader's connection */

/* The reader thread: open the connection, then run jobs until told. */
static void *
offload_main(void *arg)
{
	struct offload_job	*j;
	char			 err[512];

	(void)arg;
	pthread_mutex_lock(&offload_mtx);
	offload_opened = store_reader_open(offload_path, err,
	    sizeof err) == 0 ? 1 : -1;
	pthread_cond_broadcast(&offload_idle);
	if (offload_opened == -1) {
		pthread_mutex_unlock(&offload_mtx);
		return NULL;
	}
	for (;;) {
		while (offload_todo == NULL && !offload_quit)
			pthread_cond_wait(&offload_cond, &offload_mtx);
		if (offload_quit)
			break;
		j = offload_todo;
		if ((offload_todo = j->next) == NULL)
			offload_todo_tail = &offload_todo;
		j->next = NULL;
		offload_running = 1;
		pthread_mutex_unlock(&offload_mtx);

		j->run(j->arg);

		pthread_mutex_lock(&offload_mtx);
		offload_running = 0;
		*offload_finished_tail = j;
		offload_finished_tail = &j->next;
		pthread_cond_broadcast(&offload_idle);
		pthread_mutex_unlock(&offload_mtx);
		/* Created before the thread, freed after it is joined. */
		event_active(offload_ev, EV_READ, 0);
		pthread_mutex_lock(&offload_mtx);
	}
	pthread_mutex_unlock(&offload_mtx);
	store_reader_close();
	return NULL;
}

/* Hand finished jobs (and, with cancel, the ones never run) back. */
static void
offload_deliver(int cancel)
{
	struct offload_job	*list, *todo = NULL, *j;

	pthread_mutex_lock(&offload_mtx);
	list = offload_finished;
	offload_finished = NULL;
	offload_finished_tail = &offload_finished;
	if (cancel) {
		todo = offload_todo;
		offload_todo = NULL;
		offload_todo_tail = &offload_todo;
	}
	pthread_mutex_unlock(&offload_mtx);
	while ((j = list) != NULL) {
		list = j->next;
		j->done(j->arg, 0);
		free(j);
	}
	while ((j = todo) != NULL) {
		todo = j->next;
		j->done(j->arg, 1);
		free(j);
	}
}

static void
offload_done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	offload_deliver(0);
}

/*
 * Start the reader on the database at path. On failure (logged) the
 * daemon goes on without it: offload_submit refuses, and the caller does
 * the work on the loop.
 */
int
offload_start(struct event_base *base, const char *path, char *err,
    size_t errlen)
{
	sigset_t	 all, old;
	int		 e;

	if (offload_started) {
		snprintf(err, errlen, "the reader is already running");
		return -1;
	}
	if (strlen(path) >= sizeof offload_path) {
		snprintf(err, errlen, "the database path is too long");
		return -1;
	}
	snprintf(offload_path, sizeof offload_path, "%s", path);
	if ((offload_ev = event_new(base, -1, 0, offload_done_cb, NULL)) ==
	    NULL) {
		snprintf(err, errlen, "cannot create the reader's event");
		return -1;
	}
	offload_quit = 0;
	offload_opened = 0;
	/* Signals are the loop's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&offload_thread, NULL, offload_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		snprintf(err, errlen, "cannot start the reader thread: %s",
		    strerror(e));
		goto fail;
	}
	/* Wait for its connection, so that a failure is known now. */
	pthread_mutex_lock(&offload_mtx);
	while (offload_opened == 0)
		pthread_cond_wait(&offload_idle, &offload_mtx);
	pthread_mutex_unlock(&offload_mtx);
	if (offload_opened == -1) {
		pthread_join(offload_thread, NULL);
		snprintf(err, errlen, "the reader cannot open the database");
		goto fail;
	}
	offload_started = 1;
	return 0;

fail:
	event_free(offload_ev);
	offload_ev = NULL;
	return -1;
}

/*
 * Run run(arg) on the reader, then done(arg, 0) on the loop; -1 (nothing
 * taken) when there is no reader.
 */
int
offload_submit(void (*run)(void *), void (*done)(void *, int), void *arg)
{
	struct offload_job	*j;

	if (!offload_started)
		return -1;
	if ((j = calloc(1, sizeof *j)) == NULL)
		log_fatal("offload: out of memory");
	j->run = run;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&offload_mtx);
	*offload_todo_tail = j;
	offload_todo_tail = &j->next;
	pthread_cond_signal(&offload_cond);
	pthread_mutex_unlock(&offload_mtx);
	return 0;
}

/*
 * Wait until the reader has nothing to run (the loop, before it switches
 * configuration). The finished jobs are handed back on the next loop
 * pass, as usual.
 */
void
offload_wait(void)
{
	if (!offload_started)
		return;
	pthread_mutex_lock(&offload_mtx);
	while (offload_running || offload_todo != NULL)
		pthread_cond_wait(&offload_idle, &offload_mtx);
	pthread_mutex_unlock(&offload_mtx);
}

/* Let the job being run finish, cancel the rest, stop the reader. */
void
offload_stop(void)
{
	if (!offload_started)
		return;
	pthread_mutex_lock(&offload_mtx);
	offload_quit = 1;
	pthread_cond_signal(&offload_cond);
	pthread_mutex_unlock(&offload_mtx);
	pthread_join(offload_thread, NULL);
	offload_deliver(1);
	event_free(offload_ev);
	offload_ev = NULL;
	offload_started = 0;
}
