"""`wattwise scaling plan | fit | check`: compute-optimal allocation, fitting your runs, pricing an off-optimal choice."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from .._checks import check_number
from ..errors import InvalidValueError, MissingInputError, UnknownNameError, closest
from ..scaling.laws import LAWS, get_law
from .. import display as fmt
from ._output import console, print_json

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Scaling laws: plan a compute budget, fit your runs, check an allocation.")

LAW = Annotated[Optional[str], typer.Option("--law", help=f"Scaling law: {', '.join(LAWS)} (default besiroglu2024).")]
JSON = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]


def _num(name: str, text: Optional[str], required: bool = True, *, allow_zero: bool = False,
         what: str = "") -> Optional[float]:
    """--name as a finite number > 0 (>= 0 with allow_zero); MissingInputError when required and absent."""
    value = fmt.parse_quantity(name, text)
    if value is None:
        if required:
            raise MissingInputError(f"--{name} is required" + (f": {what}" if what else ""))
        return None
    return check_number(f"--{name}", value, allow_zero=allow_zero)


# ------------------------------------------------------------------------------------------------------------------
@app.command("plan")
def plan_command(
        budget: Annotated[Optional[str], typer.Option("--budget", help="Training compute in FLOPs, e.g. 1e24.")] = None,
        law: LAW = None,
        inference_tokens: Annotated[Optional[str], typer.Option(
            "--inference-tokens", help="Tokens to be served over the model's life (Sardana & Frankle 2023).")] = None,
        gpu: Annotated[Optional[str], typer.Option("--gpu", help="Accelerator for GPU-hours, energy, CO2e, $.")] = None,
        region: Annotated[Optional[str], typer.Option("--region", help="Grid zone for CO2e (with --gpu).")] = None,
        gpus: Annotated[int, typer.Option("--gpus", min=1, help="Number of accelerators (for wall-clock).")] = 1,
        mfu: Annotated[Optional[str], typer.Option("--mfu", help="Model FLOPs utilisation 0-1 (default: range).")] = None,
        json_out: JSON = False) -> None:
    """Compute-optimal params and tokens for a FLOP budget (and the inference-aware model, and the footprint)."""
    flops = _num("budget", budget, what="the training compute in FLOPs, e.g. --budget 1e24")
    law_obj = get_law(law)
    alloc = law_obj.optimal(flops)
    out = {"law": law_obj.name, "flops": alloc.flops, "params": alloc.params, "tokens": alloc.tokens,
           "tokens_per_param": alloc.tokens_per_param, "loss": alloc.loss}
    d_inf = _num("inference-tokens", inference_tokens, required=False, allow_zero=True)
    mfu_v = _num("mfu", mfu, required=False)
    inf = None
    if d_inf is not None:
        from ..scaling.inference import inference_optimal

        inf = inference_optimal(d_inf, flops=flops, law=law_obj)
        out["inference"] = {k: v for k, v in inf.to_dict().items() if k != "chinchilla"}
    fp = None
    if gpu is not None or region is not None:
        if gpu is None:
            raise MissingInputError("--region needs --gpu to turn FLOPs into GPU-hours, energy and CO2e")
        from ..estimator import estimate
        fp = estimate(flops=flops, gpu=gpu, gpus=gpus, region=region, mfu=mfu_v)
        out["footprint"] = fp.to_dict()
    if json_out:
        print_json(out)
        return
    t = Table(title=f"Compute-optimal plan for {fmt.flops(flops)} ({law_obj.name})", title_justify="left")
    t.add_column("")
    t.add_column("Value", justify="right", style="bold")
    t.add_row("Parameters", fmt.count(alloc.params))
    t.add_row("Training tokens", fmt.count(alloc.tokens))
    t.add_row("Tokens per parameter", f"{alloc.tokens_per_param:.1f}")
    t.add_row("Predicted loss", "n/a (rule without a loss model)" if alloc.loss is None else f"{alloc.loss:.4f}")
    console.print(t)
    console.print(f"[dim]{law_obj.source}. Caveat: {law_obj.caveat}[/dim]", soft_wrap=True)
    if inf is not None:
        t = Table(title=f"Inference-aware (Sardana & Frankle 2023), {fmt.count(inf.inference_tokens)} tokens served",
                  title_justify="left")
        for col in ("", "Chinchilla-optimal", "Inference-aware"):
            t.add_column(col, justify="right" if col else "left")
        t.add_row("Parameters", fmt.count(inf.chinchilla.params), fmt.count(inf.params))
        t.add_row("Training tokens", fmt.count(inf.chinchilla.tokens), fmt.count(inf.tokens))
        t.add_row("Lifetime FLOPs", fmt.flops(inf.chinchilla_total_flops), fmt.flops(inf.total_flops))
        console.print(t)
        console.print(f"Same loss ({inf.loss:.4f}); the smaller, longer-trained model saves "
                      f"[bold]{inf.saving_fraction:.1%}[/bold] of lifetime FLOPs.")
    if fp is not None:
        _print_footprint(fp)


def _print_footprint(fp) -> None:
    """The estimate command's footprint table when available, else a plain one."""
    import importlib

    for mod in (".estimate", ".estimator"):
        try:
            printer = getattr(importlib.import_module(mod, __package__), "print_footprint")
        except (ImportError, AttributeError):
            continue
        printer(fp, title="Training footprint of this plan")
        return
    t = Table(title="Training footprint of this plan", title_justify="left")
    t.add_column("Quantity")
    t.add_column("Central", justify="right", style="bold")
    for q in ("flops", "gpu_hours", "duration_s", "energy_kwh", "co2e_kg", "cost_usd"):
        v = getattr(fp, q, None)
        t.add_row(fmt.LABEL.get(q, q), "n/a" if v is None else fmt.FORMAT[q](v))
    console.print(t)


