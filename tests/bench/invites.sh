#!/bin/sh
# tests/bench/invites.sh -- invitation delivery benchmark (make bench).
#
#   sh tests/bench/invites.sh [BUILD_DIR]
#
# Called by tests/bench/run.sh after its own rounds (it may be run alone).
# Every round: a fresh lecternd (smtp://127.0.0.1:PORT, tls = none,
# max_connections = 4) imports 10,000 teachers with person.import, adds one
# session, and one `enroll` of all 10,000 ids is sent; the time from that
# request to the moment postfix's smtp-sink has counted all 10,000 messages
# is measured, with the enroll request's own time (rendering 10,000 messages
# into the outbox in one transaction) apart, `status` round trips from a
# second client every 10 ms, and the daemon's VmRSS.  In the same round,
# interleaved: smtp-source (postfix) pushing 10,000 messages of the same
# bytes over 4 reused connections into the same sink, and
# tests/bench/smtplib_ref.py (Debian's python3, icalendar + email.mime +
# smtplib over one connection).  smtp-sink and smtp-source are taken from
# Debian's postfix .deb, unpacked with dpkg-deb -x (postfix is not
# installed and no MTA starts).  Prints a table of medians and ratios and
# writes it into docs/BENCHMARKS.md between the invites markers.
#
# Environment: ROUNDS, BENCH_QUICK, BENCH_DOC, BENCH_KEEP, BENCH_CMD as for
# run.sh; POSTFIX_DIR=DIR to use an unpacked postfix .deb already there.
set -eu
prog=invites
. "$(dirname "$0")/lib.sh"

bench_init "${1:-build}"
if [ "$QUICK" = 1 ]; then
	N=2000			# invitations per lectern / smtp-source run
	N_PY=300		# messages for the smtplib reference (rate scaled)
else
	N=10000
	N_PY=2000
fi
CONNS=4

for f in "$B/lecternd"; do
	[ -x "$f" ] || die "$f is not built (run make -j2 all)"
done
[ -f tests/bench/smtplib_ref.py ] || die "run me from the top of the source tree"
PY=/usr/bin/python3
[ -x $PY ] || die "$PY is missing"
if ! $PY -c 'import icalendar' 2>/dev/null; then
	note "installing python3-icalendar (the smtplib reference)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    python3-icalendar >/dev/null || die "cannot install python3-icalendar"
fi

lpid=""
kpid=""
bench_stop() { reap "$lpid" "$kpid"; }
bench_tmp
chmod 755 "$tmp"

# ---------------------------------------------------------------- postfix tools

# smtp-sink and smtp-source without installing postfix: the .deb unpacked.
PF=${POSTFIX_DIR:-}
if [ -z "$PF" ]; then
	PF=/tmp/lectern-bench-postfix
	if [ ! -x "$PF/usr/sbin/smtp-sink" ]; then
		note "fetching postfix's smtp-sink and smtp-source (apt-get download; not installed)"
		mkdir -p "$PF.dl"
		(cd "$PF.dl" && rm -f postfix_*.deb &&
		    { apt-get download postfix >/dev/null 2>&1 ||
		      { apt-get update -qq && apt-get download postfix >/dev/null; }; }) ||
		    die "apt-get download postfix failed"
		rm -rf "$PF" && mkdir -p "$PF"
		dpkg-deb -x "$PF.dl"/postfix_*.deb "$PF" || die "dpkg-deb -x failed"
	fi
fi
PFLIB=$(dirname "$(find "$PF" -name 'libpostfix-util.so*' | head -n 1)")
[ -d "$PFLIB" ] || die "no libpostfix-util.so under $PF"
SINK="$PF/usr/sbin/smtp-sink"
SOURCE="$PF/usr/sbin/smtp-source"
pfver=$(basename "$(ls "${PF}.dl"/postfix_*.deb 2>/dev/null | head -n 1)" .deb 2>/dev/null || true)

freeport() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_sink OUTFILE [smtp-sink options]: a sink on a free loopback port;
# sets kpid and port.
start_sink() {
	o=$1
	shift
	port=$(freeport)
	LD_LIBRARY_PATH=$PFLIB "$SINK" -c -u nobody "$@" 127.0.0.1:$port 256 >"$o" 2>"$o.err" &
	kpid=$!
	retry 50 0.1 $PY -c "import socket; socket.create_connection(('127.0.0.1', $port)).close()" ||
	    die "smtp-sink did not start: $(cat "$o.err")"
}
stop_sink() {
	reap "$kpid"
	kpid=""
}
sinkcount() { tr '\r' '\n' <"$1" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1; }

