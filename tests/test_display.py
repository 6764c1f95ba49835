"""wattwise.display: one policy for the CLI, the card and the demo (about 3 significant figures, scaled SI
units, no e-notation, ranges as 'low to high')."""

import math
import re

import pytest
from hypothesis import given, strategies as st

from wattwise import display as d
from wattwise.errors import InvalidValueError
from wattwise.quantity import Range

E_NOTATION = re.compile(r"\d[eE][-+]?\d")


def test_money_three_figures_and_never_zero_for_a_real_cost():
    assert d.usd(0.0042) == "$0.0042" and d.usd(0) == "$0.00" and d.usd(0.42) == "$0.42"
    assert d.usd(12.3) == "$12.30" and d.usd(225.88) == "$226" and d.usd(225880.52) == "$226,000"
    assert d.usd(2.5e6) == "$2.5M" and d.usd(3.1e9) == "$3.1B"


def test_flops_with_si_prefixes_and_rounding_carries_into_the_next_prefix():
    assert d.flops(5.88e22) == "58.8 ZFLOPs" and d.flops(0) == "0 FLOPs" and d.flops(1234) == "1.23 kFLOPs"
    assert d.flops(9.9996e20) == "1 ZFLOPs"           # not "1,000 EFLOPs"
    assert d.flops(512) == "512 FLOPs" and d.si(3.3e9) == "3.3G"


def test_counts_use_the_fields_suffixes_and_stay_readable_when_huge():
    assert d.count(7e9) == "7B" and d.count(1.4e12) == "1.4T" and d.count(350e6) == "350M" and d.count(None) == "-"
    assert d.count(2.73e17) == "273,000T"              # was "2.73e+17T"


def test_one_unit_family_per_quantity():
    assert d.energy(1.5e3) == "1.5 MWh" and d.energy(0.0042) == "4.2 Wh" and d.energy(4.18e-5) == "0.0418 Wh"
    assert d.energy(0) == "0 kWh" and "mWh" not in d.energy(1e-6) and d.energy(5.71e-8) == "57.1 µWh"
    assert d.co2e(5.2e-6) == "5.2 mg CO2e"
    assert d.co2e(2500) == "2.5 t CO2e" and d.co2e(0.5) == "500 g CO2e"
    assert d.duration(3 * 86400) == "3 days" and d.duration(30) == "30 s" and d.duration(0.25) == "250 ms"
    assert d.duration(37310.7 * 86400) == "102 years"   # was "37,310.7 days"
    assert d.gpu_hours(108889) == "108,889 GPU-h" and d.size(1.5 * 2**30) == "1.5 GiB" and d.size(12) == "12 B"


def test_ranges_read_low_to_high():
    assert d.value(None, "kWh") == "n/a" and d.value(2.0, "widgets") == "2 widgets"
    assert d.span(1.0, 1.0, "kWh") == "" and d.span(1.0, 2.0, "kWh") == "1 kWh to 2 kWh"
    assert d.quantity_span("energy_kwh", Range(3.37e-6, 4.18e-5, 1.39e-4)) == "0.00337 Wh to 0.139 Wh"
    assert d.quantity_span("cost_usd", Range.point(3.0)) == ""


@given(st.floats(min_value=1e-9, max_value=1e30, allow_nan=False))
def test_no_output_uses_e_notation_and_keeps_about_three_figures(x):
    for f in (d.flops, d.energy, d.co2e, d.usd, d.duration, d.count, d.power, d.si, d.gpu_hours):
        text = f(x)
        assert not E_NOTATION.search(text), (f.__name__, x, text)
    digits = re.sub(r"[^0-9]", "", d.energy(x)).lstrip("0")
    assert len(digits.rstrip("0")) <= 3 or math.isclose(x, 0)


@pytest.mark.parametrize("text,value", [("7B", 7e9), ("1.4T", 1.4e12), ("150e12", 150e12), (" 12k ", 12e3)])
def test_parse_quantity(text, value):
    assert d.parse_quantity("params", text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["nan", "inf", "7 bn", "seven"])
def test_parse_quantity_names_the_flag_and_the_bad_value(text):
    with pytest.raises(InvalidValueError, match=r"--params .*" + text.split()[0]):
        d.parse_quantity("params", text)
