"""Elementwise activations. Each caches, in training mode, the least it needs for ``backward``.

All map ``(N, D) -> (N, D)``; ``backward(G)`` returns ``G * f'(x)`` elementwise.
"""

from __future__ import annotations

from typing import Any

from .._xp import namespace
from .module import Module


def sigmoid(x: Any) -> Any:
    """The logistic function 1 / (1 + e^-x), stable: never overflows, exact to 0 and 1 for |x| large.

    ``xp.expit`` of the array's namespace: torch's fused ``torch.special.expit``, or for NumPy the stable form
    1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0 with e = exp(-|x|) (see `backproplab._xp`).
    """
    return namespace(x).expit(x)


class Activation(Module):
    """Base of elementwise activations. ``backward`` with ``need_input_grad=False`` has nothing to do (no
    parameters) and returns None."""

    kind = "activation"

    def __init__(self) -> None:
        self._cache: Any = None

    def _cached(self) -> Any:
        if self._cache is None:
            raise self._missing_cache(self)
        return self._cache


class Identity(Activation):
    """f(x) = x."""

    kind = "identity"

    def forward(self, x: Any, training: bool = False) -> Any:
        return x

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        return grad_out if need_input_grad else None


class Sigmoid(Activation):
    """f(x) = 1 / (1 + e^-x); f'(x) = f(x)(1 - f(x)). Caches the output."""

    kind = "sigmoid"

    def forward(self, x: Any, training: bool = False) -> Any:
        out = sigmoid(x)
        if training:
            self._cache = out
        return out

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        s = self._cached()
        if not need_input_grad:
            return None
        out = grad_out * s
        out *= 1.0 - s
        return out


class Tanh(Activation):
    """f(x) = tanh(x); f'(x) = 1 - f(x)^2. Caches the output."""

    kind = "tanh"

    def forward(self, x: Any, training: bool = False) -> Any:
        out = namespace(x).tanh(x)
        if training:
            self._cache = out
        return out

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        t = self._cached()
        return grad_out * (1.0 - t * t) if need_input_grad else None


class ReLU(Activation):
    """f(x) = max(x, 0); f'(x) = 1 if x > 0 else 0 (0 at x = 0). Caches the mask x > 0."""

    kind = "relu"

    def forward(self, x: Any, training: bool = False) -> Any:
        mask = x > 0
        if training:
            self._cache = mask
        return x * mask

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        mask = self._cached()
        return grad_out * mask if need_input_grad else None


class LeakyReLU(Activation):
    """f(x) = x if x > 0 else slope * x; f'(x) = 1 if x > 0 else slope."""

    kind = "leaky_relu"

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        self.slope = float(slope)

    def forward(self, x: Any, training: bool = False) -> Any:
        xp = namespace(x)
        mask = x > 0
        if training:
            self._cache = mask
        return xp.where(mask, x, self.slope * x)

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        mask = self._cached()
        return namespace(grad_out).where(mask, grad_out, self.slope * grad_out) if need_input_grad else None

    def extra_repr(self) -> str:
        return f"slope={self.slope}"


class ELU(Activation):
    """f(x) = x if x > 0 else alpha (e^x - 1); f'(x) = 1 if x > 0 else f(x) + alpha.

    ``alpha`` defaults to 1.0 (the usual definition); the CMU course uses 0.9.
    """

    kind = "elu"

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x: Any, training: bool = False) -> Any:
        xp = namespace(x)
        mask = x > 0
        # expm1 of min(x, 0): exact near 0 and never overflows for large positive x.
        out = xp.where(mask, x, self.alpha * xp.expm1(xp.minimum(x, 0.0)))
        if training:
            self._cache = (mask, out)
        return out

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        mask, out = self._cached()
        return namespace(grad_out).where(mask, grad_out, grad_out * (out + self.alpha)) if need_input_grad else None

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"
