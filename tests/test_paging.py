"""Pagination, auth, rate limits, proxies and TLS of files/tickets.py over real
HTTP: a small keep-alive server in the test answers each page as the test
says, the real CLI crawls it as a subprocess. Plus the Link header parser on
hostile headers."""

from __future__ import annotations

import base64
import email.utils
import gzip
import json
import os
import pty
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from support import (
    Result,
    assert_error,
    assert_ok,
    finish,
    only_report,
    reports,
    run_cli,
    snapshot,
    start_cli,
)
from ticketslib import paging

TOKEN = "tok-5ecret-77"

# -- a page server -----------------------------------------------------------------


@dataclass
class Request:
    path: str  # with the query
    query: dict[str, str]
    headers: dict[str, str]
    port: int  # the client's: one value for one connection


@dataclass
class Reply:
    body: Any = None  # JSON-encoded unless bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class PageServer:
    """HTTP/1.1 keep-alive on loopback (TCP_NODELAY); ``answer(request)`` gives
    each reply; every request is recorded."""

    def __init__(self, answer: Callable[[Request], Reply] | None = None) -> None:
        self.answer = answer or (lambda request: Reply([]))
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                request = Request(
                    self.path, query, dict(self.headers.items()), self.client_address[1]
                )
                server.requests.append(request)
                reply = server.answer(request)
                body = (
                    reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                )
                headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
                headers.update(reply.headers)
                if headers.get("Content-Encoding") == "gzip":
                    body = gzip.compress(body)
                    headers["Content-Length"] = str(len(body))
                chunked = headers.get("Transfer-Encoding") == "chunked"
                if chunked:
                    del headers["Content-Length"]
                elif int(headers["Content-Length"]) > len(body):
                    self.close_connection = True  # a body cut short
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if not chunked:
                    self.wfile.write(body)
                    return
                for start in range(0, len(body), 4096):  # as Express sends a gzipped body
                    piece = body[start : start + 4096]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[PageServer]:
    pages = PageServer()
    yield pages
    pages.close()


@pytest.fixture
def other_server() -> Iterator[PageServer]:
    pages = PageServer()
    yield pages
    pages.close()


def tickets(first: int, count: int, status: Callable[[int], str] | None = None) -> list[dict]:
    return [
        {"id": i, "category": f"c{i % 3}", "status": (status or _odd_open)(i), "n": i * 0.5}
        for i in range(first, first + count)
    ]


def _odd_open(i: int) -> str:
    return "open" if i % 2 else "closed"


def expected_bytes(items: list[dict], unresolved: Callable[[dict], bool] | None = None) -> bytes:
    """The report for ITEMS, by the json module."""
    keep = unresolved or (lambda t: t["status"] == "open")
    opened = [t for t in items if keep(t)]
    by_category: dict[str, int] = {}
    for t in items:
        by_category[t["category"]] = by_category.get(t["category"], 0) + 1
    report = {"open": {"tickets": opened, "count": len(opened)}, "by_category": by_category}
    return json.dumps(report, indent=4, ensure_ascii=False).encode()


def crawl_cli(log: Path, *args: str | Path, env: dict[str, str] | None = None) -> Result:
    return run_cli("--log", log, "--retries", "0", *args, env=env)


ALL = tickets(1, 250)


