#!/usr/bin/env bash
# pull-bench.sh - time `devenv pull` of the Debian bookworm image from the local registry
# into a fresh store (download, verify, unpack into snapshots) against
# `podman pull --tls-verify=false` of the same image into a fresh podman storage root
# (`podman rmi` alone would only untag: peers-setup.sh keeps the same layers under
# localhost/base/bookworm:12), alternating, in the same run. Also times
# `devenv pull --no-unpack` (download and verify only) for reference.
# Prints each run, the medians and the ratio devenv/podman (target <= 0.6).
#
# Needs: root (podman's rootful storage), the peers registry on 127.0.0.1:5000 with
# base/bookworm:12 (shared/tools/peers-setup.sh; re-run it if the registry is down, it
# is idempotent), and a release build (`swift build -c release`).
#
# Fairness: every run of either tool starts with `sync` and dropped page/dentry/inode
# caches (echo 3 > /proc/sys/vm/drop_caches) and writes into a fresh store on the same
# filesystem; medians are reported.
#
# Env: RUNS (default 5), DEVENV (default .build/release/devenv), IMAGE (default
#      127.0.0.1:5000/base/bookworm:12), KEEP=1 keeps the temporary stores,
#      WORKDIR (default /var/tmp; e.g. /dev/shm for tmpfs) holds the stores.
#      AS_USER=NAME runs every devenv as that unprivileged user (rootless: layers are
#      unpacked in its user namespace; it needs subordinate ids, e.g. devenv-test from
#      .ci/ensure-user); podman stays rootful. BASELINE=PATH also times another devenv
#      build (e.g. main's, copied with its devenv-core) the same way, interleaved, and
#      prints devenv/baseline. LINK_MBPS=N puts a loopback proxy in front of the registry
#      that sends each connection at most N MB/s, as a remote registry would (every
#      tool pulls through it); unthrottled, unpacking while downloading cannot gain much
#      when the download takes a fraction of the unpack.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
DEVENV=${DEVENV:-.build/release/devenv}
IMAGE=${IMAGE:-127.0.0.1:5000/base/bookworm:12}
REGISTRY=${IMAGE%%/*}

die() { printf 'pull-bench: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (podman's rootful store is the reference)"
[ -x "$DEVENV" ] || die "no $DEVENV; run: swift build -c release"
command -v podman >/dev/null || die "podman missing (../shared/tools/peers-setup.sh, from the repository root, installs it)"
if ! curl -fs -o /dev/null --max-time 2 "http://$REGISTRY/v2/"; then
  peers=${PEERS_SETUP:-$(cd "$(dirname "$0")/.." && pwd)/../shared/tools/peers-setup.sh}
  [ -x "$peers" ] || die "registry $REGISTRY is down and $peers is missing"
  "$peers" >&2
fi

# Every run writes into fresh directories that are deleted only at the end: right after an
# `rm -rf` of a large tree, ext4 avoids reusing the freed inodes and new files take a slow
# path, which made every run after the first several times slower for both tools.
work=$(mktemp -d "${WORKDIR:-/var/tmp}/pull-bench.XXXXXX")
printf 'stores in %s (%s)\n' "$work" "$(stat -f -c %T "$work")"
cleanup() {
  [ -z "${proxy_pid:-}" ] || kill "$proxy_pid" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${LINK_MBPS:-}" ]; then
  python3 - "$REGISTRY" "$LINK_MBPS" > "$work/proxy.port" <<'PY' &
import socket, sys, threading, time
host, port = sys.argv[1].rsplit(":", 1)
rate = float(sys.argv[2]) * 1e6
def pipe(source, sink, limited):
    start, sent = time.time(), 0
    try:
        while data := source.recv(65536):
            sink.sendall(data)
            sent += len(data)
            if limited and (ahead := sent / rate - (time.time() - start)) > 0:
                time.sleep(ahead)
    except OSError:
        pass
    finally:
        try: sink.shutdown(socket.SHUT_WR)
        except OSError: pass
def serve(client):
    upstream = socket.create_connection((host, int(port)))
    threading.Thread(target=pipe, args=(client, upstream, False), daemon=True).start()
    pipe(upstream, client, True)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(listener.getsockname()[1], flush=True)
while True:
    threading.Thread(target=serve, args=(listener.accept()[0],), daemon=True).start()
PY
  proxy_pid=$!
  for _ in $(seq 50); do [ -s "$work/proxy.port" ] && break; sleep 0.1; done
  [ -s "$work/proxy.port" ] || die "the throttling proxy did not start"
  IMAGE="127.0.0.1:$(cat "$work/proxy.port")/${IMAGE#*/}"
  printf 'through a %s MB/s link: %s\n' "$LINK_MBPS" "$IMAGE"
