"""FLOPs per training step, counted once per input shape on meta tensors (weights, gradients and random state
untouched), with the model's `floating_point_ops` (6ND) as a labelled fallback."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

# --- FLOPs per step shape -------------------------------------------------------------------------------------

def _tensors_to_meta(obj):
    import torch
    if isinstance(obj, torch.Tensor):
        return torch.empty_like(obj, device="meta")
    if isinstance(obj, Mapping):
        return type(obj)({k: _tensors_to_meta(v) for k, v in obj.items()}) if type(obj) is dict else \
            {k: _tensors_to_meta(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_tensors_to_meta(v) for v in obj) if type(obj) in (list, tuple) else \
            [_tensors_to_meta(v) for v in obj]
    return obj


def shape_key(obj) -> Any:
    """A hashable key of the tensor shapes and dtypes in `obj` (other leaves by type and, when small, value)."""
    import torch
    if isinstance(obj, torch.Tensor):
        return ("T", tuple(obj.shape), str(obj.dtype))
    if isinstance(obj, Mapping):
        return ("M", tuple((str(k), shape_key(v)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return ("L", tuple(shape_key(v) for v in obj))
    if isinstance(obj, (bool, int, float, str, type(None))):
        return ("V", obj)
    return ("O", type(obj).__name__)


def count_tokens(batch, names: Iterable[str] = ("input_ids", "inputs_embeds")) -> int | None:
    """Tokens in a batch without a device sync: the element count of input_ids (padding included), else of the
    first tensor's leading two dims for inputs_embeds; None when the batch has none of them."""
    import torch
    if isinstance(batch, Mapping):
        for n in names:
            t = batch.get(n)
            if isinstance(t, torch.Tensor):
                return int(t.numel()) if n == "input_ids" else int(t.shape[0] * (t.shape[1] if t.dim() > 2 else 1))
    return None


def _unwrap_optimizer(opt):
    """The torch optimizer inside wrappers (accelerate's AcceleratedOptimizer, Lightning's), or None."""
    import torch
    for _ in range(4):
        inner = getattr(opt, "optimizer", None)
        if isinstance(inner, torch.optim.Optimizer):
            opt = inner
        else:
            break
    return opt if isinstance(opt, torch.optim.Optimizer) else None


