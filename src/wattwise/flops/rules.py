"""The built-in FLOP rules over aten ops: which ops do multiply-accumulates (and how many), which do no
arithmetic, and the elementwise / reduction / normalisation costs.

A rule is `rule(args, out) -> (kind, flops, attention_full, attention_causal_effective)` where `args` is the
op's arguments bound by their schema names (keyword arguments included) and `out` its output. `_rule_for(func)`
resolves an OpOverload to its built-in `_Rule` (cached). User rules live in `registry.py` and take precedence.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch.utils._pytree import tree_flatten

from . import formulas

aten = torch.ops.aten

MAC_KINDS = ("matmul", "conv", "attention")


# ----------------------------------------------------------------------------------------------------------
# Formulas over aten ops. Each rule: (args bound by schema name, out) -> (kind, flops, attention full, causal)
# ----------------------------------------------------------------------------------------------------------

def _shape(t) -> tuple[int, ...]:
    return tuple(t.shape)


def _mm(a, b, out):
    m, k = _shape(a)
    return 2 * m * k * _shape(b)[1]


def _bmm(a, b):
    bb, m, k = _shape(a)
    return 2 * bb * m * k * _shape(b)[2]


def _conv(x, w, out, transposed) -> int:
    # Each output (input, if transposed) element of each sample is a dot product with w.numel() / c_out weights:
    # FLOPs = 2 * batch * prod(spatial) * w.numel(); w is (c_out, c_in/groups, *k) or (c_in, c_out/groups, *k).
    spatial = _shape(x)[2:] if transposed else _shape(out)[2:]
    return 2 * _shape(x)[0] * math.prod(spatial) * w.numel()


def _sdpa_count(q, k, v, is_causal: bool) -> tuple[int, int]:
    """(full, causal-effective) forward FLOPs of attention on 4-D (or more) q, k, v; GQA via q's heads."""
    *lead, sq, d = _shape(q)
    sk, dv = _shape(k)[-2], _shape(v)[-1]
    bh = math.prod(lead)
    full = 2 * bh * sq * sk * (d + dv)
    eff = 2 * bh * formulas.causal_pairs(sq, sk) * (d + dv) if is_causal else full
    return full, eff


def _attn_fwd(b, out):
    full, eff = _sdpa_count(b["query"], b["key"], b["value"], bool(b.get("is_causal", False)))
    return "attention", full, full, eff


def _attn_bwd(b, out):
    # Algorithmic backward = 2x forward (grad of Q K^T and of weights x V, two products each); a flash kernel's
    # recomputation of Q K^T is not counted (model FLOPs, Chowdhery et al. 2022, App. B).
    full, eff = _sdpa_count(b["query"], b["key"], b["value"], bool(b.get("is_causal", False)))
    return "attention", 2 * full, 2 * full, 2 * eff


def _nested_lengths(t) -> list[int] | None:
    if not getattr(t, "is_nested", False):
        return None
    try:
        return [int(n) for n in t._nested_tensor_size()[:, 0].tolist()]
    except Exception:  # pragma: no cover - layout we do not know
        return None


def _mha_core(b, q, kv_src, d: int, heads: int) -> tuple[int, int]:
    """(projection + attention + output projection) FLOPs of one multi-head attention on dense or nested input."""
    lq, lk = _nested_lengths(q), _nested_lengths(kv_src)
    if lq is None:
        B, sq = _shape(q)[0], _shape(q)[1]
        sk = _shape(kv_src)[1]
        lq, lk = [sq] * B, [sk] * B
    tq, tk = sum(lq), sum(lk)
    proj = 2 * tq * d * d + 2 * 2 * tk * d * d + 2 * tq * d * d  # q, k, v, out projections (qkv_weight is 3d x d)
    attn = sum(2 * a * c * (d + d) for a, c in zip(lq, lk))  # Q K^T and weights x V over all heads
    return proj, attn


def _native_mha(b, out):
    # nn.MultiheadAttention inference fast path (torch._native_multi_head_attention).
    d = int(b["embed_dim"])
    proj, attn = _mha_core(b, b["query"], b["key"], d, int(b["num_head"]))
    return "matmul", proj + attn, attn, attn


