"""Counting a built-in architecture on the meta device, and the cross-check against the literature's formulas."""

from __future__ import annotations

from . import formulas as fm
from .shapes import TransformerShape, build_model, get_shape


def count_arch(arch: "str | TransformerShape", batch: int = 1, seq: int | None = None, train: bool = False,
               attention: str = "sdpa"):
    """Trace `build_model(arch)` on the meta device (no memory, no arithmetic) for a (batch, seq) of token ids."""
    import torch

    shape = get_shape(arch)
    s = shape.n_ctx if seq is None else fm._int("seq", seq)
    b = fm._int("batch", batch)
    if shape.learned_positions and s > shape.n_ctx:
        from ..errors import InvalidValueError
        raise InvalidValueError(f"seq={s} exceeds the context n_ctx={shape.n_ctx} of {shape.name} "
                                f"(learned position table); use --seq <= {shape.n_ctx}")
    from .counter import count_flops

    model = build_model(shape, device="meta", attention=attention)
    idx = torch.empty(b, s, dtype=torch.long, device="meta")
    return count_flops(model, idx, train_step=train)


def _matmul_params(shape: TransformerShape) -> int:
    """Parameters that take part in a matmul (weights of projections, MLP and the logits layer)."""
    d, H, kv, hd, f = shape.d_model, shape.n_heads, shape.kv_heads, shape.head_dim, shape.d_ff
    per_layer = d * H * hd + 2 * d * kv * hd + H * hd * d + (3 if shape.gated_mlp else 2) * d * f
    return shape.n_layers * per_layer + shape.vocab * d


def gap_components(shape: TransformerShape, seq: int) -> dict[str, int]:
    """Why training FLOPs per token differ from 6N, term by term (training = 3x forward):

    traced = 6 N + attention - lookup_only_embeddings - biases_and_norms, exactly, where attention is
    12 L s d_attn (full Q K^T and weights x V), lookup_only_embeddings is 6x the embedding parameters that are
    gathered but never multiplied (position table; the input table when the logits layer is untied), and
    biases_and_norms is 6x the parameters that only take part in elementwise ops. `logits` (6 V d) is what a
    count on Kaplan's non-embedding N leaves out.
    """
    N = shape.params()
    lookup = shape.embedding_params() - shape.vocab * shape.d_model  # the logits layer's V x d is a matmul
    small = N - _matmul_params(shape) - lookup
    return {
        "attention": 12 * shape.n_layers * seq * shape.n_heads * shape.head_dim,
        "lookup_only_embeddings": -6 * lookup,
        "biases_and_norms": -6 * small,
        "logits": 6 * shape.vocab * shape.d_model,
    }


def cross_check(arch: "str | TransformerShape", batch: int = 1, seq: int | None = None, train: bool = True,
                counted: int | None = None) -> list[dict]:
    """The traced (or exact-formula) count beside the literature's formulas, with % gap and where it comes from.

    Each row: method, flops, gap_pct (relative to the reference: `counted` when given, else the exact formula),
    source, where. Training rows are forward + backward (3x forward); `train=False` gives forward only.
    """
    shape = get_shape(arch)
    s = shape.n_ctx if seq is None else fm._int("seq", seq)
    b = fm._int("batch", batch)
    T = b * s
    passes = 3 if train else 1
    exact = passes * shape.forward_flops(batch=b, seq=s)["total"]
    ref = exact if counted is None else int(counted)
    g = gap_components(shape, s)
    N, Nne = shape.params(), shape.non_embedding_params()
    d_attn = shape.n_heads * shape.head_dim
    k = passes / 3  # scale training-per-token terms to forward when train=False

    def per_token(x):
        return int(round(x * T * k))

    rows = []
    if counted is not None:
        rows.append({"method": "traced (wattwise)", "flops": ref, "source": "torch dispatcher, this package",
                     "where": "counted op by op"})
    rows.append({"method": "exact formula", "flops": exact, "source": "wattwise.flops.decoder_flops",
                 "where": "same matmuls as the trace, from the config"})
    is_megatron_shape = (not shape.gated_mlp and shape.kv_heads == shape.n_heads and shape.d_ff == 4 * shape.d_model
                         and shape.tied_embeddings)
    mega = fm.megatron_training_flops(b, s, shape.n_layers, shape.d_model, shape.vocab)
    rows.append({"method": "Megatron 72BslH^2(1+s/6H+V/12lH)", "flops": int(round(mega * k)),
                 "source": "Narayanan et al. 2021, sec. 5.1",
                 "where": "exact for GPT shapes (4h MLP, full multi-head attention)" if is_megatron_shape else
                 "assumes a 4h two-matrix MLP and full multi-head attention; this shape differs"})
    six_n = fm.TRAINING_FLOPS_PER_PARAM_TOKEN * N
    rows.append({"method": "6N (all parameters)", "flops": per_token(six_n),
                 "source": "Kaplan et al. 2020, sec. 2.1",
                 "where": f"misses attention ({_fmt(per_token(g['attention']))}); counts lookup-only embeddings "
                          f"({_fmt(per_token(-g['lookup_only_embeddings']))}) and biases/norms "
                          f"({_fmt(per_token(-g['biases_and_norms']))}) as if multiplied"})
    rows.append({"method": "6N + 12LHQT", "flops": per_token(six_n + g["attention"]),
                 "source": "Chowdhery et al. 2022 (PaLM), App. B",
                 "where": f"attention exact; lookup-only embeddings ({_fmt(per_token(-g['lookup_only_embeddings']))}) "
                          f"and biases/norms ({_fmt(per_token(-g['biases_and_norms']))}) counted as multiplied"})
    kaplan = 3 * fm.kaplan_forward_flops_per_token(shape.n_layers, shape.d_model, s, d_attn,
                                                   shape.d_ff * 3 // 2 if shape.gated_mlp else shape.d_ff)
    rows.append({"method": "Kaplan 3x(2N + 2 n_layer n_ctx d_attn)", "flops": per_token(kaplan),
                 "source": "Kaplan et al. 2020, Table 1",
                 "where": f"leaves out the logits ({_fmt(per_token(g['logits']))}); its attention term is the "
                          f"causal half ({_fmt(per_token(g['attention'] // 2))} less than full)"
                          + ("; counts K/V projections at all heads" if shape.kv_heads != shape.n_heads else "")})
    hoff = passes * b * fm.hoffmann_forward_flops(s, shape.vocab, shape.d_model, shape.n_layers, shape.n_heads,
                                                  shape.head_dim,
                                                  shape.d_ff * 3 // 2 if shape.gated_mlp else shape.d_ff)
    rows.append({"method": "Chinchilla App. F", "flops": hoff, "source": "Hoffmann et al. 2022, App. F",
                 "where": "adds a one-hot embedding matmul and 3 FLOPs per softmax score"
                          if shape.kv_heads == shape.n_heads else
                          "adds a one-hot embedding matmul, 3 FLOPs per softmax score, and counts K/V at all heads "
                          "(no grouped-query saving)"})
    for r in rows:
        r["gap_pct"] = 100.0 * (r["flops"] - ref) / ref if ref else 0.0
    return rows


def _fmt(x: float) -> str:
    for unit, scale in (("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {unit}FLOP"
    return f"{x:.3g} FLOP"
