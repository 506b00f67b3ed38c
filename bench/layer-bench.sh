#!/usr/bin/env bash
# layer-bench.sh - devenv's layer engine against the standard tools, in one run.
#   (a) unpack a gzip'd layer:  devenv layer unpack   vs  tar -xzf
#   (b) create a zstd layer:     devenv layer create   vs  tar -c | zstd -3 -T0
# Input: the Debian bookworm minbase rootfs tar (~170 MB) made by peers-setup.sh.
# Targets: unpack no slower than tar -xzf; create within 1.2x of tar | zstd.
#
# Both sides run warm (page cache filled by a warmup run), interleaved round by round in a
# rotated order, so load from elsewhere falls on all of them alike. Every unpack extracts
# into a fresh directory (made outside the timed part), and all of them are deleted only at
# the end: ext4 avoids reusing inodes freed in the last 30 s (vm.dirty_expire_centisecs), so
# an `rm -rf` of an 8,700-entry tree shortly before a run makes inode allocation scan the
# inode tables and multiplies system time for any tool (the unpack waits that out first).
# devenv's create fsyncs its output, tar | zstd does not: a third variant adds `sync FILE`
# for reference.
# The machine should be otherwise idle; other builds on the same cores make the numbers
# meaningless (check `uptime` first).
#
# Env: DEVENV (default: a release build of this checkout, built first), RUNS (default 7), SETTLE (seconds waited before the unpack, default 35),
#      BENCH_DIR (work dir, default a fresh dir under /var/tmp),
#      PEERS_HOME (default /var/lib/devenv-peers), KEEP=1 keeps the work dir.
set -euo pipefail

RUNS=${RUNS:-7}
PEERS_HOME=${PEERS_HOME:-/var/lib/devenv-peers}
ROOTFS_TAR=$PEERS_HOME/src/bookworm-minbase.tar
REPO=$(cd "$(dirname "$0")/.." && pwd)

for tool in zstd gzip tar; do
  command -v "$tool" >/dev/null || { echo "layer-bench: $tool is required" >&2; exit 1; }
done

if [[ ! -f $ROOTFS_TAR ]]; then
  echo "layer-bench: $ROOTFS_TAR missing, running peers-setup.sh" >&2
  bash "$REPO/../shared/tools/peers-setup.sh"
fi

if [[ -z ${DEVENV:-} ]]; then
  echo "== building devenv (release)"
  (cd "$REPO" && swift build -c release 2>&1 | tail -n 1)
  DEVENV=$(cd "$REPO" && swift build -c release --show-bin-path)/devenv
fi

WORK=${BENCH_DIR:-$(mktemp -d /var/tmp/devenv-layer-bench.XXXXXX)}
mkdir -p "$WORK"
cleanup() { [[ ${KEEP:-0} == 1 ]] || rm -rf "$WORK"; }
trap cleanup EXIT

echo "== preparing inputs in $WORK"
gzip -c "$ROOTFS_TAR" > "$WORK/layer.tar.gz"
rm -rf "$WORK/tree" && mkdir "$WORK/tree" && tar -xf "$ROOTFS_TAR" -C "$WORK/tree"
printf '   rootfs tar %s bytes, gzip %s bytes, %s entries\n' \
  "$(stat -c %s "$ROOTFS_TAR")" "$(stat -c %s "$WORK/layer.tar.gz")" "$(tar -tf "$ROOTFS_TAR" | wc -l)"

