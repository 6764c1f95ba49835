"""Batched damped-Newton minimiser for Hoffmann's Approach 3 objective (numpy only).

Parameters per problem: theta = (a, b, e, alpha, beta) with A = exp(a), B = exp(b), E = exp(e). Prediction in log
space (Hoffmann et al. 2022, eq. 3 / Besiroglu et al. 2024, eq. 2):

    log L_hat = LSE(a - alpha log N, b - beta log D, e)

objective  f = sum_i w_i rho(log L_hat_i - log L_i), rho = Huber(delta) | r^2 / 2 | |r| (smoothed, see fit.py).

The LSE is linear in theta inside, so its Hessian is exact and cheap: J^T (diag p - p p^T) J with p the softmax
weights. Many problems (the 4,500 starting points, or the bootstrap resamples) run side by side as one array; each
keeps its own Levenberg-Marquardt damping and leaves the active set once converged.
"""

from __future__ import annotations

import numpy as np

N_THETA = 5


def _rho(r, kind: str, delta: float):
    """rho(r), rho'(r), rho''(r) elementwise."""
    if kind == "huber":
        ar = np.abs(r)
        inside = ar <= delta
        h = np.where(inside, 0.5 * r * r, delta * (ar - 0.5 * delta))
        h1 = np.clip(r, -delta, delta)
        h2 = inside.astype(r.dtype)
        return h, h1, h2
    if kind == "ls":
        return 0.5 * r * r, r, np.ones_like(r)
    if kind == "pseudo":  # pseudo-Huber sqrt(r^2 + eps^2) - eps: smooth stand-in for |r| (LAD)
        s = np.sqrt(r * r + delta * delta)
        return s - delta, r / s, (delta * delta) / (s * s * s)
    raise ValueError(kind)


def _design(x, y):
    """Per-point monomials used to reduce gradients and Hessian entries with one matrix product each."""
    one = np.ones_like(x)
    return {
        "x2": np.stack([one, x, x * x], axis=1),        # for p1-only sums: 1, x, x^2
        "y2": np.stack([one, y, y * y], axis=1),        # for p2-only sums
        "xy": np.stack([one, x, y, x * y], axis=1),     # for p1 p2 sums
        "x1": np.stack([one, x], axis=1),
        "y1": np.stack([one, y], axis=1),
    }


def evaluate(theta, x, y, logl, w, kind, delta, derivs=True, design=None):
    """Objective (S,), and if derivs its gradient (S,5) and Hessian (S,5,5), for S problems at once.

    theta (S,5); x, y, logl (n,); w (S,n) weights (bootstrap counts; ones for a plain fit).
    """
    a, b, e, al, be = (theta[:, i:i + 1] for i in range(N_THETA))
    u1 = a - al * x
    u2 = b - be * y
    m = np.maximum(u1, u2)
    np.maximum(m, e, out=m)
    u1 -= m
    e1 = np.exp(u1, out=u1)
    u2 -= m
    e2 = np.exp(u2, out=u2)
    e3 = np.exp(e - m)
    s = e1 + e2
    s += e3
    r = np.log(s)
    r += m
    r -= logl
    h, h1, h2 = _rho(r, kind, delta)
    h *= w
    f = h.sum(axis=1)
    if not derivs:
        return f, None, None
    D = _design(x, y) if design is None else design
    s = np.reciprocal(s, out=s)
    p1 = np.multiply(e1, s, out=e1)
    p2 = np.multiply(e2, s, out=e2)
    p3 = np.multiply(e3, s, out=e3)
    wh1 = np.multiply(w, h1, out=h1)
    S = theta.shape[0]
    # gradient: dr/dtheta = (p1, p2, p3, -x p1, -y p2)
    Q1 = (wh1 * p1) @ D["x2"]   # sum q1, sum q1 x, sum q1 x^2   (q1 = w rho' p1)
    Q2 = (wh1 * p2) @ D["y2"]
    q3 = (wh1 * p3).sum(axis=1)
    g = np.empty((S, N_THETA))
    g[:, 0] = Q1[:, 0]
    g[:, 1] = Q2[:, 0]
    g[:, 2] = q3
    g[:, 3] = -Q1[:, 1]
    g[:, 4] = -Q2[:, 1]
    # Hessian: sum w [rho'' grad_r grad_r^T + rho' hess_r], hess_r = J^T diag(p) J - grad_r grad_r^T,
    # so sum c grad_r grad_r^T (c = w rho'' - w rho') plus the diag(p) part from Q1, Q2, q3.
    c = np.multiply(w, h2, out=h2)
    c -= wh1
    cp1 = c * p1
    cp2 = c * p2
    P11 = (cp1 * p1) @ D["x2"]   # 1, x, x^2
    P12 = (cp1 * p2) @ D["xy"]   # 1, x, y, xy
    P13 = (cp1 * p3) @ D["x1"]   # 1, x
    P22 = (cp2 * p2) @ D["y2"]
    P23 = (cp2 * p3) @ D["y1"]
    P33 = (c * p3 * p3).sum(axis=1)
    H = np.empty((S, N_THETA, N_THETA))
    H[:, 0, 0] = P11[:, 0] + Q1[:, 0]
    H[:, 0, 1] = P12[:, 0]
    H[:, 0, 2] = P13[:, 0]
    H[:, 0, 3] = -P11[:, 1] - Q1[:, 1]
    H[:, 0, 4] = -P12[:, 2]
    H[:, 1, 1] = P22[:, 0] + Q2[:, 0]
    H[:, 1, 2] = P23[:, 0]
    H[:, 1, 3] = -P12[:, 1]
    H[:, 1, 4] = -P22[:, 1] - Q2[:, 1]
    H[:, 2, 2] = P33 + q3
    H[:, 2, 3] = -P13[:, 1]
    H[:, 2, 4] = -P23[:, 1]
    H[:, 3, 3] = P11[:, 2] + Q1[:, 2]
    H[:, 3, 4] = P12[:, 3]
    H[:, 4, 4] = P22[:, 2] + Q2[:, 2]
    iu = np.triu_indices(N_THETA, 1)
    H[:, iu[1], iu[0]] = H[:, iu[0], iu[1]]
    return f, g, H


