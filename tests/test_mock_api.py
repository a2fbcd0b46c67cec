"""Tests of files/mock_api.py over real HTTP (the mock runs as a subprocess)."""

from __future__ import annotations

import base64
import contextlib
import email.utils
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import pytest
from conftest import MockApi

if TYPE_CHECKING:
    from conftest import MockApiFactory

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


def fetch(
    url: str, method: str = "GET", timeout: float = 5.0, headers: dict[str, str] | None = None
) -> Reply:
    """One HTTP request; HTTP error statuses are returned, not raised."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
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
        "--style",
        "--token",
        *STYLES,
        "/_all",
        *(f"mock_{knob}=" for knob in KNOBS),
        "nextPageToken",
        "X-Next-Page",
        "Retry-After",
        "x-ratelimit-reset",
        "X-Redmine-API-Key",
        "PRIVATE-TOKEN",
        "EMAIL/token:SECRET",
        "SECRET:X",
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


# -- vendor styles: helpers --------------------------------------------------------

STYLES = ("redmine", "github", "gitlab", "zendesk", "jira", "freshdesk", "json-server")
PATHS = {
    "redmine": "/issues.json",
    "github": "/repos/acme/helpdesk/issues",
    "gitlab": "/api/v4/projects/42/issues",
    "zendesk": "/api/v2/tickets.json",
    "jira": "/rest/api/3/search/jql?jql=project%3DHD",
    "freshdesk": "/api/v2/tickets",
    "json-server": "/tickets",
}
LINK = re.compile(r'<([^>]*)>;\s*rel="([^"]*)"')
SECRET = "s3cr3t-Tok"


def links(reply: Reply) -> dict[str, str]:
    """The rel -> URL pairs of a Link header (RFC 8288, as the mock writes it)."""
    return {rel: url for url, rel in LINK.findall(reply.headers.get("Link") or "")}


def with_query(url: str, query: str) -> str:
    if not query:
        return url
    return url + ("&" if "?" in url else "?") + query


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def ok(reply: Reply) -> Any:
    assert reply.status == 200, (reply.status, reply.body[:300])
    return reply.json()


@dataclass
class Crawl:
    items: list[Any]
    pages: list[Reply]
    urls: list[str]
    looped: bool = False  # stopped at a URL already visited
    capped: bool = False  # stopped at the page limit


def page_items(style: str, body: Any) -> list[Any]:
    key = {"redmine": "issues", "zendesk": "tickets", "jira": "issues"}.get(style)
    return body[key] if key else body


def next_page(style: str, url: str, reply: Reply, offset: int) -> str | None:
    """The URL of the page after `reply` (got from `url`), by the vendor's own rules."""
    body = reply.json()
    if style == "redmine":  # offset += what came back, until total_count
        if not body["issues"] or offset >= body["total_count"]:
            return None
        return with_query(re.sub(r"[?&]offset=\d+$", "", url), f"offset={offset}")
    if style == "zendesk" and "meta" in body:  # cursor: links.next while has_more
        return body["links"]["next"] if body["meta"]["has_more"] else None
    if style == "zendesk":  # offset: next_page until null
        return body["next_page"]
    if style == "jira":  # nextPageToken until it is absent
        assert body["isLast"] is ("nextPageToken" not in body)
        if "nextPageToken" not in body:
            return None
        token = "nextPageToken=" + quote(body["nextPageToken"], safe="")
        return with_query(re.sub(r"[?&]nextPageToken=[^&]*$", "", url), token)
    return links(reply).get("next")  # Link: rel="next" until there is none


def crawl(style: str, url: str, headers: dict[str, str] | None = None, limit: int = 200) -> Crawl:
    """Every page of a list, followed by hand with the vendor's own rules."""
    done = Crawl([], [], [])
    next_url: str | None = with_query(url, "offset=0") if style == "redmine" else url
    while next_url:
        if next_url in done.urls:
            done.looped = True
            break
        if len(done.pages) == limit:
            done.capped = True
            break
        reply = fetch(next_url, headers=headers)
        done.urls.append(next_url)
        done.pages.append(reply)
        done.items += page_items(style, ok(reply))
        next_url = next_page(style, next_url, reply, len(done.items))
    return done


def list_url(api: MockApi, style: str, query: str = "") -> str:
    return with_query(api.url + PATHS[style], query)


def all_items(api: MockApi, style: str, query: str = "") -> list[Any]:
    list_query = urlsplit(PATHS[style]).query
    return ok(
        fetch(
            with_query(f"{api.url}/_all?style={style}", "&".join(filter(None, [list_query, query])))
        )
    )


@pytest.fixture(scope="module")
def styled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, MockApi]]:
    """One mock per style (default count 137), and one per style with --token."""
    apis: dict[str, MockApi] = {}
    try:
        for style in STYLES:
            apis[style] = MockApi(("--style", style), tmp_path_factory.mktemp(style), 10.0)
            apis[style + "+token"] = MockApi(
                ("--style", style, "--token", SECRET), tmp_path_factory.mktemp(style), 10.0
            )
        yield apis
    finally:
        for api in apis.values():
            api.stop()


