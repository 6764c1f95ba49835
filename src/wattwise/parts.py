"""Multi-part jobs: one estimate from a list of parts, each with its own GPU, count, hours, power and region
(Llama 2's 539 t CO2e is four models at 400 W and 350 W; a job may run a pre-training and a fine-tuning on
different clusters). Each part is a `wattwise.estimate(...)`; the totals add with their ranges, and so do the
energy components, the carbon components (embodied included) and the market-based figure.

`load_parts(path)` reads JSON (always) or YAML (when PyYAML is importable): a list of parts, or an object
{"common": {...}, "parts": [...]} whose `common` keywords apply to every part. Standard library only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from .errors import InvalidValueError
from .footprint import Footprint, Quantity, add


def _sum_dicts(parts: list[dict[str, dict]]) -> dict[str, dict]:
    """Sum {name: Quantity.to_dict()} maps over parts, each name over the parts that have it."""
    out: dict[str, Quantity] = {}
    for d in parts:
        for k, v in d.items():
            q = Quantity.from_dict(v)
            out[k] = q if k not in out else out[k].plus(q)
    return {k: v.to_dict() for k, v in out.items()}


def estimate_parts(parts: Sequence[Mapping[str, Any]], **common) -> Footprint:
    """The footprint of a job made of `parts` (each a dict of `wattwise.estimate` keywords, plus an optional
    `name`); `common` keywords apply to every part unless the part sets them. Quantities known in every part
    add (ranges add end to end); `extra['parts']` lists each part's figures."""
    from .estimator import estimate
    if not parts:
        raise InvalidValueError("a multi-part estimate needs at least one part")
    fps: list[Footprint] = []
    rows = []
    for i, p in enumerate(parts, 1):
        if not isinstance(p, Mapping):
            raise InvalidValueError(f"part {i} must be an object of estimate keywords, got {type(p).__name__}")
        kw = {**common, **{k: v for k, v in p.items() if k != "name"}}
        name = str(p.get("name") or f"part {i}")
        try:
            fp = estimate(**kw)
        except TypeError as e:
            raise InvalidValueError(f"part {name!r}: {e}") from None
        except Exception as e:
            if hasattr(e, "args") and e.args and isinstance(e.args[0], str):
                e.args = (f"part {name!r}: {e.args[0]}",) + e.args[1:]
            raise
        fps.append(fp)
        rows.append({"name": name, "hardware": fp.hardware, "zone": fp.zone,
                     "scope": fp.extra.get("power_scope", {}).get("scope"),
                     **{q: v.to_dict() for q, v in fp.quantities().items()}})
    out = fps[0]
    for fp in fps[1:]:
        out = add(out, fp)
    # components of energy known in any part: sum where present (a part without one contributes nothing)
    comps: dict[str, Quantity] = {}
    for fp in fps:
        for k, q in fp.energy_by_component_kwh.items():
            comps[k] = q if k not in comps else comps[k].plus(q)
    out.energy_by_component_kwh = comps if all(fp.it_energy_kwh is not None for fp in fps) else {}
    by_comp = [fp.extra.get("co2e_by_component_kg", {}) for fp in fps]
    if any(by_comp):
        out.extra["co2e_by_component_kg"] = _sum_dicts(by_comp)
    acc = [fp.extra.get("accounting") for fp in fps]
    if all(acc):
        out.extra["accounting"] = {
            **_sum_dicts([{k: a[k] for k in ("location_based_kg", "market_based_kg")} for a in acc]),
            "basis": acc[0]["basis"] + f"; summed over {len(fps)} parts"}
    scopes = sorted({r["scope"] for r in rows if r["scope"]})
    out.extra["power_scope"] = {"scope": scopes[0] if len(scopes) == 1 else "mixed",
                                "text": "; ".join(f"{r['name']}: {fp.extra.get('power_scope', {}).get('text', '')}"
                                                  for r, fp in zip(rows, fps))}
    out.extra["parts"] = rows
    out.inputs = {"parts": len(fps), **{k: v for k, v in common.items() if isinstance(v, (int, float, str, bool))}}
    out.sources = {**out.sources, "parts": f"sum of {len(fps)} parts: " + ", ".join(r["name"] for r in rows)}
    for fp in fps:
        for k, v in fp.missing.items():
            if k not in out.quantities():
                out.missing.setdefault(k, v)
    return out


def load_parts(path: str | Path) -> tuple[list[dict], dict]:
    """(parts, common) from a JSON or YAML file: a list of parts, or {"common": {...}, "parts": [...]}.
    YAML needs PyYAML (not a wattwise dependency): without it, give JSON."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidValueError(f"cannot read the parts file {str(p)!r}: {e.strerror or e}") from None
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise InvalidValueError(f"{p.name} is YAML, which needs PyYAML (pip install pyyaml); or give the "
                                    "same parts as JSON") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise InvalidValueError(f"{p.name} is not valid YAML: {e}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InvalidValueError(f"{p.name} is not valid JSON ({e}); YAML files need a .yaml/.yml name") from None
    common: dict = {}
    if isinstance(data, Mapping):
        common = dict(data.get("common") or {})
        data = data.get("parts")
    if not isinstance(data, list) or not data:
        raise InvalidValueError(f"{p.name} must hold a non-empty list of parts (or an object with 'parts')")
    return data, common
