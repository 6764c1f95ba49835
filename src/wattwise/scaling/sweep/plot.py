"""IsoFLOP plot (matplotlib, the `plot` extra): loss vs N per budget with the fitted parabolas and their minima
(Hoffmann et al. 2022, Fig. 3 left), and N* vs C with the fitted power law and the extrapolated plan (Fig. 3 centre)."""

from __future__ import annotations

import math
from pathlib import Path

from ...errors import MissingExtraError


def plot_isoflop(result, path: str | Path) -> Path:
    """Draw the sweep's IsoFLOP curves and the N*(C) power law to `path` (PNG or SVG by suffix)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("matplotlib", "plot") from None
    import numpy as np

    runs = [r for r in result.runs if r.get("loss") is not None and math.isfinite(r["loss"])]
    budgets = sorted({r["budget_flops"] for r in runs})
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    cmap = plt.get_cmap("viridis")
    minima = {m["flops"]: m for m in result.fit2.get("minima", [])}
    for i, c in enumerate(budgets):
        col = cmap(i / max(1, len(budgets) - 1))
        sel = sorted((r["params"], r["loss"]) for r in runs if r["budget_flops"] == c)
        n, loss = np.array(sel).T
        ax1.scatter(n, loss, color=col, label=f"{c:.2g} FLOPs", zorder=3)
        m = minima.get(c)
        if m is not None:
            xs = np.linspace(math.log(n.min()) - 0.2, math.log(n.max()) + 0.2, 100)
            ax1.plot(np.exp(xs), np.polyval(m["coef"], xs), color=col, lw=1)
            ax1.scatter([m["params"]], [m["loss"]], color=col, marker="*", s=160, edgecolor="k", zorder=4)
    ax1.set_xscale("log")
    from matplotlib.ticker import NullFormatter
    ax1.xaxis.set_minor_formatter(NullFormatter())
    ax1.set_xlabel("parameters N")
    ax1.set_ylabel("held-out loss (nats/token)")
    ax1.set_title("IsoFLOP profiles (Hoffmann et al. 2022, Approach 2)")
    ax1.legend(fontsize=8)
    if minima:
        cs = np.array(sorted(minima))
        ns = np.array([minima[c]["params"] for c in cs])
        inside = np.array([minima[c]["interior"] for c in cs])
        ax2.scatter(cs[inside], ns[inside], color="k", marker="*", s=120, label="IsoFLOP minima", zorder=3)
        if (~inside).any():
            ax2.scatter(cs[~inside], ns[~inside], facecolor="none", edgecolor="k", marker="*", s=120,
                        label="outside the sizes tried (not fitted)", zorder=3)
        f2 = result.fit2
        if f2.get("a") is not None:
            plan = f2.get("plan") or {}
            hi = max(cs.max(), plan.get("flops", cs.max()))
            grid = np.geomspace(cs.min() / 2, hi * 1.5, 50)
            ax2.plot(grid, f2["n_coef"] * grid ** f2["a"], "k-", lw=1, label=f"N* ~ C^{f2['a']:.2f}")
            if plan:
                lo_hi = f2.get("ci", {}).get("plan_params")
                yerr = None if lo_hi is None else [[plan["params"] - lo_hi[0]], [lo_hi[1] - plan["params"]]]
                ax2.errorbar([plan["flops"]], [plan["params"]], yerr=yerr, fmt="o", color="C3",
                             label=f"plan {plan['flops']:.2g} FLOPs", capsize=4)
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.legend(fontsize=8)
    ax2.set_xlabel("compute C (FLOPs)")
    ax2.set_ylabel("optimal parameters N*")
    ax2.set_title(f"sweep {result.sweep_id}")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
