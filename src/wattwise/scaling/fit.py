"""Fitting Chinchilla's law to training runs: Approach 3 done right (Approach 2, IsoFLOP profiles, is in isoflop.py
and re-exported here).

Approach 3 (Hoffmann et al. 2022, Sec. 3.3 and App. D.2; corrected by Besiroglu et al. 2024, Sec. 3):

    minimise over (a, b, e, alpha, beta)   sum_i Huber_delta( LSE(a - alpha log N_i, b - beta log D_i, e) - log L_i )

with delta = 1e-3, the Huber losses SUMMED (averaging them shrinks the objective ~N-fold and made Hoffmann's L-BFGS
stop early, Besiroglu et al. 2024 Sec. 3), started from Hoffmann's grid of 4,500 points (App. D.2:
alpha, beta in {0, 0.5, ..., 2}, e in {-1, -.5, ..., 1}, a, b in {0, 5, ..., 25}) and run to the optimum.
A = e^a, B = e^b, E = e^e. The optimiser is a batched damped Newton (see _newton.py) that runs all starts as one
array, so the full grid takes seconds; bootstrap resamples are multinomial weights, warm-started from the best
local optima of the full fit and solved side by side.
"""

from __future__ import annotations

import itertools
import math
import warnings

from .._checks import check_number
from ..constants import TRAIN_FLOPS_PER_PARAM_TOKEN
from ..errors import InvalidValueError
from ._base import Params, ScalingFitWarning
from ._base import as_runs as _as_runs
from .isoflop import IsoFLOPFit, fit_isoflop  # noqa: F401  (Approach 2, re-exported: wattwise.scaling.fit.IsoFLOPFit)
from .isoflop import group_budgets as _group_budgets
from .laws import Allocation, ChinchillaLaw

LOSS_FUNCTIONS = ("huber", "ls", "lad")
HUBER_DELTA = 1e-3  # Hoffmann et al. 2022, App. D.2; Besiroglu et al. 2024, Sec. 2
PARAM_NAMES = ("E", "A", "B", "alpha", "beta")


def hoffmann_grid():
    """Hoffmann et al. 2022 App. D.2 initialisation grid, 4,500 rows of (a, b, e, alpha, beta)."""
    import numpy as np

    a = np.arange(0.0, 30.0, 5.0)       # {0, 5, ..., 25}
    b = np.arange(0.0, 30.0, 5.0)       # {0, 5, ..., 25}
    e = np.arange(-1.0, 1.5, 0.5)       # {-1, -0.5, ..., 1}
    alpha = np.arange(0.0, 2.5, 0.5)    # {0, 0.5, ..., 2}
    beta = np.arange(0.0, 2.5, 0.5)     # {0, 0.5, ..., 2}
    return np.array(list(itertools.product(a, b, e, alpha, beta)), dtype=float)


def _diagnose(n, d) -> list[str]:
    """Warnings for designs that cannot identify the law (Besiroglu et al. 2024 Sec. 5; Hoffmann App. D)."""
    import numpy as np

    out = []
    sizes = np.unique(np.round(np.log10(n), 2))
    if sizes.size < 5:
        out.append(f"only {sizes.size} distinct model sizes: alpha and A are barely identified (use 5 or more)")
    budgets = _group_budgets(TRAIN_FLOPS_PER_PARAM_TOKEN * n * d)
    if budgets.max() + 1 < 3:
        out.append(f"only {budgets.max() + 1} distinct compute budgets: the frontier exponents a, b are "
                   "extrapolated (use 3 or more)")
    ratio_spread = np.std(np.log(d / n))
    if ratio_spread < 0.1:
        out.append("tokens per parameter is (nearly) constant across runs: N and D move together, so alpha "
                   "cannot be separated from beta; vary the ratio")
    if n.size < 20:
        out.append(f"only {n.size} runs for 5 parameters: expect wide intervals")
    return out


def _distinct_optima(theta, f, k: int, rtol: float = 1e-6):
    """Up to k best local optima that differ in parameters (relative tol)."""
    import numpy as np

    order = np.argsort(f)
    keep = []
    for i in order:
        if not np.isfinite(f[i]):
            break
        if all(np.max(np.abs(theta[i] - theta[j]) / np.maximum(1.0, np.abs(theta[j]))) > rtol for j in keep):
            keep.append(i)
        if len(keep) >= k:
            break
    return np.array(keep, dtype=int)


