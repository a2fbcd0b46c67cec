#!/usr/bin/env python3
"""Report on a helpdesk's tickets.

Fetches a JSON list of tickets from an HTTP API (or reads it from a file),
prints how many tickets are unresolved (and which) and how many tickets there
are per category, and saves the same report as JSON under a unique name in a
log directory.

The ticket list is streamed: memory stays flat however long the list is.
Runs on Python 3.9+; needs the packages pinned in requirements.txt.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import math
import os
import re
import shutil
import signal
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from itertools import compress
from operator import itemgetter
from typing import IO, Any
from urllib.parse import urlsplit

try:
    import msgspec
    import requests
    import shortuuid
    import urllib3
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry
except ImportError as exc:  # pragma: no cover - depends on the environment
    sys.exit(
        f"tickets: error: Python package {exc.name!r} is missing: "
        "install requirements.txt (pip install -r requirements.txt)"
    )

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

CHUNK_SIZE = 256 * 1024  # read size
BATCH_BYTES = 1024 * 1024  # tickets are parsed about this much at a time
HEAD_BYTES = 1024 * 1024  # where the "tickets" key of {"tickets": [...]} is looked for
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
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
    },
    "en": {
        "title": "📊 Tickets report",
        "open": "Open tickets",
        "by_category": "Tickets per category",
        "saved": "Report saved",
    },
}


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


# --------------------------------------------------------------------------
# The report logic
# --------------------------------------------------------------------------


def bad_ticket(index: int, ticket: Any) -> DataError | None:
    """Why the ticket at ``index`` is not a valid ticket (None if it is)."""
    where = f"ticket at index {index}"
    if not isinstance(ticket, dict):
        return DataError(f"{where} is not a JSON object")
    for field in ("id", "category", "status"):
        if field not in ticket:
            return DataError(f"{where} has no {field!r} field")
    ticket_id = ticket["id"]
    if isinstance(ticket_id, bool) or not isinstance(ticket_id, (int, str)):
        return DataError(f"{where}: 'id' must be a string or an integer")
    for field in ("category", "status"):
        if not isinstance(ticket[field], str):
            return DataError(f"{where}: {field!r} must be a string")
    return None


_ID, _CATEGORY, _STATUS = itemgetter("id"), itemgetter("category"), itemgetter("status")
_STR = frozenset({str})
_ID_TYPES = frozenset({int, str})


class Tally:
    """Validates tickets batch by batch and counts them.

    ``by_category`` counts all tickets, categories in first-seen order;
    ``add`` returns the unresolved tickets of a batch, in input order.
    """

    def __init__(self, open_statuses: Iterable[str]) -> None:
        self.open_statuses = frozenset(open_statuses)
        self.by_category: Counter[str] = Counter()
        self.open_count = 0
        self.seen = 0

    def add(self, batch: list[Any]) -> list[dict[str, Any]]:
        try:
            ids_ok = _ID_TYPES.issuperset(map(type, map(_ID, batch)))
            categories = list(map(_CATEGORY, batch))
            statuses = list(map(_STATUS, batch))
        except (KeyError, TypeError, IndexError):
            raise self._first_bad(batch) from None
        if not (
            ids_ok
            and _STR.issuperset(map(type, categories))
            and _STR.issuperset(map(type, statuses))
        ):
            raise self._first_bad(batch)
        self.by_category.update(categories)
        self.seen += len(batch)
        unresolved = list(compress(batch, map(self.open_statuses.__contains__, statuses)))
        self.open_count += len(unresolved)
        return unresolved

    def _first_bad(self, batch: list[Any]) -> DataError:
        errors = (bad_ticket(self.seen + offset, t) for offset, t in enumerate(batch))
        return next(filter(None, errors), DataError("invalid ticket"))


def summarize(tickets: list[Any], open_statuses: Iterable[str] = ("open",)) -> dict[str, Any]:
    """The report as a plain dict: what the JSON file holds."""
    tally = Tally(open_statuses)
    unresolved = tally.add(tickets)
    return {
        "open": {"tickets": unresolved, "count": tally.open_count},
        "by_category": dict(tally.by_category),
    }


# --------------------------------------------------------------------------
# Output: the JSON file (streamed, byte for byte what json.dump(indent=4,
# ensure_ascii=False) writes) and the console lines of the unresolved tickets
# --------------------------------------------------------------------------


class FloatWatch:
    """msgspec float_hook that notes whether the input holds any float.

    msgspec writes some floats differently from Python (1e-05 as 0.00001), so
    once a float was read the json module writes the values instead.
    """

    seen = False

    def __call__(self, text: str) -> float:
        self.seen = True
        value = float(text)
        if not math.isfinite(value):
            raise DataError(f"a number is out of range: {text[:40]}")
        return value


FLOATS = FloatWatch()
DECODER = msgspec.json.Decoder(float_hook=FLOATS)


# Tickets nested three deep, as in {"open": {"tickets": [...]}}, come out of
# msgspec.json.format already indented for the report, between these two.
_NESTED_HEAD = b"[\n    [\n        [\n"
_NESTED_TAIL = b"\n        ]\n    ]\n]"


def encode_tickets(tickets: list[dict[str, Any]]) -> memoryview:
    """Tickets as json.dump(indent=4) writes them inside {"open": {"tickets": [...]}}."""
    nested = [[tickets]]
    if FLOATS.seen:
        compact = json.dumps(nested, ensure_ascii=False).encode()
    else:
        compact = msgspec.json.encode(nested)
    pretty = msgspec.json.format(compact, indent=4)
    return memoryview(pretty)[len(_NESTED_HEAD) : -len(_NESTED_TAIL)]


class ReportWriter:
    """Streams a report into a hidden temporary file in the log directory.

    ``publish`` fsyncs it and hard-links it under a name that no other file
    has, so a report is never partial and never replaces another one;
    ``discard`` removes it.  The console lines of the unresolved tickets are
    spooled on the side, since their count is printed before them.

    Writes run in a background thread, one at a time and in order, so that
    the disk works while the next part of the list is parsed.
    """

    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir
        try:
            os.makedirs(log_dir, exist_ok=True)
            fd, self.tmp_path = tempfile.mkstemp(prefix=".tickets-", suffix=".tmp", dir=log_dir)
        except OSError as exc:
            raise WriteError(
                f"cannot write to log directory {log_dir!r}: {describe_os_error(exc)}"
            ) from None
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        self.file: IO[bytes] = open(fd, "wb")  # noqa: SIM115 - closed in publish/discard
        self.console = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115
        self.first = True
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-writer")
        self._pending: Future[int] | None = None
        self._write(b'{\n    "open": {\n        "tickets": [')

    def _write(self, data: bytes | memoryview) -> None:
        self._wait()
        self._pending = self._writer.submit(self.file.write, data)

    def _write_error(self, exc: OSError) -> WriteError:
        return WriteError(f"cannot write report in {self.log_dir!r}: {describe_os_error(exc)}")

    def _wait(self) -> None:
        """Wait for the previous write; raise its error."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            pending.result()
        except OSError as exc:
            raise self._write_error(exc) from None

    def add_open(self, tickets: list[dict[str, Any]]) -> None:
        """Append unresolved tickets to both outputs."""
        if not tickets:
            return
        self._write(b"\n" if self.first else b",\n")
        self._write(encode_tickets(tickets))
        self.first = False
        lines = [f"  - id: {t['id']}  category: {t['category']}\n" for t in tickets]
        self.console.write("".join(lines).encode())

    def publish(self, open_count: int, by_category: dict[str, int], stem: str) -> str:
        """Finish the file, make it durable and give it its unique name."""
        categories = json.dumps(by_category, ensure_ascii=False, indent=4)
        tail = (
            ("]" if self.first else "\n        ]")
            + f',\n        "count": {open_count}\n    }},\n    "by_category": '
            + categories.replace("\n", "\n    ")
            + "\n}"
        )
        self._write(tail.encode())
        self._wait()
        self._writer.shutdown()
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
        except OSError as exc:
            raise self._write_error(exc) from None
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

    def discard(self) -> None:
        """Remove the temporary file (after a failure)."""
        with contextlib.suppress(WriteError):
            self._wait()
        self._writer.shutdown()
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.tmp_path)
        self.console.close()


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    return exc.strerror or str(exc)


