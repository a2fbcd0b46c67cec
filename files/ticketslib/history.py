"""The trend view: a record of what each saved report holds, the history table
and its sparkline.

Every run appends one line to the record ``.tickets-history.jsonl`` in the log
directory when it saves its report: the report's name, the run's time (UTC),
the number of unresolved tickets and the unresolved tickets per category.
Reading the history then reads that small file instead of every report.

The reports stay the truth; the record is what they hold, kept beside them:

- a report without a line in the record (older than this feature, or a run
  whose append failed) is read once, and its line is added (backfill);
- a line whose report is gone (``--keep``, removed by hand) is dropped;
- a corrupt or foreign file with a report's name is skipped with a warning;
- a line that does not parse (torn by a crash) is dropped and its report read
  again.

Writers take an exclusive ``flock`` on the record: an append is one ``write``
call, a rebuild writes a new file (store.write_atomic) and renames it over the
record, so two runs that overlap never lose a line.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import IO

import msgspec

from .errors import UsageError, describe_os_error, warn
from .store import TIMESTAMP_FORMAT, own_like_dir, report_names, write_atomic
from .text import LABELS, bold, escape

RECORD_NAME = ".tickets-history.jsonl"
DEFAULT_RUNS = 16  # two days at one run every three hours
SPARKS = "▁▂▃▄▅▆▇█"


class Run(msgspec.Struct):
    """One saved report, as the history needs it (one line of the record)."""

    report: str  # the report's file name in the log directory
    time: datetime  # the run's time, UTC
    open: int  # unresolved tickets
    by_category: dict[str, int]  # unresolved tickets per category


_RUN_DECODER = msgspec.json.Decoder(Run)


# Only what the backfill needs from a report file; other fields are ignored.
class _Ticket(msgspec.Struct):
    category: str


class _Open(msgspec.Struct):
    tickets: list[_Ticket]
    count: int


class _Report(msgspec.Struct):
    open: _Open
    by_category: dict[str, int]


_REPORT_DECODER = msgspec.json.Decoder(_Report)


def run_line(run: Run) -> bytes:
    return msgspec.json.encode(run) + b"\n"


def new_run(path: str, when: datetime, open_by_category: Mapping[str, int]) -> Run:
    return Run(
        report=os.path.basename(path),
        time=when.astimezone(timezone.utc).replace(microsecond=0),
        open=sum(open_by_category.values()),
        by_category=dict(open_by_category),
    )


# --------------------------------------------------------------------------
# The record
# --------------------------------------------------------------------------


@contextlib.contextmanager
def _locked_record(log_dir: str, create: bool = True) -> Iterator[int]:
    """The record, open and under an exclusive flock.

    A rebuild renames a new file over the record while holding the lock on
    the old one: whoever waited on the old one sees the name now points to
    another file, and opens and locks again.
    """
    path = os.path.join(log_dir, RECORD_NAME)
    while True:
        if create:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
            own_like_dir(fd, log_dir)
        else:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with contextlib.suppress(FileNotFoundError):
                if os.stat(path).st_ino == os.fstat(fd).st_ino:
                    break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield fd
    finally:
        os.close(fd)


def append(log_dir: str, run: Run) -> None:
    """Add the line of a report just saved; warn (do not fail) if it cannot.

    A missing line is harmless: the next history reads that report once.
    """
    try:
        with _locked_record(log_dir) as fd:
            os.write(fd, run_line(run))
    except OSError as exc:
        warn(f"cannot update the history record in {log_dir!r}: {describe_os_error(exc)}")


def _read_record(fd: int) -> tuple[dict[str, Run], bool]:
    """The record's runs by report name; True if some line did not parse."""
    runs: dict[str, Run] = {}
    damaged = False
    os.lseek(fd, 0, os.SEEK_SET)
    with open(fd, "rb", closefd=False) as handle:
        for line in handle:
            try:
                run = _RUN_DECODER.decode(line)
            except msgspec.DecodeError:
                damaged = True
                continue
            if run.time.tzinfo is None:
                run.time = run.time.replace(tzinfo=timezone.utc)
            runs[run.report] = run
    return runs, damaged


def _write_record(log_dir: str, runs: Sequence[Run]) -> None:
    """Replace the record atomically (the caller holds the lock)."""
    data = b"".join(run_line(run) for run in runs)
    write_atomic(os.path.join(log_dir, RECORD_NAME), data, own=True)


