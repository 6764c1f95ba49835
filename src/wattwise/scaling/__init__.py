"""Scaling laws: Chinchilla's law, compute-optimal and inference-aware allocation, and fitting it to your runs.

    >>> from wattwise import scaling
    >>> scaling.plan(1e24, law="tokens20").params   # ~9.13e10
    >>> scaling.get_law("besiroglu2024").efficiency(params=4 * n, tokens=d / 4)

Importing this package loads no numpy or scipy; the fitting functions import numpy on first use.
"""

from __future__ import annotations

import importlib

from .laws import (
    DEFAULT_LAW,
    LAWS,
    PF_DAY_FLOPS,
    TRAIN_FLOPS_PER_PARAM_TOKEN,
    Allocation,
    AllocationRule,
    ChinchillaLaw,
    check,
    get_law,
    plan,
)

_LAZY = {
    "ChinchillaFit": ".fit",
    "IsoFLOPFit": ".isoflop",
    "ScalingFitWarning": "._base",
    "fit_chinchilla": ".fit",
    "fit_isoflop": ".isoflop",
    "hoffmann_grid": ".fit",
    "LOSS_FUNCTIONS": ".fit",
    "read_runs_csv": ".io",
    "plot_fit": ".plot",
    "InferenceAllocation": ".inference",
    "inference_optimal": ".inference",
    "INFERENCE_FLOPS_PER_PARAM_TOKEN": ".inference",
    "isoflop_runs": ".synthetic",
}

__all__ = [
    "DEFAULT_LAW", "LAWS", "PF_DAY_FLOPS", "TRAIN_FLOPS_PER_PARAM_TOKEN", "Allocation", "AllocationRule",
    "ChinchillaLaw", "check", "get_law", "plan", *sorted(_LAZY),
]


def __getattr__(name: str):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'wattwise.scaling' has no attribute {name!r}")
    value = getattr(importlib.import_module(mod, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
