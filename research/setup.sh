#!/usr/bin/env bash
# setup.sh: the research project's Python environment, pinned by requirements.lock (hashes
# checked), built once and reused. Prints the venv's directory and links research/.venv to it.
#
# Keyed by a hash of requirements.lock, so a changed pin builds a new venv and an unchanged one
# costs a `test -f`. Built from /usr/bin/python3 (the lock is compiled for Python 3.11).
#
#   research/setup.sh          build if missing; print the directory
#   research/setup.sh --dir    print the directory only (no build)
# Environment: TRADEPIPE_RESEARCH_VENV_ROOT (default ~/.cache/tradepipe), PYTHON.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lock="$here/requirements.lock"
root="${TRADEPIPE_RESEARCH_VENV_ROOT:-$HOME/.cache/tradepipe}"
key="$(sha256sum "$lock" | cut -c1-12)"
dir="$root/research-$key"
if [ "${1:-}" = --dir ]; then echo "$dir"; exit 0; fi
link() { ln -sfn "$dir" "$here/.venv"; echo "$dir"; }
# .complete is written last: a venv without it is an interrupted build and is made again.
if [ -f "$dir/.complete" ]; then link; exit 0; fi

python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x /usr/bin/python3 ]; then python=/usr/bin/python3; else python="$(command -v python3)"; fi
fi
mkdir -p "$root"
exec 9>"$root/.research-venv.lock"
flock 9
if [ -f "$dir/.complete" ]; then link; exit 0; fi
rm -rf "$dir"
start=$(date +%s)
echo "research: building $dir from requirements.lock (once per lock; a few minutes)" >&2
"$python" -m venv "$dir" >&2
"$dir/bin/pip" install --quiet --disable-pip-version-check --no-input --require-hashes \
  --only-binary=:all: -r "$lock" >&2
touch "$dir/.complete"
echo "research: venv ready in $(($(date +%s) - start)) s" >&2
link
