"""Cases ported from the two reference FLOP-counter suites, every number exact.

* PyTorch `test/test_flop_counter.py` (github.com/pytorch/pytorch, read at commit
  00dd08a001ce2e43eec5b03592ca4957b8fb5ec1): its expected totals are FLOPs (2 per MAC), like ours.
* fvcore `tests/test_flop_count.py` (github.com/facebookresearch/fvcore, read at commit
  017141c42f50a0328182c1fd42b1de80c3a58efe): its ground truths are MACs, so ours are 2x them.

The cases were re-written here from reading those files (same shapes, same expected numbers), not copied.
Intentional differences are asserted and explained where they occur:

* attention: torch's `test_sdpa` needs CUDA; ours runs on CPU (the CPU fused kernel has a formula), the forward
  matches torch's number and the backward is 2x forward for every backend (torch counts 2.5x for flash and
  memory-efficient kernels: their recomputation of Q K^T; we count model FLOPs, Chowdhery et al. 2022, App. B);
* norms and pooling: fvcore adds batch-norm, group-norm, upsampling and adaptive pooling to its total; we keep
  every non-MAC op outside the total, in `other` (Kaplan et al. 2020, sec. 2.1);
* ops without a formula: fvcore lists `aten::sigmoid` as skipped; for us sigmoid is elementwise (in `other`), so
  nothing is skipped.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from wattwise.flops import count_flops  # noqa: E402

aten = torch.ops.aten


def T(*shape, requires_grad=False):
    return torch.randn(*shape, requires_grad=requires_grad)


def total(fn, *args, **kw):
    return count_flops(fn, *args, **kw).total


# ---- PyTorch test_flop_counter.py --------------------------------------------------------------------------

def test_torch_flop_counter_variety():
    mod = nn.Linear(9, 10)

    def f():
        torch.mm(T(4, 5), T(5, 6))
        torch.addmm(T(4, 6), T(4, 5), T(5, 6), beta=0.5, alpha=0.5)
        torch.matmul(T(5, 6), T(6, 7))
        torch.einsum("ab,bc->ac", T(6, 7), T(7, 8))
        mod(T(8, 9))

    assert total(f) == 3012


@pytest.mark.parametrize("fn,expected", [
    (lambda: torch.mm(T(4, 5), T(5, 6)), 240),
    (lambda: torch.bmm(T(3, 4, 5), T(3, 5, 6)), 720),
    (lambda: (torch.addmm(T(4, 6), T(4, 5), T(5, 6)), torch.addmm(T(4, 1), T(4, 5), T(5, 6)),
              torch.addmm(T(6), T(4, 5), T(5, 6))), 720),
    # wattwise read the bias as the left matrix here before (864); torch's number is 720
    (lambda: torch.baddbmm(T(3, 4, 6), T(3, 4, 5), T(3, 5, 6)), 720),
    (lambda: torch.conv2d(T(2, 3, 6, 6), T(6, 3, 4, 4), padding=1), 28800),
    (lambda: torch.conv1d(T(2, 3, 6), T(6, 3, 4), padding=1), 1440),
], ids=["mm", "bmm", "addmm x3", "baddbmm", "conv2d", "conv1d"])
def test_torch_op(fn, expected):
    assert total(fn) == expected


def test_torch_backward():
    def f():
        a = T(4, 5, requires_grad=True)
        a = torch.mm(a, T(5, 6))
        a = a.unsqueeze(0).expand(7, 4, 6)
        a = torch.bmm(a, T(7, 6, 7))
        a.sum().backward()

    r = count_flops(f)
    assert r.total == 5184
    # torch counts every phase under "Global"; we split them: mm + bmm forward, their input gradients backward
    assert (r.forward, r.backward) == (240 + 2352, 2352 + 240)


def test_torch_torchscript():
    def foo(x):
        return torch.mm(x, x)

    assert total(torch.jit.script(foo), T(5, 5)) == total(foo, T(5, 5)) == 250


def test_torch_autograd_op():
    class _CustomOp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return torch.mm(x, x)

        @staticmethod
        def backward(ctx, grad_output):
            return torch.mm(grad_output, grad_output) + torch.mm(grad_output, grad_output)

    def f():
        a = _CustomOp.apply(T(5, 5, requires_grad=True))
        a.sum().backward()

    assert total(f) == 750


def test_torch_custom_mapping():
    # torch: FlopCounterMode(custom_mapping={aten.add: lambda *args, out: 5}); ours: rules= for one count
    def f():
        a = T(4, 5)
        return a + a

    r = count_flops(f, rules={aten.add: lambda args, out: 5})
    assert r.total == 5 and r.by_kind == {"custom": 5}


def test_torch_noop():
    r = count_flops(lambda: T(4, 5).cos())
    assert r.total == 0
    assert r.other == 20  # difference: elementwise work is tallied apart, not dropped


@pytest.mark.parametrize("sq,sk,fwd,math_fwd_bwd", [
    (128, 128, 134217728, 3 * 134217728),
    (128, 256, 268435456, 805306368),
])
def test_torch_sdpa_on_cpu(sq, sk, fwd, math_fwd_bwd):
    # torch's test_sdpa (CUDA only): batch 4, 8 heads, head_dim 64, is_causal=True. Difference: we count on CPU,
    # and the backward is 2x the forward for every kernel: torch's own number for the math backend; torch's
    # flash / memory-efficient count (7/2 x forward for sq == sk, 939524096 for the other case) adds their
    # recomputation of Q K^T, which model FLOPs leave out.
    q = T(4, 8, sq, 64, requires_grad=True)
    k = T(4, 8, sk, 64, requires_grad=True)
    v = T(4, 8, sk, 64, requires_grad=True)
    f = lambda: F.scaled_dot_product_attention(q, k, v, dropout_p=0, is_causal=True)  # noqa: E731
    with torch.no_grad():
        assert count_flops(f).total == fwd
    r = count_flops(f, train_step=True)
    assert (r.forward, r.total) == (fwd, math_fwd_bwd)
    assert r.attention_full == math_fwd_bwd  # full, as torch counts; causal-effective is reported beside


# ---- fvcore tests/test_flop_count.py (ground truths are MACs: x2) --------------------------------------------

class ThreeNet(nn.Module):
    def __init__(self, input_dim, conv_dim, linear_dim):
        super().__init__()
        self.conv = nn.Conv2d(input_dim, conv_dim, 1, 1)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear1 = nn.Linear(conv_dim, linear_dim)
        self.linear2 = nn.Linear(linear_dim, 1)

    def forward(self, x):
        x = self.pool(self.conv(x))
        return self.linear2(self.linear1(torch.flatten(x, 1)))


@pytest.mark.parametrize("batch,din,dout,extra", [(5, 8, 4, None), (5, 10, 20, None), (5, 10, 20, 5)],
                         ids=["test_nn", "test_linear", "test_linear 3-D input"])
def test_fvcore_linear(batch, din, dout, extra):
    x = T(batch, din) if extra is None else T(batch, extra, din)
    macs = batch * din * dout * (extra or 1)
    assert total(nn.Linear(din, dout), x) == 2 * macs


# (conv_dim, batch, in, out, spatial, kernel, padding, stride, groups, transpose, output_padding): fvcore's 9
FVCORE_CONVS = [
    (2, 5, 10, 3, 15, 3, 1, 1, 1, False, 0),
    (2, 2, 10, 6, 20, 3, 1, 2, 1, False, 0),
    (2, 5, 16, 8, 15, 5, 2, 1, 4, False, 0),
    (2, 5, 16, 8, 15, 3, 1, 1, 8, False, 0),
    (1, 5, 10, 3, 15, 3, 1, 1, 1, False, 0),
    (3, 5, 10, 3, 15, 3, 1, 1, 1, False, 0),
    (2, 5, 10, 3, 15, 3, 1, 1, 1, True, 0),
    (2, 5, 10, 3, 15, 3, 1, 2, 1, True, 0),
    (2, 5, 10, 3, 15, 3, 1, 3, 1, True, 2),
]


@pytest.mark.parametrize("case", FVCORE_CONVS, ids=[f"conv{c[0]}d-{i}" for i, c in enumerate(FVCORE_CONVS)])
def test_fvcore_conv(case):
    d, b, cin, cout, sp, k, p, s, g, transpose, op = case
    layers = ([nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d] if transpose
              else [nn.Conv1d, nn.Conv2d, nn.Conv3d])
    kw = {"output_padding": op} if transpose else {}
    conv = layers[d - 1](cin, cout, k, s, p, groups=g, **kw)
    x = T(b, cin, *([sp] * d))
    out_sp = sp if transpose else (sp + 2 * p - k) // s + 1  # transposed: fvcore counts per input position
    macs = b * cin * cout * k ** d * out_sp ** d // g
    assert total(conv, x) == 2 * macs


@pytest.mark.parametrize("xs,ys,macs", [
    ((20, 10), (10, 100), 20 * 10 * 100),
    ((1, 20, 10), (1, 10, 100), 20 * 10 * 100),
    ((2, 2, 20, 10), (2, 2, 10, 100), 4 * 20 * 10 * 100),
    ((1, 20, 10), (10, 100), 20 * 10 * 100),
    ((2, 20, 10), (10, 100), 2 * 20 * 10 * 100),
    ((3, 4), (4, 5), 60),  # test_torch_mm (matmul)
], ids=["matmul", "broadcast 1", "broadcast 2x2", "broadcast vs 2-D", "batch 2 vs 2-D", "torch_mm"])
def test_fvcore_matmul(xs, ys, macs):
    assert total(torch.matmul, T(*xs), T(*ys)) == 2 * macs


def test_fvcore_mm_and_bmm():
    assert total(torch.mm, T(3, 4), T(4, 5)) == 2 * 60
    n, c, t, p = 2, 5, 2, 12
    assert total(torch.bmm, T(n, c, t), T(n, t, p)) == 2 * n * t * p * c


@pytest.mark.parametrize("eq,xs,ys,macs", [
    ("nct,ncp->ntp", (1, 5, 2), (1, 5, 12), 1 * 2 * 12 * 5),
    ("ntg,ncg->nct", (1, 2, 6), (1, 5, 6), 1 * 2 * 6 * 5),
    ("nc,nchw->hw", (3, 4), (3, 4, 2, 3), 72),  # test_complicated_einsum
])
def test_fvcore_einsum(eq, xs, ys, macs):
    assert total(lambda a, b: torch.einsum(eq, a, b), T(*xs), T(*ys)) == 2 * macs


def test_fvcore_three_net_by_module():
    b, din, conv_dim, sp, lin = 4, 2, 5, 10, 3
    r = count_flops(ThreeNet(din, conv_dim, lin), T(b, din, sp, sp))
    conv = b * conv_dim * din * sp * sp
    by_mod = {name: f["forward"] for name, _, f in r.modules()}
    assert by_mod["ThreeNet.conv"] == 2 * conv
    assert by_mod["ThreeNet.linear1"] == 2 * b * conv_dim * lin
    assert by_mod["ThreeNet.linear2"] == 2 * b * lin
    # difference: fvcore adds adaptive_avg_pool2d (2000, one per input element) to its total; pooling does no
    # multiply-accumulate, so ours leaves it out of the total (the module tree has no pool FLOPs)
    assert by_mod.get("ThreeNet.pool", 0) == 0
    assert r.total == 2 * (conv + b * conv_dim * lin + b * lin)


def test_fvcore_customized_ops():
    net = nn.Sequential(nn.Linear(5, 4), nn.Sigmoid())
    x = torch.rand(10, 5)
    r = count_flops(net, x, rules={aten.sigmoid: lambda a, o: 10000})  # a handle for a new op
    assert r.by_kind["custom"] == 10000 and r.total == 2 * 10 * 5 * 4 + 10000
    r = count_flops(net, x, rules={aten.addmm: (lambda a, o: 400000, "matmul")})  # overriding a default one
    assert r.total == 400000


def test_fvcore_skip_ops_difference():
    # fvcore reports aten::sigmoid as skipped (no handle); ours counts it as elementwise work, outside the total
    r = count_flops(nn.Sequential(nn.Linear(5, 4), nn.Sigmoid()), torch.rand(10, 5))
    assert r.coverage == {} and r.uncounted_no_mac == {}
    assert r.total == 2 * 10 * 5 * 4 and r.other >= 10 * 4


@pytest.mark.parametrize("make,shape,train", [
    (lambda: nn.BatchNorm1d(10, affine=False).eval(), (10, 10), False),
    (lambda: nn.BatchNorm2d(10, affine=False), (10, 10, 5, 5), True),
    (lambda: nn.BatchNorm3d(10, affine=False), (10, 10, 5, 5, 5), True),
], ids=["BatchNorm1d eval", "BatchNorm2d train", "BatchNorm3d train"])
def test_fvcore_batchnorm_difference(make, shape, train):
    # difference: fvcore counts batch norm in its total (1 per element in eval, 4 in training); ours keeps norms
    # outside the MAC total and tallies them in `other`: 5 per element (batch norm's cost in rules.py), and in
    # training the 1 FLOP of `num_batches_tracked += 1`
    r = count_flops(make(), T(*shape))
    n = 1
    for d in shape:
        n *= d
    assert r.total == 0
    assert r.other == 5 * n + (1 if train else 0)
