"""Card plots drawn with matplotlib (the `plot` extra), returned as inline SVG strings.

Reproducible: Agg back-end, fixed `svg.hashsalt`, no date metadata, text kept as text (`svg.fonttype: none`) so
that escaping stays the SVG writer's job. Raises ImportError when matplotlib is absent (the caller falls back).
"""

from __future__ import annotations

import io

import matplotlib  # noqa: F401  (ImportError here -> built-in plots)

from . import _text as T
from .card import LABELS, Card
from .plots import axis_unit

RC = {"svg.hashsalt": "wattwise", "svg.fonttype": "none", "font.size": 9}


def _svg(fig) -> str:
    import matplotlib.pyplot as plt
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "wattwise"}, bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _label(text) -> str:
    """User text for matplotlib: '$' would start mathtext."""
    return str(text).replace("$", r"\$")


def _mark(svg: str) -> str:
    return svg.replace("<svg ", '<svg class="ww-plot" ', 1)


def card_plots(card: Card) -> list[tuple[str, str]]:
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    out: list[tuple[str, str]] = []
    with matplotlib.rc_context(RC):
        if card.series:
            for what, ys, ylabel, caption in (
                    ("energy", lambda s: [e * 1e3 for e in s.energy_kwh], "energy (Wh)",
                     "Cumulative IT energy of each run (measured samples from the ledger)."),
                    ("power", lambda s: [p if p is not None else float("nan") for p in s.power_w], "power (W)",
                     "Mean IT power between consecutive samples.")):
                fig, ax = plt.subplots(figsize=(6.4, 3.0))
                for s in card.series:
                    ax.plot([t / 60 for t in s.t_s], ys(s), label=_label(s.name or s.run_id), gid="ww-series")
                ax.set_xlabel("time since start (min)")
                ax.set_ylabel(ylabel)
                ax.set_title(f"{what.capitalize()} over time (IT)")
                ax.legend(fontsize=7, loc="best")
                out.append((caption, _mark(_svg(fig))))
        comps = [(LABELS[c], f.central) for c, f in card.energy_by_component.items() if f.known]
        if comps:
            k, u = axis_unit(max(v for _, v in comps), "kWh")
            fig, ax = plt.subplots(figsize=(6.4, 2.6))
            ax.barh([c for c, _ in comps], [v * k for _, v in comps])
            ax.set_xlabel(f"energy ({u})")
            ax.set_title("Energy by component (IT, before PUE)")
            out.append(("IT energy by component.", _mark(_svg(fig))))
        if card.pareto:
            pa = card.pareto
            fig, ax = plt.subplots(figsize=(6.4, 3.0))
            rows = pa["rows"]
            k, u = axis_unit(max((r["cost"] for r in rows), default=0.0), pa["cost_unit"])
            rows = [dict(r, cost=r["cost"] * k) for r in rows]
            ax.scatter([r["cost"] for r in rows], [r["accuracy"] for r in rows],
                       c=["tab:red" if r["on_front"] else "tab:gray" for r in rows])
            front = sorted((r for r in rows if r["on_front"]), key=lambda r: r["cost"])
            ax.plot([r["cost"] for r in front], [r["accuracy"] for r in front], "--", color="tab:red")
            for r in rows:
                ax.annotate(_label(r["name"][:28]), (r["cost"], r["accuracy"]), fontsize=7, xytext=(4, 4),
                            textcoords="offset points")
            label = T.cost_field_label(pa)
            ax.set_xlabel(_label(f"{label} ({u})" if u else label))
            ax.set_ylabel(_label(T.accuracy_label(pa)))
            ax.set_title("Pareto front: accuracy against cost")
            out.append(("Variants; the dashed line joins the Pareto front. " + pa["rule"] + ".", _mark(_svg(fig))))
    return out
