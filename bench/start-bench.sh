#!/usr/bin/env bash
# start-bench.sh - warm start of a container that runs `true`, in one run, interleaved, as
# root and (ROOTLESS=1) as the unprivileged test user:
#   image    `devenv run --image busybox --no-tty -- true`  (overlay rootfs, seccomp, full /dev,
#                                                            masked /proc, the working tree mounted)
#   project  `devenv run --no-tty -- true` in a project on busybox with one `run` and one
#            `copy` step, everything built (the front end's warm record answers it)
#   bwrap    the same busybox rootfs bound read-only, new namespaces, /proc, /dev
#            (rootless: with --unshare-user, as the unprivileged user)
#   podman   `podman run --rm localhost/base/busybox:1 true` (root only)
# Prints the medians, the ratios against bwrap (targets: image <= 3; project <= 3 as root,
# <= 4 rootless), podman/devenv (target >= 20) and devenv's peak RSS (GNU time; target <= 30 MB).
# With BENCH_RESULTS=FILE, appends `name value target` lines for bench/all.sh.
#
# Needs: root (the rootless run drops to USER itself), bwrap, podman with localhost/base/busybox:1
# and the busybox rootfs from ../shared/tools/peers-setup.sh (relative to the repository
# root), GNU time (/usr/bin/time), and a release build (`swift build -c release`).
#
# Env: RUNS (default 30), WARMUP (default 3), DEVENV (default .build/release/devenv),
#      PEERS (default /var/lib/devenv-peers), ROOTLESS=1 (as BENCH_USER, default devenv-test),
#      KEEP=1 keeps the temporary store.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
DEVENV=${DEVENV:-$PWD/.build/release/devenv}
PEERS=${PEERS:-/var/lib/devenv-peers}
ROOTFS=$PEERS/src/busybox-rootfs
TARBALL=$PEERS/src/busybox-rootfs.tar
PODMAN_IMAGE=localhost/base/busybox:1
BENCH_USER=${BENCH_USER:-devenv-test}
SETUP="$REPO/../shared/tools/peers-setup.sh"

die() { printf 'start-bench: %s\n' "$*" >&2; exit 1; }