def _encoder_layer(b, out):
    # nn.TransformerEncoderLayer inference fast path (torch._transformer_encoder_layer_fwd): self-attention
    # (q, k, v, out projections + attention) and the two FFN matrices.
    src, d = b["src"], int(b["embed_dim"])
    proj, attn = _mha_core(b, src, src, d, int(b["num_heads"]))
    lens = _nested_lengths(src)
    tokens = sum(lens) if lens is not None else _shape(src)[0] * _shape(src)[1]
    ffn = 2 * tokens * (b["ffn_weight_1"].numel() + b["ffn_weight_2"].numel())
    return "matmul", proj + attn + ffn, attn, attn


def _conv_fwd(b, out):
    return "conv", _conv(b["input"], b["weight"], out, bool(b.get("transposed", False))), 0, 0


def _conv_bwd(b, out):
    # grad_input is the transposed conv of grad_output with the same weights, grad_weight correlates input with
    # grad_output: each costs exactly the forward's MACs, whatever the groups (torch's formula overcounts
    # grad_weight by the number of groups).
    mask = b.get("output_mask", (True, True, True))
    x, w, go = b["input"], b["weight"], b["grad_output"]
    fwd = _conv(x, w, go, bool(b["transposed"]))
    return "conv", fwd * (int(bool(mask[0])) + int(bool(mask[1]))), 0, 0


def _simple(kind: str, fn: Callable[..., int]):
    return lambda b, out: (kind, fn(b, out), 0, 0)


def _batched_mm(b, out):
    # bmm(self, mat2); baddbmm(self=bias, batch1, batch2): the product is batch1 @ batch2, never the bias
    if "batch1" in b:
        return _bmm(b["batch1"], b["batch2"])
    return _bmm(b["self"], b["mat2"])


def _grouped_mm(b, out) -> int:
    """aten._grouped_mm / _scaled_grouped_mm (transformers 5's default MoE experts path), by operand ranks:

    * 2-D x 3-D: (M_total, K) x (G, K, N), `offs` splitting the rows by group -> (M_total, N): 2 M_total K N;
    * 3-D x 3-D: (G, M, K) x (G, K, N) -> (G, M, N): 2 G M K N;
    * 3-D x 2-D: (G, M, K) x (K, N_total), `offs` splitting the columns -> (M, N_total): 2 M K N_total;
    * 2-D x 2-D: (M, K_total) x (K_total, N), `offs` splitting K -> (G, M, N): 2 M K_total N (the weight-gradient
      form of the 2-D x 3-D case).

    Every row (column) is counted as routed: on the meta device `offs` has no values, and transformers' experts
    route all tokens x top_k rows (rows past offs[-1], expert-parallel sentinels only, would be counted too).
    """
    a, w = b["self"], b["mat2"]
    if a.dim() == 2 and w.dim() == 2:
        return 2 * _shape(a)[0] * _shape(a)[1] * _shape(w)[1]
    return 2 * out.numel() * _shape(a)[-1]


def _trilinear(b, out) -> int:
    # aten._trilinear (nn.Bilinear / F.bilinear): sum over `sumdim` of i1 * i2 * i3, each unsqueezed at its expand
    # dims. One multiply-accumulate per term of the sum: FLOPs = 2 x the broadcast size of the three operands
    # (for nn.Bilinear: 2 * batch * out * in1 * in2, i.e. 2 per weight per sample, as for a linear layer).
    shapes = []
    for t, ex in ((b["i1"], b["expand1"]), (b["i2"], b["expand2"]), (b["i3"], b["expand3"])):
        s = list(_shape(t))
        for d in sorted(int(e) for e in ex):
            s.insert(d, 1)
        shapes.append(s)
    full = [max(dims) for dims in zip(*shapes)]
    return 2 * math.prod(full)


