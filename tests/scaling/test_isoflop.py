"""The one Approach 2 implementation (wattwise.scaling.isoflop): IsoFLOPFit and the sweep's approach2 agree."""

import math
import warnings

import numpy as np
import pytest

from wattwise.scaling import ScalingFitWarning, fit_isoflop, get_law, isoflop
from wattwise.scaling import fit as fit_module
from wattwise.scaling.sweep import analysis, approach2, isoflop_minima

LAW = get_law("besiroglu2024")


def _runs(budgets, ratios, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    runs = []
    for c in budgets:
        n0 = LAW.optimal(c).params
        for r in ratios:
            n = n0 * r
            d = c / (6 * n)
            runs.append({"budget_flops": c, "params": n, "tokens": d,
                         "loss": float(LAW.loss(n, d)) + rng.normal(0, noise)})
    return runs


def _arrays(runs):
    return tuple(np.array([r[k] for r in runs]) for k in ("params", "tokens", "loss"))


@pytest.mark.parametrize("noise", [0.0, 0.004])
def test_isoflop_fit_and_the_sweeps_approach2_agree_on_the_same_runs(noise):
    runs = _runs([1e19, 1e20, 1e21, 1e22], [0.3, 0.5, 0.8, 1.0, 1.3, 2.0, 3.2], noise=noise, seed=4)
    sweep = approach2(runs, bootstrap=0)
    est = fit_isoflop(*_arrays(runs), interior_only=True)
    assert est.a_ == pytest.approx(sweep["a"], rel=1e-9)
    assert est.b_ == pytest.approx(sweep["b"], rel=1e-9)
    assert est.n_coef_ == pytest.approx(sweep["n_coef"], rel=1e-7)
    assert est.d_coef_ == pytest.approx(sweep["d_coef"], rel=1e-7)
    assert len(est.minima_) == len(sweep["minima"]) == 4
    for m, s in zip(est.minima_, sweep["minima"]):
        for k in ("flops", "params", "tokens", "loss"):
            assert m[k] == pytest.approx(s[k], rel=1e-9), k
        assert m["interior"] == s["interior"] and m["coef"] == pytest.approx(s["coef"], rel=1e-7)
    assert est.a_ == pytest.approx(LAW.a, abs=0.02 if noise else 1e-3)


def test_both_leave_an_exterior_minimum_out_the_same_way():
    runs = _runs([1e19, 1e20], [2, 4, 8, 16]) + _runs([1e21, 1e22, 1e23], [0.25, 0.5, 1, 2, 4])
    sweep = approach2(runs, bootstrap=0)
    with pytest.warns(ScalingFitWarning) as caught:
        est = fit_isoflop(*_arrays(runs), interior_only=True)
    assert any("outside the sizes tried" in str(w.message) for w in caught)
    assert any("left out" in str(w.message) for w in caught)
    assert est.fitted_budgets_ == pytest.approx(sweep["fitted_budgets"], rel=1e-9)
    assert len(est.fitted_budgets_) == 3
    assert est.a_ == pytest.approx(sweep["a"], rel=1e-9)
    with pytest.warns(ScalingFitWarning):
        every = fit_isoflop(*_arrays(runs))          # the default keeps every minimum, as IsoFLOPFit always did
    assert len(every.fitted_budgets_) == 5 and every.a_ != pytest.approx(est.a_, rel=1e-6)


def test_the_sweep_and_the_estimator_call_the_one_implementation():
    assert fit_module.IsoFLOPFit is isoflop.IsoFLOPFit and fit_module.fit_isoflop is isoflop.fit_isoflop
    assert fit_module._group_budgets is isoflop.group_budgets
    runs = _runs([1e19, 1e20, 1e21], [0.5, 1, 2])
    assert isoflop_minima(runs) == isoflop.profile_minima(isoflop.slices_from_runs(runs))
    assert analysis.approach2(runs, bootstrap=0) == isoflop.fit_profiles(isoflop.slices_from_runs(runs))


def test_slices_from_arrays_groups_compute_within_5_percent():
    n = np.array([1e8, 2e8, 4e8, 1e8, 2e8, 4e8])
    c = np.array([1e18, 1.02e18, 0.99e18, 1e19, 1e19, 1.04e19])
    d = c / (6 * n)
    sl = isoflop.slices_from_arrays(n, d, np.ones(6))
    assert len(sl) == 2
    (c1, (x1, _, y1)), (c2, _) = sl.items()
    assert c1 == pytest.approx(math.exp(np.mean(np.log([1e18, 1.02e18, 0.99e18]))))
    assert np.allclose(np.exp(x1), [1e8, 2e8, 4e8]) and y1 is None
    assert c2 > 9e18


def test_too_few_budgets_is_a_note_for_the_sweep_and_an_error_for_the_estimator():
    from wattwise.errors import InvalidValueError

    runs = _runs([1e20], [0.5, 1, 2, 3]) + _runs([1e21], [1, 2])
    out = approach2(runs, bootstrap=0)
    assert out["a"] is None and any("2+ budgets" in n for n in out["notes"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScalingFitWarning)
        with pytest.raises(InvalidValueError, match="at least 2 IsoFLOP budgets"):
            fit_isoflop(*_arrays(runs))
