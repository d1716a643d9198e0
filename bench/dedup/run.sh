#!/usr/bin/env bash
# bench/dedup/run.sh: the normal CI deduplication (dlrepo-cli's HEAD probe with Digest,
# then PUT with X-Dlrepo-Link and no body, for every file, into a new tag of the same
# branch), timed on the code before a change and after it, in the same run, with
# authentication on and the ACLs of etc/acls-examples/3-user-repositories.
# A benchmark, not a test: it prints figures and never fails on them (it stops if a probe
# or a link does not succeed: the deduplication must keep working).
#
#   bench/dedup/run.sh                    # 1000 files, 7 rounds, before = merge-base with main
#   BENCH_BEFORE=main bench/dedup/run.sh
#
# Each daemon gets its own root; the same N files (random bytes, 1-64 KiB) are uploaded
# once into tag 0 of /~alice/branches/ci/ (finalized), then every round links all of them
# into a new tag on both daemons, the order alternating between rounds, after ten
# untimed warm-up rounds (JIT). Reports the median and best wall time, the time per probe
# and per link (client side, summed over requests), the server CPU seconds, and the
# ratios after / before.
#
# Environment (all optional):
#   BENCH_BEFORE       git ref of the code before the change   (git merge-base HEAD main)
#   BENCH_BEFORE_JAR   a jar to use as "before" instead of building BENCH_BEFORE
#   BENCH_AFTER_JAR    a jar to use as "after" instead of building the working tree
#   BENCH_FILES        number of files                          (1000)
#   BENCH_REPS         timed rounds                             (7)
#   BENCH_WARMUP       untimed rounds first, for the JIT        (10: with fewer, the C2
#                      compiler thread still takes half the CPU of the timed rounds)
#   BENCH_PARALLEL     client threads (dlrepo-cli -p; its default is 4) (1)
#   BENCH_FSYNC        DLREPO_FSYNC of both daemons             (0: measure the code, not the disk)
#   BENCH_PROBE_ONLY=1 time the probes alone (HEAD with Digest, no link), where the
#                      search for a readable copy is the whole difference
#   BENCH_TMPDIR       parent of the work folder                (/var/tmp)
#   BENCH_BUILD_DIR    where the jars are built                 (${TMPDIR:-/tmp}/build-bench-dedup)
#   BENCH_MVN_FLAGS    extra flags for mvn (e.g. -o offline)
#   BENCH_QUIET_MAX / BENCH_QUIET_WAIT  before each timed round, wait until the CPUs are
#                      at most this % busy, for at most this many seconds (10 / 30)
#   BENCH_KEEP=1       keep the work folder (daemon logs) at the end
#
# Requires: git, java 17+, mvn, python3.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${BENCH_BUILD_DIR:-${TMPDIR:-/tmp}/build-bench-dedup}
BASE=${BENCH_TMPDIR:-/var/tmp}
read -r -a MVN_FLAGS <<<"${BENCH_MVN_FLAGS:-}"

die() { printf 'bench/dedup: %s\n' "$*" >&2; exit 1; }
for tool in git java mvn python3; do
    command -v "$tool" >/dev/null || die "missing: $tool (the script installs nothing)"
done

build() { # <source dir> <build dir>
    (cd "$1" && mvn -B -q "${MVN_FLAGS[@]}" package -Dmaven.test.skip=true -Ddlrepo.buildDir="$2") >&2 \
        || die "build of $1 failed"
}

if [ -n "${BENCH_BEFORE_JAR:-}" ]; then
    BEFORE_JAR=$BENCH_BEFORE_JAR
    BEFORE_DESC=$BEFORE_JAR
else
    ref=${BENCH_BEFORE:-$(git -C "$REPO" merge-base HEAD main)}
    commit=$(git -C "$REPO" rev-parse --verify "$ref^{commit}") || die "BENCH_BEFORE=$ref: not a commit"
    BEFORE_JAR=$BUILD_DIR/$commit/dlrepo.jar
    BEFORE_DESC="$ref ($(git -C "$REPO" log -1 --format='%h %s' "$commit" | cut -c1-70))"
    if [ ! -f "$BEFORE_JAR" ]; then
        src=$BUILD_DIR/$commit-src
        rm -rf "$src" && mkdir -p "$src"
        git -C "$REPO" archive "$commit" | tar -x -C "$src"
        echo "building $BEFORE_DESC ..." >&2
        build "$src" "$BUILD_DIR/$commit"
        rm -rf "$src"
    fi
fi
if [ -n "${BENCH_AFTER_JAR:-}" ]; then
    AFTER_JAR=$BENCH_AFTER_JAR
    AFTER_DESC=$AFTER_JAR
else
    AFTER_JAR=$BUILD_DIR/worktree/dlrepo.jar
    AFTER_DESC="working tree of $(git -C "$REPO" log -1 --format='%h' HEAD)$(git -C "$REPO" diff --quiet HEAD -- src pom.xml || echo ' (modified)')"
    if [ ! -f "$AFTER_JAR" ] || [ -n "$(find "$REPO/src/main" "$REPO/pom.xml" -newer "$AFTER_JAR" -print -quit)" ]; then
        echo "building the working tree ..." >&2
        build "$REPO" "$BUILD_DIR/worktree"
    fi
fi
[ -f "$BEFORE_JAR" ] || die "no jar $BEFORE_JAR"
[ -f "$AFTER_JAR" ] || die "no jar $AFTER_JAR"

mkdir -p "$BASE"
WORK=$(mktemp -d "$BASE/dlrepo-bench-dedup.XXXXXX")
cleanup() {
    if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "dlrepo dedup benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r);" \
    "work folder on $(findmnt -no SOURCE,FSTYPE -T "$WORK" 2>/dev/null | tr -s ' ' || echo '?')"
echo "java: $(java -version 2>&1 | head -n 1)"
echo "before: $BEFORE_DESC"
echo "after:  $AFTER_DESC"
python3 "$HERE/dedup.py" --before "$BEFORE_JAR" --after "$AFTER_JAR" \
    --acls "$REPO/etc/acls-examples/3-user-repositories" --work "$WORK" \
    --files "${BENCH_FILES:-1000}" --reps "${BENCH_REPS:-7}" --warmup "${BENCH_WARMUP:-10}" --parallel "${BENCH_PARALLEL:-1}" \
    --fsync "${BENCH_FSYNC:-0}" $([ "${BENCH_PROBE_ONLY:-0}" = 1 ] && echo --probe-only) --quiet-max "${BENCH_QUIET_MAX:-10}" --quiet-wait "${BENCH_QUIET_WAIT:-30}"
