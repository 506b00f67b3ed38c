#!/usr/bin/env bash
# json-bench.sh - devcontainer.json parsing on one long line (issue 15: a 400 KB one-line
# file took over a minute when every location recounted its line). Times `devenv status`
# in a devcontainer project whose file is SIZE_KB of JSON on one line, for a few sizes;
# the 1 KB row is the command's fixed cost; linear parsing keeps the rest per KB flat.
# devenv reads at most 1 MiB of devcontainer.json, so sizes stop below that.
#
# Env: DEVENV (default: a release build of this checkout, built first), SIZES (KB, default
#      "1 100 400 900"), RUNS (default 5).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SIZES=${SIZES:-"1 100 400 900"}
RUNS=${RUNS:-5}
if [[ -z ${DEVENV:-} ]]; then
  (cd "$REPO" && swift build -c release --product devenv-core 2>&1 | tail -n 1)
  DEVENV=$(cd "$REPO" && swift build -c release --show-bin-path)/devenv-core
fi
WORK=$(mktemp -d /var/tmp/devenv-json-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
printf '%8s %10s %12s\n' "KB" "seconds" "ms per MB"
for kb in $SIZES; do
  dir=$WORK/p$kb
  mkdir -p "$dir/.devcontainer"
  python3 - "$dir/.devcontainer/devcontainer.json" "$kb" <<'PY'
import json, sys
path, kb = sys.argv[1], int(sys.argv[2])
settings, i, size = {}, 0, 0
while size < kb * 1024:
    entry = [f"välue {i}", i + 0.5, True, None, {"nested": "\\u00e9"}]
    settings[f"setting.{i}"] = entry
    size += len(json.dumps({f"setting.{i}": entry}, separators=(",", ":")))
    i += 1
doc = {"image": "localhost/devenv-json-bench:none", "customizations": {"vscode": {"settings": settings}}}
open(path, "w").write(json.dumps(doc, separators=(",", ":")))
PY
  best=
  for _ in $(seq "$RUNS"); do
    start=$(date +%s.%N)
    (cd "$dir" && "$DEVENV" status >/dev/null 2>&1 || true)
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc)
    if [[ -z $best ]] || (( $(echo "$t < $best" | bc) )); then best=$t; fi
  done
  printf '%8s %10.3f %12.1f\n' "$kb" "$best" "$(echo "$best * 1000 * 1024 / $kb" | bc -l)"
done