# -- the Link header parser ----------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ('<https://a.example/x?page=2>; rel="next"', "https://a.example/x?page=2"),
        ("<https://a.example/x?page=2>; rel=next", "https://a.example/x?page=2"),
        ('<https://a.example/x?page=2>; REL="Next"', "https://a.example/x?page=2"),
        ('<https://a.example/x?p=2>; rel="prev next last"', "https://a.example/x?p=2"),
        # Commas and semicolons inside the URL belong to it.
        ('<https://a/x?q=a,b;c=d&p=2>; rel="next"', "https://a/x?q=a,b;c=d&p=2"),
        ('<https://a/p1>; rel="prev", <https://a/p,3>; rel="next"', "https://a/p,3"),
        # A quoted parameter may hold commas, semicolons, quotes and rel=next itself.
        (
            '<https://a/p1>; title="x, rel=\\"next\\"; y", <https://a/p2>; rel="next"',
            "https://a/p2",
        ),
        ('<https://a/p1>; title="a, <https://a/evil>; rel=next", rel="prev"', None),
        # Only the first rel counts (RFC 8288 3.3); the first next link wins.
        ('<https://a/p1>; rel="prev"; rel="next"', None),
        ('<https://a/p2>; rel="next", <https://a/p3>; rel="next"', "https://a/p2"),
        # Garbage around, missing brackets, a bare rel: skipped, not misread.
        ('garbage, <https://a/p2>; rel="next"', "https://a/p2"),
        ('https://a/p2; rel="next"', None),
        ('<https://a/p2; rel="next"', None),
        ('<https://a/p1> junk; rel="next", <https://a/p2>; rel="next"', "https://a/p2"),
        ('<https://a/p2>; rel="nextpage"', None),
        ("", None),
        ("   ,  , ", None),
        ('<>; rel="next"', ""),
        ('<https://a/p2>;rel="next";type="application/json"', "https://a/p2"),
        ('<https://a/p2>; rel="next', "https://a/p2"),  # an unterminated quote: to the end
    ],
)
def test_link_header_parser(header: str, target: str | None) -> None:
    assert paging.next_link({"Link": header}) == target


def test_link_header_parser_params() -> None:
    links = paging.parse_links('<u1>; rel="next"; Title="A \\"q\\" b", <u2>; anchor=x; rel=last')
    assert links == [
        ("u1", {"rel": "next", "title": 'A "q" b'}),
        ("u2", {"anchor": "x", "rel": "last"}),
    ]


# -- styles ---------------------------------------------------------------------------


def link_pages(server: PageServer, items: list[dict], size: int, path: str = "/t") -> None:
    """Pages of SIZE with a Link header, ?page=N (relative next links, as some servers send)."""

    def answer(request: Request) -> Reply:
        page = int(request.query.get("page", "1"))
        chunk = items[(page - 1) * size : page * size]
        more = page * size < len(items)
        links = f'<{path}?page={page + 1}>; rel="next", <{path}?page=1>; rel="first"'
        return Reply(chunk, headers={"Link": links} if more else {})

    server.answer = answer


def test_link_header_is_followed_without_a_flag_on_one_connection(
    tmp_path: Path, server: PageServer
) -> None:
    link_pages(server, ALL, 100)
    result = crawl_cli(tmp_path, "--api", server.url + "/t")
    assert_ok(result)
    assert only_report(tmp_path).read_bytes() == expected_bytes(ALL)
    assert [r.query.get("page") for r in server.requests] == [None, "2", "3"]
    assert len({r.port for r in server.requests}) == 1  # one keep-alive connection


@pytest.mark.parametrize("chunked", [False, True])
def test_a_compressed_body_is_decoded(tmp_path: Path, server: PageServer, chunked: bool) -> None:
    # json-server (Express's compression) gzips a page and sends it chunked.
    headers = {"Content-Encoding": "gzip"}
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    server.answer = lambda request: Reply(ALL, headers=headers)
    assert_ok(crawl_cli(tmp_path, "--api", server.url + "/t"))
    assert only_report(tmp_path).read_bytes() == expected_bytes(ALL)
    assert "gzip" in server.requests[0].headers["Accept-Encoding"]


