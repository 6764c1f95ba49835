"""Quantized variants: bytes cut ~2x (bf16) and ~4x (int8), small output error, clear unsupported errors."""

import pytest

torch = pytest.importorskip("torch")

from wattwise.compress import quantize, serialized_bytes, supported_methods  # noqa: E402
from wattwise.compress.quantize import UnsupportedVariantError  # noqa: E402
from wattwise.compress.toys import small_cnn, small_mlp  # noqa: E402
from wattwise.errors import InvalidValueError  # noqa: E402


@pytest.fixture(scope="module")
def mlp():
    torch.manual_seed(0)
    return small_mlp(d_in=256, hidden=512, depth=2), torch.randn(64, 256)


def _rel_err(a, b):
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("method,lo,hi,tol", [
    ("bf16", 1.9, 2.05, 0.02),
    ("int8_dynamic", 3.5, 4.1, 0.05),
    ("int8_dynamic_legacy", 3.5, 4.1, 0.05),
    ("int8_weight_only", 3.5, 4.1, 0.05),
])
def test_bytes_ratio_and_error(mlp, method, lo, hi, tol):
    if method != "bf16" and method != "int8_dynamic_legacy":
        pytest.importorskip("torchao")
    model, x = mlp
    res = quantize(model, method)
    ratio = serialized_bytes(model) / serialized_bytes(res.model)
    assert lo < ratio < hi, f"{method}: {ratio:.2f}x smaller"
    with torch.no_grad():
        assert _rel_err(res.model(x), model(x)) < tol
    assert res.quantized_layers and not res.skipped_layers
    assert next(model.parameters()).dtype == torch.float32        # the original is untouched


def test_int4_reports_skipped_layers(mlp):
    if "int4_weight_only" not in supported_methods("cpu"):
        pytest.skip("no CPU int4 here")
    model, x = mlp
    res = quantize(model, "int4_weight_only")
    assert "6" not in res.skipped_layers                          # 2 hidden layers: classifier is "4"
    assert set(res.skipped_layers) == {"4"} and "out_features=10" in res.skipped_layers["4"]
    assert res.quantized_layers == ["0", "2"]
    assert serialized_bytes(model) / serialized_bytes(res.model) > 5   # 4-bit weights; classifier stays fp
    with torch.no_grad():
        assert _rel_err(res.model(x), model(x)) < 0.2


def test_static_int8_cnn_pt2e():
    pytest.importorskip("torchao")
    torch.manual_seed(0)
    cnn, x = small_cnn(width=16), torch.randn(4, 3, 32, 32)
    res = quantize(cnn, "int8_static", example_inputs=(x,), calibration=[torch.randn(4, 3, 32, 32) for _ in range(3)])
    assert serialized_bytes(cnn) / serialized_bytes(res.model) > 3
    with torch.no_grad():
        assert _rel_err(res.model(x), cnn(x)) < 0.1


def test_qat_trains_then_converts(mlp):
    pytest.importorskip("torchao")
    model, x = mlp
    loader = [(x[i:i + 16], model(x[i:i + 16]).argmax(-1)) for i in range(0, 64, 16)]
    res = quantize(model, "qat", loader=loader, epochs=3, lr=2e-3)
    assert res.train.steps == 12 and res.quantized_layers == ["0", "2", "4"]
    assert res.train.epoch_losses[-1] < res.train.epoch_losses[0]
    assert serialized_bytes(model) / serialized_bytes(res.model) > 3
    xs, ys = torch.cat([b[0] for b in loader]), torch.cat([b[1] for b in loader])
    ce = torch.nn.functional.cross_entropy
    with torch.no_grad():   # the converted int8 model keeps what fake-quantized training learned
        assert ce(res.model(xs), ys) < 0.8 * ce(model(xs), ys)
    with pytest.raises(InvalidValueError, match="loader"):
        quantize(model, "qat")


def test_unsupported_combination_names_reason_and_alternatives():
    meta = small_mlp(d_in=8, hidden=16).to("meta")
    with pytest.raises(UnsupportedVariantError, match=r"CPU only.*variants that work here: .*bf16"):
        quantize(meta, "int8_dynamic_legacy")
    with pytest.raises(InvalidValueError, match="unknown quantization method 'int3'.*int8_dynamic"):
        quantize(small_mlp(d_in=8, hidden=16), "int3")
    assert "int8_dynamic_legacy" not in supported_methods("cuda")
