#!/usr/bin/env bash
# start-bench.sh - warm start of a container that runs `true`, in one run, interleaved:
#   devenv  `devenv run --image busybox --no-tty -- true`  (overlay rootfs, seccomp, full /dev,
#                                                           masked /proc, the working tree mounted)
#   bwrap   the same busybox rootfs bound read-only, new namespaces, /proc, /dev
#   podman  `podman run --rm localhost/base/busybox:1 true`
# Prints the medians, the ratios devenv/bwrap (target <= 3) and podman/devenv
# (target >= 20), and the peak RSS of each (GNU time; target for devenv <= 30 MB).
#
# Needs: root, bwrap, podman with localhost/base/busybox:1 and the busybox rootfs from
# /work/shared/tools/peers-setup.sh, GNU time (/usr/bin/time), and a release build
# (`swift build -c release -Xswiftc -static-stdlib`, as the quickstart builds it). devenv gets its own store in a temporary directory; the
# busybox rootfs tarball is imported into it first.
#
# Env: RUNS (default 30), WARMUP (default 3), DEVENV (default .build/release/devenv),
#      PEERS (default /var/lib/devenv-peers), KEEP=1 keeps the temporary store.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
DEVENV=${DEVENV:-$PWD/.build/release/devenv}
PEERS=${PEERS:-/var/lib/devenv-peers}
ROOTFS=$PEERS/src/busybox-rootfs
TARBALL=$PEERS/src/busybox-rootfs.tar
PODMAN_IMAGE=localhost/base/busybox:1

die() { printf 'start-bench: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (rootful bwrap and podman are the reference)"
[ -x "$DEVENV" ] || die "no $DEVENV; run: swift build -c release -Xswiftc -static-stdlib"
command -v bwrap >/dev/null || die "bwrap missing (apt-get install bubblewrap)"
command -v podman >/dev/null || die "podman missing (/work/shared/tools/peers-setup.sh installs it)"
[ -x /usr/bin/time ] || die "GNU time missing (apt-get install time)"
[ -d "$ROOTFS" ] && [ -f "$TARBALL" ] || die "no busybox rootfs under $PEERS/src (run /work/shared/tools/peers-setup.sh)"
podman image exists "$PODMAN_IMAGE" || die "podman has no $PODMAN_IMAGE (run /work/shared/tools/peers-setup.sh)"

work=$(mktemp -d /var/tmp/start-bench.XXXXXX)
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
export DEVENV_HOME=$work/store
mkdir -p "$work/tree"
cd "$work/tree"
"$DEVENV" image import "$TARBALL" --tag busybox >/dev/null

devenv_cmd=("$DEVENV" run --image busybox --no-tty -- true)
bwrap_cmd=(bwrap --unshare-all --share-net --die-with-parent --ro-bind "$ROOTFS" / --proc /proc --dev /dev
           --tmpfs /tmp --bind "$work/tree" /tmp/workspace --chdir /tmp/workspace true)
podman_cmd=(podman run --rm --network host "$PODMAN_IMAGE" true)

# Each must really work before it is timed.
"${devenv_cmd[@]}" || die "devenv run failed"
"${bwrap_cmd[@]}" || die "bwrap failed"
"${podman_cmd[@]}" || die "podman run failed"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# EPOCHREALTIME (bash 5) reads the clock without forking, so nothing but the command is timed.
time_ms() {
  local start end
  start=$EPOCHREALTIME; "$@" >/dev/null; end=$EPOCHREALTIME
  awk -v s="${start/,/.}" -v e="${end/,/.}" 'BEGIN {printf "%.2f\n", (e - s) * 1000}'
}
peak_rss_kb() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'; }

for _ in $(seq "$WARMUP"); do
  "${devenv_cmd[@]}"; "${bwrap_cmd[@]}"; "${podman_cmd[@]}"
done

: > "$work/devenv.ms"; : > "$work/bwrap.ms"; : > "$work/podman.ms"
# devenv and bwrap swap places every round, so neither always follows the other; podman
# goes last and gets a moment to finish its cleanup (conmon, `podman container cleanup`),
# which otherwise runs on into the next round's measurements.
for round in $(seq "$RUNS"); do
  if (( round % 2 )); then
    time_ms "${devenv_cmd[@]}" >> "$work/devenv.ms"
    time_ms "${bwrap_cmd[@]}" >> "$work/bwrap.ms"
  else
    time_ms "${bwrap_cmd[@]}" >> "$work/bwrap.ms"
    time_ms "${devenv_cmd[@]}" >> "$work/devenv.ms"
  fi
  time_ms "${podman_cmd[@]}" >> "$work/podman.ms"
  sleep 0.3
done

devenv_ms=$(median < "$work/devenv.ms")
bwrap_ms=$(median < "$work/bwrap.ms")
podman_ms=$(median < "$work/podman.ms")
devenv_rss=$(peak_rss_kb "${devenv_cmd[@]}")
bwrap_rss=$(peak_rss_kb "${bwrap_cmd[@]}")
podman_rss=$(peak_rss_kb "${podman_cmd[@]}")

printf '%-8s %12s %14s\n' tool "median ms" "peak RSS MB"
for tool in devenv bwrap podman; do
  ms_var=${tool}_ms rss_var=${tool}_rss
  printf '%-8s %12s %14s\n' "$tool" "${!ms_var}" "$(awk -v k="${!rss_var}" 'BEGIN {printf "%.1f", k/1024}')"
done
awk -v d="$devenv_ms" -v b="$bwrap_ms" -v p="$podman_ms" -v r="$devenv_rss" 'BEGIN {
  printf "devenv/bwrap  %.2fx (target <= 3)\n", d / b
  printf "podman/devenv %.2fx (target >= 20)\n", p / d
  printf "devenv peak RSS %.1f MB (target <= 30)\n", r / 1024
}'
printf 'runs: %s each, interleaved after %s warm-up rounds; load average: %s\n' "$RUNS" "$WARMUP" "$(cut -d' ' -f1-3 /proc/loadavg)"
