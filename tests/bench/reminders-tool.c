/*
 * reminders-tool.c -- helpers for tests/bench/reminders.sh.
 *
 *   reminders-tool pipe  -s SOCK -f FILE [-d DEPTH]
 *   reminders-tool call  -s SOCK JSON
 *   reminders-tool ready -s SOCK [-T SECS]
 *   reminders-tool watch -m MAILDIR -n N [-T SECS] [-o RAWFILE]
 *   reminders-tool sink
 *
 * pipe   sends every line of FILE over one connection, keeping at most
 *        DEPTH (default 64) requests outstanding, and checks that every
 *        reply says "ok":true; prints "n=N secs=S rps=R".
 * call   sends one request and prints its reply line.
 * ready  connects to SOCK every millisecond until it can, sends status
 *        and prints the CLOCK_REALTIME instant (ns) its reply arrived:
 *        the end of a daemon's start-up.
 * watch  watches MAILDIR/new with inotify; for every file that arrives
 *        (maildir delivery renames tmp/X to new/X: IN_MOVED_TO) it takes
 *        the CLOCK_REALTIME instant in ms, then reads the file: a
 *        reminder (decoded subject "Reminder: ..." or "Напоминание: ...")
 *        whose title carries "rbench-DUE-K" (DUE the reminder's due time,
 *        Unix seconds) counts, delay = arrival - DUE * 1000.  Stops
 *        after N reminder files or SECS seconds; prints one summary line
 *        (count, p50/p99/max delay in ms, files of other kinds) and
 *        writes "DUE K ARRIVAL_MS DELAY_MS FILE" lines to RAWFILE.
 *        Prints "watching" on stderr once the watch is in place.
 * sink   a minimal SMTP server on a free 127.0.0.1 port (printed) that
 *        accepts and discards every message, until killed.
 */
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define RT_BUF	(1 << 20)

struct rt_conn {
	int	 fd;
	char	*in;
	size_t	 len;
};

static void
rt_die(const char *what)
{
	fprintf(stderr, "reminders-tool: %s: %s\n", what,
	    errno ? strerror(errno) : "failed");
	exit(2);
}

static int64_t
rt_now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long
rt_number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0) {
		errno = EINVAL;
		rt_die(s);
	}
	return v;
}

static int
rt_connect(const char *path, int quiet)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		rt_die("socket");
	if (snprintf(a.sun_path, sizeof a.sun_path, "%s", path) >=
	    (int)sizeof a.sun_path) {
		errno = ENAMETOOLONG;
		rt_die(path);
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == -1) {
		if (quiet) {
			close(fd);
			return -1;
		}
		rt_die(path);
	}
	return fd;
}

/* Read one reply line (blocking); returns it NUL-terminated, or NULL at EOF. */
static char *
rt_line(struct rt_conn *c, size_t *used)
{
	char *nl;
	ssize_t r;

	for (;;) {
		if ((nl = memchr(c->in, '\n', c->len)) != NULL) {
			*nl = '\0';
			*used = (size_t)(nl - c->in) + 1;
			return c->in;
		}
		if (c->len == RT_BUF) {
			errno = EMSGSIZE;
			rt_die("reply too long");
		}
		r = read(c->fd, c->in + c->len, RT_BUF - c->len);
		if (r == 0)
			return NULL;
		if (r == -1) {
			if (errno == EINTR)
				continue;
			rt_die("read");
		}
		c->len += (size_t)r;
	}
}

static void
rt_consume(struct rt_conn *c, size_t used)
{
	memmove(c->in, c->in + used, c->len - used);
	c->len -= used;
}

