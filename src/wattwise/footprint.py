"""The footprint: the one value type every producer (estimate, tracker, sweep, plan, compressed variant) returns
and every consumer (ledger, card, CLI) reads. FLOPs, GPU-hours, wall-clock, energy (IT and facility, by
component), CO2e and dollars, each a typed `Quantity` (wattwise.quantity): a range, how it was obtained
(measured, counted or estimated) and its basis (the formula or source).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Iterable, Mapping

from ._checks import check_number
from .errors import InvalidValueError
from .quantity import (METHODS, Number, Quantity, Range, cost_from_energy, cost_from_gpu_hours,  # noqa: F401
                       energy_to_co2e, facility_energy)

QUANTITIES = ("flops", "gpu_hours", "duration_s", "energy_kwh", "co2e_kg", "cost_usd")


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
