"""`wattwise compare`: measured variants side by side, the Pareto frontier marked, and a Pareto plot.

Variants come from JSON (a list of objects, or {"variants": [...]}, e.g. `Measurement.to_dict()` rows) or CSV files
(a header row: name, accuracy and cost columns such as flops_per_sample, latency_s, energy_per_1000_kwh,
size_bytes, cost_usd), and/or from the ledger (runs tagged "compress" by `wattwise.compress.measure`).
Dominance: Schwartz et al. 2020 (Green AI), see `wattwise.pareto`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from ..errors import InvalidValueError, MissingExtraError, MissingInputError
from ..pareto import COST_AXES, axis_fields, dominators, value_of
from ._output import console, print_json

# Mount in the main CLI as `app.command("compare", help=...)(compare_command)`; `app` below runs it standalone
# (a one-command Typer app, as used by the tests).

# columns shown when present: (field, header, formatter)
_COLUMNS = (
    ("params", "params", lambda x: _count(x)),
    ("size_bytes", "size", lambda x: _bytes(x)),
    ("flops_per_sample", "FLOPs/sample", lambda x: _count(x)),
    ("latency_s", "latency", lambda x: _secs(x)),
    ("compiled_latency_s", "compiled", lambda x: _secs(x)),
    ("energy_per_1000_kwh", "kWh/1k inf", lambda x: f"{x:.3g}"),
    ("cost_usd", "USD", lambda x: f"{x:.3g}"),
    ("cost_per_1000_usd", "USD/1k inf", lambda x: f"{x:.3g}"),
)


def _count(x: float) -> str:
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{unit}"
    return f"{x:.3g}"


def _bytes(x: float) -> str:
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.0f} B"


def _secs(x: float) -> str:
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x * 1e9:.3g} ns"


def _number(text: str) -> Any:
    t = text.strip()
    if t == "":
        return None
    try:
        return int(t)
    except ValueError:
        try:
            return float(t)
        except ValueError:
            return t


def read_variants(path: str | Path) -> list[dict[str, Any]]:
    """Variants from a .json or .csv file (see the module doc)."""
    p = Path(path)
    if not p.is_file():
        raise InvalidValueError(f"variants file {str(p)!r} not found")
    if p.suffix.lower() == ".csv":
        with p.open(newline="") as f:
            rows = [{k.strip(): _number(v or "") for k, v in r.items() if k} for r in csv.DictReader(f)]
    elif p.suffix.lower() == ".json":
        try:
            data = json.loads(p.read_text())
        except json.JSONDecodeError as e:
            raise InvalidValueError(f"{str(p)!r} is not valid JSON: {e}") from None
        if isinstance(data, dict):
            data = data.get("variants", [data])
        if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
            raise InvalidValueError(f"{str(p)!r}: expected a list of variant objects or {{\"variants\": [...]}}")
        rows = [dict(x) for x in data]
    else:
        raise InvalidValueError(f"variants file {str(p)!r}: accepted formats are .json and .csv")
    for i, r in enumerate(rows):
        r.setdefault("name", f"{p.stem}#{i}")
    return rows


def ledger_variants(path: str | None, tag: str = "compress", model: str | None = None) -> list[dict[str, Any]]:
    """Variants recorded by `wattwise.compress.measure` in the ledger (runs tagged `tag`, optionally one model)."""
    try:
        from ..ledger import Ledger, to_footprint
    except ImportError as e:
        raise MissingInputError(f"the ledger is not available in this build ({e}); pass variant files") from None
    out = []
    with Ledger(path) as led:
        for rec in led.runs(tag=tag):
            ctx = rec.get("context", {})
            if model is not None and ctx.get("model") != model:
                continue
            fp = to_footprint(rec)
            row = {k: ctx.get(k) for k in ("variant", "model", "accuracy", "size_bytes", "params",
                                          "flops_per_sample", "latency_s")}
            row["name"] = ctx.get("variant") or rec.get("name") or rec["id"]
            n = ctx.get("inferences")
            if n and fp.energy_kwh is not None:
                row["energy_per_1000_kwh"] = fp.energy_kwh * 1000 / n
            if n and fp.cost_usd is not None:
                row["cost_per_1000_usd"] = fp.cost_usd * 1000 / n
            row["run_id"] = rec["id"]
            out.append(row)
    return out


def plot_pareto(variants: list[dict], mask: list[bool], cost: str, accuracy: str, out: str | Path,
                higher_is_better: bool = True) -> Path:
    """Scatter of accuracy against cost, frontier joined and labelled; saved to `out` (png, svg, pdf)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("matplotlib", "plot") from None
    xs = [value_of(v, cost, what="cost", index=i) for i, v in enumerate(variants)]
    ys = [value_of(v, accuracy, what="accuracy", index=i) for i, v in enumerate(variants)]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.scatter([x for x, m in zip(xs, mask) if not m], [y for y, m in zip(ys, mask) if not m],
               color="0.6", label="dominated")
    front = sorted((x, y) for x, y, m in zip(xs, ys, mask) if m)
    ax.plot([p[0] for p in front], [p[1] for p in front], "o-", color="C2", label="Pareto frontier")
    for v, x, y in zip(variants, xs, ys):
        ax.annotate(str(v["name"]), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    positive = [x for x in xs if x > 0]
    if positive and len(positive) == len(xs) and max(xs) / min(xs) > 100:
        ax.set_xscale("log")
    ax.set_xlabel(f"{cost} ({'/'.join(axis_fields(cost))}), lower is better")
    ax.set_ylabel(f"{accuracy}, {'higher' if higher_is_better else 'lower'} is better")
    ax.set_title("Accuracy vs cost (Green AI dominance, Schwartz et al. 2020)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def compare_command(
        files: Annotated[Optional[list[Path]], typer.Argument(help="Variant files (.json or .csv).")] = None,
        cost: Annotated[str, typer.Option("--cost", "-c", help=f"Cost axis: {', '.join(COST_AXES)}, or any "
                                                                "numeric field name.")] = "flops",
        accuracy: Annotated[str, typer.Option("--accuracy", "-a", help="Accuracy field.")] = "accuracy",
        lower_is_better: Annotated[bool, typer.Option("--lower-is-better",
                                                      help="The accuracy field is a loss (lower is better).")] = False,
        ledger: Annotated[bool, typer.Option("--ledger", help="Also read variants from the ledger.")] = False,
        ledger_path: Annotated[Optional[str], typer.Option("--ledger-path", help="Ledger file (default: the "
                                                                                "default ledger).")] = None,
        model: Annotated[Optional[str], typer.Option("--model", help="Only ledger variants of this model.")] = None,
        plot: Annotated[Optional[Path], typer.Option("--plot", help="Write a Pareto plot here (.png, .svg, "
                                                                    ".pdf); needs wattwise[plot].")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows instead of a table.")] = False,
) -> None:
    """Variants side by side: accuracy, cost, the Pareto frontier marked (A beats B when at least as accurate
    and cheaper, or more accurate at no more cost)."""
    variants: list[dict[str, Any]] = []
    for f in files or ():
        variants += read_variants(f)
    if ledger or ledger_path or model:
        variants += ledger_variants(ledger_path, model=model)
    if not variants:
        raise MissingInputError("no variants to compare: give .json/.csv files or --ledger")
    hib = not lower_is_better
    doms = dominators(variants, cost=cost, accuracy=accuracy, higher_is_better=hib)
    mask = [not d for d in doms]
    costs = [value_of(v, cost, what="cost", index=i) for i, v in enumerate(variants)]
    order = sorted(range(len(variants)), key=lambda i: (costs[i], i))
    if as_json:
        print_json([{**variants[i], "pareto": mask[i], "cost_axis": cost, "cost": costs[i],
                     "dominated_by": [variants[j]["name"] for j in doms[i]]} for i in order])
    else:
        t = Table(title=f"Variants by {cost}: * = on the Pareto frontier", title_justify="left")
        shown = [c for c in _COLUMNS if any(v.get(c[0]) is not None for v in variants)]
        t.add_column("", width=1)
        t.add_column("variant")
        t.add_column(accuracy, justify="right")
        fields = axis_fields(cost)
        if not any(c[0] in fields for c in shown):
            t.add_column(cost, justify="right")
        for _, head, _ in shown:
            t.add_column(head, justify="right")
        t.add_column("beaten by")
        for i in order:
            v = variants[i]
            acc = v.get(accuracy)
            row = ["*" if mask[i] else "", str(v["name"]), "" if acc is None else f"{float(acc):.4g}"]
            if not any(c[0] in fields for c in shown):
                row.append(f"{costs[i]:.4g}")
            row += ["" if v.get(f) is None else fmt(float(v[f])) for f, _, fmt in shown]
            row.append(", ".join(str(variants[j]["name"]) for j in doms[i][:3]) + (" ..." if len(doms[i]) > 3 else ""))
            t.add_row(*row, style=None if mask[i] else "dim")
        console.print(t)
        n = sum(mask)
        console.print(f"{n} of {len(variants)} variants on the frontier ({cost} vs {accuracy}).")
    if plot is not None:
        out = plot_pareto(variants, mask, cost, accuracy, plot, hib)
        if not as_json:
            console.print(f"Pareto plot written to {out}")


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                  help="Compare measured variants: accuracy vs a cost, the Pareto frontier marked, a plot.")
app.command("compare")(compare_command)
