/*
 * reports-tool.c -- helpers for tests/bench/reports.sh.
 *
 *   reports-tool people N
 *   reports-tool completions -p PEOPLE -n N -t TODAY
 *   reports-tool load -s SOCK -c CMD -f FILE [-r ROWS] [-L MAXLINE]
 *   reports-tool measure -s SOCK -f REQUESTS [-n REPEAT] [-i MS] [-I MS]
 *
 * people       prints the person.import CSV of N teachers (name, email,
 *              organization, position, lang): 300 schools, 12 positions,
 *              one name in three Cyrillic, some quoted with a comma; one
 *              person in 200 has no organization and no position.
 * completions  prints the training.import CSV of N completions of the
 *              PEOPLE teachers above (email, title, provider, hours,
 *              completed_on, counts_for_recertification), dated over the
 *              six years before TODAY (YYYY-MM-DD, the daemon's today).
 *              Every person is given a status first (as of TODAY, with
 *              the default cycle 3y and due_soon 180d): never 12 %,
 *              overdue 20 %, due_soon 13 %, ok 55 %, and their last
 *              qualifying completion is placed at least 3 days inside
 *              that status's range of dates; their other completions are
 *              older qualifying ones, or non-qualifying ones
 *              (counts_for_recertification 0) anywhere in the six years.
 *              A person has 1 to 2 * N / PEOPLE - 1 completions, each of
 *              another title (no row is a duplicate).  Prints on stderr
 *              "expect total=.. ok=.. due_soon=.. overdue=.. never=..".
 * load         sends FILE (a CSV with a header row) as CMD requests
 *              (person.import, training.import) of at most ROWS rows
 *              (default 20,000) each, the header repeated, and no line
 *              longer than MAXLINE bytes (default 4 MiB); one request at
 *              a time, each reply checked.  Prints "rows=.. chunks=..
 *              secs=.. rate=.. added=.. recorded=.. duplicates=..".
 * measure      REQUESTS holds lines "LABEL JSON".  Connection A sends
 *              each request REPEAT times (default 5), back to back, and
 *              times each from its write to the end of its reply line;
 *              connection B sends {"cmd":"status"} every MS ms (default
 *              10) and times each round trip.  Before and after the
 *              reports, B samples for MS ms in all (-I, default 3000, half
 *              before and half after) with no report running: the idle
 *              figures.  A status sample counts for a report when it was
 *              sent while that report was outstanding.  Prints one line
 *              per label ("label=.. n=.. med_ms=.. max_ms=.. min_ms=..
 *              bytes=.. st_n=.. st_p50_us=.. st_p99_us=.. st_max_us=..
 *              summary=..."), then "label=idle ..." and "label=during
 *              ..." (every sample taken during a report).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RP_MAXLABELS	32

struct rp_conn {
	int	 fd;
	char	*buf;
	size_t	 len;		/* bytes buffered */
	size_t	 cap;
	size_t	 scanned;	/* no '\n' before this offset */
};

/* Latency samples (µs). */
struct rp_lat {
	double	*v;
	size_t	 n;
	size_t	 cap;
};

struct rp_label {
	char		 name[64];
	char		*req;		/* the request line, with '\n' */
	size_t		 reqlen;
	double		 ms[1024];
	size_t		 n;
	size_t		 bytes;		/* of the last reply */
	char		 summary[512];
	struct rp_lat	 st;		/* status samples during this label */
};

static void
rp_die(const char *what)
{
	fprintf(stderr, "reports-tool: %s%s%s\n", what, errno ? ": " : "",
	    errno ? strerror(errno) : "");
	exit(2);
}

static int64_t
rp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long
rp_number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		errno = 0;
		fprintf(stderr, "reports-tool: bad number \"%s\"\n", s);
		exit(2);
	}
	return v;
}

static void *
rp_grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	if ((p = realloc(p, c * size)) == NULL)
		rp_die("out of memory");
	*cap = c;
	return p;
}

/* ---------------------------------------------------------------- data */