def test_next_url_in_the_body_with_has_more(tmp_path: Path, server: PageServer) -> None:
    # Zendesk's cursor shape: the last page still has a next link, but has_more false.
    def answer(request: Request) -> Reply:
        after = int(request.query.get("after", "0"))
        chunk = ALL[after : after + 100]
        body = {
            "tickets": chunk,
            "meta": {"has_more": after + 100 < len(ALL)},
            "links": {"next": f"{server.url}/t?after={after + 100}", "prev": None},
        }
        return Reply(body)

    server.answer = answer
    args = ["--next-path", "links.next", "--has-more-path", "meta.has_more"]
    assert_ok(crawl_cli(tmp_path, "--api", server.url + "/t", *args))
    assert only_report(tmp_path).read_bytes() == expected_bytes(ALL)
    assert len(server.requests) == 3


def test_next_url_null_after_the_list_of_a_large_page(tmp_path: Path, server: PageServer) -> None:
    # The envelope after a list too large to hold (several parts of 1 MiB): it
    # is read from what follows the last part.
    big = [{**t, "pad": "x" * 300} for t in tickets(1, 8000)]
    rest = tickets(8001, 10)

    def answer(request: Request) -> Reply:
        if request.query.get("page") == "2":
            return Reply({"data": {"items": rest, "next_page": None}})
        return Reply({"data": {"items": big, "next_page": "/t?page=2", "count": 8010}})

    server.answer = answer
    args = ["--items", "data.items", "--next-path", "data.next_page", "--paginate", "next-url"]
    assert_ok(crawl_cli(tmp_path, "--api", server.url + "/t", *args))
    assert only_report(tmp_path).read_bytes() == expected_bytes(big + rest)


def redmine_like(server: PageServer, items: list[dict], cap: int, total: bool = True) -> None:
    """offset/limit with the limit capped at CAP (short pages), total_count."""

    def answer(request: Request) -> Reply:
        offset, limit = int(request.query["offset"]), min(int(request.query.get("limit", 25)), cap)
        body: dict[str, Any] = {"issues": items[offset : offset + limit]}
        if total:
            body.update(total_count=len(items), offset=offset, limit=limit)
        return Reply(body)

    server.answer = answer


@pytest.mark.parametrize("total", [True, False])
def test_offset_advances_by_items_returned_never_stops_on_a_short_page(
    tmp_path: Path, server: PageServer, total: bool
) -> None:
    redmine_like(server, ALL, cap=40, total=total)
    args = ["--paginate", "offset", "--items", "issues", "--page-size", "100"]
    args += ["--total-path", "total_count"] if total else []
    assert_ok(crawl_cli(tmp_path, "--api", server.url + "/t?sort=id", *args))
    assert only_report(tmp_path).read_bytes() == expected_bytes(ALL)
    offsets = [r.query["offset"] for r in server.requests]
    assert offsets == ["0", "40", "80", "120", "160", "200", "240"] + ([] if total else ["250"])
    assert all(r.query["limit"] == "100" and r.query["sort"] == "id" for r in server.requests)


def test_page_numbers_stop_on_an_empty_page_or_the_page_count(
    tmp_path: Path, server: PageServer
) -> None:
    def answer(request: Request) -> Reply:
        page, size = int(request.query["p"]), int(request.query["size"])
        return Reply({"pages": 3, "data": ALL[(page - 1) * size : page * size]})

    server.answer = answer
    base = ["--paginate", "page", "--page-param", "p", "--size-param", "size", "--items", "data"]
    assert_ok(crawl_cli(tmp_path / "a", "--api", server.url + "/t", *base, "--page-size", "100"))
    assert only_report(tmp_path / "a").read_bytes() == expected_bytes(ALL)
    assert [r.query["p"] for r in server.requests] == ["1", "2", "3", "4"]  # 4: empty
    server.requests.clear()
    args = [*base, "--page-size", "50", "--total-path", "pages"]
    assert_ok(crawl_cli(tmp_path / "b", "--api", server.url + "/t", *args))
    assert only_report(tmp_path / "b").read_bytes() == expected_bytes(ALL[:150])
    assert [r.query["p"] for r in server.requests] == ["1", "2", "3"]


