#!/usr/bin/env bash
# build-bench.sh - devenv build against buildah bud and podman build, in one run, on the
# same small project over a Debian bookworm base:
#   RUN echo a > /a; ENV X=1; COPY payload.txt /payload.txt; RUN cat /a /payload.txt > /b
#   (a) first build (no cache)          devenv build --no-cache   vs  buildah bud --no-cache
#   (b) no-op rebuild (all cached)      devenv build              vs  buildah bud --layers
#   (c) rebuild after payload changes   devenv build              vs  podman build --layers
#   (d) no-op rebuild rootless          devenv build as the test user  vs  the same as root
# Targets: (b) <= 0.05x buildah, (c) <= 0.5x podman, (a) <= 0.7x buildah, (d) <= 1.2x root.
# (d) starts both sides through the same `setpriv … env -i` so they pay the same wrapper.
#
# The base comes from peers-setup.sh (podman storage and an OCI layout of one image), so
# both sides start from identical bytes. The machine should be otherwise idle.
# With BENCH_RESULTS=FILE, appends `name value target` lines for bench/all.sh.
# Env: DEVENV (default: a release build of this checkout, built first), RUNS (default 10), PEERS_HOME (default /var/lib/devenv-peers), BENCH_USER (default
#      devenv-test; ROOTLESS=0 skips (d)), KEEP=1 keeps the work dir.
set -euo pipefail

RUNS=${RUNS:-10}
PEERS_HOME=${PEERS_HOME:-/var/lib/devenv-peers}
REPO=$(cd "$(dirname "$0")/.." && pwd)

for tool in hyperfine jq buildah podman; do
  command -v "$tool" >/dev/null || { echo "build-bench: $tool is required (apt-get install $tool)" >&2; exit 1; }
done
if ! podman image exists localhost/base/bookworm:12 || [[ ! -d $PEERS_HOME/oci/bookworm ]]; then
  echo "build-bench: base images missing, running peers-setup.sh" >&2
  bash "$REPO/../shared/tools/peers-setup.sh"
fi

if [[ -z ${DEVENV:-} ]]; then
  echo "== building devenv (release)"
  (cd "$REPO" && swift build -c release 2>&1 | tail -n 1)
  DEVENV=$(cd "$REPO" && swift build -c release --show-bin-path)/devenv
fi

WORK=$(mktemp -d /var/tmp/devenv-build-bench.XXXXXX)
cleanup() { [[ ${KEEP:-0} == 1 ]] || rm -rf "$WORK"; }
trap cleanup EXIT
export DEVENV_HOME=$WORK/store
PROJECT=$WORK/project
mkdir -p "$PROJECT/.devenv"

"$DEVENV" image import "$PEERS_HOME/oci/bookworm" --ref 12 --tag localhost/base/bookworm:12 >/dev/null
echo payload-0 > "$PROJECT/payload.txt"
cat > "$PROJECT/.devenv/devenv.toml" <<'TOML'
[base]
image = "localhost/base/bookworm:12"

[[step]]
run = "echo a > /a"

[[step]]
env = { X = "1" }

[[step]]
copy = ["payload.txt"]
to = "/payload.txt"

[[step]]
run = "cat /a /payload.txt > /b"
TOML
cat > "$PROJECT/Containerfile" <<'DOCKERFILE'
FROM localhost/base/bookworm:12
RUN echo a > /a
ENV X=1
COPY payload.txt /payload.txt
RUN cat /a /payload.txt > /b
DOCKERFILE

cd "$PROJECT"
buildah_bud="buildah bud --layers -q -t devenv-bench -f Containerfile . >/dev/null"
change_payload="date +%s%N > '$PROJECT/payload.txt'"

echo "== (a) first build, no cache"
hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$WORK/first.json" \
  -n "devenv build --no-cache" "'$DEVENV' build --no-cache >/dev/null" \
  -n "buildah bud --no-cache" "buildah bud --no-cache -q -t devenv-bench -f Containerfile . >/dev/null"

