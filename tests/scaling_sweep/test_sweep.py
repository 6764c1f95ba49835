"""The IsoFLOP sweep end to end (quick mode), resume, executors, and the pieces it is built from."""

import math
import sys

import pytest

from wattwise.errors import InvalidValueError, MissingExtraError
from wattwise.ledger import Ledger, to_footprint
from wattwise.scaling.sweep import SweepConfig, approach2, isoflop_minima, load_corpus, plan_grid, quick_config, run_sweep
from wattwise.scaling.sweep.runner import run_row


# --- the quick sweep --------------------------------------------------------------------------------------------

def test_every_run_is_in_the_ledger_with_loss_flops_and_footprint(quick_sweep):
    res, ledger = quick_sweep
    assert len(res.specs) == 9 and sorted(res.executed + res.skipped) == sorted(s.key for s in res.specs)
    with Ledger(ledger) as led:
        recs = led.runs(tag=f"sweep:{res.sweep_id}")
        assert sorted(r["id"] for r in recs) == sorted(s.run_id for s in res.specs)
        for rec in recs:
            assert rec["status"] == "ok"
            row = run_row(rec)
            assert math.isfinite(row["loss"]) and 1.0 < row["loss"] < math.log(res.corpus["vocab_size"])
            # counted training FLOPs recorded by the tracker = counted FLOPs per token x tokens trained
            assert row["flops_tracked"] == pytest.approx(row["flops_counted"], rel=1e-9)
            assert row["flops_6nd"] == pytest.approx(row["budget_flops"], rel=0.02)  # D = C / (6N), whole steps
            fp = to_footprint(rec)
            assert fp.energy_kwh > 0 and fp.duration_s > 0 and fp.co2e_kg > 0
            assert fp.method == "measured"


def test_isoflop_minima_are_found_and_interior(quick_sweep):
    res, _ = quick_sweep
    minima = res.fit2["minima"]
    assert [m["flops"] for m in minima] == sorted(quick_config().budgets_flops)
    for m in minima:
        n = sorted(r["params"] for r in res.runs if r["budget_flops"] == m["flops"])
        assert m["interior"] and n[0] < m["params"] < n[-1]
        assert m["loss"] <= min(r["loss"] for r in res.runs if r["budget_flops"] == m["flops"]) + 1e-9
    # loss at the optimum falls as compute grows, and N* does not shrink
    assert minima[0]["loss"] > minima[1]["loss"] > minima[2]["loss"]
    assert res.fit2["a"] is not None and 0 < res.fit2["a"] < 1.5
    assert res.fit2["a"] + res.fit2["b"] == pytest.approx(1.0, abs=0.01)  # D* ~ C / (6 N*) up to whole steps
    assert res.totals.energy_kwh > 0 and res.plan_footprint.energy_kwh > res.totals.energy_kwh
    assert res.totals.method == "measured" and res.totals.energy_kwh.method == "measured"
    assert res.totals.flops.method == "counted" and res.totals.extra["runs"] == 9
    assert res.plan_footprint.method == "estimated" and res.plan_footprint.flops == res.plan_flops
    assert set(res.files) >= {"runs_csv", "json"}


def test_resumed_sweep_performs_zero_new_runs(quick_sweep):
    res, ledger = quick_sweep
    again = run_sweep(quick_config(), ledger=ledger, bootstrap=0, bootstrap3=0)
    assert again.sweep_id == res.sweep_id
    assert again.executed == [] and sorted(again.skipped) == sorted(s.key for s in res.specs)
    assert [r["loss"] for r in again.runs] == [r["loss"] for r in res.runs]
    with Ledger(ledger) as led:
        assert len(led.runs(tag=f"sweep:{res.sweep_id}")) == 9


