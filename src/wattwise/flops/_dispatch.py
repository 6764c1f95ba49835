"""The dispatcher side of counting: the TorchDispatchMode that applies a rule to every aten op and files its
FLOPs by phase, kind, op and module, and the meta-device routing of scaled-dot-product attention."""

from __future__ import annotations

from collections import defaultdict

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.module_tracker import ModuleTracker
from torch.utils.weak import WeakIdKeyDictionary

from .rules import (
    _MAC_FAST, _METADATA, _RULE_CACHE, _can_carry_macs, _numel_of_tensors, _rule_for, _sdpa_count, _shape_sig, aten,
)

_MAX_SHAPES = 4  # distinct argument-shape signatures kept per uncounted op

try:  # what torch._dynamo.disable does around a mode's __torch_dispatch__, done here with two C calls per op
    from torch._C._dynamo.eval_frame import (
        _FrameAction, _FrameExecStrategy, get_eval_frame_callback as _eval_frame_callback,
        set_code_exec_strategy as _set_code_exec_strategy, set_eval_frame as _set_eval_frame,
    )
    _DYNAMO_GUARD = True
except Exception:  # pragma: no cover - a torch without these: torch's own wrapping applies
    _DYNAMO_GUARD = False

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
        self.coverage_shapes: dict[str, list] = defaultdict(list)
        self.no_mac: dict[str, int] = defaultdict(int)
        self.notes: dict[str, int] = defaultdict(int)
        self.meta_scalars = False
        self.truth = WeakIdKeyDictionary()  # meta bool tensor -> the truth value it stands for
        self.modules: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(PHASES, 0))
        self.tracker: ModuleTracker | None = None

    def current_phase(self) -> str:
        if self.phase == "forward" and torch._C._current_graph_task_id() != -1:
            return "backward"
        return self.phase


def _record_uncounted(c: _Counter, name: str, func, args, kwargs) -> None:
    if _can_carry_macs(func, (args, kwargs)):
        c.coverage[name] += 1
        shapes = c.coverage_shapes[name]
        if len(shapes) < _MAX_SHAPES:
            sig = _shape_sig((args, kwargs))
            if sig not in shapes:
                shapes.append(sig)
    else:
        c.no_mac[name] += 1


_GROUPED_MM = {getattr(aten, n) for n in ("_grouped_mm", "grouped_mm") if hasattr(aten, n)}


def _meta_grouped_mm(func, args, kwargs):
    """aten._grouped_mm on meta: torch's meta kernel insists on bfloat16 (the CUDA kernel's limit) although the CPU
    kernel takes float32, so a float32 model could not be counted on meta. Other dtypes get their output shape
    here (same rules as the kernel); bfloat16 goes to torch's own meta kernel."""
    a, b = args[0], args[1]
    if a.dtype == torch.bfloat16 and b.dtype == torch.bfloat16:
        return func(*args, **kwargs)
    names = [x.name for x in func._schema.arguments]
    bound = dict(zip(names, args))
    bound.update(kwargs)
    offs = bound.get("offs")
    dtype = bound.get("out_dtype") or a.dtype
    if a.dim() == 2 and b.dim() == 3:
        shape = (a.shape[0], b.shape[-1])
    elif a.dim() == 3 and b.dim() == 3:
        shape = (a.shape[0], a.shape[1], b.shape[-1])
    elif a.dim() == 3 and b.dim() == 2:
        shape = (a.shape[1], b.shape[-1])
    else:
        shape = (offs.shape[0] if offs is not None else 1, a.shape[0], b.shape[-1])
    return torch.empty(shape, dtype=dtype, device="meta")


def _hop_names():
    try:
        from torch._higher_order_ops.flex_attention import flex_attention, flex_attention_backward
    except Exception:  # pragma: no cover - torch without flex attention
        return None, None
    return flex_attention, flex_attention_backward


_FLEX, _FLEX_BWD = _hop_names()
FLEX_NOTE = ("flex_attention: the score_mod / mask_mod arithmetic is not counted and block sparsity is not "
             "discounted (dense Q K^T and weights x V counted)")


# The hot path: a plan per OpOverload, keyed by id() (OpOverload.__hash__ is a Python method: a dict keyed by the
# op itself costs a Python call per lookup), made once and kept for every count without user rules.
_P_ZERO, _P_EW, _P_MAC, _P_SLOW = 0, 1, 2, 3
_PLANS: dict[int, tuple] = {}  # id(func) -> (func, code, ...), for counts without user rules
_META_SCALAR_PACKETS = {aten.all, aten.any, aten._local_scalar_dense, aten.is_nonzero}
_OpOverload = torch._ops.OpOverload
_graph_task_id = torch._C._current_graph_task_id