def test_cursor_token_absent_on_the_last_page(tmp_path: Path, server: PageServer) -> None:
    # Jira's shape: the token is opaque (base64 with + / =) and absent, not null, at the end.
    tokens = {None: 0, "a+b/c==": 100, "d+e/f==": 200}

    def answer(request: Request) -> Reply:
        start = tokens[request.query.get("nextPageToken")]
        body: dict[str, Any] = {"issues": ALL[start : start + 100], "isLast": start >= 200}
        if start < 200:
            body["nextPageToken"] = ["a+b/c==", "d+e/f=="][start // 100]
        return Reply(body)

    server.answer = answer
    args = ["--items", "issues", "--cursor-path", "nextPageToken", "--page-param", "nextPageToken"]
    assert_ok(crawl_cli(tmp_path, "--api", server.url + "/search?jql=project%3DHD", *args))
    assert only_report(tmp_path).read_bytes() == expected_bytes(ALL)
    assert [r.query.get("nextPageToken") for r in server.requests] == [None, "a+b/c==", "d+e/f=="]
    assert all(r.query["jql"] == "project=HD" for r in server.requests)


def test_a_ticket_on_two_pages_counts_once_and_a_changed_total_is_a_warning(
    tmp_path: Path, server: PageServer
) -> None:
    # A ticket was added in front while the crawl ran: every later page starts
    # one earlier, the server's total grows.
    def answer(request: Request) -> Reply:
        offset = int(request.query["offset"])
        shift = 1 if offset else 0
        items = ALL[offset - shift : offset - shift + 100]
        return Reply({"issues": items, "total_count": len(ALL) + shift})

    server.answer = answer
    args = ["--paginate", "offset", "--items", "issues", "--total-path", "total_count"]
    result = crawl_cli(tmp_path, "--api", server.url + "/t", *args)
    assert result.returncode == 0, result.stderr
    assert only_report(tmp_path).read_bytes() == expected_bytes(ALL)
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("tickets: warning: the server's total changed during the crawl")
    assert "from 250 to 251" in lines[0]
    assert lines[1] == (
        "tickets: warning: 1 ticket came on two pages (the list changed during the crawl): "
        "it was counted once"
    )


# -- guard rails: exit 3, nothing written --------------------------------------------------


def assert_nothing_written(log: Path, before: dict) -> None:
    assert snapshot(log) == before


@pytest.fixture
def log(tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    directory.mkdir()
    (directory / "25-01-01 00-00-00.json").write_text("{}")
    return directory


def test_next_link_to_another_origin_is_refused_and_gets_no_token(
    log: Path, server: PageServer, other_server: PageServer
) -> None:
    def answer(request: Request) -> Reply:
        return Reply(ALL[:100], headers={"Link": f'<{other_server.url}/t?page=2>; rel="next"'})

    server.answer = answer
    before = snapshot(log)
    result = crawl_cli(log, "--api", server.url + "/t", env={"TICKETS_API_TOKEN": TOKEN})
    line = assert_error(result, 3, "page 1's next link points to another origin")
    assert f"({other_server.url}" in line and "the token is never sent there" in line
    assert other_server.requests == []
    assert TOKEN not in result.stderr
    assert server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert_nothing_written(log, before)


def test_a_url_visited_twice_is_refused(log: Path, server: PageServer) -> None:
    def answer(request: Request) -> Reply:
        page = int(request.query.get("page", "1"))
        target = "/t?page=2" if page == 1 else "/t?page=1"  # 3 -> back to ... a loop
        return Reply(ALL[:10], headers={"Link": f'<{target}>; rel="next"'})

    server.answer = answer
    before = snapshot(log)
    result = crawl_cli(log, "--api", server.url + "/t?page=1")
    assert_error(result, 3, "page 2's next link goes back to a page already fetched", "loop")
    assert len(server.requests) == 2
    assert_nothing_written(log, before)


def test_max_pages(log: Path, server: PageServer) -> None:
    link_pages(server, ALL, 100)
    before = snapshot(log)
    result = crawl_cli(log, "--api", server.url + "/t", "--max-pages", "2")
    assert_error(result, 3, "more than 2 pages (--max-pages)")
    assert len(server.requests) == 2
    assert_nothing_written(log, before)
    env = {"TICKETS_MAX_PAGES": "3"}
    assert_ok(crawl_cli(log, "--api", server.url + "/t", env=env))


@pytest.mark.parametrize(
    ("reply", "code", "needle"),
    [
        (
            Reply({"error": "boom"}, status=500),
            3,
            "http://127.0.0.1:{port}/t (page 3) answered HTTP 500",
        ),
        (Reply(b"<html>maintenance</html>"), 4, "not JSON"),
        (Reply({"tickets": 5}), 4, "'tickets' is not a list"),
        (
            Reply([{"id": 7, "category": {"a": 1}, "status": "open"}]),
            4,
            "ticket 7 (index 0 on page 3)",
        ),
    ],
)
def test_a_failing_page_after_good_ones_writes_nothing(
    log: Path, server: PageServer, reply: Reply, code: int, needle: str
) -> None:
    link_pages(server, ALL, 100)
    good = server.answer
    server.answer = lambda request: reply if request.query.get("page") == "3" else good(request)
    before = snapshot(log)
    result = crawl_cli(log, "--api", server.url + "/t")
    assert_error(result, code, needle.format(port=server.url.rsplit(":", 1)[1]))
    assert_nothing_written(log, before)


def test_a_bare_list_cannot_carry_a_next_url(log: Path, server: PageServer) -> None:
    before = snapshot(log)
    result = crawl_cli(log, "--api", server.url + "/t", "--next-path", "next")
    assert_error(result, 4, "page 1 is a bare list")
    assert_nothing_written(log, before)


# -- rate limits ----------------------------------------------------------------------------


def limited_once(server: PageServer, reply: Reply) -> None:
    """The second page answers REPLY once, then the page."""
    link_pages(server, ALL, 100)
    good, done = server.answer, []

    def answer(request: Request) -> Reply:
        if request.query.get("page") == "2" and not done:
            done.append(1)
            return reply
        return good(request)

    server.answer = answer


def check_metric(prom: Path, name: str) -> float:
    for line in prom.read_text().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in {prom.read_text()}")


@pytest.mark.parametrize(
    "reply",
    [
        Reply({"message": "slow down"}, 429, {"Retry-After": "1"}),
        Reply({"message": "busy"}, 503, {"Retry-After": "WHEN"}),  # an HTTP date
        Reply({"message": "API rate limit exceeded"}, 403, {"x-ratelimit-remaining": "0"}),
    ],
    ids=["429-seconds", "503-date", "github-403"],
)
def test_rate_limit_waits_then_goes_on(tmp_path: Path, server: PageServer, reply: Reply) -> None:
    headers = dict(reply.headers)
    # (The date and the reset are whole seconds: now, so these two wait at most a second.)
    if headers.get("Retry-After") == "WHEN":
        headers["Retry-After"] = email.utils.formatdate(time.time(), usegmt=True)
    if "x-ratelimit-remaining" in headers:
        headers["x-ratelimit-reset"] = str(int(time.time()))
    limited_once(server, Reply(reply.body, reply.status, headers))
    prom = tmp_path / "tickets.prom"
    started = time.monotonic()
    result = run_cli("--api", server.url + "/t", "--log", tmp_path / "logs", "--metrics", prom)
    assert_ok(result)
    waited = check_metric(prom, "tickets_run_rate_limit_wait_seconds")
    assert time.monotonic() - started >= waited
    assert waited == 1 if reply.status == 429 else 0 <= waited <= 1
    assert only_report(tmp_path / "logs").read_bytes() == expected_bytes(ALL)
    assert [r.query.get("page") for r in server.requests] == [None, "2", "2", "3"]
    assert check_metric(prom, "tickets_run_pages") == 3
    assert check_metric(prom, "tickets_run_http_requests") == 4


@pytest.mark.parametrize(
    ("headers", "needle"),
    [
        ({"Retry-After": "3600"}, "rate limited (Retry-After: 3600): the wait of 3600 s"),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "RESET"}, "x-ratelimit-remaining: 0"),
    ],
)
def test_a_longer_wait_fails_at_once_naming_it(
    log: Path, server: PageServer, headers: dict[str, str], needle: str
) -> None:
    headers = {k: str(int(time.time()) + 1800) if v == "RESET" else v for k, v in headers.items()}
    limited_once(server, Reply({"message": "later"}, 429, headers))
    before = snapshot(log)
    started = time.monotonic()
    result = run_cli("--api", server.url + "/t", "--log", log, "--max-wait", "60")
    assert time.monotonic() - started < 5
    line = assert_error(result, 3, needle, "longer than --max-wait 60 s")
    assert "(page 2)" in line
    assert_nothing_written(log, before)


