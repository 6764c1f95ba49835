"""Pruning: unstructured (zero the smallest weights) and structured (physically remove channels, neurons, heads).

- Unstructured magnitude pruning (Han et al. 2015, "Learning both Weights and Connections for Efficient Neural
  Networks"): torch.nn.utils.prune, made permanent. Dense kernels still multiply the zeros, so expect no speedup
  without sparse kernels; `measure` shows it.
- Structured pruning through torch-pruning (Fang et al. 2023, "DepGraph: Towards Any Structural Pruning", CVPR):
  groups of coupled channels are removed together, so the pruned model is a smaller dense model and its FLOPs
  and latency fall. Importance: L2 norm of each group's weights (magnitude criterion, as in Li et al. 2017,
  "Pruning Filters for Efficient ConvNets", with p=2).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .._checks import check_number
from ..errors import InvalidValueError
from ._deps import require, require_torch
from .distill import TrainResult, distill, finetune

HF_QKV_NAMES = ("q_proj", "k_proj", "v_proj")  # Hugging Face attention naming (Llama, OPT, GPT-NeoX style)


@dataclass
class PruneResult:
    """A pruned model and what pruning did to it (parameters before/after, sparsity, heads)."""

    model: Any
    method: str                       # 'unstructured' or 'structured'
    amount: float                     # fraction of weights (unstructured) or of channels (structured) removed
    params_before: int
    params_after: int
    nonzero_params_after: int
    sparsity: float                   # fraction of zeros among the pruned layers' weights
    heads_before: dict[str, int] = field(default_factory=dict)
    heads_after: dict[str, int] = field(default_factory=dict)
    recovery: TrainResult | None = None
    note: str = ""

    @property
    def params_ratio(self) -> float:
        """params_before / params_after (> 1 when parameters were removed)."""
        return self.params_before / max(self.params_after, 1)


def count_params(model, *, nonzero: bool = False) -> int:
    """Number of parameters (or of non-zero parameter entries) of a torch module."""
    return sum(int((p != 0).sum()) if nonzero else p.numel() for p in model.parameters())


def _prunable(model, layer_types) -> list[tuple[str, Any]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, layer_types)
            and getattr(m, "weight", None) is not None]


def sparsity(model, layer_types=None) -> float:
    """Fraction of exactly-zero entries in the weights of Linear and Conv layers (or of `layer_types`)."""
    torch = require_torch()
    nn = torch.nn
    layer_types = layer_types or (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    total = zeros = 0
    for _, m in _prunable(model, layer_types):
        w = m.weight
        total += w.numel()
        zeros += int((w == 0).sum())
    return zeros / total if total else 0.0


def prune_unstructured(model, amount: float = 0.5, *, layer_types=None, global_pruning: bool = True,
                       inplace: bool = False) -> PruneResult:
    """Zero the `amount` fraction of smallest-magnitude weights of Linear/Conv layers (L1 magnitude; Han et al.
    2015), across all layers at once (`global_pruning`) or per layer, and make it permanent (masks removed)."""
    torch = require_torch()
    import torch.nn.utils.prune as P
    nn = torch.nn
    amount = check_number("amount", amount, upper=1.0)
    m = model if inplace else copy.deepcopy(model)
    layer_types = layer_types or (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    layers = _prunable(m, layer_types)
    if not layers:
        raise InvalidValueError(f"no layers of types {[t.__name__ for t in layer_types]} to prune in "
                                f"{type(model).__name__}")
    before = count_params(m)
    if global_pruning:
        P.global_unstructured([(mod, "weight") for _, mod in layers], pruning_method=P.L1Unstructured,
                              amount=amount)
    else:
        for _, mod in layers:
            P.l1_unstructured(mod, "weight", amount=amount)
    for _, mod in layers:
        P.remove(mod, "weight")       # permanent: weight is a plain Parameter again, masks and hooks are gone
    return PruneResult(model=m, method="unstructured", amount=amount, params_before=before,
                       params_after=count_params(m), nonzero_params_after=count_params(m, nonzero=True),
                       sparsity=sparsity(m, layer_types),
                       note="zeros stored densely: same size and, on dense kernels, no speedup (see measure)")


def _attention_heads(model, torch) -> tuple[dict, dict[str, Any]]:
    """num_heads for torch-pruning: nn.MultiheadAttention, and modules with an int `num_heads` whose children
    are named q_proj/k_proj/v_proj (Hugging Face convention). Returns ({layer: heads}, {name: attention module})."""
    num_heads, owners = {}, {}
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.MultiheadAttention):
            num_heads[mod] = mod.num_heads
            owners[name] = mod
        elif isinstance(getattr(mod, "num_heads", None), int) and all(
                isinstance(getattr(mod, q, None), torch.nn.Linear) for q in HF_QKV_NAMES):
            for q in HF_QKV_NAMES:
                num_heads[getattr(mod, q)] = mod.num_heads
            owners[name] = mod
    return num_heads, owners


def _resolve_ignored(model, ignored: Iterable[Any] | None) -> list[Any]:
    out = []
    names = dict(model.named_modules())
    for x in ignored or ():
        if isinstance(x, str):
            hits = [m for n, m in names.items() if n == x or n.endswith("." + x) or n.split(".")[-1] == x]
            if not hits:
                raise InvalidValueError(f"ignored layer {x!r} not found; module names include "
                                        f"{list(names)[1:8]}")
            out.extend(hits)
        else:
            out.append(x)
    return out


def _output_layer(model, example_inputs, torch) -> list[Any]:
    """The last Linear/Conv layer when its width equals the model output's last dimension (the classifier or
    LM head: pruning it would change what the model predicts)."""
    with torch.no_grad():
        out = model(*example_inputs)
    if isinstance(out, (tuple, list)):
        out = out[0]
    if not hasattr(out, "shape") or not len(out.shape):
        return []
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.Conv1d))]
    if not layers:
        return []
    last = layers[-1]
    width = getattr(last, "out_features", None) or getattr(last, "out_channels", None)
    dim = out.shape[-1] if isinstance(last, torch.nn.Linear) else out.shape[1] if len(out.shape) > 1 else None
    return [last] if width == dim else []


def prune_structured(model, example_inputs: Sequence[Any] | Any, ratio: float = 0.5, *,
                     head_ratio: float | None = None, ignored_layers: Iterable[Any] | None = None,
                     keep_output_layer: bool = True, round_to: int | None = None, inplace: bool = False,
                     recover: str | None = None, loader=None, epochs: int = 1, lr: float = 1e-3,
                     progress: bool = False, max_steps: int | None = None) -> PruneResult:
    """Remove `ratio` of the channels/neurons of every prunable group (torch-pruning, L2 group magnitude) and,
    in attention layers, `head_ratio` of the heads (default: `ratio` when attention is found). The model is
    physically smaller. `recover='finetune'` (labelled `loader`) or `'distill'` (the unpruned model as teacher;
    labels optional) trains afterwards to regain accuracy."""
    torch = require_torch()
    tp = require("torch_pruning")
    ratio = check_number("ratio", ratio, upper=0.99)
    if recover not in (None, "finetune", "distill"):
        raise InvalidValueError(f"recover must be None, 'finetune' or 'distill', got {recover!r}")
    if recover and loader is None:
        raise InvalidValueError(f"recover={recover!r} needs a data loader (loader=...)")
    if not isinstance(example_inputs, (tuple, list)):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    teacher = copy.deepcopy(model).eval() if recover == "distill" else None
    m = model if inplace else copy.deepcopy(model)
    m.eval()
    before = count_params(m)
    ignored = _resolve_ignored(m, ignored_layers)
    if keep_output_layer:
        ignored += [x for x in _output_layer(m, example_inputs, torch) if x not in ignored]
    num_heads, owners = _attention_heads(m, torch)
    heads_before = {n: int(a.num_heads) for n, a in owners.items()}
    kw: dict[str, Any] = {}
    if num_heads:
        hr = ratio if head_ratio is None else check_number("head_ratio", head_ratio, allow_zero=True, upper=0.99)
        kw = dict(num_heads=num_heads, prune_num_heads=hr > 0, prune_head_dims=False, head_pruning_ratio=hr)
    elif head_ratio:
        raise InvalidValueError("head_ratio given but no attention layer found (nn.MultiheadAttention, or a module "
                                "with int num_heads and q_proj/k_proj/v_proj Linear children)")
    pruner = tp.pruner.BasePruner(m, example_inputs=example_inputs if len(example_inputs) > 1 else example_inputs[0],
                                  importance=tp.importance.MagnitudeImportance(p=2), pruning_ratio=ratio,
                                  ignored_layers=ignored, round_to=round_to, **kw)
    pruner.step()
    # keep attention modules' bookkeeping in step with their pruned projections
    for name, attn in owners.items():
        if isinstance(attn, torch.nn.MultiheadAttention):
            continue  # torch-pruning updates nn.MultiheadAttention itself
        q = getattr(attn, "q_proj")
        h = int(pruner.num_heads.get(q, attn.num_heads))
        attn.num_heads = h
        if hasattr(attn, "head_dim"):
            attn.head_dim = q.out_features // h
        for attr in ("num_key_value_heads",):
            if isinstance(getattr(attn, attr, None), int):
                setattr(attn, attr, h)
    heads_after = {n: int(a.num_heads) for n, a in owners.items()}
    recovery = None
    if recover == "finetune":
        recovery = finetune(m, loader, epochs=epochs, lr=lr, progress=progress, max_steps=max_steps)
    elif recover == "distill":
        recovery = distill(teacher, m, loader, epochs=epochs, lr=lr, progress=progress, max_steps=max_steps)
    m.eval()
    after = count_params(m)
    return PruneResult(model=m, method="structured", amount=ratio, params_before=before, params_after=after,
                       nonzero_params_after=count_params(m, nonzero=True), sparsity=sparsity(m),
                       heads_before=heads_before, heads_after=heads_after, recovery=recovery,
                       note=f"{before - after} parameters physically removed")
