"""Headless Chromium (Debian's `chromium`) driven over the DevTools protocol,
for the tests of the HTML trend page.

    with Browser(tmp_path) as browser:
        page = browser.open(path_or_url)     # waits for the load event
        page.evaluate("document.title")      # a JSON-able value
        page.requests                        # every URL the page asked for
        page.violations                      # Content-Security-Policy violations
        page.screenshot()                    # PNG bytes
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import websocket

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
]
LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
# Collects Content-Security-Policy violations from the first script that runs.
WATCH_CSP = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
)


class BrowserError(Exception):
    pass


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.browser = browser
        self.session = session
        self.requests: list[str] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return self.browser.call(method, params, self.session)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    @property
    def violations(self) -> list[str]:
        return list(self.evaluate("window.__violations"))

    def screenshot(self) -> bytes:
        width, height = self.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
        )
        clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        data = self.call("Page.captureScreenshot", format="png", clip=clip)["data"]
        return base64.b64decode(data)


class Browser:
    def __init__(self, tmp: Path, timeout: float = 60.0) -> None:
        executable = shutil.which("chromium")
        if executable is None:
            raise BrowserError("chromium is not installed: run 'make chromium' (Debian: chromium)")
        self.timeout = timeout
        profile = tmp / "chromium-profile"
        profile.mkdir()
        self.log = tmp / "chromium.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self.events: list[dict[str, Any]] = []
        self.next_id = 0
        try:
            self.socket = websocket.create_connection(
                self._wait_for_url(), timeout=timeout, suppress_origin=True
            )
        except BaseException:
            self.close()
            raise

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            match = LISTENING.search(self.log.read_text(errors="replace"))
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise BrowserError(f"chromium did not start:\n{self.log.read_text(errors='replace')}")

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _receive(self) -> dict[str, Any]:
        message = json.loads(self.socket.recv())
        if "method" in message:
            self.events.append(message)
        return message

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self.next_id += 1
        request: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        self.socket.send(json.dumps(request))
        while True:
            message = self._receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})

    def wait_for(self, method: str, session: str, seen: int = 0) -> dict[str, Any]:
        """The first event `method` of `session` from self.events[seen:] on."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for event in self.events[seen:]:
                if event["method"] == method and event.get("sessionId") == session:
                    return event
            seen = len(self.events)
            self._receive()
        raise BrowserError(f"no {method} within {self.timeout} s")

    def open(self, target: Path | str, width: int = 1000, height: int = 800) -> Page:
        """Load a file or URL in a new tab; return it once its load event fired."""
        url = target.resolve().as_uri() if isinstance(target, Path) else target
        target_id = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target_id, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session)
        for method in ("Page.enable", "Network.enable", "Runtime.enable"):
            page.call(method)
        page.call("Page.addScriptToEvaluateOnNewDocument", source=WATCH_CSP)
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        first = len(self.events)
        page.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired", session, first)
        page.requests = [
            event["params"]["request"]["url"]
            for event in self.events[first:]
            if event["method"] == "Network.requestWillBeSent" and event.get("sessionId") == session
        ]
        return page