# -- vendor styles: start, shapes, defaults -------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_style_prints_its_list_endpoint(styled: dict[str, MockApi], style: str) -> None:
    api = styled[style]
    first, second = api.stdout.splitlines()[:2]
    assert first == f"mock API listening on {api.url}/tickets"
    assert second == f"mock API style {style}: {api.url}{PATHS[style]}"
    assert fetch(api.url + "/healthz").body == b"ok"


@pytest.mark.parametrize("style", [s for s in STYLES if s != "json-server"])
def test_style_has_no_tickets_endpoint(styled: dict[str, MockApi], style: str) -> None:
    assert fetch(styled[style].url + "/tickets").status == 404


def test_redmine_shape_and_default_open_only(styled: dict[str, MockApi]) -> None:
    api = styled["redmine"]
    body = ok(fetch(list_url(api, "redmine")))
    assert set(body) == {"issues", "total_count", "offset", "limit"}
    assert (body["offset"], body["limit"], len(body["issues"])) == (0, 25, 25)
    everything = all_items(api, "redmine", "status_id=*")
    assert len(everything) == 137
    for issue in everything:
        assert set(issue["status"]) == {"id", "name", "is_closed"}
        assert issue["status"]["is_closed"] is (issue["status"]["name"] in ("Closed", "Rejected"))
        if "category" in issue:
            assert set(issue["category"]) == {"id", "name"}
            assert issue["category"]["name"] in CATEGORIES
    assert any("category" not in issue for issue in everything)
    assert any("category" in issue for issue in everything)
    # Without status_id only open issues (IssueQuery's default filter "o").
    opened = [i for i in everything if not i["status"]["is_closed"]]
    assert body["total_count"] == len(opened) < len(everything)
    assert [i["id"] for i in body["issues"]] == [i["id"] for i in opened][:25]
    assert all(not i["status"]["is_closed"] for i in body["issues"])
    # Default order id DESC; sort=id gives ascending.
    assert [i["id"] for i in everything] == sorted((i["id"] for i in everything), reverse=True)
    ascending = ok(fetch(list_url(api, "redmine", "status_id=*&sort=id&limit=5")))["issues"]
    assert [i["id"] for i in ascending] == [1, 2, 3, 4, 5]
    closed = ok(fetch(list_url(api, "redmine", "status_id=c&limit=100")))["issues"]
    assert closed and all(i["status"]["is_closed"] for i in closed)
    fives = ok(fetch(list_url(api, "redmine", "status_id=5|6&limit=100")))["issues"]
    assert {i["status"]["id"] for i in fives} == {5, 6}


def test_redmine_limit_capped_at_100_and_offset_rules(mock_api: MockApiFactory) -> None:
    api = mock_api("--style", "redmine", "--count", "300")
    url = list_url(api, "redmine", "status_id=*")
    body = ok(fetch(url + "&limit=1000"))
    assert (body["limit"], len(body["issues"]), body["total_count"]) == (100, 100, 300)
    assert ok(fetch(url + "&limit=0"))["limit"] == 25
    assert ok(fetch(url + "&limit=abc"))["limit"] == 25
    assert ok(fetch(url + "&limit=7x"))["limit"] == 7
    assert ok(fetch(url + "&offset=-5"))["offset"] == 0
    assert ok(fetch(url + "&page=3&limit=10"))["offset"] == 20
    assert ok(fetch(url + "&page=3&limit=10&offset=4"))["offset"] == 4
    assert ok(fetch(url + "&offset=999"))["issues"] == []
    assert set(ok(fetch(url + "&nometa=1"))) == {"issues"}
    assert set(ok(fetch(url, headers={"X-Redmine-Nometa": "1"}))) == {"issues"}
    project = ok(fetch(api.url + "/projects/helpdesk/issues.json?status_id=*"))
    assert project["total_count"] == 300


def test_github_shape_pull_requests_and_default_open(styled: dict[str, MockApi]) -> None:
    api = styled["github"]
    everything = all_items(api, "github", "state=all")
    assert len(everything) == 137
    pulls = [i for i in everything if "pull_request" in i]
    assert 0 < len(pulls) < len(everything)
    for issue in everything:
        assert issue["state"] in ("open", "closed")
        assert isinstance(issue["number"], int)
        assert isinstance(issue["labels"], list)
        for label in issue["labels"]:
            assert label["name"] in CATEGORIES
            assert {"id", "name", "color"} <= set(label)
    assert any(not i["labels"] for i in everything)
    first = fetch(list_url(api, "github"))
    page = ok(first)
    assert len(page) == 30  # per_page default 30
    assert all(i["state"] == "open" for i in page)  # state defaults to open
    opened = [i for i in everything if i["state"] == "open"]
    assert crawl("github", list_url(api, "github")).items == opened
    assert first.headers["x-ratelimit-limit"] == "5000"
    assert int(first.headers["x-ratelimit-remaining"]) < 5000
    assert int(first.headers["x-ratelimit-reset"]) > time.time()
    assert first.headers["x-ratelimit-resource"] == "core"
    assert fetch(list_url(api, "github", "state=everything")).status == 422


