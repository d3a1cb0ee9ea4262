"""Numerical stability at extreme inputs: exact limits, finite losses and gradients, no floating-point warnings."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab import nn

FLOATS = [np.float32, np.float64]


@pytest.fixture(autouse=True)
def floating_point_errors_raise():
    """Any overflow, invalid operation or division by zero inside these tests is an error, not a warning.

    Underflow (e^-1e4 -> 0) is the intended, exact outcome of the stable formulas and stays allowed.
    """
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        yield


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_cross_entropy_finite_for_huge_logits(dtype: type) -> None:
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [1e4, 1e4, -1e4]], dtype=dtype)
    loss = nn.SoftmaxCrossEntropy()
    # row 0 predicts class 0 with probability 1 - O(e^-1e4); label 1 costs exactly 2e4 (log-sum-exp = 1e4);
    # row 2 splits evenly between classes 0 and 1
    assert loss.forward(logits, np.array([0, 0, 1])) == pytest.approx((0 + 2e4 + np.log(2)) / 3, rel=1e-6)
    grad = loss.backward()
    assert np.isfinite(grad).all()
    expected = np.array([[0, 0, 0], [-1, 1, 0], [0.5, -0.5, 0]]) / 3
    np.testing.assert_allclose(grad, expected, atol=1e-7)


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_cross_entropy_huge_logits_with_probability_rows(dtype: type) -> None:
    logits = np.array([[1e4, -1e4], [-1e4, 1e4]], dtype=dtype)
    rows = np.array([[0.25, 0.75], [1.0, 0.0]], dtype=dtype)
    loss = nn.SoftmaxCrossEntropy()
    assert loss.forward(logits, rows) == pytest.approx((0.75 * 2e4 + 2e4) / 2, rel=1e-6)
    assert np.isfinite(loss.backward()).all()


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_layer_huge_logits(dtype: type) -> None:
    s = nn.Softmax().forward(np.array([[1e4, -1e4, 0.0]], dtype=dtype))
    np.testing.assert_array_equal(s, [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_exact_limits_without_overflow(dtype: type) -> None:
    x = np.array([[-1000.0, -100.0, 0.0, 100.0, 1000.0]], dtype=dtype)
    out = nn.Sigmoid().forward(x, training=True)
    assert out.dtype == dtype
    assert out[0, 0] == 0.0 and out[0, -1] == 1.0 and out[0, 2] == 0.5
    assert 0.0 <= out[0, 1] < 1e-40 and out[0, 3] == 1.0
    np.testing.assert_array_equal(nn.sigmoid(x), out)


def test_sigmoid_matches_the_definition_where_it_is_safe() -> None:
    x = np.linspace(-30, 30, 121)
    np.testing.assert_allclose(nn.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-15)


@pytest.mark.parametrize("dtype", FLOATS)
def test_elu_no_overflow_for_large_positive_inputs(dtype: type) -> None:
    x = np.array([[1e4, 1e30, 800.0, -1e4, -800.0]], dtype=dtype)
    elu = nn.ELU(0.9)
    out = elu.forward(x, training=True)
    np.testing.assert_array_equal(out[0, :3], x[0, :3])
    assert out[0, 3] == pytest.approx(-0.9) and out[0, 4] == pytest.approx(-0.9)
    grad = elu.backward(np.ones_like(x))
    np.testing.assert_array_equal(grad[0, :3], 1.0)
    assert np.abs(grad[0, 3:]).max() < 1e-30  # alpha * e^x underflows to 0 cleanly


def test_elu_is_exact_near_zero() -> None:
    # expm1, not exp - 1: the relative error stays at machine precision for tiny negative x
    x = np.array([[-1e-12, -1e-8]])
    np.testing.assert_allclose(nn.ELU(1.0).forward(x), np.expm1(x), rtol=1e-15)


@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_cross_entropy_finite_for_huge_logits(dtype: type) -> None:
    z = np.array([[1e4, -1e4, 1e4, -1e4]], dtype=dtype)
    t = np.array([[1.0, 0.0, 0.0, 1.0]], dtype=dtype)
    loss = nn.BinaryCrossEntropy()
    assert loss.forward(z, t) == pytest.approx(2e4, rel=1e-6)
    np.testing.assert_allclose(loss.backward(), [[0.0, 0.0, 1.0, -1.0]], atol=1e-7)


@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_finite_for_zero_probability(dtype: type) -> None:
    p = np.array([[1.0, 0.0], [0.5, 0.5]], dtype=dtype)
    loss = nn.CrossEntropy()
    value = loss.forward(p, np.array([1, 0]))
    assert np.isfinite(value) and value > 10  # log of the clip floor: large but finite
    assert np.isfinite(loss.backward()).all()


@pytest.mark.parametrize("dtype", FLOATS)
def test_tanh_saturates_cleanly(dtype: type) -> None:
    tanh = nn.Tanh()
    out = tanh.forward(np.array([[-1e4, 1e4]], dtype=dtype), training=True)
    np.testing.assert_array_equal(out, [[-1.0, 1.0]])
    np.testing.assert_array_equal(tanh.backward(np.ones((1, 2), dtype=dtype)), [[0.0, 0.0]])
