"""The card model: totals over all runs (failed and sweeps included), flags, filters, Pareto, inference."""

import json
import math
import subprocess
import sys

import pytest

import wattwise
from wattwise.errors import InvalidValueError, MissingInputError, WattwiseError
from wattwise.ledger import Ledger, to_footprint
from wattwise.report import build_card, card_from_estimate, card_from_runs, footprint_from_dict, render

from .ledger_fixture import GENERATOR, XSS


def test_totals_are_sums_over_all_runs_including_failed(ledger_path, demo_card):
    with Ledger(ledger_path) as led:
        recs = led.runs(project="demo")
    assert len(recs) == 4 and demo_card.counts == {"runs": 4, "ok": 3, "failed": 1}
    assert [r.id for r in demo_card.runs] == [r["id"] for r in recs]
    fps = [to_footprint(r) for r in recs]
    for q in ("gpu_hours", "duration_s", "energy_kwh", "co2e_kg", "cost_usd"):
        f = demo_card.totals[q]
        assert math.isclose(f.central, sum(fp.ranges[q].central for fp in fps), rel_tol=1e-12)
        assert math.isclose(f.low, sum(fp.ranges[q].low for fp in fps), rel_tol=1e-12)
        assert math.isclose(f.high, sum(fp.ranges[q].high for fp in fps), rel_tol=1e-12)
        assert f.low <= f.central <= f.high and f.runs_counted == 4
    # the failed run has no FLOPs: the FLOPs total says it is partial
    flops = demo_card.totals["flops"]
    assert flops.central == pytest.approx(6e17 + 1.5e17 + 1e17) and flops.runs_counted == 3 and flops.partial
    assert any("lower bound" in w for w in demo_card.warnings)
    # facility energy = IT energy x PUE; CO2e = facility energy x intensity
    assert demo_card.totals["energy_kwh"].central == pytest.approx(demo_card.totals["it_energy_kwh"].central * 1.1)
    assert demo_card.totals["co2e_kg"].central == pytest.approx(demo_card.totals["energy_kwh"].central * 44.18 / 1e3)
    comp = sum(f.central for f in demo_card.energy_by_component.values())
    assert comp == pytest.approx(demo_card.totals["it_energy_kwh"].central)


def test_method_flags(demo_card):
    t = demo_card.totals
    assert t["gpu_hours"].method == "measured" and t["duration_s"].method == "measured"
    assert t["energy_kwh"].method == "mixed"             # GPU and CPU metered, memory modelled
    assert demo_card.energy_by_component["gpu"].method == "measured"
    assert demo_card.energy_by_component["memory"].method == "estimated"
    assert t["flops"].method == "mixed"                  # counted runs + one declared 6ND
    by_id = {r.id: r for r in demo_card.runs}
    assert by_id["run-0001-baseline"].figures["flops"].method == "measured"
    assert by_id["run-0002-sweep-a"].figures["flops"].method == "estimated"
    assert "6ND" in by_id["run-0002-sweep-a"].figures["flops"].basis
    assert by_id["run-0003-sweep-b"].status == "failed" and "out of memory" in by_id["run-0003-sweep-b"].error
    assert by_id["run-0003-sweep-b"].name == XSS


def test_methods_list_every_constant_with_a_source(demo_card):
    names = {c.name for c in demo_card.methods}
    assert {"PUE", "price per GPU-hour", "grid intensity FRA", "GPU energy meter", "CPU energy meter",
            "memory energy meter", "joules per kWh", "inference FLOPs per parameter per token",
            "Pareto dominance"} <= names
    assert all(c.source for c in demo_card.methods)
    z = demo_card.zones[0]
    assert (z.zone_id, z.intensity_g_per_kwh, z.year, z.basis) == ("FRA", 44.18, 2024, "lifecycle") and z.licence


def test_filters(ledger_path):
    assert [r.id for r in build_card(tag="sweep", ledger=ledger_path).runs] == ["run-0002-sweep-a", "run-0003-sweep-b"]
    assert [r.id for r in build_card(project="other", ledger=ledger_path).runs] == ["run-0005-other"]
    c = build_card(["run-0004", "run-0001-baseline", "run-0004-distilled"], ledger=ledger_path)
    assert [r.id for r in c.runs] == ["run-0004-distilled", "run-0001-baseline"]   # prefixes, duplicates once
    assert build_card(ledger=ledger_path).counts["runs"] == 5
    with pytest.raises(MissingInputError, match="no runs"):
        build_card(project="nope", ledger=ledger_path)
    with pytest.raises(WattwiseError, match="no run"):
        build_card(["zzz"], ledger=ledger_path)


def test_missing_ledger_is_not_created(tmp_path):
    p = tmp_path / "absent.db"
    with pytest.raises(WattwiseError, match="no ledger"):
        build_card(project="x", ledger=p)
    assert not p.exists()


