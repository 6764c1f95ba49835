"""The footprint: the one value type every producer (estimate, tracker, sweep, plan, compressed variant) returns
and every consumer (ledger, card, CLI) reads. FLOPs, GPU-hours, wall-clock, energy (IT and facility, by
component), CO2e and dollars, each a typed `Quantity`: a range, how it was obtained (measured, counted or
estimated) and its basis (the formula or source).

Arithmetic (pure functions):
- facility energy  = IT energy x PUE                        (The Green Grid, PUE definition)
- carbon           = facility energy (kWh) x intensity (g/kWh) / 1000 -> kg CO2e
- dollars          = GPU-hours x price per GPU-hour, or kWh x price per kWh (+ hardware amortisation)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Iterable, Mapping, Union

from ._checks import check_number
from .constants import G_PER_KG
from .errors import InvalidValueError

QUANTITIES = ("flops", "gpu_hours", "duration_s", "energy_kwh", "co2e_kg", "cost_usd")
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


# keys of Footprint.to_dict() that are not `extra`
_TYPED = ("it_energy_kwh", "pue", "intensity_g_per_kwh")
_META = ("method", "hardware", "zone", "mfu", "flop_per_s", "inputs", "sources", "missing")
_KNOWN_KEYS = set(QUANTITIES) | set(_TYPED) | set(_META) | {"low", "high", "methods", "bases",
                                                             "energy_by_component_kwh", "inference", "lifetime"}


@dataclass(eq=False)
class Footprint:
    """What some work costs. Each quantity is a `Quantity` (a float = its central value, with `.low`,
    `.high`, `.method`, `.basis`) or None when the inputs do not determine it (`missing` then names the input
    that would). `energy_kwh` is facility energy (PUE applied); `it_energy_kwh` and `energy_by_component_kwh`
    (gpu, cpu, memory) are IT energy before PUE. `inference` and `lifetime` (training + inference) are nested
    footprints of a serving projection.
    """

    flops: Quantity | None = None
    gpu_hours: Quantity | None = None
    duration_s: Quantity | None = None
    energy_kwh: Quantity | None = None
    co2e_kg: Quantity | None = None
    cost_usd: Quantity | None = None
    it_energy_kwh: Quantity | None = None
    energy_by_component_kwh: dict[str, Quantity] = field(default_factory=dict)
    pue: Quantity | None = None
    intensity_g_per_kwh: Quantity | None = None
    mfu: float | None = None
    flop_per_s: float | None = None
    method: str = "estimated"            # who produced it: 'estimated' (a model) or 'measured' (the tracker)
    hardware: str | None = None          # accelerator model and count, e.g. '1024 x A100 SXM4 80GB'
    zone: str | None = None              # grid zone id
    inputs: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    inference: "Footprint | None" = None
    lifetime: "Footprint | None" = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        for name in QUANTITIES + _TYPED:
            v = getattr(self, name)
            if v is not None and not isinstance(v, Quantity):
                raise InvalidValueError(f"Footprint.{name} must be a Quantity or None, got {type(v).__name__}; "
                                        "build one with Quantity.of(value, method, basis)")

    @classmethod
    def of(cls, ranges: Mapping[str, Number], method: str = "estimated", bases: Mapping[str, str] | None = None,
           **kw) -> "Footprint":
        """A footprint from plain ranges or numbers of the six quantities, all with one method."""
        unknown = set(ranges) - set(QUANTITIES)
        if unknown:
            raise InvalidValueError(f"unknown footprint quantities {sorted(unknown)}; known: {', '.join(QUANTITIES)}")
        bases = bases or {}
        q = {k: Quantity.of(v, method, bases.get(k, "")) for k, v in ranges.items()}
        return cls(**q, method=method, **kw)

    # views ------------------------------------------------------------------------------------------------------
    def quantities(self) -> dict[str, Quantity]:
        """The known quantities among the six, by name."""
        return {q: v for q in QUANTITIES if (v := getattr(self, q)) is not None}

    @property
    def ranges(self) -> dict[str, Range]:
        return {q: v.range for q, v in self.quantities().items()}

    def _end(self, which: str) -> Bounds:
        return Bounds(**{q: getattr(v, which) for q, v in self.quantities().items()})

    @property
    def central(self) -> Bounds:
        return self._end("central")

    @property
    def low(self) -> Bounds:
        return self._end("low")

    @property
    def high(self) -> Bounds:
        return self._end("high")

    # arithmetic ---------------------------------------------------------------------------------------------------
    def scale(self, k: float) -> "Footprint":
        """The footprint of k times this work (same hardware and location): extensive quantities scale,
        intensive ones (PUE, intensity, MFU, FLOP/s) stay."""
        k = check_number("k", k, allow_zero=True)
        sc = {q: getattr(self, q).scale(k) for q in QUANTITIES + ("it_energy_kwh",) if getattr(self, q) is not None}
        return replace(self, **sc, energy_by_component_kwh={c: v.scale(k) for c, v in
                                                            self.energy_by_component_kwh.items()},
                       inference=self.inference.scale(k) if self.inference else None,
                       lifetime=self.lifetime.scale(k) if self.lifetime else None,
                       inputs=dict(self.inputs), sources=dict(self.sources), missing=dict(self.missing),
                       extra=dict(self.extra))

    def __add__(self, other: "Footprint") -> "Footprint":
        """Sum of two footprints (parts of a job, training + inference): quantities known in both are added,
        the others become missing. Intensive values (PUE, intensity) are kept when they agree."""
        if not isinstance(other, Footprint):
            return NotImplemented
        return add(self, other)

    def __radd__(self, other):
        if other == 0:  # sum() starts from 0
            return self
        return NotImplemented

    # serialisation ------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: central values at top level, `low`/`high` with the same keys, `methods`/`bases` per
        quantity, the typed values (it_energy_kwh, components, pue, intensity) as {low, central, high, method,
        basis}, then provenance; `inference`/`lifetime` nested the same way."""
        out: dict[str, Any] = self.central.to_dict()
        out["low"] = self.low.to_dict()
        out["high"] = self.high.to_dict()
        qs = self.quantities()
        out["methods"] = {q: v.method for q, v in qs.items()}
        out["bases"] = {q: v.basis for q, v in qs.items()}
        for name in _TYPED:
            v = getattr(self, name)
            out[name] = v.to_dict() if v is not None else None
        out["energy_by_component_kwh"] = {k: v.to_dict() for k, v in self.energy_by_component_kwh.items()}
        for name in _META:
            v = getattr(self, name)
            out[name] = dict(v) if isinstance(v, dict) else v
        out["inference"] = self.inference.to_dict() if self.inference is not None else None
        out["lifetime"] = self.lifetime.to_dict() if self.lifetime is not None else None
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Footprint":
        """Rebuild a Footprint from `to_dict()` (what `wattwise estimate --json` prints)."""
        if not isinstance(d, Mapping):
            raise InvalidValueError(f"a footprint must be a JSON object (from `wattwise estimate --json`), "
                                    f"got {type(d).__name__}")
        method = d.get("method") if d.get("method") in ("measured", "estimated") else "estimated"
        low, high = d.get("low") or {}, d.get("high") or {}
        methods, bases = d.get("methods") or {}, d.get("bases") or {}
        if not all(isinstance(x, Mapping) for x in (low, high, methods, bases)):
            raise InvalidValueError("a footprint's low, high, methods and bases must be JSON objects")
        qs: dict[str, Quantity] = {}
        for q in QUANTITIES:
            c = d.get(q)
            if c is None:
                continue
            try:
                c = float(c)
                lo, hi = low.get(q), high.get(q)
                qs[q] = Quantity(c, c if lo is None else float(lo), c if hi is None else float(hi),
                                 method=methods.get(q) or method, basis=bases.get(q) or "")
            except (TypeError, ValueError) as e:
                raise InvalidValueError(f"footprint quantity {q!r} must be a number with low <= central <= high, "
                                        f"got {c!r} ({e})") from None
        comps = d.get("energy_by_component_kwh") or {}
        if not isinstance(comps, Mapping):
            raise InvalidValueError("energy_by_component_kwh must be a JSON object")
        typed = {k: Quantity.from_dict(d.get(k), method) for k in _TYPED}
        meta = {k: d.get(k) for k in _META if k != "method"}
        for k in ("inputs", "sources", "missing"):
            if meta[k] is not None and not isinstance(meta[k], Mapping):
                raise InvalidValueError(f"a footprint's {k} must be a JSON object, got {type(meta[k]).__name__}")
            meta[k] = dict(meta[k] or {})
        nested = {k: cls.from_dict(d[k]) if d.get(k) else None for k in ("inference", "lifetime")}
        return cls(**qs, **typed, **meta, **nested, method=method,
                   energy_by_component_kwh={k: v for k, r in comps.items()
                                            if (v := Quantity.from_dict(r, method)) is not None},
                   extra={k: v for k, v in d.items() if k not in _KNOWN_KEYS})

    def __repr__(self) -> str:
        known = ", ".join(f"{q}={float(v):.4g}" for q, v in self.quantities().items())
        return f"Footprint({self.method}: {known or 'nothing known'})"


