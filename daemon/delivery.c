/*
 * delivery.c -- sending the outbox.
 *
 * SMTP: libcurl's multi-socket API driven by the daemon's libevent loop
 * (curl's hiperfifo pattern): one libevent event per socket curl asks us
 * to watch, one timer for curl's timeouts, curl_multi_socket_action on
 * every wake-up and curl_multi_info_read for finished transfers. Each
 * message is one SMTP transaction to its one recipient; easy handles are
 * kept in slots and reused, and the multi handle keeps the connections.
 *
 * Maildir: each message is written crash-safely into new/ (tmp, fsync,
 * rename, fsync of the directory), a bounded batch per loop pass.
 *
 * Outcomes are written to the store in one transaction per loop pass
 * (group commit). A message leaves the queue only once the server said 250
 * to the final dot; anything not marked sent is sent again after a crash.
 *
 * One timer (delivery_work_ev) stands for the earliest due message; with
 * nothing queued it is not armed at all.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "delivery.h"
#include "lectern.h"
#include "log.h"
#include "store.h"
#include "tz.h"

#define DELIVERY_SLOTS_MAX	100	/* the config's upper bound */
#define DELIVERY_REPLY_MAX	256
#define DELIVERY_CONNECT_TIMEOUT 30L	/* seconds */
/* RFC 5321 4.5.3.2.6: up to 10 minutes for the reply to the final dot. */
#define DELIVERY_RESPONSE_TIMEOUT 600L
#define DELIVERY_STOP_WAIT	3	/* seconds in-flight transfers get at stop */
#define DELIVERY_QUIT_WAIT	2L	/* seconds for each QUIT at stop */
#define DELIVERY_MAILDIR_BATCH	32	/* messages written per loop pass */
#define DELIVERY_RETRY_STORE	1	/* seconds before retrying a busy store */

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

/* One slot: an easy handle, reused, and the message it carries. */
struct delivery_xfer {
	CURL			*easy;
	struct curl_slist	*rcpt;
	int			 busy;
	struct store_outbox_msg	 msg;
	size_t			 off;
	enum delivery_phase	 phase;
	int			 fresh;		/* this transfer opened the connection */
	int			 authed;	/* ... and AUTH succeeded on it */
	int			 noauth;	/* aborted: credentials but no AUTH */
	int			 in_reply;	/* a multi-line reply continues */
	int			 quitting;	/* QUIT sent: keep the reply before */
	curl_socket_t		 sock;		/* the socket curl watches for it */
	char			 reply[DELIVERY_REPLY_MAX];
	char			 errbuf[CURL_ERROR_SIZE];
};

/* One socket curl watches (curl_multi_assign'ed). */
struct delivery_sock {
	struct event		*ev;
	struct delivery_sock	*next;	/* on the reap list */
};

/* An outcome waiting for the group commit. */
struct delivery_done {
	int64_t			 id;
	enum delivery_outcome	 outcome;
	int64_t			 when;	/* sent_at or next_attempt */
	char			 reply[DELIVERY_REPLY_MAX];
};

static struct event_base	*delivery_base;
static const struct config	*delivery_cfg;
static CURLM			*delivery_multi;
static struct event		*delivery_curl_ev;	/* curl's timer */
static struct event		*delivery_work_ev;	/* earliest due work */
static struct event		*delivery_reap_ev;	/* frees dead sockets */
static struct event		*delivery_stop_ev;
static struct delivery_xfer	 delivery_xfers[DELIVERY_SLOTS_MAX];
static size_t			 delivery_nbusy;
static struct delivery_sock	*delivery_reap_list;
static struct delivery_done	*delivery_done;
static size_t			 delivery_ndone, delivery_done_cap;
static int			 delivery_started, delivery_stopping;
static int			 delivery_paused;
static int64_t			 delivery_paused_until;
static char			 delivery_paused_reason[DELIVERY_REPLY_MAX];
static int64_t			 delivery_next_at;
static unsigned long		 delivery_seq;	/* maildir unique names */

static void delivery_work_cb(evutil_socket_t, short, void *);
static void delivery_check(void);

