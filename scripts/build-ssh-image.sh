#!/usr/bin/env bash
# Build the fleet-test host image, if it is missing: the systemd Debian image
# plus openssh-server and sudo, and a non-root user "deploy" with NOPASSWD
# sudo. No key is authorized in the image: each test run authorizes its own.
# Usage: scripts/build-ssh-image.sh [SUITE]   (default: bookworm)
# Tag: ${TICKETS_MOLECULE_PREFIX:-tickets}-ssh:SUITE (the prefix keeps
# parallel runs on one machine apart).
set -euo pipefail

suite=${1:-bookworm}
prefix=${TICKETS_MOLECULE_PREFIX:-tickets}
base=tickets-systemd:$suite
tag=$prefix-ssh:$suite
build=$prefix-ssh-build-$suite
root=$(cd "$(dirname "$0")/.." && pwd)

present() { docker image inspect "$tag" >/dev/null 2>&1; }
present && { echo "image $tag: present"; exit 0; }
"$root/scripts/build-image.sh" "$suite"

exec 9>"/run/lock/tickets-build-ssh-image.${tag//[^A-Za-z0-9_.-]/_}.lock"
flock 9
present && { echo "image $tag: present"; exit 0; }

echo "building image $tag from $base (openssh-server, sudo; about a minute) ..."
SECONDS=0
docker rm -f "$build" >/dev/null 2>&1 || true
trap 'docker rm -f "$build" >/dev/null 2>&1 || true' EXIT
# The run options that boot systemd in these containers (see docs/development.md, "Molecule").
docker run -d --name "$build" --cgroupns host --cap-add SYS_ADMIN \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    "$base" /lib/systemd/systemd >/dev/null
docker exec -i -e DEBIAN_FRONTEND=noninteractive "$build" /bin/sh -eu <<'SH' >/dev/null
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends openssh-server sudo
# Host keys stay in the image: ssh.service's pre-check needs them at boot.
ssh-keygen -A
useradd --create-home --shell /bin/bash deploy
echo 'deploy ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/deploy
chmod 0440 /etc/sudoers.d/deploy
visudo -cf /etc/sudoers.d/deploy
install -d -m 0700 -o deploy -g deploy /home/deploy/.ssh
systemctl enable ssh
apt-get clean
SH
docker stop "$build" >/dev/null
docker commit -c 'CMD ["/lib/systemd/systemd"]' "$build" "$tag" >/dev/null
echo "image $tag: built in ${SECONDS} s"
