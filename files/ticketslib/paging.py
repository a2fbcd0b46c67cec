"""Pagination: how the next page of a ticket list is found, one style per
class (modelled on the Singer SDK's paginators and Airbyte's declarative
pagination strategies), and the crawl that fetches the pages through one
client and hands their tickets on, batch by batch.

Styles:
- link: an RFC 8288 ``Link: <URL>; rel="next"`` header (GitHub, GitLab,
  Freshdesk, json-server); a page without one is the last;
- next-url: a URL in the body at a path (Zendesk ``next_page`` or
  ``links.next`` with ``meta.has_more``, DRF/NetBox ``next``); it stops on
  null, absent or has_more false;
- offset: offset/limit parameters, advanced by the items a page returned; it
  stops on the server's total or an empty page, never on a short one (Redmine
  caps the limit silently);
- page: page numbers; it stops on an empty page or the server's page count;
- cursor: a token in the body passed back as a query parameter (Jira's
  ``nextPageToken``, absent on the last page);
- none: one request.
"auto" is link, or next-url/cursor when their path is given.

Guard rails, each a one-line error (exit 3) with nothing written: a next link
to another origin (the token is never sent there), a URL visited twice, more
than --max-pages pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

from .errors import DataError, FetchError, warn
from .stream import Document, Path, lookup, path_text
from .text import Progress, origin, origin_text, redact

if TYPE_CHECKING:  # (urllib3 is imported only when there is an API to fetch)
    from .fetch import Client, Response

STYLES = ("auto", "link", "next-url", "offset", "page", "cursor", "none")
DEFAULT_MAX_PAGES = 100_000
# The parameter names a style uses when none is given.
PAGE_PARAMS = {"offset": "offset", "page": "page", "cursor": "cursor"}
SIZE_PARAMS = {"offset": "limit", "page": "per_page", "cursor": "limit"}


def parse_links(value: str) -> list[tuple[str, dict[str, str]]]:
    """The link-values of an RFC 8288 Link header: (target, parameters).

    Commas and semicolons inside <...> and inside quoted strings belong to
    them; parameter names are case-insensitive and only the first occurrence
    of each counts (RFC 8288, 3.3); anything malformed is skipped up to the
    next link-value.
    """
    links: list[tuple[str, dict[str, str]]] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i] in " \t,":
            i += 1
        if i >= n:
            break
        end = value.find(">", i + 1) if value[i] == "<" else -1
        if end < 0:  # not a link-value: skip to the next top-level comma
            i = _skip(value, i)
            continue
        target, params, i = value[i + 1 : end], {}, end + 1
        while True:
            while i < n and value[i] in " \t":
                i += 1
            if i >= n or value[i] == ",":
                break
            if value[i] != ";":  # garbage after the link: drop this link-value
                params = {"": ""}
                i = _skip(value, i)
                break
            i += 1
            while i < n and value[i] in " \t":
                i += 1
            start = i
            while i < n and value[i] not in "=;, \t":
                i += 1
            name = value[start:i].lower()
            while i < n and value[i] in " \t":
                i += 1
            text = ""
            if i < n and value[i] == "=":
                i += 1
                while i < n and value[i] in " \t":
                    i += 1
                if i < n and value[i] == '"':
                    text, i = _quoted(value, i)
                else:
                    start = i
                    while i < n and value[i] not in ";, \t":
                        i += 1
                    text = value[start:i]
            if name:
                params.setdefault(name, text)
        if "" not in params:
            links.append((target, params))
    return links


def _skip(value: str, i: int) -> int:
    """The index after the next comma outside quotes and angle brackets."""
    quoted = bracket = False
    while i < len(value):
        char = value[i]
        if quoted:
            if char == "\\":
                i += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "<":
            bracket = True
        elif char == ">":
            bracket = False
        elif char == "," and not bracket:
            return i + 1
        i += 1
    return i


def _quoted(value: str, i: int) -> tuple[str, int]:
    """A quoted-string starting at value[i] == '"': its text and the index after it."""
    out, i = [], i + 1
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
            continue
        if char == '"':
            return "".join(out), i + 1
        out.append(char)
        i += 1
    return "".join(out), i


def next_link(headers: Any) -> str | None:
    """The target of the first rel="next" link of the response's Link headers."""
    values = headers.getlist("Link") if hasattr(headers, "getlist") else [headers.get("Link")]
    for target, params in parse_links(",".join(v for v in values if v)):
        if "next" in params.get("rel", "").lower().split():
            return target
    return None


