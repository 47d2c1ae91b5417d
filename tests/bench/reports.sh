#!/bin/sh
# tests/bench/reports.sh -- CPD report benchmark (make bench).
#
#   sh tests/bench/reports.sh [BUILD_DIR]
#
# Called by tests/bench/run.sh after reminders.sh (it may be run alone).
# Loads one fresh lecternd, through its socket, with 100,000 teachers (300
# schools, 12 positions; person.import in chunks of 10,000 rows) and
# 1,000,000 completions over the six years before today, spread so that
# every recertification status is well represented (training.import in
# chunks of 20,000 rows, each request line under the default max_line of
# 4 MiB); the load rates are figures of their own.  Then, in every round,
# on a daemon restarted on that database, tests/bench/reports-tool.c
# times report.recertification (all people, one organization, the summary
# alone), report.coverage (no by, by organization, by position) and
# report.hours (by organization), REPEAT times each, back to back on one
# connection, while a second connection sends status every 10 ms and
# times its round trips; the same status sampling with no report running
# (before and after the reports, in the same round) is the reference.
# Prints a table of medians and writes it into docs/BENCHMARKS.md between
# the reports markers.
#
# Environment: ROUNDS, BENCH_QUICK (20,000 people, 200,000 completions,
# 3 runs of each report), BENCH_DOC, BENCH_KEEP, BENCH_CMD as for run.sh;
# REPEAT=N runs of each report per round (default 5).
set -eu
prog=reports
. "$(dirname "$0")/lib.sh"

bench_init "${1:-build}"
if [ "$QUICK" = 1 ]; then
	N_PEOPLE=20000
	N_COMPLETIONS=200000
	REPEAT=${REPEAT:-3}
	IDLE_MS=2000		# status sampling with no report, per round
else
	N_PEOPLE=100000
	N_COMPLETIONS=1000000
	REPEAT=${REPEAT:-5}
	IDLE_MS=3000
fi
PEOPLE_CHUNK=10000		# rows per person.import
COMPLETION_CHUNK=20000		# rows per training.import (about 1.9 MB)
MAX_LINE=4194304		# the daemon's default max_line, written below
INTERVAL=10			# ms between status samples
ORG="School No. 17"		# the one organization of the second report
TARGET_MS=500

[ -x "$B/lecternd" ] || die "$B/lecternd is not built (run make -j2 all)"
[ -f tests/bench/reports-tool.c ] || die "run me from the top of the source tree"

lpid=""
bench_stop() { reap "$lpid"; }
bench_tmp

RT="$tmp/reports-tool"
build_tool "$RT" tests/bench/reports-tool.c
LG="$tmp/loadgen"
build_tool "$LG" tests/bench/loadgen.c

results_init

# start_lectern DIR: lecternd on DIR (its database kept between rounds).
# Notices and the digest are off: on a district this size, the first
# daily run would render some 13,000 due_soon notices into the outbox and
# the maildir delivery would write them during the measurements.
start_lectern() {
	write_conf "$1" "url = maildir:$1/maildir"
	cat >>"$1/lectern.conf" <<EOF

[recertification]
notices = no
digest = off
EOF
	sed -i "s|^log_level = warning\$|log_level = warning\nmax_line = $MAX_LINE|" \
	    "$1/lectern.conf"
	spawn_lecternd "$B" "$1"
	wait_lecternd "$1" 300
}

# ---------------------------------------------------------------- the data

t_start=$(now_ns)
# The daemon's today (its zone is Europe/Moscow): completions end the day
# before, and the statuses are counted as of it.
today=$(TZ=Europe/Moscow date +%F)
note "generating $N_PEOPLE teachers and $N_COMPLETIONS completions up to $today"
"$RT" people $N_PEOPLE >"$tmp/people.csv"
"$RT" completions -p $N_PEOPLE -n $N_COMPLETIONS -t "$today" \
    >"$tmp/completions.csv" 2>"$tmp/expect.txt" ||
    die "cannot generate the completions: $(cat "$tmp/expect.txt")"
expect=$(cat "$tmp/expect.txt")
csv_mb=$(du -m "$tmp/completions.csv" | cut -f1)

D="$tmp/db"
start_lectern "$D"
note "loading through $sock"
if out=$("$RT" load -s "$sock" -c person.import -f "$tmp/people.csv" \
    -r $PEOPLE_CHUNK -L $MAX_LINE 2>>"$tmp/tool.err"); then
	echo "    person.import: $out" >&2
	[ "$(echo " $out" | field added)" = $N_PEOPLE ] ||
	    die "person.import added $(echo " $out" | field added) of $N_PEOPLE"
	load_people_rate=$(echo " $out" | field rate)
	load_people_secs=$(echo " $out" | field secs)
else
	die "person.import failed: $(tail -n 3 "$tmp/tool.err")"
