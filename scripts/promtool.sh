#!/usr/bin/env bash
# Ensure promtool (tests validate the --metrics file with `promtool check
# metrics`). Takes it from Debian's package `prometheus` without installing
# the package (which would start a Prometheus server): downloads the .deb with
# apt and extracts promtool into DEST (default .cache/promtool). Quiet fast
# path: one "ok" line when it is already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/.cache/promtool}
say() { echo "promtool: $*"; }

if [ -x "$dest/promtool" ]; then
    say "ok ($dest/promtool)"
    exit 0
fi
command -v apt-get >/dev/null || { say "needs apt-get (Debian/Ubuntu), or put promtool in $dest" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"   # apt's _apt user downloads into it
say "downloading Debian's prometheus package for promtool (about 20 MB) ..."
if ! (cd "$work" && apt-get -q -o DPkg::Lock::Timeout=600 download prometheus) >"$work/log" 2>&1; then
    # No package lists yet (a fresh machine): update them once, then retry.
    apt-get -q -o DPkg::Lock::Timeout=600 update >>"$work/log" 2>&1 || true
    (cd "$work" && apt-get -q -o DPkg::Lock::Timeout=600 download prometheus) >>"$work/log" 2>&1 ||
        { say "apt-get download prometheus failed:" >&2; tail -n 20 "$work/log" >&2; exit 1; }
fi
mkdir -p "$dest"
dpkg-deb --fsys-tarfile "$work"/prometheus_*.deb | tar -x -C "$work" ./usr/bin/promtool
mv "$work/usr/bin/promtool" "$dest/promtool"
say "ok ($("$dest/promtool" --version 2>&1 | head -n 1))"
