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

from dataclasses import dataclass, field

from . import accounting, assumptions, catalog, defaults, serving
from ._checks import check_number
from .constants import (
    INFER_FLOPS_PER_PARAM_TOKEN,
    S_PER_HOUR,
    TRAIN_FLOPS_PER_PARAM_TOKEN,
    W_PER_KW,
)
from .errors import ContradictoryInputError, InvalidValueError
from .footprint import Footprint, Quantity, Range
from .whole_bill import REL_TOL, SCOPES, _agree, _duration, _whole_bill  # noqa: F401 (REL_TOL, SCOPES: re-exported)


@dataclass
class _Hardware:
    """What turns FLOPs into hours, watts, grams and dollars; resolved once per estimate (wattwise.assumptions)."""
    throughput: Quantity | None = None  # achieved FLOP/s per GPU
    power_w: Quantity | None = None     # board power per GPU
    pue: Quantity | None = None
    intensity: Quantity | None = None
    price: assumptions.Price | None = None
    gpus: int = 1
    throughput_given: bool = False      # from flop_per_s or mfu, not from the default MFU range
    sources: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


def _opt(name: str, value, **kw) -> float | None:
    return None if value is None else check_number(name, value, **kw)


def estimate(*, params: float | None = None, tokens: float | None = None, flops: float | None = None,
             active_params: float | None = None, arch: str | None = None, seq: int | None = None,
             gpu: str | None = None, gpus: int = 1, dtype: str | None = None, mfu: float | None = None,
             flop_per_s: float | None = None, gpu_hours: float | None = None, duration_s: float | None = None,
             power_w: float | None = None, energy_kwh: float | Range | None = None, region: str | None = None,
             intensity_g_per_kwh: float | None = None, pue: float | str | None = None, provider: str | None = None,
             usd_per_gpu_hour: float | None = None, usd_per_kwh: float | None = None,
             hardware_usd: float | None = None, hardware_lifetime_years: float | None = None,
             inference_tokens: float | None = None, inference_tokens_per_day: float | None = None,
             inference_days: float | None = None, price_usd_per_gpu_hour: float | None = None,
             electricity_usd_per_kwh: float | None = None, scope: str | None = None, nodes: int | None = None,
             gpus_per_node: int | None = None, host_power_w: float | None = None,
             server_power_w: float | None = None, idle_power_w: float | None = None,
             idle_energy_kwh: float | None = None, embodied: bool = False, embodied_gpu_kg: float | None = None,
             embodied_server_kg: float | None = None, embodied_lifetime_years: float | None = None,
             embodied_utilisation: float | None = None, market_intensity_g_per_kwh: float | None = None,
             cfe_fraction: float | None = None, intensity_lbs_per_kwh: float | None = None,
             tokens_per_s_per_gpu: float | None = None, duration_h: float | None = None,
             duration_days: float | None = None, serving_j_per_token: float | None = None,
             serving_replicas: int | None = None, serving_resident_power_w: float | None = None) -> Footprint:
    """Footprint of a training job (plus its serving, when inference tokens are given).

    `energy_kwh` and `power_w` are IT-side (before PUE); `flop_per_s` is achieved throughput per GPU;
    `mfu` is model FLOPs utilisation of the GPU's peak for `dtype`. Prices take the Tracker's keywords
    (`usd_per_gpu_hour`, `usd_per_kwh`; the older `price_usd_per_gpu_hour` / `electricity_usd_per_kwh` are
    aliases). Returns a Footprint whose `missing` names the input that would complete any quantity left as
    None; with inference tokens, `fp.inference` and `fp.lifetime` are nested footprints.

    The whole bill (each part its own component, with a range, and said in `fp.extra`):
    - `scope` of power: 'board' (accelerator boards only, the default), 'system' (`power_w` is per-accelerator
      system power incl. its host share, as Patterson et al. 2021) or 'server' (whole machines: boards +
      `host_power_w` per node for CPU, DRAM, NIC and fans, or `server_power_w` per node, as Strubell et al. 2019);
      `idle_power_w` per reserved node (or `idle_energy_kwh`) over the wall-clock adds an 'idle' component;
      `nodes` defaults to ceil(gpus / `gpus_per_node`, 8).
    - `embodied=True` adds the hardware's manufacturing carbon, amortised over its life and the job's share
      (wattwise.embodied; BLOOM's method), to `co2e_kg`, and lists it in `extra['co2e_by_component_kg']`.
    - `market_intensity_g_per_kwh` (residual mix or supplier factor) and/or `cfe_fraction` (share covered by
      PPAs/RECs) give a market-based figure next to the location-based `co2e_kg` (`extra['accounting']`).
    - Inputs as papers give them: `intensity_lbs_per_kwh`, `duration_h`, `duration_days`, and
      `tokens_per_s_per_gpu` (with `tokens`: GPU-hours = tokens / (tokens/s/GPU) / 3600).
    - Serving (with inference tokens): `serving_j_per_token` (measured, e.g. by `wattwise.measure_generation`)
      replaces the 2N-FLOPs energy; `serving_replicas` x `serving_resident_power_w` adds resident/idle power
      over `inference_days`.
    """
    usd_per_gpu_hour = _alias("usd_per_gpu_hour", usd_per_gpu_hour, "price_usd_per_gpu_hour", price_usd_per_gpu_hour)
    usd_per_kwh = _alias("usd_per_kwh", usd_per_kwh, "electricity_usd_per_kwh", electricity_usd_per_kwh)
    duration_s = _duration(duration_s, duration_h, duration_days)
    if intensity_lbs_per_kwh is not None:
        if intensity_g_per_kwh is not None:
            raise ContradictoryInputError("give `intensity_g_per_kwh` or `intensity_lbs_per_kwh`, not both")
        intensity_g_per_kwh = accounting.g_per_kwh_from_lbs(intensity_lbs_per_kwh)
    inputs = {k: v for k, v in locals().items() if v is not None and k not in (
        "gpus", "dtype", "price_usd_per_gpu_hour", "electricity_usd_per_kwh") and v is not False}
    inputs["gpus"] = gpus
    if isinstance(energy_kwh, Range):
        inputs["energy_kwh"] = energy_kwh.to_dict()
    if gpu is not None:
        dtype = assumptions.default_dtype(catalog.gpu(gpu), dtype)
        inputs["dtype"] = dtype
    else:
        dtype = dtype or defaults.DEFAULT_DTYPE
    params = _opt("params", params)
    active_params = _opt("active_params", active_params)
    tokens = _opt("tokens", tokens)
    flops = _opt("flops", flops)
    gpu_hours = _opt("gpu_hours", gpu_hours)
    duration_s = _opt("duration_s", duration_s)
    energy_kwh = _energy_input(energy_kwh)
    if isinstance(gpus, bool) or not isinstance(gpus, int) and not (isinstance(gpus, float) and gpus.is_integer()):
        raise InvalidValueError(f"`gpus` must be a whole number >= 1, got {gpus!r}")
    gpus = int(check_number("gpus", gpus))
    if active_params is not None and params is not None and active_params > params:
        raise ContradictoryInputError(
            f"active_params = {active_params:.4g} exceeds params = {params:.4g}; active parameters of a "
            "mixture-of-experts model are at most its total parameters")

    hw = _resolve_hardware(gpu=gpu, gpus=gpus, dtype=dtype, mfu=mfu, flop_per_s=flop_per_s, power_w=power_w,
                           region=region, intensity=intensity_g_per_kwh, pue=pue, provider=provider,
                           usd_per_gpu_hour=usd_per_gpu_hour, usd_per_kwh=usd_per_kwh,
                           hardware_usd=hardware_usd, lifetime_years=hardware_lifetime_years)
    n = active_params if active_params is not None else params
    if seq is not None and arch is None:
        raise InvalidValueError(f"`seq` ({seq}) is the context length of an `arch` model: give `arch` with it "
                                "(6ND needs no context length)")
    per_token = _arch_flops(arch, seq, params) if arch is not None else None
    if per_token is not None:
        n = params = float(per_token["params"])
    if tokens_per_s_per_gpu is not None:
        tps = check_number("tokens_per_s_per_gpu", tokens_per_s_per_gpu)
        if tokens is None:
            raise InvalidValueError("`tokens_per_s_per_gpu` needs `tokens` (GPU-hours = tokens / throughput / 3600)")
        from_tps = tokens / tps / S_PER_HOUR
        if gpu_hours is not None:
            _agree("gpu_hours", gpu_hours, "tokens / tokens_per_s_per_gpu / 3600", from_tps)
        gpu_hours = from_tps

    # FLOPs of training
    train_flops = None
    if per_token is not None and tokens is not None:
        train_flops = Quantity(per_token["training_flops_per_token"] * tokens, method="counted", basis=(
            f"{arch}: {per_token['training_flops_per_token']:.4g} training FLOPs per token at context "
            f"{per_token['seq']} (counted on the meta device; 6N would give "
            f"{per_token['six_n_flops_per_token']:.4g}), wattwise.flops"))
        if flops is not None:
            _agree("flops", flops, f"{arch} counted FLOPs x tokens", train_flops)
    elif n is not None and tokens is not None:
        train_flops = Quantity(TRAIN_FLOPS_PER_PARAM_TOKEN * n * tokens, method="estimated", basis=(
            defaults.FLOPS_SOURCE + ("; N = active parameters (mixture-of-experts)"
                                     if active_params is not None else "")))
        if flops is not None:
            _agree("flops", flops, "6 x params x tokens", train_flops)
    if flops is not None:
        train_flops = Quantity(flops, method="estimated", basis="given")
    if train_flops is not None:
        hw.sources["flops"] = train_flops.basis
    else:
        hw.missing["flops"] = ("give `flops`, or `params` and `tokens` (C = 6ND)" if n is None and tokens is None
                               else "give `tokens`" if tokens is None else "give `params`")

    # GPU-hours and wall-clock
    gh = None
    if duration_s is not None:
        gh = Quantity(duration_s * gpus / S_PER_HOUR, method="estimated", basis="given duration x GPUs")
    if gpu_hours is not None:
        if gh is not None:
            _agree("gpu_hours", gpu_hours, "duration_s x gpus / 3600", gh)
        gh = Quantity(gpu_hours, method="estimated", basis="given")
    if gh is not None and train_flops is not None:
        implied = train_flops / (gh * S_PER_HOUR)
        if hw.throughput_given:
            _agree("achieved FLOP/s per GPU", hw.throughput, "flops / (gpu_hours x 3600)", implied)
        hw.throughput = Quantity(implied, method="estimated", basis="implied by flops and GPU-hours")
        hw.sources["throughput"] = hw.throughput.basis
    training = _chain(hw, train_flops, gh, energy_kwh)
    training.inputs = inputs
    acc = catalog.gpu(gpu) if gpu else None
    training.hardware = f"{gpus} x {acc.model}" if acc else None
    training.zone = assumptions.zone_name(catalog.zone(region)) if region else None
    if hw.throughput is not None and (hw.throughput_given or hw.throughput.exact):
        training.flop_per_s = float(hw.throughput)
        if acc is not None:
            # given, or implied by FLOPs and GPU-hours; a default MFU range is an assumption, not reported as MFU
            training.mfu = float(hw.throughput) / acc.peak(dtype)

    # serving
    serve_tokens = _inference_tokens(inference_tokens, inference_tokens_per_day, inference_days)
    if serve_tokens is not None:
        if n is None:
            raise ContradictoryInputError("inference tokens need `params` (or `active_params`): "
                                          "serving costs 2 N FLOPs per token")
        if per_token is not None:
            infer_per_token = per_token["forward_flops_per_token"]
            basis = f"{arch}: {infer_per_token:.4g} forward FLOPs per token (counted on the meta device)"
        else:
            infer_per_token = INFER_FLOPS_PER_PARAM_TOKEN * n
            basis = "2 N FLOPs per token served (Kaplan et al. 2020)"
        infer = _chain(hw, Quantity(infer_per_token * serve_tokens, method="counted" if per_token else "estimated",
                                    basis=basis), None)
        infer.inputs = {"tokens": serve_tokens, "tokens_per_day": inference_tokens_per_day,
                        "days": inference_days, "params": n}
        infer.hardware, infer.zone = training.hardware, training.zone
        training.inference = infer
        training.lifetime = training + infer  # add() leaves nested projections out
        split = {}
        if train_flops is not None:
            both = train_flops + infer.flops
            split = {"training_fraction": train_flops / both, "inference_fraction": infer.flops / both}
            if inference_tokens_per_day:
                split["crossover_day"] = train_flops / (infer_per_token * inference_tokens_per_day)
        training.extra["split"] = split
        training.sources["inference"] = basis + ", same hardware and MFU"
        if serving_j_per_token is not None or serving_replicas is not None or serving_resident_power_w is not None:
            serving.apply_measured(training, hw, tokens=serve_tokens, days=inference_days,
                                   j_per_token=serving_j_per_token, replicas=serving_replicas,
                                   resident_power_w=serving_resident_power_w)
    elif serving_j_per_token is not None or serving_replicas is not None or serving_resident_power_w is not None:
        raise InvalidValueError("`serving_j_per_token`, `serving_replicas` and `serving_resident_power_w` project "
                                "serving: give `inference_tokens` (or tokens per day and days) with them")
    _whole_bill(training, hw, gpus=gpus, scope=scope, nodes=nodes, gpus_per_node=gpus_per_node,
                power_w=power_w, host_power_w=host_power_w, server_power_w=server_power_w,
                idle_power_w=idle_power_w, idle_energy_kwh=idle_energy_kwh, energy_given=energy_kwh is not None,
                embodied=embodied, embodied_kw=dict(gpu_kg=embodied_gpu_kg, server_kg=embodied_server_kg,
                                                    lifetime_years=embodied_lifetime_years,
                                                    utilisation=embodied_utilisation),
                market_g_per_kwh=market_intensity_g_per_kwh, cfe_fraction=cfe_fraction)
    if training.inference is not None:
        training.lifetime = training + training.inference  # with the whole bill's components
    return training


