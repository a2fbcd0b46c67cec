"""The report logic and the streaming parser of files/tickets.py, in process."""

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
    REFERENCE,
    big_tricky_tickets,
    expected_report,
    open_status_args,
    random_case,
    random_ticket,
    report_bytes,
    reports,
)
from ticketslib import cli, fetch, output, parse
from ticketslib.errors import DataError

# -- summarize on the reference list ---------------------------------------------


def test_reference_list() -> None:
    report = parse.summarize(REFERENCE)
    assert report == {
        "open": {"tickets": [REFERENCE[0], REFERENCE[2], REFERENCE[3], REFERENCE[4]], "count": 4},
        "by_category": {"customer_service": 3, "technical": 2},
    }
    assert [t["id"] for t in report["open"]["tickets"]] == [1, 3, 4, 5]
    assert list(report["by_category"]) == ["customer_service", "technical"]


def test_categories_in_first_seen_order_over_all_tickets() -> None:
    data = [
        {"id": 1, "category": "technical", "status": "closed"},
        {"id": 2, "category": "billing", "status": "closed"},
        {"id": 3, "category": "technical", "status": "open"},
        {"id": 4, "category": "customer_service", "status": "closed"},
        {"id": 5, "category": "billing", "status": "closed"},
    ]
    report = parse.summarize(data)
    assert list(report["by_category"].items()) == [
        ("technical", 2),
        ("billing", 2),
        ("customer_service", 1),
    ]
    assert report["open"] == {"tickets": [data[2]], "count": 1}


@pytest.mark.parametrize(
    ("statuses", "ids"),
    [
        (["open"], [1, 3, 4, 5]),
        (["closed"], [2]),
        (["open", "closed"], [1, 2, 3, 4, 5]),
        (["pending"], []),
        (["Open", "OPEN"], []),  # statuses match exactly, case included
        ([], []),
    ],
)
def test_custom_open_statuses(statuses: list[str], ids: list[int]) -> None:
    report = parse.summarize(REFERENCE, statuses)
    assert [t["id"] for t in report["open"]["tickets"]] == ids
    assert report["open"]["count"] == len(ids)
    assert report["by_category"] == {"customer_service": 3, "technical": 2}


def test_empty_list() -> None:
    assert parse.summarize([]) == {"open": {"tickets": [], "count": 0}, "by_category": {}}


def test_other_fields_are_kept_as_they_are() -> None:
    ticket = {
        "status": "open",
        "id": "T-7",
        "nested": {"a": [1, {"b": None}], "c": 1.5},
        "category": "технический",
        "flag": False,
    }
    report = parse.summarize([ticket])
    assert report["open"]["tickets"] == [ticket]
    assert list(report["open"]["tickets"][0]) == ["status", "id", "nested", "category", "flag"]


# -- invalid tickets -------------------------------------------------------------

GOOD = {"id": 1, "category": "c", "status": "open"}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"category": "c", "status": "open"}, "ticket at index 2 has no 'id' field"),
        ({"id": 3, "status": "open"}, "ticket at index 2 has no 'category' field"),
        ({"id": 3, "category": "c"}, "ticket at index 2 has no 'status' field"),
        (
            {"id": 3, "category": 5, "status": "open"},
            "ticket at index 2: 'category' must be a string",
        ),
        (
            {"id": 3, "category": None, "status": "x"},
            "ticket at index 2: 'category' must be a string",
        ),
        (
            {"id": 3, "category": "c", "status": ["open"]},
            "ticket at index 2: 'status' must be a string",
        ),
        (
            {"id": True, "category": "c", "status": "x"},
            "ticket at index 2: 'id' must be a string or an integer",
        ),
        (
            {"id": 1.5, "category": "c", "status": "x"},
            "ticket at index 2: 'id' must be a string or an integer",
        ),
        (
            {"id": None, "category": "c", "status": "x"},
            "ticket at index 2: 'id' must be a string or an integer",
        ),
        ("a ticket", "ticket at index 2 is not a JSON object"),
        ([1, 2, 3], "ticket at index 2 is not a JSON object"),
        (None, "ticket at index 2 is not a JSON object"),
        (7, "ticket at index 2 is not a JSON object"),
    ],
)
def test_bad_ticket_names_index_and_field(bad: Any, message: str) -> None:
    with pytest.raises(DataError) as caught:
        parse.summarize([GOOD, GOOD, bad, {"id": 4}])
    assert str(caught.value) == message


