"""The typed numbers of a footprint: `Range` (low/central/high with interval arithmetic) and `Quantity` (a
float that is its central value, with its range, method and basis), plus the pure conversions between energy,
carbon and dollars.

- facility energy  = IT energy x PUE                        (The Green Grid, PUE definition)
- carbon           = facility energy (kWh) x intensity (g/kWh) / 1000 -> kg CO2e
- dollars          = GPU-hours x price per GPU-hour, or kWh x price per kWh (+ hardware amortisation)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Union

from ._checks import check_number
from .constants import G_PER_KG
from .errors import InvalidValueError

# how a quantity was obtained: from meters and the clock, counted by tracing the model, from a model or formula;
# 'mixed' is a sum of parts obtained differently
METHODS = ("measured", "counted", "estimated", "mixed")


@dataclass(frozen=True)
class Range:
    """A positive quantity known to lie in [low, high], best guess `central`.

    Interval arithmetic for non-negative numbers: products and sums combine like ends; a quotient divides
    low by the divisor's high. Monotone formulas therefore carry correct bounds.
    """

    low: float
    central: float
    high: float

    def __post_init__(self):
        if not (self.low <= self.central <= self.high) and not math.isclose(self.low, self.high, rel_tol=1e-12):
            raise ValueError(f"Range needs low <= central <= high, got {self.low}, {self.central}, {self.high}")

    @classmethod
    def point(cls, x: float) -> "Range":
        return cls(x, x, x)

    @classmethod
    def of(cls, x: "Number") -> "Range":
        if isinstance(x, Quantity):
            return x.range
        return x if isinstance(x, Range) else cls.point(float(x))

    @property
    def exact(self) -> bool:
        return self.low == self.central == self.high

    def __mul__(self, other: "Number") -> "Range":
        o = Range.of(other)
        return Range(self.low * o.low, self.central * o.central, self.high * o.high)

    __rmul__ = __mul__

    def __truediv__(self, other: "Number") -> "Range":
        o = Range.of(other)
        return Range(self.low / o.high, self.central / o.central, self.high / o.low)

    def __rtruediv__(self, other: "Number") -> "Range":
        return Range.of(other) / self

    def __add__(self, other: "Number") -> "Range":
        o = Range.of(other)
        return Range(self.low + o.low, self.central + o.central, self.high + o.high)

    __radd__ = __add__

    def __sub__(self, other: "Number") -> "Range":
        """Difference of cumulative readings (window end minus begin): like ends, clipped at zero."""
        o = Range.of(other)
        c = max(self.central - o.central, 0.0)
        return Range(min(max(self.low - o.low, 0.0), c), c, max(self.high - o.high, c))

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.low, self.central, self.high)

    def to_dict(self) -> dict[str, float]:
        return {"low": self.low, "central": self.central, "high": self.high}


class Quantity(float):
    """One typed value of a footprint. The float itself is the central value, so `fp.co2e_kg * 2` and
    `f"{fp.co2e_kg:.3g}"` work as numbers; `.low`, `.high`, `.method` and `.basis` say how well and how it
    is known. Float arithmetic returns plain floats: combine Quantities with `+`/`scale` on the Footprint.
    """

    __slots__ = ("low", "high", "method", "basis")

    def __new__(cls, central: float, low: float | None = None, high: float | None = None, *,
                method: str = "estimated", basis: str = "") -> "Quantity":
        c = float(central)
        lo, hi = c if low is None else float(low), c if high is None else float(high)
        Range(lo, c, hi)  # validates the order
        if method not in METHODS:
            raise InvalidValueError(f"unknown quantity method {method!r}; accepted: {', '.join(METHODS)}")
        q = super().__new__(cls, c)
        q.low, q.high, q.method, q.basis = lo, hi, method, basis
        return q

    @classmethod
    def of(cls, value: "Number", method: str = "estimated", basis: str = "") -> "Quantity":
        r = Range.of(value)
        return cls(r.central, r.low, r.high, method=method, basis=basis)

    @property
    def central(self) -> float:
        return float(self)

    @property
    def range(self) -> Range:
        return Range(self.low, float(self), self.high)

    @property
    def exact(self) -> bool:
        return self.low == float(self) == self.high

    def scale(self, k: float) -> "Quantity":
        k = float(k)
        return Quantity(float(self) * k, self.low * k, self.high * k, method=self.method, basis=self.basis)

    def plus(self, other: "Quantity") -> "Quantity":
        """Sum of two quantities: ranges add; the method is kept when both agree, else 'mixed'."""
        method = self.method if self.method == other.method else "mixed"
        basis = self.basis if self.basis == other.basis or not other.basis else (
            other.basis if not self.basis else f"{self.basis} + {other.basis}")
        return Quantity.of(self.range + other.range, method, basis)

    def with_(self, **changes) -> "Quantity":
        d = {"central": float(self), "low": self.low, "high": self.high, "method": self.method,
             "basis": self.basis, **changes}
        return Quantity(d.pop("central"), d.pop("low"), d.pop("high"), **d)

    def to_dict(self) -> dict[str, Any]:
        return {"low": self.low, "central": float(self), "high": self.high, "method": self.method,
                "basis": self.basis}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, method: str = "estimated", basis: str = "") -> "Quantity | None":
        """A Quantity from `to_dict()` (or a legacy {low, central, high} dict); None for None."""
        if d is None:
            return None
        if isinstance(d, (int, float)) and not isinstance(d, bool):
            return cls.of(float(d), method, basis)
        try:
            c = float(d["central"])
            lo, hi = d.get("low"), d.get("high")
            return cls(c, c if lo is None else float(lo), c if hi is None else float(hi),
                       method=d.get("method") or method, basis=d.get("basis") or basis)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise InvalidValueError(f"a quantity must be a number or an object with low/central/high, got {d!r}"
                                    ) from e

    def __repr__(self) -> str:
        span = "" if self.exact else f" [{self.low:.4g}, {self.high:.4g}]"
        return f"Quantity({float(self):.6g}{span}, {self.method})"

    def __reduce__(self):
        return (_quantity, (float(self), self.low, self.high, self.method, self.basis))


def _quantity(c, lo, hi, method, basis) -> Quantity:
    return Quantity(c, lo, hi, method=method, basis=basis)


Number = Union[float, int, Range, Quantity]


# --- conversions (pure) ---------------------------------------------------------------------------------------

def facility_energy(it_energy_kwh: Number, pue: Number) -> Range:
    """Facility energy = IT energy x PUE (PUE >= 1 by definition)."""
    return Range.of(it_energy_kwh) * pue


def energy_to_co2e(energy_kwh: Number, intensity_g_per_kwh: Number, pue: Number = 1.0) -> Range:
    """kg CO2e = energy (kWh) x PUE x grid intensity (gCO2e/kWh) / 1000.

    Pass IT energy with the data centre's PUE, or facility energy with pue=1.
    """
    return Range.of(energy_kwh) * pue * intensity_g_per_kwh / G_PER_KG


def cost_from_gpu_hours(gpu_hours: Number, usd_per_gpu_hour: Number) -> Range:
    """Cloud cost: GPU-hours x on-demand price per GPU-hour (the price includes power and facility)."""
    return Range.of(gpu_hours) * usd_per_gpu_hour


def cost_from_energy(energy_kwh: Number, usd_per_kwh: Number, *, hardware_usd: Number | None = None,
                     hardware_lifetime_h: float | None = None, hours_used: Number | None = None) -> Range:
    """Owned-hardware cost: electricity (kWh x price) plus, optionally, straight-line amortisation of the
    hardware's purchase price over its service life (hardware_usd / lifetime hours x hours used)."""
    cost = Range.of(energy_kwh) * usd_per_kwh
    if hardware_usd is not None:
        if hardware_lifetime_h is None or hours_used is None:
            raise ValueError("hardware amortisation needs hardware_lifetime_h and hours_used")
        check_number("hardware_lifetime_h", hardware_lifetime_h)
        cost = cost + Range.of(hardware_usd) * hours_used / hardware_lifetime_h
    return cost
