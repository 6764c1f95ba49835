"""The HTML card in a real headless browser (Debian's `chromium`), driven through the Chrome DevTools protocol
over a pipe (`--remote-debugging-pipe`: no websockets, no network).

Checks: no console errors, exceptions or CSP violations; no network request besides the file itself; the plots
are present and laid out; a run named `<script>alert(1)</script>` shows as text and never executes (no dialog
opens, no script element exists). A control page that does run a script proves the harness sees dialogs and
console errors. Skipped, with the reason, when no chromium is installed (CI installs it: see the report).
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from wattwise.report import render

from .ledger_fixture import XSS

CHROMIUM = os.environ.get("WATTWISE_CHROMIUM") or next(
    (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium); "
                                                          "headless browser check of the HTML card skipped")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-pipe"]


class Browser:
    """Minimal CDP client over the pipe: fd 3 carries our commands, fd 4 the browser's replies (NUL-separated)."""

    def __init__(self, profile: Path):
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()

        def wire():  # in the child: put the pipe ends on fds 3 and 4
            a, b = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10), fcntl.fcntl(out_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=wire, close_fds=False)
        os.close(cmd_r)
        os.close(out_w)
        self._msgs: queue.Queue = queue.Queue()
        self._id = 0
        self.events: list[dict] = []
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._out_r, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                self._msgs.put(json.loads(msg))
        self._msgs.put(None)

    def _next(self, deadline: float) -> dict:
        try:
            msg = self._msgs.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError("the browser did not answer in time") from None
        if msg is None:
            raise RuntimeError("the browser closed the pipe")
        if "method" in msg:
            self.events.append(msg)
            if msg["method"] == "Page.javascriptDialogOpening":  # answer it, or the page blocks
                self.send("Page.handleJavaScriptDialog", {"accept": True}, session=msg.get("sessionId"), wait=False)
        return msg

    def send(self, method: str, params: dict | None = None, session: str | None = None, wait: bool = True,
             timeout_s: float = 30.0) -> dict:
        self._id += 1
        mid = self._id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        if not wait:
            return {}
        deadline = time.monotonic() + timeout_s
        while True:
            m = self._next(deadline)
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})

    def wait_event(self, method: str, session: str, timeout_s: float = 30.0) -> dict:
        for e in self.events:
            if e["method"] == method and e.get("sessionId") == session:
                return e
        deadline = time.monotonic() + timeout_s
        while True:
            m = self._next(deadline)
            if m.get("method") == method and m.get("sessionId") == session:
                return m

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._next(deadline)
        except TimeoutError:
            pass

    def open(self, url: str) -> tuple[str, list[dict]]:
        """Open url in a new tab; return the session id and the events seen while it loaded."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(f"{domain}.enable", session=sid)
        start = len(self.events)
        self.send("Page.navigate", {"url": url}, session=sid)
        self.wait_event("Page.loadEventFired", sid)
        self.drain(0.5)  # late console messages
        return sid, [e for e in self.events[start:] if e.get("sessionId") == sid]

    def eval(self, sid: str, expr: str):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=sid)
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluating {expr!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def close(self):
        try:
            self.send("Browser.close", wait=False)
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.proc.kill()
            self.proc.wait(timeout=10)
        finally:
            for fd in (self._cmd_w, self._out_r):
                try:
                    os.close(fd)
                except OSError:
                    pass


def _problems(events: list[dict], page_url: str) -> dict[str, list]:
    out: dict[str, list] = {"console": [], "exceptions": [], "log": [], "dialogs": [], "requests": []}
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            out["console"].append([a.get("value", a.get("description")) for a in p.get("args", [])])
        elif m == "Runtime.exceptionThrown":
            out["exceptions"].append(p.get("exceptionDetails", {}).get("text"))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            out["log"].append(p["entry"].get("text"))
        elif m == "Page.javascriptDialogOpening":
            out["dialogs"].append(p.get("message"))
        elif m == "Network.requestWillBeSent" and p.get("request", {}).get("url") != page_url:
            out["requests"].append(p["request"]["url"])
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def test_harness_sees_scripts_dialogs_and_errors(browser, tmp_path):
    control = tmp_path / "control.html"
    control.write_text("<!DOCTYPE html><html><body><p>control</p>"
                       "<script>console.error('boom'); alert(1)</script></body></html>")
    _, events = browser.open(control.as_uri())
    found = _problems(events, control.as_uri())
    assert found["dialogs"] == ["1"] and found["console"] == [["boom"]]


def test_html_card_in_headless_chromium(browser, demo_card, tmp_path):
    page = tmp_path / "card.html"
    page.write_text(render(demo_card, "html"), encoding="utf-8")
    sid, events = browser.open(page.as_uri())
    found = _problems(events, page.as_uri())
    assert found == {"console": [], "exceptions": [], "log": [], "dialogs": [], "requests": []}
    assert browser.eval(sid, "document.title") == "Efficiency card: project demo"
    # plots: four inline SVGs with a real size and drawn series, bars and points
    sizes = browser.eval(sid, "[...document.querySelectorAll('svg.ww-plot')].map(s => {"
                              "const r = s.getBoundingClientRect(); return [r.width, r.height]; })")
    assert len(sizes) == 4 and all(w > 100 and h > 100 for w, h in sizes)
    assert browser.eval(sid, "document.querySelectorAll('svg .ww-series').length") == 8   # 4 runs x (energy, power)
    assert browser.eval(sid, "document.querySelectorAll('svg .ww-bar').length") == 4
    assert browser.eval(sid, "document.querySelectorAll('svg .ww-point').length") == 3
    # the hostile run name is text, in the table and in the plot legends, and no script element exists
    assert browser.eval(sid, "document.querySelectorAll('script').length") == 0
    cells = browser.eval(sid, "[...document.querySelectorAll('td')].map(t => t.textContent)")
    assert XSS in cells
    assert browser.eval(sid, f"[...document.querySelectorAll('svg text')].some(t => t.textContent === {json.dumps(XSS)})")
    assert XSS in browser.eval(sid, "document.body.innerText")


def test_matplotlib_plots_in_headless_chromium(browser, demo_card, tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib (plot extra) not installed: matplotlib plots not checked")
    page = tmp_path / "card-mpl.html"
    page.write_text(render(demo_card, "html", plots="matplotlib"), encoding="utf-8")
    sid, events = browser.open(page.as_uri())
    assert _problems(events, page.as_uri()) == {"console": [], "exceptions": [], "log": [], "dialogs": [],
                                                 "requests": []}
    sizes = browser.eval(sid, "[...document.querySelectorAll('svg.ww-plot')].map(s => {"
                              "const r = s.getBoundingClientRect(); return [r.width, r.height]; })")
    assert len(sizes) == 4 and all(w > 100 and h > 100 for w, h in sizes)
    assert browser.eval(sid, "document.querySelectorAll('script').length") == 0
    assert browser.eval(sid, f"[...document.querySelectorAll('svg text')].some(t => t.textContent === {json.dumps(XSS)})")
