"""Measuring a model variant: accuracy, parameters, serialised bytes, FLOPs per sample (counted), latency, energy
per 1,000 inferences, and a Footprint.

Latency protocol: every variant is warmed up, then timed in interleaved rounds (round r times variant 1, 2, ...
in an order rotated each round, so drift in clock speed or load hits all variants alike); each timing sample
runs enough calls to last >= `min_sample_s`; the median is reported with the interquartile range, the minimum,
and the number of threads torch used. Eager and `torch.compile`d latencies are separate fields, with the
compile time (first call) apart.

FLOPs come from `wattwise.count_flops` and energy from `wattwise.tracker.Tracker`; either missing leaves its
field None and says why in `notes` (never a crash).
"""

from __future__ import annotations

import io
import math
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .._checks import check_number
from ..errors import InvalidValueError
from ..footprint import Footprint, Quantity
from ._deps import require_torch

INFERENCES_PER_ENERGY_UNIT = 1000   # energy is reported per 1,000 inferences (samples)


@dataclass
class LatencyStats:
    """Seconds per call on the example inputs: median, quartiles, minimum; samples and calls per sample."""

    median_s: float
    p25_s: float
    p75_s: float
    min_s: float
    samples: int
    calls_per_sample: int

    @property
    def spread_s(self) -> float:
        """Interquartile range (p75 - p25)."""
        return self.p75_s - self.p25_s


@dataclass
class Measurement:
    """One measured variant. `latency_s` is the eager median per call (one batch of `batch_size`);
    `compiled_latency_s` the same under torch.compile. None = not measured (see `notes`)."""

    name: str
    accuracy: float | None
    params: int
    size_bytes: int
    batch_size: int
    flops_per_sample: float | None
    latency_s: float | None
    latency_p25_s: float | None = None
    latency_p75_s: float | None = None
    latency_min_s: float | None = None
    compiled_latency_s: float | None = None
    compile_time_s: float | None = None
    threads: int | None = None
    device: str = "cpu"
    energy_per_1000_kwh: float | None = None
    co2e_per_1000_kg: float | None = None
    cost_per_1000_usd: float | None = None
    notes: dict[str, str] = field(default_factory=dict)
    footprint: Footprint | None = None

    @property
    def latency_per_sample_s(self) -> float | None:
        return None if self.latency_s is None else self.latency_s / self.batch_size

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["footprint"] = self.footprint.to_dict() if self.footprint is not None else None
        d["latency_per_sample_s"] = self.latency_per_sample_s
        return d


def serialized_bytes(model) -> int:
    """Bytes of `torch.save(model.state_dict())` (the compiled wrapper's original module when compiled)."""
    torch = require_torch()
    model = getattr(model, "_orig_mod", model)
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.tell()


def _as_tuple(example_inputs) -> tuple:
    return tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)


def _batch_size(inputs: tuple) -> int:
    for x in inputs:
        shape = getattr(x, "shape", None)
        if shape is not None and len(shape):
            return int(shape[0])
    return 1


def _sync(device: str, torch) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _device_of(model) -> str:
    for p in list(model.parameters()) + list(model.buffers()):
        return p.device.type
    return "cpu"