def test_a_plain_403_is_an_answer_not_retried(log: Path, server: PageServer) -> None:
    server.answer = lambda request: Reply({"message": "Forbidden"}, 403)
    result = run_cli("--api", server.url + "/t", "--log", log, "--retries", "3")
    assert_error(result, 3, "answered HTTP 403 Forbidden")
    assert len(server.requests) == 1


def test_progress_on_a_terminal_only(tmp_path: Path, server: PageServer) -> None:
    limited_once(server, Reply({}, 429, {"Retry-After": "1"}))
    master, slave = pty.openpty()
    try:
        process = start_cli("--api", server.url + "/t", "--log", tmp_path / "a", stderr=slave)
    finally:
        os.close(slave)
    seen = bytearray()
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        seen += data
    os.close(master)
    result = finish(process)
    assert result.returncode == 0, result.stdout
    text = seen.decode()
    assert "tickets: page 1, 100 tickets so far; rate limited: waiting 1 s" in text
    assert text.endswith("\r\x1b[K")  # the line is cleared before the report is printed
    assert "\x1b" not in result.stdout
    # A pipe (the journal, cron's mail): nothing of it.
    server.requests.clear()
    limited_once(server, Reply({}, 429, {"Retry-After": "1"}))
    result = run_cli("--api", server.url + "/t", "--log", tmp_path / "b")
    assert_ok(result)


