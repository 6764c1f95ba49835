"""The chips published footprints name (issue 17), each from its primary source (see derive_catalog.py)."""

import pytest

from wattwise import catalog


@pytest.mark.parametrize("name, dtype, peak, tdp", [
    ("TPUv2", "bf16", 46e12, 280),      # Jouppi et al. CACM 2020; Patterson et al. 2021 Table 4 + footnote 12
    ("TPU v3", "bf16", 123e12, 450),    # same
    ("TPUv4", "bf16", 275e12, 340),     # cloud.google.com/tpu/docs/v4 (TDP: Epoch estimate)
    ("TPUv5e", "bf16", 197e12, None),   # cloud.google.com/tpu/docs/v5e
    ("TPUv5p", "bf16", 459e12, 540),    # cloud.google.com/tpu/docs/v5p (TDP: Epoch estimate)
    ("P100", "fp16", 21.2e12, 300),     # NVIDIA Tesla P100 datasheet (SXM2)
    ("Tesla P100-PCIE-16GB", "fp32", 9.3e12, 250),  # NVIDIA Tesla P100 PCIe datasheet
    ("Tesla K80", "fp32", 4.365e12, 150),   # NVIDIA K80 datasheet, per GPU (half a board)
    ("H800", "bf16", 989.5e12, 700),    # H100 SXM5 tensor cores (Epoch AI row)
    ("H20", "bf16", 148e12, 400),       # Epoch AI row
    ("L40S", "bf16", 362.05e12, 350),   # NVIDIA L40S datasheet (733 sparse / 2)
    ("B200", "bf16", 2.25e15, 1000),    # NVIDIA HGX B200
    ("GB200", "bf16", 2.5e15, 1200),    # GB200 NVL72 datasheet / 72 / 2 (dense)
])
def test_chip_peaks_and_tdp(name, dtype, peak, tdp):
    acc = catalog.gpu(name)
    assert acc.peak(dtype) == pytest.approx(peak)
    assert acc.tdp_w == tdp
    assert acc.source.startswith("https://")


def test_old_chips_claim_no_bf16_and_tpus_no_fp16():
    assert "bf16" not in catalog.gpu("P100").dtypes and "fp16" not in catalog.gpu("K80").dtypes
    assert "fp16" not in catalog.gpu("TPUv3").dtypes
