"""The Green AI efficiency card (Schwartz et al. 2020): re-exports of the card's modules, kept so that
`wattwise.report.card` stays importable.

- model.py          Card, Figure, Zone, Constant, RunRow, Series (the model every renderer reads; to_dict)
- figures.py        figures from ranges; sums, scaling and addition of figures
- from_runs.py      card_from_runs: the card of ledger runs
- from_estimate.py  card_from_estimate: the card of an estimate; footprint_from_dict
- methods.py        the methods list (constants with sources), zone details, how FLOPs were obtained
- pareto_table.py   the Pareto table
- projection.py     inference projection of measured runs
- series.py         energy and power over time (plots)
- build.py          build_card: reads the ledger
"""

from __future__ import annotations

from ..constants import INFER_FLOPS_PER_PARAM_TOKEN, J_PER_KWH
from .build import build_card
from .from_estimate import card_from_estimate, footprint_from_dict
from .from_runs import card_from_runs
from .model import (COMPONENTS, LABELS, METHODS, RUN_KEYS, SCHEMA_VERSION, TOTAL_KEYS, UNITS, Card, Constant, Figure,
                    RunRow, Series, Zone)
from .pareto_table import COST_UNITS
from .projection import INFER_KEYS
from .series import MAX_SERIES, MAX_SERIES_POINTS

__all__ = ["COMPONENTS", "COST_UNITS", "INFER_FLOPS_PER_PARAM_TOKEN", "INFER_KEYS", "J_PER_KWH", "LABELS", "METHODS",
           "MAX_SERIES", "MAX_SERIES_POINTS", "RUN_KEYS", "SCHEMA_VERSION", "TOTAL_KEYS", "UNITS", "Card", "Constant",
           "Figure", "RunRow", "Series", "Zone", "build_card", "card_from_estimate", "card_from_runs",
           "footprint_from_dict"]
