/*
 * delivery.c -- sending the outbox.
 *
 * SMTP: libcurl's multi-socket API driven by libevent (curl's hiperfifo
 * pattern): one libevent event per socket curl asks us to watch, one
 * timer for curl's timeouts, curl_multi_socket_action on every wake-up and
 * curl_multi_info_read for finished transfers. Each message is one SMTP
 * transaction to its one recipient; easy handles are kept in slots and
 * reused, and the multi handle keeps the connections.
 *
 * libcurl (7.88) waits for the reply to the final dot blocking, inside
 * curl_multi_socket_action (smtp_done -> smtp_block_statemach), for up to
 * the response timeout (RFC 5321 allows 10 minutes). So the libcurl side
 * runs on delivery threads ("workers"), each with its own event_base and
 * multi handle and a share of max_connections: one connection per worker
 * up to DELIVERY_WORKERS_MAX, so that a wait for one server reply stalls
 * only that connection, never the others and never the daemon's loop.
 *
 * The main thread (the daemon's loop) owns the store and everything else:
 * the work timer, reading due messages, the set of messages in flight,
 * the pause state, the group commit and the maildir transport. It hands
 * SMTP jobs (id, recipient, message bytes; ownership moves with the job)
 * and configuration snapshots to a worker through the worker's job queue
 * and an event on the worker's base made active from the main thread (a
 * job goes to the worker with the most room). A worker classifies each
 * finished transfer and sends back an outcome (id, its own index,
 * classification, reply code, sanitised reply) through the one result
 * queue and an event on the main base made active from the worker
 * (outcomes in groups, see delivery_res_push); it sends its log lines
 * back the same way, so that log.c (whose level is set on reload) is only
 * ever called from the main thread; the one exception is log_fatal when a
 * worker runs out of memory, which aborts anyway.
 *
 * Locking rule. delivery_mtx guards exactly these, and nothing else is
 * touched by more than one thread:
 *   each worker's jobq (main appends, that worker takes), delivery_resq
 *   (workers append, main takes; delivery_res_cond is signalled on each
 *   append), delivery_abandon (set by the main thread at stop),
 *   delivery_socks[] (the connection sockets curl opened: added in the
 *   open-socket callback, removed in the close-socket callback, which
 *   also closes the fd while holding the lock, so that the main thread
 *   never shuts down a recycled descriptor) and each worker's
 *   xfers[].sock (the socket a busy slot uses, written in the socket
 *   callback, read by the main thread at stop). delivery_unnoted and
 *   delivery_group are atomics.
 * Everything else in a struct delivery_worker (but its main-thread
 * bookkeeping, see there) is that worker thread's alone between
 * pthread_create and pthread_join; everything else is the main thread's.
 * Before the threads start and after they are joined the main thread owns
 * all of it (delivery_res_ev and each wake_ev are created before and
 * freed after, so both sides may name them). event_active() across
 * threads is safe because delivery_init_threads() (evthread_use_pthreads)
 * runs before any event_base exists. The lock is held only for list and
 * array updates and for socket(2), close(2) and shutdown(2) of the
 * recorded sockets; never while calling libcurl or libevent.
 *
 * Maildir: each message is written crash-safely into new/ (tmp, fsync,
 * rename, fsync of the directory), a bounded batch per loop pass, on the
 * main thread.
 *
 * Outcomes are written to the store in one transaction per group (group
 * commit). A message leaves the queue only once the server said 250 to the
 * final dot; anything not marked sent is sent again after a crash.
 *
 * One timer (delivery_work_ev) stands for the earliest due message; with
 * nothing queued it is not armed at all. An idle worker sleeps in its loop
 * with no timer (EVLOOP_NO_EXIT_ON_EMPTY).
 *
 * libcurl is not linked but loaded (curlsym.c), and the workers started,
 * only when the first SMTP message is due (delivery_spawn, main thread):
 * a daemon that delivers into a maildir, or has not sent anything yet,
 * never maps libcurl and its TLS stacks. Until then there are no workers
 * (delivery_workers is NULL) and delivery_spawned is 0. A library that
 * cannot be loaded pauses delivery like any server that refuses all: the
 * messages stay queued and loading is tried again at the retry time or on
 * reload. Once started, the workers run until delivery_stop.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "curlsym.h"
#include "delivery.h"
#include "lectern.h"
#include "log.h"
#include "store.h"
#include "tz.h"
#include "wake.h"

#define DELIVERY_SLOTS_MAX	100	/* the config's upper bound */
#define DELIVERY_WORKERS_MAX	16	/* threads; more connections share */
#define DELIVERY_PREFETCH	4	/* jobs handed per connection */
#define DELIVERY_REPLY_MAX	256
#define DELIVERY_LOGLINE_MAX	512
#define DELIVERY_CONNECT_TIMEOUT 30L	/* seconds */
/* RFC 5321 4.5.3.2.6: up to 10 minutes for the reply to the final dot. */
#define DELIVERY_RESPONSE_TIMEOUT 600L
#define DELIVERY_STOP_WAIT	3	/* seconds in-flight transfers get at stop */
#define DELIVERY_JOIN_WAIT	1	/* seconds the thread gets to give up */
#define DELIVERY_QUIT_WAIT	2L	/* seconds for each QUIT at stop */
#define DELIVERY_MAILDIR_BATCH	32	/* messages written per loop pass */
#define DELIVERY_RETRY_STORE	1	/* seconds before retrying a busy store */
#define DELIVERY_NOTE_WAIT	1000	/* µs the worker may keep it */

/* Where in the SMTP dialogue a transfer is: says whom a reply concerns. */
enum delivery_phase {
	DELIVERY_PH_CONNECT,	/* greeting, EHLO, STARTTLS */
	DELIVERY_PH_AUTH,
	DELIVERY_PH_MAIL,
	DELIVERY_PH_RCPT,
	DELIVERY_PH_DATA,
	DELIVERY_PH_DOT		/* after 354: the reply to the final dot */
};

enum delivery_outcome {
	DELIVERY_SENT,
	DELIVERY_DEFER,
	DELIVERY_FAIL,
	DELIVERY_PAUSE		/* the server refuses everything: no store write */
};

/* The worker's copy of the mail settings (main thread's config is borrowed). */
struct delivery_wcfg {
	char		*mail_url;
	char		*domain;
	char		*mail_from_addr;
	char		*username;
	char		*password;
	char		*ca_file;
	int		 tls;
	long		 max;		/* this worker's connections, >= 1 */
};

enum delivery_job_kind {
	DELIVERY_JOB_SEND,
	DELIVERY_JOB_CONFIG
};

/* Main -> worker: a message to send or new settings; owns its fields. */
struct delivery_job {
	struct delivery_job	*next;
	enum delivery_job_kind	 kind;
	int64_t			 id;
	char			*recipient;
	char			*message;
	size_t			 len;
	struct delivery_wcfg	*cfg;
};

enum delivery_res_kind {
	DELIVERY_RES_DONE,
	DELIVERY_RES_LOG
};

/* Worker -> main: a finished transfer's outcome, or a log line. */
struct delivery_res {
	struct delivery_res	*next;
	enum delivery_res_kind	 kind;
	int64_t			 id;
	enum delivery_outcome	 outcome;
	long			 code;
	size_t			 worker;	/* done: which one sent it */
	char			 reply[DELIVERY_REPLY_MAX];	/* done */
	enum log_level		 level;
	char			 text[DELIVERY_LOGLINE_MAX];	/* log */
};

/* One slot (worker): an easy handle, reused, and the job it carries. */
struct delivery_xfer {
	CURL			*easy;
	struct delivery_worker	*w;		/* the worker it belongs to */
	unsigned		 cfg_gen;	/* settings its handle has */
	struct curl_slist	*rcpt;
	int			 busy;
	struct delivery_job	*job;
	size_t			 off;
	enum delivery_phase	 phase;
	int			 fresh;		/* this transfer opened the connection */
	int			 authed;	/* ... and AUTH succeeded on it */
	int			 noauth;	/* aborted: credentials but no AUTH */
	int			 in_reply;	/* a multi-line reply continues */
	int			 quitting;	/* QUIT sent: keep the reply before */
	curl_socket_t		 sock;		/* under delivery_mtx */
	char			 reply[DELIVERY_REPLY_MAX];
	char			 errbuf[CURL_ERROR_SIZE];
};

struct delivery_worker;

/* One socket curl watches (curl_multi_assign'ed; worker). */
struct delivery_sock {
	struct event		*ev;
	struct delivery_sock	*next;	/* on the reap list */
};

/* A message in flight (main thread): what the outcome needs. */
struct delivery_flight {
	int64_t			 id;
	int64_t			 attempts;
	int64_t			 expires;
	char			*recipient;
	char			*message_id;
};

/* An outcome waiting for the group commit (main thread). */
struct delivery_done {
	int64_t			 id;
	enum delivery_outcome	 outcome;
	int64_t			 when;	/* sent_at or next_attempt */
	char			 reply[DELIVERY_REPLY_MAX];
};

/* Main thread. */
static struct event_base	*delivery_base;
static const struct config	*delivery_cfg;
static struct event		*delivery_work_ev;	/* earliest due work */
static struct event		*delivery_res_ev;	/* results arrived */
static int			 delivery_flush_failing; /* the last write failed */
static struct delivery_flight	*delivery_flights;
static size_t			 delivery_nbusy, delivery_flights_cap;
static struct delivery_done	*delivery_done;
static size_t			 delivery_ndone, delivery_done_cap;
static int			 delivery_started, delivery_stopping;
static int			 delivery_paused;
static int64_t			 delivery_paused_until;
static char			 delivery_paused_reason[DELIVERY_REPLY_MAX];
static int64_t			 delivery_next_at;
static int64_t			 delivery_expired_at;	/* last look */
static unsigned long		 delivery_seq;	/* maildir unique names */
static int			 delivery_spawned;	/* the workers run */
static int			 delivery_paused_quiet;	/* at debug */
static char			 delivery_spawn_err[DELIVERY_REPLY_MAX];

/* Shared: under delivery_mtx (see the locking rule above). */
static pthread_mutex_t		 delivery_mtx = PTHREAD_MUTEX_INITIALIZER;
/* The log level, for the worker (log.c is the main thread's). */
static atomic_int		 delivery_wlevel = LOG_LEVEL_INFO;
/* Outcomes the main thread was not woken for yet, and how many may wait. */
static atomic_size_t		 delivery_unnoted;
static atomic_size_t		 delivery_group = 1;
static pthread_cond_t		 delivery_res_cond;
static struct delivery_res	*delivery_resq, **delivery_resq_tail =
				    &delivery_resq;
