"""fit: determinism, file order, what each History metric means, validation_size, divergence, bad input."""

from __future__ import annotations

import copy
import json
import math
import warnings
from typing import Any

import numpy as np
import pytest

from backproplab import nn
from backproplab.data import Dataset, train_validation_indices
from backproplab.optim import SGD, Adam, StepDecay
from backproplab.train import History, LambdaCallback, TerminateOnDivergence, evaluate, fit

TIMING = ("seconds", "train_seconds")


def small_model(seed: int = 0, activation: str = "sigmoid") -> nn.Sequential:
    return nn.mlp([784, 16, 10], activation, seed=seed)


def without_timing(history: History) -> dict[str, list[float]]:
    return {k: v for k, v in history.history.items() if k not in TIMING}


def train_once(data: Dataset, *, seed: int, shuffle: bool = True, **kwargs: Any) -> tuple[History, nn.Module]:
    model = small_model(seed=1)
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=0.1, momentum=0.5),
        data,
        epochs=3,
        batch_size=25,
        shuffle=shuffle,
        seed=seed,
        verbose=0,
        **kwargs,
    )
    return history, model


def test_same_seed_gives_identical_history_and_weights(fashion_small: Dataset, fashion_test: Dataset) -> None:
    test = fashion_test.take(300)
    a, model_a = train_once(fashion_small, seed=7, eval_sets={"test": test}, validation_size=0.2)
    b, model_b = train_once(fashion_small, seed=7, eval_sets={"test": test}, validation_size=0.2)
    assert without_timing(a) == without_timing(b)
    assert set(a.history) >= {
        "train_loss",
        "train_acc",
        "val_loss",
        "val_acc",
        "test_loss",
        "test_acc",
        "batch_loss",
        "lr",
        "seconds",
    }
    for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
    c, _ = train_once(fashion_small, seed=8, eval_sets={"test": test}, validation_size=0.2)
    assert c.history["train_loss"] != a.history["train_loss"]


