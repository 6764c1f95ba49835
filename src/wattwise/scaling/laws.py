"""Published scaling laws and the compute-optimal allocation they imply.

Chinchilla's parametric law (Hoffmann et al. 2022, eq. 2):

    L(N, D) = E + A / N^alpha + B / D^beta,      training FLOPs C ~= 6 N D

Minimising L subject to C = 6 N D gives (Hoffmann et al. 2022, eq. 4)

    G = (alpha A / (beta B))^(1 / (alpha + beta))
    N_opt = G (C/6)^a,   D_opt = G^-1 (C/6)^b,   a = beta / (alpha + beta),   b = alpha / (alpha + beta)

and, because both reducible terms then fall as (C/6)^-gamma with gamma = alpha beta / (alpha + beta),
the loss on the frontier is L*(C) = E + K (C/6)^-gamma, K = A G^-alpha + B G^beta. That closed form gives
`compute_for_loss` and `efficiency` without any numerical search.

Pure Python on purpose: no numpy or scipy at import. The law methods also accept numpy arrays.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ..constants import TRAIN_FLOPS_PER_PARAM_TOKEN  # C ~= 6 N D (Kaplan et al. 2020, Sec. 2.1); re-exported
from ..errors import InvalidValueError, MissingInputError, UnknownNameError, closest

PF_DAY_FLOPS = 1e15 * 86400.0  # 1 petaflop/s-day, the compute unit of Kaplan et al. 2020 (Sec. 1.3)


def _positive(name: str, value) -> float:
    from .._checks import check_number

    return check_number(name, value)


@dataclass(frozen=True)
class Allocation:
    """A (params, tokens) choice for a training budget, with the loss the law predicts (None if it has none)."""

    flops: float
    params: float
    tokens: float
    loss: float | None
    law: str

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    def to_dict(self) -> dict:
        d = asdict(self)
        d["tokens_per_param"] = self.tokens_per_param
        return d


@dataclass(frozen=True)
class ChinchillaLaw:
    """L(N, D) = E + A / N^alpha + B / D^beta with N parameters and D training tokens (nats per token)."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    name: str = "custom"
    source: str = ""
    caveat: str = ""

    def __post_init__(self):
        for k in ("A", "B", "alpha", "beta"):
            v = getattr(self, k)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise InvalidValueError(f"law constant {k} must be a finite number > 0, got {v!r}")
        if not (isinstance(self.E, (int, float)) and math.isfinite(self.E) and self.E >= 0):
            raise InvalidValueError(f"law constant E must be a finite number >= 0, got {self.E!r}")

    has_loss = True

    # exponents of the frontier ------------------------------------------------------------
    @property
    def a(self) -> float:
        """Exponent of N_opt ~ C^a: beta / (alpha + beta)."""
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        """Exponent of D_opt ~ C^b: alpha / (alpha + beta)."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def gamma(self) -> float:
        """Exponent of the frontier loss: L*(C) - E ~ C^-gamma, gamma = alpha beta / (alpha + beta)."""
        return self.alpha * self.beta / (self.alpha + self.beta)

    @property
    def G(self) -> float:
        """Hoffmann et al. 2022 eq. 4: G = (alpha A / (beta B))^(1 / (alpha + beta))."""
        return (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))

    @property
    def _K(self) -> float:
        g = self.G
        return self.A * g ** (-self.alpha) + self.B * g ** self.beta

    # the law ------------------------------------------------------------------------------
    def loss(self, params, tokens):
        """Predicted loss of a model with `params` parameters trained on `tokens` tokens (arrays welcome)."""
        return self.E + self.A / params ** self.alpha + self.B / tokens ** self.beta

    def optimal(self, flops) -> Allocation:
        """Compute-optimal (params, tokens) for a training budget of `flops` FLOPs, and the loss it reaches."""
        c = _positive("flops", flops)
        s = c / TRAIN_FLOPS_PER_PARAM_TOKEN
        n = self.G * s ** self.a
        d = s / n
        return Allocation(flops=c, params=n, tokens=d, loss=self.loss(n, d), law=self.name)

    def frontier_loss(self, flops) -> float:
        """Loss of the compute-optimal model at `flops`: E + K (C/6)^-gamma (closed form)."""
        c = _positive("flops", flops)
        return self.E + self._K * (c / TRAIN_FLOPS_PER_PARAM_TOKEN) ** (-self.gamma)

    def compute_for_loss(self, loss) -> float:
        """Fewest training FLOPs that reach `loss` (allocated optimally); loss must exceed E."""
        target = _positive("loss", loss)
        if target <= self.E:
            raise InvalidValueError(
                f"loss {target:g} is at or below the irreducible loss E = {self.E:g} of law {self.name!r}; "
                f"no finite compute reaches it (accepted: loss > {self.E:g})"
            )
        s = (self._K / (target - self.E)) ** (1.0 / self.gamma)
        return TRAIN_FLOPS_PER_PARAM_TOKEN * s

    def efficiency(self, params, tokens) -> float:
        """Fraction of 6 N D that the optimal allocation needs to reach the same loss, in (0, 1].

        1 means (N, D) is compute-optimal; 0.5 means half the budget was wasted.
        """
        n = _positive("params", params)
        d = _positive("tokens", tokens)
        needed = self.compute_for_loss(self.loss(n, d))
        return min(1.0, needed / (TRAIN_FLOPS_PER_PARAM_TOKEN * n * d))

    def check(self, params, tokens) -> dict:
        """How far (N, D) is from optimal: efficiency, wasted fraction, and the optimal split of the same compute."""
        n = _positive("params", params)
        d = _positive("tokens", tokens)
        flops = TRAIN_FLOPS_PER_PARAM_TOKEN * n * d
        eff = self.efficiency(n, d)
        opt = self.optimal(flops)
        return {
            "law": self.name,
            "flops": flops,
            "loss": self.loss(n, d),
            "efficiency": eff,
            "wasted_fraction": 1.0 - eff,
            "params": opt.params,
            "tokens": opt.tokens,
            "tokens_per_param": opt.tokens_per_param,
            "optimal_loss": opt.loss,
            "params_ratio": n / opt.params,
        }

    def to_dict(self) -> dict:
        return {"name": self.name, "E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha,
                "beta": self.beta, "a": self.a, "b": self.b, "source": self.source, "caveat": self.caveat}


@dataclass(frozen=True)
class AllocationRule:
    """An allocation-only rule N_opt = k * (C / unit)^a, D = C / (6 N): no loss model attached."""

    coefficient: float
    exponent: float
    flops_unit: float = 1.0
    name: str = "custom-rule"
    source: str = ""
    caveat: str = ""
    notes: dict = field(default_factory=dict)

    has_loss = False

    @property
    def a(self) -> float:
        return self.exponent

    @property
    def b(self) -> float:
        return 1.0 - self.exponent

    def optimal(self, flops) -> Allocation:
        c = _positive("flops", flops)
        n = self.coefficient * (c / self.flops_unit) ** self.exponent
        return Allocation(flops=c, params=n, tokens=c / (TRAIN_FLOPS_PER_PARAM_TOKEN * n), loss=None,
                          law=self.name)

    def _no_loss(self, what: str):
        raise MissingInputError(
            f"law {self.name!r} is an allocation rule without a loss model, so it cannot give {what}; "
            f"use a parametric law: {', '.join(n for n, l in LAWS.items() if l.has_loss)}"
        )

    def loss(self, params, tokens):
        self._no_loss("a loss")

    def compute_for_loss(self, loss):
        self._no_loss("the compute for a loss")

    def efficiency(self, params, tokens):
        self._no_loss("an efficiency")

    def check(self, params, tokens):
        self._no_loss("an efficiency")

    def to_dict(self) -> dict:
        return {"name": self.name, "coefficient": self.coefficient, "exponent": self.exponent,
                "flops_unit": self.flops_unit, "a": self.a, "b": self.b, "source": self.source,
                "caveat": self.caveat}


# --------------------------------------------------------------------------------------------------
# Registry of published constants
# --------------------------------------------------------------------------------------------------
LAWS: dict[str, ChinchillaLaw | AllocationRule] = {
    "besiroglu2024": ChinchillaLaw(
        # Besiroglu, Erdil, Barnett, You 2024, "Chinchilla Scaling: A replication attempt" (arXiv 2404.10102),
        # Table 1 / eq. 3: their refit of Hoffmann's Approach 3 on data extracted from Hoffmann Fig. 4.
        E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658,
        name="besiroglu2024",
        source="Besiroglu et al. 2024, Chinchilla Scaling: A replication attempt, Table 1 (E printed as 1.82)",
        caveat="Fitted to ~240 points digitised from Hoffmann et al.'s Fig. 4 (MassiveText, dense transformers); "
               "standard errors are large for A (124.58) and B (1293.23); about 20 tokens per parameter.",
    ),
    "hoffmann2022": ChinchillaLaw(
        # Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models", eq. 10 (Sec. 3.3, Approach 3)
        E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28,
        name="hoffmann2022",
        source="Hoffmann et al. 2022, Training Compute-Optimal LLMs, Sec. 3.3 eq. 10 (printed, rounded)",
        caveat="Besiroglu et al. 2024 show the optimiser stopped early (mean, not summed, Huber loss) and that "
               "rounding alpha, beta moves N_opt by ~20%; implies ~98 tokens per parameter at 1e24 FLOPs, "
               "inconsistent with Hoffmann's own Approaches 1 and 2.",
    ),
    "hoffmann2022-unrounded": ChinchillaLaw(
        # The unrounded estimates in the TeX source of Hoffmann et al. 2022 (arXiv 2203.15556), as reported by
        # Besiroglu et al. 2024, Sec. 4 / Table 1 ("Hoffmann et al.'s estimate").
        E=1.6934, A=406.4, B=410.7, alpha=0.3392, beta=0.2849,
        name="hoffmann2022-unrounded",
        source="Hoffmann et al. 2022 TeX source, reported by Besiroglu et al. 2024, Table 1",
        caveat="Same early-stopped fit as hoffmann2022, without the rounding bias; still fits the extracted "
               "data poorly (Besiroglu et al. 2024).",
    ),
    "kaplan2020": AllocationRule(
        # Kaplan et al. 2020, "Scaling Laws for Neural Language Models", Sec. 6.1 / Fig. 14:
        # N(C_min) ~= 1.3e9 * (C_min / PF-day)^0.73, N counting non-embedding parameters.
        coefficient=1.3e9, exponent=0.73, flops_unit=PF_DAY_FLOPS,
        name="kaplan2020",
        source="Kaplan et al. 2020, Scaling Laws for Neural Language Models, Sec. 6.1 (N = 1.3e9 C^0.73, "
               "C in PF-days)",
        caveat="Non-embedding parameters; fitted on models up to 1.5B parameters with a fixed learning-rate "
               "schedule (Hoffmann et al. 2022, Sec. 2), so it favours much larger models on fewer tokens "
               "than Chinchilla; D here is C / (6 N). For comparison only.",
    ),
    "tokens20": AllocationRule(
        # D = 20 N, so C = 6 N (20 N) = 120 N^2 and N = (C / 120)^0.5. Rule of thumb read off Hoffmann et al.
        # 2022, Table 3 (Approach 1 and 2 optima; Chinchilla itself: 70B parameters on 1.4T tokens).
        coefficient=1.0 / math.sqrt(TRAIN_FLOPS_PER_PARAM_TOKEN * 20.0), exponent=0.5,
        name="tokens20",
        source="Rule of thumb from Hoffmann et al. 2022, Table 3 (Chinchilla: 70B parameters, 1.4T tokens)",
        caveat="An approximation, not a fit: the optimal ratio drifts with budget and with the fitted law "
               "(about 20 for besiroglu2024, about 70 for the rounded hoffmann2022 constants).",
    ),
}

DEFAULT_LAW = "besiroglu2024"


def get_law(name: str | None = None):
    """The law registered under `name` (default besiroglu2024); did-you-mean on unknown names."""
    if name is None:
        name = DEFAULT_LAW
    if isinstance(name, (ChinchillaLaw, AllocationRule)):
        return name
    key = str(name).strip().lower()
    if key in LAWS:
        return LAWS[key]
    raise UnknownNameError("scaling law", str(name), closest(key, LAWS), accepted=sorted(LAWS))


def plan(flops, law: str | None = None) -> Allocation:
    """Compute-optimal allocation of a training budget of `flops` FLOPs under a registered law."""
    return get_law(law).optimal(flops)


def check(params, tokens, law: str | None = None) -> dict:
    """How far a (params, tokens) choice is from compute-optimal under a registered law."""
    return get_law(law).check(params, tokens)
