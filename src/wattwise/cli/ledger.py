"""`wattwise ledger init|migrate|status`, `wattwise runs merge A.db B.db ... --into URL_OR_PATH` and
`wattwise serve-metrics`.

Mounted by cli/main.py:
    from .ledger import ledger_app, merge_command, serve_metrics_command
    app.add_typer(ledger_app, name="ledger", help="The ledger itself: create, upgrade, inspect (SQLite or PostgreSQL).")
    runs_app.command("merge", help="Copy the runs of other ledgers into one (ids kept; idempotent).")(merge_command)
    app.command("serve-metrics", help="Prometheus endpoint of the ledger's running and recent runs.")(serve_metrics_command)
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ._output import print_json

LEDGER = Annotated[Optional[str], typer.Option("--ledger", help="Ledger file or postgresql:// URL (default: "
                                                                "$WATTWISE_LEDGER, else $WATTWISE_HOME/ledger.db).")]
JSON = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]

ledger_app = typer.Typer(no_args_is_help=True, add_completion=False)


def _status(target) -> dict:
    from ..ledger import SCHEMA_VERSION, Ledger, resolve_target
    target = resolve_target(target)
    with Ledger(target, create=False) as led:
        if led.backend == "postgresql":
            version = led.schema_version()
        else:
            version = led._query("PRAGMA user_version")[0]["user_version"]
        out = {"ledger": str(led.path), "backend": led.backend, "schema_version": version,
               "current_schema_version": SCHEMA_VERSION, "runs": led.count(),
               "running": len(led.runs(status="running"))}
        if led.backend == "sqlite":
            from ..ledger import filesystem_type
            out["filesystem"] = filesystem_type(led.path)
        return out


def _print(out: dict, as_json: bool) -> None:
    if as_json:
        print_json(out)
    else:
        for k, v in out.items():
            typer.echo(f"{k}: {v}")


@ledger_app.command("init", help="Create the ledger (file or PostgreSQL schema) if absent, at the current schema.")
def init_command(ledger: LEDGER = None, as_json: JSON = False) -> None:
    from ..ledger import Ledger, resolve_target
    Ledger(resolve_target(ledger)).close()
    _print(_status(ledger), as_json)


@ledger_app.command("migrate", help="Upgrade a ledger at an older schema version in place.")
def migrate_command(ledger: LEDGER = None, as_json: JSON = False) -> None:
    from ..ledger import Ledger, resolve_target
    target = resolve_target(ledger)
    Ledger(target, create=False).close()   # refuses a missing ledger; upgrades an older one (write access)
    Ledger(target).close()
    _print(_status(ledger), as_json)


@ledger_app.command("status", help="Backend, schema version, run counts.")
def status_command(ledger: LEDGER = None, as_json: JSON = False) -> None:
    _print(_status(ledger), as_json)


def merge_command(sources: Annotated[list[str], typer.Argument(help="Ledger files or URLs to copy from.")],
                  into: Annotated[str, typer.Option("--into", help="Ledger file or postgresql:// URL to copy "
                                                                  "into (created if absent).")],
                  as_json: JSON = False) -> None:
    """Copy every run of SOURCES into --into, ids kept; running it again adds nothing."""
    from ..ledger import merge
    n = merge(sources, into)
    _print({"into": into, **n}, as_json)


def serve_metrics_command(ledger: LEDGER = None,
                          port: Annotated[int, typer.Option("--port", help="TCP port.")] = 9464,
                          addr: Annotated[str, typer.Option("--addr", help="Address to listen on.")] = "127.0.0.1",
                          recent_s: Annotated[float, typer.Option("--recent", help="Also finished runs updated in "
                                                                                    "the last N seconds.")] = 3600.0
                          ) -> None:
    """Serve Prometheus metrics of the ledger's running and recent runs until interrupted."""
    import time

    from ..errors import InvalidValueError
    from ..prometheus import serve_ledger
    if not 0 <= port <= 65535:
        raise InvalidValueError(f"--port must be a TCP port, 0 to 65535 (0: any free one), got {port}")
    if not recent_s >= 0:
        raise InvalidValueError(f"--recent must be 0 or more seconds, got {recent_s!r}")
    try:
        ex = serve_ledger(ledger, port, addr, recent_s)
    except OSError as e:
        raise InvalidValueError(f"cannot listen on {addr}:{port}: {e.strerror or e}") from None
    typer.echo(f"serving {ex.url}", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        ex.close()
