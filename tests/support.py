"""Shared helpers for the tests of files/tickets.py: run the CLI, look at log directories.

The expected report is computed here independently of the module under test
(only the json module and a plain loop), so that a wrong ``summarize`` cannot
hide a wrong file.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "files"
TICKETS = FILES / "tickets.py"

REFERENCE = [
    {"id": 1, "category": "customer_service", "status": "open"},
    {"id": 2, "category": "technical", "status": "closed"},
    {"id": 3, "category": "customer_service", "status": "open"},
    {"id": 4, "category": "technical", "status": "open"},
    {"id": 5, "category": "customer_service", "status": "open"},
]

# Labels of the console report, from the issue (not read from the module).
LABELS = {
    "ru": (
        "📊 Отчёт по тикетам",
        "Открытые тикеты",
        "Количество тикетов по категориям",
        "Отчёт сохранён",
    ),
    "en": ("📊 Tickets report", "Open tickets", "Tickets per category", "Report saved"),
}

TIMESTAMP_NAME = re.compile(r"(\d{2}-\d{2}-\d{2} \d{2}-\d{2}-\d{2})(?:-(\d+))?\.json")
TEMP_GLOB = ".tickets-*.tmp"
TEMP_NAME = re.compile(r"\.tickets-.*\.tmp")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
HISTORY_RECORD = ".tickets-history.jsonl"  # what --history reads, beside the reports


# -- the expected report ---------------------------------------------------------


def expected_report(tickets: Iterable[Any], open_statuses: Iterable[str] = ("open",)) -> dict:
    statuses = set(open_statuses)
    unresolved = []
    by_category: dict[str, int] = {}
    for ticket in tickets:
        if ticket["status"] in statuses:
            unresolved.append(ticket)
        by_category[ticket["category"]] = by_category.get(ticket["category"], 0) + 1
    return {"open": {"tickets": unresolved, "count": len(unresolved)}, "by_category": by_category}


def report_bytes(tickets: Iterable[Any], open_statuses: Iterable[str] = ("open",)) -> bytes:
    """The report file's exact content: what json.dump(indent=4) writes."""
    report = expected_report(tickets, open_statuses)
    return json.dumps(report, indent=4, ensure_ascii=False).encode("utf-8")


def console_text(report: Mapping[str, Any], saved: str | Path, lang: str = "ru") -> str:
    """The console report (no colour) for a report dict, as the issue lays it out."""
    title, open_label, category_label, saved_label = LABELS[lang]
    lines = ["", title, "", f"{open_label}: {report['open']['count']}"]
    lines += [f"  - id: {t['id']}  category: {t['category']}" for t in report["open"]["tickets"]]
    lines += ["", f"{category_label}:"]
    lines += [f"  - {name}: {count}" for name, count in report["by_category"].items()]
    lines += ["", f"{saved_label}: {saved}"]
    return "\n".join(lines) + "\n"


def write_json(path: Path, data: Any, **dumps_options: Any) -> Path:
    path.write_text(json.dumps(data, **dumps_options), encoding="utf-8")
    return path


# -- running the CLI -------------------------------------------------------------


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout_bytes: bytes
    stderr_bytes: bytes
    stdout: str = field(init=False)
    stderr: str = field(init=False)

    def __post_init__(self) -> None:
        self.stdout = self.stdout_bytes.decode("utf-8", "replace")
        self.stderr = self.stderr_bytes.decode("utf-8", "replace")


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without any TICKETS_* or NO_COLOR, plus `extra`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TICKETS_") and name != "NO_COLOR"
    }
    env.update(extra or {})
    return env


def default_signals() -> None:
    """preexec_fn: the child starts with SIGINT at its default, whatever this
    process inherited (a shell without job control runs `make test &` with
    SIGINT ignored, and Python then installs no KeyboardInterrupt handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli(
    *args: str | Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: Any = subprocess.DEVNULL,
    stdout: Any = subprocess.PIPE,
    stderr: Any = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """Start files/tickets.py with the venv's python; the environment is cli_env(env)."""
    command = [sys.executable, str(TICKETS), *map(str, args)]
    return subprocess.Popen(
        command,
        env=cli_env(env),
        cwd=cwd,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        preexec_fn=default_signals,
    )


