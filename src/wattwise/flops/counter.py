"""Traced FLOP counting of PyTorch code, built on torch's dispatcher (a TorchDispatchMode).

What is counted (`FlopCount.total = forward + backward + optimizer`):

* forward and backward: multiply-accumulate ops at 2 FLOPs per MAC: mm, addmm, bmm, baddbmm, mv, dot, conv
  (any stride, padding, dilation, groups, transposed), fused scaled-dot-product attention (every backend,
  counted full; causal-effective reported beside), and the fused inference kernels of
  `nn.TransformerEncoderLayer` / `nn.MultiheadAttention` that torch's `FlopCounterMode` counts as zero.
  These are "model FLOPs" (Chowdhery et al. 2022, App. B): an attention kernel's recomputation of Q K^T in
  its backward is not counted, so a model counts the same whichever kernel (math, flash, meta) runs it.
  Bias adds, norms, activations and softmax are tallied apart in `other` and not added to the total
  (Kaplan et al. 2020, section 2.1).
* optimizer: an optimizer step has no MACs; its elementwise arithmetic is counted (1 FLOP per element per
  arithmetic op; fused a*b+c forms count each operation).
* coverage: every op that did work, has no formula and may hide multiply-accumulates (a floating-point input,
  not a predicate, index or histogram op), with its call count and argument shapes; ops without a formula that
  cannot carry MACs (`all`, `histc`, `floor_divide`, integer arithmetic...) are summarised apart
  (`uncounted_no_mac`). Nothing is silently zero. `notes` says what a formula leaves out (flex_attention's
  score/mask mods) and what was assumed on meta.
* user rules: `register_flop_rule` (registry.py) gives a formula for an op with none or overrides a built-in
  one; `count_flops(..., rules={op: fn})` does so for one call.

Layout: the built-in rule table is in rules.py, the user rules in registry.py, the dispatch and function modes
in _dispatch.py; this module holds the result (`FlopCount`, `ModuleNode`) and `count_flops`.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any

import torch
from torch.utils._pytree import tree_flatten
from torch.utils.module_tracker import ModuleTracker

from ..errors import InvalidValueError
from . import formulas
# re-exported: the rule table and the modes lived here before they moved to rules.py and _dispatch.py
from ._dispatch import (  # noqa: F401
    PHASES, _Counter, _DispatchMode, _MetaSdpaMode, _PatchFunctionalSdpa, _route_meta_sdpa,
)
from .registry import (  # noqa: F401
    FlopRuleError, _active_rules, register_flop_rule, registered_flop_rules, unregister_flop_rule,
)
from .rules import (  # noqa: F401
    _EW_COST, _INPUT_SIZED, _MAC_RULES, _METADATA, _REDUCTIONS, _ZERO, MAC_KINDS, _Rule, _rule_for, aten,
)


# ----------------------------------------------------------------------------------------------------------
# Result
# ----------------------------------------------------------------------------------------------------------

@dataclass
class ModuleNode:
    """FLOPs of one module (its subtree included), per phase."""

    name: str
    flops: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PHASES, 0))
    children: dict[str, "ModuleNode"] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.flops.values())

    def to_dict(self, depth: int | None = None) -> dict:
        d = {"name": self.name, "total": self.total, **self.flops}
        if self.children and (depth is None or depth > 0):
            d["children"] = [c.to_dict(None if depth is None else depth - 1) for c in self.children.values()]
        return d


@dataclass
class FlopCount:
    """Result of `count_flops`. All counts are FLOPs (2 per multiply-accumulate), as ints."""

    forward: int
    backward: int
    optimizer: int
    by_op: dict[str, int]
    by_kind: dict[str, int]
    other: int
    attention_full: int
    attention_causal_effective: int
    coverage: dict[str, int]
    tree: ModuleNode
    device: str
    duration_s: float
    coverage_shapes: dict[str, list] = field(default_factory=dict)
    uncounted_no_mac: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.forward + self.backward + self.optimizer

    @property
    def matmul(self) -> int:
        """FLOPs in multiply-accumulate ops (matmul, conv, attention), forward + backward."""
        return sum(self.by_kind.get(k, 0) for k in MAC_KINDS)

    @property
    def attention(self) -> dict[str, int]:
        return {"full": self.attention_full, "causal_effective": self.attention_causal_effective}

    def per_sample(self, batch: int) -> float:
        """Total FLOPs per sample of a batch of `batch`."""
        return self.total / formulas._int("batch", batch)

    def per_token(self, tokens: int) -> float:
        """Total FLOPs per token when the counted work processed `tokens` tokens (batch x seq)."""
        return self.total / formulas._int("tokens", tokens)

    def modules(self, depth: int | None = None) -> list[tuple[str, int, dict[str, int]]]:
        """(qualified name, depth, flops per phase) of every module node up to `depth`, depth-first."""
        out = []

        def walk(node, prefix, level):
            name = f"{prefix}.{node.name}" if prefix else node.name
            out.append((name, level, dict(node.flops)))
            if depth is None or level < depth:
                for c in node.children.values():
                    walk(c, name, level + 1)

        walk(self.tree, "", 0)
        return out

    def to_dict(self, depth: int | None = None) -> dict[str, Any]:
        return {
            "total_flops": self.total, "forward_flops": self.forward, "backward_flops": self.backward,
            "optimizer_flops": self.optimizer, "matmul_flops": self.matmul,
            "other_flops_not_in_total": self.other, "by_kind": dict(self.by_kind), "by_op": dict(self.by_op),
            "attention_full_flops": self.attention_full,
            "attention_causal_effective_flops": self.attention_causal_effective,
            "coverage": {k: {"calls": v, "shapes": [list(map(list, sig)) for sig in self.coverage_shapes.get(k, [])]}
                         for k, v in self.coverage.items()},
            "uncounted_no_mac_calls": sum(self.uncounted_no_mac.values()),
            "uncounted_no_mac": dict(self.uncounted_no_mac), "notes": dict(self.notes),
            "device": self.device, "duration_s": self.duration_s,
            "modules": self.tree.to_dict(depth),
        }


# ----------------------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------------------

_LEAVES = (int, float, bool, str, type(None))


def _tensors(x):
    flat, _ = tree_flatten(x)
    return [t for t in flat if isinstance(t, torch.Tensor)]


def _arg_tensors(args: tuple, kwargs: dict) -> list:
    """`_tensors((args, kwargs))`, without pytree when every argument is a plain tensor or a scalar."""
    out = []
    for v in (*args, *kwargs.values()):
        if type(v) is torch.Tensor or type(v) is torch.nn.Parameter:
            out.append(v)
        elif type(v) not in _LEAVES:
            return _tensors((args, kwargs))
    return out


def _loss_of(out):
    ts = [t for t in _tensors(out) if t.requires_grad and t.is_floating_point()]
    if not ts:
        raise InvalidValueError("train_step=True needs the model output to require grad (a float tensor that depends "
                                "on parameters); got none")
    loss = ts[0].sum() if len(ts) == 1 else sum(t.sum() for t in ts)
    return loss


def _build_tree(root_name: str, modules: dict[str, dict[str, int]], totals: dict[str, int]) -> ModuleNode:
    """Module tree from fully qualified names; containers never called (ModuleList) sum their children, and
    work done outside any child (functional ops in a parent's forward) shows as a "(own ops)" child."""
    root = ModuleNode(root_name, dict(totals))
    seen = {id(root)}
    nodes = {"": root}  # path under the root ("a.b") -> its node, so that each path is walked once

    def node_for(path: str) -> ModuleNode:
        node = nodes.get(path)
        if node is None:
            head, _, p = path.rpartition(".")
            parent = node_for(head)
            node = parent.children.get(p)
            if node is None:
                node = parent.children[p] = ModuleNode(p)
            nodes[path] = node
        return node

    prefix = root_name + "."
    for fqn in sorted(modules, key=lambda s: s.count(".")):
        if fqn == "Global":
            continue
        if fqn == root_name:
            node = root
        else:
            node = node_for(fqn.removeprefix(prefix))
        node.flops = dict(modules[fqn])
        seen.add(id(node))

    def fix(node):  # called on nodes with children only
        sums = dict.fromkeys(PHASES, 0)
        for ch in node.children.values():
            if ch.children:
                fix(ch)
            cf = ch.flops
            for ph in PHASES:
                sums[ph] += cf[ph]
        if id(node) not in seen:
            node.flops = sums
            return  # its own work is the sum of its children's: nothing of its own
        flops = node.flops
        own = {ph: flops[ph] - sums[ph] for ph in PHASES}
        for v in own.values():
            if v > 0:
                node.children["(own ops)"] = ModuleNode("(own ops)", own)
                break

    if root.children:
        fix(root)
    return root


_NAMES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # root module -> ModuleTracker's name tables


class _ForwardTracker(ModuleTracker):
    """torch's ModuleTracker without its backward bookkeeping (a multi-grad hook on every module's inputs and
    outputs), for counts that run no backward (`train_step=False`): same module names, a fraction of the cost.
    A backward run inside such a count is still counted, filed under the top of the tree only.

    Names are ModuleTracker's (`_get_mod_name` over its tables); `_fast` ({module: name}) answers the hooks, and
    is rebuilt from the tables whenever naming a module not seen before may have renamed others (ModuleTracker
    names the children of a module it meets for the first time). A module named but not yet seen is left out:
    naming it writes to the tables."""

    def __init__(self) -> None:
        super().__init__()
        self._fast: dict = {}

    def _name(self, mod) -> str:
        known = mod in self._seen_modules and mod in self._known_modules  # then naming it writes nothing
        name = self._get_mod_name(mod)
        if known:
            self._fast[mod] = name
        else:  # naming a module not seen before may rename others: take every name afresh from the tables
            seen = self._seen_modules
            self._fast = {m: n for m, n in self._known_modules.items() if m in seen}
        return name

    def _fw_pre_hook(self, mod, input) -> None:
        name = self._fast.get(mod)
        self.parents.add(name if name is not None else self._name(mod))

    def _fw_post_hook(self, mod, input, output) -> None:
        name = self._fast.get(mod)
        self.parents.discard(name if name is not None else self._name(mod))


class _eager_flex_attention:
    """flex_attention outside torch.compile wraps its higher-order op in torch.compile(backend="eager"), which
    dynamo refuses under a dispatch mode; while counting, the op is called directly (torch's own debug switch,
    `_FLEX_ATTENTION_DISABLE_COMPILE_DEBUG`), so that it reaches the counter and is counted by formula."""

    def __enter__(self):
        try:
            import torch.nn.attention.flex_attention as fa
        except Exception:  # pragma: no cover - torch without flex attention
            self.fa = None
            return self
        self.fa, self.old = fa, getattr(fa, "_FLEX_ATTENTION_DISABLE_COMPILE_DEBUG", False)
        fa._FLEX_ATTENTION_DISABLE_COMPILE_DEBUG = True
        return self

    def __exit__(self, *exc):
        if self.fa is not None:
            self.fa._FLEX_ATTENTION_DISABLE_COMPILE_DEBUG = self.old


def count_flops(model_or_fn, *args, train_step: bool = False, optimizer=None, loss_fn=None,
                rules: Mapping | None = None, meta_truth: bool = False, **kwargs) -> FlopCount:
    """Count the FLOPs of `model_or_fn(*args, **kwargs)` by tracing it through torch's dispatcher.

    `train_step=True` also runs backward on `loss_fn(output)` (default: sum of the output) and, when an
    `optimizer` is given, `optimizer.step()`; each phase is counted apart. Works on CPU, CUDA and meta tensors
    (meta: no memory, no arithmetic). The model is run for real: use meta tensors to count without computing.

    `rules` ({op: fn} or {op: (fn, kind)}) gives FLOP rules for this call only, with the signature and kinds of
    `register_flop_rule` (default kind "custom"); they override the built-in rules and the registered ones for
    this call (an op that already has a rule is allowed here: overriding it is the purpose), and leave the
    global table unchanged.

    `meta_truth=True` lets code with data-dependent truth tests run on meta tensors: `bool(x.all())` reads True
    and `bool(x.any())` reads False (the answers for unpadded, unpacked inputs; each use is tallied in
    `notes`); any other value read from a meta tensor still raises. `train_step`, `optimizer`, `loss_fn`,
    `rules` and `meta_truth` are not passed to the model.
    """
    if not callable(model_or_fn):
        raise InvalidValueError(f"count_flops needs a torch module or a callable, got {type(model_or_fn).__name__}")
    if optimizer is not None and not train_step:
        train_step = True
    user_rules = _active_rules(rules)
    c = _Counter()
    c.meta_scalars = bool(meta_truth)
    is_module = isinstance(model_or_fn, torch.nn.Module)
    root_name = type(model_or_fn).__name__ if is_module else "Global"
    ts = _arg_tensors(args, kwargs)
    if is_module:
        ts += [t for t in (next(iter(model_or_fn.parameters()), None), next(iter(model_or_fn.buffers()), None))
               if t is not None]
    device = str(ts[0].device) if ts else "cpu"
    use_meta_sdpa = any(t.is_meta for t in ts)
    t0 = time.perf_counter()
    tracker = ModuleTracker() if train_step else _ForwardTracker()
    if is_module:  # module names depend on the root only: reuse them across counts of the same model
        known = _NAMES.get(model_or_fn)
        if known is None:
            known = _NAMES[model_or_fn] = (weakref.WeakKeyDictionary(), weakref.WeakSet())
        tracker._known_modules, tracker._seen_modules = known
    else:  # tables for this count only: plain ones (the modules outlive the count), same names, cheaper lookups
        tracker._known_modules, tracker._seen_modules = {}, set()
    c.tracker = tracker
    fmode = _MetaSdpaMode() if use_meta_sdpa else None
    patch = _PatchFunctionalSdpa() if use_meta_sdpa else None
    with tracker, _DispatchMode(c, user_rules), _eager_flex_attention():
        if fmode is not None:
            patch.__enter__()
            fmode.__enter__()
        try:
            out = model_or_fn(*args, **kwargs)
            if train_step:
                c.phase = "backward"
                loss = loss_fn(out) if loss_fn is not None else _loss_of(out)
                loss.backward()
                if optimizer is not None:
                    c.phase = "optimizer"
                    optimizer.step()
        finally:
            if fmode is not None:
                fmode.__exit__(None, None, None)
                patch.__exit__(None, None, None)
    duration = time.perf_counter() - t0
    if is_module:
        c.modules.pop(root_name, None)
    tree = _build_tree(root_name, c.modules, c.phase_flops)
    return FlopCount(forward=c.phase_flops["forward"], backward=c.phase_flops["backward"],
                     optimizer=c.phase_flops["optimizer"], by_op=dict(c.by_op), by_kind=dict(c.by_kind),
                     other=c.other, attention_full=c.attn_full, attention_causal_effective=c.attn_eff,
                     coverage=dict(c.coverage), tree=tree, device=device, duration_s=duration,
                     coverage_shapes={k: list(v) for k, v in c.coverage_shapes.items()},
                     uncounted_no_mac=dict(c.no_mac), notes=dict(c.notes))
