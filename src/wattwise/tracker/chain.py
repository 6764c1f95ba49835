"""Meters per component, each with its fallbacks: GPU NVML counter -> NVML power sampling; CPU RAPL package
-> TDP x utilisation (estimate); memory RAPL DRAM -> W/GB model (estimate). A meter that raises mid-run hands
over to the next with one warning, keeping the energy it had counted ("banked"); a component whose meters are
all gone stops counting and says so in its source."""

from __future__ import annotations

import os
from typing import Callable

_ENERGY_KEYS = ("energy_j", "low_j", "high_j")


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

    def __init__(self, component: str, candidates: list, warn: Callable[[str], None]):
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
                m.start()
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
                self.last = list(self.meter.read())
                break
            except Exception as e:  # noqa: BLE001 - a failing meter never reaches user code
                old = self.meter
                self._bank()
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
                m.close()
            except Exception:  # noqa: BLE001
                pass


def default_candidates(dist: dict | None, *, nvml=None, rapl_root: str | None = None,
                       pid: int | None = None) -> dict[str, list]:
    """The default meter factories per component, in fallback order (nothing is started here)."""
    from ..meters import cpu_fallback, memory, nvml as nvml_meter, rapl
    root = rapl_root or os.environ.get("WATTWISE_RAPL_ROOT") or rapl.DEFAULT_ROOT
    lr = dist.get("local_rank") if dist else None
    lws = dist.get("local_world_size") if dist else None
    return {
        "gpu": [lambda: nvml_meter.NvmlMeter(nvml, local_rank=lr, local_world_size=lws),
                lambda: nvml_meter.NvmlMeter(nvml, sampling=True, local_rank=lr, local_world_size=lws)],
        "cpu": [lambda: rapl.RaplMeter("package", root), lambda: cpu_fallback.CpuTdpMeter(pid=pid)],
        "memory": [lambda: rapl.RaplMeter("dram", root), lambda: memory.MemoryModelMeter(pid=pid)],
    }


def chains(meters: list | None, dist: dict | None, warn: Callable[[str, str], None], **defaults) -> list[MeterChain]:
    """One chain per component: from `meters` (Meter objects or factories, grouped by component in the given
    order) or the defaults. `warn(key, msg)` reports once per key."""
    if meters is not None:
        cands: dict[str, list] = {}
        for m in meters:
            m = m if hasattr(m, "component") else m()
            cands.setdefault(m.component, []).append(m)
    else:
        cands = default_candidates(dist, **defaults)
    return [MeterChain(c, cs, lambda msg, c=c: warn(f"{c}:{msg}", msg)) for c, cs in cands.items()]