def finish(
    process: subprocess.Popen[bytes], stdin: bytes | None = None, timeout: float = 30
) -> Result:
    try:
        out, err = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return Result([str(a) for a in process.args], process.returncode, out or b"", err or b"")  # type: ignore[union-attr]


def run_cli(
    *args: str | Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: bytes | None = None,
    timeout: float = 30,
) -> Result:
    """Run files/tickets.py to completion; `stdin` bytes are fed to it (else /dev/null)."""
    process = start_cli(
        *args,
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
    )
    return finish(process, stdin, timeout)


def assert_ok(result: Result) -> None:
    assert result.returncode == 0, f"{result.args}: exit {result.returncode}\n{result.stderr}"
    assert result.stderr == ""


def assert_error(result: Result, code: int, *needles: str) -> str:
    """The run failed with `code` and one error line naming the problem; return that line.

    argparse usage errors print the usage synopsis first; only the last line is
    the message then.
    """
    assert result.returncode == code, f"exit {result.returncode}, stderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines, "no error message"
    if code == 2 and lines[0].startswith("usage: "):
        assert all(line.startswith(" ") for line in lines[1:-1]), result.stderr
        lines = lines[-1:]
    assert len(lines) == 1, f"more than one line on stderr:\n{result.stderr}"
    line = lines[0]
    assert line.startswith(("tickets: error: ", "tickets.py: error: ")), line
    for needle in needles:
        assert needle.lower() in line.lower(), f"{needle!r} not in {line!r}"
    return line


# -- the mock API's request log -------------------------------------------------


def requests_logged(api: Any, marker: str, expected: int, timeout: float = 3.0) -> int:
    """How many requests whose path holds `marker` the mock logged (waits for `expected`)."""
    deadline = time.monotonic() + timeout
    while True:
        count = sum(marker in line for line in api.stderr.splitlines())
        if count >= expected or time.monotonic() > deadline:
            time.sleep(0.1)  # a surplus request would show up now
            return sum(marker in line for line in api.stderr.splitlines())
        time.sleep(0.02)


# -- log directories -------------------------------------------------------------

Snapshot = dict[str, tuple[bytes, int, int]]


def snapshot(directory: Path) -> Snapshot:
    """Every file under `directory` (hidden ones too): content, mtime and mode."""
    state: Snapshot = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            info = path.stat()
            state[str(path.relative_to(directory))] = (
                path.read_bytes(),
                info.st_mtime_ns,
                info.st_mode,
            )
    return state


def reports(directory: Path) -> list[Path]:
    """The visible *.json files (not directories) in `directory`, sorted by name."""
    return sorted(p for p in directory.glob("*.json") if p.is_file() and p.name[0] != ".")


def new_files(directory: Path, before: Snapshot) -> list[Path]:
    """Files added since `before`, besides the history record (runs append to it)."""
    added = [name for name in snapshot(directory) if name not in before]
    return [directory / name for name in added if name != HISTORY_RECORD]


def temp_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob(TEMP_GLOB))


def only_report(directory: Path, before: Snapshot | None = None) -> Path:
    """The single file a successful run added to `directory` (so no temp file is left)."""
    added = new_files(directory, before or {})
    assert len(added) == 1, f"expected one new file, got {added}"
    assert not TEMP_NAME.fullmatch(added[0].name)
    return added[0]


# -- random tickets --------------------------------------------------------------

TRICKY = [
    "}",
    "},",
    "}, {",
    "},{",
    '"tickets": [',
    '{"id": 9, "category": "x", "status": "open"},',
    "]",
    "[",
    ":",
    ",",
    '"',
    "\\",
    '\\"',
    "\n",
    "\t",
    "\x00",
    "\x1f",
    "\x7f",
    "\u2028",
    "é",
    "Жук",
    "😀",
    "💳",
    " ",
    "open",
]
FLOATS = [0.1, 1e-05, 1e16, 1e22, -0.0, 2.5, 1.7976931348623157e308, 5e-324, 123456.789]


