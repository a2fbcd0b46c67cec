"""A fleet of SSH hosts for the fleet test and the deploy benchmark.

Each host is a container booting systemd from the image that
scripts/build-ssh-image.sh builds (openssh-server, sudo, a user "deploy" with
NOPASSWD sudo). A key pair made for this fleet is authorized for "deploy";
sshd is published on a free port of 127.0.0.1 only; the hosts' keys go into a
known_hosts file of this fleet (read through docker, not trusted on first
use), so host key checking stays on. Each host runs the mock ticket API on its
own 127.0.0.1:3000. The real playbook.yml is run from the repository root (so
that the project's ansible.cfg applies) with an inventory written here.

    with Fleet(3, workdir) as fleet:
        result = fleet.deploy()            # ansible-playbook playbook.yml
        result.recap["fleet-01"]["changed"]
        fleet.sh("fleet-01", "ls /var/lib/tickets/reports")
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PREFIX = os.environ.get("TICKETS_MOLECULE_PREFIX", "tickets")
SUITE = "bookworm"
IMAGE = f"{PREFIX}-ssh:{SUITE}"
USER = "deploy"
MOCK_PORT = 3000
# The run options that boot systemd in these containers (docs/development.md, "Molecule").
SYSTEMD_OPTIONS = [
    "--cgroupns=host",
    "--cap-add=SYS_ADMIN",
    "--security-opt=seccomp=unconfined",
    "--security-opt=apparmor=unconfined",
    "--tmpfs=/run",
    "--tmpfs=/run/lock",
    "--volume=/sys/fs/cgroup:/sys/fs/cgroup:rw",
]
RECAP_FIELDS = ("ok", "changed", "unreachable", "failed", "skipped")
RECAP = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)",
    re.M,
)


def run(*argv: str, check: bool = True, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=check, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


def build_image() -> None:
    subprocess.run([str(ROOT / "scripts" / "build-ssh-image.sh"), SUITE], check=True)


@dataclass
class PlaybookRun:
    rc: int
    seconds: float
    output: str
    recap: dict[str, dict[str, int]]
    # CPU time (user + system) of ansible-playbook and its children, and of
    # all the hosts' containers together (None where cgroups do not tell).
    controller_cpu: float
    hosts_cpu: float | None


def container_cpu(container_id: str) -> float | None:
    """CPU seconds a container used so far, from its cgroup (v1 or v2)."""
    for path, scale in (
        (f"/sys/fs/cgroup/cpuacct/docker/{container_id}/cpuacct.usage", 1e-9),
        (f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cpu.stat", 1e-6),
    ):
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        if path.endswith("cpu.stat"):  # v2: "usage_usec N" first
            text = dict(line.split() for line in text.splitlines())["usage_usec"]
        return int(text) * scale
    return None


class Fleet:
    """n SSH hosts named {name}-01 ... (containers {PREFIX}-{name}-01 ...)."""

    def __init__(self, n: int, workdir: Path, name: str = "fleet") -> None:
        self.hosts = [f"{name}-{i:02d}" for i in range(1, n + 1)]
        self.workdir = workdir
        self.key = workdir / "id_ed25519"
        self.known_hosts = workdir / "known_hosts"
        self.inventory = workdir / "inventory.yml"
        self.ports: dict[str, int] = {}
        self.runs = 0

    def container(self, host: str) -> str:
        return f"{PREFIX}-{host}"

    def __enter__(self) -> Fleet:
        try:
            self.start()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    def start(self) -> None:
        build_image()
        self.destroy()
        keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tickets-fleet"]
        run(*keygen, "-f", str(self.key))
        with ThreadPoolExecutor(max_workers=len(self.hosts)) as pool:
            lines = list(pool.map(self._start_host, self.hosts))
        self.known_hosts.write_text("".join(lines))
        self._write_inventory()
        for host in self.hosts:
            self._wait_for_ssh(host)

    def _start_host(self, host: str) -> str:
        name = self.container(host)
        run("docker", "run", "--detach", f"--name={name}", f"--hostname={host}",
            "--publish=127.0.0.1::22", *SYSTEMD_OPTIONS, IMAGE, "/lib/systemd/systemd")  # fmt: skip
        self.ports[host] = int(
            run("docker", "port", name, "22/tcp").stdout.splitlines()[0].rsplit(":", 1)[1]
        )
        pub = self.key.with_suffix(".pub").read_text()
        ssh_dir = f"/home/{USER}/.ssh"
        run("docker", "exec", "-i", name, "sh", "-c",
            f"cat > {ssh_dir}/authorized_keys && chown {USER}: {ssh_dir}/authorized_keys"
            f" && chmod 0600 {ssh_dir}/authorized_keys", input=pub)  # fmt: skip
        self._wait_for_systemd(name)
        run(
            "docker",
            "cp",
            str(ROOT / "files" / "mock_api.py"),
            f"{name}:/usr/local/lib/tickets-mock-api.py",
        )
        mock = "systemd-run --unit=tickets-mock-api --property=Restart=on-failure /usr/bin/python3"
        mock += f" /usr/local/lib/tickets-mock-api.py --host 127.0.0.1 --port {MOCK_PORT} --seed 7"
        run("docker", "exec", name, *mock.split())
        key_type, key = run(
            "docker", "exec", name, "cat", "/etc/ssh/ssh_host_ed25519_key.pub"
        ).stdout.split()[:2]
        return f"[127.0.0.1]:{self.ports[host]} {key_type} {key}\n"

    @staticmethod
    def _wait_for_systemd(name: str) -> None:
        for _ in range(120):
            state = run(
                "docker", "exec", name, "systemctl", "is-system-running", check=False
            ).stdout.strip()
            if state in ("running", "degraded"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"{name}: systemd did not finish booting ({state})")

    def ssh_args(self) -> list[str]:
        return ["-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes"]

    def _wait_for_ssh(self, host: str) -> None:
        for _ in range(60):
            login = ["-i", str(self.key), "-p", str(self.ports[host]), "-o", "BatchMode=yes"]
            result = run("ssh", *login, *self.ssh_args(), f"{USER}@127.0.0.1", "true", check=False)
            if result.returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError(f"{host}: no SSH login: {result.stderr.strip()}")

    def _write_inventory(self) -> None:
        hosts = {
            host: {"ansible_host": "127.0.0.1", "ansible_port": self.ports[host]}
            for host in self.hosts
        }
        group_vars = {
            # SSH as a sudo user, host keys checked against this fleet's file.
            "ansible_user": USER,
            "ansible_ssh_private_key_file": str(self.key),
            "ansible_ssh_common_args": " ".join(self.ssh_args()),
            "tickets_api_url": f"http://127.0.0.1:{MOCK_PORT}/tickets",
            # pip in the hosts goes through the same TLS-intercepting proxy
            # as this machine: trust what this machine trusts.
            "tickets_extra_ca_certs": ["/etc/ssl/certs/ca-certificates.crt"],
            "tickets_run_on_deploy": True,
        }
        inventory = {"all": {"children": {"tickets": {"hosts": hosts, "vars": group_vars}}}}
        self.inventory.write_text(json.dumps(inventory, indent=2) + "\n")  # JSON is YAML

    def deploy(self, *args: str) -> PlaybookRun:
        """ansible-playbook playbook.yml over SSH, with fresh SSH connections."""
        self.runs += 1
        env = dict(os.environ)
        env.setdefault("ANSIBLE_HOME", str(ROOT / ".ansible"))
        env.setdefault("ANSIBLE_LOCAL_TEMP", str(ROOT / ".ansible" / "tmp"))
        # A control path directory per run: each run opens its own connections.
        env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(self.workdir / f"cp{self.runs}")
        env.pop("ANSIBLE_CONFIG", None)
        # Each task's time, in the log.
        env.setdefault("ANSIBLE_CALLBACKS_ENABLED", "ansible.posix.profile_tasks")
        playbook = [
            str(ROOT / ".venv" / "bin" / "ansible-playbook"),
            "-i",
            str(self.inventory),
            "playbook.yml",
        ]
        log = self.workdir / f"playbook-{self.runs}.log"
        hosts_before = self.hosts_cpu()
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        with log.open("w") as out:  # written as it runs: tail -f it
            command = [*playbook, *args]
            rc = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=out).returncode
        seconds = time.monotonic() - start
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        controller_cpu = (children.ru_utime - children_before.ru_utime) + (
            children.ru_stime - children_before.ru_stime
        )
        hosts_after = self.hosts_cpu()
        hosts_cpu = (
            hosts_after - hosts_before
            if hosts_before is not None and hosts_after is not None
            else None
        )
        output = log.read_text()
        recap = {
            m[1]: dict(zip(RECAP_FIELDS, map(int, m.groups()[1:]), strict=True))
            for m in RECAP.finditer(output)
        }
        return PlaybookRun(rc, seconds, output, recap, controller_cpu, hosts_cpu)

    def hosts_cpu(self) -> float | None:
        """CPU seconds all the hosts' containers used so far."""
        ids = run("docker", "inspect", "--format", "{{.Id}}",
                  *(self.container(host) for host in self.hosts)).stdout.split()  # fmt: skip
        seconds = [container_cpu(container_id) for container_id in ids]
        return None if None in seconds else sum(s for s in seconds if s is not None)

    def sh(self, host: str, script: str) -> subprocess.CompletedProcess[str]:
        """Run a shell script in a host as root, through docker (the test's own channel)."""
        return run("docker", "exec", self.container(host), "sh", "-c", script, check=False)

    def destroy(self) -> None:
        names = [self.container(host) for host in self.hosts]
        run("docker", "rm", "--force", "--volumes", *names, check=False)
