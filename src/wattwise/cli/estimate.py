"""`wattwise estimate` and `wattwise where`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from ..assumptions import zone_name
from ..errors import InvalidValueError, MissingInputError
from ..estimator import estimate
from ..footprint import QUANTITIES, Footprint
from ..siting import where
from .. import display as fmt
from ._flags import flagify
from ._output import console, print_json

Num = Optional[str]  # numbers arrive as text so that 7B / 1.4T / 150e12 all parse, with a clear error otherwise
PARAMS = Annotated[Num, typer.Option("--params", help="Parameters N (e.g. 7e9 or 7B).")]
ACTIVE = Annotated[Num, typer.Option("--active-params", help="Active parameters per token (mixture-of-experts).")]
TOKENS = Annotated[Num, typer.Option("--tokens", help="Training tokens D (e.g. 1.4e12 or 1.4T).")]
ARCH = Annotated[Optional[str], typer.Option("--arch", help="Built-in architecture (llama-7b, gpt2...): counted "
                                             "FLOPs per token instead of 6N.")]
SEQ = Annotated[Optional[int], typer.Option("--seq", help="Context length for --arch (default: the model's).")]
FLOPS = Annotated[Num, typer.Option("--flops", help="Training FLOPs, if known (else 6ND).")]
GPU = Annotated[Optional[str], typer.Option("--gpu", help="Accelerator, e.g. A100-80GB, H100-SXM, TPUv5p.")]
GPUS = Annotated[int, typer.Option("--gpus", help="Number of accelerators (for wall-clock).")]
DTYPE = Annotated[Optional[str], typer.Option("--dtype", help="Precision for the peak: bf16, fp16, fp8, tf32, fp32, int8 "
                                              "(default: bf16, else the GPU's fp16 or fp32).")]
MFU = Annotated[Num, typer.Option("--mfu", help="Model FLOPs utilisation, 0-1 (default: published range).")]
FLOP_PER_S = Annotated[Num, typer.Option("--flop-per-s", help="Achieved FLOP/s per GPU (instead of --mfu).")]
GPU_HOURS = Annotated[Num, typer.Option("--gpu-hours", help="GPU-hours, if known.")]
DURATION = Annotated[Num, typer.Option("--duration-s", help="Wall-clock seconds, if known.")]
POWER = Annotated[Num, typer.Option("--power-w", help="Board power per GPU in W (default: TDP x range).")]
ENERGY = Annotated[Num, typer.Option("--energy-kwh", help="IT energy in kWh, if measured (before PUE).")]
PUE = Annotated[Num, typer.Option("--pue", help="Data-centre PUE (default: provider or industry preset).")]
PROVIDER = Annotated[Optional[str], typer.Option("--provider", help="PUE preset / price provider: gcp, aws, azure...")]
PRICE = Annotated[Num, typer.Option("--price-per-gpu-hour", help="USD per GPU-hour (default: catalog offers).")]
ELEC = Annotated[Num, typer.Option("--electricity-price", help="USD per kWh, for owned hardware.")]
HW_USD = Annotated[Num, typer.Option("--hardware-usd", help="Purchase price per GPU, amortised (owned hardware).")]
HW_YEARS = Annotated[Num, typer.Option("--hardware-years", help="Service life for amortisation (default 4).")]
INF_TOKENS = Annotated[Num, typer.Option("--inference-tokens", help="Tokens served over the model's life.")]
INF_PER_DAY = Annotated[Num, typer.Option("--inference-tokens-per-day", help="Tokens served per day.")]
INF_DAYS = Annotated[Num, typer.Option("--inference-days", help="Days of serving (with --inference-tokens-per-day).")]
JSON = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
# the whole bill (issue 17)
SCOPE = Annotated[Optional[str], typer.Option("--scope", help="Power scope: board (accelerators only, default), "
                                              "system (--power-w per accelerator incl. its host share, as Patterson "
                                              "et al.), server (whole machines: + --host-power-w or --server-power-w, "
                                              "as Strubell et al.).")]
NODES = Annotated[Optional[int], typer.Option("--nodes", help="Servers reserved (default: GPUs / --gpus-per-node).")]
PER_NODE = Annotated[Optional[int], typer.Option("--gpus-per-node", help="Accelerators per server (default 8).")]
HOST_W = Annotated[Num, typer.Option("--host-power-w", help="Host CPU + DRAM + NIC + fans per node, W (scope server).")]
SERVER_W = Annotated[Num, typer.Option("--server-power-w", help="Whole-machine power per node, W (scope server).")]
IDLE_W = Annotated[Num, typer.Option("--idle-power-w", help="Idle/static power per reserved node over the wall-clock, "
                                     "W.")]
IDLE_KWH = Annotated[Num, typer.Option("--idle-energy-kwh", help="Idle/static energy of the reserved nodes, kWh.")]
EMBODIED = Annotated[bool, typer.Option("--embodied/--no-embodied", help="Add the hardware's embodied (manufacturing) "
                                        "carbon, amortised over its life (default off).")]
EMB_GPU = Annotated[Num, typer.Option("--embodied-gpu-kg", help="kg CO2e per accelerator (default 150, range 60-318).")]
EMB_SRV = Annotated[Num, typer.Option("--embodied-server-kg", help="kg CO2e per server without accelerators "
                                      "(default 2,500, range 1,000-2,500).")]
EMB_LIFE = Annotated[Num, typer.Option("--embodied-years", help="Hardware life for embodied carbon (default 6, 4 for "
                                       "the high end).")]
EMB_UTIL = Annotated[Num, typer.Option("--embodied-utilisation", help="Share of its life the hardware is busy "
                                       "(default 0.85).")]
MARKET = Annotated[Num, typer.Option("--market-intensity", help="Market-based factor, gCO2e/kWh (residual mix or "
                                     "supplier rate): reported next to the location-based CO2e.")]
CFE = Annotated[Num, typer.Option("--cfe-fraction", help="Share of the energy covered by PPAs/RECs (0-1), for the "
                                  "market-based figure.")]
LBS_I = Annotated[Num, typer.Option("--intensity-lbs", help="Grid intensity in lbs CO2e/kWh (instead of --intensity).")]
LBS = Annotated[bool, typer.Option("--lbs", help="Also print CO2e in lbs.")]
TPS = Annotated[Num, typer.Option("--tokens-per-s-per-gpu", help="Training throughput in tokens/s per GPU (with "
                                  "--tokens).")]
HOURS = Annotated[Num, typer.Option("--duration-h", help="Wall-clock hours, if known.")]
DAYS = Annotated[Num, typer.Option("--duration-days", help="Wall-clock days, if known.")]
SERVE_J = Annotated[Num, typer.Option("--serving-j-per-token", help="Measured J per generated token (wattwise "
                                      "bench-serve), for the serving projection.")]
REPLICAS = Annotated[Optional[int], typer.Option("--serving-replicas", help="Serving replicas kept resident.")]
RESIDENT = Annotated[Num, typer.Option("--serving-resident-power-w", help="Resident/idle power per replica, W, over "
                                       "--inference-days.")]
PARTS = Annotated[Optional[str], typer.Option("--parts", help="A JSON file (YAML too when PyYAML is installed) of "
                                              "parts, each its own gpu, gpus, gpu_hours, power_w, region...; a list, "
                                              "or {\"common\": {...}, \"parts\": [...]}. Flags given apply to "
                                              "every part.")]


def _job(params, active_params, arch, seq, tokens, flops, gpu, gpus, dtype, mfu, flop_per_s, gpu_hours, duration_s, power_w,
         energy_kwh, pue, provider, price, elec, hw_usd, hw_years, inf_tokens, inf_per_day, inf_days) -> dict:
    q = fmt.parse_quantity
    return dict(params=q("params", params), active_params=q("active-params", active_params), arch=arch, seq=seq,
                tokens=q("tokens", tokens), flops=q("flops", flops), gpu=gpu, gpus=gpus, dtype=dtype,
                mfu=q("mfu", mfu), flop_per_s=q("flop-per-s", flop_per_s), gpu_hours=q("gpu-hours", gpu_hours),
                duration_s=q("duration-s", duration_s), power_w=q("power-w", power_w),
                energy_kwh=q("energy-kwh", energy_kwh), pue=q("pue", pue), provider=provider,
                price_usd_per_gpu_hour=q("price-per-gpu-hour", price),
                electricity_usd_per_kwh=q("electricity-price", elec), hardware_usd=q("hardware-usd", hw_usd),
                hardware_lifetime_years=q("hardware-years", hw_years),
                inference_tokens=q("inference-tokens", inf_tokens),
                inference_tokens_per_day=q("inference-tokens-per-day", inf_per_day),
                inference_days=q("inference-days", inf_days))


def estimate_command(params: PARAMS = None, active_params: ACTIVE = None, arch: ARCH = None, seq: SEQ = None, tokens: TOKENS = None, flops: FLOPS = None,
                     gpu: GPU = None, gpus: GPUS = 1, dtype: DTYPE = None, mfu: MFU = None,
                     flop_per_s: FLOP_PER_S = None, gpu_hours: GPU_HOURS = None, duration_s: DURATION = None,
                     power_w: POWER = None, energy_kwh: ENERGY = None,
                     region: Annotated[Optional[str], typer.Option("--region", help="Grid zone or cloud region: "
                                                                   "US-WV, CA-QC, FRA, us-west1, eastus...")] = None,
                     intensity: Annotated[Num, typer.Option("--intensity", help="Grid gCO2e/kWh (instead of "
                                                            "--region).")] = None,
                     pue: PUE = None, provider: PROVIDER = None, price: PRICE = None, elec: ELEC = None,
                     hw_usd: HW_USD = None, hw_years: HW_YEARS = None, inf_tokens: INF_TOKENS = None,
                     inf_per_day: INF_PER_DAY = None, inf_days: INF_DAYS = None, scope: SCOPE = None,
                     nodes: NODES = None, per_node: PER_NODE = None, host_w: HOST_W = None, server_w: SERVER_W = None,
                     idle_w: IDLE_W = None, idle_kwh: IDLE_KWH = None, embodied: EMBODIED = False,
                     emb_gpu: EMB_GPU = None, emb_srv: EMB_SRV = None, emb_life: EMB_LIFE = None,
                     emb_util: EMB_UTIL = None, market: MARKET = None, cfe: CFE = None, lbs_i: LBS_I = None,
                     lbs: LBS = False, tps: TPS = None, hours: HOURS = None, days: DAYS = None,
                     serve_j: SERVE_J = None, replicas: REPLICAS = None, resident: RESIDENT = None,
                     parts: PARTS = None, as_json: JSON = False) -> None:
    job = _job(params, active_params, arch, seq, tokens, flops, gpu, gpus, dtype, mfu, flop_per_s, gpu_hours, duration_s,
               power_w, energy_kwh, pue, provider, price, elec, hw_usd, hw_years, inf_tokens, inf_per_day, inf_days)
    q = fmt.parse_quantity
    bill = dict(scope=scope, nodes=nodes, gpus_per_node=per_node, host_power_w=q("host-power-w", host_w),
                server_power_w=q("server-power-w", server_w), idle_power_w=q("idle-power-w", idle_w),
                idle_energy_kwh=q("idle-energy-kwh", idle_kwh), embodied=embodied,
                embodied_gpu_kg=q("embodied-gpu-kg", emb_gpu), embodied_server_kg=q("embodied-server-kg", emb_srv),
                embodied_lifetime_years=q("embodied-years", emb_life),
                embodied_utilisation=q("embodied-utilisation", emb_util),
                market_intensity_g_per_kwh=q("market-intensity", market), cfe_fraction=q("cfe-fraction", cfe),
                intensity_lbs_per_kwh=q("intensity-lbs", lbs_i), tokens_per_s_per_gpu=q("tokens-per-s-per-gpu", tps),
                duration_h=q("duration-h", hours), duration_days=q("duration-days", days),
                serving_j_per_token=q("serving-j-per-token", serve_j), serving_replicas=replicas,
                serving_resident_power_w=q("serving-resident-power-w", resident))
    every = {"region": region, "intensity_g_per_kwh": q("intensity", intensity), **job, **bill}
    if parts is not None:
        from ..parts import estimate_parts, load_parts
        part_list, common = load_parts(parts)
        # flags left at their defaults do not override the file; given ones apply to every part
        defaults = {"gpus": 1, "embodied": False}
        flags = {k: v for k, v in every.items() if v is not None and defaults.get(k, object()) != v}
        fp = estimate_parts(part_list, **{**common, **flags})
    else:
        fp = estimate(**every)
    if all(fp.ranges.get(q) is None for q in QUANTITIES):
        raise MissingInputError("nothing to estimate: give the job, e.g. --params 7e9 --tokens 1.4e12 (or --flops, "
                                "--arch with --tokens, --gpu-hours, --energy-kwh); see wattwise estimate --help")
    if as_json:
        d = fp.to_dict()
        if lbs and fp.co2e_kg is not None:
            from ..accounting import lbs as to_lbs
            d["co2e_lbs"] = to_lbs(fp.co2e_kg).to_dict()
        print_json(d)
        return
    print_footprint(fp, title="Estimated footprint")
    print_whole_bill(fp, lbs=lbs)


def _zone_label(key: str) -> str:
    """'DE (Germany, Electricity Maps)': which zone a region resolved to, said in every output."""
    from .. import catalog
    try:
        return catalog.zone(key).label
    except Exception:  # noqa: BLE001 - a label is a courtesy; the key itself is exact
        return key


def print_footprint(fp: Footprint, title: str) -> None:
    sub = " · ".join(x for x in (fp.hardware, f"zone {_zone_label(fp.zone)}" if fp.zone else None) if x)
    table = Table(title=f"{title}{' (' + sub + ')' if sub else ''}", title_justify="left")
    table.add_column("Quantity")
    table.add_column("Central", justify="right", style="bold")
    table.add_column("Range (low - high)", justify="right")
    for q in QUANTITIES:
        r = fp.ranges.get(q)
        if r is None:
            table.add_row(fmt.LABEL[q], "[dim]n/a[/dim]", f"[yellow]{flagify(fp.missing.get(q, ''))}[/yellow]")
        else:
            table.add_row(fmt.LABEL[q], fmt.FORMAT[q](r.central), fmt.quantity_span(q, r))
    if fp.mfu is not None:
        table.add_row("MFU", f"{fp.mfu:.1%}", "")
    console.print(table)
    inf, life = fp.inference, fp.lifetime
    if inf is not None:
        split = fp.extra.get("split", {})
        t = Table(title="Training vs inference (lifetime)", title_justify="left")
        for col in ("", "Training", "Inference", "Lifetime"):
            t.add_column(col, justify="right" if col else "left")
        for q in ("flops", "gpu_hours", "energy_kwh", "co2e_kg", "cost_usd"):
            if getattr(fp, q) is not None and getattr(inf, q) is not None:
                t.add_row(fmt.LABEL[q], fmt.FORMAT[q](getattr(fp, q)), fmt.FORMAT[q](getattr(inf, q)),
                          fmt.FORMAT[q](getattr(life, q)))
        console.print(t)
        if split:
            line = (f"Inference is {split['inference_fraction']:.0%} of lifetime FLOPs "
                    f"({fmt.count(inf.inputs['tokens'])} tokens served at 2N FLOPs each).")
            if "crossover_day" in split:
                line += f" Serving overtakes training on day {split['crossover_day']:,.0f}."
            console.print(line)
    console.print("[bold]Sources[/bold]")
    for key, text in fp.sources.items():
        console.print(f"  [cyan]{key}[/cyan]: {text}", soft_wrap=True)


def print_whole_bill(fp: Footprint, lbs: bool = False) -> None:
    """The scope of power (always), then what the whole bill adds: parts, carbon by component (embodied
    included), market-based next to location-based, lbs."""
    from ..footprint import Quantity
    scope = fp.extra.get("power_scope") or {}
    if scope:
        console.print(f"[bold]Power scope[/bold]: {scope.get('scope')} - {scope.get('text', '')}", soft_wrap=True)
    rows = fp.extra.get("parts")
    if rows:
        t = Table(title=f"Parts ({len(rows)})", title_justify="left")
        for col in ("Part", "Hardware", "Zone", "Energy", "CO2e"):
            t.add_column(col, justify="left" if col in ("Part", "Hardware", "Zone") else "right")
        for r in rows:
            t.add_row(r["name"], r.get("hardware") or "-", r.get("zone") or "-",
                      fmt.energy(r["energy_kwh"]["central"]) if "energy_kwh" in r else "n/a",
                      fmt.co2e(r["co2e_kg"]["central"]) if "co2e_kg" in r else "n/a")
        console.print(t)
    by = fp.extra.get("co2e_by_component_kg") or {}
    if len(by) > 1 or "embodied" in by:
        t = Table(title="Carbon by component", title_justify="left")
        for col in ("Component", "Central", "Range (low - high)"):
            t.add_column(col, justify="left" if col == "Component" else "right")
        for name, d in by.items():
            qq = Quantity.from_dict(d)
            t.add_row(name, fmt.co2e(qq), fmt.quantity_span("co2e_kg", qq))
        console.print(t)
    acc = fp.extra.get("accounting")
    if acc:
        loc, mkt = Quantity.from_dict(acc["location_based_kg"]), Quantity.from_dict(acc["market_based_kg"])
        console.print(f"[bold]Scope 2[/bold]: location-based {fmt.co2e(loc)}, market-based {fmt.co2e(mkt)} "
                      f"({acc['basis']})", soft_wrap=True)
    if lbs and fp.co2e_kg is not None:
        from ..accounting import lbs as to_lbs
        x = to_lbs(fp.co2e_kg)
        span = "" if x.exact else f" ({fmt.plain(x.low)} to {fmt.plain(x.high)})"
        console.print(f"[bold]Carbon in lbs[/bold]: {fmt.plain(x, 'lbs CO2e')}{span}")


def where_command(params: PARAMS = None, active_params: ACTIVE = None, arch: ARCH = None, seq: SEQ = None, tokens: TOKENS = None, flops: FLOPS = None,
                  gpu: GPU = None, gpus: GPUS = 1, dtype: DTYPE = None, mfu: MFU = None,
                  flop_per_s: FLOP_PER_S = None, gpu_hours: GPU_HOURS = None, duration_s: DURATION = None,
                  power_w: POWER = None, energy_kwh: ENERGY = None, pue: PUE = None, provider: PROVIDER = None,
                  price: PRICE = None, elec: ELEC = None, hw_usd: HW_USD = None, hw_years: HW_YEARS = None,
                  zones: Annotated[Optional[str], typer.Option("--zones", help="Comma-separated zones to compare "
                                                               "(default: all).")] = None,
                  kind: Annotated[Optional[str], typer.Option("--kind", help="Only zones of this kind: country, "
                                                              "us-state, electricitymaps, cloud-region.")] = None,
                  top: Annotated[int, typer.Option("--top", help="Rows to show (0 = all).")] = 15,
                  as_json: JSON = False) -> None:
    job = _job(params, active_params, arch, seq, tokens, flops, gpu, gpus, dtype, mfu, flop_per_s, gpu_hours, duration_s,
               power_w, energy_kwh, pue, provider, price, elec, hw_usd, hw_years, None, None, None)
    if top < 0:
        raise InvalidValueError(f"--top must be 0 (all zones) or a number of rows, got {top}")
    names = None
    if zones is not None:
        names = [z.strip() for z in zones.split(",") if z.strip()]
        if not names:
            raise InvalidValueError(f"--zones {zones!r} names no zone: give comma-separated zones such as FR,DE,US-CA "
                                    "(or leave --zones out for all)")
    rows = where(zones=names, kind=kind, **job)
    if as_json:
        print_json([{"zone": p.zone.zone_id, "name": p.zone.name, "kind": p.zone.kind,
                     "intensity_g_per_kwh": p.zone.intensity_g_per_kwh, "year": p.zone.year, "basis": p.zone.basis,
                     "ratio_to_best": p.ratio_to_best, **p.footprint.central.to_dict(),
                     "low": p.footprint.low.to_dict(), "high": p.footprint.high.to_dict()} for p in rows])
        return
    shown = rows if top <= 0 or len(rows) <= top else rows[:top]
    from ._output import Col, fit_table
    cols = [Col("#", "number"), Col("Zone", "id"), Col("Name", drop=2, min_width=14),
            Col("gCO2e/kWh", "number"), Col("Year, basis", drop=3, min_width=12), Col("CO2e", "number"),
            Col("Cost", "number", drop=1), Col("x best", "number")]
    table_rows = []
    for i, p in enumerate(shown, 1):
        fp = p.footprint
        table_rows.append([str(i), zone_name(p.zone), p.zone.name, fmt.plain(p.zone.intensity_g_per_kwh),
                           f"{p.zone.year}, {p.zone.basis}", fmt.co2e(fp.co2e_kg),
                           fmt.usd(fp.cost_usd) if fp.cost_usd is not None else "n/a", f"{p.ratio_to_best:,.1f}x"])
    t = fit_table(cols, table_rows, title=f"Same job in {len(rows)} zones, lowest CO2e first")
    console.print(t)
    if len(shown) < len(rows):
        console.print(f"[dim]... {len(rows) - len(shown)} more (use --top 0 for all)[/dim]")
    best, worst = rows[0], rows[-1]
    yardstick = "the best" if best.footprint.co2e_kg > 0 else "the lowest non-zero zone"
    console.print(f"Best: {zone_name(best.zone)} {fmt.co2e(best.footprint.co2e_kg)}; worst: {zone_name(worst.zone)} "
                  f"{fmt.co2e(worst.footprint.co2e_kg)} ({worst.ratio_to_best:,.1f}x {yardstick}). Energy and "
                  "dollars barely move; carbon moves by the grid.")
    if len({p.zone.basis for p in rows}) > 1:
        console.print("[yellow]Note:[/yellow] these intensities mix lifecycle (OWID, Electricity Maps) and direct "
                      "(eGRID, Google) accounting; direct values omit upstream emissions.")

