"""User FLOP rules: give the counter a formula for an aten op it has none for, or override a built-in one.

Modelled on torch's `torch.utils.flop_counter.register_flop_formula`. A rule is keyed by the op's
`OpOverloadPacket` (as torch does): `torch.ops.aten.mm` and `torch.ops.aten.mm.default` name the same rule,
which then applies to every overload of the op.

Which rule applies to an op, first match wins: the `rules=` of that `count_flops` call, then the rules
registered here, then the built-in table (`rules.py`).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any, Callable

import torch

from ..errors import InvalidValueError, WattwiseError
from .rules import _METADATA, _rule_for

DEFAULT_KIND = "custom"
"""The kind a user rule's FLOPs are filed under when none is given: in the total, not in `FlopCount.matmul`."""

FlopRule = Callable[[dict[str, Any], Any], int]


class FlopRuleError(WattwiseError):
    """A user FLOP rule raised, or returned something other than a non-negative int; names the op and the rule."""


class _UserRule:
    """A user rule bound to its op and kind; called as `(func, args, out) -> (kind, flops, attn full, attn eff)`."""

    __slots__ = ("fn", "kind", "packet")

    def __init__(self, fn: FlopRule, kind: str, packet):
        self.fn, self.kind, self.packet = fn, kind, packet

    def __call__(self, func, bound: dict[str, Any], out) -> tuple[str, int, int, int]:
        try:
            n = self.fn(bound, out)
        except Exception as exc:
            raise FlopRuleError(f"the FLOP rule {_fn_name(self.fn)} for {func} raised {type(exc).__name__}: {exc}") \
                from exc
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise FlopRuleError(f"the FLOP rule {_fn_name(self.fn)} for {func} returned {n!r} "
                                f"({type(n).__name__}); a FLOP rule returns a non-negative int")
        n = int(n)
        attn = n if self.kind == "attention" else 0
        return self.kind, n, attn, attn


_USER_RULES: dict[Any, _UserRule] = {}


def _fn_name(fn) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _packet(op, arg: str = "op"):
    """The OpOverloadPacket an op names (an OpOverload stands for its packet)."""
    if isinstance(op, torch._ops.OpOverload):
        packet = op._overloadpacket
    elif isinstance(op, torch._ops.OpOverloadPacket):
        packet = op
    else:
        raise InvalidValueError(f"`{arg}` must be an aten op such as torch.ops.aten.mm or torch.ops.aten.mm.default, "
                                f"got {op!r} ({type(op).__name__})")
    if any(getattr(packet, name) in _METADATA for name in packet.overloads()):
        raise InvalidValueError(f"{packet} is a metadata query that does no work and never reaches a FLOP rule; "
                                "give a rule for an op that computes")
    return packet


def _check_kind(kind) -> str:
    if not isinstance(kind, str) or not kind:
        raise InvalidValueError(f"`kind` must be a non-empty string such as 'matmul' or 'custom', got {kind!r}")
    if kind == "optimizer":
        raise InvalidValueError("`kind` 'optimizer' is the optimizer phase, not a kind of op: every FLOP counted "
                                "during `optimizer.step()` is filed under it whatever the rule's kind; give "
                                "another kind, such as 'elementwise' or 'custom'")
    return kind


def _check_fn(fn, where: str = "`fn`") -> None:
    if not callable(fn):
        raise InvalidValueError(f"{where} must be a callable `fn(args, out) -> int`, got {fn!r} "
                                f"({type(fn).__name__})")


def _has_builtin_rule(packet) -> bool:
    """Whether the built-in table counts some overload of `packet` (a MAC formula, zero, or elementwise)."""
    for name in packet.overloads():
        func = getattr(packet, name)
        if func not in _METADATA and not _rule_for(func).unknown:
            return True
    return False


