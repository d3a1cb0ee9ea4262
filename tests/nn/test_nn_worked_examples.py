"""The courses' small networks, built from backproplab modules, against plain NumPy written out here.

Expected values are computed in the test from the course's formulas, never copied from a course text.
"""

from __future__ import annotations

import numpy as np
import pytest

from backproplab import nn
from backproplab.check import gradcheck
from backproplab.optim import SGD


def test_hw3_6_4_3_network_with_folded_biases() -> None:
    """SPEC A written part: 6-4-3 sigmoid/softmax net, biases folded in as column 0 of alpha and beta."""
    alpha_star = np.array(
        [[2, 1, -1, -1, 0, -2], [0, 1, 0, -1, 1, 3], [-1, 2, 1, 3, 1, -1], [1, 3, 4, 2, -1, 2]], dtype=np.float64
    )
    beta_star = np.array([[2, -2, 2, 1], [3, -1, 1, 2], [0, -1, 0, 1]], dtype=np.float64)
    alpha = np.hstack([np.ones((4, 1)), alpha_star])  # D x (M+1), bias weights all 1
    beta = np.hstack([np.ones((3, 1)), beta_star])  # K x (D+1)
    x = np.array([1, 0, 1, 0, 1, 0], dtype=np.float64)
    label = 1  # "class 2 of 3", 0-based
    y = np.eye(3)[label]

    # the course's column-vector formulas
    x1 = np.r_[1.0, x]
    a = alpha @ x1
    z = 1 / (1 + np.exp(-a))
    z1 = np.r_[1.0, z]
    b = beta @ z1
    y_hat = np.exp(b) / np.exp(b).sum()
    loss = -np.log(y_hat[label])
    dl_db = y_hat - y
    dl_dbeta = np.outer(dl_db, z1)
    dl_dz = beta_star.T @ dl_db
    dl_da = dl_dz * z * (1 - z)
    dl_dalpha = np.outer(dl_da, x1)

    # backproplab: Dense weights are (in, out), i.e. the transposes of alpha* / beta*, biases separate
    model = nn.Sequential(
        nn.Dense.from_arrays(alpha_star.T, alpha[:, 0], dtype=np.float64),
        nn.Sigmoid(),
        nn.Dense.from_arrays(beta_star.T, beta[:, 0], dtype=np.float64),
    )
    ce = nn.SoftmaxCrossEntropy()
    logits = model.forward(x[None, :], training=True)
    value = ce.forward(logits, np.array([label]))
    model.backward(ce.backward())
    np.testing.assert_allclose(logits[0], b, rtol=1e-14)
    np.testing.assert_allclose(ce.link(logits)[0], y_hat, rtol=1e-14)
    assert value == pytest.approx(loss, rel=1e-14)
    first, second = model[0], model[2]
    np.testing.assert_allclose(second.bias.grad, dl_dbeta[:, 0], rtol=1e-13)
    np.testing.assert_allclose(second.weight.grad, dl_dbeta[:, 1:].T, rtol=1e-13)
    np.testing.assert_allclose(first.bias.grad, dl_dalpha[:, 0], rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(first.weight.grad, dl_dalpha[:, 1:].T, rtol=1e-13, atol=1e-16)

    # one SGD step with learning rate 1
    SGD(model.parameters(), lr=1.0).step()
    new_alpha, new_beta = alpha - dl_dalpha, beta - dl_dbeta
    np.testing.assert_allclose(first.weight.value, new_alpha[:, 1:].T, rtol=1e-13)
    np.testing.assert_allclose(first.bias.value, new_alpha[:, 0], rtol=1e-13)
    np.testing.assert_allclose(second.weight.value, new_beta[:, 1:].T, rtol=1e-13)
    np.testing.assert_allclose(second.bias.value, new_beta[:, 0], rtol=1e-13)


def test_cs231n_toy_two_layer_net() -> None:
    """SPEC B toy check: 4 -> 10 ReLU -> 3, 5 samples, std 0.1 * randn weights, zero biases, L2 reg * ||W||^2."""
    rng = np.random.default_rng(0)
    X = 10 * rng.standard_normal((5, 4))
    y = np.array([0, 1, 2, 2, 1])
    reg = 0.05
    model = nn.mlp([4, 10, 3], "relu", init="normal", init_std=0.1, seed=1, dtype=np.float64)
    W1, b1, W2, b2 = (p.value.copy() for p in model.parameters())
    assert not b1.any() and not b2.any() and W1.std() == pytest.approx(0.1, rel=0.3)

    # straightforward NumPy, vectorised as the course asks
    h_pre = X @ W1 + b1
    h = np.maximum(h_pre, 0)
    scores = h @ W2 + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(5), y]).mean() + reg * ((W1**2).sum() + (W2**2).sum())
    dscores = probs.copy()
    dscores[np.arange(5), y] -= 1
    dscores /= 5
    dW2 = h.T @ dscores + 2 * reg * W2
    db2 = dscores.sum(axis=0)
    dh = dscores @ W2.T * (h_pre > 0)
    dW1 = X.T @ dh + 2 * reg * W1
    db1 = dh.sum(axis=0)

    ce, l2 = nn.SoftmaxCrossEntropy(), nn.L2(reg)
    out = model.forward(X, training=True)
    value = ce.forward(out, y) + l2.penalty(model.parameters())
    model.backward(ce.backward())
    l2.add_gradient(model.parameters())
    np.testing.assert_allclose(out, scores, rtol=1e-14)
    assert value == pytest.approx(loss, rel=1e-14)
    for p, expected in zip(model.parameters(), (dW1, db1, dW2, db2), strict=True):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-12, atol=1e-15)

    # The course's bound for this check is 1e-8. Inputs ~10 and a loss with a penalty make the 2-point rule's
    # rounding error too large for it (7e-7 here), so the 4th-order rule with eps 1e-4: it moves a hidden
    # pre-activation by at most 2 eps max|x| (2 eps max|W| for the input), which must not cross ReLU's kink.
    eps = 1e-4
    assert np.abs(h_pre).min() > 2 * eps * max(np.abs(X).max(), np.abs(W1).max())
    report = gradcheck(model, X, y, regularizer=l2, eps=eps, order=4)
    assert report.max_error < 1e-8, str(report)