static int64_t
delivery_now(void)
{
	return (int64_t)time(NULL);
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

static void
delivery_pause(const char *reason)
{
	int64_t	 wait;

	wait = delivery_cfg->retry_max > 0 ? delivery_cfg->retry_max : 60;
	delivery_paused_until = delivery_now() + wait;
	if (delivery_paused)
		return;
	delivery_paused = 1;
	snprintf(delivery_paused_reason, sizeof delivery_paused_reason, "%s",
	    reason);
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
	log_notice("delivery: resumed (%s)", why);
}

/* Queue an outcome for the next group commit. */
static void
delivery_record(const struct store_outbox_msg *m, enum delivery_outcome o,
    int64_t when, const char *reply)
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
	d->id = m->id;
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
	if ((code = store_begin()) != LECTERN_OK) {
		log_warn("delivery: cannot record %zu outcome%s now (%s); "
		    "retrying", delivery_ndone, delivery_ndone == 1 ? "" : "s",
		    code == LECTERN_E_BUSY ? "database busy" : "database error");
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
	return 0;

fail:
	store_rollback();
	log_warn("delivery: cannot record outcomes: %s; retrying", err);
	return -1;
}

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
	for (i = 0; i < DELIVERY_SLOTS_MAX; i++)
		if (delivery_xfers[i].busy)
			v[k++] = delivery_xfers[i].msg.id;
	for (i = 0; i < delivery_ndone; i++)
		v[k++] = delivery_done[i].id;
	*n = k;
	return v;
}

