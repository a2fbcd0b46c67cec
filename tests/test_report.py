"""The report logic (fields, statuses, the tally), the streaming reader and the
encoder of files/tickets.py, in process; and main() on 200 random inputs."""

from __future__ import annotations

import json
import os
import random
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from support import (
    FLOATS,
    REFERENCE,
    big_tricky_tickets,
    expected_report,
    open_status_args,
    random_case,
    random_ticket,
    random_value,
    report_bytes,
    reports,
)
from ticketslib import cli, report, stream
from ticketslib.errors import DataError

# -- the tally ------------------------------------------------------------------------


def tally_of(
    batches: list[list[Any]], fields: report.Fields | None = None, pages: bool = False
) -> tuple[report.Tally, list[Any]]:
    """Count BATCHES (as pages 1, 2, ... with PAGES); the tally and the unresolved tickets."""
    tally = report.Tally(fields or report.Fields())
    unresolved: list[Any] = []
    for number, batch in enumerate(batches, start=1):
        page = number if pages else 0
        unresolved += tally.add(batch, page, record=pages).tickets
    return tally, unresolved


def test_reference_list() -> None:
    tally, unresolved = tally_of([REFERENCE])
    assert unresolved == [REFERENCE[0], REFERENCE[2], REFERENCE[3], REFERENCE[4]]
    assert tally.open_count == 4 and tally.seen == 5
    assert list(tally.by_category.items()) == [("customer_service", 3), ("technical", 2)]


def test_categories_in_first_seen_order_over_all_tickets() -> None:
    data = [
        {"id": 1, "category": "technical", "status": "closed"},
        {"id": 2, "category": "billing", "status": "closed"},
        {"id": 3, "category": "technical", "status": "open"},
        {"id": 4, "category": "customer_service", "status": "closed"},
        {"id": 5, "category": "billing", "status": "closed"},
    ]
    tally, unresolved = tally_of([data[:2], data[2:]])
    assert list(tally.by_category.items()) == [
        ("technical", 2),
        ("billing", 2),
        ("customer_service", 1),
    ]
    assert unresolved == [data[2]]


@pytest.mark.parametrize(
    ("open_statuses", "closed_statuses", "ids"),
    [
        (["open"], None, [1, 3, 4, 5]),
        (["closed"], None, [2]),
        (["open", "closed"], None, [1, 2, 3, 4, 5]),
        (["pending"], None, []),
        (["Open", "OPEN"], None, []),  # statuses match exactly, case included
        ([], None, []),
        ([], ["closed"], [1, 3, 4, 5]),
        ([], ["open"], [2]),
        ([], ["Closed"], [1, 2, 3, 4, 5]),
    ],
)
def test_open_and_closed_statuses(
    open_statuses: list[str], closed_statuses: list[str] | None, ids: list[int]
) -> None:
    closed = frozenset(closed_statuses) if closed_statuses is not None else None
    fields = report.Fields(open_statuses=frozenset(open_statuses), closed_statuses=closed)
    tally, unresolved = tally_of([REFERENCE], fields)
    assert [t["id"] for t in unresolved] == ids
    assert tally.by_category == {"customer_service": 3, "technical": 2}


REDMINE_LIKE = [
    {"id": 1, "status": {"id": 1, "name": "New", "is_closed": False}, "category": {"name": "a"}},
    {"id": 2, "status": {"id": 5, "name": "Closed", "is_closed": True}},
    {"id": 3, "status": {"id": 2, "name": "In Progress", "is_closed": False}},
    {"id": 4, "status": {"id": 6, "name": "Rejected", "is_closed": True}, "category": None},
]


def test_nested_fields_and_a_missing_category() -> None:
    fields = report.Fields(
        category=("category", "name"),
        status=("status", "is_closed"),
        closed_statuses=frozenset({"true"}),
        missing_category="(none)",
    )
    tally, unresolved = tally_of([REDMINE_LIKE], fields)
    assert [t["id"] for t in unresolved] == [1, 3]
    assert tally.by_category == {"a": 1, "(none)": 3}
    assert tally.open_by_category == {"a": 1, "(none)": 1}


