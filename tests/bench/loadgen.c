/*
 * loadgen.c -- a load generator for lecternd's control socket.
 *
 * Connects to the Unix socket, reads the greeting, then sends N requests
 * with at most D outstanding (D = 1 is one request per round trip), checks
 * that every reply is {"id":<the id sent>,"ok":true,...} and prints one
 * line of results:
 *
 *   mode=status n=20000 depth=1 secs=0.91 rps=21978 p50_us=41.2
 *   p99_us=88.0 max_us=612.3 errors=0
 *
 * Latency is measured per request, from just before the write that carries
 * it to the parse of its reply; with D > 1 it includes queueing behind the
 * other outstanding requests, so only throughput is meaningful there.
 *
 * Modes (-m):
 *   status     {"cmd":"status"}
 *   get        session.get of an id drawn at random in [1, K] (-k K; by
 *              default K is the "sessions" count from status)
 *   add        session.add with a distinct title per request
 *   import     person.import of the CSV file -f FILE (one request, n = 1)
 *   request    the request line in -f FILE, sent n times ("id" is taken
 *              from the file, the reply's id is not checked)
 *   populate   person.import of -f FILE in chunks of 1000 rows (if -f is
 *              given), then -n session.add requests with depth -d
 *
 * Kept deliberately simple: raw string building with snprintf and a tiny
 * top-level JSON scanner for "id" and "ok", so that the generator's own
 * cost stays far below the daemon's.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LG_CHUNK_ROWS	1000
#define LG_READ_SIZE	(256 * 1024)

enum lg_mode {
	LG_STATUS, LG_GET, LG_ADD, LG_IMPORT, LG_REQUEST, LG_POPULATE
};

struct lg_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

struct lg_run {
	int		 fd;
	enum lg_mode	 mode;
	const char	*label;
	long		 n;		/* requests to time */
	long		 depth;
	long		 warmup;	/* untimed requests first */
	long		 maxid;		/* session ids for get */
	long		 tag;		/* makes session titles distinct per run */
	uint64_t	 rng;
	const char	*raw;		/* LG_REQUEST: the line, without "\n" */
	const char	*csv;		/* LG_IMPORT: the CSV text */
	size_t		 csvlen;
	long long	 nextid;	/* the id of the next request sent */
	struct lg_buf	 out;
	struct lg_buf	 in;
	size_t		 inoff;		/* parsed up to here */
	int64_t		*sent;		/* send time by request index */
	int64_t		*lat;		/* latency by request index */
	long		 errors;
	int		 quiet;
};

static void lg_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
lg_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static int64_t
lg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long
lg_number(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		lg_die("%s: bad number \"%s\"", what, s);
	return v;
}

