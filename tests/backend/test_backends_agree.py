"""NumPy and torch (CPU) compute the same: every module, loss, penalty and optimizer after a forward, backward
and step (float64: max abs difference < 1e-12; float32: < 1e-5), and two epochs of `fit` on a Fashion-MNIST slice
(float64: < 1e-9). The same module code runs on both; only the arrays differ."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from backproplab import nn
from backproplab.data import Compose, Dataset, Mixup, RandomShift
from backproplab.optim import SGD, Adam, StepDecay
from backproplab.train import EarlyStopping, fit
from needs import import_torch

pytestmark = pytest.mark.needs_torch

torch = import_torch()

TOL = {np.float64: 1e-12, np.float32: 1e-5}
DTYPES = [np.float64, np.float32]


def as_torch(a: np.ndarray) -> Any:
    return torch.from_numpy(np.array(a))


def max_diff(a: Any, b: Any) -> float:
    """max |a - b| of a NumPy array (or float) and the same quantity from the torch backend."""
    b = b.numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    assert not isinstance(a, torch.Tensor), "the first argument comes from the NumPy backend"
    a = np.asarray(a)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)), initial=0.0))


def pair(module: nn.Module, dtype: type) -> tuple[nn.Module, nn.Module]:
    """The module in ``dtype`` on NumPy, and an identical copy on torch."""
    a = module.astype(dtype)
    return a, copy.deepcopy(a).to("torch", "cpu")


MODULES: dict[str, Callable[[], nn.Module]] = {
    "Dense": lambda: nn.Dense(6, 4, rng=1),
    "Dense-no-bias": lambda: nn.Dense(6, 4, bias=False, rng=2),
    "Sigmoid": nn.Sigmoid,
    "Tanh": nn.Tanh,
    "ReLU": nn.ReLU,
    "LeakyReLU": lambda: nn.LeakyReLU(0.1),
    "ELU": lambda: nn.ELU(0.9),
    "Identity": nn.Identity,
    "Softmax": nn.Softmax,
    "Dropout": lambda: nn.Dropout(0.3, rng=4),
    "MLP": lambda: nn.mlp([6, 5, 4], "elu", activation_options={"alpha": 0.9}, dropout=0.25, seed=3),
    "BatchNorm": lambda: nn.BatchNorm(6, momentum=0.3),
    "MLP-batch-norm": lambda: nn.mlp([6, 5, 4], "relu", batch_norm=True, dropout=0.25, seed=3),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(MODULES))
def test_every_module_gives_the_same_forward_and_backward(name: str, dtype: type, rng: np.random.Generator) -> None:
    a, b = pair(MODULES[name](), dtype)
    for p in a.parameters():  # non-zero biases, so that their use is compared too
        p.value[...] = rng.standard_normal(p.shape).astype(dtype)
    b.load_state_dict(a.state_dict())
    x = (3 * rng.standard_normal((7, 6))).astype(dtype)
    out_a = a.forward(x, training=True)
    out_b = b.forward(as_torch(x), training=True)
    g = rng.standard_normal(out_a.shape).astype(dtype)
    grad_a, grad_b = a.backward(g), b.backward(as_torch(g))
    assert isinstance(out_b, torch.Tensor) and out_b.dtype == getattr(torch, np.dtype(dtype).name)
    assert max_diff(out_a, out_b) < TOL[dtype]
    assert max_diff(grad_a, grad_b) < TOL[dtype]
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert max_diff(p.grad, q.grad) < TOL[dtype]
    for (name_a, buf_a), (name_b, buf_b) in zip(a.named_buffers(), b.named_buffers(), strict=True):
        assert name_a == name_b and isinstance(buf_b, torch.Tensor)  # BatchNorm's running statistics moved too
        assert max_diff(buf_a, buf_b) < TOL[dtype]
    assert max_diff(a.forward(x), b.forward(as_torch(x))) < TOL[dtype]  # evaluation (running statistics)


LOSSES: dict[str, tuple[Callable[[], nn.Loss], str]] = {
    "softmax-CE labels": (nn.SoftmaxCrossEntropy, "labels"),
    "softmax-CE rows": (nn.SoftmaxCrossEntropy, "rows"),
    "CE labels": (nn.CrossEntropy, "labels"),
    "CE rows": (nn.CrossEntropy, "rows"),
    "MSE half": (nn.MSE, "rows"),
    "MSE labels": (lambda: nn.MSE(half=False), "labels"),
    "BCE": (nn.BinaryCrossEntropy, "binary"),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_gives_the_same_value_and_gradient(name: str, dtype: type, rng: np.random.Generator) -> None:
    make, kind = LOSSES[name]
    outputs = (4 * rng.standard_normal((9, 5))).astype(dtype)
    if name.startswith("CE"):
        outputs = rng.dirichlet(np.ones(5), size=9).astype(dtype)
    targets = {
        "labels": rng.integers(0, 5, size=9),
        "rows": rng.dirichlet(np.ones(5), size=9).astype(dtype),
        "binary": (rng.random((9, 5)) > 0.5).astype(dtype),
    }[kind]
    a, b = make(), make()
    value_a, value_b = a.forward(outputs, targets), b.forward(as_torch(outputs), as_torch(targets))
    assert isinstance(value_b, float)
    assert abs(value_a - value_b) < TOL[dtype] * max(1.0, abs(value_a))
    assert max_diff(a.backward(), b.backward()) < TOL[dtype]


@pytest.mark.parametrize("label_dtype", [np.uint8, np.int32, np.int64])
def test_small_integer_labels_index_rows_on_torch(label_dtype: type, rng: np.random.Generator) -> None:
    """torch reads uint8 index arrays as masks; labels of any integer dtype must pick one class per row."""
    z = rng.standard_normal((6, 4))
    labels = np.array([0, 3, 1, 2, 2, 0], dtype=label_dtype)
    a, b = nn.SoftmaxCrossEntropy(), nn.SoftmaxCrossEntropy()
    assert abs(a.forward(z, labels) - b.forward(as_torch(z), as_torch(labels))) < 1e-12
    assert max_diff(a.backward(), b.backward()) < 1e-12
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\]"):
        b.forward(as_torch(z), as_torch(np.array([0, 4, 1, 1, 1, 1], dtype=label_dtype)))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("reg", [nn.L2(0.3), nn.L2(0.3, half=True), nn.L1(0.2)], ids=repr)
def test_every_penalty_gives_the_same_value_and_gradient(reg: nn.Regularizer, dtype: type) -> None:
    a, b = pair(nn.mlp([6, 5, 3], "tanh", seed=1), dtype)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        p.grad[...] = 0.5
        q.grad[...] = 0.5
    assert abs(reg.penalty(a.parameters()) - reg.penalty(b.parameters())) < TOL[dtype]
    reg.add_gradient(a.parameters())
    reg.add_gradient(b.parameters())
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert max_diff(p.grad, q.grad) < TOL[dtype]


OPTIMIZERS: dict[str, Callable[[list[nn.Parameter]], Any]] = {
    "SGD": lambda ps: SGD(ps, lr=0.1),
    "SGD momentum": lambda ps: SGD(ps, lr=0.1, momentum=0.9),
    "SGD nesterov + weight decay": lambda ps: SGD(ps, lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01),
    "Adam": lambda ps: Adam(ps, lr=0.01, eps=1e-7),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_takes_the_same_steps(name: str, dtype: type, rng: np.random.Generator) -> None:
    a, b = pair(nn.mlp([6, 5, 3], "relu", seed=2), dtype)
    opt_a, opt_b = OPTIMIZERS[name](a.parameters()), OPTIMIZERS[name](b.parameters())
    for _ in range(3):
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            p.grad[...] = rng.standard_normal(p.shape).astype(dtype)
            q.grad[...] = as_torch(p.grad)
        opt_a.step()
        opt_b.step()
    assert opt_a.steps == opt_b.steps == 3
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert max_diff(p.value, q.value) < TOL[dtype]
    state_a, state_b = opt_a.state_dict(), opt_b.state_dict()
    assert state_a.keys() == state_b.keys()
    for key, value in state_a.items():
        if isinstance(value, np.ndarray):
            assert isinstance(state_b[key], np.ndarray) and max_diff(value, state_b[key]) < TOL[dtype]


def train_two_epochs(
    data: Dataset,
    backend: str,
    dtype: type,
    *,
    dropout: float = 0.0,
    optimizer: str = "sgd",
    batch_norm: bool = False,
    **kwargs: Any,
) -> tuple[nn.Module, Any]:
    model = nn.mlp([784, 24, 10], "sigmoid", dropout=dropout, batch_norm=batch_norm, seed=5, dtype=dtype).to(
        backend, "cpu"
    )
    params = model.parameters()
    opt = Adam(params, lr=3e-3) if optimizer == "adam" else SGD(params, lr=0.2, momentum=0.5, schedule=StepDecay(0.5))
    kwargs.setdefault("engine", backend)  # the modules themselves on both (auto would compile dropout nets on numpy)
    history = fit(
        model, nn.SoftmaxCrossEntropy(), opt, data, epochs=2, batch_size=32, shuffle=True, seed=3, verbose=0, **kwargs
    )
    return model, history


def compare_runs(a: tuple[nn.Module, Any], b: tuple[nn.Module, Any], tol: float) -> None:
    (model_a, history_a), (model_b, history_b) = a, b
    assert history_a.engine == "numpy" and history_b.engine == "torch"
    assert model_b.backend == "torch" and history_b.params["backend"] == "torch"
    for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
        assert max_diff(p.value, q.value) < tol
    for (_, buf_a), (_, buf_b) in zip(model_a.named_buffers(), model_b.named_buffers(), strict=True):
        assert max_diff(buf_a, buf_b) < tol
    assert history_a.history.keys() == history_b.history.keys()
    for key, values in history_a.history.items():
        if "seconds" not in key:
            assert max_diff(values, history_b.history[key]) < tol, key


def test_two_epochs_of_fit_agree_in_float64(fashion_small: Dataset, fashion_test: Dataset) -> None:
    kwargs = {"eval_sets": {"test": fashion_test.take(300)}, "validation_size": 0.2, "regularizer": nn.L2(1e-4)}
    compare_runs(
        train_two_epochs(fashion_small, "numpy", np.float64, **kwargs),
        train_two_epochs(fashion_small, "torch", np.float64, **kwargs),
        1e-9,
    )


def test_two_epochs_with_dropout_adam_and_early_stopping_agree_in_float64(fashion_small: Dataset) -> None:
    """Dropout draws the same masks on both backends (the layer's NumPy generator), so even it agrees."""
    runs = [
        train_two_epochs(
            fashion_small,
            backend,
            np.float64,
            dropout=0.3,
            optimizer="adam",
            validation_size=0.25,
            regularizer=nn.L1(1e-5),
            callbacks=[EarlyStopping("val_loss", patience=1, restore_best_weights=True)],
        )
        for backend in ("numpy", "torch")
    ]
    compare_runs(*runs, 1e-9)


def test_two_epochs_with_batch_norm_shifts_and_mixup_agree_in_float64(fashion_small: Dataset) -> None:
    """Augmentations draw from their own NumPy generators on every backend, so the batches are the same."""
    runs = [
        train_two_epochs(
            fashion_small,
            backend,
            np.float64,
            dropout=0.2,
            batch_norm=True,
            augment=Compose(RandomShift(1, (28, 28), rng=7), Mixup(0.2, 10, rng=8)),
        )
        for backend in ("numpy", "torch")
    ]
    assert runs[0][1].params["augment"] == runs[1][1].params["augment"]
    compare_runs(*runs, 1e-9)


def test_two_epochs_of_fit_agree_in_float32(fashion_small: Dataset) -> None:
    compare_runs(
        train_two_epochs(fashion_small, "numpy", np.float32), train_two_epochs(fashion_small, "torch", np.float32), 1e-5
    )
