"""What every integration shares: the metric names, the guard that turns any failure into one warning, FLOPs
per step shape (counted once per shape on meta tensors), and the card files written at the end of a run.

Standard library at import; torch and the report load on first use.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

PREFIX = "wattwise/"

# metric name (without the prefix) -> how it is read from a Footprint; the names every integration logs
METRICS: dict[str, Callable[[Any], Any]] = {
    "energy_kwh": lambda fp: fp.energy_kwh,
    "energy_kwh_low": lambda fp: fp.energy_kwh.low if fp.energy_kwh is not None else None,
    "energy_kwh_high": lambda fp: fp.energy_kwh.high if fp.energy_kwh is not None else None,
    "it_energy_kwh": lambda fp: fp.it_energy_kwh,
    "co2e_kg": lambda fp: fp.co2e_kg,
    "co2e_kg_low": lambda fp: fp.co2e_kg.low if fp.co2e_kg is not None else None,
    "co2e_kg_high": lambda fp: fp.co2e_kg.high if fp.co2e_kg is not None else None,
    "cost_usd": lambda fp: fp.cost_usd,
    "duration_s": lambda fp: fp.duration_s,
    "gpu_hours": lambda fp: fp.gpu_hours,
    "flops": lambda fp: fp.flops,
    "flop_per_s": lambda fp: fp.flop_per_s,
    "mfu": lambda fp: fp.mfu,
    "tokens": lambda fp: fp.extra.get("tokens"),
    "tokens_per_s": lambda fp: fp.extra.get("tokens_per_s"),
    "j_per_token": lambda fp: fp.extra.get("j_per_token"),
}

# what the callbacks log per step unless told otherwise (`metrics=` names any of METRICS, or "all")
DEFAULT_METRICS = ("energy_kwh", "co2e_kg", "cost_usd", "mfu", "flop_per_s", "tokens_per_s", "j_per_token")

CARD_FILES = {"md": "wattwise-card.md", "json": "wattwise-card.json", "modelcard": "wattwise-modelcard.md"}


def metric_names(names: "Sequence[str] | str | None") -> tuple[str, ...]:
    """`names` checked against METRICS ("all": every one; None: DEFAULT_METRICS)."""
    from ..errors import InvalidValueError
    if names is None:
        return DEFAULT_METRICS
    if names == "all":
        return tuple(METRICS)
    names = (names,) if isinstance(names, str) else tuple(names)
    bad = [n for n in names if n not in METRICS]
    if bad:
        raise InvalidValueError(f"unknown wattwise metric(s) {', '.join(bad)}; known: {', '.join(METRICS)}")
    return names


def metrics(fp, prefix: str = PREFIX, names: "Sequence[str] | str | None" = "all") -> dict[str, float]:
    """The known values of a footprint as flat floats named `<prefix><name>` (`names` among METRICS, default
    all of them); {} for None."""
    if fp is None:
        return {}
    out: dict[str, float] = {}
    for name in metric_names(names):
        get = METRICS[name]
        try:
            v = get(fp)
        except Exception:  # noqa: BLE001
            v = None
        if v is not None:
            out[prefix + name] = float(v)
    return out


def summary_line(fp) -> str:
    """One line for humans (numbers through `wattwise.display`)."""
    from .. import display
    if fp is None:
        return "wattwise: nothing measured"
    bits = []
    if fp.energy_kwh is not None:
        bits.append(display.energy(float(fp.energy_kwh)))
    if fp.co2e_kg is not None:
        bits.append(display.co2e(float(fp.co2e_kg)))
    if fp.cost_usd is not None:
        bits.append(display.usd(float(fp.cost_usd)))
    if fp.duration_s is not None:
        bits.append(display.duration(float(fp.duration_s)))
    if fp.mfu is not None:
        bits.append(f"MFU {display.percent(fp.mfu)}")
    if fp.extra.get("tokens_per_s"):
        bits.append(f"{display.count(fp.extra['tokens_per_s'])} tokens/s")
    return f"wattwise: run {fp.extra.get('run_id')}: " + (", ".join(bits) or "no energy measured")


class Guard:
    """Runs integration code so that no failure reaches training: the first failure of each hook is one
    `TrackerWarning`, later ones are counted in `failures`."""

    def __init__(self, owner: str):
        self.owner = owner
        self.failures: dict[str, int] = {}

    def __call__(self, hook: str, fn: Callable, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - never break the user's training
            n = self.failures.get(hook, 0)
            self.failures[hook] = n + 1
            if n == 0:
                from ..tracker.config import TrackerWarning
                warnings.warn(f"wattwise: {self.owner}.{hook} failed ({type(e).__name__}: {e}); training goes on",
                              TrackerWarning, stacklevel=3)
            return None


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


# --- the card at the end of a run ----------------------------------------------------------------------------

def run_footprint(tracker):
    """The whole run's footprint: the ledger's record (every rank's part, each device once) when there is a
    ledger, else this process's footprint."""
    fp = tracker.footprint
    led = getattr(tracker, "ledger", None)
    if led is not None and tracker.run_id:
        try:
            return led.footprint(tracker.run_id)
        except Exception:  # noqa: BLE001
            return fp
    return fp


def write_card(fp, output_dir: str | os.PathLike, *, title: str | None = None,
               training_type: str = "pre-training") -> dict[str, Path]:
    """Write the efficiency card (Markdown, JSON) and the Hugging Face `co2_eq_emissions` model-card block of
    the run `fp` into `output_dir`; {format: path}."""
    from ..report import card_from_runs, render_card
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    card = card_from_runs([fp], title=title, generator="wattwise")
    paths: dict[str, Path] = {}
    for fmt, name in CARD_FILES.items():
        text = render_card(card, fmt, training_type=training_type) if fmt == "modelcard" else render_card(card, fmt)
        p = out / name
        p.write_text(text, encoding="utf-8")
        paths[fmt] = p
    p = out / "wattwise-footprint.json"
    p.write_text(json.dumps(fp.to_dict(), indent=2, default=str), encoding="utf-8")
    paths["footprint"] = p
    return paths


def co2_metadata(fp, training_type: str = "pre-training") -> dict:
    """The `co2_eq_emissions` block (grams) of the run `fp`."""
    from ..report import card_from_runs
    from ..report.render_modelcard import co2_eq_emissions
    return co2_eq_emissions(card_from_runs([fp], generator="wattwise"), training_type=training_type)


def merge_model_card(readme: str | os.PathLike, fp, training_type: str = "pre-training") -> bool:
    """Put the run's `co2_eq_emissions` into an existing model card's YAML metadata (README.md) and its
    "Environmental impact" section into the body (replacing earlier ones); False when there is no README."""
    path = Path(readme)
    if not path.is_file():
        return False
    from ..report import card_from_runs, render_card
    block = render_card(card_from_runs([fp], generator="wattwise"), "modelcard", training_type=training_type)
    head, _, body_ours = block.partition("\n---\n")
    ours_meta = head.split("\n", 1)[1]                         # "co2_eq_emissions:\n  emissions: ..."
    text = path.read_text(encoding="utf-8")
    meta, body = "", text
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            meta, body = text[4:end], text[end + 4:].lstrip("\n")
    kept, skip = [], False
    for line in meta.splitlines():
        if line.startswith("co2_eq_emissions:"):
            skip = True
            continue
        if skip and (line.startswith(" ") or line.startswith("\t") or not line.strip()):
            continue
        skip = False
        kept.append(line)
    new_meta = "\n".join([*kept, ours_meta.rstrip("\n")])
    section = body_ours.strip("\n")
    marker = "## Environmental impact"
    if marker in body:
        before, _, after = body.partition(marker)
        nxt = after.find("\n## ")
        body = before + section + ("\n" + after[nxt + 1:] if nxt != -1 else "\n")
    else:
        body = body.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(f"---\n{new_meta}\n---\n\n{body.lstrip(chr(10))}", encoding="utf-8")
    return True


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


# --- a run continued by a resumed fit --------------------------------------------------------------------------

def continued_tracker(previous: Mapping | None, **kwargs):
    """A `Tracker` whose run continues `previous` (the part of this rank that an earlier process wrote: readings,
    flops, steps, tokens, start and end): its part adds the earlier part's energy per device, FLOPs, steps and
    tokens, and moves its start back by the earlier part's active time, so the run's totals and rates cover
    both processes and not the time between them. Windows and samples stay per process."""
    from ..tracker import Tracker

    class ContinuedTracker(Tracker):
        def current_part(self) -> dict | None:
            """This rank's cumulative part as of the last snapshot (what a checkpoint saves)."""
            if not self._running:
                return None
            with self._state_lock:
                snap = self._snap
            return self._part_of(snap, "running", end=False)

        def _part_of(self, snap, status, end):
            part = super()._part_of(snap, status, end)
            return continue_part(previous, part) if previous else part

    return ContinuedTracker(**kwargs)


def continue_part(prev: Mapping, part: dict) -> dict:
    """`part` (this process) continued from `prev` (the earlier processes' cumulative part of the same rank)."""
    out = dict(part)
    pinfo = prev.get("info") or {}
    p_end = prev.get("end_ts") or prev.get("updated_ts")
    active = pinfo.get("elapsed_s")
    if active is None:
        active = max(0.0, (p_end or 0.0) - (prev.get("start_ts") or p_end or 0.0))
    if out.get("start_ts") is not None:
        out["start_ts"] = out["start_ts"] - active
    flops = (prev.get("flops") or 0.0) + (part.get("flops") or 0.0)
    out["flops"] = flops or None
    out["steps"] = int(prev.get("steps") or 0) + int(part.get("steps") or 0)
    devices = {r["device"]: dict(r) for r in prev.get("readings") or []}
    for r in part.get("readings") or []:
        d = devices.get(r["device"])
        if d is None:
            devices[r["device"]] = dict(r)
        else:
            for k in ("energy_j", "low_j", "high_j"):
                d[k] = d[k] + r[k]
            if d.get("kind") != r.get("kind"):
                d["kind"] = "estimated"
    out["readings"] = list(devices.values())
    info = dict(part.get("info") or {})
    if info.get("elapsed_s") is not None:
        info["elapsed_s"] = float(active) + float(info["elapsed_s"])
    tokens = float(pinfo.get("tokens") or 0.0) + float(info.get("tokens") or 0.0)
    if tokens:
        info["tokens"] = tokens
    info["processes"] = int(pinfo.get("processes") or 1) + 1
    info["warnings"] = sorted(set(pinfo.get("warnings") or []) | set(info.get("warnings") or []))
    out["info"] = info
    return out
