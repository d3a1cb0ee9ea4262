"""The torch backend: moving a model, no autograd anywhere, and everything above the modules following the model
(fit, evaluate, predict, callbacks, gradcheck, save/load, engine choice, clear errors)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest

from backproplab import nn
from backproplab.backend import resolve
from backproplab.check import gradcheck
from backproplab.data import Dataset
from backproplab.errors import BackendError, EngineError
from backproplab.optim import SGD, Adam
from backproplab.train import (
    EarlyStopping,
    LambdaCallback,
    confusion_matrix,
    evaluate,
    fit,
    predict,
    predict_proba,
)
from needs import import_torch

pytestmark = pytest.mark.needs_torch

torch = import_torch()


def small_model(activation: str = "sigmoid", **kwargs: object) -> nn.Sequential:
    return nn.mlp([784, 16, 10], activation, seed=0, **kwargs)


def test_to_moves_values_and_grads_and_returns_the_model() -> None:
    model = small_model()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    assert (model.backend, model.device) == ("numpy", "cpu")
    assert model.to("torch", device="cpu") is model
    assert (model.backend, model.device) == ("torch", "cpu")
    for name, p in model.named_parameters():
        assert isinstance(p.value, torch.Tensor) and isinstance(p.grad, torch.Tensor)
        assert p.value.dtype == torch.float32 and not p.value.requires_grad
        np.testing.assert_array_equal(p.value.numpy(), before[name])
    model.to("numpy")
    assert model.backend == "numpy" and all(isinstance(p.value, np.ndarray) for p in model.parameters())
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_moving_copies_so_the_numpy_arrays_are_not_shared() -> None:
    model = small_model()
    old = model.parameters()[0].value
    model.to("torch", "cpu")
    model.parameters()[0].value += 1.0
    assert not np.shares_memory(old, model.parameters()[0].value.numpy())
    assert float(np.abs(old - model.parameters()[0].value.numpy()).max()) == 1.0


def test_a_module_without_parameters_remembers_where_it_was_moved() -> None:
    assert nn.Sigmoid().to("torch", "cpu").backend == "torch"
    assert nn.Sequential(nn.ReLU()).backend == "numpy"


@pytest.mark.parametrize(
    ("backend", "device", "message"),
    [
        ("jax", None, "backend: expected 'numpy' or 'torch'; got 'jax'"),
        ("numpy", "cuda", "device 'cuda' needs the torch backend"),
        ("torch", "gpu", "device: expected 'auto', 'cpu', 'cuda' or 'cuda:N'; got 'gpu'"),
    ],
)
def test_bad_backends_and_devices_are_one_line_errors(backend: str, device: str | None, message: str) -> None:
    with pytest.raises(BackendError, match=message):
        small_model().to(backend, device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA; the no-CUDA message cannot be seen")
def test_cuda_without_a_gpu_says_what_to_use_instead() -> None:
    with pytest.raises(
        BackendError,
        match=r"device 'cuda' needs a CUDA GPU, but torch .* sees none .* use device "
        r"'cpu' or 'auto'",
    ):
        small_model().to("torch", "cuda")
    assert resolve("torch", "auto").device == "cpu"


def test_a_missing_torch_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(BackendError, match=r"pip install 'backproplab\[torch\]'") as info:
        small_model().to("torch")
    assert "\n" not in str(info.value)


def test_an_optimizer_built_before_moving_is_a_clear_error(fashion_small: Dataset) -> None:
    model = small_model()
    adam = Adam(model.parameters(), lr=1e-3)
    model.to("torch", "cpu")
    with pytest.raises(
        BackendError,
        match=r"Adam's state 'm' is on numpy \(cpu\) but parameter 'weight' is on "
        r"torch \(cpu\): build the optimizer after model.to",
    ):
        fit(model, nn.SoftmaxCrossEntropy(), adam, fashion_small.take(64), epochs=1, verbose=0)


def test_the_fast_and_numpy_engines_refuse_torch_models_and_say_why(fashion_small: Dataset) -> None:
    model = small_model().to("torch", "cpu")
    opt = SGD(model.parameters(), lr=0.1)
    data = fashion_small.take(50)
    with pytest.raises(
        EngineError,
        match=r"engine='fast' cannot train this run: the model is on torch \(cpu\) and "
        r"the fast engine's compiled kernels train NumPy models only",
    ):
        fit(model, nn.SoftmaxCrossEntropy(), opt, data, epochs=1, batch_size=1, verbose=0, engine="fast")
    with pytest.raises(EngineError, match="engine='numpy' cannot train this run"):
        fit(model, nn.SoftmaxCrossEntropy(), opt, data, epochs=1, verbose=0, engine="numpy")
    numpy_model = small_model()
    with pytest.raises(EngineError, match="engine='torch' trains torch models"):
        fit(
            numpy_model,
            nn.SoftmaxCrossEntropy(),
            SGD(numpy_model.parameters(), lr=0.1),
            data,
            epochs=1,
            verbose=0,
            engine="torch",
        )
    # auto at batch size 1 picks the fast engine for a NumPy model, the module engine on torch for a torch model
    assert fit(model, nn.SoftmaxCrossEntropy(), opt, data, epochs=1, batch_size=1, verbose=0).engine == "torch"


class _Spy(torch.overrides.TorchFunctionMode):
    """Sees every torch function call and records the tensors it returns."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.grad_enabled: set[bool] = set()
        self.with_grad_fn: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        result = func(*args, **(kwargs or {}))
        outputs = [
            out for out in (result if isinstance(result, tuple | list) else (result,)) if isinstance(out, torch.Tensor)
        ]
        if outputs:  # (entering no_grad itself is a call, with grad still enabled, that returns no tensor)
            self.calls += 1
            self.grad_enabled.add(torch.is_grad_enabled())
        if any(out.grad_fn is not None or out.requires_grad for out in outputs):
            self.with_grad_fn.append(getattr(func, "__name__", str(func)))
        return result


