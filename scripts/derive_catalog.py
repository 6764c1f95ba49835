#!/usr/bin/env python3
"""Derive wattwise's compact catalog tables from the sourced raw data in ../shared/data.

Rerun with `make catalog` (or `python scripts/derive_catalog.py [--shared PATH]`). Reads only the raw files
documented in shared/data/SOURCES.md and writes src/wattwise/catalog/data/*.csv. Each output table keeps
one licence (see LICENSES.md written next to them); every row keeps a source column. Standard library only.

Not used on purpose: shared/data/mlco2_impact (licence unclear: the repo licence is a web-template notice).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "wattwise" / "catalog" / "data"
LB_PER_MWH_TO_G_PER_KWH = 0.45359237  # 1 lb = 0.45359237 kg (exact); 1 kg/MWh = 1 g/kWh

# Extra names users type for accelerators, beyond the id and the model name (lookups also ignore case and
# punctuation, so "A100 80GB", "a100-80gb" and "A10080GB" are one key).
GPU_ALIASES = {
    "nvidia_v100_sxm2_16gb": ["V100-16GB", "V100-SXM2-16GB"],
    "nvidia_v100_sxm2_32gb": ["V100", "V100-32GB", "V100-SXM2", "V100-SXM2-32GB"],
    "nvidia_v100_pcie_16gb": ["V100-PCIe", "V100-PCIe-16GB"],
    "nvidia_v100_pcie_32gb": ["V100-PCIe-32GB"],
    "nvidia_a40": ["A40"],
    "nvidia_a100_sxm4_40gb": ["A100-40GB", "A100-SXM4-40GB", "A100-SXM-40GB"],
    "nvidia_a100_sxm4_80gb": ["A100", "A100-80GB", "A100-SXM", "A100-SXM4", "A100-SXM4-80GB", "A100-SXM-80GB"],
    "nvidia_a100_pcie_40gb": ["A100-PCIe-40GB"],
    "nvidia_a100_pcie_80gb": ["A100-PCIe", "A100-PCIe-80GB", "A100-80GB-PCIe"],
    "nvidia_h100_sxm5_80gb": ["H100", "H100-SXM", "H100-SXM5", "H100-80GB", "H100-SXM-80GB", "H100-80GB-HBM3"],
    "nvidia_h100_pcie_80gb": ["H100-PCIe", "H100-PCIe-80GB"],
    "nvidia_h100_nvl_94gb": ["H100-NVL", "H100-NVL-94GB"],
    "nvidia_h200_sxm_141gb": ["H200", "H200-SXM", "H200-141GB", "H200-141GB-HBM3e"],
    "nvidia_b200_hgx": ["B200", "B200-180GB"],
    "nvidia_l4": ["L4", "L4-24GB"],
    "nvidia_l40s": ["L40S", "L40S-48GB"],
    "nvidia_t4": ["T4", "Tesla-T4"],
    "nvidia_a10": ["A10", "A10-24GB"],
    "nvidia_a10g": ["A10G"],
    "nvidia_rtx_4090": ["RTX4090", "RTX-4090", "4090", "RTX4090-24GB"],
    "nvidia_rtx_3090": ["RTX3090", "RTX-3090", "3090"],
    "amd_mi250x": ["MI250X"],
    "amd_mi300x": ["MI300X"],
    "google_tpu_v4": ["TPUv4", "TPU-v4", "v4"],
    "google_tpu_v5e": ["TPUv5e", "TPU-v5e", "v5e"],
    "google_tpu_v5p": ["TPUv5p", "TPU-v5p", "v5p"],
    "google_tpu_v6e": ["TPUv6e", "TPU-v6e", "Trillium", "v6e"],
    "intel_gaudi2": ["Gaudi2", "Gaudi-2", "HL-225"],
    "intel_gaudi3": ["Gaudi3", "Gaudi-3", "HL-325L"],
    "google_tpu_v2": ["TPUv2", "TPU-v2", "v2"],
    "google_tpu_v3": ["TPUv3", "TPU-v3", "v3"],
    "nvidia_p100_sxm2_16gb": ["P100", "P100-SXM2", "P100-SXM2-16GB", "P100-16GB"],
    "nvidia_p100_pcie_16gb": ["P100-PCIe", "P100-PCIe-16GB"],
    "nvidia_k80": ["K80", "Tesla-K80"],
    "nvidia_h800_sxm5_80gb": ["H800", "H800-SXM", "H800-SXM5", "H800-80GB"],
    "nvidia_h20": ["H20", "H20-96GB"],
    "nvidia_gb200": ["GB200", "GB200-NVL72", "B200-GB200"],
}

# The device names NVML / nvidia-smi report (`nvidia-smi --query-gpu=name`), as further aliases. NVML calls the
# H100 SXM5 "NVIDIA H100 80GB HBM3" and the H200 SXM "NVIDIA H200" (its NVL variant, a different 600 W part that
# the catalog does not hold, reports "NVIDIA H200 NVL" and stays unknown).
NVML_NAMES = {
    "nvidia_v100_sxm2_16gb": ["Tesla V100-SXM2-16GB"], "nvidia_v100_sxm2_32gb": ["Tesla V100-SXM2-32GB"],
    "nvidia_v100_pcie_16gb": ["Tesla V100-PCIE-16GB"], "nvidia_v100_pcie_32gb": ["Tesla V100-PCIE-32GB"],
    "nvidia_a40": ["NVIDIA A40"],
    "nvidia_a100_sxm4_40gb": ["NVIDIA A100-SXM4-40GB"], "nvidia_a100_sxm4_80gb": ["NVIDIA A100-SXM4-80GB"],
    "nvidia_a100_pcie_40gb": ["NVIDIA A100-PCIE-40GB"], "nvidia_a100_pcie_80gb": ["NVIDIA A100 80GB PCIe"],
    "nvidia_h100_sxm5_80gb": ["NVIDIA H100 80GB HBM3"], "nvidia_h100_pcie_80gb": ["NVIDIA H100 PCIe"],
    "nvidia_h100_nvl_94gb": ["NVIDIA H100 NVL"], "nvidia_h200_sxm_141gb": ["NVIDIA H200", "NVIDIA H200 141GB HBM3e"],
    "nvidia_b200_hgx": ["NVIDIA B200"], "nvidia_l4": ["NVIDIA L4"], "nvidia_l40s": ["NVIDIA L40S"],
    "nvidia_t4": ["Tesla T4"], "nvidia_a10": ["NVIDIA A10"], "nvidia_a10g": ["NVIDIA A10G"],
    "nvidia_rtx_4090": ["NVIDIA GeForce RTX 4090"], "nvidia_rtx_3090": ["NVIDIA GeForce RTX 3090"],
    "nvidia_p100_sxm2_16gb": ["Tesla P100-SXM2-16GB"], "nvidia_p100_pcie_16gb": ["Tesla P100-PCIE-16GB"],
    "nvidia_k80": ["Tesla K80"],
}

# The curated table has one fp16_bf16 tensor column. Volta (V100) and Turing (T4) have FP16 tensor cores but no
# BF16 (curated notes: "Volta has no TF32/BF16/FP8", "Turing: ... no BF16/TF32"); Google publishes TPU peaks
# for bf16 only (cloud.google.com/tpu/docs/v4, v5e, v5p, v6e). Those cells stay blank rather than borrow a figure.
NO_BF16 = {"nvidia_v100_sxm2_16gb", "nvidia_v100_sxm2_32gb", "nvidia_v100_pcie_16gb", "nvidia_v100_pcie_32gb",
           "nvidia_t4",
           "nvidia_p100_sxm2_16gb", "nvidia_p100_pcie_16gb", "nvidia_k80"}
NO_FP16 = {"google_tpu_v4", "google_tpu_v5e", "google_tpu_v5p", "google_tpu_v6e", "google_tpu_v2", "google_tpu_v3"}

# Accelerators that published footprints use but accelerators_curated.csv lacks (issue 17: Strubell et al. 2019 on
# P100, Patterson et al. 2021 on TPU v2/v3, DeepSeek on H800, ...). Same columns as the curated file (TFLOPS, dense);
# each row names its primary source, cross-checked with Epoch AI "Data on Machine Learning Hardware" (CC BY 4.0,
# shared/data/epoch_ml_hardware/ml_hardware.csv; the Epoch row is named in `epoch_hardware_name`).
EXTRA_ACCELERATORS = [
    dict(accelerator_id="nvidia_v100_pcie_32gb", vendor="NVIDIA", model="Tesla V100 PCIe 32GB", form_factor="PCIe",
         release_date="2018-03-27", memory_gb="32", tdp_w="250", tdp_w_estimate="", fp64_tflops="7",
         fp32_tflops="14", tf32_tflops_dense="", fp16_bf16_tflops_dense="112", fp8_tflops_dense="",
         int8_tops_dense="", epoch_hardware_name="NVIDIA Tesla V100 PCIe 32 GB",
         source_url="https://images.nvidia.com/content/technologies/volta/pdf/volta-v100-datasheet-update-us-1165301-r5.pdf",
         notes="Volta, the 32 GB PCIe card (what NVML names Tesla V100-PCIE-32GB): datasheet 7 / 14 / 112 TFLOPS "
               "FP64 / FP32 / tensor FP16, 250 W, as the 16 GB PCIe card; no TF32/BF16/FP8; Epoch AI agrees"),
    dict(accelerator_id="nvidia_a40", vendor="NVIDIA", model="A40", form_factor="PCIe",
         release_date="2020-10-05", memory_gb="48", tdp_w="300", tdp_w_estimate="", fp64_tflops="",
         fp32_tflops="37.4", tf32_tflops_dense="74.8", fp16_bf16_tflops_dense="149.7", fp8_tflops_dense="",
         int8_tops_dense="299.3", epoch_hardware_name="NVIDIA A40 PCIe",
         source_url="https://images.nvidia.com/content/Solutions/data-center/a40/nvidia-a40-datasheet.pdf",
         notes="Ampere GA102, 48 GB GDDR6: datasheet 37.4 TFLOPS FP32, tensor TF32 74.8 / BF16-FP16 149.7 / INT8 "
               "299.3 dense (twice with sparsity), 300 W; Epoch AI agrees"),
    dict(accelerator_id="google_tpu_v2", vendor="Google", model="TPU v2", form_factor="TPU board (4 chips/board)",
         release_date="2017-05-01", memory_gb="16", tdp_w="280", tdp_w_estimate="", fp64_tflops="", fp32_tflops="",
         tf32_tflops_dense="", fp16_bf16_tflops_dense="46", fp8_tflops_dense="", int8_tops_dense="",
         epoch_hardware_name="Google TPU v2", source_url="https://dl.acm.org/doi/pdf/10.1145/3360307",
         notes="Per chip. Jouppi et al., A Domain-Specific Supercomputer for Training Deep Neural Networks (CACM "
               "63(7) 2020): 46 TFLOPS bf16, 16 GiB HBM, TDP 280 W; Patterson et al. 2021 (arXiv 2104.10350) "
               "Table 4: chip TDP 280 W, footnote 12: peak 46 TFLOPS; Epoch AI agrees (date: Epoch)"),
    dict(accelerator_id="google_tpu_v3", vendor="Google", model="TPU v3", form_factor="TPU board (4 chips/board)",
         release_date="2018-05-18", memory_gb="32", tdp_w="450", tdp_w_estimate="", fp64_tflops="", fp32_tflops="",
         tf32_tflops_dense="", fp16_bf16_tflops_dense="123", fp8_tflops_dense="", int8_tops_dense="",
         epoch_hardware_name="Google TPU v3", source_url="https://dl.acm.org/doi/pdf/10.1145/3360307",
         notes="Per chip. Jouppi et al. (CACM 63(7) 2020): 123 TFLOPS bf16, 32 GiB HBM, TDP 450 W; Patterson et al. "
               "2021 Table 4: chip TDP 450 W, footnote 12: peak 123 TFLOPS; Google Cloud TPU system architecture "
               "docs: 32 GiB HBM per chip; Epoch AI agrees (date: Epoch)"),
    dict(accelerator_id="nvidia_p100_sxm2_16gb", vendor="NVIDIA", model="Tesla P100 SXM2 16GB", form_factor="SXM2",
         release_date="2016-04-05", memory_gb="16", tdp_w="300", tdp_w_estimate="", fp64_tflops="5.3",
         fp32_tflops="10.6", tf32_tflops_dense="", fp16_bf16_tflops_dense="21.2", fp8_tflops_dense="",
         int8_tops_dense="", epoch_hardware_name="NVIDIA Tesla P100 SXM2",
         source_url="https://images.nvidia.com/content/tesla/pdf/nvidia-tesla-p100-datasheet.pdf",
         notes="Pascal, no tensor cores: fp16 is the half-precision (FP16x2) peak; no bf16. Datasheet: 5.3 / 10.6 / "
               "21.2 TFLOPS FP64 / FP32 / FP16 with NVLink, 300 W, 16 GB CoWoS HBM2"),
    dict(accelerator_id="nvidia_p100_pcie_16gb", vendor="NVIDIA", model="Tesla P100 PCIe 16GB", form_factor="PCIe",
         release_date="2016-06-20", memory_gb="16", tdp_w="250", tdp_w_estimate="", fp64_tflops="4.7",
         fp32_tflops="9.3", tf32_tflops_dense="", fp16_bf16_tflops_dense="18.7", fp8_tflops_dense="",
         int8_tops_dense="", epoch_hardware_name="NVIDIA P100",
         source_url="https://images.nvidia.com/content/tesla/pdf/nvidia-tesla-p100-PCIe-datasheet.pdf",
         notes="Pascal, no tensor cores: fp16 is the half-precision peak; no bf16. Datasheet: 4.7 / 9.3 / 18.7 "
               "TFLOPS FP64 / FP32 / FP16, 250 W, 16 GB HBM2 (a 12 GB version exists). The P100 of Strubell et al. "
               "2019 (variant unstated)"),
    dict(accelerator_id="nvidia_k80", vendor="NVIDIA", model="Tesla K80 (one GK210 GPU, half a board)",
         form_factor="PCIe dual-GPU board", release_date="2014-11-17", memory_gb="12", tdp_w="150", tdp_w_estimate="",
         fp64_tflops="1.455", fp32_tflops="4.365", tf32_tflops_dense="", fp16_bf16_tflops_dense="",
         fp8_tflops_dense="", int8_tops_dense="", epoch_hardware_name="NVIDIA Tesla K80",
         source_url="https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/tesla-product-literature/"
                    "TeslaK80-datasheet.pdf",
         notes="Per GPU, as NVML and the cloud count it (a board holds 2 GPUs): datasheet per board 2.91 TFLOPS "
               "FP64 / 8.73 TFLOPS FP32 with GPU Boost, 24 GB, 300 W, halved here; no fp16/bf16 peak (Kepler)"),
    dict(accelerator_id="nvidia_h800_sxm5_80gb", vendor="NVIDIA", model="H800 SXM5 80GB", form_factor="SXM5",
         release_date="2023-03-21", memory_gb="80", tdp_w="700", tdp_w_estimate="", fp64_tflops="",
         fp32_tflops="", tf32_tflops_dense="494.5", fp16_bf16_tflops_dense="989.5", fp8_tflops_dense="1979",
         int8_tops_dense="1979", epoch_hardware_name="NVIDIA H800 SXM5",
         source_url="https://www.techpowerup.com/gpu-specs/h800-sxm5.c3975",
         notes="Export variant of the H100 SXM5 (same tensor cores, NVLink cut to 400 GB/s): tensor peaks = H100 "
               "SXM5 datasheet dense values, 700 W, 80 GB (Epoch AI row, from TechPowerUp); FP64/FP32 left blank "
               "(sources disagree). DeepSeek-V3 trained on 2,048 H800"),
    dict(accelerator_id="nvidia_h20", vendor="NVIDIA", model="H20 (HGX H20)", form_factor="SXM5",
         release_date="2023-11-09", memory_gb="96", tdp_w="400", tdp_w_estimate="", fp64_tflops="",
         fp32_tflops="44", tf32_tflops_dense="74", fp16_bf16_tflops_dense="148", fp8_tflops_dense="296",
         int8_tops_dense="296", epoch_hardware_name="NVIDIA HGX H20",
         source_url="https://viperatech.com/shop/nvidia-hgx-h20/",
         notes="China-market Hopper; NVIDIA publishes no public datasheet: values are Epoch AI's (from a reseller "
               "spec sheet): 148 TFLOPS bf16 dense, 296 FP8, 44 FP32, 96 GB HBM3, 400 W"),
    dict(accelerator_id="nvidia_gb200", vendor="NVIDIA", model="B200 in GB200 (per GPU)",
         form_factor="GB200 superchip (2 GPUs + 1 Grace CPU)", release_date="2025-02-15", memory_gb="186",
         tdp_w="1200", tdp_w_estimate="", fp64_tflops="45", fp32_tflops="90", tf32_tflops_dense="1250",
         fp16_bf16_tflops_dense="2500", fp8_tflops_dense="5000", int8_tops_dense="5000",
         epoch_hardware_name="NVIDIA GB200", source_url="https://www.nvidia.com/en-us/data-center/gb200-nvl72/",
         notes="Per Blackwell GPU of a GB200 NVL72 rack: rack datasheet (sparse tensor figures) / 72 GPUs, halved "
               "for dense (BF16 360 PF -> 2.5 PF, FP8 720 PF -> 5 PF, TF32 180 PF -> 1.25 PF); FP32 6,480 TF / 72, "
               "FP64 3,240 TF / 72; 13.4 TB HBM3e / 72 = 186 GB; 1,200 W per GPU (Epoch AI)"),
]

# GPU names in the price tables -> accelerator ids (silybench normalises H100-80GB to SXM).
PRICE_GPU = {
    "H100-80GB": "nvidia_h100_sxm5_80gb", "H100 SXM": "nvidia_h100_sxm5_80gb",
    "H100-PCIe-80GB": "nvidia_h100_pcie_80gb", "H100-NVL-94GB": "nvidia_h100_nvl_94gb",
    "H100 NVL": "nvidia_h100_nvl_94gb", "H200-141GB": "nvidia_h200_sxm_141gb", "B200-180GB": "nvidia_b200_hgx",
    "A100-80GB": "nvidia_a100_sxm4_80gb", "A100-40GB": "nvidia_a100_sxm4_40gb",
    "A100-PCIe-80GB": "nvidia_a100_pcie_80gb", "L40S-48GB": "nvidia_l40s", "A10-24GB": "nvidia_a10",
    "A10G": "nvidia_a10g", "RTX4090-24GB": "nvidia_rtx_4090",
    # GH200 has no accelerator row; its price rows are skipped.
}
HYPERSCALER_GPU = {("A100 SXM", "80"): "nvidia_a100_sxm4_80gb", ("A100 SXM", "40"): "nvidia_a100_sxm4_40gb",
                   ("A100 PCIe", "80"): "nvidia_a100_pcie_80gb", ("H100 SXM", "80"): "nvidia_h100_sxm5_80gb",
                   ("H100 NVL", "94"): "nvidia_h100_nvl_94gb", ("A10G", "24"): "nvidia_a10g"}

US_STATE_CODES = {}  # filled from the eGRID file's regionCode

# AWS and Azure regions -> the grid zone they draw from. US regions map to their state (eGRID), Canadian ones to
# their province (Electricity Maps), the rest to their country (OWID). Locations: codecarbon's 2023-05 region table
# (MIT; AWS country codes fixed by hand, its defect noted in SOURCES.md) cross-checked with CCF's factor files.
AWS_REGIONS = {
    "us-east-1": ("US East (N. Virginia)", "US-VA"), "us-east-2": ("US East (Ohio)", "US-OH"),
    "us-west-1": ("US West (N. California)", "US-CA"), "us-west-2": ("US West (Oregon)", "US-OR"),
    "af-south-1": ("Africa (Cape Town)", "ZAF"), "ap-east-1": ("Asia Pacific (Hong Kong)", "HKG"),
    "ap-south-1": ("Asia Pacific (Mumbai)", "IND"), "ap-northeast-3": ("Asia Pacific (Osaka)", "JPN"),
    "ap-northeast-2": ("Asia Pacific (Seoul)", "KOR"), "ap-southeast-1": ("Asia Pacific (Singapore)", "SGP"),
    "ap-southeast-2": ("Asia Pacific (Sydney)", "AUS"), "ap-northeast-1": ("Asia Pacific (Tokyo)", "JPN"),
    "ca-central-1": ("Canada (Central, Montreal)", "CA-QC"), "cn-north-1": ("China (Beijing)", "CHN"),
    "cn-northwest-1": ("China (Ningxia)", "CHN"), "eu-central-1": ("Europe (Frankfurt)", "DEU"),
    "eu-west-1": ("Europe (Ireland)", "IRL"), "eu-west-2": ("Europe (London)", "GBR"),
    "eu-south-1": ("Europe (Milan)", "ITA"), "eu-west-3": ("Europe (Paris)", "FRA"),
    "eu-north-1": ("Europe (Stockholm)", "SWE"), "me-south-1": ("Middle East (Bahrain)", "BHR"),
    "sa-east-1": ("South America (Sao Paulo)", "BRA"),
}
AZURE_REGIONS = {
    "eastasia": ("East Asia (Hong Kong)", "HKG"), "southeastasia": ("Southeast Asia (Singapore)", "SGP"),
    "centralus": ("Central US (Iowa)", "US-IA"), "eastus": ("East US (Virginia)", "US-VA"),
    "eastus2": ("East US 2 (Virginia)", "US-VA"), "westus": ("West US (California)", "US-CA"),
    "northcentralus": ("North Central US (Illinois)", "US-IL"),
    "southcentralus": ("South Central US (Texas)", "US-TX"), "westcentralus": ("West Central US (Wyoming)", "US-WY"),
    "westus2": ("West US 2 (Washington)", "US-WA"), "westus3": ("West US 3 (Arizona)", "US-AZ"),
    "northeurope": ("North Europe (Ireland)", "IRL"), "westeurope": ("West Europe (Netherlands)", "NLD"),
    "japanwest": ("Japan West (Osaka)", "JPN"), "japaneast": ("Japan East (Tokyo)", "JPN"),
    "brazilsouth": ("Brazil South (Sao Paulo)", "BRA"), "australiaeast": ("Australia East (New South Wales)", "AUS"),
    "australiasoutheast": ("Australia Southeast (Victoria)", "AUS"), "southindia": ("South India", "IND"),
    "centralindia": ("Central India", "IND"), "westindia": ("West India", "IND"),
    "canadacentral": ("Canada Central (Toronto)", "CA-ON"), "canadaeast": ("Canada East (Quebec)", "CA-QC"),
    "uksouth": ("UK South", "GBR"), "ukwest": ("UK West", "GBR"), "koreacentral": ("Korea Central", "KOR"),
    "koreasouth": ("Korea South", "KOR"), "francecentral": ("France Central", "FRA"),
    "francesouth": ("France South", "FRA"), "germanywestcentral": ("Germany West Central (Frankfurt)", "DEU"),
    "swedencentral": ("Sweden Central (Gavle)", "SWE"), "southafricanorth": ("South Africa North", "ZAF"),
    "southafricawest": ("South Africa West", "ZAF"),
}
REGION_MAP_SOURCE = ("codecarbon 3.3.2 data/cloud/impact.csv as of 2023-05 (MIT) and Cloud Carbon Footprint "
                     "grid-emissions-factors-{aws,azure}.csv (Apache-2.0): region locations")

# Provider PUE presets: the newest fleet-wide figure in pue_published.csv per operator; low/high bracket it
# with the operator's other published figures and the best-site/newest-design values where given.
PUE_PRESETS = [
    # preset, row match (operator, period), low, high, note
    ("gcp", ("Google", "2025"), 1.09, 1.12, "Google fleet 2016-2025 range 1.09-1.12"),
    ("aws", ("AWS", "2025"), 1.04, 1.15, "AWS best site 1.04 (2024 page), global 1.14-1.15 (2023-2025)"),
    ("azure", ("Microsoft", "2023-2024", "global facility average"), 1.12, 1.18, "Microsoft newest design 1.12, global 1.18"),
    ("meta", ("Meta", "2023-2024"), 1.08, 1.10, "approximate (~1.08)"),
    ("equinix", ("Equinix", "2023"), 1.42, 1.46, "1.46 in 2022"),
    ("public-cloud", ("Industry (IDC estimate)", "2024", "public cloud average"), 1.09, 1.25,
     "IDC public cloud average; low = best hyperscaler fleet (Google 2025)"),
    ("on-premises", ("Industry (IDC estimate)", "2024", "on-premises enterprise average"), 1.25, 1.63,
     "IDC on-prem enterprise average; low = IDC public cloud average"),
    ("industry-average", ("Industry (Uptime Institute survey)", "2024"), 1.09, 1.63,
     "Uptime Institute 2024 survey average; range spans best hyperscaler fleet (1.09) to on-prem (IDC 1.63)"),
]


# The primary publication behind each preset's figure. pue_published.csv found several of these figures through
# secondary pages (a news summary, a search engine's dataset listing, a trade-press article); the shipped source
# names the report itself (title, publisher, year) and gives a URL only where it is the publisher's own page,
# as found in the search tool's pages corpus. The secondary page that carried the figure is kept in the notes.
PUE_PRIMARY = {
    "gcp": ("Google, 2026 Environmental Report (Google LLC, 2026)",
            "figure read in a news summary of the report (letsdatascience.com, 2026-06-30)"),
    "aws": ("Amazon, Amazon Sustainability: AWS Cloud (Amazon.com, Inc., 2025) "
            "<https://sustainability.aboutamazon.com/environment/the-cloud/asdi>", ""),
    "azure": ("Microsoft, Measuring datacenter energy and water use to improve Microsoft Cloud sustainability "
              "(Microsoft Corporation) <https://datacenters.microsoft.com/sustainability/efficiency/>",
              "1.18 and 1.12 as reported by DatacenterDynamics (2024)"),
    "meta": ("Meta, 2024 Sustainability Report (Meta Platforms, Inc., 2024)",
             "figure as reported by DatacenterDynamics (2024); Meta's data-center page "
             "<https://sustainability.fb.com/data-centers/> gives 1.09 for buildings completed in 2021"),
    "equinix": ("Equinix, 2023 Sustainability Report (Equinix, Inc., 2024) "
                "<https://sustainability.equinix.com/environment/operational-sustainability/>",
                "figure read in a Statista summary"),
    "public-cloud": ("IDC, Doc # US51911924 (IDC, January 2025), as cited on Amazon Sustainability: AWS Cloud "
                     "<https://sustainability.aboutamazon.com/environment/the-cloud/asdi>", ""),
    "on-premises": ("IDC, Doc # US51911924 (IDC, January 2025), as cited on Amazon Sustainability: AWS Cloud "
                    "<https://sustainability.aboutamazon.com/environment/the-cloud/asdi>", ""),
    "industry-average": ("Uptime Institute, Global Data Center Survey 2024 (Uptime Institute Intelligence, 2024)",
                         "figure read in a Statista summary of the survey"),
}


def write_csv(name: str, header: list[str], rows: list[list]) -> None:
    path = OUT / name
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"wrote {path}: {len(rows)} rows")


def tflops(x: str) -> str:
    return "" if not x.strip() else f"{float(x) * 1e12:.6g}"


def accelerators(shared: Path) -> set[str]:
    rows, ids = [], set()
    curated = list(csv.DictReader(open(shared / "accelerators/accelerators_curated.csv", encoding="utf-8")))
    epoch = {r["Hardware name"]: r for r in csv.DictReader(open(shared / "epoch_ml_hardware/ml_hardware.csv",
                                                                 encoding="utf-8"))}
    for r in EXTRA_ACCELERATORS:  # each extra row names an Epoch row that exists (a cross-check, not a copy)
        assert r["epoch_hardware_name"] in epoch, r["epoch_hardware_name"]
        assert r["accelerator_id"] not in {c["accelerator_id"] for c in curated}, r["accelerator_id"]
    for r in curated + EXTRA_ACCELERATORS:
        aid = r["accelerator_id"]
        ids.add(aid)
        half = tflops(r["fp16_bf16_tflops_dense"])
        rows.append([aid, r["vendor"], r["model"], r["form_factor"], r["release_date"], r["memory_gb"],
                     r["tdp_w"], r["tdp_w_estimate"], tflops(r["fp64_tflops"]), tflops(r["fp32_tflops"]),
                     tflops(r["tf32_tflops_dense"]), "" if aid in NO_BF16 else half, "" if aid in NO_FP16 else half,
                     tflops(r["fp8_tflops_dense"]), tflops(r["int8_tops_dense"]),
                     ";".join(GPU_ALIASES.get(aid, []) + NVML_NAMES.get(aid, [])), r["source_url"], r["notes"]])
    assert NO_BF16 | NO_FP16 | set(NVML_NAMES) <= ids
    write_csv("accelerators.csv",
              ["accelerator_id", "vendor", "model", "form_factor", "release_date", "memory_gb", "tdp_w",
               "tdp_w_estimate", "fp64_flop_per_s", "fp32_flop_per_s", "tf32_flop_per_s", "bf16_flop_per_s",
               "fp16_flop_per_s", "fp8_flop_per_s", "int8_op_per_s", "aliases", "source_url", "notes"], rows)
    return ids


# ISO 3166-1 alpha-2 codes of the OWID countries that eco2ai's table lacks or leaves blank (Namibia's "NA" reads
# as a missing value there); OWID's own code for Kosovo is OWID_KOS (alpha-2 XK is user-assigned, used by EU/EM).
ALPHA2_EXTRA = {"NAM": "NA", "BMU": "BM", "GIB": "GI", "OWID_KOS": "XK", "SHN": "SH", "TLS": "TL"}


def alpha2_codes(shared: Path) -> dict[str, str]:
    """ISO 3166-1 alpha-3 -> alpha-2, from eco2ai's carbon_index.csv (Apache-2.0) whole-country rows."""
    codes = {}
    for r in csv.DictReader(open(shared / "eco2ai/carbon_index.csv", encoding="utf-8")):
        if r["region"] == "Whole country" and r["alpha_2_code"].strip() and r["alpha_3_code"].strip():
            codes[r["alpha_3_code"].strip()] = r["alpha_2_code"].strip()
    codes.update(ALPHA2_EXTRA)
    return codes


