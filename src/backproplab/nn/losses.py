"""Losses. ``forward(outputs, targets) -> float`` is the mean over the batch; ``backward()`` returns
dL/d(outputs), already divided by the batch size N (the only place in backproplab that divides by N).

Targets are integer class labels ``(N,)`` or one-hot / probability rows ``(N, K)`` shaped like the outputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._xp import namespace, xp_dtype
from ..errors import ShapeError
from .activations import sigmoid
from .softmax import log_softmax, softmax


def _check_outputs(loss: Loss, outputs: Any) -> None:
    if outputs.ndim != 2:
        raise ShapeError(f"{type(loss).__name__} expects outputs of shape (N, K); got {tuple(outputs.shape)}")


def _split_targets(loss: Loss, outputs: Any, targets: Any) -> tuple[Any, Any]:
    """``(labels, None)`` for integer class labels ``(N,)``, or ``(None, t)`` for a target matrix ``t`` ``(N, K)``
    (one-hot or probability rows; the ``t`` of the losses' formulas)."""
    n, k = outputs.shape
    if targets.ndim == 1:
        xp = namespace(targets)
        if not xp.isdtype(targets.dtype, "integral"):
            raise ValueError(
                f"{type(loss).__name__}: 1-D targets must be integer class labels; got dtype {targets.dtype}"
            )
        if targets.shape[0] != n:
            raise ShapeError(f"{type(loss).__name__}: {n} outputs but {targets.shape[0]} labels")
        lo, hi = (int(xp.min(targets)), int(xp.max(targets))) if n else (0, 0)
        if lo < 0 or hi >= k:
            raise ValueError(
                f"{type(loss).__name__}: labels must be in [0, {k - 1}] for {k} outputs; got values in [{lo}, {hi}]"
            )
        # int64 indices: torch reads uint8 or bool index arrays as masks
        return (targets if targets.dtype == xp.int64 else xp.astype(targets, xp.int64)), None
    if tuple(targets.shape) != (n, k):
        raise ShapeError(
            f"{type(loss).__name__}: targets must be labels (N,) or rows (N, K) = ({n}, {k}); "
            f"got {tuple(targets.shape)}"
        )
    return None, targets


def one_hot(labels: Any, num_classes: int, dtype: Any = np.float32) -> Any:
    """``(N,)`` integer labels -> ``(N, K)`` one-hot rows (``dtype`` on the labels' backend)."""
    xp = namespace(labels)
    classes = xp.arange(num_classes, device=labels.device)
    return xp.astype(labels[:, None] == classes[None, :], xp_dtype(xp, dtype))


class Loss:
    """Base class: ``forward`` caches what ``backward`` needs."""

    kind = "loss"

    def forward(self, outputs: Any, targets: Any) -> float:
        raise NotImplementedError

    def backward(self) -> Any:
        raise NotImplementedError

    def __call__(self, outputs: Any, targets: Any) -> float:
        return self.forward(outputs, targets)

    def link(self, outputs: Any) -> Any:
        """Map model outputs to predictions (probabilities for classification losses)."""
        return outputs

    def _cached(self) -> Any:
        if getattr(self, "_cache", None) is None:
            raise RuntimeError(f"{type(self).__name__}.backward() needs a forward() first")
        return self._cache

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by cross-entropy, fused. Takes logits z ``(N, K)``.

    L = -(1/N) sum_n sum_k t_nk log softmax(z_n)_k, with log softmax by log-sum-exp (finite for logits of
    +-1e4). dL/dz = (softmax(z) sum_k t_nk - t) / N, which is the familiar (softmax(z) - t) / N when each
    target row sums to 1 (one-hot or probabilities). With integer labels t is their one-hot encoding.
    """

    kind = "softmax_cross_entropy"

    def __init__(self) -> None:
        self._cache: Any = None

    def forward(self, outputs: Any, targets: Any) -> float:
        _check_outputs(self, outputs)
        labels, t = _split_targets(self, outputs, targets)
        xp = namespace(outputs)
        logp = log_softmax(outputs, axis=1)
        n = outputs.shape[0]
        # with labels: logp[picks] is each row's log-probability of its class
        picks = None if labels is None else (xp.arange(n, device=logp.device), labels)
        self._cache = (logp, picks, t)
        return float(-xp.sum(logp[picks] if picks is not None else t * logp) / n)

    def backward(self) -> Any:
        logp, picks, t = self._cached()
        xp = namespace(logp)
        n = logp.shape[0]
        p = xp.exp(logp)
        if picks is None:
            return (p * xp.sum(t, axis=1, keepdims=True) - t) / n
        p[picks] -= 1.0
        p /= n
        return p

    def link(self, outputs: Any) -> Any:
        return softmax(outputs, axis=1)


class CrossEntropy(Loss):
    """Cross-entropy of probabilities p ``(N, K)`` (e.g. from a `Softmax` layer).

    L = -(1/N) sum_n sum_k t_nk log p_nk; dL/dp = -t / (N p). Probabilities are clipped below at
    sqrt(tiny) of their dtype so that the loss and gradient stay finite for p = 0.
    """

    kind = "cross_entropy"

    def __init__(self) -> None:
        self._cache: Any = None

    def forward(self, outputs: Any, targets: Any) -> float:
        _check_outputs(self, outputs)
        labels, t = _split_targets(self, outputs, targets)
        xp = namespace(outputs)
        floor = float(xp.finfo(outputs.dtype).smallest_normal) ** 0.5
        p = xp.clip(outputs, floor, None)
        if t is None:
            t = one_hot(labels, outputs.shape[1], outputs.dtype)
        n = outputs.shape[0]
        self._cache = (p, t)
        return float(-xp.sum(t * xp.log(p)) / n)

    def backward(self) -> Any:
        p, t = self._cached()
        return -t / (p * p.shape[0])


class MSE(Loss):
    """Squared error. L = (c/N) sum_n ||o_n - t_n||^2 with c = 1/2 (``half=True``, the backprop-course
    convention, dL/do = (o - t)/N) or c = 1 (``half=False``, dL/do = 2(o - t)/N).

    Integer labels are one-hot encoded.
    """

    kind = "mse"

    def __init__(self, *, half: bool = True) -> None:
        self.half = bool(half)
        self._cache: Any = None

    def forward(self, outputs: Any, targets: Any) -> float:
        _check_outputs(self, outputs)
        labels, t = _split_targets(self, outputs, targets)
        if t is None:
            t = one_hot(labels, outputs.shape[1], outputs.dtype)
        xp = namespace(outputs)
        diff = outputs - t
        self._cache = diff
        c = 0.5 if self.half else 1.0
        return float(c * xp.sum(diff * diff) / outputs.shape[0])

    def backward(self) -> Any:
        diff = self._cached()
        c = 1.0 if self.half else 2.0
        return (c / diff.shape[0]) * diff

    def __repr__(self) -> str:
        return f"MSE(half={self.half})"


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy with logits z ``(N, K)``, each column an independent yes/no output.

    L = (1/N) sum_n sum_k [softplus(z) - t z], softplus(z) = max(z, 0) + log(1 + e^-|z|) (stable);
    dL/dz = (sigmoid(z) - t) / N. Targets in [0, 1] of the outputs' shape; 1-D targets with one output
    column are accepted as ``(N,)``.
    """

    kind = "binary_cross_entropy"

    def __init__(self) -> None:
        self._cache: Any = None

    def forward(self, outputs: Any, targets: Any) -> float:
        _check_outputs(self, outputs)
        xp = namespace(outputs)
        if targets.ndim == 1 and outputs.shape[1] == 1:
            targets = xp.reshape(targets, (-1, 1))
        if tuple(targets.shape) != tuple(outputs.shape):
            raise ShapeError(
                f"BinaryCrossEntropy: targets must have the outputs' shape {tuple(outputs.shape)}; "
                f"got {tuple(targets.shape)}"
            )
        t = xp.astype(targets, outputs.dtype)
        softplus = xp.maximum(outputs, 0.0) + xp.log1p(xp.exp(-xp.abs(outputs)))
        self._cache = (outputs, t)
        return float(xp.sum(softplus - t * outputs) / outputs.shape[0])

    def backward(self) -> Any:
        z, t = self._cached()
        return (sigmoid(z) - t) / z.shape[0]

    def link(self, outputs: Any) -> Any:
        return sigmoid(outputs)
