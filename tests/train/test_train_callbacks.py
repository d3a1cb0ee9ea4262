"""Callbacks: the order fit calls them in, stopping from a callback, EarlyStopping and restore_best_weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backproplab import nn
from backproplab.data import Dataset
from backproplab.optim import SGD
from backproplab.train import EarlyStopping, History, LambdaCallback, TrainingState, fit


def small_model() -> nn.Sequential:
    return nn.mlp([784, 16, 10], "sigmoid", seed=0)


def train(data: Dataset, callbacks: list, epochs: int = 3, **kwargs: Any) -> tuple[History, nn.Module]:
    model = small_model()
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=0.5),
        data,
        epochs=epochs,
        batch_size=50,
        verbose=0,
        callbacks=callbacks,
        **kwargs,
    )
    return history, model


def test_callbacks_are_called_in_order(fashion_small: Dataset) -> None:
    events: list[Any] = []

    def recorder(tag: str) -> LambdaCallback:
        return LambdaCallback(
            on_train_begin=lambda s: events.append((tag, "train_begin")),
            on_epoch_begin=lambda s, e: events.append((tag, "epoch_begin", e)),
            on_epoch_end=lambda s, e, logs: events.append((tag, "epoch_end", e, sorted(logs)[:3])),
            on_train_end=lambda s: events.append((tag, "train_end")),
        )

    train(fashion_small.take(100), [recorder("a"), recorder("b")], epochs=2)
    keys = ["batch_loss", "epoch", "iteration"]
    assert events == [
        ("a", "train_begin"),
        ("b", "train_begin"),
        ("a", "epoch_begin", 1),
        ("b", "epoch_begin", 1),
        ("a", "epoch_end", 1, keys),
        ("b", "epoch_end", 1, keys),
        ("a", "epoch_begin", 2),
        ("b", "epoch_begin", 2),
        ("a", "epoch_end", 2, keys),
        ("b", "epoch_end", 2, keys),
        ("a", "train_end"),
        ("b", "train_end"),
    ]


def test_a_callback_can_stop_training(fashion_small: Dataset) -> None:
    def stop_after_two(state: TrainingState, epoch: int, logs: dict) -> None:
        if epoch == 2:
            state.stop_training, state.stop_reason = True, "enough"

    history, _ = train(fashion_small.take(100), [LambdaCallback(on_epoch_end=stop_after_two)], epochs=10)
    assert len(history) == 2 and history.stop_reason == "enough" and not history.diverged


def run_early_stopping(values: list[float], **kwargs: Any) -> tuple[EarlyStopping, int | None]:
    """Feed ``values`` as successive epochs' val_loss; returns the callback and the epoch it stopped at."""
    es = EarlyStopping("val_loss", **kwargs)
    state = TrainingState(small_model(), nn.SoftmaxCrossEntropy(), None, History(), len(values))
    es.on_train_begin(state)
    for epoch, value in enumerate(values, start=1):
        es.on_epoch_end(state, epoch, {"val_loss": value})
        if state.stop_training:
            return es, epoch
    return es, None


def test_patience_counts_epochs_without_improvement() -> None:
    values = [1.0, 0.9, 0.95, 0.93, 0.92, 0.91, 0.5]
    # best 0.9 at epoch 2; epochs 3, 4, 5, ... do not improve on it
    assert run_early_stopping(values, patience=1)[1] == 3
    assert run_early_stopping(values, patience=2)[1] == 4
    assert run_early_stopping(values, patience=3)[1] == 5
    assert run_early_stopping(values, patience=0)[1] == 3  # nothing to wait for: stop at the first miss
    es, stopped = run_early_stopping(values, patience=10)
    assert stopped is None and (es.best, es.best_epoch) == (0.5, 7)


