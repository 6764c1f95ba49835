"""The inference projection of measured runs: serving cost at the runs' measured cost per FLOP.

Serving a model of N parameters costs 2 N FLOPs per token (forward pass, Kaplan et al. 2020, Sec. 2.1); GPU-hours,
energy, CO2e and dollars are scaled from the runs by FLOPs (same hardware, same energy per FLOP).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..constants import INFER_FLOPS_PER_PARAM_TOKEN
from ..errors import InvalidValueError, MissingInputError
from .figures import add, scaled
from .model import Figure

INFER_KEYS = ("flops", "gpu_hours", "energy_kwh", "co2e_kg", "cost_usd")


def project_runs_inference(totals: dict[str, Figure], spec: Mapping[str, float]) -> dict[str, Any]:
    """Training (the runs' totals), inference and lifetime figures for `spec` = {params, tokens} or
    {params, tokens_per_day, days}."""
    params = spec.get("params")
    if params is None or params <= 0:
        raise InvalidValueError("an inference projection needs params > 0 (serving costs 2 N FLOPs per token), "
                                f"got {params!r}")
    tokens, per_day, days = spec.get("tokens"), spec.get("tokens_per_day"), spec.get("days")
    if tokens is None and per_day is not None and days is not None:
        tokens = per_day * days
    if tokens is None or tokens <= 0:
        raise InvalidValueError("an inference projection needs tokens, or tokens_per_day and days")
    train_flops = totals["flops"]
    if not train_flops.known or not train_flops.central:
        raise MissingInputError("an inference projection of measured runs needs their training FLOPs (record them "
                                "with the tracker); none of these runs has FLOPs")
    infer_flops = INFER_FLOPS_PER_PARAM_TOKEN * params * tokens
    k = infer_flops / train_flops.central
    basis = ("2 N FLOPs per token served; GPU-hours, energy, CO2e and cost scaled by FLOPs from the measured "
             "runs (same hardware, same energy per FLOP)")
    training = {q: totals[q] for q in INFER_KEYS}
    infer = {q: scaled(totals[q], k, q, "estimated", basis) for q in INFER_KEYS}
    infer["flops"] = Figure("flops", "FLOPs", infer_flops, infer_flops, infer_flops, "estimated", "2 N x tokens")
    life = {q: add(training[q], infer[q], q) for q in INFER_KEYS}
    return {"params": params, "tokens": tokens, "tokens_per_day": per_day, "days": days, "basis": basis,
            "inference_fraction": infer_flops / (infer_flops + train_flops.central),
            "crossover_day": train_flops.central / (INFER_FLOPS_PER_PARAM_TOKEN * params * per_day)
            if per_day else None,
            "training": training, "inference": infer, "lifetime": life}


