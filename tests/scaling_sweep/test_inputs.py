"""A sweep checks where it writes and the region it resumes under before any run; `wattwise scaling fit` reads the
runs.csv a sweep writes as it is."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattwise.errors import ContradictoryInputError, InvalidValueError
from wattwise.scaling.io import load_runs
from wattwise.scaling.sweep import runner
from wattwise.scaling.sweep.runner import check_region, preflight, quick_config, run_sweep


def _finished_run(ledger: Path, sweep_id: str = "t1", region: str | None = "FR") -> None:
    """One finished run of the quick sweep `sweep_id` in `ledger` (tracked, not trained)."""
    from wattwise.ledger import Ledger
    from wattwise.scaling.sweep.data import cached_corpus
    from wattwise.scaling.sweep.planner import plan_grid
    from wattwise.scaling.sweep.trainer import RESULT_KEY, SPEC_KEY
    from wattwise.tracker import Tracker

    cfg = quick_config(sweep_id=sweep_id)
    corpus = cached_corpus(cfg.data, cfg.level, cfg.heldout_fraction, cfg.seed)
    spec = plan_grid(cfg, corpus.vocab_size, sweep_id)[0]
    with Ledger(ledger) as led:
        with Tracker("done earlier", ledger=led, run_id=spec.run_id, region=region,
                     extra={SPEC_KEY: spec.to_dict(), RESULT_KEY: {"loss": 3.0}}):
            pass


@pytest.fixture
def no_training(monkeypatch):
    """Replace the in-process executor: records what it was asked to run, trains nothing."""
    calls = []
    monkeypatch.setattr(runner, "run_local", lambda todo, ledger, opts, on_done, on_step=None:
                        calls.append({"n": len(todo), "opts": dict(opts)}))
    return calls


def test_unwritable_out_is_refused_before_the_ledger_or_any_run(tmp_path, no_training):
    (tmp_path / "afile").write_text("x")
    ledger = tmp_path / "ledger.db"
    with pytest.raises(InvalidValueError, match="--out .*afile/out.* cannot be created"):
        run_sweep(quick_config(), ledger=ledger, out_dir=tmp_path / "afile" / "out", plot=False)
    assert no_training == [] and not ledger.exists()
    with pytest.raises(InvalidValueError, match="--ledger"):
        preflight(ledger=tmp_path / "afile" / "l.db")
    preflight(ledger=tmp_path / "new" / "deeper" / "l.db", out_dir=tmp_path / "new" / "out")  # creatable: fine
    assert not (tmp_path / "new").exists()  # and nothing created by the check


def test_read_only_out_is_refused_when_not_root(tmp_path, no_training):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        try:
            (ro / "probe").write_text("")
        except OSError:
            pass
        else:
            pytest.skip("this user writes into a 0o555 folder anyway (root?)")
        for out in (ro, ro / "sub"):
            with pytest.raises(InvalidValueError, match="not writable"):
                run_sweep(quick_config(), ledger=tmp_path / "l.db", out_dir=out, plot=False)
        assert no_training == []
    finally:
        ro.chmod(0o755)


def test_resumed_sweep_keeps_its_region(tmp_path, no_training):
    ledger = tmp_path / "sweep.db"
    _finished_run(ledger, region="FR")
    with pytest.raises(ContradictoryInputError, match="started with region FR"):
        run_sweep(quick_config(sweep_id="t1"), ledger=ledger, tracker_opts={"region": "DE"}, plot=False)
    assert no_training == []
    res = run_sweep(quick_config(sweep_id="t1"), ledger=ledger, bootstrap=0, bootstrap3=0, plot=False)
    assert no_training == [{"n": 8, "opts": {"region": "FR"}}]  # the remaining runs take the sweep's region
    assert any("region FR" in n for n in res.notes) and len(res.skipped) == 1
    run_sweep(quick_config(sweep_id="t1"), ledger=ledger, tracker_opts={"region": "fr"}, bootstrap=0,
              bootstrap3=0, plot=False)  # the same zone, spelled otherwise: accepted
    assert no_training[-1]["opts"]["region"] == "fr"


def test_check_region_unknown_start_and_fresh_sweeps():
    assert check_region("s", [], {"region": "DE"}, 9) is None  # nothing finished: any region
    opts: dict = {}
    assert check_region("s", [{"region": None}], opts, 9) is None and opts == {}
    with pytest.raises(ContradictoryInputError, match="unknown"):
        check_region("s", [{"region": None}], {"region": "DE"}, 9)


def _sweep_csv(path: Path, failed: int = 1) -> list[dict]:
    """A runs.csv written by the sweep's own writer from ledger-like records (six finished runs, `failed` more)."""
    from wattwise.scaling import get_law
    from wattwise.scaling.sweep.runner import run_row, write_runs_csv
    from wattwise.scaling.sweep.trainer import RESULT_KEY, SPEC_KEY

    law = get_law("hoffmann2022")
    recs = []
    for i, (n, k) in enumerate(((2e3, 1), (5e3, 2), (1e4, 0.5), (2e4, 1), (4e4, 4), (8e4, 1), (1e4, 2))):
        d = 20 * n * k
        ok = i < 6 or failed == 0
        spec = {"key": f"c{6 * n * d:.2e}-d{8 * (i + 1)}l1", "budget_flops": 6 * n * d, "d_model": 8 * (i + 1),
                "n_layers": 1, "params": n, "tokens": d, "steps": 10, "flops_counted": 6 * n * d,
                "flops_6nd": 6 * n * d, "lr": 1e-3}
        recs.append({"id": f"sw-{i}", "status": "ok" if ok else "failed", "hardware": "cpu", "duration_s": 1.0,
                     "energy_kwh": 1e-6, "context": {SPEC_KEY: spec,
                                                     RESULT_KEY: {"loss": float(law.loss(n, d))} if ok else {}}})
    rows = [run_row(r) for r in recs]
    write_runs_csv(rows, path)
    return rows