static void
rt_write(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			rt_die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

static void
rt_open(struct rt_conn *c, int fd)
{
	size_t used;

	c->fd = fd;
	c->len = 0;
	if ((c->in = malloc(RT_BUF)) == NULL)
		rt_die("malloc");
	if (rt_line(c, &used) == NULL) {
		errno = ECONNRESET;
		rt_die("no greeting");
	}
	rt_consume(c, used);
}

/* pipe: the lines of a file, pipelined. */
static int
rt_pipe(const char *sock, const char *file, long depth)
{
	struct rt_conn c;
	struct pollfd pf;
	FILE *f;
	char *text, *p, *line;
	size_t cap = 1 << 20, len = 0, used, off = 0;
	long sent = 0, done = 0, total = 0, errors = 0;
	ssize_t w;
	int64_t t0;
	double secs;

	if ((f = fopen(file, "r")) == NULL)
		rt_die(file);
	if ((text = malloc(cap)) == NULL)
		rt_die("malloc");
	while ((used = fread(text + len, 1, cap - len, f)) > 0) {
		len += used;
		if (len == cap && (text = realloc(text, cap *= 2)) == NULL)
			rt_die("realloc");
	}
	fclose(f);
	for (p = text; p < text + len; p++)
		if (*p == '\n')
			total++;
	rt_open(&c, rt_connect(sock, 0));
	t0 = rt_now(CLOCK_MONOTONIC);
	while (done < total) {
		pf.fd = c.fd;
		pf.events = POLLIN;
		if (off < len && sent - done < depth)
			pf.events |= POLLOUT;
		if (poll(&pf, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			rt_die("poll");
		}
		if (pf.revents & POLLOUT) {
			/* Up to the end of the line that fills the window. */
			size_t end = off;
			long k = sent;
			while (end < len && k - done < depth) {
				p = memchr(text + end, '\n', len - end);
				end = p != NULL ? (size_t)(p - text) + 1 : len;
				k++;
			}
			if ((w = write(c.fd, text + off, end - off)) == -1) {
				if (errno != EINTR && errno != EAGAIN)
					rt_die("write");
			} else {
				/* Count whole lines written. */
				for (p = text + off; p < text + off + w; p++)
					if (*p == '\n')
						sent++;
				off += (size_t)w;
			}
		}
		if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(c.fd, c.in + c.len, RT_BUF - c.len);
			if (r == 0) {
				errno = ECONNRESET;
				rt_die("the daemon closed the connection");
			}
			if (r == -1) {
				if (errno == EINTR)
					continue;
				rt_die("read");
			}
			c.len += (size_t)r;
			while ((p = memchr(c.in, '\n', c.len)) != NULL) {
				*p = '\0';
				line = c.in;
				if (strstr(line, "\"ok\":true") == NULL &&
				    errors++ < 3)
					fprintf(stderr, "reminders-tool: "
					    "error reply: %.300s\n", line);
				done++;
				rt_consume(&c, (size_t)(p - c.in) + 1);
			}
			if (c.len == RT_BUF) {
				errno = EMSGSIZE;
				rt_die("reply too long");
			}
		}
	}
	secs = (double)(rt_now(CLOCK_MONOTONIC) - t0) / 1e9;
	printf("n=%ld secs=%.3f rps=%.0f errors=%ld\n", total, secs,
	    secs > 0 ? (double)total / secs : 0, errors);
	return errors == 0 ? 0 : 1;
}

/* call: one request, its reply printed. */
static int
rt_call(const char *sock, const char *req)
{
	struct rt_conn c;
	size_t used;
	char *line;

	rt_open(&c, rt_connect(sock, 0));
	rt_write(c.fd, req, strlen(req));
	rt_write(c.fd, "\n", 1);
	if ((line = rt_line(&c, &used)) == NULL) {
		errno = ECONNRESET;
		rt_die("no reply");
	}
	printf("%s\n", line);
	return strstr(line, "\"ok\":true") != NULL ? 0 : 1;
}

/* ready: poll the socket every millisecond until status is answered. */
static int
rt_ready(const char *sock, long secs)
{
	static const char st[] = "{\"id\":1,\"cmd\":\"status\"}\n";
	struct timespec ms = { 0, 1000000 };
	struct rt_conn c;
	int64_t deadline = rt_now(CLOCK_MONOTONIC) + secs * 1000000000LL;
	size_t used;
	char *line;
	int fd;

	while ((fd = rt_connect(sock, 1)) == -1) {
		if (rt_now(CLOCK_MONOTONIC) > deadline) {
			errno = ETIMEDOUT;
			rt_die(sock);
		}
		nanosleep(&ms, NULL);
	}
	rt_open(&c, fd);
	rt_write(c.fd, st, sizeof st - 1);
	if ((line = rt_line(&c, &used)) == NULL ||
	    strstr(line, "\"ok\":true") == NULL) {
		errno = EPROTO;
		rt_die("status");
	}
	printf("%lld\n", (long long)rt_now(CLOCK_REALTIME));
	return 0;
}

static int
rt_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
rt_pct(const double *v, long n, double p)
{
	long i;

	if (n == 0)
		return 0;
	i = (long)(p * (double)n + 0.999999) - 1;
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return v[i];
}

static int
rt_b64(int ch)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = ch != '\0' ? strchr(a, ch) : NULL;

	return p != NULL ? (int)(p - a) : -1;
}

