"""The card of ledger runs: every run counted in the totals (failed, interrupted and sweep trials too), because
all the compute spent counts (Schwartz et al. 2020, Green AI)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..constants import INFER_FLOPS_PER_PARAM_TOKEN
from ..errors import InvalidValueError, MissingInputError
from ..footprint import Footprint
from .figures import fig, sum_figures
from .methods import dedup, run_constants, run_flops_kind
from .model import (COMPONENTS, LABELS, RUN_KEYS, TOTAL_KEYS, Card, Constant, Figure, RunRow, Series,
                    combine_methods, generator_name, utc)
from .pareto_table import pareto_constant, pareto_table, run_variants
from .projection import project_runs_inference
from .series import MAX_SERIES, run_series


def _record_footprint(rec: Mapping[str, Any]) -> Footprint:
    from ..ledger import to_footprint
    return to_footprint(dict(rec))


def _energy_method(rec: Mapping[str, Any]) -> str:
    comps = (rec.get("provenance") or {}).get("components") or {}
    kinds = {("measured" if v == "measured" else "estimated" if v == "estimated" else "mixed") for v in comps.values()}
    return combine_methods(kinds) if kinds else "measured"


def _run_figures(rec: Mapping[str, Any], fp: Footprint) -> dict[str, Figure]:
    prov = rec.get("provenance") or {}
    sources = prov.get("sources") or {}
    ctx = rec.get("context") or {}
    e_method = _energy_method(rec)
    f_method, f_basis = run_flops_kind(ctx, sources)
    price = ctx.get("price") or {}
    cost_method = "measured" if price.get("per") == "gpu_hour" else e_method
    figs = {
        "flops": fig("flops", fp.ranges.get("flops"), f_method, f_basis),
        "gpu_hours": fig("gpu_hours", fp.ranges.get("gpu_hours"), "measured", "GPUs x measured wall-clock"),
        "duration_s": fig("duration_s", fp.ranges.get("duration_s"), "measured", "first start to last end"),
        "it_energy_kwh": fig("it_energy_kwh", fp.it_energy_kwh, e_method, "meters, each device counted once"),
        "energy_kwh": fig("energy_kwh", fp.ranges.get("energy_kwh"), e_method, "IT energy x PUE"),
        "co2e_kg": fig("co2e_kg", fp.ranges.get("co2e_kg"), e_method, "facility energy x grid intensity"),
        "cost_usd": fig("cost_usd", fp.ranges.get("cost_usd"), cost_method,
                        "GPU-hours x price" if price.get("per") == "gpu_hour" else "facility energy x price"),
    }
    comps = prov.get("components") or {}
    for c, r in fp.energy_by_component_kwh.items():
        kind = comps.get(c, "measured")
        figs[c] = fig(c, r, kind if kind in ("measured", "estimated") else "mixed",
                      sources.get(f"energy_{c}", ""))
    return figs


def card_from_runs(records: Sequence[Mapping[str, Any]], *, footprints: Sequence[Footprint] | None = None,
                   samples: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
                   selection: Mapping[str, Any] | None = None, title: str | None = None,
                   variants: Sequence[Any] | None = None, cost_axis: str = "energy", accuracy: str = "accuracy",
                   higher_is_better: bool = True, inference: Mapping[str, float] | None = None,
                   generator: str | None = None) -> Card:
    """The card of ledger runs (all of them counted: failed, interrupted and sweep trials too).

    `footprints` default to the ledger's record -> Footprint conversion; `samples` maps run id to its ledger
    samples (for the energy/power plots); `variants` (mappings with name, accuracy and a cost field) give the
    Pareto table, else runs whose context holds an accuracy are compared; `inference` = {params, tokens} or
    {params, tokens_per_day, days} projects serving cost at the runs' measured energy per FLOP.
    """
    records = list(records)
    if not records:
        raise MissingInputError("no runs to report on; check the run ids, --project or --tag "
                                "(`wattwise runs list` shows what the ledger holds)")
    fps = list(footprints) if footprints is not None else [_record_footprint(r) for r in records]
    if len(fps) != len(records):
        raise InvalidValueError(f"{len(records)} run records but {len(fps)} footprints; give one footprint per run")
    n = len(records)
    rows: list[RunRow] = []
    per_run: list[dict[str, Figure]] = []
    warnings: list[str] = []
    for rec, fp in zip(records, fps):
        figs = _run_figures(rec, fp)
        per_run.append(figs)
        prov = rec.get("provenance") or {}
        errors = [p.get("error") for p in prov.get("parts", []) if p.get("error")]
        rows.append(RunRow(id=str(rec["id"]), name=rec.get("name"), project=rec.get("project"),
                           tags=list(rec.get("tags") or []), status=str(rec.get("status") or "unknown"),
                           start_utc=utc(rec.get("start_ts")), end_utc=utc(rec.get("end_ts")),
                           hardware=rec.get("hardware"), zone=rec.get("region"),
                           world_size=rec.get("world_size"), error="; ".join(errors) or None,
                           figures={k: figs[k] for k in RUN_KEYS}))
        for w in prov.get("warnings") or []:
            warnings.append(f"run {rec['id']}: {w}")

    bases = {"flops": "sum over runs", "gpu_hours": "sum over runs of GPUs x measured wall-clock",
             "duration_s": "sum of run wall-clocks (runs may have overlapped)",
             "it_energy_kwh": "sum over runs of metered energy, each device counted once per run",
             "energy_kwh": "sum over runs of IT energy x PUE", "co2e_kg": "sum over runs of facility energy x grid "
             "intensity", "cost_usd": "sum over runs of GPU-hours (or energy) x price"}
    totals = {k: sum_figures(k, [f[k] for f in per_run], bases[k], n) for k in TOTAL_KEYS}
    f_kinds = {f["flops"].basis.split(":")[0] for f in per_run if f["flops"].known}
    if f_kinds:
        totals["flops"].basis = f"sum over runs ({', '.join(sorted(f_kinds))})"
    comps = {c: sum_figures(c, [f[c] for f in per_run if c in f], f"sum over runs of {LABELS[c]} energy", n)
             for c in COMPONENTS if any(c in f for f in per_run)}
    for c, cf in comps.items():
        cf.runs_counted = sum(1 for f in per_run if c in f and f[c].known)
        srcs = sorted({f[c].basis for f in per_run if c in f and f[c].basis})
        cf.basis = "; ".join(srcs) if srcs else cf.basis

    # location, PUE, price
    zones, pues, price_basis, methods = run_constants(records)
    pue_fig = None
    if len(pues) == 1:
        pue_fig = Figure("pue", "", pues[0].central, pues[0].low, pues[0].high, "estimated",
                         methods[0].source if methods and methods[0].name == "PUE" else "")
    elif pues:
        pue_fig = Figure("pue", "", sum(p.central for p in pues) / len(pues), min(p.low for p in pues),
                         max(p.high for p in pues), "estimated", f"{len(pues)} different PUE values (per run)")
        warnings.append(f"runs used {len(pues)} different PUE values; each run's energy uses its own")

    counts: dict[str, int] = {"runs": n}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    running = [r.id for r in rows if r.status == "running"]
    if running:
        warnings.append(f"{len(running)} run(s) still running ({', '.join(running)}): their figures are so far")
    for k in ("co2e_kg", "cost_usd", "flops", "energy_kwh"):
        f = totals[k]
        if f.partial:
            warnings.append(f"{f.label}: known for {f.runs_counted} of {n} runs; the total is a lower bound")
    if len(zones) > 1:
        warnings.append(f"runs ran in {len(zones)} grid zones: " + ", ".join(zones))
    for c, cf in comps.items():
        if cf.method in ("estimated", "mixed"):
            warnings.append(f"{LABELS[c]} energy is {cf.method}, not (only) metered: {cf.basis}")

    sel = dict(selection or {})
    starts = [r.get("start_ts") for r in records if r.get("start_ts")]
    ends = [r.get("end_ts") or r.get("updated_ts") for r in records if r.get("end_ts") or r.get("updated_ts")]
    period = {"start_utc": utc(min(starts)) if starts else None, "end_utc": utc(max(ends)) if ends else None}
    failed = sum(v for k, v in counts.items() if k in ("failed", "interrupted", "lost"))
    notes = [f"All {n} run{'s' if n != 1 else ''} are counted in the totals"
             + (f", including {failed} that did not finish" if failed else "")
             + ": the Green AI principle (Schwartz et al. 2020) counts all the compute spent, sweeps and failures "
             "included.",
             "Measured = from these runs' meters and clock; PUE, grid intensity and prices are constants (see "
             "Methods) that convert measured energy and GPU-hours into facility energy, CO2e and dollars."]

    hw_runs: dict[str, int] = {}
    for r in records:
        if r.get("hardware"):
            hw_runs[r["hardware"]] = hw_runs.get(r["hardware"], 0) + 1
    hardware = [f"{h} ({k} run{'s' if k != 1 else ''})" for h, k in sorted(hw_runs.items())]
    series: list[Series] = []
    for rec in records:
        if samples and samples.get(rec["id"]):
            series.extend(run_series(rec, samples[rec["id"]]))
    if len(series) > MAX_SERIES:
        warnings.append(f"plots show the first {MAX_SERIES} of {len(series)} run/rank series")
        series = series[:MAX_SERIES]

    if variants is None:
        variants = run_variants(records, fps)
    pareto = pareto_table(variants, cost_axis, accuracy, higher_is_better) if variants else None

    inf = None
    if inference:
        inf = project_runs_inference(totals, inference)
        methods.append(Constant("inference FLOPs per parameter per token", "inference projection",
                                "forward pass 2 N FLOPs per token (Kaplan et al. 2020, Sec. 2.1)",
                                INFER_FLOPS_PER_PARAM_TOKEN, unit="FLOPs/(param token)"))
    if pareto:
        methods.append(pareto_constant())

    return Card(title=title or _title(sel, rows), kind="runs", generator=generator or generator_name(),
                selection=sel, totals=totals, energy_by_component=comps, hardware=hardware, zones=list(zones.values()),
                pue=pue_fig, price_basis=price_basis, period=period, counts=counts, runs=rows,
                methods=dedup(methods), inference=inf, pareto=pareto, series=series, notes=notes,
                warnings=warnings)



def _title(sel: Mapping[str, Any], rows: list[RunRow]) -> str:
    if sel.get("project") and sel.get("tag"):
        return f"Efficiency card: project {sel['project']}, tag {sel['tag']}"
    if sel.get("project"):
        return f"Efficiency card: project {sel['project']}"
    if sel.get("tag"):
        return f"Efficiency card: tag {sel['tag']}"
    if len(rows) == 1:
        return f"Efficiency card: run {rows[0].name or rows[0].id}"
    return f"Efficiency card: {len(rows)} runs"
