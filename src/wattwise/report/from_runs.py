"""The card of measured runs, built from their footprints: every run counted in the totals (failed, interrupted
and sweep trials too), because all the compute spent counts (Schwartz et al. 2020, Green AI)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..constants import INFER_FLOPS_PER_PARAM_TOKEN
from ..display import safe_text
from ..errors import InvalidValueError, MissingInputError
from ..footprint import Footprint
from .figures import quantity_figure, sum_figures
from .methods import dedup, flops_basis, meter_source, run_constants
from .model import (
    COMPONENTS,
    LABELS,
    RUN_KEYS,
    TOTAL_KEYS,
    Card,
    Constant,
    Figure,
    RunRow,
    Series,
    generator_name,
    utc,
)
from .pareto_table import pareto_constant, pareto_table, run_variants
from .projection import project_runs_inference
from .series import MAX_SERIES, run_series

# what the card says of each per-run figure (the quantity's own basis is the meter or source)
_RUN_BASES = {"gpu_hours": "GPUs x measured wall-clock", "duration_s": "first start to last end",
              "it_energy_kwh": "meters, each device counted once", "energy_kwh": "IT energy x PUE",
              "co2e_kg": "facility energy x grid intensity"}
_TOTAL_BASES = {"flops": "sum over runs", "gpu_hours": "sum over runs of GPUs x measured wall-clock",
                "duration_s": "sum of run wall-clocks (runs may have overlapped)",
                "it_energy_kwh": "sum over runs of metered energy, each device counted once per run",
                "energy_kwh": "sum over runs of IT energy x PUE",
                "co2e_kg": "sum over runs of facility energy x grid intensity",
                "cost_usd": "sum over runs of GPU-hours (or energy) x price"}


_RECORD_META = {"run_id": "id", "name": "name", "project": "project", "tags": "tags", "status": "status",
                "start_ts": "start_ts", "end_ts": "end_ts", "updated_ts": "updated_ts", "world_size": "world_size"}


def _runs(runs: Sequence[Any], footprints: Sequence[Footprint] | None
          ) -> list[tuple[Footprint, Mapping[str, Any], Mapping[str, Any]]]:
    """(footprint, context, run metadata) per run. A run is a Footprint (context: its `inputs`; metadata: its
    `extra`) or a ledger record (footprint: `footprints[i]` or `wattwise.ledger.to_footprint(record)`; context:
    the record's; metadata: the footprint's `extra`, completed from the record)."""
    if footprints is not None and len(footprints) != len(runs):
        raise InvalidValueError(f"{len(runs)} run records but {len(footprints)} footprints; give one footprint "
                                "per run")
    out = []
    for i, run in enumerate(runs):
        if isinstance(run, Footprint):
            out.append((run, run.inputs, run.extra))
            continue
        if not isinstance(run, Mapping):
            raise InvalidValueError(f"a run is a Footprint or a ledger record (dict), got {type(run).__name__}")
        if footprints is not None:
            fp = footprints[i]
        else:
            from ..ledger import to_footprint
            fp = to_footprint(dict(run))
        meta = dict(fp.extra)
        for k, rk in _RECORD_META.items():
            if meta.get(k) is None and run.get(rk) is not None:
                meta[k] = run[rk]
        out.append((fp, run.get("context") or {}, meta))
    return out


def _flops_figure(fp: Footprint, ctx: Mapping[str, Any]) -> Figure:
    from ..measured import flops_quantity
    q = fp.flops
    if q is None:  # the basis says what the run declared it would report
        return quantity_figure("flops", None, missing_basis=flops_quantity(0.0, ctx, fp.sources).basis)
    if not q.basis:  # a footprint that does not say how: read the run's declaration
        q = flops_quantity(float(q), ctx, fp.sources)
    return quantity_figure("flops", q, flops_basis(q))


def _run_figures(fp: Footprint, ctx: Mapping[str, Any]) -> dict[str, Figure]:
    figs = {"flops": _flops_figure(fp, ctx)}
    for k, basis in _RUN_BASES.items():
        figs[k] = quantity_figure(k, getattr(fp, k), basis, missing_basis=basis)
    per = (ctx.get("price") or {}).get("per")
    cost = fp.cost_usd
    by_gpu_hour = per == "gpu_hour" if per else bool(cost is not None and cost.basis.startswith("GPU-hours"))
    basis = "GPU-hours x price" if by_gpu_hour else "facility energy x price"
    figs["cost_usd"] = quantity_figure("cost_usd", cost, basis, missing_basis=basis)
    for c, q in fp.energy_by_component_kwh.items():
        figs[c] = quantity_figure(c, q, meter_source(fp, c))
    return figs


def card_from_runs(runs: Sequence[Any], *, footprints: Sequence[Footprint] | None = None,
                   samples: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
                   selection: Mapping[str, Any] | None = None, title: str | None = None,
                   variants: Sequence[Any] | None = None, cost_axis: str = "energy", accuracy: str = "accuracy",
                   higher_is_better: bool = True, inference: Mapping[str, float] | None = None,
                   generator: str | None = None) -> Card:
    """The card of measured runs (all of them counted: failed, interrupted and sweep trials too).

    `runs` are run footprints (`wattwise.ledger.to_footprint`, `Ledger.footprint`) or ledger records (converted
    with `to_footprint`, or given with `footprints`, one per record). Every figure comes from a footprint; the
    context (a record's, or a footprint's `inputs`) adds only what a footprint does not hold: the price, the
    peak FLOP/s, an accuracy for the Pareto table. `samples` maps run id to its ledger samples (for the
    energy/power plots); `variants` (mappings with name, accuracy and a cost field) give the Pareto table, else
    runs whose context holds an accuracy are compared; `inference` = {params, tokens} or {params,
    tokens_per_day, days} projects serving cost at the runs' measured energy per FLOP.
    """
    runs = list(runs)
    if not runs:
        raise MissingInputError("no runs to report on; check the run ids, --project or --tag "
                                "(`wattwise runs list` shows what the ledger holds)")
    triples = _runs(runs, footprints)
    pairs = [(fp, ctx) for fp, ctx, _ in triples]
    n = len(triples)
    rows: list[RunRow] = []
    per_run: list[dict[str, Figure]] = []
    warnings: list[str] = []
    for i, (fp, ctx, x) in enumerate(triples):
        rid = safe_text(str(x.get("run_id") or f"#{i}"))
        figs = _run_figures(fp, ctx)
        per_run.append(figs)
        name, project = x.get("name"), x.get("project")
        rows.append(RunRow(id=rid, name=None if name is None else safe_text(name),
                           project=None if project is None else safe_text(project),
                           tags=[safe_text(t) for t in x.get("tags") or []],
                           status=str(x.get("status") or "unknown"), start_utc=utc(x.get("start_ts")),
                           end_utc=utc(x.get("end_ts")), hardware=fp.hardware, zone=fp.zone,
                           world_size=x.get("world_size"),
                           error=safe_text("; ".join(x.get("errors") or [])) or None,
                           figures={k: figs[k] for k in RUN_KEYS}))
        for w in x.get("warnings") or []:
            warnings.append(f"run {rid}: {w}")

    totals = {k: sum_figures(k, [f[k] for f in per_run], _TOTAL_BASES[k], n) for k in TOTAL_KEYS}
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
    zones, pues, price_basis, methods = run_constants(pairs)
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
    xs = [x for _, _, x in triples]
    starts = [x.get("start_ts") for x in xs if x.get("start_ts")]
    ends = [x.get("end_ts") or x.get("updated_ts") for x in xs if x.get("end_ts") or x.get("updated_ts")]
    period = {"start_utc": utc(min(starts)) if starts else None, "end_utc": utc(max(ends)) if ends else None}
    failed = sum(v for k, v in counts.items() if k in ("failed", "interrupted", "lost"))
    notes = [f"All {n} run{'s' if n != 1 else ''} are counted in the totals"
             + (f", including {failed} that did not finish" if failed else "")
             + ": the Green AI principle (Schwartz et al. 2020) counts all the compute spent, sweeps and failures "
             "included.",
             "Measured = from these runs' meters and clock; PUE, grid intensity and prices are constants (see "
             "Methods) that convert measured energy and GPU-hours into facility energy, CO2e and dollars."]

    hw_runs: dict[str, int] = {}
    for fp, _ in pairs:
        if fp.hardware:
            hw_runs[fp.hardware] = hw_runs.get(fp.hardware, 0) + 1
    hardware = [f"{h} ({k} run{'s' if k != 1 else ''})" for h, k in sorted(hw_runs.items())]
    series: list[Series] = []
    for row, x in zip(rows, xs):
        if samples and samples.get(row.id):
            series.extend(run_series(row.id, row.name, x.get("start_ts"), samples[row.id]))
    if len(series) > MAX_SERIES:
        warnings.append(f"plots show the first {MAX_SERIES} of {len(series)} run/rank series")
        series = series[:MAX_SERIES]

    if variants is None:
        variants = run_variants([(r.name or r.id, fp, ctx) for r, (fp, ctx) in zip(rows, pairs)])
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
                selection=sel, totals=totals, energy_by_component=comps, hardware=hardware,
                zones=list(zones.values()), pue=pue_fig, price_basis=price_basis, period=period, counts=counts,
                runs=rows, methods=dedup(methods), inference=inf, pareto=pareto, series=series, notes=notes,
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