def test_github_link_header_and_per_page_cap(mock_api: MockApiFactory) -> None:
    api = mock_api("--style", "github", "--count", "450")
    url = list_url(api, "github", "state=all&per_page=500")
    assert len(ok(fetch(url))) == 100  # per_page max 100
    first = links(fetch(list_url(api, "github", "state=all&per_page=100")))
    assert set(first) == {"next", "last"}
    assert first["next"] == f"{api.url}/repositories/1300192/issues?state=all&per_page=100&page=2"
    assert first["last"].endswith("&page=5")
    middle = fetch(first["next"])
    order = [rel for _, rel in LINK.findall(middle.headers["Link"])]
    assert order == ["prev", "next", "last", "first"]
    last = fetch(first["last"])
    assert set(links(last)) == {"prev", "first"}
    assert len(ok(last)) == 50
    single = fetch(list_url(api, "github", "state=all&per_page=100&mock_count=40"))
    assert "Link" not in single.headers


def test_gitlab_shape_headers_and_links(mock_api: MockApiFactory) -> None:
    api = mock_api("--style", "gitlab", "--count", "45")
    everything = all_items(api, "gitlab")
    assert len(everything) == 45  # state defaults to all
    assert {i["state"] for i in everything} == {"opened", "closed"}
    assert all(isinstance(i["iid"], int) for i in everything)
    assert all(set(map(type, i["labels"])) <= {str} for i in everything)
    assert {i["iid"] for i in everything} == set(range(1, 46))
    first = fetch(list_url(api, "gitlab"))
    assert len(ok(first)) == 20
    headers = {k: first.headers[k] for k in ("X-Page", "X-Next-Page", "X-Prev-Page", "X-Total")}
    assert headers == {"X-Page": "1", "X-Next-Page": "2", "X-Prev-Page": "", "X-Total": "45"}
    assert first.headers["X-Total-Pages"] == "3"
    assert first.headers["X-Per-Page"] == "20"
    next_url = links(first)["next"]
    assert next_url == (
        f"{api.url}/api/v4/projects/42/issues?id=42&order_by=created_at&page=2&per_page=20"
        "&scope=all&sort=desc&state=all&with_labels_details=false"
    )
    last = fetch(links(first)["last"])
    assert last.headers["X-Next-Page"] == ""
    assert "next" not in links(last)
    assert len(ok(last)) == 5
    assert ok(fetch(list_url(api, "gitlab", "per_page=500")))[:45] == everything
    assert fetch(list_url(api, "gitlab", "per_page=500")).headers["X-Per-Page"] == "100"
    assert fetch(list_url(api, "gitlab", "per_page=x")).status == 400
    assert fetch(list_url(api, "gitlab", "state=open")).status == 400
    opened = all_items(api, "gitlab", "state=opened")
    assert opened and all(i["state"] == "opened" for i in opened)


def test_gitlab_over_10000_has_no_totals(mock_api: MockApiFactory) -> None:
    api = mock_api("--style", "gitlab", "--count", "10001")
    reply = fetch(list_url(api, "gitlab", "per_page=100"))
    assert len(ok(reply)) == 100
    assert "X-Total" not in reply.headers
    assert "X-Total-Pages" not in reply.headers
    assert set(links(reply)) == {"next", "first"}
    assert reply.headers["X-Next-Page"] == "2"


def test_zendesk_shape_offset_and_cursor(styled: dict[str, MockApi]) -> None:
    api = styled["zendesk"]
    everything = all_items(api, "zendesk")
    assert [t["id"] for t in everything] == list(range(1, 138))  # sort_by id, asc
    assert {t["status"] for t in everything} == {
        "new",
        "open",
        "pending",
        "hold",
        "solved",
        "closed",
    }
    assert None in {t["type"] for t in everything}
    assert {t["type"] for t in everything} - {None} <= {"problem", "incident", "question", "task"}
    body = ok(fetch(list_url(api, "zendesk")))
    assert (len(body["tickets"]), body["count"], body["previous_page"]) == (100, 137, None)
    assert body["next_page"] == f"{api.url}/api/v2/tickets.json?page=2&per_page=100"
    assert ok(fetch(body["next_page"]))["next_page"] is None
    cursor = ok(fetch(list_url(api, "zendesk", "page[size]=100")))
    assert set(cursor) == {"tickets", "meta", "links"}
    assert cursor["meta"]["has_more"] is True
    assert cursor["links"]["next"].startswith(f"{api.url}/api/v2/tickets.json?page[size]=100")
    last = ok(fetch(cursor["links"]["next"]))
    assert last["meta"]["has_more"] is False
    assert len(last["tickets"]) == 37
    assert fetch(list_url(api, "zendesk", "page[size]=101")).status == 400
    assert fetch(list_url(api, "zendesk", "page[after]=nonsense")).status == 400
    assert len(ok(fetch(list_url(api, "zendesk", "per_page=500")))["tickets"]) == 100
    assert fetch(list_url(api, "zendesk", "page=101")).status == 400  # beyond 10,000 records
    assert fetch(list_url(api, "zendesk", "page=2&per_page=50")).status == 200
    desc = all_items(api, "zendesk", "sort_order=desc")
    assert [t["id"] for t in desc] == list(range(137, 0, -1))


