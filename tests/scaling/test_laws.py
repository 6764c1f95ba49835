"""Laws: registry, closed forms, identities (hypothesis), published numbers."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattwise.errors import InvalidValueError, MissingInputError, UnknownNameError
from wattwise.scaling import LAWS, ChinchillaLaw, check, get_law, plan
from wattwise.scaling.laws import PF_DAY_FLOPS

PARAMETRIC = [n for n, law in LAWS.items() if law.has_loss]
budgets = st.floats(min_value=1e15, max_value=1e30, allow_nan=False, allow_infinity=False)
exponents = st.floats(min_value=0.05, max_value=1.5)
coefs = st.floats(min_value=1.0, max_value=1e5)


def laws_strategy():
    return st.builds(ChinchillaLaw, E=st.floats(min_value=0.0, max_value=3.0), A=coefs, B=coefs,
                     alpha=exponents, beta=exponents)


def test_registry_names_sources_and_caveats():
    assert set(LAWS) == {"besiroglu2024", "hoffmann2022", "hoffmann2022-unrounded", "kaplan2020", "tokens20"}
    for name, law in LAWS.items():
        assert law.name == name
        assert law.source and law.caveat
    assert get_law() is LAWS["besiroglu2024"]
    assert get_law("Hoffmann2022 ") is LAWS["hoffmann2022"]


def test_unknown_law_suggests_the_closest():
    with pytest.raises(UnknownNameError) as e:
        get_law("tokns20")
    assert "tokens20" in e.value.suggestions
    assert "tokns20" in str(e.value)


def test_plan_1e24_with_tokens20_is_91_3b_on_1_83t():
    a = plan(1e24, law="tokens20")
    assert round(a.params / 1e9, 1) == 91.3
    assert round(a.tokens / 1e12, 2) == 1.83
    assert a.tokens_per_param == pytest.approx(20.0)
    assert a.loss is None


def test_besiroglu_gives_about_20_tokens_per_param_and_hoffmann_printed_far_more():
    assert 15 < plan(1e24).tokens_per_param < 22        # Besiroglu et al. 2024: ~20 tokens per parameter
    assert plan(1e24, law="hoffmann2022").tokens_per_param > 50


def test_rounding_the_printed_constants_moves_n_opt_by_about_20_percent():
    # Besiroglu et al. 2024: the rounded constants bias N_opt by ~20% (Chinchilla's budget, 5.76e23 FLOPs)
    c = 5.76e23
    ratio = plan(c, law="hoffmann2022").params / plan(c, law="hoffmann2022-unrounded").params
    assert 0.75 < ratio < 0.85


def test_kaplan_rule_in_pf_days_and_larger_than_chinchilla():
    a = plan(PF_DAY_FLOPS, law="kaplan2020")
    assert a.params == pytest.approx(1.3e9)
    assert a.params * a.tokens * 6 == pytest.approx(PF_DAY_FLOPS)
    assert plan(1e24, law="kaplan2020").params > 5 * plan(1e24).params
    with pytest.raises(MissingInputError, match="besiroglu2024"):
        get_law("kaplan2020").efficiency(1e9, 1e10)
    with pytest.raises(MissingInputError):
        get_law("tokens20").loss(1e9, 1e10)


@settings(max_examples=200, deadline=None)
@given(c=budgets, name=st.sampled_from(sorted(LAWS)))
def test_c_equals_6_nopt_dopt_for_every_law(c, name):
    a = plan(c, law=name)
    assert 6 * a.params * a.tokens == pytest.approx(c, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(law=laws_strategy())
def test_a_plus_b_is_one(law):
    assert law.a + law.b == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(law=laws_strategy(), c=budgets, shift=st.floats(min_value=0.05, max_value=3.0),
       sign=st.sampled_from([-1, 1]))
def test_optimum_beats_every_other_split_of_the_same_compute(law, c, shift, sign):
    opt = law.optimal(c)
    n = opt.params * math.exp(sign * shift)
    assert law.loss(n, c / (6 * n)) >= opt.loss - 1e-12 * opt.loss


@settings(max_examples=100, deadline=None)
@given(law=laws_strategy(), c=budgets)
def test_frontier_loss_and_compute_for_loss_round_trip(law, c):
    loss = law.optimal(c).loss
    assert law.frontier_loss(c) == pytest.approx(loss, rel=1e-10)
    if loss - law.E > 1e-9 * loss:  # below that, L - E underflows relative to L
        assert law.compute_for_loss(loss) == pytest.approx(c, rel=1e-5)


@settings(max_examples=100, deadline=None)
@given(c=budgets, k=st.floats(min_value=0.01, max_value=100.0), name=st.sampled_from(PARAMETRIC))
def test_efficiency_is_one_at_the_optimum_and_below_elsewhere(c, k, name):
    law = get_law(name)
    opt = law.optimal(c)
    assert law.efficiency(opt.params, opt.tokens) == pytest.approx(1.0, abs=1e-9)
    eff = law.efficiency(opt.params * k, opt.tokens / k)
    assert 0 < eff <= 1.0
    if abs(math.log(k)) > 0.1:
        assert eff < 1.0


def _compute_for_loss_by_bisection(law, loss):
    """Independent of the closed form: search the budget whose optimal loss equals `loss`."""
    lo, hi = math.log(1e10), math.log(1e40)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if law.optimal(math.exp(mid)).loss > loss:
            lo = mid
        else:
            hi = mid
    return math.exp(0.5 * (lo + hi))


@pytest.mark.parametrize("name", PARAMETRIC)
def test_4x_larger_model_on_a_quarter_of_the_tokens(name):
    law = get_law(name)
    c = 1e24
    opt = law.optimal(c)
    n, d = 4 * opt.params, opt.tokens / 4          # same compute, off the frontier
    eff = law.efficiency(n, d)
    numeric = _compute_for_loss_by_bisection(law, law.loss(n, d)) / c
    assert eff == pytest.approx(numeric, rel=1e-6)
    # with a ~ b ~ 0.5 the same loss needs roughly half the compute (besiroglu2024: ~51%, ~49% wasted)
    assert 0.4 < eff < 0.75
    res = check(n, d, law=name)
    assert res["wasted_fraction"] == pytest.approx(1 - eff)
    assert res["params"] == pytest.approx(opt.params)
    assert res["tokens"] == pytest.approx(opt.tokens)


def test_bad_inputs_raise_wattwise_errors():
    law = get_law()
    for bad in (0, -1, float("nan"), float("inf"), "x"):
        with pytest.raises(InvalidValueError):
            law.optimal(bad)
    with pytest.raises(InvalidValueError, match="irreducible"):
        law.compute_for_loss(law.E)
    with pytest.raises(InvalidValueError):
        law.efficiency(-1, 1e9)
    with pytest.raises(InvalidValueError):
        ChinchillaLaw(E=1.0, A=-1.0, B=1.0, alpha=0.3, beta=0.3)


def test_importing_scaling_stays_light():
    import subprocess
    import sys

    code = ("import sys, wattwise.scaling as s; s.plan(1e24); "
            "print(sorted(m for m in ('numpy', 'scipy', 'matplotlib', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
