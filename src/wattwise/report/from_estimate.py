"""The card of an estimate (`wattwise.estimate(...)`), and the estimate's JSON back to a Footprint."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..errors import InvalidValueError
from ..footprint import Footprint
from .figures import quantity_figure
from .methods import dedup, estimate_constants, flops_basis, zone_info
from .model import COMPONENTS, LABELS, TOTAL_KEYS, UNITS, Card, Figure, Zone, generator_name
from .pareto_table import pareto_constant, pareto_table
from .projection import INFER_KEYS

# what the card says of an estimate's figure when the quantity does not say it
_BASES = {"gpu_hours": "FLOPs / (peak FLOP/s x MFU) / 3600", "duration_s": "GPU-hours / GPUs",
          "it_energy_kwh": "GPU-hours x board power", "energy_kwh": "IT energy x PUE",
          "co2e_kg": "facility energy x grid intensity"}


def footprint_from_dict(d: Mapping[str, Any]) -> Footprint:
    """Rebuild a Footprint from `Footprint.to_dict()` (what `wattwise estimate --json` prints); the
    `Footprint.from_dict` of an estimate, refusing JSON that holds no footprint quantity."""
    if not isinstance(d, Mapping):
        raise InvalidValueError(f"an estimate must be a JSON object (from `wattwise estimate --json`), "
                                f"got {type(d).__name__}")
    fp = Footprint.from_dict(d)
    if not fp.quantities():
        raise InvalidValueError("this JSON holds no footprint quantity (flops, gpu_hours, duration_s, energy_kwh, "
                                "co2e_kg, cost_usd); give the output of `wattwise estimate --json`")
    return fp


def _basis(fp: Footprint, key: str) -> str:
    q = fp.it_energy_kwh if key == "it_energy_kwh" else getattr(fp, key)
    if key == "flops":
        return flops_basis(q, fp.sources.get("flops", ""))
    if key == "cost_usd":
        return fp.sources.get("cost", "") or q.basis
    return q.basis or _BASES[key]


def card_from_estimate(fp: Footprint, *, title: str | None = None, variants: Sequence[Any] | None = None,
                       cost_axis: str = "energy", accuracy: str = "accuracy", higher_is_better: bool = True,
                       generator: str | None = None) -> Card:
    """The card of an estimate (`wattwise.estimate(...)`): every figure has its range and says how it was
    obtained (`estimated`; FLOPs counted on the model are still an estimate of the work's FLOPs)."""
    if not isinstance(fp, Footprint):
        raise InvalidValueError(f"card_from_estimate needs a Footprint (from wattwise.estimate), got "
                                f"{type(fp).__name__}")
    estimate = fp.method != "measured"
    totals = {}
    for k in TOTAL_KEYS:
        q = fp.it_energy_kwh if k == "it_energy_kwh" else getattr(fp, k)
        totals[k] = quantity_figure(k, q, None if q is None else _basis(fp, k), estimate=estimate,
                                    missing_basis=fp.missing.get(k, ""))
    # the card's components are gpu/cpu/memory; the whole bill's others (host, server, system, idle) go to notes
    comps = {c: quantity_figure(c, q, fp.sources.get("power") or q.basis, estimate=estimate)
             for c, q in fp.energy_by_component_kwh.items() if c in COMPONENTS}
    zones = []
    if fp.zone or fp.intensity_g_per_kwh is not None:
        inten = float(fp.intensity_g_per_kwh) if fp.intensity_g_per_kwh is not None else None
        zones.append(zone_info(fp.zone, inten, "") if fp.zone else
                     Zone("(given)", None, inten, source=fp.sources.get("intensity", "given")))
    methods = estimate_constants(fp, zones, totals["flops"].basis)
    pue = fp.pue
    pue_fig = (Figure("pue", "", float(pue), pue.low, pue.high, "estimated", fp.sources.get("pue", ""))
               if pue is not None else None)
    inf = _estimate_inference(fp, totals) if fp.inference is not None else None
    pareto = pareto_table(variants, cost_axis, accuracy, higher_is_better) if variants else None
    if pareto:
        methods.append(pareto_constant())
    warnings = [f"{LABELS.get(k, k)}: not computed ({why})" for k, why in fp.missing.items()]
    notes = ["Estimated before (or instead of) running: every figure comes from the inputs and the constants "
             "under Methods, with the low/high range their uncertainty spans. Measure the run with the tracker "
             "to replace it."]
    notes += whole_bill_notes(fp)
    inputs = {k: v for k, v in fp.inputs.items() if isinstance(v, (int, float, str, bool)) or v is None}
    return Card(title=title or "Efficiency card: estimate", kind="estimate",
                generator=generator or generator_name(),
                selection={"estimate_inputs": inputs}, totals=totals, energy_by_component=comps,
                hardware=[fp.hardware] if fp.hardware else [], zones=zones, pue=pue_fig,
                price_basis=[fp.sources["cost"]] if fp.sources.get("cost") else [],
                period={"start_utc": None, "end_utc": None}, counts={"runs": 0}, runs=[],
                methods=dedup(methods), inference=inf, pareto=pareto, notes=notes, warnings=warnings)


def whole_bill_notes(fp: Footprint) -> list[str]:
    """The card's lines for the whole bill of an estimate: the scope of power (always), energy components
    beyond gpu/cpu/memory, carbon by component (embodied included), location- vs market-based, the parts."""
    from .. import display
    from ..footprint import Quantity

    def co2(d) -> str:
        q = Quantity.from_dict(d)
        span = display.quantity_span("co2e_kg", q)
        return display.co2e(q) + (f" ({span})" if span else "")

    out = []
    scope = fp.extra.get("power_scope") or {}
    if scope:
        out.append(f"Power scope: {scope.get('scope')} - {scope.get('text', '')}.")
    other = {c: q for c, q in fp.energy_by_component_kwh.items() if c not in COMPONENTS}
    if other:
        out.append("IT energy by component: " + "; ".join(
            f"{c} {display.energy(q)}" for c, q in fp.energy_by_component_kwh.items()) + ".")
    by = fp.extra.get("co2e_by_component_kg") or {}
    if len(by) > 1 or "embodied" in by:
        out.append("Carbon by component: " + "; ".join(f"{c} {co2(d)}" for c, d in by.items()) + ".")
    acc = fp.extra.get("accounting")
    if acc:
        out.append(f"Scope 2, location-based {co2(acc['location_based_kg'])}; market-based "
                   f"{co2(acc['market_based_kg'])} ({acc['basis']}).")
    parts = fp.extra.get("parts")
    if parts:
        out.append("Parts: " + "; ".join(
            f"{p['name']}" + (f" ({p['hardware']})" if p.get("hardware") else "")
            + (f" {co2(p['co2e_kg'])}" if "co2e_kg" in p else "") for p in parts) + ".")
    return out


def _estimate_inference(fp: Footprint, totals: dict[str, Figure]) -> dict[str, Any]:
    """The estimate's own serving projection (`fp.inference`, `fp.lifetime`) as card figures."""
    inf, life, split = fp.inference, fp.lifetime, fp.extra.get("split") or {}
    basis = fp.sources.get("inference", "2 N FLOPs per token served")

    def figs(part: Footprint | None, what: str) -> dict[str, Figure]:
        if part is None:
            return {q: Figure(q, UNITS[q], method="missing") for q in INFER_KEYS}
        return {q: quantity_figure(q, getattr(part, q), what, estimate=True) for q in INFER_KEYS}

    n = fp.inputs.get("active_params", fp.inputs.get("params"))
    return {"params": n, "tokens": inf.inputs.get("tokens"),
            "tokens_per_day": fp.inputs.get("inference_tokens_per_day"),
            "days": fp.inputs.get("inference_days"), "basis": basis,
            "inference_fraction": split.get("inference_fraction"), "crossover_day": split.get("crossover_day"),
            "training": {q: totals[q] for q in INFER_KEYS}, "inference": figs(inf, basis),
            "lifetime": figs(life, "training + inference")}
