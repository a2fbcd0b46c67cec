"""Output: the JSON report file (streamed, byte for byte what
json.dump(indent=4, ensure_ascii=False) writes, saved atomically under a unique
name), the console report, and pruning old reports."""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
import re
import shutil
import signal
import tempfile
from typing import IO

import msgspec

from .child import FINISH, STOP_SIGNALS, Child, ChildDied
from .errors import TicketsError, WriteError, describe_os_error, warn
from .parse import CHUNK_SIZE, FLOATS, Batch, Tally, Ticket, decode

WRITEBACK_BYTES = 8 * 1024 * 1024
TIMESTAMP_FORMAT = "%y-%m-%d %H-%M-%S"
# Names this tool gives its reports; --keep only ever deletes files that match.
REPORT_NAME = re.compile(
    r"(?:\d{2}-\d{2}-\d{2} \d{2}-\d{2}-\d{2}|[2-9A-HJ-NP-Za-km-z]{22})(?:-\d+)?\.json"
)

LABELS = {
    "ru": {
        "title": "📊 Отчёт по тикетам",
        "open": "Открытые тикеты",
        "by_category": "Количество тикетов по категориям",
        "saved": "Отчёт сохранён",
        "more": "  ... и ещё {count} в файле отчёта",
    },
    "en": {
        "title": "📊 Tickets report",
        "open": "Open tickets",
        "by_category": "Tickets per category",
        "saved": "Report saved",
        "more": "  ... and {count} more in the report file",
    },
}


# Tickets nested three deep, as in {"open": {"tickets": [...]}}, come out of
# msgspec.json.format already indented for the report, between these two.
_NESTED_HEAD = b"[\n    [\n        [\n"
_NESTED_TAIL = b"\n        ]\n    ]\n]"

# Escapes in JSON text that the json module writes the same way (ensure_ascii=False).
_ESCAPE = re.compile(rb"\\(?:u[0-9a-fA-F]{4}|.)", re.DOTALL)
_JSON_ESCAPES = frozenset(
    json.dumps(chr(code), ensure_ascii=False)[1:-1].encode()
    for code in [*range(0x20), ord('"'), ord("\\")]
)
# Digits as "0", what makes a number a float as ".", anything else as " ".
_FLOAT_MARKS = bytes(
    ord("0") if byte in b"0123456789" else ord(".") if byte in b".eE" else ord(" ")
    for byte in range(256)
)
# A number that is a float (the json module may write it another way) or -0.
_FLOAT_OR_MINUS_ZERO = re.compile(rb"[:,\[][ \t\r\n]*(?:-?[0-9]+[.eE]|-0)")


def written_as_sent(text: bytes) -> bool:
    """Whether msgspec.json.format(text) is what the json module writes for it.

    True when its strings hold only the escapes the json module writes and
    its numbers are integers other than -0: then the text differs from
    json.dumps only by its spacing, which msgspec.json.format sets.  False
    also for some text that would do (a string holding ": 1.5", say).
    """
    if b"\\" in text and not _JSON_ESCAPES.issuperset(_ESCAPE.findall(text)):
        return False
    if b"0." in text.translate(_FLOAT_MARKS) or (b"-" in text and b"-0" in text):
        return not _FLOAT_OR_MINUS_ZERO.search(text)
    return True


def encode_tickets(tickets: Batch) -> memoryview:
    """Tickets as json.dump(indent=4) writes them inside {"open": {"tickets": [...]}}.

    The text of the list as it was sent, formatted, when that is exact;
    otherwise the tickets decoded and encoded again.
    """
    text = tickets.selected_text()
    if text is not None and written_as_sent(text):
        compact = b"[[" + text + b"]]"
    else:
        items = tickets.items if tickets.items is not None else decode(text or b"[]")
        nested = [[items]]
        if FLOATS.seen:
            compact = json.dumps(nested, ensure_ascii=False).encode()
        else:
            compact = msgspec.json.encode(nested)
    pretty = msgspec.json.format(compact, indent=4)
    return memoryview(pretty)[len(_NESTED_HEAD) : -len(_NESTED_TAIL)]


# What ticket data must not carry onto a console or into the journal: control
# characters (C0, DEL, C1), line and paragraph separators, bidi overrides.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# The fast check works on the UTF-8 bytes with printable ASCII and newlines
# deleted (a C-speed pass): what is left is control bytes or whole multibyte
# characters, whose lead bytes make these patterns exact.
_SAFE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"
_NON_ASCII = bytes(range(0x80, 0x100))
# The unsafe non-ASCII characters in UTF-8, by lead bytes.
_UNSAFE_UTF8 = {
    b"\xc2": [bytes([0xC2, b]) for b in range(0x80, 0xA0)],
    b"\xe2\x80": [bytes([0xE2, 0x80, b]) for b in range(0xA8, 0xAF)],
    b"\xe2\x81": [bytes([0xE2, 0x81, b]) for b in range(0xA6, 0xAA)],
}


