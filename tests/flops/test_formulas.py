"""Property and unit tests of the analytic formulas (no torch needed)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wattwise.errors import InvalidValueError
from wattwise import flops as wf

dims = st.integers(min_value=1, max_value=4096)
small = st.integers(min_value=1, max_value=64)


@given(dims, dims, dims, st.integers(min_value=1, max_value=8))
def test_matmul_is_bilinear_in_each_dimension(m, n, p, k):
    base = wf.matmul_flops(m, n, p)
    assert wf.matmul_flops(k * m, n, p) == k * base
    assert wf.matmul_flops(m, k * n, p) == k * base
    assert wf.matmul_flops(m, n, k * p) == k * base
    assert wf.matmul_flops(m, n, p, batch=k) == k * base
    assert base == 2 * m * n * p  # 2 FLOPs per multiply-accumulate, never MACs


# no subnormal floats: 6 x 5e-324 rounds to 3e-323, so C / 6N cannot give D back (a float limit, not the formula)
NORMAL = st.floats(min_value=0, max_value=1e15, allow_subnormal=False)


@given(NORMAL, NORMAL)
def test_training_compute_is_6nd_and_round_trips(n, d):
    c = wf.training_flops(n, d)
    assert c == pytest.approx(6 * n * d)
    if n > 0:
        assert c / (6 * n) == pytest.approx(d)  # D = C / 6N


@given(st.integers(min_value=0, max_value=10**12))
def test_backward_is_twice_forward(f):
    split = wf.forward_backward_flops(f)
    assert split["backward"] == 2 * split["forward"]
    assert split["total"] == 3 * f


@given(small, small, st.integers(1, 300), st.integers(1, 300), small)
def test_causal_attention_counts_only_unmasked_pairs(b, h, sq, sk, d):
    full = wf.attention_flops(b, h, sq, sk, d)
    causal = wf.attention_flops(b, h, sq, sk, d, causal=True)
    # brute force over the mask torch builds for is_causal=True (top-left aligned tril)
    pairs = sum(1 for i in range(sq) for j in range(sk) if j <= i)
    assert causal == 4 * b * h * pairs * d
    assert causal <= full
    if sq == sk:
        assert causal * 2 * sq == full * (sq + 1)  # fraction (s + 1) / 2s


@given(st.integers(1, 4), st.sampled_from([1, 2, 4]), st.integers(1, 4), st.integers(5, 20), st.integers(1, 3),
       st.integers(1, 2), st.integers(0, 2), st.integers(1, 2))
def test_conv_matches_brute_force_mac_count(b, g, cmul, hw, k, s, p, d):
    cin, cout = 4 * g, cmul * g
    if (hw + 2 * p - d * (k - 1) - 1) < 0:
        return
    out = wf.conv_output_size((hw, hw), k, s, p, d)
    macs = 0
    for _ in range(out[0] * out[1]):  # every output position ...
        macs += cout * (cin // g) * k * k  # ... of every output channel reads (cin/groups) * k * k inputs
    assert wf.conv_flops(b, cin, cout, (hw, hw), k, s, p, d, g) == 2 * b * macs


def test_depthwise_is_groups_times_cheaper_than_dense():
    dense = wf.conv_flops(2, 64, 64, (16, 16), 3, padding=1)
    depthwise = wf.conv_flops(2, 64, 64, (16, 16), 3, padding=1, groups=64)
    assert dense == 64 * depthwise


@given(st.integers(1, 8), st.integers(16, 256), st.integers(16, 512), st.integers(1, 16), st.integers(1, 4))
def test_moe_follows_active_not_total_parameters(E, d, f, k, _):
    k = min(k, E)
    per_token = wf.moe_forward_flops_per_token(d, f, E, k)
    active_params = d * E + k * 2 * d * f  # router + k experts
    assert per_token == 2 * active_params  # 2 FLOPs per active parameter per token


@given(st.integers(1, 4), st.sampled_from([64, 128, 256]), st.integers(1, 12), st.sampled_from([64, 256, 1024]),
       st.sampled_from([1000, 50257]))
def test_megatron_closed_form_matches_the_paper_expression(B, h, l, s, V):
    exact = wf.megatron_training_flops(B, s, l, h, V)
    assert exact == pytest.approx(72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * h * l)), rel=1e-12)
    recompute = wf.megatron_training_flops(B, s, l, h, V, recompute=True)
    assert recompute == pytest.approx(96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h)), rel=1e-12)


@given(st.integers(1, 48), st.sampled_from([256, 768, 1600]), st.sampled_from([128, 1024, 2048]))
def test_decoder_formula_agrees_with_megatron_and_kaplan(L, d, s):
    V = 50257
    parts = wf.decoder_flops(batch=1, seq=s, n_layers=L, d_model=d, n_heads=d // 64 or 1, d_ff=4 * d, vocab=V)
    assert 3 * parts["total"] == wf.megatron_training_flops(1, s, L, d, V)
    # Kaplan's per-token forward count leaves out the logits; with full attention it is exact otherwise
    kaplan = wf.kaplan_forward_flops_per_token(L, d, s)
    # ... and its attention term 2 n_layer n_ctx d_attn is half the full Q K^T + weights x V count (4 L s d)
    assert (parts["total"] - parts["logits"]) == s * (kaplan + 2 * L * s * d)


def test_palm_attention_term_is_the_full_attention_of_a_training_step():
    L, H, Q, T, N = 4, 8, 64, 512, 10**7
    attn = wf.attention_flops(1, H, T, T, Q) * L  # forward, one sequence
    assert wf.palm_training_flops_per_token(N, L, H, Q, T) - 6 * N == 3 * attn // T


def test_hoffmann_appendix_f_counts_more_than_gemms_only():
    kw = dict(seq=2048, vocab=32000, d_model=1024, n_layers=8, n_heads=16, key_size=64, ffw_size=4096)
    gemm = wf.decoder_flops(batch=1, seq=2048, n_layers=8, d_model=1024, n_heads=16, d_ff=4096, vocab=32000)
    extra = wf.hoffmann_forward_flops(**kw) - gemm["total"]
    # the difference is exactly the one-hot embedding matmul and 3 FLOPs per softmax score
    assert extra == 2 * 2048 * 32000 * 1024 + 8 * 3 * 16 * 2048 * 2048


@pytest.mark.parametrize("bad", [-1, 0.5, "x", None, True])
def test_bad_dimensions_are_rejected_with_the_value_named(bad):
    with pytest.raises(InvalidValueError, match="m must"):
        wf.matmul_flops(bad, 2, 3)


def test_conv_rejects_groups_that_do_not_divide_and_empty_outputs():
    with pytest.raises(InvalidValueError, match="groups"):
        wf.conv_flops(1, 6, 8, (8, 8), 3, groups=4)
    with pytest.raises(InvalidValueError, match="empty"):
        wf.conv_flops(1, 4, 4, (2, 2), 5)


def test_importing_flops_does_not_import_torch():
    import subprocess
    import sys
    code = "import sys, wattwise, wattwise.flops; wattwise.flops.flops_per_token('gpt2'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_flops_per_token_matches_formula_and_6n_is_close():
    r = wf.flops_per_token("llama-7b")
    shape = wf.get_shape("llama-7b")
    assert r["forward_flops_per_token"] * r["seq"] == shape.forward_flops(1, r["seq"])["total"]
    assert r["training_flops_per_token"] == 3 * r["forward_flops_per_token"]
    assert math.isclose(r["training_flops_per_token"], r["six_n_flops_per_token"], rel_tol=0.15)
    assert abs(r["params"] - 6.7e9) / 6.7e9 < 0.01  # Touvron et al. 2023, Table 2: 6.7B


def test_unknown_arch_suggests_close_names():
    from wattwise.errors import UnknownNameError
    with pytest.raises(UnknownNameError, match="llama-7b"):
        wf.get_shape("lama-7b")
