"""Quantization: one entry point, `quantize(model, method, ...)`, for post-training quantization (PTQ) and
quantization-aware training (QAT).

Methods (what they store, and where the speed comes from; numbers measured for the issue on a CPU, torch 2.13):

- `bf16`, `fp16`: weights and activations in 16 bits (2x smaller than fp32). bf16 gives the lowest error of the
  reduced-precision variants and 1.4-2.8x on CPUs with AVX512-BF16/AMX.
- `int8_dynamic`: int8 weights, activations quantized per token at run time (torchao
  `Int8DynamicActivationInt8WeightConfig`); ~4x smaller; faster than fp32 only under `torch.compile`.
- `int8_dynamic_legacy`: torch's `quantize_dynamic` (CPU only, deprecated in favour of torchao); the fastest
  int8 on x86 CPUs while it exists. Used as the fallback for `int8_dynamic` when torchao is absent.
- `int8_weight_only`: int8 weights, activations in the original dtype (torchao).
- `int4_weight_only`: 4-bit weights in groups (torchao; 8x smaller weights than fp32, Frantar et al. 2023 GPTQ
  and Lin et al. 2024 AWQ show 4-bit weights keep LLM accuracy); layers whose input width is not a multiple of the
  group size are skipped and reported. On CPU it goes through torchao's prototype int4 with bf16 activations.
- `int8_static`: weights and activations int8 with calibrated activation ranges, through the PT2E export flow
  (X86 inductor quantizer; CPU); meant for CNNs; real int8 kernels only once compiled.
- `qat`: quantization-aware training (Jacob et al. 2018): fake-quantize Linear layers (int8 per-token
  activations, int8/int4 weights) while training on `loader`, then convert (torchao `QATConfig`).

An unsupported combination raises `UnsupportedVariantError` naming the reason and the methods that work here.
"""

from __future__ import annotations

import copy
import importlib.util
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import InvalidValueError
from ._deps import has, require, require_torch

QUANT_METHODS = ("bf16", "fp16", "int8_dynamic", "int8_dynamic_legacy", "int8_weight_only", "int4_weight_only",
                 "int8_static", "qat")

INT4_GROUP_SIZE = 128   # torchao's default group size for int4 weight-only (choices 32, 64, 128, 256)


class UnsupportedVariantError(InvalidValueError):
    """A quantization method that cannot run on this machine or model; the message names the alternatives."""


@dataclass
class QuantResult:
    """A quantized model and how it was made (backend, layers quantized and skipped, notes on speed)."""

    model: Any
    method: str
    backend: str
    device: str
    quantized_layers: list[str] = field(default_factory=list)
    skipped_layers: dict[str, str] = field(default_factory=dict)   # layer name -> reason
    notes: list[str] = field(default_factory=list)
    train: Any = None                                            # TrainResult of QAT


def _device_of(model) -> str:
    for p in list(model.parameters()) + list(model.buffers()):
        return p.device.type
    return "cpu"


def _has(mod: str) -> bool:
    if "." in mod:            # a submodule: importing it is the only sure test (quietly, through _deps)
        return has(mod)
    try:
        return importlib.util.find_spec(mod) is not None
    except (ImportError, ValueError):
        return False


def _why_not(method: str, device: str) -> str | None:
    """None when `method` should work on `device` here, else the reason it cannot."""
    torch = require_torch()
    if method not in QUANT_METHODS:
        return f"unknown method (known: {', '.join(QUANT_METHODS)})"
    torchao = _has("torchao")
    if method in ("int8_dynamic",) and not torchao and device != "cpu":
        return "needs torchao on a non-CPU device (pip install 'wattwise[compress]')"
    if method in ("int8_weight_only", "int4_weight_only", "qat") and not torchao:
        return "needs torchao (pip install 'wattwise[compress]')"
    if method == "int8_dynamic_legacy":
        if device != "cpu":
            return f"torch's quantize_dynamic runs on CPU only (model is on {device})"
        if not hasattr(torch, "ao") or not hasattr(torch.ao.quantization, "quantize_dynamic"):
            return "this torch has no torch.ao.quantization.quantize_dynamic"
    if method == "int8_static":
        if device != "cpu":
            return f"the PT2E static flow here uses the X86 inductor quantizer, CPU only (model is on {device})"
        if not torchao:
            return "needs torchao's PT2E flow (pip install 'wattwise[compress]')"
    if method == "int4_weight_only" and device == "cpu" and not _has("torchao.prototype.quantization.int4"):
        return "this torchao has no CPU int4 kernel (torchao.prototype.quantization.int4)"
    if method == "int4_weight_only" and device == "cuda" and not torch.cuda.is_available():
        return "CUDA is not available"
    if method == "fp16" and device == "cpu":
        return None  # works, though slow on most CPUs: measure says
    return None


def supported_methods(device: str = "cpu") -> list[str]:
    """The quantization methods expected to work on `device` with what is installed here."""
    return [m for m in QUANT_METHODS if _why_not(m, device) is None]


