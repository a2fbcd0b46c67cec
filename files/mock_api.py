#!/usr/bin/env python3
"""Stand-in for the helpdesk ticket API, for local runs and tests.

Standard library only; runs with a bare python3 (3.9+).

Usage:
    python3 mock_api.py [--host 127.0.0.1] [--port 3000] [--seed S] [--count N]
                        [--fault-status NNN] [--fault-delay SECONDS]
                        [--fault-body KIND]

    --port 0 picks a free port. On start one line is printed to stdout:
        mock API listening on http://HOST:PORT/tickets
    SIGTERM or SIGINT stops the server (exit code 0, last line "mock API stopped").
    One log line per request goes to stderr.

Endpoints:
    GET /tickets   200 {"tickets": [{"id": 1, "category": "billing",
                                     "status": "open"}, ...]}
                   ids 1..N, N random 10..14 unless count is given;
                   category: customer_service | technical | billing;
                   status: open | closed
    GET /healthz   200 "ok"
    other paths    404 with a JSON error body
    OPTIONS *      204 (CORS preflight); any other method: 405

Query parameters on /tickets (they override the --fault-* / --count / --seed
defaults; applied in this order: delay, fail_first, status, body):
    count=N          number of tickets (0..10000)
    seed=S           seed for this request (same seed => same tickets)
    delay=SECONDS    sleep before answering (float, capped at 60)
    fail_first=N     with key=K: the first N requests with that key answer 503
                     (counted per key; key defaults to "default")
    status=NNN       answer with this HTTP status (200..599) and a JSON error body
    body=KIND        invalid      a body that is not JSON
                     wrong-shape  valid JSON of the wrong shape: {"data": 1}
                     list         a bare JSON list of tickets
                     bad-ticket   the usual object, but the middle ticket
                                  lacks "status"
                     truncated    Content-Length larger than the body sent,
                                  then the connection is closed

Example:
    curl 'http://127.0.0.1:3000/tickets?count=3&seed=42'
"""

from __future__ import annotations

import argparse
import json
import math
import random
import signal
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

CATEGORIES = ("customer_service", "technical", "billing")
STATUSES = ("open", "closed")
BODY_KINDS = ("invalid", "wrong-shape", "list", "bad-ticket", "truncated")
MAX_COUNT = 10_000
MAX_DELAY = 60.0
JSON_TYPE = "application/json; charset=utf-8"

BadValue = argparse.ArgumentTypeError


