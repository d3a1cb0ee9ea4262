"""A plain NumPy two-layer net (the cs231n ``TwoLayerNet.loss``), written out as a reference for the modules.

    h      = max(0, X W1 + b1)                     (N, H)
    scores = h W2 + b2                             (N, C)
    p      = softmax(scores)                       (N, C)
    loss   = -mean_n log p[n, y_n] + reg * (sum W1^2 + sum W2^2)
    dS     = (p - onehot(y)) / N
    dW2    = h^T dS + 2 reg W2,   db2 = sum_n dS
    dh     = dS W2^T * [X W1 + b1 > 0]
    dW1    = X^T dh + 2 reg W1,   db1 = sum_n dh

Deliberately independent of `backproplab.nn`: no modules, no caches, float64 throughout.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def two_layer_net(
    X: Any, y: Any, W1: Any, b1: Any, W2: Any, b2: Any, reg: float = 0.0
) -> tuple[np.ndarray, float, dict[str, np.ndarray]]:
    """``(scores (N, C), loss, {"W1", "b1", "W2", "b2": gradients})`` of the net above."""
    X, W1, b1, W2, b2 = (np.asarray(a, dtype=np.float64) for a in (X, W1, b1, W2, b2))
    y = np.asarray(y, dtype=np.int64)
    n = X.shape[0]
    pre = X @ W1 + b1
    h = np.maximum(0.0, pre)
    scores = h @ W2 + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    p = exp / exp.sum(axis=1, keepdims=True)
    data_loss = -np.mean(np.log(p[np.arange(n), y]))
    loss = float(data_loss + reg * (np.sum(W1 * W1) + np.sum(W2 * W2)))
    d_scores = p.copy()
    d_scores[np.arange(n), y] -= 1.0
    d_scores /= n
    grads = {"W2": h.T @ d_scores + 2.0 * reg * W2, "b2": d_scores.sum(axis=0)}
    dh = (d_scores @ W2.T) * (pre > 0)
    grads["W1"] = X.T @ dh + 2.0 * reg * W1
    grads["b1"] = dh.sum(axis=0)
    return scores, loss, grads
