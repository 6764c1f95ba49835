"""Fit and plan from a sweep's own runs.

Approach 2 (Hoffmann et al. 2022, Sec. 3.2, "IsoFLOP profiles"): per budget C, fit a parabola of the final loss in
log N; its vertex is N*(C). Then N* = k_N C^a and D* = k_D C^b by least squares in log-log. Intervals: residual
bootstrap (the parabola residuals of all slices pooled, rescaled by sqrt(n / (n - 3 m)) for the 3 m fitted
coefficients, resampled onto every run; each resample refits every parabola and both power laws).
Approach 3 (Hoffmann et al. 2022, Sec. 3.3, as corrected by Besiroglu et al. 2024): `wattwise.scaling.fit_chinchilla`
with its multinomial bootstrap. Hoffmann et al. 2022, Table 2: a = 0.49 (Approach 2), 0.46 (Approach 3); b = 0.51,
0.54; i.e. both ~0.5.
"""

from __future__ import annotations

import math
import warnings

from ...constants import TRAIN_FLOPS_PER_PARAM_TOKEN
from ...errors import InvalidValueError
from .. import isoflop

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


def totals(runs) -> dict:
    """Sum of the runs' measured quantities, central and low/high (None where any run lacks it)."""
    keys = ("flops_counted", "flops_6nd", "duration_s", "energy_kwh", "energy_kwh_low", "energy_kwh_high",
            "co2e_kg", "co2e_kg_low", "co2e_kg_high", "cost_usd", "cost_usd_low", "cost_usd_high")
    out = {}
    for k in keys:
        vals = [r.get(k) for r in runs]
        out[k] = None if not vals or any(v is None for v in vals) else float(sum(vals))
    out["runs"] = len(runs)
    return out


def plan_footprint(plan: dict | None, sweep_totals: dict, intensity_g_per_kwh: dict | None = None,
                   usd_per_kwh: float | None = None) -> dict | None:
    """The plan's footprint at the sweep's own measured efficiency (energy per FLOP and FLOP/s of this machine)."""
    if not plan or not sweep_totals.get("flops_counted") or not sweep_totals.get("energy_kwh"):
        return None
    c = plan["flops"]
    scale = c / sweep_totals["flops_6nd"]  # the plan's FLOPs are 6ND too
    out = {"flops": c, "params": plan["params"], "tokens": plan["tokens"], "method": "extrapolated",
           "basis": "the sweep's measured energy and wall-clock per FLOP on this machine, one process; tiny "
                    "models run less efficiently than larger ones, so this is an upper-side figure"}
    if sweep_totals.get("duration_s"):
        out["duration_s"] = sweep_totals["duration_s"] * scale
    for k in ("energy_kwh", "energy_kwh_low", "energy_kwh_high", "co2e_kg", "co2e_kg_low", "co2e_kg_high",
              "cost_usd", "cost_usd_low", "cost_usd_high"):
        if sweep_totals.get(k) is not None:
            out[k] = sweep_totals[k] * scale
    if usd_per_kwh is not None and out.get("energy_kwh") is not None and "cost_usd" not in out:
        out["cost_usd"] = out["energy_kwh"] * usd_per_kwh
    return out


def default_plan_flops(budgets) -> float:
    """10x the largest budget of the sweep."""
    return 10.0 * max(float(b) for b in budgets)


SIX = TRAIN_FLOPS_PER_PARAM_TOKEN
