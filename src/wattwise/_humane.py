"""Humane units shared by the terminal (cli) and the report renderers: SI inside, GPU-hours and days only when
printing."""

from __future__ import annotations


def gpu_hours(x: float) -> str:
    return f"{x:,.0f} GPU-h" if x >= 100 else f"{x:.3g} GPU-h"


def duration(s: float) -> str:
    if s >= 2 * 86400:
        return f"{s / 86400:,.1f} days"
    if s >= 2 * 3600:
        return f"{s / 3600:,.1f} h"
    if s >= 120:
        return f"{s / 60:,.1f} min"
    return f"{s:.3g} s"
