"""`wattwise report`: the Green AI efficiency card of ledger runs or of an estimate.

Mount with `app.command("report", help=...)(report_command)`. Thin: parses, calls wattwise.report, writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ..errors import InvalidValueError

FORMAT_NAMES = ("md", "json", "latex", "html", "modelcard")


def _read_json(path: str, what: str):
    """The JSON document in file `path` ('-' = stdin); InvalidValueError naming the file when it cannot be read,
    is a folder, is not UTF-8 text or is not JSON."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            p = Path(path)
            if p.is_dir():
                raise InvalidValueError(f"{what} {path!r} is a folder; give a JSON file")
            if not p.exists():
                raise InvalidValueError(f"{what} {path!r} does not exist; give a JSON file")
            data = p.read_bytes()
            if b"\0" in data:
                raise InvalidValueError(f"{what} {path!r} is a binary file, not JSON text")
            text = data.decode("utf-8")
    except OSError as e:
        raise InvalidValueError(f"cannot read {what} {path!r}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise InvalidValueError(f"{what} {path!r} is not UTF-8 text (byte {e.start}); give JSON in UTF-8") from None
    if not text.strip():
        raise InvalidValueError(f"{what} {path!r} is empty; give a JSON document")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidValueError(f"{what} {path!r} is not valid JSON ({e.msg}, line {e.lineno})") from None
    except RecursionError:
        raise InvalidValueError(f"{what} {path!r} is nested too deeply to be a wattwise JSON document") from None


def check_output(path: str) -> Path:
    """The output path, checked before anything is read or rendered (wattwise.files)."""
    from ..files import check_output as check
    return check(path, "--output")


def _write(path: str, text: str) -> None:
    """Write whole or not at all (wattwise.files: a temporary file in the same folder, then a rename)."""
    from ..files import atomic_write_text
    atomic_write_text(check_output(path), text, "--output")


def report_command(
        run_ids: Annotated[Optional[List[str]], typer.Argument(help="Run ids (unique prefixes accepted).",
                                                               show_default=False)] = None,
        project: Annotated[Optional[str], typer.Option("--project", "-p", help="All runs of this project.")] = None,
        tag: Annotated[Optional[str], typer.Option("--tag", "-t", help="All runs with this tag.")] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="md, json, latex, html or modelcard.")] = "md",
        output: Annotated[Optional[str], typer.Option("--output", "-o", help="Write to this file (default: "
                                                      "stdout).")] = None,
        ledger: Annotated[Optional[str], typer.Option("--ledger", help="Ledger file (default: $WATTWISE_HOME/"
                                                      "ledger.db or ~/.wattwise/ledger.db).")] = None,
        estimate_json: Annotated[Optional[str], typer.Option("--estimate-json", help="Report on an estimate: the "
                                                             "output of `wattwise estimate --json` ('-' = stdin).")] = None,
        variants: Annotated[Optional[str], typer.Option("--variants", help="JSON list of variants (name, accuracy, "
                                                        "a cost field) for the Pareto table.")] = None,
        cost_axis: Annotated[str, typer.Option("--cost-axis", help="Pareto cost: energy, flops, latency, bytes, "
                                               "dollars, params, or a field name.")] = "energy",
        params: Annotated[Optional[str], typer.Option("--params", help="Parameters N (7e9 or 7B), for an inference "
                                                        "projection of measured runs.")] = None,
        inf_tokens: Annotated[Optional[str], typer.Option("--inference-tokens", help="Tokens served over the "
                                                            "model's life.")] = None,
        inf_per_day: Annotated[Optional[str], typer.Option("--inference-tokens-per-day", help="Tokens served "
                                                             "per day (with --inference-days).")] = None,
        inf_days: Annotated[Optional[str], typer.Option("--inference-days", help="Days of serving.")] = None,
        title: Annotated[Optional[str], typer.Option("--title", help="Title of the card.")] = None,
        training_type: Annotated[str, typer.Option("--training-type", help="Model card: pre-training or "
                                                   "fine-tuning.")] = "pre-training",
        plots: Annotated[str, typer.Option("--plots", help="HTML plots: builtin (SVG), matplotlib, none.")] = "builtin",
) -> None:
    """The Green AI efficiency card (Schwartz et al. 2020) of ledger runs or of an estimate."""
    from .. import report
    from ..report.render_modelcard import check_training_type
    name = report.ALIASES.get(fmt, fmt)
    if name not in report.FORMATS:
        raise InvalidValueError(f"unknown --format {fmt!r}; accepted: {', '.join(FORMAT_NAMES)}")
    if plots not in ("builtin", "matplotlib", "none"):
        raise InvalidValueError(f"unknown --plots {plots!r}; accepted: builtin, matplotlib, none")
    check_training_type(training_type)
    if output is not None:
        check_output(output)
    for opt, val in (("--project", project), ("--tag", tag)):
        if val is not None and not val.strip():
            raise InvalidValueError(f"{opt} is empty; give a {opt[2:]} name (`wattwise runs list` shows them)")
    if ledger is not None and not ledger.strip():
        raise InvalidValueError("--ledger is empty; give the path of a ledger file")
    var = None
    if variants is not None:
        var = _read_json(variants, "--variants file")
        if not isinstance(var, list) or not all(isinstance(v, dict) for v in var):
            raise InvalidValueError(f"--variants {variants!r} must hold a JSON list of objects such as "
                                    '{"name": "int8", "accuracy": 0.91, "energy_kwh": 0.2}')
    from ..display import parse_quantity, plain
    params, inf_tokens, inf_per_day, inf_days = (
        parse_quantity(n, v) for n, v in (("params", params), ("inference-tokens", inf_tokens),
                                          ("inference-tokens-per-day", inf_per_day), ("inference-days", inf_days)))
    for n, v in (("params", params), ("inference-tokens", inf_tokens), ("inference-tokens-per-day", inf_per_day),
                 ("inference-days", inf_days)):
        if v is not None and v <= 0:
            raise InvalidValueError(f"--{n} must be a number above 0, got {plain(v)}")
    inference = None
    if any(x is not None for x in (params, inf_tokens, inf_per_day, inf_days)):
        inference = {"params": params, "tokens": inf_tokens, "tokens_per_day": inf_per_day, "days": inf_days}
    if estimate_json is not None:
        if run_ids or project or tag:
            raise InvalidValueError("give run ids / --project / --tag, or --estimate-json, not both")
        fp = report.footprint_from_dict(_read_json(estimate_json, "--estimate-json file"))
        card = report.build_card(estimate=fp, title=title, variants=var, cost_axis=cost_axis, inference=inference)
    else:
        card = report.build_card(run_ids or None, project=project, tag=tag, ledger=ledger, title=title,
                                 variants=var, cost_axis=cost_axis, inference=inference, plots=name in ("html", "json"))
    text = report.render(card, name, plots=plots, training_type=training_type)
    if output is None:
        typer.echo(text, nl=False)
    else:
        _write(output, text)
        typer.echo(f"wrote {output} ({name}, {card.counts.get('runs', 0)} runs)", err=True)
