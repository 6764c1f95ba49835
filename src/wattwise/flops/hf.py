"""Hugging Face models from a local config.json: traced on the meta device when `transformers` is installed,
otherwise (or when it cannot build the model) a clear error carrying the formula-based estimate from the config.

Nothing is downloaded; `transformers` is optional and imported lazily.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InvalidValueError, MissingExtraError, MissingInputError
from . import formulas as fm
from .shapes import TransformerShape

# model_type values whose MLP is gated (SwiGLU / GeGLU: gate, up and down matrices)
_GATED = {"llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2", "phi3", "olmo", "olmo2", "cohere",
          "granite", "deepseek_v2", "internlm2", "starcoder2_gated", "exaone"}
# model_type values with a learned absolute position table
_LEARNED_POS = {"gpt2", "gpt_bigcode", "opt", "gpt_neo", "bert", "roberta", "bloom_learned", "biogpt"}


class HFModelUnavailable(MissingExtraError):
    """The model could not be built from the config; `.estimate` holds the formula-based estimate instead."""

    def __init__(self, reason: str, estimate: dict):
        self.estimate = estimate
        # skip MissingExtraError's own message (it names a wattwise extra); keep the exception family
        super(MissingExtraError, self).__init__(f"{reason}; the formula-based estimate from config.json is attached")


def load_config(path) -> dict:
    """The parsed config.json at `path` (a file or a directory holding one), as a dict; InvalidValueError naming the
    path when it is missing, not UTF-8 text, not JSON or not a JSON object."""
    p = Path(path)
    if p.is_dir():
        p = p / "config.json"
    if not p.is_file():
        raise InvalidValueError(f"no config.json at {str(path)!r}; give a config.json file or its directory")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidValueError(f"{str(p)!r} is not UTF-8 text (byte {e.start}); give a Hugging Face config.json "
                                "(a JSON object)") from None
    except OSError as e:
        raise InvalidValueError(f"cannot read {str(p)!r} ({e.strerror}); give a readable config.json") from None
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidValueError(f"{str(p)!r} is not valid JSON ({e.msg} at line {e.lineno}); give a Hugging Face "
                                "config.json (a JSON object)") from None
    if not isinstance(cfg, dict):
        raise InvalidValueError(f"{str(p)!r} holds a JSON {type(cfg).__name__}, not an object; a config.json is "
                                "an object such as {\"model_type\": \"llama\", ...}")
    return cfg


def _first(cfg: dict, *keys, default=None, required=True):
    for k in keys:
        if cfg.get(k) is not None:
            return cfg[k]
    if required and default is None:
        raise MissingInputError(f"config.json has none of {', '.join(keys)}; add one to estimate FLOPs")
    return default


def shape_from_config(cfg: dict) -> TransformerShape:
    """A `TransformerShape` from a Hugging Face decoder config (GPT-2 and LLaMA-style key names)."""
    mt = str(cfg.get("model_type", "")).lower()
    d = int(_first(cfg, "hidden_size", "n_embd", "d_model"))
    H = int(_first(cfg, "num_attention_heads", "n_head", "num_heads"))
    kv = int(_first(cfg, "num_key_value_heads", default=H))
    ff = int(_first(cfg, "intermediate_size", "n_inner", "ffn_dim", default=4 * d))
    if "num_local_experts" in cfg or "num_experts" in cfg:
        raise InvalidValueError(f"model_type {mt!r} is a mixture of experts; config-based estimates cover dense "
                                "decoders only (use moe_forward_flops_per_token for the expert MLP)")
    return TransformerShape(
        name=str(cfg.get("_name_or_path") or mt or "hf-config"),
        n_layers=int(_first(cfg, "num_hidden_layers", "n_layer", "num_layers")),
        d_model=d, n_heads=H, d_ff=ff, vocab=int(_first(cfg, "vocab_size")),
        n_ctx=int(_first(cfg, "max_position_embeddings", "n_positions", "n_ctx", default=2048)),
        n_kv_heads=kv, gated_mlp=mt in _GATED,
        tied_embeddings=bool(cfg.get("tie_word_embeddings", True)),
        learned_positions=mt in _LEARNED_POS,
        bias=bool(cfg.get("attention_bias", mt in _LEARNED_POS)),
        norm="layernorm" if mt in _LEARNED_POS else "rmsnorm",
    )


def estimate_from_config(path, batch: int = 1, seq: int | None = None, train: bool = False) -> dict:
    """Formula-based FLOPs (`decoder_flops`) of the model a config.json (or its parsed dict) describes; no torch,
    no transformers."""
    shape = shape_from_config(path if isinstance(path, dict) else load_config(path))
    s = min(shape.n_ctx, 2048) if seq is None else fm._int("seq", seq)
    parts = shape.forward_flops(batch=batch, seq=s)
    fwd = parts["total"]
    return {"method": "formula (wattwise.flops.decoder_flops)", "shape": shape.to_dict(), "batch": batch, "seq": s,
            "forward_flops": fwd, "backward_flops": 2 * fwd if train else 0,
            "total_flops": 3 * fwd if train else fwd, "components": parts, "params": shape.params()}


def count_hf_config(path, batch: int = 1, seq: int | None = None, train: bool = False):
    """The traced `FlopCount` of the model a local config.json describes (see `wattwise.flops.count_hf`, which
    this wraps and which also counts encoder-decoders, vision models, mixtures of experts and decode steps).

    Raises `HFModelUnavailable` (with `.estimate`) when transformers is missing or cannot build the model.
    """
    from .hf_count import count_hf
    r = count_hf(path, batch=batch, seq=seq, train=train)
    if not r.traced:
        raise HFModelUnavailable(r.fallback_reason, r.estimate)
    return r.count
