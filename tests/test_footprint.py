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
    fp = Footprint(ranges={"energy_kwh": Range(1, 2, 3), "co2e_kg": Range.point(5)})
    assert fp.energy_kwh == 2 and fp.low.energy_kwh == 1 and fp.high.energy_kwh == 3
    assert fp.flops is None and fp.cost_usd is None
    d = fp.to_dict()
    for key in ("flops", "gpu_hours", "duration_s", "energy_kwh", "co2e_kg", "cost_usd", "low", "high"):
        assert key in d
    assert d["low"]["energy_kwh"] == 1 and d["flops"] is None
    with pytest.raises(ValueError):
        Footprint(ranges={"watts": Range.point(1)})
