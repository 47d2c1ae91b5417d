# lib.sh -- helpers shared by the benchmark scripts, sourced at their top
# after prog (the name their messages start with) is set.  Results are
# lines "KEY ROUND VALUE" in $res.

die() { echo "$prog: $*" >&2; exit 1; }
note() { printf '%s: %s\n' "$prog" "$*" >&2; }
now_ns() { date +%s%N; }

# bench_init BUILD_DIR: top (this directory, the top of the tree), B (the
# build directory, absolute), QUICK, ROUNDS and DOC from BENCH_QUICK,
# ROUNDS and BENCH_DOC (quick: 1 round, no doc; else 3 rounds, doc), and
# cmdline, the command line a table quotes.
bench_init() {
	top=$(pwd)
	case $1 in /*) B=$1 ;; *) B=$top/$1 ;; esac
	QUICK=${BENCH_QUICK:-0}
	cmdline="${BENCH_CMD:-make bench}"
	if [ "$QUICK" = 1 ]; then
		ROUNDS=${ROUNDS:-1}
		DOC=${BENCH_DOC:-0}
		cmdline="BENCH_QUICK=1 $cmdline"
	else
		ROUNDS=${ROUNDS:-3}
		DOC=${BENCH_DOC:-1}
		[ "$ROUNDS" = 3 ] || cmdline="ROUNDS=$ROUNDS $cmdline"
	fi
}

# ---------------------------------------------------------------- processes

# reap PID...: stops each PID and waits for it; empty ones are skipped.
reap() {
	for reap_pid; do
		[ -n "$reap_pid" ] || continue
		kill "$reap_pid" 2>/dev/null || true
		wait "$reap_pid" 2>/dev/null || true
	done
}

# bench_tmp: makes $tmp (/tmp/lectern-$prog.*); on exit, bench_stop (each
# script's own: reap what it started) runs and $tmp goes, unless
# BENCH_KEEP=1.
bench_tmp() {
	tmp=$(mktemp -d "/tmp/lectern-$prog.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
bench_cleanup() {
	st=$?
	trap - EXIT INT TERM
	bench_stop
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		note "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit $st
}

# retry TRIES PAUSE CMD...: runs CMD (output discarded) until it succeeds,
# at most TRIES + 1 times, PAUSE seconds apart; fails if it never does.
retry() {
	retry_n=$1 retry_pause=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		retry_n=$((retry_n - 1))
		[ "$retry_n" -ge 0 ] || return 1
		sleep "$retry_pause"
	done
}

# build_tool OUT SOURCE: compiles a helper program.
build_tool() {
	cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$1" "$2" ||
	    die "cannot compile $2"
}

# ---------------------------------------------------------------- the daemon

# write_conf DIR MAIL: DIR/lectern.conf, state in DIR/state, socket $sock
# (DIR/lectern.sock), log_level warning; MAIL is the [mail] url line and
# any more lines for that section.
write_conf() {
	mkdir -p "$1/state" "$1/maildir"
	sock="$1/lectern.sock"
	cat >"$1/lectern.conf" <<EOF
[daemon]
state_dir = $1/state
database = $1/state/lectern.db
socket = $sock
timezone = Europe/Moscow
log_level = warning

[mail]
$2
from = Lectern Bench <lectern@bench.test>
domain = bench.test
EOF
}

# spawn_lecternd BUILD DIR [WRAPPER...]: BUILD/lecternd in the foreground
# mode with DIR/lectern.conf, in the background, logging to
# DIR/lecternd.log; sets lpid.  No watchdog, no systemd: an idle daemon
# must not wake up at all.
spawn_lecternd() {
	spawn_b=$1 spawn_d=$2
	shift 2
	env -u NOTIFY_SOCKET -u WATCHDOG_USEC -u WATCHDOG_PID -u LISTEN_FDS \
	    -u LISTEN_PID "$@" "$spawn_b/lecternd" -f -c "$spawn_d/lectern.conf" \
	    >"$spawn_d/lecternd.log" 2>&1 &
	lpid=$!
}

# wait_lecternd DIR TRIES: until the daemon in DIR answers status ($LG),
# polled every 0.1 s; shows its log and exits after TRIES polls or when it
# is gone.
wait_lecternd() {
	i=0
	until "$LG" -s "$1/lectern.sock" -m status -n 1 >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt "$2" ] || ! kill -0 "$lpid" 2>/dev/null; then
			note "lecternd did not start:"
			cat "$1/lecternd.log" >&2
			exit 1
		fi
		sleep 0.1
	done
}

stop_lectern() {
	reap "$lpid"
	lpid=""
}

# invite_inputs PEOPLE N: $tmp/people.csv of PEOPLE teachers, one
# session.add request ($tmp/session.json) and one enroll of people 1..N
# into it ($tmp/enroll.json).
invite_inputs() {
	awk -v n="$1" -f tests/bench/people.awk >"$tmp/people.csv"
	echo '{"id":1,"cmd":"session.add","args":{"kind":"webinar","title":"Formative assessment in grade 5","start":"2027-03-01T15:00","tz":"Europe/Moscow","duration":90,"url":"https://meet.example/abc","location":"Online","description":"Bring one lesson plan."}}' >"$tmp/session.json"
	enroll_req "$2" >"$tmp/enroll.json"
}
# enroll_req N: one enroll of people 1..N into session 1.
enroll_req() {
	awk -v n="$1" 'BEGIN { printf "{\"id\":2,\"cmd\":\"enroll\",\"args\":{\"session\":1,\"people\":["
		for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? "," : ""), i
		print "]}}" }'
}

# load_lecternd: imports $tmp/people.csv and adds $tmp/session.json through
# the daemon at $sock.
load_lecternd() {
	"$LG" -s "$sock" -m import -f "$tmp/people.csv" >/dev/null 2>>"$tmp/loadgen.err" &&
	    "$LG" -s "$sock" -m request -f "$tmp/session.json" -n 1 >/dev/null 2>>"$tmp/loadgen.err" ||
	    die "cannot load the daemon at $sock: $(tail -n 3 "$tmp/loadgen.err")"
}

# ---------------------------------------------------------------- measures

# results_init: an empty $res, no failures yet.
results_init() {
	res="$tmp/results"
	: >"$res"
	failures=0
}
put() { echo "$1 $2 $3" >>"$res"; }
# The value of NAME=VALUE in a line " ... NAME=VALUE ..." on stdin.
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
# kib PID FIELD: FIELD (VmRSS, VmHWM, ...) of PID's /proc status in KiB.
kib() { awk '/^'"$2"':/ { print $2 }' /proc/"$1"/status 2>/dev/null; }
# KiB as MiB with one decimal ("" for "").
mib() { [ -z "$1" ] || awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# Context switches of every thread of PID so far.
ctxsw() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
	    awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}

# measure_idle ROUND: records as idle the context switches of lecternd
# ($lpid) over $IDLE seconds, from a second after the last work.
measure_idle() {
	sleep 1
	c0=$(ctxsw "$lpid")
	# In the background so that a signal stops the script at once.
	sleep "$IDLE" &
	spid=$!
	wait $spid
	spid=""
	c1=$(ctxsw "$lpid")
	put idle "$1" $((c1 - c0))
	echo "    idle: $((c1 - c0)) context switches in $IDLE s" >&2
}

# ---------------------------------------------------------------- the report

# The median of KEY's values over the rounds ("" when none).
med() {
	awk -v k="$1" '$1 == k && $3 != "" { print $3 }' "$res" | sort -g |
	    awk '{ v[NR] = $1 } END {
		if (NR == 0) print "";
		else if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# Every round's value of KEY, comma-separated.
all() { awk -v k="$1" '$1 == k { printf "%s%s", s, $3; s = ", " }' "$res"; }
# A number with thousands separators (DECIMALS after the point), or "failed".
fmt() {
	[ -n "$1" ] || { echo "failed"; return; }
	awk -v v="$1" -v d="${2:-0}" 'BEGIN {
		s = sprintf("%." d "f", v); i = index(s, "."); if (i == 0) i = length(s) + 1
		ip = substr(s, 1, i - 1); fp = substr(s, i); o = ""
		while (length(ip) > 3) { o = "," substr(ip, length(ip) - 2) o; ip = substr(ip, 1, length(ip) - 3) }
		print ip o fp }'
}
# A / B with two decimals, or a dash.
ratio() {
	[ -n "$1" ] && [ -n "$2" ] || { echo "—"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "—"; else printf "%.2f\n", a / b }'
}
# verdict VALUE OP LIMIT: "yes", "**no**" or "failed".
verdict() {
	[ -n "$1" ] || { echo "failed"; return; }
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		ok = (op == ">=") ? v >= l : (op == "<") ? v < l : (op == "==") ? v == l : 0
		print ok ? "yes" : "**no**" }'
}

# table_head TIME_EXTRA MACHINE_EXTRA: a table's first lines: when, with
# what command, how long ($t_start to $t_end), on which machine.
table_head() {
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') with \`$cmdline\`"
	echo "($ROUNDS round(s), $(( (t_end - t_start) / 1000000000 )) s$1) on"
	echo "\`$(uname -srm)\`, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) CPUs$2."
}

# table_rounds KEY...: a table's last lines: each KEY's value per round,
# then the number of failed steps if any.
table_rounds() {
	for k; do
		echo "- \`$k\`: $(all "$k")"
	done
	[ "$failures" -eq 0 ] || { echo; echo "**$failures step(s) failed; see the run's output.**"; }
}

# publish MARKER: prints $table and, with DOC=1, writes it into
# docs/BENCHMARKS.md between the lines <!-- MARKER:begin --> and
# <!-- MARKER:end -->.
publish() {
	echo
	cat "$table"
	[ "$DOC" = 1 ] || return 0
	doc=docs/BENCHMARKS.md
	if [ -f "$doc" ] && grep -qx "<!-- $1:begin -->" "$doc" &&
	    grep -qx "<!-- $1:end -->" "$doc"; then
		awk -v t="$table" -v b="<!-- $1:begin -->" -v e="<!-- $1:end -->" '
		    $0 == b { print; while ((getline l < t) > 0) print l; skip = 1; next }
		    $0 == e { skip = 0 }
		    !skip' "$doc" >"$tmp/doc.md"
		cat "$tmp/doc.md" >"$doc"
		note "results written into $doc"
	else
		note "$doc has no $1 markers; results not written"
	fi
}
