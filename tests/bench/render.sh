#!/bin/sh
# tests/bench/render.sh -- the cost of rendering invitations.
#
#   sh tests/bench/render.sh BUILD_DIR [BUILD_DIR...]
#
# Every round and, within it, every build in turn (interleaved, so that a
# noisy machine hurts all builds alike): a fresh lecternd delivering to a
# maildir: in a temporary directory imports N teachers (people.awk) with
# person.import, adds one session and times one `enroll` of all N through
# the socket (loadgen -m request): the request renders N personal messages
# into the outbox in one transaction. Prints each round's time (and the
# daemon's CPU time for it, from /proc) and the medians per build.
#
# With CALLGRIND=1 instead: one daemon per build under
# valgrind --tool=callgrind, counting only inside notify_session() (or
# CG_FN, e.g. commands_execute for the whole request), one enroll of N
# people (default 1000), and the instructions per message of the
# renderers, store_person_get and store_outbox_add (inclusive; a function
# a build does not have is left out).
#
# Environment: N (default 10000; 1000 with CALLGRIND=1), ROUNDS (default 5),
# BENCH_KEEP=1 to keep the temporary directory, TMPDIR=/dev/shm to take
# the disk out of the figures.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [BUILD_DIR...]" >&2; exit 2; }
CG=${CALLGRIND:-0}
if [ "$CG" = 1 ]; then N=${N:-1000}; else N=${N:-10000}; fi
ROUNDS=${ROUNDS:-5}
CG_FN=${CG_FN:-notify_session}
top=$(pwd)

die() { echo "render: $*" >&2; exit 1; }
note() { printf 'render: %s\n' "$*" >&2; }

[ -f tests/bench/loadgen.c ] || die "run me from the top of the source tree"
for b in "$@"; do
	[ -x "$b/lecternd" ] || die "$b/lecternd is not built"
done

tmp=$(mktemp -d /tmp/lectern-render.XXXXXX)
lpid=""
cleanup() {
	st=$?
	trap - EXIT INT TERM
	if [ -n "$lpid" ]; then kill "$lpid" 2>/dev/null || true; wait "$lpid" 2>/dev/null || true; fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then note "kept $tmp"; else rm -rf "$tmp"; fi
	exit $st
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

LG="$tmp/loadgen"
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$LG" tests/bench/loadgen.c ||
    die "cannot compile tests/bench/loadgen.c"

awk -v n="$N" -f "$top/tests/bench/people.awk" >"$tmp/people.csv"
echo '{"id":1,"cmd":"session.add","args":{"kind":"webinar","title":"Formative assessment in grade 5","start":"2027-03-01T15:00","tz":"Europe/Moscow","duration":90,"url":"https://meet.example/abc","location":"Online","description":"Bring one lesson plan."}}' >"$tmp/session.json"
awk -v n="$N" 'BEGIN { printf "{\"id\":2,\"cmd\":\"enroll\",\"args\":{\"session\":1,\"people\":["
	for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? "," : ""), i
	print "]}}" }' >"$tmp/enroll.json"

# start BUILD DIR [WRAPPER...]: a fresh daemon in DIR; sets lpid and sock.
start() {
	b=$1 d=$2
	shift 2
	mkdir -p "$d/state" "$d/maildir"
	sock="$d/lectern.sock"
	cat >"$d/lectern.conf" <<EOF
[daemon]
state_dir = $d/state
socket = $sock
timezone = Europe/Moscow
log_level = warning

[mail]
url = maildir:$d/maildir
from = Lectern Bench <lectern@bench.test>
domain = bench.test
EOF
	env -u NOTIFY_SOCKET -u WATCHDOG_USEC -u WATCHDOG_PID -u LISTEN_FDS \
	    -u LISTEN_PID "$@" "$b/lecternd" -f -c "$d/lectern.conf" \
	    >"$d/lecternd.log" 2>&1 &
	lpid=$!
	i=0
	until "$LG" -s "$sock" -m status -n 1 >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 "$lpid" 2>/dev/null; then
			cat "$d/lecternd.log" >&2
			die "lecternd did not start"
		fi
		sleep 0.1
	done
	"$LG" -s "$sock" -m import -f "$tmp/people.csv" >/dev/null &&
	    "$LG" -s "$sock" -m request -f "$tmp/session.json" -n 1 >/dev/null ||
	    die "cannot load $d"
}
stop() {
	kill "$lpid" 2>/dev/null || true
	wait "$lpid" 2>/dev/null || true
	lpid=""
}

if [ "$CG" = 1 ]; then
	k=0
	for b in "$@"; do
		k=$((k + 1))
		out="$tmp/cg$k.out"
		start "$b" "$tmp/cg$k" valgrind --tool=callgrind \
		    --collect-atstart=no --toggle-collect="$CG_FN" \
		    --callgrind-out-file="$out"
		"$LG" -s "$sock" -m request -f "$tmp/enroll.json" -n 1 >/dev/null ||
		    die "enroll failed"
		stop
		callgrind_annotate --inclusive=yes --threshold=100 "$out" \
		    >"$tmp/cg$k.txt" 2>/dev/null
		printf '%s (N=%s):' "$b" "$N"
		for f in $CG_FN $(echo notify_session ical_render \
		    ical_prep_render mail_render mail_prep_render \
		    store_person_get store_outbox_add | tr ' ' '\n' |
		    grep -vx "$CG_FN"); do
			awk -v f="$f" -v n="$N" '
			    { gsub(",", "", $1) }
			    $0 ~ ("[ :]" f " ") || $0 ~ ("[ :]" f "$") {
				if (!done) printf " %s=%.0f", f, $1 / n; done = 1 }' \
			    "$tmp/cg$k.txt"
		done
		echo " instructions/message"
	done
	exit 0
fi

# The daemon's user and system CPU time in clock ticks.
HZ=$(getconf CLK_TCK)
usys() { awk '{ print $14, $15 }' /proc/"$1"/stat; }

res="$tmp/results"
: >"$res"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	k=0
	for b in "$@"; do
		k=$((k + 1))
		start "$b" "$tmp/r$r.$k"
		u0=$(usys "$lpid")
		o=$("$LG" -s "$sock" -m request -f "$tmp/enroll.json" -n 1) ||
		    die "enroll failed"
		u1=$(usys "$lpid")
		c0=$(echo "$u0" | awk '{ print $1 + $2 }')
		c1=$(echo "$u1" | awk '{ print $1 + $2 }')
		us=$(echo "$u0 $u1" | awk -v hz="$HZ" '{ printf "user %.2f s, system %.2f s", ($3 - $1) / hz, ($4 - $2) / hz }')
		s=$(echo " $o" | sed -n 's/.* secs=\([0-9.]*\).*/\1/p')
		c=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
		stop
		rm -rf "$tmp/r$r.$k"
		echo "$k $s $c" >>"$res"
		note "round $r $b: enroll of $N people: $s s (daemon CPU $c s: $us)"
	done
	r=$((r + 1))
done
k=0
for b in "$@"; do
	k=$((k + 1))
	m=$(awk -v k="$k" '$1 == k { print $2 }' "$res" | sort -g |
	    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	all=$(awk -v k="$k" '$1 == k { printf "%s%s", s, $2; s = " " }' "$res")
	mc=$(awk -v k="$k" '$1 == k { print $3 }' "$res" | sort -g |
	    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	echo "$b: enroll of $N people: median $m s over $ROUNDS rounds ($all); daemon CPU median $mc s"
done