# ------------------------------------------------------------------------------------------------------------------
@app.command("check")
def check_command(
        params: Annotated[Optional[str], typer.Option("--params", help="Parameters N (e.g. 280B).")] = None,
        tokens: Annotated[Optional[str], typer.Option("--tokens", help="Training tokens D (e.g. 300B).")] = None,
        law: LAW = None, json_out: JSON = False) -> None:
    """How far (N, D) is from compute-optimal: efficiency, wasted compute, the optimal split of the same FLOPs."""
    if params is None or tokens is None:
        given, missing = ("--params", "--tokens") if tokens is None else ("--tokens", "--params")
        if params is None and tokens is None:
            raise MissingInputError("give both --params N and --tokens D, e.g. --params 70B --tokens 1.4T")
        raise MissingInputError(f"{missing} is required with {given}: check needs parameters N and training tokens "
                                "D, e.g. --params 70B --tokens 1.4T")
    n = _num("params", params)
    d = _num("tokens", tokens)
    res = get_law(law).check(n, d)
    if json_out:
        print_json(res)
        return
    t = Table(title=f"{fmt.count(n)} parameters on {fmt.count(d)} tokens = {fmt.flops(res['flops'])} ({res['law']})",
              title_justify="left")
    for col in ("", "Yours", "Optimal, same compute"):
        t.add_column(col, justify="right" if col else "left")
    t.add_row("Parameters", fmt.count(n), fmt.count(res["params"]))
    t.add_row("Training tokens", fmt.count(d), fmt.count(res["tokens"]))
    t.add_row("Tokens per parameter", f"{d / n:.1f}", f"{res['tokens_per_param']:.1f}")
    t.add_row("Predicted loss", f"{res['loss']:.4f}", f"{res['optimal_loss']:.4f}")
    console.print(t)
    console.print(f"Efficiency {res['efficiency']:.1%}: an optimal allocation reaches the same loss with "
                  f"{res['efficiency']:.1%} of the compute, so [bold]{res['wasted_fraction']:.1%}[/bold] is wasted.")


