"""Mixture-of-experts accounting: total vs active parameters, FLOPs and memory of a MoE model.

Each token runs top_k of the E experts of a MoE layer, so compute follows the active parameters while memory
holds them all (Shazeer et al. 2017, "Outrageously Large Neural Networks"; Fedus et al. 2022, Switch Transformer,
section 2). Comparing a dense and a MoE variant fairly means showing both numbers.

FLOPs are counted (`wattwise.count_flops`) on the real routing of the example inputs: the counted forward pass
is the active compute; "all experts" adds what the routed experts would cost if every token visited all E.
A MoE layer is a module with an `experts` ModuleList and an int `top_k` (or `num_experts_per_tok`, Hugging Face).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import InvalidValueError
from ._deps import require_torch


@dataclass
class MoEAccount:
    """Parameters, FLOPs per token and parameter memory of a MoE model, total and active (per token)."""

    total_params: int
    active_params: float              # non-expert params + top_k / E of each layer's expert params
    expert_params: int
    moe_layers: dict[str, tuple[int, int]] = field(default_factory=dict)   # layer -> (experts, top_k)
    tokens: int = 0
    flops_per_token_active: float | None = None          # counted on the real routing
    flops_per_token_all_experts: float | None = None     # had every token visited every expert
    memory_bytes_total: int = 0                          # parameter memory: every expert stays resident
    memory_bytes_active: float = 0.0                     # parameter bytes touched per token
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def active_fraction(self) -> float:
        return self.active_params / self.total_params if self.total_params else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["active_fraction"] = self.active_fraction
        return d


def _top_k(mod) -> int | None:
    for attr in ("top_k", "num_experts_per_tok", "k"):
        v = getattr(mod, attr, None)
        if isinstance(v, int):
            return v
    return None


def moe_accounting(model, example_inputs=None, *, tokens: int | None = None) -> MoEAccount:
    """Account a MoE model; with `example_inputs` also count FLOPs per token (tokens = numel of the first integer
    input, e.g. batch x seq of token ids, unless `tokens` is given)."""
    torch = require_torch()
    layers = {n: m for n, m in model.named_modules()
              if isinstance(getattr(m, "experts", None), torch.nn.ModuleList) and _top_k(m) is not None}
    if not layers:
        raise InvalidValueError("no mixture-of-experts layer found (a module with an `experts` ModuleList and an "
                                "int `top_k` or `num_experts_per_tok`)")
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    mem_total = sum(p.numel() * p.element_size() for p in params)
    expert_params = 0
    active = float(total)
    mem_active = float(mem_total)
    moe_layers = {}
    for name, layer in layers.items():
        E, k = len(layer.experts), _top_k(layer)
        if not 0 < k <= E:
            raise InvalidValueError(f"{name}: top_k={k} must be in 1..{E} (the number of experts)")
        ps = [p for p in layer.experts.parameters()]
        n = sum(p.numel() for p in ps)
        b = sum(p.numel() * p.element_size() for p in ps)
        expert_params += n
        active -= n * (1 - k / E)
        mem_active -= b * (1 - k / E)
        moe_layers[name] = (E, k)
    acc = MoEAccount(total_params=total, active_params=active, expert_params=expert_params, moe_layers=moe_layers,
                     memory_bytes_total=mem_total, memory_bytes_active=mem_active)
    if example_inputs is None:
        acc.notes["flops"] = "no example inputs: FLOPs not counted"
        return acc
    inputs = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    if tokens is None:
        ints = [x for x in inputs if isinstance(x, torch.Tensor) and not x.is_floating_point()]
        src = ints[0] if ints else inputs[0]
        tokens = int(src.numel()) if ints else int(src.numel() // src.shape[-1])
    acc.tokens = tokens
    try:
        from .. import flops as _flops
        with torch.no_grad():
            count = _flops.count_flops(model, *inputs)
    except Exception as e:
        acc.notes["flops"] = f"FLOP counting failed: {type(e).__name__}: {e}"
        return acc
    mods = count.modules()
    root = mods[0][0]
    by_name = {n: f["forward"] for n, _, f in mods}
    extra = 0.0
    for name, layer in layers.items():
        E, k = moe_layers[name]
        routed = by_name.get(f"{root}.{name}.experts", 0)
        extra += routed * (E / k - 1)
    acc.flops_per_token_active = count.forward / tokens
    acc.flops_per_token_all_experts = (count.forward + extra) / tokens
    return acc
