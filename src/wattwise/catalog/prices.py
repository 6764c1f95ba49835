"""Cloud GPU prices: on-demand USD per GPU-hour, dated, one row per offer (data/prices.csv)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..errors import WattwiseError
from ._lookup import read_table, normalize
from .accelerators import gpu


@dataclass(frozen=True)
class Price:
    accelerator_id: str
    provider: str
    provisioning: str
    usd_per_gpu_hour: float
    product: str
    region: str
    as_of: str
    source: str
    licence: str


@dataclass(frozen=True)
class PriceRange:
    """Spread of on-demand offers for one GPU: low = cheapest, central = median, high = dearest."""
    accelerator_id: str
    low: float
    central: float
    high: float
    offers: int
    as_of: str  # newest date among the offers
    source: str


def _median(values: list[float]) -> float:
    xs = sorted(values)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


@lru_cache(maxsize=1)
def _all() -> list[Price]:
    return [Price(r["accelerator_id"], r["provider"], r["provisioning"], float(r["usd_per_gpu_hour"]),
                  r["product"], r["region"], r["as_of"], r["source"], r["licence"]) for r in read_table("prices.csv")]


def prices(gpu_name: str | None = None, provider: str | None = None, search: str | None = None) -> list[Price]:
    rows = _all()
    if gpu_name:
        gid = gpu(gpu_name).accelerator_id
        rows = [p for p in rows if p.accelerator_id == gid]
    if provider:
        rows = [p for p in rows if normalize(p.provider) == normalize(provider)]
    if search:
        needle = normalize(search)
        rows = [p for p in rows if any(needle in normalize(f) for f in (p.accelerator_id, p.provider, p.product))]
    return rows


def price_range(gpu_name: str, provider: str | None = None) -> PriceRange:
    """On-demand price spread for a GPU (optionally one provider's offers)."""
    offers = [p for p in prices(gpu_name, provider) if p.provisioning == "on-demand"]
    acc = gpu(gpu_name)
    if not offers:
        known = sorted({p.accelerator_id for p in _all()})
        raise WattwiseError(f"no on-demand price known for {acc.model}"
                            f"{' at ' + provider if provider else ''}; give --price-per-gpu-hour, "
                            f"or pick a GPU with prices: {', '.join(known)}")
    values = [p.usd_per_gpu_hour for p in offers]
    providers = sorted({p.provider for p in offers})
    return PriceRange(acc.accelerator_id, min(values), _median(values), max(values), len(values),
                      max(p.as_of for p in offers),
                      f"median of {len(values)} on-demand offers ({', '.join(providers)}), catalog prices.csv")
