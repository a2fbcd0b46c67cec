"""End-to-end benchmark of files/tickets.py against the naive baseline.

Generates deterministic ticket lists (50 categories, half open, a few extra
fields), serves them over loopback with the standard library's HTTP server,
runs both implementations as subprocesses (console output to a file, JSON
report to a fresh directory) and prints the median wall time and peak RSS of
each, with the targets: at 1e6 tickets, wall time <= 1/4 of the naive one and
peak RSS <= 100 MiB, flat from 1e5 to 1e6.

Usage: python bench/bench.py [--sizes 100000 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKETS = ROOT / "files" / "tickets.py"
NAIVE = ROOT / "bench" / "naive.py"


def generate(path: Path, count: int) -> None:
    """Write {"tickets": [...]} with `count` tickets, the same for every run."""
    rng = random.Random(count)
    categories = [f"category_{n:02d}" for n in range(50)]
    with path.open("w", encoding="utf-8") as out:
        out.write('{"tickets": [')
        for ticket_id in range(1, count + 1):
            ticket = {
                "id": ticket_id,
                "category": rng.choice(categories),
                "status": "open" if ticket_id % 2 else "closed",
                "title": f"Ticket {ticket_id}: printer on floor {rng.randint(1, 9)}",
                "priority": rng.choice(["low", "normal", "high"]),
                "created": 1700000000 + ticket_id,
            }
            out.write(("," if ticket_id > 1 else "") + json.dumps(ticket, ensure_ascii=False))
        out.write("]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(command: list[str]) -> tuple[float, float]:
    """Run a command; return its wall time (s) and peak RSS (MiB)."""
    with tempfile.TemporaryFile() as stdout:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr = process.stderr.read().decode() if process.stderr else ""
        if process.returncode != 0:
            sys.exit(f"bench: {command[1]} failed ({process.returncode}): {stderr.strip()}")
    return wall, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tickets-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        print(f"{'tickets':>9}  {'implementation':<14} {'wall s':>7} {'peak RSS MiB':>13}")
        results: dict[tuple[int, str], tuple[float, float]] = {}
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                str(port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(data_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.5)
            for size in args.sizes:
                generate(data_dir / f"{size}.json", size)
                url = f"http://127.0.0.1:{port}/{size}.json"
                for name, script in (("tickets.py", TICKETS), ("naive", NAIVE)):
                    runs = []
                    for n in range(args.repeat):
                        log_dir = Path(tmp) / f"log-{name}-{size}-{n}"
                        extra = (
                            ["--api", url, "--log", str(log_dir)]
                            if name == "tickets.py"
                            else [url, str(log_dir)]
                        )
                        runs.append(measure([sys.executable, str(script), *extra]))
                    wall = statistics.median(r[0] for r in runs)
                    rss = statistics.median(r[1] for r in runs)
                    results[size, name] = wall, rss
                    print(f"{size:>9,}  {name:<14} {wall:>7.2f} {rss:>13.0f}", flush=True)
        finally:
            server.terminate()
            server.wait()

    largest, smallest = max(args.sizes), min(args.sizes)
    fast, naive = results[largest, "tickets.py"], results[largest, "naive"]
    print(
        f"\nat {largest:,} tickets: wall {fast[0]:.2f} s vs naive {naive[0]:.2f} s "
        f"(ratio {fast[0] / naive[0]:.2f}, target <= 0.25); peak RSS {fast[1]:.0f} MiB "
        f"(target <= 100), {results[smallest, 'tickets.py'][1]:.0f} MiB at {smallest:,}"
    )
    ok = fast[0] <= naive[0] / 4 and fast[1] <= 100
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