def print_report(
    out: IO[bytes],
    writer: ReportWriter,
    tally: Tally,
    path: str,
    lang: str,
    color: bool,
) -> None:
    labels = LABELS[lang]

    def heading(text: str) -> str:
        return f"\033[1m{text}\033[0m" if color else text

    out.write(
        f"\n{heading(labels['title'])}\n\n{heading(labels['open'])}: {tally.open_count}\n".encode()
    )
    writer.console.seek(0)
    shutil.copyfileobj(writer.console, out, CHUNK_SIZE)
    lines = [f"\n{heading(labels['by_category'])}:\n"]
    lines += [f"  - {category}: {count}\n" for category, count in tally.by_category.items()]
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


# --------------------------------------------------------------------------
# Input: the ticket list, parsed in batches as it streams in
# --------------------------------------------------------------------------

# The start of the ticket list inside {"tickets": [...]} (other keys may come first).
_TICKETS_KEY = re.compile(rb'"tickets"\s*:\s*\[')
_WHITESPACE = b" \t\r\n"


def decode(data: bytes) -> Any:
    try:
        return DECODER.decode(data)
    except msgspec.DecodeError as exc:
        detail = re.sub(r"\s*\(byte \d+\)", "", str(exc))
        raise DataError(f"the response is not valid JSON: {detail}") from None


