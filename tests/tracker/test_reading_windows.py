"""Live readings and windows of a running tracker, with a meter whose energy the test sets by hand."""

import threading
import time
import warnings

import pytest

from wattwise.constants import J_PER_KWH
from wattwise.footprint import Footprint
from wattwise.ledger import Ledger
from wattwise.meters.base import Reading
from wattwise.tracker import OPEN_AT_STOP, Tracker, TrackerWarning


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("WATTWISE_HOME", str(tmp_path / "home"))
    for k in ("WATTWISE_REGION", "WATTWISE_PUE", "WATTWISE_CONFIG", "WATTWISE_RUN_ID", "RANK", "WORLD_SIZE",
              "WATTWISE_INTERVAL"):
        monkeypatch.delenv(k, raising=False)


class HandMeter:
    """A GPU meter whose cumulative energy is `energy_j`, set by the test; counts its reads; can block."""
    name, component, kind, source = "hand", "gpu", "measured", "set by the test"

    def __init__(self):
        self.energy_j = 0.0
        self.reads = 0
        self.block = threading.Event()
        self.blocked = threading.Event()
        self.release = threading.Event()

    def start(self):
        pass

    def read(self):
        self.reads += 1
        if self.block.is_set():
            self.blocked.set()
            self.release.wait(30)
        e = self.energy_j
        return [Reading("h/gpu/0", "gpu", e, 0.9 * e, 1.1 * e, label="test GPU")]

    def close(self):
        pass


def _tracker(tmp_path, meter, interval_s=60.0, **kw):
    # a long interval: the sampler makes its first checkpoint at start and no other, so reads are the test's
    return Tracker("live", ledger=tmp_path / "l.db", meters=[meter], interval_s=interval_s, region="FR", pue=1.5,
                   usd_per_kwh=0.2, **kw)


def _wait_first_checkpoint(t, meter):
    deadline = time.monotonic() + 20
    while meter.reads < 1 or t.ctx is None:
        assert time.monotonic() < deadline, "the sampler never read the meters"
        time.sleep(0.01)
    time.sleep(0.05)


def _kwh(j):
    return j / J_PER_KWH


def test_reading_is_the_last_snapshot_and_never_reads_a_meter(tmp_path):
    m = HandMeter()
    t = _tracker(tmp_path, m)
    assert t.reading() is None                     # not started
    m.energy_j = 100.0
    t.start()
    _wait_first_checkpoint(t, m)
    m.energy_j = 1000.0                            # not read yet: the reading stays at the last snapshot
    reads = m.reads
    r = t.reading()
    assert m.reads == reads                         # no I/O on the caller's path
    assert isinstance(r, Footprint) and r.extra["status"] == "running" and r.method == "measured"
    assert r.it_energy_kwh == pytest.approx(_kwh(100.0))
    assert r.energy_kwh == pytest.approx(_kwh(100.0) * 1.5)              # x PUE
    assert r.cost_usd == pytest.approx(_kwh(150.0) * 0.2)                # facility kWh x price
    assert r.co2e_kg.low < r.co2e_kg < r.co2e_kg.high
    w = t.begin_window("w")                          # a window boundary reads the meters: the reading follows
    assert t.reading().it_energy_kwh == pytest.approx(_kwh(1000.0))
    t.end_window(w)
    fp = t.stop()
    assert t.reading() is fp and fp.it_energy_kwh == pytest.approx(_kwh(1000.0))


def test_reading_does_not_wait_for_a_meter_stuck_in_the_sampler(tmp_path):
    m = HandMeter()
    t = _tracker(tmp_path, m, interval_s=0.05)
    t.start()
    _wait_first_checkpoint(t, m)
    m.block.set()
    assert m.blocked.wait(20)                        # the sampler holds the meter (and its locks) now
    try:
        got = []
        th = threading.Thread(target=lambda: got.append(t.reading()))
        th.start()
        th.join(10)
        assert not th.is_alive() and isinstance(got[0], Footprint)
        t.step(flops=1e12)                           # step() does not wait either
    finally:
        m.block.clear()
        m.release.set()
    t.stop()
    assert t.footprint.flops == pytest.approx(1e12)


