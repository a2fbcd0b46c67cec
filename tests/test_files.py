"""The report files: names, collisions, concurrent runs, --keep, write errors."""

from __future__ import annotations

import json
import os
import stat
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import shortuuid
from conftest import OLD_REPORT, populate, remount
from support import (
    REFERENCE,
    TIMESTAMP_NAME,
    assert_error,
    assert_ok,
    finish,
    new_files,
    only_report,
    report_bytes,
    reports,
    run_cli,
    snapshot,
    start_cli,
    temp_files,
    write_json,
)

if TYPE_CHECKING:
    from conftest import MockApi, Mount

# Freezes datetime.now() in the child process (loaded through PYTHONPATH), so
# that runs in the same second are certain, not just likely.
FROZEN_CLOCK = """\
import datetime as _datetime
import os as _os

_now = _os.environ.get("FAKE_UTC_NOW")
if _now:
    _fixed = _datetime.datetime.fromisoformat(_now).replace(tzinfo=_datetime.timezone.utc)

    class _FrozenDateTime(_datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return _fixed.astimezone(tz) if tz is not None else _fixed.replace(tzinfo=None)

    _datetime.datetime = _FrozenDateTime
"""


@pytest.fixture
def frozen_clock(tmp_path: Path) -> dict[str, str]:
    """Environment for start_cli/run_cli: the clock stands at 2026-01-02 03:04:05 UTC."""
    hook = tmp_path / "frozen_clock"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FROZEN_CLOCK)
    return {"PYTHONPATH": str(hook), "FAKE_UTC_NOW": "2026-01-02T03:04:05"}


def one_ticket_input(directory: Path, number: int) -> tuple[Path, bytes]:
    """An input whose report tells which run wrote it; (path, expected report)."""
    data = [{"id": number, "category": f"run-{number}", "status": "open"}]
    return write_json(directory / f"in-{number}.json", data), report_bytes(data)


# -- names -----------------------------------------------------------------------


def test_timestamp_name_is_utc_time_of_the_run(tmp_path: Path) -> None:
    source = write_json(tmp_path / "in.json", REFERENCE)
    log = tmp_path / "logs"
    start = datetime.now(timezone.utc).replace(microsecond=0)
    # A local time zone far from UTC must not change the name.
    result = run_cli("--input", source, "--log", log, env={"TZ": "Pacific/Kiritimati"})
    end = datetime.now(timezone.utc)
    assert_ok(result)
    report = only_report(log)
    match = TIMESTAMP_NAME.fullmatch(report.name)
    assert match and match.group(2) is None, report.name
    stamp = datetime.strptime(match.group(1), "%y-%m-%d %H-%M-%S").replace(tzinfo=timezone.utc)
    assert start <= stamp <= end


def test_uuid_names(tmp_path: Path) -> None:
    source = write_json(tmp_path / "in.json", REFERENCE)
    log = tmp_path / "logs"
    alphabet = set(shortuuid.get_alphabet())
    for _ in range(2):
        before = snapshot(log) if log.exists() else {}
        result = run_cli("--input", source, "--log", log, "--uuid")
        assert_ok(result)
        report = only_report(log, before)
        stem, suffix = report.name[:-5], report.name[-5:]
        assert suffix == ".json"
        assert len(stem) == 22 and set(stem) <= alphabet, report.name
        assert report.read_bytes() == report_bytes(REFERENCE)
        assert result.stdout.endswith(f"Отчёт сохранён: {report}\n")
    assert len(reports(log)) == 2


# -- never overwrite: same second, concurrent runs -------------------------------


def test_same_second_runs_each_keep_their_file(
    tmp_path: Path, frozen_clock: dict[str, str]
) -> None:
    log = tmp_path / "logs"
    inputs = [one_ticket_input(tmp_path, number) for number in range(8)]
    # Five at once, then three in a row, all in the same (frozen) second.
    processes = [
        start_cli("--input", path, "--log", log, env=frozen_clock) for path, _ in inputs[:5]
    ]
    results = [finish(process) for process in processes]
    results += [run_cli("--input", path, "--log", log, env=frozen_clock) for path, _ in inputs[5:]]
    for result in results:
        assert_ok(result)
    names = {p.name for p in reports(log)}
    assert names == {"26-01-02 03-04-05.json"} | {
        f"26-01-02 03-04-05-{n}.json" for n in range(2, 9)
    }
    # Each run's report is there, complete: none was overwritten.
    assert sorted(p.read_bytes() for p in reports(log)) == sorted(body for _, body in inputs)
    # Each run printed the name it got.
    printed = {r.stdout.rsplit("Отчёт сохранён: ", 1)[1].strip() for r in results}
    assert printed == {str(log / name) for name in names}
    assert temp_files(log) == []


