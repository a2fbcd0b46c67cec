#!/usr/bin/env bash
# Ensure the system prerequisites for the Molecule tests and the demo:
# a running Docker engine, debootstrap (to build the systemd images), an SSH
# client (the fleet test) and curl.
# Installs what is missing on Debian/Ubuntu when run as root; otherwise says
# what to do. Quiet fast path: one "ok" line when everything is already there.
set -euo pipefail

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"   # dockerd, debootstrap
log=${TICKETS_PREREQS_LOG:-/var/log/tickets-prereqs.log}
dockerd_log=/var/log/dockerd.log

say() { echo "prereqs: $*"; }
die() { say "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" -eq 0 ]; }
# Server version if the daemon answers (the client negotiates the API version).
server_version() { timeout 20 docker info --format '{{.ServerVersion}}' 2>/dev/null; }

is_debian=false
if [ -r /etc/os-release ]; then
    # shellcheck disable=SC1091
    case " $(. /etc/os-release && echo "${ID:-} ${ID_LIKE:-}") " in
        *" debian "* | *" ubuntu "*) is_debian=true ;;
    esac
fi

# 1. Packages: test for the engine (dockerd), not the client (docker).
pkgs=() what=()
have dockerd || { pkgs+=(docker.io); what+=("Docker engine"); }
have debootstrap || { pkgs+=(debootstrap); what+=("debootstrap"); }
# The fleet test reaches its hosts over SSH; README's commands use curl.
have ssh && have ssh-keygen || { pkgs+=(openssh-client); what+=("SSH client"); }
have curl || { pkgs+=(curl); what+=("curl"); }
if [ ${#pkgs[@]} -gt 0 ]; then
    $is_debian || die "${what[*]} missing: install them with your package manager (Debian/Ubuntu: ${pkgs[*]})"
    is_root || die "${what[*]} missing: run 'sudo make prereqs' or install ${pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    for i in "${!pkgs[@]}"; do say "installing ${pkgs[$i]} (${what[$i]}) ..."; done
    apt_fail() { say "apt-get failed; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
    apt-get update >>"$log" 2>&1 || apt_fail
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${pkgs[@]}" >>"$log" 2>&1 || apt_fail
fi

# 2. Daemon: start it if it does not answer, then wait up to 60 s.
if ! version=$(server_version); then
    is_root || die "Docker engine not running or not accessible: run 'sudo make prereqs' (or join group docker)"
    say "starting dockerd ..."
    if [ -d /run/systemd/system ]; then
        dockerd_log="journalctl -u docker"
        systemctl start docker >>"$log" 2>&1 || true
    else
        # setsid + nohup: the daemon outlives this script and its shell.
        setsid nohup dockerd >>"$dockerd_log" 2>&1 </dev/null &
    fi
    for _ in $(seq 60); do
        version=$(server_version) && break
        sleep 1
    done
    [ -n "${version:-}" ] || die "dockerd did not answer within 60 s: see $dockerd_log"
fi

say "ok (docker $version, debootstrap)"