def with_params(url: str, params: dict[str, str], replace: bool = True) -> str:
    """URL with the query parameters PARAMS set (REPLACE: over the URL's own
    ones of that name; else only where the URL has none); the rest of the
    query is kept as it was written."""
    parts = urlsplit(url)
    pieces = [piece for piece in parts.query.split("&") if piece]
    names = {unquote_plus(piece.split("=", 1)[0]) for piece in pieces}
    if replace:
        pieces = [p for p in pieces if unquote_plus(p.split("=", 1)[0]) not in params]
    else:
        params = {name: value for name, value in params.items() if name not in names}
    pieces += [f"{quote(k, safe='[]')}={quote(v, safe='*,:')}" for k, v in params.items()]
    return urlunsplit(parts._replace(query="&".join(pieces)))


@dataclass(frozen=True)
class Paging:
    """How to find the pages (what the options say, presets applied)."""

    style: str = "auto"
    next_path: Optional[Path] = None  # noqa: UP045 - dataclass fields are read at run time (3.9)
    has_more_path: Optional[Path] = None  # noqa: UP045
    cursor_path: Optional[Path] = None  # noqa: UP045
    page_param: Optional[str] = None  # noqa: UP045
    size_param: Optional[str] = None  # noqa: UP045
    total_path: Optional[Path] = None  # noqa: UP045
    page_size: Optional[int] = None  # noqa: UP045
    preset_page_size: Optional[int] = None  # noqa: UP045 - the URL's own size wins over it
    max_pages: int = DEFAULT_MAX_PAGES
    params: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def resolved_style(self) -> str:
        if self.style != "auto":
            return self.style
        if self.next_path is not None:
            return "next-url"
        if self.cursor_path is not None:
            return "cursor"
        return "link"


class Paginator:
    """One style: the first URL, then each next one from the page just read
    (None: it was the last)."""

    needs_envelope = False  # the next page is known from the body's envelope

    def __init__(self, paging: Paging, url: str) -> None:
        self.paging = paging
        self.first_url = url
        self.page_param = paging.page_param or PAGE_PARAMS.get(paging.resolved_style(), "")
        self.size_param = paging.size_param or SIZE_PARAMS.get(paging.resolved_style(), "per_page")

    def start(self) -> str:
        """The first page's URL (later pages of some styles start from it too)."""
        params = dict(self.paging.params)
        if self.paging.preset_page_size:
            params[self.size_param] = str(self.paging.preset_page_size)
        url = with_params(self.first_url, params, replace=False)
        size = self.paging.page_size
        return with_params(url, {self.size_param: str(size)}) if size else url

    def next(self, response: Response, envelope: Any, count: int) -> str | None:
        return None

    def more_may_follow(self, response: Response) -> bool:
        """Known before the body: whether later pages may follow this one."""
        return True


class NoPaging(Paginator):
    def more_may_follow(self, response: Response) -> bool:
        return False


class LinkPaginator(Paginator):
    """The Link header's rel="next" (the Singer SDK's HeaderLinkPaginator)."""

    target: str | None = None

    def more_may_follow(self, response: Response) -> bool:
        self.target = next_link(response.headers)  # (read once, before the body)
        return self.target is not None

    def next(self, response: Response, envelope: Any, count: int) -> str | None:
        return urljoin(response.url, self.target) if self.target else None


def _has_more(envelope: Any, path: Path | None) -> bool:
    if path is None:
        return True
    value = lookup(envelope, path)
    return value not in (False, "false", None)


class NextUrlPaginator(Paginator):
    """A next URL at a path in the body (BaseHATEOASPaginator, JSONPathPaginator)."""

    needs_envelope = True

    def next(self, response: Response, envelope: Any, count: int) -> str | None:
        path = self.paging.next_path or ("next",)
        if not _has_more(envelope, self.paging.has_more_path):
            return None
        target = lookup(envelope, path)
        if target in (None, ""):
            return None
        if not isinstance(target, str):
            raise DataError(f"wrong shape: the next page's URL at {path_text(path)!r} is not text")
        return urljoin(response.url, target)


