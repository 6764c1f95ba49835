"""The sweep loop: plan the grid, skip runs already finished under the sweep id, execute the rest, read every run
back from the ledger, fit (Approach 2 and 3), plan a larger budget, and total the sweep's own footprint."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ...errors import ContradictoryInputError, InvalidValueError
from . import analysis
from .executors import EXECUTORS, run_local, run_ray, run_workers
from .planner import RunSpec, SweepConfig, plan_grid
from .trainer import RESULT_KEY, SPEC_KEY

if TYPE_CHECKING:
    from ...footprint import Footprint

# Quick mode: 3 budgets x the same 3 sizes (d_model 8, 16, 24; one layer; ~2k, 5.5k, 10.5k params), 256-token
# steps; ~45 s in one process on this project's 2-core machines. On pydoc text the 5.5k model wins every budget,
# so each IsoFLOP minimum is interior (measured; see tests/scaling_sweep).
QUICK = dict(budgets_flops=(4e9, 7e9, 1.2e10), sizes_per_budget=3, sizes_params=(2000.0, 5500.0, 10500.0),
             seq_len=32, batch_size=8, eval_tokens=8192, min_d_model=8, max_d_model=64, max_layers=2)

Progress = Callable[[str, RunSpec, dict], None]  # (event: plan|skip|start|step|done, spec, info)
OUTPUT_FILES = ("runs.csv", "sweep.json", "isoflop.png")  # what write_outputs puts in out_dir


def preflight(*, ledger: str | os.PathLike | None = None, out_dir: str | os.PathLike | None = None,
              tracker_opts: dict | None = None) -> None:
    """Every check that needs no data and no run, made before the corpus is read or any run starts, and creating
    nothing: the ledger file and the output folder can be written (or created), the region and the tracker's
    numbers are valid. Raises a WattwiseError naming the flag."""
    from ..._checks import check_number
    from ...files import check_file_writable, check_files_writable, check_folder_creatable

    opts = tracker_opts or {}
    if out_dir is not None:
        out = check_folder_creatable("--out", out_dir, what="sweep's outputs (sweep.json, runs.csv, isoflop.png)")
        check_files_writable("--out", out, OUTPUT_FILES)
    if ledger is not None:
        check_file_writable("--ledger", ledger, create_parents=True, what="ledger", example="ledger.db")
    else:
        from ...ledger import default_path

        check_file_writable("--ledger", default_path(), create_parents=True,
                            what="ledger (default: WATTWISE_HOME/ledger.db)", example="ledger.db")
    if opts.get("region") is not None:
        from ...tracker.config import location

        location(opts["region"], None)  # UnknownNameError with suggestions for a zone the catalog lacks
    if opts.get("usd_per_kwh") is not None:
        check_number("--usd-per-kwh", opts["usd_per_kwh"], allow_zero=True)


def check_region(sweep_id: str, finished_recs: list[dict], opts: dict, total: int) -> str | None:
    """A resumed sweep keeps the region it was started with: a different --region is refused; without --region
    the new runs take the recorded one (returned, for a note), so every run of a sweep is priced in one grid zone."""
    if not finished_recs:
        return None
    started = sorted({r.get("region") for r in finished_recs}, key=lambda z: (z is None, z or ""))
    label = ", ".join("unknown (world average)" if z is None else z for z in started)
    asked = opts.get("region")
    if asked is not None:
        from ...tracker.config import location

        want = location(asked, None).region
        if started != [want]:
            raise ContradictoryInputError(
                f"--region {asked}: sweep {sweep_id} was started with region {label} ({len(finished_recs)} of "
                f"{total} runs finished there); a sweep keeps one region: rerun without --region (or with the same "
                f"one), or start a new sweep under {asked} with another --sweep-id or --ledger")
        return None
    if len(started) == 1 and started[0] is not None:
        opts["region"] = started[0]
        return started[0]
    return None


def quick_config(**overrides) -> SweepConfig:
    """The tiny sweep of `--quick` (overrides replace fields, e.g. budgets_flops)."""
    return SweepConfig(**{**QUICK, **{k: v for k, v in overrides.items() if v is not None}})


def run_row(rec: dict) -> dict:
    """One ledger record of a sweep run, flattened: the spec, the outcome and the measured footprint."""
    spec = rec["context"].get(SPEC_KEY, {})
    res = rec["context"].get(RESULT_KEY) or {}
    row = {k: spec.get(k) for k in ("key", "budget_flops", "d_model", "n_layers", "params", "tokens", "steps",
                                    "flops_counted", "flops_6nd", "lr")}
    row.update(run_id=rec["id"], status=rec["status"], loss=res.get("loss"), train_s=res.get("train_s"),
               hardware=rec.get("hardware"))
    for k in ("duration_s", "energy_kwh", "energy_kwh_low", "energy_kwh_high", "co2e_kg", "co2e_kg_low",
              "co2e_kg_high", "cost_usd", "cost_usd_low", "cost_usd_high", "flops"):
        row[k if k != "flops" else "flops_tracked"] = rec.get(k)
    return row


def finished(rec: dict | None) -> bool:
    """A run is done when its record is complete: status ok and an outcome with a loss."""
    return bool(rec) and rec["status"] == "ok" and "loss" in (rec["context"].get(RESULT_KEY) or {})


@dataclass
class SweepResult:
    """What a sweep produced: its runs (from the ledger), which ran now and which were skipped, fits and plan."""

    sweep_id: str
    config: SweepConfig
    specs: list[RunSpec]
    runs: list[dict]
    executed: list[str]
    skipped: list[str]
    fit2: dict
    fit3: dict
    plan_flops: float
    totals: Footprint              # measured (FLOPs counted); extra: runs, flops_6nd
    plan_footprint: Footprint | None  # estimated: the sweep's efficiency scaled to the plan
    corpus: dict
    executor: str
    wall_s: float
    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"sweep_id": self.sweep_id, "config": self.config.identity(), "corpus": self.corpus,
                "executor": self.executor, "wall_s": self.wall_s, "executed": self.executed, "skipped": self.skipped,
                "runs": self.runs, "approach2": self.fit2, "approach3": self.fit3, "plan_flops": self.plan_flops,
                "sweep_footprint": analysis.footprint_json(self.totals),
                "plan_footprint": analysis.footprint_json(self.plan_footprint),
                "chinchilla": {"exponents": analysis.CHINCHILLA_EXPONENTS, "source": analysis.CHINCHILLA_SOURCE},
                "files": self.files, "notes": self.notes}


def run_sweep(config: SweepConfig, *, ledger: str | os.PathLike | None = None, executor: str = "local",
              workers: int = 1, ray_address: str | None = None, out_dir: str | os.PathLike | None = None,
              plan_flops: float | None = None, bootstrap: int = 1000, bootstrap3: int = 100,
              ci_level: float = 0.9, tracker_opts: dict | None = None, progress: Progress | None = None,
              plot: bool = True) -> SweepResult:
    """Run (or resume) an IsoFLOP sweep (Hoffmann et al. 2022, Approach 2) and fit it; see the package docstring."""
    from ...ledger import Ledger, default_path
    from .data import cached_corpus

    if executor not in EXECUTORS:
        raise InvalidValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if executor == "ray":
        from .executors import import_ray
        import_ray()  # fail before any work when the extra is missing
    preflight(ledger=ledger, out_dir=out_dir, tracker_opts=tracker_opts)
    t0 = time.perf_counter()
    corpus = cached_corpus(config.data, config.level, config.heldout_fraction, config.seed)
    sweep_id = config.resolved_id(corpus.sha256)
    specs = plan_grid(config, corpus.vocab_size, sweep_id)
    ledger_path = str(Path(ledger).expanduser() if ledger is not None else default_path())
    opts = dict(tracker_opts or {})
    notes: list[str] = []
    executed: list[str] = []
    skipped: list[str] = []
    with Ledger(ledger_path) as led:
        known = {r["id"]: r for r in led.runs(ids=[s.run_id for s in specs])}
        kept = check_region(sweep_id, [r for r in known.values() if finished(r)], opts, len(specs))
        todo = []
        for s in specs:
            rec = known.get(s.run_id)
            if finished(rec):
                skipped.append(s.key)
                if progress:
                    progress("skip", s, run_row(rec))
                continue
            if rec is not None:  # failed, interrupted or lost: start it again from scratch
                led.delete(s.run_id)
                notes.append(f"{s.key}: previous attempt was {rec['status']}; rerun")
            todo.append(s)
        if kept is not None and todo:
            notes.append(f"region {kept}: the region this sweep was started with (its remaining runs keep it)")
        if progress:
            for s in todo:
                progress("plan", s, {})

        def on_done(spec: RunSpec, payload: dict) -> None:
            executed.append(spec.key)
            if progress:
                progress("done", spec, {**payload.get("result", {}), "status": payload.get("status")})

        if todo:
            if executor == "local":
                on_step = None
                if progress:
                    def on_step(spec, i):
                        if i == 0:
                            progress("start", spec, {})
                        progress("step", spec, {"step": i + 1, "steps": spec.steps})
                run_local(todo, ledger_path, opts, on_done, on_step)
            elif executor == "workers":
                run_workers(todo, ledger_path, opts, on_done, workers)
            else:
                run_ray(todo, led, opts, on_done, address=ray_address,
                        num_cpus=workers if workers and workers > 1 else None)
        recs = {r["id"]: r for r in led.runs(ids=[s.run_id for s in specs])}
    runs = [run_row(recs[s.run_id]) for s in specs if s.run_id in recs]
    done = [r for r in runs if r["status"] == "ok" and r["loss"] is not None]
    if len(done) < len(specs):
        notes.append(f"{len(specs) - len(done)} of {len(specs)} runs have no finished record")
    plan_c = plan_flops or analysis.default_plan_flops(config.budgets_flops)
    fit2 = analysis.approach2(done, bootstrap=bootstrap, ci_level=ci_level, seed=config.seed, plan_flops=plan_c)
    fit3 = analysis.approach3(done, bootstrap=bootstrap3, ci_level=ci_level, seed=config.seed, plan_flops=plan_c)
    tot = analysis.totals(done)
    pfp = analysis.plan_footprint(fit2.get("plan"), tot, usd_per_kwh=opts.get("usd_per_kwh"))
    result = SweepResult(sweep_id=sweep_id, config=config, specs=specs, runs=runs, executed=executed,
                         skipped=skipped, fit2=fit2, fit3=fit3, plan_flops=plan_c, totals=tot, plan_footprint=pfp,
                         corpus=corpus.describe(), executor=executor, wall_s=time.perf_counter() - t0, notes=notes)
    if out_dir is not None:
        write_outputs(result, Path(out_dir), plot=plot)
    return result


def write_runs_csv(runs: list[dict], path: Path) -> Path:
    """The sweep's runs (run_row dicts) as CSV; `wattwise scaling fit` reads it as it is (scaling.io)."""
    import csv

    cols = list(runs[0]) if runs else ["key"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(runs)
    return path


def write_outputs(result: SweepResult, out: Path, plot: bool = True) -> None:
    """sweep.json, runs.csv and (with matplotlib) isoflop.png in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    p = write_runs_csv(result.runs, out / "runs.csv")
    result.files["runs_csv"] = str(p)
    if plot:
        try:
            from .plot import plot_isoflop
            result.files["plot"] = str(plot_isoflop(result, out / "isoflop.png"))
        except ImportError as e:  # MissingExtraError is an ImportError
            result.notes.append(f"no plot: {e}")
    p = out / "sweep.json"
    result.files["json"] = str(p)

    def clean(o):
        if isinstance(o, float) and not math.isfinite(o):
            return None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        return o
    p.write_text(json.dumps(clean(result.to_dict()), indent=2, default=str))
