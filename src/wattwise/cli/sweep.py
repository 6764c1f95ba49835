"""`wattwise scaling sweep`: train an IsoFLOP grid, track every run into the ledger, fit and plan (Hoffmann et al.
2022, Approach 2; Approach 3 beside). Mounted by the scaling sub-app: `scaling_app.command("sweep")(sweep_command)`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from .._checks import check_number
from ..errors import ContradictoryInputError, InvalidValueError, UnknownNameError, closest
from .. import display as fmt
from ._output import console, print_json

LEVELS = ("char", "byte")  # wattwise.scaling.sweep.data.LEVELS (not imported: it loads numpy)


def _budgets(text: Optional[str]) -> Optional[tuple[float, ...]]:
    if text is None:
        return None
    vals = tuple(fmt.parse_quantity("budgets", t) for t in text.split(",") if t.strip())
    if not vals:
        raise InvalidValueError(f"--budgets must list FLOPs separated by commas, e.g. 1e13,3e13,1e14; got {text!r}")
    for v in vals:
        if v <= 0:
            raise InvalidValueError(f"--budgets must be FLOPs > 0, e.g. 1e13,3e13,1e14; got {v:g} in {text!r}")
    return vals


def _ci(d: dict, key: str) -> str:
    v = d.get(key)
    if v is None:
        return "-"
    lo_hi = d.get("ci", {}).get(key)
    return f"{v:.3f}" + (f" [{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]" if lo_hi else "")


def sweep_command(
        budgets: Annotated[Optional[str], typer.Option("--budgets", help="Compute budgets in FLOPs, comma-separated, "
                                                       "e.g. 1e13,3e13,1e14.")] = None,
        sizes_per_budget: Annotated[int, typer.Option("--sizes-per-budget", min=1,
                                                      help="Model sizes per budget.")] = 5,
        data: Annotated[Optional[str], typer.Option("--data", help="Text file or folder (default: CPython's "
                                                    "pydoc_data.topics).")] = None,
        level: Annotated[str, typer.Option("--level", help="Tokens: char or byte.")] = "char",
        workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="Parallel worker processes.")] = None,
        ray: Annotated[bool, typer.Option("--ray", help="Run each run as a Ray task: a local cluster, or the one at "
                                          "--ray-address (needs wattwise[ray]).")] = False,
        ray_address: Annotated[Optional[str], typer.Option("--ray-address", metavar="ADDRESS",
                                                           help="Ray cluster to submit to (implies --ray).")] = None,
        out: Annotated[Optional[str], typer.Option(
            "--out", help="Folder for sweep.json, runs.csv, isoflop.png (created if missing; checked writable before "
                          "any run). Read runs.csv back with `wattwise scaling fit OUT/runs.csv`.")] = None,
        quick: Annotated[bool, typer.Option("--quick", help="A tiny sweep (9 runs, about a minute on 2 cores).")] = False,
        ledger: Annotated[Optional[str], typer.Option("--ledger", help="Ledger file (default ~/.wattwise/ledger.db).")] = None,
        plan_budget: Annotated[Optional[str], typer.Option("--plan-budget", help="Budget to plan for (default 10x "
                                                           "the largest).")] = None,
        spread: Annotated[float, typer.Option("--spread", help="Largest / smallest model within a budget.")] = 16.0,
        tokens_per_param: Annotated[float, typer.Option("--center-tokens-per-param", help="Prior D/N at the centre "
                                                        "of each slice.")] = 20.0,
        seq_len: Annotated[int, typer.Option("--seq-len", min=2)] = 64,
        batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 16,
        seed: Annotated[int, typer.Option("--seed", min=0, help="Data split, batch order and initialisation.")] = 0,
        sweep_id: Annotated[Optional[str], typer.Option("--sweep-id", help="Name the sweep (default: a hash of its "
                                                        "settings, so the same command resumes).")] = None,
        bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, help="Approach 2 bootstrap resamples.")] = 1000,
        region: Annotated[Optional[str], typer.Option("--region", help="Grid zone for CO2e. A resumed sweep keeps "
                                                      "the region it was started with: without --region its "
                                                      "remaining runs take it, a different --region is refused "
                                                      "(start a new sweep with --sweep-id).")] = None,
        usd_per_kwh: Annotated[Optional[float], typer.Option("--usd-per-kwh", help="Electricity price (>= 0).")] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
) -> None:
    """Train an IsoFLOP grid, record every run in the ledger, fit a and b, plan a larger budget.

    Every option, the --data text, the --out folder and the ledger are checked before the first run starts."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..scaling.sweep.planner import SweepConfig
    from ..scaling.sweep.runner import preflight, quick_config, run_sweep

    use_ray = ray or ray_address is not None
    if workers is not None and use_ray:
        raise ContradictoryInputError("give --workers N or --ray [--ray-address ADDRESS], not both")
    b = _budgets(budgets)
    if level not in LEVELS:
        raise UnknownNameError("--level", level, closest(level, LEVELS), accepted=LEVELS)
    check_number("--spread", spread)
    if spread < 1:
        raise InvalidValueError(f"--spread must be >= 1 (largest / smallest model within a budget), got {spread!r}")
    check_number("--center-tokens-per-param", tokens_per_param)
    if quick:
        config = quick_config(budgets_flops=b, data=data, level=level, seed=seed, sweep_id=sweep_id)
    else:
        if b is None:
            raise InvalidValueError("--budgets is required (or use --quick), e.g. --budgets 1e11,3e11,1e12")
        config = SweepConfig(budgets_flops=b, sizes_per_budget=sizes_per_budget, data=data, level=level, seed=seed,
                             spread=spread, center_tokens_per_param=tokens_per_param, seq_len=seq_len,
                             batch_size=batch_size, sweep_id=sweep_id)
    executor = "ray" if use_ray else "workers" if workers and workers > 1 else "local"
    opts = {k: v for k, v in (("region", region), ("usd_per_kwh", usd_per_kwh)) if v is not None}
    plan_c = fmt.parse_quantity("plan-budget", plan_budget)
    if plan_c is not None:
        check_number("--plan-budget", plan_c)
    if usd_per_kwh is not None:
        check_number("--usd-per-kwh", usd_per_kwh, allow_zero=True)

    # before the progress display starts and before any run: output folder, ledger, region, then the text
    preflight(ledger=ledger, out_dir=out, tracker_opts=opts)
    from ..scaling.sweep.data import cached_corpus

    cached_corpus(config.data, config.level, config.heldout_fraction, config.seed)  # memoised: run_sweep reuses it

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, disable=json_out, transient=False)
    tasks: dict[str, int] = {}
    overall = {"id": None}

    def on_event(event, spec, info):
        if overall["id"] is None:  # the display starts with the first run: an error before it prints nothing
            progress.start()
            overall["id"] = progress.add_task("[bold]sweep", total=None)
        if event == "skip":
            if not json_out:
                progress.console.print(f"  skip {spec.key} (finished earlier, loss {info.get('loss', float('nan')):.4f})")
            return
        if event == "plan":
            tasks[spec.key] = progress.add_task(f"  {spec.key} N={fmt.count(spec.params)}", total=spec.steps)
            progress.update(overall["id"], total=len(tasks))
        elif event == "step":
            progress.update(tasks[spec.key], completed=info["step"])
        elif event == "done":
            loss = info.get("loss")
            progress.update(tasks[spec.key], completed=spec.steps,
                            description=f"  {spec.key} N={fmt.count(spec.params)} loss {loss:.4f}")
            progress.advance(overall["id"])

    try:
        res = run_sweep(config, ledger=ledger, executor=executor, workers=workers or 1,
                        ray_address=ray_address, out_dir=out, plan_flops=plan_c,
                        bootstrap=bootstrap, tracker_opts=opts, progress=on_event)
    finally:
        if overall["id"] is not None:
            progress.stop()
    if json_out:
        print_json(res.to_dict())
        return
    _print_summary(res)


