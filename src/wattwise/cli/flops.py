"""`wattwise flops`: count the FLOPs of a built-in architecture, a Hugging Face config.json or model folder, or
your own model; print the total, the forward/backward split, a per-module tree and the cross-check against the
literature.

Every user mistake raises a WattwiseError (one line, exit 2, nothing written); the user's own model raising is a
user mistake too, reported with what it was fed."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.tree import Tree

from .. import display
from ..errors import (ContradictoryInputError, InvalidValueError, MissingExtraError, MissingInputError,
                      UnknownNameError, WattwiseError, closest)
from ._output import console, print_json

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

MODEL_HELP = ("module:callable (imported from the working directory or PYTHONPATH) returning a torch.nn.Module, or "
              "(module, example_args). A bare module is fed token ids of --batch x --seq when --seq is given, else "
              "float inputs of --batch x --input-shape (default: the in_features of its first nn.Linear). When the "
              "callable returns its own inputs, --batch and --seq are passed to it if it takes `batch` / `seq` "
              "parameters; otherwise --batch repeats its first sample (the inputs' first dimension) and --seq is "
              "refused.")


def _si(x: float) -> str:
    return display.flops(x)


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:300]}" if text else type(e).__name__


def _load_factory(spec: str):
    if ":" not in spec or spec.startswith(":") or spec.endswith(":"):
        raise InvalidValueError(f"--model must be 'module:callable' (e.g. mypkg.models:make_model), got {spec!r}")
    mod_name, attr = spec.split(":", 1)
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    sys.dont_write_bytecode = True  # `wattwise flops` writes nothing, not even the user's __pycache__
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as e:
        raise InvalidValueError(f"--model {spec!r}: cannot import module {mod_name!r} ({e})") from None
    except Exception as e:  # noqa: BLE001 - the user's module failed at import
        raise InvalidValueError(f"--model {spec!r}: importing {mod_name!r} raised {_one_line(e)}") from None
    obj = mod
    for part in attr.split("."):
        if not hasattr(obj, part):
            public = [n for n in dir(obj) if not n.startswith("_")]
            raise UnknownNameError(f"callable in {mod_name}", attr, closest(part, public),
                                   accepted=[n for n in public if callable(getattr(obj, n, None))][:12])
        obj = getattr(obj, part)
    if not callable(obj):
        raise InvalidValueError(f"--model {spec!r}: {attr} is a {type(obj).__name__}, not a callable; give a "
                                "function or class that returns a torch.nn.Module or (module, example_args)")
    return obj


def _call_factory(spec: str, factory, batch: Optional[int], seq: Optional[int]):
    """Call the factory, passing batch/seq when it takes them. Returns (made, took_batch, took_seq)."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        sig = None
    kwargs, took_batch, took_seq = {}, False, False
    if sig is not None:
        params = sig.parameters
        for names, value, flag in ((("batch", "batch_size"), batch, "b"), (("seq", "seq_len", "seq_length"), seq, "s")):
            for n in names:
                if n in params and value is not None:
                    kwargs[n] = value
                    took_batch = took_batch or flag == "b"
                    took_seq = took_seq or flag == "s"
                    break
        required = [n for n, p in params.items() if p.default is inspect.Parameter.empty and n not in kwargs
                    and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if required:
            raise InvalidValueError(f"--model {spec!r} needs argument(s) {', '.join(required)}; wattwise calls it "
                                    "with no arguments (or batch=/seq= when it takes them): give defaults or a "
                                    "zero-argument factory")
    try:
        made = factory(**kwargs)
    except WattwiseError:
        raise
    except Exception as e:  # noqa: BLE001 - the user's factory failed
        raise InvalidValueError(f"--model {spec!r} raised {_one_line(e)} when called") from None
    return made, took_batch, took_seq


def _first_layer(module):
    import torch
    for m in module.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Embedding, torch.nn.modules.conv._ConvNd, torch.nn.RNNBase,
                          torch.nn.Bilinear)):
            return m
    return None


