import math

import pytest
from hypothesis import given, strategies as st

from wattwise.footprint import (Footprint, Range, cost_from_energy, cost_from_gpu_hours, energy_to_co2e,
                                facility_energy)

pos = st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False)


@st.composite
def ranges(draw):
    a, b, c = sorted([draw(pos), draw(pos), draw(pos)])
    return Range(a, b, c)


@given(ranges(), ranges())
def test_interval_arithmetic_keeps_order(a, b):
    for r in (a * b, a / b, a + b):
        assert r.low <= r.central * (1 + 1e-12) and r.central <= r.high * (1 + 1e-12)


@given(ranges(), ranges())
def test_interval_product_contains_every_product_of_members(a, b):
    prod = a * b
    for x in (a.low, a.central, a.high):
        for y in (b.low, b.central, b.high):
            assert prod.low * (1 - 1e-12) <= x * y <= prod.high * (1 + 1e-12)


def test_range_rejects_disorder():
    with pytest.raises(ValueError):
        Range(2, 1, 3)


def test_conversions():
    assert energy_to_co2e(1000, 400).central == 400  # 1 MWh at 400 g/kWh = 400 kg
    assert energy_to_co2e(1000, 400, pue=1.5).central == 600
    assert facility_energy(10, Range(1.1, 1.2, 1.5)).as_tuple() == pytest.approx((11, 12, 15))
    assert cost_from_gpu_hours(100, 2.5).central == 250
    # 1000 kWh at $0.10 + $30,000 amortised over 30,000 h, used 100 h -> 100 + 100
    assert cost_from_energy(1000, 0.10, hardware_usd=30000, hardware_lifetime_h=30000, hours_used=100).central \
        == pytest.approx(200)


@given(pos, pos, pos)
def test_carbon_scales_linearly(kwh, g, k):
    base = energy_to_co2e(kwh, g).central
    assert math.isclose(energy_to_co2e(kwh * k, g).central, base * k, rel_tol=1e-9)


def test_footprint_exposes_central_low_high_and_json_shape():
    fp = Footprint.of({"energy_kwh": Range(1, 2, 3), "co2e_kg": Range.point(5)})
    assert fp.energy_kwh == 2 and fp.low.energy_kwh == 1 and fp.high.energy_kwh == 3
    assert fp.flops is None and fp.cost_usd is None
    d = fp.to_dict()
    for key in ("flops", "gpu_hours", "duration_s", "energy_kwh", "co2e_kg", "cost_usd", "low", "high"):
        assert key in d
    assert d["low"]["energy_kwh"] == 1 and d["flops"] is None
    with pytest.raises(ValueError):
        Footprint.of({"watts": Range.point(1)})
    with pytest.raises(ValueError, match="Quantity"):
        Footprint(energy_kwh=2.0)


# --- the typed value -----------------------------------------------------------------------------------------

from wattwise.footprint import Quantity, total  # noqa: E402


def test_quantity_is_its_central_value_with_range_method_and_basis():
    q = Quantity(2.0, 1.0, 3.0, method="measured", basis="NVML counter")
    assert q == 2.0 and q * 2 == 4.0 and f"{q:.1f}" == "2.0"
    assert (q.low, q.central, q.high, q.method, q.basis) == (1.0, 2.0, 3.0, "measured", "NVML counter")
    assert q.range == Range(1.0, 2.0, 3.0) and not q.exact
    assert Quantity.from_dict(q.to_dict()).to_dict() == q.to_dict()
    with pytest.raises(ValueError):
        Quantity(1.0, 2.0, 3.0)  # low above central
    with pytest.raises(ValueError, match="accepted"):
        Quantity(1.0, method="guessed")


def test_quantity_sum_keeps_agreeing_methods_and_marks_mixed():
    a = Quantity(1.0, 0.5, 2.0, method="measured", basis="meter")
    b = Quantity(3.0, method="estimated", basis="TDP model")
    s = a.plus(b)
    assert s.range.as_tuple() == (3.5, 4.0, 5.0) and s.method == "mixed" and "meter" in s.basis
    assert a.plus(a).method == "measured"


def test_zero_low_bound_is_kept_not_treated_as_missing():
    # a renewable-only zone: intensity range starts at 0, so the CO2e low bound is exactly 0.0
    a = Footprint.of({"co2e_kg": Range(0.0, 1.0, 2.0)})
    b = Footprint.of({"co2e_kg": Range(0.0, 3.0, 4.0)})
    s = a + b
    assert s.low.co2e_kg == 0.0 and s.co2e_kg == 4.0 and s.high.co2e_kg == 6.0
    assert Footprint.from_dict(s.to_dict()).low.co2e_kg == 0.0
    assert a.scale(3).low.co2e_kg == 0.0 and a.scale(3).high.co2e_kg == 6.0


def test_sum_scale_and_nested_round_trip():
    a = Footprint.of({"flops": 10.0, "energy_kwh": Range(1, 2, 3)}, method="measured")
    b = Footprint.of({"flops": 5.0, "energy_kwh": Range(1, 1, 1), "co2e_kg": 7.0}, method="measured")
    s = sum([a, b])
    assert s.flops == 15.0 and s.energy_kwh.range.as_tuple() == (2, 3, 4) and s.method == "measured"
    assert s.co2e_kg is None and "co2e_kg" in s.missing  # not known for every part: missing, never half a sum
    assert total([a, b]).flops == s.flops
    with pytest.raises(ValueError):
        total([])
    k = a.scale(2.5)
    assert k.flops == 25.0 and k.energy_kwh.range.as_tuple() == (2.5, 5.0, 7.5) and a.flops == 10.0
    a.inference, a.lifetime = b, a + b
    back = Footprint.from_dict(a.to_dict())
    assert back.inference.co2e_kg == 7.0 and back.lifetime.flops == 15.0
    assert back.energy_kwh.method == "measured" and back.to_dict() == a.to_dict()


def test_from_dict_rejects_what_is_not_a_footprint():
    for bad in ([1, 2], "x", {"low": [1]}, {"flops": "many"}, {"flops": 1, "inputs": 3}):
        with pytest.raises(ValueError):
            Footprint.from_dict(bad)
