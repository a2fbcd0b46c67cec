"""End-to-end benchmark of files/tickets.py: `make bench`.

Two cases, each served from loopback by bench/serve_pages.py in its own
process (pages rendered before it listens, HTTP/1.1 keep-alive, TCP_NODELAY):

1. one page of COUNT tickets (1e6 by default: about 150 MB of JSON), for
   - tickets.py,
   - the naive way (bench/naive.py: requests, .json(), a loop per figure,
     print per line, json.dump(indent=4)),
   - the floor (bench/floor.py: the whole body through msgspec, no streaming);
   targets: wall <= 0.4 of the naive way's, CPU (user + system, children
   included) <= 1.25 of the floor's, peak RSS <= 100 MiB;
2. COUNT tickets in pages of SIZE (10,000 pages of 100) with a Link header,
   for tickets.py and the naive way (a requests loop on r.links["next"]);
   targets: wall <= 0.5 of the naive way's, peak RSS <= 100 MiB.

The implementations run in turn, REPEAT times after one run of each that is
not counted, so that a change in the machine's load hits them alike; a ratio
is the median of the ratios of runs side by side (the machine is shared:
compare within one run). Each is started by GNU time (`time -f`), which
reports its wall time, CPU time and peak RSS, its own only (a child of this
larger process would report this one's high-water mark). Console output goes
to a file, the report to a fresh directory. Exits 1 when a target is missed.

Usage: python bench/bench.py [--count 1000000] [--size 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
TICKETS = ROOT / "files" / "tickets.py"
BENCH = ROOT / "bench"
TIME = shutil.which("time") or "/usr/bin/time"

ONE_PAGE_WALL, ONE_PAGE_CPU, PAGED_WALL, RSS_MIB = 0.4, 1.25, 0.5, 100


class Run(NamedTuple):
    wall: float  # s
    cpu: float  # s, user + system
    rss: float  # MiB, peak


def measure(command: list[str], log_dir: Path) -> Run:
    """Run COMMAND LOG_DIR under GNU time; its figures."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as figures:
        done = subprocess.run(
            [TIME, "-o", figures.name, "-f", "%e %U %S %M", *command, str(log_dir)],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.exit(f"bench: {' '.join(command[1:2])} failed ({done.returncode}): {done.stderr}")
        wall, user, system, rss = figures.read().split()[-4:]
    shutil.rmtree(log_dir, ignore_errors=True)
    return Run(float(wall), float(user) + float(system), int(rss) / 1024)


def spread(values: list[float], digits: int = 2) -> str:
    """Median (lowest..highest)."""
    low, high, mid = min(values), max(values), statistics.median(values)
    return f"{mid:.{digits}f} ({low:.{digits}f}..{high:.{digits}f})"


def serve(count: int, size: int) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, str(BENCH / "serve_pages.py"), str(count), str(size)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


# Each way's command, with URL for the server's; the log directory comes last.
WAYS = {
    "tickets.py": [str(TICKETS), "--api", "URL", "--log"],
    "naive": [str(BENCH / "naive.py"), "URL"],
    "floor": [str(BENCH / "floor.py"), "URL"],
}


def compare(
    title: str, count: int, size: int, ways: list[str], repeat: int, tmp: Path
) -> dict[str, list[Run]]:
    """Serve COUNT tickets in pages of SIZE and run each of WAYS in turn."""
    print(f"\n{title}")
    print(
        f"{'way':<12} {'runs':>4}  {'wall s median (range)':<22} "
        f"{'CPU s median':>12} {'RSS MiB':>8}"
    )
    results: dict[str, list[Run]] = {name: [] for name in ways}
    server, url = serve(count, size)
    try:
        for n in range(repeat + 1):
            for name in ways:
                command = [sys.executable, *(url if a == "URL" else a for a in WAYS[name])]
                run = measure(command, tmp / f"log-{name}-{n}")
                if n:  # the first round warms the caches
                    results[name].append(run)
    finally:
        server.kill()
        server.wait()
    for name, runs in results.items():
        print(
            f"{name:<12} {len(runs):>4}  {spread([r.wall for r in runs]):<22} "
            f"{statistics.median(r.cpu for r in runs):>12.2f} {max(r.rss for r in runs):>8.0f}",
            flush=True,
        )
    return results


def ratio(runs: list[Run], others: list[Run], field: str) -> list[float]:
    return [getattr(a, field) / getattr(b, field) for a, b in zip(runs, others)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=100, help="page size of the paged case")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not os.path.exists(TIME):
        sys.exit("bench: GNU time is needed (apt-get install time)")
    # The tool's modules as bytecode, as installed packages are.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(TICKETS.parent)], check=True)
    checks: list[tuple[str, float, float]] = []
    pages = -(-args.count // args.size)
    with tempfile.TemporaryDirectory(prefix="tickets-bench-") as name:
        tmp = Path(name)
        one = compare(
            f"one page of {args.count:,} tickets",
            args.count,
            args.count,
            ["tickets.py", "naive", "floor"],
            args.repeat,
            tmp,
        )
        paged = compare(
            f"{args.count:,} tickets in {pages:,} Link pages of {args.size}",
            args.count,
            args.size,
            ["tickets.py", "naive"],
            args.repeat,
            tmp,
        )
    tool, naive, floor = one["tickets.py"], one["naive"], one["floor"]
    wall = ratio(tool, naive, "wall")
    cpu = ratio(tool, floor, "cpu")
    checks.append(
        (f"one page: wall / naive's {spread(wall, 3)}", statistics.median(wall), ONE_PAGE_WALL)
    )
    checks.append(
        (f"one page: CPU / floor's {spread(cpu, 3)}", statistics.median(cpu), ONE_PAGE_CPU)
    )
    checks.append(("one page: peak RSS MiB", max(r.rss for r in tool), RSS_MIB))
    wall = ratio(paged["tickets.py"], paged["naive"], "wall")
    checks.append((f"pages: wall / naive's {spread(wall, 3)}", statistics.median(wall), PAGED_WALL))
    checks.append(("pages: peak RSS MiB", max(r.rss for r in paged["tickets.py"]), RSS_MIB))
    print()
    ok = True
    for label, value, target in checks:
        met = value <= target
        ok = ok and met
        print(f"{label:<44} {value:>8.3f}  target <= {target:<5g} {'ok' if met else 'MISSED'}")
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
