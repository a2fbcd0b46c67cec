#!/usr/bin/env python3
"""Report on a helpdesk's tickets.

Fetches a helpdesk's ticket list from its HTTP API, page after page (or reads
it from a file), prints how many tickets are unresolved (and which) and how
many tickets there are per category, and saves the same report as JSON under
a unique name in a log directory.

The ticket list is streamed: memory stays flat however long the list is.
Runs on Python 3.9+; needs the packages pinned in requirements.txt. The code
lives in the package ticketslib/ beside this file (installed together); a run
reads top to bottom in ticketslib/cli.py: source (paging, fetch, stream) ->
tally (report) -> outputs (report file, console, history, metrics, HTML).
"""

import sys

try:
    from ticketslib.cli import main
except ImportError as exc:  # pragma: no cover - depends on the environment
    if exc.name not in ("msgspec", "shortuuid", "urllib3"):
        raise
    sys.exit(
        f"tickets: error: Python package {exc.name!r} is missing: "
        "install requirements.txt (pip install -r requirements.txt)"
    )

if __name__ == "__main__":
    sys.exit(main())