static int			 delivery_abandon;
static curl_socket_t		*delivery_socks;
static size_t			 delivery_nsocks, delivery_socks_cap;

/*
 * A worker: a thread with its own event base and multi handle, and a
 * share of max_connections. libcurl (7.88) blocks a thread while it waits
 * for the reply to a message's final dot; with one connection per worker
 * (up to DELIVERY_WORKERS_MAX) that wait holds up only its own
 * connection, not every transfer in flight.
 *
 * Its fields are the worker thread's alone between pthread_create and
 * pthread_join, the main thread's before and after, except: jobq (under
 * delivery_mtx), xfers[].sock (under delivery_mtx, see the locking rule)
 * and the main thread's own bookkeeping at the end.
 */
struct delivery_worker {
	size_t			 index;
	pthread_t		 thread;
	int			 running;	/* the thread was started */
	struct event_base	*base;
	CURLM			*multi;
	struct delivery_wcfg	*cfg;
	unsigned		 cfg_gen;	/* counts new settings, from 1 */
	struct event		*wake_ev;	/* jobs or stop */
	struct event		*curl_ev;	/* curl's timer */
	struct event		*reap_ev;	/* frees dead sockets */
	struct event		*note_ev;	/* results wait */
	struct delivery_xfer	*xfers;		/* nslots of them */
	size_t			 nslots;
	size_t			 busy;
	struct delivery_job	*pend, **pend_tail;
	struct delivery_sock	*reap_list;
	int			 abandoned;	/* worker's copy */
	/* Shared, under delivery_mtx. */
	struct delivery_job	*jobq, **jobq_tail;
	/* Main thread. */
	size_t			 handed;	/* jobs without an outcome yet */
	long			 limit;		/* its share of the connections */
};

/* Main thread (the array); each element as above. */
static struct delivery_worker	*delivery_workers;
static size_t			 delivery_nworkers;