# ---------------------------------------------------------------- helpers

# invwatch: sends the enroll on one connection, samples status on another,
# watches the sink's counter and the daemon's memory.
cat >"$tmp/invwatch.c" <<'EOF_C'
/*
 * invwatch -- times one enroll and the delivery it causes (made by
 * tests/bench/invites.sh).
 *
 *   invwatch -s SOCK -f ENROLL_LINE -n N -c SINK_OUTPUT -p PID [-i MS] [-T S]
 *
 * Connection A sends the enroll line and waits for its reply; connection B
 * (a second client) sends {"cmd":"status"} every MS milliseconds (default
 * 10) and times each round trip; the sink's -c counter output is read
 * every millisecond, VmRSS of PID every 100 ms (VmHWM is read at the end:
 * reset it with clear_refs before). Stops when the sink has counted N more
 * messages than at the start and status shows outbox.sent >= N.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void die(const char *m) { fprintf(stderr, "invwatch: %s: %s\n", m, strerror(errno)); exit(1); }

static int64_t now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int conn(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) die("socket");
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) die("connect");
	return fd;
}

/* Read one line (blocking) into buf; returns its length. */
static char rbuf[2][1 << 20];
static size_t rlen[2];
static size_t readline(int fd, int k, char *out, size_t cap)
{
	for (;;) {
		char *nl = memchr(rbuf[k], '\n', rlen[k]);
		if (nl) {
			size_t n = (size_t)(nl - rbuf[k]) + 1, c = n < cap ? n : cap - 1;
			memcpy(out, rbuf[k], c);
			out[c] = 0;
			memmove(rbuf[k], rbuf[k] + n, rlen[k] - n);
			rlen[k] -= n;
			return n;
		}
		if (rlen[k] == sizeof(rbuf[k])) { errno = EMSGSIZE; die("line too long"); }
		ssize_t r = read(fd, rbuf[k] + rlen[k], sizeof(rbuf[k]) - rlen[k]);
		if (r == 0) { errno = ECONNRESET; die("daemon closed"); }
		if (r < 0) { if (errno == EINTR) continue; die("read"); }
		rlen[k] += (size_t)r;
	}
}

static void writeall(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) { if (errno == EINTR) continue; die("write"); }
		p += w;
		n -= (size_t)w;
	}
}

/* The last "mesg=N" in the sink's counter output. */
static long sinkcount(const char *path)
{
	static char b[4096];
	int fd = open(path, O_RDONLY);
	if (fd < 0) return -1;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(b) - 1 ? end - (off_t)sizeof(b) + 1 : 0;
	ssize_t r = pread(fd, b, sizeof(b) - 1, from);
	close(fd);
	if (r <= 0) return 0;
	b[r] = 0;
	char *p = NULL, *q = b;
	while ((q = strstr(q, "mesg=")) != NULL) p = q++;
	return p ? atol(p + 5) : 0;
}

