"""Shared printing: one Rich console, JSON output."""

from __future__ import annotations

import json
import math

import typer
from rich.console import Console

console = Console(highlight=False)


def _clean(obj):
    """JSON has no NaN/inf: write them as null."""
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def print_json(obj) -> None:
    typer.echo(json.dumps(_clean(obj), indent=2, default=str, allow_nan=False))
