"""Plain-text pieces shared by the renderers (escaping is each renderer's job)."""

from __future__ import annotations

from .. import display as _fmt
from .card import LABELS, Card, Figure

METHOD_MARK = {"measured": "measured", "estimated": "estimated", "mixed": "mixed (measured + estimated)",
               "counted": "counted", "missing": "not available"}
# one word per method (badges, model-card metadata)
METHOD_WORD = {"measured": "measured", "estimated": "estimated", "mixed": "mixed", "counted": "counted",
               "missing": "not available"}


def value(f: Figure, mark_partial: bool = True) -> str:
    """Central value with its unit, '(lower bound)' when only some runs contributed (unless `mark_partial` is
    False: the renderer shows it in the badge)."""
    if not f.known:
        return "n/a"
    text = _fmt.value(f.central, f.unit)
    return text + (" (lower bound)" if f.partial and mark_partial else "")


FLAG = {"measured": "m", "estimated": "e", "mixed": "m+e", "counted": "c", "missing": ""}
LEGEND = ("[m] measured, [e] estimated, [m+e] mixed (part measured, part estimated), [c] counted; "
          "(lower bound): known for only some of the runs")


def flagged(f: Figure) -> str:
    """Value with its method flag: '0.667 kWh [m+e]', '600 PFLOPs [c]', '850 PFLOPs (lower bound) [m+e]'."""
    if not f.known:
        return "n/a"
    mark = "counted" if f.badge == "counted" else f.method
    return f"{value(f)} [{FLAG.get(mark, mark)}]"


def span(f: Figure) -> str:
    return _fmt.span(f.low, f.high, f.unit) if f.known else ""


def how(f: Figure) -> str:
    """'measured: basis (3/4 runs)'."""
    mark = "counted" if f.badge == "counted" else f.method
    text = METHOD_MARK.get(mark, mark)
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


def zone_line(z, with_source: bool = True) -> str:
    """'FRA (France), 44.18 gCO2e/kWh, 2024, lifecycle' and, `with_source`, its source and licence."""
    parts = [z.zone_id + (f" ({z.name})" if z.name else "")]
    if z.intensity_g_per_kwh is not None:
        parts.append(_fmt.plain(z.intensity_g_per_kwh, "gCO2e/kWh"))
    if z.year:
        parts.append(str(z.year))
    if z.basis:
        parts.append(z.basis)
    if with_source:
        parts.append(f"source: {z.source}" if z.source else "source: not recorded")
        if z.licence:
            parts.append(f"licence: {z.licence}")
    return ", ".join(parts)


def pue_short(card: Card) -> str | None:
    """'1.1 (1.09 to 1.12), estimated': the PUE without its source (that is under Methods)."""
    p = card.pue
    if p is None:
        return None
    rng = f" ({_fmt.plain(p.low)} to {_fmt.plain(p.high)})" if p.low is not None and p.low != p.high else ""
    return f"{_fmt.plain(p.central)}{rng}, {p.method}"


def pue_line(card: Card) -> str | None:
    """The PUE with its source."""
    short = pue_short(card)
    if short is None:
        return None
    return f"{short}; source: {card.pue.basis or 'not recorded'}"


def price_short(card: Card) -> list[str]:
    """The prices without their sources ('2 USD/GPU-hour (1.2 to 3.5)'): the methods' price entries that hold a
    number (an estimate's price is only a source text: then none)."""
    return [constant_value(c) for c in card.methods if c.name.startswith("price") and c.value is not None]


def inference_line(inf) -> str:
    """'Serving 365B tokens with N = 100M parameters' (numbers through wattwise.display)."""
    text = f"Serving {_fmt.count(inf['tokens'])} tokens"
    if inf.get("params"):
        text += f" with N = {_fmt.count(inf['params'])} parameters"
    return text


def inference_split(inf) -> str:
    """'Inference is 98.86% of lifetime FLOPs (estimated). Serving overtakes training (break-even) after 4.16
    days.' or '' when unknown."""
    if inf.get("inference_fraction") is None:
        return ""
    s = f"Inference is {_fmt.percent(inf['inference_fraction'])} of lifetime FLOPs (estimated)."
    if inf.get("crossover_day") is not None:
        s += f" Serving overtakes training (break-even) after {_fmt.duration(inf['crossover_day'] * 86400)}."
    return s


def constant_value(c) -> str:
    if c.value is None:
        return "—"
    text = _fmt.value(c.value, c.unit)
    if c.low is not None and c.high is not None and c.low != c.high:
        text += f" ({_fmt.plain(c.low)} to {_fmt.plain(c.high)})"
    return text


# Pareto cost fields as people read them (the JSON keeps the field name)
COST_FIELD_LABELS = {"energy_kwh": "energy", "energy_per_1000_kwh": "energy per 1000 inferences", "flops": "compute",
                     "flops_per_sample": "compute per sample", "latency_s": "latency",
                     "latency_median_s": "median latency", "compiled_latency_s": "compiled latency",
                     "size_bytes": "size", "bytes": "size", "cost_usd": "cost", "dollars": "cost",
                     "params": "parameters"}


def cost_field_label(pa) -> str:
    """'energy', 'median latency', or the field name with spaces for a field wattwise does not know."""
    f = pa["cost_field"]
    return COST_FIELD_LABELS.get(f, str(f).replace("_", " "))


def cost_label(pa) -> str:
    """The Pareto table's cost header: 'Cost (energy)'."""
    return f"Cost ({cost_field_label(pa)})"


def accuracy_label(pa) -> str:
    """'Accuracy' (the accuracy field, capitalised, underscores as spaces)."""
    a = str(pa["accuracy_field"]).replace("_", " ")
    return a[:1].upper() + a[1:]


def pareto_cost(value: float, unit: str) -> str:
    return _fmt.value(value, unit) if unit in _fmt.BY_UNIT else _fmt.plain(value, unit)


INFER_LABELS = {k: LABELS[k] for k in ("flops", "gpu_hours", "energy_kwh", "co2e_kg", "cost_usd")}
INFER_LABELS["flops"] = "Compute"
