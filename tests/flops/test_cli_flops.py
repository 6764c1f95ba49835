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


def test_model_factory_honours_batch_and_seq(tmp_path, monkeypatch):
    (tmp_path / "facts.py").write_text(
        "import torch\n"
        "def seq_model():\n"
        "    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))\n"
        "def with_inputs():\n"
        "    return torch.nn.Linear(8, 4), (torch.randn(3, 8),)\n"
        "def sized(batch=1, seq=4):\n"
        "    return torch.nn.Linear(seq, 4), (torch.randn(batch, seq),)\n"
        "def conv():\n"
        "    return torch.nn.Conv2d(3, 4, 3)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))

    def fwd(*args):
        res = _run(*args, "--json")
        assert res.exit_code == 0, res.output
        return json.loads(res.output)["forward_flops"]

    # a plain nn.Sequential: float inputs of --batch x in_features of its first Linear
    assert fwd("--model", "facts:seq_model", "--batch", "8") == wf.linear_flops(8, 8, 16) + wf.linear_flops(8, 16, 2)
    # returned example inputs: --batch repeats the first sample
    assert fwd("--model", "facts:with_inputs", "--batch", "5") == wf.linear_flops(5, 8, 4)
    assert fwd("--model", "facts:with_inputs") == wf.linear_flops(3, 8, 4)
    # a factory with batch / seq parameters gets them
    assert fwd("--model", "facts:sized", "--batch", "6", "--seq", "10") == wf.linear_flops(6, 10, 4)
    # --input-shape for a module whose input cannot be inferred
    assert fwd("--model", "facts:conv", "--input-shape", "3,10,10") == wf.conv_flops(1, 3, 4, (10, 10), 3)


def test_hf_folder_t5_vit_moe_and_decode_are_traced(tmp_path):
    from tests.flops.test_hf_architectures import TINY, decoder_truth, t5_truth, vit_parts
    for name in ("t5", "vit", "mixtral", "llama"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps(TINY[name]))

    def run(*args):
        res = _run(*args, "--json")
        assert res.exit_code == 0, res.output
        return json.loads(res.output)

    d = run("--hf", str(tmp_path / "t5"), "--seq", "8", "--batch", "2")
    assert d["traced"] and d["model_class"] == "T5ForConditionalGeneration"
    assert d["forward_flops"] == t5_truth(TINY["t5"], 2, 8)  # not the decoder-only formula
    d = run("--hf-config", str(tmp_path / "vit" / "config.json"))
    assert d["forward_flops"] == sum(vit_parts(TINY["vit"], 1)) and d["inputs"] == {"pixel_values": [1, 3, 32, 32]}
    d = run("--hf", str(tmp_path / "mixtral"), "--seq", "8", "--batch", "2")
    assert d["forward_flops"] == decoder_truth(TINY["mixtral"], 2, 8)
    d = run("--hf", str(tmp_path / "llama"), "--decode", "--context", "32", "--batch", "4")
    assert d["mode"] == "decode" and d["context"] == 32
    assert d["forward_flops"] == decoder_truth(TINY["llama"], 4, 1, decode_context=32)
    assert d["flops_per_token"] == d["forward_flops"] / 4


def test_hf_formula_fallback_is_labelled(tmp_path, monkeypatch):
    import wattwise.flops.hf_count as hc
    from tests.flops.test_hf_architectures import TINY

    def boom(cls, config):
        raise RuntimeError("no meta support")

    monkeypatch.setattr(hc, "_build", boom)
    (tmp_path / "config.json").write_text(json.dumps(TINY["llama"]))
    res = CliRunner().invoke(app, ["--hf-config", str(tmp_path), "--seq", "8", "--json"])
    assert res.exit_code == 0
    assert "FORMULA FALLBACK" in res.stderr
    d = json.loads(res.stdout)
    assert d["traced"] is False and d["method"].startswith("FORMULA FALLBACK") and "no meta support" in \
        d["fallback_reason"]
