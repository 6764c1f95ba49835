"""What the card's numbers depend on: the methods section (each constant with its source), the grid zones
with their catalog details, and how a FLOPs figure was obtained (counted = measured; 6ND or given = estimated)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..constants import J_PER_KWH, TRAIN_FLOPS_PER_PARAM_TOKEN
from ..errors import WattwiseError
from ..footprint import Footprint, Range
from .figures import range_of
from .model import Constant, Zone

_SOURCE_NAMES = {"energy_gpu": ("GPU energy meter", "GPU energy"), "energy_cpu": ("CPU energy meter", "CPU energy"),
                 "energy_memory": ("memory energy meter", "memory energy"), "flops": ("FLOPs", "training compute")}
_EST_USED = {"flops": "training compute", "throughput": "GPU-hours (achieved FLOP/s per GPU)",
             "power": "IT energy (board power)", "pue": "facility energy", "intensity": "CO2e",
             "cost": "cost", "inference": "inference projection"}
_EST_NAMES = {"flops": "training FLOPs", "throughput": "achieved FLOP/s per GPU", "power": "board power per GPU",
              "intensity": "grid intensity", "pue": "PUE", "cost": "price", "inference": "inference FLOPs"}


def zone_info(zone_id: str, intensity: float | None, fallback_source: str = "") -> Zone:
    """Catalog details of a zone (name, year, basis, source, licence), or what the run recorded."""
    from .. import catalog
    try:
        z = catalog.zone(zone_id)
    except (WattwiseError, KeyError):
        return Zone(zone_id, intensity_g_per_kwh=intensity, source=fallback_source or "recorded with the run")
    return Zone(z.zone_id, z.name, intensity if intensity is not None else z.intensity_g_per_kwh, z.year, z.basis,
                fallback_source or z.source, z.licence)


def zone_source(z: Zone) -> str:
    parts = [x for x in (z.name, str(z.year) if z.year else None, z.basis, z.source,
                         f"licence {z.licence}" if z.licence else None) if x]
    return "; ".join(parts)


def dedup(items: list[Constant]) -> list[Constant]:
    """The constants in order, each (name, value, source) once."""
    seen, out = set(), []
    for c in items:
        key = (c.name, c.value, c.source)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def flops_kind(source: str) -> tuple[str, str]:
    """(method, basis) of a FLOPs figure from its source text: counted (measured), 6ND or given (estimated)."""
    s = (source or "").lower()
    if not s or "count" in s or "trac" in s:
        return "measured", "counted" + (f": {source}" if source else " by the tracker")
    if "6 n d" in s or "6nd" in s or "c = 6" in s:
        return "estimated", f"6ND: {source}"
    if s == "given":
        return "estimated", "given by the user"
    return "estimated", source


def run_flops_kind(ctx: Mapping[str, Any], sources: Mapping[str, str]) -> tuple[str, str]:
    """FLOPs of a tracked run: declared by `extra={"flops_method": "counted" | "6ND"}` or a `flops` source,
    else reported through `step(flops=...)` without saying how they were obtained."""
    declared = str(ctx.get("flops_method") or "").lower()
    if declared in ("counted", "traced", "measured"):
        return "measured", "counted" + (f": {sources['flops']}" if sources.get("flops") else " (declared by the run)")
    if declared in ("6nd", "6 n d", "formula", "estimated"):
        return "estimated", "6ND" + (f": {sources['flops']}" if sources.get("flops") else " (declared by the run)")
    if sources.get("flops"):
        return flops_kind(sources["flops"])
    return "estimated", "reported to the tracker by step(flops=...); counted or 6ND not recorded"


def run_constants(records: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Zone], list[Range], list[str],
                                                                 list[Constant]]:
    """Zones, distinct PUE ranges, price bases and the methods list of ledger run records."""
    zones: dict[str, Zone] = {}
    pues: list[Range] = []
    price_basis: list[str] = []
    methods: list[Constant] = []
    for rec in records:
        ctx = rec.get("context") or {}
        src = ((rec.get("provenance") or {}).get("sources") or {}) | (ctx.get("sources") or {})
        if rec.get("region") and rec["region"] not in zones:
            zones[rec["region"]] = zone_info(rec["region"], rec.get("intensity_g_per_kwh"), src.get("intensity", ""))
        elif not rec.get("region") and rec.get("intensity_g_per_kwh") is not None:
            unknown = ctx.get("location_known") is False
            key = "unknown" if unknown else f"intensity {rec['intensity_g_per_kwh']:g}"
            zones.setdefault(key, Zone("unknown" if unknown else "(given)",
                                       "location unknown: world average" if unknown else None,
                                       rec["intensity_g_per_kwh"], source=src.get("intensity", "given")))
        pr = range_of(ctx.get("pue"))
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
                                    src.get("peak", "recorded with the run"), float(ctx["peak_flop_per_s"]),
                                    unit="FLOP/s"))
    for z in zones.values():
        methods.append(Constant(f"grid intensity {z.zone_id}", "CO2e = facility energy x intensity",
                                zone_source(z), z.intensity_g_per_kwh, unit="gCO2e/kWh"))
    methods.append(Constant("GPU-hours", "GPU-hours", "number of GPUs metered x measured wall-clock (ledger)"))
    methods.append(Constant("joules per kWh", "energy units", "SI definition (1 kWh = 3.6 MJ)", J_PER_KWH,
                            unit="J/kWh"))
    return zones, pues, price_basis, methods


def estimate_constants(fp: Footprint, zones: Sequence[Zone], flops_basis: str) -> list[Constant]:
    """The methods list of an estimate: one entry per source it names, then the zones' intensities."""
    methods: list[Constant] = []
    for key, text in fp.sources.items():
        c = Constant(_EST_NAMES.get(key, key.replace("_", " ")), _EST_USED.get(key, key.replace("_", " ")), text)
        if key == "pue" and fp.pue is not None:
            c.value, c.low, c.high = fp.pue.central, fp.pue.low, fp.pue.high
        elif key == "intensity" and fp.intensity_g_per_kwh is not None:
            c.value, c.unit = fp.intensity_g_per_kwh.central, "gCO2e/kWh"
        elif key == "flops" and flops_basis.startswith("6ND"):
            c.value, c.unit = TRAIN_FLOPS_PER_PARAM_TOKEN, "FLOPs/(param token)"
        methods.append(c)
    for z in zones:
        if "intensity" not in fp.sources:
            methods.append(Constant(f"grid intensity {z.zone_id}", "CO2e", zone_source(z), z.intensity_g_per_kwh,
                                    unit="gCO2e/kWh"))
    return methods
