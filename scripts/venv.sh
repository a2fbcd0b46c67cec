#!/usr/bin/env bash
# Create the project's virtual environment from the pinned requirements.
# Usage: scripts/venv.sh PYTHON VENV
set -euo pipefail
python=${1:-python3} venv=${2:-.venv}

"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null ||
    { echo "venv: $python must be Python 3.11 or newer (ansible-core 2.19): set PYTHON=..." >&2; exit 1; }
SECONDS=0
echo "venv: installing pinned tools into $venv (ansible, molecule, pytest, ruff; about a minute) ..."
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv" ||
    { echo "venv: '$python -m venv' failed: install python3-venv" >&2; exit 1; }
log=$venv/pip.log
if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q -r requirements-dev.txt >"$log" 2>&1; then
    echo "venv: pip install failed; last lines of $log:" >&2
    grep -v '^WARNING: Location' "$log" | tail -n 20 >&2
    exit 1
fi
echo "venv: ready in ${SECONDS} s"