def capped(chunks: Iterable[bytes], max_bytes: int) -> Iterator[bytes]:
    """Pass chunks through; fail once more than max_bytes went by."""
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(
                f"the response is larger than the limit of {max_bytes} bytes (--max-bytes)"
            )
        if chunk:
            yield chunk


def ticket_batches(chunks: Iterator[bytes]) -> Iterator[list[Any]]:
    """Parse a JSON list of tickets, or {"tickets": [...]}, a batch at a time.

    The list is cut after a ticket's closing brace and parsed by msgspec one
    part (about BATCH_BYTES) at a time, so memory stays flat.  A part parses
    only if the cut is really between two tickets (a brace inside a string or
    a nested object leaves it unterminated); when it does not, the part grows
    and the cut is tried again later.  The rest is parsed whole at the end,
    where any syntax error is reported.
    """
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if buffer.strip(_WHITESPACE):
            break
    if buffer.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark
        del buffer[:3]
    stripped = bytes(buffer).lstrip(_WHITESPACE)
    if not stripped:
        raise DataError("the response is empty: expected a JSON list of tickets")
    start = stripped[:1]
    # From here on the buffer starts with the "[" of the ticket list.
    if start == b"[":
        opening = b""
        del buffer[: buffer.index(b"[")]
    elif start == b"{":
        opening = b'{"tickets":'
        found = _find_tickets_list(buffer, chunks)
        if found < 0:  # tickets are not near the start: parse the body whole
            for chunk in chunks:
                buffer += chunk
            yield from _batches_of(_tickets_of(decode(bytes(buffer))))
            return
        del buffer[: found - 1]
    elif start in b'"-0123456789tfn':
        raise DataError(
            "wrong shape: expected a list of tickets or an object with a 'tickets' list"
        )
    else:
        raise DataError(f"the response is not JSON (it starts with {stripped[:20]!r})")

    try_at = BATCH_BYTES
    for chunk in chunks:
        buffer += chunk
        if len(buffer) < try_at:
            continue
        for end, rest in _cuts(buffer):
            # Parse "[" ... "}]" in place: the byte after the cut becomes "]".
            after_cut = buffer[end]
            buffer[end] = 0x5D  # "]"
            try:
                with memoryview(buffer) as view:
                    batch = DECODER.decode(view[: end + 1])
            except msgspec.DecodeError:
                continue  # not between two tickets (or bad JSON)
            finally:
                buffer[end] = after_cut
            buffer[rest - 1] = 0x5B  # "[": the next part starts the list again
            del buffer[: rest - 1]
            try_at = BATCH_BYTES
            yield batch
            break
        else:  # no cut worked: wait for more (or the end, which reports bad JSON)
            try_at = 2 * len(buffer)
    last = decode(opening + buffer)
    yield _tickets_of(last) if opening else last


