"""`wattwise catalog gpus|zones|pue|prices|cpus [--search TEXT] [--json]`: what is known, with sources.

Tables fit the terminal without cutting an id or a number (80 columns, piped, included): a column whose value is
the same in every row moves into a line under the table, then secondary columns are left out (named under the
table; --json has everything); when even that does not fit, each row prints as a block of `field: value` items
that wrap between items and between words, never inside one.
"""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Annotated, Optional

import typer

from .. import catalog
from ._output import console, print_json

app = typer.Typer(no_args_is_help=True)
SEARCH = Annotated[Optional[str], typer.Option("--search", "-s", help="Only rows containing this text.")]
JSON = Annotated[bool, typer.Option("--json", help="Print JSON rows instead of a table.")]
FOOTER = "Licences: wattwise/catalog/data/LICENSES.md"
GAP = 2  # spaces between table columns
NBSP = "\u00a0"  # joins the words of one list item (an alias) so that wrapping never splits it


@dataclasses.dataclass(frozen=True)
class Col:
    """kind: 'id' and 'number' cells are never wrapped or cut, 'text' cells fold at spaces.
    drop: 0 = always shown; higher numbers are left out first when the table is too wide."""
    header: str
    kind: str = "text"
    drop: int = 0


def _tflops(x: float | None) -> str:
    return "" if x is None else f"{x / 1e12:,.1f}"


def _width(col: Col, cells: list[str]) -> int:
    """The narrowest this column may be: whole ids/numbers; text down to 12 characters or its longest word."""
    head = max((len(w) for w in col.header.split()), default=1)
    if col.kind in ("id", "number"):
        return max([head] + [len(c) for c in cells])
    longest_word = max([head] + [len(w) for c in cells for w in c.split()])
    return max(head, min(12, max([len(c) for c in cells] + [1])), min(longest_word, 24))


def _fits(cols: list[Col], rows: list[list[str]], keep: list[int], width: int) -> bool:
    return sum(_width(cols[i], [r[i] for r in rows]) for i in keep) + GAP * (len(keep) - 1) <= width


def _wrap(text: str, width: int, indent: str) -> list[str]:
    lines = textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent + "  ",
                          break_long_words=False, break_on_hyphens=False) or [indent]
    return [ln.replace(NBSP, " ") for ln in lines]


def _blocks(cols: list[Col], rows: list[list[str]], width: int) -> list[str]:
    """Each row as its first cell on a line, then `header: value` items packed into indented lines."""
    lines: list[str] = []
    for r in rows:
        lines.append(r[0])
        line = ""
        for c, v in zip(cols[1:], r[1:]):
            if not v:
                continue
            item = f"{c.header}: {v}"
            if line and len(line) + 2 + len(item) <= width:
                line += "; " + item
                continue
            if line:
                lines.append(line)
            if 2 + len(item) <= width:
                line = "  " + item
            else:
                lines.extend(_wrap(item, width, "  "))
                line = ""
        if line:
            lines.append(line)
    return [ln.replace(NBSP, " ") for ln in lines]