def test_fit_reads_a_sweeps_runs_csv(tmp_path):
    from wattwise.cli.scaling import app

    p = tmp_path / "runs.csv"
    rows = _sweep_csv(p)
    header = p.read_text().splitlines()[0].split(",")
    assert header == list(rows[0]) and {"params", "tokens", "loss"} <= set(header)  # the sweep's own header
    runs, info = load_runs(p)
    assert info["layout"] == "sweep" and info["columns"] == {"params": "params", "loss": "loss", "tokens": "tokens"}
    assert runs["params"].tolist() == [r["params"] for r in rows[:6]] and len(info["skipped"]) == 1
    r = CliRunner().invoke(app, ["fit", str(p), "--json"])
    assert r.exit_code == 0, (r.output, r.exception)
    out = json.loads(r.stdout)
    assert out["input"]["layout"] == "sweep" and out["input"]["rows"] == 6
    assert out["n_runs"] == 6
    assert 0 < out["a"] < 1 and out["a"] + out["b"] == pytest.approx(1.0)
    r = CliRunner().invoke(app, ["fit", str(p), "--params-col", "d_model", "--json"])  # a named column wins
    assert r.exit_code == 0 and json.loads(r.stdout)["input"]["columns"]["params"] == "d_model"


def test_fit_reads_the_quick_sweeps_runs_csv(quick_sweep):
    from wattwise.cli.scaling import app

    res, ledger = quick_sweep
    p = Path(ledger).parent / "out" / "runs.csv"
    r = CliRunner().invoke(app, ["fit", str(p), "--json"])
    assert r.exit_code == 0, (r.output, r.exception)
    out = json.loads(r.stdout)
    assert out["input"]["layout"] == "sweep" and out["input"]["rows"] == len(res.specs) == 9
    assert out["n_runs"] == 9 and out["input"]["skipped"] == []
    for k in ("E", "A", "B", "alpha", "beta", "a", "b"):
        assert k in out