def _cuts(buffer: bytearray, tries: int = 4) -> Iterator[tuple[int, int]]:
    """The last few places that look like "}, {" between two tickets.

    Yields (end of the first ticket, start of the next one), last first.
    """
    comma = len(buffer)
    while tries:
        comma = buffer.rfind(b",", 0, comma)
        if comma < 0:
            return
        before, after = comma, comma + 1
        while before > 0 and buffer[before - 1] in _WHITESPACE:
            before -= 1
        while after < len(buffer) and buffer[after] in _WHITESPACE:
            after += 1
        if buffer[before - 1 : before] == b"}" and buffer[after : after + 1] == b"{":
            tries -= 1
            yield before, after


def _find_tickets_list(buffer: bytearray, chunks: Iterator[bytes]) -> int:
    """Offset just after the '[' of the top-level "tickets" list, or -1.

    Looks in the first HEAD_BYTES only.  A match counts when the text up to it,
    completed by ']}', is an object whose "tickets" is an empty list: that is
    proof it is the top-level key and not text inside a string.
    """
    position = 0
    while True:
        match = _TICKETS_KEY.search(buffer, position)
        if match:
            head = bytes(buffer[: match.end()]) + b"]}"
            try:
                value = msgspec.json.decode(head)
            except msgspec.DecodeError:
                value = None
            if isinstance(value, dict) and value.get("tickets") == []:
                return match.end()
            position = match.start() + 1
            continue
        if len(buffer) >= HEAD_BYTES:
            return -1
        chunk = next(chunks, b"")
        if not chunk:
            return -1
        buffer += chunk


