#!/usr/bin/env bash
# Create .venv-ansible-VERSION with the ansible-core pinned in
# requirements-ansible-VERSION.txt, for the controller matrix
# (scripts/controller-matrix.sh). Usage: scripts/ansible-venv.sh VERSION
# Python: $TICKETS_ANSIBLE_PYTHON, else the newest suitable python3.X on PATH
# or under pyenv ($PYENV_ROOT, default ~/.pyenv).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=${1:?usage: $0 VERSION (2.15 or 2.21)}
req=$root/requirements-ansible-$version.txt
venv=$root/.venv-ansible-$version
die() { echo "ansible-venv: $*" >&2; exit 1; }
[ -r "$req" ] || die "no $req: versions are $(cd "$root" && ls requirements-ansible-*.txt | sed -E 's/requirements-ansible-(.*)\.txt/\1/' | xargs)"

# The controller Pythons each ansible-core supports (its own support matrix).
case $version in
    2.15) minors="11 10 9" ;;
    2.21) minors="14 13 12" ;;
    *) die "no controller Python range known for ansible-core $version" ;;
esac
ok() { # PYTHON: does it run and is it one of $minors?
    local m
    m=$("$1" -c 'import sys; print(sys.version_info[0] * 100 + sys.version_info[1])' 2>/dev/null) || return 1
    for minor in $minors; do [ "$m" = "3$(printf %02d "$minor")" ] && return 0; done
    return 1
}
find_python() {
    if [ -n "${TICKETS_ANSIBLE_PYTHON:-}" ]; then
        ok "$TICKETS_ANSIBLE_PYTHON" && { echo "$TICKETS_ANSIBLE_PYTHON"; return; }
        die "TICKETS_ANSIBLE_PYTHON=$TICKETS_ANSIBLE_PYTHON is not Python 3.{${minors// /,}}"
    fi
    local minor p
    for minor in $minors; do
        for p in "$(command -v "python3.$minor" || true)" \
            $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/3.$minor".*/bin/python3 2>/dev/null | sort -rV); do
            [ -n "$p" ] && ok "$p" && { echo "$p"; return; }
        done
    done
    return 1
}

if [ -x "$venv/bin/ansible-playbook" ] && [ "$venv/.installed" -nt "$req" ]; then
    echo "ansible-venv: $venv ready ($("$venv/bin/ansible-playbook" --version | sed -n 1p))"
    exit 0
fi
python=$(find_python) || die "ansible-core $version needs a controller Python 3.{${minors// /,}}:" \
    "none on PATH or under ${PYENV_ROOT:-$HOME/.pyenv}/versions; install one or set TICKETS_ANSIBLE_PYTHON"
SECONDS=0
echo "ansible-venv: $venv from $req with $python ..."
rm -rf "$venv"
"$python" -m venv "$venv" || die "'$python -m venv' failed"
log=$venv/pip.log
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req" >"$log" 2>&1 ||
    { echo "ansible-venv: pip install failed; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
touch "$venv/.installed"
echo "ansible-venv: $venv ready in $SECONDS s ($("$venv/bin/ansible-playbook" --version | sed -n 1p))"