def test_jira_ids_only_by_default_fields_and_absent_token(styled: dict[str, MockApi]) -> None:
    api = styled["jira"]
    body = ok(fetch(list_url(api, "jira")))
    assert set(body) == {"issues", "nextPageToken", "isLast"}
    assert len(body["issues"]) == 50  # maxResults default 50
    assert all(set(issue) == {"id"} for issue in body["issues"])  # fields default: id
    done = crawl("jira", list_url(api, "jira", "fields=summary,status,issuetype&maxResults=60"))
    assert [len(p.json()["issues"]) for p in done.pages] == [60, 60, 17]
    last = done.pages[-1].json()
    assert "nextPageToken" not in last  # absent, not null, on the last page
    assert last["isLast"] is True
    issue = done.items[0]
    assert issue["key"] == "HD-137"
    assert set(issue["fields"]) == {"summary", "status", "issuetype"}
    assert issue["fields"]["status"]["statusCategory"]["key"] in ("new", "indeterminate", "done")
    assert issue["fields"]["issuetype"]["name"] in ("Bug", "Task", "Story")
    keys = {i["fields"]["status"]["statusCategory"]["key"] for i in done.items}
    assert keys == {"new", "indeterminate", "done"}
    everything = ok(fetch(list_url(api, "jira", "fields=*all&maxResults=1000")))["issues"]
    assert len(everything) == 100  # at most 100 with fields
    assert {"created", "updated", "priority", "project"} <= set(everything[0]["fields"])
    minus = ok(fetch(list_url(api, "jira", "fields=-summary&maxResults=1")))["issues"][0]
    assert "summary" not in minus["fields"] and "status" in minus["fields"]
    ids = ok(fetch(list_url(api, "jira", "maxResults=10000")))
    assert len(ids["issues"]) == 137 and ids["isLast"] is True and "nextPageToken" not in ids


@pytest.mark.parametrize("jql", ["", "order by key desc", " ORDER BY created"])
def test_jira_refuses_unbounded_jql(styled: dict[str, MockApi], jql: str) -> None:
    reply = fetch(f"{styled['jira'].url}/rest/api/3/search/jql?jql={quote(jql)}")
    assert reply.status == 400
    assert "Unbounded JQL" in reply.json()["errorMessages"][0]
    assert fetch(f"{styled['jira'].url}/rest/api/3/search/jql").status == 400
    bad = fetch(list_url(styled["jira"], "jira", "nextPageToken=abc"))
    assert bad.status == 400


def test_freshdesk_shape_window_and_limits(styled: dict[str, MockApi]) -> None:
    api = styled["freshdesk"]
    everything = all_items(api, "freshdesk", "updated_since=2000-01-01T00:00:00Z")
    assert len(everything) == 137
    assert {t["status"] for t in everything} == {2, 3, 4, 5}
    assert None in {t["type"] for t in everything}
    recent = all_items(api, "freshdesk")  # by default: created in the last 30 days
    assert 0 < len(recent) < len(everything)
    newest = max(
        time.mktime(time.strptime(t["created_at"], "%Y-%m-%dT%H:%M:%SZ")) for t in everything
    )
    oldest = min(time.mktime(time.strptime(t["created_at"], "%Y-%m-%dT%H:%M:%SZ")) for t in recent)
    assert newest - oldest <= 30 * 86400
    first = fetch(list_url(api, "freshdesk", "updated_since=2000-01-01"))
    assert len(ok(first)) == 30
    assert links(first)["next"] == (
        f"{api.url}/api/v2/tickets?updated_since=2000-01-01&page=2&per_page=30"
    )
    for query in ("per_page=101", "per_page=0", "page=301", "page=x", "updated_since=yesterday"):
        reply = fetch(list_url(api, "freshdesk", query))
        assert reply.status == 400, query
        assert reply.json()["description"] == "Validation failed"
    assert fetch(list_url(api, "freshdesk", "page=300")).status == 200
    assert fetch(list_url(api, "freshdesk")).headers["X-Ratelimit-Total"]


