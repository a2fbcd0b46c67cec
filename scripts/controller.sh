#!/usr/bin/env bash
# The controller matrix: `molecule test -s controller` run by another
# ansible-core than .venv's. Usage: scripts/controller.sh [VERSION ...]
# (default: 2.15 2.21, the oldest claimed and the newest).
#   2.15  .venv-ansible-2.15 from requirements-ansible-2.15.txt with this
#         host's python3 (3.9-3.11: Debian 12's 3.11); Molecule from .venv.
#   2.21  a Debian 13 container with Debian's Python 3.13 and
#         requirements-ansible-2.21.txt (image tickets-controller:2.21-HASH,
#         built once); Molecule runs in it against this host's Docker engine.
# Both use the community.docker and ansible.posix collections of .venv.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "controller: $*" >&2; exit 1; }
collections=$("$root/.venv/bin/python" -c \
    'import ansible_collections, os; print(os.path.dirname(ansible_collections.__path__[0]))')
ca=/etc/ssl/certs/ca-certificates.crt  # the host's trust store (a TLS proxy's CA may be only there)

host_venv() { # VERSION: .venv-ansible-VERSION, made once per requirements file
    local version=$1 venv=$root/.venv-ansible-$1 req=$root/requirements-ansible-$1.txt
    [ -x "$venv/bin/ansible-playbook" ] && [ "$venv/.installed" -nt "$req" ] && return
    echo "controller: $venv from $req with $(command -v python3) ..."
    rm -rf "$venv"
    python3 -m venv "$venv" || die "'python3 -m venv' failed: install python3-venv"
    "$venv/bin/pip" install --disable-pip-version-check -q -r "$req" >"$venv/pip.log" 2>&1 ||
        { tail -n 20 "$venv/pip.log" >&2; die "pip install -r $req failed"; }
    touch "$venv/.installed"
}

container_image() { # VERSION: prints the image's tag, built once per requirements file
    local version=$1 req=$root/requirements-ansible-$1.txt tag build
    tag=tickets-controller:$version-$(sha256sum "$req" | cut -c1-12)
    if ! docker image inspect "$tag" >/dev/null 2>&1; then
        "$root/scripts/build-image.sh" trixie "${TICKETS_IMAGE_TRIXIE:-tickets-systemd:trixie}" >&2
        build=tickets-controller-build-$$
        echo "controller: building $tag (Debian 13, python3-venv, docker-cli, $req) ..." >&2
        docker rm -f "$build" >/dev/null 2>&1 || true
        docker run --name "$build" -v "$ca:/tmp/host-ca.crt:ro" -v "$req:/tmp/requirements.txt:ro" \
            "${TICKETS_IMAGE_TRIXIE:-tickets-systemd:trixie}" /bin/sh -ec '
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -q
            apt-get install -y -q --no-install-recommends python3-venv docker-cli ca-certificates
            python3 -m venv /opt/controller
            PIP_CERT=/tmp/host-ca.crt /opt/controller/bin/pip install -q --disable-pip-version-check \
                -r /tmp/requirements.txt
            apt-get clean' >&2 || { docker rm -f "$build" >/dev/null; die "building $tag failed"; }
        docker commit --change 'ENV PATH=/opt/controller/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            "$build" "$tag" >/dev/null || die "docker commit $build $tag failed"
        docker rm "$build" >/dev/null
    fi
    echo "$tag"
}

for version in ${*:-2.15 2.21}; do
    [ -r "$root/requirements-ansible-$version.txt" ] || die "no requirements-ansible-$version.txt"
    case $version in
        2.15)
            host_venv "$version"
            echo "controller: molecule test -s controller with $("$root/.venv-ansible-$version/bin/ansible-playbook" --version | head -n 1)"
            (cd "$root/roles/tickets" &&
                PATH="$root/.venv-ansible-$version/bin:$root/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH=$collections \
                    molecule test -s controller)
            ;;
        *)
            image=$(container_image "$version") || exit 1
            echo "controller: molecule test -s controller in $image"
            # The same paths inside as outside: Molecule's state and the
            # scenario's files; the host's trust store for pip in the targets.
            docker run --rm --network host -v /var/run/docker.sock:/var/run/docker.sock \
                -v "$root:$root" -v "$ca:$ca:ro" -w "$root/roles/tickets" \
                -e ANSIBLE_COLLECTIONS_PATH="$collections" -e ANSIBLE_HOME="$root/.ansible" \
                -e TICKETS_MOLECULE_PREFIX -e TICKETS_IMAGE_BULLSEYE -e TICKETS_IMAGE_TRIXIE \
                "$image" /bin/sh -ec 'ansible-playbook --version | head -n 1; exec molecule test -s controller'
            ;;
    esac
done
