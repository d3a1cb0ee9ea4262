"""`Dense`: the affine layer y = x @ W + b."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._xp import namespace
from ..errors import ShapeError
from .init import as_rng, initialize
from .module import Module
from .parameter import Parameter


class Dense(Module):
    """Fully connected layer.

    Shapes: x ``(N, in)``, W ``(in, out)``, b ``(out,)``, y ``(N, out)``.
    Forward: ``y = x @ W + b``. Backward, given G = dL/dy ``(N, out)``:
    ``dL/dW = x^T G`` ``(in, out)``, ``dL/db = sum_n G_n`` ``(out,)``, ``dL/dx = G W^T`` ``(N, in)``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        init: str | Callable[..., np.ndarray] = "glorot_uniform",
        init_std: float | None = None,
        rng: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
    ) -> None:
        if int(in_features) < 1 or int(out_features) < 1:
            raise ValueError(f"Dense needs positive sizes; got in_features={in_features}, out_features={out_features}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        w = initialize(init, (self.in_features, self.out_features), as_rng(rng), dtype, std=init_std)
        self.weight = Parameter(w, name="weight", regularize=True)
        if bias:
            self.bias: Parameter | None = Parameter(
                np.zeros(self.out_features, dtype=dtype), name="bias", regularize=False
            )
        else:
            self.bias = None
        self._x: Any = None

    @classmethod
    def from_arrays(cls, weight: Any, bias: Any = None, *, dtype: Any = None) -> Dense:
        """A layer with exactly the given weights (``(in, out)``) and bias (``(out,)``), e.g. for worked examples."""
        w = np.asarray(weight)
        w = w.astype(dtype if dtype is not None else np.result_type(w.dtype, np.float32))
        if w.ndim != 2:
            raise ShapeError(f"Dense weight must be 2-D (in, out); got shape {w.shape}")
        layer = cls(w.shape[0], w.shape[1], bias=bias is not None, init="zeros", dtype=w.dtype)
        layer.set_weights(w, bias)
        return layer

    def set_weights(self, weight: Any, bias: Any = None) -> None:
        """Overwrite W (``(in, out)``) and, if given, b (``(out,)``) with copies of the given arrays (any backend)."""
        if tuple(np.shape(weight)) != self.weight.shape:
            raise ShapeError(f"Dense weight must have shape {self.weight.shape} (in, out); got {np.shape(weight)}")
        self.weight.assign(weight)
        if bias is not None:
            if self.bias is None:
                raise ValueError("this Dense layer was built with bias=False; cannot set a bias")
            b = np.reshape(bias, -1)
            if tuple(np.shape(b)) != self.bias.shape:
                raise ShapeError(f"Dense bias must have shape {self.bias.shape}; got {np.shape(bias)}")
            self.bias.assign(b)

    def forward(self, x: Any, training: bool = False) -> Any:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ShapeError(
                f"Dense({self.in_features}, {self.out_features}) expects input of shape (N, {self.in_features}); "
                f"got {tuple(x.shape)}"
            )
        y = x @ self.weight.value
        if self.bias is not None:
            y += self.bias.value
        if training:
            self._x = x
        return y

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        """Writes dL/dW and dL/db into the parameters' ``grad`` arrays and returns dL/dx (None if not
        ``need_input_grad``)."""
        x = self._x
        if x is None:
            raise self._missing_cache(self)
        xp = namespace(grad_out)
        xp.matmul(x.T, grad_out, out=self.weight.grad)
        if self.bias is not None:
            xp.sum(grad_out, axis=0, out=self.bias.grad)
        return grad_out @ self.weight.value.T if need_input_grad else None

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"
