"""A model zoo with analytic ground truth, shared by the tests and `benchmarks/flops_vs_peers.py`.

Each entry builds a model and its inputs on a device and states its FLOPs from the formulas in
`wattwise.flops.formulas`, never from a trace. Ground truth follows the package convention: 2 FLOPs per
multiply-accumulate in matmuls, convolutions and attention; backward computes a weight gradient for every
weight and an input gradient wherever the input needs one (never for the model's own input).
Imports torch: import it only where torch is wanted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from . import formulas as fm
from .shapes import build_model, get_shape


@dataclass
class ZooEntry:
    """`build(device)` -> (module, args, call); call(module, *args) runs one forward (default: module(*args))."""

    name: str
    build: Callable[[str], tuple[nn.Module, tuple]]
    forward_flops: int
    backward_flops: int
    trainable: bool = True  # False: only a forward is meaningful (eval + no_grad fast path)
    meta_ok: bool = True  # False: data-dependent shapes, cannot run on meta
    call: Callable[..., Any] | None = None


def _gen(device):
    return torch.Generator().manual_seed(0) if device != "meta" else None


def _randn(*shape, device):
    if device == "meta":
        return torch.empty(*shape, device="meta")
    return torch.randn(*shape, generator=_gen(device)).to(device)


# -- Linear and MLP -----------------------------------------------------------------------------------------

LIN_B, LIN_IN, LIN_OUT = 64, 256, 512


def _linear(device):
    return nn.Linear(LIN_IN, LIN_OUT, device=device), (_randn(LIN_B, LIN_IN, device=device),)


MLP_B, MLP_DIMS = 64, (128, 512, 512, 10)


def _mlp(device):
    layers = []
    for i, (a, b) in enumerate(zip(MLP_DIMS, MLP_DIMS[1:])):
        layers += [nn.Linear(a, b, device=device)] + ([nn.ReLU()] if i < len(MLP_DIMS) - 2 else [])
    return nn.Sequential(*layers), (_randn(MLP_B, MLP_DIMS[0], device=device),)


def _mlp_truth():
    per = [fm.linear_flops(MLP_B, a, b) for a, b in zip(MLP_DIMS, MLP_DIMS[1:])]
    # every layer: weight grad; every layer but the first: input grad
    return sum(per), 2 * sum(per) - per[0]


# -- CNN: strided, dilated + grouped, depthwise, pointwise, transposed ----------------------------------------

CNN_B, CNN_HW = 4, 32
# (in, out, kernel, stride, padding, dilation, groups)
CNN_LAYERS = ((3, 32, 3, 2, 1, 1, 1), (32, 64, 3, 1, 2, 2, 4), (64, 64, 3, 1, 1, 1, 64), (64, 128, 1, 1, 0, 1, 1))
CNN_HEAD = (16, 10)


class _CNN(nn.Module):
    def __init__(self, device):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(i, o, k, s, p, d, g, device=device) for i, o, k, s, p, d, g in CNN_LAYERS)
        self.up = nn.ConvTranspose2d(128, 16, 2, stride=2, device=device)
        self.head = nn.Linear(*CNN_HEAD, device=device)

    def forward(self, x):
        for c in self.convs:
            x = F.relu(c(x))
        x = self.up(x)
        return self.head(x.mean(dim=(2, 3)))


def _cnn(device):
    return _CNN(device), (_randn(CNN_B, 3, CNN_HW, CNN_HW, device=device),)


def _cnn_truth():
    hw, per = (CNN_HW, CNN_HW), []
    for i, o, k, s, p, d, g in CNN_LAYERS:
        per.append(fm.conv_flops(CNN_B, i, o, hw, k, s, p, d, g))
        hw = fm.conv_output_size(hw, k, s, p, d)
    # ConvTranspose2d(128, 16, 2, stride 2): every input element is multiplied by a 16 x 2 x 2 kernel block
    per.append(2 * CNN_B * hw[0] * hw[1] * 128 * 16 * 2 * 2)
    per.append(fm.linear_flops(CNN_B, 16, CNN_HEAD[1]))
    return sum(per), 2 * sum(per) - per[0]


# -- GPT (sdpa or matmul attention) --------------------------------------------------------------------------

GPT_SHAPE = replace(get_shape("gpt2"), name="gpt-tiny", n_layers=2, d_model=128, n_heads=4, d_ff=512, vocab=1000,
                    n_ctx=128)
GPT_B, GPT_T = 4, 64


def _gpt(attention):
    def build(device):
        m = build_model(GPT_SHAPE, device=device, attention=attention)
        idx = torch.randint(0, GPT_SHAPE.vocab, (GPT_B, GPT_T), generator=_gen(device)) if device != "meta" else \
            torch.empty(GPT_B, GPT_T, dtype=torch.long, device="meta")
        return m, (idx.to(device),)
    return build


def _gpt_truth():
    f = GPT_SHAPE.forward_flops(batch=GPT_B, seq=GPT_T)["total"]
    return f, 2 * f  # the first matmul's input comes from trainable embeddings: every input gradient is needed


# -- nn.TransformerEncoderLayer --------------------------------------------------------------------------------

TEL_D, TEL_H, TEL_FF, TEL_B, TEL_S = 128, 4, 512, 4, 32


def _tel(device):
    layer = nn.TransformerEncoderLayer(TEL_D, TEL_H, TEL_FF, dropout=0.0, batch_first=True, device=device)
    return layer, (_randn(TEL_B, TEL_S, TEL_D, device=device),)


def _tel_eval(device):
    layer, args = _tel(device)
    return layer.eval(), args


def _no_grad_call(m, *args):
    with torch.no_grad():
        return m(*args)


def _tel_truth():
    T = TEL_B * TEL_S
    in_proj = fm.linear_flops(T, TEL_D, 3 * TEL_D)
    fwd = (in_proj + fm.linear_flops(T, TEL_D, TEL_D)
           + fm.attention_flops(TEL_B, TEL_H, TEL_S, TEL_S, TEL_D // TEL_H)
           + fm.linear_flops(T, TEL_D, TEL_FF) + fm.linear_flops(T, TEL_FF, TEL_D))
    return fwd, 2 * fwd - in_proj  # the layer's input needs no gradient


# -- Mixture of experts ----------------------------------------------------------------------------------------

MOE_D, MOE_FF, MOE_E, MOE_K, MOE_T = 64, 256, 8, 2, 128


class MoE(nn.Module):
    """Top-k of E two-matrix experts plus a linear router (Shazeer et al. 2017).

    impl="loop": each expert runs on the tokens routed to it (data-dependent shapes, CPU/CUDA only).
    impl="gather": each token gathers its k experts' weights (static shapes, runs on meta too).
    """

    def __init__(self, d, ff, n_experts, top_k, impl="loop", device=None):
        super().__init__()
        self.k, self.impl = top_k, impl
        self.router = nn.Linear(d, n_experts, bias=False, device=device)
        self.w1 = nn.Parameter(torch.randn(n_experts, d, ff, device=device) * d ** -0.5)
        self.w2 = nn.Parameter(torch.randn(n_experts, ff, d, device=device) * ff ** -0.5)

    def forward(self, x):
        scores, idx = self.router(x).topk(self.k, dim=-1)
        gates = scores.softmax(dim=-1)
        if self.impl == "gather":
            h = F.gelu(x[:, None, None, :] @ self.w1[idx])  # (T, k, 1, ff)
            y = (h @ self.w2[idx]).squeeze(2)  # (T, k, d)
            return (gates.unsqueeze(-1) * y).sum(dim=1)
        out = torch.zeros_like(x)
        for e in range(self.w1.shape[0]):
            tok, slot = (idx == e).nonzero(as_tuple=True)
            if tok.numel():
                y = F.gelu(x[tok] @ self.w1[e]) @ self.w2[e]
                out = out.index_add(0, tok, gates[tok, slot].unsqueeze(-1) * y)
        return out


def _moe(impl):
    def build(device):
        torch.manual_seed(0)
        return MoE(MOE_D, MOE_FF, MOE_E, MOE_K, impl, device=device), (_randn(MOE_T, MOE_D, device=device),)
    return build


def _moe_truth():
    fwd = MOE_T * fm.moe_forward_flops_per_token(MOE_D, MOE_FF, MOE_E, MOE_K)
    router = fm.linear_flops(MOE_T, MOE_D, MOE_E)
    first = MOE_T * MOE_K * fm.linear_flops(1, MOE_D, MOE_FF)
    return fwd, 2 * fwd - router - first  # router and first expert matrix read x, which needs no gradient


def _entries() -> list[ZooEntry]:
    lin = fm.linear_flops(LIN_B, LIN_IN, LIN_OUT)
    return [
        ZooEntry("linear", _linear, lin, lin),
        ZooEntry("mlp", _mlp, *_mlp_truth()),
        ZooEntry("cnn", _cnn, *_cnn_truth()),
        ZooEntry("gpt-sdpa", _gpt("sdpa"), *_gpt_truth()),
        ZooEntry("gpt-matmul", _gpt("matmul"), *_gpt_truth()),
        ZooEntry("encoder-layer-train", _tel, *_tel_truth()),
        ZooEntry("encoder-layer-eval", _tel_eval, _tel_truth()[0], 0, trainable=False, call=_no_grad_call),
        ZooEntry("moe-loop", _moe("loop"), *_moe_truth(), meta_ok=False),
        ZooEntry("moe-gather", _moe("gather"), *_moe_truth()),
    ]


ZOO: dict[str, ZooEntry] = {e.name: e for e in _entries()}
