"""`wattwise compare` (the Typer object in wattwise.cli.compare) through typer's CliRunner."""

import json
import sys

import pytest
from typer.testing import CliRunner

from wattwise.cli.compare import app
from wattwise.errors import MissingExtraError, MissingInputError

VARIANTS = [
    {"name": "fp32", "accuracy": 0.91, "flops_per_sample": 1e9, "size_bytes": 4e8, "latency_s": 0.010},
    {"name": "int8", "accuracy": 0.905, "flops_per_sample": 1e9, "size_bytes": 1e8, "latency_s": 0.004},
    {"name": "pruned", "accuracy": 0.89, "flops_per_sample": 3e8, "size_bytes": 1e8, "latency_s": 0.004},
    {"name": "bad", "accuracy": 0.85, "flops_per_sample": 1e9, "size_bytes": 2e8, "latency_s": 0.020},
]
runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    js = tmp_path / "v.json"
    js.write_text(json.dumps({"variants": VARIANTS[:2]}))
    cs = tmp_path / "v.csv"
    cs.write_text("name,accuracy,flops_per_sample,size_bytes,latency_s\n" +
                  "".join(f"{v['name']},{v['accuracy']},{v['flops_per_sample']},{v['size_bytes']},{v['latency_s']}\n"
                          for v in VARIANTS[2:]))
    return js, cs


def _json(args):
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    return {row["name"]: row for row in json.loads(r.output)}


def test_frontier_per_axis_json_and_csv(files):
    js, cs = files
    rows = _json([str(js), str(cs)])                         # default axis: flops
    assert {n for n, r in rows.items() if r["pareto"]} == {"fp32", "pruned"}
    assert rows["bad"]["dominated_by"] == ["fp32", "int8", "pruned"]
    rows = _json([str(js), str(cs), "--cost", "latency"])
    assert {n for n, r in rows.items() if r["pareto"]} == {"fp32", "int8"}
    assert rows["pruned"]["dominated_by"] == ["int8"]
    rows = _json([str(js), str(cs), "--cost", "bytes"])
    assert {n for n, r in rows.items() if r["pareto"]} == {"fp32", "int8"}


def test_table_marks_frontier_and_writes_plot(files, tmp_path):
    pytest.importorskip("matplotlib")
    js, cs = files
    out = tmp_path / "pareto.png"
    r = runner.invoke(app, [str(js), str(cs), "--cost", "latency", "--plot", str(out)])
    assert r.exit_code == 0, r.output
    lines = {ln.split("│")[2].strip(): ln for ln in r.output.splitlines() if ln.count("│") > 3}
    assert "*" in lines["int8"].split("│")[1] and "*" not in lines["pruned"].split("│")[1]
    assert "2 of 4 variants on the frontier" in r.output
    assert out.stat().st_size > 1000 and out.read_bytes()[:4] == b"\x89PNG"


def test_errors(files, tmp_path, monkeypatch):
    r = runner.invoke(app, [])
    assert isinstance(r.exception, MissingInputError)
    bad = tmp_path / "v.txt"
    bad.write_text("x")
    r = runner.invoke(app, [str(bad)])
    assert "accepted formats are .json and .csv" in str(r.exception)
    r = runner.invoke(app, [str(files[0]), "--cost", "energy"])
    assert "no cost (energy_per_1000_kwh/energy_kwh)" in str(r.exception)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    r = runner.invoke(app, [str(files[0]), "--plot", str(tmp_path / "p.png")])
    assert isinstance(r.exception, MissingExtraError) and "wattwise[plot]" in str(r.exception)


def test_measured_variants_through_the_ledger(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("wattwise.tracker")
    from wattwise.compress import measure_variants, quantize
    from wattwise.compress.toys import small_mlp
    torch.manual_seed(0)
    m = small_mlp(d_in=32, hidden=64, depth=1)
    led = tmp_path / "ledger.sqlite"
    ms = measure_variants({"fp32": m, "bf16": quantize(m, "bf16").model}, lambda _: 0.5, torch.randn(8, 32),
                          group="mlp", ledger=str(led), energy_min_s=0.2, repeats=3)
    if any(x.energy_per_1000_kwh is None for x in ms):
        pytest.skip(f"no energy measured here: {ms[0].notes}")
    rows = _json(["--ledger-path", str(led), "--model", "mlp", "--cost", "bytes"])
    assert set(rows) == {"fp32", "bf16"}
    assert rows["bf16"]["pareto"] and not rows["fp32"]["pareto"]          # same accuracy, half the bytes
    assert rows["fp32"]["energy_per_1000_kwh"] == pytest.approx(ms[0].energy_per_1000_kwh, rel=0.05)
