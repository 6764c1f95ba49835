"""Where wattwise keeps its files and what the user configured: the one place `WATTWISE_HOME`,
`WATTWISE_CONFIG`, `WATTWISE_REGION`, `WATTWISE_PUE` and `WATTWISE_INTERVAL` are read.

- Home: `$WATTWISE_HOME`, else `~/.wattwise` (the ledger is `<home>/ledger.db`).
- Config file: `$WATTWISE_CONFIG`, else `<home>/config.toml`; keys region, pue, interval_s, project, ledger
  (top level or under a `[wattwise]` table).
- Region and PUE: an argument, else the environment, else the config file; explicit arguments must be valid
  (an error before any work), environment and config values that do not resolve are reported with a warning
  and treated as unknown (CO2e then uses the labelled world average). No network call is made.

Standard library only.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Callable

DEFAULT_INTERVAL_S = 1.0
DEFAULT_DEADLINE_S = 2.0   # the longest a meter read or a ledger write may hold the job


class TrackerWarning(RuntimeWarning):
    """Something could not be measured or recorded; the job goes on."""


def warn(msg: str) -> None:
    warnings.warn(msg, TrackerWarning, stacklevel=3)


def home() -> Path:
    """`$WATTWISE_HOME`, else `~/.wattwise`."""
    h = os.environ.get("WATTWISE_HOME")
    return Path(h).expanduser() if h else Path.home() / ".wattwise"


def default_ledger_path() -> Path:
    """`<home>/ledger.db`."""
    return home() / "ledger.db"


def config_path() -> Path:
    """`$WATTWISE_CONFIG`, else `<home>/config.toml`."""
    if os.environ.get("WATTWISE_CONFIG"):
        return Path(os.environ["WATTWISE_CONFIG"]).expanduser()
    return home() / "config.toml"


def read_config(path: Path | None = None) -> dict[str, Any]:
    """The config file's keys (region, pue, interval_s, project, ledger), or {} if absent or unreadable."""
    path = path or config_path()
    try:
        text = path.read_bytes()
    except OSError:
        return {}
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            return {}
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except Exception as e:  # noqa: BLE001
        warn(f"wattwise: ignoring unreadable config {path}: {e}")
        return {}
    return data.get("wattwise", data) if isinstance(data, dict) else {}


def interval_s(explicit: float | None, cfg: dict) -> Any:
    """The sampling interval: the argument, else WATTWISE_INTERVAL, else the config, else 1 s (unchecked)."""
    if explicit is not None:
        return explicit
    return os.environ.get("WATTWISE_INTERVAL") or cfg.get("interval_s") or DEFAULT_INTERVAL_S


def deadline_s(explicit: float | None, cfg: dict) -> Any:
    """The deadline for meter reads and ledger writes: the argument, else WATTWISE_DEADLINE_S, else the config's
    `deadline_s`, else 2 s (unchecked)."""
    if explicit is not None:
        return explicit
    return os.environ.get("WATTWISE_DEADLINE_S") or cfg.get("deadline_s") or DEFAULT_DEADLINE_S


def location(region: str | None, pue: float | str | None, cfg: dict | None = None,
             warn_fn: Callable[[str], None] = warn):
    """The run's `wattwise.assumptions.Location` from arguments, environment and config (see the docstring)."""
    from .. import assumptions
    cfg = read_config() if cfg is None else cfg
    return assumptions.location(
        region, pue, warn=warn_fn,
        fallbacks_region=[("WATTWISE_REGION", os.environ.get("WATTWISE_REGION")),
                          (f"config {config_path()}", cfg.get("region"))],
        fallbacks_pue=[("WATTWISE_PUE", os.environ.get("WATTWISE_PUE")), ("config", cfg.get("pue"))])


def location_view(loc) -> dict[str, Any]:
    """A `Location` as a plain dict: region, location_known, intensity_g_per_kwh and pue (Ranges), sources."""
    return {"region": loc.region, "location_known": loc.known, "intensity_g_per_kwh": loc.intensity_g_per_kwh.range,
            "pue": loc.pue.range, "sources": {"intensity": loc.intensity_g_per_kwh.basis, "pue": loc.pue.basis}}


def resolve_location(region: str | None, pue: float | str | None, cfg: dict | None = None) -> dict[str, Any]:
    """`location(...)` as a plain dict (`location_view`)."""
    return location_view(location(region, pue, cfg))
