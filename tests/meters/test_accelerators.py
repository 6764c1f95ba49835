"""AMD SMI, NVML MIG, Jetson, powermetrics, RAPL MMIO and RAPL-through-perf meters on constructed inputs, and
the real ones wherever this machine has the hardware."""

import os
import sys
import time
from pathlib import Path

import pytest

from tests.meters.fakes import make_powercap, write
from tests.meters.fakes_accel import (FakeAmdSmi, FakeMigNvml, add_mmio_zone, make_jetson_hwmon, make_jetson_legacy,
                                      make_power_pmu)
from wattwise.meters import MeterUnavailable
from wattwise.meters.amd import AmdSmiMeter, visible_indices
from wattwise.meters.jetson import JetsonMeter, find_rails
from wattwise.meters.nvml import NvmlMeter, catalog_gpu, mig_profile_slices
from wattwise.meters.powermetrics import PowermetricsMeter, parse_stream, sample_energy_j
from wattwise.meters.rapl import RaplMeter
from wattwise.meters.rapl_perf import RaplPerfMeter

DATA = Path(__file__).parent / "data"


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


# --- AMD SMI ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("legacy", [False, True])
def test_amd_counter_energy(monkeypatch, legacy):
    now = {"t": 5000.0}
    monkeypatch.setattr("tests.meters.fakes_accel.time.time", lambda: now["t"])
    smi = FakeAmdSmi(n=2, power_w=300.0, legacy=legacy)
    m = AmdSmiMeter(smi, env={}, host="h")
    m.start()
    assert all(d.counter for d in m.devices) and "energy counter" in m.source
    now["t"] += 2.0
    rs = m.read()
    assert rs[0].device == "h/gpu/00ff74a1-0000-1000-80ff-ffffffffffff"
    assert rs[0].energy_j == pytest.approx(600.0, rel=1e-3)
    assert rs[0].label == "AMD Instinct MI300X (0000:11:00.0)" and rs[0].kind == "measured"
    m.close()
    assert smi.shutdowns == 1


def test_amd_power_sampling_when_no_counter():
    clock = Clock()
    m = AmdSmiMeter(FakeAmdSmi(n=1, power_w=200.0, counter=False), env={}, clock=clock)
    m.start()
    assert not m.devices[0].counter and "power sampling" in m.source
    clock.t += 3.0
    r = m.read()[0]
    assert r.energy_j == pytest.approx(600.0) and r.low_j == pytest.approx(600.0 - 15.0)


def test_amd_visible_devices_rocr_then_hip():
    uuids = [f"{i:02x}ff74a1-0000-1000-80ff-ffffffffffff" for i in range(4)]
    assert visible_indices(uuids, {}) == [0, 1, 2, 3]
    assert visible_indices(uuids, {"HIP_VISIBLE_DEVICES": "2,3"}) == [2, 3]
    assert visible_indices(uuids, {"ROCR_VISIBLE_DEVICES": "1,2,3", "HIP_VISIBLE_DEVICES": "0,2"}) == [1, 3]
    assert visible_indices(uuids, {"ROCR_VISIBLE_DEVICES": "GPU-03ff74a1"}) == [3]
    assert visible_indices(uuids, {"CUDA_VISIBLE_DEVICES": "1"}) == [1]  # HIP honours it when HIP_* is unset
    assert visible_indices(uuids, {"HIP_VISIBLE_DEVICES": "0,9,1"}) == [0]  # stops at the invalid entry
    m = AmdSmiMeter(FakeAmdSmi(n=4), env={"HIP_VISIBLE_DEVICES": "1"})
    m.start()
    assert [d.bdf for d in m.devices] == ["0000:21:00.0"]


def test_amd_unavailable():
    with pytest.raises(MeterUnavailable, match="DRIVER_NOT_LOADED"):
        AmdSmiMeter(FakeAmdSmi(fail_init=True), env={}).start()
    with pytest.raises(MeterUnavailable, match="no visible GPU"):
        AmdSmiMeter(FakeAmdSmi(), env={"HIP_VISIBLE_DEVICES": ""}).start()
    if not os.path.exists("/dev/kfd"):  # this machine: no ROCm device, no import attempted
        with pytest.raises(MeterUnavailable, match="/dev/kfd"):
            AmdSmiMeter().start()


