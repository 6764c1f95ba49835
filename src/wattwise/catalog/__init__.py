"""Reference data with sources: accelerators, grid zones, PUE presets, GPU prices, CPU TDPs.

Tables ship in wattwise/catalog/data (derived by scripts/derive_catalog.py; licences in data/LICENSES.md)
and load on first lookup with the standard library only.
"""

from .accelerators import DTYPES, Accelerator, gpu, gpus
from .cpus import CPU, cpu, cpus
from .prices import Price, PriceRange, price_range, prices
from .pue import DEFAULT_PRESET, PROVIDER_PRESET, PUEPreset, pue, pue_presets
from .zones import KINDS as ZONE_KINDS, AmbiguousZoneError, Zone, zone, zones

__all__ = ["DTYPES", "Accelerator", "gpu", "gpus", "CPU", "cpu", "cpus", "Price", "PriceRange", "price_range",
           "prices", "DEFAULT_PRESET", "PROVIDER_PRESET", "PUEPreset", "pue", "pue_presets", "ZONE_KINDS", "Zone",
           "AmbiguousZoneError", "zone", "zones"]
