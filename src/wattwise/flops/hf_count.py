"""Count any transformers 5 model from its config on the meta device: text decoders, encoders (BERT), encoder-
decoders (T5), vision transformers (ViT) and mixtures of experts (Mixtral, Qwen-MoE with transformers' default
`grouped_mm` experts); forward, training step, or one decode step with a KV cache of length L.

Nothing is downloaded and no weight is allocated. What cannot run on meta as written is patched, each patch
scoped to the count and listed in `HFCount.patches`:

* data-dependent truth tests (`if (mask == 1).all():` in transformers' masking utilities): on meta a tensor has
  no values, so `all()` reads True and `any()` reads False, the answers for the inputs counted (no padding, no
  packed sequences); see `count_flops(meta_truth=True)`;
* `aten._grouped_mm` on meta: torch's meta kernel accepts bfloat16 only, the counter gives float32 its shape;
* scaled-dot-product attention with a bias that requires grad (T5's relative positions): the fused kernel the
  counter routes meta attention to is not differentiable in the bias; the bias's gradient is passed as zeros
  (it is elementwise work, outside the MAC total).

Only when transformers is missing, does not know the model type, or the model cannot be built or traced, does
`count_hf` fall back to the decoder formula, and then loudly: `HFCount.traced` is False, `method` starts with
"FORMULA FALLBACK" and `fallback_reason` says why. Configs the decoder formula does not describe (encoder-
decoders, vision models, mixtures of experts) raise instead of getting a wrong formula.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidValueError, MissingInputError, UnknownNameError, WattwiseError, closest
from . import formulas as fm
from .hf import _LEARNED_POS, estimate_from_config, load_config

FALLBACK = "FORMULA FALLBACK (not traced)"
_VISION_INPUTS = ("pixel_values",)
_TEXT_INPUTS = ("input_ids",)


@dataclass
class HFCount:
    """Result of `count_hf`. `count` is the traced `FlopCount` (None on a formula fallback)."""

    model_type: str
    model_class: str
    traced: bool
    method: str
    mode: str  # "forward", "train" or "decode"
    batch: int
    inputs: dict[str, list[int]]
    forward_flops: int
    backward_flops: int
    total_flops: int
    tokens: int | None
    context: int | None = None
    count: Any = None
    patches: list[str] = field(default_factory=list)
    fallback_reason: str | None = None
    estimate: dict | None = None

    @property
    def flops_per_token(self) -> float | None:
        return self.total_flops / self.tokens if self.tokens else None

    def to_dict(self, depth: int | None = None) -> dict:
        d = self.count.to_dict(depth) if self.count is not None else {
            "total_flops": self.total_flops, "forward_flops": self.forward_flops,
            "backward_flops": self.backward_flops}
        d.update({"traced": self.traced, "method": self.method, "model_type": self.model_type,
                  "model_class": self.model_class, "mode": self.mode, "batch": self.batch, "inputs": self.inputs,
                  "patches": list(self.patches)})
        if self.context is not None:
            d["context"] = self.context
        if self.tokens:
            d["flops_per_token"] = self.flops_per_token
        if not self.traced:
            d["fallback_reason"] = self.fallback_reason
            d["estimate"] = self.estimate
        return d


# ----------------------------------------------------------------------------------------------------------
# config and model
# ----------------------------------------------------------------------------------------------------------

def _config_dict(config_or_path) -> dict:
    if isinstance(config_or_path, dict):
        return dict(config_or_path)
    if hasattr(config_or_path, "to_dict") and hasattr(config_or_path, "model_type"):
        return config_or_path.to_dict()
    if isinstance(config_or_path, (str, Path)):
        return load_config(config_or_path)
    raise InvalidValueError(f"count_hf needs a config.json path, its folder, a dict or a transformers config, got "
                            f"{type(config_or_path).__name__}")


def _hf_config(transformers, cfg: dict):
    mt = cfg.get("model_type")
    if not isinstance(mt, str) or not mt:
        raise MissingInputError("config.json has no \"model_type\" (e.g. \"llama\", \"gpt2\", \"t5\", \"vit\"); add "
                                "it so transformers knows which model to build")
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING
    if mt not in CONFIG_MAPPING:
        raise UnknownNameError("transformers model_type", mt, closest(mt, list(CONFIG_MAPPING.keys())),
                               accepted=["a model_type of transformers " + transformers.__version__])
    rest = {k: v for k, v in cfg.items() if k != "model_type"}
    try:
        return transformers.AutoConfig.for_model(mt, **rest)
    except Exception as e:  # noqa: BLE001 - a value transformers refuses is the config's mistake
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise InvalidValueError(f"transformers rejects this {mt!r} config.json: {first}") from None


def _is_vision(config) -> bool:
    return hasattr(config, "image_size") and hasattr(config, "num_channels") and not hasattr(config, "vocab_size")


def _model_class(transformers, config, architecture: str | None):
    """The class to build: `architecture` if given, else config.architectures[0] when transformers has it, else the
    auto class for the config's family (seq2seq LM, vision base model, causal LM, masked LM, base model)."""
    from transformers.models.auto import modeling_auto as ma
    if architecture is not None:
        cls = getattr(transformers, architecture, None)
        if cls is None or not hasattr(cls, "_from_config"):
            raise UnknownNameError("transformers model class", architecture,
                                   closest(architecture, [n for n in dir(transformers) if n.endswith(("Model", "LM"))]),
                                   accepted=["a transformers model class such as LlamaForCausalLM or T5Model"])
        return cls
    for name in getattr(config, "architectures", None) or ():
        cls = getattr(transformers, str(name), None)
        if cls is not None and hasattr(cls, "_from_config"):
            return cls
    mt = config.model_type
    if getattr(config, "is_encoder_decoder", False) and mt in ma.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES:
        return transformers.AutoModelForSeq2SeqLM
    if _is_vision(config):
        return transformers.AutoModel
    if mt in ma.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and mt not in ma.MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return transformers.AutoModelForCausalLM
    if mt in ma.MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return transformers.AutoModelForMaskedLM
    return transformers.AutoModel


