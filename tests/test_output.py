"""What files/tickets.py writes: the console report and the JSON file, byte for byte."""

from __future__ import annotations

import json
import os
import pty
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from support import (
    ANSI,
    REFERENCE,
    Result,
    assert_ok,
    big_tricky_tickets,
    console_text,
    expected_report,
    finish,
    only_report,
    open_status_args,
    random_case,
    report_bytes,
    run_cli,
    start_cli,
    write_json,
)

REFERENCE_RU = """
📊 Отчёт по тикетам

Открытые тикеты: 4
  - id: 1  category: customer_service
  - id: 3  category: customer_service
  - id: 4  category: technical
  - id: 5  category: customer_service

Количество тикетов по категориям:
  - customer_service: 3
  - technical: 2

Отчёт сохранён: {path}
"""

REFERENCE_EN = """
📊 Tickets report

Open tickets: 4
  - id: 1  category: customer_service
  - id: 3  category: customer_service
  - id: 4  category: technical
  - id: 5  category: customer_service

Tickets per category:
  - customer_service: 3
  - technical: 2

Report saved: {path}
"""

REFERENCE_FILE = """{
    "open": {
        "tickets": [
            {
                "id": 1,
                "category": "customer_service",
                "status": "open"
            },
            {
                "id": 3,
                "category": "customer_service",
                "status": "open"
            },
            {
                "id": 4,
                "category": "technical",
                "status": "open"
            },
            {
                "id": 5,
                "category": "customer_service",
                "status": "open"
            }
        ],
        "count": 4
    },
    "by_category": {
        "customer_service": 3,
        "technical": 2
    }
}"""


@pytest.fixture
def reference_input(tmp_path: Path) -> Path:
    return write_json(tmp_path / "reference.json", REFERENCE)


# -- the console -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang_args", "layout"),
    [([], REFERENCE_RU), (["--lang", "ru"], REFERENCE_RU), (["--lang", "en"], REFERENCE_EN)],
)
def test_console_layout_byte_for_byte(
    tmp_path: Path, reference_input: Path, lang_args: list[str], layout: str
) -> None:
    log = tmp_path / "logs"
    result = run_cli("--input", reference_input, "--log", log, *lang_args)
    assert_ok(result)
    report = only_report(log)
    assert result.stdout_bytes == layout.format(path=report).encode("utf-8")
    assert "\x1b" not in result.stdout  # stdout is a pipe: no colour


def test_saved_line_shows_the_log_dir_as_given(tmp_path: Path, reference_input: Path) -> None:
    result = run_cli("--input", reference_input, "--log", "out/reports", cwd=tmp_path)
    assert_ok(result)
    report = only_report(tmp_path / "out" / "reports")
    assert result.stdout.endswith(f"\nОтчёт сохранён: out/reports/{report.name}\n")


def test_console_lists_string_ids_and_all_categories(tmp_path: Path) -> None:
    data = [
        {"id": "T-1", "category": "billing", "status": "pending"},
        {"id": 2, "category": "технический", "status": "open"},
        {"id": 3, "category": "billing", "status": "closed"},
    ]
    log = tmp_path / "logs"
    source = write_json(tmp_path / "in.json", data)
    result = run_cli("--input", source, "--log", log, "--open-status", "pending", "--lang", "en")
    assert_ok(result)
    report = only_report(log)
    expected = expected_report(data, ["pending"])
    assert result.stdout == console_text(expected, report, "en")
    assert "  - id: T-1  category: billing\n" in result.stdout
    assert "  - технический: 1\n" in result.stdout


def run_on_pty(*args: Any, env: dict[str, str] | None = None) -> tuple[Result, bytes]:
    """Run the CLI with stdout on a pseudo-terminal; return the result and what the pty got."""
    master, slave = pty.openpty()
    try:
        process = start_cli(*args, env=env, stdout=slave)
    finally:
        os.close(slave)
    output = bytearray()
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            output += data
    finally:
        os.close(master)
    return finish(process), bytes(output).replace(b"\r\n", b"\n")


def test_colour_on_a_terminal(tmp_path: Path, reference_input: Path) -> None:
    log = tmp_path / "logs"
    result, output = run_on_pty("--input", reference_input, "--log", log)
    assert (result.returncode, result.stderr) == (0, "")
    text = output.decode("utf-8")
    plain = REFERENCE_RU.format(path=only_report(log))
    assert "\x1b[" in text
    assert "\x1b[1m📊 Отчёт по тикетам\x1b[0m" in text
    assert ANSI.sub("", text) == plain