def test_fit_uses_no_autograd(fashion_small: Dataset, fashion_test: Dataset) -> None:
    model = small_model(dropout=0.2).to("torch", "cpu")
    adam, spy = Adam(model.parameters(), lr=1e-3), _Spy()
    with spy:
        history = fit(
            model,
            nn.SoftmaxCrossEntropy(),
            adam,
            fashion_small,
            epochs=2,
            batch_size=16,
            verbose=0,
            eval_sets={"test": fashion_test.take(200)},
            regularizer=nn.L2(1e-4),
            validation_size=0.1,
        )
    assert history.engine == "torch" and len(history) == 2
    assert spy.calls > 1000  # the spy did see the training steps
    assert spy.with_grad_fn == [] and spy.grad_enabled == {False}
    assert not any(p.value.requires_grad or p.grad.requires_grad for p in model.parameters())


def test_fit_accepts_torch_tensors_and_numpy_arrays_alike(fashion_small: Dataset) -> None:
    X, y = fashion_small.X[:200], fashion_small.y[:200]
    histories, models = [], []
    for data in ((X, y), (torch.from_numpy(X), torch.from_numpy(y))):
        model = small_model().to("torch", "cpu")
        histories.append(
            fit(
                model,
                nn.SoftmaxCrossEntropy(),
                SGD(model.parameters(), lr=0.3),
                data,
                epochs=2,
                batch_size=20,
                verbose=0,
                eval_sets={"test": data},
            )
        )
        models.append(model)
    assert histories[0].history["test_loss"] == histories[1].history["test_loss"]
    for p, q in zip(*(m.parameters() for m in models), strict=True):
        torch.testing.assert_close(p.value, q.value, rtol=0, atol=0)
    numpy_model = small_model()  # a NumPy model takes tensors too
    fit(
        numpy_model,
        nn.SoftmaxCrossEntropy(),
        SGD(numpy_model.parameters(), lr=0.3),
        (torch.from_numpy(X), torch.from_numpy(y)),
        epochs=2,
        batch_size=20,
        verbose=0,
    )
    for p, q in zip(numpy_model.parameters(), models[0].parameters(), strict=True):
        np.testing.assert_allclose(p.value, q.value.numpy(), rtol=0, atol=1e-5)


