"""Shared fixtures: run the real mock ticket API (files/mock_api.py) as a subprocess,
a recording HTTP server, log directories with reports already in them, tmpfs mounts.

files/ is put on sys.path, so tests can import ticketslib (the modules of files/tickets.py).

    def test_something(mock_api):
        api = mock_api("--seed", "42")        # extra CLI args; --port 0 is implied
        urllib.request.urlopen(api.tickets_url)   # http://127.0.0.1:PORT/tickets
        api.url                                    # http://127.0.0.1:PORT
        assert api.stop() == 0                     # optional: teardown stops it anyway

Every process started through the fixture is stopped in teardown (SIGTERM,
then SIGKILL if it has not exited after a few seconds).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import default_signals

FILES = Path(__file__).resolve().parent.parent / "files"
MOCK_API = FILES / "mock_api.py"
sys.path.insert(0, str(FILES))
LISTENING = re.compile(r"mock API listening on (http://[^/\s]+)/tickets")


class MockApi:
    """A running files/mock_api.py; its stdout and stderr go to files in log_dir."""

    def __init__(self, args: tuple[str, ...], log_dir: Path, start_timeout: float) -> None:
        self.command = [sys.executable, str(MOCK_API), "--port", "0", *args]
        self.stdout_path = log_dir / "stdout.txt"
        self.stderr_path = log_dir / "stderr.txt"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                preexec_fn=default_signals,
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


# -- a recording HTTP server -----------------------------------------------------


@dataclass
class RecordingServer:
    """A stdlib HTTP server on a free loopback port that records every request.

    It answers `status` with `body` after `delay` seconds; `arrived` is set when
    a request comes in.
    """

    status: int = 200
    body: bytes = b'{"tickets": []}'
    delay: float = 0.0
    requests: list[dict[str, str]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.requests.append({"path": self.path, **dict(self.headers.items())})
                recorder.arrived.set()
                time.sleep(recorder.delay)
                self.send_response(recorder.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(recorder.body)))
                self.end_headers()
                self.wfile.write(recorder.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/tickets"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recording_server() -> Iterator[RecordingServer]:
    server = RecordingServer()
    yield server
    server.close()


# -- log directories -------------------------------------------------------------

OLD_REPORT = {"open": {"tickets": [], "count": 0}, "by_category": {"old": 1}}


def populate(directory: Path) -> None:
    """Files a log directory may already hold: two reports and unrelated files."""
    directory.mkdir(parents=True, exist_ok=True)
    old = json.dumps(OLD_REPORT, indent=4).encode()
    (directory / "25-01-01 00-00-00.json").write_bytes(old)
    (directory / "NFZmUxbw7gHMTsUbvnv2Nb.json").write_bytes(old)
    (directory / "notes.txt").write_text("operator notes\n")
    (directory / "other.json").write_text("[]")
    (directory / ".hidden.tmp").write_text("not ours")


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """A log directory that already holds reports and unrelated files."""
    directory = tmp_path / "logs"
    populate(directory)
    return directory


# -- tmpfs mounts ----------------------------------------------------------------

Mount = Callable[[Path, str], Path]


@pytest.fixture
def tmpfs() -> Iterator[Mount]:
    """Factory: tmpfs(DIR, "size=64k") mounts a tmpfs on DIR (unmounted in teardown).

    Skips the test when not root or when mounting is not allowed here.
    """
    mounted: list[Path] = []

    def mount(directory: Path, options: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        directory.mkdir(parents=True, exist_ok=True)
        command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=10)
        except OSError as exc:
            pytest.skip(f"cannot run mount: {exc}")
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(directory)
        return directory

    yield mount
    for directory in reversed(mounted):
        subprocess.run(["umount", str(directory)], check=False, timeout=10)


def remount(directory: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(directory)], check=True, timeout=10)