def countries(shared: Path) -> set[str]:
    alpha2 = alpha2_codes(shared)
    latest: dict[str, dict] = {}
    for r in csv.DictReader(open(shared / "owid_carbon_intensity/owid_carbon_intensity_elec_2015plus.csv",
                                 encoding="utf-8")):
        if r["entity_type"] != "country" or not r["carbon_intensity_elec"]:
            continue
        if r["iso_code"] not in latest or int(r["year"]) > int(latest[r["iso_code"]]["year"]):
            latest[r["iso_code"]] = r
    missing = sorted(iso for iso in latest if iso not in alpha2)
    assert not missing, f"no ISO alpha-2 code for {missing}"
    rows = [[iso, alpha2[iso], r["country"], f"{float(r['carbon_intensity_elec']):.2f}", r["year"], "lifecycle",
             "production", "Our World in Data, carbon intensity of electricity (Ember; Energy Institute)"]
            for iso, r in sorted(latest.items())]
    write_csv("zones_countries.csv", ["zone_id", "alpha2", "name", "intensity_g_per_kwh", "year", "basis",
                                      "accounting", "source"], rows)
    return set(latest)


def us_states(shared: Path) -> set[str]:
    data = json.load(open(shared / "codecarbon/private_infra/2023/usa_emissions.json", encoding="utf-8"))
    src = data["_source"]
    rows = []
    for name, v in sorted(data.items()):
        if name.startswith("_") or name == "usa":
            continue
        code = "US-" + v["regionCode"].upper()
        rows.append([code, name.title(), f"{v['emissions'] * LB_PER_MWH_TO_G_PER_KWH:.2f}", src["year"], "direct",
                     "production", f"{src['name']} ({src['field']}, {v['emissions']} lb/MWh), via codecarbon 3.3.2"])
    write_csv("zones_us_states.csv", ["zone_id", "name", "intensity_g_per_kwh", "year", "basis", "accounting",
                                      "source"], rows)
    return {r[0] for r in rows}