# A fresh, never-deleted output directory for each run, reached through the `out` symlink.
fresh_out="d=\$(mktemp -d '$WORK/runs/out.XXXXXX') && ln -sfn \"\$d\" '$WORK/out'"
mkdir -p "$WORK/runs"
# Median in seconds of a list of microseconds, and the range (slowest - fastest).
median_us() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR] = $1} END {printf "%.3f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) / 1e6}'; }
range_us() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.3f", (hi - lo) / 1e6}'; }

echo "== (a) unpack gzip layer (interleaved)"
# What made the spread: kernel time in ext4's inode allocator (find_inode_bit,
# recently_deleted), which skips inodes freed in the last 30 s (dirty_expire_centisecs) and
# scans inode tables to do so. Any tree deleted on this file system shortly before (an earlier
# bench's clean-up) slows whichever tool runs first, by seconds. So: written back and waited out
# first, then rounds with both tools in turn, each into a fresh directory.
sync
sleep "${SETTLE:-35}"
unpack_cmds=(
  "'$DEVENV' layer unpack '$WORK/layer.tar.gz' '$WORK/out/' --compression gzip >/dev/null"
  "tar -xzf '$WORK/layer.tar.gz' -C '$WORK/out/'"
)
unpack_times=("" "")
for ((round = 0; round < RUNS; round++)); do
  for ((k = 0; k < 2; k++)); do
    i=$(((round + k) % 2))
    bash -c "$fresh_out"
    start=$(date +%s%N)
    bash -c "${unpack_cmds[$i]}"
    unpack_times[$i]+="$((($(date +%s%N) - start) / 1000)) "
  done
done

echo "== (b) create zstd layer (interleaved)"
# Interleaved rounds, not hyperfine's one block per command: the machine's load moves between
# blocks (1.13x and 1.81x in two runs of the same binaries). Each round runs the three in a
# rotated order. The unpack runs above left about a GB of dirty pages: devenv's fsync, first
# in line, would otherwise wait for their writeback too (ext4 data=ordered commits them
# with it), so everything is written back first.
sync
create_cmds=(
  "rm -f '$WORK/devenv.tar.zst' && '$DEVENV' layer create '$WORK/tree' -o '$WORK/devenv.tar.zst' >/dev/null"
  "rm -f '$WORK/tar.tar.zst' && tar -c -C '$WORK/tree' . | zstd -3 -T0 -q > '$WORK/tar.tar.zst'"
  "rm -f '$WORK/tar-sync.tar.zst' && tar -c -C '$WORK/tree' . | zstd -3 -T0 -q > '$WORK/tar-sync.tar.zst' && sync '$WORK/tar-sync.tar.zst'"
)
create_names=("devenv layer create" "tar | zstd -3 -T0" "tar | zstd -3 -T0; sync FILE")
for command in "${create_cmds[@]}"; do bash -c "$command"; done  # warmup
create_times=("" "" "")
for ((round = 0; round < RUNS; round++)); do
  for ((k = 0; k < 3; k++)); do
    i=$(((round + k) % 3))
    start=$(date +%s%N)
    bash -c "${create_cmds[$i]}"
    create_times[$i]+="$((($(date +%s%N) - start) / 1000)) "
  done
done
for i in 0 1 2; do
  printf '   %-30s median %s s  (runs, s: %s)\n' "${create_names[$i]}" "$(median_us "${create_times[$i]}")" \
    "$(tr ' ' '\n' <<<"${create_times[$i]}" | grep . | awk '{printf "%.2f ", $1 / 1e6}')"
done

for i in 0 1; do
  printf '   %-30s median %s s  (runs, s: %s)\n' "$( ((i == 0)) && echo "devenv layer unpack" || echo "tar -xzf")" "$(median_us "${unpack_times[$i]}")" \
    "$(tr ' ' '\n' <<<"${unpack_times[$i]}" | grep . | awk '{printf "%.2f ", $1 / 1e6}')"
done
unpack_devenv=$(median_us "${unpack_times[0]}"); unpack_tar=$(median_us "${unpack_times[1]}")
spread_devenv=$(range_us "${unpack_times[0]}"); spread_tar=$(range_us "${unpack_times[1]}")
create_devenv=$(median_us "${create_times[0]}"); create_tar=$(median_us "${create_times[1]}")
create_tar_sync=$(median_us "${create_times[2]}")
echo
echo "== medians (seconds)"
awk -v a="$unpack_devenv" -v b="$unpack_tar" -v c="$create_devenv" -v d="$create_tar" -v e="$create_tar_sync" -v f="$spread_devenv" -v g="$spread_tar" 'BEGIN {
  printf "unpack  devenv %.3f   tar -xzf %.3f        ratio %.2f  (target <= 1.00) %s\n", a, b, a / b, (a <= b ? "OK" : "MISSED")
  printf "unpack spread (max - min) devenv %.3f   tar -xzf %.3f  ratio %.2f  (target <= 1.50) %s\n", f, g, (g > 0 ? f / g : 0), (f <= 1.5 * g ? "OK" : "MISSED")
  printf "create  devenv %.3f   tar|zstd -3 -T0 %.3f ratio %.2f  (target <= 1.20) %s\n", c, d, c / d, (c <= 1.2 * d ? "OK" : "MISSED")
  printf "        (devenv fsyncs its output; tar|zstd followed by sync FILE: %.3f, ratio %.2f)\n", e, c / e
}'
printf 'sizes   devenv.tar.zst %s bytes, tar.tar.zst %s bytes\n' \
  "$(stat -c %s "$WORK/devenv.tar.zst" 2>/dev/null || echo -)" "$(stat -c %s "$WORK/tar.tar.zst" 2>/dev/null || echo -)"
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
if [[ -n ${BENCH_RESULTS:-} ]]; then
  awk -v a="$unpack_devenv" -v b="$unpack_tar" -v c="$create_devenv" -v d="$create_tar" -v f="$spread_devenv" -v g="$spread_tar" 'BEGIN {
    printf "layer.unpack/tar %.2f <=1.0\n", a / b
    printf "layer.unpack.spread/tar %.2f <=1.5\n", (g > 0 ? f / g : 0)
    printf "layer.create/tar-zstd %.2f <=1.2\n", c / d
  }' >> "$BENCH_RESULTS"
fi