static void
delivery_log(const struct store_outbox_msg *m, const char *what,
    const char *reply)
{
	log_info("delivery: message %" PRId64 " <%s> to %s: %s: %s", m->id,
	    m->message_id != NULL ? m->message_id : "", m->recipient, what,
	    reply);
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

/*
 * Deliver m into the maildir dir: tmp/<unique>, fsync, rename into
 * new/, fsync new/. Only then is it safe to mark it sent.
 */
static int
delivery_maildir_put(const char *dir, const struct store_outbox_msg *m,
    char *err, size_t errlen)
{
	struct timespec	 ts;
	char		 host[256], name[512], tmp[4096], dst[4096], nd[4096];
	size_t		 i;
	int		 fd = -1, dfd = -1, n, saved;

	if (delivery_maildir_init(dir, err, errlen) == -1)
		return -1;
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
	if (n < 0 || (size_t)n >= sizeof name)
		goto toolong;
	n = snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof tmp)
		goto toolong;
	n = snprintf(dst, sizeof dst, "%s/new/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof dst)
		goto toolong;
	n = snprintf(nd, sizeof nd, "%s/new", dir);
	if (n < 0 || (size_t)n >= sizeof nd)
		goto toolong;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		delivery_errf(err, errlen, "cannot create %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	if (delivery_write_all(fd, m->message, m->len) == -1 ||
	    fsync(fd) == -1) {
		delivery_errf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		delivery_errf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dst) == -1) {
		delivery_errf(err, errlen, "cannot move %s into new/: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	tmp[0] = '\0';
	if ((dfd = open(nd, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		delivery_errf(err, errlen, "cannot sync %s: %s", nd,
		    strerror(errno));
		goto fail;
	}
	close(dfd);
	return 0;

toolong:
	delivery_errf(err, errlen, "%s: path too long", dir);
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	if (tmp[0] != '\0')
		unlink(tmp);
	errno = saved;
	return -1;
}

/* Write up to one batch of due messages into the maildir. */
static void
delivery_maildir_pass(int64_t now)
{
	struct store_outbox_msg	*msgs = NULL;
	int64_t			*skip;
	size_t			 n = 0, nskip, i;
	char			 err[512], reply[DELIVERY_REPLY_MAX];

	skip = delivery_skip_ids(&nskip);
	if (store_outbox_due(now, DELIVERY_MAILDIR_BATCH, skip, nskip, &msgs,
	    &n, err, sizeof err) != LECTERN_OK) {
		log_warn("delivery: cannot read the outbox: %s", err);
		free(skip);
		return;
	}
	free(skip);
	for (i = 0; i < n; i++) {
		if (delivery_maildir_put(delivery_cfg->maildir, &msgs[i], err,
		    sizeof err) == 0) {
			delivery_record(&msgs[i], DELIVERY_SENT, now,
			    "maildir: delivered");
			delivery_log(&msgs[i], "sent", "maildir");
			continue;
		}
		delivery_sanitise(reply, sizeof reply, err, strlen(err));
		delivery_record(&msgs[i], DELIVERY_DEFER, now +
		    delivery_backoff(msgs[i].attempts), reply);
		delivery_log(&msgs[i], "deferred", reply);
	}
	store_outbox_msgs_free(msgs, n);
	delivery_flush();
	/* More may be due: continue after the loop has polled I/O. */
	if (n == DELIVERY_MAILDIR_BATCH)
		delivery_next_pass();
}

/* SMTP transfers. */

static size_t
delivery_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct delivery_xfer	*x = arg;
	size_t			 n, left;

	n = size * nitems;
	left = x->msg.len - x->off;
	if (n > left)
		n = left;
	memcpy(buf, x->msg.message + x->off, n);
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
	log_debug("delivery: message %" PRId64 ": server: %.*s", x->msg.id,
	    (int)len, line);
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
	if (delivery_cfg->username != NULL && x->fresh && !x->authed) {
		x->noauth = 1;
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

/* The URL with the EHLO name as its path: smtp://host:port/domain. */
static int
delivery_url(char *buf, size_t len, CURL *easy)
{
	const char	*u = delivery_cfg->mail_url;
	char		*dom;
	size_t		 ulen;
	int		 n;

	ulen = strlen(u);
	while (ulen > 0 && u[ulen - 1] == '/')
		ulen--;
	dom = curl_easy_escape(easy, delivery_cfg->domain != NULL ?
	    delivery_cfg->domain : "localhost", 0);
	if (dom == NULL)
		return -1;
	n = snprintf(buf, len, "%.*s/%s", (int)ulen, u, dom);
	curl_free(dom);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int
delivery_setup(struct delivery_xfer *x, char *err, size_t errlen)
{
	const struct config	*c = delivery_cfg;
	CURL			*e = x->easy;
	char			 url[1024], addr[512];
	long			 ssl;
	int			 n, ok = 1;

	curl_easy_reset(e);
	curl_slist_free_all(x->rcpt);
	x->rcpt = NULL;
	if (delivery_url(url, sizeof url, e) == -1) {
		delivery_errf(err, errlen, "the mail url is too long");
		return -1;
	}
	n = snprintf(addr, sizeof addr, "<%s>", x->msg.recipient);
	if (n < 0 || (size_t)n >= sizeof addr ||
	    (x->rcpt = curl_slist_append(NULL, addr)) == NULL) {
		delivery_errf(err, errlen, "recipient address too long");
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
	ok &= curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps") ==
	    CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_MAIL_FROM, addr) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_MAIL_RCPT, x->rcpt) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_UPLOAD, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_READFUNCTION, delivery_read_cb) ==
	    CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_READDATA, x) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)x->msg.len) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_USE_SSL, ssl) == CURLE_OK;
	if (c->username != NULL) {
		ok &= curl_easy_setopt(e, CURLOPT_USERNAME, c->username) ==
		    CURLE_OK;
		ok &= curl_easy_setopt(e, CURLOPT_PASSWORD, c->password !=
		    NULL ? c->password : "") == CURLE_OK;
	}
	ok &= curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT,
	    DELIVERY_RESPONSE_TIMEOUT) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
	    DELIVERY_CONNECT_TIMEOUT) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PRIVATE, x) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_VERBOSE, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, delivery_debug_cb) ==
	    CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_DEBUGDATA, x) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PREREQFUNCTION,
	    delivery_prereq_cb) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PREREQDATA, x) == CURLE_OK;
	if (!ok) {
		delivery_errf(err, errlen, "libcurl refused an option (is SMTP "
		    "support built in?)");
		return -1;
	}
	return 0;
}

