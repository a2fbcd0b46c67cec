"""The report logic: validate and count tickets, and parse the ticket list in
batches as it streams in (memory stays flat however long the list is)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import compress
from typing import Any, Union

import msgspec

from .errors import DataError, FetchError

CHUNK_SIZE = 256 * 1024  # read size
BATCH_BYTES = 1024 * 1024  # tickets are parsed about this much at a time
HEAD_BYTES = 1024 * 1024  # where the "tickets" key of {"tickets": [...]} is looked for

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


class Ticket(msgspec.Struct, gc=False):
    """The three fields the report reads; the decoder skips the others."""

    id: Union[int, str]  # noqa: UP007 - msgspec reads the annotation at run time (3.9)
    category: str
    status: str


TICKETS = msgspec.json.Decoder(list[Ticket])
RAW_TICKETS = msgspec.json.Decoder(list[msgspec.Raw])


class Batch:
    """A part of the ticket list.

    ``tickets`` holds the three fields of each ticket (None until validated);
    the tickets themselves are either ``text``, the JSON list as it was sent
    (its UTF-8 checked), or ``items``, decoded Python objects.  With a
    ``mask``, ``text`` is the list of a whole part, and the batch's tickets
    are those whose byte in the mask is not 0 (see ``selected_text``).
    """

    __slots__ = ("items", "mask", "text", "tickets")

    def __init__(
        self,
        tickets: list[Ticket] | None = None,
        text: bytes | None = None,
        items: list[Any] | None = None,
        mask: bytes | None = None,
    ) -> None:
        self.tickets = tickets
        self.text = text
        self.items = items
        self.mask = mask

    def select(self, mask: bytes) -> Batch:
        """The tickets whose mask byte is not 0, in order (their text is
        found only when it is asked for: ``selected_text``)."""
        tickets = list(compress(self.tickets or (), mask))
        if len(tickets) == len(self.tickets or ()):
            return self
        if not tickets:
            return Batch([], items=[])
        if self.text is not None:
            return Batch(tickets, text=self.text, mask=mask)
        return Batch(tickets, items=list(compress(self.items or (), mask)))

    def selected_text(self) -> bytes | None:
        """The JSON list of the batch's tickets as they were sent (None when
        they are decoded items)."""
        if self.text is None or self.mask is None:
            return self.text
        raw = compress(RAW_TICKETS.decode(self.text), self.mask)
        return b"[" + b",".join(raw) + b"]"


class Tally:
    """Validates tickets batch by batch and counts them.

    ``by_category`` counts all tickets, categories in first-seen order, and
    ``open_by_category`` the unresolved ones (for the history record);
    ``add`` returns the unresolved tickets of a batch, in input order.
    """

    def __init__(self, open_statuses: Iterable[str]) -> None:
        self.open_statuses = frozenset(open_statuses)
        self.by_category: Counter[str] = Counter()
        self.open_by_category: Counter[str] = Counter()
        self.open_count = 0
        self.seen = 0

    def add(self, batch: Batch) -> Batch:
        if batch.tickets is None:
            try:
                batch.tickets = msgspec.convert(batch.items, list[Ticket])
            except msgspec.ValidationError:
                raise self._first_bad(batch.items or []) from None
        tickets = batch.tickets
        # (List comprehensions: faster than map() with attrgetter on Python 3.11+.)
        self.by_category.update([t.category for t in tickets])
        self.seen += len(tickets)
        open_statuses = self.open_statuses
        unresolved = batch.select(bytes([t.status in open_statuses for t in tickets]))
        self.open_count += len(unresolved.tickets or ())
        self.open_by_category.update([t.category for t in unresolved.tickets or ()])
        return unresolved

    def _first_bad(self, items: list[Any]) -> DataError:
        errors = (bad_ticket(self.seen + offset, t) for offset, t in enumerate(items))
        return next(filter(None, errors), DataError("invalid ticket"))


def summarize(tickets: list[Any], open_statuses: Iterable[str] = ("open",)) -> dict[str, Any]:
    """The report as a plain dict: what the JSON file holds."""
    tally = Tally(open_statuses)
    unresolved = tally.add(Batch(items=tickets)).items
    return {
        "open": {"tickets": unresolved, "count": tally.open_count},
        "by_category": dict(tally.by_category),
    }


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
    except UnicodeDecodeError:
        raise _not_utf8() from None


def _not_utf8() -> DataError:
    return DataError("the response is not valid JSON: it is not UTF-8 text")


def decode_part(text: bytes) -> Batch | None:
    """A JSON list of tickets, or None when it is not valid JSON.

    The decoder reads only id, category and status (validated by type) and
    skips the other fields, so the text is kept for them, its UTF-8 checked.
    A ticket with a wrong type is left for Tally to name.
    """
    try:
        tickets = TICKETS.decode(text)
    except UnicodeDecodeError:
        raise _not_utf8() from None
    except msgspec.ValidationError:
        # Found before the end of the text: make sure it is all JSON.
        try:
            return Batch(items=DECODER.decode(text))
        except msgspec.DecodeError:
            return None
        except UnicodeDecodeError:
            raise _not_utf8() from None
    except msgspec.DecodeError:
        return None
    try:
        str(text, "utf-8")
    except UnicodeDecodeError:
        raise _not_utf8() from None
    return Batch(tickets, text=text)


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
            tickets = _tickets_of(decode(bytes(buffer)))
            for start in range(0, len(tickets), 5000):
                yield Batch(items=tickets[start : start + 5000])
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
            # Parse "[" ... "}]": the byte after the cut becomes "]".
            with memoryview(buffer) as view:
                batch = decode_part(b"".join((view[:end], b"]")))
            if batch is None:
                continue  # not between two tickets (or bad JSON)
            buffer[rest - 1] = 0x5B  # "[": the next part starts the list again
            del buffer[: rest - 1]
            try_at = BATCH_BYTES
            yield batch
            break
        else:  # no cut worked: wait for more (or the end, which reports bad JSON)
            try_at = 2 * len(buffer)
    if opening:
        yield Batch(items=_tickets_of(decode(opening + buffer)))
    else:
        yield decode_part(bytes(buffer)) or Batch(items=decode(bytes(buffer)))


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