static void delivery_work_cb(evutil_socket_t, short, void *);
static void delivery_check(struct delivery_worker *);
static void delivery_wlog(enum log_level, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Make libevent thread-aware; call once before any event_base exists. */
int
delivery_init_threads(void)
{
	static int	 done;

	if (done)
		return 0;
	if (evthread_use_pthreads() == -1)
		return -1;
	done = 1;
	return 0;
}

static int64_t
delivery_now(void)
{
	return clock_now();
}

/* An error sentence into err (truncated if it must be). */
static void __attribute__((format(printf, 3, 4)))
delivery_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Run the work callback after the current one (same loop pass). */
static void
delivery_soon(void)
{
	if (delivery_work_ev != NULL && !delivery_stopping)
		event_active(delivery_work_ev, EV_TIMEOUT, 0);
}

/* Run the work callback on the next loop pass, after polling I/O. */
static void
delivery_next_pass(void)
{
	struct timeval	 tv = { 0, 0 };

	if (delivery_work_ev != NULL && !delivery_stopping)
		evtimer_add(delivery_work_ev, &tv);
}

/*
 * Copy an SMTP reply (or an error text) into dst as printable ASCII: line
 * breaks become spaces, other control and non-ASCII bytes '?', so that
 * it is safe in the store, in JSON and in the log.
 */
static void
delivery_sanitise(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t	 i, n = 0;
	int	 space = 0;

	if (dstlen == 0)
		return;
	for (i = 0; i < len && src[i] != '\0' && n + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
			space = n > 0;
			continue;
		}
		if (space) {
			dst[n++] = ' ';
			space = 0;
			if (n + 1 >= dstlen)
				break;
		}
		dst[n++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	dst[n] = '\0';
}

/* The retry delay after attempts earlier tries: initial, doubling, capped. */
static int64_t
delivery_backoff(int64_t attempts)
{
	int64_t	 d, max;

	d = delivery_cfg->retry_initial > 0 ? delivery_cfg->retry_initial : 1;
	max = delivery_cfg->retry_max > d ? delivery_cfg->retry_max : d;
	while (attempts-- > 0 && d < max)
		d = d > max / 2 ? max : d * 2;
	return d < max ? d : max;
}

/*
 * Stop taking messages until the retry time or a reload. A quiet pause
 * (the same failure as last time, already logged) logs at debug only, and
 * so does its end.
 */
static void
delivery_pause(const char *reason, int quiet)
{
	int64_t	 wait;

	wait = delivery_cfg->retry_max > 0 ? delivery_cfg->retry_max : 60;
	delivery_paused_until = delivery_now() + wait;
	if (delivery_paused)
		return;
	delivery_paused = 1;
	delivery_paused_quiet = quiet;
	snprintf(delivery_paused_reason, sizeof delivery_paused_reason, "%s",
	    reason);
	if (quiet)
		log_debug("delivery: paused: %s; retrying in %" PRId64 " s or "
		    "on reload", reason, wait);
	else
		log_err("delivery: paused: %s; retrying in %" PRId64 " s or on "
		    "reload", reason, wait);
}

static void
delivery_unpause(const char *why)
{
	if (!delivery_paused)
		return;
	delivery_paused = 0;
	delivery_paused_reason[0] = '\0';
	if (delivery_paused_quiet)
		log_debug("delivery: resumed (%s)", why);
	else
		log_notice("delivery: resumed (%s)", why);
	delivery_paused_quiet = 0;
}

/* Queue an outcome for the next group commit. */
static void
delivery_record(int64_t id, enum delivery_outcome o, int64_t when,
    const char *reply)
{
	struct delivery_done	*d;
	size_t			 cap;

	if (delivery_ndone == delivery_done_cap) {
		cap = delivery_done_cap ? delivery_done_cap * 2 : 16;
		d = reallocarray(delivery_done, cap, sizeof *d);
		if (d == NULL)
			log_fatal("delivery: out of memory");
		delivery_done = d;
		delivery_done_cap = cap;
	}
	d = &delivery_done[delivery_ndone++];
	d->id = id;
	d->outcome = o;
	d->when = when;
	snprintf(d->reply, sizeof d->reply, "%s", reply);
}

/*
 * Write the recorded outcomes in one transaction. On a busy or failing
 * store they stay recorded (and their messages out of new transfers) for
 * the next try.
 */
static int
delivery_flush(void)
{
	struct delivery_done	*d;
	enum lectern_error	 code;
	char			 err[256];
	int64_t			 n;
	size_t			 i;

	if (delivery_ndone == 0)
		return 0;
	/* Outcomes need not wait for the disk: see store_begin_light. */
	if ((code = store_begin_light()) != LECTERN_OK) {
		log_warn("delivery: cannot record %zu outcome%s now (%s); "
		    "retrying", delivery_ndone, delivery_ndone == 1 ? "" : "s",
		    code == LECTERN_E_BUSY ? "database busy" : "database error");
		delivery_flush_failing = 1;
		return -1;
	}
	for (i = 0; i < delivery_ndone; i++) {
		d = &delivery_done[i];
		switch (d->outcome) {
		case DELIVERY_SENT:
			code = store_outbox_sent(d->id, d->when, d->reply, err,
			    sizeof err);
			break;
		case DELIVERY_DEFER:
			code = store_outbox_defer(d->id, d->when, d->reply, err,
			    sizeof err);
			break;
		case DELIVERY_FAIL:
			code = store_outbox_fail(d->id, d->reply, err,
			    sizeof err);
			break;
		default:
			code = LECTERN_OK;
			break;
		}
		/* Removed or requeued meanwhile: nothing to record. */
		if (code == LECTERN_E_NOT_FOUND) {
			log_debug("delivery: %s", err);
			continue;
		}
		if (code != LECTERN_OK)
			goto fail;
	}
	if ((code = store_outbox_expire(delivery_now(), &n, err,
	    sizeof err)) != LECTERN_OK)
		goto fail;
	if (store_commit() != LECTERN_OK) {
		snprintf(err, sizeof err, "commit failed");
		goto fail;
	}
	if (n > 0)
		log_notice("delivery: %" PRId64 " message%s expired unsent", n,
		    n == 1 ? "" : "s");
	delivery_ndone = 0;
	delivery_flush_failing = 0;
	return 0;

fail:
	store_rollback();
	log_warn("delivery: cannot record outcomes: %s; retrying", err);
	delivery_flush_failing = 1;
	return -1;
}

/* The ids not to hand out again: in flight or waiting to be recorded. */

/* The ids not to hand out again: in flight or waiting to be recorded. */
static int64_t *
delivery_skip_ids(size_t *n)
{
	int64_t	*v;
	size_t	 i, k = 0;

	*n = 0;
	if (delivery_nbusy + delivery_ndone == 0)
		return NULL;
	v = calloc(delivery_nbusy + delivery_ndone, sizeof *v);
	if (v == NULL)
		log_fatal("delivery: out of memory");
	for (i = 0; i < delivery_nbusy; i++)
		v[k++] = delivery_flights[i].id;
	for (i = 0; i < delivery_ndone; i++)
		v[k++] = delivery_done[i].id;
	*n = k;
	return v;
}

static void
delivery_log(int64_t id, const char *message_id, const char *recipient,
    const char *what, const char *reply)
{
	log_info("delivery: message %" PRId64 " <%s> to %s: %s: %s", id,
	    message_id != NULL ? message_id : "", recipient, what, reply);
}

/* Maildir. */


static int
delivery_mkdir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		delivery_errf(err, errlen, "cannot create %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Create dir and its tmp, new and cur if missing. */
static int
delivery_maildir_init(const char *dir, char *err, size_t errlen)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	char	 p[4096];
	size_t	 i;
	int	 n;

	if (delivery_mkdir(dir, err, errlen) == -1)
		return -1;
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		n = snprintf(p, sizeof p, "%s/%s", dir, sub[i]);
		if (n < 0 || (size_t)n >= sizeof p) {
			delivery_errf(err, errlen, "%s: path too long", dir);
			return -1;
		}
		if (delivery_mkdir(p, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
delivery_write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One message of a maildir batch: its file in tmp/, then in new/. */
struct delivery_mfile {
	char	 tmp[4096], dst[4096];
	char	 err[512];	/* why it failed */
	int	 state;		/* 0 failed, 1 written in tmp/, 2 in new/ */
};

/*
 * Write m into dir/tmp/ (not yet synced); f gets the paths. -1 with err
 * set on failure (nothing left behind).
 */
static int
delivery_maildir_write(const char *dir, const struct store_outbox_msg *m,
    struct delivery_mfile *f, char *err, size_t errlen)
{
	struct timespec	 ts;
	char		 host[256], name[512];
	size_t		 i;
	int		 fd, n, saved;

	f->state = 0;
	if (gethostname(host, sizeof host) == -1)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (host[i] == '/' || host[i] == ':')
			host[i] = '_';
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(name, sizeof name, "%lld.M%ldP%ldQ%luI%" PRId64 ".%s",
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid(),
	    ++delivery_seq, m->id, host);
	if (n < 0 || (size_t)n >= sizeof name ||
	    (n = snprintf(f->tmp, sizeof f->tmp, "%s/tmp/%s", dir, name)) < 0 ||
	    (size_t)n >= sizeof f->tmp ||
	    (n = snprintf(f->dst, sizeof f->dst, "%s/new/%s", dir, name)) < 0 ||
	    (size_t)n >= sizeof f->dst) {
		delivery_errf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		delivery_errf(err, errlen, "cannot create %s: %s", f->tmp,
		    strerror(errno));
		return -1;
	}
	if (delivery_write_all(fd, m->message, m->len) == -1 ||
	    close(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(f->tmp);
		delivery_errf(err, errlen, "cannot write %s: %s", f->tmp,
		    strerror(saved));
		return -1;
	}
	f->state = 1;
	return 0;
}

/*
 * Make the files of a batch durable in dir/new/: their data first, then
 * the renames into new/, then new/ itself. One syncfs(2) for the data of
 * the whole batch instead of an fsync per file: the files are synced
 * together, in one journal commit, which is what makes a fan-out of
 * hundreds of reminders land within milliseconds instead of one disk
 * flush each. A file system that cannot syncfs gets an fsync per file.
 * Files that fail go back to state 0 (and are removed).
 */
static void
delivery_maildir_commit(const char *dir, struct delivery_mfile *f, size_t n,
    char *err, size_t errlen)
{
	char	 nd[4096];
	size_t	 i;
	int	 dfd, fd, ok = 0;

	snprintf(nd, sizeof nd, "%s/new", dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1 &&
	    syncfs(dfd) == 0)
		ok = 1;
	if (dfd != -1)
		close(dfd);
	for (i = 0; i < n; i++) {
		if (f[i].state != 1)
			continue;
		if (!ok && ((fd = open(f[i].tmp, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fsync(fd) == -1 || close(fd) == -1)) {
			delivery_errf(err, errlen, "cannot sync %s: %s",
			    f[i].tmp, strerror(errno));
			unlink(f[i].tmp);
			f[i].state = 0;
			continue;
		}
		if (rename(f[i].tmp, f[i].dst) == -1) {
			delivery_errf(err, errlen, "cannot move %s into new/: "
			    "%s", f[i].tmp, strerror(errno));
			unlink(f[i].tmp);
			f[i].state = 0;
			continue;
		}
		f[i].state = 2;
	}
	if ((dfd = open(nd, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		/* Not durable: none counts as delivered. */
		delivery_errf(err, errlen, "cannot sync %s: %s", nd,
		    strerror(errno));
		for (i = 0; i < n; i++)
			if (f[i].state == 2)
				f[i].state = 0;
	}
	if (dfd != -1)
		close(dfd);
}

/* Write up to one batch of due messages into the maildir. */
static void
delivery_maildir_pass(int64_t now)
{
	struct store_outbox_msg	*msgs = NULL;
	struct delivery_mfile	*files;
	int64_t			*skip;
	size_t			 n = 0, nskip, i;
	char			 err[512], reply[DELIVERY_REPLY_MAX];
	char			 cerr[512] = "";

	skip = delivery_skip_ids(&nskip);
	if (store_outbox_due(now, DELIVERY_MAILDIR_BATCH, skip, nskip, &msgs,
	    &n, err, sizeof err) != LECTERN_OK) {
		log_warn("delivery: cannot read the outbox: %s", err);
		free(skip);
		return;
	}
	free(skip);
	if (n == 0)
		goto done;
	if ((files = calloc(n, sizeof *files)) == NULL)
		log_fatal("delivery: out of memory");
	if (delivery_maildir_init(delivery_cfg->maildir, err,
	    sizeof err) == 0) {
		for (i = 0; i < n; i++)
			delivery_maildir_write(delivery_cfg->maildir,
			    &msgs[i], &files[i], files[i].err,
			    sizeof files[i].err);
		delivery_maildir_commit(delivery_cfg->maildir, files, n, cerr,
		    sizeof cerr);
	} else
		for (i = 0; i < n; i++)
			snprintf(files[i].err, sizeof files[i].err, "%s", err);
	for (i = 0; i < n; i++) {
		if (files[i].state == 2) {
			delivery_record(msgs[i].id, DELIVERY_SENT, now,
			    "maildir: delivered");
			delivery_log(msgs[i].id, msgs[i].message_id,
			    msgs[i].recipient, "sent", "maildir");
			continue;
		}
		if (files[i].err[0] == '\0')
			snprintf(files[i].err, sizeof files[i].err, "%s", cerr);
		delivery_sanitise(reply, sizeof reply, files[i].err,
		    strlen(files[i].err));
		delivery_record(msgs[i].id, DELIVERY_DEFER, now +
		    delivery_backoff(msgs[i].attempts), reply);
		delivery_log(msgs[i].id, msgs[i].message_id,
		    msgs[i].recipient, "deferred", reply);
	}
	free(files);
done:
	store_outbox_msgs_free(msgs, n);
	delivery_flush();
	/* More may be due: continue after the loop has polled I/O. */
	if (n == DELIVERY_MAILDIR_BATCH)
		delivery_next_pass();
}

/* SMTP transfers. */
/* The delivery thread (the worker). */

/* Wake the main thread's loop for the results queued (worker). */
static void
delivery_wnote(struct delivery_worker *w)
{
	atomic_store(&delivery_unnoted, 0);
	if (w->note_ev != NULL)
		evtimer_del(w->note_ev);
	/* Set before the thread starts, freed after it is joined. */
	event_active(delivery_res_ev, EV_READ, 0);
}

static void
delivery_wnote_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	delivery_wnote(arg);
}

/*
 * Append a result for the main thread (worker). Outcomes wake it in
 * groups, max_connections at a time (counted over all workers) or
 * DELIVERY_NOTE_WAIT after the first, and it writes each group in one
 * transaction: a wake-up and a commit per message cost more than the
 * message's bookkeeping. So after a crash the messages sent again are
 * those being sent plus fewer than max_connections whose 250 had not
 * been written yet. Log lines wake it at once.
 */
static void
delivery_res_push(struct delivery_worker *w, struct delivery_res *r)
{
	struct timeval	 tv = { 0, DELIVERY_NOTE_WAIT };

	r->next = NULL;
	pthread_mutex_lock(&delivery_mtx);
	*delivery_resq_tail = r;
	delivery_resq_tail = &r->next;
	pthread_cond_signal(&delivery_res_cond);
	pthread_mutex_unlock(&delivery_mtx);
	if (w == NULL) {
		event_active(delivery_res_ev, EV_READ, 0);
		return;
	}
	if (w->note_ev == NULL || atomic_fetch_add(&delivery_unnoted, 1) + 1 >=
	    atomic_load(&delivery_group)) {
		delivery_wnote(w);
		return;
	}
	if (!evtimer_pending(w->note_ev, NULL))
		evtimer_add(w->note_ev, &tv);
}

/* A log line, written by the main thread (worker). */
static void
delivery_wlog(enum log_level level, const char *fmt, ...)
{
	struct delivery_res	*r;
	va_list			 ap;

	/* Most lines are debug: drop them here, not after a wake-up. */
	if ((int)level > atomic_load(&delivery_wlevel))
		return;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return;
	r->kind = DELIVERY_RES_LOG;
	r->level = level;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof r->text, fmt, ap);
	va_end(ap);
	delivery_res_push(NULL, r);
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: open a connection's socket and remember it
 * (under the lock), so that the main thread can shut it down at stop even
 * while libcurl is blocked reading from it. None once stopping.
 */
static curl_socket_t
delivery_opensocket_cb(void *arg, curlsocktype purpose,
    struct curl_sockaddr *a)
{
	curl_socket_t	*v, s = CURL_SOCKET_BAD;
	size_t		 cap;

	(void)arg;
	(void)purpose;
	pthread_mutex_lock(&delivery_mtx);
	if (!delivery_abandon && delivery_nsocks == delivery_socks_cap) {
		cap = delivery_socks_cap ? delivery_socks_cap * 2 : 8;
		if ((v = reallocarray(delivery_socks, cap, sizeof *v)) != NULL) {
			delivery_socks = v;
			delivery_socks_cap = cap;
		}
	}
	if (!delivery_abandon && delivery_nsocks < delivery_socks_cap) {
		s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
		if (s != CURL_SOCKET_BAD)
			delivery_socks[delivery_nsocks++] = s;
	}
	pthread_mutex_unlock(&delivery_mtx);
	return s;
}

/*
 * CURLOPT_CLOSESOCKETFUNCTION: forget and close s under the lock, so that
 * the main thread never shuts down a descriptor number reused meanwhile.
 */
static int
delivery_closesocket_cb(void *arg, curl_socket_t s)
{
	struct delivery_worker	*w = arg;
	size_t			 i;
	int			 r;

	pthread_mutex_lock(&delivery_mtx);
	for (i = 0; i < delivery_nsocks; i++)
		if (delivery_socks[i] == s) {
			delivery_socks[i] = delivery_socks[--delivery_nsocks];
			break;
		}
	for (i = 0; i < w->nslots; i++)
		if (w->xfers[i].sock == s)
			w->xfers[i].sock = CURL_SOCKET_BAD;
	r = close(s);
	pthread_mutex_unlock(&delivery_mtx);
	return r;
}

/* Free a worker configuration (the password is wiped first). */
static void
delivery_wcfg_free(struct delivery_wcfg *c)
{
	if (c == NULL)
		return;
	free(c->mail_url);
	free(c->domain);
	free(c->mail_from_addr);
	free(c->username);
	free(c->ca_file);
	if (c->password != NULL)
		explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	free(c);
}

static int
delivery_dup(char **dst, const char *src)
{
	*dst = NULL;
	if (src != NULL && (*dst = strdup(src)) == NULL)
		return -1;
	return 0;
}

/* A copy of what the worker needs from cfg; NULL when out of memory. */
static struct delivery_wcfg *
delivery_wcfg_new(const struct config *cfg)
{
	struct delivery_wcfg	*c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	if (delivery_dup(&c->mail_url, cfg->mail_url) == -1 ||
	    delivery_dup(&c->domain, cfg->domain) == -1 ||
	    delivery_dup(&c->mail_from_addr, cfg->mail_from_addr) == -1 ||
	    delivery_dup(&c->username, cfg->username) == -1 ||
	    delivery_dup(&c->password, cfg->password) == -1 ||
	    delivery_dup(&c->ca_file, cfg->ca_file) == -1) {
		delivery_wcfg_free(c);
		return NULL;
	}
	c->tls = (int)cfg->tls;
	c->max = cfg->mail_max_connections > 0 ?
	    (long)cfg->mail_max_connections : 1;
	if (c->max > DELIVERY_SLOTS_MAX)
		c->max = DELIVERY_SLOTS_MAX;
	return c;
}

static void
delivery_job_free(struct delivery_job *j)
{
	if (j == NULL)
		return;
	free(j->recipient);
	free(j->message);
	delivery_wcfg_free(j->cfg);
	free(j);
}

/* Free a list of jobs. */
static void
delivery_jobs_free(struct delivery_job *j)
{
	struct delivery_job	*next;

	for (; j != NULL; j = next) {
		next = j->next;
		delivery_job_free(j);
	}
}


static size_t
delivery_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct delivery_xfer	*x = arg;
	size_t			 n, left;

	n = size * nitems;
	left = x->job->len - x->off;
	if (n > left)
		n = left;
	memcpy(buf, x->job->message + x->off, n);
	x->off += n;
	return n;
}

/* One line the server sent: keep the reply's code and text. */
static void
delivery_reply_line(struct delivery_xfer *x, const char *line, size_t len)
{
	char	 clean[DELIVERY_REPLY_MAX];
	size_t	 have;
	int	 last, code;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	delivery_wlog(LOG_LEVEL_DEBUG, "delivery: message %" PRId64
	    ": server: %.*s", x->job->id, (int)len, line);
	if (x->quitting)
		return;
	if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '9' || line[2] < '0' || line[2] > '9')
		return;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	last = len == 3 || line[3] != '-';
	delivery_sanitise(clean, sizeof clean, line, len);
	if (!x->in_reply)
		snprintf(x->reply, sizeof x->reply, "%s", clean);
	else {
		have = strlen(x->reply);
		/* The continuation's text without its repeated code. */
		if (have + 1 < sizeof x->reply)
			snprintf(x->reply + have, sizeof x->reply - have, " %s",
			    len > 4 ? clean + 4 : "");
	}
	x->in_reply = !last;
	if (!last)
		return;
	if (x->phase == DELIVERY_PH_AUTH && code == 235)
		x->authed = 1;
	if (x->phase == DELIVERY_PH_DATA && code == 354)
		x->phase = DELIVERY_PH_DOT;
}

/* A command we sent (never logged: AUTH lines carry credentials). */
static void
delivery_command(struct delivery_xfer *x, const char *cmd, size_t len)
{
	if (len >= 4 && (strncasecmp(cmd, "EHLO", 4) == 0 ||
	    strncasecmp(cmd, "HELO", 4) == 0)) {
		x->fresh = 1;
		x->authed = 0;
		x->phase = DELIVERY_PH_CONNECT;
	} else if (len >= 4 && strncasecmp(cmd, "AUTH", 4) == 0)
		x->phase = DELIVERY_PH_AUTH;
	else if (len >= 10 && strncasecmp(cmd, "MAIL FROM:", 10) == 0)
		x->phase = DELIVERY_PH_MAIL;
	else if (len >= 8 && strncasecmp(cmd, "RCPT TO:", 8) == 0)
		x->phase = DELIVERY_PH_RCPT;
	else if (len >= 4 && strncasecmp(cmd, "DATA", 4) == 0)
		x->phase = DELIVERY_PH_DATA;
	else if (len >= 4 && strncasecmp(cmd, "QUIT", 4) == 0)
		x->quitting = 1;
}

/*
 * curl's protocol trace: the only way to learn the reply text and which
 * command a reply answers. Data (the message) is ignored.
 */
static int
delivery_debug_cb(CURL *easy, curl_infotype type, char *data, size_t size,
    void *arg)
{
	struct delivery_xfer	*x = arg;
	const char		*p, *end, *nl;

	(void)easy;
	if (type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
		return 0;
	p = data;
	end = data + size;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		else
			nl++;
		if (type == CURLINFO_HEADER_IN)
			delivery_reply_line(x, p, (size_t)(nl - p));
		else
			delivery_command(x, p, (size_t)(nl - p));
		p = nl;
	}
	return 0;
}

/*
 * Called once the connection is ready (greeting, EHLO, STARTTLS and AUTH
 * done) and before MAIL FROM. libcurl skips AUTH silently when the server
 * offers none; with credentials configured that is refused here.
 */
static int
delivery_prereq_cb(void *arg, char *conn_primary_ip, char *conn_local_ip,
    int conn_primary_port, int conn_local_port)
{
	struct delivery_xfer	*x = arg;

	(void)conn_primary_ip;
	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	if (x->w->cfg->username != NULL && x->fresh && !x->authed) {
		x->noauth = 1;
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

/* The URL with the EHLO name as its path: smtp://host:port/domain. */
static int
delivery_url(const struct delivery_wcfg *c, char *buf, size_t len,
    CURL *easy)
{
	const char	*u = c->mail_url;
	char		*dom;
	size_t		 ulen;
	int		 n;

	if (u == NULL)
		return -1;
	ulen = strlen(u);
	while (ulen > 0 && u[ulen - 1] == '/')
		ulen--;
	dom = curlsym_easy_escape(easy, c->domain != NULL ? c->domain :
	    "localhost", 0);
	if (dom == NULL)
		return -1;
	n = snprintf(buf, len, "%.*s/%s", (int)ulen, u, dom);
	curlsym_free(dom);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The options of slot x's handle that depend on the settings only. */
static int
delivery_setup_handle(struct delivery_xfer *x, char *err, size_t errlen)
{
	const struct delivery_wcfg	*c = x->w->cfg;
	CURL			*e = x->easy;
	char			 url[1024], addr[512];
	long			 ssl;
	int			 n, ok = 1;

	curlsym_easy_reset(e);
	if (delivery_url(c, url, sizeof url, e) == -1) {
		delivery_errf(err, errlen, "no mail url, or it is too long");
		return -1;
	}
	n = snprintf(addr, sizeof addr, "<%s>", c->mail_from_addr != NULL ?
	    c->mail_from_addr : "");
	if (n < 0 || (size_t)n >= sizeof addr) {
		delivery_errf(err, errlen, "sender address too long");
		return -1;
	}
	switch (c->tls) {
	case CONFIG_TLS_REQUIRED:
		ssl = (long)CURLUSESSL_ALL;
		break;
	case CONFIG_TLS_OPPORTUNISTIC:
		ssl = (long)CURLUSESSL_TRY;
		break;
	default:
		ssl = (long)CURLUSESSL_NONE;
		break;
	}
	ok &= curlsym_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps") ==
	    CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_MAIL_FROM, addr) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_UPLOAD, 1L) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_READFUNCTION, delivery_read_cb) ==
	    CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_READDATA, x) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_USE_SSL, ssl) == CURLE_OK;
	/* A site's own CA (or a test's); else the system's bundle. */
	if (c->ca_file != NULL)
		ok &= curlsym_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) ==
		    CURLE_OK;
	if (c->username != NULL) {
		ok &= curlsym_easy_setopt(e, CURLOPT_USERNAME, c->username) ==
		    CURLE_OK;
		ok &= curlsym_easy_setopt(e, CURLOPT_PASSWORD, c->password !=
		    NULL ? c->password : "") == CURLE_OK;
	}
	ok &= curlsym_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT,
	    DELIVERY_RESPONSE_TIMEOUT) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
	    DELIVERY_CONNECT_TIMEOUT) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_PRIVATE, x) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) ==
	    CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_VERBOSE, 1L) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_DEBUGFUNCTION,
	    delivery_debug_cb) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_DEBUGDATA, x) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_PREREQFUNCTION,
	    delivery_prereq_cb) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_PREREQDATA, x) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION,
	    delivery_opensocket_cb) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION,
	    delivery_closesocket_cb) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, x->w) ==
	    CURLE_OK;
	if (!ok) {
		delivery_errf(err, errlen, "libcurl refused an option (is SMTP "
		    "support built in?)");
		return -1;
	}
	return 0;
}