class RowRecorder(nn.Module):
    """Passes x[:, 1:] on and records column 0, which holds each row's index in the training set."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if training:
            self.seen.append(x[:, 0].astype(np.int64))
        return x[:, 1:]

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        return np.hstack([np.zeros((len(grad_out), 1), grad_out.dtype), grad_out]) if need_input_grad else None


@pytest.mark.parametrize("shuffle", [False, True])
def test_each_epoch_visits_every_example_once(fashion_small: Dataset, shuffle: bool) -> None:
    n = 130  # batch size 16: 8 full batches and one of 2
    X = np.hstack([np.arange(n, dtype=np.float32)[:, None], fashion_small.X[:n]])
    recorder = RowRecorder()
    model = nn.Sequential(recorder, *small_model())
    fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=0.1),
        (X, fashion_small.y[:n]),
        epochs=2,
        batch_size=16,
        shuffle=shuffle,
        seed=4,
        verbose=0,
    )
    assert [len(b) for b in recorder.seen] == [16] * 8 + [2] + [16] * 8 + [2]
    first, second = np.concatenate(recorder.seen[:9]), np.concatenate(recorder.seen[9:])
    np.testing.assert_array_equal(np.sort(first), np.arange(n))
    np.testing.assert_array_equal(np.sort(second), np.arange(n))
    if shuffle:
        assert not np.array_equal(first, np.arange(n)) and not np.array_equal(first, second)
    else:
        np.testing.assert_array_equal(first, np.arange(n))
        np.testing.assert_array_equal(second, np.arange(n))


def test_no_shuffle_equals_a_manual_loop_in_file_order(fashion_small: Dataset) -> None:
    X, y = fashion_small.X, fashion_small.y
    model = small_model()
    manual = copy.deepcopy(model)
    loss = nn.SoftmaxCrossEntropy()
    history = fit(
        model, loss, SGD(model.parameters(), lr=0.05), fashion_small, epochs=2, batch_size=32, shuffle=False, verbose=0
    )

    manual_loss, opt = nn.SoftmaxCrossEntropy(), SGD(manual.parameters(), lr=0.05)
    batch_means = []
    for _ in range(2):
        losses = []
        for start in range(0, len(X), 32):  # 600 rows: 18 batches of 32 and one of 24
            value = manual_loss.forward(manual.forward(X[start : start + 32], training=True), y[start : start + 32])
            manual.backward(manual_loss.backward())
            opt.step()
            losses.append(value)
        batch_means.append(np.mean(losses))
    for (name, p), q in zip(model.named_parameters(), manual.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value, err_msg=name)
    np.testing.assert_allclose(history.history["batch_loss"], batch_means, rtol=1e-12)


def test_train_loss_is_recomputed_on_the_whole_training_set(fashion_small: Dataset) -> None:
    model = small_model()
    loss = nn.SoftmaxCrossEntropy()
    after_each_epoch = []
    measure = LambdaCallback(
        on_epoch_end=lambda state, epoch, logs: after_each_epoch.append(evaluate(state.model, loss, fashion_small))
    )
    history = fit(
        model,
        loss,
        SGD(model.parameters(), lr=0.5),
        fashion_small,
        epochs=3,
        batch_size=10,
        shuffle=False,
        verbose=0,
        callbacks=[measure],
    )
    assert history.history["train_loss"] == [m["loss"] for m in after_each_epoch]
    assert history.history["train_acc"] == [m["accuracy"] for m in after_each_epoch]
    # the running average over the epoch's batches is a different number, kept separately
    for whole, running in zip(history.history["train_loss"], history.history["batch_loss"], strict=True):
        assert abs(whole - running) > 1e-3


def test_evaluate_is_independent_of_its_batch_size(fashion_small: Dataset) -> None:
    model = nn.mlp([784, 32, 10], "relu", seed=3)
    loss = nn.SoftmaxCrossEntropy()
    X, y = fashion_small.X, fashion_small.y
    # plain NumPy in float64: mean cross-entropy and accuracy of the model's logits
    W1, b1, W2, b2 = (p.value.astype(np.float64) for p in model.parameters())
    logits = np.maximum(X @ W1 + b1, 0) @ W2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected_loss = -log_p[np.arange(len(y)), y].mean()
    expected_acc = np.mean(logits.argmax(axis=1) == y)
    for batch_size in (1, 7, 64, 599, 600, 5000):
        m = evaluate(model, loss, X, y, batch_size=batch_size)
        assert m["loss"] == pytest.approx(expected_loss, rel=1e-5), batch_size
        assert m["accuracy"] == expected_acc and m["n"] == 600
    assert evaluate(model, loss, fashion_small) == evaluate(model, loss, (X, y))


def test_validation_size_holds_out_rows_deterministically(fashion_small: Dataset) -> None:
    model = small_model()
    loss = nn.SoftmaxCrossEntropy()
    history = fit(
        model,
        loss,
        SGD(model.parameters(), lr=0.1),
        fashion_small,
        epochs=1,
        batch_size=50,
        validation_size=0.25,
        seed=9,
        verbose=0,
    )
    tr, va = train_validation_indices(600, 0.25, seed=9)
    assert history.params["train_size"] == 450
    val = evaluate(model, loss, fashion_small.X[va], fashion_small.y[va])
    train = evaluate(model, loss, fashion_small.X[tr], fashion_small.y[tr])
    assert history.history["val_loss"] == [val["loss"]] and history.history["val_acc"] == [val["accuracy"]]
    assert history.history["train_loss"] == [train["loss"]]
    with pytest.raises(ValueError, match="validation_size and an eval set named 'val' cannot both be given"):
        fit(
            model,
            loss,
            SGD(model.parameters(), lr=0.1),
            fashion_small,
            epochs=1,
            validation_size=0.25,
            eval_sets={"val": fashion_small},
            verbose=0,
        )
    again = small_model()  # the old name of the keyword still works, with a DeprecationWarning
    with pytest.warns(DeprecationWarning, match=r"fit\(validation_split=...\) is now fit\(validation_size=...\)"):
        old = fit(
            again,
            loss,
            SGD(again.parameters(), lr=0.1),
            fashion_small,
            epochs=1,
            batch_size=50,
            validation_split=0.25,
            seed=9,
            verbose=0,
        )
    assert old.history["val_loss"] == history.history["val_loss"]


def test_regularised_objective_and_unregularised_loss_are_both_reported(fashion_small: Dataset) -> None:
    model = small_model()
    loss = nn.SoftmaxCrossEntropy()
    l2 = nn.L2(1e-3)
    history = fit(
        model, loss, SGD(model.parameters(), lr=0.1), fashion_small, epochs=2, batch_size=50, regularizer=l2, verbose=0
    )
    penalty = l2.penalty(model.parameters())
    assert history.history["penalty"][-1] == pytest.approx(penalty, rel=1e-12)
    assert history.history["train_loss"][-1] == evaluate(model, loss, fashion_small)["loss"]
    assert history.history["train_objective"][-1] == pytest.approx(history.history["train_loss"][-1] + penalty)


def test_schedule_sets_the_rate_of_each_epoch(fashion_small: Dataset) -> None:
    model = small_model()
    opt = SGD(model.parameters(), lr=0.4, schedule=StepDecay(0.5))
    history = fit(model, nn.SoftmaxCrossEntropy(), opt, fashion_small.take(100), epochs=3, batch_size=50, verbose=0)
    assert history.history["lr"] == [0.4, 0.2, 0.1]


def test_batch_size_one_and_adam(fashion_small: Dataset) -> None:
    data = fashion_small.take(200)
    model = small_model()
    before = evaluate(model, nn.SoftmaxCrossEntropy(), data)["loss"]
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        Adam(model.parameters(), lr=1e-3),
        data,
        epochs=1,
        batch_size=1,
        shuffle=False,
        verbose=0,
    )
    assert history.history["train_loss"][0] < 0.7 * before  # 200 single-example Adam steps learn something


def test_divergence_stops_with_a_message_without_warnings(
    fashion_small: Dataset, capsys: pytest.CaptureFixture[str]
) -> None:
    model = small_model(activation="relu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(
            model,
            nn.SoftmaxCrossEntropy(),
            SGD(model.parameters(), lr=1e4),
            fashion_small,
            epochs=5,
            batch_size=10,
            verbose=2,
        )
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []
    assert history.diverged and len(history) == 1
    assert history.stop_reason.startswith("Training diverged: train_loss grew to")
    assert "learning rate 10000" in history.stop_reason
    assert "Training diverged" in capsys.readouterr().out


def test_nan_or_infinite_loss_is_divergence_too(fashion_small: Dataset) -> None:
    # a linear-ish model with squared error and a huge step: the error grows geometrically until it overflows
    model = small_model(activation="relu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(
            model,
            nn.MSE(),
            SGD(model.parameters(), lr=10.0),
            fashion_small,
            epochs=5,
            batch_size=10,
            verbose=0,
            callbacks=[TerminateOnDivergence(factor=None)],
        )
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []
    assert history.diverged and len(history) == 1
    assert "the loss became NaN or infinite at epoch 1, batch" in history.stop_reason
    assert not math.isfinite(history.history["train_loss"][0])


def test_history_serialises(fashion_small: Dataset) -> None:
    history, _ = train_once(fashion_small.take(100), seed=0, validation_size=0.2)
    again = History.from_dict(json.loads(history.to_json()))
    assert again.history == history.history and again.records == history.records
    header = history.to_csv().splitlines()[0].split(",")
    assert header[:3] == ["epoch", "train_loss", "train_acc"] and len(history.to_csv().splitlines()) == 4
    epoch, best = history.best("val_loss")
    assert best == min(history.history["val_loss"]) and history.records[epoch - 1]["val_loss"] == best
    assert history.best("val_acc")[1] == max(history.history["val_acc"])
    with pytest.raises(KeyError, match="History has no metric 'test_loss'"):
        history.best("test_loss")


def test_history_epochs_is_a_deprecated_alias_of_records() -> None:
    history = History.from_dict({"epochs": [{"epoch": 1, "train_loss": 0.5}]})  # a metrics.json's key
    assert history.records == [{"epoch": 1, "train_loss": 0.5}] and history.history == {"train_loss": [0.5]}
    with pytest.warns(DeprecationWarning, match=r"History\.epochs is now History\.records"):
        assert history.epochs is history.records


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"epochs": 0}, ValueError, "epochs must be >= 1; got 0"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1; got 0"),
        ({"engine": "gpu"}, ValueError, "engine: expected 'auto', 'fast', 'numpy' or 'torch'; got 'gpu'"),
        ({"eval_sets": {"train": None}}, ValueError, "eval set name 'train' is reserved"),
    ],
)
def test_bad_settings_are_rejected(fashion_small: Dataset, kwargs: dict, error: type, message: str) -> None:
    model = small_model()
    settings = {"epochs": 1, "verbose": 0, **kwargs}
    with pytest.raises(error, match=message):
        fit(model, nn.SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1), fashion_small, **settings)


def test_bad_training_data_is_rejected(fashion_small: Dataset) -> None:
    model = small_model()
    opt = SGD(model.parameters(), lr=0.1)
    loss = nn.SoftmaxCrossEntropy()
    X, y = fashion_small.X[:20], fashion_small.y[:20]
    with pytest.raises(ValueError, match=r"training labels must be in \[0, 9\] for a model with 10 outputs"):
        fit(model, loss, opt, (X, y + 5), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="training set has 20 rows in X but 19 targets in y"):
        fit(model, loss, opt, (X, y[:19]), epochs=1, verbose=0)
    bad = X.copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="training X contains NaN or infinite values"):
        fit(model, loss, opt, (bad, y), epochs=1, verbose=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_check_of_training_data_catches_every_non_finite_entry(dtype: type) -> None:
    from backproplab.train.fit import _all_finite

    X = np.zeros((7, 4), dtype=dtype)
    assert _all_finite(X)
    for bad in (np.nan, np.inf, -np.inf):
        for r, c in ((0, 0), (6, 3), (3, 1)):
            Y = X.copy()
            Y[r, c] = bad
            assert not _all_finite(Y) and not _all_finite(Y.T)
    Y = X.copy()
    Y[1, 2], Y[4, 2] = np.inf, -np.inf  # the column sum is NaN
    assert not _all_finite(Y)
    huge = np.finfo(dtype).max
    Y = X.copy()
    Y[:, 1] = huge  # finite, but the column sums overflow
    assert _all_finite(Y)
    Y[5, 3] = np.nan
    assert not _all_finite(Y)
