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

from .. import display
from ..errors import InvalidValueError
from ..ledger_rows import CSV_KEYS, RUN_KEYS, public_record  # noqa: F401 (RUN_KEYS: importers)
from ._output import _clean, print_json

INTERVAL = Annotated[float, typer.Option("--interval", help="Sampling and checkpoint interval in seconds.")]
NAME = Annotated[Optional[str], typer.Option("--name", help="Run name (default: the program's name).")]
PROJECT = Annotated[Optional[str], typer.Option("--project", help="Project the run belongs to.")]
TAG = Annotated[Optional[list[str]], typer.Option("--tag", help="A tag; repeat for several.")]
REGION = Annotated[Optional[str], typer.Option("--region", help="Grid zone or cloud region (default: "
                                                                "WATTWISE_REGION, config, else unknown).")]
PUE = Annotated[Optional[str], typer.Option("--pue", help="PUE number or preset (gcp, aws, on-premises...).")]
JSON = Annotated[bool, typer.Option("--json", help="Print the finished record as one JSON object.")]
LEDGER = Annotated[Optional[str], typer.Option("--ledger", help="Ledger file (default: $WATTWISE_HOME/ledger.db "
                                                                "or ~/.wattwise/ledger.db).")]


GPU = Annotated[Optional[str], typer.Option("--gpu", help="Accelerator model, for the peak (MFU) and catalog "
                                                          "prices, when NVML cannot name it.")]
DTYPE = Annotated[str, typer.Option("--dtype", help="Precision of the peak for MFU: bf16, fp16, fp32, fp8...")]
PRICE = Annotated[Optional[str], typer.Option("--price-per-gpu-hour", help="USD per GPU-hour (cloud).")]
ELEC = Annotated[Optional[str], typer.Option("--electricity-price", help="USD per facility kWh (owned hardware).")]
RECORD_CMD = Annotated[bool, typer.Option("--record-command", help="Record the full command line in the ledger "
                                                                   "(secret-looking option values redacted).")]


def _fmt(x, what: str) -> str:
    """A record's number for the terminal (wattwise.display), '-' when unknown."""
    return "-" if x is None else display.FORMAT[what](x)


def _summary(res) -> str:
    """One line: id, status, exit code, wall-clock, energy and CO2e with their ranges, the zone (plain text)."""
    fp = res.footprint
    parts = [f"wattwise: run {res.run_id} {res.status} (exit {res.exit_code})"]
    if fp is None:
        return parts[0] + ": not measured"
    parts.append(f"in {_fmt(fp.duration_s, 'duration_s')}:")
    for q in ("energy_kwh", "co2e_kg"):
        v = getattr(fp, q)
        if v is not None:
            rng = display.quantity_span(q, v)
            parts.append(f"{_fmt(v, q)}" + (f" ({rng})" if rng else "") + ("," if q == "energy_kwh" else ""))
    parts.append(f"zone {fp.zone}" if fp.zone else "(location unknown: world average)")
    return " ".join(parts)


def app_run(ctx: typer.Context, interval: INTERVAL = 1.0, name: NAME = None, project: PROJECT = None,
            tag: TAG = None, region: REGION = None, pue: PUE = None, gpu: GPU = None, dtype: DTYPE = "bf16",
            price: PRICE = None, elec: ELEC = None, record_command: RECORD_CMD = False, json_out: JSON = False,
            ledger: LEDGER = None) -> None:
    """Run CMD (after --), measure it and its child processes, record it; exit with CMD's exit code."""
    from ..tracker import run_command
    args = list(ctx.args)
    if "--" in args:
        before, cmd = args[:args.index("--")], args[args.index("--") + 1:]
    else:
        before, cmd = [], args
    if before or (cmd and cmd[0].startswith("-") and "--" not in args):
        bad = (before or cmd)[0]
        raise InvalidValueError(f"no such option for wattwise run: {bad} (options go before --, the command after "
                                "it: wattwise run --project p -- python train.py; see wattwise run --help)")
    if not cmd:
        raise InvalidValueError("give the command to measure after --, e.g. wattwise run -- python train.py")
    if not interval > 0:
        raise InvalidValueError(f"--interval must be > 0 seconds, got {interval!r}")
    led = None
    if ledger is not None:
        from ..ledger import Ledger
        led = Ledger(ledger)  # a corrupt or foreign file fails here, before the command runs
    res = run_command(cmd, name=name, record_command=record_command, watch_daemons=True, project=project, tags=tag or (), region=region, pue=pue, interval_s=interval,
                      ledger=led, gpu=gpu, dtype=dtype,
                      usd_per_gpu_hour=display.parse_quantity("price-per-gpu-hour", price),
                      usd_per_kwh=display.parse_quantity("electricity-price", elec))
    rec, code = res.record, res.exit_code
    if json_out:
        out = public_record(rec)
        out["exit_code"] = code
        from ..tracker.command import redact
        out["command"] = redact(cmd)
        print_json(out)
    else:
        typer.echo(_summary(res), err=True)
    raise typer.Exit(128 - code if code < 0 else code)