class CursorPaginator(Paginator):
    """A token in the body, passed back as a query parameter (Airbyte's CursorPagination)."""

    needs_envelope = True

    def next(self, response: Response, envelope: Any, count: int) -> str | None:
        path = self.paging.cursor_path or ("cursor",)
        if not _has_more(envelope, self.paging.has_more_path):
            return None
        token = lookup(envelope, path)
        if token in (None, ""):
            return None
        if isinstance(token, (dict, list, bool)):
            raise DataError(f"wrong shape: the cursor at {path_text(path)!r} is not text")
        value = str(token) if isinstance(token, (int, str)) else bytes(token).decode()
        return with_params(self.start(), {self.page_param: value})


def _total(envelope: Any, path: Path | None) -> int | None:
    if path is None:
        return None
    value = lookup(envelope, path)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        return int(value)
    except ValueError:
        return None


class OffsetPaginator(Paginator):
    """offset/limit, the offset advanced by the items returned (Airbyte's
    OffsetIncrement, the Singer SDK's BaseOffsetPaginator)."""

    def __init__(self, paging: Paging, url: str) -> None:
        super().__init__(paging, url)
        self.offset = 0

    def start(self) -> str:
        return with_params(super().start(), {self.page_param: "0"})

    def next(self, response: Response, envelope: Any, count: int) -> str | None:
        self.offset += count
        total = _total(envelope, self.paging.total_path)
        if count == 0 or (total is not None and self.offset >= total):
            return None
        return with_params(super().start(), {self.page_param: str(self.offset)})


class PagePaginator(Paginator):
    """Page numbers from 1 (Airbyte's PageIncrement, BasePageNumberPaginator);
    --total-path names the server's page count."""

    def __init__(self, paging: Paging, url: str) -> None:
        super().__init__(paging, url)
        self.page = 1

    def start(self) -> str:
        return with_params(super().start(), {self.page_param: "1"})

    def next(self, response: Response, envelope: Any, count: int) -> str | None:
        pages = _total(envelope, self.paging.total_path)
        if count == 0 or (pages is not None and self.page >= pages):
            return None
        self.page += 1
        return with_params(super().start(), {self.page_param: str(self.page)})


PAGINATORS: dict[str, type[Paginator]] = {
    "none": NoPaging,
    "link": LinkPaginator,
    "next-url": NextUrlPaginator,
    "cursor": CursorPaginator,
    "offset": OffsetPaginator,
    "page": PagePaginator,
}


@dataclass
class Batch:
    """A part of a page's ticket list: the page's number and whether more
    pages may follow it (then its ids are remembered, to count a ticket that
    comes on two pages once)."""

    items: list[Any]
    page: int
    more: bool


def crawl(
    client: Client,
    url: str,
    paging: Paging,
    items: Path | None,
    progress: Progress,
    counted: Callable[[], int] | None = None,
) -> Iterator[Batch]:
    """Fetch the pages from URL on, and yield their tickets a batch at a time.

    COUNTED() tells the tickets counted so far (for the progress line).
    """
    paginator = PAGINATORS[paging.resolved_style()](paging, url)
    home = origin(url)
    visited: set[str] = set()
    totals: list[int] = []
    page_url: str | None = paginator.start()
    page = 0
    while page_url is not None:
        if page >= paging.max_pages:
            raise FetchError(
                f"{redact(url)} has more than {paging.max_pages} pages (--max-pages): "
                "refusing to go on"
            )
        if origin(page_url) != home:
            raise FetchError(
                f"page {page}'s next link points to another origin "
                f"({origin_text(page_url)}): refused (the token is never sent there)"
            )
        if page_url in visited:
            raise FetchError(
                f"page {page}'s next link goes back to a page already fetched "
                f"({redact(page_url)}): a pagination loop, refused"
            )
        visited.add(page_url)
        page += 1
        response = client.get(page_url, page)
        more = paginator.more_may_follow(response)
        document = Document(response.chunks, items)
        count = 0
        for batch in document.batches():
            count += len(batch)
            yield Batch(batch, page, more)
        if paginator.needs_envelope and document.envelope is None:
            raise DataError(
                f"wrong shape: page {page} is a bare list, so it cannot say where the next "
                "page is (--paginate)"
            )
        client.stats.pages = page
        total = _total(document.envelope, paging.total_path)
        if total is not None:
            totals.append(total)
        page_url = paginator.next(response, document.envelope, count)
        progress.page(page, counted() if counted else 0)
    if totals and min(totals) != max(totals):
        warn(
            f"the server's total changed during the crawl (from {totals[0]} to {totals[-1]}): "
            "tickets were added or removed meanwhile"
        )
