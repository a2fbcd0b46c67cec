"""The benchmark's page server, in its own process: a ticket list as COUNT
tickets in pages of SIZE, rendered before it listens, served over HTTP/1.1
keep-alive with TCP_NODELAY (as real servers send), page N at /tickets?page=N
with an RFC 8288 Link header to the next one (an absolute URL, as GitHub
sends). Prints its URL, then serves until killed.

Usage: python bench/serve_pages.py COUNT SIZE
"""

from __future__ import annotations

import json
import random
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

CATEGORIES = [f"category_{n:02d}" for n in range(50)]


def ticket(rng: random.Random, ticket_id: int) -> dict:
    return {
        "id": ticket_id,
        "category": rng.choice(CATEGORIES),
        "status": "open" if ticket_id % 2 else "closed",
        "title": f"Ticket {ticket_id}: printer on floor {rng.randint(1, 9)}",
        "priority": rng.choice(["low", "normal", "high"]),
        "created": 1700000000 + ticket_id,
    }


def render(count: int, size: int, url: str) -> list[tuple[bytes, bytes]]:
    """(body, headers) of each page; one page of COUNT is {"tickets": [...]}."""
    rng = random.Random(count)
    pages = []
    for number, start in enumerate(range(1, count + 1, size), start=1):
        items = [ticket(rng, i) for i in range(start, min(start + size, count + 1))]
        body = json.dumps({"tickets": items} if size >= count else items).encode()
        link = f'Link: <{url}?page={number + 1}>; rel="next"\r\n' if start + size <= count else ""
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{link}"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        pages.append((body, head.encode()))
    return pages


def main() -> None:
    count, size = int(sys.argv[1]), int(sys.argv[2])
    pages: list[tuple[bytes, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            page = int(parse_qs(urlsplit(self.path).query).get("page", ["1"])[0])
            body, head = pages[page - 1]
            self.wfile.write(head + body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}/tickets"
    pages += render(count, size, url)
    print(url, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