def _solve(theta0, x, y, logl, w, loss_fn, delta, max_iter, progress=None):
    """Run the batched minimiser for one loss function; LAD via pseudo-Huber continuation."""
    import numpy as np

    from . import _newton

    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        if loss_fn == "huber":
            return _newton.minimize_parallel(theta0, x, y, logl, w, kind="huber", delta=delta, max_iter=max_iter,
                                    progress=progress)
        if loss_fn == "ls":
            return _newton.minimize_parallel(theta0, x, y, logl, w, kind="ls", max_iter=max_iter, progress=progress)
        # lad: sum |r| is not smooth; minimise sum sqrt(r^2 + eps^2) with eps shrinking, warm-started from the
        # best 32 optima of the first stage (the rest are already far worse)
        th, f, it, conv = _newton.minimize_parallel(theta0, x, y, logl, w, kind="pseudo", delta=1e-3,
                                                    max_iter=max_iter, progress=progress)
        keep = np.argsort(np.where(np.isfinite(f), f, np.inf))[:32] if w is None else np.arange(th.shape[0])
        sub, wk = th[keep], (None if w is None else w[keep])
        for eps in (1e-4, 1e-5, 1e-6, 1e-7):
            sub, fk, it2, ck = _newton.minimize(sub, x, y, logl, wk, kind="pseudo", delta=eps, max_iter=max_iter)
            it[keep] += it2
        th[keep], conv[keep] = sub, ck
        f = np.full(th.shape[0], np.inf)
        f[keep] = fk
        return th, f, it, conv


def _objective(theta, x, y, logl, w, loss_fn, delta):
    """The reported objective (exact |r| for LAD)."""
    import numpy as np

    from . import _newton

    kind = {"huber": "huber", "ls": "ls", "lad": "pseudo"}[loss_fn]
    w = np.broadcast_to(np.asarray(w, float), (theta.shape[0], x.size))
    if loss_fn == "lad":
        a, b, e, al, be = (theta[:, i:i + 1] for i in range(5))
        from numpy import logaddexp
        r = logaddexp(logaddexp(a - al * x, b - be * y), e) - logl
        return (w * np.abs(r)).sum(axis=1)
    f, _, _ = _newton.evaluate(theta, x, y, logl, w, kind, delta, derivs=False)
    return f


def _to_named(theta):
    """(S,5) log-space rows -> dict of arrays E, A, B, alpha, beta."""
    import numpy as np

    return {"E": np.exp(theta[:, 2]), "A": np.exp(theta[:, 0]), "B": np.exp(theta[:, 1]),
            "alpha": theta[:, 3], "beta": theta[:, 4]}