/* Release a slot's message; the easy handle stays for the next one. */
static void
delivery_xfer_clear(struct delivery_xfer *x)
{
	free(x->msg.recipient);
	free(x->msg.message_id);
	free(x->msg.message);
	memset(&x->msg, 0, sizeof x->msg);
	if (x->busy) {
		x->busy = 0;
		delivery_nbusy--;
	}
}

/* Start sending m (ownership of its fields moves to the slot). */
static int
delivery_begin(struct store_outbox_msg *m)
{
	struct delivery_xfer	*x = NULL;
	char			 err[256];
	size_t			 i, limit;
	CURLMcode		 mc;

	limit = (size_t)delivery_cfg->mail_max_connections;
	if (limit > DELIVERY_SLOTS_MAX)
		limit = DELIVERY_SLOTS_MAX;
	for (i = 0; i < limit; i++)
		if (!delivery_xfers[i].busy) {
			x = &delivery_xfers[i];
			break;
		}
	if (x == NULL)
		return -1;
	if (x->easy == NULL && (x->easy = curl_easy_init()) == NULL) {
		log_err("delivery: curl_easy_init failed");
		return -1;
	}
	x->msg = *m;
	memset(m, 0, sizeof *m);
	x->busy = 1;
	delivery_nbusy++;
	x->off = 0;
	x->phase = DELIVERY_PH_CONNECT;
	x->fresh = x->authed = x->noauth = x->in_reply = x->quitting = 0;
	x->sock = CURL_SOCKET_BAD;
	x->reply[0] = '\0';
	x->errbuf[0] = '\0';
	if (delivery_setup(x, err, sizeof err) == -1) {
		log_err("delivery: message %" PRId64 ": %s", x->msg.id, err);
		goto fail;
	}
	if ((mc = curl_multi_add_handle(delivery_multi, x->easy)) !=
	    CURLM_OK) {
		log_err("delivery: curl_multi_add_handle: %s",
		    curl_multi_strerror(mc));
		goto fail;
	}
	return 0;

fail:
	/* Not sent, not counted: it stays queued and due. */
	delivery_xfer_clear(x);
	return -1;
}

/* Hand due messages to free slots. */
static void
delivery_smtp_pass(int64_t now)
{
	struct store_outbox_msg	*msgs = NULL;
	int64_t			*skip;
	size_t			 n = 0, nskip, i, limit, room;
	char			 err[256];

	limit = (size_t)delivery_cfg->mail_max_connections;
	if (limit > DELIVERY_SLOTS_MAX)
		limit = DELIVERY_SLOTS_MAX;
	if (delivery_nbusy >= limit)
		return;
	room = limit - delivery_nbusy;
	skip = delivery_skip_ids(&nskip);
	if (store_outbox_due(now, room, skip, nskip, &msgs, &n, err,
	    sizeof err) != LECTERN_OK) {
		log_warn("delivery: cannot read the outbox: %s", err);
		free(skip);
		return;
	}
	free(skip);
	for (i = 0; i < n; i++)
		if (delivery_begin(&msgs[i]) == -1)
			break;
	store_outbox_msgs_free(msgs, n);
}

/* Decide what a finished transfer means. */
static void
delivery_finish(struct delivery_xfer *x, CURLcode rc)
{
	char			 reply[DELIVERY_REPLY_MAX], why[DELIVERY_REPLY_MAX];
	enum delivery_outcome	 o;
	int64_t			 now = delivery_now(), next;
	long			 code = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
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
	/* Add curl's own words when the server said nothing decisive. */
	if (o != DELIVERY_SENT && !x->noauth && (reply[0] == '\0' ||
	    code < 400)) {
		delivery_errf(why, sizeof why, "%s%s%s", reply[0] != '\0' ? reply :
		    "", reply[0] != '\0' ? "; " : "", x->errbuf[0] != '\0' ?
		    x->errbuf : curl_easy_strerror(rc));
		delivery_sanitise(reply, sizeof reply, why, strlen(why));
	}

	switch (o) {
	case DELIVERY_SENT:
		delivery_record(&x->msg, o, now, reply);
		delivery_log(&x->msg, "sent", reply);
		break;
	case DELIVERY_FAIL:
		delivery_record(&x->msg, o, now, reply);
		delivery_log(&x->msg, "failed", reply);
		break;
	case DELIVERY_DEFER:
		next = now + delivery_backoff(x->msg.attempts);
		if (x->msg.expires > 0 && next > x->msg.expires)
			next = x->msg.expires;
		delivery_record(&x->msg, o, next, reply);
		delivery_log(&x->msg, "deferred", reply);
		break;
	case DELIVERY_PAUSE:
		/* No store write: it stays queued, attempts untouched. */
		delivery_log(&x->msg, "not sent, server refuses", reply);
		delivery_pause(reply);
		break;
	}
}

