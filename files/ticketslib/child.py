"""A second process that takes work off the run: the run parses the ticket
list while this process formats and writes the report (the second core).

It is forked before the run starts a thread or opens a connection, and fed
messages (a kind and a few byte strings) through a pipe, handled in order. It
answers once, through a second pipe, when it is told to finish or when a
message fails: "0", or an exit code and the one-line error. It never outlives
the run: it ends when its pipe closes (the run failed, or was killed by any
signal), the run kills it when it stops early, and it ignores SIGINT (a
Ctrl-C reaches the run, which stops it) and dies quietly on SIGTERM.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
from collections.abc import Callable
from typing import BinaryIO

from .errors import DataError, FetchError, Terminated, TicketsError, UsageError, WriteError

# The pipe holds about one part of the ticket list, so the run rarely waits.
PIPE_BYTES = 1024 * 1024
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # (Python 3.10+ names it)
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
FINISH = 0  # the last message: answer "0" when it was handled

_ERRORS = {cls.exit_code: cls for cls in (UsageError, FetchError, DataError, WriteError)}

Handler = Callable[[int, "list[bytes]"], None]


class ChildDied(Exception):
    """The process ended without an answer: killed, or crashed."""


class Child:
    """The process, from the run's side."""

    def __init__(self, handle: Handler) -> None:
        """Fork a process that calls handle(kind, payloads) for each message.

        The caller blocks SIGINT and SIGTERM around it (ReportWriter does): a
        signal handled while Python runs its at-fork callbacks (logging's)
        would be lost. The process unblocks them for itself.

        Raises OSError when no process can be started.
        """
        inbox, self._outbox = os.pipe()
        answers, answer = os.pipe()
        with contextlib.suppress(OSError):  # only a larger buffer; the limit may be lower
            fcntl.fcntl(self._outbox, F_SETPIPE_SZ, PIPE_BYTES)
        try:
            self.pid = os.fork()
        except OSError:
            for fd in (inbox, self._outbox, answers, answer):
                os.close(fd)
            raise
        if self.pid == 0:  # the child: it never returns from here
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
                os.close(self._outbox)
                os.close(answers)
                code = _serve(open(inbox, "rb"), answer, handle)  # noqa: SIM115
            finally:
                os._exit(code)
        os.close(inbox)
        os.close(answer)
        self._out: BinaryIO = open(self._outbox, "wb")  # noqa: SIM115 - closed in stop
        self._answers = answers
        self._poll = select.poll()
        self._poll.register(answers, select.POLLIN)
        self._answer: list[bytes] = []
        self._status: int | None = None

    def send(self, kind: int, *payloads: bytes | memoryview) -> None:
        """Queue a message; raise the error of an earlier one, if any."""
        if self._poll.poll(0):  # it answered (an error) or ended
            raise self._error(*self._reap())
        header = struct.pack(f"<BB{len(payloads)}Q", kind, len(payloads), *map(len, payloads))
        try:
            self._out.write(header)
            for payload in payloads:
                self._out.write(payload)
            self._out.flush()
        except BrokenPipeError:
            raise self._error(*self._reap()) from None

    def finish(self) -> None:
        """Send FINISH and wait until every message was handled; raise the
        error of the first that failed."""
        self.send(FINISH)
        self._close()
        answer, status = self._reap()
        if answer != "0":
            raise self._error(answer, status)

    def stop(self, kill: bool = True) -> TicketsError | None:
        """Close the pipe and reap the process, killed first unless asked to
        let it handle what it was sent: then the error of the first message
        that failed, if one did."""
        if self._status is not None:
            return None
        self._close()
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        answer, _ = self._reap()
        error = _answered_error(answer)
        return None if kill else error

    def _close(self) -> None:
        with contextlib.suppress(OSError):  # a broken pipe: it ended already
            self._out.close()

    def _reap(self) -> tuple[str, int]:
        """(Once the process answered, or ended.)  Its answer and wait status.

        Safe to call again after a signal interrupted it."""
        if self._answers >= 0:
            while chunk := os.read(self._answers, 4096):
                self._answer.append(chunk)
            os.close(self._answers)
            self._answers = -1
        if self._status is None:
            self._status = os.waitpid(self.pid, 0)[1]
        return b"".join(self._answer).decode("utf-8", "replace"), self._status

    @staticmethod
    def _error(answer: str, status: int) -> BaseException:
        """What failed: the error it answered, or how it ended without one."""
        error = _answered_error(answer)
        if error is not None:
            return error
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM:
            return Terminated()  # the run's own SIGTERM: the same end
        if os.WIFSIGNALED(status):
            return ChildDied(f"killed by {signal.Signals(os.WTERMSIG(status)).name}")
        return ChildDied(f"exit status {os.waitstatus_to_exitcode(status)}")


def _answered_error(answer: str) -> TicketsError | None:
    code, _, message = answer.partition(" ")
    if not code.isdigit() or code == "0":
        return None
    error = _ERRORS.get(int(code), TicketsError)(message)
    error.exit_code = int(code)
    return error


def _serve(inbox: BinaryIO, answer: int, handle: Handler) -> int:
    """(In the child.)  Handle messages until FINISH, a failure or the end
    of the pipe; the exit status."""
    while True:
        head = inbox.read(2)
        if len(head) < 2:
            return 1  # the run is gone or gave up: nothing to answer
        kind, count = head
        lengths = struct.unpack(f"<{count}Q", inbox.read(8 * count))
        payloads = [inbox.read(length) for length in lengths]
        if sum(map(len, payloads)) < sum(lengths):
            return 1
        try:
            handle(kind, payloads)
        except TicketsError as exc:
            os.write(answer, f"{exc.exit_code} {exc}".encode())
            return 1
        except Exception as exc:  # a bug: still one line for the run
            os.write(answer, f"1 the report process failed: {type(exc).__name__}: {exc}".encode())
            return 1
        if kind == FINISH:
            os.write(answer, b"0")
            return 0
