"""Pareto comparison of model variants: accuracy against one cost axis.

Dominance exactly as the Green AI principle states it (Schwartz et al. 2020, "Green AI", CACM 63(12)):
A beats B when A is at least as accurate and cheaper, or more accurate at no more cost. Two variants with the
same accuracy and the same cost do not beat each other (a tie), so both stay on the frontier unless a third
variant beats them.

Pure Python (no numpy): items are mappings or objects; the cost axis is named by an alias (`flops`, `latency`,
`energy`, `bytes`, `dollars`) or by any key/attribute holding a number. Lower cost is better; higher accuracy is
better unless `higher_is_better=False` (for a loss or perplexity).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from .errors import InvalidValueError, MissingInputError

# cost-axis alias -> the field names tried in order (first present wins). Units live in the names.
COST_AXES: dict[str, tuple[str, ...]] = {
    "flops": ("flops_per_sample", "flops"),
    "latency": ("latency_s", "latency_median_s"),
    "compiled_latency": ("compiled_latency_s",),
    "energy": ("energy_per_1000_kwh", "energy_kwh"),
    "co2e": ("co2e_per_1000_kg", "co2e_kg"),
    "bytes": ("size_bytes", "bytes"),
    "dollars": ("cost_usd", "cost_per_1000_usd", "dollars"),
    "params": ("params",),
}


def _get(item: Any, key: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(key)
    return getattr(item, key, None)


def _name(item: Any, index: int) -> str:
    n = _get(item, "name")
    return str(n) if n is not None else f"#{index}"


def axis_fields(cost: str) -> tuple[str, ...]:
    """The field names a cost axis reads (an alias expands to its fields; anything else is itself)."""
    return COST_AXES.get(cost, (cost,))


def value_of(item: Any, key: str | Sequence[str] | Callable[[Any], Any], *, what: str = "value",
             index: int = 0) -> float:
    """A finite number from `item` under `key` (an alias, a field name, a list of names or a function)."""
    if callable(key):
        raw = key(item)
        label = getattr(key, "__name__", "function")
    else:
        names = axis_fields(key) if isinstance(key, str) else tuple(key)
        raw = None
        for n in names:
            raw = _get(item, n)
            if raw is not None:
                break
        label = "/".join(names)
    if raw is None:
        raise MissingInputError(f"variant {_name(item, index)!r} has no {what} ({label}); "
                                f"every compared variant needs one")
    try:
        x = float(raw)
    except (TypeError, ValueError):
        raise InvalidValueError(f"variant {_name(item, index)!r}: {what} ({label}) must be a number, "
                                f"got {raw!r}") from None
    if math.isnan(x):
        raise InvalidValueError(f"variant {_name(item, index)!r}: {what} ({label}) is NaN; "
                                f"dominance needs a comparable number")
    return x


def _beats(acc_a: float, cost_a: float, acc_b: float, cost_b: float) -> bool:
    """Green AI dominance on (accuracy up, cost down)."""
    return (acc_a >= acc_b and cost_a < cost_b) or (acc_a > acc_b and cost_a <= cost_b)


def dominates(a: Any, b: Any, *, cost: str = "flops", accuracy: str = "accuracy",
              higher_is_better: bool = True) -> bool:
    """True when `a` beats `b`: at least as accurate and cheaper, or more accurate at no more cost."""
    sign = 1.0 if higher_is_better else -1.0
    return _beats(sign * value_of(a, accuracy, what="accuracy"), value_of(a, cost, what="cost"),
                  sign * value_of(b, accuracy, what="accuracy", index=1), value_of(b, cost, what="cost", index=1))


def _points(items: Sequence[Any], cost, accuracy, higher_is_better) -> list[tuple[float, float]]:
    sign = 1.0 if higher_is_better else -1.0
    return [(sign * value_of(it, accuracy, what="accuracy", index=i), value_of(it, cost, what="cost", index=i))
            for i, it in enumerate(items)]


def dominators(items: Iterable[Any], *, cost: str = "flops", accuracy: str = "accuracy",
               higher_is_better: bool = True) -> list[list[int]]:
    """For each item, the indices of the items that beat it (empty = on the frontier)."""
    items = list(items)
    pts = _points(items, cost, accuracy, higher_is_better)
    return [[j for j, (aj, cj) in enumerate(pts) if j != i and _beats(aj, cj, ai, ci)]
            for i, (ai, ci) in enumerate(pts)]


def pareto_mask(items: Iterable[Any], *, cost: str = "flops", accuracy: str = "accuracy",
                higher_is_better: bool = True) -> list[bool]:
    """True for each item no other item beats (ties stay in)."""
    return [not d for d in dominators(items, cost=cost, accuracy=accuracy, higher_is_better=higher_is_better)]


def pareto_front(items: Iterable[Any], *, cost: str = "flops", accuracy: str = "accuracy",
                 higher_is_better: bool = True) -> list[Any]:
    """The non-dominated items, cheapest first (equal cost: most accurate first; then input order)."""
    items = list(items)
    pts = _points(items, cost, accuracy, higher_is_better)
    mask = pareto_mask(items, cost=cost, accuracy=accuracy, higher_is_better=higher_is_better)
    order = sorted((i for i in range(len(items)) if mask[i]), key=lambda i: (pts[i][1], -pts[i][0], i))
    return [items[i] for i in order]


def plot_pareto(variants: list[dict], mask: list[bool], cost: str, accuracy: str, out: str | Path,
                higher_is_better: bool = True) -> Path:
    """Scatter of accuracy against cost, frontier joined and labelled; saved to `out` (png, svg, pdf...)."""
    from .files import PLOT_SUFFIXES, check_output
    out = check_output(out, "plot", PLOT_SUFFIXES)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        from .errors import MissingExtraError
        raise MissingExtraError("matplotlib", "plot") from None
    xs = [value_of(v, cost, what="cost", index=i) for i, v in enumerate(variants)]
    ys = [value_of(v, accuracy, what="accuracy", index=i) for i, v in enumerate(variants)]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.scatter([x for x, m in zip(xs, mask) if not m], [y for y, m in zip(ys, mask) if not m],
               color="0.6", label="dominated")
    front = sorted((x, y) for x, y, m in zip(xs, ys, mask) if m)
    ax.plot([p[0] for p in front], [p[1] for p in front], "o-", color="C2", label="Pareto frontier")
    for v, x, y in zip(variants, xs, ys):
        ax.annotate(str(v["name"]), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    positive = [x for x in xs if x > 0]
    if positive and len(positive) == len(xs) and max(xs) / min(xs) > 100:
        ax.set_xscale("log")
    ax.set_xlabel(f"{cost} ({'/'.join(axis_fields(cost))}), lower is better")
    ax.set_ylabel(f"{accuracy}, {'higher' if higher_is_better else 'lower'} is better")
    ax.set_title("Accuracy vs cost (Green AI dominance, Schwartz et al. 2020)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
