"""Plain PyTorch: tracker.step(flops=..., tokens=...) gives tokens/s, J/token and MFU live, in windows and in
the ledger's record."""

import time

import pytest

from wattwise.constants import J_PER_KWH
from wattwise.ledger import Ledger
from wattwise.tracker import Tracker
from wattwise.tracker.windows import Snapshot

from .conftest import RampMeter


def _wait(cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_tokens_flow_to_live_reading_window_and_ledger(tmp_path):
    meter = RampMeter()
    t = Tracker("tok", ledger=tmp_path / "l.db", meters=[meter], interval_s=0.02, region="FR", pue=1.5,
                usd_per_kwh=0.2, gpu="H100 SXM")
    with t:
        with t.window("first") as w:
            for _ in range(4):
                t.step(flops=1e12, tokens=256)
            _wait(lambda: t.reading() is not None and t.reading().extra.get("tokens") == 1024)
        live = t.reading()
        assert live.extra["tokens"] == 1024
        assert live.extra["tokens_per_s"] == pytest.approx(1024 / live.duration_s)
        assert live.extra["j_per_token"] == pytest.approx(float(live.energy_kwh) * J_PER_KWH / 1024)
        assert live.mfu is not None and live.mfu > 0          # a GPU meter and a catalog peak: MFU is live
        t.step(tokens=1000)
    fw = w.footprint
    assert fw.extra["tokens"] == 1024                           # the window counts its own tokens
    assert fw.extra["j_per_token"] == pytest.approx(float(fw.energy_kwh) * J_PER_KWH / 1024)
    fp = t.footprint
    assert fp.extra["tokens"] == 2024
    rec = Ledger(tmp_path / "l.db").footprint(t.run_id)
    assert rec.extra["tokens"] == 2024 and rec.extra["j_per_token"] == pytest.approx(fp.extra["j_per_token"])
    row = Ledger(tmp_path / "l.db").windows(t.run_id)[0]
    assert row["footprint"]["tokens"] == 1024


def test_no_tokens_no_token_fields_and_old_snapshots_still_build(tmp_path):
    t = Tracker("none", ledger=False, meters=[RampMeter()], interval_s=0.05, region="FR")
    with t:
        t.step(flops=5.0)
    assert "tokens" not in t.footprint.extra and "j_per_token" not in t.footprint.extra
    assert Snapshot(0.0, (), 0.0, 0).tokens == 0.0             # positional construction unchanged


def test_bad_tokens_never_raise(tmp_path):
    t = Tracker("bad", ledger=False, meters=[RampMeter()], interval_s=0.05, region="FR")
    with t:
        t.step(tokens="many")                                   # ignored, like a bad flops value
        t.step(tokens=3)
    assert t.footprint.extra["tokens"] == 3
