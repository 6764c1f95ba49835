"""`wattwise scaling sweep` through CliRunner on a local Typer app mounted the way the scaling sub-app will."""

import json

import pytest
import typer
from typer.testing import CliRunner

from wattwise.cli.sweep import sweep_command
from wattwise.errors import ContradictoryInputError, InvalidValueError


def _app():
    app, scaling = typer.Typer(), typer.Typer()
    scaling.command("sweep")(sweep_command)

    @scaling.command("plan")
    def _plan():  # a second command, so "sweep" is a real subcommand as in wattwise
        pass

    app.add_typer(scaling, name="scaling")
    return app


def test_quick_resumes_from_the_ledger_and_prints_the_summary(quick_sweep, tmp_path):
    res, ledger = quick_sweep
    r = CliRunner().invoke(_app(), ["scaling", "sweep", "--quick", "--ledger", ledger, "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert f"Sweep {res.sweep_id}: 0 run now, 9 skipped" in r.output
    assert "IsoFLOP minima" in r.output and "Approach 2" in r.output and "a 0.49, b 0.51" in r.output
    assert (tmp_path / "sweep.json").exists() and (tmp_path / "runs.csv").exists()
    r = CliRunner().invoke(_app(), ["scaling", "sweep", "--quick", "--ledger", ledger, "--json", "--bootstrap", "0"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["sweep_id"] == res.sweep_id and out["executed"] == [] and len(out["runs"]) == 9
    assert len(out["approach2"]["minima"]) == 3 and out["sweep_footprint"]["energy_kwh"] > 0


@pytest.mark.parametrize("args, executor, address, workers", [
    ([], "local", None, 1),
    (["--workers", "2"], "workers", None, 2),
    (["--ray"], "ray", None, 1),
    (["--ray-address", "ray://head:10001"], "ray", "ray://head:10001", 1),
])
def test_executor_options(monkeypatch, args, executor, address, workers):
    seen = {}

    def fake(config, **kw):
        seen.update(kw, config=config)
        raise typer.Exit(0)

    monkeypatch.setattr("wattwise.scaling.sweep.runner.run_sweep", fake)
    r = CliRunner().invoke(_app(), ["scaling", "sweep", "--budgets", "1e11,3e11", *args])
    assert r.exit_code == 0, r.output
    assert seen["executor"] == executor and seen["ray_address"] == address and seen["workers"] == workers
    assert seen["config"].budgets_flops == (1e11, 3e11)


def test_bad_inputs_are_rejected_before_any_work():
    r = CliRunner().invoke(_app(), ["scaling", "sweep", "--workers", "2", "--ray", "--budgets", "1e11"])
    assert isinstance(r.exception, ContradictoryInputError)
    r = CliRunner().invoke(_app(), ["scaling", "sweep"])
    assert isinstance(r.exception, InvalidValueError) and "--budgets" in str(r.exception)
    r = CliRunner().invoke(_app(), ["scaling", "sweep", "--budgets", "1e11,lots"])
    assert isinstance(r.exception, InvalidValueError)
