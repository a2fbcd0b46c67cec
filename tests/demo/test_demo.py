"""End to end: README's `make demo` really works.

Runs, from the repository root, as a user would:
    make demo-clean                 no container to start from
    make demo                       deploys with systemd, runs the job, shows the report
    make demo                       again: re-applies the playbook, changed=0
    make demo SCHEDULER=cron        switches to cron: the timer is gone
    make demo-clean                 removes the container, keeps the image

Needs Docker and the image (`make test-demo` builds it first); takes a few
minutes. The container is removed at the end, pass or fail. Each command's
duration is printed as it finishes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTAINER = "tickets-demo"
IMAGE = os.environ.get("TICKETS_IMAGE_BOOKWORM", "tickets-systemd:bookworm")
# A first run may build the image (debootstrap) and the job's virtualenv (pip).
TIMEOUT = 1800

REPORT_HEADER = re.compile(
    r"^== newest report: /var/lib/tickets/reports/(?P<name>[^\n]*) ==\n", re.MULTILINE
)
REPORT_NAME = re.compile(r"^\d{2}-\d{2}-\d{2} \d{2}-\d{2}-\d{2}(-\d+)?\.json$")
RECAP = re.compile(
    rf"^{CONTAINER}\s+:\s+ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=0\s+failed=0\b",
    re.MULTILINE,
)
OPEN_COUNT = re.compile(r"^Открытые тикеты: (\d+)$", re.MULTILINE)
# systemctl list-timers: "Sat 2026-11-28 03:00:00 UTC 29min left ... tickets.timer tickets.service"
TIMER_LINE = re.compile(
    r"^\w{3} [\d-]{10} [\d:]{8} \S+ .* tickets\.timer +tickets\.service$", re.MULTILINE
)
CRON_LINE = re.compile(
    r"^0 \*/3 \* \* \* tickets /opt/tickets/cron-job\.sh 2>/dev/null$", re.MULTILINE
)


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=120, check=False
    )


def container_exists() -> bool:
    return docker("container", "inspect", CONTAINER).returncode == 0


class Make:
    """Runs make targets from the repository root and reports their durations."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        # Not the caller's SCHEDULER: each step names the scheduler it wants.
        self.env = {k: v for k, v in os.environ.items() if k != "SCHEDULER"}

    def __call__(self, *args: str) -> str:
        label = "make " + " ".join(args)
        start = time.monotonic()
        try:
            result = subprocess.run(
                ["make", "--no-print-directory", *args],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            output = exc.output or ""
            if isinstance(output, bytes):
                output = output.decode(errors="replace")
            pytest.fail(f"{label}: no end after {TIMEOUT} s; output so far:\n{output}")
        duration = time.monotonic() - start
        status = f"exit {result.returncode} in {duration:.0f} s"
        with self.capsys.disabled():
            print(f"\ntests/demo: {label}: {status}", flush=True)
        # Pytest shows this ("Captured stdout call") when an assertion fails.
        print(f"===== {label}: {status} =====\n{result.stdout}")
        assert result.returncode == 0, f"{label} failed ({status}): see its output below"
        return result.stdout


@pytest.fixture
def make(capsys: pytest.CaptureFixture[str]) -> Iterator[Make]:
    runner = Make(capsys)
    yield runner
    # Pass or fail, leave no container behind (the image stays).
    if container_exists():
        docker("rm", "-f", CONTAINER)


def shown_report(output: str) -> tuple[str, dict[str, Any]]:
    """The name and the parsed content of the report file the demo printed."""
    match = REPORT_HEADER.search(output)
    assert match, "the demo shows no report file"
    name = match["name"]
    assert REPORT_NAME.match(name), f"report name {name!r} is not 'YY-MM-DD HH-MM-SS.json'"
    try:
        report, _ = json.JSONDecoder().raw_decode(output, match.end())
    except json.JSONDecodeError as exc:
        pytest.fail(f"the report file shown is not valid JSON: {exc}")
    return name, report


def check_job_output(output: str) -> str:
    """The job's console report and its file agree; returns the file's name."""
    assert "Отчёт по тикетам" in output
    counts = OPEN_COUNT.findall(output)
    assert counts, "the job's report ('Открытые тикеты: N') is not shown"
    name, report = shown_report(output)
    assert report["open"]["count"] == int(counts[-1]) == len(report["open"]["tickets"])
    assert all(ticket["status"] == "open" for ticket in report["open"]["tickets"])
    assert sum(report["by_category"].values()) >= report["open"]["count"]
    assert f"Отчёт сохранён: /var/lib/tickets/reports/{name}" in output
    return name


def test_demo(make: Make) -> None:
    # A clean start: no container (fine when there is none).
    make("demo-clean")
    assert not container_exists()

    # First run: container, mock API, deployment with the systemd timer, one run.
    output = make("demo")
    for step in range(1, 7):
        assert f"demo: [{step}/6] " in output, f"step {step}/6 not announced"
    recap = RECAP.search(output)
    assert recap, "no PLAY RECAP without failures"
    first_name = check_job_output(output)
    assert TIMER_LINE.search(output), "systemctl list-timers shows no next run of tickets.timer"
    assert "docker exec -it tickets-demo journalctl -u tickets.service" in output
    report_path = f"/var/lib/tickets/reports/{first_name}"
    assert docker("exec", CONTAINER, "test", "-f", report_path).returncode == 0, report_path

    # Second run on the running demo: nothing to change, another report.
    output = make("demo")
    recap = RECAP.search(output)
    assert recap, "no PLAY RECAP without failures"
    assert recap["changed"] == "0", f"the second run changed {recap['changed']} task(s)"
    assert "already runs: reusing it" in output
    assert check_job_output(output) != first_name
    assert TIMER_LINE.search(output)

    # Cron: the entry is shown and run; the timer's units are gone.
    output = make("demo", "SCHEDULER=cron")
    assert RECAP.search(output), "no PLAY RECAP without failures"
    check_job_output(output)
    assert CRON_LINE.search(output), "the cron entry is not shown"
    assert "docker exec -it tickets-demo journalctl -t tickets" in output
    for unit in ("tickets.timer", "tickets.service"):
        path = f"/etc/systemd/system/{unit}"
        assert docker("exec", CONTAINER, "test", "!", "-e", path).returncode == 0, f"{path} left"

    # Clean: the container goes, the image stays.
    output = make("demo-clean")
    assert f"removed container {CONTAINER}" in output
    assert not container_exists()
    assert docker("image", "inspect", IMAGE).returncode == 0, f"demo-clean removed {IMAGE}"
