/*
 * server.c -- the control socket: accept, frame, authorise, reply.
 *
 * The shape of tmux's server and OpenSMTPD's control socket: one listening
 * AF_UNIX stream socket (evconnlistener), one bufferevent per client,
 * requests are '\n'-terminated lines handed to commands_execute, replies
 * are queued in request order.
 *
 * Every limit here exists so that one client cannot hurt the others:
 *  - a line may not grow past max_line: the length is checked while no '\n'
 *    has been seen yet, so the daemon never buffers more than max_line plus
 *    one read;
 *  - a request must arrive whole within request_timeout of its first byte
 *    (a client trickling one byte a second is cut off), and a quiet
 *    connection is closed after idle_timeout;
 *  - when more than max_output reply bytes are queued, the client's
 *    requests are no longer read until it has drained the queue to a
 *    quarter of that; a client that never reads is closed by the idle
 *    timeout, so the memory a client can pin is bounded;
 *  - at most SERVER_BATCH requests are handled per wake-up; the rest wait
 *    for a later loop pass, after everyone else had a turn;
 *  - at most max_clients connections; when accept runs out of file
 *    descriptors the listener pauses for a second instead of spinning.
 *
 * Timers: each client has one timer, armed for the earliest of its idle and
 * request deadlines. Requests only update timestamps; the timer is re-armed
 * when it fires (or when a deadline moves earlier), so a busy connection
 * costs no timer operations per request.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>
#include <jansson.h>

#include "lectern.h"
#include "commands.h"
#include "config.h"
#include "log.h"
#include "server.h"

#define SERVER_BATCH		32	/* requests handled per wake-up */
/* Requests at least this long are followed by malloc_trim(). */
#define SERVER_TRIM_AFTER	(64 * 1024)
#define SERVER_BACKLOG		128
#define SERVER_GROUPS_INLINE	32
#define SERVER_GROUPS_MAX	65536
#define SERVER_COPY_MAX		4096	/* replies up to this are copied */

#define SERVER_C_EOF		0x01	/* the peer shut down its side */
#define SERVER_C_CLOSING	0x02	/* close once the output is flushed */
#define SERVER_C_PAUSED		0x04	/* too much output queued */
#define SERVER_C_REQUEST	0x08	/* a partial request is buffered */
#define SERVER_C_DEAD		0x10	/* waiting to be freed */
#define SERVER_C_WAITING	0x20	/* a request runs on the reader */

struct server_client {
	TAILQ_ENTRY(server_client) entry;
	struct bufferevent	*bev;
	struct event		 timer;		/* idle and request deadlines */
	struct event		 more;		/* continue after a full batch */
	struct commands_peer	 peer;
	gid_t			 groups_inline[SERVER_GROUPS_INLINE];
	gid_t			*groups;
	size_t			 ngroups;
	time_t			 last_active;
	time_t			 req_start;
	time_t			 timer_at;	/* 0 when the timer is not armed */
	size_t			 scanned;	/* input bytes known to hold no '\n' */
	int			 flags;
	unsigned long		 id;
	struct commands_later	*later;		/* with SERVER_C_WAITING */
};
TAILQ_HEAD(server_client_list, server_client);

static struct event_base	*server_base;
static const struct config	*server_cfg;
static struct evconnlistener	*server_listener;
static struct event		 server_backoff;
static struct event		 server_reaper;
static int			 server_running;
static struct server_client_list server_active =
    TAILQ_HEAD_INITIALIZER(server_active);
static struct server_client_list server_dead =
    TAILQ_HEAD_INITIALIZER(server_dead);
static size_t			 server_nclients;
static unsigned long		 server_next_id;
static char			*server_path;	/* the socket file we made */
static dev_t			 server_path_dev;
static ino_t			 server_path_ino;
static char			*server_greeting;
static size_t			 server_greeting_len;
static uid_t			 server_euid;

static void server_client_process(struct server_client *);

