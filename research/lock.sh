#!/usr/bin/env bash
# lock.sh: recompile requirements.lock (every transitive pin, with hashes) from requirements.in
# with uv (pip-tools' format). Run after changing requirements.in; setup.sh then builds a new venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tools="${TRADEPIPE_RESEARCH_VENV_ROOT:-$HOME/.cache/tradepipe}/uv-0.13.8"
[ -x "$tools/bin/uv" ] || { python3 -m venv "$tools" && "$tools/bin/pip" install -q uv==0.13.8; }
cd "$here"
"$tools/bin/uv" pip compile requirements.in --generate-hashes --python-version 3.11 \
  --no-header -o requirements.lock
