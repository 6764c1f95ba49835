"""Efficient alternatives, measured: distillation, pruning, quantization, mixture-of-experts accounting, and
measuring each variant (accuracy, size, FLOPs, latency, energy) for a Pareto comparison.

`import wattwise.compress` imports no torch, torchao or torch-pruning (the submodules import them inside their
functions and raise `MissingExtraError(<module>, "compress")` when one is absent). The submodules are imported
here so that the functions `distill`, `quantize` and `measure` are not shadowed by the submodules of the same name.
"""

from __future__ import annotations

from .distill import TrainResult, distill, finetune, kd_loss  # noqa: E402
from .measure import (LatencyStats, Measurement, compare_latency, measure, measure_variants, ratios,  # noqa: E402
                      serialized_bytes, time_latency)  # noqa: E402
from .moe import MoEAccount, moe_accounting  # noqa: E402
from .prune import PruneResult, count_params, prune_structured, prune_unstructured, sparsity  # noqa: E402
from .quantize import QUANT_METHODS, QuantResult, quantize, supported_methods  # noqa: E402
from .variants import ledger_variants, read_variants  # noqa: E402

__all__ = [
    "kd_loss", "distill", "finetune", "TrainResult",
    "prune_unstructured", "prune_structured", "sparsity", "count_params", "PruneResult",
    "quantize", "QUANT_METHODS", "supported_methods", "QuantResult",
    "moe_accounting", "MoEAccount",
    "measure", "measure_variants", "Measurement", "LatencyStats", "ratios", "serialized_bytes", "time_latency",
    "compare_latency", "read_variants", "ledger_variants",
]