static time_t
server_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void
server_client_kill(struct server_client *c, const char *why)
{
	static const struct timeval zero = { 0, 0 };

	if (c->flags & SERVER_C_DEAD)
		return;
	log_debug("client %lu (uid %ld): closing: %s", c->id,
	    (long)c->peer.uid, why);
	c->flags |= SERVER_C_DEAD;
	/* A report still running for it: its reply is dropped. */
	commands_later_detach(c->later);
	c->later = NULL;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	evtimer_del(&c->timer);
	evtimer_del(&c->more);
	TAILQ_REMOVE(&server_active, c, entry);
	TAILQ_INSERT_TAIL(&server_dead, c, entry);
	server_nclients--;
	/* Freed on a later loop pass: we may be inside its own callback. */
	evtimer_add(&server_reaper, &zero);
}

static void
server_client_free(struct server_client *c)
{
	commands_later_detach(c->later);
	c->later = NULL;
	event_del(&c->timer);
	event_del(&c->more);
	bufferevent_free(c->bev);
	if (c->groups != c->groups_inline)
		free(c->groups);
	free(c);
}

static void
server_reaper_cb(evutil_socket_t fd, short events, void *arg)
{
	struct server_client *c;

	(void)fd;
	(void)events;
	(void)arg;
	while ((c = TAILQ_FIRST(&server_dead)) != NULL) {
		TAILQ_REMOVE(&server_dead, c, entry);
		server_client_free(c);
	}
}

/* Arm the client's timer for deadline unless it already fires earlier. */
static void
server_client_arm(struct server_client *c, time_t now, time_t deadline)
{
	struct timeval tv;

	if (c->timer_at != 0 && c->timer_at <= deadline)
		return;
	tv.tv_sec = deadline > now ? deadline - now : 0;
	tv.tv_usec = 0;
	evtimer_add(&c->timer, &tv);
	c->timer_at = deadline;
}

static void
server_client_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct server_client *c = arg;
	time_t now = server_now(), deadline;

	(void)fd;
	(void)events;
	c->timer_at = 0;
	if ((c->flags & SERVER_C_REQUEST) &&
	    now >= c->req_start + server_cfg->request_timeout) {
		log_info("client %lu (uid %ld): request not complete within "
		    "%d s, closing", c->id, (long)c->peer.uid,
		    server_cfg->request_timeout);
		server_client_kill(c, "request timeout");
		return;
	}
	if (now >= c->last_active + server_cfg->idle_timeout) {
		log_debug("client %lu: idle for %d s", c->id,
		    server_cfg->idle_timeout);
		server_client_kill(c, "idle timeout");
		return;
	}
	deadline = c->last_active + server_cfg->idle_timeout;
	if ((c->flags & SERVER_C_REQUEST) &&
	    c->req_start + server_cfg->request_timeout < deadline)
		deadline = c->req_start + server_cfg->request_timeout;
	server_client_arm(c, now, deadline);
}

static void
server_client_more_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	server_client_process(arg);
}

/*
 * Whether the peer may change state: root, the user the daemon runs as
 * (whoever runs the daemon owns its data), or a member of the coordinator
 * group by its primary or a supplementary group. Asked per request, so a
 * reload that changes the group applies at once.
 */
static int
server_client_can_write(const struct server_client *c)
{
	gid_t g = server_cfg->coordinator_gid;
	size_t i;

	if (c->peer.uid == 0 || c->peer.uid == server_euid)
		return 1;
	if (g == (gid_t)-1)
		return 0;
	if (c->peer.gid == g)
		return 1;
	for (i = 0; i < c->ngroups; i++) {
		if (c->groups[i] == g)
			return 1;
	}
	return 0;
}

static void
server_reply_free_cb(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)(uintptr_t)data);
}

static int
server_client_queue(struct server_client *c, char *reply, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	/* Small replies are copied into the buffer's chains; large ones are
	 * handed over whole to avoid copying megabytes. */
	if (len <= SERVER_COPY_MAX) {
		int rc = evbuffer_add(out, reply, len);

		free(reply);
		return rc;
	}
	if (evbuffer_add_reference(out, reply, len, server_reply_free_cb,
	    NULL) == -1) {
		free(reply);
		return -1;
	}
	return 0;
}

