"""The collection helpdesk.tickets as a Galaxy user gets it (`make test-collection`).

Offline (no Galaxy), each step a test:
- `ansible-galaxy collection build`: the artifact holds what it should, and only that;
- `ansible-galaxy collection install TARBALL -p DIR` into an empty collections path;
- `ansible-galaxy collection install -r requirements.yml`, git+file:// of a clone of
  this worktree's HEAD;
- `ansible-playbook helpdesk.tickets.deploy` from a folder outside the repository,
  against one container booting systemd, fed by the mock API: it deploys, the timer
  is active, the job writes a report; then again from the git install;
- `ansible-doc -t role helpdesk.tickets.tickets` shows every variable of the role;
- `ansible-lint --profile production --strict` is clean from the repository root,
  and the galaxy rule is on (a copy without a changelog fails).

Every ansible command runs without the Makefile's ANSIBLE_* environment (that
points at the repository's roles and at ansible-lint's link to this tree), so
only the installed collection can answer. Needs Docker and the image
tickets-systemd:bookworm (`make images`); the container is removed at the end,
pass or fail. Uncommitted changes are in the tarball, not in the git install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PREFIX = os.environ.get("TICKETS_MOLECULE_PREFIX", "tickets")
CONTAINER = f"{PREFIX}-collection-bookworm"
IMAGE = os.environ.get("TICKETS_IMAGE_BOOKWORM", "tickets-systemd:bookworm")
REPORT_DIR = "/var/lib/tickets/reports"
INSTALL_DIR = "/opt/tickets"
MOCK_PATH = "/usr/local/lib/tickets-mock-api.py"
COLLECTION = Path("ansible_collections/helpdesk/tickets")
TARBALL_NAME = "helpdesk-tickets-1.0.0.tar.gz"
# A first deployment installs apt packages and the job's virtualenv with pip.
PLAY_TIMEOUT = 900

# In the artifact (paths inside it), and what must never be.
REQUIRED = [
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "CHANGELOG.md",
    "LICENSE",
    "meta/runtime.yml",
    "playbooks/deploy.yml",
    "pyproject.toml",
    "docs/tool.md",
    "files/tickets.py",
    "files/requirements.txt",
    "files/ticketslib/__init__.py",
    "files/ticketslib/cli.py",
    "roles/tickets/README.md",
    "roles/tickets/tasks/main.yml",
    "roles/tickets/defaults/main.yml",
    "roles/tickets/meta/main.yml",
    "roles/tickets/meta/argument_specs.yml",
]
FORBIDDEN = re.compile(
    r"^(\.venv|\.ansible|\.cache|\.ci|\.git|tests|bench|scripts|inventory|logs|build|dist)(/|$)"
    r"|^roles/[^/]+/molecule(/|$)"
    r"|(^|/)(__pycache__|\.tickets-wheels|\.pytest_cache|\.ruff_cache)(/|$)"
    r"|\.(pyc|tar\.gz|log)$|\.egg-info(/|$)"
    r"|^(Makefile|ansible\.cfg|playbook\.yml|requirements-[^/]*\.txt|galaxy\.yml)$"
)
PRODUCTION = ["--profile", "production", "--strict"]
MAX_TARBALL_BYTES = 512 * 1024
RECAP = re.compile(
    rf"^{re.escape(CONTAINER)}\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


def clean_env(home: Path) -> dict[str, str]:
    """The caller's environment without any ANSIBLE_* (the Makefile's roles and
    collections paths), the venv first on PATH, Ansible's state under home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_HOME"] = str(home)
    env["ANSIBLE_LOCAL_TEMP"] = str(home / "tmp")
    env["ANSIBLE_NOCOLOR"] = "true"
    env["ANSIBLE_FORCE_COLOR"] = "false"
    return env