def test_json_server_whole_list_and_empty_link(styled: dict[str, MockApi]) -> None:
    api = styled["json-server"]
    whole = fetch(list_url(api, "json-server"))
    assert [t["id"] for t in ok(whole)] == list(range(1, 138))
    assert "X-Total-Count" not in whole.headers and "Link" not in whole.headers
    assert whole.body.startswith(b"[\n  {\n")  # pretty-printed, as json-server does
    check_tickets(ok(whole), count=137)
    single = fetch(list_url(api, "json-server", "_page=1&_limit=200"))
    assert single.headers["Link"] == ""  # present and empty on a single page
    assert single.headers["X-Total-Count"] == "137"
    page = fetch(list_url(api, "json-server", "_page=2&_limit=50"))
    assert [rel for _, rel in LINK.findall(page.headers["Link"])] == [
        "first",
        "prev",
        "next",
        "last",
    ]
    assert links(page)["next"] == f"{api.url}/tickets?_page=3&_limit=50"
    assert page.headers["Access-Control-Expose-Headers"] == "X-Total-Count, Link"
    assert len(ok(fetch(list_url(api, "json-server", "_page=2")))) == 10  # _limit default 10
    billing = ok(fetch(list_url(api, "json-server", "category=billing")))
    assert billing and {t["category"] for t in billing} == {"billing"}
    assert fetch(api.url + "/nope").json() == {}


# -- vendor styles: every page of a crawl equals the ground truth ---------------

CRAWLS = [
    ("redmine", "status_id=*", "limit=7"),
    ("redmine", "sort=updated_on:desc", "limit=100"),
    ("github", "state=all", "per_page=11"),
    ("github", "sort=updated&direction=asc", "per_page=100"),
    ("gitlab", "", "per_page=9"),
    ("gitlab", "state=closed&order_by=updated_at&sort=asc", "per_page=100"),
    ("zendesk", "", "per_page=13"),
    ("zendesk", "sort_by=updated_at", "page[size]=12"),
    ("jira", "fields=status,issuetype", "maxResults=16"),
    ("jira", "", ""),
    ("freshdesk", "updated_since=2000-01-01", "per_page=17"),
    ("freshdesk", "order_by=updated_at&order_type=asc", "per_page=5"),
    ("json-server", "", "_page=1&_limit=8"),
    ("json-server", "status=open&_sort=category", "_page=1&_limit=100"),
]


@pytest.mark.parametrize(("style", "query", "paging"), CRAWLS)
def test_crawl_equals_all(styled: dict[str, MockApi], style: str, query: str, paging: str) -> None:
    api = styled[style]
    done = crawl(style, list_url(api, style, "&".join(filter(None, [query, paging]))))
    expected = all_items(api, style, query)
    assert done.items == expected
    assert not (done.looped or done.capped)
    assert len(done.pages) > 1 or len(expected) <= 100
    assert len({json.dumps(item, sort_keys=True) for item in done.items}) == len(done.items)


@pytest.mark.parametrize("style", STYLES)
def test_count_and_seed(styled: dict[str, MockApi], style: str) -> None:
    api = styled[style]
    query = "status_id=*&updated_since=2000-01-01&state=all&fields=*all"
    assert len(all_items(api, style, query + "&mock_count=10000")) == 10000
    assert all_items(api, style, query + "&mock_count=0") == []
    one = all_items(api, style, query + "&mock_count=20&mock_seed=a")
    assert one == all_items(api, style, query + "&mock_count=20&mock_seed=a")
    assert one != all_items(api, style, query + "&mock_count=20&mock_seed=b")


@pytest.mark.parametrize(
    "query",
    [
        "mock_count=1000001",
        "mock_ratelimit=x",
        "mock_fail=abc",
        "mock_foreign=ftp:/x",
        "mock_ratelimit_form=soon",
        "mock_endless=2",
    ],
)
def test_bad_knob_answers_400(styled: dict[str, MockApi], query: str) -> None:
    reply = fetch(list_url(styled["github"], "github", query))
    assert reply.status == 400
    assert reply.json()["status"] == 400


# -- vendor styles: auth ----------------------------------------------------------

