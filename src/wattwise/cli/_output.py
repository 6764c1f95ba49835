"""Shared printing: one Rich console, JSON output."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from ..ledger_rows import _json_safe as _clean  # JSON has no NaN/inf: null (one copy, the ledger's)

console = Console(highlight=False)


def print_json(obj) -> None:
    typer.echo(json.dumps(_clean(obj), indent=2, default=str, allow_nan=False))


# --- tables that fit the terminal -----------------------------------------------------------------------------------

class Col:
    """A table column. `kind`: 'id' and 'number' cells are never wrapped or cut; 'text' cells fold. `drop`:
    priority for leaving the column out when the table does not fit (0 = never; higher goes first)."""

    def __init__(self, header: str, kind: str = "text", justify: str | None = None, drop: int = 0,
                 min_width: int = 8):
        self.header, self.kind, self.drop, self.min_width = header, kind, drop, min_width
        self.justify = justify or ("right" if kind == "number" else "left")


def _cell_width(kind: str, cells: list[str], header: str, min_width: int) -> int:
    longest = max([len(c) for c in cells] + [1])
    head = max(len(w) for w in header.split()) if header.strip() else 1
    return max(longest, head) if kind in ("id", "number") else max(min(longest, min_width), head)


def fit_table(cols: list[Col], rows: list[list[str]], title: str | None = None, width: int | None = None):
    """A Rich Table of `rows` that fits `width` (default: the console's) without cutting an id or a number:
    columns whose value is the same in every row move into the caption; then columns are dropped by priority
    (their names listed in the caption, `--json` has them all); text cells fold."""
    from rich.table import Table
    from rich.text import Text

    from ..display import safe_text
    rows = [[safe_text(c) for c in r] for r in rows]   # user-supplied names: no escapes, no control characters
    width = width or console.width
    keep = list(range(len(cols)))
    notes: list[str] = []
    if len(rows) > 1:
        for i in list(keep):
            vals = {r[i] for r in rows}
            if cols[i].drop and len(vals) == 1:
                v = next(iter(vals))
                if v not in ("", "-"):
                    notes.append(f"{cols[i].header}: {v}")
                keep.remove(i)

    def need(idx):
        return sum(_cell_width(cols[i].kind, [r[i] for r in rows], cols[i].header, cols[i].min_width) + 3
                   for i in idx) + 1

    dropped, every = [], list(keep)
    for i in sorted((i for i in keep if cols[i].drop), key=lambda i: -cols[i].drop):
        if need(keep) <= width:
            break
        keep.remove(i)
        dropped.append(cols[i].header)
    if dropped:
        notes.append("not shown at this width: " + ", ".join(dropped) + " (wider terminal or --json)")
    if need(keep) > width:   # still too wide: one block per row, every value whole
        return _blocks(cols, rows, title, every)
    t = Table(title=Text(safe_text(title)) if title else None, title_justify="left",
              caption=Text("; ".join(notes)) if notes else None, caption_justify="left")
    for i in keep:
        c = cols[i]
        fixed = c.kind in ("id", "number")
        t.add_column(Text(safe_text(c.header)), justify=c.justify, no_wrap=fixed, overflow="fold",
                     min_width=_cell_width(c.kind, [r[i] for r in rows], c.header, c.min_width) if fixed else None)
    for r in rows:
        t.add_row(*[Text(r[i]) for i in keep])   # Text: a name like "[red]x" or "[/]" is shown, never parsed
    return t


def _blocks(cols: list[Col], rows: list[list[str]], title: str | None, keep: list[int]):
    """Rows as blocks of 'header: value' lines (for terminals too narrow for the table)."""
    from rich.console import Group
    from rich.text import Text

    from ..display import safe_text
    lines: list = [Text(safe_text(title), style="italic")] if title else []
    for r in rows:
        first, rest = keep[0], keep[1:]
        lines.append(Text(f"{cols[first].header} {r[first]}", style="bold"))
        lines += [Text(f"  {cols[i].header}: {r[i]}") for i in rest if r[i] not in ("",)]
    return Group(*lines)