# ------------------------------------------------------------------------------------------------------------------
@app.command("fit")
def fit_command(
        runs: Annotated[Path, typer.Argument(help="CSV of training runs: columns N, D (or C) and loss; or the runs.csv "
                                             "of `wattwise scaling sweep` (read as params, tokens, loss; rows whose "
                                             "status is not ok are skipped). UTF-8.")],
        loss_fn: Annotated[str, typer.Option("--loss", help="Fitting loss: huber (default), ls or lad.")] = "huber",
        bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples for intervals.")] = 0,
        ci: Annotated[float, typer.Option("--ci", help="Confidence level of the intervals, in (0, 1).")] = 0.95,
        budget: Annotated[Optional[str], typer.Option(
            "--budget", help="FLOP budget for the optimal allocation and its tokens-per-parameter interval.")] = None,
        params_col: Annotated[Optional[str], typer.Option(
            "--params-col", help="Column of parameters N (default N; params in a sweep's runs.csv).")] = None,
        tokens_col: Annotated[Optional[str], typer.Option(
            "--tokens-col", help="Column of training tokens D (default D; tokens in a sweep's runs.csv).")] = None,
        loss_col: Annotated[Optional[str], typer.Option(
            "--loss-col", help="Column of final loss (default loss).")] = None,
        flops_col: Annotated[Optional[str], typer.Option(
            "--flops-col", help="Column of compute C, used when D is absent (default C).")] = None,
        seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed of the bootstrap.")] = 0,
        plot: Annotated[Optional[Path], typer.Option(
            "--plot", help="Write IsoFLOP curves + loss contours here (.png, .svg, .pdf...; its folder must exist; "
                           "needs the plot extra).")] = None,
        json_out: JSON = False) -> None:
    """Fit L = E + A/N^alpha + B/D^beta to your runs (Hoffmann's Approach 3 with Besiroglu et al.'s fixes).

    The columns are found by name: N, D (or C) and loss, or params, tokens and loss in the runs.csv that
    `wattwise scaling sweep --out DIR` writes (recognised by its header), so `wattwise scaling fit DIR/runs.csv`
    needs no options. Every input and the --plot path are checked before the fit starts."""
    import warnings

    from ..scaling.fit import LOSS_FUNCTIONS, ChinchillaFit, ScalingFitWarning
    from ..scaling.io import load_runs

    if loss_fn not in LOSS_FUNCTIONS:
        raise UnknownNameError("loss function", loss_fn, closest(loss_fn, LOSS_FUNCTIONS), accepted=LOSS_FUNCTIONS)
    if not (0.0 < ci < 1.0):  # NaN fails this too
        raise InvalidValueError(f"--ci must be a confidence level strictly between 0 and 1, e.g. 0.9, got {ci!r}")
    budget_flops = _num("budget", budget, required=False)
    if plot is not None:
        from ..scaling.plot import check_plot_path

        check_plot_path(plot)  # matplotlib, suffix and a writable folder: before the fit, not after it
    data, info = load_runs(runs, params_col=params_col, tokens_col=tokens_col, loss_col=loss_col,
                           flops_col=flops_col)
    from ..scaling._base import as_runs

    as_runs(**data)  # finite, > 0, same lengths, 5+ runs: before the progress bar starts

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                        TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    tasks: dict[str, int] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            label = "4,500-start grid" if stage == "grid" else "bootstrap resamples"
            tasks[stage] = progress.add_task(label, total=total)
        progress.update(tasks[stage], completed=done)

    est = ChinchillaFit(loss_fn, bootstrap=bootstrap, ci_level=ci, budget_flops=budget_flops, random_state=seed,
                        progress=report)
    with warnings.catch_warnings(record=True), progress:
        warnings.simplefilter("always", ScalingFitWarning)
        est.fit(**data)
    out = est.to_dict()
    out["input"] = {"file": str(runs), **info}
    if budget_flops is not None:
        opt = est.law_.optimal(budget_flops)
        out["optimal"] = {"flops": opt.flops, "params": opt.params, "tokens": opt.tokens,
                          "tokens_per_param": opt.tokens_per_param, "loss": opt.loss}
    if plot is not None:
        from ..scaling.plot import plot_fit

        plot_fit(est, **data, path=plot)
        out["plot"] = str(plot)
    if json_out:
        print_json(out)
        return
    t = Table(title=f"Chinchilla fit ({loss_fn}, {est.n_runs_} runs, {est.n_starts_:,} starts)", title_justify="left")
    t.add_column("")
    t.add_column("Estimate", justify="right", style="bold")
    if est.ci_:
        t.add_column(f"{ci:.0%} interval ({bootstrap} resamples)", justify="right")
    for k in ("E", "A", "B", "alpha", "beta", "a", "b"):
        v = getattr(est, k + "_")
        row = [k, f"{v:.4g}"]
        if est.ci_:
            lo, hi = est.ci_[k]
            row.append(f"{lo:.4g} - {hi:.4g}")
        t.add_row(*row)
    if est.ci_ and "tokens_per_param" in est.ci_:
        lo, hi = est.ci_["tokens_per_param"]
        t.add_row(f"tokens/param @ {budget_flops:.3g}", f"{out['optimal']['tokens_per_param']:.1f}",
                  f"{lo:.1f} - {hi:.1f}")
    console.print(t)
    if "optimal" in out:
        o = out["optimal"]
        console.print(f"At {fmt.flops(o['flops'])}: {fmt.count(o['params'])} parameters on {fmt.count(o['tokens'])} tokens.")
    for w in est.warnings_:
        console.print(f"[yellow]warning:[/yellow] {w}", soft_wrap=True)
    if info["skipped"]:
        console.print(f"[yellow]note:[/yellow] {len(info['skipped'])} unfinished run(s) of the sweep left out: "
                      + "; ".join(info["skipped"][:3]) + ("..." if len(info["skipped"]) > 3 else ""), soft_wrap=True)
    if plot is not None:
        console.print(f"Plot written to {plot}")


from .sweep import sweep_command  # noqa: E402  (its own module: the sweep's CLI is large)

app.command("sweep", help="Train an IsoFLOP grid on this machine (or Ray), track every run, fit a and b, plan a "
                          "larger budget.")(sweep_command)
