#!/usr/bin/env bash
# Ensure Debian's headless-capable `chromium` is installed (the HTML report's
# browser test needs it). Quiet fast path: one "ok" line when it is there.
set -euo pipefail

log=${TICKETS_PREREQS_LOG:-/var/log/tickets-prereqs.log}
say() { echo "chromium: $*"; }

if ! command -v chromium >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || { say "missing: run 'sudo make chromium' or install the package chromium" >&2; exit 1; }
    command -v apt-get >/dev/null 2>&1 || { say "missing: install chromium with your package manager" >&2; exit 1; }
    say "installing Debian's chromium (about a minute) ..."
    export DEBIAN_FRONTEND=noninteractive
    apt_fail() { say "apt-get failed; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
    apt-get -o DPkg::Lock::Timeout=600 update >>"$log" 2>&1 || apt_fail
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium >>"$log" 2>&1 || apt_fail
fi
say "ok ($(chromium --version 2>/dev/null | head -n 1))"
