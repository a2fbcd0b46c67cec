"""Housekeeping: temporary files that a killed run (SIGKILL, the OOM killer)
left behind."""

from __future__ import annotations

import contextlib
import os
import re
import time

from .errors import describe_os_error, warn

# Older than the longest a run may take (the role stops a run after 900 s by
# default), so that a run never removes the file of a run still going.
STALE_AFTER_SECONDS = 3600
# What ReportWriter and write_metrics name their temporary files.
TEMP_NAME = re.compile(r"\.tickets-.*\.tmp")


def remove_stale_temp_files(directory: str, max_age: float = STALE_AFTER_SECONDS) -> int:
    """Remove .tickets-*.tmp regular files older than max_age s; touch nothing else."""
    removed = 0
    limit = time.time() - max_age
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0  # the run itself reports an unusable directory
    for entry in entries:
        if not TEMP_NAME.fullmatch(entry.name):
            continue
        with contextlib.suppress(FileNotFoundError):
            if not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime >= limit:
                continue
            try:
                os.unlink(entry.path)
                removed += 1
            except FileNotFoundError:
                pass  # a concurrent run removed it
            except OSError as exc:
                warn(f"cannot remove stale temporary file {entry.name!r}: {describe_os_error(exc)}")
    return removed
