"""Where to run: the same job's CO2e and dollars across grid zones, sorted, with the ratio to the best.

Location is a first-order decision: the grid's carbon intensity spans two orders of magnitude across zones
while the job's energy stays the same (up to the provider's PUE for cloud regions).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import catalog
from .errors import InvalidValueError, MissingInputError
from .estimator import estimate
from .footprint import Footprint


@dataclass(frozen=True)
class Placement:
    zone: catalog.Zone
    footprint: Footprint
    ratio_to_best: float  # CO2e central / lowest non-zero CO2e central among the zones (1.0 for that zone)


def where(*, zones: list[str] | None = None, kind: str | None = None, **job) -> list[Placement]:
    """Estimate `job` (the arguments of `estimate`, without region/intensity) in each zone, lowest CO2e first.

    `zones`: names to compare (default: every zone in the catalog, or every zone of `kind`).
    """
    if "region" in job or "intensity_g_per_kwh" in job:
        raise InvalidValueError("where() chooses the region itself; drop region/intensity_g_per_kwh")
    if kind is not None and kind not in catalog.ZONE_KINDS:
        raise InvalidValueError(f"unknown zone kind {kind!r}; accepted: {', '.join(catalog.ZONE_KINDS)}")
    chosen = [catalog.zone(z) for z in zones] if zones else catalog.zones(kind=kind)
    if not chosen:
        raise InvalidValueError("no zones to compare")
    rows = []
    for z in dict.fromkeys(chosen):  # keep order, drop repeats
        fp = estimate(region=z.key, **job)
        if fp.co2e_kg is None:
            raise MissingInputError(f"cannot compare zones: CO2e is not computable ({fp.missing.get('co2e_kg')}); "
                                    f"energy: {fp.missing.get('energy_kwh', 'ok')}")
        rows.append((z, fp))
    rows.sort(key=lambda r: (r[1].co2e_kg, r[0].zone_id))
    # the yardstick is the lowest non-zero CO2e: a zone reported at 0 g/kWh (OWID has one) would make every
    # ratio infinite; zero zones then show a ratio of 0
    positive = [fp.co2e_kg for _, fp in rows if fp.co2e_kg > 0]
    best = positive[0] if positive else 0.0
    return [Placement(z, fp, fp.co2e_kg / best if best > 0 else 1.0) for z, fp in rows]
