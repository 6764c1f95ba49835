"""Built-in transformer shapes (GPT-2, LLaMA) and a torch decoder that realises them, on the meta device by default.

The shape table is pure Python; torch is imported only by `build_model`. Every row cites where its
hyper-parameters come from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from ..errors import InvalidValueError, MissingExtraError, UnknownNameError, closest
from . import formulas


@dataclass(frozen=True)
class TransformerShape:
    """Hyper-parameters of a decoder-only transformer."""

    name: str
    n_layers: int
    d_model: int
    n_heads: int
    d_ff: int
    vocab: int
    n_ctx: int
    n_kv_heads: int | None = None  # grouped-query attention when < n_heads
    gated_mlp: bool = False  # SwiGLU (3 matrices) as in LLaMA
    tied_embeddings: bool = True  # logits reuse the token embedding (GPT-2)
    learned_positions: bool = True  # GPT-2 position table; False = rotary (LLaMA)
    bias: bool = True
    norm: str = "layernorm"  # or "rmsnorm"

    @property
    def kv_heads(self) -> int:
        return self.n_heads if self.n_kv_heads is None else self.n_kv_heads

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def embedding_params(self) -> int:
        """Parameters that are looked up, never multiplied: token (+ position) tables, and an untied lm_head."""
        n = self.vocab * self.d_model
        if self.learned_positions:
            n += self.n_ctx * self.d_model
        if not self.tied_embeddings:
            n += self.vocab * self.d_model
        return n

    def params(self) -> int:
        """Exact parameter count of `build_model(self)`."""
        d, H, kv, hd, f = self.d_model, self.n_heads, self.kv_heads, self.head_dim, self.d_ff
        attn = d * H * hd + 2 * d * kv * hd + H * hd * d
        mlp = (3 if self.gated_mlp else 2) * d * f
        if self.bias:
            attn += H * hd + 2 * kv * hd + d
            mlp += (2 * f if self.gated_mlp else f) + d
        norm = 2 * d if self.norm == "layernorm" else d
        return self.embedding_params() + self.n_layers * (attn + mlp + 2 * norm) + norm

    def non_embedding_params(self) -> int:
        """N as Kaplan et al. 2020 define it: all parameters but the embedding (and de-embedding) tables."""
        return self.params() - self.embedding_params()

    def forward_flops(self, batch: int = 1, seq: int | None = None, causal: bool = False) -> dict[str, int]:
        """Exact forward matmul FLOPs by component (`formulas.decoder_flops`)."""
        return formulas.decoder_flops(batch=batch, seq=self.n_ctx if seq is None else seq, n_layers=self.n_layers,
                                      d_model=self.d_model, n_heads=self.n_heads, d_ff=self.d_ff, vocab=self.vocab,
                                      n_kv_heads=self.kv_heads, head_dim=self.head_dim, gated_mlp=self.gated_mlp,
                                      causal=causal)

    def to_dict(self) -> dict:
        return asdict(self)


def _gpt2(name, n_layers, d_model, n_heads):
    # Radford et al. 2019 (GPT-2), Table 2 and the released configs: vocab 50257, context 1024, d_ff = 4 d.
    return TransformerShape(name, n_layers, d_model, n_heads, 4 * d_model, 50257, 1024)


def _llama(name, n_layers, d_model, n_heads, d_ff, n_ctx, vocab=32000, n_kv_heads=None):
    return TransformerShape(name, n_layers, d_model, n_heads, d_ff, vocab, n_ctx, n_kv_heads=n_kv_heads,
                            gated_mlp=True, tied_embeddings=False, learned_positions=False, bias=False,
                            norm="rmsnorm")


ARCHS: dict[str, TransformerShape] = {s.name: s for s in (
    _gpt2("gpt2", 12, 768, 12),
    _gpt2("gpt2-medium", 24, 1024, 16),
    _gpt2("gpt2-large", 36, 1280, 20),
    _gpt2("gpt2-xl", 48, 1600, 25),
    # Touvron et al. 2023a (LLaMA), Table 2; d_ff from the released params.json (2/3 * 4d rounded to 256).
    _llama("llama-7b", 32, 4096, 32, 11008, 2048),
    _llama("llama-13b", 40, 5120, 40, 13824, 2048),
    _llama("llama-65b", 80, 8192, 64, 22016, 2048),
    # Touvron et al. 2023b (Llama 2), Table 1 and released config: 70B uses grouped-query attention, 8 KV heads.
    _llama("llama-2-7b", 32, 4096, 32, 11008, 4096),
    _llama("llama-70b", 80, 8192, 64, 28672, 4096, n_kv_heads=8),
    # Llama 3 model card / released config.json: 128256 vocab, 8 KV heads, d_ff 14336.
    _llama("llama-3-8b", 32, 4096, 32, 14336, 8192, vocab=128256, n_kv_heads=8),
)}


def get_shape(arch: "str | TransformerShape") -> TransformerShape:
    """The built-in shape called `arch` (UnknownNameError with suggestions otherwise)."""
    if isinstance(arch, TransformerShape):
        return arch
    key = str(arch).strip().lower()
    if key not in ARCHS:
        raise UnknownNameError("architecture", str(arch), closest(key, ARCHS), accepted=sorted(ARCHS))
    return ARCHS[key]


def flops_per_token(arch: "str | TransformerShape", seq: int | None = None) -> dict:
    """Forward and training FLOPs per token of a built-in architecture at context `seq` (default: its n_ctx).

    The numbers equal the traced count of `build_model(arch)` exactly (tested); 6N is given alongside for
    comparison. Keys: arch, seq, params, non_embedding_params, forward_flops_per_token,
    training_flops_per_token (= 3x forward), six_n_flops_per_token.
    """
    shape = get_shape(arch)
    s = shape.n_ctx if seq is None else formulas._int("seq", seq)
    fwd = shape.forward_flops(batch=1, seq=s)["total"]
    return {
        "arch": shape.name,
        "seq": s,
        "params": shape.params(),
        "non_embedding_params": shape.non_embedding_params(),
        "forward_flops_per_token": fwd // s,
        "training_flops_per_token": 3 * fwd // s,
        "six_n_flops_per_token": formulas.TRAINING_FLOPS_PER_PARAM_TOKEN * shape.params(),
    }


# ----------------------------------------------------------------------------------------------------------
# torch realisation
# ----------------------------------------------------------------------------------------------------------

def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("torch", "torch") from None
    return torch


def build_model(arch: "str | TransformerShape", device: str = "meta", attention: str = "sdpa", **overrides):
    """A torch decoder with the shape of `arch` (parameters on `device`, meta by default: no memory).

    `attention` is "sdpa" (F.scaled_dot_product_attention, causal) or "matmul" (explicit Q K^T, mask, softmax,
    weights x V). `overrides` replace shape fields (e.g. n_layers=2 for a small test model).
    """
    torch = _torch()
    if attention not in ("sdpa", "matmul"):
        raise InvalidValueError(f"attention must be 'sdpa' or 'matmul', got {attention!r}")
    shape = get_shape(arch)
    if overrides:
        shape = replace(shape, **overrides)
    if shape.d_model % shape.n_heads or shape.n_heads % shape.kv_heads:
        raise InvalidValueError(f"n_heads={shape.n_heads} must divide d_model={shape.d_model} and be a multiple "
                                f"of n_kv_heads={shape.kv_heads}")
    from ._decoder import Decoder
    with torch.device(device):
        return Decoder(shape, attention=attention)