fi
if out=$("$RT" load -s "$sock" -c training.import -f "$tmp/completions.csv" \
    -r $COMPLETION_CHUNK -L $MAX_LINE 2>>"$tmp/tool.err"); then
	echo "    training.import: $out" >&2
	[ "$(echo " $out" | field recorded)" = $N_COMPLETIONS ] ||
	    die "training.import recorded $(echo " $out" | field recorded) of $N_COMPLETIONS"
	load_compl_rate=$(echo " $out" | field rate)
	load_compl_secs=$(echo " $out" | field secs)
else
	die "training.import failed: $(tail -n 3 "$tmp/tool.err")"
fi
stop_lectern
db_mb=$(du -cm "$D/state/lectern.db"* | tail -n 1 | cut -f1)
t_loaded=$(now_ns)

# ---------------------------------------------------------------- rounds

cat >"$tmp/requests.txt" <<EOF
recert_all {"id":1,"cmd":"report.recertification"}
recert_org {"id":2,"cmd":"report.recertification","args":{"organization":"$ORG"}}
recert_sum {"id":3,"cmd":"report.recertification","args":{"limit":0}}
recert_exp {"id":8,"cmd":"report.recertification","args":{"limit":10000000}}
cov_none {"id":4,"cmd":"report.coverage"}
cov_org {"id":5,"cmd":"report.coverage","args":{"by":"organization"}}
cov_pos {"id":6,"cmd":"report.coverage","args":{"by":"position"}}
hours_org {"id":7,"cmd":"report.hours","args":{"by":"organization"}}
EOF
LABELS="recert_all recert_org recert_sum recert_exp cov_none cov_org cov_pos hours_org"

note "$ROUNDS round(s), $REPEAT runs of each report; temporary directory $tmp"
r=1
while [ $r -le "$ROUNDS" ]; do
	note "round $r of $ROUNDS"
	start_lectern "$D"
	if out=$("$RT" measure -s "$sock" -f "$tmp/requests.txt" -n $REPEAT \
	    -i $INTERVAL -I $IDLE_MS 2>>"$tmp/tool.err"); then
		echo "$out" | sed 's/^/    /' >&2
		echo "$out" >"$tmp/measure$r.txt"
		for l in $LABELS; do
			line=" $(echo "$out" | grep "^label=$l ")"
			for k in med_ms max_ms bytes st_p50_us st_p99_us st_max_us; do
				put "$l.$k" $r "$(echo "$line" | field $k)"
			done
		done
		for l in idle during; do
			line=" $(echo "$out" | grep "^label=$l ")"
			for k in st_n st_p50_us st_p99_us st_max_us; do
				put "$l.$k" $r "$(echo "$line" | field $k)"
			done
		done
	else
		failures=$((failures + 1))
		note "round $r: the measurement failed: $(tail -n 3 "$tmp/tool.err")"
		tail -n 5 "$D/lecternd.log" >&2 || true
	fi
	stop_lectern
	r=$((r + 1))
done
t_end=$(now_ns)

# ---------------------------------------------------------------- report

# The largest value of KEY over the rounds ("" when none).
mx() { awk -v k="$1" '$1 == k && $3 != "" { if (n++ == 0 || $3 > m) m = $3 } END { if (n) print m }' "$res"; }
ms() { fmt "$1" "${2:-0}"; }
us_ms() { [ -z "$1" ] || awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

# What the reports said (from the last round that worked).
last=$(ls "$tmp"/measure*.txt 2>/dev/null | tail -n 1)
summary() { [ -z "$last" ] || sed -n "s/^label=$1 .* summary=//p" "$last"; }
num() { echo "$2" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
sum_all=$(summary recert_all)
sum_org=$(summary recert_org)
cov=$(summary cov_none)
# The generator knows every status; those trained in the cycle window are
# exactly the ok and due_soon ones (the overdue's last qualifying day is
# before it).
check="as generated"
for k in total ok due_soon overdue never; do
	[ "$(num $k "$sum_all")" = "$(echo " $expect" | field $k)" ] ||
	    check="**the report's summary ($sum_all) differs from the generator's ($expect)**"
done
trained=$(echo " $expect" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } print v["ok"] + v["due_soon"] }')
ccheck="= ok + due_soon, as generated"
[ "$(num trained "$cov")" = "$trained" ] ||
    ccheck="**the generator has $trained: ok + due_soon**"

# A reply's size: bytes, KiB or MiB.
size() {
	[ -n "$1" ] || { echo "failed"; return; }
	case $(awk -v b="$1" 'BEGIN { print (b < 10240) ? "B" : (b < 10485760) ? "KiB" : "MiB" }') in
	B) echo "$(fmt "$1") B" ;;
	KiB) echo "$(fmt "$(awk -v b="$1" 'BEGIN { print b / 1024 }')") KiB" ;;
	*) echo "$(fmt "$(awk -v b="$1" 'BEGIN { print b / 1048576 }')" 1) MiB" ;;
	esac
}
# row LABEL TEXT: one report's line of the table.
row() {
	m=$(med "$1.med_ms")
	if [ -n "${3:-}" ]; then
		echo "| $2 | — | $(ms "$m") ms | $(ms "$(mx "$1.max_ms")") ms | $(size "$(med "$1.bytes")") | $(us_ms "$(med "$1.st_p99_us")") / $(us_ms "$(mx "$1.st_max_us")") ms | — |"
		return
	fi
	echo "| $2 | < $TARGET_MS ms | $(ms "$m") ms | $(ms "$(mx "$1.max_ms")") ms | $(size "$(med "$1.bytes")") | $(us_ms "$(med "$1.st_p99_us")") / $(us_ms "$(mx "$1.st_max_us")") ms | $(verdict "$m" "<" $TARGET_MS) |"
}
ip50=$(med idle.st_p50_us); ip99=$(med idle.st_p99_us); imax=$(med idle.st_max_us)
dp50=$(med during.st_p50_us); dp99=$(med during.st_p99_us); dmax=$(mx during.st_max_us)

