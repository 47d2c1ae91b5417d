#!/bin/sh
# tests/bench/run.sh -- lectern's benchmarks (make bench).
#
#   sh tests/bench/run.sh [BUILD_DIR]
#
# Starts a fresh lecternd per round in a temporary directory, and a
# redis-server on a Unix socket as the reference for round trips; runs
# reference and lectern interleaved in every round; prints a markdown table
# of medians and ratios and writes it into docs/BENCHMARKS.md between the
# bench markers.  See docs/BENCHMARKS.md for what each figure means.
#
# Environment:
#   ROUNDS=N        rounds (default 3; 1 with BENCH_QUICK=1)
#   BENCH_QUICK=1   smaller counts, 5 s of idleness: well under a minute
#   BENCH_DOC=0|1   write docs/BENCHMARKS.md (default 1, 0 when quick)
#   BENCH_KEEP=1    keep the temporary directory (logs, databases)
#   BENCH_IDLE=S    seconds of idleness to watch (default 20, quick 5)
#   BENCH_INVITES=0 skip tests/bench/invites.sh (invitation delivery)
#   BENCH_REPORTS=0 skip tests/bench/reports.sh (CPD reports over 100,000
#                   people and 1,000,000 completions, and status latency
#                   while they run; about 1.5 minutes)
set -eu
prog=bench
. "$(dirname "$0")/lib.sh"

bench_init "${1:-build}"
if [ "$QUICK" = 1 ]; then
	N_RT=5000		# unpipelined round trips
	N_PIPE=20000		# pipelined round trips
	N_ADD=500		# durable session.add, unpipelined
	N_SESSIONS=2000		# sessions loaded in all
	IDLE=${BENCH_IDLE:-5}
else
	N_RT=20000
	N_PIPE=100000
	N_ADD=2000
	N_SESSIONS=10000
	IDLE=${BENCH_IDLE:-20}
fi
N_PEOPLE=10000
DEPTH=64
WARMUP=500

for f in "$B/lecternd" "$B/lectern"; do
	[ -x "$f" ] || die "$f is not built (run make -j2 all)"
done
[ -f tests/bench/loadgen.c ] || die "run me from the top of the source tree"

# The reference: Debian's redis-server and redis-benchmark.  Installing the
# package must not start a system redis (policy-rc.d refuses service
# starts); ours listens on a socket in the temporary directory with TCP off,
# so a system redis that does run is not in the way either.
if ! command -v redis-server >/dev/null 2>&1 ||
    ! command -v redis-benchmark >/dev/null 2>&1; then
	note "installing redis-server and redis-tools (the reference)"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
		$SUDO chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
	    --no-install-recommends redis-server redis-tools >/dev/null
	[ $made_policy = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
	$SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 is missing (make deps)"

lpid=""
rpid=""
spid=""
bench_stop() { reap "$spid" "$lpid" "$rpid"; }
bench_tmp

LG="$tmp/loadgen"
build_tool "$LG" tests/bench/loadgen.c

# ---------------------------------------------------------------- inputs

# 10,000 teachers in 20 schools, one in three with a Cyrillic name.
awk -v n=$N_PEOPLE -f "$top/tests/bench/people.awk" >"$tmp/people.csv"

# The fsync reference: the same number of single-row transactions as the
# session.add benchmark, through the sqlite3 CLI, WAL + synchronous=FULL.
# The WAL is grown first (as the daemon's is, after the import), since
# appending to a fresh WAL costs a metadata write per fsync; the timed part
# is bracketed by .shell date.
awk -v n=$N_ADD -v t="$tmp" 'BEGIN {
	print "PRAGMA journal_mode=WAL;"
	print "PRAGMA synchronous=FULL;"
	print "CREATE TABLE pad(x);"
	print "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1200)"
	print "  INSERT INTO pad SELECT randomblob(3000) FROM c;"
	print "DROP TABLE pad;"
	print "PRAGMA wal_checkpoint;"
	print "CREATE TABLE session(id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE,"
	print "  kind TEXT NOT NULL, title TEXT NOT NULL, start INTEGER NOT NULL,"
	print "  duration INTEGER NOT NULL, tz TEXT NOT NULL, url TEXT, created INTEGER);"
	print "CREATE INDEX session_start ON session(start);"
	print ".shell date +%s%N >" t "/ref.t0"
	for (i = 0; i < n; i++)
		printf "INSERT INTO session(uid,kind,title,start,duration,tz,url,created) VALUES(\x27%016x-%d@bench.test\x27,\x27webinar\x27,\x27Bench session %d\x27,%d,90,\x27Europe/Moscow\x27,\x27https://meet.example/b%d\x27,1795000000);\n", i * 2654435761 % 4294967296, i, i, 1900000000 + i * 3600, i
	print ".shell date +%s%N >" t "/ref.t1"
}' >"$tmp/ref.sql"

