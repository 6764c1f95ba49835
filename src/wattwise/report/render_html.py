"""The card as one self-contained HTML page: inline CSS, plots inlined as SVG, no script, no network.

A Content-Security-Policy meta tag forbids scripts and every network fetch, and all user text (run names, tags,
sources) is HTML-escaped, so a run named `<script>alert(1)</script>` shows as text and never executes.
"""

from __future__ import annotations

import re
from html import escape

from .. import display as _fmt
from . import _text as T
from .card import COMPONENTS, LABELS, RUN_KEYS, Card, Figure
from .plots import card_plots

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1180px;
padding:0 1rem;color:#1d1d1f;line-height:1.45;overflow-wrap:anywhere}
h1{font-size:1.6rem;margin-bottom:.3rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem;max-width:100%}
th,td{border-bottom:1px solid #e3e3e3;padding:.3rem .5rem;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
td.num{text-align:right}th{background:#f6f6f6}.nw{white-space:nowrap}
table.runs{font-size:.82rem}table.runs td,table.runs th{padding:.25rem .35rem}
.badge{display:inline-block;border-radius:3px;padding:0 .35rem;font-size:.75rem;font-weight:600;white-space:nowrap}
.measured{background:#d9f2e3;color:#14532d}.estimated{background:#fdf0d5;color:#7a4b00}
.mixed{background:#e0e7ff;color:#1e3a8a}.missing{background:#eee;color:#555}
.counted{background:#dff3f7;color:#0b4f5c}.lower-bound{background:#fde2e1;color:#8a1c1c}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:.7rem;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;min-width:0}
.card .v{font-size:1.2rem;font-weight:700;white-space:nowrap}.card .r{color:#555;font-size:.8rem}
.note{color:#444;font-size:.9rem}.warn{color:#8a3b00}figcaption{font-size:.85rem;color:#444}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:1rem;margin:1rem 0}
figure{margin:0;min-width:0}svg.ww-plot{display:block;box-sizing:border-box;max-width:100%;height:auto;border:1px solid #eee}
code{font-size:.85em}small{color:#555}a{color:#1b4f8a}tr:target{background:#fff7d6}
"""


def esc(text) -> str:
    return escape(str(text), quote=True)


def _badge(f_or_word) -> str:
    """The badge of a figure (`Figure.badge`: lower bound, counted, or its method) or of a method word."""
    word = f_or_word if isinstance(f_or_word, str) else f_or_word.badge
    return f'<span class="badge {esc(word.replace(" ", "-"))}">{esc(T.METHOD_WORD.get(word, word))}</span>'


def _val(f: Figure) -> str:
    if not f.known:
        return f"n/a {_badge('missing')}"
    return f'<span class="nw">{esc(T.value(f, mark_partial=False))}</span> {_badge(f)}'


def _table(header: list[str], rows: list[list[str]], num: set[int] = frozenset(), cls: str = "",
           row_ids: list[str] | None = None) -> str:
    """Cells are HTML already (escaped by the caller)."""
    out = [f'<table class="{cls}">' if cls else "<table>",
           "<thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead>", "<tbody>"]
    for i, r in enumerate(rows):
        rid = f' id="{row_ids[i]}"' if row_ids and row_ids[i] else ""
        out.append(f"<tr{rid}>" + "".join(f'<td class="num">{c}</td>' if j in num else f"<td>{c}</td>"
                                           for j, c in enumerate(r)) + "</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


class _Sources:
    """The methods section's anchors: each constant once, with an id; source text elsewhere on the card is
    replaced by a link to its entry, so a source is written once."""

    def __init__(self, card: Card):
        self.ids: list[str] = []
        self.by_source: list[tuple[str, str, str]] = []   # (source text, anchor, name)
        used: set[str] = set()
        for c in card.methods:
            base = "m-" + (re.sub(r"[^a-z0-9]+", "-", c.name.lower()).strip("-") or "x")
            aid, k = base, 2
            while aid in used:
                aid, k = f"{base}-{k}", k + 1
            used.add(aid)
            self.ids.append(aid)
            if c.source and len(c.source) >= 12:
                self.by_source.append((c.source, aid, c.name))
        self.by_source.sort(key=lambda x: -len(x[0]))
        self.card = card

    def anchor(self, prefix: str) -> str | None:
        for c, aid in zip(self.card.methods, self.ids):
            if c.name.lower().startswith(prefix.lower()):
                return aid
        return None

    def link(self, name: str, aid: str | None) -> str:
        return f'<a href="#{aid}">{esc(name)}</a>' if aid else esc(name)

    def text(self, text: str) -> str:
        """`text` escaped, with every methods source it contains replaced by a link to that entry."""
        for src, aid, name in self.by_source:
            i = text.find(src)
            if i >= 0:
                return (self.text(text[:i]) + f'<a href="#{aid}">see Methods: {esc(name)}</a>'
                        + self.text(text[i + len(src):]))
        return esc(text)


def render(card: Card, *, plots: str = "builtin", **_: object) -> str:
    """`plots`: 'builtin' (hand-written SVG), 'matplotlib' (the plot extra; falls back with a note), 'none'."""
    t = card.totals
    src = _Sources(card)
    h: list[str] = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
                    f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
                    '<meta name="viewport" content="width=device-width, initial-scale=1">',
                    f'<meta name="generator" content="{esc(card.generator)}">',
                    f"<title>{esc(card.title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
                    f"<h1>{esc(card.title)}</h1>", f'<p class="note">{esc(T.headline(card))}</p>']
    h += [f'<p class="note">{esc(n)}</p>' for n in card.notes]

    def runs_of(f: Figure) -> str:
        return f"{f.runs_counted} of {f.runs_total} runs" if f.runs_total else ""

    pue = T.pue_short(card)
    zones = "; ".join(T.zone_line(z, with_source=False) for z in card.zones)
    prices = "; ".join(T.price_short(card))
    tiles = [("Compute", t["flops"], ("known for " if t["flops"].partial else "") + esc(runs_of(t["flops"]))),
             ("GPU-hours", t["gpu_hours"], esc(runs_of(t["gpu_hours"]))),
             ("Wall-clock", t["duration_s"], esc(runs_of(t["duration_s"]))),
             ("Energy (facility)", t["energy_kwh"],
              (src.link("PUE", src.anchor("PUE")) + " " + esc(pue)) if pue else ""),
             ("Carbon", t["co2e_kg"], src.link("grid", src.anchor("grid intensity")) + " " + esc(zones) if zones
              else ""),
             ("Cost", t["cost_usd"], src.link("price", src.anchor("price")) + (" " + esc(prices) if prices else "")
              if card.price_basis else "")]
    h.append('<section class="cards" aria-label="Green AI summary">')
    for label, f, sub in tiles:
        rng = T.span(f)
        h.append(f'<div class="card"><div>{esc(label)} {_badge(f)}</div>'
                 f'<div class="v">{esc(T.value(f, mark_partial=False))}</div>'
                 f'<div class="r">{esc(rng) if rng else "&nbsp;"}</div><div class="r">{sub or "&nbsp;"}</div></div>')
    h.append("</section>")

    h.append("<h2>Totals</h2>")
    h.append(_table(["Quantity", "Value", "Range (low to high)", "How"],
                    [[esc(LABELS[k]), _val(f), esc(T.span(f) or "—"), src.text(T.how(f))] for k, f in t.items()],
                    {1, 2}))
    if card.energy_by_component:
        h.append("<h2>Energy by component (IT, before PUE)</h2>")
        h.append(_table(["Component", "Energy", "Range (low to high)", "How"],
                        [[esc(LABELS[c]), _val(f), esc(T.span(f) or "—"), src.text(T.how(f))]
                         for c in COMPONENTS if (f := card.energy_by_component.get(c))], {1, 2}))

    figures, plot_notes = card_plots(card, plots)
    h.append("<h2>Plots</h2>")
    for n in plot_notes:
        h.append(f'<p class="note">{esc(n)}</p>')
    if not figures:
        h.append('<p class="note">Nothing to plot (no samples, components or variants).</p>')
    else:
        h.append('<div class="plots">')
        for caption, svg in figures:
            h.append(f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>")
        h.append("</div>")

    h.append('<h2>Hardware, location and prices</h2><p class="note">Each constant\'s source is under '
             '<a href="#methods">Methods and sources</a>.</p><ul>')
    h.append(f"<li>Hardware: {esc('; '.join(card.hardware) or 'not recorded')}</li>")
    for z in card.zones:
        aid = src.anchor(f"grid intensity {z.zone_id}") or src.anchor("grid intensity")
        h.append(f"<li>Grid zone: {esc(T.zone_line(z, with_source=False))} ({src.link('source', aid)})</li>")
    if not card.zones:
        h.append("<li>Grid zone: not recorded</li>")
    h.append(f"<li>PUE: {esc(pue)} ({src.link('source', src.anchor('PUE'))})</li>" if pue
             else "<li>PUE: not recorded</li>")
    if card.price_basis:
        for pb in T.price_short(card) or [""]:
            h.append(f"<li>Price: {esc(pb) + ' (' if pb else ''}{src.link('source', src.anchor('price'))}"
                     f"{')' if pb else ''}</li>")
    else:
        h.append("<li>Price: not recorded</li>")
    h.append("</ul>")

    if card.runs:
        h.append("<h2>Runs</h2>")
        h.append(_table(["Run (tags)", "Name", "Status", "Start (UTC)"] + [esc(LABELS[k]) for k in RUN_KEYS],
                        [[f"<code>{esc(r.id)}</code>"
                          + (f"<br><small>tags: {esc(', '.join(r.tags))}</small>" if r.tags else ""),
                          esc(r.name or ""),
                          esc(r.status) + (f"<br><small>{esc(r.error)}</small>" if r.error else ""),
                          esc((r.start_utc or "—").replace("T", " ").rstrip("Z"))]
                         + [_val(r.figures[k]) for k in RUN_KEYS] for r in card.runs],
                        set(range(4, 4 + len(RUN_KEYS))), cls="runs"))

    if card.inference:
        inf = card.inference
        h.append("<h2>Inference projection</h2>")
        h.append(f'<p class="note">{esc(T.inference_line(inf))}: {src.text(inf["basis"])}.</p>')
        h.append(_table(["Quantity", "Training", "Inference", "Lifetime"],
                        [[esc(lab), _val(inf["training"][k]), _val(inf["inference"][k]), _val(inf["lifetime"][k])]
                         for k, lab in T.INFER_LABELS.items()], {1, 2, 3}))
        if T.inference_split(inf):
            h.append(f'<p class="note">{esc(T.inference_split(inf))}</p>')

    if card.pareto:
        pa = card.pareto
        h.append("<h2>Pareto comparison of variants</h2>")
        h.append(f'<p class="note">{esc(pa["rule"])}.</p>')
        h.append(_table(["Variant", esc(T.accuracy_label(pa)), esc(T.cost_label(pa)), "On the front", "Beaten by"],
                        [[esc(r["name"]), esc(_fmt.plain(r["accuracy"])),
                          esc(T.pareto_cost(r["cost"], pa["cost_unit"])),
                          "yes" if r["on_front"] else "no", esc(", ".join(r["dominated_by"]) or "—")]
                         for r in pa["rows"]], {1, 2}))

    h.append('<h2 id="methods">Methods and sources</h2>')
    h.append(_table(["Constant or method", "Value", "Used for", "Source"],
                    [[esc(c.name), f'<span class="nw">{esc(T.constant_value(c))}</span>', esc(c.used_for), _linkify(c.source)]
                     for c in card.methods], {1}, row_ids=src.ids))
    if card.warnings:
        h.append("<h2>Warnings</h2><ul>" + "".join(f'<li class="warn">{src.text(w)}</li>' for w in card.warnings)
                 + "</ul>")
    h.append(f'<footer><p class="note">{esc(BADGES)}. Generated by {esc(card.generator)}; '
             f"schema wattwise.card/v1.</p></footer>")
    h += ["</body>", "</html>"]
    return "\n".join(h) + "\n"


BADGES = ("Badges: measured (this work's meters and clock), estimated (a model), counted (FLOPs counted on the "
          "work), mixed (parts measured, parts estimated), lower bound (known for only some of the runs)")

_URL = re.compile(r"https?://[^\s<>\"')]+")


def _linkify(text: str) -> str:
    """`text` escaped, its URLs shown as text that may break anywhere (no link: the page fetches nothing)."""
    out, last = [], 0
    for m in _URL.finditer(text):
        out.append(esc(text[last:m.start()]))
        out.append(f"<code>{esc(m.group(0))}</code>")
        last = m.end()
    out.append(esc(text[last:]))
    return "".join(out)