ACCEPTED = [
    ("redmine", {"X-Redmine-API-Key": SECRET}, ""),
    ("redmine", {}, f"key={SECRET}"),
    ("redmine", basic(SECRET, "anything"), ""),
    ("github", {"Authorization": f"Bearer {SECRET}"}, ""),
    ("github", {"Authorization": f"token {SECRET}"}, ""),
    ("gitlab", {"PRIVATE-TOKEN": SECRET}, ""),
    ("gitlab", {"Authorization": f"Bearer {SECRET}"}, ""),
    ("gitlab", {}, f"private_token={SECRET}"),
    ("zendesk", basic("agent@example.com/token", SECRET), ""),
    ("zendesk", {"Authorization": f"Bearer {SECRET}"}, ""),
    ("jira", basic("agent@example.com", SECRET), ""),
    ("freshdesk", basic(SECRET, "X"), ""),
    ("json-server", {}, ""),  # json-server has no auth
]
REFUSED = [
    ("redmine", {}, ""),
    ("redmine", {"X-Redmine-API-Key": "wrong"}, ""),
    ("redmine", {"Authorization": f"Bearer {SECRET}"}, ""),
    ("github", {}, ""),
    ("github", {"Authorization": "Bearer wrong"}, ""),
    ("github", basic(SECRET, "x"), ""),
    ("gitlab", {}, ""),
    ("gitlab", {"PRIVATE-TOKEN": "wrong"}, ""),
    ("gitlab", {"Authorization": f"token {SECRET}"}, ""),
    ("zendesk", {}, ""),
    ("zendesk", basic("agent@example.com", SECRET), ""),  # without /token
    ("zendesk", basic("agent@example.com/token", "wrong"), ""),
    ("jira", {}, ""),
    ("jira", basic("agent@example.com", "wrong"), ""),
    ("jira", {"Authorization": f"Bearer {SECRET}"}, ""),
    ("freshdesk", {}, ""),
    ("freshdesk", basic("X", SECRET), ""),
    ("freshdesk", {"Authorization": f"Bearer {SECRET}"}, ""),
]


@pytest.mark.parametrize(("style", "headers", "query"), ACCEPTED)
def test_auth_accepted(
    styled: dict[str, MockApi], style: str, headers: dict[str, str], query: str
) -> None:
    api = styled[style + "+token"]
    assert fetch(list_url(api, style, query), headers=headers).status == 200


@pytest.mark.parametrize(("style", "headers", "query"), REFUSED)
def test_auth_refused(
    styled: dict[str, MockApi], style: str, headers: dict[str, str], query: str
) -> None:
    api = styled[style + "+token"]
    reply = fetch(list_url(api, style, query), headers=headers)
    assert reply.status == 401
    if style == "redmine":
        assert reply.body == b""
        realm = reply.headers.get("WWW-Authenticate")
        assert realm == (
            'Basic realm="Redmine API"' if "X-Redmine-API-Key" not in headers else None
        )
    else:
        assert reply.json()
    assert fetch(api.url + "/_all?" + urlsplit(PATHS[style]).query).status == 200  # oracle: open


def test_default_style_token_is_bearer(mock_api: MockApiFactory) -> None:
    api = mock_api("--token", SECRET, "--seed", "3")
    assert fetch(api.tickets_url).status == 401
    assert fetch(api.tickets_url, headers={"Authorization": "Bearer wrong"}).status == 401
    reply = fetch(api.tickets_url, headers={"Authorization": f"Bearer {SECRET}"})
    assert reply.json()["tickets"] == fetch(api.url + "/_all").json()
    assert (
        fetch(api.url + "/_all?count=4&seed=9").json()
        == fetch(
            api.tickets_url + "?count=4&seed=9", headers={"Authorization": f"Bearer {SECRET}"}
        ).json()["tickets"]
    )


def test_tokens_never_logged(styled: dict[str, MockApi]) -> None:
    for style, query in (("redmine", f"key={SECRET}"), ("gitlab", f"private_token={SECRET}")):
        api = styled[style + "+token"]
        headers = {"Authorization": f"Bearer {SECRET}", "PRIVATE-TOKEN": SECRET}
        assert fetch(list_url(api, style, query + "&log=probe"), headers=headers).status == 200
    time.sleep(0.1)
    for name, api in styled.items():
        assert SECRET not in api.stderr, name
    assert "key=***&log=probe 200" in styled["redmine+token"].stderr
    assert "private_token=***&log=probe 200" in styled["gitlab+token"].stderr


# -- vendor styles: rate limits ---------------------------------------------------


def test_rate_limit_retry_after_seconds(styled: dict[str, MockApi]) -> None:
    for style in ("redmine", "zendesk", "jira", "freshdesk", "json-server"):
        url = list_url(
            styled[style], style, f"mock_ratelimit=2&mock_retry_after=3&mock_key=rs-{style}"
        )
        replies = [fetch(url) for _ in range(3)]
        assert [r.status for r in replies] == [429, 429, 200], style
        assert replies[0].headers["Retry-After"] == "3"
        assert "Retry-After" not in replies[2].headers


def test_rate_limit_retry_after_http_date(styled: dict[str, MockApi]) -> None:
    url = list_url(
        styled["zendesk"],
        "zendesk",
        "mock_ratelimit=1&mock_retry_after=5&mock_ratelimit_form=date&mock_key=rd",
    )
    reply = fetch(url)
    assert reply.status == 429
    moment = email.utils.parsedate_to_datetime(reply.headers["Retry-After"]).timestamp()
    assert 3 <= moment - time.time() <= 6.5
    assert fetch(url).status == 200


