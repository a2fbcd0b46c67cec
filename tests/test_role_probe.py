"""The role's probe module (roles/tickets/library/tickets_probe.py), run by
Ansible on this machine (connection local) against files made here: what it
reports is what the role's tasks compare with before they write anything."""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support import ROOT

ANSIBLE = ROOT / ".venv" / "bin" / "ansible"


def probe(tmp_path: Path, **args: Any) -> dict[str, Any]:
    env = dict(
        os.environ,
        ANSIBLE_HOME=str(tmp_path / "ansible"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible" / "tmp"),
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
    )
    library = str(ROOT / "roles/tickets/library")
    command = [str(ANSIBLE), "localhost", "-c", "local", "-M", library, "-m", "tickets_probe"]
    result = subprocess.run(
        [*command, "-a", json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "lib").mkdir(parents=True)
    (root / "lib").chmod(0o750)
    (root / "lib" / "a.py").write_text("print('a')\n")
    (root / "lib" / "b.py").write_bytes(b"\x00binary\xff")
    (root / "lib" / "b.py").chmod(0o600)
    (root / "venvs" / "py3-abc").mkdir(parents=True)
    (root / "venv").symlink_to(root / "venvs" / "py3-abc")
    return root


def test_it_reports_type_mode_owners_checksum_and_link_target(tmp_path: Path, tree: Path) -> None:
    paths = [str(tree / name) for name in ("lib", "venv", "missing", "lib/missing.py")]
    result = probe(tmp_path, paths=paths, patterns=[f"{tree}/lib/*.py"])
    assert result["changed"] is False
    files = result["files"]
    # Missing paths are left out; the pattern adds the files it matches.
    assert sorted(files) == sorted(str(tree / n) for n in ("lib", "venv", "lib/a.py", "lib/b.py"))
    me, my_group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    lib = {"state": "directory", "mode": "0750", "owner": me, "group": my_group}
    assert files[str(tree / "lib")] == lib
    b = files[str(tree / "lib/b.py")]
    assert (b["state"], b["mode"]) == ("file", "0600")
    assert b["checksum"] == hashlib.sha1(b"\x00binary\xff").hexdigest()
    # The checksum the role computes on the controller: SHA-1 of the text.
    a = files[str(tree / "lib/a.py")]["checksum"]
    assert a == hashlib.sha1(b"print('a')\n").hexdigest()
    venv = files[str(tree / "venv")]
    assert (venv["state"], venv["src"]) == ("link", str(tree / "venvs" / "py3-abc"))
    assert "checksum" not in venv


def test_it_lists_the_packages_dpkg_does_not_have(tmp_path: Path) -> None:
    if not Path("/var/lib/dpkg/status").exists():
        pytest.skip("not a dpkg system")
    result = probe(tmp_path, paths=[], packages=["dpkg", "tickets-no-such-package"])
    assert result["packages_missing"] == ["tickets-no-such-package"]
    assert result["systemd_version"] == 0  # not asked for


def test_it_reads_the_systemd_version_when_asked(tmp_path: Path) -> None:
    if shutil.which("systemctl") is None:
        pytest.skip("no systemctl here")
    version = subprocess.run(["systemctl", "--version"], capture_output=True, text=True)
    expected = int(version.stdout.split()[1])
    assert probe(tmp_path, paths=[], systemd=True)["systemd_version"] == expected
