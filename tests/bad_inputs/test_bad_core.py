"""Bad inputs to estimate, where, run, runs, compare, demo and the top level: each exits 2 with one line that
names the bad value, and writes or creates nothing (see harness.py)."""

import json

import pytest

from tests.bad_inputs.harness import assert_clean_failure

JOB = ["--params", "7e9", "--tokens", "1.4e12", "--gpu", "A100"]


def _binary(tmp):
    (tmp / "bin.json").write_bytes(b"\xff\xfe\x00\x01garbage\x80")


def _latin1(tmp):
    (tmp / "latin1.csv").write_bytes("name,accuracy,flops\nmod\xe8le,0.9,1e9\n".encode("latin-1"))


def _ledger_dir(tmp):
    (tmp / "ledger.db").mkdir()


def _a_file(tmp):
    (tmp / "afile").write_text("not a folder\n")


def _variants(tmp):
    (tmp / "v.json").write_text(json.dumps([{"name": "a", "accuracy": 0.9, "flops_per_sample": 1e9},
                                            {"name": "b", "accuracy": 0.8, "flops_per_sample": 2e9}]))


def _bad_variants(tmp):
    (tmp / "obj.json").write_text(json.dumps({"variants": "not a list"}))
    (tmp / "nums.json").write_text(json.dumps([1, 2, 3]))
    (tmp / "v.txt").write_text("name,accuracy\n")
    (tmp / "noacc.json").write_text(json.dumps([{"name": "a", "flops_per_sample": 1e9}]))
    (tmp / "strcost.json").write_text(json.dumps([{"name": "a", "accuracy": 0.9, "flops_per_sample": "lots"}]))


def _corrupt_ledger(tmp):
    (tmp / "bad.db").write_bytes(b"this is not sqlite at all" * 10)


