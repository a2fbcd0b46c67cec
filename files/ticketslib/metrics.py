"""Metrics: the job's health in Prometheus text format, for node_exporter's
textfile collector (written after every run, success or failure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import describe_os_error, warn
from .store import write_atomic

# name: (help, type). The ticket figures and the last success are carried over
# from the previous file when a run fails.
METRICS = {
    "tickets_open": "Unresolved tickets in the last successful run.",
    "tickets_fetched": "Tickets in the list fetched by the last successful run.",
    "tickets_by_category": "Tickets per category in the last successful run.",
    "tickets_last_run_timestamp_seconds": "Unix time the last run started.",
    "tickets_last_success_timestamp_seconds": "Unix time the last successful run started.",
    "tickets_last_run_exit_code": "Exit code of the last run (0: success).",
    "tickets_run_duration_seconds": "Duration of the last run, seconds.",
    "tickets_run_pages": "Pages of the ticket list the last run fetched.",
    "tickets_run_http_requests": "HTTP requests of the last run, retries included.",
    "tickets_run_rate_limit_wait_seconds": "Seconds the last run waited for rate limits.",
}
CARRIED_OVER = (
    "tickets_open",
    "tickets_fetched",
    "tickets_by_category",
    "tickets_last_success_timestamp_seconds",
)
_SAMPLE_NAME = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]")


@dataclass
class Stats:
    """What a run's HTTP cost: for the metrics."""

    pages: int = 0
    requests: int = 0
    waited: float = 0.0  # seconds spent waiting for rate limits


@dataclass
class Figures:
    """What a successful run counted."""

    open_count: int
    fetched: int
    by_category: Mapping[str, int]


def escape_label(value: str) -> str:
    """A label value as the text format requires it (valid UTF-8, escaped)."""
    value = value.encode("utf-8", "replace").decode("utf-8")  # lone surrogates
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def success_samples(figures: Figures, started: float) -> dict[str, list[str]]:
    by_label: dict[str, int] = {}
    for category, count in figures.by_category.items():
        label = escape_label(category)  # two categories may escape alike
        by_label[label] = by_label.get(label, 0) + count
    return {
        "tickets_open": [f"tickets_open {figures.open_count}"],
        "tickets_fetched": [f"tickets_fetched {figures.fetched}"],
        "tickets_by_category": [
            f'tickets_by_category{{category="{label}"}} {count}'
            for label, count in by_label.items()
        ],
        "tickets_last_success_timestamp_seconds": [
            f"tickets_last_success_timestamp_seconds {_number(started)}"
        ],
    }


def previous_samples(path: str) -> dict[str, list[str]]:
    """The carried-over samples of the previous file (none if it is unreadable)."""
    samples: dict[str, list[str]] = {}
    try:
        with open(path, encoding="utf-8", newline="\n") as handle:
            for line in handle:
                match = _SAMPLE_NAME.match(line)
                if match and match.group(1) in CARRIED_OVER:
                    samples.setdefault(match.group(1), []).append(line.rstrip("\n"))
    except (OSError, UnicodeDecodeError):
        return {}
    return samples


def render(samples: Mapping[str, list[str]]) -> str:
    lines = []
    for name, text in METRICS.items():
        if samples.get(name):
            lines += [f"# HELP {name} {text}", f"# TYPE {name} gauge", *samples[name]]
    return "\n".join(lines) + "\n"


def write_metrics(
    path: str,
    started: float,
    duration: float,
    exit_code: int,
    figures: Figures | None,
    stats: Stats | None = None,
) -> bool:
    """Write the metrics file atomically; warn (one line) and return False on failure."""
    samples = success_samples(figures, started) if figures else previous_samples(path)
    stats = stats or Stats()
    for name, value in [
        ("tickets_last_run_timestamp_seconds", _number(started)),
        ("tickets_last_run_exit_code", str(exit_code)),
        ("tickets_run_duration_seconds", _number(duration)),
        ("tickets_run_pages", str(stats.pages)),
        ("tickets_run_http_requests", str(stats.requests)),
        ("tickets_run_rate_limit_wait_seconds", _number(float(stats.waited))),
    ]:
        samples[name] = [f"{name} {value}"]
    try:
        # 0644: node_exporter runs as another user.
        write_atomic(path, render(samples).encode("utf-8"), mode=0o644)
    except OSError as exc:
        warn(f"cannot write metrics file {path!r}: {describe_os_error(exc)}")
        return False
    return True
