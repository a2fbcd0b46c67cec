"""Input: HTTP GETs with urllib3 (one keep-alive connection for all pages,
proxies from the environment, TLS verified against the system's trust store,
redirects without credentials to another origin, urllib3's retries with the
rate-limit rules of real helpdesks), or a file.

Every message shows a URL redacted: scheme, host, port and path only.
"""

from __future__ import annotations

import base64
import email.utils
import os
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import urllib3
from urllib3.exceptions import (
    MaxRetryError,
    NewConnectionError,
    ProxyError,
    ResponseError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.retry import Retry

from . import __version__
from .errors import FetchError, describe_os_error
from .metrics import Stats
from .stream import CHUNK_SIZE, capped, too_large
from .text import redact, redact_text

# -- auth -------------------------------------------------------------------------


def auth_headers(scheme: str, token: str) -> dict[str, str]:
    """The header that carries TOKEN (the caller checked it is visible ASCII)."""
    if scheme == "basic":
        return {"Authorization": "Basic " + base64.b64encode(token.encode()).decode()}
    if scheme.startswith("header:"):
        return {scheme[7:]: token}
    return {"Authorization": f"Bearer {token}"}


# -- retries and rate limits ---------------------------------------------------------


class WaitTooLong(Exception):
    def __init__(self, seconds: float, how: str) -> None:
        super().__init__(seconds, how)
        self.seconds = seconds
        self.how = how


class RateLimitRetry(Retry):
    """urllib3's Retry with the rate-limit rules of real APIs: a 429/503 (or
    GitHub's 403) with Retry-After, in seconds or as an HTTP date, and
    GitHub's exhausted limit (403/429 with x-ratelimit-remaining: 0 and
    x-ratelimit-reset) are waited for when the wait is at most MAX_WAIT; a
    longer one fails at once (WaitTooLong). Any other 403 is an answer, not
    retried. The wait counts down through ON_WAIT, a second at a time."""

    max_wait: float = 120.0
    on_wait: Callable[[float], None] | None = None
    stats: Stats | None = None

    def new(self, **kw: Any) -> RateLimitRetry:
        retry = super().new(**kw)
        retry.max_wait, retry.on_wait, retry.stats = self.max_wait, self.on_wait, self.stats
        return retry

    def rate_limit_wait(self, response: Any) -> tuple[float, str] | None:
        """(seconds, how the server said it) when RESPONSE is a rate limit."""
        status, headers = response.status, response.headers
        retry_after = headers.get("Retry-After")
        if retry_after and status in (403, 429, 503):
            value = retry_after.strip()
            if value.isdigit():
                return float(value), f"Retry-After: {value}"
            date = email.utils.parsedate_tz(value)
            if date is not None:
                return max(0.0, email.utils.mktime_tz(date) - time.time()), "Retry-After"
        reset = headers.get("x-ratelimit-reset", "").strip()
        remaining = headers.get("x-ratelimit-remaining", "").strip()
        if status in (403, 429) and remaining == "0" and reset.isdigit():
            return max(0.0, int(reset) - time.time()), "x-ratelimit-remaining: 0"
        return None

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in (403, 429) and self._is_method_retryable(method):
            return True  # decided in increment(), which sees the headers
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method: Any = None, url: Any = None, *args: Any, **kw: Any) -> Any:
        response, error = kw.get("response"), kw.get("error")
        if response is not None and error is None and not response.get_redirect_location():
            limit = self.rate_limit_wait(response)
            if limit is None and response.status == 403:
                # A refusal: answered as it is (urllib3 returns the response).
                raise MaxRetryError(kw.get("_pool"), url, ResponseError("HTTP 403"))
            if limit is not None and limit[0] > self.max_wait:
                raise WaitTooLong(*limit)
        retry = super().increment(method, url, *args, **kw)
        if self.stats is not None:
            self.stats.requests += 1  # the request that follows
        return retry

    def sleep_for_retry(self, response: Any) -> bool:
        limit = self.rate_limit_wait(response)
        if limit is None:
            return False
        deadline = time.monotonic() + limit[0]
        while (left := deadline - time.monotonic()) > 0:
            if self.on_wait is not None:
                self.on_wait(left)
            time.sleep(min(left, 1.0))  # a signal's exception ends the sleep at once
        if self.stats is not None:
            self.stats.waited += limit[0]
        return True


# -- the client -------------------------------------------------------------------------


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for URL (HTTPS_PROXY, HTTP_PROXY, NO_PROXY,
    and their lowercase forms), as requests chose it."""
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    if not proxies or urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return None
    return proxies.get(parts.scheme.lower())


def connection_reason(exc: BaseException) -> str:
    """A short reason from a urllib3 error (no URL in it)."""
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if match:
        return match.group(1).strip().rstrip(".").lower()
    text = re.sub(r"<[^>]*>:?\s*", "", text)
    text = re.sub(r"\s*with url: \S*", "", text)
    return redact_text(text.split("(Caused by")[0].strip().rstrip(":")) or type(exc).__name__


@dataclass
class Response:
    """A page's answer: its final URL, headers and body, a chunk at a time."""

    url: str
    headers: Any
    chunks: Iterator[bytes]


