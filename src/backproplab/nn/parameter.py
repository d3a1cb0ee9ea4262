"""`Parameter`: a trainable array and the gradient that `backward` writes for it."""

from __future__ import annotations

from typing import Any

from .._xp import namespace, xp_dtype
from ..backend import Placement, move, placement_of


class Parameter:
    """A trainable array.

    Attributes:
        value: the array itself (NumPy, or a torch tensor on the torch backend), updated in place by optimizers.
        grad: same shape, dtype and device as ``value``; *overwritten* (never accumulated) by the owning module's
            ``backward``.
        name: the local name inside the owning module (``"weight"``, ``"bias"``).
        regularize: whether weight penalties (L2/L1, weight decay) apply. Weights yes, biases no.
    """

    __slots__ = ("value", "grad", "name", "regularize")

    def __init__(self, value: Any, *, name: str = "", regularize: bool = True) -> None:
        self.value = value
        self.grad = namespace(value).zeros_like(value)
        self.name = name
        self.regularize = regularize

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    @property
    def dtype(self) -> Any:
        return self.value.dtype

    def astype(self, dtype: Any) -> None:
        """Convert value and grad to ``dtype`` (e.g. ``np.float64``, on any backend) in place of the old arrays."""
        xp = namespace(self.value)
        self.value = xp.astype(self.value, xp_dtype(xp, dtype))
        self.grad = xp.astype(self.grad, xp_dtype(xp, dtype))

    def to(self, placement: Placement) -> None:
        """Move value and grad to ``placement`` (copies; nothing happens if they are there already)."""
        if placement_of(self.value) != placement:
            self.value = move(self.value, placement, copy=True)
            self.grad = move(self.grad, placement, copy=True)

    def assign(self, array: Any) -> None:
        """Copy ``array`` (any backend, same shape) into ``value`` in place, converted to its dtype and device."""
        self.value[...] = move(array, placement_of(self.value), self.value.dtype)

    def __repr__(self) -> str:
        reg = "" if self.regularize else ", regularize=False"
        return f"Parameter(name={self.name!r}, shape={self.shape}, dtype={self.dtype}{reg})"