def test_rate_limit_from_and_status(styled: dict[str, MockApi]) -> None:
    query = "mock_ratelimit=1&mock_ratelimit_from=3&mock_ratelimit_status=503&mock_key=rf"
    url = list_url(styled["freshdesk"], "freshdesk", query)
    assert [fetch(url).status for _ in range(4)] == [200, 200, 503, 200]


@pytest.mark.parametrize("status", [403, 429])
def test_github_exhausted_rate_limit(styled: dict[str, MockApi], status: int) -> None:
    query = (
        f"mock_ratelimit=1&mock_retry_after=30&mock_ratelimit_status={status}&mock_key=gx{status}"
    )
    url = list_url(styled["github"], "github", query)
    reply = fetch(url)
    assert reply.status == status
    assert reply.headers["x-ratelimit-remaining"] == "0"
    assert 28 <= int(reply.headers["x-ratelimit-reset"]) - time.time() <= 31.5
    assert "Retry-After" not in reply.headers
    assert "rate limit exceeded" in reply.json()["message"]
    after = fetch(url)
    assert after.status == 200
    assert int(after.headers["x-ratelimit-remaining"]) > 0


def test_github_secondary_rate_limit(styled: dict[str, MockApi]) -> None:
    query = "mock_ratelimit=1&mock_retry_after=4&mock_ratelimit_form=secondary&mock_key=gs"
    reply = fetch(list_url(styled["github"], "github", query))
    assert (reply.status, reply.headers["Retry-After"]) == (403, "4")
    assert "secondary rate limit" in reply.json()["message"]


def test_gitlab_rate_limit_headers(styled: dict[str, MockApi]) -> None:
    query = "mock_ratelimit=1&mock_retry_after=2&mock_key=gl"
    reply = fetch(list_url(styled["gitlab"], "gitlab", query))
    assert (reply.status, reply.body) == (429, b"Retry later\n")
    assert reply.headers["Retry-After"] == "2"
    assert reply.headers["RateLimit-Remaining"] == "0"
    reset = int(reply.headers["RateLimit-Reset"])
    assert (
        email.utils.parsedate_to_datetime(reply.headers["RateLimit-ResetTime"]).timestamp() == reset
    )


def test_default_style_rate_limit(mock_api: MockApiFactory) -> None:
    api = mock_api()
    url = api.tickets_url + "?mock_ratelimit=1&mock_retry_after=2&mock_ratelimit_form=date"
    reply = fetch(url)
    assert reply.status == 429
    assert email.utils.parsedate_to_datetime(reply.headers["Retry-After"])
    check_tickets(fetch(url).json()["tickets"])


# -- vendor styles: hostile paging ------------------------------------------------

PAGED = {  # a query that gives 137 tickets in pages of 10 (9 for Redmine's open issues)
    "redmine": "status_id=*&limit=10",
    "github": "state=all&per_page=10",
    "gitlab": "per_page=10",
    "zendesk": "per_page=10",
    "zendesk-cursor": "page[size]=10",
    "jira": "maxResults=10",
    "freshdesk": "updated_since=2000-01-01&per_page=10",
    "json-server": "_page=1&_limit=10",
}
LINKED = [name for name in PAGED if name not in ("redmine", "jira")]


def paged(styled: dict[str, MockApi], name: str, knobs: str) -> tuple[str, str, MockApi]:
    """(style, the first page's URL with the knobs, its mock) for a PAGED entry."""
    style = name.split("-cursor")[0]
    api = styled[style]
    return style, list_url(api, style, f"{PAGED[name]}&{knobs}"), api


@pytest.mark.parametrize("name", LINKED)
def test_next_link_to_another_origin(styled: dict[str, MockApi], name: str) -> None:
    foreign = "http://127.0.0.1:9"
    style, url, api = paged(styled, name, f"mock_foreign={foreign}")
    first = fetch(url)
    link = next_page(style, url, first, 10)
    assert link is not None and link.startswith(foreign + "/")
    # The same path and query: the mock itself serves it as page 2, whose next link is home.
    second_url = api.url + link[len(foreign) :]
    second = fetch(second_url)
    assert page_items(style, ok(second)) == all_items(api, style, PAGED[name])[10:20]
    assert next_page(style, second_url, second, 20).startswith(api.url + "/")


@pytest.mark.parametrize("name", [n for n in PAGED if n != "redmine"])
def test_next_link_loops_back(styled: dict[str, MockApi], name: str) -> None:
    style, url, _ = paged(styled, name, "mock_loop=3")
    done = crawl(style, url)
    assert done.looped and len(done.pages) == 3
    # Page 3's next is exactly the URL the crawl followed to page 2.
    assert next_page(style, done.urls[2], done.pages[2], 30) == done.urls[1]


