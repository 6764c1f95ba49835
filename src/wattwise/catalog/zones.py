"""Grid zones and their carbon intensity (gCO2e/kWh): countries (OWID/Ember), US states (EPA eGRID),
Electricity Maps zones (incl. Canadian provinces), and the cloud regions of GCP, AWS and Azure mapped to
their grid. Every record says its year, lifecycle-or-direct basis, accounting and source.

How a name resolves (`zone`), first rule that matches wins:

1. an exact catalog id, any case: 'DE', 'FRA', 'US-CA', 'CA-QC', 'US-CAL-CISO', 'us-east-1', 'eastus';
   a bare cloud region id held by two providers is an error naming both ('aws:x', 'gcp:x');
2. a qualified name: 'aws:us-east-1', 'gcp:us-west1', 'azure:eastus', 'em:US-AK' (Electricity Maps);
3. 'UK' = GB (ISO 3166-1 has no UK);
4. an ISO 3166-1 alpha-2 code that is no id (the 2-letter ids are Electricity Maps' national zones) is that
   country in Our World in Data: 'CL' -> CHL. Two letters are never a US state: 'WV' is an error that suggests
   'US-WV', and 'DE', 'IN', 'GA', 'CA' are Germany, India, Gabon and Canada;
5. a name, any case and accents optional: a country ('France', 'United Kingdom'), a US state ('California',
   'West Virginia') or an Electricity Maps zone ('Québec'). A name that is a country and a US state ('Georgia')
   is an error listing both;
6. the same, ignoring punctuation and spaces ('ca_qc', 'westvirginia'); a form that two records share is an
   error listing their exact spellings ('USWEST1': 'us-west-1' or 'us-west1').

A country by its 2-letter code or its name is one zone: Electricity Maps' national zone where there is one
(consumption-based, 'FR'), else Our World in Data's row (production-based, 'CHL'); its 3-letter code is always
Our World in Data's row ('FRA'). The zone's id and source say which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..errors import InvalidValueError, UnknownNameError, closest
from ._lookup import normalize, read_table

KINDS = ("country", "us-state", "electricitymaps", "cloud-region")
LICENCE = {
    "zones_countries.csv": "CC BY 4.0 (Our World in Data, based on Ember and Energy Institute)",
    "zones_us_states.csv": "public domain (US EPA eGRID), via codecarbon (MIT)",
    "zones_electricitymaps.csv": "ODbL 1.0 (Electricity Maps)",
    "cloud_regions.csv": "Apache-2.0 (Google Cloud region carbon data); region locations MIT/Apache-2.0",
}
PROVIDERS = ("aws", "gcp", "azure")
_QUALIFIERS = {"em": "electricitymaps", "electricitymaps": "electricitymaps", "owid": "country",
               "country": "country", "egrid": "us-state", "us-state": "us-state"}
# Codes people write for a country that ISO 3166-1 spells otherwise.
COUNTRY_ALIASES = {"UK": "GB"}
_KIND_LABEL = {"country": "country, Our World in Data", "us-state": "US state, EPA eGRID",
               "electricitymaps": "Electricity Maps", "cloud-region": "cloud region"}


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

    @property
    def key(self) -> str:
        """The spelling that resolves back to exactly this zone: 'aws:us-east-1' for cloud regions,
        'em:US-AK' for the two Electricity Maps zones whose id is also a US state's ('US-AK', 'US-HI'),
        else the id."""
        if self.kind == "cloud-region":
            return f"{self.provider}:{self.zone_id}"
        if self.kind == "electricitymaps" and self.zone_id in _shadowed_ids():
            return f"em:{self.zone_id}"
        return self.zone_id

    @property
    def label(self) -> str:
        """'DE (Germany, Electricity Maps)', 'US-DE (Delaware, US state, EPA eGRID)': the id, what and whose."""
        what = f"cloud region, {self.provider}" if self.kind == "cloud-region" else _KIND_LABEL[self.kind]
        return f"{self.key} ({self.name}, {what})"


class AmbiguousZoneError(InvalidValueError):
    """A name that fits several zones; `candidates` are the spellings that pick each one."""

    def __init__(self, name: str, candidates: list[Zone], why: str = ""):
        self.name = name
        self.candidates = [z.key for z in candidates]
        listed = "; ".join(z.label for z in candidates)
        spell = " or ".join(repr(k) for k in self.candidates)
        super().__init__(f"ambiguous region {name!r}{' (' + why + ')' if why else ''}: it could be {listed}; "
                         f"write {spell}")


def _grid_zones() -> list[Zone]:
    zones = []
    for filename, kind in (("zones_countries.csv", "country"), ("zones_us_states.csv", "us-state"),
                           ("zones_electricitymaps.csv", "electricitymaps")):
        for r in read_table(filename):
            zones.append(Zone(r["zone_id"], r["name"], kind, float(r["intensity_g_per_kwh"]), int(r["year"]),
                              r["basis"], r["accounting"], r["source"], LICENCE[filename]))
    return zones


def _cloud_zones(by_id: dict[str, Zone]) -> list[Zone]:
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
    return cloud


_ALPHA2 = re.compile(r"^[A-Za-z]{2}$")


class _Resolver:
    def __init__(self):
        grid = _grid_zones()
        # grid zones an AWS/Azure region points at: a US state before an Electricity Maps zone of the same id
        by_id: dict[str, Zone] = {}
        for z in grid:
            by_id.setdefault(z.zone_id, z)
        cloud = _cloud_zones(by_id)
        self.records: list[Zone] = [*grid, *cloud]

        # 1. ids (any case). A US state keeps 'US-AK'/'US-HI' over the Electricity Maps zone of that id.
        rank = {"us-state": 0, "country": 1, "electricitymaps": 2, "cloud-region": 3}
        self.ids: dict[str, list[Zone]] = {}
        for z in self.records:
            self.ids.setdefault(z.zone_id.lower(), []).append(z)
        for k, zs in self.ids.items():
            zs.sort(key=lambda z: rank[z.kind])
        self.shadowed = {zs[0].zone_id for zs in self.ids.values()
                         if len([z for z in zs if z.kind != "cloud-region"]) > 1}

        # 2. qualified names
        self.qualified: dict[tuple[str, str], Zone] = {}
        for z in self.records:
            q = z.provider if z.kind == "cloud-region" else z.kind
            self.qualified.setdefault((q, z.zone_id.lower()), z)

        # countries: ISO alpha-2 -> the country's zone (Electricity Maps national zone, else OWID)
        em_national = {z.zone_id: z for z in grid if z.kind == "electricitymaps" and len(z.zone_id) == 2}
        self.country_by_alpha2: dict[str, Zone] = dict(em_national)
        self.owid_alpha2: dict[str, str] = {}
        for r in read_table("zones_countries.csv"):
            owid = by_id[r["zone_id"]]
            self.owid_alpha2[r["zone_id"]] = r["alpha2"]
            self.country_by_alpha2.setdefault(r["alpha2"], owid)
        self.states_by_code = {z.zone_id.split("-", 1)[1]: z for z in grid if z.kind == "us-state"}

        # 5. names -> candidate zones, per category
        self.names: dict[str, dict[str, list[Zone]]] = {}

        def add(name: str, category: str, z: Zone) -> None:
            bucket = self.names.setdefault(name.lower(), {}).setdefault(category, [])
            if z not in bucket:
                bucket.append(z)

        for z in grid:
            if z.kind == "country":
                add(z.name, "country", self.country_by_alpha2[self.owid_alpha2[z.zone_id]])
            elif z.kind == "electricitymaps" and len(z.zone_id) == 2:
                add(z.name, "country", z)
            elif z.kind == "us-state":
                add(z.name, "us-state", z)
            else:
                add(z.name, "zone", z)
        self.norm: dict[str, dict[str, list[Zone]]] = {}
        for name, cats in self.names.items():
            for cat, zs in cats.items():
                for z in zs:
                    bucket = self.norm.setdefault(normalize(name), {}).setdefault(cat, [])
                    if z not in bucket:
                        bucket.append(z)
        # 6. ids and qualified ids without punctuation -> their exact spellings
        self.norm_ids: dict[str, list[str]] = {}
        for z in self.records:
            for spelling in (z.zone_id, f"{z.provider}:{z.zone_id}" if z.provider else ""):
                if spelling:
                    bucket = self.norm_ids.setdefault(normalize(spelling), [])
                    if spelling not in bucket:
                        bucket.append(spelling)
        self.display = sorted({*(z.zone_id for z in self.records), *(z.name for z in grid),
                               *(f"{z.provider}:{z.zone_id}" for z in cloud)}, key=str.lower)

    # -- the rules, in order ---------------------------------------------------------------------------------

    def _by_id(self, key: str, name: str) -> Zone | None:
        zs = self.ids.get(key.lower())
        if not zs:
            return None
        grid = [z for z in zs if z.kind != "cloud-region"]
        if grid:
            return grid[0]
        if len(zs) > 1:
            raise AmbiguousZoneError(name, zs, "a cloud region of more than one provider")
        return zs[0]

    def _by_name(self, cats: dict[str, list[Zone]], name: str) -> Zone | None:
        top = cats.get("country", []) + cats.get("us-state", [])
        if len(top) > 1:
            raise AmbiguousZoneError(name, top, "a country and a US state")
        if top:
            return top[0]
        zs = cats.get("zone", [])
        if len(zs) > 1:
            raise AmbiguousZoneError(name, zs)
        return zs[0] if zs else None

    def resolve(self, name: str) -> Zone:
        if not isinstance(name, str) or not name.strip():
            raise UnknownNameError("grid zone", str(name), [])
        key = name.strip()
        z = self._by_id(key, name)
        if z is not None:
            return z
        if ":" in key:
            prefix, rest = (p.strip() for p in key.split(":", 1))
            q = prefix.lower() if prefix.lower() in PROVIDERS else _QUALIFIERS.get(prefix.lower())
            if q is not None:
                z = self.qualified.get((q, rest.lower()))
                if z is None:
                    z = self._qualified_loosely(q, rest)
                if z is not None:
                    return z
                raise UnknownNameError(f"{prefix.lower()} zone" if q not in PROVIDERS else f"{q} region", rest,
                                       self._suggest(rest, q))
        code = COUNTRY_ALIASES.get(key.upper())
        if code is not None:
            return self.country_by_alpha2[code]
        if _ALPHA2.match(key):
            z = self.country_by_alpha2.get(key.upper())
            if z is not None:
                return z
            state = self.states_by_code.get(key.upper())
            if state is not None:
                raise _state_code_error(key, state)
        cats = self.names.get(key.lower())
        if cats:
            z = self._by_name(cats, name)
            if z is not None:
                return z
        n = normalize(key)
        spellings = self.norm_ids.get(n, [])
        if len(spellings) == 1:
            return self.resolve(spellings[0])
        if len(spellings) > 1:
            raise AmbiguousZoneError(name, sorted({self.resolve(s) for s in spellings}, key=lambda z: z.key),
                                     "it matches several ids up to punctuation")
        cats = self.norm.get(n)
        if cats:
            z = self._by_name(cats, name)
            if z is not None:
                return z
        raise UnknownNameError("grid zone", name, self._suggest(key))

    def _qualified_loosely(self, q: str, rest: str) -> Zone | None:
        hits = [z for (qq, _), z in self.qualified.items() if qq == q and normalize(z.zone_id) == normalize(rest)]
        return hits[0] if len(hits) == 1 else None

    def _suggest(self, key: str, qualifier: str | None = None) -> list[str]:
        pool = self.display
        if qualifier is not None:
            pool = [z.zone_id for z in self.records
                    if (z.provider if z.kind == "cloud-region" else z.kind) == qualifier]
        by_lower = {}
        for s in pool:
            by_lower.setdefault(s.lower(), s)
        return [by_lower[s] for s in closest(key.lower(), list(by_lower))]


def _state_code_error(code: str, state: Zone) -> UnknownNameError:
    err = UnknownNameError("grid zone", code, [state.zone_id])
    err.args = (f"unknown grid zone {code!r}: two letters name a country (ISO 3166-1) and the catalog has no "
                f"country {code.upper()!r}; for the US state {state.name} write {state.zone_id!r}",)
    return err


@lru_cache(maxsize=1)
def _resolver() -> _Resolver:
    return _Resolver()


def _shadowed_ids() -> set[str]:
    return _resolver().shadowed


class _Index:
    """The zone table as the other catalog tables expose it (records, search)."""

    kind = "grid zone"

    def __init__(self, resolver: _Resolver):
        self.records = resolver.records
        self._resolver = resolver

    def __iter__(self):
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def get(self, name: str) -> Zone:
        return self._resolver.resolve(name)

    def search(self, text, fields):
        if not text:
            return list(self.records)
        needle = normalize(text)
        return [r for r in self.records if any(needle in normalize(f) for f in fields(r) if f)]


@lru_cache(maxsize=1)
def index() -> _Index:
    return _Index(_resolver())


def zone(name: str) -> Zone:
    """Look up a zone: 'DE' (Germany), 'US-CA', 'California', 'CA-QC', 'Québec', 'FRA', 'France', 'UK',
    'us-west1', 'aws:us-east-1', 'eastus'. The rules are in this module's docstring; an ambiguous name is an
    AmbiguousZoneError (an InvalidValueError) naming the candidates, an unknown one an UnknownNameError."""
    return _resolver().resolve(name)


def zones(search: str | None = None, kind: str | None = None) -> list[Zone]:
    found = index().search(search, lambda z: (z.zone_id, z.name, z.kind, z.provider))
    return [z for z in found if kind is None or z.kind == kind]
