"""The card's Pareto table: which variants (compressed models, runs with an accuracy) are on the
accuracy/cost front, and which dominate the others (wattwise.pareto does the dominance)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..footprint import Footprint
from .model import Constant

RULE = ("A beats B when A is at least as accurate and cheaper, or more accurate at no more cost "
        "(Schwartz et al. 2020)")
# Pareto cost axis field -> unit (fields of wattwise.pareto.COST_AXES)
COST_UNITS = {"flops_per_sample": "FLOPs/sample", "flops": "FLOPs", "latency_s": "s", "latency_median_s": "s",
              "compiled_latency_s": "s", "energy_per_1000_kwh": "kWh/1000 inferences", "energy_kwh": "kWh",
              "size_bytes": "bytes", "bytes": "bytes", "cost_usd": "USD", "dollars": "USD", "params": "parameters"}


def pareto_constant() -> Constant:
    """The methods-list entry of the dominance rule."""
    return Constant("Pareto dominance", "Pareto table", "Schwartz et al. 2020 (Green AI): A beats B "
                    "when at least as accurate and cheaper, or more accurate at no more cost")


def run_variants(runs: Sequence[tuple[str, Footprint, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Runs (name, footprint, context) whose context holds an accuracy (`accuracy` or `metrics.accuracy`) as
    Pareto variants; none unless at least two have one."""
    out = []
    for name, fp, ctx in runs:
        acc = ctx.get("accuracy", (ctx.get("metrics") or {}).get("accuracy"))
        if acc is None:
            continue
        out.append({"name": name, "accuracy": acc, "energy_kwh": _f(fp.energy_kwh), "flops": _f(fp.flops),
                    "cost_usd": _f(fp.cost_usd), "latency_s": None})
    return out if len(out) >= 2 else []


def _f(q) -> float | None:
    return None if q is None else float(q)


def pareto_table(variants: Sequence[Any], cost_axis: str, accuracy: str, higher_is_better: bool) -> dict[str, Any]:
    """Rows of name, accuracy, cost, on_front and dominated_by, on the first cost field of `cost_axis` that every
    variant has (else the first any has)."""
    from .. import pareto
    fields = pareto.axis_fields(cost_axis)
    items = list(variants)

    def get(item, key):
        return item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)

    used = next((f for f in fields if all(get(it, f) is not None for it in items)), None)
    if used is None:
        used = next((f for f in fields if any(get(it, f) is not None for it in items)), None)
    if used is None:
        from ..errors import InvalidValueError
        have = sorted({k for it in items if isinstance(it, Mapping) for k, v in it.items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool) and k != accuracy})
        raise InvalidValueError(f"no variant has a cost for --cost-axis {cost_axis!r} (fields {', '.join(fields)}); "
                                f"accepted: {', '.join(pareto.COST_AXES)}, or a numeric field the variants have"
                                + (f" ({', '.join(have)})" if have else ""))
    doms = pareto.dominators(items, cost=used, accuracy=accuracy, higher_is_better=higher_is_better)
    names = [str(get(it, "name")) if get(it, "name") is not None else f"#{i}" for i, it in enumerate(items)]
    rows = [{"name": names[i], "accuracy": float(get(it, accuracy)), "cost": float(get(it, used)),
             "on_front": not doms[i], "dominated_by": [names[j] for j in doms[i]]} for i, it in enumerate(items)]
    return {"cost_axis": cost_axis, "cost_field": used, "cost_unit": COST_UNITS.get(used, ""),
            "accuracy_field": accuracy, "higher_is_better": higher_is_better, "rule": RULE, "rows": rows}
