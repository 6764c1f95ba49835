"""Analytic FLOP formulas. Pure Python integers; no torch.

Convention throughout: FLOPs, never MACs. One multiply-accumulate is 2 FLOPs, so a matrix product
(m x n)(n x p) costs 2 m n p FLOPs (Kaplan et al. 2020, section 2.1). Biases, normalisation, nonlinearities
and softmax are not counted (Kaplan et al. 2020, section 2.1 neglects them as subleading; Narayanan et al.
2021, section 5.1 counts only the GEMMs), except in `hoffmann_forward_flops`, which follows Hoffmann et al.
2022 Appendix F to the letter.
"""

from __future__ import annotations

import math
import operator
from typing import Sequence

from ..errors import InvalidValueError

# Kaplan et al. 2020, section 2.1: forward pass = 2 FLOPs per parameter per token; backward pass = 2x forward,
# so training = 6 FLOPs per parameter per token (C = 6 N D).
FORWARD_FLOPS_PER_PARAM_TOKEN = 2
BACKWARD_TO_FORWARD_RATIO = 2
TRAINING_FLOPS_PER_PARAM_TOKEN = FORWARD_FLOPS_PER_PARAM_TOKEN * (1 + BACKWARD_TO_FORWARD_RATIO)  # = 6


def _int(name: str, value, *, allow_zero: bool = False) -> int:
    """Validate a non-negative whole number (shape, batch, layers...)."""
    if isinstance(value, bool):
        raise InvalidValueError(f"{name} must be a whole number, got {value!r}")
    try:
        v = operator.index(value)
    except TypeError:
        if isinstance(value, float) and value.is_integer():
            v = int(value)
        else:
            raise InvalidValueError(f"{name} must be a whole number, got {value!r}") from None
    if v < 0 or (v == 0 and not allow_zero):
        raise InvalidValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return v


def _tuple(name: str, value, ndim: int) -> tuple[int, ...]:
    if isinstance(value, (int, float)):
        value = (value,) * ndim
    value = tuple(value)
    if len(value) != ndim:
        raise InvalidValueError(f"{name} must have {ndim} entries (one per spatial dim), got {value!r}")
    return value


# ----------------------------------------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------------------------------------

def matmul_flops(m: int, n: int, p: int, batch: int = 1) -> int:
    """FLOPs of `batch` products (m x n)(n x p): 2 m n p each (Kaplan et al. 2020, section 2.1)."""
    return 2 * _int("batch", batch, allow_zero=True) * _int("m", m, allow_zero=True) * \
        _int("n", n, allow_zero=True) * _int("p", p, allow_zero=True)


def linear_flops(tokens: int, in_features: int, out_features: int) -> int:
    """FLOPs of a linear layer applied to `tokens` rows: 2 * tokens * in * out (bias not counted)."""
    return matmul_flops(tokens, in_features, out_features)