def _from_factory(spec: str, batch: Optional[int], seq: Optional[int], input_shape: Optional[str]):
    """(model, args, description of the inputs) from a user factory returning a module or (module, args)."""
    made, took_batch, took_seq = _call_factory(spec, _load_factory(spec), batch, seq)
    if "torch" not in sys.modules:  # nothing the factory made can be a torch module
        raise InvalidValueError(f"--model {spec!r} must return a torch.nn.Module or (module, example_args), "
                                f"got {type(made).__name__}")
    import torch
    if isinstance(made, tuple) and len(made) == 2 and isinstance(made[0], torch.nn.Module):
        model, args = made
        args = args if isinstance(args, tuple) else (args,)
        if input_shape is not None:
            raise ContradictoryInputError(f"--input-shape {input_shape}: --model {spec!r} returns its own example "
                                          "inputs; drop --input-shape or return only the module")
        if seq is not None and not took_seq:
            raise ContradictoryInputError(f"--seq {seq}: --model {spec!r} returns its own example inputs and takes "
                                          "no `seq` parameter; drop --seq or add a `seq` parameter to the factory")
        if batch is not None and not took_batch:
            args = _rebatch(spec, args, batch)
        return model, args, "its example inputs" + (f" (first sample x {batch})" if batch and not took_batch else "")
    if not isinstance(made, torch.nn.Module):
        raise InvalidValueError(f"--model {spec!r} must return a torch.nn.Module or (module, example_args), "
                                f"got {type(made).__name__}")
    b = 1 if batch is None else batch
    p = next(iter(made.parameters()), None)
    device = p.device if p is not None else "cpu"
    dtype = p.dtype if p is not None and p.is_floating_point() else torch.float32
    if seq is not None:
        if input_shape is not None:
            raise ContradictoryInputError("give --seq (token ids) or --input-shape (float inputs), not both")
        return made, (torch.zeros(b, seq, dtype=torch.long, device=device),), f"token ids {b} x {seq}"
    if input_shape is not None:
        shape = _parse_shape(input_shape)
    else:
        first = _first_layer(made)
        if isinstance(first, torch.nn.Linear):
            shape = (first.in_features,)
        elif isinstance(first, torch.nn.Embedding):
            raise MissingInputError(f"--model {spec!r} starts with an nn.Embedding: give --seq (token ids of "
                                    "--batch x --seq are fed)")
        else:
            what = type(first).__name__ if first is not None else "no nn.Linear"
            raise MissingInputError(f"--model {spec!r} returned a module ({what} first) whose input shape wattwise "
                                    "cannot infer: give --input-shape C,H,W (per sample), --seq for token ids, or "
                                    "return (module, example_args)")
    x = torch.randn(b, *shape, dtype=dtype, device=device) if device != torch.device("meta") else \
        torch.empty(b, *shape, dtype=dtype, device=device)
    return made, (x,), f"float inputs {' x '.join(map(str, (b, *shape)))}"


def _parse_shape(text: str) -> tuple[int, ...]:
    parts = [t.strip() for t in text.replace("x", ",").split(",")]
    dims = tuple(int(t) for t in parts) if parts and all(t.isdigit() for t in parts) else ()
    if not dims or any(d < 1 for d in dims):
        raise InvalidValueError(f"--input-shape must be positive integers separated by commas, per sample (e.g. "
                                f"3,224,224 or 128), got {text!r}")
    return dims


def _rebatch(spec, args, batch):
    import torch
    ts = [a for a in args if isinstance(a, torch.Tensor)]
    if not ts or any(t.dim() == 0 for t in ts) or len({t.shape[0] for t in ts}) != 1:
        raise ContradictoryInputError(f"--batch {batch}: the example inputs of --model {spec!r} have no common "
                                      "first (batch) dimension to resize; drop --batch or add a `batch` parameter "
                                      "to the factory")
    return tuple(a[:1].expand(batch, *a.shape[1:]).contiguous() if isinstance(a, torch.Tensor) else a
                 for a in args)