def _rnn_rows(x) -> int:
    """Time steps x batch of an RNN input: (T, B, in), (B, T, in) or packed (sum of lengths, in)."""
    return x.numel() // _shape(x)[-1] if x.dim() else 0


def _mkldnn_rnn(b, out) -> int:
    # aten.mkldnn_rnn_layer: one layer, one direction of nn.LSTM / GRU / RNN on CPU (oneDNN). Every step multiplies
    # the input by w_ih (gates x in) and the previous hidden state by w_hh (gates x hidden): 2 FLOPs per weight
    # per (step, sample). The gate nonlinearities are elementwise and not counted.
    return 2 * _rnn_rows(b["input"]) * (b["weight0"].numel() + b["weight1"].numel())


def _mkldnn_rnn_bwd(b, out) -> int:
    # the fused backward computes grad_input (x w_ih), grad of h (x w_hh) and both weight gradients: 2x forward;
    # the kernel has no output mask, so grad_input is computed (and counted) even for the model's own input.
    return 2 * 2 * _rnn_rows(b["input"]) * (b["weight1"].numel() + b["weight2"].numel())


def _packed_rnn(b, out) -> int:
    # aten._cudnn_rnn / miopen_rnn: every layer and direction at once; `weight` lists, per layer and direction,
    # w_ih, w_hh (, b_ih, b_hh) (, w_hr with proj_size). Each 2-D weight is applied once per (step, sample).
    rows = _rnn_rows(b["input"])
    return 2 * rows * sum(w.numel() for w in b["weight"] if w.dim() == 2)


