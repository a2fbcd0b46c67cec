"""The obvious implementation of the report: the baseline for `make bench`.

GETs each page with requests (one Session: keep-alive), follows
``r.links["next"]``, loads each body with ``.json()``, loops once per figure,
prints line by line and dumps the report with json.dump(indent=4). Not
shipped; only measured.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone

import requests


def main() -> None:
    url, log_dir = sys.argv[1], sys.argv[2]
    session = requests.Session()
    tickets = []
    while url:
        response = session.get(url, timeout=60)
        data = response.json()
        tickets += data["tickets"] if isinstance(data, dict) else data
        url = response.links.get("next", {}).get("url")
    unresolved = [t for t in tickets if t["status"] == "open"]
    by_category: dict[str, int] = {}
    for ticket in tickets:
        by_category[ticket["category"]] = by_category.get(ticket["category"], 0) + 1
    print("\n📊 Отчёт по тикетам\n")
    print(f"Открытые тикеты: {len(unresolved)}")
    for ticket in unresolved:
        print(f"  - id: {ticket['id']}  category: {ticket['category']}")
    print("\nКоличество тикетов по категориям:")
    for category, count in by_category.items():
        print(f"  - {category}: {count}")
    report = {"open": {"tickets": unresolved, "count": len(unresolved)}, "by_category": by_category}
    os.makedirs(log_dir, exist_ok=True)
    name = datetime.now(timezone.utc).strftime("%y-%m-%d %H-%M-%S") + ".json"
    with open(os.path.join(log_dir, name), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=4, ensure_ascii=False)


if __name__ == "__main__":
    main()
