#!/usr/bin/env bash
# package-layers-bench.sh - bytes `devenv push` uploads after adding one package to a
# 20-package `packages` step: with one layer per package (the default) against one layer
# for the whole step (`layers = 1`), the same change on the same base. Each mode builds the
# 20-package project in a fresh store, pushes it to a fresh repository of the local
# registry, adds $ADDED, rebuilds and pushes again; the second push's `transfers-ended`
# event (`--progress json`) gives the blobs and bytes it uploaded (blobs the registry has
# are skipped). Prints both and the ratio (target >= 10).
#
# Needs: root, the peers registry on 127.0.0.1:5000 with base/bookworm:12
# (shared/tools/peers-setup.sh, run here when the registry is down), Debian's mirror (the
# packages come from deb.debian.org through the image's apt), a devenv build.
# Env: DEVENV (default .build/release/devenv, else .build/debug/devenv), ADDED (default sl),
#      BASE (default 127.0.0.1:5000/base/bookworm:12), KEEP=1 keeps the work directory.
set -euo pipefail
cd "$(dirname "$0")/.."

DEVENV=${DEVENV:-}
if [[ -z $DEVENV ]]; then
  DEVENV=.build/release/devenv
  [[ -x $DEVENV ]] || DEVENV=.build/debug/devenv
fi
DEVENV=$(realpath "$DEVENV")
ADDED=${ADDED:-sl}
BASE=${BASE:-127.0.0.1:5000/base/bookworm:12}
REGISTRY=${BASE%%/*}
PACKAGES=(bc bzip2 cpio dc file hello jq less lz4 m4 make nano netcat-openbsd patch rsync tree units unzip xz-utils zip)

die() { printf 'package-layers-bench: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$DEVENV" ] || die "no $DEVENV; run: swift build -c release"
if ! curl -fs -o /dev/null --max-time 2 "http://$REGISTRY/v2/"; then
  peers=${PEERS_SETUP:-$PWD/../shared/tools/peers-setup.sh}
  [ -x "$peers" ] || die "registry $REGISTRY is down and $peers is missing"
  "$peers" >&2
fi

work=$(mktemp -d "${WORKDIR:-/var/tmp}/package-layers-bench.XXXXXX")
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
run_id=$(date +%s)

manifest() { # layers-line package...
  local layers=$1; shift
  printf '[base]\nimage = "%s"\n\n[[step]]\npackages = [' "$BASE"
  local first=1 p
  for p in "$@"; do
    [[ $first = 1 ]] || printf ', '
    printf '"%s"' "$p"; first=0
  done
  printf ']\n%s\n' "$layers"
}

# The `transfers-ended` event of a push: "BLOBS BYTES".
pushed() {
  python3 -c '
import json, sys
for line in sys.stdin:
    try: event = json.loads(line)
    except ValueError: continue
    if event.get("event") == "transfers-ended": print(event["transferred"], event["bytes"])
' < "$1" | tail -n 1
}

measure() { # mode layers-line
  local mode=$1 layers=$2 project="$work/$1" store="$work/$1-store" image repo out
  mkdir -p "$project/.devenv"
  repo="$REGISTRY/bench/package-layers-$mode-$run_id"
  manifest "$layers" "${PACKAGES[@]}" > "$project/.devenv/devenv.toml"
  (cd "$project" && "$DEVENV" --store "$store" build --quiet >/dev/null 2>"$work/$mode-build1.log") || { cat "$work/$mode-build1.log" >&2; die "$mode: build failed"; }
  image=$(cd "$project" && "$DEVENV" --store "$store" build --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"])')
  "$DEVENV" --store "$store" push --progress json "$image" "$repo:20" 2>"$work/$mode-push1.log" >/dev/null || { cat "$work/$mode-push1.log" >&2; die "$mode: first push failed"; }
  manifest "$layers" "${PACKAGES[@]}" "$ADDED" > "$project/.devenv/devenv.toml"
  (cd "$project" && "$DEVENV" --store "$store" build --quiet >/dev/null 2>"$work/$mode-build2.log") || { cat "$work/$mode-build2.log" >&2; die "$mode: second build failed"; }
  image=$(cd "$project" && "$DEVENV" --store "$store" build --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"])')
  "$DEVENV" --store "$store" push --progress json "$image" "$repo:21" 2>"$work/$mode-push2.log" >/dev/null || { cat "$work/$mode-push2.log" >&2; die "$mode: second push failed"; }
  local layer_count
  layer_count=$("$DEVENV" --store "$store" image inspect --json "$image" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["manifest"]["layers"]))')
  read -r blobs bytes < <(pushed "$work/$mode-push2.log")
  read -r first_blobs first_bytes < <(pushed "$work/$mode-push1.log")
  printf '%-26s image layers %3d; first push %3d blobs %10d bytes; after adding %s: %3d blobs %10d bytes\n' \
    "$mode" "$layer_count" "$first_blobs" "$first_bytes" "$ADDED" "$blobs" "$bytes"
  eval "${mode//-/_}_bytes=$bytes"
}

echo "20 packages (${PACKAGES[*]}) on $BASE, then + $ADDED"
measure per-package ""
measure one-layer "layers = 1"
awk -v a="$one_layer_bytes" -v b="$per_package_bytes" 'BEGIN { printf "uploaded after the change: one layer per step %d bytes, per-package layers %d bytes: %.1fx less\n", a, b, a / b }'
if [ -n "${BENCH_RESULTS:-}" ]; then
  awk -v a="$one_layer_bytes" -v b="$per_package_bytes" 'BEGIN { printf "package_layers_push_saving %.1f >=10\n", a / b }' >> "$BENCH_RESULTS"
fi
