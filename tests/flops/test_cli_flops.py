"""`wattwise flops` through typer's CliRunner on the sub-app itself."""

import json

import pytest

pytest.importorskip("torch")
from typer.testing import CliRunner  # noqa: E402

from wattwise import flops as wf  # noqa: E402
from wattwise.cli.flops import app  # noqa: E402
from wattwise.errors import (ContradictoryInputError, InvalidValueError, MissingInputError,  # noqa: E402
                             UnknownNameError)

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, list(args), catch_exceptions=True)


def test_arch_json_matches_the_formula_and_megatron():
    res = _run("--arch", "gpt2", "--seq", "128", "--batch", "2", "--train", "--json", "--depth", "1")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    truth = 3 * wf.get_shape("gpt2").forward_flops(2, 128)["total"]
    assert d["total_flops"] == truth and d["backward_flops"] == 2 * d["forward_flops"]
    assert d["flops_per_token"] == truth / 256
    rows = {r["method"]: r for r in d["cross_check"]}
    assert rows["Megatron 72BslH^2(1+s/6H+V/12lH)"]["gap_pct"] == 0.0
    assert all("children" not in c for c in d["modules"]["children"])  # depth 1


def test_arch_text_shows_split_tree_and_cross_check():
    res = _run("--arch", "llama-7b", "--seq", "64", "--depth", "2")
    assert res.exit_code == 0, res.output
    out = res.output
    for needle in ("total", "forward", "backward", "blocks", "x32", "Formula cross-check", "6N + 12LHQT",
                   "PaLM", "attention"):
        assert needle in out, needle


def test_model_factory_is_counted(tmp_path, monkeypatch):
    (tmp_path / "my_factory.py").write_text(
        "import torch\n"
        "def make():\n"
        "    return torch.nn.Linear(8, 4), (torch.randn(3, 8),)\n"
        "def bare():\n"
        "    return torch.nn.Sequential(torch.nn.Embedding(10, 8), torch.nn.Linear(8, 10))\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    res = _run("--model", "my_factory:make", "--train", "--json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["forward_flops"] == wf.linear_flops(3, 8, 4) and d["backward_flops"] == wf.linear_flops(3, 8, 4)
    res = _run("--model", "my_factory:bare", "--batch", "2", "--seq", "5", "--json")
    assert json.loads(res.output)["forward_flops"] == wf.linear_flops(10, 8, 10)
    res = _run("--model", "my_factory:bare")
    assert isinstance(res.exception, MissingInputError)
    res = _run("--model", "my_factory:mak")
    assert isinstance(res.exception, UnknownNameError) and "make" in str(res.exception)


def test_hf_config_counts_or_shows_the_formula_estimate(tmp_path):
    from tests.flops.test_shapes import LLAMA_CFG
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_CFG))
    res = _run("--hf-config", str(tmp_path), "--seq", "32", "--json")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    total = d["estimate"]["total_flops"] if "estimate" in d else d["total_flops"]
    from wattwise.flops.hf import estimate_from_config
    assert total == estimate_from_config(tmp_path, seq=32)["total_flops"]


@pytest.mark.parametrize("args,exc,match", [
    ((), MissingInputError, "--arch"),
    (("--arch", "gpt2", "--model", "x:y"), ContradictoryInputError, "only one"),
    (("--arch", "gpt3"), UnknownNameError, "gpt2"),
    (("--arch", "gpt2", "--batch", "0"), InvalidValueError, "--batch"),
    (("--arch", "gpt2", "--seq", "4096"), InvalidValueError, "exceeds the context"),
    (("--model", "nocolon"), InvalidValueError, "module:callable"),
    (("--hf-config", "/nonexistent/dir"), InvalidValueError, "config.json"),
])
def test_bad_input_raises_wattwise_errors_naming_the_value(args, exc, match):
    res = _run(*args)
    assert res.exit_code != 0
    assert isinstance(res.exception, exc), res.exception
    assert match in str(res.exception)
