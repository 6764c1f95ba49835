"""A measured run's footprint from its parts (one part per process; ranks of a job share a run id).

Pure arithmetic, no I/O: the tracker calls it for live readings, windows and at stop; the ledger calls it at
every write of a part and stores the result. Each physical device is counted once (host + GPU UUID, host + RAPL
zone): when several parts read the same device, the largest reading wins. Conversion factors (PUE, intensity,
price) come from the run context, resolved by `wattwise.assumptions` like an estimate's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping

from . import assumptions
from .constants import J_PER_KWH, S_PER_HOUR
from .footprint import Footprint, Quantity, Range

STATUSES = ("running", "ok", "failed", "interrupted", "lost")
_ORDER = ("failed", "interrupted", "running", "lost")


def combine_status(statuses: Iterable[str]) -> str:
    """One status for a run from its parts' statuses (the worst wins)."""
    s = set(statuses)
    for st in _ORDER:
        if st in s:
            return st
    return "ok"


def merge_devices(parts: Iterable[Mapping[str, Any]]) -> dict[str, dict]:
    """Readings by device key, each device once (largest energy wins across parts)."""
    devices: dict[str, dict] = {}
    for p in parts:
        for r in p.get("readings") or []:
            cur = devices.get(r["device"])
            if cur is None or r["energy_j"] > cur["energy_j"]:
                devices[r["device"]] = r
    return devices


def _kind_method(kinds: set[str]) -> str:
    return "measured" if kinds == {"measured"} else "estimated" if kinds == {"estimated"} else "mixed"


def _kind_label(kinds: set[str]) -> str:
    m = _kind_method(kinds)
    return "mixed (measured, then estimated after a meter failed)" if m == "mixed" else m


def flops_quantity(total: float, ctx: Mapping[str, Any], sources: Mapping[str, str]) -> Quantity:
    """FLOPs reported to a tracked run: declared `flops_method` ('counted' or '6ND') or a `flops` source,
    else reported through step(flops=...) without saying how they were obtained (an estimate)."""
    declared = str(ctx.get("flops_method") or "").lower()
    src = sources.get("flops") or ""
    if declared in ("counted", "traced", "measured"):
        return Quantity(total, method="counted", basis="counted" + (f": {src}" if src else " (declared by the run)"))
    if declared in ("6nd", "6 n d", "formula", "estimated"):
        return Quantity(total, method="estimated", basis="6ND" + (f": {src}" if src else " (declared by the run)"))
    if src:
        s = src.lower()
        if "count" in s or "trac" in s:
            return Quantity(total, method="counted", basis=f"counted: {src}")
        if "6 n d" in s or "6nd" in s or "c = 6" in s:
            return Quantity(total, method="estimated", basis=f"6ND: {src}")
        return Quantity(total, method="estimated", basis="given by the user" if s == "given" else src)
    return Quantity(total, method="estimated",
                    basis="reported to the tracker by step(flops=...); counted or 6ND not recorded")


# context keys a footprint carries as its inputs, so that a card can be built from footprints alone
_INPUT_KEYS = ("name", "project", "tags", "price", "peak_flop_per_s", "location_known", "flops_method", "dtype",
               "accuracy", "metrics", "command")


