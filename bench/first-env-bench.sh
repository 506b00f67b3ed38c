#!/usr/bin/env bash
# first-env-bench.sh - the first environment on the built-in base from nothing: an empty
# store, `devenv init` (the default template: Debian bookworm + ca-certificates, git, make)
# then `devenv run --no-tty -- true`, against `mmdebstrap` alone bootstrapping the same suite,
# variant and packages into a tarball. Both download from the host's Debian mirror, so the
# network is part of both numbers; runs alternate.
# Target: devenv <= 15 s (issue 17); the ratio to mmdebstrap says how much is devenv's own.
# With BENCH_RESULTS=FILE, appends `name value target` lines for bench/all.sh.
#
# Env: RUNS (default 1), DEVENV (default .build/release/devenv), MIRROR (default
#      http://deb.debian.org/debian), KEEP=1 keeps the work dir.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-1}
DEVENV=${DEVENV:-$PWD/.build/release/devenv}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
die() { printf 'first-env-bench: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$DEVENV" ] || die "no $DEVENV; run: swift build -c release"
command -v mmdebstrap >/dev/null || die "mmdebstrap missing (apt-get install mmdebstrap)"

work=$(mktemp -d /var/tmp/first-env-bench.XXXXXX)
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

seconds() { awk -v s="$1" -v e="$2" 'BEGIN {printf "%.2f\n", e - s}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
: > "$work/devenv.s"; : > "$work/mmdebstrap.s"
for i in $(seq "$RUNS"); do
  mkdir -p "$work/$i/project"
  start=$EPOCHREALTIME
  (cd "$work/$i/project" && DEVENV_HOME=$work/$i/store "$DEVENV" init >/dev/null \
    && DEVENV_HOME=$work/$i/store "$DEVENV" run --no-tty -- true) > "$work/$i/devenv.log" 2>&1 || die "devenv failed: $(tail -5 "$work/$i/devenv.log")"
  end=$EPOCHREALTIME
  seconds "${start/,/.}" "${end/,/.}" >> "$work/devenv.s"

  start=$EPOCHREALTIME
  mmdebstrap --mode=root --format=tar --variant=minbase --include=ca-certificates,git,make \
    bookworm "$work/$i/rootfs.tar" "$MIRROR" > "$work/$i/mmdebstrap.log" 2>&1 || die "mmdebstrap failed: $(tail -5 "$work/$i/mmdebstrap.log")"
  end=$EPOCHREALTIME
  seconds "${start/,/.}" "${end/,/.}" >> "$work/mmdebstrap.s"
  printf 'run %d: devenv init + run %s s, mmdebstrap %s s\n' "$i" "$(tail -1 "$work/devenv.s")" "$(tail -1 "$work/mmdebstrap.s")"
done
d=$(median < "$work/devenv.s"); m=$(median < "$work/mmdebstrap.s")
printf 'median: devenv %s s (target <= 15), mmdebstrap %s s, ratio %.2f\n' "$d" "$m" "$(awk -v a="$d" -v b="$m" 'BEGIN {print a / b}')"
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${BENCH_RESULTS:-}" ]; then
  printf 'first-env.devenv-seconds %s <=15\n' "$d" >> "$BENCH_RESULTS"
  printf 'first-env.devenv/mmdebstrap %.2f -\n' "$(awk -v a="$d" -v b="$m" 'BEGIN {print a / b}')" >> "$BENCH_RESULTS"
fi
