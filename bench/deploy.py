"""Deploy benchmark: the real playbook.yml over SSH with sudo (tests/fleet/fleet.py)
on 1 host, then on 10 hosts: first deploy and no-change re-run, each with fresh
SSH connections. Prints a table with the wall time and the CPU time spent
(ansible-playbook on the controller, and all the hosts' containers); exits 1
when a target is missed:
  - 10 hosts' first deploy within 3x one host's;
  - one host's no-change re-run in at most 12 s.
The hosts share this machine's cores with the controller, so the 10 hosts'
deploy cannot take less than the CPU time it spends divided by the cores: the
benchmark prints that floor next to the ratio.

    make bench-deploy                    (python bench/deploy.py [--hosts 1,10])
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fleet"))
from fleet import Fleet, PlaybookRun

FIRST_DEPLOY_RATIO = 3.0
NO_CHANGE_SECONDS = 12.0


def cpu(result: PlaybookRun) -> float:
    return result.controller_cpu + (result.hosts_cpu or 0.0)


def cpu_text(result: PlaybookRun) -> str:
    hosts = "n/a" if result.hosts_cpu is None else f"{result.hosts_cpu:.1f}"
    return f"{result.controller_cpu:.1f} + {hosts}"


def measure(hosts: int, workdir: Path) -> tuple[PlaybookRun, PlaybookRun]:
    with Fleet(hosts, workdir, name=f"bench{hosts}") as fleet:
        runs = []
        for phase in ("first deploy", "no-change re-run"):
            result = fleet.deploy()
            changed = sum(r["changed"] for r in result.recap.values())
            # Tasks that ran per host (ok, changed included; the controller's
            # assert and set_fact as well as the host's modules), and skipped.
            ran = max(r["ok"] for r in result.recap.values())
            skipped = max(r["skipped"] for r in result.recap.values())
            print(
                f"  {hosts} host(s), {phase}: {result.seconds:.1f} s, changed={changed},"
                f" tasks run per host {ran} (skipped {skipped}),"
                f" CPU controller + hosts {cpu_text(result)} s",
                flush=True,
            )
            if result.rc != 0:
                sys.exit(f"bench-deploy: ansible-playbook failed (exit {result.rc}): {workdir}")
            runs.append(result)
        return runs[0], runs[1]


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
    cores = os.cpu_count() or 1
    print(f"\nOn {cores} cores; CPU s: ansible-playbook + the hosts' containers.\n")
    print("| hosts | first deploy (s) | its CPU (s) | no-change re-run (s) | its CPU (s) |")
    print("|---:|---:|---:|---:|---:|")
    for n, (first, again) in rows.items():
        print(
            f"| {n} | {first.seconds:.1f} | {cpu_text(first)} | {again.seconds:.1f}"
            f" | {cpu_text(again)} |"
        )
    missed = []
    if 1 in rows and 10 in rows:
        one, ten = rows[1][0], rows[10][0]
        ratio = ten.seconds / one.seconds
        floor = cpu(ten) / cores / one.seconds
        print(
            f"\n10 hosts' first deploy / 1 host's: {ratio:.2f} (target <= {FIRST_DEPLOY_RATIO:g});"
            f" its CPU time over {cores} cores alone is {floor:.2f} times 1 host's deploy"
        )
        if ratio > FIRST_DEPLOY_RATIO:
            missed.append("10 hosts' first deploy")
    if 1 in rows:
        again = rows[1][1].seconds
        print(f"1 host's no-change re-run: {again:.1f} s (target <= {NO_CHANGE_SECONDS:g} s)")
        if again > NO_CHANGE_SECONDS:
            missed.append("one host's no-change re-run")
    if missed:
        print("bench-deploy: target missed: " + ", ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
