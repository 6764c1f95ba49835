"""Constructed accelerators: a fake `amdsmi` module, a fake pynvml with MIG devices, Jetson INA3221 sysfs trees,
a RAPL MMIO powercap zone and a perf `power` PMU folder."""

from __future__ import annotations

import os
import time

from tests.meters.fakes import FakeNvml, write
from tests.meters.fakes_cpu import put


class AmdSmiLibraryException(Exception):
    pass


class FakeAmdSmi:
    """Stand-in for the `amdsmi` module (ROCm 6.x names). The energy accumulator advances power_w x wall time
    (resolution 15.3 uJ per tick, as MI200/MI300 report); `counter=False` makes it unsupported; `legacy=True`
    returns the pre-6.1 key 'power' for the accumulator."""

    AmdSmiLibraryException = AmdSmiLibraryException

    def __init__(self, n=4, power_w=300.0, counter=True, legacy=False, fail_init=False, name="AMD Instinct MI300X"):
        self.n, self.power_w, self.counter, self.legacy = n, power_w, counter, legacy
        self.fail_init, self.name = fail_init, name
        self.epoch = time.time() - 100.0
        self.shutdowns = 0

    def amdsmi_init(self, *a):
        if self.fail_init:
            raise AmdSmiLibraryException("AMDSMI_STATUS_DRIVER_NOT_LOADED")

    def amdsmi_shut_down(self):
        self.shutdowns += 1

    def amdsmi_get_processor_handles(self):
        return [("amd", i) for i in range(self.n)]

    def amdsmi_get_gpu_device_uuid(self, h):
        return f"{h[1]:02x}ff74a1-0000-1000-80ff-ffffffffffff"

    def amdsmi_get_gpu_device_bdf(self, h):
        return f"0000:{0x11 + 0x10 * h[1]:02x}:00.0"

    def amdsmi_get_gpu_asic_info(self, h):
        return {"market_name": self.name, "vendor_id": "0x1002", "device_id": "0x74a1"}

    def amdsmi_get_energy_count(self, h):
        if not self.counter:
            raise AmdSmiLibraryException("AMDSMI_STATUS_NOT_SUPPORTED")
        res = 15.259  # uJ per tick
        ticks = int((time.time() - self.epoch) * self.power_w / (res * 1e-6))
        return {("power" if self.legacy else "energy_accumulator"): ticks, "counter_resolution": res,
                "timestamp": int(time.time() * 1e9)}

    def amdsmi_get_power_info(self, h):
        return {"current_socket_power": self.power_w, "average_socket_power": "N/A", "gfx_voltage": 850,
                "power_limit": 750}


class FakeMigNvml(FakeNvml):
    """One A100-SXM4-40GB in MIG mode holding a 3g.20gb and two 1g.5gb devices, plus a normal second GPU."""

    class Attrs:
        def __init__(self, gi, ci):
            self.gpuInstanceSliceCount, self.computeInstanceSliceCount = gi, ci

    def __init__(self, attributes=True, **kw):
        super().__init__(n=2, name="NVIDIA A100-SXM4-40GB", **kw)
        self.attributes = attributes
        self.migs = [("MIG-aaaa-3g", "3g.20gb", 3), ("MIG-bbbb-1g", "1g.5gb", 1), ("MIG-cccc-1g", "1g.5gb", 1)]

    def nvmlDeviceGetMigMode(self, h):
        if h[0] == "mig":
            raise Exception("Not Supported")
        return (1, 1) if h[1] == 0 else (0, 0)

    def nvmlDeviceGetMaxMigDeviceCount(self, h):
        return 7

    def nvmlDeviceGetMigDeviceHandleByIndex(self, h, i):
        if i >= len(self.migs):
            raise Exception("Not Found")
        return ("mig", i)

    def nvmlDeviceGetUUID(self, h):
        return self.migs[h[1]][0] if h[0] == "mig" else super().nvmlDeviceGetUUID(h)

    def nvmlDeviceGetName(self, h):
        return f"{self.name} MIG {self.migs[h[1]][1]}" if h[0] == "mig" else self.name

    def nvmlDeviceGetAttributes(self, h):
        if not self.attributes:
            raise Exception("Not Supported")
        s = self.migs[h[1]][2]
        return self.Attrs(s, s)


def make_jetson_hwmon(root, rails=(("VDD_IN", 5000, 1200), ("VDD_CPU_GPU_CV", 5000, 600), ("VDD_SOC", 5000, 300))):
    """JetPack 5/6 (Orin) layout: ina3221 hwmon with in<k>_label, in<k>_input (mV), curr<k>_input (mA)."""
    d = "/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3"
    for k, (label, mv, ma) in enumerate(rails, start=1):
        put(root, f"{d}/in{k}_label", label)
        put(root, f"{d}/in{k}_input", str(mv))
        put(root, f"{d}/curr{k}_input", str(ma))
    put(root, f"{d}/in7_label", "sum of shunt voltages")
    return os.path.join(str(root), d.lstrip("/"))


def make_jetson_legacy(root, rails=(("POM_5V_IN", 3000), ("POM_5V_GPU", 1200), ("POM_5V_CPU", 800))):
    """JetPack 4 (Nano/TX2) layout: ina3221x iio device with rail_name_<k> and in_power<k>_input (mW)."""
    d = "/sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0"
    for k, (name, mw) in enumerate(rails):
        put(root, f"{d}/rail_name_{k}", name)
        put(root, f"{d}/in_power{k}_input", str(mw))
    return os.path.join(str(root), d.lstrip("/"))


def add_mmio_zone(root, package=0, energy_uj=1_000_000, max_uj=262_143_328_850, readable=True):
    path = os.path.join(root, f"intel-rapl-mmio:{package}")
    os.makedirs(path, exist_ok=True)
    write(path, "name", f"package-{package}")
    write(path, "energy_uj", energy_uj)
    write(path, "max_energy_range_uj", max_uj)
    if not readable:
        os.chmod(os.path.join(path, "energy_uj"), 0)
    return path


def make_power_pmu(root, cpumask="0,32"):
    d = os.path.join(str(root), "power")
    put(d, "/type", "23")
    put(d, "/cpumask", cpumask)
    put(d, "/events/energy-pkg", "event=0x02")
    put(d, "/events/energy-pkg.scale", "2.3283064365386962890625e-10")
    put(d, "/events/energy-pkg.unit", "Joules")
    put(d, "/events/energy-ram", "event=0x03")
    put(d, "/events/energy-ram.scale", "2.3283064365386962890625e-10")
    return d
