"""--every: run on a grid aligned to UTC midnight, in the foreground (for
containers that have neither systemd nor cron)."""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone

from .errors import Terminated

DAY = 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(?:(\d+)([smhd]))+")
_PART = re.compile(r"(\d+)([smhd])")

# Exit codes of a run stopped by a signal: the loop stops too.
INTERRUPTED = (130, 143)


def duration(value: str) -> int:
    """'3h', '30m', '1h30m', '90s' or '1d' as seconds (argparse type)."""
    text = value.strip().lower()
    if not _DURATION.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"expected a duration like 3h, 30m, 1h30m or 1d, got {value!r}"
        )
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    if not 0 < seconds <= DAY:
        raise argparse.ArgumentTypeError(f"expected a duration from 1s to 1d, got {value!r}")
    return seconds


def next_tick(now: float, period: int) -> float:
    """The first time after now on the grid period, 2*period, ... from UTC midnight.

    The grid starts again at each midnight (with 7h: 00:00, 07:00, 14:00, 21:00).
    """
    midnight = now - now % DAY
    tick = midnight + (int((now - midnight) // period) + 1) * period
    return min(tick, midnight + DAY)


def every(period: int, run_once: Callable[[], int]) -> int:
    """Run run_once at each tick until SIGTERM/SIGINT (exit 0 between runs).

    A failed run was reported by run_once; the loop goes on. A run stopped by
    a signal stops the loop with its exit code.
    """
    try:
        while True:
            tick = next_tick(time.time(), period)
            when = datetime.fromtimestamp(tick, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            print(f"tickets: next run at {when}", flush=True)
            while (left := tick - time.time()) > 0:
                time.sleep(min(left, 60.0))  # a signal's exception ends the sleep at once
            code = run_once()
            if code in INTERRUPTED:
                return code
    except (KeyboardInterrupt, Terminated):
        # Only between runs: run_once handles the signals of its own run.
        print("tickets: stopped", file=sys.stderr, flush=True)
        return 0
