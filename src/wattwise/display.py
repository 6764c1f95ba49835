"""Numbers and units as people read them, for the terminal, the card and the demo alike. Inside wattwise
everything is SI (J-derived kWh, kg, s, FLOPs, USD); GPU-hours, days, MWh, t CO2e and "7B" appear only here.

One rule per unit: three significant digits; a unit prefix rather than many zeros; a cost below one cent keeps
two significant digits ($0.0042, never a misleading $0.00); FLOPs in powers of ten (1.2e21 FLOPs); counts of
parameters or tokens with the field's suffixes (k, M, B, T: 7B parameters).
"""

from __future__ import annotations

import math
import re

from .errors import InvalidValueError


def _g(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}g}"


# --- one unit each ------------------------------------------------------------------------------------------------

def sci(x: float) -> str:
    """1.23e21 (plain digits between 1e-3 and 1e3), for columns whose header names the unit."""
    if x == 0:
        return "0"
    exp = int(math.floor(math.log10(abs(x))))
    if -3 <= exp < 3:
        return _g(x)
    mant = x / 10 ** exp
    if abs(float(f"{mant:.3g}")) >= 10:   # 9.996e20 rounds to 10.0e20: write 1e21
        mant, exp = mant / 10, exp + 1
    return f"{mant:.3g}e{exp}"


def flops(x: float) -> str:
    """1.23e21 FLOPs."""
    return f"{sci(x)} FLOPs"


def count(x: float | None) -> str:
    """A count of parameters, tokens or examples: 7B, 1.4T, 350M, 12k; '-' for None."""
    if x is None:
        return "-"
    for scale, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{unit}"
    return f"{x:.3g}"


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
    """$1.23M, $1,234.00, $0.42, $0.0042 (a non-zero cost is never shown as $0.00)."""
    if abs(x) >= 1e6:
        return f"${x / 1e6:,.3g}M"
    if abs(x) >= 0.01 or x == 0:
        return f"${x:,.2f}"
    return f"${x:.2g}"


def power(w: float) -> str:
    return f"{w / 1e3:.3g} kW" if w >= 1e4 else f"{_g(w)} W"


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


def size(n_bytes: float) -> str:
    """Binary prefixes, as memory is sold: 1.5 GiB, 300 MiB."""
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes:.0f} B"


def plain(x: float, unit: str = "") -> str:
    return f"{_g(x, 4)}{' ' + unit if unit else ''}"


# --- by unit, by quantity -------------------------------------------------------------------------------------------

BY_UNIT = {"FLOPs": flops, "GPU-h": gpu_hours, "s": duration, "kWh": energy, "kg CO2e": co2e, "USD": usd, "W": power}

# footprint quantity -> its formatter and its label in tables
FORMAT = {"flops": flops, "gpu_hours": gpu_hours, "duration_s": duration, "energy_kwh": energy, "co2e_kg": co2e,
          "cost_usd": usd}
LABEL = {"flops": "Compute", "gpu_hours": "GPU-hours", "duration_s": "Wall-clock", "energy_kwh": "Energy (facility)",
         "co2e_kg": "Carbon", "cost_usd": "Cost"}


def value(x: float | None, unit: str) -> str:
    """`x` in its unit, humanely; 'n/a' for None."""
    if x is None:
        return "n/a"
    f = BY_UNIT.get(unit)
    return f(x) if f else plain(x, unit)


def span(low: float | None, high: float | None, unit: str, sep: str = " – ") -> str:
    """'low – high' in the unit, or '' when the range is a point (or unknown)."""
    if low is None or high is None or math.isclose(low, high, rel_tol=1e-9, abs_tol=0.0):
        return ""
    return f"{value(low, unit)}{sep}{value(high, unit)}"


def quantity_span(name: str, rng) -> str:
    """The low - high of footprint quantity `name` (a Range or Quantity), or '' when it is exact."""
    if rng.low is None or rng.high is None or math.isclose(rng.low, rng.high, rel_tol=1e-9):
        return ""
    f = FORMAT[name]
    return f"{f(rng.low)} - {f(rng.high)}"


# --- reading numbers typed by people ----------------------------------------------------------------------------------

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
