"""The Green AI efficiency card (Schwartz et al. 2020) and its renderers.

    card = build_card(project="demo")            # or build_card(["a1b2", "c3d4"]), build_card(estimate=fp)
    text = render(card, "md")                      # md | json | latex | html | modelcard

Light at import: the card model only; the ledger (sqlite3), the renderers and matplotlib load on use.
The JSON follows the versioned schema shipped as `wattwise/report/schema/card-v1.json` (`schema_path()`).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from .build import build_card
from .from_estimate import card_from_estimate, footprint_from_dict
from .from_runs import card_from_runs
from .model import SCHEMA_VERSION, Card, Constant, Figure, RunRow, Series, Zone

# format name -> renderer module (each has `render(card, **options) -> str`)
FORMATS: dict[str, str] = {"md": "render_markdown", "json": "render_json", "latex": "render_latex",
                           "html": "render_html", "modelcard": "render_modelcard"}
ALIASES = {"markdown": "md", "tex": "latex", "hf": "modelcard", "yaml": "modelcard"}
EXTENSIONS = {"md": ".md", "json": ".json", "latex": ".tex", "html": ".html", "modelcard": ".md"}


def render(card: Card, fmt: str = "md", **options) -> str:
    """The card as text in format `fmt` (md, json, latex, html, modelcard)."""
    from ..errors import InvalidValueError
    name = ALIASES.get(fmt, fmt)
    if name not in FORMATS:
        raise InvalidValueError(f"unknown report format {fmt!r}; accepted: {', '.join(FORMATS)}")
    mod = importlib.import_module(f".{FORMATS[name]}", __name__)
    return mod.render(card, **options)


render_card = render  # the name exported at the top level (`wattwise.render_card`)


def schema_path() -> Path:
    """Path of the JSON Schema of the card (version 1)."""
    return Path(__file__).with_name("schema") / "card-v1.json"


__all__ = ["render_card", "SCHEMA_VERSION", "Card", "Constant", "Figure", "RunRow", "Series", "Zone", "build_card",
           "card_from_estimate", "card_from_runs", "footprint_from_dict", "render", "schema_path", "FORMATS",
           "EXTENSIONS"]
