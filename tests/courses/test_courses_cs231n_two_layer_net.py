"""cs231n's TwoLayerNet through backproplab: the course's toy numbers, recomputed here by plain NumPy.

The toy set-up is the notebook's: ``np.random.seed(0)`` then ``TwoLayerNet(4, 10, 3, std=1e-1)``;
``np.random.seed(1)`` then ``X = 10 * randn(5, 4)``, ``y = [0, 1, 2, 2, 1]``. Every expected value below is
computed in this file by a straightforward NumPy two-layer net (no backproplab code); the course's published
values are then checked against those recomputations.
"""
# The course draws from NumPy's global generator; so do these tests, on purpose.
# ruff: noqa: NPY002

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backproplab.courses.cs231n import TwoLayerNet
from backproplab.errors import ShapeError

TOY_LABELS = np.array([0, 1, 2, 2, 1])
# Published in the cs231n / HLCV notebook (checked against the plain recomputation below, never used alone).
PUBLISHED_SCORES = np.array(
    [
        [-0.81233741, -1.27654624, -0.70335995],
        [-0.17129677, -1.18803311, -0.47310444],
        [-0.51590475, -1.01354314, -0.8504215],
        [-0.15419291, -0.48629638, -0.52901952],
        [-0.00618733, -0.12435261, -0.15226949],
    ]
)
PUBLISHED_LOSS = 1.30378789133
PUBLISHED_FINAL_TOY_LOSS = 0.01715  # SPEC B


pytestmark = pytest.mark.usefixtures("restore_global_numpy_rng")


# -- a plain NumPy two-layer net, written out here ----------------------------------------------------------
def plain_weights(seed: int, d: int, h: int, c: int, std: float) -> dict[str, np.ndarray]:
    np.random.seed(seed)
    return {"W1": std * np.random.randn(d, h), "b1": np.zeros(h), "W2": std * np.random.randn(h, c), "b2": np.zeros(c)}


def plain_loss(p: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray | None, reg: float) -> Any:
    hidden = np.maximum(0, X.dot(p["W1"]) + p["b1"])
    scores = hidden.dot(p["W2"]) + p["b2"]
    if y is None:
        return scores
    n = X.shape[0]
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(n), y]).mean() + reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    dscores /= n
    grads = {"W2": hidden.T.dot(dscores) + 2 * reg * p["W2"], "b2": dscores.sum(axis=0)}
    dhidden = dscores.dot(p["W2"].T) * (hidden > 0)
    grads["W1"] = X.T.dot(dhidden) + 2 * reg * p["W1"]
    grads["b1"] = dhidden.sum(axis=0)
    return loss, grads


