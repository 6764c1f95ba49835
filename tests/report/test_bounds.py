"""Bounds of 0.0 are bounds: a run whose grid intensity range starts at 0 has a CO2e low of 0.0, and every sum
the card does (totals, inference, lifetime) keeps it. Cards from run footprints alone match cards from records."""

import math

import pytest

from wattwise.footprint import Quantity
from wattwise.ledger import Ledger, to_footprint
from wattwise.report import build_card, card_from_runs, render
from wattwise.report.figures import add, figure_range, sum_figures
from wattwise.report.model import Figure

from .ledger_fixture import GENERATOR, T0, _ctx, _readings

ZERO_LOW = {"low": 0.0, "central": 44.18, "high": 120.0}   # e.g. a zone whose hourly intensity can reach 0


@pytest.fixture(scope="module")
def zero_low_ledger(tmp_path_factory):
    path = tmp_path_factory.mktemp("zero") / "ledger.db"
    ctx = _ctx("zero-low", "zero", [], accuracy=0.9, flops_method="counted")
    ctx["intensity_g_per_kwh"] = ZERO_LOW
    with Ledger(path) as led:
        for i, t in enumerate((0.0, 1800.0, 3600.0)):
            last = i == 2
            part = {"rank": 0, "host": "node-1", "pid": 1, "status": "ok" if last else "running", "start_ts": T0,
                    "end_ts": T0 + t if last else None, "updated_ts": T0 + t, "flops": 1e17 * t / 3600.0,
                    "steps": i, "readings": _readings(1, 300.0 * t, 60.0, 6.0, t),
                    "info": {"interval_s": 600.0, "world_size": 1, "warnings": [], "sources": {}}}
            led.write_part("run-zero", ctx, part)
    return path


def test_zero_low_bound_survives_totals_and_lifetime(zero_low_ledger):
    card = build_card(project="zero", ledger=zero_low_ledger, inference={"params": 1e8, "tokens": 1e12},
                      generator=GENERATOR)
    co2e = card.totals["co2e_kg"]
    assert co2e.low == 0.0 and co2e.central > 0.0
    inf, life = card.inference["inference"]["co2e_kg"], card.inference["lifetime"]["co2e_kg"]
    assert inf.low == 0.0
    # the lifetime low is training low + inference low = 0.0, not the central values (the old `a.low or a.central`)
    assert life.low == 0.0
    assert life.central == pytest.approx(co2e.central + inf.central)
    assert life.high == pytest.approx(co2e.high + inf.high)
    for fmt in ("md", "json", "latex", "html", "modelcard"):
        assert render(card, fmt)


def test_figure_arithmetic_keeps_zero_bounds():
    a = Figure("co2e_kg", "kg CO2e", 2.0, 0.0, 5.0, "measured")
    b = Figure("co2e_kg", "kg CO2e", 1.0, 0.0, 3.0, "estimated")
    s = add(a, b, "co2e_kg")
    assert (s.low, s.central, s.high, s.method) == (0.0, 3.0, 8.0, "mixed")
    t = sum_figures("co2e_kg", [a, b, Figure("co2e_kg", "kg CO2e")], "sum", 3)
    assert (t.low, t.central, t.high, t.runs_counted, t.partial) == (0.0, 3.0, 8.0, 2, True)
    assert figure_range(Figure("co2e_kg", "kg CO2e", 2.0)).as_tuple() == (2.0, 2.0, 2.0)   # no bounds: a point


def test_card_from_footprints_alone_matches_records(ledger_path):
    with Ledger(ledger_path) as led:
        recs = led.runs(project="demo")
    fps = [to_footprint(r) for r in recs]
    from_recs = card_from_runs(recs, generator=GENERATOR)
    from_fps = card_from_runs(fps, generator=GENERATOR)
    for k, f in from_recs.totals.items():
        g = from_fps.totals[k]
        assert (g.central, g.low, g.high, g.method, g.runs_counted) == (f.central, f.low, f.high, f.method,
                                                                        f.runs_counted), k
    assert [r.to_dict() for r in from_fps.runs] == [r.to_dict() for r in from_recs.runs]
    assert from_fps.counts == from_recs.counts and from_fps.period == from_recs.period


def test_methods_come_from_quantities(ledger_path):
    with Ledger(ledger_path) as led:
        fp = to_footprint(led.run("run-0001-baseline"))
    assert fp.flops.method == "counted"
    fig = card_from_runs([fp]).runs[0].figures["flops"]
    assert fig.method == "measured" and fig.basis.startswith("counted")
    # the method is the quantity's, whatever its basis text says
    fp.flops = Quantity(float(fp.flops), method="estimated", basis="counted by hand? no: 6ND (declared by the run)")
    fig = card_from_runs([fp]).runs[0].figures["flops"]
    assert fig.method == "estimated"
    assert math.isclose(fig.central, 6e17)