def _cdist(b, out) -> int:
    # cdist(x1 (.., P, M), x2 (.., R, M)): one multiply-accumulate per coordinate per pair, 2 B P R M FLOPs, for both
    # kernels (the direct (x - y)^p form and the matrix-product form `_euclidean_dist`); the norms, square roots
    # and, in the direct form, the subtractions are elementwise and not counted.
    x1, x2 = b["x1"], b["x2"]
    return 2 * (x1.numel() // _shape(x1)[-1]) * _shape(x2)[-2] * _shape(x1)[-1]


def _cdist_bwd(b, out) -> int:
    # gradient with respect to x1 (torch calls it once per input that needs one): the same 2 B P R M
    return _cdist({"x1": b["x1"], "x2": b["x2"]}, out)


_MAC_RULES: dict[Any, Callable] = {
    aten.mm: _simple("matmul", lambda b, o: _mm(b["self"], b["mat2"], o)),
    aten.addmm: _simple("matmul", lambda b, o: _mm(b["mat1"], b["mat2"], o)),
    aten._addmm_activation: _simple("matmul", lambda b, o: _mm(b["mat1"], b["mat2"], o)),
    aten.bmm: _simple("matmul", _batched_mm),
    aten.baddbmm: _simple("matmul", _batched_mm),
    aten.addbmm: _simple("matmul", _batched_mm),
    aten._trilinear: _simple("matmul", _trilinear),
    aten._cdist_forward: _simple("matmul", _cdist),
    aten._euclidean_dist: _simple("matmul", _cdist),
    aten._cdist_backward: _simple("matmul", _cdist_bwd),
    aten.mkldnn_rnn_layer: _simple("matmul", _mkldnn_rnn),
    aten.mkldnn_rnn_layer_backward: _simple("matmul", _mkldnn_rnn_bwd),
    aten.mv: _simple("matmul", lambda b, o: 2 * b["self"].numel()),
    aten.addmv: _simple("matmul", lambda b, o: 2 * b["mat"].numel()),
    aten.dot: _simple("matmul", lambda b, o: 2 * b["self"].numel()),
    aten.vdot: _simple("matmul", lambda b, o: 2 * b["self"].numel()),
    aten.addr: _simple("matmul", lambda b, o: 2 * o.numel()),
    aten._scaled_mm: _simple("matmul", lambda b, o: _mm(b["self"], b["mat2"], o)),
    aten._int_mm: _simple("matmul", lambda b, o: _mm(b["self"], b["mat2"], o)),
    aten.convolution: _conv_fwd,
    aten._convolution: _conv_fwd,
    aten.convolution_backward: _conv_bwd,
    aten._transformer_encoder_layer_fwd: _encoder_layer,
    aten._native_multi_head_attention: _native_mha,
}
def _mm_fast(args) -> int:  # mm(self, mat2), the count of _mm read from the positional arguments
    a = args[0].shape
    m, k = a
    return 2 * m * k * args[1].shape[1]


def _addmm_fast(args) -> int:  # addmm(self=bias, mat1, mat2)
    m, k = args[1].shape
    return 2 * m * k * args[2].shape[1]


def _bmm_fast(args) -> int:  # bmm(self, mat2), as _bmm
    bb, m, k = args[0].shape
    return 2 * bb * m * k * args[1].shape[2]


# The commonest multiply-accumulate ops counted from their positional arguments (no binding by name), when they
# come with no keyword arguments: {packet: (positional arguments needed, fn(args) -> flops)}; same numbers as
# the rules above.
_MAC_FAST: dict[Any, tuple[int, Callable]] = {aten.mm: (2, _mm_fast), aten.addmm: (3, _addmm_fast),
                                              aten.bmm: (2, _bmm_fast)}

for _name in ("_grouped_mm", "grouped_mm", "_scaled_grouped_mm", "scaled_grouped_mm"):
    if hasattr(aten, _name):  # grouped_mm / scaled_grouped_mm do not exist in every torch
        _MAC_RULES[getattr(aten, _name)] = _simple("matmul", _grouped_mm)
for _name in ("_cudnn_rnn", "miopen_rnn"):
    if hasattr(aten, _name):
        _MAC_RULES[getattr(aten, _name)] = _simple("matmul", _packed_rnn)
        if hasattr(aten, _name + "_backward"):
            _MAC_RULES[getattr(aten, _name + "_backward")] = _simple("matmul", lambda b, o: 2 * _packed_rnn(b, o))
for _name in ("_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_flash_attention",
              "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention",
              "_scaled_dot_product_fused_attention_overrideable"):
    if hasattr(aten, _name):
        _MAC_RULES[getattr(aten, _name)] = _attn_fwd
        if hasattr(aten, _name + "_backward"):
            _MAC_RULES[getattr(aten, _name + "_backward")] = _attn_bwd

# Ops that move or create data and do no arithmetic: 0 FLOPs by definition.
_ZERO = {
    "view", "_unsafe_view", "reshape", "_reshape_alias", "t", "transpose", "permute", "expand", "squeeze",
    "unsqueeze", "select", "slice", "split", "split_with_sizes", "unbind", "chunk", "alias", "as_strided",
    "detach", "clone", "copy_", "_to_copy", "contiguous", "cat", "stack", "empty", "empty_like",
    "empty_strided", "new_empty", "new_empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full",
    "full_like", "new_zeros", "new_ones", "new_full", "arange", "scalar_tensor", "lift_fresh", "lift_fresh_copy",
    "embedding", "index_select", "gather", "index", "_unsafe_index", "_local_scalar_dense", "fill_", "zero_",
    "fill", "tril", "triu", "repeat", "repeat_interleave", "roll", "flip", "constant_pad_nd", "diagonal",
    "unfold", "slice_scatter", "select_scatter", "as_strided_scatter", "index_put", "index_put_", "scatter",
    "scatter_", "masked_fill", "masked_fill_", "where", "bernoulli_", "bernoulli", "uniform_", "normal_",
    "rand", "randn", "randint", "rand_like", "randn_like", "randperm", "topk", "sort", "argmax", "argmin",
    "argsort", "max", "min", "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and", "logical_or",
    "bitwise_not", "bitwise_and", "bitwise_or", "isinf", "isnan", "one_hot", "nonzero", "_nested_tensor_from_mask",
    "_to_dense", "_pin_memory", "set_", "resize_", "_unsafe_view_copy", "pad", "expand_copy", "view_copy",
    "masked_select", "masked_scatter", "_assert_async", "_functional_assert_async",
    "_fused_sdp_choice", "sym_constrain_range", "_foreach_copy_", "_foreach_zero_",
    "_efficientzerotensor", "resize_as_", "select_backward", "slice_backward", "index_select_backward",
    "diagonal_backward", "unfold_backward", "as_strided_copy", "t_copy", "transpose_copy", "permute_copy",
    "unsqueeze_copy", "squeeze_copy", "_nested_tensor_size", "_nested_view_from_buffer", "item",
    "unsafe_split", "unsafe_split_with_sizes", "unsafe_chunk", "eye", "linspace", "logspace", "tensor_split",
    "narrow", "movedim", "swapaxes", "unflatten", "flatten", "_unsafe_masked_index", "_unsafe_index_put",
    "new_tensor", "_pad_packed_sequence", "_pack_padded_sequence", "split_copy", "col2im", "im2col",
    "channel_shuffle", "pixel_shuffle", "pixel_unshuffle", "zeros_like_", "block_diag",
}

# Ops without a formula that cannot carry multiply-accumulate work (predicates, integer and index arithmetic,
# histograms, sorting-like selections): when one runs it is summarised as a count in
# `FlopCount.uncounted_no_mac`, never listed in `FlopCount.coverage`, which is kept for ops that may hide MACs.
# An op also counts as MAC-free when none of its tensor inputs is floating point or complex.
_NO_MAC = {
    "all", "any", "histc", "histogram", "bincount", "bucketize", "searchsorted", "floor_divide", "remainder",
    "fmod", "unique", "_unique", "_unique2", "unique_consecutive", "unique_dim", "count_nonzero", "equal",
    "allclose", "isclose", "is_nonzero", "isin", "kthvalue", "median", "nanmedian", "mode", "cummax", "cummin",
    "logcumsumexp", "cumprod", "_linalg_check_errors", "is_same_size", "_has_compatible_shallow_copy_type",
    "aminmax", "max_pool1d", "max_pool2d", "max_pool3d", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "max_pool2d_with_indices_backward", "max_pool3d_with_indices_backward", "adaptive_max_pool2d",
    "adaptive_max_pool2d_backward", "adaptive_avg_pool2d", "_adaptive_avg_pool2d", "_adaptive_avg_pool2d_backward",
    "adaptive_avg_pool3d", "_adaptive_avg_pool3d", "avg_pool2d", "avg_pool2d_backward", "avg_pool3d",
    "upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d", "upsample_bilinear2d", "upsample_linear1d",
    "upsample_bicubic2d", "upsample_trilinear3d", "_upsample_nearest_exact2d", "grid_sampler_2d",
    "_fused_moving_avg_obs_fq_helper", "nan_to_num", "sign", "signbit", "clamp", "clip", "heaviside",
    "_thnn_fused_lstm_cell", "_thnn_fused_lstm_cell_backward_impl", "_thnn_fused_gru_cell",
    "_thnn_fused_gru_cell_backward", "_weight_norm_interface", "renorm", "cross_entropy_loss", "binary_cross_entropy",
    "binary_cross_entropy_backward", "binary_cross_entropy_with_logits", "nll_loss2d_backward", "smooth_l1_loss",
    "huber_loss", "_ctc_loss", "_ctc_loss_backward", "multinomial", "poisson", "_standard_gamma", "_sample_dirichlet",
    "exponential_", "geometric_", "log_normal_", "cauchy_", "random_", "_local_scalar_dense",
}

# Elementwise costs (FLOPs per output element) for ops that do more than one operation; default 1.
_EW_COST = {
    "addcmul": 3, "addcdiv": 3, "lerp": 3, "_softmax": 3, "_safe_softmax": 3, "_log_softmax": 3,  # Hoffmann 2022 App. F: softmax 3 / element
    "_softmax_backward_data": 3, "_log_softmax_backward_data": 3, "native_layer_norm": 5,
    "native_layer_norm_backward": 8, "_fused_rms_norm": 4, "native_dropout": 1, "gelu_backward": 2,
    "native_batch_norm": 5, "_native_batch_norm_legit": 5, "_native_batch_norm_legit_no_training": 4,
    "native_batch_norm_backward": 8, "embedding_dense_backward": 1, "_fused_sgd_": 2, "_fused_adam_": 13,
    "_fused_adamw_": 14, "mse_loss": 3, "nll_loss_forward": 1, "nll_loss_backward": 1, "native_group_norm": 5,
}
# Reductions: FLOPs = elements read.
_REDUCTIONS = {"sum", "mean", "amax", "amin", "prod", "norm", "linalg_vector_norm", "var", "var_mean", "std",
               "std_mean", "logsumexp", "cumsum", "_foreach_norm", "nll_loss_forward", "nll_loss2d_forward",
               "mse_loss"}
_INPUT_SIZED = _REDUCTIONS | {"native_layer_norm", "native_batch_norm", "_native_batch_norm_legit",
                              "_native_batch_norm_legit_no_training", "native_group_norm", "_fused_rms_norm"}
_METADATA = {
    aten.sym_is_contiguous.default if hasattr(aten, "sym_is_contiguous") else None,
    aten.is_contiguous.default, aten.is_contiguous.memory_format, aten.is_strides_like_format.default,
    aten.is_non_overlapping_and_dense.default, aten.size.default, aten.sym_size.default, aten.stride.default,
    aten.sym_stride.default, aten.storage_offset.default, aten.sym_storage_offset.default, aten.numel.default,
    aten.sym_numel.default, aten.dim.default, torch.ops.prim.layout.default, torch.ops.prim.device.default,
}

def _can_carry_macs(func, args) -> bool:
    """Whether an op with no rule may hide multiply-accumulates (then it is listed in the coverage)."""
    name = func._overloadpacket.__name__
    if name in _NO_MAC or name.rstrip("_") in _NO_MAC:
        return False
    flat, _ = tree_flatten(args)
    return any(isinstance(t, torch.Tensor) and (t.is_floating_point() or t.is_complex()) for t in flat)


def _shape_sig(args) -> tuple:
    """The shapes of an op's tensor arguments, in order (lists of tensors flattened), for the coverage report."""
    flat, _ = tree_flatten(args)
    return tuple(tuple(t.shape) for t in flat if isinstance(t, torch.Tensor))


def _numel_of_tensors(x) -> int:
    if type(x) is torch.Tensor or type(x) is torch.nn.Parameter:  # a plain tensor is a pytree leaf: no flattening
        return x.numel()
    flat, _ = tree_flatten(x)
    return sum(t.numel() for t in flat if isinstance(t, torch.Tensor))


_MISSING = object()


def _arg_getter(names: tuple, name: str, default):
    """`get(args, kwargs)`: what `dict(zip(names, args), **kwargs).get(name, default)` reads, without the dict."""
    i = names.index(name) if name in names else None

    def get(args, kwargs):
        if kwargs and name in kwargs:
            return kwargs[name]
        if i is not None and i < len(args):
            return args[i]
        return default

    return get


def _ew_rule(name: str, func):
    """An elementwise/reduction/normalisation rule, or None when `func` is none of those."""
    base = name[len("_foreach_"):] if name.startswith("_foreach_") else name
    stem = base.rstrip("_") if base not in _EW_COST else base
    pointwise = torch.Tag.pointwise in func.tags or name.startswith("_foreach_") or base in _EW_COST \
        or stem in _EW_COST
    if stem in ("index_add", "scatter_add", "scatter_reduce", "index_reduce"):
        pointwise = True
    if not (pointwise or base in _REDUCTIONS):
        return None
    cost = _EW_COST.get(base, _EW_COST.get(stem, 1))
    input_sized = base in _INPUT_SIZED or stem in _INPUT_SIZED
    names = tuple(a.name for a in func._schema.arguments)
    alpha_arg = "alpha" in names
    value_arg = "value" in names
    value_base = base in ("addcmul", "addcdiv", "addcmul_", "addcdiv_")

    def rule(b, out):
        if "source" in b or "src" in b:  # index_add, scatter_add, scatter_reduce: one op per source element
            return "elementwise", _numel_of_tensors(b.get("source", b.get("src"))), 0, 0
        if name.startswith("_fused_"):
            n = _numel_of_tensors(b["self"])
        elif input_sized:
            n = _numel_of_tensors(b.get("self", b.get("input")))
        elif name.startswith("_foreach_"):
            n = _numel_of_tensors(b.get("self"))
        else:
            n = _numel_of_tensors(out)
            if n == 0:  # in-place op returning nothing countable
                n = _numel_of_tensors(b.get("self"))
        c = cost
        if alpha_arg and b.get("alpha", 1) != 1:
            c += 1
        if value_arg and value_base and b.get("value", 1) == 1:
            c -= 1
        return "elementwise", c * n, 0, 0

    rule.fast = _ew_fast(name, names, cost, input_sized, alpha_arg, value_arg and value_base, rule)
    return rule


def _ew_fast(name, names, cost, input_sized, alpha_arg, value_check, rule):
    """`fast(args, kwargs, out) -> flops` of an elementwise `rule`, the same number as `rule(bound, out)[1]` with
    the arguments read in place instead of bound into a dict (one per op call on the counter's hot path)."""
    if "source" in names or "src" in names or name.startswith("_fused_"):
        def slow(args, kwargs, out):
            b = dict(zip(names, args))
            if kwargs:
                b.update(kwargs)
            return rule(b, out)[1]
        return slow
    get_self = _arg_getter(names, "self", _MISSING)
    get_input = _arg_getter(names, "input", None)
    get_alpha = _arg_getter(names, "alpha", 1)
    get_value = _arg_getter(names, "value", 1)
    numel = _numel_of_tensors
    foreach = name.startswith("_foreach_")
    plain = not (input_sized or foreach or alpha_arg or value_check)

    if plain:  # most pointwise ops (add.Tensor has alpha: not here): cost x output size
        def fast(args, kwargs, out):
            if type(out) is torch.Tensor:
                n = out.numel()
            else:
                n = numel(out)
            if n == 0:
                v = get_self(args, kwargs)
                n = numel(None if v is _MISSING else v)
            return cost * n
        return fast

    def fast(args, kwargs, out):
        if input_sized:
            v = get_self(args, kwargs)
            n = numel(get_input(args, kwargs) if v is _MISSING else v)
        elif foreach:
            v = get_self(args, kwargs)
            n = numel(None if v is _MISSING else v)
        else:
            n = numel(out)
            if n == 0:
                v = get_self(args, kwargs)
                n = numel(None if v is _MISSING else v)
        c = cost
        if alpha_arg and get_alpha(args, kwargs) != 1:
            c += 1
        if value_check and get_value(args, kwargs) == 1:
            c -= 1
        return c * n

    return fast


class _Rule:
    """`fn(bound, out)` and the schema `names` it binds by; `zero`: no arithmetic; `unknown`: no rule;
    `ew`: for elementwise rules, `ew(args, kwargs, out) -> flops` (the same count, no binding)."""

    __slots__ = ("fn", "names", "zero", "unknown", "ew")

    def __init__(self, fn, names, zero=False, unknown=False, ew=None):
        self.fn, self.names, self.zero, self.unknown, self.ew = fn, names, zero, unknown, ew


_RULE_CACHE: dict[Any, _Rule] = {}


def _rule_for(func) -> _Rule:
    r = _RULE_CACHE.get(func)
    if r is not None:
        return r
    packet = func._overloadpacket
    names = tuple(a.name for a in func._schema.arguments)
    name = packet.__name__
    if packet in _MAC_RULES:
        r = _Rule(_MAC_RULES[packet], names)
    elif name in _ZERO or name.rstrip("_") in _ZERO or func.is_view or func.namespace in ("profiler", "prim"):
        r = _Rule(None, names, zero=True)
    else:
        ew = _ew_rule(name, func)
        r = _Rule(ew, names, ew=ew.fast) if ew is not None else _Rule(None, names, unknown=True)
    _RULE_CACHE[func] = r
    return r