def register_flop_rule(op, fn: FlopRule | None = None, *, kind: str = DEFAULT_KIND, replace: bool = False):
    """Register `fn` as the FLOP rule of the aten op `op`; usable as `register_flop_rule(op, fn)` or as a
    decorator `@register_flop_rule(op)`. Returns `fn` unchanged.

    `op` is an `OpOverloadPacket` (`torch.ops.aten.mm`) or an `OpOverload` (`torch.ops.aten.mm.default`); both
    register the same rule, keyed by the packet, for every overload of the op.

    The rule is called once per call of the op, as `fn(args, out) -> int`, the signature the built-in rules have:

    * `args`: a dict of the op's arguments bound by the names of its schema, keyword arguments included, e.g.
      `{"self": a, "mat2": b}` for `aten.mm` (see `op.default._schema`); tensors are real, or meta tensors when
      counting on the meta device (shapes are known, values are not).
    * `out`: the op's output (a tensor, or a tuple of them).
    * returns the FLOPs of that call as a non-negative int (2 per multiply-accumulate, the counter's
      convention). If `fn` raises, or returns anything else, `count_flops` raises `FlopRuleError` naming the op
      and the rule, chained to the original exception.

    `kind` is where the FLOPs are filed in `FlopCount.by_kind` (during `optimizer.step()` they are filed under
    "optimizer" whatever the kind, as built-in counts are):

    * "matmul", "conv", "attention": multiply-accumulate work, in the total and in `FlopCount.matmul`;
      "attention" also adds the count to `attention_full` and `attention_causal_effective` (undiscounted);
    * "elementwise": like the built-in elementwise ops: tallied in `FlopCount.other`, not in the total (except
      during the optimizer step);
    * any other name, by default "custom": in the total and in `by_kind[kind]`, not in `FlopCount.matmul`.

    An op that already has a rule, built-in (a formula, a zero-FLOP data movement op, an elementwise op) or
    registered, raises `InvalidValueError` (a `ValueError`) unless `replace=True`, which overrides it until
    `unregister_flop_rule(op)` restores the built-in. A user rule also keeps the counter from decomposing the op
    into its parts. To override a rule for one count only, pass `count_flops(..., rules={op: fn})` instead.

    An op that torch decomposes before it reaches the dispatcher (CompositeImplicitAutograd ones, such as
    `aten.linear` and `aten.matmul` outside `torch.inference_mode`) is counted as its parts (`aten.mm`,
    `aten.addmm`...): a rule for the op itself is then never called; give rules for its parts.
    """
    packet = _packet(op)
    kind = _check_kind(kind)
    if not isinstance(replace, bool):
        raise InvalidValueError(f"`replace` must be True or False, got {replace!r}")

    def register(f: FlopRule) -> FlopRule:
        _check_fn(f)
        if not replace:
            if packet in _USER_RULES:
                raise InvalidValueError(f"{packet} already has a FLOP rule, {_fn_name(_USER_RULES[packet].fn)}, "
                                        "registered with register_flop_rule; pass `replace=True` to replace it")
            if _has_builtin_rule(packet):
                raise InvalidValueError(f"{packet} already has a built-in FLOP rule; pass `replace=True` to "
                                        "override it (unregister_flop_rule restores the built-in), or pass "
                                        "`rules=` to count_flops to override it for one count")
        _USER_RULES[packet] = _UserRule(f, kind, packet)
        return f

    if fn is None:
        return register
    return register(fn)


def unregister_flop_rule(op) -> FlopRule:
    """Remove the rule registered for `op` with `register_flop_rule` (the built-in rule, if any, applies again)
    and return its function. Raises `InvalidValueError` when `op` has no registered rule: built-in rules cannot be
    removed, only overridden."""
    packet = _packet(op)
    rule = _USER_RULES.pop(packet, None)
    if rule is None:
        raise InvalidValueError(f"{packet} has no FLOP rule registered with register_flop_rule; built-in rules "
                                "cannot be unregistered, only overridden with `replace=True`")
    return rule.fn


def registered_flop_rules() -> dict[Any, FlopRule]:
    """The rules registered with `register_flop_rule`, {OpOverloadPacket: fn} (a copy)."""
    return {packet: r.fn for packet, r in _USER_RULES.items()}


def _active_rules(rules: Mapping | None = None) -> dict[Any, _UserRule]:
    """The user rules of one count: the registered ones, overridden by `rules` ({op: fn} or {op: (fn, kind)})."""
    active = dict(_USER_RULES)
    if rules is None:
        return active
    if not isinstance(rules, Mapping):
        raise InvalidValueError(f"`rules` must be a mapping {{op: fn}} or {{op: (fn, kind)}}, got "
                                f"{type(rules).__name__}")
    seen: dict[Any, Any] = {}
    for op, spec in rules.items():
        packet = _packet(op, "rules")
        if packet in seen:
            raise InvalidValueError(f"`rules` names {packet} twice ({seen[packet]} and {op}); give it once")
        seen[packet] = op
        if isinstance(spec, tuple):
            if len(spec) != 2:
                raise InvalidValueError(f"`rules[{op}]` must be fn or (fn, kind), got a tuple of {len(spec)}")
            fn, kind = spec
        else:
            fn, kind = spec, DEFAULT_KIND
        _check_fn(fn, f"`rules[{op}]`")
        active[packet] = _UserRule(fn, _check_kind(kind), packet)
    return active
