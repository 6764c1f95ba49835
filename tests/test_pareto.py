"""Pareto dominance (Schwartz et al. 2020, Green AI) and frontier invariants."""


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattwise.errors import InvalidValueError, MissingInputError
from wattwise.pareto import dominates, dominators, pareto_front, pareto_mask


def v(name, acc, cost, axis="flops_per_sample"):
    return {"name": name, "accuracy": acc, axis: cost}


def test_green_ai_cases():
    base = v("B", 0.90, 100)
    assert dominates(v("A", 0.90, 50), base)          # as accurate, cheaper
    assert dominates(v("A", 0.95, 100), base)         # more accurate, same cost
    assert dominates(v("A", 0.95, 50), base)          # both
    assert not dominates(v("A", 0.90, 100), base)     # tie: neither beats the other
    assert not dominates(base, v("A", 0.90, 100))
    assert not dominates(v("A", 0.91, 1000), base)    # 1% more accurate at 10x the compute: not better
    assert not dominates(base, v("A", 0.91, 1000))
    assert not dominates(v("A", 0.80, 10), base)


def test_ties_both_on_front_and_loss_axis():
    items = [v("a", 0.9, 10), v("b", 0.9, 10), v("c", 0.8, 10)]
    assert [x["name"] for x in pareto_front(items)] == ["a", "b"]
    assert dominators(items)[2] == [0, 1]
    # a loss: lower is better
    losses = [{"name": "x", "loss": 1.0, "latency_s": 2.0}, {"name": "y", "loss": 2.0, "latency_s": 2.0}]
    assert pareto_mask(losses, cost="latency", accuracy="loss", higher_is_better=False) == [True, False]


def test_axes_aliases_and_objects():
    class V:
        def __init__(self, name, accuracy, size_bytes):
            self.name, self.accuracy, self.size_bytes = name, accuracy, size_bytes
    front = pareto_front([V("fp32", 0.9, 400), V("int8", 0.89, 100), V("bad", 0.85, 200)], cost="bytes")
    assert [f.name for f in front] == ["int8", "fp32"]
    items = [{"name": "p", "accuracy": 1, "energy_per_1000_kwh": 2.0, "cost_usd": 9.0},
             {"name": "q", "accuracy": 1, "energy_per_1000_kwh": 3.0, "cost_usd": 1.0}]
    assert [x["name"] for x in pareto_front(items, cost="energy")] == ["p"]
    assert [x["name"] for x in pareto_front(items, cost="dollars")] == ["q"]
    assert [x["name"] for x in pareto_front(items, cost=lambda it: it["cost_usd"] * 0 + 1)] == ["p", "q"]


def test_errors_name_the_variant():
    with pytest.raises(MissingInputError, match="'late'.*latency"):
        pareto_front([v("ok", 1, 1, "latency_s"), {"name": "late", "accuracy": 1}], cost="latency")
    with pytest.raises(InvalidValueError, match="NaN"):
        pareto_front([v("n", float("nan"), 1)])
    assert pareto_front([]) == []


points = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=0, max_size=25)


@settings(max_examples=300, deadline=None)
@given(points, st.randoms(use_true_random=False))
def test_frontier_properties(pts, rnd):
    items = [v(str(i), a / 6, c) for i, (a, c) in enumerate(pts)]
    front = pareto_front(items)
    names = {f["name"] for f in front}
    # non-dominated
    for f in front:
        assert not any(dominates(o, f) for o in items)
    # every excluded point is dominated by some frontier point (finite sets: dominance is transitive)
    for it in items:
        if it["name"] not in names:
            assert any(dominates(f, it) for f in front)
    # order-independent
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert {f["name"] for f in pareto_front(shuffled)} == names
    # sorted by cost, and along the frontier accuracy never drops as cost rises
    costs = [f["flops_per_sample"] for f in front]
    assert costs == sorted(costs)
    for a, b in zip(front, front[1:]):
        if b["flops_per_sample"] > a["flops_per_sample"]:
            assert b["accuracy"] > a["accuracy"]
    assert bool(items) == bool(front)


@given(st.tuples(st.floats(0, 1), st.floats(0, 1e9)), st.tuples(st.floats(0, 1), st.floats(0, 1e9)))
def test_dominance_antisymmetric_irreflexive(p, q):
    a, b = v("a", *p), v("b", *q)
    assert not dominates(a, a)
    assert not (dominates(a, b) and dominates(b, a))