# -- auth, redirects, proxies, TLS ------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "token", "header", "value"),
    [
        ([], TOKEN, "Authorization", f"Bearer {TOKEN}"),
        (["--auth", "bearer"], TOKEN, "Authorization", f"Bearer {TOKEN}"),
        (
            ["--auth", "basic"],
            "me@example.com/token:" + TOKEN,
            "Authorization",
            "Basic " + base64.b64encode(f"me@example.com/token:{TOKEN}".encode()).decode(),
        ),
        (["--auth", "header:X-Redmine-API-Key"], TOKEN, "X-Redmine-API-Key", TOKEN),
    ],
)
def test_auth_schemes(
    tmp_path: Path, server: PageServer, auth: list[str], token: str, header: str, value: str
) -> None:
    link_pages(server, ALL, 100)
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    result = crawl_cli(
        tmp_path / "logs", "--api", server.url + "/t", "--token-file", token_file, *auth
    )
    assert_ok(result)
    assert [r.headers.get(header) for r in server.requests] == [value] * 3
    if header != "Authorization":
        assert all("Authorization" not in r.headers for r in server.requests)
    assert token not in result.stdout + result.stderr


def test_basic_needs_user_and_secret(tmp_path: Path, server: PageServer) -> None:
    result = crawl_cli(
        tmp_path, "--api", server.url + "/t", "--auth", "basic", env={"TICKETS_API_TOKEN": TOKEN}
    )
    line = assert_error(result, 2, "TICKETS_API_TOKEN is not user:secret")
    assert TOKEN not in line
    assert server.requests == []