@pytest.mark.parametrize("value", ["1", "true"])
def test_no_color_on_a_terminal(tmp_path: Path, reference_input: Path, value: str) -> None:
    log = tmp_path / "logs"
    result, output = run_on_pty("--input", reference_input, "--log", log, env={"NO_COLOR": value})
    assert (result.returncode, result.stderr) == (0, "")
    assert output.decode("utf-8") == REFERENCE_RU.format(path=only_report(log))


def test_closed_stdout_still_saves_the_report(tmp_path: Path) -> None:
    # Like `tickets.py | head -1`: the reader is gone before the report is printed.
    data = [{"id": i, "category": "c", "status": "open"} for i in range(20000)]
    source = write_json(tmp_path / "in.json", data)
    log = tmp_path / "logs"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        process = start_cli("--input", source, "--log", log, stdout=write_end)
    finally:
        os.close(write_end)
    result = finish(process)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert only_report(log).read_bytes() == report_bytes(data)


# -- the JSON file ---------------------------------------------------------------

TICKET = {"id": 1, "category": "customer_service", "status": "open"}

CASES: dict[str, tuple[Any, list[dict[str, Any]]]] = {}


def case(name: str, tickets: list[dict[str, Any]], document: Any = None) -> None:
    CASES[name] = (tickets if document is None else document, tickets)


case("reference", REFERENCE)
case("reference-in-object", REFERENCE, {"tickets": REFERENCE})
case("empty-list", [])
case("empty-in-object", [], {"tickets": []})
case("no-open-tickets", [{**t, "status": "closed"} for t in REFERENCE])
case(
    "unicode-and-escapes",
    [
        {"id": 1, "category": "технический", "status": "open", "text": "Привет, мир 😀 💳 é ß"},
        {"id": 2, "category": "emoji 🎫", "status": "open", "text": "\x00\x01\x07\x1f\x7f"},
        {"id": 3, "category": 'quo"te', "status": "open", "text": 'a "b" \\ c \\\\ \\" /'},
        {"id": 4, "category": "ws", "status": "open", "text": "\n\r\t\b\f\u2028\u2029\ufeff"},
        {"id": "строка-5", "category": "технический", "status": "closed"},
    ],
)
case(
    "extra-fields",
    [
        {
            "id": 1,
            "category": "c",
            "status": "open",
            "floats": [1e-05, 1e16, 0.1, -0.0, 2.5, 1e22, 5e-324, 1.7976931348623157e308],
            "ints": [0, -1, 2**63, 2**64 + 1, -(2**70), 10**30],
            "flags": [True, False, None],
            "nested": {"a": {"b": [1, {"c": []}, {}]}, "empty": {}, "list": []},
        },
        {"id": 2**80, "category": "c", "status": "open", "score": 0.30000000000000004},
        {"status": "closed", "id": 3, "category": "c", "x": None},
    ],
)
case(
    "extra-fields-no-float",
    [
        {"id": 1, "category": "c", "status": "open", "big": 2**70, "n": {"t": True, "f": None}},
    ],
)
case(
    "cut-markers-in-strings",
    [
        {"id": 1, "category": "}, {", "status": "open", "text": "},"},
        {"id": 2, "category": "a},{b", "status": "open", "text": '"tickets": ['},
        {"id": 3, "category": "c", "status": "open", "text": '{"id": 4, "status": "open"}, {'},
        {"id": 4, "category": "c", "status": "closed", "n": {"x": {"y": "},"}}, "m": [{}, {}]},
    ],
)
case(
    "other-keys-around-tickets",
    REFERENCE,
    {"count": 5, "tickets": REFERENCE, "next": None},
)
case(
    "tickets-key-inside-other-values",
    REFERENCE,
    {
        "meta": {"tickets": [], "note": '"tickets": ['},
        "tickets": REFERENCE,
        "after": {"tickets": 1},
    },
)
case("bare-list-of-one", [TICKET])