/*
 * Prepare slot x's handle for its job. The options that depend only on
 * the worker's settings are set once per handle (and again after a
 * reload): re-setting two dozen of them, and parsing the URL, for every
 * message was a tenth of the worker's time in a large send. Per message:
 * the recipient and the size.
 */
static int
delivery_setup(struct delivery_xfer *x, char *err, size_t errlen)
{
	CURL			*e = x->easy;
	char			 addr[512];
	int			 n, ok = 1;

	if (x->cfg_gen != x->w->cfg_gen) {
		if (delivery_setup_handle(x, err, errlen) == -1)
			return -1;
		x->cfg_gen = x->w->cfg_gen;
	}
	curlsym_slist_free_all(x->rcpt);
	x->rcpt = NULL;
	n = snprintf(addr, sizeof addr, "<%s>", x->job->recipient);
	if (n < 0 || (size_t)n >= sizeof addr ||
	    (x->rcpt = curlsym_slist_append(NULL, addr)) == NULL) {
		delivery_errf(err, errlen, "recipient address too long");
		return -1;
	}
	ok &= curlsym_easy_setopt(e, CURLOPT_MAIL_RCPT, x->rcpt) == CURLE_OK;
	ok &= curlsym_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)x->job->len) == CURLE_OK;
	if (!ok) {
		delivery_errf(err, errlen, "libcurl refused an option");
		return -1;
	}
	return 0;
}

/* Release a slot's job; the easy handle stays for the next one. */
static void
delivery_xfer_clear(struct delivery_xfer *x)
{
	delivery_job_free(x->job);
	x->job = NULL;
	if (x->busy) {
		x->busy = 0;
		x->w->busy--;
	}
	pthread_mutex_lock(&delivery_mtx);
	x->sock = CURL_SOCKET_BAD;
	pthread_mutex_unlock(&delivery_mtx);
}

/* Tell the main thread what became of job id (worker). */
static void
delivery_outcome(struct delivery_worker *w, int64_t id,
    enum delivery_outcome o, long code, const char *reply)
{
	struct delivery_res	*r;

	if ((r = calloc(1, sizeof *r)) == NULL)
		log_fatal("delivery: out of memory");
	r->kind = DELIVERY_RES_DONE;
	r->id = id;
	r->outcome = o;
	r->code = code;
	snprintf(r->reply, sizeof r->reply, "%s", reply);
	r->worker = w->index;
	delivery_res_push(w, r);
}

