"""README's install commands, as a user runs them: `pipx install .` from a
checkout and `pip install .` into a fresh virtualenv give a working `tickets`
command, and `python3 files/tickets.py` keeps working from the checkout.

They download the runtime dependencies from the package index (the pins of
files/requirements.txt), so this runs in `make test` (`make test-package`),
not in `make check`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]


def pins() -> dict[str, str]:
    lines = (ROOT / "files" / "requirements.txt").read_text().splitlines()
    pairs = [line.split("==") for line in lines if "==" in line and not line.startswith("#")]
    return {name.strip().lower(): version.strip() for name, version in pairs}


def run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, timeout=600, **kwargs
    )


def check_tickets(command: list[str | Path], url: str, tmp_path: Path) -> None:
    """The installed command reports on the mock API and saves its report."""
    version = run(*command, "--version")
    assert version.returncode == 0, version.stderr
    assert re.fullmatch(r"tickets(\.py)? \d+\.\d+\.\d+\n", version.stdout), version.stdout
    result = run(*command, "--api", url, "--log", tmp_path / "reports", "--lang", "en")
    assert result.returncode == 0, result.stderr
    (report,) = (tmp_path / "reports").glob("*.json")
    assert f"Open tickets: {json.loads(report.read_text())['open']['count']}" in result.stdout


def test_pipx_install_from_a_checkout(shared_mock_api, tmp_path: Path) -> None:
    env = os.environ | {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin")}
    pipx = ROOT / ".venv" / "bin" / "pipx"
    done = run(pipx, "install", ".", cwd=ROOT, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    check_tickets([tmp_path / "bin" / "tickets"], shared_mock_api.tickets_url, tmp_path)
    # The package carries the pins of files/requirements.txt, and only those.
    freeze = run(pipx, "runpip", DISTRIBUTION, "freeze", env=env)
    assert freeze.returncode == 0, freeze.stderr
    installed = dict(
        line.lower().split("==") for line in freeze.stdout.splitlines() if "==" in line
    )
    installed.pop("tickets", None)  # "tickets @ file://..." when built from a checkout
    assert installed == pins()


def test_pip_install_into_a_venv_and_the_checkout_script(shared_mock_api, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", venv).returncode == 0
    done = run(venv / "bin" / "pip", "install", "-q", ".", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    check_tickets([venv / "bin" / "tickets"], shared_mock_api.tickets_url, tmp_path / "installed")
    # From the checkout, with that venv's Python (the dependencies only).
    check_tickets(
        [venv / "bin" / "python", ROOT / "files" / "tickets.py"],
        shared_mock_api.tickets_url,
        tmp_path / "checkout",
    )
