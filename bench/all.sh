#!/usr/bin/env bash
# all.sh - every benchmark in one go, root and rootless side by side, then one table of the
# ratios with their targets (each ratio comes from one script's run, so its two sides saw
# the same machine). Each script's own output is kept in the work directory.
#
#   start-bench.sh          warm starts (image, project) against bwrap, as root and rootless
#   build-bench.sh          first build, no-op and changed rebuilds against buildah/podman,
#                           rootless no-op against root
#   layer-bench.sh          layer unpack/create against tar (median and spread)
#   pull-bench.sh           pull against podman
#   package-layers-bench.sh bytes pushed after adding a package: one layer per package against one per step
#   services-bench.sh       `devenv up` of postgres to ready against podman run, and a warm psql
#   first-env-bench.sh      `devenv init` + `devenv run -- true` from nothing against mmdebstrap
#                           (needs the network; SKIP_FIRST_ENV=1 leaves it out)
#
# Needs root, a release build (`swift build -c release`; built here when missing) and the peers
# from ../shared/tools/peers-setup.sh (relative to the repository root).
# Env: ONLY="start build" runs a subset; the scripts' own variables pass through.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

[ "$(id -u)" = 0 ] || { echo "all.sh: run as root (the rootless parts drop to the test user)" >&2; exit 1; }
if [[ -z ${DEVENV:-} ]]; then
  echo "== building devenv (release)"
  swift build -c release 2>&1 | tail -n 1
  DEVENV=$(swift build -c release --show-bin-path)/devenv
fi
export DEVENV

WORK=$(mktemp -d /var/tmp/devenv-all-bench.XXXXXX)
chmod 755 "$WORK"
export BENCH_RESULTS=$WORK/results
: > "$BENCH_RESULTS"
# The rootless halves append to it as the test user.
chmod 666 "$BENCH_RESULTS"

ONLY=${ONLY:-start build layer pull package-layers first-env services}
run() { # run NAME SCRIPT [ENV…]
  local name=$1 script=$2; shift 2
  [[ " $ONLY " == *" $name "* ]] || return 0
  echo "== $script $*"
  if env "$@" bash "bench/$script" > "$WORK/$name${*:+-${*//[^a-zA-Z0-9]/_}}.log" 2>&1; then
    tail -n 12 "$WORK/$name${*:+-${*//[^a-zA-Z0-9]/_}}.log"
  else
    echo "   FAILED (log: $WORK/$name${*:+-${*//[^a-zA-Z0-9]/_}}.log)"; tail -n 5 "$WORK/$name${*:+-${*//[^a-zA-Z0-9]/_}}.log"
    echo "$name FAILED -" >> "$BENCH_RESULTS"
  fi
}

run start start-bench.sh ROOTLESS=0
run start start-bench.sh ROOTLESS=1
run build build-bench.sh
run layer layer-bench.sh
run pull pull-bench.sh
run package-layers package-layers-bench.sh
[[ ${SKIP_FIRST_ENV:-0} == 1 ]] || run first-env first-env-bench.sh
run services services-bench.sh

echo
echo "== ratios (devenv / reference unless named otherwise), one run each; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %8s %8s %s\n' measure ratio target ""
while read -r name value target; do
  verdict=""
  if [[ $value != FAILED && -n $target && $target != - ]]; then
    verdict=$(awk -v v="$value" -v t="$target" 'BEGIN {
      op = substr(t, 1, 2); n = substr(t, 3) + 0
      ok = (op == "<=") ? (v <= n) : (v >= n)
      print ok ? "OK" : "MISSED"
    }')
  fi
  printf '%-34s %8s %8s %s\n' "$name" "$value" "$target" "$verdict"
done < "$BENCH_RESULTS"
echo "logs: $WORK"
