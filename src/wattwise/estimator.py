"""Estimate a job's footprint before running it, from any consistent subset of inputs.

The chain (each step skipped when its result is given directly):
    FLOPs = 6 N D                                  (dense training; N = active parameters for MoE)
    GPU-hours = FLOPs / (peak FLOP/s x MFU) / 3600 (or / achieved FLOP/s)
    wall-clock = GPU-hours x 3600 / GPUs
    IT energy = GPU-hours x board power            (power = TDP x fraction when not given)
    facility energy = IT energy x PUE
    CO2e = facility energy x grid intensity
    dollars = GPU-hours x price per GPU-hour       (or kWh x electricity price + hardware amortisation)
Uncertain defaults (MFU, power fraction, PUE, price spread) are ranges, so every output has low/central/high.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import catalog, defaults
from ._checks import check_fraction, check_number
from .errors import ContradictoryInputError, InvalidValueError
from .footprint import Footprint, Range, add, cost_from_energy, cost_from_gpu_hours, energy_to_co2e

REL_TOL = 0.01  # two inputs that should agree must agree within 1%
HOURS_PER_YEAR = 8766.0  # 365.25 days


@dataclass
class _Hardware:
    """What turns FLOPs into hours, watts, grams and dollars; resolved once per estimate."""
    throughput: Range | None = None     # achieved FLOP/s per GPU
    power_w: Range | None = None        # board power per GPU
    pue: Range | None = None
    intensity: Range | None = None
    price_gpu_hour: Range | None = None
    price_kwh: float | None = None
    hardware_usd: float | None = None
    lifetime_h: float | None = None
    gpus: int = 1
    throughput_given: bool = False      # from --flop-per-s or --mfu, not from the default MFU range
    sources: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def _opt(name: str, value, **kw) -> float | None:
    return None if value is None else check_number(name, value, **kw)


def _agree(name_a: str, a: float, name_b: str, b: float) -> None:
    if not math.isclose(a, b, rel_tol=REL_TOL):
        raise ContradictoryInputError(
            f"{name_a} = {a:.4g} contradicts {name_b} = {b:.4g} (they differ by {abs(a / b - 1):.1%}); "
            f"give one of them, or values that agree within {REL_TOL:.0%}")


def estimate(*, params: float | None = None, tokens: float | None = None, flops: float | None = None,
             active_params: float | None = None, arch: str | None = None, seq: int | None = None, gpu: str | None = None, gpus: int = 1, dtype: str = "bf16",
             mfu: float | None = None, flop_per_s: float | None = None, gpu_hours: float | None = None,
             duration_s: float | None = None, power_w: float | None = None, energy_kwh: float | None = None,
             region: str | None = None, intensity_g_per_kwh: float | None = None, pue: float | None = None,
             provider: str | None = None, price_usd_per_gpu_hour: float | None = None,
             electricity_usd_per_kwh: float | None = None, hardware_usd: float | None = None,
             hardware_lifetime_years: float | None = None, inference_tokens: float | None = None,
             inference_tokens_per_day: float | None = None, inference_days: float | None = None) -> Footprint:
    """Footprint of a training job (plus its serving, when inference tokens are given).

    `energy_kwh` and `power_w` are IT-side (before PUE); `flop_per_s` is achieved throughput per GPU;
    `mfu` is model FLOPs utilisation of the GPU's peak for `dtype`. Returns a Footprint whose `missing`
    names the input that would complete any quantity left as None.
    """
    inputs = {k: v for k, v in locals().items() if v is not None and k not in ("gpus", "dtype")}
    inputs["gpus"] = gpus
    if gpu is not None:
        inputs["dtype"] = dtype
    params = _opt("params", params)
    active_params = _opt("active_params", active_params)
    tokens = _opt("tokens", tokens)
    flops = _opt("flops", flops)
    gpu_hours = _opt("gpu_hours", gpu_hours)
    duration_s = _opt("duration_s", duration_s)
    energy_kwh = _opt("energy_kwh", energy_kwh)
    if isinstance(gpus, bool) or not isinstance(gpus, int) and not (isinstance(gpus, float) and gpus.is_integer()):
        raise InvalidValueError(f"gpus must be a whole number >= 1, got {gpus!r}")
    gpus = int(check_number("gpus", gpus))
    if active_params is not None and params is not None and active_params > params:
        raise ContradictoryInputError(
            f"active_params = {active_params:.4g} exceeds params = {params:.4g}; active parameters of a "
            "mixture-of-experts model are at most its total parameters")

    hw = _resolve_hardware(gpu=gpu, gpus=gpus, dtype=dtype, mfu=mfu, flop_per_s=flop_per_s, power_w=power_w,
                           region=region, intensity=intensity_g_per_kwh, pue=pue, provider=provider,
                           price_gpu_hour=price_usd_per_gpu_hour, price_kwh=electricity_usd_per_kwh,
                           hardware_usd=hardware_usd, lifetime_years=hardware_lifetime_years)
    n = active_params if active_params is not None else params
    per_token = _arch_flops(arch, seq, params) if arch is not None else None
    if per_token is not None:
        n = params = float(per_token["params"])

    # FLOPs of training
    train_flops = None
    if per_token is not None and tokens is not None:
        train_flops = Range.point(per_token["training_flops_per_token"] * tokens)
        hw.sources["flops"] = (f"{arch}: {per_token['training_flops_per_token']:.4g} training FLOPs per token at "
                               f"context {per_token['seq']} (counted on the meta device; 6N would give "
                               f"{per_token['six_n_flops_per_token']:.4g}), wattwise.flops")
        if flops is not None:
            _agree("flops", flops, f"{arch} counted FLOPs x tokens", train_flops.central)
    elif n is not None and tokens is not None:
        train_flops = Range.point(defaults.TRAIN_FLOPS_PER_PARAM_TOKEN * n * tokens)
        hw.sources["flops"] = defaults.FLOPS_SOURCE + ("; N = active parameters (mixture-of-experts)"
                                                       if active_params is not None else "")
        if flops is not None:
            _agree("flops", flops, "6 x params x tokens", train_flops.central)
    if flops is not None:
        train_flops = Range.point(flops)
        hw.sources["flops"] = "given"
    if train_flops is None:
        hw.missing["flops"] = ("give --flops, or --params and --tokens (C = 6ND)" if n is None and tokens is None
                               else "give --tokens" if tokens is None else "give --params")

    # GPU-hours and wall-clock
    gh = None
    if duration_s is not None:
        gh = Range.point(duration_s * gpus / 3600.0)
    if gpu_hours is not None:
        if gh is not None:
            _agree("gpu_hours", gpu_hours, "duration_s x gpus / 3600", gh.central)
        gh = Range.point(gpu_hours)
    if gh is not None and train_flops is not None:
        implied = train_flops.central / (gh.central * 3600.0)
        if hw.throughput_given:
            _agree("achieved FLOP/s per GPU", hw.throughput.central, "flops / (gpu_hours x 3600)", implied)
        hw.throughput = Range.point(implied)
        hw.sources["throughput"] = "implied by flops and GPU-hours"
    training = _chain(hw, train_flops, gh, energy_kwh)
    training.inputs = inputs
    training.hardware = f"{gpus} x {catalog.gpu(gpu).model}" if gpu else None
    training.zone = catalog.zone(region).zone_id if region else None
    if gpu is not None and hw.throughput is not None and (hw.throughput_given or hw.throughput.exact):
        # given, or implied by FLOPs and GPU-hours; a default MFU range is an assumption, not reported as MFU
        training.extra["mfu"] = hw.throughput.central / catalog.gpu(gpu).peak(dtype)

    # serving
    serve_tokens = _inference_tokens(inference_tokens, inference_tokens_per_day, inference_days)
    if serve_tokens is not None:
        if n is None:
            raise ContradictoryInputError("inference tokens need --params (or --active-params): "
                                          "serving costs 2 N FLOPs per token")
        infer_per_token = (per_token["forward_flops_per_token"] if per_token is not None
                           else defaults.INFER_FLOPS_PER_PARAM_TOKEN * n)
        infer = _chain(hw, Range.point(infer_per_token * serve_tokens), None)
        lifetime = add(training, infer)
        split = {}
        if train_flops is not None:
            total = train_flops.central + infer.flops
            split = {"training_fraction": train_flops.central / total, "inference_fraction": infer.flops / total}
            if inference_tokens_per_day:
                per_day = infer_per_token * inference_tokens_per_day
                split["crossover_day"] = train_flops.central / per_day
        training.extra["inference"] = {**infer.central.to_dict(), "low": infer.low.to_dict(),
                                       "high": infer.high.to_dict(), "tokens": serve_tokens}
        training.extra["lifetime"] = {**lifetime.central.to_dict(), "low": lifetime.low.to_dict(),
                                      "high": lifetime.high.to_dict()}
        training.extra["split"] = split
        training.sources["inference"] = "2 N FLOPs per token served (Kaplan et al. 2020), same hardware and MFU"
    return training


def _arch_flops(arch: str, seq: int | None, params: float | None) -> dict:
    """Counted FLOPs per token of a built-in architecture (wattwise.flops; no torch needed)."""
    from .flops import flops_per_token
    if seq is not None:
        seq = int(check_number("seq", seq))
    info = flops_per_token(arch, seq=seq)
    if params is not None:
        _agree("params", params, f"{arch} parameters", float(info["params"]))
    return info


def _inference_tokens(total, per_day, days) -> float | None:
    total = _opt("inference_tokens", total)
    per_day = _opt("inference_tokens_per_day", per_day)
    days = _opt("inference_days", days)
    if per_day is not None:
        if days is None:
            raise InvalidValueError("inference_tokens_per_day needs inference_days (how long the model serves)")
        from_rate = per_day * days
        if total is not None:
            _agree("inference_tokens", total, "inference_tokens_per_day x inference_days", from_rate)
        return from_rate
    if days is not None:
        raise InvalidValueError("inference_days needs inference_tokens_per_day")
    return total


def _resolve_hardware(*, gpu, gpus, dtype, mfu, flop_per_s, power_w, region, intensity, pue, provider,
                      price_gpu_hour, price_kwh, hardware_usd, lifetime_years) -> _Hardware:
    hw = _Hardware(gpus=gpus)
    acc = catalog.gpu(gpu) if gpu is not None else None
    mfu = None if mfu is None else check_fraction("mfu", mfu)
    flop_per_s = _opt("flop_per_s", flop_per_s)
    if flop_per_s is not None and mfu is not None:
        raise ContradictoryInputError("give --mfu (a fraction of the GPU's peak) or --flop-per-s (achieved), "
                                      "not both")
    if flop_per_s is not None:
        hw.throughput = Range.point(flop_per_s)
        hw.sources["throughput"] = "given achieved FLOP/s per GPU"
        hw.throughput_given = True
    elif acc is not None:
        peak = acc.peak(dtype)
        hw.throughput = Range.point(peak) * (Range.point(mfu) if mfu is not None else defaults.MFU)
        hw.sources["throughput"] = f"{acc.model} peak {dtype} {peak:.4g} FLOP/s ({acc.source}) x " + (
            f"MFU {mfu:g} (given)" if mfu is not None else defaults.MFU_SOURCE)
        hw.throughput_given = mfu is not None
    else:
        if mfu is not None:
            raise InvalidValueError("--mfu needs --gpu (MFU is a fraction of that GPU's peak FLOP/s)")
        hw.missing["gpu_hours"] = "give --gpu (with --mfu or its default range), --flop-per-s, or --gpu-hours"

    if power_w is not None:
        hw.power_w = Range.point(check_number("power_w", power_w))
        hw.sources["power"] = "given board power per GPU"
    elif acc is not None and acc.tdp_w is not None:
        hw.power_w = defaults.POWER_FRACTION_OF_TDP * acc.tdp_w
        hw.sources["power"] = (f"{acc.model} TDP {acc.tdp_w:g} W{' (estimate)' if acc.tdp_is_estimate else ''}; "
                               + defaults.POWER_SOURCE)
    else:
        hw.missing["energy_kwh"] = "give --power-w, --energy-kwh, or a --gpu with a known TDP"

    zone = catalog.zone(region) if region is not None else None
    if zone is not None and intensity is not None:
        raise ContradictoryInputError("give --region (intensity from the catalog) or --intensity, not both")
    if intensity is not None:
        hw.intensity = Range.point(check_number("intensity_g_per_kwh", intensity, allow_zero=True))
        hw.sources["intensity"] = "given"
    elif zone is not None:
        hw.intensity = Range.point(zone.intensity_g_per_kwh)
        hw.sources["intensity"] = (f"{zone.zone_id} ({zone.name}) {zone.intensity_g_per_kwh:g} gCO2e/kWh, "
                                   f"{zone.year}, {zone.basis}, {zone.source}; licence {zone.licence}")
    else:
        hw.missing["co2e_kg"] = "give --region or --intensity"

    if pue is not None:
        value = check_number("pue", pue)
        if value < 1:
            raise InvalidValueError(f"pue must be >= 1 (facility energy / IT energy), got {pue!r}")
        hw.pue = Range.point(value)
        hw.sources["pue"] = "given"
    else:
        preset_name = provider or (catalog.PROVIDER_PRESET.get(zone.provider) if zone and zone.provider else None)
        preset = catalog.pue(preset_name or catalog.DEFAULT_PRESET)
        hw.pue = Range(preset.low, preset.pue, preset.high)
        hw.sources["pue"] = f"preset {preset.preset}: {preset.pue} ({preset.period}; {preset.source}); {preset.notes}"

    if price_gpu_hour is not None:
        hw.price_gpu_hour = Range.point(check_number("price_usd_per_gpu_hour", price_gpu_hour))
        hw.sources["cost"] = "given price per GPU-hour"
    elif price_kwh is not None:
        hw.price_kwh = check_number("electricity_usd_per_kwh", price_kwh)
        hw.sources["cost"] = "given electricity price per kWh (facility energy)"
        if hardware_usd is not None:
            hw.hardware_usd = check_number("hardware_usd", hardware_usd)
            years = check_number("hardware_lifetime_years", 4 if lifetime_years is None else lifetime_years)
            hw.lifetime_h = years * HOURS_PER_YEAR
            hw.sources["cost"] += f" + hardware {hw.hardware_usd:g} USD per GPU amortised over {years:g} years"
    elif acc is not None:
        try:
            pr = catalog.price_range(acc.accelerator_id, provider if provider in ("aws", "azure", "gcp") else None)
        except Exception as err:  # no price known: leave cost missing, say why
            hw.missing["cost_usd"] = str(err)
        else:
            hw.price_gpu_hour = Range(pr.low, pr.central, pr.high)
            hw.sources["cost"] = f"{pr.source}, newest {pr.as_of}: {pr.low:g}-{pr.central:g}-{pr.high:g} USD/GPU-h"
    else:
        hw.missing["cost_usd"] = "give --price-per-gpu-hour, --electricity-price, or a --gpu with known prices"
    if hardware_usd is not None and price_kwh is None:
        raise InvalidValueError("--hardware-usd (amortisation) goes with --electricity-price, "
                                "not with a cloud price per GPU-hour")
    return hw


def _chain(hw: _Hardware, flops: Range | None, gpu_hours: Range | None,
           it_energy_kwh: float | None = None) -> Footprint:
    """Walk FLOPs -> GPU-hours -> duration -> energy -> CO2e -> dollars as far as the inputs allow."""
    ranges: dict[str, Range] = {}
    missing = dict(hw.missing)
    sources = dict(hw.sources)
    if flops is None and gpu_hours is not None and hw.throughput is not None:
        flops = gpu_hours * 3600.0 * hw.throughput
        sources["flops"] = "GPU-hours x 3600 x achieved FLOP/s per GPU"
        missing.pop("flops", None)
    if flops is not None:
        ranges["flops"] = flops
        if gpu_hours is None and hw.throughput is not None:
            gpu_hours = flops / hw.throughput / 3600.0
    if gpu_hours is not None:
        ranges["gpu_hours"] = gpu_hours
        ranges["duration_s"] = gpu_hours * 3600.0 / hw.gpus
        missing.pop("gpu_hours", None)
    else:
        missing.setdefault("gpu_hours", "give --gpu-hours, --duration-s, or FLOPs with a throughput")
    it = None
    if it_energy_kwh is not None:
        it = Range.point(it_energy_kwh)
        sources["power"] = "given IT energy"
        missing.pop("energy_kwh", None)
        if gpu_hours is not None and hw.power_w is not None and "given" in hw.sources.get("power", ""):
            _agree("energy_kwh", it_energy_kwh, "gpu_hours x power_w / 1000", (gpu_hours * hw.power_w).central / 1000)
    elif gpu_hours is not None and hw.power_w is not None:
        it = gpu_hours * hw.power_w / 1000.0
    if it is not None:
        ranges["energy_kwh"] = it * hw.pue
        if hw.intensity is not None:
            ranges["co2e_kg"] = energy_to_co2e(it, hw.intensity, hw.pue)
    for q in ("duration_s", "energy_kwh", "co2e_kg"):
        if q not in ranges:
            missing.setdefault(q, "needs GPU-hours first" if gpu_hours is None else
                               "needs energy first" if q == "co2e_kg" and it is None else
                               "give --power-w or a --gpu with a known TDP")
    if gpu_hours is not None and hw.price_gpu_hour is not None:
        ranges["cost_usd"] = cost_from_gpu_hours(gpu_hours, hw.price_gpu_hour)
    elif it is not None and hw.price_kwh is not None:
        ranges["cost_usd"] = cost_from_energy(it * hw.pue, hw.price_kwh, hardware_usd=hw.hardware_usd,
                                              hardware_lifetime_h=hw.lifetime_h,
                                              hours_used=gpu_hours if hw.hardware_usd is not None else None)
    else:
        missing.setdefault("cost_usd", "needs GPU-hours and a price")
    for q in ranges:
        missing.pop(q, None)
    used = {"throughput": "gpu_hours", "power": "energy_kwh", "pue": "energy_kwh", "intensity": "co2e_kg",
            "cost": "cost_usd"}
    sources = {k: v for k, v in sources.items() if used.get(k, "flops") in ranges or k == "flops" and flops}
    return Footprint(ranges=ranges, it_energy_kwh=it, energy_by_component_kwh={"gpu": it} if it else {},
                     pue=hw.pue if it is not None else None, intensity_g_per_kwh=hw.intensity, method="estimated",
                     sources=sources, missing=missing)
