"""Synthetic training runs drawn from a known law, for tests, benchmarks and demos."""

from __future__ import annotations

from .laws import TRAIN_FLOPS_PER_PARAM_TOKEN, get_law

# IsoFLOP budgets of Hoffmann et al. 2022, Fig. 3 (left): 6e18 ... 3e21 FLOPs.
HOFFMANN_ISOFLOP_BUDGETS = (6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21)


def isoflop_runs(law=None, budgets=HOFFMANN_ISOFLOP_BUDGETS, sizes_per_budget: int = 28, span: float = 10.0,
                 noise: float = 0.01, seed: int | None = 0):
    """Runs on IsoFLOP slices: for each budget, model sizes log-spaced over N_opt/span .. N_opt*span.

    Returns numpy arrays (params, tokens, loss); loss carries multiplicative log-normal noise of sd `noise`.
    """
    import numpy as np

    law = get_law(law)
    rng = np.random.default_rng(seed)
    n_list, d_list, c_list = [], [], []
    for c in budgets:
        n_opt = law.optimal(c).params
        n = n_opt * np.logspace(-np.log10(span), np.log10(span), sizes_per_budget)
        n_list.append(n)
        d_list.append(c / (TRAIN_FLOPS_PER_PARAM_TOKEN * n))
        c_list.append(np.full(n.size, float(c)))
    n = np.concatenate(n_list)
    d = np.concatenate(d_list)
    loss = law.loss(n, d) * np.exp(noise * rng.standard_normal(n.size))
    return n, d, loss
