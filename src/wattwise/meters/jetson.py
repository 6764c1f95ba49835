"""NVIDIA Jetson power rails from the on-module INA3221 monitors in sysfs, sampled and integrated (trapezoid).

Two driver layouts (NVIDIA Jetson Linux Developer Guide, "Power Monitoring" / "Jetson ... Power Management"):
- L4T 32 (JetPack 4; Nano, TX2, Xavier): /sys/bus/i2c/drivers/ina3221x/<bus-addr>/iio:device<N>/
  rail_name_<k>, in_power<k>_input (mW);
- L4T 34+ (JetPack 5/6; Orin, Xavier): hwmon, /sys/bus/i2c/drivers/ina3221/<bus-addr>/hwmon/hwmon<N>/
  in<k>_label, in<k>_input (bus mV), curr<k>_input (mA); power = mV x mA / 1000 mW.

Rails go to components by name: 'CPU' -> cpu, 'GPU' -> gpu, 'DDR'/'VDDRQ' -> memory. Orin modules have one rail
for CPU, GPU and CV together (VDD_CPU_GPU_CV): it is counted under gpu, and the cpu meter then reports 0 J
labelled as included there (so the CPU is not counted twice by an estimate). Module input (VDD_IN, POM_5V_IN)
and SoC rails are not assigned to a component.
Range: +/-5% (wattwise assumption: the INA3221's gain error is 0.25% (TI datasheet SBOS576), the rest is
sampling a varying load at the tracker's interval).
"""

from __future__ import annotations

import glob
import os
import re
import time
from dataclasses import dataclass

from .base import MEASURED, MeterUnavailable, Reading, hostname

RELATIVE_ERROR = 0.05
LEGACY_GLOB = "/sys/bus/i2c/drivers/ina3221x/*/iio:device*"
HWMON_GLOB = "/sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon*"


def _read(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as f:
        return f.read().strip()


@dataclass
class Rail:
    name: str
    files: tuple[str, ...]   # (power mW) or (voltage mV, current mA)

    def power_w(self) -> float:
        if len(self.files) == 1:
            return float(_read(self.files[0])) / 1000.0
        return float(_read(self.files[0])) * float(_read(self.files[1])) / 1e6


def rail_component(name: str) -> str | None:
    n = name.upper()
    if "GPU" in n:
        return "gpu"  # includes VDD_CPU_GPU_CV (Orin)
    if "CPU" in n:
        return "cpu"
    if re.search(r"DDR|VDDRQ|\bDRAM", n):
        return "memory"
    return None


def find_rails(root: str = "") -> list[Rail]:
    rails: list[Rail] = []
    for dev in sorted(glob.glob(root + LEGACY_GLOB)):
        for f in sorted(glob.glob(os.path.join(dev, "rail_name_*"))):
            k = f.rsplit("_", 1)[1]
            p = os.path.join(dev, f"in_power{k}_input")
            if os.path.exists(p):
                rails.append(Rail(_read(f), (p,)))
    for dev in sorted(glob.glob(root + HWMON_GLOB)):
        for f in sorted(glob.glob(os.path.join(dev, "in*_label"))):
            k = re.search(r"in(\d+)_label$", f).group(1)
            v, c = os.path.join(dev, f"in{k}_input"), os.path.join(dev, f"curr{k}_input")
            label = _read(f)
            if os.path.exists(v) and os.path.exists(c) and not label.lower().startswith("sum of"):
                rails.append(Rail(label, (v, c)))
    return rails


class JetsonMeter:
    """Energy of one component's INA3221 rails on an NVIDIA Jetson."""

    nonblocking = True   # reads /proc or sysfs and does arithmetic: no deadline thread needed

    kind = MEASURED

    def __init__(self, component: str = "gpu", root: str = "", *, host: str | None = None, clock=time.monotonic):
        self.component = component
        self.name = f"jetson-{component}"
        self.root = root
        self.host = host or hostname()
        self._clock = clock
        self.rails: list[Rail] = []
        self.combined: str | None = None
        self._energy: dict[str, float] = {}
        self._last: dict[str, tuple[float, float]] = {}
        self._t0 = 0.0
        self.source = "Jetson INA3221 rails"

    def start(self) -> None:
        rails = find_rails(self.root)
        if not rails:
            raise MeterUnavailable("Jetson: no INA3221 power rails in sysfs (not a Jetson, or the ina3221 driver "
                                   "is not loaded)")
        mine = [r for r in rails if rail_component(r.name) == self.component]
        combined = [r.name for r in rails if "CPU" in r.name.upper() and "GPU" in r.name.upper()]
        if self.component == "cpu" and combined:
            self.combined = combined[0]
            mine = []
        if not mine and not self.combined:
            raise MeterUnavailable(f"Jetson: no {self.component} rail among {', '.join(r.name for r in rails)}")
        now = self._clock()
        try:
            for r in mine:
                self._last[r.name] = (now, r.power_w())
                self._energy[r.name] = 0.0
        except (OSError, ValueError) as e:
            raise MeterUnavailable(f"Jetson: cannot read rail power ({e})") from None
        self.rails = mine
        self._t0 = now
        if self.combined:
            self.source = (f"Jetson: CPU power is inside the combined rail {self.combined}, counted under gpu; "
                           "0 J here")
        else:
            self.source = (f"Jetson INA3221 rails {', '.join(r.name for r in mine)} sampled (trapezoid); range "
                           f"+/-{RELATIVE_ERROR:.0%} (wattwise assumption)")

    def read(self) -> list[Reading]:
        if self.combined:
            return [Reading(f"{self.host}/jetson/cpu-in-{self.combined}", self.component, 0.0, 0.0, 0.0, MEASURED,
                            f"included in {self.combined} (gpu)")]
        now = self._clock()
        out = []
        for r in self.rails:
            p = r.power_w()
            t0, p0 = self._last[r.name]
            if now > t0:
                self._energy[r.name] += 0.5 * (p0 + p) * (now - t0)
            self._last[r.name] = (now, p)
            e = self._energy[r.name]
            out.append(Reading(f"{self.host}/jetson/{r.name}", self.component, e, e * (1 - RELATIVE_ERROR),
                               e * (1 + RELATIVE_ERROR), MEASURED, r.name))
        return out

    def close(self) -> None:
        pass
