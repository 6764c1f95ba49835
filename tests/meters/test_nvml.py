import pytest

from tests.meters.fakes import FakeNvml
from wattwise.meters import MeterUnavailable
from wattwise.meters.nvml import NvmlMeter, visible_devices


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_counter_present_energy_is_counter_delta(monkeypatch):
    nv = FakeNvml(n=2, power_w=200.0)
    now = {"t": 5000.0}
    monkeypatch.setattr("tests.meters.fakes.time.time", lambda: now["t"])
    m = NvmlMeter(nv, visible=None, host="h")
    m.start()
    assert all(d.counter for d in m.devices)
    now["t"] += 3.0
    rs = m.read()
    assert [r.device for r in rs] == ["h/gpu/GPU-00000000-fake-0", "h/gpu/GPU-00000001-fake-1"]
    assert rs[0].energy_j == pytest.approx(600.0)
    assert rs[0].kind == "measured" and rs[0].label == "NVIDIA H100 80GB HBM3"
    assert "energy counter" in m.source
    m.close()
    assert nv.shutdowns == 1


def test_counter_missing_falls_back_to_trapezoid_power_sampling():
    nv = FakeNvml(n=1, power_w=100.0, counter=False)
    clock = Clock()
    m = NvmlMeter(nv, visible=None, clock=clock)
    m.start()
    assert not m.devices[0].counter and "power sampling" in m.source
    clock.t += 2.0
    assert m.read()[0].energy_j == pytest.approx(200.0)
    nv.power_w = 300.0
    clock.t += 1.0
    r = m.read()[0]
    assert r.energy_j == pytest.approx(200.0 + 0.5 * (100 + 300) * 1.0)
    assert r.low_j == pytest.approx(r.energy_j - 5.0 * 3.0) and r.high_j == pytest.approx(r.energy_j + 15.0)


def test_forced_sampling_ignores_the_counter():
    m = NvmlMeter(FakeNvml(n=1), visible=None, sampling=True)
    m.start()
    assert not m.devices[0].counter


def test_error_at_init_is_unavailable_with_reason():
    with pytest.raises(MeterUnavailable, match="Driver Not Loaded"):
        NvmlMeter(FakeNvml(fail_init=True), visible=None).start()


def test_error_at_read_raises():
    nv = FakeNvml(n=1, fail_read_after=1)
    m = NvmlMeter(nv, visible=None)
    m.start()  # the start read is number 1
    with pytest.raises(Exception, match="GPU is lost"):
        m.read()


def test_cuda_visible_devices_indices_and_uuids():
    nv = FakeNvml(n=4)
    m = NvmlMeter(nv, visible="2,0")
    m.start()
    assert [d.index for d in m.devices] == [2, 0]
    m2 = NvmlMeter(nv, visible="GPU-00000003")
    m2.start()
    assert [d.uuid for d in m2.devices] == ["GPU-00000003-fake-3"]


def test_cuda_visible_devices_empty_means_no_gpu():
    with pytest.raises(MeterUnavailable, match="no visible GPU"):
        NvmlMeter(FakeNvml(n=2), visible="").start()


def test_visible_devices_parsing_follows_cuda_rules():
    assert visible_devices(None, 3) == [0, 1, 2]
    assert visible_devices("1,7,0", 3) == [1]          # stops at the first invalid index
    assert visible_devices("0,foo,1", 3) == [0]
    assert visible_devices("GPU-ab,1", 3) == ["GPU-ab", 1]
    assert visible_devices("-1", 3) == []


def test_local_rank_measures_only_its_gpu():
    m = NvmlMeter(FakeNvml(n=2), visible=None, local_rank=1, local_world_size=2)
    m.start()
    assert [d.index for d in m.devices] == [1]
    m = NvmlMeter(FakeNvml(n=2), visible=None, local_rank=1, local_world_size=4)  # mismatch: all, dedup later
    m.start()
    assert len(m.devices) == 2


def test_real_machine_without_gpu_is_unavailable_not_crashing():
    try:
        m = NvmlMeter(visible=None)
        m.start()
    except MeterUnavailable as e:
        assert "NVML" in str(e)
    else:  # a GPU machine
        assert len(m.read()) >= 1
        m.close()