def random_string(rng: random.Random, parts: int = 5) -> str:
    return "".join(rng.choice(TRICKY) for _ in range(rng.randint(0, parts)))


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["int", "bigint", "float", "bool", "null", "str"]
    if depth < 3:
        kinds += ["list", "dict"]
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.randint(-1000, 1000)
    if kind == "bigint":
        return rng.choice([1, -1]) * (2 ** rng.randint(63, 100) + rng.randint(0, 99))
    if kind == "float":
        return rng.choice([*FLOATS, rng.random() * 10 ** rng.randint(-8, 20)])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "str":
        return random_string(rng)
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {random_string(rng, 2): random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


CATEGORIES = ["customer_service", "technical", "billing", "технический", "a}, {b", 'q"uote\\']
STATUSES = ["open", "closed", "pending", "Open", ""]


def random_ticket(rng: random.Random, ticket_id: int, extra: int = 3) -> dict[str, Any]:
    fields: list[tuple[str, Any]] = [
        ("id", ticket_id if rng.random() < 0.8 else f"T-{ticket_id}"),
        ("category", rng.choice(CATEGORIES)),
        ("status", rng.choice(STATUSES)),
    ]
    fields += [
        (f"x{n}{random_string(rng, 1)}", random_value(rng)) for n in range(rng.randint(0, extra))
    ]
    rng.shuffle(fields)
    return dict(fields)


def random_document(rng: random.Random, tickets: list[Any]) -> bytes:
    """`tickets` in one of the accepted shapes, serialized in a random style."""
    shape = rng.randrange(5)
    if shape == 0:
        document: Any = tickets
    elif shape == 1:
        document = {"tickets": tickets}
    elif shape == 2:
        document = {"count": len(tickets), "tickets": tickets, "next": None}
    elif shape == 3:
        document = {"meta": {"tickets": [], "note": '"tickets": ['}, "tickets": tickets}
    else:
        document = {"tickets": tickets, "note": '"tickets": [{"id": 1}]'}
    style = rng.choice(
        [{}, {"indent": 2}, {"indent": 0}, {"indent": "\t"}, {"separators": (",", ":")}]
    )
    text = json.dumps(document, ensure_ascii=rng.random() < 0.3, **style)
    return (rng.choice(["", " ", "\n\t "]) + text + rng.choice(["", "\n", "  \r\n"])).encode()


def random_case(rng: random.Random) -> tuple[bytes, list[Any], tuple[str, ...]]:
    """(input bytes, the tickets, the open statuses) for one random small input."""
    tickets = [random_ticket(rng, i) for i in range(1, rng.randint(0, 12) + 1)]
    statuses = rng.choice([("open",), ("open",), ("open", "pending"), ("closed",), ("",)])
    return random_document(rng, tickets), tickets, statuses


def open_status_args(statuses: Iterable[str]) -> list[str]:
    return [arg for status in statuses for arg in ("--open-status", status)]


def big_tricky_tickets(seed: int, min_bytes: int) -> list[dict[str, Any]]:
    """Tickets whose JSON is at least `min_bytes` long; one in six has "}," and
    '"tickets": [' inside strings and nested objects (candidate cuts that are not
    between two tickets), the others are plain so that the list can be cut.
    """
    rng = random.Random(seed)
    plain = [t for t in TRICKY if not set(t) & set("{}[],")]
    data: list[dict[str, Any]] = []
    size = 0
    while size < min_bytes:
        tricky = rng.random() < 1 / 6
        ticket = {
            "id": len(data) + 1,
            "category": rng.choice(CATEGORIES),
            "status": rng.choice(STATUSES),
            "text": "".join(rng.choice(TRICKY if tricky else plain) for _ in range(60)),
        }
        if tricky:
            ticket["meta"] = {"tickets": [{"id": 0}, {"x": "}, {"}], "n": {"m": 1.5}}
        data.append(ticket)
        size += len(json.dumps(ticket, ensure_ascii=False).encode()) + 2
    return data