class ChinchillaFit(Params):
    """Approach 3 estimator, scikit-learn style: configure, `.fit(N, D, loss)`, read attributes ending in `_`.

    loss_fn: "huber" (default, delta=1e-3), "ls" (least squares) or "lad" (least absolute deviation), all on
    log-loss residuals and summed. bootstrap: number of resamples for percentile intervals at `ci_level`;
    `budget_flops` adds an interval for tokens per parameter at that budget. `progress`: callable(stage: str,
    done: int, total: int) or None. The constructor only stores its arguments (scikit-learn's contract, so
    `sklearn.base.clone` and `get_params`/`set_params` work); `fit()` validates them.
    """

    def __init__(self, loss_fn: str = "huber", *, delta: float = HUBER_DELTA, bootstrap: int = 0,
                 ci_level: float = 0.95, budget_flops: float | None = None, random_state: int | None = 0,
                 init_grid=None, warm_starts: int = 3, max_iter: int = 400, progress=None):
        self.loss_fn = loss_fn
        self.delta = delta
        self.bootstrap = bootstrap
        self.ci_level = ci_level
        self.budget_flops = budget_flops
        self.random_state = random_state
        self.init_grid = init_grid
        self.warm_starts = warm_starts
        self.max_iter = max_iter
        self.progress = progress

    def _validated(self) -> dict:
        """The parameters as fit() uses them, or the error naming the first bad one."""
        if self.loss_fn not in LOSS_FUNCTIONS:
            from ..errors import UnknownNameError, closest

            raise UnknownNameError("loss function", str(self.loss_fn), closest(str(self.loss_fn), LOSS_FUNCTIONS),
                                   accepted=LOSS_FUNCTIONS)
        delta = check_number("delta", self.delta)
        if not (isinstance(self.bootstrap, int) and self.bootstrap >= 0):
            raise InvalidValueError(f"bootstrap must be an integer >= 0, got {self.bootstrap!r}")
        ci_level = check_number("ci_level", self.ci_level, upper=0.999999)
        budget = None if self.budget_flops is None else check_number("budget_flops", self.budget_flops)
        return {"loss_fn": self.loss_fn, "delta": delta, "bootstrap": self.bootstrap, "ci_level": ci_level,
                "budget_flops": budget}

    # ------------------------------------------------------------------------------------------------
    def fit(self, params, tokens=None, loss=None, *, flops=None):
        """Fit to runs (params N, tokens D or flops C, final loss). Returns self."""
        import numpy as np

        self._cfg = cfg = self._validated()
        n, d, l_ = _as_runs(params, tokens, loss, flops)
        x, y, logl = np.log(n), np.log(d), np.log(l_)
        self.warnings_ = _diagnose(n, d)
        for msg in self.warnings_:
            warnings.warn(msg, ScalingFitWarning, stacklevel=2)
        grid = hoffmann_grid() if self.init_grid is None else np.atleast_2d(np.asarray(self.init_grid, float))
        prog = None
        if self.progress is not None:
            prog = lambda done, total: self.progress("grid", done, total)  # noqa: E731
        theta, f, n_iter, conv = _solve(grid, x, y, logl, None, self.loss_fn, cfg["delta"], self.max_iter, prog)
        f_rep = _objective(theta, x, y, logl, np.ones(x.size), self.loss_fn, cfg["delta"])
        f_rep = np.where(np.isfinite(f_rep), f_rep, np.inf)
        best = int(np.argmin(f_rep))
        self.theta_ = theta[best].copy()
        self.objective_ = float(f_rep[best])
        self.n_starts_ = int(grid.shape[0])
        self.n_converged_ = int(conv.sum())
        self.n_at_optimum_ = int((f_rep <= self.objective_ * (1 + 1e-9) + 1e-14 * x.size).sum())
        self.n_iter_ = n_iter
        optima = _distinct_optima(theta, f_rep, max(1, self.warm_starts))
        self.local_optima_ = theta[optima]
        self._set_params(self.theta_)
        self.n_runs_ = int(n.size)
        self.params_range_ = (float(n.min()), float(n.max()))
        self.tokens_range_ = (float(d.min()), float(d.max()))
        c = TRAIN_FLOPS_PER_PARAM_TOKEN * n * d
        self.flops_range_ = (float(c.min()), float(c.max()))
        self._post_fit_checks(l_)
        self.ci_ = {}
        self.bootstrap_ = None
        if cfg["bootstrap"]:
            self._bootstrap(x, y, logl)
        return self

    def _set_params(self, th):
        self.A_ = float(math.exp(th[0]))
        self.B_ = float(math.exp(th[1]))
        self.E_ = float(math.exp(th[2]))
        self.alpha_ = float(th[3])
        self.beta_ = float(th[4])
        s = self.alpha_ + self.beta_
        self.a_ = self.beta_ / s if s else float("nan")
        self.b_ = self.alpha_ / s if s else float("nan")

    def _post_fit_checks(self, l_):
        msgs = []
        if not (self.alpha_ > 0 and self.beta_ > 0):
            msgs.append(f"fitted exponents alpha={self.alpha_:.3g}, beta={self.beta_:.3g} are not both > 0: the "
                        "data do not show loss falling with both N and D")
        if l_.min() < self.E_:
            msgs.append(f"fitted irreducible loss E={self.E_:.4g} is above the lowest observed loss "
                        f"{l_.min():.4g}: the law does not describe the best runs")
        if self.n_at_optimum_ < 2:
            msgs.append("only one of the starting points reached the best optimum; the fit may be fragile")
        for m in msgs:
            warnings.warn(m, ScalingFitWarning, stacklevel=3)
        self.warnings_ = self.warnings_ + msgs

    def _bootstrap(self, x, y, logl):
        import numpy as np

        cfg = self._cfg
        rng = np.random.default_rng(self.random_state)
        B, n = cfg["bootstrap"], x.size
        starts = self.local_optima_
        k = starts.shape[0]
        chunk = max(1, 2000 // k)
        rows = []
        objs_done = 0
        for lo in range(0, B, chunk):
            m = min(chunk, B - lo)
            w = rng.multinomial(n, np.full(n, 1.0 / n), size=m).astype(float)  # (m, n)
            W = np.repeat(w, k, axis=0)                                          # (m*k, n)
            T0 = np.tile(starts, (m, 1))
            th, f, _, _ = _solve(T0, x, y, logl, W, self.loss_fn, cfg["delta"], self.max_iter)
            f = _objective(th, x, y, logl, W, self.loss_fn, cfg["delta"])
            f = np.where(np.isfinite(f), f, np.inf).reshape(m, k)
            pick = np.argmin(f, axis=1)
            rows.append(th.reshape(m, k, 5)[np.arange(m), pick])
            objs_done += m
            if self.progress is not None:
                self.progress("bootstrap", objs_done, B)
        th = np.concatenate(rows, axis=0)
        named = _to_named(th)
        s = named["alpha"] + named["beta"]
        named["a"] = named["beta"] / s
        named["b"] = named["alpha"] / s
        if cfg["budget_flops"] is not None:
            # closed form (Hoffmann et al. 2022 eq. 4), vectorised over the resamples
            G = (named["alpha"] * named["A"] / (named["beta"] * named["B"])) ** (1.0 / s)
            sc = cfg["budget_flops"] / TRAIN_FLOPS_PER_PARAM_TOKEN
            n_opt = G * sc ** named["a"]
            named["tokens_per_param"] = (sc / n_opt) / n_opt
        self.bootstrap_ = named
        q = (1.0 - cfg["ci_level"]) / 2.0
        self.ci_ = {k_: (float(np.nanquantile(v, q)), float(np.nanquantile(v, 1.0 - q))) for k_, v in named.items()}

    # ------------------------------------------------------------------------------------------------
    @property
    def law_(self) -> ChinchillaLaw:
        """The fitted law as a ChinchillaLaw (loss, optimal, compute_for_loss, efficiency)."""
        return ChinchillaLaw(E=self.E_, A=self.A_, B=self.B_, alpha=self.alpha_, beta=self.beta_, name="fit",
                             source=f"fit_chinchilla on {self.n_runs_} runs ({self._cfg['loss_fn']})",
                             caveat="valid inside the fitted range of N, D and compute")

    def predict(self, params, tokens):
        """Predicted loss for (params, tokens) arrays."""
        return self.law_.loss(params, tokens)

    def optimal(self, flops) -> Allocation:
        """Compute-optimal allocation under the fitted law; warns when far outside the fitted compute range."""
        c = check_number("flops", flops)
        lo, hi = self.flops_range_
        if c > 1000 * hi or c < lo / 1000:
            warnings.warn(f"{c:.3g} FLOPs is more than 1000x outside the fitted compute range "
                          f"[{lo:.3g}, {hi:.3g}]: an extrapolation", ScalingFitWarning, stacklevel=2)
        return self.law_.optimal(c)

    def to_dict(self) -> dict:
        cfg = self._cfg  # the parameters of the fit (validated), not any set since
        out = {k: getattr(self, k + "_") for k in ("E", "A", "B", "alpha", "beta", "a", "b")}
        if self.ci_:
            out["ci"] = {k: list(v) for k, v in self.ci_.items()}
            out["ci_level"] = cfg["ci_level"]
            out["bootstrap"] = cfg["bootstrap"]
        out.update(objective=self.objective_, loss_fn=cfg["loss_fn"], n_runs=self.n_runs_,
                   n_starts=self.n_starts_, warnings=list(self.warnings_))
        if cfg["budget_flops"] is not None:
            out["budget_flops"] = cfg["budget_flops"]
        return out


def fit_chinchilla(params, tokens=None, loss=None, *, flops=None, loss_fn: str = "huber",
                   bootstrap: int = 0, **kwargs) -> ChinchillaFit:
    """Fit L = E + A/N^alpha + B/D^beta (Approach 3) and return the fitted estimator; see ChinchillaFit."""
    return ChinchillaFit(loss_fn, bootstrap=bootstrap, **kwargs).fit(params, tokens, loss, flops=flops)