table="$tmp/table.md"
{
	table_head ", of which $(( (t_loaded - t_start) / 1000000000 )) s generating and loading the data" ""
	echo "Data: $(fmt $N_PEOPLE) teachers in 300 schools (one in 200 without one), 12 positions;"
	echo "$(fmt $N_COMPLETIONS) completions over the six years before $today ($csv_mb MB of CSV; database $db_mb MB with its WAL)."
	echo "As of $today: $(fmt "$(num total "$sum_all")") people, ok $(fmt "$(num ok "$sum_all")"), due_soon $(fmt "$(num due_soon "$sum_all")"), overdue $(fmt "$(num overdue "$sum_all")"), never $(fmt "$(num never "$sum_all")") ($check);"
	echo "trained in the cycle window $(fmt "$(num trained "$cov")") ($(num percent "$cov") %; $ccheck); \`$ORG\` has $(fmt "$(num total "$sum_org")") people."
	echo "Each report $REPEAT times per round, back to back on one connection, timed from the request's write to its reply's last byte;"
	echo "median = median of the rounds' medians, max = over all runs. \`status\`: a second connection, every $INTERVAL ms."
	echo
	echo "| figure | target | median | max | reply | \`status\` meanwhile: p99 / max | meets target |"
	echo "|---|---|---:|---:|---:|---:|---|"
	echo "| \`person.import\`, $(fmt $N_PEOPLE) people in chunks of $(fmt $PEOPLE_CHUNK) | — | $(fmt "$load_people_rate") people/s ($(fmt "$load_people_secs" 1) s) | — | — | — | — |"
	echo "| \`training.import\`, $(fmt $N_COMPLETIONS) completions in chunks of $(fmt $COMPLETION_CHUNK) | — | $(fmt "$load_compl_rate") completions/s ($(fmt "$load_compl_secs" 1) s) | — | — | — | — |"
	row recert_all "\`report.recertification\` over all $(fmt $N_PEOPLE) people (summary and the 1,000 most urgent, the default)"
	row recert_org "\`report.recertification\`, \`organization\` ($(fmt "$(num total "$sum_org")") people)"
	row recert_sum "\`report.recertification\`, \`limit: 0\` (the summary alone)"
	row recert_exp "\`report.recertification\`, every person listed (\`limit: 10000000\`, what \`lectern report due --csv\` asks for)" info
	row cov_none "\`report.coverage\`, no \`by\`"
	row cov_org "\`report.coverage\`, \`by: organization\`"
	row cov_pos "\`report.coverage\`, \`by: position\`"
	row hours_org "\`report.hours\`, \`by: organization\`"
	echo
	echo "| \`status\` round trip, 2nd connection every $INTERVAL ms | target | p50 | p99 | max | p99 during / idle | meets target |"
	echo "|---|---|---:|---:|---:|---:|---|"
	echo "| no report running (same round, before and after) | — | $(fmt "$ip50") µs | $(fmt "$ip99") µs | $(fmt "$imax") µs | — | — |"
	echo "| while any report runs | p99 < 10 ms | $(fmt "$dp50") µs | $(fmt "$dp99") µs | $(fmt "$dmax") µs | $(ratio "$dp99" "$ip99") | $(verdict "$dp99" "<" 10000) |"
	echo "| the same, worst sample | max < 100 ms | — | — | $(us_ms "$dmax") ms | $(ratio "$dmax" "$imax") (max / max) | $(verdict "$dmax" "<" 100000) |"
	echo
	echo "Per-round values (report times in ms, \`status\` in µs):"
	echo
	keys=""
	for l in $LABELS; do keys="$keys $l.med_ms $l.max_ms"; done
	# shellcheck disable=SC2086
	table_rounds $keys recert_all.st_max_us idle.st_p50_us idle.st_p99_us \
	    idle.st_max_us during.st_p50_us during.st_p99_us during.st_max_us \
	    during.st_n
} >"$table"
publish reports
[ "$failures" -eq 0 ]
