"""The guided tour behind `wattwise demo` (until the full demo lands): the chapter's worked examples."""

from __future__ import annotations

from rich.rule import Rule
from rich.table import Table

from ..estimator import estimate
from ..siting import where
from . import _format as fmt
from ._output import console
from .estimate import print_footprint

STEPS = [
    ("A 7B model on 1.4T tokens at a sustained 150 TFLOP/s per GPU (the chapter's exercise)",
     dict(params=7e9, tokens=1.4e12, flop_per_s=150e12)),
    ("An A100 (312 TFLOP/s bf16 peak) for 10 hours at 50% utilisation",
     dict(gpu="A100", duration_s=10 * 3600, mfu=0.5)),
    ("Chinchilla-scale (70B, 1.4T tokens) on 1024 A100s at 40% MFU in West Virginia",
     dict(params=70e9, tokens=1.4e12, gpu="A100-80GB", gpus=1024, mfu=0.4, region="US-WV")),
    ("Llama 2 7B as reported (184,320 GPU-hours at 400 W, 423.4 g/kWh, PUE 1.0; Touvron et al. 2023 Table 2)",
     dict(gpu_hours=184320, power_w=400, intensity_g_per_kwh=423.4, pue=1.0)),
]


def run_tour() -> None:
    console.print(Rule("[bold]wattwise: what ML work really costs[/bold]"))
    for i, (title, job) in enumerate(STEPS, 1):
        console.print(f"\n[bold cyan]{i}. {title}[/bold cyan]")
        print_footprint(estimate(**job), title="Estimate")
    console.print("\n[bold cyan]5. Where to train: the same 7B job on H100s in Quebec vs West Virginia[/bold cyan]")
    rows = where(zones=["CA-QC", "US-WV", "us-west1", "FRA", "eastus"], params=7e9, tokens=1.4e12, gpu="H100-SXM")
    table = Table(title_justify="left")
    for col in ("Zone", "Name", "gCO2e/kWh", "Year, basis", "CO2e", "x best"):
        table.add_column(col, justify="right" if col in ("gCO2e/kWh", "CO2e", "x best") else "left")
    for p in rows:
        table.add_row(p.zone.zone_id, p.zone.name, f"{p.zone.intensity_g_per_kwh:,.1f}",
                      f"{p.zone.year}, {p.zone.basis}", fmt.co2e(p.footprint.co2e_kg), f"{p.ratio_to_best:.1f}x")
    console.print(table)
    qc = next(p for p in rows if p.zone.zone_id == "CA-QC")
    wv = next(p for p in rows if p.zone.zone_id == "US-WV")
    console.print(f"  West Virginia emits {wv.footprint.co2e_kg / qc.footprint.co2e_kg:.1f}x Quebec for the same job.")
    console.print("\nNext: `wattwise estimate --help`, `wattwise where --help`, `wattwise catalog gpus`.")
