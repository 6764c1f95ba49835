"""Plots of the card as inline SVG strings: energy and power over time, the component breakdown, the Pareto front.

Two back-ends: `builtin` (hand-written SVG, standard library only, deterministic: the default) and `matplotlib`
(the `plot` extra; SVG with fixed hash salt and no date, so also reproducible). Every piece of text is escaped.
Each function returns one `<svg class="ww-plot" ...>` element, or None when there is nothing to draw.

Legibility rules (checked in a real browser by tests/report/test_browser.py): series colours from the Okabe-Ito
colour-blind-safe palette, each series also with its own dash pattern; tick labels through wattwise.display (no
e-notation) in the unit family the tables use (Wh/kWh/MWh, FLOPs with SI prefixes, ms/s/min/h); labels placed so
that they overlap neither each other nor the points, and stay inside the plot; the legend grows the SVG instead
of running out of it.
"""

from __future__ import annotations

import math
from html import escape
from typing import Sequence

from .. import display as _fmt
from .card import LABELS, Card

W, H = 640, 300
ML, MR, MT, MB = 70, 20, 34, 56  # margins: left, right, top, bottom (the legend goes below the bottom margin)
# Okabe & Ito (2008) colour-blind-safe colours (yellow left out: unreadable on white), then Paul Tol's: every pair
# at least 30 apart in CIE76 delta E (the browser test checks 30); a series also gets its own dash pattern
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#222222", "#882255", "#999933", "#661100",
           "#332288", "#88CCEE")
DASHES = ("", "7 3", "2 3", "9 3 2 3", "4 4", "1 2")
CHAR_W = 6.6   # generous width of one character at font-size 11 (DejaVu Sans averages about 6.2)
LINE_H = 14


def text_width(text: str, size: float = 11) -> float:
    """Estimated width in px of `text` at font `size` (generous, so that placements keep their distance)."""
    return len(str(text)) * CHAR_W * size / 11


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
    return _fmt.plain(0.0 if abs(v) < 1e-12 else v)