def test_resume_reruns_only_the_missing_and_the_failed(quick_sweep, tmp_path):
    import sqlite3

    res, shared = quick_sweep
    ledger = str(tmp_path / "copy.db")  # a copy: other tests (and xdist workers) read the shared one
    with sqlite3.connect(shared) as src, sqlite3.connect(ledger) as dst:
        src.backup(dst)
    cheap = sorted(res.specs, key=lambda s: s.steps)[:2]   # the two shortest runs
    with Ledger(ledger) as led:
        led.delete(cheap[0].run_id)                        # never finished
        part = led.parts(cheap[1].run_id)[0]               # interrupted
        rec = led.run(cheap[1].run_id)
        led.write_part(cheap[1].run_id, rec["context"], dict(part, status="interrupted"))
    again = run_sweep(quick_config(), ledger=ledger, bootstrap=0, bootstrap3=0)
    assert sorted(again.executed) == sorted(s.key for s in cheap)
    assert len(again.skipped) == 7
    with Ledger(ledger) as led:
        assert all(r["status"] == "ok" for r in led.runs(tag=f"sweep:{res.sweep_id}"))
    # same seed, same batches: the rerun reproduces the loss
    before = {r["key"]: r["loss"] for r in res.runs}
    for r in again.runs:
        assert r["loss"] == pytest.approx(before[r["key"]], rel=1e-5)


# --- executors ----------------------------------------------------------------------------------------------------

def test_ray_local_cluster_gets_the_same_records(quick_sweep, tmp_path):
    ray = pytest.importorskip("ray", reason="ray not installed: pip install 'wattwise[ray]' to run this test")
    res, _ = quick_sweep
    got = run_sweep(quick_config(), ledger=tmp_path / "ray.db", executor="ray", workers=2, bootstrap=0, bootstrap3=0)
    assert not ray.is_initialized()  # the local cluster it started is shut down
    assert got.sweep_id == res.sweep_id and sorted(got.executed) == sorted(s.key for s in res.specs)
    mine = {r["key"]: r for r in res.runs}
    with Ledger(tmp_path / "ray.db") as led:
        recs = led.runs(tag=f"sweep:{res.sweep_id}")
    assert len(recs) == 9
    for rec in recs:
        row, ref = run_row(rec), mine[run_row(rec)["key"]]
        assert rec["status"] == "ok" and rec["energy_kwh"] > 0
        for k in ("params", "tokens", "steps", "flops_counted", "flops_6nd", "flops_tracked", "budget_flops"):
            assert row[k] == ref[k], k
        assert row["loss"] == pytest.approx(ref["loss"], rel=1e-5)


def test_worker_processes_match_in_process(tmp_path):
    cfg = SweepConfig(budgets_flops=(1.5e9,), sizes_per_budget=2, sizes_params=(5500.0, 10500.0), seq_len=32,
                      batch_size=8, eval_tokens=2048, min_d_model=8, max_d_model=32, max_layers=1)
    a = run_sweep(cfg, ledger=tmp_path / "a.db", bootstrap=0, bootstrap3=0)
    b = run_sweep(cfg, ledger=tmp_path / "b.db", executor="workers", workers=2, bootstrap=0, bootstrap3=0)
    assert len(b.executed) == 2
    assert [r["loss"] for r in a.runs] == pytest.approx([r["loss"] for r in b.runs], rel=1e-5)
    assert all(r["energy_kwh"] > 0 for r in b.runs)


def test_ray_missing_says_which_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingExtraError, match=r"wattwise\[ray\]"):
        run_sweep(quick_config(), ledger=tmp_path / "x.db", executor="ray")
    assert not (tmp_path / "x.db").exists()  # nothing ran, nothing written


# --- planner, data, analysis --------------------------------------------------------------------------------------

