"""Numbers and units as people read them, for the terminal, the card and the demo alike. Inside wattwise
everything is SI (kWh, kg, s, FLOPs, USD); Wh/MWh, g/t, ms/days/years, GPU-hours and "7B" appear only here.

One policy for every output:
- about three significant figures (estimates are not known to more), never e-notation;
- one unit family per quantity, scaled: µWh, Wh, kWh, MWh, GWh (never mWh); mg, g, kg, t, kt CO2e; ms, s, min, h, days, years;
  FLOPs with SI prefixes (58.8 ZFLOPs = 5.88e22); W, kW, MW;
- counts of parameters or tokens with the field's suffixes (7B, 1.4T);
- money: $1.23M, $226,000, $226, $12.30, $0.42, and a cost below a cent keeps two significant digits ($0.0042);
- a range is written "low to high".
"""

from __future__ import annotations

import math
import re

from .errors import InvalidValueError


def _round(x: float, sig: int = 3) -> float:
    """`x` rounded to `sig` significant figures (so that 999.6 reads as 1,000 and moves to the next unit)."""
    return float(f"{x:.{sig}g}") if x and math.isfinite(x) else x


def _num(x: float, sig: int = 3) -> str:
    """`x` to `sig` significant figures in plain digits: 0.0042, 12.3, 1,230, 226,000 (no e-notation)."""
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    mag = math.floor(math.log10(abs(_round(x, sig))))
    decimals = sig - 1 - mag
    if decimals <= 0:   # whole number: exact digits, no float noise
        step = 10 ** (-decimals)
        return f"{int(round(x / step)) * step:,d}"
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scaled(x: float, units: tuple[tuple[float, str], ...], sig: int = 3) -> str:
    """`x` in the largest unit it reaches once rounded (the last unit when below all of them)."""
    xr = _round(x, sig)
    for scale, unit in units:
        if abs(xr) >= scale:
            return f"{_num(x / scale, sig)} {unit}"
    scale, unit = units[-1]
    return f"{_num(x / scale, sig)} {unit}"


# --- one unit each ------------------------------------------------------------------------------------------------