def _has_unsafe(data: bytes) -> bool:
    """Whether UTF-8 DATA holds a character _UNSAFE matches, other than newline."""
    rest = data.translate(None, _SAFE_ASCII)
    if not rest:
        return False
    if rest.translate(None, _NON_ASCII):
        return True  # an ASCII control character
    # Substring searches (C speed): the lead bytes first, then the characters.
    return any(
        lead in rest and any(char in rest for char in chars) for lead, chars in _UNSAFE_UTF8.items()
    )


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape(value: object) -> str:
    """VALUE as one safe console line fragment: unsafe characters escaped
    Python-style (\\n, \\x1b, \\u2028); other text, backslashes included, as is."""
    return _UNSAFE.sub(_escape_char, str(value))


_CONSOLE_LINE = "  - id: %s  category: %s\n"


def console_lines(tickets: list[Ticket]) -> bytes:
    """The console lines of unresolved tickets, as the report prints them.

    One format operation for all of them: the line repeated, then filled
    with each ticket's id and category in turn. Clean data (the common case)
    has one newline per ticket and nothing else unsafe; otherwise the id and
    category are escaped.
    """
    values: list[int | str] = [""] * (2 * len(tickets))
    values[0::2] = [t.id for t in tickets]
    values[1::2] = [t.category for t in tickets]
    data = ((_CONSOLE_LINE * len(tickets)) % tuple(values)).encode()
    if data.count(b"\n") != len(tickets) or _has_unsafe(data):
        lines = [f"  - id: {escape(t.id)}  category: {escape(t.category)}\n" for t in tickets]
        data = "".join(lines).encode()
    return data


# What the report's body receives: bytes for the report file or the console
# lines, as they are; or the text of a part of the list, the mask of its
# unresolved tickets and their fields (msgpack), to format.
_WRITE, _CONSOLE, _PART = 1, 2, 3
_TICKETS_OUT = msgspec.msgpack.Encoder()
_TICKETS_IN = msgspec.msgpack.Decoder(list[Ticket])