def minimize(theta0, x, y, logl, w=None, *, kind="huber", delta=1e-3, max_iter=400, rtol=1e-15,
             progress=None):
    """Minimise S problems from starts theta0 (S,5). Returns (theta (S,5), f (S,), n_iter (S,), converged (S,)).

    Damped Newton with the Hessian's eigenvalues taken in absolute value (so saddles are left downhill) plus a
    per-problem Levenberg-Marquardt term; a step is kept only if it lowers f. A problem stops when the predicted
    decrease falls below rtol * f (Newton converges quadratically, so this is the optimum to machine precision),
    when steps stop lowering f, or at max_iter.
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        return _minimize(theta0, x, y, logl, w, kind, delta, max_iter, rtol, progress)


def _minimize(theta0, x, y, logl, w, kind, delta, max_iter, rtol, progress):
    theta = np.array(theta0, dtype=float, copy=True)
    S = theta.shape[0]
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    logl = np.asarray(logl, float)
    if w is None:
        w = np.ones((S, x.size))
    else:
        w = np.broadcast_to(np.asarray(w, float), (S, x.size))
    design = _design(x, y)
    f, g, H = evaluate(theta, x, y, logl, w, kind, delta, design=design)
    lam = np.full(S, 1e-6)
    n_iter = np.zeros(S, dtype=int)
    converged = np.zeros(S, dtype=bool)
    stall = np.zeros(S, dtype=int)
    active = np.arange(S)
    tiny = np.finfo(float).tiny
    for it in range(max_iter):
        if active.size == 0:
            break
        ga, Ha, fa = g[active], H[active], f[active]
        ev, V = np.linalg.eigh(Ha)
        aev = np.abs(ev)
        scale = np.maximum(aev.max(axis=1), tiny)
        d = aev + lam[active, None] * scale[:, None]
        gv = np.einsum("sji,sj->si", V, ga)  # V^T g
        step = -np.einsum("sij,sj->si", V, gv / d)
        pred = 0.5 * np.einsum("si,si->s", gv, gv / np.maximum(aev + 1e-300, tiny))  # undamped Newton decrement
        trial = theta[active] + step
        ft, gt, Ht = evaluate(trial, x, y, logl, w[active], kind, delta, design=design)
        ok = np.isfinite(ft) & (ft <= fa)
        improved = fa - np.where(ok, ft, fa)
        acc = active[ok]
        theta[acc] = trial[ok]
        f[acc], g[acc], H[acc] = ft[ok], gt[ok], Ht[ok]
        lam[acc] = np.maximum(lam[acc] * 0.1, 1e-12)
        rej = active[~ok]
        lam[rej] = lam[rej] * 10.0
        n_iter[active] += 1
        # convergence: Newton decrement tiny at the (pre-step) point, or no progress possible
        small = (pred <= rtol * np.maximum(np.abs(fa), tiny)) | (np.abs(step).max(axis=1) < 1e-14)
        stall[active] = np.where(improved <= rtol * np.abs(fa), stall[active] + 1, 0)
        done = small | (stall[active] >= 6) | (lam[active] > 1e16)
        converged[active[small]] = True
        active = active[~done]
        if progress is not None:
            progress(S - active.size, S)
    return theta, f, n_iter, converged


def minimize_parallel(theta0, x, y, logl, w=None, *, workers: int | None = None, min_rows: int = 256,
                      progress=None, **kwargs):
    """`minimize` with the rows split over threads (numpy releases the GIL in its array loops)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    theta0 = np.asarray(theta0, float)
    S = theta0.shape[0]
    if workers is None:
        workers = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if workers <= 1 or S < 2 * min_rows:
        return minimize(theta0, x, y, logl, w, progress=progress, **kwargs)
    if w is not None:
        w = np.broadcast_to(np.asarray(w, float), (S, np.asarray(x).size))
    parts = np.array_split(np.arange(S), workers)
    done = [0] * len(parts)

    def run(k):
        idx = parts[k]

        def prog(d, total):
            done[k] = d
            if progress is not None:
                progress(sum(done), S)

        return minimize(theta0[idx], x, y, logl, None if w is None else w[idx], progress=prog, **kwargs)

    with ThreadPoolExecutor(max_workers=len(parts)) as ex:
        results = list(ex.map(run, range(len(parts))))
    return tuple(np.concatenate([r[i] for r in results]) for i in range(4))
