#!/usr/bin/env bash
# The README's first command: install what devenv needs, build it, and use it for real on a
# fresh Debian machine: a project from the default template, whose Debian base devenv
# bootstraps itself from the Debian archive (no registry account), built and entered.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "quickstart: run as root (it installs Debian packages); devenv itself also runs rootless" >&2
  exit 1
fi
bash .ci/install-deps
echo "quickstart: building devenv (release, Swift runtime linked statically for fast starts)…" >&2
swift build -c release -Xswiftc -static-stdlib
bin=$(swift build -c release -Xswiftc -static-stdlib --show-bin-path)
# devenv (the static front end) starts devenv-core (the whole CLI) and devenv-init from
# its own directory, so the three are installed together.
for program in devenv devenv-core devenv-init; do
  install -m 0755 "$bin/$program" "/usr/local/bin/$program"
done
echo "quickstart: installed /usr/local/bin/devenv $(devenv --version)" >&2
devenv doctor || true

project=${DEVENV_QUICKSTART_DIR:-/tmp/devenv-quickstart}
mkdir -p "$project"
cd "$project"
[ -f .devenv/devenv.toml ] || devenv init
set -x
devenv run -- sh -c '. /etc/os-release; echo "hello from $PRETTY_NAME as $(id -un) in $(pwd)"; git --version'
devenv status
set +x
echo "quickstart: done. Enter the environment with: cd $project && devenv shell" >&2