def electricity_maps(shared: Path) -> set[str]:
    latest: dict[str, dict] = {}
    for r in csv.DictReader(open(shared / "electricity_maps_via_co2js/electricitymaps_yearly_2021_2025.csv",
                                 encoding="utf-8")):
        if r["carbon_intensity_gco2eq_per_kwh"] and (
                r["zone"] not in latest or int(r["year"]) > int(latest[r["zone"]]["year"])):
            latest[r["zone"]] = r
    rows = [[z, r["zone_name"], r["carbon_intensity_gco2eq_per_kwh"], r["year"], "lifecycle", "consumption",
             r["renewable_energy_pct"], r["carbon_free_energy_pct"],
             "Electricity Maps yearly average (via Green Web Foundation co2.js v0.19)"]
            for z, r in sorted(latest.items())]
    write_csv("zones_electricitymaps.csv", ["zone_id", "name", "intensity_g_per_kwh", "year", "basis", "accounting",
                                            "renewable_pct", "carbon_free_pct", "source"], rows)
    return set(latest)


def cloud_regions(shared: Path, grid_ids: set[str]) -> None:
    rows = []
    gfiles = sorted((shared / "google_region_carbon").glob("*.csv"))
    newest = gfiles[-1]
    year = newest.stem
    with open(newest, encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader)
        assert "intensity" in header[3].lower(), header
        for rec in reader:
            if not rec or not rec[0].strip():
                continue
            region, location, cfe, intensity = (x.strip() for x in rec[:4])
            rows.append(["gcp", region, location, "", intensity, year, "direct", cfe,
                         f"Google Cloud region carbon data {year} (grid carbon intensity, operational)"])
    for provider, table in (("aws", AWS_REGIONS), ("azure", AZURE_REGIONS)):
        for region, (name, grid) in table.items():
            assert grid in grid_ids, (region, grid)
            rows.append([provider, region, name, grid, "", "", "", "", REGION_MAP_SOURCE])
    write_csv("cloud_regions.csv", ["provider", "region", "name", "grid_zone", "intensity_g_per_kwh", "year",
                                    "basis", "google_cfe", "source"], rows)


