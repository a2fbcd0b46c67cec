"""Reading one JSON document (a page of an API, or --input): the list of
tickets in it, in batches, and the rest of it (the envelope: next link, total,
cursor), without ever holding a large list whole.

A small document (the usual page) is decoded at once. A larger one is cut
into parts of about BATCH_BYTES after a ticket's closing brace and each part
decoded by msgspec: a part parses only if the cut is really between two
tickets (a brace inside a string or a nested object leaves it unterminated);
when it does not, the part grows and the cut is tried again later. The text
before the list and the rest after the last part are decoded together at the
end: that is the envelope, where any syntax error is reported.

Floats are decoded as msgspec.Raw holding Python's repr of the value, which
is what the json module writes: the report, encoded by msgspec, is then byte
for byte what json.dumps writes.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any, Union

import msgspec

from .errors import DataError, FetchError, describe_os_error

CHUNK_SIZE = 256 * 1024  # read size
BATCH_BYTES = 1024 * 1024  # a larger document is parsed about this much at a time
HEAD_BYTES = 1024 * 1024  # where the start of the list is looked for
_WHITESPACE = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"

Path = Sequence[Union[str, int]]
DEFAULT_KEY = "tickets"


def _float(text: str) -> msgspec.Raw:
    value = float(text)
    if not math.isfinite(value):
        raise DataError(f"a number is out of range: {text[:40]}")
    return msgspec.Raw(repr(value).encode())


DECODER = msgspec.json.Decoder(float_hook=_float)


def _not_utf8() -> DataError:
    return DataError("the response is not valid JSON: it is not UTF-8 text")


def decode(data: bytes | bytearray | memoryview) -> Any:
    """A whole document (raises DataError)."""
    try:
        return DECODER.decode(data)
    except msgspec.DecodeError as exc:
        detail = re.sub(r"\s*\(byte \d+\)", "", str(exc))
        raise DataError(f"the response is not valid JSON: {detail}") from None
    except UnicodeDecodeError:
        raise _not_utf8() from None


def _decode_part(text: bytes) -> list[Any] | None:
    """A part of the list, or None when it is not valid JSON (a cut that is
    not between two tickets, or bad data that the end will report)."""
    try:
        return DECODER.decode(text)  # type: ignore[no-any-return]
    except msgspec.DecodeError:
        return None
    except UnicodeDecodeError:
        raise _not_utf8() from None


def lookup(document: Any, path: Path) -> Any:
    """The value at PATH (None when a step is missing)."""
    value = document
    for step in path:
        if isinstance(value, dict) and isinstance(step, str):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value):
            value = value[step]
        else:
            return None
    return value


def path_text(path: Path) -> str:
    return ".".join(map(str, path))


def _wrong_shape(path: Path | None) -> DataError:
    if path is None:
        return DataError(
            "wrong shape: expected a list of tickets or an object with a 'tickets' list"
        )
    return DataError(f"wrong shape: expected an object with a list at {path_text(path)!r}")


def items_of(document: Any, path: Path | None) -> list[Any]:
    """The ticket list in a decoded document."""
    if path is None:
        if isinstance(document, list):
            return document
        if not isinstance(document, dict) or DEFAULT_KEY not in document:
            raise _wrong_shape(None)
        if not isinstance(document[DEFAULT_KEY], list):
            raise DataError("wrong shape: 'tickets' is not a list")
        return document[DEFAULT_KEY]  # type: ignore[no-any-return]
    items = lookup(document, path) if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise _wrong_shape(path)
    return items


def _without_list(document: Any, path: Path | None) -> Any:
    """The envelope: the document with its (already counted) list emptied."""
    if not isinstance(document, dict):
        return None
    steps = [DEFAULT_KEY] if path is None else list(path)
    parent = lookup(document, steps[:-1])
    if isinstance(parent, dict):
        parent[steps[-1]] = []
    return document


_SIGNIFICANT = re.compile(rb"[^ \t\r\n]")


def _start(buffer: bytearray, path: Path | None) -> bytes:
    """The first significant byte (a byte order mark and white space before it
    are dropped); raises DataError for what is not a list or an object."""
    if buffer.startswith(_BOM):
        del buffer[:3]
    found = _SIGNIFICANT.search(buffer)
    if found is None:
        raise DataError("the response is empty: expected a JSON list of tickets")
    del buffer[: found.start()]
    start = bytes(buffer[:1])
    if start == b"[" and path is not None:
        raise _wrong_shape(path)
    if start in (b"[", b"{"):
        return start
    if start in b'"-0123456789tfn':
        raise _wrong_shape(path)
    raise DataError(f"the response is not JSON (it starts with {bytes(buffer[:20])!r})")


class Document:
    """One JSON document read from CHUNKS: ``batches()`` yields the ticket list
    at PATH (the document itself when it is a list, or its "tickets" without
    a PATH) a part at a time; then ``envelope`` is the document without its
    list (None for a bare list)."""

    def __init__(self, chunks: Iterator[bytes], path: Path | None = None) -> None:
        self.chunks = chunks
        self.path = path
        self.envelope: Any = None

    def batches(self) -> Iterator[list[Any]]:
        buffer = bytearray()
        for chunk in self.chunks:
            buffer += chunk
            if len(buffer) >= BATCH_BYTES and _SIGNIFICANT.search(buffer):
                break
        else:  # all of it: a small document, decoded at once
            _start(buffer, self.path)
            document = decode(buffer)
            yield items_of(document, self.path)
            self.envelope = _without_list(document, self.path)
            return
        start = _start(buffer, self.path)
        head = b""
        if start == b"{":
            found = self._find_list(buffer)
            if found < 0:  # the list is not near the start: the document whole
                for chunk in self.chunks:
                    buffer += chunk
                document = decode(buffer)
                yield items_of(document, self.path)
                self.envelope = _without_list(document, self.path)
                return
            head = bytes(buffer[:found])
            del buffer[:found]
        # From here on the buffer starts with the "[" of the ticket list.
        try_at = BATCH_BYTES
        for chunk in self.chunks:
            buffer += chunk
            if len(buffer) < try_at:
                continue
            for end, rest in _cuts(buffer):
                # Parse "[" ... "}]": the byte after the cut becomes "]".
                with memoryview(buffer) as view:
                    items = _decode_part(b"".join((view[:end], b"]")))
                if items is None:
                    continue  # not between two tickets (or bad JSON)
                buffer[rest - 1] = 0x5B  # "[": the next part starts the list again
                del buffer[: rest - 1]
                try_at = BATCH_BYTES
                yield items
                break
            else:  # no cut worked: wait for more (or the end, which reports bad JSON)
                try_at = 2 * len(buffer)
        if not head:
            yield items_of(decode(buffer), None)
            return
        document = decode(head + buffer)
        yield items_of(document, self.path)
        self.envelope = _without_list(document, self.path)

    def _find_list(self, buffer: bytearray) -> int:
        """Offset of the '[' of the list at PATH (looked for in the first
        HEAD_BYTES), or -1.

        A match counts when the text up to it, completed by ']' and one '}'
        per level, is an object whose list at PATH is empty: proof that it is
        that key, not text inside a string or a key at another level.
        """
        path = [DEFAULT_KEY] if self.path is None else list(self.path)
        key = re.compile(re.escape(msgspec.json.encode(path[-1])) + rb"\s*:\s*\[")
        closing = b"]" + b"}" * len(path)
        position = 0
        while True:
            match = key.search(buffer, position)
            if match:
                head = bytes(buffer[: match.end()]) + closing
                try:
                    value = msgspec.json.decode(head)
                except (msgspec.DecodeError, UnicodeDecodeError):
                    value = None
                if isinstance(value, dict) and lookup(value, path) == []:
                    return match.end() - 1
                position = match.start() + 1
                continue
            if len(buffer) >= HEAD_BYTES:
                return -1
            chunk = next(self.chunks, b"")
            if not chunk:
                return -1
            buffer += chunk


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


def open_input(path: str, max_bytes: int) -> Iterator[bytes]:
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

    return capped(chunks(), max_bytes)


def too_large(max_bytes: int, detail: str = "") -> FetchError:
    return FetchError(
        f"the response is larger than the limit of {max_bytes} bytes ({detail}--max-bytes)"
    )


def capped(chunks: Iterator[bytes], max_bytes: int) -> Iterator[bytes]:
    """Pass chunks through; fail once more than MAX_BYTES went by."""
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        if chunk:
            yield chunk