# ---------------------------------------------------------------- results

# One line per measurement: KEY ROUND VALUE.
results_init

# run_lg KEY ROUND ARGS...: a loadgen run; records KEY.rps, KEY.p99 (µs),
# KEY.secs.
run_lg() {
	k=$1 rd=$2
	shift 2
	if out=$("$LG" -s "$sock" "$@" 2>>"$tmp/loadgen.err"); then
		put "$k.rps" "$rd" "$(echo "$out" | field rps)"
		put "$k.p99" "$rd" "$(echo "$out" | field p99_us)"
		put "$k.secs" "$rd" "$(echo "$out" | field secs)"
		echo "    $k: $out" >&2
	else
		failures=$((failures + 1))
		note "round $rd: $k failed: $(tail -n 3 "$tmp/loadgen.err")"
	fi
}

# run_redis KEY ROUND PIPELINE N: redis-benchmark PING, 1 connection.
run_redis() {
	if out=$(redis-benchmark -s "$tmp/redis.sock" -n "$4" -c 1 -P "$3" \
	    -t ping_mbulk --csv 2>>"$tmp/redis.err" | grep PING_MBULK); then
		rps=$(echo "$out" | cut -d, -f2 | tr -d '"')
		p99=$(echo "$out" | cut -d, -f7 | tr -d '"' |
		    awk '{ printf "%.1f", $1 * 1000 }')
		put "$1.rps" "$2" "$rps"
		put "$1.p99" "$2" "$p99"
		echo "    $1: rps=$rps p99_us=$p99" >&2
	else
		failures=$((failures + 1))
		note "round $2: redis-benchmark failed"
	fi
}

# ---------------------------------------------------------------- daemons

note "starting the reference redis-server"
redis-server --port 0 --unixsocket "$tmp/redis.sock" --save '' \
    --appendonly no --daemonize no --logfile "$tmp/redis.log" &
rpid=$!
retry 100 0.1 redis-cli -s "$tmp/redis.sock" ping ||
    die "redis-server did not start: $(cat "$tmp/redis.log")"

start_lectern() {
	write_conf "$1" "url = maildir:$1/maildir"
	spawn_lecternd "$B" "$1"
	wait_lecternd "$1" 100
}

# ---------------------------------------------------------------- rounds