def _energy_input(value) -> Range | None:
    """Measured IT energy: a number, or a Range/Quantity (a tracked run's `it_energy_kwh`) whose range is kept."""
    if value is None:
        return None
    if isinstance(value, (Range, Quantity)):
        r = Range.of(value)
        check_number("energy_kwh", r.low, allow_zero=True)
        check_number("energy_kwh", r.high)
        return r
    return Range.point(check_number("energy_kwh", value))


def _alias(name: str, value, old: str, old_value):
    if old_value is None:
        return value
    if value is not None and value != old_value:
        raise ContradictoryInputError(f"`{old}` is an older name of `{name}`; give one of them")
    return old_value


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
            raise InvalidValueError("`inference_tokens_per_day` needs `inference_days` (how long the model serves)")
        from_rate = per_day * days
        if total is not None:
            _agree("inference_tokens", total, "inference_tokens_per_day x inference_days", from_rate)
        return from_rate
    if days is not None:
        raise InvalidValueError("`inference_days` needs `inference_tokens_per_day`")
    return total


def _resolve_hardware(*, gpu, gpus, dtype, mfu, flop_per_s, power_w, region, intensity, pue, provider,
                      usd_per_gpu_hour, usd_per_kwh, hardware_usd, lifetime_years) -> _Hardware:
    hw = _Hardware(gpus=gpus)
    acc = catalog.gpu(gpu) if gpu is not None else None
    hw.throughput = assumptions.throughput(acc, dtype, mfu=mfu, flop_per_s=flop_per_s)
    hw.throughput_given = hw.throughput is not None and (flop_per_s is not None or mfu is not None)
    if hw.throughput is not None:
        hw.sources["throughput"] = hw.throughput.basis
    else:
        hw.missing["gpu_hours"] = "give `gpu` (with `mfu` or its default range), `flop_per_s`, or `gpu_hours`"

    hw.power_w = assumptions.board_power(acc, power_w)
    if hw.power_w is not None:
        hw.sources["power"] = hw.power_w.basis
    else:
        hw.missing["energy_kwh"] = "give `power_w`, `energy_kwh`, or a `gpu` with a known TDP"

    hw.intensity, zone = assumptions.intensity(region, intensity)
    assumptions.check_provider(provider, zone)
    if hw.intensity is not None:
        hw.sources["intensity"] = hw.intensity.basis
    else:
        hw.missing["co2e_kg"] = "give `region` or `intensity_g_per_kwh`"
    hw.pue = assumptions.pue(pue, provider=provider, zone=zone)
    hw.sources["pue"] = hw.pue.basis

    hw.price, why = assumptions.price(acc, usd_per_gpu_hour=usd_per_gpu_hour, usd_per_kwh=usd_per_kwh,
                                      hardware_usd=hardware_usd, hardware_lifetime_years=lifetime_years,
                                      provider=provider)
    if hw.price is not None:
        hw.sources["cost"] = hw.price.basis
    else:
        hw.missing["cost_usd"] = why
    return hw


