"""Kept while cli/scaling.py and cli/sweep.py move over: everything here is wattwise.display's."""

from ..display import *  # noqa: F401,F403
from ..display import FORMAT, LABEL, co2e, duration, energy, flops, gpu_hours, parse_quantity, usd  # noqa: F401
from ..display import quantity_span as span  # noqa: F401
