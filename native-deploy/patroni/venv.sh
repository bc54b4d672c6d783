#!/usr/bin/env bash
# venv.sh: a Python virtual environment holding Patroni, pinned by requirements.txt beside this
# script, built once and reused. Prints the venv's directory (its bin/ has patroni, patronictl).
#
# Keyed by a hash of requirements.txt, so a change of pin builds a new venv and an unchanged one
# costs a `test -x`. Built from the system's /usr/bin/python3 into a directory every user can
# read: Patroni runs Postgres, which refuses root, so the unprivileged user that runs Patroni
# must be able to execute the venv (root's home, mode 0700, would hide it).
#
#   native-deploy/patroni/venv.sh            build if missing; print the directory
#   native-deploy/patroni/venv.sh --dir      print the directory only (no build)
# Environment: TRADEPIPE_PATRONI_VENV_ROOT (default /var/cache/tradepipe as root, else
# ~/.cache/tradepipe), PYTHON (default /usr/bin/python3, else python3 on PATH).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
req="$here/requirements.txt"
if [ "$(id -u)" = 0 ]; then default_root=/var/cache/tradepipe; else default_root="$HOME/.cache/tradepipe"; fi
root="${TRADEPIPE_PATRONI_VENV_ROOT:-$default_root}"
version="$(sed -n 's/^patroni\[[^]]*\]==\([0-9.]*\)$/\1/p' "$req")"
key="$(sha256sum "$req" | cut -c1-12)"
dir="$root/patroni-$version-$key"
if [ "${1:-}" = --dir ]; then echo "$dir"; exit 0; fi
# .complete is written last: a venv without it is an interrupted build and is made again.
if [ -f "$dir/.complete" ]; then echo "$dir"; exit 0; fi

python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x /usr/bin/python3 ]; then python=/usr/bin/python3; else python="$(command -v python3)"; fi
fi
mkdir -p "$root"
chmod 755 "$root"
exec 9>"$root/.patroni-venv.lock"
flock 9
# Another run may have built it while this one waited for the lock.
if [ -f "$dir/.complete" ]; then echo "$dir"; exit 0; fi
# A venv writes its own path into its scripts, so it is built in place (not renamed).
rm -rf "$dir"
"$python" -m venv "$dir" >&2
"$dir/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req" >&2
chmod -R a+rX "$dir"
touch "$dir/.complete"
echo "$dir"
