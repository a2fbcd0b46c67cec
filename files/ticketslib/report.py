"""The report: what a ticket's fields say (dotted paths, values as text), the
tally of a run, the JSON file (byte for byte what json.dump(report, indent=4,
ensure_ascii=False) writes, streamed into its temporary file), and the
console report."""

from __future__ import annotations

import bisect
import os
import shutil
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import compress, islice
from operator import itemgetter
from typing import IO, Any, Callable, Optional, Union

import msgspec

from . import store
from .errors import DataError, WriteError, describe_os_error
from .stream import CHUNK_SIZE, Path, lookup, path_text
from .text import LABELS, bold, console_lines, escape

Value = Union[int, str]
_INT64 = (-(2**63), 2**63 - 1)


def as_text(value: Any) -> str:
    """A scalar field value as the report compares and shows it: a string as
    it is, true/false, a number as JSON writes it. Raises TypeError otherwise."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is msgspec.Raw:  # a float, as stream.DECODER keeps it
        return bytes(value).decode()
    raise TypeError(kind)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    kinds = {dict: "an object", list: "a list", str: "a string", type(None): "null"}
    return kinds.get(type(value), "a number")


@dataclass(frozen=True)
class Fields:
    """Where a ticket's fields are, and which statuses count as unresolved:
    those in ``open_statuses``, or (with ``closed_statuses``) those not in it."""

    id: Path = ("id",)
    category: Path = ("category",)
    status: Path = ("status",)
    skip: Optional[Path] = None  # noqa: UP045 - dataclass fields are read at run time (3.9)
    missing_category: Optional[str] = None  # noqa: UP045
    open_statuses: frozenset[str] = frozenset({"open"})
    closed_statuses: Optional[frozenset[str]] = None  # noqa: UP045

    def unresolved(self, statuses: list[str]) -> list[bool]:
        if self.closed_statuses is not None:
            closed = self.closed_statuses
            return [s not in closed for s in statuses]
        opened = self.open_statuses
        return [s in opened for s in statuses]


def _extractor(path: Path) -> Callable[[Iterable[Any]], list[Any]] | None:
    """A C-speed extraction of PATH from many tickets (None for a path with a
    list index: the careful way then). Raises KeyError/TypeError on a miss."""
    if not all(isinstance(step, str) for step in path):
        return None
    getters = [itemgetter(step) for step in path]

    def extract(items: Iterable[Any]) -> list[Any]:
        values: Iterable[Any] = items
        for getter in getters:
            values = map(getter, values)
        return list(values)

    return extract


class IdSet:
    """The ids of the tickets of earlier pages, to count a ticket that comes
    on two pages once.

    Pages in a stable order (what the presets ask for) bring integer ids in
    ascending order: those are kept in a sorted array of 8 bytes each; any
    other id goes into a set.
    """

    def __init__(self) -> None:
        self.ascending = array("q")
        self.others: set[Value] = set()

    def _known(self, value: Value) -> bool:
        if value in self.others:
            return True
        if type(value) is int and self.ascending:
            at = bisect.bisect_left(self.ascending, value) if _INT64[0] <= value <= _INT64[1] else 0
            return at < len(self.ascending) and self.ascending[at] == value
        return False

    def remember(self, ids: list[Value]) -> None:
        """Remember the ids of the first page."""
        self.new(ids, record=True, check=False)

    def new(self, ids: list[Value], record: bool, check: bool = True) -> list[bool] | None:
        """Which of IDS were not on an earlier page (None: all of them);
        with RECORD, remember them for the next pages."""
        last = self.ascending[-1] if self.ascending else _INT64[0] - 1
        plain = bool(ids) and set(map(type, ids)) == {int}
        if plain and not self.others and last < min(ids) and max(ids) <= _INT64[1]:
            if record:
                self.ascending.extend(sorted(ids))
            return None
        mask = [not self._known(value) for value in ids] if check else [True] * len(ids)
        if record:
            self.others.update(compress(ids, mask))
        return None if all(mask) else mask


@dataclass
class Unresolved:
    """The unresolved tickets of a batch: whole, and their id and category as text."""

    tickets: list[Any]
    ids: list[Value]
    categories: list[str]


@dataclass
class Tally:
    """Validates tickets batch by batch and counts them.

    ``by_category`` counts all tickets, categories in first-seen order, and
    ``open_by_category`` the unresolved ones (for the history record).
    """

    fields: Fields
    by_category: Counter[str] = field(default_factory=Counter)
    open_by_category: Counter[str] = field(default_factory=Counter)
    open_count: int = 0
    seen: int = 0  # tickets counted
    skipped: int = 0  # dropped by fields.skip
    duplicates: int = 0  # tickets of an earlier page, counted once
    page: int = 0  # the page of the last batch
    index: int = 0  # items read on that page so far
    ids: IdSet = field(default_factory=IdSet)

    def __post_init__(self) -> None:
        self._id = _extractor(self.fields.id)
        self._category = _extractor(self.fields.category)
        self._status = _extractor(self.fields.status)

    def add(self, items: list[Any], page: int = 0, record: bool = False) -> Unresolved:
        """Count a batch of tickets (PAGE: its page of a crawl, 0 for a single
        document; RECORD: later pages may follow); the unresolved ones."""
        fields = self.fields
        if page != self.page:
            self.page, self.index = page, 0
        base = self.index
        self.index += len(items)
        kept = items
        if fields.skip is not None:
            skip = fields.skip
            kept = [t for t in items if not isinstance(t, dict) or lookup(t, skip) is None]
        values = self._fast(kept)
        if values is None:
            kept, values = self._careful(items, base, page)
        self.skipped += len(items) - len(kept)
        ids, categories, statuses = values
        if page > 1:
            mask = self.ids.new(ids, record)
            if mask is not None:
                self.duplicates += len(mask) - sum(mask)
                kept, ids, categories, statuses = (
                    list(compress(kept, mask)),
                    list(compress(ids, mask)),
                    list(compress(categories, mask)),
                    list(compress(statuses, mask)),
                )
        elif record:
            self.ids.remember(ids)
        self.seen += len(kept)
        self.by_category.update(categories)
        unresolved = fields.unresolved(statuses)
        result = Unresolved(
            list(compress(kept, unresolved)),
            list(compress(ids, unresolved)),
            list(compress(categories, unresolved)),
        )
        self.open_count += len(result.tickets)
        self.open_by_category.update(result.categories)
        return result

    def _fast(self, items: list[Any]) -> tuple[list[Value], list[str], list[str]] | None:
        """The three fields of clean tickets at C speed; None to go the careful way."""
        if self._id is None or self._category is None or self._status is None:
            return None
        try:
            ids = self._id(items)
            categories = self._category(items)
            statuses = self._status(items)
        except (KeyError, TypeError, IndexError):
            return None
        try:
            if not set(map(type, ids)) <= {int, str}:
                ids = list(map(as_text, ids))
            if set(map(type, categories)) - {str}:
                categories = list(map(as_text, categories))
            if set(map(type, statuses)) - {str}:
                statuses = list(map(as_text, statuses))
        except TypeError:
            return None
        return ids, categories, statuses

    def _careful(
        self, items: list[Any], base: int, page: int
    ) -> tuple[list[Any], tuple[list[Value], list[str], list[str]]]:
        """Ticket by ticket: missing categories, list indexes, and the error
        that names the first bad ticket."""
        fields = self.fields
        kept: list[Any] = []
        ids: list[Value] = []
        categories: list[str] = []
        statuses: list[str] = []
        for offset, ticket in enumerate(items):
            where = f"index {base + offset}" + (f" on page {page}" if page > 1 else "")
            if not isinstance(ticket, dict):
                raise DataError(f"ticket at {where} is not a JSON object")
            if fields.skip is not None and lookup(ticket, fields.skip) is not None:
                continue
            value, problem = _resolve(ticket, fields.id)
            if value is None or problem:
                problem = problem or f" has no {path_text(fields.id)!r} field"
                raise DataError(f"ticket at {where}{problem}")
            ticket_id = value if type(value) in (int, str) else as_text(value)
            name = f"ticket {escape(ticket_id)} ({where})"
            category, problem = _resolve(ticket, fields.category)
            if problem:
                raise DataError(name + problem)
            if category is None:
                if fields.missing_category is None:
                    raise DataError(
                        f"{name} has no {path_text(fields.category)!r} field "
                        "(--missing-category LABEL counts such tickets)"
                    )
                category = fields.missing_category
            status, problem = _resolve(ticket, fields.status)
            if problem:
                raise DataError(name + problem)
            if status is None:
                raise DataError(f"{name} has no {path_text(fields.status)!r} field")
            kept.append(ticket)
            ids.append(ticket_id)  # type: ignore[arg-type]
            categories.append(as_text(category))
            statuses.append(as_text(status))
        return kept, (ids, categories, statuses)


def _resolve(ticket: dict[str, Any], path: Path) -> tuple[Any, str]:
    """(the scalar at PATH or None when it is missing or null, "" or what is wrong)."""
    value: Any = ticket
    for number, step in enumerate(path):
        if value is None:
            return None, ""
        if isinstance(step, int) and isinstance(value, list):
            value = value[step] if -len(value) <= step < len(value) else None
        elif isinstance(step, str) and isinstance(value, dict):
            value = value.get(step)
        else:
            want = "a list" if isinstance(step, int) else "an object"
            part = path_text(path[:number])
            return None, f": {part!r} is {_kind(value)}, not {want} (for {path_text(path)!r})"
    if isinstance(value, (dict, list)):
        return None, f": {path_text(path)!r} is {_kind(value)}, not a string, number or true/false"
    return value, ""


# The report file around the unresolved tickets; tickets nested three deep, as
# in {"open": {"tickets": [...]}}, come out of msgspec.json.format already
# indented for it, between _NESTED_HEAD and _NESTED_TAIL.
_HEAD = b'{\n    "open": {\n        "tickets": ['
_NESTED_HEAD = b"[\n    [\n        [\n"
_NESTED_TAIL = b"\n        ]\n    ]\n]"


def tickets_text(tickets: list[Any]) -> memoryview:
    """Tickets as json.dump(indent=4) writes them inside the report's list."""
    pretty = msgspec.json.format(msgspec.json.encode([[tickets]]), indent=4)
    return memoryview(pretty)[len(_NESTED_HEAD) : -len(_NESTED_TAIL)]