/*
 * Start sending job j in a free slot (worker). Returns -1 when every slot
 * is busy (j is not taken); otherwise j belongs to the slot, and a job that
 * cannot even start is reported deferred.
 */
static int
delivery_begin(struct delivery_worker *w, struct delivery_job *j)
{
	struct delivery_xfer	*x = NULL;
	char			 err[256], reply[DELIVERY_REPLY_MAX];
	size_t			 i, limit;
	CURLMcode		 mc;

	limit = (size_t)w->cfg->max;
	if (limit > w->nslots)
		limit = w->nslots;
	for (i = 0; i < limit; i++)
		if (!w->xfers[i].busy) {
			x = &w->xfers[i];
			break;
		}
	if (x == NULL)
		return -1;
	x->job = j;
	x->busy = 1;
	w->busy++;
	x->off = 0;
	x->phase = DELIVERY_PH_CONNECT;
	x->fresh = x->authed = x->noauth = x->in_reply = x->quitting = 0;
	x->reply[0] = '\0';
	x->errbuf[0] = '\0';
	if (x->easy == NULL && (x->easy = curlsym_easy_init()) == NULL) {
		delivery_errf(err, sizeof err, "curl_easy_init failed");
		goto fail;
	}
	if (delivery_setup(x, err, sizeof err) == -1)
		goto fail;
	if ((mc = curlsym_multi_add_handle(w->multi, x->easy)) !=
	    CURLM_OK) {
		delivery_errf(err, sizeof err, "curl_multi_add_handle: %s",
		    curlsym_multi_strerror(mc));
		goto fail;
	}
	return 0;

fail:
	delivery_wlog(LOG_LEVEL_ERR, "delivery: message %" PRId64 ": %s",
	    j->id, err);
	delivery_sanitise(reply, sizeof reply, err, strlen(err));
	delivery_outcome(w, j->id, DELIVERY_DEFER, 0, reply);
	delivery_xfer_clear(x);
	return 0;
}

/* Hand waiting jobs to free slots (worker). */
static void
delivery_wstart(struct delivery_worker *w)
{
	struct delivery_job	*j;

	while ((j = w->pend) != NULL) {
		if (w->busy >= (size_t)w->cfg->max)
			break;
		w->pend = j->next;
		if (w->pend == NULL)
			w->pend_tail = &w->pend;
		j->next = NULL;
		if (delivery_begin(w, j) == -1) {
			/* Cannot happen below the limit; keep it anyway. */
			j->next = w->pend;
			w->pend = j;
			if (j->next == NULL)
				w->pend_tail = &j->next;
			break;
		}
	}
}

/* Decide what a finished transfer means and report it (worker). */
static void
delivery_finish(struct delivery_xfer *x, CURLcode rc)
{
	char			 reply[DELIVERY_REPLY_MAX], why[DELIVERY_REPLY_MAX];
	enum delivery_outcome	 o;
	long			 code = 0;
	int			 abandon;

	curlsym_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (x->reply[0] != '\0' && !x->in_reply)
		snprintf(reply, sizeof reply, "%s", x->reply);
	else if (code != 0)
		snprintf(reply, sizeof reply, "%ld", code);
	else
		reply[0] = '\0';

	if (rc == CURLE_OK && code == 250)
		o = DELIVERY_SENT;
	else if (x->noauth) {
		o = DELIVERY_PAUSE;
		snprintf(reply, sizeof reply, "the server offers no AUTH but "
		    "a username is configured");
	} else if (code >= 500 && code < 600) {
		/* Whom does the refusal concern: this message or all? */
		o = x->phase >= DELIVERY_PH_RCPT ? DELIVERY_FAIL :
		    DELIVERY_PAUSE;
	} else if (code >= 400 && code < 500)
		o = DELIVERY_DEFER;
	else {
		switch (rc) {
		case CURLE_LOGIN_DENIED:
		case CURLE_USE_SSL_FAILED:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			o = DELIVERY_PAUSE;
			break;
		default:
			o = DELIVERY_DEFER;
			break;
		}
	}
	/*
	 * Stopping: a failure now is most likely the shutdown of its
	 * socket, not the server's answer. Report nothing: the message stays
	 * queued with its attempts untouched and is sent again later.
	 */
	pthread_mutex_lock(&delivery_mtx);
	abandon = delivery_abandon;
	pthread_mutex_unlock(&delivery_mtx);
	if (abandon && o != DELIVERY_SENT)
		return;
	/* Add curl's own words when the server said nothing decisive. */
	if (o != DELIVERY_SENT && !x->noauth && (reply[0] == '\0' ||
	    code < 400)) {
		delivery_errf(why, sizeof why, "%s%s%s", reply[0] != '\0' ? reply :
		    "", reply[0] != '\0' ? "; " : "", x->errbuf[0] != '\0' ?
		    x->errbuf : curlsym_easy_strerror(rc));
		delivery_sanitise(reply, sizeof reply, why, strlen(why));
	}
	delivery_outcome(x->w, x->job->id, o, code, reply);
}

/* Collect finished transfers (hiperfifo's check_multi_info; worker). */
static void
delivery_check(struct delivery_worker *w)
{
	struct delivery_xfer	*x;
	CURLMsg			*msg;
	CURL			*easy;
	CURLcode		 rc;
	char			*priv;
	int			 left, any = 0;

	while ((msg = curlsym_multi_info_read(w->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		rc = msg->data.result;
		priv = NULL;
		curlsym_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		x = (struct delivery_xfer *)(void *)priv;
		curlsym_multi_remove_handle(w->multi, easy);
		if (x == NULL)
			continue;
		delivery_finish(x, rc);
		delivery_xfer_clear(x);
		any = 1;
	}
	if (any && !w->abandoned)
		delivery_wstart(w);
}

static void
delivery_sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery_worker	*w = arg;
	int			 running, action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	/* May block for the reply to the final dot: only this thread waits. */
	curlsym_multi_socket_action(w->multi, fd, action, &running);
	delivery_check(w);
}

static void
delivery_curl_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery_worker	*w = arg;
	int			 running;

	(void)fd;
	(void)what;
	curlsym_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	delivery_check(w);
}

static void
delivery_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery_worker	*w = arg;
	struct delivery_sock	*s;

	(void)fd;
	(void)what;
	while ((s = w->reap_list) != NULL) {
		w->reap_list = s->next;
		event_free(s->ev);
		free(s);
	}
}

/* Is s a connection socket that curl opened through us? Under the lock. */
static int
delivery_sock_known(curl_socket_t s)
{
	size_t	 i;

	for (i = 0; i < delivery_nsocks; i++)
		if (delivery_socks[i] == s)
			return 1;
	return 0;
}

/*
 * CURLMOPT_SOCKETFUNCTION: watch s as curl asks. A socket curl is done
 * with may be the one whose event is running right now, so its event is
 * only deleted here and freed on a later loop pass.
 */
static int
delivery_socket_cb(CURL *easy, curl_socket_t s, int what, void *arg,
    void *sockp)
{
	struct delivery_worker	*w = arg;
	struct delivery_sock	*ds = sockp;
	struct delivery_xfer	*x = NULL;
	struct timeval		 tv = { 0, 0 };
	char			*priv = NULL;
	short			 kind;

	if (easy != NULL && curlsym_easy_getinfo(easy, CURLINFO_PRIVATE,
	    &priv) == CURLE_OK && priv != NULL) {
		x = (struct delivery_xfer *)(void *)priv;
		pthread_mutex_lock(&delivery_mtx);
		if (what == CURL_POLL_REMOVE) {
			if (x->sock == s)
				x->sock = CURL_SOCKET_BAD;
		} else if (x->busy && delivery_sock_known(s))
			x->sock = s;
		pthread_mutex_unlock(&delivery_mtx);
	}
	if (what == CURL_POLL_REMOVE) {
		if (ds != NULL) {
			event_del(ds->ev);
			ds->next = w->reap_list;
			w->reap_list = ds;
			if (w->reap_ev != NULL)
				evtimer_add(w->reap_ev, &tv);
		}
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (ds == NULL) {
		if ((ds = calloc(1, sizeof *ds)) == NULL)
			return -1;
		ds->ev = event_new(w->base, s, kind,
		    delivery_sock_event_cb, w);
		if (ds->ev == NULL) {
			free(ds);
			return -1;
		}
		curlsym_multi_assign(w->multi, s, ds);
	} else {
		event_del(ds->ev);
		if (event_assign(ds->ev, w->base, s, kind,
		    delivery_sock_event_cb, w) == -1)
			return -1;
	}
	if (event_add(ds->ev, NULL) == -1)
		return -1;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer; curl is called from its callback. */
static int
delivery_timer_cb(CURLM *multi, long ms, void *arg)
{
	struct delivery_worker	*w = arg;
	struct timeval		 tv;

	(void)multi;
	if (ms < 0)
		return evtimer_del(w->curl_ev) == -1 ? -1 : 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return evtimer_add(w->curl_ev, &tv) == -1 ? -1 : 0;
}

/*
 * Give up every transfer (worker, at stop). The main thread has shut
 * their sockets down already; shutting down again covers a socket curl
 * reported since. Removing a live SMTP upload makes libcurl (7.88) send
 * the end-of-data dot and wait for the reply, blocking, which could even
 * complete a truncated message: with the connection shut down the dot
 * cannot be sent and nothing waits. The messages stay queued.
 */
static void
delivery_wabandon_all(struct delivery_worker *w)
{
	struct delivery_xfer	*x;
	size_t			 i;

	w->abandoned = 1;
	for (i = 0; i < w->nslots; i++) {
		x = &w->xfers[i];
		if (!x->busy)
			continue;
		pthread_mutex_lock(&delivery_mtx);
		if (x->sock != CURL_SOCKET_BAD)
			shutdown(x->sock, SHUT_RDWR);
		pthread_mutex_unlock(&delivery_mtx);
		curlsym_multi_remove_handle(w->multi, x->easy);
		delivery_xfer_clear(x);
	}
	delivery_jobs_free(w->pend);
	w->pend = NULL;
	w->pend_tail = &w->pend;
}

/* The main thread queued jobs or asks the worker to stop (worker). */
static void
delivery_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery_worker	*w = arg;
	struct delivery_job	*list, *j;
	int			 abandon;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&delivery_mtx);
	list = w->jobq;
	w->jobq = NULL;
	w->jobq_tail = &w->jobq;
	abandon = delivery_abandon;
	pthread_mutex_unlock(&delivery_mtx);
	while ((j = list) != NULL) {
		list = j->next;
		j->next = NULL;
		if (j->kind == DELIVERY_JOB_CONFIG) {
			delivery_wcfg_free(w->cfg);
			w->cfg = j->cfg;
			j->cfg = NULL;
			w->cfg_gen++;
			curlsym_multi_setopt(w->multi,
			    CURLMOPT_MAX_TOTAL_CONNECTIONS, w->cfg->max);
			curlsym_multi_setopt(w->multi,
			    CURLMOPT_MAXCONNECTS, w->cfg->max);
			delivery_job_free(j);
			continue;
		}
		*w->pend_tail = j;
		w->pend_tail = &j->next;
	}
	if (abandon) {
		delivery_wabandon_all(w);
		event_base_loopbreak(w->base);
		return;
	}
	delivery_wstart(w);
}