@pytest.mark.parametrize("name", list(CASES))
def test_report_file_byte_for_byte(tmp_path: Path, name: str) -> None:
    document, data = CASES[name]
    source = write_json(tmp_path / "in.json", document, ensure_ascii=False)
    log = tmp_path / "logs"
    result = run_cli("--input", source, "--log", log)
    assert_ok(result)
    report = only_report(log)
    assert report.read_bytes() == report_bytes(data)
    assert json.loads(report.read_bytes()) == expected_report(data)


def test_reference_file_literally(tmp_path: Path, reference_input: Path) -> None:
    result = run_cli("--input", reference_input, "--log", tmp_path / "logs")
    assert_ok(result)
    assert only_report(tmp_path / "logs").read_text(encoding="utf-8") == REFERENCE_FILE


@pytest.mark.parametrize("source", ["object-in-file", "list-on-stdin"])
def test_report_file_for_more_than_3_mib_with_cut_markers(tmp_path: Path, source: str) -> None:
    data = big_tricky_tickets(7, 3 * 1024 * 1024 + 1)
    statuses = ["open", ""]
    log = tmp_path / "logs"
    if source == "object-in-file":
        document = {"count": len(data), "tickets": data, "next": None}
        path = write_json(tmp_path / "big.json", document, ensure_ascii=False)
        assert path.stat().st_size > 3 * 1024 * 1024
        result = run_cli("--input", path, "--log", log, *open_status_args(statuses))
    else:
        body = json.dumps(data).encode()
        assert len(body) > 3 * 1024 * 1024
        result = run_cli("--input", "-", "--log", log, *open_status_args(statuses), stdin=body)
    assert_ok(result)
    assert only_report(log).read_bytes() == report_bytes(data, statuses)
    count = expected_report(data, statuses)["open"]["count"]
    assert f"Открытые тикеты: {count}\n" in result.stdout


def test_report_file_matches_json_module_on_random_cli_runs(tmp_path: Path) -> None:
    # The same property as in test_report.py, through real processes (4 at a time).
    rng = random.Random(777)
    cases = [random_case(rng) for _ in range(12)]

    def one(number: int) -> tuple[int, Result]:
        data, _, statuses = cases[number]
        source = tmp_path / f"in-{number}.json"
        source.write_bytes(data)
        log = tmp_path / f"log-{number}"
        return number, run_cli("--input", source, "--log", log, *open_status_args(statuses))

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(len(cases))))
    for number, result in results:
        data, expected, statuses = cases[number]
        assert_ok(result)
        report = only_report(tmp_path / f"log-{number}")
        assert report.read_bytes() == report_bytes(expected, statuses), data
        assert result.stdout == console_text(expected_report(expected, statuses), report)


def test_stdin_input(tmp_path: Path) -> None:
    body = json.dumps({"tickets": REFERENCE}).encode()
    result = run_cli("--input", "-", "--log", tmp_path / "logs", stdin=body)
    assert_ok(result)
    assert only_report(tmp_path / "logs").read_bytes() == report_bytes(REFERENCE)


def test_report_file_for_json_written_by_other_tools(tmp_path: Path) -> None:
    # JSON the json module never writes: other spacing, escapes of plain
    # characters, exponents, -0; both open and closed tickets in each part.
    tickets = [
        b'{ "id" : 1 , "category" : "c" , "status" : "open" , "n" : [ -0 , 1E2 , 2e-3 ] }',
        b'{"id":2,"category":"\\u0063","status":"open","s":"\\u00e9\\/\\u001F\\u2028"}',
        b'{"id":3,"category":"c","status":"closed","n":-0.0}',
        b'{"id":"T-4","category":"c","status":"open","x":{"a":[],"b":{},"c":[{}]},"f":1.0}',
        b'{"id":5,"category":"c","status":"open","s":"a: 1.5, b: -0","t":"\xc3\xa9"}',
    ]
    plain = [b'{"id": 6, "category": "d", "status": "open", "t": "plain \xc3\xa9"}'] * 20000
    body = b"[\n" + b",\n".join(tickets * 3000 + plain + tickets * 3000) + b"\n]"
    assert len(body) > 3 * 1024 * 1024  # several parts, some plain
    source = tmp_path / "in.json"
    source.write_bytes(body)
    log = tmp_path / "logs"
    result = run_cli("--input", source, "--log", log)
    assert_ok(result)
    data = json.loads(body)
    assert only_report(log).read_bytes() == report_bytes(data)
    assert result.stdout == console_text(expected_report(data), only_report(log))