def _print_summary(res) -> None:
    t = Table(title=f"Sweep {res.sweep_id}: {len(res.executed)} run now, {len(res.skipped)} skipped (finished earlier)",
              title_justify="left")
    for col in ("budget", "d_model x layers", "N", "tokens", "loss", "wall-clock", "energy"):
        t.add_column(col, justify="right")
    minima = {m["flops"]: m for m in res.fit2.get("minima", [])}
    for r in res.runs:
        best = minima.get(r["budget_flops"], {}).get("best_observed_params") == r["params"]
        t.add_row(fmt.flops(r["budget_flops"]), f"{r['d_model']} x {r['n_layers']}", fmt.count(r["params"]),
                  fmt.count(r["tokens"]), ("[bold]" if best else "") + (f"{r['loss']:.4f}" if r["loss"] is not None else "-"),
                  fmt.duration(r["duration_s"]) if r["duration_s"] else "-",
                  fmt.energy(r["energy_kwh"]) if r["energy_kwh"] else "-")
    console.print(t)
    m = Table(title="IsoFLOP minima (parabola in log N per budget)", title_justify="left")
    for col in ("budget", "N*", "D*", "loss*", "inside sizes tried"):
        m.add_column(col, justify="right")
    for v in res.fit2.get("minima", []):
        m.add_row(fmt.flops(v["flops"]), fmt.count(v["params"]), fmt.count(v["tokens"]), f"{v['loss']:.4f}",
                  "yes" if v["interior"] else "[red]no")
    console.print(m)
    f = Table(title=f"Fitted exponents ({int(res.fit2.get('ci_level', 0.9) * 100)}% intervals) vs Chinchilla ~0.5",
              title_justify="left")
    for col in ("method", "a (N* ~ C^a)", "b (D* ~ C^b)", "Hoffmann et al. 2022, Table 2"):
        f.add_column(col)
    f.add_row("Approach 2 (IsoFLOP)", _ci(res.fit2, "a"), _ci(res.fit2, "b"), "a 0.49, b 0.51")
    f.add_row("Approach 3 (parametric)", _ci(res.fit3, "a"), _ci(res.fit3, "b"), "a 0.46, b 0.54")
    console.print(f)
    plan = res.fit2.get("plan")
    tot, pfp = res.totals, res.plan_footprint
    p = Table(title="The sweep's own footprint next to the plan it recommends", title_justify="left")
    p.add_column("")
    p.add_column("sweep (measured)", justify="right")
    p.add_column(f"plan {fmt.flops(res.plan_flops)} (extrapolated)", justify="right")
    if plan:
        lo_hi = res.fit2.get("ci", {}).get("plan_params")
        p.add_row("params", "", fmt.count(plan["params"]) + (f" [{fmt.count(lo_hi[0])}, {fmt.count(lo_hi[1])}]" if lo_hi else ""))
        p.add_row("tokens", "", fmt.count(plan["tokens"]))
    p.add_row("compute", fmt.flops(tot.flops) if tot.flops else "-", fmt.flops(res.plan_flops))
    for k, f_ in (("duration_s", fmt.duration), ("energy_kwh", fmt.energy), ("co2e_kg", fmt.co2e),
                  ("cost_usd", fmt.usd)):
        mine, planned = getattr(tot, k), (getattr(pfp, k) if pfp is not None else None)
        p.add_row(fmt.LABEL[k], f_(mine) if mine is not None else "-",
                  f_(planned) if planned is not None else "-")
    console.print(p)
    for n in res.fit2.get("notes", []) + res.fit3.get("notes", []) + res.notes:
        console.print(f"[yellow]note:[/yellow] {n}")
    for k, v in res.files.items():
        console.print(f"{k}: {v}")
