"""What the card's numbers depend on: the methods section (each constant with its source), the grid zones
with their catalog details."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..constants import FLOPS_SOURCE, J_PER_KWH, TRAIN_FLOPS_PER_PARAM_TOKEN
from ..errors import WattwiseError
from ..footprint import Footprint, Quantity, Range
from .model import Constant, Zone

_SOURCE_NAMES = {"energy_gpu": ("GPU energy meter", "GPU energy"), "energy_cpu": ("CPU energy meter", "CPU energy"),
                 "energy_memory": ("memory energy meter", "memory energy"), "flops": ("FLOPs", "training compute")}
_EST_USED = {"flops": "training compute", "throughput": "GPU-hours (achieved FLOP/s per GPU)",
             "power": "IT energy (board power)", "pue": "facility energy", "intensity": "CO2e",
             "cost": "cost", "inference": "inference projection", "scope": "IT energy (scope of power)",
             "embodied": "CO2e (embodied carbon)", "market": "market-based CO2e (Scope 2)",
             "parts": "every total (sum of parts)"}
_EST_NAMES = {"flops": "training FLOPs", "throughput": "achieved FLOP/s per GPU", "power": "board power per GPU",
              "intensity": "grid intensity", "pue": "PUE", "cost": "price", "inference": "inference FLOPs",
              "scope": "power scope", "embodied": "embodied carbon per unit, life and utilisation",
              "market": "market-based intensity", "parts": "parts of the job"}


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
    """The zone's name, year and basis (those its source text does not already say), source and licence."""
    src = z.source or ""
    parts = [x for x in (z.name, str(z.year) if z.year else None, z.basis) if x and x not in src]
    parts += [x for x in (src, f"licence {z.licence}" if z.licence else None) if x]
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


def flops_basis(q: Quantity, source: str = "") -> str:
    """The card's wording of how FLOPs were obtained, from the quantity's method and basis (or `source` when
    the quantity has no basis): 'counted: ...', '6ND: ...', 'given by the user', or the basis itself."""
    b = q.basis or source
    if q.method in ("counted", "measured"):
        return b if b.startswith("counted") else "counted" + (f": {b}" if b else " by the tracker")
    if b == "given":
        return "given by the user"
    if b.startswith(FLOPS_SOURCE):
        return f"6ND: {b}"
    return b


def meter_source(fp: Footprint, component: str) -> str:
    """The source text of a component's meter, without the 'measured: ' / 'estimated: ' label."""
    q = fp.energy_by_component_kwh.get(component)
    if q is not None and q.basis:
        return q.basis
    text = fp.sources.get(f"energy_{component}", "")
    head, sep, rest = text.partition(": ")
    return rest if sep and (head in ("measured", "estimated") or head.startswith("mixed")) else text


def run_constants(runs: Sequence[tuple[Footprint, Mapping[str, Any]]]) -> tuple[dict[str, Zone], list[Range],
                                                                               list[str], list[Constant]]:
    """Zones, distinct PUE ranges, price bases and the methods list of runs, each a (footprint, context) pair:
    the context gives what a footprint does not hold (the price, the peak FLOP/s, whether the location is known)."""
    zones: dict[str, Zone] = {}
    pues: list[Range] = []
    price_basis: list[str] = []
    methods: list[Constant] = []
    for fp, ctx in runs:
        src = {k: meter_source(fp, k[len("energy_"):]) if k.startswith("energy_") else v
               for k, v in fp.sources.items()}
        inten = None if fp.intensity_g_per_kwh is None else float(fp.intensity_g_per_kwh)
        if fp.zone and fp.zone not in zones:
            zones[fp.zone] = zone_info(fp.zone, inten, src.get("intensity", ""))
        elif not fp.zone and inten is not None:
            unknown = ctx.get("location_known") is False
            key = "unknown" if unknown else f"intensity {inten:g}"
            zones.setdefault(key, Zone("unknown" if unknown else "(given)",
                                       "location unknown: world average" if unknown else None,
                                       inten, source=src.get("intensity", "given")))
        pr = None if fp.pue is None else fp.pue.range
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