_SI_PREFIXES = ((1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"),
                (1e3, "k"), (1.0, ""))


def axis_unit(v_max: float, unit: str) -> tuple[float, str]:
    """(factor, unit label) for an axis whose largest value is `v_max` in `unit`: values x factor are read in the
    label's unit, the same family as the tables (wattwise.display): Wh/kWh/MWh, SI-prefixed FLOPs, ms/s/min/h,
    MiB/GiB."""
    v = abs(v_max or 0.0)
    if unit in ("kWh", "kWh/1000 inferences"):
        rest = unit[3:]
        for scale, u in ((1e3, "MWh"), (1.0, "kWh"), (1e-3, "Wh")):
            if v >= scale or scale == 1e-3:
                return 1.0 / scale, u + rest
    if unit.startswith("FLOPs") or unit == "parameters":
        for scale, prefix in _SI_PREFIXES:
            if v >= scale or scale == 1.0:
                return 1.0 / scale, (prefix + unit if unit.startswith("FLOPs") else
                                     f"{prefix + ' ' if prefix else ''}{unit}".replace("k ", "thousand ")
                                     .replace("M ", "million ").replace("G ", "billion ").replace("T ", "trillion "))
    if unit == "s":
        if v >= 3 * 3600:
            return 1 / 3600, "h"
        if v >= 180:
            return 1 / 60, "min"
        if v < 1:
            return 1e3, "ms"
        return 1.0, "s"
    if unit == "bytes":
        for scale, u in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"), (1, "bytes")):
            if v >= scale or scale == 1:
                return 1.0 / scale, u
    return 1.0, unit


def _boxes_overlap(a, b, pad: float = 1.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _legend_layout(labels: Sequence[str], x_min: float, x_max: float) -> tuple[list[tuple[float, int, str]], int]:
    """[(x, row, text)] of legend entries wrapped to [x_min, x_max], and the number of rows."""
    out, x, row = [], x_min, 0
    for lab in labels:
        text = lab if len(lab) <= 40 else lab[:39] + "…"
        width = 18 + text_width(text)
        if x + width > x_max and x > x_min:
            x, row = x_min, row + 1
        out.append((x, row, text))
        x += width + 14
    return out, (row + 1 if labels else 0)


class _Axes:
    """Ticks, scales and margins of one chart; the left margin fits the widest y tick label."""

    def __init__(self, xt: list[float], yt: list[float], legend: Sequence[str] = ()):
        self.xt, self.yt = xt, yt
        self.ml = max(ML, 30 + max(text_width(_tick_label(v)) for v in yt))
        self.legend, rows = _legend_layout(list(legend), self.ml, W - MR)
        self.h = H + max(0, rows - 1) * LINE_H + (4 if rows > 1 else 0)
        self.y0, self.y1 = H - MB, MT   # bottom and top of the plot area (the legend is below H - MB)

    def sx(self, v: float) -> float:
        return self.ml + (v - self.xt[0]) / (self.xt[-1] - self.xt[0]) * (W - self.ml - MR)

    def sy(self, v: float) -> float:
        return self.y0 - (v - self.yt[0]) / (self.yt[-1] - self.yt[0]) * (self.y0 - self.y1)


def _open(title: str, aria: str, h: float) -> list[str]:
    return [f'<svg class="ww-plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h:g}" width="{W}" '
            f'height="{h:g}" role="img" aria-label="{_e(aria)}">', f"<title>{_e(title)}</title>",
            f'<rect x="0" y="0" width="{W}" height="{h:g}" fill="#ffffff"/>',
            f'<text x="{W / 2:.1f}" y="20" text-anchor="middle" font-size="14" font-weight="bold">{_e(title)}</text>']


def _frame(title: str, xlabel: str, ylabel: str, ax: _Axes, aria: str) -> list[str]:
    x0, x1, y0, y1 = ax.ml, W - MR, ax.y0, ax.y1
    out = _open(title, aria, ax.h)
    for v in ax.yt:
        y = ax.sy(v)
        out.append(f'<line x1="{x0:.2f}" y1="{y:.2f}" x2="{x1}" y2="{y:.2f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x0 - 6:.2f}" y="{y + 4:.2f}" text-anchor="end" font-size="11">'
                   f"{_e(_tick_label(v))}</text>")
    for v in ax.xt:
        x = ax.sx(v)
        out.append(f'<line x1="{x:.2f}" y1="{y0}" x2="{x:.2f}" y2="{y0 + 4}" stroke="#333"/>')
        out.append(f'<text x="{x:.2f}" y="{y0 + 16}" text-anchor="middle" font-size="11">{_e(_tick_label(v))}</text>')
    out.append(f'<line x1="{x0:.2f}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#333"/>')
    out.append(f'<line x1="{x0:.2f}" y1="{y0}" x2="{x0:.2f}" y2="{y1}" stroke="#333"/>')
    out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{y0 + 32}" text-anchor="middle" font-size="12">{_e(xlabel)}</text>')
    out.append(f'<text transform="translate(16 {(y0 + y1) / 2:.1f}) rotate(-90)" text-anchor="middle" '
               f'font-size="12">{_e(ylabel)}</text>')
    return out


def _legend(ax: _Axes, colors: Sequence[str], dashes: Sequence[str] | None = None) -> list[str]:
    out = []
    base = ax.y0 + 48
    for (x, row, text), i in zip(ax.legend, range(len(colors))):
        y = base + row * LINE_H
        dash = f' stroke-dasharray="{dashes[i]}"' if dashes and dashes[i] else ""
        if dashes is not None:
            out.append(f'<line x1="{x:.1f}" y1="{y - 4}" x2="{x + 14:.1f}" y2="{y - 4}" stroke="{colors[i]}" '
                       f'stroke-width="2.5"{dash}/>')
        else:
            out.append(f'<rect x="{x:.1f}" y="{y - 8}" width="12" height="8" fill="{colors[i]}"/>')
        out.append(f'<text x="{x + 18:.1f}" y="{y}" font-size="11">{_e(text)}</text>')
    return out


def line_chart(lines: Sequence[tuple[str, Sequence[float], Sequence[float | None]]], title: str, xlabel: str,
               ylabel: str, step: bool = False) -> str | None:
    """Lines (label, xs, ys); a None value is skipped. `step`: each y holds over the interval that ends at its x
    (mean power per interval), drawn as horizontal steps."""
    pts = [(x, y) for _, xs, ys in lines for x, y in zip(xs, ys) if y is not None]
    if not pts:
        return None
    xt = nice_ticks(min(p[0] for p in pts), max(p[0] for p in pts))
    yt = nice_ticks(min(0.0, min(p[1] for p in pts)), max(p[1] for p in pts))
    ax = _Axes(xt, yt, [lab for lab, _, _ in lines])
    out = _frame(title, xlabel, ylabel, ax, f"{title}: {len(lines)} series")
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(lines))]
    dashes = [DASHES[i % len(DASHES)] for i in range(len(lines))]
    for (label, xs, ys), col, dash in zip(lines, colors, dashes):
        if step:
            seq = [(a, y) for i in range(1, len(xs)) if (y := ys[i]) is not None for a in (xs[i - 1], xs[i])]
        else:
            seq = [(x, y) for x, y in zip(xs, ys) if y is not None]
        p = " ".join(f"{ax.sx(x):.2f},{ax.sy(y):.2f}" for x, y in seq)
        d = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline class="ww-series" fill="none" stroke="{col}" stroke-width="2"{d} points="{p}">'
                   f"<title>{_e(label)}</title></polyline>")
    out += _legend(ax, colors, dashes)
    out.append("</svg>")
    return "\n".join(out)


