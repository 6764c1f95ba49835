"""CPU energy estimated where no counter can be read: catalog TDP x the process's CPU utilisation.

Method (Lannelongue et al. 2021, "Green Algorithms", Adv. Sci. 8(12) 2100707: power = TDP x usage; also
CodeCarbon's fallback): power_w = TDP_w x utilisation, utilisation = CPU seconds of the tracked process tree /
(wall seconds x logical CPUs); so energy_j = TDP_w x CPU seconds / logical CPUs.

Range (wattwise assumption, always flagged as an estimate): low = 0.5 x, high = 1.25 x the central value:
sustained package power is often well under TDP, and turbo (Intel PL2) may exceed it.
An unknown CPU model gets no invented point value: its TDP is the spread of the catalog's 4,900+ CPUs
(10th percentile - median - 90th percentile, codecarbon cpu_power.csv).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from ..catalog.cpus import SOURCE
from ..footprint import Range
from ._proc import ProcessTree, cpu_model_name
from .base import ESTIMATED, Reading, hostname

FACTOR = Range(0.5, 1.0, 1.25)


def clean_cpu_name(brand: str) -> str:
    """'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz' -> 'Intel Xeon Gold 6248'; 'AMD EPYC 7763 64-Core Processor'
    -> 'AMD EPYC 7763'."""
    s = re.sub(r"\((R|TM|r|tm)\)", "", brand)
    s = re.sub(r"@.*$", "", s)
    s = re.sub(r"\b\d+-Core\b", "", s, flags=re.I)
    s = re.sub(r"\b(CPU|Processor|with Radeon.*Graphics)\b", "", s, flags=re.I)
    return re.sub(r"\s+", " ", s).strip()


@lru_cache(maxsize=1)
def catalog_tdp_spread() -> Range:
    """10th percentile, median and 90th percentile TDP (W) of the catalog's CPUs (zeros excluded)."""
    tdps = sorted(tdp for _, tdp in _cpu_table()[0].values() if tdp > 0)
    n = len(tdps)
    median = tdps[n // 2] if n % 2 else (tdps[n // 2 - 1] + tdps[n // 2]) / 2  # no `statistics`: import cost
    return Range(tdps[n // 10], median, tdps[(9 * n) // 10])


def _ascii_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@lru_cache(maxsize=1)
def _cpu_table() -> tuple[dict[str, tuple[str, float]], dict[str, list[tuple[str, float]]]]:
    """(exact lower-case name -> (name, TDP), squeezed name -> [(name, TDP)]) from the catalog's cpus.csv, in one
    cheap pass (the catalog's full index, with its did-you-mean, costs ~50 ms; this runs at tracker start)."""
    from ..catalog._lookup import read_table
    exact: dict[str, tuple[str, float]] = {}
    squeezed: dict[str, list[tuple[str, float]]] = {}
    for r in read_table("cpus.csv"):
        rec = (r["name"], float(r["tdp_w"]))
        exact.setdefault(r["name"].lower(), rec)
        squeezed.setdefault(_ascii_key(r["name"]), []).append(rec)
    return exact, squeezed


def _find_cpu(name: str):
    """Catalog CPU (name, TDP W) by exact or punctuation-insensitive name, or None."""
    exact, squeezed = _cpu_table()
    rec = exact.get(name.strip().lower())
    if rec is None:
        bucket = squeezed.get(_ascii_key(name), [])
        rec = bucket[0] if len(bucket) == 1 else None
    return rec


@lru_cache(maxsize=16)
def lookup_tdp(brand: str | None) -> tuple[Range, str]:
    """(TDP range in W, how it was found) for a CPU brand string."""
    if brand:
        for name in dict.fromkeys((brand, clean_cpu_name(brand))):
            c = _find_cpu(name) if name else None
            if c is not None and c[1] > 0:
                return Range.point(c[1]), f"{c[0]} TDP {c[1]:g} W ({SOURCE})"
    spread = catalog_tdp_spread()
    return spread, (f"CPU {brand!r} not in the catalog: TDP unknown, range {spread.low:g}-{spread.central:g}-"
                    f"{spread.high:g} W (10th pct-median-90th pct of the catalog's CPUs, codecarbon cpu_power.csv)")


class CpuTdpMeter:
    """Estimated CPU energy of a process tree (default: this process and its children)."""

    nonblocking = True   # reads /proc or sysfs and does arithmetic: no deadline thread needed

    name = "cpu-tdp"
    component = "cpu"
    kind = ESTIMATED

    def __init__(self, *, tdp_w: float | None = None, cpu_name: str | None = None, pid: int | None = None,
                 n_cpus: int | None = None, tree: ProcessTree | None = None, host: str | None = None):
        self._tree_arg = tree
        self._pid = pid
        self.n_cpus = n_cpus or os.cpu_count() or 1
        self._cpu_name_arg = cpu_name
        self._tdp_arg = tdp_w
        self._tdp: tuple[Range, str] | None = None
        self.host = host or hostname()
        self._tree: ProcessTree | None = None
        self._cpu0_s = 0.0

    def _resolve(self) -> tuple[Range, str]:
        """TDP and how it was found; looked up on first use (the sampler thread), not at start."""
        if self._tdp is None:
            self.cpu_name = self._cpu_name_arg if self._cpu_name_arg is not None else cpu_model_name()
            if self._tdp_arg is not None:
                self._tdp = Range.point(float(self._tdp_arg)), f"given TDP {self._tdp_arg:g} W"
            else:
                self._tdp = lookup_tdp(self.cpu_name)
        return self._tdp

    @property
    def tdp_w(self) -> Range:
        return self._resolve()[0]

    @property
    def tdp_known(self) -> bool:
        return self.tdp_w.exact

    @property
    def source(self) -> str:
        return (f"estimate: {self._resolve()[1]} x process CPU utilisation over {self.n_cpus} logical CPUs "
                "(Lannelongue et al. 2021 Green Algorithms method); range x0.5-x1.25 (wattwise assumption)")

    def start(self) -> None:
        self._tree = self._tree_arg or ProcessTree(self._pid)
        self._cpu0_s = self._tree.sample()[0]

    def cpu_seconds(self) -> float:
        return self._tree.sample()[0] - self._cpu0_s

    def read(self) -> list[Reading]:
        cpu_s = self.cpu_seconds()
        e = self.tdp_w * FACTOR * (cpu_s / self.n_cpus)
        return [Reading(f"{self.host}/pid/{self._tree.pid}/cpu", "cpu", e.central, e.low, e.high, ESTIMATED,
                        self.cpu_name or "unknown CPU")]

    def close(self) -> None:
        pass


def utilisation(meter: CpuTdpMeter, wall_s: float) -> float:
    """Mean utilisation (0-1) of all logical CPUs by the tracked tree over `wall_s`."""
    return meter.cpu_seconds() / (wall_s * meter.n_cpus) if wall_s > 0 else 0.0