def pue(shared: Path) -> None:
    table = list(csv.DictReader(open(shared / "pue/pue_published.csv", encoding="utf-8")))
    rows = []
    for preset, match, low, high, note in PUE_PRESETS:
        hits = [r for r in table if r["operator"] == match[0] and r["period"] == match[1]
                and (len(match) < 3 or r["scope"] == match[2])]
        assert len(hits) == 1, (preset, hits)
        r = hits[0]
        value = float(r["pue"])
        assert low <= value <= high, preset
        source, via = PUE_PRIMARY[preset]
        rows.append([preset, r["operator"], r["scope"], value, low, high, r["period"], source,
                     f"{note}; {via}" if via else note])
    write_csv("pue.csv", ["preset", "operator", "scope", "pue", "low", "high", "period", "source", "notes"], rows)


def prices(shared: Path, gpu_ids: set[str]) -> None:
    rows = []
    for r in csv.DictReader(open(shared / "prices/silybench_gpu_prices.csv", encoding="utf-8")):
        gid = PRICE_GPU.get(r["gpu_type"])
        if gid is None:
            continue
        rows.append([gid, r["provider"], r["provisioning"], r["usd_per_gpu_hour"], r["product"], "",
                     r["checked_at"], r["source"], "silybench-data (CC BY 4.0)"])
    for r in csv.DictReader(open(shared / "prices/hyperscaler_gpu_prices_composed.csv", encoding="utf-8")):
        gid = HYPERSCALER_GPU.get((r["gpu"], r["gpu_memory_gb"]))
        if gid is None or r["pricing"] != "on-demand":
            continue
        rows.append([gid, r["provider"].lower(), r["pricing"], r["usd_per_gpu_hour"], r["instance_type"],
                     r["region"], r["as_of"], r["original_source"], "provider pricing page (fact), composed"])
    assert {r[0] for r in rows} <= gpu_ids
    write_csv("prices.csv", ["accelerator_id", "provider", "provisioning", "usd_per_gpu_hour", "product", "region",
                             "as_of", "source", "licence"], rows)


