"""Files the tool writes, all through one helper: a hidden temporary file
beside the destination, locked while it is written, made durable and then
renamed (or hard-linked under a name no other file has); the report names
this tool gives, pruning, and the removal of temporary files that a killed run
left behind."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import signal
import tempfile
import time

from .errors import describe_os_error, warn

TEMP_PREFIX, TEMP_SUFFIX = ".tickets-", ".tmp"
TEMP_NAME = re.compile(r"\.tickets-.*\.tmp")
# A temporary file younger than this is never removed by the cleanup, even
# unlocked: it covers the instant between creating a file and locking it.
STALE_MIN_AGE = 60.0
TIMESTAMP_FORMAT = "%y-%m-%d %H-%M-%S"
# Names this tool gives its reports; --keep only ever deletes files that match.
REPORT_NAME = re.compile(
    r"(?:\d{2}-\d{2}-\d{2} \d{2}-\d{2}-\d{2}|[2-9A-HJ-NP-Za-km-z]{22})(?:-\d+)?\.json"
)
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def own_like_dir(fd: int, directory: str) -> None:
    """As root, give a new file the directory's owner, so that the job (its
    own user) can still write what `sudo tickets --history` created."""
    if os.geteuid() != 0:
        return
    st = os.stat(directory)
    with contextlib.suppress(OSError):
        os.fchown(fd, st.st_uid, st.st_gid)


class TempFile:
    """A temporary file in DIRECTORY, holding an exclusive flock from its
    creation until it is renamed, linked or discarded: the stale-file cleanup
    of another run removes only files whose lock it can take, so it never
    touches a live run's file, however long that run takes.

    SIGINT and SIGTERM wait while the file is made and locked, so that a stop
    at that moment never leaves a file behind (their handler raises at the
    end of __init__, which removes the file again).

    Raises OSError.
    """

    def __init__(self, directory: str, mode: int | None = None, own: bool = False) -> None:
        self.directory = directory
        self.path = ""
        self.fd = -1
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            self.fd, self.path = tempfile.mkstemp(
                prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=directory
            )
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            os.fchmod(self.fd, (0o666 & ~current_umask()) if mode is None else mode)
            if own:
                own_like_dir(self.fd, directory)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        except BaseException:
            self.discard()
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            raise
        # (A large buffer: a report is written in parts of up to a few MiB.)
        self.file = open(self.fd, "wb", buffering=1 << 20, closefd=False)  # noqa: SIM115

    def write(self, data: bytes | memoryview) -> None:
        self.file.write(data)

    def _sync(self) -> None:
        self.file.flush()
        os.fsync(self.fd)

    def _close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                self.file.close()
            os.close(self.fd)  # (releases the lock)
            self.fd = -1

    def replace(self, path: str) -> None:
        """Make the file durable and rename it to PATH (replacing what is there)."""
        self._sync()
        os.replace(self.path, path)
        self.path = ""
        fsync_dir(os.path.dirname(path) or ".")
        self._close()

    def link_unique(self, stem: str) -> str:
        """Make the file durable and give it the name STEM.json, or STEM-2.json,
        ... if taken: never another file's. Returns the path."""
        self._sync()
        for attempt in range(1, 1000):
            name = f"{stem}.json" if attempt == 1 else f"{stem}-{attempt}.json"
            path = os.path.join(self.directory, name)
            try:
                os.link(self.path, path)
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS):
                    raise
                # No hard links on this file system: reserve the name, then
                # replace the empty reservation by the finished file.
                try:
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                except FileExistsError:
                    continue
                os.replace(self.path, path)
            self.discard()  # the temporary name (gone if it was renamed)
            fsync_dir(self.directory)
            return path
        raise OSError(errno.EEXIST, f"no free name for {stem!r}")

    def discard(self) -> None:
        """Remove the file (after a failure, or its temporary name after a link)."""
        if self.path:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self.path = ""
        self._close()


def write_atomic(path: str, data: bytes, mode: int | None = None, own: bool = False) -> None:
    """Write DATA to PATH atomically: a reader sees the old file or the new one.

    Raises OSError.
    """
    temp = TempFile(os.path.dirname(path) or ".", mode, own)
    try:
        temp.write(data)
        temp.replace(path)
    finally:
        temp.discard()


def report_names(log_dir: str) -> dict[str, int]:
    """The reports this tool wrote in LOG_DIR: name -> mtime (ns). Raises OSError."""
    names = {}
    with os.scandir(log_dir) as entries:
        for entry in entries:
            if REPORT_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    names[entry.name] = entry.stat(follow_symlinks=False).st_mtime_ns
    return names


def prune(log_dir: str, keep: int) -> int:
    """Delete all but the newest KEEP reports this tool wrote in LOG_DIR."""
    try:
        reports = sorted(((m, n) for n, m in report_names(log_dir).items()), reverse=True)
    except OSError as exc:
        warn(f"cannot list old reports in {log_dir!r}: {describe_os_error(exc)}")
        return 0
    removed = 0
    for _, name in reports[keep:]:
        try:
            os.unlink(os.path.join(log_dir, name))
            removed += 1
        except FileNotFoundError:
            pass  # a concurrent run pruned it already
        except OSError as exc:
            warn(f"cannot remove old report {name!r}: {describe_os_error(exc)}")
    return removed


def remove_stale_temp_files(directory: str, min_age: float = STALE_MIN_AGE) -> int:
    """Remove the .tickets-*.tmp regular files that no live run holds.

    A writer keeps its file locked until it is done with it, and the kernel
    drops the lock of a killed process: a file whose lock can be taken (and
    that is older than MIN_AGE) was left behind. Nothing else is touched.
    """
    removed = 0
    limit = time.time() - min_age
    try:
        entries = [entry for entry in os.scandir(directory) if TEMP_NAME.fullmatch(entry.name)]
    except OSError:
        return 0  # the run itself reports an unusable directory
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
            if not entry.is_file(follow_symlinks=False) or info.st_mtime >= limit:
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            continue  # gone meanwhile, or not ours to open
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino != os.lstat(entry.path).st_ino:
                continue  # the name points to another file now
            os.unlink(entry.path)
            removed += 1
        except (BlockingIOError, FileNotFoundError):
            pass  # a live run holds it, or a concurrent run removed it
        except OSError as exc:
            warn(f"cannot remove stale temporary file {entry.name!r}: {describe_os_error(exc)}")
        finally:
            os.close(fd)
    return removed
