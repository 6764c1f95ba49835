"""Fitting: synthetic runs from known constants recover them; diagnostics; Approach 2."""

import warnings

import numpy as np
import pytest

from wattwise.errors import ContradictoryInputError, InvalidValueError, UnknownNameError
from wattwise.scaling import (ChinchillaLaw, ScalingFitWarning, fit_chinchilla, fit_isoflop, get_law,
                              hoffmann_grid, isoflop_runs)

TRUE = get_law("besiroglu2024")
# A second truth, far from the default, so that recovery is not an artefact of the defaults.
OTHER = ChinchillaLaw(E=1.5, A=300.0, B=900.0, alpha=0.28, beta=0.32, name="other")
# A coarse sub-grid of Hoffmann's (every 3rd point) for the tests that are not about the grid itself.
COARSE = hoffmann_grid()[::3]


@pytest.fixture(scope="module")
def noisy_fit():
    n, d, l_ = isoflop_runs(TRUE, noise=0.01, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScalingFitWarning)  # a good design raises no diagnostics
        return fit_chinchilla(n, d, l_, bootstrap=60, budget_flops=1e24, random_state=1)


def test_grid_is_hoffmanns_4500_points():
    g = hoffmann_grid()
    assert g.shape == (4500, 5)
    assert sorted(set(g[:, 3])) == [0, 0.5, 1.0, 1.5, 2.0]
    assert sorted(set(g[:, 0])) == [0, 5, 10, 15, 20, 25]
    assert sorted(set(g[:, 2])) == [-1, -0.5, 0, 0.5, 1]


@pytest.mark.parametrize("truth", [TRUE, OTHER], ids=["besiroglu2024", "other"])
def test_noise_free_runs_recover_the_constants_exactly(truth):
    n, d, l_ = isoflop_runs(truth, noise=0.0, sizes_per_budget=12)
    f = fit_chinchilla(n, d, l_, init_grid=COARSE)
    for k in ("E", "A", "B", "alpha", "beta"):
        assert getattr(f, k + "_") == pytest.approx(getattr(truth, k), rel=1e-5), k


def test_noisy_runs_recover_the_constants_within_tolerance(noisy_fit):
    f = noisy_fit
    # stated tolerance for 252 runs with 1% log-normal noise: exponents +-0.02, E +-0.05, a +-0.02,
    # A and B within a factor 1.5 (they trade off against the exponents)
    assert f.alpha_ == pytest.approx(TRUE.alpha, abs=0.02)
    assert f.beta_ == pytest.approx(TRUE.beta, abs=0.02)
    assert f.E_ == pytest.approx(TRUE.E, abs=0.05)
    assert f.a_ == pytest.approx(TRUE.a, abs=0.02)
    assert f.a_ + f.b_ == pytest.approx(1.0)
    assert 1 / 1.5 < f.A_ / TRUE.A < 1.5
    assert 1 / 1.5 < f.B_ / TRUE.B < 1.5
    assert f.n_starts_ == 4500
    assert f.n_at_optimum_ >= 2


def test_bootstrap_intervals_bracket_estimate_and_truth(noisy_fit):
    f = noisy_fit
    for k in ("E", "A", "B", "alpha", "beta", "a", "b", "tokens_per_param"):
        lo, hi = f.ci_[k]
        assert lo < hi, k
    for k in ("E", "alpha", "beta", "a"):
        lo, hi = f.ci_[k]
        assert lo <= getattr(f, k + "_") <= hi, k
        assert lo <= getattr(TRUE, k) <= hi, k
    lo, hi = f.ci_["tokens_per_param"]
    assert lo <= TRUE.optimal(1e24).tokens_per_param <= hi
    assert f.bootstrap_["alpha"].shape == (60,)
    d = f.to_dict()
    assert set(d["ci"]) >= {"E", "A", "B", "alpha", "beta", "a", "b"}
    assert all(len(v) == 2 for v in d["ci"].values())