def plain_train(
    p: dict[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    learning_rate: float,
    learning_rate_decay: float,
    reg: float,
    num_iters: int,
    batch_size: int,
) -> dict[str, list[float]]:
    """The course's training loop: batches by np.random.choice (with replacement), decay at epoch ends."""
    num_train = X.shape[0]
    iterations_per_epoch = max(num_train / batch_size, 1)
    history: dict[str, list[float]] = {"loss_history": [], "train_acc_history": [], "val_acc_history": []}
    for it in range(num_iters):
        idx = np.random.choice(num_train, batch_size, replace=True)
        loss, grads = plain_loss(p, X[idx], y[idx], reg)
        history["loss_history"].append(loss)
        for name in p:
            p[name] -= learning_rate * grads[name]
        if it % iterations_per_epoch == 0:
            predict = lambda A: np.argmax(plain_loss(p, A, None, 0.0), axis=1)  # noqa: E731
            history["train_acc_history"].append(np.mean(predict(X[idx]) == y[idx]))
            history["val_acc_history"].append(np.mean(predict(X_val) == y_val))
            learning_rate *= learning_rate_decay
    return history


def numerical_gradient(f: Any, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        plus = f()
        x[ix] = old - h
        minus = f()
        x[ix] = old
        grad[ix] = (plus - minus) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


# -- the toy set-up, as the notebook makes it -----------------------------------------------------------------
def toy_data() -> tuple[np.ndarray, np.ndarray]:
    np.random.seed(1)
    return 10 * np.random.randn(5, 4), TOY_LABELS.copy()


def toy_net() -> TwoLayerNet:
    np.random.seed(0)
    return TwoLayerNet(4, 10, 3, std=1e-1)


def test_params_are_the_courses_draws_from_the_global_generator() -> None:
    net = toy_net()
    expected = plain_weights(0, 4, 10, 3, 0.1)
    assert list(net.params) == ["W1", "b1", "W2", "b2"]
    for name in expected:
        assert net.params[name].dtype == np.float64
        np.testing.assert_array_equal(net.params[name], expected[name])


def test_toy_scores_equal_plain_numpy_and_the_published_scores() -> None:
    net = toy_net()
    X, _ = toy_data()
    scores = net.loss(X)
    plain = plain_loss(plain_weights(0, 4, 10, 3, 0.1), X, None, 0.0)
    assert scores.shape == (5, 3)
    np.testing.assert_allclose(scores, plain, rtol=1e-14, atol=0)
    assert np.max(np.abs(plain - PUBLISHED_SCORES)) < 1e-7  # the notebook prints 8 decimals


def test_toy_loss_at_reg_005_equals_plain_numpy_and_the_published_loss() -> None:
    net = toy_net()
    X, y = toy_data()
    loss, _ = net.loss(X, y, reg=0.05)
    plain, _ = plain_loss(plain_weights(0, 4, 10, 3, 0.1), X, y, 0.05)
    assert abs(loss - plain) < 1e-13
    assert abs(plain - PUBLISHED_LOSS) < 1e-11  # published to 11 decimals


@pytest.mark.parametrize("reg", [0.0, 0.05])
def test_toy_gradients_match_numerical_gradients_to_1e_8(reg: float) -> None:
    net = toy_net()
    X, y = toy_data()
    _, grads = net.loss(X, y, reg=reg)
    _, plain = plain_loss(plain_weights(0, 4, 10, 3, 0.1), X, y, reg)
    for name in ("W1", "b1", "W2", "b2"):
        assert grads[name].shape == net.params[name].shape
        numeric = numerical_gradient(lambda: net.loss(X, y, reg=reg)[0], net.params[name])
        assert rel_error(numeric, grads[name]) < 1e-8, name
        np.testing.assert_allclose(grads[name], plain[name], rtol=1e-12, atol=1e-15)


def test_grads_are_fresh_arrays_not_views_of_the_modules_buffers() -> None:
    net = toy_net()
    X, y = toy_data()
    _, first = net.loss(X, y, reg=0.05)
    kept = {k: v.copy() for k, v in first.items()}
    net.loss(X[:2], y[:2], reg=0.0)
    for name in kept:
        np.testing.assert_array_equal(first[name], kept[name])


def test_final_toy_training_loss_equals_plain_numpy_training() -> None:
    X, y = toy_data()
    net = toy_net()  # a fresh net built after the data, as in the notebook
    stats = net.train(X, y, X, y, learning_rate=1e-1, reg=5e-6, num_iters=100, verbose=False)
    p = plain_weights(0, 4, 10, 3, 0.1)  # leaves the global generator where toy_net() does
    plain = plain_train(
        p, X, y, X, y, learning_rate=1e-1, learning_rate_decay=0.95, reg=5e-6, num_iters=100, batch_size=200
    )
    assert len(stats["loss_history"]) == 100
    # lr decays per epoch (one iteration here): the library's StepDecay computes 0.95**e, the course multiplies
    # e times, so the two agree to rounding, not bit for bit
    np.testing.assert_allclose(stats["loss_history"], plain["loss_history"], rtol=1e-10)
    assert stats["train_acc_history"] == plain["train_acc_history"]
    assert stats["val_acc_history"] == plain["val_acc_history"]
    final = stats["loss_history"][-1]
    assert final == pytest.approx(0.017149607938732, abs=1e-12)
    assert abs(plain["loss_history"][-1] - PUBLISHED_FINAL_TOY_LOSS) < 5e-6  # SPEC B: 0.01715


@pytest.mark.parametrize("n, batch_size", [(1000, 200), (1100, 200), (90, 40)])
def test_train_epochs_and_decay_follow_the_course_loop(n: int, batch_size: int) -> None:
    """Epoch ends at it % max(N / batch, 1) == 0 (also it = 0; fractional epochs for 1100 / 200 = 5.5)."""
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 6))
    y = rng.integers(0, 4, n)
    X_val, y_val = X[:50], y[:50]
    np.random.seed(5)
    net = TwoLayerNet(6, 8, 4, std=0.5)
    stats = net.train(
        X, y, X_val, y_val, learning_rate=0.3, learning_rate_decay=0.5, reg=1e-3, num_iters=23, batch_size=batch_size
    )
    weights = plain_weights(5, 6, 8, 4, 0.5)
    plain = plain_train(weights, X, y, X_val, y_val, 0.3, 0.5, 1e-3, 23, batch_size)
    expected_epochs = sum(1 for it in range(23) if it % max(n / batch_size, 1) == 0)
    assert len(stats["train_acc_history"]) == len(stats["val_acc_history"]) == expected_epochs
    np.testing.assert_allclose(stats["loss_history"], plain["loss_history"], rtol=1e-10)
    assert stats["val_acc_history"] == plain["val_acc_history"]
    for name in weights:
        np.testing.assert_allclose(net.params[name], weights[name], rtol=1e-10, atol=1e-14)


def test_predict_is_the_argmax_of_the_scores() -> None:
    net = toy_net()
    X, _ = toy_data()
    np.testing.assert_array_equal(
        net.predict(X), np.argmax(plain_loss(plain_weights(0, 4, 10, 3, 0.1), X, None, 0.0), axis=1)
    )


def test_params_entries_are_the_arrays_the_net_computes_with() -> None:
    net = toy_net()
    X, _ = toy_data()
    net.params["W2"][:] = 0.0  # in place, as a numerical gradient check does
    np.testing.assert_array_equal(net.loss(X), np.zeros((5, 3)))
    net.params["b2"] = np.array([1.0, 2.0, 3.0])  # replaced
    np.testing.assert_array_equal(net.loss(X), np.tile([1.0, 2.0, 3.0], (5, 1)))
    with pytest.raises(ShapeError, match=r"params\['W1'\] must have shape \(4, 10\); got \(10, 4\)"):
        net.params["W1"] = np.zeros((10, 4))
    with pytest.raises(KeyError, match="W3"):
        net.params["W3"] = np.zeros(3)
    with pytest.raises(TypeError, match="cannot be deleted"):
        del net.params["W1"]


def test_train_rejects_bad_sizes_with_the_value_given() -> None:
    net = toy_net()
    X, y = toy_data()
    with pytest.raises(ValueError, match="batch_size must be >= 1.*batch_size=0"):
        net.train(X, y, X, y, batch_size=0)
    with pytest.raises(ShapeError, match="as many labels as examples"):
        net.train(X, y[:3], X, y)