def _same(a: Quantity | None, b: Quantity | None) -> Quantity | None:
    """An intensive value kept by a sum: both the same (or one absent), else None."""
    if a is None or b is None:
        return a or b
    return a if a.range == b.range else None


def add(a: Footprint, b: Footprint, **kw) -> Footprint:
    """Sum of two footprints (training + inference, parts of one job): quantities known in both are added."""
    qs = {q: getattr(a, q).plus(getattr(b, q)) for q in QUANTITIES + ("it_energy_kwh",)
          if getattr(a, q) is not None and getattr(b, q) is not None}
    comps = {k: a.energy_by_component_kwh[k].plus(b.energy_by_component_kwh[k])
             for k in a.energy_by_component_kwh if k in b.energy_by_component_kwh}
    missing = {q: (a.missing.get(q) or b.missing.get(q) or "not known for every part")
               for q in QUANTITIES if q not in qs and (getattr(a, q) is not None or getattr(b, q) is not None
                                                       or q in a.missing or q in b.missing)}
    fp = Footprint(**qs, energy_by_component_kwh=comps, pue=_same(a.pue, b.pue),
                   intensity_g_per_kwh=_same(a.intensity_g_per_kwh, b.intensity_g_per_kwh),
                   method=a.method if a.method == b.method else "estimated",
                   hardware=a.hardware if a.hardware == b.hardware else "; ".join(
                       h for h in (a.hardware, b.hardware) if h) or None,
                   zone=a.zone if a.zone == b.zone else None, sources={**b.sources, **a.sources}, missing=missing)
    for k, v in kw.items():
        setattr(fp, k, v)
    return fp


def total(footprints: Iterable[Footprint]) -> Footprint:
    """Sum of footprints (a sweep, a project's runs); an empty iterable is an error."""
    fps = list(footprints)
    if not fps:
        raise InvalidValueError("total() needs at least one footprint")
    out = fps[0]
    for fp in fps[1:]:
        out = out + fp
    return out


def quantity_names() -> tuple[str, ...]:
    """Names of the declared attributes of Footprint (the schema, for documentation and tests)."""
    return tuple(f.name for f in fields(Footprint))
