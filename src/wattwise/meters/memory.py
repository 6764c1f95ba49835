"""DRAM energy estimated from resident memory: power_w = W/GB x resident GB, integrated over time.

Constant: 0.3725 W per GB, Lannelongue et al. 2021, "Green Algorithms: Quantifying the Carbon Footprint of
Computation", Adv. Sci. 8(12) 2100707 (from the DRAM measurements of Karyakin & Salem 2017, DaMoN).
CodeCarbon uses 3 W per 8 GB = 0.375 W/GB. Range 0.5x-1.5x (wattwise assumption: DRAM generation, idle
vs active refresh) -- always flagged as an estimate. Resident memory is the tracked process tree's RSS,
sampled at each read (trapezoid rule).
"""

from __future__ import annotations

import time

from ..footprint import Range
from ._proc import ProcessTree
from .base import ESTIMATED, Reading, hostname

W_PER_GB = Range(0.3725 * 0.5, 0.3725, 0.3725 * 1.5)
GB = 1e9


class MemoryModelMeter:
    """Estimated DRAM energy of a process tree's resident memory."""

    nonblocking = True   # reads /proc or sysfs and does arithmetic: no deadline thread needed

    name = "memory-model"
    component = "memory"
    kind = ESTIMATED
    source = ("estimate: 0.3725 W/GB x resident memory (Lannelongue et al. 2021, Green Algorithms), "
              "range x0.5-x1.5 (wattwise assumption)")

    def __init__(self, *, pid: int | None = None, tree: ProcessTree | None = None, host: str | None = None,
                 clock=time.monotonic):
        self._tree_arg = tree
        self._pid = pid
        self._clock = clock
        self.host = host or hostname()
        self._tree: ProcessTree | None = None
        self._gb_s = 0.0        # integral of resident GB over seconds
        self._last: tuple[float, float] | None = None
        self.peak_gb = 0.0

    def start(self) -> None:
        self._tree = self._tree_arg or ProcessTree(self._pid)
        self._last = (self._clock(), self._tree.sample()[1] / GB)

    def read(self) -> list[Reading]:
        now, gb = self._clock(), self._tree.sample()[1] / GB
        t0, gb0 = self._last
        if now > t0:
            self._gb_s += 0.5 * (gb0 + gb) * (now - t0)
        self._last = (now, gb)
        self.peak_gb = max(self.peak_gb, gb)
        e = W_PER_GB * self._gb_s
        return [Reading(f"{self.host}/pid/{self._tree.pid}/memory", "memory", e.central, e.low, e.high, ESTIMATED,
                        "resident memory")]

    def close(self) -> None:
        pass
