"""Knowledge distillation (Hinton, Vinyals, Dean 2015, "Distilling the Knowledge in a Neural Network").

The student matches the teacher's temperature-softened class distribution:

    loss = alpha * T^2 * KL(softmax(z_t / T) || softmax(z_s / T)) + (1 - alpha) * CE(z_s, y)

The T^2 factor keeps the soft term's gradients on the same scale as the hard term's when T changes (Hinton et al.
2015, section 2: soft-target gradients scale as 1/T^2). Without labels (unlabeled transfer data) the loss is the
soft term alone. torch is imported inside the functions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .._checks import check_number
from ..errors import InvalidValueError
from ._deps import require_torch

# Defaults: T = 4 and alpha = 0.9 are common practice, not the paper's values; Hinton et al. 2015 (section 3,
# MNIST) report temperatures from 2.5 to 20 working, and a small weight on the hard-label term.
DEFAULT_TEMPERATURE = 4.0
DEFAULT_ALPHA = 0.9


def kd_loss(student_logits, teacher_logits, labels=None, *, temperature: float = DEFAULT_TEMPERATURE,
            alpha: float = DEFAULT_ALPHA):
    """Hinton et al. 2015 distillation loss (mean over the batch); `labels=None` gives the soft term alone.

    Logits are (batch, classes) or (..., classes); the class axis is last. `alpha` weighs the soft term.
    """
    torch = require_torch()
    F = torch.nn.functional
    T = check_number("temperature", temperature)
    a = check_number("alpha", alpha, allow_zero=True, upper=1.0)
    if student_logits.shape != teacher_logits.shape:
        raise InvalidValueError(f"student logits {tuple(student_logits.shape)} and teacher logits "
                                f"{tuple(teacher_logits.shape)} must have the same shape")
    c = student_logits.shape[-1]
    s = student_logits.reshape(-1, c)
    t = teacher_logits.detach().reshape(-1, c).to(s.dtype)
    soft = F.kl_div(F.log_softmax(s / T, dim=-1), F.log_softmax(t / T, dim=-1), reduction="batchmean",
                    log_target=True) * (T * T)
    if labels is None:
        return soft
    hard = F.cross_entropy(s, labels.reshape(-1))
    return a * soft + (1.0 - a) * hard


@dataclass
class TrainResult:
    """What a distillation or fine-tuning run did: steps, mean loss per epoch, wall-clock."""

    steps: int
    epoch_losses: list[float] = field(default_factory=list)
    duration_s: float = 0.0
    samples: int = 0

    @property
    def final_loss(self) -> float | None:
        return self.epoch_losses[-1] if self.epoch_losses else None


def split_batch(batch) -> tuple[Any, Any]:
    """(inputs, labels or None) from a loader batch: a tensor, (x,), (x, y), or a dict with 'x'/'y' keys."""
    if isinstance(batch, dict):
        x = batch.get("x", batch.get("input", batch.get("inputs")))
        return x, batch.get("y", batch.get("label", batch.get("labels")))
    if isinstance(batch, (tuple, list)):
        if len(batch) == 1:
            return batch[0], None
        if len(batch) == 2:
            return batch[0], batch[1]
        raise InvalidValueError(f"a batch must be x, (x,) or (x, y); got a {type(batch).__name__} of "
                                f"{len(batch)} items")
    return batch, None


def _progress(enabled: bool):
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), TextColumn("loss {task.fields[loss]:.4f}"), disable=not enabled,
                    transient=True)


def _len(loader) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


def _train(model, loader, step_loss: Callable, *, epochs: int, optimizer, lr: float, device, progress: bool,
           description: str, max_steps: int | None) -> TrainResult:
    torch = require_torch()
    if epochs < 1:
        raise InvalidValueError(f"epochs must be >= 1, got {epochs}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise InvalidValueError("the model to train has no trainable parameters")
    opt = optimizer or torch.optim.AdamW(params, lr=check_number("lr", lr))
    model.train()
    res = TrainResult(steps=0)
    t0 = time.perf_counter()
    n = _len(loader)
    with _progress(progress) as bar:
        task = bar.add_task(description, total=(n * epochs if n else None), loss=float("nan"))
        for epoch in range(epochs):
            total, count = 0.0, 0
            for batch in loader:
                x, y = split_batch(batch)
                if device is not None:
                    x = x.to(device)
                    y = None if y is None else y.to(device)
                loss = step_loss(x, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach())
                count += 1
                res.steps += 1
                res.samples += int(x.shape[0]) if hasattr(x, "shape") and len(x.shape) else 1
                bar.update(task, advance=1, loss=total / count,
                           description=f"{description} epoch {epoch + 1}/{epochs}")
                if max_steps is not None and res.steps >= max_steps:
                    break
            res.epoch_losses.append(total / max(count, 1))
            if max_steps is not None and res.steps >= max_steps:
                break
    model.eval()
    res.duration_s = time.perf_counter() - t0
    return res


def distill(teacher, student, loader: Iterable, *, epochs: int = 1, temperature: float = DEFAULT_TEMPERATURE,
            alpha: float = DEFAULT_ALPHA, optimizer=None, lr: float = 1e-3, device=None, progress: bool = True,
            max_steps: int | None = None) -> TrainResult:
    """Distil `teacher` into `student` on `loader` (batches x, (x,), or (x, y); unlabeled works); the student
    is trained in place and left in eval mode. Shows a rich progress bar unless `progress=False`."""
    torch = require_torch()
    teacher.eval()

    def step_loss(x, y):
        with torch.no_grad():
            t = teacher(x)
        return kd_loss(student(x), t, y, temperature=temperature, alpha=alpha)

    return _train(student, loader, step_loss, epochs=epochs, optimizer=optimizer, lr=lr, device=device,
                  progress=progress, description="distilling", max_steps=max_steps)


def finetune(model, loader: Iterable, *, loss_fn: Callable | None = None, epochs: int = 1, optimizer=None,
             lr: float = 1e-3, device=None, progress: bool = True, max_steps: int | None = None) -> TrainResult:
    """Plain supervised fine-tuning (default: cross-entropy on (x, y) batches), e.g. to recover after pruning."""
    torch = require_torch()
    loss_fn = loss_fn or torch.nn.functional.cross_entropy

    def step_loss(x, y):
        if y is None:
            raise InvalidValueError("fine-tuning needs labelled (x, y) batches; use distill() for unlabeled data")
        return loss_fn(model(x), y)

    return _train(model, loader, step_loss, epochs=epochs, optimizer=optimizer, lr=lr, device=device,
                  progress=progress, description="fine-tuning", max_steps=max_steps)
