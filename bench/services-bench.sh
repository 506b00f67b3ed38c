#!/usr/bin/env bash
# services-bench.sh - a PostgreSQL service from the project's environment image, from nothing
# running to ready, in one run, interleaved:
#   devenv   `devenv up db` in a project made from the python-postgres template (its data
#            volume already initialised, so each round is a server start, not an initdb)
#   podman   `podman run -d --network host` of the same image (exported from devenv, loaded
#            into podman) with the same command and volume, then `podman exec … pg_isready`
#            until it answers: the same readiness check
# and, with the service up, a warm `devenv run -- psql -c 'select 1'` against a warm
# `devenv run -- true` (hyperfine), and the template's `psql` task, whose session holds the service.
# Targets (issue 16): devenv/podman <= 0.5 for up-to-ready; psql/true <= 2.
# With BENCH_RESULTS=FILE, appends `name value target` lines for bench/all.sh.
#
# Needs: root, podman, hyperfine, mmdebstrap and Debian's archive (the first run bootstraps
# bookworm and installs postgresql), a release build.
# Env: ROUNDS (default 7), RUNS (default 20), DEVENV (default .build/release/devenv),
#      PORT (default 5432), KEEP=1 keeps the work directory.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
ROUNDS=${ROUNDS:-7}
RUNS=${RUNS:-20}
DEVENV=${DEVENV:-$PWD/.build/release/devenv}
PORT=${PORT:-5432}

die() { printf 'services-bench: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
for tool in podman hyperfine mmdebstrap; do command -v "$tool" >/dev/null || die "needs $tool"; done
[ -x "$DEVENV" ] || die "no devenv at $DEVENV (swift build -c release)"

WORK=$(mktemp -d /var/tmp/devenv-services-bench.XXXXXX)
export DEVENV_HOME=$WORK/store
cleanup() {
  (cd "$WORK/tree" 2>/dev/null && "$DEVENV" down --volumes >/dev/null 2>&1) || true
  podman rm -f devenv-bench-pg >/dev/null 2>&1 || true
  podman volume rm -f devenv-bench-pgdata >/dev/null 2>&1 || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/tree"
cd "$WORK/tree"
"$DEVENV" init --template python-postgres >/dev/null
[ "$PORT" = 5432 ] || sed -i "s/5432/$PORT/g" .devenv/devenv.toml
echo "== building the environment (bootstrap and postgresql the first time)"
"$DEVENV" build >/dev/null || die "devenv build failed"
image=$("$DEVENV" build --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"])')
"$DEVENV" image export "$image" -o "$WORK/image.tar" --format docker >/dev/null
podman load -q -i "$WORK/image.tar" >/dev/null
podman tag "$image" localhost/devenv-bench/pg:1 2>/dev/null || podman tag "$(podman images -q | head -1)" localhost/devenv-bench/pg:1

# The service's command, exactly as the manifest has it.
command=$(python3 - "$WORK/tree/.devenv/devenv.toml" <<'PY'
import sys, tomllib
print(tomllib.load(open(sys.argv[1], "rb"))["services"]["db"]["command"])
PY
)
ready=(pg_isready -q -h 127.0.0.1 -p "$PORT" -U app)
"$DEVENV" up db >/dev/null || die "devenv up failed"
"$DEVENV" down >/dev/null
podman volume create devenv-bench-pgdata >/dev/null

now() { date +%s.%N; }
devenv_up() {
  local start end
  start=$(now); "$DEVENV" up db >/dev/null; end=$(now)
  "$DEVENV" down >/dev/null
  echo "$end - $start" | bc
}
podman_up() {
  local start end
  start=$(now)
  podman run -d --name devenv-bench-pg --network host -v devenv-bench-pgdata:/var/lib/devenv-postgres \
    localhost/devenv-bench/pg:1 /bin/sh -c "$command" >/dev/null
  until podman exec devenv-bench-pg "${ready[@]}" 2>/dev/null; do sleep 0.05; done
  end=$(now)
  podman rm -f -t 10 devenv-bench-pg >/dev/null
  echo "$end - $start" | bc
}
podman_up >/dev/null  # initdb in the podman volume, outside the measurement
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
: > "$WORK/devenv.times"; : > "$WORK/podman.times"
for _ in $(seq "$ROUNDS"); do
  devenv_up >> "$WORK/devenv.times"
  podman_up >> "$WORK/podman.times"
done
d=$(median < "$WORK/devenv.times"); p=$(median < "$WORK/podman.times")
up_ratio=$(echo "scale=3; $d / $p" | bc)
printf 'up to ready (median of %s): devenv %.3f s, podman %.3f s, ratio %s (target <= 0.5)\n' "$ROUNDS" "$d" "$p" "$up_ratio"

"$DEVENV" up db >/dev/null
hyperfine -N -w 3 -r "$RUNS" --export-json "$WORK/warm.json" \
  "$DEVENV run --no-tty -- psql -h 127.0.0.1 -p $PORT -U app -d postgres -c 'select 1'" \
  "$DEVENV run --no-tty -- true" \
  "$DEVENV run --no-tty psql -c 'select 1'" >/dev/null
read -r psql_ms true_ms task_ms < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(*(x["median"]*1000 for x in r))' "$WORK/warm.json")
warm_ratio=$(echo "scale=3; $psql_ms / $true_ms" | bc)
printf 'warm run with the service up: psql %.1f ms, true %.1f ms, ratio %s (target <= 2)\n' "$psql_ms" "$true_ms" "$warm_ratio"
# The template's `psql` task names the service, so its session holds it (no target).
printf 'warm task that needs the service (run psql -c ...): %.1f ms\n' "$task_ms"
if [ -n "${BENCH_RESULTS:-}" ]; then
  printf 'services_up_vs_podman %s <=0.5\nservices_psql_vs_true %s <=2\n' "$up_ratio" "$warm_ratio" >> "$BENCH_RESULTS"
fi
