#!/usr/bin/env bash
# The README's first command: install what devenv needs, build it, and use it for real on a
# fresh Debian machine the way its main user does, as an ordinary user without root: a
# project from the default template, whose Debian base devenv bootstraps itself from the
# Debian archive (no registry account), built, a command and a task run in it.
# The user is the one who ran `sudo` (SUDO_USER), else `devenv-quickstart`, created here;
# either gets subordinate ids if it has none (.ci/ensure-user).
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
user=${SUDO_USER:-}
[ -n "$user" ] && [ "$user" != root ] || user=devenv-quickstart
bash .ci/ensure-user "$user"
home=$(getent passwd "$user" | cut -d: -f6)
uid=$(id -u "$user") gid=$(id -g "$user")
echo "quickstart: using devenv as $user (subordinate uids $(grep -m1 -e "^$user:" -e "^$uid:" /etc/subuid | cut -d: -f2,3))" >&2
# A clean login-like environment: the store is the user's own, ~/.local/share/devenv.
as_user() {
  setpriv --reuid="$uid" --regid="$gid" --init-groups \
    env -i HOME="$home" USER="$user" LOGNAME="$user" PATH=/usr/local/bin:/usr/bin:/bin TERM="${TERM:-dumb}" "$@"
}
as_user devenv doctor || true

project=${DEVENV_QUICKSTART_DIR:-$home/devenv-quickstart}
as_user mkdir -p "$project"
cd "$project"
[ -f .devenv/devenv.toml ] || as_user devenv init
# The default template's `test` task runs `make test`.
[ -f Makefile ] || as_user sh -c 'printf "test:\n\t@echo tests pass on \$\$(. /etc/os-release; echo \$\$PRETTY_NAME)\n" > Makefile'
set -x
as_user devenv run -- sh -c '. /etc/os-release; echo "hello from $PRETTY_NAME as $(id -un) in $(pwd)"; git --version'
as_user devenv run test
as_user devenv status
set +x
echo "quickstart: done. As $user: cd $project && devenv shell" >&2
