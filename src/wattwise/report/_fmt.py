"""Humane numbers for the renderers: SI inside the card, GPU-hours / MWh / t CO2e / $ only when printing."""

from __future__ import annotations

import math

from .._humane import duration, gpu_hours  # noqa: F401  (shared with the CLI)


def _g(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}g}"


def flops(x: float) -> str:
    if x == 0:
        return "0 FLOPs"
    exp = int(math.floor(math.log10(abs(x))))
    if -3 <= exp < 4:
        return f"{_g(x)} FLOPs"
    return f"{x / 10 ** exp:.3g}e{exp} FLOPs"


def energy(kwh: float) -> str:
    for scale, unit in ((1e6, "GWh"), (1e3, "MWh"), (1.0, "kWh"), (1e-3, "Wh")):
        if abs(kwh) >= scale:
            return f"{_g(kwh / scale)} {unit}"
    return "0 kWh" if kwh == 0 else f"{_g(kwh * 1e3)} Wh"


def co2e(kg: float) -> str:
    for scale, unit in ((1e6, "kt CO2e"), (1e3, "t CO2e"), (1.0, "kg CO2e")):
        if abs(kg) >= scale:
            return f"{_g(kg / scale)} {unit}"
    return "0 kg CO2e" if kg == 0 else f"{_g(kg * 1e3)} g CO2e"


def usd(x: float) -> str:
    if x >= 1e6:
        return f"${x / 1e6:,.3g}M"
    if x >= 0.01 or x == 0:
        return f"${x:,.2f}"
    return f"${x:.2g}"


def power(w: float) -> str:
    return f"{w / 1e3:.3g} kW" if w >= 1e4 else f"{_g(w)} W"


def plain(x: float, unit: str = "") -> str:
    return f"{_g(x, 4)}{' ' + unit if unit else ''}"


BY_UNIT = {"FLOPs": flops, "GPU-h": gpu_hours, "s": duration, "kWh": energy, "kg CO2e": co2e, "USD": usd, "W": power}


def value(x: float | None, unit: str) -> str:
    """`x` in its unit, humanely; 'n/a' for None."""
    if x is None:
        return "n/a"
    f = BY_UNIT.get(unit)
    return f(x) if f else plain(x, unit)


def span(low: float | None, high: float | None, unit: str) -> str:
    """'low - high' in the unit, or '' when the range is a point (or unknown)."""
    if low is None or high is None or math.isclose(low, high, rel_tol=1e-9, abs_tol=0.0):
        return ""
    return f"{value(low, unit)} – {value(high, unit)}"
