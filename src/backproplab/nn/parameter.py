"""`Parameter`: a trainable array and the gradient that `backward` writes for it."""

from __future__ import annotations

from typing import Any

import numpy as np


class Parameter:
    """A trainable array.

    Attributes:
        value: the array itself, updated in place by optimizers.
        grad: same shape and dtype as ``value``; *overwritten* (never accumulated) by the owning module's
            ``backward``.
        name: the local name inside the owning module (``"weight"``, ``"bias"``).
        regularize: whether weight penalties (L2/L1, weight decay) apply. Weights yes, biases no.
    """

    __slots__ = ("value", "grad", "name", "regularize")

    def __init__(self, value: Any, *, name: str = "", regularize: bool = True) -> None:
        self.value = value
        self.grad = value * 0 if not isinstance(value, np.ndarray) else np.zeros_like(value)
        self.name = name
        self.regularize = regularize

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    @property
    def dtype(self) -> Any:
        return self.value.dtype

    def astype(self, dtype: Any) -> None:
        """Convert value and grad to ``dtype`` in place of the old arrays."""
        self.value = self.value.astype(dtype)
        self.grad = self.grad.astype(dtype)

    def __repr__(self) -> str:
        reg = "" if self.regularize else ", regularize=False"
        return f"Parameter(name={self.name!r}, shape={self.shape}, dtype={self.dtype}{reg})"
