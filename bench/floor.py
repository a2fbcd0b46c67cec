"""The floor of `make bench`: the fastest way that ignores memory.

The whole body at once through msgspec (decode, filter, count, the console
lines, encode and format), no streaming, no validation: what the tool's CPU
time is compared with. Not shipped; only measured.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from datetime import datetime, timezone

import msgspec
import urllib3


def main() -> None:
    url, log_dir = sys.argv[1], sys.argv[2]
    body = urllib3.request("GET", url, timeout=60).data
    data = msgspec.json.decode(body)
    tickets = data["tickets"] if isinstance(data, dict) else data
    unresolved = [t for t in tickets if t["status"] == "open"]
    by_category = Counter([t["category"] for t in tickets])
    lines = "".join([f"  - id: {t['id']}  category: {t['category']}\n" for t in unresolved])
    out = sys.stdout.buffer
    out.write(f"\n📊 Отчёт по тикетам\n\nОткрытые тикеты: {len(unresolved)}\n".encode())
    out.write(lines.encode())
    categories = "".join(f"  - {c}: {n}\n" for c, n in by_category.items())
    out.write(f"\nКоличество тикетов по категориям:\n{categories}".encode())
    report = {"open": {"tickets": unresolved, "count": len(unresolved)}, "by_category": by_category}
    os.makedirs(log_dir, exist_ok=True)
    name = datetime.now(timezone.utc).strftime("%y-%m-%d %H-%M-%S") + ".json"
    with open(os.path.join(log_dir, name), "wb") as handle:
        handle.write(msgspec.json.format(msgspec.json.encode(report), indent=4))


if __name__ == "__main__":
    main()
