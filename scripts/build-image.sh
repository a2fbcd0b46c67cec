#!/usr/bin/env bash
# Build a systemd-capable Debian image for the Molecule tests, if it is missing.
# Usage: scripts/build-image.sh [SUITE] [TAG]   (default: bookworm, tickets-systemd:SUITE)
# No registry is needed: debootstrap from a Debian mirror, then `docker import`.
# Mirror: $TICKETS_DEBIAN_MIRROR, else the host's apt mirror if it is a Debian
# one, else http://deb.debian.org/debian. Needs root (debootstrap, chroot).
set -euo pipefail

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"   # debootstrap, chroot
suite=${1:-bookworm}
tag=${2:-tickets-systemd:$suite}
name=${tag//[^A-Za-z0-9_.-]/_}           # tag made safe for file names
log=/var/log/tickets-build-image.$name.log

die() { echo "build-image: $*" >&2; exit 1; }
present() { docker image inspect "$tag" >/dev/null 2>&1; }

present && { echo "image $tag: present"; exit 0; }
[ "$(id -u)" -eq 0 ] || die "building $tag needs root (debootstrap): run 'sudo $0${*:+ $*}'"
command -v debootstrap >/dev/null || die "debootstrap missing: run scripts/prereqs.sh"

# One build per tag at a time; a concurrent build of the same tag waits, then
# finds the image. Different suites use separate locks, logs and temp dirs.
exec 9>"/run/lock/tickets-build-image.$name.lock"
flock 9
present && { echo "image $tag: present"; exit 0; }

# First http(s) URI in the host's apt sources whose path ends in /$1
# (a Debian mirror, not e.g. an Ubuntu one).
host_uri() {
    {
        grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | cut -d: -f2-
        grep -hsE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
            sed -E 's/\[[^]]*\]//' | awk '{print $2}'
    } | tr ' ' '\n' | grep -E "^https?://.*/$1/?\$" | head -n1 || true
}
mirror=${TICKETS_DEBIAN_MIRROR:-$(host_uri debian)}
mirror=${mirror:-http://deb.debian.org/debian}

root=$(mktemp -d "/var/tmp/tickets-rootfs.$name.XXXXXX")
cleanup() {
    # A failed debootstrap may leave proc/sys mounted inside: unmount first,
    # and never let rm cross into another file system.
    findmnt -rn -o TARGET | grep "^$root/" | sort -r | xargs -r umount -l || true
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT
fail() { echo "build-image: $1 failed; last lines of $log:" >&2; tail -n 25 "$log" >&2; exit 1; }

echo "building image $tag from Debian $suite with debootstrap (about 1-2 minutes) ..."
SECONDS=0
: >"$log"
echo "mirror: $mirror" >>"$log"
debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,python3,python3-venv,python3-apt,cron,ca-certificates \
    "$suite" "$root" "$mirror" >>"$log" 2>&1 || fail debootstrap

# apt sources that work from containers here (plain http, no proxy CA
# needed); the suite only: no Valid-Until to expire, and debootstrap's lists
# match it. deb822 format: no deprecation notice on trixie.
rm -f "$root/etc/apt/sources.list"
printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\n' "$mirror" "$suite" \
    >"$root/etc/apt/sources.list.d/debian.sources"
# Keep apt lists in the image: an empty list dir looks "fresh" to
# cache_valid_time. Fill it if this debootstrap left it empty.
if ! compgen -G "$root/var/lib/apt/lists/*_Packages*" >/dev/null; then
    DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get update >>"$log" 2>&1 || fail "apt-get update"
fi
rm -f "$root"/var/cache/apt/archives/*.deb          # drop the downloaded .debs
: >"$root/etc/machine-id"                         # each container gets its own
ln -sf /etc/machine-id "$root/var/lib/dbus/machine-id"

tar -C "$root" --numeric-owner -c . |
    docker import -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' - "$tag" >>"$log" 2>&1 ||
    fail "docker import"
echo "image $tag: built in ${SECONDS} s"
