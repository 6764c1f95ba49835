"""Meters per component, each with its fallbacks: GPU NVML counter -> NVML power sampling; CPU RAPL package
-> TDP x utilisation (estimate); memory RAPL DRAM -> W/GB model (estimate). A meter that raises mid-run hands
over to the next with one warning, keeping the energy it had counted ("banked"); a component whose meters are
all gone stops counting and says so in its source."""

from __future__ import annotations

import math
import os
import queue
import threading
from typing import Callable

_ENERGY_KEYS = ("energy_j", "low_j", "high_j")

# A meter read that has not returned after this many seconds is abandoned (its thread is left to finish on its
# own) and the meter is treated as failed: the chain falls back and the job is never held by a hung driver.
DEFAULT_READ_DEADLINE_S = 2.0


class MeterHung(RuntimeError):
    """A meter read did not return within the deadline."""


class _Worker:
    """A reusable daemon thread that runs meter calls; it returns to the idle pool after each call. A worker
    stuck in a hung call never returns, and the next call gets another."""

    def __init__(self):
        self.q: "queue.SimpleQueue" = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="wattwise-meter-call", daemon=True).start()

    def _loop(self) -> None:
        while True:
            fn, box, done = self.q.get()
            try:
                box["value"] = fn()
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                box["error"] = e
            finally:
                done.set()
            with _IDLE_LOCK:
                _IDLE.append(self)


_IDLE: list[_Worker] = []
_IDLE_LOCK = threading.Lock()


def _reset_after_fork() -> None:
    """A forked child has none of the parent's worker threads: forget them."""
    global _IDLE_LOCK
    _IDLE_LOCK = threading.Lock()
    _IDLE.clear()


