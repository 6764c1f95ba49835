"""Approach 2 of Hoffmann et al. 2022 (Sec. 3.2, "IsoFLOP profiles"), once, for `IsoFLOPFit` and the sweep.

Per compute budget C, a parabola of the final loss in log N; its vertex is N*(C) (the runs' tokens at the vertex
give D*(C)). Then N* = n_coef C^a and D* = d_coef C^b by least squares in log-log. Hoffmann et al. 2022, Table 2:
a = 0.49, b = 0.51. Intervals: residual bootstrap (the parabola residuals of all slices pooled, rescaled by
sqrt(n / (n - 3 m)) for the 3 m fitted coefficients, resampled onto every run; each resample refits every parabola
and both power laws).

A *slice* is one budget's runs: {C: (log N, loss, log D or None)}. With log D, D* comes from log D regressed on
log N within the slice (runs trained for whole steps sit a little off the nominal budget); without it the runs
lie on C = 6 N D by construction and D* = C / (6 N*). `slices_from_runs` groups sweep rows by their nominal
budget; `slices_from_arrays` groups arrays of runs whose compute 6 N D agrees within 5%.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

from .._checks import check_number
from ..constants import TRAIN_FLOPS_PER_PARAM_TOKEN
from ..errors import InvalidValueError
from ._base import Params, ScalingFitWarning, as_runs
from .laws import Allocation

SOURCE = "Hoffmann et al. 2022, Sec. 3.2 (IsoFLOP profiles)"
SIZE_DECIMALS = 9  # log N rounded to this many decimals when counting the distinct sizes of a slice


# --- slices -------------------------------------------------------------------------------------------------------

def group_budgets(flops, rtol: float = 0.05):
    """Integer group label per run; runs whose compute differs by < rtol share a budget."""
    import numpy as np

    flops = np.asarray(flops, float)
    order = np.argsort(flops)
    labels = np.empty(flops.size, dtype=int)
    g, first = 0, None
    for i in order:
        if first is None:
            first = flops[i]
        elif flops[i] > first * (1 + rtol):  # starts a new budget
            g, first = g + 1, flops[i]
        labels[i] = g
    return labels


def slices_from_runs(runs) -> dict:
    """{budget_flops: (log N, loss, log D)} over run dicts with a finite loss, sorted within each slice."""
    import numpy as np

    out: dict[float, list] = {}
    for r in runs:
        if r.get("loss") is None or not math.isfinite(r["loss"]):
            continue
        out.setdefault(float(r["budget_flops"]), []).append((math.log(r["params"]), r["loss"], math.log(r["tokens"])))
    return {c: tuple(np.array(col) for col in zip(*sorted(v))) for c, v in sorted(out.items())}


def slices_from_arrays(n, d, loss, rtol: float = 0.05) -> dict:
    """{C: (log N, loss, None)} from arrays of runs, grouped by 6 N D within `rtol`; C is the group's geometric
    mean compute."""
    import numpy as np

    c = TRAIN_FLOPS_PER_PARAM_TOKEN * n * d
    labels = group_budgets(c, rtol)
    out = {}
    for g in np.unique(labels):
        sel = labels == g
        out[float(np.exp(np.mean(np.log(c[sel]))))] = (np.log(n[sel]), loss[sel], None)
    return out


# --- the fit ------------------------------------------------------------------------------------------------------

def vertex(coef):
    """Vertex x* = -p1 / (2 p2) of p2 x^2 + p1 x + p0 (rows of coef), NaN where not convex."""
    import numpy as np

    p2, p1 = coef[0], coef[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p2 > 0, -p1 / (2 * p2), np.nan)


def _tokens_line(c: float, x, y) -> tuple[float, float]:
    """(slope, intercept) of log D in log N within a slice; exactly log D = log(C/6) - log N without log D."""
    import numpy as np

    if y is None:
        return -1.0, math.log(c / TRAIN_FLOPS_PER_PARAM_TOKEN)
    ky, cy = np.polyfit(x, y, 1)
    return float(ky), float(cy)


def profile_minima(slices: dict, min_sizes: int = 3) -> tuple[list[dict], list[str]]:
    """Per budget: the parabola in log N, its vertex, whether it lies inside the sizes tried; and notes on the
    budgets skipped or extrapolated."""
    import numpy as np

    minima, notes = [], []
    for c, (x, loss, y) in slices.items():
        if np.unique(np.round(x, SIZE_DECIMALS)).size < min_sizes:
            notes.append(f"budget {c:.3g} FLOPs: only {x.size} finished sizes, need {min_sizes}; skipped")
            continue
        coef = np.polyfit(x, loss, 2)
        t = float(vertex(coef[:, None])[0])
        if not math.isfinite(t):
            notes.append(f"budget {c:.3g} FLOPs: loss is not convex in log N (no minimum); skipped")
            continue
        interior = bool(x.min() < t < x.max())
        if not interior:
            notes.append(f"budget {c:.3g} FLOPs: the parabola's minimum N={math.exp(t):.3g} lies outside the sizes "
                         f"tried [{math.exp(x.min()):.3g}, {math.exp(x.max()):.3g}]; widen or shift the slice")
        n_star = math.exp(t)
        if y is None:  # the runs lie on C = 6 N D
            tokens = c / (TRAIN_FLOPS_PER_PARAM_TOKEN * n_star)
        else:          # tokens at the vertex: log D is linear in log N within a slice
            ky, cy = _tokens_line(c, x, y)
            tokens = math.exp(ky * t + cy)
        minima.append({"flops": c, "params": n_star, "tokens": tokens,
                       "loss": float(np.polyval(coef, t)), "interior": interior, "coef": [float(v) for v in coef],
                       "sizes": int(x.size), "best_observed_params": float(math.exp(x[int(np.argmin(loss))]))})
    return minima, notes


def fit_profiles(slices: dict, *, min_sizes: int = 3, interior_only: bool = True, bootstrap: int = 0,
                 ci_level: float = 0.9, seed: int = 0, plan_flops: float | None = None) -> dict:
    """Approach 2 on slices: IsoFLOP minima, a and b (with residual-bootstrap intervals when `bootstrap` > 0),
    n_coef and d_coef, and (optionally) N*, D* at `plan_flops`. With `interior_only`, a vertex outside the sizes
    tried is left out of the power laws when 2+ interior minima exist. `a` is None when fewer than 2 minima."""
    import numpy as np

    all_minima, notes = profile_minima(slices, min_sizes)
    out: dict = {"method": "approach2", "source": SOURCE,
                 "minima": all_minima, "notes": notes, "a": None, "b": None, "ci": {}, "ci_level": ci_level}
    # a vertex outside the sizes tried is an extrapolation of the parabola, not a measured minimum: the power laws
    # use interior minima only (when 2+ exist), as Hoffmann et al. fit only budgets whose valley was bracketed
    minima = [m for m in all_minima if m["interior"]] if interior_only else all_minima
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
    if bootstrap > 0:
        _residual_bootstrap(out, slices, [m["flops"] for m in minima], bootstrap, ci_level, seed, plan_flops)
    return out


def _residual_bootstrap(out: dict, slices: dict, used: list, bootstrap: int, ci_level: float, seed: int,
                        plan_flops: float | None) -> None:
    """Intervals for a, b (and the plan) into out["ci"], over the slices that gave the fitted minima."""
    import numpy as np

    n = sum(slices[c][0].size for c in used)
    dof = n - 3 * len(used)
    if dof <= 0:
        out["notes"].append(f"no interval for a, b: {n} runs leave no residual degrees of freedom after 3 parabola "
                            f"coefficients at each of {len(used)} budgets (use 4+ sizes per budget)")
        return
    rng = np.random.default_rng(seed)
    fits, resid = {}, []
    for c in used:
        x, loss, y = slices[c]
        coef = np.polyfit(x, loss, 2)
        fits[c] = (x, np.polyval(coef, x), _tokens_line(c, x, y))
        resid.append(loss - fits[c][1])
    pool = np.concatenate(resid) * math.sqrt(n / dof)
    ts, lds = [], []
    for c in used:
        x, yhat, (ky, cy) = fits[c]
        Y = yhat[:, None] + rng.choice(pool, size=(x.size, bootstrap), replace=True)
        t = vertex(np.polyfit(x, Y, 2))
        ts.append(t)
        lds.append(ky * t + cy)
    T, LD = np.array(ts), np.array(lds)                     # (budgets, bootstrap)
    ok = np.all(np.isfinite(T), axis=0)
    if ok.sum() < max(10, bootstrap // 2):
        out["notes"].append(f"only {int(ok.sum())} of {bootstrap} bootstrap resamples gave a minimum at every budget; "
                            "no interval")
        return
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


# --- the estimator ------------------------------------------------------------------------------------------------

@dataclass
class IsoFLOPFit(Params):
    """Hoffmann et al. 2022 Approach 2 (Sec. 3.2): per budget, a parabola of loss in log N; the minima then follow
    N_opt = n_coef * C^a and D_opt = d_coef * C^b (least squares in log-log). Runs are grouped into budgets by
    6 N D (within 5%). `min_sizes`: distinct sizes a budget needs (3 or more); `interior_only`: leave minima
    outside the sizes tried out of the power laws when 2+ interior ones exist (as the sweep does)."""

    min_sizes: int = 3
    interior_only: bool = False

    def fit(self, params, tokens=None, loss=None, *, flops=None):
        if not (isinstance(self.min_sizes, numbers.Integral) and not isinstance(self.min_sizes, bool)
                and self.min_sizes >= 3):
            raise InvalidValueError(f"min_sizes must be an integer >= 3 (a parabola has 3 coefficients), "
                                    f"got {self.min_sizes!r}")
        n, d, l_ = as_runs(params, tokens, loss, flops)
        res = fit_profiles(slices_from_arrays(n, d, l_), min_sizes=int(self.min_sizes),
                           interior_only=bool(self.interior_only))
        if res["a"] is None:
            raise InvalidValueError(f"Approach 2 needs at least 2 IsoFLOP budgets with {self.min_sizes}+ model "
                                    f"sizes each; found {len(res['minima'])}")
        self.warnings_ = list(res["notes"])
        for m in self.warnings_:
            warnings.warn(m, ScalingFitWarning, stacklevel=2)
        self.a_, self.b_ = res["a"], res["b"]
        self.n_coef_, self.d_coef_ = res["n_coef"], res["d_coef"]
        self.minima_ = res["minima"]
        self.fitted_budgets_ = res["fitted_budgets"]
        c = TRAIN_FLOPS_PER_PARAM_TOKEN * n * d
        self.flops_range_ = (float(c.min()), float(c.max()))
        return self

    def optimal(self, flops) -> Allocation:
        c = check_number("flops", flops)
        n = self.n_coef_ * c ** self.a_
        return Allocation(flops=c, params=n, tokens=c / (TRAIN_FLOPS_PER_PARAM_TOKEN * n), loss=None,
                          law="isoflop-fit")

    def to_dict(self) -> dict:
        return {"a": self.a_, "b": self.b_, "n_coef": self.n_coef_, "d_coef": self.d_coef_,
                "minima": self.minima_, "warnings": list(self.warnings_)}


def fit_isoflop(params, tokens=None, loss=None, *, flops=None, min_sizes: int = 3,
                interior_only: bool = False) -> IsoFLOPFit:
    """Approach 2 (IsoFLOP profiles); see IsoFLOPFit."""
    return IsoFLOPFit(min_sizes=min_sizes, interior_only=interior_only).fit(params, tokens, loss, flops=flops)