def test_existing_reports_of_the_same_second_are_kept(tmp_path: Path) -> None:
    # Real clock: a report already holds the name of every second of the test,
    # so every run collides; five run at once.
    log = tmp_path / "logs"
    log.mkdir()
    now = datetime.now(timezone.utc)
    for offset in range(-1, 30):
        stem = (now + timedelta(seconds=offset)).strftime("%y-%m-%d %H-%M-%S")
        (log / f"{stem}.json").write_text(f"placeholder {offset}")
    before = snapshot(log)
    inputs = [one_ticket_input(tmp_path, number) for number in range(5)]
    processes = [start_cli("--input", path, "--log", log) for path, _ in inputs]
    for process in processes:
        assert_ok(finish(process))
    assert {name: snapshot(log)[name] for name in before} == before
    added = new_files(log, before)
    assert len(added) == 5
    for path in added:
        match = TIMESTAMP_NAME.fullmatch(path.name)
        assert match and match.group(2) is not None and int(match.group(2)) >= 2, path.name
    assert sorted(p.read_bytes() for p in added) == sorted(body for _, body in inputs)
    assert temp_files(log) == []


def test_concurrent_runs_against_the_mock_api(tmp_path: Path, shared_mock_api: MockApi) -> None:
    url = shared_mock_api.tickets_url + "?seed=concurrent&count=300"
    with urllib.request.urlopen(url, timeout=5) as response:
        expected = report_bytes(json.load(response)["tickets"])
    log = tmp_path / "logs"
    processes = [start_cli("--api", url, "--log", log, "--retries", "0") for _ in range(8)]
    for process in processes:
        assert_ok(finish(process))
    files = reports(log)
    assert len(files) == 8
    assert all(path.read_bytes() == expected for path in files)
    assert temp_files(log) == []


# -- the log directory -----------------------------------------------------------


def test_log_dir_is_created(tmp_path: Path) -> None:
    source = write_json(tmp_path / "in.json", REFERENCE)
    log = tmp_path / "a" / "b" / "c"
    assert_ok(run_cli("--input", source, "--log", log))
    assert only_report(log).read_bytes() == report_bytes(REFERENCE)


def test_default_log_dir_is_logs_in_the_working_directory(tmp_path: Path) -> None:
    source = write_json(tmp_path / "in.json", REFERENCE)
    assert_ok(run_cli("--input", source, cwd=tmp_path))
    assert only_report(tmp_path / "logs").read_bytes() == report_bytes(REFERENCE)


def test_report_mode_follows_umask(tmp_path: Path) -> None:
    source = write_json(tmp_path / "in.json", REFERENCE)
    old = os.umask(0o027)
    try:
        process = start_cli("--input", source, "--log", tmp_path / "logs")
    finally:
        os.umask(old)
    assert_ok(finish(process))
    assert stat.S_IMODE(only_report(tmp_path / "logs").stat().st_mode) == 0o640


# -- --keep ----------------------------------------------------------------------

OLD_NAMES = [
    "25-01-01 00-00-00.json",
    "25-01-02 00-00-00.json",
    "25-01-02 00-00-00-2.json",
    "25-01-03 00-00-00.json",
    "ABCDEFGHJKLMNPQRSTUVWX.json",  # a --uuid report, the newest of the old ones
]
UNRELATED = [
    "notes.txt",
    "other.json",
    "report.json",
    "25-01-04 00-00-00.json.bak",
    "ABCDEFGHJKLMNPQRSTUVW.json",  # 21 characters: not a short UUID
    ".hidden.tmp",
    ".tickets-running.tmp",  # a run in progress (stale ones: test_operations.py)
    "sub/25-01-01 00-00-00.json",
]


