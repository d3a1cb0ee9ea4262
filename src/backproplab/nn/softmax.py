"""`Softmax` as a standalone layer (for a separate `CrossEntropy`, or for inspection)."""

from __future__ import annotations

from typing import Any

from .._xp import namespace
from .module import Module


def softmax(z: Any, axis: int = -1) -> Any:
    """softmax(z)_k = exp(z_k - max z) / sum_j exp(z_j - max z), stable for any finite z."""
    xp = namespace(z)
    e = xp.exp(z - xp.max(z, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def log_softmax(z: Any, axis: int = -1) -> Any:
    """log softmax(z) = (z - max z) - log sum exp(z - max z): ``xp.log_softmax`` of the array's namespace
    (torch's fused one, or this formula for NumPy; see `backproplab._xp`)."""
    return namespace(z).log_softmax(z, axis=axis)


class Softmax(Module):
    """s = softmax(z) row-wise, ``(N, K) -> (N, K)``.

    Backward is the full Jacobian-vector product: with J = diag(s) - s s^T,
    ``dL/dz = J^T G = s * (G - sum_k G_k s_k)`` per row.
    """

    kind = "softmax"

    def __init__(self) -> None:
        self._s: Any = None

    def forward(self, x: Any, training: bool = False) -> Any:
        s = softmax(x, axis=-1)
        if training:
            self._s = s
        return s

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        s = self._s
        if s is None:
            raise self._missing_cache(self)
        if not need_input_grad:
            return None
        xp = namespace(grad_out)
        return s * (grad_out - xp.sum(grad_out * s, axis=-1, keepdims=True))
