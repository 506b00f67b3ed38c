#!/usr/bin/env bash
# The README's first command: install what devenv needs, build it, and use it for real.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "quickstart: run as root (it installs Debian packages); devenv itself also runs rootless" >&2
  exit 1
fi
bash .ci/install-deps
echo "quickstart: building devenv (release)…" >&2
swift build -c release --product devenv
devenv=$PWD/.build/release/devenv
install -m 0755 "$devenv" /usr/local/bin/devenv
echo "quickstart: installed /usr/local/bin/devenv ($(devenv --version))" >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
cp "$(command -v busybox)" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do ln -sf busybox "$root/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"

set -x
devenv image import "$root" --tag quickstart/busybox
devenv image ls
devenv image export quickstart/busybox -o "$work/busybox.tar"
devenv image inspect quickstart/busybox
