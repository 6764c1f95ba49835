"""Plain-text pieces shared by the renderers (escaping is each renderer's job)."""

from __future__ import annotations

from .. import display as _fmt
from .card import LABELS, Card, Figure

METHOD_MARK = {"measured": "measured", "estimated": "estimated", "mixed": "mixed (measured + estimated)",
               "missing": "not available"}


def value(f: Figure) -> str:
    """Central value with its unit, '(partial)' when only some runs contributed."""
    if not f.known:
        return "n/a"
    text = _fmt.value(f.central, f.unit)
    return text + (" (partial)" if f.partial else "")


FLAG = {"measured": "m", "estimated": "e", "mixed": "m+e", "missing": ""}
LEGEND = "[m] measured, [e] estimated, [m+e] mixed (part measured, part estimated)"


def flagged(f: Figure) -> str:
    """Value with its method flag: '0.667 kWh [m+e]'."""
    if not f.known:
        return "n/a"
    return f"{value(f)} [{FLAG.get(f.method, f.method)}]"


def span(f: Figure) -> str:
    return _fmt.span(f.low, f.high, f.unit) if f.known else ""


def how(f: Figure) -> str:
    """'measured: basis (3/4 runs)'."""
    text = METHOD_MARK.get(f.method, f.method)
    if f.basis:
        text += f": {f.basis}"
    if f.runs_total:
        text += f" ({f.runs_counted}/{f.runs_total} runs)"
    return text


def headline(card: Card) -> str:
    """One sentence: what the card covers."""
    if card.kind == "estimate":
        return ("Estimate of a training job's cost, reported as Schwartz et al. (2020, Green AI) ask: compute, "
                "hardware, wall-clock, energy, carbon and dollars, each with its range and method.")
    n = card.counts.get("runs", 0)
    status = ", ".join(f"{v} {k}" for k, v in card.counts.items() if k != "runs")
    period = ""
    if card.period.get("start_utc"):
        period = f" from {card.period['start_utc']} to {card.period['end_utc'] or '(running)'}"
    return (f"{n} measured run{'s' if n != 1 else ''} ({status}){period}, reported as Schwartz et al. (2020, "
            "Green AI) ask: compute, hardware, wall-clock, energy, carbon and dollars, each with its range and "
            "method.")


def zone_line(z) -> str:
    parts = [z.zone_id + (f" ({z.name})" if z.name else "")]
    if z.intensity_g_per_kwh is not None:
        parts.append(f"{z.intensity_g_per_kwh:g} gCO2e/kWh")
    if z.year:
        parts.append(str(z.year))
    if z.basis:
        parts.append(z.basis)
    parts.append(f"source: {z.source}" if z.source else "source: not recorded")
    if z.licence:
        parts.append(f"licence: {z.licence}")
    return ", ".join(parts)


def pue_line(card: Card) -> str | None:
    p = card.pue
    if p is None:
        return None
    rng = f" ({p.low:g}–{p.high:g})" if p.low is not None and p.low != p.high else ""
    return f"{p.central:g}{rng}, {p.method}; source: {p.basis or 'not recorded'}"


def constant_value(c) -> str:
    if c.value is None:
        return "—"
    text = _fmt.value(c.value, c.unit)
    if c.low is not None and c.high is not None and c.low != c.high:
        text += f" ({_fmt.plain(c.low)} to {_fmt.plain(c.high)})"
    return text


def pareto_cost(value: float, unit: str) -> str:
    return _fmt.value(value, unit) if unit in _fmt.BY_UNIT else _fmt.plain(value, unit)


INFER_LABELS = {k: LABELS[k] for k in ("flops", "gpu_hours", "energy_kwh", "co2e_kg", "cost_usd")}
INFER_LABELS["flops"] = "Compute"
