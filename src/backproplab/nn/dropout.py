"""`Dropout`: inverted dropout with its own seeded random generator."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._xp import namespace
from ..backend import move, placement_of
from .init import as_rng
from .module import Module


class Dropout(Module):
    """Zero each input with probability ``p`` during training and scale survivors by 1/(1-p).

    ``p`` is the *drop* probability (PyTorch's convention); courses that speak of a keep-probability q use
    ``Dropout(1 - q)``. With ``training=False`` the layer is the identity, so no rescaling is needed at test
    time. Forward: ``y = x * m / (1-p)`` with ``m ~ Bernoulli(1-p)``; backward: ``G * m / (1-p)``.

    The masks come from the layer's own NumPy generator ``rng`` on every backend, so a seed gives the same masks
    on NumPy and on torch (drawn on the CPU, then moved to the input's device).
    """

    kind = "dropout"

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | int | None = None) -> None:
        if not 0.0 <= float(p) < 1.0:
            raise ValueError(f"Dropout p (drop probability) must be in [0, 1); got {p}")
        self.p = float(p)
        self.rng = as_rng(rng)
        self._scaled_mask: Any = None

    def forward(self, x: Any, training: bool = False) -> Any:
        if not training:
            return x  # evaluation leaves the last training-mode mask in place, like every module's cache
        if self.p == 0.0:
            self._scaled_mask = 1.0
            return x
        xp = namespace(x)
        keep = 1.0 - self.p
        # drawn by the layer's NumPy generator on every backend (the same masks for the same seed), then moved
        kept = move(self.rng.random(tuple(x.shape)) < keep, placement_of(x))
        mask = xp.astype(kept, x.dtype)
        mask /= xp.asarray(keep, dtype=x.dtype, device=x.device)
        self._scaled_mask = mask
        return x * mask

    def backward(self, grad_out: Any, need_input_grad: bool = True) -> Any:
        if self._scaled_mask is None:
            raise self._missing_cache(self)
        return grad_out * self._scaled_mask if need_input_grad else None

    def extra_repr(self) -> str:
        return f"p={self.p}"