# --- runs list | show | export --------------------------------------------------------------------------------

runs_app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                       help="Measured runs in the ledger: list, show, export.")


def _ledger(path: str | None):
    """The ledger, read only: a missing file is an error, never created by a read command."""
    from ..ledger import Ledger
    return Ledger(path, create=False)


@runs_app.command("list")
def runs_list(project: PROJECT = None, tag: Annotated[Optional[str], typer.Option("--tag")] = None,
              limit: Annotated[int, typer.Option("--limit", help="Newest N runs (0 = all).")] = 0,
              json_out: Annotated[bool, typer.Option("--json", help="Print a JSON array of records.")] = False,
              ledger: LEDGER = None) -> None:
    """List runs, oldest first."""
    if limit < 0:
        raise InvalidValueError(f"--limit must be 0 (all runs) or a number of runs, got {limit}")
    with _ledger(ledger) as led:
        recs = led.runs(project=project, tag=tag)
    if limit > 0:
        recs = recs[-limit:]
    if json_out:
        print_json([public_record(r) for r in recs])
        return
    from ._output import Col, console, fit_table
    if not recs:
        from rich.text import Text
        console.print(Text("no runs" + (f" in project {project!r}" if project else "")
                           + (f" tagged {tag!r}" if tag else "")))
        return
    cols = [Col("id", "id"), Col("name", drop=2, min_width=12), Col("project", drop=3), Col("status", drop=1),
            Col("start", "number", drop=4), Col("wall-clock", "number"), Col("energy", "number"),
            Col("CO2e", "number"), Col("hardware", drop=5, min_width=12)]
    rows = [[r["id"], r["name"] or "", r["project"] or "", r["status"], r["start"] or "",
             _fmt(r["duration_s"], "duration_s"), _fmt(r["energy_kwh"], "energy_kwh"), _fmt(r["co2e_kg"], "co2e_kg"),
             r["hardware"] or ""] for r in recs]
    console.print(fit_table(cols, rows))


def _show_value(key: str, v):
    """A record field for people: energy, CO2e, cost, time, FLOPs in their units; the rest as stored."""
    if v is None:
        return "-"
    base = key.removesuffix("_low").removesuffix("_high")
    if base.startswith("energy_") or base == "it_energy_kwh":
        return display.energy(v)
    f = {"co2e_kg": display.co2e, "cost_usd": display.usd, "duration_s": display.duration, "flops": display.flops,
         "gpu_hours": display.gpu_hours, "flop_per_s": display.flop_rate,
         "intensity_g_per_kwh": lambda x: f"{display.plain(x)} gCO2e/kWh", "mfu": lambda x: f"{x:.1%}",
         "tags": lambda x: ", ".join(x) or "-"}.get(base)
    return f(v) if f else v


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
              json_out: Annotated[bool, typer.Option("--json")] = False, ledger: LEDGER = None) -> None:
    """One run in full, with per-component energy and provenance."""
    with _ledger(ledger) as led:
        rec = led.run(run_id)
    if json_out:
        print_json(public_record(rec))
        return
    safe = display.safe_text
    for k in RUN_KEYS:
        typer.echo(f"{k:>20}: {safe(_show_value(k, rec.get(k)))}")
    prov = rec.get("provenance", {})
    for k, v in prov.get("components", {}).items():
        typer.echo(f"{'energy ' + safe(k):>20}: {safe(v)}")
    for k, v in prov.get("sources", {}).items():
        typer.echo(f"{'source ' + safe(k):>20}: {safe(v)}")
    for w in prov.get("warnings", []):
        typer.echo(f"{'warning':>20}: {safe(w)}")


@runs_app.command("export")
def runs_export(fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
                output: Annotated[Optional[str], typer.Option("--output", "-o", help="File (default stdout).")] = None,
                project: PROJECT = None, tag: Annotated[Optional[str], typer.Option("--tag")] = None,
                ledger: LEDGER = None) -> None:
    """Export runs as CSV (one row per run) or JSON (an array)."""
    if fmt not in ("csv", "json"):
        raise InvalidValueError(f"--format must be csv or json, got {fmt!r}")
    if output:
        from ..files import check_output
        check_output(output, "--output")
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
            w.writerow({k: display.csv_cell(v) for k, v in row.items()})
        text = buf.getvalue()
    if output:
        from ..files import atomic_write_text
        atomic_write_text(output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