def test_scalar_values_are_compared_and_shown_as_text() -> None:
    data = [
        {"id": 1.5, "category": 7, "status": 2},
        {"id": True, "category": -0.0, "status": 5},
        {"id": "T-3", "category": 10**30, "status": 2},
    ]
    body = json.dumps(data).encode()
    fields = report.Fields(closed_statuses=frozenset({"4", "5"}))
    tally = report.Tally(fields)
    [items] = stream.Document(iter([body])).batches()
    unresolved = tally.add(items)
    assert unresolved.ids == ["1.5", "T-3"]
    assert unresolved.categories == ["7", str(10**30)]
    assert tally.by_category == {"7": 1, "-0.0": 1, str(10**30): 1}
    assert [report.as_text(v) for v in (True, False, 0, "x")] == ["true", "false", "0", "x"]


def test_labels_index_and_skipped_items() -> None:
    data = [
        {"id": 1, "state": "open", "labels": [{"name": "bug"}, {"name": "ui"}]},
        {"id": 2, "state": "open", "labels": [], "pull_request": {"url": "x"}},
        {"id": 3, "state": "closed", "labels": []},
        {"id": 4, "state": "open", "labels": [{"name": "docs"}], "pull_request": None},
    ]
    fields = report.Fields(
        category=("labels", 0, "name"),
        status=("state",),
        skip=("pull_request",),
        missing_category="(none)",
    )
    tally, unresolved = tally_of([data], fields)
    assert [t["id"] for t in unresolved] == [1, 4]
    assert tally.by_category == {"bug": 1, "(none)": 1, "docs": 1}
    assert (tally.seen, tally.skipped) == (3, 1)


def test_a_ticket_on_two_pages_counts_once() -> None:
    page = [{"id": i, "category": "c", "status": "open"} for i in range(1, 6)]
    shifted = [{"id": i, "category": "c", "status": "open"} for i in range(5, 10)]
    unordered = [{"id": i, "category": "c", "status": "open"} for i in (12, 3, 11, "x", 10)]
    tally, unresolved = tally_of([page, shifted, unordered, [{**page[0], "id": "x"}]], pages=True)
    assert [t["id"] for t in unresolved] == [*range(1, 10), 12, 11, "x", 10]
    assert (tally.seen, tally.duplicates) == (13, 3)
    # Within one page (or one document) nothing is dropped.
    tally, unresolved = tally_of([page + page])
    assert tally.seen == 10


GOOD = {"id": 1, "category": "c", "status": "open"}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"category": "c", "status": "open"}, "ticket at index 2 has no 'id' field"),
        ({"id": None, "category": "c", "status": "x"}, "ticket at index 2 has no 'id' field"),
        (
            {"id": [1], "category": "c", "status": "x"},
            "ticket at index 2: 'id' is a list, not a string, number or true/false",
        ),
        (
            {"id": 3, "status": "open"},
            "ticket 3 (index 2) has no 'category' field (--missing-category LABEL counts",
        ),
        ({"id": 3, "category": None, "status": "x"}, "ticket 3 (index 2) has no 'category'"),
        ({"id": 3, "category": "c"}, "ticket 3 (index 2) has no 'status' field"),
        (
            {"id": 3, "category": {"name": "c"}, "status": "open"},
            "ticket 3 (index 2): 'category' is an object, not a string, number or true/false",
        ),
        (
            {"id": "T\n3", "category": "c", "status": ["open"]},
            "ticket T\\n3 (index 2): 'status' is a list, not a string, number or true/false",
        ),
        ("a ticket", "ticket at index 2 is not a JSON object"),
        ([1, 2, 3], "ticket at index 2 is not a JSON object"),
        (None, "ticket at index 2 is not a JSON object"),
        (7, "ticket at index 2 is not a JSON object"),
    ],
)
def test_bad_ticket_names_its_id_index_and_field(bad: Any, message: str) -> None:
    with pytest.raises(DataError) as caught:
        tally_of([[GOOD, GOOD, bad, {"id": 4}]])
    assert str(caught.value).startswith(message)