fi

now() { date +%s.%N; }
# Same starting point for every measured command: dirty data written, caches empty.
cold() { sync; echo 3 > /proc/sys/vm/drop_caches; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {print b - a}'; }

if [ -n "${AS_USER:-}" ]; then
  id "$AS_USER" >/dev/null 2>&1 || die "no user $AS_USER (.ci/ensure-user $AS_USER makes one with subordinate ids)"
  chmod 755 "$work"
  # The user's own HOME (config, credentials) inside the work directory.
  mkdir "$work/home" && chown "$AS_USER:" "$work/home"
  as_user() { setpriv --reuid="$AS_USER" --regid="$AS_USER" --init-groups env -i HOME="$work/home" PATH=/usr/bin:/bin "$@"; }
else
  as_user() { "$@"; }
fi
# A store directory the devenv runs can create.
fresh() { mkdir -p "$1"; [ -z "${AS_USER:-}" ] || chown "$AS_USER:" "$1"; printf '%s/store' "$1"; }

if [ -n "${BASELINE:-}" ]; then
  [ -x "$BASELINE" ] || die "no $BASELINE"
  BASELINE=$(realpath "$BASELINE")
fi
DEVENV=$(realpath "$DEVENV")

devenv_times=() podman_times=() fetch_times=() baseline_times=()
for i in $(seq "$RUNS"); do
  store=$(fresh "$work/store-$i")
  cold; start=$(now)
  as_user "$DEVENV" pull --store "$store" "$IMAGE" >/dev/null
  end=$(now)
  devenv_times+=("$(elapsed "$start" "$end")")
  [ -d "$store/snapshots" ] && [ -n "$(ls -A "$store/snapshots")" ] || die "devenv pull left no unpacked snapshot"

  if [ -n "${BASELINE:-}" ]; then
    store=$(fresh "$work/baseline-$i")
    cold; start=$(now)
    as_user "$BASELINE" pull --store "$store" "$IMAGE" >/dev/null
    end=$(now)
    baseline_times+=("$(elapsed "$start" "$end")")
    printf 'run %d: baseline %.3f s\n' "$i" "${baseline_times[-1]}"
  fi

  store=$(fresh "$work/fetch-$i")
  cold; start=$(now)
  as_user "$DEVENV" pull --no-unpack --store "$store" "$IMAGE" >/dev/null
  end=$(now)
  fetch_times+=("$(elapsed "$start" "$end")")

  root="$work/podman-$i"
  cold; start=$(now)
  podman --root "$root/root" --runroot "$root/run" pull -q --tls-verify=false "$IMAGE" >/dev/null
  end=$(now)
  podman_times+=("$(elapsed "$start" "$end")")
  podman --root "$root/root" --runroot "$root/run" rmi -af >/dev/null 2>&1 || true
  umount "$root/root/overlay" 2>/dev/null || true
  printf 'run %d: devenv %.3f s (download only %.3f s)  podman %.3f s\n' "$i" "${devenv_times[-1]}" "${fetch_times[-1]}" "${podman_times[-1]}"
done
fm=$(printf '%s\n' "${fetch_times[@]}" | median)
printf 'median devenv pull --no-unpack: %.3f s\n' "$fm"
if [ -n "${BASELINE:-}" ]; then
  bm=$(printf '%s\n' "${baseline_times[@]}" | median)
  dm=$(printf '%s\n' "${devenv_times[@]}" | median)
  printf 'median: devenv %.3f s  baseline %.3f s  ratio %.2f\n' "$dm" "$bm" "$(awk -v a="$dm" -v b="$bm" 'BEGIN {print a / b}')"
fi

dm=$(printf '%s\n' "${devenv_times[@]}" | median)
pm=$(printf '%s\n' "${podman_times[@]}" | median)
printf 'median: devenv %.3f s  podman %.3f s  ratio %.2f (target <= 0.60)\n' "$dm" "$pm" "$(awk -v a="$dm" -v b="$pm" 'BEGIN {print a / b}')"
[ -z "${BENCH_RESULTS:-}" ] || printf 'pull/podman %.2f <=0.60\n' "$(awk -v a="$dm" -v b="$pm" 'BEGIN {print a / b}')" >> "$BENCH_RESULTS"
