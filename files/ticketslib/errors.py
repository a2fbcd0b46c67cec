"""Exit codes, the errors the tool reports as one line, and warnings."""

from __future__ import annotations

import errno
import os
import sys

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_FETCH = 3
EXIT_DATA = 4
EXIT_WRITE = 5

EXIT_CODES_HELP = """\
exit codes:
  0  report printed and saved
  2  usage or configuration error (bad flag, bad environment variable, token file)
  3  fetching failed (API unreachable, timeout, HTTP error, response too large, input unreadable)
  4  invalid data (not JSON, wrong shape, a ticket without id/category/status)
  5  cannot write the report (log directory not writable, disk full)
  130/143  interrupted (SIGINT/SIGTERM); no report is left behind
"""


class TicketsError(Exception):
    """An expected failure: one line for the operator and an exit code."""

    exit_code = 1


class UsageError(TicketsError):
    exit_code = EXIT_USAGE


class FetchError(TicketsError):
    exit_code = EXIT_FETCH


class DataError(TicketsError):
    exit_code = EXIT_DATA


class WriteError(TicketsError):
    exit_code = EXIT_WRITE


class Terminated(BaseException):
    """SIGTERM arrived (the unit's timeout, `timeout` under cron, a stop)."""


def describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    return exc.strerror or str(exc)


# syslog priorities, as the journal reads them from a "<N>" line prefix.
PRIORITY_ERR = 3
PRIORITY_WARNING = 4


def stderr_is_journal() -> bool:
    """Whether stderr is the journal: JOURNAL_STREAM names its "device:inode"."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        info = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return stream == f"{info.st_dev}:{info.st_ino}"


def say(priority: int, line: str) -> None:
    """One line on stderr; with the journal on stderr, prefixed "<priority>"."""
    prefix = f"<{priority}>" if stderr_is_journal() else ""
    print(f"{prefix}{line}", file=sys.stderr, flush=True)


def error(message: str) -> None:
    say(PRIORITY_ERR, f"tickets: error: {message}")


def warn(message: str) -> None:
    say(PRIORITY_WARNING, f"tickets: warning: {message}")