@pytest.fixture
def keep_dir(tmp_path: Path) -> Path:
    log = tmp_path / "logs"
    log.mkdir()
    old_body = json.dumps(OLD_REPORT, indent=4)
    for day, name in enumerate(OLD_NAMES, start=1):
        (log / name).write_text(old_body)
        stamp = datetime(2025, 1, day, tzinfo=timezone.utc).timestamp()
        os.utime(log / name, (stamp, stamp))
    for name in UNRELATED:
        (log / name).parent.mkdir(exist_ok=True)
        (log / name).write_text(f"unrelated {name}")
        # Older than every report; a running run's temporary file is fresh.
        stamp = time.time() if name.endswith(".tmp") and name.startswith(".tickets-") else 0
        os.utime(log / name, (stamp, stamp))
    (log / "25-01-09 00-00-00.json").mkdir()  # a directory with a report's name
    return log


@pytest.mark.parametrize(
    ("keep", "kept"),
    [
        (["--keep", "1"], []),
        (["--keep", "3"], OLD_NAMES[-2:]),
        (["--keep", "6"], OLD_NAMES),
        (["--keep", "0"], OLD_NAMES),
        ([], OLD_NAMES),
    ],
)
def test_keep_newest_reports_only(
    tmp_path: Path, keep_dir: Path, keep: list[str], kept: list[str]
) -> None:
    before = snapshot(keep_dir)
    source = write_json(tmp_path / "in.json", REFERENCE)
    result = run_cli("--input", source, "--log", keep_dir, *keep)
    assert_ok(result)
    new = only_report(keep_dir, before)
    after = snapshot(keep_dir)
    # Unrelated files and kept reports are untouched, byte for byte and mtime.
    for name in UNRELATED + kept:
        assert after[name] == before[name], name
    assert {p.name for p in reports(keep_dir)} == {"other.json", "report.json", new.name} | set(
        kept
    ) | {"ABCDEFGHJKLMNPQRSTUVW.json"}
    assert (keep_dir / "25-01-09 00-00-00.json").is_dir()
    assert new.read_bytes() == report_bytes(REFERENCE)


def test_keep_counts_reports_of_this_run_and_earlier_runs(tmp_path: Path) -> None:
    log = tmp_path / "logs"
    bodies = []
    for number in range(4):
        source, body = one_ticket_input(tmp_path, number)
        bodies.append(body)
        assert_ok(run_cli("--input", source, "--log", log, "--keep", "2", "--uuid"))
        time.sleep(0.02)  # distinct modification times
    assert sorted(p.read_bytes() for p in reports(log)) == sorted(bodies[-2:])


# -- cannot write the report: exit 5, directory unchanged ------------------------


@pytest.fixture
def unwritable_dir(tmp_path: Path, tmpfs: Mount) -> Iterator[Path]:
    """A log directory with reports in it that cannot be written to.

    As root (CI) permissions do not stop writes: a tmpfs is mounted read-only.
    """
    directory = tmp_path / "readonly"
    if os.geteuid() == 0:
        tmpfs(directory, "size=1m")
        populate(directory)
        remount(directory, "ro")
    else:
        populate(directory)
        directory.chmod(0o500)
    yield directory
    if os.geteuid() != 0:
        directory.chmod(0o700)


def test_log_dir_not_writable(tmp_path: Path, unwritable_dir: Path) -> None:
    before = snapshot(unwritable_dir)
    source = write_json(tmp_path / "in.json", REFERENCE)
    result = run_cli("--input", source, "--log", unwritable_dir, "--keep", "1")
    line = assert_error(result, 5, str(unwritable_dir))
    assert "read-only file system" in line.lower() or "permission denied" in line.lower()
    assert snapshot(unwritable_dir) == before


def test_disk_full(tmp_path: Path, tmpfs: Mount) -> None:
    log = tmpfs(tmp_path / "full", "size=64k")
    populate(log)
    before = snapshot(log)
    data = [{"id": i, "category": "c", "status": "open", "text": "x" * 100} for i in range(3000)]
    source = write_json(tmp_path / "in.json", data)
    result = run_cli("--input", source, "--log", log, "--keep", "1")
    assert_error(result, 5, "no space left on device", str(log))
    assert snapshot(log) == before
    assert sorted(p.name for p in log.iterdir()) == sorted(before)


@pytest.mark.parametrize("where", ["file", "under-a-file"])
def test_log_is_a_regular_file(tmp_path: Path, where: str) -> None:
    regular = tmp_path / "not-a-dir"
    regular.write_text("keep me")
    log = regular if where == "file" else regular / "logs"
    source = write_json(tmp_path / "in.json", REFERENCE)
    result = run_cli("--input", source, "--log", log)
    assert_error(result, 5, str(log))
    assert regular.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.json", "not-a-dir"]