def test_batches_moved_one_by_one_train_like_a_resident_training_set(
    fashion_small: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the training set does not fit in device memory, fit moves each batch; the steps are the same."""
    import backproplab.train.device_data as device_data

    def train() -> nn.Module:
        model = small_model(dtype=np.float64).to("torch", "cpu")
        fit(
            model,
            nn.SoftmaxCrossEntropy(),
            SGD(model.parameters(), lr=0.3),
            fashion_small.take(120),
            epochs=2,
            batch_size=16,
            shuffle=True,
            seed=2,
            verbose=0,
        )
        return model

    resident = train()
    monkeypatch.setattr(device_data, "fits_on_device", lambda nbytes, placement: False)
    moved = train()
    for p, q in zip(resident.parameters(), moved.parameters(), strict=True):
        torch.testing.assert_close(p.value, q.value, rtol=0, atol=0)


def test_evaluation_helpers_follow_the_model_and_return_numpy(fashion_small: Dataset) -> None:
    a = small_model()
    fit(a, nn.SoftmaxCrossEntropy(), SGD(a.parameters(), lr=0.3), fashion_small, epochs=1, verbose=0)
    b = copy.deepcopy(a).to("torch", "cpu")
    X, y = fashion_small.X, fashion_small.y
    ma, mb = (
        evaluate(a, nn.SoftmaxCrossEntropy(), X, y, predictions=True),
        evaluate(b, nn.SoftmaxCrossEntropy(), X, y, predictions=True),
    )
    assert mb["accuracy"] == ma["accuracy"] and abs(mb["loss"] - ma["loss"]) < 1e-6
    np.testing.assert_array_equal(mb["predictions"], ma["predictions"])
    pred = predict(b, X)
    assert isinstance(pred, np.ndarray) and pred.dtype == np.int64
    np.testing.assert_array_equal(pred, predict(a, X))
    proba = predict_proba(b, X[:50], nn.SoftmaxCrossEntropy())
    assert isinstance(proba, np.ndarray)
    np.testing.assert_allclose(proba, predict_proba(a, X[:50], nn.SoftmaxCrossEntropy()), atol=1e-6)
    np.testing.assert_array_equal(
        confusion_matrix(torch.from_numpy(y), torch.from_numpy(pred), 10), confusion_matrix(y, pred, 10)
    )


def test_early_stopping_restores_the_best_weights_on_torch(fashion_small: Dataset) -> None:
    model = small_model().to("torch", "cpu")
    snapshots = {}

    def keep(state, epoch, logs) -> None:  # noqa: ANN001
        snapshots[epoch] = {k: v.clone() for k, v in state.model.state_dict().items()}

    es = EarlyStopping("val_loss", patience=1, restore_best_weights=True)
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=3.0),
        fashion_small,
        epochs=8,
        batch_size=10,
        validation_size=0.3,
        seed=1,
        verbose=0,
        callbacks=[es, LambdaCallback(on_epoch_end=keep)],
    )
    assert history.params["restored_epoch"] == es.best_epoch
    for name, value in model.state_dict().items():
        assert isinstance(value, torch.Tensor)
        torch.testing.assert_close(value, snapshots[es.best_epoch][name], rtol=0, atol=0)


def test_a_diverged_torch_run_keeps_its_last_finite_weights(fashion_small: Dataset) -> None:
    model = small_model("relu").to("torch", "cpu")
    start = {k: v.clone() for k, v in model.state_dict().items()}
    history = fit(model, nn.MSE(), SGD(model.parameters(), lr=10.0), fashion_small, epochs=3, batch_size=10, verbose=0)
    assert history.diverged and len(history) == 1
    assert "the loss became NaN or infinite at epoch 1" in history.stop_reason
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, start[name], rtol=0, atol=0)


def test_gradcheck_runs_on_the_torch_backend_in_float64(rng: np.random.Generator) -> None:
    model = nn.mlp([6, 5, 4], "tanh", dropout=0.2, seed=3).to("torch", "cpu")
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 4, size=8)
    report = gradcheck(model, x, y, regularizer=nn.L2(0.1))
    assert report.passed(1e-6) and set(report.errors) == {"input", "0.weight", "0.bias", "3.weight", "3.bias"}
    assert all(isinstance(a, np.ndarray) for a in report.analytic.values())
    assert model.dtype == torch.float32 and model.backend == "torch"  # the model itself is untouched
    loss_report = gradcheck(nn.SoftmaxCrossEntropy(), torch.from_numpy(x[:, :4]), torch.from_numpy(y))
    assert loss_report.passed(1e-6)
    # a wrong gradient is caught on torch too
    broken = nn.mlp([6, 5, 4], "tanh", seed=3).to("torch", "cpu")
    broken.layers[1].backward = lambda g, need_input_grad=True: 2 * g  # type: ignore[method-assign]
    assert not gradcheck(broken, x, y).passed(1e-3)


def test_a_torch_model_saves_to_the_same_file_and_loads_on_either_backend(tmp_path: Path) -> None:
    model = nn.mlp([8, 6, 3], "elu", activation_options={"alpha": 0.9}, dropout=0.1, seed=2)
    numpy_file = nn.save_model(model, tmp_path / "numpy.npz")
    torch_file = nn.save_model(copy.deepcopy(model).to("torch", "cpu"), tmp_path / "torch.npz")
    with np.load(numpy_file) as a, np.load(torch_file) as b:
        assert a.files == b.files
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key])
    loaded = nn.load_model(torch_file)
    assert loaded.backend == "numpy" and repr(loaded) == repr(model)
    on_torch = nn.load_model(numpy_file).to("torch", "cpu")
    x = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    np.testing.assert_allclose(on_torch.forward(torch.from_numpy(x)).numpy(), model.forward(x), rtol=0, atol=1e-6)


def test_state_dicts_cross_backends(rng: np.random.Generator) -> None:
    a, b = small_model(), small_model("tanh").to("torch", "cpu")
    for p in a.parameters():
        p.value[...] = rng.standard_normal(p.shape).astype(np.float32)
    b.load_state_dict(a.state_dict())  # NumPy arrays into a torch model
    state = b.state_dict()
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    state["0.weight"] += 1.0  # copies: the model is untouched
    c = small_model()
    c.load_state_dict(b.state_dict())  # tensors into a NumPy model
    for p, q in zip(a.parameters(), c.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