def bar_chart(bars: Sequence[tuple[str, float, str]], title: str, xlabel: str, factor: float = 1.0) -> str | None:
    """Horizontal bars (label, value, value text); the axis shows value x `factor` (its unit is in `xlabel`)."""
    bars = [b for b in bars if b[1] is not None and b[1] > 0]
    if not bars:
        return None
    xt = nice_ticks(0.0, max(b[1] for b in bars) * factor)
    x0 = max(ML + 60, 16 + max(text_width(b[0], 12) for b in bars))
    x1 = W - MR - max(text_width(b[2]) for b in bars) - 8
    sx = lambda v: x0 + v * factor / xt[-1] * (x1 - x0)  # noqa: E731
    bh = 28.0
    h = MT + 8 + len(bars) * (bh + 8) + MB   # as tall as the bars need
    out = _open(title, title, h)
    for v in xt:
        x = x0 + v / xt[-1] * (x1 - x0)
        out.append(f'<line x1="{x:.2f}" y1="{MT}" x2="{x:.2f}" y2="{h - MB}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x:.2f}" y="{h - MB + 16}" text-anchor="middle" font-size="11">'
                   f"{_e(_tick_label(v))}</text>")
    for i, (label, value, text) in enumerate(bars):
        y = MT + 8 + i * (bh + 8)
        col = PALETTE[i % len(PALETTE)]
        out.append(f'<text x="{x0 - 8:.2f}" y="{y + bh / 2 + 4:.2f}" text-anchor="end" font-size="12">{_e(label)}</text>')
        out.append(f'<rect class="ww-bar" x="{x0:.2f}" y="{y:.2f}" width="{sx(value) - x0:.2f}" height="{bh:.2f}" '
                   f'fill="{col}"><title>{_e(label)}: {_e(text)}</title></rect>')
        out.append(f'<text x="{sx(value) + 6:.2f}" y="{y + bh / 2 + 4:.2f}" font-size="11">{_e(text)}</text>')
    out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{h - MB + 34}" text-anchor="middle" font-size="12">{_e(xlabel)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _box_distance(box, x: float, y: float) -> float:
    """Distance from point (x, y) to the box (0 inside)."""
    return math.hypot(max(box[0] - x, 0.0, x - box[2]), max(box[1] - y, 0.0, y - box[3]))