def compare_latency(models: Mapping[str, Any], example_inputs, *, warmup: int = 3, repeats: int = 15,
                    min_sample_s: float = 2e-3, device: str | None = None) -> dict[str, LatencyStats]:
    """Interleaved latency of several models on the same inputs (see the module doc); name -> LatencyStats."""
    torch = require_torch()
    if repeats < 3:
        raise InvalidValueError(f"repeats must be >= 3 for a median and quartiles, got {repeats}")
    inputs = _as_tuple(example_inputs)
    names = list(models)
    if not names:
        return {}
    dev = device or _device_of(getattr(models[names[0]], "_orig_mod", models[names[0]]))
    calls: dict[str, int] = {}
    samples: dict[str, list[float]] = {n: [] for n in names}
    with torch.no_grad():
        for n in names:
            m = models[n]
            for _ in range(max(1, warmup)):
                m(*inputs)
            _sync(dev, torch)
            t0 = time.perf_counter()
            m(*inputs)
            _sync(dev, torch)
            one = max(time.perf_counter() - t0, 1e-7)
            calls[n] = max(1, math.ceil(min_sample_s / one))
        for r in range(repeats):
            k = r % len(names)
            for n in names[k:] + names[:k]:
                m, c = models[n], calls[n]
                _sync(dev, torch)
                t0 = time.perf_counter()
                for _ in range(c):
                    m(*inputs)
                _sync(dev, torch)
                samples[n].append((time.perf_counter() - t0) / c)
    out = {}
    for n, xs in samples.items():
        q = statistics.quantiles(xs, n=4, method="inclusive")
        out[n] = LatencyStats(median_s=statistics.median(xs), p25_s=q[0], p75_s=q[2], min_s=min(xs),
                              samples=len(xs), calls_per_sample=calls[n])
    return out


def time_latency(model, example_inputs, **kw) -> LatencyStats:
    """Latency of one model (warm-up, repeated samples, median and quartiles)."""
    return compare_latency({"model": model}, example_inputs, **kw)["model"]


def _count_flops(model, inputs: tuple, batch: int, notes: dict[str, str]) -> float | None:
    try:
        from .. import flops as _flops
        count = _flops.count_flops(model, *inputs)
        return count.forward / batch
    except ImportError as e:
        notes["flops_per_sample"] = f"FLOP counter unavailable ({e})"
    except Exception as e:  # e.g. a quantized tensor subclass the counter cannot trace
        notes["flops_per_sample"] = f"FLOP counting failed: {type(e).__name__}: {str(e).splitlines()[0][:160]}"
    return None


def _tracker_footprint(run: Callable[[], int], notes: dict[str, str], tracker_kwargs: dict) -> tuple[Any, int]:
    """Run `run` (returns the number of samples processed) under wattwise.tracker.Tracker; (footprint, n)."""
    try:
        from ..tracker import Tracker
    except ImportError as e:
        notes["energy_per_1000_kwh"] = f"energy not measured: wattwise.tracker unavailable ({e})"
        return None, 0
    try:
        tracker = Tracker(**tracker_kwargs)
        with tracker as t:
            n = run()
        fp = None
        for obj in (t, tracker):
            cand = getattr(obj, "footprint", None)
            cand = cand() if callable(cand) else cand
            if isinstance(cand, Footprint):
                fp = cand
                break
        if fp is None and isinstance(t, Footprint):
            fp = t
        if fp is None or fp.energy_kwh is None:
            notes["energy_per_1000_kwh"] = "energy not measured: the tracker returned no energy_kwh"
            return None, n
        return fp, n
    except Exception as e:
        notes["energy_per_1000_kwh"] = f"energy not measured: tracker failed: {type(e).__name__}: {e}"
        return None, 0


