"""The sweep grid: for each compute budget C, model sizes spread around the expected optimum, each trained for
D = C / (6 N) tokens (or C / counted training FLOPs per token), as in Hoffmann et al. 2022, Sec. 3.2 (Approach 2).

The model family is the decoder-only transformer of `wattwise.flops` (GPT-2 flavour: learned positions, tied
embeddings, d_ff = 4 d, head size 16); a size is set by width d_model and depth n_layers. N counts every parameter,
embeddings included, as Hoffmann et al. 2022 do (Pearce & Song 2024, "Reconciling Kaplan and Chinchilla").
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace

from ..._checks import check_number
from ...errors import InvalidValueError
from ..laws import TRAIN_FLOPS_PER_PARAM_TOKEN

TOKENS_RULES = ("6N", "counted")
HEAD_DIM = 16


@dataclass(frozen=True)
class SweepConfig:
    """Everything that defines a sweep's runs; its hash is the default sweep id (same config -> resumes)."""

    budgets_flops: tuple[float, ...]
    sizes_per_budget: int = 5
    spread: float = 16.0                   # largest / smallest N within one budget
    center_tokens_per_param: float = 20.0  # prior for the centre of each slice (Hoffmann et al. 2022: ~20)
    sizes_params: tuple[float, ...] | None = None  # explicit target N for every budget (overrides the spread)
    tokens_rule: str = "6N"                # D = C / (6N), or C / counted training FLOPs per token
    data: str | None = None                # file or folder; None = pydoc_data.topics
    level: str = "char"
    heldout_fraction: float = 0.1
    seed: int = 0
    seq_len: int = 64
    batch_size: int = 16
    lr: float | None = None                # None: 8e-3 * sqrt(32 / d_model), within [1e-3, 1.2e-2]
    warmup_frac: float = 0.1
    min_lr_frac: float = 0.1               # cosine to 10% of the peak over the run (Hoffmann et al. 2022, Sec. 3)
    weight_decay: float = 0.1
    eval_tokens: int = 32768
    min_d_model: int = 16
    max_d_model: int = 512
    max_layers: int = 8
    threads: int = 1                       # torch threads per run
    sweep_id: str | None = None

    def __post_init__(self):
        if not self.budgets_flops:
            raise InvalidValueError("give at least one compute budget (FLOPs), e.g. --budgets 1e11,3e11,1e12")
        for b in self.budgets_flops:
            check_number("budget", b)
        if self.sizes_per_budget < 1:
            raise InvalidValueError(f"sizes_per_budget must be >= 1, got {self.sizes_per_budget!r}")
        if self.tokens_rule not in TOKENS_RULES:
            raise InvalidValueError(f"tokens_rule must be one of {', '.join(TOKENS_RULES)}, got {self.tokens_rule!r}")
        check_number("spread", self.spread)
        if self.spread < 1:
            raise InvalidValueError(f"spread must be >= 1 (largest / smallest model), got {self.spread!r}")
        if self.min_d_model > self.max_d_model:
            raise InvalidValueError(f"min_d_model={self.min_d_model} exceeds max_d_model={self.max_d_model}")

    def identity(self) -> dict:
        """The fields that change the runs' results (not the sweep id or how they are executed)."""
        d = asdict(self)
        d.pop("sweep_id")
        d["budgets_flops"] = [float(b) for b in self.budgets_flops]
        d["sizes_params"] = None if self.sizes_params is None else [float(n) for n in self.sizes_params]
        return d

    def resolved_id(self, data_sha256: str) -> str:
        if self.sweep_id:
            return self.sweep_id
        blob = json.dumps({**self.identity(), "data_sha256": data_sha256}, sort_keys=True)
        return "sw-" + hashlib.sha1(blob.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class RunSpec:
    """One run of the grid (plain data: pickles to worker processes and Ray tasks)."""

    sweep_id: str
    key: str
    budget_flops: float
    d_model: int
    n_layers: int
    n_heads: int
    vocab_size: int
    seq_len: int
    batch_size: int
    params: int
    non_embedding_params: int
    training_flops_per_token: int   # counted: 3 x forward matmul FLOPs per token (wattwise.flops)
    steps: int
    tokens: int                     # trained tokens = steps x batch x seq
    lr: float
    warmup_steps: int
    min_lr_frac: float
    weight_decay: float
    eval_tokens: int
    seed: int
    threads: int
    data: str | None
    level: str
    heldout_fraction: float
    target_params: float = field(default=0.0, compare=False)

    @property
    def run_id(self) -> str:
        return f"{self.sweep_id}-{self.key}"

    @property
    def flops_6nd(self) -> float:
        return TRAIN_FLOPS_PER_PARAM_TOKEN * self.params * self.tokens

    @property
    def flops_counted(self) -> float:
        return float(self.training_flops_per_token) * self.tokens

    def shape(self):
        from ...flops import TransformerShape

        return TransformerShape("sweep", self.n_layers, self.d_model, self.n_heads, 4 * self.d_model,
                                self.vocab_size, self.seq_len)

    def to_dict(self) -> dict:
        return {**asdict(self), "run_id": self.run_id, "flops_6nd": self.flops_6nd,
                "flops_counted": self.flops_counted}


def _heads(d_model: int) -> int:
    h = max(1, d_model // HEAD_DIM)
    while d_model % h:
        h -= 1
    return h


def family(vocab_size: int, seq_len: int, min_d_model: int = 16, max_d_model: int = 512, max_layers: int = 8):
    """Candidate shapes (d_model, n_layers, n_heads, params), d_model a multiple of 8, 8 <= d_model / n_layers <= 64,
    sorted by params."""
    from ...flops import TransformerShape

    out = []
    for d in range(max(8, min_d_model - min_d_model % 8), max_d_model + 1, 8):
        if d < min_d_model:
            continue
        for n_layers in range(1, max_layers + 1):
            if not 8 <= d / n_layers <= 64:
                continue
            h = _heads(d)
            s = TransformerShape("sweep", n_layers, d, h, 4 * d, vocab_size, seq_len)
            out.append((d, n_layers, h, s.params()))
    if not out:
        raise InvalidValueError(f"no model shape with d_model in [{min_d_model}, {max_d_model}] and up to "
                                f"{max_layers} layers")
    return sorted(out, key=lambda r: (r[3], r[0]))


def _closest(cands, target: float, taken: set):
    best = None
    for c in cands:
        if c[3] in taken:
            continue
        err = abs(math.log(c[3] / target))
        aspect = abs(math.log2(c[0] / c[1] / 32.0)) * 1e-3  # tie-break toward d_model / n_layers ~ 32
        if best is None or err + aspect < best[0]:
            best = (err + aspect, c)
    return None if best is None else best[1]


def lr_for(d_model: int, lr: float | None) -> float:
    """Peak learning rate: given, else 8e-3 x sqrt(32 / d_model) clipped to [1e-3, 1.2e-2] (a wattwise heuristic,
    tuned by hand on pydoc text at d_model 16-40; not a literature value)."""
    if lr is not None:
        return float(lr)
    return min(1.2e-2, max(1e-3, 8e-3 * math.sqrt(32.0 / d_model)))


def plan_grid(config: SweepConfig, vocab_size: int, sweep_id: str = "sweep") -> list[RunSpec]:
    """The runs of the sweep: per budget, `sizes_per_budget` distinct shapes whose N are log-spaced over `spread`
    around N* = sqrt(C / (6 r)), r = center_tokens_per_param (the optimum if D/N = r, Hoffmann et al. 2022);
    or the shapes closest to `sizes_params` at every budget."""
    from ...flops import TransformerShape, flops_per_token

    cands = family(vocab_size, config.seq_len, config.min_d_model, config.max_d_model, config.max_layers)
    batch_tokens = config.batch_size * config.seq_len
    specs: list[RunSpec] = []
    k = config.sizes_per_budget
    for c in sorted(set(float(b) for b in config.budgets_flops)):
        center = math.sqrt(c / (TRAIN_FLOPS_PER_PARAM_TOKEN * config.center_tokens_per_param))
        ratio = config.spread ** (1.0 / (k - 1)) if k > 1 else 1.0
        targets = [center * ratio ** (i - (k - 1) / 2) for i in range(k)]
        if config.sizes_params:
            targets = [float(n) for n in config.sizes_params]
        taken: set = set()
        for target in targets:
            cand = _closest(cands, target, taken)
            if cand is None:
                break
            taken.add(cand[3])
            d, n_layers, h, n = cand
            shape = TransformerShape("sweep", n_layers, d, h, 4 * d, vocab_size, config.seq_len)
            fpt = flops_per_token(shape)["training_flops_per_token"]
            per_token = TRAIN_FLOPS_PER_PARAM_TOKEN * n if config.tokens_rule == "6N" else fpt
            steps = max(1, round(c / per_token / batch_tokens))
            key = f"c{c:.2e}-d{d}l{n_layers}".replace("+", "")
            specs.append(RunSpec(
                sweep_id=sweep_id, key=key, budget_flops=c, d_model=d, n_layers=n_layers, n_heads=h,
                vocab_size=vocab_size, seq_len=config.seq_len, batch_size=config.batch_size, params=n,
                non_embedding_params=shape.non_embedding_params(), training_flops_per_token=fpt, steps=steps,
                tokens=steps * batch_tokens, lr=lr_for(d, config.lr),
                warmup_steps=max(1, int(config.warmup_frac * steps)), min_lr_frac=config.min_lr_frac,
                weight_decay=config.weight_decay, eval_tokens=config.eval_tokens, seed=config.seed,
                threads=config.threads, data=config.data, level=config.level,
                heldout_fraction=config.heldout_fraction, target_params=target))
    return specs


def with_sweep_id(specs: list[RunSpec], sweep_id: str) -> list[RunSpec]:
    return [replace(s, sweep_id=sweep_id) for s in specs]
