"""End-to-end benchmark of files/tickets.py against the naive baseline.

Generates deterministic ticket lists (50 categories, half open, a few extra
fields), serves them over loopback with the standard library's HTTP server,
runs both implementations as subprocesses (console output to a file, JSON
report to a fresh directory), one after the other in turn so that a change in
the machine's load hits both alike, and prints for each the median wall time
with its spread (lowest..highest), the median CPU time (user + system, less
sensitive to other load; tickets.py's includes its report process) and the
peak RSS (for tickets.py, the larger of the run and its report process). The
ratio is the median of the ratios of runs side by side, with their spread.

Targets: at 1e6 tickets, wall time <= 0.15 of the naive one and peak RSS
<= 100 MiB, flat from 1e5 to 1e6. Exits 1 when one is missed.

Usage: python bench/bench.py [--sizes 100000 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

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


TARGET_RATIO = 0.15
TARGET_RSS_MIB = 100


class Run(NamedTuple):
    wall: float  # s
    cpu: float  # s, user + system
    rss: float  # MiB, peak


def measure(command: list[str]) -> Run:
    """Run a command; return its wall time, CPU time and peak RSS."""
    with tempfile.TemporaryFile() as stdout:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr = process.stderr.read().decode() if process.stderr else ""
        if process.returncode != 0:
            sys.exit(f"bench: {command[1]} failed ({process.returncode}): {stderr.strip()}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def spread(values: list[float], digits: int = 2) -> str:
    """Median (lowest..highest)."""
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}..{max(values):.{digits}f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    names = ("tickets.py", "naive")
    results: dict[tuple[int, str], list[Run]] = {}
    # The tool's modules as bytecode, as the installed packages are: a first run
    # would write it too, unless PYTHONDONTWRITEBYTECODE is set (then every run
    # compiles them, about a tenth of the start-up).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(TICKETS.parent)], check=True)
    with tempfile.TemporaryDirectory(prefix="tickets-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
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
            print(
                f"{'tickets':>9}  {'implementation':<14} {'runs':>4}  "
                f"{'wall s median (range)':<22} {'CPU s median':>12} {'peak RSS MiB':>13}"
            )
            for size in args.sizes:
                generate(data_dir / f"{size}.json", size)
                url = f"http://127.0.0.1:{port}/{size}.json"
                commands = {
                    "tickets.py": [sys.executable, str(TICKETS), "--api", url, "--log"],
                    "naive": [sys.executable, str(NAIVE), url],
                }
                for name in names:  # a first run of each, not counted: caches warm
                    measure([*commands[name], str(Path(tmp) / f"log-{name}-{size}-warm")])
                for n in range(args.repeat):
                    for name in names:
                        log_dir = Path(tmp) / f"log-{name}-{size}-{n}"
                        run = measure([*commands[name], str(log_dir)])
                        results.setdefault((size, name), []).append(run)
                        shutil.rmtree(log_dir)
                for name in names:
                    runs = results[size, name]
                    print(
                        f"{size:>9,}  {name:<14} {len(runs):>4}  "
                        f"{spread([r.wall for r in runs]):<22} "
                        f"{statistics.median(r.cpu for r in runs):>12.2f} "
                        f"{max(r.rss for r in runs):>13.0f}",
                        flush=True,
                    )
        finally:
            server.terminate()
            server.wait()

    largest, smallest = max(args.sizes), min(args.sizes)
    fast, naive = results[largest, "tickets.py"], results[largest, "naive"]
    ratios = [f.wall / n.wall for f, n in zip(fast, naive)]
    cpu_ratio = statistics.median(r.cpu for r in fast) / statistics.median(r.cpu for r in naive)
    ratio = statistics.median(ratios)
    rss = max(r.rss for r in fast)
    print(
        f"\nat {largest:,} tickets: wall ratio {spread(ratios, 3)} (target <= {TARGET_RATIO}), "
        f"CPU ratio {cpu_ratio:.3f}; peak RSS {rss:.0f} MiB (target <= {TARGET_RSS_MIB}), "
        f"{max(r.rss for r in results[smallest, 'tickets.py']):.0f} MiB at {smallest:,}"
    )
    ok = ratio <= TARGET_RATIO and rss <= TARGET_RSS_MIB
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