static uint64_t
rp_hash(uint64_t x)
{
	/* splitmix64's finaliser: deterministic, well spread. */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static long
rp_days(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
rp_civil(long z, long *y, long *m, long *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

/* The day k years before day z (29 February gives 28 February). */
static long
rp_years_before(long z, long k)
{
	long y, m, d;

	rp_civil(z, &y, &m, &d);
	y -= k;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) ||
	    y % 400 == 0))
		d = 28;
	return rp_days(y, m, d);
}

static void
rp_date(long z, char *out, size_t len)
{
	long y, m, d;

	rp_civil(z, &y, &m, &d);
	snprintf(out, len, "%04ld-%02ld-%02ld", y, m, d);
}

static const char *const rp_subjects[] = {
	"mathematics", "physics", "Russian language", "English", "history",
	"biology", "chemistry", "primary school", "music",
	"physical education"
};

/* Organization of person i (1-based): NULL for one in 200. */
static int
rp_org(long i, char *out, size_t len)
{
	long k = (long)(rp_hash((uint64_t)i * 7919) % 300) + 1;

	if (i % 200 == 0)
		return 0;
	snprintf(out, len, "%s No. %ld", k % 10 == 0 ? "Lyceum" : k % 10 == 1 ?
	    "Gymnasium" : "School", k);
	return 1;
}

static void
rp_people(long n)
{
	static const char *const rf[] = { "Анна", "Иван", "Ольга", "Сергей",
	    "Мария", "Дмитрий", "Елена", "Алексей", "Татьяна", "Николай" };
	static const char *const rl[] = { "Смирнова", "Петров", "Кузнецова",
	    "Морозов", "Новикова", "Волков", "Соколова", "Попов", "Лебедева",
	    "Козлов" };
	static const char *const ef[] = { "Mary", "John", "Linda", "David",
	    "Susan", "James", "Karen", "Robert", "Emma", "Peter" };
	static const char *const el[] = { "Johnson", "Smith", "Brown",
	    "Taylor", "Wilson", "Clark", "Lewis", "Walker", "Young", "Hall" };
	char org[64], pos[64], name[128];
	long i, p;

	printf("name,email,organization,position,lang\n");
	for (i = 1; i <= n; i++) {
		p = (long)(rp_hash((uint64_t)i * 104729) % 100);
		/* A dozen positions, the subject teachers most common. */
		if (p < 4)
			snprintf(pos, sizeof pos, "deputy head");
		else if (p < 6)
			snprintf(pos, sizeof pos, "head teacher");
		else
			snprintf(pos, sizeof pos, "teacher of %s",
			    rp_subjects[p % 10]);
		if (i % 3 == 0) {
			if (i % 9 == 0)
				snprintf(name, sizeof name, "\"%s, %s\"",
				    rl[(i / 10) % 10], rf[i % 10]);
			else
				snprintf(name, sizeof name, "%s %s",
				    rf[i % 10], rl[(i / 10) % 10]);
		} else
			snprintf(name, sizeof name, "%s %s", ef[i % 10],
			    el[(i / 10) % 10]);
		if (rp_org(i, org, sizeof org))
			printf("%s,t%06ld@school.example,%s,%s,%s\n", name, i,
			    org, pos, i % 3 == 0 ? "ru" : "en");
		else
			printf("%s,t%06ld@school.example,,,%s\n", name, i,
			    i % 3 == 0 ? "ru" : "en");
	}
}

static const char *const rp_titles[] = {
	"Formative assessment in practice", "Digital tools in the classroom",
	"Inclusive education: first steps", "Project-based learning",
	"Functional literacy in grades 5-9", "Teaching gifted children",
	"Classroom management", "New federal standards: what changes",
	"Reading strategies across subjects", "Preparing for the state exam",
	"Mentoring young teachers", "Safety at school",
	"First aid for teachers", "STEM lessons with simple equipment",
	"Assessment for learning in primary school", "Bullying prevention",
	"Working with parents", "Lesson study", "Teaching Russian as a "
	"second language", "Critical thinking in history lessons",
	"Laboratory work in chemistry", "Mathematical modelling",
	"Speaking skills in English", "Music and movement", "School sport "
	"and health", "Data literacy for teachers", "Remote teaching",
	"Differentiated instruction", "Educational psychology today",
	"Career guidance", "Environmental education",
	"Robotics for beginners", "Financial literacy",
	"The teacher's portfolio", "Research projects with pupils",
	"Olympiad preparation", "Writing across the curriculum",
	"Visual arts in the curriculum", "Civic education",
	"School leadership",
};
#define RP_NTITLES	(sizeof rp_titles / sizeof rp_titles[0])

