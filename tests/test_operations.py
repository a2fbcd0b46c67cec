"""Operability of files/tickets.py: --metrics (checked with promtool), --max-list,
journal priority prefixes, the SIGTERM line, stale temporary files, --every."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support import (
    REFERENCE,
    ROOT,
    assert_ok,
    finish,
    reports,
    run_cli,
    start_cli,
    temp_files,
    write_json,
)
from ticketslib import schedule

if TYPE_CHECKING:
    from conftest import MockApi, MockApiFactory

NAMES = [
    "tickets_open",
    "tickets_fetched",
    "tickets_by_category",
    "tickets_last_run_timestamp_seconds",
    "tickets_last_success_timestamp_seconds",
    "tickets_last_run_exit_code",
    "tickets_run_duration_seconds",
    "tickets_run_pages",
    "tickets_run_http_requests",
    "tickets_run_rate_limit_wait_seconds",
]
RUN_COST = {"tickets_run_pages", "tickets_run_http_requests", "tickets_run_rate_limit_wait_seconds"}
CARRIED = ["tickets_open", "tickets_fetched", "tickets_by_category"]
SAMPLE = re.compile(r'^(\w+)(?:\{category="((?:[^"\\]|\\.)*)"\})? (\S+)$')


def promtool() -> str:
    """promtool from PROMTOOL, PATH or .cache/promtool (make promtool puts it there)."""
    found = os.environ.get("PROMTOOL") or shutil.which("promtool")
    local = ROOT / ".cache" / "promtool" / "promtool"
    if not found and local.exists():
        found = str(local)
    assert found, "promtool not found: run 'make promtool' (scripts/promtool.sh)"
    return found


def check_metrics(path: Path) -> dict[str, dict[str | None, float]]:
    """Validate with promtool; return {name: {category label or None: value}}."""
    text = path.read_bytes()
    done = subprocess.run(
        [promtool(), "check", "metrics"], input=text, capture_output=True, timeout=30
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (done.stdout + done.stderr).strip() == b"", done.stdout + done.stderr
    samples: dict[str, dict[str | None, float]] = {}
    helped, typed = set(), set()
    for line in text.decode("utf-8").split("\n")[:-1]:
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
        elif line.startswith("# TYPE "):
            assert line.split()[3] == "gauge", line
            typed.add(line.split()[2])
        else:
            match = SAMPLE.match(line)
            assert match, line
            name, label, value = match.groups()
            samples.setdefault(name, {})[label] = float(value)
    assert helped == typed == set(samples), (helped, typed, set(samples))
    assert set(samples) <= set(NAMES)
    return samples


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/tickets"


def api_tickets(api: MockApi) -> list[dict]:
    import urllib.request

    with urllib.request.urlopen(api.tickets_url, timeout=5) as response:
        return json.load(response)["tickets"]


# -- --metrics -------------------------------------------------------------------


def test_metrics_after_success_match_the_report(tmp_path: Path, mock_api: MockApiFactory) -> None:
    api = mock_api("--seed", "3", "--count", "40")
    tickets = api_tickets(api)
    prom = tmp_path / "textfile" / "tickets.prom"
    prom.parent.mkdir()
    before = time.time()
    result = run_cli("--api", api.tickets_url, "--log", tmp_path / "logs", "--metrics", prom)
    assert_ok(result)
    report = json.loads(reports(tmp_path / "logs")[0].read_text())
    metrics = check_metrics(prom)
    assert set(metrics) == set(NAMES)
    assert metrics["tickets_open"][None] == report["open"]["count"]
    assert metrics["tickets_fetched"][None] == len(tickets) == 40
    assert metrics["tickets_by_category"] == {k: float(v) for k, v in report["by_category"].items()}
    assert metrics["tickets_last_run_exit_code"][None] == 0
    last_run = metrics["tickets_last_run_timestamp_seconds"][None]
    assert before - 1 <= last_run <= time.time()
    assert metrics["tickets_last_success_timestamp_seconds"][None] == last_run
    assert 0 <= metrics["tickets_run_duration_seconds"][None] < 30
    assert metrics["tickets_run_pages"][None] == 1
    assert metrics["tickets_run_http_requests"][None] == 1
    assert metrics["tickets_run_rate_limit_wait_seconds"][None] == 0
    assert list(prom.parent.iterdir()) == [prom]  # no temporary file left
    assert prom.stat().st_mode & 0o777 == 0o644  # node_exporter runs as another user


def test_failed_run_carries_figures_over(tmp_path: Path, mock_api: MockApiFactory) -> None:
    prom = tmp_path / "tickets.prom"
    log = tmp_path / "logs"
    down = closed_port_url()
    common = ("--log", log, "--metrics", prom, "--retries", "0")
    # Before the first success: no ticket figures, no last success.
    assert run_cli("--api", down, *common).returncode == 3
    first = check_metrics(prom)
    assert set(first) == {
        "tickets_last_run_timestamp_seconds",
        "tickets_last_run_exit_code",
        "tickets_run_duration_seconds",
        *RUN_COST,
    }
    assert first["tickets_last_run_exit_code"][None] == 3
    assert first["tickets_run_pages"][None] == 0
    assert first["tickets_run_http_requests"][None] == 1

    api = mock_api("--seed", "5", "--count", "30")
    assert_ok(run_cli("--api", api.tickets_url, *common))
    good = check_metrics(prom)
    time.sleep(0.05)
    result = run_cli("--api", down, *common)
    assert result.returncode == 3
    failed = check_metrics(prom)
    assert failed["tickets_last_run_exit_code"][None] == 3
    assert (
        failed["tickets_last_run_timestamp_seconds"][None]
        > good["tickets_last_run_timestamp_seconds"][None]
    )
    assert (
        failed["tickets_last_success_timestamp_seconds"]
        == good["tickets_last_success_timestamp_seconds"]
    )
    for name in CARRIED:
        assert failed[name] == good[name], name
    # Data errors (exit 4) carry over too.
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    assert run_cli("--input", bad, *common).returncode == 4
    again = check_metrics(prom)
    assert again["tickets_last_run_exit_code"][None] == 4
    for name in [*CARRIED, "tickets_last_success_timestamp_seconds"]:
        assert again[name] == good[name], name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "logs", "tickets.prom"]


def test_any_category_gives_a_valid_file(tmp_path: Path) -> None:
    categories = [
        'quote"d',
        "back\\slash",
        "new\nline",
        "\\n",
        "Жук 😀",
        "",
        " ",
        "tab\there",
        "\x01\u2028",
        "a} 1\nb{",
        "cr\r",
    ]
    data = [{"id": i, "category": c, "status": "open"} for i, c in enumerate(categories)]
    data.append({"id": 99, "category": 'quote"d', "status": "closed"})
    source = tmp_path / "in.json"
    source.write_text(json.dumps(data))
    prom = tmp_path / "tickets.prom"
    assert_ok(run_cli("--input", source, "--log", tmp_path / "logs", "--metrics", prom))
    metrics = check_metrics(prom)["tickets_by_category"]
    assert metrics['quote\\"d'] == 2
    assert metrics["back\\\\slash"] == 1
    assert metrics["new\\nline"] == 1
    assert metrics["\\\\n"] == 1
    assert metrics["Жук 😀"] == 1
    assert metrics["tab\there"] == 1
    assert metrics["a} 1\\nb{"] == 1
    assert sum(metrics.values()) == len(data)


def test_unwritable_metrics_warn_once_and_keep_exit_code(tmp_path: Path) -> None:
    source = write_json(tmp_path / "in.json", REFERENCE)
    prom = tmp_path / "missing-dir" / "tickets.prom"
    result = run_cli("--input", source, "--log", tmp_path / "logs", "--metrics", prom)
    assert result.returncode == 0
    assert len(reports(tmp_path / "logs")) == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tickets: warning: cannot write metrics file"), lines[0]
    assert "Traceback" not in result.stderr
    failed = run_cli(
        "--input", tmp_path / "nope.json", "--log", tmp_path / "logs", "--metrics", prom
    )
    assert failed.returncode == 3
    assert len(failed.stderr.splitlines()) == 2  # the error, then the warning


def test_metrics_from_environment(tmp_path: Path) -> None:
    source = write_json(tmp_path / "in.json", REFERENCE)
    prom = tmp_path / "env.prom"
    env = {"TICKETS_METRICS_FILE": str(prom), "TICKETS_INPUT": str(source)}
    assert_ok(run_cli("--log", tmp_path / "logs", env=env))
    assert check_metrics(prom)["tickets_open"][None] == 4


# -- --max-list ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "more"),
    [("en", "  ... and 2 more in the report file"), ("ru", "  ... и ещё 2 в файле отчёта")],
)
def test_max_list(tmp_path: Path, lang: str, more: str) -> None:
    source = write_json(tmp_path / "in.json", REFERENCE)
    result = run_cli(
        "--input", source, "--log", tmp_path / "logs", "--max-list", "2", "--lang", lang
    )
    assert_ok(result)
    lines = result.stdout.splitlines()
    listed = [line for line in lines if line.startswith("  - id: ")]
    assert listed == [
        "  - id: 1  category: customer_service",
        "  - id: 3  category: customer_service",
    ]
    assert lines[lines.index(listed[-1]) + 1] == more
    report = json.loads(reports(tmp_path / "logs")[0].read_text())
    assert report["open"]["count"] == 4 and len(report["open"]["tickets"]) == 4


@pytest.mark.parametrize(("value", "listed"), [("0", 0), ("4", 4), ("100", 4), (None, 4)])
def test_max_list_limits(tmp_path: Path, value: str | None, listed: int) -> None:
    source = write_json(tmp_path / "in.json", REFERENCE)
    env = {"TICKETS_MAX_LIST": value} if value is not None else {}
    result = run_cli("--input", source, "--log", tmp_path / "logs", "--lang", "en", env=env)
    assert_ok(result)
    assert result.stdout.count("  - id: ") == listed
    assert ("more in the report file" in result.stdout) is (listed < 4)


# -- journal priorities and signals -----------------------------------------------


def run_with_stderr_file(tmp_path: Path, journal: bool, *args: str | Path) -> tuple[int, str]:
    err = tmp_path / "stderr.txt"
    with err.open("wb") as handle:
        info = os.fstat(handle.fileno())
        env = {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}" if journal else "0:0"}
        process = start_cli(*args, env=env, stderr=handle)
        code = finish(process).returncode
    return code, err.read_text()


def test_journal_priority_prefixes(tmp_path: Path) -> None:
    source = write_json(tmp_path / "in.json", REFERENCE)
    missing = tmp_path / "no" / "x.prom"
    args = ("--input", source, "--log", tmp_path / "logs", "--metrics", missing)
    code, text = run_with_stderr_file(tmp_path, True, *args)
    assert code == 0
    assert text.startswith("<4>tickets: warning: cannot write metrics file"), text
    code, text = run_with_stderr_file(
        tmp_path, True, "--input", tmp_path / "nope", "--log", tmp_path
    )
    assert code == 3
    assert text.startswith("<3>tickets: error: "), text
    assert len(text.splitlines()) == 1
    code, text = run_with_stderr_file(tmp_path, True, "--input", "-", "--max-list", "x")
    assert code == 2
    assert text.splitlines()[-1].startswith("<3>tickets.py: error: argument --max-list"), text
    # JOURNAL_STREAM naming another file: no prefix.
    code, text = run_with_stderr_file(
        tmp_path, False, "--input", tmp_path / "nope", "--log", tmp_path
    )
    assert code == 3
    assert text.startswith("tickets: error: "), text


def test_sigterm_prints_one_line(tmp_path: Path, mock_api: MockApiFactory) -> None:
    api = mock_api("--fault-delay", "5")
    log = tmp_path / "logs"
    process = start_cli("--api", api.tickets_url, "--log", log, "--metrics", tmp_path / "t.prom")
    deadline = time.monotonic() + 10
    while not (log.is_dir() and temp_files(log)) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    result = finish(process, timeout=10)
    assert result.returncode == 143
    assert result.stderr == "tickets: terminated (SIGTERM)\n"
    assert list(log.iterdir()) == []
    assert check_metrics(tmp_path / "t.prom")["tickets_last_run_exit_code"][None] == 143


# -- stale temporary files ---------------------------------------------------------


def hold_locked(path: Path) -> subprocess.Popen[bytes]:
    """Another process that creates PATH and holds an exclusive flock on it, as
    a live run holds its temporary file (until its stdin closes)."""
    code = (
        "import fcntl, os, sys\n"
        f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert process.stdout is not None and process.stdout.readline() == b"locked\n"
    return process


def test_stale_temporary_files_are_removed_but_never_a_live_runs(tmp_path: Path) -> None:
    log = tmp_path / "logs"
    log.mkdir()
    old = time.time() - 2 * 3600
    # A live run's file, however old (a run longer than any fixed limit): kept.
    live = hold_locked(log / ".tickets-live.tmp")
    names = {
        ".tickets-live.tmp": time.time() - 10 * 24 * 3600,
        ".tickets-abc123.tmp": old,  # a killed run's: removed
        ".tickets-metrics-x.tmp": time.time() - 600,  # unlocked, a few minutes old: removed
        ".tickets-fresh.tmp": time.time() - 5,  # just made, maybe not locked yet: kept
        ".other-abc.tmp": old,
        "tickets-abc.tmp": old,
        ".tickets-abc.tmp.keep": old,
        "25-01-01 00-00-00.json": old,
    }
    try:
        for name, mtime in names.items():
            if name != ".tickets-live.tmp":
                (log / name).write_text("x")
            os.utime(log / name, (mtime, mtime))
        (log / ".tickets-dir.tmp").mkdir()
        os.utime(log / ".tickets-dir.tmp", (old, old))
        (log / ".tickets-link.tmp").symlink_to(log / "25-01-01 00-00-00.json")
        source = write_json(tmp_path / "in.json", REFERENCE)
        assert_ok(run_cli("--input", source, "--log", log))
        left = {p.name for p in log.iterdir()}
    finally:
        live.communicate(b"")
    assert ".tickets-abc123.tmp" not in left
    assert ".tickets-metrics-x.tmp" not in left
    kept = set(names) - {".tickets-abc123.tmp", ".tickets-metrics-x.tmp"}
    assert kept | {".tickets-dir.tmp", ".tickets-link.tmp"} <= left
    assert len(reports(log)) == 2


def test_a_run_holds_its_temporary_file_locked(tmp_path: Path) -> None:
    """While a run writes its report, another run's cleanup cannot take the
    file's lock (and so never removes it), however long the first one takes."""
    import fcntl

    log = tmp_path / "logs"
    process = start_cli("--input", "-", "--log", log, stdin=subprocess.PIPE)
    try:
        wait_for(lambda: log.is_dir() and bool(temp_files(log)))
        [temp] = temp_files(log)
        fd = os.open(temp, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        result = finish(process, json.dumps(REFERENCE).encode())
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert_ok(result)
    assert temp_files(log) == []


# -- --every ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("3h", 10800), ("30m", 1800), ("1h30m", 5400), ("90s", 90), ("1d", 86400)]
)
def test_duration(text: str, seconds: int) -> None:
    assert schedule.duration(text) == seconds


