import subprocess
import sys
import time

import pytest

from wattwise.meters._proc import ProcessTree
from wattwise.meters.cpu_fallback import CpuTdpMeter, catalog_tdp_spread, clean_cpu_name, lookup_tdp
from wattwise.meters.memory import W_PER_GB, MemoryModelMeter


class FakeTree:
    pid = 4242

    def __init__(self):
        self.cpu_s, self.rss_b = 10.0, 2_000_000_000

    def sample(self):
        return self.cpu_s, self.rss_b


def test_cpu_estimate_is_tdp_times_utilisation():
    tree = FakeTree()
    m = CpuTdpMeter(tdp_w=100.0, n_cpus=4, tree=tree, host="h")
    m.start()
    tree.cpu_s += 8.0  # 8 CPU-seconds over 4 CPUs = 2 s at 100% of a 100 W package -> 200 J
    (r,) = m.read()
    assert r.energy_j == pytest.approx(200.0)
    assert (r.low_j, r.high_j) == pytest.approx((100.0, 250.0))
    assert r.kind == "estimated" and r.device == "h/pid/4242/cpu"


def test_unknown_cpu_gets_a_range_not_a_point():
    m = CpuTdpMeter(cpu_name="Mystery CPU 9000", n_cpus=2, tree=FakeTree())
    assert not m.tdp_known
    spread = catalog_tdp_spread()
    assert spread.low < spread.central < spread.high
    assert "not in the catalog" in m.source
    m.start()
    m._tree.cpu_s += 2.0
    (r,) = m.read()
    assert r.low_j < r.energy_j < r.high_j
    assert r.high_j / r.low_j > 5  # honest width: p10..p90 of the catalog x 0.5..1.25


def test_known_cpu_brand_strings_resolve():
    assert clean_cpu_name("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz") == "Intel Xeon Gold 6248"
    assert clean_cpu_name("AMD EPYC 7763 64-Core Processor") == "AMD EPYC 7763"
    tdp, how = lookup_tdp("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz")
    assert tdp.exact and tdp.central == 150.0 and "cpu_power.csv" in how
    assert lookup_tdp("AMD EPYC 7763 64-Core Processor")[0].central == 280.0


def test_memory_model_integrates_resident_gb():
    tree, clock = FakeTree(), [0.0]
    m = MemoryModelMeter(tree=tree, clock=lambda: clock[0])
    m.start()
    clock[0] = 10.0
    (r,) = m.read()
    assert r.energy_j == pytest.approx(W_PER_GB.central * 2.0 * 10.0)  # 0.3725 W/GB x 2 GB x 10 s
    tree.rss_b = 4_000_000_000
    clock[0] = 20.0
    (r,) = m.read()
    assert r.energy_j == pytest.approx(0.3725 * (20.0 + 3.0 * 10.0))
    assert r.kind == "estimated" and r.low_j < r.energy_j < r.high_j


def test_real_process_tree_counts_own_and_child_cpu():
    tree = ProcessTree()
    cpu0, rss = tree.sample()
    assert rss > 10e6  # a Python interpreter is bigger than 10 MB
    child = subprocess.Popen([sys.executable, "-c", "import time\nt=time.process_time()\n"
                              "while time.process_time()-t<0.4: pass\nimport time; time.sleep(5)"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cpu, _ = tree.sample()
            if cpu - cpu0 >= 0.35:  # the live child's CPU time is visible through /proc
                break
            time.sleep(0.05)
        assert cpu - cpu0 >= 0.35
    finally:
        child.kill()
        child.wait()
    assert tree.sample()[0] >= cpu  # reaped: moves into our children time, never decreases


def test_real_cpu_fallback_measures_a_busy_loop():
    m = CpuTdpMeter()
    m.start()
    t = time.process_time()
    while time.process_time() - t < 0.2:
        pass
    (r,) = m.read()
    assert r.energy_j > 0 and m.cpu_seconds() >= 0.15
