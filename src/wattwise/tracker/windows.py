"""Named windows of a tracked run (in the spirit of Zeus's `begin_window` / `end_window`): each covers the
energy, time and FLOPs between its two meter reads, may overlap others and may be opened and closed from any
thread. A window's footprint is the difference of two cumulative snapshots, device by device."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from ..footprint import Footprint

OPEN_AT_STOP = "open_at_stop"   # status of a window the run stopped before it was ended


@dataclass(frozen=True)
class Snapshot:
    """Cumulative readings of a run at one moment: wall time, readings per device, FLOPs, steps and tokens so
    far."""
    t_wall: float
    readings: tuple[dict, ...]
    flops: float
    steps: int
    tokens: float = 0.0
    t_mono: float = 0.0    # time.monotonic() of the read: durations come from it, never from the wall clock


@dataclass(eq=False)
class Window:
    """One named window; `footprint` is set when it ends (`status` 'ok', 'failed' or 'open_at_stop')."""
    name: str
    start: Snapshot
    _tracker: Any = field(repr=False, default=None)
    end: Snapshot | None = None
    status: str | None = None
    footprint: Footprint | None = None

    @property
    def start_ts(self) -> float:
        return self.start.t_wall

    @property
    def end_ts(self) -> float | None:
        return None if self.end is None else self.end.t_wall

    @property
    def is_open(self) -> bool:
        return self.end is None

    def __enter__(self) -> "Window":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._tracker is not None:
            self._tracker.end_window(self, status="ok" if exc_type is None else "failed")
        return False


def delta_readings(start: Snapshot, end: Snapshot) -> list[dict]:
    """Per device: end minus start energy (and its bounds), never below 0; devices new at `end` count whole."""
    before = {r["device"]: r for r in start.readings}
    out = []
    for r in end.readings:
        b = before.get(r["device"])
        d = dict(r)
        if b is not None:
            for k in ("energy_j", "low_j", "high_j"):
                d[k] = max(0.0, r[k] - b[k])
        out.append(d)
    return out


def window_part(start: Snapshot, end: Snapshot, base: dict, status: str) -> dict:
    """The pseudo run part covering [start, end] (the shape `wattwise.measured.footprint_from_parts` reads)."""
    flops = end.flops - start.flops
    base = dict(base, info=dict(base.get("info") or {}, elapsed_s=max(0.0, end.t_mono - start.t_mono)))
    tokens = end.tokens - start.tokens
    if tokens:
        base = dict(base, info=dict(base.get("info") or {}, tokens=tokens))
    return dict(base, status=status, start_ts=start.t_wall, end_ts=end.t_wall, updated_ts=end.t_wall,
                flops=flops or None, steps=end.steps - start.steps, readings=delta_readings(start, end))


def ledger_row(w: Window, rank: int) -> dict:
    """What `Ledger.write_window` stores for a closed window."""
    return {"name": w.name, "rank": rank, "start_ts": w.start_ts, "end_ts": w.end_ts, "status": w.status,
            "footprint": w.footprint.to_dict() if w.footprint is not None else {}}


class WindowsMixin:
    """The Tracker's window API; it relies on the Tracker's locks, snapshot and `_footprint_of`."""

    def begin_window(self, name: str) -> Window:
        """Open a named window (a fresh meter read); windows may overlap and come from any thread. Never raises:
        on a tracker that is not running the window is returned unmeasured, with a warning."""
        name = str(name)
        if not self._running:
            self._warn_once(f"window-idle:{name}", f"wattwise: window {name!r} opened on a tracker that is not "
                                                   "running: it is not measured")
            return Window(name, Snapshot(time.time(), (), 0.0, 0), None, status="not measured")
        w = Window(name, self._fresh_snapshot(), self)
        with self._state_lock:
            if any(o.name == name for o in self._open):
                self._warn_once(f"window-dup:{name}", f"wattwise: window {name!r} is already open; a second one "
                                                      "is opened (end_window(name) ends the newest)")
            self._open.append(w)
        return w

    def end_window(self, window: "str | Window", status: str = "ok") -> Footprint | None:
        """End a window (a Window, or the name of the newest open window of that name) and return its footprint;
        it is recorded in the ledger at the next checkpoint. Never raises."""
        try:
            with self._state_lock:
                if isinstance(window, Window):
                    w = window if window in self._open else None
                else:
                    w = next((o for o in reversed(self._open) if o.name == str(window)), None)
                if w is not None:
                    self._open.remove(w)
            if w is None:
                if isinstance(window, Window) and (not window.is_open or window.status == "not measured"):
                    return window.footprint
                self._warn_once(f"window-unknown:{window}", f"wattwise: no open window {window!r} to end")
                return None
            return self._close_window(w, self._fresh_snapshot() if self._running else self._snap, status)
        except Exception as e:  # noqa: BLE001
            self._warn_once("window", f"wattwise: window could not be measured ({type(e).__name__}: {e})")
            return None

    def window(self, name: str) -> Window:
        """`with tracker.window("epoch-3") as w: ...`, then `w.footprint`; an exception marks it 'failed'."""
        return self.begin_window(name)

    @property
    def windows(self) -> list[Window]:
        """The windows ended so far, in the order they ended."""
        with self._state_lock:
            return list(self._closed)

    def _close_window(self, w: Window, end: Snapshot, status: str) -> Footprint:
        base = {"rank": self.rank, "host": socket.gethostname(), "pid": os.getpid() if self._pid is None else self._pid,
                "info": dict(self._part_info, sources=self._meter_sources())}
        fp = self._footprint_of(window_part(w.start, end, base, status), status)
        fp.extra["window"] = w.name
        w.end, w.status, w.footprint = end, status, fp
        with self._state_lock:
            self._closed.append(w)
            self._unwritten.append(w)
        return fp

