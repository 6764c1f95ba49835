"""Fit your own scaling law: an IsoFLOP sweep that trains, tracks, fits and plans (Hoffmann et al. 2022, Approach 2).

    >>> from wattwise.scaling.sweep import SweepConfig, run_sweep
    >>> res = run_sweep(SweepConfig(budgets_flops=(1e11, 3e11, 1e12)), ledger="sweep.db", executor="workers", workers=2)
    >>> res.fit2["a"], res.fit2["ci"]["a"]

For each budget C, models of several sizes N (decoder-only transformers of `wattwise.flops`) are trained for
D = C / (6N) tokens on CPython's `pydoc_data.topics` text (or your files); each run is one Tracker block in the
ledger under the sweep id, with its held-out loss, counted FLOPs and measured footprint. Rerunning resumes: finished
runs are skipped. A resumed sweep keeps the grid zone (region) it was started with, and every path it writes is
checked before the first run (`runner.preflight`). Runs execute in-process, in worker processes, or as Ray tasks
(the `ray` extra).
Importing this package loads neither torch nor numpy.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "SweepConfig": ".planner", "RunSpec": ".planner", "plan_grid": ".planner", "family": ".planner",
    "Corpus": ".data", "load_corpus": ".data",
    "train": ".trainer", "execute": ".trainer",
    "run_sweep": ".runner", "quick_config": ".runner", "SweepResult": ".runner", "QUICK": ".runner",
    "isoflop_minima": ".analysis", "approach2": ".analysis", "approach3": ".analysis",
    "CHINCHILLA_EXPONENTS": ".analysis",
    "plot_isoflop": ".plot",
    "EXECUTORS": ".executors",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'wattwise.scaling.sweep' has no attribute {name!r}")
    value = getattr(importlib.import_module(mod, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