/* Collect finished transfers (hiperfifo's check_multi_info). */
static void
delivery_check(void)
{
	struct delivery_xfer	*x;
	CURLMsg			*msg;
	CURL			*easy;
	CURLcode		 rc;
	char			*priv;
	int			 left, any = 0;

	while ((msg = curl_multi_info_read(delivery_multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		rc = msg->data.result;
		priv = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		x = (struct delivery_xfer *)(void *)priv;
		curl_multi_remove_handle(delivery_multi, easy);
		if (x == NULL)
			continue;
		delivery_finish(x, rc);
		delivery_xfer_clear(x);
		any = 1;
	}
	if (delivery_stopping) {
		if (delivery_nbusy == 0)
			event_base_loopbreak(delivery_base);
		return;
	}
	if (any)
		delivery_soon();
}

static void
delivery_sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	int	 running, action = 0;

	struct timespec	 t0, t1;
	double		 took;

	(void)arg;
	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	curl_multi_socket_action(delivery_multi, fd, action, &running);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* libcurl waits for the reply to the final dot blocking (#8555). */
	took = (double)(t1.tv_sec - t0.tv_sec) +
	    (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (took >= 1.0)
		log_warn("delivery: libcurl held the event loop for %.1f s "
		    "(waiting for the server's reply to the end of a message)",
		    took);
	delivery_check();
}

static void
delivery_curl_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	int	 running;

	(void)fd;
	(void)what;
	(void)arg;
	curl_multi_socket_action(delivery_multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	delivery_check();
}

static void
delivery_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery_sock	*s;

	(void)fd;
	(void)what;
	(void)arg;
	while ((s = delivery_reap_list) != NULL) {
		delivery_reap_list = s->next;
		event_free(s->ev);
		free(s);
	}
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
	struct delivery_sock	*ds = sockp;
	struct delivery_xfer	*x = NULL;
	struct timeval		 tv = { 0, 0 };
	char			*priv = NULL;
	short			 kind;

	(void)arg;
	if (easy != NULL && curl_easy_getinfo(easy, CURLINFO_PRIVATE,
	    &priv) == CURLE_OK && priv != NULL) {
		x = (struct delivery_xfer *)(void *)priv;
		if (what == CURL_POLL_REMOVE) {
			if (x->sock == s)
				x->sock = CURL_SOCKET_BAD;
		} else
			x->sock = s;
	}
	if (what == CURL_POLL_REMOVE) {
		if (ds != NULL) {
			event_del(ds->ev);
			ds->next = delivery_reap_list;
			delivery_reap_list = ds;
			if (delivery_reap_ev != NULL)
				evtimer_add(delivery_reap_ev, &tv);
		}
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (ds == NULL) {
		if ((ds = calloc(1, sizeof *ds)) == NULL)
			return -1;
		ds->ev = event_new(delivery_base, s, kind,
		    delivery_sock_event_cb, NULL);
		if (ds->ev == NULL) {
			free(ds);
			return -1;
		}
		curl_multi_assign(delivery_multi, s, ds);
	} else {
		event_del(ds->ev);
		if (event_assign(ds->ev, delivery_base, s, kind,
		    delivery_sock_event_cb, NULL) == -1)
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
	struct timeval	 tv;

	(void)multi;
	(void)arg;
	if (ms < 0)
		return evtimer_del(delivery_curl_ev) == -1 ? -1 : 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return evtimer_add(delivery_curl_ev, &tv) == -1 ? -1 : 0;
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
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = 0;
	evtimer_add(delivery_work_ev, &tv);
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
	if (delivery_ndone > 0)
		delivery_flush();
	if (delivery_paused && now >= delivery_paused_until)
		delivery_unpause("retry time reached");
	if (delivery_ndone == 0 && !delivery_paused) {
		if (delivery_cfg->maildir != NULL)
			delivery_maildir_pass(now);
		else
			delivery_smtp_pass(now);
	}
	if (evtimer_pending(delivery_work_ev, NULL))
		return;		/* a maildir batch continues next pass */
	delivery_arm(now);
}

/* Start delivering. */
int
delivery_start(struct event_base *base, const struct config *cfg,
    char *err, size_t errlen)
{
	CURLcode	 rc;
	long		 max;

	if (delivery_started) {
		delivery_errf(err, errlen, "delivery is already running");
		return -1;
	}
	if (cfg->maildir != NULL &&
	    delivery_maildir_init(cfg->maildir, err, errlen) == -1)
		return -1;
	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		delivery_errf(err, errlen, "cannot initialise libcurl: %s",
		    curl_easy_strerror(rc));
		return -1;
	}
	delivery_base = base;
	delivery_cfg = cfg;
	delivery_stopping = 0;
	delivery_paused = 0;
	delivery_paused_reason[0] = '\0';
	delivery_next_at = 0;
	if ((delivery_multi = curl_multi_init()) == NULL) {
		delivery_errf(err, errlen, "cannot create a libcurl multi handle");
		goto fail;
	}
	max = cfg->mail_max_connections > 0 ? cfg->mail_max_connections : 1;
	if (curl_multi_setopt(delivery_multi, CURLMOPT_SOCKETFUNCTION,
	    delivery_socket_cb) != CURLM_OK ||
	    curl_multi_setopt(delivery_multi, CURLMOPT_TIMERFUNCTION,
	    delivery_timer_cb) != CURLM_OK ||
	    curl_multi_setopt(delivery_multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    max) != CURLM_OK ||
	    curl_multi_setopt(delivery_multi, CURLMOPT_MAXCONNECTS, max) !=
	    CURLM_OK) {
		delivery_errf(err, errlen, "libcurl refused a multi option");
		goto fail;
	}
	delivery_curl_ev = evtimer_new(base, delivery_curl_timer_cb, NULL);
	delivery_work_ev = evtimer_new(base, delivery_work_cb, NULL);
	delivery_reap_ev = evtimer_new(base, delivery_reap_cb, NULL);
	if (delivery_curl_ev == NULL || delivery_work_ev == NULL ||
	    delivery_reap_ev == NULL) {
		delivery_errf(err, errlen, "cannot create delivery timers");
		goto fail;
	}
	delivery_started = 1;
	log_info("delivery: %s via %s", cfg->maildir != NULL ? "maildir" :
	    "smtp", cfg->maildir != NULL ? cfg->maildir : cfg->mail_url);
	delivery_soon();
	return 0;

fail:
	if (delivery_curl_ev != NULL)
		event_free(delivery_curl_ev);
	if (delivery_work_ev != NULL)
		event_free(delivery_work_ev);
	if (delivery_reap_ev != NULL)
		event_free(delivery_reap_ev);
	delivery_curl_ev = delivery_work_ev = delivery_reap_ev = NULL;
	if (delivery_multi != NULL)
		curl_multi_cleanup(delivery_multi);
	delivery_multi = NULL;
	curl_global_cleanup();
	return -1;
}

static void
delivery_stop_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(delivery_base);
}

/*
 * curl_multi_cleanup says QUIT on each cached connection and waits for
 * the reply as long as the most recently added handle's response timeout
 * (600 s): add and remove a handle with a short one first.
 */
static void
delivery_short_quit(void)
{
	CURL	*e;

	if ((e = curl_easy_init()) == NULL)
		return;
	curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT,
	    DELIVERY_QUIT_WAIT);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, DELIVERY_QUIT_WAIT);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (curl_multi_add_handle(delivery_multi, e) == CURLM_OK)
		curl_multi_remove_handle(delivery_multi, e);
	curl_easy_cleanup(e);
}