def test_first_bad_ticket_is_named() -> None:
    data = [GOOD, {"id": 2, "category": 3, "status": "open"}, {"id": 3}]
    with pytest.raises(DataError, match=r"^ticket at index 1: 'category' must be a string$"):
        parse.summarize(data)


def test_bad_ticket_index_counts_earlier_batches() -> None:
    tally = parse.Tally(["open"])
    assert tally.add(parse.Batch(items=[GOOD, GOOD, GOOD])).items == [GOOD, GOOD, GOOD]
    with pytest.raises(DataError, match=r"^ticket at index 4 has no 'status' field$"):
        tally.add(parse.Batch(items=[GOOD, {"id": 5, "category": "c"}]))


# -- the streaming parser: cut into small parts ------------------------------------


def chunked(data: bytes, rng: random.Random, largest: int) -> Iterator[bytes]:
    position = 0
    while position < len(data):
        size = rng.randint(1, largest)
        yield data[position : position + size]
        position += size


def parse_all(data: bytes, rng: random.Random, largest_chunk: int) -> list[parse.Batch]:
    return list(parse.ticket_batches(chunked(data, rng, largest_chunk)))


def tickets_of(batches: list[parse.Batch]) -> list[Any]:
    """The tickets of parsed batches: their text as the json module reads it, or
    their items; checks that the decoded fields are those of each ticket."""
    tickets: list[Any] = []
    for batch in batches:
        items = batch.items if batch.text is None else json.loads(batch.text)
        if batch.tickets is not None:
            fields = [(t.id, t.category, t.status) for t in batch.tickets]
            assert fields == [(t["id"], t["category"], t["status"]) for t in items]
        tickets += items
    return tickets


def canonical(value: Any) -> str:
    """Strict comparison: json text tells 1 from True and 0.0 from -0.0."""
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, int], None]:
    """Make the parser cut after a few bytes (and look for "tickets" in a few bytes)."""

    def configure(batch_bytes: int, head_bytes: int) -> None:
        monkeypatch.setattr(parse, "BATCH_BYTES", batch_bytes)
        monkeypatch.setattr(parse, "HEAD_BYTES", head_bytes)

    return configure


def test_parser_random_inputs_in_small_parts(small_parts: Callable[[int, int], None]) -> None:
    rng = random.Random(20240601)
    several = 0
    for _ in range(300):
        data, expected, _ = random_case(rng)
        small_parts(rng.choice([1, 16, 64, 300]), rng.choice([4, 64, 1 << 20]))
        batches = parse_all(data, rng, rng.choice([1, 7, 64, 4096]))
        assert canonical(tickets_of(batches)) == canonical(expected), data
        several += len(batches) > 2
    assert several > 50  # the cutting logic really ran


TRICKY_TICKET = {
    "category": "}, {",
    "status": "open",
    "n": {"a": {"b": "},"}, "c": [{"d": 1}, {"e": "}, {"}]},
    "s": '{"id": 0, "category": "x", "status": "open"}, {',
}