@pytest.mark.parametrize("text", ["", "3", "h", "0m", "2d", "3x", "-1h", "1.5h"])
def test_bad_duration(text: str, tmp_path: Path) -> None:
    result = run_cli("--input", "-", "--log", tmp_path, f"--every={text}")
    assert result.returncode == 2
    assert "--every" in result.stderr and "duration" in result.stderr


def test_grid_aligned_to_utc_midnight() -> None:
    midnight = 1_700_006_400.0  # 2023-11-15 00:00:00 UTC
    assert midnight % 86400 == 0
    three = 3 * 3600
    assert schedule.next_tick(midnight, three) == midnight + three
    assert schedule.next_tick(midnight + 1, three) == midnight + three
    assert schedule.next_tick(midnight + three - 0.5, three) == midnight + three
    assert schedule.next_tick(midnight + 7 * three + 1, three) == midnight + 86400
    seven = 7 * 3600  # does not divide a day: the grid restarts at midnight
    assert schedule.next_tick(midnight + 3 * seven + 1, seven) == midnight + 86400


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_every_loop(tmp_path: Path, mock_api: MockApiFactory, sig: signal.Signals) -> None:
    api = mock_api("--seed", "9")
    log = tmp_path / "logs"
    prom = tmp_path / "tickets.prom"
    process = start_cli(
        "--api", api.tickets_url, "--log", log, "--metrics", prom, "--uuid", "--retries", "0",
        env={"TICKETS_EVERY": "1s"},
    )  # fmt: skip
    wait_for(lambda: log.is_dir() and len(reports(log)) >= 2)
    assert check_metrics(prom)["tickets_last_run_exit_code"][None] == 0
    api.stop()  # the next runs fail; the loop goes on
    wait_for(lambda: check_metrics(prom)["tickets_last_run_exit_code"][None] == 3)
    count = len(reports(log))
    time.sleep(2.5)  # two more ticks, failing too
    assert process.poll() is None, "the loop stopped"
    assert len(reports(log)) == count
    assert check_metrics(prom)["tickets_last_run_exit_code"][None] == 3
    # Between runs (ticks are on whole seconds, a run takes milliseconds).
    time.sleep((0.5 - time.time() % 1) % 1)
    sent = time.monotonic()
    process.send_signal(sig)
    result = finish(process, timeout=10)
    assert time.monotonic() - sent < 1.0
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "tickets: error: cannot reach" in result.stderr
    assert result.stderr.endswith("tickets: stopped\n")
    assert result.stdout.count("tickets: next run at ") >= 4
    assert temp_files(log) == []
