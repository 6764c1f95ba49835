"""Real transformers architectures built from their configs, counted by `count_hf` on meta (and, small, on CPU),
forward and training step, against an analytic ground truth derived here from the config alone.

Ground truth: 2 FLOPs per multiply-accumulate in every projection, expert, convolution and attention product
(Q K^T and weights x V over the full S x S square: kernels compute the masked half too); lookups (token,
position, relative-position tables), norms, activations, softmax and bias adds do no MAC. Backward: a weight
gradient for every weight used and an input gradient wherever the input needs one, i.e. 2x forward, less the
input gradient of ops whose input is the model's own input (ViT's patch convolution) and less the whole backward
of what does not reach the loss (ViT's pooler: the loss is the sum of last_hidden_state).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from wattwise.flops import count_flops  # noqa: E402
from wattwise.flops.hf_count import count_hf  # noqa: E402

B, S = 2, 8


def _mm(tokens, d_in, d_out):
    return 2 * tokens * d_in * d_out


def _attn(batch, heads, sq, sk, hd):
    return 2 * batch * heads * sq * sk * 2 * hd


def decoder_truth(c: dict, batch: int, seq: int, decode_context: int | None = None) -> int:
    """Forward FLOPs of a decoder-only LM (GPT-2, Llama, Mistral, Qwen2, BLOOM, Mixtral, Qwen2-MoE)."""
    d = c.get("hidden_size", c.get("n_embd"))
    L = c.get("num_hidden_layers", c.get("n_layer"))
    H = c.get("num_attention_heads", c.get("n_head"))
    kv = c.get("num_key_value_heads") or H
    hd = c.get("head_dim") or d // H
    V = c["vocab_size"]
    q_len = 1 if decode_context is not None else seq
    k_len = decode_context + 1 if decode_context is not None else seq
    T = batch * q_len
    per = _mm(T, d, H * hd) + 2 * _mm(T, d, kv * hd) + _mm(T, H * hd, d) + _attn(batch, H, q_len, k_len, hd)
    E = c.get("num_local_experts") or c.get("num_experts")
    if E:
        k = c["num_experts_per_tok"]
        ff = c.get("moe_intermediate_size") or c["intermediate_size"]
        per += _mm(T, d, E) + k * 3 * _mm(T, d, ff)
        if c.get("shared_expert_intermediate_size"):  # Qwen2-MoE: a gated shared expert and its sigmoid gate
            per += 3 * _mm(T, d, c["shared_expert_intermediate_size"]) + _mm(T, d, 1)
    elif c["model_type"] in ("gpt2", "bloom"):
        ff = c.get("n_inner") or c.get("intermediate_size") or 4 * d
        per += 2 * _mm(T, d, ff)
    else:  # SwiGLU: gate, up, down
        per += 3 * _mm(T, d, c["intermediate_size"])
    return L * per + _mm(T, d, V)


def bert_truth(c, batch, seq):
    d, L, H, ff, V = (c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"], c["intermediate_size"],
                      c["vocab_size"])
    T = batch * seq
    per = 4 * _mm(T, d, d) + _attn(batch, H, seq, seq, d // H) + 2 * _mm(T, d, ff)
    return L * per + _mm(T, d, d) + _mm(T, d, V)  # masked-LM head: transform dense, then the decoder


def t5_truth(c, batch, seq):
    d, inner, ff, V, L, H = (c["d_model"], c["num_heads"] * c["d_kv"], c["d_ff"], c["vocab_size"], c["num_layers"],
                             c["num_heads"])
    T = batch * seq  # encoder and decoder both get `seq` tokens
    ffn = (3 if c.get("feed_forward_proj", "relu").startswith("gated") else 2) * _mm(T, d, ff)
    self_attn = 4 * _mm(T, d, inner) + _attn(batch, H, seq, seq, c["d_kv"])
    cross = 4 * _mm(T, d, inner) + _attn(batch, H, seq, seq, c["d_kv"])  # q, o on decoder; k, v on encoder
    Ld = c.get("num_decoder_layers") or L
    return L * (self_attn + ffn) + Ld * (self_attn + cross + ffn) + _mm(T, d, V)


def vit_parts(c, batch):
    d, L, H, ff, p, C, img = (c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"],
                              c["intermediate_size"], c["patch_size"], c["num_channels"], c["image_size"])
    n = (img // p) ** 2
    t = n + 1  # + [CLS]
    conv = 2 * batch * n * C * p * p * d
    pooler = _mm(batch, d, d)
    per = 4 * _mm(batch * t, d, d) + _attn(batch, H, t, t, d // H) + 2 * _mm(batch * t, d, ff)
    return conv, L * per, pooler


TINY = {
    "gpt2": dict(model_type="gpt2", n_layer=2, n_embd=64, n_head=4, vocab_size=96, n_positions=32),
    "llama": dict(model_type="llama", num_hidden_layers=2, hidden_size=64, num_attention_heads=4,
                  num_key_value_heads=4, intermediate_size=160, vocab_size=96),
    "mistral": dict(model_type="mistral", num_hidden_layers=2, hidden_size=64, num_attention_heads=4,
                    num_key_value_heads=2, intermediate_size=160, vocab_size=96, sliding_window=4),
    "qwen2": dict(model_type="qwen2", num_hidden_layers=2, hidden_size=64, num_attention_heads=4,
                  num_key_value_heads=2, intermediate_size=160, vocab_size=96),
    "mixtral": dict(model_type="mixtral", num_hidden_layers=2, hidden_size=64, num_attention_heads=4,
                    num_key_value_heads=2, intermediate_size=96, vocab_size=96, num_local_experts=4,
                    num_experts_per_tok=2),
    "qwen2_moe": dict(model_type="qwen2_moe", num_hidden_layers=2, hidden_size=64, num_attention_heads=4,
                      num_key_value_heads=2, intermediate_size=160, moe_intermediate_size=32,
                      shared_expert_intermediate_size=64, vocab_size=96, num_experts=4, num_experts_per_tok=2,
                      decoder_sparse_step=1, mlp_only_layers=[]),
    "bloom": dict(model_type="bloom", n_layer=2, hidden_size=64, n_head=4, vocab_size=96),
    "bert": dict(model_type="bert", num_hidden_layers=2, hidden_size=64, num_attention_heads=4,
                 intermediate_size=128, vocab_size=96, max_position_embeddings=32),
    "t5": dict(model_type="t5", num_layers=2, d_model=64, d_kv=16, num_heads=4, d_ff=128, vocab_size=96,
               is_encoder_decoder=True),
    "vit": dict(model_type="vit", num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128,
                image_size=32, patch_size=8, num_channels=3),
}
DECODERS = ("gpt2", "llama", "mistral", "qwen2", "mixtral", "qwen2_moe", "bloom")


def truth(name, c, batch=B, seq=S):
    """(forward, backward) ground truth."""
    if name == "vit":
        conv, body, pooler = vit_parts(c, batch)
        fwd = conv + body + pooler
        return fwd, 2 * body + conv  # conv: weight gradient only; pooler: not in the loss
    fwd = {"bert": bert_truth, "t5": t5_truth}.get(name, decoder_truth)(c, batch, seq)
    return fwd, 2 * fwd


@pytest.mark.parametrize("name", list(TINY))
def test_forward_and_training_step_on_meta_are_exact(name):
    c = TINY[name]
    seq = None if name == "vit" else S
    f, b = truth(name, c)
    r = count_hf(c, batch=B, seq=seq)
    assert r.traced and r.model_class != "(not built)"
    assert (r.forward_flops, r.backward_flops) == (f, 0)
    assert r.count.coverage == {}
    t = count_hf(c, batch=B, seq=seq, train=True)
    assert (t.forward_flops, t.backward_flops) == (f, b)


def _cpu_model(name, c):
    cfg = transformers.AutoConfig.for_model(c["model_type"], **{k: v for k, v in c.items() if k != "model_type"})
    from wattwise.flops.hf_count import _model_class
    torch.manual_seed(0)
    return _model_class(transformers, cfg, None).from_config(cfg), cfg


@pytest.mark.parametrize("name", list(TINY))
def test_cpu_counts_equal_meta_counts_and_truth(name):
    c = TINY[name]
    model, cfg = _cpu_model(name, c)
    if name == "vit":
        kw = {"pixel_values": torch.randn(B, 3, 32, 32)}
    else:
        kw = {"input_ids": torch.randint(0, c["vocab_size"], (B, S))}
        if name == "t5":
            kw["decoder_input_ids"] = torch.randint(0, c["vocab_size"], (B, S))
        elif "use_cache" in model.forward.__code__.co_varnames or name in DECODERS:
            kw["use_cache"] = False

    def fwd():
        out = model(**kw)
        return out.logits if getattr(out, "logits", None) is not None else out.last_hidden_state

    f, b = truth(name, c)
    r = count_flops(fwd, train_step=True)
    assert (r.forward, r.backward) == (f, b)
    assert r.coverage == {}


def test_decode_step_with_a_kv_cache_is_exact():
    for name in ("gpt2", "llama", "mixtral"):
        c = TINY[name]
        r = count_hf(c, batch=B, decode=True, context=16)
        assert r.mode == "decode" and r.context == 16
        assert r.forward_flops == decoder_truth(c, B, S, decode_context=16), name
        assert r.tokens == B


LLAMA2_7B = dict(model_type="llama", num_hidden_layers=32, hidden_size=4096, num_attention_heads=32,
                 num_key_value_heads=32, intermediate_size=11008, vocab_size=32000, max_position_embeddings=4096)
MIXTRAL_8X7B = dict(model_type="mixtral", num_hidden_layers=32, hidden_size=4096, num_attention_heads=32,
                    num_key_value_heads=8, intermediate_size=14336, vocab_size=32000, num_local_experts=8,
                    num_experts_per_tok=2, max_position_embeddings=32768)


@pytest.mark.parametrize("name,c", [("llama-2-7b", LLAMA2_7B), ("mixtral-8x7b", MIXTRAL_8X7B)])
def test_full_size_shapes_on_meta(name, c):
    r = count_hf(c, batch=1, seq=512)
    assert r.traced and r.forward_flops == decoder_truth(c, 1, 512)
    if name == "llama-2-7b":  # ~2 x 6.7B params per token plus attention
        assert 13.0e9 < r.forward_flops / 512 < 14.5e9
    else:  # active, not total, parameters: ~12.9B active of 46.7B
        assert 25e9 < r.forward_flops / 512 < 27.5e9


def test_fallback_is_loud_and_only_for_decoder_configs(monkeypatch):
    import wattwise.flops.hf_count as hc

    def boom(cls, config):
        raise RuntimeError("cannot build")

    monkeypatch.setattr(hc, "_build", boom)
    r = count_hf(TINY["llama"], batch=1, seq=8)
    assert not r.traced and r.method.startswith("FORMULA FALLBACK") and "cannot build" in r.fallback_reason
    from wattwise.errors import InvalidValueError
    with pytest.raises(InvalidValueError, match="encoder-decoder"):
        count_hf(TINY["t5"], batch=1, seq=8)
    with pytest.raises(InvalidValueError, match="off"):
        count_hf(TINY["llama"], batch=1, seq=8, fallback=False)
