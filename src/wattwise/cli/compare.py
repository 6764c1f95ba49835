"""`wattwise compare`: measured variants side by side, the Pareto frontier marked, and a Pareto plot.

Variants are read by `wattwise.compress.variants` (JSON or CSV files, e.g. `[m.to_dict() for m in
measure_variants(...)]` saved as JSON, and/or the ledger); dominance and the plot are `wattwise.pareto`'s
(Schwartz et al. 2020, Green AI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.text import Text

from .. import display
from ..compress.variants import ledger_variants, read_variants
from ..errors import MissingInputError
from ..pareto import COST_AXES, axis_fields, dominators, plot_pareto, value_of
from ._output import Col, console, fit_table, print_json

# Mount in the main CLI as `app.command("compare", help=...)(compare_command)`; `app` below runs it standalone
# (a one-command Typer app, as used by the tests).

# columns shown when present: (field, header, formatter)
_COLUMNS = (
    ("params", "params", display.count, 3),
    ("size_bytes", "size", display.size, 2),
    ("flops_per_sample", "FLOPs/sample", display.si, 0),
    ("latency_s", "latency", display.duration, 0),
    ("compiled_latency_s", "compiled", display.duration, 4),
    ("energy_per_1000_kwh", "energy/1k inf", display.energy, 0),
    ("cost_usd", "cost", display.usd, 5),
    ("cost_per_1000_usd", "cost/1k inf", display.usd, 5),
)


def compare_command(
        files: Annotated[Optional[list[Path]], typer.Argument(help="Variant files: .json (a list of objects, e.g. "
                                                             "Measurement.to_dict() rows of measure_variants) or "
                                                             ".csv (a header row, one variant per line).")] = None,
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
    if plot is not None:  # before any work: a plot that cannot be written is a mistake now, not at the end
        from ..files import PLOT_SUFFIXES, check_output
        check_output(plot, "--plot", PLOT_SUFFIXES)
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
        shown = [c for c in _COLUMNS if any(v.get(c[0]) is not None for v in variants)]
        fields = axis_fields(cost)
        own_cost = not any(c[0] in fields for c in shown)
        cols = [Col("*", "id"), Col("variant", "id"), Col(accuracy, "number")]
        cols += [Col(cost, "number")] if own_cost else []
        cols += [Col(head, "number", drop=(0 if f in fields else prio or 1)) for f, head, _, prio in shown]
        cols += [Col("beaten by", drop=6, min_width=12)]
        rows = []
        for i in order:
            v = variants[i]
            acc = v.get(accuracy)
            row = ["*" if mask[i] else "", str(v["name"]), "" if acc is None else display.plain(float(acc))]
            row += [display.plain(costs[i])] if own_cost else []
            row += ["" if v.get(f) is None else f_(float(v[f])) for f, _, f_, _ in shown]
            row.append(", ".join(str(variants[j]["name"]) for j in doms[i][:3]) + (" ..." if len(doms[i]) > 3 else ""))
            rows.append(row)
        t = fit_table(cols, rows, title=f"Variants by {cost}: * = on the Pareto frontier")
        console.print(t)
        n = sum(mask)
        console.print(Text(f"{n} of {len(variants)} variants on the frontier ({cost} vs {accuracy}).",
                           overflow="fold"))
    if plot is not None:
        out = plot_pareto(variants, mask, cost, accuracy, plot, hib)
        if not as_json:
            console.print(Text(f"Pareto plot written to {out}"))


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                  help="Compare measured variants: accuracy vs a cost, the Pareto frontier marked, a plot.")
app.command("compare")(compare_command)