def cpus(shared: Path) -> None:
    rows, skipped = [], []
    for r in csv.DictReader(open(shared / "codecarbon/hardware/cpu_power.csv", encoding="utf-8")):
        try:
            tdp = float(r["TDP"])
        except ValueError:  # a few upstream rows hold two values run together, e.g. '27.29.5': not guessed
            skipped.append(r["Name"])
            continue
        if r["Name"].strip():
            rows.append([r["Name"].strip(), f"{tdp:g}"])
    write_csv("cpus.csv", ["name", "tdp_w"], rows)
    print(f"  skipped {len(skipped)} CPU rows with unparseable TDP: {', '.join(skipped)}")


def ccf_cpu_use(shared: Path) -> None:
    """Cloud Carbon Footprint per-vCPU power at idle and full load, by provider and CPU microarchitecture
    (ccf-coefficients coefficients-{aws,azure,gcp}-use.csv, from SPECpower; Apache-2.0)."""
    rows = []
    for provider in ("aws", "azure", "gcp"):
        for r in csv.DictReader(open(shared / f"ccf_coefficients/coefficients-{provider}-use.csv", encoding="utf-8")):
            lo, hi = float(r["Min Watts"]), float(r["Max Watts"])
            assert 0 < lo < hi < 20, r
            rows.append([provider, r["Architecture"].strip(), f"{lo:.6g}", f"{hi:.6g}",
                         f"Cloud Carbon Footprint ccf-coefficients coefficients-{provider}-use.csv (SPECpower)"])
    write_csv("cpu_ccf_use.csv", ["provider", "architecture", "min_w_per_vcpu", "max_w_per_vcpu", "source"], rows)


