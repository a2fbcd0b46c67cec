"""Shared fixtures: run the real mock ticket API (files/mock_api.py) as a subprocess.

    def test_something(mock_api):
        api = mock_api("--seed", "42")        # extra CLI args; --port 0 is implied
        urllib.request.urlopen(api.tickets_url)   # http://127.0.0.1:PORT/tickets
        api.url                                    # http://127.0.0.1:PORT
        assert api.stop() == 0                     # optional: teardown stops it anyway

Every process started through the fixture is stopped in teardown (SIGTERM,
then SIGKILL if it has not exited after a few seconds).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

MOCK_API = Path(__file__).resolve().parent.parent / "files" / "mock_api.py"
LISTENING = re.compile(r"mock API listening on (http://[^/\s]+)/tickets")


class MockApi:
    """A running files/mock_api.py; its stdout and stderr go to files in log_dir."""

    def __init__(self, args: tuple[str, ...], log_dir: Path, start_timeout: float) -> None:
        self.command = [sys.executable, str(MOCK_API), "--port", "0", *args]
        self.stdout_path = log_dir / "stdout.txt"
        self.stderr_path = log_dir / "stderr.txt"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )
        try:
            self.url = self._wait_for_url(start_timeout)
        except BaseException:
            self.stop()
            raise

    @property
    def tickets_url(self) -> str:
        return self.url + "/tickets"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")

    def _wait_for_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            first, newline, _ = self.stdout.partition("\n")
            if newline:
                match = LISTENING.fullmatch(first)
                if not match:
                    pytest.fail(f"unexpected first line from mock API: {first!r}")
                return match.group(1)
            if self.process.poll() is not None:
                code = self.process.returncode
                pytest.fail(f"mock API exited ({code}) before listening:\n{self.stderr}")
            time.sleep(0.01)
        pytest.fail(f"mock API did not print its URL within {timeout} s:\n{self.stderr}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> int:
        """Send `sig`, wait up to `timeout` s (then SIGKILL); return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


MockApiFactory = Callable[..., MockApi]


@pytest.fixture
def mock_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockApiFactory]:
    """Factory: mock_api(*cli_args, start_timeout=10.0) -> a running MockApi."""
    started: list[MockApi] = []

    def start(*args: str, start_timeout: float = 10.0) -> MockApi:
        api = MockApi(args, tmp_path_factory.mktemp("mock_api"), start_timeout)
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


@pytest.fixture(scope="session")
def shared_mock_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockApi]:
    """One mock API with default options for the whole session (read-only use)."""
    api = MockApi((), tmp_path_factory.mktemp("mock_api_shared"), 10.0)
    yield api
    api.stop()
