"""`wattwise flops`: count the FLOPs of a built-in architecture, a Hugging Face config.json or your own model;
print the total, the forward/backward split, a per-module tree and the cross-check against the literature."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.tree import Tree

from ..errors import ContradictoryInputError, InvalidValueError, MissingInputError, UnknownNameError, closest
from ._output import console, print_json

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def _si(x: float) -> str:
    for unit, scale in (("EFLOP", 1e18), ("PFLOP", 1e15), ("TFLOP", 1e12), ("GFLOP", 1e9), ("MFLOP", 1e6),
                        ("kFLOP", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:,.3f} {unit}"
    return f"{x:,.0f} FLOP"


def _load_factory(spec: str):
    if ":" not in spec:
        raise InvalidValueError(f"--model must be 'module:callable' (e.g. mypkg.models:make_model), got {spec!r}")
    mod_name, attr = spec.split(":", 1)
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as e:
        raise InvalidValueError(f"--model {spec!r}: cannot import module {mod_name!r} ({e})") from None
    if not hasattr(mod, attr):
        public = [n for n in dir(mod) if not n.startswith("_")]
        raise UnknownNameError(f"callable in {mod_name}", attr, closest(attr, public))
    return getattr(mod, attr)


def _from_factory(spec: str, batch: int, seq: Optional[int]):
    """(callable to count, args, label) from a user factory returning a module or (module, args)."""
    import torch

    made = _load_factory(spec)()
    if isinstance(made, tuple) and len(made) == 2 and isinstance(made[0], torch.nn.Module):
        model, args = made
        args = args if isinstance(args, tuple) else (args,)
        return model, args
    if not isinstance(made, torch.nn.Module):
        raise InvalidValueError(f"--model {spec!r} must return a torch.nn.Module or (module, example_args), "
                                f"got {type(made).__name__}")
    if seq is None:
        raise MissingInputError(f"--model {spec!r} returned a module without example inputs: give --seq (token ids "
                                "of shape batch x seq are fed) or return (module, example_args)")
    p = next(iter(made.parameters()), None)
    device = p.device if p is not None else "cpu"
    return made, (torch.zeros(batch, seq, dtype=torch.long, device=device),)


def _tree(node, depth: int, total: int) -> Tree:
    def label(n):
        pct = 100.0 * n.total / total if total else 0.0
        parts = [f"[bold]{n.name}[/bold]  {_si(n.total)} ({pct:.1f}%)"]
        if n.flops.get("backward"):
            parts.append(f"[dim]fwd {_si(n.flops['forward'])} · bwd {_si(n.flops['backward'])}[/dim]")
        return "  ".join(parts)

    root = Tree(label(node))

    def add(t, n, level):
        if level >= depth:
            return
        kids = list(n.children.values())
        # collapse runs of identical siblings (blocks.0 .. blocks.N-1) into one line
        i = 0
        while i < len(kids):
            j = i
            while (j + 1 < len(kids) and kids[j + 1].flops == kids[i].flops and kids[i].name.isdigit()
                   and kids[j + 1].name.isdigit()):
                j += 1
            sub = t.add(label(kids[i]) + (f"  [dim]x{j - i + 1} ({kids[i].name}..{kids[j].name})[/dim]"
                                          if j > i else ""))
            add(sub, kids[i], level + 1)
            i = j + 1

    add(root, node, 0)
    return root


def _print_count(r, title: str, depth: int) -> None:
    console.print(f"[bold]{title}[/bold]")
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(justify="left")
    t.add_column(justify="right")
    t.add_row("total", f"[bold]{_si(r.total)}[/bold]  ({r.total:,} FLOP)")
    t.add_row("forward", _si(r.forward))
    t.add_row("backward", _si(r.backward))
    if r.optimizer:
        t.add_row("optimizer step", _si(r.optimizer))
    for k, v in sorted(r.by_kind.items()):
        t.add_row(f"  of which {k}", f"{_si(v)} ({100.0 * v / r.total:.1f}%)" if r.total else _si(v))
    if r.attention_full:
        t.add_row("attention full / causal-effective",
                  f"{_si(r.attention_full)} / {_si(r.attention_causal_effective)}")
    t.add_row("elementwise (not in total)", _si(r.other))
    console.print(t)
    if r.coverage:
        console.print("[yellow]ops that did work but have no formula (not counted):[/yellow] "
                      + ", ".join(f"{k} x{v}" for k, v in sorted(r.coverage.items())))
    else:
        console.print("[green]coverage: every op that did work has a formula[/green]")
    console.print(_tree(r.tree, depth, r.total))


def _print_cross_check(rows) -> None:
    t = Table(title="Formula cross-check", title_justify="left")
    for c in ("method", "FLOPs", "gap", "source", "where the gap comes from"):
        t.add_column(c, justify="right" if c in ("FLOPs", "gap") else "left", overflow="fold")
    for r in rows:
        t.add_row(r["method"], _si(r["flops"]), f"{r['gap_pct']:+.2f}%", r["source"], r["where"])
    console.print(t)


@app.callback(invoke_without_command=True)
def flops(
    arch: Annotated[Optional[str], typer.Option("--arch", help="Built-in shape: gpt2, gpt2-medium, gpt2-large, "
                                                "gpt2-xl, llama-7b, llama-13b, llama-65b, llama-2-7b, llama-70b, "
                                                "llama-3-8b.")] = None,
    hf_config: Annotated[Optional[Path], typer.Option("--hf-config", help="A local Hugging Face config.json (or "
                                                      "its folder); built on meta when transformers is installed.")]
    = None,
    model: Annotated[Optional[str], typer.Option("--model", help="module:callable returning a torch module, or "
                                                 "(module, example_args).")] = None,
    batch: Annotated[int, typer.Option("--batch", help="Sequences per batch.")] = 1,
    seq: Annotated[Optional[int], typer.Option("--seq", help="Tokens per sequence (default: the context).")] = None,
    train: Annotated[bool, typer.Option("--train", help="Count a training step: forward + backward.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    depth: Annotated[int, typer.Option("--depth", help="Levels of the module tree to show.")] = 2,
) -> None:
    """Count FLOPs (2 per multiply-accumulate): total, forward/backward, per module, and the formula cross-check."""
    given = [n for n, v in (("--arch", arch), ("--hf-config", hf_config), ("--model", model)) if v is not None]
    if not given:
        raise MissingInputError("say what to count: --arch NAME, --hf-config PATH or --model module:callable")
    if len(given) > 1:
        raise ContradictoryInputError(f"give only one of {', '.join(given)}")
    if batch < 1:
        raise InvalidValueError(f"--batch must be >= 1, got {batch}")
    if seq is not None and seq < 1:
        raise InvalidValueError(f"--seq must be >= 1, got {seq}")
    if depth < 0:
        raise InvalidValueError(f"--depth must be >= 0, got {depth}")

    from ..flops import get_shape

    if arch is not None:
        shape = get_shape(arch)  # UnknownNameError with did-you-mean before torch is imported
        try:
            import torch  # noqa: F401
        except ImportError:
            from ..errors import MissingExtraError
            raise MissingExtraError("torch", "torch") from None
        from ..flops.arch import count_arch, cross_check
        s = shape.n_ctx if seq is None else seq
        r = count_arch(shape, batch=batch, seq=s, train=train)
        rows = cross_check(shape, batch=batch, seq=s, train=train, counted=r.total)
        _emit(r, rows, f"{shape.name}: batch {batch} x seq {s}, "
                       f"{'training step (forward + backward)' if train else 'forward'}, traced on meta", depth,
              as_json, tokens=batch * s)
        return

    if hf_config is not None:
        from ..flops.arch import cross_check
        from ..flops.hf import HFModelUnavailable, count_hf_config, load_config, \
            shape_from_config
        shape = shape_from_config(load_config(hf_config))
        s = min(shape.n_ctx, 2048) if seq is None else seq
        try:
            r = count_hf_config(hf_config, batch=batch, seq=s, train=train)
        except HFModelUnavailable as e:
            est = e.estimate
            rows = cross_check(shape, batch=batch, seq=s, train=train)
            if as_json:
                print_json({"counted": False, "note": str(e), "estimate": est, "cross_check": rows})
                return
            console.print(f"[yellow]note:[/yellow] {e}")
            console.print(f"[bold]{shape.name}: batch {batch} x seq {s}, formula estimate[/bold]  total "
                          f"{_si(est['total_flops'])}, forward {_si(est['forward_flops'])}, "
                          f"backward {_si(est['backward_flops'])}")
            _print_cross_check(rows)
            return
        rows = cross_check(shape, batch=batch, seq=s, train=train, counted=r.total)
        _emit(r, rows, f"{hf_config}: batch {batch} x seq {s}, traced on meta", depth, as_json, tokens=batch * s)
        return

    try:
        import torch  # noqa: F401
    except ImportError:
        from ..errors import MissingExtraError
        raise MissingExtraError("torch", "torch") from None
    from ..flops import count_flops
    m, args = _from_factory(model, batch, seq)
    r = count_flops(m, *args, train_step=train)
    _emit(r, None, f"{model}: {'training step' if train else 'forward'} on {r.device}", depth, as_json,
          tokens=batch * seq if seq else None)


def _emit(r, rows, title, depth, as_json, tokens=None) -> None:
    if as_json:
        d = r.to_dict(depth)
        if tokens:
            d["flops_per_token"] = r.per_token(tokens)
        if rows is not None:
            d["cross_check"] = rows
        print_json(d)
        return
    _print_count(r, title, depth)
    if tokens:
        console.print(f"per token: {_si(r.per_token(tokens))}")
    if rows is not None:
        _print_cross_check(rows)