_SI = ((1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"),
       (1.0, ""))


def si(x: float) -> str:
    """SI prefix without a unit (3.3G), for columns whose header names the unit."""
    if x == 0:
        return "0"
    return _scaled(x, _SI).replace(" ", "")


def flops(x: float) -> str:
    """58.8 ZFLOPs (5.88e22), 3.3 GFLOPs, 512 FLOPs."""
    if x == 0:
        return "0 FLOPs"
    return _scaled(x, _SI) + "FLOPs"


def flop_rate(x: float) -> str:
    """312 TFLOP/s."""
    return "0 FLOP/s" if x == 0 else _scaled(x, _SI) + "FLOP/s"


def count(x: float | None) -> str:
    """A count of parameters, tokens or examples: 7B, 1.4T, 350M, 12k; '-' for None."""
    if x is None:
        return "-"
    xr = _round(x)
    for scale, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(xr) >= scale:
            return f"{_num(x / scale)}{unit}"
    return _num(x)


def energy(kwh: float) -> str:
    """1.5 MWh, 4.2 kWh, 420 Wh, 0.042 Wh, 57.1 µWh (never mWh: told from MWh only by case)."""
    if kwh == 0:
        return "0 kWh"
    if abs(_round(kwh)) < 1e-6:   # under a thousandth of a Wh: micro-watt-hours, not a run of zeros
        return f"{_num(kwh * 1e9)} µWh"
    return _scaled(kwh, ((1e6, "GWh"), (1e3, "MWh"), (1.0, "kWh"), (1e-3, "Wh")))


def co2e(kg: float) -> str:
    """2.5 t CO2e, 12 kg CO2e, 500 g CO2e, 0.042 g CO2e, 5.2 mg CO2e (below 0.01 g)."""
    if kg == 0:
        return "0 kg CO2e"
    if abs(_round(kg)) < 1e-5:   # under a hundredth of a gram: milligrams
        return f"{_num(kg * 1e6)} mg CO2e"
    return _scaled(kg, ((1e6, "kt CO2e"), (1e3, "t CO2e"), (1.0, "kg CO2e"), (1e-3, "g CO2e")))


def usd(x: float) -> str:
    """$1.23B, $1.23M, $226,000, $226, $12.30, $0.42, $0.0042 (a non-zero cost is never shown as $0.00)."""
    a = abs(x)
    sign = "-" if x < 0 else ""
    if a >= 100:
        a = _round(a)
    if a >= 1e9:
        return f"{sign}${_num(a / 1e9)}B"
    if a >= 1e6:
        return f"{sign}${_num(a / 1e6)}M"
    if a >= 100:
        return f"{sign}${_num(a)}"
    if a >= 0.01 or a == 0:
        return f"{sign}${a:,.2f}"
    return f"{sign}${_num(a, 2)}"


def power(w: float) -> str:
    return _scaled(w, ((1e6, "MW"), (1e3, "kW"), (1.0, "W"))) if w else "0 W"


def gpu_hours(x: float) -> str:
    """108,889 GPU-h (whole hours from 100 on), 3.2 GPU-h."""
    return f"{x:,.0f} GPU-h" if x >= 100 else f"{_num(x)} GPU-h"


def duration(s: float) -> str:
    """250 ms, 30 s, 2.5 min, 3.1 h, 4.2 days, 102 years."""
    s = _round(s)
    if s >= 2 * 365 * 86400:
        return f"{_num(s / (365.25 * 86400))} years"
    if s >= 2 * 86400:
        return f"{_num(s / 86400)} days"
    if s >= 2 * 3600:
        return f"{_num(s / 3600)} h"
    if s >= 120:
        return f"{_num(s / 60)} min"
    if s >= 1 or s == 0:
        return f"{_num(s)} s"
    return f"{_num(s * 1e3)} ms"


def size(n_bytes: float) -> str:
    """Binary prefixes, as memory is sold: 1.5 GiB, 300 MiB."""
    for scale, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n_bytes >= scale:
            return f"{_num(n_bytes / scale)} {unit}"
    return f"{n_bytes:.0f} B"


def percent(fraction: float) -> str:
    """A fraction as a percentage to about 3 significant figures: 98.9%, 0.42%, 100%."""
    return f"{_num(100 * fraction)}%"


def plain(x: float, unit: str = "") -> str:
    return f"{_num(x, 4)}{' ' + unit if unit else ''}"


# --- by unit, by quantity -------------------------------------------------------------------------------------------

BY_UNIT = {"FLOPs": flops, "FLOP/s": flop_rate, "GPU-h": gpu_hours, "s": duration, "kWh": energy, "kg CO2e": co2e, "USD": usd, "W": power}

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


def span(low: float | None, high: float | None, unit: str, sep: str = " to ") -> str:
    """'low to high' in the unit, or '' when the range is a point (or unknown)."""
    if low is None or high is None or math.isclose(low, high, rel_tol=1e-9, abs_tol=0.0):
        return ""
    return f"{value(low, unit)}{sep}{value(high, unit)}"


def quantity_span(name: str, rng) -> str:
    """'low to high' of footprint quantity `name` (a Range or Quantity), or '' when it is exact."""
    if rng.low is None or rng.high is None or math.isclose(rng.low, rng.high, rel_tol=1e-9):
        return ""
    f = FORMAT[name]
    return f"{f(rng.low)} to {f(rng.high)}"


# --- text that came from users (run names, tags, variant names) -----------------------------------------------------

_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(text, one_line: bool = True) -> str:
    """`text` without terminal escape sequences (colours, window titles, OSC 8 links) and control characters
    (NUL, DEL, C1), newlines folded to spaces when `one_line`: what a terminal or a document may show of a
    user-supplied name. Rich markup is not interpreted by callers that print through `Text`."""
    s = _ANSI.sub("", str(text))
    if one_line:
        s = s.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _CONTROL.sub("", s.replace("\t", " "))


def csv_cell(value):
    """A CSV cell that a spreadsheet will not run as a formula (OWASP: cells starting with = + - @ TAB CR get a
    leading apostrophe), numbers unchanged."""
    if not isinstance(value, str) or not value or value[0] not in "=+-@\t\r":
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


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
