"""The footprint: the one value type every producer (estimate, tracker, compressed variant) returns and the
report consumes. FLOPs, GPU-hours, wall-clock, energy (IT and facility, by component), CO2e and dollars, each a
low/central/high range, with provenance.

Arithmetic (pure functions):
- facility energy  = IT energy x PUE                        (The Green Grid, PUE definition)
- carbon           = facility energy (kWh) x intensity (g/kWh) / 1000 -> kg CO2e
- dollars          = GPU-hours x price per GPU-hour, or kWh x price per kWh (+ hardware amortisation)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Union

from ._checks import check_number

QUANTITIES = ("flops", "gpu_hours", "duration_s", "energy_kwh", "co2e_kg", "cost_usd")


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

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.low, self.central, self.high)


Number = Union[float, int, Range]


# --- conversions (pure) ---------------------------------------------------------------------------------------

def facility_energy(it_energy_kwh: Number, pue: Number) -> Range:
    """Facility energy = IT energy x PUE (PUE >= 1 by definition)."""
    return Range.of(it_energy_kwh) * pue


def energy_to_co2e(energy_kwh: Number, intensity_g_per_kwh: Number, pue: Number = 1.0) -> Range:
    """kg CO2e = energy (kWh) x PUE x grid intensity (gCO2e/kWh) / 1000.

    Pass IT energy with the data centre's PUE, or facility energy with pue=1.
    """
    return Range.of(energy_kwh) * pue * intensity_g_per_kwh / 1000.0


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


# --- the value type ---------------------------------------------------------------------------------------------

class Bounds:
    """One end (or the centre) of a footprint: the six quantities as plain floats or None."""

    __slots__ = QUANTITIES

    def __init__(self, **values: float | None):
        for q in QUANTITIES:
            setattr(self, q, values.get(q))

    def to_dict(self) -> dict[str, float | None]:
        return {q: getattr(self, q) for q in QUANTITIES}

    def __repr__(self) -> str:
        return "Bounds(" + ", ".join(f"{q}={getattr(self, q)!r}" for q in QUANTITIES) + ")"


@dataclass
class Footprint:
    """What some work costs. Central values are attributes (`fp.co2e_kg`); `fp.low` / `fp.high` hold the ends.

    `ranges` maps each known quantity to its Range (absent = not computable from the inputs; `missing` then
    says which input would complete it). `energy_kwh` is facility energy (PUE applied); `it_energy_kwh` and
    `energy_by_component_kwh` (gpu, cpu, memory) are IT energy before PUE.
    """

    ranges: dict[str, Range] = field(default_factory=dict)
    it_energy_kwh: Range | None = None
    energy_by_component_kwh: dict[str, Range] = field(default_factory=dict)
    pue: Range | None = None
    intensity_g_per_kwh: Range | None = None
    method: str = "estimated"            # 'estimated' or 'measured'
    hardware: str | None = None          # accelerator model and count, e.g. '1024 x A100 SXM4 80GB'
    zone: str | None = None              # grid zone id
    inputs: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        unknown = set(self.ranges) - set(QUANTITIES)
        if unknown:
            raise ValueError(f"unknown footprint quantities {sorted(unknown)}; known: {QUANTITIES}")

    def _end(self, which: str) -> Bounds:
        return Bounds(**{q: getattr(r, which) for q, r in self.ranges.items()})

    @property
    def central(self) -> Bounds:
        return self._end("central")

    @property
    def low(self) -> Bounds:
        return self._end("low")

    @property
    def high(self) -> Bounds:
        return self._end("high")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: central values at top level, `low`/`high` with the same keys, then provenance."""
        out: dict[str, Any] = self.central.to_dict()
        out["low"] = self.low.to_dict()
        out["high"] = self.high.to_dict()
        out["it_energy_kwh"] = _r(self.it_energy_kwh)
        out["energy_by_component_kwh"] = {k: _r(v) for k, v in self.energy_by_component_kwh.items()}
        out["pue"] = _r(self.pue)
        out["intensity_g_per_kwh"] = _r(self.intensity_g_per_kwh)
        out["method"] = self.method
        out["hardware"] = self.hardware
        out["zone"] = self.zone
        out["inputs"] = dict(self.inputs)
        out["sources"] = dict(self.sources)
        out["missing"] = dict(self.missing)
        out.update(self.extra)
        return out


def _quantity_property(name: str):
    def get(self: Footprint) -> float | None:
        r = self.ranges.get(name)
        return None if r is None else r.central
    get.__doc__ = f"Central {name} (None when not computable)."
    return property(get)


for _q in QUANTITIES:
    setattr(Footprint, _q, _quantity_property(_q))


def _r(r: Range | None) -> dict[str, float] | None:
    return None if r is None else {"low": r.low, "central": r.central, "high": r.high}


def add(a: Footprint, b: Footprint, **kw) -> Footprint:
    """Sum of two footprints (e.g. training + inference): quantities known in both are added."""
    ranges = {q: a.ranges[q] + b.ranges[q] for q in QUANTITIES if q in a.ranges and q in b.ranges}
    it = a.it_energy_kwh + b.it_energy_kwh if a.it_energy_kwh and b.it_energy_kwh else None
    comps = {k: a.energy_by_component_kwh[k] + b.energy_by_component_kwh[k]
             for k in a.energy_by_component_kwh if k in b.energy_by_component_kwh}
    return Footprint(ranges=ranges, it_energy_kwh=it, energy_by_component_kwh=comps, pue=a.pue,
                     intensity_g_per_kwh=a.intensity_g_per_kwh, method=a.method, hardware=a.hardware, zone=a.zone,
                     sources={**a.sources, **b.sources}, **kw)
