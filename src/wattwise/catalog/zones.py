"""Grid zones and their carbon intensity (gCO2e/kWh): countries (OWID/Ember), US states (EPA eGRID),
Electricity Maps zones (incl. Canadian provinces), and the cloud regions of GCP, AWS and Azure mapped to
their grid. Every record says its year, lifecycle-or-direct basis, accounting and source."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ._lookup import Index, read_table

KINDS = ("country", "us-state", "electricitymaps", "cloud-region")
LICENCE = {
    "zones_countries.csv": "CC BY 4.0 (Our World in Data, based on Ember and Energy Institute)",
    "zones_us_states.csv": "public domain (US EPA eGRID), via codecarbon (MIT)",
    "zones_electricitymaps.csv": "ODbL 1.0 (Electricity Maps)",
    "cloud_regions.csv": "Apache-2.0 (Google Cloud region carbon data); region locations MIT/Apache-2.0",
}


@dataclass(frozen=True)
class Zone:
    zone_id: str
    name: str
    kind: str
    intensity_g_per_kwh: float
    year: int
    basis: str           # 'lifecycle' or 'direct' (operational)
    accounting: str      # 'production', 'consumption' or 'provider-reported'
    source: str
    licence: str
    provider: str = ""   # cloud regions: gcp, aws, azure
    grid_zone: str = ""  # cloud regions of AWS/Azure: the grid zone the value comes from


def _grid_zones() -> list[Zone]:
    zones = []
    for filename, kind in (("zones_countries.csv", "country"), ("zones_us_states.csv", "us-state"),
                           ("zones_electricitymaps.csv", "electricitymaps")):
        for r in read_table(filename):
            zones.append(Zone(r["zone_id"], r["name"], kind, float(r["intensity_g_per_kwh"]), int(r["year"]),
                              r["basis"], r["accounting"], r["source"], LICENCE[filename]))
    return zones


@lru_cache(maxsize=1)
def index() -> Index[Zone]:
    grid = _grid_zones()
    by_id = {z.zone_id: z for z in grid}
    cloud = []
    for r in read_table("cloud_regions.csv"):
        if r["grid_zone"]:
            g = by_id[r["grid_zone"]]
            cloud.append(Zone(r["region"], r["name"], "cloud-region", g.intensity_g_per_kwh, g.year, g.basis,
                              g.accounting, f"{g.source}; region location: {r['source']}", g.licence,
                              provider=r["provider"], grid_zone=g.zone_id))
        else:
            cloud.append(Zone(r["region"], r["name"], "cloud-region", float(r["intensity_g_per_kwh"]),
                              int(r["year"]), r["basis"], "provider-reported", r["source"],
                              LICENCE["cloud_regions.csv"], provider=r["provider"]))

    def names(z: Zone):
        yield z.zone_id
        if z.kind == "cloud-region":
            yield f"{z.provider}:{z.zone_id}"
        elif z.kind == "us-state":
            yield z.name                       # 'West Virginia'
            yield z.zone_id.split("-", 1)[1]   # 'WV'
        elif z.kind == "country":
            yield z.name
        elif z.kind == "electricitymaps":
            yield z.name                       # 'Québec' (after a country of the same name, which wins)

    # Registration order decides who keeps a shared name: ids first, then countries, states, zones, regions.
    return Index("grid zone", [*grid, *cloud], names)


def zone(name: str) -> Zone:
    """Look up a zone: 'US-WV', 'West Virginia', 'CA-QC', 'Québec', 'FRA', 'France', 'us-west1', 'eastus'."""
    return index().get(name)


def zones(search: str | None = None, kind: str | None = None) -> list[Zone]:
    found = index().search(search, lambda z: (z.zone_id, z.name, z.kind, z.provider))
    return [z for z in found if kind is None or z.kind == kind]