def run(
    args: list[str | Path], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    start = time.monotonic()
    result = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    # Shown by pytest when a test fails ("Captured stdout call").
    took = time.monotonic() - start
    print(f"===== {' '.join(map(str, args))}: exit {result.returncode} in {took:.0f} s")
    print(result.stdout)
    return result


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def in_box(*args: str) -> subprocess.CompletedProcess[str]:
    return docker("exec", CONTAINER, *args)


def remove_container() -> None:
    if docker("container", "inspect", CONTAINER).returncode == 0:
        docker("rm", "-f", CONTAINER)


def installed_paths(collection: Path) -> set[str]:
    return {p.relative_to(collection).as_posix() for p in collection.rglob("*") if p.is_file()}


def check_contents(paths: set[str], what: str) -> None:
    missing = [p for p in REQUIRED if p not in paths]
    assert not missing, f"{what} lacks {missing}"
    forbidden = sorted(p for p in paths if FORBIDDEN.search(p))
    assert not forbidden, f"{what} holds {forbidden}"


@pytest.fixture(scope="module")
def lint() -> Iterator[subprocess.Popen[str]]:
    """ansible-lint from the repository root, started first: it runs while the
    container deploys (about a minute), with the project's own settings."""
    process = subprocess.Popen(
        [BIN / "ansible-lint", "--nocolor", *PRODUCTION],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.communicate()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's folder, outside the repository."""
    work = tmp_path_factory.mktemp("collection")
    assert ROOT not in work.parents
    return work


@pytest.fixture(scope="module")
def tarball(work: Path, lint: subprocess.Popen[str]) -> Path:
    out = work / "dist"
    result = run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(ROOT)],
        cwd=work,
        env=clean_env(work / "home"),
    )
    assert result.returncode == 0, result.stdout
    path = out / TARBALL_NAME
    assert path.is_file(), f"no {TARBALL_NAME} in {sorted(os.listdir(out))}"
    return path


@pytest.fixture(scope="module")
def from_tarball(work: Path, tarball: Path) -> Path:
    """The tarball installed into an empty collections path."""
    path = work / "collections-tarball"
    path.mkdir()
    result = run(
        [str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(path)],
        cwd=work,
        env=clean_env(work / "home"),
    )
    assert result.returncode == 0, result.stdout
    return path


