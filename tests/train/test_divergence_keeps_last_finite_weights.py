"""Divergence is a callback (`TerminateOnDivergence`): the same rules and messages as before, on every engine,
and a diverged run ends with the weights it had before the diverging epoch, not the NaN (or exploded) ones."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab import nn
from backproplab.data import Dataset
from backproplab.optim import SGD
from backproplab.train import LambdaCallback, TerminateOnDivergence, fit


def weights(model: nn.Module) -> list[np.ndarray]:
    return [p.value.copy() for p in model.parameters()]


@pytest.mark.parametrize("engine", ["numpy", "fast"])
def test_nan_loss_gives_back_the_weights_of_the_last_good_epoch(fashion_small: Dataset, engine: str) -> None:
    """lr 0.05 trains two epochs, then a step to lr 500 blows the squared error up in the third."""
    model = nn.mlp([784, 16, 10], "relu", seed=0)
    seen: dict[int, list[np.ndarray]] = {}
    record = LambdaCallback(on_epoch_end=lambda s, e, logs: seen.setdefault(e, weights(s.model)))
    opt = SGD(model.parameters(), lr=0.05, schedule=lambda lr, epoch: lr if epoch < 2 else 1e4 * lr)
    history = fit(
        model,
        nn.MSE(),
        opt,
        fashion_small.take(300),
        epochs=5,
        batch_size=1,
        shuffle=False,
        verbose=0,
        engine=engine,
        callbacks=[TerminateOnDivergence(factor=None), record],
    )
    assert history.engine == engine and history.diverged and len(history) == 3
    assert history.stop_reason.startswith("Training diverged: the loss became NaN or infinite at epoch 3, batch ")
    assert all(np.isfinite(w).all() for w in seen[2])
    for now, good in zip(weights(model), seen[2], strict=True):
        np.testing.assert_array_equal(now, good)  # epoch 2's weights, also what callbacks saw after epoch 3
    for now, good in zip(seen[3], seen[2], strict=True):
        np.testing.assert_array_equal(now, good)


def test_a_loss_that_explodes_without_nan_also_keeps_the_weights_before_it(
    fashion_small: Dataset, capsys: pytest.CaptureFixture
) -> None:
    model = nn.mlp([784, 16, 10], "relu", seed=0)
    start = weights(model)
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=1e4),
        fashion_small,
        epochs=4,
        batch_size=10,
        verbose=2,
    )
    assert history.diverged and len(history) == 1
    assert history.stop_reason.startswith("Training diverged: train_loss grew to")
    assert "more than 1000 times the initial loss" in history.stop_reason
    assert history.stop_reason in capsys.readouterr().out
    assert history.history["train_loss"][0] > 1000  # the record says what the diverging epoch measured
    for now, before in zip(weights(model), start, strict=True):
        np.testing.assert_array_equal(now, before)


def test_a_divergence_callback_given_replaces_the_default(fashion_small: Dataset) -> None:
    def train(callbacks: list) -> tuple:
        model = nn.mlp([784, 16, 10], "relu", seed=0)
        return fit(
            model,
            nn.SoftmaxCrossEntropy(),
            SGD(model.parameters(), lr=1e4),
            fashion_small,
            epochs=2,
            batch_size=10,
            verbose=0,
            callbacks=callbacks,
        ), model

    stopped, _ = train([])
    assert stopped.diverged and len(stopped) == 1
    relaxed, model = train([TerminateOnDivergence(factor=None)])  # only NaN/inf counts now
    assert not relaxed.diverged and len(relaxed) == 2 and relaxed.history["train_loss"][-1] > 1000
    assert all(np.isfinite(p.value).all() for p in model.parameters())
    with pytest.raises(ValueError, match="factor must be > 0 or None; got 0"):
        TerminateOnDivergence(factor=0)


def test_a_healthy_run_is_left_alone(fashion_small: Dataset) -> None:
    model = nn.mlp([784, 16, 10], "sigmoid", seed=0)
    guard = TerminateOnDivergence()
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=0.1),
        fashion_small,
        epochs=2,
        batch_size=20,
        verbose=0,
        callbacks=[guard],
    )
    assert not history.diverged and history.stop_reason is None and len(history) == 2
    assert guard.reference == pytest.approx(2.3, abs=0.3)  # the initial loss of 10 classes, on 600 rows
