"""Input: the ticket list from an HTTP API (urllib3 retries) or a file."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .errors import FetchError, describe_os_error
from .parse import CHUNK_SIZE


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
    # urllib3 quotes the request target, query string included.
    text = re.sub(r"\s*with url: \S*", "", text)
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
