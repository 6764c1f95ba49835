"""The dispatcher side of counting: the TorchDispatchMode that applies a rule to every aten op and files its
FLOPs by phase, kind, op and module, and the meta-device routing of scaled-dot-product attention."""

from __future__ import annotations

from collections import defaultdict

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.module_tracker import ModuleTracker

from .rules import _METADATA, _numel_of_tensors, _rule_for, aten

PHASES = ("forward", "backward", "optimizer")


class _Counter:
    def __init__(self):
        self.phase = "forward"
        self.phase_flops = dict.fromkeys(PHASES, 0)
        self.by_op: dict[str, int] = defaultdict(int)
        self.by_kind: dict[str, int] = defaultdict(int)
        self.other = 0
        self.attn_full = 0
        self.attn_eff = 0
        self.coverage: dict[str, int] = defaultdict(int)
        self.modules: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(PHASES, 0))
        self.tracker: ModuleTracker | None = None

    def current_phase(self) -> str:
        if self.phase == "forward" and torch._C._current_graph_task_id() != -1:
            return "backward"
        return self.phase


class _DispatchMode(TorchDispatchMode):
    """Applies to every aten op its rule: a user rule of `user_rules` ({OpOverloadPacket: _UserRule}, see
    registry.py) when there is one, else the built-in rule."""

    def __init__(self, counter: _Counter, user_rules: dict | None = None):
        super().__init__()
        self.c = counter
        self.user_rules = user_rules or {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _METADATA:
            return NotImplemented
        rule = _rule_for(func)
        user = self.user_rules.get(func._overloadpacket) if self.user_rules else None
        if user is None and rule.unknown:
            r = func.decompose(*args, **kwargs)  # CompositeImplicit ops: count their parts instead
            if r is not NotImplemented:
                return r
        out = func(*args, **kwargs)
        if user is None:
            if rule.zero:
                return out
            if rule.unknown:
                if _numel_of_tensors(out) or _numel_of_tensors(args):
                    self.c.coverage[str(func._overloadpacket)] += 1
                return out
        bound = dict(zip(rule.names, args))
        if kwargs:
            bound.update(kwargs)
        kind, flops, a_full, a_eff = rule.fn(bound, out) if user is None else user(func, bound, out)
        c = self.c
        phase = c.current_phase()
        if kind == "elementwise" and phase != "optimizer":
            c.other += flops
            return out
        c.phase_flops[phase] += flops
        if phase == "optimizer":
            c.by_kind["optimizer"] += flops
        else:  # fused layers report their attention part apart from their projections
            c.by_kind[kind] += flops - a_full
            if a_full:
                c.by_kind["attention"] += a_full
        c.by_op[func._overloadpacket.__name__] += flops
        c.attn_full += a_full
        c.attn_eff += a_eff
        if c.tracker is not None and flops:
            for p in set(c.tracker.parents):
                c.modules[p][phase] += flops
        return out


class _MetaSdpaMode(TorchFunctionMode):
    """On the meta device, route F.scaled_dot_product_attention to the same fused kernel (and formula) the CPU
    uses, instead of torch's math decomposition, so that the forward/backward split and the attention figures
    are identical across devices."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch._C._nn.scaled_dot_product_attention:
            routed = _route_meta_sdpa(*args, **kwargs)
            if routed is not None:
                return routed
        return func(*args, **kwargs)


class _PatchFunctionalSdpa:
    """Functions with their own torch-function override (F.multi_head_attention_forward) hide their inner calls
    from a TorchFunctionMode; they look `scaled_dot_product_attention` up in torch.nn.functional's globals, so
    that name is swapped for a meta-aware wrapper while counting, and restored after."""

    def __enter__(self):
        import torch.nn.functional as F
        self.F, self.orig = F, F.scaled_dot_product_attention
        orig = self.orig

        def sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
            routed = _route_meta_sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)
            if routed is not None:
                return routed
            return orig(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal,
                        scale=scale, enable_gqa=enable_gqa)

        F.scaled_dot_product_attention = sdpa
        return self

    def __exit__(self, *exc):
        self.F.scaled_dot_product_attention = self.orig


def _route_meta_sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                     enable_gqa=False):
    if not (query.is_meta and query.dim() == 4 and key.dim() == 4 and value.dim() == 4):
        return None
    if enable_gqa and key.shape[1] != query.shape[1]:
        rep = query.shape[1] // key.shape[1]
        key, value = key.repeat_interleave(rep, dim=1), value.repeat_interleave(rep, dim=1)
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        attn_mask = torch.zeros(attn_mask.shape, dtype=query.dtype, device=query.device)
    out, _ = aten._scaled_dot_product_flash_attention_for_cpu(query, key, value, dropout_p, is_causal,
                                                              attn_mask=attn_mask, scale=scale)
    return out
