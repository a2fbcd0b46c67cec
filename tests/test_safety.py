"""Safety of files/tickets.py: no secret of a URL in any message, hostile ticket
data escaped on the console (the JSON report keeps it exactly)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support import (
    Result,
    assert_error,
    assert_ok,
    expected_report,
    finish,
    only_report,
    run_cli,
    start_cli,
    temp_files,
)
from ticketslib import text

if TYPE_CHECKING:
    from conftest import RecordingServer

SECRETS = ("pa55word", "qu3ry-secret", "fr4g-secret")


def secret_url(base: str) -> str:
    """BASE (scheme://host:port/path) with a password, a query and a fragment."""
    scheme, rest = base.split("://", 1)
    return f"{scheme}://user:pa55word@{rest}?api_key=qu3ry-secret#fr4g-secret"


def assert_no_secret(result: Result) -> None:
    for secret in SECRETS:
        assert secret not in result.stdout, result.stdout
        assert secret not in result.stderr, result.stderr
    assert "user:" not in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("where", ["flag", "env"])
@pytest.mark.parametrize(
    ("failure", "code", "needle"),
    [
        ("bad-port", 2, "bad port in URL: 'http://127.0.0.1:99999/tickets'"),
        ("bad-scheme", 2, "not an http(s) URL: 'ftp://127.0.0.1:21/tickets'"),
        ("refused", 3, "cannot reach http://127.0.0.1:{port}/tickets: connection refused"),
        ("http-401", 3, "http://127.0.0.1:{port}/tickets answered HTTP 401"),
    ],
)
def test_url_secrets_never_shown(
    tmp_path: Path,
    recording_server: RecordingServer,
    where: str,
    failure: str,
    code: int,
    needle: str,
) -> None:
    port = recording_server.server.server_address[1]
    base = {
        "bad-port": "http://127.0.0.1:99999/tickets",
        "bad-scheme": "ftp://127.0.0.1:21/tickets",
        "refused": f"http://127.0.0.1:{free_port()}/tickets",
        "http-401": recording_server.url,
    }[failure]
    recording_server.status = 401
    url = secret_url(base)
    source = ["--api", url] if where == "flag" else []
    env = {"TICKETS_API_URL": url} if where == "env" else {}
    result = run_cli(*source, "--log", tmp_path / "logs", "--retries", "0", env=env)
    if failure == "refused":
        port = int(base.split(":")[2].split("/")[0])
    line = assert_error(result, code, needle.format(port=port))
    assert_no_secret(result)
    assert ("TICKETS_API_URL" in line) is (where == "env" and code == 2)


@pytest.mark.parametrize(
    "args",
    [
        # argparse's own messages quote the arguments it does not know.
        [secret_url("http://127.0.0.1:1/tickets")],
        ["--api", "user:pa55word@127.0.0.1/t?api_key=qu3ry-secret#fr4g-secret"],
        ["--api", "http:user:pa55word@127.0.0.1/t?api_key=qu3ry-secret#fr4g-secret"],
    ],
)
def test_argparse_messages_never_show_secrets(tmp_path: Path, args: list[str]) -> None:
    result = run_cli("--input", "-", "--log", tmp_path, *args, stdin=b"[]")
    assert_error(result, 2)
    assert_no_secret(result)


def test_proxy_credentials_never_shown(tmp_path: Path) -> None:
    proxy = secret_url(f"http://127.0.0.1:{free_port()}")
    env = {"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}
    url = secret_url("http://example.invalid/tickets")
    result = run_cli("--api", url, "--log", tmp_path, "--retries", "0", env=env)
    assert_error(result, 3, "http://example.invalid/tickets")
    assert_no_secret(result)


# -- hostile ticket data -----------------------------------------------------------

HOSTILE = [
    {"id": 1, "category": "a\n  - id: 999  category: forged", "status": "open"},
    {"id": "x\x1b[31mred\x1b[0m", "category": "bell\x07\r\ttab", "status": "open"},
    {"id": "\u2028\u2029\x85", "category": "\u202eevil\x7f", "status": "open"},
    {"id": 4, "category": 'clean é Жук 😀 q"uote\\', "status": "open"},
    {"id": 5, "category": "a\n  - id: 999  category: forged", "status": "closed"},
]
ESCAPED_LINES = [
    "  - id: 1  category: a\\n  - id: 999  category: forged",
    "  - id: x\\x1b[31mred\\x1b[0m  category: bell\\x07\\r\\ttab",
    "  - id: \\u2028\\u2029\\x85  category: \\u202eevil\\x7f",
    '  - id: 4  category: clean é Жук 😀 q"uote\\',
]


def test_hostile_ticket_data_is_escaped_on_the_console(tmp_path: Path) -> None:
    result = run_cli(
        "--input", "-", "--log", tmp_path, "--lang", "en", stdin=json.dumps(HOSTILE).encode()
    )
    assert_ok(result)
    lines = result.stdout.split("\n")
    # One line per open ticket, no forged one, no control character anywhere.
    start = lines.index("Open tickets: 4") + 1
    assert lines[start : start + 4] == ESCAPED_LINES
    assert lines[start + 4] == ""
    assert sum("id: 999" in line for line in lines) == 2  # in ticket 1 and its category line
    assert "  - a\\n  - id: 999  category: forged: 2" in lines
    visible = result.stdout.replace("\n", "")
    assert not [c for c in visible if unicodedata.category(c) in ("Cc", "Zl", "Zp")], visible
    assert not set(visible) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    # The JSON report keeps the data exactly.
    report = only_report(tmp_path)
    assert json.loads(report.read_bytes()) == expected_report(HOSTILE)


def test_console_lines_unchanged_for_clean_data() -> None:
    expected = '  - id: 1  category: technical\n  - id: T-2  category: q"uote\\ é\n'
    assert text.console_lines([1, "T-2"], ["technical", 'q"uote\\ é']) == expected.encode()
    assert text.console_lines(["a\nb"], ["\x1b"]) == b"  - id: a\\nb  category: \\x1b\n"


# -- the test harness and inherited signal dispositions ------------------------------


def test_cli_reacts_to_sigint_even_when_the_tests_ignore_it(tmp_path: Path) -> None:
    """A shell without job control (`make test &`) starts the tests with SIGINT
    ignored; the harness still starts tickets.py with SIGINT at its default."""
    log = tmp_path / "logs"
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        process = start_cli("--input", "-", "--log", log, stdin=subprocess.PIPE)
    finally:
        signal.signal(signal.SIGINT, previous)
    deadline = time.monotonic() + 10
    while not (log.is_dir() and temp_files(log)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert temp_files(log), "the run did not get to reading its input"
    process.send_signal(signal.SIGINT)
    result = finish(process, timeout=10)
    assert result.returncode == 130, result.stderr
    assert result.stderr == "tickets: interrupted\n"
    assert list(log.iterdir()) == []


@pytest.mark.parametrize(
    ("sig", "code", "line"),
    [
        (signal.SIGTERM, 143, "tickets: terminated (SIGTERM)\n"),
        (signal.SIGINT, 130, "tickets: interrupted\n"),
    ],
)
def test_signal_mid_run_leaves_no_file(
    tmp_path: Path, sig: signal.Signals, code: int, line: str
) -> None:
    """Stopped with half the list read (parts of the report written to its
    temporary file): no report, no temporary file, one line."""
    tickets = [{"id": i, "category": "c", "status": "open", "pad": "x" * 40} for i in range(30000)]
    body = json.dumps(tickets).encode()  # about 2.5 MiB: several parts
    log = tmp_path / "logs"
    process = start_cli("--input", "-", "--log", log, stdin=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(body[: len(body) // 2])
    process.stdin.flush()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if log.is_dir() and temp_files(log) and temp_files(log)[0].stat().st_size > 100_000:
            break
        time.sleep(0.02)
    assert temp_files(log), "the run did not get to writing its report"
    process.send_signal(sig)
    result = finish(process, timeout=10)
    assert (result.returncode, result.stderr) == (code, line)
    assert list(log.iterdir()) == []
