#!/bin/sh
# shellcheck disable=SC2016,SC2086 # sh -c scripts get their arguments as $1...; pids are numbers
# Runs inside the container booted by tests/systemd-check.sh, as a unit started
# at boot: installs the package and checks dlrepo.socket and dlrepo.service
# under a real systemd. Results go to /mnt/out/results, then it powers off.
exec >/mnt/out/log 2>&1
set -u
results=/mnt/out/results
: >$results
ok() { echo "ok - $*" >>$results; }
not_ok() { echo "not ok - $*" >>$results; }
check() {
	desc=$1
	shift
	if out=$("$@" 2>&1); then ok "$desc"; else
		not_ok "$desc"
		printf '%s\n' "$out" | sed 's/^/    /' >>$results
	fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
finish() {
	journalctl --no-pager -o short-precise -u dlrepo.service -u dlrepo.socket >/mnt/out/journal 2>&1
	echo "done" >>/mnt/out/log
	systemctl poweroff
	exit 0
}

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q /mnt/check/dlrepo.deb >/mnt/out/install.log 2>&1; then
	not_ok "apt-get install of the package (see install.log)"
	finish
fi
ok "apt-get install of the package"
check "dlrepo.socket is enabled" systemctl -q is-enabled dlrepo.socket
check "dlrepo.socket was started by the package" systemctl -q is-active dlrepo.socket
check "dlrepo.service was not started by the package" sh -c '! systemctl -q is-active dlrepo.service'
check "systemd listens on 127.0.0.1:1337" sh -c 'ss -ltnpH "sport = :1337" | grep -q "127.0.0.1:1337.*systemd"'
check "systemd-analyze verify: the units are clean" sh -c '
	out=$(systemd-analyze verify /lib/systemd/system/dlrepo.socket /lib/systemd/system/dlrepo.service 2>&1)
	[ -z "$out" ] || { printf "%s\n" "$out"; exit 1; }'

# an admin's configuration: INFO log, anonymous read, one writer added later
echo DLREPO_LOG_LEVEL=INFO >>/etc/default/dlrepo
echo 'r /**' >/etc/dlrepo/acls/ANONYMOUS

t0=$(now_ms)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 http://127.0.0.1:1337/branches/)
t1=$(now_ms)
check "the first connection starts the service: GET /branches/ is 200" test "$code" = 200
echo "# first request (socket activation, JVM start): $((t1 - t0)) ms" >>$results
check "the service is active (Type=notify: READY=1 arrived)" sh -c \
	'[ "$(systemctl show dlrepo.service -p Type --value) $(systemctl show dlrepo.service -p ActiveState --value)" = "notify active" ]'
pid=$(systemctl show dlrepo.service -p MainPID --value)
echo "# main pid $pid: $(tr '\0' ' ' </proc/$pid/cmdline)" >>$results
echo "# RSS after one request: $(awk '/VmRSS/{print $2, $3}' /proc/$pid/status)" >>$results
check "the main process is the JVM, run as dlrepo" sh -c \
	'[ "$(cat /proc/$1/comm) $(stat -c %U /proc/$1)" = "java dlrepo" ]' - "$pid"
check "the JVM maps the class-data sharing archive" grep -q '/var/cache/dlrepo/dlrepo-.*\.jsa' /proc/$pid/maps
check "the socket is fd 3 of the JVM, stdin is /dev/null" sh -c \
	'[ "$(readlink /proc/$1/fd/0)" = /dev/null ] && readlink /proc/$1/fd/3 | grep -q "^socket:"' - "$pid"
check "the journal says it serves the socket from systemd (fd 3)" sh -c \
	'journalctl -u dlrepo.service -o cat | grep -qF "serving /var/lib/dlrepo on the socket from systemd (LISTEN_FDS (fd 3))"'
check "sandbox: no capabilities, no new privileges" sh -c \
	'grep -q "^CapBnd:[[:space:]]*0000000000000000" /proc/$1/status && grep -q "^NoNewPrivs:[[:space:]]*1" /proc/$1/status' - "$pid"
check "sandbox: /usr and /etc are read-only for the service" sh -c \
	'! nsenter -t "$1" -m -- touch /usr/share/dlrepo/x 2>/dev/null && ! nsenter -t "$1" -m -- touch /etc/dlrepo/x 2>/dev/null' - "$pid"
check "sandbox: /var/lib/dlrepo is writable for the service" sh -c \
	'nsenter -t "$1" -m -- touch /var/lib/dlrepo/.sandbox-check && rm /var/lib/dlrepo/.sandbox-check' - "$pid"
check "sandbox: /home is hidden" sh -c '[ -z "$(nsenter -t "$1" -m -- ls -A /home 2>/dev/null)" ]' - "$pid"

printf 'hello\n' >/root/f
digest=sha256:$(sha256sum /root/f | cut -d' ' -f1)
put() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 60 -u ci:secret -X PUT -H "Digest: $digest" \
		--data-binary @/root/f 'http://127.0.0.1:1337/branches/main/1/job/deb/h%C3%A9llo.txt'
}
code=$(put)
check "PUT by an unknown user is 401" test "$code" = 401
echo 'ci:secret:ci' >/etc/dlrepo/auth
echo 'rw /**' >/etc/dlrepo/acls/ci
check "systemctl reload dlrepo succeeds" systemctl reload dlrepo.service
code=$(put)
check "after the reload (SIGHUP: users re-read) the PUT is 201" test "$code" = 201
check "the file (non-ASCII name) is in /var/lib/dlrepo, owned by dlrepo" sh -c \
	'[ "$(stat -c %U "/var/lib/dlrepo/branches/main/1/job/deb/h$(printf "\303\251")llo.txt")" = dlrepo ]'
check "the same process still serves (reload is no restart)" sh -c \
	'[ "$(systemctl show dlrepo.service -p MainPID --value)" = "$1" ]' - "$pid"
systemctl kill -s USR1 dlrepo.service
sleep 2
check "SIGUSR1 (systemctl kill -s USR1) runs a cleanup" sh -c \
	'journalctl -u dlrepo.service -o cat | grep -q "cleanup (signal"'

t0=$(now_ms)
systemctl stop dlrepo.service 2>/dev/null
t1=$(now_ms)
echo "# systemctl stop dlrepo: $((t1 - t0)) ms" >>$results
check "stop takes less than 10 s (after a reload too)" test $((t1 - t0)) -lt 10000
check "stop: exit status 0, Result=success" sh -c \
	'[ "$(systemctl show dlrepo.service -p ExecMainStatus --value) $(systemctl show dlrepo.service -p Result --value)" = "0 success" ]'
check "stop: the last log lines reached the journal" sh -c \
	'journalctl -u dlrepo.service -o cat | grep -q "^Daemon: stopped"'
check "the socket still listens after the service stopped" systemctl -q is-active dlrepo.socket
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 http://127.0.0.1:1337/branches/main/)
check "the next connection starts it again: 200" test "$code" = 200

apt-get remove -y -q dlrepo >/mnt/out/remove.log 2>&1
check "remove: service and socket stopped" sh -c \
	'! systemctl -q is-active dlrepo.service && ! systemctl -q is-active dlrepo.socket'
check "remove: nothing listens on 1337" sh -c '[ -z "$(ss -ltnH "sport = :1337")" ]'
apt-get purge -y -q dlrepo >>/mnt/out/remove.log 2>&1
check "purge: /etc/dlrepo gone, the artifacts and the dlrepo user kept" sh -c \
	'[ ! -e /etc/dlrepo ] && [ -d /var/lib/dlrepo/branches/main ] && id dlrepo >/dev/null'
finish