def _plan(func, user_rules) -> tuple:
    """What `_DispatchMode` does with `func`, decided once: (func, _P_ZERO, call) for ops without arithmetic,
    (func, _P_EW, call, ew) for elementwise ones, (func, _P_MAC, call, fn, names, op name, n, fast) for the
    other built-in rules (fast(args) -> flops when n positional arguments and no keyword ones come, or None), (func, _P_SLOW) for everything else (metadata queries, higher-order ops, user rules,
    ops without a rule, meta-device special cases), which takes `_DispatchMode._slow`, the general path."""
    if type(func) is not _OpOverload or func in _METADATA:
        return (func, _P_SLOW)
    packet = func._overloadpacket
    if packet in _META_SCALAR_PACKETS or packet in _GROUPED_MM or (user_rules and packet in user_rules):
        return (func, _P_SLOW)
    rule = _rule_for(func)
    call = func._op  # what OpOverload.__call__ calls, without its Python frame
    if rule.zero:
        return (func, _P_ZERO, call)
    if rule.unknown:
        return (func, _P_SLOW)
    if rule.ew is not None:
        return (func, _P_EW, call, rule.ew)
    fast = _MAC_FAST.get(packet)
    return (func, _P_MAC, call, rule.fn, rule.names, packet.__name__) + (fast if fast is not None else (None, None))