static const char *const rp_providers[] = {
	"District methodology service",
	"\"Regional Institute for Education Development, Moscow Region\"",
	"Pedagogical University", "Academy of Education Ministry",
	"Online school Uchi", "",
};
#define RP_NPROVIDERS	(sizeof rp_providers / sizeof rp_providers[0])

static const char *const rp_hours[] = {
	"16", "18", "24", "36", "36", "72", "108", "2.5", "8", "40.5"
};

enum { RP_OK, RP_DUE_SOON, RP_OVERDUE, RP_NEVER };

static void
rp_completions(long people, long n, const char *today)
{
	long t, c, s, lo, hi, last = 0, avg, rem, i, j, k, d, day, counts[4];
	uint64_t h;
	int cat, q;
	char date[16];

	if (sscanf(today, "%4ld-%2ld-%2ld", &t, &c, &s) != 3) {
		errno = 0;
		rp_die("-t: not a date YYYY-MM-DD");
	}
	t = rp_days(t, c, s);
	c = rp_years_before(t, 3);	/* due = last + 3y: due <= today */
	s = rp_years_before(t, 6);	/* the first day of the six years */
	avg = n / people;
	rem = n - avg * people;
	if (avg < 1) {
		errno = 0;
		rp_die("completions: fewer completions than people");
	}
	memset(counts, 0, sizeof counts);
	printf("email,title,provider,hours,completed_on,"
	    "counts_for_recertification\n");
	for (i = 1; i <= people; i++) {
		h = rp_hash((uint64_t)i * 31337);
		cat = h % 100 < 12 ? RP_NEVER : h % 100 < 32 ? RP_OVERDUE :
		    h % 100 < 45 ? RP_DUE_SOON : RP_OK;
		counts[cat]++;
		/* The last qualifying day, 3 days inside its range. */
		switch (cat) {
		case RP_OK:
			lo = c + 184, hi = t - 1;
			break;
		case RP_DUE_SOON:
			lo = c + 3, hi = c + 177;
			break;
		case RP_OVERDUE:
			lo = s, hi = c - 3;
			break;
		default:
			lo = hi = 0;
		}
		if (cat != RP_NEVER)
			last = lo + (long)((h >> 8) % (uint64_t)(hi - lo + 1));
		/* Pairs of people: avg + d and avg - d completions. */
		d = (long)(rp_hash((uint64_t)((i + 1) / 2)) % (uint64_t)avg);
		if (people % 2 == 1 && i == people)
			k = avg;
		else
			k = i % 2 ? avg + d : avg - d;
		if (i <= rem)
			k++;
		for (j = 0; j < k; j++) {
			h = rp_hash((uint64_t)i << 20 | (uint64_t)j);
			if (cat != RP_NEVER && j == 0) {
				q = 1;
				day = last;
			} else if (cat == RP_NEVER || h % 100 < 15) {
				q = 0;
				day = s + (long)((h >> 8) % (uint64_t)(t - s));
			} else {
				q = 1;
				day = s + (long)((h >> 8) %
				    (uint64_t)(last - s + 1));
			}
			rp_date(day, date, sizeof date);
			/* Titles 7 apart: a person's j < 40 are all distinct. */
			printf("t%06ld@school.example,%s,%s,%s,%s,%s\n", i,
			    rp_titles[(size_t)(i + j * 7) % RP_NTITLES],
			    rp_providers[(h >> 40) % RP_NPROVIDERS],
			    rp_hours[(h >> 48) % 10], date,
			    q ? ((h >> 56) % 2 ? "1" : "yes") :
			    ((h >> 56) % 2 ? "0" : "no"));
		}
	}
	if (fflush(stdout) != 0)
		rp_die("stdout");
	fprintf(stderr, "expect total=%ld ok=%ld due_soon=%ld overdue=%ld "
	    "never=%ld\n", people, counts[RP_OK], counts[RP_DUE_SOON],
	    counts[RP_OVERDUE], counts[RP_NEVER]);
}

