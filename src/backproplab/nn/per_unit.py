"""`PerUnitActivation`: a layer whose units use different activations (e.g. one tanh unit among sigmoids)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._xp import namespace
from ..errors import ShapeError
from .activations import Activation


class PerUnitActivation(Activation):
    """Unit j (column j) goes through its own elementwise activation f_j: ``(N, D) -> (N, D)``.

    Forward: ``out[:, j] = f_j(x[:, j])``. Backward: ``dL/dx[:, j] = f_j.backward(G[:, j]) = G[:, j] * f_j'(x[:, j])``.
    Each f_j is one of backproplab's activations and caches its own column, so the formulas stay theirs. One
    Python call per unit: meant for the small networks of worked examples, not for wide layers.
    """

    kind = "per_unit"

    def __init__(self, activations: Sequence[Activation]) -> None:
        super().__init__()
        units = list(activations)
        if not units:
            raise ValueError("PerUnitActivation needs one activation per unit; got none")
        for j, f in enumerate(units):
            if not isinstance(f, Activation) or isinstance(f, PerUnitActivation):
                raise TypeError(
                    f"PerUnitActivation unit {j} must be an elementwise activation (Sigmoid, Tanh, ReLU, "
                    f"ELU, LeakyReLU, Identity); got {type(f).__name__}"
                )
        if len({id(f) for f in units}) != len(units):
            raise ValueError(
                "PerUnitActivation needs a separate activation object per unit (each caches its own "
                "column); the same object was given twice"
            )
        self.units = units

    @property
    def kinds(self) -> tuple[str, ...]:
        """The activation kind of each unit, e.g. ``("sigmoid", "tanh")``."""
        return tuple(f.kind for f in self.units)

    def forward(self, x: Any, training: bool = False) -> Any:
        if x.ndim != 2 or x.shape[1] != len(self.units):
            raise ShapeError(
                f"PerUnitActivation has {len(self.units)} units and expects input of shape "
                f"(N, {len(self.units)}); got {tuple(x.shape)}"
            )
        columns = [f.forward(x[:, j : j + 1], training=training) for j, f in enumerate(self.units)]
        if training:
            self._cache = True
        return namespace(x).concat(columns, axis=1)

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        self._cached()
        if not need_input_grad:
            return None
        columns = [f.backward(grad_out[:, j : j + 1]) for j, f in enumerate(self.units)]
        return namespace(grad_out).concat(columns, axis=1)

    def extra_repr(self) -> str:
        return ", ".join(self.kinds)
