"""Library errors name Python arguments in backticks (`power_w`); the CLI shows its own flags instead."""

from __future__ import annotations

import re

# Python argument -> the flag that sets it (estimate, where, scaling plan, run); names not listed keep their
# backticks, which still read as code
FLAGS = {
    "params": "--params", "active_params": "--active-params", "tokens": "--tokens", "flops": "--flops",
    "arch": "--arch", "seq": "--seq", "gpu": "--gpu", "gpus": "--gpus", "dtype": "--dtype", "mfu": "--mfu",
    "flop_per_s": "--flop-per-s", "gpu_hours": "--gpu-hours", "duration_s": "--duration-s", "power_w": "--power-w",
    "energy_kwh": "--energy-kwh", "region": "--region", "intensity_g_per_kwh": "--intensity", "pue": "--pue",
    "provider": "--provider", "usd_per_gpu_hour": "--price-per-gpu-hour",
    "price_usd_per_gpu_hour": "--price-per-gpu-hour", "usd_per_kwh": "--electricity-price",
    "electricity_usd_per_kwh": "--electricity-price", "hardware_usd": "--hardware-usd",
    "hardware_lifetime_years": "--hardware-years", "inference_tokens": "--inference-tokens",
    "inference_tokens_per_day": "--inference-tokens-per-day", "inference_days": "--inference-days",
    "interval_s": "--interval", "zones": "--zones",
}
_QUOTED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


def flagify(message: str) -> str:
    """`power_w` -> --power-w for every argument the CLI has a flag for."""
    return _QUOTED.sub(lambda m: FLAGS.get(m.group(1), m.group(0)), message)
