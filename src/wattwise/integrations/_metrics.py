"""The metric names every integration logs, how they are read from a Footprint, and the guard that turns any
failure into one warning.

Standard library at import; torch and the report load on first use.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

PREFIX = "wattwise/"

# metric name (without the prefix) -> how it is read from a Footprint; the names every integration logs
METRICS: dict[str, Callable[[Any], Any]] = {
    "energy_kwh": lambda fp: fp.energy_kwh,
    "energy_kwh_low": lambda fp: fp.energy_kwh.low if fp.energy_kwh is not None else None,
    "energy_kwh_high": lambda fp: fp.energy_kwh.high if fp.energy_kwh is not None else None,
    "it_energy_kwh": lambda fp: fp.it_energy_kwh,
    "co2e_kg": lambda fp: fp.co2e_kg,
    "co2e_kg_low": lambda fp: fp.co2e_kg.low if fp.co2e_kg is not None else None,
    "co2e_kg_high": lambda fp: fp.co2e_kg.high if fp.co2e_kg is not None else None,
    "cost_usd": lambda fp: fp.cost_usd,
    "duration_s": lambda fp: fp.duration_s,
    "gpu_hours": lambda fp: fp.gpu_hours,
    "flops": lambda fp: fp.flops,
    "flop_per_s": lambda fp: fp.flop_per_s,
    "mfu": lambda fp: fp.mfu,
    "tokens": lambda fp: fp.extra.get("tokens"),
    "tokens_per_s": lambda fp: fp.extra.get("tokens_per_s"),
    "j_per_token": lambda fp: fp.extra.get("j_per_token"),
}

# what the callbacks log per step unless told otherwise (`metrics=` names any of METRICS, or "all")
DEFAULT_METRICS = ("energy_kwh", "co2e_kg", "cost_usd", "mfu", "flop_per_s", "tokens_per_s", "j_per_token")

CARD_FILES = {"md": "wattwise-card.md", "json": "wattwise-card.json", "modelcard": "wattwise-modelcard.md"}


def metric_names(names: "Sequence[str] | str | None") -> tuple[str, ...]:
    """`names` checked against METRICS ("all": every one; None: DEFAULT_METRICS)."""
    from ..errors import InvalidValueError
    if names is None:
        return DEFAULT_METRICS
    if names == "all":
        return tuple(METRICS)
    names = (names,) if isinstance(names, str) else tuple(names)
    bad = [n for n in names if n not in METRICS]
    if bad:
        raise InvalidValueError(f"unknown wattwise metric(s) {', '.join(bad)}; known: {', '.join(METRICS)}")
    return names


def metrics(fp, prefix: str = PREFIX, names: "Sequence[str] | str | None" = "all") -> dict[str, float]:
    """The known values of a footprint as flat floats named `<prefix><name>` (`names` among METRICS, default
    all of them); {} for None."""
    if fp is None:
        return {}
    out: dict[str, float] = {}
    for name in metric_names(names):
        get = METRICS[name]
        try:
            v = get(fp)
        except Exception:  # noqa: BLE001
            v = None
        if v is not None:
            out[prefix + name] = float(v)
    return out


def summary_line(fp) -> str:
    """One line for humans (numbers through `wattwise.display`)."""
    from .. import display
    if fp is None:
        return "wattwise: nothing measured"
    bits = []
    if fp.energy_kwh is not None:
        bits.append(display.energy(float(fp.energy_kwh)))
    if fp.co2e_kg is not None:
        bits.append(display.co2e(float(fp.co2e_kg)))
    if fp.cost_usd is not None:
        bits.append(display.usd(float(fp.cost_usd)))
    if fp.duration_s is not None:
        bits.append(display.duration(float(fp.duration_s)))
    if fp.mfu is not None:
        bits.append(f"MFU {display.percent(fp.mfu)}")
    if fp.extra.get("tokens_per_s"):
        bits.append(f"{display.count(fp.extra['tokens_per_s'])} tokens/s")
    return f"wattwise: run {fp.extra.get('run_id')}: " + (", ".join(bits) or "no energy measured")


class Guard:
    """Runs integration code so that no failure reaches training: the first failure of each hook is one
    `TrackerWarning`, later ones are counted in `failures`."""

    def __init__(self, owner: str):
        self.owner = owner
        self.failures: dict[str, int] = {}

    def __call__(self, hook: str, fn: Callable, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - never break the user's training
            n = self.failures.get(hook, 0)
            self.failures[hook] = n + 1
            if n == 0:
                from ..tracker.config import TrackerWarning
                warnings.warn(f"wattwise: {self.owner}.{hook} failed ({type(e).__name__}: {e}); training goes on",
                              TrackerWarning, stacklevel=3)
            return None