/*
 * The Subject header of the message in buf, unfolded and with its
 * RFC 2047 encoded words (B or Q) decoded, into out.
 */
static void
rt_subject(const char *buf, char *out, size_t cap)
{
	const char *p, *q, *end;
	size_t o = 0;
	int enc, bits, nbits, v, last_ew = 0;

	out[0] = '\0';
	if (strncmp(buf, "Subject: ", 9) == 0)
		p = buf + 9;
	else if ((p = strstr(buf, "\nSubject: ")) != NULL)
		p += 10;
	else
		return;
	/* The header ends at a line break not followed by white space. */
	for (end = p; *end != '\0'; end++)
		if (*end == '\n' && end[1] != ' ' && end[1] != '\t')
			break;
	while (p < end && o + 4 < cap) {
		if (p[0] == '=' && p[1] == '?' &&
		    (q = strchr(p + 2, '?')) != NULL && q < end &&
		    (q[1] == 'B' || q[1] == 'b' || q[1] == 'Q' || q[1] == 'q') &&
		    q[2] == '?') {
			enc = q[1] == 'B' || q[1] == 'b';
			for (p = q + 3, bits = nbits = 0; p < end &&
			    !(p[0] == '?' && p[1] == '=') && o + 4 < cap; p++) {
				if (enc) {
					if ((v = rt_b64(*p)) == -1)
						continue;
					bits = bits << 6 | v;
					if ((nbits += 6) >= 8) {
						nbits -= 8;
						out[o++] = (char)(bits >> nbits & 0xff);
					}
				} else if (*p == '_')
					out[o++] = ' ';
				else if (*p == '=' && p + 2 < end) {
					out[o++] = (char)strtol((char[]){ p[1],
					    p[2], 0 }, NULL, 16);
					p += 2;
				} else
					out[o++] = *p;
			}
			p += 2;
			last_ew = 1;
			continue;
		}
		if (*p == '\r' || *p == '\n' || *p == ' ' || *p == '\t') {
			/* White space between two encoded words is dropped. */
			q = p;
			while (q < end && (*q == '\r' || *q == '\n' ||
			    *q == ' ' || *q == '\t'))
				q++;
			if (!(last_ew && q[0] == '=' && q[1] == '?'))
				out[o++] = ' ';
			p = q;
			continue;
		}
		last_ew = 0;
		out[o++] = *p++;
	}
	out[o] = '\0';
}

/*
 * If path is a reminder (its subject starts with the English or Russian
 * template's "Reminder:"), the due time in "rbench-DUE-K" in its subject;
 * otherwise -1 (invitations carry the same title).
 */
static long long
rt_due(const char *path, long *k)
{
	char buf[16384], subj[4096], *p, *end;
	long long due;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	if ((p = strstr(buf, "\r\n\r\n")) != NULL ||
	    (p = strstr(buf, "\n\n")) != NULL)
		*p = '\0';	/* the header only */
	rt_subject(buf, subj, sizeof subj);
	if ((strncmp(subj, "Reminder:", 9) != 0 &&
	    strncmp(subj, "Напоминание:", strlen("Напоминание:")) != 0) ||
	    (p = strstr(subj, "rbench-")) == NULL)
		return -1;
	due = strtoll(p + 7, &end, 10);
	if (end == p + 7 || *end != '-')
		return -1;
	*k = strtol(end + 1, NULL, 10);
	return due;
}

