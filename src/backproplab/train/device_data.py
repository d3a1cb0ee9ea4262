"""The training set as `fit` trains on it: on the model's backend and device, and taken batch by batch."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._xp import namespace, to_numpy
from ..backend import as_inputs, as_targets, fits_on_device, move
from ..nn.module import Module


def on_device_if_fits(model: Module, X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    """``(X, y)`` on the model's backend and device (features in its dtype) when they fit in device memory
    (always on a CPU, where a torch tensor shares the NumPy memory), else the NumPy arrays as they are."""
    placement, dtype = model.placement, model.dtype
    if not fits_on_device(X.nbytes + y.nbytes, placement):
        return X, y
    return as_inputs(X, placement, dtype), as_targets(y, placement, dtype)


class DeviceData:
    """Training features ``X`` ``(N, D)`` and targets ``y`` for ``model``: moved to its device once when they fit
    (`on_device_if_fits`), else kept on the host and each batch moved as it is taken.

    ``batch(start, size, order)`` gives rows ``order[start:start + size]`` (or ``start:start + size`` in file
    order) on the model's device. Shuffled rows are gathered into one kept buffer: no allocation per step.
    """

    def __init__(self, model: Module, X: np.ndarray, y: np.ndarray, batch_size: int) -> None:
        self.placement, self.dtype = model.placement, model.dtype
        self.X, self.y = on_device_if_fits(model, X, y)
        self.resident = not isinstance(self.X, np.ndarray) or self.placement.backend == "numpy"
        self.xp = namespace(self.X)
        self.batch_size = int(batch_size)
        self._buffer: Any = None

    def __len__(self) -> int:
        return len(self.X)

    def order(self, permutation: np.ndarray | None) -> Any:
        """A NumPy permutation of the rows as `batch` takes it (an index tensor on the data's device)."""
        if permutation is None or isinstance(self.X, np.ndarray):
            return permutation
        return move(permutation, self.placement)

    def batch(self, start: int, size: int, order: Any) -> tuple[Any, Any]:
        X, y = self.X, self.y
        if order is None:
            xb, yb = X[start : start + size], y[start : start + size]
        else:
            idx = order[start : start + size]
            if self._buffer is None:
                self._buffer = self.xp.empty((min(self.batch_size, len(X)), X.shape[1]), dtype=X.dtype, device=X.device)
            xb = self.xp.take(X, idx, axis=0, out=self._buffer[: idx.shape[0]])
            yb = self.xp.take(y, idx, axis=0)
        if self.resident:
            return xb, yb
        return as_inputs(xb, self.placement, self.dtype), as_targets(yb, self.placement, self.dtype)

    def augmented(self, augment: Any, xb: Any, yb: Any) -> tuple[Any, Any]:
        """``augment(xb, yb)`` for a batch from `batch`. Augmentations compute on NumPy arrays (their generators
        and kernels are NumPy's, so a seed gives the same batches on every backend): a batch on torch goes
        through NumPy and back to the model's device."""
        if isinstance(xb, np.ndarray):
            return augment(xb, yb)
        xa, ya = augment(to_numpy(xb), to_numpy(yb))
        return as_inputs(xa, self.placement, self.dtype), as_targets(ya, self.placement, self.dtype)