CASES = [
    # estimate: numbers
    (["estimate", "--params", "abc", "--tokens", "1e12"], "abc", None),
    (["estimate", "--params", "-7e9", "--tokens", "1e12"], ["--params", "-7"], None),
    (["estimate", "--params", "0", "--tokens", "1e12"], "params", None),
    (["estimate", "--params", "nan", "--tokens", "1e12"], "nan", None),
    (["estimate", "--params", "inf", "--tokens", "1e12"], "inf", None),
    (["estimate", "--params", "7e9", "--tokens", "1e12", "--gpus", "0", "--gpu", "A100"], "gpus", None),
    (["estimate", "--params", "7e9", "--tokens", "1e12", "--gpus", "-3", "--gpu", "A100"], "gpus", None),
    (["estimate", "--params", "7e9", "--tokens", "1e12", "--gpus", "two"], ["--gpus", "two"], None),
    (["estimate", *JOB, "--mfu", "1.5"], "mfu", None),
    (["estimate", *JOB, "--mfu", "0"], "mfu", None),
    (["estimate", *JOB, "--mfu", "-0.4"], "mfu", None),
    (["estimate", *JOB, "--power-w", "1e6"], "power", None),
    (["estimate", *JOB, "--power-w", "-300"], "power", None),
    (["estimate", *JOB, "--pue", "0.5"], "pue", None),
    (["estimate", *JOB, "--pue", "nonsense-preset"], "nonsense-preset", None),
    (["estimate", *JOB, "--intensity", "-5"], "intensity", None),
    (["estimate", *JOB, "--duration-s", "-1"], "duration", None),
    (["estimate", *JOB, "--dtype", "fp3"], "fp3", None),
    (["estimate", "--params", "7e9", "--tokens", "1e12", "--gpu", "B9000"], "B9000", None),
    (["estimate", *JOB, "--region", "Atlantis"], "Atlantis", None),
    (["estimate", *JOB, "--region", ""], "zone", None),
    (["estimate", *JOB, "--price-per-gpu-hour", "-2"], "price", None),
    (["estimate", *JOB, "--price-per-gpu-hour", "2", "--electricity-price", "0.1"], "price", None),
    (["estimate", *JOB, "--hardware-usd", "30000"], "hardware", None),
    (["estimate", *JOB, "--electricity-price", "0.1", "--hardware-usd", "3e4", "--hardware-years", "0"], "years",
     None),
    (["estimate", *JOB, "--inference-days", "30"], "inference", None),
    (["estimate", *JOB, "--inference-tokens-per-day", "-1", "--inference-days", "3"], "inference", None),
    (["estimate", *JOB, "--arch", "gpt-17"], "gpt-17", None),
    (["estimate", "--seq", "2048", "--tokens", "1e12"], "seq", None),
    (["estimate", "--seq", "-5", "--arch", "llama-7b", "--tokens", "1e12"], "seq", None),
    (["estimate", *JOB, "--region", "us-east-1", "--provider", "gcp"], "provider", None),
    (["estimate", *JOB, "--provider", "oracle-moon"], "oracle-moon", None),
    (["estimate", "--tokens", "1e12"], "params", None),
    (["estimate"], None, None),
    (["estimate", *JOB, "--bogus"], "--bogus", None),
    (["estimate", *JOB, "--gpus"], "--gpus", None),
    # where
    (["where", *JOB, "--top", "-1"], "top", None),
    (["where", *JOB, "--zones", ""], "zones", None),
    (["where", *JOB, "--zones", ",,"], "zones", None),
    (["where", *JOB, "--zones", "FR,Atlantis"], "Atlantis", None),
    (["where", *JOB, "--kind", "planets"], "planets", None),
    (["where", "--tokens", "1e12"], "CO2e", None),
    # run
    (["run"], "command", None),
    (["run", "--"], "command", None),
    (["run", "--interval", "0", "--", "true"], "interval", None),
    (["run", "--interval", "-1", "--", "true"], "interval", None),
    (["run", "--region", "Atlantis", "--", "true"], "Atlantis", None),
    (["run", "--pue", "0.2", "--", "true"], "pue", None),
    (["run", "--", "definitely-not-a-command-xyz"], "definitely-not-a-command-xyz", None),
    (["run", "--ledger", "ledger.db", "--", "true"], "ledger.db", _ledger_dir),
    (["run", "--ledger", "bad.db", "--", "true"], "bad.db", _corrupt_ledger),
    (["run", "--bogus", "--", "true"], "--bogus", None),
    (["run", "--gpu", "B9000", "--", "true"], "B9000", None),
    # runs
    (["runs", "list", "--ledger", "typo/ledger.db"], "typo", None),
    (["runs", "list", "--ledger", "ledger.db"], "ledger.db", _ledger_dir),
    (["runs", "list", "--ledger", "bad.db"], "bad.db", _corrupt_ledger),
    (["runs", "list", "--limit", "-2"], "limit", None),
    (["runs", "show", "nope", "--ledger", "missing.db"], "missing.db", None),
    (["runs", "export", "--format", "xml"], "xml", None),
    (["runs", "export", "-o", "afile/out.csv", "--ledger", "missing.db"], "afile", _a_file),
    (["runs", "export", "-o", "out.csv", "--ledger", "missing.db"], "missing.db", None),
    (["runs", "list"], "ledger", None),                          # no default ledger yet: say so, create nothing
    (["runs", "list"], "WATTWISE_HOME", _a_file, {"WATTWISE_HOME": "afile"}),
    # compare
    (["compare"], "variants", None),
    (["compare", "missing.json"], "missing.json", None),
    (["compare", "bin.json"], "bin.json", _binary),
    (["compare", "latin1.csv"], "latin1.csv", _latin1),
    (["compare", "obj.json"], "obj.json", _bad_variants),
    (["compare", "nums.json"], "nums.json", _bad_variants),
    (["compare", "v.txt"], "v.txt", _bad_variants),
    (["compare", "noacc.json"], "accuracy", _bad_variants),
    (["compare", "strcost.json"], "lots", _bad_variants),
    (["compare", "v.json", "--cost", "carbonara"], "carbonara", _variants),
    (["compare", "v.json", "--accuracy", "f1"], "f1", _variants),
    (["compare", "v.json", "--plot", "afile/p.png"], "afile", lambda t: (_variants(t), _a_file(t))),
    (["compare", "v.json", "--plot", "nodir/p.png"], "nodir", _variants),
    (["compare", "v.json", "--plot", "p.bmpx"], "bmpx", _variants),
    (["compare", "--ledger-path", "missing.db"], "missing.db", None),
    (["compare", "v.json", "-o"], "-o", _variants),
    # demo
    (["demo", "--out", "afile"], "afile", _a_file),
    (["demo", "--out", "d", "--region", "Atlantis"], "Atlantis", None),
    # top level
    (["bogus-command"], "bogus-command", None),
    (["--bogus"], "--bogus", None),
]


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c[0])[:60] or "(none)" for c in CASES])
def test_bad_input_exits_2_in_one_line_and_writes_nothing(tmp_path, case):
    argv, mentions, setup = case[:3]
    env = case[3] if len(case) > 3 else None
    if setup is not None:
        setup(tmp_path)
    if env:
        env = {k: str(tmp_path / v) for k, v in env.items()}
    assert_clean_failure(argv, tmp_path, mentions, env=env)