echo "== (b) no-op rebuild"
"$DEVENV" build >/dev/null; eval "$buildah_bud"
hyperfine --style basic --warmup 2 --runs "$RUNS" --export-json "$WORK/noop.json" \
  -n "devenv build (no-op)" "'$DEVENV' build >/dev/null" \
  -n "buildah bud --layers (no-op)" "$buildah_bud"

echo "== (c) rebuild after the copied file changes"
hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$WORK/changed.json" \
  --prepare "$change_payload" \
  -n "devenv build (payload changed)" "'$DEVENV' build >/dev/null" \
  -n "podman build --layers (payload changed)" "podman build --layers -q -t devenv-bench -f Containerfile . >/dev/null"

noop_cases="first:buildah:0.70 noop:buildah:0.05 changed:podman:0.50"
if [[ ${ROOTLESS:-1} == 1 ]]; then
  echo "== (d) no-op rebuild, rootless against root"
  BENCH_USER=${BENCH_USER:-devenv-test}
  uid=$(id -u "$BENCH_USER") gid=$(id -g "$BENCH_USER")
  # The user's own copy of the project and store, built once (its steps run rootless).
  ROOTLESS_WORK=$WORK/rootless
  mkdir -p "$ROOTLESS_WORK"
  cp -a "$PROJECT" "$ROOTLESS_WORK/project"
  # The peers' layout is root's (mode 0600 files): the user imports its own copy.
  cp -a "$PEERS_HOME/oci/bookworm" "$ROOTLESS_WORK/bookworm"
  chmod 755 "$WORK"
  chown -R "$uid:$gid" "$ROOTLESS_WORK"
  as() { # as UID GID STORE -- COMMAND…: the same wrapper for both sides
    local u=$1 g=$2 store=$3; shift 4
    setpriv --reuid="$u" --regid="$g" --init-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent DEVENV_HOME="$store" "$@"
  }
  (cd "$ROOTLESS_WORK/project" && as "$uid" "$gid" "$ROOTLESS_WORK/store" -- "$DEVENV" image import "$ROOTLESS_WORK/bookworm" --ref 12 --tag localhost/base/bookworm:12 >/dev/null \
    && as "$uid" "$gid" "$ROOTLESS_WORK/store" -- "$DEVENV" build >/dev/null)
  # Root's side settles too: (c) left payload.txt changed, and the build that catches up
  # rewrites the lock, which would keep every run within the next second off the warm record.
  (cd "$PROJECT" && as 0 0 "$DEVENV_HOME" -- "$DEVENV" build >/dev/null)
  export -f as
  sleep 1.2 # inputs younger than a second are not trusted by the warm record
  hyperfine --shell bash --style basic --warmup 3 --runs "$RUNS" --export-json "$WORK/rootless.json" \
    -n "devenv build (no-op, root)" "cd '$PROJECT' && as 0 0 '$DEVENV_HOME' -- '$DEVENV' build >/dev/null" \
    -n "devenv build (no-op, rootless)" "cd '$ROOTLESS_WORK/project' && as $uid $gid '$ROOTLESS_WORK/store' -- '$DEVENV' build >/dev/null"
fi

podman rmi -f devenv-bench >/dev/null 2>&1 || true
median() { jq -r ".results[$2].median" "$WORK/$1.json"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo
echo "== results (median seconds)"
printf '%-28s %10s %10s %8s %s\n' case devenv peer ratio target
result() { [[ -z ${BENCH_RESULTS:-} ]] || printf '%s\n' "$*" >> "$BENCH_RESULTS"; }
for spec in $noop_cases; do
  IFS=: read -r name peer target <<<"$spec"
  d=$(median "$name" 0); p=$(median "$name" 1)
  printf '%-28s %10.4f %10.4f %8s <= %s (vs %s)\n' "$name" "$d" "$p" "$(ratio "$d" "$p")" "$target" "$peer"
  result "build.$name/$peer $(ratio "$d" "$p") <=$target"
done
if [[ -f $WORK/rootless.json ]]; then
  r=$(median rootless 0); u=$(median rootless 1)
  printf '%-28s %10.4f %10.4f %8s <= 1.2 (rootless vs root)\n' "noop-rootless" "$u" "$r" "$(ratio "$u" "$r")"
  result "build.noop.rootless/root $(ratio "$u" "$r") <=1.2"
fi