class StepFlops:
    """FLOPs of one training step (forward, backward, optimizer) of `model` per input shape, counted once per
    shape with `wattwise.flops.count_flops` on meta copies of the parameters and inputs: no memory, no
    arithmetic, the real weights, gradients and random state untouched. Beyond `max_shapes` shapes, a new shape
    is scaled from the last counted one by its tokens (labelled). When counting fails, `fallback(inputs)` (for
    Hugging Face models: `model.floating_point_ops`, 6ND) gives the value, labelled as such.

    `counted(*args, **kwargs)` -> FLOPs or None; `method` is 'counted' while every shape was counted, else '6ND';
    `basis` says how.
    """

    def __init__(self, model, optimizer=None, *, loss_fn: Callable | None = None, max_shapes: int = 16,
                 fallback: Callable | None = None, count_optimizer: bool = True):
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.max_shapes = max_shapes
        self.fallback = fallback
        self.count_optimizer = count_optimizer
        self.cache: dict[Any, float | None] = {}
        self.notes: list[str] = []
        self.methods: set[str] = set()
        self.count_s = 0.0
        self._last: tuple[float, int] | None = None

    @property
    def method(self) -> str | None:
        if not self.methods:
            return None
        return "counted" if self.methods == {"counted"} else "6ND"

    @property
    def basis(self) -> str:
        out = {"counted": "wattwise count_flops of one training step per input shape (meta tensors)",
               "6ND": "Hugging Face floating_point_ops (6 x tokens x non-embedding parameters)",
               "scaled": f"shapes beyond the first {self.max_shapes} scaled by tokens from a counted one"}
        return "; ".join(out[m] for m in ("counted", "6ND", "scaled") if m in self.methods) + (
            f" ({'; '.join(self.notes)})" if self.notes else "")

    def __call__(self, *args, **kwargs) -> float | None:
        """FLOPs of one training step on inputs shaped like these (forward + backward + optimizer), or None."""
        v = self.split(*args, **kwargs)
        return None if v is None else v[0] + v[1]

    def split(self, *args, **kwargs) -> tuple[float, float] | None:
        """(forward + backward, optimizer step) FLOPs for inputs shaped like these, counted once per shape."""
        key = shape_key((args, kwargs))
        if key in self.cache:
            return self.cache[key]
        tokens = count_tokens(kwargs) or count_tokens(args[0] if args else None)
        if len(self.cache) >= self.max_shapes and self._last is not None and tokens:
            (fb, opt), t = self._last
            self.methods.add("scaled")
            val = (fb * tokens / t, opt)
        else:
            val = self._count(args, kwargs)
            if val is not None and tokens:
                self._last = (val, tokens)
        self.cache[key] = val
        return val

    def _count(self, args, kwargs) -> tuple[float, float] | None:
        import time
        t0 = time.perf_counter()
        try:
            return self._count_meta(args, kwargs)
        except Exception as e:  # noqa: BLE001
            self.notes.append(f"count_flops failed: {type(e).__name__}: {str(e)[:120]}")
            if self.fallback is not None:
                try:
                    v = self.fallback(kwargs if kwargs else (args[0] if args else {}))
                    if v:
                        self.methods.add("6ND")
                        return float(v), 0.0
                except Exception as e2:  # noqa: BLE001
                    self.notes.append(f"fallback failed: {type(e2).__name__}")
            return None
        finally:
            self.count_s += time.perf_counter() - t0

    def _count_meta(self, args, kwargs) -> tuple[float, float]:
        import torch
        from torch.func import functional_call

        from ..flops import count_flops
        model = self.model
        params = {k: torch.empty_like(v, device="meta").requires_grad_(v.requires_grad)
                  for k, v in model.named_parameters()}
        bufs = {k: torch.empty_like(v, device="meta") for k, v in model.named_buffers()}
        margs, mkwargs = _tensors_to_meta(args), _tensors_to_meta(kwargs)

        def fn(*a, **kw):
            return functional_call(model, {**params, **bufs}, a, kw, tie_weights=True, strict=False)

        loss_fn = self.loss_fn or _default_loss
        opt = self._meta_optimizer(params) if self.count_optimizer else None
        try:
            fc = count_flops(fn, *margs, train_step=True, optimizer=opt, loss_fn=loss_fn, meta_truth=True, **mkwargs)
        except Exception as e:  # noqa: BLE001 - retry without the optimizer
            if opt is None:
                raise
            self.notes.append(f"optimizer step not counted ({type(e).__name__})")
            fc = count_flops(fn, *margs, train_step=True, loss_fn=loss_fn, meta_truth=True, **mkwargs)
        self.methods.add("counted")
        return float(fc.forward + fc.backward), float(fc.optimizer)

    def _meta_optimizer(self, params: dict):
        opt = _unwrap_optimizer(self.optimizer)
        if opt is None:
            return None
        by_id = {id(p): params[n] for n, p in self.model.named_parameters() if n in params}
        groups = []
        for g in opt.param_groups:
            ps = [by_id[id(p)] for p in g["params"] if id(p) in by_id]
            if ps:
                groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": ps})
        if not groups:
            return None
        for g in groups:                       # the plain loop: fused and foreach kernels want real devices
            for k in ("fused", "foreach", "capturable"):
                if k in g:
                    g[k] = None if k == "fused" else False
        try:
            return type(opt)(groups)
        except Exception as e:  # noqa: BLE001
            self.notes.append(f"optimizer not counted ({type(e).__name__})")
            return None


def _default_loss(out):
    loss = getattr(out, "loss", None)
    if loss is None and isinstance(out, Mapping):
        loss = out.get("loss")
    if loss is not None:
        return loss
    from ..flops.counter import _loss_of
    return _loss_of(out)


class ForwardFlops:
    """Counts the training FLOPs of the forward calls of `module` (a forward pre-hook records each training
    micro-batch's input shapes; FLOPs are counted once per shape, off the forward, in `take`). `take()` returns
    (flops, tokens) since the last take: forward + backward of every micro-batch, plus one optimizer step when
    `optimizer_step=True`. The hook costs a shape key per forward; nothing syncs the device."""

    def __init__(self, module, optimizer=None, *, fallback: Callable | None = None, max_shapes: int = 16):
        self.module = module
        self.flops = StepFlops(module, optimizer, fallback=fallback, max_shapes=max_shapes)
        self._pending: list[tuple[Any, Any, Any, int | None]] = []
        self._counting = False
        self._handle = module.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module, args, kwargs):
        if self._counting or not module.training:
            return None
        try:
            import torch
            if not torch.is_grad_enabled():
                return None
            key = shape_key((args, kwargs))
            keep = key not in self.flops.cache
            self._pending.append((key, args if keep else None, kwargs if keep else None,
                                  count_tokens(kwargs) or count_tokens(args[0] if args else None)))
        except Exception:  # noqa: BLE001
            pass
        return None

    def take(self, optimizer_step: bool = True) -> tuple[float | None, int | None]:
        pending, self._pending = self._pending, []
        total, tokens, opt = 0.0, 0, 0.0
        known = False
        for key, args, kwargs, tok in pending:
            if key not in self.flops.cache and args is not None:
                self._counting = True
                try:
                    self.flops(*args, **kwargs)
                finally:
                    self._counting = False
            v = self.flops.cache.get(key)
            if v is not None:
                known = True
                total += v[0]
                opt = v[1]
            tokens += tok or 0
        if optimizer_step:
            total += opt
        return (total if known else None), (tokens or None)

    def close(self) -> None:
        try:
            self._handle.remove()
        except Exception:  # noqa: BLE001
            pass