def _build(cls, config):
    import torch
    with torch.device("meta"):
        if hasattr(cls, "from_config"):
            return cls.from_config(config)
        return cls._from_config(config)


def _default_seq(cfg: dict) -> int:
    for k in ("max_position_embeddings", "n_positions", "n_ctx"):
        if isinstance(cfg.get(k), int) and cfg[k] > 0:
            return min(cfg[k], 2048)
    return 512


def _max_positions(cfg: dict) -> int | None:
    if str(cfg.get("model_type", "")).lower() not in _LEARNED_POS:
        return None
    for k in ("max_position_embeddings", "n_positions", "n_ctx"):
        if isinstance(cfg.get(k), int):
            return cfg[k]
    return None


def _precheck(cfg: dict, seq, decode, context) -> int:
    """The checks that need only the config dict; returns the text sequence length to feed."""
    mt = cfg.get("model_type")
    if not isinstance(mt, str) or not mt:
        raise MissingInputError("config.json has no \"model_type\" (e.g. \"llama\", \"gpt2\", \"t5\", \"vit\"); add "
                                "it so transformers knows which model to build")
    vision = "image_size" in cfg and "vocab_size" not in cfg
    if vision and (seq is not None or decode):
        raise InvalidValueError(f"{'seq=' + str(seq) if seq is not None else 'decode'} does not apply to the vision "
                                f"model {mt!r}: it takes images of {cfg.get('image_size')} px (image_size in "
                                "config.json)")
    if decode and cfg.get("is_encoder_decoder"):
        raise InvalidValueError(f"decode is counted for decoder-only models; {mt!r} is an encoder-decoder (count "
                                "its forward with --seq instead)")
    s = seq if seq is not None else (context if decode and context else _default_seq(cfg))
    limit = _max_positions(cfg)
    need = (context if context is not None else s) + 1 if decode else s
    if limit is not None and need > limit:
        raise InvalidValueError(f"{'context + 1' if decode else 'seq'}={need} exceeds the {limit} learned "
                                f"positions of {mt!r} (max_position_embeddings); use at most "
                                f"{limit - 1 if decode else limit}")
    return s