def test_plan_spreads_sizes_around_the_prior_optimum_with_tokens_c_over_6n():
    cfg = SweepConfig(budgets_flops=(1e12, 1e13), sizes_per_budget=5, spread=16, center_tokens_per_param=20,
                      max_d_model=512)
    specs = plan_grid(cfg, vocab_size=100)
    for c in (1e12, 1e13):
        sl = [s for s in specs if s.budget_flops == c]
        n = [s.params for s in sl]
        assert len(sl) == 5 and len(set(n)) == 5
        center = math.sqrt(c / (6 * 20))
        assert min(n) < center < max(n) and 6 < max(n) / min(n) < 40
        for s in sl:
            assert s.tokens == s.steps * s.batch_size * s.seq_len
            assert 6 * s.params * s.tokens == pytest.approx(c, rel=0.5 / s.steps + 1e-9)
    counted = plan_grid(SweepConfig(budgets_flops=(1e12,), tokens_rule="counted"), 100)
    for s in counted:
        assert s.flops_counted == pytest.approx(1e12, rel=0.5 / s.steps + 1e-9)
    with pytest.raises(InvalidValueError, match="tokens_rule"):
        SweepConfig(budgets_flops=(1e12,), tokens_rule="7N")


def test_heldout_split_is_fixed_by_seed_and_disjoint(tmp_path):
    a, b, c = load_corpus(seed=0), load_corpus(seed=0), load_corpus(seed=1)
    assert a.source == "pydoc_data.topics" and a.train.size > 300_000 and a.heldout.size > 30_000
    assert (a.heldout == b.heldout).all() and a.sha256 == b.sha256
    assert a.heldout.size != c.heldout.size or not (a.heldout == c.heldout).all()
    assert load_corpus(level="byte").vocab_size == 256
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("hello world " * 2000)
    (tmp_path / "d" / "b.bin").write_bytes(bytes(range(256)) * 10)
    loc = load_corpus(tmp_path / "d", block_tokens=256)
    assert loc.vocab_size == len(set("hello world ")) and loc.source.endswith("d")
    with pytest.raises(Exception, match="neither a file nor a folder"):
        load_corpus(tmp_path / "missing")


def _law_runs(budgets, ratios, E=1.7, A=400.0, B=410.0, alpha=0.34, beta=0.28):
    runs = []
    for c in budgets:
        n0 = math.sqrt(c / 120)
        for r in ratios:
            n = n0 * r
            d = c / (6 * n)
            runs.append({"budget_flops": c, "params": n, "tokens": d, "loss": E + A / n ** alpha + B / d ** beta})
    return runs


def test_approach2_recovers_the_law_exponent():
    runs = _law_runs([1e18, 1e19, 1e20, 1e21], [0.125, 0.25, 0.5, 1, 2, 4, 8, 16])
    fit = approach2(runs, bootstrap=0, plan_flops=1e22)
    assert fit["a"] == pytest.approx(0.28 / (0.34 + 0.28), abs=0.02)   # a = beta / (alpha + beta)
    assert all(m["interior"] for m in fit["minima"])
    # with noise, the bootstrap interval covers the truth
    import numpy as np
    runs = _law_runs([1e18, 1e19, 1e20, 1e21], [1 / 3, 0.5, 0.7, 1, 1.4, 2, 3])
    rng = np.random.default_rng(1)
    for r in runs:
        r["loss"] += rng.normal(0, 0.005)
    fit = approach2(runs, bootstrap=400, ci_level=0.95, plan_flops=1e22)
    lo, hi = fit["ci"]["a"]
    assert lo < 0.28 / 0.62 < hi and hi - lo < 0.1
    assert fit["ci"]["plan_params"][0] < fit["plan"]["params"] < fit["ci"]["plan_params"][1]


def test_minimum_outside_the_sizes_tried_is_flagged():
    runs = _law_runs([1e18, 1e19], [2, 4, 8, 16])   # every size above the optimum
    minima, notes = isoflop_minima(runs)
    assert minima and not any(m["interior"] for m in minima)
    assert any("outside the sizes tried" in n for n in notes)
    # with bracketed budgets beside it, the exterior vertex is left out of the power law
    runs += _law_runs([1e20, 1e21, 1e22], [0.25, 0.5, 1, 2, 4])
    fit = approach2(runs, bootstrap=0)
    assert fit["fitted_budgets"] == [1e20, 1e21, 1e22]
    assert any("left out" in n for n in fit["notes"])
