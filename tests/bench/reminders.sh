#!/bin/sh
# tests/bench/reminders.sh -- reminder scheduling benchmark (make bench).
#
#   sh tests/bench/reminders.sh [BUILD_DIR]
#
# Called by tests/bench/run.sh after invites.sh (it may be run alone).
# Builds one database once: 10,000 teachers (person.import), 10,000
# sessions in 2027-2030 with 10 reminder offsets each (100,000 pending
# reminder rows) and 10 teachers enrolled in each (1,000,000
# person-reminders), all through pipelined requests on one connection; the
# 100,000 invitations this sends are delivered to a discarding SMTP sink
# (reminders-tool sink).  Every round copies that database into a fresh directory
# and measures, with the daemon started without NOTIFY_SOCKET or
# WATCHDOG_USEC and log_level = warning:
#
#   1. start-up: from the exec of lecternd to its first answered status;
#   2. VmRSS of the loaded daemon, idle, after start-up and after the run;
#   3. the delay from a reminder's due time to the hand-off of its fan-out
#      to the outbox (the daemon's own status.reminders.handoff_ms, taken
#      at the commit), and, as an upper bound from outside, to the arrival
#      of its messages in the maildir's new/ (inotify,
#      tests/bench/reminders-tool.c), for a few hundred reminders (10
#      teachers each) that fall due during the round, spread over WINDOW
#      seconds, while the 100,000 stay pending;
#   4. context switches of all the daemon's threads over IDLE seconds with
#      nothing due and no client.
#
# Prints a table of medians and writes it into docs/BENCHMARKS.md between
# the reminders markers.
#
# Environment: ROUNDS, BENCH_QUICK, BENCH_DOC, BENCH_KEEP, BENCH_CMD as for
# run.sh; BENCH_IDLE=S seconds of idleness (default 60, quick 20).
set -eu
prog=reminders
. "$(dirname "$0")/lib.sh"

bench_init "${1:-build}"
if [ "$QUICK" = 1 ]; then
	N_SESSIONS=2000		# sessions loaded, 10 reminder offsets each
	N_DUE=100		# reminders that fall due during a round
	WINDOW=20		# ... spread over this many seconds
	LEAD=10			# seconds from adding them to the first due
	IDLE=${BENCH_IDLE:-20}
else
	N_SESSIONS=10000
	N_DUE=300
	WINDOW=40
	LEAD=12
	IDLE=${BENCH_IDLE:-60}
fi
N_PEOPLE=10000
PER=10			# teachers enrolled per session
OFFSETS="10080,4320,2880,1440,720,240,120,60,30,15"	# minutes
N_OFFSETS=10
DUE_OFFSET=3		# minutes: the due sessions start 3 min after the reminder

[ -x "$B/lecternd" ] || die "$B/lecternd is not built (run make -j2 all)"
[ -f tests/bench/reminders-tool.c ] || die "run me from the top of the source tree"
command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 is missing (make deps)"

lpid=""
wpid=""
spid=""
kpid=""
sinkport=""
bench_stop() { reap "$spid" "$wpid" "$lpid" "$kpid"; }
bench_tmp

RT="$tmp/reminders-tool"
build_tool "$RT" tests/bench/reminders-tool.c
LG="$tmp/loadgen"
build_tool "$LG" tests/bench/loadgen.c

results_init
status() { "$RT" call -s "$sock" '{"id":1,"cmd":"status"}'; }
queued() { status | sed -n 's/.*"outbox":{"queued":\([0-9]*\).*/\1/p'; }

# Epoch seconds as ISO 8601 UTC, in awk (mawk has no gmtime).
ISO='function iso(t,   z, era, doe, yoe, y, doy, mp, d, m, s) {
	s = t % 86400; z = int(t / 86400) + 719468
	era = int(z / 146097); doe = z - era * 146097
	yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
	y = yoe + era * 400; doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
	mp = int((5 * doy + 2) / 153); d = doy - int((153 * mp + 2) / 5) + 1
	m = mp < 10 ? mp + 3 : mp - 9; if (m <= 2) y++
	return sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, int(s / 3600), int(s % 3600 / 60), s % 60)
}'

# reminders_conf DIR: the daemon's configuration in DIR; mail into DIR/maildir,
# or, when $sinkport is set, to the SMTP sink on that port.
reminders_conf() {
	if [ -n "$sinkport" ]; then
		write_conf "$1" "url = smtp://127.0.0.1:$sinkport
tls = none
max_connections = 4"
	else
		write_conf "$1" "url = maildir:$1/maildir"
	fi
}

