"""The card as one self-contained HTML page: inline CSS, plots inlined as SVG, no script, no network.

A Content-Security-Policy meta tag forbids scripts and every network fetch, and all user text (run names, tags,
sources) is HTML-escaped, so a run named `<script>alert(1)</script>` shows as text and never executes.
"""

from __future__ import annotations

from html import escape

from . import _text as T
from .card import COMPONENTS, LABELS, RUN_KEYS, Card, Figure
from .plots import card_plots

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;
padding:0 1rem;color:#1d1d1f;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.3rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border-bottom:1px solid #e3e3e3;padding:.3rem .6rem;text-align:left;vertical-align:top}
td.num{text-align:right;white-space:nowrap}th{background:#f6f6f6}
.badge{display:inline-block;border-radius:3px;padding:0 .35rem;font-size:.75rem;font-weight:600}
.measured{background:#d9f2e3;color:#14532d}.estimated{background:#fdf0d5;color:#7a4b00}
.mixed{background:#e0e7ff;color:#1e3a8a}.missing{background:#eee;color:#555}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:.7rem;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem}
.card .v{font-size:1.3rem;font-weight:700}.card .r{color:#555;font-size:.8rem}
.note{color:#444;font-size:.9rem}.warn{color:#8a3b00}figure{margin:1rem 0}figcaption{font-size:.85rem;color:#444}
svg.ww-plot{max-width:100%;height:auto;border:1px solid #eee}code{font-size:.85rem}
"""


def esc(text) -> str:
    return escape(str(text), quote=True)


def _badge(method: str) -> str:
    return f'<span class="badge {esc(method)}">{esc(T.METHOD_MARK.get(method, method).split(" (")[0])}</span>'


def _val(f: Figure) -> str:
    return f"{esc(T.value(f))} {_badge(f.method)}" if f.known else f"n/a {_badge('missing')}"


def _table(header: list[str], rows: list[list[str]], num: set[int] = frozenset()) -> str:
    """Cells are HTML already (escaped by the caller)."""
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead>", "<tbody>"]
    for r in rows:
        out.append("<tr>" + "".join(f'<td class="num">{c}</td>' if i in num else f"<td>{c}</td>"
                                    for i, c in enumerate(r)) + "</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def render(card: Card, *, plots: str = "builtin", **_: object) -> str:
    """`plots`: 'builtin' (hand-written SVG), 'matplotlib' (the plot extra; falls back with a note), 'none'."""
    t = card.totals
    h: list[str] = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
                    f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
                    '<meta name="viewport" content="width=device-width, initial-scale=1">',
                    f'<meta name="generator" content="{esc(card.generator)}">',
                    f"<title>{esc(card.title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
                    f"<h1>{esc(card.title)}</h1>", f'<p class="note">{esc(T.headline(card))}</p>']
    h += [f'<p class="note">{esc(n)}</p>' for n in card.notes]

    cards = [("Compute", t["flops"], t["flops"].basis), ("GPU-hours", t["gpu_hours"], "; ".join(card.hardware)),
             ("Wall-clock", t["duration_s"], ""), ("Energy (facility)", t["energy_kwh"], T.pue_line(card) or ""),
             ("Carbon", t["co2e_kg"], "; ".join(z.zone_id for z in card.zones)), ("Cost", t["cost_usd"],
                                                                                    "; ".join(card.price_basis))]
    h.append('<section class="cards" aria-label="Green AI summary">')
    for label, f, sub in cards:
        rng = T.span(f)
        h.append(f'<div class="card"><div>{esc(label)} {_badge(f.method)}</div><div class="v">{esc(T.value(f))}</div>'
                 f'<div class="r">{esc(rng) if rng else "&nbsp;"}</div><div class="r">{esc(sub)}</div></div>')
    h.append("</section>")

    h.append("<h2>Totals</h2>")
    h.append(_table(["Quantity", "Value", "Range (low – high)", "How"],
                    [[esc(LABELS[k]), _val(f), esc(T.span(f) or "—"), esc(T.how(f))] for k, f in t.items()], {1, 2}))
    if card.energy_by_component:
        h.append("<h2>Energy by component (IT, before PUE)</h2>")
        h.append(_table(["Component", "Energy", "Range (low – high)", "How"],
                        [[esc(LABELS[c]), _val(f), esc(T.span(f) or "—"), esc(T.how(f))]
                         for c in COMPONENTS if (f := card.energy_by_component.get(c))], {1, 2}))

    figures, plot_notes = card_plots(card, plots)
    h.append("<h2>Plots</h2>")
    for n in plot_notes:
        h.append(f'<p class="note">{esc(n)}</p>')
    if not figures:
        h.append('<p class="note">Nothing to plot (no samples, components or variants).</p>')
    for caption, svg in figures:
        h.append(f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>")

    h.append("<h2>Hardware, location and prices</h2><ul>")
    h.append(f"<li>Hardware: {esc('; '.join(card.hardware) or 'not recorded')}</li>")
    for z in card.zones:
        h.append(f"<li>Grid zone: {esc(T.zone_line(z))}</li>")
    if not card.zones:
        h.append("<li>Grid zone: not recorded</li>")
    h.append(f"<li>PUE: {esc(T.pue_line(card) or 'not recorded')}</li>")
    for pb in card.price_basis or ["not recorded"]:
        h.append(f"<li>Price basis: {esc(pb)}</li>")
    h.append("</ul>")

    if card.runs:
        h.append("<h2>Runs</h2>")
        h.append(_table(["Run", "Name", "Tags", "Status", "Start (UTC)"] + [esc(LABELS[k]) for k in RUN_KEYS],
                        [[f"<code>{esc(r.id)}</code>", esc(r.name or ""), esc(", ".join(r.tags)),
                          esc(r.status) + (f"<br><small>{esc(r.error)}</small>" if r.error else ""),
                          esc(r.start_utc or "—")] + [_val(r.figures[k]) for k in RUN_KEYS] for r in card.runs],
                        set(range(5, 5 + len(RUN_KEYS)))))

    if card.inference:
        inf = card.inference
        h.append("<h2>Inference projection</h2>")
        h.append(f'<p class="note">Serving {inf["tokens"]:.3g} tokens'
                 + (f" with N = {inf['params']:.3g} parameters" if inf.get("params") else "")
                 + f": {esc(inf['basis'])}.</p>")
        h.append(_table(["Quantity", "Training", "Inference", "Lifetime"],
                        [[esc(lab), _val(inf["training"][k]), _val(inf["inference"][k]), _val(inf["lifetime"][k])]
                         for k, lab in T.INFER_LABELS.items()], {1, 2, 3}))
        if inf.get("inference_fraction") is not None:
            s = f"Inference is {inf['inference_fraction']:.0%} of lifetime FLOPs (estimated)."
            if inf.get("crossover_day") is not None:
                s += f" Serving overtakes training (break-even) on day {inf['crossover_day']:,.0f}."
            h.append(f'<p class="note">{esc(s)}</p>')

    if card.pareto:
        pa = card.pareto
        h.append("<h2>Pareto comparison of variants</h2>")
        h.append(f'<p class="note">{esc(pa["rule"])}.</p>')
        h.append(_table(["Variant", esc(pa["accuracy_field"]), f"Cost ({esc(pa['cost_field'])})", "On the front",
                         "Beaten by"],
                        [[esc(r["name"]), esc(f"{r['accuracy']:.4g}"), esc(T.pareto_cost(r["cost"], pa["cost_unit"])),
                          "yes" if r["on_front"] else "no", esc(", ".join(r["dominated_by"]) or "—")]
                         for r in pa["rows"]], {1, 2}))

    h.append("<h2>Methods and sources</h2>")
    h.append(_table(["Constant or method", "Value", "Used for", "Source"],
                    [[esc(c.name), esc(T.constant_value(c)), esc(c.used_for), esc(c.source)] for c in card.methods],
                    {1}))
    if card.warnings:
        h.append("<h2>Warnings</h2><ul>" + "".join(f'<li class="warn">{esc(w)}</li>' for w in card.warnings)
                 + "</ul>")
    h.append(f'<footer><p class="note">{esc(T.LEGEND)}. Generated by {esc(card.generator)}; '
             f"schema wattwise.card/v1.</p></footer>")
    h += ["</body>", "</html>"]
    return "\n".join(h) + "\n"
