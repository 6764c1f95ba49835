"""The Meter protocol: every energy source reports cumulative energy in joules since `start()`, per device,
with a low/high range and the kind of reading (measured or estimated).

Meters know nothing of the ledger or the tracker; the tracker polls `read()` from its sampler thread.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..errors import WattwiseError

MEASURED = "measured"
ESTIMATED = "estimated"
COMPONENTS = ("gpu", "cpu", "memory")


class MeterUnavailable(WattwiseError):
    """This source cannot be read here (no device, no driver, no permission); the message says why and how to fix."""


@dataclass(frozen=True)
class Reading:
    """Cumulative energy of one device (or one process set, for estimates) since the meter started.

    `device` is unique across machines: '<host>/gpu/<uuid>', '<host>/rapl/package-0', '<host>/pid/<pid>/cpu'.
    Readings with the same `device` from different processes count once (physical devices seen by many ranks).
    """

    device: str
    component: str           # 'gpu', 'cpu' or 'memory'
    energy_j: float
    low_j: float
    high_j: float
    kind: str = MEASURED     # 'measured' or 'estimated'
    label: str = ""          # human name: 'NVIDIA H100 80GB HBM3', 'package-0'


@runtime_checkable
class Meter(Protocol):
    """One energy source. `read()` is cheap and may be called every interval; it raises on failure."""

    name: str          # 'nvml', 'rapl-package', 'rapl-dram', 'cpu-tdp', 'memory-model'
    component: str     # 'gpu', 'cpu' or 'memory'
    kind: str          # 'measured' or 'estimated'
    source: str        # method and cited constants, for the footprint's provenance
    # optional `nonblocking = True`: start/read/close only read /proc or sysfs, so the tracker calls them
    # directly; any other meter (a driver: NVML, amdsmi, powermetrics) runs under the tracker's deadline

    def start(self) -> None: ...

    def read(self) -> list[Reading]: ...

    def close(self) -> None: ...


def hostname() -> str:
    return socket.gethostname()
