"""The card as JSON, schema `wattwise.card/v1` (the JSON Schema ships as wattwise/report/schema/card-v1.json).

Numbers are SI with the unit named in each figure; NaN and infinity become null; floats keep 12 significant
digits so that the output is stable across platforms.
"""

from __future__ import annotations

import json
import math

from .card import Card


def _clean(obj):
    if isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            return None
        return float(f"{obj:.12g}")
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def to_json_obj(card: Card) -> dict:
    """The card as a JSON-ready dict (what `render` serialises)."""
    return _clean(card.to_dict())


def render(card: Card, *, indent: int = 2, **_: object) -> str:
    return json.dumps(to_json_obj(card), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"
