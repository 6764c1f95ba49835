"""Plots of the card as inline SVG strings: energy and power over time, the component breakdown, the Pareto front.

Two back-ends: `builtin` (hand-written SVG, standard library only, deterministic: the default) and `matplotlib`
(the `plot` extra; SVG with fixed hash salt and no date, so also reproducible). Every piece of text is escaped.
Each function returns one `<svg class="ww-plot" ...>` element, or None when there is nothing to draw.
"""

from __future__ import annotations

import math
from html import escape
from typing import Sequence

from .card import LABELS, Card

W, H = 640, 300
ML, MR, MT, MB = 70, 20, 34, 70  # margins: left, right, top, bottom (legend below the axes)
PALETTE = ("#1b6ca8", "#d1495b", "#edae49", "#00798c", "#6a4c93", "#30638e", "#8d6a9f", "#3d9970", "#ff851b",
           "#85144b", "#39cccc", "#b10dc9")


def _e(text) -> str:
    return escape(str(text), quote=True)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About n round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks, t = [], start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def _tick_label(v: float) -> str:
    return f"{v:.4g}"


def _frame(title: str, xlabel: str, ylabel: str, xt: list[float], yt: list[float], sx, sy, aria: str) -> list[str]:
    x0, x1, y0, y1 = ML, W - MR, H - MB, MT
    out = [f'<svg class="ww-plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
           f'height="{H}" role="img" aria-label="{_e(aria)}">', f"<title>{_e(title)}</title>",
           f'<rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/>',
           f'<text x="{W / 2:.1f}" y="20" text-anchor="middle" font-size="14" font-weight="bold">{_e(title)}</text>']
    for v in yt:
        y = sy(v)
        out.append(f'<line x1="{x0}" y1="{y:.2f}" x2="{x1}" y2="{y:.2f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.2f}" text-anchor="end" font-size="11">{_e(_tick_label(v))}</text>')
    for v in xt:
        x = sx(v)
        out.append(f'<line x1="{x:.2f}" y1="{y0}" x2="{x:.2f}" y2="{y0 + 4}" stroke="#333"/>')
        out.append(f'<text x="{x:.2f}" y="{y0 + 16}" text-anchor="middle" font-size="11">{_e(_tick_label(v))}</text>')
    out.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333"/>')
    out.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#333"/>')
    out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{y0 + 32}" text-anchor="middle" font-size="12">{_e(xlabel)}</text>')
    out.append(f'<text transform="translate(16 {(y0 + y1) / 2:.1f}) rotate(-90)" text-anchor="middle" '
               f'font-size="12">{_e(ylabel)}</text>')
    return out


def _legend(labels: Sequence[str], colors: Sequence[str]) -> list[str]:
    out, x, y = [], ML, H - 22
    for lab, col in zip(labels, colors):
        text = lab if len(lab) <= 40 else lab[:39] + "…"
        width = 24 + 6.2 * len(text)
        if x + width > W - MR and x > ML:
            x, y = ML, y + 14
        out.append(f'<rect x="{x:.1f}" y="{y - 8}" width="12" height="8" fill="{col}"/>')
        out.append(f'<text x="{x + 16:.1f}" y="{y}" font-size="11">{_e(text)}</text>')
        x += width + 10
    return out


def line_chart(lines: Sequence[tuple[str, Sequence[float], Sequence[float | None]]], title: str, xlabel: str,
               ylabel: str) -> str | None:
    """Lines (label, xs, ys); None values break nothing (the point is skipped)."""
    pts = [(x, y) for _, xs, ys in lines for x, y in zip(xs, ys) if y is not None]
    if not pts:
        return None
    xt = nice_ticks(min(p[0] for p in pts), max(p[0] for p in pts))
    yt = nice_ticks(min(0.0, min(p[1] for p in pts)), max(p[1] for p in pts))
    sx = lambda v: ML + (v - xt[0]) / (xt[-1] - xt[0]) * (W - ML - MR)  # noqa: E731
    sy = lambda v: H - MB - (v - yt[0]) / (yt[-1] - yt[0]) * (H - MB - MT)  # noqa: E731
    out = _frame(title, xlabel, ylabel, xt, yt, sx, sy, f"{title}: {len(lines)} series")
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(lines))]
    for (label, xs, ys), col in zip(lines, colors):
        p = " ".join(f"{sx(x):.2f},{sy(y):.2f}" for x, y in zip(xs, ys) if y is not None)
        out.append(f'<polyline class="ww-series" fill="none" stroke="{col}" stroke-width="2" points="{p}">'
                   f"<title>{_e(label)}</title></polyline>")
    out += _legend([lab for lab, _, _ in lines], colors)
    out.append("</svg>")
    return "\n".join(out)