static void
lg_reserve(struct lg_buf *b, size_t more)
{
	size_t cap;

	if (b->len + more + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((b->data = realloc(b->data, cap)) == NULL)
		lg_die("out of memory");
	b->cap = cap;
}

static void
lg_append(struct lg_buf *b, const char *s, size_t len)
{
	lg_reserve(b, len);
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static void lg_appendf(struct lg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lg_appendf(struct lg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->data ? b->data + b->len : NULL,
		    b->cap > b->len ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			lg_die("vsnprintf failed");
		if (b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		lg_reserve(b, (size_t)n);
	}
}

/* Append s as the inside of a JSON string. */
static void
lg_append_escaped(struct lg_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i, start = 0;
	char e[6];

	lg_reserve(b, len + len / 8);
	for (i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')
			continue;
		lg_append(b, s + start, i - start);
		start = i + 1;
		switch (p[i]) {
		case '"':  lg_append(b, "\\\"", 2); break;
		case '\\': lg_append(b, "\\\\", 2); break;
		case '\n': lg_append(b, "\\n", 2); break;
		case '\r': lg_append(b, "\\r", 2); break;
		case '\t': lg_append(b, "\\t", 2); break;
		default:
			memcpy(e, "\\u00", 4);
			e[4] = hex[p[i] >> 4];
			e[5] = hex[p[i] & 15];
			lg_append(b, e, 6);
		}
	}
	lg_append(b, s + start, len - start);
}

static uint64_t
lg_random(struct lg_run *r)
{
	/* xorshift64*: cheap and good enough to spread ids. */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545F4914F6CDD1DULL;
}

/* Append request number i (0-based over the whole run) to the output. */
static void
lg_build(struct lg_run *r, long i)
{
	long long id = r->nextid++;
	long day, hour;

	switch (r->mode) {
	case LG_STATUS:
		lg_appendf(&r->out, "{\"id\":%lld,\"cmd\":\"status\"}\n", id);
		break;
	case LG_GET:
		lg_appendf(&r->out, "{\"id\":%lld,\"cmd\":\"session.get\","
		    "\"args\":{\"id\":%lu}}\n", id,
		    (unsigned long)(lg_random(r) % (uint64_t)r->maxid) + 1);
		break;
	case LG_ADD:
	case LG_POPULATE:
		/* Working hours on days spread over ten years from 2030. */
		day = i / 8;
		hour = 9 + i % 8;
		lg_appendf(&r->out, "{\"id\":%lld,\"cmd\":\"session.add\","
		    "\"args\":{\"kind\":\"webinar\",\"title\":\"Bench session "
		    "%ld-%ld\",\"start\":\"%04ld-%02ld-%02ldT%02ld:00\","
		    "\"duration\":90,\"tz\":\"Europe/Moscow\","
		    "\"url\":\"https://meet.example/b%ld\"}}\n",
		    id, r->tag, i, 2030 + (day / 336) % 10, 1 + (day / 28) % 12,
		    1 + day % 28, hour, i);
		break;
	case LG_IMPORT:
		lg_appendf(&r->out, "{\"id\":%lld,\"cmd\":\"person.import\","
		    "\"args\":{\"csv\":\"", id);
		lg_append_escaped(&r->out, r->csv, r->csvlen);
		lg_append(&r->out, "\"}}\n", 4);
		break;
	case LG_REQUEST:
		lg_append(&r->out, r->raw, strlen(r->raw));
		lg_append(&r->out, "\n", 1);
		break;
	}
}

/*
 * Find the top-level "id" and "ok" of one reply line (NUL-terminated).
 * Returns 0 when the line is an object whose ok is true and whose id is an
 * integer (stored in *id), -1 otherwise.
 */
static int
lg_scan(const char *p, long long *id, int *has_id)
{
	const char *key = NULL;
	size_t keylen = 0;
	int depth = 0, expect_key = 0, ok = 0;
	char *end;

	*has_id = 0;
	for (; *p != '\0'; p++) {
		switch (*p) {
		case '{':
		case '[':
			depth++;
			expect_key = (depth == 1 && *p == '{');
			break;
		case '}':
		case ']':
			depth--;
			break;
		case ',':
			if (depth == 1)
				expect_key = 1;
			break;
		case '"':
			if (depth == 1 && expect_key) {
				key = p + 1;
				expect_key = 0;
			}
			for (p++; *p != '"' && *p != '\0'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\0')
				return -1;
			if (key != NULL && keylen == 0 && depth == 1) {
				keylen = (size_t)(p - key);
				/* The value follows the colon. */
				while (p[1] == ' ' || p[1] == ':')
					p++;
				if (keylen == 2 && memcmp(key, "id", 2) == 0) {
					errno = 0;
					*id = strtoll(p + 1, &end, 10);
					if (errno == 0 && end != p + 1)
						*has_id = 1;
				} else if (keylen == 2 &&
				    memcmp(key, "ok", 2) == 0)
					ok = strncmp(p + 1, "true", 4) == 0;
				key = NULL;
				keylen = 0;
			}
			break;
		default:
			break;
		}
	}
	return ok ? 0 : -1;
}

static void
lg_write_all(int fd, const char *p, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			lg_die("write: %s", strerror(errno));
		}
		p += w;
		len -= (size_t)w;
	}
}

/* Read until at least one more line is buffered; return it, or NULL at EOF. */
static char *
lg_read_line(struct lg_run *r)
{
	char *nl, *line;
	ssize_t got;

	for (;;) {
		if (r->inoff < r->in.len &&
		    (nl = memchr(r->in.data + r->inoff, '\n',
		    r->in.len - r->inoff)) != NULL) {
			*nl = '\0';
			line = r->in.data + r->inoff;
			r->inoff = (size_t)(nl - r->in.data) + 1;
			return line;
		}
		if (r->inoff > 0) {
			memmove(r->in.data, r->in.data + r->inoff,
			    r->in.len - r->inoff);
			r->in.len -= r->inoff;
			r->inoff = 0;
		}
		lg_reserve(&r->in, LG_READ_SIZE);
		got = read(r->fd, r->in.data + r->in.len,
		    r->in.cap - r->in.len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			lg_die("read: %s", strerror(errno));
		if (got == 0)
			return NULL;
		r->in.len += (size_t)got;
	}
}

static int
lg_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		lg_die("socket path too long: %s", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		lg_die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		lg_die("connect %s: %s", path, strerror(errno));
	return fd;
}

static int
lg_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Check one reply: expect request number `want` (its id is first + want). */
static void
lg_check(struct lg_run *r, const char *line, long long wantid)
{
	long long id = 0;
	int has_id;

	if (lg_scan(line, &id, &has_id) == 0 &&
	    (r->mode == LG_REQUEST || (has_id && id == wantid)))
		return;
	if (r->errors++ < 3)
		fprintf(stderr, "loadgen: %s: bad reply to id %lld: %.300s\n",
		    r->label, wantid, line);
}

/*
 * Send count requests (numbered from base for lg_build) with depth r->depth;
 * time them when timed. Returns the elapsed nanoseconds.
 */
static int64_t
lg_drive(struct lg_run *r, long base, long count, int timed)
{
	long sent = 0, done = 0;
	long long firstid = r->nextid;
	int64_t t0, t, *sentat;
	char *line;

	sentat = timed ? r->sent : NULL;
	t0 = lg_now();
	while (done < count) {
		r->out.len = 0;
		while (sent < count && sent - done < r->depth)
			lg_build(r, base + sent++);
		if (r->out.len > 0) {
			t = lg_now();
			/* Requests of this batch share one send time. */
			if (sentat != NULL) {
				long k;

				for (k = done; k < sent; k++)
					if (sentat[k] == 0)
						sentat[k] = t;
			}
			lg_write_all(r->fd, r->out.data, r->out.len);
		}
		/* Consume every reply already here, then refill the window. */
		do {
			if ((line = lg_read_line(r)) == NULL)
				lg_die("%s: daemon closed the connection after "
				    "%ld of %ld replies", r->label, done, count);
			lg_check(r, line, firstid + done);
			if (sentat != NULL)
				r->lat[done] = lg_now() - sentat[done];
			done++;
		} while (done < sent && memchr(r->in.data + r->inoff, '\n',
		    r->in.len - r->inoff) != NULL);
	}
	return lg_now() - t0;
}

static void
lg_report(struct lg_run *r, long n, int64_t elapsed)
{
	double secs = (double)elapsed / 1e9;
	int64_t p50 = 0, p99 = 0, max = 0;

	if (n > 0) {
		qsort(r->lat, (size_t)n, sizeof(*r->lat), lg_cmp);
		p50 = r->lat[(n - 1) / 2];
		p99 = r->lat[(long)((double)(n - 1) * 0.99)];
		max = r->lat[n - 1];
	}
	printf("mode=%s n=%ld depth=%ld secs=%.4f rps=%.0f p50_us=%.1f "
	    "p99_us=%.1f max_us=%.1f errors=%ld\n", r->label, n, r->depth,
	    secs, secs > 0 ? (double)n / secs : 0.0, (double)p50 / 1e3,
	    (double)p99 / 1e3, (double)max / 1e3, r->errors);
	fflush(stdout);
}

static char *
lg_slurp(const char *path, size_t *lenp)
{
	struct lg_buf b = { NULL, 0, 0 };
	FILE *f;
	size_t got;

	if ((f = fopen(path, "rb")) == NULL)
		lg_die("%s: %s", path, strerror(errno));
	do {
		lg_reserve(&b, 65536);
		got = fread(b.data + b.len, 1, b.cap - b.len - 1, f);
		b.len += got;
	} while (got > 0);
	if (ferror(f))
		lg_die("%s: read error", path);
	fclose(f);
	lg_reserve(&b, 0);
	b.data[b.len] = '\0';
	*lenp = b.len;
	return b.data;
}

/* The "sessions" count from a status reply. */
static long
lg_session_count(struct lg_run *r)
{
	const char *p;
	char *line, *end;
	long v;

	lg_write_all(r->fd, "{\"id\":0,\"cmd\":\"status\"}\n", 24);
	if ((line = lg_read_line(r)) == NULL)
		lg_die("no reply to status");
	if ((p = strstr(line, "\"sessions\":")) == NULL)
		lg_die("no session count in status: %.200s", line);
	errno = 0;
	v = strtol(p + 11, &end, 10);
	if (errno != 0 || end == p + 11)
		lg_die("bad session count in status: %.200s", line);
	return v;
}

/* person.import of the CSV in chunks of LG_CHUNK_ROWS rows, header repeated. */
static void
lg_populate_people(struct lg_run *r, const char *csv, size_t len)
{
	const char *hdr_end, *p, *end = csv + len, *chunk;
	size_t hdrlen;
	long rows, chunks = 0;
	char *line;
	int64_t t0 = lg_now();

	if ((hdr_end = memchr(csv, '\n', len)) == NULL)
		lg_die("populate: CSV has no header line");
	hdrlen = (size_t)(hdr_end - csv) + 1;
	p = hdr_end + 1;
	while (p < end) {
		chunk = p;
		for (rows = 0; rows < LG_CHUNK_ROWS && p < end; rows++) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			p = nl ? nl + 1 : end;
		}
		r->out.len = 0;
		lg_appendf(&r->out, "{\"id\":%lld,\"cmd\":\"person.import\","
		    "\"args\":{\"csv\":\"", r->nextid);
		lg_append_escaped(&r->out, csv, hdrlen);
		lg_append_escaped(&r->out, chunk, (size_t)(p - chunk));
		lg_append(&r->out, "\"}}\n", 4);
		lg_write_all(r->fd, r->out.data, r->out.len);
		if ((line = lg_read_line(r)) == NULL)
			lg_die("populate: connection closed during import");
		lg_check(r, line, r->nextid++);
		chunks++;
	}
	if (!r->quiet)
		fprintf(stderr, "loadgen: imported %ld chunks in %.3f s\n",
		    chunks, (double)(lg_now() - t0) / 1e9);
}

static void
lg_usage(void)
{
	fputs("usage: loadgen -s SOCKET -m status|get|add|import|request|"
	    "populate\n"
	    "               [-n N] [-d DEPTH] [-w WARMUP] [-k MAXID] "
	    "[-f FILE] [-t TAG] [-q]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct lg_run r;
	const char *sock = NULL, *file = NULL;
	char *greeting, *text = NULL;
	size_t textlen = 0;
	int64_t elapsed;
	int c;

	memset(&r, 0, sizeof(r));
	r.n = 10000;
	r.depth = 1;
	r.nextid = 1;
	r.tag = (long)getpid();
	r.label = "status";
	while ((c = getopt(argc, argv, "d:f:k:m:n:qs:t:w:")) != -1) {
		switch (c) {
		case 'd':
			r.depth = lg_number(optarg, 1, 1000000, "-d");
			break;
		case 'f':
			file = optarg;
			break;
		case 'k':
			r.maxid = lg_number(optarg, 1, LONG_MAX, "-k");
			break;
		case 'm':
			r.label = optarg;
			if (strcmp(optarg, "status") == 0)
				r.mode = LG_STATUS;
			else if (strcmp(optarg, "get") == 0)
				r.mode = LG_GET;
			else if (strcmp(optarg, "add") == 0)
				r.mode = LG_ADD;
			else if (strcmp(optarg, "import") == 0)
				r.mode = LG_IMPORT;
			else if (strcmp(optarg, "request") == 0)
				r.mode = LG_REQUEST;
			else if (strcmp(optarg, "populate") == 0)
				r.mode = LG_POPULATE;
			else
				lg_usage();
			break;
		case 'n':
			r.n = lg_number(optarg, 0, 100000000, "-n");
			break;
		case 'q':
			r.quiet = 1;
			break;
		case 's':
			sock = optarg;
			break;
		case 't':
			r.tag = lg_number(optarg, 0, LONG_MAX, "-t");
			break;
		case 'w':
			r.warmup = lg_number(optarg, 0, 100000000, "-w");
			break;
		default:
			lg_usage();
		}
	}
	if (sock == NULL || optind != argc)
		lg_usage();
	if ((r.mode == LG_IMPORT || r.mode == LG_REQUEST) && file == NULL)
		lg_die("-m %s needs -f FILE", r.label);
	if (file != NULL)
		text = lg_slurp(file, &textlen);
	if (r.mode == LG_IMPORT) {
		r.csv = text;
		r.csvlen = textlen;
		r.n = 1;
		r.depth = 1;
	} else if (r.mode == LG_REQUEST) {
		while (textlen > 0 && (text[textlen - 1] == '\n' ||
		    text[textlen - 1] == '\r'))
			text[--textlen] = '\0';
		if (memchr(text, '\n', textlen) != NULL)
			lg_die("%s: a request is one line", file);
		r.raw = text;
	}
	r.rng = (uint64_t)lg_now() | 1;

	r.fd = lg_connect(sock);
	if ((greeting = lg_read_line(&r)) == NULL)
		lg_die("no greeting from %s", sock);
	if (strstr(greeting, "\"protocol\"") == NULL)
		lg_die("unexpected greeting: %.200s", greeting);

	if (r.mode == LG_GET && r.maxid == 0 &&
	    (r.maxid = lg_session_count(&r)) < 1)
		lg_die("get: the daemon has no sessions (populate first)");
	if (r.mode == LG_POPULATE && text != NULL)
		lg_populate_people(&r, text, textlen);

	if ((r.sent = calloc((size_t)r.n + 1, sizeof(*r.sent))) == NULL ||
	    (r.lat = calloc((size_t)r.n + 1, sizeof(*r.lat))) == NULL)
		lg_die("out of memory");
	if (r.warmup > 0 && r.mode != LG_IMPORT)
		lg_drive(&r, r.n, r.warmup, 0);
	elapsed = lg_drive(&r, 0, r.n, 1);
	lg_report(&r, r.n, elapsed);
	close(r.fd);
	return r.errors > 0 ? 1 : 0;
}