/* watch: arrival times of reminder files in MAILDIR/new. */
static int
rt_watch(const char *maildir, long n, long secs, const char *rawfile)
{
	char evbuf[64 * 1024] __attribute__((aligned(8)));
	char dir[PATH_MAX], path[PATH_MAX * 2];
	struct inotify_event *ev;
	struct pollfd pf;
	FILE *raw = NULL;
	double *delay;
	long got = 0, other = 0, k;
	long long due;
	int64_t deadline, arrival;
	ssize_t r;
	char *p;
	int fd;

	if ((delay = calloc((size_t)n + 1, sizeof *delay)) == NULL)
		rt_die("calloc");
	if (rawfile != NULL && (raw = fopen(rawfile, "w")) == NULL)
		rt_die(rawfile);
	snprintf(dir, sizeof dir, "%s/new", maildir);
	if ((fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) == -1)
		rt_die("inotify_init1");
	if (inotify_add_watch(fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE) == -1)
		rt_die(dir);
	fprintf(stderr, "watching\n");
	deadline = rt_now(CLOCK_MONOTONIC) + secs * 1000000000LL;
	while (got < n) {
		int64_t left = deadline - rt_now(CLOCK_MONOTONIC);
		if (left <= 0)
			break;
		pf.fd = fd;
		pf.events = POLLIN;
		if (poll(&pf, 1, (int)(left / 1000000) + 1) <= 0)
			continue;
		r = read(fd, evbuf, sizeof evbuf);
		/* One instant for the whole batch of events read. */
		arrival = rt_now(CLOCK_REALTIME) / 1000000;
		if (r <= 0)
			continue;
		for (p = evbuf; p < evbuf + r;
		    p += sizeof *ev + ev->len) {
			ev = (struct inotify_event *)(void *)p;
			if (ev->len == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, ev->name);
			if ((due = rt_due(path, &k)) == -1) {
				other++;
				continue;
			}
			if (got < n)
				delay[got++] = (double)(arrival - due * 1000);
			if (raw != NULL)
				fprintf(raw, "%lld %ld %lld %lld %s\n", due, k,
				    (long long)arrival,
				    (long long)(arrival - due * 1000),
				    ev->name);
		}
	}
	if (raw != NULL)
		fclose(raw);
	qsort(delay, (size_t)got, sizeof *delay, rt_cmp);
	printf("n=%ld got=%ld other=%ld p50_ms=%.0f p99_ms=%.0f max_ms=%.0f "
	    "min_ms=%.0f\n", n, got, other, rt_pct(delay, got, 0.5),
	    rt_pct(delay, got, 0.99), got ? delay[got - 1] : 0,
	    got ? delay[0] : 0);
	return got == n ? 0 : 1;
}

/*
 * sink: a minimal SMTP server on 127.0.0.1 that accepts and discards
 * every message (the database build's 100,000 invitations go there: a
 * maildir would fsync each of them).  Prints its port, then serves until
 * killed.
 */
#define RT_SINK_MAX	64

struct rt_sink_conn {
	int	 fd;
	int	 data;		/* inside DATA */
	int	 match;		/* chars of "\r\n.\r\n" matched */
	size_t	 len;
	char	 line[4096];
};

static void
rt_sink_reply(struct rt_sink_conn *c, const char *s)
{
	size_t n = strlen(s);

	if (write(c->fd, s, n) != (ssize_t)n) {
		close(c->fd);
		c->fd = -1;
	}
}

static void
rt_sink_command(struct rt_sink_conn *c)
{
	char *l = c->line;

	if (strncasecmp(l, "EHLO", 4) == 0)
		rt_sink_reply(c, "250-sink\r\n250 8BITMIME\r\n");
	else if (strncasecmp(l, "HELO", 4) == 0)
		rt_sink_reply(c, "250 sink\r\n");
	else if (strncasecmp(l, "DATA", 4) == 0) {
		c->data = 1;
		c->match = 2;	/* a "." right away ends it too */
		rt_sink_reply(c, "354 go on\r\n");
	} else if (strncasecmp(l, "QUIT", 4) == 0) {
		rt_sink_reply(c, "221 bye\r\n");
		if (c->fd != -1)
			close(c->fd);
		c->fd = -1;
	} else
		rt_sink_reply(c, "250 ok\r\n");
}

