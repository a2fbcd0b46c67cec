"""The fleet as operators run it: the real playbook.yml over SSH, as a user
with sudo, on several hosts at once (tests/fleet/fleet.py). `make test-fleet`.

First deploy (the play runs the job on every host: tickets_run_on_deploy),
an idempotent re-run, and the job run by each host's own timer service.
TICKETS_FLEET_HOSTS sets the number of hosts (default 3).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet import USER, Fleet

HOSTS = int(os.environ.get("TICKETS_FLEET_HOSTS", "3"))
REPORTS = "/var/lib/tickets/reports"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    with Fleet(HOSTS, tmp_path_factory.mktemp("fleet")) as fleet:
        yield fleet


def reports(fleet: Fleet, host: str) -> list[str]:
    return fleet.sh(host, f"ls -1 {REPORTS}").stdout.splitlines()  # names have spaces


def test_first_deploy_runs_the_job_on_every_host(fleet: Fleet) -> None:
    result = fleet.deploy()
    assert result.rc == 0, result.output[-3000:]
    assert sorted(result.recap) == fleet.hosts
    for host in fleet.hosts:
        assert result.recap[host]["failed"] == result.recap[host]["unreachable"] == 0
        assert result.recap[host]["changed"] > 0
        # The play ran the job once (tickets_run_on_deploy): one report.
        assert len(reports(fleet, host)) == 1, host


def test_the_play_logs_in_as_the_user_and_becomes_root_with_sudo(fleet: Fleet) -> None:
    for host in fleet.hosts:
        sshd = "_COMM=sshd _COMM=sshd-session"
        journal = fleet.sh(host, f"journalctl --no-pager -o cat _COMM=sudo {sshd}").stdout
        assert f"Accepted publickey for {USER} from " in journal, host
        assert f"{USER} : PWD=" in journal and "USER=root" in journal, host


def test_a_second_run_changes_nothing(fleet: Fleet) -> None:
    result = fleet.deploy()
    assert result.rc == 0, result.output[-3000:]
    assert {host: result.recap[host]["changed"] for host in fleet.hosts} == dict.fromkeys(
        fleet.hosts, 0
    ), result.output[-3000:]


def test_check_mode_on_the_converged_fleet_changes_nothing(fleet: Fleet) -> None:
    result = fleet.deploy("--check")
    assert result.rc == 0, result.output[-3000:]
    assert all(result.recap[host]["changed"] == 0 for host in fleet.hosts), result.output[-3000:]


def test_each_host_runs_the_job_from_its_timer_service(fleet: Fleet) -> None:
    for host in fleet.hosts:
        before = set(reports(fleet, host))
        assert fleet.sh(host, "systemctl is-active tickets.timer").stdout.strip() == "active"
        started = fleet.sh(host, "sleep 1; systemctl start tickets.service")
        assert started.returncode == 0, (host, started.stderr)
        new = set(reports(fleet, host)) - before
        assert len(new) == 1, host
        path = Path(REPORTS) / new.pop()
        report = json.loads(fleet.sh(host, f"cat '{path}'").stdout)
        assert report["open"]["count"] >= 0