def test_overlapping_windows_get_their_own_energy_flops_and_ledger_rows(tmp_path):
    m = HandMeter()
    t = _tracker(tmp_path, m)
    with t:
        _wait_first_checkpoint(t, m)
        a = t.begin_window("a")
        m.energy_j = 100.0
        t.step(flops=1e12)
        with t.window("b") as b:
            m.energy_j = 300.0
            t.step(flops=2e12)
            fa = t.end_window("a")
            m.energy_j = 600.0
        assert fa is a.footprint and a.status == "ok" and b.status == "ok"
    assert a.footprint.it_energy_kwh == pytest.approx(_kwh(300.0))
    assert b.footprint.it_energy_kwh == pytest.approx(_kwh(500.0))
    assert (a.footprint.it_energy_kwh.low, a.footprint.it_energy_kwh.high) == pytest.approx(
        (_kwh(270.0), _kwh(330.0)))
    assert a.footprint.flops == pytest.approx(3e12) and b.footprint.flops == pytest.approx(2e12)
    assert a.footprint.duration_s == pytest.approx(a.end_ts - a.start_ts, abs=0.01)   # monotonic vs wall
    assert b.footprint.extra["window"] == "b" and b.footprint.sources["intensity"] == t.footprint.sources["intensity"]
    assert [w.name for w in t.windows] == ["a", "b"]
    with Ledger(tmp_path / "l.db") as led:
        rows = led.windows(t.run_id)
    assert [(r["name"], r["status"]) for r in rows] == [("a", "ok"), ("b", "ok")]
    back = Footprint.from_dict(rows[1]["footprint"])
    assert back.it_energy_kwh == pytest.approx(_kwh(500.0)) and back.co2e_kg == pytest.approx(b.footprint.co2e_kg)


def test_a_window_left_open_is_ended_at_stop_with_its_status_and_a_warning(tmp_path):
    m = HandMeter()
    t = _tracker(tmp_path, m)
    t.start()
    _wait_first_checkpoint(t, m)
    w = t.begin_window("forgotten")
    m.energy_j = 50.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t.stop()
    assert w.status == OPEN_AT_STOP and w.footprint.it_energy_kwh == pytest.approx(_kwh(50.0))
    assert any("forgotten" in str(c.message) and c.category is TrackerWarning for c in caught)
    assert t.end_window(w) is w.footprint            # ending it afterwards changes nothing
    with Ledger(tmp_path / "l.db") as led:
        assert [(r["name"], r["status"]) for r in led.windows(t.run_id)] == [("forgotten", OPEN_AT_STOP)]


def test_a_window_whose_block_raises_is_failed_and_the_error_reaches_the_caller(tmp_path):
    m = HandMeter()
    with _tracker(tmp_path, m) as t:
        with pytest.raises(KeyError):
            with t.window("bad") as w:
                m.energy_j = 10.0
                raise KeyError("x")
    assert w.status == "failed" and w.footprint.it_energy_kwh == pytest.approx(_kwh(10.0))


def test_windows_and_steps_from_two_threads(tmp_path):
    m = HandMeter()
    t = _tracker(tmp_path, m)
    n = 20000
    barrier = threading.Barrier(2)

    def work(i):
        barrier.wait()
        with t.window(f"thread-{i}"):
            for _ in range(n):
                t.step(flops=1.0)

    with t:
        _wait_first_checkpoint(t, m)
        ths = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
    assert t.footprint.flops == 2 * n                 # no step lost to a race
    assert sorted(w.name for w in t.windows) == ["thread-0", "thread-1"]
    assert all(w.status == "ok" and w.footprint.flops >= 1 for w in t.windows)
    with Ledger(tmp_path / "l.db") as led:
        assert sorted(r["name"] for r in led.windows(t.run_id)) == ["thread-0", "thread-1"]


def test_misused_windows_warn_and_never_raise(tmp_path):
    m = HandMeter()
    t = _tracker(tmp_path, m)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        idle = t.begin_window("early")               # not started: unmeasured, with a warning
        assert t.end_window(idle) is None and idle.footprint is None
        with t:
            _wait_first_checkpoint(t, m)
            assert t.end_window("never-opened") is None
            t.begin_window("twice")
            m.energy_j = 5.0
            t.begin_window("twice")
            m.energy_j = 7.0
            newest = t.end_window("twice")            # ends the newest of the two
            assert newest.it_energy_kwh == pytest.approx(_kwh(2.0))
            oldest = t.end_window("twice")
            assert oldest.it_energy_kwh == pytest.approx(_kwh(7.0))
    texts = [str(c.message) for c in caught]
    assert any("early" in s for s in texts) and any("never-opened" in s for s in texts)
    assert any("already open" in s for s in texts)