# --- NVML names and MIG ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,expected", [
    ("NVIDIA H100 80GB HBM3", "nvidia_h100_sxm5_80gb"), ("NVIDIA H100 PCIe", "nvidia_h100_pcie_80gb"),
    ("NVIDIA A100-SXM4-80GB", "nvidia_a100_sxm4_80gb"), ("Tesla V100-SXM2-16GB", "nvidia_v100_sxm2_16gb"),
    ("NVIDIA A100-SXM4-40GB MIG 1g.5gb", "nvidia_a100_sxm4_40gb"), ("NVIDIA H100 80GB HBM3 MIG 3g.40gb",
                                                                    "nvidia_h100_sxm5_80gb"),
    ("Tesla T4", "nvidia_t4"), ("NVIDIA H200", "nvidia_h200_sxm_141gb"), ("NVIDIA L4", "nvidia_l4"),
])
def test_nvml_names_map_to_catalog(name, expected):
    assert catalog_gpu(name).accelerator_id == expected


def test_mig_profile_slices():
    assert mig_profile_slices("NVIDIA A100-SXM4-40GB MIG 3g.20gb") == 3
    assert mig_profile_slices("NVIDIA A100-SXM4-40GB MIG 1c.3g.20gb") == 1
    assert mig_profile_slices("NVIDIA A100-SXM4-40GB") is None


@pytest.mark.parametrize("attributes", [True, False])
def test_mig_slice_gets_its_share_of_the_parent(monkeypatch, attributes):
    now = {"t": 5000.0}
    monkeypatch.setattr("tests.meters.fakes.time.time", lambda: now["t"])
    nv = FakeMigNvml(power_w=350.0, attributes=attributes)
    m = NvmlMeter(nv, visible="MIG-aaaa,MIG-bbbb", host="h")
    m.start()
    assert [d.share for d in m.devices] == pytest.approx([3 / 7, 1 / 7])
    now["t"] += 7.0  # the board: 350 W x 7 s = 2450 J
    big, small = m.read()
    assert big.device == "h/gpu/MIG-aaaa-3g" and big.energy_j == pytest.approx(2450 * 3 / 7)
    assert small.energy_j == pytest.approx(350.0)
    assert big.kind == "estimated" and big.low_j < big.energy_j < big.high_j
    assert "GPU-00000000-fake-0" in big.label and "compute-slice share" in m.source


def test_whole_gpus_unchanged_beside_mig():
    m = NvmlMeter(FakeMigNvml(), visible="1")
    m.start()
    assert [d.share for d in m.devices] == [1.0] and "MIG" not in m.source
    with pytest.raises(MeterUnavailable, match="no visible GPU"):
        NvmlMeter(FakeMigNvml(), visible="MIG-zzzz").start()


# --- Jetson ----------------------------------------------------------------------------------------------------

def test_jetson_orin_combined_rail(tmp_path):
    d = make_jetson_hwmon(tmp_path)
    assert [r.name for r in find_rails(str(tmp_path))] == ["VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"]
    clock = Clock()
    gpu = JetsonMeter("gpu", str(tmp_path), clock=clock, host="h")
    gpu.start()
    clock.t += 10.0
    write(d, "curr2_input", 1000)  # 5 V x 0.6 A = 3 W -> 5 V x 1 A = 5 W
    (r,) = gpu.read()
    assert r.device == "h/jetson/VDD_CPU_GPU_CV" and r.energy_j == pytest.approx(0.5 * (3 + 5) * 10)
    cpu = JetsonMeter("cpu", str(tmp_path), clock=clock)
    cpu.start()
    (c,) = cpu.read()
    assert c.energy_j == 0 and "VDD_CPU_GPU_CV" in c.label and "counted under gpu" in cpu.source
    with pytest.raises(MeterUnavailable, match="no memory rail"):
        JetsonMeter("memory", str(tmp_path)).start()


def test_jetson_legacy_iio_rails(tmp_path):
    make_jetson_legacy(tmp_path)
    clock = Clock()
    gpu, cpu = JetsonMeter("gpu", str(tmp_path), clock=clock), JetsonMeter("cpu", str(tmp_path), clock=clock)
    gpu.start()
    cpu.start()
    clock.t += 4.0
    assert gpu.read()[0].energy_j == pytest.approx(1.2 * 4) and cpu.read()[0].energy_j == pytest.approx(0.8 * 4)


def test_jetson_absent_here():
    if not find_rails():
        with pytest.raises(MeterUnavailable, match="INA3221"):
            JetsonMeter("gpu").start()


# --- powermetrics ----------------------------------------------------------------------------------------------

def test_powermetrics_recorded_apple_silicon_stream():
    data = (DATA / "powermetrics_apple_m2.plist.stream").read_bytes()
    samples, rest = parse_stream(data[:-100])  # an unfinished plist stays in the buffer
    assert len(samples) == 2 and rest
    samples, rest = parse_stream(data)
    assert len(samples) == 3 and rest == b""
    e = [sample_energy_j(s) for s in samples]
    assert e[0] == {"cpu": 1.523, "gpu": 0.402, "ane": 0.0}
    m = PowermetricsMeter("gpu", platform="darwin", host="h")
    m.feed(samples)
    (r,) = m.read()
    assert r.energy_j == pytest.approx(0.402 + 0.395 + 1.210) and r.device == "h/powermetrics/gpu"


