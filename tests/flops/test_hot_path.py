"""The counter's hot path (per-op plans, in-place elementwise counts, cached module names, the dynamo guard) gives
the same results as the general path it short-cuts."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from wattwise import flops as wf  # noqa: E402
from wattwise.flops import _dispatch, rules  # noqa: E402
from wattwise.flops.zoo import ZOO  # noqa: E402

aten = torch.ops.aten


def test_fast_counts_equal_the_rules(monkeypatch):
    """Every elementwise op and every mm / addmm / bmm the zoo runs (forward, backward, AdamW step) counts the same
    read in place as bound by name."""
    seen = set()
    real_plan = _dispatch._plan

    def checking_plan(func, user_rules):
        plan = real_plan(func, user_rules)
        rule = rules._rule_for(func)
        if plan[1] == _dispatch._P_MAC and plan[7] is not None:
            def mac(args):
                n = plan[7](args)
                assert ("matmul", n, 0, 0) == rule.fn(dict(zip(rule.names, args)), None), func
                seen.add(str(func))
                return n

            return plan[:7] + (mac,)
        if plan[1] != _dispatch._P_EW:
            return plan

        def ew(args, kwargs, out):
            b = dict(zip(rule.names, args))
            b.update(kwargs or {})
            n = plan[3](args, kwargs, out)
            assert n == rule.fn(b, out)[1], func
            seen.add(str(func))
            return n

        return plan[:3] + (ew,)

    monkeypatch.setattr(_dispatch, "_plan", checking_plan)
    monkeypatch.setattr(_dispatch, "_PLANS", {})
    for name in ("mlp", "cnn", "gpt-sdpa", "gpt-matmul", "encoder-layer-train", "moe-loop"):
        model, args = ZOO[name].build("cpu")
        wf.count_flops(model, *args, train_step=True, optimizer=torch.optim.AdamW(model.parameters(), foreach=True))
    x = torch.randn(3, 4)
    wf.count_flops(lambda a: (torch.add(a, a, alpha=2), torch.addcmul(a, a, a, value=1),
                              torch.addcdiv(a, a, a + 1, value=0.5), a.sub_(a, alpha=1), torch.sum(a)), x)
    assert {"aten.mm.default", "aten.addmm.default", "aten.bmm.default", "aten.add.Tensor", "aten.addcmul.default", "aten.addcdiv.default", "aten.sub_.Tensor",
            "aten.sum.default", "aten.native_layer_norm.default"} <= seen
    assert any(op.startswith("aten._foreach_") for op in seen)


def test_user_rules_do_not_leak_into_the_shared_plans():
    lin = nn.Linear(8, 8)
    x = torch.randn(2, 8)
    builtin = wf.count_flops(lin, x)
    assert builtin.by_op == {"addmm": 2 * 2 * 8 * 8}
    ruled = wf.count_flops(lin, x, rules={aten.addmm: (lambda b, out: 7, "matmul")})
    assert ruled.by_op == {"addmm": 7}
    assert wf.count_flops(lin, x).by_op == builtin.by_op
    wf.register_flop_rule(aten.addmm, lambda b, out: 5, kind="matmul", replace=True)
    try:
        assert wf.count_flops(lin, x).by_op == {"addmm": 5}
    finally:
        wf.unregister_flop_rule(aten.addmm)
    assert wf.count_flops(lin, x).by_op == builtin.by_op


class _Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        return self.lin(x)


class _Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = _Inner()
        self.b = self.a  # the same module under two names
        self.c = nn.Linear(4, 4)

    def forward(self, x):
        return self.c(self.b(self.a(x)))


@pytest.mark.parametrize("train", [False, True])
def test_module_names_follow_module_tracker_when_a_child_runs_before_its_parent(train):
    """ModuleTracker names a module by its type until a parent is met, then renames it under the parent: the
    forward-only tracker's name cache must follow (the same tree as with torch's ModuleTracker, train_step=True)."""
    outer = _Outer()
    x = torch.randn(2, 4)

    def fn(x):
        y = outer.a.lin(x)  # "Linear" first, "_Outer.a.lin" once _Outer has run
        return outer(y) + outer.c(y)

    fwd = {name: f["forward"] for name, _, f in wf.count_flops(fn, x, train_step=train).modules()}
    assert fwd == {"Global": 320, "Global.Linear": 64, "Global._Outer": 192, "Global._Outer.a": 128,
                   "Global._Outer.a.lin": 128, "Global._Outer.c": 128, "Global.(own ops)": 64}
    fwd = {name: f["forward"] for name, _, f in wf.count_flops(outer, x, train_step=train).modules()}
    assert {k: v for k, v in fwd.items() if v} == {"_Outer": 192, "_Outer.a": 128, "_Outer.a.lin": 128, "_Outer.c": 64}


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_compiled_module_counts_as_its_eager_self():
    """Under torch.compile the dispatch mode keeps dynamo out of its own frames (what torch._dynamo.disable does
    for a mode by default): the multiply-accumulate count is the eager one."""
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 4))
    x = torch.randn(2, 8)
    eager = wf.count_flops(lambda a: m(a), x, train_step=True)
    cm = torch.compile(m, backend="eager")
    cm(x)
    from torch._dynamo.utils import counters
    frames = dict(counters["frames"])
    compiled = wf.count_flops(lambda a: cm(a), x, train_step=True)
    assert dict(counters["frames"]) == frames  # nothing compiled while counting: not the counter's own frames
    assert (compiled.forward, compiled.backward) == (eager.forward, eager.backward)
    assert compiled.by_op == eager.by_op  # (its elementwise tally differs: the traced graph's own ops)
