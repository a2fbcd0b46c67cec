"""glibc's malloc, tuned for a run that streams.

A run allocates and frees blocks of about 1 MiB over and over (a part of the
list, its text formatted for the report). By default glibc gives freed blocks
of that size back to the kernel (its mmap threshold and heap trimming) and asks
for them again, and the kernel hands them out zeroed, page by page: about a
tenth of a large run's CPU time. Keeping up to a few MiB of freed memory for
reuse avoids that; peak memory is unchanged. Elsewhere (not glibc, or no
ctypes) nothing changes.
"""

from __future__ import annotations

import contextlib

M_TRIM_THRESHOLD = -1  # (glibc's malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 4 * 1024 * 1024  # blocks up to this size come from the heap
TRIM_THRESHOLD = 64 * 1024 * 1024  # free memory kept at the top of the heap


def keep_freed_blocks() -> None:
    """Tune malloc (this process and the ones it forks later), if it is glibc's."""
    with contextlib.suppress(ImportError, OSError, AttributeError, MemoryError):
        import ctypes  # (here: a Python without ctypes runs all the same)

        mallopt = ctypes.CDLL(None).mallopt
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
