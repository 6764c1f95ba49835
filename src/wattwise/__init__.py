"""wattwise: what machine-learning work really costs, in FLOPs, wall-clock, dollars, energy and carbon.

`import wattwise` is kept light (no numpy, torch or database at import): the public names below are
resolved on first use (PEP 562 module ``__getattr__``).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {
    # errors
    "WattwiseError": ".errors",
    "InvalidValueError": ".errors",
    "UnknownNameError": ".errors",
    "MissingInputError": ".errors",
    "ContradictoryInputError": ".errors",
    "MissingExtraError": ".errors",
    # footprint and estimation
    "Footprint": ".footprint",
    "Quantity": ".quantity",
    "Range": ".quantity",
    "total": ".footprint",
    "assumptions": ".assumptions",
    "energy_to_co2e": ".footprint",
    "cost_from_gpu_hours": ".footprint",
    "cost_from_energy": ".footprint",
    "estimate": ".estimator",   # module names differ from the function names on purpose: importing a
    "where": ".siting",         # submodule binds its name on the package and would shadow the function
    "measure_generation": ".serving",
    "estimate_parts": ".parts",
    # catalog
    "catalog": ".catalog",
    # flops
    "count_flops": ".flops",
    "flops_per_token": ".flops",
    "FlopCount": ".flops",
    "register_flop_rule": ".flops",
    "unregister_flop_rule": ".flops",
    "FlopRuleError": ".flops",
    "count_hf": ".flops",
    "HFCount": ".flops",
    # scaling
    "scaling": ".scaling",
    "run_sweep": ".scaling.sweep",
    # compression and Pareto
    "compress": ".compress",
    "pareto_front": ".pareto",
    "dominates": ".pareto",
    "pareto_mask": ".pareto",
    "plot_pareto": ".pareto",
    "dominators": ".pareto",
    "measure": ".compress",
    "measure_variants": ".compress",
    "quantize": ".compress",
    "prune_structured": ".compress",
    "prune_unstructured": ".compress",
    "distill": ".compress",
    "kd_loss": ".compress",
    "moe_accounting": ".compress",
    # measuring runs
    "Tracker": ".tracker",
    "track": ".tracker",
    "TrackerWarning": ".tracker",
    "Window": ".tracker",
    "run_command": ".tracker",
    "Ledger": ".ledger",
    "LedgerError": ".ledger",
    # report
    "report": ".report",
    "build_card": ".report",
    "card_from_estimate": ".report",
    "render_card": ".report",
}

_SUBMODULES = {"catalog", "scaling", "flops", "report", "compress", "assumptions"}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wattwise' has no attribute {name!r}")
    mod = importlib.import_module(module, __name__)
    value = mod if name in _SUBMODULES and name == module.lstrip(".") else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
