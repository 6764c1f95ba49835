"""Plot of a fitted Chinchilla law over its runs (matplotlib, the `plot` extra, imported on first use)."""

from __future__ import annotations

import os
from pathlib import Path

from ..constants import TRAIN_FLOPS_PER_PARAM_TOKEN
from ..errors import MissingExtraError


def require_matplotlib() -> None:
    """Raise MissingExtraError (pip install 'wattwise[plot]') when matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingExtraError("matplotlib", "plot") from None


def plot_formats() -> tuple[str, ...]:
    """File suffixes matplotlib can write (png, svg, pdf, ...); needs matplotlib."""
    require_matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase

    return tuple(sorted(FigureCanvasBase.get_supported_filetypes()))


def check_plot_path(path: str | os.PathLike, flag: str = "--plot") -> Path:
    """Before any fitting: matplotlib is installed (MissingExtraError otherwise), the suffix is a format it writes,
    and the file can be written (its folder exists and is writable; not a folder itself). Creates nothing."""
    from ..files import check_file_writable

    formats = plot_formats()
    return check_file_writable(flag, path, suffixes=formats, what="plot")


def _pyplot():
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_fit(est, params, tokens=None, loss=None, *, flops=None, path: str | os.PathLike) -> Path:
    """Two panels for a fitted ChinchillaFit `est` and its runs (params N, tokens D or flops C, final loss):
    IsoFLOP curves (loss vs N per budget, the fitted law over the data) and loss contours in (N, D) with the
    efficient frontier. Written to `path` (PNG or SVG by suffix); returns the path. Raises MissingExtraError
    without matplotlib."""
    plt = _pyplot()
    import numpy as np

    from .isoflop import group_budgets

    n = np.asarray(params, float)
    if tokens is not None:
        d = np.asarray(tokens, float)
    else:
        d = np.asarray(flops, float) / (TRAIN_FLOPS_PER_PARAM_TOKEN * n)
    l_ = np.asarray(loss, float)
    flops = TRAIN_FLOPS_PER_PARAM_TOKEN * n * d
    law = est.law_
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    labels = group_budgets(flops)
    cmap = plt.get_cmap("viridis")
    k = labels.max() + 1
    for g in range(k):
        sel = labels == g
        cg = float(np.exp(np.log(flops[sel]).mean()))
        col = cmap(g / max(1, k - 1))
        ax1.scatter(n[sel], l_[sel], s=12, color=col)
        if sel.sum() >= 2:
            ns = np.logspace(np.log10(n[sel].min()), np.log10(n[sel].max()), 100)
            ax1.plot(ns, law.loss(ns, cg / (TRAIN_FLOPS_PER_PARAM_TOKEN * ns)), color=col, lw=1,
                     label=f"{cg:.2g} FLOPs" if k <= 12 else None)
            opt = law.optimal(cg)
            ax1.plot(opt.params, opt.loss, marker="*", color=col, ms=10, mec="k")
    ax1.set_xscale("log")
    ax1.set_xlabel("parameters N")
    ax1.set_ylabel("final loss")
    ax1.set_title("IsoFLOP profiles (fitted law, stars = optimum)")
    if k <= 12:
        ax1.legend(fontsize=7)
    nn, dd = np.meshgrid(np.logspace(np.log10(n.min()) - 0.5, np.log10(n.max()) + 0.5, 200),
                         np.logspace(np.log10(d.min()) - 0.5, np.log10(d.max()) + 0.5, 200))
    cs = ax2.contour(nn, dd, np.log(law.loss(nn, dd) - law.E), levels=15, cmap="magma", linewidths=0.8)
    ax2.clabel(cs, fontsize=6, fmt=lambda v: f"{np.exp(v) + law.E:.2f}")
    cgrid = np.logspace(np.log10(flops.min()) - 1, np.log10(flops.max()) + 1, 50)
    front = [law.optimal(float(cc)) for cc in cgrid]
    ax2.plot([f.params for f in front], [f.tokens for f in front], "k--", lw=1.5, label="efficient frontier")
    ax2.scatter(n, d, s=8, c="tab:blue", label="runs")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlim(nn.min(), nn.max())
    ax2.set_ylim(dd.min(), dd.max())
    ax2.set_xlabel("parameters N")
    ax2.set_ylabel("tokens D")
    ax2.set_title(f"Loss contours, a={est.a_:.3f}, b={est.b_:.3f}")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