def _output(out):
    for name in ("logits", "last_hidden_state"):
        t = getattr(out, name, None)
        if t is not None:
            return t
    return out[0] if isinstance(out, (tuple, list)) else out


# ----------------------------------------------------------------------------------------------------------
# public entry point
# ----------------------------------------------------------------------------------------------------------

def count_hf(config_or_path, *, batch: int = 1, seq: int | None = None, train: bool = False,
             decode: bool = False, context: int | None = None, architecture: str | None = None,
             fallback: bool = True) -> HFCount:
    """Build the transformers model that `config_or_path` describes on the meta device and trace it.

    `config_or_path`: a config.json, a model folder holding one, a dict or a `transformers.PretrainedConfig`.
    Text models get token ids of `batch` x `seq` (default: the context, at most 2048; an encoder-decoder feeds
    `seq` tokens to the encoder and `seq` to the decoder); vision models get `batch` images of the config's
    `image_size` (`seq` is refused). `train=True` counts forward + backward of the output's sum.
    `decode=True` counts one decode step: `batch` sequences of one new token each, attending to a KV cache of
    `context` earlier tokens (default `seq`, else the context), the cache built uncounted beforehand
    (decoder-only models). `architecture` names the transformers class to build (default: the config's
    `architectures`, else the auto class of its family).

    When transformers is missing or cannot build or trace the model and `fallback` is True, a decoder config
    gets the formula estimate, labelled `FORMULA FALLBACK`; other configs, or `fallback=False`, raise.
    """
    batch = fm._int("batch", batch)
    if seq is not None:
        seq = fm._int("seq", seq)
    if context is not None:
        context = fm._int("context", context)
        if not decode:
            raise InvalidValueError(f"context={context} applies to a decode step only; pass decode=True "
                                    "(--decode) or drop the context")
    if decode and train:
        raise InvalidValueError("decode=True counts inference (one decode step); it cannot be combined with "
                                "train=True")
    cfg = _config_dict(config_or_path)
    s = _precheck(cfg, seq, decode, context)  # plain-Python checks first: a mistake costs no torch import
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError as e:
        return _fallback(cfg, f"the optional package {e.name or 'transformers'!r} is not installed (pip install "
                              "transformers)", batch, seq, train, decode, context, fallback)
    config = _hf_config(transformers, cfg)
    cls = _model_class(transformers, config, architecture)
    vision = _is_vision(config)
    if vision and (seq is not None or decode):
        raise InvalidValueError(f"{'seq=' + str(seq) if seq is not None else 'decode'} does not apply to the vision "
                                f"model {config.model_type!r}: it takes images of "
                                f"{getattr(config, 'image_size', '?')} px (image_size in config.json)")
    if decode and getattr(config, "is_encoder_decoder", False):
        raise InvalidValueError(f"decode is counted for decoder-only models; {config.model_type!r} is an "
                                "encoder-decoder (count its forward with --seq instead)")
    if vision:
        s = None
    try:
        model = _build(cls, config)
        model.train(train)
        return _trace(model, config, cfg, batch, s, train, decode, context)
    except WattwiseError:
        raise
    except Exception as e:  # transformers or torch could not build or run it on meta: say so, loudly
        reason = f"transformers could not build or trace {cls.__name__} on the meta device " \
                 f"({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})"
        return _fallback(cfg, reason, batch, seq, train, decode, context, fallback)


