"""The lean NumPy engine: same numbers as the straightforward formulas, without the avoidable work."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab import nn
from backproplab.data import Dataset
from backproplab.errors import ShapeError
from backproplab.optim import SGD
from backproplab.train import fit


def test_backward_without_input_gradient_gives_the_same_parameter_gradients(rng: np.random.Generator) -> None:
    x = rng.standard_normal((6, 5)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0, 2])
    model = nn.mlp([5, 4, 3], "sigmoid", seed=1)
    loss = nn.SoftmaxCrossEntropy()
    loss.forward(model.forward(x, training=True), y)
    upstream = loss.backward()
    assert model.backward(upstream).shape == x.shape
    full = [p.grad.copy() for p in model.parameters()]
    for p in model.parameters():
        p.grad[...] = np.nan
    assert model.backward(upstream, need_input_grad=False) is None
    for p, g in zip(model.parameters(), full, strict=True):
        np.testing.assert_array_equal(p.grad, g)
    # every module takes the flag: a first activation returns None too, the layers after it still get gradients
    model2 = nn.Sequential(nn.Tanh(), nn.Dense(5, 3, rng=0))
    model2.forward(x, training=True)
    assert model2.backward(np.ones((6, 3), np.float32)).shape == x.shape
    dense_grad = model2[1].weight.grad.copy()
    model2[1].weight.grad[...] = np.nan
    assert model2.backward(np.ones((6, 3), np.float32), need_input_grad=False) is None
    np.testing.assert_array_equal(model2[1].weight.grad, dense_grad)


def test_in_place_sigmoid_and_log_softmax_equal_the_textbook_formulas(rng: np.random.Generator) -> None:
    for dtype in (np.float32, np.float64):
        z = (rng.standard_normal((50, 7)) * 30).astype(dtype)
        e = np.exp(-np.abs(z))
        np.testing.assert_array_equal(nn.sigmoid(z), np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))
        assert nn.sigmoid(z).dtype == dtype
        shifted = z - z.max(axis=1, keepdims=True)
        np.testing.assert_array_equal(
            nn.log_softmax(z, axis=1), shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        )
        s = nn.Sigmoid()
        out = s.forward(z, training=True)
        g = rng.standard_normal(z.shape).astype(dtype)
        np.testing.assert_array_equal(s.backward(g), g * out * (1.0 - out))


def test_sigmoid_equals_the_textbook_formula_on_special_values() -> None:
    """Signed zeros, infinities, NaN, subnormals and the underflow range, in both float dtypes."""
    for dtype in (np.float32, np.float64):
        z = np.array(
            [
                [
                    -0.0,
                    0.0,
                    np.inf,
                    -np.inf,
                    np.nan,
                    1e-42,
                    -1e-42,
                    5e-324,
                    -5e-324,
                    -88.0,
                    -104.0,
                    -746.0,
                    88.0,
                    746.0,
                    -1e-8,
                    1e-8,
                ]
            ],
            dtype=dtype,
        )
        with np.errstate(all="ignore"):
            e = np.exp(-np.abs(z))
            expected = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
            got = nn.sigmoid(z)
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == dtype and not np.shares_memory(got, z)


@pytest.mark.parametrize("label_dtype", [np.int64, np.int32, np.uint8])
def test_softmax_cross_entropy_with_labels_equals_one_hot_rows(rng: np.random.Generator, label_dtype: type) -> None:
    """Integer labels (the training loop's case) give the loss and gradient of their one-hot rows, and the
    float64 textbook values; bad labels are still refused."""
    z = (rng.standard_normal((9, 4)) * 5).astype(np.float32)
    labels = np.array([0, 3, 1, 1, 2, 0, 3, 2, 2], dtype=label_dtype)
    loss = nn.SoftmaxCrossEntropy()
    value, grad = loss.forward(z, labels), loss.backward()
    rows = nn.one_hot(labels.astype(np.int64), 4)
    assert value == pytest.approx(loss.forward(z, rows), rel=1e-6)
    np.testing.assert_allclose(grad, loss.backward(), rtol=1e-6, atol=1e-8)
    z64 = z.astype(np.float64)
    logp = z64 - np.log(np.exp(z64).sum(axis=1, keepdims=True))
    assert value == pytest.approx(-logp[np.arange(9), labels].mean(), rel=1e-6)
    np.testing.assert_allclose(grad, (np.exp(logp) - rows) / 9, atol=1e-7)
    assert isinstance(value, float) and grad.dtype == np.float32
    for bad in (np.array([0, 4, 1]), np.array([0, -1, 1])):
        with pytest.raises(ValueError, match=r"labels must be in \[0, 3\]"):
            loss.forward(z[:3], bad.astype(np.int64))
    with pytest.raises(ShapeError, match="9 outputs but 3 labels"):
        loss.forward(z, labels[:3])


def test_sgd_updates_parameters_in_place_with_the_textbook_rounding(rng: np.random.Generator) -> None:
    model = nn.mlp([5, 4, 3], "relu", seed=2)
    params = model.parameters()
    arrays = [p.value for p in params]
    for p in params:
        p.grad[...] = rng.standard_normal(p.shape).astype(np.float32)
    expected = [p.value - np.float32(0.3) * p.grad for p in params]
    SGD(params, lr=0.3).step()
    for p, a, e in zip(params, arrays, expected, strict=True):
        assert p.value is a and p.value.dtype == np.float32
        np.testing.assert_array_equal(p.value, e)


@pytest.mark.parametrize("shuffle", [True, False])
def test_mini_batch_epoch_equals_a_hand_written_numpy_loop(fashion_small: Dataset, shuffle: bool) -> None:
    """The engine's epoch (index gathering into a kept buffer, lean backward) against a plain loop."""
    X, y = fashion_small.X[:400], fashion_small.y[:400]
    model = nn.mlp([784, 32, 10], "sigmoid", seed=3)
    W1, b1, W2, b2 = [p.value.copy() for p in model.parameters()]
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        SGD(model.parameters(), lr=0.1),
        (X, y),
        epochs=2,
        batch_size=32,
        shuffle=shuffle,
        seed=5,
        verbose=0,
        engine="numpy",
    )
    order_rng = np.random.default_rng(5)
    for _ in range(2):
        order = order_rng.permutation(len(X)) if shuffle else np.arange(len(X))
        for s in range(0, len(X), 32):
            idx = order[s : s + 32]
            xb, yb, m = X[idx], y[idx], len(idx)
            h = 1.0 / (1.0 + np.exp(-(xb @ W1 + b1)))
            z = h @ W2 + b2
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(m), yb] -= 1.0
            p /= m
            dh = (p @ W2.T) * h * (1.0 - h)
            W2 -= np.float32(0.1) * (h.T @ p)
            b2 -= np.float32(0.1) * p.sum(axis=0)
            W1 -= np.float32(0.1) * (xb.T @ dh)
            b1 -= np.float32(0.1) * dh.sum(axis=0)
    for p, ref in zip(model.parameters(), (W1, b1, W2, b2), strict=True):
        assert p.value.dtype == np.float32
        np.testing.assert_allclose(p.value, ref, rtol=0, atol=1e-5)
    assert history.engine == "numpy" and len(history) == 2
