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

from ...errors import InvalidValueError
from ..laws import TRAIN_FLOPS_PER_PARAM_TOKEN

# Hoffmann et al. 2022, Table 2 (a: N_opt ~ C^a, b: D_opt ~ C^b)
CHINCHILLA_EXPONENTS = {"approach1": (0.50, 0.50), "approach2": (0.49, 0.51), "approach3": (0.46, 0.54)}
CHINCHILLA_SOURCE = "Hoffmann et al. 2022, Table 2"


def _slices(runs):
    """{budget: (log N array, loss array, log D array)} over runs with a finite loss."""
    import numpy as np

    out: dict[float, list] = {}
    for r in runs:
        if r.get("loss") is None or not math.isfinite(r["loss"]):
            continue
        out.setdefault(float(r["budget_flops"]), []).append((math.log(r["params"]), r["loss"], math.log(r["tokens"])))
    return {c: tuple(np.array(col) for col in zip(*sorted(v))) for c, v in sorted(out.items())}


def _vertex(coef):
    """Vertex x* = -p1 / (2 p2) of p2 x^2 + p1 x + p0 (rows of coef), NaN where not convex."""
    import numpy as np

    p2, p1 = coef[0], coef[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p2 > 0, -p1 / (2 * p2), np.nan)


def isoflop_minima(runs, min_sizes: int = 3) -> tuple[list[dict], list[str]]:
    """Per budget: parabola in log N, its vertex, whether it lies inside the sizes tried."""
    import numpy as np

    minima, notes = [], []
    for c, (x, loss, y) in _slices(runs).items():
        if np.unique(np.round(x, 9)).size < min_sizes:
            notes.append(f"budget {c:.3g} FLOPs: only {x.size} finished sizes, need {min_sizes}; skipped")
            continue
        coef = np.polyfit(x, loss, 2)
        t = float(_vertex(coef[:, None])[0])
        if not math.isfinite(t):
            notes.append(f"budget {c:.3g} FLOPs: loss is not convex in log N (no minimum); skipped")
            continue
        interior = bool(x.min() < t < x.max())
        if not interior:
            notes.append(f"budget {c:.3g} FLOPs: the parabola's minimum N={math.exp(t):.3g} lies outside the sizes "
                         f"tried [{math.exp(x.min()):.3g}, {math.exp(x.max()):.3g}]; widen or shift the slice")
        ky, cy = np.polyfit(x, y, 1)  # tokens at the vertex: log D is linear in log N within a slice
        minima.append({"flops": c, "params": math.exp(t), "tokens": math.exp(ky * t + cy),
                       "loss": float(np.polyval(coef, t)), "interior": interior, "coef": [float(v) for v in coef],
                       "sizes": int(x.size), "best_observed_params": float(math.exp(x[int(np.argmin(loss))]))})
    return minima, notes


def approach2(runs, *, bootstrap: int = 1000, ci_level: float = 0.9, seed: int = 0,
              plan_flops: float | None = None) -> dict:
    """IsoFLOP minima, a and b with residual-bootstrap intervals, and (optionally) N*, D* at `plan_flops`."""
    import numpy as np

    all_minima, notes = isoflop_minima(runs)
    out: dict = {"method": "approach2", "source": "Hoffmann et al. 2022, Sec. 3.2 (IsoFLOP profiles)",
                 "minima": all_minima, "notes": notes, "a": None, "b": None, "ci": {}, "ci_level": ci_level}
    # a vertex outside the sizes tried is an extrapolation of the parabola, not a measured minimum: the power laws
    # use interior minima only (when 2+ exist), as Hoffmann et al. fit only budgets whose valley was bracketed
    minima = [m for m in all_minima if m["interior"]]
    if len(minima) >= 2 and len(minima) < len(all_minima):
        out["notes"].append(f"power laws fitted on the {len(minima)} interior minima; "
                            f"{len(all_minima) - len(minima)} budget(s) left out")
    else:
        minima = all_minima
    out["fitted_budgets"] = [m["flops"] for m in minima]
    if len(minima) < 2:
        out["notes"].append(f"Approach 2 needs IsoFLOP minima at 2+ budgets for a and b; found {len(minima)}")
        return out
    lc = np.log([m["flops"] for m in minima])
    ln = np.log([m["params"] for m in minima])
    ld = np.log([m["tokens"] for m in minima])
    a, log_kn = np.polyfit(lc, ln, 1)
    b, log_kd = np.polyfit(lc, ld, 1)
    out.update(a=float(a), b=float(b), n_coef=float(math.exp(log_kn)), d_coef=float(math.exp(log_kd)))
    if len(minima) < 3:
        out["notes"].append("only 2 IsoFLOP minima: the exponents rest on a single line")
    if plan_flops:
        out["plan"] = {"flops": plan_flops, "params": float(math.exp(log_kn) * plan_flops ** a),
                       "tokens": float(math.exp(log_kd) * plan_flops ** b)}
    # residual bootstrap over the slices that gave a minimum
    sl = _slices(runs)
    used = [m["flops"] for m in minima]
    n = sum(sl[c][0].size for c in used)
    dof = n - 3 * len(used)
    if bootstrap <= 0:
        return out
    if dof <= 0:
        out["notes"].append(f"no interval for a, b: {n} runs leave no residual degrees of freedom after 3 parabola "
                            f"coefficients at each of {len(used)} budgets (use 4+ sizes per budget)")
        return out
    rng = np.random.default_rng(seed)
    fits, resid = {}, []
    for c in used:
        x, loss, y = sl[c]
        coef = np.polyfit(x, loss, 2)
        fits[c] = (x, np.polyval(coef, x), np.polyfit(x, y, 1))
        resid.append(loss - fits[c][1])
    pool = np.concatenate(resid) * math.sqrt(n / dof)
    ts, lds = [], []
    for c in used:
        x, yhat, (ky, cy) = fits[c]
        Y = yhat[:, None] + rng.choice(pool, size=(x.size, bootstrap), replace=True)
        t = _vertex(np.polyfit(x, Y, 2))
        ts.append(t)
        lds.append(ky * t + cy)
    T, LD = np.array(ts), np.array(lds)                     # (budgets, bootstrap)
    ok = np.all(np.isfinite(T), axis=0)
    if ok.sum() < max(10, bootstrap // 2):
        out["notes"].append(f"only {int(ok.sum())} of {bootstrap} bootstrap resamples gave a minimum at every budget; "
                            "no interval")
        return out
    lcv = np.log(used)
    A = np.vstack([lcv, np.ones_like(lcv)]).T
    coef_n = np.linalg.lstsq(A, T[:, ok], rcond=None)[0]     # rows: slope, intercept
    coef_d = np.linalg.lstsq(A, LD[:, ok], rcond=None)[0]
    q = (1 - ci_level) / 2
    samples = {"a": coef_n[0], "b": coef_d[0]}
    if plan_flops:
        with np.errstate(over="ignore"):  # a wild resample may overflow to inf; quantiles still hold
            samples["plan_params"] = np.exp(coef_n[1] + coef_n[0] * math.log(plan_flops))
            samples["plan_tokens"] = np.exp(coef_d[1] + coef_d[0] * math.log(plan_flops))
    out["ci"] = {k: (float(np.quantile(v, q)), float(np.quantile(v, 1 - q))) for k, v in samples.items()}
    out["bootstrap"] = {"resamples": bootstrap, "used": int(ok.sum()), "kind": "residual (pooled)"}
    return out


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