/* A delivery thread: its loop runs until delivery_stop. */
static void *
delivery_worker(void *arg)
{
	struct delivery_worker	*w = arg;

	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/*
 * curl_multi_cleanup says QUIT on each cached connection and waits for
 * the reply as long as the most recently added handle's response timeout
 * (600 s): add and remove a handle with a short one first.
 */
static void
delivery_short_quit(struct delivery_worker *w)
{
	CURL	*e;

	if ((e = curlsym_easy_init()) == NULL)
		return;
	curlsym_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT,
	    DELIVERY_QUIT_WAIT);
	curlsym_easy_setopt(e, CURLOPT_TIMEOUT, DELIVERY_QUIT_WAIT);
	curlsym_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (curlsym_multi_add_handle(w->multi, e) == CURLM_OK)
		curlsym_multi_remove_handle(w->multi, e);
	curlsym_easy_cleanup(e);
}

/*
 * Free a worker's state (main thread; its thread is not running, or never
 * ran): waiting jobs, curl handles, then its events and base
 * (curl_multi_cleanup can still call the socket callback). Safe on a
 * worker never or only partly set up: whatever is NULL is skipped, and
 * only handles that exist are given to libcurl.
 */
static void
delivery_worker_free(struct delivery_worker *w)
{
	struct delivery_xfer	*x;
	size_t			 i;

	delivery_jobs_free(w->pend);
	w->pend = NULL;
	delivery_jobs_free(w->jobq);
	w->jobq = NULL;
	if (w->multi != NULL)
		delivery_short_quit(w);
	for (i = 0; i < w->nslots; i++) {
		x = &w->xfers[i];
		if (x->easy != NULL) {
			if (x->busy && w->multi != NULL)
				curlsym_multi_remove_handle(w->multi,
				    x->easy);
			curlsym_easy_cleanup(x->easy);
		}
		delivery_job_free(x->job);
		if (x->rcpt != NULL)
			curlsym_slist_free_all(x->rcpt);
	}
	/* May still call delivery_socket_cb: the events go after it. */
	if (w->multi != NULL)
		curlsym_multi_cleanup(w->multi);
	delivery_reap_cb(-1, 0, w);
	if (w->curl_ev != NULL)
		event_free(w->curl_ev);
	if (w->reap_ev != NULL)
		event_free(w->reap_ev);
	if (w->wake_ev != NULL)
		event_free(w->wake_ev);
	if (w->note_ev != NULL)
		event_free(w->note_ev);
	if (w->base != NULL)
		event_base_free(w->base);
	delivery_wcfg_free(w->cfg);
	free(w->xfers);
	memset(w, 0, sizeof *w);
}

/* Free every worker and the shared socket list (main thread). */
static void
delivery_unspawn(void)
{
	size_t	 i;

	for (i = 0; i < delivery_nworkers; i++)
		delivery_worker_free(&delivery_workers[i]);
	free(delivery_workers);
	delivery_workers = NULL;
	delivery_nworkers = 0;
	free(delivery_socks);
	delivery_socks = NULL;
	delivery_nsocks = delivery_socks_cap = 0;
	delivery_spawned = 0;
}

/* max_connections, within 1..DELIVERY_SLOTS_MAX. */
static long
delivery_connections(const struct config *cfg)
{
	long	 m = (long)cfg->mail_max_connections;

	return m < 1 ? 1 : m > DELIVERY_SLOTS_MAX ? DELIVERY_SLOTS_MAX : m;
}

/* Connections: worker i's share of m over n workers (main thread). */
static long
delivery_share(long m, size_t n, size_t i)
{
	return m / (long)n + ((long)i < m % (long)n ? 1 : 0);
}

/* The settings for worker w (its own share of connections), or NULL. */
static struct delivery_wcfg *
delivery_wcfg_for(const struct delivery_worker *w, const struct config *cfg)
{
	struct delivery_wcfg	*c;
	long			 share;

	if ((c = delivery_wcfg_new(cfg)) == NULL)
		return NULL;
	share = delivery_share(c->max, delivery_nworkers, w->index);
	c->max = share > 0 ? share : 1;	/* libcurl's limits want one */
	return c;
}

/* Set worker w up, not yet started (main thread); -1 with err. */
static int
delivery_worker_init(struct delivery_worker *w, char *err, size_t errlen)
{
	size_t	 i;

	w->pend_tail = &w->pend;
	w->jobq_tail = &w->jobq;
	w->cfg_gen = 1;
	w->nslots = (DELIVERY_SLOTS_MAX + delivery_nworkers - 1) /
	    delivery_nworkers;
	if ((w->xfers = calloc(w->nslots, sizeof *w->xfers)) == NULL ||
	    (w->cfg = delivery_wcfg_for(w, delivery_cfg)) == NULL) {
		delivery_errf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < w->nslots; i++) {
		w->xfers[i].w = w;
		w->xfers[i].sock = CURL_SOCKET_BAD;
	}
	w->limit = delivery_share(delivery_connections(delivery_cfg),
	    delivery_nworkers, w->index);
	if ((w->base = event_base_new()) == NULL) {
		delivery_errf(err, errlen, "cannot create the delivery event "
		    "base");
		return -1;
	}
	if ((w->multi = curlsym_multi_init()) == NULL) {
		delivery_errf(err, errlen, "cannot create a libcurl multi "
		    "handle");
		return -1;
	}
	if (curlsym_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION,
	    delivery_socket_cb) != CURLM_OK ||
	    curlsym_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w) !=
	    CURLM_OK ||
	    curlsym_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION,
	    delivery_timer_cb) != CURLM_OK ||
	    curlsym_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w) !=
	    CURLM_OK ||
	    curlsym_multi_setopt(w->multi,
	    CURLMOPT_MAX_TOTAL_CONNECTIONS, w->cfg->max) != CURLM_OK ||
	    curlsym_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS,
	    w->cfg->max) != CURLM_OK) {
		delivery_errf(err, errlen, "libcurl refused a multi option");
		return -1;
	}
	w->wake_ev = event_new(w->base, -1, 0, delivery_wake_cb, w);
	w->curl_ev = evtimer_new(w->base, delivery_curl_timer_cb, w);
	w->reap_ev = evtimer_new(w->base, delivery_reap_cb, w);
	w->note_ev = evtimer_new(w->base, delivery_wnote_cb, w);
	if (w->wake_ev == NULL || w->curl_ev == NULL ||
	    w->reap_ev == NULL || w->note_ev == NULL) {
		delivery_errf(err, errlen, "cannot create delivery events");
		return -1;
	}
	return 0;
}

/*
 * Stop every running worker and wait for its thread (main thread).
 * Transfers still running are abandoned: one may be blocked inside
 * libcurl waiting for the reply to its final dot, and libcurl cannot be
 * interrupted from another thread; shutting its socket down makes that
 * read return at once (and no dot can be sent any more).
 */
