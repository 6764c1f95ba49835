"""Power Usage Effectiveness presets (facility energy / IT energy): per provider and industry averages,
each with a low/high range and its published source (data/pue.csv)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ._lookup import Index, read_table

DEFAULT_PRESET = "industry-average"
PROVIDER_PRESET = {"gcp": "gcp", "aws": "aws", "azure": "azure"}


@dataclass(frozen=True)
class PUEPreset:
    preset: str
    operator: str
    scope: str
    pue: float
    low: float
    high: float
    period: str
    source: str
    notes: str


@lru_cache(maxsize=1)
def index() -> Index[PUEPreset]:
    recs = [PUEPreset(r["preset"], r["operator"], r["scope"], float(r["pue"]), float(r["low"]), float(r["high"]),
                      r["period"], r["source"], r["notes"]) for r in read_table("pue.csv")]
    aliases = {"gcp": ["google", "google-cloud"], "aws": ["amazon"], "azure": ["microsoft"],
               "industry-average": ["industry", "average", "uptime"], "on-premises": ["onprem", "on-prem"]}
    return Index("PUE preset", recs, lambda p: (p.preset, *aliases.get(p.preset, [])))


def pue(name: str = DEFAULT_PRESET) -> PUEPreset:
    return index().get(name)


def pue_presets(search: str | None = None) -> list[PUEPreset]:
    return index().search(search, lambda p: (p.preset, p.operator, p.scope))