/* ---------------------------------------------------------------- sockets */

static void
rp_connect(struct rp_conn *c, const char *path)
{
	struct sockaddr_un sun;

	memset(c, 0, sizeof *c);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		rp_die(path);
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		rp_die("socket");
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		rp_die(path);
}

static void
rp_write(struct rp_conn *c, const char *p, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(c->fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			rp_die("write");
		}
		p += w;
		len -= (size_t)w;
	}
}

/*
 * A complete line at the head of c's buffer: its length with the '\n'
 * (the '\n' replaced by NUL), or 0. rp_consume drops it.
 */
static size_t
rp_line(struct rp_conn *c)
{
	char *nl;

	if (c->scanned >= c->len)
		return 0;
	if ((nl = memchr(c->buf + c->scanned, '\n', c->len - c->scanned)) ==
	    NULL) {
		c->scanned = c->len;
		return 0;
	}
	*nl = '\0';
	return (size_t)(nl - c->buf) + 1;
}

static void
rp_consume(struct rp_conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	c->scanned = 0;
}

/* One read() into c's buffer; dies at EOF. */
static void
rp_fill(struct rp_conn *c)
{
	ssize_t r;

	c->buf = rp_grow(c->buf, &c->cap, c->len + 262144 + 1, 1);
	do
		r = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		rp_die("read");
	if (r == 0) {
		errno = 0;
		rp_die("the daemon closed the connection");
	}
	c->len += (size_t)r;
}

/* Block until a whole line is buffered; its length (see rp_line). */
static size_t
rp_wait_line(struct rp_conn *c)
{
	size_t n;

	while ((n = rp_line(c)) == 0)
		rp_fill(c);
	return n;
}

static int
rp_ok(const char *line)
{
	return strstr(line, "\"ok\":true") != NULL;
}

/* The integer after "key": in line, or -1. */
static long
rp_int(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\":", key);
	if ((p = strstr(line, pat)) == NULL)
		return -1;
	return strtol(p + strlen(pat), NULL, 10);
}

/* ---------------------------------------------------------------- load */

static void
rp_escape(char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
	size_t i;

	*b = rp_grow(*b, cap, *len + 2 * n + 64, 1);
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '"':
		case '\\':
			(*b)[(*len)++] = '\\';
			(*b)[(*len)++] = s[i];
			break;
		case '\n':
			(*b)[(*len)++] = '\\';
			(*b)[(*len)++] = 'n';
			break;
		case '\r':
			(*b)[(*len)++] = '\\';
			(*b)[(*len)++] = 'r';
			break;
		default:
			(*b)[(*len)++] = s[i];
		}
	}
}

