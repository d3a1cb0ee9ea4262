"""Properties that must hold for any input (hypothesis): the stable formulas stay finite and consistent."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backproplab import nn

finite = st.floats(-1e4, 1e4, allow_nan=False, width=64)
logit_arrays = st.tuples(st.integers(1, 6), st.integers(2, 5)).flatmap(
    lambda shape: arrays(np.float64, shape, elements=finite)
)


@settings(max_examples=60, deadline=None)
@given(logits=logit_arrays, data=st.data())
def test_softmax_cross_entropy_is_finite_and_its_gradient_rows_sum_to_zero(logits: np.ndarray, data) -> None:
    n, k = logits.shape
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    loss = nn.SoftmaxCrossEntropy()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(logits, labels)
        grad = loss.backward()
    assert np.isfinite(value) and value >= 0
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-12)  # softmax - one_hot sums to 1 - 1
    # the label's entry is the only negative one: (p_y - 1) / n <= 0, every other p_k / n >= 0
    assert (grad[np.arange(n), labels] <= 0).all()
    assert (np.delete(grad.reshape(-1), np.arange(n) * k + labels) >= 0).all()


@settings(max_examples=60, deadline=None)
@given(x=arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)), elements=finite))
def test_sigmoid_and_softmax_stay_in_range(x: np.ndarray) -> None:
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = nn.sigmoid(x)
        p = nn.softmax(x)
    assert ((s >= 0) & (s <= 1)).all()
    np.testing.assert_allclose(s + nn.sigmoid(-x), 1.0, rtol=1e-15)  # sigma(x) + sigma(-x) = 1
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)
    for row_x, row_p in zip(x, p, strict=True):  # order-preserving: a larger logit never gets less probability
        order = np.argsort(row_x, kind="stable")
        assert (np.diff(row_p[order]) >= 0).all()


@settings(max_examples=60, deadline=None)
@given(x=arrays(np.float64, (3, 4), elements=finite), alpha=st.floats(0.05, 2.0))
def test_elu_is_continuous_and_bounded_below(x: np.ndarray, alpha: float) -> None:
    elu = nn.ELU(alpha)
    with np.errstate(over="raise", invalid="raise"):
        out = elu.forward(x, training=True)
        grad = elu.backward(np.ones_like(x))
    assert (out >= -alpha).all() and (out[x > 0] == x[x > 0]).all()
    assert (grad[x > 0] == 1).all()
    assert ((grad[x <= 0] >= 0) & (grad[x <= 0] <= alpha)).all()  # alpha e^x; may underflow to 0
