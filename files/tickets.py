#!/usr/bin/env python3
"""Report on a helpdesk's tickets.

Fetches a JSON list of tickets from an HTTP API (or reads it from a file),
prints how many tickets are unresolved (and which) and how many tickets there
are per category, and saves the same report as JSON under a unique name in a
log directory.

The ticket list is streamed: memory stays flat however long the list is.
Runs on Python 3.9+; needs the packages pinned in requirements.txt. The code
lives in the package ticketslib/ beside this file (installed together):
errors, parse (the report logic, streaming input), fetch (HTTP), output (the
report file and console), child (the process that writes the report while the
run parses), memory (malloc tuning), cli (options and a run).
"""

import gc
import sys

# Importing the modules leaves little garbage, yet the cyclic collector runs
# many times meanwhile: about a tenth of the start-up. So it waits until the
# imports are done, and then leaves the imported objects out of later passes.
gc.disable()
try:
    from ticketslib.cli import main
except ImportError as exc:  # pragma: no cover - depends on the environment
    if exc.name not in ("msgspec", "requests", "shortuuid", "urllib3"):
        raise
    sys.exit(
        f"tickets: error: Python package {exc.name!r} is missing: "
        "install requirements.txt (pip install -r requirements.txt)"
    )
finally:
    gc.freeze()
    gc.enable()

if __name__ == "__main__":
    sys.exit(main())