def _chain(hw: _Hardware, flops: Quantity | None, gpu_hours: Quantity | None,
           it_energy_kwh: Range | None = None) -> Footprint:
    """Walk FLOPs -> GPU-hours -> duration -> energy -> CO2e -> dollars as far as the inputs allow."""
    q: dict[str, Quantity] = {}
    missing = dict(hw.missing)
    sources = dict(hw.sources)
    if flops is None and gpu_hours is not None and hw.throughput is not None:
        flops = Quantity.of(gpu_hours.range * S_PER_HOUR * hw.throughput.range, "estimated",
                            "GPU-hours x 3600 x achieved FLOP/s per GPU")
        sources["flops"] = flops.basis
        missing.pop("flops", None)
    if flops is not None:
        q["flops"] = flops
        if gpu_hours is None and hw.throughput is not None:
            gpu_hours = Quantity.of(flops.range / hw.throughput.range / S_PER_HOUR, "estimated",
                                    "FLOPs / (peak FLOP/s x MFU) / 3600")
    if gpu_hours is not None:
        q["gpu_hours"] = gpu_hours
        q["duration_s"] = Quantity.of(gpu_hours.range * S_PER_HOUR / hw.gpus, gpu_hours.method, "GPU-hours / GPUs")
        missing.pop("gpu_hours", None)
    else:
        missing.setdefault("gpu_hours", "give `gpu_hours`, `duration_s`, or FLOPs with a throughput")
    it = None
    if it_energy_kwh is not None:
        it = Quantity.of(it_energy_kwh, "estimated", "given IT energy")
        sources["power"] = "given IT energy"
        missing.pop("energy_kwh", None)
        if gpu_hours is not None and hw.power_w is not None and "given" in hw.sources.get("power", ""):
            _agree("energy_kwh", it_energy_kwh.central, "gpu_hours x power_w / 1000",
                   (gpu_hours.range * hw.power_w.range).central / W_PER_KW)
    elif gpu_hours is not None and hw.power_w is not None:
        it = Quantity.of(gpu_hours.range * hw.power_w.range / W_PER_KW, "estimated", "GPU-hours x board power")
    if it is not None:
        q["energy_kwh"] = assumptions.facility(it, hw.pue, "estimated")
        if hw.intensity is not None:
            q["co2e_kg"] = assumptions.carbon(q["energy_kwh"], hw.intensity, "estimated")
    for name in ("duration_s", "energy_kwh", "co2e_kg"):
        if name not in q:
            missing.setdefault(name, "needs GPU-hours first" if gpu_hours is None else
                               "needs energy first" if name == "co2e_kg" and it is None else
                               "give `power_w` or a `gpu` with a known TDP")
    cost = hw.price.cost(gpu_hours, q.get("energy_kwh")) if hw.price is not None else None
    if cost is not None:
        q["cost_usd"] = cost.with_(basis=hw.price.basis)
    else:
        missing.setdefault("cost_usd", "needs GPU-hours and a price")
    for name in q:
        missing.pop(name, None)
    used = {"throughput": "gpu_hours", "power": "energy_kwh", "pue": "energy_kwh", "intensity": "co2e_kg",
            "cost": "cost_usd"}
    sources = {k: v for k, v in sources.items() if used.get(k, "flops") in q or k == "flops" and flops}
    return Footprint(**q, it_energy_kwh=it, energy_by_component_kwh={"gpu": it} if it is not None else {},
                     pue=hw.pue if it is not None else None, intensity_g_per_kwh=hw.intensity, method="estimated",
                     sources=sources, missing=missing)