def _variant_footprint(m: Measurement, energy_fp: Footprint | None, n_energy: int) -> Footprint:
    """Footprint of 1,000 inferences of the variant: FLOPs counted, latency measured (batch latency scaled),
    energy, CO2e and dollars scaled from the tracked run of `n_energy` inferences."""
    n = INFERENCES_PER_ENERGY_UNIT
    missing: dict[str, str] = {}
    q: dict[str, Quantity] = {}
    if m.flops_per_sample is not None:
        q["flops"] = Quantity(m.flops_per_sample * n, method="counted", basis="wattwise.count_flops (traced)")
    else:
        missing["flops"] = m.notes.get("flops_per_sample", "not counted")
    if m.latency_s is not None:
        per = m.latency_s / m.batch_size
        lo = (m.latency_p25_s or m.latency_s) / m.batch_size
        hi = (m.latency_p75_s or m.latency_s) / m.batch_size
        q["duration_s"] = Quantity(per * n, min(lo, per) * n, max(hi, per) * n, method="measured",
                                   basis="median of interleaved timing (25th-75th percentile)")
    if energy_fp is not None and n_energy:
        run = energy_fp.scale(n / n_energy)
        q.update({k: v for k in ("energy_kwh", "co2e_kg", "cost_usd") if (v := getattr(run, k)) is not None})
        it, comps = run.it_energy_kwh, run.energy_by_component_kwh
    else:
        run = it = None
        comps = {}
        missing["energy_kwh"] = m.notes.get("energy_per_1000_kwh", "not measured")
    return Footprint(**q, it_energy_kwh=it, energy_by_component_kwh=comps,
                     pue=getattr(energy_fp, "pue", None), intensity_g_per_kwh=getattr(energy_fp, "intensity_g_per_kwh", None),
                     method="measured", hardware=getattr(energy_fp, "hardware", None) or m.device,
                     zone=getattr(energy_fp, "zone", None),
                     inputs={"inferences": n, "batch_size": m.batch_size, "variant": m.name, "threads": m.threads},
                     sources={"flops": "wattwise.count_flops (traced)", "duration_s": "median of interleaved timing",
                              **({"energy_kwh": "wattwise.tracker"} if run is not None else {}),
                              **({f"tracker {k}": v for k, v in energy_fp.sources.items()} if run is not None else {})},
                     missing=missing,
                     extra={"variant": m.name, "accuracy": m.accuracy, "size_bytes": m.size_bytes, "params": m.params})


def measure_variants(variants: Mapping[str, Any], evaluate: Callable[[Any], float] | None, example_inputs, *,
                     compile: bool = False, energy: bool = True, energy_min_s: float = 1.0,
                     warmup: int = 3, repeats: int = 15, min_sample_s: float = 2e-3,
                     flops_models: Mapping[str, Any] | None = None, group: str | None = None,
                     ledger: Any = None, tracker_kwargs: dict | None = None) -> list[Measurement]:
    """Measure several variants of one model on the same inputs, their latencies interleaved.

    `evaluate(model) -> accuracy` is the user's (None skips accuracy). `flops_models` maps a variant to a model
    to count FLOPs on instead (e.g. the fp32 architecture of a quantized variant, whose tensor subclasses the
    counter may not trace). `energy` runs each variant for >= `energy_min_s` under `wattwise.tracker.Tracker`,
    which records it in the ledger (`ledger`: path, Ledger, None = default, False = none) as run
    "<group>/<variant>" tagged "compress" and "model:<group>", so the variants of one model sit together.
    """
    torch = require_torch()
    check_number("energy_min_s", energy_min_s)
    inputs = _as_tuple(example_inputs)
    batch = _batch_size(inputs)
    results: dict[str, Measurement] = {}
    for name, model in variants.items():
        notes: dict[str, str] = {}
        acc = None
        if evaluate is not None:
            with torch.no_grad():
                acc = float(evaluate(model))
        counted = (flops_models or {}).get(name, model)
        flops = _count_flops(counted, inputs, batch, notes)
        if flops is not None and counted is not model:
            notes["flops_per_sample"] = "counted on the unquantized architecture"
        results[name] = Measurement(
            name=name, accuracy=acc, params=sum(p.numel() for p in getattr(model, "_orig_mod", model).parameters()),
            size_bytes=serialized_bytes(model), batch_size=batch, flops_per_sample=flops, latency_s=None,
            threads=torch.get_num_threads(), device=_device_of(model), notes=notes)
    lat = compare_latency(variants, inputs, warmup=warmup, repeats=repeats, min_sample_s=min_sample_s)
    for name, st in lat.items():
        r = results[name]
        r.latency_s, r.latency_p25_s, r.latency_p75_s, r.latency_min_s = st.median_s, st.p25_s, st.p75_s, st.min_s
    if compile:
        compiled = {}
        for name, model in variants.items():
            try:
                cm = torch.compile(model)
                t0 = time.perf_counter()
                with torch.no_grad():
                    cm(*inputs)
                _sync(results[name].device, torch)
                results[name].compile_time_s = time.perf_counter() - t0
                compiled[name] = cm
            except Exception as e:
                results[name].notes["compiled_latency_s"] = (f"torch.compile failed: {type(e).__name__}: "
                                                             f"{str(e).splitlines()[0][:160] if str(e) else ''}")
        for name, st in compare_latency(compiled, inputs, warmup=warmup, repeats=repeats,
                                        min_sample_s=min_sample_s).items():
            results[name].compiled_latency_s = st.median_s
    for name, model in variants.items():
        r = results[name]
        fp, n = None, 0
        if energy:
            per_call = r.latency_s or 1e-3
            calls = max(1, math.ceil(energy_min_s / per_call))

            def run(model=model, calls=calls):
                with torch.no_grad():
                    for _ in range(calls):
                        model(*inputs)
                _sync(r.device, torch)
                return calls * batch

            g = group or "model"
            kw = dict(name=f"{g}/{name}", tags=["compress", f"model:{g}", f"variant:{name}"], ledger=ledger,
                      handle_signals=False,
                      extra={"variant": name, "model": g, "accuracy": r.accuracy, "size_bytes": r.size_bytes,
                             "params": r.params, "flops_per_sample": r.flops_per_sample, "latency_s": r.latency_s,
                             "batch_size": batch, "inferences": calls * batch})
            kw.update(tracker_kwargs or {})
            fp, n = _tracker_footprint(run, r.notes, kw)
            if fp is not None and n:
                r.energy_per_1000_kwh = fp.energy_kwh * INFERENCES_PER_ENERGY_UNIT / n
                if fp.co2e_kg is not None:
                    r.co2e_per_1000_kg = fp.co2e_kg * INFERENCES_PER_ENERGY_UNIT / n
                if fp.cost_usd is not None:
                    r.cost_per_1000_usd = fp.cost_usd * INFERENCES_PER_ENERGY_UNIT / n
        else:
            r.notes["energy_per_1000_kwh"] = "energy not measured (energy=False)"
        r.footprint = _variant_footprint(r, fp, n)
    return [results[n] for n in variants]


