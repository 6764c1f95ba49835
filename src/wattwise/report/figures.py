"""Figures from footprint quantities, and the arithmetic the card does on figures (sums over runs, scaling,
training + inference), done on `Range`s so that every bound is carried, a bound of 0.0 included."""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from ..footprint import Quantity, Range
from .model import UNITS, Figure, combine_methods

# Quantity.method -> Figure.method: a counted FLOPs figure is a measurement of the work (basis says 'counted')
_FIGURE_METHOD = {"measured": "measured", "counted": "measured", "estimated": "estimated", "mixed": "mixed"}


def figure_method(q: Quantity, estimate: bool = False) -> str:
    """The card's method flag of quantity `q`; in an estimate's card a counted figure stays `estimated`."""
    m = _FIGURE_METHOD.get(q.method, "estimated")
    return "estimated" if estimate and q.method == "counted" else m


def fig(key: str, r: Range | Quantity | None, method: str, basis: str = "", unit: str | None = None) -> Figure:
    """The figure `key` of range `r` (a `missing` figure when `r` is None)."""
    unit = unit or UNITS[key]
    if r is None:
        return Figure(key, unit, method="missing", basis=basis)
    r = Range.of(r)
    return Figure(key, unit, r.central, r.low, r.high, method, basis)


def quantity_figure(key: str, q: Quantity | None, basis: str | None = None, *, estimate: bool = False,
                    missing_basis: str = "") -> Figure:
    """The figure of quantity `q`: its range, its method (`figure_method`), `basis` or the quantity's own."""
    if q is None:
        return Figure(key, UNITS[key], method="missing", basis=missing_basis)
    f = fig(key, q, figure_method(q, estimate), q.basis if basis is None else basis)
    f.source_method = q.method
    return f


def figure_range(f: Figure) -> Range | None:
    """The range of a known figure (an absent bound is the central value; 0.0 is a bound)."""
    if not f.known:
        return None
    return Range(f.central if f.low is None else f.low, f.central, f.central if f.high is None else f.high)


def _sum(ranges: Iterable[Range]) -> Range:
    out = Range.point(0.0)
    for r in ranges:
        out = out + r
    return out


def sum_figures(key: str, figs: Sequence[Figure], basis: str, n_total: int | None) -> Figure:
    """Sum of the known figures; `runs_counted` says how many of `n_total` contributed."""
    known = [f for f in figs if f.known]
    if not known:
        return Figure(key, UNITS[key], method="missing", basis=basis, runs_counted=0 if n_total else None,
                      runs_total=n_total)
    r = _sum(figure_range(f) for f in known)
    out = Figure(key, UNITS[key], r.central, r.low, r.high, combine_methods(f.method for f in known), basis,
                 len(known), n_total)
    out.source_method = combine_methods(f.source_method or f.method for f in known)
    return out


def scaled(f: Figure, k: float, key: str, method: str, basis: str) -> Figure:
    """`f` times k (k >= 0), as figure `key`."""
    r = figure_range(f)
    return fig(key, None if r is None else r * k, method, basis)


def add(a: Figure, b: Figure, key: str, basis: str = "training + inference") -> Figure:
    """a + b, bound by bound (missing when either is)."""
    ra, rb = figure_range(a), figure_range(b)
    if ra is None or rb is None:
        return Figure(key, UNITS[key], method="missing")
    out = fig(key, ra + rb, combine_methods([a.method, b.method]), basis)
    out.source_method = combine_methods([a.source_method or a.method, b.source_method or b.method])
    part = a if a.partial else b if b.partial else None
    if part is not None:  # a lower bound plus anything is a lower bound
        out.runs_counted, out.runs_total = part.runs_counted, part.runs_total
    return out


def range_of(d: Mapping | None) -> Range | None:
    """A Range from {"low", "central", "high"} (None when absent or malformed)."""
    if not d:
        return None
    try:
        return Range(float(d["low"]), float(d["central"]), float(d["high"]))
    except (KeyError, TypeError, ValueError):
        return None