def test_bad_nested_field_names_the_step() -> None:
    fields = report.Fields(status=("status", "name"))
    with pytest.raises(DataError, match=r"^ticket 7 \(index 0\): 'status' is a string, not an"):
        tally_of([[{"id": 7, "category": "c", "status": "open"}]], fields)


def test_bad_ticket_index_counts_earlier_batches_and_pages() -> None:
    tally = report.Tally(report.Fields())
    tally.add([GOOD, GOOD, GOOD])
    with pytest.raises(DataError, match=r"^ticket 5 \(index 4\) has no 'status' field$"):
        tally.add([GOOD, {"id": 5, "category": "c"}])
    tally = report.Tally(report.Fields())
    tally.add([GOOD, GOOD], page=1, record=True)
    with pytest.raises(DataError, match=r"^ticket 9 \(index 1 on page 2\) has no 'status'"):
        tally.add([{**GOOD, "id": 8}, {"id": 9, "category": "c"}], page=2, record=True)


# -- the streaming reader: cut into small parts --------------------------------------


def chunked(data: bytes, rng: random.Random, largest: int) -> Iterator[bytes]:
    position = 0
    while position < len(data):
        size = rng.randint(1, largest)
        yield data[position : position + size]
        position += size


def parse_all(
    data: bytes, rng: random.Random, largest_chunk: int, path: stream.Path | None = None
) -> tuple[list[list[Any]], Any]:
    document = stream.Document(chunked(data, rng, largest_chunk), path)
    return list(document.batches()), document.envelope


def canonical(value: Any) -> str:
    """Strict comparison: json text tells 1 from True and 0.0 from -0.0 (and
    reads the floats msgspec encodes from the reader's msgspec.Raw)."""
    return json.dumps(json.loads(msgspec.json.encode(value)))


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, int], None]:
    """Make the reader cut after a few bytes (and look for the list in a few bytes)."""

    def configure(batch_bytes: int, head_bytes: int) -> None:
        monkeypatch.setattr(stream, "BATCH_BYTES", batch_bytes)
        monkeypatch.setattr(stream, "HEAD_BYTES", head_bytes)

    return configure


def test_reader_random_inputs_in_small_parts(small_parts: Callable[[int, int], None]) -> None:
    rng = random.Random(20240601)
    several = 0
    for _ in range(300):
        data, expected, _ = random_case(rng)
        small_parts(rng.choice([1, 16, 64, 300]), rng.choice([4, 64, 1 << 20]))
        batches, _ = parse_all(data, rng, rng.choice([1, 7, 64, 4096]))
        assert canonical([t for batch in batches for t in batch]) == canonical(expected)
        several += len(batches) > 2
    assert several > 50  # the cutting logic really ran


TRICKY_TICKET = {
    "category": "}, {",
    "status": "open",
    "n": {"a": {"b": "},"}, "c": [{"d": 1}, {"e": "}, {"}]},
    "s": '{"id": 0, "category": "x", "status": "open"}, {',
}


def test_reader_cuts_inside_strings_and_nested_objects(
    small_parts: Callable[[int, int], None],
) -> None:
    # Every other ticket has "}," inside strings and nested objects: candidate
    # cuts that are not between two tickets; the plain ones allow real cuts.
    data = [
        {"id": i, **TRICKY_TICKET} if i % 2 else {"id": i, "category": "c", "status": "x"}
        for i in range(60)
    ]
    small_parts(100, 1 << 20)
    parts = 0
    for text in (json.dumps(data), json.dumps({"tickets": data}, indent=1)):
        for seed in range(20):
            batches, _ = parse_all(text.encode(), random.Random(seed), 50)
            assert canonical([t for b in batches for t in b]) == canonical(data)
            parts += len(batches)
    assert parts > 100  # the parts were cut, not parsed whole


