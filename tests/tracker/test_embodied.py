"""Embodied carbon of a tracked run: the hardware's manufacturing carbon for the time the run held it
(wattwise.embodied, Luccioni et al. 2022's method), added to CO2e as in an estimate."""

import time

import pytest

from tests.meters.fakes import StepGpuMeter
from wattwise import estimate
from wattwise.constants import HOURS_PER_YEAR
from wattwise.tracker import Tracker


def _run(tmp_path, **kw):
    with Tracker("emb", ledger=tmp_path / "l.db", meters=[StepGpuMeter()], interval_s=10, region="FR", pue=1.2, **kw) as t:
        time.sleep(0.2)
    return t.footprint


def test_embodied_carbon_is_added_with_the_published_defaults(tmp_path):
    plain, with_emb = _run(tmp_path), _run(tmp_path, embodied=True, nodes=1)
    emb = with_emb.extra["embodied"]
    hours = with_emb.duration_s / 3600
    share = hours / (6 * HOURS_PER_YEAR * 0.85)                    # BLOOM: 6-year life, 85% utilisation
    assert emb["accelerators"]["central"] == pytest.approx(150 * share)      # 150 kg per GPU
    assert emb["servers"]["central"] == pytest.approx(2500 * share)          # 2,500 kg per server
    operational = with_emb.co2e_kg - emb["total"]["central"]
    assert operational == pytest.approx(plain.co2e_kg, rel=0.5)   # same job, similar energy
    assert with_emb.co2e_kg.method == "mixed" and "embodied" in with_emb.sources
    assert "embodied" not in plain.extra


def test_tracked_and_estimated_embodied_carbon_agree(tmp_path):
    fp = _run(tmp_path, embodied=True, nodes=1, embodied_gpu_kg=200, embodied_server_kg=1000)
    est = estimate(gpu_hours=fp.gpu_hours, energy_kwh=fp.it_energy_kwh, gpu="H100-SXM", gpus=1, region="FR",
                   pue=1.2, duration_s=float(fp.duration_s), embodied=True, nodes=1, embodied_gpu_kg=200,
                   embodied_server_kg=1000)
    assert fp.extra["embodied"]["total"]["central"] == pytest.approx(est.extra["embodied"]["total"]["central"])


def test_bad_embodied_settings_fail_at_construction():
    from wattwise.errors import WattwiseError
    with pytest.raises(WattwiseError):
        Tracker("x", ledger=False, embodied=True, embodied_utilisation=0)
