"""Default assumptions of the estimator, each a low/central/high range with its source.

Override any of them with an explicit input (`mfu=`, `power_w=`, `pue=`); the estimate's `sources` then say so.
"""

from __future__ import annotations

from .constants import FLOPS_SOURCE, INFER_FLOPS_PER_PARAM_TOKEN, TRAIN_FLOPS_PER_PARAM_TOKEN  # noqa: F401 (re-exported)
from .footprint import Range

# Model FLOPs utilisation of published large training runs, Chowdhery et al. 2022 (PaLM), Table 3:
# GPT-3 21.3%, Gopher 32.5%, Megatron-Turing NLG 30.2%, PaLM 46.2%.
PUBLISHED_MFU = {"GPT-3": 0.213, "Gopher": 0.325, "MT-NLG": 0.302, "PaLM": 0.462}
_MFUS = sorted(PUBLISHED_MFU.values())
MFU = Range(_MFUS[0], (_MFUS[1] + _MFUS[2]) / 2, _MFUS[-1])  # min, median of the four, max
MFU_SOURCE = ("MFU of published runs, Chowdhery et al. 2022 (PaLM) Table 3: GPT-3 21.3%, Gopher 32.5%, "
              "MT-NLG 30.2%, PaLM 46.2% (low = min, central = median, high = max)")

# Board power while training, as a fraction of TDP. Measured by wattwise (scripts/gpu_power_fraction.py and
# scripts/gpu_check_meters.py, NVML energy counter, one NVIDIA H200 SXM, TDP 700 W, 2026-11-27; raw numbers in
# benchmarks/results/): GPT-2 small bf16 training 0.72 (MFU 20%), GPT-2 large bf16 training 0.92 (MFU 34%),
# 8192^3 bf16 matmuls 0.985 (MFU 68%); idle 0.11. High = TDP, also the convention of Lacoste et al. 2019
# (ML CO2 Impact) and Luccioni et al. 2023 (BLOOM: 433,196 kWh over 1,082,990 A100-hours = 400 W = TDP).
# One GPU model only: measure yours with `wattwise run` to replace it.
POWER_FRACTION_OF_TDP = Range(0.7, 0.9, 1.0)
POWER_SOURCE = ("board power = TDP x fraction 0.7-0.9-1.0 (measured on an H200 with NVML: bf16 training 0.72 at "
                "20% MFU, 0.92 at 34% MFU, matmul 0.985; high = TDP, the Lacoste et al. 2019 / Luccioni et al. "
                "2023 convention)")


DEFAULT_DTYPE = "bf16"
