#!/bin/sh
# tests/systemd-check.sh: the Debian package under a real systemd. Boots a
# Debian 12 container (systemd-nspawn, its own network namespace) from a
# minimal root file system (debootstrap, made once and kept in /var/tmp), in
# which tests/systemd/in-container.sh installs the package and checks socket
# activation, readiness (Type=notify), reload, SIGUSR1, stop, the sandbox,
# removal and purge.
#
# Run as root after "make deb" (tests/package-check.sh makes it), or with
# DLREPO_DEB=<file>. Where no container can be had (no systemd-nspawn or
# debootstrap, no Debian mirror, nspawn cannot boot here) it says "skipped"
# and exits 0: it checks the package, not the machine.
#   DLREPO_NSPAWN_BASE     root file system kept between runs
#                          (default /var/tmp/dlrepo-nspawn/bookworm)
#   DLREPO_DEBIAN_MIRROR   default http://deb.debian.org/debian
set -eu
cd "$(dirname "$0")/.."

skip() {
	echo "systemd-check: skipped: $*"
	exit 0
}
if [ -n "${DLREPO_DEB:-}" ]; then
	deb=$DLREPO_DEB
else
	deb=$(find target/deb -maxdepth 1 -name "dlrepo_*_all.deb" 2>/dev/null | head -1)
fi
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
	echo "systemd-check: no package: run make deb first, or set DLREPO_DEB" >&2
	exit 1
fi
[ "$(id -u)" = 0 ] || skip "not root"
command -v systemd-nspawn >/dev/null 2>&1 || skip "no systemd-nspawn (package systemd-container)"
command -v debootstrap >/dev/null 2>&1 || skip "no debootstrap"

base=${DLREPO_NSPAWN_BASE:-/var/tmp/dlrepo-nspawn/bookworm}
mirror=${DLREPO_DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

if [ ! -e "$base/.complete" ]; then
	echo "systemd-check: making a Debian 12 root file system in $base (once)"
	rm -rf "$base"
	mkdir -p "$(dirname "$base")"
	if ! debootstrap --variant=minbase \
		--include=systemd,systemd-sysv,dbus,openjdk-17-jre-headless,python3,adduser,curl,iproute2,procps,man-db,util-linux \
		bookworm "$base" "$mirror" >"$work/debootstrap.log" 2>&1; then
		tail -5 "$work/debootstrap.log"
		rm -rf "$base"
		skip "debootstrap failed"
	fi
	touch "$base/.complete"
fi
install -m 0644 tests/systemd/dlrepo-check.service "$base/etc/systemd/system/dlrepo-check.service"

mkdir "$work/check" "$work/out"
cp "$deb" "$work/check/dlrepo.deb"
cp tests/systemd/in-container.sh "$work/check/"
echo "systemd-check: booting the container with $deb"
# --ephemeral: a throw-away copy of the base; systemd.wants=: start the check at boot
timeout 900 systemd-nspawn -q --ephemeral -D "$base" --register=no --keep-unit --private-network \
	--console=pipe --bind-ro="$work/check:/mnt/check" --bind="$work/out:/mnt/out" \
	-b -- systemd.wants=dlrepo-check.service >"$work/boot.log" 2>&1 || true

if [ ! -s "$work/out/results" ]; then
	tail -20 "$work/boot.log"
	skip "the container did not boot or did not run the check"
fi
cat "$work/out/results"
passed=$(grep -c '^ok ' "$work/out/results" || true)
failed=$(grep -c '^not ok ' "$work/out/results" || true)
if ! grep -qx "done" "$work/out/log" 2>/dev/null; then
	failed=$((failed + 1))
	echo "not ok - the check in the container finished"
	tail -20 "$work/out/log" 2>/dev/null | sed 's/^/    /'
fi
if [ "$failed" != 0 ]; then
	echo "    --- journal of dlrepo.service and dlrepo.socket:"
	sed 's/^/    /' "$work/out/journal" 2>/dev/null | tail -60
fi
echo "systemd-check: $passed passed, $failed failed"
[ "$failed" = 0 ]
