"""`wattwise run -- CMD ...` (measure a whole command and its children) and `wattwise runs list|show|export`.

Mounted by cli/main.py:
    app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(app_run)
    app.add_typer(runs_app, name="runs")
"""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Annotated, Optional

import typer

from ..errors import InvalidValueError
from ..ledger_rows import CSV_KEYS, RUN_KEYS, public_record  # noqa: F401 (RUN_KEYS: importers)
from ._output import _clean, print_json

INTERVAL = Annotated[float, typer.Option("--interval", help="Sampling and checkpoint interval in seconds.")]
NAME = Annotated[Optional[str], typer.Option("--name", help="Run name (default: the command).")]
PROJECT = Annotated[Optional[str], typer.Option("--project", help="Project the run belongs to.")]
TAG = Annotated[Optional[list[str]], typer.Option("--tag", help="A tag; repeat for several.")]
REGION = Annotated[Optional[str], typer.Option("--region", help="Grid zone or cloud region (default: "
                                                                "WATTWISE_REGION, config, else unknown).")]
PUE = Annotated[Optional[str], typer.Option("--pue", help="PUE number or preset (gcp, aws, on-premises...).")]
JSON = Annotated[bool, typer.Option("--json", help="Print the finished record as one JSON object.")]
LEDGER = Annotated[Optional[str], typer.Option("--ledger", help="Ledger file (default: $WATTWISE_HOME/ledger.db "
                                                                "or ~/.wattwise/ledger.db).")]


def _fmt(x, unit: str = "", digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}g}{unit}"


def app_run(ctx: typer.Context, interval: INTERVAL = 1.0, name: NAME = None, project: PROJECT = None,
            tag: TAG = None, region: REGION = None, pue: PUE = None, json_out: JSON = False,
            ledger: LEDGER = None) -> None:
    """Run CMD (after --), measure it and its child processes, record it; exit with CMD's exit code."""
    from ..tracker import run_command
    cmd = list(ctx.args)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise InvalidValueError("give the command to measure after --, e.g. wattwise run -- python train.py")
    if not interval > 0:
        raise InvalidValueError(f"--interval must be > 0 seconds, got {interval!r}")
    led = None
    if ledger is not None:
        from ..ledger import Ledger
        led = Ledger(ledger)  # a corrupt or foreign file fails here, before the command runs
    res = run_command(cmd, name=name, project=project, tags=tag or (), region=region, pue=pue, interval_s=interval,
                      ledger=led)
    rec, code = res.record, res.exit_code
    if json_out:
        out = public_record(rec)
        out["exit_code"] = code
        out["command"] = cmd
        print_json(out)
    else:
        known = (res.footprint.inputs.get("location_known") if res.footprint is not None else False)
        typer.echo(f"wattwise: run {res.run_id} {res.status} (exit {code}) in {_fmt(rec.get('duration_s'), ' s')}: "
                   f"{_fmt(rec.get('energy_kwh'), ' kWh')} [{_fmt(rec.get('energy_kwh_low'))}-"
                   f"{_fmt(rec.get('energy_kwh_high'))}], {_fmt(rec.get('co2e_kg'), ' kg CO2e')} "
                   f"[{_fmt(rec.get('co2e_kg_low'))}-{_fmt(rec.get('co2e_kg_high'))}]"
                   + ("" if known else " (location unknown: world average)"),
                   err=True)
    raise typer.Exit(128 - code if code < 0 else code)


# --- runs list | show | export --------------------------------------------------------------------------------

runs_app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                       help="Measured runs in the ledger: list, show, export.")


def _ledger(path: str | None):
    from ..ledger import Ledger
    return Ledger(path)


@runs_app.command("list")
def runs_list(project: PROJECT = None, tag: Annotated[Optional[str], typer.Option("--tag")] = None,
              limit: Annotated[int, typer.Option("--limit", help="Newest N runs (0 = all).")] = 0,
              json_out: Annotated[bool, typer.Option("--json", help="Print a JSON array of records.")] = False,
              ledger: LEDGER = None) -> None:
    """List runs, oldest first."""
    with _ledger(ledger) as led:
        recs = led.runs(project=project, tag=tag)
    if limit > 0:
        recs = recs[-limit:]
    if json_out:
        print_json([public_record(r) for r in recs])
        return
    from rich.console import Console
    from rich.table import Table
    table = Table()
    table.add_column("id", no_wrap=True, min_width=max([len(r["id"]) for r in recs] + [2]))
    for col in ("name", "project", "status", "start", "duration", "kWh", "kg CO2e", "hardware"):
        table.add_column(col)
    for r in recs:
        table.add_row(r["id"], (r["name"] or "")[:40], r["project"] or "", r["status"], r["start"] or "",
                      _fmt(r["duration_s"], " s"), _fmt(r["energy_kwh"]), _fmt(r["co2e_kg"]), r["hardware"] or "")
    Console(highlight=False).print(table)


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
              json_out: Annotated[bool, typer.Option("--json")] = False, ledger: LEDGER = None) -> None:
    """One run in full, with per-component energy and provenance."""
    with _ledger(ledger) as led:
        rec = led.run(run_id)
    if json_out:
        print_json(public_record(rec))
        return
    for k in RUN_KEYS:
        typer.echo(f"{k:>20}: {rec.get(k)}")
    prov = rec.get("provenance", {})
    for k, v in prov.get("components", {}).items():
        typer.echo(f"{'energy ' + k:>20}: {v}")
    for k, v in prov.get("sources", {}).items():
        typer.echo(f"{'source ' + k:>20}: {v}")
    for w in prov.get("warnings", []):
        typer.echo(f"{'warning':>20}: {w}")


@runs_app.command("export")
def runs_export(fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
                output: Annotated[Optional[str], typer.Option("--output", "-o", help="File (default stdout).")] = None,
                project: PROJECT = None, tag: Annotated[Optional[str], typer.Option("--tag")] = None,
                ledger: LEDGER = None) -> None:
    """Export runs as CSV (one row per run) or JSON (an array)."""
    if fmt not in ("csv", "json"):
        raise InvalidValueError(f"--format must be csv or json, got {fmt!r}")
    with _ledger(ledger) as led:
        recs = led.runs(project=project, tag=tag)
    if fmt == "json":
        text = json.dumps(_clean([public_record(r) for r in recs]), indent=2, default=str, allow_nan=False) + "\n"
    else:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(CSV_KEYS), lineterminator="\n")
        w.writeheader()
        for r in recs:
            row = {k: r.get(k) for k in CSV_KEYS}
            row["tags"] = ";".join(r.get("tags") or [])
            row["provenance"] = json.dumps(r.get("provenance", {}), default=str)
            w.writerow(row)
        text = buf.getvalue()
    if output:
        with open(output, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