def _call_with_deadline(fn: Callable, deadline_s: float | None):
    """fn() on a pooled worker thread, waiting at most `deadline_s` (None: call directly)."""
    if deadline_s is None:
        return fn()
    with _IDLE_LOCK:
        w = _IDLE.pop() if _IDLE else None
    if w is None:
        w = _Worker()
    box: dict = {}
    done = threading.Event()
    w.q.put((fn, box, done))
    if not done.wait(deadline_s):
        raise MeterHung(f"no answer within {deadline_s:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _finite(r) -> bool:
    return all(math.isfinite(getattr(r, k)) for k in _ENERGY_KEYS)


def reading_dict(r) -> dict:
    """A meter `Reading` as the plain dict the ledger stores."""
    return {"device": r.device, "component": r.component, "energy_j": r.energy_j, "low_j": r.low_j,
            "high_j": r.high_j, "kind": r.kind, "label": r.label}


def _add(d: dict, b: dict | None) -> dict:
    if b is not None:
        for k in _ENERGY_KEYS:
            d[k] += b[k]
        if b["kind"] != d["kind"]:
            d["kind"] = "estimated"
    return d


class MeterChain:
    """One component's chain of meters: the active one, and energy banked from meters that failed."""

    def __init__(self, component: str, candidates: list, warn: Callable[[str], None],
                 read_deadline_s: float | None = DEFAULT_READ_DEADLINE_S):
        self.read_deadline_s = read_deadline_s
        self.component = component
        self.candidates = list(candidates)
        self.warn = warn
        self.meter = None
        self.used: list = []
        self.notes: list[str] = []
        self.banked: dict[str, dict] = {}
        self.last: list = []

    def start_next(self) -> bool:
        """Start the next candidate that can start; False when none is left."""
        from ..meters.base import MeterUnavailable
        while self.candidates:
            c = self.candidates.pop(0)
            m = None
            try:
                m = c() if not hasattr(c, "read") else c
                _call_with_deadline(m.start, self._deadline(m))
            except MeterUnavailable as e:
                self.notes.append(str(e))
                if "Fix:" in str(e):
                    self.warn(f"wattwise: {e}")
                self._skip_same_source(getattr(m, "name", None))
                continue
            except Exception as e:  # noqa: BLE001
                name = getattr(m, "name", getattr(c, "__name__", "meter"))
                self.notes.append(f"{name}: {type(e).__name__}: {e}")
                self.warn(f"wattwise: {self.component} meter {name} failed to start ({type(e).__name__}: {e}); "
                          "using the next fallback")
                continue
            self.meter = m
            self.used.append(m)
            self.last = []
            return True
        self.meter = None
        return False

    def _deadline(self, meter) -> float | None:
        """No deadline thread for meters that only read /proc or sysfs (`nonblocking`); drivers get one."""
        return None if getattr(meter, "nonblocking", False) else self.read_deadline_s

    def _skip_same_source(self, name: str | None) -> None:
        """The same source's other modes (NVML sampling after NVML counter) cannot start either."""
        while self.candidates and name is not None:
            nxt = self.candidates[0]
            nxt = nxt() if not hasattr(nxt, "read") else nxt
            if getattr(nxt, "name", None) != name:
                self.candidates[0] = nxt
                return
            self.candidates.pop(0)

    def _bank(self) -> None:
        for r in self.last:
            self.banked[r.device] = _add(reading_dict(r), self.banked.get(r.device))
        self.last = []

    def read(self) -> list[dict]:
        """Cumulative readings per device (banked energy included); never raises."""
        while self.meter is not None:
            try:
                got = list(_call_with_deadline(self.meter.read, self._deadline(self.meter)))
                bad = [r for r in got if not _finite(r)]
                if bad:   # a NaN or infinite reading is dropped (the device keeps its last good value), once said
                    self.warn(f"wattwise: {self.component} meter {self.meter.name} returned a non-finite reading "
                              f"for {bad[0].device} ({bad[0].energy_j!r} J); it is ignored and the last good value kept")
                    keep = {r.device: r for r in self.last}
                    got = [r if _finite(r) else keep[r.device] for r in got if _finite(r) or r.device in keep]
                self.last = got
                break
            except Exception as e:  # noqa: BLE001 - a failing meter never reaches user code
                old = self.meter
                self._bank()
                if not isinstance(e, MeterHung):   # a hung meter's close() might hang too: leave it
                    try:
                        old.close()
                    except Exception:  # noqa: BLE001
                        pass
                self.start_next()
                nxt = getattr(self.meter, "name", None)
                msg = (f"wattwise: {self.component} meter {old.name} failed ({type(e).__name__}: {e}); "
                       + (f"falling back to {nxt}" if nxt else "no fallback left: this component stops counting"))
                self.notes.append(msg)
                self.warn(msg)
        out = dict(self.banked)
        for r in self.last:
            out[r.device] = _add(reading_dict(r), out.get(r.device))
        return list(out.values())

    def source(self) -> str:
        parts = [f"{m.name} ({m.kind}): {m.source}" for m in self.used]
        if self.notes:
            parts.append("not used: " + "; ".join(self.notes))
        return " | ".join(parts) or "none"

    def close(self) -> None:
        for m in self.used:
            try:
                _call_with_deadline(m.close, self._deadline(m))
            except Exception:  # noqa: BLE001 - a meter that cannot close (or hangs closing) is left behind
                pass


def default_candidates(dist: dict | None, *, nvml=None, rapl_root: str | None = None,
                       pid: int | None = None) -> dict[str, list]:
    """The default meter factories per component, in fallback order (nothing is started here).

    gpu: NVML counter -> NVML sampling -> AMD SMI counter -> AMD SMI sampling -> Jetson rails -> powermetrics;
    cpu: RAPL package (powercap MSR, else MMIO zones) -> RAPL through perf events (no root) -> Jetson rails ->
    powermetrics -> CPU share estimate -> TDP x utilisation estimate (RAPL through perf only when no powercap
    root was named: `rapl_root` or WATTWISE_RAPL_ROOT);
    memory: RAPL DRAM -> RAPL DRAM through perf -> Jetson rails -> W/GB model. Each meter's start() fails fast
    (a missing device node, sysfs folder or platform) before importing any driver.
    """
    from ..meters import (
        amd,
        cpu_fallback,
        cpu_share,
        jetson,
        memory,
        powermetrics,
        rapl,
        rapl_perf,
    )
    from ..meters import nvml as nvml_meter
    given = rapl_root or os.environ.get("WATTWISE_RAPL_ROOT")
    root = given or rapl.DEFAULT_ROOT
    # a powercap tree named explicitly (tests, containers with a bind mount) is the RAPL source: no perf fallback
    perf = [] if given else [lambda: rapl_perf.RaplPerfMeter("package")]
    perf_dram = [] if given else [lambda: rapl_perf.RaplPerfMeter("dram")]
    lr = dist.get("local_rank") if dist else None
    lws = dist.get("local_world_size") if dist else None
    return {
        "gpu": [lambda: nvml_meter.NvmlMeter(nvml, local_rank=lr, local_world_size=lws),
                lambda: nvml_meter.NvmlMeter(nvml, sampling=True, local_rank=lr, local_world_size=lws),
                lambda: amd.AmdSmiMeter(), lambda: amd.AmdSmiMeter(sampling=True),
                lambda: jetson.JetsonMeter("gpu"), lambda: powermetrics.PowermetricsMeter("gpu")],
        "cpu": [lambda: rapl.RaplMeter("package", root), *perf, lambda: jetson.JetsonMeter("cpu"),
                lambda: powermetrics.PowermetricsMeter("cpu"), lambda: cpu_share.CpuShareMeter(pid=pid),
                lambda: cpu_fallback.CpuTdpMeter(pid=pid)],
        "memory": [lambda: rapl.RaplMeter("dram", root), *perf_dram, lambda: jetson.JetsonMeter("memory"),
                   lambda: memory.MemoryModelMeter(pid=pid)],
    }


def chains(meters: list | None, dist: dict | None, warn: Callable[[str, str], None],
           read_deadline_s: float | None = DEFAULT_READ_DEADLINE_S, **defaults) -> list[MeterChain]:
    """One chain per component: from `meters` (Meter objects or factories, grouped by component in the given
    order) or the defaults. `warn(key, msg)` reports once per key."""
    if meters is not None:
        cands: dict[str, list] = {}
        for m in meters:
            m = m if hasattr(m, "component") else m()
            cands.setdefault(m.component, []).append(m)
    else:
        cands = default_candidates(dist, **defaults)
    return [MeterChain(c, cs, lambda msg, c=c: warn(f"{c}:{msg}", msg), read_deadline_s) for c, cs in cands.items()]