static void
server_client_too_large(struct server_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	char msg[128];
	char *reply;
	size_t len;

	log_info("client %lu (uid %ld): request line longer than %zu bytes, "
	    "closing", c->id, (long)c->peer.uid, server_cfg->max_line);
	snprintf(msg, sizeof msg, "the request line is longer than %zu bytes",
	    server_cfg->max_line);
	reply = commands_refuse(LECTERN_E_TOO_LARGE, msg, &len);
	evbuffer_drain(in, evbuffer_get_length(in));
	c->scanned = 0;
	c->flags &= ~(SERVER_C_REQUEST | SERVER_C_PAUSED);
	c->flags |= SERVER_C_CLOSING;
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (server_client_queue(c, reply, len) == -1)
		server_client_kill(c, "out of memory");
	/*
	 * Reading goes on (and is thrown away) until the reply is flushed, so
	 * that a client blocked in writing the rest of its line can get to
	 * reading the reply.
	 */
}

/* The reply of a request that ran on the reader: queue it, go on. */
static void
server_later_cb(void *arg, char *reply, size_t len)
{
	struct server_client *c = arg;

	c->later = NULL;
	c->flags &= ~SERVER_C_WAITING;
	c->last_active = server_now();
	if (server_client_queue(c, reply, len) == -1) {
		server_client_kill(c, "out of memory");
		return;
	}
	if (!(c->flags & (SERVER_C_EOF | SERVER_C_PAUSED)))
		bufferevent_enable(c->bev, EV_READ);
	server_client_process(c);
}

/* Handle the complete lines in the client's input, at most one batch. */
static void
server_client_process(struct server_client *c)
{
	static const struct timeval zero = { 0, 0 };
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer_ptr pos, eol;
	size_t len, linelen, rlen;
	unsigned char *line;
	char *reply;
	int n = 0, consumed = 0, noline = 0;
	time_t now;

	if (c->flags & (SERVER_C_DEAD | SERVER_C_CLOSING | SERVER_C_WAITING))
		return;
	for (;;) {
		if (evbuffer_get_length(out) >= server_cfg->max_output) {
			/* Wait until the client has read most of it. */
			c->flags |= SERVER_C_PAUSED;
			bufferevent_disable(c->bev, EV_READ);
			bufferevent_setwatermark(c->bev, EV_WRITE,
			    server_cfg->max_output / 4, 0);
			break;
		}
		if ((len = evbuffer_get_length(in)) == 0) {
			noline = 1;
			break;
		}
		if (n == SERVER_BATCH) {
			evtimer_add(&c->more, &zero);
			break;
		}
		if (evbuffer_ptr_set(in, &pos, c->scanned,
		    EVBUFFER_PTR_SET) == -1) {
			c->scanned = 0;
			evbuffer_ptr_set(in, &pos, 0, EVBUFFER_PTR_SET);
		}
		eol = evbuffer_search_eol(in, &pos, NULL, EVBUFFER_EOL_LF);
		if (eol.pos == -1) {
			c->scanned = len;
			if (len > server_cfg->max_line) {
				server_client_too_large(c);
				return;
			}
			noline = 1;
			break;
		}
		linelen = (size_t)eol.pos;
		if (linelen > server_cfg->max_line) {
			server_client_too_large(c);
			return;
		}
		if ((line = evbuffer_pullup(in, (ev_ssize_t)linelen + 1)) ==
		    NULL) {
			server_client_kill(c, "out of memory");
			return;
		}
		c->peer.can_write = server_client_can_write(c);
		reply = commands_execute_async((const char *)line, linelen,
		    &c->peer, &rlen, server_later_cb, c, &c->later);
		evbuffer_drain(in, linelen + 1);
		c->scanned = 0;
		if (reply == NULL) {
			/*
			 * It runs on the reader: nothing more from this client
			 * until its reply is queued (replies keep the order of
			 * requests), and no more reading meanwhile.
			 */
			c->flags |= SERVER_C_WAITING;
			c->flags &= ~SERVER_C_REQUEST;
			bufferevent_disable(c->bev, EV_READ);
			return;
		}
		if (server_client_queue(c, reply, rlen) == -1) {
			server_client_kill(c, "out of memory");
			return;
		}
		/*
		 * A large request (an import) leaves megabytes of freed,
		 * fragmented heap that glibc keeps for later; give it back
		 * so that a long-running daemon stays small.
		 */
		if (linelen >= SERVER_TRIM_AFTER)
			malloc_trim(0);
		n++;
		consumed = 1;
	}

	if (!noline) {
		/* Complete lines are waiting for us, not for the client. */
		c->flags &= ~SERVER_C_REQUEST;
		return;
	}
	if (c->flags & SERVER_C_EOF) {
		/* What is left is a partial line that will never end. */
		evbuffer_drain(in, evbuffer_get_length(in));
		c->flags &= ~SERVER_C_REQUEST;
		if (evbuffer_get_length(out) == 0)
			server_client_kill(c, "end of file");
		else
			c->flags |= SERVER_C_CLOSING;
		return;
	}
	if (evbuffer_get_length(in) == 0) {
		c->flags &= ~SERVER_C_REQUEST;
		return;
	}
	if (consumed || !(c->flags & SERVER_C_REQUEST)) {
		now = server_now();
		c->flags |= SERVER_C_REQUEST;
		c->req_start = now;
		server_client_arm(c, now, now + server_cfg->request_timeout);
	}
}

