"""The one problem every peer solves: Fashion-MNIST 784-256-10 sigmoid, softmax-CE, plain SGD, one epoch.

Parameters are passed around in backproplab's Dense layout: ``W1 (784, 256)``, ``b1 (256,)``, ``W2 (256, 10)``,
``b2 (10,)``, float32. Every peer starts from the same Glorot-uniform draw (zero biases) and trains on the same
rows in file order, so after an epoch all peers should hold (nearly) the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIZES = (784, 256, 10)
LR = 0.01

Params = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Problem:
    X: np.ndarray  # (N, 784) float32 in [0, 1]
    y: np.ndarray  # (N,) int64 labels 0..9

    def head(self, n: int) -> Problem:
        return Problem(self.X[:n], self.y[:n])

    def __len__(self) -> int:
        return len(self.X)


def load_fashion(samples: int) -> Problem:
    """The first ``samples`` rows of the Fashion-MNIST training set, scaled to [0, 1], float32."""
    from backproplab.data import load_dataset

    data = load_dataset("fashion-mnist", split="train", scale="unit", limit=samples, dtype=np.float32)
    X = np.ascontiguousarray(data.X, dtype=np.float32)
    y = np.ascontiguousarray(data.y, dtype=np.int64)
    if len(X) < samples:
        raise ValueError(f"Fashion-MNIST train has {len(X)} rows; {samples} were asked for")
    return Problem(X, y)


def glorot_params(seed: int = 0) -> Params:
    """W ~ U(-u, u), u = sqrt(6 / (fan_in + fan_out)); b = 0 (drawn here, independently of backproplab)."""
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:], strict=True):
        u = np.sqrt(6.0 / (fan_in + fan_out))
        out.append(rng.uniform(-u, u, size=(fan_in, fan_out)).astype(np.float32))
        out.append(np.zeros(fan_out, dtype=np.float32))
    W1, b1, W2, b2 = out
    return W1, b1, W2, b2


def copy_params(params: Params) -> Params:
    W1, b1, W2, b2 = (np.array(p, dtype=np.float32, copy=True) for p in params)
    return W1, b1, W2, b2


def loss_and_accuracy(params: Params, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean softmax cross-entropy and accuracy of the network, computed in float64 (the sanity check)."""
    W1, b1, W2, b2 = (np.asarray(p, dtype=np.float64) for p in params)
    with np.errstate(over="ignore"):
        h = 1.0 / (1.0 + np.exp(-(X.astype(np.float64) @ W1 + b1)))
    z = h @ W2 + b2
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = float(-log_p[np.arange(len(y)), y].mean())
    return loss, float((z.argmax(axis=1) == y).mean())


def max_abs_diff(a: Params, b: Params) -> float:
    return float(
        max(np.max(np.abs(np.asarray(p, np.float64) - np.asarray(q, np.float64))) for p, q in zip(a, b, strict=True))
    )
