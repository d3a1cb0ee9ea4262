"""Open an HTML file in headless Chromium (Debian's ``chromium``) over the DevTools protocol and report what a
reader would see: title, text, every image with its decoded size, console errors, and a full-page screenshot.

A tiny CDP client over ``websockets``: no browser download, no driver (the ``chromium`` package is the browser).
Used by the `browser_check` fixture (tests/conftest.py).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("BACKPROPLAB_CHROMIUM", "/usr/bin/chromium")
INSTALL_HINT = (
    "Debian's chromium is needed for the HTML report tests: run `bash scripts/test.sh` (it installs "
    "it) or `sudo apt-get update -q && sudo apt-get install -y chromium`"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
]

# Every image on the page: present, fully loaded and decoded (decode() rejects a broken image).
IMAGES_JS = """
Promise.all(Array.from(document.images).map(img => img.decode().then(() => true, () => false).then(ok => ({
  alt: img.alt, src: img.currentSrc.slice(0, 40), complete: img.complete, decoded: ok,
  naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
  shownWidth: img.getBoundingClientRect().width, shownHeight: img.getBoundingClientRect().height}))))
"""


@dataclass
class BrowserResult:
    """What the page showed. ``errors``: console errors, uncaught exceptions and error log entries."""

    url: str
    title: str
    text: str
    images: list[dict[str, Any]]
    errors: list[str]
    screenshot: Path
    page_size: tuple[int, int]
    warnings: list[str] = field(default_factory=list)

    @property
    def broken_images(self) -> list[dict[str, Any]]:
        return [
            i
            for i in self.images
            if not (i["complete"] and i["decoded"] and i["naturalWidth"] > 0 and i["naturalHeight"] > 0)
        ]


class CDPError(RuntimeError):
    pass


class _Session:
    """One DevTools websocket: commands by id; events are kept in order until read."""

    def __init__(self, ws: Any, timeout: float) -> None:
        self.ws = ws
        self.timeout = timeout
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise CDPError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, event: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        for i, msg in enumerate(self.events):
            if msg["method"] == event:
                return self.events.pop(i)
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if "method" in msg:
                if msg["method"] == event:
                    return msg
                self.events.append(msg)


def _launch(user_dir: Path, timeout: float) -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={user_dir}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port_file = user_dir / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CDPError(f"{CHROMIUM} exited with status {proc.returncode} before opening its DevTools port")
        if port_file.is_file():
            lines = port_file.read_text().split()
            if lines:
                return proc, int(lines[0])
        time.sleep(0.05)
    proc.kill()
    raise CDPError(f"{CHROMIUM} did not open its DevTools port within {timeout:.0f} s")


def _page_ws_url(port: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as resp:
            pages = [t for t in json.load(resp) if t.get("type") == "page"]
        if pages:
            return pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.05)
    raise CDPError("Chromium opened no page")


def _describe_event(msg: dict[str, Any]) -> str | None:
    method, p = msg["method"], msg.get("params", {})
    if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
        return (
            "console."
            + p["type"]
            + ": "
            + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
        )
    if method == "Runtime.exceptionThrown":
        details = p.get("exceptionDetails", {})
        return "uncaught exception: " + str(details.get("exception", {}).get("description") or details.get("text"))
    if method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
        entry = p["entry"]
        return f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".strip()
    return None


def check_page(
    html_path: str | Path, screenshot: str | Path, *, width: int = 1280, height: int = 900, timeout: float = 60.0
) -> BrowserResult:
    """Load ``html_path`` in headless Chromium, wait for the load event, inspect the images, collect console
    errors and save a full-page PNG screenshot to ``screenshot``."""
    if not Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is None:
        raise FileNotFoundError(f"{CHROMIUM} not found. {INSTALL_HINT}")
    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="backproplab-chromium-") as tmp:
        proc, port = _launch(Path(tmp), timeout)
        closed = False
        try:
            from websockets.sync.client import connect

            with connect(_page_ws_url(port, timeout), max_size=None, open_timeout=timeout) as ws:
                session = _Session(ws, timeout)
                for domain in ("Page", "Runtime", "Log"):
                    session.call(f"{domain}.enable")
                session.call(
                    "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
                )
                nav = session.call("Page.navigate", url=url)
                if nav.get("errorText"):
                    raise CDPError(f"could not open {url}: {nav['errorText']}")
                session.wait_for("Page.loadEventFired")
                images = session.call("Runtime.evaluate", expression=IMAGES_JS, awaitPromise=True, returnByValue=True)[
                    "result"
                ]["value"]
                info = session.call(
                    "Runtime.evaluate",
                    returnByValue=True,
                    expression=(
                        "({title: document.title, text: document.body ? document.body.innerText : '',"
                        " w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight})"
                    ),
                )["result"]["value"]
                shot = session.call(
                    "Page.captureScreenshot",
                    format="png",
                    captureBeyondViewport=True,
                    clip={"x": 0, "y": 0, "width": max(width, info["w"]), "height": info["h"], "scale": 1},
                )
                session.call("Runtime.evaluate", expression="1")  # drain events that arrived meanwhile
                errors = [e for e in (_describe_event(m) for m in session.events) if e]
                try:
                    session.call("Browser.close")
                    closed = True
                except Exception:  # noqa: BLE001 - the browser may close the socket before answering
                    closed = True
        finally:
            if not closed:  # an error above: do not wait for a browser nobody asked to close
                proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    screenshot = Path(screenshot)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    return BrowserResult(
        url=url,
        title=info["title"],
        text=info["text"],
        images=images,
        errors=errors,
        screenshot=screenshot,
        page_size=(int(info["w"]), int(info["h"])),
    )