note "$ROUNDS round(s); temporary directory $tmp"
t_start=$(now_ns)
r=1
while [ $r -le "$ROUNDS" ]; do
	note "round $r of $ROUNDS"
	start_lectern "$tmp/r$r"

	# person.import of 10,000 teachers into an empty database.
	run_lg import $r -m import -f "$tmp/people.csv"

	# Durable single-row transactions: the sqlite3 CLI, then lectern.
	rm -f "$tmp/r$r/ref.db"* "$tmp/ref.t0" "$tmp/ref.t1"
	sync
	if sqlite3 "$tmp/r$r/ref.db" <"$tmp/ref.sql" >/dev/null &&
	    [ -s "$tmp/ref.t0" ] && [ -s "$tmp/ref.t1" ]; then
		v=$(awk -v n=$N_ADD -v ns=$(($(cat "$tmp/ref.t1") - $(cat "$tmp/ref.t0"))) \
		    'BEGIN { printf "%.0f", n / (ns / 1e9) }')
		put sqlite.rps $r "$v"
		echo "    sqlite: $N_ADD transactions, rps=$v" >&2
	else
		failures=$((failures + 1))
		note "round $r: the sqlite3 reference failed"
	fi
	rm -f "$tmp/r$r/ref.db"*
	sync
	run_lg add $r -m add -n $N_ADD -d 1 -t 1

	# The rest of the sessions, pipelined (as an import script would).
	run_lg addpipe $r -m add -n $((N_SESSIONS - N_ADD)) -d $DEPTH -t 2

	# Round trips, unpipelined then pipelined, each right after its
	# reference.
	run_redis redis1 $r 1 $N_RT
	run_lg status1 $r -m status -n $N_RT -d 1 -w $WARMUP
	run_lg get1 $r -m get -n $N_RT -d 1 -w $WARMUP -k $N_SESSIONS
	run_redis redis64 $r $DEPTH $N_PIPE
	run_lg status64 $r -m status -n $N_PIPE -d $DEPTH -w $WARMUP
	run_lg get64 $r -m get -n $N_PIPE -d $DEPTH -w $WARMUP -k $N_SESSIONS

	# Memory with everything loaded, then idleness.
	if [ -r /proc/"$lpid"/status ]; then
		rss=$(kib "$lpid" VmRSS)
		hwm=$(kib "$lpid" VmHWM)
		anon=$(kib "$lpid" RssAnon)
		file=$(kib "$lpid" RssFile)
		put rss $r "$(mib "$rss")"
		put hwm $r "$(mib "$hwm")"
		put rssanon $r "$(mib "$anon")"
		put rssfile $r "$(mib "$file")"
		echo "    rss: ${rss} KiB (anon ${anon}, file ${file}; peak ${hwm} KiB)" >&2
		measure_idle $r
	else
		failures=$((failures + 1))
		note "round $r: lecternd is gone"
	fi
	stop_lectern
	r=$((r + 1))
done
t_end=$(now_ns)

# ---------------------------------------------------------------- report

s1=$(med status1.rps); g1=$(med get1.rps); r1=$(med redis1.rps)
s1p=$(med status1.p99); g1p=$(med get1.p99); r1p=$(med redis1.p99)
s64=$(med status64.rps); g64=$(med get64.rps); r64=$(med redis64.rps)
add=$(med add.rps); sq=$(med sqlite.rps); addp=$(med addpipe.rps)
imp=$(med import.secs); rss=$(med rss); hwm=$(med hwm); idle=$(med idle)
ranon=$(med rssanon); rfile=$(med rssfile)