static void
delivery_join(void)
{
	struct delivery_worker	*w;
	struct timespec		 ts;
	size_t			 i, k;

	pthread_mutex_lock(&delivery_mtx);
	delivery_abandon = 1;
	for (k = 0; k < delivery_nworkers; k++) {
		w = &delivery_workers[k];
		for (i = 0; i < w->nslots; i++)
			if (w->xfers[i].sock != CURL_SOCKET_BAD)
				shutdown(w->xfers[i].sock, SHUT_RDWR);
	}
	pthread_mutex_unlock(&delivery_mtx);
	for (k = 0; k < delivery_nworkers; k++)
		if (delivery_workers[k].running)
			event_active(delivery_workers[k].wake_ev, EV_READ, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DELIVERY_JOIN_WAIT;
	for (k = 0; k < delivery_nworkers; k++) {
		w = &delivery_workers[k];
		if (!w->running)
			continue;
		if (pthread_timedjoin_np(w->thread, NULL, &ts) != 0) {
			/* A socket not yet tied to its transfer: all, then. */
			log_warn("delivery: a delivery thread is still busy; "
			    "shutting down all its connections");
			pthread_mutex_lock(&delivery_mtx);
			for (i = 0; i < delivery_nsocks; i++)
				shutdown(delivery_socks[i], SHUT_RDWR);
			pthread_mutex_unlock(&delivery_mtx);
			pthread_join(w->thread, NULL);
		}
		w->running = 0;
	}
}

/*
 * Load libcurl (first time only) and start the workers: one per
 * connection, at most DELIVERY_WORKERS_MAX (main thread). Returns 0, or
 * -1 with err and nothing left behind but libcurl's global state, which
 * delivery_release drops. Their number stays until delivery_stop; a
 * reload shares the new max_connections out among them.
 */
static int
delivery_spawn(char *err, size_t errlen)
{
	sigset_t	 all, old;
	size_t		 i, n;
	int		 e;

	/*
	 * dlopen and curl_global_init run here, on the main thread and
	 * before any other libcurl call; once per process they cost some
	 * milliseconds of this loop pass.
	 */
	if (curlsym_start(err, errlen) == -1)
		return -1;
	n = (size_t)delivery_cfg->mail_max_connections;
	if (n > DELIVERY_WORKERS_MAX)
		n = DELIVERY_WORKERS_MAX;
	if (n < 1)
		n = 1;
	if ((delivery_workers = calloc(n, sizeof *delivery_workers)) == NULL) {
		delivery_errf(err, errlen, "out of memory");
		return -1;
	}
	delivery_nworkers = n;
	for (i = 0; i < n; i++) {
		delivery_workers[i].index = i;
		if (delivery_worker_init(&delivery_workers[i], err, errlen) ==
		    -1)
			goto fail;
	}
	/* Signals are the main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0, e = 0; i < n && e == 0; i++) {
		e = pthread_create(&delivery_workers[i].thread, NULL,
		    delivery_worker, &delivery_workers[i]);
		if (e == 0)
			delivery_workers[i].running = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	delivery_spawned = 1;
	if (e != 0) {
		delivery_errf(err, errlen, "cannot start a delivery thread: "
		    "%s", strerror(e));
		delivery_join();
		goto fail;
	}
	log_info("delivery: %s loaded, %zu delivery thread%s started",
	    curlsym_version(), n, n == 1 ? "" : "s");
	return 0;

fail:
	delivery_unspawn();
	return -1;
}

/*
 * Start the worker for the first due message, or pause delivery (the
 * messages stay queued, attempts untouched) until the retry time or a
 * reload. The same failure again is not logged again.
 */
static int
delivery_spawn_or_pause(void)
{
	char	 err[512], reason[DELIVERY_REPLY_MAX];
	int	 again;

	if (delivery_spawn(err, sizeof err) == 0) {
		if (delivery_spawn_err[0] != '\0')
			log_notice("delivery: resumed (the delivery thread "
			    "started)");
		delivery_spawn_err[0] = '\0';
		return 0;
	}
	delivery_sanitise(reason, sizeof reason, err, strlen(err));
	again = strcmp(reason, delivery_spawn_err) == 0;
	snprintf(delivery_spawn_err, sizeof delivery_spawn_err, "%s", reason);
	delivery_pause(reason, again);
	/*
	 * Its end is only the next attempt, not a recovery: that is logged
	 * above, once the thread does start.
	 */
	delivery_paused_quiet = 1;
	return -1;
}

/* The main thread's side of SMTP. */

/* Remember m as in flight, taking its recipient and message id. */
static void
delivery_flight_add(struct store_outbox_msg *m)
{
	struct delivery_flight	*f;
	size_t			 cap;

	if (delivery_nbusy == delivery_flights_cap) {
		cap = delivery_flights_cap ? delivery_flights_cap * 2 : 16;
		f = reallocarray(delivery_flights, cap, sizeof *f);
		if (f == NULL)
			log_fatal("delivery: out of memory");
		delivery_flights = f;
		delivery_flights_cap = cap;
	}
	f = &delivery_flights[delivery_nbusy++];
	f->id = m->id;
	f->attempts = m->attempts;
	f->expires = m->expires;
	f->recipient = m->recipient;
	f->message_id = m->message_id;
	m->recipient = NULL;
	m->message_id = NULL;
}

/* Take message id out of the in-flight set into *f. */
static int
delivery_flight_take(int64_t id, struct delivery_flight *f)
{
	size_t	 i;

	for (i = 0; i < delivery_nbusy; i++)
		if (delivery_flights[i].id == id) {
			*f = delivery_flights[i];
			delivery_flights[i] = delivery_flights[--delivery_nbusy];
			return 0;
		}
	return -1;
}

static void
delivery_flight_cleanup(struct delivery_flight *f)
{
	free(f->recipient);
	free(f->message_id);
	memset(f, 0, sizeof *f);
}

/* Hand jobs (or a configuration) to worker w and wake it. */
static void
delivery_hand(struct delivery_worker *w, struct delivery_job *list,
    struct delivery_job **tail)
{
	if (list == NULL)
		return;
	pthread_mutex_lock(&delivery_mtx);
	*w->jobq_tail = list;
	w->jobq_tail = tail;
	pthread_mutex_unlock(&delivery_mtx);
	event_active(w->wake_ev, EV_READ, 0);
}

/* Hand due messages to the worker, up to the connection limit. */
static void
delivery_smtp_pass(int64_t now)
{
	struct store_outbox_msg	*msgs = NULL;
	struct delivery_worker	*w, *best;
	struct delivery_job	*list[DELIVERY_WORKERS_MAX];
	struct delivery_job	**tail[DELIVERY_WORKERS_MAX], *j;
	int64_t			*skip;
	size_t			 n = 0, nskip, i, k, limit, room;
	long			 left, most;
	char			 err[256];

	limit = (size_t)delivery_connections(delivery_cfg);
	/*
	 * A few jobs wait in the worker beyond its connections, so that a
	 * connection that finishes one message starts the next at once
	 * instead of idling for a round trip through this thread. A waiting
	 * job is not being sent: duplicates after a crash stay bounded by
	 * the connections.
	 */
	limit *= DELIVERY_PREFETCH;
	if (delivery_nbusy >= limit)
		return;
	room = limit - delivery_nbusy;
	/*
	 * With the worker still holding half its window, wait for more
	 * room: one read of the outbox per several messages, not per
	 * message (the worker never runs dry: the connections have work).
	 */
	if (delivery_nbusy > 0 && room < limit / 2)
		return;
	skip = delivery_skip_ids(&nskip);
	if (store_outbox_due(now, room, skip, nskip, &msgs, &n, err,
	    sizeof err) != LECTERN_OK) {
		log_warn("delivery: cannot read the outbox: %s", err);
		free(skip);
		return;
	}
	free(skip);
	/* The first message due: load libcurl, start the worker. */
	if (n > 0 && !delivery_spawned && delivery_spawn_or_pause() == -1) {
		store_outbox_msgs_free(msgs, n);
		return;
	}
	for (k = 0; k < delivery_nworkers; k++) {
		list[k] = NULL;
		tail[k] = &list[k];
	}
	for (i = 0; i < n; i++) {
		/* To the worker with the most room for its connections. */
		best = NULL;
		most = 0;
		for (k = 0; k < delivery_nworkers; k++) {
			w = &delivery_workers[k];
			left = w->limit * DELIVERY_PREFETCH - (long)w->handed;
			if (left > most) {
				most = left;
				best = w;
			}
		}
		if (best == NULL)
			break;	/* the limit shrank: the rest waits */
		if ((j = calloc(1, sizeof *j)) == NULL ||
		    (j->recipient = strdup(msgs[i].recipient)) == NULL)
			log_fatal("delivery: out of memory");
		j->kind = DELIVERY_JOB_SEND;
		j->id = msgs[i].id;
		j->message = msgs[i].message;
		j->len = msgs[i].len;
		msgs[i].message = NULL;
		delivery_flight_add(&msgs[i]);
		best->handed++;
		*tail[best->index] = j;
		tail[best->index] = &j->next;
	}
	store_outbox_msgs_free(msgs, n);
	for (k = 0; k < delivery_nworkers; k++)
		delivery_hand(&delivery_workers[k], list[k], tail[k]);
}

/* Take everything the worker has reported (main thread). */
static struct delivery_res *
delivery_res_take(void)
{
	struct delivery_res	*list;

	pthread_mutex_lock(&delivery_mtx);
	list = delivery_resq;
	delivery_resq = NULL;
	delivery_resq_tail = &delivery_resq;
	pthread_mutex_unlock(&delivery_mtx);
	return list;
}

/* Write a log line the worker sent. */
static void
delivery_emit(const struct delivery_res *r)
{
	switch (r->level) {
	case LOG_LEVEL_ERR:
		log_err("%s", r->text);
		break;
	case LOG_LEVEL_WARN:
		log_warn("%s", r->text);
		break;
	case LOG_LEVEL_NOTICE:
		log_notice("%s", r->text);
		break;
	case LOG_LEVEL_INFO:
		log_info("%s", r->text);
		break;
	default:
		log_debug("%s", r->text);
		break;
	}
}

/* Act on one result: log it, or record the outcome; 1 for an outcome. */
static int
delivery_result(const struct delivery_res *r)
{
	struct delivery_flight	 f;
	int64_t			 now = delivery_now(), next;

	if (r->kind == DELIVERY_RES_LOG) {
		delivery_emit(r);
		return 0;
	}
	if (delivery_flight_take(r->id, &f) == -1) {
		log_err("delivery: outcome for message %" PRId64 " not in "
		    "flight", r->id);
		return 0;
	}
	if (r->worker < delivery_nworkers &&
	    delivery_workers[r->worker].handed > 0)
		delivery_workers[r->worker].handed--;
	switch (r->outcome) {
	case DELIVERY_SENT:
		delivery_record(f.id, r->outcome, now, r->reply);
		delivery_log(f.id, f.message_id, f.recipient, "sent", r->reply);
		break;
	case DELIVERY_FAIL:
		delivery_record(f.id, r->outcome, now, r->reply);
		delivery_log(f.id, f.message_id, f.recipient, "failed",
		    r->reply);
		break;
	case DELIVERY_DEFER:
		next = now + delivery_backoff(f.attempts);
		if (f.expires > 0 && next > f.expires)
			next = f.expires;
		delivery_record(f.id, r->outcome, next, r->reply);
		delivery_log(f.id, f.message_id, f.recipient, "deferred",
		    r->reply);
		break;
	case DELIVERY_PAUSE:
		/* No store write: it stays queued, attempts untouched. */
		delivery_log(f.id, f.message_id, f.recipient,
		    "not sent, server refuses", r->reply);
		delivery_pause(r->reply, 0);
		break;
	}
	delivery_flight_cleanup(&f);
	return 1;
}

/* Act on and free a list of results; 1 if it held an outcome. */
static int
delivery_results(struct delivery_res *list)
{
	struct delivery_res	*r;
	int			 any = 0;

	while ((r = list) != NULL) {
		list = r->next;
		any |= delivery_result(r);
		free(r);
	}
	return any;
}

/* The worker reported outcomes or log lines (main thread). */
static void
delivery_res_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (delivery_results(delivery_res_take()))
		delivery_soon();
}

/* Arm the work timer for the earliest due message; none when idle. */
static void
delivery_arm(int64_t now)
{
	struct timeval	 tv;
	char		 err[256];
	int64_t		 when, delay;

	if (delivery_stopping)
		return;
	/*
	 * Messages in flight: their outcomes run the work again, and the
	 * earliest due time is read then (not once per message sent).
	 */
	if (delivery_nbusy > 0 && !delivery_flush_failing && !delivery_paused) {
		evtimer_del(delivery_work_ev);
		return;
	}
	if (store_outbox_next(&when, err, sizeof err) != LECTERN_OK) {
		log_warn("delivery: cannot read the outbox: %s", err);
		when = now + DELIVERY_RETRY_STORE;
	}
	if (delivery_ndone > 0 && (when == 0 || when > now +
	    DELIVERY_RETRY_STORE))
		when = now + DELIVERY_RETRY_STORE;
	delivery_next_at = when;
	if (when == 0) {
		evtimer_del(delivery_work_ev);
		if (wake_running())
			wake_set(WAKE_DELIVERY, 0);
		return;
	}
	if (delivery_paused && when < delivery_paused_until)
		when = delivery_paused_until;
	/*
	 * Due but not taken: all slots busy or these very messages in
	 * flight. Completions run the work again; look once a second anyway.
	 */
	delay = when - now;
	if (delay < 1)
		delay = 1;
	/*
	 * In the daemon, the one wall-clock timer (wake.c) fires for it, so
	 * that a retry is on time after the system clock is stepped; a
	 * monotonic timer otherwise (the unit tests run delivery alone).
	 */
	if (wake_running()) {
		wake_set(WAKE_DELIVERY, now + delay);
		return;
	}
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = 0;
	evtimer_add(delivery_work_ev, &tv);
}

static void
delivery_due_cb(int64_t now)
{
	(void)now;
	delivery_work_cb(-1, 0, NULL);
}

/* Queued messages that can no longer arrive in time: expired, unsent. */
static void
delivery_expire(int64_t now)
{
	char	 err[256];
	int64_t	 n = 0;
	int	 yes;

	/* Expiry times are whole seconds: one look per second is enough. */
	if (now == delivery_expired_at)
		return;
	delivery_expired_at = now;
	/* A probe first: most passes have nothing to expire. */
	if (store_outbox_expiring(now, &yes, err, sizeof err) != LECTERN_OK ||
	    !yes || store_begin_light() != LECTERN_OK)
		return;
	if (store_outbox_expire(now, &n, err, sizeof err) != LECTERN_OK ||
	    store_commit() != LECTERN_OK) {
		store_rollback();
		log_warn("delivery: cannot expire messages: %s", err);
		return;
	}
	if (n > 0)
		log_notice("delivery: %" PRId64 " message%s expired unsent", n,
		    n == 1 ? "" : "s");
}

/* The one place work is done: record, expire, take due messages, re-arm. */
static void
delivery_work_cb(evutil_socket_t fd, short what, void *arg)
{
	int64_t	 now = delivery_now();

	(void)fd;
	(void)what;
	(void)arg;
	if (delivery_stopping)
		return;
	evtimer_del(delivery_work_ev);
	/*
	 * Outcomes come in groups (see delivery_res_push): each group is
	 * one transaction.
	 */
	if (delivery_ndone > 0)
		delivery_flush();
	if (delivery_paused && now >= delivery_paused_until)
		delivery_unpause("retry time reached");
	if (!delivery_flush_failing)
		delivery_expire(now);
	if (!delivery_flush_failing && !delivery_paused) {
		if (delivery_cfg->maildir != NULL)
			delivery_maildir_pass(now);
		else
			delivery_smtp_pass(now);
	}
	if (evtimer_pending(delivery_work_ev, NULL))
		return;		/* a maildir batch continues next pass */
	delivery_arm(now);
}

/*
 * Release everything but the threads (which are not running, or were
 * never started): in-flight records, queues, the workers' state (see
 * delivery_unspawn), the main thread's events, libcurl's global state.
 */
static void
delivery_release(void)
{
	size_t	 i;

	delivery_results(delivery_res_take());
	for (i = 0; i < delivery_nbusy; i++) {
		log_info("delivery: message %" PRId64 " to %s abandoned at "
		    "stop; it stays queued", delivery_flights[i].id,
		    delivery_flights[i].recipient);
		delivery_flight_cleanup(&delivery_flights[i]);
	}
	delivery_nbusy = 0;
	free(delivery_flights);
	delivery_flights = NULL;
	delivery_flights_cap = 0;
	if (delivery_ndone > 0 && delivery_flush() == -1)
		log_warn("delivery: %zu outcome%s not recorded; those "
		    "messages will be sent again", delivery_ndone,
		    delivery_ndone == 1 ? "" : "s");
	delivery_ndone = 0;

	delivery_unspawn();
	if (delivery_work_ev != NULL)
		event_free(delivery_work_ev);
	if (delivery_res_ev != NULL)
		event_free(delivery_res_ev);
	delivery_work_ev = delivery_res_ev = NULL;
	delivery_flush_failing = 0;
	free(delivery_done);
	delivery_done = NULL;
	delivery_done_cap = 0;
	delivery_abandon = 0;
	delivery_paused_quiet = 0;
	delivery_spawn_err[0] = '\0';
	pthread_cond_destroy(&delivery_res_cond);
	/* curl_global_cleanup; libcurl itself stays mapped (curlsym.c). */
	curlsym_stop();
	delivery_base = NULL;
	delivery_cfg = NULL;
}

/*
 * Start delivering: the main thread's side only. libcurl and the worker
 * wait for the first SMTP message that is due (delivery_smtp_pass).
 */
int
delivery_start(struct event_base *base, const struct config *cfg,
    char *err, size_t errlen)
{
	pthread_condattr_t	 ca;

	if (delivery_started) {
		delivery_errf(err, errlen, "delivery is already running");
		return -1;
	}
	if (cfg->maildir != NULL &&
	    delivery_maildir_init(cfg->maildir, err, errlen) == -1)
		return -1;
	if (delivery_init_threads() == -1) {
		delivery_errf(err, errlen, "libevent has no thread support");
		return -1;
	}
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&delivery_res_cond, &ca) != 0) {
		delivery_errf(err, errlen, "cannot create a condition variable");
		return -1;
	}
	pthread_condattr_destroy(&ca);
	delivery_base = base;
	delivery_cfg = cfg;
	atomic_store(&delivery_wlevel, cfg->log_level);
	atomic_store(&delivery_group, (size_t)delivery_connections(cfg));
	delivery_stopping = 0;
	delivery_paused = 0;
	delivery_paused_quiet = 0;
	delivery_paused_reason[0] = '\0';
	delivery_spawn_err[0] = '\0';
	delivery_next_at = 0;
	delivery_abandon = 0;
	delivery_work_ev = evtimer_new(base, delivery_work_cb, NULL);
	delivery_res_ev = event_new(base, -1, 0, delivery_res_cb, NULL);
	if (delivery_work_ev == NULL || delivery_res_ev == NULL) {
		delivery_errf(err, errlen, "cannot create delivery events");
		goto fail;
	}
	delivery_started = 1;
	wake_register(WAKE_DELIVERY, delivery_due_cb);
	log_info("delivery: %s via %s", cfg->maildir != NULL ? "maildir" :
	    "smtp", cfg->maildir != NULL ? cfg->maildir : cfg->mail_url);
	delivery_soon();
	return 0;

