"""FLOPs: analytic formulas and traced counts of PyTorch models (forward, backward, optimizer step; meta device).

`import wattwise.flops` does not import torch; `count_flops`, `build_model` and the FLOP rule registry
(`register_flop_rule`, `unregister_flop_rule`, `registered_flop_rules`, `FlopRuleError`) import it on first use
and raise `MissingExtraError` when it is absent. `count_hf(config_or_path, ...)` counts any transformers model from
its config on the meta device (decoders, BERT, T5, ViT, mixtures of experts; forward, training or a decode step). All counts are FLOPs (2 per multiply-accumulate), never MACs.
"""

from __future__ import annotations

from ..errors import MissingExtraError
from .formulas import (
    BACKWARD_TO_FORWARD_RATIO,
    FORWARD_FLOPS_PER_PARAM_TOKEN,
    TRAINING_FLOPS_PER_PARAM_TOKEN,
    attention_flops,
    causal_pairs,
    conv_flops,
    conv_output_size,
    decoder_flops,
    forward_backward_flops,
    hoffmann_forward_flops,
    kaplan_forward_flops_per_token,
    kaplan_params,
    linear_flops,
    matmul_flops,
    megatron_training_flops,
    moe_forward_flops_per_token,
    palm_training_flops_per_token,
    training_flops,
)
from .shapes import ARCHS, TransformerShape, build_model, flops_per_token, get_shape

__all__ = [
    "count_flops", "FlopCount", "register_flop_rule", "unregister_flop_rule", "registered_flop_rules",
    "FlopRuleError", "flops_per_token", "cross_check", "ARCHS", "TransformerShape", "build_model",
    "get_shape", "count_arch", "count_hf_config", "count_hf", "HFCount",
    "matmul_flops", "linear_flops", "conv_flops", "conv_output_size", "attention_flops", "causal_pairs",
    "training_flops", "forward_backward_flops", "kaplan_params", "kaplan_forward_flops_per_token",
    "hoffmann_forward_flops", "palm_training_flops_per_token", "megatron_training_flops", "decoder_flops",
    "moe_forward_flops_per_token", "FORWARD_FLOPS_PER_PARAM_TOKEN", "BACKWARD_TO_FORWARD_RATIO",
    "TRAINING_FLOPS_PER_PARAM_TOKEN",
]


def _counter():
    try:
        import torch  # noqa: F401
    except ImportError:
        raise MissingExtraError("torch", "torch") from None
    from . import counter
    return counter


def count_flops(model_or_fn, *args, train_step: bool = False, optimizer=None, loss_fn=None, rules=None,
                meta_truth: bool = False, **kwargs):
    """Count FLOPs of `model_or_fn(*args, **kwargs)` (see `wattwise.flops.counter.count_flops`)."""
    return _counter().count_flops(model_or_fn, *args, train_step=train_step, optimizer=optimizer,
                                  loss_fn=loss_fn, rules=rules, meta_truth=meta_truth, **kwargs)


_REGISTRY_NAMES = ("register_flop_rule", "unregister_flop_rule", "registered_flop_rules", "FlopRuleError")


def __getattr__(name: str):
    if name == "FlopCount" or name in _REGISTRY_NAMES:
        return getattr(_counter(), name)
    if name in ("count_arch", "cross_check"):
        from . import arch
        return getattr(arch, name)
    if name == "count_hf_config":
        from . import hf
        return hf.count_hf_config
    if name in ("count_hf", "HFCount"):
        from . import hf_count
        return getattr(hf_count, name)
    raise AttributeError(f"module 'wattwise.flops' has no attribute {name!r}")
