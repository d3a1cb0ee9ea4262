"""fit(augment=...) and fit(threads=...): the augmented batches are exactly what a hand-written loop feeds the
model, the thread count is applied and recorded, and bad values are reported clearly."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from backproplab import nn
from backproplab.data import Dataset
from backproplab.data.augment import RandomShift
from backproplab.errors import EngineError
from backproplab.optim import SGD, Adam
from backproplab.train import fit
from backproplab.train.threads import MIN_AUTO_MACS, check_threads, largest_product, measure_fastest, resolve_threads


def test_fit_with_augmentation_equals_a_hand_written_loop(fashion_small: Dataset) -> None:
    data = fashion_small.take(200)
    model = nn.mlp([784, 12, 10], "relu", batch_norm=True, seed=3)
    by_hand = nn.mlp([784, 12, 10], "relu", batch_norm=True, seed=3)
    fit(
        model,
        nn.SoftmaxCrossEntropy(),
        Adam(model.parameters(), lr=1e-3),
        data,
        epochs=2,
        batch_size=50,
        seed=5,
        augment=RandomShift(2, (28, 28), flip=True, rng=9),
        eval_train=False,
        verbose=0,
        threads=1,
    )

    loss, opt, aug = (
        nn.SoftmaxCrossEntropy(),
        Adam(by_hand.parameters(), lr=1e-3),
        RandomShift(2, (28, 28), flip=True, rng=9),
    )
    order_rng = np.random.default_rng(5)  # fit's shuffling stream
    for _ in range(2):
        order = order_rng.permutation(len(data))
        for s in range(0, len(data), 50):
            idx = order[s : s + 50]
            loss.forward(by_hand.forward(aug.shift(data.X[idx]), training=True), data.y[idx])
            by_hand.backward(loss.backward())
            opt.step()
    for (name, a), (_, b) in zip(model.state_dict().items(), by_hand.state_dict().items(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7, err_msg=name)  # BLAS threads may differ


def test_augmentation_changes_training_and_is_recorded(fashion_small: Dataset) -> None:
    data = fashion_small.take(200)
    plain, shifted = nn.mlp([784, 8, 10], "relu", seed=0), nn.mlp([784, 8, 10], "relu", seed=0)
    h1 = fit(plain, nn.SoftmaxCrossEntropy(), SGD(plain.parameters(), lr=0.1), data, epochs=1, batch_size=20, verbose=0)
    h2 = fit(
        shifted,
        nn.SoftmaxCrossEntropy(),
        SGD(shifted.parameters(), lr=0.1),
        data,
        epochs=1,
        batch_size=20,
        verbose=0,
        augment=RandomShift(1, (28, 28), rng=0),
    )
    assert h1.params["augment"] is None and h2.params["augment"].startswith("RandomShift(max_shift=1")
    assert h2.engine == "fast" and h1.history["batch_loss"] != h2.history["batch_loss"]  # fast.LayerTrainer


def test_fast_engine_with_augmentation_at_batch_size_one_is_a_clear_error(fashion_small: Dataset) -> None:
    model = nn.mlp([784, 8, 10], "relu", seed=0)
    with pytest.raises(EngineError, match="cannot train this run: a batch augmentation.*batch_size is 1"):
        fit(
            model,
            nn.SoftmaxCrossEntropy(),
            SGD(model.parameters(), lr=0.1),
            fashion_small,
            epochs=1,
            batch_size=1,
            engine="fast",
            augment=RandomShift(1, (28, 28)),
            verbose=0,
        )


def _blas_threads() -> int:
    return next(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


@pytest.mark.parametrize("threads", [1, 2])
def test_threads_are_applied_during_fit_and_restored(fashion_small: Dataset, threads: int) -> None:
    seen: list[int] = []

    class Spy(nn.Module):
        def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
            if training:
                seen.append(_blas_threads())
            return x

        def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
            return grad_out if need_input_grad else None

    before = _blas_threads()
    model = nn.Sequential(Spy(), *nn.mlp([784, 8, 10], "relu", seed=0))
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=0.1),
        fashion_small.take(100),
        epochs=1,
        batch_size=50,
        verbose=0,
        threads=threads,
    )
    assert set(seen) == {threads} and history.params["threads"] == threads
    assert _blas_threads() == before


def test_auto_threads_and_validation() -> None:
    assert check_threads("auto") == "auto" and check_threads(None) is None and check_threads(3) == 3
    for bad in (0, -1, "two", 1.5, True):
        with pytest.raises(ValueError, match="threads: expected a positive integer or 'auto'"):
            check_threads(bad)
    params = nn.mlp([784, 30, 3000, 10], "relu", seed=0).parameters()
    assert largest_product(params, 64) == (64, 30, 3000)
    assert resolve_threads(None) is None and resolve_threads(2, 1, 1, 1) == 2
    assert measure_fastest(4, 4, 4) == 1  # too small to measure: one thread
    chosen = measure_fastest(64, 256, 256, candidates=(1, 2))
    assert 64 * 256 * 256 >= MIN_AUTO_MACS and chosen in (1, 2)
