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
prog=render
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [BUILD_DIR...]" >&2; exit 2; }
CG=${CALLGRIND:-0}
if [ "$CG" = 1 ]; then N=${N:-1000}; else N=${N:-10000}; fi
ROUNDS=${ROUNDS:-5}
CG_FN=${CG_FN:-notify_session}

[ -f tests/bench/loadgen.c ] || die "run me from the top of the source tree"
for b in "$@"; do
	[ -x "$b/lecternd" ] || die "$b/lecternd is not built"
done

lpid=""
bench_stop() { reap "$lpid"; }
bench_tmp

LG="$tmp/loadgen"
build_tool "$LG" tests/bench/loadgen.c

invite_inputs "$N" "$N"

# start BUILD DIR [WRAPPER...]: a fresh daemon in DIR; sets lpid and sock.
start() {
	write_conf "$2" "url = maildir:$2/maildir"
	spawn_lecternd "$@"
	wait_lecternd "$2" 600
	load_lecternd
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
		stop_lectern
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

results_init
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
		s=$(echo " $o" | field secs)
		c=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
		stop_lectern
		rm -rf "$tmp/r$r.$k"
		put "$k.secs" $r "$s"
		put "$k.cpu" $r "$c"
		note "round $r $b: enroll of $N people: $s s (daemon CPU $c s: $us)"
	done
	r=$((r + 1))
done
k=0
for b in "$@"; do
	k=$((k + 1))
	echo "$b: enroll of $N people: median $(med "$k.secs") s over $ROUNDS rounds ($(all "$k.secs")); daemon CPU median $(med "$k.cpu") s"
done
