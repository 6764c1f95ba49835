"""An estimate and a measurement of the same job agree: both resolve intensity, PUE and price through
wattwise.assumptions and apply the same chain (IT energy x PUE x intensity; GPU-hours x price)."""

import time

import pytest

from tests.meters.fakes import FakeNvml
from wattwise import Tracker, estimate
from wattwise.meters.nvml import NvmlMeter

JOB = dict(region="FR", pue=1.2, usd_per_gpu_hour=2.5)
POWER_W = 400.0
FLOPS = 3e14


def _tracked(tmp_path, **kw):
    meter = NvmlMeter(FakeNvml(n=1, power_w=POWER_W))
    with Tracker("parity", ledger=tmp_path / "l.db", meters=[meter], interval_s=0.05, gpu="H100-SXM",
                 **JOB, **kw) as t:
        time.sleep(0.4)
        t.step(flops=FLOPS)
    return t.footprint


def test_estimate_of_the_measured_job_gives_the_same_energy_carbon_dollars_and_sources(tmp_path):
    fp = _tracked(tmp_path)
    est = estimate(flops=fp.flops, gpu="H100-SXM", gpus=1, gpu_hours=fp.gpu_hours, energy_kwh=fp.it_energy_kwh,
                   **JOB)
    for q in ("energy_kwh", "co2e_kg", "cost_usd", "gpu_hours", "flops"):
        m, e = getattr(fp, q), getattr(est, q)
        assert m is not None and e is not None, q
        assert m.range.as_tuple() == pytest.approx(e.range.as_tuple(), rel=1e-12), q
    assert fp.pue.range == est.pue.range and fp.intensity_g_per_kwh.range == est.intensity_g_per_kwh.range
    for key in ("pue", "intensity", "cost"):
        assert fp.sources[key] == est.sources[key], key
    assert fp.energy_kwh.method == "measured" and est.energy_kwh.method == "estimated"


def test_estimate_from_board_power_matches_the_metered_energy(tmp_path):
    fp = _tracked(tmp_path)
    est = estimate(flops=fp.flops, gpu="H100-SXM", gpu_hours=fp.gpu_hours, power_w=POWER_W, **JOB)
    # the fake board draws POWER_W from the first to the last meter read, a few ms inside the run's wall-clock
    assert float(fp.it_energy_kwh) == pytest.approx(float(est.it_energy_kwh), rel=0.05)
    assert float(fp.co2e_kg) == pytest.approx(float(est.co2e_kg), rel=0.05)
    assert fp.cost_usd.range.as_tuple() == pytest.approx(est.cost_usd.range.as_tuple(), rel=1e-12)
