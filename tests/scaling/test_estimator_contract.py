"""scikit-learn's estimator contract for ChinchillaFit and IsoFLOPFit: __init__ stores its arguments unchanged,
get_params / set_params read and write them, a copy built from get_params() is equal, bad arguments raise at fit()."""

import numpy as np
import pytest

from wattwise.errors import InvalidValueError, UnknownNameError
from wattwise.scaling import ChinchillaFit, IsoFLOPFit, get_law, hoffmann_grid, isoflop_runs

TRUE = get_law("besiroglu2024")


def _progress(stage, done, total):
    pass


CHINCHILLA_ARGS = dict(loss_fn="ls", delta=2e-3, bootstrap=7, ci_level=0.8, budget_flops=1e22, random_state=3,
                       init_grid=hoffmann_grid()[::50], warm_starts=2, max_iter=50, progress=_progress)


def _equal_params(p, q):
    assert set(p) == set(q)
    for k in p:
        if isinstance(p[k], np.ndarray):
            assert np.array_equal(p[k], q[k]), k
        else:
            assert p[k] == q[k], k


@pytest.mark.parametrize("cls, args", [(ChinchillaFit, CHINCHILLA_ARGS),
                                       (IsoFLOPFit, dict(min_sizes=4, interior_only=True))],
                         ids=["ChinchillaFit", "IsoFLOPFit"])
def test_init_stores_arguments_unchanged_and_params_round_trip(cls, args):
    est = cls(**args)
    params = est.get_params()
    assert set(params) == set(args)
    for k, v in args.items():
        assert getattr(est, k) is v, k          # stored as given: no copy, no conversion
        assert params[k] is v, k
    again = type(est)(**params)
    _equal_params(again.get_params(), params)
    assert est.set_params(**{k: params[k] for k in list(params)[:1]}) is est
    with pytest.raises(InvalidValueError, match="no parameter 'nope'"):
        est.set_params(nope=1)


def test_defaults_are_the_parameters_of_a_bare_estimator():
    p = ChinchillaFit().get_params()
    assert p["loss_fn"] == "huber" and p["delta"] == 1e-3 and p["bootstrap"] == 0 and p["init_grid"] is None
    assert IsoFLOPFit().get_params() == {"min_sizes": 3, "interior_only": False}


@pytest.mark.parametrize("cls, args", [(ChinchillaFit, CHINCHILLA_ARGS), (IsoFLOPFit, dict(min_sizes=4))],
                         ids=["ChinchillaFit", "IsoFLOPFit"])
def test_sklearn_clone(cls, args):
    base = pytest.importorskip("sklearn.base")
    est = cls(**args)
    twin = base.clone(est)
    assert type(twin) is cls and twin is not est
    _equal_params(twin.get_params(), est.get_params())


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(loss_fn="hubr"), UnknownNameError, "huber"),
    (dict(delta=-1.0), InvalidValueError, "delta"),
    (dict(bootstrap=-2), InvalidValueError, "bootstrap must be an integer >= 0"),
    (dict(bootstrap=2.5), InvalidValueError, "bootstrap must be an integer >= 0"),
    (dict(ci_level=1.5), InvalidValueError, "ci_level"),
    (dict(budget_flops=0), InvalidValueError, "budget_flops"),
])
def test_chinchilla_bad_arguments_raise_at_fit_not_at_construction(kwargs, error, match):
    est = ChinchillaFit(**kwargs)                 # accepted as given
    assert all(getattr(est, k) == v for k, v in kwargs.items())
    n, d, l_ = isoflop_runs(TRUE, sizes_per_budget=3)
    with pytest.raises(error, match=match):
        est.fit(n, d, l_)
    assert not hasattr(est, "E_")


@pytest.mark.parametrize("min_sizes", [2, 3.0, "3", True])
def test_isoflop_bad_min_sizes_raise_at_fit(min_sizes):
    est = IsoFLOPFit(min_sizes=min_sizes)
    assert est.min_sizes is min_sizes
    n, d, l_ = isoflop_runs(TRUE, sizes_per_budget=5)
    with pytest.raises(InvalidValueError, match="min_sizes must be an integer >= 3"):
        est.fit(n, d, l_)


def test_set_params_then_fit_uses_the_new_parameters_and_keeps_the_fitted_ones_in_to_dict():
    n, d, l_ = isoflop_runs(TRUE, noise=0.0, sizes_per_budget=6)
    est = ChinchillaFit(init_grid=hoffmann_grid()[::25]).set_params(loss_fn="ls", budget_flops=1e22)
    est.fit(n, d, l_)
    assert est.to_dict()["loss_fn"] == "ls" and est.to_dict()["budget_flops"] == 1e22
    est.set_params(loss_fn="lad")          # not refitted: the description is of the fit that was made
    assert est.to_dict()["loss_fn"] == "ls"
