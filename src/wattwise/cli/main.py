"""`wattwise` entry point: estimate, where, catalog, demo (+ sub-apps of the other capabilities).

Bad input ends in one red line and exit status 2, never a traceback (set WATTWISE_DEBUG=1 to see one).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console

from .. import __version__
from ..errors import WattwiseError
from .catalog import app as catalog_app
from .estimate import estimate_command, where_command
from .ledger import ledger_app, merge_command, serve_metrics_command
from .compare import compare_command
from .report import report_command
from .run import app_run, runs_app
from .serve import HELP as _SERVE_HELP, bench_serve_command

app = typer.Typer(name="wattwise", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="What machine-learning work really costs: FLOPs, wall-clock, dollars, energy and carbon.")
err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wattwise {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                           help="Print the version and exit.")] = None) -> None:
    """wattwise: measure, estimate, plan and report the cost of ML work."""


app.command("estimate", help="Estimate a job's FLOPs, GPU-hours, wall-clock, energy, CO2e and dollars.")(
    estimate_command)
app.command("where", help="The same job's CO2e and dollars across grid zones, lowest first.")(where_command)
app.command("report", help="The Green AI efficiency card of ledger runs or an estimate (md, json, latex, html, "
                           "modelcard).")(report_command)
app.command("compare", help="Variants side by side: accuracy vs a cost, Pareto frontier marked, plot.")(
    compare_command)
app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
            help="Measure a command and its children; record it in the ledger; exit with its code.")(app_run)
app.command("bench-serve", help=_SERVE_HELP)(bench_serve_command)
app.add_typer(runs_app, name="runs", help="Measured runs in the ledger: list, show, export, merge.")
app.add_typer(ledger_app, name="ledger", help="The ledger itself: create, upgrade, inspect (SQLite or PostgreSQL).")
runs_app.command("merge", help="Copy the runs of other ledgers into one (ids kept; idempotent).")(merge_command)
app.command("serve-metrics", help="Prometheus endpoint of the ledger's running and recent runs.")(
    serve_metrics_command)
app.add_typer(catalog_app, name="catalog", help="What wattwise knows (GPUs, zones, PUE, prices, CPUs), with sources.")


@app.command("demo")
def demo(out: Annotated[str, typer.Option("--out", help="Folder for the ledger and the report files.")] = "wattwise-demo",
         quick: Annotated[bool, typer.Option("--quick", help="A sub-minute version (fewer epochs, shorter "
                                                               "measurements).")] = False,
         region: Annotated[Optional[str], typer.Option("--region", help="Grid zone of this machine (default: "
                                                       "WATTWISE_REGION, else unknown = world average).")] = None) -> None:
    """The whole story: estimate, measure a training run, make it cheaper, report."""
    from ..demo import run_demo
    from ._output import console
    run_demo(out, quick=quick, region=region, console=console)


def _mount_subapps() -> None:
    """Mount the flops and scaling sub-apps (each imports its heavy parts lazily)."""
    from . import flops, scaling
    app.add_typer(flops.app, name="flops",
                  help="Count FLOPs of a model (traced, meta device for big ones) and check the formulas.")
    app.add_typer(scaling.app, name="scaling",
                  help="Scaling laws: plan a compute budget, fit your runs, check an allocation.")


_mount_subapps()


def _given(e, argv: list[str]) -> str | None:
    """The text the user gave for the option a BadParameter is about (Typer's messages do not repeat it)."""
    opts = list(getattr(getattr(e, "param", None), "opts", None) or [])
    for i, tok in enumerate(argv):
        for o in opts:
            if tok == o and i + 1 < len(argv):
                return argv[i + 1]
            if tok.startswith(o + "="):
                return tok[len(o) + 1:]
    return None


def _usage_line(e, argv: list[str]) -> str:
    """A Click usage error as one line: what was wrong, the value given, and where the help is."""
    ctx = getattr(e, "ctx", None)
    where = f"{ctx.command_path} --help" if ctx is not None else "wattwise --help"
    msg = e.format_message()
    given = _given(e, argv)
    if given is not None and repr(given) not in msg and f"'{given}'" not in msg:
        msg += f" (got {given!r})"
    return f"{msg} (see {where})"


def main(argv: list[str] | None = None) -> None:
    """Run the CLI. Every user mistake (a bad option or value, an unknown name, an unreadable or unwritable file)
    ends in one line on stderr and exit 2; an unexpected error in one line and exit 1; never a traceback
    (WATTWISE_DEBUG=1 shows it)."""
    from rich.markup import escape
    try:
        from typer._click import exceptions as cx  # typer >= 0.20 ships its own click
    except ImportError:  # pragma: no cover - older typer on the system click
        from click import exceptions as cx
    try:
        code = app(args=argv, prog_name="wattwise", standalone_mode=False)
    except cx.NoArgsIsHelpError as e:  # `wattwise runs` alone: its help (Rich help is printed as it is built)
        if e.format_message().strip():
            typer.echo(e.format_message(), err=True)
        sys.exit(2)
    except cx.UsageError as e:
        err.print(f"[red]error:[/red] {escape(_usage_line(e, list(argv if argv is not None else sys.argv[1:])))}",
                  highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Abort:
        err.print("aborted", highlight=False)
        sys.exit(130)
    except cx.ClickException as e:
        err.print(f"[red]error:[/red] {escape(e.format_message())}", highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except WattwiseError as e:
        if os.environ.get("WATTWISE_DEBUG"):
            raise
        from ._flags import flagify
        err.print(f"[red]error:[/red] {escape(' '.join(flagify(str(e)).split()))}", highlight=False,
                  soft_wrap=True)   # one line, whatever a driver's message holds
        sys.exit(2)
    except Exception as e:  # noqa: BLE001 - the CLI never shows a traceback
        if os.environ.get("WATTWISE_DEBUG"):
            raise
        err.print(f"[red]internal error:[/red] {escape(f'{type(e).__name__}: {e}')} (set WATTWISE_DEBUG=1 for a "
                  "traceback; please report it)", highlight=False, soft_wrap=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