@pytest.fixture(scope="module")
def from_git(work: Path) -> Path:
    """The collection installed from git: a clone of this worktree's HEAD,
    through a requirements.yml as a user writes it."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    clone = work / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    requirements = work / "requirements.yml"
    requirements.write_text(
        yaml.safe_dump(
            {"collections": [{"name": f"git+file://{clone}", "type": "git", "version": head}]}
        ),
        encoding="utf-8",
    )
    path = work / "collections-git"
    path.mkdir()
    result = run(
        [BIN / "ansible-galaxy", "collection", "install", "-r", requirements, "-p", path],
        cwd=work,
        env=clean_env(work / "home"),
    )
    assert result.returncode == 0, result.stdout
    return path


@pytest.fixture(scope="module")
def container() -> Iterator[str]:
    """One container booting systemd, the mock API running inside it."""
    if docker("image", "inspect", IMAGE).returncode != 0:
        pytest.fail(f"no image {IMAGE}: run 'make images'")
    remove_container()
    try:
        started = docker(
            "run", "--detach", "--name", CONTAINER, "--hostname", CONTAINER,
            "--cgroupns", "host", "--cap-add", "SYS_ADMIN",
            "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
            "--tmpfs", "/run", "--tmpfs", "/run/lock",
            "--volume", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
            IMAGE, "/lib/systemd/systemd",
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        state = ""
        for _ in range(120):
            state = in_box("systemctl", "is-system-running").stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.5)
        assert state in ("running", "degraded"), f"systemd did not boot: {state!r}"
        copied = docker("cp", str(ROOT / "files" / "mock_api.py"), f"{CONTAINER}:{MOCK_PATH}")
        assert copied.returncode == 0, copied.stderr
        mock = in_box(
            "systemd-run", "--quiet", "--unit", "tickets-mock-api",
            "/usr/bin/python3", MOCK_PATH, "--host", "127.0.0.1", "--port", "3000", "--seed", "7",
        )  # fmt: skip
        assert mock.returncode == 0, mock.stderr
        health = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz')"
        for _ in range(40):
            if in_box("/usr/bin/python3", "-c", health).returncode == 0:
                break
            time.sleep(0.25)
        assert in_box("/usr/bin/python3", "-c", health).returncode == 0, "no mock API"
        yield CONTAINER
    finally:
        remove_container()


@pytest.fixture(scope="module")
def site(work: Path, from_tarball: Path) -> Path:
    """The user's folder: an ansible.cfg naming the tarball's install, an inventory."""
    site = work / "site"
    site.mkdir()
    (site / "ansible.cfg").write_text(
        "[defaults]\n"
        f"collections_path = {from_tarball}\n"
        "inventory = inventory.yml\n"
        "interpreter_python = /usr/bin/python3\n"
        "retry_files_enabled = false\n",
        encoding="utf-8",
    )
    host = {
        "ansible_connection": "community.docker.docker",
        # The container runs as root and has no sudo.
        "ansible_become_method": "ansible.builtin.su",
        "tickets_api_url": "http://127.0.0.1:3000/tickets",
        "tickets_report_dir": REPORT_DIR,
        "tickets_install_dir": INSTALL_DIR,
        "tickets_randomized_delay_sec": 0,
        # pip in the container goes through this machine's TLS-intercepting proxy.
        "tickets_extra_ca_certs": ["/etc/ssl/certs/ca-certificates.crt"],
    }
    inventory = {"all": {"children": {"tickets": {"hosts": {CONTAINER: host}}}}}
    (site / "inventory.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    return site


def recap(output: str) -> dict[str, int]:
    match = RECAP.search(output)
    assert match, f"no PLAY RECAP line for {CONTAINER}"
    return {k: int(v) for k, v in match.groupdict().items()}


def test_the_artifact_holds_the_role_the_tool_and_the_docs_only(tarball: Path) -> None:
    with tarfile.open(tarball) as tar:
        paths = {m.name for m in tar.getmembers() if m.isfile()}
        manifest = json.load(tar.extractfile("MANIFEST.json"))  # type: ignore[arg-type]
    check_contents(paths, TARBALL_NAME)
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("helpdesk", "tickets", "1.0.0")
    assert info["license"] == ["MIT"]
    assert info["repository"]
    size = tarball.stat().st_size
    assert size < MAX_TARBALL_BYTES, f"{TARBALL_NAME} is {size} bytes"


def test_install_from_tarball_into_an_empty_path(from_tarball: Path) -> None:
    collection = from_tarball / COLLECTION
    check_contents(installed_paths(collection), str(collection))
    # The role's default tickets_source_dir, "{{ role_path }}/../../files".
    files = (collection / "roles" / "tickets" / ".." / ".." / "files").resolve()
    assert files == (collection / "files").resolve()
    assert (files / "tickets.py").is_file()
    assert (files / "requirements.txt").is_file()


def test_install_from_git(from_git: Path) -> None:
    collection = from_git / COLLECTION
    check_contents(installed_paths(collection), str(collection))
    manifest = json.loads((collection / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["collection_info"]["version"] == "1.0.0"


def test_ansible_doc_shows_every_variable(site: Path, work: Path, from_tarball: Path) -> None:
    result = run(
        [str(BIN / "ansible-doc"), "-t", "role", "helpdesk.tickets.tickets"],
        cwd=site,
        env=clean_env(work / "home"),
    )
    assert result.returncode == 0, result.stdout
    # The role documented is the installed one.
    assert f"> ROLE: *helpdesk.tickets.tickets* ({from_tarball / COLLECTION})\n" in result.stdout
    specs = yaml.safe_load(
        (from_tarball / COLLECTION / "roles/tickets/meta/argument_specs.yml").read_text("utf-8")
    )
    names = list(specs["argument_specs"]["main"]["options"])
    assert {"tickets_api_url", "tickets_scheduler", "tickets_state"} <= set(names)
    missing = [name for name in names if name not in result.stdout]
    assert not missing, f"ansible-doc does not show {missing}"


def test_deploy_from_a_folder_outside_the_repository(
    site: Path, work: Path, from_tarball: Path, container: str
) -> None:
    env = clean_env(work / "home")
    listed = run([str(BIN / "ansible-galaxy"), "collection", "list", "helpdesk.tickets"], site, env)
    assert listed.returncode == 0, listed.stdout
    assert f"# {from_tarball}/ansible_collections" in listed.stdout
    assert listed.stdout.count("helpdesk.tickets ") == 1, "another helpdesk.tickets is visible"

    result = run([BIN / "ansible-playbook", "helpdesk.tickets.deploy"], site, env, PLAY_TIMEOUT)
    assert result.returncode == 0, result.stdout[-3000:]
    counts = recap(result.stdout)
    assert counts["failed"] == counts["unreachable"] == 0
    assert counts["changed"] > 0

    active = in_box("systemctl", "is-active", "tickets.timer")
    assert active.stdout.strip() == "active", active.stdout + active.stderr
    # The code deployed is the installed collection's files/.
    shipped = (from_tarball / COLLECTION / "files" / "ticketslib" / "cli.py").read_bytes()
    found = in_box("find", INSTALL_DIR, "-name", "cli.py", "-path", "*ticketslib*")
    deployed = [p for p in found.stdout.split() if p]
    assert deployed, f"no ticketslib/cli.py under {INSTALL_DIR}"
    contents = [docker("exec", container, "cat", p).stdout.encode() for p in deployed]
    assert shipped in contents

    # The job, as its timer starts it, writes a report.
    job = in_box("systemctl", "start", "tickets.service")
    assert job.returncode == 0, job.stderr + in_box("journalctl", "-u", "tickets.service").stdout
    names = in_box("find", REPORT_DIR, "-maxdepth", "1", "-name", "*.json").stdout.splitlines()
    assert names, f"no report in {REPORT_DIR}"
    report = json.loads(in_box("cat", names[0]).stdout)
    assert report["open"]["count"] == len(report["open"]["tickets"]) > 0


def test_deploy_from_the_git_install(
    site: Path, work: Path, from_git: Path, container: str
) -> None:
    """The same folder, the git install instead (ANSIBLE_COLLECTIONS_PATH over
    ansible.cfg), the host named by tickets_hosts: it applies cleanly."""
    env = clean_env(work / "home") | {"ANSIBLE_COLLECTIONS_PATH": str(from_git)}
    listed = run([str(BIN / "ansible-galaxy"), "collection", "list", "helpdesk.tickets"], site, env)
    assert f"# {from_git}/ansible_collections" in listed.stdout
    result = run(
        [BIN / "ansible-playbook", "helpdesk.tickets.deploy", "-e", f"tickets_hosts={container}"],
        site,
        env,
        PLAY_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    counts = recap(result.stdout)
    assert counts["failed"] == counts["unreachable"] == 0
    assert in_box("systemctl", "is-active", "tickets.timer").stdout.strip() == "active"


def test_ansible_lint_production_is_clean(lint: subprocess.Popen[str]) -> None:
    output, _ = lint.communicate(timeout=600)
    print(output)
    assert lint.returncode == 0, output[-3000:]
    assert "Profile 'production' was required, and it passed." in output


def test_the_galaxy_rule_is_on(work: Path) -> None:
    """The project's ansible-lint settings on a copy of the collection's
    metadata without a changelog: the galaxy rule must flag it."""
    copy = work / "lint-copy"
    (copy / "meta").mkdir(parents=True)
    for name in ("galaxy.yml", "README.md", "LICENSE", "meta/runtime.yml"):
        shutil.copy(ROOT / name, copy / name)
    subprocess.run(["git", "init", "--quiet", str(copy)], check=True)
    result = run(
        [BIN / "ansible-lint", "--nocolor", "-c", ROOT / ".ansible-lint", *PRODUCTION],
        cwd=copy,
        env=clean_env(work / "lint-home"),
    )
    assert result.returncode != 0, "ansible-lint passed a collection without a changelog"
    assert "galaxy[no-changelog]" in result.stdout
