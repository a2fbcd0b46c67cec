"""The report process (ticketslib.child): a second process formats and writes
the report while the run parses. It never outlives the run, its failure fails
the run with one line and no report, and without it the report is the same.

Each test feeds the run through a pipe on stdin, so that it is caught mid-run
(the report process started, a part of the list sent to it) for as long as the
test needs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import (
    assert_error,
    console_text,
    expected_report,
    finish,
    only_report,
    report_bytes,
    start_cli,
    temp_files,
)
from ticketslib import child, cli

TICKETS = [
    {"id": i, "category": f"c{i % 7}", "status": "open" if i % 3 else "closed", "pad": "x" * 40}
    for i in range(30000)
]
BODY = json.dumps(TICKETS).encode()  # about 2.5 MiB: several parts
HEAD = len(BODY) // 2  # more than one part: the report process has work


def children(pid: int) -> list[int]:
    """The processes whose parent is PID."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    """Whether PID runs (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def wait_until(condition: object, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def mid_run(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """A run fed half the list on stdin, with its report process: (run, its pid, DIR)."""
    log = tmp_path / "logs"
    process = start_cli("--input", "-", "--log", log, stdin=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(BODY[:HEAD])
    process.stdin.flush()
    assert wait_until(lambda: children(process.pid)), "no report process"
    found = children(process.pid)
    assert len(found) == 1
    time.sleep(0.3)  # the parts so far parsed and sent
    yield process, found[0], log
    if process.poll() is None:
        process.kill()
        process.wait()
    if alive(found[0]):
        os.kill(found[0], signal.SIGKILL)


def test_report_process_works_beside_the_run(
    mid_run: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    process, pid, log = mid_run
    assert alive(pid)
    result = finish(process, BODY[HEAD:])
    assert result.returncode == 0, result.stderr
    report = only_report(log)
    assert report.read_bytes() == report_bytes(TICKETS)
    assert result.stdout == console_text(expected_report(TICKETS), report)
    assert not alive(pid)


@pytest.mark.parametrize(
    ("sig", "code", "line"),
    [
        (signal.SIGTERM, 143, "tickets: terminated (SIGTERM)\n"),
        (signal.SIGINT, 130, "tickets: interrupted\n"),
    ],
)
@pytest.mark.parametrize("both", [False, True], ids=["run", "run and report process"])
def test_signal_ends_both(
    mid_run: tuple[subprocess.Popen[bytes], int, Path],
    sig: signal.Signals,
    code: int,
    line: str,
    both: bool,
) -> None:
    # A signal to the run (kill), or to both (a Ctrl-C, systemd stopping the unit).
    process, pid, log = mid_run
    if both:
        os.kill(pid, sig)
    process.send_signal(sig)
    result = finish(process, timeout=10)
    assert (result.returncode, result.stderr) == (code, line)
    assert not alive(pid)
    assert list(log.iterdir()) == []


def test_killed_run_ends_report_process(
    mid_run: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    process, pid, _ = mid_run
    process.kill()  # (no chance to stop it: its pipe closes)
    process.wait()
    assert wait_until(lambda: not alive(pid), timeout=5), "the report process outlived the run"


def test_killed_report_process_fails_the_run(
    mid_run: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    process, pid, log = mid_run
    os.kill(pid, signal.SIGKILL)
    result = finish(process, BODY[HEAD:])
    assert_error(result, 5, "cannot write report in", "report process ended (killed by SIGKILL)")
    assert list(log.iterdir()) == []


def test_report_process_error_before_a_later_failure(tmp_path: Path) -> None:
    # An unresolved ticket the report process fails on (a number out of range,
    # found when it decodes its part) comes before invalid JSON at the end: its
    # error is the one reported, as when one process did it all.
    # One part and a rest (about 1.3 MiB): the run fails on the rest before it
    # sends anything more, so it must wait for the report process's answer.
    bad = [{"id": 0, "category": "c", "status": "open", "x": 1.5}, *TICKETS[:16000]]
    text = json.dumps(bad).replace("1.5", "1e400", 1)[:-1] + ", nonsense]"
    assert 1024 * 1024 < len(text) < 2 * 1024 * 1024
    log = tmp_path / "logs"
    process = start_cli("--input", "-", "--log", log, stdin=subprocess.PIPE)
    result = finish(process, text.encode())
    assert_error(result, 4, "a number is out of range: 1e400")
    assert list(log.iterdir()) == []


def test_same_report_without_report_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # Where no process can be started (a process limit), the run does it all.
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    source = tmp_path / "in.json"
    source.write_bytes(BODY)
    log = tmp_path / "logs"
    monkeypatch.setattr(child.os, "fork", no_fork)
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        assert cli.main(["--input", str(source), "--log", str(log)]) == 0
    finally:
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])
    report = only_report(log)
    assert report.read_bytes() == report_bytes(TICKETS)
    stdout = capsysbinary.readouterr().out.decode()
    assert stdout == console_text(expected_report(TICKETS), report)
    assert temp_files(log) == []