# start_lectern DIR: exec lecternd in DIR; sets lpid and startup_ms (from
# the exec -- the shell that takes the time execs the daemon -- to the
# first answered status, polled every millisecond).
start_lectern() {
	d=$1
	reminders_conf "$d"
	spawn_lecternd "$B" "$d" sh -c 'date +%s%N >"$0"; exec "$@"' "$d/t0"
	if ! t1=$("$RT" ready -s "$sock" -T 120 2>>"$tmp/tool.err") ||
	    ! kill -0 "$lpid" 2>/dev/null; then
		note "lecternd did not start:"
		cat "$d/lecternd.log" "$tmp/tool.err" >&2
		exit 1
	fi
	startup_ms=$(awk -v a="$(cat "$d/t0")" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
}

# put_pcts KEY ROUND FILE: records KEY.p50_ms and KEY.p99_ms of the
# numbers on stdin, kept in FILE as " p50=N p99=N".
put_pcts() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR) printf " p50=%d p99=%d\n", v[int(NR * 0.5 + 0.999999)], v[int(NR * 0.99 + 0.999999)] }' >"$3"
	put "$1.p50_ms" "$2" "$(field p50 <"$3")"
	put "$1.p99_ms" "$2" "$(field p99 <"$3")"
}

# wait_outbox SECS: until nothing is queued in the outbox.
wait_outbox() {
	i=0
	while q=$(queued) && [ "${q:-1}" != 0 ]; do
		i=$((i + 1))
		[ $i -le $(($1 * 5)) ] || { note "outbox still has $q queued after $1 s"; return 1; }
		sleep 0.2
	done
}

# ---------------------------------------------------------------- the database

note "building the database: $N_PEOPLE teachers, $N_SESSIONS sessions x $N_OFFSETS reminders x $PER teachers"
t_start=$(now_ns)
awk -v n=$N_PEOPLE -f "$top/tests/bench/people.awk" >"$tmp/people.csv"
# Sessions every 3 hours from 2027-01-01 (to 2030-06 for 10,000), start
# with seconds; teachers (i * PER + j) mod N_PEOPLE, so everyone is in PER
# sessions.
awk -v n=$N_SESSIONS -v offs="$OFFSETS" "$ISO"'
BEGIN {
	for (i = 1; i <= n; i++)
		printf "{\"id\":%d,\"cmd\":\"session.add\",\"args\":{\"kind\":\"webinar\",\"title\":\"Loaded session %d\",\"start\":\"%s\",\"duration\":90,\"url\":\"https://meet.example/l%d\",\"reminders\":[%s]}}\n", i, i, iso(1798761600 + (i - 1) * 10800 + i % 60), i, offs
}' >"$tmp/sessions.jsonl"
enroll_lines() {	# enroll_lines FIRST_SESSION COUNT
	awk -v f="$1" -v n="$2" -v per=$PER -v np=$N_PEOPLE 'BEGIN {
		for (i = 0; i < n; i++) {
			printf "{\"id\":%d,\"cmd\":\"enroll\",\"args\":{\"session\":%d,\"people\":[", i + 1, f + i
			for (j = 0; j < per; j++)
				printf "%s%d", (j ? "," : ""), ((f + i - 1) * per + j) % np + 1
			print "]}}"
		}
	}'
}
enroll_lines 1 $N_SESSIONS >"$tmp/enroll.jsonl"

# The invitations that the enrolments send go to a discarding SMTP sink
# (reminders-tool sink): into a maildir, each would cost an fsync.
"$RT" sink >"$tmp/sink.port" 2>"$tmp/sink.err" &
kpid=$!
retry 100 0.05 test -s "$tmp/sink.port" ||
    die "the SMTP sink did not start: $(cat "$tmp/sink.err")"
sinkport=$(cat "$tmp/sink.port")
tpl="$tmp/template"
start_lectern "$tpl"
"$LG" -s "$sock" -m import -f "$tmp/people.csv" >"$tmp/import.out" 2>&1 ||
    die "person.import failed: $(cat "$tmp/import.out")"
out=$("$RT" pipe -s "$sock" -f "$tmp/sessions.jsonl" -d 64) ||
    die "session.add failed: $out"
note "session.add x $N_SESSIONS (10 reminders each), pipelined: $out"
put setup.add_rps 0 "$(echo " $out" | field rps)"
out=$("$RT" pipe -s "$sock" -f "$tmp/enroll.jsonl" -d 64) ||
    die "enroll failed: $out"
