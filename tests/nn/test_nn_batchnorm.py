"""BatchNorm: numerical gradients (float64), torch's BatchNorm1d (values, every gradient, running statistics),
evaluation mode, saving and the mlp builder."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from backproplab import nn
from backproplab.check import gradcheck
from backproplab.errors import ModelFileError, ShapeError
from needs import import_torch

torch = import_torch()
pytestmark = pytest.mark.needs_torch

PRECISE = {"eps": 1e-3, "order": 4}


def _bn(rng: np.random.Generator, features: int = 5, **kwargs: float) -> nn.BatchNorm:
    layer = nn.BatchNorm(features, dtype=np.float64, **kwargs)
    layer.weight.value[...] = 1.0 + 0.5 * rng.standard_normal(features)  # not the identity gamma/beta
    layer.bias.value[...] = 0.3 * rng.standard_normal(features)
    return layer


def _torch_bn(layer: nn.BatchNorm) -> torch.nn.BatchNorm1d:
    ref = torch.nn.BatchNorm1d(layer.features, momentum=layer.momentum, eps=layer.eps, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.value))
        ref.bias.copy_(torch.from_numpy(layer.bias.value))
        ref.running_mean.copy_(torch.from_numpy(layer.running_mean))
        ref.running_var.copy_(torch.from_numpy(layer.running_var))
    return ref


def test_gradcheck_input_gamma_and_beta(rng: np.random.Generator) -> None:
    x = 2.0 * rng.standard_normal((6, 5)) + 1.0
    report = gradcheck(_bn(rng), x, **PRECISE)
    assert set(report.errors) == {"input", "weight", "bias"}
    assert report.max_error < 1e-8, str(report)


def test_gradcheck_in_a_network_with_a_loss(rng: np.random.Generator) -> None:
    model = nn.mlp([6, 7, 5, 3], "tanh", batch_norm=True, seed=2, dtype=np.float64)
    x = rng.standard_normal((9, 6))
    y = rng.integers(0, 3, size=9)
    report = gradcheck(model, x, y, **PRECISE)
    assert {"1.weight", "1.bias", "4.weight", "4.bias"} <= set(report.errors)
    assert report.max_error < 1e-7, str(report)


def test_forward_backward_and_running_statistics_equal_torch(rng: np.random.Generator) -> None:
    layer = _bn(rng, momentum=0.2, eps=1e-3)
    ref = _torch_bn(layer)
    for step in range(3):  # running statistics accumulate over several batches
        x = 3.0 * rng.standard_normal((8, 5)) - 1.0
        g = rng.standard_normal((8, 5))
        out = layer.forward(x, training=True)
        grad_x = layer.backward(g)
        xt = torch.tensor(x, requires_grad=True)
        ref.zero_grad()
        ref_out = ref(xt)
        (ref_out * torch.from_numpy(g)).sum().backward()
        np.testing.assert_allclose(out, ref_out.detach().numpy(), rtol=1e-12, atol=1e-13, err_msg=f"step {step}")
        np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(layer.weight.grad, ref.weight.grad.numpy(), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(layer.bias.grad, ref.bias.grad.numpy(), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(layer.running_mean, ref.running_mean.numpy(), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(layer.running_var, ref.running_var.numpy(), rtol=1e-13, atol=1e-15)
    ref.eval()
    x = rng.standard_normal((4, 5))
    np.testing.assert_allclose(layer.forward(x), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-13)


def test_training_output_is_normalised_per_feature(rng: np.random.Generator) -> None:
    layer = nn.BatchNorm(3, dtype=np.float64)
    out = layer.forward(5.0 + 10.0 * rng.standard_normal((50, 3)), training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-5)  # var / (var + eps)


def test_evaluation_uses_running_statistics_and_does_not_update_them(rng: np.random.Generator) -> None:
    layer = nn.BatchNorm(2, momentum=1.0, dtype=np.float64)
    x = np.array([[1.0, 10.0], [3.0, 30.0], [5.0, 20.0]])
    layer.forward(x, training=True)  # momentum 1: the running statistics become this batch's
    np.testing.assert_allclose(layer.running_mean, [3.0, 20.0])
    np.testing.assert_allclose(layer.running_var, [4.0, 100.0])  # unbiased: sum of squares / (N - 1)
    before = layer.state_dict()
    out = layer.forward(np.array([[3.0, 30.0]]))
    np.testing.assert_allclose(out, [[0.0, 10.0 / np.sqrt(100.0 + 1e-5)]], rtol=1e-12)
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_need_input_grad_false_skips_only_the_input_gradient(rng: np.random.Generator) -> None:
    layer = _bn(rng)
    x, g = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    layer.forward(x, training=True)
    full = layer.backward(g)
    grads = (layer.weight.grad.copy(), layer.bias.grad.copy())
    layer.forward(x, training=True)
    assert layer.backward(g, need_input_grad=False) is None
    np.testing.assert_array_equal(layer.weight.grad, grads[0])
    np.testing.assert_array_equal(layer.bias.grad, grads[1])
    assert full.shape == x.shape


def test_clear_errors() -> None:
    layer = nn.BatchNorm(4)
    with pytest.raises(RuntimeError, match=r"forward\(x, training=True\) first"):
        layer.backward(np.ones((3, 4), np.float32))
    with pytest.raises(ValueError, match="at least 2 rows per training batch to estimate a variance; got 1"):
        layer.forward(np.ones((1, 4), np.float32), training=True)
    with pytest.raises(ShapeError, match=r"\(N, 4\)"):
        layer.forward(np.ones((3, 5), np.float32))
    for bad in ({"momentum": 1.5}, {"eps": 0.0}):
        with pytest.raises(ValueError, match="BatchNorm"):
            nn.BatchNorm(4, **bad)


def test_mlp_with_batch_norm_layout_and_penalty_flags() -> None:
    model = nn.mlp([8, 6, 4, 3], "relu", batch_norm=True, dropout=0.1, seed=0)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Dense", "BatchNorm", "ReLU", "Dropout", "Dense", "BatchNorm", "ReLU", "Dropout", "Dense"]
    assert model[0].bias is None and model[4].bias is None and model[8].bias is not None
    assert [name for name, p in model.named_parameters() if p.regularize] == ["0.weight", "4.weight", "8.weight"]
    assert [name for name, _ in model.named_buffers()] == [
        "1.running_mean",
        "1.running_var",
        "5.running_mean",
        "5.running_var",
    ]


def test_save_and_load_keep_running_statistics(tmp_path, rng: np.random.Generator) -> None:
    model = nn.mlp([6, 5, 3], "relu", batch_norm=True, seed=1)
    for _ in range(3):
        model.forward(rng.standard_normal((16, 6)).astype(np.float32), training=True)
    path = nn.save_model(model, tmp_path / "bn.npz")
    loaded = nn.load_model(path)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_array_equal(loaded.forward(x), model.forward(x))
    np.testing.assert_array_equal(loaded[1].running_var, model[1].running_var)
    assert not np.allclose(model[1].running_var, 1.0)  # the statistics saved are not the initial ones


def test_astype_converts_buffers() -> None:
    model = nn.mlp([4, 3, 2], "relu", batch_norm=True, seed=0).astype(np.float64)
    assert model[1].running_mean.dtype == model[1].running_var.dtype == np.float64


def test_a_model_file_whose_batch_norm_does_not_fit_is_refused(tmp_path, rng: np.random.Generator) -> None:
    """The file check knows BatchNorm's four arrays: a width that does not match the layer before, or a missing
    running statistic, is a ModelFileError naming the file, before anything is unpacked."""
    path = nn.save_model(nn.mlp([6, 5, 3], "relu", batch_norm=True, seed=1), tmp_path / "bn.npz")
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    specs = json.loads(str(np.load(path)["__architecture__"][()]))
    assert specs[1] == {"type": "BatchNorm", "features": 5, "momentum": 0.1, "eps": 1e-5}

    def write(name: str, changed: dict[str, bytes]) -> Path:
        target = tmp_path / name
        with zipfile.ZipFile(target, "w") as archive:
            for member, data in {**members, **changed}.items():
                if data:
                    archive.writestr(member, data)
        return target

    wide = [dict(specs[0]), {**specs[1], "features": 7}, *specs[2:]]
    buffer = io.BytesIO()
    np.save(buffer, np.array(json.dumps(wide)))
    with pytest.raises(
        ModelFileError,
        match=r"layer 1 \(BatchNorm\) needs features >= 1 equal to the width before "
        r"it \(5\)",
    ):
        nn.load_model(write("wide.npz", {"__architecture__.npy": buffer.getvalue()}))
    with pytest.raises(ModelFileError, match=r"missing \['1.running_var'\]"):
        nn.load_model(write("no-var.npz", {"1.running_var.npy": b""}))