def test_min_delta_is_the_improvement_that_counts() -> None:
    values = [1.0, 0.995, 0.98, 0.985, 0.975, 0.972]
    # with min_delta 0.01 only 0.98 (< 1.0 - 0.01) improves; 0.975 and 0.972 are within 0.01 of it
    es, stopped = run_early_stopping(values, patience=2, min_delta=0.01)
    assert (stopped, es.best, es.best_epoch) == (5, 0.98, 3)
    es, stopped = run_early_stopping(values, patience=2)
    assert (stopped, es.best, es.best_epoch) == (None, 0.972, 6)


def test_accuracies_are_maximised_and_non_finite_values_never_improve() -> None:
    es = EarlyStopping("val_acc", patience=1)
    assert es.maximize and not EarlyStopping("val_loss").maximize and EarlyStopping("x", mode="max").maximize
    es, stopped = run_early_stopping([1.0, float("nan"), 0.5], patience=5)
    assert (es.best, es.best_epoch, es.wait) == (0.5, 3, 0)


def test_stop_message_states_what_happened() -> None:
    es = EarlyStopping("val_loss", patience=2)
    state = TrainingState(small_model(), nn.SoftmaxCrossEntropy(), None, History(), 3)
    es.on_train_begin(state)
    for epoch, value in enumerate([1.0, 2.0, 3.0], start=1):
        es.on_epoch_end(state, epoch, {"val_loss": value})
    assert state.stop_reason == "early stopping: val_loss did not improve for 2 epochs (best 1 at epoch 1)"


def test_stopping_before_any_finite_value() -> None:
    state = TrainingState(small_model(), nn.SoftmaxCrossEntropy(), None, History(), 3)
    es = EarlyStopping("val_loss", patience=1)
    es.on_train_begin(state)
    es.on_epoch_end(state, 1, {"val_loss": float("nan")})
    assert state.stop_reason == "early stopping: val_loss did not improve for 1 epoch (no finite value)"


def test_restore_best_weights_in_a_real_run(fashion_small: Dataset) -> None:
    snapshots: list[dict[str, np.ndarray]] = []
    snapshot = LambdaCallback(on_epoch_end=lambda s, e, logs: snapshots.append(s.model.state_dict()))
    # a min_delta no accuracy can beat: epoch 1 stays the best, training stops after `patience` more epochs
    es = EarlyStopping("train_acc", patience=2, min_delta=1.0, restore_best_weights=True)
    history, model = train(fashion_small, [es, snapshot], epochs=10)
    assert len(history) == 3 and history.stop_reason.startswith("early stopping: train_acc did not improve")
    assert history.params["restored_epoch"] == 1
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots[0][name])
    assert not np.array_equal(snapshots[0]["0.weight"], snapshots[-1]["0.weight"])


def test_restore_best_weights_picks_the_best_validation_epoch(fashion_small: Dataset) -> None:
    snapshots: list[dict[str, np.ndarray]] = []
    snapshot = LambdaCallback(on_epoch_end=lambda s, e, logs: snapshots.append(s.model.state_dict()))
    es = EarlyStopping("val_loss", patience=100, restore_best_weights=True)
    history, model = train(fashion_small, [es, snapshot], epochs=6, validation_size=0.3, seed=1)
    best_epoch = int(np.argmin(history.history["val_loss"])) + 1
    assert history.params["restored_epoch"] == best_epoch == es.best_epoch
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots[best_epoch - 1][name])


def test_monitoring_an_unmeasured_metric_is_an_error(fashion_small: Dataset) -> None:
    with pytest.raises(
        KeyError,
        match="EarlyStopping monitors 'val_loss', which this run does not measure; "
        r"available: \['batch_loss', 'lr', 'train_acc', 'train_loss'",
    ):
        train(fashion_small.take(100), [EarlyStopping("val_loss")], epochs=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"patience": -1}, "EarlyStopping patience must be >= 0; got -1"),
        ({"min_delta": -0.1}, "EarlyStopping min_delta must be >= 0; got -0.1"),
        ({"mode": "best"}, "EarlyStopping mode: expected 'auto', 'min' or 'max'; got 'best'"),
    ],
)
def test_bad_early_stopping_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**kwargs)
