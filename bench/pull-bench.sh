#!/usr/bin/env bash
# pull-bench.sh - time `devenv pull` of the Debian bookworm image from the local registry
# into a fresh store (download, verify, unpack into snapshots) against
# `podman pull --tls-verify=false` of the same image after `podman rmi`, in the same run.
# Prints each run, the medians and the ratio devenv/podman (target <= 0.6).
#
# Needs: root (podman's rootful storage), the peers registry on 127.0.0.1:5000 with
# base/bookworm:12 (shared/tools/peers-setup.sh; re-run it if the registry is down, it
# is idempotent), and a release build (`swift build -c release`).
#
# Env: RUNS (default 5), DEVENV (default .build/release/devenv), IMAGE (default
#      127.0.0.1:5000/base/bookworm:12), KEEP=1 keeps the temporary stores.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
DEVENV=${DEVENV:-.build/release/devenv}
IMAGE=${IMAGE:-127.0.0.1:5000/base/bookworm:12}
REGISTRY=${IMAGE%%/*}

die() { printf 'pull-bench: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (podman's rootful store is the reference)"
[ -x "$DEVENV" ] || die "no $DEVENV; run: swift build -c release"
command -v podman >/dev/null || die "podman missing (shared/tools/peers-setup.sh installs it)"
if ! curl -fs -o /dev/null --max-time 2 "http://$REGISTRY/v2/"; then
  peers=${PEERS_SETUP:-/work/shared/tools/peers-setup.sh}
  [ -x "$peers" ] || die "registry $REGISTRY is down and $peers is missing"
  "$peers" >&2
fi

work=$(mktemp -d /var/tmp/pull-bench.XXXXXX)
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

devenv_times=() podman_times=()
for i in $(seq "$RUNS"); do
  store="$work/store-$i"
  sync; start=$(now)
  "$DEVENV" pull --store "$store" "$IMAGE" >/dev/null
  end=$(now)
  devenv_times+=("$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')")
  [ -d "$store/snapshots" ] && [ -n "$(ls -A "$store/snapshots")" ] || die "devenv pull left no unpacked snapshot"
  rm -rf "$store"

  podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
  sync; start=$(now)
  podman pull -q --tls-verify=false "$IMAGE" >/dev/null
  end=$(now)
  podman_times+=("$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')")
  printf 'run %d: devenv %.3f s  podman %.3f s\n' "$i" "${devenv_times[-1]}" "${podman_times[-1]}"
done

dm=$(printf '%s\n' "${devenv_times[@]}" | median)
pm=$(printf '%s\n' "${podman_times[@]}" | median)
printf 'median: devenv %.3f s  podman %.3f s  ratio %.2f (target <= 0.60)\n' "$dm" "$pm" "$(awk -v a="$dm" -v b="$pm" 'BEGIN {print a / b}')"