def test_a_redirect_to_another_origin_carries_no_credentials(
    tmp_path: Path, server: PageServer, other_server: PageServer
) -> None:
    other_server.answer = lambda request: Reply(ALL[:10])
    server.answer = lambda request: Reply(b"", 302, {"Location": other_server.url + "/moved"})
    for auth in ("bearer", "header:PRIVATE-TOKEN"):
        result = crawl_cli(
            tmp_path / auth,
            "--api",
            server.url + "/t",
            "--auth",
            auth,
            env={"TICKETS_API_TOKEN": TOKEN},
        )
        assert_ok(result)
        assert only_report(tmp_path / auth).read_bytes() == expected_bytes(ALL[:10])
    assert server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert server.requests[1].headers["PRIVATE-TOKEN"] == TOKEN
    assert len(other_server.requests) == 2
    for request in other_server.requests:
        assert TOKEN not in json.dumps(request.headers)


def test_a_redirect_on_the_same_origin_keeps_the_token(tmp_path: Path, server: PageServer) -> None:
    def answer(request: Request) -> Reply:
        if request.path == "/old":
            return Reply(b"", 301, {"Location": "/new?x=1"})
        return Reply(ALL[:5])

    server.answer = answer
    assert_ok(crawl_cli(tmp_path, "--api", server.url + "/old", env={"TICKETS_API_TOKEN": TOKEN}))
    assert [r.headers.get("Authorization") for r in server.requests] == [f"Bearer {TOKEN}"] * 2


def test_proxy_from_the_environment(tmp_path: Path, server: PageServer) -> None:
    # The proxy server answers itself: it sees the absolute URL of the target.
    server.answer = lambda request: Reply(ALL[:5])
    proxy = server.url.replace("http://", "http://pr0xy:pa55@")
    env = {"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}
    result = crawl_cli(tmp_path / "a", "--api", "http://tickets.invalid/list", env=env)
    assert_ok(result)
    [request] = server.requests
    assert request.path == "http://tickets.invalid/list"
    sent = {name.lower(): value for name, value in request.headers.items()}
    assert sent["proxy-authorization"] == "Basic " + base64.b64encode(b"pr0xy:pa55").decode()
    assert "pa55" not in result.stdout + result.stderr
    # NO_PROXY: straight to the host.
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1"
    assert_ok(crawl_cli(tmp_path / "b", "--api", server.url + "/t", env=env))
    assert server.requests[-1].path == "/t"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS page server with a self-signed certificate for 127.0.0.1: (URL, cert)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    pages = PageServer(lambda request: Reply(ALL[:5]))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    pages.server.socket = context.wrap_socket(pages.server.socket, server_side=True)
    yield pages.url.replace("http://", "https://"), cert
    pages.close()


def test_tls_is_verified_against_the_trust_store_or_requests_ca_bundle(
    tmp_path: Path, tls_server: tuple[str, Path]
) -> None:
    url, cert = tls_server
    result = crawl_cli(tmp_path / "a", "--api", url + "/t")
    assert_error(result, 3, f"TLS error with {url}/t", "certificate verify failed")
    result = crawl_cli(tmp_path / "b", "--api", url + "/t", env={"REQUESTS_CA_BUNDLE": str(cert)})
    assert_ok(result)
    assert only_report(tmp_path / "b").read_bytes() == expected_bytes(ALL[:5])


def test_broken_body_is_one_line(log: Path, server: PageServer) -> None:
    def answer(request: Request) -> Reply:
        return Reply(b"[" + b" " * 10, headers={"Content-Length": "100000"})

    server.answer = answer
    before = snapshot(log)
    # (The server sends fewer bytes than its Content-Length, then closes.)
    result = crawl_cli(log, "--api", server.url + "/t", "--timeout", "1")
    assert_error(result, 3, "ended early")
    assert_nothing_written(log, before)
    assert reports(log) == [log / "25-01-01 00-00-00.json"]
