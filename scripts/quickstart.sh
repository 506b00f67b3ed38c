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
swift build -c release -Xswiftc -static-stdlib --product devenv
swift build -c release -Xswiftc -static-stdlib --product devenv-init
bin=$(swift build -c release -Xswiftc -static-stdlib --show-bin-path)
install -m 0755 "$bin/devenv" /usr/local/bin/devenv
install -m 0755 "$bin/devenv-init" /usr/local/bin/devenv-init
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
