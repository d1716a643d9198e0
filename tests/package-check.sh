#!/bin/sh
# shellcheck disable=SC2016 # the sh -c scripts get their arguments as $1...
# tests/package-check.sh: build the Debian package (make deb), check what it
# holds, install it, run the installed daemon the way dlrepo.service does
# (as the dlrepo user, /etc/default/dlrepo, the socket as fd 3),
# render its man pages, check the units, then remove and purge it.
#
# Run as root on Debian 12, after "make check" (.ci/run does). It refuses to
# touch a dlrepo installation it did not make itself. DLREPO_DEB=<file> checks
# that package instead of building one.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "package-check: must run as root (it installs the package)" >&2
	exit 1
fi

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $*"
}
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $*"
}
# check DESCRIPTION COMMAND...: runs the command quietly, prints its output on failure
check() {
	desc=$1
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc"
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /'
	fi
}

work=$(mktemp -d)
daemon=
marker=/var/lib/dlrepo/.package-check
cleanup() {
	if [ -n "$daemon" ]; then kill -9 "$daemon" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

if dpkg-query -W -f '${Status}' dlrepo 2>/dev/null | grep -q 'installed\|config-files'; then
	if [ ! -e $marker ] && [ -n "$(ls -A /var/lib/dlrepo 2>/dev/null)" ]; then
		echo "package-check: dlrepo is installed here with data in /var/lib/dlrepo: not touching it" >&2
		exit 1
	fi
	apt-get purge -y -q dlrepo >/dev/null
fi
if [ -e $marker ]; then
	rm -rf /var/lib/dlrepo
	deluser --system --quiet dlrepo >/dev/null 2>&1 || true
fi

### the package

if [ -n "${DLREPO_DEB:-}" ]; then
	deb=$DLREPO_DEB
else
	make -s deb >"$work/build.log" 2>&1 || {
		tail -50 "$work/build.log"
		echo "package-check: make deb failed"
		exit 1
	}
	deb=$(ls target/deb/dlrepo_*_all.deb)
fi
echo "package-check: $deb"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/files"
expected="/usr/share/dlrepo/dlrepo.jar /usr/share/dlrepo/dlrepo.classlist /usr/bin/dlrepo
/lib/systemd/system/dlrepo.socket /lib/systemd/system/dlrepo.service /etc/default/dlrepo
/usr/share/doc/dlrepo/examples/nginx.conf /usr/share/doc/dlrepo/examples/nginx-replicas.conf
/usr/share/doc/dlrepo/examples/dlrepo-replica.conf /usr/share/doc/dlrepo/copyright"
# monitoring examples (README.md, Operations)
expected="$expected /usr/share/doc/dlrepo/examples/grafana/dlrepo.json
/usr/share/doc/dlrepo/examples/prometheus/dlrepo-alerts.yml"
if [ -f dlrepo-cli ]; then
	expected="$expected /usr/bin/dlrepo-cli /usr/share/dlrepo/dlrepo-cli"
fi
for page in docs/*.scdoc; do
	name=$(basename "$page" .scdoc)
	expected="$expected /usr/share/man/man${name##*.}/$name.gz"
done
if [ -d etc/acls-examples ]; then
	expected="$expected /usr/share/doc/dlrepo/examples/acls/"
fi
for f in $expected; do
	check "the package holds $f" grep -qx "$f" "$work/files"
done

depends=$(dpkg-deb -f "$deb" Depends)
for d in 'default-jre-headless (>= 2:1.17) | java17-runtime-headless' python3; do
	check "Depends: $d" sh -c 'printf "%s\n" "$1" | tr "," "\n" | sed "s/^ *//" | grep -qxF "$2"' - "$depends" "$d"
done
check "/etc/default/dlrepo is a conffile" sh -c 'dpkg-deb -I "$1" conffiles | grep -qx /etc/default/dlrepo' - "$deb"

### install

cp "$deb" "$work/"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$work/$(basename "$deb")" >"$work/install.log" 2>&1; then
	cat "$work/install.log"
	echo "package-check: apt-get install failed"
	exit 1
fi
touch $marker
check "the dlrepo user and group exist" sh -c 'id -u dlrepo && getent group dlrepo'
check "/var/lib/dlrepo is 750 dlrepo:dlrepo" sh -c '[ "$(stat -c "%a %U:%G" /var/lib/dlrepo)" = "750 dlrepo:dlrepo" ]'
check "/etc/dlrepo/auth is 640 root:dlrepo" sh -c '[ "$(stat -c "%a %U:%G" /etc/dlrepo/auth)" = "640 root:dlrepo" ]'
check "/etc/dlrepo/acls is a folder" test -d /etc/dlrepo/acls
check "dlrepo.socket is enabled" test -L /etc/systemd/system/sockets.target.wants/dlrepo.socket
check "dlrepo.service is not enabled" sh -c '! ls /etc/systemd/system/*.wants/dlrepo.service'
check "the launcher uses the class-data sharing archive made at install" \
	sh -c '/usr/bin/dlrepo --print-command | grep -q -- "-XX:SharedArchiveFile=/var/cache/dlrepo/dlrepo-.*\.jsa"'
upstream=$(dpkg-deb -f "$deb" Version | sed 's/^[0-9]*://; s/-[^-]*$//')
check "dlrepo --version prints the package's version ($upstream)" \
	sh -c '[ "$(/usr/bin/dlrepo --version)" = "dlrepo $1" ]' - "$upstream"
check "the jar's manifest has the package's version" \
	sh -c 'python3 -c "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read(\"META-INF/MANIFEST.MF\").decode())" \
		/usr/share/dlrepo/dlrepo.jar | tr -d "\r" | grep -qx "Implementation-Version: $1"' - "$upstream"
check "dlrepo --check-config accepts the installed configuration (as the service user)" \
	sh -c 'set -a && . /etc/default/dlrepo && set +a && setpriv --reuid=dlrepo --regid=dlrepo --init-groups /usr/bin/dlrepo --check-config'
check "dlrepo refuses an unknown argument with exit status 2" \
	sh -c '/usr/bin/dlrepo --bogus 2>/dev/null; [ $? = 2 ]'

### run it as dlrepo.service would

unit=/lib/systemd/system/dlrepo.service
socket=/lib/systemd/system/dlrepo.socket
user=$(sed -n 's/^User=//p' $unit)
group=$(sed -n 's/^Group=//p' $unit)
execstart=$(sed -n 's/^ExecStart=//p' $unit)
envfile=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' $unit)
listen=$(sed -n 's/^ListenStream=//p' $socket)
check "the service reads /etc/default/dlrepo" test "$envfile" = /etc/default/dlrepo
check "the socket listens on 127.0.0.1:1337" test "$listen" = 127.0.0.1:1337
# fd 3 (LISTEN_FDS): with StandardInput=socket, "systemctl reload" makes the socket
# blocking and the next stop hangs (see dlrepo.service)
check "the service gets the socket as fd 3, not on standard input" sh -c '! grep -qx StandardInput=socket "$1"' - $unit
if grep -qx StandardInput=socket $unit; then
	inetd=--inetd
	how="(standard input)"
else
	inetd=
	how="(LISTEN_FDS (fd 3))"
fi
# the unit's address, on a free port (1337 may be taken on a developer's machine)
host=${listen%:*}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# users and ACLs: anonymous read, one writer
cp -a /etc/dlrepo "$work/etc-dlrepo"
echo 'r /**' >/etc/dlrepo/acls/ANONYMOUS
echo 'rw /**' >/etc/dlrepo/acls/ci
echo 'ci:secret:ci' >/etc/dlrepo/auth

# the environment file, as systemd reads it (KEY=value lines), plus a verbose log
set --
while IFS= read -r line; do
	case $line in
	'' | '#'*) continue ;;
	*=*) ;;
	*) continue ;;
	esac
	key=${line%%=*}
	value=${line#*=}
	value=${value#\'}
	value=${value%\'}
	value=${value#\"}
	value=${value%\"}
	set -- "$@" -E "$key=$value"
done <"$envfile"
set -- "$@" -E DLREPO_ROOT_DIR=/var/lib/dlrepo -E DLREPO_LOG_LEVEL=INFO

# setpriv execs (like runuser, without staying as the parent): $! is the JVM's pid
# once systemd-socket-activate and the launcher have exec'ed it.
# shellcheck disable=SC2086 # ExecStart= is split into words, as systemd does
setpriv --reuid="$user" --regid="$group" --init-groups \
	systemd-socket-activate $inetd -l "$host:$port" "$@" $execstart \
	>/dev/null 2>"$work/daemon.log" &
daemon=$!
i=0
until grep -q "Listening on" "$work/daemon.log" 2>/dev/null || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
url=http://$host:$port
code=$(curl -s -o "$work/branches.json" -w '%{http_code}' --max-time 60 "$url/branches/" || true)
check "GET /branches/ (anonymous) is 200" test "$code" = 200
check "the daemon runs as $user" sh -c '[ "$(stat -c %U /proc/$1)" = "$2" ]' - "$daemon" "$user"
check "the daemon is the JVM started by $execstart" sh -c 'tr "\0" " " </proc/$1/cmdline | grep -q "java .*-jar /usr/share/dlrepo/dlrepo.jar"' - "$daemon"
check "the JVM mapped the class-data sharing archive" grep -q '/var/cache/dlrepo/dlrepo-.*\.jsa' /proc/$daemon/maps
check "the log names the socket from systemd $how" \
	grep -qF "serving /var/lib/dlrepo on the socket from systemd $how" "$work/daemon.log"
check "the daemon did not bind a port itself" sh -c '! grep -q " on http://" "$1"' - "$work/daemon.log"
check "the log is in syslog form (not a terminal)" grep -q '^<6>' "$work/daemon.log"

name=$(printf 'h\303\251llo w\303\266rld.txt')
printf 'hello\n' >"$work/file"
digest=sha256:$(sha256sum "$work/file" | cut -d' ' -f1)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 -u ci:secret -X PUT -H "Digest: $digest" \
	--data-binary @"$work/file" "$url/branches/main/1.0/build/deb/h%C3%A9llo%20w%C3%B6rld.txt" || true)
check "PUT of a file with a non-ASCII name as an authenticated user is 201" test "$code" = 201
check "the file is in /var/lib/dlrepo, owned by dlrepo" \
	sh -c '[ "$(stat -c %U "/var/lib/dlrepo/branches/main/1.0/build/deb/$1")" = dlrepo ]' - "$name"
code=$(curl -s -o "$work/got" -w '%{http_code}' --max-time 60 "$url/branches/main/1.0/build/deb/h%C3%A9llo%20w%C3%B6rld.txt" || true)
check "GET of it (anonymous) is 200 with the content" sh -c '[ "$1" = 200 ] && cmp -s "$2" "$3"' - "$code" "$work/file" "$work/got"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 -X PUT --data-binary @"$work/file" "$url/branches/main/1.0/build/deb/x" || true)
check "PUT as anonymous is refused (401)" test "$code" = 401
if [ -f dlrepo-cli ]; then
	code=$(curl -s -o "$work/cli" -w '%{http_code}' --max-time 60 "$url/cli" || true)
	check "GET /cli serves the installed dlrepo-cli" sh -c '[ "$1" = 200 ] && [ -s "$2" ]' - "$code" "$work/cli"
	check "dlrepo-cli runs" sh -c 'dlrepo-cli --help >/dev/null'
fi

kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
daemon=
check "SIGTERM: exit status 0" test "$rc" = 0
check "SIGTERM: 'stopped' logged" grep -q "stopped" "$work/daemon.log"
rm -rf /etc/dlrepo
cp -a "$work/etc-dlrepo" /etc/dlrepo
if [ "$failed" != 0 ]; then
	sed 's/^/    daemon: /' "$work/daemon.log"
fi

### man pages and units

pages=$(dpkg -L dlrepo | grep '^/usr/share/man/man./.*\.gz$' || true)
for page in $pages; do
	if [ -f "$page" ]; then
		check "man -l $page renders without warnings" sh -c '
			out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null)
			[ -z "$out" ] || { printf "%s\n" "$out"; exit 1; }
			[ "$(MANWIDTH=80 man -l "$1" 2>/dev/null | wc -l)" -gt 10 ]' - "$page"
	else
		# dpkg may be told not to install man pages (path-exclude)
		echo "# $page: not installed here (dpkg path-exclude?)"
	fi
done
check "every man page of docs/ is installed" sh -c '[ "$(ls docs/*.scdoc | wc -l)" = "$(printf "%s\n" "$1" | grep -c .)" ]' - "$pages"

if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify $socket $unit >"$work/verify.log" 2>&1 || true
	# only what is about our units, and not a missing man page or binary
	grep -i 'dlrepo' "$work/verify.log" | grep -v "Command 'man \|/usr/bin/dlrepo.*No such file\|is not executable" >"$work/verify.bad" || true
	check "systemd-analyze verify: no complaint about the units" sh -c '! [ -s "$1" ] || { cat "$1"; exit 1; }' - "$work/verify.bad"
fi

### remove, purge

DEBIAN_FRONTEND=noninteractive apt-get remove -y -q dlrepo >/dev/null 2>&1
check "remove: /usr/bin/dlrepo is gone" test ! -e /usr/bin/dlrepo
check "remove: /var/cache/dlrepo is gone" test ! -e /var/cache/dlrepo
check "remove: /etc/default/dlrepo is kept" test -f /etc/default/dlrepo
check "remove: /var/lib/dlrepo is kept" test -d /var/lib/dlrepo
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q dlrepo >/dev/null 2>&1
check "purge: /etc/default/dlrepo and /etc/dlrepo are gone" sh -c '[ ! -e /etc/default/dlrepo ] && [ ! -e /etc/dlrepo ]'
check "purge: the socket is no longer enabled" test ! -e /etc/systemd/system/sockets.target.wants/dlrepo.socket
check "purge: the data and its user are kept" sh -c '[ -f /var/lib/dlrepo/branches/main/1.0/build/deb/"$1" ] && id dlrepo' - "$name"
# what an admin would do to remove the data for good
rm -rf /var/lib/dlrepo
deluser --system --quiet dlrepo >/dev/null 2>&1 || true

echo "package-check: $passed passed, $failed failed"
[ "$failed" = 0 ]
