"""Benchmark of the trend view with a year of history.

A report directory as the job leaves it after a year at one run every three
hours: 2,920 reports, each listing 10,000 unresolved tickets (50 categories).
The reports share content (eight variants, hard-linked under the names of the
runs), so the data takes a few seconds and ~10 MB of disk to make.

Measured (each as a subprocess, wall time and peak RSS):
- the first --history, which backfills the record from every report (once);
- --history with the record, median of 3 (target: under 2 s);
- the same with a month of reports (240): peak RSS must stay flat
  (a year within 10 MiB of a month);
- --html with the record (the page of the whole year);
- a run that saves a report into the year's directory (it appends its line).

Usage: python bench/history.py [--reports 2920] [--tickets 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKETS = ROOT / "files" / "tickets.py"
START = datetime(2025, 11, 29, tzinfo=timezone.utc)
TARGET_S = 2.0
FLAT_MIB = 10.0


def report(seed: int, count: int) -> bytes:
    """A report as tickets.py writes it, with `count` unresolved tickets."""
    rng = random.Random(seed)
    categories = [f"category_{n:02d}" for n in range(50)]
    weights = [rng.random() for _ in categories]
    tickets = [
        {
            "id": i,
            "category": rng.choices(categories, weights)[0],
            "status": "open",
            "title": f"Ticket {i}: printer on floor {rng.randint(1, 9)}",
            "priority": rng.choice(["low", "normal", "high"]),
        }
        for i in range(1, count + 1)
    ]
    by_category: dict[str, int] = {}
    for ticket in tickets:
        by_category[ticket["category"]] = by_category.get(ticket["category"], 0) + 1
    data = {"open": {"tickets": tickets, "count": count}, "by_category": by_category}
    return json.dumps(data, indent=4, ensure_ascii=False).encode()


def make_directory(directory: Path, reports: int, tickets: int) -> None:
    variants = directory / ".variants"
    variants.mkdir(parents=True)
    sources = []
    for seed in range(8):
        path = variants / f"{seed}"
        path.write_bytes(report(seed, tickets))
        sources.append(path)
    for n in range(reports):
        name = (START + timedelta(hours=3 * n)).strftime("%y-%m-%d %H-%M-%S") + ".json"
        os.link(sources[(n * 5 // 7) % len(sources)], directory / name)


def measure(*args: str | Path) -> tuple[float, float]:
    """Run tickets.py; return its wall time (s) and peak RSS (MiB)."""
    command = [sys.executable, str(TICKETS), *map(str, args)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"bench: {' '.join(command[2:])} failed: {err.read().decode().strip()}")
    return wall, usage.ru_maxrss / 1024


def median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def show(label: str, figures: tuple[float, float], extra: str = "") -> None:
    print(f"{label:<44} {figures[0]:>7.2f} {figures[1]:>13.0f}  {extra}".rstrip(), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2920)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    month = min(240, args.reports)

    with tempfile.TemporaryDirectory(prefix="tickets-bench-history-") as tmp:
        year_dir, month_dir = Path(tmp) / "year", Path(tmp) / "month"
        started = time.perf_counter()
        make_directory(year_dir, args.reports, args.tickets)
        make_directory(month_dir, month, args.tickets)
        size = (year_dir / ".variants" / "0").stat().st_size / 2**20
        print(
            f"data: {args.reports:,} reports of {args.tickets:,} unresolved tickets "
            f"({size:.1f} MiB each) in {time.perf_counter() - started:.1f} s\n"
        )
        print(f"{'step':<44} {'wall s':>7} {'peak RSS MiB':>13}")
        backfill = measure("--history", "--log", year_dir)
        show(f"--history, first: backfill of {args.reports:,} reports", backfill)
        measure("--history", "--log", month_dir)
        year = median([measure("--history", "--log", year_dir) for _ in range(args.repeat)])
        show(f"--history with the record ({args.reports:,} runs)", year, f"target < {TARGET_S} s")
        month_figures = median(
            [measure("--history", "--log", month_dir) for _ in range(args.repeat)]
        )
        show(f"--history with the record ({month:,} runs)", month_figures)
        page = Path(tmp) / "index.html"
        html = median([measure("--html", page, "--log", year_dir) for _ in range(args.repeat)])
        show(f"--html, the page of {args.reports:,} runs", html, f"{page.stat().st_size:,} bytes")
        source = Path(tmp) / "input.json"
        source.write_text(json.dumps([{"id": 1, "category": "c", "status": "open"}]))
        run = median([measure("--input", source, "--log", year_dir) for _ in range(args.repeat)])
        show("a run saving its report (appends its line)", run)

    grown = year[1] - month_figures[1]
    print(
        f"\nhistory of {args.reports:,} runs: {year[0]:.2f} s (target < {TARGET_S} s); "
        f"peak RSS {year[1]:.0f} MiB vs {month_figures[1]:.0f} MiB for {month:,} runs "
        f"(target: within {FLAT_MIB:.0f} MiB)"
    )
    ok = year[0] < TARGET_S and grown <= FLAT_MIB
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