static void
server_client_read_cb(struct bufferevent *bev, void *arg)
{
	struct server_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	c->last_active = server_now();
	if (c->flags & SERVER_C_CLOSING) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	server_client_process(c);
}

static void
server_client_write_cb(struct bufferevent *bev, void *arg)
{
	struct server_client *c = arg;
	struct evbuffer *out = bufferevent_get_output(bev);

	c->last_active = server_now();
	if (c->flags & SERVER_C_DEAD)
		return;
	if (c->flags & SERVER_C_CLOSING) {
		if (evbuffer_get_length(out) == 0)
			server_client_kill(c, "reply flushed");
		return;
	}
	if ((c->flags & SERVER_C_PAUSED) &&
	    evbuffer_get_length(out) <= server_cfg->max_output / 4) {
		c->flags &= ~SERVER_C_PAUSED;
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		if (!(c->flags & (SERVER_C_EOF | SERVER_C_WAITING)))
			bufferevent_enable(bev, EV_READ);
		server_client_process(c);
	}
}

static void
server_client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct server_client *c = arg;

	(void)bev;
	if (c->flags & SERVER_C_DEAD)
		return;
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING)) {
		/* Answer what was sent in full, then close. */
		c->flags |= SERVER_C_EOF;
		bufferevent_disable(c->bev, EV_READ);
		if (c->flags & SERVER_C_CLOSING) {
			if (evbuffer_get_length(bufferevent_get_output(
			    c->bev)) == 0)
				server_client_kill(c, "end of file");
			return;
		}
		if (!(c->flags & SERVER_C_PAUSED))
			server_client_process(c);
		return;
	}
	server_client_kill(c, (what & BEV_EVENT_ERROR) ?
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()) :
	    "connection error");
}

/* Read the peer's uid, gid, pid and supplementary groups. */
static int
server_client_credentials(struct server_client *c, int fd)
{
	struct ucred uc;
	socklen_t len = sizeof uc;
	gid_t *g;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    len != sizeof uc) {
		log_warn("SO_PEERCRED: %s", strerror(errno));
		return -1;
	}
	c->peer.uid = uc.uid;
	c->peer.gid = uc.gid;
	c->peer.pid = uc.pid;

	c->groups = c->groups_inline;
	len = sizeof c->groups_inline;
	while (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->groups,
	    &len) == -1) {
		if (errno == ENOPROTOOPT) {
			/* An old kernel: the primary group must do. */
			len = 0;
			break;
		}
		if (errno != ERANGE || len / sizeof(gid_t) > SERVER_GROUPS_MAX ||
		    len == 0) {
			log_warn("SO_PEERGROUPS: %s", strerror(errno));
			return -1;
		}
		/* The kernel told us the size it needs. */
		g = c->groups == c->groups_inline ? NULL : c->groups;
		if ((g = realloc(g, len)) == NULL) {
			log_warn("SO_PEERGROUPS: out of memory");
			return -1;
		}
		c->groups = g;
	}
	c->ngroups = len / sizeof(gid_t);
	return 0;
}

