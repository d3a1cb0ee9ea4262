"""The torch backend on a CUDA GPU: the same steps as on the CPU, data moved by fit, results back as NumPy.

These run where ``torch.cuda.is_available()``; elsewhere they are skipped with that reason."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from backproplab import nn
from backproplab.check import gradcheck
from backproplab.data import Dataset
from backproplab.optim import SGD, Adam
from backproplab.train import evaluate, fit, predict
from needs import import_torch

torch = import_torch()
NO_CUDA = "no CUDA GPU here (torch.cuda.is_available() is False)"
pytestmark = [pytest.mark.needs_torch, pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)]


def model64(dropout: float = 0.0) -> nn.Sequential:
    return nn.mlp([784, 24, 10], "sigmoid", dropout=dropout, seed=1, dtype=np.float64)


def test_to_cuda_moves_every_parameter() -> None:
    model = model64().to("torch", "cuda")
    assert model.backend == "torch" and model.device.startswith("cuda:")
    assert all(p.value.is_cuda and p.grad.is_cuda for p in model.parameters())
    assert model.to("torch", "auto").device == model.device


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_two_epochs_on_cuda_agree_with_the_cpu(fashion_small: Dataset, optimizer: str) -> None:
    models, histories = [], []
    for device in ("cpu", "cuda"):
        model = model64(dropout=0.2).to("torch", device)
        opt = (
            Adam(model.parameters(), lr=3e-3) if optimizer == "adam" else SGD(model.parameters(), lr=0.2, momentum=0.5)
        )
        histories.append(
            fit(
                model,
                nn.SoftmaxCrossEntropy(),
                opt,
                fashion_small,
                epochs=2,
                batch_size=32,
                validation_size=0.2,
                verbose=0,
            )
        )
        models.append(model)
    for p, q in zip(*(m.parameters() for m in models), strict=True):
        assert float((p.value - q.value.cpu()).abs().max()) < 1e-9
    assert histories[1].params["device"] == models[1].device
    np.testing.assert_allclose(histories[0].history["val_loss"], histories[1].history["val_loss"], rtol=0, atol=1e-9)


def test_batches_are_moved_one_by_one_when_the_training_set_does_not_fit(
    fashion_small: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    import backproplab.backend as backend

    def train() -> nn.Module:
        model = model64().to("torch", "cuda")
        fit(
            model,
            nn.SoftmaxCrossEntropy(),
            SGD(model.parameters(), lr=0.2),
            fashion_small,
            epochs=1,
            batch_size=16,
            verbose=0,
        )
        return model

    resident = train()
    monkeypatch.setattr(backend, "DEVICE_MEMORY_SHARE", 0.0)
    moved = train()
    for p, q in zip(resident.parameters(), moved.parameters(), strict=True):
        torch.testing.assert_close(p.value, q.value, rtol=0, atol=0)


def test_evaluation_returns_numpy_and_gradcheck_runs_on_the_gpu(fashion_small: Dataset) -> None:
    cpu = model64()
    gpu = copy.deepcopy(cpu).to("torch", "cuda")
    X, y = fashion_small.X, fashion_small.y
    pred = predict(gpu, X)
    assert isinstance(pred, np.ndarray)
    np.testing.assert_array_equal(pred, predict(cpu, X))
    assert (
        abs(
            evaluate(gpu, nn.SoftmaxCrossEntropy(), X, y)["loss"]
            - evaluate(cpu, nn.SoftmaxCrossEntropy(), X, y)["loss"]
        )
        < 1e-12
    )
    assert gradcheck(
        nn.mlp([6, 5, 3], "tanh", seed=0).to("torch", "cuda"),
        np.random.default_rng(0).standard_normal((4, 6)),
        np.array([0, 2, 1, 1]),
    ).passed(1e-6)


def test_a_cuda_model_saves_and_loads_on_the_cpu(tmp_path: Path) -> None:
    model = model64().to("torch", "cuda")
    loaded = nn.load_model(nn.save_model(model, tmp_path / "m.npz"))
    for p, q in zip(model.parameters(), loaded.parameters(), strict=True):
        np.testing.assert_array_equal(p.value.cpu().numpy(), q.value)