@pytest.mark.parametrize("small", [True, False])
def test_reader_nested_list_and_the_envelope_around_it(
    small_parts: Callable[[int, int], None], small: bool
) -> None:
    tickets = [{"id": i, "category": "c", "status": "open", "items": [i]} for i in range(300)]
    document = {
        "meta": {"has_more": True, "items": [], "note": '"items": ['},
        "data": {"total": 300, "items": tickets, "next": "/t?page=2"},
        "after": 1.5,
    }
    if not small:
        small_parts(256, 1 << 20)
    batches, envelope = parse_all(
        json.dumps(document).encode(), random.Random(1), 97, ("data", "items")
    )
    assert canonical([t for b in batches for t in b]) == canonical(tickets)
    assert len(batches) > 5 or small
    assert stream.lookup(envelope, ("data", "next")) == "/t?page=2"
    assert stream.lookup(envelope, ("data", "total")) == 300
    assert stream.lookup(envelope, ("meta", "has_more")) is True
    assert stream.lookup(envelope, ("data", "items")) == []  # the list is not kept


def test_reader_parts_stay_small_with_nested_objects(
    small_parts: Callable[[int, int], None],
) -> None:
    data = [
        {"id": i, "customer": {"id": i % 7, "name": "n"}, "category": "c", "status": "open"}
        for i in range(20000)
    ]
    small_parts(16 * 1024, 1 << 20)
    batches, _ = parse_all(json.dumps(data).encode(), random.Random(5), 4096)
    assert canonical([t for b in batches for t in b]) == canonical(data)
    largest = max(len(json.dumps(batch)) for batch in batches)
    assert largest <= 4 * 16 * 1024, f"a part of {largest} bytes for 16 KiB parts"


def test_reader_default_sizes_several_parts_for_3_mib() -> None:
    data = big_tricky_tickets(3, 3 * 1024 * 1024)
    for document in (data, {"count": 5, "tickets": data, "next": None}):
        body = json.dumps(document, ensure_ascii=False).encode()
        reads = (body[i : i + stream.CHUNK_SIZE] for i in range(0, len(body), stream.CHUNK_SIZE))
        batches = list(stream.Document(reads).batches())
        assert len(batches) >= 3
        assert canonical([t for b in batches for t in b]) == canonical(data)


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        (b"", None, "empty"),
        (b" \n\t", None, "empty"),
        (b"<html>", None, "not JSON"),
        (b'"tickets"', None, "wrong shape"),
        (b"42", None, "wrong shape"),
        (b"null", None, "wrong shape"),
        (b'{"data": 1}', None, "wrong shape"),
        (b'{"tickets": {"id": 1}}', None, "'tickets' is not a list"),
        (b'{"tickets": "[]"}', None, "'tickets' is not a list"),
        (b'[{"id": 1, "category": "c", "status": "open"}', None, "not valid JSON"),
        (b'[{"id": 1, "category": "c", "status": "open"}] x', None, "not valid JSON"),
        (b'{"tickets": [{"id": 1}]', None, "not valid JSON"),
        (b"[]", ("issues",), "a list at 'issues'"),
        (b'{"issues": 5}', ("issues",), "a list at 'issues'"),
        (b'{"data": {"items": {}}}', ("data", "items"), "a list at 'data.items'"),
        (b'[{"n": 1e400}]', None, "a number is out of range: 1e400"),
    ],
)
def test_reader_rejects_bad_documents(data: bytes, path: Any, message: str) -> None:
    with pytest.raises(DataError, match=message):
        list(stream.Document(iter([data]), path).batches())


def test_reader_rejects_garbage_after_many_parts(small_parts: Callable[[int, int], None]) -> None:
    small_parts(64, 1 << 20)
    body = json.dumps([GOOD] * 100).encode()[:-1] + b", {"
    with pytest.raises(DataError, match="not valid JSON"):
        list(stream.Document(chunked(body, random.Random(2), 30)).batches())


# -- the one encoder: msgspec writes what json.dumps writes ------------------------------