def conv_output_size(input_size: Sequence[int], kernel_size, stride=1, padding=0, dilation=1) -> tuple[int, ...]:
    """Spatial output size of a convolution: floor((in + 2 pad - dil (k - 1) - 1) / stride) + 1 per dim."""
    nd = len(input_size)
    k, s, p, d = (_tuple(n, v, nd) for n, v in
                  (("kernel_size", kernel_size), ("stride", stride), ("padding", padding), ("dilation", dilation)))
    out = []
    for i in range(nd):
        o = (input_size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1
        if o <= 0:
            raise InvalidValueError(
                f"convolution output is empty for input {tuple(input_size)}, kernel {k}, stride {s}, padding {p}, "
                f"dilation {d}; the kernel must fit in the padded input")
        out.append(o)
    return tuple(out)


def conv_flops(batch: int, in_channels: int, out_channels: int, input_size: Sequence[int], kernel_size,
               stride=1, padding=0, dilation=1, groups: int = 1) -> int:
    """FLOPs of a (grouped, strided, dilated, padded) convolution, bias not counted.

    Every output element is a dot product of length (in_channels / groups) * prod(kernel), so
    FLOPs = 2 * batch * out_channels * prod(output_size) * (in_channels / groups) * prod(kernel).
    Depthwise is groups == in_channels. Padded positions are multiplied like any other (what a dense kernel does).
    """
    b, ci, co, g = (_int(n, v) for n, v in
                    (("batch", batch), ("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)))
    if ci % g or co % g:
        raise InvalidValueError(f"groups={g} must divide in_channels={ci} and out_channels={co}")
    nd = len(input_size)
    out = conv_output_size(input_size, kernel_size, stride, padding, dilation)
    return 2 * b * co * math.prod(out) * (ci // g) * math.prod(_tuple("kernel_size", kernel_size, nd))


def causal_pairs(seq_q: int, seq_k: int) -> int:
    """Query-key pairs left unmasked by a causal mask aligned top-left (torch's `is_causal=True`): key j <= query i."""
    sq, sk = _int("seq_q", seq_q, allow_zero=True), _int("seq_k", seq_k, allow_zero=True)
    m = min(sq, sk)
    return m * (m + 1) // 2 + (sq - m) * sk


def attention_flops(batch: int, heads: int, seq_q: int, seq_k: int, head_dim: int, head_dim_v: int | None = None,
                    causal: bool = False) -> int:
    """FLOPs of scaled dot-product attention: Q K^T (2 b h sq sk d) plus weights x V (2 b h sq sk dv).

    `causal=False` is the full count (what a dense kernel and Megatron's formula count); `causal=True` is the
    causal-effective count, only the unmasked pairs (`causal_pairs`), what a block-skipping kernel needs.
    Softmax and scaling are not counted.
    """
    dv = head_dim if head_dim_v is None else head_dim_v
    b, h, d = _int("batch", batch, allow_zero=True), _int("heads", heads), _int("head_dim", head_dim)
    pairs = causal_pairs(seq_q, seq_k) if causal else _int("seq_q", seq_q, allow_zero=True) * _int(
        "seq_k", seq_k, allow_zero=True)
    return 2 * b * h * pairs * (d + _int("head_dim_v", dv))


def training_flops(n_params: float, n_tokens: float) -> float:
    """C = 6 N D: training compute of a dense transformer (Kaplan et al. 2020, section 2.1, eq. 2.1 context)."""
    for name, v in (("n_params", n_params), ("n_tokens", n_tokens)):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
            raise InvalidValueError(f"{name} must be a finite number >= 0, got {v!r}")
    return TRAINING_FLOPS_PER_PARAM_TOKEN * n_params * n_tokens


def forward_backward_flops(forward_flops: int) -> dict[str, int]:
    """Split of a training step from its forward FLOPs: backward = 2x forward (Kaplan et al. 2020, section 2.1)."""
    f = _int("forward_flops", forward_flops, allow_zero=True)
    return {"forward": f, "backward": BACKWARD_TO_FORWARD_RATIO * f, "total": (1 + BACKWARD_TO_FORWARD_RATIO) * f}


# ----------------------------------------------------------------------------------------------------------
# Whole-transformer formulas from the literature
# ----------------------------------------------------------------------------------------------------------

def kaplan_params(n_layer: int, d_model: int, d_attn: int | None = None, d_ff: int | None = None) -> int:
    """Non-embedding parameters N = 2 d_model n_layer (2 d_attn + d_ff) (Kaplan et al. 2020, Table 1)."""
    d = _int("d_model", d_model)
    da = d if d_attn is None else _int("d_attn", d_attn)
    dff = 4 * d if d_ff is None else _int("d_ff", d_ff)
    return 2 * d * _int("n_layer", n_layer) * (2 * da + dff)


def kaplan_forward_flops_per_token(n_layer: int, d_model: int, n_ctx: int, d_attn: int | None = None,
                                   d_ff: int | None = None) -> int:
    """C_forward = 2 N + 2 n_layer n_ctx d_attn per token (Kaplan et al. 2020, Table 1 / eq. 2.2).

    N is the non-embedding parameter count (`kaplan_params`); the logits (de-embedding) are not included.
    """
    da = _int("d_model", d_model) if d_attn is None else _int("d_attn", d_attn)
    return 2 * kaplan_params(n_layer, d_model, d_attn, d_ff) + 2 * _int("n_layer", n_layer) * _int("n_ctx", n_ctx) * da


def hoffmann_forward_flops(seq: int, vocab: int, d_model: int, n_layers: int, n_heads: int, key_size: int,
                           ffw_size: int) -> int:
    """Forward FLOPs of one sequence as in Hoffmann et al. 2022 (Chinchilla), Appendix F, Table 4 method.

    Unlike the other formulas here it counts the embedding as a one-hot matmul and softmax as 3 FLOPs per score.
    Training = 3x this (backward = 2x forward, same appendix).
    """
    s, v, d, L, h, k, f = (_int(n, x) for n, x in (("seq", seq), ("vocab", vocab), ("d_model", d_model),
                                                    ("n_layers", n_layers), ("n_heads", n_heads),
                                                    ("key_size", key_size), ("ffw_size", ffw_size)))
    embeddings = 2 * s * v * d
    kqv = 2 * 3 * s * d * (k * h)
    kq_logits = 2 * s * s * (k * h)
    softmax = 3 * h * s * s
    softmax_query_reduction = 2 * s * s * (k * h)
    final_linear = 2 * s * (k * h) * d
    attention = kqv + kq_logits + softmax + softmax_query_reduction + final_linear
    dense_block = 2 * s * (d * f + d * f)
    logits = 2 * s * d * v
    return embeddings + L * (attention + dense_block) + logits


def palm_training_flops_per_token(n_params: int, n_layers: int, n_heads: int, head_dim: int, seq: int) -> int:
    """Training FLOPs per token 6 N + 12 L H Q T (Chowdhery et al. 2022, PaLM, Appendix B).

    The attention term counts full (non-causal) attention; N is the parameter count used for the 6N term.
    """
    return (TRAINING_FLOPS_PER_PARAM_TOKEN * _int("n_params", n_params)
            + 12 * _int("n_layers", n_layers) * _int("n_heads", n_heads) * _int("head_dim", head_dim)
            * _int("seq", seq))


def megatron_training_flops(batch: int, seq: int, n_layers: int, hidden: int, vocab: int,
                            recompute: bool = False) -> int:
    """Training FLOPs of one GPT batch, Narayanan et al. 2021 (Megatron-LM), section 5.1.

    Without activation recomputation: 72 B s l h^2 (1 + s / 6h + V / 12 l h) (forward + 2x backward).
    With full recomputation (the paper's equation): 96 B s l h^2 (1 + s / 6h + V / 16 l h): the transformer
    layers run forward twice, the logits layer once. Assumes a 4h MLP, full attention and the logits on every
    position; biases, norms and softmax are not counted. Computed in exact integers.
    """
    B, s, l, h, V = (_int(n, x) for n, x in (("batch", batch), ("seq", seq), ("n_layers", n_layers),
                                             ("hidden", hidden), ("vocab", vocab)))
    layer_forward = 24 * B * s * l * h * h + 4 * B * s * s * l * h  # 24 B s l h^2 (1 + s / 6h)
    logits_forward = 2 * B * s * h * V
    passes = 4 if recompute else 3
    return passes * layer_forward + 3 * logits_forward


def decoder_flops(*, batch: int, seq: int, n_layers: int, d_model: int, n_heads: int, d_ff: int, vocab: int,
                  n_kv_heads: int | None = None, head_dim: int | None = None, gated_mlp: bool = False,
                  causal: bool = False) -> dict[str, int]:
    """Exact forward matmul FLOPs of a decoder-only transformer, by component (this package's ground truth).

    Per layer: Q, K, V projections (grouped-query K/V when n_kv_heads < n_heads), attention Q K^T and
    weights x V (full, or causal-effective with `causal=True`), output projection, MLP (2 matrices, or 3 for a
    gated/SwiGLU MLP as in LLaMA, Touvron et al. 2023); then the logits. Token and position embeddings are
    lookups: 0 FLOPs. Returns components and `total`; training = 3x total (`forward_backward_flops`).
    """
    B, s, L, d, H, f, V = (_int(n, x) for n, x in (("batch", batch), ("seq", seq), ("n_layers", n_layers),
                                                   ("d_model", d_model), ("n_heads", n_heads), ("d_ff", d_ff),
                                                   ("vocab", vocab)))
    kv = H if n_kv_heads is None else _int("n_kv_heads", n_kv_heads)
    if H % kv:
        raise InvalidValueError(f"n_kv_heads={kv} must divide n_heads={H}")
    hd = d // H if head_dim is None else _int("head_dim", head_dim)
    T = B * s
    parts = {
        "qkv_proj": L * (linear_flops(T, d, H * hd) + 2 * linear_flops(T, d, kv * hd)),
        "attention": L * attention_flops(B, H, s, s, hd, causal=causal),
        "out_proj": L * linear_flops(T, H * hd, d),
        "mlp": L * (3 if gated_mlp else 2) * linear_flops(T, d, f),
        "logits": linear_flops(T, d, V),
        "embeddings": 0,
    }
    parts["total"] = sum(parts.values())
    return parts


def moe_forward_flops_per_token(d_model: int, d_ff: int, n_experts: int, top_k: int, gated_mlp: bool = False) -> int:
    """Forward FLOPs per token of a mixture-of-experts MLP: router (2 d E) plus top_k active experts.

    FLOPs follow active, not total, parameters (Shazeer et al. 2017; Fedus et al. 2022, Switch Transformer,
    section 2): each token runs k of E experts, each a 2- (or 3-, gated) matrix MLP.
    """
    d, f, E, k = (_int(n, x) for n, x in (("d_model", d_model), ("d_ff", d_ff), ("n_experts", n_experts),
                                          ("top_k", top_k)))
    if k > E:
        raise InvalidValueError(f"top_k={k} must be <= n_experts={E}")
    return linear_flops(1, d, E) + k * (3 if gated_mlp else 2) * linear_flops(1, d, f)