def test_pareto_from_runs_with_accuracy(demo_card):
    pa = demo_card.pareto
    assert pa["cost_field"] == "energy_kwh" and pa["cost_unit"] == "kWh"
    rows = {r["name"]: r for r in pa["rows"]}
    assert len(rows) == 3                                         # the failed run has no accuracy
    assert rows["baseline"]["on_front"]
    assert not rows["sweep_lr=1e-3 50% & #1"]["on_front"]
    assert rows["sweep_lr=1e-3 50% & #1"]["dominated_by"] == ["distilled {student} ~50% ^2 \\ $5"]


def test_explicit_variants_and_axis(ledger_path):
    variants = [{"name": "fp32", "accuracy": 0.91, "size_bytes": 400}, {"name": "int8", "accuracy": 0.905,
                "size_bytes": 100}, {"name": "bad", "accuracy": 0.9, "size_bytes": 200}]
    c = build_card(project="demo", ledger=ledger_path, variants=variants, cost_axis="bytes")
    assert c.pareto["cost_field"] == "size_bytes"
    assert [r["on_front"] for r in c.pareto["rows"]] == [True, True, False]


def test_inference_projection_of_runs(demo_card, ledger_path):
    inf = demo_card.inference
    train = demo_card.totals["flops"].central
    infer = 2 * 1e8 * 1e9 * 365
    assert inf["inference"]["flops"].central == pytest.approx(infer)
    assert inf["inference_fraction"] == pytest.approx(infer / (infer + train))
    assert inf["crossover_day"] == pytest.approx(train / (2 * 1e8 * 1e9))
    k = infer / train
    assert inf["inference"]["energy_kwh"].central == pytest.approx(demo_card.totals["energy_kwh"].central * k)
    assert inf["inference"]["energy_kwh"].method == "estimated"
    assert inf["lifetime"]["co2e_kg"].central == pytest.approx(
        demo_card.totals["co2e_kg"].central + inf["inference"]["co2e_kg"].central)
    with pytest.raises(InvalidValueError):
        build_card(project="demo", ledger=ledger_path, inference={"params": 1e8})        # no tokens
    with pytest.raises(MissingInputError, match="FLOPs"):
        build_card(["run-0003"], ledger=ledger_path, inference={"params": 1e8, "tokens": 1e9})  # failed, no FLOPs


def test_estimate_card_and_round_trip():
    fp = wattwise.estimate(params=7e9, tokens=1.4e12, gpu="A100", gpus=64, region="FRA",
                           inference_tokens_per_day=1e9, inference_days=365)
    card = card_from_estimate(fp, generator=GENERATOR)
    assert card.kind == "estimate" and card.runs == []
    assert all(f.method == "estimated" for f in card.totals.values() if f.known)
    assert card.totals["flops"].basis.startswith("6ND")
    assert card.totals["co2e_kg"].central == pytest.approx(fp.co2e_kg)
    assert card.totals["co2e_kg"].low == pytest.approx(fp.low.co2e_kg)
    assert card.inference["crossover_day"] == pytest.approx(fp.extra["split"]["crossover_day"])
    assert {c.name for c in card.methods} >= {"PUE", "grid intensity", "training FLOPs", "achieved FLOP/s per GPU"}
    # what `wattwise estimate --json` prints comes back as the same footprint
    fp2 = footprint_from_dict(json.loads(json.dumps(fp.to_dict())))
    card2 = card_from_estimate(fp2, generator=GENERATOR)
    assert render(card2, "json") == render(card, "json")


def test_estimate_with_missing_quantities():
    fp = wattwise.estimate(params=1e9, tokens=2e10)
    card = card_from_estimate(fp)
    assert card.totals["co2e_kg"].method == "missing" and card.totals["co2e_kg"].central is None
    assert card.warnings
    for fmt in ("md", "json", "latex", "html", "modelcard"):
        assert render(card, fmt)
    assert "emissions: null" in render(card, "modelcard")


def test_bad_inputs():
    with pytest.raises(MissingInputError):
        card_from_runs([])
    with pytest.raises(InvalidValueError):
        card_from_estimate({"co2e_kg": 1})
    with pytest.raises(InvalidValueError, match="no footprint quantity"):
        footprint_from_dict({"hello": 1})
    with pytest.raises(InvalidValueError, match="accepted: md, json, latex, html, modelcard"):
        render(None, "pdf")
    with pytest.raises(InvalidValueError, match="not both"):
        build_card(["x"], estimate=wattwise.estimate(flops=1e20))


def test_modelcard_emissions_in_grams(demo_card):
    text = render(demo_card, "modelcard")
    yaml = pytest.importorskip("yaml", reason="PyYAML not installed: YAML parse check skipped")
    meta = yaml.safe_load(text.split("---")[1])["co2_eq_emissions"]
    assert meta["emissions"] == pytest.approx(demo_card.totals["co2e_kg"].central * 1000, rel=1e-5)
    assert set(meta) == {"emissions", "source", "training_type", "geographical_location", "hardware_used"}
    assert meta["training_type"] == "pre-training" and "France" in meta["geographical_location"]
    assert "A100" in meta["hardware_used"]


def test_import_report_is_light():
    code = ("import sys, wattwise.report; "
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sqlite3', 'matplotlib', 'numpy', 'scipy', 'typer', 'rich', 'torch'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