static int
rt_sink(void)
{
	static const char pat[] = "\r\n.\r\n";
	struct rt_sink_conn *conns;
	struct pollfd pf[RT_SINK_MAX + 1];
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;
	char buf[65536];
	long messages = 0;
	ssize_t r, i;
	int lfd, n, k, one = 1;

	if ((conns = calloc(RT_SINK_MAX, sizeof *conns)) == NULL)
		rt_die("calloc");
	for (k = 0; k < RT_SINK_MAX; k++)
		conns[k].fd = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof a) == -1 ||
	    listen(lfd, 64) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) == -1)
		rt_die("sink: listen");
	printf("%d\n", ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		pf[0].fd = lfd;
		pf[0].events = POLLIN;
		for (k = 0; k < RT_SINK_MAX; k++) {
			pf[k + 1].fd = conns[k].fd;
			pf[k + 1].events = POLLIN;
			pf[k + 1].revents = 0;
		}
		if ((n = poll(pf, RT_SINK_MAX + 1, -1)) == -1) {
			if (errno == EINTR)
				continue;
			rt_die("sink: poll");
		}
		if (pf[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			for (k = 0; fd != -1 && k < RT_SINK_MAX; k++)
				if (conns[k].fd == -1) {
					memset(&conns[k], 0, sizeof conns[k]);
					conns[k].fd = fd;
					rt_sink_reply(&conns[k], "220 sink\r\n");
					break;
				}
			if (fd != -1 && k == RT_SINK_MAX)
				close(fd);
		}
		for (k = 0; k < RT_SINK_MAX; k++) {
			struct rt_sink_conn *c = &conns[k];
			if (c->fd == -1 || pf[k + 1].fd != c->fd ||
			    !(pf[k + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if ((r = read(c->fd, buf, sizeof buf)) <= 0) {
				close(c->fd);
				c->fd = -1;
				continue;
			}
			for (i = 0; i < r && c->fd != -1; i++) {
				if (c->data) {
					if (buf[i] == pat[c->match])
						c->match++;
					else
						c->match = buf[i] == '\r';
					if (c->match == 5) {
						c->data = 0;
						c->len = 0;
						messages++;
						rt_sink_reply(c, "250 queued\r\n");
					}
					continue;
				}
				if (buf[i] == '\n') {
					c->line[c->len] = '\0';
					c->len = 0;
					rt_sink_command(c);
				} else if (c->len + 1 < sizeof c->line)
					c->line[c->len++] = buf[i];
			}
		}
	}
	return 0;
}

static void
rt_usage(void)
{
	fprintf(stderr, "usage: reminders-tool pipe -s SOCK -f FILE [-d DEPTH]\n"
	    "       reminders-tool call -s SOCK JSON\n"
	    "       reminders-tool ready -s SOCK [-T SECS]\n"
	    "       reminders-tool watch -m MAILDIR -n N [-T SECS] [-o RAW]\n"
	    "       reminders-tool sink\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mode, *sock = NULL, *file = NULL, *maildir = NULL;
	const char *raw = NULL;
	long depth = 64, secs = 60, n = 0;
	int c;

	if (argc < 2)
		rt_usage();
	mode = argv[1];
	argc--;
	argv++;
	while ((c = getopt(argc, argv, "s:f:d:T:m:n:o:")) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'f': file = optarg; break;
		case 'd': depth = rt_number(optarg); break;
		case 'T': secs = rt_number(optarg); break;
		case 'm': maildir = optarg; break;
		case 'n': n = rt_number(optarg); break;
		case 'o': raw = optarg; break;
		default: rt_usage();
		}
	}
	if (strcmp(mode, "pipe") == 0 && sock != NULL && file != NULL &&
	    depth > 0)
		return rt_pipe(sock, file, depth);
	if (strcmp(mode, "call") == 0 && sock != NULL && optind == argc - 1)
		return rt_call(sock, argv[optind]);
	if (strcmp(mode, "ready") == 0 && sock != NULL)
		return rt_ready(sock, secs);
	if (strcmp(mode, "watch") == 0 && maildir != NULL && n > 0)
		return rt_watch(maildir, n, secs, raw);
	if (strcmp(mode, "sink") == 0)
		return rt_sink();
	rt_usage();
	return 2;
}
