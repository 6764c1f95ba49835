"""wattwise.display: one rule per unit for the CLI, the card and the demo."""

import pytest

from wattwise import display as d
from wattwise.errors import InvalidValueError
from wattwise.quantity import Range


def test_a_cost_below_a_cent_keeps_two_significant_digits():
    assert d.usd(0.0042) == "$0.0042" and d.usd(0) == "$0.00" and d.usd(0.42) == "$0.42"
    assert d.usd(1234.5) == "$1,234.50" and d.usd(2.5e6) == "$2.5M"


def test_flops_in_powers_of_ten_and_rounding_carries_into_the_exponent():
    assert d.flops(5.88e22) == "5.88e22 FLOPs" and d.flops(0) == "0 FLOPs" and d.flops(1234) == "1.23e3 FLOPs"
    assert d.flops(9.9996e20) == "1e21 FLOPs"        # not "10e20"
    assert d.flops(512) == "512 FLOPs" and d.sci(3.3e9) == "3.3e9"


def test_counts_use_the_fields_suffixes():
    assert d.count(7e9) == "7B" and d.count(1.4e12) == "1.4T" and d.count(350e6) == "350M" and d.count(None) == "-"


def test_energy_carbon_time_and_sizes_pick_a_prefix():
    assert d.energy(1.5e3) == "1.5 MWh" and d.energy(0.0042) == "4.2 Wh" and d.energy(0) == "0 kWh"
    assert d.co2e(2500) == "2.5 t CO2e" and d.co2e(0.5) == "500 g CO2e"
    assert d.duration(3 * 86400) == "3.0 days" and d.duration(30) == "30 s" and d.gpu_hours(108889) == "108,889 GPU-h"
    assert d.size(1.5 * 2**30) == "1.5 GiB" and d.size(12) == "12 B"


def test_spans_and_values():
    assert d.value(None, "kWh") == "n/a" and d.value(2.0, "widgets") == "2 widgets"
    assert d.span(1.0, 1.0, "kWh") == "" and d.span(1.0, 2.0, "kWh") == "1 kWh – 2 kWh"
    assert d.quantity_span("cost_usd", Range(1.0, 1.5, 2.0)) == "$1.00 - $2.00"
    assert d.quantity_span("cost_usd", Range.point(3.0)) == ""


@pytest.mark.parametrize("text,value", [("7B", 7e9), ("1.4T", 1.4e12), ("150e12", 150e12), (" 12k ", 12e3)])
def test_parse_quantity(text, value):
    assert d.parse_quantity("params", text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["nan", "inf", "7 bn", "seven"])
def test_parse_quantity_names_the_flag_and_the_bad_value(text):
    with pytest.raises(InvalidValueError, match=r"--params .*" + text.split()[0]):
        d.parse_quantity("params", text)
