"""Hugging Face model-card metadata: the `co2_eq_emissions` block (emissions in GRAMS of CO2e, as the Hub
expects; CodeCarbon writes kilograms) plus an "Environmental impact" section for the card's body.

YAML is written by hand (no PyYAML needed): every string is double-quoted with JSON escapes, which is valid YAML.
Hub fields (https://huggingface.co/docs/hub/model-cards-co2): emissions, source, training_type,
geographical_location, hardware_used.
"""

from __future__ import annotations

import json

from .. import display as _fmt
from ..errors import InvalidValueError
from . import _text as T
from .card import COMPONENTS, LABELS, Card


def _q(text) -> str:
    """A YAML double-quoted scalar (JSON string syntax is a subset of YAML's)."""
    from ..display import safe_text
    return json.dumps(" ".join(safe_text(text).split()), ensure_ascii=False)


# the values the Hub's model-card metadata accepts for co2_eq_emissions.training_type
# (https://huggingface.co/docs/hub/model-cards-co2)
TRAINING_TYPES = ("pre-training", "fine-tuning")


def check_training_type(training_type: str) -> str:
    """`training_type` if the Hub accepts it, else InvalidValueError listing the accepted values."""
    if training_type not in TRAINING_TYPES:
        raise InvalidValueError(f"unknown --training-type {training_type!r}; accepted (Hugging Face model-card "
                                f"co2_eq_emissions values): {', '.join(TRAINING_TYPES)}")
    return training_type


def energy_provenance(card: Card) -> str:
    """How the energy was obtained, from the data: 'energy mixed: GPU measured, CPU estimated, memory estimated'
    (per component when known), 'energy estimated before training' for an estimate."""
    e = card.totals["energy_kwh"]
    method = e.method if e.known else "missing"
    parts = [f"{LABELS[c] if c != 'memory' else 'memory'} {f.badge}" for c in COMPONENTS if (f := card.energy_by_component.get(c)) and f.known]
    head = f"energy {T.METHOD_WORD.get(method, method)}"
    if card.kind == "estimate":
        head += " before training"
    if e.partial:
        head += f" for {e.runs_counted} of {e.runs_total} runs (a lower bound)"
    return head + (f": {', '.join(parts)}" if parts else "")


def co2_eq_emissions(card: Card, *, training_type: str = "pre-training") -> dict:
    """The metadata block as a dict (emissions in grams, central value)."""
    check_training_type(training_type)
    co2 = card.totals["co2e_kg"]
    method = co2.method if co2.known else "missing"
    source = f"{card.generator} efficiency card ({energy_provenance(card)}; CO2e {T.METHOD_WORD.get(method, method)}"
    rng = _fmt.span(co2.low, co2.high, "kg CO2e") if co2.known else ""
    if rng:
        source += f", range {rng}"
    if co2.partial:
        source += f"; {co2.runs_counted} of {co2.runs_total} runs, a lower bound"
    source += ")"
    loc = "; ".join(f"{z.name}, {z.zone_id}" if z.name else z.zone_id for z in card.zones) or "unknown"
    hardware = "; ".join(card.hardware) or "unknown"
    return {"emissions": None if not co2.known else float(f"{co2.central * 1e3:.6g}"), "source": source,
            "training_type": training_type, "geographical_location": loc, "hardware_used": hardware}


def render(card: Card, *, training_type: str = "pre-training", **_: object) -> str:
    meta = co2_eq_emissions(card, training_type=training_type)
    em = "null" if meta["emissions"] is None else f"{meta['emissions']:g}"
    out = ["---", "co2_eq_emissions:", f"  emissions: {em}  # grams CO2e",
           f"  source: {_q(meta['source'])}", f"  training_type: {_q(meta['training_type'])}",
           f"  geographical_location: {_q(meta['geographical_location'])}",
           f"  hardware_used: {_q(meta['hardware_used'])}", "---", "", "## Environmental impact", ""]
    t = card.totals
    items = [("Hardware type", "; ".join(card.hardware) or "not recorded"),
             ("Hours used", f"{T.flagged(t['gpu_hours'])}, wall-clock {T.flagged(t['duration_s'])}"),
             ("Compute", T.flagged(t["flops"]) + (f" ({t['flops'].basis})" if t["flops"].basis else "")),
             ("Compute region", "; ".join(T.zone_line(z) for z in card.zones) or "not recorded"),
             ("Energy", f"{T.flagged(t['energy_kwh'])} facility (PUE {T.pue_short(card) or 'not recorded'}); "
                        f"{energy_provenance(card)}"),
             ("Carbon emitted", T.flagged(t["co2e_kg"]) + (f", range {T.span(t['co2e_kg'])}" if T.span(t['co2e_kg'])
                                                           else "")),
             ("Cost", T.flagged(t["cost_usd"]) + (f" ({'; '.join(card.price_basis)})" if card.price_basis else ""))]
    if card.runs:
        items.append(("Runs", f"{card.counts['runs']} counted (" + ", ".join(
            f"{v} {k}" for k, v in card.counts.items() if k != "runs") + "), failed runs and sweeps included"))
    for k, v in items:
        out.append(f"- **{k}:** {_md(v)}")
    out += ["", f"{T.LEGEND}. Reported with {_md(card.generator)}; emissions in the metadata are in grams "
            f"({_fmt.co2e(t['co2e_kg'].central) if t['co2e_kg'].known else 'n/a'})."]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    from .render_markdown import esc
    return esc(text)
