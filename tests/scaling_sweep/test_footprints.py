"""The sweep's totals and its plan's footprint are Footprints (measured / estimated); sweep.json keeps its keys."""

import pytest

from wattwise.footprint import Footprint
from wattwise.scaling.sweep.analysis import footprint_json, plan_footprint, totals

# the keys sweep.json's sweep_footprint and plan_footprint had when they were plain dicts
OLD_TOTAL_KEYS = {"flops_counted", "flops_6nd", "duration_s", "energy_kwh", "energy_kwh_low", "energy_kwh_high",
                  "co2e_kg", "co2e_kg_low", "co2e_kg_high", "cost_usd", "cost_usd_low", "cost_usd_high", "runs"}
OLD_PLAN_KEYS = {"flops", "params", "tokens", "method", "basis", "duration_s", "energy_kwh", "energy_kwh_low",
                 "energy_kwh_high", "co2e_kg", "co2e_kg_low", "co2e_kg_high", "cost_usd"}


def _rows(cost=True):
    rows = []
    for i in (1, 2, 3):
        r = {"flops_counted": 1e10 * i, "flops_6nd": 1.1e10 * i, "duration_s": 10.0 * i, "hardware": "cpu",
             "energy_kwh": 1e-4 * i, "energy_kwh_low": 0.8e-4 * i, "energy_kwh_high": 1.3e-4 * i,
             "co2e_kg": 5e-6 * i, "co2e_kg_low": 4e-6 * i, "co2e_kg_high": 7e-6 * i,
             "cost_usd": 2e-5 * i if cost else None, "cost_usd_low": 1e-5 * i if cost else None,
             "cost_usd_high": 3e-5 * i if cost else None}
        rows.append(r)
    return rows


def test_totals_is_a_measured_footprint_with_counted_flops():
    fp = totals(_rows())
    assert isinstance(fp, Footprint) and fp.method == "measured"
    assert fp.energy_kwh == pytest.approx(6e-4) and fp.energy_kwh.range.as_tuple() == pytest.approx((4.8e-4, 6e-4,
                                                                                                     7.8e-4))
    assert fp.co2e_kg.low == pytest.approx(2.4e-5) and fp.cost_usd.high == pytest.approx(1.8e-4)
    assert fp.duration_s == pytest.approx(60.0) and fp.duration_s.method == "measured"
    assert fp.flops == pytest.approx(6e10) and fp.flops.method == "counted"
    assert fp.extra == {"runs": 3, "flops_6nd": pytest.approx(6.6e10)} and fp.hardware == "cpu"


def test_a_quantity_missing_for_one_run_is_missing_in_the_total():
    rows = _rows()
    rows[1]["co2e_kg"] = None
    fp = totals(rows)
    assert fp.co2e_kg is None and "co2e_kg" in fp.missing and fp.energy_kwh is not None
    assert totals([]).extra["runs"] == 0 and totals([]).energy_kwh is None


def test_plan_footprint_scales_the_sweeps_efficiency_and_is_estimated():
    tot = totals(_rows(cost=False))
    plan = {"flops": 6.6e12, "params": 1e5, "tokens": 1.1e7}
    fp = plan_footprint(plan, tot, usd_per_kwh=0.25)
    assert isinstance(fp, Footprint) and fp.method == "estimated"
    k = 6.6e12 / 6.6e10
    assert fp.flops == 6.6e12 and fp.energy_kwh == pytest.approx(float(tot.energy_kwh) * k)
    assert fp.energy_kwh.low == pytest.approx(tot.energy_kwh.low * k)
    assert fp.duration_s == pytest.approx(float(tot.duration_s) * k)
    assert fp.cost_usd == pytest.approx(float(fp.energy_kwh) * 0.25)
    assert all(q.method == "estimated" for q in fp.quantities().values())
    assert fp.extra["params"] == 1e5 and fp.extra["tokens"] == 1.1e7
    assert plan_footprint(None, tot) is None
    no_energy = totals([{**r, "energy_kwh": None} for r in _rows()])
    assert plan_footprint(plan, no_energy) is None


def test_json_keeps_the_old_keys_and_values():
    tot = totals(_rows())
    d = footprint_json(tot)
    assert set(d) >= OLD_TOTAL_KEYS
    assert d["flops_counted"] == pytest.approx(6e10) and d["energy_kwh_low"] == pytest.approx(4.8e-4)
    assert d["runs"] == 3 and d["low"]["energy_kwh"] == d["energy_kwh_low"] and d["methods"]["flops"] == "counted"
    p = footprint_json(plan_footprint({"flops": 1e12, "params": 1e5, "tokens": 1.6e6}, tot))
    assert set(p) >= OLD_PLAN_KEYS
    assert p["method"] == "estimated"          # was "extrapolated" before the footprint type
    assert footprint_json(None) is None
    assert Footprint.from_dict(p).energy_kwh == pytest.approx(p["energy_kwh"])