def test_parser_cuts_inside_strings_and_nested_objects(
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
            batches = parse_all(text.encode(), random.Random(seed), 50)
            assert canonical(tickets_of(batches)) == canonical(data)
            parts += len(batches)
    assert parts > 100  # the parts were cut, not parsed whole


def test_parser_parts_stay_small_with_nested_objects(
    small_parts: Callable[[int, int], None],
) -> None:
    # A common real-world shape: {"id": .., "customer": {...}, ...}.
    data = [
        {"id": i, "customer": {"id": i % 7, "name": "n"}, "category": "c", "status": "open"}
        for i in range(20000)
    ]
    body = json.dumps(data).encode()  # about 1.6 MiB
    small_parts(16 * 1024, 1 << 20)
    batches = parse_all(body, random.Random(5), 4096)
    assert canonical(tickets_of(batches)) == canonical(data)
    largest = max(len(json.dumps(tickets_of([batch]))) for batch in batches)
    assert largest <= 4 * 16 * 1024, f"a part of {largest} bytes for 16 KiB parts"


def test_parser_default_sizes_several_parts_for_3_mib() -> None:
    data = big_tricky_tickets(3, 3 * 1024 * 1024)
    for document in (data, {"count": 5, "tickets": data, "next": None}):
        body = json.dumps(document, ensure_ascii=False).encode()
        assert len(body) > 3 * 1024 * 1024
        reads = (body[i : i + parse.CHUNK_SIZE] for i in range(0, len(body), parse.CHUNK_SIZE))
        batches = list(parse.ticket_batches(reads))
        assert len(batches) >= 3
        assert canonical(tickets_of(batches)) == canonical(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b" \n\t", "empty"),
        (b"<html>", "not JSON"),
        (b'"tickets"', "wrong shape"),
        (b"42", "wrong shape"),
        (b"null", "wrong shape"),
        (b'{"data": 1}', "wrong shape"),
        (b'{"tickets": {"id": 1}}', "'tickets' is not a list"),
        (b'{"tickets": "[]"}', "'tickets' is not a list"),
        (b'[{"id": 1, "category": "c", "status": "open"}', "not valid JSON"),
        (b'[{"id": 1, "category": "c", "status": "open"}] x', "not valid JSON"),
        (b'{"tickets": [{"id": 1}]', "not valid JSON"),
    ],
)
def test_parser_rejects_bad_documents(data: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        list(parse.ticket_batches(iter([data])))


def test_parser_rejects_garbage_after_many_parts(small_parts: Callable[[int, int], None]) -> None:
    small_parts(64, 1 << 20)
    body = json.dumps([GOOD] * 100).encode()[:-1] + b", {"
    with pytest.raises(DataError, match="not valid JSON"):
        list(parse.ticket_batches(chunked(body, random.Random(2), 30)))


# -- main() in process on 200 random --input files ---------------------------------


@pytest.fixture
def run_main(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> Callable[..., tuple[int, bytes, bytes]]:
    """Call cli.main(args) as a fresh process would: no TICKETS_* variables."""
    for name in list(os.environ):
        if name.startswith("TICKETS_") or name == "NO_COLOR":
            monkeypatch.delenv(name)

    def run(*args: str | Path) -> tuple[int, bytes, bytes]:
        monkeypatch.setattr(parse.FLOATS, "seen", False)  # state of a new process
        handler = signal.getsignal(signal.SIGTERM)
        try:
            code = cli.main([str(arg) for arg in args])
        finally:
            signal.signal(signal.SIGTERM, handler)
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
            monkeypatch.setattr(fetch, "CHUNK_SIZE", rng.choice([1, 5, 64]))
        else:
            monkeypatch.undo()
        source = tmp_path / f"in-{case}.json"
        source.write_bytes(data)
        log = tmp_path / f"log-{case}"
        code, out, err = run_main("--input", source, "--log", log, *open_status_args(statuses))
        assert (code, err) == (0, b""), (case, data)
        [report] = reports(log)
        assert report.read_bytes() == report_bytes(expected, statuses), (case, data)
        count = expected_report(expected, statuses)["open"]["count"]
        assert f"Открытые тикеты: {count}\n".encode() in out


# -- the unresolved tickets' JSON text, kept as sent ---------------------------------


@pytest.mark.parametrize(
    ("text", "as_sent"),
    [
        (b'[{"id": 1, "s": "plain", "n": -12, "big": 123456789012345678901234567890}]', True),
        (b'[ {"id":1,\n\t"s" : "\\" \\\\ \\n \\r \\t \\b \\f \\u0001 \\u001f"} ]', True),
        (b'[{"s": "\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x80\xa8 \x7f"}]', True),  # é 😀 U+2028 DEL
        (b'[{"s": "1.5 2e3 -0 2024-01-05"}]', True),  # inside strings only
        (b'[{"s": "a: 1.5, b:-0"}]', False),  # looks like numbers: decoded to be sure
        (b'[{"s": "x", "d": "2024-01-05T10:00:00.5Z", "n": [-1, -0.5e1]}]', False),
        (b'[{"n": 1.5}]', False),
        (b'[{"n": [1, 2e3]}]', False),
        (b'[{"n": 2E3}]', False),
        (b'[{"n": -0}]', False),
        (b'[{"n": [-0]}]', False),
        (b'[{"s": "\\u00e9"}]', False),  # the json module writes "é"
        (b'[{"s": "\\/"}]', False),
        (b'[{"s": "\\u001F"}]', False),  # upper-case hex
        (b'[{"s": "\\u0041"}]', False),
        (b'[{"s": "\\\\u00e9"}]', True),  # an escaped backslash, then text
    ],
)
def test_written_as_sent(text: bytes, as_sent: bool) -> None:
    assert output.written_as_sent(text) is as_sent


def formatted_as_json_module(text: bytes) -> bool:
    nested = msgspec.json.format(b"[[" + text + b"]]", indent=4)
    return nested == json.dumps([[json.loads(text)]], indent=4, ensure_ascii=False).encode()


def test_text_written_as_sent_is_what_the_json_module_writes() -> None:
    # The property the report relies on, on random tickets written in random styles.
    rng = random.Random(1207)
    as_sent = fallback = 0
    for _ in range(3000):
        tickets = [random_ticket(rng, i) for i in range(rng.randint(0, 4))]
        style = rng.choice(
            [
                {},
                {"indent": 2},
                {"indent": "\t"},
                {"separators": (",", ":")},
                {"separators": (" , ", " : ")},
            ]
        )
        text = json.dumps(tickets, ensure_ascii=rng.random() < 0.2, **style).encode()
        if output.written_as_sent(text):
            assert formatted_as_json_module(text), text
            as_sent += 1
        else:
            fallback += 1
    assert as_sent > 600 and fallback > 600, (as_sent, fallback)


@pytest.mark.parametrize(
    "text", [b'[{"n": 1E400}]', b'[{"n": 1e5}]', b'[{"n": -0}]', b'[{"s": "\\u00e9"}]']
)
def test_text_that_the_json_module_writes_otherwise_is_not_written_as_sent(text: bytes) -> None:
    assert not formatted_as_json_module(text)
    assert not output.written_as_sent(text)


def test_plain_tickets_are_not_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fast path: tickets with integers and plain strings are formatted from
    # their text, never decoded into Python objects.
    body = json.dumps(
        [
            {"id": i, "category": "c", "status": "open" if i % 3 else "closed", "t": "é"}
            for i in range(9)
        ],
        ensure_ascii=False,
    ).encode()
    [batch] = parse.ticket_batches(iter([body]))
    unresolved = parse.Tally(["open"]).add(batch)

    def no_decode(_: bytes) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr(output, "decode", no_decode)
    text = bytes(output.encode_tickets(unresolved))
    expected = [t for t in json.loads(body) if t["status"] == "open"]
    nested = json.dumps([[expected]], indent=4, ensure_ascii=False).encode()
    head, tail = b"[\n    [\n        [\n", b"\n        ]\n    ]\n]"
    assert nested.startswith(head) and nested.endswith(tail)
    assert text == nested[len(head) : -len(tail)]