def bar_chart(bars: Sequence[tuple[str, float, str]], title: str, xlabel: str) -> str | None:
    """Horizontal bars (label, value, value text)."""
    bars = [b for b in bars if b[1] is not None and b[1] > 0]
    if not bars:
        return None
    xt = nice_ticks(0.0, max(b[1] for b in bars))
    x0, x1 = ML + 60, W - MR - 70
    sx = lambda v: x0 + v / xt[-1] * (x1 - x0)  # noqa: E731
    bh = min(34.0, (H - MT - MB) / len(bars) - 8)
    out = [f'<svg class="ww-plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
           f'height="{H}" role="img" aria-label="{_e(title)}">', f"<title>{_e(title)}</title>",
           f'<rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/>',
           f'<text x="{W / 2:.1f}" y="20" text-anchor="middle" font-size="14" font-weight="bold">{_e(title)}</text>']
    for v in xt:
        out.append(f'<line x1="{sx(v):.2f}" y1="{MT}" x2="{sx(v):.2f}" y2="{H - MB}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{sx(v):.2f}" y="{H - MB + 16}" text-anchor="middle" font-size="11">'
                   f"{_e(_tick_label(v))}</text>")
    for i, (label, value, text) in enumerate(bars):
        y = MT + 8 + i * (bh + 8)
        col = PALETTE[i % len(PALETTE)]
        out.append(f'<text x="{x0 - 8}" y="{y + bh / 2 + 4:.2f}" text-anchor="end" font-size="12">{_e(label)}</text>')
        out.append(f'<rect class="ww-bar" x="{x0}" y="{y:.2f}" width="{sx(value) - x0:.2f}" height="{bh:.2f}" '
                   f'fill="{col}"><title>{_e(label)}: {_e(text)}</title></rect>')
        out.append(f'<text x="{sx(value) + 6:.2f}" y="{y + bh / 2 + 4:.2f}" font-size="11">{_e(text)}</text>')
    out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{H - MB + 34}" text-anchor="middle" font-size="12">{_e(xlabel)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def scatter_front(rows: Sequence[dict], title: str, xlabel: str, ylabel: str) -> str | None:
    """Pareto scatter: every variant a dot, the front joined by a line, labels next to the dots."""
    if not rows:
        return None
    xs, ys = [r["cost"] for r in rows], [r["accuracy"] for r in rows]
    pad_y = (max(ys) - min(ys)) * 0.1 or abs(max(ys)) * 0.01 or 0.01
    xt = nice_ticks(min(0.0, min(xs)), max(xs) * 1.05 if max(xs) > 0 else 1.0)
    yt = nice_ticks(min(ys) - pad_y, max(ys) + pad_y)
    sx = lambda v: ML + (v - xt[0]) / (xt[-1] - xt[0]) * (W - ML - MR)  # noqa: E731
    sy = lambda v: H - MB - (v - yt[0]) / (yt[-1] - yt[0]) * (H - MB - MT)  # noqa: E731
    out = _frame(title, xlabel, ylabel, xt, yt, sx, sy, f"{title}: {len(rows)} variants")
    front = sorted((r for r in rows if r["on_front"]), key=lambda r: (r["cost"], -r["accuracy"]))
    if len(front) > 1:
        p = " ".join(f"{sx(r['cost']):.2f},{sy(r['accuracy']):.2f}" for r in front)
        out.append(f'<polyline class="ww-front" fill="none" stroke="{PALETTE[1]}" stroke-width="2" '
                   f'stroke-dasharray="6 3" points="{p}"/>')
    for r in rows:
        col = PALETTE[1] if r["on_front"] else "#888888"
        x, y = sx(r["cost"]), sy(r["accuracy"])
        out.append(f'<circle class="ww-point" cx="{x:.2f}" cy="{y:.2f}" r="5" fill="{col}">'
                   f"<title>{_e(r['name'])}</title></circle>")
        name = r["name"] if len(r["name"]) <= 28 else r["name"][:27] + "…"
        out.append(f'<text x="{x + 8:.2f}" y="{y - 6:.2f}" font-size="11">{_e(name)}</text>')
    out += _legend(["on the Pareto front", "beaten by another variant"], [PALETTE[1], "#888888"])
    out.append("</svg>")
    return "\n".join(out)


