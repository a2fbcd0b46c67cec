"""Tests of files/mock_api.py over real HTTP (the mock runs as a subprocess)."""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import MockApi, MockApiFactory

MOCK_API = Path(__file__).resolve().parent.parent / "files" / "mock_api.py"

CATEGORIES = {"customer_service", "technical", "billing"}
STATUSES = {"open", "closed"}


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(url: str, method: str = "GET", timeout: float = 5.0) -> Reply:
    """One HTTP request; HTTP error statuses are returned, not raised."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


def check_tickets(tickets: Any, count: int | None = None) -> None:
    assert isinstance(tickets, list)
    if count is None:
        assert 10 <= len(tickets) <= 14
    else:
        assert len(tickets) == count
    assert [t["id"] for t in tickets] == list(range(1, len(tickets) + 1))
    for ticket in tickets:
        assert set(ticket) == {"id", "category", "status"}
        assert ticket["category"] in CATEGORIES
        assert ticket["status"] in STATUSES


@pytest.fixture
def api(shared_mock_api: MockApi) -> str:
    """The /tickets URL of the session-wide mock with default options."""
    return shared_mock_api.tickets_url


# -- normal answers ------------------------------------------------------------


def test_first_line_and_port(shared_mock_api: MockApi) -> None:
    first = shared_mock_api.stdout.splitlines()[0]
    assert first == f"mock API listening on {shared_mock_api.tickets_url}"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", shared_mock_api.url)
    assert shared_mock_api.port not in (0, 3000)


def test_tickets_shape_and_ranges_over_many_requests(api: str) -> None:
    counts: Counter[int] = Counter()
    categories: set[str] = set()
    statuses: set[str] = set()
    bodies: set[bytes] = set()
    for _ in range(40):
        reply = fetch(api)
        assert reply.status == 200
        assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
        assert reply.headers["Access-Control-Allow-Origin"] == "*"
        assert int(reply.headers["Content-Length"]) == len(reply.body)
        data = reply.json()
        assert set(data) == {"tickets"}
        check_tickets(data["tickets"])
        counts[len(data["tickets"])] += 1
        categories.update(t["category"] for t in data["tickets"])
        statuses.update(t["status"] for t in data["tickets"])
        bodies.add(reply.body)
    # Without a seed every request is random: several sizes and all values occur.
    assert len(counts) >= 3
    assert categories == CATEGORIES
    assert statuses == STATUSES
    assert len(bodies) >= 35


def test_count_query(api: str) -> None:
    check_tickets(fetch(api + "?count=3").json()["tickets"], count=3)
    check_tickets(fetch(api + "?count=0").json()["tickets"], count=0)
    check_tickets(fetch(api + "?count=200").json()["tickets"], count=200)


def test_count_option_and_query_override(mock_api: MockApiFactory) -> None:
    url = mock_api("--count", "5").tickets_url
    for _ in range(5):
        check_tickets(fetch(url).json()["tickets"], count=5)
    check_tickets(fetch(url + "?count=2").json()["tickets"], count=2)


def test_healthz(shared_mock_api: MockApi) -> None:
    reply = fetch(shared_mock_api.url + "/healthz")
    assert (reply.status, reply.body) == (200, b"ok")


def test_request_log_line_on_stderr(shared_mock_api: MockApi) -> None:
    fetch(shared_mock_api.tickets_url + "?count=1&log=probe")
    fetch(shared_mock_api.url + "/nope?log=probe")
    time.sleep(0.05)
    log = shared_mock_api.stderr
    assert re.search(r"GET /tickets\?count=1&log=probe 200 \d+\.\dms", log)
    assert re.search(r"GET /nope\?log=probe 404 \d+\.\dms", log)
    assert "Traceback" not in log


# -- seeds -----------------------------------------------------------------------


def test_seed_reproducible_across_requests_and_processes(
    mock_api: MockApiFactory,
) -> None:
    first = mock_api("--seed", "42")
    second = mock_api("--seed", "42")
    other = mock_api("--seed", "43")
    body = fetch(first.tickets_url).body
    check_tickets(json.loads(body)["tickets"])
    assert fetch(first.tickets_url).body == body
    assert fetch(second.tickets_url).body == body
    assert fetch(other.tickets_url).body != body
    # ?seed= with the same value gives the same data as --seed.
    assert fetch(other.tickets_url + "?seed=42").body == body


def test_seed_query(api: str) -> None:
    bodies = {seed: fetch(f"{api}?seed={seed}").body for seed in ("a", "b", "c")}
    assert len(set(bodies.values())) == 3
    for seed, body in bodies.items():
        assert fetch(f"{api}?seed={seed}").body == body


def test_seed_survives_restart(mock_api: MockApiFactory) -> None:
    api = mock_api("--seed", "7")
    body = fetch(api.tickets_url).body
    assert api.stop() == 0
    assert fetch(mock_api("--seed", "7").tickets_url).body == body


# -- faults ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 429, 500, 502, 503])
def test_status_fault(api: str, status: int) -> None:
    reply = fetch(f"{api}?status={status}")
    assert reply.status == status
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert reply.json()["status"] == status
    assert "error" in reply.json()


def test_delay_fault(api: str) -> None:
    start = time.monotonic()
    reply = fetch(api + "?delay=0.3&count=1")
    assert 0.3 <= time.monotonic() - start < 2.0
    check_tickets(reply.json()["tickets"], count=1)
    with pytest.raises((socket.timeout, urllib.error.URLError)):
        fetch(api + "?delay=1", timeout=0.2)


def test_delay_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    # A 60 s sleep is too slow to test over HTTP: check the parser directly.
    spec = importlib.util.spec_from_file_location("mock_api_under_test", MOCK_API)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    assert module.parse_delay("1000") == 60.0
    assert module.parse_delay("0.25") == 0.25


def test_body_invalid(api: str) -> None:
    reply = fetch(api + "?body=invalid")
    assert reply.status == 200
    assert int(reply.headers["Content-Length"]) == len(reply.body)
    with pytest.raises(ValueError):
        reply.json()


def test_body_wrong_shape(api: str) -> None:
    reply = fetch(api + "?body=wrong-shape")
    assert (reply.status, reply.json()) == (200, {"data": 1})


def test_body_list(api: str) -> None:
    reply = fetch(api + "?body=list&count=4")
    assert reply.status == 200
    check_tickets(reply.json(), count=4)


def test_body_bad_ticket(api: str) -> None:
    tickets = fetch(api + "?body=bad-ticket&count=5").json()["tickets"]
    assert [t["id"] for t in tickets] == [1, 2, 3, 4, 5]
    assert [t["id"] for t in tickets if "status" not in t] == [3]


def test_body_truncated(api: str) -> None:
    with urllib.request.urlopen(api + "?body=truncated", timeout=5) as response:
        assert response.status == 200
        length = int(response.headers["Content-Length"])
        with pytest.raises(http.client.IncompleteRead) as info:
            response.read()
    assert 0 < len(info.value.partial) < length


def test_fail_first_counts_per_key(api: str) -> None:
    url = api + "?fail_first=2&count=1&key="
    assert [fetch(url + "alpha").status for _ in range(4)] == [503, 503, 200, 200]
    assert [fetch(url + "beta").status for _ in range(3)] == [503, 503, 200]
    reply = fetch(api + "?fail_first=1&key=gamma")
    assert reply.status == 503
    assert reply.json()["status"] == 503
    check_tickets(fetch(api + "?fail_first=1&key=gamma").json()["tickets"])


def test_fail_first_is_thread_safe(api: str) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        status = fetch(api + "?fail_first=7&key=parallel&count=1").status
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(statuses) == [200] * 18 + [503] * 7


@pytest.mark.parametrize(
    "query",
    [
        "count=-1",
        "count=x",
        "count=10001",
        "status=99",
        "status=600",
        "delay=nan",
        "delay=-1",
        "body=nope",
        "fail_first=x",
    ],
)
def test_bad_query_values_answer_400(api: str, query: str) -> None:
    reply = fetch(f"{api}?{query}")
    assert reply.status == 400
    assert reply.json()["status"] == 400


def test_fault_options_are_defaults(mock_api: MockApiFactory) -> None:
    failing = mock_api("--fault-status", "503")
    assert fetch(failing.tickets_url).status == 503
    assert fetch(failing.url + "/healthz").status == 200

    listing = mock_api("--fault-body", "list", "--fault-delay", "0.2", "--count", "2")
    start = time.monotonic()
    check_tickets(fetch(listing.tickets_url).json(), count=2)
    assert time.monotonic() - start >= 0.2
    # The query overrides the command-line default.
    tickets = fetch(listing.tickets_url + "?body=bad-ticket").json()["tickets"]
    assert [t["id"] for t in tickets if "status" not in t] == [2]


# -- routing and methods ---------------------------------------------------------


def test_unknown_path_is_404(shared_mock_api: MockApi) -> None:
    for path in ("/", "/ticket", "/tickets/1", "/healthz/x"):
        reply = fetch(shared_mock_api.url + path)
        assert reply.status == 404
        assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
        assert reply.json()["status"] == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "HEAD", "FOO"])
def test_other_methods_are_405(api: str, method: str) -> None:
    reply = fetch(api, method=method)
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, OPTIONS"
    if method != "HEAD":
        assert reply.json()["status"] == 405


def test_options_preflight(api: str) -> None:
    reply = fetch(api, method="OPTIONS")
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in reply.headers["Access-Control-Allow-Methods"]
    assert reply.body == b""


# -- process lifecycle -----------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly(mock_api: MockApiFactory, sig: signal.Signals) -> None:
    api = mock_api()
    fetch(api.tickets_url)
    start = time.monotonic()
    assert api.stop(sig, timeout=3.0) == 0
    assert time.monotonic() - start < 3.0
    assert api.stdout.splitlines()[-1] == "mock API stopped"
    assert "Traceback" not in api.stderr


def test_sigterm_with_pending_request_and_disconnects(mock_api: MockApiFactory) -> None:
    api = mock_api()
    # A client that gives up early, then one that is still waiting at shutdown.
    with pytest.raises((socket.timeout, urllib.error.URLError)):
        fetch(api.tickets_url + "?delay=0.3", timeout=0.05)

    def wait_forever() -> None:
        # The server goes away while this request waits.
        with contextlib.suppress(OSError):
            fetch(api.tickets_url + "?delay=30", timeout=10)

    threading.Thread(target=wait_forever, daemon=True).start()
    time.sleep(0.4)
    start = time.monotonic()
    assert api.stop(timeout=3.0) == 0
    assert time.monotonic() - start < 3.0
    assert api.stdout.splitlines()[-1] == "mock API stopped"
    assert "Traceback" not in api.stderr
    assert "GET /tickets?delay=0.3 200" in api.stderr


def test_help_documents_options_and_query() -> None:
    result = subprocess.run(
        [sys.executable, str(MOCK_API), "--help"],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    for word in (
        "--host",
        "--port",
        "--seed",
        "--count",
        "--fault-status",
        "--fault-delay",
        "--fault-body",
        "count=",
        "seed=",
        "status=",
        "delay=",
        "body=",
        "fail_first=",
        "key=",
        "invalid",
        "wrong-shape",
        "list",
        "bad-ticket",
        "truncated",
    ):
        assert word in result.stdout


def test_port_in_use_fails_clearly(shared_mock_api: MockApi) -> None:
    result = subprocess.run(
        [sys.executable, str(MOCK_API), "--port", str(shared_mock_api.port)],
        check=False,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 1
    assert "cannot listen" in result.stderr