def _report_time(name: str, mtime: float) -> datetime:
    """A report's time: from its name, or (a UUID name) its file's time."""
    try:
        return datetime.strptime(name[:17], TIMESTAMP_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return datetime.fromtimestamp(int(mtime), timezone.utc)


def read_report(path: str) -> Run:
    """Read a report file once: the line the record would have for it.

    Raises ValueError naming what is wrong (not JSON, not a report).
    """
    with open(path, "rb") as handle:
        data = handle.read()
        mtime = os.fstat(handle.fileno()).st_mtime
    try:
        report = _REPORT_DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a tickets report ({exc})") from None
    if report.open.count != len(report.open.tickets):
        raise ValueError(
            f"not a tickets report (count {report.open.count} but "
            f"{len(report.open.tickets)} tickets)"
        )
    counts = Counter(ticket.category for ticket in report.open.tickets)
    name = os.path.basename(path)
    return new_run(name, _report_time(name, mtime), counts)


def load(log_dir: str, backfill: bool = True) -> list[Run]:
    """The runs whose reports are in log_dir, oldest first.

    Brings the record up to date first: drops lines whose report is gone and
    (with backfill) reads the reports that have no line yet, once.  When the
    record cannot be written (a read-only directory), the history is still
    shown, with a warning.
    """
    if not os.path.isdir(log_dir):
        raise UsageError(f"log directory {log_dir!r} does not exist")
    with contextlib.ExitStack() as stack:
        fd: int | None = None
        for create in (True, False):  # read-only (directory or record): read, do not write
            try:
                fd = stack.enter_context(_locked_record(log_dir, create))
                break
            except FileNotFoundError:
                break
            except OSError:
                continue
        try:  # under the lock: a run appends its line only after its report is there
            names = set(report_names(log_dir))
        except OSError as exc:
            reason = describe_os_error(exc)
            raise UsageError(f"cannot read log directory {log_dir!r}: {reason}") from None
        try:
            recorded, changed = _read_record(fd) if fd is not None else ({}, False)
        except OSError as exc:
            warn(f"cannot read the history record in {log_dir!r}: {describe_os_error(exc)}")
            recorded, changed = {}, True
        runs = {name: run for name, run in recorded.items() if name in names}
        changed = changed or len(runs) != len(recorded)
        for name in sorted(names - runs.keys()) if backfill else ():
            try:
                runs[name] = read_report(os.path.join(log_dir, name))
                changed = True
            except FileNotFoundError:
                continue  # pruned meanwhile
            except (OSError, ValueError) as exc:
                reason = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
                warn(f"skipping {name!r} in the history: {reason}")
        ordered = sorted(runs.values(), key=lambda run: (run.time, run.report))
        if changed:
            try:
                _write_record(log_dir, ordered)
            except OSError as exc:
                warn(f"cannot update the history record in {log_dir!r}: {describe_os_error(exc)}")
    return ordered


def sync(log_dir: str) -> None:
    """Drop the lines of reports that are gone (after --keep pruned them)."""
    with contextlib.suppress(UsageError):
        load(log_dir, backfill=False)


# --------------------------------------------------------------------------
# The table and the sparkline
# --------------------------------------------------------------------------


def sparkline(values: Sequence[int]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARKS[0] * len(values)
    scale = (len(SPARKS) - 1) / (high - low)
    return "".join(SPARKS[round((v - low) * scale)] for v in values)


def change(run: Run, previous: Run | None) -> str:
    if previous is None:
        return ""
    delta = run.open - previous.open
    return f"{delta:+d}" if delta else "0"


def time_text(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def categories(runs: Sequence[Run]) -> list[str]:
    """Every category with unresolved tickets in some run, sorted."""
    return sorted({name for run in runs for name in run.by_category})


def print_history(
    out: IO[str], runs: Sequence[Run], count: int, log_dir: str, lang: str, color: bool
) -> None:
    """The newest ``count`` runs, oldest first, and a sparkline of the unresolved count."""
    labels = LABELS[lang]

    def paint(text: str) -> str:  # a growing backlog in red, a shrinking one in green
        if not color or text in ("", "0"):
            return text
        return f"\033[{31 if text.startswith('+') else 32}m{text}\033[0m"

    if not runs:
        out.write(f"{labels['empty']} {escape(log_dir)}\n")
        return
    first = max(0, len(runs) - count)
    window = runs[first:]
    names = categories(window)
    header = [labels["time"], labels["unresolved"], labels["change"], *map(escape, names)]
    rows = []
    for index, run in enumerate(window, start=first):
        previous = runs[index - 1] if index else None
        cells = [time_text(run.time), str(run.open), change(run, previous)]
        rows.append(cells + [str(run.by_category.get(name, 0)) for name in names])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str], style: bool) -> str:
        parts = [cells[0].ljust(widths[0])]
        for i, cell in enumerate(cells[1:], start=1):
            padded = cell.rjust(widths[i])
            parts.append(padded.replace(cell, paint(cell)) if style and i == 2 else padded)
        return "  ".join(parts).rstrip()

    span = f"{time_text(window[0].time)} – {time_text(window[-1].time)} UTC"
    out.write(f"\n{bold(labels['history'], color)} ({labels['runs']}: {len(window)}, {span})\n\n")
    out.write(bold(line(header, False), color) + "\n")
    for row in rows:
        out.write(line(row, True) + "\n")
    values = [run.open for run in window]
    out.write(
        f"\n{labels['unresolved']}: {sparkline(values)}  "
        f"({labels['min']} {min(values)}, {labels['max']} {max(values)})\n"
    )