def _tickets_of(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if not isinstance(document, dict) or "tickets" not in document:
        raise DataError(
            "wrong shape: expected a list of tickets or an object with a 'tickets' list"
        )
    if not isinstance(document["tickets"], list):
        raise DataError("wrong shape: 'tickets' is not a list")
    return document["tickets"]


def _batches_of(tickets: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(tickets), 5000):
        yield tickets[start : start + 5000]


def redact(url: str) -> str:
    """The URL without credentials or query string, safe to print."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    with contextlib.suppress(ValueError):
        if parts.port:
            host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def connection_reason(exc: BaseException) -> str:
    """A short reason from a requests/urllib3 connection error chain."""
    text = str(exc)
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if reason is not None:
        text = str(reason)
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if match:
        return match.group(1).strip().lower()
    text = re.sub(r"<[^>]*>:?\s*", "", text)
    return text.split("(Caused by")[0].strip().rstrip(":") or type(exc).__name__


def open_api(
    url: str, timeout: float, retries: int, token: str | None, max_bytes: int
) -> Iterator[bytes]:
    """GET the ticket list; return its body as an iterator of chunks."""
    retry = Retry(
        total=retries,
        backoff_factor=0.5,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    headers = {"Accept": "application/json", "User-Agent": "tickets-report/1.0"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    where = redact(url)
    try:
        response = session.get(url, headers=headers, timeout=timeout, stream=True)
    except requests.exceptions.Timeout:
        raise FetchError(f"timed out after {timeout:g} s waiting for {where}") from None
    except requests.exceptions.SSLError as exc:
        raise FetchError(f"TLS error with {where}: {connection_reason(exc)}") from None
    except requests.exceptions.ConnectionError as exc:
        reason = getattr(exc.args[0] if exc.args else None, "reason", None)
        # (urllib3's NewConnectionError, e.g. "connection refused", is a
        # ConnectTimeoutError too.)
        if isinstance(reason, urllib3.exceptions.TimeoutError) and not isinstance(
            reason, urllib3.exceptions.NewConnectionError
        ):
            raise FetchError(f"timed out after {timeout:g} s waiting for {where}") from None
        raise FetchError(f"cannot reach {where}: {connection_reason(exc)}") from None
    except requests.exceptions.RequestException as exc:
        raise FetchError(f"cannot reach {where}: {connection_reason(exc)}") from None
    if response.status_code >= 400:
        response.close()
        raise FetchError(f"{where} answered HTTP {response.status_code} {response.reason}")
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        response.close()
        raise FetchError(
            f"the response is larger than the limit of {max_bytes} bytes"
            f" ({length} bytes; --max-bytes)"
        )

    def chunks() -> Iterator[bytes]:
        try:
            yield from response.iter_content(CHUNK_SIZE)
        except requests.exceptions.RequestException as exc:
            reason = "timed out" if "timed out" in str(exc) else "connection broken"
            raise FetchError(f"the response from {where} ended early: {reason}") from None
        finally:
            response.close()

    return chunks()


def open_input(path: str) -> Iterator[bytes]:
    """Read the ticket list from a file, or stdin for '-'."""
    if path == "-":
        stream = sys.stdin.buffer
    else:
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed by the generator
        except OSError as exc:
            raise FetchError(f"cannot read {path!r}: {describe_os_error(exc)}") from None

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := stream.read(CHUNK_SIZE):
                yield chunk
        except OSError as exc:
            raise FetchError(f"cannot read {path!r}: {describe_os_error(exc)}") from None
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()

    return chunks()


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value if value else default


def env_flag(name: str) -> bool:
    value = (env(name) or "false").lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"{name}={value!r}: expected true or false")


def http_url(value: str) -> str:
    parts = urlsplit(value)
    # Shown only without credentials (user:password@ looks like scheme:...).
    shown = f": {value!r}" if "@" not in value else f": {redact(value)!r}" if "//" in value else ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) URL{shown}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in URL{shown}") from None
    return value


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
    return number


def non_negative_int(value: str) -> int:
    if not value.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value!r}")
    return int(value)


def byte_size(value: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([KMG]i?B?|B)?\s*", value, re.IGNORECASE)
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(
            f"expected a size like 1048576, 512K, 256M or 1G, got {value!r}"
        )
    unit = (match.group(2) or "B")[0].upper()
    return int(match.group(1)) * {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tickets.py",
        description=(
            "Fetch a helpdesk's tickets, print a report (unresolved tickets; tickets per "
            "category) and save it as JSON under a unique name in the log directory. "
            "Every option can also be set by the environment variable named in its help."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--api",
        metavar="URL",
        type=http_url,
        help='ticket API to GET: it answers a JSON list of tickets or {"tickets": [...]} '
        "(env TICKETS_API_URL)",
    )
    source.add_argument(
        "--input",
        metavar="PATH",
        help="read the ticket list from a file instead, '-' for stdin (env TICKETS_INPUT)",
    )
    parser.add_argument(
        "--log",
        metavar="DIR",
        default=env("TICKETS_LOG_DIR", "logs"),
        help="directory for the JSON reports, created when missing (env TICKETS_LOG_DIR; "
        "default: ./logs)",
    )
    parser.add_argument(
        "--uuid",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="name the report with a short UUID instead of the UTC time of the fetch "
        "'YY-MM-DD HH-MM-SS.json' (env TICKETS_USE_UUID=true)",
    )
    parser.add_argument(
        "--keep",
        metavar="N",
        type=non_negative_int,
        default=env("TICKETS_KEEP", "0"),
        help="keep only the newest N reports this tool wrote in DIR; other files are never "
        "touched; 0 keeps all (env TICKETS_KEEP; default: 0)",
    )
    parser.add_argument(
        "--open-status",
        metavar="STATUS",
        action="append",
        help="a status that counts as unresolved; repeat for several (env "
        "TICKETS_OPEN_STATUSES, comma-separated; default: open)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=positive_float,
        default=env("TICKETS_TIMEOUT", "10"),
        help="connect and read timeout (env TICKETS_TIMEOUT; default: 10)",
    )
    parser.add_argument(
        "--retries",
        metavar="N",
        type=non_negative_int,
        default=env("TICKETS_RETRIES", "3"),
        help="retries with exponential backoff on connection errors, 429 and 5xx "
        "(env TICKETS_RETRIES; default: 3)",
    )
    parser.add_argument(
        "--max-bytes",
        metavar="SIZE",
        type=byte_size,
        default=env("TICKETS_MAX_BYTES", str(DEFAULT_MAX_BYTES)),
        help="refuse a response larger than SIZE (e.g. 512K, 256M, 1G; env "
        "TICKETS_MAX_BYTES; default: 256M)",
    )
    parser.add_argument(
        "--token-file",
        metavar="PATH",
        default=env("TICKETS_TOKEN_FILE"),
        help="file holding a bearer token for the API (env TICKETS_TOKEN_FILE; or the token "
        "itself in TICKETS_API_TOKEN); the token is never printed",
    )
    parser.add_argument(
        "--lang",
        choices=sorted(LABELS),
        default=env("TICKETS_LANG", "ru"),
        help="language of the console report (env TICKETS_LANG; default: ru)",
    )
    return parser


class Options(argparse.Namespace):
    api: str | None
    input: str | None
    log: str
    uuid: bool | None
    keep: int
    open_status: list[str] | None
    timeout: float
    retries: int
    max_bytes: int
    token_file: str | None
    lang: str


# Visible ASCII: what an Authorization header can carry.
_TOKEN = re.compile(r"[\x21-\x7e]+")


def read_token(options: Options) -> str | None:
    if options.token_file:
        try:
            with open(options.token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = describe_os_error(exc) if isinstance(exc, OSError) else "not UTF-8 text"
            raise UsageError(f"cannot read token file {options.token_file!r}: {reason}") from None
        if not token:
            raise UsageError(f"token file {options.token_file!r} is empty")
        where = f"the token in {options.token_file!r}"
    else:
        token = env("TICKETS_API_TOKEN")
        where = "TICKETS_API_TOKEN"
    if token is not None and not _TOKEN.fullmatch(token):
        # Never echo it: say only what is wrong.
        raise UsageError(f"{where} has characters not allowed in an HTTP header")
    return token


def parse_options(argv: list[str] | None) -> Options:
    parser = build_parser()
    options = parser.parse_args(argv, namespace=Options())
    try:
        if options.uuid is None:
            options.uuid = env_flag("TICKETS_USE_UUID")
        if options.api is None and options.input is None:
            options.input = env("TICKETS_INPUT")
            api = env("TICKETS_API_URL")
            if api and options.input:
                raise UsageError("both TICKETS_API_URL and TICKETS_INPUT are set: unset one")
            if api:
                options.api = http_url(api)
    except (UsageError, argparse.ArgumentTypeError) as exc:
        parser.error(f"{exc}")
    if not options.api and not options.input:
        parser.error("no ticket source: give --api URL (or TICKETS_API_URL) or --input PATH")
    if options.lang not in LABELS:  # argparse does not check a default from the environment
        parser.error(f"TICKETS_LANG={options.lang!r}: expected one of {', '.join(sorted(LABELS))}")
    if not options.open_status:
        statuses = env("TICKETS_OPEN_STATUSES", "open") or "open"
        options.open_status = [s.strip() for s in statuses.split(",") if s.strip()]
        if not options.open_status:
            parser.error("TICKETS_OPEN_STATUSES names no status")
    return options


def warn(message: str) -> None:
    print(f"tickets: warning: {message}", file=sys.stderr)


def run(options: Options) -> int:
    token = read_token(options)
    writer = ReportWriter(options.log)  # fail early when DIR is not writable
    try:
        fetched_at = datetime.now(timezone.utc)
        if options.api:
            chunks = open_api(
                options.api, options.timeout, options.retries, token, options.max_bytes
            )
        else:
            chunks = open_input(options.input or "-")
        tally = Tally(options.open_status or ())
        for batch in ticket_batches(capped(chunks, options.max_bytes)):
            writer.add_open(tally.add(batch))
        stem = shortuuid.uuid() if options.uuid else fetched_at.strftime(TIMESTAMP_FORMAT)
        path = writer.publish(tally.open_count, dict(tally.by_category), stem)
    except BaseException:
        writer.discard()
        raise
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    try:
        print_report(sys.stdout.buffer, writer, tally, path, options.lang, color)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); the report is saved all the same.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        writer.console.close()
    if options.keep:
        prune(options.log, options.keep)
    return EXIT_OK


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    options = parse_options(argv)
    try:
        return run(options)
    except TicketsError as exc:
        print(f"tickets: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tickets: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