class ReportFile:
    """The report, streamed into a locked temporary file in the log directory;
    ``publish`` makes it durable under a name no other file has, so a report
    is never partial and never replaces another. The console lines of the
    unresolved tickets are spooled beside it (their count is printed first).

    Raises WriteError.
    """

    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir
        self.first = True
        try:
            os.makedirs(log_dir, exist_ok=True)
            self.temp = store.TempFile(log_dir)
        except OSError as exc:
            raise self._error("cannot write to log directory", exc) from None
        # In memory for the usual run, in an unnamed file beside the report for a large one.
        self.console: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - see close
            max_size=1024 * 1024, dir=log_dir
        )
        self._write(_HEAD)

    def _error(self, what: str, exc: OSError) -> WriteError:
        return WriteError(f"{what} {self.log_dir!r}: {describe_os_error(exc)}")

    def _write(self, data: bytes | memoryview) -> None:
        try:
            self.temp.write(data)
        except OSError as exc:
            raise self._error("cannot write report in", exc) from None

    def add(self, unresolved: Unresolved) -> None:
        if not unresolved.tickets:
            return
        self._write(b"\n" if self.first else b",\n")
        self.first = False
        self._write(tickets_text(unresolved.tickets))
        try:
            self.console.write(console_lines(unresolved.ids, unresolved.categories))
        except OSError as exc:
            raise self._error("cannot write report in", exc) from None

    def publish(self, tally: Tally, stem: str) -> str:
        """Finish the file and give it its unique name; its path."""
        categories = msgspec.json.format(msgspec.json.encode(dict(tally.by_category)), indent=4)
        self._write(
            (b"]" if self.first else b"\n        ]")
            + b',\n        "count": %d\n    },\n    "by_category": ' % tally.open_count
            + categories.replace(b"\n", b"\n    ")
            + b"\n}"
        )
        try:
            return self.temp.link_unique(stem)
        except OSError as exc:
            raise self._error("cannot save report in", exc) from None

    def discard(self) -> None:
        self.temp.discard()
        self.close()

    def close(self) -> None:
        self.console.close()


def print_report(
    out: IO[bytes],
    report: ReportFile,
    tally: Tally,
    path: str,
    lang: str,
    color: bool,
    max_list: int | None = None,
) -> None:
    labels = LABELS[lang]
    title, opened = bold(labels["title"], color), bold(labels["open"], color)
    out.write(f"\n{title}\n\n{opened}: {tally.open_count}\n".encode())
    report.console.seek(0)
    if max_list is None or max_list >= tally.open_count:
        shutil.copyfileobj(report.console, out, CHUNK_SIZE)
    else:
        out.writelines(islice(report.console, max_list))
        more = labels["more"].format(count=tally.open_count - max_list)
        out.write(f"{more}\n".encode())
    lines = [f"\n{bold(labels['by_category'], color)}:\n"]
    lines += [f"  - {escape(category)}: {count}\n" for category, count in tally.by_category.items()]
    lines.append(f"\n{labels['saved']}: {path}\n")
    out.write("".join(lines).encode())
    out.flush()
