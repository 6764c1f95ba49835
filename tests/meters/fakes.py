"""Constructed hardware for the meter and tracker tests: a fake pynvml module and a fake powercap tree."""

from __future__ import annotations

import os
import time


class NVMLError(Exception):
    pass


class FakeNvml:
    """A stand-in for the `pynvml` module.

    power_w: board power of every GPU; counter: whether nvmlDeviceGetTotalEnergyConsumption exists; the energy
    counter is power_w x wall time since `epoch` (time.time(), so separate processes agree).
    fail_init / fail_read_after: raise at init, or at the n-th energy/power read.
    """

    NVMLError = NVMLError

    def __init__(self, n=2, power_w=100.0, counter=True, fail_init=False, fail_read_after=None,
                 name="NVIDIA H100 80GB HBM3", epoch=None, uuids=None):
        self.n = n
        self.power_w = power_w
        self.counter = counter
        self.fail_init = fail_init
        self.fail_read_after = fail_read_after
        self.name = name
        self.epoch = time.time() - 1000.0 if epoch is None else epoch
        self.uuids = uuids or [f"GPU-{i:08x}-fake-{i}" for i in range(n)]
        self.reads = 0
        self.inits = 0
        self.shutdowns = 0

    def nvmlInit(self):
        if self.fail_init:
            raise NVMLError("Driver Not Loaded")
        self.inits += 1

    def nvmlShutdown(self):
        self.shutdowns += 1

    def nvmlDeviceGetCount(self):
        return self.n

    def nvmlDeviceGetHandleByIndex(self, i):
        return ("h", i)

    def nvmlDeviceGetUUID(self, h):
        return self.uuids[h[1]].encode()

    def nvmlDeviceGetName(self, h):
        return self.name

    def nvmlDeviceGetEnforcedPowerLimit(self, h):
        return 700_000

    def _tick(self):
        self.reads += 1
        if self.fail_read_after is not None and self.reads > self.fail_read_after:
            raise NVMLError("GPU is lost")

    def nvmlDeviceGetTotalEnergyConsumption(self, h):
        if not self.counter:
            raise NVMLError("Not Supported")
        self._tick()
        return int((time.time() - self.epoch) * self.power_w * 1000)  # mJ

    def nvmlDeviceGetPowerUsage(self, h):
        self._tick()
        return int(self.power_w * 1000)  # mW


def make_powercap(root, packages=1, energy_uj=1_000_000, max_uj=262_143_328_850, dram=True):
    """A fake /sys/class/powercap: intel-rapl:N (package-N) with core and dram sub-zones."""
    os.makedirs(root, exist_ok=True)
    for p in range(packages):
        pkg = os.path.join(root, f"intel-rapl:{p}")
        zones = [(pkg, f"package-{p}"), (os.path.join(pkg, f"intel-rapl:{p}:0"), "core")]
        if dram:
            zones.append((os.path.join(pkg, f"intel-rapl:{p}:1"), "dram"))
        for path, name in zones:
            os.makedirs(path, exist_ok=True)
            write(path, "name", name)
            write(path, "energy_uj", energy_uj)
            write(path, "max_energy_range_uj", max_uj)
    return root


def write(path, name, value):
    """Replace a sysfs-like file atomically (a reader never sees it half written, as with real sysfs)."""
    tmp = os.path.join(path, f".{name}.tmp")
    with open(tmp, "w") as f:
        f.write(f"{value}\n")
    os.replace(tmp, os.path.join(path, name))


class StepGpuMeter:
    """A measured GPU meter that adds `step_j` joules at every read (device 'h/gpu/0')."""
    name, component, kind, source = "test", "gpu", "measured", "test meter"

    def __init__(self, step_j: float = 100.0):
        self.step_j, self.e = step_j, 0.0

    def start(self):
        pass

    def read(self):
        from wattwise.meters.base import Reading
        self.e += self.step_j
        return [Reading("h/gpu/0", "gpu", self.e, self.e, self.e, label="test GPU")]

    def close(self):
        pass