static void
rp_load(const char *sock, const char *cmd, const char *file, long rows,
    long maxline)
{
	struct rp_conn c;
	FILE *f;
	char *text = NULL, *req = NULL, *p, *end, *hdr, *nl, *row;
	size_t tlen = 0, tcap = 0, rlen, rcap = 0, got, n, hlen, head;
	long total = 0, chunks = 0, added = 0, recorded = 0, dups = 0, k, v;
	int64_t t0;
	double secs;

	if ((f = fopen(file, "rb")) == NULL)
		rp_die(file);
	do {
		text = rp_grow(text, &tcap, tlen + 1048576 + 1, 1);
		got = fread(text + tlen, 1, tcap - tlen - 1, f);
		tlen += got;
	} while (got > 0);
	fclose(f);
	text[tlen] = '\0';
	if ((nl = memchr(text, '\n', tlen)) == NULL) {
		errno = 0;
		rp_die("load: no header line");
	}
	hdr = text;
	hlen = (size_t)(nl - text) + 1;
	p = nl + 1;
	end = text + tlen;

	rp_connect(&c, sock);
	rp_consume(&c, rp_wait_line(&c));	/* the greeting */
	t0 = rp_now();
	while (p < end) {
		rlen = 0;
		req = rp_grow(req, &rcap, 256, 1);
		rlen = (size_t)snprintf(req, rcap, "{\"id\":%ld,\"cmd\":\"%s\","
		    "\"args\":{\"csv\":\"", chunks + 1, cmd);
		rp_escape(&req, &rlen, &rcap, hdr, hlen);
		head = rlen;
		/* Whole rows (no row of this data holds a newline). */
		for (k = 0; k < rows && p < end; k++) {
			row = p;
			nl = memchr(p, '\n', (size_t)(end - p));
			p = nl != NULL ? nl + 1 : end;
			n = rlen;
			rp_escape(&req, &rlen, &rcap, row, (size_t)(p - row));
			if (rlen + 8 > (size_t)maxline && k > 0) {
				rlen = n;
				p = row;
				break;
			}
		}
		if (rlen == head) {
			errno = 0;
			rp_die("load: a row is longer than the line limit");
		}
		req = rp_grow(req, &rcap, rlen + 8, 1);
		memcpy(req + rlen, "\"}}\n", 4);
		rlen += 4;
		rp_write(&c, req, rlen);
		n = rp_wait_line(&c);
		if (!rp_ok(c.buf)) {
			errno = 0;
			fprintf(stderr, "reports-tool: %s chunk %ld: %.400s\n",
			    cmd, chunks + 1, c.buf);
			exit(1);
		}
		if ((v = rp_int(c.buf, "added")) > 0)
			added += v;
		if ((v = rp_int(c.buf, "recorded")) > 0)
			recorded += v;
		if ((v = rp_int(c.buf, "duplicates")) > 0)
			dups += v;
		rp_consume(&c, n);
		total += k;
		chunks++;
	}
	secs = (double)(rp_now() - t0) / 1e9;
	printf("rows=%ld chunks=%ld secs=%.3f rate=%.0f added=%ld "
	    "recorded=%ld duplicates=%ld\n", total, chunks, secs,
	    secs > 0 ? (double)total / secs : 0.0, added, recorded, dups);
	close(c.fd);
	free(text);
	free(req);
}

/* ---------------------------------------------------------------- measure */

static void
rp_lat_add(struct rp_lat *l, double us)
{
	l->v = rp_grow(l->v, &l->cap, l->n + 1, sizeof *l->v);
	l->v[l->n++] = us;
}

static int
rp_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double
rp_pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)n + 0.999999);
	i = i > 0 ? i - 1 : 0;
	return v[i < n ? i : n - 1];
}

static void
rp_lat_print(struct rp_lat *l)
{
	qsort(l->v, l->n, sizeof *l->v, rp_cmp);
	printf(" st_n=%zu st_p50_us=%.1f st_p99_us=%.1f st_max_us=%.1f",
	    l->n, rp_pct(l->v, l->n, 0.5), rp_pct(l->v, l->n, 0.99),
	    l->n ? l->v[l->n - 1] : 0.0);
}

/* The status sampler on connection b. */
struct rp_sampler {
	struct rp_conn	*b;
	int64_t		 interval;	/* ns */
	int64_t		 next;		/* the next send */
	int64_t		 sent;		/* the outstanding one's, or 0 */
	struct rp_lat	*into;		/* where it counts, or NULL */
};

static void
rp_sample_send(struct rp_sampler *s, struct rp_lat *into)
{
	static const char st[] = "{\"id\":0,\"cmd\":\"status\"}\n";

	s->sent = rp_now();
	s->into = into;
	rp_write(s->b, st, sizeof st - 1);
}

/* Take b's replies; the next send stays on the MS grid. */
static void
rp_sample_read(struct rp_sampler *s)
{
	size_t n;
	int64_t t;

	rp_fill(s->b);
	while ((n = rp_line(s->b)) > 0) {
		t = rp_now();
		if (!rp_ok(s->b->buf)) {
			errno = 0;
			fprintf(stderr, "reports-tool: status failed: %.300s\n",
			    s->b->buf);
			exit(1);
		}
		if (s->sent != 0 && s->into != NULL)
			rp_lat_add(s->into, (double)(t - s->sent) / 1e3);
		s->sent = 0;
		rp_consume(s->b, n);
		while (s->next <= t)
			s->next += s->interval;
	}
}

/*
 * Poll timeout (ms) until s's next send or limit, whichever is first; -1
 * (until a reply) while a sample is out.
 */
static int
rp_sample_wait(const struct rp_sampler *s, int64_t limit)
{
	int64_t t = rp_now(), until = s->next < limit ? s->next : limit;

	if (s->sent != 0)
		return -1;
	if (until <= t)
		return 0;
	return (int)((until - t + 999999) / 1000000);
}

