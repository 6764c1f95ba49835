"""CPU thermal design power (W) by model name, from codecarbon's cpu_power.csv (MIT), for the CPU
power fallback where RAPL cannot be read."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ._lookup import Index, read_table

SOURCE = "codecarbon 3.3.2 data/hardware/cpu_power.csv (MIT)"


@dataclass(frozen=True)
class CPU:
    name: str
    tdp_w: float
    source: str = SOURCE


@lru_cache(maxsize=1)
def index() -> Index[CPU]:
    return Index("CPU", [CPU(r["name"], float(r["tdp_w"])) for r in read_table("cpus.csv")], lambda c: (c.name,))


def cpu(name: str) -> CPU:
    return index().get(name)


def cpus(search: str | None = None) -> list[CPU]:
    return index().search(search, lambda c: (c.name,))