def run_inputs(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """What a tracked run was given: its names, price, peak, location status and user-reported results."""
    out = {k: ctx[k] for k in _INPUT_KEYS if ctx.get(k) is not None}
    out["tags"] = list(ctx.get("tags") or [])
    out.setdefault("name", None)
    out.setdefault("project", None)
    return out


def token_rates(parts: list[dict], duration: float | None, energy: Quantity | None) -> dict[str, Any]:
    """tokens (reported through step(tokens=...), summed over the parts), tokens_per_s (over the measured
    wall-clock) and j_per_token (facility energy per token, central value): {} when no tokens were reported."""
    tokens = sum(float((p.get("info") or {}).get("tokens") or 0.0) for p in parts)
    if not tokens:
        return {}
    return {"tokens": tokens, "tokens_per_s": tokens / duration if duration else None,
            "j_per_token": float(energy) * J_PER_KWH / tokens if energy is not None else None}


def footprint_from_parts(parts: list[dict], context: Mapping[str, Any], run_id: str | None = None,
                         status: str | None = None) -> Footprint:
    """Footprint of the parts of one run (see the module docstring). `context` is the run context's dict
    (`RunContext.to_dict()`): pue, intensity_g_per_kwh, price, peak_flop_per_s, sources, name, project..."""
    ctx = context
    devices = merge_devices(parts)
    comp_rng: dict[str, Range] = {}
    kinds: dict[str, set] = {}
    for r in devices.values():
        c = r["component"]
        e = Range(r["low_j"] / J_PER_KWH, r["energy_j"] / J_PER_KWH, r["high_j"] / J_PER_KWH)
        comp_rng[c] = comp_rng[c] + e if c in comp_rng else e
        kinds.setdefault(c, set()).add(r["kind"])
    sources: dict[str, str] = {**(ctx.get("sources") or {}),
                               **{k: v for p in parts for k, v in ((p.get("info") or {}).get("sources") or {}).items()}}
    comps = {c: Quantity.of(rng, _kind_method(kinds[c]), sources.get(f"energy_{c}", ""))
             for c, rng in comp_rng.items()}
    all_kinds = set().union(*kinds.values()) if kinds else set()
    e_method = _kind_method(all_kinds) if all_kinds else "measured"
    it = None
    for q in comps.values():
        it = q if it is None else it.plus(q)
    if it is not None:
        it = it.with_(method=e_method, basis="meters, each device counted once")

    starts = [p["start_ts"] for p in parts if p.get("start_ts") is not None]
    ends = [p.get("end_ts") or p.get("updated_ts") for p in parts if p.get("end_ts") or p.get("updated_ts")]
    start, end = (min(starts) if starts else None), (max(ends) if ends else None)
    elapsed = [(p.get("info") or {}).get("elapsed_s") for p in parts]
    if parts and all(e is not None for e in elapsed):   # monotonic clocks: a clock stepped back changes nothing
        duration = Quantity(max(elapsed), method="measured", basis="longest part, monotonic clock")
    else:
        duration = None if start is None or end is None else Quantity(
            max(0.0, end - start), method="measured", basis="first start to last end")

    pue = Quantity.from_dict(ctx.get("pue"), basis=sources.get("pue", ""))
    inten = Quantity.from_dict(ctx.get("intensity_g_per_kwh"), basis=sources.get("intensity", ""))
    energy = co2e = None
    if it is not None:
        energy = assumptions.facility(it, pue, e_method) if pue is not None else it
        if inten is not None:
            co2e = assumptions.carbon(energy, inten, e_method)
    gpus = [r for r in devices.values() if r["component"] == "gpu"]
    gpu_hours = (Quantity(len(gpus) * duration / S_PER_HOUR, method="measured", basis="GPUs x measured wall-clock")
                 if gpus and duration is not None else None)
    price = assumptions.Price.from_dict(ctx.get("price"), sources.get("cost", ""))
    cost = None
    if price is not None:
        cost = price.cost(gpu_hours, energy, "measured" if price.per == "gpu_hour" else e_method)

    total_flops = sum(p.get("flops") or 0.0 for p in parts) if any(p.get("flops") for p in parts) else None
    flops = flops_quantity(total_flops, ctx, sources) if total_flops is not None else None
    flop_per_s = total_flops / duration if total_flops is not None and duration else None
    peak = ctx.get("peak_flop_per_s")
    mfu = flop_per_s / (peak * len(gpus)) if flop_per_s is not None and peak and gpus else None

    labels = Counter(r.get("label") or r["device"] for r in gpus)
    hw = [f"{n} x {label}" for label, n in labels.items()]
    hw += [f"CPU {label}" for label in sorted({r.get("label") for r in devices.values()
                                               if r["component"] == "cpu" and r.get("label")})]
    for c, k in kinds.items():
        sources[f"energy_{c}"] = f"{_kind_label(k)}: " + sources.get(f"energy_{c}", "")
    missing = {}
    embodied_extra = None
    emb = ctx.get("embodied")
    if emb and duration is not None:
        # the hardware's manufacturing carbon for the time this run held it (wattwise.embodied, BLOOM's method)
        from .embodied import job_embodied
        n_gpus = len(gpus)
        nodes = emb.get("nodes") or max(1, len({r["device"].split("/", 1)[0] for r in devices.values()}))
        if n_gpus:
            e = job_embodied(gpus=n_gpus, nodes=int(nodes), wall_clock_h=float(duration) / S_PER_HOUR,
                             gpu_kg=emb.get("gpu_kg"), server_kg=emb.get("server_kg"),
                             lifetime_years=emb.get("lifetime_years"), utilisation=emb.get("utilisation"))
            embodied_extra = e.to_dict()
            sources["embodied"] = f"{e.accelerators.basis} + {e.servers.basis}; {e.sources}"
            if co2e is not None:
                co2e = co2e.plus(e.total).with_(method="mixed", basis="facility energy x grid intensity + "
                                                                    "embodied carbon (estimated)")
        else:
            missing["embodied"] = "no accelerator metered: embodied carbon is computed per accelerator and server"
    if co2e is None:
        missing["co2e_kg"] = "no grid intensity"
    if cost is None:
        missing["cost_usd"] = "no price: give a GPU with catalog prices or usd_per_kwh"
    infos = [p.get("info") or {} for p in parts]
    hosts = sorted({p["host"] for p in parts if p.get("host")})
    extra = {
        "run_id": run_id, "status": status or combine_status(p.get("status", "running") for p in parts),
        "name": ctx.get("name"), "project": ctx.get("project"), "tags": list(ctx.get("tags") or []),
        "start_ts": start, "end_ts": max((p["end_ts"] for p in parts if p.get("end_ts")), default=None)
        if parts and all(p.get("end_ts") for p in parts) else None,
        "updated_ts": max((p.get("updated_ts") or 0) for p in parts) if parts else None,
        "host": ",".join(hosts) or None,
        "world_size": max([len(parts)] + [int(i.get("world_size") or 1) for i in infos]),
        "components": {c: _kind_label(k) for c, k in kinds.items()}, "devices": sorted(devices),
        "errors": [i["error"] for i in infos if i.get("error")],
        **({"embodied": embodied_extra} if embodied_extra is not None else {}),
        "warnings": sorted({w for i in infos for w in i.get("warnings") or []}),
        "parts": [{"rank": p.get("rank", 0), "host": p.get("host"), "pid": p.get("pid"), "status": p.get("status"),
                   "error": (p.get("info") or {}).get("error"), "exit_code": (p.get("info") or {}).get("exit_code")}
                  for p in parts],
    }
    extra.update(token_rates(parts, duration, energy))
    return Footprint(flops=flops, gpu_hours=gpu_hours, duration_s=duration, energy_kwh=energy, co2e_kg=co2e,
                     cost_usd=cost, it_energy_kwh=it, energy_by_component_kwh=comps, pue=pue,
                     intensity_g_per_kwh=inten, mfu=mfu, flop_per_s=flop_per_s, method="measured",
                     hardware="; ".join(hw) or None, zone=ctx.get("region"),
                     inputs=run_inputs(ctx),
                     sources=sources, missing=missing, extra=extra)
