"""`wattwise scaling` sub-app, driven through typer's CliRunner."""

import csv
import json

import pytest
from typer.testing import CliRunner

from wattwise.cli.scaling import app
from wattwise.errors import InvalidValueError, MissingInputError, UnknownNameError
from wattwise.scaling import get_law, isoflop_runs

runner = CliRunner()


def run_json(*args):
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, (r.output, r.exception)
    return json.loads(r.stdout)


def test_plan_tokens20_json():
    out = run_json("plan", "--budget", "1e24", "--law", "tokens20")
    assert set(out) >= {"params", "tokens", "tokens_per_param", "loss", "flops"}
    assert round(out["params"] / 1e9, 1) == 91.3
    assert round(out["tokens"] / 1e12, 2) == 1.83
    assert out["loss"] is None


def test_plan_default_law_and_inference():
    out = run_json("plan", "--budget", "1e24", "--inference-tokens", "2T")
    law = get_law()
    assert out["law"] == "besiroglu2024"
    assert out["params"] == pytest.approx(law.optimal(1e24).params)
    assert out["loss"] == pytest.approx(law.optimal(1e24).loss)
    inf = out["inference"]
    assert inf["params"] < out["params"] and inf["tokens"] > out["tokens"]
    assert inf["loss"] == pytest.approx(out["loss"])
    assert 0 < inf["saving_fraction"] < 1


def test_plan_with_gpu_prints_the_footprint():
    import wattwise

    if not callable(getattr(wattwise, "estimate", None)):
        pytest.skip("the estimator is not in this checkout")
    out = run_json("plan", "--budget", "1e23", "--gpu", "H100-SXM", "--region", "FR")
    fp = out["footprint"]
    assert fp["flops"] == pytest.approx(1e23)
    for k in ("gpu_hours", "energy_kwh", "co2e_kg", "cost_usd"):
        assert fp[k] > 0
    r = runner.invoke(app, ["plan", "--budget", "1e23", "--gpu", "H100-SXM", "--region", "FR"])
    assert r.exit_code == 0 and "GPU-hours" in r.stdout


def test_plan_tables_and_errors():
    r = runner.invoke(app, ["plan", "--budget", "1e24"])
    assert r.exit_code == 0 and "Parameters" in r.stdout
    r = runner.invoke(app, ["plan", "--budget", "1e24", "--law", "tokns20"])
    assert isinstance(r.exception, UnknownNameError) and "tokens20" in str(r.exception)
    r = runner.invoke(app, ["plan", "--budget", "-5"])
    assert isinstance(r.exception, InvalidValueError)
    r = runner.invoke(app, ["plan"])
    assert isinstance(r.exception, MissingInputError)
    r = runner.invoke(app, ["plan", "--budget", "1e24", "--region", "FR"])
    assert isinstance(r.exception, MissingInputError)


def test_check_4x_model_on_quarter_tokens():
    law = get_law()
    opt = law.optimal(1e24)
    out = run_json("check", "--params", str(4 * opt.params), "--tokens", str(opt.tokens / 4))
    assert 0 < out["efficiency"] <= 1
    assert out["wasted_fraction"] == pytest.approx(1 - out["efficiency"])
    assert out["efficiency"] == pytest.approx(law.efficiency(4 * opt.params, opt.tokens / 4))
    assert out["params"] == pytest.approx(opt.params, rel=1e-9)
    assert out["tokens"] == pytest.approx(opt.tokens, rel=1e-9)
    r = runner.invoke(app, ["check", "--params", "280B", "--tokens", "300B"])
    assert r.exit_code == 0 and "wasted" in r.stdout
    r = runner.invoke(app, ["check", "--params", "7B", "--tokens", "1T", "--law", "kaplan2020"])
    assert isinstance(r.exception, MissingInputError)


def _write_runs(path, columns=("N", "D", "loss"), truth=None, sizes=10):
    n, d, l_ = isoflop_runs(truth, noise=0.005, seed=11, sizes_per_budget=sizes)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for a, b, c in zip(n, d, l_):
            w.writerow([a, b if columns[1] != "C" else 6 * a * b, c])
    return path


def test_fit_json_with_bootstrap(tmp_path):
    p = _write_runs(tmp_path / "runs.csv")
    out = run_json("fit", str(p), "--bootstrap", "20", "--budget", "1e24")
    for k in ("E", "A", "B", "alpha", "beta", "a", "b"):
        assert k in out
        lo, hi = out["ci"][k]
        assert lo <= hi
    assert out["alpha"] == pytest.approx(get_law().alpha, abs=0.03)
    assert out["a"] + out["b"] == pytest.approx(1.0)
    assert "tokens_per_param" in out["ci"]


def test_fit_accepts_compute_in_place_of_tokens_and_custom_columns(tmp_path):
    p = _write_runs(tmp_path / "runs.csv", columns=("params", "C", "final_loss"))
    out = run_json("fit", str(p), "--params-col", "params", "--loss-col", "final_loss", "--loss", "ls")
    assert "ci" not in out
    assert out["beta"] == pytest.approx(get_law().beta, abs=0.03)


def test_fit_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    p = _write_runs(tmp_path / "runs.csv", sizes=6)
    png = tmp_path / "fit.png"
    r = runner.invoke(app, ["fit", str(p), "--plot", str(png)])
    assert r.exit_code == 0, (r.output, r.exception)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fit_bad_files(tmp_path):
    r = runner.invoke(app, ["fit", str(tmp_path / "nope.csv")])
    assert isinstance(r.exception, MissingInputError)
    p = _write_runs(tmp_path / "runs.csv", columns=("N", "tokens", "loss"))
    r = runner.invoke(app, ["fit", str(p)])
    assert isinstance(r.exception, MissingInputError) and "tokens" in str(r.exception)
    r = runner.invoke(app, ["fit", str(p), "--tokens-col", "tokens", "--loss", "l2"])
    assert isinstance(r.exception, UnknownNameError)
    bad = tmp_path / "bad.csv"
    bad.write_text("N,D,loss\n1e9,2e10,abc\n")
    r = runner.invoke(app, ["fit", str(bad)])
    assert isinstance(r.exception, InvalidValueError) and "line 2" in str(r.exception)
