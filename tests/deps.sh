#!/bin/sh
# Install every Debian package that building, testing, fuzzing and the demo
# need.  Does nothing (and needs no network) when they are all present.
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev
libevent-dev libcurl4-openssl-dev libical-dev libsqlite3-dev libjansson-dev
libinih-dev libsystemd-dev libcsv-dev libcmocka-dev tzdata sqlite3
python3 python3-aiosmtpd python3-icalendar faketime util-linux passwd
systemd curl"
missing=""
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