# --- the card's plots -------------------------------------------------------------------------------------------

def _time_unit(t_max: float) -> tuple[float, str]:
    return (3600.0, "h") if t_max >= 3 * 3600 else (60.0, "min") if t_max >= 180 else (1.0, "s")


def _energy_unit(e_max_kwh: float) -> tuple[float, str]:
    return (1e-3, "MWh") if e_max_kwh >= 1e3 else (1.0, "kWh") if e_max_kwh >= 1 else (1e3, "Wh")


def _series_label(card: Card, s) -> str:
    ranks = sum(1 for o in card.series if o.run_id == s.run_id)
    base = s.name or s.run_id
    return f"{base} (rank {s.rank})" if ranks > 1 else base


def card_plots(card: Card, backend: str = "builtin") -> tuple[list[tuple[str, str]], list[str]]:
    """[(caption, svg)] for the card, and notes (e.g. matplotlib missing -> built-in plots)."""
    notes: list[str] = []
    if backend == "matplotlib":
        try:
            from . import _mpl
            return _mpl.card_plots(card), notes
        except ImportError:
            notes.append("matplotlib is not installed (pip install 'wattwise[plot]'): built-in SVG plots shown "
                         "instead.")
    elif backend == "none":
        return [], ["plots turned off"]
    out: list[tuple[str, str]] = []
    if card.series:
        t_max = max((max(s.t_s) for s in card.series if s.t_s), default=0.0)
        tk, tu = _time_unit(t_max)
        e_max = max((max(s.energy_kwh) for s in card.series if s.energy_kwh), default=0.0)
        ek, eu = _energy_unit(e_max)
        lines = [(_series_label(card, s), [t / tk for t in s.t_s], [e * ek for e in s.energy_kwh]) for s in card.series]
        svg = line_chart(lines, "Energy over time (IT, cumulative)", f"time since start ({tu})", f"energy ({eu})")
        if svg:
            out.append(("Cumulative IT energy of each run (measured samples from the ledger).", svg))
        lines = [(_series_label(card, s), [t / tk for t in s.t_s], s.power_w) for s in card.series]
        svg = line_chart(lines, "Power over time (IT, mean per interval)", f"time since start ({tu})", "power (W)")
        if svg:
            out.append(("Mean IT power between consecutive samples.", svg))
    comps = [(LABELS[c], f.central, f"{f.central:.4g} kWh ({f.method})") for c, f in card.energy_by_component.items()
             if f.known]
    it, fac = card.totals["it_energy_kwh"], card.totals["energy_kwh"]
    if it.known and fac.known and fac.central > it.central:
        comps.append(("Facility (PUE)", fac.central - it.central, f"{fac.central - it.central:.4g} kWh (estimated)"))
    svg = bar_chart(comps, "Energy by component", "energy (kWh)")
    if svg:
        out.append(("IT energy by component and the facility overhead that PUE adds.", svg))
    if card.pareto:
        pa = card.pareto
        unit = f" ({pa['cost_unit']})" if pa["cost_unit"] else ""
        svg = scatter_front(pa["rows"], "Pareto front: accuracy against cost", f"{pa['cost_field']}{unit}",
                            pa["accuracy_field"])
        if svg:
            out.append(("Variants: the dashed line joins those no other variant beats. " + pa["rule"] + ".", svg))
    return out, notes