def place_labels(points: Sequence[tuple[float, float, str]], bounds: tuple[float, float, float, float],
                 radius: float = 5.0, size: float = 11,
                 lines: Sequence[Sequence[tuple[float, float]]] = ()) -> list[tuple[float, float, str]]:
    """Positions (x, y baseline, text-anchor) for a label beside each point (x, y, text), chosen among eight
    places around it so that no label overlaps another label or any point and each stays within `bounds`
    (x0, y0, x1, y1), avoiding also the polylines in `lines` when it can; when none is free, the place with the
    least overlap."""
    h = size + 2
    dots = [(x - radius, y - radius, x + radius, y + radius) for x, y, _ in points]
    trace = []   # the polylines as small boxes every 4 px: crossing one costs less than covering a label or a point
    for line in lines:
        for (ax, ay), (bx, by) in zip(line, line[1:]):
            n = max(1, int(math.hypot(bx - ax, by - ay) / 4))
            trace += [(ax + (bx - ax) * i / n - 1, ay + (by - ay) * i / n - 1, ax + (bx - ax) * i / n + 1,
                       ay + (by - ay) * i / n + 1) for i in range(n + 1)]
    placed: list[tuple[float, float, float, float]] = []
    out = []
    for x, y, text in points:
        w = text_width(text, size)
        near = [(x + 8, y - 6, "start"), (x + 8, y + h + 2, "start"), (x - 8, y - 6, "end"),
                (x - 8, y + h + 2, "end"), (x, y - 10, "middle"), (x, y + h + 6, "middle"),
                (x + 10, y + 4, "start"), (x - 10, y + 4, "end")]
        # then farther up and down, for crowded points
        cands = near + [(cx, cy + sign * k * h, a) for k in (1, 2, 3) for sign in (-1, 1)
                        for cx, cy, a in near[:4]]
        best, best_cost = None, None
        for cx, cy, anchor in cands:
            left = cx if anchor == "start" else cx - w if anchor == "end" else cx - w / 2
            box = (left, cy - size, left + w, cy + 3)
            out_of = max(0.0, bounds[0] - box[0]) + max(0.0, box[2] - bounds[2]) + \
                max(0.0, bounds[1] - box[1]) + max(0.0, box[3] - bounds[3])
            hits = sum(1 for b in placed + dots if _boxes_overlap(box, b))
            crossed = sum(1 for b in trace if _boxes_overlap(box, b, 0.0))
            # a label about as near another point as its own would seem to name that point
            own = _box_distance(box, x, y)
            misleading = any(_box_distance(box, ox, oy) < 2 * own + 10 for ox, oy, _ in points
                             if (ox, oy) != (x, y))
            cost = hits * 1000 + (2000 + out_of * 10 if out_of > 0 else 0) + misleading * 500 + crossed
            if best_cost is None or cost < best_cost:
                best, best_cost = (cx, cy, anchor, box), cost
            if cost == 0:
                break
        placed.append(best[3])
        out.append(best[:3])
    return out


