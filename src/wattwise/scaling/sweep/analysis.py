"""Fit and plan from a sweep's own runs, and total its footprint.

Approach 2 (Hoffmann et al. 2022, Sec. 3.2, "IsoFLOP profiles"; implemented once in wattwise.scaling.isoflop): per
budget C, fit a parabola of the final loss in log N; its vertex is N*(C). Then N* = k_N C^a and D* = k_D C^b by least
squares in log-log. Intervals: residual bootstrap (the parabola residuals of all slices pooled, rescaled by
sqrt(n / (n - 3 m)) for the 3 m fitted coefficients, resampled onto every run; each resample refits every parabola
and both power laws).
Approach 3 (Hoffmann et al. 2022, Sec. 3.3, as corrected by Besiroglu et al. 2024): `wattwise.scaling.fit_chinchilla`
with its multinomial bootstrap. Hoffmann et al. 2022, Table 2: a = 0.49 (Approach 2), 0.46 (Approach 3); b = 0.51,
0.54; i.e. both ~0.5.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

from ...constants import TRAIN_FLOPS_PER_PARAM_TOKEN
from ...errors import InvalidValueError
from .. import isoflop

if TYPE_CHECKING:
    from ...footprint import Footprint

# Hoffmann et al. 2022, Table 2 (a: N_opt ~ C^a, b: D_opt ~ C^b)
CHINCHILLA_EXPONENTS = {"approach1": (0.50, 0.50), "approach2": (0.49, 0.51), "approach3": (0.46, 0.54)}
CHINCHILLA_SOURCE = "Hoffmann et al. 2022, Table 2"


def isoflop_minima(runs, min_sizes: int = 3) -> tuple[list[dict], list[str]]:
    """Per budget: parabola in log N, its vertex, whether it lies inside the sizes tried (wattwise.scaling.isoflop)."""
    return isoflop.profile_minima(isoflop.slices_from_runs(runs), min_sizes)


def approach2(runs, *, bootstrap: int = 1000, ci_level: float = 0.9, seed: int = 0,
              plan_flops: float | None = None) -> dict:
    """IsoFLOP minima, a and b with residual-bootstrap intervals, and (optionally) N*, D* at `plan_flops`; the
    power laws use the interior minima only when 2+ exist (wattwise.scaling.isoflop.fit_profiles)."""
    return isoflop.fit_profiles(isoflop.slices_from_runs(runs), interior_only=True, bootstrap=bootstrap,
                                ci_level=ci_level, seed=seed, plan_flops=plan_flops)


def approach3(runs, *, bootstrap: int = 200, ci_level: float = 0.9, seed: int = 0,
              plan_flops: float | None = None) -> dict:
    """The parametric fit L = E + A/N^alpha + B/D^beta on the sweep's runs (wattwise.scaling.fit_chinchilla)."""
    from ..fit import ScalingFitWarning, fit_chinchilla

    ok = [r for r in runs if r.get("loss") is not None and math.isfinite(r["loss"])]
    out: dict = {"method": "approach3", "source": "Hoffmann et al. 2022, Sec. 3.3; Besiroglu et al. 2024",
                 "notes": [], "a": None, "b": None, "ci": {}, "ci_level": ci_level}
    if len(ok) < 5:
        out["notes"].append(f"Approach 3 fits 5 parameters and needs 5+ runs; have {len(ok)}")
        return out
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScalingFitWarning)
        try:
            fit = fit_chinchilla([r["params"] for r in ok], [r["tokens"] for r in ok], [r["loss"] for r in ok],
                                 bootstrap=bootstrap, ci_level=ci_level, random_state=seed, budget_flops=plan_flops)
        except InvalidValueError as e:
            out["notes"].append(f"Approach 3 failed: {e}")
            return out
    out["notes"] += sorted({str(w.message) for w in caught})
    d = fit.to_dict()
    out.update({k: d[k] for k in ("E", "A", "B", "alpha", "beta", "a", "b")})
    out["ci"] = {k: tuple(v) for k, v in d.get("ci", {}).items() if k in ("a", "b", "alpha", "beta", "E",
                                                                          "tokens_per_param")}
    if plan_flops and all(math.isfinite(x) for x in (fit.alpha_, fit.beta_)) and fit.alpha_ > 0 and fit.beta_ > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScalingFitWarning)
            alloc = fit.optimal(plan_flops)
        out["plan"] = {"flops": plan_flops, "params": alloc.params, "tokens": alloc.tokens, "loss": alloc.loss}
    return out