fail:
	delivery_release();
	return -1;
}

/*
 * Wait up to DELIVERY_STOP_WAIT seconds for the transfers in flight,
 * recording their outcomes as they come (main thread, at stop).
 */
static void
delivery_stop_wait(void)
{
	struct delivery_res	*list;
	struct timespec		 deadline;
	int			 e = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += DELIVERY_STOP_WAIT;
	pthread_mutex_lock(&delivery_mtx);
	while (delivery_nbusy > 0) {
		if (delivery_resq == NULL) {
			if (e == ETIMEDOUT)
				break;
			e = pthread_cond_timedwait(&delivery_res_cond,
			    &delivery_mtx, &deadline);
			continue;
		}
		list = delivery_resq;
		delivery_resq = NULL;
		delivery_resq_tail = &delivery_resq;
		pthread_mutex_unlock(&delivery_mtx);
		delivery_results(list);
		pthread_mutex_lock(&delivery_mtx);
	}
	pthread_mutex_unlock(&delivery_mtx);
}

/* Stop: let in-flight transfers finish for a while, then release all. */
void
delivery_stop(void)
{
	if (!delivery_started)
		return;
	delivery_stopping = 1;
	evtimer_del(delivery_work_ev);
	wake_register(WAKE_DELIVERY, NULL);
	if (delivery_nbusy > 0) {
		log_info("delivery: waiting up to %d s for %zu transfer%s",
		    DELIVERY_STOP_WAIT, delivery_nbusy,
		    delivery_nbusy == 1 ? "" : "s");
		delivery_stop_wait();
	}
	/* No worker (nothing was ever sent over SMTP): nothing to abandon. */
	if (delivery_spawned)
		delivery_join();
	delivery_release();
	delivery_started = 0;
	delivery_stopping = 0;
}

/* Borrow a reloaded configuration; a paused server is tried again. */
void
delivery_set_config(const struct config *cfg)
{
	struct delivery_worker	*w;
	struct delivery_job	*j;
	char			 err[512];
	size_t			 k;

	if (!delivery_started)
		return;
	delivery_cfg = cfg;
	atomic_store(&delivery_wlevel, cfg->log_level);
	atomic_store(&delivery_group, (size_t)delivery_connections(cfg));
	if (cfg->maildir != NULL &&
	    delivery_maildir_init(cfg->maildir, err, sizeof err) == -1)
		log_err("delivery: %s", err);
	/* A failure to start the worker is logged again after a reload. */
	delivery_spawn_err[0] = '\0';
	/*
	 * Each worker gets its own copy of the mail settings, with its share
	 * of max_connections; workers not started yet take them from
	 * delivery_cfg when they start.
	 */
	for (k = 0; delivery_spawned && k < delivery_nworkers; k++) {
		w = &delivery_workers[k];
		if ((j = calloc(1, sizeof *j)) == NULL ||
		    (j->cfg = delivery_wcfg_for(w, cfg)) == NULL) {
			log_err("delivery: out of memory: the mail settings "
			    "stay unchanged");
			free(j);
			continue;
		}
		j->kind = DELIVERY_JOB_CONFIG;
		w->limit = delivery_share(delivery_connections(cfg),
		    delivery_nworkers, k);
		delivery_hand(w, j, &j->next);
	}
	delivery_unpause("configuration reloaded");
	delivery_soon();
}

/* New rows were committed: look for due work after this callback. */
void
delivery_kick(void)
{
	if (delivery_started)
		delivery_soon();
}

/* The state of delivery as a new object. */
json_t *
delivery_status(void)
{
	char	 buf[64];
	json_t	*o;

	if ((o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "transport", json_string(delivery_cfg != NULL &&
	    delivery_cfg->maildir != NULL ? "maildir" : "smtp"));
	json_object_set_new(o, "in_flight",
	    json_integer((json_int_t)delivery_nbusy));
	json_object_set_new(o, "paused", json_boolean(delivery_paused));
	json_object_set_new(o, "paused_reason", delivery_paused ?
	    json_string(delivery_paused_reason) : json_null());
	if (delivery_next_at > 0) {
		tz_format_utc(delivery_next_at, buf, sizeof buf);
		json_object_set_new(o, "next_attempt", json_string(buf));
	} else
		json_object_set_new(o, "next_attempt", json_null());
	return o;
}
