"""The Green AI efficiency card: one model that every renderer reads.

What it holds follows Schwartz et al. 2020 ("Green AI", CACM 63(12)): total training FLOPs (counted, or 6ND,
saying which), GPU-hours and hardware type, wall-clock, energy by component with PUE, CO2e with the grid zone,
its intensity, year and source, dollars with the price basis. Every figure carries low/central/high and a method
flag: `measured` (from this work's meters and clock), `estimated` (from a model before or instead of measuring),
`mixed` (parts of each) or `missing`. The conversion factors (PUE, grid intensity, price) are constants listed,
with their sources, in the methods section.

Builders:
- `card_from_runs(records)`: ledger run records (dicts from `Ledger.runs()` / `Ledger.run()`); failed runs and
  sweep trials are counted in the totals and listed, because all the compute spent counts.
- `card_from_estimate(fp)`: a Footprint from `wattwise.estimate(...)`.
- `build_card(...)`: either of the two, reading a ledger by project, tag or run ids.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from ..errors import InvalidValueError, MissingInputError, WattwiseError
from ..footprint import QUANTITIES, Footprint, Range

SCHEMA_VERSION = "wattwise.card/v1"
METHODS = ("measured", "estimated", "mixed", "missing")
J_PER_KWH = 3.6e6  # SI: 1 kWh = 3.6 MJ
TOTAL_KEYS = ("flops", "gpu_hours", "duration_s", "it_energy_kwh", "energy_kwh", "co2e_kg", "cost_usd")
RUN_KEYS = ("flops", "gpu_hours", "duration_s", "energy_kwh", "co2e_kg", "cost_usd")
COMPONENTS = ("gpu", "cpu", "memory")
UNITS = {"flops": "FLOPs", "gpu_hours": "GPU-h", "duration_s": "s", "it_energy_kwh": "kWh", "energy_kwh": "kWh",
         "co2e_kg": "kg CO2e", "cost_usd": "USD", "gpu": "kWh", "cpu": "kWh", "memory": "kWh"}
LABELS = {"flops": "Training compute", "gpu_hours": "GPU-hours", "duration_s": "Wall-clock",
          "it_energy_kwh": "Energy, IT (before PUE)", "energy_kwh": "Energy, facility (x PUE)",
          "co2e_kg": "Carbon (CO2e)", "cost_usd": "Cost", "gpu": "GPU", "cpu": "CPU", "memory": "Memory"}
# Pareto cost axis field -> unit (fields of wattwise.pareto.COST_AXES)
COST_UNITS = {"flops_per_sample": "FLOPs/sample", "flops": "FLOPs", "latency_s": "s", "latency_median_s": "s",
              "compiled_latency_s": "s", "energy_per_1000_kwh": "kWh/1000 inferences", "energy_kwh": "kWh",
              "size_bytes": "bytes", "bytes": "bytes", "cost_usd": "USD", "dollars": "USD", "params": "parameters"}
INFER_FLOPS_PER_PARAM_TOKEN = 2.0  # forward pass, Kaplan et al. 2020 Sec. 2.1 (same as wattwise.defaults)
MAX_SERIES_POINTS = 200
MAX_SERIES = 24


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

    @property
    def label(self) -> str:
        return LABELS.get(self.key, self.key)

    @property
    def known(self) -> bool:
        return self.central is not None

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


# --- helpers --------------------------------------------------------------------------------------------------------

def _combine(methods: Iterable[str]) -> str:
    s = {m for m in methods if m and m != "missing"}
    if not s:
        return "missing"
    return s.pop() if len(s) == 1 else "mixed"


def _utc(ts: float | None) -> str | None:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)) if ts else None


def _fig(key: str, r: Range | None, method: str, basis: str = "", unit: str | None = None) -> Figure:
    unit = unit or UNITS[key]
    if r is None:
        return Figure(key, unit, method="missing", basis=basis)
    return Figure(key, unit, r.central, r.low, r.high, method, basis)


def _sum(key: str, figs: Sequence[Figure], basis: str, n_total: int | None) -> Figure:
    known = [f for f in figs if f.known]
    if not known:
        return Figure(key, UNITS[key], method="missing", basis=basis, runs_counted=0 if n_total else None,
                      runs_total=n_total)
    low = sum(f.low if f.low is not None else f.central for f in known)
    high = sum(f.high if f.high is not None else f.central for f in known)
    return Figure(key, UNITS[key], sum(f.central for f in known), low, high, _combine(f.method for f in known),
                  basis, len(known), n_total)


def _rng(d: Mapping | None) -> Range | None:
    if not d:
        return None
    try:
        return Range(float(d["low"]), float(d["central"]), float(d["high"]))
    except (KeyError, TypeError, ValueError):
        return None


def _zone_info(zone_id: str, intensity: float | None, fallback_source: str = "") -> Zone:
    """Catalog details of a zone (name, year, basis, source, licence), or what the run recorded."""
    from .. import catalog
    try:
        z = catalog.zone(zone_id)
    except (WattwiseError, KeyError):
        return Zone(zone_id, intensity_g_per_kwh=intensity, source=fallback_source or "recorded with the run")
    return Zone(z.zone_id, z.name, intensity if intensity is not None else z.intensity_g_per_kwh, z.year, z.basis,
                fallback_source or z.source, z.licence)


def _flops_kind(source: str) -> tuple[str, str]:
    """(method, basis) of a FLOPs figure from its source text: counted (measured), 6ND or given (estimated)."""
    s = (source or "").lower()
    if not s or "count" in s or "trac" in s:
        return "measured", "counted" + (f": {source}" if source else " by the tracker")
    if "6 n d" in s or "6nd" in s or "c = 6" in s:
        return "estimated", f"6ND: {source}"
    if s == "given":
        return "estimated", "given by the user"
    return "estimated", source


def _run_flops_kind(ctx: Mapping[str, Any], sources: Mapping[str, str]) -> tuple[str, str]:
    """FLOPs of a tracked run: declared by `extra={"flops_method": "counted" | "6ND"}` or a `flops` source,
    else reported through `step(flops=...)` without saying how they were obtained."""
    declared = str(ctx.get("flops_method") or "").lower()
    if declared in ("counted", "traced", "measured"):
        return "measured", "counted" + (f": {sources['flops']}" if sources.get("flops") else " (declared by the run)")
    if declared in ("6nd", "6 n d", "formula", "estimated"):
        return "estimated", "6ND" + (f": {sources['flops']}" if sources.get("flops") else " (declared by the run)")
    if sources.get("flops"):
        return _flops_kind(sources["flops"])
    return "estimated", "reported to the tracker by step(flops=...); counted or 6ND not recorded"


# --- footprint <-> dict ---------------------------------------------------------------------------------------------

def footprint_from_dict(d: Mapping[str, Any]) -> Footprint:
    """Rebuild a Footprint from `Footprint.to_dict()` (what `wattwise estimate --json` prints)."""
    if not isinstance(d, Mapping):
        raise InvalidValueError(f"an estimate must be a JSON object (from `wattwise estimate --json`), "
                                f"got {type(d).__name__}")
    low, high = d.get("low") or {}, d.get("high") or {}
    ranges = {}
    for q in QUANTITIES:
        c = d.get(q)
        if c is not None:
            lo, hi = low.get(q, c), high.get(q, c)
            ranges[q] = Range(float(lo if lo is not None else c), float(c), float(hi if hi is not None else c))
    if not ranges:
        raise InvalidValueError("this JSON holds no footprint quantity (flops, gpu_hours, duration_s, energy_kwh, "
                                "co2e_kg, cost_usd); give the output of `wattwise estimate --json`")
    known = set(QUANTITIES) | {"low", "high", "it_energy_kwh", "energy_by_component_kwh", "pue",
                               "intensity_g_per_kwh", "method", "hardware", "zone", "inputs", "sources", "missing"}
    return Footprint(
        ranges=ranges, it_energy_kwh=_rng(d.get("it_energy_kwh")),
        energy_by_component_kwh={k: r for k, v in (d.get("energy_by_component_kwh") or {}).items()
                                 if (r := _rng(v)) is not None},
        pue=_rng(d.get("pue")), intensity_g_per_kwh=_rng(d.get("intensity_g_per_kwh")),
        method=d.get("method") or "estimated", hardware=d.get("hardware"), zone=d.get("zone"),
        inputs=dict(d.get("inputs") or {}), sources=dict(d.get("sources") or {}),
        missing=dict(d.get("missing") or {}), extra={k: v for k, v in d.items() if k not in known})


# --- runs -----------------------------------------------------------------------------------------------------------

def _record_footprint(rec: Mapping[str, Any]) -> Footprint:
    from ..ledger import to_footprint
    return to_footprint(dict(rec))


def _energy_method(rec: Mapping[str, Any]) -> str:
    comps = (rec.get("provenance") or {}).get("components") or {}
    kinds = {("measured" if v == "measured" else "estimated" if v == "estimated" else "mixed") for v in comps.values()}
    return _combine(kinds) if kinds else "measured"


def _run_figures(rec: Mapping[str, Any], fp: Footprint) -> dict[str, Figure]:
    prov = rec.get("provenance") or {}
    sources = prov.get("sources") or {}
    ctx = rec.get("context") or {}
    e_method = _energy_method(rec)
    f_method, f_basis = _run_flops_kind(ctx, sources)
    price = ctx.get("price") or {}
    cost_method = "measured" if price.get("per") == "gpu_hour" else e_method
    figs = {
        "flops": _fig("flops", fp.ranges.get("flops"), f_method, f_basis),
        "gpu_hours": _fig("gpu_hours", fp.ranges.get("gpu_hours"), "measured", "GPUs x measured wall-clock"),
        "duration_s": _fig("duration_s", fp.ranges.get("duration_s"), "measured", "first start to last end"),
        "it_energy_kwh": _fig("it_energy_kwh", fp.it_energy_kwh, e_method, "meters, each device counted once"),
        "energy_kwh": _fig("energy_kwh", fp.ranges.get("energy_kwh"), e_method, "IT energy x PUE"),
        "co2e_kg": _fig("co2e_kg", fp.ranges.get("co2e_kg"), e_method, "facility energy x grid intensity"),
        "cost_usd": _fig("cost_usd", fp.ranges.get("cost_usd"), cost_method,
                         "GPU-hours x price" if price.get("per") == "gpu_hour" else "facility energy x price"),
    }
    comps = prov.get("components") or {}
    for c, r in fp.energy_by_component_kwh.items():
        kind = comps.get(c, "measured")
        figs[c] = _fig(c, r, kind if kind in ("measured", "estimated") else "mixed",
                       sources.get(f"energy_{c}", ""))
    return figs


def _series(rec: Mapping[str, Any], samples: Sequence[Mapping[str, Any]]) -> list[Series]:
    by_rank: dict[int, list[Mapping]] = {}
    for s in samples:
        by_rank.setdefault(int(s.get("rank") or 0), []).append(s)
    start = rec.get("start_ts")
    out = []
    for rank in sorted(by_rank):
        rows = sorted(by_rank[rank], key=lambda s: s["t_s"])
        if len(rows) > MAX_SERIES_POINTS:
            step = (len(rows) - 1) / (MAX_SERIES_POINTS - 1)
            rows = [rows[round(i * step)] for i in range(MAX_SERIES_POINTS)]
        absolute = start is not None and rows and rows[0]["t_s"] >= start - 1.0 and rows[0]["t_s"] > 1e8
        t = [float(s["t_s"]) - (start if absolute else 0.0) for s in rows]
        e = [sum(float(s.get(k) or 0.0) for k in ("energy_gpu_j", "energy_cpu_j", "energy_memory_j")) / J_PER_KWH
             for s in rows]
        p: list[float | None] = [None]
        for i in range(1, len(rows)):
            dt = t[i] - t[i - 1]
            p.append((e[i] - e[i - 1]) * J_PER_KWH / dt if dt > 0 else None)
        out.append(Series(rec["id"], rec.get("name"), rank, t, e, p))
    return out


def card_from_runs(records: Sequence[Mapping[str, Any]], *, footprints: Sequence[Footprint] | None = None,
                   samples: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
                   selection: Mapping[str, Any] | None = None, title: str | None = None,
                   variants: Sequence[Any] | None = None, cost_axis: str = "energy", accuracy: str = "accuracy",
                   higher_is_better: bool = True, inference: Mapping[str, float] | None = None,
                   generator: str | None = None) -> Card:
    """The card of ledger runs (all of them counted: failed, interrupted and sweep trials too).

    `footprints` default to the ledger's record -> Footprint conversion; `samples` maps run id to its ledger
    samples (for the energy/power plots); `variants` (mappings with name, accuracy and a cost field) give the
    Pareto table, else runs whose context holds an accuracy are compared; `inference` = {params, tokens} or
    {params, tokens_per_day, days} projects serving cost at the runs' measured energy per FLOP.
    """
    records = list(records)
    if not records:
        raise MissingInputError("no runs to report on; check the run ids, --project or --tag "
                                "(`wattwise runs list` shows what the ledger holds)")
    fps = list(footprints) if footprints is not None else [_record_footprint(r) for r in records]
    if len(fps) != len(records):
        raise InvalidValueError(f"{len(records)} run records but {len(fps)} footprints; give one footprint per run")
    n = len(records)
    rows: list[RunRow] = []
    per_run: list[dict[str, Figure]] = []
    warnings: list[str] = []
    for rec, fp in zip(records, fps):
        figs = _run_figures(rec, fp)
        per_run.append(figs)
        prov = rec.get("provenance") or {}
        errors = [p.get("error") for p in prov.get("parts", []) if p.get("error")]
        rows.append(RunRow(id=str(rec["id"]), name=rec.get("name"), project=rec.get("project"),
                           tags=list(rec.get("tags") or []), status=str(rec.get("status") or "unknown"),
                           start_utc=_utc(rec.get("start_ts")), end_utc=_utc(rec.get("end_ts")),
                           hardware=rec.get("hardware"), zone=rec.get("region"),
                           world_size=rec.get("world_size"), error="; ".join(errors) or None,
                           figures={k: figs[k] for k in RUN_KEYS}))
        for w in prov.get("warnings") or []:
            warnings.append(f"run {rec['id']}: {w}")

    bases = {"flops": "sum over runs", "gpu_hours": "sum over runs of GPUs x measured wall-clock",
             "duration_s": "sum of run wall-clocks (runs may have overlapped)",
             "it_energy_kwh": "sum over runs of metered energy, each device counted once per run",
             "energy_kwh": "sum over runs of IT energy x PUE", "co2e_kg": "sum over runs of facility energy x grid "
             "intensity", "cost_usd": "sum over runs of GPU-hours (or energy) x price"}
    totals = {k: _sum(k, [f[k] for f in per_run], bases[k], n) for k in TOTAL_KEYS}
    f_kinds = {f["flops"].basis.split(":")[0] for f in per_run if f["flops"].known}
    if f_kinds:
        totals["flops"].basis = f"sum over runs ({', '.join(sorted(f_kinds))})"
    comps = {c: _sum(c, [f[c] for f in per_run if c in f], f"sum over runs of {LABELS[c]} energy", n)
             for c in COMPONENTS if any(c in f for f in per_run)}
    for c, fig in comps.items():
        fig.runs_counted = sum(1 for f in per_run if c in f and f[c].known)
        srcs = sorted({f[c].basis for f in per_run if c in f and f[c].basis})
        fig.basis = "; ".join(srcs) if srcs else fig.basis

    # location, PUE, price
    zones: dict[str, Zone] = {}
    pues: list[Range] = []
    price_basis: list[str] = []
    methods: list[Constant] = []
    for rec in records:
        ctx = rec.get("context") or {}
        src = ((rec.get("provenance") or {}).get("sources") or {}) | (ctx.get("sources") or {})
        if rec.get("region") and rec["region"] not in zones:
            zones[rec["region"]] = _zone_info(rec["region"], rec.get("intensity_g_per_kwh"), src.get("intensity", ""))
        elif not rec.get("region") and rec.get("intensity_g_per_kwh") is not None:
            unknown = ctx.get("location_known") is False
            key = "unknown" if unknown else f"intensity {rec['intensity_g_per_kwh']:g}"
            zones.setdefault(key, Zone("unknown" if unknown else "(given)",
                                       "location unknown: world average" if unknown else None,
                                       rec["intensity_g_per_kwh"], source=src.get("intensity", "given")))
        pr = _rng(ctx.get("pue"))
        if pr is not None and pr not in pues:
            pues.append(pr)
            methods.append(Constant("PUE", "facility energy = IT energy x PUE", src.get("pue", "recorded with the run"),
                                    pr.central, pr.low, pr.high, ""))
        price = ctx.get("price")
        if price:
            per = "GPU-hour" if price.get("per") == "gpu_hour" else "kWh"
            text = f"{price.get('central')} USD per {per}"
            if price.get("low") != price.get("high"):
                text += f" ({price.get('low')}-{price.get('high')})"
            text += f"; {src.get('cost', 'recorded with the run')}"
            if text not in price_basis:
                price_basis.append(text)
                methods.append(Constant(f"price per {per}", "cost", src.get("cost", "recorded with the run"),
                                        price.get("central"), price.get("low"), price.get("high"), f"USD/{per}"))
        for key, text in sorted(src.items()):
            if key in ("pue", "intensity", "cost", "peak"):
                continue
            name, used = _SOURCE_NAMES.get(key, (key.replace("_", " "), key.replace("_", " ")))
            methods.append(Constant(name, used, text))
        if ctx.get("peak_flop_per_s"):
            methods.append(Constant("peak FLOP/s per GPU", "MFU = achieved FLOP/s / (peak x GPUs)",
                                    src.get("peak", "recorded with the run"), float(ctx["peak_flop_per_s"]), unit="FLOP/s"))
    for z in zones.values():
        methods.append(Constant(f"grid intensity {z.zone_id}", "CO2e = facility energy x intensity",
                                _zone_source(z), z.intensity_g_per_kwh, unit="gCO2e/kWh"))
    methods.append(Constant("GPU-hours", "GPU-hours", "number of GPUs metered x measured wall-clock (ledger)"))
    methods.append(Constant("joules per kWh", "energy units", "SI definition (1 kWh = 3.6 MJ)", J_PER_KWH,
                            unit="J/kWh"))
    pue_fig = None
    if len(pues) == 1:
        pue_fig = Figure("pue", "", pues[0].central, pues[0].low, pues[0].high, "estimated",
                         methods[0].source if methods and methods[0].name == "PUE" else "")
    elif pues:
        pue_fig = Figure("pue", "", sum(p.central for p in pues) / len(pues), min(p.low for p in pues),
                         max(p.high for p in pues), "estimated", f"{len(pues)} different PUE values (per run)")
        warnings.append(f"runs used {len(pues)} different PUE values; each run's energy uses its own")

    counts: dict[str, int] = {"runs": n}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    running = [r.id for r in rows if r.status == "running"]
    if running:
        warnings.append(f"{len(running)} run(s) still running ({', '.join(running)}): their figures are so far")
    for k in ("co2e_kg", "cost_usd", "flops", "energy_kwh"):
        f = totals[k]
        if f.partial:
            warnings.append(f"{f.label}: known for {f.runs_counted} of {n} runs; the total is a lower bound")
    if len(zones) > 1:
        warnings.append(f"runs ran in {len(zones)} grid zones: " + ", ".join(zones))
    for c, fig in comps.items():
        if fig.method in ("estimated", "mixed"):
            warnings.append(f"{LABELS[c]} energy is {fig.method}, not (only) metered: {fig.basis}")

    sel = dict(selection or {})
    starts = [r.get("start_ts") for r in records if r.get("start_ts")]
    ends = [r.get("end_ts") or r.get("updated_ts") for r in records if r.get("end_ts") or r.get("updated_ts")]
    period = {"start_utc": _utc(min(starts)) if starts else None, "end_utc": _utc(max(ends)) if ends else None}
    failed = sum(v for k, v in counts.items() if k in ("failed", "interrupted", "lost"))
    notes = [f"All {n} run{'s' if n != 1 else ''} are counted in the totals"
             + (f", including {failed} that did not finish" if failed else "")
             + ": the Green AI principle (Schwartz et al. 2020) counts all the compute spent, sweeps and failures "
             "included.",
             "Measured = from these runs' meters and clock; PUE, grid intensity and prices are constants (see "
             "Methods) that convert measured energy and GPU-hours into facility energy, CO2e and dollars."]

    hw_runs: dict[str, int] = {}
    for r in records:
        if r.get("hardware"):
            hw_runs[r["hardware"]] = hw_runs.get(r["hardware"], 0) + 1
    hardware = [f"{h} ({k} run{'s' if k != 1 else ''})" for h, k in sorted(hw_runs.items())]
    series: list[Series] = []
    for rec in records:
        if samples and samples.get(rec["id"]):
            series.extend(_series(rec, samples[rec["id"]]))
    if len(series) > MAX_SERIES:
        warnings.append(f"plots show the first {MAX_SERIES} of {len(series)} run/rank series")
        series = series[:MAX_SERIES]

    if variants is None:
        variants = _run_variants(records, fps)
    pareto = _pareto(variants, cost_axis, accuracy, higher_is_better) if variants else None

    inf = None
    if inference:
        inf = _project_runs_inference(totals, inference)
        methods.append(Constant("inference FLOPs per parameter per token", "inference projection",
                                "forward pass 2 N FLOPs per token (Kaplan et al. 2020, Sec. 2.1)",
                                INFER_FLOPS_PER_PARAM_TOKEN, unit="FLOPs/(param token)"))
    if pareto:
        methods.append(Constant("Pareto dominance", "Pareto table", "Schwartz et al. 2020 (Green AI): A beats B "
                                "when at least as accurate and cheaper, or more accurate at no more cost"))

    return Card(title=title or _title(sel, rows), kind="runs", generator=generator or _generator(), selection=sel,
                totals=totals, energy_by_component=comps, hardware=hardware, zones=list(zones.values()),
                pue=pue_fig, price_basis=price_basis, period=period, counts=counts, runs=rows,
                methods=_dedup(methods), inference=inf, pareto=pareto, series=series, notes=notes,
                warnings=warnings)


_SOURCE_NAMES = {"energy_gpu": ("GPU energy meter", "GPU energy"), "energy_cpu": ("CPU energy meter", "CPU energy"),
                 "energy_memory": ("memory energy meter", "memory energy"), "flops": ("FLOPs", "training compute")}


def _zone_source(z: Zone) -> str:
    parts = [x for x in (z.name, str(z.year) if z.year else None, z.basis, z.source,
                         f"licence {z.licence}" if z.licence else None) if x]
    return "; ".join(parts)


def _dedup(items: list[Constant]) -> list[Constant]:
    seen, out = set(), []
    for c in items:
        key = (c.name, c.value, c.source)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _generator() -> str:
    from .. import __version__
    return f"wattwise {__version__}"


def _title(sel: Mapping[str, Any], rows: list[RunRow]) -> str:
    if sel.get("project") and sel.get("tag"):
        return f"Efficiency card: project {sel['project']}, tag {sel['tag']}"
    if sel.get("project"):
        return f"Efficiency card: project {sel['project']}"
    if sel.get("tag"):
        return f"Efficiency card: tag {sel['tag']}"
    if len(rows) == 1:
        return f"Efficiency card: run {rows[0].name or rows[0].id}"
    return f"Efficiency card: {len(rows)} runs"


def _run_variants(records, fps) -> list[dict[str, Any]]:
    """Runs whose context holds an accuracy (`accuracy` or `metrics.accuracy`) as Pareto variants."""
    out = []
    for rec, fp in zip(records, fps):
        ctx = rec.get("context") or {}
        acc = ctx.get("accuracy", (ctx.get("metrics") or {}).get("accuracy"))
        if acc is None:
            continue
        out.append({"name": rec.get("name") or rec["id"], "accuracy": acc, "energy_kwh": fp.energy_kwh,
                    "flops": fp.flops, "cost_usd": fp.cost_usd, "latency_s": None})
    return out if len(out) >= 2 else []


def _pareto(variants: Sequence[Any], cost_axis: str, accuracy: str, higher_is_better: bool) -> dict[str, Any]:
    from .. import pareto
    fields = pareto.axis_fields(cost_axis)
    items = list(variants)

    def get(item, key):
        return item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)

    used = next((f for f in fields if all(get(it, f) is not None for it in items)), None)
    if used is None:
        used = next((f for f in fields if any(get(it, f) is not None for it in items)), fields[0])
    doms = pareto.dominators(items, cost=used, accuracy=accuracy, higher_is_better=higher_is_better)
    names = [str(get(it, "name")) if get(it, "name") is not None else f"#{i}" for i, it in enumerate(items)]
    rows = [{"name": names[i], "accuracy": float(get(it, accuracy)), "cost": float(get(it, used)),
             "on_front": not doms[i], "dominated_by": [names[j] for j in doms[i]]} for i, it in enumerate(items)]
    return {"cost_axis": cost_axis, "cost_field": used, "cost_unit": COST_UNITS.get(used, ""),
            "accuracy_field": accuracy, "higher_is_better": higher_is_better,
            "rule": "A beats B when A is at least as accurate and cheaper, or more accurate at no more cost "
                    "(Schwartz et al. 2020)", "rows": rows}


def _scaled(f: Figure, k: float, key: str, method: str, basis: str) -> Figure:
    if not f.known:
        return Figure(key, UNITS[key], method="missing", basis=basis)
    return Figure(key, UNITS[key], f.central * k, (f.low if f.low is not None else f.central) * k,
                  (f.high if f.high is not None else f.central) * k, method, basis)


def _add(a: Figure, b: Figure, key: str) -> Figure:
    if not (a.known and b.known):
        return Figure(key, UNITS[key], method="missing")
    return Figure(key, UNITS[key], a.central + b.central, (a.low or a.central) + (b.low or b.central),
                  (a.high or a.central) + (b.high or b.central), _combine([a.method, b.method]), "training + inference")


INFER_KEYS = ("flops", "gpu_hours", "energy_kwh", "co2e_kg", "cost_usd")


def _project_runs_inference(totals: dict[str, Figure], spec: Mapping[str, float]) -> dict[str, Any]:
    params = spec.get("params")
    if params is None or params <= 0:
        raise InvalidValueError("an inference projection needs params > 0 (serving costs 2 N FLOPs per token), "
                                f"got {params!r}")
    tokens, per_day, days = spec.get("tokens"), spec.get("tokens_per_day"), spec.get("days")
    if tokens is None and per_day is not None and days is not None:
        tokens = per_day * days
    if tokens is None or tokens <= 0:
        raise InvalidValueError("an inference projection needs tokens, or tokens_per_day and days")
    train_flops = totals["flops"]
    if not train_flops.known or not train_flops.central:
        raise MissingInputError("an inference projection of measured runs needs their training FLOPs (record them "
                                "with the tracker); none of these runs has FLOPs")
    infer_flops = INFER_FLOPS_PER_PARAM_TOKEN * params * tokens
    k = infer_flops / train_flops.central
    basis = ("2 N FLOPs per token served; GPU-hours, energy, CO2e and cost scaled by FLOPs from the measured "
             "runs (same hardware, same energy per FLOP)")
    training = {q: totals[q] for q in INFER_KEYS}
    infer = {q: _scaled(totals[q], k, q, "estimated", basis) for q in INFER_KEYS}
    infer["flops"] = Figure("flops", "FLOPs", infer_flops, infer_flops, infer_flops, "estimated", "2 N x tokens")
    life = {q: _add(training[q], infer[q], q) for q in INFER_KEYS}
    return {"params": params, "tokens": tokens, "tokens_per_day": per_day, "days": days, "basis": basis,
            "inference_fraction": infer_flops / (infer_flops + train_flops.central),
            "crossover_day": train_flops.central / (INFER_FLOPS_PER_PARAM_TOKEN * params * per_day)
            if per_day else None,
            "training": training, "inference": infer, "lifetime": life}


# --- estimate -----------------------------------------------------------------------------------------------------

_EST_USED = {"flops": "training compute", "throughput": "GPU-hours (achieved FLOP/s per GPU)",
             "power": "IT energy (board power)", "pue": "facility energy", "intensity": "CO2e",
             "cost": "cost", "inference": "inference projection"}


_EST_NAMES = {"flops": "training FLOPs", "throughput": "achieved FLOP/s per GPU", "power": "board power per GPU",
              "intensity": "grid intensity", "pue": "PUE", "cost": "price", "inference": "inference FLOPs"}


def card_from_estimate(fp: Footprint, *, title: str | None = None, variants: Sequence[Any] | None = None,
                       cost_axis: str = "energy", accuracy: str = "accuracy", higher_is_better: bool = True,
                       generator: str | None = None) -> Card:
    """The card of an estimate (`wattwise.estimate(...)`): every figure is `estimated`, with its range."""
    if not isinstance(fp, Footprint):
        raise InvalidValueError(f"card_from_estimate needs a Footprint (from wattwise.estimate), got "
                                f"{type(fp).__name__}")
    method = fp.method if fp.method in METHODS else "estimated"
    f_method, f_basis = ("estimated", "") if "flops" not in fp.ranges else _flops_kind(fp.sources.get("flops", ""))
    if fp.method == "estimated" and f_method == "measured":
        f_method = "estimated"
    bases = {"flops": f_basis, "gpu_hours": "FLOPs / (peak FLOP/s x MFU) / 3600", "duration_s": "GPU-hours / GPUs",
             "it_energy_kwh": "GPU-hours x board power", "energy_kwh": "IT energy x PUE",
             "co2e_kg": "facility energy x grid intensity", "cost_usd": fp.sources.get("cost", "")}
    if fp.sources.get("throughput", "").startswith("implied") or "gpu_hours" in fp.inputs:
        bases["gpu_hours"] = "given" if "gpu_hours" in fp.inputs else "given duration x GPUs"
    totals = {}
    for k in TOTAL_KEYS:
        r = fp.it_energy_kwh if k == "it_energy_kwh" else fp.ranges.get(k)
        totals[k] = _fig(k, r, f_method if k == "flops" else method, bases[k] if r is not None
                         else fp.missing.get(k, ""))
    comps = {c: _fig(c, r, method, fp.sources.get("power", "")) for c, r in fp.energy_by_component_kwh.items()}
    zones = []
    if fp.zone or fp.intensity_g_per_kwh is not None:
        inten = fp.intensity_g_per_kwh.central if fp.intensity_g_per_kwh else None
        zones.append(_zone_info(fp.zone, inten, "") if fp.zone else
                     Zone("(given)", None, inten, source=fp.sources.get("intensity", "given")))
    methods: list[Constant] = []
    for key, text in fp.sources.items():
        c = Constant(_EST_NAMES.get(key, key.replace("_", " ")), _EST_USED.get(key, key.replace("_", " ")), text)
        if key == "pue" and fp.pue is not None:
            c.value, c.low, c.high = fp.pue.central, fp.pue.low, fp.pue.high
        elif key == "intensity" and fp.intensity_g_per_kwh is not None:
            c.value, c.unit = fp.intensity_g_per_kwh.central, "gCO2e/kWh"
        elif key == "flops" and f_basis.startswith("6ND"):
            c.value, c.unit = 6.0, "FLOPs/(param token)"
        methods.append(c)
    for z in zones:
        if "intensity" not in fp.sources:
            methods.append(Constant(f"grid intensity {z.zone_id}", "CO2e", _zone_source(z), z.intensity_g_per_kwh,
                                    unit="gCO2e/kWh"))
    pue_fig = (Figure("pue", "", fp.pue.central, fp.pue.low, fp.pue.high, "estimated", fp.sources.get("pue", ""))
               if fp.pue is not None else None)
    inf = _estimate_inference(fp, totals) if fp.extra.get("inference") else None
    pareto = _pareto(variants, cost_axis, accuracy, higher_is_better) if variants else None
    if pareto:
        methods.append(Constant("Pareto dominance", "Pareto table", "Schwartz et al. 2020 (Green AI): A beats B "
                                "when at least as accurate and cheaper, or more accurate at no more cost"))
    warnings = [f"{LABELS.get(k, k)}: not computed ({why})" for k, why in fp.missing.items()]
    notes = ["Estimated before (or instead of) running: every figure comes from the inputs and the constants "
             "under Methods, with the low/high range their uncertainty spans. Measure the run with the tracker "
             "to replace it."]
    inputs = {k: v for k, v in fp.inputs.items() if isinstance(v, (int, float, str, bool)) or v is None}
    return Card(title=title or "Efficiency card: estimate", kind="estimate", generator=generator or _generator(),
                selection={"estimate_inputs": inputs}, totals=totals, energy_by_component=comps,
                hardware=[fp.hardware] if fp.hardware else [], zones=zones, pue=pue_fig,
                price_basis=[fp.sources["cost"]] if fp.sources.get("cost") else [],
                period={"start_utc": None, "end_utc": None}, counts={"runs": 0}, runs=[],
                methods=_dedup(methods), inference=inf, pareto=pareto, notes=notes, warnings=warnings)


def _estimate_inference(fp: Footprint, totals: dict[str, Figure]) -> dict[str, Any]:
    inf, life, split = fp.extra["inference"], fp.extra.get("lifetime") or {}, fp.extra.get("split") or {}
    basis = fp.sources.get("inference", "2 N FLOPs per token served")

    def figs(d: Mapping, what: str) -> dict[str, Figure]:
        out = {}
        for q in INFER_KEYS:
            c = d.get(q)
            if c is None:
                out[q] = Figure(q, UNITS[q], method="missing")
            else:
                lo, hi = (d.get("low") or {}).get(q, c), (d.get("high") or {}).get(q, c)
                out[q] = Figure(q, UNITS[q], c, lo, hi, "estimated", what)
        return out

    n = fp.inputs.get("active_params", fp.inputs.get("params"))
    return {"params": n, "tokens": inf.get("tokens"), "tokens_per_day": fp.inputs.get("inference_tokens_per_day"),
            "days": fp.inputs.get("inference_days"), "basis": basis,
            "inference_fraction": split.get("inference_fraction"), "crossover_day": split.get("crossover_day"),
            "training": {q: totals[q] for q in INFER_KEYS}, "inference": figs(inf, basis),
            "lifetime": figs(life, "training + inference")}


# --- from a ledger ----------------------------------------------------------------------------------------------------

def build_card(run_ids: Sequence[str] | None = None, *, project: str | None = None, tag: str | None = None,
               ledger: Any = None, estimate: Footprint | None = None, title: str | None = None,
               variants: Sequence[Any] | None = None, cost_axis: str = "energy", accuracy: str = "accuracy",
               inference: Mapping[str, float] | None = None, plots: bool = True, generator: str | None = None) -> Card:
    """The efficiency card of ledger runs (ids, a project and/or a tag) or of an estimate Footprint.

    `ledger` is a path, an open `wattwise.ledger.Ledger`, or None for the default ledger. Ids may be unique
    prefixes. `plots=False` skips reading samples.
    """
    if estimate is not None:
        if run_ids or project or tag:
            raise InvalidValueError("report on ledger runs (ids, --project, --tag) or on an estimate, not both")
        if inference:
            raise InvalidValueError("an estimate carries its own inference projection: give inference tokens to "
                                    "`wattwise estimate` (--inference-tokens) instead")
        return card_from_estimate(estimate, title=title, variants=variants, cost_axis=cost_axis, accuracy=accuracy,
                                  generator=generator)
    from ..ledger import Ledger, LedgerError, default_path
    own = not isinstance(ledger, Ledger)
    if own:
        path = default_path() if ledger is None else os.fspath(ledger)
        if not os.path.exists(path):
            raise LedgerError(f"no ledger at {path}; record runs with the tracker first, or pass --ledger PATH")
        led = Ledger(path)
    else:
        led = ledger
    try:
        if run_ids:
            records = [led.run(i) for i in run_ids]
            seen: set[str] = set()
            records = [r for r in records if not (r["id"] in seen or seen.add(r["id"]))]
            if project is not None:
                records = [r for r in records if r.get("project") == project]
            if tag is not None:
                records = [r for r in records if tag in (r.get("tags") or [])]
        else:
            records = led.runs(project=project, tag=tag)
        if not records:
            what = " and ".join(x for x in (f"project {project!r}" if project else None,
                                            f"tag {tag!r}" if tag else None) if x) or "anything"
            raise MissingInputError(f"no runs in {led.path} match {what}"
                                    + ("" if run_ids or project or tag else
                                       "; the ledger is empty (record runs with the tracker first)"))
        samples = {r["id"]: led.samples(r["id"]) for r in records} if plots else None
    finally:
        if own:
            led.close()
    selection = {"project": project, "tag": tag, "ids": list(run_ids) if run_ids else None}
    return card_from_runs(records, samples=samples, selection=selection, title=title, variants=variants,
                          cost_axis=cost_axis, accuracy=accuracy, inference=inference, generator=generator)