def test_powermetrics_intel_mac_stream():
    samples, _ = parse_stream((DATA / "powermetrics_intel_mac.plist.stream").read_bytes())
    assert sample_energy_j(samples[0]) == {"cpu": 9.5, "memory": 1.2}


def test_powermetrics_streams_from_a_process(tmp_path):
    """The meter reads a live stream: here `cat` of the recorded file stands in for powermetrics."""
    path = str(DATA / "powermetrics_apple_m2.plist.stream")
    script = (f"import sys, time; sys.stdout.buffer.write(open({path!r}, 'rb').read()); sys.stdout.flush(); "
              "time.sleep(30)")
    m = PowermetricsMeter("cpu", platform="darwin", command=[sys.executable, "-c", script])
    m.start()
    try:
        deadline = time.monotonic() + 10
        while m.samples < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert m.read()[0].energy_j == pytest.approx(1.523 + 2.870 + 2.911)
    finally:
        m.close()


def test_powermetrics_needs_root_message():
    script = "import sys; sys.stderr.write('powermetrics must be invoked as the superuser'); sys.exit(1)"
    m = PowermetricsMeter("cpu", platform="darwin", command=[sys.executable, "-c", script])
    with pytest.raises(MeterUnavailable, match="superuser.*Fix: run as root"):
        m.start()
    if sys.platform != "darwin":
        with pytest.raises(MeterUnavailable, match="macOS only"):
            PowermetricsMeter("cpu").start()


# --- RAPL MMIO and perf ----------------------------------------------------------------------------------------

def test_rapl_mmio_zone_used_when_msr_zone_absent(tmp_path):
    root = str(tmp_path / "pc")
    os.makedirs(root)
    add_mmio_zone(root)
    m = RaplMeter("package", root, host="h")
    m.start()
    write(os.path.join(root, "intel-rapl-mmio:0"), "energy_uj", 1_000_000 + 3_000_000)
    (r,) = m.read()
    assert r.device == "h/rapl/package-0" and r.energy_j == pytest.approx(3.0)


def test_rapl_mmio_not_counted_twice(tmp_path):
    root = make_powercap(str(tmp_path / "pc"))
    add_mmio_zone(root)
    m = RaplMeter("package", root)
    m.start()
    assert [z.energy_path.split("/")[-2] for z in m._zones] == ["intel-rapl:0"]


def test_rapl_mmio_replaces_a_denied_msr_zone(tmp_path, monkeypatch):
    from wattwise.meters import rapl
    root = make_powercap(str(tmp_path / "pc"))
    real = rapl._read_int

    def read_int(path):  # the MSR zone is root-only (CVE-2020-8694), also when these tests run as root
        if "intel-rapl:0/energy_uj" in path:
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(rapl, "_read_int", read_int)
    with pytest.raises(MeterUnavailable, match="Fix: sudo chmod"):
        RaplMeter("package", root).start()
    add_mmio_zone(root)
    m = RaplMeter("package", root)
    m.start()  # no permission error: the MMIO view of package-0 is readable
    assert m._zones[0].energy_path.endswith("intel-rapl-mmio:0/energy_uj")


def test_rapl_perf_with_a_fake_pmu(tmp_path):
    pmu = make_power_pmu(tmp_path)
    counts = {}
    opened = []

    def opener(t, config, cpu):
        opened.append((t, config, cpu))
        counts[cpu] = 1 << 32
        return 100 + cpu

    m = RaplPerfMeter("package", pmu, host="h", opener=opener, reader=lambda fd: counts[fd - 100],
                      closer=lambda fd: None)
    m.start()
    assert opened == [(23, 2, 0), (23, 2, 32)]
    counts[0] += 5 << 32  # 5 J in 2^-32 J units
    counts[32] += 2 << 32
    rs = {r.device: r.energy_j for r in m.read()}
    assert rs == {"h/rapl/package-0": pytest.approx(5.0), "h/rapl/package-1": pytest.approx(2.0)}

    def denied(*a):
        raise PermissionError(13, "Permission denied")

    with pytest.raises(MeterUnavailable, match="perf_event_paranoid"):
        RaplPerfMeter("package", pmu, opener=denied).start()


def test_rapl_perf_real_here():
    """The real syscall path: measures where the power PMU exists and is permitted, else says why."""
    m = RaplPerfMeter("package")
    try:
        m.start()
    except MeterUnavailable as e:
        assert "RAPL perf" in str(e)
        return
    try:
        assert all(r.energy_j >= 0 for r in m.read())
    finally:
        m.close()