class _DispatchMode(TorchDispatchMode):
    """Applies to every aten op its rule: a user rule of `user_rules` ({OpOverloadPacket: _UserRule}, see
    registry.py) when there is one, else the built-in rule. Higher-order ops pass through here too
    (flex_attention is counted by formula; any other is run uncounted and listed in the coverage)."""

    supports_higher_order_operators = True

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch wraps a mode's __torch_dispatch__ in torch._dynamo.disable (two Python frames and six calls per
        # op); this mode leaves its frames to dynamo only where `_DYNAMO_GUARD` can keep dynamo out itself
        return not _DYNAMO_GUARD

    def __init__(self, counter: _Counter, user_rules: dict | None = None):
        super().__init__()
        self.c = counter
        self.user_rules = user_rules or {}
        self._plans = {} if self.user_rules else _PLANS

    def _hop(self, func, args, kwargs):
        c = self.c
        out = func(*args, **kwargs)  # this mode is popped: the HOP's own math is not traced
        if func is _FLEX or func is _FLEX_BWD:
            q, k, v = args[0], args[1], args[2]
            full, _ = _sdpa_count(q, k, v, False)
            if func is _FLEX_BWD:
                full *= 2
            phase = c.current_phase()
            c.phase_flops[phase] += full
            c.by_kind["attention"] += full
            c.by_op["flex_attention" + ("_backward" if func is _FLEX_BWD else "")] += full
            c.attn_full += full
            c.attn_eff += full
            c.notes[FLEX_NOTE] += 1
            if c.tracker is not None and full:
                for p in set(c.tracker.parents):
                    c.modules[p][phase] += full
        else:
            name = f"higher_order.{getattr(func, '_name', func)}"
            c.coverage[name] += 1
        return out

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if _DYNAMO_GUARD and _eval_frame_callback() is not None:  # under torch.compile: keep dynamo out
            return self._no_dynamo(func, types, args, kwargs)
        plan = self._plans.get(id(func))
        if plan is None or plan[0] is not func:
            plan = self._plans[id(func)] = _plan(func, self.user_rules)
        code = plan[1]
        if code == _P_ZERO:
            return plan[2](*args, **kwargs) if kwargs else plan[2](*args)
        if code == _P_SLOW:
            return self._slow(func, args, kwargs or {})
        out = plan[2](*args, **kwargs) if kwargs else plan[2](*args)
        c = self.c
        if code == _P_EW:
            flops = plan[3](args, kwargs, out)
            if c.phase != "optimizer":  # elementwise work outside the optimizer is tallied apart from the total
                c.other += flops
                return out
            self._add(func._overloadpacket.__name__, "elementwise", flops, 0, 0)
            return out
        if plan[7] is not None and not kwargs and len(args) >= plan[6]:  # mm, addmm, bmm
            kind, flops, a_full, a_eff = "matmul", plan[7](args), 0, 0
        else:
            bound = dict(zip(plan[4], args))
            if kwargs:
                bound.update(kwargs)
            kind, flops, a_full, a_eff = plan[3](bound, out)
        phase = c.phase
        if phase == "forward" and _graph_task_id() != -1:  # c.current_phase(), inlined
            phase = "backward"
        if kind == "elementwise" and phase != "optimizer":
            c.other += flops
            return out
        c.phase_flops[phase] += flops
        if phase == "optimizer":
            c.by_kind["optimizer"] += flops
        else:
            c.by_kind[kind] += flops - a_full
            if a_full:
                c.by_kind["attention"] += a_full
        c.by_op[plan[5]] += flops
        c.attn_full += a_full
        c.attn_eff += a_eff
        if flops and c.tracker is not None:
            modules = c.modules
            for p in c.tracker.parents:
                modules[p][phase] += flops
        return out

    def _no_dynamo(self, func, types, args, kwargs):
        prior = _set_eval_frame(None)
        try:
            return self.__torch_dispatch__(func, types, args, kwargs)
        finally:
            _set_eval_frame(prior)

    def _add(self, op_name: str, kind: str, flops: int, a_full: int, a_eff: int) -> None:
        """File `flops` of one op call by phase, kind, op and module (elementwise work in the optimizer too)."""
        c = self.c
        phase = c.current_phase()
        c.phase_flops[phase] += flops
        if phase == "optimizer":
            c.by_kind["optimizer"] += flops
        else:  # fused layers report their attention part apart from their projections
            c.by_kind[kind] += flops - a_full
            if a_full:
                c.by_kind["attention"] += a_full
        c.by_op[op_name] += flops
        c.attn_full += a_full
        c.attn_eff += a_eff
        if c.tracker is not None and flops:
            modules = c.modules
            for p in c.tracker.parents:
                modules[p][phase] += flops

    def _slow(self, func, args, kwargs):
        """The general path: metadata queries, higher-order ops, user rules, ops without a rule (decomposed when
        they can be, else run and listed in the coverage), meta scalars and meta grouped_mm."""
        if func in _METADATA:
            return NotImplemented
        if isinstance(func, torch._ops.HigherOrderOperator):
            return self._hop(func, args, kwargs)
        if self.c.meta_scalars:
            r = self._meta_scalar(func, args, kwargs)
            if r is not NotImplemented:
                return r
        rule = _RULE_CACHE.get(func) or _rule_for(func)
        user = self.user_rules.get(func._overloadpacket) if self.user_rules else None
        if user is None and rule.unknown:
            r = func.decompose(*args, **kwargs)  # CompositeImplicit ops: count their parts instead
            if r is not NotImplemented:
                return r
        if func._overloadpacket in _GROUPED_MM and args and getattr(args[0], "is_meta", False):
            out = _meta_grouped_mm(func, args, kwargs)
        else:
            out = func(*args, **kwargs)
        if user is None:
            if rule.zero:
                return out
            if rule.unknown:
                if _numel_of_tensors(out) or _numel_of_tensors(args):
                    _record_uncounted(self.c, str(func._overloadpacket), func, args, kwargs)
                return out
        bound = dict(zip(rule.names, args))
        if kwargs:
            bound.update(kwargs)
        kind, flops, a_full, a_eff = rule.fn(bound, out) if user is None else user(func, bound, out)
        if kind == "elementwise" and self.c.phase != "optimizer":
            self.c.other += flops
            return out
        self._add(func._overloadpacket.__name__, kind, flops, a_full, a_eff)
        return out

    def _meta_scalar(self, func, args, kwargs):
        """Data-dependent truth tests on meta tensors (`if mask.all():`), only when counting with
        `meta_truth=True` (count_hf does): a meta tensor has no values, so `bool(x.all())` reads True and
        `bool(x.any())` reads False, the answers for the inputs counted (no padding, no packed sequences, nothing
        out of range); any other `.item()` on a meta tensor raises as torch does."""
        packet = func._overloadpacket
        if packet in (aten.all, aten.any) and args and getattr(args[0], "is_meta", False):
            out = func(*args, **kwargs)
            self.c.truth[out] = packet is aten.all
            self.c.no_mac[str(packet)] += 1
            return out
        if packet in (aten._local_scalar_dense, aten.is_nonzero) and args and getattr(args[0], "is_meta", False):
            t = args[0]
            if t in self.c.truth and t.numel() == 1:
                self.c.notes["meta: data-dependent truth tests answered without values "
                             "(all() read True, any() read False)"] += 1
                return self.c.truth[t]
        return NotImplemented


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
    bias = None
    if attn_mask is not None and attn_mask.requires_grad:
        # a learned additive bias (T5's relative positions, ALiBi with trainable slopes): the fused kernel is not
        # differentiable in it, so it gets the bias detached and the bias's gradient is passed on as zeros
        # (its true gradient is the softmax backward, elementwise: no MACs, and meta tensors have no values)
        bias, attn_mask = attn_mask, attn_mask.detach()
    out, _ = aten._scaled_dot_product_flash_attention_for_cpu(query, key, value, dropout_p, is_causal,
                                                              attn_mask=attn_mask, scale=scale)
    if bias is not None:
        out = _BiasGrad.apply(out, bias)
    return out


class _BiasGrad(torch.autograd.Function):
    """Identity on `out` that makes `bias` part of the graph, with a zero (meta) gradient."""

    @staticmethod
    def forward(ctx, out, bias):
        ctx.bias_shape, ctx.bias_dtype = bias.shape, bias.dtype
        return out.view_as(out)

    @staticmethod
    def backward(ctx, grad):
        return grad, torch.zeros(ctx.bias_shape, dtype=ctx.bias_dtype, device=grad.device)


if _DYNAMO_GUARD:  # dynamo never compiles these two frames; _no_dynamo turns it off for everything they call
    for _fn in (_DispatchMode.__torch_dispatch__, _DispatchMode._no_dynamo):
        _set_code_exec_strategy(_fn.__code__, _FrameExecStrategy(_FrameAction.SKIP, _FrameAction.DEFAULT))
