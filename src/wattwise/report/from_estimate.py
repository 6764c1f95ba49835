"""The card of an estimate (`wattwise.estimate(...)`), and the estimate's JSON back to a Footprint."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..errors import InvalidValueError
from ..footprint import QUANTITIES, Footprint, Range
from .figures import fig, range_of
from .methods import dedup, estimate_constants, flops_kind, zone_info
from .model import LABELS, METHODS, TOTAL_KEYS, UNITS, Card, Figure, Zone, generator_name
from .pareto_table import pareto_constant, pareto_table
from .projection import INFER_KEYS


def footprint_from_dict(d: Mapping[str, Any]) -> Footprint:
    """Rebuild a Footprint from `Footprint.to_dict()` (what `wattwise estimate --json` prints)."""
    if not isinstance(d, Mapping):
        raise InvalidValueError(f"an estimate must be a JSON object (from `wattwise estimate --json`), "
                                f"got {type(d).__name__}")
    low, high = d.get("low") or {}, d.get("high") or {}
    ranges = {}
    for q in QUANTITIES:
        c = d.get(q)
        if c is not None:
            lo, hi = low.get(q, c), high.get(q, c)
            ranges[q] = Range(float(lo if lo is not None else c), float(c), float(hi if hi is not None else c))
    if not ranges:
        raise InvalidValueError("this JSON holds no footprint quantity (flops, gpu_hours, duration_s, energy_kwh, "
                                "co2e_kg, cost_usd); give the output of `wattwise estimate --json`")
    known = set(QUANTITIES) | {"low", "high", "it_energy_kwh", "energy_by_component_kwh", "pue",
                               "intensity_g_per_kwh", "method", "hardware", "zone", "inputs", "sources", "missing"}
    return Footprint(
        ranges=ranges, it_energy_kwh=range_of(d.get("it_energy_kwh")),
        energy_by_component_kwh={k: r for k, v in (d.get("energy_by_component_kwh") or {}).items()
                                 if (r := range_of(v)) is not None},
        pue=range_of(d.get("pue")), intensity_g_per_kwh=range_of(d.get("intensity_g_per_kwh")),
        method=d.get("method") or "estimated", hardware=d.get("hardware"), zone=d.get("zone"),
        inputs=dict(d.get("inputs") or {}), sources=dict(d.get("sources") or {}),
        missing=dict(d.get("missing") or {}), extra={k: v for k, v in d.items() if k not in known})


def card_from_estimate(fp: Footprint, *, title: str | None = None, variants: Sequence[Any] | None = None,
                       cost_axis: str = "energy", accuracy: str = "accuracy", higher_is_better: bool = True,
                       generator: str | None = None) -> Card:
    """The card of an estimate (`wattwise.estimate(...)`): every figure is `estimated`, with its range."""
    if not isinstance(fp, Footprint):
        raise InvalidValueError(f"card_from_estimate needs a Footprint (from wattwise.estimate), got "
                                f"{type(fp).__name__}")
    method = fp.method if fp.method in METHODS else "estimated"
    f_method, f_basis = ("estimated", "") if "flops" not in fp.ranges else flops_kind(fp.sources.get("flops", ""))
    if fp.method == "estimated" and f_method == "measured":
        f_method = "estimated"
    bases = {"flops": f_basis, "gpu_hours": "FLOPs / (peak FLOP/s x MFU) / 3600", "duration_s": "GPU-hours / GPUs",
             "it_energy_kwh": "GPU-hours x board power", "energy_kwh": "IT energy x PUE",
             "co2e_kg": "facility energy x grid intensity", "cost_usd": fp.sources.get("cost", "")}
    if fp.sources.get("throughput", "").startswith("implied") or "gpu_hours" in fp.inputs:
        bases["gpu_hours"] = "given" if "gpu_hours" in fp.inputs else "given duration x GPUs"
    totals = {}
    for k in TOTAL_KEYS:
        r = fp.it_energy_kwh if k == "it_energy_kwh" else fp.ranges.get(k)
        totals[k] = fig(k, r, f_method if k == "flops" else method, bases[k] if r is not None
                        else fp.missing.get(k, ""))
    comps = {c: fig(c, r, method, fp.sources.get("power", "")) for c, r in fp.energy_by_component_kwh.items()}
    zones = []
    if fp.zone or fp.intensity_g_per_kwh is not None:
        inten = fp.intensity_g_per_kwh.central if fp.intensity_g_per_kwh else None
        zones.append(zone_info(fp.zone, inten, "") if fp.zone else
                     Zone("(given)", None, inten, source=fp.sources.get("intensity", "given")))
    methods = estimate_constants(fp, zones, f_basis)
    pue_fig = (Figure("pue", "", fp.pue.central, fp.pue.low, fp.pue.high, "estimated", fp.sources.get("pue", ""))
               if fp.pue is not None else None)
    inf = _estimate_inference(fp, totals) if fp.extra.get("inference") else None
    pareto = pareto_table(variants, cost_axis, accuracy, higher_is_better) if variants else None
    if pareto:
        methods.append(pareto_constant())
    warnings = [f"{LABELS.get(k, k)}: not computed ({why})" for k, why in fp.missing.items()]
    notes = ["Estimated before (or instead of) running: every figure comes from the inputs and the constants "
             "under Methods, with the low/high range their uncertainty spans. Measure the run with the tracker "
             "to replace it."]
    inputs = {k: v for k, v in fp.inputs.items() if isinstance(v, (int, float, str, bool)) or v is None}
    return Card(title=title or "Efficiency card: estimate", kind="estimate",
                generator=generator or generator_name(),
                selection={"estimate_inputs": inputs}, totals=totals, energy_by_component=comps,
                hardware=[fp.hardware] if fp.hardware else [], zones=zones, pue=pue_fig,
                price_basis=[fp.sources["cost"]] if fp.sources.get("cost") else [],
                period={"start_utc": None, "end_utc": None}, counts={"runs": 0}, runs=[],
                methods=dedup(methods), inference=inf, pareto=pareto, notes=notes, warnings=warnings)


def _estimate_inference(fp: Footprint, totals: dict[str, Figure]) -> dict[str, Any]:
    inf, life, split = fp.extra["inference"], fp.extra.get("lifetime") or {}, fp.extra.get("split") or {}
    basis = fp.sources.get("inference", "2 N FLOPs per token served")

    def figs(d: Mapping, what: str) -> dict[str, Figure]:
        out = {}
        for q in INFER_KEYS:
            c = d.get(q)
            if c is None:
                out[q] = Figure(q, UNITS[q], method="missing")
            else:
                lo, hi = (d.get("low") or {}).get(q, c), (d.get("high") or {}).get(q, c)
                out[q] = Figure(q, UNITS[q], c, lo, hi, "estimated", what)
        return out

    n = fp.inputs.get("active_params", fp.inputs.get("params"))
    return {"params": n, "tokens": inf.get("tokens"), "tokens_per_day": fp.inputs.get("inference_tokens_per_day"),
            "days": fp.inputs.get("inference_days"), "basis": basis,
            "inference_fraction": split.get("inference_fraction"), "crossover_day": split.get("crossover_day"),
            "training": {q: totals[q] for q in INFER_KEYS}, "inference": figs(inf, basis),
            "lifetime": figs(life, "training + inference")}
