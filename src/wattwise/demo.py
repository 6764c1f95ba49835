"""`wattwise demo`: the whole story on a fresh machine in a few minutes, nothing downloaded.

1. Estimate before training: the chapter's worked examples (7B on 1.4T tokens; a Chinchilla plan for 1e24 FLOPs
   and the price of a 4x larger model; the same job in Quebec and West Virginia).
2. Measure a real training run: an MLP teacher on scikit-learn's bundled digits (1,797 8x8 images), tracked into
   the demo's own ledger, with its training FLOPs counted and its FLOP utilisation shown.
3. Make it cheaper: a distilled student, a 50% structurally pruned model (distilled to recover), int8 and bf16
   quantized models, each measured (accuracy, size, FLOPs, latency, energy) and placed on the Pareto front.
4. Report: the Green AI efficiency card as HTML, Markdown and Hugging Face model-card YAML.

A second run reuses the ledger and its card covers every run so far.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import display as fmt

PROJECT = "wattwise-demo"
SEED = 0


@dataclass
class DemoResult:
    out_dir: Path
    ledger_path: Path
    teacher_run_id: str | None
    files: dict[str, Path] = field(default_factory=dict)
    variants: list[Any] = field(default_factory=list)
    frontier: list[str] = field(default_factory=list)
    verdict: str = ""


def run_demo(out_dir: str | Path = "wattwise-demo", *, quick: bool = False, region: str | None = None,
             console=None) -> DemoResult:
    """Run the four steps; files go to `out_dir` (the ledger is `out_dir/ledger.db`)."""
    from rich.console import Console
    from rich.rule import Rule

    from . import catalog
    from .files import check_output_dir
    console = console or Console(highlight=False)
    out = check_output_dir(out_dir, "demo output folder").resolve()   # inputs checked before any work
    if region is not None:
        catalog.zone(region)
    out.mkdir(parents=True, exist_ok=True)
    ledger_path = out / "ledger.db"
    t0 = time.perf_counter()
    console.print(Rule("[bold]wattwise demo: what ML work really costs, and how to make it cheaper[/bold]"))
    console.print(f"Files and ledger: [cyan]{out}[/cyan]{' (quick mode)' if quick else ''}\n")

    console.print(Rule("1. Estimate before training", align="left"))
    _estimates(console)

    console.print(Rule("2. Measure a real training run", align="left"))
    data = _digits()
    teacher, run_id = _train_teacher(data, ledger_path, quick=quick, region=region, console=console)

    console.print(Rule("3. Make it cheaper: distil, prune, quantize; measure; Pareto", align="left"))
    variants, frontier, verdict = _variants(teacher, data, ledger_path, quick=quick, region=region, console=console)

    console.print(Rule("4. Report", align="left"))
    files = _report(out, ledger_path, variants, console)
    console.print(f"\nDone in {time.perf_counter() - t0:.0f} s. Open [cyan]{files['html']}[/cyan] in a browser.")
    return DemoResult(out, ledger_path, run_id, files, variants, frontier, verdict)


# --- 1. estimates -------------------------------------------------------------------------------------------

def _estimates(console) -> None:
    from rich.table import Table

    from . import scaling
    from .estimator import estimate
    from .siting import where

    seven = estimate(params=7e9, tokens=1.4e12, flop_per_s=150e12)
    a100 = estimate(gpu="A100", duration_s=10 * 3600, mfu=0.5)
    t = Table(title="The chapter's worked examples", title_justify="left")
    t.add_column("Question")
    t.add_column("Answer", justify="right")
    t.add_row("7B parameters x 1.4T tokens: training FLOPs (C = 6ND)", fmt.flops(seven.flops))
    t.add_row("... at a sustained 150 TFLOP/s per GPU", fmt.gpu_hours(seven.gpu_hours))
    t.add_row("An A100 (312 TFLOP/s bf16) for 10 h at 50% utilisation", fmt.flops(a100.flops))
    console.print(t)

    budget = 1e24
    opt = scaling.plan(budget)
    off = scaling.check(4 * opt.params, opt.tokens / 4)
    t = Table(title=f"A budget of {fmt.flops(budget)} (Chinchilla law, {opt.law} constants)", title_justify="left")
    for col in ("Allocation", "Parameters", "Tokens", "Tokens/param", "Loss", "Compute wasted"):
        t.add_column(col, justify="left" if col == "Allocation" else "right")
    t.add_row("compute-optimal", fmt.count(opt.params), fmt.count(opt.tokens),
              f"{opt.tokens / opt.params:.1f}", f"{opt.loss:.3f}", "0%")
    t.add_row("4x larger model, 1/4 of the tokens", fmt.count(4 * opt.params), fmt.count(opt.tokens / 4),
              f"{opt.tokens / opt.params / 16:.2f}", f"{off['loss']:.3f}", f"{off['wasted_fraction']:.0%}")
    console.print(t)
    console.print(f"The larger model reaches a worse loss with the same compute: an optimal allocation would reach "
                  f"its loss with {off['efficiency']:.0%} of the budget.\n")

    rows = where(zones=["CA-QC", "US-WV"], params=7e9, tokens=1.4e12, gpu="H100-SXM", mfu=0.4)
    t = Table(title="The same 7B job on H100s at 40% MFU, by grid", title_justify="left")
    for col in ("Zone", "gCO2e/kWh (year, basis)", "Energy", "CO2e", "x best"):
        t.add_column(col, justify="left" if col == "Zone" else "right")
    for p in rows:
        t.add_row(f"{p.zone.zone_id} {p.zone.name}",
                  f"{p.zone.intensity_g_per_kwh:,.0f} ({p.zone.year}, {p.zone.basis})",
                  fmt.energy(p.footprint.energy_kwh), fmt.co2e(p.footprint.co2e_kg), f"{p.ratio_to_best:.1f}x")
    console.print(t)
    console.print("Location is a first-order decision: same energy, "
                  f"{rows[-1].ratio_to_best:.0f}x the carbon.\n")


# --- 2. a real, tracked training run ------------------------------------------------------------------------

@dataclass
class _Data:
    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any

    def loader(self, batch: int, shuffle: bool = True):
        import torch
        ds = torch.utils.data.TensorDataset(self.x_train, self.y_train)
        g = torch.Generator().manual_seed(SEED)
        return torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=shuffle, generator=g)


def _digits() -> _Data:
    import torch
    try:
        from sklearn.datasets import load_digits  # bundled with scikit-learn: no download
    except ImportError:
        from .errors import MissingExtraError
        raise MissingExtraError("scikit-learn", "demo") from None

    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.long)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(SEED))
    cut = int(0.8 * len(x))
    tr, te = perm[:cut], perm[cut:]
    return _Data(x[tr], y[tr], x[te], y[te])


def _mlp(hidden: int, depth: int = 2):
    import torch.nn as nn
    layers: list = []
    width = 64
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def _accuracy(model, data: _Data) -> float:
    import torch
    with torch.no_grad():
        return float((model(data.x_test).argmax(-1) == data.y_test).float().mean())


def _matmul_peak_flop_per_s(seconds: float = 0.3) -> float:
    """This CPU's fp32 matmul throughput (1024^3), the yardstick for FLOP utilisation where no datasheet peak is
    known (the catalog lists accelerators only)."""
    import torch
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    count, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        count += 1
    return 2 * n ** 3 * count / (time.perf_counter() - t0)


def _train_teacher(data: _Data, ledger_path: Path, *, quick: bool, region: str | None, console):
    import torch
    from rich.progress import Progress
    from rich.table import Table

    from .flops import count_flops
    from .tracker import Tracker

    torch.manual_seed(SEED)
    teacher = _mlp(256 if not quick else 128)
    opt = torch.optim.Adam(teacher.parameters(), lr=2e-3)
    batch, epochs = 64, (4 if quick else 25)
    xb, yb = data.x_train[:batch], data.y_train[:batch]
    counted = count_flops(teacher, xb, train_step=True, optimizer=opt,
                          loss_fn=lambda out: torch.nn.functional.cross_entropy(out, yb))
    flops_per_sample = (counted.forward + counted.backward) / batch
    peak = _matmul_peak_flop_per_s()
    loader = data.loader(batch)
    samples = 0
    with Tracker("digits-mlp/teacher-training", project=PROJECT, tags=["demo", "train"], ledger=ledger_path,
                 region=region, interval_s=0.5, extra={"flops_method": "counted", "model": "digits-mlp"}) as tr:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("training the teacher", total=epochs)
            for _ in range(epochs):
                for x, y in loader:
                    loss = torch.nn.functional.cross_entropy(teacher(x), y)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    samples += len(x)
                    tr.step(flops=flops_per_sample * len(x) + counted.optimizer)
                progress.advance(task)
    teacher.eval()
    fp = tr.footprint
    acc = _accuracy(teacher, data)
    flops = flops_per_sample * samples + counted.optimizer * epochs * len(loader)
    duration = fp.duration_s if fp is not None and fp.duration_s else None
    t = Table(title="Teacher: MLP 64-256-256-10 on digits, tracked" if not quick else "Teacher (quick), tracked",
              title_justify="left")
    t.add_column("Measure")
    t.add_column("Value", justify="right")
    t.add_column("How", style="dim")
    t.add_row("Test accuracy", f"{acc:.1%}", f"{len(data.y_test)} held-out digits")
    t.add_row("Training FLOPs", fmt.flops(flops), "counted (forward + backward + Adam), wattwise.count_flops")
    if duration:
        achieved = flops / duration
        t.add_row("Wall-clock", fmt.duration(duration), "measured")
        t.add_row("Achieved FLOP/s", fmt.flop_rate(achieved), "counted FLOPs / wall-clock")
        t.add_row("FLOP utilisation", f"{achieved / peak:.1%}", f"of this CPU's fp32 matmul rate ({fmt.flop_rate(peak)}, "
                  "measured now): tiny layers leave most of it idle")
    if fp is not None:
        if fp.energy_kwh is not None:
            t.add_row("Energy (facility)", f"{fmt.energy(fp.energy_kwh)}",
                      f"{fmt.energy(fp.low.energy_kwh)} to {fmt.energy(fp.high.energy_kwh)}; CPU estimated (no RAPL "
                      "here)" if fp.low.energy_kwh != fp.high.energy_kwh else "measured")
        if fp.co2e_kg is not None:
            t.add_row("Carbon", fmt.co2e(fp.co2e_kg), f"zone {fp.zone or 'unknown: world average'}")
    console.print(t)
    console.print(f"Recorded in the ledger as run [cyan]{tr.run_id}[/cyan].\n")
    return teacher, tr.run_id


# --- 3. cheaper variants -----------------------------------------------------------------------------------

def _variants(teacher, data: _Data, ledger_path: Path, *, quick: bool, region: str | None, console):
    import copy

    import torch
    from rich.table import Table

    from .compress import distill, measure_variants, prune_structured, quantize
    from .pareto import dominators, pareto_front

    torch.manual_seed(SEED)
    epochs = 3 if quick else 15
    loader = data.loader(64)
    with console.status("distilling a student (MLP 64-32-10) from the teacher"):
        student = _mlp(32, depth=1)
        distill(teacher, student, loader, epochs=epochs, temperature=4.0, alpha=0.7, lr=1e-2, progress=False)
    with console.status("pruning 50% of the teacher's neurons, then distilling to recover"):
        pruned = prune_structured(copy.deepcopy(teacher), data.x_train[:8], 0.5, recover="distill", loader=loader,
                                  epochs=epochs, lr=3e-3).model
    with console.status("quantizing the teacher (int8 dynamic, bf16)"):
        variants = {"teacher": teacher, "student": student, "pruned-50%": pruned}
        notes = {}
        # torch's own dynamic int8 kernels: on a tiny MLP in eager mode they beat torchao's, which need compile
        for method, label in (("int8_dynamic_legacy", "int8"), ("bf16", "bf16")):
            try:
                variants[label] = quantize(copy.deepcopy(teacher), method, example_inputs=(data.x_test[:8],)).model
            except Exception as e:  # an unsupported variant is reported, not fatal
                notes[label] = str(e)
    for label, why in notes.items():
        console.print(f"[yellow]{label} skipped:[/yellow] {why}")
    batch = data.x_test[:256]
    with console.status("measuring every variant: accuracy, size, FLOPs, latency, energy"):
        ms = measure_variants(variants, lambda m: _accuracy(m, data), (batch,), energy_min_s=0.3 if quick else 1.0,
                              repeats=5 if quick else 15, flops_models={"int8": teacher, "bf16": teacher},
                              group="digits-mlp", ledger=ledger_path,
                              tracker_kwargs={"project": PROJECT, "region": region, "interval_s": 0.25})
    axis = "energy" if all(m.energy_per_1000_kwh for m in ms) else "latency"
    front = pareto_front(ms, cost=axis)
    front_names = [m.name for m in front]
    beaten_by = dominators(ms, cost=axis)
    base = ms[0]
    t = Table(title=f"Variants (* = Pareto frontier, accuracy vs {axis}; latency per batch of {len(batch)})",
              title_justify="left")
    for col in ("", "Variant", "Acc.", "Size", "FLOPs/x", "Latency", "Energy/1k", "Beaten by"):
        t.add_column(col, justify="left" if col in ("", "Variant", "Beaten by") else "right")
    for m, beaters in zip(ms, beaten_by):
        beaten = ", ".join(ms[j].name for j in beaters)
        t.add_row("*" if m.name in front_names else "", m.name, f"{m.accuracy:.1%}", fmt.size(m.size_bytes),
                  fmt.si(m.flops_per_sample) if m.flops_per_sample else "n/a",
                  fmt.duration(m.latency_s) if m.latency_s else "n/a",
                  fmt.energy(m.energy_per_1000_kwh) if m.energy_per_1000_kwh else "n/a", beaten)
    console.print(t)
    verdict = _verdict(ms, front, base, axis)
    console.print(f"[bold]Verdict:[/bold] {verdict}\n")
    return ms, front_names, verdict


def _verdict(ms, front, base, axis: str) -> str:
    """Ship the cheapest frontier variant within one percentage point of the teacher's accuracy."""
    from .pareto import value_of, COST_AXES
    keys = COST_AXES[axis]
    ok = [m for m in front if m.accuracy is not None and base.accuracy is not None
          and m.accuracy >= base.accuracy - 0.01]
    if not ok:
        return (f"no variant stays within 1 point of the teacher's {base.accuracy:.1%}; keep the teacher, or "
                "train the variants longer.")
    pick = min(ok, key=lambda m: value_of(m, keys))
    if pick is base:
        return "the teacher itself is the cheapest model within 1 point of its accuracy: ship it."
    saving = 1 - value_of(pick, keys) / value_of(base, keys)
    return (f"ship '{pick.name}': {pick.accuracy:.1%} accuracy (teacher {base.accuracy:.1%}) at "
            f"{saving:.0%} less {axis} per inference and {base.size_bytes / pick.size_bytes:.1f}x smaller; it is on "
            "the Pareto frontier, so no variant is both at least as accurate and cheaper.")


# --- 4. report ---------------------------------------------------------------------------------------------

def _report(out: Path, ledger_path: Path, variants, console) -> dict[str, Path]:
    from .report import build_card, render

    card = build_card(project=PROJECT, ledger=str(ledger_path), variants=[m.to_dict() for m in variants],
                      cost_axis="energy",
                      title="wattwise demo: digits MLP, teacher and cheaper variants")
    files = {"html": out / "efficiency-card.html", "md": out / "efficiency-card.md",
             "modelcard": out / "model-card.md", "json": out / "efficiency-card.json"}
    for fmt_name, path in files.items():
        text = render(card, fmt_name)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # whole or absent
        console.print(f"  wrote [cyan]{path}[/cyan]")
    return files