note "enroll x $N_SESSIONS ($PER teachers each), pipelined: $out"
put setup.enroll_rps 0 "$(echo " $out" | field rps)"
t0=$(now_ns)
wait_outbox 600 || die "the invitations were not delivered"
note "$((N_SESSIONS * PER)) invitations delivered to the SMTP sink in $(( ($(now_ns) - t0) / 1000000 )) ms"
stop_lectern
reap "$kpid"
kpid=""
sinkport=""
rm -rf "$tpl/maildir"
ROWS=$(sqlite3 "$tpl/state/lectern.db" "SELECT count(*) FROM reminders WHERE state = 'pending'")
PREM=$(sqlite3 "$tpl/state/lectern.db" "SELECT count(*) FROM reminders r JOIN enrollments e ON e.session_id = r.session_id WHERE r.state = 'pending' AND e.state = 'enrolled'")
DBMB=$(du -sm "$tpl/state" | cut -f1)
note "database: $ROWS pending reminder rows, $PREM person-reminders, ${DBMB} MB"
[ "$ROWS" -eq $((N_SESSIONS * N_OFFSETS)) ] || die "expected $((N_SESSIONS * N_OFFSETS)) pending reminders, found $ROWS"
t_built=$(now_ns)

# ---------------------------------------------------------------- rounds

note "$ROUNDS round(s); temporary directory $tmp"
r=1
while [ $r -le "$ROUNDS" ]; do
	note "round $r of $ROUNDS"
	d="$tmp/r$r"
	mkdir -p "$d"
	cp -a "$tpl/state" "$d/state"

	# 1. Start-up.
	start_lectern "$d"
	put startup_ms $r "$startup_ms"
	echo "    start-up: $startup_ms ms" >&2
	sleep 1
	put rss_start $r "$(mib "$(kib "$lpid" VmRSS)")"

	# 3. Reminders falling due while the loaded ones stay pending: N_DUE
	# sessions starting DUE_OFFSET minutes after their reminder, due
	# times spread over WINDOW seconds from LEAD seconds on; each title
	# carries its due time for the watcher.
	"$RT" watch -m "$d/maildir" -n $((N_DUE * PER)) \
	    -T $((LEAD + WINDOW + 60)) -o "$d/arrivals" >"$d/watch.out" \
	    2>"$d/watch.err" &
	wpid=$!
	retry 100 0.05 grep -q watching "$d/watch.err" ||
	    die "the watcher did not start: $(cat "$d/watch.err")"
	first=$(( $(date +%s) + LEAD ))
	awk -v n=$N_DUE -v w=$WINDOW -v t0=$first -v off=$DUE_OFFSET -v r=$r "$ISO"'
	BEGIN {
		for (k = 0; k < n; k++) {
			due = t0 + int(k * w / n)
			printf "{\"id\":%d,\"cmd\":\"session.add\",\"args\":{\"kind\":\"webinar\",\"title\":\"Due soon rbench-%d-%d\",\"start\":\"%s\",\"duration\":45,\"reminders\":[%d]}}\n", k + 1, due, k, iso(due + off * 60), off
		}
	}' >"$d/due.jsonl"
	enroll_lines $((N_SESSIONS + 1)) $N_DUE >"$d/due-enroll.jsonl"
	if ! "$RT" pipe -s "$sock" -f "$d/due.jsonl" -d 64 >/dev/null ||
	    ! "$RT" pipe -s "$sock" -f "$d/due-enroll.jsonl" -d 64 >/dev/null; then
		failures=$((failures + 1))
		note "round $r: adding the due sessions failed"
	fi
	# Their invitations go out before the first reminder falls due.
	wait_outbox 60 || true
	left=$((first - $(date +%s)))
	[ $left -ge 1 ] || note "round $r: invitations still going out when reminders fell due (lead $LEAD s too short)"
	if wait "$wpid"; then
		out=$(cat "$d/watch.out")
		echo "    due reminders: $out" >&2
		for k in p50_ms p99_ms max_ms; do
			put "delay.$k" $r "$(echo " $out" | field $k)"
		done
	else
		failures=$((failures + 1))
		note "round $r: not every reminder arrived: $(cat "$d/watch.out" "$d/watch.err")"
	fi
	wpid=""
	# The daemon's own measure of the hand-off: each fan-out's commit to
	# the outbox after its due time (status.reminders.handoff_ms).
	st=$(status)
	for k in p50 p99 max; do
		put "handoff.$k" $r "$(echo "$st" | sed -n 's/.*"handoff_ms":{[^}]*"'$k'":\([0-9]*\).*/\1/p')"
	done
	echo "    hand-off to the outbox: $(echo "$st" | sed -n 's/.*"handoff_ms":\({[^}]*}\).*/\1/p')" >&2
	# Per reminder: its last message (the whole fan-out handed over).
	awk '{ if (!($2 in m) || $4 > m[$2]) m[$2] = $4 } END { for (k in m) print m[k] }' \
	    "$d/arrivals" | put_pcts last $r "$d/per-reminder"
	# Per due second: its first message (the timer, one reminder's
	# transaction and one maildir write; the closest to the hand-off).
	awk '{ if (!($1 in m) || $4 < m[$1]) m[$1] = $4 } END { for (k in m) print m[k] }' \
	    "$d/arrivals" | put_pcts first $r "$d/per-second"
	wait_outbox 60 || true

	# 2. Memory after the run, and 4. idleness: nothing due until 2027,
	# no client.
	if [ -r /proc/"$lpid"/status ]; then
		put rss $r "$(mib "$(kib "$lpid" VmRSS)")"
		put rss_anon $r "$(mib "$(kib "$lpid" RssAnon)")"
		put rss_file $r "$(mib "$(kib "$lpid" RssFile)")"
		put hwm $r "$(mib "$(kib "$lpid" VmHWM)")"
		echo "    rss: $(kib "$lpid" VmRSS) KiB (after start $(awk -v r=$r '$1 == "rss_start" && $2 == r { print $3 }' "$res") MiB; peak $(kib "$lpid" VmHWM) KiB)" >&2
		measure_idle $r
	else
		failures=$((failures + 1))
		note "round $r: lecternd is gone"
	fi
	stop_lectern
	rm -rf "$d/maildir" "$d/state"
	r=$((r + 1))