@pytest.mark.parametrize("name", PAGED)
def test_items_shift_between_pages(styled: dict[str, MockApi], name: str) -> None:
    style, url, api = paged(styled, name, f"mock_shift=1&mock_key=shift-{name}")
    done = crawl(style, url)
    expected = all_items(api, style, PAGED[name])
    seen = [json.dumps(item, sort_keys=True) for item in done.items]
    twice = [item for item, times in Counter(seen).items() if times > 1]
    # One new ticket in front after page 1: page 2 starts one item earlier.
    first, second = (page_items(style, page.json()) for page in done.pages[:2])
    assert twice == [json.dumps(first[-1], sort_keys=True)]
    assert second[0] == first[-1]
    assert set(seen) == {json.dumps(item, sort_keys=True) for item in expected}


@pytest.mark.parametrize(
    ("style", "total"),
    [
        ("redmine", lambda r: r.json()["total_count"]),
        ("gitlab", lambda r: int(r.headers["X-Total"])),
        ("zendesk", lambda r: r.json()["count"]),
        ("json-server", lambda r: int(r.headers["X-Total-Count"])),
    ],
)
def test_total_changes_during_crawl(
    styled: dict[str, MockApi], style: str, total: Callable[[Reply], int]
) -> None:
    name = style
    _, url, api = paged(styled, name, f"mock_total_drift=1&mock_key=drift-{style}")
    done = crawl(style, url)
    totals = [total(page) for page in done.pages]
    assert totals[0] == 137 and set(totals[1:]) == {144}
    assert done.items == all_items(api, style, PAGED[name])


@pytest.mark.parametrize("kind", ["500", "503", "invalid", "truncated"])
@pytest.mark.parametrize("name", PAGED)
def test_page_fails_after_earlier_pages(styled: dict[str, MockApi], name: str, kind: str) -> None:
    style, url, _ = paged(styled, name, f"mock_fail_page=2&mock_fail={kind}")
    first = fetch(url)
    second_url = next_page(style, url if style != "redmine" else url + "&offset=0", first, 10)
    assert second_url is not None
    if kind == "truncated":
        with (
            urllib.request.urlopen(second_url, timeout=5) as response,
            pytest.raises(http.client.IncompleteRead),
        ):
            response.read()
        return
    second = fetch(second_url)
    if kind == "invalid":
        assert second.status == 200
        with pytest.raises(ValueError):
            second.json()
    else:
        assert second.status == int(kind)
    assert fetch(second_url).status == second.status  # every time, not once


@pytest.mark.parametrize("name", PAGED)
def test_endless_crawl(styled: dict[str, MockApi], name: str) -> None:
    style, url, _ = paged(styled, name, "mock_endless=1&mock_count=15")
    done = crawl(style, url, limit=8)
    assert done.capped and not done.looped
    assert all(len(page_items(style, page.json())) == 10 for page in done.pages)
    ids = [json.dumps(item, sort_keys=True) for item in done.items]
    assert len(set(ids)) == len(ids) == 80
    if style == "gitlab":
        assert "X-Total" not in done.pages[-1].headers
    if style == "redmine":
        assert done.pages[-1].json()["total_count"] == 10**9


KNOBS = (
    "count",
    "seed",
    "delay",
    "key",
    "ratelimit",
    "ratelimit_from",
    "retry_after",
    "ratelimit_form",
    "ratelimit_status",
    "fail_page",
    "fail",
    "loop",
    "foreign",
    "foreign_page",
    "shift",
    "total_drift",
    "endless",
)


@pytest.mark.parametrize("style", ["github", "redmine"])
def test_keep_alive_without_nagle_stalls(styled: dict[str, MockApi], style: str) -> None:
    api = styled[style]
    connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=5)
    path = PATHS[style] + "?per_page=5&limit=5&mock_count=40"
    sockets = set()
    start = time.monotonic()
    for _ in range(50):
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.version == 11
        response.read()
        sockets.add(id(connection.sock))
    elapsed = time.monotonic() - start
    connection.close()
    assert len(sockets) == 1  # one connection served all 50
    # Nagle + delayed ACK would cost ~40 ms per answer on a reused connection (2 s here).
    assert elapsed < 1.5


def test_all_takes_the_crawled_path(styled: dict[str, MockApi]) -> None:
    api = styled["github"]
    path = "/repos/other/repo/issues"
    done = crawl("github", f"{api.url}{path}?state=all&per_page=50")
    assert done.items == ok(fetch(f"{api.url}/_all?state=all&path={quote(path)}"))
    assert done.items[0]["url"].startswith(f"{api.url}/repos/other/repo/issues/")
    gitlab = styled["gitlab"]
    items = ok(fetch(f"{gitlab.url}/_all?path=/api/v4/projects/7/issues"))
    assert {issue["project_id"] for issue in items} == {7}
    assert fetch(f"{api.url}/_all?path=/nope").status == 400
