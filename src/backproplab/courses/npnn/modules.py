"""npnn's modules (``modules.py``): `Module`, `Variable`, `Dense`, `ELU`, `SoftmaxCrossEntropy`.

Each wraps the backproplab module of the same name. The course's contract: ``forward(x, train=True)`` returns
the output ``(batch, dim)``; ``backward(grad)`` takes dL/d(output) of the loss *summed* over the batch, sets each
``trainable_weights[i].grad`` to the *mean* batch gradient and returns dL/d(input) (see `_convention`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import nn
from .._global_rng import global_rng
from ._convention import batch_mean, per_example

Variable = nn.Parameter
"""A trainable array with ``.value`` and ``.grad`` (npnn's ``Variable(value)``; backproplab's `Parameter`)."""


class Module:
    """npnn's base class: ``trainable_weights`` (a list of `Variable`), ``forward(x, train=True)``, ``backward(grad)``.

    Subclass it for modules of your own; `Sequential` accepts any `Module`.
    """

    def __init__(self) -> None:
        self.trainable_weights: list[nn.Parameter] = []

    def forward(self, x: Any, train: bool = True) -> Any:
        raise NotImplementedError

    def backward(self, grad: Any) -> Any:
        raise NotImplementedError


class Dense(Module):
    """x_k = x_{k-1} W + b with W ``(dim_in, dim_out)`` drawn Glorot-uniform, U(+-sqrt(6 / (dim_in + dim_out))),
    from NumPy's global generator (as the course's ``np.random.uniform``), float64, and b = 0.

    ``trainable_weights`` = [W, b]; ``backward(grad)`` sets W.grad = x^T grad / N, b.grad = mean_n grad and
    returns grad W^T.
    """

    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.layer = nn.Dense(dim_in, dim_out, init="glorot_uniform", rng=global_rng(), dtype=np.float64)
        assert self.layer.bias is not None
        self.trainable_weights = [self.layer.weight, self.layer.bias]

    def forward(self, x: Any, train: bool = True) -> Any:
        # Inputs in the weights' dtype: NumPy multiplies float32 by float64 without BLAS, many times slower,
        # while the float32 values convert exactly, so the result is the same.
        return self.layer.forward(np.asarray(x, dtype=self.layer.weight.dtype), training=train)

    def backward(self, grad: Any) -> Any:
        grad_input = self.layer.backward(grad)
        batch_mean(self.trainable_weights, len(grad))
        return grad_input


class ELU(Module):
    """ELU with ``alpha`` (the course's default 0.9): x if x > 0 else alpha (e^x - 1); derivative 1 or f(x) + alpha."""

    def __init__(self, alpha: float = 0.9) -> None:
        super().__init__()
        self.activation = nn.ELU(alpha)

    @property
    def alpha(self) -> float:
        return self.activation.alpha

    def forward(self, x: Any, train: bool = True) -> Any:
        return self.activation.forward(x, training=train)

    def backward(self, grad: Any) -> Any:
        return self.activation.backward(grad)


class SoftmaxCrossEntropy(Module):
    """The fused output: ``forward(logits)`` returns softmax probabilities ``(batch, classes)``;
    ``backward(labels)`` (one-hot rows, or integer labels) returns y_hat - labels, the gradient of the summed
    cross-entropy with respect to the logits (backproplab's `SoftmaxCrossEntropy` times N)."""

    def __init__(self) -> None:
        super().__init__()
        self.loss = nn.SoftmaxCrossEntropy()
        self._logits: Any = None

    def forward(self, logits: Any, train: bool = True) -> Any:
        self._logits = logits
        return self.loss.link(logits)

    def backward(self, labels: Any) -> Any:
        if self._logits is None:
            raise RuntimeError("SoftmaxCrossEntropy.backward(labels) needs a forward(logits) first")
        labels = np.asarray(labels)
        if labels.dtype.kind == "f":
            labels = labels.astype(self._logits.dtype, copy=False)  # keep the logits' precision
        self.loss.forward(self._logits, labels)
        return per_example(self.loss.backward(), len(labels))