def _emit(title: str, cols: list[Col], rows_src, as_json: bool, to_row, note: str = "") -> None:
    if as_json:
        print_json([dataclasses.asdict(r) for r in rows_src])
        return
    from rich.table import Table
    from rich.text import Text

    rows = [[str(v) for v in to_row(r)] for r in rows_src]
    width = console.width
    keep = list(range(len(cols)))
    under: list[str] = []
    same: list[int] = []
    if len(rows) > 1:
        same = [i for i in keep if i and len({r[i] for r in rows}) == 1]
        if same:
            under.append("Every row: " + "; ".join(f"{cols[i].header} {rows[0][i] or '(blank)'}" for i in same))
            keep = [i for i in keep if i not in same]
    shown = list(keep)
    left_out = []
    for i in sorted((i for i in keep if cols[i].drop), key=lambda i: -cols[i].drop):
        if _fits(cols, rows, shown, width):
            break
        shown.remove(i)
        left_out.append(cols[i].header)

    console.print(Text(title, style="bold"), soft_wrap=True)
    if rows and _fits(cols, rows, shown, width):
        if left_out:
            under.append(f"Not shown at {width} columns: {', '.join(left_out)} (--json has every field).")
        t = Table(box=None, padding=(0, GAP // 2), pad_edge=False, show_edge=False, header_style="bold")
        for i in shown:
            c = cols[i]
            whole = c.kind in ("id", "number")
            # an id/number column gets exactly its widest cell (its header wraps instead); text takes the rest
            t.add_column(c.header.replace(" ", "\n") if whole else c.header, justify="right" if c.kind == "number" else "left", no_wrap=whole,
                         overflow="ignore" if whole else "fold",
                         width=_width(c, [r[i] for r in rows]) if whole else None)
        for r in rows:
            t.add_row(*(r[i].replace(NBSP, " ") for i in shown))
        console.print(t)
    else:
        # too wide even without the secondary columns: every field, as blocks (nothing left out)
        for line in _blocks([cols[i] for i in keep], [[r[i] for i in keep] for r in rows], width):
            console.print(Text(line), soft_wrap=True)
    for line in [*under, *([note] if note else []), f"{len(rows)} rows. {FOOTER}"]:
        for w in _wrap(line, width, ""):
            console.print(Text(w, style="dim"), soft_wrap=True)


@app.command("gpus")
def gpus(search: SEARCH = None, as_json: JSON = False) -> None:
    """Accelerators: peak dense TFLOP/s per dtype, TDP, memory, release, datasheet."""
    cols = [Col("id", "id"), Col("model", "text"), Col("FP64", "number", 1), Col("FP32", "number"), Col("TF32", "number"),
            Col("BF16", "number"), Col("FP16", "number"), Col("FP8", "number"), Col("INT8 TOPS", "number"),
            Col("TDP W", "number"), Col("GB", "number", 2), Col("released", "id", 4), Col("aliases", "text", 5)]
    _emit("Accelerators: dense peak TFLOP/s (no sparsity); blank = no published peak", cols, catalog.gpus(search),
          as_json, lambda a: (
              a.accelerator_id, a.model,
              *(_tflops(a.peak_flop_per_s.get(k)) for k in ("fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8")),
              f"{a.tdp_w:g}{'*' if a.tdp_is_estimate else ''}" if a.tdp_w else "",
              f"{a.memory_gb:g}" if a.memory_gb else "", a.release_date, ", ".join(x.replace(" ", NBSP) for x in a.aliases)),
          note="* TDP not published: estimate. A GPU is also found by the name nvidia-smi prints.")


@app.command("zones")
def zones(search: SEARCH = None, kind: Annotated[Optional[str], typer.Option(help="country, us-state, "
                                                 "electricitymaps, cloud-region")] = None, as_json: JSON = False) -> None:
    """Grid zones and cloud regions: gCO2e/kWh, year, lifecycle or direct, source."""
    if kind is not None and kind not in catalog.ZONE_KINDS:
        from ..errors import InvalidValueError
        raise InvalidValueError(f"unknown zone kind {kind!r}; accepted: {', '.join(catalog.ZONE_KINDS)}")
    cols = [Col("id", "id"), Col("gCO2e/kWh", "number"), Col("year", "number"), Col("name", "text"),
            Col("kind", "id", 2), Col("basis", "id", 4), Col("grid", "id", 3), Col("source", "text", 5)]
    _emit("Grid zones", cols, catalog.zones(search, kind), as_json, lambda z: (
        z.key, f"{z.intensity_g_per_kwh:,.1f}", str(z.year), z.name, z.kind, z.basis, z.grid_zone, z.source),
        note="Two letters are a country (DE = Germany); US states are US-XX or their name (US-DE, Delaware).")


@app.command("pue")
def pue(search: SEARCH = None, as_json: JSON = False) -> None:
    """PUE presets per provider and industry averages, with ranges and sources."""
    cols = [Col("preset", "id"), Col("PUE", "number"), Col("low", "number"), Col("high", "number"),
            Col("period", "id"), Col("operator", "text", 2), Col("source", "text"), Col("notes", "text", 3)]
    _emit("PUE presets", cols, catalog.pue_presets(search), as_json, lambda p: (
        p.preset, f"{p.pue:.2f}", f"{p.low:.2f}", f"{p.high:.2f}", p.period, p.operator, p.source, p.notes))


@app.command("prices")
def prices(search: SEARCH = None, gpu: Annotated[Optional[str], typer.Option(help="Only this GPU.")] = None,
           as_json: JSON = False) -> None:
    """Cloud GPU prices: USD per GPU-hour, dated, per provider offer."""
    rows = sorted(catalog.prices(gpu_name=gpu, search=search), key=lambda p: (p.accelerator_id, p.usd_per_gpu_hour))
    cols = [Col("gpu", "id"), Col("$/GPU-h", "number"), Col("provider", "id"), Col("as of", "id"),
            Col("kind", "text", 2), Col("product", "text", 3), Col("source", "text", 4)]
    _emit("GPU prices (USD per GPU-hour)", cols, rows, as_json, lambda p: (
        p.accelerator_id, f"{p.usd_per_gpu_hour:,.2f}", p.provider, p.as_of, p.provisioning, p.product, p.source))


@app.command("cpus")
def cpus(search: SEARCH = None, as_json: JSON = False,
         limit: Annotated[int, typer.Option(help="Rows to show (0 = all).")] = 50) -> None:
    """CPU TDPs (for the CPU power fallback where RAPL is unreadable)."""
    if limit < 0:
        from ..errors import InvalidValueError
        raise InvalidValueError(f"--limit must be >= 0 (0 = all), got {limit}")
    rows = catalog.cpus(search)
    shown = rows if limit <= 0 else rows[:limit]
    more = f"{len(rows) - len(shown)} more: --limit 0 shows all." if len(shown) < len(rows) else ""
    _emit("CPU TDP (codecarbon cpu_power.csv, MIT)", [Col("name", "id"), Col("TDP W", "number")], shown, as_json,
          lambda c: (c.name, f"{c.tdp_w:g}"), note=more)