static long procfield(int pid, const char *key)
{
	char path[64], line[256];
	size_t kl = strlen(key);
	long v = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f) return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') { v = atol(line + kl + 1); break; }
	fclose(f);
	return v;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, long n, double p)
{
	if (n == 0) return 0;
	long i = (long)(p * (double)n + 0.999999) - 1;
	if (i < 0) i = 0;
	if (i >= n) i = n - 1;
	return v[i];
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *file = NULL, *sinkf = NULL;
	long n = 0, interval_ms = 10, timeout_s = 600;
	int pid = 0, c;
	while ((c = getopt(argc, argv, "s:f:n:c:p:i:T:")) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'f': file = optarg; break;
		case 'n': n = atol(optarg); break;
		case 'c': sinkf = optarg; break;
		case 'p': pid = atoi(optarg); break;
		case 'i': interval_ms = atol(optarg); break;
		case 'T': timeout_s = atol(optarg); break;
		default: return 2;
		}
	}
	if (!sock || !file || !sinkf || n <= 0 || pid <= 0) {
		fprintf(stderr, "usage: invwatch -s SOCK -f FILE -n N -c SINKOUT -p PID [-i MS] [-T S]\n");
		return 2;
	}
	FILE *rf = fopen(file, "r");
	if (!rf) die(file);
	static char req[4 << 20];
	size_t reqlen = fread(req, 1, sizeof(req) - 2, rf);
	fclose(rf);
	while (reqlen > 0 && (req[reqlen - 1] == '\n' || req[reqlen - 1] == '\r')) reqlen--;
	req[reqlen++] = '\n';

	static char line[1 << 16];
	int a = conn(sock), b = conn(sock);
	readline(a, 0, line, sizeof(line));
	readline(b, 1, line, sizeof(line));
	long base = sinkcount(sinkf);
	if (base < 0) die(sinkf);

	long cap = timeout_s * 1000 / (interval_ms > 0 ? interval_ms : 1) + 16;
	double *lat = malloc(sizeof(double) * (size_t)cap);	/* send phase, µs */
	long nlat = 0, nstatus = 0, sent = -1;
	double lat_enroll_max = 0;	/* status samples overlapping the enroll */
	long rssmax = 0;
	int64_t t0 = now(), t_enroll = 0, t_sink = 0, t_sent = 0;
	int64_t next_status = t0 + interval_ms * 1000000LL, next_rss = t0;
	int64_t deadline = t0 + timeout_s * 1000000000LL;

	writeall(a, req, reqlen);
	for (;;) {
		int64_t t = now();
		if (t > deadline) { fprintf(stderr, "invwatch: timed out (sink %ld of %ld, sent %ld)\n", sinkcount(sinkf) - base, n, sent); return 1; }
		if (t >= next_rss) {
			long v = procfield(pid, "VmRSS");
			if (v > rssmax) rssmax = v;
			next_rss += 100000000LL;
		}
		if (!t_sink) {
			long s = sinkcount(sinkf) - base;
			if (s >= n) t_sink = now();
		}
		if (t_enroll && t_sink && t_sent) break;
		if (t >= next_status) {
			static const char st[] = "{\"id\":1,\"cmd\":\"status\"}\n";
			int64_t s0 = now();
			writeall(b, st, sizeof(st) - 1);
			readline(b, 1, line, sizeof(line));
			int64_t s1 = now();
			double us = (double)(s1 - s0) / 1e3;
			nstatus++;
			if (!strstr(line, "\"ok\":true")) { fprintf(stderr, "invwatch: status failed: %s", line); return 1; }
			if (!t_enroll)
				lat_enroll_max = us > lat_enroll_max ? us : lat_enroll_max;
			else if (nlat < cap)
				lat[nlat++] = us;
			char *o = strstr(line, "\"outbox\"");
			char *p = o ? strstr(o, "\"sent\":") : NULL;
			if (p) sent = atol(p + 7);
			if (sent >= n && !t_sent) t_sent = s1;
			next_status += interval_ms * 1000000LL;
			if (next_status < s1) next_status = s1 + interval_ms * 1000000LL;
			continue;
		}
		if (!t_enroll) {
			struct pollfd pf = { .fd = a, .events = POLLIN };
			int64_t wait = next_status - t;
			if (wait > 1000000) wait = 1000000;
			int r = poll(&pf, 1, (int)(wait / 1000000));
			if (r > 0 || rlen[0] > 0) {
				readline(a, 0, line, sizeof(line));
				t_enroll = now();
				if (!strstr(line, "\"ok\":true")) { fprintf(stderr, "invwatch: enroll failed: %.500s\n", line); return 1; }
			}
		} else {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	long hwm = procfield(pid, "VmHWM");
	qsort(lat, (size_t)nlat, sizeof(double), cmpd);
	double tot = (double)(t_sink - t0) / 1e9, enr = (double)(t_enroll - t0) / 1e9;
	printf("n=%ld enroll_s=%.4f total_s=%.4f deliver_s=%.4f sent_s=%.4f rate=%.0f deliver_rate=%.0f "
	    "status_n=%ld lat_p50_us=%.1f lat_p99_us=%.1f lat_max_us=%.1f lat_enroll_max_us=%.1f "
	    "rss_max_kb=%ld hwm_kb=%ld\n",
	    n, enr, tot, tot - enr, (double)(t_sent - t0) / 1e9, (double)n / tot,
	    tot > enr ? (double)n / (tot - enr) : 0, nstatus,
	    pct(lat, nlat, 0.5), pct(lat, nlat, 0.99), nlat ? lat[nlat - 1] : 0,
	    lat_enroll_max, rssmax, hwm);
	return 0;
}
EOF_C
build_tool "$tmp/invwatch" "$tmp/invwatch.c"
LG="$tmp/loadgen"
build_tool "$LG" tests/bench/loadgen.c

# 10,000 teachers, as in run.sh.
invite_inputs 10000 "$N"
enroll_req 1 >"$tmp/enroll1.json"

results_init

# start_lectern DIR: a fresh daemon delivering to the sink on $port.
start_lectern() {
	write_conf "$1" "url = smtp://127.0.0.1:$port
tls = none
max_connections = $CONNS
retry_initial = 1"
	spawn_lecternd "$B" "$1"
	wait_lecternd "$1" 100
	load_lecternd
}

# ---------------------------------------------------------------- one message

# One invitation, captured by a sink with -d: its bytes are what smtp-source
# sends (-F), and its size is reported.
note "capturing one invitation"
mkdir -p "$tmp/dump"
chmod 777 "$tmp/dump"
start_sink "$tmp/cap.out" -d "$tmp/dump/%H%M%S."
start_lectern "$tmp/cap"
"$LG" -s "$sock" -m request -f "$tmp/enroll1.json" -n 1 >/dev/null 2>>"$tmp/loadgen.err" ||
    die "enroll failed: $(tail -n 3 "$tmp/loadgen.err")"
dumped() { [ -n "$(ls "$tmp/dump")" ]; }
retry 100 0.1 dumped ||
    die "no invitation reached the sink: $(cat "$tmp/cap/lecternd.log")"
sleep 0.2
stop_lectern
stop_sink
# Drop smtp-sink's own lines (X-* and its Received: header) and the empty
# line it appends; smtp-source -F adds CRLF to every line.
awk 'BEGIN { h = 1 }
    h && /^X-(Client|Helo|Mail|Rcpt)-/ { next }
    h && /^Received: / { r = 1; next }
    r && /^[ \t]/ { next }
    { r = 0; h = 0; sub(/\r$/, ""); l[++n] = $0 }
    END { while (n > 0 && l[n] == "") n--; for (i = 1; i <= n; i++) print l[i] }' \
    "$tmp"/dump/* >"$tmp/invite.eml"
SIZE=$(awk '{ n += length($0) + 2 } END { print n }' "$tmp/invite.eml")
note "one invitation: $SIZE bytes on the wire (CRLF), $(wc -l <"$tmp/invite.eml") lines"

# ---------------------------------------------------------------- rounds

note "$ROUNDS round(s) of $N invitations; temporary directory $tmp"
t_start=$(now_ns)
r=1
while [ $r -le "$ROUNDS" ]; do
	note "round $r of $ROUNDS"
	start_sink "$tmp/sink$r.out"

	# Reference A: smtp-source, same sink, same bytes, same connections.
	t0=$(now_ns)
	if LD_LIBRARY_PATH=$PFLIB "$SOURCE" -s $CONNS -m $N -d -F "$tmp/invite.eml" \
	    -f lectern@bench.test -t t@school1.example -M bench.test \
	    127.0.0.1:$port >"$tmp/source.out" 2>&1; then
		t1=$(now_ns)
		v=$(awk -v n=$N -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
		put source.rate $r "$v"
		put source.secs $r "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.4f", ns / 1e9 }')"
		echo "    smtp-source: $N messages, $CONNS connections, rate=$v/s" >&2
	else
		failures=$((failures + 1))
		note "round $r: smtp-source failed: $(tail -n 3 "$tmp/source.out")"
	fi

	# lectern: load, then the timed enroll and send.
	start_lectern "$tmp/r$r"
	echo 5 >/proc/"$lpid"/clear_refs 2>/dev/null || true	# reset VmHWM
	if out=$("$tmp/invwatch" -s "$sock" -f "$tmp/enroll.json" -n $N \
	    -c "$tmp/sink$r.out" -p "$lpid" -i 10 -T 600 2>>"$tmp/invwatch.err"); then
		echo "    lectern: $out" >&2
		for k in enroll_s total_s deliver_s rate deliver_rate lat_p50_us \
		    lat_p99_us lat_max_us lat_enroll_max_us rss_max_kb hwm_kb status_n; do
			put "lectern.$k" $r "$(echo " $out" | field $k)"
		done
	else
		failures=$((failures + 1))
		note "round $r: lectern's send failed: $(tail -n 3 "$tmp/invwatch.err")"
		tail -n 5 "$tmp/r$r/lecternd.log" >&2 || true
	fi
	stop_lectern

	# Reference B: Python, icalendar + email.mime + smtplib, one connection.
	if out=$($PY tests/bench/smtplib_ref.py 127.0.0.1 $port "$tmp/people.csv" $N_PY \
	    2>>"$tmp/py.err"); then
		echo "    smtplib: $out" >&2
		put py.rate $r "$(echo " $out" | field rate)"
		put py.size $r "$(echo " $out" | field size)"
		put py.build $r "$(echo " $out" | field build_s)"
	else
		failures=$((failures + 1))
		note "round $r: smtplib_ref.py failed: $(tail -n 3 "$tmp/py.err")"
	fi
	echo "    sink counted $(sinkcount "$tmp/sink$r.out") messages" >&2
	stop_sink
	r=$((r + 1))
done
t_end=$(now_ns)

# ---------------------------------------------------------------- report

lr=$(med lectern.rate); ldr=$(med lectern.deliver_rate); sr=$(med source.rate); pr=$(med py.rate)
lt=$(med lectern.total_s); le=$(med lectern.enroll_s); ld=$(med lectern.deliver_s)
st=$(med source.secs)
p50=$(med lectern.lat_p50_us); p99=$(med lectern.lat_p99_us); pmax=$(med lectern.lat_max_us)
pen=$(med lectern.lat_enroll_max_us)
rss=$(mib "$(med lectern.rss_max_kb)"); hwm=$(mib "$(med lectern.hwm_kb)")
half=$(awk -v s="$sr" 'BEGIN { if (s != "") printf "%.0f", s * 0.5 }')
ten=$(awk -v p="$pr" 'BEGIN { if (p != "") printf "%.0f", p * 10 }')
rs=$(ratio "$lr" "$sr"); rp=$(ratio "$lr" "$pr")

table="$tmp/table.md"
{
	table_head "" "; smtp-sink/smtp-source from \`${pfver:-postfix .deb}\`"
	echo "$(fmt $N) invitations of $(fmt "$SIZE") bytes to \`smtp-sink\` on 127.0.0.1,"
	echo "lectern with \`max_connections = $CONNS\`, \`tls = none\`. Medians over the rounds; ratio = lectern / reference."
	echo
	echo "| figure | target | lectern | reference | ratio | meets target |"
	echo "|---|---|---:|---:|---:|---|"
	echo "| $(fmt $N) invitations, enroll request → all at the sink | ≥ 0.5 × smtp-source | $(fmt "$lr") msg/s ($(fmt "$lt" 3) s) | smtp-source -s $CONNS -d: $(fmt "$sr") msg/s ($(fmt "$st" 3) s) | $rs | $(verdict "$lr" ">=" "${half:-0}") |"
	echo "| the same | ≥ 10 × Python smtplib | $(fmt "$lr") msg/s | icalendar + email.mime + smtplib, 1 connection: $(fmt "$pr") msg/s | $rp | $(verdict "$lr" ">=" "${ten:-0}") |"
	echo "| the \`enroll\` request itself (renders $(fmt $N) messages into the outbox, one transaction) | — | $(fmt "$le" 3) s | — | — | — |"
	echo "| delivery only, enroll reply → all at the sink | — | $(fmt "$ldr") msg/s ($(fmt "$ld" 3) s) | smtp-source: $(fmt "$sr") msg/s | $(ratio "$ldr" "$sr") | — |"
	echo "| \`status\` round trip from a 2nd client every 10 ms during the send: p50 / p99 / max | p99 < 10 ms | $(fmt "$p50" 0) / $(fmt "$p99" 0) / $(fmt "$pmax" 0) µs | — | — | $(verdict "$p99" "<" 10000) |"
	echo "| \`status\` sent while the enroll transaction runs (waits for it) | — | $(fmt "$pen" 0) µs | — | — | — |"
	echo "| peak VmRSS during enroll + send (VmHWM after clear_refs; VmRSS sampled every 100 ms: $(fmt "$rss" 1) MiB) | < 64 MiB | $(fmt "$hwm" 1) MiB | — | — | $(verdict "$hwm" "<" 64) |"
	echo
	echo "The smtplib reference sends $(fmt $N_PY) messages per round (its rate is per message; $(fmt "$(med py.size)") bytes each). smtp-source sends the captured invitation (\`-F\`) with \`-s $CONNS -m $(fmt $N) -d\`. Per-round values:"
	echo
	table_rounds lectern.rate lectern.total_s lectern.enroll_s \
	    lectern.deliver_s lectern.deliver_rate source.rate py.rate py.build \
	    lectern.lat_p50_us lectern.lat_p99_us lectern.lat_max_us \
	    lectern.lat_enroll_max_us lectern.status_n lectern.rss_max_kb \
	    lectern.hwm_kb
} >"$table"
publish invites
[ "$failures" -eq 0 ]
