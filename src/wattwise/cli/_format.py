"""Humane units for the terminal (SI inside, GPU-hours / MWh / t CO2e / k$ only when printing)."""

from __future__ import annotations

import math
import re

from .._humane import duration, gpu_hours  # noqa: F401  (shared with the report)
from ..errors import InvalidValueError
from ..footprint import Range

_SUFFIX = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([kKMBGTPE]?)\s*$")


def parse_quantity(name: str, text: str | None) -> float | None:
    """'7e9', '7B', '1.4T', '150e12' -> float. Suffixes: k/K 1e3, M 1e6, B/G 1e9, T 1e12, P 1e15, E 1e18."""
    if text is None:
        return None
    s = str(text).strip()
    if s.lower() in ("nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "-infinity"):
        raise InvalidValueError(f"--{name} must be a finite number, got {text!r}")
    m = _NUMBER.match(s)
    if not m:
        raise InvalidValueError(f"--{name} must be a number such as 7e9 or 7B (suffixes k, M, B/G, T, P, E), "
                                f"got {text!r}")
    return float(m.group(1)) * _SUFFIX.get(m.group(2), 1.0)


def _si(x: float, units: list[tuple[float, str]], digits: int = 3) -> str:
    for scale, unit in units:
        if abs(x) >= scale:
            return f"{x / scale:,.{digits}g} {unit}"
    scale, unit = units[-1]
    return f"{x / scale:.{digits}g} {unit}"


def flops(x: float) -> str:
    return f"{x:.3g} FLOPs"


def energy(kwh: float) -> str:
    return _si(kwh, [(1e6, "GWh"), (1e3, "MWh"), (1.0, "kWh"), (1e-3, "Wh"), (1e-6, "mWh")])


def co2e(kg: float) -> str:
    return _si(kg, [(1e6, "kt CO2e"), (1e3, "t CO2e"), (1.0, "kg CO2e"), (1e-9, "g CO2e")]) if kg >= 1 or kg == 0 \
        else f"{kg * 1000:.3g} g CO2e"


def usd(x: float) -> str:
    if x >= 1e6:
        return f"${x / 1e6:,.3g}M"
    if x >= 1e3:
        return f"${x / 1e3:,.3g}k"
    return f"${x:,.2f}"


FORMAT = {"flops": flops, "gpu_hours": gpu_hours, "duration_s": duration, "energy_kwh": energy, "co2e_kg": co2e,
          "cost_usd": usd}
LABEL = {"flops": "Compute", "gpu_hours": "GPU-hours", "duration_s": "Wall-clock", "energy_kwh": "Energy (facility)",
         "co2e_kg": "Carbon", "cost_usd": "Cost"}


def span(q: str, r: Range) -> str:
    """'low - high' in the quantity's unit, or '' for an exact value."""
    if r.exact or math.isclose(r.low, r.high, rel_tol=1e-9):
        return ""
    f = FORMAT[q]
    return f"{f(r.low)} - {f(r.high)}"
