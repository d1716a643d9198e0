#!/bin/sh
# tests/readme-check.sh: run the README's walk-through against a real "make run",
# so that it stays true.
#
# Every line of README.md indented by four spaces that starts with "$ " is a
# command (a line ending with "\" goes on on the next one); the indented lines
# right under a command are lines it must print (compared with the ends trimmed
# and runs of spaces squeezed; "..." in them stands for any text). The commands
# run in order, in one bash script started in the repository folder, the way
# someone pasting them into a terminal would, against "make run" on a free port
# with a new root folder: "127.0.0.1:1337" becomes that port, and curl is
# "curl -sS --fail-with-body" (an HTTP error fails the command). Each command
# must exit with 0 (pipefail: every command of a pipeline) and print its lines;
# the check stops at the first that does not, and names its README line.
#
# Needs what "make run" needs, bash, curl, python3 and skopeo (.ci/run installs
# them): a missing tool fails the check, it is never skipped.
set -eu
cd "$(dirname "$0")/.."

for tool in bash curl python3 skopeo make java mvn sha256sum tar setsid; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "readme-check: $tool is not installed (.ci/run installs what this check needs)" >&2
		exit 1
	fi
done

work=$(mktemp -d)
daemon=
cleanup() {
	if [ -n "$daemon" ]; then
		# "make run" and its java, in their own process group (setsid below)
		kill -TERM "-$daemon" 2>/dev/null || kill -TERM "$daemon" 2>/dev/null || true
		wait "$daemon" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
root=$work/root

# the script first: a README without commands is an error, before anything starts
python3 - README.md "$port" >"$work/walk.sh" <<'EOF'
import re
import shlex
import sys

readme, port = sys.argv[1], sys.argv[2]
lines = open(readme, encoding="utf-8").read().split("\n")
commands = []  # (README line number, command text, expected lines)
i = 0
while i < len(lines):
    line = lines[i]
    if not line.startswith("    $ "):
        i += 1
        continue
    number = i + 1
    text = [line[6:]]
    while text[-1].endswith("\\") and i + 1 < len(lines):
        i += 1
        text.append(lines[i][4:] if lines[i].startswith("    ") else lines[i])
    i += 1
    expected = []
    while i < len(lines) and lines[i].startswith("    ") and not lines[i].startswith("    $ ") \
            and lines[i].strip():
        expected.append(lines[i].strip())
        i += 1
    commands.append((number, "\n".join(text), expected))

if not commands:
    sys.exit("readme-check: no command (a line '    $ ...') in " + readme)

q = shlex.quote
out = ["""set -uo pipefail
curl() { command curl -sS --fail-with-body "$@"; }
__out=$(mktemp)
__passed=0
__fail() {
    echo "readme-check: README.md:$__line failed ($1):"
    printf '%s\\n' "$__text" | sed 's/^/    $ /'
    awk '{ print "    | " $0 }' "$__out"
    echo "readme-check: $__passed passed, 1 failed"
    exit 1
}
# __expect LINE PATTERN: a line of the output (ends trimmed, spaces squeezed) is
# PATTERN (a bash pattern: the README line with its "..." as *)
__expect() {
    local l
    while IFS= read -r l; do
        # shellcheck disable=SC2053 # $2 is a pattern
        if [[ $l == $2 ]]; then return 0; fi
    done < <(awk 1 "$__out" | tr -d '\\r' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | tr -s ' ')
    __fail "no line \\"$1\\" in its output"
}
"""]
for number, text, expected in commands:
    run = text.replace("127.0.0.1:1337", "127.0.0.1:" + port)
    out.append("__line=%d\n__text=%s\n" % (number, q(text)))
    out.append("{\n%s\n} >\"$__out\" 2>&1 </dev/null || __fail \"exit status $?\"\n" % run)
    for e in expected:
        e = " ".join(e.replace("127.0.0.1:1337", "127.0.0.1:" + port).split())
        pattern = "*".join(re.sub(r"([][*?\\])", r"\\\1", part) for part in e.split("..."))
        out.append("__expect %s %s\n" % (q(e), q(pattern)))
    out.append("__passed=$((__passed + 1))\necho \"ok $__passed - README.md:$__line\"\n")
out.append('echo "readme-check: $__passed passed, 0 failed"\n')
print("".join(out), end="")
EOF

# the daemon, in its own process group so that all of it stops at the end
setsid make run PORT="$port" ROOT="$root" </dev/null >"$work/daemon.log" 2>&1 &
daemon=$!
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/branches/" 2>/dev/null)" = 200 ]; do
	if ! kill -0 "$daemon" 2>/dev/null || [ $i -ge 1200 ]; then
		sed 's/^/    daemon: /' "$work/daemon.log"
		echo "readme-check: make run PORT=$port ROOT=$root did not answer"
		exit 1
	fi
	sleep 0.5
	i=$((i + 1))
done
echo "readme-check: make run PORT=$port ROOT=$root"

# mktemp in the walk-through makes its folder in $work (removed at the end)
rc=0
TMPDIR=$work bash "$work/walk.sh" || rc=$?
if [ $rc != 0 ]; then
	sed 's/^/    daemon: /' "$work/daemon.log" | tail -40
fi
exit $rc
