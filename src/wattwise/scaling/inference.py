"""Inference-aware allocation (Sardana & Frankle 2023, "Beyond Chinchilla-Optimal", Sec. 2).

Reach a target loss l with the fewest lifetime FLOPs, training plus inference:

    minimise  6 N D_train + 2 N D_inference      subject to  L(N, D_train) = l

(2 N FLOPs per inference token: forward pass only, Sardana & Frankle 2023 eq. 2; 6 N per training token).
On the constraint, D_train(N) = (B / (l - E - A N^-alpha))^(1/beta). The derivative of the cost in N is

    6 D_train (1 - (alpha/beta) A N^-alpha / (l - E - A N^-alpha)) + 2 D_inference,

which is increasing in N and has a single root; it is found by bisection on log N (pure Python, exact to
machine precision). With D_inference = 0 the root is the Chinchilla-optimal model.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .._checks import check_number
from ..constants import INFER_FLOPS_PER_PARAM_TOKEN, TRAIN_FLOPS_PER_PARAM_TOKEN
from ..errors import ContradictoryInputError, InvalidValueError, MissingInputError
from .laws import Allocation, ChinchillaLaw, get_law

# forward pass only (Sardana & Frankle 2023, Sec. 2; Kaplan et al. 2020); the public name of this module
INFERENCE_FLOPS_PER_PARAM_TOKEN = INFER_FLOPS_PER_PARAM_TOKEN


@dataclass(frozen=True)
class InferenceAllocation:
    """The lifetime-cheapest model for a target loss and inference demand, next to the Chinchilla choice."""

    params: float
    tokens: float
    loss: float
    inference_tokens: float
    train_flops: float
    inference_flops: float
    chinchilla: Allocation
    law: str

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    @property
    def total_flops(self) -> float:
        return self.train_flops + self.inference_flops

    @property
    def chinchilla_total_flops(self) -> float:
        return self.chinchilla.flops + INFER_FLOPS_PER_PARAM_TOKEN * self.chinchilla.params * self.inference_tokens

    @property
    def saving_fraction(self) -> float:
        """Share of the Chinchilla-optimal model's lifetime FLOPs that the inference-aware model saves."""
        return 1.0 - self.total_flops / self.chinchilla_total_flops

    def to_dict(self) -> dict:
        d = asdict(self)
        d["chinchilla"] = self.chinchilla.to_dict()
        d["chinchilla"]["total_flops"] = self.chinchilla_total_flops
        d.update(tokens_per_param=self.tokens_per_param, total_flops=self.total_flops,
                 saving_fraction=self.saving_fraction)
        return d


def _chinchilla_for_loss(law: ChinchillaLaw, loss: float) -> Allocation:
    return law.optimal(law.compute_for_loss(loss))


def inference_optimal(inference_tokens, *, loss=None, chinchilla_params=None, flops=None,
                      law: str | ChinchillaLaw | None = None) -> InferenceAllocation:
    """Smallest lifetime-FLOPs (params, training tokens) that reaches a target quality.

    The target is exactly one of: `loss`; `chinchilla_params` (the loss of the Chinchilla-optimal model of that
    size); `flops` (the loss of the Chinchilla-optimal model for that training budget).
    """
    law_obj = get_law(law)
    if not getattr(law_obj, "has_loss", False):
        law_obj.loss(1, 1)  # raises MissingInputError naming the laws that have a loss model
    d_inf = check_number("inference_tokens", inference_tokens, allow_zero=True)
    given = [k for k, v in (("loss", loss), ("chinchilla_params", chinchilla_params), ("flops", flops))
             if v is not None]
    if not given:
        raise MissingInputError("give a target quality: loss, chinchilla_params or flops")
    if len(given) > 1:
        raise ContradictoryInputError(f"give one target quality, not {' and '.join(given)}")
    if flops is not None:
        target = law_obj.frontier_loss(flops)
    elif chinchilla_params is not None:
        n_ref = check_number("chinchilla_params", chinchilla_params)
        # N_opt = G (C/6)^a  =>  C = 6 (N / G)^(1/a)
        target = law_obj.frontier_loss(TRAIN_FLOPS_PER_PARAM_TOKEN * (n_ref / law_obj.G) ** (1.0 / law_obj.a))
    else:
        target = check_number("loss", loss)
    if target <= law_obj.E:
        raise InvalidValueError(f"loss {target:g} must exceed the irreducible loss E = {law_obj.E:g}")

    chin = _chinchilla_for_loss(law_obj, target)
    E, A, B, al, be = law_obj.E, law_obj.A, law_obj.B, law_obj.alpha, law_obj.beta
    gap = target - E

    def tokens_for(n: float) -> float:
        return (B / (gap - A * n ** (-al))) ** (1.0 / be)

    def dcost(t: float) -> float:  # d cost / dN, sign only matters
        n = math.exp(t)
        v = A * n ** (-al)
        u = gap - v
        return (TRAIN_FLOPS_PER_PARAM_TOKEN * tokens_for(n) * (1.0 - (al / be) * v / u)
                + INFER_FLOPS_PER_PARAM_TOKEN * d_inf)

    t_min = math.log((A / gap) ** (1.0 / al))  # below this size the loss is unreachable
    lo, hi = t_min + 1e-12, math.log(chin.params)
    if d_inf == 0.0 or dcost(lo) >= 0:  # the latter cannot happen for finite demand; kept as a guard
        t = hi
    else:
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if dcost(mid) > 0:
                hi = mid
            else:
                lo = mid
            if hi - lo < 1e-15 * max(1.0, abs(hi)):
                break
        t = 0.5 * (lo + hi)
    n = math.exp(t)
    d = tokens_for(n) if t < math.log(chin.params) else chin.tokens
    return InferenceAllocation(
        params=n, tokens=d, loss=target, inference_tokens=d_inf,
        train_flops=TRAIN_FLOPS_PER_PARAM_TOKEN * n * d,
        inference_flops=INFER_FLOPS_PER_PARAM_TOKEN * n * d_inf,
        chinchilla=chin, law=law_obj.name,
    )