/* Idle sampling for ns nanoseconds into l. */
static void
rp_idle(struct rp_sampler *s, int64_t ns, struct rp_lat *l)
{
	struct pollfd pf;
	int64_t end = rp_now() + ns;

	while (rp_now() < end || s->sent != 0) {
		if (s->sent == 0 && rp_now() >= s->next) {
			if (rp_now() >= end)
				break;
			rp_sample_send(s, l);
		}
		pf.fd = s->b->fd;
		pf.events = POLLIN;
		if (poll(&pf, 1, rp_sample_wait(s, end)) < 0 && errno != EINTR)
			rp_die("poll");
		if (pf.revents)
			rp_sample_read(s);
	}
}

/* Run label's request once on a, sampling on s meanwhile. */
static void
rp_report(struct rp_conn *a, struct rp_sampler *s, struct rp_label *lb)
{
	struct pollfd pf[2];
	int64_t t0, t1;
	size_t n;
	const char *p, *q;
	int depth;

	t0 = rp_now();
	rp_write(a, lb->req, lb->reqlen);
	for (;;) {
		if (s->sent == 0 && rp_now() >= s->next)
			rp_sample_send(s, &lb->st);
		pf[0].fd = a->fd;
		pf[0].events = POLLIN;
		pf[1].fd = s->b->fd;
		pf[1].events = POLLIN;
		if (poll(pf, 2, rp_sample_wait(s, INT64_MAX)) < 0 &&
		    errno != EINTR)
			rp_die("poll");
		if (pf[1].revents)
			rp_sample_read(s);
		if (pf[0].revents) {
			rp_fill(a);
			if ((n = rp_line(a)) > 0)
				break;
		}
	}
	t1 = rp_now();
	if (!rp_ok(a->buf)) {
		errno = 0;
		fprintf(stderr, "reports-tool: %s failed: %.400s\n", lb->name,
		    a->buf);
		exit(1);
	}
	if (lb->n < sizeof lb->ms / sizeof lb->ms[0])
		lb->ms[lb->n++] = (double)(t1 - t0) / 1e6;
	lb->bytes = n;
	/* What the result says in short: a summary, else the last total. */
	lb->summary[0] = '\0';
	if ((p = strstr(a->buf, "\"summary\":{")) == NULL) {
		for (q = a->buf; (q = strstr(q, "\"total\":{")) != NULL; q++)
			p = q;
	}
	if (p != NULL) {
		for (q = p, depth = 0; *q != '\0'; q++) {
			if (*q == '{')
				depth++;
			else if (*q == '}' && --depth == 0)
				break;
		}
		snprintf(lb->summary, sizeof lb->summary, "%.*s",
		    (int)(q - p + 1), p);
	}
	rp_consume(a, n);
}