done
t_end=$(now_ns)

# ---------------------------------------------------------------- report

su=$(med startup_ms); rs=$(med rss_start); rss=$(med rss); hwm=$(med hwm)
ra=$(med rss_anon); rf=$(med rss_file)
p50=$(med delay.p50_ms); p99=$(med delay.p99_ms); pmax=$(med delay.max_ms)
h50=$(med handoff.p50); h99=$(med handoff.p99); hmax=$(med handoff.max)
l50=$(med last.p50_ms); l99=$(med last.p99_ms); idle=$(med idle)
f50=$(med first.p50_ms); f99=$(med first.p99_ms)
rmax=$(awk -v a="$rs" -v b="$rss" 'BEGIN { if (a != "" && b != "") print (a > b ? a : b) }')

table="$tmp/table.md"
{
	table_head ", of which $(( (t_built - t_start) / 1000000000 )) s building the database" ""
	echo "Database: $(fmt $N_PEOPLE) teachers, $(fmt $N_SESSIONS) sessions in 2027–2030 with $N_OFFSETS reminder offsets each"
	echo "(**$(fmt "$ROWS") pending reminder rows**, $(fmt "$PREM") person-reminders: $PER teachers per session), $(fmt "$DBMB") MB with the $(fmt $((N_SESSIONS * PER))) sent invitations."
	echo "Each round: $(fmt $N_DUE) more reminders ($PER teachers each, $(fmt $((N_DUE * PER))) messages) fall due over $WINDOW s. Medians over the rounds."
	echo
	echo "| figure | target | lectern | meets target |"
	echo "|---|---|---:|---|"
	echo "| start-up, exec → first answered \`status\` (database in the page cache) | — | $(fmt "$su" 1) ms | — |"
	echo "| VmRSS, loaded and idle: after start-up / after the round | < 32 MiB | $(fmt "$rs" 1) / $(fmt "$rss" 1) MiB (anon $(fmt "$ra" 1), files $(fmt "$rf" 1); peak $(fmt "$hwm" 1)) | $(verdict "$rmax" "<" 32) |"
	echo "| due → fan-out committed to the outbox (the daemon's \`status.reminders.handoff_ms\`): median | < 50 ms | $(fmt "$h50") ms | $(verdict "$h50" "<" 50) |"
	echo "| the same, p99 (max $(fmt "$hmax") ms) | < 1 s | $(fmt "$h99") ms | $(verdict "$h99" "<" 1000) |"
	echo "| due → message in maildir \`new/\` (an upper bound: hand-off, then delivery), per message: median / p99 (max $(fmt "$pmax") ms) | — | $(fmt "$p50") / $(fmt "$p99") ms | — |"
	echo "| due → last of a reminder's $PER messages in \`new/\`: median / p99 | — | $(fmt "$l50") / $(fmt "$l99") ms | — |"
	echo "| due → first message of each due second in \`new/\` (closest to the hand-off): median / p99 | — | $(fmt "$f50") / $(fmt "$f99") ms | — |"
	echo "| context switches, all threads, idle for $IDLE s (nothing due, no client) | 0 | $(fmt "$idle") | $(verdict "$idle" "==" 0) |"
	echo
	echo "Building the database (once per run, pipelined, depth 64): \`session.add\` with $N_OFFSETS reminders $(fmt "$(med setup.add_rps)") /s, \`enroll\` of $PER $(fmt "$(med setup.enroll_rps)") /s. Per-round values:"
	echo
	table_rounds startup_ms rss_start rss rss_anon rss_file hwm handoff.p50 \
	    handoff.p99 handoff.max delay.p50_ms delay.p99_ms delay.max_ms \
	    last.p50_ms last.p99_ms first.p50_ms first.p99_ms idle
} >"$table"
publish reminders
[ "$failures" -eq 0 ]
