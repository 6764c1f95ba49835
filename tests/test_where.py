import pytest

from wattwise import where
from wattwise.errors import InvalidValueError, MissingInputError

JOB = dict(params=7e9, tokens=1.4e12, gpu="H100-SXM")


def test_sorted_with_ratio_to_best():
    rows = where(zones=["US-WV", "CA-QC", "FRA", "us-west1"], **JOB)
    co2 = [p.footprint.co2e_kg for p in rows]
    assert co2 == sorted(co2)
    assert rows[0].ratio_to_best == 1.0
    assert rows[-1].zone.zone_id == "US-WV"
    assert rows[-1].ratio_to_best == pytest.approx(co2[-1] / co2[0])


def test_location_is_first_order_over_all_zones():
    rows = where(**JOB)
    assert len(rows) > 600
    positive = [p for p in rows if p.footprint.co2e_kg > 0]
    assert positive[-1].footprint.co2e_kg / positive[0].footprint.co2e_kg > 50


def test_kind_filter_and_errors():
    rows = where(kind="us-state", **JOB)
    assert {p.zone.kind for p in rows} == {"us-state"} and len(rows) == 51
    with pytest.raises(InvalidValueError):
        where(kind="planet", **JOB)
    with pytest.raises(InvalidValueError):
        where(region="FRA", **JOB)
    with pytest.raises(MissingInputError, match="CO2e"):
        where(zones=["FRA"], params=7e9, tokens=1.4e12, flop_per_s=1e14)


def test_zero_intensity_zone_does_not_make_ratios_infinite():
    rows = where(zones=["CAF", "FRA", "US-WV"], **JOB)  # OWID reports 0 g/kWh for the Central African Republic
    assert rows[0].zone.zone_id == "CAF" and rows[0].footprint.co2e_kg == 0 and rows[0].ratio_to_best == 0
    assert rows[1].ratio_to_best == 1.0 and rows[2].ratio_to_best == pytest.approx(
        rows[2].footprint.co2e_kg / rows[1].footprint.co2e_kg)