_MEASURED = ("duration_s", "energy_kwh", "co2e_kg", "cost_usd")
_RANGED = ("energy_kwh", "co2e_kg", "cost_usd")  # run rows carry {q}_low / {q}_high for these (ledger columns)
PLAN_BASIS = ("the sweep's measured energy and wall-clock per FLOP on this machine, one process; tiny models run "
              "less efficiently than larger ones, so this is an upper-side figure")


def _sum(runs, key: str) -> float | None:
    vals = [r.get(key) for r in runs]
    return None if not vals or any(v is None for v in vals) else float(sum(vals))


def totals(runs) -> Footprint:
    """The sweep's own footprint: the sum of its runs' measured quantities (method 'measured'; FLOPs 'counted').
    A quantity that any run lacks is None (named in `missing`). `extra`: runs (how many) and flops_6nd (the
    same work as 6 N D)."""
    from ...footprint import Footprint
    from ...quantity import Quantity, Range

    n = len(runs)
    basis = f"sum over the sweep's {n} finished runs of their tracked footprints (ledger)"
    ranges, missing = {}, {}
    for q in _MEASURED:
        c = _sum(runs, q)
        if c is None:
            missing[q] = f"not recorded for every run of the sweep ({n} runs)"
            continue
        lo, hi = (_sum(runs, f"{q}_low"), _sum(runs, f"{q}_high")) if q in _RANGED else (None, None)
        ranges[q] = Range(c if lo is None else lo, c, c if hi is None else hi)
    counted = _sum(runs, "flops_counted")
    flops = None if counted is None else Quantity(
        counted, method="counted", basis=f"sum over the sweep's {n} runs of the FLOPs counted per token by tracing "
                                         "the model (wattwise.flops) x tokens trained")
    if flops is None:
        missing["flops"] = "counted FLOPs not known for every run of the sweep"
    hardware = {r.get("hardware") for r in runs}
    return Footprint.of(ranges, "measured", {q: basis for q in ranges}, flops=flops, missing=missing,
                        hardware=hardware.pop() if len(hardware) == 1 else None,
                        extra={"runs": n, "flops_6nd": _sum(runs, "flops_6nd")})


def plan_footprint(plan: dict | None, sweep_totals: Footprint, intensity_g_per_kwh: dict | None = None,
                   usd_per_kwh: float | None = None) -> Footprint | None:
    """The plan's footprint at the sweep's own measured efficiency (energy per FLOP and FLOP/s of this machine):
    the sweep's totals scaled by plan FLOPs / the sweep's 6 N D, method 'estimated'. None without a plan, or when
    the sweep's counted FLOPs or energy are unknown. `extra`: params, tokens (the plan) and basis."""
    from ...footprint import Footprint
    from ...quantity import Quantity

    flops_6nd = sweep_totals.extra.get("flops_6nd")
    if not plan or not sweep_totals.flops or not sweep_totals.energy_kwh or not flops_6nd:
        return None
    c = plan["flops"]
    scale = c / flops_6nd  # the plan's FLOPs are 6ND too
    qs = {}
    for q in _MEASURED:
        v = getattr(sweep_totals, q)
        if v is not None and (v or q != "duration_s"):
            qs[q] = v.scale(scale).with_(method="estimated", basis=f"{PLAN_BASIS} (x {scale:.4g})")
    if usd_per_kwh is not None and "energy_kwh" in qs and "cost_usd" not in qs:
        qs["cost_usd"] = Quantity.of(qs["energy_kwh"].range * usd_per_kwh, "estimated",
                                     f"extrapolated energy x {usd_per_kwh:g} USD/kWh")
    flops = Quantity(c, method="estimated", basis="C = 6 N D of the planned allocation")
    return Footprint(**qs, flops=flops, method="estimated", hardware=sweep_totals.hardware,
                     inputs={"flops": c, "params": plan["params"], "tokens": plan["tokens"]},
                     extra={"params": plan["params"], "tokens": plan["tokens"], "basis": PLAN_BASIS})


def footprint_json(fp: Footprint | None) -> dict | None:
    """`fp.to_dict()` plus the flat keys sweep.json carried before footprints (flops_counted of the sweep,
    energy_kwh_low, energy_kwh_high, co2e_kg_low, ... as in the ledger's columns)."""
    if fp is None:
        return None
    out = fp.to_dict()
    if fp.flops is not None and fp.flops.method == "counted":
        out["flops_counted"] = float(fp.flops)
    for q in _RANGED:
        v = getattr(fp, q)
        out[f"{q}_low"], out[f"{q}_high"] = (None, None) if v is None else (v.low, v.high)
    return out


def default_plan_flops(budgets) -> float:
    """10x the largest budget of the sweep."""
    return 10.0 * max(float(b) for b in budgets)


SIX = TRAIN_FLOPS_PER_PARAM_TOKEN
