"""Serving: text generation measured (prefill and decode apart), and the serving projection of an estimate
with a measured energy per token plus the resident/idle power of the replicas.

Why both: the 2N-FLOPs-per-token model (Kaplan et al. 2020) gives the compute of serving, but the energy of an
API is dominated by replicas that stay resident and mostly idle. BLOOM's API (Luccioni et al. 2023, Sec. 5,
arXiv 2211.02001) served 230,768 requests for 914 kWh in 18 days on 16 A100 40GB GPUs, about 3.96 Wh per
request. Serving people compare energy per generated token (the ML.ENERGY leaderboard, Chung et al. 2025), which
`measure_generation` measures.

Decode FLOPs per token with a KV cache of `context` earlier tokens, per sequence:
    2 x (weights of every matrix multiply, the output head included)  +  4 x layers x context x heads x head_dim
(QK^T and attention x V each 2 x context x heads x head_dim per layer; Kaplan et al. 2020, Table 1, whose
2 n_layer n_ctx d_attn counts one multiply-accumulate as 1, hence 4 here in FLOPs).

`import wattwise.serving` needs neither numpy nor torch; `measure_generation` imports torch when called.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Sequence

from ._checks import check_number
from .constants import G_PER_KG, INFER_FLOPS_PER_PARAM_TOKEN, J_PER_KWH, S_PER_DAY, S_PER_HOUR, W_PER_KW
from .errors import InvalidValueError, MissingExtraError
from .quantity import Quantity

TOKENS_PER_UNIT = 1000  # CO2e and energy are reported per 1,000 generated tokens

# BLOOM's API deployment (Luccioni et al. 2023, Sec. 5 and Table 5): 230,768 requests, 914 kWh, 18 days,
# 16 x A100 40GB on one GCP instance; used by the tests and the docs as the published serving figure.
BLOOM_API = {"requests": 230_768, "energy_kwh": 914.0, "days": 18.0, "gpus": 16}


# --- the projection of an estimate ---------------------------------------------------------------------------

def apply_measured(training, hw, *, tokens: float, days: float | None, j_per_token: float | None,
                   replicas: int | None, resident_power_w: float | None) -> None:
    """Replace the energy of `training.inference` by measured J/token x tokens, plus replicas x resident power
    x serving days (both IT energy before PUE); recompute its CO2e and the lifetime (in place)."""
    from . import assumptions
    inf = training.inference
    comps: dict[str, Quantity] = {}
    if j_per_token is not None:
        j = check_number("serving_j_per_token", j_per_token, allow_zero=True)
        comps["generation"] = Quantity(tokens * j / J_PER_KWH, method="estimated",
                                       basis=f"{tokens:.4g} tokens x {j:g} J/token (measured, given)")
    elif inf.it_energy_kwh is not None:
        comps["generation"] = inf.it_energy_kwh.with_(basis="2 N FLOPs per token / throughput x board power")
    if replicas is not None or resident_power_w is not None:
        if replicas is None or resident_power_w is None or days is None:
            raise InvalidValueError("resident power needs `serving_replicas`, `serving_resident_power_w` (W per "
                                    "replica, idle or resident) and `inference_days` (how long they stay up)")
        if isinstance(replicas, bool) or int(check_number("serving_replicas", replicas)) != replicas:
            raise InvalidValueError(f"`serving_replicas` must be a whole number >= 1, got {replicas!r}")
        w = check_number("serving_resident_power_w", resident_power_w, allow_zero=True)
        comps["resident"] = Quantity(int(replicas) * w * days * S_PER_DAY / S_PER_HOUR / W_PER_KW,
                                     method="estimated",
                                     basis=f"{int(replicas)} replicas x {w:g} W resident x {days:g} days")
    if not comps:
        return
    it = None
    for q in comps.values():
        it = q if it is None else it.plus(q)
    inf.energy_by_component_kwh = comps
    inf.it_energy_kwh = it.with_(basis=" + ".join(comps))
    inf.pue = hw.pue
    inf.energy_kwh = assumptions.facility(inf.it_energy_kwh, hw.pue, "estimated")
    inf.missing.pop("energy_kwh", None)
    if hw.intensity is not None:
        inf.co2e_kg = assumptions.carbon(inf.energy_kwh, hw.intensity, "estimated")
        inf.missing.pop("co2e_kg", None)
    inf.extra["serving"] = {k: v.to_dict() for k, v in comps.items()}
    training.sources["inference"] = (training.sources.get("inference", "") + "; energy: "
                                     + " + ".join(q.basis for q in comps.values()))


# --- decode FLOPs per token ------------------------------------------------------------------------------------

def decode_flops_per_token(model, context: int) -> dict[str, float]:
    """FLOPs of one decode step per sequence of a causal LM attending to `context` cached tokens:
    2 x matmul weights (every nn.Linear, the output head included) + 4 x layers x context x heads x head_dim."""
    import torch
    cfg = model.config
    linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    layers = int(cfg.num_hidden_layers)
    heads = int(cfg.num_attention_heads)
    head_dim = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // heads)
    dense = INFER_FLOPS_PER_PARAM_TOKEN * linear
    attn = 4.0 * layers * context * heads * head_dim
    return {"dense": dense, "attention": attn, "total": dense + attn, "matmul_params": float(linear),
            "context": float(context)}


# --- measured generation ---------------------------------------------------------------------------------------

@dataclass
class GenerationMeasurement:
    """Text generation at one batch size: prefill (the prompt) and decode (new tokens) measured apart."""

    batch_size: int
    prompt_tokens: int                 # per sequence
    new_tokens: int                    # per sequence
    prefill_s: float                   # time to first token (the whole batch's prompt forward)
    decode_s: float                    # all decode steps
    prefill_tokens_per_s: float
    decode_tokens_per_s: float
    latency_per_token_s: float         # one decode step (every sequence of the batch gets a token)
    prefill_kwh: float | None = None   # IT energy
    decode_kwh: float | None = None
    j_per_token_prefill: float | None = None
    j_per_token_decode: float | None = None
    kwh_per_1000_tokens: float | None = None      # decode, facility (x PUE)
    co2e_per_1000_tokens_kg: float | None = None  # decode, facility x intensity
    energy_method: str = "missing"     # measured (tracker meters) | estimated (given power x time) | missing
    decode_flops_per_token: dict[str, float] = field(default_factory=dict)   # estimate at the mean context
    achieved_decode_flop_per_s: float | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ids(prompts, tokenizer) -> list[list[int]]:
    if hasattr(prompts, "tolist"):
        prompts = prompts.tolist()
    out = []
    for p in prompts:
        if isinstance(p, str):
            if tokenizer is None:
                raise InvalidValueError("text prompts need a `tokenizer` (or give token ids)")
            p = tokenizer(p)["input_ids"]
        out.append([int(t) for t in p])
    if not out or min(len(p) for p in out) < 1:
        raise InvalidValueError("`prompts` must hold at least one non-empty prompt")
    return out


def _energy(run, *, tracker_kwargs: dict, power_w: float | None, notes: dict, what: str):
    """(seconds, IT kWh or None, method, intensity, pue) of `run()` measured by the tracker's meters; with
    `power_w` (watts of the device) as the fallback estimate."""
    t0 = time.perf_counter()
    fp = None
    try:
        from .tracker import Tracker
        tracker = Tracker(**tracker_kwargs)
        with tracker:
            run()
        fp = tracker.footprint
        fp = fp() if callable(fp) else fp
    except Exception as e:  # noqa: BLE001 - energy is optional, timing is not
        notes[what] = f"tracker failed: {type(e).__name__}: {e}"
        t0 = time.perf_counter()
        run()
    dt = time.perf_counter() - t0
    it = getattr(fp, "it_energy_kwh", None) if fp is not None else None
    inten = getattr(fp, "intensity_g_per_kwh", None) if fp is not None else None
    pue = getattr(fp, "pue", None) if fp is not None else None
    if it is not None and float(it) > 0:
        return dt, float(it), "measured", inten, pue
    if power_w is not None:
        notes.setdefault(what, f"energy = given {power_w:g} W x measured time")
        return dt, power_w * dt / J_PER_KWH, "estimated", inten, pue
    notes.setdefault(what, "no energy: the tracker measured none and no `power_w` was given")
    return dt, None, "missing", inten, pue


def measure_generation(model, prompts: Sequence, *, batch_sizes: Iterable[int] = (1,), max_new_tokens: int = 16,
                       tokenizer=None, region: str | None = None, pue: float | str | None = None,
                       intensity_g_per_kwh: float | None = None, power_w: float | None = None,
                       ledger: Any = False, tracker_kwargs: dict | None = None,
                       count: bool = False) -> list[GenerationMeasurement]:
    """Measure text generation of a causal LM (a transformers `*ForCausalLM`) at each batch size.

    For each batch: one prefill forward of the prompts (truncated to the shortest, so no padding is needed),
    then `max_new_tokens` greedy decode steps with the KV cache, each phase timed and metered by
    `wattwise.Tracker` (ledger=False: nothing recorded unless `ledger` is given). `power_w` is a fallback
    (device watts x time, labelled estimated) when the meters give no energy. Reports tokens/s, latency,
    J/token and CO2e per 1,000 generated tokens (PUE and intensity from `region`/`pue`, or
    `intensity_g_per_kwh`), and the decode FLOPs per token estimate (2N + attention with KV cache; with
    `count=True` also counted by `wattwise.count_hf` on the meta device at the mean decode context)."""
    try:
        import torch
    except ImportError as e:  # pragma: no cover - torch is in the test environment
        raise MissingExtraError("measure_generation needs torch: pip install 'wattwise[torch]'") from e
    from . import assumptions
    ids = _ids(prompts, tokenizer)
    new = int(check_number("max_new_tokens", max_new_tokens))
    sizes = [int(check_number("batch_sizes", b)) for b in batch_sizes]
    if power_w is not None:
        power_w = check_number("power_w", power_w)
    kw = dict(name="measure_generation", ledger=ledger, handle_signals=False, region=region, pue=pue)
    kw.update(tracker_kwargs or {})
    given_i = None if intensity_g_per_kwh is None else assumptions.intensity(None, intensity_g_per_kwh)[0]
    device = next(model.parameters()).device
    model.eval()
    import inspect
    # transformers >= 5.2x names the KV cache `cache` (`past_key_values` is deprecated); older ones the latter
    cache_kw = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    def cache_of(o):
        c = getattr(o, "cache", None)
        return c if c is not None else o.past_key_values
    out: list[GenerationMeasurement] = []
    for b in sizes:
        batch = [ids[i % len(ids)] for i in range(b)]
        length = min(len(p) for p in batch)
        x = torch.tensor([p[:length] for p in batch], dtype=torch.long, device=device)
        notes: dict[str, str] = {}
        state: dict[str, Any] = {}
        with torch.no_grad():
            model(input_ids=x[:, : min(length, 4)], use_cache=True)  # warm-up, not measured

            def prefill():
                o = model(input_ids=x, use_cache=True)
                state["past"], state["next"] = cache_of(o), o.logits[:, -1:].argmax(-1)

            def decode():
                past, nxt = state["past"], state["next"]
                for _ in range(new):
                    o = model(input_ids=nxt, use_cache=True, **{cache_kw: past})
                    past, nxt = cache_of(o), o.logits[:, -1:].argmax(-1)
                if device.type == "cuda":
                    torch.cuda.synchronize(device)

            t_pre, e_pre, m_pre, inten, pue_q = _energy(prefill, tracker_kwargs=kw, power_w=power_w, notes=notes,
                                                        what="prefill")
            t_dec, e_dec, m_dec, inten2, pue_q2 = _energy(decode, tracker_kwargs=kw, power_w=power_w, notes=notes,
                                                          what="decode")
        inten = given_i or inten or inten2
        pue_q = pue_q or pue_q2 or assumptions.pue(pue)
        mean_ctx = length + (new + 1) // 2
        est = decode_flops_per_token(model, mean_ctx)
        if count:
            try:
                from .flops import count_hf
                c = count_hf(model.config.to_dict(), batch=1, decode=True, context=mean_ctx)
                est["counted"] = float(c.total_flops) / max(int(c.tokens or 1), 1)
            except Exception as e:  # noqa: BLE001
                notes["counted"] = f"count_hf failed: {type(e).__name__}: {e}"
        gen_tokens = b * new
        m = GenerationMeasurement(
            batch_size=b, prompt_tokens=length, new_tokens=new, prefill_s=t_pre, decode_s=t_dec,
            prefill_tokens_per_s=b * length / t_pre, decode_tokens_per_s=gen_tokens / t_dec,
            latency_per_token_s=t_dec / new, decode_flops_per_token=est,
            achieved_decode_flop_per_s=est["total"] * gen_tokens / t_dec, notes=notes,
            energy_method=m_dec if m_dec == m_pre else "mixed" if "missing" not in (m_pre, m_dec) else m_dec)
        if e_pre is not None:
            m.prefill_kwh, m.j_per_token_prefill = e_pre, e_pre * J_PER_KWH / (b * length)
        if e_dec is not None:
            m.decode_kwh, m.j_per_token_decode = e_dec, e_dec * J_PER_KWH / gen_tokens
            m.kwh_per_1000_tokens = m.j_per_token_decode * TOKENS_PER_UNIT / J_PER_KWH * float(pue_q)
            if inten is not None:
                m.co2e_per_1000_tokens_kg = m.kwh_per_1000_tokens * float(inten) / G_PER_KG
        out.append(m)
    return out
