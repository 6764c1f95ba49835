"""`wattwise flops` on user mistakes: exit 2, one line on stderr naming the bad value, no traceback, nothing
written (tests/bad_inputs/harness.py). Helper model modules and configs are written under tmp_path, the CLI's
working directory, from which `--model module:callable` imports."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.bad_inputs.harness import assert_clean_failure

pytest.importorskip("torch")

# torch is imported inside the factories: the cases that fail before building a model stay fast
MODELS = textwrap.dedent('''
    NOT_CALLABLE = 42

    def linear():
        from torch import nn
        return nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))

    def raises():
        raise RuntimeError("checkpoint missing")

    def needs_args(width, depth):
        from torch import nn
        return nn.Linear(width, depth)

    def returns_int():
        return 3

    def embed():
        from torch import nn
        return nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 2))

    def conv():
        from torch import nn
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten())

    def with_inputs():
        import torch
        return torch.nn.Linear(8, 4), (torch.randn(2, 8),)

    def ragged_inputs():
        import torch
        return torch.nn.Bilinear(3, 4, 2), (torch.randn(2, 3), torch.randn(5, 4))
''')


def _write(tmp_path):
    (tmp_path / "mymodels.py").write_text(MODELS)
    (tmp_path / "broken_import.py").write_text("raise ImportError('needs a GPU build')\n")
    (tmp_path / "boom_import.py").write_text("x = 1 / 0\n")
    (tmp_path / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    (tmp_path / "notjson.json").write_text("model_type: llama\n")
    (tmp_path / "list.json").write_text("[1, 2, 3]")
    (tmp_path / "notype.json").write_text(json.dumps({"hidden_size": 64}))
    (tmp_path / "typo.json").write_text(json.dumps({"model_type": "lama", "hidden_size": 64}))
    (tmp_path / "vit.json").write_text(json.dumps({
        "model_type": "vit", "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
        "intermediate_size": 64, "image_size": 16, "patch_size": 8, "num_channels": 3}))
    (tmp_path / "gpt2.json").write_text(json.dumps({
        "model_type": "gpt2", "n_embd": 32, "n_layer": 1, "n_head": 2, "vocab_size": 50, "n_positions": 16}))
    (tmp_path / "t5.json").write_text(json.dumps({
        "model_type": "t5", "d_model": 32, "d_kv": 16, "num_heads": 2, "d_ff": 64, "num_layers": 1,
        "vocab_size": 50, "is_encoder_decoder": True}))
    (tmp_path / "emptydir").mkdir()


# (argv, words the one stderr line must contain)
CASES = [
    # what to count
    ([], ["--arch", "--hf", "--model"]),
    (["--arch", "gpt2", "--model", "x:y"], ["only one", "--arch", "--model"]),
    (["--arch", "gpt3"], ["gpt3", "gpt2"]),
    # numbers
    (["--arch", "gpt2", "--batch", "0"], ["--batch", "0"]),
    (["--arch", "gpt2", "--batch", "many"], ["--batch", "integer", "many"]),
    (["--arch", "gpt2", "--seq", "0"], ["--seq", "0"]),
    (["--arch", "gpt2", "--seq", "4096"], ["4096", "1024"]),
    (["--arch", "gpt2", "--depth", "-1"], ["--depth"]),
    (["--hf-config", "gpt2.json", "--decode", "--context", "0"], ["--context", "0"]),
    # flags that do not go together
    (["--arch", "gpt2", "--context", "5"], ["--context", "--decode"]),
    (["--arch", "gpt2", "--decode"], ["--decode", "--hf"]),
    (["--hf-config", "gpt2.json", "--decode", "--train"], ["--decode", "--train"]),
    (["--arch", "gpt2", "--input-shape", "3"], ["--input-shape", "--model"]),
    # config files and model folders
    (["--hf-config", "binary.json"], ["binary.json", "UTF-8"]),
    (["--hf-config", "notjson.json"], ["notjson.json", "JSON"]),
    (["--hf-config", "list.json"], ["list.json", "object"]),
    (["--hf-config", "missing/config.json"], ["missing", "config.json"]),
    (["--hf-config", "notype.json"], ["model_type"]),
    (["--hf-config", "typo.json"], ["lama", "llama"]),
    (["--hf", "gpt2.json"], ["gpt2.json", "folder"]),
    (["--hf", "emptydir"], ["emptydir", "config.json"]),
    (["--hf-config", "vit.json", "--seq", "8"], ["seq", "vit", "image"]),
    (["--hf-config", "gpt2.json", "--seq", "64"], ["64", "16"]),
    (["--hf-config", "gpt2.json", "--decode", "--context", "16"], ["16", "positions"]),
    (["--hf-config", "t5.json", "--decode"], ["t5", "encoder-decoder"]),
    # --model module:callable
    (["--model", "nocolon"], ["nocolon", "module:callable"]),
    (["--model", "nosuchmod:make"], ["nosuchmod"]),
    (["--model", "broken_import:make"], ["broken_import", "needs a GPU build"]),
    (["--model", "boom_import:make"], ["boom_import", "ZeroDivisionError"]),
    (["--model", "mymodels:linaer"], ["linaer", "linear"]),
    (["--model", "mymodels:NOT_CALLABLE"], ["NOT_CALLABLE", "not a callable"]),
    (["--model", "mymodels:raises"], ["mymodels:raises", "checkpoint missing"]),
    (["--model", "mymodels:needs_args"], ["width", "depth", "arguments"]),
    (["--model", "mymodels:returns_int"], ["returns_int", "int", "nn.Module"]),
    (["--model", "mymodels:linear", "--seq", "4"], ["mymodels:linear", "token ids 1 x 4"]),  # wrong dtype
    (["--model", "mymodels:embed"], ["Embedding", "--seq"]),
    (["--model", "mymodels:conv"], ["Conv2d", "--input-shape"]),
    (["--model", "mymodels:linear", "--input-shape", "3,x"], ["--input-shape", "3,x"]),
    (["--model", "mymodels:linear", "--input-shape", "3"], ["mymodels:linear", "float inputs 1 x 3"]),
    (["--model", "mymodels:with_inputs", "--seq", "8"], ["--seq", "seq"]),
    (["--model", "mymodels:ragged_inputs", "--batch", "4"], ["--batch", "first"]),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("flops_bad")
    _write(d)
    return d


@pytest.mark.parametrize("argv,mentions", CASES, ids=[" ".join(a) or "(nothing)" for a, _ in CASES])
def test_bad_flops_invocation_fails_cleanly(argv, mentions, workdir):
    assert_clean_failure(["flops", *argv], workdir, mentions=mentions)


def test_there_are_at_least_25_cases():
    assert len(CASES) >= 25
