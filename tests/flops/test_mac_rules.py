"""The MAC rules added for issue 14: baddbmm's operands, addbmm, grouped mm (MoE experts), nn.Bilinear, RNN layers,
cdist, flex_attention; meta attention with a learned bias; coverage reporting only ops that may hide MACs."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from wattwise.flops import count_flops  # noqa: E402

r = torch.randn


def test_baddbmm_counts_batch1_at_batch2_not_the_bias():
    assert count_flops(lambda: torch.baddbmm(r(3, 4, 6), r(3, 4, 5), r(3, 5, 6))).total == 2 * 3 * 4 * 5 * 6  # 720


def test_baddbmm_with_a_broadcast_alibi_bias():
    # BLOOM: bias (b*h, 1, s) broadcast over the queries; the old rule read m = 1 from it: 64x too low at s = 64
    bh, s, hd = 8, 64, 16
    n = count_flops(lambda: torch.baddbmm(r(bh, 1, s), r(bh, s, hd), r(bh, hd, s))).total
    assert n == 2 * bh * s * hd * s


def test_addbmm():
    assert count_flops(lambda: torch.addbmm(r(4, 6), r(3, 4, 5), r(3, 5, 6))).total == 2 * 3 * 4 * 5 * 6


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_grouped_mm_forward_and_backward(device):
    # transformers' MoE experts: (tokens x top_k, d) rows sorted by expert, one (d, ff) matrix per expert
    S, d, ff, E = 12, 8, 16, 3
    x = torch.randn(S, d, device=device, requires_grad=True)
    w = torch.randn(E, d, ff, device=device, requires_grad=True)
    offs = torch.tensor([4, 8, 12], dtype=torch.int32, device=device)
    # a squared loss: the CPU kernel refuses the zero-stride gradient of a plain sum
    res = count_flops(lambda: torch._grouped_mm(x, w, offs), train_step=True, loss_fn=lambda o: (o * o).sum())
    assert res.forward == 2 * S * d * ff
    assert res.backward == 2 * 2 * S * d * ff  # input and weight gradients
    assert res.by_op == {"_grouped_mm": 3 * 2 * S * d * ff}


def test_grouped_mm_3d_by_3d():
    assert count_flops(lambda: torch._grouped_mm(r(3, 4, 8), r(3, 8, 8))).total == 2 * 3 * 4 * 8 * 8


def test_bilinear_is_two_flops_per_weight_per_sample():
    bl = nn.Bilinear(5, 6, 7)
    x1, x2 = r(3, 5, requires_grad=True), r(3, 6)
    res = count_flops(bl, x1, x2, train_step=True)
    f = 2 * 3 * 7 * 5 * 6
    assert res.forward == f
    assert res.backward == 2 * f  # weight gradient and x1's gradient (x2 needs none)
    assert res.coverage == {}


@pytest.mark.parametrize("cls,gates", [(nn.LSTM, 4), (nn.GRU, 3), (nn.RNN, 1)])
def test_rnn_layers_on_cpu(cls, gates):
    T_, Bt, i, h, layers = 5, 3, 8, 16, 2
    m = cls(i, h, num_layers=layers)
    per_step = gates * h * (i + h) + gates * h * (h + h)  # layer 1 reads the input, layer 2 the layer-1 output
    f = 2 * T_ * Bt * per_step
    res = count_flops(m, r(T_, Bt, i))
    assert res.forward == f and res.coverage == {}
    if cls is nn.LSTM:  # oneDNN's fused layer: its backward computes every gradient, 2x forward
        assert "mkldnn_rnn_layer" in res.by_op
        assert count_flops(m, r(T_, Bt, i), train_step=True).backward == 2 * f


def test_cdist_both_kernels():
    # small inputs take the direct kernel, large ones the matrix-product form: both 2 B P R M
    res = count_flops(torch.cdist, r(2, 10, 4, requires_grad=True), r(2, 7, 4), train_step=True)
    assert (res.forward, res.backward) == (2 * 2 * 10 * 7 * 4, 2 * 2 * 10 * 7 * 4)
    assert count_flops(torch.cdist, r(2, 30, 4), r(2, 40, 4)).total == 2 * 2 * 30 * 40 * 4


def test_flex_attention_eager_is_counted_and_its_mods_noted():
    from torch.nn.attention.flex_attention import flex_attention
    q, k, v = r(1, 2, 16, 8), r(1, 2, 16, 8), r(1, 2, 16, 8)
    res = count_flops(lambda: flex_attention(q, k, v, score_mod=lambda s, b, h, i, j: s * 2))
    assert res.total == 2 * 2 * 16 * 16 * (8 + 8) and res.attention_full == res.total
    assert any("score_mod" in n for n in res.notes)


def test_meta_attention_with_a_bias_that_requires_grad():
    # T5's relative-position bias is a parameter: on meta the fused kernel cannot take it, the counter passes it on
    q, k, v = (torch.empty(2, 4, 8, 16, device="meta", requires_grad=True) for _ in range(3))
    bias = torch.empty(1, 4, 8, 8, device="meta", requires_grad=True)
    res = count_flops(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=bias), train_step=True)
    f = 2 * 2 * 4 * 8 * 8 * 32
    assert (res.forward, res.backward) == (f, 2 * f)


def test_coverage_lists_only_ops_that_may_hide_macs_with_shapes():
    x = r(4, 4)
    res = count_flops(lambda: (x.all(), torch.histc(x), torch.floor_divide(x, 2),
                               torch.linalg.cholesky(x @ x.mT + torch.eye(4))))
    assert set(res.coverage) == {"aten.linalg_cholesky_ex"}  # O(n^3) work without a formula: listed
    assert res.coverage_shapes["aten.linalg_cholesky_ex"] == [((4, 4),)]
    assert {"aten.all", "aten.histc", "aten.floor_divide"} <= set(res.uncounted_no_mac)
    d = res.to_dict()
    assert d["coverage"]["aten.linalg_cholesky_ex"] == {"calls": 1, "shapes": [[[4, 4]]]}
    assert d["uncounted_no_mac_calls"] == sum(res.uncounted_no_mac.values())


def test_meta_truth_answers_all_and_any_only_when_asked():
    x = torch.empty(3, device="meta")

    def f():
        return 1 if bool((x > 0).all()) and not bool((x > 0).any()) else 0

    with pytest.raises(RuntimeError):
        count_flops(f)
    res = count_flops(f, meta_truth=True)
    assert res.notes and res.total == 0
    with pytest.raises(RuntimeError):  # other values still have none
        count_flops(lambda: x.sum().item(), meta_truth=True)
