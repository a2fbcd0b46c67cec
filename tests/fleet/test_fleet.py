"""The fleet as operators run it: the real playbook.yml over SSH, as a user
with sudo, on several hosts at once (tests/fleet/fleet.py). `make test-fleet`.

First deploy (the play runs the job on every host: tickets_run_on_deploy),
an idempotent re-run, check mode, a run that repairs what was changed by hand
on one host (and only there), and the job run by each host's own timer service.
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


def test_a_run_repairs_what_was_changed_by_hand(fleet: Fleet) -> None:
    """A file edited, a mode changed, the current release's link deleted on one
    host are found and repaired, and only there."""
    if len(fleet.hosts) < 2:
        pytest.skip("needs a second host to compare with")
    host, untouched = fleet.hosts[0], fleet.hosts[1]
    drift = fleet.sh(
        host,
        "set -e; echo '# edited by hand' >> /etc/systemd/system/tickets.timer;"
        " chmod 0644 /etc/tickets/tickets.env; rm /opt/tickets/current",
    )
    assert drift.returncode == 0, drift.stderr
    result = fleet.deploy()
    assert result.rc == 0, result.output[-3000:]
    assert result.recap[host]["changed"] > 0, result.output[-3000:]
    assert all(result.recap[h]["changed"] == 0 for h in fleet.hosts[1:]), result.output[-3000:]
    state = (
        "sha1sum /etc/systemd/system/tickets.timer /opt/tickets/current/app/tickets.py"
        " /opt/tickets/current/app/ticketslib/*.py; stat -c '%a %U %G' /etc/tickets/tickets.env;"
        " readlink /opt/tickets/current; /opt/tickets/current/bin/tickets --version"
    )
    repaired, expected = fleet.sh(host, state), fleet.sh(untouched, state)
    assert repaired.returncode == expected.returncode == 0, (repaired.stderr, expected.stderr)
    assert repaired.stdout == expected.stdout


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
