"""Deploy benchmark: the real playbook.yml over SSH with sudo (tests/fleet/fleet.py)
on 1 host, then on 10 hosts: first deploy and no-change re-run, each with fresh
SSH connections. Prints a table; exits 1 when a target is missed:
  - 10 hosts' first deploy within 3x one host's;
  - one host's no-change re-run in at most 12 s.

    make bench-deploy                    (python bench/deploy.py [--hosts 1,10])
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fleet"))
from fleet import Fleet

FIRST_DEPLOY_RATIO = 3.0
NO_CHANGE_SECONDS = 12.0


def measure(hosts: int, workdir: Path) -> tuple[float, float]:
    with Fleet(hosts, workdir, name=f"bench{hosts}") as fleet:
        times = []
        for phase in ("first deploy", "no-change re-run"):
            result = fleet.deploy()
            changed = sum(r["changed"] for r in result.recap.values())
            print(
                f"  {hosts} host(s), {phase}: {result.seconds:.1f} s, changed={changed}", flush=True
            )
            if result.rc != 0:
                sys.exit(f"bench-deploy: ansible-playbook failed (exit {result.rc}): {workdir}")
            times.append(result.seconds)
        return times[0], times[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--hosts", default="1,10", help="host counts, comma-separated (default 1,10)"
    )
    counts = [int(n) for n in parser.parse_args().hosts.split(",")]
    rows = {}
    with tempfile.TemporaryDirectory(prefix="tickets-bench-deploy-") as tmp:
        for n in counts:
            workdir = Path(tmp) / str(n)
            workdir.mkdir()
            rows[n] = measure(n, workdir)
    print("\n| hosts | first deploy (s) | no-change re-run (s) |")
    print("|---:|---:|---:|")
    for n, (first, again) in rows.items():
        print(f"| {n} | {first:.1f} | {again:.1f} |")
    missed = []
    if 1 in rows and 10 in rows:
        ratio = rows[10][0] / rows[1][0]
        print(
            f"\n10 hosts' first deploy / 1 host's: {ratio:.2f} (target <= {FIRST_DEPLOY_RATIO:g})"
        )
        if ratio > FIRST_DEPLOY_RATIO:
            missed.append("10 hosts' first deploy")
    if 1 in rows:
        print(f"1 host's no-change re-run: {rows[1][1]:.1f} s (target <= {NO_CHANGE_SECONDS:g} s)")
        if rows[1][1] > NO_CHANGE_SECONDS:
            missed.append("one host's no-change re-run")
    if missed:
        print("bench-deploy: target missed: " + ", ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
