"""Figures from ranges, and the arithmetic the card does on figures (sums over runs, scaling, addition)."""

from __future__ import annotations

from typing import Mapping, Sequence

from ..footprint import Range
from .model import UNITS, Figure, combine_methods


def fig(key: str, r: Range | None, method: str, basis: str = "", unit: str | None = None) -> Figure:
    """The figure `key` of range `r` (a `missing` figure when `r` is None)."""
    unit = unit or UNITS[key]
    if r is None:
        return Figure(key, unit, method="missing", basis=basis)
    return Figure(key, unit, r.central, r.low, r.high, method, basis)


def sum_figures(key: str, figs: Sequence[Figure], basis: str, n_total: int | None) -> Figure:
    """Sum of the known figures; `runs_counted` says how many of `n_total` contributed."""
    known = [f for f in figs if f.known]
    if not known:
        return Figure(key, UNITS[key], method="missing", basis=basis, runs_counted=0 if n_total else None,
                      runs_total=n_total)
    low = sum(f.low if f.low is not None else f.central for f in known)
    high = sum(f.high if f.high is not None else f.central for f in known)
    return Figure(key, UNITS[key], sum(f.central for f in known), low, high,
                  combine_methods(f.method for f in known), basis, len(known), n_total)


def scaled(f: Figure, k: float, key: str, method: str, basis: str) -> Figure:
    if not f.known:
        return Figure(key, UNITS[key], method="missing", basis=basis)
    return Figure(key, UNITS[key], f.central * k, (f.low if f.low is not None else f.central) * k,
                  (f.high if f.high is not None else f.central) * k, method, basis)


def add(a: Figure, b: Figure, key: str) -> Figure:
    if not (a.known and b.known):
        return Figure(key, UNITS[key], method="missing")
    return Figure(key, UNITS[key], a.central + b.central, (a.low or a.central) + (b.low or b.central),
                  (a.high or a.central) + (b.high or b.central), combine_methods([a.method, b.method]),
                  "training + inference")


def range_of(d: Mapping | None) -> Range | None:
    """A Range from {"low", "central", "high"} (None when absent or malformed)."""
    if not d:
        return None
    try:
        return Range(float(d["low"]), float(d["central"]), float(d["high"]))
    except (KeyError, TypeError, ValueError):
        return None