def _count_user_model(spec, model, args, train, inputs_desc):
    from ..flops import count_flops
    try:
        return count_flops(model, *args, train_step=train)
    except WattwiseError as e:
        raise InvalidValueError(f"--model {spec!r}: {e}") from None
    except Exception as e:  # noqa: BLE001 - the user's model failed on what it was fed
        raise InvalidValueError(f"--model {spec!r} failed on {inputs_desc}: {_one_line(e)}; feed what it expects "
                                "with --seq (token ids), --input-shape (floats) or by returning (module, "
                                "example_args)") from None


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
        console.print("[yellow]ops that may do multiply-accumulates but have no formula (not counted):[/yellow] "
                      + "; ".join(f"{k} x{v} {list(map(list, r.coverage_shapes.get(k, [])[:1]))}"
                                  for k, v in sorted(r.coverage.items())), highlight=False)
    else:
        console.print("[green]coverage: every op that can do multiply-accumulates has a formula[/green]")
    no_mac = sum(r.uncounted_no_mac.values())
    if no_mac:
        console.print(f"[dim]{display.count(no_mac)} calls of {len(r.uncounted_no_mac)} ops that do no "
                      "multiply-accumulates (predicates, index arithmetic...) not counted[/dim]")
    for note, n in sorted(r.notes.items()):
        console.print(f"[yellow]note:[/yellow] {note} (x{n})", highlight=False)
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
                                                      "its folder); the model is built on meta with transformers "
                                                      "and traced (decoders, BERT, T5, ViT, MoE).")] = None,
    hf: Annotated[Optional[Path], typer.Option("--hf", help="A local model folder holding config.json (weights "
                                               "are not read: FLOPs depend on the shapes only).")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help=MODEL_HELP)] = None,
    batch: Annotated[Optional[int], typer.Option("--batch", help="Sequences (images, samples) per batch; "
                                                 "default 1.")] = None,
    seq: Annotated[Optional[int], typer.Option("--seq", help="Tokens per sequence (default: the context, at most "
                                               "2048, for --arch / --hf); for --model, feeds token ids.")] = None,
    input_shape: Annotated[Optional[str], typer.Option("--input-shape", help="--model only: per-sample shape of a "
                                                       "float input, e.g. 3,224,224.")] = None,
    train: Annotated[bool, typer.Option("--train", help="Count a training step: forward + backward.")] = False,
    decode: Annotated[bool, typer.Option("--decode", help="--hf / --hf-config: count one decode step (one new "
                                         "token per sequence) attending to a KV cache of --context tokens.")]
    = False,
    context: Annotated[Optional[int], typer.Option("--context", help="With --decode: tokens already in the KV "
                                                   "cache (default --seq, else the model's context).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    depth: Annotated[int, typer.Option("--depth", help="Levels of the module tree to show.")] = 2,
) -> None:
    """Count FLOPs (2 per multiply-accumulate): total, forward/backward, per module, and the formula cross-check."""
    given = [n for n, v in (("--arch", arch), ("--hf-config", hf_config), ("--hf", hf), ("--model", model))
             if v is not None]
    if not given:
        raise MissingInputError("say what to count: --arch NAME, --hf MODEL_DIR, --hf-config PATH or --model "
                                "module:callable")
    if len(given) > 1:
        raise ContradictoryInputError(f"give only one of {', '.join(given)}")
    if batch is not None and batch < 1:
        raise InvalidValueError(f"--batch must be >= 1, got {batch}")
    if seq is not None and seq < 1:
        raise InvalidValueError(f"--seq must be >= 1, got {seq}")
    if context is not None and context < 1:
        raise InvalidValueError(f"--context must be >= 1, got {context}")
    if depth < 0:
        raise InvalidValueError(f"--depth must be >= 0, got {depth}")
    if context is not None and not decode:
        raise MissingInputError(f"--context {context} is the KV-cache length of a decode step: add --decode")
    if decode and train:
        raise ContradictoryInputError("--decode counts inference (one decode step); it cannot be combined with "
                                      "--train")
    if decode and (arch is not None or model is not None):
        raise InvalidValueError(f"--decode needs --hf or --hf-config (a transformers model with a KV cache), not "
                                f"{given[0]}")
    if input_shape is not None and model is None:
        raise InvalidValueError(f"--input-shape applies to --model only, not to {given[0]}")
    b = 1 if batch is None else batch

    from ..flops import get_shape

    if arch is not None:
        shape = get_shape(arch)  # UnknownNameError with did-you-mean before torch is imported
        _need_torch()
        from ..flops.arch import count_arch, cross_check
        s = shape.n_ctx if seq is None else seq
        r = count_arch(shape, batch=b, seq=s, train=train)
        rows = cross_check(shape, batch=b, seq=s, train=train, counted=r.total)
        _emit(r, rows, f"{shape.name}: batch {b} x seq {s}, "
                       f"{'training step (forward + backward)' if train else 'forward'}, traced on meta", depth,
              as_json, tokens=b * s)
        return

    if hf_config is not None or hf is not None:
        _count_hf_cli(hf_config, hf, b, seq, train, decode, context, as_json, depth)
        return

    if ":" not in model or model.startswith(":") or model.endswith(":"):
        raise InvalidValueError(f"--model must be 'module:callable' (e.g. mypkg.models:make_model), got {model!r}")
    if input_shape is not None:
        _parse_shape(input_shape)
    m, args, desc = _from_factory(model, batch, seq, input_shape)
    r = _count_user_model(model, m, args, train, desc)
    _emit(r, None, f"{model}: {'training step' if train else 'forward'} on {r.device}, {desc}", depth, as_json,
          tokens=b * seq if seq else None)


def _need_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        raise MissingExtraError("torch", "torch") from None


def _quiet_libraries():
    """transformers and torch warnings would add lines to stderr; the count reports what matters itself."""
    import logging
    import os
    import warnings
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    for name in ("transformers", "torchao", "torch", "torch._dynamo"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _count_hf_cli(hf_config, hf, batch, seq, train, decode, context, as_json, depth):
    from ..flops.hf import load_config
    if hf is not None:
        if not hf.is_dir():
            raise InvalidValueError(f"--hf {str(hf)!r} is not a folder; give a local model folder holding "
                                    "config.json (or use --hf-config for the file itself)")
        cfg = load_config(hf)
        label = str(hf)
    else:
        cfg = load_config(hf_config)
        label = str(hf_config)
    _quiet_libraries()
    from ..flops.hf_count import FALLBACK, count_hf
    r = count_hf(cfg, batch=batch, seq=seq, train=train, decode=decode, context=context)
    rows = None
    if r.mode != "decode" and not (cfg.get("is_encoder_decoder") or "image_size" in cfg):
        try:
            from ..flops.arch import cross_check
            from ..flops.hf import shape_from_config
            shape = shape_from_config(cfg)
            if "num_local_experts" not in cfg and "num_experts" not in cfg:
                rows = cross_check(shape, batch=batch, seq=r.inputs["input_ids"][1], train=train,
                                   counted=r.total_flops)
        except WattwiseError:
            rows = None
    if not r.traced:
        from rich.console import Console
        Console(stderr=True, highlight=False).print(f"[bold red]warning: {FALLBACK}:[/bold red] {r.fallback_reason}",
                                                    soft_wrap=True)
        if as_json:
            d = r.to_dict()
            d["cross_check"] = rows
            print_json(d)
            return
        console.print(f"[bold]{label}: formula estimate[/bold]  total {_si(r.total_flops)}, forward "
                      f"{_si(r.forward_flops)}, backward {_si(r.backward_flops)}")
        if rows:
            _print_cross_check(rows)
        return
    what = {"forward": "forward", "train": "training step (forward + backward)",
            "decode": f"decode step (1 token per sequence, KV cache of {r.context})"}[r.mode]
    inputs = ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in r.inputs.items())
    title = f"{label}: {r.model_class}, {what}, {inputs}, traced on meta"
    if as_json:
        d = r.to_dict(depth)
        if rows is not None:
            d["cross_check"] = rows
        print_json(d)
        return
    _print_count(r.count, title, depth)
    for p in r.patches:
        if p not in r.count.notes:
            console.print(f"[dim]patched: {p}[/dim]", highlight=False)
    if r.tokens:
        console.print(f"per token: {_si(r.flops_per_token)}")
    if rows is not None:
        _print_cross_check(rows)


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
