"""The card model: one number (`Figure`), the grid zones, the constants with their sources, the listed runs,
the energy series and the `Card` every renderer reads. `to_dict()` gives the JSON of schema `wattwise.card/v1`.

Every figure carries low/central/high and a method flag: `measured` (from this work's meters and clock),
`estimated` (from a model before or instead of measuring), `mixed` (parts of each) or `missing`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable

SCHEMA_VERSION = "wattwise.card/v1"
METHODS = ("measured", "estimated", "mixed", "missing")
TOTAL_KEYS = ("flops", "gpu_hours", "duration_s", "it_energy_kwh", "energy_kwh", "co2e_kg", "cost_usd")
RUN_KEYS = ("flops", "gpu_hours", "duration_s", "energy_kwh", "co2e_kg", "cost_usd")
COMPONENTS = ("gpu", "cpu", "memory")
UNITS = {"flops": "FLOPs", "gpu_hours": "GPU-h", "duration_s": "s", "it_energy_kwh": "kWh", "energy_kwh": "kWh",
         "co2e_kg": "kg CO2e", "cost_usd": "USD", "gpu": "kWh", "cpu": "kWh", "memory": "kWh"}
LABELS = {"flops": "Training compute", "gpu_hours": "GPU-hours", "duration_s": "Wall-clock",
          "it_energy_kwh": "Energy, IT (before PUE)", "energy_kwh": "Energy, facility (x PUE)",
          "co2e_kg": "Carbon (CO2e)", "cost_usd": "Cost", "gpu": "GPU", "cpu": "CPU", "memory": "Memory"}


# --- the model ----------------------------------------------------------------------------------------------------

@dataclass
class Figure:
    """One number of the card: central with low/high, its unit, and how it was obtained."""

    key: str
    unit: str
    central: float | None = None
    low: float | None = None
    high: float | None = None
    method: str = "missing"       # measured | estimated | mixed | missing
    basis: str = ""               # how: 'counted by the tracker', '6ND', 'GPUs x wall-clock', ...
    runs_counted: int | None = None  # runs that contributed (run cards only)
    runs_total: int | None = None
    # the Quantity.method(s) behind the figure (measured, estimated, counted, mixed): a counted FLOPs figure is
    # `measured` in the JSON (a count of the work) but its badge says `counted`. Not part of the JSON.
    source_method: str | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return LABELS.get(self.key, self.key)

    @property
    def known(self) -> bool:
        return self.central is not None

    @property
    def badge(self) -> str:
        """The word of the figure's badge: `lower bound` when only some runs contributed, `counted` when every
        part was counted, else the method (measured, estimated, mixed, missing)."""
        if not self.known:
            return "missing"
        if self.partial:
            return "lower bound"
        if self.source_method == "counted" and self.method in ("measured", "estimated"):
            return "counted"
        return self.method

    @property
    def partial(self) -> bool:
        """True when only some of the card's runs contributed (the total is then a lower bound)."""
        return self.runs_total is not None and self.runs_counted is not None and 0 < self.runs_counted < self.runs_total

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "central": self.central, "low": self.low, "high": self.high,
                "method": self.method, "basis": self.basis, "runs_counted": self.runs_counted,
                "runs_total": self.runs_total}


@dataclass
class Zone:
    """A grid zone used by the card's work, with its intensity and where that number comes from."""

    zone_id: str
    name: str | None = None
    intensity_g_per_kwh: float | None = None
    year: int | None = None
    basis: str | None = None      # lifecycle or direct
    source: str = ""
    licence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Constant:
    """One constant (or method) the card's numbers depend on, with its source."""

    name: str
    used_for: str
    source: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "used_for": self.used_for, "value": self.value, "low": self.low,
                "high": self.high, "unit": self.unit, "source": self.source}


@dataclass
class RunRow:
    """One ledger run as listed on the card."""

    id: str
    name: str | None
    project: str | None
    tags: list[str]
    status: str
    start_utc: str | None
    end_utc: str | None
    hardware: str | None
    zone: str | None
    world_size: int | None
    error: str | None
    figures: dict[str, Figure]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "project": self.project, "tags": list(self.tags),
                "status": self.status, "start_utc": self.start_utc, "end_utc": self.end_utc,
                "hardware": self.hardware, "zone": self.zone, "world_size": self.world_size, "error": self.error,
                "figures": {k: f.to_dict() for k, f in self.figures.items()}}


@dataclass
class Series:
    """Cumulative IT energy and mean power over time of one rank of one run (from the ledger's samples)."""

    run_id: str
    name: str | None
    rank: int
    t_s: list[float]
    energy_kwh: list[float]
    power_w: list[float | None]   # mean power over the interval ending at t_s[i]; None for the first point

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Card:
    """The efficiency card. `to_dict()` is the JSON of schema `wattwise.card/v1` (report/schema/card-v1.json)."""

    title: str
    kind: str                                  # 'runs' or 'estimate'
    generator: str
    selection: dict[str, Any]
    totals: dict[str, Figure]
    energy_by_component: dict[str, Figure]
    hardware: list[str]
    zones: list[Zone]
    pue: Figure | None
    price_basis: list[str]
    period: dict[str, str | None]
    counts: dict[str, int]
    runs: list[RunRow]
    methods: list[Constant]
    inference: dict[str, Any] | None = None
    pareto: dict[str, Any] | None = None
    series: list[Series] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION, "title": self.title, "kind": self.kind, "generator": self.generator,
            "selection": dict(self.selection), "period": dict(self.period), "counts": dict(self.counts),
            "totals": {k: f.to_dict() for k, f in self.totals.items()},
            "energy_by_component_kwh": {k: f.to_dict() for k, f in self.energy_by_component.items()},
            "pue": self.pue.to_dict() if self.pue else None,
            "hardware": list(self.hardware), "zones": [z.to_dict() for z in self.zones],
            "price_basis": list(self.price_basis), "runs": [r.to_dict() for r in self.runs],
            "methods": [c.to_dict() for c in self.methods], "inference": _inference_dict(self.inference),
            "pareto": self.pareto, "series": [s.to_dict() for s in self.series], "notes": list(self.notes),
            "warnings": list(self.warnings),
        }

    def render(self, fmt: str = "md", **options) -> str:
        """This card as text in one of FORMATS (md, json, latex, html, modelcard)."""
        from . import render
        return render(self, fmt, **options)


def _inference_dict(inf: dict[str, Any] | None) -> dict[str, Any] | None:
    if inf is None:
        return None
    out = {k: v for k, v in inf.items() if k not in ("training", "inference", "lifetime")}
    for part in ("training", "inference", "lifetime"):
        out[part] = {k: f.to_dict() for k, f in inf[part].items()}
    return out



def combine_methods(methods: Iterable[str]) -> str:
    """One method flag for figures combined from parts: the common one, `mixed`, or `missing` if none."""
    s = {m for m in methods if m and m != "missing"}
    if not s:
        return "missing"
    return s.pop() if len(s) == 1 else "mixed"


def utc(ts: float | None) -> str | None:
    """A UNIX timestamp as ISO 8601 UTC (None for none)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)) if ts else None


def generator_name() -> str:
    from .. import __version__
    return f"wattwise {__version__}"