def scatter_front(rows: Sequence[dict], title: str, xlabel: str, ylabel: str, factor: float = 1.0) -> str | None:
    """Pareto scatter: every variant a dot, the front joined by a line, labels next to the dots that overlap
    nothing. The x axis shows cost x `factor` (its unit is in `xlabel`)."""
    if not rows:
        return None
    xs, ys = [r["cost"] * factor for r in rows], [r["accuracy"] for r in rows]
    pad_y = (max(ys) - min(ys)) * 0.1 or abs(max(ys)) * 0.01 or 0.01
    xt = nice_ticks(min(0.0, min(xs)), max(xs) * 1.05 if max(xs) > 0 else 1.0)
    yt = nice_ticks(min(ys) - pad_y, max(ys) + pad_y)
    ax = _Axes(xt, yt, ["on the Pareto front", "beaten by another variant"])
    out = _frame(title, xlabel, ylabel, ax, f"{title}: {len(rows)} variants")
    front = sorted((r for r in rows if r["on_front"]), key=lambda r: (r["cost"], -r["accuracy"]))
    front_xy = [(ax.sx(r["cost"] * factor), ax.sy(r["accuracy"])) for r in front]
    if len(front) > 1:
        p = " ".join(f"{x:.2f},{y:.2f}" for x, y in front_xy)
        out.append(f'<polyline class="ww-front" fill="none" stroke="{PALETTE[1]}" stroke-width="2" '
                   f'stroke-dasharray="6 3" points="{p}"/>')
    pts = []
    for r in rows:
        col = PALETTE[1] if r["on_front"] else "#888888"
        x, y = ax.sx(r["cost"] * factor), ax.sy(r["accuracy"])
        out.append(f'<circle class="ww-point" cx="{x:.2f}" cy="{y:.2f}" r="5" fill="{col}">'
                   f"<title>{_e(r['name'])}</title></circle>")
        pts.append((x, y, r["name"] if len(r["name"]) <= 28 else r["name"][:27] + "…"))
    for (cx, cy, anchor), (_, _, name) in zip(place_labels(pts, (ax.ml + 2, MT, W - 2, ax.y0 - 2),
                                                          lines=[front_xy] if len(front) > 1 else []), pts):
        out.append(f'<text class="ww-label" x="{cx:.2f}" y="{cy:.2f}" text-anchor="{anchor}" font-size="11">'
                   f"{_e(name)}</text>")
    out += _legend(ax, [PALETTE[1], "#888888"])
    out.append("</svg>")
    return "\n".join(out)


# --- the card's plots -------------------------------------------------------------------------------------------

def _time_unit(t_max: float) -> tuple[float, str]:
    """(divisor, unit) of a time axis."""
    return (3600.0, "h") if t_max >= 3 * 3600 else (60.0, "min") if t_max >= 180 else (1.0, "s")


def _energy_unit(e_max_kwh: float) -> tuple[float, str]:
    """(factor, unit) of an energy axis, as the tables write energy."""
    return axis_unit(e_max_kwh, "kWh")


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
        p_max = max((p for s in card.series for p in s.power_w if p is not None), default=0.0)
        pk, pu = (1e-3, "kW") if p_max >= 1e4 else (1.0, "W")
        lines = [(lab, xs, [None if p is None else p * pk for p in ps]) for lab, xs, ps in lines]
        svg = line_chart(lines, "Power over time (IT, mean per interval)", f"time since start ({tu})",
                         f"power ({pu})", step=True)
        if svg:
            out.append(("Mean IT power between consecutive samples.", svg))
    comps = [(LABELS[c], f.central, f"{_fmt.energy(f.central)} ({f.badge})")
             for c, f in card.energy_by_component.items() if f.known]
    it, fac = card.totals["it_energy_kwh"], card.totals["energy_kwh"]
    if it.known and fac.known and fac.central > it.central:
        comps.append(("Facility (PUE)", fac.central - it.central, f"{_fmt.energy(fac.central - it.central)} "
                                                                   "(estimated)"))
    if comps:
        k, u = axis_unit(max(c[1] for c in comps), "kWh")
        svg = bar_chart(comps, "Energy by component", f"energy ({u})", factor=k)
        if svg:
            out.append(("IT energy by component and the facility overhead that PUE adds.", svg))
    if card.pareto:
        from . import _text as T
        pa = card.pareto
        k, u = axis_unit(max((r["cost"] for r in pa["rows"]), default=0.0), pa["cost_unit"])
        label = T.cost_field_label(pa)
        svg = scatter_front(pa["rows"], "Pareto front: accuracy against cost", f"{label} ({u})" if u else label,
                            T.accuracy_label(pa), factor=k)
        if svg:
            out.append(("Variants: the dashed line joins those no other variant beats. " + pa["rule"] + ".", svg))
    return out, notes