class ReportBody:
    """Writes the report's text to its temporary file, and the console lines
    to theirs: in the report process (ticketslib.child), or in the run itself
    when no process can be started."""

    def __init__(self, fd: int, console: IO[bytes], log_dir: str) -> None:
        self.file: IO[bytes] = open(fd, "wb")  # noqa: SIM115 - closed in finish/close
        self.console = console
        self.log_dir = log_dir
        self._unsynced = 0

    def handle(self, kind: int, payloads: list[bytes]) -> None:
        """One message of ReportWriter (raises WriteError or DataError)."""
        try:
            if kind == _WRITE:
                self._write(payloads[0])
            elif kind == _CONSOLE:
                self.console.write(payloads[0])
            elif kind == _PART:
                separator, text, mask, tickets = payloads
                self._write(separator)
                self._write(encode_tickets(Batch(text=text, mask=mask or None)))
                self.console.write(console_lines(_TICKETS_IN.decode(tickets)))
            elif kind == FINISH:
                self.file.flush()
                os.fsync(self.file.fileno())
                self.file.close()
                self.console.flush()
        except OSError as exc:
            raise WriteError(
                f"cannot write report in {self.log_dir!r}: {describe_os_error(exc)}"
            ) from None

    def _write(self, data: bytes | memoryview) -> None:
        """Every few MiB, start writing the file back to disk, so that the
        fsync at the end has little left to wait for."""
        self.file.write(data)
        self._unsynced += len(data)
        if self._unsynced >= WRITEBACK_BYTES and hasattr(os, "posix_fadvise"):
            self._unsynced = 0
            self.file.flush()
            with contextlib.suppress(OSError):  # only a hint to the kernel
                os.posix_fadvise(self.file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()


class ReportWriter:
    """Streams a report into a hidden temporary file in the log directory.

    ``publish`` fsyncs it and hard-links it under a name that no other file
    has, so a report is never partial and never replaces another one;
    ``discard`` removes it.  The console lines of the unresolved tickets are
    spooled on the side (an unnamed file in the log directory), since their
    count is printed before them.

    The unresolved tickets are picked out of their part's text, formatted and
    written, with their console lines, by a second process (ticketslib.child),
    in order, while the run parses the next part; where no process can be
    started, by the run itself.
    """

    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir
        self.tmp_path = ""
        self._child: Child | None = None
        # SIGINT and SIGTERM wait until the writer has started (its file made,
        # the report process forked): a run stopped then leaves no file behind.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            try:
                os.makedirs(log_dir, exist_ok=True)
                fd, self.tmp_path = tempfile.mkstemp(prefix=".tickets-", suffix=".tmp", dir=log_dir)
            except OSError as exc:
                raise WriteError(
                    f"cannot write to log directory {log_dir!r}: {describe_os_error(exc)}"
                ) from None
            self._start(fd)
            # The handler of a signal that came meanwhile runs here.
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        except BaseException:
            if self._child is not None:
                self._child.stop()
            if self.tmp_path:
                with contextlib.suppress(OSError):
                    os.unlink(self.tmp_path)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            raise

    def _start(self, fd: int) -> None:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        try:
            # (Shared with the report process, which writes it.)
            self.console = tempfile.TemporaryFile(dir=self.log_dir)  # noqa: SIM115
        except OSError as exc:
            os.close(fd)
            raise WriteError(
                f"cannot write to log directory {self.log_dir!r}: {describe_os_error(exc)}"
            ) from None
        self.first = True
        self._body = ReportBody(fd, self.console, self.log_dir)
        with contextlib.suppress(OSError):  # e.g. a process limit: write here instead
            self._child = Child(self._body.handle)
            self._body.close()  # (the child's now; nothing was written)
        self._send(_WRITE, b'{\n    "open": {\n        "tickets": [')

    def _send(self, kind: int, *payloads: bytes | memoryview) -> None:
        if self._child is None:
            self._body.handle(kind, list(payloads))  # type: ignore[arg-type]
            return
        try:
            self._child.send(kind, *payloads)
        except ChildDied as exc:
            raise self._died(exc) from None

    def _died(self, exc: ChildDied) -> WriteError:
        return WriteError(
            f"cannot write report in {self.log_dir!r}: the report process ended ({exc})"
        )

    def add_open(self, tickets: Batch) -> None:
        """Append unresolved tickets to both outputs."""
        if not tickets.tickets:
            return
        separator = b"\n" if self.first else b",\n"
        fields = None
        if tickets.text is not None and self._child is not None:
            with contextlib.suppress(OverflowError):  # an id beyond 64 bits
                fields = _TICKETS_OUT.encode(tickets.tickets)
        if fields is not None:
            self._send(_PART, separator, tickets.text or b"", tickets.mask or b"", fields)
        else:
            self._send(_WRITE, separator + encode_tickets(tickets))
            self._send(_CONSOLE, console_lines(tickets.tickets))
        self.first = False

    def publish(self, open_count: int, by_category: dict[str, int], stem: str) -> str:
        """Finish the file, make it durable and give it its unique name."""
        categories = json.dumps(by_category, ensure_ascii=False, indent=4)
        tail = (
            ("]" if self.first else "\n        ]")
            + f',\n        "count": {open_count}\n    }},\n    "by_category": '
            + categories.replace("\n", "\n    ")
            + "\n}"
        )
        self._send(_WRITE, tail.encode())
        if self._child is None:
            self._body.handle(FINISH, [])
        else:
            try:
                self._child.finish()
            except ChildDied as exc:
                raise self._died(exc) from None
        try:
            path = self._link_unique(stem)
            with contextlib.suppress(FileNotFoundError):  # gone if it was renamed
                os.unlink(self.tmp_path)
            fsync_dir(self.log_dir)
        except OSError as exc:
            raise WriteError(
                f"cannot save report in {self.log_dir!r}: {describe_os_error(exc)}"
            ) from None
        return path

    def _link_unique(self, stem: str) -> str:
        """Link the temporary file to STEM.json, or STEM-2.json, ... if taken."""
        for attempt in range(1, 1000):
            name = f"{stem}.json" if attempt == 1 else f"{stem}-{attempt}.json"
            path = os.path.join(self.log_dir, name)
            try:
                os.link(self.tmp_path, path)
                return path
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
                os.replace(self.tmp_path, path)
                return path
        raise OSError(errno.EEXIST, f"no free name for {stem!r}")

    def discard(self, failed_first: bool = False) -> TicketsError | None:
        """Remove the temporary file (after a failure).

        With ``failed_first``, let the report process handle what it was sent
        first: the error of tickets added before the failure, if one came of
        them (it comes first in the list); otherwise the process is killed.
        """
        earlier = None
        if self._child is not None:
            earlier = self._child.stop(kill=not failed_first)
        self._body.close()
        with contextlib.suppress(OSError):
            os.unlink(self.tmp_path)
        self.console.close()
        return earlier


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def print_report(
    out: IO[bytes],
    writer: ReportWriter,
    tally: Tally,
    path: str,
    lang: str,
    color: bool,
    max_list: int | None = None,
) -> None:
    labels = LABELS[lang]

    def heading(text: str) -> str:
        return f"\033[1m{text}\033[0m" if color else text

    out.write(
        f"\n{heading(labels['title'])}\n\n{heading(labels['open'])}: {tally.open_count}\n".encode()
    )
    writer.console.seek(0)
    if max_list is None or max_list >= tally.open_count:
        shutil.copyfileobj(writer.console, out, CHUNK_SIZE)
    else:
        out.writelines(itertools.islice(writer.console, max_list))
        more = labels["more"].format(count=tally.open_count - max_list)
        out.write(f"{more}\n".encode())
    lines = [f"\n{heading(labels['by_category'])}:\n"]
    lines += [f"  - {escape(category)}: {count}\n" for category, count in tally.by_category.items()]
    lines.append(f"\n{labels['saved']}: {path}\n")
    out.write("".join(lines).encode())
    out.flush()


def prune(log_dir: str, keep: int) -> int:
    """Delete all but the newest ``keep`` reports this tool wrote in log_dir."""
    reports = []
    with os.scandir(log_dir) as entries:
        for entry in entries:
            if REPORT_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                reports.append((entry.stat().st_mtime_ns, entry.name))
    reports.sort(reverse=True)
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