static void
server_refuse_busy(int fd)
{
	char *reply;
	size_t len;

	reply = commands_refuse(LECTERN_E_BUSY, "the daemon has too many "
	    "connections; try again later", &len);
	/* Best effort: one small line into an empty socket buffer. */
	if (send(fd, reply, len, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		log_debug("busy reply: %s", strerror(errno));
	free(reply);
}

static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server_client *c;
	time_t now;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	if (server_nclients >= (size_t)server_cfg->max_clients) {
		log_warn("%zu connections open, the most allowed "
		    "(max_clients): refusing one", server_nclients);
		server_refuse_busy(fd);
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		log_warn("accept: out of memory");
		close(fd);
		return;
	}
	if (server_client_credentials(c, fd) == -1) {
		if (c->groups != c->groups_inline)
			free(c->groups);
		free(c);
		close(fd);
		return;
	}
	c->bev = bufferevent_socket_new(server_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warn("accept: cannot create a bufferevent");
		if (c->groups != c->groups_inline)
			free(c->groups);
		free(c);
		close(fd);
		return;
	}
	c->id = ++server_next_id;
	evtimer_assign(&c->timer, server_base, server_client_timer_cb, c);
	evtimer_assign(&c->more, server_base, server_client_more_cb, c);
	bufferevent_setcb(c->bev, server_client_read_cb, server_client_write_cb,
	    server_client_event_cb, c);
	TAILQ_INSERT_TAIL(&server_active, c, entry);
	server_nclients++;
	log_debug("client %lu connected: uid %ld gid %ld pid %ld", c->id,
	    (long)c->peer.uid, (long)c->peer.gid, (long)c->peer.pid);

	now = server_now();
	c->last_active = now;
	server_client_arm(c, now, now + server_cfg->idle_timeout);
	if (bufferevent_write(c->bev, server_greeting,
	    server_greeting_len) == -1 ||
	    bufferevent_enable(c->bev, EV_READ) == -1)
		server_client_kill(c, "cannot start");
}

static void
server_accept_error_cb(struct evconnlistener *l, void *arg)
{
	static const struct timeval one = { 1, 0 };
	int e = EVUTIL_SOCKET_ERROR();

	(void)arg;
	/* Out of descriptors (EMFILE, ENFILE) or memory: back off a second. */
	log_warn("accept: %s; not accepting for 1 s",
	    evutil_socket_error_to_string(e));
	evconnlistener_disable(l);
	evtimer_add(&server_backoff, &one);
}

static void
server_backoff_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	if (server_listener != NULL)
		evconnlistener_enable(server_listener);
}

