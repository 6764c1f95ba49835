"""Bad or ambiguous input to `wattwise catalog ...` and to the region options of `estimate` and `where`: exit 2,
one line on stderr naming the bad value (and the candidates or the accepted spelling), no traceback, nothing
written (tests/bad_inputs/harness.py)."""

import pytest

from .harness import assert_clean_failure

JOB = ["--gpu-hours", "1", "--power-w", "300"]
WHERE = ["--params", "7e9", "--tokens", "1e12", "--gpu", "H100"]

CASES = [
    # catalog subcommands
    (["catalog", "zones", "--kind", "planet"], ["planet", "country", "us-state", "cloud-region"]),
    (["catalog", "zones", "--kind", ""], ["zone kind", "accepted"]),
    (["catalog", "prices", "--gpu", "A1000"], ["A1000", "did you mean", "A100"]),
    (["catalog", "prices", "--gpu", "NVIDIA H200 NVL"], ["NVIDIA H200 NVL", "unknown GPU"]),
    (["catalog", "cpus", "--limit", "-1"], ["--limit", "-1"]),
    (["catalog", "cpus", "--limit", "many"], ["--limit", "integer"]),
    (["catalog", "gpus", "--bogus"], ["--bogus"]),
    (["catalog", "teapots"], ["teapots"]),
    # regions: two-letter US state codes are no longer states
    (["estimate", *JOB, "--region", "WV"], ["'WV'", "US-WV", "ISO 3166"]),
    (["estimate", *JOB, "--region", "TX"], ["'TX'", "US-TX"]),
    (["estimate", *JOB, "--region", "ny"], ["'ny'", "US-NY"]),
    (["where", *WHERE, "--zones", "DE,WV"], ["'WV'", "US-WV"]),
    # ambiguous names list their candidates
    (["estimate", *JOB, "--region", "Georgia"], ["ambiguous", "'Georgia'", "'GE'", "'US-GA'"]),
    (["where", *WHERE, "--zones", "georgia"], ["ambiguous", "'GE'", "'US-GA'"]),
    (["estimate", *JOB, "--region", "USWEST1"], ["ambiguous", "'aws:us-west-1'", "'gcp:us-west1'"]),
    (["where", *WHERE, "--zones", "FR,us_west_1"], ["ambiguous", "'aws:us-west-1'", "'gcp:us-west1'"]),
    # unknown names, qualified names
    (["estimate", *JOB, "--region", "Atlantis"], ["Atlantis", "unknown grid zone"]),
    (["estimate", *JOB, "--region", "aws:nowhere-1"], ["nowhere-1", "aws region"]),
    (["estimate", *JOB, "--region", "em:ZZ"], ["'ZZ'", "em zone"]),
    (["where", *WHERE, "--zones", "Frnace"], ["Frnace", "France"]),
    (["estimate", *JOB, "--region", "US-XX"], ["US-XX"]),
    # GPUs: a dtype without a published peak names the dtypes the GPU has
    (["estimate", "--params", "7e9", "--tokens", "1e12", "--gpu", "V100", "--dtype", "bf16"],
     ["bf16", "--dtype fp16, fp32"]),
    (["estimate", "--params", "7e9", "--tokens", "1e12", "--gpu", "Tesla T4", "--dtype", "bf16"],
     ["T4", "bf16", "fp16"]),
    (["estimate", "--params", "7e9", "--tokens", "1e12", "--gpu", "NVIDIA A10G", "--dtype", "bf16"],
     ["A10G", "--dtype fp32"]),
    (["estimate", "--params", "7e9", "--tokens", "1e12", "--gpu", "A100", "--dtype", "fp8"], ["fp8", "bf16"]),
]


@pytest.mark.parametrize("argv, mentions", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_catalog_and_region_input_fails_cleanly(argv, mentions, tmp_path):
    assert_clean_failure(argv, tmp_path, mentions=mentions)
