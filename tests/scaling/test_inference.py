"""Inference-aware allocation (Sardana & Frankle 2023)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattwise.errors import ContradictoryInputError, InvalidValueError, MissingInputError
from wattwise.scaling import get_law, inference_optimal


def _lifetime(n, d, d_inf):
    return 6 * n * d + 2 * n * d_inf


def test_no_inference_gives_the_chinchilla_model():
    r = inference_optimal(0, flops=1e23)
    opt = get_law().optimal(1e23)
    assert r.params == pytest.approx(opt.params, rel=1e-9)
    assert r.tokens == pytest.approx(opt.tokens, rel=1e-9)
    assert r.saving_fraction == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(d_inf=st.floats(min_value=1e9, max_value=1e15), n_ref=st.floats(min_value=1e8, max_value=1e12),
       name=st.sampled_from(["besiroglu2024", "hoffmann2022", "hoffmann2022-unrounded"]))
def test_reaches_the_target_loss_and_is_a_minimum(d_inf, n_ref, name):
    law = get_law(name)
    r = inference_optimal(d_inf, chinchilla_params=n_ref, law=name)
    assert law.loss(r.params, r.tokens) == pytest.approx(r.loss, rel=1e-9)
    assert r.params <= r.chinchilla.params * (1 + 1e-9)
    assert r.chinchilla.params == pytest.approx(n_ref, rel=1e-9)
    assert 0 <= r.saving_fraction < 1
    best = _lifetime(r.params, r.tokens, d_inf)
    gap = r.loss - law.E
    for k in (0.97, 1.03):  # neighbours on the same loss contour cost more
        n = r.params * k
        v = gap - law.A * n ** -law.alpha
        if v > 0:
            d = (law.B / v) ** (1 / law.beta)
            assert _lifetime(n, d, d_inf) >= best * (1 - 1e-9)


def test_more_demand_means_smaller_models_trained_longer():
    rs = [inference_optimal(x, chinchilla_params=13e9) for x in (1e11, 1e12, 1e13)]
    assert rs[0].params > rs[1].params > rs[2].params
    assert rs[0].tokens < rs[1].tokens < rs[2].tokens
    assert rs[0].saving_fraction < rs[1].saving_fraction < rs[2].saving_fraction


def test_sardana_frankle_headline_13b_becomes_7b_saving_about_17_percent():
    """Sardana & Frankle 2023 use Hoffmann et al.'s printed fit (E=1.69, A=406.4, B=410.7, alpha=.34, beta=.28).

    Target: the loss of a Chinchilla-optimal 13B model. We find the inference demand at which the lifetime-optimal
    model is 7B, then check the saving, which is not a free parameter: ~17% in the paper's example.
    """
    lo, hi = math.log(1e10), math.log(1e15)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if inference_optimal(math.exp(mid), chinchilla_params=13e9, law="hoffmann2022").params > 7e9:
            lo = mid
        else:
            hi = mid
    r = inference_optimal(math.exp(mid), chinchilla_params=13e9, law="hoffmann2022")
    assert r.params == pytest.approx(7e9, rel=1e-3)
    assert 1e12 < r.inference_tokens < 1e13          # "large inference demand": trillions of tokens served
    assert 0.15 < r.saving_fraction < 0.19           # we get 17.2% at 3.39e12 tokens
    assert r.tokens > 2 * r.chinchilla.tokens


def test_inputs_are_checked():
    with pytest.raises(MissingInputError):
        inference_optimal(1e12)
    with pytest.raises(ContradictoryInputError):
        inference_optimal(1e12, loss=2.0, flops=1e23)
    with pytest.raises(InvalidValueError):
        inference_optimal(-1, flops=1e23)
    with pytest.raises(InvalidValueError):
        inference_optimal(1e12, loss=1.0)            # below E = 1.8172
    with pytest.raises(MissingInputError):
        inference_optimal(1e12, flops=1e23, law="tokens20")
