"""User FLOP rules: register_flop_rule / unregister_flop_rule and count_flops(rules=...), against hand counts."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from wattwise import flops as wf  # noqa: E402
from wattwise.errors import InvalidValueError, WattwiseError  # noqa: E402

aten = torch.ops.aten
D, B = 16, 8
INV = 2 * D ** 3  # our rule for a D x D inverse (Gauss-Jordan, ~2 n^3)


@pytest.fixture(autouse=True)
def _clean_registry():
    assert wf.registered_flop_rules() == {}
    yield
    for op in list(wf.registered_flop_rules()):
        wf.unregister_flop_rule(op)


class Whiten(nn.Module):
    """x W^T A^-1: one Linear (mm) and one matmul the counter knows, one inverse it has no rule for."""

    def __init__(self, device="cpu"):
        super().__init__()
        self.proj = nn.Linear(D, D, bias=False, device=device)
        self.register_buffer("a", torch.randn(D, D, device=device) + D * torch.eye(D, device=device))

    def forward(self, x):
        return self.proj(x) @ torch.linalg.inv(self.a)


def _whiten(device="cpu"):
    torch.manual_seed(0)
    return Whiten(device), torch.randn(B, D, device=device)


BUILTIN_WHITEN = 2 * (2 * B * D * D)  # the Linear's mm and the @, each 2 m k n


def inv_rule(args, out):
    n = args["A"].shape[-1]  # arguments bound by schema name: aten::linalg_inv_ex(Tensor A, *, ...)
    assert args["A"].shape == (n, n) and isinstance(out, tuple)  # out: (inverse, info)
    return 2 * n ** 3


def macs_only_mm(args, out):
    (m, k), n = args["self"].shape, args["mat2"].shape[1]
    return m * k * n  # MACs, i.e. half the built-in 2 m k n


def test_rule_for_an_op_without_one_changes_the_count():
    model, x = _whiten()
    before = wf.count_flops(model, x)
    assert before.forward == BUILTIN_WHITEN
    assert "aten.linalg_inv_ex" in before.coverage

    assert wf.register_flop_rule(aten.linalg_inv_ex, inv_rule) is inv_rule
    r = wf.count_flops(model, x)
    assert r.forward == BUILTIN_WHITEN + INV
    assert r.by_op["linalg_inv_ex"] == INV
    assert r.by_kind["custom"] == INV  # default kind: in the total, not in matmul
    assert r.matmul == BUILTIN_WHITEN
    assert "aten.linalg_inv_ex" not in r.coverage
    assert r.modules()[0][2]["forward"] == r.forward

    assert wf.unregister_flop_rule(aten.linalg_inv_ex) is inv_rule
    after = wf.count_flops(model, x)
    assert after.forward == BUILTIN_WHITEN and "aten.linalg_inv_ex" in after.coverage


def test_rule_works_on_the_meta_device():
    model, x = _whiten("meta")
    wf.register_flop_rule(aten.linalg_inv_ex, inv_rule)
    assert wf.count_flops(model, x).forward == BUILTIN_WHITEN + INV


def test_decorator_form_keys_an_overload_by_its_packet_and_honours_kind():
    @wf.register_flop_rule(aten.linalg_inv_ex.default, kind="matmul")
    def inv(args, out):
        return 2 * args["A"].shape[0] ** 3

    assert callable(inv) and inv({"A": torch.empty(3, 3)}, None) == 54  # returned unchanged
    assert list(wf.registered_flop_rules()) == [aten.linalg_inv_ex]
    assert wf.registered_flop_rules()[aten.linalg_inv_ex] is inv
    r = wf.count_flops(*_whiten())
    assert r.matmul == BUILTIN_WHITEN + INV and r.by_kind["matmul"] == BUILTIN_WHITEN + INV
    with pytest.raises(ValueError, match=r"aten\.linalg_inv_ex .*replace=True"):
        wf.register_flop_rule(aten.linalg_inv_ex, inv_rule)  # the packet: same key as the overload
    wf.unregister_flop_rule(aten.linalg_inv_ex.default)  # and back, by the overload
    assert wf.registered_flop_rules() == {}


def test_duplicate_user_registration_raises_and_replace_replaces():
    wf.register_flop_rule(aten.linalg_inv_ex, inv_rule)
    with pytest.raises(ValueError, match=r"aten\.linalg_inv_ex already has a FLOP rule, inv_rule.*`replace=True`"):
        wf.register_flop_rule(aten.linalg_inv_ex.default, lambda a, o: 1)
    with pytest.raises(ValueError, match="replace=True"):
        wf.register_flop_rule(aten.linalg_inv_ex)(lambda a, o: 1)  # decorator form raises too
    assert wf.registered_flop_rules()[aten.linalg_inv_ex] is inv_rule  # unchanged by the failed attempts
    wf.register_flop_rule(aten.linalg_inv_ex, lambda a, o: 5, replace=True)
    assert wf.count_flops(*_whiten()).forward == BUILTIN_WHITEN + 5


@pytest.mark.parametrize("op", [aten.mm, aten.mm.default, aten.add, aten.clone, aten.addmm.default])
def test_registering_over_a_builtin_rule_needs_replace(op):
    packet = str(op).removesuffix(".default").replace(".", r"\.")
    with pytest.raises(ValueError, match=rf"{packet} already has a built-in FLOP rule.*`replace=True`"):
        wf.register_flop_rule(op, macs_only_mm)
    assert wf.registered_flop_rules() == {}


def test_replace_overrides_a_builtin_until_unregistered():
    model, x = nn.Linear(D, 32, bias=False), torch.randn(B, D)
    assert wf.count_flops(model, x).forward == 2 * B * D * 32
    wf.register_flop_rule(aten.mm, macs_only_mm, kind="matmul", replace=True)
    r = wf.count_flops(model, x)
    assert r.forward == B * D * 32 and r.by_kind == {"matmul": B * D * 32}
    wf.unregister_flop_rule(aten.mm)
    assert wf.count_flops(model, x).forward == 2 * B * D * 32


def test_rules_argument_overrides_for_that_call_only():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(D, 32), nn.ReLU(), nn.Linear(32, 4))
    x = torch.randn(B, D)
    builtin = 2 * B * (D * 32 + 32 * 4)
    assert wf.count_flops(model, x).forward == builtin

    def addmm_macs(args, out):
        (m, k), n = args["mat1"].shape, args["mat2"].shape[1]
        return m * k * n

    r = wf.count_flops(model, x, rules={aten.addmm: addmm_macs})  # a built-in op: allowed in rules=
    assert r.forward == builtin // 2 and r.by_kind == {"custom": builtin // 2} and r.matmul == 0
    assert wf.registered_flop_rules() == {}  # the global table is untouched
    assert wf.count_flops(model, x).forward == builtin

    # rules= also beats a registered rule, for that call only
    wf.register_flop_rule(aten.addmm, lambda a, o: 1, replace=True)
    assert wf.count_flops(model, x).forward == 2
    assert wf.count_flops(model, x, rules={aten.addmm.default: (addmm_macs, "matmul")}).matmul == builtin // 2
    assert wf.count_flops(model, x).forward == 2


def test_rules_in_the_backward_phase():
    torch.manual_seed(0)
    model, x = nn.Linear(D, 32), torch.randn(B, D)
    r = wf.count_flops(model, x, train_step=True)
    assert (r.forward, r.backward) == (2 * B * D * 32, 2 * B * D * 32)  # addmm forward, grad-weight mm backward
    r = wf.count_flops(model, x, train_step=True, rules={aten.mm: macs_only_mm})
    assert (r.forward, r.backward) == (2 * B * D * 32, B * 32 * D)
    assert r.by_kind == {"matmul": 2 * B * D * 32, "custom": B * 32 * D}


def test_kind_attention_and_elementwise():
    model, x = _whiten()
    r = wf.count_flops(model, x, rules={aten.linalg_inv_ex: (inv_rule, "attention")})
    assert r.attention_full == r.attention_causal_effective == INV == r.by_kind["attention"]
    assert r.matmul == r.total == BUILTIN_WHITEN + INV
    base_other = wf.count_flops(model, x).other
    r = wf.count_flops(model, x, rules={aten.linalg_inv_ex: (inv_rule, "elementwise")})
    assert r.total == BUILTIN_WHITEN and r.other == base_other + INV  # like norms and activations: not in total


def test_a_rule_that_raises_names_the_op():
    def broken(args, out):
        return 1 // 0

    model, x = _whiten()
    wf.register_flop_rule(aten.linalg_inv_ex, broken)
    with pytest.raises(wf.FlopRuleError, match=r"broken for aten\.linalg_inv_ex\.default raised ZeroDivisionError") \
            as exc:
        wf.count_flops(model, x)
    assert isinstance(exc.value.__cause__, ZeroDivisionError) and isinstance(exc.value, WattwiseError)
    with pytest.raises(wf.FlopRuleError, match=r"aten\.mm\.default raised KeyError"):
        wf.count_flops(model, x, rules={aten.mm: lambda a, o: a["no such argument"]})
    wf.unregister_flop_rule(aten.linalg_inv_ex)
    assert wf.count_flops(model, x).forward == BUILTIN_WHITEN  # the modes were left cleanly


@pytest.mark.parametrize("bad", [1.5, -1, None, True, "12"])
def test_a_rule_must_return_a_non_negative_int(bad):
    with pytest.raises(wf.FlopRuleError, match=r"aten\.linalg_inv_ex\.default returned .*non-negative int"):
        wf.count_flops(*_whiten(), rules={aten.linalg_inv_ex: lambda a, o: bad})


def test_bad_arguments_are_refused():
    with pytest.raises(InvalidValueError, match="`op` must be an aten op"):
        wf.register_flop_rule("mm", inv_rule)
    with pytest.raises(InvalidValueError, match="metadata query"):
        wf.register_flop_rule(aten.size, inv_rule)
    with pytest.raises(InvalidValueError, match="`kind`"):
        wf.register_flop_rule(aten.linalg_inv_ex, inv_rule, kind="optimizer")
    with pytest.raises(InvalidValueError, match="`kind`"):
        wf.register_flop_rule(aten.linalg_inv_ex, inv_rule, kind="")
    with pytest.raises(InvalidValueError, match="`fn` must be a callable"):
        wf.register_flop_rule(aten.linalg_inv_ex, 42)
    with pytest.raises(InvalidValueError, match="no FLOP rule registered"):
        wf.unregister_flop_rule(aten.mm)  # built-ins cannot be removed
    model, x = _whiten()
    with pytest.raises(InvalidValueError, match="`rules` must be a mapping"):
        wf.count_flops(model, x, rules=[(aten.mm, inv_rule)])
    with pytest.raises(InvalidValueError, match=r"names aten\.mm twice"):
        wf.count_flops(model, x, rules={aten.mm: macs_only_mm, aten.mm.default: macs_only_mm})
    with pytest.raises(InvalidValueError, match=r"fn or \(fn, kind\)"):
        wf.count_flops(model, x, rules={aten.mm: (macs_only_mm, "matmul", 3)})
    assert wf.registered_flop_rules() == {}


def test_names_stay_importable_from_the_counter_module():
    from wattwise.flops import counter, registry, rules
    from wattwise.flops.counter import (  # noqa: F401
        _EW_COST, _ZERO, MAC_KINDS, PHASES, FlopCount, ModuleNode, _Rule, _rule_for, count_flops,
        register_flop_rule, unregister_flop_rule,
    )
    assert counter._rule_for is rules._rule_for and wf.register_flop_rule is registry.register_flop_rule
    assert wf.FlopCount is FlopCount and wf.FlopRuleError is registry.FlopRuleError