/* Stop: let in-flight transfers finish for a while, then release all. */
void
delivery_stop(void)
{
	struct delivery_xfer	*x;
	struct timeval		 tv = { DELIVERY_STOP_WAIT, 0 };
	size_t			 i;

	if (!delivery_started)
		return;
	delivery_stopping = 1;
	evtimer_del(delivery_work_ev);
	if (delivery_nbusy > 0) {
		log_info("delivery: waiting up to %d s for %zu transfer%s",
		    DELIVERY_STOP_WAIT, delivery_nbusy,
		    delivery_nbusy == 1 ? "" : "s");
		delivery_stop_ev = evtimer_new(delivery_base,
		    delivery_stop_wait_cb, NULL);
		if (delivery_stop_ev != NULL &&
		    evtimer_add(delivery_stop_ev, &tv) == 0)
			event_base_dispatch(delivery_base);
		if (delivery_stop_ev != NULL)
			event_free(delivery_stop_ev);
		delivery_stop_ev = NULL;
	}
	/*
	 * Abandoned transfers stay queued and are sent again later. Removing
	 * a live SMTP upload makes libcurl (7.88) send the end-of-data dot
	 * and wait for the reply, blocking, which could even complete a
	 * truncated message: the connection is shut down first, so the dot
	 * cannot be sent and nothing waits.
	 */
	for (i = 0; i < DELIVERY_SLOTS_MAX; i++) {
		x = &delivery_xfers[i];
		if (x->busy) {
			log_info("delivery: message %" PRId64 " to %s abandoned "
			    "at stop; it stays queued", x->msg.id,
			    x->msg.recipient);
			if (x->sock != CURL_SOCKET_BAD)
				shutdown(x->sock, SHUT_RDWR);
			curl_multi_remove_handle(delivery_multi, x->easy);
			delivery_xfer_clear(x);
		}
	}
	if (delivery_ndone > 0 && delivery_flush() == -1)
		log_warn("delivery: %zu outcome%s not recorded; those "
		    "messages will be sent again", delivery_ndone,
		    delivery_ndone == 1 ? "" : "s");
	delivery_ndone = 0;

	delivery_short_quit();
	for (i = 0; i < DELIVERY_SLOTS_MAX; i++) {
		x = &delivery_xfers[i];
		if (x->easy != NULL)
			curl_easy_cleanup(x->easy);
		curl_slist_free_all(x->rcpt);
		memset(x, 0, sizeof *x);
	}
	/* May still call delivery_socket_cb: the events go after it. */
	curl_multi_cleanup(delivery_multi);
	delivery_multi = NULL;
	delivery_reap_cb(-1, 0, NULL);
	event_free(delivery_curl_ev);
	event_free(delivery_work_ev);
	event_free(delivery_reap_ev);
	delivery_curl_ev = delivery_work_ev = delivery_reap_ev = NULL;
	free(delivery_done);
	delivery_done = NULL;
	delivery_done_cap = 0;
	delivery_nbusy = 0;
	curl_global_cleanup();
	delivery_started = 0;
	delivery_stopping = 0;
	delivery_base = NULL;
	delivery_cfg = NULL;
}

/* Borrow a reloaded configuration; a paused server is tried again. */
void
delivery_set_config(const struct config *cfg)
{
	long	 max;

	if (!delivery_started)
		return;
	delivery_cfg = cfg;
	max = cfg->mail_max_connections > 0 ? cfg->mail_max_connections : 1;
	curl_multi_setopt(delivery_multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max);
	curl_multi_setopt(delivery_multi, CURLMOPT_MAXCONNECTS, max);
	if (cfg->maildir != NULL) {
		char err[512];

		if (delivery_maildir_init(cfg->maildir, err, sizeof err) == -1)
			log_err("delivery: %s", err);
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