def json_module_text(tickets: list[Any]) -> bytes:
    nested = json.dumps([[tickets]], indent=4, ensure_ascii=False).encode()
    head, tail = b"[\n    [\n        [\n", b"\n        ]\n    ]\n]"
    assert nested.startswith(head) and nested.endswith(tail)
    return nested[len(head) : -len(tail)]


def test_encoder_writes_what_the_json_module_writes_on_random_tickets() -> None:
    rng = random.Random(1207)
    for _ in range(3000):
        tickets = [random_ticket(rng, i) for i in range(rng.randint(1, 4))]
        style = rng.choice([{}, {"indent": 2}, {"separators": (",", ":")}])
        text = json.dumps(tickets, ensure_ascii=rng.random() < 0.2, **style).encode()
        decoded = stream.decode(text)
        assert bytes(report.tickets_text(decoded)) == json_module_text(json.loads(text)), text


EDGES = [
    b'[{"n": [1.0, -0.0, 0.1, 1e-05, 1e-7, 1E5, 1e16, 1e22, 2.5e-324, 5e-324]}]',
    b'[{"n": [1.7976931348623157e308, 123456789012345678901234567890, -0, -12]}]',
    b'[{"n": 12345678901234567890123.0, "m": 0.30000000000000004, "o": 100.0}]',
    b'[{"s": "\\u00e9\\/\\u001F\\u2028\\u0000\\b\\f\\n\\r\\t\\"\\\\ \\ud83d\\ude00", "t": "\x7f"}]',
    b'[{"e": [], "o": {}, "l": [[], [{}], {"a": []}], "n": null, "t": true, "f": false}]',
    b'[{"k": 1, "k": 2, "": "", "\\u00e9": "\xc3\xa9"}]',
]


@pytest.mark.parametrize("text", EDGES)
def test_encoder_edges(text: bytes) -> None:
    assert bytes(report.tickets_text(stream.decode(text))) == json_module_text(json.loads(text))


def test_random_values_round_trip_like_the_json_module() -> None:
    rng = random.Random(99)
    values = [random_value(rng) for _ in range(2000)] + FLOATS
    text = json.dumps([{"v": v} for v in values]).encode()
    assert bytes(report.tickets_text(stream.decode(text))) == json_module_text(json.loads(text))


# -- main() in process on 200 random --input files -------------------------------------


@pytest.fixture
def run_main(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> Callable[..., tuple[int, bytes, bytes]]:
    """Call cli.main(args) as a fresh process would: no TICKETS_* variables."""
    for name in list(os.environ):
        if name.startswith("TICKETS_") or name == "NO_COLOR":
            monkeypatch.delenv(name)

    def run(*args: str | Path) -> tuple[int, bytes, bytes]:
        handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
        try:
            code = cli.main([str(arg) for arg in args])
        finally:
            signal.signal(signal.SIGINT, handlers[0])
            signal.signal(signal.SIGTERM, handlers[1])
        out, err = capsysbinary.readouterr()
        return code, out, err

    return run


def test_report_file_matches_json_module_on_random_inputs(
    tmp_path: Path,
    run_main: Callable[..., tuple[int, bytes, bytes]],
    small_parts: Callable[[int, int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(424242)
    for case in range(200):
        data, expected, statuses = random_case(rng)
        # Half the cases with the real sizes, half cut into tiny parts.
        if case % 2:
            small_parts(rng.choice([1, 32, 200]), rng.choice([8, 1 << 20]))
            monkeypatch.setattr(stream, "CHUNK_SIZE", rng.choice([1, 5, 64]))
        else:
            monkeypatch.undo()
        source = tmp_path / f"in-{case}.json"
        source.write_bytes(data)
        log = tmp_path / f"log-{case}"
        code, out, err = run_main("--input", source, "--log", log, *open_status_args(statuses))
        assert (code, err) == (0, b""), (case, data)
        [saved] = reports(log)
        assert saved.read_bytes() == report_bytes(expected, statuses), (case, data)
        count = expected_report(expected, statuses)["open"]["count"]
        assert f"Открытые тикеты: {count}\n".encode() in out