class Client:
    """GETs over one pool manager (so one keep-alive connection per origin)."""

    def __init__(
        self,
        url: str,
        timeout: float,
        retries: int,
        max_bytes: int,
        headers: dict[str, str] | None = None,
        max_wait: float = 120.0,
        stats: Stats | None = None,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_wait = max_wait
        self.stats = stats if stats is not None else Stats()
        self.headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": f"tickets-report/{__version__}",
            **(headers or {}),
        }
        secret = {name.lower() for name in headers or ()}
        retry = RateLimitRetry(
            total=None,
            connect=retries,
            read=retries,
            status=retries,
            other=retries,
            redirect=10,
            backoff_factor=0.5,
            status_forcelist=(429, 500, 502, 503, 504),
            raise_on_status=False,
            remove_headers_on_redirect=Retry.DEFAULT_REMOVE_HEADERS_ON_REDIRECT | secret,
        )
        retry.max_wait, retry.on_wait, retry.stats = max_wait, on_wait, self.stats
        self.retry = retry
        # TLS: the system's trust store (urllib3's default), or the bundle that
        # existing deployments name for requests.
        options: dict[str, Any] = {
            "num_pools": 4,
            "maxsize": 1,
            "cert_reqs": "CERT_REQUIRED",
            "timeout": urllib3.Timeout(connect=timeout, read=timeout),
        }
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            options["ca_certs"] = bundle
        proxy = proxy_for(url)
        self.pool: urllib3.PoolManager
        if proxy:
            parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            proxy_headers = {}
            if parts.username is not None:
                credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                proxy_headers = urllib3.make_headers(proxy_basic_auth=credentials)
            plain = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
            self.pool = urllib3.ProxyManager(plain, proxy_headers=proxy_headers, **options)
        else:
            self.pool = urllib3.PoolManager(**options)

    def get(self, url: str, page: int = 0) -> Response:
        """GET URL: the response of a status 2xx (raises FetchError)."""
        where = redact(url) + (f" (page {page})" if page > 1 else "")
        self.stats.requests += 1
        try:
            response = self.pool.urlopen(
                "GET", url, headers=self.headers, retries=self.retry, preload_content=False
            )
        except WaitTooLong as exc:
            raise FetchError(
                f"{where} is rate limited ({exc.how}): the wait of {exc.seconds:.0f} s is "
                f"longer than --max-wait {self.max_wait:g} s"
            ) from None
        except MaxRetryError as exc:
            raise self._failed(where, exc.reason or exc) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._failed(where, exc) from None
        if not 200 <= response.status < 300:
            detail = ""
            limit = self.retry.rate_limit_wait(response)
            if limit is not None:
                detail = f" (rate limited, {limit[1]}; no retries left: --retries)"
            response.drain_conn()
            response.release_conn()
            raise FetchError(f"{where} answered HTTP {response.status} {response.reason}{detail}")
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            response.drain_conn()
            raise too_large(self.max_bytes, f"{length} bytes; ")
        final = url
        for step in response.retries.history if response.retries else ():
            if step.redirect_location:
                final = urljoin(final, step.redirect_location)
        chunks = capped(self._body(response, where), self.max_bytes)
        return Response(final, response.headers, chunks)

    def _failed(self, where: str, exc: BaseException) -> FetchError:
        if isinstance(exc, Urllib3Timeout) and not isinstance(exc, NewConnectionError):
            return FetchError(f"timed out after {self.timeout:g} s waiting for {where}")
        if isinstance(exc, SSLError):
            return FetchError(f"TLS error with {where}: {connection_reason(exc)}")
        if isinstance(exc, ProxyError):
            return FetchError(f"cannot reach {where} through the proxy: {connection_reason(exc)}")
        if isinstance(exc, ResponseError):
            return FetchError(f"{where}: {connection_reason(exc)}")
        if isinstance(exc, OSError) and not isinstance(exc, urllib3.exceptions.HTTPError):
            return FetchError(f"cannot reach {where}: {describe_os_error(exc).lower()}")
        return FetchError(f"cannot reach {where}: {connection_reason(exc)}")

    def _body(self, response: Any, where: str) -> Iterator[bytes]:
        try:
            length = response.headers.get("Content-Length", "")
            # decode_content given: urllib3 2.6's stream() of a chunked body
            # leaves gzip undecoded when it is left at its default.
            if length.isdigit() and int(length) <= CHUNK_SIZE:
                yield response.read(decode_content=True)  # a small page: at once
            else:
                yield from response.stream(CHUNK_SIZE, decode_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            timed_out = isinstance(exc, Urllib3Timeout) or "timed out" in str(exc)
            reason = "timed out" if timed_out else "connection broken"
            raise FetchError(f"the response from {where} ended early: {reason}") from None
        finally:
            response.release_conn()

    def close(self) -> None:
        self.pool.clear()
