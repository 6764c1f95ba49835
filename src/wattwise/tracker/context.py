"""What a run was given and where it ran, typed: names, location (intensity, PUE), price, accelerator peak,
sources, and the fields the user annotated. `to_dict()` is the run context the ledger stores and
`wattwise.measured.footprint_from_parts` reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..quantity import Quantity


@dataclass
class RunContext:
    name: str | None
    project: str | None
    tags: list[str]
    region: str | None                    # record name of the zone, None when unknown
    location_known: bool
    pue: Quantity
    intensity_g_per_kwh: Quantity
    price: dict | None                    # wattwise.assumptions.Price.to_dict(), None when unknown
    peak_flop_per_s: float | None
    dtype: str
    interval_s: float
    sources: dict[str, str]               # quantity or component -> where its value came from
    extra: dict[str, Any] = field(default_factory=dict)   # annotate(...) fields: command, accuracy, metrics...

    def to_dict(self) -> dict[str, Any]:
        """The flat context dict of ledger records (ranges as {low, central, high}; extra fields at top level)."""
        return {"name": self.name, "project": self.project, "tags": list(self.tags), "region": self.region,
                "location_known": self.location_known, "pue": self.pue.range.to_dict(),
                "intensity_g_per_kwh": self.intensity_g_per_kwh.range.to_dict(), "price": self.price,
                "peak_flop_per_s": self.peak_flop_per_s, "dtype": self.dtype, "interval_s": self.interval_s,
                "sources": dict(self.sources), **self.extra}


def located(tracker, location) -> RunContext:
    """The context of `tracker` from its settings and resolved `location` alone (no price or peak yet): what a
    reading uses before the sampler has done the catalog look-ups of `build`."""
    return RunContext(name=tracker.name, project=tracker.project, tags=list(tracker.tags), region=location.region,
                      location_known=location.known, pue=location.pue,
                      intensity_g_per_kwh=location.intensity_g_per_kwh, price=None, peak_flop_per_s=None,
                      dtype=tracker.dtype, interval_s=tracker.interval_s,
                      sources={"intensity": location.intensity_g_per_kwh.basis, "pue": location.pue.basis},
                      extra=dict(tracker.extra))


def build(tracker, location, gpu_labels: list[str], meter_sources: dict[str, str]) -> RunContext:
    """The context of `tracker` (its settings), given its resolved `location` (`assumptions.Location`), the
    names of the GPUs its meters found and the meters' sources. Catalog look-ups only: call it off the
    caller's path (the sampler thread does)."""
    from .. import assumptions, display
    from ..errors import WattwiseError
    from ..meters.nvml import catalog_gpu
    ctx = located(tracker, location)
    sources = ctx.sources
    acc = tracker._gpu_acc or (catalog_gpu(gpu_labels[0]) if gpu_labels else None)
    peak = None
    if acc is not None:
        try:
            peak = acc.peak(tracker.dtype)
            sources["peak"] = f"{acc.model} peak {tracker.dtype} {display.flop_rate(peak)} ({acc.source})"
        except WattwiseError as e:
            sources["peak"] = str(e)
    pr, why = assumptions.price(acc if gpu_labels or tracker._gpu_acc is not None else None,
                                usd_per_gpu_hour=tracker.usd_per_gpu_hour, usd_per_kwh=tracker.usd_per_kwh)
    sources["cost"] = pr.basis if pr is not None else why
    sources.update(meter_sources)
    ctx.price, ctx.peak_flop_per_s = (pr.to_dict() if pr is not None else None), peak
    return ctx