# The measuring part, run as root or (rootless) as the test user in the prepared directory.
if [ "${START_BENCH_INNER:-0}" = 1 ]; then
  work=$START_BENCH_WORK
  mode=$START_BENCH_MODE
  export DEVENV_HOME=$work/store
  cd "$work/tree"
  "$DEVENV" image import "$TARBALL" --tag busybox >/dev/null
  "$DEVENV" build >/dev/null || die "devenv build of the project failed ($mode)"

  image_cmd=("$DEVENV" run --image busybox --no-tty -- true)
  project_cmd=("$DEVENV" run --no-tty -- true)
  if [ "$mode" = root ]; then
    bwrap_cmd=(bwrap --unshare-all --share-net --die-with-parent --ro-bind "$ROOTFS" / --proc /proc --dev /dev
               --tmpfs /tmp --bind "$work/tree" /tmp/workspace --chdir /tmp/workspace true)
    podman_cmd=(podman run --rm --network host "$PODMAN_IMAGE" true)
  else
    bwrap_cmd=(bwrap --unshare-user --unshare-all --share-net --die-with-parent --ro-bind "$ROOTFS" / --proc /proc --dev /dev
               --tmpfs /tmp --bind "$work/tree" /tmp/workspace --chdir /tmp/workspace true)
    podman_cmd=()
  fi
  # Each must really work before it is timed; the project's inputs must be older than a
  # second for its warm record to be written (racy timestamps, docs/architecture.md).
  sleep 1.2
  "${image_cmd[@]}" || die "devenv run --image failed ($mode)"
  "${project_cmd[@]}" || die "devenv run in the project failed ($mode)"
  "${bwrap_cmd[@]}" || die "bwrap failed ($mode)"
  if [ ${#podman_cmd[@]} -gt 0 ]; then "${podman_cmd[@]}" || die "podman run failed"; fi

  median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
  # EPOCHREALTIME (bash 5) reads the clock without forking, so nothing but the command is timed.
  time_ms() {
    local start end
    start=$EPOCHREALTIME; "$@" >/dev/null; end=$EPOCHREALTIME
    awk -v s="${start/,/.}" -v e="${end/,/.}" 'BEGIN {printf "%.2f\n", (e - s) * 1000}'
  }
  peak_rss_kb() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'; }

  for _ in $(seq "$WARMUP"); do
    "${image_cmd[@]}"; "${project_cmd[@]}"; "${bwrap_cmd[@]}"
    if [ ${#podman_cmd[@]} -gt 0 ]; then "${podman_cmd[@]}"; fi
  done

  : > "$work/image.ms"; : > "$work/project.ms"; : > "$work/bwrap.ms"; : > "$work/podman.ms"
  # The three swap places every round, so none always follows another; podman goes last and
  # gets a moment to finish its cleanup (conmon, `podman container cleanup`), which otherwise
  # runs on into the next round's measurements.
  for round in $(seq "$RUNS"); do
    case $((round % 3)) in
      0) order=(image project bwrap) ;;
      1) order=(bwrap image project) ;;
      2) order=(project bwrap image) ;;
    esac
    for tool in "${order[@]}"; do
      declare -n cmd="${tool}_cmd"
      time_ms "${cmd[@]}" >> "$work/$tool.ms"
      unset -n cmd
    done
    if [ ${#podman_cmd[@]} -gt 0 ]; then time_ms "${podman_cmd[@]}" >> "$work/podman.ms"; sleep 0.3; fi
  done

  image_ms=$(median < "$work/image.ms")
  project_ms=$(median < "$work/project.ms")
  bwrap_ms=$(median < "$work/bwrap.ms")
  image_rss=$(peak_rss_kb "${image_cmd[@]}")
  project_rss=$(peak_rss_kb "${project_cmd[@]}")
  project_target=3; [ "$mode" = rootless ] && project_target=4
  printf '== warm start (%s)\n' "$mode"
  printf '%-16s %10s %14s\n' tool "median ms" "peak RSS MB"
  printf '%-16s %10s %14s\n' "devenv image" "$image_ms" "$(awk -v k="$image_rss" 'BEGIN {printf "%.1f", k/1024}')"
  printf '%-16s %10s %14s\n' "devenv project" "$project_ms" "$(awk -v k="$project_rss" 'BEGIN {printf "%.1f", k/1024}')"
  printf '%-16s %10s\n' "bwrap" "$bwrap_ms"
  result() { printf '%s\n' "$*"; [ -z "${BENCH_RESULTS:-}" ] || printf '%s\n' "$*" >> "$BENCH_RESULTS"; }
  result "$(awk -v d="$image_ms" -v b="$bwrap_ms" -v m="$mode" 'BEGIN {printf "start.image.%s/bwrap %.2f <=3", m, d / b}')"
  result "$(awk -v d="$project_ms" -v b="$bwrap_ms" -v m="$mode" -v t="$project_target" 'BEGIN {printf "start.project.%s/bwrap %.2f <=%s", m, d / b, t}')"
  result "$(awk -v r="$image_rss" -v m="$mode" 'BEGIN {printf "start.image.%s.rss-MB %.1f <=30", m, r / 1024}')"
  if [ ${#podman_cmd[@]} -gt 0 ]; then
    podman_ms=$(median < "$work/podman.ms")
    printf '%-16s %10s\n' "podman" "$podman_ms"
    result "$(awk -v d="$image_ms" -v p="$podman_ms" 'BEGIN {printf "start.podman/image %.2f >=20", p / d}')"
  fi
  printf 'runs: %s each, interleaved after %s warm-up rounds; load average: %s\n' "$RUNS" "$WARMUP" "$(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root (rootful bwrap and podman are the reference; ROOTLESS=1 drops to $BENCH_USER)"
[ -x "$DEVENV" ] || die "no $DEVENV; run: swift build -c release"
command -v bwrap >/dev/null || die "bwrap missing (apt-get install bubblewrap)"
command -v podman >/dev/null || die "podman missing ($SETUP installs it)"
[ -x /usr/bin/time ] || die "GNU time missing (apt-get install time)"
[ -d "$ROOTFS" ] && [ -f "$TARBALL" ] || die "no busybox rootfs under $PEERS/src (run $SETUP)"
podman image exists "$PODMAN_IMAGE" || die "podman has no $PODMAN_IMAGE (run $SETUP)"

work=$(mktemp -d /var/tmp/start-bench.XXXXXX)
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/tree/.devenv"
echo payload > "$work/tree/payload.txt"
cat > "$work/tree/.devenv/devenv.toml" <<'TOML'
[base]
image = "busybox"

[[step]]
run = "echo a > /a"

[[step]]
copy = ["payload.txt"]
to = "/payload.txt"
TOML

export START_BENCH_INNER=1 START_BENCH_WORK=$work RUNS WARMUP DEVENV PEERS TARBALL ROOTFS PODMAN_IMAGE
if [ "${ROOTLESS:-0}" = 1 ]; then
  uid=$(id -u "$BENCH_USER") gid=$(id -g "$BENCH_USER") || die "no user $BENCH_USER (.ci/prepare-host creates it)"
  chmod 755 "$work"
  chown -R "$uid:$gid" "$work"
  # The release binaries must be reachable by the user.
  setpriv --reuid="$uid" --regid="$gid" --init-groups test -x "$DEVENV" || die "$BENCH_USER cannot run $DEVENV"
  setpriv --reuid="$uid" --regid="$gid" --init-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work/home" \
    START_BENCH_INNER=1 START_BENCH_WORK="$work" START_BENCH_MODE=rootless RUNS="$RUNS" WARMUP="$WARMUP" DEVENV="$DEVENV" \
    PEERS="$PEERS" BENCH_RESULTS="${BENCH_RESULTS:-}" bash "$REPO/bench/start-bench.sh"
else
  START_BENCH_MODE=root bash "$REPO/bench/start-bench.sh"
fi
