#!/bin/sh
# Install every Debian package that building, testing, fuzzing and the demo
# need.  Does nothing (and needs no network) when they are all present.
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev
libevent-dev libcurl4-openssl-dev libical-dev libsqlite3-dev libjansson-dev
libinih-dev libsystemd-dev libcsv-dev libcmocka-dev tzdata sqlite3
python3 python3-aiosmtpd python3-icalendar faketime util-linux passwd
systemd curl libgmime-3.0-dev gir1.2-ical-3.0 python3-gi"
missing=""
# Mozilla's ical.js (Thunderbird's calendar engine) for the invitation
# tests, from the npm registry, when node and npm are there.  Best effort:
# the tests that need it skip with the reason when it is missing.
icaljs="$(dirname "$0")/integration/icaljs"
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    [ ! -e "$icaljs/node_modules/ical.js/package.json" ]; then
	npm install --prefix "$icaljs" --no-package-lock --no-audit \
	    --no-fund --loglevel=error >/dev/null 2>&1 ||
		echo "make deps: npm could not install ical.js (its tests will skip)" >&2
fi

for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "make deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
