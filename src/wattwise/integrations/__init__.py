"""wattwise in the training frameworks: each integration behind an optional extra, imported on first use.

    from wattwise.integrations.hf import WattwiseCallback            # transformers.Trainer
    from wattwise.integrations.lightning import WattwiseCallback     # lightning.pytorch.Trainer
    from wattwise.integrations.accelerate import WattwiseTracker     # Accelerator(log_with=[...])
    from wattwise.integrations.sinks import MlflowSink, WandbSink    # per-step metrics, card, summary

Every integration logs the same names (`METRICS`, prefixed `wattwise/`: wattwise/energy_kwh,
wattwise/co2e_kg, wattwise/cost_usd, wattwise/mfu, wattwise/tokens_per_s, wattwise/j_per_token...), from
the tracker's live reading (no I/O on the training path), and never breaks training: a failure is one
`TrackerWarning`. Importing this package imports no framework.
"""

from __future__ import annotations

from ._common import (
    DEFAULT_METRICS,
    METRICS,
    PREFIX,
    StepFlops,
    co2_metadata,
    merge_model_card,
    metrics,
    write_card,
)

_LAZY = {"hf": "hf", "lightning": "lightning", "accelerate": "accelerate", "sinks": "sinks",
         "MlflowSink": "sinks", "WandbSink": "sinks", "WattwiseTracker": "accelerate"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        mod = importlib.import_module(f".{_LAZY[name]}", __name__)
        return mod if name == _LAZY[name] else getattr(mod, name)
    raise AttributeError(f"module 'wattwise.integrations' has no attribute {name!r}")


__all__ = ["DEFAULT_METRICS", "METRICS", "PREFIX", "StepFlops", "co2_metadata", "merge_model_card", "metrics",
           "write_card"]
