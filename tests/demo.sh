#!/bin/sh
# make demo: a guided tour of lectern on the embedded default (SQLite and a
# maildir under ./var, no SMTP server needed).  Starts lecternd, imports the
# sample teachers, plans a webinar and a seminar series, enrolls people,
# waits for the invitations to reach the maildir, shows what happened and
# stops the daemon.
set -eu
B=${1:-build}
top=$(pwd)
conf=config/lectern.demo.conf
sock=var/lectern.sock
L="$B/lectern -s $sock"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() {
	printf '$ lectern'
	for a in "$@"; do
		case $a in
		*[!A-Za-z0-9@._:/,=+-]*) printf " '%s'" "$a" ;;
		*) printf ' %s' "$a" ;;
		esac
	done
	printf '\n'
	$L "$@"
}

# A fresh tour every time: the demo's state lives only under ./var.
if [ -S "$sock" ] && $L status >/dev/null 2>&1; then
	echo "demo: a lecternd is already serving $sock; stop it first" >&2
	exit 1
fi
rm -rf var
mkdir -p var

say "Starting lecternd on $conf (log: var/lecternd.log)"
"$B/lecternd" -f -c "$conf" >var/lecternd.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT INT TERM
i=0
until $L status >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
		echo "demo: lecternd did not start:" >&2
		cat var/lecternd.log >&2
		exit 1
	fi
	sleep 0.1
done
run status

say "Importing the sample teachers (config/sample-teachers.csv)"
run person import config/sample-teachers.csv
run person ls

say "A group: the young teachers' school"
run group add "Young teacher school"
run group add-members "Young teacher school" a.smirnova@school5.example s.morozov@gymnasium1.example i.novikova@school12.example
run group ls

# Dates relative to today so that the sessions are always ahead.
d1=$(date -d '+7 days' +%Y-%m-%d)
d2=$(date -d '+14 days' +%Y-%m-%d)

say "Planning a webinar (Moscow time) and a seminar series"
run session add --kind webinar --title "Formative assessment in grade 5" \
	--start "$d1 15:00" --duration 1h30m --tz Europe/Moscow \
	--url https://meet.district.example/formative --remind 1d,1h
run session add --kind seminar --title "Young teacher school: classroom management" \
	--start "$d2 14:00" --duration 2h --tz Europe/Moscow \
	--location "District methodology office, room 204" --capacity 2 \
	--repeat "FREQ=MONTHLY;COUNT=4"

say "Enrolling teachers"
run enroll --session 1 --group "Young teacher school" i.petrov@school5.example m.johnson@lyceum2.example
run enroll --session 2 --group "Young teacher school"
run session show 2

say "Moving the webinar by an hour (teachers get an update)"
run session update 1 --start "$d1 16:00"

say "Mary Johnson cannot come: she gets a cancellation for her calendar"
run unenroll --session 1 m.johnson@lyceum2.example

say "A workshop planned and then cancelled (everyone enrolled is told)"
run session add --kind workshop --title "Project-based learning" \
	--start "$d2 10:00" --duration 3h --tz Europe/Moscow --location "Lyceum No. 2, hall"
run enroll --session 3 e.sokolova@lyceum2.example d.volkov@lyceum2.example
run session cancel 3 --reason "The lecturer is ill; a new date will follow"

say "Waiting for the outbox to drain"
i=0
while :; do
	q=$($L --json status | sed -n 's/.*"queued":\([0-9]*\).*/\1/p')
	[ "${q:-0}" = 0 ] && break
	i=$((i + 1))
	[ $i -gt 300 ] && { echo "demo: outbox still has $q queued after 30 s" >&2; break; }
	sleep 0.1
done

say "What happened"
run session ls
run outbox ls
n=$(ls var/maildir/new 2>/dev/null | wc -l)
echo
echo "Messages delivered to the maildir: $n (in $top/var/maildir/new)"
if [ "$n" -gt 0 ]; then
	f=$(ls -t var/maildir/new | tail -n 1)
	echo "Each is a whole message with a calendar invitation (text/calendar; method=REQUEST"
	echo "or CANCEL) that Gmail, Outlook, Apple Calendar and Thunderbird show as a meeting."
	echo "The first one, $f, begins:"
	sed -n '1,12p' "var/maildir/new/$f" | tr -d '\r' | sed 's/^/    /'
	echo "Open var/maildir/new/* in a mail client to see them as teachers will."
fi

say "Stopping lecternd"
kill -TERM $pid
wait $pid || true
trap - EXIT INT TERM
cat <<EOT

To run lectern yourself:
  $B/lecternd -f -c $conf &          # the daemon, state in ./var
  $B/lectern -s $sock status         # or: export LECTERN_SOCKET=$sock
  $B/lectern --help
For a real installation: sudo make install, edit /etc/lectern/lectern.conf,
systemctl enable --now lecternd (see README.md and lecternd(8)).
EOT
