"""Every expected failure of files/tickets.py: exit code, one error line, nothing written.

Each run goes to a log directory that already holds reports and other files
and asks for --keep 1: a failed run must leave it exactly as it was.
"""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support import (
    REFERENCE,
    Result,
    Snapshot,
    assert_error,
    assert_ok,
    only_report,
    report_bytes,
    requests_logged,
    run_cli,
    snapshot,
    write_json,
)

if TYPE_CHECKING:
    from conftest import MockApi, MockApiFactory


class Failing:
    """Runs the CLI against a populated log directory and checks that it failed cleanly."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.before: Snapshot = snapshot(log_dir)

    def run(self, *args: str | Path, stdin: bytes | None = None) -> Result:
        return run_cli(*args, "--log", self.log_dir, "--keep", "1", stdin=stdin)

    def check(self, result: Result, code: int, *needles: str) -> str:
        line = assert_error(result, code, *needles)
        assert snapshot(self.log_dir) == self.before, "the log directory changed"
        return line


@pytest.fixture
def failing(log_dir: Path) -> Failing:
    return Failing(log_dir)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- fetching fails: 3 -----------------------------------------------------------


def test_api_unreachable(failing: Failing) -> None:
    url = f"http://127.0.0.1:{closed_port()}/tickets"
    result = failing.run("--api", url, "--retries", "1")
    failing.check(result, 3, "cannot reach", url, "refused")


@pytest.mark.parametrize(
    ("query", "needles"),
    [
        ("status=404", ["HTTP 404"]),
        ("status=500", ["HTTP 500"]),
        ("status=401", ["HTTP 401"]),
        ("body=truncated", ["ended early"]),  # Content-Length not reached: a fetch error
    ],
)
def test_http_errors(
    failing: Failing, shared_mock_api: MockApi, query: str, needles: list[str]
) -> None:
    url = f"{shared_mock_api.tickets_url}?{query}"
    result = failing.run("--api", url, "--retries", "0")
    failing.check(result, 3, shared_mock_api.tickets_url, *needles)


def test_timeout(failing: Failing, shared_mock_api: MockApi) -> None:
    start = time.monotonic()
    result = failing.run(
        "--api", shared_mock_api.tickets_url + "?delay=3", "--timeout", "0.5", "--retries", "0"
    )
    assert time.monotonic() - start < 2.5
    failing.check(result, 3, "timed out", shared_mock_api.tickets_url)


def test_timeout_message(failing: Failing, shared_mock_api: MockApi) -> None:
    result = failing.run(
        "--api", shared_mock_api.tickets_url + "?delay=3", "--timeout", "0.5", "--retries", "0"
    )
    line = failing.check(result, 3)
    assert line == (
        f"tickets: error: timed out after 0.5 s waiting for {shared_mock_api.tickets_url}"
    )


def test_response_too_large(failing: Failing, shared_mock_api: MockApi) -> None:
    result = failing.run("--api", shared_mock_api.tickets_url, "--max-bytes", "100")
    failing.check(result, 3, "larger than the limit of 100 bytes")


def test_input_too_large(failing: Failing, tmp_path: Path) -> None:
    source = write_json(tmp_path / "in.json", REFERENCE * 40)
    size = source.stat().st_size
    result = failing.run("--input", source, "--max-bytes", str(size - 1))
    failing.check(result, 3, f"larger than the limit of {size - 1} bytes")
    result = failing.run("--input", source, "--max-bytes", "1K")
    failing.check(result, 3, "larger than the limit of 1024 bytes")
    # Exactly at the limit is fine.
    ok_log = tmp_path / "ok"
    assert_ok(run_cli("--input", source, "--log", ok_log, "--max-bytes", str(size)))
    assert only_report(ok_log).read_bytes() == report_bytes(REFERENCE * 40)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_input_unreadable(failing: Failing, tmp_path: Path, kind: str) -> None:
    source = tmp_path / "nope.json" if kind == "missing" else tmp_path
    result = failing.run("--input", source)
    failing.check(result, 3, "cannot read", str(source))


# -- retries ---------------------------------------------------------------------


def test_retries_then_success(tmp_path: Path, mock_api: MockApiFactory) -> None:
    api = mock_api("--seed", "retry", "--count", "12")
    start = time.monotonic()
    result = run_cli(
        "--api", api.tickets_url + "?fail_first=2&key=ok", "--retries", "3", "--log", tmp_path
    )
    assert time.monotonic() - start < 8
    assert_ok(result)
    assert requests_logged(api, "key=ok ", 3) == 3
    assert [line.split()[3] for line in api.stderr.splitlines()] == ["503", "503", "200"]
    with urllib.request.urlopen(api.tickets_url, timeout=5) as response:
        served = json.load(response)["tickets"]
    assert only_report(tmp_path).read_bytes() == report_bytes(served)


def test_retries_exhausted(failing: Failing, shared_mock_api: MockApi) -> None:
    url = shared_mock_api.tickets_url + "?fail_first=5&key=exhausted"
    result = failing.run("--api", url, "--retries", "1")
    failing.check(result, 3, "HTTP 503")
    assert requests_logged(shared_mock_api, "key=exhausted ", 2) == 2


@pytest.mark.parametrize(("status", "requests"), [(404, 1), (500, 2), (429, 2)])
def test_which_statuses_are_retried(
    failing: Failing, shared_mock_api: MockApi, status: int, requests: int
) -> None:
    marker = f"status={status}&try=retried"
    result = failing.run("--api", f"{shared_mock_api.tickets_url}?{marker}", "--retries", "1")
    failing.check(result, 3, f"HTTP {status}")
    assert requests_logged(shared_mock_api, marker + " ", requests) == requests


# -- invalid data: 4 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "needles"),
    [
        ("body=invalid", ["not valid JSON"]),
        ("body=wrong-shape", ["wrong shape"]),
        ("body=bad-ticket&count=10", ["ticket 6 (index 5) has no 'status' field"]),
        ("body=bad-ticket&count=1", ["ticket 1 (index 0) has no 'status' field"]),
    ],
)
def test_invalid_data_from_api(
    failing: Failing, shared_mock_api: MockApi, query: str, needles: list[str]
) -> None:
    result = failing.run("--api", f"{shared_mock_api.tickets_url}?{query}")
    failing.check(result, 4, *needles)


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        (b"", ["empty"]),
        (b"\n  \n", ["empty"]),
        (b"<html>nope</html>", ["not JSON"]),
        (b"[1, 2", ["not valid JSON"]),
        (b'{"tickets": 5}', ["'tickets' is not a list"]),
        (b'"just a string"', ["wrong shape"]),
        (b'{"id": 1, "category": "c", "status": "open"}', ["wrong shape"]),
        (b'[{"id": 1, "category": "c", "status": "open"}, 7]', ["index 1", "not a JSON object"]),
        (b'[{"id": 1, "category": "c", "status": "open"}, "x"]', ["index 1", "not a JSON object"]),
        (
            b'{"tickets": [{"id": 1, "category": {}, "status": "o"}]}',
            ["ticket 1 (index 0)", "'category' is an object"],
        ),
        (b'[{"id": 1, "category": "c", "status": null}]', ["index 0", "'status'"]),
        (b'[{"id": 1, "category": null, "status": "x"}]', ["index 0", "--missing-category"]),
        (b'[{"category": "c", "status": "open"}]', ["index 0", "'id'"]),
        (b'[{"id": [1], "category": "c", "status": "open"}]', ["index 0", "'id'"]),
    ],
)
def test_invalid_data_from_input(
    failing: Failing, tmp_path: Path, body: bytes, needles: list[str]
) -> None:
    source = tmp_path / "in.json"
    source.write_bytes(body)
    failing.check(failing.run("--input", source), 4, *needles)


def test_bad_ticket_deep_in_a_large_input(failing: Failing, tmp_path: Path) -> None:
    data: list = [{"id": i, "category": "c", "status": "open", "t": "x" * 60} for i in range(40000)]
    data[31234] = {"id": "T-31234", "category": ["c"], "status": "open"}
    source = write_json(tmp_path / "in.json", {"tickets": data})
    assert source.stat().st_size > 3 * 1024 * 1024
    failing.check(
        failing.run("--input", source), 4, "ticket T-31234 (index 31234)", "'category' is a list"
    )


def test_invalid_json_after_several_parts(failing: Failing, tmp_path: Path) -> None:
    data = [{"id": i, "category": "c", "status": "open", "t": "x" * 60} for i in range(40000)]
    source = tmp_path / "in.json"
    source.write_bytes(json.dumps(data).encode()[:-1] + b', {"id": 1,')
    failing.check(failing.run("--input", source), 4, "not valid JSON")


@pytest.mark.parametrize("shape", ["list", "object"])
def test_trailing_comma_is_invalid(failing: Failing, tmp_path: Path, shape: str) -> None:
    data = [{"id": i, "category": "c", "status": "open", "pad": "x" * 50} for i in range(10400)]
    text = json.dumps(data)[:-1] + ",]"  # about 1.1 MiB
    if shape == "object":
        text = '{"tickets": ' + text + "}"
    source = tmp_path / "in.json"
    source.write_text(text)
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    failing.check(failing.run("--input", source), 4, "not valid JSON")


@pytest.mark.parametrize("status", ["open", "closed"])
@pytest.mark.parametrize("count", [1, 40000])
def test_out_of_range_float(failing: Failing, tmp_path: Path, status: str, count: int) -> None:
    # json.dumps would write Infinity, which is not JSON: invalid data, wherever it is.
    tickets = [{"id": i, "category": "c", "status": "open", "t": "x" * 60} for i in range(count)]
    text = json.dumps(tickets)
    bad = f'{{"id": -1, "category": "c", "status": "{status}", "x": 1e400}}'
    source = tmp_path / "in.json"
    source.write_text(text[:-1] + (", " if count else "") + bad + "]")
    failing.check(failing.run("--input", source), 4, "a number is out of range: 1e400")


# -- usage errors: 2 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--api", "ftp://x"], ["--api", "not an http(s) URL", "ftp://x"]),
        (["--api", "garbage"], ["--api", "not an http(s) URL", "garbage"]),
        (["--api", "http://"], ["--api", "not an http(s) URL"]),
        (["--api", "file:///etc/passwd"], ["--api", "not an http(s) URL"]),
        ([], ["no ticket source"]),
        (["--api", "http://x/", "--input", "-"], ["not allowed with"]),
        (["--input", "-", "--keep", "-1"], ["--keep"]),
        (["--input", "-", "--keep", "two"], ["--keep"]),
        (["--input", "-", "--timeout", "0"], ["--timeout"]),
        (["--input", "-", "--timeout", "nan"], ["--timeout"]),
        (["--input", "-", "--retries", "1.5"], ["--retries"]),
        (["--input", "-", "--max-bytes", "0"], ["--max-bytes"]),
        (["--input", "-", "--max-bytes", "12X"], ["--max-bytes"]),
        (["--input", "-", "--lang", "fr"], ["--lang"]),
        (["--input", "-", "--bogus"], ["unrecognized arguments"]),
    ],
)
def test_usage_errors(failing: Failing, args: list[str], needles: list[str]) -> None:
    failing.check(failing.run(*args, stdin=b"[]"), 2, *needles)


def test_url_credentials_never_shown_in_usage_error(failing: Failing) -> None:
    line = failing.check(failing.run("--api", "ftp://user:pa55word@host/x"), 2, "ftp://")
    assert "pa55word" not in line


def test_credentials_without_scheme_never_shown(failing: Failing) -> None:
    result = failing.run("--api", "user:pa55word@example.com/tickets")
    line = failing.check(result, 2)
    assert "pa55word" not in line


@pytest.mark.parametrize("port", ["99999", "abc"])
def test_bad_port(failing: Failing, port: str) -> None:
    result = failing.run("--api", f"http://user:pa55word@127.0.0.1:{port}/tickets")
    line = failing.check(result, 2, "--api")
    assert "pa55word" not in line


def test_usage_error_message_is_last_line(failing: Failing) -> None:
    result = failing.run("--api", "ftp://x")
    lines = result.stderr.splitlines()
    assert lines[0].startswith("usage: tickets.py")
    assert re.fullmatch(r"tickets\.py: error: argument --api: .*", lines[-1])


@pytest.mark.parametrize("status", ["open", "closed"])
@pytest.mark.parametrize("where", ["small", "deep in a large input"])
def test_invalid_utf8(failing: Failing, tmp_path: Path, status: str, where: str) -> None:
    # A byte that is not UTF-8 in a field the report does not read: the tickets'
    # text is kept as sent, so it must be checked all the same.
    bad = b'{"id": 7, "category": "c", "status": "%s", "x": "\xff"}' % status.encode()
    count = 40000 if where != "small" else 1
    tickets = [
        json.dumps({"id": i, "category": "c", "status": "open"}).encode() for i in range(count)
    ]
    tickets[count // 2] = bad
    source = tmp_path / "in.json"
    source.write_bytes(b"[" + b", ".join(tickets) + b"]")
    failing.check(failing.run("--input", source), 4, "not valid JSON", "not UTF-8")