/* Bind path, replacing a stale socket file; the new fd or -1 with err. */
static int
server_bind(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd = -1, probe, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "socket path %s is longer than %zu bytes",
		    path, sizeof sun.sun_path - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket; "
			    "not replacing it", path);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (probe == -1) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			return -1;
		}
		if (connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0 ||
		    errno == EAGAIN || errno == EINPROGRESS) {
			close(probe);
			snprintf(err, errlen, "another lecternd is listening on "
			    "%s", path);
			return -1;
		}
		saved = errno;
		close(probe);
		if (saved != ECONNREFUSED) {
			snprintf(err, errlen, "cannot check %s: %s", path,
			    strerror(saved));
			return -1;
		}
		log_notice("removing stale socket %s", path);
		if (unlink(path) == -1 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove stale socket %s: %s",
			    path, strerror(errno));
			return -1;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* Born 0660: no window in which others could connect. */
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		saved = errno;
		umask(old);
		snprintf(err, errlen, "cannot bind %s: %s", path,
		    strerror(saved));
		goto fail;
	}
	umask(old);
	if (chmod(path, 0660) == -1 || lstat(path, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	if (listen(fd, SERVER_BACKLOG) == -1) {
		snprintf(err, errlen, "listen on %s: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	server_path_dev = st.st_dev;
	server_path_ino = st.st_ino;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Listen on cfg->socket, or on listen_fd when systemd passed one. */
int
server_start(struct event_base *base, const struct config *cfg,
    int listen_fd, char *err, size_t errlen)
{
	json_t *greeting = NULL;
	char *g = NULL;
	int fd = listen_fd, bound = 0;

	server_base = base;
	server_cfg = cfg;
	server_euid = geteuid();

	greeting = json_pack("{s:s, s:i}", "lectern", LECTERN_VERSION,
	    "protocol", LECTERN_PROTOCOL);
	if (greeting == NULL ||
	    (g = json_dumps(greeting, JSON_COMPACT)) == NULL) {
		snprintf(err, errlen, "cannot build the greeting");
		goto fail;
	}
	server_greeting_len = strlen(g) + 1;
	if ((server_greeting = malloc(server_greeting_len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	memcpy(server_greeting, g, server_greeting_len - 1);
	memcpy(server_greeting + server_greeting_len - 1, "\n", 2);

	if (fd >= 0) {
		/*
		 * systemd hands the socket over blocking; libevent accepts
		 * until EAGAIN, so a blocking one would stall the loop in
		 * accept() after the first connection.
		 */
		if (evutil_make_socket_nonblocking(fd) == -1 ||
		    evutil_make_socket_closeonexec(fd) == -1) {
			snprintf(err, errlen, "cannot prepare the socket passed "
			    "by systemd: %s", strerror(errno));
			goto fail;
		}
	} else {
		if ((fd = server_bind(cfg->socket, err, errlen)) == -1)
			goto fail;
		bound = 1;
		if ((server_path = strdup(cfg->socket)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	/* Backlog 0: the socket is listening already (ours or systemd's). */
	server_listener = evconnlistener_new(base, server_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (server_listener == NULL) {
		snprintf(err, errlen, "cannot listen on %s", cfg->socket);
		goto fail;
	}
	evconnlistener_set_error_cb(server_listener, server_accept_error_cb);
	evtimer_assign(&server_backoff, base, server_backoff_cb, NULL);
	evtimer_assign(&server_reaper, base, server_reaper_cb, NULL);
	server_running = 1;
	free(g);
	json_decref(greeting);
	if (server_path != NULL)
		log_info("listening on %s", server_path);
	else
		log_info("listening on the socket passed by systemd");
	return 0;
fail:
	if (bound) {
		/* evconnlistener_new failing leaves the fd to us. */
		close(fd);
		unlink(cfg->socket);
	}
	free(server_path);
	server_path = NULL;
	free(server_greeting);
	server_greeting = NULL;
	free(g);
	json_decref(greeting);
	return -1;
}

/* Stop accepting, close every connection, remove the socket file we made. */
void
server_stop(void)
{
	struct server_client *c;
	struct stat st;

	if (!server_running)
		return;
	server_running = 0;
	evconnlistener_free(server_listener);
	server_listener = NULL;
	event_del(&server_backoff);
	event_del(&server_reaper);
	while ((c = TAILQ_FIRST(&server_active)) != NULL) {
		TAILQ_REMOVE(&server_active, c, entry);
		server_client_free(c);
	}
	while ((c = TAILQ_FIRST(&server_dead)) != NULL) {
		TAILQ_REMOVE(&server_dead, c, entry);
		server_client_free(c);
	}
	server_nclients = 0;
	/* Only if it is still the file we bound, not a successor's. */
	if (server_path != NULL && lstat(server_path, &st) == 0 &&
	    st.st_dev == server_path_dev && st.st_ino == server_path_ino)
		unlink(server_path);
	free(server_path);
	server_path = NULL;
	free(server_greeting);
	server_greeting = NULL;
}

/* Borrow a reloaded configuration. */
void
server_set_config(const struct config *cfg)
{
	server_cfg = cfg;
}

/* Connections open now. */
size_t
server_clients(void)
{
	return server_nclients;
}