def parse_int(text: str, low: int, high: int, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise BadValue(f"{name} must be an integer {low}..{high}, got {text!r}")
    return value


def parse_count(text: str) -> int:
    return parse_int(text, 0, MAX_COUNT, "count")


def parse_status(text: str) -> int:
    return parse_int(text, 200, 599, "status")


def parse_fail_first(text: str) -> int:
    return parse_int(text, 0, 1_000_000, "fail_first")


def parse_delay(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value) or value < 0:
        raise BadValue(f"delay must be a number of seconds >= 0, got {text!r}")
    return min(value, MAX_DELAY)


def parse_body(text: str) -> str:
    if text not in BODY_KINDS:
        raise BadValue(f"body must be one of {', '.join(BODY_KINDS)}, got {text!r}")
    return text


@dataclass(frozen=True)
class Options:
    """Per-request behaviour: command-line defaults, overridden by the query."""

    count: int | None = None
    seed: str | None = None
    delay: float = 0.0
    status: int | None = None
    body: str | None = None
    fail_first: int = 0
    key: str = "default"


QUERY_PARSERS: dict[str, Callable[[str], Any]] = {
    "count": parse_count,
    "seed": str,
    "delay": parse_delay,
    "status": parse_status,
    "body": parse_body,
    "fail_first": parse_fail_first,
    "key": str,
}


def make_tickets(rng: random.Random, count: int | None) -> list[dict[str, Any]]:
    n = rng.randint(10, 14) if count is None else count
    return [
        {"id": i, "category": rng.choice(CATEGORIES), "status": rng.choice(STATUSES)}
        for i in range(1, n + 1)
    ]


class MockServer(ThreadingHTTPServer):
    daemon_threads = True  # a pending delayed request must not block shutdown
    request_queue_size = 128  # listen backlog (default 5) for parallel clients

    def __init__(self, address: tuple[str, int], defaults: Options) -> None:
        super().__init__(address, Handler)
        self.defaults = defaults
        self.fail_counts: dict[str, int] = {}
        self.fail_lock = threading.Lock()

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def count_request(self, key: str) -> int:
        """Count one more request for `key`; return its 1-based number."""
        with self.fail_lock:
            self.fail_counts[key] = self.fail_counts.get(key, 0) + 1
            return self.fail_counts[key]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    server: MockServer
    server_version = "mock-tickets/1.0"

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_OPTIONS(self) -> None:
        self._handle(self._preflight)

    def __getattr__(self, name: str) -> Callable[[], None]:
        # Any other method (do_POST, do_PUT, do_FOO, ...) answers 405.
        if name.startswith("do_"):
            return lambda: self._handle(self._not_allowed)
        raise AttributeError(name)

    # -- plumbing ---------------------------------------------------------

    def _handle(self, action: Callable[[], None]) -> None:
        start = time.monotonic()
        self._status = 0
        note = ""
        try:
            action()
        except ConnectionError:
            note = " (client disconnected)"
            self.close_connection = True
        ms = (time.monotonic() - start) * 1000
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        line = f"{stamp} {self.command} {self.path} {self._status} {ms:.1f}ms{note}"
        print(line, file=sys.stderr, flush=True)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # _handle logs one line per request, with the duration

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = JSON_TYPE,
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        self._status = status
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)
        self.wfile.flush()

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"))

    def _send_error_json(self, status: int, message: str) -> None:
        self._send_json(status, {"error": message, "status": status})

    # -- endpoints --------------------------------------------------------

    def _preflight(self) -> None:
        requested = self.headers.get("Access-Control-Request-Headers", "*")
        self._send(
            204,
            headers={
                "Access-Control-Allow-Methods": "GET, OPTIONS",
                "Access-Control-Allow-Headers": requested,
                "Access-Control-Max-Age": "600",
            },
        )

    def _not_allowed(self) -> None:
        body = json.dumps({"error": "method not allowed", "status": 405}).encode("utf-8")
        self._send(405, body, headers={"Allow": "GET, OPTIONS"})

    def _get(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self._send(200, b"ok", content_type="text/plain; charset=utf-8")
        elif url.path == "/tickets":
            try:
                options = self._options(url.query)
            except BadValue as exc:
                self._send_error_json(400, str(exc))
                return
            self._tickets(options)
        else:
            self._send_error_json(404, f"no such path: {url.path}")

    def _options(self, query: str) -> Options:
        params = parse_qs(query, keep_blank_values=True)
        given = {
            name: parse(params[name][-1]) for name, parse in QUERY_PARSERS.items() if name in params
        }
        return replace(self.server.defaults, **given)

    def _tickets(self, opt: Options) -> None:
        if opt.delay:
            time.sleep(opt.delay)
        if opt.fail_first:
            number = self.server.count_request(opt.key)
            if number <= opt.fail_first:
                message = f"injected failure {number} of {opt.fail_first} for key {opt.key!r}"
                self._send_error_json(503, message)
                return
        if opt.status is not None:
            self._send_error_json(opt.status, f"injected status {opt.status}")
            return

        rng = random.Random(opt.seed)  # seed None => fresh OS randomness
        tickets = make_tickets(rng, opt.count)
        if opt.body == "invalid":
            self._send(200, b'{"tickets": [this is not JSON')
        elif opt.body == "wrong-shape":
            self._send_json(200, {"data": 1})
        elif opt.body == "list":
            self._send_json(200, tickets)
        elif opt.body == "bad-ticket":
            if tickets:
                del tickets[len(tickets) // 2]["status"]
            self._send_json(200, {"tickets": tickets})
        elif opt.body == "truncated":
            body = json.dumps({"tickets": tickets}).encode("utf-8")
            self._send(200, body[: len(body) // 2], length=len(body))
            self.close_connection = True
        else:
            self._send_json(200, {"tickets": tickets})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=3000,
        help="port to bind, 0 = pick a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", help="seed for reproducible tickets (default: random per request)"
    )
    parser.add_argument(
        "--count",
        type=parse_count,
        metavar="N",
        help="number of tickets (default: random 10..14)",
    )
    parser.add_argument(
        "--fault-status",
        type=parse_status,
        metavar="NNN",
        help="answer /tickets with this HTTP status",
    )
    parser.add_argument(
        "--fault-delay",
        type=parse_delay,
        default=0.0,
        metavar="SECONDS",
        help="sleep before answering /tickets (capped at 60)",
    )
    parser.add_argument(
        "--fault-body",
        type=parse_body,
        metavar="KIND",
        help=f"broken /tickets body: {', '.join(BODY_KINDS)}",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    defaults = Options(
        count=args.count,
        seed=args.seed,
        delay=args.fault_delay,
        status=args.fault_status,
        body=args.fault_body,
    )
    try:
        server = MockServer((args.host, args.port), defaults)
    except OSError as exc:
        print(
            f"mock API: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return 1

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever() to return, so it must not run
        # in this (the main, serving) thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    host, port = server.server_address[:2]
    print(f"mock API listening on http://{host}:{port}/tickets", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    print("mock API stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