def test_fit_is_a_true_minimum_for_an_independent_optimiser(noisy_fit):
    """scipy's L-BFGS-B, started at our optimum with tight tolerances, finds nothing lower (1e-9 relative)."""
    from scipy.optimize import minimize
    from scipy.special import huber, logsumexp

    n, d, l_ = isoflop_runs(TRUE, noise=0.01, seed=7)
    x, y, ll = np.log(n), np.log(d), np.log(l_)

    def obj(t):
        a, b, e, al, be = t
        return huber(1e-3, logsumexp([a - al * x, b - be * y, np.full_like(x, e)], axis=0) - ll).sum()

    f0 = obj(noisy_fit.theta_)
    assert f0 == pytest.approx(noisy_fit.objective_, rel=1e-12)
    r = minimize(obj, noisy_fit.theta_ + 1e-3, method="L-BFGS-B", options=dict(ftol=1e-15, gtol=1e-12,
                                                                                 maxiter=5000))
    assert r.fun >= f0 * (1 - 1e-9)


@pytest.mark.parametrize("loss_fn", ["ls", "lad"])
def test_other_loss_functions_recover_the_exponents(loss_fn):
    n, d, l_ = isoflop_runs(OTHER, noise=0.005, seed=3, sizes_per_budget=14)
    f = fit_chinchilla(n, d, l_, loss_fn=loss_fn, init_grid=COARSE)
    assert f.alpha_ == pytest.approx(OTHER.alpha, abs=0.02)
    assert f.beta_ == pytest.approx(OTHER.beta, abs=0.02)
    assert f.loss_fn == loss_fn


def test_compute_in_place_of_tokens_gives_the_same_fit():
    n, d, l_ = isoflop_runs(OTHER, noise=0.005, seed=4, sizes_per_budget=10)
    f1 = fit_chinchilla(n, d, l_, init_grid=COARSE)
    f2 = fit_chinchilla(n, None, l_, flops=6 * n * d, init_grid=COARSE)
    assert f2.alpha_ == pytest.approx(f1.alpha_, rel=1e-9)
    assert f2.objective_ == pytest.approx(f1.objective_, rel=1e-9)


def test_diagnostics_warn_on_designs_that_cannot_identify_the_law():
    rng = np.random.default_rng(0)
    n = np.repeat([1e8, 3e8, 1e9], 4)
    d = n * rng.uniform(5, 50, n.size)
    l_ = TRUE.loss(n, d)
    with pytest.warns(ScalingFitWarning, match="distinct model sizes"):
        fit_chinchilla(n, d, l_, init_grid=COARSE)
    n = np.logspace(8, 10, 20)
    with pytest.warns(ScalingFitWarning, match="tokens per parameter is"):
        fit_chinchilla(n, 20 * n, TRUE.loss(n, 20 * n), init_grid=COARSE)


def test_extrapolation_far_outside_the_fitted_range_warns(noisy_fit):
    with pytest.warns(ScalingFitWarning, match="extrapolation"):
        noisy_fit.optimal(1e30)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScalingFitWarning)
        noisy_fit.optimal(1e21)


def test_bad_inputs():
    n, d, l_ = isoflop_runs(TRUE, sizes_per_budget=3)
    with pytest.raises(UnknownNameError) as e:
        fit_chinchilla(n, d, l_, loss_fn="hubr")
    assert "huber" in e.value.suggestions
    with pytest.raises(InvalidValueError):
        fit_chinchilla(n, d[:-1], l_)
    with pytest.raises(ContradictoryInputError):
        fit_chinchilla(n, d, l_, flops=6 * n * d)
    with pytest.raises(InvalidValueError):
        fit_chinchilla(n, -d, l_)
    with pytest.raises(InvalidValueError):
        fit_chinchilla(n[:3], d[:3], l_[:3])


def test_isoflop_approach_2_recovers_the_exponents():
    n, d, l_ = isoflop_runs(TRUE, noise=0.003, seed=5, span=4.0)
    iso = fit_isoflop(n, d, l_)
    assert len(iso.minima_) == 9
    assert iso.a_ == pytest.approx(TRUE.a, abs=0.03)
    assert iso.a_ + iso.b_ == pytest.approx(1.0, abs=1e-9)
    opt = iso.optimal(1e22)
    assert 6 * opt.params * opt.tokens == pytest.approx(1e22)
    assert opt.params == pytest.approx(TRUE.optimal(1e22).params, rel=0.25)
