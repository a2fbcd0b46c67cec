#!/usr/bin/env bash
# Create the project's virtual environment from the pinned requirements.
# Usage: scripts/venv.sh PYTHON VENV
set -euo pipefail
python=${1:-python3} venv=${2:-.venv}

"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null ||
    { echo "venv: $python must be Python 3.11 or newer (ansible-core 2.19): set PYTHON=..." >&2; exit 1; }
# Debian's python3 makes virtualenvs only with python3-venv (ensurepip): as
# root on Debian, install it; elsewhere say so.
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "venv: installing python3-venv (Debian's venv module) ..."
        apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends python3-venv >/dev/null ||
            { apt-get update -q >/dev/null &&
                apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends python3-venv >/dev/null; } ||
            { echo "venv: apt-get install python3-venv failed" >&2; exit 1; }
    else
        echo "venv: $python has no venv module: install python3-venv (Debian, Ubuntu)" >&2; exit 1
    fi
fi
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