def measure(model, evaluate: Callable[[Any], float] | None, example_inputs, *, name: str = "model",
            **kw) -> Measurement:
    """Measure one variant: accuracy (`evaluate(model)`), params, serialised bytes, FLOPs per sample, latency
    (eager; compiled too with `compile=True`), energy per 1,000 inferences, and a Footprint of 1,000 inferences.
    Keyword arguments as in `measure_variants` (flops_model= for a single counting model)."""
    fm = kw.pop("flops_model", None)
    if fm is not None:
        kw["flops_models"] = {name: fm}
    return measure_variants({name: model}, evaluate, example_inputs, **kw)[0]


def ratios(measurements: Sequence[Measurement], baseline: str) -> list[dict[str, Any]]:
    """Rows relative to `baseline`: speedup (baseline latency / latency), size ratio (baseline bytes / bytes),
    FLOPs ratio, accuracy delta; > 1 means the variant is cheaper."""
    base = next((m for m in measurements if m.name == baseline), None)
    if base is None:
        raise InvalidValueError(f"baseline {baseline!r} not among the variants {[m.name for m in measurements]}")

    def div(a, b):
        return None if a is None or b is None or b == 0 else a / b

    rows = []
    for m in measurements:
        rows.append({"name": m.name, "speedup": div(base.latency_s, m.latency_s),
                     "compiled_speedup": div(base.latency_s, m.compiled_latency_s),
                     "size_ratio": div(base.size_bytes, m.size_bytes),
                     "flops_ratio": div(base.flops_per_sample, m.flops_per_sample),
                     "params_ratio": div(base.params, m.params),
                     "accuracy_delta": None if m.accuracy is None or base.accuracy is None
                     else m.accuracy - base.accuracy})
    return rows
