"""`wattwise catalog gpus|zones|pue|prices|cpus [--search TEXT] [--json]`: what is known, with sources."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Optional

import typer
from rich.table import Table

from .. import catalog
from ._output import console, print_json

app = typer.Typer(no_args_is_help=True)
SEARCH = Annotated[Optional[str], typer.Option("--search", "-s", help="Only rows containing this text.")]
JSON = Annotated[bool, typer.Option("--json", help="Print JSON rows instead of a table.")]


def _tflops(x: float | None) -> str:
    return "" if x is None else f"{x / 1e12:,.1f}"


def _emit(rows, as_json: bool, table: Table, to_row) -> None:
    if as_json:
        print_json([dataclasses.asdict(r) for r in rows])
        return
    for r in rows:
        table.add_row(*to_row(r))
    console.print(table)
    console.print(f"[dim]{len(rows)} rows. Licences: wattwise/catalog/data/LICENSES.md[/dim]")


@app.command("gpus")
def gpus(search: SEARCH = None, as_json: JSON = False) -> None:
    """Accelerators: peak dense TFLOP/s per dtype, TDP, memory, release, datasheet."""
    rows = catalog.gpus(search)
    t = Table(title="Accelerators (dense peak, no sparsity)", title_justify="left")
    for c in ("id", "model", "FP32", "TF32", "BF16", "FP8", "INT8 TOPS", "TDP W", "GB", "released", "aliases"):
        t.add_column(c, justify="right" if c in ("FP32", "TF32", "BF16", "FP8", "INT8 TOPS", "TDP W", "GB") else "left")
    _emit(rows, as_json, t, lambda a: (
        a.accelerator_id, a.model, *(_tflops(a.peak_flop_per_s.get(k)) for k in ("fp32", "tf32", "bf16", "fp8", "int8")),
        f"{a.tdp_w:g}{'*' if a.tdp_is_estimate else ''}" if a.tdp_w else "", f"{a.memory_gb:g}" if a.memory_gb else "",
        a.release_date, ", ".join(a.aliases)))


@app.command("zones")
def zones(search: SEARCH = None, kind: Annotated[Optional[str], typer.Option(help="country, us-state, "
                                                 "electricitymaps, cloud-region")] = None, as_json: JSON = False) -> None:
    """Grid zones and cloud regions: gCO2e/kWh, year, lifecycle or direct, source."""
    if kind is not None and kind not in catalog.ZONE_KINDS:
        from ..errors import InvalidValueError
        raise InvalidValueError(f"unknown zone kind {kind!r}; accepted: {', '.join(catalog.ZONE_KINDS)}")
    rows = catalog.zones(search, kind)
    t = Table(title="Grid zones", title_justify="left")
    for c in ("id", "name", "kind", "gCO2e/kWh", "year", "basis", "grid", "source"):
        t.add_column(c, justify="right" if c in ("gCO2e/kWh", "year") else "left", overflow="fold")
    _emit(rows, as_json, t, lambda z: (z.zone_id, z.name, z.kind + (f" ({z.provider})" if z.provider else ""),
                                       f"{z.intensity_g_per_kwh:,.1f}", str(z.year), z.basis, z.grid_zone,
                                       z.source[:70]))


@app.command("pue")
def pue(search: SEARCH = None, as_json: JSON = False) -> None:
    """PUE presets per provider and industry averages, with ranges and sources."""
    t = Table(title="PUE presets", title_justify="left")
    for c in ("preset", "operator", "PUE", "low", "high", "period", "source"):
        t.add_column(c, overflow="fold")
    _emit(catalog.pue_presets(search), as_json, t, lambda p: (p.preset, p.operator, f"{p.pue:.2f}", f"{p.low:.2f}",
                                                              f"{p.high:.2f}", p.period, p.source))


@app.command("prices")
def prices(search: SEARCH = None, gpu: Annotated[Optional[str], typer.Option(help="Only this GPU.")] = None,
           as_json: JSON = False) -> None:
    """Cloud GPU prices: USD per GPU-hour, dated, per provider offer."""
    rows = sorted(catalog.prices(gpu_name=gpu, search=search), key=lambda p: (p.accelerator_id, p.usd_per_gpu_hour))
    t = Table(title="GPU prices (USD per GPU-hour)", title_justify="left")
    for c in ("gpu", "provider", "kind", "$/GPU-h", "product", "as of", "source"):
        t.add_column(c, justify="right" if c == "$/GPU-h" else "left", overflow="fold")
    _emit(rows, as_json, t, lambda p: (p.accelerator_id, p.provider, p.provisioning, f"{p.usd_per_gpu_hour:,.2f}",
                                       p.product, p.as_of, p.source[:60]))


@app.command("cpus")
def cpus(search: SEARCH = None, as_json: JSON = False,
         limit: Annotated[int, typer.Option(help="Rows to show (0 = all).")] = 50) -> None:
    """CPU TDPs (for the CPU power fallback where RAPL is unreadable)."""
    rows = catalog.cpus(search)
    shown = rows if limit <= 0 else rows[:limit]
    t = Table(title=f"CPU TDP ({catalog.cpus.__module__.rsplit('.', 1)[0]}; codecarbon, MIT)", title_justify="left")
    t.add_column("name")
    t.add_column("TDP W", justify="right")
    _emit(shown, as_json, t, lambda c: (c.name, f"{c.tdp_w:g}"))
