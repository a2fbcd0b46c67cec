"""What reaches a terminal or the journal: the one label table, the one
escaping function for ticket data, what of a URL may be shown, the colour
decision, and the progress line of a long crawl."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Sequence
from typing import IO, Union
from urllib.parse import urlsplit

from .errors import stderr_is_journal

# Every label of the console report, the trend view and the HTML page, by language.
LABELS = {
    "ru": {
        "title": "📊 Отчёт по тикетам",
        "open": "Открытые тикеты",
        "by_category": "Количество тикетов по категориям",
        "saved": "Отчёт сохранён",
        "more": "  ... и ещё {count} в файле отчёта",
        "history": "📈 История тикетов",
        "runs": "запусков",
        "time": "Время (UTC)",
        "unresolved": "Открытые",
        "change": "Изм.",
        "min": "мин",
        "max": "макс",
        "empty": "Нет отчётов в",
        "no_runs": "Отчётов пока нет.",
        "category": "Категория",
        "latest": "Последний запуск",
        "report": "отчёт",
        "total": "Всего",
        "chart": "Открытые тикеты: всего и по категориям",
        "page_title": "Динамика тикетов",
    },
    "en": {
        "title": "📊 Tickets report",
        "open": "Open tickets",
        "by_category": "Tickets per category",
        "saved": "Report saved",
        "more": "  ... and {count} more in the report file",
        "history": "📈 Tickets history",
        "runs": "runs",
        "time": "Time (UTC)",
        "unresolved": "Unresolved",
        "change": "Change",
        "min": "min",
        "max": "max",
        "empty": "No reports in",
        "no_runs": "No reports yet.",
        "category": "Category",
        "latest": "Latest run",
        "report": "report",
        "total": "Total",
        "chart": "Unresolved tickets: total and per category",
        "page_title": "Tickets trend",
    },
}


def color_enabled(stream: IO[str] | IO[bytes]) -> bool:
    """Colour on a terminal only, and never with NO_COLOR set."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def bold(text: str, color: bool) -> str:
    return f"\033[1m{text}\033[0m" if color else text


# What ticket data must not carry onto a console or into the journal: control
# characters (C0, DEL, C1), line and paragraph separators, bidi overrides.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape(value: object) -> str:
    """VALUE as one safe console line fragment: unsafe characters escaped
    Python-style (\\n, \\x1b, \\u2028); other text, backslashes included, as is."""
    return _UNSAFE.sub(_escape_char, str(value))


# The fast check of console_lines works on the UTF-8 bytes with printable ASCII
# and newlines deleted (a C-speed pass): what is left is control bytes or whole
# multibyte characters, whose lead bytes make these patterns exact.
_SAFE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"
_NON_ASCII = bytes(range(0x80, 0x100))
_UNSAFE_UTF8 = {
    b"\xc2": [bytes([0xC2, b]) for b in range(0x80, 0xA0)],
    b"\xe2\x80": [bytes([0xE2, 0x80, b]) for b in range(0xA8, 0xAF)],
    b"\xe2\x81": [bytes([0xE2, 0x81, b]) for b in range(0xA6, 0xAA)],
}


def _has_unsafe(data: bytes) -> bool:
    """Whether UTF-8 DATA holds a character escape() would escape, other than newline."""
    rest = data.translate(None, _SAFE_ASCII)
    if not rest:
        return False
    if rest.translate(None, _NON_ASCII):
        return True  # an ASCII control character
    return any(
        lead in rest and any(char in rest for char in chars) for lead, chars in _UNSAFE_UTF8.items()
    )


_CONSOLE_LINE = "  - id: %s  category: %s\n"
Value = Union[int, str]


def console_lines(ids: Sequence[Value], categories: Sequence[str]) -> bytes:
    """The console lines of unresolved tickets, as the report prints them.

    One format operation for all of them; clean data (the common case) has one
    newline per ticket and nothing else unsafe, otherwise each value is escaped.
    """
    values: list[Value] = [""] * (2 * len(ids))
    values[0::2] = ids
    values[1::2] = categories
    data = ((_CONSOLE_LINE * len(ids)) % tuple(values)).encode()
    if data.count(b"\n") != len(ids) or _has_unsafe(data):
        lines = [_CONSOLE_LINE % (escape(i), escape(c)) for i, c in zip(ids, categories)]
        data = "".join(lines).encode()
    return data


class Progress:
    """One line on a terminal's stderr during a long crawl: pages, tickets so
    far, a rate-limit wait with its countdown. Off when stderr is not a
    terminal (the journal, a pipe, a file): nothing of it is ever written there."""

    DELAY = 1.0  # seconds into the crawl before the line appears
    EVERY = 0.2  # at most this often

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        try:
            self.enabled = self.stream.isatty() and not stderr_is_journal()
        except (AttributeError, ValueError):
            self.enabled = False
        self.started = time.monotonic()
        self.shown_at = 0.0
        self.visible = False
        self.pages = 0
        self.tickets = 0

    def _show(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and (now - self.started < self.DELAY or now - self.shown_at < self.EVERY):
            return
        self.shown_at = now
        self.stream.write(f"\r\033[K{text}")
        self.stream.flush()
        self.visible = True

    def _counts(self) -> str:
        return f"tickets: page {self.pages:,}, {self.tickets:,} tickets so far"

    def page(self, pages: int, tickets: int) -> None:
        self.pages, self.tickets = pages, tickets
        if self.enabled:
            self._show(self._counts())

    def wait(self, seconds_left: float, reason: str) -> None:
        if self.enabled:
            self._show(f"{self._counts()}; {reason}: waiting {seconds_left:.0f} s", force=True)

    def clear(self) -> None:
        if self.visible:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.visible = False


# -- URLs in messages ---------------------------------------------------------------


def redact(url: str) -> str:
    """The URL without credentials, query string or fragment, safe to print.

    This is the one place that decides what of a URL may be shown: scheme,
    host, port and path. A value that is not shaped like scheme://host is cut
    at its first ':', '@', '?' or '#' (what follows may be a password).
    """
    parts = urlsplit(url)
    if not parts.netloc:
        return re.split(r"[:@?#]", url, maxsplit=1)[0]
    netloc = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{netloc}{parts.path}"


# Anything shaped like scheme://..., up to white space or a quote.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]*")


def redact_text(text: str) -> str:
    """TEXT with every URL in it redacted (for messages that may quote one)."""
    return _URL.sub(lambda match: redact(match.group()), text)


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, the port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port or (443 if scheme == "https" else 80)


def origin_text(url: str) -> str:
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"
