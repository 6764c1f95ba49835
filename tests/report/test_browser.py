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


# --- layout at 1280 px: nothing overflows its box or the page, plot labels do not overlap, colours differ ----------

WIDTH = 1280
SHOTS = os.environ.get("WATTWISE_CARD_SCREENSHOTS")  # a folder: write card_<name>.png there (benchmarks/results)

LAYOUT_JS = r"""(() => {
  const vw = document.documentElement.clientWidth, bad = [];
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '')
      + ' "' + (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 50) + '"';
  const de = document.documentElement;
  if (de.scrollWidth > vw + 1) bad.push('page is ' + de.scrollWidth + ' px wide at a ' + vw + ' px viewport');
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;   // plot internals: checked below
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > vw + 1 || r.left < -1) bad.push(name(el) + ' leaves the page: x ' + r.left + ' to ' + r.right);
    const st = getComputedStyle(el);
    if (st.display !== 'inline' && st.overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1
        && el.clientWidth > 0)
      bad.push(name(el) + ': content ' + el.scrollWidth + ' px wide in a ' + el.clientWidth + ' px box');
    const p = el.parentElement;
    if (p && p !== de) {
      const pr = p.getBoundingClientRect();
      if (r.right > pr.right + 1 || r.left < pr.left - 1)
        bad.push(name(el) + ' sticks out of ' + name(p) + ': ' + r.left + '..' + r.right + ' in ' + pr.left + '..' + pr.right);
    }
  }
  return bad;
})()"""

PLOTS_JS = r"""(() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.ww-plot')) {
    const s = svg.getBoundingClientRect(), bad = [];
    const title = (svg.querySelector('title') || {}).textContent;
    const texts = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()])
        .filter(([_, r]) => r.width > 0);
    for (const [t, r] of texts)
      if (r.left < s.left - 0.5 || r.right > s.right + 0.5 || r.top < s.top - 0.5 || r.bottom > s.bottom + 0.5)
        bad.push('text "' + t + '" leaves the plot');
    const hit = (a, b, pad) => a.left < b.right - pad && b.left < a.right - pad && a.top < b.bottom - pad
                             && b.top < a.bottom - pad;
    for (let i = 0; i < texts.length; i++)
      for (let j = i + 1; j < texts.length; j++)
        if (hit(texts[i][1], texts[j][1], 0.5)) bad.push('"' + texts[i][0] + '" overlaps "' + texts[j][0] + '"');
    for (const c of svg.querySelectorAll('circle')) {
      const cr = c.getBoundingClientRect();
      for (const [t, r] of texts) if (hit(cr, r, 0.5)) bad.push('"' + t + '" covers a point');
    }
    const colours = [...svg.querySelectorAll('.ww-series')].map(e => e.getAttribute('stroke'))
        .concat([...svg.querySelectorAll('.ww-bar')].map(e => e.getAttribute('fill')));
    out.push({title, bad, colours: [...new Set(colours)]});
  }
  return out;
})()"""


def _lab(hex_colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB '#rrggbb' colour."""
    rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def _delta_e(a: str, b: str) -> float:
    return sum((p - q) ** 2 for p, q in zip(_lab(a), _lab(b))) ** 0.5


def _estimate_card(long_text: bool = False):
    import wattwise
    from wattwise.report import card_from_estimate
    from .ledger_fixture import GENERATOR
    fp = wattwise.estimate(params=7e9, tokens=1.4e12, gpu="H100", region="us-west1", inference_tokens=1e12)
    if long_text:   # a source with an unbreakable 300-character URL, a title without spaces, crowded variants
        fp.sources["pue"] = "measured by the site <https://example.org/" + "x" * 300 + "> (2026)"
        variants = [{"name": f"variant-{i}-with-a-long-name", "accuracy": 0.90 + 0.001 * (i % 3),
                     "energy_kwh": 2.0 + 0.05 * i} for i in range(6)]
        return card_from_estimate(fp, generator=GENERATOR, title="Efficiency" + "_card" * 60, variants=variants)
    return card_from_estimate(fp, generator=GENERATOR)


@pytest.mark.parametrize("name", ["demo", "estimate", "long_text"])
def test_card_layout_at_1280px(browser, demo_card, tmp_path, name):
    """No element of the card overflows its box or the page at 1280 px; in the plots no text leaves the SVG,
    overlaps other text or covers a point, and the series (bars) of a plot have clearly different colours
    (CIE76 delta E >= 30; the two blues of the old palette were 28 apart). The screenshot goes to
    $WATTWISE_CARD_SCREENSHOTS/card_<name>.png when that is set."""
    import base64
    card = demo_card if name == "demo" else _estimate_card(long_text=name == "long_text")
    page = tmp_path / f"card_{name}.html"
    page.write_text(render(card, "html"), encoding="utf-8")
    sid, events = browser.open(page.as_uri())
    browser.send("Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": 900, "deviceScaleFactor": 1,
                                                        "mobile": False}, session=sid)
    assert browser.eval(sid, "window.innerWidth") == WIDTH   # the page itself: WIDTH less a scrollbar
    bad = browser.eval(sid, LAYOUT_JS)
    assert bad == [], "\n".join(bad)
    plots = browser.eval(sid, PLOTS_JS)
    assert plots, "no plot found"
    for p in plots:
        assert p["bad"] == [], f"{p['title']}: " + "; ".join(p["bad"])
        cs = p["colours"]
        close = [(a, b, round(_delta_e(a, b))) for i, a in enumerate(cs) for b in cs[i + 1:] if _delta_e(a, b) < 30]
        assert close == [], f"{p['title']}: near-identical colours {close}"
    if SHOTS and name != "long_text":
        height = browser.eval(sid, "document.documentElement.scrollHeight")
        shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": {
            "x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}}, session=sid)
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        (Path(SHOTS) / f"card_{name}.png").write_bytes(base64.b64decode(shot["data"]))