def _unsupported(method: str, device: str, reason: str) -> UnsupportedVariantError:
    ok = [m for m in supported_methods(device) if m != method]
    return UnsupportedVariantError(f"quantization {method!r} on {device}: {reason}; "
                                   f"variants that work here: {', '.join(ok) or 'none'}")


def _cast_wrapper(model, dtype):
    """Wrap `model` so floating inputs are cast to `dtype` and floating outputs back to float32: a drop-in
    replacement for the fp32 model (same calling code, same evaluate function)."""
    torch = require_torch()

    def cast(x, to):
        if isinstance(x, torch.Tensor):
            return x.to(to) if x.is_floating_point() else x
        if isinstance(x, (tuple, list)):
            return type(x)(cast(v, to) for v in x)
        if isinstance(x, dict):
            return {k: cast(v, to) for k, v in x.items()}
        return x

    class CastInputs(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner
            self.dtype = dtype

        def forward(self, *args, **kwargs):
            out = self.inner(*cast(args, self.dtype), **cast(kwargs, self.dtype))
            return cast(out, torch.float32)

    return CastInputs(model)


def _linear_names(model, torch) -> list[str]:
    return [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]


def _plain_weight(m, torch) -> bool:
    w = getattr(m, "weight", None)
    return isinstance(w, torch.Tensor) and type(w) in (torch.Tensor, torch.nn.Parameter)


INT4_PACK_N_MULTIPLE = 16  # torch's _convert_weight_to_int4pack_cpu: "expect N to be dividable by 16"


def _torchao_ptq(m, config, torch, res: QuantResult, group_size: int | None = None):
    q = require("torchao.quantization")
    names = _linear_names(m, torch)
    if group_size:
        for n in names:
            lin = m.get_submodule(n)
            if lin.in_features % group_size:
                res.skipped_layers[n] = f"in_features={lin.in_features} not a multiple of group size {group_size}"
            elif lin.out_features % INT4_PACK_N_MULTIPLE:
                res.skipped_layers[n] = (f"out_features={lin.out_features} not a multiple of "
                                         f"{INT4_PACK_N_MULTIPLE} (int4 weight packing)")
    skip = set(res.skipped_layers)
    q.quantize_(m, config, filter_fn=lambda mod, fqn: isinstance(mod, torch.nn.Linear) and fqn not in skip)
    for n in names:
        lin = m.get_submodule(n)
        if _plain_weight(lin, torch):
            res.skipped_layers.setdefault(n, "left in full precision by torchao")
        else:
            res.quantized_layers.append(n)


def _drop_unused_graph_params(gm) -> None:
    """PT2E leaves the fp32 weights as parameters next to the folded int8 ones; delete what the graph does not
    read so the saved size is the quantized model's."""
    used = {n.target for n in gm.graph.nodes if n.op == "get_attr"}
    for name in [k for k in gm.state_dict() if k not in used]:
        owner_name, _, leaf = name.rpartition(".")
        owner = gm.get_submodule(owner_name) if owner_name else gm
        owner._parameters.pop(leaf, None)
        owner._buffers.pop(leaf, None)


def quantize(model, method: str, *, example_inputs: Iterable[Any] | None = None, calibration: Iterable | None = None,
             loader=None, teacher=None, epochs: int = 1, lr: float = 1e-4, max_steps: int | None = None,
             weight_bits: int = 8, group_size: int = INT4_GROUP_SIZE, inplace: bool = False,
             progress: bool = False) -> QuantResult:
    """Quantize `model` by `method` (see QUANT_METHODS and the module doc); returns a QuantResult whose `.model`
    is called exactly like the original (16-bit variants cast inputs and outputs).

    `int8_static` needs `example_inputs` (a tuple) and calibrates on `calibration` (iterable of input tuples or
    tensors; default: the example inputs alone). `qat` trains on `loader` (labelled, or unlabeled with `teacher`
    for distillation) with `weight_bits` 8 or 4.
    """
    torch = require_torch()
    if method not in QUANT_METHODS:
        raise InvalidValueError(f"unknown quantization method {method!r}; known: {', '.join(QUANT_METHODS)}")
    device = _device_of(model)
    reason = _why_not(method, device)
    if reason:
        raise _unsupported(method, device, reason)
    m = model if inplace else copy.deepcopy(model)
    m.eval()
    res = QuantResult(model=m, method=method, backend="torch", device=device)

    if method in ("bf16", "fp16"):
        dt = torch.bfloat16 if method == "bf16" else torch.float16
        res.model = _cast_wrapper(m.to(dt), dt)
        res.quantized_layers = _linear_names(m, torch)
        if method == "fp16" and device == "cpu":
            res.notes.append("fp16 matmuls on CPU are usually emulated and slow; prefer bf16 on CPU")
        return res

    if method == "int8_dynamic" and not _has("torchao"):
        method = "int8_dynamic_legacy"
        res.notes.append("torchao not installed: fell back to torch's quantize_dynamic (deprecated)")
    if method == "int8_dynamic_legacy":
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # the deprecation notice; the docstring says it
            res.model = torch.ao.quantization.quantize_dynamic(m, {torch.nn.Linear}, dtype=torch.qint8)
        res.backend = "torch.ao quantize_dynamic"
        res.quantized_layers = [n for n, x in res.model.named_modules()
                                if hasattr(x, "_packed_params") and not n.endswith("_packed_params")]
        return res

    if method in ("int8_dynamic", "int8_weight_only"):
        q = require("torchao.quantization")
        cfg = q.Int8DynamicActivationInt8WeightConfig() if method == "int8_dynamic" else q.Int8WeightOnlyConfig()
        res.backend = f"torchao {type(cfg).__name__}"
        _torchao_ptq(m, cfg, torch, res)
        if method == "int8_dynamic":
            res.notes.append("torchao int8 dynamic beats fp32 only under torch.compile (measure(..., compile=True))")
        return res

    if method == "int4_weight_only":
        if device == "cpu":
            proto = require("torchao.prototype.quantization.int4")
            m = m.to(torch.bfloat16)
            cfg = proto.PrototypeInt4WeightOnlyConfig(group_size=group_size)
            res.backend = "torchao PrototypeInt4WeightOnlyConfig (CPU, bf16 activations)"
            try:
                _torchao_ptq(m, cfg, torch, res, group_size=group_size)
            except Exception as e:  # kernel missing on this CPU build
                raise _unsupported(method, device, f"torchao CPU int4 failed: {type(e).__name__}: {e}") from None
            res.model = _cast_wrapper(m, torch.bfloat16)
        else:
            q = require("torchao.quantization")
            cfg = q.Int4WeightOnlyConfig(group_size=group_size)
            m = m.to(torch.bfloat16)
            res.backend = "torchao Int4WeightOnlyConfig (bf16 activations)"
            try:
                _torchao_ptq(m, cfg, torch, res, group_size=group_size)
            except Exception as e:  # e.g. the kernel package (mslk) is absent, or the GPU is too old
                raise _unsupported(method, device, f"torchao int4 failed: {type(e).__name__}: {e}") from None
            res.model = _cast_wrapper(m, torch.bfloat16)
        if not res.quantized_layers:
            raise _unsupported(method, device, f"no Linear layer could be quantized ({res.skipped_layers})")
        return res

    if method == "int8_static":
        if example_inputs is None:
            raise InvalidValueError("int8_static needs example_inputs (a tuple of inputs) to export the model")
        ex = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
        pt2e = require("torchao.quantization.pt2e.quantize_pt2e")
        xiq = require("torchao.quantization.pt2e.quantizer.x86_inductor_quantizer")
        quantizer = xiq.X86InductorQuantizer()
        quantizer.set_global(xiq.get_default_x86_inductor_quantization_config())
        try:
            exported = torch.export.export(m, ex).module()
        except Exception as e:
            raise _unsupported(method, device, f"torch.export could not capture the model "
                                               f"({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
        prepared = pt2e.prepare_pt2e(exported, quantizer)
        with torch.no_grad():
            for batch in (calibration if calibration is not None else [ex]):
                prepared(*(batch if isinstance(batch, (tuple, list)) else (batch,)))
        qm = pt2e.convert_pt2e(prepared)
        _drop_unused_graph_params(qm)
        res.model, res.backend = qm, "torchao PT2E X86InductorQuantizer"
        res.quantized_layers = [n for n, mod in model.named_modules()
                                if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear))]
        res.notes.append("eager PT2E runs quantize/dequantize in fp32; int8 kernels only under torch.compile")
        if calibration is None:
            res.notes.append("calibrated on the example inputs only; pass calibration=... for real ranges")
        return res

    # qat
    if loader is None:
        raise InvalidValueError("qat needs a training loader (loader=...), labelled or with teacher=...")
    if weight_bits not in (4, 8):
        raise InvalidValueError(f"weight_bits must be 4 or 8 for qat, got {weight_bits}")
    q = require("torchao.quantization")
    qat = require("torchao.quantization.qat")
    base = q.Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int4 if weight_bits == 4 else torch.int8)
    res.backend = f"torchao QATConfig({type(base).__name__}, int{weight_bits} weights)"
    q.quantize_(m, qat.QATConfig(base, step="prepare"))
    from .distill import distill, finetune
    if teacher is not None:
        res.train = distill(teacher, m, loader, epochs=epochs, lr=lr, progress=progress, max_steps=max_steps)
    else:
        res.train = finetune(m, loader, epochs=epochs, lr=lr, progress=progress, max_steps=max_steps)
    q.quantize_(m, qat.QATConfig(base, step="convert"))
    m.eval()
    for n in _linear_names(m, torch):
        (res.skipped_layers.__setitem__(n, "left in full precision") if _plain_weight(m.get_submodule(n), torch)
         else res.quantized_layers.append(n))
    return res