def _trace(model, config, cfg, batch, s, train, decode, context) -> HFCount:
    import torch

    from .counter import count_flops

    name = getattr(model, "main_input_name", "input_ids")
    mt = config.model_type
    if name in _VISION_INPUTS:
        size = config.image_size if isinstance(config.image_size, int) else tuple(config.image_size)
        hw = (size, size) if isinstance(size, int) else size
        x = torch.empty(batch, config.num_channels, *hw, device="meta")
        kwargs = {"pixel_values": x}
        tokens = None
    elif name in _TEXT_INPUTS:
        ids = torch.zeros(batch, s, dtype=torch.long, device="meta")
        kwargs = {"input_ids": ids}
        tokens = batch * s
        if getattr(config, "is_encoder_decoder", False):
            kwargs["decoder_input_ids"] = torch.zeros(batch, s, dtype=torch.long, device="meta")
            tokens = 2 * batch * s
    else:
        raise InvalidValueError(f"{type(model).__name__} takes {name!r}; count_hf feeds input_ids (text) or "
                                "pixel_values (images) only")
    accepts_cache = "use_cache" in _forward_params(model)
    if decode:
        L = context if context is not None else s
        box = {}

        def prefill():  # builds the KV cache of L tokens; its FLOPs are not part of the decode step
            box["out"] = model(input_ids=torch.zeros(batch, L, dtype=torch.long, device="meta"), use_cache=True)

        with torch.no_grad():
            count_flops(prefill, meta_truth=True)
        params = _forward_params(model)
        cache_kw = "cache" if "cache" in params else "past_key_values"  # transformers >= 5.2x renamed it
        cache = getattr(box["out"], "cache", None) if cache_kw == "cache" else None
        if cache is None:
            cache = getattr(box["out"], "past_key_values", None)
        if cache is None:
            raise InvalidValueError(f"{type(model).__name__} returned no KV cache (past_key_values); decode needs a "
                                    "decoder with a cache")
        kwargs = {"input_ids": torch.zeros(batch, 1, dtype=torch.long, device="meta"), "use_cache": True,
                  cache_kw: cache}
        with torch.no_grad():
            r = count_flops(lambda: _output(model(**kwargs)), meta_truth=True)
        inputs = {"input_ids": [batch, 1], "past_length": [L]}
        return _result(mt, model, r, "decode", batch, inputs, tokens=batch, context=L)
    if accepts_cache and not getattr(config, "is_encoder_decoder", False):
        kwargs["use_cache"] = False
    inputs = {k: list(v.shape) for k, v in kwargs.items() if hasattr(v, "shape")}
    fn = lambda: _output(model(**kwargs))  # noqa: E731
    if train:
        r = count_flops(fn, train_step=True, meta_truth=True)
    else:
        with torch.no_grad():
            r = count_flops(fn, meta_truth=True)
    return _result(mt, model, r, "train" if train else "forward", batch, inputs, tokens=tokens)


def _forward_params(model) -> set:
    import inspect
    try:
        return set(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):  # pragma: no cover
        return set()


def _result(mt, model, r, mode, batch, inputs, tokens=None, context=None) -> HFCount:
    patches = []
    for note in r.notes:
        if note.startswith("meta:"):
            patches.append(note)
    if "_grouped_mm" in r.by_op:
        patches.append("meta: aten._grouped_mm output shaped by the counter (torch's meta kernel takes bfloat16 "
                       "only)")
    return HFCount(model_type=mt, model_class=type(model).__name__, traced=True,
                   method="traced on the meta device (torch dispatcher)", mode=mode, batch=batch, inputs=inputs,
                   forward_flops=r.forward, backward_flops=r.backward, total_flops=r.total, tokens=tokens,
                   context=context, count=r, patches=patches)


def _fallback(cfg, reason, batch, seq, train, decode, context, allowed) -> HFCount:
    mt = str(cfg.get("model_type", ""))
    if not allowed:
        raise InvalidValueError(f"{reason}; the formula fallback is off")
    if cfg.get("is_encoder_decoder") or "image_size" in cfg or decode:
        what = "a decode step" if decode else ("an encoder-decoder" if cfg.get("is_encoder_decoder")
                                               else "a vision model")
        raise InvalidValueError(f"{reason}; the decoder-only formula does not describe {what} "
                                f"(model_type {mt!r}), so no estimate is given")
    est = estimate_from_config(cfg, batch=batch, seq=seq, train=train)
    return HFCount(model_type=mt, model_class="(not built)", traced=False, method=f"{FALLBACK}: decoder formula "
                   "wattwise.flops.decoder_flops", mode="train" if train else "forward", batch=batch,
                   inputs={"input_ids": [batch, est["seq"]]}, forward_flops=est["forward_flops"],
                   backward_flops=est["backward_flops"], total_flops=est["total_flops"],
                   tokens=batch * est["seq"], fallback_reason=reason, estimate=est)