static void
rp_measure(const char *sock, const char *file, long repeat, long ms,
    long idle_ms)
{
	static struct rp_label labels[RP_MAXLABELS];
	struct rp_conn a, b;
	struct rp_sampler s;
	struct rp_lat idle = { NULL, 0, 0 }, during = { NULL, 0, 0 };
	FILE *f;
	char line[8192], *sp;
	size_t nl = 0, i, k;
	long r;
	double v[1024];

	if ((f = fopen(file, "r")) == NULL)
		rp_die(file);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if ((sp = strchr(line, ' ')) == NULL || nl == RP_MAXLABELS) {
			errno = 0;
			rp_die("measure: lines are \"LABEL JSON\"");
		}
		*sp = '\0';
		snprintf(labels[nl].name, sizeof labels[nl].name, "%.63s", line);
		labels[nl].reqlen = strlen(sp + 1) + 1;
		if ((labels[nl].req = malloc(labels[nl].reqlen + 1)) == NULL)
			rp_die("out of memory");
		snprintf(labels[nl].req, labels[nl].reqlen + 1, "%s\n", sp + 1);
		nl++;
	}
	fclose(f);

	rp_connect(&a, sock);
	rp_connect(&b, sock);
	rp_consume(&a, rp_wait_line(&a));
	rp_consume(&b, rp_wait_line(&b));
	memset(&s, 0, sizeof s);
	s.b = &b;
	s.interval = ms * 1000000LL;
	s.next = rp_now();

	/* Warm-up: a few samples not counted. */
	rp_idle(&s, 100 * 1000000LL, NULL);
	rp_idle(&s, idle_ms / 2 * 1000000LL, &idle);
	for (i = 0; i < nl; i++)
		for (r = 0; r < repeat; r++)
			rp_report(&a, &s, &labels[i]);
	/* Let the last sample come back, then the second idle half. */
	rp_idle(&s, 0, NULL);
	rp_idle(&s, (idle_ms - idle_ms / 2) * 1000000LL, &idle);

	for (i = 0; i < nl; i++) {
		struct rp_label *lb = &labels[i];

		for (k = 0; k < lb->st.n; k++)
			rp_lat_add(&during, lb->st.v[k]);
		memcpy(v, lb->ms, lb->n * sizeof v[0]);
		qsort(v, lb->n, sizeof v[0], rp_cmp);
		printf("label=%s n=%zu med_ms=%.1f max_ms=%.1f min_ms=%.1f "
		    "bytes=%zu", lb->name, lb->n, lb->n % 2 ? v[lb->n / 2] :
		    (v[lb->n / 2 - 1] + v[lb->n / 2]) / 2, v[lb->n - 1], v[0],
		    lb->bytes);
		rp_lat_print(&lb->st);
		printf(" summary=%s\n", lb->summary);
	}
	printf("label=idle");
	rp_lat_print(&idle);
	printf("\nlabel=during");
	rp_lat_print(&during);
	printf("\n");
	close(a.fd);
	close(b.fd);
}

/* ---------------------------------------------------------------- main */

static void
rp_usage(void)
{
	fputs("usage: reports-tool people N\n"
	    "       reports-tool completions -p PEOPLE -n N -t TODAY\n"
	    "       reports-tool load -s SOCK -c CMD -f FILE [-r ROWS] "
	    "[-L MAXLINE]\n"
	    "       reports-tool measure -s SOCK -f REQUESTS [-n REPEAT] "
	    "[-i MS] [-I MS]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *cmd, *sock = NULL, *file = NULL, *what = NULL;
	const char *today = NULL;
	long people = 0, n = 0, rows = 20000, maxline = 4L << 20;
	long repeat = 5, ms = 10, idle_ms = 3000;
	int c;

	if (argc < 2)
		rp_usage();
	cmd = argv[1];
	if (strcmp(cmd, "people") == 0) {
		if (argc != 3)
			rp_usage();
		rp_people(rp_number(argv[2], 1, 10000000));
		if (fflush(stdout) != 0)
			rp_die("stdout");
		return 0;
	}
	optind = 2;
	while ((c = getopt(argc, argv, "I:L:c:f:i:n:p:r:s:t:")) != -1) {
		switch (c) {
		case 'I':
			idle_ms = rp_number(optarg, 0, 3600000);
			break;
		case 'L':
			maxline = rp_number(optarg, 1024, 1L << 30);
			break;
		case 'c':
			what = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'i':
			ms = rp_number(optarg, 1, 10000);
			break;
		case 'n':
			n = rp_number(optarg, 1, 100000000);
			break;
		case 'p':
			people = rp_number(optarg, 1, 10000000);
			break;
		case 'r':
			rows = rp_number(optarg, 1, 10000000);
			break;
		case 's':
			sock = optarg;
			break;
		case 't':
			today = optarg;
			break;
		default:
			rp_usage();
		}
	}
	if (optind != argc)
		rp_usage();
	if (strcmp(cmd, "completions") == 0 && people > 0 && n > 0 &&
	    today != NULL)
		rp_completions(people, n, today);
	else if (strcmp(cmd, "load") == 0 && sock != NULL && what != NULL &&
	    file != NULL)
		rp_load(sock, what, file, rows, maxline);
	else if (strcmp(cmd, "measure") == 0 && sock != NULL && file != NULL) {
		repeat = n > 0 ? n : repeat;
		if (repeat > 1024)
			rp_usage();
		rp_measure(sock, file, repeat, ms, idle_ms);
	} else
		rp_usage();
	return 0;
}
