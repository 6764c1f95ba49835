"""Accelerators: peak dense throughput per data type, TDP and memory, from vendor datasheets
(data/accelerators.csv, derived from shared/data/accelerators/accelerators_curated.csv)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ..errors import InvalidValueError, UnknownNameError
from ._lookup import Index, read_table

DTYPES = ("fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8")
_PREFERENCE = ("bf16", "fp16", "fp8", "tf32", "fp32", "int8", "fp64")
_DTYPE_ALIASES = {"float64": "fp64", "float32": "fp32", "bfloat16": "bf16", "float16": "fp16", "half": "fp16",
                  "float8": "fp8", "e4m3": "fp8", "e5m2": "fp8"}


@dataclass(frozen=True)
class Accelerator:
    accelerator_id: str
    vendor: str
    model: str
    form_factor: str
    release_date: str
    memory_gb: float | None
    tdp_w: float | None
    tdp_is_estimate: bool
    peak_flop_per_s: dict[str, float] = field(hash=False)  # dense (no 2:4 sparsity); int8 in OP/s; only
    # the dtypes the vendor publishes a peak for (V100/T4: fp16 but no bf16; TPUs: bf16 but no fp16)
    aliases: tuple[str, ...]
    source: str
    notes: str

    @property
    def dtypes(self) -> tuple[str, ...]:
        """The dtypes with a published peak, most useful for ML first (bf16, fp16, fp8, tf32, fp32, int8, fp64)."""
        return tuple(k for k in _PREFERENCE if k in self.peak_flop_per_s)

    def peak(self, dtype: str = "bf16") -> float:
        """Peak dense FLOP/s for `dtype`; an InvalidValueError naming the dtypes it has when it has none."""
        key = _DTYPE_ALIASES.get(str(dtype).lower(), str(dtype).lower())
        if key not in DTYPES:
            raise InvalidValueError(f"unknown dtype {dtype!r}; accepted: {', '.join(DTYPES)}")
        value = self.peak_flop_per_s.get(key)
        if value is None:
            have = self.dtypes
            if not have:
                raise InvalidValueError(f"{self.model} has no published peak for any dtype; give the achieved "
                                        f"FLOP/s instead (--flop-per-s)")
            options = have[0] if len(have) == 1 else f"{', '.join(have[:-1])} or {have[-1]}"
            raise InvalidValueError(f"{self.model} has no published {key} peak; use --dtype {options}")
        return value


def _num(text: str) -> float | None:
    return float(text) if text.strip() else None


@lru_cache(maxsize=1)
def index() -> Index[Accelerator]:
    recs = []
    for r in read_table("accelerators.csv"):
        peaks = {}
        for dt, col in (("fp64", "fp64_flop_per_s"), ("fp32", "fp32_flop_per_s"), ("tf32", "tf32_flop_per_s"),
                        ("bf16", "bf16_flop_per_s"), ("fp16", "fp16_flop_per_s"), ("fp8", "fp8_flop_per_s"),
                        ("int8", "int8_op_per_s")):
            if r[col].strip():
                peaks[dt] = float(r[col])
        tdp = _num(r["tdp_w"])
        tdp_est = tdp is None and bool(r["tdp_w_estimate"].strip())
        recs.append(Accelerator(
            accelerator_id=r["accelerator_id"], vendor=r["vendor"], model=r["model"], form_factor=r["form_factor"],
            release_date=r["release_date"], memory_gb=_num(r["memory_gb"]),
            tdp_w=tdp if tdp is not None else _num(r["tdp_w_estimate"]), tdp_is_estimate=tdp_est,
            peak_flop_per_s=peaks, aliases=tuple(a for a in r["aliases"].split(";") if a),
            source=r["source_url"], notes=r["notes"]))
    return Index("GPU", recs, lambda a: (a.accelerator_id, *a.aliases, a.model))


_VENDOR_PREFIXES = ("nvidia ", "tesla ", "geforce ", "amd ", "google ", "intel ")


def gpu(name: str) -> Accelerator:
    """Look up an accelerator by id, model name, alias or the name NVML/nvidia-smi prints ('a100', 'H100-SXM5',
    'A100 80GB', 'NVIDIA H100 80GB HBM3', 'Tesla T4'); a vendor prefix ('NVIDIA ', 'Tesla ') is optional."""
    idx = index()
    try:
        return idx.get(name)
    except UnknownNameError:
        rest = name.strip() if isinstance(name, str) else ""
        stripped = False
        while rest.lower().startswith(_VENDOR_PREFIXES):
            rest = rest.split(" ", 1)[1].strip()
            stripped = True
        if stripped and rest:
            try:
                return idx.get(rest)
            except UnknownNameError:
                pass
        raise


def gpus(search: str | None = None) -> list[Accelerator]:
    return index().search(search, lambda a: (a.accelerator_id, a.vendor, a.model, *a.aliases))