table="$tmp/table.md"
{
	table_head "" ""
	echo "Medians over the rounds; ratio = lectern / reference."
	echo
	echo "| benchmark | target | lectern | reference | ratio | meets target |"
	echo "|---|---|---:|---:|---:|---|"
	echo "| \`status\`, 1 connection, unpipelined | ≥ 10,000 req/s | $(fmt "$s1") req/s | redis PING -P 1: $(fmt "$r1") req/s | $(ratio "$s1" "$r1") | $(verdict "$s1" ">=" 10000) |"
	echo "| \`status\` p99 latency, unpipelined | < 1 ms | $(fmt "$s1p") µs | redis: $(fmt "$r1p" 0) µs | $(ratio "$s1p" "$r1p") | $(verdict "$s1p" "<" 1000) |"
	echo "| \`session.get\`, 1 connection, unpipelined | ≥ 10,000 req/s | $(fmt "$g1") req/s | redis PING -P 1: $(fmt "$r1") req/s | $(ratio "$g1" "$r1") | $(verdict "$g1" ">=" 10000) |"
	echo "| \`session.get\` p99 latency, unpipelined | < 1 ms | $(fmt "$g1p") µs | redis: $(fmt "$r1p" 0) µs | $(ratio "$g1p" "$r1p") | $(verdict "$g1p" "<" 1000) |"
	echo "| \`status\`, pipelined, depth $DEPTH | ≥ 30,000 req/s | $(fmt "$s64") req/s | redis PING -P $DEPTH: $(fmt "$r64") req/s | $(ratio "$s64" "$r64") | $(verdict "$s64" ">=" 30000) |"
	echo "| \`session.get\`, pipelined, depth $DEPTH | ≥ 30,000 req/s | $(fmt "$g64") req/s | redis PING -P $DEPTH: $(fmt "$r64") req/s | $(ratio "$g64" "$r64") | $(verdict "$g64" ">=" 30000) |"
	echo "| \`session.add\`, one durable transaction each, unpipelined | ≥ 2,000 /s | $(fmt "$add") /s | sqlite3 CLI, WAL+FULL: $(fmt "$sq") tx/s | $(ratio "$add" "$sq") | $(verdict "$add" ">=" 2000) |"
	echo "| \`session.add\`, pipelined, depth $DEPTH | — | $(fmt "$addp") /s | sqlite3 CLI: $(fmt "$sq") tx/s | $(ratio "$addp" "$sq") | — |"
	echo "| \`person.import\` of $(fmt $N_PEOPLE) teachers | < 1 s | $(fmt "$imp" 3) s | — | — | $(verdict "$imp" "<" 1) |"
	echo "| VmRSS, $(fmt $N_PEOPLE) people + $(fmt $N_SESSIONS) sessions | < 16 MiB | $(fmt "$rss" 1) MiB (heap/anon $(fmt "$ranon" 1), mapped files $(fmt "$rfile" 1); peak $(fmt "$hwm" 1)) | — | — | $(verdict "$rss" "<" 16) |"
	echo "| context switches while idle for $IDLE s | 0 | $(fmt "$idle") | — | — | $(verdict "$idle" "==" 0) |"
	echo
	echo "Requests per figure: $(fmt $N_RT) unpipelined, $(fmt $N_PIPE) pipelined, $(fmt $N_ADD) durable \`session.add\`; per-round values:"
	echo
	table_rounds status1.rps get1.rps redis1.rps status1.p99 get1.p99 \
	    redis1.p99 status64.rps get64.rps redis64.rps add.rps sqlite.rps \
	    addpipe.rps import.secs rss rssanon rssfile idle
} >"$table"
publish bench

# Invitation delivery to postfix's smtp-sink, against smtp-source and
# Python's smtplib: its own rounds, table and markers (tests/bench/invites.sh).
inv=0
if [ "${BENCH_INVITES:-1}" = 1 ]; then
	echo
	ROUNDS=$ROUNDS BENCH_QUICK=$QUICK BENCH_DOC=$DOC sh tests/bench/invites.sh "$B" || inv=1
fi

# Reminders: start-up, memory, due-to-maildir delay and idleness with
# 100,000 pending reminders; its own rounds, table and markers
# (tests/bench/reminders.sh).  BENCH_REMINDERS=0 skips it.
rem=0
if [ "${BENCH_REMINDERS:-1}" = 1 ]; then
	echo
	ROUNDS=$ROUNDS BENCH_QUICK=$QUICK BENCH_DOC=$DOC sh tests/bench/reminders.sh "$B" || rem=1
fi

# CPD reports: report.recertification, report.coverage and report.hours
# over 100,000 people and 1,000,000 completions, with status round trips
# from a second client while they run; its own load, rounds, table and
# markers (tests/bench/reports.sh).  BENCH_REPORTS=0 skips it.
rep=0
if [ "${BENCH_REPORTS:-1}" = 1 ]; then
	echo
	ROUNDS=$ROUNDS BENCH_QUICK=$QUICK BENCH_DOC=$DOC sh tests/bench/reports.sh "$B" || rep=1
fi
[ "$failures" -eq 0 ] && [ $inv = 0 ] && [ $rem = 0 ] && [ $rep = 0 ]