def cpus_cores() -> None:
    """Green Algorithms' CPU TDP and core counts (TDP_cpu.csv v3.0, CC BY 4.0): not in shared/data, so its
    filtered copy (rows with a core count; columns name, tdp_w, cores, source) is kept in
    scripts/sources/green_algorithms_cpus_cores.csv and shipped unchanged."""
    src = ROOT / "scripts" / "sources" / "green_algorithms_cpus_cores.csv"
    rows = list(csv.reader(open(src, encoding="utf-8")))
    write_csv("cpus_cores.csv", rows[0], rows[1:])


LICENCES = """# Licences of the shipped catalog tables

Derived by `scripts/derive_catalog.py` from the raw data described in the repository's data sources
(`shared/data/SOURCES.md` at derivation time). Each table keeps the licence of its source.

| table | source | licence | attribution |
|---|---|---|---|
| accelerators.csv | vendor datasheets, cross-checked with Epoch AI "Data on Machine Learning Hardware"; extra rows (TPU v2/v3, P100, K80, H800, H20, GB200) in `derive_catalog.py` EXTRA_ACCELERATORS, each with its primary source (Jouppi et al. CACM 2020 and Patterson et al. 2021 for TPUs; NVIDIA datasheets) or, for H800/H20 which NVIDIA documents only outside its public datasheets, Epoch AI's values | facts from datasheets (composed); Epoch data CC BY 4.0 | Epoch AI, "Data on Machine Learning Hardware" |
| zones_countries.csv | Our World in Data, carbon intensity of electricity; ISO 3166-1 alpha-2 codes from eco2ai 0.3.12 carbon_index.csv | CC BY 4.0 (codes: facts, eco2ai Apache-2.0) | Our World in Data, based on Ember and Energy Institute |
| zones_us_states.csv | US EPA eGRID2023 (STC2ERTA), via codecarbon 3.3.2 | US government work (public domain); codecarbon file MIT | US EPA eGRID; codecarbon |
| zones_electricitymaps.csv | Electricity Maps yearly averages, via Green Web Foundation co2.js | **ODbL 1.0** (share-alike: a database derived from this table must stay ODbL) | Electricity Maps |
| cloud_regions.csv | Google Cloud region carbon data (GCP rows); codecarbon and Cloud Carbon Footprint region locations (AWS, Azure) | Apache-2.0 (Google, CCF); MIT (codecarbon) | Google Cloud; codecarbon; Cloud Carbon Footprint |
| pue.csv | published operator and survey PUE figures, one primary report cited per row | facts with citations (composed) | per row |
| prices.csv | silybench-data gpu_prices (CC BY 4.0); provider pricing pages (facts) | CC BY 4.0 / facts | silybench-data; per row |
| cpus.csv | codecarbon 3.3.2 data/hardware/cpu_power.csv | MIT | codecarbon |
| cpus_cores.csv | Green Algorithms TDP_cpu.csv (data/v3.0, GreenAlgorithms/green-algorithms-tool @ 30df2feead1c7f5db87a3d86ca1239470a0cd415): model, TDP, cores and the per-row source URL, rows without a core count dropped; kept in scripts/sources/green_algorithms_cpus_cores.csv and shipped unchanged | CC BY 4.0 | Lannelongue, Grealey & Inouye 2021, Green Algorithms (Adv. Sci. 8(12) 2100707), green-algorithms.org |
| cpu_ccf_use.csv | Cloud Carbon Footprint ccf-coefficients coefficients-{aws,azure,gcp}-use.csv (per-vCPU Min/Max Watts by microarchitecture, from SPECpower) @ b0032d928c787cf76cecd7d1d611c5b46f366e29 | Apache-2.0 | Cloud Carbon Footprint (Thoughtworks) |

Not shipped: ML CO2 Impact data (`mlco2_impact/`), whose licence is unclear.
"""


def main() -> None:
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data",
                    help="folder holding the raw data (default: ../shared/data)")
    ap.add_argument("--out", type=Path, default=OUT, help="where to write the tables (default: the package)")
    args = ap.parse_args()
    OUT = args.out
    OUT.mkdir(parents=True, exist_ok=True)
    gpu_ids = accelerators(args.shared)
    grid = countries(args.shared) | us_states(args.shared) | electricity_maps(args.shared)
    cloud_regions(args.shared, grid)
    pue(args.shared)
    prices(args.shared, gpu_ids)
    cpus(args.shared)
    ccf_cpu_use(args.shared)
    cpus_cores()
    (OUT / "LICENSES.md").write_text(LICENCES, encoding="utf-8")
    print("median on-demand H100 SXM $/GPU-h:", statistics.median(
        float(r[3]) for r in csv.reader(open(OUT / "prices.csv")) if r[0] == "nvidia_h100_sxm5_80gb"))


if __name__ == "__main__":
    main()
